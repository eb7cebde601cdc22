//! flow-models functions for DataFusion. [`register_all`] is the single entry point that
//! installs every format (from `flow-provider`) and every function of the project.

mod bins;
mod duration;
pub mod hist;
pub mod merge;
pub mod mixture;
mod par;
mod row_index;
pub mod sort;
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
