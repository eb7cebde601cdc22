//! `flow-models sql`: the DataFusion SQL shell (datafusion-cli) with every flow format and
//! function installed; `-c` and `-f` run through our own printer, which never cuts a result.

use crate::print::Printer;
use crate::session::{self, SpillArgs};
use datafusion::common::{DataFusionError, Result};
use datafusion_cli::exec;
use datafusion_cli::object_storage::instrumented::InstrumentedObjectStoreRegistry;
use datafusion_cli::print_format::PrintFormat;
use datafusion_cli::print_options::{MaxRows, PrintOptions};
use std::sync::Arc;

/// Run SQL over flow data: interactively, or with -c / -f.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  \
    flow-models sql -c \"SELECT count(*), sum(packets), sum(octets) FROM flowbin('examples/data/sample')\"\n  \
    flow-models sql -q --format csv -c \"SELECT * FROM 'flows.parquet' LIMIT 10\"\n  \
    flow-models sql -f sql/summary.sql\n  \
    flow-models sql -q --format csv --memory-limit 1G -c \"SELECT * FROM flowbin('trace') ORDER BY octets DESC\" > flows.csv\n\n\
    Every row of a result is printed in the csv, tsv, json and nd-json formats; --maxrows limits the\n\
    table display only, and says on stderr how many rows it left out. Row counts and timings go\n\
    to stderr (none with -q), so standard output holds the results alone.\n\n\
    Sources: flowbin('dir', ...), csv_flow('file', ...), pipe('file', ...), 'file.parquet',\n\
    nfcapd('file or dir', ...[, true = skip corrupt blocks]), nfcapd_info('file or dir', ...), and\n\
    CREATE EXTERNAL TABLE t STORED AS FLOWBIN | CSV_FLOW | PIPE | NFCAPD | PARQUET LOCATION 'path'.\n\
    Sinks: COPY (query) TO 'dir' STORED AS FLOWBIN | CSV_FLOW | PARQUET.")]
pub struct Args {
    /// Execute the given SQL statement(s), then exit
    #[arg(short = 'c', long = "command")]
    pub command: Vec<String>,
    /// Execute the SQL statements in the file(s), then exit
    #[arg(short = 'f', long = "file")]
    pub file: Vec<String>,
    /// Output format of results
    #[arg(long, value_enum, default_value_t = PrintFormat::Automatic)]
    pub format: PrintFormat,
    /// Print only results: no banner, row counts or timings
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Maximum rows shown in table format (a number, or `inf`); other formats print every row
    #[arg(long, default_value = "40")]
    pub maxrows: MaxRows,
    #[command(flatten)]
    pub spill: SpillArgs,
    /// Run the queries on the Ballista cluster of this scheduler (df://HOST:PORT; see
    /// `flow-models scheduler --help`)
    #[arg(long, value_name = "URL")]
    pub remote: Option<String>,
}

pub async fn run(args: Args) -> Result<()> {
    let ctx = match &args.remote {
        Some(url) => session::remote_context(url, false, args.spill).await?,
        None => session::spilling_context(false, args.spill)?,
    };
    let printer = Printer {
        format: args.format,
        quiet: args.quiet,
        maxrows: args.maxrows,
    };
    for file in &args.file {
        let text = std::fs::read_to_string(file)
            .map_err(|e| DataFusionError::Execution(format!("cannot read {file}: {e}")))?;
        for statement in split_statements(&text) {
            printer.run(&ctx, &statement).await?;
        }
    }
    for command in &args.command {
        printer.run(&ctx, command).await?;
    }
    if args.file.is_empty() && args.command.is_empty() {
        // The interactive shell is datafusion-cli's. Its display cuts every format at
        // --maxrows, which only the table display should do.
        let maxrows = match args.format {
            PrintFormat::Table | PrintFormat::Automatic => args.maxrows,
            _ => MaxRows::Unlimited,
        };
        let mut print = PrintOptions {
            format: args.format,
            quiet: args.quiet,
            maxrows,
            color: false,
            instrumented_registry: Arc::new(InstrumentedObjectStoreRegistry::new()),
        };
        // datafusion-cli's csv/tsv writer rejects nested columns (nfcapd's mpls_labels):
        // queries give them as text, as the -c printer does (a later `\pset format json`
        // keeps the text).
        if matches!(args.format, PrintFormat::Csv | PrintFormat::Tsv) {
            ctx.add_analyzer_rule(Arc::new(flow_udfs::text_columns::ResultsAsText));
        }
        if !args.quiet {
            println!(
                "flow-models SQL (DataFusion {})",
                datafusion::DATAFUSION_VERSION
            );
        }
        exec::exec_from_repl(&ctx, &mut print)
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
    }
    Ok(())
}

/// Splits a SQL file into statements at `;` that end a line, skipping `--` comment lines, the
/// way datafusion-cli reads files; unlike datafusion-cli the first failing statement aborts.
fn split_statements(text: &str) -> Vec<String> {
    let mut statements = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        if line.trim_start().starts_with("--") || line.starts_with("#!") {
            continue;
        }
        let line = line.trim_end();
        current.push_str(line);
        current.push('\n');
        if line.ends_with(';') {
            statements.push(std::mem::take(&mut current));
        }
    }
    if !current.trim().is_empty() {
        statements.push(current);
    }
    statements
}

#[cfg(test)]
mod tests {
    use super::split_statements;

    #[test]
    fn statements_split_at_line_end_semicolons() {
        let s = split_statements("-- c\nSELECT 1;\nSELECT\n 2;\nSELECT 3");
        assert_eq!(s, vec!["SELECT 1;\n", "SELECT\n 2;\n", "SELECT 3\n"]);
    }
}
