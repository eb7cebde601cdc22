//! `flow-models hist`: histogram of flow length, size, duration or rate (csv_hist), through the
//! fast path of `flow_udfs::hist`.

use crate::input::{self, CutArgs, InputArgs, InputFormat};
use crate::session::SpillArgs;
use crate::stdout::Stdout;
use crate::{progress, report, session};
use arrow::array::RecordBatch;
use arrow::compute::concat_batches;
use clap::ValueEnum;
use datafusion::common::Result;
use datafusion::common::plan_err;
use flow_udfs::hist::{
    HistOutput, HistSpec, HistTable, SumColumn, XValue, histogram_and_plan, write_csv_hist,
    write_hist,
};
use std::io::{BufWriter, Write};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum X {
    /// packets per flow
    Length,
    /// octets per flow
    Size,
    /// flow duration in milliseconds (0 for single-packet flows)
    Duration,
    /// flow rate in bits per second (0 for zero duration)
    Rate,
}

impl From<X> for XValue {
    fn from(x: X) -> Self {
        match x {
            X::Length => XValue::Length,
            X::Size => XValue::Size,
            X::Duration => XValue::Duration,
            X::Rate => XValue::Rate,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Column {
    Duration,
    Rate,
    Aggs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutFormat {
    /// bin_lo,bin_hi,flows_sum,packets_sum,octets_sum[,{col}_sum...] text, like flow-models
    #[value(name = "csv_hist")]
    CsvHist,
    /// Parquet file with the same columns
    Parquet,
}

/// Calculate a histogram of flow length, size, duration or rate (csv_hist).
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  \
    # logarithmically binned flow length histogram (12 bits), like flow_models.hist -b 12\n  \
    flow-models hist -x length -b 12 examples/data/sample\n\n  \
    # flow size of UDP flows, one bin per value, with duration and rate sums, into a file\n  \
    flow-models hist -x size -b 0 -c duration -c rate --filter \"prot = 17\" -O udp.csv examples/data/sample\n\n\
    Bins: -b 0 gives one bin per value; -b B > 0 logarithmic bins of width 2^max(0, bit_length(x) - B).\n\
    Sums are exact integers (rate_sum: compensated floating sum), printed as integers like the original.\n\
    --remote df://HOST:PORT computes it on a Ballista cluster (see `flow-models scheduler --help`).\n\
    --skip-in/--count-in cut the input before --filter (a SQL boolean expression over the flow\n\
    columns, replacing flow-models' Python --filter-expr). Output files are written atomically.")]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    /// The value binned
    #[arg(short = 'x', long = "x-value", value_enum, default_value = "length")]
    pub x: X,
    /// Bin width exponent of 2 (0 = one bin per value)
    #[arg(short = 'b', long = "bin-exp", default_value_t = 0)]
    pub bits: u32,
    /// Additional column to sum per bin (repeatable, printed in the order given)
    #[arg(short = 'c', long = "additional-columns", value_enum)]
    pub columns: Vec<Column>,
    /// Format of the output
    #[arg(
        short = 'o',
        long = "out-format",
        value_enum,
        default_value = "csv_hist"
    )]
    pub out_format: OutFormat,
    /// Output file (`-` = standard output, csv_hist only)
    #[arg(short = 'O', long = "output", default_value = "-")]
    pub output: String,
    #[command(flatten)]
    pub cut: CutArgs,
    #[command(flatten)]
    pub memory: SpillArgs,
    /// Compute on the Ballista cluster of this scheduler (df://HOST:PORT): one binary trace
    /// (a path or object-store URL the cluster reads), without --skip-in/--count-in/--filter
    #[arg(long, value_name = "URL")]
    pub remote: Option<String>,
}

impl Args {
    fn spec(&self) -> HistSpec {
        let x = self.x.into();
        let columns = self
            .columns
            .iter()
            .map(|c| match c {
                Column::Duration => SumColumn::Duration,
                Column::Rate => SumColumn::Rate,
                Column::Aggs => SumColumn::Aggs,
            })
            .collect();
        HistSpec::new(x, self.bits, columns)
    }
}

/// The histogram computed on this machine, with a progress bar.
async fn local(args: &mut Args) -> Result<RecordBatch> {
    // Skipping and counting need the input in order (one partition); otherwise use every core.
    let cut = args.cut.cut();
    let ctx = session::spilling_context(cut.needs_order(), std::mem::take(&mut args.memory))?;
    let input = input::read(&ctx, &args.input).await?;
    let total = input.rows.map(|rows| cut.rows_read(rows));
    let df = cut.apply(input.df)?;
    let bar = progress::rows(total);
    let tick = bar.clone();
    let (batch, plan) = histogram_and_plan(df, &args.spec(), move |n| tick.inc(n as u64)).await?;
    bar.finish_and_clear();
    report::skipped(plan.as_ref());
    Ok(batch)
}

/// The histogram computed on the cluster at `url`: `flow_hist` of the trace (partial
/// histograms where the trace's partitions are read, merged in one task).
async fn remote(url: &str, args: &mut Args) -> Result<RecordBatch> {
    let trace = match args.input.inputs.as_slice() {
        [trace] if args.input.in_format == InputFormat::Binary => trace.clone(),
        _ => return plan_err!("hist --remote reads one binary trace (-i binary, one input)"),
    };
    let cut = &args.cut;
    if cut.skip_in > 0 || cut.count_in.is_some() || cut.filter.is_some() {
        return plan_err!("hist --remote takes no --skip-in, --count-in or --filter");
    }
    let ctx = session::remote_context(url, false, std::mem::take(&mut args.memory)).await?;
    let spec = args.spec();
    let schema = spec.output_schema();
    let table = HistTable::open(&ctx.state(), &trace, spec)?;
    let batches = (ctx.read_table(Arc::new(table))?).collect().await?;
    Ok(concat_batches(&schema, &batches)?)
}

pub async fn run(mut args: Args) -> Result<()> {
    let batch = match args.remote.clone() {
        Some(url) => remote(&url, &mut args).await?,
        None => local(&mut args).await?,
    };
    let format = match args.out_format {
        OutFormat::CsvHist => HistOutput::CsvHist,
        OutFormat::Parquet => HistOutput::Parquet,
    };
    match (format, args.output.as_str()) {
        (HistOutput::CsvHist, "-") => {
            let mut out = BufWriter::new(Stdout);
            write_csv_hist(&batch, &mut out)?;
            out.flush()?;
        }
        (HistOutput::Parquet, "-") => {
            return plan_err!("Parquet output cannot go to standard output: give a path with -O");
        }
        (_, path) => write_hist(&batch, format, path)?,
    }
    if args.output != "-" {
        eprintln!(
            "flow-models hist: wrote {} bins to {}",
            batch.num_rows(),
            args.output
        );
    }
    Ok(())
}
