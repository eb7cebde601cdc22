//! Embedding: add flow-models' formats and functions to your own DataFusion application with
//! one call, then query flow traces like any other table.
//!
//! Run: `cargo run --example embed [TRACE_DIR]`

use datafusion::prelude::SessionContext;
use flow_models::flow_provider::SessionContextFlowExt;

#[tokio::main]
async fn main() -> datafusion::error::Result<()> {
    let trace = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "examples/data/sample".into());
    let ctx = SessionContext::new();
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

    // The same trace through the DataFrame API.
    let df = ctx.read_flowbin(&[&trace])?;
    println!("{} flow records", df.count().await?);
    Ok(())
}
