//! The DataFusion session every subcommand runs in: all flow formats and functions installed.

use datafusion::common::Result;
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::prelude::{SessionConfig, SessionContext};
use flow_udfs::memory_pool::HeadroomPool;
use std::path::PathBuf;
use std::sync::Arc;

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
    let config = config(ordered)?;
    let runtime = spilling_runtime(spill.memory_limit, spill.temp_dir)?;
    Ok(flow_udfs::context(config, runtime)?.enable_url_table())
}

/// A context whose queries run on the Ballista cluster of the scheduler at `url`
/// (`df://host:port`), with everything registered; `ordered` reads inputs in one partition
/// (as [`context`]); `spill` applies to what runs in this process (the client's part of a
/// plan).
pub async fn remote_context(url: &str, ordered: bool, spill: SpillArgs) -> Result<SessionContext> {
    let config = config(ordered)?;
    let runtime = spilling_runtime(spill.memory_limit, spill.temp_dir)?;
    flow_ballista::remote_context(url, config, runtime).await
}

/// The session configuration (DATAFUSION_* variables apply); `ordered`: one partition.
fn config(ordered: bool) -> Result<SessionConfig> {
    let config = SessionConfig::from_env()?.with_information_schema(true);
    Ok(match ordered {
        true => config.with_target_partitions(1),
        false => config,
    })
}

/// A runtime whose operators share `limit` bytes fairly (the sorts an eighth less, see
/// [`HeadroomPool`]) and spill beyond it, to `temp_dir` (or the system temporary directory).
fn spilling_runtime(limit: Option<usize>, temp_dir: Option<PathBuf>) -> Result<Arc<RuntimeEnv>> {
    let mut builder = RuntimeEnvBuilder::new();
    if let Some(limit) = limit {
        builder = builder.with_memory_pool(Arc::new(HeadroomPool::new(limit)));
    }
    if let Some(dir) = temp_dir {
        builder = builder.with_temp_file_path(dir);
    }
    builder.build_arc()
}

/// Parses a size like `2G`, `512M`, `1.5g`, `100000` (bytes); K/M/G/T are powers of 1024.
pub fn parse_size(s: &str) -> std::result::Result<usize, String> {
    let t = s.trim();
    let (num, mult) = match t.chars().last().map(|c| c.to_ascii_uppercase()) {
        Some('K') => (&t[..t.len() - 1], 1u64 << 10),
        Some('M') => (&t[..t.len() - 1], 1 << 20),
        Some('G') => (&t[..t.len() - 1], 1 << 30),
        Some('T') => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a size like 2G or 512M"))?;
    if !v.is_finite() || v <= 0.0 {
        return Err(format!("'{s}' is not a positive size"));
    }
    Ok((v * mult as f64) as usize)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert_eq!(parse_size("512m"), Ok(512 << 20));
        assert_eq!(parse_size("1.5K"), Ok(1536));
        assert_eq!(parse_size("100"), Ok(100));
        assert!(parse_size("x").is_err());
        assert!(parse_size("-1G").is_err());
        assert!(parse_size("").is_err());
    }
}
