//! The DataFusion session every subcommand runs in: all flow formats and functions installed.

use datafusion::common::Result;
use datafusion::prelude::{SessionConfig, SessionContext};
use flow_udfs::sort::parse_size;
use std::path::PathBuf;

/// Memory flags (hist, merge, sort, sql).
#[derive(clap::Args, Debug, Default)]
pub struct SpillArgs {
    /// Memory the query may use, e.g. 2G: sorts spill to disk beyond it, other operators stop
    /// with an error naming themselves
    #[arg(long, value_parser = parse_size)]
    pub memory_limit: Option<usize>,
    /// Directory for spill files (default: the system temporary directory)
    #[arg(long)]
    pub temp_dir: Option<PathBuf>,
}

/// A context with everything registered. `ordered` keeps one partition so rows come out in
/// input order (what convert's --skip/--count semantics need); otherwise both cores are used.
pub fn context(ordered: bool) -> Result<SessionContext> {
    spilling_context(ordered, SpillArgs::default())
}

/// Like [`context`], with operators sharing at most `--memory-limit` bytes and spilling to
/// `--temp-dir` beyond it.
pub fn spilling_context(ordered: bool, spill: SpillArgs) -> Result<SessionContext> {
    let mut config = SessionConfig::from_env()?.with_information_schema(true);
    if ordered {
        config = config.with_target_partitions(1);
    }
    let runtime = flow_udfs::sort::spilling_runtime(spill.memory_limit, spill.temp_dir)?;
    let ctx = SessionContext::new_with_config_rt(config, runtime).enable_url_table();
    flow_udfs::register_all(&ctx)?;
    Ok(ctx)
}
