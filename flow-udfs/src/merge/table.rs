//! `MergeTable`: any flow table, merged, as a table; and the SQL table function
//! `flow_merge('<table or path>' [, inactive_s [, active_s]])` that builds one. A table
//! function gets only scalar arguments, so the input is named: a registered table, else a path
//! of a binary trace.

use super::MergeParams;
use super::exec::{MergeExec, Mode};
use super::trace::TraceMergeExec;
use crate::named;
use crate::row_index::{RowIndexExec, flowbin_scan};
use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::{Expr, TableType};
use datafusion::physical_plan::ExecutionPlan;
use flow_provider::args;
use flow_provider::fields::standard_schema;
use std::sync::Arc;

/// `inner` merged with `params`: the 21 standard fields, one row per merged flow. What a merge
/// did is in its plan's metrics: [`super::counters`] of the executed plan.
#[derive(Debug, Clone)]
pub struct MergeTable {
    inner: Arc<dyn TableProvider>,
    params: MergeParams,
    /// Always merge by key partitions (never the one-pass strategies of a trace, which read
    /// every partition of the input in one task): for a distributed engine.
    by_key: bool,
}

impl MergeTable {
    pub fn new(inner: Arc<dyn TableProvider>, params: MergeParams) -> Self {
        Self {
            inner,
            params,
            by_key: false,
        }
    }

    /// The same merge planned for a distributed engine: the input hash-partitioned by key
    /// (a shuffle), each partition sorted by time and input position (spilling where it runs)
    /// and merged on its own. Same flows as [`MergeTable::new`], in another order.
    pub fn by_key(inner: Arc<dyn TableProvider>, params: MergeParams) -> Self {
        Self {
            inner,
            params,
            by_key: true,
        }
    }

    pub fn inner(&self) -> &Arc<dyn TableProvider> {
        &self.inner
    }

    pub fn params(&self) -> MergeParams {
        self.params
    }
}

/// The merge plan over an input scan: [`TraceMergeExec`] for binary traces (it chooses its
/// strategy from the data when run), otherwise a per-key sort planned by DataFusion (spilling
/// under its memory pool). Reads nothing.
pub fn merge_plan(
    scan: Arc<dyn ExecutionPlan>,
    params: MergeParams,
    partitions: usize,
) -> Result<Arc<dyn ExecutionPlan>> {
    if flowbin_scan(&scan).is_some() {
        return Ok(Arc::new(TraceMergeExec::new(scan, params, partitions)));
    }
    merge_by_key(scan, params)
}

/// The merge of `scan` by key partitions: a per-key sort planned by DataFusion.
fn merge_by_key(
    scan: Arc<dyn ExecutionPlan>,
    params: MergeParams,
) -> Result<Arc<dyn ExecutionPlan>> {
    // Ties in (first, first_ms) keep input order where positions are known.
    let input: Arc<dyn ExecutionPlan> = match RowIndexExec::try_new(scan.clone()) {
        Ok(indexed) => Arc::new(indexed),
        Err(_) => scan,
    };
    Ok(Arc::new(MergeExec::try_new(
        input,
        Mode::Partitioned,
        params,
    )?))
}

#[async_trait]
impl TableProvider for MergeTable {
    fn schema(&self) -> SchemaRef {
        standard_schema()
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
        let scan = self.inner.scan(state, None, &[], None).await?;
        let partitions = state.config().target_partitions();
        let plan = match self.by_key {
            true => merge_by_key(scan, self.params)?,
            false => merge_plan(scan, self.params, partitions)?,
        };
        crate::projected(plan, projection)
    }
}

/// `flow_merge('<table or path>' [, inactive_s [, active_s]])`, timeouts default 15 and 300.
#[derive(Debug)]
pub struct FlowMergeFunc;

fn number(e: &Expr, what: &str) -> Result<f64> {
    let Some(v) = args::literal(e) else {
        return plan_err!("flow_merge: {what} must be a number of seconds, got {e}");
    };
    match v.cast_to(&arrow::datatypes::DataType::Float64) {
        Ok(ScalarValue::Float64(Some(x))) => Ok(x),
        _ => plan_err!("flow_merge: {what} must be a number of seconds, got {v}"),
    }
}

impl TableFunctionImpl for FlowMergeFunc {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let exprs = args.exprs();
        let source = match exprs.first().and_then(flow_provider::args::string) {
            Some(s) => s.to_string(),
            None => {
                return plan_err!(
                    "flow_merge('<table or path>' [, inactive_s [, active_s]]): the first \
                     argument must be a table name or a trace path in quotes"
                );
            }
        };
        if exprs.len() > 3 {
            return plan_err!("flow_merge takes at most 3 arguments, got {}", exprs.len());
        }
        let inactive = exprs
            .get(1)
            .map_or(Ok(15.0), |e| number(e, "inactive timeout"))?;
        let active = exprs
            .get(2)
            .map_or(Ok(300.0), |e| number(e, "active timeout"))?;
        let params =
            MergeParams::from_seconds(inactive, active).map_err(|e| named("flow_merge", e))?;
        let inner = crate::source_table(args.session(), "flow_merge", &source)?;
        Ok(Arc::new(MergeTable::new(inner, params)))
    }
}
