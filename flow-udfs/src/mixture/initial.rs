// `flow_models.fit.initial_mix`: the starting mixture built from component counts.

use crate::mixture::dist::Dist;
use crate::mixture::{Component, FitError, Mixture, Num};

/// Component counts as given by `-U`, `-P`, `-L` (0 when absent).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InitialCounts {
    /// Uniform components (`-U`): `uniform(0, min_x + n)` for n = 0, 1, ...
    pub uniform: usize,
    /// Generalised Pareto components (`-P`).
    pub pareto: usize,
    /// Lognormal components (`-L`), spread geometrically over the x range.
    pub lognorm: usize,
}

/// `np.geomspace(start, stop, num)` for positive endpoints.
pub fn geomspace(start: f64, stop: f64, num: usize) -> Vec<f64> {
    if num == 0 {
        return Vec::new();
    }
    let (ls, le) = (start.log10(), stop.log10());
    // np.linspace: i * step + start, last element forced to stop.
    let div = (num - 1) as f64;
    let step = (le - ls) / div;
    let mut out: Vec<f64> = (0..num)
        .map(|i| {
            let y = if num > 1 && i == num - 1 {
                le
            } else if num == 1 {
                ls
            } else {
                i as f64 * step + ls
            };
            10f64.powf(y)
        })
        .collect();
    out[0] = start;
    if num > 1 {
        out[num - 1] = stop;
    }
    out
}

/// Builds the initial mixture exactly as `initial_mix(mode, x)`; `x_is_int`
/// tells whether the histogram's x column was integral (it changes JSON ints).
pub fn initial_mix(counts: &InitialCounts, x: &[f64], x_is_int: bool) -> Result<Mixture, FitError> {
    if x.is_empty() {
        return Err(FitError::EmptyHistogram);
    }
    let min_x = x.iter().copied().fold(f64::INFINITY, f64::min);
    let max_x = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (u, p, l) = (counts.uniform, counts.pareto, counts.lognorm);
    let num = |v: f64| {
        if x_is_int {
            Num::Int(v as i64)
        } else {
            Num::Float(v)
        }
    };
    let gstart = min_x + u.max(1) as f64 - 1.0;
    if p + l > 0 && !(gstart > 0.0 && max_x > 0.0) {
        return Err(FitError::BadData(
            "geometric grid of initial components needs positive x".into(),
        ));
    }
    let geom = geomspace(gstart, max_x, p + l);
    let mut comps = Vec::new();
    let mut ng = 0;
    for n in 0..u {
        comps.push(Component {
            weight: 0.1,
            dist: Dist::Uniform,
            params: vec![Num::Int(0), num(min_x + n as f64)],
        });
    }
    for n in 0..p {
        let loc = if n == 0 {
            num(min_x + u as f64 - 1.0)
        } else {
            ng += 1;
            Num::Float(geom[ng - 1])
        };
        comps.push(Component {
            weight: 0.1,
            dist: Dist::Genpareto,
            params: vec![Num::Float(1.0), loc, Num::Float(10.0)],
        });
    }
    for _ in 0..l {
        comps.push(Component {
            weight: 0.1,
            dist: Dist::Lognorm,
            params: vec![Num::Float(2.0), Num::Int(0), Num::Float(geom[ng])],
        });
        ng += 1;
    }
    Ok(Mixture {
        components: comps,
        sum: None,
    })
}
