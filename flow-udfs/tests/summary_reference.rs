//! `flow_udfs::summary` against `python -m flow_models.summary` (flow-models 2.2): the TeX text
//! byte for byte for every fixture in tests/data/summary (made by make_fixtures.sh from the
//! published histograms and histograms of the sample), the CSV and Markdown outputs carrying
//! the same numbers, and bad input refused with a clear error.

use flow_udfs::hist::XValue;
use flow_udfs::summary::{Format, read_csv_hist, render, summarize, summarize_csv_hist};
use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/summary")
}

/// (fixture name, histogram path, the original's TeX output) for every fixture.
fn fixtures() -> Vec<(String, PathBuf, String)> {
    let mut out: Vec<_> = std::fs::read_dir(dir())
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension()? == "src").then_some(p)
        })
        .map(|src| {
            let name = src.file_stem().unwrap().to_string_lossy().into_owned();
            let hist = dir().join(std::fs::read_to_string(&src).unwrap().trim());
            let tex = std::fs::read_to_string(src.with_extension("tex")).unwrap();
            (name, hist, tex)
        })
        .collect();
    out.sort();
    assert!(out.len() >= 14, "fixtures missing in {}", dir().display());
    out
}

#[test]
fn tex_equals_the_original_byte_for_byte() {
    for (name, hist, tex) in fixtures() {
        let ours = summarize_csv_hist(&hist, None, Format::Tex).unwrap();
        assert_eq!(ours, tex, "{name}");
    }
}

/// The numbers of a TeX table row `a & b & c \\`, without the grouping spaces.
fn tex_cells(line: &str) -> Vec<String> {
    line.trim_end_matches(" \\\\")
        .split(" & ")
        .map(|c| c.replace(' ', ""))
        .collect()
}

#[test]
fn csv_and_markdown_carry_the_same_numbers() {
    for (name, hist, tex) in fixtures() {
        let csv = summarize_csv_hist(&hist, None, Format::Csv).unwrap();
        let md = summarize_csv_hist(&hist, None, Format::Markdown).unwrap();
        // statistics: the rows between \midrule and \bottomrule of the first table
        let tables: Vec<&str> = tex.split("\\midrule\n").collect();
        let stats_tex: Vec<Vec<String>> = tables[1]
            .lines()
            .take_while(|l| *l != "\\bottomrule")
            .map(tex_cells)
            .collect();
        let cdf_tex: Vec<Vec<String>> = tables[2]
            .lines()
            .take_while(|l| *l != "\\bottomrule")
            .map(tex_cells)
            .collect();
        let (csv_stats, csv_cdf) = csv.split_once("\n\n").unwrap();
        let csv_stats: Vec<Vec<String>> = csv_stats
            .lines()
            .skip(1)
            .map(|l| l.split(',').map(str::to_string).collect())
            .collect();
        let csv_cdf: Vec<Vec<String>> = csv_cdf
            .lines()
            .skip(1)
            .map(|l| l.split(',').map(str::to_string).collect())
            .collect();
        assert_eq!(csv_stats.len(), stats_tex.len(), "{name}");
        for (c, t) in csv_stats.iter().zip(&stats_tex) {
            assert_eq!(
                format!("\\textbf{{{}}}", c[0]).replace(' ', ""),
                t[0],
                "{name}"
            );
            assert_eq!(c[1..], t[1..], "{name}");
        }
        assert_eq!(csv_cdf, cdf_tex, "{name}");
        let md_rows: Vec<Vec<String>> = md
            .lines()
            .filter(|l| {
                l.starts_with("| ") && !l.starts_with("| statistic") && !l.starts_with("| flows of")
            })
            .map(|l| {
                l.trim_matches(|c| c == '|' || c == ' ')
                    .split(" | ")
                    .map(|c| c.replace(' ', ""))
                    .collect()
            })
            .collect();
        let (md_stats, md_cdf) = md_rows.split_at(stats_tex.len());
        for (m, t) in md_stats.iter().zip(&stats_tex) {
            assert_eq!(m[1..], t[1..], "{name}");
        }
        assert_eq!(md_cdf, cdf_tex.as_slice(), "{name}");
    }
}

#[test]
fn row_order_does_not_matter() {
    let (_, hist, tex) = fixtures().remove(0);
    let batch = read_csv_hist(&hist).unwrap();
    let n = batch.num_rows();
    let reversed = arrow::compute::take_record_batch(
        &batch,
        &arrow::array::UInt32Array::from_iter_values((0..n as u32).rev()),
    )
    .unwrap();
    let halves = [reversed.slice(0, n / 2), reversed.slice(n / 2, n - n / 2)];
    assert_eq!(render(&summarize(&halves, None).unwrap(), Format::Tex), tex);
}

#[test]
fn duration_and_rate_have_their_points() {
    let hist = dir().join("../../../../tests/data/hist/duration_b8_rate.csv");
    let err = summarize_csv_hist(&hist, None, Format::Tex).unwrap_err();
    assert!(err.to_string().contains("give it (-x"), "{err}");
    let tex = summarize_csv_hist(&hist, Some(XValue::Duration), Format::Tex).unwrap();
    assert!(tex.contains("\\textbf{Flows of duration up to}"), "{tex}");
    assert!(tex.contains("{(milliseconds)}"), "{tex}");
    assert!(tex.contains("\\textbf{Average flow rate} & "), "{tex}");
    // 40 % of the sample's flows last at most 1 ms; beyond the last bin_lo: nan, as the original
    assert!(
        tex.contains("\n1 & 40.0690 & 0.2779 & 0.0437 \\\\\n"),
        "{tex}"
    );
    assert!(tex.contains("\n16777216 & nan & nan & nan \\\\\n"), "{tex}");
    let rate = summarize_csv_hist(&hist, Some(XValue::Rate), Format::Csv).unwrap();
    assert!(rate.contains("\n1024,"), "{rate}");
    assert!(rate.contains("\n17179869184,"), "{rate}");
}

#[test]
fn bad_input_is_refused_with_the_reason() {
    let err = summarize_csv_hist("no/such/hist.csv", None, Format::Tex).unwrap_err();
    assert!(err.to_string().contains("no/such/hist.csv"), "{err}");
    let tmp = std::env::temp_dir().join(format!("summary-bad-{}.csv", std::process::id()));
    std::fs::write(&tmp, "bin_lo,bin_hi,flows_sum,octets_sum\n1,2,3,4\n").unwrap();
    let err = summarize_csv_hist(&tmp, None, Format::Tex).unwrap_err();
    assert!(err.to_string().contains("packets_sum"), "{err}");
    std::fs::write(&tmp, "bin_lo,bin_hi,flows_sum,packets_sum,octets_sum\n").unwrap();
    let err = summarize_csv_hist(&tmp, None, Format::Tex).unwrap_err();
    assert!(err.to_string().contains("no data rows"), "{err}");
    std::fs::write(
        &tmp,
        "bin_lo,bin_hi,flows_sum,packets_sum,octets_sum\n1,2,x,4,5\n",
    )
    .unwrap();
    let err = summarize_csv_hist(&tmp, None, Format::Tex).unwrap_err();
    assert!(err.to_string().contains("not a finite number"), "{err}");
    std::fs::remove_file(&tmp).unwrap();
}
