//! A Ballista cluster in one process: a scheduler and two executors started as tasks (as
//! `flow-models scheduler` and `flow-models executor` run them), then the canonical queries —
//! the histogram of `sql/hist.sql` and a mixture fitted to it (`sql/fit.sql` over that
//! histogram), then `flow_hist` — run on the cluster. The counts and integer sums are compared
//! with the local answer (floating-point sums such as `rate_sum` are added in the order partial results
//! arrive, so their last digits may differ from run to run, as between partitionings locally).
//!
//! Run: `cargo run --example ballista [TRACE_DIR]`

use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::common::Result;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::prelude::SessionConfig;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<()> {
    let trace = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "examples/data/sample".into());
    let work =
        tempfile::tempdir().map_err(|e| datafusion::error::DataFusionError::External(e.into()))?;
    let url = flow_ballista::start_in_process(2, 1, work.path()).await?;
    let remote =
        flow_ballista::remote_context(&url, SessionConfig::new(), Arc::new(RuntimeEnv::default()))
            .await?;
    let local = flow_models::context(SessionConfig::new(), Arc::new(RuntimeEnv::default()))?;
    let table = format!("CREATE EXTERNAL TABLE flows STORED AS FLOWBIN LOCATION '{trace}'");
    let hist = include_str!("../sql/hist.sql");
    let hist = hist.trim_end().trim_end_matches(';');
    let fit = format!("SELECT mixture_fit(bin_lo, flows_sum, 'U6L4', 100) AS flows FROM ({hist})");
    for ctx in [&local, &remote] {
        ctx.sql(&table).await?.collect().await?;
    }
    for query in [hist, fit.as_str()] {
        println!(
            "{}",
            pretty_format_batches(&remote.sql(query).await?.collect().await?)?
        );
    }
    let sums = "SELECT count(*), sum(packets), sum(octets), \
                sum(CAST(flow_duration(first, first_ms, last, last_ms, packets) AS DECIMAL(38, 0))) \
                AS duration FROM flows";
    // The fast histogram: partial histograms where the trace is read, merged in one task.
    let fast = format!("SELECT * FROM flow_hist('{trace}', 'length', 12)");
    let mut same = true;
    for query in [sums, fast.as_str()] {
        let on_cluster = pretty_format_batches(&remote.sql(query).await?.collect().await?)?;
        let here = pretty_format_batches(&local.sql(query).await?.collect().await?)?;
        println!("{on_cluster}");
        same &= on_cluster.to_string() == here.to_string();
    }
    println!(
        "on the cluster ({url}) and locally: {}",
        if same { "the same" } else { "DIFFERENT" }
    );
    if !same {
        std::process::exit(1);
    }
    // The scheduler and executors run until the process ends.
    std::process::exit(0)
}
