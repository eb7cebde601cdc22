//! Every nfdump command of docs/nfdump.md beside its SQL, both run on a fixture (nfdump 1.7.1
//! with `-q -o csv`; `nfcapd.201907110830` in the doc is the fixture, `nfgen.nfcapd` nfdump
//! 1.7.8's test-generator file, `day/` a directory of fixtures) and compared value for value.
//! Skipped with a message when nfdump is missing.

mod common;

use common::{ok, repo};
use std::process::Command;

const FILE: &str = "tests/data/nfcapd/nf171_sfipfix_mixed_lzo.nfcapd";

/// How an nfdump answer compares with the SQL's rows.
enum Compare {
    /// `-s …` statistics: these csv columns of each row, in order.
    Stat(&'static [usize]),
    /// Records: these csv columns of each, in order (`true`) or as a set.
    Rows(&'static [usize], bool),
    /// The number of records, then the sums of these csv columns.
    Totals(&'static [usize]),
}

/// One comparison per example of the doc, in its order.
const EXAMPLES: &[Compare] = &[
    Compare::Stat(&[4, 5, 7, 9]),
    Compare::Stat(&[4, 5, 7, 9]),
    Compare::Rows(&[3, 4, 5, 6, 11, 12], true),
    Compare::Rows(&[3, 6, 11, 12], false),
    Compare::Totals(&[12]),
    Compare::Totals(&[12]),
    Compare::Rows(&[3, 4, 5, 6, 11, 12], true),
    Compare::Totals(&[11, 12]),
    Compare::Totals(&[11, 12]),
    Compare::Stat(&[4, 5, 7, 9]),
];

/// The (nfdump command, SQL) pairs of the doc: each ```sh block and the ```sql block after it.
fn examples(doc: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut lines = doc.lines();
    while let Some(line) = lines.next() {
        if let Some(lang) = line.strip_prefix("```").filter(|l| !l.is_empty()) {
            let body: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
            blocks.push((lang.to_string(), body.join("\n")));
        }
    }
    blocks
        .windows(2)
        .filter(|w| w[0].0 == "sh" && w[1].0 == "sql")
        .map(|w| (w[0].1.clone(), w[1].1.clone()))
        .collect()
}

/// A shell line's words (single quotes group).
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, part) in line.split('\'').enumerate() {
        if i % 2 == 1 {
            out.push(part.to_string());
        } else {
            out.extend(part.split_whitespace().map(str::to_string));
        }
    }
    out
}

fn fields(line: &str, columns: &[usize]) -> String {
    let f: Vec<&str> = line.split(',').collect();
    columns.iter().map(|&c| f[c]).collect::<Vec<_>>().join(",")
}

#[test]
fn every_nfdump_example_answers_as_its_sql() {
    if Command::new("nfdump").arg("-V").output().is_err() {
        eprintln!("nfdump not installed: docs/nfdump.md's examples are not compared");
        return;
    }
    let doc = std::fs::read_to_string(repo("docs/nfdump.md")).unwrap();
    let pairs = examples(&doc);
    assert_eq!(pairs.len(), EXAMPLES.len(), "examples in docs/nfdump.md");
    let day = tempfile::tempdir().unwrap();
    // (nfdump -R reads only the files named as a collector names them)
    for (name, time) in [
        ("nf171_sfipfix_mixed_lzo.nfcapd", "202406011000"),
        ("nf171_nfpcapd_small_lz4.nfcapd", "202406011005"),
    ] {
        let from = repo(&format!("tests/data/nfcapd/{name}"));
        std::fs::copy(from, day.path().join(format!("nfcapd.{time}"))).unwrap();
    }
    let day = format!("{}/", day.path().display());
    let file = repo(FILE);
    let nfgen = repo("tests/data/nfcapd/nfgen/nf17latest_nfgen.nfcapd");
    let place = |s: &str| {
        s.replace("nfcapd.201907110830", &file)
            .replace("nfgen.nfcapd", &nfgen)
            .replace("day/", &day)
    };
    for ((command, sql), compare) in pairs.iter().zip(EXAMPLES) {
        let mut args = words(&place(command));
        assert_eq!(args.remove(0), "nfdump", "{command}");
        let filter = args.pop_if(|a| a.contains(' '));
        args.extend(["-q", "-o", "csv"].map(String::from));
        args.extend(filter);
        // (-t windows are local times)
        let out = Command::new("nfdump")
            .env("TZ", "UTC")
            .args(&args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{command}");
        let nfdump = String::from_utf8(out.stdout).unwrap();
        let records = nfdump
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with("ts,"));
        let sql_out = ok(&["sql", "-q", "--format", "csv", "-c", &place(sql)]);
        let mut ours: Vec<String> = sql_out.lines().skip(1).map(str::to_string).collect();
        let mut theirs: Vec<String> = match compare {
            Compare::Stat(c) | Compare::Rows(c, _) => records.map(|l| fields(l, c)).collect(),
            Compare::Totals(c) => {
                let rows: Vec<&str> = records.collect();
                let mut v = vec![rows.len().to_string()];
                for &col in *c {
                    let sum: u64 = rows
                        .iter()
                        .map(|l| fields(l, &[col]).parse::<u64>().unwrap())
                        .sum();
                    v.push(sum.to_string());
                }
                vec![v.join(",")]
            }
        };
        if let Compare::Rows(_, false) = compare {
            ours.sort();
            theirs.sort();
        }
        assert!(
            !theirs.is_empty() && theirs[0] != "0",
            "{command}: nothing to compare"
        );
        assert_eq!(ours, theirs, "{command}\n{sql}");
    }
}
