// `exp` over a slice, vectorised where the CPU allows (the E-step's lognorm densities are ~99 M
// exps per size fit; glibc's scalar `exp` was two thirds of the fit).
//
// No maintained crate offers a vector f64 `exp` chosen at run time on stable Rust (`wide` picks
// its implementation at compile time, so without `-C target-cpu` it is slower than glibc).
// `multiversion` compiles the loop below once per CPU level and picks one at run time; on x86_64
// with FMA the loop body is a branch-free Cody-Waite reduction and a degree-13 Taylor polynomial
// that LLVM vectorises (within 1 ulp of glibc's correctly rounded results, checked below and by
// the 36 reference refits). Elsewhere, and for inputs whose result is subnormal, zero, infinite
// or NaN, it is `f64::exp`.

use multiversion::multiversion;

/// Results of the polynomial path are normal doubles for arguments in this range; anything else
/// (including NaN) takes `f64::exp`, except arguments below `ZERO_BELOW`.
const POLY_MIN: f64 = -708.0;
const POLY_MAX: f64 = 709.0;
/// exp is exactly 0 below this (the smallest subnormal is exp(-744.44)); common in the E-step
/// (components far from a point), so these stay on the vector path.
const ZERO_BELOW: f64 = -746.0;

/// Elements per pass: a pass whose arguments were all in range needs no second look.
const CHUNK: usize = 256;

/// `out[i] = exp(arg(a[i], b[i])) * scale` for every element (`a`, `b` and `out` of one length).
/// `arg` is inlined into each CPU level's copy of the loop, so it should be branch-free; it must
/// be pure (it is called again for the arguments the polynomial cannot take).
#[multiversion(targets("x86_64+avx512f+avx2+fma", "x86_64+avx2+fma"))]
pub(crate) fn exp_map<F: Fn(f64, f64) -> f64>(
    a: &[f64],
    b: &[f64],
    arg: F,
    scale: f64,
    out: &mut [f64],
) {
    #[cfg(target_arch = "x86_64")]
    let poly = multiversion::target::selected_target!()
        .contains(multiversion::target_features::x86_64::FMA);
    #[cfg(not(target_arch = "x86_64"))]
    let poly = false;
    let ok = |g: f64| g < ZERO_BELOW || (POLY_MIN..=POLY_MAX).contains(&g);
    for ((a, b), out) in a
        .chunks(CHUNK)
        .zip(b.chunks(CHUNK))
        .zip(out.chunks_mut(CHUNK))
    {
        if !poly {
            for ((o, &a), &b) in out.iter_mut().zip(a).zip(b) {
                *o = arg(a, b).exp() * scale;
            }
            continue;
        }
        let mut in_range = true;
        for ((o, &a), &b) in out.iter_mut().zip(a).zip(b) {
            let g = arg(a, b);
            *o = if g < ZERO_BELOW { 0.0 } else { exp_poly(g) } * scale;
            in_range &= ok(g);
        }
        if !in_range {
            // Recomputes the few arguments the polynomial cannot take (`arg` is pure).
            for ((o, &a), &b) in out.iter_mut().zip(a).zip(b) {
                let g = arg(a, b);
                if !ok(g) {
                    *o = g.exp() * scale;
                }
            }
        }
    }
}

/// 1.5 * 2^52: adding it rounds to an integer held in the low mantissa bits.
const SHIFT: f64 = 6755399441055744.0;
/// ln 2 split so that `n * LN2_HI` is exact for |n| < 2^11 (fdlibm's constants).
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
/// 1 / k! for k = 13 down to 0.
const TAYLOR: [f64; 14] = [
    1.0 / 6_227_020_800.0,
    1.0 / 479_001_600.0,
    1.0 / 39_916_800.0,
    1.0 / 3_628_800.0,
    1.0 / 362_880.0,
    1.0 / 40_320.0,
    1.0 / 5_040.0,
    1.0 / 720.0,
    1.0 / 120.0,
    1.0 / 24.0,
    1.0 / 6.0,
    0.5,
    1.0,
    1.0,
];

/// exp(a) = 2^n * exp(r), n = round(a / ln 2), |r| <= ln 2 / 2 (the Taylor remainder is below
/// 5e-18 there). Needs hardware FMA (`mul_add` is a libm call otherwise).
#[inline(always)]
fn exp_poly(a: f64) -> f64 {
    let t = a.mul_add(std::f64::consts::LOG2_E, SHIFT);
    let n = t - SHIFT;
    let r = (-n).mul_add(LN2_HI, a);
    let r = (-n).mul_add(LN2_LO, r);
    let mut p = TAYLOR[0];
    for c in &TAYLOR[1..] {
        p = p.mul_add(r, *c);
    }
    // 2^n from the integer in t's low bits (n is within the normal exponent range here).
    let e = (t.to_bits() as i64 - SHIFT.to_bits() as i64 + 1023) << 52;
    p * f64::from_bits(e as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
    }

    #[test]
    fn within_one_ulp_of_std_exp_and_exact_outside_the_polynomial_range() {
        // A dense sweep of the normal range, the range edges and the special values.
        let mut args: Vec<f64> = (0..200_001)
            .map(|i| -745.5 + 1455.5 * i as f64 / 200_000.0)
            .collect();
        args.extend([
            0.0,
            -0.0,
            1e-300,
            -1e-300,
            POLY_MIN,
            POLY_MAX,
            -708.4,
            -744.4,
            -746.0,
            -746.5,
            -1e300,
            709.8,
            710.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ]);
        let mut v = vec![0.0; args.len()];
        exp_map(&args, &args, |a, _| a, 1.0, &mut v);
        for (&a, &got) in args.iter().zip(&v) {
            let want = a.exp();
            if a < ZERO_BELOW {
                assert_eq!(got.to_bits(), 0, "exp({a})");
            } else if want.is_nan() {
                assert!(got.is_nan(), "exp({a}) = {got}");
            } else if (POLY_MIN..=POLY_MAX).contains(&a) {
                assert!(ulps(got, want) <= 1, "exp({a}) = {got:e}, want {want:e}");
            } else {
                assert_eq!(got.to_bits(), want.to_bits(), "exp({a})");
            }
        }
        // The polynomial itself, as compiled here for the baseline CPU (software `mul_add`):
        // the same arithmetic as the vector copies, whichever of them this machine runs.
        for i in 0..20_001 {
            let a = POLY_MIN + (POLY_MAX - POLY_MIN) * i as f64 / 20_000.0;
            assert!(ulps(exp_poly(a), a.exp()) <= 1, "exp_poly({a})");
        }
        let mut scaled = vec![0.0; 3];
        exp_map(
            &[-1.0, 0.25, -800.0],
            &[0.0, 0.25, 0.0],
            |a, b| a + b,
            3.0,
            &mut scaled,
        );
        assert!(ulps(scaled[0], (-1.0f64).exp() * 3.0) <= 1);
        assert!(ulps(scaled[1], 0.5f64.exp() * 3.0) <= 1);
        assert_eq!(scaled[2], 0.0);
    }
}
