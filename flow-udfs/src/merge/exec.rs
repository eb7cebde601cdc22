//! `MergeExec`, the physical merge operator. Two ways to feed it, both streaming:
//! - `Ordered`: the input is known to be in (first, first_ms) order with its partitions being
//!   consecutive row ranges (a time-ordered flowbin scan). Each output partition reads all input
//!   partitions in order and keeps the keys that hash to it: one pass, no shuffle, no sort.
//! - `Partitioned`: anything else. The operator requires its input hash-partitioned by key and
//!   sorted by (first, first_ms, row position) within each partition, and DataFusion plans the
//!   repartition and the (spilling) sort.

use super::MergeParams;
use super::metrics::MergeMetrics;
use super::state::{Flow, Key, Merger, partition};
use crate::row_index::ROW_COLUMN;
use arrow::array::{Array, ArrayRef, AsArray, PrimitiveArray, RecordBatch};
use arrow::datatypes::{
    ArrowPrimitiveType, SchemaRef, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use datafusion::arrow::compute::SortOptions;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::expressions::col;
use datafusion::physical_expr::{
    LexRequirement, OrderingRequirements, PhysicalExpr, PhysicalSortRequirement,
};
use datafusion::physical_plan::execution_plan::EmissionType;
use datafusion::physical_plan::metrics::{ExecutionPlanMetricsSet, MetricsSet};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, Distribution, ExecutionPlan, PlanProperties,
};
use flow_provider::fields::{KEY_FIELDS, STANDARD_FIELDS, standard_schema};
use futures::StreamExt;
use std::fmt;
use std::sync::Arc;

/// How the operator's input is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Mode {
    /// In (first, first_ms) order, partitions being consecutive row ranges; `partitions`
    /// output partitions, each taking the keys that hash to it.
    Ordered { partitions: usize },
    /// Hash-partitioned by key and sorted by (first, first_ms, position) in each partition
    /// (required of DataFusion's planner, or built so by [`super::TraceMergeExec`]).
    Partitioned,
}

/// The merge of an input laid out as its [`Mode`] says. Its metrics are the merge's counters
/// (`read`, `merged`, `overlapping`, `written`, ...); each partition checks the conservation
/// laws when its input ends and fails if one is broken.
#[derive(Debug)]
pub struct MergeExec {
    input: Arc<dyn ExecutionPlan>,
    mode: Mode,
    params: MergeParams,
    metrics: ExecutionPlanMetricsSet,
    /// Input column index of each standard field, in canonical order.
    columns: [usize; 21],
    properties: Arc<PlanProperties>,
}

/// The input column of each of the 21 standard fields, checking names and types.
fn standard_columns(schema: &SchemaRef) -> Result<[usize; 21]> {
    let expected = standard_schema();
    let mut columns = [0; 21];
    for (i, (name, _)) in STANDARD_FIELDS.iter().enumerate() {
        let index = schema.index_of(name).map_err(|_| {
            DataFusionError::Plan(format!("merge: the input has no column '{name}'"))
        })?;
        let (got, want) = (
            schema.field(index).data_type(),
            expected.field(i).data_type(),
        );
        if got != want {
            return Err(DataFusionError::Plan(format!(
                "merge: column '{name}' is {got}, expected {want} (CAST it)"
            )));
        }
        columns[i] = index;
    }
    Ok(columns)
}

impl MergeExec {
    pub fn try_new(input: Arc<dyn ExecutionPlan>, mode: Mode, params: MergeParams) -> Result<Self> {
        let columns = standard_columns(&input.schema())?;
        let partitions = match mode {
            Mode::Ordered { partitions } => partitions.max(1),
            Mode::Partitioned => input.properties().partitioning.partition_count(),
        };
        let properties =
            crate::plan_properties(standard_schema(), partitions, EmissionType::Incremental);
        Ok(Self {
            input,
            mode,
            params,
            metrics: ExecutionPlanMetricsSet::new(),
            columns,
            properties,
        })
    }

    /// Counts into `metrics` (those of an operator that runs this one as its strategy).
    pub(crate) fn with_metrics(mut self, metrics: ExecutionPlanMetricsSet) -> Self {
        self.metrics = metrics;
        self
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    pub fn params(&self) -> MergeParams {
        self.params
    }
}

impl DisplayAs for MergeExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "MergeExec: mode={:?}, inactive_ms={}, active_ms={}",
            self.mode, self.params.inactive_ms, self.params.active_ms
        )
    }
}

impl ExecutionPlan for MergeExec {
    fn name(&self) -> &str {
        "MergeExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn required_input_distribution(&self) -> Vec<Distribution> {
        match self.mode {
            Mode::Ordered { .. } => vec![Distribution::UnspecifiedDistribution],
            Mode::Partitioned => {
                let schema = self.input.schema();
                let keys = KEY_FIELDS
                    .iter()
                    .map(|k| col(k, &schema))
                    .collect::<Result<Vec<_>>>();
                match keys {
                    Ok(keys) => vec![Distribution::KeyPartitioned(keys)],
                    Err(_) => vec![Distribution::SinglePartition],
                }
            }
        }
    }

    fn required_input_ordering(&self) -> Vec<Option<OrderingRequirements>> {
        if self.mode != Mode::Partitioned {
            return vec![None];
        }
        let schema = self.input.schema();
        let asc = Some(SortOptions {
            descending: false,
            nulls_first: true,
        });
        let reqs = ["first", "first_ms", ROW_COLUMN]
            .iter()
            .filter_map(|c| col(c, &schema).ok())
            .map(|e| PhysicalSortRequirement::new(e, asc));
        vec![LexRequirement::new(reqs).map(OrderingRequirements::new)]
    }

    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![self.mode == Mode::Partitioned]
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let input = crate::only_child("MergeExec", children)?;
        Ok(Arc::new(MergeExec::try_new(input, self.mode, self.params)?))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
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
        let (inputs, filter) = match self.mode {
            Mode::Ordered { partitions } => {
                let n = self.input.properties().partitioning.partition_count();
                (
                    (0..n).collect::<Vec<_>>(),
                    (partitions > 1).then_some((partition, partitions)),
                )
            }
            Mode::Partitioned => (vec![partition], None),
        };
        let run = Run {
            input: self.input.clone(),
            context: context.clone(),
            inputs: inputs.into_iter(),
            current: None,
            filter,
            columns: self.columns,
            merger: Merger::new(self.params),
            rows: Vec::new(),
            flows: Vec::new(),
            taken: 0,
            metrics: MergeMetrics::new(&self.metrics, partition),
            batch_size: context.session_config().batch_size().max(1),
            finished: false,
            reservation: MemoryConsumer::new(format!("MergeExec[{partition}]"))
                .register(context.memory_pool()),
        };
        // Reserved before the inputs start: spilling sorts below the merge would otherwise
        // fill the pool and leave the merge, which cannot spill, without room to grow.
        let _ = run.reservation.try_grow(INITIAL_RESERVATION);
        let stream = futures::stream::unfold(run, |mut run| async move {
            let next = run.next_batch().await.transpose()?;
            Some((next, run))
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            standard_schema(),
            stream,
        )))
    }
}

/// Bytes each partition of the merge reserves when it starts (its cache of candidates for a
/// collector trace of tens of millions of records needs a few MB).
const INITIAL_RESERVATION: usize = 16 << 20;

/// The execution of one output partition.
struct Run {
    input: Arc<dyn ExecutionPlan>,
    context: Arc<TaskContext>,
    inputs: std::vec::IntoIter<usize>,
    current: Option<SendableRecordBatchStream>,
    /// (this partition, partition count) when records must be picked by key hash.
    filter: Option<(usize, usize)>,
    columns: [usize; 21],
    merger: Merger,
    /// The batch's rows of this partition and their records for `merger` (buffers kept
    /// between batches).
    rows: Vec<u32>,
    flows: Vec<Flow>,
    /// How many of `merger.out`'s records are in batches already. Batches are cut from the
    /// front of `out` without moving the rest: at the end of the input it holds every record
    /// still cached, and removing each batch from the front would move all of them.
    taken: usize,
    metrics: MergeMetrics,
    batch_size: usize,
    finished: bool,
    /// The merger's memory, from the session's pool: past its limit the merge fails with a
    /// resources-exhausted error naming `MergeExec` (the cache holds the flows active at one
    /// time, which no spilling would shrink).
    reservation: MemoryReservation,
}

impl Run {
    async fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        loop {
            let pending = &self.merger.out[self.taken..];
            if pending.len() >= self.batch_size || (self.finished && !pending.is_empty()) {
                let n = pending.len().min(self.batch_size);
                let batch = to_batch(&pending[..n])?;
                self.taken += n;
                return Ok(Some(batch));
            }
            if self.finished {
                return Ok(None);
            }
            // Fewer than a batch left: drop the records taken (a short move) before more come.
            self.merger.out.drain(..self.taken);
            self.taken = 0;
            if self.current.is_none() {
                match self.inputs.next() {
                    Some(p) => self.current = Some(self.input.execute(p, self.context.clone())?),
                    None => {
                        self.merger.finish();
                        self.metrics.record(&self.merger.counters);
                        self.merger.counters.check()?;
                        self.finished = true;
                        continue;
                    }
                }
            }
            let stream = self.current.as_mut().expect("set above");
            match stream.next().await {
                Some(batch) => self.push(&batch?)?,
                None => self.current = None,
            }
        }
    }

    fn push(&mut self, batch: &RecordBatch) -> Result<()> {
        // Every column cut to the batch length, so the row loop indexes without checks.
        let n = batch.num_rows();
        let c = |i: usize| batch.column(self.columns[i]);
        let af = &values::<UInt8Type>(c(0))?[..n];
        let prot = &values::<UInt8Type>(c(1))?[..n];
        let inif = &values::<UInt16Type>(c(2))?[..n];
        let outif = &values::<UInt16Type>(c(3))?[..n];
        let sa = [4, 5, 6, 7].map(|i| values::<UInt32Type>(c(i)));
        let da = [8, 9, 10, 11].map(|i| values::<UInt32Type>(c(i)));
        let [sa0, sa1, sa2, sa3] = sa;
        let (sa0, sa1, sa2, sa3) = (&sa0?[..n], &sa1?[..n], &sa2?[..n], &sa3?[..n]);
        let [da0, da1, da2, da3] = da;
        let (da0, da1, da2, da3) = (&da0?[..n], &da1?[..n], &da2?[..n], &da3?[..n]);
        let sp = &values::<UInt16Type>(c(12))?[..n];
        let dp = &values::<UInt16Type>(c(13))?[..n];
        let first = &values::<UInt32Type>(c(14))?[..n];
        let first_ms = &values::<UInt16Type>(c(15))?[..n];
        let last = &values::<UInt32Type>(c(16))?[..n];
        let last_ms = &values::<UInt16Type>(c(17))?[..n];
        let packets = &values::<UInt64Type>(c(18))?[..n];
        let octets = &values::<UInt64Type>(c(19))?[..n];
        let aggs = &values::<UInt32Type>(c(20))?[..n];
        // This partition's rows, picked without a branch per row (half of them are another
        // partition's, in no predictable pattern).
        self.rows.clear();
        match self.filter {
            None => self.rows.extend(0..n as u32),
            Some((mine, of)) => {
                self.rows.resize(n, 0);
                let mut kept = 0;
                for i in 0..n {
                    let sa = [sa0[i], sa1[i], sa2[i], sa3[i]];
                    let da = [da0[i], da1[i], da2[i], da3[i]];
                    let ports = (u32::from(sp[i]) << 16) | u32::from(dp[i]);
                    self.rows[kept] = i as u32;
                    kept += usize::from(partition(sa, da, ports, of) == mine);
                }
                self.rows.truncate(kept);
            }
        }
        for &i in &self.rows {
            let i = i as usize;
            let key = Key {
                af: af[i],
                prot: prot[i],
                inif: inif[i],
                outif: outif[i],
                sa: [sa0[i], sa1[i], sa2[i], sa3[i]],
                da: [da0[i], da1[i], da2[i], da3[i]],
                sp: sp[i],
                dp: dp[i],
            };
            self.flows.push(Flow {
                key,
                first: first[i],
                first_ms: first_ms[i],
                last: last[i],
                last_ms: last_ms[i],
                packets: packets[i],
                octets: octets[i],
                aggs: aggs[i],
            });
        }
        self.merger.push_all(&self.flows);
        self.flows.clear();
        let need = self.merger.memory_size();
        if need > self.reservation.size() {
            // Ahead of need, for the same reason as the initial reservation.
            let ahead = self.reservation.try_resize(2 * need);
            ahead.or_else(|_| self.reservation.try_resize(need))?;
        }
        Ok(())
    }
}

/// The raw values of a column (a NULL reads as 0, like a field missing in the original).
fn values<T: ArrowPrimitiveType>(a: &ArrayRef) -> Result<&[T::Native]> {
    a.as_primitive_opt::<T>()
        .map(|p| p.values().as_ref())
        .ok_or_else(|| {
            DataFusionError::Internal(format!("merge: unexpected column type {}", a.data_type()))
        })
}

/// Records turned into columns per pass: each of the 21 passes reads a chunk that stays in the
/// L1 cache instead of the whole batch (a batch of records is 512 KiB).
const CHUNK: usize = 256;

fn to_batch(flows: &[Flow]) -> Result<RecordBatch> {
    fn vecs<T, const N: usize>(n: usize) -> [Vec<T>; N] {
        std::array::from_fn(|_| Vec::with_capacity(n))
    }
    fn array<T: ArrowPrimitiveType>(values: Vec<T::Native>) -> ArrayRef {
        Arc::new(PrimitiveArray::<T>::new(values.into(), None))
    }
    let n = flows.len();
    let mut u8s: [Vec<u8>; 2] = vecs(n);
    let mut u16s: [Vec<u16>; 6] = vecs(n);
    let mut u32s: [Vec<u32>; 11] = vecs(n);
    let mut u64s: [Vec<u64>; 2] = vecs(n);
    for c in flows.chunks(CHUNK) {
        let [af, prot] = &mut u8s;
        let [inif, outif, sp, dp, first_ms, last_ms] = &mut u16s;
        let [sa0, sa1, sa2, sa3, da0, da1, da2, da3, first, last, aggs] = &mut u32s;
        let [packets, octets] = &mut u64s;
        af.extend(c.iter().map(|f| f.key.af));
        prot.extend(c.iter().map(|f| f.key.prot));
        inif.extend(c.iter().map(|f| f.key.inif));
        outif.extend(c.iter().map(|f| f.key.outif));
        sa0.extend(c.iter().map(|f| f.key.sa[0]));
        sa1.extend(c.iter().map(|f| f.key.sa[1]));
        sa2.extend(c.iter().map(|f| f.key.sa[2]));
        sa3.extend(c.iter().map(|f| f.key.sa[3]));
        da0.extend(c.iter().map(|f| f.key.da[0]));
        da1.extend(c.iter().map(|f| f.key.da[1]));
        da2.extend(c.iter().map(|f| f.key.da[2]));
        da3.extend(c.iter().map(|f| f.key.da[3]));
        sp.extend(c.iter().map(|f| f.key.sp));
        dp.extend(c.iter().map(|f| f.key.dp));
        first.extend(c.iter().map(|f| f.first));
        first_ms.extend(c.iter().map(|f| f.first_ms));
        last.extend(c.iter().map(|f| f.last));
        last_ms.extend(c.iter().map(|f| f.last_ms));
        packets.extend(c.iter().map(|f| f.packets));
        octets.extend(c.iter().map(|f| f.octets));
        aggs.extend(c.iter().map(|f| f.aggs));
    }
    let [af, prot] = u8s;
    let [inif, outif, sp, dp, first_ms, last_ms] = u16s;
    let [sa0, sa1, sa2, sa3, da0, da1, da2, da3, first, last, aggs] = u32s;
    let [packets, octets] = u64s;
    let columns = vec![
        array::<UInt8Type>(af),
        array::<UInt8Type>(prot),
        array::<UInt16Type>(inif),
        array::<UInt16Type>(outif),
        array::<UInt32Type>(sa0),
        array::<UInt32Type>(sa1),
        array::<UInt32Type>(sa2),
        array::<UInt32Type>(sa3),
        array::<UInt32Type>(da0),
        array::<UInt32Type>(da1),
        array::<UInt32Type>(da2),
        array::<UInt32Type>(da3),
        array::<UInt16Type>(sp),
        array::<UInt16Type>(dp),
        array::<UInt32Type>(first),
        array::<UInt16Type>(first_ms),
        array::<UInt32Type>(last),
        array::<UInt16Type>(last_ms),
        array::<UInt64Type>(packets),
        array::<UInt64Type>(octets),
        array::<UInt32Type>(aggs),
    ];
    Ok(RecordBatch::try_new(standard_schema(), columns)?)
}
