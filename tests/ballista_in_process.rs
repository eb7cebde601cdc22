//! A Ballista cluster inside the test's process (Ballista's standalone mode, with our codecs
//! and functions: `flow_ballista::start_in_process`), a scheduler and two executors of one
//! task slot each: the same queries give exactly the local answers (integers only, so that no
//! floating sum's order of addition shows). `flow-cli/tests/ballista.rs` runs the cluster as
//! separate `flow-models` processes.

use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::prelude::{SessionConfig, SessionContext};
use std::sync::Arc;

fn repo(path: &str) -> String {
    format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn queries_on_an_in_process_cluster_equal_local_ones() {
    let work = tempfile::tempdir().unwrap();
    let url = flow_ballista::start_in_process(2, 1, work.path())
        .await
        .unwrap();
    let runtime = Arc::new(RuntimeEnv::default());
    let remote = flow_ballista::remote_context(&url, SessionConfig::new(), runtime)
        .await
        .unwrap();
    let local = SessionContext::new();
    flow_models::register_all(&local).unwrap();

    let sample = repo("examples/data/sample");
    let nfcapd = repo("tests/data/nfcapd/nf171_sfipfix_mixed_lzo.nfcapd");
    let queries = [
        format!(
            "SELECT count(*), sum(packets), sum(octets), min(first), max(last) \
             FROM flowbin('{sample}')"
        ),
        format!(
            "SELECT prot, count(*), sum(octets) FROM flowbin('{sample}') \
             WHERE sp < 1024 GROUP BY prot ORDER BY prot"
        ),
        format!("SELECT * FROM flow_hist('{sample}', 'length', 12, 'duration', 'aggs')"),
        format!(
            "SELECT prot, count(*), sum(packets), sum(octets) FROM nfcapd('{nfcapd}') \
             GROUP BY prot ORDER BY prot"
        ),
        // A time window and an address net ride in the scan's plain data (the file meets the
        // window: read; the net is answered by the scan).
        format!(
            "SELECT prot, count(*), sum(octets) FROM nfcapd('{nfcapd}') \
             WHERE first >= 1717236300 AND last < 1717236600 GROUP BY prot ORDER BY prot"
        ),
        format!(
            "SELECT src_ip, count(*), sum(octets) FROM nfcapd('{nfcapd}') \
             WHERE ip_in_net(src_ip, '10.0.0.0/8') GROUP BY src_ip ORDER BY src_ip"
        ),
        format!(
            "SELECT log_bin(octets, 4) AS bin, count(*) FROM flowbin('{sample}') \
             GROUP BY bin ORDER BY bin"
        ),
        format!(
            "SELECT count(*), sum(packets), sum(octets), sum(aggs), max(last) \
             FROM flow_merge('{sample}', 2, 10)"
        ),
    ];
    for q in &queries {
        let run = |ctx: &SessionContext| {
            let ctx = ctx.clone();
            let q = q.clone();
            async move {
                let batches = ctx.sql(&q).await?.collect().await?;
                Ok::<_, datafusion::error::DataFusionError>(
                    pretty_format_batches(&batches)?.to_string(),
                )
            }
        };
        let want = run(&local).await.unwrap();
        let got = run(&remote)
            .await
            .unwrap_or_else(|e| panic!("{q} on the cluster: {e}"));
        assert!(want.lines().count() > 4, "{q}: {want}");
        assert_eq!(got, want, "{q}");
    }
    // The executors' shuffle files: the work was done there.
    let shuffled = walk(work.path());
    assert!(
        shuffled > 0,
        "no shuffle file under {}",
        work.path().display()
    );
}

fn walk(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .map(|e| e.unwrap().path())
            .map(|p| if p.is_dir() { walk(&p) } else { 1 })
            .sum()
    })
}
