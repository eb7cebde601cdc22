// Evaluating a fitted mixture (`flow_models.lib.mix`: pdf with discrete bins,
// cdf, avg), as used by plotting and `generate`.

use crate::mixture::npsum::pairwise_sum;
use crate::mixture::{FitError, Frozen, Mixture};
use std::collections::HashMap;

/// The flow feature on the x axis; it sets the smallest possible value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XKind {
    /// packets per flow (minimum 1)
    Length,
    /// octets per flow (minimum 64)
    Size,
    /// any other feature (duration, rate): minimum 1, values drawn as they are
    Other,
}

impl XKind {
    fn x_min(self) -> f64 {
        match self {
            XKind::Size => 64.0,
            _ => 1.0,
        }
    }
}

/// Component weights renormalised to sum to 1, plus frozen distributions.
fn prepared(mix: &Mixture) -> Result<Vec<(f64, Frozen)>, FitError> {
    let w: Vec<f64> = mix.components.iter().map(|c| c.weight).collect();
    let total = pairwise_sum(&w);
    mix.components
        .iter()
        .map(|c| Ok((c.weight / total, c.frozen()?)))
        .collect()
}

/// `mix.cdf(mix, x)`.
pub fn cdf(mix: &Mixture, x: &[f64]) -> Result<Vec<f64>, FitError> {
    let comps = prepared(mix)?;
    let mut data = vec![0.0; x.len()];
    for (w, fr) in &comps {
        for (d, xi) in data.iter_mut().zip(x) {
            *d += w * fr.cdf(*xi);
        }
    }
    Ok(data)
}

/// `mix.pdf(mix, x, x_val)`: below 1024 the probability of the integer bin
/// `(x-1, x]` (from 0 at the minimum value), above it the density.
pub fn pdf(mix: &Mixture, x: &[f64], kind: XKind) -> Result<Vec<f64>, FitError> {
    let comps = prepared(mix)?;
    let x_min = kind.x_min();
    let mut data = vec![0.0; x.len()];
    for (w, fr) in &comps {
        for (d, xi) in data.iter_mut().zip(x) {
            let xi = *xi;
            if xi < 1024.0 {
                let prev = if xi == x_min { 0.0 } else { xi - 1.0 };
                *d += w * (fr.cdf(xi) - fr.cdf(prev));
            } else {
                *d += w * fr.pdf(xi);
            }
        }
    }
    Ok(data)
}

/// What `avg` computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AvgWhat {
    /// Packets per flow (the `packets` and `flows` mixtures).
    Packets,
    /// Octets per flow (the `octets` and `flows` mixtures).
    Octets,
    /// Octets per packet (the `octets` and `packets` mixtures).
    PacketSize,
    /// Duration per packet (the `duration` and `packets` mixtures).
    PacketIat,
}

/// `mix.avg(data, x, x_val, what)`: the mean of a per-flow feature at each x,
/// from mixtures keyed by y value (`flows`, `packets`, `octets`, `duration`).
pub fn avg(
    data: &HashMap<String, Mixture>,
    x: &[f64],
    kind: XKind,
    what: AvgWhat,
) -> Result<Vec<f64>, FitError> {
    let get = |k: &str| {
        data.get(k)
            .ok_or_else(|| FitError::MissingColumn(format!("mixture {k:?}")))
    };
    let sum = |m: &Mixture, k: &str| {
        m.sum
            .map(|s| s.value())
            .ok_or_else(|| FitError::BadJson(format!("mixture {k:?} has no sum")))
    };
    match what {
        AvgWhat::Packets | AvgWhat::Octets => {
            let key = if what == AvgWhat::Packets {
                "packets"
            } else {
                "octets"
            };
            let (m, f) = (get(key)?, get("flows")?);
            let ratio = sum(m, key)? / sum(f, "flows")?;
            let (pm, pf) = (pdf(m, x, kind)?, pdf(f, x, kind)?);
            Ok(pm.iter().zip(&pf).map(|(a, b)| ratio * a / b).collect())
        }
        AvgWhat::PacketSize | AvgWhat::PacketIat => {
            let num = if what == AvgWhat::PacketSize {
                "octets"
            } else {
                "duration"
            };
            let (m, p) = (get(num)?, get("packets")?);
            let ratio = sum(m, num)? / sum(p, "packets")?;
            let (pm, pp) = (pdf(m, x, kind)?, pdf(p, x, kind)?);
            Ok(pm.iter().zip(&pp).map(|(a, b)| a / b * ratio).collect())
        }
    }
}
