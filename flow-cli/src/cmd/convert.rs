//! `flow-models convert`: read flows in one format, cut and filter them, write another format.

use crate::cmd::compress::CodecArg;
use crate::input::{self, InputArgs, InputFormat, OutCutArgs};
use crate::{progress, report, session};
use clap::ValueEnum;
use datafusion::common::{Result, plan_err};
use datafusion::physical_plan::execute_stream;
use datafusion::prelude::DataFrame;
use flow_provider::binary::compress::CompressOptions;
use flow_provider::sink::OutputFormat;
use flow_udfs::sort::sorted_frame;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutFormat {
    /// flow-models binary trace directory
    Binary,
    /// flow-models csv_flow text ("2, 6, 0, …" per flow)
    #[value(name = "csv_flow")]
    CsvFlow,
    /// Parquet file
    Parquet,
}

/// The output flags of convert, merge and generate: a flow format, and a path that is standard
/// output by default.
#[derive(clap::Args, Debug)]
pub struct OutputArgs {
    /// Format of the output
    #[arg(
        short = 'o',
        long = "out-format",
        value_enum,
        default_value = "csv_flow"
    )]
    pub out_format: OutFormat,
    /// Output file or directory (`-` = standard output, csv_flow only)
    #[arg(short = 'O', long = "output", default_value = "-")]
    pub output: String,
    /// Write the binary trace's column files compressed (e.g. octets.Q.zst); see
    /// `flow-models compress --help`
    #[arg(long, value_enum, value_name = "CODEC")]
    pub compress: Option<CodecArg>,
}

impl OutputArgs {
    /// The output's format, with its compression.
    pub fn format(&self) -> Result<OutputFormat> {
        match (self.out_format, self.compress) {
            (OutFormat::Binary, Some(codec)) => Ok(OutputFormat::CompressedBinary(
                CompressOptions::new(codec.into()),
            )),
            (_, Some(_)) => plan_err!("--compress applies to -o binary only"),
            (format, None) => Ok(format.into()),
        }
    }
}

impl From<OutFormat> for OutputFormat {
    fn from(f: OutFormat) -> Self {
        match f {
            OutFormat::Binary => OutputFormat::Binary,
            OutFormat::CsvFlow => OutputFormat::CsvFlow,
            OutFormat::Parquet => OutputFormat::Parquet,
        }
    }
}

/// Convert flow records between formats; can also filter and cut.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  \
    # binary trace to csv_flow on standard output\n  \
    flow-models convert -i binary -o csv_flow -O - examples/data/sample\n\n  \
    # HTTPS flows only, as a new binary trace\n  \
    flow-models convert -i binary -o binary -O https --filter \"prot = 6 AND (sp = 443 OR dp = 443)\" examples/data/sample\n\n  \
    # nfdump nfcapd files (a collector's directory tree) to a binary trace\n  \
    flow-models convert -i nfcapd -o binary -O trace /var/cache/nfdump/2024/\n\n  \
    # skip the first 100 records, write the next 1000 to Parquet\n  \
    flow-models convert -i binary -o parquet -O sample.parquet --skip-in 100 --count-in 1000 examples/data/sample\n\n\
    # decoded on a Ballista cluster, written here in input order\n  \
    flow-models convert -o binary -O local-copy --filter \"prot = 17\" --remote df://10.0.0.1:50050 /data/trace\n\n\
    --skip-in/--count-in cut the input before filtering, --skip-out/--count-out the output after it.\n\
    The filter is a SQL boolean expression over the columns af prot inif outif sa0..sa3 da0..da3\n\
    sp dp first first_ms last last_ms packets octets aggs (replacing flow-models' Python --filter-expr).\n\
    From nfcapd, -o parquet keeps every column of the nfcapd table (src_ip/dst_ip, nfdump's\n\
    extra fields, mpls_labels as a list); binary and csv_flow hold the flow-models fields.\n\
    Outputs are written under a temporary name and renamed when complete.")]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(flatten)]
    pub cut: OutCutArgs,
    /// Read on the Ballista cluster of this scheduler (df://HOST:PORT): the executors read
    /// the partitions of binary traces (other formats in one task), one merges them in input
    /// order; the flows are written here
    #[arg(long, value_name = "URL")]
    pub remote: Option<String>,
}

pub async fn run(args: Args) -> Result<()> {
    // Parquet holds every column of an nfcapd table (nested and text ones too); the flow
    // formats hold the flow-models fields.
    let whole = args.out.out_format == OutFormat::Parquet;
    run_with(args, "convert", whole, Ok).await
}

/// convert with `transform` applied to the cut flows before they are written (anonymize's
/// address rewriting); `name` for messages; `whole`: every column of nfcapd input, not only
/// the flow-models fields.
pub async fn run_with(
    args: Args,
    name: &str,
    whole: bool,
    transform: impl FnOnce(DataFrame) -> Result<DataFrame>,
) -> Result<()> {
    let ctx = match &args.remote {
        // Binary traces in many partitions (their positions are known), the rest in one.
        Some(url) => {
            let binary = args.input.in_format == InputFormat::Binary;
            session::remote_context(url, !binary, Default::default()).await?
        }
        None => session::context(true)?,
    };
    let mut input = input::read_columns(&ctx, &args.input, whole).await?;
    if args.remote.is_some() {
        // In input order across the partitions the cluster reads.
        input.df = sorted_frame(&ctx, input.df.into_view(), &[], false)?;
    }
    let cut = args.cut.cut();
    let total = input.rows.map(|rows| cut.rows_read(rows));
    let plan = transform(cut.apply(input.df)?)?
        .create_physical_plan()
        .await?;
    let stream = execute_stream(plan.clone(), ctx.task_ctx())?;
    let written = progress::write(stream, args.out.format()?, &args.out.output, total).await?;
    report::skipped(plan.as_ref());
    if args.out.output != "-" {
        eprintln!(
            "flow-models {name}: wrote {written} flows to {}",
            args.out.output
        );
    }
    Ok(())
}
