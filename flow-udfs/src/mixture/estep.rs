// The E-step of `fit_mix` (responsibilities of every component for every point), split into
// row blocks computed on parallel threads. Each cell is computed by the same formula whichever
// thread runs it, so results do not depend on the thread count.

use crate::mixture::dist::{Dist, Frozen};
use crate::mixture::npsum::pairwise_sum;

/// Below this many cells (points x components) threads cost more than they save.
const PARALLEL_CELLS: usize = 32_768;

/// Frozen components with what their fast density needs, computed once per iteration.
pub(crate) struct Prepared {
    comps: Vec<(f64, Frozen, LognormConsts)>,
    /// F(x0) - F(0) per component (weighted), for the first row: the original compares x[0]
    /// with the minimum of x[:1] (itself), so its `previous_z` is always 0.
    first: Vec<f64>,
}

#[derive(Clone, Copy)]
struct LognormConsts {
    ln_scale: f64,
    two_c2: f64,
    ln_c_sqrt2pi: f64,
}

impl Prepared {
    pub(crate) fn new(comps: &[(f64, Frozen)], x0: f64) -> Prepared {
        let first = comps
            .iter()
            .map(|(w, fr)| (fr.cdf(x0) - fr.cdf(0.0)) * w)
            .collect();
        let comps = comps
            .iter()
            .map(|&(w, fr)| {
                let c = fr.shape;
                let lc = LognormConsts {
                    ln_scale: fr.scale.ln(),
                    two_c2: 2.0 * (c * c),
                    ln_c_sqrt2pi: (c * crate::mixture::dist::SQRT_2PI).ln(),
                };
                (w, fr, lc)
            })
            .collect();
        Prepared { comps, first }
    }

    /// Density at `x` (with `lx = ln x`). A zero-loc lognorm at positive x uses the
    /// precomputed `ln x`: one `exp` instead of two `ln` and an `exp` (same value to an ulp).
    #[inline]
    fn pdf(fr: &Frozen, lc: &LognormConsts, x: f64, lx: f64) -> f64 {
        if fr.dist == Dist::Lognorm && fr.loc == 0.0 && x > 0.0 && fr.shape > 0.0 && fr.scale > 0.0
        {
            let l = lx - lc.ln_scale;
            (-(l * l) / lc.two_c2 - (lc.ln_c_sqrt2pi + l)).exp() / fr.scale
        } else {
            fr.pdf(x)
        }
    }

    /// Fills `rows` (row-major, one row of `kk` cells per point, starting at point `start`)
    /// with normalised responsibilities times `w[i] / avg_ws`.
    fn fill(
        &self,
        rows: &mut [f64],
        start: usize,
        x: &[f64],
        lx: &[f64],
        ws: Option<&[f64]>,
        avg_ws: f64,
    ) {
        let kk = self.comps.len();
        for (r, row) in rows.chunks_exact_mut(kk).enumerate() {
            let i = start + r;
            if i == 0 {
                row.copy_from_slice(&self.first);
            } else {
                for (cell, (w, fr, lc)) in row.iter_mut().zip(&self.comps) {
                    *cell = Self::pdf(fr, lc, x[i], lx[i]) * w;
                }
            }
            let mut s = pairwise_sum(row);
            if s == 0.0 {
                s = 1.0;
            }
            for v in row.iter_mut() {
                *v /= s;
            }
            if let Some(ws) = ws {
                for v in row.iter_mut() {
                    *v = *v * ws[i] / avg_ws;
                }
            }
        }
    }

    /// The whole E-step into `weights` (`x.len()` rows of `kk` cells).
    pub(crate) fn run(
        &self,
        weights: &mut [f64],
        x: &[f64],
        lx: &[f64],
        ws: Option<&[f64]>,
        avg_ws: f64,
    ) {
        let kk = self.comps.len();
        let threads = if weights.len() < PARALLEL_CELLS {
            1
        } else {
            std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .min(16)
        };
        if threads == 1 {
            self.fill(weights, 0, x, lx, ws, avg_ws);
            return;
        }
        let rows_per = x.len().div_ceil(threads);
        std::thread::scope(|s| {
            for (t, block) in weights.chunks_mut(rows_per * kk).enumerate() {
                s.spawn(move || self.fill(block, t * rows_per, x, lx, ws, avg_ws));
            }
        });
    }
}
