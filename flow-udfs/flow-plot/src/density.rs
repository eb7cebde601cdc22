//! The density modes of the PDF figures: a 2-D histogram (`-P hist`) and a Gaussian kernel
//! density estimate (`-P kde`) of the data points in log space, both weighted by flows, as
//! `plt.hist2d(..., norm=LogNorm())` and `scipy.stats.gaussian_kde` + `contourf` draw them.

use crate::figures::{Raster, Rgb};
use crate::input::HistData;

/// Cells per axis (`HIST_NBINS`, `KDE_NBINS`).
const NBINS: usize = 64;
/// Filled bands of the KDE (`contourf(levels=16)`).
const KDE_LEVELS: f64 = 16.0;

/// The plotted extent: x over the bins, y over the positive points.
fn extent(hist: &HistData, points: &[f64]) -> Option<(f64, f64, f64, f64)> {
    let (ymin, ymax) = crate::series::extent(points.iter().copied(), true)?;
    let (xmin, xmax) = (hist.bin_lo[0], hist.bin_lo[hist.bin_lo.len() - 1]);
    (xmin < xmax && ymin < ymax).then_some((xmin, xmax, ymin, ymax))
}

fn log_edges(lo: f64, hi: f64) -> Vec<f64> {
    let (a, b) = (lo.log10(), hi.log10());
    (0..NBINS)
        .map(|i| 10f64.powf(a + (b - a) * i as f64 / (NBINS - 1) as f64))
        .collect()
}

/// The cell of `v` among `edges` (the last edge belongs to the last cell), if inside.
fn cell(edges: &[f64], v: f64) -> Option<usize> {
    let (first, last) = (edges[0], edges[edges.len() - 1]);
    if !(v >= first && v <= last) {
        return None;
    }
    Some((edges.partition_point(|&e| e <= v) - 1).min(edges.len() - 2))
}

fn empty(color: Rgb) -> Raster {
    Raster {
        x_edges: Vec::new(),
        y_edges: Vec::new(),
        values: Vec::new(),
        color,
        alpha: 1.0,
    }
}

/// `plt.hist2d` of the points weighted by flows over 63×63 log cells; cells under one flow are
/// not drawn, the others coloured on a log scale from the smallest to the largest.
pub fn hist2d(hist: &HistData, points: &[f64], color: Rgb) -> Raster {
    let Some((xmin, xmax, ymin, ymax)) = extent(hist, points) else {
        return empty(color);
    };
    let (xe, ye) = (log_edges(xmin, xmax), log_edges(ymin, ymax));
    let ny = ye.len() - 1;
    let mut sums = vec![0.0; (xe.len() - 1) * ny];
    for ((&x, &y), &w) in hist.bin_lo.iter().zip(points).zip(&hist.flows) {
        if let (Some(i), Some(j)) = (cell(&xe, x), cell(&ye, y)) {
            sums[i * ny + j] += w;
        }
    }
    let drawn = sums.iter().copied().filter(|&s| s >= 1.0);
    let (lo, hi) = drawn.fold((f64::INFINITY, 0.0f64), |(l, h), s| (l.min(s), h.max(s)));
    let span = (hi / lo).ln();
    let values = sums
        .iter()
        .map(|&s| match s >= 1.0 {
            false => f64::NAN,
            true if span > 0.0 => (s / lo).ln() / span,
            true => 1.0,
        })
        .collect();
    Raster {
        x_edges: xe,
        y_edges: ye,
        values,
        color,
        alpha: 1.0,
    }
}

/// `scipy.stats.gaussian_kde` of the points in log10 space weighted by flows (Scott's
/// bandwidth on the effective number of points), evaluated at the centres of 64×64 cells,
/// scaled by `PowerNorm(0.1)` and cut into 16 bands; the lowest band is not drawn.
pub fn kde(hist: &HistData, points: &[f64], color: Rgb) -> Raster {
    let Some((xmin, xmax, ymin, ymax)) = extent(hist, points) else {
        return empty(color);
    };
    let data: Vec<(f64, f64, f64)> = hist
        .bin_lo
        .iter()
        .zip(points)
        .zip(&hist.flows)
        .filter(|((_, y), w)| **y > 0.0 && y.is_finite() && **w > 0.0)
        .map(|((x, y), w)| (x.log10(), y.log10(), *w))
        .collect();
    let total: f64 = data.iter().map(|d| d.2).sum();
    if data.len() < 2 || total <= 0.0 {
        return empty(color);
    }
    let w: Vec<f64> = data.iter().map(|d| d.2 / total).collect();
    let neff = 1.0 / w.iter().map(|v| v * v).sum::<f64>();
    let factor = neff.powf(-1.0 / 6.0);
    let (mx, my) = data
        .iter()
        .zip(&w)
        .fold((0.0, 0.0), |(a, b), (d, w)| (a + w * d.0, b + w * d.1));
    let fact = 1.0 - w.iter().map(|v| v * v).sum::<f64>();
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for (d, w) in data.iter().zip(&w) {
        let (dx, dy) = (d.0 - mx, d.1 - my);
        sxx += w * dx * dx;
        sxy += w * dx * dy;
        syy += w * dy * dy;
    }
    let f2 = factor * factor / fact;
    let (sxx, sxy, syy) = (sxx * f2, sxy * f2, syy * f2);
    let det = sxx * syy - sxy * sxy;
    if det.is_nan() || det <= 0.0 {
        return empty(color);
    }
    // The inverse covariance.
    let (ixx, ixy, iyy) = (syy / det, -sxy / det, sxx / det);
    let (lx, hx, ly, hy) = (xmin.log10(), xmax.log10(), ymin.log10(), ymax.log10());
    let at = |lo: f64, hi: f64, i: usize| lo + (hi - lo) * i as f64 / (NBINS - 1) as f64;
    let mut z = Vec::with_capacity(NBINS * NBINS);
    for i in 0..NBINS {
        for j in 0..NBINS {
            let (gx, gy) = (at(lx, hx, i), at(ly, hy, j));
            let s: f64 = data
                .iter()
                .zip(&w)
                .map(|(d, w)| {
                    let (dx, dy) = (gx - d.0, gy - d.1);
                    w * (-0.5 * (ixx * dx * dx + 2.0 * ixy * dx * dy + iyy * dy * dy)).exp()
                })
                .sum();
            z.push(s);
        }
    }
    let (zlo, zhi) = z
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    let values = z
        .iter()
        .map(|&v| {
            let norm = if zhi > zlo {
                ((v - zlo) / (zhi - zlo)).powf(0.1)
            } else {
                1.0
            };
            let band = (norm * KDE_LEVELS).floor().min(KDE_LEVELS - 1.0);
            if band < 1.0 {
                f64::NAN
            } else {
                band / (KDE_LEVELS - 1.0)
            }
        })
        .collect();
    // Cells centred on the evaluation points.
    let edges = |lo: f64, hi: f64| -> Vec<f64> {
        let step = (hi - lo) / (NBINS - 1) as f64;
        (0..=NBINS)
            .map(|i| 10f64.powf(lo + step * (i as f64 - 0.5)))
            .collect()
    };
    Raster {
        x_edges: edges(lx, hx),
        y_edges: edges(ly, hy),
        values,
        color,
        alpha: 0.5,
    }
}
