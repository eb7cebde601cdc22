//! Faults survived: a full disk while each writer writes (non-zero exit, the path and the
//! reason named, nothing new left behind, a previous output intact), a writer killed with
//! SIGKILL (its temporary is removed by the next write of the same target, a live writer's
//! never), and a trace replaced by rename while a query reads it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{flow_models, repo};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A tmpfs of `size` mounted on a new directory, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    /// `None` (with a message) where mounting is not allowed (not root).
    fn mount(size: &str) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().unwrap();
        let o = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output();
        match o {
            Ok(o) if o.status.success() => Some(SmallDisk { dir }),
            _ => {
                eprintln!("SKIPPED: cannot mount a tmpfs here (needs root): no full-disk test");
                None
            }
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Names of everything on the disk.
    fn entries(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

/// `convert` of the sample trace to a binary trace at `out`, with `extra` flags.
fn convert_sample(out: &Path, extra: &[&str]) -> std::process::Output {
    let sample = repo("examples/data/sample");
    let mut args = vec!["convert", "-i", "binary", "-o", "binary", "-O"];
    args.push(out.to_str().unwrap());
    args.extend_from_slice(extra);
    args.push(&sample);
    flow_models(&args)
}

/// Runs a writer that cannot fit on `disk` and checks how it failed.
fn fails_for_lack_of_space(disk: &SmallDisk, target: &Path, args: &[&str]) {
    let o = flow_models(args);
    let err = text(&o.stderr);
    assert!(!o.status.success(), "{args:?} succeeded on a full disk");
    assert!(err.contains("No space left on device"), "{args:?}: {err}");
    assert!(
        err.contains(&target.display().to_string()),
        "{args:?}: the message names the target: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    let _ = disk;
}

#[test]
fn a_full_disk_fails_every_writer_and_leaves_nothing() {
    let Some(disk) = SmallDisk::mount("256k") else {
        return;
    };
    let sample = repo("examples/data/sample");
    let mixtures =
        repo("flow-udfs/tests/data/mixture/reference/agh_2015061019_IPv4_anon/mixtures/all/length");
    let t = |name: &str| disk.path().join(name);
    let s = |p: &PathBuf| p.display().to_string();
    let copy = "COPY (SELECT * FROM flowbin('{in}')) TO '{out}' STORED AS FLOWBIN";
    // (target, arguments): IN is the sample trace, MIX a mixture directory, OUT the target.
    let cases: [(&str, &[&str]); 8] = [
        (
            "bin",
            &["convert", "-i", "binary", "-o", "binary", "-O", "OUT", "IN"],
        ),
        (
            "flows.csv",
            &[
                "convert", "-i", "binary", "-o", "csv_flow", "-O", "OUT", "IN",
            ],
        ),
        (
            "flows.parquet",
            &[
                "convert", "-i", "binary", "-o", "parquet", "-O", "OUT", "IN",
            ],
        ),
        (
            "merged",
            &["merge", "-i", "binary", "-o", "binary", "-O", "OUT", "IN"],
        ),
        (
            "sorted",
            &["sort", "-k", "first", "first_ms", "-O", "OUT", "IN"],
        ),
        (
            "generated",
            &[
                "generate", "-s", "100000", "--trace", "-o", "binary", "-O", "OUT", "MIX",
            ],
        ),
        (
            "size.csv",
            &[
                "hist", "-x", "size", "-b", "0", "-c", "duration", "-c", "rate", "-O", "OUT", "IN",
            ],
        ),
        ("copied", &["sql", "-q", "-c", copy]),
    ];
    let cases = cases.map(|(name, args)| {
        let target = t(name);
        let args: Vec<String> = args
            .iter()
            .map(|a| match *a {
                "IN" => sample.clone(),
                "MIX" => mixtures.clone(),
                "OUT" => s(&target),
                _ => a.replace("{in}", &sample).replace("{out}", &s(&target)),
            })
            .collect();
        (target, args)
    });
    for (target, args) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        fails_for_lack_of_space(&disk, target, &args);
        assert_eq!(
            disk.entries(),
            Vec::<String>::new(),
            "{args:?} left something"
        );
    }

    // A previous trace at the target stays whole.
    let o = convert_sample(&t("bin"), &["--count-in", "100"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let before: Vec<_> = disk.entries();
    let sums = |p: &PathBuf| {
        let sql = format!(
            "SELECT count(*), sum(octets) FROM flowbin('{}')",
            p.display()
        );
        text(&flow_models(&["sql", "-q", "--format", "csv", "-c", &sql]).stdout)
    };
    let old = sums(&t("bin"));
    assert!(old.contains("\n100,"), "{old}");
    let (target, args) = &cases[0];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    fails_for_lack_of_space(&disk, target, &args);
    assert_eq!(disk.entries(), before);
    assert_eq!(sums(&t("bin")), old);
}

/// Names in `dir` that start with `prefix`.
fn named(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .collect()
}

/// Starts a writer of a large trace at `target` and returns it once its temporary exists.
fn start_slow_writer(target: &Path) -> std::process::Child {
    let mixtures =
        repo("flow-udfs/tests/data/mixture/reference/agh_2015061019_IPv4_anon/mixtures/all/length");
    let child = Command::new(env!("CARGO_BIN_EXE_flow-models"))
        .args([
            "generate", "-s", "3000000", "--trace", "--seed", "1", "-o", "binary", "-O",
        ])
        .arg(target)
        .arg(mixtures)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let parent = target.parent().unwrap();
    let start = Instant::now();
    while named(parent, ".t.tmp-").is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no temporary appeared"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child
}

#[test]
fn a_killed_writer_leaves_a_temporary_that_the_next_write_removes() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("t");
    let convert = |target: &Path| {
        let o = convert_sample(target, &[]);
        assert!(o.status.success(), "{}", text(&o.stderr));
    };

    // A live writer's temporary is left alone by another write of the same target.
    let mut live = start_slow_writer(&target);
    let temporary = named(tmp.path(), ".t.tmp-");
    convert(&target);
    assert_eq!(
        named(tmp.path(), ".t.tmp-"),
        temporary,
        "a live writer's work was removed"
    );

    // Killed (SIGKILL), it leaves its temporary behind...
    live.kill().unwrap();
    live.wait().unwrap();
    assert_eq!(named(tmp.path(), ".t.tmp-"), temporary);
    // ...which the next write of the same target removes; the target is complete.
    convert(&target);
    assert_eq!(named(tmp.path(), ".t.tmp-"), Vec::<PathBuf>::new());
    let sql = format!("SELECT count(*) FROM flowbin('{}')", target.display());
    let o = flow_models(&["sql", "-q", "--format", "csv", "-c", &sql]);
    assert_eq!(text(&o.stdout), "count(*)\n50000\n");
}
