//! Flows in an object store, against a real S3 API server started on 127.0.0.1 (`s3s-fs`, or
//! `moto_server` from moto[server]; `.ci/setup` installs it, the tests skip with a message when
//! neither is there). The store is configured as datafusion-cli users configure it: the
//! `AWS_*` environment variables. Every query over s3:// gives exactly the local result; the
//! sources not yet able to read a store, and every writer, refuse a URL with an error naming it
//! (never a local directory `s3:`).

use std::path::Path;

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
    s3.upload_trace(&sample, "traces/a");
    s3.upload_trace(&sample, "traces/b");
    // A trace being written by another writer (hidden prefix) is no trace.
    s3.upload(
        Path::new(&format!("{sample}/packets.Q")),
        "traces/.c.tmp-1-x/packets.Q",
    );
    let sums = "count(*) AS n, sum(packets) AS p, sum(octets) AS o, min(first) AS f, \
                max(last) AS l, sum(sa3) AS a";
    let q = |from: &str| format!("SELECT {sums} FROM {from}");
    let csv = |sql: &str| ["sql", "-q", "--format", "csv", "-c", sql].map(String::from);
    let on_disk = |sql: &str| local(&csv(sql).each_ref().map(String::as_str));
    let in_s3 = |sql: &str| s3.ok(&csv(sql).each_ref().map(String::as_str));
    let want = on_disk(&q(&format!("flowbin('{sample}')")));
    assert_eq!(in_s3(&q("flowbin('s3://flows/traces/a')")), want);
    assert_eq!(
        in_s3(&q("flowbin('s3://flows/traces/')")),
        on_disk(&q(&format!("flowbin('{sample}', '{sample}')"))),
        "a parent of two traces"
    );
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

    // A truncated column, a prefix with no trace, a missing bucket: errors naming the URL.
    let packets = std::fs::read(format!("{sample}/packets.Q")).unwrap();
    let cut = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(cut.path(), &packets[..1001]).unwrap();
    s3.upload(cut.path(), "bad/packets.Q");
    for (url, reason) in [
        ("s3://flows/bad", "not a multiple of 8"),
        ("s3://flows/nothing-here", "no flow-models column files"),
        ("s3://no-such-bucket/t", "no-such-bucket"),
    ] {
        let o = s3.run(
            &[
                "sql",
                "-c",
                &format!("SELECT count(*) FROM flowbin('{url}')"),
            ],
            "testsecret",
        );
        let err = text(&o.stderr);
        assert!(!o.status.success(), "{url}");
        assert!(err.contains(url) && err.contains(reason), "{url}: {err}");
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
    // The store configured by the statement's options alone, as datafusion-cli reads them
    // (no AWS_* variables in this process's environment).
    let options = format!(
        "OPTIONS ('aws.endpoint' '{}', 'aws.access_key_id' 'test', \
         'aws.secret_access_key' 'testsecret', 'aws.region' 'us-east-1', 'aws.allow_http' 'true')",
        s3.endpoint
    );
    let by_options = format!(
        "CREATE EXTERNAL TABLE t STORED AS PARQUET LOCATION 's3://flows/copy/sample.parquet' \
         {options}; {sums} t"
    );
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_flow-models"))
        .args(["sql", "-q", "--format", "csv", "-c", &by_options])
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), want, "store from OPTIONS");
    // csv_flow through DataFusion's object-store writer, read back by the table function.
    let copy = format!(
        "COPY (SELECT * FROM flowbin('{sample}')) TO 's3://flows/copy/sample.csv' STORED AS CSV_FLOW"
    );
    s3.ok(&["sql", "-q", "-c", &copy]);
    let read = format!("{sums} csv_flow('s3://flows/copy/sample.csv')");
    assert_eq!(s3.ok(&["sql", "-q", "--format", "csv", "-c", &read]), want);
}

/// The files of a local trace or file tree, by name relative to `root`, with their bytes.
fn local_files(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_str().unwrap().to_string();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    out.sort();
    out
}

/// The objects below `prefix` by name relative to it.
fn remote_files(s3: &s3::S3Server, prefix: &str) -> Vec<(String, Vec<u8>)> {
    s3.objects(prefix)
        .into_iter()
        .map(|(k, b)| (k[prefix.len() + 1..].to_string(), b))
        .collect()
}

/// Every output path takes a URL: `convert -O` (binary, csv_flow, Parquet), `hist -O`, `COPY …
/// STORED AS FLOWBIN`; what lands in the store is bit-identical to the local output, and no
/// local file is made for a URL (never a directory `s3:`).
#[test]
fn outputs_go_to_the_store_bit_identical() {
    let Some(s3) = start() else { return };
    let cwd = tempfile::tempdir().unwrap();
    let local_out = tempfile::tempdir().unwrap();
    let sample = repo("examples/data/sample");
    let run_in = |args: &[&str]| {
        let o = s3
            .command("testsecret")
            .args(args)
            .current_dir(cwd.path())
            .output()
            .unwrap();
        assert!(o.status.success(), "{args:?}: {}", text(&o.stderr));
    };
    let lo = |name: &str| local_out.path().join(name).to_str().unwrap().to_string();
    // `args` run twice: from `local_in` to a local output `out`, and from `remote_in` to
    // `s3://flows/out/{out}`.
    let both = |args: &[&str], out: &str, local_in: &str, remote_in: &str| {
        let remote_out = format!("s3://flows/out/{out}");
        local(&[args, &["-O", &lo(out), local_in]].concat());
        run_in(&[args, &["-O", &remote_out, remote_in]].concat());
    };
    for (fmt, name) in [
        ("binary", "trace"),
        ("csv_flow", "t.csv"),
        ("parquet", "t.parquet"),
    ] {
        both(
            &["convert", "-i", "binary", "-o", fmt],
            name,
            &sample,
            &sample,
        );
    }
    let trace = "s3://flows/out/trace";
    both(
        &["hist", "-i", "binary", "-x", "size"],
        "h.csv",
        &sample,
        trace,
    );
    let copy = "COPY (SELECT * FROM flowbin('s3://flows/out/trace') WHERE prot = 6) \
                TO 's3://flows/out/tcp' STORED AS FLOWBIN";
    run_in(&["sql", "-q", "-c", copy]);
    // cut and sort, a remote input to a remote output.
    let cut = [
        "cut",
        "-i",
        "binary",
        "-o",
        "binary",
        "--skip-in",
        "100",
        "--count-in",
        "1000",
    ];
    both(&cut, "cut", &sample, trace);
    both(
        &["sort", "-i", "binary", "-k", "octets"],
        "sorted",
        &sample,
        trace,
    );
    for name in ["cut", "sorted"] {
        let want = local_files(&local_out.path().join(name));
        assert_eq!(remote_files(&s3, &format!("out/{name}")), want, "{name}");
    }
    // fit and plot: a csv_hist object in, their files out.
    let hist = lo("h.csv");
    let fit = ["fit", "-y", "flows", "-i", "30", "-U", "2", "-L", "2"];
    both(&fit, "fit", &hist, "s3://flows/out/h.csv");
    fn plot<'a>(out: &'a str, hist: &'a str, fit: &'a str) -> [&'a str; 11] {
        [
            "plot",
            "-x",
            "size",
            "--format",
            "svg",
            "--data-out",
            out,
            "-O",
            out,
            hist,
            fit,
        ]
    }
    local(&plot(&lo("plots"), &hist, &lo("fit")));
    run_in(&plot(
        "s3://flows/out/plots",
        "s3://flows/out/h.csv",
        "s3://flows/out/fit",
    ));
    // The mixtures identical (the .mode files name their input, which differs).
    let fit = local_files(&local_out.path().join("fit"));
    let remote_fit = remote_files(&s3, "out/fit");
    assert_eq!(fit.len(), 2, "flows.json and flows.mode");
    assert_eq!(remote_fit[0], fit[0], "fit: flows.json");
    assert_eq!(remote_fit[1].0, "flows.mode");
    let plots = local_files(&local_out.path().join("plots"));
    assert!(
        plots.len() >= 4,
        "{:?}",
        plots.iter().map(|p| &p.0).collect::<Vec<_>>()
    );
    let names = |files: Vec<(String, Vec<u8>)>| files.into_iter().map(|f| f.0).collect::<Vec<_>>();
    assert_eq!(
        names(remote_files(&s3, "out/plots")),
        names(plots.clone()),
        "plot"
    );
    // The plotted numbers (--data-out) are the same: the mixture directory was read from S3.
    let data = |files: &[(String, Vec<u8>)]| {
        let sources = [(hist.as_str(), "H"), ("s3://flows/out/h.csv", "H")];
        let sources = [
            sources[0],
            sources[1],
            (&lo("fit"), "M"),
            ("s3://flows/out/fit", "M"),
        ]
        .map(|(a, b)| (a.to_string(), b));
        files
            .iter()
            .filter(|f| f.0.ends_with(".csv"))
            .map(|f| {
                let mut t = String::from_utf8_lossy(&f.1).into_owned();
                for (a, b) in &sources {
                    t = t.replace(a.as_str(), b);
                }
                t
            })
            .collect::<Vec<_>>()
    };
    let local_data = data(&plots);
    assert!(
        local_data.iter().any(|d| d.contains("\nM,")),
        "no mixture series: {local_data:?}"
    );
    assert_eq!(data(&remote_files(&s3, "out/plots")), local_data);
    let made: Vec<_> = std::fs::read_dir(cwd.path()).unwrap().collect();
    assert!(made.is_empty(), "local files made for URLs: {made:?}");

    let trace = local_files(&local_out.path().join("trace"));
    assert_eq!(trace.len(), 21);
    assert_eq!(remote_files(&s3, "out/trace"), trace, "the binary trace");
    let objects = s3.objects("out");
    let object = |key: &str| {
        objects
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, b)| b.clone())
    };
    for name in ["t.csv", "t.parquet", "h.csv"] {
        let want = std::fs::read(local_out.path().join(name)).unwrap();
        assert_eq!(object(&format!("out/{name}")), Some(want), "{name}");
    }
    let q = "SELECT count(*) AS n, sum(octets) AS o FROM";
    assert_eq!(
        s3.ok(&[
            "sql",
            "-q",
            "--format",
            "csv",
            "-c",
            &format!("{q} flowbin('s3://flows/out/tcp')")
        ]),
        local(&[
            "sql",
            "-q",
            "--format",
            "csv",
            "-c",
            &format!("{q} flowbin('{sample}') WHERE prot = 6")
        ]),
    );
    // Nothing but the outputs: the writers' temporaries are gone.
    assert!(
        objects.iter().all(|(k, _)| !k.contains(".tmp-")),
        "{:?}",
        objects.iter().map(|o| &o.0).collect::<Vec<_>>()
    );
}

/// A trace replaced in the store: the new columns only (an old column the new trace lacks is
/// deleted); a failed write leaves the old trace as it was and no temporary; a prefix holding
/// other objects is refused before anything is written.
#[test]
fn trace_writes_replace_whole_or_not_at_all() {
    let Some(s3) = start() else { return };
    let sample = repo("examples/data/sample");
    let copy = |select: &str, to: &str| {
        s3.run(
            &[
                "sql",
                "-q",
                "-c",
                &format!("COPY ({select}) TO '{to}' STORED AS FLOWBIN"),
            ],
            "testsecret",
        )
    };
    let all = format!("SELECT * FROM flowbin('{sample}')");
    assert!(copy(&all, "s3://flows/r/t").status.success());
    assert_eq!(remote_files(&s3, "r/t").len(), 21);
    let two = format!("SELECT packets, octets FROM flowbin('{sample}') WHERE prot = 17");
    assert!(copy(&two, "s3://flows/r/t").status.success());
    let names: Vec<String> = remote_files(&s3, "r/t")
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, ["octets.Q", "packets.Q"]);
    let before = remote_files(&s3, "r/t");

    // A NULL half-way through fails the write: the old trace stays, no temporary is left.
    let failing = format!(
        "SELECT CASE WHEN first > (SELECT avg(first) FROM flowbin('{sample}')) THEN NULL \
         ELSE packets END AS packets, octets FROM flowbin('{sample}')"
    );
    let o = copy(&failing, "s3://flows/r/t");
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("NULL"), "{}", text(&o.stderr));
    assert_eq!(remote_files(&s3, "r/t"), before);
    let all_objects: Vec<String> = s3.objects("r").into_iter().map(|(k, _)| k).collect();
    assert!(
        all_objects.iter().all(|k| !k.contains(".tmp-")),
        "{all_objects:?}"
    );

    s3.upload(
        Path::new(&format!("{sample}/packets.Q")),
        "r/mixed/packets.Q",
    );
    s3.upload(Path::new(&repo("README.md")), "r/mixed/README.md");
    let o = copy(&all, "s3://flows/r/mixed");
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(
        err.contains("refusing to replace s3://flows/r/mixed") && err.contains("README.md"),
        "{err}"
    );
    assert_eq!(s3.objects("r/mixed").len(), 2);
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

/// A large text file is split into byte ranges read by different partitions (DataFusion's
/// ranged CSV reading), on disk and in the store: the lines that start in a range are its,
/// so the split reads exactly the whole file's rows; a bad line in a later range is named by
/// its byte offset (a range does not know how many lines precede it).
#[test]
fn text_files_split_into_ranges_read_as_whole() {
    let Some(s3) = start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("sample.csv");
    let sample = repo("examples/data/sample");
    let out = csv.to_str().unwrap();
    local(&[
        "convert", "-i", "binary", "-o", "csv_flow", "-O", out, &sample,
    ]);
    let pipe = repo("tests/data/pipe/nf171_sfipfix.pipe");
    s3.upload(&csv, "split/sample.csv");
    s3.upload(Path::new(&pipe), "split/flows.pipe");
    // Split into 4 ranges whatever the file's size (the default splits files of 10 MiB on).
    let run = |args: &[&str], remote: bool, partitions: &str| {
        let mut c = match remote {
            true => s3.command("testsecret"),
            false => std::process::Command::new(env!("CARGO_BIN_EXE_flow-models")),
        };
        c.env("DATAFUSION_EXECUTION_TARGET_PARTITIONS", partitions)
            .env("DATAFUSION_OPTIMIZER_REPARTITION_FILE_MIN_SIZE", "1");
        c.args(args).output().unwrap()
    };
    let split = |args: &[&str], remote: bool| run(args, remote, "4");
    let sql = |q: &str| ["sql", "-q", "--format", "csv", "-c", q].map(String::from);
    for (func, path, url) in [
        ("csv_flow", out, "s3://flows/split/sample.csv"),
        ("pipe", pipe.as_str(), "s3://flows/split/flows.pipe"),
    ] {
        let q = |p: &str| {
            format!(
                "SELECT count(*), sum(packets), sum(octets), sum(first * 1000 + first_ms), \
                 max(sp), min(dp) FROM {func}('{p}')"
            )
        };
        let want = local(&sql(&q(path)).each_ref().map(String::as_str));
        assert!(
            want.lines().nth(1).is_some_and(|l| !l.starts_with("0,")),
            "{want}"
        );
        for (p, remote) in [(path, false), (url, true)] {
            let explain = format!("EXPLAIN SELECT count(*) FROM {func}('{p}')");
            let o = split(&sql(&explain).each_ref().map(String::as_str), remote);
            let plan = text(&o.stdout);
            assert!(plan.contains("file_groups={4 groups"), "{p}: {plan}");
            let o = split(&sql(&q(p)).each_ref().map(String::as_str), remote);
            assert!(o.status.success(), "{p}: {}", text(&o.stderr));
            assert_eq!(text(&o.stdout), want, "{func} over {p} in 4 ranges");
        }
    }

    // A bad line in the last quarter: whole, it is numbered; split, it is named by its offset.
    let mut lines: Vec<String> = std::fs::read_to_string(&csv)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let bad = lines.len() * 7 / 8;
    lines[bad] = "1,2,3".into();
    let at: usize = lines[..bad].iter().map(|l| l.len() + 1).sum();
    let broken = dir.path().join("broken.csv");
    std::fs::write(&broken, lines.join("\n") + "\n").unwrap();
    s3.upload(&broken, "split/broken.csv");
    let q = |p: &str| format!("SELECT sum(octets) FROM csv_flow('{p}')");
    let b = broken.to_str().unwrap();
    let o = run(&sql(&q(b)).each_ref().map(String::as_str), false, "1");
    let reason = "expected 21 comma-separated fields, found 3";
    let whole = format!("csv_flow file {b}: line {}: {reason}", bad + 1);
    assert!(text(&o.stderr).contains(&whole), "{}", text(&o.stderr));
    for (p, remote) in [(b, false), ("s3://flows/split/broken.csv", true)] {
        let o = split(&sql(&q(p)).each_ref().map(String::as_str), remote);
        assert_eq!(o.status.code(), Some(1), "{p}");
        let want = format!("csv_flow file {p}: the line at byte {at}: {reason}");
        assert!(text(&o.stderr).contains(&want), "{}", text(&o.stderr));
    }
}

/// A trace with fields compressed by `flow-models compress` (zstd with a seek table) read from
/// S3 as from disk: each frame fetched by one ranged GET, split over partitions by frame, the
/// row count from the seek table; a gzip field there is refused with the reason.
/// `sql -q --format csv -c query`: the arguments of a query whose answer is compared.
fn csv_sql(query: &str) -> [&str; 6] {
    ["sql", "-q", "--format", "csv", "-c", query]
}

#[test]
fn compressed_fields_read_from_s3_as_from_disk() {
    let Some(s3) = start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t");
    std::fs::create_dir(&trace).unwrap();
    let sample = repo("examples/data/sample");
    for e in std::fs::read_dir(&sample).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), trace.join(e.file_name())).unwrap();
    }
    let t = trace.to_str().unwrap();
    local(&[
        "compress",
        "--frame-rows",
        "5000",
        t,
        "octets",
        "packets",
        "first",
    ]);
    s3.upload_trace(t, "packed/t");
    let sql = |from: &str| {
        format!(
            "SELECT count(*), sum(octets), sum(packets), sum(first), max(last), min(sp) \
             FROM flowbin('{from}')"
        )
    };
    let want = local(&csv_sql(&sql(&sample)));
    let got = s3.ok(&csv_sql(&sql("s3://flows/packed/t")));
    assert_eq!(got, want);
    let hist = |t: &str| ["hist", "-x", "size", "-b", "12", t].map(str::to_string);
    let local_hist = local(&hist(&sample).iter().map(String::as_str).collect::<Vec<_>>());
    let remote = hist("s3://flows/packed/t");
    assert_eq!(
        s3.ok(&remote.iter().map(String::as_str).collect::<Vec<_>>()),
        local_hist
    );
    let plan = s3.ok(&csv_sql(&format!(
        "EXPLAIN ANALYZE {}",
        sql("s3://flows/packed/t")
    )));
    assert!(plan.contains("file_groups={2 groups"), "{plan}");
    // Files of the CLI tools (no seek table; gzip, bzip2 say no length): each read whole by
    // one partition, streamed from one GET, the row count from a plain column.
    let cli = dir.path().join("cli");
    std::fs::create_dir(&cli).unwrap();
    for e in std::fs::read_dir(&sample).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), cli.join(e.file_name())).unwrap();
    }
    let tools: [(&str, &[&str], &str); 5] = [
        ("zstd", &["-q", "--rm"], "octets.Q"),
        ("gzip", &[], "packets.Q"),
        ("xz", &[], "first.I"),
        ("bzip2", &[], "last.I"),
        ("lz4", &["-q", "--rm"], "sp.H"),
    ];
    for (tool, args, file) in tools {
        let mut cmd = std::process::Command::new(tool);
        cmd.args(args).arg(cli.join(file));
        if tool == "lz4" {
            cmd.arg(cli.join("sp.H.lz4")); // (lz4 writes to a pipe otherwise)
        }
        let o = cmd.output();
        let Ok(o) = o else {
            eprintln!("skipped the CLI files: {tool} is not installed (.ci/setup installs it)");
            return;
        };
        assert!(o.status.success(), "{tool}: {}", text(&o.stderr));
    }
    s3.upload_trace(cli.to_str().unwrap(), "cli/t");
    let all = "SELECT count(*), sum(octets), sum(packets), sum(first), sum(last), sum(sp), \
               min(octets), max(packets), min(first), max(last), max(sp) FROM flowbin('{}')";
    let want = local(&csv_sql(&all.replace("{}", &sample)));
    let query = all.replace("{}", "s3://flows/cli/t");
    assert_eq!(s3.ok(&csv_sql(&query)), want);
    let plan = s3.ok(&["sql", "-q", "-c", &format!("EXPLAIN ANALYZE {query}")]);
    assert!(plan.contains("file_groups={1 group"), "{plan}");
    let remote = hist("s3://flows/cli/t");
    assert_eq!(
        s3.ok(&remote.iter().map(String::as_str).collect::<Vec<_>>()),
        local_hist
    );
    // Every field gzip: the length from decompressing one of them (a GET streamed through).
    let gz = dir.path().join("gz");
    std::fs::create_dir(&gz).unwrap();
    for name in ["octets.Q", "packets.Q"] {
        let to = gz.join(name);
        std::fs::copy(format!("{sample}/{name}"), &to).unwrap();
        let o = std::process::Command::new("gzip")
            .arg(&to)
            .output()
            .unwrap();
        assert!(o.status.success());
    }
    s3.upload_trace(gz.to_str().unwrap(), "gz/t");
    let two = "SELECT count(*), sum(octets), sum(packets) FROM flowbin('{}')";
    assert_eq!(
        s3.ok(&csv_sql(&two.replace("{}", "s3://flows/gz/t"))),
        local(&csv_sql(&two.replace("{}", &sample)))
    );
    // A truncated object: an error naming it and the codec, never a short column.
    let cut = std::fs::read(gz.join("octets.Q.gz")).unwrap();
    let short = dir.path().join("short.gz");
    std::fs::write(&short, &cut[..cut.len() / 2]).unwrap();
    s3.upload(&short, "gz/t/octets.Q.gz");
    let o = s3.run(
        &["sql", "-c", &two.replace("{}", "s3://flows/gz/t")],
        "testsecret",
    );
    let err = text(&o.stderr);
    assert!(!o.status.success());
    assert!(err.contains("octets.Q.gz") && err.contains("gzip"), "{err}");
}

/// Each file's name, size and hash (short enough to show when two traces differ).
fn digest(files: Vec<(String, Vec<u8>)>) -> Vec<(String, usize, u64)> {
    use std::hash::{Hash, Hasher};
    let hash = |b: &[u8]| {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        b.hash(&mut h);
        h.finish()
    };
    files
        .into_iter()
        .map(|(n, b)| (n, b.len(), hash(&b)))
        .collect()
}

/// Compressed traces written to the store (`convert --compress`, `COPY … OPTIONS
/// ('compression' …)`) are byte for byte what the same command writes to disk, frames and seek
/// table included, and read back as the plain trace (split by frame).
#[test]
fn compressed_outputs_go_to_the_store_bit_identical() {
    let Some(s3) = start() else { return };
    let out = tempfile::tempdir().unwrap();
    let sample = repo("examples/data/sample");
    for codec in ["zstd", "gz", "lz4"] {
        let to = out.path().join(codec);
        let convert = |o: &str| {
            [
                "convert",
                "-i",
                "binary",
                "-o",
                "binary",
                "--compress",
                codec,
                "-O",
                o,
                &sample,
            ]
            .map(str::to_string)
        };
        local(&convert(to.to_str().unwrap()).each_ref().map(String::as_str));
        let url = format!("s3://flows/packed-out/{codec}");
        s3.ok(&convert(&url).each_ref().map(String::as_str));
        let written = local_files(&to);
        assert!(
            written
                .iter()
                .all(|(n, _)| n.ends_with(&format!(".{}", codec.replace("zstd", "zst"))))
        );
        assert_eq!(
            remote_files(&s3, &format!("packed-out/{codec}")),
            written,
            "{codec}"
        );
    }
    let sql = |from: &str| {
        format!(
            "SELECT count(*), sum(octets), sum(packets), sum(first), max(last), min(sp), \
             max(da3) FROM flowbin('{from}')"
        )
    };
    let copy = |to: &str| {
        format!(
            "SET datafusion.execution.target_partitions = 1; \
             COPY (SELECT * FROM flowbin('{sample}')) TO '{to}' STORED AS FLOWBIN OPTIONS \
             ('compression' 'zstd', 'compression_level' '5', 'compression_frame_rows' '5000')"
        )
    };
    let to = out.path().join("copy");
    local(&["sql", "-q", "-c", &copy(to.to_str().unwrap())]);
    s3.ok(&["sql", "-q", "-c", &copy("s3://flows/packed-out/copy")]);
    let written = local_files(&to);
    let remote = remote_files(&s3, "packed-out/copy");
    assert_eq!(digest(remote), digest(written.clone()));
    let want = local(&csv_sql(&sql(&sample)));
    let remote = sql("s3://flows/packed-out/copy");
    assert_eq!(s3.ok(&csv_sql(&remote)), want);
    let plan = s3.ok(&["sql", "-q", "-c", &format!("EXPLAIN ANALYZE {remote}")]);
    assert!(plan.contains("file_groups={2 groups"), "{plan}");
    // The zstd CLI decompresses what was uploaded to the plain column (9 frames + seek table;
    // one partition: the rows in the trace's order).
    let (_, packed) = written.iter().find(|(n, _)| n == "octets.Q.zst").unwrap();
    let Ok(mut zstd) = std::process::Command::new("zstd")
        .args(["-dc"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
    else {
        eprintln!("skipped the zstd CLI check: zstd is not installed (.ci/setup installs it)");
        return;
    };
    use std::io::Write;
    zstd.stdin.take().unwrap().write_all(packed).unwrap();
    let plain = zstd.wait_with_output().unwrap();
    assert!(plain.status.success());
    assert_eq!(
        plain.stdout,
        std::fs::read(format!("{sample}/octets.Q")).unwrap()
    );
}
