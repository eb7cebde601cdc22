// `flow-models fit` and `generate` end to end: the fit of a published histogram writes the
// published mixture and a .mode file (where flow-models 2.2's save() crashes), bad input exits
// with a message naming the file, generate writes readable traces.

use std::path::{Path, PathBuf};
use std::process::Command;

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../flow-udfs/tests/data/mixture/reference/agh_2015061019_IPv4_anon")
}

fn flow_models(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_flow-models"))
        .args(args)
        .output()
        .unwrap()
}

fn numbers(text: &str) -> Vec<f64> {
    text.split(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | 'e' | '-' | '+')))
        .filter_map(|t| t.parse().ok())
        .collect()
}

#[test]
fn fit_writes_the_published_mixture_and_mode() {
    let out = tempfile::tempdir().unwrap();
    let hist = data().join("histograms/udp/length.csv");
    let r = flow_models(&[
        "fit",
        "-y",
        "octets",
        "-i",
        "400",
        "-U",
        "7",
        "-L",
        "5",
        "-O",
        out.path().to_str().unwrap(),
        hist.to_str().unwrap(),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let ours = std::fs::read_to_string(out.path().join("octets.json")).unwrap();
    let want = std::fs::read_to_string(data().join("mixtures/udp/length/octets.json")).unwrap();
    // Same layout line by line, same numbers to 1e-9.
    assert_eq!(ours.lines().count(), want.lines().count());
    let (a, b) = (numbers(&ours), numbers(&want));
    assert_eq!(a.len(), b.len());
    for (u, v) in a.iter().zip(&b) {
        assert!(
            (u - v).abs() <= 1e-12 || (u - v).abs() <= 1e-9 * u.abs().max(v.abs()),
            "{u} vs {v}"
        );
    }
    let mode = std::fs::read_to_string(out.path().join("octets.mode")).unwrap();
    let want_mode =
        std::fs::read_to_string(data().join("mixtures/udp/length/octets.mode")).unwrap();
    // Only in_file differs (the published one is relative to the mixture directory).
    let strip = |m: &str| m.split_once(", ").unwrap().1.to_string();
    assert_eq!(strip(&mode), strip(&want_mode));
    assert!(mode.starts_with(&format!("{{\"in_file\": \"{}\"", hist.display())));
}

#[test]
fn fit_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("empty.csv", "bin_lo,bin_hi,flows_sum\n", "no data rows"),
        ("text.csv", "bin_lo,bin_hi,flows_sum\n1,2,x\n", "line 2"),
        (
            "nocol.csv",
            "bin_lo,bin_hi,packets_sum\n1,2,3\n",
            "flows_sum",
        ),
        (
            "zero.csv",
            "bin_lo,bin_hi,flows_sum\n1,2,0\n2,3,0\n",
            "sum to zero",
        ),
    ];
    for (name, text, why) in cases {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        let out = dir.path().join("out");
        let r = flow_models(&[
            "fit",
            "-i",
            "5",
            "-U",
            "1",
            "-L",
            "1",
            "-O",
            out.to_str().unwrap(),
            p.to_str().unwrap(),
        ]);
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(
            !r.status.success() && err.contains(name) && err.contains(why),
            "{name}: {err}"
        );
        assert!(!out.join("flows.json").exists(), "{name}: output written");
    }
    let initial = dir.path().join("initial.json");
    std::fs::write(&initial, r#"[[1.0, "cauchy", [0, 1]]]"#).unwrap();
    let hist = data().join("histograms/udp/length.csv");
    let r = flow_models(&[
        "fit",
        "--initial",
        initial.to_str().unwrap(),
        hist.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        !r.status.success() && err.contains("cauchy") && err.contains("initial.json"),
        "{err}"
    );
}

#[test]
fn generate_writes_flows_and_traces() {
    let dir = tempfile::tempdir().unwrap();
    let mixtures = data().join("mixtures/all/length");
    let r = flow_models(&[
        "generate",
        "-s",
        "3",
        "--seed",
        "1",
        mixtures.to_str().unwrap(),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let text = String::from_utf8(r.stdout).unwrap();
    assert_eq!(text.lines().count(), 3);
    for line in text.lines() {
        let f: Vec<u64> = line.split(", ").map(|v| v.parse().unwrap()).collect();
        assert_eq!(f.len(), 21);
        assert!(
            f[18] >= 1 && f[19] >= 64 * f[18] && f[19] <= 1522 * f[18],
            "{line}"
        );
    }
    let trace = dir.path().join("trace");
    let r = flow_models(&[
        "generate",
        "-s",
        "20000",
        "--seed",
        "2",
        "--trace",
        "--period",
        "600",
        "--active-timeout",
        "60",
        "-o",
        "binary",
        "-O",
        trace.to_str().unwrap(),
        mixtures.to_str().unwrap(),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let sql = format!(
        "SELECT count(*) >= 20000, min(first) >= 1433930400, max(last) < 1433930400 + 600, \
         max(last - first) <= 60, min(packets) >= 1 FROM flowbin('{}')",
        trace.display()
    );
    let r = flow_models(&["sql", "-c", &sql]);
    let out = String::from_utf8_lossy(&r.stdout);
    assert!(
        r.status.success() && out.matches("true").count() == 5,
        "{out}"
    );
}

/// A --trace of several chunks (made on parallel threads, each with its own random stream seeded
/// from --seed) is the same for the same seed, flow for flow, and differs for another seed.
#[test]
fn generated_traces_depend_only_on_the_seed() {
    let dir = tempfile::tempdir().unwrap();
    let mixtures = data().join("mixtures/all/length");
    let make = |name: &str, seed: &str| {
        let out = dir.path().join(name);
        let r = flow_models(&[
            "generate",
            "-s",
            "200000",
            "--seed",
            seed,
            "--trace",
            "-o",
            "binary",
            "-O",
            out.to_str().unwrap(),
            mixtures.to_str().unwrap(),
        ]);
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        let err = String::from_utf8_lossy(&r.stderr).into_owned();
        assert!(err.contains("(200000 flows)"), "{err}");
        ["packets.Q", "octets.Q", "sa3.I", "first.I", "first_ms.H"]
            .map(|f| std::fs::read(out.join(f)).unwrap())
    };
    let a = make("a", "7");
    assert_eq!(a, make("b", "7"));
    assert_ne!(a, make("c", "8"));
}

/// `-s 0` (the original's "every flow of the histogram"): each row `flows_sum` times, last row
/// first, packets = bin_lo for a one-bin-per-value length histogram, octets = packets times the
/// row's mean packet size clipped to 64..1522, rounded down or up. Mixtures refuse it.
#[test]
fn generate_size_zero_replays_the_histogram() {
    let hist = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/hist/length_b0.csv");
    let r = flow_models(&["generate", "-s", "0", "--seed", "3", hist.to_str().unwrap()]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let text = std::fs::read_to_string(&hist).unwrap();
    let mut expected = Vec::new();
    for line in text.lines().skip(1).collect::<Vec<_>>().into_iter().rev() {
        let v: Vec<f64> = line.split(',').map(|c| c.parse().unwrap()).collect();
        let size = (v[4] / v[3]).clamp(64.0, 1522.0);
        for _ in 0..v[2] as u64 {
            expected.push((v[0] as u64, v[0] * size));
        }
    }
    let out = String::from_utf8(r.stdout).unwrap();
    let got: Vec<(u64, u64)> = out
        .lines()
        .map(|l| {
            let f: Vec<u64> = l.split(", ").map(|c| c.parse().unwrap()).collect();
            (f[18], f[19])
        })
        .collect();
    assert_eq!(got.len(), 50_000);
    assert_eq!(got.len(), expected.len());
    for (i, ((p, o), (ep, eo))) in got.iter().zip(&expected).enumerate() {
        assert_eq!(*p, *ep, "flow {i}");
        assert!(
            *o == eo.floor() as u64 || *o == eo.ceil() as u64,
            "flow {i}: {o} vs {eo}"
        );
    }
    let r = flow_models(&[
        "generate",
        "-s",
        "0",
        data().join("mixtures/all/length").to_str().unwrap(),
    ]);
    assert!(!r.status.success());
    assert!(String::from_utf8_lossy(&r.stderr).contains("needs a csv_hist input"));
}
