//! The CDF table: the share (in %) of flows, packets and octets in flows whose x is at most
//! each of 25 points, interpolated linearly in the histogram's cumulative sums exactly as the
//! original's `scipy.interpolate.interp1d(…, 'linear', bounds_error=False)` (numpy's `interp`,
//! NaN outside the histogram's `bin_lo` range).

use super::columns::{HistColumns, Values};
use crate::hist::XValue;
use datafusion::common::{Result, plan_err};

/// One row of the CDF table: percentages of all flows, packets and octets in flows whose x is
/// at most `up_to` (NaN outside the histogram's range).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CdfRow {
    pub up_to: u64,
    pub flows: f64,
    pub packets: f64,
    pub octets: f64,
}

/// The 25 points of the CDF table: 2^0 … 2^24 for length (packets) and duration
/// (milliseconds: 1 ms … 4.7 h), 64 · 2^k for size (bytes; as the original), 1024 · 2^k for rate
/// (bit/s: 1 kbit/s … 17 Gbit/s). The original has no points for duration and rate (it raises).
pub fn cdf_points(x: XValue) -> [u64; 25] {
    let scale = match x {
        XValue::Length | XValue::Duration => 1,
        XValue::Size => 64,
        XValue::Rate => 1024,
    };
    std::array::from_fn(|k| scale << k)
}

/// The x value the original detects from the smallest `bin_lo`: 1 is length, 64 is size; other
/// histograms need an explicit x.
pub fn detect_x(bin_lo: &[f64]) -> Result<XValue> {
    let min = bin_lo.iter().copied().fold(f64::INFINITY, f64::min);
    if min == 1.0 {
        Ok(XValue::Length)
    } else if min == 64.0 {
        Ok(XValue::Size)
    } else {
        plan_err!(
            "summary: cannot tell the x value from the histogram (its smallest bin_lo is {min}, \
             not 1 for length or 64 for size): give it (-x length|size|duration|rate)"
        )
    }
}

/// The CDF table of `hist` at [`cdf_points`]`(x)`. Rows are taken in `bin_lo` order (the
/// original accumulates in file order, the same for every csv_hist `hist` writes).
pub(crate) fn cdf_table(hist: &HistColumns, x: XValue) -> Vec<CdfRow> {
    let mut order: Vec<usize> = (0..hist.x.len()).collect();
    order.sort_by(|&a, &b| hist.x[a].total_cmp(&hist.x[b]));
    let xs: Vec<f64> = order.iter().map(|&i| hist.x[i]).collect();
    let shares = ["flows_sum", "packets_sum", "octets_sum"].map(|c| {
        let cdf = cumulative_share(hist.required(c), &order);
        cdf_points(x).map(|p| interp(p as f64, &xs, &cdf) * 100.0)
    });
    cdf_points(x)
        .iter()
        .enumerate()
        .map(|(k, &up_to)| CdfRow {
            up_to,
            flows: shares[0][k],
            packets: shares[1][k],
            octets: shares[2][k],
        })
        .collect()
}

/// pandas' `col.cumsum() / col.sum()`, in `order`.
fn cumulative_share(values: &Values, order: &[usize]) -> Vec<f64> {
    let total = values.total().as_f64();
    match values {
        Values::Int(v) => {
            let mut run = 0i128;
            order
                .iter()
                .map(|&i| {
                    run += v[i];
                    run as f64 / total
                })
                .collect()
        }
        Values::Float(v) => {
            let mut run = 0.0;
            order
                .iter()
                .map(|&i| {
                    run += v[i];
                    run / total
                })
                .collect()
        }
    }
}

/// numpy's `interp(x, xp, fp)` for sorted `xp`, with interp1d's NaN outside `[xp[0], xp[-1]]`.
fn interp(x: f64, xp: &[f64], fp: &[f64]) -> f64 {
    let n = xp.len();
    if n == 0 || x.is_nan() || x < xp[0] || x > xp[n - 1] {
        return f64::NAN;
    }
    // The last j with xp[j] <= x, as numpy's binary search finds it.
    let j = xp.partition_point(|&v| v <= x) - 1;
    if j == n - 1 || xp[j] == x {
        return fp[j];
    }
    let slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
    let y = slope * (x - xp[j]) + fp[j];
    if !y.is_nan() {
        return y;
    }
    let y = slope * (x - xp[j + 1]) + fp[j + 1];
    if y.is_nan() && fp[j] == fp[j + 1] {
        fp[j]
    } else {
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interp_is_numpys() {
        let xp = [1.0, 2.0, 4.0];
        let fp = [0.5, 0.75, 1.0];
        assert!(interp(0.5, &xp, &fp).is_nan());
        assert_eq!(interp(1.0, &xp, &fp), 0.5);
        assert_eq!(interp(3.0, &xp, &fp), 0.875);
        assert_eq!(interp(4.0, &xp, &fp), 1.0);
        assert!(interp(4.5, &xp, &fp).is_nan());
    }

    #[test]
    fn points() {
        assert_eq!(cdf_points(XValue::Length)[24], 1 << 24);
        assert_eq!(cdf_points(XValue::Size)[0], 64);
        assert_eq!(cdf_points(XValue::Rate)[24], 1024 << 24);
    }
}
