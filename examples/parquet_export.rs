//! Export: write a flow-models binary trace (or a selection of it) as Parquet with DataFusion's
//! own writer, e.g. to hand flow data to Spark, DuckDB or pandas.
//!
//! Run: `cargo run --example parquet_export [TRACE_DIR] [OUT.parquet]`

use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::prelude::{ParquetReadOptions, SessionConfig, col, lit};
use flow_models::flow_provider::SessionContextFlowExt;
use std::sync::Arc;

#[tokio::main]
async fn main() -> datafusion::error::Result<()> {
    let mut args = std::env::args().skip(1);
    let trace = args.next().unwrap_or_else(|| "examples/data/sample".into());
    let out = args.next().unwrap_or_else(|| "tcp_flows.parquet".into());

    // A session with every flow format, function and rule.
    let ctx = flow_models::context(SessionConfig::new(), Arc::new(RuntimeEnv::default()))?;
    let tcp = ctx
        .read_flowbin(&[&trace])?
        .filter(col("prot").eq(lit(6u8)))?;
    let options = DataFrameWriteOptions::new().with_single_file_output(true);
    tcp.write_parquet(&out, options, None).await?;

    let written = ctx
        .read_parquet(&out, ParquetReadOptions::default())
        .await?;
    println!("wrote {} TCP flow records to {out}", written.count().await?);
    Ok(())
}
