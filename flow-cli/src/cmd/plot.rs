//! `flow-models plot`: the figures of a histogram and its mixtures, as `flow_models.plot` draws
//! them, from a csv_hist file or from any query.

use crate::cmd::hist::X;
use clap::ValueEnum;
use clap::builder::TypedValueParser;
use datafusion::common::{DataFusionError, Result};
use flow_plot::{
    CdfMode, Group, HistData, ImageFormat, PdfMode, PlotOptions, Source, figures, plot_to_dir,
    write_data,
};
use flow_udfs::hist::XValue;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Png,
    Svg,
}

impl From<Format> for ImageFormat {
    fn from(f: Format) -> Self {
        match f {
            Format::Png => ImageFormat::Png,
            Format::Svg => ImageFormat::Svg,
        }
    }
}

/// Plots of a flow histogram and its mixture models (like flow_models.plot).
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  \
    # the original's plot set for a histogram and the mixtures fitted to it\n  \
    flow-models plot -x length -O plots histograms/all/length.csv mixtures/all/length\n\n  \
    # straight from flows to figures: any query returning the csv_hist columns\n  \
    flow-models plot --sql \"SELECT * FROM flow_hist('trace', 'length', 12)\" -O plots\n\n  \
    # TCP and UDP on the same axes, data points shown, SVG, the numbers as CSV too\n  \
    flow-models plot tcp/length.csv mix/tcp/length --also udp/length.csv:mix/udp/length \\\n    \
    -P points --format svg --data-out plots/data -O plots\n\n\
    Writes into -O: cdf, pdf-flows, pdf-packets, pdf-octets (--single: one 2x2 image named\n\
    single instead), avg-packets, avg-octets, avg-packet_size; PNG 1500x950 or SVG. Lines are\n\
    drawn on the original's grid unique(rint(geomspace(min, max, 128))) of the first\n\
    histogram's bin_lo. The PDF plots always show the PDF inferred from the data and the\n\
    mixture's; -P adds modes. --data-out DIR writes every plotted series as CSV\n\
    (source,series,x,y), the same numbers flow-models 2.2 computes. Files are replaced\n\
    atomically.")]
pub struct Args {
    /// Histogram (csv_hist file); not with --sql
    pub histogram: Option<PathBuf>,
    /// Mixture directory (flows.json, packets.json, octets.json, as `fit` writes them)
    pub mixture: Option<PathBuf>,
    /// x value of the histogram
    #[arg(short = 'x', value_enum, default_value = "length")]
    pub x: X,
    /// Image format
    #[arg(long, value_enum, default_value = "png")]
    pub format: Format,
    /// The CDF and the three PDF plots in one 2x2 image
    #[arg(long)]
    pub single: bool,
    /// Do not divide the PDF data points by their bin width (log-binned points)
    #[arg(long = "no-normalize")]
    pub no_normalize: bool,
    /// Additional PDF plot mode (repeatable): points (the bins), hist (2-D histogram of the
    /// points), kde (their kernel density), comp (mixture components), comp_stack (stacked),
    /// comp_labels (components in the legend)
    #[arg(short = 'P', value_parser = modes(&PdfMode::NAMES))]
    pub pdf: Vec<PdfMode>,
    /// Additional CDF plot mode (repeatable)
    #[arg(short = 'C', value_parser = modes(&CdfMode::NAMES))]
    pub cdf: Vec<CdfMode>,
    /// Another histogram (and mixture) on the same plots: HIST.csv[:MIXTURE_DIR] (repeatable)
    #[arg(long, value_name = "HIST[:MIXTURE]")]
    pub also: Vec<String>,
    /// A query returning the csv_hist columns, plotted as the histogram
    #[arg(long, conflicts_with_all = ["file", "histogram"])]
    pub sql: Option<String>,
    /// A file holding that query
    #[arg(short = 'f', long = "file", conflicts_with = "histogram")]
    pub file: Option<PathBuf>,
    /// Output directory
    #[arg(short = 'O', long = "output", default_value = ".")]
    pub output: PathBuf,
    /// Also write the plotted series as CSV into this directory
    #[arg(long)]
    pub data_out: Option<PathBuf>,
}

/// A `-P`/`-C` value parser listing the mode names in `--help`.
fn modes<M: std::str::FromStr<Err = String> + Clone + Send + Sync + 'static>(
    names: &[(&'static str, M)],
) -> impl TypedValueParser<Value = M> {
    clap::builder::PossibleValuesParser::new(names.iter().map(|(n, _)| *n))
        .try_map(|s| s.parse::<M>())
}

/// The histogram of `--sql`/`-f`, run in a session with every flow function.
async fn query_histogram(sql: &str) -> Result<Source> {
    let ctx = crate::session::context(false)?;
    // Statements before the last (CREATE, SET …) prepare it; the last one's rows are plotted.
    let mut batches = Vec::new();
    for statement in crate::print::parse(&ctx, sql)? {
        let plan = crate::print::plan(&ctx, statement).await?;
        batches = ctx.execute_logical_plan(plan).await?.collect().await?;
    }
    Ok(Source::Histogram {
        label: "query".into(),
        data: HistData::from_batches(&batches)?,
    })
}

/// `HIST.csv[:MIXTURE_DIR]`.
fn also_group(spec: &str) -> Result<Group> {
    let (hist, mix) = match spec.split_once(':') {
        Some((h, m)) if !m.is_empty() => (h, Some(m)),
        _ => (spec.trim_end_matches(':'), None),
    };
    let mut sources = vec![Source::load(Path::new(hist))?];
    if let Some(m) = mix {
        sources.push(Source::load(Path::new(m))?);
    }
    Group::of(sources)
}

pub async fn run(args: Args) -> Result<()> {
    let query = match (&args.sql, &args.file) {
        (Some(q), _) => Some(q.clone()),
        (None, Some(f)) => Some(
            std::fs::read_to_string(f)
                .map_err(|e| DataFusionError::Execution(format!("{}: {e}", f.display())))?,
        ),
        _ => None,
    };
    let mut first = Vec::new();
    match query {
        Some(q) => {
            first.push(query_histogram(&q).await?);
            // With a query the one positional argument is the mixture.
            if let Some(m) = args.histogram.as_ref().or(args.mixture.as_ref()) {
                first.push(Source::load(m)?);
            }
        }
        None => {
            let hist = args.histogram.as_ref().ok_or_else(|| {
                DataFusionError::Plan(
                    "plot: give a histogram (csv_hist file), --sql QUERY or -f FILE.sql".into(),
                )
            })?;
            first.push(Source::load(hist)?);
            if let Some(m) = &args.mixture {
                first.push(Source::load(m)?);
            }
        }
    }
    let mut groups = vec![Group::of(first)?];
    for spec in &args.also {
        groups.push(also_group(spec)?);
    }
    let options = PlotOptions {
        x: XValue::from(args.x),
        normalize: !args.no_normalize,
        pdf_modes: args.pdf.iter().copied().collect(),
        cdf_modes: args.cdf.iter().copied().collect(),
    };
    let figs = figures(&groups, &options)?;
    if let Some(dir) = &args.data_out {
        write_data(&figs, dir)?;
    }
    for path in plot_to_dir(&figs, args.format.into(), args.single, &args.output)? {
        eprintln!("flow-models plot: wrote {}", path.display());
    }
    Ok(())
}
