// A column of E-step responsibilities as the threads left it (whole, or in the two halves of
// numpy's pairwise split), summed so that every sum rounds as numpy's sum of the whole column.

use crate::mixture::npsum::pairwise_sums;

/// One component's responsibilities, one per point, in the pieces the E-step threads wrote.
pub(super) struct Column<'a> {
    pub(super) pieces: Vec<&'a [f64]>,
}

impl<'a> Column<'a> {
    #[cfg(test)]
    pub(super) fn whole(w: &'a [f64]) -> Self {
        Column { pieces: vec![w] }
    }

    /// `np.sum(f(w, xs)[k])` for each `k` in one pass, where `xs` has one value per row.
    pub(super) fn sums<const K: usize>(
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
    pub(super) fn sum_map(&self, xs: &[f64], f: impl Fn(f64, f64) -> f64 + Copy) -> f64 {
        let [s] = self.sums(xs, |w, x| [f(w, x)]);
        s
    }
}

/// The sum of each column, added in row order as numpy sums a row-major array over axis 0. Eight
/// columns at a time, so that eight independent chains of additions stay in registers.
pub(super) fn column_sums(cols: &[Column]) -> Vec<f64> {
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
