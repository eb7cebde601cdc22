//! `TraceMergeExec`: the merge of binary traces, whose best strategy depends on the data. When
//! it first runs, it reads the trace's two time columns and picks one:
//! - the trace is in time order: one streaming pass ([`Mode::Ordered`] over the scan);
//! - one trace in another order (a collector's) whose time keys pack and whose order fits the
//!   memory pool: sorted by time in memory and merged in one pass on one partition (the gather
//!   of the sorted columns, on all cores, is the larger cost, and every merge partition would
//!   repeat it);
//! - otherwise: hash-partitioned by key and sorted per partition by DataFusion's (spilling)
//!   sort ([`Mode::Partitioned`]).
//!
//! Planning reads nothing: the node holds the scan, the timeouts and the partition count only.

use super::MergeParams;
use super::exec::{MergeExec, Mode};
use crate::row_index::{ROW_COLUMN, RowIndexExec, flowbin_traces};
use crate::sort::sorted_trace_plan;
use arrow::array::{Array, AsArray};
use arrow::compute::SortOptions;
use arrow::datatypes::{UInt16Type, UInt32Type};
use datafusion::common::runtime::SpawnedTask;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::expressions::col;
use datafusion::physical_expr::{LexOrdering, PhysicalExpr, PhysicalSortExpr};
use datafusion::physical_plan::execution_plan::EmissionType;
use datafusion::physical_plan::metrics::{ExecutionPlanMetricsSet, MetricsSet};
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::sorts::sort::SortExec;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, EmptyRecordBatchStream, ExecutionPlan, Partitioning,
    PlanProperties,
};
use flow_provider::fields::{KEY_FIELDS, standard_schema};
use futures::{StreamExt, TryStreamExt};
use std::fmt;
use std::sync::{Arc, OnceLock};
use tokio::sync::OnceCell;

/// The strategy chosen when the plan first ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// The trace was in time order: merged as it is read.
    TimeOrdered,
    /// Sorted by time in memory, then merged in one pass.
    SortedInMemory,
    /// Sorted per key partition by DataFusion (spilling under the memory pool).
    SortedPerKey,
}

/// The merge of a binary-trace scan (see the module docs).
#[derive(Debug, Clone)]
pub struct TraceMergeExec {
    scan: Arc<dyn ExecutionPlan>,
    params: MergeParams,
    partitions: usize,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
    /// The merge plan chosen at the first execution, shared by all partitions.
    chosen: Arc<OnceCell<(Strategy, Arc<dyn ExecutionPlan>)>>,
    /// The strategy, for display once chosen.
    shown: Arc<OnceLock<Strategy>>,
}

impl TraceMergeExec {
    /// The merge of `scan` (a flowbin scan) into `partitions` output partitions.
    pub fn new(scan: Arc<dyn ExecutionPlan>, params: MergeParams, partitions: usize) -> Self {
        let properties = crate::plan_properties(
            standard_schema(),
            partitions.max(1),
            EmissionType::Incremental,
        );
        Self {
            scan,
            params,
            partitions: partitions.max(1),
            properties,
            metrics: ExecutionPlanMetricsSet::new(),
            chosen: Arc::default(),
            shown: Arc::default(),
        }
    }

    /// The strategy, once the plan has run.
    pub fn strategy(&self) -> Option<Strategy> {
        self.shown.get().copied()
    }

    /// The merge plan for this trace (reads its time columns; may sort it in memory).
    async fn choose(&self, ctx: Arc<TaskContext>) -> Result<(Strategy, Arc<dyn ExecutionPlan>)> {
        let merge = |input, mode| -> Result<Arc<dyn ExecutionPlan>> {
            let exec = MergeExec::try_new(input, mode, self.params)?;
            Ok(Arc::new(exec.with_metrics(self.metrics.clone())))
        };
        let scan = self.scan.clone();
        if is_time_ordered(&scan, ctx.clone()).await? {
            let mode = Mode::Ordered {
                partitions: self.partitions,
            };
            return Ok((Strategy::TimeOrdered, merge(scan, mode)?));
        }
        let keys = ["first", "first_ms"].map(String::from);
        let trace = flowbin_traces(&scan).and_then(|traces| match traces {
            [trace] => Some(trace.clone()),
            _ => None,
        });
        if let Some(trace) = trace
            && keys.iter().all(|c| scan.schema().index_of(c).is_ok())
        {
            let sort_ctx = ctx.clone();
            let sorted = SpawnedTask::spawn_blocking(move || {
                let batch_rows = sort_ctx.session_config().batch_size();
                sorted_trace_plan(&trace, &keys, false, batch_rows, &sort_ctx)
            })
            .join_unwind()
            .await
            .map_err(|e| DataFusionError::ExecutionJoin(Box::new(e)))??;
            if let Some(sorted) = sorted {
                let mode = Mode::Ordered { partitions: 1 };
                return Ok((Strategy::SortedInMemory, merge(sorted, mode)?));
            }
        }
        let sorted = per_key_sorted(scan, self.partitions)?;
        Ok((Strategy::SortedPerKey, merge(sorted, Mode::Partitioned)?))
    }
}

/// `scan` with row positions, hash-partitioned by key into `partitions` and sorted by
/// (first, first_ms, position) in each: the input [`Mode::Partitioned`] requires, as
/// DataFusion's planner would lay it out (ties in time keep input order).
fn per_key_sorted(
    scan: Arc<dyn ExecutionPlan>,
    partitions: usize,
) -> Result<Arc<dyn ExecutionPlan>> {
    let indexed: Arc<dyn ExecutionPlan> = Arc::new(RowIndexExec::try_new(scan)?);
    let schema = indexed.schema();
    let keys = KEY_FIELDS
        .iter()
        .map(|k| col(k, &schema))
        .collect::<Result<Vec<_>>>()?;
    let hashed = Arc::new(RepartitionExec::try_new(
        indexed,
        Partitioning::Hash(keys, partitions),
    )?);
    let asc = SortOptions {
        descending: false,
        nulls_first: true,
    };
    let order = ["first", "first_ms", ROW_COLUMN]
        .iter()
        .map(|c| Ok(PhysicalSortExpr::new(col(c, &schema)?, asc)))
        .collect::<Result<Vec<_>>>()?;
    let order = LexOrdering::new(order).expect("three keys");
    Ok(Arc::new(
        SortExec::new(order, hashed).with_preserve_partitioning(true),
    ))
}

/// Whether a flowbin scan is in (first, first_ms) order, partitions being consecutive ranges.
/// Reads two narrow columns from the memory map: cheap next to the merge itself.
async fn is_time_ordered(scan: &Arc<dyn ExecutionPlan>, ctx: Arc<TaskContext>) -> Result<bool> {
    let schema = scan.schema();
    let (Ok(fi), Ok(mi)) = (schema.index_of("first"), schema.index_of("first_ms")) else {
        return Ok(false);
    };
    let mut prev = (0u32, 0u16);
    for p in 0..scan.properties().partitioning.partition_count() {
        let mut stream = scan.execute(p, ctx.clone())?;
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            let (Some(first), Some(ms)) = (
                batch.column(fi).as_primitive_opt::<UInt32Type>(),
                batch.column(mi).as_primitive_opt::<UInt16Type>(),
            ) else {
                return Ok(false);
            };
            if first.null_count() > 0 || ms.null_count() > 0 {
                return Ok(false);
            }
            for (f, m) in first.values().iter().zip(ms.values().iter()) {
                let t = (*f, *m);
                if t < prev {
                    return Ok(false);
                }
                prev = t;
            }
        }
    }
    Ok(true)
}

impl DisplayAs for TraceMergeExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let (strategy, mode) = match self.strategy() {
            None => ("chosen when run", "-"),
            Some(Strategy::TimeOrdered) => ("time-ordered", "Ordered"),
            Some(Strategy::SortedInMemory) => ("sorted in memory", "Ordered"),
            Some(Strategy::SortedPerKey) => ("sorted per key", "Partitioned"),
        };
        write!(
            f,
            "TraceMergeExec: strategy={strategy}, mode={mode}, inactive_ms={}, active_ms={}",
            self.params.inactive_ms, self.params.active_ms
        )
    }
}

impl ExecutionPlan for TraceMergeExec {
    fn name(&self) -> &str {
        "TraceMergeExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.scan]
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let scan = crate::only_child("TraceMergeExec", children)?;
        Ok(Arc::new(Self::new(scan, self.params, self.partitions)))
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let this = self.clone();
        let stream = futures::stream::once(async move {
            let (strategy, plan) = this
                .chosen
                .get_or_try_init(|| this.choose(context.clone()))
                .await?
                .clone();
            let _ = this.shown.set(strategy);
            if partition < plan.properties().partitioning.partition_count() {
                plan.execute(partition, context)
            } else {
                // The in-memory strategy merges on one partition; the others are empty.
                Ok(Box::pin(EmptyRecordBatchStream::new(standard_schema())) as _)
            }
        })
        .try_flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            standard_schema(),
            stream,
        )))
    }
}
