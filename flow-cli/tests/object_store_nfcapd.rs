//! nfcapd files in an object store, against a real S3 API server (see `common/s3.rs`): read by
//! ranged GETs, they give exactly the local result in any number of partitions (each block
//! decoded once), `nfcapd_info` reads their headers, a truncated object is an error naming its
//! URL, `skip_corrupt` skips as it does locally, and a file split over partitions is fetched
//! about once, not once per partition.

use std::process::{Command, Output};

mod common;
use common::repo;
#[path = "common/s3.rs"]
mod s3;
use s3::{S3Server, start, text};

/// Copies of the data blocks in the many-block files made from the one-block fixtures.
const COPIES: usize = 40;
/// Partitions of the multi-partition runs (each file split in as many byte ranges).
const PARTITIONS: usize = 4;

/// The fixtures: both layouts, every compression the fixtures have.
const FIXTURES: &[&str] = &[
    "nf1622_sfipfix_mixed_bz2.nfcapd",
    "nf1622_sfv5_mixed_lzo.nfcapd",
    "nf1622_sfv5_mixed_none.nfcapd",
    "nf171_agg_srcip_lz4.nfcapd",
    "nf171_conv_from_1622_bz2.nfcapd",
    "nf171_nfpcapd_small_lz4.nfcapd",
    "nf171_nfpcapd_small_none.nfcapd",
    "nf171_sfipfix_mixed_lzo.nfcapd",
];

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(repo(&format!("tests/data/nfcapd/{name}"))).unwrap()
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(b[at..at + 2].try_into().unwrap())
}
fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

/// Where the data blocks of an nfcapd file are: (offset of the first, end of the last).
fn data_blocks(file: &[u8]) -> (usize, usize) {
    match u16_at(file, 2) {
        1 => (276, file.len()),
        _ if u16_at(file, 18) > 0 => (40, u32_at(file, 24) as usize),
        _ => (40, file.len()),
    }
}

/// `file` with its data blocks repeated `copies` times, so a one-block fixture becomes a file
/// of many blocks (layout 2 blocks stand alone; layout 1 ones repeat their extension maps),
/// its layout 2 appendix kept after them or dropped.
fn repeat_blocks(file: &[u8], copies: usize, appendix: bool) -> Vec<u8> {
    let (first, end) = data_blocks(file);
    let mut out = file[..first].to_vec();
    let count_at = if first == 276 { 8 } else { 36 };
    let blocks = u32_at(file, count_at) * copies as u32;
    out[count_at..count_at + 4].copy_from_slice(&blocks.to_le_bytes());
    for _ in 0..copies {
        out.extend_from_slice(&file[first..end]);
    }
    if first == 40 {
        let (count, offset) = match appendix && end < file.len() {
            true => (u16_at(file, 18), out.len() as u64),
            false => (0, 0),
        };
        out[18..20].copy_from_slice(&count.to_le_bytes());
        out[24..32].copy_from_slice(&offset.to_le_bytes());
        if count > 0 {
            out.extend_from_slice(&file[end..]);
        }
    }
    out
}

/// Environment of a run in `partitions` partitions, each local file split in byte ranges.
fn partitioned(command: &mut Command, partitions: usize) -> &mut Command {
    command
        .env(
            "DATAFUSION_EXECUTION_TARGET_PARTITIONS",
            partitions.to_string(),
        )
        .env("DATAFUSION_OPTIMIZER_REPARTITION_FILE_MIN_SIZE", "1")
}

fn ok(o: Output, what: &str) -> String {
    assert!(o.status.success(), "{what}: {}", text(&o.stderr));
    text(&o.stdout)
}

fn local(args: &[&str], partitions: usize) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_flow-models"));
    partitioned(command.args(args), partitions)
        .output()
        .unwrap()
}

fn remote(s3: &S3Server, args: &[&str], partitions: usize) -> Output {
    partitioned(s3.command("testsecret").args(args), partitions)
        .output()
        .unwrap()
}

/// Nothing but the header of the CSV output (which the shell prints before the query fails).
fn no_rows(o: &Output) -> bool {
    text(&o.stdout).lines().nth(1).is_none()
}

fn sql(query: &str) -> Vec<&str> {
    vec!["sql", "-q", "--format", "csv", "-c", query]
}

const SUMS: &str = "count(*), sum(packets), sum(octets), min(first), max(last), sum(first)";

/// A file written locally and uploaded under the same name: (local path, URL).
fn both(s3: &S3Server, dir: &std::path::Path, name: &str, bytes: Vec<u8>) -> (String, String) {
    let path = dir.join(name);
    std::fs::write(&path, &bytes).unwrap();
    s3.upload_bytes(bytes, &format!("nfcapd/{name}"));
    let url = format!("s3://{}/nfcapd/{name}", s3::BUCKET);
    (path.to_str().unwrap().to_string(), url)
}

/// Every fixture, and a file of many blocks made of each (with and without the appendix),
/// gives over S3 in 1 and 4 partitions exactly what it gives locally in 1: sums, first and
/// last times, and a flow-length histogram byte for byte. A block decoded twice or missed
/// would change the count and the sums.
#[test]
fn nfcapd_from_s3_equals_local_in_any_partitioning() {
    let Some(s3) = start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for name in FIXTURES {
        let one = fixture(name);
        for (suffix, bytes) in [
            ("", one.clone()),
            (".many", repeat_blocks(&one, COPIES, true)),
            (".bare", repeat_blocks(&one, COPIES, false)),
        ] {
            files.push(both(&s3, dir.path(), &format!("{name}{suffix}"), bytes));
        }
    }
    let query = |pick: fn(&(String, String)) -> &String| {
        let selects: Vec<String> = (files.iter().enumerate())
            .map(|(i, f)| format!("SELECT {i} AS f, {SUMS} FROM nfcapd('{}')", pick(f)))
            .collect();
        format!("{} ORDER BY f", selects.join(" UNION ALL "))
    };
    let want = ok(local(&sql(&query(|f| &f.0)), 1), "local");
    assert_eq!(want.lines().count(), files.len() + 1, "{want}");
    // The many-block files hold COPIES times the fixture's flows.
    let counts: Vec<u64> = (want.lines().skip(1))
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    for c in counts.chunks(3) {
        assert_eq!([c[1], c[2]], [c[0] * COPIES as u64; 2], "{want}");
    }
    for partitions in [1, PARTITIONS] {
        let got = ok(remote(&s3, &sql(&query(|f| &f.1)), partitions), "s3");
        assert_eq!(got, want, "{partitions} partitions");
    }
    for (path, url) in files.iter().filter(|f| f.0.ends_with(".many")) {
        let hist = ["hist", "-i", "nfcapd", "-x", "length", "-b", "12"];
        let want = ok(local(&[&hist[..], &[path]].concat(), 1), path);
        let got = ok(remote(&s3, &[&hist[..], &[url]].concat(), PARTITIONS), url);
        assert!(want.lines().count() > 2, "{want}");
        assert_eq!(got, want, "hist of {url}");
    }
}

/// The scan's `file_bytes` (bytes mapped or read; EXPLAIN ANALYZE prints counts to 3 or 4
/// digits: `487.1 K`) and whether the file was split in ranges.
fn scan_metrics(out: &str) -> (f64, bool) {
    let shown = out
        .split("file_bytes=")
        .nth(1)
        .and_then(|s| s.split([',', ']']).next())
        .unwrap_or_else(|| panic!("no file_bytes in {out}"));
    let (number, unit) = shown.split_once(' ').unwrap_or((shown, ""));
    let scale = match unit {
        "K" => 1e3,
        "M" => 1e6,
        _ => 1.0,
    };
    let split = out.contains(&format!("file_groups={{{PARTITIONS} groups"));
    (number.parse::<f64>().unwrap() * scale, split)
}

/// A local file is split over 4 partitions (and mapped by each); an object is not split:
/// one partition reads it, fetched once (by one streamed GET).
#[test]
fn an_object_is_not_split_and_is_fetched_once() {
    let Some(s3) = start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let bytes = repeat_blocks(&fixture("nf171_sfipfix_mixed_lzo.nfcapd"), COPIES, true);
    let size = bytes.len() as f64;
    let (path, url) = both(&s3, dir.path(), "many.nfcapd", bytes);
    let analyze = |p: &str| format!("EXPLAIN ANALYZE SELECT {SUMS} FROM nfcapd('{p}')");
    let out = ok(local(&sql(&analyze(&path)), PARTITIONS), "local");
    let (mapped, split) = scan_metrics(&out);
    assert!(
        split && (mapped / size - PARTITIONS as f64).abs() < 0.01,
        "{out}"
    );
    let out = ok(remote(&s3, &sql(&analyze(&url)), PARTITIONS), "s3");
    let (fetched, split) = scan_metrics(&out);
    assert!(!split && out.contains("file_groups={1 group"), "{out}");
    assert!(
        0.999 * size <= fetched && fetched <= 1.001 * (size + 276.0),
        "{fetched} bytes fetched of a file of {size}: {out}"
    );
}

/// `nfcapd_info` over a prefix of objects gives the rows it gives over a directory of the
/// same files, but for the `file` column (the objects' URLs).
#[test]
fn nfcapd_info_over_a_url_equals_the_local_one() {
    let Some(s3) = start() else { return };
    let dir = tempfile::tempdir().unwrap();
    for name in FIXTURES {
        both(&s3, dir.path(), name, fixture(name));
    }
    let query = |p: &str| format!("SELECT * EXCLUDE (file) FROM nfcapd_info('{p}')");
    let want = ok(
        local(&sql(&query(dir.path().to_str().unwrap())), 1),
        "local",
    );
    assert_eq!(want.lines().count(), FIXTURES.len() + 1, "{want}");
    assert_eq!(
        ok(remote(&s3, &sql(&query("s3://flows/nfcapd/")), 1), "s3"),
        want
    );
    let files = ok(
        remote(
            &s3,
            &sql("SELECT file FROM nfcapd_info('s3://flows/nfcapd/')"),
            1,
        ),
        "files",
    );
    let urls: Vec<String> = FIXTURES
        .iter()
        .map(|n| format!("s3://flows/nfcapd/{n}"))
        .collect();
    assert_eq!(files.lines().skip(1).collect::<Vec<_>>(), urls);
}

/// An object cut short (in a block, between blocks, in the header) is an error naming its URL
/// and an offset in any partitioning, as the same local file is, and nothing is printed.
#[test]
fn a_truncated_object_is_an_error_naming_the_url() {
    let Some(s3) = start() else { return };
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "nf171_nfpcapd_small_lz4.nfcapd",
        "nf1622_sfv5_mixed_lzo.nfcapd",
    ] {
        let whole = repeat_blocks(&fixture(name), COPIES, false);
        let (first, end) = data_blocks(&whole);
        let block = (end - first) / COPIES;
        for cut in [first + 10 * block + 100, first + 20 * block, 100] {
            let short = format!("{name}.{cut}");
            let (path, url) = both(&s3, dir.path(), &short, whole[..cut].to_vec());
            for partitions in [1, PARTITIONS] {
                let query = |p: &str| format!("SELECT {SUMS} FROM nfcapd('{p}')");
                let o = local(&sql(&query(&path)), partitions);
                assert!(!o.status.success(), "{path}: {}", text(&o.stdout));
                let o = remote(&s3, &sql(&query(&url)), partitions);
                let e = text(&o.stderr);
                assert!(!o.status.success() && no_rows(&o), "{url}: {e}");
                assert!(e.contains(&url) && e.contains("at byte offset"), "{e}");
            }
        }
    }
}

/// A corrupt block: an error naming the URL and the block, or, with `skip_corrupt`, skipped
/// and counted as it is locally.
#[test]
fn skip_corrupt_skips_what_it_skips_locally() {
    let Some(s3) = start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut bad = repeat_blocks(&fixture("nf171_agg_srcip_lz4.nfcapd"), COPIES, true);
    let (first, end) = data_blocks(&bad);
    let block = (end - first) / COPIES;
    let corrupt = first + 7 * block;
    bad[corrupt + 12..corrupt + 20].fill(0xff);
    let (path, url) = both(&s3, dir.path(), "bad.nfcapd", bad);
    let query = |p: &str, skip: bool| format!("SELECT {SUMS} FROM nfcapd('{p}', {skip})");
    for partitions in [1, PARTITIONS] {
        let o = remote(&s3, &sql(&query(&url, false)), partitions);
        let e = text(&o.stderr);
        assert!(!o.status.success() && no_rows(&o), "{e}");
        assert!(
            e.contains(&format!("{url}: block 7 at byte offset {corrupt}")),
            "{e}"
        );
        let want = ok(local(&sql(&query(&path, true)), partitions), "local");
        let got = ok(remote(&s3, &sql(&query(&url, true)), partitions), "s3");
        assert_eq!(got, want, "{partitions} partitions");
        let analyze = |p: &str| format!("EXPLAIN ANALYZE {}", query(p, true));
        let out = ok(remote(&s3, &sql(&analyze(&url)), partitions), "analyze");
        assert!(out.contains("corrupt_blocks_skipped=1"), "{out}");
    }
}

/// The layout 2 data blocks of `files` (all of one compression), taken in turn `copies`
/// times after the header of the first, without appendix: a file whose blocks all differ
/// from their neighbours. `corrupt`: the block (by index) whose payload is overwritten.
fn interleave(files: &[Vec<u8>], copies: usize, corrupt: Option<usize>) -> Vec<u8> {
    let blocks = |file: &Vec<u8>| {
        let (mut at, end) = data_blocks(file);
        let mut out = Vec::new();
        while at < end {
            let next = at + 12 + u32_at(file, at + 4) as usize;
            out.push(file[at..next].to_vec());
            at = next;
        }
        out
    };
    let all: Vec<Vec<Vec<u8>>> = files.iter().map(blocks).collect();
    let mut out = files[0][..40].to_vec();
    let mut n = 0u32;
    for _ in 0..copies {
        for block in all.iter().flatten() {
            let mut block = block.clone();
            if corrupt == Some(n as usize) {
                block[12..].fill(0xff);
            }
            out.extend_from_slice(&block);
            n += 1;
        }
    }
    out[36..40].copy_from_slice(&n.to_le_bytes());
    out[18..20].copy_from_slice(&0u16.to_le_bytes());
    out[24..32].copy_from_slice(&0u64.to_le_bytes());
    out
}

/// An object's blocks are decoded by several workers at once (a job of about a batch each;
/// batches of 8 rows make many jobs), and its rows still come out in the file's order: the
/// rows of blocks that all differ from their neighbours equal, line for line, the local
/// file's in one partition. A corrupt block among them fails the query with the local error,
/// or with `skip_corrupt` is skipped and counted, the other rows in order.
#[test]
fn object_blocks_decoded_in_parallel_come_out_in_order() {
    let Some(s3) = start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let lz4 = [
        "nf171_agg_srcip_lz4.nfcapd",
        "nf171_nfpcapd_small_lz4.nfcapd",
    ]
    .map(fixture);
    let rows = "SELECT packets, octets, first, last, sp, dp, prot FROM";
    let small_batches = |mut c: Command| {
        c.env("DATAFUSION_EXECUTION_BATCH_SIZE", "8");
        c.output().unwrap()
    };
    let local_run = |args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_flow-models"));
        c.env("DATAFUSION_EXECUTION_TARGET_PARTITIONS", "1")
            .args(args);
        small_batches(c)
    };
    let remote_run = |args: &[&str]| {
        let mut c = s3.command("testsecret");
        c.args(args);
        small_batches(c)
    };
    let (path, url) = both(&s3, dir.path(), "mixed.nfcapd", interleave(&lz4, 20, None));
    let want = ok(
        local_run(&sql(&format!("{rows} nfcapd('{path}')"))),
        "local",
    );
    assert!(want.lines().count() > 20 * 8, "{want}");
    let got = ok(remote_run(&sql(&format!("{rows} nfcapd('{url}')"))), "s3");
    assert_eq!(got, want, "rows of {url} in the file's order");

    let bad = interleave(&lz4, 20, Some(17));
    let (path, url) = both(&s3, dir.path(), "corrupt.nfcapd", bad);
    let query = |p: &str, skip: &str| format!("{rows} nfcapd('{p}'{skip})");
    let want = local_run(&sql(&query(&path, "")));
    let got = remote_run(&sql(&query(&url, "")));
    assert_eq!((want.status.code(), got.status.code()), (Some(1), Some(1)));
    let reason = |o: &Output| {
        let err = text(&o.stderr);
        err.split_once("corrupt.nfcapd").map(|(_, r)| r.to_string())
    };
    assert_eq!(reason(&got), reason(&want), "{}", text(&got.stderr));
    assert!(
        reason(&got).is_some_and(|r| r.contains("block 17")),
        "{}",
        text(&got.stderr)
    );
    let skip = ", true";
    let want = ok(local_run(&sql(&query(&path, skip))), "local");
    let got = ok(remote_run(&sql(&query(&url, skip))), "s3");
    assert_eq!(got, want, "{url} without its corrupt block");
}
