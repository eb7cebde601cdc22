// The EM loop of `flow_models.fit.fit_mix` and the per-component M-step of
// `fit_comp`, in the original's operation order (see npsum for the sums).

use crate::mixture::dist::Dist;
use crate::mixture::estep::{Prepared, fixed_densities, threads_for};
use crate::mixture::hist_csv::Histogram;
use crate::mixture::initial::{InitialCounts, initial_mix};
use crate::mixture::npsum::{buffered_sum, pairwise_sum, pairwise_sum_map};
use crate::mixture::{Component, FitError, Mixture, Num};

const EPS: f64 = f64::EPSILON;
/// scipy.optimize.newton's default absolute tolerance.
const NEWTON_TOL: f64 = 1.48e-8;

/// Fits `init` to points `x` with data weights `w` (`fit_mix`), running exactly
/// `max_iter` EM iterations. `max_pareto_w` caps genpareto weights (`--mpw`).
pub fn fit(
    x: &[f64],
    w: &[f64],
    init: &Mixture,
    max_iter: usize,
    max_pareto_w: Option<f64>,
) -> Result<Mixture, FitError> {
    let sum = Num::Float(pairwise_sum(w));
    fit_inner(
        x,
        Some(w),
        init,
        max_iter,
        max_pareto_w,
        Some(sum),
        &mut || {},
    )
}

/// `fit_mix(x, mix, ws=None, ...)`: every point has weight 1; no `sum` is reported.
pub fn fit_unweighted(
    x: &[f64],
    init: &Mixture,
    max_iter: usize,
    max_pareto_w: Option<f64>,
) -> Result<Mixture, FitError> {
    fit_inner(x, None, init, max_iter, max_pareto_w, None, &mut || {})
}

/// `flow_models.fit.fit`: fits column `{y}_sum` of a histogram from an initial
/// mixture or from component counts.
pub fn fit_histogram(
    hist: &Histogram,
    y_value: &str,
    max_iter: usize,
    initial: &InitialOrMix,
    max_pareto_w: Option<f64>,
) -> Result<Mixture, FitError> {
    fit_histogram_with_progress(hist, y_value, max_iter, initial, max_pareto_w, &mut || {})
}

/// [`fit_histogram`] calling `progress` after every EM iteration (the original's `cb`).
pub fn fit_histogram_with_progress(
    hist: &Histogram,
    y_value: &str,
    max_iter: usize,
    initial: &InitialOrMix,
    max_pareto_w: Option<f64>,
    progress: &mut (dyn FnMut() + Send),
) -> Result<Mixture, FitError> {
    let ws = hist.column(&format!("{y_value}_sum"))?;
    let init = match initial {
        InitialOrMix::Counts(c) => initial_mix(c, &hist.x, hist.x_is_int)?,
        InitialOrMix::Mixture(m) => m.clone(),
    };
    fit_inner(
        &hist.x,
        Some(&ws.values),
        &init,
        max_iter,
        max_pareto_w,
        Some(ws.sum),
        progress,
    )
}

/// The initial mixture of `fit`: counts (`-U/-P/-L`) or a loaded JSON mixture.
#[derive(Clone, Debug, PartialEq)]
pub enum InitialOrMix {
    Counts(InitialCounts),
    Mixture(Mixture),
}

fn validate(x: &[f64], ws: Option<&[f64]>) -> Result<(), FitError> {
    if x.is_empty() {
        return Err(FitError::EmptyHistogram);
    }
    if let Some(i) = x.iter().position(|v| !v.is_finite()) {
        return Err(FitError::BadData(format!("x[{i}] is not finite")));
    }
    if let Some(ws) = ws {
        if ws.len() != x.len() {
            return Err(FitError::BadData(format!(
                "{} x values but {} weights",
                x.len(),
                ws.len()
            )));
        }
        if let Some(i) = ws.iter().position(|v| !v.is_finite() || *v < 0.0) {
            return Err(FitError::BadData(format!(
                "weight[{i}] = {} is negative or not finite",
                ws[i]
            )));
        }
        if ws.iter().all(|v| *v == 0.0) {
            return Err(FitError::ZeroWeights);
        }
    }
    Ok(())
}

pub(crate) fn fit_inner(
    x: &[f64],
    ws: Option<&[f64]>,
    init: &Mixture,
    max_iter: usize,
    max_pareto_w: Option<f64>,
    sum: Option<Num>,
    progress: &mut (dyn FnMut() + Send),
) -> Result<Mixture, FitError> {
    // On one of the pool's threads: its parallel steps then hand work to the other threads
    // without putting the caller to sleep and waking it 800 times per 400 iterations.
    rayon::scope(|_| fit_loop(x, ws, init, max_iter, max_pareto_w, sum, progress))
}

fn fit_loop(
    x: &[f64],
    ws: Option<&[f64]>,
    init: &Mixture,
    max_iter: usize,
    max_pareto_w: Option<f64>,
    sum: Option<Num>,
    progress: &mut (dyn FnMut() + Send),
) -> Result<Mixture, FitError> {
    validate(x, ws)?;
    if init.components.is_empty() {
        return Err(FitError::BadParams(
            "initial mixture has no components".into(),
        ));
    }
    for c in &init.components {
        c.frozen()?;
    }
    let n = x.len();
    let kk = init.components.len();
    let mut mix = init.components.clone();
    let avg_ws = ws.map(|w| buffered_sum(w) / n as f64).unwrap_or(1.0);
    // Each point's data weight over the mean weight, the factor of its E-step row.
    let rel_ws: Vec<f64> = match ws {
        Some(ws) => ws.iter().map(|w| w / avg_ws).collect(),
        None => vec![1.0; n],
    };
    let lx: Vec<f64> = x.iter().map(|v| v.ln()).collect();
    let mut weights = vec![0.0f64; n * kk];
    let fixed = {
        let frozen = mix
            .iter()
            .map(|c| c.frozen())
            .collect::<Result<Vec<_>, _>>()?;
        fixed_densities(&frozen, x)
    };
    let busy = mix.iter().filter(|c| c.dist != Dist::Uniform).count();
    let m_threads = threads_for(n * busy).min(busy.max(1));

    for _ in 0..max_iter {
        // E-step.
        let frozen = mix
            .iter()
            .map(|c| Ok((c.weight, c.frozen()?)))
            .collect::<Result<Vec<_>, FitError>>()?;
        Prepared::new(&frozen, &fixed, x[0]).run(&mut weights, x, &lx, &rel_ws);

        let mut max_upper = 0.0f64;
        for comp in &mix {
            match comp.dist {
                Dist::Uniform => max_upper = py_max(max_upper, param(comp, 1)?),
                Dist::Genpareto => max_upper = py_max(max_upper, param(comp, 1)? + 1.0),
                _ => {}
            }
        }

        // M-step.
        let m = m_step(x, &lx, &mix, &weights, m_threads)?;
        for (k, new_params) in m.params {
            let comp = &mut mix[k];
            let revert = comp.dist == Dist::Lognorm && new_params[2].value() < max_upper;
            if !revert {
                comp.params = new_params;
            }
        }

        // New weights: column means.
        for (comp, s) in mix.iter_mut().zip(m.col_sums) {
            let weight = s / n as f64;
            comp.weight = weight;
            if let Some(mpw) = max_pareto_w
                && mpw != 0.0
                && comp.dist == Dist::Genpareto
                && mpw < weight
            {
                comp.weight = mpw;
            }
        }
        progress();
    }

    for (k, c) in mix.iter().enumerate() {
        if !c.weight.is_finite() || c.params.iter().any(|p| !p.value().is_finite()) {
            return Err(FitError::NonFinite(format!(
                "component {k} ({}) has weight {} and params {:?}",
                c.dist.scipy_name(),
                c.weight,
                c.param_values()
            )));
        }
    }
    Ok(Mixture {
        components: mix,
        sum,
    })
}

/// The sum of each column, added in row order as numpy sums a row-major array over axis 0. Eight
/// columns at a time, so that eight independent chains of additions stay in registers.
fn column_sums(cols: &[&[f64]]) -> Vec<f64> {
    let mut sums = Vec::with_capacity(cols.len());
    for group in cols.chunks(8) {
        let n = group[0].len();
        let c: [&[f64]; 8] = std::array::from_fn(|j| &group[j.min(group.len() - 1)][..n]);
        let mut acc = [0.0f64; 8];
        for i in 0..n {
            for (a, c) in acc.iter_mut().zip(&c) {
                *a += c[i];
            }
        }
        sums.extend_from_slice(&acc[..group.len()]);
    }
    sums
}

/// What the M-step computes from the component-major responsibilities `weights`.
struct MStep {
    /// The new parameters of every component that has any (uniform components keep theirs),
    /// as `(index, params)`.
    params: Vec<(usize, Vec<Num>)>,
    /// The sum of each component's responsibilities (its new weight times the point count).
    col_sums: Vec<f64>,
}

/// The M-step on `threads` threads: each fits a share of the components and sums a share of
/// the columns (the sums are serial chains, so they run beside the fits, not after them).
fn m_step(
    x: &[f64],
    lx: &[f64],
    mix: &[Component],
    weights: &[f64],
    threads: usize,
) -> Result<MStep, FitError> {
    let n = x.len();
    let kk = mix.len();
    let cols: Vec<&[f64]> = weights.chunks_exact(n).collect();
    let busy: Vec<usize> = (0..kk).filter(|&k| mix[k].dist != Dist::Uniform).collect();
    let shares = crate::par::on_each(&mut vec![(); threads], |t, ()| {
        let mut params = Vec::new();
        for &k in busy.iter().skip(t).step_by(threads) {
            params.push((k, fit_comp(x, lx, &mix[k], cols[k])?));
        }
        let mine: Vec<usize> = (t..kk).step_by(threads).collect();
        let sums = column_sums(&mine.iter().map(|&k| cols[k]).collect::<Vec<_>>());
        Ok::<_, FitError>((params, mine.into_iter().zip(sums).collect::<Vec<_>>()))
    });
    let mut out = MStep {
        params: Vec::with_capacity(busy.len()),
        col_sums: vec![0.0; kk],
    };
    for share in shares {
        let (params, sums) = share?;
        out.params.extend(params);
        for (k, s) in sums {
            out.col_sums[k] = s;
        }
    }
    Ok(out)
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

/// One M-step (`fit_comp`) for a component given its responsibilities `w`.
pub fn fit_comp(x: &[f64], lx: &[f64], comp: &Component, w: &[f64]) -> Result<Vec<Num>, FitError> {
    match comp.dist {
        Dist::Uniform => Ok(comp.params.clone()),
        Dist::Norm | Dist::Lognorm => {
            let xs = if comp.dist == Dist::Lognorm { lx } else { x };
            let mut sumw = pairwise_sum(w);
            if sumw.is_nan() || sumw <= 0.0 {
                sumw = EPS;
            }
            let mu = pairwise_sum_map(w, xs, |w, x| w * x) / sumw;
            let mut sigma = (pairwise_sum_map(w, xs, |w, x| {
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
            let dot = pairwise_sum_map(lx, w, |l, w| l * w);
            let alpha = 1.0 / (dot / pairwise_sum(w) - beta.ln());
            Ok(vec![
                Num::Float(1.0 / alpha),
                beta_num,
                Num::Float(beta / alpha),
            ])
        }
        Dist::Gamma => {
            let a0 = param(comp, 0)?;
            let sw = pairwise_sum(w);
            let bhat = pairwise_sum_map(w, x, |w, x| w * x) / sw / a0;
            let lb = bhat.ln();
            // Root of sum(w * (-log(bhat) - psi(a) + log(x))) = 0; psi is monotone,
            // so this root is the one fsolve converges to.
            let t = pairwise_sum_map(w, lx, |w, l| w * (-lb + l)) / sw;
            let ahat = solve_digamma(t)?;
            Ok(vec![Num::Float(ahat), Num::Int(0), Num::Float(bhat)])
        }
        Dist::WeibullMin => {
            let k0 = param(comp, 0)?;
            let sw = pairwise_sum(w);
            let lhat = (pairwise_sum_map(w, x, |w, x| w * x.powf(k0)) / sw).powf(1.0 / k0);
            let swl = pairwise_sum_map(w, lx, |w, l| w * l);
            let llhat = lhat.ln();
            let f1 = |kh: f64| {
                1.0 / kh * sw + swl
                    - llhat * sw
                    - lhat.powf(-kh)
                        * pairwise_sum_map(w, x, |w, x| w * x.powf(kh) * (x / lhat).ln())
            };
            let df1 = |kh: f64| {
                -1.0 / (kh * kh) * sw
                    - pairwise_sum_map(w, x, |w, x| {
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

/// Solves `digamma(a) = t` for `a > 0` to full precision (bracket, then bisection
/// with secant steps). digamma is strictly increasing on (0, inf).
pub fn solve_digamma(t: f64) -> Result<f64, FitError> {
    use crate::mixture::special::digamma;
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
    use crate::mixture::special::digamma;

    #[test]
    fn digamma_solver_inverts_digamma() {
        for a in [1e-3, 0.05, 0.5, 1.0, 1.95, 8.0, 123.4, 1e5] {
            let got = solve_digamma(digamma(a)).unwrap();
            assert!((got - a).abs() <= 1e-13 * a, "{a} -> {got}");
        }
        assert!(solve_digamma(f64::NAN).is_err());
    }

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
        let p = fit_comp(&x, &lx, &comp, &w).unwrap();
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
        let p = fit_comp(&x, &lx, &comp, &[1.0; 3]).unwrap();
        // mean log(x / beta) = ln 2, so alpha = 1 / ln 2.
        assert!((p[0].value() - std::f64::consts::LN_2).abs() < 1e-15);
        assert_eq!(p[1], Num::Int(2));
        assert!((p[2].value() - 2.0 * std::f64::consts::LN_2).abs() < 1e-15);
    }
}
