//! `RowIndexExec`: appends each row's position in the input (`__row`, UInt64) so that sorts
//! can break ties by input order, which makes them stable like numpy's lexsort. Positions are
//! global across partitions: a flowbin scan's partition starts at its first row's place in the
//! concatenated traces (whatever partitions a task was given); any other input must be one
//! partition. [`RowIndexTable`] is the same as a table, for logical plans (a distributed
//! engine's): `ORDER BY __row` is the input order, `ORDER BY keys…, __row` a stable sort.

use arrow::array::{Array, ArrayRef, MutableArrayData, RecordBatch, UInt64Array, make_array};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{Expr, TableType};
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr, PhysicalSortExpr};
use datafusion::physical_plan::coop::CooperativeExec;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
};
use flow_provider::binary::dir::TraceDir;
use flow_provider::binary::scan::{partition_first_rows, scanned_traces};
use futures::StreamExt;
use std::fmt;
use std::sync::Arc;

/// The flowbin scan `plan` is, looking through the wrappers DataFusion adds around scans
/// (which keep its partitions and their order).
pub fn flowbin_scan(plan: &Arc<dyn ExecutionPlan>) -> Option<&Arc<dyn ExecutionPlan>> {
    if scanned_traces(plan.as_ref()).is_some() {
        return Some(plan);
    }
    if plan.downcast_ref::<CooperativeExec>().is_some() {
        return plan.children().first().and_then(|c| flowbin_scan(c));
    }
    None
}

/// The traces of the flowbin scan `plan` is ([`flowbin_scan`]).
pub fn flowbin_traces(plan: &Arc<dyn ExecutionPlan>) -> Option<&[TraceDir]> {
    flowbin_scan(plan).and_then(|scan| scanned_traces(scan.as_ref()))
}

/// `plan` without a round-robin repartitioning of a single partition on top (which an
/// optimizer puts over a one-partition scan, e.g. of a trace with a column compressed in one
/// frame, for parallelism): the partition itself is in input order, its shares are not.
fn single_partition_source(plan: Arc<dyn ExecutionPlan>) -> Arc<dyn ExecutionPlan> {
    match plan.downcast_ref::<RepartitionExec>() {
        Some(r)
            if matches!(r.partitioning(), Partitioning::RoundRobinBatch(_))
                && r.input().properties().partitioning.partition_count() == 1 =>
        {
            r.input().clone()
        }
        _ => plan,
    }
}

/// Name of the appended position column.
pub const ROW_COLUMN: &str = "__row";

#[derive(Debug)]
pub struct RowIndexExec {
    input: Arc<dyn ExecutionPlan>,
    /// First global position of each input partition.
    offsets: Vec<u64>,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
}

impl RowIndexExec {
    /// Fails when the input's partitions are not known to be consecutive ranges of the input
    /// (then read it with one partition).
    pub fn try_new(input: Arc<dyn ExecutionPlan>) -> Result<Self> {
        let input = single_partition_source(input);
        let n = input.properties().partitioning.partition_count();
        // From the scan's own row ranges, so that a scan restricted to some of its partitions
        // (a distributed engine's task) still numbers its rows by their place in the input.
        let offsets = match flowbin_scan(&input).and_then(|s| partition_first_rows(s.as_ref())) {
            Some(offsets) => offsets,
            None if n <= 1 => vec![0; n],
            None => {
                return Err(DataFusionError::Plan(format!(
                    "input positions need a single partition or a flowbin scan, got {} with \
                     {n} partitions",
                    input.name()
                )));
            }
        };
        let n_columns = input.schema().fields().len();
        let mut fields: Vec<Field> = input
            .schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields.push(Field::new(ROW_COLUMN, DataType::UInt64, false));
        let schema = Arc::new(Schema::new(fields));
        // Each partition is in input order: `ORDER BY __row` is then only a merge of them.
        let position = PhysicalSortExpr::new_default(Arc::new(Column::new(ROW_COLUMN, n_columns)));
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new_with_orderings(schema.clone(), [[position]]),
            Partitioning::UnknownPartitioning(n),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        Ok(Self {
            input,
            offsets,
            schema,
            properties,
        })
    }
}

impl DisplayAs for RowIndexExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "RowIndexExec: offsets={:?}", self.offsets)
    }
}

impl ExecutionPlan for RowIndexExec {
    fn name(&self) -> &str {
        "RowIndexExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        // Its own ordering (positions ascending) is declared; saying the input's passes through
        // would let an optimizer push a sort on the positions below it (a distributed engine's
        // re-planning did, and failed), where there are none.
        vec![false]
    }

    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        // A repartitioned input would no longer be in input order.
        vec![false]
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let input = crate::only_child("RowIndexExec", children)?;
        Ok(Arc::new(RowIndexExec::try_new(input)?))
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
        let mut next = self.offsets[partition];
        let schema = self.schema.clone();
        let out_schema = schema.clone();
        let stream = self.input.execute(partition, context)?.map(move |batch| {
            let batch = batch?;
            let n = batch.num_rows() as u64;
            let rows = UInt64Array::from_iter_values(next..next + n);
            next += n;
            let mut columns: Vec<ArrayRef> =
                batch.columns().iter().map(compact).collect::<Result<_>>()?;
            columns.push(Arc::new(rows));
            Ok(RecordBatch::try_new(schema.clone(), columns)?)
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(out_schema, stream)))
    }
}

/// A copy of `a` in buffers of its own. Scans of memory-mapped traces hand out slices of the
/// whole mapped file, and memory pools count a slice as its whole buffer: without the copy a
/// spilling sort would see every batch as the size of the trace.
fn compact(a: &ArrayRef) -> Result<ArrayRef> {
    let data = a.to_data();
    let used = data.get_slice_memory_size().unwrap_or(usize::MAX);
    if a.get_buffer_memory_size() <= used.saturating_mul(2).saturating_add(4096) {
        return Ok(a.clone());
    }
    let mut copy = MutableArrayData::new(vec![&data], false, data.len());
    copy.try_extend(0, 0, data.len())?;
    Ok(make_array(copy.freeze()))
}

/// `inner` with each row's input position appended as `__row` ([`RowIndexExec`] over its
/// scan). Partitions of the scan are in input order (declared), so `ORDER BY __row` over it is
/// planned as a merge of the partitions, and `ORDER BY keys…, __row` is a stable sort; both run
/// distributed. Filters and limits are not pushed into the scan (they would move positions).
#[derive(Debug)]
pub struct RowIndexTable {
    inner: Arc<dyn TableProvider>,
    schema: SchemaRef,
}

impl RowIndexTable {
    pub fn new(inner: Arc<dyn TableProvider>) -> Self {
        let mut fields: Vec<Field> = (inner.schema().fields().iter())
            .map(|f| f.as_ref().clone())
            .collect();
        fields.push(Field::new(ROW_COLUMN, DataType::UInt64, false));
        let schema = Arc::new(Schema::new(fields));
        Self { inner, schema }
    }

    pub fn inner(&self) -> &Arc<dyn TableProvider> {
        &self.inner
    }
}

#[async_trait]
impl TableProvider for RowIndexTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let n = self.schema.fields().len() - 1;
        let all: Vec<usize> = (0..=n).collect();
        let projection = projection.unwrap_or(&all);
        // The inner columns asked for, in their order, then the positions.
        let inner: Vec<usize> = projection.iter().copied().filter(|&i| i < n).collect();
        let scan = self.inner.scan(state, Some(&inner), &[], None).await?;
        let indexed = Arc::new(RowIndexExec::try_new(scan)?);
        let place = |i: usize| match i == n {
            true => inner.len(),
            false => inner.iter().position(|&j| j == i).expect("an inner column"),
        };
        crate::projected(
            indexed,
            Some(&projection.iter().map(|&i| place(i)).collect()),
        )
    }
}
