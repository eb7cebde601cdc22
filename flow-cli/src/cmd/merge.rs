//! `flow-models merge`: stitch flow records split by the active timeout back into flows.

use crate::cmd::convert::OutputArgs;
use crate::input::{self, InputArgs};
use crate::session::{self, SpillArgs};
use crate::{progress, report};
use datafusion::common::Result;
use datafusion::physical_plan::execute_stream;
use flow_udfs::merge::{self, MergeParams, MergeTable};
use std::sync::Arc;

/// Merge flow records split by the active timeout back into whole flows.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  \
    # merge a binary trace collected with 15 s inactive / 300 s active timeouts\n  \
    flow-models merge -I 15 -A 300 -o binary -O merged examples/data/sample\n\n  \
    # nfdump pipe text in, csv_flow out on standard output\n  \
    flow-models merge -i pipe -O - flows.txt\n\n\
    A record shorter than (active - inactive) is final. A longer one waits for the next record\n\
    of its key (af prot inif outif sa0..sa3 da0..da3 sp dp) starting less than the inactive\n\
    timeout after its end, which is merged into it. Unlike flow-models' merge.py, records of a\n\
    key are taken in start order, gaps are computed in whole milliseconds, and records that\n\
    overlap in time are kept (unmerged) and counted, not dropped. The counters and the checked\n\
    invariants (records in = written + merged; packets, octets and aggs conserved) are printed\n\
    on standard error. A time-ordered binary trace is merged in one streaming pass; a single\n\
    binary trace in another order is sorted by time in memory first (16 bytes per record);\n\
    other inputs, or that trace beyond --memory-limit, are sorted per key (spilling), as on a\n\
    cluster (--remote df://HOST:PORT).")]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    /// Inactive timeout of the collector, in seconds (fractions allowed)
    #[arg(short = 'I', long = "inactive-timeout", default_value_t = 15.0)]
    pub inactive: f64,
    /// Active timeout of the collector, in seconds (fractions allowed)
    #[arg(short = 'A', long = "active-timeout", default_value_t = 300.0)]
    pub active: f64,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(flatten)]
    pub spill: SpillArgs,
    /// Merge on the Ballista cluster of this scheduler (df://HOST:PORT), by key partitions;
    /// the merged flows are written here (in the order they arrive)
    #[arg(long, value_name = "URL")]
    pub remote: Option<String>,
}

pub async fn run(args: Args) -> Result<()> {
    let params = MergeParams::from_seconds(args.inactive, args.active)?;
    let ctx = match &args.remote {
        Some(url) => session::remote_context(url, false, args.spill).await?,
        None => session::spilling_context(false, args.spill)?,
    };
    let input = input::read(&ctx, &args.input).await?;
    let table = MergeTable::new(input.df.into_view(), params);
    let plan = ctx
        .read_table(Arc::new(table))?
        .create_physical_plan()
        .await?;
    let stream = execute_stream(plan.clone(), ctx.task_ctx())?;
    let written = progress::write(stream, args.out.format()?, &args.out.output, None).await?;
    if args.remote.is_some() {
        // The executors' counters stay there; each merging partition checks the invariants
        // and fails the query if one is broken.
        eprintln!(
            "flow-models merge: wrote {written} flows; the invariants were checked by each \
             partition on the cluster"
        );
        return Ok(());
    }
    report::skipped(plan.as_ref());
    let counters = merge::counters(plan.as_ref()).unwrap_or_default();
    eprintln!("flow-models merge: {counters}");
    counters.check()?;
    eprintln!(
        "flow-models merge: invariants hold (records in = written + merged; packets, octets, aggs conserved)"
    );
    Ok(())
}
