//! `flow-models plot` as a user runs it: the plot set as valid PNG/SVG files of the expected
//! size, `--data-out` numbers equal to flow-models 2.2's (fixtures of flow-plot), `--sql`
//! equal to plotting the same histogram from a file, `--also`, and errors.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

mod common;
use common::flow_models as run;
use common::repo;
use common::text;

const REF: &str = "flow-udfs/tests/data/mixture/reference/agh_2015061019_IPv4_anon";
const SET: [&str; 7] = [
    "cdf",
    "pdf-flows",
    "pdf-packets",
    "pdf-octets",
    "avg-packets",
    "avg-octets",
    "avg-packet_size",
];

/// Width and height of a PNG (its IHDR), after checking the signature.
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = fs::read(path).unwrap();
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is not a PNG",
        path.display()
    );
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap());
    // A decodable image: the png crate reads it whole.
    let decoder = png::Decoder::new(std::io::Cursor::new(&bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    reader.next_frame(&mut buf).unwrap();
    (be(16), be(20))
}

/// Rows (series, x) → y of a `--data-out` file or a fixture (`source,series,x,y` or
/// `series,x,y`).
fn series(path: &Path) -> HashMap<(String, String), f64> {
    let body = fs::read_to_string(path).unwrap();
    let mut lines = body.lines();
    let header = lines.next().unwrap();
    let skip = usize::from(header.starts_with("source,"));
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').skip(skip).collect();
            let y = match f[2] {
                "nan" => f64::NAN,
                v => v.parse().unwrap(),
            };
            ((f[0].to_string(), f[1].to_string()), y)
        })
        .collect()
}

#[test]
fn plot_set_and_data_out_as_flow_models() {
    let dir = tempfile::tempdir().unwrap();
    let (out, data) = (dir.path().join("plots"), dir.path().join("data"));
    let o = run(&[
        "plot",
        "-x",
        "length",
        "-P",
        "points",
        "-P",
        "comp",
        "-O",
        out.to_str().unwrap(),
        "--data-out",
        data.to_str().unwrap(),
        &repo(&format!("{REF}/histograms/all/length.csv")),
        &repo(&format!("{REF}/mixtures/all/length")),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    for name in SET {
        assert_eq!(png_size(&out.join(format!("{name}.png"))), (1500, 950));
        // Every number flow-models 2.2 computes for this figure is in ours.
        let ours = series(&data.join(format!("{name}.csv")));
        let theirs = series(
            &Path::new(&repo("flow-udfs/flow-plot/tests/data/length")).join(format!("{name}.csv")),
        );
        let mut checked = 0;
        for (key, y) in theirs.iter().filter(|(k, _)| k.0 != "points log-binned") {
            let got = ours
                .get(key)
                .unwrap_or_else(|| panic!("{name}: no {key:?}"));
            assert!(
                (got - y).abs() <= 1e-9 * y.abs().max(got.abs()),
                "{name} {key:?}: ours {got}, flow-models {y}"
            );
            checked += 1;
        }
        assert!(checked > 100, "{name}: {checked} points");
    }
}

#[test]
fn single_svg_and_several_histograms() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let udp = format!(
        "{}:{}",
        repo(&format!("{REF}/histograms/udp/size.csv")),
        repo(&format!("{REF}/mixtures/udp/size"))
    );
    let o = run(&[
        "plot",
        "-x",
        "size",
        "--single",
        "--format",
        "svg",
        "-O",
        dir.path().to_str().unwrap(),
        "--data-out",
        data.to_str().unwrap(),
        &repo(&format!("{REF}/histograms/tcp/size.csv")),
        &repo(&format!("{REF}/mixtures/tcp/size")),
        "--also",
        &udp,
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let single = fs::read_to_string(dir.path().join("single.svg")).unwrap();
    assert!(single.starts_with("<svg") && single.contains("width=\"3000\""));
    assert!(single.contains("PDF of octets") && single.contains("Flow size [bytes]"));
    for name in ["avg-packets", "avg-octets", "avg-packet_size"] {
        let svg = fs::read_to_string(dir.path().join(format!("{name}.svg"))).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("width=\"1500\""));
    }
    assert!(
        !dir.path().join("cdf.svg").exists(),
        "--single replaces cdf and pdf-*"
    );
    // Both groups are drawn, each legend entry naming its file.
    let cdf = fs::read_to_string(data.join("cdf.csv")).unwrap();
    for group in ["tcp", "udp"] {
        let rows = cdf
            .lines()
            .filter(|l| l.contains(&format!("/{group}/size")))
            .count();
        assert_eq!(rows, 2 * 3 * 128, "{group}: lines and models of 3 columns");
    }
    assert!(
        single.contains("mixtures/udp/size: model"),
        "the model of the second group"
    );
    assert!(single.contains("histograms/udp/size.csv: inferred from data points"));
}

#[test]
fn sql_plots_like_the_same_histogram_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let sample = repo("examples/data/sample");
    let hist = dir.path().join("h.csv");
    let o = run(&[
        "hist",
        "-i",
        "binary",
        "-x",
        "length",
        "-b",
        "6",
        "-O",
        hist.to_str().unwrap(),
        &sample,
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let plot = |args: &[&str], data: &Path| {
        let mut all = vec!["plot", "-P", "points", "--format", "svg", "-O"];
        all.push(dir.path().to_str().unwrap());
        all.extend(["--data-out", data.to_str().unwrap()]);
        all.extend(args);
        let o = run(&all);
        assert!(o.status.success(), "{}", text(&o.stderr));
    };
    let (from_file, from_sql) = (dir.path().join("file"), dir.path().join("sql"));
    plot(&[hist.to_str().unwrap()], &from_file);
    let query = format!("SELECT * FROM flow_hist('{sample}', 'length', 6)");
    plot(&["--sql", &query], &from_sql);
    for name in SET {
        let (a, b) = (
            series(&from_file.join(format!("{name}.csv"))),
            series(&from_sql.join(format!("{name}.csv"))),
        );
        assert!(a.len() > 10, "{name}: {} points", a.len());
        assert_eq!(a.len(), b.len(), "{name}");
        for (k, v) in &a {
            let w = b[k];
            assert!(
                v == &w || (v.is_nan() && w.is_nan()),
                "{name} {k:?}: {v} vs {w}"
            );
        }
    }
}

#[test]
fn errors_name_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["plot", "-O", dir.path().to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(
        text(&o.stderr).contains("give a histogram"),
        "{}",
        text(&o.stderr)
    );

    let bad = dir.path().join("bad.csv");
    fs::write(&bad, "bin_lo,flows_sum\n1,2\n").unwrap();
    let o = run(&[
        "plot",
        "-O",
        dir.path().to_str().unwrap(),
        bad.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(err.contains("bad.csv") && err.contains("bin_hi"), "{err}");

    let empty = dir.path().join("nomix");
    fs::create_dir(&empty).unwrap();
    let hist = repo(&format!("{REF}/histograms/all/length.csv"));
    let o = run(&[
        "plot",
        "-O",
        dir.path().to_str().unwrap(),
        &hist,
        empty.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(err.contains("nomix") && err.contains("no mixture"), "{err}");
    // Nothing was written on failure.
    assert!(!dir.path().join("cdf.png").exists());
}
