// Sampling and generate checked statistically with fixed seeds: Kolmogorov-Smirnov distance
// of each distribution's samples to its scipy-equivalent CDF, mixture samples against the
// mixture CDF, and generated flows against the histogram and mixtures they come from. The
// bounds are a few standard errors: a wrong parameterisation fails them by far.

use flow_udfs::mixture::{
    Component, Dist, FlowGenerator, Frozen, Histogram, Mixture, MixtureSampler, Num, Source, XKind,
    cdf, mixture_from_json, rvs,
};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::path::{Path, PathBuf};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mixture")
}

/// Kolmogorov-Smirnov statistic of `sample` against `f`.
fn ks(mut sample: Vec<f64>, f: impl Fn(f64) -> f64) -> f64 {
    sample.sort_by(f64::total_cmp);
    let n = sample.len() as f64;
    let mut d = 0.0f64;
    for (i, x) in sample.iter().enumerate() {
        let c = f(*x);
        d = d
            .max((c - i as f64 / n).abs())
            .max(((i + 1) as f64 / n - c).abs());
    }
    d
}

fn single(dist: Dist, params: &[f64]) -> Mixture {
    Mixture {
        components: vec![Component {
            weight: 1.0,
            dist,
            params: params.iter().map(|p| Num::Float(*p)).collect(),
        }],
        sum: None,
    }
}

#[test]
fn every_distribution_samples_its_own_cdf() {
    let n = 50_000;
    // KS critical value at alpha = 0.001 is 1.95 / sqrt(n) = 0.0087.
    let bound = 1.95 / (n as f64).sqrt();
    let cases: &[(Dist, &[f64])] = &[
        (Dist::Uniform, &[2.5, 3.0]),
        (Dist::Norm, &[3.0, 2.5]),
        (
            Dist::Lognorm,
            &[0.49364076506762783, 0.0, 7.379776617881778],
        ),
        (Dist::Lognorm, &[2.0, 0.5, 3.0]),
        (Dist::Genpareto, &[0.5, 6.0, 10.0]),
        (Dist::Genpareto, &[-0.25, 1.0, 2.0]),
        (Dist::Genpareto, &[0.0, 0.0, 1.0]),
        (Dist::Gamma, &[0.5, 0.0, 2.0]),
        (Dist::Gamma, &[3.7, 1.0, 120.0]),
        (Dist::WeibullMin, &[0.7, 0.0, 50.0]),
        (Dist::WeibullMin, &[2.5, 1.0, 3.0]),
    ];
    for (k, (dist, p)) in cases.iter().enumerate() {
        let mut rng = StdRng::seed_from_u64(k as u64);
        let s = MixtureSampler::new(&single(*dist, p)).unwrap();
        let sample: Vec<f64> = (0..n).map(|_| s.draw(&mut rng)).collect();
        let fr = Frozen::new(*dist, p).unwrap();
        let d = ks(sample, |x| fr.cdf(x));
        assert!(d < bound, "{dist:?} {p:?}: KS {d} >= {bound}");
        // The same test rejects a sample from a slightly different distribution.
        let mut q = p.to_vec();
        let last = q.len() - 1;
        q[last] *= 1.05;
        let other = Frozen::new(*dist, &q).unwrap();
        let mut rng = StdRng::seed_from_u64(k as u64);
        let sample: Vec<f64> = (0..n).map(|_| s.draw(&mut rng)).collect();
        assert!(
            ks(sample, |x| other.cdf(x)) > bound,
            "{dist:?}: test has no power"
        );
    }
}

fn published(x: &str, y: &str) -> Mixture {
    let p = data().join(format!(
        "reference/agh_2015061019_IPv4_anon/mixtures/all/{x}/{y}.json"
    ));
    mixture_from_json(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn rvs_of_a_fitted_mixture_follows_its_cdf() {
    // rvs returns floor(v) + 1, so P(sample <= k) = F(k) for integer k.
    let n = 200_000;
    for (x, kind) in [("length", XKind::Length), ("size", XKind::Size)] {
        let mix = published(x, "flows");
        let mut rng = StdRng::seed_from_u64(11);
        let s = rvs(&mix, kind, n, &mut rng).unwrap();
        let ks_points: &[f64] = if kind == XKind::Length {
            &[1.0, 2.0, 3.0, 10.0, 100.0, 1e4]
        } else {
            &[64.0, 100.0, 1500.0, 1e5]
        };
        let want = cdf(&mix, ks_points).unwrap();
        for (k, w) in ks_points.iter().zip(want) {
            let got = s.iter().filter(|v| **v <= *k).count() as f64 / n as f64;
            let se = (w * (1.0 - w) / n as f64).sqrt().max(1e-6);
            assert!(
                (got - w).abs() < 5.0 * se,
                "{x}: P(X <= {k}) = {got}, mixture cdf {w}"
            );
        }
        assert!(
            s.iter()
                .all(|v| *v >= if kind == XKind::Size { 64.0 } else { 1.0 })
        );
    }
}

#[test]
fn generated_flows_from_a_histogram_follow_it() {
    let path = data().join("reference/agh_2015061019_IPv4_anon/histograms/all/length.csv");
    let hist = Histogram::from_path(&path).unwrap();
    let flows = hist.column("flows_sum").unwrap();
    let total: f64 = flows.values.iter().sum();
    let mut g = FlowGenerator::new(Source::Histogram(hist.clone()), XKind::Length).unwrap();
    let mut rng = StdRng::seed_from_u64(3);
    let n = 200_000;
    let (mut ones, mut octets_of_ones) = (0u64, 0u64);
    for _ in 0..n {
        let (p, o) = g.next_flow(&mut rng).unwrap();
        if p == 1 {
            ones += 1;
            octets_of_ones += o;
        }
    }
    // Share of 1-packet flows and their mean size (octets_sum / packets_sum of that bin).
    let w = flows.values[0] / total;
    let got = ones as f64 / n as f64;
    assert!(
        (got - w).abs() < 5.0 * (w * (1.0 - w) / n as f64).sqrt(),
        "{got} vs {w}"
    );
    let size = hist.column("octets_sum").unwrap().values[0]
        / hist.column("packets_sum").unwrap().values[0];
    let mean = octets_of_ones as f64 / ones as f64;
    // Stochastic rounding keeps the mean within a fraction of an octet.
    assert!((mean - size).abs() < 0.01, "{mean} vs {size}");
}

#[test]
fn generated_flows_from_mixtures_have_the_mixture_packet_size() {
    let dir = data().join("reference/agh_2015061019_IPv4_anon/mixtures/all/length");
    let src = Source::load(&dir).unwrap();
    let Source::Mixtures(m) = &src else {
        panic!("a directory is a mixture source")
    };
    let want = flow_udfs::mixture::avg(
        m,
        &[1.0, 2.0],
        XKind::Length,
        flow_udfs::mixture::AvgWhat::PacketSize,
    )
    .unwrap();
    let mut g = FlowGenerator::new(src, XKind::Length).unwrap();
    let mut rng = StdRng::seed_from_u64(5);
    let mut sums = [(0u64, 0u64); 2];
    for _ in 0..100_000 {
        let (p, o) = g.next_flow(&mut rng).unwrap();
        if p <= 2 {
            sums[p as usize - 1].0 += 1;
            sums[p as usize - 1].1 += o;
        }
    }
    for (k, (n, o)) in sums.iter().enumerate() {
        let ps = want[k].clamp(64.0, 1522.0);
        let mean = *o as f64 / *n as f64 / (k + 1) as f64;
        assert!(
            (mean - ps).abs() < 0.02,
            "{} packets: mean packet size {mean} vs {ps}",
            k + 1
        );
    }
}

#[test]
fn bad_generate_inputs_are_errors() {
    assert!(Source::load(Path::new("/nonexistent/h.csv")).is_err());
    let h = Histogram::parse("bin_lo,bin_hi,flows_sum\n1,2,5\n").unwrap();
    assert!(FlowGenerator::new(Source::Histogram(h), XKind::Length).is_err());
    let h =
        Histogram::parse("bin_lo,bin_hi,flows_sum,packets_sum,octets_sum\n1,2,0,0,0\n").unwrap();
    assert!(FlowGenerator::new(Source::Histogram(h), XKind::Length).is_err());
    let bad = single(Dist::Lognorm, &[-1.0, 0.0, 1.0]);
    assert!(MixtureSampler::new(&bad).is_err());
}
