//! flow-models on a Ballista cluster, started by the test on 127.0.0.1 from our own binary: a
//! scheduler and two executors (`flow-models scheduler`, `flow-models executor`). Queries sent
//! with `sql --remote df://…` give exactly the local answers, the executors did the work (their
//! shuffle files), and once every executor is gone a query fails with a clear error.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::repo;

/// A process of the cluster, killed when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Starts `flow-models args`, its log (stderr) in `log`.
fn spawn(args: &[&str], log: &Path) -> Process {
    let child = Command::new(env!("CARGO_BIN_EXE_flow-models"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    Process(child)
}

fn wait_for(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{what} did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
}

struct Cluster {
    url: String,
    executors: Vec<(Process, tempfile::TempDir)>,
    _scheduler: Process,
    logs: tempfile::TempDir,
}

impl Cluster {
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

/// A scheduler (executors silent for 5 s are gone) and two executors of 2 task slots each.
fn start() -> Cluster {
    let logs = tempfile::tempdir().unwrap();
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let scheduler = spawn(
        &["scheduler", "--bind", &bind, "--executor-timeout", "5"],
        &logs.path().join("scheduler"),
    );
    wait_for(port, "the scheduler");
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
                    "2",
                    "--work-dir",
                    dir.path().to_str().unwrap(),
                ],
                &logs.path().join(format!("executor-{i}")),
            );
            wait_for(flight, "an executor");
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

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `sql -q --format csv -c query` started, on the cluster at `url` or locally.
fn start_sql(query: &str, remote: Option<&str>) -> Child {
    let mut c = Command::new(env!("CARGO_BIN_EXE_flow-models"));
    c.args(["sql", "-q", "--format", "csv", "-c", query]);
    if let Some(url) = remote {
        c.args(["--remote", url]);
    }
    c.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// What `child` printed, once it exits; `None` (and killed) after a minute.
fn finish(mut child: Child) -> Option<Output> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(child.wait_with_output().unwrap())
}

fn sql(query: &str, remote: Option<&str>) -> Option<Output> {
    finish(start_sql(query, remote))
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
    ];
    for q in &queries {
        let want = sql(q, None).unwrap();
        assert!(want.status.success(), "{q}: {}", text(&want.stderr));
        assert!(text(&want.stdout).lines().count() > 1, "{q}");
        let got = sql(q, Some(&cluster.url));
        let got = got.unwrap_or_else(|| panic!("{q}: no answer in a minute\n{}", cluster.logs()));
        assert!(
            got.status.success(),
            "{q}: {}\n{}",
            text(&got.stderr),
            cluster.logs()
        );
        assert_eq!(text(&got.stdout), text(&want.stdout), "{q} on the cluster");
    }
    // The executors ran the stages: their shuffle files are in their work directories.
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
    let running = start_sql(&slow, Some(&cluster.url));
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
