//! Export: write a flow-models binary trace (or a selection of it) as Parquet with DataFusion's
//! own writer, e.g. to hand flow data to Spark, DuckDB or pandas.
//!
//! Run: `cargo run --example parquet_export [TRACE_DIR] [OUT.parquet]`

use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::prelude::{ParquetReadOptions, SessionContext, col, lit};
use flow_models::flow_provider::SessionContextFlowExt;

#[tokio::main]
async fn main() -> datafusion::error::Result<()> {
    let mut args = std::env::args().skip(1);
    let trace = args.next().unwrap_or_else(|| "examples/data/sample".into());
    let out = args.next().unwrap_or_else(|| "tcp_flows.parquet".into());

    let ctx = SessionContext::new();
    flow_models::register_all(&ctx)?;
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
