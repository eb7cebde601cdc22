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
use datafusion::logical_expr::{Expr, TableType};
use datafusion::physical_plan::ExecutionPlan;
use flow_provider::args;
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
        Ok(Arc::new(HistTable::open(
            args.session(),
            string(source)?,
            spec,
        )?))
    }
}

/// The histogram of a table, as a table.
#[derive(Debug)]
pub struct HistTable {
    /// What the source was called (a table's name or a trace's path): the scan's name.
    name: String,
    source: Arc<dyn TableProvider>,
    spec: HistSpec,
}

impl HistTable {
    /// The histogram `spec` of `source`, called `name` in plans.
    pub fn new(name: String, source: Arc<dyn TableProvider>, spec: HistSpec) -> Self {
        Self { name, source, spec }
    }

    /// The histogram `spec` of `source`: a table registered in `session`, else the binary
    /// trace at that path or URL.
    pub fn open(session: &dyn Session, source: &str, spec: HistSpec) -> Result<Self> {
        let table = crate::source_table(session, "flow_hist", source)?;
        Ok(Self::new(source.to_string(), table, spec))
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn source(&self) -> &Arc<dyn TableProvider> {
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
        let exprs = self.spec.input_exprs();
        let input = crate::source_input(session, &self.name, &self.source, exprs).await?;
        crate::projected(hist_plan(input, self.spec.clone()), projection)
    }
}
