//! flow-models functions for DataFusion. [`register_all`] is the single entry point that
//! installs every format (from `flow-provider`) and every function of the project: the
//! histogram (`flow_hist`, `log_bin`, `log_bin_hi`, `flow_duration`, `flow_rate`), the merge
//! (`flow_merge`), the sort (`flow_sort`), mixtures (`mixture_fit`, `mixture_pdf`, `mixture_cdf`, `mixture_generate`),
//! summaries of a histogram (`flow_summary`, `flow_cdf_summary`), time series (`flow_series`).
//! The modules [`hist`], [`merge`], [`sort`], [`mixture`], [`summary`] and [`series`] give the
//! same tools to Rust code.
//!
//! ```no_run
//! use datafusion::prelude::SessionContext;
//!
//! # async fn f() -> datafusion::common::Result<()> {
//! let ctx = SessionContext::new();
//! flow_udfs::register_all(&ctx)?;
//! // flow_models.hist -x length -b 12, then a mixture fitted to its flows column
//! ctx.sql("CREATE VIEW h AS SELECT * FROM flow_hist('examples/data/sample', 'length', 12)")
//!     .await?;
//! ctx.sql("SELECT mixture_fit(bin_lo, flows_sum, 'U6L4', 100) FROM h")
//!     .await?
//!     .show()
//!     .await?;
//! # Ok(()) }
//! ```

mod bins;
mod duration;
pub mod hist;
pub mod memory_pool;
pub mod merge;
pub mod mixture;
pub mod packed_group;
mod par;
pub mod row_index;
pub mod series;
pub mod sort;
pub mod summary;
pub mod text_columns;
mod udf;

use datafusion::common::Result;
use datafusion::execution::SessionState;
use datafusion::prelude::SessionContext;
pub(crate) use flow_provider::named;
use std::sync::Arc;

/// A session with this project's physical optimizer rule (`ORDER BY` over a binary trace as
/// the stable flow sort, [`sort::FlowSortRule`]) and every format and function
/// ([`register_all`]): how every session of this project is made (a `SessionContext` cannot
/// take physical rules once built).
pub fn context(
    config: datafusion::prelude::SessionConfig,
    runtime: Arc<datafusion::execution::runtime_env::RuntimeEnv>,
) -> Result<SessionContext> {
    let ctx = SessionContext::new_with_state(session_state(config, runtime));
    register_all(&ctx)?;
    Ok(ctx)
}

/// DataFusion's default session with this project's rule (no functions registered).
fn session_state(
    config: datafusion::prelude::SessionConfig,
    runtime: Arc<datafusion::execution::runtime_env::RuntimeEnv>,
) -> SessionState {
    let builder = datafusion::execution::SessionStateBuilder::new()
        .with_config(config)
        .with_runtime_env(runtime)
        .with_default_features();
    with_rules(builder).build()
}

/// `builder` (an application's own session, with its settings and rules) with this project's
/// rules added (`ORDER BY` as the flow sort; `GROUP BY` of integer columns on packed keys,
/// [`packed_group::PackedGroupRule`]; nested columns of a `COPY … STORED AS CSV` as
/// text, [`text_columns::NestedAsText`]): for embedding, before [`register_all`] on the built context.
pub fn with_rules(
    builder: datafusion::execution::SessionStateBuilder,
) -> datafusion::execution::SessionStateBuilder {
    builder
        .with_physical_optimizer_rule(Arc::new(sort::FlowSortRule::default()))
        .with_physical_optimizer_rule(Arc::new(packed_group::PackedGroupRule))
        .with_analyzer_rule(Arc::new(text_columns::NestedAsText))
}

/// Installs all flow formats, table functions and functions into `ctx`.
pub fn register_all(ctx: &SessionContext) -> Result<()> {
    flow_provider::register(ctx)?;
    register_hist(ctx);
    ctx.register_udtf("flow_merge", Arc::new(merge::FlowMergeFunc));
    mixture::register(ctx);
    ctx.register_udtf("flow_summary", Arc::new(summary::SummaryFunc));
    ctx.register_udtf("flow_cdf_summary", Arc::new(summary::CdfSummaryFunc));
    ctx.register_udtf("flow_series", Arc::new(series::FlowSeriesFunc));
    ctx.register_udtf("flow_sort", Arc::new(sort::FlowSortFunc));
    Ok(())
}

/// The SQL function `cryptopan(addr, key)` (Crypto-PAn of an IPv4 address as a u32, equal to
/// flow-models 2.2's `anonymize`), for building expressions without a context.
pub fn cryptopan() -> datafusion::logical_expr::ScalarUDF {
    datafusion::logical_expr::ScalarUDF::from(udf::CryptoPanUdf::new())
}

/// The SQL function `cryptopan6(w0, w1, w2, w3, key)` (Crypto-PAn over 128 bits of an IPv6
/// address as four u32 words; a struct of the four anonymized words `w0`…`w3`).
pub fn cryptopan6() -> datafusion::logical_expr::ScalarUDF {
    datafusion::logical_expr::ScalarUDF::from(udf::CryptoPan6Udf::new())
}

/// The scalar functions (`log_bin`, `log_bin_hi`, `flow_duration`, `flow_rate`, `cryptopan`,
/// `cryptopan6`)
/// and `flow_hist`.
fn register_hist(ctx: &SessionContext) {
    udf::all().into_iter().for_each(|f| ctx.register_udf(f));
    ctx.register_udtf("flow_hist", Arc::new(hist::FlowHistFunc));
}

/// `plan` cut to the columns a scan asked for, unless that is all of them in order.
pub(crate) fn projected(
    plan: Arc<dyn datafusion::physical_plan::ExecutionPlan>,
    projection: Option<&Vec<usize>>,
) -> Result<Arc<dyn datafusion::physical_plan::ExecutionPlan>> {
    use datafusion::physical_expr::{PhysicalExpr, expressions::Column};
    use datafusion::physical_plan::projection::ProjectionExec;
    let schema = plan.schema();
    match projection {
        Some(p) if !p.iter().copied().eq(0..schema.fields().len()) => {
            let exprs = p.iter().map(|&i| {
                let name = schema.field(i).name().clone();
                (
                    Arc::new(Column::new(&name, i)) as Arc<dyn PhysicalExpr>,
                    name,
                )
            });
            Ok(Arc::new(ProjectionExec::try_new(exprs, plan)?))
        }
        _ => Ok(plan),
    }
}

/// The table registered in `session` as `name`, if there is one (a table function's source).
pub(crate) async fn registered(
    session: &dyn datafusion::catalog::Session,
    name: &str,
) -> Result<Option<Arc<dyn datafusion::catalog::TableProvider>>> {
    let options = &session.config().options().catalog;
    let reference = datafusion::common::TableReference::from(name)
        .resolve(&options.default_catalog, &options.default_schema);
    let Some(catalog) = session.catalog_list().catalog(&reference.catalog) else {
        return Ok(None);
    };
    let Some(schema) = catalog.schema(&reference.schema) else {
        return Ok(None);
    };
    schema.table(&reference.table).await
}

/// A table function's source: the table registered in `session` as `source`, else the binary
/// trace at that path or URL (opened now: a table function's result is a table).
pub(crate) fn source_table(
    session: &dyn datafusion::catalog::Session,
    function: &str,
    source: &str,
) -> Result<Arc<dyn datafusion::catalog::TableProvider>> {
    if let Some(table) = futures::executor::block_on(registered(session, source))? {
        return Ok(table);
    }
    let trace = flow_provider::binary::FlowBinTable::open(session.runtime_env(), &[source])
        .map_err(|e| {
            datafusion::common::plan_datafusion_err!(
                "{function}: '{source}' is neither a registered table nor a readable trace: {e}"
            )
        })?;
    Ok(Arc::new(trace))
}

/// The physical plan of `exprs` over the table `source` (called `name` in the plan): the input
/// of an operator that reads a table function's source.
pub(crate) async fn source_input(
    session: &dyn datafusion::catalog::Session,
    name: &str,
    source: &Arc<dyn datafusion::catalog::TableProvider>,
    exprs: Vec<datafusion::logical_expr::Expr>,
) -> Result<Arc<dyn datafusion::physical_plan::ExecutionPlan>> {
    let source = datafusion::datasource::provider_as_source(source.clone());
    let plan = datafusion::logical_expr::LogicalPlanBuilder::scan(name, source, None)?
        .project(exprs)?
        .build()?;
    match session.as_any().downcast_ref::<SessionState>() {
        Some(state) => state.create_physical_plan(&plan).await,
        None => planning_state(session).create_physical_plan(&plan).await,
    }
}

/// A session of this library with the configuration and runtime of `session`, a session of
/// another library (a datafusion-python host reached through the FFI): planning our work
/// there would mean sending our providers and operators to a host that cannot decode them.
fn planning_state(session: &dyn datafusion::catalog::Session) -> SessionState {
    session_state(session.config().clone(), session.runtime_env().clone())
}

/// The properties of an operator of ours: `partitions` partitions of no known key, bounded.
pub(crate) fn plan_properties(
    schema: arrow::datatypes::SchemaRef,
    partitions: usize,
    emission: datafusion::physical_plan::execution_plan::EmissionType,
) -> Arc<datafusion::physical_plan::PlanProperties> {
    Arc::new(datafusion::physical_plan::PlanProperties::new(
        datafusion::physical_expr::EquivalenceProperties::new(schema),
        datafusion::physical_plan::Partitioning::UnknownPartitioning(partitions),
        emission,
        datafusion::physical_plan::execution_plan::Boundedness::Bounded,
    ))
}

/// The one child handed to `with_new_children` of a single-input operator `name`.
pub(crate) fn only_child(
    name: &str,
    mut children: Vec<Arc<dyn datafusion::physical_plan::ExecutionPlan>>,
) -> Result<Arc<dyn datafusion::physical_plan::ExecutionPlan>> {
    match children.pop() {
        Some(child) if children.is_empty() => Ok(child),
        _ => datafusion::common::internal_err!("{name} takes exactly one input"),
    }
}
