//! `flow-models summary` as a user runs it: the original's TeX on stdout, `-O` files, formats,
//! `-x`, and errors (missing file, missing columns, undetectable or unknown x).

use std::fs;

mod common;
use common::flow_models as run;
use common::repo;
use common::text;

const FIXTURE: &str = "flow-udfs/tests/data/summary/agh_2015-udp-length.tex";
const HIST: &str = "flow-udfs/tests/data/mixture/reference/agh_2015/histograms/udp/length.csv";

#[test]
fn tex_on_stdout_equals_the_original() {
    let o = run(&["summary", &repo(HIST)]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), fs::read_to_string(repo(FIXTURE)).unwrap());
}

#[test]
fn output_file_and_formats() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.md");
    let o = run(&[
        "summary",
        "-x",
        "length",
        "--format",
        "markdown",
        "-O",
        out.to_str().unwrap(),
        &repo(HIST),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(o.stdout.is_empty());
    let md = fs::read_to_string(&out).unwrap();
    assert!(md.starts_with("| statistic | value | unit |\n"), "{md}");
    // no temporary left beside the output
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    let o = run(&["summary", "--format", "csv", &repo(HIST)]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).starts_with("statistic,value,unit\nNumber of flows,"));
}

#[test]
fn errors_name_the_problem() {
    let o = run(&["summary", "/nonexistent/h.csv"]);
    assert!(!o.status.success());
    assert!(
        text(&o.stderr).contains("/nonexistent/h.csv"),
        "{}",
        text(&o.stderr)
    );

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    fs::write(&bad, "bin_lo,bin_hi,flows_sum\n1,2,3\n").unwrap();
    let o = run(&["summary", bad.to_str().unwrap()]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(
        err.contains("packets_sum, octets_sum") && err.contains("bad.csv"),
        "{err}"
    );

    let o = run(&["summary", &repo("tests/data/hist/duration_b8_rate.csv")]);
    assert!(!o.status.success());
    assert!(
        text(&o.stderr).contains("-x length|size|duration|rate"),
        "{}",
        text(&o.stderr)
    );

    let o = run(&["summary", "-x", "speed", &repo(HIST)]);
    assert!(!o.status.success());
    assert!(
        text(&o.stderr).contains("invalid value 'speed'"),
        "{}",
        text(&o.stderr)
    );
}
