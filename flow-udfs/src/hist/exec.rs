//! The physical operators of the fast path, in two steps so that a distributed engine can run
//! the first where the data is: [`HistPartialExec`] counts each partition of its input into a
//! [`HistAcc`] and emits it as a small batch of bins (`HistAcc::state`), and [`HistExec`]
//! merges those in partition order (so that the result does not depend on the order they
//! arrive in) into one sorted batch. [`hist_plan`] puts them together. Their parameters are
//! plain data (the input plan and a [`HistSpec`]), so a codec can ship them. [`accumulate`] is
//! the same work in one call for a caller holding the streams (the CLI, with progress).

use super::acc::HistAcc;
use super::spec::HistSpec;
use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::UInt64Type;
use datafusion::common::Result;
use datafusion::common::runtime::SpawnedTask;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::DataFusionError;
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryPool, MemoryReservation};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{Distribution, PhysicalExpr};
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::execution_plan::EmissionType;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, PlanProperties,
};
use futures::{StreamExt, TryStreamExt};
use std::fmt;
use std::sync::Arc;

/// The histogram of `input` (columns as in [`HistSpec::input_exprs`]): partial histograms of
/// its partitions, gathered into one partition and merged.
pub fn hist_plan(input: Arc<dyn ExecutionPlan>, spec: HistSpec) -> Arc<dyn ExecutionPlan> {
    let mut partial: Arc<dyn ExecutionPlan> = Arc::new(HistPartialExec::new(input, spec.clone()));
    if partial.output_partitioning().partition_count() > 1 {
        partial = Arc::new(CoalescePartitionsExec::new(partial));
    }
    Arc::new(HistExec::new(partial, spec))
}

/// Reserves the memory `acc` holds.
fn reserve(acc: &HistAcc, reservation: &mut MemoryReservation) -> Result<()> {
    reservation.try_resize(acc.memory_size())
}

/// Counts `stream` into one accumulator, its memory reserved as `name` from `pool`.
async fn count(
    mut stream: SendableRecordBatchStream,
    spec: &HistSpec,
    pool: &Arc<dyn MemoryPool>,
    name: String,
    progress: impl Fn(usize),
) -> Result<(HistAcc, MemoryReservation)> {
    let mut reservation = MemoryConsumer::new(name).register(pool);
    let mut acc = HistAcc::new(spec);
    reserve(&acc, &mut reservation)?;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        acc.update(&batch)?;
        reserve(&acc, &mut reservation)?;
        progress(batch.num_rows());
    }
    Ok((acc, reservation))
}

/// Each partition of its input counted into a partial histogram: one batch of
/// [`HistSpec::state_schema`] per partition.
#[derive(Debug)]
pub struct HistPartialExec {
    input: Arc<dyn ExecutionPlan>,
    spec: HistSpec,
    properties: Arc<PlanProperties>,
}

impl HistPartialExec {
    /// `input` must produce the columns of [`HistSpec::input_exprs`].
    pub fn new(input: Arc<dyn ExecutionPlan>, spec: HistSpec) -> Self {
        let partitions = input.output_partitioning().partition_count();
        let properties =
            crate::plan_properties(spec.state_schema(), partitions, EmissionType::Final);
        Self {
            input,
            spec,
            properties,
        }
    }

    pub fn spec(&self) -> &HistSpec {
        &self.spec
    }
}

impl DisplayAs for HistPartialExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "HistPartialExec: {}", self.spec)
    }
}

impl ExecutionPlan for HistPartialExec {
    fn name(&self) -> &str {
        "HistPartialExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let input = crate::only_child("HistPartialExec", children)?;
        Ok(Arc::new(HistPartialExec::new(input, self.spec.clone())))
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
        let stream = self.input.execute(partition, context.clone())?;
        let spec = self.spec.clone();
        let pool = context.memory_pool().clone();
        let name = format!("HistPartialExec[{partition}]");
        let state = async move {
            let (acc, _reservation) = count(stream, &spec, &pool, name, |_| {}).await?;
            acc.state(partition as u64)
        };
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.spec.state_schema(),
            futures::stream::once(state),
        )))
    }
}

/// The partial histograms of its input merged in partition order into one batch of
/// [`HistSpec::output_schema`], bins ascending.
#[derive(Debug)]
pub struct HistExec {
    input: Arc<dyn ExecutionPlan>,
    spec: HistSpec,
    properties: Arc<PlanProperties>,
}

impl HistExec {
    /// `input` must produce batches of [`HistSpec::state_schema`] ([`HistPartialExec`]).
    pub fn new(input: Arc<dyn ExecutionPlan>, spec: HistSpec) -> Self {
        let properties = crate::plan_properties(spec.output_schema(), 1, EmissionType::Final);
        Self {
            input,
            spec,
            properties,
        }
    }

    pub fn spec(&self) -> &HistSpec {
        &self.spec
    }
}

/// Accumulates each stream on its own task (so partitions use all cores) and merges the
/// results; `progress` is called with each batch's row count. Each accumulator's memory is
/// reserved from `pool`: past its limit the histogram fails with a resources-exhausted error
/// naming `HistExec` (one bin per value of a wide column can need a bin per flow).
pub async fn accumulate(
    streams: Vec<SendableRecordBatchStream>,
    spec: &HistSpec,
    pool: &Arc<dyn MemoryPool>,
    progress: impl Fn(usize) + Clone + Send + 'static,
) -> Result<RecordBatch> {
    let tasks: Vec<_> = streams
        .into_iter()
        .enumerate()
        .map(|(partition, stream)| {
            let (spec, pool, progress) = (spec.clone(), pool.clone(), progress.clone());
            let name = format!("HistExec[{partition}]");
            SpawnedTask::spawn(async move { count(stream, &spec, &pool, name, progress).await })
        })
        .collect();
    let mut total = HistAcc::new(spec);
    let mut reservation = MemoryConsumer::new("HistExec").register(pool);
    for task in tasks {
        let (acc, _partition) = task
            .join_unwind()
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))??;
        total.merge(acc);
        reserve(&total, &mut reservation)?;
    }
    total.finish()
}

/// Merges partial histograms (batches of [`HistSpec::state_schema`], a few bins each) in
/// partition order, one accumulator rebuilt at a time.
fn merge_states(
    mut states: Vec<RecordBatch>,
    spec: &HistSpec,
    pool: &Arc<dyn MemoryPool>,
) -> Result<RecordBatch> {
    let partition = |b: &RecordBatch| {
        let column = b.column(0).as_primitive_opt::<UInt64Type>();
        column.and_then(|c| c.values().first().copied())
    };
    states.sort_by_key(partition);
    let mut total = HistAcc::new(spec);
    let mut reservation = MemoryConsumer::new("HistExec").register(pool);
    let mut rebuilt = MemoryConsumer::new("HistExec (a partial histogram)").register(pool);
    for batch in &states {
        let (_, acc) = HistAcc::from_state(spec, batch)?;
        reserve(&acc, &mut rebuilt)?;
        total.merge(acc);
        reserve(&total, &mut reservation)?;
    }
    total.finish()
}

impl DisplayAs for HistExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "HistExec: {}", self.spec)
    }
}

impl ExecutionPlan for HistExec {
    fn name(&self) -> &str {
        "HistExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let input = crate::only_child("HistExec", children)?;
        Ok(Arc::new(HistExec::new(input, self.spec.clone())))
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn required_input_distribution(&self) -> Vec<Distribution> {
        vec![Distribution::SinglePartition]
    }

    fn execute(
        &self,
        _partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        // Every input partition, should a plan not have gathered them into one.
        let partitions = self.input.output_partitioning().partition_count();
        let streams = (0..partitions)
            .map(|p| self.input.execute(p, context.clone()))
            .collect::<Result<Vec<_>>>()?;
        let spec = self.spec.clone();
        let pool = context.memory_pool().clone();
        let batch = async move {
            let states: Vec<RecordBatch> =
                futures::stream::select_all(streams).try_collect().await?;
            merge_states(states, &spec, &pool)
        };
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.spec.output_schema(),
            futures::stream::once(batch),
        )))
    }
}
