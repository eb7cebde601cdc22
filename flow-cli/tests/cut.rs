//! `flow-models cut`: the column files of a range of records, byte for byte what
//! `python -m flow_models.cut` writes (when flow-models 2.2 is present), the same records as
//! `convert` with the same range, and `convert` itself for filters and other formats.

use std::fs;
use std::path::Path;

mod common;
use common::flow_models as run;
use common::repo;
use common::{files, ok, text};

#[test]
fn a_range_equals_the_originals_cut_and_converts_records() {
    let tmp = tempfile::tempdir().unwrap();
    let sample = repo("examples/data/sample");
    let ours = tmp.path().join("ours");
    let range = ["--skip-in", "100", "--count-in", "1000"];
    // `tool` copying the range of the sample into the binary trace `out`.
    let range_to = |tool: &str, out: &Path| {
        let out = out.to_str().unwrap();
        ok(&[
            &[tool, "-i", "binary", "-o", "binary", "-O", out][..],
            &range,
            &[&sample],
        ]
        .concat());
    };
    range_to("cut", &ours);
    let cut = files(&ours);
    assert_eq!(
        cut.len(),
        files(Path::new(&sample)).len(),
        "every column file"
    );
    for (name, bytes) in &cut {
        let width = bytes.len() / 1000;
        assert_eq!(bytes.len(), 1000 * width, "{name}");
        let whole = fs::read(Path::new(&sample).join(name)).unwrap();
        assert_eq!(bytes[..], whole[100 * width..1100 * width], "{name}");
    }
    // The same records as convert's cut.
    let csv = |dir: &str| ok(&["convert", "-i", "binary", "-o", "csv_flow", "-O", "-", dir]);
    let conv = tmp.path().join("conv");
    range_to("convert", &conv);
    assert_eq!(csv(ours.to_str().unwrap()), csv(conv.to_str().unwrap()));

    let Some(python) = common::original_python() else {
        return;
    };
    let orig = tmp.path().join("orig");
    let o = std::process::Command::new(&python)
        .args([
            "-m",
            "flow_models.cut",
            "-i",
            "binary",
            "-o",
            "binary",
            "-O",
        ])
        .arg(&orig)
        .args(range)
        .arg(&sample)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(cut, files(&orig), "byte for byte the original's cut");
}

#[test]
fn filters_and_other_formats_are_convert() {
    let sample = repo("examples/data/sample");
    let args = [
        "-i",
        "binary",
        "-o",
        "csv_flow",
        "-O",
        "-",
        "--count-in",
        "5000",
    ];
    let filter = ["--filter", "prot = 17"];
    let cut: Vec<&str> = ["cut"]
        .iter()
        .chain(&args)
        .chain(&filter)
        .copied()
        .collect();
    let conv: Vec<&str> = ["convert"]
        .iter()
        .chain(&args)
        .chain(&filter)
        .copied()
        .collect();
    let (a, b) = (
        ok(&[&cut[..], &[&sample[..]]].concat()),
        ok(&[&conv[..], &[&sample[..]]].concat()),
    );
    assert!(a.lines().count() > 100);
    assert_eq!(a, b);
}

#[test]
fn one_trace_at_a_time() {
    let tmp = tempfile::tempdir().unwrap();
    let parent = tmp.path().join("traces");
    for t in ["a", "b"] {
        let out = parent.join(t);
        ok(&[
            "convert",
            "-i",
            "binary",
            "-o",
            "binary",
            "--count-in",
            "10",
            "-O",
            out.to_str().unwrap(),
            &repo("examples/data/sample"),
        ]);
    }
    let out = tmp.path().join("out");
    let o = run(&[
        "cut",
        "-i",
        "binary",
        "-o",
        "binary",
        "-O",
        out.to_str().unwrap(),
        parent.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(
        text(&o.stderr).contains("holds 2 traces"),
        "{}",
        text(&o.stderr)
    );
    assert!(!out.exists());
}
