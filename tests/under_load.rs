//! The engine embedded in a service: one `SessionContext` shared by many concurrent queries,
//! a trace replaced (by rename, as our writers do) while a query reads it, and a memory limit
//! that operators either respect by spilling or hit with DataFusion's resources error.

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::UInt64Type;
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};
use futures::StreamExt;
use std::sync::Arc;

const SAMPLE: &str = "examples/data/sample";

fn context(config: SessionConfig) -> SessionContext {
    let ctx = SessionContext::new_with_config(config);
    flow_models::register_all(&ctx).unwrap();
    ctx
}

async fn run(ctx: &SessionContext, sql: &str) -> Vec<RecordBatch> {
    ctx.sql(sql).await.unwrap().collect().await.unwrap()
}

fn pretty(batches: &[RecordBatch]) -> String {
    arrow::util::pretty::pretty_format_batches(batches)
        .unwrap()
        .to_string()
}

/// Peak resident memory of this process (Linux), in MiB.
fn peak_rss_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

/// 16 queries at once on one context (histograms, merge, aggregates, sorts) give exactly what
/// each gives alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_concurrent_queries_give_what_each_gives_alone() {
    let ctx = Arc::new(context(SessionConfig::new().with_target_partitions(2)));
    let queries = [
        format!("SELECT * FROM flow_hist('{SAMPLE}', 'length', 12) ORDER BY bin_lo"),
        format!("SELECT * FROM flow_hist('{SAMPLE}', 'size', 0) ORDER BY bin_lo"),
        format!(
            "SELECT count(*), sum(packets), sum(octets), sum(aggs) FROM flow_merge('{SAMPLE}', 15, 300)"
        ),
        format!(
            "SELECT prot, count(*), sum(octets) FROM flowbin('{SAMPLE}') GROUP BY prot ORDER BY prot"
        ),
        format!(
            "SELECT sa3, da3, sp, dp, octets FROM flowbin('{SAMPLE}') \
             ORDER BY octets DESC, sa3, da3, sp, dp LIMIT 20"
        ),
        format!(
            "SELECT dp, count(*) AS n FROM flowbin('{SAMPLE}', '{SAMPLE}') \
             GROUP BY dp ORDER BY n DESC, dp LIMIT 10"
        ),
        format!(
            "SELECT log_bin(packets, 6) AS b, count(*) FROM flowbin('{SAMPLE}') GROUP BY b ORDER BY b"
        ),
        "SELECT count(*), sum(octets) FROM csv_flow('tests/data/original/head2000.csv_flow')"
            .to_string(),
    ];
    let mut alone = Vec::new();
    for q in &queries {
        alone.push(pretty(&run(&ctx, q).await));
    }
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let ctx = ctx.clone();
            let q = queries[i % queries.len()].clone();
            tokio::spawn(async move { (i, pretty(&run(&ctx, &q).await)) })
        })
        .collect();
    for task in tasks {
        let (i, got) = task.await.unwrap();
        assert_eq!(
            got,
            alone[i % queries.len()],
            "query {i}: {}",
            queries[i % queries.len()]
        );
    }
    if let Some(peak) = peak_rss_mib() {
        println!("peak RSS of 16 concurrent queries (and the runs alone): {peak} MiB");
        assert!(peak < 2048, "peak RSS {peak} MiB");
    }
}

fn sum_octets(batches: &[RecordBatch]) -> (usize, u64) {
    let rows = batches.iter().map(|b| b.num_rows()).sum();
    let sum = batches
        .iter()
        .flat_map(|b| b.column(0).as_primitive::<UInt64Type>().values().iter())
        .sum();
    (rows, sum)
}

/// Our writers replace a trace by renaming a new directory over it: a query that has begun
/// reading the old one goes on reading the old one, whole; the next query sees the new one.
#[tokio::test]
async fn a_trace_replaced_while_read_is_read_whole_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let trace = tmp.path().join("trace");
    let config = SessionConfig::new()
        .with_target_partitions(1)
        .with_batch_size(1000);
    let ctx = context(config);
    let copy = |filter: &str| {
        format!(
            "COPY (SELECT * FROM flowbin('{SAMPLE}') WHERE {filter}) TO '{}' STORED AS FLOWBIN",
            trace.display()
        )
    };
    run(&ctx, &copy("true")).await;
    let query = format!("SELECT octets FROM flowbin('{}')", trace.display());
    let old = sum_octets(&run(&ctx, &query).await);
    assert_eq!(old.0, 50_000);

    let mut stream = ctx
        .sql(&query)
        .await
        .unwrap()
        .execute_stream()
        .await
        .unwrap();
    let mut batches = vec![stream.next().await.unwrap().unwrap()];
    assert!(batches[0].num_rows() < 50_000, "read in several batches");
    run(&ctx, &copy("prot = 17")).await;
    while let Some(batch) = stream.next().await {
        batches.push(batch.unwrap());
    }
    assert_eq!(sum_octets(&batches), old, "the old trace, whole");

    let new = sum_octets(&run(&ctx, &query).await);
    let udp = format!("SELECT octets FROM flowbin('{SAMPLE}') WHERE prot = 17");
    assert_eq!(new, sum_octets(&run(&ctx, &udp).await), "the new trace");
    assert!(new.0 < old.0);
}

/// Under a memory limit, a sort spills and completes with the same result; the merge and the
/// histogram, which cannot spill, complete within it or stop with DataFusion's resources error
/// naming the operator.
#[tokio::test]
async fn a_memory_limit_is_kept_by_spilling_or_refused_by_name() {
    // The runtime and pool of the CLI's --memory-limit.
    let limited = |bytes: usize| {
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_pool(Arc::new(FairSpillPool::new(bytes)))
            .build_arc()
            .unwrap();
        let config = SessionConfig::new()
            .with_target_partitions(2)
            .with_sort_spill_reservation_bytes(1 << 20);
        let ctx = SessionContext::new_with_config_rt(config, runtime);
        flow_models::register_all(&ctx).unwrap();
        ctx
    };
    let sort = format!(
        "SELECT octets FROM flowbin('{SAMPLE}', '{SAMPLE}', '{SAMPLE}') ORDER BY sa3, da3, sp, dp, octets"
    );
    let free = run(&context(SessionConfig::new()), &sort).await;
    let ctx = limited(8 << 20);
    let df = ctx.sql(&format!("EXPLAIN ANALYZE {sort}")).await.unwrap();
    let plan = pretty(&df.collect().await.unwrap());
    assert!(plan.contains("spill_count="), "{plan}");
    assert!(!plan.contains("spill_count=0,"), "the sort spilled: {plan}");
    let spilled = run(&ctx, &sort).await;
    let values = |b: &[RecordBatch]| -> Vec<u64> {
        b.iter()
            .flat_map(|b| b.column(0).as_primitive::<UInt64Type>().values().to_vec())
            .collect()
    };
    assert_eq!(values(&spilled), values(&free));
    assert_eq!(
        spilled
            .iter()
            .map(|b| b.column(0).null_count())
            .sum::<usize>(),
        0
    );

    // The merge reserves its cache of candidates: small here, so it completes.
    let merge = format!(
        "SELECT count(*), sum(packets), sum(octets), sum(aggs) FROM flow_merge('{SAMPLE}', 15, 300)"
    );
    assert_eq!(
        pretty(&run(&ctx, &merge).await),
        pretty(&run(&context(SessionConfig::new()), &merge).await)
    );
    let tiny = limited(64 << 10);
    let err = tiny.sql(&merge).await.unwrap().collect().await.unwrap_err();
    assert!(err.to_string().contains("Resources exhausted"), "{err}");

    // A batch of a mapped trace counts as its own rows, not as the whole column file: a
    // top-N keeping a few batches fits in a pool smaller than its two column files (600 kB here).
    let top = format!(
        "SELECT octets, first FROM flowbin('{SAMPLE}') ORDER BY octets DESC, first LIMIT 3"
    );
    assert_eq!(
        pretty(&run(&limited(512 << 10), &top).await),
        pretty(&run(&context(SessionConfig::new()), &top).await)
    );

    // One bin per value keeps 4 MiB of dense bins per partition: more than 2 MiB.
    let hist = format!("SELECT * FROM flow_hist('{SAMPLE}', 'size', 0)");
    let err = limited(2 << 20)
        .sql(&hist)
        .await
        .unwrap()
        .collect()
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("Resources exhausted") && msg.contains("HistPartialExec"),
        "{msg}"
    );
    let ok = limited(256 << 20);
    assert_eq!(
        pretty(&run(&ok, &hist).await),
        pretty(&run(&context(SessionConfig::new()), &hist).await)
    );
}
