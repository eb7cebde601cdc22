// The E-step of `fit_mix` (responsibilities of every component for every point), split into
// row blocks computed on parallel threads. Each cell is computed by the same formula whichever
// thread runs it, so results do not depend on the thread count.

use crate::mixture::dist::{Dist, Frozen};
use crate::mixture::npsum::pairwise_sum;

/// Below this many cells (points x components) threads cost more than they save.
pub(crate) const PARALLEL_CELLS: usize = 32_768;

/// The threads worth using for `cells` cells of work.
pub(crate) fn threads_for(cells: usize) -> usize {
    if cells < PARALLEL_CELLS {
        1
    } else {
        crate::par::cores().min(16)
    }
}

/// How one component's weighted density is computed at each point.
enum Kernel<'a> {
    /// A density that stays the same in every iteration (uniform components: the M-step keeps
    /// their parameters), computed once per point by the caller.
    Fixed { w: f64, pdf: &'a [f64] },
    /// A zero-loc lognorm at positive x, from the precomputed `ln x`: one `exp` per cell
    /// instead of two `ln`, an `exp` and three divisions (within an ulp or two of scipy).
    Lognorm {
        w_over_scale: f64,
        ln_scale: f64,
        inv_two_c2: f64,
        ln_c_sqrt2pi: f64,
    },
    /// Any other component, through the scipy-equivalent density.
    General { w: f64, fr: Frozen },
}

impl Kernel<'_> {
    #[inline]
    fn cell(&self, i: usize, x: f64, lx: f64) -> f64 {
        match *self {
            Kernel::Fixed { w, pdf } => pdf[i] * w,
            Kernel::Lognorm {
                w_over_scale,
                ln_scale,
                inv_two_c2,
                ln_c_sqrt2pi,
            } if x > 0.0 => {
                let l = lx - ln_scale;
                (-(l * l) * inv_two_c2 - (ln_c_sqrt2pi + l)).exp() * w_over_scale
            }
            Kernel::Lognorm { .. } => 0.0,
            Kernel::General { w, fr } => fr.pdf(x) * w,
        }
    }
}

/// The densities of the components whose parameters never change (uniform), per point; `None`
/// for the others. Computed once per fit and handed to every [`Prepared::new`].
pub(crate) fn fixed_densities(comps: &[Frozen], x: &[f64]) -> Vec<Option<Vec<f64>>> {
    comps
        .iter()
        .map(|fr| (fr.dist == Dist::Uniform).then(|| x.iter().map(|&v| fr.pdf(v)).collect()))
        .collect()
}

/// Frozen components with what their fast density needs, computed once per iteration.
pub(crate) struct Prepared<'a> {
    comps: Vec<Kernel<'a>>,
    /// F(x0) - F(0) per component (weighted), for the first row: the original compares x[0]
    /// with the minimum of x[:1] (itself), so its `previous_z` is always 0.
    first: Vec<f64>,
}

impl<'a> Prepared<'a> {
    pub(crate) fn new(comps: &[(f64, Frozen)], fixed: &'a [Option<Vec<f64>>], x0: f64) -> Self {
        let first = comps
            .iter()
            .map(|(w, fr)| (fr.cdf(x0) - fr.cdf(0.0)) * w)
            .collect();
        let comps = comps
            .iter()
            .zip(fixed)
            .map(|(&(w, fr), fixed)| match fixed {
                Some(pdf) => Kernel::Fixed { w, pdf },
                None if fr.dist == Dist::Lognorm
                    && fr.loc == 0.0
                    && fr.shape > 0.0
                    && fr.scale > 0.0 =>
                {
                    let c = fr.shape;
                    Kernel::Lognorm {
                        w_over_scale: w / fr.scale,
                        ln_scale: fr.scale.ln(),
                        inv_two_c2: 1.0 / (2.0 * (c * c)),
                        ln_c_sqrt2pi: (c * crate::mixture::dist::SQRT_2PI).ln(),
                    }
                }
                None => Kernel::General { w, fr },
            })
            .collect();
        Prepared { comps, first }
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
                for (cell, k) in row.iter_mut().zip(&self.comps) {
                    *cell = k.cell(i, x[i], lx[i]);
                }
            }
            let mut s = pairwise_sum(row);
            if s == 0.0 {
                s = 1.0;
            }
            let f = ws.map_or(1.0, |ws| ws[i] / avg_ws) / s;
            for v in row.iter_mut() {
                *v *= f;
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
        let rows_per = x.len().div_ceil(threads_for(weights.len()));
        let mut blocks: Vec<&mut [f64]> = weights.chunks_mut(rows_per * kk).collect();
        crate::par::on_each(&mut blocks, |t, block| {
            self.fill(block, t * rows_per, x, lx, ws, avg_ws)
        });
    }
}
