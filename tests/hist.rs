//! Histograms against the original flow-models 2.2 (fixtures made by tests/fixtures/make_hist.sh
//! on examples/data/sample), the fast path against the plain GROUP BY, and `log_bin` against
//! every published reference histogram.

use arrow::array::{ArrayRef, RecordBatch, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema};
use datafusion::assert_batches_eq;
use datafusion::datasource::MemTable;
use datafusion::prelude::{SessionConfig, SessionContext};
use flow_models::flow_provider::SessionContextFlowExt;
use flow_models::flow_udfs::hist::{HistSpec, SumColumn, XValue, histogram, write_csv_hist};
use std::sync::Arc;

const SAMPLE: &str = "examples/data/sample";
const DATA: &str = "tests/data/hist";

fn context(partitions: usize) -> SessionContext {
    let config = SessionConfig::new().with_target_partitions(partitions);
    let ctx = SessionContext::new_with_config(config);
    flow_models::register_all(&ctx).unwrap();
    ctx
}

fn csv(batches: &[RecordBatch]) -> String {
    assert!(!batches.is_empty(), "no batches");
    let mut out = Vec::new();
    for (i, b) in batches.iter().enumerate() {
        let mut text = Vec::new();
        write_csv_hist(b, &mut text).unwrap();
        // Keep one header when a query returns several batches.
        let skip = if i == 0 {
            0
        } else {
            text.iter().position(|&c| c == b'\n').unwrap() + 1
        };
        out.extend_from_slice(&text[skip..]);
    }
    String::from_utf8(out).unwrap()
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{DATA}/{name}.csv")).unwrap()
}

/// Our csv_hist of the sample, cut and filtered like `flow-models hist`.
async fn ours(
    spec: &HistSpec,
    skip_in: usize,
    count_in: Option<usize>,
    filter: Option<&str>,
) -> String {
    let ordered = skip_in > 0 || count_in.is_some();
    let ctx = context(if ordered { 1 } else { 2 });
    let mut df = ctx.read_flowbin(&[SAMPLE]).unwrap();
    if ordered {
        df = df.limit(skip_in, count_in).unwrap();
    }
    if let Some(filter) = filter {
        let predicate = df.parse_sql_expr(filter).unwrap();
        df = df.filter(predicate).unwrap();
    }
    let batch = histogram(df, spec, |_| {}).await.unwrap();
    csv(&[batch])
}

/// Equal line by line; the `rate_sum` column (a floating sum printed truncated) may differ by
/// the truncation of a last-bit difference: at most 1 + 1e-9 relative.
fn assert_same(what: &str, got: &str, expected: &str) {
    let (g, e): (Vec<_>, Vec<_>) = (got.lines().collect(), expected.lines().collect());
    assert_eq!(g.len(), e.len(), "{what}: line count\n{got}");
    assert_eq!(g[0], e[0], "{what}: header");
    let rate = e[0].split(',').position(|c| c == "rate_sum");
    for (n, (gl, el)) in g.iter().zip(&e).enumerate().skip(1) {
        let (gf, ef): (Vec<_>, Vec<_>) = (gl.split(',').collect(), el.split(',').collect());
        assert_eq!(gf.len(), ef.len(), "{what}: line {}", n + 1);
        for (c, (a, b)) in gf.iter().zip(&ef).enumerate() {
            if Some(c) == rate {
                let (a, b): (f64, f64) = (a.parse().unwrap(), b.parse().unwrap());
                assert!(
                    (a - b).abs() <= 1.0 + 1e-9 * b.abs(),
                    "{what}: line {}: {gl} vs {el}",
                    n + 1
                );
            } else {
                assert_eq!(a, b, "{what}: line {}: {gl} vs {el}", n + 1);
            }
        }
    }
}

fn spec(x: XValue, bits: u32, columns: &[SumColumn]) -> HistSpec {
    HistSpec::new(x, bits, columns.to_vec())
}

use SumColumn::{Aggs, Duration, Rate};

/// Fixture name, spec, --skip-in, --count-in, --filter.
type Case = (
    &'static str,
    HistSpec,
    usize,
    Option<usize>,
    Option<&'static str>,
);

#[tokio::test]
async fn equals_the_original() {
    let all = [Duration, Rate, Aggs];
    let cases: Vec<Case> = vec![
        ("length_b0", spec(XValue::Length, 0, &[]), 0, None, None),
        ("length_b12", spec(XValue::Length, 12, &[]), 0, None, None),
        ("size_b0", spec(XValue::Size, 0, &[]), 0, None, None),
        ("size_b12", spec(XValue::Size, 12, &[]), 0, None, None),
        (
            "length_b0_cols",
            spec(XValue::Length, 0, &all),
            0,
            None,
            None,
        ),
        (
            "length_b12_cols",
            spec(XValue::Length, 12, &all),
            0,
            None,
            None,
        ),
        ("size_b12_cols", spec(XValue::Size, 12, &all), 0, None, None),
        (
            "length_b12_udp",
            spec(XValue::Length, 12, &[]),
            0,
            None,
            Some("prot = 17"),
        ),
        (
            "size_b12_udp",
            spec(XValue::Size, 12, &[]),
            0,
            None,
            Some("prot = 17"),
        ),
        (
            "duration_b6",
            spec(XValue::Duration, 6, &[Duration]),
            0,
            None,
            None,
        ),
        (
            "rate_b6",
            spec(XValue::Rate, 6, &[Rate, Aggs]),
            0,
            None,
            None,
        ),
        (
            "duration_b8_rate",
            spec(XValue::Duration, 8, &[Rate]),
            0,
            None,
            None,
        ),
        (
            "length_b12_cut",
            spec(XValue::Length, 12, &[]),
            1000,
            Some(20000),
            None,
        ),
        (
            "length_b12_empty",
            spec(XValue::Length, 12, &[]),
            0,
            Some(0),
            None,
        ),
        (
            "length_b12_none",
            spec(XValue::Length, 12, &[]),
            0,
            None,
            Some("prot = 255"),
        ),
    ];
    for (name, spec, skip, count, filter) in cases {
        assert_same(
            name,
            &ours(&spec, skip, count, filter).await,
            &fixture(name),
        );
    }
}

/// Integer columns byte-identical, and no rate_sum tolerance needed where the original's naive
/// float sum happens to truncate like the exact one.
#[tokio::test]
async fn integer_outputs_are_byte_identical() {
    for (name, x, bits) in [
        ("length_b0", XValue::Length, 0),
        ("length_b12", XValue::Length, 12),
        ("size_b0", XValue::Size, 0),
        ("size_b12", XValue::Size, 12),
    ] {
        assert_eq!(
            ours(&spec(x, bits, &[]), 0, None, None).await,
            fixture(name),
            "{name}"
        );
    }
}

/// The original's `-b 0` rate bins are keyed by the float, so several lines share a bin_lo
/// (here `hist -x rate -b 0 -c duration --count-in 2000`); ours has one line per integer part,
/// holding exactly the sums of the original's lines with that bin_lo.
#[tokio::test]
async fn rate_b0_has_one_line_per_bin() {
    let original = fixture("rate_b0");
    let got = ours(&spec(XValue::Rate, 0, &[Duration]), 0, Some(2000), None).await;
    let mut merged: std::collections::BTreeMap<i128, [i128; 5]> = Default::default();
    for line in original.lines().skip(1) {
        let v: Vec<i128> = line.split(',').map(|f| f.parse().unwrap()).collect();
        let e = merged.entry(v[0]).or_default();
        e[0] = v[1];
        for (i, sum) in e.iter_mut().enumerate().skip(1) {
            *sum += v[i + 1];
        }
    }
    assert!(
        merged.len() + 100 < original.lines().count(),
        "the original repeats bin_lo values"
    );
    let expected: Vec<String> = merged
        .iter()
        .map(|(lo, s)| format!("{lo},{},{},{},{},{}", s[0], s[1], s[2], s[3], s[4]))
        .collect();
    let got: Vec<&str> = got.lines().skip(1).collect();
    assert_eq!(got, expected);
}

/// The original loads the timestamps only when `-c duration` or `-c rate` is given, so
/// `-x duration` alone bins every flow at duration 0. Ours computes the real durations: the
/// same bins as the original's `-x duration -b 6 -c duration`, without the extra column.
#[tokio::test]
async fn duration_without_duration_column() {
    let original = fixture("duration_b12_nocols");
    assert_eq!(
        original.lines().nth(1),
        Some("0,1,50000,7208670,6850552003"),
        "the original's bug"
    );
    let got = ours(&spec(XValue::Duration, 6, &[]), 0, None, None).await;
    let with_column: Vec<String> = fixture("duration_b6")
        .lines()
        .map(|l| l.rsplit_once(',').unwrap().0.to_string())
        .collect();
    assert_eq!(got.lines().collect::<Vec<_>>(), with_column);
}

/// rate_sum is a compensated sum: where the exact sum is an integer the original's running float
/// sum can fall just below it and print one less. In bin [70, 71) every flow lasts 70 ms, so the
/// exact rate sum is 8000 · octets_sum / 70.
#[tokio::test]
async fn rate_sum_is_exact_where_the_original_rounds_down() {
    let got = ours(&spec(XValue::Duration, 8, &[Rate]), 0, None, None).await;
    let line = |text: &str| {
        text.lines()
            .find(|l| l.starts_with("70,71,"))
            .unwrap()
            .to_string()
    };
    let (ours, original) = (line(&got), line(&fixture("duration_b8_rate")));
    let octets: u64 = ours.split(',').nth(4).unwrap().parse().unwrap();
    assert_eq!(8000 * octets % 70, 0);
    assert_eq!(ours, format!("70,71,10,24,{octets},{}", 8000 * octets / 70));
    assert_eq!(
        original,
        format!("70,71,10,24,{octets},{}", 8000 * octets / 70 - 1)
    );
}

async fn sql(ctx: &SessionContext, query: &str) -> Vec<RecordBatch> {
    ctx.sql(query).await.unwrap().collect().await.unwrap()
}

/// flow_hist (the fast path) and the GROUP BY twin give the same rows.
#[tokio::test]
async fn fast_path_equals_group_by() {
    let ctx = context(2);
    ctx.register_flowbin("flows", SAMPLE).unwrap();
    ctx.sql("CREATE VIEW udp AS SELECT * FROM flows WHERE prot = 17")
        .await
        .unwrap();
    let all = [Duration, Rate, Aggs];
    let specs = [
        spec(XValue::Length, 0, &all),
        spec(XValue::Length, 12, &all),
        spec(XValue::Size, 0, &[]),
        spec(XValue::Size, 3, &all),
        spec(XValue::Size, 12, &all),
        spec(XValue::Size, 64, &[]),
        spec(XValue::Duration, 0, &[Duration]),
        spec(XValue::Duration, 12, &all),
        spec(XValue::Rate, 0, &all),
        spec(XValue::Rate, 12, &all),
    ];
    for table in ["flows", "udp"] {
        for s in &specs {
            let mut args = format!("'{table}', '{}', {}", s.x, s.bits);
            for c in &s.columns {
                args += &format!(", '{}'", c.name());
            }
            let fast = csv(&sql(&ctx, &format!("SELECT * FROM flow_hist({args})")).await);
            let plain = csv(&sql(&ctx, &s.group_by_sql(table)).await);
            assert_same(&format!("{table} {s:?}"), &fast, &plain);
            assert!(fast.lines().count() > 2, "{table} {s:?}: a real histogram");
        }
    }
    // A path works like a registered table, and a projection picks columns.
    let by_path = sql(
        &ctx,
        &format!("SELECT bin_hi, flows_sum FROM flow_hist('{SAMPLE}', 'length', 12) LIMIT 3"),
    )
    .await;
    assert_batches_eq!(
        [
            "+--------+-----------+",
            "| bin_hi | flows_sum |",
            "+--------+-----------+",
            "| 2      | 20034     |",
            "| 3      | 8135      |",
            "| 4      | 2609      |",
            "+--------+-----------+",
        ],
        &by_path
    );
}

#[tokio::test]
async fn canonical_sql_file_is_the_group_by() {
    let text = std::fs::read_to_string("sql/hist.sql").unwrap();
    let statement: String = text
        .lines()
        .filter(|l| !l.starts_with("--"))
        .map(|l| format!("{l}\n"))
        .collect();
    let spec = spec(XValue::Length, 12, &[Duration, Rate, Aggs]);
    assert_eq!(statement, spec.group_by_sql("flows"));
    let ctx = context(2);
    ctx.register_flowbin("flows", SAMPLE).unwrap();
    assert_same(
        "sql/hist.sql",
        &csv(&sql(&ctx, &statement).await),
        &fixture("length_b12_cols"),
    );
}

/// Every (bin_lo, bin_hi) of the published histograms (made with -b 12, or -b 0 for *_b0.csv):
/// both the first and the last value of each bin map to it.
#[tokio::test]
async fn log_bin_matches_the_published_histograms() {
    for (file, bits) in [("reference_b12", 12), ("reference_b0", 0)] {
        let text = fixture(file);
        let rows: Vec<(u64, u64)> = text
            .lines()
            .skip(1)
            .map(|l| {
                let (lo, hi) = l.split_once(',').unwrap();
                (lo.parse().unwrap(), hi.parse().unwrap())
            })
            .collect();
        assert!(rows.len() > 30_000, "{file}: {} rows", rows.len());
        let x: Vec<u64> = rows.iter().flat_map(|&(lo, hi)| [lo, hi - 1]).collect();
        let ctx = context(1);
        let batch = RecordBatch::try_new(
            Arc::new(Schema::new(vec![Field::new("x", DataType::UInt64, false)])),
            vec![Arc::new(UInt64Array::from(x)) as ArrayRef],
        )
        .unwrap();
        ctx.register_table(
            "t",
            Arc::new(MemTable::try_new(batch.schema(), vec![vec![batch]]).unwrap()),
        )
        .unwrap();
        let q = format!(
            "SELECT CAST(log_bin(x, {bits}) AS VARCHAR) || ',' || CAST(log_bin_hi(x, {bits}) AS VARCHAR) AS b FROM t"
        );
        let batches = sql(&ctx, &q).await;
        let got: Vec<String> = batches
            .iter()
            .flat_map(|b| {
                let a = arrow::compute::cast(b.column(0), &DataType::Utf8).unwrap();
                let a = a
                    .as_any()
                    .downcast_ref::<arrow::array::StringArray>()
                    .unwrap()
                    .clone();
                a.iter().map(|s| s.unwrap().to_string()).collect::<Vec<_>>()
            })
            .collect();
        let expected: Vec<String> = text
            .lines()
            .skip(1)
            .flat_map(|l| [l.to_string(), l.to_string()])
            .collect();
        assert_eq!(got, expected, "{file}");
    }
}

#[tokio::test]
async fn log_bin_edge_cases() {
    let ctx = context(1);
    let max = "arrow_cast(18446744073709551615, 'UInt64')";
    let q = format!(
        "SELECT log_bin(arrow_cast(0, 'UInt64'), 12) AS a, log_bin_hi(arrow_cast(0, 'UInt64'), 12) AS b, \
         log_bin({max}, 12) AS c, log_bin_hi({max}, 12) AS d, log_bin({max}, 64) AS e, \
         log_bin_hi({max}, 100) AS f, log_bin(-5, 1) AS g, log_bin_hi(-5, 1) AS h, \
         log_bin(5000.7, 12) AS i, log_bin_hi(2.5, 0) AS j"
    );
    assert_batches_eq!(
        [
            "+---+---+----------------------+----------------------+----------------------+----------------------+----+----+--------+-----+",
            "| a | b | c                    | d                    | e                    | f                    | g  | h  | i      | j   |",
            "+---+---+----------------------+----------------------+----------------------+----------------------+----+----+--------+-----+",
            "| 0 | 1 | 18442240474082181120 | 18446744073709551616 | 18446744073709551615 | 18446744073709551616 | -8 | -4 | 5000.0 | 3.0 |",
            "+---+---+----------------------+----------------------+----------------------+----------------------+----+----+--------+-----+",
        ],
        &sql(&ctx, &q).await
    );
    // Python: 8000 * 1500 / 7 == 1714285.7142857143
    let q = "SELECT flow_duration(10, 500, 20, 100, 1) AS single, flow_duration(10, 500, 20, 100, 2) AS d, \
             flow_rate(1500, 7) AS r, flow_rate(1500, 0) AS r0";
    assert_batches_eq!(
        [
            "+--------+------+--------------------+-----+",
            "| single | d    | r                  | r0  |",
            "+--------+------+--------------------+-----+",
            "| 0      | 9600 | 1714285.7142857143 | 0.0 |",
            "+--------+------+--------------------+-----+",
        ],
        &sql(&ctx, q).await
    );
}

/// Extreme values through the fast path (dense array, sparse map and both edges of u64) equal
/// the GROUP BY; the largest bin's upper edge is 2^64.
#[tokio::test]
async fn extreme_values() {
    let packets = [
        0,
        1,
        2,
        4095,
        4096,
        1 << 20,
        (1 << 63) + 12345,
        u64::MAX - 1,
        u64::MAX,
    ];
    let fields = [
        "packets", "octets", "first", "first_ms", "last", "last_ms", "aggs",
    ];
    let schema = Arc::new(Schema::new(
        fields
            .iter()
            .map(|f| Field::new(*f, DataType::UInt64, false))
            .collect::<Vec<_>>(),
    ));
    let column = |f: &str| -> ArrayRef {
        Arc::new(UInt64Array::from_iter_values(
            packets.iter().enumerate().map(|(i, &p)| match f {
                "packets" => p,
                "octets" => u64::MAX - i as u64,
                "last" => 1000 + i as u64,
                "first" => 1000,
                _ => i as u64,
            }),
        ))
    };
    let batch =
        RecordBatch::try_new(schema.clone(), fields.iter().map(|f| column(f)).collect()).unwrap();
    let ctx = context(2);
    ctx.register_table(
        "t",
        Arc::new(MemTable::try_new(schema, vec![vec![batch]]).unwrap()),
    )
    .unwrap();
    for (x, bits) in [
        (XValue::Length, 0),
        (XValue::Length, 12),
        (XValue::Length, 64),
        (XValue::Size, 1),
        (XValue::Rate, 0),
        (XValue::Rate, 12),
    ] {
        let s = spec(x, bits, &[Duration, Rate, Aggs]);
        let args = format!("'t', '{x}', {bits}, 'duration', 'rate', 'aggs'");
        let fast = csv(&sql(&ctx, &format!("SELECT * FROM flow_hist({args})")).await);
        assert_same(
            &format!("{s:?}"),
            &fast,
            &csv(&sql(&ctx, &s.group_by_sql("t")).await),
        );
        if x == XValue::Length && bits == 12 {
            assert!(
                fast.contains("\n18442240474082181120,18446744073709551616,2,"),
                "{fast}"
            );
        }
    }
}

#[tokio::test]
async fn empty_and_filtered_inputs_give_a_header_only() {
    let ctx = context(2);
    ctx.register_flowbin("flows", SAMPLE).unwrap();
    ctx.sql("CREATE VIEW none AS SELECT * FROM flows WHERE prot = 255")
        .await
        .unwrap();
    let got = csv(&sql(&ctx, "SELECT * FROM flow_hist('none', 'size', 12, 'rate')").await);
    assert_eq!(
        got,
        "bin_lo,bin_hi,flows_sum,packets_sum,octets_sum,rate_sum\n"
    );
}

#[tokio::test]
async fn bad_arguments_are_planning_errors() {
    let ctx = context(1);
    for (q, msg) in [
        (
            "SELECT * FROM flow_hist('x', 'volume', 12)",
            "unknown x value 'volume'",
        ),
        (
            "SELECT * FROM flow_hist('x', 'length', 12, 'packets')",
            "unknown column to sum 'packets'",
        ),
        (
            "SELECT * FROM flow_hist('x', 'length')",
            "too few arguments",
        ),
        (
            "SELECT * FROM flow_hist('/nonexistent', 'length', 12)",
            "neither a registered table nor a readable trace",
        ),
    ] {
        let err = match ctx.sql(q).await {
            Ok(df) => df.collect().await.unwrap_err().to_string(),
            Err(e) => e.to_string(),
        };
        assert!(err.contains(msg), "{q}: {err}");
    }
}
