// Bad input must give a clear Err, never a panic or a silently written NaN.

use flow_udfs::mixture::{
    Component, Dist, FitData, FitError, FitOptions, Histogram, InitialCounts, InitialOrMix,
    Mixture, Num, fit, mixture_from_json, mixture_to_json,
};

const HEADER: &str = "bin_lo,bin_hi,flows_sum,packets_sum,octets_sum\n";

fn counts() -> InitialOrMix {
    InitialOrMix::Counts(InitialCounts {
        uniform: 1,
        pareto: 0,
        lognorm: 2,
    })
}

/// 10 iterations on the `flows` column, from `counts()`.
fn fit_flows(h: &Histogram) -> Result<Mixture, FitError> {
    let data = FitData::Histogram {
        hist: h,
        y_value: "flows",
    };
    let options = FitOptions {
        iterations: 10,
        ..FitOptions::default()
    };
    fit(data, &counts(), options)
}

/// `iterations` on points `x` with weights `w`, from `m`.
fn fit_points(x: &[f64], w: &[f64], m: &Mixture, iterations: usize) -> Result<Mixture, FitError> {
    let data = FitData::Points {
        x,
        weights: Some(w),
    };
    let options = FitOptions {
        iterations,
        ..FitOptions::default()
    };
    fit(data, &InitialOrMix::Mixture(m.clone()), options)
}

#[test]
fn histogram_without_rows() {
    assert_eq!(Histogram::parse(HEADER), Err(FitError::EmptyHistogram));
    assert_eq!(Histogram::parse(""), Err(FitError::EmptyHistogram));
}

#[test]
fn non_numeric_cell() {
    let text = format!("{HEADER}1,2,10,10,800\n2,3,abc,10,900\n");
    match Histogram::parse(&text) {
        Err(FitError::Csv { line, msg }) => {
            assert_eq!(line, 3);
            assert!(msg.contains("flows_sum"), "{msg}");
        }
        other => panic!("{other:?}"),
    }
    let text = format!("{HEADER}1,2,10,10,800\n2,3,,10,900\n");
    assert!(matches!(Histogram::parse(&text), Err(FitError::Csv { .. })));
    let text = format!("{HEADER}1,2,10,10\n");
    assert!(matches!(Histogram::parse(&text), Err(FitError::Csv { .. })));
}

#[test]
fn missing_y_column() {
    let h = Histogram::parse("bin_lo,bin_hi,packets_sum\n1,2,5\n2,3,6\n").unwrap();
    assert_eq!(
        fit_flows(&h),
        Err(FitError::MissingColumn("flows_sum".into()))
    );
}

#[test]
fn all_zero_weights() {
    let h = Histogram::parse(&format!("{HEADER}1,2,0,0,0\n2,3,0,0,0\n5,6,0,0,0\n")).unwrap();
    assert_eq!(fit_flows(&h), Err(FitError::ZeroWeights));
}

#[test]
fn unknown_distribution_in_initial_json() {
    let r = mixture_from_json(r#"[[0.5, "cauchy", [0, 1]], [0.5, "lognorm", [1.0, 0, 5.0]]]"#);
    assert_eq!(r, Err(FitError::UnknownDistribution("cauchy".into())));
}

#[test]
fn malformed_initial_json() {
    for bad in [
        "",
        "{}",
        "[[0.5, \"lognorm\"]]",
        "[[0.5, \"lognorm\", []]]",
        "[[0.5, \"lognorm\", [1, 2, 3, 4]]]",
        "[[\"x\", \"lognorm\", [1.0, 0, 2.0]]]",
        "{\"mix\": 3}",
    ] {
        assert!(mixture_from_json(bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn mismatched_or_negative_weights() {
    let m = mixture_from_json(r#"[[1.0, "lognorm", [1.0, 0, 5.0]]]"#).unwrap();
    assert!(matches!(
        fit_points(&[1.0, 2.0], &[1.0], &m, 3),
        Err(FitError::BadData(_))
    ));
    assert!(matches!(
        fit_points(&[1.0, 2.0], &[1.0, -1.0], &m, 3),
        Err(FitError::BadData(_))
    ));
    assert!(matches!(
        fit_points(&[1.0, f64::NAN], &[1.0, 1.0], &m, 3),
        Err(FitError::BadData(_))
    ));
    assert_eq!(fit_points(&[], &[], &m, 3), Err(FitError::EmptyHistogram));
    let empty = Mixture {
        components: vec![],
        sum: None,
    };
    assert!(matches!(
        fit_points(&[1.0], &[1.0], &empty, 3),
        Err(FitError::BadParams(_))
    ));
}

#[test]
fn degenerate_data_never_yields_nan() {
    // x = 0 makes log(x) = -inf in the lognorm M-step.
    let m =
        mixture_from_json(r#"[[0.5, "lognorm", [1.0, 0, 5.0]], [0.5, "gamma", [1.0, 0, 2.0]]]"#)
            .unwrap();
    match fit_points(&[0.0, 1.0, 2.0], &[1.0, 1.0, 1.0], &m, 5) {
        Ok(r) => assert!(mixture_to_json(&r).is_ok()),
        Err(e) => assert!(matches!(e, FitError::NonFinite(_)), "{e}"),
    }
    let nan = Mixture {
        components: vec![Component {
            weight: f64::NAN,
            dist: Dist::Uniform,
            params: vec![Num::Int(0), Num::Int(1)],
        }],
        sum: Some(Num::Int(3)),
    };
    assert!(matches!(mixture_to_json(&nan), Err(FitError::NonFinite(_))));
}

#[test]
fn missing_file() {
    assert!(matches!(
        Histogram::from_path(std::path::Path::new("/nonexistent/h.csv")),
        Err(FitError::Io(_))
    ));
}
