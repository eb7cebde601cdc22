// The EM loop of `flow_models.fit.fit_mix` and the per-component M-step of
// `fit_comp`, in the original's operation order (see npsum for the sums).

use crate::mixture::dist::Dist;
use crate::mixture::estep::{PARALLEL_CELLS, Prepared, RowSums, fixed_densities};
use crate::mixture::hist_csv::Histogram;
use crate::mixture::initial::{InitialCounts, initial_mix};
use crate::mixture::npsum::{buffered_sum, pairwise_halves, pairwise_sum, pairwise_sums};
use crate::mixture::{Component, FitError, Mixture, Num};
use std::ops::Range;
use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

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
    validate(x, ws)?;
    if init.components.is_empty() {
        return Err(FitError::BadParams(
            "initial mixture has no components".into(),
        ));
    }
    let n = x.len();
    let kk = init.components.len();
    let frozen = init
        .components
        .iter()
        .map(|c| c.frozen())
        .collect::<Result<Vec<_>, _>>()?;
    let fixed = fixed_densities(&frozen, x);
    let avg_ws = ws.map(|w| buffered_sum(w) / n as f64).unwrap_or(1.0);
    let data = Data {
        x,
        lx: x.iter().map(|v| v.ln()).collect(),
        // Each point's data weight over the mean weight, the factor of its E-step row.
        rel_ws: match ws {
            Some(ws) => ws.iter().map(|w| w / avg_ws).collect(),
            None => vec![1.0; n],
        },
        // One block of rows per thread: the halves of numpy's pairwise split, so that the sums
        // of the two threads' rows add up to the sum of the whole column in numpy's order (two
        // threads at most; the quarters would do for four, but a fit of the published
        // histograms takes 0.05-0.1 s on two).
        blocks: match pairwise_halves(n) {
            Some(h) if n * kk >= PARALLEL_CELLS && crate::par::cores() > 1 => vec![0..h, h..n],
            _ => std::iter::once(0..n).collect(),
        },
        busy: (0..kk)
            .filter(|&k| init.components[k].dist != Dist::Uniform)
            .collect(),
        max_pareto_w,
    };
    let state = Shared {
        step: RwLock::new(Step {
            mix: init.components.clone(),
            prepared: prepare(&init.components, &fixed, x[0])?,
        }),
        cells: data
            .blocks
            .iter()
            .map(|b| RwLock::new(vec![0.0; b.len() * kk]))
            .collect(),
        fitted: Mutex::new(Vec::new()),
        col_sums: Mutex::new(vec![0.0; kk]),
        failed: Mutex::new(None),
        progress: Mutex::new(progress),
    };
    crate::par::team(data.blocks.len(), |m| {
        let mut scratch = RowSums::default();
        for _ in 0..max_iter {
            state.e_step(&data, m.index, &mut scratch);
            m.wait();
            state.m_step(&data, m.index, m.size);
            m.wait();
            if m.index == 0 {
                state.finish_iteration(&data, &fixed);
            }
            m.wait();
            if lock(&state.failed).is_some() {
                break;
            }
        }
    });
    if let Some(e) = lock(&state.failed).take() {
        return Err(e);
    }
    let mix = state
        .step
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .mix;
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

/// What every iteration reads and nobody changes.
struct Data<'a> {
    x: &'a [f64],
    lx: Vec<f64>,
    rel_ws: Vec<f64>,
    /// The rows of each thread's E-step.
    blocks: Vec<Range<usize>>,
    /// The components the M-step fits (not uniform).
    busy: Vec<usize>,
    max_pareto_w: Option<f64>,
}

/// The current mixture and its densities, ready for the next E-step.
struct Step<'a> {
    mix: Vec<Component>,
    prepared: Prepared<'a>,
}

/// New parameters per fitted component, as `(index, params)`.
type Fitted = Vec<(usize, Result<Vec<Num>, FitError>)>;

/// The state the threads of a fit share. Each iteration: every thread computes the E-step of
/// its block of rows; every thread fits its share of the components and sums its share of the
/// columns; the first thread applies the results and prepares the next E-step. The threads meet
/// between these steps, so the locks are never contended.
struct Shared<'a, 'p> {
    step: RwLock<Step<'a>>,
    /// The responsibilities of each block of rows, component-major.
    cells: Vec<RwLock<Vec<f64>>>,
    /// New parameters per fitted component, as `(index, params)`.
    fitted: Mutex<Fitted>,
    /// Sum of each component's responsibilities.
    col_sums: Mutex<Vec<f64>>,
    /// Set when the fit stops with an error.
    failed: Mutex<Option<FitError>>,
    progress: Mutex<&'p mut (dyn FnMut() + Send)>,
}

/// Lock helpers: a poisoned lock means another thread of the fit panicked, and the team passes
/// that panic to the caller anyway, so its data are used as they are.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|e| e.into_inner())
}

impl Shared<'_, '_> {
    /// Thread `t`: the E-step of its block of rows.
    fn e_step(&self, data: &Data, t: usize, scratch: &mut RowSums) {
        let step = read(&self.step);
        let mut cells = write(&self.cells[t]);
        let rows = data.blocks[t].clone();
        step.prepared
            .fill_rows(&mut cells, rows, data.x, &data.lx, &data.rel_ws, scratch);
    }

    /// Thread `t` of `threads`: fits components `t`, `t + threads`, ... of the fitted ones and
    /// sums columns `t`, `t + threads`, ... (serial chains: they run beside the fits).
    fn m_step(&self, data: &Data, t: usize, threads: usize) {
        let step = read(&self.step);
        let cells: Vec<_> = self.cells.iter().map(read).collect();
        let column = |k: usize| Column {
            pieces: cells
                .iter()
                .zip(&data.blocks)
                .map(|(c, b)| &c[k * b.len()..(k + 1) * b.len()])
                .collect(),
        };
        let fitted: Vec<_> = data
            .busy
            .iter()
            .skip(t)
            .step_by(threads)
            .map(|&k| (k, fit_comp(data.x, &data.lx, &step.mix[k], &column(k))))
            .collect();
        lock(&self.fitted).extend(fitted);
        let mine: Vec<usize> = (t..step.mix.len()).step_by(threads).collect();
        let sums = column_sums(&mine.iter().map(|&k| column(k)).collect::<Vec<_>>());
        let mut col_sums = lock(&self.col_sums);
        for (k, s) in mine.into_iter().zip(sums) {
            col_sums[k] = s;
        }
    }
}

impl<'a> Shared<'a, '_> {
    /// The first thread, after the M-step: new parameters and weights, then the next E-step's
    /// densities; an error stops the fit.
    fn finish_iteration(&self, data: &Data, fixed: &'a [Option<Vec<f64>>]) {
        let mut step = write(&self.step);
        let fitted = std::mem::take(&mut *lock(&self.fitted));
        let col_sums = lock(&self.col_sums).clone();
        let next = apply(&mut step.mix, fitted, &col_sums, data)
            .and_then(|()| prepare(&step.mix, fixed, data.x[0]));
        match next {
            Ok(prepared) => {
                step.prepared = prepared;
                (*lock(&self.progress))();
            }
            Err(e) => *lock(&self.failed) = Some(e),
        }
    }
}

/// The densities of the next E-step.
fn prepare<'a>(
    mix: &[Component],
    fixed: &'a [Option<Vec<f64>>],
    x0: f64,
) -> Result<Prepared<'a>, FitError> {
    let frozen = mix
        .iter()
        .map(|c| Ok((c.weight, c.frozen()?)))
        .collect::<Result<Vec<_>, FitError>>()?;
    Ok(Prepared::new(&frozen, fixed, x0))
}

/// The M-step's results applied as the original does: new parameters (a lognorm whose scale
/// falls below the largest uniform or Pareto bound keeps its old ones), new weights = column
/// means (Pareto weights capped by `--mpw`).
fn apply(
    mix: &mut [Component],
    mut fitted: Fitted,
    col_sums: &[f64],
    data: &Data,
) -> Result<(), FitError> {
    let mut max_upper = 0.0f64;
    for comp in mix.iter() {
        match comp.dist {
            Dist::Uniform => max_upper = py_max(max_upper, param(comp, 1)?),
            Dist::Genpareto => max_upper = py_max(max_upper, param(comp, 1)? + 1.0),
            _ => {}
        }
    }
    fitted.sort_by_key(|(k, _)| *k);
    for (k, new_params) in fitted {
        let new_params = new_params?;
        let comp = &mut mix[k];
        let revert = comp.dist == Dist::Lognorm && new_params[2].value() < max_upper;
        if !revert {
            comp.params = new_params;
        }
    }
    let n = data.x.len() as f64;
    for (comp, s) in mix.iter_mut().zip(col_sums) {
        let weight = s / n;
        comp.weight = weight;
        if let Some(mpw) = data.max_pareto_w
            && mpw != 0.0
            && comp.dist == Dist::Genpareto
            && mpw < weight
        {
            comp.weight = mpw;
        }
    }
    Ok(())
}

/// A column of responsibilities, whole or in the two halves of numpy's pairwise split (one per
/// E-step thread): its sums are those of the whole column, in numpy's order.
struct Column<'a> {
    pieces: Vec<&'a [f64]>,
}

impl<'a> Column<'a> {
    #[cfg(test)]
    fn whole(w: &'a [f64]) -> Self {
        Column { pieces: vec![w] }
    }

    /// `np.sum(f(w, xs)[k])` for each `k` in one pass, where `xs` has one value per row.
    fn sums<const K: usize>(
        &self,
        xs: &[f64],
        f: impl Fn(f64, f64) -> [f64; K] + Copy,
    ) -> [f64; K] {
        let mut start = 0;
        let mut total: Option<[f64; K]> = None;
        for p in &self.pieces {
            let s = pairwise_sums(p, &xs[start..start + p.len()], f);
            start += p.len();
            total = Some(total.map_or(s, |t| std::array::from_fn(|k| t[k] + s[k])));
        }
        total.unwrap_or([0.0; K])
    }

    /// `np.sum(f(w, xs))`.
    fn sum_map(&self, xs: &[f64], f: impl Fn(f64, f64) -> f64 + Copy) -> f64 {
        let [s] = self.sums(xs, |w, x| [f(w, x)]);
        s
    }
}

/// The sum of each column, added in row order as numpy sums a row-major array over axis 0. Eight
/// columns at a time, so that eight independent chains of additions stay in registers.
fn column_sums(cols: &[Column]) -> Vec<f64> {
    let mut sums = Vec::with_capacity(cols.len());
    for group in cols.chunks(8) {
        let mut acc = [0.0f64; 8];
        for piece in 0..group[0].pieces.len() {
            let n = group[0].pieces[piece].len();
            let c: [&[f64]; 8] =
                std::array::from_fn(|j| &group[j.min(group.len() - 1)].pieces[piece][..n]);
            for i in 0..n {
                for (a, c) in acc.iter_mut().zip(&c) {
                    *a += c[i];
                }
            }
        }
        sums.extend_from_slice(&acc[..group.len()]);
    }
    sums
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

/// One M-step (`fit_comp`) for a component given its responsibilities `w` (one per point).
fn fit_comp(x: &[f64], lx: &[f64], comp: &Component, w: &Column) -> Result<Vec<Num>, FitError> {
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
    fn an_m_step_error_stops_every_thread_of_the_fit() {
        // 5000 points x 8 components: the two-thread team. The gamma component has no mass
        // near the data, so its responsibilities are all 0 and its M-step target is NaN: the
        // fit must end with that error (not hang, not write NaN), with one thread or two.
        let x: Vec<f64> = (1..=5000).map(f64::from).collect();
        let mut components: Vec<Component> = (0..7)
            .map(|i| Component {
                weight: 0.1,
                dist: Dist::Lognorm,
                params: vec![
                    Num::Float(1.0),
                    Num::Int(0),
                    Num::Float(10.0 * (i + 1) as f64),
                ],
            })
            .collect();
        components.push(Component {
            weight: 0.3,
            dist: Dist::Gamma,
            params: vec![Num::Float(1e6), Num::Int(0), Num::Float(1.0)],
        });
        let init = Mixture {
            components,
            sum: None,
        };
        assert!(x.len() * 8 >= PARALLEL_CELLS && pairwise_halves(x.len()).is_some());
        let err = fit(&x, &vec![1.0; x.len()], &init, 20, None).unwrap_err();
        assert!(
            matches!(&err, FitError::NonFinite(m) if m.contains("gamma M-step target")),
            "{err}"
        );
        let err = fit(&x[..100], &[1.0; 100], &init, 20, None).unwrap_err();
        assert!(matches!(err, FitError::NonFinite(_)), "{err}");
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
