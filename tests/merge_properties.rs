//! merge on random small traces (64: 8 cases of up to 8) built to collide: few keys, records chained by gaps around the
//! inactive timeout and durations around `active − inactive`, overlaps in time, exact
//! duplicates, records of a key out of start order, and times whose milliseconds sit at 0/999
//! (the original's millisecond borrow). For every trace:
//! - records in = records out + merged away, and packets and octets are conserved (counted
//!   from the rows themselves, besides the operator's own counters);
//! - the operator's three ways to run (one streaming pass over a time-ordered trace, the
//!   in-memory time sort of an unordered one, the per-key sort when the memory pool refuses
//!   that) give the same multiset of rows as `sql/merge.sql`, the pure-SQL twin.

use arrow::array::{ArrayRef, RecordBatch, UInt64Array};
use arrow::compute::cast;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::physical_plan::{collect, displayable};
use datafusion::prelude::{SessionConfig, SessionContext};
use flow_provider::SessionContextFlowExt;
use flow_provider::binary::{FlowBinTable, FlowBinWriter};
use flow_provider::fields::standard_schema;
use flow_udfs::merge::{self, Counters, MergeParams, MergeTable};
use proptest::prelude::*;
use std::path::Path;
use std::sync::Arc;

mod common;
use common::{Row, rows};
const PACKETS: usize = 18;
const OCTETS: usize = 19;
const AGGS: usize = 20;
const ACTIVE_MS: i64 = 300_000;

/// One record before it is placed in time: `gap_ms` after the end of its key's previous record
/// (negative: an overlap), lasting `dur_ms`.
#[derive(Debug, Clone)]
struct Piece {
    key: usize,
    gap_ms: i64,
    dur_ms: i64,
    packets: u64,
    octets: u64,
    aggs: u64,
}

/// Seconds near the thresholds plus a few milliseconds on either side of a whole second.
fn near(seconds: impl Strategy<Value = i64>) -> impl Strategy<Value = i64> {
    (
        seconds,
        prop_oneof![-2i64..=2, Just(-999), Just(999), 0i64..1000],
    )
        .prop_map(|(s, ms)| s * 1000 + ms)
}

fn piece(keys: usize) -> impl Strategy<Value = Piece> {
    // Weighted towards merges: long records followed within the inactive timeout.
    let gap = prop_oneof![
        2 => near(prop_oneof![Just(14i64), Just(15), Just(16)]),
        2 => near(0i64..16),
        1 => near(0i64..60),
        1 => -30_000i64..0,
    ];
    let dur = prop_oneof![
        4 => near(prop_oneof![Just(284i64), Just(285), Just(286), Just(300)]),
        1 => near(0i64..400),
        1 => Just(0i64),
    ];
    (0..keys, gap, dur, 1u64..20, 40u64..3000, 0u64..=1).prop_map(
        |(key, gap_ms, dur_ms, packets, octets, aggs)| Piece {
            key,
            gap_ms,
            dur_ms,
            packets,
            octets,
            aggs,
        },
    )
}

/// A trace: each key's pieces in time order, then shuffled (a key's later records can come
/// first) with some records repeated exactly.
fn trace() -> impl Strategy<Value = Vec<Row>> {
    (1usize..=3)
        .prop_flat_map(|keys| {
            (
                prop::collection::vec(piece(keys), 1..=50),
                prop::collection::vec(prop_oneof![Just(0i64), Just(1), Just(998), Just(999)], 3),
            )
        })
        .prop_flat_map(|(pieces, start_ms)| {
            let rows = place(&pieces, &start_ms);
            let n = rows.len();
            (
                Just(rows),
                prop::collection::vec(0..n, 0..=10),
                prop::collection::vec(any::<u16>(), n + 10),
            )
        })
        .prop_map(|(mut rows, duplicates, order)| {
            for i in duplicates {
                rows.push(rows[i]);
            }
            // A stable sort by random keys: a permutation that shrinks towards input order.
            let mut keyed: Vec<(u16, Row)> = order.into_iter().zip(rows).collect();
            keyed.sort_by_key(|(k, _)| *k);
            keyed.into_iter().map(|(_, r)| r).collect()
        })
}

/// Up to 8 traces in one, apart by `sa0` so that they do not interact: planning the SQL twin
/// takes most of a second in a debug build, so each case checks several traces at once.
fn traces() -> impl Strategy<Value = Vec<Row>> {
    prop::collection::vec(trace(), 1..=8).prop_map(|traces| {
        let mut all = Vec::new();
        for (t, rows) in traces.into_iter().enumerate() {
            all.extend(rows.into_iter().map(|mut r| {
                r[4] = t as u64;
                r
            }));
        }
        all
    })
}

/// The records of `pieces`, each key's chained in time from its own start.
fn place(pieces: &[Piece], start_ms: &[i64]) -> Vec<Row> {
    let mut end: Vec<i64> = start_ms
        .iter()
        .enumerate()
        .map(|(k, ms)| (1_433_000_000 + 7 * k as i64) * 1000 + ms)
        .collect();
    pieces
        .iter()
        .map(|p| {
            let first = end[p.key] + p.gap_ms;
            let last = first + p.dur_ms;
            end[p.key] = last;
            let k = p.key as u64;
            let mut r = [0u64; 21];
            // af prot inif outif sa0..3 da0..3 sp dp first first_ms last last_ms packets octets aggs
            r[0] = 2;
            r[1] = if k == 1 { 17 } else { 6 };
            r[7] = 0x0a00_0001 + k;
            r[11] = 0x0a00_0100;
            r[12] = 40_000 + k;
            r[13] = 443;
            r[14] = (first / 1000) as u64;
            r[15] = (first % 1000) as u64;
            r[16] = (last / 1000) as u64;
            r[17] = (last % 1000) as u64;
            r[PACKETS] = p.packets;
            r[OCTETS] = p.octets;
            r[AGGS] = p.aggs;
            r
        })
        .collect()
}

fn write_trace(dir: &Path, rows: &[Row]) {
    let schema = standard_schema();
    let columns = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let values: ArrayRef = Arc::new(rows.iter().map(|r| r[i]).collect::<UInt64Array>());
            cast(&values, f.data_type()).unwrap()
        })
        .collect();
    let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
    let mut writer = FlowBinWriter::create(dir, &schema).unwrap();
    writer.write(&batch).unwrap();
    writer.finish().unwrap();
}

/// The rows of `batches`, sorted (a multiset).
fn sorted_rows(batches: &[RecordBatch]) -> Vec<Row> {
    let mut out = rows(batches);
    out.sort();
    out
}

/// A context of `partitions`; `refuse_packed_sort`: its pool has no room for the in-memory
/// time sort.
fn context(partitions: usize, refuse_packed_sort: bool) -> SessionContext {
    let config = SessionConfig::new().with_target_partitions(partitions);
    let mut runtime = RuntimeEnvBuilder::new();
    if refuse_packed_sort {
        runtime = runtime.with_memory_pool(Arc::new(common::NoRoomForPackedSort::default()));
    }
    let ctx = SessionContext::new_with_config_rt(config, runtime.build_arc().unwrap());
    flow_udfs::register_all(&ctx).unwrap();
    ctx
}

/// The operator's rows (sorted), its counters and the mode it ran in, run in `plan_ctx`.
async fn operator(
    plan_ctx: &SessionContext,
    trace: &Path,
    params: MergeParams,
) -> (Vec<Row>, Counters, String) {
    let input = Arc::new(FlowBinTable::try_new(&[trace]).unwrap());
    let table = MergeTable::new(input, params);
    let plan = plan_ctx
        .read_table(Arc::new(table))
        .unwrap()
        .create_physical_plan()
        .await
        .unwrap();
    let batches = collect(plan.clone(), plan_ctx.task_ctx()).await.unwrap();
    // After the run: the plan shows the strategy the merge chose.
    let text = displayable(plan.as_ref()).indent(false).to_string();
    let mode = ["mode=Ordered", "mode=Partitioned"]
        .into_iter()
        .find(|m| text.contains(m))
        .unwrap_or("unknown mode")
        .to_string();
    let counters = merge::counters(plan.as_ref()).unwrap();
    (sorted_rows(&batches), counters, mode)
}

/// `sql/merge.sql` over `trace` read in one partition (its row numbers are input positions).
async fn sql_twin(trace: &Path, inactive_ms: i64) -> Vec<Row> {
    let ctx = context(1, false);
    ctx.register_flowbin("flows", trace).unwrap();
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("sql/merge.sql"))
        .unwrap()
        .replace(
            "CAST(15000 AS BIGINT) AS inactive_ms, CAST(300000 AS BIGINT) AS active_ms",
            &format!(
                "CAST({inactive_ms} AS BIGINT) AS inactive_ms, CAST({ACTIVE_MS} AS BIGINT) AS active_ms"
            ),
        );
    assert!(text.contains(&format!("CAST({ACTIVE_MS} AS BIGINT)")));
    sorted_rows(&ctx.sql(&text).await.unwrap().collect().await.unwrap())
}

fn sum(rows: &[Row], column: usize) -> u64 {
    rows.iter().map(|r| r[column]).sum()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn merge_conserves_records_and_equals_the_sql_twin(
        input in traces(),
        inactive_ms in prop_oneof![Just(15_000i64), Just(15_500)],
    ) {
        let dir = tempfile::tempdir().unwrap();
        let (unordered, ordered) = (dir.path().join("unordered"), dir.path().join("ordered"));
        write_trace(&unordered, &input);
        let mut by_time = input.clone();
        by_time.sort_by_key(|r| (r[14], r[15])); // stable: ties keep input order
        write_trace(&ordered, &by_time);
        let params = MergeParams {
            inactive_ms,
            active_ms: ACTIVE_MS,
        };
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let (twin, runs) = runtime.block_on(async {
            let runs = [
                ("time-ordered trace", operator(&context(2, false), &ordered, params).await),
                ("unordered trace", operator(&context(2, false), &unordered, params).await),
                // A pool without room for the in-memory time sort.
                (
                    "unordered trace, per-key sort",
                    operator(&context(2, true), &unordered, params).await,
                ),
            ];
            (sql_twin(&unordered, inactive_ms).await, runs)
        });

        let merged_away: u64 = input.len() as u64 - twin.len() as u64;
        // Input aggs are 0 or 1 (0 counts as 1), so an output's aggs is the number of records
        // it holds.
        prop_assert_eq!(sum(&twin, AGGS), input.len() as u64);
        prop_assert_eq!(sum(&twin, PACKETS), sum(&input, PACKETS));
        prop_assert_eq!(sum(&twin, OCTETS), sum(&input, OCTETS));
        // A trace that happens to be in time order is merged in one pass whatever the pool.
        let per_key = if by_time == input { "mode=Ordered" } else { "mode=Partitioned" };
        let expected_modes = ["mode=Ordered", "mode=Ordered", per_key];
        for ((name, (ours, counters, mode)), expected_mode) in runs.into_iter().zip(expected_modes) {
            prop_assert_eq!(&mode, expected_mode, "{}", name);
            prop_assert!(counters.check().is_ok(), "{}: {:?}", name, counters);
            prop_assert_eq!(counters.read, input.len() as u64, "{}", name);
            prop_assert_eq!(counters.written, ours.len() as u64, "{}", name);
            prop_assert_eq!(counters.merged, merged_away, "{}", name);
            prop_assert_eq!(sum(&ours, PACKETS), sum(&input, PACKETS), "{}", name);
            prop_assert_eq!(sum(&ours, OCTETS), sum(&input, OCTETS), "{}", name);
            prop_assert!(ours == twin, "{}: operator and sql/merge.sql differ", name);
        }
    }
}
