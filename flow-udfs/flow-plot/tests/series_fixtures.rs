//! The numbers behind the figures against flow-models 2.2's own functions on the published
//! `agh_2015061019_IPv4_anon` length and size histograms and mixtures (fixtures made by
//! tests/data/make_fixtures.py, which calls `lib/data.py` and `lib/mix.py`): every series to
//! 1e-9 relative.

use flow_plot::{Figure, Group, PdfMode, PlotOptions, Source, figures};
use flow_udfs::hist::XValue;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn reference() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data/mixture/reference/agh_2015061019_IPv4_anon")
}

fn fixture_dir(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(case)
}

fn group(case: &str) -> Group {
    let r = reference();
    let hist = Source::load(r.join(format!("histograms/all/{case}.csv"))).unwrap();
    let mix = Source::load(r.join(format!("mixtures/all/{case}"))).unwrap();
    Group::of(vec![hist, mix]).unwrap()
}

fn parse(v: &str) -> f64 {
    match v {
        "nan" => f64::NAN,
        "inf" => f64::INFINITY,
        "-inf" => f64::NEG_INFINITY,
        _ => v.parse().unwrap(),
    }
}

/// Rows `series,x,y` of a fixture file.
fn fixture(case: &str, figure: &str) -> Vec<(String, f64, f64)> {
    let text = std::fs::read_to_string(fixture_dir(case).join(format!("{figure}.csv"))).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let mut f = l.split(',');
            let (s, x, y) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
            (s.to_string(), parse(x), parse(y))
        })
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

/// Every fixture row of `figure` is a point of our series of the same name, to 1e-9.
fn check(case: &str, figure: &Figure, only: Option<&str>) -> usize {
    let ours: HashMap<(&str, u64), f64> = figure
        .series
        .iter()
        .flat_map(|s| {
            s.x.iter()
                .zip(&s.y)
                .map(move |(x, y)| ((s.name.as_str(), x.to_bits()), *y))
        })
        .collect();
    let mut checked = 0;
    for (series, x, y) in fixture(case, &figure.name) {
        if only.is_some_and(|o| o != series) || (only.is_none() && series == "points log-binned") {
            continue;
        }
        let got = ours
            .get(&(series.as_str(), x.to_bits()))
            .unwrap_or_else(|| panic!("{case}/{}: no point {series} at x = {x}", figure.name));
        assert!(
            close(*got, y),
            "{case}/{}: {series} at x = {x}: ours {got}, flow-models {y}",
            figure.name
        );
        checked += 1;
    }
    checked
}

fn options(x: XValue, normalize: bool) -> PlotOptions {
    PlotOptions {
        x,
        normalize,
        pdf_modes: [PdfMode::Points, PdfMode::Comp].into(),
        ..PlotOptions::default()
    }
}

fn check_case(case: &str, x: XValue) {
    let g = [group(case)];
    let figs = figures(&g, &options(x, true)).unwrap();
    let names: Vec<&str> = figs.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "cdf",
            "pdf-flows",
            "pdf-packets",
            "pdf-octets",
            "avg-packets",
            "avg-octets",
            "avg-packet_size"
        ]
    );
    // The line grid.
    let idx: Vec<f64> = std::fs::read_to_string(fixture_dir(case).join("idx.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(parse)
        .collect();
    assert_eq!(flow_plot::grid(&g).unwrap(), idx);
    let mut total = 0;
    for f in &figs {
        let n = check(case, f, None);
        assert!(n > 100, "{case}/{}: only {n} points checked", f.name);
        total += n;
    }
    // Data points without normalizing (`--no-normalize`).
    let raw = figures(&g, &options(x, false)).unwrap();
    for f in raw.iter().filter(|f| f.name.starts_with("pdf-")) {
        let n = check(case, f, Some("points log-binned"));
        assert!(
            n > 100,
            "{case}/{}: only {n} log-binned points checked",
            f.name
        );
        total += n;
    }
    // The packet-size figure's min, avg and max lines.
    let stats =
        std::fs::read_to_string(fixture_dir(case).join("avg-packet_size-stats.csv")).unwrap();
    let marks = &figs[6].marks;
    for (line, mark) in stats.lines().skip(1).zip(marks) {
        let (name, value) = line.split_once(',').unwrap();
        assert!(mark.text.starts_with(name), "{} vs {name}", mark.text);
        assert!(close(mark.y, parse(value)), "{name}: {} vs {value}", mark.y);
    }
    assert_eq!(marks.len(), 3);
    eprintln!("{case}: {total} points equal to flow-models 2.2's");
}

#[test]
fn length_series_are_flow_models() {
    check_case("length", XValue::Length);
}

#[test]
fn size_series_are_flow_models() {
    check_case("size", XValue::Size);
}
