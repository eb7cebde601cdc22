//! `flow-models`: the command-line face of the flow-models DataFusion extension. Each
//! subcommand parses its flags, builds a query with the library crates and prints the result.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod cmd;
mod cut;
mod input;
mod print;
mod progress;
mod report;
mod session;
mod stdout;
mod stores;

#[derive(Parser)]
#[command(
    name = "flow-models",
    version,
    about = "Analyse NetFlow/IPFIX flow records with SQL: convert between formats, query with a REPL",
    long_about = "Analyse NetFlow/IPFIX flow records with Apache DataFusion.\n\n\
        Reads flow-models binary traces (zero-copy), flow-models csv_flow, nfdump pipe text and \
        Parquet; writes binary, csv_flow and Parquet.",
    after_help = "Examples:\n  \
        flow-models convert -i binary -o csv_flow -O - examples/data/sample\n  \
        flow-models convert -i binary -o binary -O https --filter \"prot = 6 AND (sp = 443 OR dp = 443)\" examples/data/sample\n  \
        flow-models sql -c \"SELECT prot, count(*) FROM flowbin('examples/data/sample') GROUP BY prot\""
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Convert(cmd::convert::Args),
    Hist(cmd::hist::Args),
    Sql(cmd::sql::Args),
    Merge(cmd::merge::Args),
    Sort(cmd::sort::Args),
    Fit(cmd::fit::Args),
    Generate(cmd::generate::Args),
    Summary(cmd::summary::Args),
    Plot(cmd::plot::Args),
    Cut(cmd::cut::Args),
    Compress(cmd::compress::Args),
    Decompress(cmd::compress::DecompressArgs),
    Anonymize(cmd::anonymize::Args),
    Series(cmd::series::Args),
    #[command(name = "series-plot", alias = "series_plot")]
    SeriesPlot(cmd::series_plot::Args),
    Scheduler(cmd::cluster::SchedulerArgs),
    Executor(cmd::cluster::ExecutorArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if matches!(cli.command, Command::Scheduler(_) | Command::Executor(_)) {
        // As Ballista's own binaries: deep plans are (de)coded recursively.
        builder.thread_stack_size(32 << 20);
    }
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("flow-models: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Convert(args) => cmd::convert::run(args).await,
            Command::Hist(args) => cmd::hist::run(args).await,
            Command::Sql(args) => cmd::sql::run(args).await,
            Command::Merge(args) => cmd::merge::run(args).await,
            Command::Sort(args) => cmd::sort::run(args).await,
            Command::Fit(args) => cmd::fit::run(args).await,
            Command::Generate(args) => cmd::generate::run(args).await,
            Command::Summary(args) => cmd::summary::run(args).await,
            Command::Plot(args) => cmd::plot::run(args).await,
            Command::Cut(args) => cmd::cut::run(args).await,
            Command::Compress(args) => cmd::compress::run(args).await,
            Command::Decompress(args) => cmd::compress::run_decompress(args).await,
            Command::Anonymize(args) => cmd::anonymize::run(args).await,
            Command::Series(args) => cmd::series::run(args).await,
            Command::SeriesPlot(args) => cmd::series_plot::run(args).await,
            Command::Scheduler(args) => cmd::cluster::scheduler(args).await,
            Command::Executor(args) => cmd::cluster::executor(args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of our standard output went away (`flow-models hist … | head`): not an
        // error. A broken pipe anywhere else is one.
        Err(_) if stdout::closed() => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("flow-models: error: {e}");
            ExitCode::FAILURE
        }
    }
}
