// The E-step of `fit_mix` (responsibilities of every component for every point), for a block
// of rows (one per thread). Each cell is computed by the same formula whichever thread runs it,
// so results do not depend on the thread count.

use crate::mixture::dist::{Dist, Frozen};
use crate::mixture::npsum::pairwise_sum;
use crate::mixture::vexp::exp_map;

/// Below this many cells (points x components) a second thread costs more than it saves.
pub(crate) const PARALLEL_CELLS: usize = 32_768;

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
    /// This component's weighted densities at the points of `x` (`lx` = their logs), the first
    /// of which is point number `start`, into `out`.
    fn column(&self, start: usize, x: &[f64], lx: &[f64], out: &mut [f64]) {
        match *self {
            Kernel::Fixed { w, pdf } => {
                for (o, p) in out.iter_mut().zip(&pdf[start..]) {
                    *o = p * w;
                }
            }
            Kernel::Lognorm {
                w_over_scale,
                ln_scale,
                inv_two_c2,
                ln_c_sqrt2pi,
            } => {
                // exp(-inf) = 0: no density at x <= 0.
                let arg = |x: f64, lx: f64| {
                    let l = lx - ln_scale;
                    let g = -(l * l) * inv_two_c2 - (ln_c_sqrt2pi + l);
                    if x > 0.0 { g } else { f64::NEG_INFINITY }
                };
                exp_map(x, lx, arg, w_over_scale, out);
            }
            Kernel::General { w, fr } => {
                for (o, &x) in out.iter_mut().zip(x) {
                    *o = fr.pdf(x) * w;
                }
            }
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

    /// The E-step of rows `rows` into `cells` (component-major: `rows.len()` cells of component
    /// 0, then of component 1, ...): normalised responsibilities times `rel_ws[i]` (the point's
    /// data weight over the mean weight), a tile of rows at a time.
    pub(crate) fn fill_rows(
        &self,
        cells: &mut [f64],
        rows: std::ops::Range<usize>,
        x: &[f64],
        lx: &[f64],
        rel_ws: &[f64],
        scratch: &mut RowSums,
    ) {
        let len = rows.len();
        let mut cols: Vec<&mut [f64]> = cells.chunks_exact_mut(len).collect();
        for t0 in (0..len).step_by(TILE) {
            let t1 = (t0 + TILE).min(len);
            let (g0, g1) = (rows.start + t0, rows.start + t1);
            for (col, k) in cols.iter_mut().zip(&self.comps) {
                k.column(g0, &x[g0..g1], &lx[g0..g1], &mut col[t0..t1]);
            }
            if g0 == 0 {
                for (col, first) in cols.iter_mut().zip(&self.first) {
                    col[t0] = *first;
                }
            }
            normalise_tile(&mut cols, t0..t1, &rel_ws[g0..g1], scratch);
        }
    }
}

/// Divides rows `rows` of `cols` by their sums (a zero sum by 1) and multiplies them by the
/// point's `rel_ws`. Compiled per CPU level: the divisions and additions vectorise across rows.
#[multiversion::multiversion(targets("x86_64+avx512f+avx2+fma", "x86_64+avx2+fma"))]
fn normalise_tile(
    cols: &mut [&mut [f64]],
    rows: std::ops::Range<usize>,
    rel_ws: &[f64],
    scratch: &mut RowSums,
) {
    let factors = scratch.sums(cols, rows.clone());
    for (f, r) in factors.iter_mut().zip(rel_ws) {
        let s = if *f == 0.0 { 1.0 } else { *f };
        *f = r / s;
    }
    for col in cols.iter_mut() {
        for (v, f) in col[rows.clone()].iter_mut().zip(factors.iter()) {
            *v *= f;
        }
    }
}

/// Rows per tile: a tile's cells stay in the cache between the densities, the row sums and the
/// normalisation.
const TILE: usize = 512;

/// Row sums of component-major cells in numpy's pairwise order over each row (as `pairwise_sum`
/// of the row), computed a column at a time so that the additions vectorise across rows.
pub(crate) struct RowSums {
    /// numpy's eight partial sums of a tile's rows, when a row has more than one block of eight.
    acc: Vec<f64>,
    out: Vec<f64>,
}

impl Default for RowSums {
    fn default() -> Self {
        RowSums {
            acc: vec![0.0; 8 * TILE],
            out: vec![0.0; TILE],
        }
    }
}

impl RowSums {
    /// The sums of rows `rows` (at most `TILE`) of `cols`.
    #[inline(always)]
    fn sums(&mut self, cols: &[&mut [f64]], rows: std::ops::Range<usize>) -> &mut [f64] {
        let m = rows.len();
        let kk = cols.len();
        let out = &mut self.out[..m];
        if kk < 8 {
            out.fill(0.0);
            for col in cols {
                for (o, v) in out.iter_mut().zip(&col[rows.clone()]) {
                    *o += v;
                }
            }
        } else if kk <= 128 {
            let whole = kk - kk % 8;
            let mut r: [&[f64]; 8] = [&[]; 8];
            if whole == 8 {
                for (r, col) in r.iter_mut().zip(cols) {
                    *r = &col[rows.clone()];
                }
            } else {
                for (j, (r, acc)) in r
                    .iter_mut()
                    .zip(self.acc.chunks_exact_mut(TILE))
                    .enumerate()
                {
                    let acc = &mut acc[..m];
                    acc.copy_from_slice(&cols[j][rows.clone()]);
                    for col in cols[..whole].iter().skip(j + 8).step_by(8) {
                        for (a, v) in acc.iter_mut().zip(&col[rows.clone()]) {
                            *a += v;
                        }
                    }
                    *r = acc;
                }
            }
            let [r0, r1, r2, r3, r4, r5, r6, r7] = r.map(|c| &c[..m]);
            for i in 0..m {
                out[i] = ((r0[i] + r1[i]) + (r2[i] + r3[i])) + ((r4[i] + r5[i]) + (r6[i] + r7[i]));
            }
            for col in &cols[whole..] {
                for (o, v) in out.iter_mut().zip(&col[rows.clone()]) {
                    *o += v;
                }
            }
        } else {
            let mut row = vec![0.0; kk];
            for (i, o) in out.iter_mut().enumerate() {
                for (c, col) in row.iter_mut().zip(cols) {
                    *c = col[rows.start + i];
                }
                *o = pairwise_sum(&row);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_row_sums_equal_pairwise_sums_of_the_rows() {
        // Values whose sums depend on the order (1e16 absorbs small terms), for every kind of
        // row width: < 8, 8..=128 with and without a tail, > 128.
        for kk in [1, 3, 7, 8, 9, 16, 21, 128, 130] {
            let m = 37;
            let cols: Vec<Vec<f64>> = (0..kk)
                .map(|k| {
                    (0..m)
                        .map(|i| match (k * 7 + i * 3) % 5 {
                            0 => 1e16,
                            1 => -1e16,
                            2 => 1.0,
                            3 => 3.3,
                            _ => 0.1 * (i + k) as f64,
                        })
                        .collect()
                })
                .collect();
            let mut owned = cols.clone();
            let refs: Vec<&mut [f64]> = owned.iter_mut().map(|c| &mut c[..]).collect();
            let mut rs = RowSums::default();
            let got = rs.sums(&refs, 2..m).to_vec();
            for (i, g) in got.iter().enumerate() {
                let row: Vec<f64> = cols.iter().map(|c| c[i + 2]).collect();
                assert_eq!(g.to_bits(), pairwise_sum(&row).to_bits(), "kk {kk} row {i}");
            }
        }
    }
}
