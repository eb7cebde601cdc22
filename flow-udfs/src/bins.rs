//! The bin arithmetic of flow-models (`lib/util.py` `bin_calc_log` / `bin_calc_one`), exact for
//! every integer up to 2^64, plus the dense bin index the fast histogram path counts into.
//!
//! With `b` bits a value `x` falls in the bin of width `w = 2^max(0, bit_length(x) − b)` that
//! starts at `floor(x / w)·w`. `b = 0` means one bin per value (the original `-b 0`), and so does
//! any `b ≥ 64` for 64-bit values.

/// Number of bits of `|x|` (Python's `int.bit_length`).
fn bit_length(x: u128) -> u32 {
    128 - x.leading_zeros()
}

/// log2 of the bin width of a value whose magnitude is `magnitude`, for `b` bits.
fn width_log2(magnitude: u128, b: u32) -> u32 {
    if b == 0 {
        0
    } else {
        bit_length(magnitude).saturating_sub(b)
    }
}

/// `(bin_lo, bin_hi)` of a signed integer, with Python's floor division for negative values.
pub fn log_bin_i128(x: i128, b: u32) -> (i128, i128) {
    let s = width_log2(x.unsigned_abs(), b);
    if s == 0 {
        return (x, x + 1);
    }
    let lo = (x >> s) << s; // arithmetic shift floors, like Python's `//`
    (lo, lo + (1i128 << s))
}

/// `(bin_lo, bin_hi)` of a floating-point value (the `rate` x value).
///
/// With `b > 0` this is exactly what the original computes for a float: the width comes from
/// `int(x)` (truncation) and `bin_lo = (x // w)·w` floors. With `b = 0` the original keys its bins
/// by the raw float, so 2.5 and 2.7 become two bins both printed as `2,3`; here the value's
/// integer part (floor) is the bin, giving one line per integer. Out-of-range values saturate.
pub fn log_bin_f64(x: f64, b: u32) -> (f64, f64) {
    if b == 0 || !x.is_finite() {
        let lo = x.floor();
        return (lo, lo + 1.0);
    }
    let s = width_log2((x.trunc() as i128).unsigned_abs(), b);
    let w = (s as f64).exp2();
    let lo = (x / w).floor() * w;
    (lo, lo + w)
}

/// Maps log bins of unsigned values to consecutive indices of a dense array, in ascending
/// order of `bin_lo`, so a histogram can count into an array instead of hashing.
///
/// For `1 ≤ b ≤ 63` the index of `x` is `(s << (b−1)) + (x >> s)` with `s` the width's log2:
/// values below 2^b map to themselves, and each further bit length adds 2^(b−1) bins. For unit
/// bins (`b = 0` or `b ≥ 64`) the index is the value. Only indices below `len` are dense.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DenseBins {
    /// Bits of the log bins, or `None` for one bin per value.
    bits: Option<u32>,
    len: usize,
}

impl DenseBins {
    /// The dense part of the bins for `b` bits, at most `cap` entries long.
    pub fn new(b: u32, cap: usize) -> Self {
        if b == 0 || b >= 64 {
            return Self {
                bits: None,
                len: cap,
            };
        }
        // Index of u64::MAX plus one.
        let all = ((64 - b as u128) << (b - 1)) + (1u128 << b);
        Self {
            bits: Some(b),
            len: all.min(cap as u128) as usize,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// The dense index of `x`, or `None` when its bin lies beyond the dense part.
    #[inline(always)]
    pub fn index(&self, x: u64) -> Option<usize> {
        let i = match self.bits {
            None => x,
            Some(b) => {
                let s = (64 - x.leading_zeros()).saturating_sub(b);
                ((s as u64) << (b - 1)) + (x >> s)
            }
        };
        if (i as u128) < self.len as u128 {
            Some(i as usize)
        } else {
            None
        }
    }

    /// `(bin_lo, bin_hi)` of dense index `i`.
    pub fn bounds(&self, i: usize) -> (u128, u128) {
        let i = i as u128;
        match self.bits {
            Some(b) if i >= 1u128 << b => {
                let s = (i >> (b - 1)) - 1;
                let m = i - (s << (b - 1));
                (m << s, (m + 1) << s)
            }
            _ => (i, i + 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The original's formula on arbitrary-precision integers, transcribed literally.
    fn python(x: i128, b: u32) -> (i128, i128) {
        let bl = 128 - x.unsigned_abs().leading_zeros();
        let w = 1i128 << bl.saturating_sub(b);
        let lo = x.div_euclid(w) * w;
        (lo, lo + w)
    }

    /// `bin_lo` and `bin_hi` of an unsigned 64-bit value, as the histogram computes them.
    fn bin_lo(x: u64, b: u32) -> u64 {
        log_bin_i128(x.into(), b).0 as u64
    }

    fn bin_hi(x: u64, b: u32) -> u128 {
        log_bin_i128(x.into(), b).1 as u128
    }

    #[test]
    fn zero_and_one() {
        for b in [1, 12, 63, 64, 100] {
            assert_eq!(bin_lo(0, b), 0);
            assert_eq!(bin_hi(0, b), 1);
            assert_eq!(bin_lo(1, b), 1);
            assert_eq!(bin_hi(1, b), 2);
        }
    }

    #[test]
    fn u64_max_is_exact() {
        let x = u64::MAX;
        assert_eq!(bin_lo(x, 12), x - ((1 << 52) - 1));
        assert_eq!(bin_hi(x, 12), 1u128 << 64);
        assert_eq!(bin_lo(x, 1), 1 << 63);
        assert_eq!(bin_hi(x, 1), 1u128 << 64);
        // 64 bits or more: every value is its own bin.
        for b in [0, 64, 65, 200] {
            assert_eq!(bin_lo(x, b), x);
            assert_eq!(bin_hi(x, b), 1u128 << 64);
        }
    }

    #[test]
    fn matches_the_formula() {
        let mut values: Vec<u64> = (0..5000).collect();
        for k in 0..64 {
            let p = 1u64 << k;
            values.extend([p - 1, p, p + 1, p.wrapping_mul(3) / 2]);
        }
        values.push(u64::MAX);
        for b in 1..=70 {
            for &x in &values {
                let (lo, hi) = python(x as i128, b);
                assert_eq!(bin_lo(x, b) as i128, lo, "x={x} b={b}");
                assert_eq!(bin_hi(x, b) as i128, hi, "x={x} b={b}");
                assert_eq!(log_bin_i128(x as i128, b), (lo, hi), "x={x} b={b}");
            }
        }
    }

    #[test]
    fn negative_values_floor_like_python() {
        // Python: bin_calc_log(-5, 1) == (-8, -4); bin_calc_log(-7, 2) == (-8, -6)
        assert_eq!(log_bin_i128(-5, 1), (-8, -4));
        assert_eq!(log_bin_i128(-7, 2), (-8, -6));
        assert_eq!(log_bin_i128(-3, 12), (-3, -2));
        for x in -3000..0 {
            for b in 1..14 {
                assert_eq!(log_bin_i128(x, b), python(x, b));
            }
        }
    }

    #[test]
    fn floats_follow_the_original() {
        // Python: bin_calc_log(5000.7, 12) == (5000.0, 5002.0); bin_calc_log(3.5, 12) == (3.0, 4.0)
        assert_eq!(log_bin_f64(5000.7, 12), (5000.0, 5002.0));
        assert_eq!(log_bin_f64(3.5, 12), (3.0, 4.0));
        // Python: bin_calc_log(-7.5, 2) == (-8.0, -6.0): the width comes from int(-7.5) == -7.
        assert_eq!(log_bin_f64(-7.5, 2), (-8.0, -6.0));
        // b = 0: the integer part is the bin (the original would key by 2.5 itself).
        assert_eq!(log_bin_f64(2.5, 0), (2.0, 3.0));
        assert_eq!(log_bin_f64(0.0, 0), (0.0, 1.0));
        assert_eq!(
            log_bin_f64(1e30, 12).0,
            1e30_f64.trunc() - 1e30_f64.trunc() % 2f64.powi(88)
        );
    }

    #[test]
    fn dense_index_is_ascending_and_inverts() {
        for b in [1, 2, 3, 8, 12, 16] {
            let dense = DenseBins::new(b, usize::MAX);
            let mut last = None;
            let mut values: Vec<u64> = (0..3000).collect();
            for k in 0..64 {
                values.extend([(1u64 << k) - 1, 1u64 << k, (1u64 << k) + 1]);
            }
            values.push(u64::MAX);
            values.sort_unstable();
            for x in values {
                let i = dense
                    .index(x)
                    .expect("log bins are all dense without a cap");
                assert!(last.is_none_or(|l| i >= l), "b={b} x={x}: not ascending");
                last = Some(i);
                let (lo, hi) = dense.bounds(i);
                assert_eq!(
                    (lo, hi),
                    (bin_lo(x, b) as u128, bin_hi(x, b)),
                    "b={b} x={x}"
                );
            }
            assert_eq!(
                last,
                Some(dense.len() - 1),
                "b={b}: u64::MAX is the last index"
            );
            for i in 1..dense.len() {
                assert_eq!(
                    dense.bounds(i - 1).1,
                    dense.bounds(i).0,
                    "b={b} i={i}: bins tile"
                );
            }
        }
    }

    #[test]
    fn dense_cap_and_unit_bins() {
        let unit = DenseBins::new(0, 1000);
        assert_eq!(unit.index(999), Some(999));
        assert_eq!(unit.index(1000), None);
        assert_eq!(unit.index(u64::MAX), None);
        assert_eq!(unit.bounds(999), (999, 1000));
        let capped = DenseBins::new(12, 5000);
        assert_eq!(capped.index(4095), Some(4095));
        assert_eq!(capped.index(u64::MAX), None);
        assert_eq!(DenseBins::new(64, 10).index(9), Some(9));
    }
}
