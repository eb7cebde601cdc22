//! `flow-models summary`: the statistics and CDF tables of a csv_hist histogram, as the
//! original's TeX tables (`flow_models.summary`) or as CSV or Markdown.

use crate::cmd::hist::X;
use crate::stdout::Stdout;
use clap::ValueEnum;
use datafusion::common::Result;
use flow_udfs::hist::XValue;
use flow_udfs::summary::{Format, summarize_csv_hist};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutFormat {
    /// the original's two LaTeX tables, byte for byte
    Tex,
    /// statistic,value,unit then (after an empty line) up_to,flows_pct,packets_pct,octets_pct
    Csv,
    /// the same two tables in Markdown
    Markdown,
}

/// Summary statistics and CDF table of a flow histogram (TeX tables, like flow_models.summary).
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  \
    # the original's TeX tables; x detected from the smallest bin_lo (1: length, 64: size)\n  \
    flow-models summary histograms/udp/length.csv\n\n  \
    # the same numbers as Markdown, into a file\n  \
    flow-models summary --format markdown -O size.md histograms/all/size.csv\n\n  \
    # a duration histogram (hist -x duration): x must be given\n  \
    flow-models summary -x duration --format csv duration.csv\n\n\
    Statistics: numbers of flows, packets and octets; average flow length (and duration and rate\n\
    when the histogram has duration_sum/rate_sum); average packet size. CDF table: the % of\n\
    flows, packets and octets in flows of x up to each point, linearly interpolated in the\n\
    cumulative sums (nan outside the histogram's bin_lo range). Points: length 2^0..2^24\n\
    packets, size 64*2^0..64*2^24 bytes (as the original); duration 2^0..2^24 ms and rate\n\
    1024*2^0..1024*2^24 bit/s, which the original refuses. The same tables in SQL:\n\
    SELECT * FROM flow_summary('h.csv'); SELECT * FROM flow_cdf_summary('h.csv', 'length').\n\
    Output files are written atomically.")]
pub struct Args {
    /// Input histogram (csv_hist)
    pub file: PathBuf,
    /// x value of the histogram (default: detected, length or size)
    #[arg(short = 'x', value_enum)]
    pub x: Option<X>,
    /// Output format
    #[arg(long, value_enum, default_value = "tex")]
    pub format: OutFormat,
    /// Output file (`-` = standard output)
    #[arg(short = 'O', long = "output", default_value = "-")]
    pub output: String,
}

pub async fn run(args: Args) -> Result<()> {
    let x = args.x.map(XValue::from);
    let format = match args.format {
        OutFormat::Tex => Format::Tex,
        OutFormat::Csv => Format::Csv,
        OutFormat::Markdown => Format::Markdown,
    };
    let text = summarize_csv_hist(&args.file, x, format)?;
    let failed = |source| flow_provider::FlowError::Output {
        what: "writing the summary",
        source,
    };
    if args.output == "-" {
        let mut out = Stdout;
        out.write_all(text.as_bytes()).map_err(failed)?;
        out.flush().map_err(failed)?;
    } else {
        flow_provider::atomic::write(std::path::Path::new(&args.output), text.as_bytes())?;
    }
    Ok(())
}
