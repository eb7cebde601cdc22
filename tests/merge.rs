//! merge and sort against the original flow-models 2.2: fixtures made by
//! `tests/fixtures/merge/make_fixtures.py` from the original's own output.

use arrow::array::AsArray;
use datafusion::catalog::TableProvider;
use datafusion::execution::memory_pool::{FairSpillPool, MemoryPool};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::physical_plan::{collect, displayable, execute_stream};
use datafusion::prelude::{SessionConfig, SessionContext};
use flow_provider::SessionContextFlowExt;
use flow_provider::binary::FlowBinTable;
use flow_provider::sink::{OutputFormat, write_stream};
use flow_provider::text::LineFormat;
use flow_udfs::merge::{self, Counters, MergeParams, MergeTable};
use flow_udfs::sort::{SortPlan, sort_plan};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

mod common;
use common::{Row, rows};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/merge")
        .join(name)
}

fn trace() -> String {
    fixture("trace20k").to_string_lossy().into_owned()
}

fn context(partitions: usize) -> SessionContext {
    let ctx =
        SessionContext::new_with_config(SessionConfig::new().with_target_partitions(partitions));
    flow_udfs::register_all(&ctx).unwrap();
    ctx
}

/// Rows as a multiset.
fn multiset(rows: &[Row]) -> BTreeMap<Row, usize> {
    let mut m = BTreeMap::new();
    for r in rows {
        *m.entry(*r).or_insert(0) += 1;
    }
    m
}

/// The merge's rows, counters and plan (displayed after the run, with the strategy chosen).
async fn merge(
    ctx: &SessionContext,
    input: Arc<dyn TableProvider>,
    params: MergeParams,
) -> (Vec<Row>, Counters, String) {
    let table = MergeTable::new(input, params);
    let df = ctx.read_table(Arc::new(table)).unwrap();
    let plan = df.create_physical_plan().await.unwrap();
    let batches = collect(plan.clone(), ctx.task_ctx()).await.unwrap();
    // After the run: the plan shows the strategy the merge chose.
    let text = displayable(plan.as_ref()).indent(false).to_string();
    let counters = merge::counters(plan.as_ref()).unwrap();
    counters.check().unwrap();
    (rows(&batches), counters, text)
}

fn binary_rows(dir: &Path) -> Vec<Row> {
    let mut cols: Vec<Vec<u64>> = Vec::new();
    for (name, code) in flow_provider::fields::STANDARD_FIELDS {
        let bytes = std::fs::read(dir.join(format!("{name}.{code}"))).unwrap();
        let w = match code {
            'B' => 1,
            'H' => 2,
            'I' => 4,
            _ => 8,
        };
        cols.push(
            bytes
                .chunks_exact(w)
                .map(|c| {
                    let mut b = [0u8; 8];
                    b[..w].copy_from_slice(c);
                    u64::from_le_bytes(b)
                })
                .collect(),
        );
    }
    (0..cols[0].len())
        .map(|r| std::array::from_fn(|i| cols[i][r]))
        .collect()
}

fn csv_rows(path: &Path) -> Vec<Row> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Vec<u64> = l.split(',').map(|x| x.trim().parse().unwrap()).collect();
            v.try_into().unwrap()
        })
        .collect()
}

#[tokio::test]
async fn trace_merges_like_the_original() {
    let input = binary_rows(&fixture("trace20k"));
    let original = binary_rows(&fixture("trace20k.orig_merged"));
    for partitions in [1, 2] {
        let ctx = context(partitions);
        let table = Arc::new(FlowBinTable::try_new(&[trace()]).unwrap());
        let params = MergeParams::from_seconds(15.0, 300.0).unwrap();
        let (ours, c, plan) = merge(&ctx, table, params).await;
        assert!(
            plan.contains("mode=Ordered"),
            "a time-ordered trace streams: {plan}"
        );
        // The trace has no overlapping records, so no fix applies: the same multiset.
        assert_eq!(c.overlapping, 0);
        assert_eq!(multiset(&ours), multiset(&original));
        assert_eq!(c.read, 20000);
        assert_eq!(c.written as usize, original.len());
        assert_eq!(c.merged as usize, input.len() - original.len());
        let packets_in: u64 = input.iter().map(|r| r[18]).sum();
        assert_eq!(c.packets_out, packets_in as u128);
        assert_eq!(c.aggs_out, 20000, "every input record counted once in aggs");
    }
}

/// Planning reads nothing: EXPLAIN shows the strategy still open, and the counters of the plan
/// appear only when it runs, as `EXPLAIN ANALYZE` metrics.
#[tokio::test]
async fn planning_reads_nothing_and_the_run_reports_metrics() {
    let ctx = context(2);
    let path = trace();
    let explain = format!("EXPLAIN SELECT count(*) FROM flow_merge('{path}')");
    let batches = ctx.sql(&explain).await.unwrap().collect().await.unwrap();
    let text = arrow::util::pretty::pretty_format_batches(&batches)
        .unwrap()
        .to_string();
    assert!(text.contains("strategy=chosen when run"), "{text}");
    let analyze = format!("EXPLAIN ANALYZE SELECT count(*) FROM flow_merge('{path}')");
    let batches = ctx.sql(&analyze).await.unwrap().collect().await.unwrap();
    let text = arrow::util::pretty::pretty_format_batches(&batches)
        .unwrap()
        .to_string();
    assert!(text.contains("strategy=time-ordered"), "{text}");
    assert!(text.contains("read=20.00 K"), "{text}");
    assert!(text.contains("overlapping=0"), "{text}");
}

#[tokio::test]
async fn unordered_input_is_sorted_per_key_first() {
    let original = binary_rows(&fixture("trace20k.orig_merged"));
    // The same records in octets order, which scatters every key's records.
    let dir = tempfile::tempdir().unwrap();
    let shuffled = dir.path().join("by-octets");
    let ctx = context(2);
    let sort = sort_trace20k(&ctx, &["octets"], false).await;
    let stream = execute_stream(sort.plan, ctx.task_ctx()).unwrap();
    write_stream(
        stream,
        OutputFormat::Binary,
        shuffled.to_str().unwrap(),
        |_| (),
    )
    .await
    .unwrap();
    // A pool that grants the time sort its 16 bytes per record: the trace is sorted by time in
    // memory and merged in one pass. Run where the pool refuses it: DataFusion's per-key sort.
    // Both give the original's flows.
    for (partitions, refused, expected) in [
        (1, false, "strategy=sorted in memory"),
        (2, false, "strategy=sorted in memory"),
        (1, true, "strategy=sorted per key"),
        (2, true, "strategy=sorted per key"),
    ] {
        let ctx = if refused {
            let config = SessionConfig::new().with_target_partitions(partitions);
            pool_context(config, Arc::new(common::NoRoomForPackedSort::default()))
        } else {
            context(partitions)
        };
        let table = Arc::new(FlowBinTable::try_new(&[&shuffled]).unwrap());
        let params = MergeParams::from_seconds(15.0, 300.0).unwrap();
        let (ours, _, plan) = merge(&ctx, table, params).await;
        assert!(plan.contains(expected), "{plan}");
        let mode = if refused {
            "mode=Partitioned"
        } else {
            "mode=Ordered"
        };
        assert!(plan.contains(mode), "{plan}");
        assert_eq!(multiset(&ours), multiset(&original));
    }
}

/// A context of `config` whose memory pool is `pool`.
fn pool_context(config: SessionConfig, pool: Arc<dyn MemoryPool>) -> SessionContext {
    let runtime = RuntimeEnvBuilder::new()
        .with_memory_pool(pool)
        .build_arc()
        .unwrap();
    let ctx = SessionContext::new_with_config_rt(config, runtime);
    flow_udfs::register_all(&ctx).unwrap();
    ctx
}

/// Each case of make_fixtures.py: our result, and the original's (wrong) one from its fixture.
async fn case(name: &str, inactive: f64) -> (Vec<Row>, Vec<Row>, Counters) {
    let ctx = context(2);
    let path = fixture(&format!("case_{name}.csv"));
    let input = ctx
        .read_text_flows(LineFormat::CsvFlow, &[path.to_str().unwrap()])
        .unwrap();
    let params = MergeParams::from_seconds(inactive, 300.0).unwrap();
    let (mut ours, c, _) = merge(&ctx, input.into_view(), params).await;
    ours.sort();
    let mut original = csv_rows(&fixture(&format!("case_{name}.orig.csv")));
    original.sort();
    (ours, original, c)
}

const KEY: [u64; 14] = [
    2, 6, 0, 0, 0, 0, 0, 167772161, 0, 0, 0, 167772162, 40000, 443,
];

fn flow(times: [u64; 4], packets: u64, octets: u64, aggs: u64) -> Row {
    let mut r = [0u64; 21];
    r[..14].copy_from_slice(&KEY);
    r[14..18].copy_from_slice(&times);
    r[18..].copy_from_slice(&[packets, octets, aggs]);
    r
}

#[tokio::test]
async fn fix_millisecond_borrow() {
    // 1290.800 → 1306.100 is a 15.300 s gap, below the 15.5 s inactive timeout.
    let (ours, original, c) = case("borrow", 15.5).await;
    assert_eq!(ours, vec![flow([1000, 0, 1310, 0], 105, 10500, 2)]);
    assert_eq!(c.merged, 1);
    // The original computes 15 s + (1000 - -700) ms and keeps the records apart.
    assert_eq!(
        original,
        vec![
            flow([1000, 0, 1290, 800], 100, 10000, 1),
            flow([1306, 100, 1310, 0], 5, 500, 1)
        ]
    );
}

#[tokio::test]
async fn fix_overlapping_records_are_kept() {
    let (ours, original, c) = case("overlap", 15.0).await;
    assert_eq!(
        ours,
        vec![
            flow([1000, 0, 1290, 0], 100, 10000, 1),
            flow([1200, 0, 1250, 0], 7, 700, 1)
        ]
    );
    assert_eq!((c.overlapping, c.merged, c.written), (1, 0, 2));
    assert!(original.is_empty(), "the original drops both records");
}

#[tokio::test]
async fn fix_reversed_records_are_merged_in_start_order() {
    let (ours, original, c) = case("reversed", 15.0).await;
    assert_eq!(ours, vec![flow([1700, 0, 2290, 0], 110, 11000, 2)]);
    assert_eq!(c.merged, 1);
    // The original merges into the record it then throws away: 60 packets vanish.
    assert_eq!(original, vec![flow([2000, 0, 2290, 0], 50, 5000, 1)]);
}

#[tokio::test]
async fn fix_fractional_timeout_keeps_its_millisecond() {
    let (ours, original, _) = case("fraction", 15.001).await;
    assert_eq!(ours, vec![flow([1000, 0, 1306, 0], 103, 10300, 2)]);
    assert_eq!(
        original.len(),
        2,
        "15.001 s became 15.000 s, so the 15 s gap did not merge"
    );
}

#[tokio::test]
async fn chain_merges_as_in_the_original() {
    let (ours, original, c) = case("chain", 15.0).await;
    assert_eq!(ours, original);
    assert_eq!((c.read, c.merged, c.written), (4, 2, 2));
}

/// sql/merge.sql with the timeouts replaced, over `flows`, read in one partition.
async fn sql_merge(ctx: &SessionContext, inactive_ms: i64) -> Vec<Row> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("sql/merge.sql"))
        .unwrap();
    let text = text.replace(
        "CAST(15000 AS BIGINT)",
        &format!("CAST({inactive_ms} AS BIGINT)"),
    );
    let mut rows = rows(&ctx.sql(&text).await.unwrap().collect().await.unwrap());
    rows.sort();
    rows
}

#[tokio::test]
async fn sql_twin_equals_the_operator() {
    let ctx = context(1);
    ctx.register_flowbin("flows", trace()).unwrap();
    let mut ours = rows(
        &ctx.sql("SELECT * FROM flow_merge('flows', 15, 300)")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap(),
    );
    ours.sort();
    assert_eq!(sql_merge(&ctx, 15000).await, ours);
    for (name, inactive) in [
        ("borrow", 15.5),
        ("overlap", 15.0),
        ("reversed", 15.0),
        ("fraction", 15.001),
        ("chain", 15.0),
    ] {
        let ctx = context(1);
        let path = fixture(&format!("case_{name}.csv"));
        ctx.register_text_flows("flows", LineFormat::CsvFlow, &[path.to_str().unwrap()])
            .unwrap();
        let (ours, _, _) = case(name, inactive).await;
        assert_eq!(
            sql_merge(&ctx, (inactive * 1000.0).round() as i64).await,
            ours,
            "case {name}"
        );
    }
}

#[tokio::test]
async fn flow_merge_takes_a_table_or_a_path() {
    let ctx = context(2);
    ctx.register_flowbin("t", trace()).unwrap();
    let original = binary_rows(&fixture("trace20k.orig_merged")).len() as i64;
    for source in ["t".to_string(), trace()] {
        let df = ctx
            .sql(&format!(
                "SELECT count(*) AS n FROM flow_merge('{source}', 15, 300)"
            ))
            .await
            .unwrap();
        let batches = df.collect().await.unwrap();
        assert_eq!(
            batches[0]
                .column(0)
                .as_primitive::<arrow::datatypes::Int64Type>()
                .value(0),
            original
        );
    }
    let err = ctx
        .sql("SELECT * FROM flow_merge('no/such/trace')")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("neither a registered table nor a readable trace"),
        "{err}"
    );
    let err = ctx
        .sql("SELECT * FROM flow_merge('t', 'x')")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("number of seconds"), "{err}");
}

/// The DataFusion sort plan of the 20 k trace by `keys`, planned in `ctx`.
async fn sort_trace20k(ctx: &SessionContext, keys: &[&str], reverse: bool) -> SortPlan {
    let scan = ctx
        .read_flowbin(&[trace()])
        .unwrap()
        .create_physical_plan()
        .await
        .unwrap();
    let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    sort_plan(scan, &keys, reverse).unwrap()
}

/// Our sort's output against the original's permutation of the same trace.
async fn check_sort(ctx: &SessionContext, case: &str, keys: &[&str], reverse: bool) -> usize {
    let perm: Vec<usize> = std::fs::read(fixture(&format!("sort_{case}.perm.I")))
        .unwrap()
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes(c.try_into().unwrap()) as usize)
        .collect();
    let input = binary_rows(&fixture("trace20k"));
    let sort = sort_trace20k(ctx, keys, reverse).await;
    let ours = rows(&collect(sort.plan.clone(), ctx.task_ctx()).await.unwrap());
    let expected: Vec<Row> = perm.iter().map(|&i| input[i]).collect();
    assert!(ours == expected, "sort {case} differs from the original");
    sort.spill().files
}

const SORTS: [(&str, &[&str], bool); 4] = [
    ("prot", &["prot"], false),
    ("prot_reverse", &["prot"], true),
    ("sa3_dp", &["sa3", "dp"], false),
    ("first_reverse", &["first", "first_ms"], true),
];

#[tokio::test]
async fn sort_is_the_original_order() {
    for partitions in [1, 2] {
        let ctx = context(partitions);
        for (case, keys, reverse) in SORTS {
            assert_eq!(check_sort(&ctx, case, keys, reverse).await, 0);
        }
    }
}

#[tokio::test]
async fn sort_spills_under_a_memory_limit_and_stays_exact() {
    let mut config = SessionConfig::new()
        .with_target_partitions(2)
        .with_batch_size(1024);
    config.options_mut().execution.sort_spill_reservation_bytes = 128 << 10;
    let ctx = pool_context(config, Arc::new(FairSpillPool::new(2 << 20)));
    for (case, keys, reverse) in SORTS {
        assert!(
            check_sort(&ctx, case, keys, reverse).await > 0,
            "sort {case} should have spilled"
        );
    }
}

#[tokio::test]
async fn merge_rejects_inputs_without_flow_fields() {
    let ctx = context(1);
    let df = ctx.sql("SELECT 1 AS af").await.unwrap();
    let table = MergeTable::new(
        df.into_view(),
        MergeParams::from_seconds(15.0, 300.0).unwrap(),
    );
    let err = ctx
        .read_table(Arc::new(table))
        .unwrap()
        .collect()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no column 'prot'") || err.contains("af"),
        "{err}"
    );
    assert!(MergeParams::from_seconds(f64::NAN, 300.0).is_err());
    assert!(MergeParams::from_seconds(-1.0, 300.0).is_err());
}
