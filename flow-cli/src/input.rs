//! Input selection shared by the subcommands: `-i FORMAT INPUT...` becomes a DataFrame.

use crate::cut::Cut;
use clap::ValueEnum;
use datafusion::common::{DataFusionError, Result};
use datafusion::prelude::{DataFrame, ParquetReadOptions, SessionContext};
use flow_provider::SessionContextFlowExt;
use flow_provider::binary::FlowBinTable;
use flow_provider::fields::STANDARD_FIELDS;
use flow_provider::nfcapd::NfcapdOptions;
use flow_provider::text::LineFormat;
use std::sync::Arc;

/// The input flags every subcommand shares.
#[derive(clap::Args, Debug)]
pub struct InputArgs {
    /// Input files or directories
    #[arg(required = true)]
    pub inputs: Vec<String>,
    /// Format of the input
    #[arg(short = 'i', long = "in-format", value_enum, default_value = "binary")]
    pub in_format: InputFormat,
    /// nfcapd input: skip blocks and files that fail to decode (counted on stderr) instead
    /// of stopping with an error
    #[arg(long)]
    pub skip_corrupt: bool,
}

/// The input cut and filter flags of convert and hist (the original's --skip-in, --count-in
/// and --filter-expr, the filter in SQL).
#[derive(clap::Args, Debug)]
pub struct CutArgs {
    /// Number of flows to skip at the beginning of the input
    #[arg(long, default_value_t = 0)]
    pub skip_in: usize,
    /// Number of flows to read from the input
    #[arg(long)]
    pub count_in: Option<usize>,
    /// SQL boolean expression selecting the flows to use, e.g. "prot = 17"
    #[arg(long)]
    pub filter: Option<String>,
}

impl CutArgs {
    pub fn cut(&self) -> Cut {
        Cut {
            skip_in: self.skip_in,
            count_in: self.count_in,
            filter: self.filter.clone(),
            ..Cut::default()
        }
    }
}

/// [`CutArgs`] and the output's skip and count (convert, cut, anonymize, series: the
/// original's --skip-out and --count-out).
#[derive(clap::Args, Debug)]
pub struct OutCutArgs {
    #[command(flatten)]
    pub input: CutArgs,
    /// Number of flows to skip after filtering
    #[arg(long, default_value_t = 0)]
    pub skip_out: usize,
    /// Number of flows to keep after filtering
    #[arg(long)]
    pub count_out: Option<usize>,
}

impl OutCutArgs {
    pub fn cut(&self) -> Cut {
        Cut {
            skip_out: self.skip_out,
            count_out: self.count_out,
            ..self.input.cut()
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    /// flow-models binary trace directories (or directories of traces)
    Binary,
    /// flow-models csv_flow text files
    #[value(name = "csv_flow")]
    CsvFlow,
    /// nfdump `-o pipe` text (nfdump 1.6 or 1.7 layout)
    Pipe,
    /// Parquet files
    Parquet,
    /// nfdump nfcapd files (nfdump 1.6 or 1.7), or directory trees of them
    Nfcapd,
}

/// The inputs as one DataFrame, and their row count when the format knows it up front.
pub struct Input {
    pub df: DataFrame,
    pub rows: Option<u64>,
}

/// All inputs as one DataFrame, in the order given. `skip_corrupt` applies to nfcapd input:
/// bad blocks and files are skipped with a warning.
pub async fn read(ctx: &SessionContext, args: &InputArgs) -> Result<Input> {
    read_columns(ctx, args, false).await
}

/// [`read`]; `whole`: nfcapd input with every column of the nfcapd table (else its flow-models
/// fields, as every other input has).
pub async fn read_columns(ctx: &SessionContext, args: &InputArgs, whole: bool) -> Result<Input> {
    let paths: Vec<&str> = args.inputs.iter().map(String::as_str).collect();
    let skip_corrupt = args.skip_corrupt;
    let (df, rows) = match args.in_format {
        InputFormat::Binary => {
            let table = FlowBinTable::open(&ctx.runtime_env(), &paths)?;
            let rows = table.num_rows() as u64;
            (ctx.read_table(Arc::new(table))?, Some(rows))
        }
        InputFormat::CsvFlow => (ctx.read_text_flows(LineFormat::CsvFlow, &paths)?, None),
        InputFormat::Pipe => (ctx.read_text_flows(LineFormat::Pipe, &paths)?, None),
        InputFormat::Nfcapd => {
            // The flow outputs hold the flow-models fields; nfdump's extras stay in SQL and
            // Parquet.
            let df = ctx.read_nfcapd(
                &paths,
                NfcapdOptions {
                    skip_corrupt,
                    ..Default::default()
                },
            )?;
            let names: Vec<&str> = STANDARD_FIELDS.iter().map(|(n, _)| *n).collect();
            match whole {
                true => (df, None),
                false => (df.select_columns(&names)?, None),
            }
        }
        InputFormat::Parquet => {
            // The flow readers above register the store of a URL themselves; Parquet is
            // DataFusion's reader.
            flow_provider::store::ensure_stores(&ctx.runtime_env(), &paths)?;
            // DataFusion's listing and schema errors (a missing bucket, refused keys) name
            // the request, not the input: named here as the flow readers name theirs.
            let named = paths.join(", ");
            let df = ctx.read_parquet(paths, ParquetReadOptions::default()).await;
            let df = df.map_err(|e| DataFusionError::Plan(format!("parquet: {named}: {e}")))?;
            (df, None)
        }
    };
    Ok(Input { df, rows })
}
