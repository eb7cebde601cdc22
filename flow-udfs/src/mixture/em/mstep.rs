// The M-step: each component's new parameters (`fit_comp`, per distribution) and the update of
// the mixture from them and the responsibility sums, in the original's operation order.

use super::column::Column;
use super::digamma::solve_digamma;
use crate::mixture::dist::Dist;
use crate::mixture::{Component, FitError, Num};

const EPS: f64 = f64::EPSILON;
/// scipy.optimize.newton's default absolute tolerance.
const NEWTON_TOL: f64 = 1.48e-8;

/// New parameters per fitted component, as `(index, params)`, in whatever order the threads
/// finished them.
pub(super) type Fitted = Vec<(usize, Result<Vec<Num>, FitError>)>;

/// The M-step's results applied as the original does: new parameters (a lognorm whose scale
/// falls below the largest uniform or Pareto bound keeps its old ones), new weights = column
/// sums over the `n` points (Pareto weights capped by `--mpw`).
pub(super) fn apply(
    mix: &mut [Component],
    mut fitted: Fitted,
    col_sums: &[f64],
    n: usize,
    max_pareto_w: Option<f64>,
) -> Result<(), FitError> {
    let mut max_upper = 0.0f64;
    for comp in mix.iter() {
        match comp.dist {
            Dist::Uniform => max_upper = py_max(max_upper, param(comp, 1)?),
            Dist::Genpareto => max_upper = py_max(max_upper, param(comp, 1)? + 1.0),
            _ => {}
        }
    }
    // The first error in component order is the one reported, whichever thread found it.
    fitted.sort_by_key(|(k, _)| *k);
    for (k, new_params) in fitted {
        let new_params = new_params?;
        let comp = &mut mix[k];
        let revert = comp.dist == Dist::Lognorm && new_params[2].value() < max_upper;
        if !revert {
            comp.params = new_params;
        }
    }
    let n = n as f64;
    for (comp, s) in mix.iter_mut().zip(col_sums) {
        let weight = s / n;
        comp.weight = weight;
        if let Some(mpw) = max_pareto_w
            && mpw != 0.0
            && comp.dist == Dist::Genpareto
            && mpw < weight
        {
            comp.weight = mpw;
        }
    }
    Ok(())
}

/// Python's `max(a, b)`: keeps `a` unless `b > a`.
fn py_max(a: f64, b: f64) -> f64 {
    if b > a { b } else { a }
}

fn param(comp: &Component, i: usize) -> Result<f64, FitError> {
    comp.params.get(i).map(|p| p.value()).ok_or_else(|| {
        FitError::BadParams(format!("{} needs parameter #{i}", comp.dist.scipy_name()))
    })
}

/// One M-step (`fit_comp`) for a component given its responsibilities `w` (one per point);
/// `lx` is `ln(x)`, computed once per fit.
pub(super) fn fit_comp(
    x: &[f64],
    lx: &[f64],
    comp: &Component,
    w: &Column,
) -> Result<Vec<Num>, FitError> {
    match comp.dist {
        Dist::Uniform => Ok(comp.params.clone()),
        Dist::Norm | Dist::Lognorm => {
            let xs = if comp.dist == Dist::Lognorm { lx } else { x };
            let [mut sumw, swx] = w.sums(xs, |w, x| [w, w * x]);
            if sumw.is_nan() || sumw <= 0.0 {
                sumw = EPS;
            }
            let mu = swx / sumw;
            let mut sigma = (w.sum_map(xs, |w, x| {
                let d = x - mu;
                w * (d * d)
            }) / sumw)
                .sqrt();
            if sigma.is_nan() || sigma <= 0.0 {
                sigma = EPS;
            }
            if comp.dist == Dist::Norm {
                Ok(vec![Num::Float(mu), Num::Float(sigma)])
            } else {
                Ok(vec![Num::Float(sigma), Num::Int(0), Num::Float(mu.exp())])
            }
        }
        Dist::Genpareto => {
            let beta_num = *comp
                .params
                .get(1)
                .ok_or_else(|| FitError::BadParams("genpareto needs loc".into()))?;
            let beta = beta_num.value();
            // The original uses a BLAS dot product here; pairwise is within an ulp.
            let [dot, sw] = w.sums(lx, |w, l| [l * w, w]);
            let alpha = 1.0 / (dot / sw - beta.ln());
            Ok(vec![
                Num::Float(1.0 / alpha),
                beta_num,
                Num::Float(beta / alpha),
            ])
        }
        Dist::Gamma => {
            let a0 = param(comp, 0)?;
            let [sw, swx] = w.sums(x, |w, x| [w, w * x]);
            let bhat = swx / sw / a0;
            let lb = bhat.ln();
            // Root of sum(w * (-log(bhat) - psi(a) + log(x))) = 0; psi is monotone,
            // so this root is the one fsolve converges to.
            let t = w.sum_map(lx, |w, l| w * (-lb + l)) / sw;
            let ahat = solve_digamma(t)?;
            Ok(vec![Num::Float(ahat), Num::Int(0), Num::Float(bhat)])
        }
        Dist::WeibullMin => {
            let k0 = param(comp, 0)?;
            let [sw, swxk] = w.sums(x, |w, x| [w, w * x.powf(k0)]);
            let lhat = (swxk / sw).powf(1.0 / k0);
            let swl = w.sum_map(lx, |w, l| w * l);
            let llhat = lhat.ln();
            let f1 = |kh: f64| {
                1.0 / kh * sw + swl
                    - llhat * sw
                    - lhat.powf(-kh) * w.sum_map(x, |w, x| w * x.powf(kh) * (x / lhat).ln())
            };
            let df1 = |kh: f64| {
                -1.0 / (kh * kh) * sw
                    - w.sum_map(x, |w, x| {
                        let r = x / lhat;
                        let l = r.ln();
                        w * (r * r) * (l * l)
                    })
            };
            // scipy.optimize.newton(f1, 1.0, fprime=df1, maxiter=5, disp=False)
            let mut p0 = 1.0f64;
            let mut p = p0;
            for _ in 0..5 {
                let fval = f1(p0);
                if fval == 0.0 {
                    p = p0;
                    break;
                }
                let fder = df1(p0);
                if fder == 0.0 {
                    p = p0;
                    break;
                }
                p = p0 - fval / fder;
                if (p - p0).abs() <= NEWTON_TOL {
                    break;
                }
                p0 = p;
            }
            Ok(vec![Num::Float(p), Num::Int(0), Num::Float(lhat)])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lognorm_m_step_is_weighted_log_moments() {
        let x = [1.0, 2.0, 4.0, 8.0];
        let lx: Vec<f64> = x.iter().map(|v: &f64| v.ln()).collect();
        let comp = Component {
            weight: 1.0,
            dist: Dist::Lognorm,
            params: vec![Num::Float(1.0), Num::Int(0), Num::Float(1.0)],
        };
        let w = [1.0, 1.0, 1.0, 1.0];
        let p = fit_comp(&x, &lx, &comp, &Column::whole(&w)).unwrap();
        let mu = 1.5 * std::f64::consts::LN_2;
        assert!((p[2].value() - mu.exp()).abs() < 1e-12);
        let var = (2.25 + 0.25 + 0.25 + 2.25) / 4.0 * std::f64::consts::LN_2.powi(2);
        assert!((p[0].value() - var.sqrt()).abs() < 1e-12);
        assert_eq!(p[1], Num::Int(0));
    }

    #[test]
    fn genpareto_m_step_is_closed_form_hill_estimator() {
        let x = [2.0, 4.0, 8.0];
        let lx: Vec<f64> = x.iter().map(|v: &f64| v.ln()).collect();
        let comp = Component {
            weight: 1.0,
            dist: Dist::Genpareto,
            params: vec![Num::Float(1.0), Num::Int(2), Num::Float(10.0)],
        };
        let p = fit_comp(&x, &lx, &comp, &Column::whole(&[1.0; 3])).unwrap();
        // mean log(x / beta) = ln 2, so alpha = 1 / ln 2.
        assert!((p[0].value() - std::f64::consts::LN_2).abs() < 1e-15);
        assert_eq!(p[1], Num::Int(2));
        assert!((p[2].value() - 2.0 * std::f64::consts::LN_2).abs() < 1e-15);
    }
}
