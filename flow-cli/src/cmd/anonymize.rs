//! `flow-models anonymize`: Crypto-PAn of the IPv4 addresses of flows (the SQL function
//! `cryptopan(addr, key)` over `sa3` and `da3`), as flow_models.anonymize writes them.

use crate::cmd::convert;
use datafusion::common::{DataFusionError, Result};
use datafusion::prelude::{col, lit};

/// Anonymize IPv4 addresses of flows with Crypto-PAn (like flow_models.anonymize).
#[derive(clap::Args, Debug)]
#[group(id = "anonymize")]
#[command(after_help = "Examples:\n  \
    # the first 1000 flows of a binary trace, anonymized, as csv_flow on standard output\n  \
    flow-models anonymize -i binary -O - --count-in 1000 --key boojahyoo3vaeToong0Eijee7Ahz3yee sorted\n\n  \
    # a whole trace into a new binary trace\n  \
    flow-models anonymize -i binary -o binary -O anon --key \"$(cat key.txt)\" trace\n\n\
    Crypto-PAn (prefix-preserving: addresses sharing a k-bit prefix keep a common k-bit prefix)\n\
    over sa3 and da3 with AES-128, equal to flow-models 2.2's output for the same key. The key\n\
    is 32 characters, used as bytes; it is never printed. As the original, only IPv4 flows\n\
    (af 2, or 0) are written, after --skip-in/--count-in, --filter and --skip-out/--count-out.\n\
    In SQL: SELECT cryptopan(sa3, 'key…') FROM flowbin('trace').")]
pub struct Args {
    #[command(flatten)]
    pub convert: convert::Args,
    /// Encryption key: 32 characters
    #[arg(long)]
    pub key: String,
}

pub async fn run(args: Args) -> Result<()> {
    if args.key.len() != 32 {
        return Err(DataFusionError::Plan(format!(
            "anonymize: --key must be 32 bytes long, got {}",
            args.key.len()
        )));
    }
    let key = args.key;
    convert::run_with(args.convert, "anonymize", move |df| {
        let udf = flow_udfs::cryptopan();
        let ipv4 = col("af").eq(lit(2u8)).or(col("af").eq(lit(0u8)));
        let columns: Vec<_> = df
            .schema()
            .fields()
            .iter()
            .map(|f| match f.name().as_str() {
                n @ ("sa3" | "da3") => udf.call(vec![col(n), lit(key.clone())]).alias(n),
                n => col(n),
            })
            .collect();
        df.filter(ipv4)?.select(columns)
    })
    .await
}
