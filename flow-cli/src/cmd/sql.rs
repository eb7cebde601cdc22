//! `flow-models sql`: the DataFusion SQL shell (datafusion-cli) with every flow format and
//! function installed.

use crate::session;
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
    flow-models sql -f sql/summary.sql\n\n\
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
    /// Maximum rows shown in table format (a number, or `inf`)
    #[arg(long, default_value = "40")]
    pub maxrows: MaxRows,
}

pub async fn run(args: Args) -> Result<()> {
    let ctx = session::context(false)?;
    let print = PrintOptions {
        format: args.format,
        quiet: args.quiet,
        maxrows: args.maxrows,
        color: false,
        instrumented_registry: Arc::new(InstrumentedObjectStoreRegistry::new()),
    };
    for file in &args.file {
        let text = std::fs::read_to_string(file)
            .map_err(|e| DataFusionError::Execution(format!("cannot read {file}: {e}")))?;
        exec::exec_from_commands(&ctx, split_statements(&text), &print).await?;
    }
    let interactive = args.file.is_empty() && args.command.is_empty();
    if !args.command.is_empty() {
        exec::exec_from_commands(&ctx, args.command, &print).await?;
    }
    if interactive {
        if !args.quiet {
            println!(
                "flow-models SQL (DataFusion {})",
                datafusion::DATAFUSION_VERSION
            );
        }
        let mut print = print;
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
