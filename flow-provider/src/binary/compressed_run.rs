//! The batches of a run of rows of a trace with compressed projected columns: plain columns
//! mapped as everywhere else, compressed ones decoded straight into Arrow buffers a step at a
//! time on a blocking thread (DataFusion's `spawn_blocking`), and the step's batches sliced
//! from those buffers. A step is a whole zstd frame where frames are known (decoded in one call
//! from the mapped file, no copy), else [`STEP_BYTES`] of the widest column from its decoder;
//! memory holds a step per column, never the column.

use super::compressed::{Codec, ColumnReader, Compression};
use super::dir::{ColumnFile, Location, TraceDir};
use super::mmap::{array_from_buffer, map_file};
use super::source::read_rows;
use crate::store::{Object, block_on};
use arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions, new_null_array};
use arrow::buffer::Buffer;
use arrow::datatypes::SchemaRef;
use datafusion::common::runtime::SpawnedTask;
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::physical_plan::metrics::Count;
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use object_store::ObjectStoreExt;
use std::ops::Range;
use std::sync::Arc;

/// Decompressed bytes of the widest streamed column per step.
const STEP_BYTES: usize = 1 << 20;

/// Where one projected column's values come from.
enum Source {
    /// Not in this trace: NULLs.
    Absent,
    /// A plain file, mapped whole (`None` until the first step; a remote one is fetched a
    /// step at a time).
    Mapped(ColumnFile, Option<Buffer>),
    /// A zstd file of known frames, mapped (a remote one: each frame fetched by a ranged GET);
    /// the frame decoded last and its first row.
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
    /// Whose object stores fetch remote columns.
    runtime: Arc<RuntimeEnv>,
}

/// The batches of rows `rows` of `trace`, columns `schema` (see the module comment).
pub fn compressed_run(
    trace: &TraceDir,
    schema: SchemaRef,
    rows: Range<usize>,
    batch_size: usize,
    counters: RunCounters,
    runtime: Arc<RuntimeEnv>,
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
        runtime,
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

/// The frame of the zstd column `c` holding row `row`: its index, and its first byte in the
/// decompressed column.
fn frame_of(c: &ColumnFile, row: usize) -> Result<(usize, u64)> {
    let z = compression(c)?;
    let byte = (row * c.width()) as u64;
    let mut start = 0u64;
    for (i, f) in z.frames.iter().enumerate() {
        if byte < start + f.len {
            return Ok((i, start));
        }
        start += f.len;
    }
    Err(frame_error(
        c,
        0,
        &"the file holds fewer rows than the trace",
    ))
}

fn frame_error(c: &ColumnFile, at: u64, e: &dyn std::fmt::Display) -> DataFusionError {
    DataFusionError::Execution(format!(
        "flowbin: {} (zstd): cannot decompress the frame at compressed byte {at}: {e}",
        c.location
    ))
}

/// The compressed bytes of frame `i` of `c` (to the next frame, or the file's end): a slice of
/// the map of a local file (mapped on first use into `map`), one ranged GET of a remote one.
fn frame_bytes(
    c: &ColumnFile,
    i: usize,
    map: &mut Option<Buffer>,
    runtime: &RuntimeEnv,
) -> Result<Buffer> {
    let frames = &compression(c)?.frames;
    let start = frames[i].offset;
    let end = frames.get(i + 1).map_or(c.bytes, |f| f.offset).max(start);
    match &c.location {
        Location::Local(path) => {
            let map = match map {
                Some(map) => map,
                None => map.insert(map_file(path)?),
            };
            let end = (end as usize).min(map.len());
            let start = (start as usize).min(end);
            Ok(map.slice_with_length(start, end - start))
        }
        Location::Remote(url) => {
            let object = Object::resolve(runtime, url)?
                .ok_or_else(|| DataFusionError::Internal(format!("{url} is not a URL")))?;
            let (store, key) = (object.store.clone(), object.key.clone());
            let bytes = block_on(async move { store.get_range(&key, start..end).await })?
                .map_err(|e| frame_error(c, start, &e))?;
            Ok(Buffer::from(bytes))
        }
    }
}

/// Decodes the frame of the zstd column `c` holding row `row`: its values and its first row.
fn decode_frame(
    c: &ColumnFile,
    row: usize,
    map: &mut Option<Buffer>,
    runtime: &RuntimeEnv,
) -> Result<(Buffer, usize)> {
    let (i, start) = frame_of(c, row)?;
    let frame = compression(c)?.frames[i];
    let fail = |e: &dyn std::fmt::Display| frame_error(c, frame.offset, e);
    let bytes = frame_bytes(c, i, map, runtime)?;
    let rest = bytes.as_slice();
    // One frame only (a buffer holding several decodes them all).
    let size = zstd::zstd_safe::find_frame_compressed_size(rest)
        .map_err(|e| fail(&zstd::zstd_safe::get_error_name(e)))?;
    let src = &rest[..size.min(rest.len())];
    // Into the spare capacity of a vector (no zeroing of what is overwritten at once).
    let mut out: Vec<u8> = Vec::with_capacity(frame.len as usize);
    zstd::bulk::Decompressor::new()
        .and_then(|mut d| d.decompress_to_buffer(src, &mut out))
        .map_err(|e| fail(&e))?;
    if out.len() as u64 != frame.len {
        let got = out.len();
        return Err(fail(&format!("{got} bytes, {} expected", frame.len)));
    }
    let mut values = Buffer::from_vec(out);
    // Arrow needs the values' alignment; the allocator gives more, but it is not promised.
    if values.as_ptr().align_offset(8) != 0 {
        values = Buffer::from_slice_ref(values.as_slice());
    }
    Ok((values, (start / c.width().max(1) as u64) as usize))
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
                    // (A frame past the end fails when the step decodes it.)
                    if let Ok((i, start)) = frame_of(c, self.next)
                        && let Ok(z) = compression(c)
                    {
                        let end = start + z.frames[i].len;
                        let frame_end = (end / c.width().max(1) as u64) as usize;
                        rows = rows.min(frame_end.saturating_sub(self.next).max(1));
                    }
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
                    self.counters.bytes.add(len * c.width());
                    match (&c.location, map) {
                        (Location::Local(_), Some(map)) => Some((map.clone(), 0)),
                        (Location::Local(path), map) => {
                            Some((map.insert(map_file(path)?).clone(), 0))
                        }
                        (Location::Remote(_), _) => {
                            let rows = row..row + len;
                            let got = block_on(read_rows(&self.runtime, c, rows))??;
                            Some((got.buffer, got.first_row))
                        }
                    }
                }
                Source::Frames(c, map, decoded) => {
                    let covers = |(b, first): &(Buffer, usize)| {
                        *first <= row && row + len <= first + b.len() / c.width().max(1)
                    };
                    if !decoded.as_ref().is_some_and(covers) {
                        let frame = decode_frame(c, row, map, &self.runtime)?;
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
                            let store = match &c.location {
                                Location::Local(_) => None,
                                Location::Remote(url) => Object::resolve(&self.runtime, url)?,
                            };
                            let z = compression(c)?;
                            reader.insert(ColumnReader::open_in(c, z, from, store.as_ref())?)
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
