//! The plot set of `flow_models.plot` as data: which figures, which series on each, in which
//! style. Rendering ([`crate::render`]) and `--data-out` ([`crate::data_out`]) both read it.

use crate::input::{HistData, MixtureSet, Source, What};
use crate::series;
use datafusion::common::{DataFusionError, Result};
use flow_udfs::hist::XValue;
use flow_udfs::mixture::{self, AvgWhat, Mixture, XKind};
use std::collections::BTreeSet;

/// Extra modes of the PDF figures (`-P`); `line` and `mixture` are always drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PdfMode {
    /// The histogram's bins as points.
    Points,
    /// A 2-D histogram of the points in log space, weighted by flows.
    Hist,
    /// A Gaussian kernel density estimate of the points in log space, weighted by flows.
    Kde,
    /// Each mixture component as a dashed line.
    Comp,
    /// The mixture components stacked.
    CompStack,
    /// Components labelled in the legend.
    CompLabels,
}

/// Extra modes of the CDF figure (`-C`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CdfMode {
    Comp,
    CompStack,
    CompLabels,
}

impl PdfMode {
    /// The modes by the original's names (`-P points`, ...).
    pub const NAMES: [(&str, PdfMode); 6] = [
        ("points", PdfMode::Points),
        ("hist", PdfMode::Hist),
        ("kde", PdfMode::Kde),
        ("comp", PdfMode::Comp),
        ("comp_stack", PdfMode::CompStack),
        ("comp_labels", PdfMode::CompLabels),
    ];
}

impl CdfMode {
    /// The modes by the original's names (`-C comp`, ...).
    pub const NAMES: [(&str, CdfMode); 3] = [
        ("comp", CdfMode::Comp),
        ("comp_stack", CdfMode::CompStack),
        ("comp_labels", CdfMode::CompLabels),
    ];
}

/// A mode by name, or an error listing the names.
fn mode_named<M: Copy>(names: &[(&str, M)], s: &str) -> Result<M, String> {
    names
        .iter()
        .find(|(n, _)| *n == s)
        .map(|(_, m)| *m)
        .ok_or_else(|| {
            let all: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
            format!("unknown mode '{s}' (one of {})", all.join(", "))
        })
}

impl std::str::FromStr for PdfMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        mode_named(&Self::NAMES, s)
    }
}

impl std::str::FromStr for CdfMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        mode_named(&Self::NAMES, s)
    }
}

/// How the plot set is made.
#[derive(Debug, Clone, PartialEq)]
pub struct PlotOptions {
    pub x: XValue,
    /// Divide the PDF data points by their bin width (the original's default).
    pub normalize: bool,
    pub pdf_modes: BTreeSet<PdfMode>,
    pub cdf_modes: BTreeSet<CdfMode>,
}

impl Default for PlotOptions {
    fn default() -> Self {
        Self {
            x: XValue::Length,
            normalize: true,
            pdf_modes: BTreeSet::new(),
            cdf_modes: BTreeSet::new(),
        }
    }
}

/// An sRGB colour.
pub type Rgb = (u8, u8, u8);

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Style {
    /// A line of `width` pixels (at 100 dpi) with `alpha`.
    Line { color: Rgb, width: f64, alpha: f64 },
    /// A dashed line.
    Dashed { color: Rgb, width: f64 },
    /// One-pixel points.
    Points { color: Rgb },
    /// An area stacked on the previous stacked series of the figure.
    Stacked { color: Rgb, alpha: f64 },
}

/// One curve: `y` at `x`, from `source` (a file name).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub source: String,
    /// The curve's name within the figure (`line`, `mixture`, `points`, `flows line`, ...): the
    /// `series` column of `--data-out`.
    pub name: String,
    /// The legend entry, if any.
    pub label: Option<String>,
    pub style: Style,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
}

/// A colour map of cells (the `hist` and `kde` modes): `values` row by row over `x_edges` ×
/// `y_edges` cells, NaN where nothing is drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct Raster {
    pub x_edges: Vec<f64>,
    pub y_edges: Vec<f64>,
    /// `(x_edges.len() - 1) * (y_edges.len() - 1)` values in [0, 1], x-major.
    pub values: Vec<f64>,
    /// The colour at 1 (0 is white).
    pub color: Rgb,
    pub alpha: f64,
}

/// A horizontal line with a text on it (the minimum, average and maximum packet size).
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    pub y: f64,
    pub text: String,
    /// Where the text is centred on the x axis.
    pub text_x: f64,
}

/// One figure of the set.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// The file stem: `cdf`, `pdf-flows`, `avg-packet_size`, ...
    pub name: String,
    pub x_label: String,
    pub y_label: String,
    pub log_y: bool,
    /// Fixed axis ranges (otherwise: the data's, with 5 % margins).
    pub x_range: Option<(f64, f64)>,
    pub y_range: Option<(f64, f64)>,
    pub rasters: Vec<Raster>,
    pub series: Vec<Series>,
    pub marks: Vec<Mark>,
}

impl Figure {
    fn new(name: String, x: XValue, y_label: String, log_y: bool) -> Self {
        Self {
            name,
            x_label: format!("Flow {x} [{}]", unit(x)),
            y_label,
            log_y,
            x_range: None,
            y_range: None,
            rasters: Vec::new(),
            series: Vec::new(),
            marks: Vec::new(),
        }
    }
}

/// The unit of an x value, as the original's axis labels give it.
pub fn unit(x: XValue) -> &'static str {
    match x {
        XValue::Length => "packets",
        XValue::Size => "bytes",
        XValue::Duration => "milliseconds",
        XValue::Rate => "bps",
    }
}

fn kind(x: XValue) -> XKind {
    match x {
        XValue::Length => XKind::Length,
        XValue::Size => XKind::Size,
        _ => XKind::Other,
    }
}

// matplotlib's colours: 'r', 'g', 'b', 'm', 'c', 'k'.
const RED: Rgb = (255, 0, 0);
const GREEN: Rgb = (0, 128, 0);
const BLUE: Rgb = (0, 0, 255);
const MAGENTA: Rgb = (191, 0, 191);
const CYAN: Rgb = (0, 191, 191);
const BLACK: Rgb = (0, 0, 0);
/// Colours of the second and later groups (`--also`): matplotlib's tab10 after its blue.
const GROUPS: [Rgb; 6] = [
    (255, 127, 14),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (188, 189, 34),
    (23, 190, 207),
];
/// Colours of mixture components (matplotlib's default cycle, tab10).
const CYCLE: [Rgb; 10] = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
];

/// The colour of `what`'s data in group `group` (group 0: the original's red, green, blue).
fn data_color(what: What, group: usize) -> Rgb {
    match group {
        0 => match what {
            What::Flows => RED,
            What::Packets => GREEN,
            What::Octets => BLUE,
        },
        g => GROUPS[(g - 1) % GROUPS.len()],
    }
}

fn model_color(group: usize) -> Rgb {
    match group {
        0 => BLACK,
        g => GROUPS[(g - 1) % GROUPS.len()],
    }
}

/// One histogram and/or one mixture plotted together (the original's pair of objects); later
/// groups are drawn in other colours.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Group {
    pub histogram: Option<(String, HistData)>,
    pub mixture: Option<(String, MixtureSet)>,
}

impl Group {
    /// A group of loaded sources (at most one histogram and one mixture).
    pub fn of(sources: Vec<Source>) -> Result<Self> {
        let mut group = Group::default();
        for s in sources {
            match s {
                Source::Histogram { label, data } if group.histogram.is_none() => {
                    group.histogram = Some((label, data))
                }
                Source::Mixture { label, set } if group.mixture.is_none() => {
                    group.mixture = Some((label, set))
                }
                other => {
                    return Err(DataFusionError::Plan(format!(
                        "plot: {} is a second {} in one group (use --also for another)",
                        other.label(),
                        match other {
                            Source::Histogram { .. } => "histogram",
                            Source::Mixture { .. } => "mixture",
                        }
                    )));
                }
            }
        }
        Ok(group)
    }
}

fn fit_err(source: &str, e: mixture::FitError) -> DataFusionError {
    DataFusionError::Execution(format!("plot: {source}: {e}"))
}

/// The x values the lines are drawn at: the first histogram's range on the original's grid.
pub fn grid(groups: &[Group]) -> Result<Vec<f64>> {
    let hist = groups
        .iter()
        .find_map(|g| g.histogram.as_ref())
        .ok_or_else(|| {
            DataFusionError::Plan(
                "plot: a histogram is needed (it sets the x range of the lines)".into(),
            )
        })?;
    let lo = &hist.1.bin_lo;
    Ok(series::line_grid(lo[0], lo[lo.len() - 1]))
}

/// Every figure of the set, in the original's order: `cdf`, `pdf-flows`, `pdf-packets`,
/// `pdf-octets`, `avg-packets`, `avg-octets`, `avg-packet_size`.
pub fn figures(groups: &[Group], opts: &PlotOptions) -> Result<Vec<Figure>> {
    let idx = grid(groups)?;
    let mut out = vec![cdf_figure(groups, opts, &idx)?];
    for what in What::ALL {
        out.push(pdf_figure(groups, opts, &idx, what)?);
    }
    for what in [AvgWhat::Packets, AvgWhat::Octets, AvgWhat::PacketSize] {
        out.push(avg_figure(groups, opts, &idx, what)?);
    }
    if groups.len() > 1 {
        // Several groups on one plot: each legend entry names its file.
        for s in out.iter_mut().flat_map(|f| f.series.iter_mut()) {
            if let Some(label) = &mut s.label {
                *label = format!("{}: {label}", s.source);
            }
        }
    }
    Ok(out)
}

fn line(color: Rgb, width: f64) -> Style {
    Style::Line {
        color,
        width,
        alpha: 0.5,
    }
}

fn cdf_figure(groups: &[Group], opts: &PlotOptions, idx: &[f64]) -> Result<Figure> {
    let mut fig = Figure::new("cdf".into(), opts.x, "CDF (Fraction of)".into(), false);
    fig.y_range = Some((-0.05, 1.05));
    for (g, group) in groups.iter().enumerate() {
        if let Some((label, hist)) = &group.histogram {
            for what in What::ALL {
                fig.series.push(Series {
                    source: label.clone(),
                    name: format!("{} line", what.name()),
                    label: Some(format!("{} (inferred from data points)", what.name())),
                    style: line(data_color(what, g), 2.0),
                    x: idx.to_vec(),
                    y: series::cdf_line(hist, hist.column(what), idx),
                });
            }
        }
        if let Some((label, set)) = &group.mixture {
            for what in What::ALL {
                let Some(mix) = set.get(what) else { continue };
                fig.series.push(Series {
                    source: label.clone(),
                    name: format!("{} mixture", what.name()),
                    label: Some(format!("{} (model)", what.name())),
                    style: line(model_color(g), 1.0),
                    x: idx.to_vec(),
                    y: mixture::cdf(mix, idx).map_err(|e| fit_err(label, e))?,
                });
                let modes = &opts.cdf_modes;
                let comp = modes.contains(&CdfMode::Comp);
                let stack = modes.contains(&CdfMode::CompStack);
                let labels = modes.contains(&CdfMode::CompLabels);
                components(&mut fig, label, what, mix, idx, None, comp, stack, labels)?;
            }
        }
    }
    Ok(fig)
}

/// The components of `mix` on `idx` (the discrete PDF when `pdf_kind`, else the CDF), each
/// weighted by its share, as dashed lines and/or stacked areas.
#[allow(clippy::too_many_arguments)]
fn components(
    fig: &mut Figure,
    source: &str,
    what: What,
    mix: &Mixture,
    idx: &[f64],
    pdf_kind: Option<XKind>,
    dashed: bool,
    stacked: bool,
    labels: bool,
) -> Result<()> {
    if !(dashed || stacked) {
        return Ok(());
    }
    let total = flow_udfs::mixture::pairwise_sum(
        &mix.components.iter().map(|c| c.weight).collect::<Vec<_>>(),
    );
    let prefix = match pdf_kind {
        Some(_) => String::new(),
        None => format!("{} ", what.name()),
    };
    for (i, c) in mix.components.iter().enumerate() {
        let one = Mixture {
            components: vec![c.clone()],
            sum: None,
        };
        let values = match pdf_kind {
            Some(k) => mixture::pdf(&one, idx, k),
            None => mixture::cdf(&one, idx),
        }
        .map_err(|e| fit_err(source, e))?;
        let share = c.weight / total;
        let y: Vec<f64> = values.iter().map(|v| v * share).collect();
        let label = labels.then(|| format!("{} {}", c.weight, c.dist.scipy_name()));
        let color = CYCLE[i % CYCLE.len()];
        if dashed {
            fig.series.push(Series {
                source: source.into(),
                name: format!("{prefix}comp {i}"),
                label: label.clone(),
                style: Style::Dashed { color, width: 1.0 },
                x: idx.to_vec(),
                y: y.clone(),
            });
        }
        if stacked {
            fig.series.push(Series {
                source: source.into(),
                name: format!("{prefix}comp_stack {i}"),
                label,
                style: Style::Stacked { color, alpha: 0.5 },
                x: idx.to_vec(),
                y,
            });
        }
    }
    Ok(())
}

fn pdf_figure(groups: &[Group], opts: &PlotOptions, idx: &[f64], what: What) -> Result<Figure> {
    let name = what.name();
    let mut fig = Figure::new(
        format!("pdf-{name}"),
        opts.x,
        format!("PDF of {name}"),
        true,
    );
    for (g, group) in groups.iter().enumerate() {
        if let Some((label, hist)) = &group.histogram {
            let values = hist.column(what);
            let pdfi = series::pdf_from_cdf(hist, values, idx);
            if g == 0 {
                // The original sets the limits from the inferred PDF of the histogram.
                if let Some(y) = series::extent(pdfi.iter().copied(), true) {
                    fig.x_range = Some(series::with_margins((idx[0], idx[idx.len() - 1]), true));
                    fig.y_range = Some(series::with_margins(y, true));
                }
            }
            let points = series::pdf_points(hist, values, opts.normalize);
            if opts.pdf_modes.contains(&PdfMode::Hist) {
                fig.rasters
                    .push(crate::density::hist2d(hist, &points, data_color(what, g)));
            }
            if opts.pdf_modes.contains(&PdfMode::Kde) {
                fig.rasters
                    .push(crate::density::kde(hist, &points, data_color(what, g)));
            }
            fig.series.push(Series {
                source: label.clone(),
                name: "line".into(),
                label: Some("inferred from data points".into()),
                style: line(data_color(what, g), 2.0),
                x: idx.to_vec(),
                y: pdfi,
            });
            if opts.pdf_modes.contains(&PdfMode::Points) {
                let source = label.clone();
                let (name, label, color) = if opts.normalize {
                    ("points", "data points (normalized)", data_color(what, g))
                } else {
                    ("points log-binned", "data points (log-binned)", CYAN)
                };
                fig.series.push(Series {
                    source: source.clone(),
                    name: name.into(),
                    label: Some(label.into()),
                    style: Style::Points { color },
                    x: hist.bin_lo.clone(),
                    y: points,
                });
            }
        }
        if let Some((label, set)) = &group.mixture {
            let Some(mix) = set.get(what) else { continue };
            let k = kind(opts.x);
            fig.series.push(Series {
                source: label.clone(),
                name: "mixture".into(),
                label: Some("model".into()),
                style: line(model_color(g), 1.0),
                x: idx.to_vec(),
                y: mixture::pdf(mix, idx, k).map_err(|e| fit_err(label, e))?,
            });
            let modes = &opts.pdf_modes;
            let comp = modes.contains(&PdfMode::Comp);
            let stack = modes.contains(&PdfMode::CompStack);
            let labels = modes.contains(&PdfMode::CompLabels);
            components(
                &mut fig,
                label,
                what,
                mix,
                idx,
                Some(k),
                comp,
                stack,
                labels,
            )?;
        }
    }
    Ok(fig)
}

fn avg_figure(groups: &[Group], opts: &PlotOptions, idx: &[f64], what: AvgWhat) -> Result<Figure> {
    let (name, unit, color) = match what {
        AvgWhat::Packets => ("packets", "packets", GREEN),
        AvgWhat::Octets => ("octets", "bytes", BLUE),
        _ => ("packet_size", "bytes", MAGENTA),
    };
    let y_label = format!("Average {} [{unit}]", name.replace('_', " "));
    let log_y = what != AvgWhat::PacketSize;
    let mut fig = Figure::new(format!("avg-{name}"), opts.x, y_label, log_y);
    if what == AvgWhat::PacketSize {
        fig.y_range = Some((0.0, 2000.0));
    }
    for (g, group) in groups.iter().enumerate() {
        let color = if g == 0 { color } else { model_color(g) };
        if let Some((label, hist)) = &group.histogram {
            let (points, line_y) = match what {
                AvgWhat::Packets => series::avg_data(hist, &hist.packets, idx),
                AvgWhat::Octets => series::avg_data(hist, &hist.octets, idx),
                _ => {
                    let (op, ol) = series::avg_data(hist, &hist.octets, idx);
                    let (pp, pl) = series::avg_data(hist, &hist.packets, idx);
                    let div = |a: Vec<f64>, b: Vec<f64>| -> Vec<f64> {
                        a.iter().zip(&b).map(|(x, y)| x / y).collect()
                    };
                    let points = div(op, pp);
                    if g == 0 {
                        fig.marks = packet_size_marks(hist, &points, idx);
                    }
                    (points, div(ol, pl))
                }
            };
            fig.series.push(Series {
                source: label.clone(),
                name: "points".into(),
                label: Some("data points".into()),
                style: Style::Points { color },
                x: hist.bin_lo.clone(),
                y: points,
            });
            fig.series.push(Series {
                source: label.clone(),
                name: "line".into(),
                label: Some("inferred from data points".into()),
                style: line(color, 2.0),
                x: idx.to_vec(),
                y: line_y,
            });
        }
        if let Some((label, set)) = &group.mixture {
            // The original draws the model only when its mixtures are there (KeyError: none).
            let Ok(y) = mixture::avg(&set.mixtures, idx, kind(opts.x), what) else {
                continue;
            };
            fig.series.push(Series {
                source: label.clone(),
                name: "mixture".into(),
                label: Some("inferred from model".into()),
                style: line(model_color(g), 2.0),
                x: idx.to_vec(),
                y,
            });
        }
    }
    Ok(fig)
}

/// The packet-size figure's lines: the smallest and largest average of the points and the
/// overall average, their texts a quarter of the way along the log x axis.
fn packet_size_marks(hist: &HistData, points: &[f64], idx: &[f64]) -> Vec<Mark> {
    let finite = points.iter().copied().filter(|v| !v.is_nan());
    let mn = finite.clone().fold(f64::INFINITY, f64::min);
    let mx = finite.fold(f64::NEG_INFINITY, f64::max);
    let me = flow_udfs::mixture::pairwise_sum(&hist.octets)
        / flow_udfs::mixture::pairwise_sum(&hist.packets);
    let (lo, hi) = (idx[0], idx[idx.len() - 1]);
    let text_x = 10f64.powf((hi - lo).log10() * 0.25 + lo.log10());
    [("min", mn), ("avg", me), ("max", mx)]
        .into_iter()
        .map(|(n, y)| Mark {
            y,
            text: format!("{n} = {y:.2}"),
            text_x,
        })
        .collect()
}
