// What the threads of one fit share: the data every iteration reads (`Data`) and the mixture,
// responsibilities and results that pass between the steps of an iteration (`Shared`).

use super::column::{Column, column_sums};
use super::mstep::{Fitted, apply, fit_comp};
use crate::mixture::dist::Dist;
use crate::mixture::estep::{PARALLEL_CELLS, Prepared, RowSums};
use crate::mixture::npsum::{buffered_sum, pairwise_halves};
use crate::mixture::{Component, FitError};
use std::ops::Range;
use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// What every iteration reads and nobody changes.
pub(super) struct Data<'a> {
    x: &'a [f64],
    lx: Vec<f64>,
    rel_ws: Vec<f64>,
    /// The rows of each thread's E-step.
    pub(super) blocks: Vec<Range<usize>>,
    /// The components the M-step fits (not uniform).
    busy: Vec<usize>,
    max_pareto_w: Option<f64>,
}

impl<'a> Data<'a> {
    /// `x` with its data weights `ws` (all 1 when `None`), fitted from `init`.
    pub(super) fn new(
        x: &'a [f64],
        ws: Option<&[f64]>,
        init: &[Component],
        max_pareto_w: Option<f64>,
    ) -> Self {
        let n = x.len();
        let kk = init.len();
        let avg_ws = ws.map(|w| buffered_sum(w) / n as f64).unwrap_or(1.0);
        Data {
            x,
            lx: x.iter().map(|v| v.ln()).collect(),
            // Each point's data weight over the mean weight, the factor of its E-step row.
            rel_ws: match ws {
                Some(ws) => ws.iter().map(|w| w / avg_ws).collect(),
                None => vec![1.0; n],
            },
            // One block of rows per thread: the halves of numpy's pairwise split, so that the
            // sums of the two threads' rows add up to the sum of the whole column in numpy's
            // order (two threads at most; the quarters would do for four, but a fit of the
            // published histograms is already a fraction of a second on two).
            blocks: match pairwise_halves(n) {
                Some(h) if n * kk >= PARALLEL_CELLS && crate::par::cores() > 1 => {
                    vec![0..h, h..n]
                }
                _ => std::iter::once(0..n).collect(),
            },
            busy: (0..kk).filter(|&k| init[k].dist != Dist::Uniform).collect(),
            max_pareto_w,
        }
    }
}

/// The current mixture and its densities, ready for the next E-step.
struct Step<'a> {
    mix: Vec<Component>,
    prepared: Prepared<'a>,
}

/// The state the threads of a fit share. Each iteration: every thread computes the E-step of
/// its block of rows; every thread fits its share of the components and sums its share of the
/// columns; the first thread applies the results and prepares the next E-step. The threads meet
/// between these steps, so the locks are never contended.
pub(super) struct Shared<'a, 'p> {
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

impl<'a, 'p> Shared<'a, 'p> {
    /// The state before the first iteration: `init` ready for its E-step. `fixed` holds the
    /// densities of the components that never change (see `fixed_densities`).
    pub(super) fn new(
        data: &Data,
        init: &[Component],
        fixed: &'a [Option<Vec<f64>>],
        progress: &'p mut (dyn FnMut() + Send),
    ) -> Result<Self, FitError> {
        Ok(Shared {
            step: RwLock::new(Step {
                mix: init.to_vec(),
                prepared: prepare(init, fixed, data.x[0])?,
            }),
            cells: data
                .blocks
                .iter()
                .map(|b| RwLock::new(vec![0.0; b.len() * init.len()]))
                .collect(),
            fitted: Mutex::new(Vec::new()),
            col_sums: Mutex::new(vec![0.0; init.len()]),
            failed: Mutex::new(None),
            progress: Mutex::new(progress),
        })
    }

    /// Whether an iteration has failed (every thread then stops).
    pub(super) fn failed(&self) -> bool {
        lock(&self.failed).is_some()
    }

    /// The mixture after the last iteration, or the error that stopped the fit.
    pub(super) fn into_result(self) -> Result<Vec<Component>, FitError> {
        if let Some(e) = self.failed.into_inner().unwrap_or_else(|e| e.into_inner()) {
            return Err(e);
        }
        Ok(self
            .step
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .mix)
    }

    /// Thread `t`: the E-step of its block of rows.
    pub(super) fn e_step(&self, data: &Data, t: usize, scratch: &mut RowSums) {
        let step = read(&self.step);
        let mut cells = write(&self.cells[t]);
        let rows = data.blocks[t].clone();
        step.prepared
            .fill_rows(&mut cells, rows, data.x, &data.lx, &data.rel_ws, scratch);
    }

    /// Thread `t` of `threads`: fits components `t`, `t + threads`, ... of the fitted ones and
    /// sums columns `t`, `t + threads`, ... (serial chains: they run beside the fits).
    pub(super) fn m_step(&self, data: &Data, t: usize, threads: usize) {
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

    /// The first thread, after the M-step: new parameters and weights, then the next E-step's
    /// densities; an error stops the fit.
    pub(super) fn finish_iteration(&self, data: &Data, fixed: &'a [Option<Vec<f64>>]) {
        let mut step = write(&self.step);
        let fitted = std::mem::take(&mut *lock(&self.fitted));
        let col_sums = lock(&self.col_sums).clone();
        let next = apply(
            &mut step.mix,
            fitted,
            &col_sums,
            data.x.len(),
            data.max_pareto_w,
        )
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
