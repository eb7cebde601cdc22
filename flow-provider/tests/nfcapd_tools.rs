//! Files made here by the real tools, compared record by record with the nfdump that wrote
//! them: a pcap written by this test (TCP/UDP/ICMP, IPv4+IPv6, a long flow split by the
//! active timeout) goes through `nfpcapd -r` and through `softflowd` exporting NetFlow v5, v9
//! and IPFIX to an `nfcapd` collector (nfdump 1.7.1, and 1.6.22 from `$NFDUMP16_PREFIX`,
//! default `~/.cache/flow-models/nfdump-1.6.22`), then rewritten by nfdump with every
//! compression it offers. Skipped, with a message, when the tools are missing.
mod nfcapd_common;

use nfcapd_common::*;
use nfcapd_decode::{Layout, read_header};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// The bin directory of nfdump 1.6.22 unpacked by `.ci/setup`, if present.
fn nfdump16_bin() -> Option<PathBuf> {
    let prefix = std::env::var_os("NFDUMP16_PREFIX")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join(".cache/flow-models/nfdump-1.6.22"))
        })?;
    let bin = prefix.join("usr/bin");
    bin.join("nfdump").exists().then_some(bin)
}

// ---- a small pcap writer: Ethernet + IPv4/IPv6 + TCP/UDP/ICMP, checksums left zero ----

struct Pcap(Vec<u8>);

impl Pcap {
    fn new() -> Self {
        let mut v = Vec::new();
        v.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        v.extend_from_slice(&2u16.to_le_bytes());
        v.extend_from_slice(&4u16.to_le_bytes());
        v.extend_from_slice(&[0; 8]);
        v.extend_from_slice(&65535u32.to_le_bytes());
        v.extend_from_slice(&1u32.to_le_bytes());
        Pcap(v)
    }

    fn packet(&mut self, t_ms: u64, src: &[u8], dst: &[u8], proto: u8, l4: &[u8]) {
        let mut frame = vec![0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1];
        if src.len() == 4 {
            frame.extend_from_slice(&[0x08, 0x00]);
            let total = (20 + l4.len()) as u16;
            frame.extend_from_slice(&[0x45, 0]);
            frame.extend_from_slice(&total.to_be_bytes());
            frame.extend_from_slice(&[0, 1, 0x40, 0, 64, proto, 0, 0]);
            frame.extend_from_slice(src);
            frame.extend_from_slice(dst);
            let sum = checksum(&frame[14..34]);
            frame[24..26].copy_from_slice(&sum.to_be_bytes());
        } else {
            frame.extend_from_slice(&[0x86, 0xdd, 0x60, 0, 0, 0]);
            frame.extend_from_slice(&(l4.len() as u16).to_be_bytes());
            frame.extend_from_slice(&[proto, 64]);
            frame.extend_from_slice(src);
            frame.extend_from_slice(dst);
        }
        frame.extend_from_slice(l4);
        let v = &mut self.0;
        v.extend_from_slice(&((t_ms / 1000) as u32).to_le_bytes());
        v.extend_from_slice(&((t_ms % 1000 * 1000) as u32).to_le_bytes());
        v.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        v.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        v.extend_from_slice(&frame);
    }
}

fn checksum(header: &[u8]) -> u16 {
    let mut sum: u32 = header
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn tcp(sp: u16, dp: u16, flags: u8, payload: usize) -> Vec<u8> {
    let mut h = Vec::new();
    h.extend_from_slice(&sp.to_be_bytes());
    h.extend_from_slice(&dp.to_be_bytes());
    h.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    h.resize(20 + payload, 0xab);
    h
}

fn udp(sp: u16, dp: u16, payload: usize) -> Vec<u8> {
    let mut h = Vec::new();
    h.extend_from_slice(&sp.to_be_bytes());
    h.extend_from_slice(&dp.to_be_bytes());
    h.extend_from_slice(&((8 + payload) as u16).to_be_bytes());
    h.extend_from_slice(&[0, 0]);
    h.resize(8 + payload, 0xcd);
    h
}

fn v6(last: u8) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
    a[15] = last;
    a
}

/// Flows over 400 s starting at 2023-11-14 22:13:20 UTC.
fn write_pcap(path: &Path) {
    let t0 = 1_700_000_000_000u64;
    let mut p = Pcap::new();
    let (a, b) = ([10, 0, 0, 1], [10, 0, 0, 2]);
    for (i, flags) in [0x02u8, 0x12, 0x10, 0x18, 0x18, 0x11].iter().enumerate() {
        let (s, d, sp, dp) = if i % 2 == 0 {
            (a, b, 40000, 80)
        } else {
            (b, a, 80, 40000)
        };
        p.packet(
            t0 + 100 * i as u64,
            &s,
            &d,
            6,
            &tcp(sp, dp, *flags, 100 * i),
        );
        p.packet(
            t0 + 7 + 100 * i as u64,
            &v6(1),
            &v6(2),
            6,
            &tcp(40001, 443, *flags, 50 * i),
        );
    }
    for i in 0..3 {
        p.packet(
            t0 + 1000 + i * 250,
            &[10, 0, 0, 3],
            &[10, 0, 0, 4],
            17,
            &udp(5353, 53, 40),
        );
        p.packet(
            t0 + 1100 + i * 250,
            &[10, 0, 0, 9],
            &[10, 0, 0, 10],
            1,
            &[8, 0, 0, 0, 0, 1, 0, i as u8],
        );
        p.packet(
            t0 + 1200 + i * 250,
            &v6(3),
            &v6(4),
            58,
            &[128, 0, 0, 0, 0, 1, 0, i as u8],
        );
        p.packet(
            t0 + 1300 + i * 250,
            &v6(5),
            &v6(6),
            17,
            &udp(6000, 6001, 300),
        );
    }
    // a long flow: one packet every 10 s for 400 s, longer than every active timeout used
    for i in 0..40 {
        p.packet(
            t0 + 2000 + i * 10_000,
            &[10, 0, 0, 5],
            &[10, 0, 0, 6],
            17,
            &udp(7000, 7001, 500),
        );
    }
    std::fs::write(path, p.0).unwrap();
}

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .stderr(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed");
    String::from_utf8(out.stdout).unwrap()
}

/// The nfcapd files below `dir` (collector side files excluded).
fn flow_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = flow_provider::nfcapd::info::list_files(dir).unwrap();
    files.retain(|f| {
        f.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("nfcapd."))
    });
    files
}

/// Every record of `file` through SQL equals `<nfdump> -r file -q -N -o pipe`, and the same
/// holds for nfdump's rewrites of the file with each compression flag in `compressions`.
/// `printed`: V1 for nfdump 1.6 (times as seconds|ms), V2 for 1.7 (epoch ms), whatever the
/// layout of the file.
async fn check(
    nfdump: &Path,
    printed: Layout,
    file: &Path,
    compressions: &[&str],
    what: &str,
) -> usize {
    let ctx = context(2);
    let mut variants = vec![file.to_path_buf()];
    for flag in compressions {
        let out = file.with_extension(format!("rewritten{flag}"));
        run(Command::new(nfdump)
            .args(["-r"])
            .arg(file)
            .arg(flag)
            .arg("-w")
            .arg(&out));
        variants.push(out);
    }
    let mut records = 0;
    for f in variants {
        let expected = run(Command::new(nfdump)
            .env("TZ", "UTC")
            .arg("-r")
            .arg(&f)
            .args(["-q", "-N", "-o", "pipe"]));
        let expected: Vec<&str> = expected
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.contains("No matching flows"))
            .collect();
        // two partitions: rows may interleave, so both sides are sorted
        let sql = pipe_sql(&format!("nfcapd('{}')", f.display()), printed) + " ORDER BY line";
        let got = lines(&ctx, &sql).await;
        let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert!(
            !want.is_empty(),
            "{what}: nfdump printed no flows for {}",
            f.display()
        );
        assert_eq!(got, want, "{what}: {}", f.display());
        eprintln!(
            "{what}: {} equal to nfdump ({} records)",
            f.display(),
            want.len()
        );
        records += want.len();
    }
    records
}

#[tokio::test]
async fn nfpcapd_files_equal_nfdump_171() {
    if !have("nfpcapd") || !have("nfdump") {
        eprintln!("SKIPPED: nfpcapd/nfdump not installed (apt install nfdump)");
        return;
    }
    let dir = tempfile::Builder::new()
        .prefix("nfcapd-tools")
        .tempdir()
        .unwrap();
    let pcap = dir.path().join("flows.pcap");
    write_pcap(&pcap);
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    run(Command::new("nfpcapd")
        .arg("-r")
        .arg(&pcap)
        .arg("-w")
        .arg(&out)
        .args(["-e", "120,30"]));
    let files = flow_files(&out);
    assert!(!files.is_empty(), "nfpcapd wrote no file");
    let mut n = 0;
    for f in &files {
        n += check(
            Path::new("nfdump"),
            Layout::V2,
            f,
            &["-z", "-j", "-y"],
            "nfpcapd",
        )
        .await;
    }
    // the 400 s flow is split by the 120 s active timeout: more records than flows
    assert!(n >= 4 * 13, "{n} records");
}

/// Runs an `nfcapd` collector on a free local port while softflowd exports the pcap to it.
fn collect(nfcapd: &Path, dir_flag: &str, pcap: &Path, version: &str, out: &Path) {
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::fs::create_dir_all(out).unwrap();
    let mut collector = Command::new(nfcapd)
        .args(["-b", "127.0.0.1", "-p", &port.to_string(), dir_flag])
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Listening once the port cannot be bound any more (a loaded machine took over 500 ms).
    for _ in 0..100 {
        if std::net::UdpSocket::bind(("127.0.0.1", port)).is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    run(Command::new("softflowd")
        .arg("-r")
        .arg(pcap)
        .args([
            "-n",
            &format!("127.0.0.1:{port}"),
            "-v",
            version,
            "-c",
            "none",
            "-a",
        ])
        .args(["-t", "maxlife=120"]));
    std::thread::sleep(Duration::from_millis(1000));
    // SIGTERM makes nfcapd flush and close its file
    run(Command::new("kill").args(["-TERM", &collector.id().to_string()]));
    let _ = collector.wait();
}

/// [`collect`] until every file it leaves holds flows by `nfdump`'s reading (three tries: over
/// UDP on a loaded machine, exports can miss the collector, which then closes an empty file).
fn collected(
    nfcapd: &Path,
    dir_flag: &str,
    pcap: &Path,
    version: &str,
    out: &Path,
    nfdump: &Path,
) -> Vec<PathBuf> {
    let has_flows = |f: &PathBuf| {
        let printed = run(Command::new(nfdump)
            .arg("-r")
            .arg(f)
            .args(["-q", "-N", "-o", "pipe"]));
        printed
            .lines()
            .any(|l| !l.trim().is_empty() && !l.contains("No matching flows"))
    };
    for _ in 0..3 {
        let _ = std::fs::remove_dir_all(out);
        collect(nfcapd, dir_flag, pcap, version, out);
        let files = flow_files(out);
        if !files.is_empty() && files.iter().all(has_flows) {
            return files;
        }
    }
    panic!(
        "{}: no flows collected from NetFlow v{version} in three tries",
        nfcapd.display()
    );
}

#[tokio::test]
async fn softflowd_exports_collected_by_nfcapd_171_and_1622() {
    if !have("softflowd") || !have("nfdump") {
        eprintln!("SKIPPED: softflowd/nfdump not installed (apt install softflowd nfdump)");
        return;
    }
    let dir = tempfile::Builder::new()
        .prefix("nfcapd-softflowd")
        .tempdir()
        .unwrap();
    let pcap = dir.path().join("flows.pcap");
    write_pcap(&pcap);
    for version in ["5", "9", "10"] {
        let out = dir.path().join(format!("v{version}-171"));
        let nfdump = Path::new("nfdump");
        let files = collected(Path::new("nfcapd"), "-w", &pcap, version, &out, nfdump);
        for f in &files {
            check(
                Path::new("nfdump"),
                Layout::V2,
                f,
                &["-z", "-j", "-y"],
                &format!("v{version}/1.7.1"),
            )
            .await;
        }
    }
    let Some(bin16) = nfdump16_bin() else {
        eprintln!("SKIPPED (1.6 part): nfdump 1.6.22 not unpacked; run .ci/setup");
        return;
    };
    for version in ["5", "9", "10"] {
        let out = dir.path().join(format!("v{version}-1622"));
        let nfcapd = bin16.join("nfcapd");
        let files = collected(&nfcapd, "-l", &pcap, version, &out, &bin16.join("nfdump"));
        for f in &files {
            let what = format!("v{version}/1.6.22");
            check(
                &bin16.join("nfdump"),
                Layout::V1,
                f,
                &["-z", "-j", "-y"],
                &what,
            )
            .await;
            // nfdump 1.7.1 reads the 1.6 files the same way, and its rewrites are layout 2
            check(
                Path::new("nfdump"),
                Layout::V2,
                f,
                &["-y"],
                &format!("{what} read by 1.7.1"),
            )
            .await;
            assert_eq!(
                read_header(&std::fs::read(f).unwrap()).unwrap().layout,
                Layout::V1
            );
        }
    }
}
