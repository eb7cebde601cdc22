//! Flows in an object store, against a real S3 API server started on 127.0.0.1 (`s3s-fs`, or
//! `moto_server` from moto[server]; `.ci/setup` installs it, the tests skip with a message when
//! neither is there). The store is configured as datafusion-cli users configure it: the
//! `AWS_*` environment variables. Every query over s3:// gives exactly the local result; the
//! sources not yet able to read a store, and every writer, refuse a URL with an error naming it
//! (never a local directory `s3:`).

use std::path::Path;
use std::process::Command;

mod common;
use common::repo;
#[path = "common/s3.rs"]
mod s3;
use s3::{start, text};

fn local(args: &[&str]) -> String {
    let o = common::flow_models(args);
    assert!(o.status.success(), "{args:?}: {}", text(&o.stderr));
    text(&o.stdout)
}

#[test]
fn text_nfcapd_and_parquet_read_from_s3_as_from_disk() {
    let Some(s3) = start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let sample = repo("examples/data/sample");
    let csv = dir.path().join("sample.csv");
    let parquet = dir.path().join("sample.parquet");
    for (fmt, out) in [("csv_flow", &csv), ("parquet", &parquet)] {
        local(&[
            "convert",
            "-i",
            "binary",
            "-o",
            fmt,
            "-O",
            out.to_str().unwrap(),
            &sample,
        ]);
    }
    let nfcapd = repo("tests/data/nfcapd/nf1622_sfv5_mixed_lzo.nfcapd");
    let pipe = repo("tests/data/pipe/nf171_sfipfix.pipe");
    s3.upload(&csv, "text/sample.csv");
    s3.upload(&parquet, "pq/sample.parquet");
    s3.upload(Path::new(&nfcapd), "nfcapd/2024/01/nfcapd.202401010000");
    s3.upload(Path::new(&pipe), "pipe/flows.pipe");

    let cases = [
        (
            "csv_flow",
            csv.to_str().unwrap().to_string(),
            "s3://flows/text/sample.csv",
        ),
        (
            "parquet",
            parquet.to_str().unwrap().to_string(),
            "s3://flows/pq/sample.parquet",
        ),
        ("nfcapd", nfcapd.clone(), "s3://flows/nfcapd/"),
        ("pipe", pipe.clone(), "s3://flows/pipe/flows.pipe"),
    ];
    for (fmt, path, url) in &cases {
        // hist output byte-identical.
        let want = local(&["hist", "-i", fmt, "-x", "size", "-b", "6", path]);
        let got = s3.ok(&["hist", "-i", fmt, "-x", "size", "-b", "6", url]);
        assert!(want.lines().count() > 3, "{fmt}: {want}");
        assert_eq!(got, want, "{fmt}: hist over {url}");
    }
    // The table functions, by SQL.
    for (func, path, url) in [
        (
            "csv_flow",
            csv.to_str().unwrap(),
            "s3://flows/text/sample.csv",
        ),
        ("nfcapd", nfcapd.as_str(), "s3://flows/nfcapd/"),
        ("pipe", pipe.as_str(), "s3://flows/pipe/flows.pipe"),
    ] {
        let q = |p: &str| {
            format!("SELECT count(*), sum(packets), sum(octets), min(first) FROM {func}('{p}')")
        };
        let want = local(&["sql", "-q", "--format", "csv", "-c", &q(path)]);
        assert_eq!(
            s3.ok(&["sql", "-q", "--format", "csv", "-c", &q(url)]),
            want,
            "{func}"
        );
    }
}

/// Uploads every file of the local trace `dir` under `prefix` (as `aws s3 cp --recursive`
/// would: no marker, nothing but the column files).
fn upload_trace(s3: &s3::S3Server, dir: &str, prefix: &str) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        s3.upload(&path, &format!("{prefix}/{name}"));
    }
}

/// The value of metric `name` summed over the lines of an `EXPLAIN ANALYZE` that show it
/// (DataFusion prints counts of thousands and more rounded, as `400.0 K`).
fn metric(explain: &str, name: &str) -> f64 {
    let words: Vec<&str> = explain.split([' ', ',', '[', ']']).collect();
    let mut sum = 0.0;
    for (i, w) in words.iter().enumerate() {
        if let Some(v) = w.strip_prefix(&format!("{name}=")) {
            let scale = match words.get(i + 1) {
                Some(&"K") => 1e3,
                Some(&"M") => 1e6,
                Some(&"B") => 1e9,
                _ => 1.0,
            };
            sum += v.parse::<f64>().unwrap() * scale;
        }
    }
    sum
}

/// Binary traces in a bucket, uploaded as plain objects: a trace, a parent of traces, the
/// external table; every answer is the local one. Only the projected columns and only the
/// rows asked for are fetched (the scan's `bytes_scanned` metric).
#[test]
fn binary_traces_read_from_s3_as_from_disk() {
    let Some(s3) = start() else { return };
    let sample = repo("examples/data/sample");
    upload_trace(&s3, &sample, "traces/a");
    upload_trace(&s3, &sample, "traces/b");
    // A trace being written by another writer (hidden prefix) is no trace.
    s3.upload(
        Path::new(&format!("{sample}/packets.Q")),
        "traces/.c.tmp-1-x/packets.Q",
    );
    let sums = "count(*) AS n, sum(packets) AS p, sum(octets) AS o, min(first) AS f, \
                max(last) AS l, sum(sa3) AS a";
    let q = |from: &str| format!("SELECT {sums} FROM {from}");
    let want = local(&[
        "sql",
        "-q",
        "--format",
        "csv",
        "-c",
        &q(&format!("flowbin('{sample}')")),
    ]);
    let got = s3.ok(&[
        "sql",
        "-q",
        "--format",
        "csv",
        "-c",
        &q("flowbin('s3://flows/traces/a')"),
    ]);
    assert_eq!(got, want);
    let want2 = local(&[
        "sql",
        "-q",
        "--format",
        "csv",
        "-c",
        &q(&format!("flowbin('{sample}', '{sample}')")),
    ]);
    let got2 = s3.ok(&[
        "sql",
        "-q",
        "--format",
        "csv",
        "-c",
        &q("flowbin('s3://flows/traces/')"),
    ]);
    assert_eq!(got2, want2, "a parent of two traces");
    let external = format!(
        "CREATE EXTERNAL TABLE t STORED AS FLOWBIN LOCATION 's3://flows/traces/a'; {}",
        q("t")
    );
    assert_eq!(
        s3.ok(&["sql", "-q", "--format", "csv", "-c", &external]),
        want
    );
    for x in ["length", "size", "duration"] {
        let want = local(&["hist", "-i", "binary", "-x", x, "-b", "6", &sample]);
        let got = s3.ok(&[
            "hist",
            "-i",
            "binary",
            "-x",
            x,
            "-b",
            "6",
            "s3://flows/traces/a",
        ]);
        assert_eq!(got, want, "hist -x {x}");
    }

    let rows: f64 = want
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let explain = |sql: &str| s3.ok(&["sql", "-q", "-c", &format!("EXPLAIN ANALYZE {sql}")]);
    let one_column = explain("SELECT sum(packets) FROM flowbin('s3://flows/traces/a')");
    // One column of 8-byte values, not the trace's 21 (rounded to 4 digits when printed).
    let scanned = metric(&one_column, "bytes_scanned");
    assert!((scanned - rows * 8.0).abs() < rows * 0.008, "{one_column}");
    let limited = explain("SELECT packets FROM flowbin('s3://flows/traces/a') LIMIT 10");
    assert_eq!(metric(&limited, "bytes_scanned"), 80.0, "{limited}");
    assert_eq!(metric(&limited, "get_requests"), 1.0, "{limited}");
}

/// `CREATE EXTERNAL TABLE … LOCATION 's3://…'` and `COPY … TO 's3://…'` in `sql -c`: the
/// store comes from the environment; what COPY wrote reads back with the same sums.
#[test]
fn external_tables_and_copy_to_s3() {
    let Some(s3) = start() else { return };
    let sample = repo("examples/data/sample");
    let sums = "SELECT count(*) AS n, sum(packets) AS p, sum(octets) AS o, sum(first) AS f FROM";
    let want = local(&[
        "sql",
        "-q",
        "--format",
        "csv",
        "-c",
        &format!("{sums} flowbin('{sample}')"),
    ]);
    let copy = format!(
        "COPY (SELECT * FROM flowbin('{sample}')) TO 's3://flows/copy/sample.parquet' STORED AS PARQUET"
    );
    s3.ok(&["sql", "-q", "-c", &copy]);
    let read = format!(
        "CREATE EXTERNAL TABLE t STORED AS PARQUET LOCATION 's3://flows/copy/sample.parquet'; {sums} t"
    );
    assert_eq!(s3.ok(&["sql", "-q", "--format", "csv", "-c", &read]), want);
    // csv_flow through DataFusion's object-store writer, read back by the table function.
    let copy = format!(
        "COPY (SELECT * FROM flowbin('{sample}')) TO 's3://flows/copy/sample.csv' STORED AS CSV_FLOW"
    );
    s3.ok(&["sql", "-q", "-c", &copy]);
    let read = format!("{sums} csv_flow('s3://flows/copy/sample.csv')");
    assert_eq!(s3.ok(&["sql", "-q", "--format", "csv", "-c", &read]), want);
}

#[test]
fn urls_never_become_local_paths() {
    let Some(s3) = start() else { return };
    let cwd = tempfile::tempdir().unwrap();
    let sample = repo("examples/data/sample");
    let run_in = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_flow-models"))
            .args(args)
            .current_dir(cwd.path())
            .env("AWS_ENDPOINT_URL", &s3.endpoint)
            .env("AWS_ALLOW_HTTP", "true")
            .output()
            .unwrap()
    };
    for args in [
        vec![
            "convert",
            "-i",
            "binary",
            "-o",
            "binary",
            "-O",
            "s3://flows/out",
            &sample,
        ],
        vec!["hist", "-i", "binary", "-O", "s3://flows/h.csv", &sample],
    ] {
        let o = run_in(&args);
        assert!(!o.status.success(), "{args:?} succeeded");
        let err = text(&o.stderr);
        assert!(err.contains("s3://flows/"), "{args:?}: {err}");
        assert!(
            err.contains("object stores are not supported here yet"),
            "{args:?}: {err}"
        );
    }
    let made: Vec<_> = std::fs::read_dir(cwd.path()).unwrap().collect();
    assert!(made.is_empty(), "local files made for URLs: {made:?}");
}

#[test]
fn missing_objects_and_bad_keys_are_errors_naming_the_url() {
    let Some(s3) = start() else { return };
    let o = s3.run(
        &[
            "sql",
            "-c",
            "SELECT count(*) FROM csv_flow('s3://flows/nope.csv')",
        ],
        "testsecret",
    );
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(err.contains("nope.csv"), "{err}");
    let o = s3.run(
        &[
            "sql",
            "-c",
            "SELECT count(*) FROM pipe('s3://no-such-bucket/x.pipe')",
        ],
        "testsecret",
    );
    assert!(!o.status.success());
    assert!(
        text(&o.stderr).contains("no-such-bucket"),
        "{}",
        text(&o.stderr)
    );
    if s3.checks_keys {
        s3.upload(
            Path::new(&repo("tests/data/pipe/nf171_sfipfix.pipe")),
            "k/flows.pipe",
        );
        let o = s3.run(
            &[
                "sql",
                "-c",
                "SELECT count(*) FROM pipe('s3://flows/k/flows.pipe')",
            ],
            "wrong",
        );
        assert!(!o.status.success());
        let err = text(&o.stderr);
        assert!(
            err.contains("s3://flows/k") || err.contains("flows.pipe"),
            "{err}"
        );
    }
}
