//! Every row of a result reaches every output, whatever its size: `sql` in each format (over
//! binary traces and nfcapd files), `convert -O -`, `hist -O -` and `sql -f`. Each output's row
//! count and a checksum are compared with the same query's `count(*)` and `sum()`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::{flow_models, repo};

/// Runs flow-models, which must succeed.
fn run(args: &[&str]) -> Output {
    let o = flow_models(args);
    assert!(
        o.status.success(),
        "flow-models {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

/// `SELECT count(*), sum(octets)` of `from`, as the engine computes it.
fn expected(from: &str) -> (u64, u64) {
    let sql = format!("SELECT count(*) AS n, sum(octets) AS s FROM {from}");
    let out = text(&run(&["sql", "-q", "--format", "csv", "-c", &sql]).stdout);
    let line = out.lines().nth(1).expect("a result row");
    let (n, s) = line.split_once(',').expect("two columns");
    (n.parse().unwrap(), s.parse().unwrap())
}

/// Rows and the sum of the `octets` column of a `SELECT sp, octets` result printed in `format`.
fn count_and_sum(format: &str, out: &str) -> (u64, u64) {
    let octets: Vec<u64> = match format {
        "csv" | "tsv" => {
            let sep = if format == "csv" { ',' } else { '\t' };
            let mut lines = out.lines();
            assert_eq!(lines.next(), Some(format!("sp{sep}octets").as_str()));
            lines
                .map(|l| l.split(sep).nth(1).unwrap().parse().unwrap())
                .collect()
        }
        "json" => {
            let rows: Vec<serde_json::Value> = serde_json::from_str(out).expect("one JSON array");
            rows.iter().map(|r| r["octets"].as_u64().unwrap()).collect()
        }
        "nd-json" => out
            .lines()
            .map(|l| {
                let r: serde_json::Value = serde_json::from_str(l).expect("a JSON object a line");
                r["octets"].as_u64().unwrap()
            })
            .collect(),
        "table" => out
            .lines()
            .filter(|l| l.starts_with('|') && !l.contains("octets"))
            .map(|l| l.split('|').nth(2).unwrap().trim().parse().unwrap())
            .collect(),
        _ => unreachable!(),
    };
    (octets.len() as u64, octets.iter().sum())
}

/// Prints `SELECT sp, octets FROM from` in every format and checks each output whole.
fn every_format_prints_every_row(from: &str, at_least: u64) {
    let (n, sum) = expected(from);
    assert!(n >= at_least, "{from}: only {n} rows");
    let sql = format!("SELECT sp, octets FROM {from}");
    for format in ["csv", "tsv", "json", "nd-json"] {
        for maxrows in ["40", "0"] {
            let o = run(&[
                "sql",
                "-q",
                "--format",
                format,
                "--maxrows",
                maxrows,
                "-c",
                &sql,
            ]);
            assert_eq!(
                count_and_sum(format, &text(&o.stdout)),
                (n, sum),
                "--format {format} --maxrows {maxrows}"
            );
            assert_eq!(text(&o.stderr), "", "nothing cut, nothing to say");
        }
    }
    let o = run(&[
        "sql",
        "-q",
        "--format",
        "table",
        "--maxrows",
        "inf",
        "-c",
        &sql,
    ]);
    assert_eq!(count_and_sum("table", &text(&o.stdout)), (n, sum));
}

#[test]
fn sql_prints_every_row_of_a_binary_trace_in_every_format() {
    let sample = repo("examples/data/sample");
    every_format_prints_every_row(
        &format!("flowbin('{sample}', '{sample}', '{sample}')"),
        100_000,
    );
}

/// `copies` copies of an nfcapd fixture in a new directory.
fn nfcapd_copies(dir: &Path, copies: usize) -> PathBuf {
    let source = repo("tests/data/nfcapd/nf171_sfipfix_mixed_lzo.nfcapd");
    let days = dir.join("nfcapd");
    std::fs::create_dir(&days).unwrap();
    for i in 0..copies {
        std::fs::copy(&source, days.join(format!("nfcapd.20240101{i:04}"))).unwrap();
    }
    days
}

#[test]
fn sql_prints_every_row_of_nfcapd_files_in_every_format() {
    let tmp = tempfile::tempdir().unwrap();
    let days = nfcapd_copies(tmp.path(), 250);
    every_format_prints_every_row(&format!("nfcapd('{}')", days.display()), 100_000);
    // One big file, written by nfdump itself, where nfdump is installed.
    let nfdump = Command::new("nfdump").arg("-V").output();
    if !nfdump.is_ok_and(|o| o.status.success()) {
        eprintln!("SKIPPED the single-file part: nfdump is not installed (.ci/setup installs it)");
        return;
    }
    let big = tmp.path().join("big.nfcapd");
    let o = Command::new("nfdump")
        .args(["-R", days.to_str().unwrap(), "-w", big.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    every_format_prints_every_row(&format!("nfcapd('{}')", big.display()), 100_000);
}

/// The table display shows --maxrows rows and says on stderr, even with -q, what it left out.
#[test]
fn a_cut_table_says_so() {
    let sample = repo("examples/data/sample");
    let sql = format!("SELECT sp, octets FROM flowbin('{sample}', '{sample}', '{sample}')");
    for quiet in [true, false] {
        let mut args = vec!["sql", "--maxrows", "40", "-c", &sql];
        if quiet {
            args.insert(1, "-q");
        }
        let o = run(&args);
        let (shown, _) = count_and_sum("table", &text(&o.stdout));
        assert_eq!(shown, 40);
        let err = text(&o.stderr);
        assert!(err.contains("showing 40 of 150000 rows"), "{err}");
        assert_eq!(err.contains("row(s) fetched"), !quiet, "{err}");
    }
    // Nothing is said when nothing was cut.
    let o = run(&[
        "sql",
        "-q",
        "-c",
        &format!("SELECT count(*) FROM flowbin('{sample}')"),
    ]);
    assert_eq!(text(&o.stderr), "");
}

#[test]
fn an_empty_result_still_has_its_header() {
    let sql = format!(
        "SELECT sp, octets FROM flowbin('{}') WHERE octets = 0",
        repo("examples/data/sample")
    );
    let o = run(&["sql", "-q", "--format", "csv", "-c", &sql]);
    assert_eq!(text(&o.stdout), "sp,octets\n");
    let o = run(&["sql", "-q", "--format", "json", "-c", &sql]);
    assert_eq!(text(&o.stdout), "[]\n");
}

#[test]
fn sql_file_prints_every_row() {
    let sample = repo("examples/data/sample");
    let from = format!("flowbin('{sample}', '{sample}', '{sample}')");
    let (n, sum) = expected(&from);
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("export.sql");
    std::fs::write(
        &file,
        format!("-- an export\nSET datafusion.execution.batch_size = 1000;\nSELECT sp, octets FROM {from};\n"),
    )
    .unwrap();
    let o = run(&["sql", "-q", "--format", "csv", "-f", file.to_str().unwrap()]);
    assert_eq!(count_and_sum("csv", &text(&o.stdout)), (n, sum));
}

#[test]
fn convert_to_standard_output_writes_every_flow() {
    let tmp = tempfile::tempdir().unwrap();
    let days = nfcapd_copies(tmp.path(), 250);
    let (n, sum) = expected(&format!("nfcapd('{}')", days.display()));
    let o = run(&[
        "convert",
        "-i",
        "nfcapd",
        "-o",
        "csv_flow",
        "-O",
        "-",
        days.to_str().unwrap(),
    ]);
    let out = text(&o.stdout);
    let octets: Vec<u64> = out
        .lines()
        .map(|l| l.split(", ").nth(19).unwrap().parse().unwrap())
        .collect();
    assert_eq!((octets.len() as u64, octets.iter().sum::<u64>()), (n, sum));
}

#[test]
fn hist_to_standard_output_has_every_bin() {
    let sample = repo("examples/data/sample");
    // One bin per distinct size: thousands of rows.
    let o = run(&["hist", "-x", "size", "-b", "0", "-O", "-", &sample]);
    let out = text(&o.stdout);
    let mut lines = out.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("bin_lo,bin_hi,flows_sum,packets_sum,octets_sum")
    );
    let rows: Vec<Vec<u64>> = lines
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    let sql = format!(
        "SELECT count(DISTINCT octets) AS d, count(*) AS n, sum(octets) AS s FROM flowbin('{sample}')"
    );
    let totals = text(&run(&["sql", "-q", "--format", "csv", "-c", &sql]).stdout);
    let totals: Vec<u64> = totals
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .map(|v| v.parse().unwrap())
        .collect();
    assert!(totals[0] > 9_000, "a histogram of many rows");
    assert_eq!(rows.len() as u64, totals[0]);
    assert_eq!(rows.iter().map(|r| r[2]).sum::<u64>(), totals[1]);
    assert_eq!(rows.iter().map(|r| r[4]).sum::<u64>(), totals[2]);
}

/// A reader that goes away early (`| head`) ends the command quietly.
#[test]
fn a_closed_standard_output_is_not_an_error() {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_flow-models"))
        .args(["convert", "-i", "binary", "-o", "csv_flow", "-O", "-"])
        .arg(repo("examples/data/sample"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    // The pipe's reader is dropped here.
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
}
