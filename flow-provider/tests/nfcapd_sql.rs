//! The nfcapd table through SQL: every record of every fixture equal to nfdump's pipe output,
//! totals equal to `nfdump -I`, parallel scans (files and block ranges), directory trees,
//! `STORED AS NFCAPD`, options, and errors naming file, block and offset.
mod nfcapd_common;

use arrow::array::AsArray;
use datafusion::arrow::datatypes::UInt64Type;
use datafusion::prelude::SessionContext;
use nfcapd_common::*;
use nfcapd_decode::{Compression, Layout, read_header};
use std::path::Path;

async fn query_err(ctx: &SessionContext, sql: &str) -> String {
    match ctx.sql(sql).await {
        Ok(df) => df
            .collect()
            .await
            .expect_err("query should fail")
            .to_string(),
        Err(e) => e.to_string(),
    }
}

fn sql_path(p: &Path) -> String {
    p.display().to_string()
}

#[tokio::test]
async fn every_record_equals_nfdump_pipe_output() {
    let ctx = context(1);
    for name in FIXTURES {
        let path = sql_path(&data_path(name));
        let layout = read_header(&load(name)).unwrap().layout;
        let got = lines(&ctx, &pipe_sql(&format!("nfcapd('{path}')"), layout)).await;
        let expected = load_text(&format!("{name}.expected.txt"));
        let expected: Vec<&str> = expected.lines().collect();
        assert_eq!(got, expected, "{name}");
    }
}

/// Addresses as text, record for record as nfdump 1.7.1 prints them (`-o csv`, F.csv.txt):
/// `src_ip`, `dst_ip` (IPv4 and IPv6), next hops and the exporting router.
#[tokio::test]
async fn addresses_as_text_equal_nfdump_csv() {
    let ctx = context(1);
    let mut v6 = 0;
    for name in FIXTURES {
        let path = sql_path(&data_path(name));
        let sql = format!(
            "SELECT concat_ws(',', src_ip, dst_ip, next_hop, bgp_next_hop, router_ip) \
             FROM nfcapd('{path}')"
        );
        let got = lines(&ctx, &sql).await;
        let expected: Vec<String> = load_text(&format!("{name}.csv.txt"))
            .lines()
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                format!("{},{},{},{},{}", f[3], f[4], f[23], f[24], f[44])
            })
            .collect();
        assert_eq!(got, expected, "{name}");
        v6 += got.iter().filter(|l| l.contains("::")).count();
    }
    assert!(v6 > 400, "{v6} records with IPv6 addresses");
}

#[tokio::test]
async fn totals_equal_nfdump_info() {
    let ctx = context(2);
    for name in FIXTURES {
        let path = sql_path(&data_path(name));
        let stat = parse_stat(&load_text(&format!("{name}.stat.txt")));
        // From the records themselves, as nfdump -I counts them (aggs = flows per record).
        let sql = format!(
            "SELECT concat_ws('|', sum(aggs), sum(packets), sum(octets), \
               sum(CASE WHEN prot = 6 THEN aggs ELSE 0 END), \
               sum(CASE WHEN prot = 17 THEN octets ELSE 0 END), \
               sum(CASE WHEN prot IN (1, 58) THEN packets ELSE 0 END), \
               min(first * 1000 + first_ms), max(last * 1000 + last_ms)) FROM nfcapd('{path}')"
        );
        let first = stat["First"].parse::<u64>().unwrap() * 1000
            + stat["msec_first"].parse::<u64>().unwrap();
        let last =
            stat["Last"].parse::<u64>().unwrap() * 1000 + stat["msec_last"].parse::<u64>().unwrap();
        let want = format!(
            "{}|{}|{}|{}|{}|{}|{first}|{last}",
            stat["Flows"],
            stat["Packets"],
            stat["Bytes"],
            stat["Flows_tcp"],
            stat["Bytes_udp"],
            stat["Packets_icmp"]
        );
        assert_eq!(lines(&ctx, &sql).await, vec![want], "{name}");
        // From the header/appendix, through nfcapd_info().
        let sql = format!(
            "SELECT concat_ws('|', ident, flows, packets, bytes, flows_tcp, flows_udp, \
               flows_icmp, flows_other, bytes_tcp, packets_udp, sequence_failures) \
             FROM nfcapd_info('{path}')"
        );
        let want = [
            "Ident",
            "Flows",
            "Packets",
            "Bytes",
            "Flows_tcp",
            "Flows_udp",
            "Flows_icmp",
            "Flows_other",
            "Bytes_tcp",
            "Packets_udp",
            "Sequence failures",
        ]
        .map(|k| stat[k].clone())
        .join("|");
        assert_eq!(lines(&ctx, &sql).await, vec![want], "{name}");
    }
}

#[tokio::test]
async fn info_reports_layout_compression_and_blocks() {
    let ctx = context(1);
    let paths: Vec<String> = FIXTURES
        .iter()
        .map(|n| format!("'{}'", sql_path(&data_path(n))))
        .collect();
    let sql = format!(
        "SELECT concat_ws('|', regexp_replace(file, '.*/', ''), layout, compression, \
           coalesce(nfdump_version, '-'), blocks) FROM nfcapd_info({}) ORDER BY file",
        paths.join(", ")
    );
    let got = lines(&ctx, &sql).await;
    assert!(
        got.contains(&"nf1622_sfipfix_mixed_bz2.nfcapd|1|bz2|-|1".to_string()),
        "{got:?}"
    );
    assert!(
        got.contains(&"nf171_nfpcapd_small_lz4.nfcapd|2|lz4|1.7.1|1".to_string()),
        "{got:?}"
    );
    assert!(
        got.contains(&"nf171_sfipfix_mixed_lzo.nfcapd|2|lzo|1.7.1|1".to_string()),
        "{got:?}"
    );
}

/// Writes the fixtures, split into many blocks and recompressed (ZSTD for 1.7), into `dir`
/// laid out like a collector tree, with nfcapd's side files beside them.
fn collector_tree(dir: &Path) -> Vec<(String, Layout)> {
    let mut written = Vec::new();
    for (i, name) in FIXTURES.iter().enumerate() {
        let bytes = load(name);
        let layout = read_header(&bytes).unwrap().layout;
        let to = if layout == Layout::V2 {
            Compression::Zstd
        } else {
            Compression::Lz4
        };
        let day = dir.join(format!("2024/01/{:02}", i + 1));
        std::fs::create_dir_all(&day).unwrap();
        std::fs::write(
            day.join(format!("nfcapd.202401{:02}1200", i + 1)),
            rewrite(&bytes, to, Some(9)),
        )
        .unwrap();
        std::fs::write(day.join(format!("nfcapd.current.{}", 4000 + i)), b"partial").unwrap();
        written.push((name.to_string(), layout));
    }
    std::fs::write(dir.join(".nfstat"), b"stat").unwrap();
    written
}

#[tokio::test]
async fn directory_tree_in_parallel_block_ranges_equals_nfdump() {
    // not a hidden directory: DataFusion's listing skips those
    let dir = tempfile::Builder::new()
        .prefix("nfcapd-tree")
        .tempdir()
        .unwrap();
    let files = collector_tree(dir.path());
    let mut expected: Vec<String> = Vec::new();
    for (name, layout) in &files {
        let text = load_text(&format!("{name}.expected.txt"));
        expected.extend(text.lines().map(|l| match layout {
            Layout::V2 => l.to_string(),
            // the 1.6 lines in the 1.7 layout: seconds|ms joined into epoch ms
            Layout::V1 => {
                let f: Vec<&str> = l.split('|').collect();
                let ms =
                    |s: &str, m: &str| s.parse::<u64>().unwrap() * 1000 + m.parse::<u64>().unwrap();
                format!(
                    "{}|{}|{}|{}",
                    f[0],
                    ms(f[1], f[2]),
                    ms(f[3], f[4]),
                    f[5..].join("|")
                )
            }
        }));
    }
    expected.sort();
    for partitions in [1, 2, 4] {
        let ctx = context(partitions);
        // Split even these small files into byte ranges, so 1.7 blocks spread over partitions.
        ctx.sql("SET datafusion.optimizer.repartition_file_min_size = 1")
            .await
            .unwrap();
        let source = format!("nfcapd('{}')", sql_path(dir.path()));
        let mut got = lines(&ctx, &pipe_sql(&source, Layout::V2)).await;
        got.sort();
        assert_eq!(got.len(), expected.len(), "{partitions} partitions");
        assert_eq!(got, expected, "{partitions} partitions");
        if partitions == 4 {
            let explain = format!("EXPLAIN SELECT count(*) FROM {source}");
            let batches = ctx.sql(&explain).await.unwrap().collect().await.unwrap();
            let plan = arrow::util::pretty::pretty_format_batches(&batches)
                .unwrap()
                .to_string();
            assert!(plan.contains("file_groups={4 groups"), "{plan}");
        }
    }
}

#[tokio::test]
async fn stored_as_nfcapd_and_register_nfcapd() {
    use flow_provider::SessionContextFlowExt;
    use flow_provider::nfcapd::NfcapdOptions;
    let ctx = context(2);
    let path = sql_path(&data_path("nf171_sfipfix_mixed_lzo.nfcapd"));
    ctx.sql(&format!(
        "CREATE EXTERNAL TABLE t STORED AS NFCAPD LOCATION '{path}'"
    ))
    .await
    .unwrap();
    ctx.register_nfcapd("r", &[&path], NfcapdOptions::default())
        .unwrap();
    let stat = parse_stat(&load_text("nf171_sfipfix_mixed_lzo.nfcapd.stat.txt"));
    for table in ["t", "r"] {
        let b = ctx
            .sql(&format!("SELECT sum(octets) FROM {table}"))
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let v = b[0].column(0).as_primitive::<UInt64Type>().value(0);
        assert_eq!(v.to_string(), stat["Bytes"], "{table}");
    }
    let df = ctx.read_nfcapd(&[&path], NfcapdOptions::default()).unwrap();
    assert_eq!(df.count().await.unwrap(), 450);
    let e = query_err(
        &ctx,
        &format!(
            "CREATE EXTERNAL TABLE u STORED AS NFCAPD LOCATION '{path}' OPTIONS ('colour' 'red')"
        ),
    )
    .await;
    assert!(e.contains("unknown option") && e.contains("colour"), "{e}");
}

/// A collector's directory tree (`yyyy/mm/dd/nfcapd.YYYYMMDDhhmm`, no extension) as a table:
/// every file below the location is read, as `nfcapd('dir')` reads it.
#[tokio::test]
async fn stored_as_nfcapd_reads_a_collector_tree() {
    let dir = tempfile::tempdir().unwrap();
    let mut expected = 0;
    for (day, name) in [
        ("2024/01/01", "nf171_sfipfix_mixed_lzo.nfcapd"),
        ("2024/01/02", "nf171_nfpcapd_small_lz4.nfcapd"),
    ] {
        let folder = dir.path().join(day);
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::copy(data_path(name), folder.join("nfcapd.202401011200")).unwrap();
        let stat = parse_stat(&load_text(&format!("{name}.stat.txt")));
        expected += stat["Flows"].parse::<u64>().unwrap();
    }
    std::fs::write(dir.path().join(".nfstat"), b"collector statistics").unwrap();
    let ctx = context(2);
    let root = sql_path(dir.path());
    ctx.sql(&format!(
        "CREATE EXTERNAL TABLE day STORED AS NFCAPD LOCATION '{root}' OPTIONS ('skip_corrupt' 'false')"
    ))
    .await
    .unwrap();
    let by_table = lines(&ctx, "SELECT count(*) FROM day").await;
    let by_function = lines(&ctx, &format!("SELECT count(*) FROM nfcapd('{root}')")).await;
    assert_eq!(by_table, vec![expected.to_string()]);
    assert_eq!(by_function, by_table);
}

#[tokio::test]
async fn corrupt_block_fails_with_position_or_is_skipped_and_counted() {
    let dir = tempfile::Builder::new()
        .prefix("nfcapd-bad")
        .tempdir()
        .unwrap();
    let split = rewrite(
        &load("nf171_sfipfix_mixed_lzo.nfcapd"),
        Compression::Lz4,
        Some(100),
    );
    let info = read_header(&split).unwrap();
    let b1 = nfcapd_decode::blocks_with(&split, &info)
        .nth(1)
        .unwrap()
        .unwrap();
    let mut bad = split.clone();
    let p = b1.offset as usize + 12;
    bad[p..p + 8].fill(0xff);
    let path = dir.path().join("nfcapd.202401011200");
    std::fs::write(&path, &bad).unwrap();
    let path = sql_path(&path);
    let ctx = context(1);
    let e = query_err(&ctx, &format!("SELECT count(*) FROM nfcapd('{path}')")).await;
    assert!(
        e.contains(&path) && e.contains(&format!("block 1 at byte offset {}", b1.offset)),
        "{e}"
    );
    assert!(e.contains("LZ4 decompression failed"), "{e}");
    // skipped: every record except the 100 of block 1 (which holds only flows)
    let n = lines(
        &ctx,
        &format!("SELECT count(*) FROM nfcapd('{path}', true)"),
    )
    .await;
    assert_eq!(n, vec!["350"]);
    // ... and counted in the scan's metrics (the CLI prints them with the file and first error)
    let sql = format!("EXPLAIN ANALYZE SELECT count(*) FROM nfcapd('{path}', true)");
    let batches = ctx.sql(&sql).await.unwrap().collect().await.unwrap();
    let analyze = arrow::util::pretty::pretty_format_batches(&batches)
        .unwrap()
        .to_string();
    assert!(
        analyze.contains("corrupt_blocks_skipped=1") && analyze.contains("flows=350"),
        "{analyze}"
    );
    ctx.sql(&format!(
        "CREATE EXTERNAL TABLE s STORED AS NFCAPD LOCATION '{path}' OPTIONS ('skip_corrupt' 'true')"
    ))
    .await
    .unwrap();
    assert_eq!(lines(&ctx, "SELECT count(*) FROM s").await, vec!["350"]);
}

#[tokio::test]
async fn bad_files_are_errors_naming_the_file() {
    let dir = tempfile::Builder::new()
        .prefix("nfcapd-bad")
        .tempdir()
        .unwrap();
    let good = load("nf171_nfpcapd_small_lz4.nfcapd");
    let cases: [(&str, Vec<u8>, &str); 4] = [
        ("empty", Vec::new(), "at byte offset 0: empty file"),
        (
            "magic",
            vec![0x12, 0x34, 2, 0, 0, 0, 0, 0],
            "bad magic 0x3412",
        ),
        (
            "truncated",
            good[..good.len() / 2].to_vec(),
            "appendix offset",
        ),
        (
            "short-header",
            good[..20].to_vec(),
            "truncated layout 2 header",
        ),
    ];
    let ctx = context(1);
    for (name, bytes, reason) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let path = sql_path(&path);
        let e = query_err(&ctx, &format!("SELECT count(*) FROM nfcapd('{path}')")).await;
        assert!(
            e.contains(&format!("nfcapd file {path}")) && e.contains(reason),
            "{name}: {e}"
        );
        // skipping a broken file gives no rows, not an error
        let n = lines(
            &ctx,
            &format!("SELECT count(*) FROM nfcapd('{path}', true)"),
        )
        .await;
        assert_eq!(n, vec!["0"], "{name}");
    }
}

#[tokio::test]
async fn mutated_files_through_sql_give_rows_or_errors_never_panics() {
    let dir = tempfile::Builder::new()
        .prefix("nfcapd-mut")
        .tempdir()
        .unwrap();
    let orig = rewrite(
        &load("nf171_sfipfix_mixed_lzo.nfcapd"),
        Compression::Lz4,
        Some(40),
    );
    let v1 = rewrite(
        &load("nf1622_sfv5_mixed_lzo.nfcapd"),
        Compression::Lz4,
        Some(40),
    );
    let ctx = context(2);
    ctx.sql("SET datafusion.optimizer.repartition_file_min_size = 1")
        .await
        .unwrap();
    let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
    for (i, base) in [orig, v1].iter().cycle().take(200).enumerate() {
        let mut b = base.clone();
        if i % 4 == 0 {
            b.truncate(rng.below(b.len()));
        } else {
            for _ in 0..1 + rng.below(4) {
                let p = rng.below(b.len());
                b[p] ^= 1 << rng.below(8);
            }
        }
        let path = dir.path().join(format!("m{i}"));
        std::fs::write(&path, &b).unwrap();
        for skip in ["false", "true"] {
            let sql = format!(
                "SELECT count(*), sum(octets) FROM nfcapd('{}', {skip})",
                sql_path(&path)
            );
            let result = match ctx.sql(&sql).await {
                Ok(df) => df.collect().await.map(|_| ()),
                Err(e) => Err(e),
            };
            if let Err(e) = result {
                let e = e.to_string();
                assert!(e.contains("nfcapd file") && !e.contains("panic"), "{e}");
            }
        }
    }
}
