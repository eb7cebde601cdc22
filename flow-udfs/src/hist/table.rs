//! `flow_hist(<table or path>, 'length', 12 [, 'duration', 'rate', 'aggs'])`: the fast-path
//! histogram as a SQL table function. The first argument names a registered table or view (any
//! format, filtered views included); anything else is opened as a binary trace directory.

use super::exec::hist_plan;
use super::spec::{HistSpec, SumColumn, XValue};
use crate::named;
use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{Result, ScalarValue, plan_datafusion_err, plan_err};
use datafusion::datasource::provider_as_source;
use datafusion::execution::SessionState;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, TableType};
use datafusion::physical_plan::ExecutionPlan;
use flow_provider::args;
use flow_provider::binary::FlowBinTable;
use std::sync::Arc;

const USAGE: &str = "flow_hist('table or trace dir', 'length'|'size'|'duration'|'rate', bits \
                     [, 'duration', 'rate', 'aggs'])";

#[derive(Debug)]
pub struct FlowHistFunc;

fn string(e: &Expr) -> Result<&str> {
    args::string(e).ok_or_else(|| plan_datafusion_err!("{USAGE}: expected a string, got {e}"))
}

fn integer(e: &Expr) -> Result<u32> {
    let v = match args::integer(e) {
        Some(s) => s.cast_to(&arrow::datatypes::DataType::Int64)?,
        None => return plan_err!("{USAGE}: expected the number of bits, got {e}"),
    };
    match v {
        ScalarValue::Int64(Some(b)) if b >= 0 => Ok(b.min(200) as u32),
        other => plan_err!("{USAGE}: the number of bits must be >= 0, got {other}"),
    }
}

impl TableFunctionImpl for FlowHistFunc {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let [source, x, bits, columns @ ..] = args.exprs() else {
            return plan_err!("{USAGE}: too few arguments");
        };
        let columns: Vec<SumColumn> = columns
            .iter()
            .map(|c| SumColumn::parse(string(c)?).map_err(|e| named("flow_hist", e)))
            .collect::<Result<_>>()?;
        if let Some(c) = (1..columns.len()).find_map(|i| {
            let c = columns[i];
            columns[..i].contains(&c).then_some(c)
        }) {
            return plan_err!("{USAGE}: '{}' is summed twice", c.name());
        }
        let x = XValue::parse(string(x)?).map_err(|e| named("flow_hist", e))?;
        let spec = HistSpec::new(x, integer(bits)?, columns);
        Ok(Arc::new(HistTable {
            source: string(source)?.to_string(),
            spec,
        }))
    }
}

/// The histogram of `source` as a table; the source is resolved when the query is planned.
#[derive(Debug)]
pub struct HistTable {
    source: String,
    spec: HistSpec,
}

impl HistTable {
    /// The histogram `spec` of `source`: a registered table's name or a trace's path or URL.
    pub fn new(source: String, spec: HistSpec) -> Self {
        Self { source, spec }
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn spec(&self) -> &HistSpec {
        &self.spec
    }
}

#[async_trait]
impl TableProvider for HistTable {
    fn schema(&self) -> SchemaRef {
        self.spec.output_schema()
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
        let Some(state) = session.as_any().downcast_ref::<SessionState>() else {
            return plan_err!("flow_hist needs a DataFusion SessionState");
        };
        let table = match crate::registered(state, &self.source).await? {
            Some(table) => table,
            None => Arc::new(
                FlowBinTable::open(state.runtime_env(), &[self.source.as_str()]).map_err(|e| {
                    plan_datafusion_err!(
                        "flow_hist: '{}' is neither a registered table nor a binary trace: {e}",
                        self.source
                    )
                })?,
            ),
        };
        let plan = LogicalPlanBuilder::scan(self.source.as_str(), provider_as_source(table), None)?
            .project(self.spec.input_exprs())?
            .build()?;
        let input = state.create_physical_plan(&plan).await?;
        crate::projected(hist_plan(input, self.spec.clone()), projection)
    }
}
