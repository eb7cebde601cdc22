// The mixture SQL functions against the original's results: mixture_fit over a histogram
// query equals the published fit, sql/fit.sql (trace -> histogram -> mixture in one statement)
// equals flow-models 2.2's fit of its own histogram of the sample, mixture_pdf/mixture_cdf equal flow-models' lib.mix values,
// mixture_generate is repeatable and bad arguments are plan/execution errors.

use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::{Float64Type, UInt64Type};
use datafusion::prelude::{CsvReadOptions, SessionContext};
use flow_provider::SessionContextFlowExt;
use flow_udfs::mixture::{Mixture, mixture_from_json};
use std::path::{Path, PathBuf};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mixture")
}

/// `path` relative to the repository root.
fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

const SET: &str = "reference/agh_2015061019_IPv4_anon";

async fn ctx() -> SessionContext {
    let ctx = SessionContext::new();
    flow_udfs::register_all(&ctx).unwrap();
    let hist = data().join(SET).join("histograms/all/length.csv");
    ctx.register_csv("hist", hist.to_str().unwrap(), CsvReadOptions::new())
        .await
        .unwrap();
    ctx
}

async fn one_string(ctx: &SessionContext, sql: &str) -> String {
    let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    batches[0].column(0).as_string::<i32>().value(0).to_string()
}

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

fn published(y: &str) -> Mixture {
    let p = data()
        .join(SET)
        .join(format!("mixtures/all/length/{y}.json"));
    mixture_from_json(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[tokio::test]
async fn mixture_fit_over_a_histogram_query_equals_the_published_fit() {
    let ctx = ctx().await;
    let json = one_string(
        &ctx,
        "SELECT mixture_fit(bin_lo, flows_sum, 'U6L4', 400) FROM hist",
    )
    .await;
    assert_close(&mixture_from_json(&json).unwrap(), &published("flows"));
    // Rows in shuffled order and split over partitions (UNION) give the same fit: the
    // aggregate sorts by x as the original's histogram is sorted.
    let json2 = one_string(
        &ctx,
        "SELECT mixture_fit(bin_lo, flows_sum, 'U6L4', 400) FROM (
            SELECT * FROM hist WHERE bin_lo % 2 = 0
            UNION ALL SELECT * FROM (SELECT * FROM hist WHERE bin_lo % 2 = 1 ORDER BY bin_lo DESC))",
    )
    .await;
    assert_eq!(json, json2);
}

/// sql/fit.sql against flow-models 2.2's `fit_mix` of its own length histogram of
/// examples/data/sample (-U 6 -L 4, 100 iterations; fixtures made by
/// tests/fixtures/make_fit.py), for flow and packet weights.
#[tokio::test]
async fn canonical_fit_sql_equals_the_original_fit() {
    let sql: String = std::fs::read_to_string(repo("sql/fit.sql"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("--"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(sql.contains("flows_sum"), "{sql}");
    let ctx = SessionContext::new();
    flow_udfs::register_all(&ctx).unwrap();
    let sample = repo("examples/data/sample");
    ctx.register_flowbin("flows", sample.to_str().unwrap())
        .unwrap();
    for y in ["flows", "packets"] {
        let query = sql.replace("flows_sum", &format!("{y}_sum"));
        let batches = ctx.sql(&query).await.unwrap().collect().await.unwrap();
        assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 1);
        let ours = batches[0].column(0).as_string::<i32>().value(0);
        let path = repo(&format!("tests/data/fit/sample_length_U6L4_i100_{y}.json"));
        let want = mixture_from_json(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert_close(&mixture_from_json(ours).unwrap(), &want);
    }
}

#[tokio::test]
async fn mixture_fit_from_a_json_initial_mixture() {
    let ctx = ctx().await;
    // 400 iterations from the counts = 200 from counts, then 200 from that result.
    let half = one_string(
        &ctx,
        "SELECT mixture_fit(bin_lo, packets_sum, 'U6L4', 200) FROM hist",
    )
    .await;
    let half_mix = mixture_from_json(&half).unwrap();
    let list = flow_udfs::mixture::mixture_to_json(&Mixture {
        sum: None,
        ..half_mix
    })
    .unwrap();
    let sql = format!("SELECT mixture_fit(bin_lo, packets_sum, '{list}', 200) FROM hist");
    let full = one_string(&ctx, &sql).await;
    assert_close(&mixture_from_json(&full).unwrap(), &published("packets"));
}

#[tokio::test]
async fn mixture_pdf_and_cdf_match_flow_models() {
    let ctx = ctx().await;
    let text = std::fs::read_to_string(data().join("mix_values.csv")).unwrap();
    let mut checked = 0;
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f[1].starts_with("avg_") {
            continue;
        }
        let p = data()
            .join(SET)
            .join(format!("mixtures/all/{}/{}.json", f[0], f[1]));
        let mix = std::fs::read_to_string(p).unwrap().replace('\n', " ");
        let sql = format!(
            "SELECT mixture_pdf('{mix}', {x}, '{k}'), mixture_cdf('{mix}', {x})",
            x = f[2],
            k = f[0]
        );
        let b = ctx.sql(&sql).await.unwrap().collect().await.unwrap();
        let pdf = b[0].column(0).as_primitive::<Float64Type>().value(0);
        let cdf = b[0].column(1).as_primitive::<Float64Type>().value(0);
        let (ep, ec): (f64, f64) = (f[3].parse().unwrap(), f[4].parse().unwrap());
        assert!(
            (pdf - ep).abs() <= 1e-10 * ep.abs().max(1e-300),
            "{line}: pdf {pdf:e}"
        );
        assert!(
            (cdf - ec).abs() <= 1e-12 * ec.abs().max(1e-300),
            "{line}: cdf {cdf:e}"
        );
        checked += 1;
    }
    assert_eq!(checked, 90);
}

#[tokio::test]
async fn mixture_pdf_over_a_column_and_nulls() {
    let ctx = ctx().await;
    let mix =
        std::fs::read_to_string(data().join(SET).join("mixtures/all/length/flows.json")).unwrap();
    // The discrete pdf sums to the cdf over the integers 1..=n.
    let sql = format!(
        "SELECT sum(mixture_pdf('{mix}', value, 'length')), mixture_cdf('{mix}', 100),
                mixture_pdf('{mix}', NULL, 'length') IS NULL
         FROM generate_series(1, 100)"
    );
    let b = ctx.sql(&sql).await.unwrap().collect().await.unwrap();
    let s = b[0].column(0).as_primitive::<Float64Type>().value(0);
    let c = b[0].column(1).as_primitive::<Float64Type>().value(0);
    assert!((s - c).abs() < 1e-12, "{s} vs {c}");
    assert!(b[0].column(2).as_boolean().value(0));
}

#[tokio::test]
async fn mixture_generate_is_repeatable_with_a_seed() {
    let ctx = ctx().await;
    let dir = data().join(SET).join("mixtures/all/length");
    let sql = format!(
        "SELECT count(*), sum(packets), sum(octets), min(packets), max(af) FROM mixture_generate('{}', 20000, 'length', 7)",
        dir.display()
    );
    let a = ctx.sql(&sql).await.unwrap().collect().await.unwrap();
    let b = ctx.sql(&sql).await.unwrap().collect().await.unwrap();
    assert_eq!(a, b);
    assert_eq!(
        a[0].column(0)
            .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
            .value(0),
        20000
    );
    assert_eq!(a[0].column(3).as_primitive::<UInt64Type>().value(0), 1);
}

#[tokio::test]
async fn bad_arguments_are_errors() {
    let ctx = ctx().await;
    for sql in [
        "SELECT mixture_fit(bin_lo, flows_sum, 'X9', 10) FROM hist",
        "SELECT mixture_fit(bin_lo, flows_sum, '[[1.0, \"cauchy\", [0, 1]]]', 10) FROM hist",
        "SELECT mixture_fit(bin_lo, 'a', 'U1L1', 10) FROM hist",
        "SELECT mixture_fit(bin_lo, flows_sum * 0, 'U1L1', 10) FROM hist",
        "SELECT mixture_cdf('not json', 3.0)",
        "SELECT mixture_pdf('[[1.0, \"norm\", [0, 1]]]', 3.0, 'weight')",
        "SELECT * FROM mixture_generate('/nonexistent/dir', 10)",
    ] {
        let r = match ctx.sql(sql).await {
            Ok(df) => df.collect().await.map(|_| ()),
            Err(e) => Err(e),
        };
        let e = r.expect_err(sql).to_string();
        assert!(!e.is_empty(), "{sql}");
        println!("{sql}\n  -> {e}");
    }
}
