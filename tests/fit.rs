//! sql/fit.sql (histogram and mixture fit in one statement) against flow-models 2.2: its
//! fit_mix of its own length histogram of examples/data/sample, -U 6 -L 4, 100 iterations
//! (fixtures made by tests/fixtures/make_fit.py), for flow and packet weights.

use arrow::array::AsArray;
use datafusion::prelude::SessionContext;
use flow_models::flow_provider::SessionContextFlowExt;
use flow_models::flow_udfs::mixture::{Mixture, mixture_from_json};

fn statement() -> String {
    std::fs::read_to_string("sql/fit.sql")
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("--"))
        .map(|l| format!("{l}\n"))
        .collect()
}

async fn fit(sql: &str) -> Mixture {
    let ctx = SessionContext::new();
    flow_models::register_all(&ctx).unwrap();
    ctx.register_flowbin("flows", "examples/data/sample")
        .unwrap();
    let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 1);
    mixture_from_json(batches[0].column(0).as_string::<i32>().value(0)).unwrap()
}

fn original(y: &str) -> Mixture {
    let path = format!("tests/data/fit/sample_length_U6L4_i100_{y}.json");
    mixture_from_json(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Same sum, components and names; every weight and parameter within 1e-9 relative (1e-12
/// absolute near zero), the tolerance the published mixtures are held to.
fn assert_close(ours: &Mixture, want: &Mixture) {
    assert_eq!(ours.sum, want.sum);
    assert_eq!(ours.components.len(), want.components.len());
    for (a, b) in ours.components.iter().zip(&want.components) {
        assert_eq!(a.dist, b.dist);
        let av = std::iter::once(a.weight).chain(a.param_values());
        let bv = std::iter::once(b.weight).chain(b.param_values());
        for (u, v) in av.zip(bv) {
            assert!(
                (u - v).abs() <= 1e-12 || (u - v).abs() <= 1e-9 * u.abs().max(v.abs()),
                "{u} vs {v}"
            );
        }
    }
}

#[tokio::test]
async fn canonical_fit_sql_equals_the_original_fit() {
    let sql = statement();
    assert!(sql.contains("flows_sum"), "{sql}");
    assert_close(&fit(&sql).await, &original("flows"));
    assert_close(
        &fit(&sql.replace("flows_sum", "packets_sum")).await,
        &original("packets"),
    );
}
