// scipy.stats densities and CDFs for the mixture components, with scipy's
// parameterisation, support rules and operation order.

use crate::mixture::FitError;
use crate::mixture::special::{gammainc, gammaln, inv_boxcox1p, ndtr, xlog1py, xlogy};

/// sqrt(2*pi) as numpy computes it (`np.sqrt(2 * np.pi)`).
pub(crate) const SQRT_2PI: f64 = 2.5066282746310002;

/// A scipy.stats continuous distribution used as a mixture component.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dist {
    /// `uniform(loc, scale)`: flat on `[loc, loc + scale]`.
    Uniform,
    /// `norm(loc, scale)`: normal with mean `loc` and standard deviation `scale`.
    Norm,
    /// `lognorm(s, loc, scale)`: `ln(x - loc)` is normal with mean `ln(scale)` and deviation `s`.
    Lognorm,
    /// `genpareto(c, loc, scale)`: generalised Pareto with shape `c`.
    Genpareto,
    /// `gamma(a, loc, scale)`: gamma with shape `a`.
    Gamma,
    /// `weibull_min(c, loc, scale)`: Weibull with shape `c`.
    WeibullMin,
}

impl Dist {
    /// The scipy.stats name stored in the JSON files.
    pub fn scipy_name(self) -> &'static str {
        match self {
            Dist::Uniform => "uniform",
            Dist::Norm => "norm",
            Dist::Lognorm => "lognorm",
            Dist::Genpareto => "genpareto",
            Dist::Gamma => "gamma",
            Dist::WeibullMin => "weibull_min",
        }
    }

    /// The distribution a JSON file names; [`FitError::UnknownDistribution`] for any other.
    pub fn from_scipy_name(name: &str) -> Result<Dist, FitError> {
        Ok(match name {
            "uniform" => Dist::Uniform,
            "norm" => Dist::Norm,
            "lognorm" => Dist::Lognorm,
            "genpareto" => Dist::Genpareto,
            "gamma" => Dist::Gamma,
            "weibull_min" => Dist::WeibullMin,
            _ => return Err(FitError::UnknownDistribution(name.to_string())),
        })
    }

    /// Number of shape parameters before `loc, scale`.
    pub fn n_shapes(self) -> usize {
        match self {
            Dist::Uniform | Dist::Norm => 0,
            _ => 1,
        }
    }
}

/// A distribution with its positional parameters resolved (scipy's "frozen" rv).
#[derive(Clone, Copy, Debug)]
pub struct Frozen {
    /// The distribution.
    pub dist: Dist,
    /// Its shape parameter; NaN for `uniform` and `norm`, which have none.
    pub shape: f64,
    /// Location (scipy's `loc`, 0 when not given).
    pub loc: f64,
    /// Scale (scipy's `scale`, 1 when not given).
    pub scale: f64,
}

impl Frozen {
    /// Resolves scipy positional parameters `[shape?, loc=0, scale=1]`.
    pub fn new(dist: Dist, params: &[f64]) -> Result<Frozen, FitError> {
        let ns = dist.n_shapes();
        if params.len() < ns || params.len() > ns + 2 {
            return Err(FitError::BadParams(format!(
                "{} takes {} to {} parameters, got {}",
                dist.scipy_name(),
                ns,
                ns + 2,
                params.len()
            )));
        }
        let shape = if ns == 1 { params[0] } else { f64::NAN };
        let loc = params.get(ns).copied().unwrap_or(0.0);
        let scale = params.get(ns + 1).copied().unwrap_or(1.0);
        Ok(Frozen {
            dist,
            shape,
            loc,
            scale,
        })
    }

    fn argcheck(&self) -> bool {
        let ok = match self.dist {
            Dist::Uniform | Dist::Norm => true,
            Dist::Lognorm | Dist::Gamma | Dist::WeibullMin => self.shape > 0.0,
            Dist::Genpareto => self.shape.is_finite(),
        };
        ok && self.scale > 0.0
    }

    fn support(&self) -> (f64, f64) {
        match self.dist {
            Dist::Uniform => (0.0, 1.0),
            Dist::Norm => (f64::NEG_INFINITY, f64::INFINITY),
            Dist::Lognorm | Dist::Gamma | Dist::WeibullMin => (0.0, f64::INFINITY),
            Dist::Genpareto => {
                if self.shape < 0.0 {
                    (0.0, -1.0 / self.shape)
                } else {
                    (0.0, f64::INFINITY)
                }
            }
        }
    }

    /// Standardised density (`_pdf`).
    fn std_pdf(&self, x: f64) -> f64 {
        let c = self.shape;
        match self.dist {
            Dist::Uniform => 1.0,
            Dist::Norm => (-(x * x) / 2.0).exp() / SQRT_2PI,
            Dist::Lognorm => {
                if x == 0.0 {
                    0.0
                } else {
                    let l = x.ln();
                    (-(l * l) / (2.0 * (c * c)) - (c * x * SQRT_2PI).ln()).exp()
                }
            }
            Dist::Genpareto => {
                let lp = if c != 0.0 {
                    -xlog1py(c + 1.0, c * x) / c
                } else {
                    -x
                };
                lp.exp()
            }
            Dist::Gamma => (xlogy(c - 1.0, x) - x - gammaln(c)).exp(),
            Dist::WeibullMin => c * x.powf(c - 1.0) * (-x.powf(c)).exp(),
        }
    }

    /// Standardised CDF (`_cdf`).
    fn std_cdf(&self, x: f64) -> f64 {
        let c = self.shape;
        match self.dist {
            Dist::Uniform => x,
            Dist::Norm => ndtr(x),
            Dist::Lognorm => ndtr(x.ln() / c),
            Dist::Genpareto => -inv_boxcox1p(-x, -c),
            Dist::Gamma => gammainc(c, x),
            Dist::WeibullMin => -(-x.powf(c)).exp_m1(),
        }
    }

    /// `scipy.stats.<dist>.pdf(x, *params)`.
    pub fn pdf(&self, x: f64) -> f64 {
        let y = (x - self.loc) / self.scale;
        if !self.argcheck() || y.is_nan() {
            return f64::NAN;
        }
        let (a, b) = self.support();
        if a <= y && y <= b {
            self.std_pdf(y) / self.scale
        } else {
            0.0
        }
    }

    /// `scipy.stats.<dist>.cdf(x, *params)`.
    pub fn cdf(&self, x: f64) -> f64 {
        let y = (x - self.loc) / self.scale;
        if !self.argcheck() || y.is_nan() {
            return f64::NAN;
        }
        let (a, b) = self.support();
        if y >= b {
            1.0
        } else if a < y {
            self.std_cdf(y)
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mixture::special;
    use std::collections::HashMap;

    fn rel(a: f64, b: f64) -> f64 {
        if a == b || (a.is_nan() && b.is_nan()) {
            0.0
        } else {
            (a - b).abs() / a.abs().max(b.abs())
        }
    }

    fn close(a: f64, b: f64, tol: f64, abs: f64) -> bool {
        (a - b).abs() <= abs || rel(a, b) <= tol
    }

    /// Against values computed once by scipy (tests/data/mixture/make_fixtures.py).
    #[test]
    fn pdf_cdf_match_scipy() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/mixture/scipy_values.csv"
        );
        let text = std::fs::read_to_string(path).unwrap();
        let mut worst: HashMap<String, f64> = HashMap::new();
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split(',').collect();
            let x: f64 = f[2].parse().unwrap();
            let (epdf, ecdf): (f64, f64) = (f[3].parse().unwrap(), f[4].parse().unwrap());
            if f[0] == "ndtr" {
                // Cephes port: bit-identical to scipy.special.ndtr.
                assert_eq!(special::ndtr(x), ecdf, "ndtr({x})");
                continue;
            }
            let dist = Dist::from_scipy_name(f[0]).unwrap();
            let params: Vec<f64> = f[1].split(' ').map(|p| p.parse().unwrap()).collect();
            let fr = Frozen::new(dist, &params).unwrap();
            let (p, c) = (fr.pdf(x), fr.cdf(x));
            // The gamma family goes through statrs (Lanczos/series), the rest is exact scipy
            // order.
            let tol = match dist {
                Dist::Gamma => 1e-12,
                _ => 1e-14,
            };
            assert!(close(p, epdf, tol, 1e-300), "{line}: pdf {p:e}");
            assert!(close(c, ecdf, tol, 1e-300), "{line}: cdf {c:e}");
            let w = worst.entry(f[0].to_string()).or_default();
            *w = w.max(rel(p, epdf)).max(rel(c, ecdf));
        }
        println!("max rel deviation from scipy per distribution: {worst:?}");
    }
}
