//! The figures of a flow study, as `flow_models.plot` (flow-models 2.2) draws them: the CDF of
//! flows, packets and octets, their PDFs and the averages per flow, from a histogram (a csv_hist
//! file or any query's batches with its columns) and the mixtures fitted to it.
//!
//! ```no_run
//! use flow_plot::{Group, ImageFormat, PlotOptions, Source, figures, render};
//! # fn main() -> datafusion::common::Result<()> {
//! let group = Group::of(vec![Source::load("length.csv")?, Source::load("mixtures/length")?])?;
//! let figs = figures(&[group], &PlotOptions::default())?;
//! let png: Vec<u8> = render(&figs[0], ImageFormat::Png)?; // the CDF, as PNG bytes
//! # Ok(()) }
//! ```
//!
//! [`figures`] computes every series ([`Figure`] is plain data; `--data-out` writes it as
//! CSV), [`render`] draws one figure, [`render_single`] the CDF and the three PDFs in one
//! 2×2 image, [`plot_to_dir`] writes the whole set as the command-line tool does.

mod data_out;
mod density;
mod figures;
mod input;
mod render;
mod series;

pub use data_out::{figure_csv, number, write_data};
pub use figures::{
    CdfMode, Figure, Group, Mark, PdfMode, PlotOptions, Raster, Rgb, Series, Style, figures, grid,
    unit,
};
pub use input::{HistData, MixtureSet, Source, What};
pub use render::{ImageFormat, render, render_single, render_time_series};
pub use series::{LINE_NBINS, line_grid};

use datafusion::common::{DataFusionError, Result};
use std::path::{Path, PathBuf};

/// Draws the plot set into `dir` as `flow_models.plot` names it: `cdf`, `pdf-flows`,
/// `pdf-packets`, `pdf-octets` (with `single`: one `single` image of those four instead),
/// `avg-packets`, `avg-octets` and `avg-packet_size`, each `.png` or `.svg`. Returns the
/// files written.
pub fn plot_to_dir(
    figures: &[Figure],
    format: ImageFormat,
    single: bool,
    dir: &Path,
) -> Result<Vec<PathBuf>> {
    flow_provider::atomic::ensure_dir(dir)?;
    let (cdf_pdf, avg): (Vec<&Figure>, Vec<&Figure>) =
        figures.iter().partition(|f| !f.name.starts_with("avg-"));
    let mut images: Vec<(String, Vec<&Figure>)> = Vec::new();
    if single && cdf_pdf.len() == 4 {
        images.push(("single".into(), cdf_pdf));
    } else {
        images.extend(cdf_pdf.into_iter().map(|f| (f.name.clone(), vec![f])));
    }
    images.extend(avg.into_iter().map(|f| (f.name.clone(), vec![f])));
    // Drawn on all cores (each image is independent), written one by one.
    let drawn: Vec<Result<Vec<u8>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = images
            .iter()
            .map(|(_, figs)| {
                scope.spawn(move || match figs.as_slice() {
                    [one] => render(one, format),
                    several => render_single(several, format),
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(DataFusionError::Execution("plot: drawing failed".into()))
                })
            })
            .collect()
    });
    let mut written = Vec::new();
    for ((name, _), bytes) in images.iter().zip(drawn) {
        let path = dir.join(format!("{name}.{}", format.extension()));
        flow_provider::atomic::write(&path, &bytes?)?;
        written.push(path);
    }
    Ok(written)
}
