//! `flow_series('<table or path>')`: `(day, second, flows, packets, octets)` for every second
//! with a count, and second 0 of a day the packet schedule of a flow only passes into (the
//! original writes that day's files too), sorted locally. Planned as [`SecondsTable`] (each flow
//! spread over the seconds of its packets by [`SecondsExec`], partition by partition, summed
//! within each batch) under DataFusion's `GROUP BY day, second`, so the partitions run in
//! parallel (on a cluster too) and the integer sums do not depend on their order.

use super::{Add, Flow, spread};
use arrow::array::{ArrayRef, AsArray, Int64Array, RecordBatch, UInt32Array, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, UInt16Type, UInt32Type, UInt64Type};
use async_trait::async_trait;
use datafusion::catalog::view::ViewTable;
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{Result, plan_err};
use datafusion::datasource::provider_as_source;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::functions_aggregate::expr_fn::sum;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, TableType, cast, col};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::execution_plan::EmissionType;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, PlanProperties,
};
use futures::StreamExt;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

const USAGE: &str = "flow_series('table or trace dir')";

/// The columns a flow's spread is computed from, in [`Flow`]'s order and types.
const INPUT: [(&str, DataType); 6] = [
    ("first", DataType::UInt32),
    ("first_ms", DataType::UInt16),
    ("last", DataType::UInt32),
    ("last_ms", DataType::UInt16),
    ("packets", DataType::UInt64),
    ("octets", DataType::UInt64),
];

fn seconds_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("day", DataType::UInt64, false),
        Field::new("second", DataType::UInt32, false),
        Field::new("flows", DataType::UInt64, false),
        Field::new("packets", DataType::UInt64, false),
        Field::new("octets", DataType::Int64, false),
    ]))
}

#[derive(Debug)]
pub struct FlowSeriesFunc;

impl TableFunctionImpl for FlowSeriesFunc {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let [source] = args.exprs() else {
            return plan_err!("{USAGE}: takes one argument, got {}", args.exprs().len());
        };
        let Some(name) = flow_provider::args::string(source) else {
            return plan_err!("{USAGE}: expected a table name or a path in quotes, got {source}");
        };
        let table = crate::source_table(args.session(), "flow_series", name)?;
        let seconds = SecondsTable::new(name.to_string(), table);
        Ok(Arc::new(ViewTable::new(series_frame(seconds)?, None)))
    }
}

/// The series of `seconds` summed per second, sorted by day and second: the plan of
/// `flow_series`.
pub fn series_frame(seconds: SecondsTable) -> Result<LogicalPlan> {
    let (day, second) = (col("day"), col("second"));
    let sums = ["flows", "packets", "octets"].map(|c| sum(col(c)).alias(c));
    LogicalPlanBuilder::scan("flow_series", provider_as_source(Arc::new(seconds)), None)?
        .aggregate([day.clone(), second.clone()], sums)?
        .sort([day.sort(true, false), second.sort(true, false)])?
        .build()
}

/// What each flow of a table adds to the seconds of its packets (rows not yet summed across
/// batches), as a table.
#[derive(Debug)]
pub struct SecondsTable {
    /// What the source was called (a table's name or a trace's path): the scan's name.
    name: String,
    source: Arc<dyn TableProvider>,
}

impl SecondsTable {
    pub fn new(name: String, source: Arc<dyn TableProvider>) -> Self {
        Self { name, source }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn source(&self) -> &Arc<dyn TableProvider> {
        &self.source
    }
}

#[async_trait]
impl TableProvider for SecondsTable {
    fn schema(&self) -> SchemaRef {
        seconds_schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    async fn scan(
        &self,
        session: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let columns = INPUT.map(|(c, t)| cast(col(c), t).alias(c)).to_vec();
        let input = crate::source_input(session, &self.name, &self.source, columns).await?;
        crate::projected(Arc::new(SecondsExec::new(input)), projection)
    }
}

/// Each flow of its input (the columns of [`Flow`], in order) spread over the seconds of its
/// packets; each batch's additions summed per second.
#[derive(Debug)]
pub struct SecondsExec {
    input: Arc<dyn ExecutionPlan>,
    properties: Arc<PlanProperties>,
}

impl SecondsExec {
    pub fn new(input: Arc<dyn ExecutionPlan>) -> Self {
        let partitions = input.output_partitioning().partition_count();
        let properties =
            crate::plan_properties(seconds_schema(), partitions, EmissionType::Incremental);
        Self { input, properties }
    }
}

/// Sums of additions per (day, second); consecutive additions to one second (a flow's packets
/// mostly) are summed before they reach the map.
#[derive(Default)]
struct Seconds {
    map: HashMap<(u64, u32), Add>,
    run: Option<((u64, u32), Add)>,
}

impl Seconds {
    fn add(&mut self, day: u64, second: u32, a: Add) {
        match &mut self.run {
            Some((key, sum)) if *key == (day, second) => {
                sum.flows += a.flows;
                sum.packets += a.packets;
                sum.octets = sum.octets.wrapping_add(a.octets);
            }
            _ => {
                if let Some((key, sum)) = self.run.replace(((day, second), a)) {
                    self.flush(key, sum);
                }
            }
        }
    }

    fn flush(&mut self, key: (u64, u32), a: Add) {
        let sum = self.map.entry(key).or_default();
        sum.flows += a.flows;
        sum.packets += a.packets;
        sum.octets = sum.octets.wrapping_add(a.octets);
    }

    fn batch(mut self) -> Result<RecordBatch> {
        if let Some((key, sum)) = self.run.take() {
            self.flush(key, sum);
        }
        let n = self.map.len();
        let (mut day, mut second) = (Vec::with_capacity(n), Vec::with_capacity(n));
        let (mut flows, mut packets, mut octets) = (Vec::new(), Vec::new(), Vec::new());
        for ((d, s), a) in self.map {
            day.push(d);
            second.push(s);
            flows.push(a.flows);
            packets.push(a.packets);
            octets.push(a.octets);
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(UInt64Array::from(day)),
            Arc::new(UInt32Array::from(second)),
            Arc::new(UInt64Array::from(flows)),
            Arc::new(UInt64Array::from(packets)),
            Arc::new(Int64Array::from(octets)),
        ];
        Ok(RecordBatch::try_new(seconds_schema(), columns)?)
    }
}

/// The seconds a batch of flows adds to.
fn spread_batch(batch: &RecordBatch) -> Result<RecordBatch> {
    let u32s = |i: usize| batch.column(i).as_primitive::<UInt32Type>();
    let u16s = |i: usize| batch.column(i).as_primitive::<UInt16Type>();
    let u64s = |i: usize| batch.column(i).as_primitive::<UInt64Type>();
    let (first, first_ms, last, last_ms) = (u32s(0), u16s(1), u32s(2), u16s(3));
    let (packets, octets) = (u64s(4), u64s(5));
    let mut seconds = Seconds::default();
    for i in 0..batch.num_rows() {
        let flow = Flow {
            first: first.value(i),
            first_ms: first_ms.value(i),
            last: last.value(i),
            last_ms: last_ms.value(i),
            packets: packets.value(i),
            octets: octets.value(i),
        };
        spread(&flow, |d, s, a| seconds.add(d, s, a));
    }
    seconds.batch()
}

impl DisplayAs for SecondsExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "SecondsExec")
    }
}

impl ExecutionPlan for SecondsExec {
    fn name(&self) -> &str {
        "SecondsExec"
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
        Ok(Arc::new(SecondsExec::new(crate::only_child(
            "SecondsExec",
            children,
        )?)))
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
        let stream = self.input.execute(partition, context)?;
        let spread = stream.map(|batch| spread_batch(&batch?));
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            seconds_schema(),
            spread,
        )))
    }
}
