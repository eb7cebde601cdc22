//! The tools that are not a query: each one library call, as the CLI makes it. `hist` of a
//! trace reads it in this library's session (the CLI's `hist`); of any other data (a host
//! DataFrame, a pyarrow table) it reads the Arrow stream. `fit` takes the histogram through its
//! csv_hist text (so the numbers are the ones `flow-models fit` reads), `plot` draws what
//! `flow-models plot` draws, `write_flowbin` writes what `COPY … STORED AS FLOWBIN` writes
//! (there is no FFI file format for a host's COPY).

use crate::capsules::session;
use crate::errors::OrPyErr;
use crate::streams::{ArrowStream, reader_of};
use arrow::array::{RecordBatch, RecordBatchReader};
use arrow::compute::concat_batches;
use arrow::datatypes::SchemaRef;
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::stream::RecordBatchReceiverStreamBuilder;
use datafusion::physical_plan::streaming::PartitionStream;
use datafusion::prelude::DataFrame;
use datafusion_python_util::get_tokio_runtime;
use flow_provider::SessionContextFlowExt;
use flow_provider::sink::{FlowSink, OutputFormat, drain};
use flow_udfs::hist::{HistSpec, SumColumn, XValue, histogram, write_csv_hist};
use flow_udfs::mixture::{
    FitData, FitOptions, Histogram, Initial, InitialCounts, InitialOrMix, ModeArgs, fit as em_fit,
    mixture_from_json, mixture_to_json, parse_counts, save,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyString;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Runs `work` on this library's runtime with the GIL released (the host may need it to produce
/// the batches we read).
fn run<T: Send>(py: Python<'_>, work: impl Future<Output = Result<T>> + Send) -> PyResult<T> {
    py.detach(|| get_tokio_runtime().block_on(work)).or_py()
}

/// Batches of a reader as a one-partition stream (read on a blocking thread: the reader may be
/// the host computing its DataFrame).
struct ReaderPartition {
    schema: SchemaRef,
    reader: Mutex<Option<Box<dyn RecordBatchReader + Send>>>,
}

impl std::fmt::Debug for ReaderPartition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReaderPartition")
    }
}

impl PartitionStream for ReaderPartition {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let reader = self.reader.lock().ok().and_then(|mut r| r.take());
        let mut builder = RecordBatchReceiverStreamBuilder::new(self.schema.clone(), 2);
        let tx = builder.tx();
        builder.spawn_blocking(move || {
            let Some(reader) = reader else {
                return Err(DataFusionError::Execution(
                    "an Arrow stream can be read once".into(),
                ));
            };
            for batch in reader {
                let batch = batch.map_err(DataFusionError::from);
                let failed = batch.is_err();
                if tx.blocking_send(batch).is_err() || failed {
                    break;
                }
            }
            Ok(())
        });
        builder.build()
    }
}

/// The Arrow data `obj` as a DataFrame of this library's session, read once as it streams.
fn frame_of(obj: &Bound<'_, PyAny>) -> PyResult<DataFrame> {
    let reader = reader_of(obj)?;
    let schema = reader.schema();
    let partition = Arc::new(ReaderPartition {
        schema: schema.clone(),
        reader: Mutex::new(Some(reader)),
    });
    let table =
        datafusion::catalog::streaming::StreamingTable::try_new(schema, vec![partition]).or_py()?;
    session().read_table(Arc::new(table)).or_py()
}

/// A trace directory given as a string, or Arrow data.
fn input(source: &Bound<'_, PyAny>) -> PyResult<DataFrame> {
    match source.cast::<PyString>() {
        Ok(path) => session().read_flowbin(&[path.to_str()?]).or_py(),
        Err(_) => frame_of(source),
    }
}

/// The csv_hist histogram of `source` (a trace directory or Arrow data with the flow columns)
/// by `x` in bins of `bits` mantissa bits (`-b`; 0: exact values), summing `columns` too:
/// `flow-models hist -x X -b BITS -c COLUMNS`.
#[pyfunction]
#[pyo3(signature = (source, x, bits, columns))]
pub fn hist(
    py: Python<'_>,
    source: &Bound<'_, PyAny>,
    x: &str,
    bits: u32,
    columns: Vec<String>,
) -> PyResult<ArrowStream> {
    let x = XValue::parse(x).or_py()?;
    let columns = (columns.iter().map(|c| SumColumn::parse(c)))
        .collect::<Result<Vec<_>>>()
        .or_py()?;
    let spec = HistSpec::new(x, bits, columns);
    let df = input(source)?;
    let batch = run(py, histogram(df, &spec, |_| {}))?;
    Ok(ArrowStream::new(batch.schema(), vec![batch]))
}

/// Every batch of Arrow data (a histogram: small), with its schema.
fn read_all(data: &Bound<'_, PyAny>) -> PyResult<(SchemaRef, Vec<RecordBatch>)> {
    let reader = reader_of(data)?;
    let schema = reader.schema();
    let batches = reader.collect::<std::result::Result<Vec<_>, _>>();
    Ok((schema, batches.map_err(crate::errors::py_err_arrow)?))
}

/// A histogram (as [`hist`] returns it) as csv_hist text, byte for byte what `flow-models
/// hist` prints (the rate sums as the original prints them).
#[pyfunction]
pub fn csv_hist(data: &Bound<'_, PyAny>) -> PyResult<String> {
    let (schema, batches) = read_all(data)?;
    let batch = concat_batches(&schema, &batches).map_err(crate::errors::py_err_arrow)?;
    let mut text = Vec::new();
    write_csv_hist(&batch, &mut text).or_py()?;
    String::from_utf8(text).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// A histogram from a csv_hist path or Arrow data (as `hist` returns it), read as `fit` reads
/// its file: through the csv_hist text.
fn histogram_of(source: &Bound<'_, PyAny>) -> PyResult<(Histogram, Option<String>)> {
    if let Ok(path) = source.cast::<PyString>() {
        let path = path.to_str()?;
        let hist = Histogram::from_path(path.as_ref())
            .map_err(|e| PyValueError::new_err(format!("{path}: {e}")))?;
        return Ok((hist, Some(path.to_string())));
    }
    let text = csv_hist(source)?;
    let hist = Histogram::parse(&text).map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok((hist, None))
}

/// The mixture fitted to column `{y}_sum` of a histogram (`flow-models fit -y Y`): `spec` is
/// the component counts (`"U6L4"`: 6 uniform, 4 lognormal; `P` for Pareto) or an initial
/// mixture's JSON. Returns the mixture JSON; with `out_dir`, also writes `{y}.json` and
/// `{y}.mode` there as the CLI does.
#[pyfunction]
#[pyo3(signature = (hist, y, spec, iterations, max_pareto_w = None, out_dir = None))]
pub fn fit(
    py: Python<'_>,
    hist: &Bound<'_, PyAny>,
    y: &str,
    spec: &str,
    iterations: usize,
    max_pareto_w: Option<f64>,
    out_dir: Option<PathBuf>,
) -> PyResult<String> {
    if !["flows", "packets", "octets"].contains(&y) {
        return Err(PyValueError::new_err(format!(
            "fit: y must be flows, packets or octets, not '{y}'"
        )));
    }
    let (histogram, in_file) = histogram_of(hist)?;
    let (init, initial) = match parse_counts(spec) {
        Some(counts) if counts != InitialCounts::default() => {
            (InitialOrMix::Counts(counts), Initial::Counts(counts))
        }
        _ => match mixture_from_json(spec) {
            Ok(mix) => (InitialOrMix::Mixture(mix), Initial::Path("<json>".into())),
            Err(e) => {
                return Err(PyValueError::new_err(format!(
                    "fit: spec '{spec}' is neither component counts like 'U6L4' nor a \
                     mixture's JSON: {e}"
                )));
            }
        },
    };
    let mix = py
        .detach(|| {
            let data = FitData::Histogram {
                hist: &histogram,
                y_value: y,
            };
            let options = FitOptions {
                iterations,
                max_pareto_w,
                progress: None,
            };
            em_fit(data, &init, options)
        })
        .map_err(|e| PyValueError::new_err(format!("fit: {e}")))?;
    if let Some(dir) = out_dir {
        let mode = ModeArgs {
            in_file,
            y_value: y.to_string(),
            max_iter: iterations,
            initial,
            max_pareto_w,
        };
        save(&dir, &mix, &mode).or_py()?;
    }
    mixture_to_json(&mix).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// The figures of `flow-models plot` for a histogram (csv_hist path or Arrow data) and,
/// optionally, a mixture directory (`{flows,packets,octets}.json`): written into `out_dir`;
/// returns their paths. `pdf` and `cdf` are the modes of `-P` and `-C` by name.
#[pyfunction]
#[pyo3(signature = (hist, mixture, x, out_dir, format, single, pdf, cdf, data_out = None))]
#[allow(clippy::too_many_arguments)] // the CLI's flags, one by one
pub fn plot(
    hist: &Bound<'_, PyAny>,
    mixture: Option<PathBuf>,
    x: &str,
    out_dir: PathBuf,
    format: &str,
    single: bool,
    pdf: Vec<String>,
    cdf: Vec<String>,
    data_out: Option<PathBuf>,
) -> PyResult<Vec<String>> {
    use flow_plot::{
        CdfMode, Group, HistData, ImageFormat, PdfMode, PlotOptions, Source, figures, plot_to_dir,
    };
    let modes = |names: &[String]| -> PyResult<_> {
        names
            .iter()
            .map(|n| n.parse::<PdfMode>().map_err(PyValueError::new_err))
            .collect()
    };
    let cdf_modes = (cdf.iter())
        .map(|n| n.parse::<CdfMode>().map_err(PyValueError::new_err))
        .collect::<PyResult<_>>()?;
    let format = match format {
        "png" => ImageFormat::Png,
        "svg" => ImageFormat::Svg,
        _ => return Err(PyValueError::new_err("plot: format is 'png' or 'svg'")),
    };
    let mut sources = vec![match hist.cast::<PyString>() {
        Ok(path) => Source::load(path.to_str()?).or_py()?,
        Err(_) => Source::Histogram {
            label: "histogram".into(),
            data: HistData::from_batches(&read_all(hist)?.1).or_py()?,
        },
    }];
    if let Some(m) = mixture {
        sources.push(Source::load(m).or_py()?);
    }
    let options = PlotOptions {
        x: XValue::parse(x).or_py()?,
        normalize: true,
        pdf_modes: modes(&pdf)?,
        cdf_modes,
    };
    let figs = figures(&[Group::of(sources).or_py()?], &options).or_py()?;
    if let Some(dir) = data_out {
        flow_plot::write_data(&figs, &dir).or_py()?;
    }
    let written = plot_to_dir(&figs, format, single, &out_dir).or_py()?;
    Ok(written.iter().map(|p| p.display().to_string()).collect())
}

/// Writes Arrow data (a DataFrame, a pyarrow table …) as a flow-models binary trace at `path`,
/// atomically (`COPY … STORED AS FLOWBIN`); returns the rows written.
#[pyfunction]
pub fn write_flowbin(py: Python<'_>, data: &Bound<'_, PyAny>, path: PathBuf) -> PyResult<u64> {
    let df = frame_of(data)?;
    run(py, async move {
        let stream = df.execute_stream().await?;
        let sink = FlowSink::create(OutputFormat::Binary, &path, &stream.schema())?;
        drain(stream, sink, |_| {}).await
    })
}
