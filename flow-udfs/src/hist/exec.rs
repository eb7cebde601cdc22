//! `HistExec`: the physical operator of the fast path. It runs every partition of its input on
//! its own task, each into a [`HistAcc`], and merges them into one sorted batch. Its parameters
//! are plain data (the input plan and a [`HistSpec`]), so a codec can ship it.

use super::acc::HistAcc;
use super::spec::HistSpec;
use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use datafusion::common::Result;
use datafusion::common::runtime::SpawnedTask;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::DataFusionError;
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryPool, MemoryReservation};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, Partitioning,
    PlanProperties,
};
use futures::StreamExt;
use std::fmt;
use std::sync::Arc;

#[derive(Debug)]
pub struct HistExec {
    input: Arc<dyn ExecutionPlan>,
    spec: HistSpec,
    properties: Arc<PlanProperties>,
}

impl HistExec {
    /// `input` must produce the columns of [`HistSpec::input_exprs`].
    pub fn new(input: Arc<dyn ExecutionPlan>, spec: HistSpec) -> Self {
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(spec.output_schema()),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Final,
            Boundedness::Bounded,
        ));
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
    let reserve = |acc: &HistAcc, reservation: &mut MemoryReservation| {
        reservation.try_resize(acc.memory_size())
    };
    let tasks: Vec<_> = streams
        .into_iter()
        .enumerate()
        .map(|(partition, mut stream)| {
            let spec = spec.clone();
            let progress = progress.clone();
            let mut reservation =
                MemoryConsumer::new(format!("HistExec[{partition}]")).register(pool);
            SpawnedTask::spawn(async move {
                let mut acc = HistAcc::new(&spec);
                reserve(&acc, &mut reservation)?;
                while let Some(batch) = stream.next().await {
                    let batch = batch?;
                    acc.update(&batch)?;
                    reserve(&acc, &mut reservation)?;
                    progress(batch.num_rows());
                }
                Ok::<_, DataFusionError>((acc, reservation))
            })
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

impl DisplayAs for HistExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let cols: Vec<_> = self.spec.columns.iter().map(|c| c.name()).collect();
        write!(
            f,
            "HistExec: x={}, bits={}, sums=[{}]",
            self.spec.x,
            self.spec.bits,
            cols.join(", ")
        )
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

    fn execute(
        &self,
        _partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let partitions = self.input.output_partitioning().partition_count();
        let streams = (0..partitions)
            .map(|p| self.input.execute(p, context.clone()))
            .collect::<Result<Vec<_>>>()?;
        let spec = self.spec.clone();
        let schema: SchemaRef = spec.output_schema();
        let pool = context.memory_pool().clone();
        let batch = async move { accumulate(streams, &spec, &pool, |_| {}).await };
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            schema,
            futures::stream::once(batch),
        )))
    }
}
