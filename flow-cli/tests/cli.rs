//! The `flow-models` binary as a user runs it: outputs, exit codes and error messages.

use std::fs;
use std::path::PathBuf;
use std::process::Output;

mod common;
use common::repo;

use common::flow_models as run;

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn sql_prints_only_the_result_when_quiet() {
    let sql = format!(
        "SELECT count(*) AS flows, sum(packets) AS packets, sum(octets) AS octets FROM flowbin('{}')",
        repo("examples/data/sample")
    );
    let o = run(&["sql", "-q", "--format", "csv", "-c", &sql]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "flows,packets,octets\n50000,7208670,6850552003\n"
    );
}

#[test]
fn sql_errors_exit_non_zero_with_the_reason() {
    let o = run(&[
        "sql",
        "-q",
        "-c",
        "SELECT * FROM flowbin('/nonexistent/trace')",
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("/nonexistent/trace: No such file or directory"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn sql_file_runs_every_statement_and_stops_at_the_first_error() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.sql");
    fs::write(
        &good,
        format!(
            "-- a comment\nCREATE EXTERNAL TABLE t STORED AS FLOWBIN LOCATION '{}';\nSELECT count(*) AS n\n  FROM t WHERE prot = 1;\n",
            repo("examples/data/sample")
        ),
    )
    .unwrap();
    let o = run(&["sql", "-q", "--format", "csv", "-f", good.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "n\n760\n");

    let bad = dir.path().join("bad.sql");
    fs::write(
        &bad,
        "SELECT nope FROM unknown_table;\nSELECT 1 AS reached;\n",
    )
    .unwrap();
    let o = run(&["sql", "-q", "--format", "csv", "-f", bad.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("unknown_table"), "{}", stderr(&o));
    assert!(!stdout(&o).contains("reached"));
}

#[test]
fn sql_reads_parquet_files_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let parquet = dir.path().join("flows.parquet");
    let o = run(&[
        "convert",
        "-i",
        "binary",
        "-o",
        "parquet",
        "-O",
        parquet.to_str().unwrap(),
        &repo("examples/data/sample"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let sql = format!(
        "SELECT count(*) AS n, max(octets) AS m FROM '{}'",
        parquet.display()
    );
    let o = run(&["sql", "-q", "--format", "csv", "-c", &sql]);
    assert!(o.status.success(), "{}", stderr(&o));
    let max = stdout(&run(&[
        "sql",
        "-q",
        "--format",
        "csv",
        "-c",
        &format!(
            "SELECT max(octets) AS m FROM flowbin('{}')",
            repo("examples/data/sample")
        ),
    ]));
    assert_eq!(
        stdout(&o),
        format!("n,m\n50000,{}\n", max.lines().nth(1).unwrap())
    );
}

#[test]
fn convert_to_stdout_matches_the_original_tool() {
    let o = run(&[
        "convert",
        "-i",
        "binary",
        "-o",
        "csv_flow",
        "-O",
        "-",
        "--count-in",
        "2000",
        &repo("examples/data/sample"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let expected = fs::read_to_string(repo("tests/data/original/head2000.csv_flow")).unwrap();
    assert!(
        stdout(&o) == expected,
        "csv_flow output differs from flow-models 2.2's"
    );
}

#[test]
fn a_bad_input_line_fails_the_whole_conversion_and_leaves_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("flows.csv");
    let mut text = fs::read_to_string(repo("tests/data/original/head2000.csv_flow")).unwrap();
    text.push_str("2, 6, 1\n");
    fs::write(&input, text).unwrap();
    let out: PathBuf = dir.path().join("out");
    let o = run(&[
        "convert",
        "-i",
        "csv_flow",
        "-o",
        "binary",
        "-O",
        out.to_str().unwrap(),
        input.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("flows.csv: line 2001: expected 21 comma-separated fields, found 3"),
        "{err}"
    );
    let left: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        left,
        ["flows.csv"],
        "no output and no temporary left behind"
    );
}

#[test]
fn binary_output_needs_a_path() {
    let o = run(&[
        "convert",
        "-i",
        "binary",
        "-o",
        "binary",
        "-O",
        "-",
        &repo("examples/data/sample"),
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("cannot go to standard output"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn convert_refuses_to_replace_a_directory_that_is_not_a_trace() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("notes.txt"), "keep me").unwrap();
    let o = run(&[
        "convert",
        "-i",
        "binary",
        "-o",
        "binary",
        "-O",
        dir.path().to_str().unwrap(),
        &repo("examples/data/sample"),
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("refusing to replace"), "{}", stderr(&o));
    assert_eq!(
        fs::read_to_string(dir.path().join("notes.txt")).unwrap(),
        "keep me"
    );
}

#[test]
fn help_shows_examples() {
    for cmd in [&["--help"][..], &["convert", "--help"], &["sql", "--help"]] {
        let o = run(cmd);
        assert!(o.status.success());
        assert!(stdout(&o).contains("Examples:"), "{cmd:?}");
    }
}
