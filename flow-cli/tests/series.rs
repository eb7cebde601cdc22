//! `flow-models series`, `flow_series` and `series-plot`: the files are those of
//! `python -m flow_models.series` (when flow-models 2.2 is present), the counts add up to the
//! flows' totals, and a flow's packets and octets land in the seconds the original puts them.

use std::fs;
use std::path::Path;

mod common;
use common::flow_models as run;
use common::repo;
use common::{ok, text};

/// Files by name, with their bytes.
type Files = Vec<(String, Vec<u8>)>;

/// Every file of a directory.
fn files(dir: &Path) -> Files {
    let mut out: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            (name, fs::read(e.path()).unwrap())
        })
        .collect();
    out.sort();
    out
}

/// The series of `input` (`-i format`) by us and, when present, by the original.
fn series(format: &str, input: &str, dir: &Path) -> (Files, Option<Files>) {
    let ours = dir.join("ours");
    ok(&["series", "-i", format, "-O", ours.to_str().unwrap(), input]);
    let original = common::original_python().map(|python| {
        let orig = dir.join("orig");
        let o = std::process::Command::new(python)
            .args(["-m", "flow_models.series", "-i", format, "-O"])
            .arg(&orig)
            .arg(input)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o.stderr));
        files(&orig)
    });
    (files(&ours), original)
}

fn numbers(bytes: &[u8]) -> Vec<i64> {
    text(bytes).lines().map(|l| l.parse().unwrap()).collect()
}

#[test]
fn the_sample_gives_the_originals_files_and_the_flows_totals() {
    let tmp = tempfile::tempdir().unwrap();
    let sample = repo("examples/data/sample");
    let (ours, original) = series("binary", &sample, tmp.path());
    let names: Vec<&str> = ours.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["16596.flows", "16596.octets", "16596.packets"]);
    for (_, bytes) in &ours {
        assert_eq!(numbers(bytes).len(), 86_400);
    }
    let total = |i: usize| numbers(&ours[i].1).iter().sum::<i64>().to_string();
    let sums = ok(&[
        "sql",
        "-q",
        "--format",
        "csv",
        "-c",
        &format!("SELECT count(*), sum(octets), sum(packets) FROM flowbin('{sample}')"),
    ]);
    let want = sums.lines().nth(1).unwrap().to_string();
    assert_eq!(format!("{},{},{}", total(0), total(1), total(2)), want);
    // flow_series in SQL: the same counts, one row per second with any.
    let q = format!(
        "SELECT day, count(*), sum(flows), sum(octets), sum(packets), max(second) \
         FROM flow_series('{sample}') GROUP BY day"
    );
    let rows = ok(&["sql", "-q", "--format", "csv", "-c", &q]);
    let row = rows.lines().nth(1).unwrap();
    assert!(
        row.starts_with("16596,") && row.contains(&format!(",{want},")),
        "{row} vs {want}"
    );
    match original {
        Some(original) => assert!(ours == original, "the original's series files differ"),
        None => eprintln!("compared with the flows' totals only"),
    }
}

#[test]
fn packets_land_where_the_original_puts_them() {
    let tmp = tempfile::tempdir().unwrap();
    let flows = tmp.path().join("flows.csv");
    // af prot inif outif sa0..3 da0..3 sp dp first first_ms last last_ms packets octets aggs:
    // one packet; 3 packets over 3 s from 100.5 (100 octets as 33, 33, 34); 2 packets from
    // 86399.5 to 86401.5 (crossing into day 1); 4 packets over 1.8 s from 200.1 (7 octets:
    // 1, 2, 2, 2), the third at 200.1 + 0.45 + 0.45 = 200.99999999999997 in floating point,
    // so in second 200 as in the original.
    let line = |first: u64, first_ms: u64, last: u64, last_ms: u64, packets: u64, octets: u64| {
        format!(
            "2, 6, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 80, 1024, {first}, {first_ms}, {last}, {last_ms}, {packets}, {octets}, 1\n"
        )
    };
    let text_flows = [
        line(10, 999, 10, 999, 1, 1500),
        line(100, 500, 103, 500, 3, 100),
        line(86_399, 500, 86_401, 500, 2, 200),
        line(200, 100, 201, 900, 4, 7),
    ]
    .concat();
    fs::write(&flows, text_flows).unwrap();
    let (ours, original) = series("csv_flow", flows.to_str().unwrap(), tmp.path());
    let names: Vec<&str> = ours.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "0.flows",
            "0.octets",
            "0.packets",
            "1.flows",
            "1.octets",
            "1.packets"
        ]
    );
    let nonzero = |i: usize| -> Vec<(usize, i64)> {
        let v = numbers(&ours[i].1);
        v.into_iter().enumerate().filter(|(_, n)| *n != 0).collect()
    };
    assert_eq!(nonzero(0), [(10, 1), (100, 1), (200, 1), (86_399, 1)]);
    assert_eq!(
        nonzero(1),
        [
            (10, 1500),
            (100, 33),
            (101, 33),
            (102, 34),
            (200, 5),
            (201, 2),
            (86_399, 100)
        ]
    );
    assert_eq!(
        nonzero(2),
        [
            (10, 1),
            (100, 1),
            (101, 1),
            (102, 1),
            (200, 3),
            (201, 1),
            (86_399, 1)
        ]
    );
    assert_eq!(nonzero(3), []);
    assert_eq!(nonzero(4), [(0, 100)]);
    assert_eq!(nonzero(5), [(0, 1)]);
    if let Some(original) = original {
        assert!(ours == original, "the original's series files differ");
    }
}

#[test]
fn series_plot_draws_each_file_and_prints_its_total() {
    let tmp = tempfile::tempdir().unwrap();
    let sample = repo("examples/data/sample");
    let dir = tmp.path().join("series");
    ok(&["series", "-O", dir.to_str().unwrap(), &sample]);
    let file = |what: &str| {
        dir.join(format!("16596.{what}"))
            .to_string_lossy()
            .into_owned()
    };
    let total = |what: &str| numbers(&fs::read(file(what)).unwrap()).iter().sum::<i64>();
    let plots = tmp.path().join("plots");
    // Given octets first: flows, then packets, then octets (as bits), as the original.
    let out = ok(&[
        "series_plot",
        "-O",
        plots.to_str().unwrap(),
        &file("octets"),
        &file("flows"),
        &file("packets"),
    ]);
    let day = "2015-06-10-Wed (Day 16596)";
    let want = format!(
        "{day} flows {}\n{day} packets {}\n{day} bits {}\n",
        total("flows"),
        total("packets"),
        8 * total("octets")
    );
    assert_eq!(out, want);
    for what in ["flows", "packets", "bits"] {
        let png = fs::read(plots.join(format!("16596.{what}.png"))).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(png));
        let info = decoder.read_info().unwrap();
        assert_eq!((info.info().width, info.info().height), (1500, 950));
    }
    let o = run(&["series-plot", &sample]);
    assert!(!o.status.success());
    assert!(
        text(&o.stderr).contains("not a series file"),
        "{}",
        text(&o.stderr)
    );
    let o = run(&["sql", "-c", "SELECT * FROM flow_series()"]);
    assert!(text(&o.stderr).contains("flow_series('table or trace dir'): takes one argument"));
}
