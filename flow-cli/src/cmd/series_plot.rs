//! `flow-models series-plot` (or `series_plot`): flow-models' `series_plot`, the figures of
//! `series` files: a 30-second moving average of flows, packets or bits per second over a day.

use crate::cmd::plot::Format;
use datafusion::common::{DataFusionError, Result};
use flow_plot::{ImageFormat, render_time_series};
use std::path::{Path, PathBuf};

/// Plots of time series files (like flow_models.series_plot).
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  \
    # every series file `flow-models series` wrote into series/\n  \
    flow-models series-plot -O plots series/*.flows series/*.packets series/*.octets\n\n  \
    # one day's bit rate, as SVG\n  \
    flow-models series_plot --format svg 18088.octets\n\n\
    For each file (.flows, .packets or .octets, one count per second) prints the day, what and\n\
    the total, e.g. `2019-07-11-Thu (Day 18088) packets 1234567` (octets as bits: x8), and writes\n\
    {day}.{flows|packets|bits}.png: the 30-second moving average (pandas' rolling(30,\n\
    min_periods=1).mean()), x 0..86400 s, y from 0. The original takes no arguments and globs\n\
    *.flows, *.packets, *.octets in the working directory, writing PDF; flows files come first,\n\
    then packets, then octets, each sorted by name, as there. Unlike the original, every octets\n\
    file is converted to bits (the original converts only the first). Files are replaced\n\
    atomically.")]
pub struct Args {
    /// Series files (`{day}.flows`, `{day}.packets`, `{day}.octets`)
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Image format
    #[arg(long, value_enum, default_value = "png")]
    pub format: Format,
    /// Output directory
    #[arg(short = 'O', long = "output", default_value = ".")]
    pub output: PathBuf,
}

/// What a series file counts, by its extension: the plotted name and its multiplier.
fn what(file: &Path) -> Option<(&'static str, i64)> {
    match file.extension()?.to_str()? {
        "flows" => Some(("flows", 1)),
        "packets" => Some(("packets", 1)),
        "octets" => Some(("bits", 8)),
        _ => None,
    }
}

/// `Day N`, with the date first when the stem is a day number (as the original titles).
fn title(stem: &str) -> String {
    let date = stem.parse::<i64>().ok().and_then(|day| {
        let day = i32::try_from(day).ok()?;
        arrow::temporal_conversions::date32_to_datetime(day)
    });
    match date {
        Some(d) => format!("{} (Day {stem})", d.format("%Y-%m-%d-%a")),
        None => format!("Day {stem}"),
    }
}

/// The counts of a series file, one integer per line.
fn read_counts(file: &Path) -> Result<Vec<i64>> {
    let bad = |what: String| DataFusionError::Execution(format!("{}: {what}", file.display()));
    let text = std::fs::read_to_string(file).map_err(|e| bad(e.to_string()))?;
    (text.lines().enumerate())
        .map(|(i, l)| {
            let l = l.trim();
            l.parse::<i64>()
                .map_err(|_| bad(format!("line {}: '{l}' is not a count", i + 1)))
        })
        .collect()
}

/// pandas' `rolling(window, min_periods=1).mean()`: the mean of each value and the ones
/// before it, up to `window` of them.
fn rolling_mean(values: &[i64], window: usize) -> Vec<f64> {
    let mut sum = 0i128;
    (0..values.len())
        .map(|i| {
            sum += i128::from(values[i]);
            if i >= window {
                sum -= i128::from(values[i - window]);
            }
            sum as f64 / (i + 1).min(window) as f64
        })
        .collect()
}

pub async fn run(args: Args) -> Result<()> {
    let mut files = Vec::new();
    for file in &args.files {
        match what(file) {
            Some(w) => files.push((file, w)),
            None => {
                return Err(DataFusionError::Plan(format!(
                    "series-plot: {}: not a series file (.flows, .packets or .octets)",
                    file.display()
                )));
            }
        }
    }
    // As the original: flows, then packets, then octets, each by name.
    let rank = |w: &str| ["flows", "packets", "bits"].iter().position(|&x| x == w);
    files.sort_by(|a, b| (rank(a.1.0), a.0).cmp(&(rank(b.1.0), b.0)));
    flow_provider::atomic::ensure_dir(&args.output)?;
    let format = ImageFormat::from(args.format);
    for (file, (what, times)) in files {
        let counts: Vec<i64> = (read_counts(file)?.into_iter())
            .map(|c| c.saturating_mul(times))
            .collect();
        let stem = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("series");
        let total: i128 = counts.iter().map(|&c| i128::from(c)).sum();
        println!("{} {what} {total}", title(stem));
        let mut unit = what[..what.len() - 1].to_string();
        unit[..1].make_ascii_uppercase();
        let y_label = format!("{unit} rate [{what}/s]");
        let image = render_time_series(
            &rolling_mean(&counts, 30),
            (0.0, 86400.0),
            ("Time [s]", &y_label),
            format,
        )?;
        let out = args
            .output
            .join(format!("{stem}.{what}.{}", format.extension()));
        flow_provider::atomic::write(&out, &image)?;
        eprintln!("flow-models series-plot: wrote {}", out.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moving_average_as_pandas() {
        let got = rolling_mean(&[2, 4, 6, 8], 3);
        assert_eq!(got, vec![2.0, 3.0, 4.0, 6.0]);
    }

    #[test]
    fn titles_as_the_original() {
        assert_eq!(title("18088"), "2019-07-11-Thu (Day 18088)");
        assert_eq!(title("x"), "Day x");
    }
}
