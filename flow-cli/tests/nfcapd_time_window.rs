//! Time windows over a collector's tree: `WHERE first/last` bounds skip the files whose
//! statistics record misses them (issue 25, part 5). The tree is a day of traffic made by the
//! real `nfpcapd` from a pcap written here, rotated every five minutes into
//! `yyyy/mm/dd/nfcapd.YYYYMMDDhhmm` files (288 of them, LZ4), plus a layout 1 file of nfdump
//! 1.6 from the day before. Every windowed query answers exactly as the same query that cannot
//! prune, `EXPLAIN ANALYZE` counts the files skipped, and those are the files whose span
//! (`nfcapd_info`'s first and last seen) misses the window; `nfdump -t` gives the same flows.
//! Skipped with a message when nfpcapd is missing.

mod common;

use common::{ok, repo};
use std::path::Path;
use std::process::Command;
#[path = "common/s3.rs"]
mod s3;

/// 2024-06-02 00:00:00 UTC, when the pcap starts; it lasts a day.
const T0: u32 = 1_717_286_400;
const HOURS: u32 = 24;
/// The files of the tree: one per five minutes, and the older one.
const FILES: usize = HOURS as usize * 12 + 1;

/// A pcap of UDP flows: each minute three flows of four packets 15 s apart (so a flow's first
/// and last differ, and some flows cross a five-minute boundary), each on its own port.
fn write_pcap(path: &Path) {
    let mut out = Vec::new();
    // Global header: magic, version 2.4, zone, accuracy, snaplen, Ethernet.
    out.extend(0xa1b2_c3d4u32.to_le_bytes());
    out.extend(2u16.to_le_bytes());
    out.extend(4u16.to_le_bytes());
    for v in [0u32, 0, 65_535, 1] {
        out.extend(v.to_le_bytes());
    }
    let mut packets = Vec::new();
    for minute in 0..HOURS * 60 {
        for k in 0..3u32 {
            for j in 0..4u32 {
                let at = T0 + minute * 60 + k * 7 + j * 15;
                packets.push((at, k * 1000 + j, minute, k));
            }
        }
    }
    packets.sort();
    for (at, usec, minute, k) in packets {
        let payload = 40 + 100 * k as usize + (minute % 7) as usize;
        let udp_len = 8 + payload;
        let port = 20_000 + (minute * 3 + k) as u16;
        let mut frame = vec![0u8; 12];
        frame.extend([0x08, 0x00]);
        frame.extend([0x45, 0]);
        frame.extend(((20 + udp_len) as u16).to_be_bytes());
        frame.extend([0, 0, 0, 0, 64, 17, 0, 0]);
        frame.extend([10, 0, k as u8, 1, 192, 168, 1, (minute % 200) as u8 + 1]);
        frame.extend(port.to_be_bytes());
        frame.extend(53u16.to_be_bytes());
        frame.extend((udp_len as u16).to_be_bytes());
        frame.extend([0, 0]);
        frame.extend(std::iter::repeat_n(b'x', payload));
        for v in [at, usec, frame.len() as u32, frame.len() as u32] {
            out.extend(v.to_le_bytes());
        }
        out.extend(frame);
    }
    std::fs::write(path, out).unwrap();
}

/// The collector tree (`day/yyyy/mm/dd/…`), or `None` when nfpcapd is missing.
fn make_day(dir: &Path) -> Option<String> {
    if Command::new("nfpcapd").arg("-h").output().is_err() {
        eprintln!("nfpcapd not installed: time windows are not tested on a collector's tree");
        return None;
    }
    let pcap = dir.join("traffic.pcap");
    write_pcap(&pcap);
    let day = dir.join("day");
    std::fs::create_dir_all(&day).unwrap();
    let out = Command::new("nfpcapd")
        .args(["-r", pcap.to_str().unwrap(), "-w", day.to_str().unwrap()])
        .args(["-t", "300", "-S", "1", "-y"])
        .output()
        .unwrap();
    assert!(out.status.success(), "nfpcapd: {out:?}");
    // A layout 1 file of nfdump 1.6, two hours before the pcap.
    let older = day.join("2024/06/01/nfcapd.202406011000");
    std::fs::create_dir_all(older.parent().unwrap()).unwrap();
    let fixture = repo("tests/data/nfcapd/nf1622_sfv5_mixed_lzo.nfcapd");
    std::fs::copy(fixture, older).unwrap();
    Some(format!("{}/", day.display()))
}

/// (first seen, last seen) of every file of `day`, in seconds, from `nfcapd_info`.
fn spans(day: &str) -> Vec<(i64, i64)> {
    let q = format!(
        "SELECT first_ms / arrow_cast(1000, 'UInt64'), last_ms / arrow_cast(1000, 'UInt64') FROM nfcapd_info('{day}')"
    );
    let out = ok(&["sql", "-q", "--format", "csv", "-c", &q]);
    out.lines()
        .skip(1)
        .map(|l| {
            let (a, b) = l.split_once(',').unwrap();
            (a.parse().unwrap(), b.parse().unwrap())
        })
        .collect()
}

/// The value of the scan's metric `name` in an `EXPLAIN ANALYZE` output.
fn metric(explained: &str, name: &str) -> usize {
    let line = explained
        .lines()
        .find(|l| l.contains("DataSourceExec"))
        .unwrap_or("");
    let at = line
        .find(&format!("{name}="))
        .unwrap_or_else(|| panic!("no {name} in {line}"));
    let digits: String = line[at + name.len() + 1..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().unwrap()
}

/// The rows of `sql` over `day` as csv, in a fixed order.
fn rows(day: &str, filter: &str) -> String {
    let q = format!(
        "SELECT first, first_ms, last, last_ms, src_ip, dst_ip, sp, dp, packets, octets \
         FROM nfcapd('{day}') WHERE {filter} ORDER BY first, first_ms, sp, dst_ip, last"
    );
    ok(&["sql", "-q", "--format", "csv", "-c", &q])
}

#[test]
fn a_time_window_reads_only_the_files_it_meets_and_answers_as_a_full_read() {
    let dir = tempfile::tempdir().unwrap();
    let Some(day) = make_day(dir.path()) else {
        return;
    };
    let spans = spans(&day);
    assert_eq!(
        spans.len(),
        FILES,
        "288 five-minute files and the older one: {spans:?}"
    );
    let hour = (T0 + 3600) as i64;
    // (filter, the same filter without bounds the scan can take, bounds on (first, last)).
    type Window = (i64, i64);
    let cases: [(String, String, Window, Window); 6] = [
        (
            format!("first >= {hour} AND first < {}", hour + 3600),
            format!("first + 0 >= {hour} AND first + 0 < {}", hour + 3600),
            (hour, hour + 3599),
            (i64::MIN, i64::MAX),
        ),
        (
            format!("last BETWEEN {} AND {}", hour + 600, hour + 899),
            format!("last + 0 BETWEEN {} AND {}", hour + 600, hour + 899),
            (i64::MIN, i64::MAX),
            (hour + 600, hour + 899),
        ),
        // nfdump's -t: first at or after the start, last at or before the end.
        (
            format!("first >= {hour} AND last <= {}", hour + 1800),
            format!("first + 0 >= {hour} AND last + 0 <= {}", hour + 1800),
            (hour, i64::MAX),
            (i64::MIN, hour + 1800),
        ),
        // Only the old layout 1 file.
        (
            "first < 1717240000".into(),
            "first + 0 < 1717240000".into(),
            (i64::MIN, 1_717_239_999),
            (i64::MIN, i64::MAX),
        ),
        // Decimal seconds; a timestamp's epoch.
        (
            format!(
                "first > {}.5 AND first <= extract(epoch FROM TIMESTAMP '2024-06-02 02:10:00')",
                hour + 3000
            ),
            format!(
                "first + 0 > {}.5 AND first + 0 <= {}",
                hour + 3000,
                hour + 4200
            ),
            (hour + 3001, hour + 4200),
            (i64::MIN, i64::MAX),
        ),
        // Before every file: all pruned, no row.
        (
            "first < 1000".into(),
            "first + 0 < 1000".into(),
            (i64::MIN, 999),
            (i64::MIN, i64::MAX),
        ),
    ];
    for (filter, unpruned, first, last) in &cases {
        let want = rows(&day, unpruned);
        assert_eq!(rows(&day, filter), want, "{filter}");
        let skipped = spans
            .iter()
            .filter(|(from, to)| *to < first.0 || *from > first.1 || *to < last.0 || *from > last.1)
            .count();
        let q = format!("EXPLAIN ANALYZE SELECT count(*) FROM nfcapd('{day}') WHERE {filter}");
        let explained = ok(&["sql", "-q", "-c", &q]);
        assert_eq!(
            metric(&explained, "files_pruned"),
            skipped,
            "{filter}: {explained}"
        );
        let q = format!("EXPLAIN ANALYZE SELECT count(*) FROM nfcapd('{day}') WHERE {unpruned}");
        let explained = ok(&["sql", "-q", "-c", &q]);
        assert_eq!(metric(&explained, "files_pruned"), 0, "{unpruned}");
    }
    // The one-hour window on first: 12 of the 288 five-minute files meet it, give or take the
    // files whose flows cross its edges.
    let q = format!(
        "EXPLAIN ANALYZE SELECT count(*) FROM nfcapd('{day}') WHERE {}",
        cases[0].0
    );
    let pruned = metric(&ok(&["sql", "-q", "-c", &q]), "files_pruned");
    assert!(
        (FILES - 15..=FILES - 12).contains(&pruned),
        "{pruned} files pruned"
    );
    assert!(
        rows(&day, &cases[5].0).lines().count() == 1,
        "a header, no row"
    );
}

#[test]
fn the_window_of_nfdump_t_gives_nfdumps_flows() {
    let dir = tempfile::tempdir().unwrap();
    let Some(day) = make_day(dir.path()) else {
        return;
    };
    if Command::new("nfdump").arg("-V").output().is_err() {
        eprintln!("nfdump not installed: -t is not compared");
        return;
    }
    let (start, end) = (T0 as i64 + 3600, T0 as i64 + 5400);
    let out = Command::new("nfdump")
        .env("TZ", "UTC")
        .args(["-R", &day, "-t", "2024/06/02.01:00:00-2024/06/02.01:30:00"])
        .args(["-q", "-o", "csv"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let mut theirs: Vec<String> = text
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            [f[3], f[4], f[5], f[6], f[11], f[12]].join(",")
        })
        .collect();
    let q = format!(
        "SELECT src_ip, dst_ip, sp, dp, packets, octets FROM nfcapd('{day}') \
         WHERE first >= {start} AND last <= {end} AND (last < {end} OR last_ms = 0)"
    );
    let out = ok(&["sql", "-q", "--format", "csv", "-c", &q]);
    let mut ours: Vec<String> = out.lines().skip(1).map(str::to_string).collect();
    theirs.sort();
    ours.sort();
    assert!(theirs.len() > 300, "{} flows", theirs.len());
    assert_eq!(ours, theirs);
}

#[test]
fn a_window_skips_objects_in_a_store_by_their_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let Some(day) = make_day(dir.path()) else {
        return;
    };
    let Some(s3) = s3::start() else {
        return;
    };
    // The day's own files (the older file is in another folder).
    let leaf = format!("{day}2024/06/02/");
    s3.upload_trace(&leaf, "day");
    let filter = format!("first >= {} AND first < {}", T0 + 3600, T0 + 7200);
    let local = rows(&leaf, &filter);
    let q = |from: &str| {
        format!(
            "SELECT first, first_ms, last, last_ms, src_ip, dst_ip, sp, dp, packets, octets \
             FROM nfcapd('{from}') WHERE {filter} ORDER BY first, first_ms, sp, dst_ip, last"
        )
    };
    let url = format!("s3://{}/day/", s3::BUCKET);
    assert_eq!(
        s3.ok(&["sql", "-q", "--format", "csv", "-c", &q(&url)]),
        local
    );
    let explain = |from: &str| {
        format!("EXPLAIN ANALYZE SELECT count(*) FROM nfcapd('{from}') WHERE {filter}")
    };
    let remote = s3.ok(&["sql", "-q", "-c", &explain(&url)]);
    let here = ok(&["sql", "-q", "-c", &explain(&leaf)]);
    let pruned = metric(&here, "files_pruned");
    assert!(pruned > 20, "{here}");
    assert_eq!(metric(&remote, "files_pruned"), pruned, "{remote}");
}
