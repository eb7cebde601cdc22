//! `flow-models sort`: order a trace by key fields, stably, spilling beyond a memory limit.

use crate::cmd::convert::OutFormat;
use crate::input::{self, InputArgs, InputFormat};
use crate::progress;
use crate::session::{self, SpillArgs};
use datafusion::common::Result;
use datafusion::physical_plan::execute_stream;
use flow_provider::binary::FlowBinTable;
use flow_provider::sink::FlowSink;
use flow_udfs::packed_sort::{constant_columns, gathered, mapped_columns, packed_order};
use flow_udfs::sort::sort_plan;
use std::sync::Arc;

/// Sort flow records by key fields (stable; output identical to flow-models' sort).
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  \
    # time order, as merge wants it\n  \
    flow-models sort -k first first_ms -O sorted trace\n\n  \
    # in place (the trace is replaced atomically once the sorted copy is complete)\n  \
    flow-models sort -k first first_ms -O trace trace\n\n  \
    # largest destination first, within 2 GiB of memory (spilling to disk)\n  \
    flow-models sort -k da3 dp --reverse --memory-limit 2G -O by-dst trace\n\n\
    Ties keep their input order (like numpy's lexsort in flow-models' sort.py) and --reverse\n\
    is the exact reverse of the ascending order, so the output is byte-identical to\n\
    `python -m flow_models.sort`. Any column of the input can be a key. SQL: ORDER BY.")]
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
}

pub async fn run(args: Args) -> Result<()> {
    if args.input.in_format == InputFormat::Binary
        && args.spill.memory_limit.is_none()
        && in_memory(&args).await?
    {
        return Ok(());
    }
    // Input positions are known for binary traces at any partitioning; read the text and
    // Parquet inputs in one partition so that the scan order is the input order.
    let ordered = args.input.in_format != InputFormat::Binary;
    let ctx = session::spilling_context(ordered, args.spill)?;
    let input = input::read(&ctx, &args.input).await?;
    let scan = input.df.create_physical_plan().await?;
    let sort = sort_plan(scan, &args.keys, args.reverse)?;
    let stream = execute_stream(sort.plan.clone(), ctx.task_ctx())?;
    let written = progress::write(stream, args.out_format.into(), &args.output, input.rows).await?;
    let spill = sort.spill();
    eprintln!(
        "flow-models sort: wrote {written} flows to {}; spilled {} files, {} rows, {} bytes",
        args.output, spill.files, spill.rows, spill.bytes
    );
    Ok(())
}

/// The in-memory sort of one binary trace (see `flow_udfs::packed_sort`); `false` when the
/// input is several traces or the keys do not pack, for the DataFusion sort to do it.
async fn in_memory(args: &Args) -> Result<bool> {
    let table = FlowBinTable::try_new(&args.input.inputs)?;
    let [trace] = table.traces() else {
        return Ok(false);
    };
    let (schema, columns) = mapped_columns(trace)?;
    let mut sink = FlowSink::create(args.out_format.into(), &args.output, &schema)?;
    // Columns of one value are their own sorted output: a binary trace gets them whole at
    // once, written while the order is computed (the disk is what the sort waits for); other
    // outputs get slices of them from the gather.
    let constant = constant_columns(&columns);
    let ahead = match &mut sink {
        FlowSink::Binary(w) if constant.contains(&false) => {
            for i in (0..columns.len()).filter(|&i| constant[i]) {
                w.write_column(schema.field(i).name(), columns[i].clone())?;
            }
            true
        }
        _ => false,
    };
    let Some(order) = packed_order(&schema, &columns, &args.keys, args.reverse)? else {
        return Ok(false);
    };
    let rest: Vec<usize> = (0..columns.len())
        .filter(|&i| !(ahead && constant[i]))
        .collect();
    let gather = rest.iter().map(|&i| columns[i].clone()).collect();
    let sliced = rest.iter().map(|&i| constant[i]).collect();
    let schema = Arc::new(schema.project(&rest)?);
    let stream = gathered(schema, gather, sliced, Arc::new(order), BATCH_ROWS);
    let written = progress::drain(stream, sink, Some(trace.rows as u64)).await?;
    eprintln!(
        "flow-models sort: wrote {written} flows to {}; sorted in memory",
        args.output
    );
    Ok(true)
}

/// Rows per gathered output batch.
const BATCH_ROWS: usize = 262_144;
