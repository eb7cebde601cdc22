//! flow-models functions for DataFusion. [`register_all`] is the single entry point that
//! installs every format (from `flow-provider`) and every function of the project: the
//! histogram (`flow_hist`, `log_bin`, `log_bin_hi`, `flow_duration`, `flow_rate`), the merge
//! (`flow_merge`), mixtures (`mixture_fit`, `mixture_pdf`, `mixture_cdf`, `mixture_generate`),
//! summaries of a histogram (`flow_summary`, `flow_cdf_summary`).
//! The modules [`hist`], [`merge`], [`sort`], [`mixture`] and [`summary`] give the same tools to Rust code.
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
pub mod merge;
pub mod mixture;
mod par;
mod row_index;
pub mod sort;
pub mod summary;
mod udf;

use datafusion::common::Result;
use datafusion::prelude::SessionContext;
pub(crate) use flow_provider::named;
use std::sync::Arc;

/// Installs all flow formats, table functions and functions into `ctx`.
pub fn register_all(ctx: &SessionContext) -> Result<()> {
    flow_provider::register(ctx)?;
    register_hist(ctx);
    ctx.register_udtf("flow_merge", Arc::new(merge::FlowMergeFunc));
    mixture::register(ctx);
    ctx.register_udtf("flow_summary", Arc::new(summary::SummaryFunc));
    ctx.register_udtf("flow_cdf_summary", Arc::new(summary::CdfSummaryFunc));
    Ok(())
}

/// The histogram functions: `log_bin`, `log_bin_hi`, `flow_duration`, `flow_rate`, `flow_hist`.
fn register_hist(ctx: &SessionContext) {
    udf::all().into_iter().for_each(|f| ctx.register_udf(f));
    ctx.register_udtf("flow_hist", Arc::new(hist::FlowHistFunc));
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
