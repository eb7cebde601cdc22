//! `flow-models series`: packets and octets time series of flow records (flow-models'
//! `series`): `{day}.flows`, `{day}.packets`, `{day}.octets`, one line per second of the day.

use crate::input::{self, InputArgs, OutCutArgs};
use crate::session;
use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::{Int64Type, UInt32Type, UInt64Type};
use clap::ValueEnum;
use datafusion::common::Result;
use datafusion::prelude::DataFrame;
use flow_udfs::series::{DAY, SecondsTable, series_frame};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutFormat {
    /// one file per day and count (`{day}.flows`, `.packets`, `.octets`), a number per line
    /// for each of the day's 86400 seconds
    #[value(name = "csv_series")]
    CsvSeries,
}

/// Packets and octets time series of flow records (like flow_models.series).
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  \
    # the series of a trace into the directory series/\n  \
    flow-models series -O series trace\n\n  \
    # skip the first 100 records and compute the series of the next 1000 (as the original)\n  \
    flow-models series -O series --skip-in 100 --count-in 1000 sorted\n\n  \
    # UDP only, from nfcapd files\n  \
    flow-models series -i nfcapd --filter \"prot = 17\" -O udp /var/cache/nfdump/2024/\n\n\
    A flow counts in the second it starts; its packets are spread evenly over its duration and\n\
    its octets over its packets, as flow_models.series does, so the files are equal to the\n\
    original's. Days are UTC days since 1970 (first / 86400). In SQL:\n\
    SELECT * FROM flow_series('trace') (day, second, flows, packets, octets). Each file is\n\
    written atomically.")]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub cut: OutCutArgs,
    /// Format of the output
    #[arg(
        short = 'o',
        long = "out-format",
        value_enum,
        default_value = "csv_series"
    )]
    pub out_format: OutFormat,
    /// Directory for output
    #[arg(short = 'O', long = "output", default_value = ".")]
    pub output: String,
}

/// A day's counts, second by second.
struct Day {
    flows: Vec<u64>,
    packets: Vec<u64>,
    octets: Vec<i64>,
}

impl Day {
    fn new() -> Self {
        let n = DAY as usize;
        Self {
            flows: vec![0; n],
            packets: vec![0; n],
            octets: vec![0; n],
        }
    }
}

/// The days of the series' rows (day, second, flows, packets, octets).
fn days(batches: &[RecordBatch]) -> BTreeMap<u64, Day> {
    let mut days = BTreeMap::new();
    for b in batches {
        let day = b.column(0).as_primitive::<UInt64Type>();
        let second = b.column(1).as_primitive::<UInt32Type>();
        let flows = b.column(2).as_primitive::<UInt64Type>();
        let packets = b.column(3).as_primitive::<UInt64Type>();
        let octets = b.column(4).as_primitive::<Int64Type>();
        for i in 0..b.num_rows() {
            let d = days.entry(day.value(i)).or_insert_with(Day::new);
            let s = second.value(i) as usize;
            d.flows[s] = flows.value(i);
            d.packets[s] = packets.value(i);
            d.octets[s] = octets.value(i);
        }
    }
    days
}

fn lines<T: std::fmt::Display>(values: &[T]) -> String {
    let mut s = String::with_capacity(values.len() * 4);
    for v in values {
        let _ = writeln!(s, "{v}");
    }
    s
}

pub async fn run(args: Args) -> Result<()> {
    let cut = args.cut.cut();
    let ctx = session::context(cut.needs_order())?;
    let input = input::read(&ctx, &args.input).await?;
    let flows = cut.apply(input.df)?.into_view();
    let seconds = SecondsTable::new("series input".into(), flows);
    let series = DataFrame::new(ctx.state(), series_frame(seconds)?);
    let batches = series.collect().await?;
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    let days = days(&batches);
    let dir = Path::new(&args.output);
    flow_provider::atomic::ensure_dir(dir)?;
    let mut flows = 0u64;
    for (day, d) in &days {
        flows += d.flows.iter().sum::<u64>();
        let file = |what: &str| dir.join(format!("{day}.{what}"));
        flow_provider::atomic::write(&file("flows"), lines(&d.flows).as_bytes())?;
        flow_provider::atomic::write(&file("packets"), lines(&d.packets).as_bytes())?;
        flow_provider::atomic::write(&file("octets"), lines(&d.octets).as_bytes())?;
    }
    eprintln!(
        "flow-models series: {flows} flows over {} day(s) ({rows} seconds with counts) in {}",
        days.len(),
        args.output
    );
    Ok(())
}
