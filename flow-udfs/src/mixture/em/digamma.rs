// The inverse of digamma, for the gamma M-step: scipy's `fsolve` stops at xtol 1.49e-8, we solve
// to full precision (the tests allow 1e-9 against the original).

use crate::mixture::FitError;
use crate::mixture::special::digamma;

/// Solves `digamma(a) = t` for `a > 0` to full precision (bracket, then bisection
/// with secant steps). digamma is strictly increasing on (0, inf).
pub(super) fn solve_digamma(t: f64) -> Result<f64, FitError> {
    if !t.is_finite() {
        return Err(FitError::NonFinite(format!("gamma M-step target {t}")));
    }
    let g = |a: f64| digamma(a) - t;
    let (mut lo, mut hi) = (1.0f64, 1.0f64);
    while g(lo) > 0.0 {
        lo /= 2.0;
        if lo < 1e-300 {
            return Err(FitError::NonFinite(format!("gamma shape for target {t}")));
        }
    }
    while g(hi) < 0.0 {
        hi *= 2.0;
        if hi > 1e300 {
            return Err(FitError::NonFinite(format!("gamma shape for target {t}")));
        }
    }
    let (mut glo, mut ghi) = (g(lo), g(hi));
    for _ in 0..2000 {
        if glo == 0.0 {
            return Ok(lo);
        }
        if ghi == 0.0 {
            return Ok(hi);
        }
        let mid_bis = 0.5 * (lo + hi);
        if mid_bis <= lo || mid_bis >= hi {
            break;
        }
        let sec = lo - glo * (hi - lo) / (ghi - glo);
        // Take the secant point when it stays well inside the bracket.
        let m = if sec > lo + 0.01 * (hi - lo) && sec < hi - 0.01 * (hi - lo) {
            sec
        } else {
            mid_bis
        };
        let gm = g(m);
        if gm < 0.0 {
            lo = m;
            glo = gm;
        } else {
            hi = m;
            ghi = gm;
        }
        // Alternate with a bisection so the bracket always shrinks geometrically.
        let mb = 0.5 * (lo + hi);
        if mb <= lo || mb >= hi {
            break;
        }
        let gb = g(mb);
        if gb < 0.0 {
            lo = mb;
            glo = gb;
        } else {
            hi = mb;
            ghi = gb;
        }
    }
    Ok(if glo.abs() <= ghi.abs() { lo } else { hi })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digamma_solver_inverts_digamma() {
        for a in [1e-3, 0.05, 0.5, 1.0, 1.95, 8.0, 123.4, 1e5] {
            let got = solve_digamma(digamma(a)).unwrap();
            assert!((got - a).abs() <= 1e-13 * a, "{a} -> {got}");
        }
        assert!(solve_digamma(f64::NAN).is_err());
    }
}
