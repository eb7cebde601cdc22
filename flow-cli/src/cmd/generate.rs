//! `flow-models generate`: synthetic flows drawn from a histogram or a fitted mixture, either as
//! the original makes them (packets and octets only) or as complete records for benchmarks.

use crate::cmd::convert::OutputArgs;
use crate::progress;
use clap::ValueEnum;
use datafusion::common::{DataFusionError, Result};
use flow_udfs::mixture::{
    FlowGenerator, Source, TraceSpec, XKind, clock_seed, flow_batches, generate_trace,
};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum XValue {
    Length,
    Size,
}

/// Generate flow records from a histogram or a mixture directory.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  \
    # 1000 flows (packets, octets) drawn from a histogram, csv_flow on standard output\n  \
    flow-models generate -s 1000 histograms/udp/length.csv\n\n  \
    # from fitted mixtures (a directory with flows.json, packets.json, octets.json)\n  \
    flow-models generate -s 1000000 -x length --seed 1 -o binary -O synth mixtures/all/length\n\n  \
    # a complete synthetic trace for benchmarks: 10 M flows over one hour, 5-tuples,\n  \
    # timestamps, records split by a 300 s active timeout\n  \
    flow-models generate -s 10000000 --trace --period 3600 --active-timeout 300 -o binary -O t10m mixtures/all/length\n\n\
    Without --trace every field but packets and octets is 0, as in flow-models 2.2. Sizes are\n\
    drawn as in the original (x + 1 of the integer part of a mixture draw, sizes at least 64;\n\
    the packet size is the mixtures' mean at x, clipped to 64..1522 for lengths) and fractional\n\
    counts are rounded up with probability equal to their fraction. --seed makes runs repeatable\n\
    (the stream differs from numpy's: same distribution, not the same numbers).")]
pub struct Args {
    /// csv_hist histogram file, or a directory with flows.json, packets.json and octets.json
    pub file: PathBuf,
    /// Number of flows to generate (0: every flow of the histogram once, last row first)
    #[arg(short = 's', default_value_t = 1)]
    pub size: u64,
    /// Which flow feature the histogram or mixtures describe (x axis value)
    #[arg(short = 'x', value_enum, default_value = "length")]
    pub x: XValue,
    /// Seed of the random generator (default: from the clock)
    #[arg(long)]
    pub seed: Option<u64>,
    #[command(flatten)]
    pub out: OutputArgs,
    /// Complete records: random IPv4 5-tuples, start times over --period, split by --active-timeout
    #[arg(long)]
    pub trace: bool,
    /// Unix time at which the trace starts (with --trace)
    #[arg(long, default_value_t = TraceSpec::default().start)]
    pub start: u32,
    /// Seconds over which flow starts are spread (with --trace)
    #[arg(long, default_value_t = TraceSpec::default().period)]
    pub period: u32,
    /// Exporter active timeout in seconds: longer flows become several records (with --trace)
    #[arg(long, default_value_t = TraceSpec::default().active_timeout)]
    pub active_timeout: u32,
}

pub async fn run(args: Args) -> Result<()> {
    let kind = match args.x {
        XValue::Length => XKind::Length,
        XValue::Size => XKind::Size,
    };
    let in_file = |e| DataFusionError::Execution(format!("{}: {e}", args.file.display()));
    let source = Source::load(&args.file).map_err(in_file)?;
    let mut generator = FlowGenerator::new(source, kind).map_err(in_file)?;
    let mut rng = StdRng::seed_from_u64(args.seed.unwrap_or_else(clock_seed));
    let size = if args.size == 0 {
        if args.trace {
            return Err(DataFusionError::Plan(
                "generate: --trace needs a number of flows (-s N > 0)".into(),
            ));
        }
        generator.replay_all().map_err(in_file)?
    } else {
        args.size
    };
    let schema = flow_provider::fields::standard_schema();
    let mut sink = crate::stdout::sink(args.out.format()?, &args.out.output, &schema)?;
    let bar = progress::rows(Some(size));
    let records = if args.trace {
        let spec = TraceSpec {
            start: args.start,
            period: args.period,
            active_timeout: args.active_timeout,
            ..TraceSpec::default()
        };
        generate_trace(&generator, &mut rng, &spec, size, |b, flows| {
            bar.inc(flows);
            sink.write(&b)
        })?
    } else {
        flow_batches(&mut generator, &mut rng, size, 1 << 16, |b| {
            bar.inc(b.num_rows() as u64);
            sink.write(&b)
        })?;
        size
    };
    sink.finish()?;
    bar.finish_and_clear();
    if args.out.output != "-" {
        eprintln!(
            "flow-models generate: wrote {records} records ({} flows) to {}",
            size, args.out.output
        );
    }
    Ok(())
}
