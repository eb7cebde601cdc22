//! `flow-models hist` as a user runs it, on every input format: the same csv_hist as the original
//! flow-models 2.2 (fixtures made by tests/fixtures/make_hist.sh), the same bins from binary,
//! csv_flow and Parquet copies of one trace, and from an nfcapd file and nfdump's pipe print of it.

use std::collections::BTreeMap;
use std::process::{Command, Output};

mod common;
use common::repo;

fn run(args: &[&str]) -> Output {
    let o = Command::new(env!("CARGO_BIN_EXE_flow-models"))
        .args(args)
        .output()
        .expect("run flow-models");
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn hist(args: &[&str]) -> String {
    let mut all = vec!["hist"];
    all.extend_from_slice(args);
    String::from_utf8(run(&all).stdout).unwrap()
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(repo(&format!("tests/data/hist/{name}.csv"))).unwrap()
}

#[test]
fn binary_input_equals_the_original() {
    let sample = repo("examples/data/sample");
    assert_eq!(
        hist(&["-i", "binary", "-x", "length", "-b", "12", &sample]),
        fixture("length_b12")
    );
    assert_eq!(
        hist(&["-x", "size", "-b", "12", "--filter", "prot = 17", &sample]),
        fixture("size_b12_udp")
    );
}

#[test]
fn csv_flow_input_equals_the_original() {
    let input = repo("tests/data/original/head2000.csv_flow");
    let got = hist(&[
        "-i", "csv_flow", "-x", "size", "-b", "12", "-c", "duration", "-c", "aggs", &input,
    ]);
    assert_eq!(got, fixture("head2000_size_b12"));
}

/// The sample converted to csv_flow and to Parquet bins exactly like the binary original.
#[test]
fn converted_copies_give_the_same_histogram() {
    let dir = tempfile::tempdir().unwrap();
    let sample = repo("examples/data/sample");
    let args = ["-x", "length", "-b", "12", "-c", "duration", "-c", "aggs"];
    let expected = hist(&[&args[..], &[sample.as_str()]].concat());
    assert_eq!(
        expected.lines().count(),
        fixture("length_b12").lines().count()
    );
    for (format, name) in [("csv_flow", "flows.csv"), ("parquet", "flows.parquet")] {
        let path = dir.path().join(name);
        let path = path.to_str().unwrap();
        run(&["convert", "-o", format, "-O", path, &sample]);
        let got = hist(&[&["-i", format][..], &args, &[path]].concat());
        assert_eq!(got, expected, "{format}");
    }
}

/// nfdump 1.7 pipe text: flows, packets and octets per log bin of packets, computed here.
fn bins_of_pipe_text(text: &str, bits: u32) -> String {
    let mut bins: BTreeMap<u64, (u64, u64, u64, u64)> = BTreeMap::new();
    for line in text.lines() {
        let f: Vec<u64> = line.split('|').map(|v| v.trim().parse().unwrap()).collect();
        let (packets, octets) = (f[20], f[21]);
        let width = 1u64 << (64 - packets.leading_zeros()).saturating_sub(bits);
        let lo = packets / width * width;
        let b = bins.entry(lo).or_insert((lo + width, 0, 0, 0));
        b.1 += 1;
        b.2 += packets;
        b.3 += octets;
    }
    let mut out = String::from("bin_lo,bin_hi,flows_sum,packets_sum,octets_sum\n");
    for (lo, (hi, f, p, o)) in bins {
        out += &format!("{lo},{hi},{f},{p},{o}\n");
    }
    out
}

/// An nfcapd file, and nfdump's own pipe print of it read as pipe input, both equal the bins
/// computed from that print. (flow-models 2.2 cannot be the reference here: its pipe reader
/// fails on Python 3 with "must be str or None, not bytes".)
#[test]
fn nfcapd_and_pipe_inputs_equal_nfdump() {
    let file = repo("tests/data/nfcapd/nf171_sfipfix_mixed_lzo.nfcapd");
    let pipe = format!("{file}.expected.txt");
    let expected = bins_of_pipe_text(&std::fs::read_to_string(&pipe).unwrap(), 3);
    assert!(expected.lines().count() > 5, "{expected}");
    assert_eq!(hist(&["-i", "nfcapd", "-b", "3", &file]), expected);
    assert_eq!(hist(&["-i", "pipe", "-b", "3", &pipe]), expected);
}

#[test]
fn parquet_output_holds_the_same_rows() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("h.parquet");
    let out = out.to_str().unwrap();
    let sample = repo("examples/data/sample");
    run(&[
        "hist", "-x", "length", "-b", "12", "-o", "parquet", "-O", out, &sample,
    ]);
    let query = format!(
        "SELECT bin_lo, bin_hi, flows_sum, packets_sum, octets_sum FROM '{out}' ORDER BY bin_lo"
    );
    let o = run(&["sql", "-q", "--format", "csv", "-c", &query]);
    assert_eq!(String::from_utf8(o.stdout).unwrap(), fixture("length_b12"));
}

#[test]
fn a_missing_input_is_an_error_naming_it() {
    let o = Command::new(env!("CARGO_BIN_EXE_flow-models"))
        .args(["hist", "-x", "length", "/nonexistent/trace"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(o.stdout.is_empty());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("/nonexistent/trace"), "{err}");
}
