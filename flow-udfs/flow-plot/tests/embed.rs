//! Plotting from an embedding program: a query's histogram into in-memory PNG and SVG images,
//! with the numbers equal to those of the same histogram read from a csv_hist file.

use datafusion::prelude::SessionContext;
use flow_plot::{Group, HistData, ImageFormat, PlotOptions, Source, figure_csv, figures, render};
use std::path::Path;

fn sample() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/data/sample")
        .display()
        .to_string()
}

#[tokio::test]
async fn a_query_plotted_in_memory() {
    let ctx = SessionContext::new();
    flow_udfs::register_all(&ctx).unwrap();
    let sql = format!("SELECT * FROM flow_hist('{}', 'size', 8)", sample());
    let hist = HistData::from_dataframe(ctx.sql(&sql).await.unwrap())
        .await
        .unwrap();
    // The same histogram through a csv_hist file.
    let batches = ctx.sql(&sql).await.unwrap().collect().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("h.csv");
    let mut w = arrow::csv::Writer::new(std::fs::File::create(&csv).unwrap());
    for b in &batches {
        w.write(b).unwrap();
    }
    drop(w);
    assert_eq!(HistData::from_csv(&csv).unwrap(), hist);

    let group = Group::of(vec![Source::Histogram {
        label: "sample".into(),
        data: hist,
    }])
    .unwrap();
    let opts = PlotOptions {
        x: flow_udfs::hist::XValue::Size,
        ..PlotOptions::default()
    };
    let figs = figures(&[group], &opts).unwrap();
    assert_eq!(figs.len(), 7);
    // Every CDF line ends at 1 (the last bin holds the rest of the flows).
    for s in &figs[0].series {
        assert!((s.y.last().unwrap() - 1.0).abs() < 1e-12, "{}", s.name);
    }
    assert!(figure_csv(&figs[0]).starts_with("source,series,x,y\nsample,flows line,64.0,"));

    let png = render(&figs[1], ImageFormat::Png).unwrap();
    let decoder = png::Decoder::new(std::io::Cursor::new(&png));
    let reader = decoder.read_info().unwrap();
    assert_eq!((reader.info().width, reader.info().height), (1500, 950));
    let svg = String::from_utf8(render(&figs[1], ImageFormat::Svg).unwrap()).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("PDF of flows"));
}
