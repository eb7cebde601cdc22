//! `flow-models sort`: order a trace by key fields, stably, spilling beyond a memory limit.

use crate::cmd::convert::OutFormat;
use crate::input::{self, InputArgs, InputFormat};
use crate::session::{self, SpillArgs};
use crate::{progress, report, stdout};
use arrow::datatypes::Schema;
use datafusion::common::Result;
use flow_udfs::sort::{SortRun, sort_into, sorted_frame};

/// Sort flow records by key fields (stable; output identical to flow-models' sort).
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  \
    # time order, as merge wants it\n  \
    flow-models sort -k first first_ms -O sorted trace\n\n  \
    # in place (the trace is replaced atomically once the sorted copy is complete)\n  \
    flow-models sort -k first first_ms -O trace trace\n\n  \
    # largest destination first, within 2 GiB of memory (spilling to disk)\n  \
    flow-models sort -k da3 dp --reverse --memory-limit 2G -O by-dst trace\n\n  \
    # on a Ballista cluster: the executors sort the partitions (spilling there), one merges\n  \
    flow-models sort -k first first_ms --remote df://10.0.0.1:50050 -O sorted /data/trace\n\n\
    Ties keep their input order (like numpy's lexsort in flow-models' sort.py) and --reverse\n\
    is the exact reverse of the ascending order, so the output is byte-identical to\n\
    `python -m flow_models.sort`. Any column of the input can be a key. Compressed fields\n\
    (octets.Q.zst, see `flow-models compress --help`) are decompressed into memory whole\n\
    for the in-memory sort, counted against --memory-limit (beyond it the spilling sort\n\
    streams them); the sorted trace is written plain.\n\n\
    The same sort in SQL, writing the same files:\n  \
    flow-models sql -c \"COPY (SELECT * FROM flow_sort('trace', 'first', 'first_ms')) TO 'sorted' STORED AS FLOWBIN\"\n  \
    flow-models sql -c \"COPY (SELECT * FROM flowbin('trace') ORDER BY first, first_ms) TO 'sorted' STORED AS FLOWBIN\"")]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    /// Key fields, most significant first
    #[arg(short = 'k', long = "key-fields", num_args = 1.., required = true)]
    pub keys: Vec<String>,
    /// Descending order (the exact reverse of the ascending one)
    #[arg(long)]
    pub reverse: bool,
    /// Format of the output
    #[arg(short = 'o', long = "out-format", value_enum, default_value = "binary")]
    pub out_format: OutFormat,
    /// Output directory (may be the input directory: sorting in place)
    #[arg(short = 'O', long = "output", required = true)]
    pub output: String,
    #[command(flatten)]
    pub spill: SpillArgs,
    /// Sort on the Ballista cluster of this scheduler (df://HOST:PORT): each partition sorted
    /// by an executor, merged by one; the sorted flows are written here
    #[arg(long, value_name = "URL")]
    pub remote: Option<String>,
}

pub async fn run(args: Args) -> Result<()> {
    // Input positions are known for binary traces at any partitioning; read the text and
    // Parquet inputs in one partition so that the scan order is the input order.
    let ordered = args.input.in_format != InputFormat::Binary;
    if let Some(url) = &args.remote {
        let ctx = session::remote_context(url, ordered, args.spill).await?;
        let input = input::read(&ctx, &args.input).await?;
        let sorted = sorted_frame(&ctx, input.df.into_view(), &args.keys, args.reverse)?;
        let format = args.out_format.into();
        let stream = sorted.execute_stream().await?;
        let written = progress::write(stream, format, &args.output, input.rows).await?;
        eprintln!(
            "flow-models sort: wrote {written} flows to {}; sorted on the cluster",
            args.output
        );
        return Ok(());
    }
    let ctx = session::spilling_context(ordered, args.spill)?;
    let input = input::read(&ctx, &args.input).await?;
    let bar = progress::rows(input.rows);
    let format = args.out_format.into();
    let create = |schema: &Schema| stdout::sink(format, &args.output, schema);
    let (written, run) = sort_into(input.df, &args.keys, args.reverse, create, |n| {
        bar.inc(n as u64)
    })
    .await?;
    bar.finish_and_clear();
    let how = match run {
        SortRun::InMemory => "sorted in memory".to_string(),
        SortRun::Spilling(s, plan) => {
            report::skipped(plan.as_ref());
            format!(
                "spilled {} files, {} rows, {} bytes",
                s.files, s.rows, s.bytes
            )
        }
    };
    eprintln!(
        "flow-models sort: wrote {written} flows to {}; {how}",
        args.output
    );
    Ok(())
}
