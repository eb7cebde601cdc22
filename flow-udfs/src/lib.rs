//! flow-models functions for DataFusion. [`register_all`] is the single entry point that
//! installs every format (from `flow-provider`) and every function of the project.

pub mod mixture;

use datafusion::common::Result;
use datafusion::prelude::SessionContext;

/// Installs all flow formats, table functions and functions into `ctx`.
pub fn register_all(ctx: &SessionContext) -> Result<()> {
    flow_provider::register(ctx)?;
    mixture::register(ctx);
    Ok(())
}
