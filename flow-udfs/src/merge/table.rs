//! `MergeTable`: any flow table, merged, as a table; and the SQL table function
//! `flow_merge('<table or path>' [, inactive_s [, active_s]])` that builds one. A table
//! function gets only scalar arguments, so the input is named: a registered table, else a path
//! of a binary trace.

use super::exec::{MergeExec, Mode};
use super::{Counters, MergeParams, SharedCounters};
use crate::named;
use crate::packed_sort::sorted_trace_plan;
use crate::row_index::{RowIndexExec, flowbin_scan};
use arrow::array::{Array, AsArray};
use arrow::datatypes::{SchemaRef, UInt16Type, UInt32Type};
use async_trait::async_trait;
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{DataFusionError, Result, ScalarValue, TableReference, plan_err};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Expr, TableType};
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::projection::ProjectionExec;
use flow_provider::binary::FlowBinTable;
use flow_provider::fields::standard_schema;
use futures::StreamExt;
use std::sync::Arc;

/// `inner` merged with `params`: the 21 standard fields, one row per merged flow.
#[derive(Debug, Clone)]
pub struct MergeTable {
    inner: Arc<dyn TableProvider>,
    params: MergeParams,
    counters: SharedCounters,
}

impl MergeTable {
    pub fn new(inner: Arc<dyn TableProvider>, params: MergeParams) -> Self {
        Self {
            inner,
            params,
            counters: SharedCounters::default(),
        }
    }

    /// What the merges run so far did (summed over partitions).
    pub fn counters(&self) -> Counters {
        self.counters.get()
    }
}

/// Whether a flowbin scan is in (first, first_ms) order, partitions being consecutive ranges.
/// Reads two narrow columns from the memory map: cheap next to the merge itself.
pub async fn is_time_ordered(scan: &Arc<dyn ExecutionPlan>, ctx: Arc<TaskContext>) -> Result<bool> {
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

/// The merge plan over an input scan: one streaming pass for a time-ordered flowbin scan,
/// otherwise per-key sort (planned by DataFusion, spilling under its memory pool).
pub async fn merge_plan(
    scan: Arc<dyn ExecutionPlan>,
    params: MergeParams,
    counters: SharedCounters,
    partitions: usize,
    ctx: Arc<TaskContext>,
) -> Result<Arc<dyn ExecutionPlan>> {
    if flowbin_scan(&scan).is_some() && is_time_ordered(&scan, ctx.clone()).await? {
        return Ok(Arc::new(MergeExec::try_new(
            scan,
            Mode::Ordered { partitions },
            params,
            counters,
        )?));
    }
    // One binary trace in another order (a collector's): sort it by time in memory when the
    // pool allows, and merge that in one pass on one merge partition: the gather of the sorted
    // columns (on all cores) is the larger cost, and every merge partition would repeat it.
    let keys = ["first", "first_ms"].map(String::from);
    if let Some(fb) = flowbin_scan(&scan)
        && let [trace] = fb.traces()
        && keys.iter().all(|c| scan.schema().index_of(c).is_ok())
        && let Some(sorted) = sorted_trace_plan(trace, &keys, &ctx)?
    {
        return Ok(Arc::new(MergeExec::try_new(
            sorted,
            Mode::Ordered { partitions: 1 },
            params,
            counters,
        )?));
    }
    // Ties in (first, first_ms) keep input order where positions are known.
    let input: Arc<dyn ExecutionPlan> = match RowIndexExec::try_new(scan.clone()) {
        Ok(indexed) => Arc::new(indexed),
        Err(_) => scan,
    };
    Ok(Arc::new(MergeExec::try_new(
        input,
        Mode::Partitioned,
        params,
        counters,
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
        let plan = merge_plan(
            scan,
            self.params,
            self.counters.clone(),
            partitions,
            state.task_ctx(),
        )
        .await?;
        match projection {
            None => Ok(plan),
            Some(cols) => {
                let schema = plan.schema();
                let exprs = cols.iter().map(|&i| {
                    let name = schema.field(i).name().clone();
                    (Arc::new(Column::new(&name, i)) as _, name)
                });
                Ok(Arc::new(ProjectionExec::try_new(exprs, plan)?))
            }
        }
    }
}

/// `flow_merge('<table or path>' [, inactive_s [, active_s]])`, timeouts default 15 and 300.
#[derive(Debug)]
pub struct FlowMergeFunc;

fn number(e: &Expr, what: &str) -> Result<f64> {
    let v = match e {
        Expr::Literal(v, _) => v.clone(),
        other => return plan_err!("flow_merge: {what} must be a number of seconds, got {other}"),
    };
    match v.cast_to(&arrow::datatypes::DataType::Float64) {
        Ok(ScalarValue::Float64(Some(x))) => Ok(x),
        _ => plan_err!("flow_merge: {what} must be a number of seconds, got {v}"),
    }
}

impl TableFunctionImpl for FlowMergeFunc {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let exprs = args.exprs();
        let source = match exprs.first() {
            Some(Expr::Literal(
                ScalarValue::Utf8(Some(s))
                | ScalarValue::LargeUtf8(Some(s))
                | ScalarValue::Utf8View(Some(s)),
                _,
            )) => s.clone(),
            _ => {
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
        let inner = match lookup_table(args.session(), &source)? {
            Some(t) => t,
            None => Arc::new(FlowBinTable::try_new(&[&source]).map_err(|e| {
                DataFusionError::Plan(format!(
                    "flow_merge: '{source}' is neither a registered table nor a readable trace: {e}"
                ))
            })?) as Arc<dyn TableProvider>,
        };
        Ok(Arc::new(MergeTable::new(inner, params)))
    }
}

/// The registered table `name`, if any (table lookups are async; in-memory catalogs answer
/// at once, so blocking here is brief).
fn lookup_table(session: &dyn Session, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
    let options = &session.config().options().catalog;
    let reference =
        TableReference::from(name).resolve(&options.default_catalog, &options.default_schema);
    let Some(catalog) = session.catalog_list().catalog(&reference.catalog) else {
        return Ok(None);
    };
    let Some(schema) = catalog.schema(&reference.schema) else {
        return Ok(None);
    };
    if !schema.table_exist(&reference.table) {
        return Ok(None);
    }
    futures::executor::block_on(schema.table(&reference.table))
}
