//! Traces with fields compressed one by one (issue 26): fields compressed by the real CLI
//! tools (`zstd gzip xz bzip2 lz4`) read as the plain trace reads (sums, hist byte for byte,
//! merge and sort outputs); `compress` / `decompress` round trips byte for byte and files the
//! CLI tools decompress; writers that compress; zstd frames split over partitions and nothing
//! decompressed for `count(*)`; kills during `compress` never give a wrong answer; bad files
//! are errors naming them.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::{files, flow_models, ok, repo, text};

/// The sample trace copied to `dir/name`.
fn sample_copy(dir: &Path, name: &str) -> PathBuf {
    let to = dir.join(name);
    fs::create_dir(&to).unwrap();
    for e in fs::read_dir(repo("examples/data/sample")).unwrap() {
        let e = e.unwrap();
        fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
    to
}

/// Whether the CLI `tool` runs here (else a message: the test is skipped).
fn have(tool: &str) -> bool {
    let found = Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("skipped: the {tool} CLI is not installed (.ci/setup installs it)");
    }
    found
}

/// Runs `cmd` (a CLI compressor) and checks it succeeded.
fn sh(cmd: &mut Command) {
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "{cmd:?}: {}", text(&o.stderr));
}

/// Every sum and extreme of every column, the row count: equal text means equal columns.
fn sums(trace: &Path) -> String {
    let cols = [
        "af", "prot", "inif", "outif", "sa0", "sa1", "sa2", "sa3", "da0", "da1", "da2", "da3",
        "sp", "dp", "first", "first_ms", "last", "last_ms", "packets", "octets", "aggs",
    ];
    let exprs: Vec<String> = cols
        .iter()
        .map(|c| format!("sum({c}), min({c}), max({c})"))
        .collect();
    let sql = format!(
        "SELECT count(*), {} FROM flowbin('{}')",
        exprs.join(", "),
        trace.display()
    );
    ok(&["sql", "--format", "csv", "-c", &sql])
}

/// What `args` print, for the plain and the compressed trace, must be the same.
fn same_output(args: &[&str], plain: &Path, packed: &Path) {
    let with = |t: &Path| ok(&[args, &[t.to_str().unwrap()]].concat());
    assert_eq!(with(plain), with(packed), "{args:?}");
}

#[test]
fn fields_compressed_by_the_cli_tools_read_as_the_plain_trace() {
    let tools = ["zstd", "gzip", "xz", "bzip2", "lz4"];
    if !tools.iter().all(|t| have(t)) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let plain = sample_copy(tmp.path(), "plain");
    let packed = sample_copy(tmp.path(), "packed");
    let p = |name: &str| packed.join(name);
    sh(Command::new("zstd").args(["-q", "--rm"]).arg(p("octets.Q")));
    sh(Command::new("gzip").arg(p("packets.Q")));
    sh(Command::new("xz").arg(p("first.I")));
    sh(Command::new("bzip2").arg(p("last.I")));
    sh(Command::new("lz4")
        .args(["-q", "--rm"])
        .arg(p("first_ms.H"))
        .arg(p("first_ms.H.lz4")));
    for name in [
        "octets.Q.zst",
        "packets.Q.gz",
        "first.I.xz",
        "last.I.bz2",
        "first_ms.H.lz4",
    ] {
        assert!(p(name).exists(), "{name}");
    }
    assert!(!p("octets.Q").exists());
    assert_eq!(sums(&plain), sums(&packed));
    same_output(&["hist", "-x", "size", "-b", "12"], &plain, &packed);
    same_output(&["hist", "-x", "length", "-b", "0"], &plain, &packed);
    same_output(&["hist", "-x", "duration", "-b", "8"], &plain, &packed);
    same_output(
        &["hist", "-x", "rate", "-b", "12", "-c", "aggs"],
        &plain,
        &packed,
    );
    // The same merged flows (their order follows the scan's partitions: a column in one gzip
    // member is read by one partition).
    let merged = |t: &Path| {
        let args = [
            "merge", "-I", "15", "-A", "300", "-o", "csv_flow", "-O", "-",
        ];
        let out = ok(&[&args[..], &[t.to_str().unwrap()]].concat());
        let mut lines: Vec<String> = out.lines().map(str::to_string).collect();
        lines.sort();
        lines
    };
    let plain_merged = merged(&plain);
    assert_eq!(plain_merged.len(), 44750);
    assert_eq!(plain_merged, merged(&packed));
    // sort holds the compressed columns in memory; its output trace is plain.
    let sorted = |t: &Path, out: &str| {
        let out = tmp.path().join(out);
        ok(&[
            "sort",
            "-k",
            "octets",
            "first",
            "-O",
            out.to_str().unwrap(),
            t.to_str().unwrap(),
        ]);
        files(&out)
    };
    assert_eq!(sorted(&plain, "s1"), sorted(&packed, "s2"));
    // Under a memory limit the sort is DataFusion's (spilling), reading through the scan.
    let spilled = tmp.path().join("s3");
    let args = [
        "sort",
        "--memory-limit",
        "64M",
        "-k",
        "octets",
        "first",
        "-O",
    ];
    ok(&[
        &args[..],
        &[spilled.to_str().unwrap(), packed.to_str().unwrap()],
    ]
    .concat());
    assert_eq!(files(&spilled), sorted(&plain, "s4"));
    // cut writes the range of a compressed field as a plain file.
    let cut = tmp.path().join("cut");
    let args = [
        "cut",
        "-i",
        "binary",
        "-o",
        "binary",
        "--skip-in",
        "7",
        "--count-in",
        "100",
    ];
    ok(&[
        &args[..],
        &["-O", cut.to_str().unwrap(), packed.to_str().unwrap()],
    ]
    .concat());
    let whole = fs::read(plain.join("octets.Q")).unwrap();
    assert_eq!(
        fs::read(cut.join("octets.Q")).unwrap(),
        whole[7 * 8..107 * 8]
    );
    // SQL tables over the directory read it too.
    let sql = format!(
        "CREATE EXTERNAL TABLE t STORED AS FLOWBIN LOCATION '{}'; \
         SELECT sum(octets), sum(packets), sum(first), sum(last), sum(first_ms) FROM t",
        packed.display()
    );
    let plain_sql = sql.replace("packed", "plain");
    let run = |s: &str| ok(&["sql", "--format", "csv", "-c", s]);
    assert_eq!(run(&sql), run(&plain_sql));
}

#[test]
fn compress_and_decompress_round_trip_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let original = files(Path::new(&repo("examples/data/sample")));
    for (codec, ext, cli) in [
        ("zstd", "zst", ["zstd", "-dc"]),
        ("gz", "gz", ["gzip", "-dc"]),
        ("xz", "xz", ["xz", "-dc"]),
        ("bz2", "bz2", ["bzip2", "-dc"]),
        ("lz4", "lz4", ["lz4", "-dc"]),
    ] {
        let trace = sample_copy(tmp.path(), codec);
        let t = trace.to_str().unwrap();
        // frames of 7000 rows: several per column, compressed in parallel, in order
        let out = flow_models(&["compress", "--codec", codec, "--frame-rows", "7000", t]);
        assert!(out.status.success(), "{codec}: {}", text(&out.stderr));
        let names: Vec<String> = files(&trace).into_iter().map(|(n, _)| n).collect();
        assert!(
            names.iter().all(|n| n.ends_with(&format!(".{ext}"))),
            "{codec}: {names:?}"
        );
        assert_eq!(names.len(), original.len());
        assert_eq!(sums(&trace), sums(Path::new(&repo("examples/data/sample"))));
        // The files are those of the CLI tool: it decompresses them as they are.
        if have(cli[0]) {
            let o = Command::new(cli[0])
                .arg(cli[1])
                .arg(trace.join(format!("octets.Q.{ext}")))
                .output()
                .unwrap();
            assert!(o.status.success(), "{codec}: {}", text(&o.stderr));
            assert_eq!(
                o.stdout,
                original.iter().find(|f| f.0 == "octets.Q").unwrap().1
            );
        }
        let out = flow_models(&["decompress", t]);
        assert!(out.status.success(), "{codec}: {}", text(&out.stderr));
        assert_eq!(files(&trace), original, "{codec}");
    }
    // Named fields only; a second run has nothing to do.
    let trace = sample_copy(tmp.path(), "some");
    let t = trace.to_str().unwrap();
    ok(&["compress", t, "octets", "packets"]);
    let names: Vec<String> = files(&trace).into_iter().map(|(n, _)| n).collect();
    assert!(names.contains(&"octets.Q.zst".to_string()));
    assert!(names.contains(&"first.I".to_string()));
    let again = flow_models(&["compress", t, "octets"]);
    assert!(text(&again.stderr).contains("nothing to do"));
    let nope = flow_models(&["compress", t, "nope"]);
    assert!(!nope.status.success());
    assert!(text(&nope.stderr).contains("no field 'nope'"));
}

/// `EXPLAIN ANALYZE` of `sql`: the scan's metrics.
fn scan_metrics(sql: &str) -> String {
    ok(&[
        "sql",
        "--format",
        "csv",
        "-c",
        &format!("EXPLAIN ANALYZE {sql}"),
    ])
}

fn metric(plan: &str, name: &str) -> Vec<String> {
    plan.split(&format!("{name}="))
        .skip(1)
        .map(|s| s.split([',', ']']).next().unwrap().trim().to_string())
        .collect()
}

#[test]
fn frames_split_over_partitions_and_count_decompresses_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let trace = sample_copy(tmp.path(), "t");
    let t = trace.to_str().unwrap();
    ok(&["compress", "--frame-rows", "5000", t]);
    let plain = repo("examples/data/sample");
    // count(*) from the frame headers: exact statistics, no scan at all.
    let count = scan_metrics(&format!("SELECT count(*) FROM flowbin('{t}')"));
    assert!(count.contains("50000 as count(*)"), "{count}");
    assert!(!count.contains("DataSourceExec"), "{count}");
    // Two partitions, each starting at its frame; every projected byte decompressed once.
    let sql = |t: &str| format!("SELECT sum(octets), sum(packets) FROM flowbin('{t}')");
    let plan = scan_metrics(&sql(t));
    assert!(plan.contains("file_groups={2 groups"), "{plan}");
    assert_eq!(metric(&plan, "bytes_decompressed"), ["800.0 K"], "{plan}");
    let run = |s: &str| ok(&["sql", "--format", "csv", "-c", s]);
    assert_eq!(run(&sql(t)), run(&sql(&plain)));
    // LIMIT decompresses the frame it needs (5000 rows of 8 bytes), not the column.
    let limit = scan_metrics(&format!("SELECT octets FROM flowbin('{t}') LIMIT 10"));
    assert_eq!(metric(&limit, "bytes_decompressed"), ["40.00 K"], "{limit}");
    // Our xz (a stream per frame), lz4 (frames with their sizes) and gzip (members with
    // their length in an extra field, gathered into frames of 256 KiB+) split the same way.
    for codec in ["xz", "lz4", "gz"] {
        let c = sample_copy(tmp.path(), codec);
        let c = c.to_str().unwrap();
        ok(&[
            "compress",
            "--codec",
            codec,
            "--frame-rows",
            "5000",
            c,
            "octets",
            "packets",
        ]);
        let plan = scan_metrics(&sql(c));
        assert!(plan.contains("file_groups={2 groups"), "{codec}: {plan}");
        assert_eq!(
            metric(&plan, "bytes_decompressed"),
            ["800.0 K"],
            "{codec}: {plan}"
        );
        assert_eq!(run(&sql(c)), run(&sql(&plain)), "{codec}");
    }
    // A column in one gzip member is read by one partition, from its start.
    let gz = sample_copy(tmp.path(), "gzip-cli");
    sh(Command::new("gzip").arg(gz.join("octets.Q")));
    let plan = scan_metrics(&sql(gz.to_str().unwrap()));
    assert!(plan.contains("file_groups={1 group"), "{plan}");
    assert_eq!(run(&sql(gz.to_str().unwrap())), run(&sql(&plain)));
}

/// Files of the parallel CLI tools: `xz -T2 --block-size` (one stream of many blocks) and
/// `bgzip` (BGZF members) are split by block/member (their indexes and headers say the sizes);
/// `pbzip2` (a stream per block, sizes unknown) is read by one partition, its streams decoded
/// ahead on all cores. Every answer is the plain trace's.
#[test]
fn files_of_parallel_cli_tools_split_or_decode_ahead() {
    if !["xz", "bgzip", "pbzip2"].iter().all(|t| have(t)) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let plain = repo("examples/data/sample");
    let trace = sample_copy(tmp.path(), "t");
    let t = trace.to_str().unwrap();
    // 400 000 bytes each: 7 xz blocks, 2 BGZF frames of 256 KiB+, 4 bzip2 streams.
    sh(Command::new("xz")
        .args(["-T2", "--block-size=65536"])
        .arg(trace.join("octets.Q")));
    sh(Command::new("bgzip").arg(trace.join("packets.Q")));
    sh(Command::new("pbzip2")
        .args(["-b1", "-p2"])
        .arg(trace.join("first.I")));
    sh(Command::new("pbzip2")
        .args(["-b1", "-p2"])
        .arg(trace.join("last.I")));
    for (file, codec) in [
        ("octets.Q.xz", "xz"),
        ("packets.Q.gz", "gz"),
        ("first.I.bz2", ""),
    ] {
        assert!(trace.join(file).exists(), "{codec}: {file}");
    }
    assert_eq!(sums(&trace), sums(Path::new(&plain)));
    same_output(
        &["hist", "-x", "size", "-b", "12"],
        Path::new(&plain),
        &trace,
    );
    let run = |s: &str| ok(&["sql", "--format", "csv", "-c", s]);
    for (column, groups) in [
        ("octets", 2),
        ("packets", 2),
        ("first", 1),
        ("octets + last", 1),
    ] {
        let sql = |t: &str| format!("SELECT sum({column}), max({column}) FROM flowbin('{t}')");
        let plan = scan_metrics(&sql(t));
        let want = format!("file_groups={{{groups} group");
        assert!(plan.contains(&want), "{column}: {plan}");
        assert_eq!(run(&sql(t)), run(&sql(&plain)), "{column}");
    }
    // xz and bgzip files tell their length: count(*) reads nothing.
    let only = sample_copy(tmp.path(), "only");
    for name in ["octets.Q", "packets.Q"] {
        fs::remove_file(only.join(name)).unwrap();
    }
    for e in fs::read_dir(&only).unwrap() {
        let path = e.unwrap().path();
        if !path.ends_with("af.B") {
            fs::remove_file(path).unwrap();
        }
    }
    sh(Command::new("xz")
        .arg("-T2")
        .arg("--block-size=8192")
        .arg(only.join("af.B")));
    let count = scan_metrics(&format!(
        "SELECT count(*) FROM flowbin('{}')",
        only.display()
    ));
    assert!(
        count.contains("50000 as count(*)") && !count.contains("DataSourceExec"),
        "{count}"
    );
}

#[test]
fn writers_compress_their_traces() {
    let tmp = tempfile::tempdir().unwrap();
    let plain = repo("examples/data/sample");
    let conv = tmp.path().join("conv");
    let c = conv.to_str().unwrap();
    ok(&[
        "convert",
        "-i",
        "binary",
        "-o",
        "binary",
        "--compress",
        "xz",
        "-O",
        c,
        &plain,
    ]);
    assert!(conv.join("octets.Q.xz").exists() && !conv.join("octets.Q").exists());
    assert_eq!(sums(&conv), sums(Path::new(&plain)));
    let copy = tmp.path().join("copy");
    ok(&[
        "sql",
        "-c",
        &format!(
            "COPY (SELECT * FROM flowbin('{plain}')) TO '{}' STORED AS FLOWBIN \
             OPTIONS ('compression' 'zstd', 'compression_level' '9')",
            copy.display()
        ),
    ]);
    assert!(copy.join("packets.Q.zst").exists());
    assert_eq!(sums(&copy), sums(Path::new(&plain)));
    let bad = flow_models(&[
        "convert",
        "-i",
        "binary",
        "-o",
        "csv_flow",
        "--compress",
        "zstd",
        "-O",
        "-",
        &plain,
    ]);
    assert!(text(&bad.stderr).contains("--compress applies to -o binary only"));
}

/// An error (not a panic) whose message contains every one of `needles`.
fn fails_with(trace: &Path, needles: &[&str]) {
    let sql = format!(
        "SELECT sum(octets), sum(packets) FROM flowbin('{}')",
        trace.display()
    );
    let o = flow_models(&["sql", "-c", &sql]);
    let err = text(&o.stderr);
    assert!(!o.status.success(), "{needles:?}: succeeded");
    assert!(!err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "{n:?} not in: {err}");
    }
}

#[test]
fn bad_compressed_fields_are_errors_naming_the_file() {
    if !["gzip", "bzip2", "zstd"].iter().all(|t| have(t)) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    // Plain and compressed twins.
    let twins = sample_copy(tmp.path(), "twins");
    sh(Command::new("gzip").arg("-k").arg(twins.join("octets.Q")));
    fails_with(&twins, &["octets.Q", "octets.Q.gz", "stored twice"]);
    // Truncated: gzip (length unknown) and zstd (length from the frame header).
    for (tool, ext) in [("gzip", "gz"), ("zstd", "zst")] {
        let t = sample_copy(tmp.path(), &format!("truncated-{ext}"));
        sh(Command::new(tool).args(["-q"]).arg(t.join("octets.Q")));
        let f = t.join(format!("octets.Q.{ext}"));
        let bytes = fs::read(&f).unwrap();
        fs::write(&f, &bytes[..bytes.len() / 2]).unwrap();
        if ext == "zst" {
            fs::remove_file(t.join("octets.Q")).unwrap();
        }
        fails_with(&t, &[&format!("octets.Q.{ext}")]);
    }
    // Corrupt in the middle.
    let corrupt = sample_copy(tmp.path(), "corrupt");
    sh(Command::new("bzip2").arg(corrupt.join("packets.Q")));
    let f = corrupt.join("packets.Q.bz2");
    let mut bytes = fs::read(&f).unwrap();
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid..mid + 64] {
        *b ^= 0x5A;
    }
    fs::write(&f, bytes).unwrap();
    fails_with(&corrupt, &["packets.Q.bz2", "bzip2"]);
    // Shorter than the other columns: known from zstd's header at discovery, found by the
    // scan for gzip; longer: found at its end.
    let short = sample_copy(tmp.path(), "short");
    let octets = fs::read(short.join("octets.Q")).unwrap();
    fs::write(short.join("octets.Q"), &octets[..8 * 1000]).unwrap();
    sh(Command::new("zstd")
        .args(["-q", "--rm"])
        .arg(short.join("octets.Q")));
    fails_with(&short, &["columns differ in length", "octets.Q.zst"]);
    let short_gz = sample_copy(tmp.path(), "short-gz");
    fs::write(short_gz.join("octets.Q"), &octets[..8 * 1000]).unwrap();
    sh(Command::new("gzip").arg(short_gz.join("octets.Q")));
    fails_with(
        &short_gz,
        &["octets.Q.gz", "ends after 8000 decompressed bytes"],
    );
    let long_gz = sample_copy(tmp.path(), "long-gz");
    let mut longer = octets.clone();
    longer.extend_from_slice(&octets[..80]);
    fs::write(long_gz.join("octets.Q"), longer).unwrap();
    sh(Command::new("gzip").arg(long_gz.join("octets.Q")));
    fails_with(&long_gz, &["octets.Q.gz", "holds more than"]);
}

/// SIGKILL during `compress` at spread-out moments: a query then answers exactly or fails with
/// the twin error, never otherwise; running `compress` again finishes the job, and `decompress`
/// gives the original files back.
#[test]
fn a_kill_during_compress_never_gives_a_wrong_answer() {
    let tmp = tempfile::tempdir().unwrap();
    let original_dir = repo("examples/data/sample");
    let original = files(Path::new(&original_dir));
    let expected = sums(Path::new(&original_dir));
    let bin = env!("CARGO_BIN_EXE_flow-models");
    let args = ["compress", "--codec", "gz", "--frame-rows", "4000"];
    // How long a whole run takes here.
    let probe = sample_copy(tmp.path(), "probe");
    let start = std::time::Instant::now();
    ok(&[&args[..], &[probe.to_str().unwrap()]].concat());
    let whole = start.elapsed().as_micros() as u64;
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut interrupted = 0;
    for round in 0..20 {
        let trace = sample_copy(tmp.path(), &format!("k{round}"));
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let after = std::time::Duration::from_micros(seed % (whole + 1));
        let mut child = Command::new(bin)
            .args(args)
            .arg(&trace)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(after);
        let _ = child.kill();
        let status = child.wait().unwrap();
        interrupted += usize::from(!status.success());
        let query = |t: &str| {
            let sql = format!(
                "SELECT count(*), sum(octets), sum(packets), sum(first), sum(last) \
                 FROM flowbin('{t}')"
            );
            flow_models(&["sql", "--format", "csv", "-c", &sql])
        };
        let o = query(trace.to_str().unwrap());
        let want = text(&query(&original_dir).stdout);
        if o.status.success() {
            assert_eq!(text(&o.stdout), want, "round {round}");
        } else {
            assert!(
                text(&o.stderr).contains("stored twice"),
                "round {round}: {}",
                text(&o.stderr)
            );
        }
        ok(&[&args[..], &[trace.to_str().unwrap()]].concat());
        assert_eq!(sums(&trace), expected, "round {round}");
        ok(&["decompress", trace.to_str().unwrap()]);
        assert_eq!(files(&trace), original, "round {round}");
    }
    eprintln!("{interrupted} of 20 runs killed before they finished");
    assert!(interrupted > 0, "no run was interrupted");
}
