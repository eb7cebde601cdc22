//! The DataFusion session every subcommand runs in: all flow formats and functions installed.

use datafusion::common::Result;
use datafusion::prelude::{SessionConfig, SessionContext};

/// A context with everything registered. `ordered` keeps one partition so rows come out in
/// input order (what convert's --skip/--count semantics need); otherwise both cores are used.
pub fn context(ordered: bool) -> Result<SessionContext> {
    let mut config = SessionConfig::new().with_information_schema(true);
    if ordered {
        config = config.with_target_partitions(1);
    }
    let ctx = SessionContext::new_with_config(config).enable_url_table();
    flow_udfs::register_all(&ctx)?;
    Ok(ctx)
}

/// Like [`context`], with operators sharing at most `memory_limit` bytes and spilling to
/// `temp_dir` (default: the system temporary directory) beyond it.
pub fn context_with_memory(
    ordered: bool,
    memory_limit: Option<usize>,
    temp_dir: Option<std::path::PathBuf>,
) -> Result<SessionContext> {
    let mut config = SessionConfig::new().with_information_schema(true);
    if ordered {
        config = config.with_target_partitions(1);
    }
    let runtime = flow_udfs::sort::spilling_runtime(memory_limit, temp_dir)?;
    let ctx = SessionContext::new_with_config_rt(config, runtime).enable_url_table();
    flow_udfs::register_all(&ctx)?;
    Ok(ctx)
}
