//! Our plans as leaves of the host's plan. A host session re-plans the children of every node
//! it is handed (datafusion-python 55 wraps leaves in its `CooperativeExec`, may repartition
//! them): our operators that read their input in a known shape (`flow_sort` and `flow_merge`
//! take a trace scan's partitions as positions in the trace) would then get a foreign node in
//! its place. So what crosses the FFI is [`SealedExec`]: the plan our scan made, planned by us,
//! shown to the host as one node without children. The providers, table functions and
//! factories we export wrap theirs in [`SealedTable`].

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{
    Session, TableFunctionArgs, TableFunctionImpl, TableProvider, TableProviderFactory,
};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{Result, Statistics, internal_err};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{CreateExternalTable, Expr, TableProviderFilterPushDown, TableType};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::metrics::MetricsSet;
use datafusion::physical_plan::statistics::{StatisticsArgs, StatisticsContext};
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties, displayable,
};
use std::fmt;
use std::sync::Arc;

/// A plan of ours as a leaf: its properties, statistics and metrics are the plan's.
#[derive(Debug)]
pub struct SealedExec(Arc<dyn ExecutionPlan>);

impl DisplayAs for SealedExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "flow-models: {}",
            displayable(self.0.as_ref()).one_line()
        )
    }
}

impl ExecutionPlan for SealedExec {
    fn name(&self) -> &str {
        self.0.name()
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.0.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        match children.is_empty() {
            true => Ok(self),
            false => internal_err!("{} has no children to replace", self.0.name()),
        }
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
        self.0.execute(partition, context)
    }

    fn metrics(&self) -> Option<MetricsSet> {
        self.0.metrics()
    }

    fn statistics_from_inputs(
        &self,
        _input_stats: &[Arc<Statistics>],
        args: &StatisticsArgs,
    ) -> Result<Arc<Statistics>> {
        // The host cannot see the plan's children: its statistics are computed here.
        StatisticsContext::new().compute(self.0.as_ref(), args)
    }
}

/// A table whose scans are [`SealedExec`]; everything else (schema, filter pushdown,
/// statistics) is the table's own, and the projection, filters and limit go to its scan.
#[derive(Debug)]
pub struct SealedTable(pub Arc<dyn TableProvider>);

#[async_trait]
impl TableProvider for SealedTable {
    fn schema(&self) -> SchemaRef {
        self.0.schema()
    }

    fn table_type(&self) -> TableType {
        self.0.table_type()
    }

    async fn scan(
        &self,
        session: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let plan = self.0.scan(session, projection, filters, limit).await?;
        Ok(Arc::new(SealedExec(plan)))
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        self.0.supports_filters_pushdown(filters)
    }

    fn statistics(&self) -> Option<Statistics> {
        self.0.statistics()
    }
}

/// A table function whose tables are [`SealedTable`]s.
#[derive(Debug)]
pub struct SealedFunction(pub Arc<dyn TableFunctionImpl>);

impl TableFunctionImpl for SealedFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        Ok(Arc::new(SealedTable(self.0.call_with_args(args)?)))
    }
}

/// A `STORED AS` factory whose tables are [`SealedTable`]s.
#[derive(Debug)]
pub struct SealedFactory(pub Arc<dyn TableProviderFactory>);

#[async_trait]
impl TableProviderFactory for SealedFactory {
    async fn create(
        &self,
        state: &dyn Session,
        cmd: &CreateExternalTable,
    ) -> Result<Arc<dyn TableProvider>> {
        Ok(Arc::new(SealedTable(self.0.create(state, cmd).await?)))
    }
}
