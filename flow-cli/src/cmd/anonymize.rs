//! `flow-models anonymize`: Crypto-PAn of the IPv4 addresses of flows (the SQL function
//! `cryptopan(addr, key)` over `sa3` and `da3`), as flow_models.anonymize writes them.

use crate::cmd::convert;
use datafusion::common::{DataFusionError, Result};
use datafusion::functions::core::expr_fn::get_field;
use datafusion::prelude::{col, lit, when};

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
    --ipv6 (an extension) also writes IPv6 flows (af 10), their addresses anonymized as 128-bit\n\
    Crypto-PAn (the same key; see cryptopan6 in the README).\n\
    In SQL: SELECT cryptopan(sa3, 'key…') FROM flowbin('trace'),\n\
    cryptopan6(sa0, sa1, sa2, sa3, 'key…')['w3'] for IPv6.")]
pub struct Args {
    #[command(flatten)]
    pub convert: convert::Args,
    /// Encryption key: 32 characters
    #[arg(long)]
    pub key: String,
    /// Write IPv6 flows (af 10) too, their four address words anonymized together as one
    /// 128-bit address (not in the original, which drops them)
    #[arg(long)]
    pub ipv6: bool,
}

pub async fn run(args: Args) -> Result<()> {
    if args.key.len() != 32 {
        return Err(DataFusionError::Plan(format!(
            "anonymize: --key must be 32 bytes long, got {}",
            args.key.len()
        )));
    }
    let (key, ipv6) = (args.key, args.ipv6);
    convert::run_with(args.convert, "anonymize", false, move |df| {
        let (v4, v6) = (flow_udfs::cryptopan(), flow_udfs::cryptopan6());
        let af = |n: u8| col("af").eq(lit(n));
        let mut kept = af(2).or(af(0));
        if ipv6 {
            kept = kept.or(af(10));
        }
        // Word i of an address (`sa` or `da`) anonymized: IPv4 in word 3; IPv6 all four.
        let word = |side: &str, i: usize| {
            let name = format!("{side}{i}");
            let v4 = match i {
                3 => v4.call(vec![col(&name), lit(key.clone())]),
                _ => col(&name),
            };
            let expr = match ipv6 {
                true => {
                    let words = (0..4).map(|j| col(format!("{side}{j}")));
                    let v6 = v6.call(words.chain([lit(key.clone())]).collect());
                    when(af(10), get_field(v6, format!("w{i}"))).otherwise(v4)?
                }
                false => v4,
            };
            Ok::<_, DataFusionError>(expr.alias(name))
        };
        let columns = (df.schema().fields().iter())
            .map(|f| {
                let n = f.name().as_str();
                match (n.get(..2), n[2.min(n.len())..].parse::<usize>()) {
                    (Some(side @ ("sa" | "da")), Ok(i)) if i < 4 => word(side, i),
                    _ => Ok(col(n)),
                }
            })
            .collect::<Result<Vec<_>>>()?;
        df.filter(kept)?.select(columns)
    })
    .await
}
