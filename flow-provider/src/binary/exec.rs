//! The physical scan of binary traces: the concatenated rows of all traces are split into one
//! contiguous range per partition; each partition reads its range chunk by chunk through the
//! byte source ([`read_rows`]: local files mapped whole, objects in a store fetched by ranged
//! GETs of only the projected columns and only the partition's rows, a limit included, the next
//! chunk fetched while the current one is emitted) and emits zero-copy slices of the chunks.
//! Every parameter is plain data (locations, counts, projection, limit), so a codec can ship the
//! node to another process and it re-opens the same files there.

use super::dir::{Location, TraceDir};
use super::mmap::array_from_buffer;
use super::source::{ColumnRows, read_rows};
use arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions, new_null_array};
use arrow::datatypes::SchemaRef;
use datafusion::common::stats::Precision;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{Result, Statistics};
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::metrics::{
    Count, ExecutionPlanMetricsSet, MetricBuilder, MetricsSet,
};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
};
use futures::{StreamExt, TryStreamExt};
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

/// Bytes of the widest projected column fetched per request from an object store (local files
/// are mapped whole instead). Big enough that a request's latency is small beside its transfer,
/// small enough that the chunks in flight stay a few tens of MiB.
const REMOTE_CHUNK_BYTES: usize = 8 << 20;
/// Chunks of a partition fetched ahead of the one being emitted.
const CHUNKS_AHEAD: usize = 2;

/// Scan of `traces` producing `schema` (already projected); `columns[i]` is the field name of
/// output column `i`.
#[derive(Debug, Clone)]
pub struct FlowBinExec {
    traces: Arc<Vec<TraceDir>>,
    schema: SchemaRef,
    /// Total rows to read from the start of the concatenated traces (the limit, if any, applied).
    rows: usize,
    limit: Option<usize>,
    partitions: usize,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
}

impl FlowBinExec {
    pub fn new(
        traces: Arc<Vec<TraceDir>>,
        schema: SchemaRef,
        limit: Option<usize>,
        target_partitions: usize,
    ) -> Self {
        let total: usize = traces.iter().map(|t| t.rows).sum();
        let rows = limit.map_or(total, |l| l.min(total));
        // Tiny scans are not worth a thread each; big ones are split evenly over the cores.
        let partitions = target_partitions.clamp(1, rows.div_ceil(8192).max(1));
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(schema.clone()),
            Partitioning::UnknownPartitioning(partitions),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        Self {
            traces,
            schema,
            rows,
            limit,
            partitions,
            properties,
            metrics: ExecutionPlanMetricsSet::new(),
        }
    }

    /// The scan of `traces` giving the columns named `columns`, in that order (what
    /// `FlowBinTable::scan` makes for that projection), from the plain data a codec ships.
    pub fn from_columns(
        traces: Vec<TraceDir>,
        columns: &[String],
        limit: Option<usize>,
        partitions: usize,
    ) -> Result<Self> {
        let schema = super::table::union_schema(&traces)?;
        let indices = (columns.iter())
            .map(|c| schema.index_of(c))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let schema = Arc::new(schema.project(&indices)?);
        Ok(Self::new(Arc::new(traces), schema, limit, partitions))
    }

    pub fn traces(&self) -> &[TraceDir] {
        &self.traces
    }

    /// The limit pushed into the scan, if any.
    pub fn limit(&self) -> Option<usize> {
        self.limit
    }

    /// The number of partitions (`FlowBinExec::new` with it as the target gives the same).
    pub fn partitions(&self) -> usize {
        self.partitions
    }

    /// The half-open global row range of `partition`.
    fn range(&self, partition: usize) -> (usize, usize) {
        let at = |p: usize| (self.rows as u128 * p as u128 / self.partitions as u128) as usize;
        (at(partition), at(partition + 1))
    }
}

impl DisplayAs for FlowBinExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let cols: Vec<_> = self
            .schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        write!(
            f,
            "FlowBinExec: traces={}, rows={}, partitions={}, projection=[{}]",
            self.traces.len(),
            self.rows,
            self.partitions,
            cols.join(", ")
        )
    }
}

impl ExecutionPlan for FlowBinExec {
    fn name(&self) -> &str {
        "FlowBinExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn with_new_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let (start, end) = self.range(partition);
        let chunks = chunks(&self.traces, &self.schema, start..end);
        let counters = ScanCounters::new(&self.metrics, partition);
        let (traces, schema) = (self.traces.clone(), self.schema.clone());
        let batch_size = context.session_config().batch_size().max(1);
        let runtime = context.runtime_env();
        let fetch = move |chunk: Chunk| {
            let (traces, schema) = (traces.clone(), schema.clone());
            let (runtime, counters) = (runtime.clone(), counters.clone());
            async move {
                fetch(
                    &runtime,
                    &traces[chunk.trace],
                    &schema,
                    chunk.rows,
                    &counters,
                )
                .await
            }
        };
        let schema = self.schema.clone();
        let batches = futures::stream::iter(chunks)
            .map(fetch)
            .buffered(CHUNKS_AHEAD)
            .map_ok(move |fetched| {
                futures::stream::iter(fetched.batches(schema.clone(), batch_size))
            })
            .try_flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.schema.clone(),
            batches,
        )))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }

    fn partition_statistics(&self, partition: Option<usize>) -> Result<Arc<Statistics>> {
        let rows = match partition {
            Some(p) => {
                let (s, e) = self.range(p);
                e - s
            }
            None => self.rows,
        };
        let mut stats = Statistics::new_unknown(&self.schema);
        stats.num_rows = Precision::Exact(rows);
        let width: usize = self
            .schema
            .fields()
            .iter()
            .filter_map(|f| f.data_type().primitive_width())
            .sum();
        stats.total_byte_size = Precision::Exact(rows * width);
        Ok(Arc::new(stats))
    }

    fn fetch(&self) -> Option<usize> {
        self.limit
    }

    fn with_fetch(&self, limit: Option<usize>) -> Option<Arc<dyn ExecutionPlan>> {
        let limit = match (limit, self.limit) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Some(Arc::new(FlowBinExec::new(
            self.traces.clone(),
            self.schema.clone(),
            limit,
            self.partitions,
        )))
    }
}

/// What a partition read, in `EXPLAIN ANALYZE`: bytes of column data (mapped or fetched) and
/// the ranged GETs sent to an object store.
#[derive(Clone)]
struct ScanCounters {
    bytes: Count,
    requests: Count,
}

impl ScanCounters {
    fn new(set: &ExecutionPlanMetricsSet, partition: usize) -> Self {
        let count = |name| MetricBuilder::new(set).counter(name, partition);
        Self {
            bytes: count("bytes_scanned"),
            requests: count("get_requests"),
        }
    }
}

/// A run of rows of one trace (rows counted within the trace) read at once.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Chunk {
    trace: usize,
    rows: Range<usize>,
}

/// The chunks of the global row range `rows`: its part of each trace, a local trace in one
/// chunk (it is mapped whole), a remote one in chunks of [`REMOTE_CHUNK_BYTES`] of its widest
/// projected column.
fn chunks(traces: &[TraceDir], schema: &SchemaRef, rows: Range<usize>) -> Vec<Chunk> {
    let mut out = Vec::new();
    let mut first = 0;
    for (index, trace) in traces.iter().enumerate() {
        let (start, end) = (rows.start.max(first), rows.end.min(first + trace.rows));
        first += trace.rows;
        if start >= end {
            continue;
        }
        let step = match trace.location {
            Location::Local(_) => end - start,
            Location::Remote(_) => {
                let width = schema
                    .fields()
                    .iter()
                    .filter_map(|f| trace.column(f.name()).map(|c| c.width()))
                    .max()
                    .unwrap_or(1);
                (REMOTE_CHUNK_BYTES / width.max(1)).max(1)
            }
        };
        let base = first - trace.rows;
        let mut at = start;
        while at < end {
            let next = (at + step).min(end);
            out.push(Chunk {
                trace: index,
                rows: at - base..next - base,
            });
            at = next;
        }
    }
    out
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
