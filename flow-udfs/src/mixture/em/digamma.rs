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
    let mut b = Bracket {
        lo,
        glo: g(lo),
        hi,
        ghi: g(hi),
    };
    for _ in 0..2000 {
        if b.glo == 0.0 {
            return Ok(b.lo);
        }
        if b.ghi == 0.0 {
            return Ok(b.hi);
        }
        let mid_bis = 0.5 * (b.lo + b.hi);
        if mid_bis <= b.lo || mid_bis >= b.hi {
            break;
        }
        let sec = b.lo - b.glo * (b.hi - b.lo) / (b.ghi - b.glo);
        // Take the secant point when it stays well inside the bracket.
        let inside = 0.01 * (b.hi - b.lo);
        let m = if sec > b.lo + inside && sec < b.hi - inside {
            sec
        } else {
            mid_bis
        };
        b.narrow(m, g(m));
        // Alternate with a bisection so the bracket always shrinks geometrically.
        let mb = 0.5 * (b.lo + b.hi);
        if mb <= b.lo || mb >= b.hi {
            break;
        }
        b.narrow(mb, g(mb));
    }
    Ok(if b.glo.abs() <= b.ghi.abs() {
        b.lo
    } else {
        b.hi
    })
}

/// An interval holding the root, with `g` at both ends (negative at `lo`, positive at `hi`).
struct Bracket {
    lo: f64,
    glo: f64,
    hi: f64,
    ghi: f64,
}

impl Bracket {
    /// Moves the end whose `g` has the sign of `gx` to `x`.
    fn narrow(&mut self, x: f64, gx: f64) {
        if gx < 0.0 {
            self.lo = x;
            self.glo = gx;
        } else {
            self.hi = x;
            self.ghi = gx;
        }
    }
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
