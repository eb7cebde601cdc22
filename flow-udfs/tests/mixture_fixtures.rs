// Compares initial mixtures, synthetic-sample EM runs and mixture evaluation with values
// computed once by scipy / flow-models 2.2 (tests/data/mixture/make_fixtures.py). The single
// distributions and Python's float repr, which are not public, are compared in the unit tests
// of dist.rs and pyfmt.rs.

use flow_udfs::mixture::{
    AvgWhat, FitData, FitOptions, Histogram, InitialCounts, InitialOrMix, Mixture, Num, XKind, avg,
    cdf, fit, initial_mix, mixture_from_json, pdf,
};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mixture")
}

fn read(p: &str) -> String {
    std::fs::read_to_string(data().join(p)).unwrap()
}

fn rel(a: f64, b: f64) -> f64 {
    if a == b || (a.is_nan() && b.is_nan()) {
        0.0
    } else {
        (a - b).abs() / a.abs().max(b.abs())
    }
}

fn close(a: f64, b: f64, tol: f64, abs: f64) -> bool {
    (a - b).abs() <= abs || rel(a, b) <= tol
}

#[test]
fn initial_mix_matches_original() {
    let all: serde_json::Value = serde_json::from_str(&read("initial_mix.json")).unwrap();
    let mut hists: HashMap<String, Histogram> = HashMap::new();
    for (key, want) in all.as_object().unwrap() {
        let parts: Vec<&str> = key.split('/').collect();
        let hpath = format!(
            "reference/{}/histograms/{}/{}.csv",
            parts[0], parts[1], parts[2]
        );
        let hist = hists
            .entry(hpath.clone())
            .or_insert_with(|| Histogram::from_path(&data().join(&hpath)).unwrap());
        let mut c = InitialCounts::default();
        for kv in parts[3].split(',') {
            let n = kv[1..].parse().unwrap();
            match &kv[..1] {
                "U" => c.uniform = n,
                "P" => c.pareto = n,
                _ => c.lognorm = n,
            }
        }
        let ours = initial_mix(&c, &hist.x, hist.x_is_int).unwrap();
        let want = mixture_from_json(&want.to_string()).unwrap();
        assert_eq!(ours.components.len(), want.components.len());
        for (a, b) in ours.components.iter().zip(&want.components) {
            assert_eq!(a.dist, b.dist, "{key}");
            assert_eq!(a.weight, b.weight, "{key}");
            for (p, q) in a.params.iter().zip(&b.params) {
                assert_eq!(matches!(p, Num::Int(_)), matches!(q, Num::Int(_)), "{key}");
                // np.geomspace goes through numpy's SIMD log10/power: allow 1 ulp.
                assert!(
                    close(p.value(), q.value(), 2.5e-16, 0.0),
                    "{key}: {p:?} vs {q:?}"
                );
            }
        }
    }
}

fn compare(ours: &Mixture, want: &Mixture, tol: f64, what: &str) -> f64 {
    let mut worst = 0.0f64;
    assert_eq!(ours.components.len(), want.components.len());
    for (a, b) in ours.components.iter().zip(&want.components) {
        assert_eq!(a.dist, b.dist);
        let av = std::iter::once(a.weight).chain(a.param_values());
        let bv = std::iter::once(b.weight).chain(b.param_values());
        for (u, v) in av.zip(bv) {
            assert!(close(u, v, tol, 1e-12), "{what}: {u:e} vs {v:e}");
            worst = worst.max(rel(u, v));
        }
        for (p, q) in a.params.iter().zip(&b.params) {
            assert_eq!(matches!(p, Num::Int(_)), matches!(q, Num::Int(_)), "{what}");
        }
    }
    worst
}

/// EM (and so every M-step) on synthetic samples, against fit_mix(x, mix, None, it).
#[test]
fn m_steps_match_original_on_synthetic_samples() {
    for name in [
        "genpareto_lognorm",
        "two_gammas",
        "two_weibulls",
        "two_norms",
    ] {
        let x: Vec<f64> = read(&format!("synthetic/{name}.x"))
            .lines()
            .map(|l| l.parse().unwrap())
            .collect();
        let init = mixture_from_json(&read(&format!("synthetic/{name}.init.json"))).unwrap();
        for iters in [1, 30] {
            let want =
                mixture_from_json(&read(&format!("synthetic/{name}.fit{iters}.json"))).unwrap();
            let data = FitData::Points {
                x: &x,
                weights: None,
            };
            let options = FitOptions {
                iterations: iters,
                ..FitOptions::default()
            };
            let ours = fit(data, &InitialOrMix::Mixture(init.clone()), options).unwrap();
            // gamma: fsolve (xtol 1.49e-8) converges far tighter here; we solve exactly.
            let tol = 1e-9;
            let dev = compare(&ours, &want, tol, &format!("{name} x{iters}"));
            println!("{name}, {iters} iterations: max rel deviation {dev:.2e}");
        }
    }
}

/// Data weights plus the `--mpw` cap on genpareto weights.
#[test]
fn weighted_fit_with_pareto_cap_matches_original() {
    let name = "genpareto_lognorm";
    let x: Vec<f64> = read(&format!("synthetic/{name}.x"))
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    let w: Vec<f64> = (1..=x.len()).map(|i| (i % 7) as f64).collect();
    let init = mixture_from_json(&read(&format!("synthetic/{name}.init.json"))).unwrap();
    let want = mixture_from_json(&read(&format!("synthetic/{name}.fit30_w_mpw0.2.json"))).unwrap();
    let data = FitData::Points {
        x: &x,
        weights: Some(&w),
    };
    let options = FitOptions {
        iterations: 30,
        max_pareto_w: Some(0.2),
        ..FitOptions::default()
    };
    let ours = fit(data, &InitialOrMix::Mixture(init), options).unwrap();
    assert_eq!(ours.components[0].weight, 0.2);
    let dev = compare(&ours, &want, 1e-9, "weighted mpw");
    println!("weighted + mpw: max rel deviation {dev:.2e}");
}

#[test]
fn mixture_pdf_cdf_avg_match_original() {
    let dir = data().join("reference/agh_2015061019_IPv4_anon/mixtures/all");
    let mut mixes: HashMap<String, HashMap<String, Mixture>> = HashMap::new();
    for xv in ["length", "size"] {
        let m = mixes.entry(xv.to_string()).or_default();
        for y in ["flows", "packets", "octets"] {
            let t = std::fs::read_to_string(dir.join(xv).join(format!("{y}.json"))).unwrap();
            m.insert(y.to_string(), mixture_from_json(&t).unwrap());
        }
    }
    let mut worst = 0.0f64;
    for line in read("mix_values.csv").lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let kind = if f[0] == "size" {
            XKind::Size
        } else {
            XKind::Length
        };
        let x: f64 = f[2].parse().unwrap();
        let (ep, ec): (f64, f64) = (f[3].parse().unwrap(), f[4].parse().unwrap());
        let data = &mixes[f[0]];
        let (p, c) = if let Some(what) = f[1].strip_prefix("avg_") {
            let w = if what == "packets" {
                AvgWhat::Packets
            } else {
                AvgWhat::Octets
            };
            (avg(data, &[x], kind, w).unwrap()[0], 0.0)
        } else {
            let m = &data[f[1]];
            (pdf(m, &[x], kind).unwrap()[0], cdf(m, &[x]).unwrap()[0])
        };
        // Differences of nearly equal CDFs lose digits: compare at 1e-10.
        assert!(close(p, ep, 1e-10, 1e-300), "{line}: pdf {p:e}");
        assert!(close(c, ec, 1e-12, 1e-300), "{line}: cdf {c:e}");
        worst = worst.max(rel(p, ep)).max(rel(c, ec));
    }
    println!("mixture pdf/cdf/avg max rel deviation {worst:.2e}");
}
