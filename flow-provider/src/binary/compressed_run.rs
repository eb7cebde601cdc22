//! The batches of a run of rows of a trace with compressed projected columns: plain columns
//! mapped as everywhere else, compressed ones decoded straight into Arrow buffers a step at a
//! time on a blocking thread (DataFusion's `spawn_blocking`), and the step's batches sliced
//! from those buffers. A step is a whole zstd frame where frames are known (decoded in one call
//! from the mapped file, no copy), else [`STEP_BYTES`] of the widest column from its decoder;
//! memory holds a step per column, never the column.

use super::compressed::{Codec, ColumnReader, Compression};
use super::dir::{ColumnFile, TraceDir};
use super::mmap::{array_from_buffer, map_file};
use arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions, new_null_array};
use arrow::buffer::Buffer;
use arrow::datatypes::SchemaRef;
use datafusion::common::runtime::SpawnedTask;
use datafusion::common::{DataFusionError, Result};
use datafusion::physical_plan::metrics::Count;
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use std::ops::Range;

/// Decompressed bytes of the widest streamed column per step.
const STEP_BYTES: usize = 1 << 20;

/// Where one projected column's values come from.
enum Source {
    /// Not in this trace: NULLs.
    Absent,
    /// A plain file, mapped whole (`None` until the first step).
    Mapped(ColumnFile, Option<Buffer>),
    /// A zstd file of known frames, mapped; the frame decoded last and its first row.
    /// (Frames of the other codecs are streamed from the frame holding the run's first row.)
    Frames(ColumnFile, Option<Buffer>, Option<(Buffer, usize)>),
    /// A compressed file read by its decoder from the run's first row on.
    Stream(ColumnFile, Option<ColumnReader>),
}

/// What the scan counts: bytes of column values read, bytes decompressed.
#[derive(Clone)]
pub struct RunCounters {
    pub bytes: Count,
    pub decompressed: Count,
}

/// A run being read.
struct Run {
    schema: SchemaRef,
    sources: Vec<Source>,
    next: usize,
    end: usize,
    /// Rows of the whole trace: a run that ends there checks that streamed columns end.
    trace_rows: usize,
    batch_size: usize,
    counters: RunCounters,
}

/// The batches of rows `rows` of `trace`, columns `schema` (see the module comment).
pub fn compressed_run(
    trace: &TraceDir,
    schema: SchemaRef,
    rows: Range<usize>,
    batch_size: usize,
    counters: RunCounters,
) -> BoxStream<'static, Result<RecordBatch>> {
    let sources = (schema.fields().iter())
        .map(|f| match trace.column(f.name()) {
            None => Source::Absent,
            Some(c) => match &c.compression {
                None => Source::Mapped(c.clone(), None),
                Some(z) if z.codec == Codec::Zstd && z.splittable() => {
                    Source::Frames(c.clone(), None, None)
                }
                Some(_) => Source::Stream(c.clone(), None),
            },
        })
        .collect();
    let run = Run {
        schema,
        sources,
        next: rows.start,
        end: rows.end,
        trace_rows: trace.rows,
        batch_size: batch_size.max(1),
        counters,
    };
    let steps = stream::try_unfold(run, |run| async move {
        if run.next >= run.end {
            return Ok(None);
        }
        let task = SpawnedTask::spawn_blocking(move || {
            let mut run = run;
            let batches = run.step();
            (run, batches)
        });
        let (run, batches) = task
            .join_unwind()
            .await
            .map_err(|e| DataFusionError::ExecutionJoin(Box::new(e)))?;
        let batches = stream::iter(batches?.into_iter().map(Ok::<_, DataFusionError>));
        Ok::<_, DataFusionError>(Some((batches, run)))
    });
    steps.try_flatten().boxed()
}

fn compression(c: &ColumnFile) -> Result<&Compression> {
    (c.compression.as_ref())
        .ok_or_else(|| DataFusionError::Internal(format!("{} is plain", c.location)))
}

/// Decodes the frame of the zstd column `c` (mapped as `data`) holding row `row`: its values
/// and its first row.
fn decode_frame(c: &ColumnFile, data: &Buffer, row: usize) -> Result<(Buffer, usize)> {
    let z = compression(c)?;
    let width = c.width() as u64;
    let byte = row as u64 * width;
    let mut start = 0u64;
    let frame = z.frames.iter().find(|f| {
        let holds = byte < start + f.len;
        if !holds {
            start += f.len;
        }
        holds
    });
    let fail = |at: u64, e: &dyn std::fmt::Display| {
        DataFusionError::Execution(format!(
            "flowbin: {} (zstd): cannot decompress the frame at compressed byte {at}: {e}",
            c.location
        ))
    };
    let Some(frame) = frame else {
        return Err(fail(
            data.len() as u64,
            &"the file holds fewer rows than the trace",
        ));
    };
    let rest = data.as_slice().get(frame.offset as usize..).unwrap_or(&[]);
    // One frame only (a buffer holding several decodes them all).
    let size = zstd::zstd_safe::find_frame_compressed_size(rest)
        .map_err(|e| fail(frame.offset, &zstd::zstd_safe::get_error_name(e)))?;
    let src = &rest[..size.min(rest.len())];
    // Into the spare capacity of a vector (no zeroing of what is overwritten at once).
    let mut out: Vec<u8> = Vec::with_capacity(frame.len as usize);
    zstd::bulk::Decompressor::new()
        .and_then(|mut d| d.decompress_to_buffer(src, &mut out))
        .map_err(|e| fail(frame.offset, &e))?;
    if out.len() as u64 != frame.len {
        let got = out.len();
        return Err(fail(
            frame.offset,
            &format!("{got} bytes, {} expected", frame.len),
        ));
    }
    let mut values = Buffer::from_vec(out);
    // Arrow needs the values' alignment; the allocator gives more, but it is not promised.
    if values.as_ptr().align_offset(8) != 0 {
        values = Buffer::from_slice_ref(values.as_slice());
    }
    Ok((values, (start / width) as usize))
}

impl Run {
    /// The rows of the next step: to the end of the decoded or next zstd frame of every framed
    /// column, at most [`STEP_BYTES`] of the widest streamed column.
    fn step_rows(&self) -> usize {
        let mut rows = self.end - self.next;
        for source in &self.sources {
            match source {
                Source::Stream(c, _) => rows = rows.min((STEP_BYTES / c.width().max(1)).max(1)),
                Source::Frames(c, _, _) => {
                    let byte = (self.next * c.width()) as u64;
                    let mut end = 0u64;
                    for f in c.compression.iter().flat_map(|z| &z.frames) {
                        end += f.len;
                        if end > byte {
                            break;
                        }
                    }
                    let frame_end = (end / c.width().max(1) as u64) as usize;
                    rows = rows.min(frame_end.saturating_sub(self.next).max(1));
                }
                _ => {}
            }
        }
        rows
    }

    /// Reads the next step's rows of every column and slices them into batches.
    fn step(&mut self) -> Result<Vec<RecordBatch>> {
        let (row, len) = (self.next, self.step_rows());
        let last = row + len == self.trace_rows;
        // Each column's buffer and the row its first value is.
        let mut columns: Vec<Option<(Buffer, usize)>> = Vec::with_capacity(self.sources.len());
        for source in &mut self.sources {
            columns.push(match source {
                Source::Absent => None,
                Source::Mapped(c, map) => {
                    let map = match map {
                        Some(map) => map,
                        None => map.insert(map_file(c.location.local("flowbin")?)?),
                    };
                    self.counters.bytes.add(len * c.width());
                    Some((map.clone(), 0))
                }
                Source::Frames(c, map, decoded) => {
                    let map = match map {
                        Some(map) => map,
                        None => map.insert(map_file(c.location.local("flowbin")?)?),
                    };
                    let covers = |(b, first): &(Buffer, usize)| {
                        *first <= row && row + len <= first + b.len() / c.width().max(1)
                    };
                    if !decoded.as_ref().is_some_and(covers) {
                        let frame = decode_frame(c, map, row)?;
                        self.counters.decompressed.add(frame.0.len());
                        *decoded = Some(frame);
                    }
                    self.counters.bytes.add(len * c.width());
                    decoded.clone()
                }
                Source::Stream(c, reader) => {
                    let reader = match reader {
                        Some(reader) => reader,
                        None => {
                            let from = (row * c.width()) as u64;
                            reader.insert(ColumnReader::open(c, compression(c)?, from)?)
                        }
                    };
                    let bytes = len * c.width();
                    let buffer = reader.read_buffer(bytes)?;
                    if last {
                        reader.expect_end()?;
                    }
                    self.counters.bytes.add(bytes);
                    self.counters.decompressed.add(bytes);
                    Some((buffer, row))
                }
            });
        }
        self.next += len;
        let options = |n| RecordBatchOptions::new().with_row_count(Some(n));
        (row..row + len)
            .step_by(self.batch_size)
            .map(|at| {
                let n = self.batch_size.min(row + len - at);
                let arrays = (self.schema.fields().iter().zip(&columns))
                    .map(|(field, column)| match column {
                        Some((buffer, first)) => {
                            array_from_buffer(buffer, field.data_type(), at - first, n)
                        }
                        None => Ok(new_null_array(field.data_type(), n)),
                    })
                    .collect::<Result<Vec<ArrayRef>>>()?;
                Ok(RecordBatch::try_new_with_options(
                    self.schema.clone(),
                    arrays,
                    &options(n),
                )?)
            })
            .collect()
    }
}
