//! Embedding: add flow-models' rule, formats and functions to your own DataFusion application
//! (two calls), then query flow traces like any other table.
//!
//! Run: `cargo run --example embed [TRACE_DIR]`

use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::SessionContext;
use flow_models::flow_provider::SessionContextFlowExt;

#[tokio::main]
async fn main() -> datafusion::error::Result<()> {
    let trace = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "examples/data/sample".into());
    // Your session as you build it, plus our physical optimizer rule (ORDER BY over a trace as
    // the fast, stable flow sort); `flow_models::context(config, runtime)` does both in one.
    let state = flow_models::with_rules(SessionStateBuilder::new().with_default_features());
    let ctx = SessionContext::new_with_state(state.build());
    // Everything: STORED AS FLOWBIN/CSV_FLOW/PIPE, COPY sinks, flowbin()/csv_flow()/pipe() ...
    flow_models::register_all(&ctx)?;
    // ... and the one-line registration of a trace under a name.
    ctx.register_flowbin("flows", &trace)?;

    ctx.sql(
        "SELECT prot, count(*) AS flows, sum(packets) AS packets, sum(octets) AS octets \
         FROM flows GROUP BY prot ORDER BY flows DESC",
    )
    .await?
    .show()
    .await?;

    // The first flows in time order, ties in trace order (the stable sort, as `sort` writes).
    ctx.sql("SELECT first, first_ms, sp, dp, packets FROM flows ORDER BY first, first_ms")
        .await?
        .limit(0, Some(3))?
        .show()
        .await?;

    // The same trace through the DataFrame API.
    let df = ctx.read_flowbin(&[&trace])?;
    println!("{} flow records", df.count().await?);
    Ok(())
}
