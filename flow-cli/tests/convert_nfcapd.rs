//! `flow-models convert -i nfcapd`: records equal to nfdump's pipe output of the same file, a
//! non-zero exit naming file/block/offset on a corrupt block, and `--skip-corrupt`.

use std::path::PathBuf;
use std::process::Command;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data/nfcapd")
        .join(name)
}

fn convert(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_flow-models"))
        .args(["convert", "-i", "nfcapd", "-o", "csv_flow", "-O", "-"])
        .args(args)
        .output()
        .unwrap()
}

/// nfdump 1.7 pipe fields (af|first|last|prot|sa0..3|sp|da0..3|dp|srcas|dstas|in|out|flags|
/// tos|packets|bytes) rearranged into csv_flow's 21 flow-models fields.
fn pipe_to_csv_flow(line: &str) -> String {
    let f: Vec<u64> = line.split('|').map(|x| x.trim().parse().unwrap()).collect();
    let v = [
        f[0],
        f[3],
        f[16],
        f[17],
        f[4],
        f[5],
        f[6],
        f[7],
        f[9],
        f[10],
        f[11],
        f[12],
        f[8],
        f[13],
        f[1] / 1000,
        f[1] % 1000,
        f[2] / 1000,
        f[2] % 1000,
        f[20],
        f[21],
        1,
    ];
    v.map(|x| x.to_string()).join(", ")
}

#[test]
fn converted_records_equal_nfdump_pipe_output() {
    let file = data("nf171_sfipfix_mixed_lzo.nfcapd");
    let out = convert(&[file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected =
        std::fs::read_to_string(data("nf171_sfipfix_mixed_lzo.nfcapd.expected.txt")).unwrap();
    let expected: Vec<String> = expected.lines().map(pipe_to_csv_flow).collect();
    let got: Vec<&str> = std::str::from_utf8(&out.stdout).unwrap().lines().collect();
    assert_eq!(got.len(), 450);
    assert_eq!(got, expected);
}

#[test]
fn corrupt_file_exits_non_zero_unless_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = std::fs::read(data("nf171_nfpcapd_small_lz4.nfcapd")).unwrap();
    // the first data block starts at byte 40: its payload begins after the 12-byte header
    bytes[52..60].fill(0xff);
    let path = dir.path().join("nfcapd.202401011200");
    std::fs::write(&path, &bytes).unwrap();
    let out = convert(&[path.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains(path.to_str().unwrap()) && err.contains("block 0 at byte offset 40"),
        "{err}"
    );
    let out = convert(&["--skip-corrupt", path.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("skipped 1 corrupt block(s)"), "{err}");
    // with the file and the first error, from the scan's metrics
    assert!(err.contains("block 0 at byte offset 40"), "{err}");
    assert!(out.stdout.is_empty());
}
