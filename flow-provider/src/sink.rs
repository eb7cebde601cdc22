//! Output sinks shared by the command-line tools and embedding code: a stream of batches goes
//! into a binary trace, a csv_flow file (or any writer) or a Parquet file, each file committed
//! atomically (nothing appears at the path unless every batch was written).

use crate::atomic::AtomicFile;
use crate::binary::compress::CompressOptions;
use crate::binary::{FlowBinWriter, RemoteTraceWriter};
use crate::store::Object;
use crate::text::write_csv_flow;
use arrow::array::RecordBatch;
use arrow::datatypes::Schema;
use datafusion::common::runtime::SpawnedTask;
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::parquet::arrow::ArrowWriter;
use futures::StreamExt;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Formats a flow stream can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Binary,
    /// A binary trace whose column files are compressed.
    CompressedBinary(CompressOptions),
    CsvFlow,
    Parquet,
}

/// A flow output: a file or trace at a path, or csv_flow text into any writer.
pub enum FlowSink {
    Binary(FlowBinWriter),
    RemoteBinary(RemoteTraceWriter),
    CsvFlowFile(BufWriter<AtomicFile>),
    CsvFlowWriter(BufWriter<Box<dyn Write + Send>>),
    Parquet(Box<ArrowWriter<AtomicFile>>),
}

fn err(msg: String) -> DataFusionError {
    DataFusionError::Execution(msg)
}

impl FlowSink {
    /// A new output of `format` at `path` (a directory for a binary trace), for rows of
    /// `schema`; it appears there when [`FlowSink::finish`] completes. A path that is an
    /// object-store URL is written there (the store made from the environment, see
    /// [`crate::store`]; a trace as [`RemoteTraceWriter`] describes).
    pub fn create(format: OutputFormat, path: impl AsRef<Path>, schema: &Schema) -> Result<Self> {
        let path = path.as_ref();
        let remote = Object::from_env(path)?;
        Ok(match format {
            OutputFormat::Binary => match remote {
                Some(object) => {
                    FlowSink::RemoteBinary(RemoteTraceWriter::create(object, schema, None)?)
                }
                None => FlowSink::Binary(FlowBinWriter::create(path, schema)?),
            },
            OutputFormat::CompressedBinary(options) => match remote {
                Some(object) => FlowSink::RemoteBinary(RemoteTraceWriter::create(
                    object,
                    schema,
                    Some(options),
                )?),
                None => FlowSink::Binary(
                    FlowBinWriter::create(path, schema)?.with_compression(Some(options)),
                ),
            },
            OutputFormat::CsvFlow => {
                FlowSink::CsvFlowFile(BufWriter::with_capacity(1 << 20, AtomicFile::create(path)?))
            }
            OutputFormat::Parquet => {
                let file = AtomicFile::create(path)?;
                FlowSink::Parquet(Box::new(ArrowWriter::try_new(
                    file,
                    schema.clone().into(),
                    None,
                )?))
            }
        })
    }

    /// csv_flow text into `out` (standard output, a pipe, a buffer).
    pub fn csv_flow_to(out: Box<dyn Write + Send>) -> Self {
        FlowSink::CsvFlowWriter(BufWriter::with_capacity(1 << 20, out))
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        match self {
            FlowSink::Binary(w) => w.write(batch),
            FlowSink::RemoteBinary(w) => w.write(batch),
            FlowSink::CsvFlowFile(w) => write_csv_flow(batch, w),
            FlowSink::CsvFlowWriter(w) => write_csv_flow(batch, w),
            FlowSink::Parquet(w) => Ok(w.write(batch)?),
        }
    }

    /// Completes the output (flush, sync, rename into place).
    pub fn finish(self) -> Result<()> {
        match self {
            FlowSink::Binary(w) => w.finish().map(|_| ()),
            FlowSink::RemoteBinary(w) => w.finish().map(|_| ()),
            // The file's errors name it already.
            FlowSink::CsvFlowFile(w) => w
                .into_inner()
                .map_err(|e| err(e.into_error().to_string()))?
                .commit(),
            FlowSink::CsvFlowWriter(mut w) => {
                w.flush().map_err(|e| err(format!("writing csv_flow: {e}")))
            }
            FlowSink::Parquet(w) => w.into_inner()?.commit(),
        }
    }
}

/// Drains `stream` into a new `format` output at `path`, calling `progress` with each batch's
/// row count. Nothing appears at `path` unless every batch was written.
pub async fn write_stream(
    stream: SendableRecordBatchStream,
    format: OutputFormat,
    path: impl AsRef<Path>,
    progress: impl FnMut(usize),
) -> Result<u64> {
    let sink = FlowSink::create(format, path, &stream.schema())?;
    drain(stream, sink, progress).await
}

/// Drains `stream` into `sink` and finishes it; returns the number of rows the stream brought.
/// The writes and the final sync run on a blocking thread fed through a channel of two batches
/// (as DataFusion's `StreamWrite` does), so no async thread waits for the disk. The sink is
/// finished only after the stream's last batch: a failed stream leaves no output.
pub async fn drain(
    mut stream: SendableRecordBatchStream,
    mut sink: FlowSink,
    mut progress: impl FnMut(usize),
) -> Result<u64> {
    // `None`: the stream is complete, finish the sink. A closed channel without it: abandon.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Option<RecordBatch>>(2);
    let writer = SpawnedTask::spawn_blocking(move || {
        while let Some(message) = rx.blocking_recv() {
            match message {
                Some(batch) => sink.write(&batch)?,
                None => return sink.finish(),
            }
        }
        Ok(())
    });
    let mut rows = 0u64;
    let read = async {
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            let n = batch.num_rows();
            if tx.send(Some(batch)).await.is_err() {
                return Ok(()); // the writer stopped on an error, reported below
            }
            rows += n as u64;
            progress(n);
        }
        let _ = tx.send(None).await;
        Ok::<(), DataFusionError>(())
    }
    .await;
    drop(tx);
    let written = writer
        .join_unwind()
        .await
        .map_err(|e| DataFusionError::ExecutionJoin(Box::new(e)))?;
    read?;
    written?;
    Ok(rows)
}
