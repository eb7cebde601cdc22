//! Drawing a [`Figure`] with plotters, in the look of the original's figures: log x axis,
//! inward ticks and no grid, 1500×950 pixels (the original's 6.72×4.08 in at 200 dpi, cropped
//! to the drawing), text in DejaVu Sans (matplotlib's font; bundled, so PNGs are the same on
//! every machine; SVG names the family and the viewer draws it).

use crate::figures::{Figure, Mark, Raster, Rgb, Series, Style};
use crate::series::{extent, with_margins};
use datafusion::common::{DataFusionError, Result};
use plotters::chart::SeriesAnno;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, Ranged, ValueFormatter};
use plotters::prelude::*;
use plotters::style::FontStyle;
use std::sync::OnceLock;

/// Image file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Png,
    Svg,
}

impl ImageFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Png => "png",
            ImageFormat::Svg => "svg",
        }
    }
}

/// One figure's size in pixels.
pub const SIZE: (u32, u32) = (1500, 950);
/// The 2×2 figure of `--single` (the original's is 2.132 × 2 figures).
pub const SINGLE_SIZE: (u32, u32) = (3000, 1900);
/// Pixels per point (matplotlib's line widths are points; 200 dpi).
const PX_PER_PT: f64 = 200.0 / 72.0;
/// Text size in pixels: matplotlib's 10 pt × 1.15 at 200 dpi.
const FONT_PX: f64 = 32.0;
const FONT: &str = "sans-serif";

static DEJAVU: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");

fn plot_err(e: impl std::fmt::Display) -> DataFusionError {
    DataFusionError::Execution(format!("plot: drawing failed: {e}"))
}

fn register_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED
        .get_or_init(|| plotters::style::register_font(FONT, FontStyle::Normal, DEJAVU).is_ok());
    ok.then_some(())
        .ok_or_else(|| plot_err("the bundled font did not load"))
}

/// `figure` as a PNG or SVG image.
pub fn render(figure: &Figure, format: ImageFormat) -> Result<Vec<u8>> {
    draw_image(format, SIZE, &Figures(&[figure]))
}

/// The CDF and the three PDF figures in one 2×2 image (`--single`).
pub fn render_single(figures: &[&Figure], format: ImageFormat) -> Result<Vec<u8>> {
    draw_image(format, SINGLE_SIZE, &Figures(figures))
}

/// A time series as a thin black line on linear axes (flow-models' `series_plot`): `y` at
/// 0, 1, 2, … over `x_range`, y from 0 up; `labels` of the x and y axes.
pub fn render_time_series(
    y: &[f64],
    x_range: (f64, f64),
    labels: (&str, &str),
    format: ImageFormat,
) -> Result<Vec<u8>> {
    draw_image(format, SIZE, &TimeSeries { y, x_range, labels })
}

/// What [`render_time_series`] draws.
struct TimeSeries<'a> {
    y: &'a [f64],
    x_range: (f64, f64),
    labels: (&'a str, &'a str),
}

impl Paint for TimeSeries<'_> {
    fn paint<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()> {
        paint_time_series(area, self.y, self.x_range, self.labels)
    }
}

fn paint_time_series<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    y: &[f64],
    x_range: (f64, f64),
    (x_label, y_label): (&str, &str),
) -> Result<()> {
    let top = y
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let y_top = if top > 0.0 { top * 1.05 } else { 1.0 };
    area.fill(&WHITE).map_err(plot_err)?;
    let text = (FONT, FONT_PX).into_font();
    let mut chart = framed(area)
        .y_label_area_size(220)
        .build_cartesian_2d(x_range.0..x_range.1, 0.0..y_top)
        .map_err(plot_err)?;
    let x_span = x_range.1 - x_range.0;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .label_style(text.clone())
        .axis_desc_style(text)
        .x_label_formatter(&|v: &f64| linear_label(*v, x_span))
        .y_label_formatter(&|v: &f64| linear_label(*v, y_top))
        .x_labels(10)
        .y_labels(8)
        .axis_style(BLACK.stroke_width(1))
        .set_all_tick_mark_size(10)
        .draw()
        .map_err(plot_err)?;
    chart
        .draw_series(std::iter::once(Rectangle::new(
            [(x_range.0, 0.0), (x_range.1, y_top)],
            BLACK.stroke_width(1),
        )))
        .map_err(plot_err)?;
    // matplotlib's 0.2 pt line is under a pixel: one pixel here.
    let points = (y.iter().enumerate()).filter(|(_, v)| v.is_finite());
    chart
        .draw_series(LineSeries::new(points.map(|(i, &v)| (i as f64, v)), BLACK))
        .map_err(plot_err)?;
    area.present().map_err(plot_err)
}

/// One figure on the whole area, or up to four in a 2×2 grid.
fn paint<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, figures: &[&Figure]) -> Result<()> {
    area.fill(&WHITE).map_err(plot_err)?;
    match figures {
        [one] => draw(area, one)?,
        _ => {
            for (cell, figure) in area.split_evenly((2, 2)).iter().zip(figures) {
                draw(cell, figure)?;
            }
        }
    }
    area.present().map_err(plot_err)
}

/// A chart builder with the margins and the x label area of every figure.
fn framed<'a, 'b, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
) -> ChartBuilder<'a, 'b, DB> {
    let mut builder = ChartBuilder::on(area);
    builder
        .margin_top(20)
        .margin_right(40)
        .margin_left(20)
        .margin_bottom(10)
        .x_label_area_size(100);
    builder
}

/// Something drawn on a whole image, whichever the backend.
trait Paint {
    fn paint<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()>;
}

/// One figure, or up to four in a 2×2 grid.
struct Figures<'a>(&'a [&'a Figure]);

impl Paint for Figures<'_> {
    fn paint<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()> {
        paint(area, self.0)
    }
}

fn draw_image(format: ImageFormat, (w, h): (u32, u32), what: &impl Paint) -> Result<Vec<u8>> {
    register_font()?;
    match format {
        ImageFormat::Png => {
            let mut rgb = vec![0u8; w as usize * h as usize * 3];
            {
                let area = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
                what.paint(&area)?;
            }
            encode_png(&rgb, w, h)
        }
        ImageFormat::Svg => {
            let mut svg = String::new();
            {
                let area = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
                what.paint(&area)?;
            }
            Ok(svg.into_bytes())
        }
    }
}

fn encode_png(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header().map_err(plot_err)?;
    writer.write_image_data(rgb).map_err(plot_err)?;
    writer.finish().map_err(plot_err)?;
    Ok(out)
}

fn draw<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, fig: &Figure) -> Result<()> {
    let xs = fig.series.iter().flat_map(|s| s.x.iter().copied());
    let x = fig
        .x_range
        .or_else(|| extent(xs, true).map(|r| with_margins(r, true)))
        .unwrap_or((1.0, 10.0));
    let stacked = stacked_tops(fig);
    let ys = fig
        .series
        .iter()
        .flat_map(|s| s.y.iter().copied())
        .chain(stacked.iter().flat_map(|(_, top)| top.iter().copied()));
    let y = fig
        .y_range
        .or_else(|| extent(ys, fig.log_y).map(|r| with_margins(r, fig.log_y)))
        .unwrap_or(if fig.log_y { (1e-6, 1.0) } else { (0.0, 1.0) });
    let x_axis = (x.0..x.1).log_scale();
    if fig.log_y {
        draw_on(area, fig, x_axis, (y.0..y.1).log_scale(), &stacked)
    } else {
        draw_on(area, fig, x_axis, y.0..y.1, &stacked)
    }
}

/// The stacked series of `fig` with their running tops (a series' area lies between the
/// previous top and its own).
fn stacked_tops(fig: &Figure) -> Vec<(usize, Vec<f64>)> {
    let mut running: Option<Vec<f64>> = None;
    let mut out = Vec::new();
    for (i, s) in fig.series.iter().enumerate() {
        if let Style::Stacked { .. } = s.style {
            let top: Vec<f64> = match &running {
                Some(prev) if prev.len() == s.y.len() => {
                    prev.iter().zip(&s.y).map(|(a, b)| a + b).collect()
                }
                _ => s.y.clone(),
            };
            running = Some(top.clone());
            out.push((i, top));
        }
    }
    out
}

fn rgb((r, g, b): Rgb) -> RGBColor {
    RGBColor(r, g, b)
}

/// A superscript exponent (`10⁻³`).
fn superscript(n: i32) -> String {
    const DIGITS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    let mut s: String = if n < 0 { "⁻".into() } else { String::new() };
    s.extend(
        n.unsigned_abs()
            .to_string()
            .bytes()
            .map(|b| DIGITS[(b - b'0') as usize]),
    );
    s
}

/// Tick labels of a log axis: powers of ten as `10ⁿ`, nothing elsewhere (matplotlib's minor
/// ticks carry no label).
fn log_label(v: f64) -> String {
    let e = v.log10().round();
    if (v / 10f64.powf(e) - 1.0).abs() < 1e-9 {
        format!("10{}", superscript(e as i32))
    } else {
        String::new()
    }
}

/// Tick labels of a linear axis over `span`: one decimal on short ranges (`0.0` … `1.0`, as
/// matplotlib labels the CDF), none on long ones.
fn linear_label(v: f64, span: f64) -> String {
    let s = if span <= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    };
    if s.starts_with('-') && s.trim_start_matches(['-', '0', '.']).is_empty() {
        s[1..].into()
    } else {
        s
    }
}

fn draw_on<DB, Y>(
    area: &DrawingArea<DB, Shift>,
    fig: &Figure,
    x: impl AsRangedCoord<Value = f64, CoordDescType = LogCoord<f64>>,
    y: Y,
    stacked: &[(usize, Vec<f64>)],
) -> Result<()>
where
    DB: DrawingBackend,
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let text = (FONT, FONT_PX).into_font();
    let mut chart = framed(area)
        .y_label_area_size(150)
        .build_cartesian_2d(x, y)
        .map_err(plot_err)?;
    let log_y = fig.log_y;
    let (x_lo, x_hi) = {
        let r = chart.x_range();
        (r.start, r.end)
    };
    let (y_lo, y_hi) = {
        let r = chart.y_range();
        (r.start, r.end)
    };
    let y_fmt = move |v: &f64| {
        if log_y {
            log_label(*v)
        } else {
            linear_label(*v, y_hi - y_lo)
        }
    };
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(&fig.x_label)
        .y_desc(&fig.y_label)
        .label_style(text.clone())
        .axis_desc_style(text.clone())
        .x_label_formatter(&|v: &f64| log_label(*v))
        .y_label_formatter(&y_fmt)
        .x_labels(30)
        .y_labels(if log_y { 30 } else { 8 })
        .axis_style(BLACK.stroke_width(1))
        .set_all_tick_mark_size(10)
        .draw()
        .map_err(plot_err)?;
    // The frame matplotlib draws round the axes.
    chart
        .draw_series(std::iter::once(Rectangle::new(
            [(x_lo, y_lo), (x_hi, y_hi)],
            BLACK.stroke_width(1),
        )))
        .map_err(plot_err)?;
    for raster in &fig.rasters {
        draw_raster(chart.plotting_area(), raster)?;
    }
    for mark in &fig.marks {
        draw_mark(&mut chart, mark, (x_lo, x_hi), &text)?;
    }
    let mut below = Vec::new();
    for (i, s) in fig.series.iter().enumerate() {
        let top = stacked.iter().find(|(j, _)| *j == i).map(|(_, t)| t);
        draw_series(&mut chart, s, top, &mut below, log_y)?;
    }
    let position = legend_position(fig, (x_lo, x_hi), (y_lo, y_hi));
    chart
        .configure_series_labels()
        .position(position)
        .legend_area_size(70)
        .label_font(text)
        .background_style(WHITE.mix(0.8))
        .border_style(TRANSPARENT)
        .margin(30)
        .draw()
        .map_err(plot_err)?;
    Ok(())
}

/// Where the legend covers the fewest drawn points (matplotlib's `loc='best'`, over the
/// corners and the middles of the sides).
fn legend_position(fig: &Figure, x: (f64, f64), y: (f64, f64)) -> SeriesLabelPosition {
    use SeriesLabelPosition::*;
    let labelled: Vec<&Series> = fig.series.iter().filter(|s| s.label.is_some()).collect();
    let widest = labelled
        .iter()
        .filter_map(|s| s.label.as_ref())
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0);
    // The legend's size as fractions of the plotting area (about 1290×760 pixels).
    let w = (130.0 + widest as f64 * FONT_PX * 0.55) / 1290.0;
    let h = (20.0 + labelled.len() as f64 * FONT_PX * 1.25) / 760.0;
    let fx = |v: f64| (v.ln() - x.0.ln()) / (x.1.ln() - x.0.ln());
    let fy = |v: f64| match fig.log_y {
        true => (v.ln() - y.0.ln()) / (y.1.ln() - y.0.ln()),
        false => (v - y.0) / (y.1 - y.0),
    };
    let points: Vec<(f64, f64)> = fig
        .series
        .iter()
        .flat_map(|s| s.x.iter().zip(&s.y))
        .map(|(&a, &b)| (fx(a), fy(b)))
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .collect();
    let (m, mid_x, mid_y) = (0.03, 0.5 - w / 2.0, 0.5 - h / 2.0);
    let candidates = [
        (UpperRight, 1.0 - m - w, 1.0 - m - h),
        (UpperLeft, m, 1.0 - m - h),
        (LowerLeft, m, m),
        (LowerRight, 1.0 - m - w, m),
        (MiddleRight, 1.0 - m - w, mid_y),
        (MiddleLeft, m, mid_y),
        (LowerMiddle, mid_x, m),
        (UpperMiddle, mid_x, 1.0 - m - h),
    ];
    candidates
        .into_iter()
        .min_by_key(|(_, left, bottom)| {
            points
                .iter()
                .filter(|(a, b)| *a >= *left && *a <= left + w && *b >= *bottom && *b <= bottom + h)
                .count()
        })
        .map_or(UpperRight, |(p, _, _)| p)
}

type Chart<'a, DB, Y> = ChartContext<'a, DB, Cartesian2d<LogCoord<f64>, Y>>;

/// Runs of drawable points (finite, positive on a log axis): a NaN breaks a line.
fn runs(s: &Series, log_y: bool) -> Vec<Vec<(f64, f64)>> {
    let mut out = vec![Vec::new()];
    for (&x, &y) in s.x.iter().zip(&s.y) {
        if x.is_finite() && x > 0.0 && y.is_finite() && (!log_y || y > 0.0) {
            out.last_mut().expect("one run").push((x, y));
        } else if !out.last().expect("one run").is_empty() {
            out.push(Vec::new());
        }
    }
    out.retain(|r| !r.is_empty());
    out
}

fn draw_series<DB, Y>(
    chart: &mut Chart<DB, Y>,
    s: &Series,
    stacked_top: Option<&Vec<f64>>,
    below: &mut Vec<f64>,
    log_y: bool,
) -> Result<()>
where
    DB: DrawingBackend,
    Y: Ranged<ValueType = f64>,
{
    let label = s.label.clone();
    let legend = |anno: &mut SeriesAnno<DB>, style: ShapeStyle| {
        if let Some(l) = &label {
            anno.label(l.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 50, y)], style));
        }
    };
    match s.style {
        Style::Line {
            color,
            width,
            alpha,
        } => {
            let style = rgb(color)
                .mix(alpha)
                .stroke_width((width * PX_PER_PT).round() as u32);
            for (k, run) in runs(s, log_y).into_iter().enumerate() {
                let anno = chart
                    .draw_series(LineSeries::new(run, style))
                    .map_err(plot_err)?;
                if k == 0 {
                    legend(anno, style);
                }
            }
        }
        Style::Dashed { color, width } => {
            let style = rgb(color).stroke_width((width * PX_PER_PT).round().max(1.0) as u32);
            for (k, run) in runs(s, log_y).into_iter().enumerate() {
                let anno = chart
                    .draw_series(DashedLineSeries::new(run, 12, 8, style))
                    .map_err(plot_err)?;
                if k == 0 {
                    legend(anno, style);
                }
            }
        }
        Style::Points { color } => {
            // One pixel each, as matplotlib's ',' marker.
            let color = rgb(color);
            let points = runs(s, log_y).into_iter().flatten();
            let anno = chart
                .draw_series(points.map(|p| Pixel::new(p, color)))
                .map_err(plot_err)?;
            legend(anno, color.stroke_width(6));
        }
        Style::Stacked { color, alpha } => {
            let top = stacked_top.cloned().unwrap_or_else(|| s.y.clone());
            if below.len() != top.len() {
                *below = vec![0.0; top.len()];
            }
            let floor = chart.y_range().start;
            let clamp = |v: f64| {
                if log_y && v <= 0.0 {
                    floor
                } else {
                    v.max(floor)
                }
            };
            let mut outline: Vec<(f64, f64)> =
                s.x.iter().zip(&top).map(|(&x, &t)| (x, clamp(t))).collect();
            outline.extend(
                s.x.iter()
                    .zip(below.iter())
                    .rev()
                    .map(|(&x, &b)| (x, clamp(b))),
            );
            let style = rgb(color).mix(alpha).filled();
            let anno = chart
                .draw_series(std::iter::once(Polygon::new(outline, style)))
                .map_err(plot_err)?;
            legend(anno, style);
            *below = top;
        }
    }
    Ok(())
}

fn draw_mark<DB, Y>(
    chart: &mut Chart<DB, Y>,
    mark: &Mark,
    (x_lo, x_hi): (f64, f64),
    text: &FontDesc,
) -> Result<()>
where
    DB: DrawingBackend,
    Y: Ranged<ValueType = f64>,
{
    let line = RGBColor(31, 119, 180).mix(0.25).stroke_width(2);
    chart
        .draw_series(LineSeries::new([(x_lo, mark.y), (x_hi, mark.y)], line))
        .map_err(plot_err)?;
    // The text on a white box, centred on its point.
    let area = chart.plotting_area();
    let (px, py) = area.map_coordinate(&(mark.text_x, mark.y));
    let base = area.get_base_pixel();
    let (cx, cy) = (px - base.0, py - base.1);
    let plain = area.strip_coord_spec();
    let style = TextStyle::from(text.clone()).color(&BLACK);
    let (w, h) = plain
        .estimate_text_size(&mark.text, &style)
        .map_err(plot_err)?;
    let (w, h) = (w as i32, h as i32);
    let bg = Rectangle::new(
        [
            (cx - w / 2 - 10, cy - h / 2 - 4),
            (cx + w / 2 + 10, cy + h / 2 + 4),
        ],
        WHITE.filled(),
    );
    plain.draw(&bg).map_err(plot_err)?;
    plain
        .draw(&Text::new(
            mark.text.clone(),
            (cx - w / 2, cy - h / 2),
            style,
        ))
        .map_err(plot_err)?;
    Ok(())
}

fn draw_raster<DB, Y>(
    area: &DrawingArea<DB, Cartesian2d<LogCoord<f64>, Y>>,
    raster: &Raster,
) -> Result<()>
where
    DB: DrawingBackend,
    Y: Ranged<ValueType = f64>,
{
    let (nx, ny) = (
        raster.x_edges.len().saturating_sub(1),
        raster.y_edges.len().saturating_sub(1),
    );
    let (r, g, b) = raster.color;
    let shade = |c: u8, v: f64| (255.0 - (255.0 - c as f64) * (0.15 + 0.85 * v)).round() as u8;
    for i in 0..nx {
        for j in 0..ny {
            let v = raster.values[i * ny + j];
            if v.is_nan() {
                continue;
            }
            let color = RGBColor(shade(r, v), shade(g, v), shade(b, v)).mix(raster.alpha);
            let cell = Rectangle::new(
                [
                    (raster.x_edges[i], raster.y_edges[j]),
                    (raster.x_edges[i + 1], raster.y_edges[j + 1]),
                ],
                color.filled(),
            );
            area.draw(&cell).map_err(plot_err)?;
        }
    }
    Ok(())
}
