//! Summary tables of a csv_hist histogram (the original's `flow_models.summary`): totals and
//! averages ([`Stat`]), and the share of flows, packets and octets in flows up to 2^k
//! ([`CdfRow`]), rendered as the original's TeX tables, CSV or Markdown ([`render`]). The SQL
//! faces are `flow_summary` and `flow_cdf_summary` ([`SummaryFunc`], [`CdfSummaryFunc`]).
//!
//! ```no_run
//! use flow_udfs::summary::{Format, read_csv_hist, render, summarize};
//!
//! # fn f() -> datafusion::common::Result<()> {
//! let hist = read_csv_hist("histograms/all/length.csv")?;
//! let summary = summarize(&[hist], None)?; // x detected: smallest bin_lo 1 = length
//! print!("{}", render(&summary, Format::Tex));
//! # Ok(()) }
//! ```

mod cdf;
mod columns;
mod render;
mod stats;
mod table;

pub use cdf::{CdfRow, cdf_points, detect_x};
pub use render::{Format, render};
pub use stats::{Stat, StatValue};
pub use table::{
    CdfSummaryFunc, SummaryExec, SummaryFunc, SummaryInput, SummaryKind, SummaryTable,
};

use cdf::cdf_table;
use stats::stats;

use crate::hist::XValue;
use arrow::array::RecordBatch;
use columns::HistColumns;
use datafusion::common::Result;

/// What [`render`] prints: the statistics and the CDF table of one histogram.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Totals and averages, in the original's order.
    pub stats: Vec<Stat>,
    /// The x value of the histogram (given, or detected from its smallest `bin_lo`).
    pub x: XValue,
    /// One row per point of [`cdf_points`].
    pub cdf: Vec<CdfRow>,
}

/// The summary of a histogram given as batches with the csv_hist columns (`bin_lo`,
/// `flows_sum`, `packets_sum`, `octets_sum`, optionally `duration_sum`, `rate_sum`, …; other
/// columns are ignored), in any row order. `x` = `None` detects length or size as the original
/// does (smallest `bin_lo` 1 or 64).
pub fn summarize(batches: &[RecordBatch], x: Option<XValue>) -> Result<Summary> {
    let hist = HistColumns::try_new(batches)?;
    let x = match x {
        Some(x) => x,
        None => detect_x(&hist.x)?,
    };
    Ok(Summary {
        stats: stats(&hist),
        x,
        cdf: cdf_table(&hist, x),
    })
}

/// Reads a csv_hist file into one batch, typed as pandas types it (a column is Int64 when every
/// cell is an integer, else Float64); `*_ssq` columns are dropped as the original drops them.
pub fn read_csv_hist(path: impl AsRef<std::path::Path>) -> Result<RecordBatch> {
    columns::read_csv_hist(path.as_ref())
}

/// The summary of the csv_hist file at `path` as text in `format` ([`read_csv_hist`],
/// [`summarize`], [`render`] in one call); errors name the file.
pub fn summarize_csv_hist(
    path: impl AsRef<std::path::Path>,
    x: Option<XValue>,
    format: Format,
) -> Result<String> {
    let path = path.as_ref();
    let batch = read_csv_hist(path)?;
    let summary = summarize(&[batch], x).map_err(|e| {
        datafusion::common::DataFusionError::Execution(format!("{}: {e}", path.display()))
    })?;
    Ok(render(&summary, format))
}
