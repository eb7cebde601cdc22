//! flow-models on a Ballista cluster, started by the test on 127.0.0.1 from our own binary: a
//! scheduler and two executors (`flow-models scheduler`, `flow-models executor`). Queries sent
//! with `sql --remote df://…` give exactly the local answers, the executors did the work (their
//! shuffle files), and once every executor is gone a query fails with a clear error.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::text;
use common::{Killed, free_port, repo, wait_for_port};
#[path = "common/s3.rs"]
mod s3;

/// Starts `flow-models args` with the variables `env`, its log (stderr) in `log`.
fn spawn(args: &[&str], env: &[(&str, String)], log: &Path) -> Killed {
    let child = Command::new(env!("CARGO_BIN_EXE_flow-models"))
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    Killed(child)
}

struct Cluster {
    url: String,
    executors: Vec<(Killed, tempfile::TempDir)>,
    _scheduler: Killed,
    logs: tempfile::TempDir,
}

impl Cluster {
    /// `flow-models args`, with `--remote` to this cluster if `remote`: its output, once it
    /// succeeded (a failure or no answer in a minute fails the test, with the cluster's logs).
    fn run(&self, args: &[&str], remote: bool) -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_flow-models"));
        c.args(args);
        if remote {
            c.args(["--remote", &self.url]);
        }
        let child = c.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn();
        let o = finish(child.unwrap());
        let o = o.unwrap_or_else(|| panic!("{args:?}: no answer\n{}", self.logs()));
        let err = text(&o.stderr);
        assert!(o.status.success(), "{args:?}: {err}\n{}", self.logs());
        o
    }

    /// Checks that `statements` on the cluster give the numbers `local` gives locally (a
    /// result of more than a header).
    fn answers_as_locally(&self, statements: &[&str], local: &[&str]) {
        let q = statements.join("; ");
        let want = sql(local, None).unwrap();
        assert!(want.status.success(), "{local:?}: {}", text(&want.stderr));
        let got = sql(statements, Some(&self.url));
        let got = got.unwrap_or_else(|| panic!("{q}: no answer in a minute\n{}", self.logs()));
        let err = text(&got.stderr);
        assert!(got.status.success(), "{q}: {err}\n{}", self.logs());
        let (got, want) = (text(&got.stdout), text(&want.stdout));
        assert!(want.lines().count() > 1, "{local:?}: {want}");
        assert!(
            same_numbers(&got, &want),
            "{q} on the cluster:\n{got}\nlocally:\n{want}"
        );
    }

    /// The processes' logs, for a failure's message.
    fn logs(&self) -> String {
        let mut out = String::new();
        for name in ["scheduler", "executor-0", "executor-1"] {
            let log = std::fs::read_to_string(self.logs.path().join(name)).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(30).collect();
            out += &format!(
                "--- {name}:\n{}\n",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        out
    }
}

/// A scheduler (executors silent for 5 s are gone) and two executors of one task slot each
/// (so that the tasks of a stage are spread over both).
fn start() -> Cluster {
    start_with(&[])
}

/// [`start`], the processes run with the variables `env`.
fn start_with(env: &[(&str, String)]) -> Cluster {
    let logs = tempfile::tempdir().unwrap();
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let scheduler = spawn(
        &["scheduler", "--bind", &bind, "--executor-timeout", "5"],
        env,
        &logs.path().join("scheduler"),
    );
    wait_for_port(port, "the scheduler", 30);
    let executors = (0..2)
        .map(|i| {
            let (flight, grpc) = (free_port(), free_port());
            let dir = tempfile::tempdir().unwrap();
            let executor = spawn(
                &[
                    "executor",
                    "--scheduler",
                    &bind,
                    "--bind",
                    &format!("127.0.0.1:{flight}"),
                    "--grpc-port",
                    &grpc.to_string(),
                    "--concurrent-tasks",
                    "1",
                    "--work-dir",
                    dir.path().to_str().unwrap(),
                ],
                env,
                &logs.path().join(format!("executor-{i}")),
            );
            wait_for_port(flight, "an executor", 30);
            (executor, dir)
        })
        .collect();
    Cluster {
        url: format!("df://{bind}"),
        executors,
        _scheduler: scheduler,
        logs,
    }
}

/// `sql -q --format csv -c statement…` started, on the cluster at `url` or locally.
fn start_sql(statements: &[&str], remote: Option<&str>) -> Child {
    start_sql_with(statements, remote, &[])
}

/// [`start_sql`] with the variables `env`.
fn start_sql_with(statements: &[&str], remote: Option<&str>, env: &[(&str, String)]) -> Child {
    let mut c = Command::new(env!("CARGO_BIN_EXE_flow-models"));
    c.envs(env.iter().map(|(k, v)| (k, v)));
    c.args(["sql", "-q", "--format", "csv"]);
    statements.iter().for_each(|s| {
        c.args(["-c", s]);
    });
    if let Some(url) = remote {
        c.args(["--remote", url]);
    }
    c.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// What `child` printed, once it exits (read while it runs: its output may be more than a
/// pipe holds); `None` (and killed) after a minute.
fn finish(child: Child) -> Option<Output> {
    let pid = child.id().to_string();
    let (done, output) = std::sync::mpsc::channel();
    std::thread::spawn(move || done.send(child.wait_with_output()));
    match output.recv_timeout(Duration::from_secs(60)) {
        Ok(o) => Some(o.unwrap()),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid]).status();
            None
        }
    }
}

fn sql(statements: &[&str], remote: Option<&str>) -> Option<Output> {
    finish(start_sql(statements, remote))
}

/// Whether two outputs are the same but for the last digits of floating-point numbers (a sum
/// of floats depends on the order partial results arrive in, on a cluster as between
/// partitionings locally): integers and text exactly, decimals to 1e-9 relative.
fn same_numbers(a: &str, b: &str) -> bool {
    let numeric = |c: char| c.is_ascii_digit() || ".eE+-".contains(c);
    let tokens = |s: &str| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for c in s.chars() {
            match out.last_mut() {
                Some(t) if t.chars().last().is_some_and(numeric) == numeric(c) => t.push(c),
                _ => out.push(c.to_string()),
            }
        }
        out
    };
    let (ta, tb) = (tokens(a), tokens(b));
    let close = |x: &String, y: &String| match (x.parse::<f64>(), y.parse::<f64>()) {
        (Ok(u), Ok(v)) if x.contains('.') || y.contains('.') => {
            (u - v).abs() <= 1e-9 * u.abs().max(v.abs())
        }
        _ => false,
    };
    ta.len() == tb.len() && ta.iter().zip(&tb).all(|(x, y)| x == y || close(x, y))
}

fn files_below(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .map(|e| e.unwrap().path())
            .map(|p| if p.is_dir() { files_below(&p) } else { 1 })
            .sum()
    })
}

#[test]
fn flowbin_queries_run_on_the_cluster_as_locally() {
    let cluster = start();
    let sample = repo("examples/data/sample");
    let quoted = |dir: &str, names: &[&str]| -> String {
        let path = |n: &&str| format!("'{}'", repo(&format!("{dir}/{n}")));
        names.iter().map(path).collect::<Vec<_>>().join(", ")
    };
    let nfcapd = quoted(
        "tests/data/nfcapd",
        &[
            "nf1622_sfv5_mixed_lzo.nfcapd",
            "nf1622_sfipfix_mixed_bz2.nfcapd",
            "nf171_sfipfix_mixed_lzo.nfcapd",
            "nf171_nfpcapd_small_lz4.nfcapd",
        ],
    );
    let mixture = repo("flow-udfs/tests/data/mixture/reference/agh_2015/mixtures/all/size");
    let pipe = quoted(
        "tests/data/pipe",
        &["nf1622_sfipfix.pipe", "nf171_sfipfix.pipe"],
    );
    let queries = [
        format!(
            "SELECT count(*), sum(packets), sum(octets), min(first), max(last) FROM flowbin('{sample}')"
        ),
        format!(
            "SELECT prot, count(*), sum(octets) FROM flowbin('{sample}') GROUP BY prot ORDER BY prot"
        ),
        // One of our scalar functions, resolved by name on the scheduler and the executors.
        format!(
            "SELECT log_bin(packets, 12) AS bin, count(*), sum(packets) FROM flowbin('{sample}') \
             WHERE prot = 6 GROUP BY bin ORDER BY bin"
        ),
        format!(
            "SELECT sp, dp, octets FROM flowbin('{sample}') ORDER BY octets DESC, sp, dp LIMIT 5"
        ),
        // nfcapd files of both layouts and three compressions, listed again by the scheduler
        // and decoded by the executors.
        format!(
            "SELECT prot, count(*), sum(packets), sum(octets), min(first), max(last), \
             count(DISTINCT sa3) FROM nfcapd({nfcapd}) GROUP BY prot ORDER BY prot"
        ),
        // The fast histogram: partial histograms where the partitions are read, merged in
        // partition order in one task.
        format!("SELECT * FROM flow_hist('{sample}', 'length', 0)"),
        format!("SELECT * FROM flow_hist('{sample}', 'size', 12, 'duration', 'rate', 'aggs')"),
        // The merge, by key partitions on the cluster (a shuffle by key, sorts by time and
        // input position): the same merged flows, every column of every flow.
        format!(
            "SELECT * FROM flow_merge('{sample}', 15, 300) ORDER BY first, first_ms, sa3, da3, \
             sp, dp, prot, last, last_ms, packets, octets, aggs, af, inif, outif, sa0, sa1, sa2, \
             da0, da1, da2"
        ),
        format!(
            "SELECT count(*), sum(packets), sum(octets), sum(aggs) FROM flow_merge('{sample}', 1, 5)"
        ),
        // nfdump's pipe text of both versions.
        format!("SELECT count(*), sum(packets), sum(octets), min(sp), max(dp) FROM pipe({pipe})"),
        // flow_hist of a view registered on the client: the view's plan travels with it.
        "SELECT * FROM flow_hist('tcp', 'size', 12, 'duration')".to_string(),
        // Flows drawn from a published mixture on an executor: the same random stream.
        format!(
            "SELECT count(*), sum(packets), sum(octets), max(octets), sum(packets * octets) \
             FROM mixture_generate('{mixture}', 20000, 'size', 7)"
        ),
        // The time series: each flow spread over its seconds where the partitions are read,
        // summed per second by DataFusion's distributed aggregate.
        format!("SELECT * FROM flow_series('{sample}') WHERE flows > 3 ORDER BY day, second"),
        // The stable sort (on a cluster: each partition sorted with the positions as the last
        // key, merged in one task): every row in the local order, ties included.
        format!("SELECT * FROM flow_sort('{sample}', 'prot', 'dp', true)"),
        // ORDER BY over a trace: stable on the cluster too (FlowSortRule::distributed).
        format!("SELECT * FROM flowbin('{sample}') ORDER BY prot DESC, dp DESC"),
    ];
    // Every query runs after this view is made (on the client: its plan goes with a query).
    let view = format!("CREATE VIEW tcp AS SELECT * FROM flowbin('{sample}') WHERE prot = 6");
    for q in &queries {
        let statements = [view.as_str(), q.as_str()];
        cluster.answers_as_locally(&statements, &statements);
    }
    // `hist --remote` writes what `hist` writes (the rate sums to the last digits: the cluster
    // reads the trace in other partitions).
    for flags in [
        &["-x", "length", "-b", "12"][..],
        &["-x", "duration", "-b", "12", "-c", "rate"],
    ] {
        let args: Vec<&str> = [&["hist"][..], flags, &[sample.as_str()]].concat();
        let run = |remote| text(&cluster.run(&args, remote).stdout);
        let (want, got) = (run(false), run(true));
        assert!(want.lines().count() > 5, "{want}");
        match flags.contains(&"rate") {
            true => assert!(
                same_numbers(&got, &want),
                "hist {flags:?}:\n{got}\nlocally:\n{want}"
            ),
            false => assert_eq!(got, want, "hist {flags:?}"),
        }
    }
    // COPY … STORED AS FLOWBIN, written by an executor: the trace holds the same flows and
    // the same column files as one written locally.
    let out = tempfile::tempdir().unwrap();
    // `COPY (flows WHERE filter) TO name STORED AS format`, on the cluster if `remote`.
    let copy_to = |name: &str, filter: &str, format: &str, remote: bool| {
        let target = out.path().join(name);
        let q = format!(
            "COPY (SELECT * FROM flowbin('{sample}') WHERE {filter}) TO '{}' STORED AS {format}",
            target.display()
        );
        cluster.run(&["sql", "-q", "-c", &q], remote);
        target
    };
    let copy = |dir: &str, remote: bool| {
        let target = copy_to(dir, "prot = 6", "FLOWBIN", remote);
        let mut names: Vec<String> = std::fs::read_dir(&target)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let check = format!(
            "SELECT count(*), sum(packets), sum(octets), min(first), max(last), sum(sp * dp) \
             FROM flowbin('{}')",
            target.display()
        );
        let o = sql(&[check.as_str()], None).unwrap();
        assert!(o.status.success(), "{}", text(&o.stderr));
        (names, text(&o.stdout))
    };
    let (local, remote) = (copy("local", false), copy("remote", true));
    assert!(local.0.contains(&"octets.Q".to_string()), "{:?}", local.0);
    assert_eq!(remote, local);
    let filtered = sql(
        &[&format!(
            "SELECT count(*), sum(packets), sum(octets), min(first), max(last), sum(sp * dp) \
             FROM flowbin('{sample}') WHERE prot = 6"
        )],
        None,
    )
    .unwrap();
    assert_eq!(local.1, text(&filtered.stdout));
    // COPY … STORED AS CSV_FLOW: the same lines (in another order: the cluster gathers its
    // partitions as they come).
    let csv = |name: &str, remote: bool| {
        let target = copy_to(name, "prot = 17", "CSV_FLOW", remote);
        let mut lines: Vec<String> = std::fs::read_to_string(&target)
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        lines.sort();
        lines
    };
    let (local, remote) = (csv("local.csv", false), csv("remote.csv", true));
    assert!(local.len() > 100, "{} lines", local.len());
    assert!(
        remote == local,
        "{} lines on the cluster, {} locally",
        remote.len(),
        local.len()
    );

    // `merge --remote`: the same merged flows as `merge`, in another order.
    let merge = |remote| {
        let args = [
            "merge", "-I", "2", "-A", "10", "-o", "csv_flow", "-O", "-", &sample,
        ];
        let o = cluster.run(&args, remote);
        let mut lines: Vec<String> = text(&o.stdout).lines().map(String::from).collect();
        lines.sort();
        (lines, text(&o.stderr))
    };
    let ((want, _), (got, log)) = (merge(false), merge(true));
    assert!(
        want.len() > 1000 && want.len() < 50_000,
        "{} merged flows",
        want.len()
    );
    assert!(
        got == want,
        "merge --remote gave {} flows, merge {}",
        got.len(),
        want.len()
    );
    assert!(
        log.contains(&format!("wrote {} flows", want.len())),
        "{log}"
    );

    // `sort --remote` (each partition sorted by an executor, merged by one) writes the trace
    // `sort` writes, byte for byte: stable, and the exact reverse with --reverse; so do an
    // executor's COPY of `flow_sort` and of `ORDER BY`.
    for reverse in [false, true] {
        let sorted = |name: &str, remote: bool| {
            let target = out.path().join(name);
            let mut args = vec!["sort", "-k", "prot", "dp", "-O", target.to_str().unwrap()];
            args.extend(reverse.then_some("--reverse"));
            args.push(&sample);
            cluster.run(&args, remote);
            target
        };
        let copied = |name: &str, query: String| {
            let target = out.path().join(name);
            let copy = format!("COPY ({query}) TO '{}' STORED AS FLOWBIN", target.display());
            cluster.run(&["sql", "-q", "-c", &copy], true);
            target
        };
        let (direction, flag) = if reverse {
            (" DESC", ", true")
        } else {
            ("", "")
        };
        let want = sorted("sorted", false);
        let got = [
            sorted("sorted-remote", true),
            copied(
                "flow_sort-remote",
                format!("SELECT * FROM flow_sort('{sample}', 'prot', 'dp'{flag})"),
            ),
            copied(
                "order-by-remote",
                format!(
                    "SELECT * FROM flowbin('{sample}') ORDER BY prot{direction}, dp{direction}"
                ),
            ),
        ];
        let mut files = 0;
        for file in std::fs::read_dir(&want).unwrap() {
            let name = file.unwrap().file_name();
            for got in &got {
                let (a, b) = (want.join(&name), got.join(&name));
                assert!(
                    std::fs::read(&a).unwrap() == std::fs::read(&b).unwrap(),
                    "{got:?} --reverse={reverse}: {name:?} differs from sort's"
                );
            }
            files += 1;
        }
        assert_eq!(files, 21);
        std::fs::remove_dir_all(want).unwrap();
        for got in got {
            std::fs::remove_dir_all(got).unwrap();
        }
    }
    // `convert --remote` keeps the input order (the partitions merged by position), so cuts
    // by record count give what they give locally; nfcapd files are read in one task.
    let nfcapd_files = [
        "nf1622_sfv5_mixed_lzo.nfcapd",
        "nf171_sfipfix_mixed_lzo.nfcapd",
    ]
    .map(|f| repo(&format!("tests/data/nfcapd/{f}")));
    for args in [
        &[
            "convert",
            "--skip-in",
            "1000",
            "--count-in",
            "30000",
            "--filter",
            "prot = 17",
        ][..],
        &[
            "convert",
            "-i",
            "nfcapd",
            &nfcapd_files[0],
            &nfcapd_files[1],
        ],
    ] {
        let args = match args.contains(&"nfcapd") {
            true => args.to_vec(),
            false => [args, &[sample.as_str()]].concat(),
        };
        let (want, got) = (cluster.run(&args, false), cluster.run(&args, true));
        let lines = text(&want.stdout).lines().count();
        assert!(lines > 100, "{args:?}: {lines} lines");
        assert!(
            want.stdout == got.stdout,
            "{args:?}: {} lines on the cluster, {lines} locally",
            text(&got.stdout).lines().count()
        );
    }

    let o = Command::new(env!("CARGO_BIN_EXE_flow-models"))
        .args([
            "hist",
            "--filter",
            "prot = 6",
            "--remote",
            &cluster.url,
            &sample,
        ])
        .output()
        .unwrap();
    assert!(text(&o.stderr).contains("hist --remote takes no --skip-in, --count-in or --filter"));

    // Both executors ran tasks (their logs), and their shuffle files are in their work
    // directories.
    for i in 0..2 {
        let log = std::fs::read_to_string(cluster.logs.path().join(format!("executor-{i}")));
        let tasks = log.unwrap_or_default().matches("Execute task").count();
        assert!(tasks > 0, "executor {i} ran no task\n{}", cluster.logs());
    }
    let shuffled: usize = (cluster.executors.iter())
        .map(|(_, dir)| files_below(dir.path()))
        .sum();
    assert!(
        shuffled > 0,
        "no shuffle file in the executors' work directories"
    );

    // Every executor gone while a query runs (a join of 2.5 billion pairs, minutes of work):
    // once the scheduler has taken them as dead (5 s without heartbeats) and none came back
    // within the grace period (5 s), the query fails with Ballista's reason.
    let slow = format!(
        "SELECT count(*) FROM flowbin('{sample}') a, flowbin('{sample}') b WHERE a.sp + b.dp = 1"
    );
    let running = start_sql(&[&slow], Some(&cluster.url));
    let deadline = Instant::now() + Duration::from_secs(30);
    while !cluster.logs().contains("Execute task") {
        assert!(
            Instant::now() < deadline,
            "the join never started\n{}",
            cluster.logs()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let logs = cluster.logs();
    let Cluster { executors, .. } = cluster;
    drop(executors);
    let o = finish(running).unwrap_or_else(|| panic!("no answer without executors\n{logs}"));
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        text(&o.stdout).lines().nth(1).is_none(),
        "{}",
        text(&o.stdout)
    );
    assert!(err.contains("all executors were lost"), "{err}");
}

/// No scheduler at the URL: an error naming it, at once.
#[test]
fn an_unreachable_scheduler_is_an_error_naming_it() {
    let url = format!("df://127.0.0.1:{}", free_port());
    let o = sql(&["SELECT 1"], Some(&url)).expect("an answer");
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains(&format!("the scheduler at {url}")), "{err}");
    assert!(err.contains("onnection refused"), "{err}");
}

/// A trace in an S3 store is read by the executors (each task re-opens its rows by URL, with
/// the executor's own credentials), as locally; executors that cannot read it fail the query
/// with the object and the store's reason.
#[test]
fn executors_read_objects_by_url_and_fail_clearly_without_access() {
    let Some(s3) = s3::start() else { return };
    let sample = repo("examples/data/sample");
    s3.upload_trace(&sample, "trace");
    let q = "SELECT count(*), sum(packets), sum(octets), min(first), max(last) \
             FROM flowbin('s3://flows/trace')";
    let env = s3.env("testsecret");
    let want = finish(start_sql_with(&[q], None, &env)).unwrap();
    assert!(want.status.success(), "{}", text(&want.stderr));
    let cluster = start_with(&env);
    let got = finish(start_sql_with(&[q], Some(&cluster.url), &env));
    let got = got.unwrap_or_else(|| panic!("no answer in a minute\n{}", cluster.logs()));
    assert!(
        got.status.success(),
        "{}\n{}",
        text(&got.stderr),
        cluster.logs()
    );
    assert_eq!(text(&got.stdout), text(&want.stdout));
    drop(cluster);

    if !s3.checks_keys {
        eprintln!("skipped the wrong-key case: moto accepts any key");
        return;
    }
    // The client lists the trace with its key; the executors hold a wrong one.
    let cluster = start_with(&s3.env("wrong"));
    let o = finish(start_sql_with(&[q], Some(&cluster.url), &env));
    let o = o.unwrap_or_else(|| panic!("no answer in a minute\n{}", cluster.logs()));
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("flowbin: s3://flows/trace/"), "{err}");
    assert!(err.contains("cannot read bytes"), "{err}");
}

/// A trace with compressed fields (zstd in frames by `flow-models compress`, a gzip field of
/// the CLI) on the cluster: the executors decompress it and give the plain trace's answers;
/// `COPY … OPTIONS ('compression' 'zstd')` run by an executor writes a compressed trace.
#[test]
fn compressed_traces_run_on_the_cluster_as_locally() {
    let tmp = tempfile::tempdir().unwrap();
    let sample = repo("examples/data/sample");
    let packed = tmp.path().join("packed");
    std::fs::create_dir(&packed).unwrap();
    for e in std::fs::read_dir(&sample).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), packed.join(e.file_name())).unwrap();
    }
    let p = packed.to_str().unwrap().to_string();
    let o = common::flow_models(&[
        "compress",
        "--frame-rows",
        "5000",
        &p,
        "octets",
        "packets",
        "first",
        "sp",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    match Command::new("gzip").arg(packed.join("last.I")).output() {
        Ok(o) => assert!(o.status.success(), "{}", text(&o.stderr)),
        Err(_) => eprintln!("the gzip CLI is not installed (.ci/setup installs it): zstd only"),
    }
    let cluster = start();
    let queries = |t: &str| {
        [
            format!(
                "SELECT count(*), sum(packets), sum(octets), min(first), max(last), sum(sp) \
                 FROM flowbin('{t}')"
            ),
            format!(
                "SELECT prot, count(*), sum(octets), max(last) FROM flowbin('{t}') GROUP BY prot \
                 ORDER BY prot"
            ),
            format!("SELECT * FROM flow_hist('{t}', 'size', 12, 'duration')"),
        ]
    };
    for (q, plain) in queries(&p).iter().zip(queries(&sample)) {
        cluster.answers_as_locally(&[q.as_str()], &[plain.as_str()]);
    }
    let args = ["hist", "-x", "size", "-b", "12"];
    let hist = |t: &str, remote| text(&cluster.run(&[&args[..], &[t]].concat(), remote).stdout);
    assert_eq!(hist(&p, true), hist(&sample, false));
    // Written by an executor, compressed.
    let copy = tmp.path().join("copy");
    let q = format!(
        "COPY (SELECT * FROM flowbin('{p}')) TO '{}' STORED AS FLOWBIN \
         OPTIONS ('compression' 'zstd')",
        copy.display()
    );
    cluster.run(&["sql", "-q", "-c", &q], true);
    assert!(copy.join("octets.Q.zst").exists() && !copy.join("octets.Q").exists());
    let sums = |t: &str| {
        let q = format!(
            "SELECT count(*), sum(packets), sum(octets), sum(first), sum(last), sum(sp * dp) \
             FROM flowbin('{t}')"
        );
        text(&sql(&[q.as_str()], None).unwrap().stdout)
    };
    assert_eq!(sums(copy.to_str().unwrap()), sums(&sample));
}
