//! The physical scan of binary traces: a `DataSourceExec` over file groups, one group per
//! partition, whose "files" are runs of rows of a trace (the trace's location with the row
//! range as the file range). The concatenated rows of all traces are split into one contiguous
//! range per partition; each run is read chunk by chunk through the byte source ([`read_rows`]:
//! local files mapped whole, objects in a store fetched by ranged GETs of only the projected
//! columns and only the run's rows, the next chunk fetched while the current one is emitted)
//! as zero-copy slices of the chunks.
//!
//! Being a file scan, it gets DataFusion's projection, limit and statistics handling, its proto
//! encoding of file groups, and a distributed engine's restriction of a task to some of its
//! partitions. Every parameter is plain data (locations, counts, ranges, projection, limit), so
//! a codec ships the node to another process and it re-opens the same files there.

use super::compressed_run::{RunCounters, compressed_run};
use super::dir::{Location, TraceDir};
use super::mmap::array_from_buffer;
use super::source::{ColumnRows, read_rows};
use crate::listing::{FlowSource, OpenerArgs, OpenerFactory};
use arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions, new_null_array};
use arrow::datatypes::SchemaRef;
use datafusion::common::stats::Precision;
use datafusion::common::{Result, Statistics};
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::physical_plan::metrics::{Count, ExecutionPlanMetricsSet, MetricBuilder};
use datafusion::physical_plan::{ExecutionPlan, Partitioning};
use datafusion_datasource::file_groups::FileGroup;
use datafusion_datasource::file_scan_config::{FileScanConfig, FileScanConfigBuilder};
use datafusion_datasource::file_stream::{FileOpenFuture, FileOpener};
use datafusion_datasource::source::DataSourceExec;
use datafusion_datasource::{PartitionedFile, TableSchema};
use futures::{StreamExt, TryStreamExt};
use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

/// Bytes of the widest projected column fetched per request from an object store (local files
/// are mapped whole instead). Big enough that a request's latency is small beside its transfer,
/// small enough that the chunks in flight stay a few tens of MiB.
const REMOTE_CHUNK_BYTES: usize = 8 << 20;
/// Chunks of a run fetched ahead of the one being emitted.
const CHUNKS_AHEAD: usize = 2;

/// The scan of `traces` (whose columns are `schema`, [`super::table::union_schema`]) with
/// DataFusion's `projection` and `limit`, in at most `target_partitions` partitions of
/// consecutive rows. Remote columns are fetched through the object stores of `runtime`.
pub fn scan_plan(
    traces: Arc<Vec<TraceDir>>,
    runtime: Arc<RuntimeEnv>,
    schema: SchemaRef,
    projection: Option<&Vec<usize>>,
    limit: Option<usize>,
    target_partitions: usize,
) -> Result<Arc<dyn ExecutionPlan>> {
    let total: usize = traces.iter().map(|t| t.rows).sum();
    let rows = limit.map_or(total, |l| l.min(total));
    // Tiny scans are not worth a thread each; big ones are split evenly over the cores, unless
    // a compressed column can only be read from its start.
    let partitions = match splittable(&traces, &schema, projection) {
        true => target_partitions.clamp(1, rows.div_ceil(8192).max(1)),
        false => 1,
    };
    // Even shares, each cut moved to the nearest frame start of a compressed column, so that
    // no frame is decoded by two partitions.
    let frames = frame_starts(&traces, &schema, projection);
    let mut cuts: Vec<usize> = (0..=partitions)
        .map(|p| (rows as u128 * p as u128 / partitions as u128) as usize)
        .map(|cut| snap(&frames, cut).min(rows))
        .collect();
    (cuts[0], cuts[partitions]) = (0, rows);
    cuts.dedup();
    let partitions = cuts.len().saturating_sub(1).max(1);
    let at = |p: usize| cuts.get(p).copied().unwrap_or(rows);
    let width: usize = (schema.fields().iter())
        .filter_map(|f| f.data_type().primitive_width())
        .sum();
    let stats = |rows: usize| {
        let mut stats = Statistics::new_unknown(&schema);
        stats.num_rows = Precision::Exact(rows);
        stats.total_byte_size = Precision::Exact(rows * width);
        stats
    };
    let trace_rows = TraceRows::shared(traces, runtime);
    let groups = (0..partitions)
        .map(|p| {
            let (start, end) = (at(p), at(p + 1));
            let runs = trace_rows.runs(start..end);
            FileGroup::new(runs).with_statistics(Arc::new(stats(end - start)))
        })
        .collect();
    let source = FlowSource::new(trace_rows, TableSchema::from(schema.clone()));
    let config = FileScanConfigBuilder::new(ObjectStoreUrl::local_filesystem(), Arc::new(source))
        .with_file_groups(groups)
        .with_statistics(stats(rows))
        .with_limit(limit)
        // Declared, so that partitions keep their own rows: DataFusion otherwise lets a
        // partition take files queued for another (work stealing), and positions, merges and
        // stable sorts rely on partition p holding the p-th range of rows.
        .with_output_partitioning(Some(Partitioning::UnknownPartitioning(partitions)))
        .with_projection_indices(projection.cloned())?
        .build();
    Ok(DataSourceExec::from_data_source(config))
}

/// The names of the columns `projection` picks from `schema` (all without one).
fn projected_names<'a>(schema: &'a SchemaRef, projection: Option<&Vec<usize>>) -> Vec<&'a String> {
    match projection {
        Some(p) => p.iter().map(|&i| schema.field(i).name()).collect(),
        None => schema.fields().iter().map(|f| f.name()).collect(),
    }
}

/// Whether a scan of the `projection` of `traces` can start anywhere: no projected column is
/// compressed without frames to start at.
fn splittable(traces: &[TraceDir], schema: &SchemaRef, projection: Option<&Vec<usize>>) -> bool {
    projected_names(schema, projection).into_iter().all(|name| {
        traces.iter().all(|t| {
            (t.column(name).and_then(|c| c.compression.as_ref())).is_none_or(|z| z.splittable())
        })
    })
}

/// For each trace with a projected compressed column in frames: its rows (counted across
/// `traces`) and the rows where the frames of its first such column start.
type FrameStarts = Vec<(Range<usize>, Vec<usize>)>;

fn frame_starts(
    traces: &[TraceDir],
    schema: &SchemaRef,
    projection: Option<&Vec<usize>>,
) -> FrameStarts {
    let names = projected_names(schema, projection);
    let mut out = Vec::new();
    let mut first = 0;
    for t in traces {
        let framed = (names.iter())
            .filter_map(|n| t.column(n))
            .find_map(|c| Some((c.width().max(1) as u64, c.compression.as_ref()?)))
            .filter(|(_, z)| z.splittable());
        if let Some((width, z)) = framed {
            let mut at = 0u64;
            let starts = (z.frames.iter())
                .map(|f| {
                    let row = first + (at / width) as usize;
                    at += f.len;
                    row
                })
                .collect();
            out.push((first..first + t.rows, starts));
        }
        first += t.rows;
    }
    out
}

/// `cut` moved to the nearest frame start of the trace it falls in (unmoved in a trace without
/// frames).
fn snap(frames: &FrameStarts, cut: usize) -> usize {
    let Some((_, starts)) = frames.iter().find(|(rows, _)| rows.contains(&cut)) else {
        return cut;
    };
    let i = starts.partition_point(|&v| v < cut);
    let below = i.checked_sub(1).map(|j| starts[j]);
    match (below, starts.get(i)) {
        (Some(b), Some(&a)) if a - cut < cut - b => a,
        (Some(b), _) => b,
        (None, Some(&a)) => a,
        (None, None) => cut,
    }
}

/// The file scan and its traces, if `plan` is a binary-trace scan.
fn trace_scan(plan: &dyn ExecutionPlan) -> Option<(&FileScanConfig, &TraceRows)> {
    let exec = plan.downcast_ref::<DataSourceExec>()?;
    let source: &dyn std::any::Any = exec.data_source().as_ref();
    let config = source.downcast_ref::<FileScanConfig>()?;
    let rows = config
        .file_source()
        .downcast_ref::<FlowSource<TraceRows>>()?;
    Some((config, rows.factory()))
}

/// The traces a plan node reads, if it is a binary-trace scan.
pub fn scanned_traces(plan: &dyn ExecutionPlan) -> Option<&[TraceDir]> {
    trace_scan(plan).map(|(_, rows)| rows.traces())
}

/// The place in the concatenated traces of each partition's first row, if `plan` is a
/// binary-trace scan (a partition's rows are consecutive from there). Read from the partitions'
/// runs, so it holds for a scan restricted to some of its partitions too.
pub fn partition_first_rows(plan: &dyn ExecutionPlan) -> Option<Vec<u64>> {
    let (config, rows) = trace_scan(plan)?;
    let starts: Vec<u64> = (rows.traces.iter())
        .scan(0u64, |at, t| {
            let start = *at;
            *at += t.rows as u64;
            Some(start)
        })
        .collect();
    let first = |group: &FileGroup| -> Option<u64> {
        let run = group.iter().next()?;
        let trace = rows.index_of(run.path())?;
        Some(starts[trace] + run.range.as_ref().map_or(0, |r| r.start as u64))
    };
    Some(
        config
            .file_groups
            .iter()
            .map(|g| first(g).unwrap_or(0))
            .collect(),
    )
}

/// What opens the runs of rows of a binary-trace scan: the traces, and the runtime whose
/// object stores fetch remote columns.
#[derive(Clone)]
pub struct TraceRows {
    traces: Arc<Vec<TraceDir>>,
    /// The name of each trace's runs: its location, `#i` appended to a repeated one (a trace
    /// listed twice is read twice, each copy at its own place).
    names: Arc<Vec<object_store::path::Path>>,
    /// The trace of each name.
    index: Arc<HashMap<object_store::path::Path, usize>>,
    runtime: Arc<RuntimeEnv>,
}

impl TraceRows {
    pub fn new(traces: Vec<TraceDir>, runtime: Arc<RuntimeEnv>) -> Self {
        Self::shared(Arc::new(traces), runtime)
    }

    fn shared(traces: Arc<Vec<TraceDir>>, runtime: Arc<RuntimeEnv>) -> Self {
        let mut names: Vec<object_store::path::Path> = Vec::with_capacity(traces.len());
        for (i, trace) in traces.iter().enumerate() {
            let mut name = object_store::path::Path::from(trace.location.to_string());
            if names.contains(&name) {
                name = object_store::path::Path::from(format!("{}#{i}", trace.location));
            }
            names.push(name);
        }
        let index = Arc::new(names.iter().cloned().zip(0..).collect());
        Self {
            traces,
            names: Arc::new(names),
            index,
            runtime,
        }
    }

    pub fn traces(&self) -> &[TraceDir] {
        &self.traces
    }

    /// The trace a run's file name names.
    fn index_of(&self, name: &object_store::path::Path) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// The runs of the global row range `rows`: its part of each trace.
    fn runs(&self, rows: Range<usize>) -> Vec<PartitionedFile> {
        let mut out = Vec::new();
        let mut first = 0;
        for (trace, name) in self.traces.iter().zip(self.names.iter()) {
            let (start, end) = (rows.start.max(first), rows.end.min(first + trace.rows));
            if start < end {
                let bytes: u64 = trace.columns.iter().map(|c| c.bytes).sum();
                let mut file = PartitionedFile::new(name.to_string(), bytes);
                file.object_meta.location = name.clone();
                out.push(file.with_range((start - first) as i64, (end - first) as i64));
            }
            first += trace.rows;
        }
        out
    }
}

impl OpenerFactory for TraceRows {
    fn file_type(&self) -> &'static str {
        "flowbin"
    }

    /// The partitions are the scan's own ranges of rows.
    fn splits_files(&self, _local: bool) -> bool {
        false
    }

    fn opener(&self, scan: OpenerArgs) -> Result<Arc<dyn FileOpener>> {
        Ok(Arc::new(RunOpener {
            rows: self.clone(),
            schema: Arc::new(scan.file_schema.project(scan.columns)?),
            batch_size: scan.batch_size.max(1),
            counters: ScanCounters::new(scan.metrics, scan.partition),
        }))
    }
}

/// Opens runs of rows for one partition.
struct RunOpener {
    rows: TraceRows,
    /// The projected file columns.
    schema: SchemaRef,
    batch_size: usize,
    counters: ScanCounters,
}

impl FileOpener for RunOpener {
    fn open(&self, file: PartitionedFile) -> Result<FileOpenFuture> {
        let Some(trace) = self.rows.index_of(file.path()) else {
            return Err(datafusion::common::DataFusionError::Internal(format!(
                "flowbin: {} is not a trace of this scan",
                file.path()
            )));
        };
        let rows = match &file.range {
            Some(r) => r.start as usize..r.end as usize,
            None => 0..self.rows.traces[trace].rows,
        };
        let dir = &self.rows.traces[trace];
        let compressed = (self.schema.fields().iter()).any(|f| {
            dir.column(f.name())
                .is_some_and(|c| c.compression.is_some())
        });
        if compressed {
            let counters = RunCounters {
                bytes: self.counters.bytes.clone(),
                decompressed: self.counters.decompressed.clone(),
            };
            let runtime = self.rows.runtime.clone();
            let schema = self.schema.clone();
            let batches = compressed_run(dir, schema, rows, self.batch_size, counters, runtime);
            return Ok(Box::pin(futures::future::ready(Ok(batches))));
        }
        let chunks = chunks(dir, &self.schema, rows);
        let (traces, schema, runtime) = (
            self.rows.traces.clone(),
            self.schema.clone(),
            self.rows.runtime.clone(),
        );
        let (counters, batch_size) = (self.counters.clone(), self.batch_size);
        let out = schema.clone();
        let fetch = move |rows: Range<usize>| {
            let (traces, schema) = (traces.clone(), schema.clone());
            let (runtime, counters) = (runtime.clone(), counters.clone());
            async move { fetch(&runtime, &traces[trace], &schema, rows, &counters).await }
        };
        let batches = futures::stream::iter(chunks)
            .map(fetch)
            .buffered(CHUNKS_AHEAD)
            .map_ok(move |fetched| futures::stream::iter(fetched.batches(out.clone(), batch_size)))
            .try_flatten();
        Ok(Box::pin(futures::future::ready(Ok(batches.boxed()))))
    }
}

/// What a partition read, in `EXPLAIN ANALYZE`: bytes of column data (mapped, fetched or
/// decompressed), the ranged GETs sent to an object store, and the bytes decompressed.
#[derive(Clone)]
struct ScanCounters {
    bytes: Count,
    requests: Count,
    decompressed: Count,
}

impl ScanCounters {
    fn new(set: &ExecutionPlanMetricsSet, partition: usize) -> Self {
        let count = |name| MetricBuilder::new(set).counter(name, partition);
        Self {
            bytes: count("bytes_scanned"),
            requests: count("get_requests"),
            decompressed: count("bytes_decompressed"),
        }
    }
}

/// The chunks of rows `rows` of `trace` read at once: a local trace in one (it is mapped
/// whole), a remote one in chunks of [`REMOTE_CHUNK_BYTES`] of its widest projected column.
fn chunks(trace: &TraceDir, schema: &SchemaRef, rows: Range<usize>) -> Vec<Range<usize>> {
    let step = match trace.location {
        Location::Local(_) => rows.len().max(1),
        Location::Remote(_) => {
            let width = (schema.fields().iter())
                .filter_map(|f| trace.column(f.name()).map(|c| c.width()))
                .max()
                .unwrap_or(1);
            (REMOTE_CHUNK_BYTES / width.max(1)).max(1)
        }
    };
    (rows.clone())
        .step_by(step)
        .map(|at| at..(at + step).min(rows.end))
        .collect()
}

/// The projected columns of one chunk (`None`: the field is absent from this trace → NULLs).
struct Fetched {
    rows: Range<usize>,
    columns: Vec<Option<ColumnRows>>,
}

/// Reads the projected columns of `rows` of `trace`, all at once.
async fn fetch(
    runtime: &RuntimeEnv,
    trace: &TraceDir,
    schema: &SchemaRef,
    rows: Range<usize>,
    counters: &ScanCounters,
) -> Result<Fetched> {
    let reads = schema.fields().iter().map(|f| {
        let rows = rows.clone();
        async move {
            match trace.column(f.name()) {
                Some(c) => {
                    if matches!(c.location, Location::Remote(_)) {
                        counters.requests.add(1);
                    }
                    counters.bytes.add((rows.end - rows.start) * c.width());
                    read_rows(runtime, c, rows).await.map(Some)
                }
                None => Ok(None),
            }
        }
    });
    let columns = futures::future::try_join_all(reads).await?;
    Ok(Fetched { rows, columns })
}

impl Fetched {
    /// The chunk as batches of at most `batch_size` rows, slices of the fetched buffers.
    fn batches(
        self,
        schema: SchemaRef,
        batch_size: usize,
    ) -> impl Iterator<Item = Result<RecordBatch>> {
        let starts = (self.rows.start..self.rows.end).step_by(batch_size);
        starts.map(move |row| {
            let len = batch_size.min(self.rows.end - row);
            let arrays = schema
                .fields()
                .iter()
                .zip(&self.columns)
                .map(|(field, column)| match column {
                    Some(c) => {
                        array_from_buffer(&c.buffer, field.data_type(), row - c.first_row, len)
                    }
                    None => Ok(new_null_array(field.data_type(), len)),
                })
                .collect::<Result<Vec<ArrayRef>>>()?;
            let options = RecordBatchOptions::new().with_row_count(Some(len));
            Ok(RecordBatch::try_new_with_options(
                schema.clone(),
                arrays,
                &options,
            )?)
        })
    }
}
