//! The SQL faces of the summary: `flow_summary('<table or csv_hist path>')` → `(statistic,
//! value, unit)` and `flow_cdf_summary('<table or csv_hist path>' [, 'length'|'size'|
//! 'duration'|'rate'])` → `(up_to, flows_pct, packets_pct, octets_pct)`. An existing file is
//! read as csv_hist; any other name is a registered table or view (e.g. over `flow_hist`). Planning
//! checks the source and reads nothing: [`SummaryExec`] reads and computes when executed.

use super::{SummaryKind as Kind, read_csv_hist, summarize};
use crate::hist::XValue;
use crate::named;
use arrow::array::{Float64Array, RecordBatch, StringArray, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use async_trait::async_trait;
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::runtime::SpawnedTask;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result, plan_datafusion_err, plan_err};
use datafusion::datasource::provider_as_source;
use datafusion::execution::{SendableRecordBatchStream, SessionState, TaskContext};
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, TableType};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::execution_plan::EmissionType;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties, collect,
};
use flow_provider::args;
use std::fmt;
use std::sync::Arc;

/// Which table a summary function returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummaryKind {
    /// `flow_summary`: one row per statistic.
    Stats,
    /// `flow_cdf_summary`: one row per point; `None` detects length or size.
    Cdf(Option<XValue>),
}

impl SummaryKind {
    fn name(self) -> &'static str {
        match self {
            Kind::Stats => "flow_summary",
            Kind::Cdf(_) => "flow_cdf_summary",
        }
    }

    /// The columns of the function's result.
    pub fn schema(self) -> SchemaRef {
        Arc::new(Schema::new(match self {
            Kind::Stats => vec![
                Field::new("statistic", DataType::Utf8, false),
                Field::new("value", DataType::Float64, false),
                Field::new("unit", DataType::Utf8, false),
            ],
            Kind::Cdf(_) => vec![
                Field::new("up_to", DataType::UInt64, false),
                Field::new("flows_pct", DataType::Float64, true),
                Field::new("packets_pct", DataType::Float64, true),
                Field::new("octets_pct", DataType::Float64, true),
            ],
        }))
    }

    /// The summary of `batches` as this function's result (NaN percentages, outside the
    /// histogram's range, become NULL).
    fn batch(self, batches: &[RecordBatch]) -> Result<RecordBatch> {
        let x = match self {
            Kind::Stats => Some(XValue::Length), // the statistics do not depend on x
            Kind::Cdf(x) => x,
        };
        let s = summarize(batches, x)?;
        let columns: Vec<Arc<dyn arrow::array::Array>> = match self {
            Kind::Stats => vec![
                Arc::new(StringArray::from_iter_values(
                    s.stats.iter().map(|st| st.label.as_str()),
                )),
                Arc::new(Float64Array::from_iter_values(
                    s.stats.iter().map(|st| st.value.as_f64()),
                )),
                Arc::new(StringArray::from_iter_values(
                    s.stats.iter().map(|st| st.unit),
                )),
            ],
            Kind::Cdf(_) => {
                let pct = |f: fn(&super::CdfRow) -> f64| {
                    Arc::new(Float64Array::from_iter(s.cdf.iter().map(|r| {
                        let v = f(r);
                        (!v.is_nan()).then_some(v)
                    }))) as _
                };
                vec![
                    Arc::new(UInt64Array::from_iter_values(s.cdf.iter().map(|r| r.up_to))),
                    pct(|r| r.flows),
                    pct(|r| r.packets),
                    pct(|r| r.octets),
                ]
            }
        };
        Ok(RecordBatch::try_new(self.schema(), columns)?)
    }
}

/// `flow_summary('<table or csv_hist path>')`.
#[derive(Debug)]
pub struct SummaryFunc;

/// `flow_cdf_summary('<table or csv_hist path>' [, 'length'|'size'|'duration'|'rate'])`.
#[derive(Debug)]
pub struct CdfSummaryFunc;

fn source(kind: Kind, exprs: &[Expr], max: usize) -> Result<String> {
    let usage = match kind {
        Kind::Stats => "flow_summary('<table or csv_hist path>')",
        Kind::Cdf(_) => {
            "flow_cdf_summary('<table or csv_hist path>' [, 'length'|'size'|'duration'|'rate'])"
        }
    };
    if exprs.is_empty() || exprs.len() > max {
        return plan_err!("{usage}: takes 1 to {max} arguments, got {}", exprs.len());
    }
    match args::string(&exprs[0]) {
        Some(s) => Ok(s.to_string()),
        None => plan_err!("{usage}: the first argument must be a table name or a path in quotes"),
    }
}

impl TableFunctionImpl for SummaryFunc {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let source = source(Kind::Stats, args.exprs(), 1)?;
        Ok(Arc::new(SummaryTable {
            source,
            kind: Kind::Stats,
        }))
    }
}

impl TableFunctionImpl for CdfSummaryFunc {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let exprs = args.exprs();
        let source = source(Kind::Cdf(None), exprs, 2)?;
        let x = match exprs.get(1) {
            None => None,
            Some(e) => match args::string(e) {
                Some(s) => Some(XValue::parse(s).map_err(|e| named("flow_cdf_summary", e))?),
                None => return plan_err!("flow_cdf_summary: x must be a string, got {e}"),
            },
        };
        Ok(Arc::new(SummaryTable {
            source,
            kind: Kind::Cdf(x),
        }))
    }
}

/// A summary of `source` (a registered table's name or a csv_hist path) as a table.
#[derive(Debug)]
pub struct SummaryTable {
    source: String,
    kind: Kind,
}

#[async_trait]
impl TableProvider for SummaryTable {
    fn schema(&self) -> SchemaRef {
        self.kind.schema()
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
        let name = self.kind.name();
        let Some(state) = session.as_any().downcast_ref::<SessionState>() else {
            return plan_err!("{name} needs a DataFusion SessionState");
        };
        // An existing file is a csv_hist (read by our reader, typed as pandas types it, even
        // where the session also resolves paths as tables); any other name a table or view.
        let is_file = std::fs::metadata(&self.source).is_ok_and(|m| m.is_file());
        let table = match is_file {
            true => None,
            false => crate::registered(state, &self.source).await?,
        };
        let input = match table {
            _ if is_file => SummaryInput::CsvHist(self.source.clone()),
            Some(table) => {
                let plan = LogicalPlanBuilder::scan(
                    self.source.as_str(),
                    provider_as_source(table),
                    None,
                )?
                .build()?;
                SummaryInput::Plan(state.create_physical_plan(&plan).await?)
            }
            None => {
                return Err(plan_datafusion_err!(
                    "{name}: '{}' is neither a registered table nor a csv_hist file",
                    self.source
                ));
            }
        };
        let exec: Arc<dyn ExecutionPlan> = Arc::new(SummaryExec::new(input, self.kind));
        crate::projected(exec, projection)
    }
}

/// Where a [`SummaryExec`] gets its histogram.
#[derive(Debug, Clone)]
pub enum SummaryInput {
    /// The rows of a plan (a registered table or view).
    Plan(Arc<dyn ExecutionPlan>),
    /// A csv_hist file, read when executed.
    CsvHist(String),
}

/// Reads the whole histogram when executed and returns its summary as one batch. Parameters are
/// plain data: the input (a plan or a path) and the [`SummaryKind`].
#[derive(Debug)]
pub struct SummaryExec {
    input: SummaryInput,
    kind: Kind,
    properties: Arc<PlanProperties>,
}

impl SummaryExec {
    pub fn new(input: SummaryInput, kind: Kind) -> Self {
        let properties = crate::plan_properties(kind.schema(), 1, EmissionType::Final);
        Self {
            input,
            kind,
            properties,
        }
    }
}

impl DisplayAs for SummaryExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "SummaryExec: {}", self.kind.name())?;
        if let Kind::Cdf(Some(x)) = self.kind {
            write!(f, ", x={x}")?;
        }
        if let SummaryInput::CsvHist(p) = &self.input {
            write!(f, ", csv_hist={p}")?;
        }
        Ok(())
    }
}

impl ExecutionPlan for SummaryExec {
    fn name(&self) -> &str {
        "SummaryExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        match &self.input {
            SummaryInput::Plan(p) => vec![p],
            SummaryInput::CsvHist(_) => vec![],
        }
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let input = match &self.input {
            SummaryInput::Plan(_) => {
                SummaryInput::Plan(crate::only_child("SummaryExec", children)?)
            }
            SummaryInput::CsvHist(p) if children.is_empty() => SummaryInput::CsvHist(p.clone()),
            SummaryInput::CsvHist(_) => {
                return datafusion::common::internal_err!("SummaryExec of a file has no input");
            }
        };
        Ok(Arc::new(SummaryExec::new(input, self.kind)))
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
        let input = self.input.clone();
        let kind = self.kind;
        let name = kind.name();
        let batch = async move {
            let batches = match input {
                SummaryInput::Plan(plan) => collect(plan, context).await?,
                SummaryInput::CsvHist(path) => {
                    let read = SpawnedTask::spawn_blocking(move || read_csv_hist(path));
                    vec![
                        read.join_unwind()
                            .await
                            .map_err(|e| DataFusionError::External(Box::new(e)))??,
                    ]
                }
            };
            kind.batch(&batches).map_err(|e| named(name, e))
        };
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.kind.schema(),
            futures::stream::once(batch),
        )))
    }
}
