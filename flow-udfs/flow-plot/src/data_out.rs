//! `--data-out`: the plotted series as CSV, one file per figure (`cdf.csv`, `pdf-flows.csv`,
//! ...), columns `source,series,x,y`, numbers in their shortest round-trip form (`nan`, `inf`
//! as Python writes them), so the numbers behind every figure can be checked.

use crate::figures::Figure;
use datafusion::common::Result;
use std::fmt::Write as _;
use std::path::Path;

/// A number in its shortest round-trip form (`1.0`, `1e-5`; `nan`, `inf`, `-inf` as Python
/// writes them): what a CSV reader parses back to the same float.
pub fn number(v: f64) -> String {
    if v.is_nan() {
        "nan".into()
    } else if v.is_infinite() {
        if v > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        format!("{v:?}")
    }
}

/// The series of `figure` as CSV text.
pub fn figure_csv(figure: &Figure) -> String {
    let mut out = String::from("source,series,x,y\n");
    for s in &figure.series {
        for (x, y) in s.x.iter().zip(&s.y) {
            let _ = writeln!(
                out,
                "{},{},{},{}",
                csv_field(&s.source),
                csv_field(&s.name),
                number(*x),
                number(*y)
            );
        }
    }
    out
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Writes `<dir>/<figure>.csv` for every figure (each file replaced atomically).
pub fn write_data(figures: &[Figure], dir: &Path) -> Result<()> {
    flow_provider::atomic::ensure_dir(dir)?;
    for f in figures {
        flow_provider::atomic::write(
            &dir.join(format!("{}.csv", f.name)),
            figure_csv(f).as_bytes(),
        )?;
    }
    Ok(())
}
