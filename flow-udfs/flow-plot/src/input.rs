//! What a plot is made of: histograms (csv_hist files or any query's batches with the csv_hist
//! columns) and mixture directories (`flows.json`, `packets.json`, `octets.json`, ...).

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type};
use datafusion::common::{DataFusionError, Result};
use flow_provider::store;
use flow_udfs::mixture::{Mixture, mixture_from_json};
use std::collections::HashMap;
use std::path::Path;

fn err(msg: impl Into<String>) -> DataFusionError {
    DataFusionError::Execution(msg.into())
}

/// A histogram's columns as floats, in `bin_lo` order.
#[derive(Debug, Clone, PartialEq)]
pub struct HistData {
    pub bin_lo: Vec<f64>,
    pub bin_hi: Vec<f64>,
    pub flows: Vec<f64>,
    pub packets: Vec<f64>,
    pub octets: Vec<f64>,
}

/// The columns a plotted histogram needs.
const COLUMNS: [&str; 5] = ["bin_lo", "bin_hi", "flows_sum", "packets_sum", "octets_sum"];

impl HistData {
    /// From batches holding the csv_hist columns (`bin_lo, bin_hi, flows_sum, packets_sum,
    /// octets_sum`; others are ignored) in any row order, e.g. a `flow_hist(...)` query's.
    pub fn from_batches(batches: &[RecordBatch]) -> Result<Self> {
        let mut columns: [Vec<f64>; 5] = Default::default();
        for batch in batches {
            for (name, out) in COLUMNS.iter().zip(columns.iter_mut()) {
                let array = batch.column_by_name(name).ok_or_else(|| {
                    err(format!(
                        "plot: the histogram has no column {name} (csv_hist columns are {})",
                        COLUMNS.join(", ")
                    ))
                })?;
                if !array.data_type().is_numeric() {
                    return Err(err(format!(
                        "plot: column {name} is {}, not a number",
                        array.data_type()
                    )));
                }
                if array.null_count() > 0 {
                    return Err(err(format!("plot: column {name} has NULLs")));
                }
                let floats = cast(array, &DataType::Float64)?;
                out.extend(floats.as_primitive::<Float64Type>().values().iter());
            }
        }
        if columns[0].is_empty() {
            return Err(err("plot: the histogram has no rows"));
        }
        let mut order: Vec<usize> = (0..columns[0].len()).collect();
        order.sort_by(|&a, &b| columns[0][a].total_cmp(&columns[0][b]));
        let [bin_lo, bin_hi, flows, packets, octets] =
            columns.map(|c| order.iter().map(|&i| c[i]).collect::<Vec<f64>>());
        if bin_lo.iter().any(|x| !(x.is_finite() && *x > 0.0)) {
            return Err(err(
                "plot: bin_lo must be positive (the axes are logarithmic)",
            ));
        }
        Ok(Self {
            bin_lo,
            bin_hi,
            flows,
            packets,
            octets,
        })
    }

    /// The rows of a DataFrame with the csv_hist columns (runs it), e.g.
    /// `ctx.sql("SELECT * FROM flow_hist('trace', 'length', 12)")`.
    pub async fn from_dataframe(df: datafusion::dataframe::DataFrame) -> Result<Self> {
        Self::from_batches(&df.collect().await?)
    }

    /// A csv_hist file (as `flow-models hist` and `flow_models.hist` write it).
    pub fn from_csv(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let batch = flow_udfs::summary::read_csv_hist(path)?;
        Self::from_batches(&[batch]).map_err(|e| err(format!("{}: {e}", path.display())))
    }

    /// The column for a y value.
    pub fn column(&self, what: What) -> &[f64] {
        match what {
            What::Flows => &self.flows,
            What::Packets => &self.packets,
            What::Octets => &self.octets,
        }
    }
}

/// The three quantities every histogram counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum What {
    Flows,
    Packets,
    Octets,
}

impl What {
    pub const ALL: [What; 3] = [What::Flows, What::Packets, What::Octets];

    pub fn name(self) -> &'static str {
        match self {
            What::Flows => "flows",
            What::Packets => "packets",
            What::Octets => "octets",
        }
    }
}

/// The mixtures of one directory, by file stem (`flows`, `packets`, `octets`, ...).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MixtureSet {
    pub mixtures: HashMap<String, Mixture>,
}

impl MixtureSet {
    /// Every `*.json` of `dir` (as the original loads a mixture directory).
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        let entries =
            store::dir_entries(dir).map_err(|e| err(format!("{}: {e}", dir.display())))?;
        let mut mixtures = HashMap::new();
        for path in entries {
            if path.extension().is_some_and(|e| e == "json") {
                let text = store::read_to_string(&path)
                    .map_err(|e| err(format!("{}: {e}", path.display())))?;
                let mixture = mixture_from_json(&text)
                    .map_err(|e| err(format!("{}: {e}", path.display())))?;
                let stem = path.file_stem().unwrap_or_default().to_string_lossy();
                mixtures.insert(stem.into_owned(), mixture);
            }
        }
        if mixtures.is_empty() {
            return Err(err(format!(
                "{}: no mixture (*.json) in this directory",
                dir.display()
            )));
        }
        Ok(Self { mixtures })
    }

    pub fn get(&self, what: What) -> Option<&Mixture> {
        self.mixtures.get(what.name())
    }
}

/// One plotted object, with the label its series carry (in `--data-out` and legends).
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    Histogram { label: String, data: HistData },
    Mixture { label: String, set: MixtureSet },
}

impl Source {
    /// A csv_hist file or a mixture directory, labelled by its path as given.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let label = path.display().to_string();
        if store::is_dir(path) {
            Ok(Source::Mixture {
                label,
                set: MixtureSet::from_dir(path)?,
            })
        } else {
            Ok(Source::Histogram {
                label,
                data: HistData::from_csv(path)?,
            })
        }
    }

    pub fn label(&self) -> &str {
        match self {
            Source::Histogram { label, .. } | Source::Mixture { label, .. } => label,
        }
    }
}
