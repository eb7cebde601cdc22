//! `flow_sort('<table or path>', 'key', … [, true])`: the stable flow sort as a SQL table
//! function (a trailing `true` gives the exact reverse order, as `sort --reverse`). The rows of
//! the source in key order, ties in input order: what `flow-models sort` writes.
//!
//! [`FlowSortExec`] decides when it runs, not when it is planned: one local binary trace read
//! whole, keys that pack and no memory limit → the in-memory packed sort ([`sorted_trace_plan`]);
//! anything else → DataFusion's sort with the input position as the last key ([`sort_plan`]),
//! spilling under the session's memory pool.

use super::trace_plan::in_memory_trace;
use super::{BATCH_ROWS, sort_plan, sorted_plan, sorted_trace_plan};
use arrow::compute::SortOptions;
use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::runtime::SpawnedTask;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result, ScalarValue, internal_err, plan_err};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{Expr, LogicalPlan, TableType};
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::{
    EquivalenceProperties, LexOrdering, PhysicalExpr, PhysicalSortExpr,
};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::metrics::{ExecutionPlanMetricsSet, MetricBuilder, MetricsSet};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties, execute_stream,
};
use futures::{StreamExt, TryStreamExt};
use std::fmt;
use std::sync::Arc;

const USAGE: &str = "flow_sort('table or trace dir', 'key', ... [, true for the reverse order])";

#[derive(Debug)]
pub struct FlowSortFunc;

impl TableFunctionImpl for FlowSortFunc {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let exprs = args.exprs();
        let Some(source) = exprs.first().and_then(flow_provider::args::string) else {
            return plan_err!("{USAGE}: the first argument must be a table name or a path");
        };
        let (mut keys, mut reverse) = (Vec::new(), false);
        for (i, e) in exprs.iter().enumerate().skip(1) {
            match (
                flow_provider::args::string(e),
                flow_provider::args::literal(e),
            ) {
                (Some(k), _) => keys.push(k.to_string()),
                (None, Some(ScalarValue::Boolean(Some(r)))) if i == exprs.len() - 1 => reverse = *r,
                _ => return plan_err!("{USAGE}: expected a key name in quotes, got {e}"),
            }
        }
        if keys.is_empty() {
            return plan_err!("{USAGE}: give at least one key");
        }
        let table = crate::source_table(args.session(), "flow_sort", source)?;
        let schema = table.schema();
        if let Some(k) = keys.iter().find(|k| schema.field_with_name(k).is_err()) {
            return plan_err!("flow_sort: no field '{k}' in '{source}'");
        }
        if let Some(k) = (keys.iter()).find(|k| {
            let t = schema.field_with_name(k).map(|f| f.data_type().clone());
            !t.is_ok_and(|t| t.is_integer())
        }) {
            return plan_err!("flow_sort: key '{k}' is not an integer field");
        }
        Ok(Arc::new(SortTable {
            source: table,
            keys,
            reverse,
        }))
    }
}

/// A table sorted by keys (stable), as a table.
#[derive(Debug)]
pub struct SortTable {
    source: Arc<dyn TableProvider>,
    keys: Vec<String>,
    reverse: bool,
}

impl SortTable {
    /// The same sort as a logical plan of DataFusion's own operators ([`sorted_plan`]): what a
    /// distributed engine runs (each partition sorted where it is read, then merged).
    pub fn distributed_plan(&self) -> Result<LogicalPlan> {
        sorted_plan(self.source.clone(), &self.keys, self.reverse)
    }
}

#[async_trait]
impl TableProvider for SortTable {
    fn schema(&self) -> SchemaRef {
        self.source.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    async fn scan(
        &self,
        session: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let scan = self.source.scan(session, None, &[], None).await?;
        let sort = FlowSortExec::new(scan, self.keys.clone(), self.reverse);
        crate::projected(Arc::new(sort), projection)
    }
}

/// Its input sorted by `keys` (stable; `reverse`: the exact reverse), in one partition, by
/// whichever sort fits when it runs (see the module).
#[derive(Debug)]
pub struct FlowSortExec {
    input: Arc<dyn ExecutionPlan>,
    keys: Vec<String>,
    reverse: bool,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
}

impl FlowSortExec {
    pub fn new(input: Arc<dyn ExecutionPlan>, keys: Vec<String>, reverse: bool) -> Self {
        // Its output is in key order (DataFusion's default null placement: ASC NULLS LAST,
        // DESC NULLS FIRST), which what is planned above it may rely on.
        let schema = input.schema();
        let options = SortOptions {
            descending: reverse,
            nulls_first: reverse,
        };
        let ordering = (keys.iter())
            .filter_map(|k| schema.index_of(k).ok().map(|i| (k, i)))
            .map(|(k, i)| PhysicalSortExpr::new(Arc::new(Column::new(k, i)), options));
        let mut eq = EquivalenceProperties::new(schema.clone());
        if let Some(ordering) = LexOrdering::new(ordering) {
            eq = EquivalenceProperties::new_with_orderings(schema, [ordering]);
        }
        let properties = Arc::new(PlanProperties::new(
            eq,
            Partitioning::UnknownPartitioning(1),
            EmissionType::Final,
            Boundedness::Bounded,
        ));
        Self {
            input,
            keys,
            reverse,
            properties,
            metrics: ExecutionPlanMetricsSet::new(),
        }
    }

    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    pub fn reverse(&self) -> bool {
        self.reverse
    }
}

impl DisplayAs for FlowSortExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "FlowSortExec: keys={:?}, reverse={}",
            self.keys, self.reverse
        )
    }
}

/// The in-memory sort's plan, when it can take `scan` ([`in_memory_trace`]) and the keys pack.
/// Its batches are large (as `sort` writes them): a sink writes each column's share of a batch
/// in one call, so 8192-row batches cost the COPY of a 10 M-record trace twice the time.
async fn in_memory(
    scan: &Arc<dyn ExecutionPlan>,
    keys: &[String],
    reverse: bool,
    ctx: &Arc<TaskContext>,
) -> Result<Option<Arc<dyn ExecutionPlan>>> {
    let Some(trace) = in_memory_trace(scan, ctx) else {
        return Ok(None);
    };
    let (keys, ctx) = (keys.to_vec(), ctx.clone());
    let batch_rows = BATCH_ROWS.max(ctx.session_config().batch_size());
    SpawnedTask::spawn_blocking(move || sorted_trace_plan(&trace, &keys, reverse, batch_rows, &ctx))
        .join_unwind()
        .await
        .map_err(|e| DataFusionError::External(Box::new(e)))?
}

impl ExecutionPlan for FlowSortExec {
    fn name(&self) -> &str {
        "FlowSortExec"
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
        let input = crate::only_child("FlowSortExec", children)?;
        Ok(Arc::new(Self::new(input, self.keys.clone(), self.reverse)))
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

    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        // The positions of the input's rows are known only for its own partitions.
        vec![false]
    }

    fn execute(
        &self,
        partition: usize,
        ctx: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return internal_err!("FlowSortExec has one partition, asked for {partition}");
        }
        let (input, keys, reverse) = (self.input.clone(), self.keys.clone(), self.reverse);
        let metrics = self.metrics.clone();
        let sorted = async move {
            let (plan, spilling) = match in_memory(&input, &keys, reverse, &ctx).await? {
                Some(plan) => (plan, None),
                None => {
                    let sort = sort_plan(input, &keys, reverse)?;
                    (sort.plan.clone(), Some(sort))
                }
            };
            let rows = execute_stream(plan, ctx)?;
            // Once every row is out: how it sorted, for EXPLAIN ANALYZE.
            let report = futures::stream::once(async move {
                let metric = MetricBuilder::new(&metrics);
                match spilling {
                    None => metric.counter("sorted_in_memory", 0).add(1),
                    Some(sort) => {
                        let spill = sort.spill();
                        metric.spill_count(0).add(spill.files);
                        MetricBuilder::new(&metrics)
                            .spilled_bytes(0)
                            .add(spill.bytes);
                        MetricBuilder::new(&metrics).spilled_rows(0).add(spill.rows);
                    }
                }
                None
            });
            Ok::<_, DataFusionError>(rows.chain(report.filter_map(futures::future::ready)))
        };
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.input.schema(),
            futures::stream::once(sorted).try_flatten(),
        )))
    }
}
