//! `flow-models fit`: fit a mixture of distributions to one column of a csv_hist histogram with
//! the EM algorithm of flow-models 2.2 and write `{y}.json` and `{y}.mode`.

use crate::progress;
use clap::ValueEnum;
use datafusion::common::{DataFusionError, Result};
use flow_udfs::mixture::{
    FitData, FitOptions, Histogram, Initial, InitialCounts, InitialOrMix, ModeArgs, fit,
    mixture_from_json, save,
};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum YValue {
    Flows,
    Packets,
    Octets,
}

impl YValue {
    fn name(self) -> &'static str {
        match self {
            YValue::Flows => "flows",
            YValue::Packets => "packets",
            YValue::Octets => "octets",
        }
    }
}

/// Fit a mixture model (uniform + Pareto + lognormal components) to a histogram.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  \
    # 6 uniforms and 4 lognormals, 400 iterations, flows column; writes ./flows.json, ./flows.mode\n  \
    flow-models fit -y flows -i 400 -U 6 -L 4 histograms/all/length.csv\n\n  \
    # octets column of a size histogram into mixtures/all/size/\n  \
    flow-models fit -y octets -i 400 -L 5 -O mixtures/all/size histograms/all/size.csv\n\n  \
    # start from an earlier fit, cap the Pareto weights at 0.2\n  \
    flow-models fit -y flows -i 100 --initial flows.json --mpw 0.2 length.csv\n\n\
    The histogram is a csv_hist file (bin_lo,bin_hi,flows_sum,packets_sum,octets_sum,...):\n\
    x = bin_lo, data weights = the {y}_sum column. Component counts (-U/-P/-L) build the initial\n\
    mixture exactly as flow-models 2.2; they take precedence over --initial, as in the original.\n\
    The same fit is available in SQL: SELECT mixture_fit(bin_lo, flows_sum, 'U6L4', 400) FROM ...")]
pub struct Args {
    /// Input histogram (csv_hist)
    pub file: PathBuf,
    /// Which histogram column to fit (y axis value)
    #[arg(short = 'y', value_enum, default_value = "flows")]
    pub y: YValue,
    /// Number of EM iterations
    #[arg(short = 'i', default_value_t = 100)]
    pub iterations: usize,
    /// Number of uniform components
    #[arg(short = 'U')]
    pub uniform: Option<usize>,
    /// Number of (generalised) Pareto components
    #[arg(short = 'P')]
    pub pareto: Option<usize>,
    /// Number of lognormal components
    #[arg(short = 'L')]
    pub lognorm: Option<usize>,
    /// Maximum weight of a Pareto component
    #[arg(long)]
    pub mpw: Option<f64>,
    /// Initial mixture (JSON file: a component list or {"sum":..,"mix":[..]})
    #[arg(long)]
    pub initial: Option<PathBuf>,
    /// Output directory for {y}.json and {y}.mode
    #[arg(short = 'O', long = "output", default_value = ".")]
    pub output: PathBuf,
}

fn in_file(path: &std::path::Path, e: impl std::fmt::Display) -> DataFusionError {
    DataFusionError::Execution(format!("{}: {e}", path.display()))
}

pub async fn run(args: Args) -> Result<()> {
    let hist = Histogram::from_path(&args.file).map_err(|e| in_file(&args.file, e))?;
    let counts = InitialCounts {
        uniform: args.uniform.unwrap_or(0),
        pareto: args.pareto.unwrap_or(0),
        lognorm: args.lognorm.unwrap_or(0),
    };
    // Like the original: any non-zero count wins over --initial.
    let (init, initial) = match &args.initial {
        Some(path) if counts == InitialCounts::default() => {
            let text = flow_provider::store::read_to_string(path).map_err(|e| in_file(path, e))?;
            let mix = mixture_from_json(&text).map_err(|e| in_file(path, e))?;
            (
                InitialOrMix::Mixture(mix),
                Initial::Path(path.display().to_string()),
            )
        }
        _ if counts == InitialCounts::default() => {
            return Err(DataFusionError::Plan(
                "no initial mixture: give component counts (-U/-P/-L) or --initial FILE".into(),
            ));
        }
        _ => (InitialOrMix::Counts(counts), Initial::Counts(counts)),
    };
    let y = args.y.name();
    let bar = progress::steps(args.iterations as u64, "iterations");
    let data = FitData::Histogram {
        hist: &hist,
        y_value: y,
    };
    let options = FitOptions {
        iterations: args.iterations,
        max_pareto_w: args.mpw,
        progress: Some(&mut || bar.inc(1)),
    };
    let mix = fit(data, &init, options).map_err(|e| in_file(&args.file, e))?;
    bar.finish_and_clear();
    let mode = ModeArgs {
        in_file: Some(args.file.display().to_string()),
        y_value: y.to_string(),
        max_iter: args.iterations,
        initial,
        max_pareto_w: args.mpw,
    };
    let (json, mode_path) = save(&args.output, &mix, &mode)?;
    eprintln!(
        "flow-models fit: wrote {} and {}",
        json.display(),
        mode_path.display()
    );
    Ok(())
}
