//! The merge and sort subcommands end to end: counters and invariants on stderr, sorting in
//! place, output identical to the original's (fixtures of tests/fixtures/merge).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/merge")
}

fn flow_models(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_flow-models"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn copy_trace(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[test]
fn merge_prints_counters_and_checks_invariants() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("merged");
    let trace = fixtures().join("trace20k");
    let (ok, err) = flow_models(&[
        "merge",
        "-I",
        "15",
        "-A",
        "300",
        "-o",
        "binary",
        "-O",
        out.to_str().unwrap(),
        trace.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    // The original merged this trace into trace20k.orig_merged: same number of records.
    let orig = std::fs::metadata(fixtures().join("trace20k.orig_merged/packets.Q"))
        .unwrap()
        .len();
    let ours = std::fs::metadata(out.join("packets.Q")).unwrap().len();
    assert_eq!(ours, orig);
    let written = orig / 8;
    assert!(
        err.contains(&format!(
            "read 20000, merged {}, overlapping 0, written {written}",
            20000 - written
        )),
        "{err}"
    );
    assert!(err.contains("invariants hold"), "{err}");
}

#[test]
fn sort_in_place_replaces_the_trace_with_the_original_order() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace");
    copy_trace(&fixtures().join("trace20k"), &trace);
    let before = std::fs::read(trace.join("prot.B")).unwrap();
    let sa0 = std::fs::read(trace.join("sa0.I")).unwrap();
    assert!(sa0.len() == 80_000 && sa0.iter().all(|&b| b == 0));
    let t = trace.to_str().unwrap();
    let (ok, err) = flow_models(&["sort", "-k", "prot", "--reverse", "-O", t, t]);
    assert!(ok, "{err}");
    assert!(err.contains("wrote 20000 flows"), "{err}");
    // The original's permutation for `-k prot --reverse`, applied to the old prot column.
    let perm = std::fs::read(fixtures().join("sort_prot_reverse.perm.I")).unwrap();
    let expected: Vec<u8> = perm
        .chunks_exact(4)
        .map(|c| before[u32::from_le_bytes(c.try_into().unwrap()) as usize])
        .collect();
    assert_eq!(std::fs::read(trace.join("prot.B")).unwrap(), expected);
    // A column of one value (written whole while the order was computed) is complete.
    assert_eq!(std::fs::read(trace.join("sa0.I")).unwrap(), sa0);
    assert_eq!(std::fs::read_dir(&trace).unwrap().count(), 21);
    let names = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(
        names, 1,
        "no temporary or old directory left beside the trace"
    );
}

#[test]
fn sort_names_a_missing_key() {
    let trace = fixtures().join("trace20k");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let (ok, err) = flow_models(&[
        "sort",
        "-k",
        "nope",
        "-O",
        out.to_str().unwrap(),
        trace.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(err.contains("no field 'nope'"), "{err}");
    assert!(!out.exists());
}

/// The in-memory sort (default) and DataFusion's external sort (chosen by --memory-limit; its
/// spilling is tested in tests/merge.rs) write byte-identical traces, for several key sets and
/// --reverse.
#[test]
fn in_memory_and_external_sorts_agree() {
    let trace = fixtures().join("trace20k");
    let dir = tempfile::tempdir().unwrap();
    for keys in [
        &["first", "first_ms"][..],
        &["sa3", "da3", "sp"],
        &["prot", "octets"],
        // af has one value (as have aggs, sa0..sa2, da0..da2): the in-memory sort writes those
        // columns before the order is known.
        &["af", "dp"],
    ] {
        for reverse in [false, true] {
            let mut outputs = Vec::new();
            for (name, limit) in [("mem", None), ("ext", Some("64M"))] {
                let out = dir
                    .path()
                    .join(format!("{name}-{}-{reverse}", keys.join("-")));
                let mut args = vec!["sort", "-k"];
                args.extend_from_slice(keys);
                if reverse {
                    args.push("--reverse");
                }
                if let Some(l) = limit {
                    args.extend(["--memory-limit", l]);
                }
                args.extend(["-O", out.to_str().unwrap(), trace.to_str().unwrap()]);
                let (ok, err) = flow_models(&args);
                assert!(ok, "{args:?}: {err}");
                let how = if limit.is_some() {
                    "spilled"
                } else {
                    "sorted in memory"
                };
                assert!(err.contains(how), "{args:?}: {err}");
                outputs.push(out);
            }
            let count = |d: &Path| std::fs::read_dir(d).unwrap().count();
            assert_eq!((count(&outputs[0]), count(&outputs[1])), (21, 21));
            for e in std::fs::read_dir(&outputs[0]).unwrap() {
                let name = e.unwrap().file_name();
                assert_eq!(
                    std::fs::read(outputs[0].join(&name)).unwrap(),
                    std::fs::read(outputs[1].join(&name)).unwrap(),
                    "{keys:?} reverse={reverse}: {name:?} differs"
                );
            }
        }
    }
}

/// Keys too wide to pack into 128 bits (152 here): the in-memory sort, which had already started
/// writing the columns of one value, gives way to DataFusion's sort, whose output is complete
/// and ordered.
#[test]
fn keys_too_wide_to_pack_fall_back_to_the_external_sort() {
    let trace = fixtures().join("trace20k");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let keys = ["sa3", "da3", "octets", "packets", "sp", "dp"];
    let mut args = vec!["sort", "-k"];
    args.extend_from_slice(&keys);
    args.extend(["-O", out.to_str().unwrap(), trace.to_str().unwrap()]);
    let (ok, err) = flow_models(&args);
    assert!(ok, "{err}");
    assert!(
        err.contains("wrote 20000 flows") && err.contains("spilled"),
        "{err}"
    );
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(
        names.len(),
        1,
        "no temporary directory left beside the output"
    );
    let column = |name: &str| -> Vec<u64> {
        let (file, width) = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .find(|f| f.split('.').next() == Some(name))
            .map(|f| {
                let width = if f.ends_with('Q') {
                    8
                } else if f.ends_with('H') {
                    2
                } else {
                    4
                };
                (f, width)
            })
            .unwrap();
        std::fs::read(out.join(file))
            .unwrap()
            .chunks_exact(width)
            .map(|c| c.iter().rev().fold(0, |v, &b| v << 8 | u64::from(b)))
            .collect()
    };
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 21);
    assert_eq!(column("sa0"), vec![0; 20_000]);
    let key_columns: Vec<Vec<u64>> = keys.iter().map(|k| column(k)).collect();
    let rows: Vec<Vec<u64>> = (0..20_000)
        .map(|r| key_columns.iter().map(|c| c[r]).collect())
        .collect();
    assert!(rows.windows(2).all(|w| w[0] <= w[1]), "not in key order");
}

/// `flow_sort` and `ORDER BY` in SQL, written by `COPY … STORED AS FLOWBIN`, give the trace `sort` writes,
/// byte for byte: sorted in memory, under a memory limit (DataFusion's sort, spilling), in
/// reverse, and with keys too wide to pack.
#[test]
fn flow_sort_and_order_by_write_the_trace_sort_writes() {
    let trace = fixtures().join("trace20k");
    let wide = ["sa3", "da3", "octets", "packets", "sp", "dp"];
    let cases: [(&[&str], bool, Option<&str>); 5] = [
        (&["first", "first_ms"], false, None),
        (&["sa3", "da3", "sp"], true, None),
        (&["prot", "octets"], false, Some("64M")),
        (&["af", "dp"], true, Some("64M")),
        (&wide, false, None),
    ];
    sql_sorts_as_sort(&trace, &cases);
}

/// The same on a generated trace of 1 000 000 records in which every key value is shared by
/// hundreds of records in scattered places (ties decide most of the order), in memory and
/// spilling: EXPLAIN ANALYZE shows FlowSortExec spilled under the limit.
#[test]
fn flow_sort_keeps_ties_in_input_order_in_memory_and_spilling() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("ties");
    tied_trace(&trace, 1_000_000);
    let cases: [(&[&str], bool, Option<&str>); 5] = [
        (&["first", "first_ms"], false, None),
        (&["prot"], true, None),
        (&["packets", "prot"], false, None),
        (&["first", "first_ms"], false, Some("64M")),
        (&["prot", "packets"], true, Some("64M")),
    ];
    sql_sorts_as_sort(&trace, &cases);
    let t = trace.to_str().unwrap();
    for (limit, want) in [(None, "sorted_in_memory=1"), (Some("64M"), "spill_count=")] {
        let q =
            format!("EXPLAIN ANALYZE SELECT count(*) FROM flow_sort('{t}', 'first', 'first_ms')");
        let mut args = vec!["sql", "-q", "-c", q.as_str()];
        args.extend(limit.iter().flat_map(|l| ["--memory-limit", l]));
        let out = common::ok(&args);
        let line = out
            .lines()
            .find(|l| l.contains("FlowSortExec"))
            .unwrap_or("");
        assert!(line.contains(want), "{limit:?}: {out}");
        if limit.is_some() {
            let spills = line.split("spill_count=").nth(1).unwrap_or("");
            let n: usize = spills
                .split(|c: char| !c.is_ascii_digit())
                .next()
                .unwrap()
                .parse()
                .unwrap();
            assert!(n > 0, "no spill under {limit:?}: {line}");
        }
    }
}

/// Writes a trace of `rows` records with few distinct key values, each spread over the whole
/// trace: 300 start seconds × 4 milliseconds, 3 protocols, 50 packet counts; the other
/// columns tell the records apart.
fn tied_trace(dir: &Path, rows: u64) {
    std::fs::create_dir_all(dir).unwrap();
    let mix = |i: u64, m: u64| (i.wrapping_mul(2_654_435_761) >> 7) % m;
    let write = |name: &str, value: &dyn Fn(u64) -> Vec<u8>| {
        let bytes: Vec<u8> = (0..rows).flat_map(value).collect();
        std::fs::write(dir.join(name), bytes).unwrap();
    };
    write("first.I", &|i| {
        (1_500_000_000 + mix(i, 300) as u32).to_le_bytes().to_vec()
    });
    write("first_ms.H", &|i| {
        (mix(i + 7, 4) as u16 * 250).to_le_bytes().to_vec()
    });
    write("prot.B", &|i| vec![[6u8, 17, 1][mix(i + 3, 3) as usize]]);
    write("packets.Q", &|i| {
        (1 + mix(i + 11, 50)).to_le_bytes().to_vec()
    });
    write("octets.Q", &|i| {
        (40 * (1 + mix(i + 11, 50)) + i % 1500)
            .to_le_bytes()
            .to_vec()
    });
    write("sp.H", &|i| ((i % 65_536) as u16).to_le_bytes().to_vec());
    write("aggs.I", &|_| 1u32.to_le_bytes().to_vec());
}

/// For each (keys, reverse, memory limit): `sort`, `COPY` of `flow_sort` and `COPY` of
/// `ORDER BY` write the same files.
fn sql_sorts_as_sort(trace: &Path, cases: &[(&[&str], bool, Option<&str>)]) {
    let trace = trace.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (i, &(keys, reverse, limit)) in cases.iter().enumerate() {
        let (cli, sql) = (
            dir.path().join(format!("cli{i}")),
            dir.path().join(format!("sql{i}")),
        );
        let mut args = vec!["sort", "-k"];
        args.extend_from_slice(keys);
        args.extend(reverse.then_some("--reverse"));
        args.extend(limit.iter().flat_map(|l| ["--memory-limit", l]));
        args.extend(["-O", cli.to_str().unwrap(), trace]);
        let (ok, err) = flow_models(&args);
        assert!(ok, "{args:?}: {err}");
        let quoted: Vec<String> = keys.iter().map(|k| format!("'{k}'")).collect();
        let q = format!(
            "COPY (SELECT * FROM flow_sort('{trace}', {}{})) TO '{}' STORED AS FLOWBIN",
            quoted.join(", "),
            if reverse { ", true" } else { "" },
            sql.display()
        );
        // The same with ORDER BY (FlowSortRule makes it the stable sort).
        let order = dir.path().join(format!("order{i}"));
        let direction = if reverse { " DESC" } else { "" };
        let by: Vec<String> = keys.iter().map(|k| format!("{k}{direction}")).collect();
        let q2 = format!(
            "COPY (SELECT * FROM flowbin('{trace}') ORDER BY {}) TO '{}' STORED AS FLOWBIN",
            by.join(", "),
            order.display()
        );
        for q in [&q, &q2] {
            let mut args = vec!["sql", "-q", "-c", q.as_str()];
            args.extend(limit.iter().flat_map(|l| ["--memory-limit", l]));
            let (ok, err) = flow_models(&args);
            assert!(ok, "{q}: {err}");
        }
        let mut names: Vec<_> = std::fs::read_dir(&cli)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(names.len(), std::fs::read_dir(trace).unwrap().count());
        for name in names {
            let want = std::fs::read(cli.join(&name)).unwrap();
            for (how, out) in [("flow_sort", &sql), ("ORDER BY", &order)] {
                assert!(
                    want == std::fs::read(out.join(&name)).unwrap(),
                    "{how} {keys:?} reverse={reverse} limit={limit:?}: {name:?} differs"
                );
            }
        }
    }
}
