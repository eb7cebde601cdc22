// Refits every published mixture in tests/data/reference with the arguments
// in its `.mode` file and compares with the published JSON (or, for the three
// made by an older flow-models, with what flow-models 2.2 produces today).

use flow_udfs::mixture::{
    FitData, FitOptions, Histogram, Initial, InitialOrMix, Mixture, Num, fit, mixture_from_json,
    mode_from_json,
};
use std::path::{Path, PathBuf};

const REL: f64 = 1e-9;
const ABS: f64 = 1e-12;

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mixture")
}

/// Max relative deviation between two mixtures; panics on structural mismatch.
fn max_rel_dev(ours: &Mixture, theirs: &Mixture, what: &str) -> f64 {
    assert_eq!(ours.sum, theirs.sum, "{what}: sum");
    assert_eq!(
        ours.components.len(),
        theirs.components.len(),
        "{what}: size"
    );
    let mut worst = 0.0f64;
    let mut check = |a: f64, b: f64, label: String| {
        let d = (a - b).abs();
        let rel = d / a.abs().max(b.abs()).max(f64::MIN_POSITIVE);
        assert!(
            d <= ABS || rel <= REL,
            "{what}: {label}: ours {a:e} vs {b:e} (rel {rel:e})"
        );
        if d > ABS {
            worst = worst.max(rel);
        }
    };
    for (k, (a, b)) in ours.components.iter().zip(&theirs.components).enumerate() {
        assert_eq!(a.dist, b.dist, "{what}: component {k} dist");
        check(a.weight, b.weight, format!("weight {k}"));
        assert_eq!(a.params.len(), b.params.len());
        for (j, (p, q)) in a.params.iter().zip(&b.params).enumerate() {
            assert_eq!(
                matches!(p, Num::Int(_)),
                matches!(q, Num::Int(_)),
                "{what}: int-ness of param {j} of component {k}"
            );
            check(p.value(), q.value(), format!("param {j} of component {k}"));
        }
    }
    worst
}

fn refit(mode_path: &Path) -> Mixture {
    let mode = mode_from_json(&std::fs::read_to_string(mode_path).unwrap()).unwrap();
    // mixtures/{set}/{x}/{y}.mode -> histograms/{set}/{x}.csv
    let xdir = mode_path.parent().unwrap();
    let set = xdir.parent().unwrap();
    let root = set.parent().unwrap().parent().unwrap();
    let hist_path = root
        .join("histograms")
        .join(set.file_name().unwrap())
        .join(format!(
            "{}.csv",
            xdir.file_name().unwrap().to_str().unwrap()
        ));
    if let Some(f) = &mode.in_file {
        assert_eq!(
            xdir.join(f).canonicalize().unwrap(),
            hist_path.canonicalize().unwrap()
        );
    }
    let hist = Histogram::from_path(&hist_path).unwrap();
    let Initial::Counts(c) = mode.initial else {
        panic!("reference modes use counts")
    };
    let data = FitData::Histogram {
        hist: &hist,
        y_value: &mode.y_value,
    };
    let options = FitOptions {
        iterations: mode.max_iter,
        max_pareto_w: mode.max_pareto_w,
        ..FitOptions::default()
    };
    fit(data, &InitialOrMix::Counts(c), options).unwrap()
}

fn run_dataset(name: &str) {
    let mut report = Vec::new();
    for set in ["all", "tcp", "udp"] {
        for x in ["length", "size"] {
            for y in ["flows", "packets", "octets"] {
                let dir = data()
                    .join("reference")
                    .join(name)
                    .join("mixtures")
                    .join(set)
                    .join(x);
                let ours = refit(&dir.join(format!("{y}.mode")));
                let published = mixture_from_json(
                    &std::fs::read_to_string(dir.join(format!("{y}.json"))).unwrap(),
                )
                .unwrap();
                let what = format!("{name}/{set}/{x}/{y}");
                let old_version = name == "agh_2015" && set == "all" && x == "size";
                if old_version {
                    let fixture = data().join(format!("py_fits/agh_2015_all_size_{y}.json"));
                    let py = mixture_from_json(&std::fs::read_to_string(fixture).unwrap()).unwrap();
                    let dev = max_rel_dev(&ours, &py, &what);
                    let pubdev = rel_dev_unchecked(&ours, &published);
                    report.push(format!(
                        "{what}: vs flow-models 2.2 {dev:.2e}; vs published (older version) {pubdev:.2e}"
                    ));
                } else {
                    let dev = max_rel_dev(&ours, &published, &what);
                    report.push(format!("{what}: vs published {dev:.2e}"));
                }
            }
        }
    }
    println!("{}", report.join("\n"));
}

fn rel_dev_unchecked(a: &Mixture, b: &Mixture) -> f64 {
    let mut worst = 0.0f64;
    for (p, q) in a.components.iter().zip(&b.components) {
        let pa = std::iter::once(p.weight).chain(p.param_values());
        let qa = std::iter::once(q.weight).chain(q.param_values());
        for (u, v) in pa.zip(qa) {
            if (u - v).abs() > ABS {
                worst = worst.max((u - v).abs() / u.abs().max(v.abs()));
            }
        }
    }
    worst
}

#[test]
fn reference_agh_2015061019() {
    run_dataset("agh_2015061019_IPv4_anon");
}

#[test]
fn reference_agh_2015() {
    run_dataset("agh_2015");
}

/// Our writers reproduce every published `.json` and `.mode` byte for byte.
#[test]
fn json_and_mode_text_round_trip() {
    use flow_udfs::mixture::{mixture_to_json, mode_to_json};
    let mut n = 0;
    for name in ["agh_2015", "agh_2015061019_IPv4_anon"] {
        for set in ["all", "tcp", "udp"] {
            for x in ["length", "size"] {
                for y in ["flows", "packets", "octets"] {
                    let dir = data()
                        .join("reference")
                        .join(name)
                        .join("mixtures")
                        .join(set)
                        .join(x);
                    let j = std::fs::read_to_string(dir.join(format!("{y}.json"))).unwrap();
                    let m = mixture_from_json(&j).unwrap();
                    assert_eq!(mixture_to_json(&m).unwrap() + "\n", j);
                    let t = std::fs::read_to_string(dir.join(format!("{y}.mode"))).unwrap();
                    assert_eq!(
                        mode_to_json(&mode_from_json(&t).unwrap()).unwrap() + "\n",
                        t
                    );
                    n += 1;
                }
            }
        }
    }
    assert_eq!(n, 36);
}
