//! Output sinks shared by the command-line tools and embedding code: a stream of batches goes
//! into a binary trace, a csv_flow file (or stdout) or a Parquet file, each committed atomically.

use crate::atomic::AtomicFile;
use crate::binary::FlowBinWriter;
use crate::text::write_csv_flow;
use arrow::array::RecordBatch;
use arrow::datatypes::Schema;
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::parquet::arrow::ArrowWriter;
use futures::StreamExt;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// Formats a flow stream can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Binary,
    CsvFlow,
    Parquet,
}

/// Where `-O` points: a path, or standard output (`-`).
pub enum FlowSink {
    Binary(FlowBinWriter),
    CsvFlowFile(BufWriter<AtomicFile>),
    CsvFlowStdout(BufWriter<Stdout>),
    Parquet(Box<ArrowWriter<AtomicFile>>),
}

static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Standard output for results. A write refused because the reader went away (`… | head`)
/// is remembered, so that a command can end quietly for that reason and no other: a broken
/// pipe anywhere else (a FIFO given as an output file) stays an error.
pub struct Stdout;

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        closed_on_epipe(std::io::stdout().write(buf))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        closed_on_epipe(std::io::stdout().flush())
    }
}

fn closed_on_epipe<T>(r: std::io::Result<T>) -> std::io::Result<T> {
    if let Err(e) = &r
        && e.kind() == std::io::ErrorKind::BrokenPipe
    {
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
    }
    r
}

/// Whether a write to [`Stdout`] found its reader gone.
pub fn stdout_closed() -> bool {
    STDOUT_CLOSED.load(Ordering::Relaxed)
}

fn err(msg: String) -> DataFusionError {
    DataFusionError::Execution(msg)
}

impl FlowSink {
    pub fn create(format: OutputFormat, output: &str, schema: &Schema) -> Result<Self> {
        let to_stdout = output == "-";
        Ok(match (format, to_stdout) {
            (OutputFormat::CsvFlow, true) => {
                FlowSink::CsvFlowStdout(BufWriter::with_capacity(1 << 20, Stdout))
            }
            (_, true) => {
                return Err(err(format!(
                    "{format:?} output cannot go to standard output: give a path with -O"
                )));
            }
            (OutputFormat::Binary, false) => {
                FlowSink::Binary(FlowBinWriter::create(Path::new(output), schema)?)
            }
            (OutputFormat::CsvFlow, false) => FlowSink::CsvFlowFile(BufWriter::with_capacity(
                1 << 20,
                AtomicFile::create(Path::new(output))?,
            )),
            (OutputFormat::Parquet, false) => {
                let file = AtomicFile::create(Path::new(output))?;
                FlowSink::Parquet(Box::new(ArrowWriter::try_new(
                    file,
                    schema.clone().into(),
                    None,
                )?))
            }
        })
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        match self {
            FlowSink::Binary(w) => w.write(batch),
            FlowSink::CsvFlowFile(w) => write_csv_flow(batch, w),
            FlowSink::CsvFlowStdout(w) => write_csv_flow(batch, w),
            FlowSink::Parquet(w) => Ok(w.write(batch)?),
        }
    }

    /// Completes the output (flush, sync, rename into place).
    pub fn finish(self) -> Result<()> {
        match self {
            FlowSink::Binary(w) => w.finish().map(|_| ()),
            // The file's errors name it already.
            FlowSink::CsvFlowFile(w) => w
                .into_inner()
                .map_err(|e| err(e.into_error().to_string()))?
                .commit(),
            FlowSink::CsvFlowStdout(mut w) => w
                .flush()
                .map_err(|e| err(format!("writing standard output: {e}"))),
            FlowSink::Parquet(w) => w.into_inner()?.commit(),
        }
    }
}

/// Drains `stream` into a new sink at `output`, calling `progress` with each batch's row count.
/// Nothing appears at `output` unless every batch was written.
pub async fn write_stream(
    stream: SendableRecordBatchStream,
    format: OutputFormat,
    output: &str,
    progress: impl FnMut(usize),
) -> Result<u64> {
    let sink = FlowSink::create(format, output, &stream.schema())?;
    drain(stream, sink, progress).await
}

/// Drains `stream` into `sink` and finishes it; returns the number of rows the stream brought.
pub async fn drain(
    mut stream: SendableRecordBatchStream,
    mut sink: FlowSink,
    mut progress: impl FnMut(usize),
) -> Result<u64> {
    let mut rows = 0u64;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        sink.write(&batch)?;
        rows += batch.num_rows() as u64;
        progress(batch.num_rows());
    }
    sink.finish()?;
    Ok(rows)
}
