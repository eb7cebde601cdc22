//! Faults of object-store reads, against a real S3 API server on 127.0.0.1 (`s3s-fs`, or
//! `moto_server`; skipped with a message when neither is there), for every source that reads
//! a store today: csv_flow, pipe, Parquet and nfcapd, by SQL and by `hist`. Every failure is
//! exit code 1, no panic, no result row.
//!
//! - Wrong credentials, a missing bucket, a missing key: an error naming the `s3://` URL
//!   (beside `object_store.rs`'s three cases: every source, both ways in), except a Parquet
//!   table of `CREATE EXTERNAL TABLE`, whose DataFusion message names the failed request.
//! - A network error mid-read, made by a TCP relay between the tool and the server (a fault
//!   injector in front of the real server, not a mock of S3): a connection cut in the middle of
//!   a response body that a retry gets past gives exactly the local answer (object_store
//!   resumes the GET from the byte it had reached); a server that goes away mid-read (every
//!   connection cut from then on) ends in an error after object_store's 10 retries, never in a
//!   smaller count. The message names the failed request (`GET http://…/flows/KEY`).
//! - A truncated object fails as the same file cut on disk does, for the same reason (text cut
//!   mid-line: the line; Parquet: the footer; nfcapd: the block, and `--skip-corrupt` skips
//!   it), the object named by its key; text cut where a line may end reads what is there.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

mod common;
use common::repo;
#[path = "common/s3.rs"]
mod s3;
use s3::{S3Server, start, text};

/// A source as it is read from the store: its `hist -i` format, its table function (`None`:
/// Parquet, read by `CREATE EXTERNAL TABLE`), a local file and the key it is uploaded as.
struct Source {
    format: &'static str,
    function: Option<&'static str>,
    file: PathBuf,
    key: &'static str,
}

impl Source {
    fn url(&self) -> String {
        format!("s3://{}/{}", s3::BUCKET, self.key)
    }

    /// `sql` counting and summing the flows at `location`.
    fn sql(&self, location: &str) -> Vec<String> {
        let sums = "SELECT count(*), sum(packets), sum(octets), sum(first) FROM";
        let query = match self.function {
            Some(f) => format!("{sums} {f}('{location}')"),
            None => {
                format!("CREATE EXTERNAL TABLE t STORED AS PARQUET LOCATION '{location}'; {sums} t")
            }
        };
        ["sql", "-q", "--format", "csv", "-c", &query]
            .map(String::from)
            .to_vec()
    }

    /// `hist -x size -b 6` of `location`.
    fn hist(&self, location: &str) -> Vec<String> {
        ["hist", "-i", self.format, "-x", "size", "-b", "6", location]
            .map(String::from)
            .to_vec()
    }
}

/// The four sources, made in `dir` (csv_flow and Parquet from the 50 000-record sample trace:
/// 5.6 MB and 1.3 MB; the nfcapd and pipe fixtures, 15 KB and 45 KB) and uploaded to `s3`.
fn sources(s3: &S3Server, dir: &Path) -> Vec<Source> {
    let sample = repo("examples/data/sample");
    let csv = dir.join("sample.csv");
    let parquet = dir.join("sample.parquet");
    for (format, out) in [("csv_flow", &csv), ("parquet", &parquet)] {
        let o = common::flow_models(&[
            "convert",
            "-i",
            "binary",
            "-o",
            format,
            "-O",
            out.to_str().unwrap(),
            &sample,
        ]);
        assert!(o.status.success(), "{}", text(&o.stderr));
    }
    let all = vec![
        Source {
            format: "csv_flow",
            function: Some("csv_flow"),
            file: csv,
            key: "text/sample.csv",
        },
        Source {
            format: "pipe",
            function: Some("pipe"),
            file: repo("tests/data/pipe/nf171_sfipfix.pipe").into(),
            key: "pipe/flows.pipe",
        },
        Source {
            format: "parquet",
            function: None,
            file: parquet,
            key: "pq/sample.parquet",
        },
        Source {
            format: "nfcapd",
            function: Some("nfcapd"),
            file: repo("tests/data/nfcapd/nf1622_sfv5_mixed_none.nfcapd").into(),
            key: "nfcapd/nfcapd.202401010000",
        },
    ];
    for s in &all {
        s3.upload(&s.file, s.key);
    }
    all
}

/// Runs `flow-models` with the store at `endpoint` and the given credentials.
fn run_at(endpoint: &str, key_id: &str, secret: &str, args: &[String]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flow-models"))
        .args(args)
        .env("AWS_ACCESS_KEY_ID", key_id)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ALLOW_HTTP", "true")
        .output()
        .unwrap()
}

fn local(args: &[String]) -> Output {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    common::flow_models(&args)
}

/// Checks that `o` is a failure of the whole command (exit code 1, nothing on standard
/// output, no panic) whose message contains each of `names`; returns the message.
fn failed(o: &Output, args: &[String], names: &[&str]) -> String {
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{args:?}: {err}");
    // `sql` prints its header before the first batch, and no row after an error.
    let out = text(&o.stdout);
    assert!(
        out.lines().count() <= 1,
        "{args:?}: a result printed: {out}"
    );
    for name in names {
        assert!(
            err.contains(name),
            "{args:?}: the message names {name}: {err}"
        );
    }
    err
}

/// Every source, by SQL and by `hist`. The exception, kept visible here: a Parquet table made
/// by `CREATE EXTERNAL TABLE` gets DataFusion's own message, which names the failed request
/// (`GET http://…/no-such-bucket?list-type=2&prefix=pq%2F…`, `HEAD http://…/flows/pq/…`)
/// rather than the `s3://` URL.
#[test]
fn wrong_credentials_missing_buckets_and_keys_are_errors_naming_the_url() {
    let Some(s3) = start() else { return };
    let dir = tempfile::tempdir().unwrap();
    for s in sources(&s3, dir.path()) {
        let by_datafusion = |args: &[String]| s.function.is_none() && args[0] == "sql";
        let file = s.key.rsplit('/').next().unwrap();
        let missing_key = format!("s3://{}/missing/{file}", s3::BUCKET);
        let missing_bucket = format!("s3://no-such-bucket/{}", s.key);
        for args in [s.sql(&missing_key), s.hist(&missing_key)] {
            let o = run_at(&s3.endpoint, "test", "testsecret", &args);
            failed(&o, &args, &[&missing_key]);
        }
        for args in [s.sql(&missing_bucket), s.hist(&missing_bucket)] {
            let o = run_at(&s3.endpoint, "test", "testsecret", &args);
            let name = if by_datafusion(&args) {
                "/no-such-bucket?"
            } else {
                &missing_bucket
            };
            let err = failed(&o, &args, &[name]);
            assert!(err.contains("NoSuchBucket"), "{args:?}: {err}");
        }
        if !s3.checks_keys {
            eprintln!("skipped wrong keys: moto_server accepts any (s3s-fs checks them)");
            continue;
        }
        let url = s.url();
        let request = format!("/{}/{}", s3::BUCKET, s.key);
        for (key_id, secret) in [("test", "wrong"), ("nobody", "testsecret")] {
            for args in [s.sql(&url), s.hist(&url)] {
                let o = run_at(&s3.endpoint, key_id, secret, &args);
                let name = if by_datafusion(&args) { &request } else { &url };
                let err = failed(&o, &args, &[name]);
                assert!(err.contains("403 Forbidden"), "{args:?}: {err}");
            }
        }
    }
}

/// What the relay does to the responses it passes on.
enum Fault {
    /// The first `cuts` connections whose responses pass `after` bytes are cut there; the
    /// rest are relayed whole.
    Cut { after: usize, cuts: usize },
    /// After `budget` bytes of responses in all, every connection is cut and new ones are
    /// closed as they come: the server has gone away.
    Die { budget: usize },
}

/// A TCP relay from a port of 127.0.0.1 to the S3 server, injecting a [`Fault`] into the
/// responses; stopped when dropped.
struct Relay {
    endpoint: String,
    /// Connections cut so far.
    cut: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

struct RelayState {
    fault: Fault,
    cut: Arc<AtomicUsize>,
    /// Response bytes passed on, over all connections.
    total: AtomicUsize,
    dead: AtomicBool,
}

impl RelayState {
    /// How many of the `n` bytes just read from the server may pass on a connection that has
    /// passed `seen` (fewer than `n`: the connection is cut after them). `spared`: this
    /// connection passed the cut point when no cut was left, so it is never cut.
    fn allow(&self, seen: usize, n: usize, spared: &mut bool) -> usize {
        match self.fault {
            Fault::Cut { after, cuts } => {
                if *spared || seen + n <= after {
                    return n;
                }
                let claimed = self
                    .cut
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |c| {
                        (c < cuts).then_some(c + 1)
                    })
                    .is_ok();
                if claimed {
                    after.saturating_sub(seen)
                } else {
                    *spared = true;
                    n
                }
            }
            Fault::Die { budget } => {
                if self.dead.load(Ordering::SeqCst) {
                    return 0;
                }
                let before = self.total.fetch_add(n, Ordering::SeqCst);
                if before + n <= budget {
                    return n;
                }
                if !self.dead.swap(true, Ordering::SeqCst) {
                    self.cut.fetch_add(1, Ordering::SeqCst);
                }
                budget.saturating_sub(before)
            }
        }
    }
}

impl Relay {
    fn start(server: &str, fault: Fault) -> Relay {
        let upstream = server.trim_start_matches("http://").to_string();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let cut = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let state = Arc::new(RelayState {
            fault,
            cut: cut.clone(),
            total: AtomicUsize::new(0),
            dead: AtomicBool::new(false),
        });
        let stopped = stop.clone();
        std::thread::spawn(move || {
            while !stopped.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => {
                        if state.dead.load(Ordering::SeqCst) {
                            let _ = client.shutdown(Shutdown::Both);
                            continue;
                        }
                        client.set_nonblocking(false).unwrap();
                        let Ok(server) = TcpStream::connect(&upstream) else {
                            continue;
                        };
                        relay_connection(client, server, state.clone());
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        Relay {
            endpoint,
            cut,
            stop,
        }
    }

    fn cuts(&self) -> usize {
        self.cut.load(Ordering::SeqCst)
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Requests pass as they are; responses through [`RelayState::allow`]; a cut shuts down both
/// sockets (the client sees the connection end in the middle of a body).
fn relay_connection(client: TcpStream, server: TcpStream, state: Arc<RelayState>) {
    let (mut client_in, mut server_out) =
        (client.try_clone().unwrap(), server.try_clone().unwrap());
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut client_in, &mut server_out);
        let _ = server_out.shutdown(Shutdown::Write);
    });
    std::thread::spawn(move || {
        let (mut from, mut to) = (server, client);
        let mut buf = vec![0u8; 16 * 1024];
        let (mut seen, mut spared) = (0, false);
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let pass = state.allow(seen, n, &mut spared);
            if to.write_all(&buf[..pass]).is_err() {
                break;
            }
            seen += pass;
            if pass < n {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Both);
        let _ = from.shutdown(Shutdown::Both);
    });
}

/// Connections cut in the middle of a body, retried by object_store from where they stopped:
/// every source gives exactly its local answer, by SQL and by `hist`.
#[test]
fn a_connection_cut_mid_read_and_retried_gives_the_local_answer() {
    let Some(s3) = start() else { return };
    let dir = tempfile::tempdir().unwrap();
    for s in sources(&s3, dir.path()) {
        let size = std::fs::metadata(&s.file).unwrap().len() as usize;
        let file = s.file.to_str().unwrap();
        for (want, args) in [
            (local(&s.sql(file)), s.sql(&s.url())),
            (local(&s.hist(file)), s.hist(&s.url())),
        ] {
            assert!(want.status.success(), "{}", text(&want.stderr));
            // Two connections cut in the middle of a body: after a quarter of the object or
            // 16 KiB (less than the smallest read of a column chunk), whichever is less.
            let after = (size / 4).min(16 << 10);
            let relay = Relay::start(&s3.endpoint, Fault::Cut { after, cuts: 2 });
            let o = run_at(&relay.endpoint, "test", "testsecret", &args);
            assert!(o.status.success(), "{args:?}: {}", text(&o.stderr));
            assert!(relay.cuts() > 0, "{args:?}: no connection was cut");
            assert_eq!(text(&o.stdout), text(&want.stdout), "{args:?}");
        }
    }
}

/// The server goes away when half of an object has been sent: every source fails, by SQL and
/// by `hist`, with exit code 1 and no result (object_store's retries, a few seconds of
/// back-off, find nothing to connect to). The message names the request that failed (`GET
/// http://…/flows/text/sample.csv … after 10 retries`): the readers do not put their URL on
/// errors of the reads themselves yet.
fn server_gone_mid_read(format: &str) {
    let Some(s3) = start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let sources = sources(&s3, dir.path());
    let s = sources.iter().find(|s| s.format == format).unwrap();
    let size = std::fs::metadata(&s.file).unwrap().len() as usize;
    let request = format!("/{}/{}", s3::BUCKET, s.key);
    for args in [s.sql(&s.url()), s.hist(&s.url())] {
        let relay = Relay::start(&s3.endpoint, Fault::Die { budget: size / 2 });
        let o = run_at(&relay.endpoint, "test", "testsecret", &args);
        assert!(relay.cuts() > 0, "{args:?}: the server never went away");
        // "after N retries": N is 10, or fewer when object_store's retry budget ran out.
        failed(&o, &args, &[&request, "retries"]);
    }
}

#[test]
fn csv_flow_server_gone_mid_read_is_an_error() {
    server_gone_mid_read("csv_flow");
}

#[test]
fn pipe_server_gone_mid_read_is_an_error() {
    server_gone_mid_read("pipe");
}

#[test]
fn parquet_server_gone_mid_read_is_an_error() {
    server_gone_mid_read("parquet");
}

#[test]
fn nfcapd_server_gone_mid_read_is_an_error() {
    server_gone_mid_read("nfcapd");
}

/// `bytes` cut in the middle: for text, in the middle of a line (neither just after a newline
/// nor just before one).
fn cut_in_the_middle(bytes: &[u8], text: bool) -> &[u8] {
    let mut cut = bytes.len() / 2;
    while text && (bytes[cut - 1] == b'\n' || bytes[cut] == b'\n' || bytes[cut + 1] == b'\n') {
        cut += 1;
    }
    &bytes[..cut]
}

/// Objects cut in the middle read as the same files cut on disk: exit code 1, no result, the
/// same reason. csv_flow and pipe cut inside a line: "line N: expected 21 comma-separated
/// fields, found K" (or the field that is not a number; "the line at byte B" when the file is
/// split into ranges and the range that reads the line is not the first); Parquet: "Corrupt footer"; nfcapd:
/// "truncated block", and with `--skip-corrupt` the cut block is skipped and counted, as on
/// disk. The message names the object by its URL (`s3://flows/cut/sample.csv`), as it names a
/// local file by its path; a Parquet table made by `CREATE EXTERNAL TABLE` gets DataFusion's
/// message, which names no file on disk either.
#[test]
fn truncated_objects_read_as_truncated_files() {
    let Some(s3) = start() else { return };
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("cut")).unwrap();
    for s in sources(&s3, dir.path()) {
        let bytes = std::fs::read(&s.file).unwrap();
        let is_text = matches!(s.format, "csv_flow" | "pipe");
        let key = format!("cut/{}", s.key.rsplit('/').next().unwrap());
        let file = dir.path().join(&key);
        let cut = cut_in_the_middle(&bytes, is_text);
        // The cut line: its number, and its byte offset (how a partition reading a later
        // range of the file names it: the file is split in two on two cores).
        let last = cut.iter().rposition(|&b| b == b'\n').map_or(0, |nl| nl + 1);
        let lines = cut.iter().filter(|&&b| b == b'\n').count() + 1;
        let cut_line = [
            format!(": line {lines}: "),
            format!(": the line at byte {last}: "),
        ];
        std::fs::write(&file, cut).unwrap();
        s3.upload(&file, &key);
        let url = format!("s3://{}/{key}", s3::BUCKET);
        let file = file.to_str().unwrap();
        let mut cases = vec![(s.sql(file), s.sql(&url)), (s.hist(file), s.hist(&url))];
        if s.format == "nfcapd" {
            let skip = |mut args: Vec<String>| {
                args.insert(3, "--skip-corrupt".into());
                args
            };
            let (on_disk, remote) = (skip(s.hist(file)), skip(s.hist(&url)));
            let want = local(&on_disk);
            let got = run_at(&s3.endpoint, "test", "testsecret", &remote);
            assert!(got.status.success(), "{remote:?}: {}", text(&got.stderr));
            assert_eq!(text(&got.stdout), text(&want.stdout), "{remote:?}");
            assert!(
                text(&got.stderr).contains("skipped"),
                "{}",
                text(&got.stderr)
            );
            cases.truncate(1);
        }
        for (on_disk, remote) in cases {
            let want = local(&on_disk);
            let got = run_at(&s3.endpoint, "test", "testsecret", &remote);
            let want_err = failed(&want, &on_disk, &[]);
            let named_by_datafusion = s.function.is_none() && remote[0] == "sql";
            let names: &[&str] = if named_by_datafusion { &[] } else { &[&url] };
            let err = failed(&got, &remote, names);
            // The reason, after the name of the file or object.
            let reason = |e: &str| e.rsplit(key.as_str()).next().unwrap().to_string();
            assert_eq!(reason(&err), reason(&want_err), "{remote:?}");
            let expected = match s.format {
                "csv_flow" => "expected 21 comma-separated fields, found 9",
                "pipe" => "-separated fields, found",
                "parquet" => "Invalid Parquet file. Corrupt footer",
                _ => "truncated block",
            };
            assert!(err.contains(expected), "{remote:?}: {err}");
            if is_text {
                assert!(
                    cut_line.iter().any(|l| err.contains(l)),
                    "{remote:?}: {err}"
                );
            }
        }
    }
}

/// What a text object cut at a place a line may end reads as: there is no end marker in
/// csv_flow or pipe, so a cut at the end of a line reads the lines before it, and a cut inside
/// the digits of the last field reads the shorter number; a cut that leaves the last field
/// empty is an error.
#[test]
fn text_objects_cut_where_a_line_may_end() {
    let Some(s3) = start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let line = |aggs: &str| {
        format!(
            "2, 6, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 80, 1024, 1433930400, 0, 1433930401, 0, 3, 180, {aggs}"
        )
    };
    let whole = format!("{}\n{}\n", line("1"), line("12"));
    let sums = |key: &str| {
        let q =
            format!("SELECT count(*), sum(packets), sum(aggs) FROM csv_flow('s3://flows/{key}')");
        run_at(
            &s3.endpoint,
            "test",
            "testsecret",
            &["sql", "-q", "--format", "csv", "-c", &q].map(String::from),
        )
    };
    for (key, bytes, want) in [
        ("whole.csv", whole.clone(), Some("2,6,13")),
        (
            "no-newline.csv",
            whole.trim_end().to_string(),
            Some("2,6,13"),
        ),
        ("line-end.csv", format!("{}\n", line("1")), Some("1,3,1")),
        (
            "in-last-field.csv",
            whole[..whole.len() - 2].to_string(),
            Some("2,6,2"),
        ),
        (
            "last-field-empty.csv",
            whole[..whole.len() - 3].to_string(),
            None,
        ),
    ] {
        let file = dir.path().join(key);
        std::fs::write(&file, bytes).unwrap();
        s3.upload(&file, key);
        let o = sums(key);
        match want {
            Some(want) => {
                assert!(o.status.success(), "{key}: {}", text(&o.stderr));
                assert_eq!(text(&o.stdout).lines().nth(1), Some(want), "{key}");
            }
            None => {
                let err = text(&o.stderr);
                assert_eq!(o.status.code(), Some(1), "{key}: {err}");
                assert!(
                    err.contains(&format!("{key}: line 2: field 21 is ''")),
                    "{key}: {err}"
                );
            }
        }
    }
}
