//! The numbers behind the figures, computed as flow-models 2.2 computes them (`lib/data.py`:
//! `pdf_from_cdf`, `normalize_data`, `avg_data`; `plot.py`: the line grid).

use crate::input::HistData;

/// Points of the interpolated lines (`LINE_NBINS`).
pub const LINE_NBINS: usize = 128;

/// `np.geomspace(start, stop, n)`: 10 to the power of evenly spaced logarithms, the end points
/// set to `start` and `stop` exactly.
fn geomspace(start: f64, stop: f64, n: usize) -> Vec<f64> {
    let (lo, hi) = (start.log10(), stop.log10());
    let step = (hi - lo) / (n - 1) as f64;
    let mut v: Vec<f64> = (0..n).map(|i| 10f64.powf(i as f64 * step + lo)).collect();
    v[0] = start;
    v[n - 1] = stop;
    v
}

/// The x values the lines are drawn at: `unique(rint(geomspace(min, max, LINE_NBINS)))`.
pub fn line_grid(min: f64, max: f64) -> Vec<f64> {
    if min == max {
        return vec![min];
    }
    let mut grid: Vec<f64> = geomspace(min, max, LINE_NBINS)
        .into_iter()
        .map(f64::round_ties_even)
        .collect();
    grid.dedup();
    grid
}

/// `scipy.interpolate.interp1d(xp, fp, 'linear', bounds_error=False)(x)` (numpy's `interp`
/// inside the bounds, NaN outside); `xp` ascending.
pub fn interpolate(xp: &[f64], fp: &[f64], x: &[f64]) -> Vec<f64> {
    let (Some(&first), Some(&last)) = (xp.first(), xp.last()) else {
        return vec![f64::NAN; x.len()];
    };
    x.iter()
        .map(|&v| {
            if v.is_nan() || v < first || v > last {
                return f64::NAN;
            }
            if v == last {
                return fp[fp.len() - 1];
            }
            // xp[j] <= v < xp[j + 1]
            let j = xp.partition_point(|&p| p <= v) - 1;
            if xp[j] == v {
                return fp[j];
            }
            let slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
            let y = slope * (v - xp[j]) + fp[j];
            if y.is_nan() {
                slope * (v - xp[j + 1]) + fp[j + 1]
            } else {
                y
            }
        })
        .collect()
}

/// The empirical CDF of a column at each bin: `cumsum / sum`.
fn cdf_points(values: &[f64]) -> Vec<f64> {
    let total = flow_udfs::mixture::pairwise_sum(values);
    let mut run = 0.0;
    values
        .iter()
        .map(|v| {
            run += v;
            run / total
        })
        .collect()
}

/// The CDF line of `values` on `grid` (`plot_cdf`'s `line` mode).
pub fn cdf_line(hist: &HistData, values: &[f64], grid: &[f64]) -> Vec<f64> {
    interpolate(&hist.bin_lo, &cdf_points(values), grid)
}

/// `pdf_from_cdf`: the PDF inferred from the interpolated CDF, `[cdf[0], diff(cdf) / diff(x)]`.
pub fn pdf_from_cdf(hist: &HistData, values: &[f64], grid: &[f64]) -> Vec<f64> {
    let cdf = cdf_line(hist, values, grid);
    let mut pdf = Vec::with_capacity(cdf.len());
    if let Some(&c0) = cdf.first() {
        pdf.push(c0);
    }
    for i in 1..cdf.len() {
        pdf.push((cdf[i] - cdf[i - 1]) / (grid[i] - grid[i - 1]));
    }
    pdf
}

/// `bin_calc_log(x, b)[0]`: the start of the logarithmic bin holding `x`.
fn log_bin_lo(x: f64, exp: u32) -> f64 {
    let x = x as u64;
    let bits = 64 - x.leading_zeros();
    let width = 1u64 << bits.saturating_sub(exp);
    ((x / width) * width) as f64
}

/// The widths `normalize_data` divides each bin by: the distance to the next bin present
/// (the last bin: to the start of the bin after it). This is the original's definition, kept:
/// where bins are missing (sparse tails) a bin's count spreads over the gap after it.
pub fn normalizing_widths(hist: &HistData) -> Vec<f64> {
    let lo = &hist.bin_lo;
    let n = lo.len();
    if n == 1 {
        return vec![hist.bin_hi[0] - lo[0]];
    }
    let unit = hist
        .bin_lo
        .iter()
        .zip(&hist.bin_hi)
        .all(|(l, h)| h - l == 1.0);
    let mut next: Vec<f64> = lo.windows(2).map(|w| w[1]).collect();
    let after_last = 2.0 * lo[n - 1] - lo[n - 2];
    next.push(if unit {
        after_last
    } else {
        // The bin-width exponent: log2 of the first bin wider than 1 (where widths double).
        let first_wide = lo
            .iter()
            .zip(&hist.bin_hi)
            .find(|(l, h)| *h - *l > 1.0)
            .map_or(1.0, |(l, _)| *l);
        log_bin_lo(after_last, first_wide.log2() as u32)
    });
    next.iter().zip(lo).map(|(nx, l)| nx - l).collect()
}

/// The data points of a PDF plot: each bin's share of the column's total, divided by the
/// bin's normalizing width when `normalize` (`plot_pdf`'s `points`).
pub fn pdf_points(hist: &HistData, values: &[f64], normalize: bool) -> Vec<f64> {
    let total = flow_udfs::mixture::pairwise_sum(values);
    if normalize {
        let widths = normalizing_widths(hist);
        values
            .iter()
            .zip(&widths)
            .map(|(v, w)| v / w / total)
            .collect()
    } else {
        values.iter().map(|v| v / total).collect()
    }
}

/// `avg_data`: the average of `values` per flow at each bin (points) and on `grid` (line).
pub fn avg_data(hist: &HistData, values: &[f64], grid: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let flows = &hist.flows;
    let points = values.iter().zip(flows).map(|(v, f)| v / f).collect();
    let scale = flow_udfs::mixture::pairwise_sum(values) / flow_udfs::mixture::pairwise_sum(flows);
    let pdf_what = pdf_from_cdf(hist, values, grid);
    let pdf_flows = pdf_from_cdf(hist, flows, grid);
    let line = pdf_what
        .iter()
        .zip(&pdf_flows)
        .map(|(w, f)| scale * w / f)
        .collect();
    (points, line)
}

/// The smallest and largest finite value (positive ones only when `positive`, as on a log
/// axis).
pub(crate) fn extent(values: impl IntoIterator<Item = f64>, positive: bool) -> Option<(f64, f64)> {
    values
        .into_iter()
        .filter(|v| v.is_finite() && (!positive || *v > 0.0))
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// `lo..hi` widened by matplotlib's 5 % margins, in log space on a log axis (the original's
/// `set_log_limits`); a single value gets a range round it.
pub(crate) fn with_margins((lo, hi): (f64, f64), log: bool) -> (f64, f64) {
    if log {
        let (lo, hi) = if lo == hi {
            (lo / 2.0, hi * 2.0)
        } else {
            (lo, hi)
        };
        let buf = 0.05 * (hi / lo).log10();
        (lo * 10f64.powf(-buf), hi * 10f64.powf(buf))
    } else {
        let (lo, hi) = if lo == hi {
            (lo - 1.0, hi + 1.0)
        } else {
            (lo, hi)
        };
        let buf = 0.05 * (hi - lo);
        (lo - buf, hi + buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_starts_and_ends_at_the_extremes_without_repeats() {
        let g = line_grid(1.0, 1e6);
        assert_eq!(g[0], 1.0);
        assert_eq!(*g.last().unwrap(), 1e6);
        assert!(g.windows(2).all(|w| w[0] < w[1]));
        // geomspace(1, 1e6, 128) starts with steps of ~1.115: 1, 1, 1, 2, ... deduplicated.
        assert_eq!(&g[..4], &[1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn interpolation_is_numpys_inside_and_nan_outside() {
        let xp = [1.0, 2.0, 4.0];
        let fp = [0.0, 1.0, 3.0];
        let y = interpolate(&xp, &fp, &[0.5, 1.0, 1.5, 3.0, 4.0, 5.0]);
        assert!(y[0].is_nan() && y[5].is_nan());
        assert_eq!(&y[1..5], &[0.0, 0.5, 2.0, 3.0]);
    }

    #[test]
    fn log_bins_start_where_the_original_puts_them() {
        // bin_calc_log(x, 3): width 1 below 8, then 2, 4, ...
        assert_eq!(log_bin_lo(7.0, 3), 7.0);
        assert_eq!(log_bin_lo(9.0, 3), 8.0);
        assert_eq!(log_bin_lo(17.0, 3), 16.0);
        assert_eq!(log_bin_lo(35.0, 3), 32.0);
    }
}
