// The EM fit of `flow_models.fit` (`fit_mix`, and `fit` over a histogram column): the one entry
// point, its options, and the loop that runs each iteration's steps on a team of threads.

mod column;
mod digamma;
mod mstep;
mod shared;

use crate::mixture::estep::{RowSums, fixed_densities};
use crate::mixture::hist_csv::Histogram;
use crate::mixture::initial::{InitialCounts, initial_mix};
use crate::mixture::npsum::pairwise_sum;
use crate::mixture::{Component, FitError, Mixture, Num};
use shared::{Data, Shared};
use std::borrow::Cow;

/// What [`fit`] fits: points with optional data weights (`fit_mix(x, mix, ws)`), or one column
/// of a histogram (`flow_models.fit.fit`).
#[derive(Clone, Copy, Debug)]
pub enum FitData<'a> {
    /// Points `x`, each with the data weight at the same index of `weights`.
    Points {
        /// The points, all finite.
        x: &'a [f64],
        /// One non-negative weight per point, not all zero; `None`: every point weighs 1
        /// (`ws=None`) and the result has no `sum`.
        weights: Option<&'a [f64]>,
    },
    /// Column `{y_value}_sum` of `hist` as the weights of its x values (`bin_lo`).
    Histogram {
        /// The histogram, as read by [`Histogram::from_path`].
        hist: &'a Histogram,
        /// `flows`, `packets` or `octets` (any name whose `_sum` column exists).
        y_value: &'a str,
    },
}

/// The starting point of a fit: component counts (`-U/-P/-L`) or a mixture (`--initial`).
#[derive(Clone, Debug, PartialEq)]
pub enum InitialOrMix {
    /// Built from the data's x values as the original's `initial_mix` does (see
    /// [`initial_mix`](crate::mixture::initial_mix)).
    Counts(InitialCounts),
    /// Used as it is, for example one loaded with
    /// [`mixture_from_json`](crate::mixture::mixture_from_json).
    Mixture(Mixture),
}

/// The tunable arguments of [`fit`]. `FitOptions::default()` has the original's defaults: 100
/// iterations, no cap on Pareto weights, no progress callback.
pub struct FitOptions<'a> {
    /// How many EM iterations run; all of them do, as the original has no convergence test.
    pub iterations: usize,
    /// Cap on the weight of each generalised Pareto component (`--mpw`); `None` or `Some(0.0)`
    /// for no cap.
    pub max_pareto_w: Option<f64>,
    /// Called after every completed iteration (the original's `cb`), e.g. to move a progress
    /// bar.
    pub progress: Option<&'a mut (dyn FnMut() + Send)>,
}

impl Default for FitOptions<'_> {
    fn default() -> Self {
        FitOptions {
            iterations: 100,
            max_pareto_w: None,
            progress: None,
        }
    }
}

/// Fits a mixture to `data` by EM, starting from `initial`, in flow-models 2.2's order of
/// operations, so that the result matches the original's (the tests allow 1e-9 relative). The
/// result's `sum` is the total data weight: the column's total for a histogram, the weights'
/// sum for weighted points.
///
/// Component counts on [`FitData::Points`] build the initial mixture from `x` as a float
/// column (a histogram's integral `bin_lo` column gives integer parameters instead).
pub fn fit(
    data: FitData<'_>,
    initial: &InitialOrMix,
    options: FitOptions<'_>,
) -> Result<Mixture, FitError> {
    let (x, ws, x_is_int, sum) = match data {
        FitData::Points { x, weights } => (
            x,
            weights,
            false,
            weights.map(|w| Num::Float(pairwise_sum(w))),
        ),
        FitData::Histogram { hist, y_value } => {
            let column = hist.column(&format!("{y_value}_sum"))?;
            (
                &hist.x[..],
                Some(&column.values[..]),
                hist.x_is_int,
                Some(column.sum),
            )
        }
    };
    let init = match initial {
        InitialOrMix::Counts(c) => Cow::Owned(initial_mix(c, x, x_is_int)?),
        InitialOrMix::Mixture(m) => Cow::Borrowed(m),
    };
    validate(x, ws)?;
    if init.components.is_empty() {
        return Err(FitError::BadParams(
            "initial mixture has no components".into(),
        ));
    }
    let frozen = init
        .components
        .iter()
        .map(|c| c.frozen())
        .collect::<Result<Vec<_>, _>>()?;
    let fixed = fixed_densities(&frozen, x);
    let data = Data::new(x, ws, &init.components, options.max_pareto_w);
    let mut no_progress = || {};
    let progress = options.progress.unwrap_or(&mut no_progress);
    let state = Shared::new(&data, &init.components, &fixed, progress)?;
    // Each barrier ends a step whose results the next one reads (see `Shared`).
    crate::par::team(data.blocks.len(), |m| {
        let mut scratch = RowSums::default();
        for _ in 0..options.iterations {
            state.e_step(&data, m.index, &mut scratch);
            m.wait();
            state.m_step(&data, m.index, m.size);
            m.wait();
            if m.index == 0 {
                state.finish_iteration(&data, &fixed);
            }
            m.wait();
            if state.failed() {
                break;
            }
        }
    });
    let components = state.into_result()?;
    check_finite(&components)?;
    Ok(Mixture { components, sum })
}

/// Input the loop cannot use is refused before it starts (the original would run on into NaN).
fn validate(x: &[f64], ws: Option<&[f64]>) -> Result<(), FitError> {
    if x.is_empty() {
        return Err(FitError::EmptyHistogram);
    }
    if let Some(i) = x.iter().position(|v| !v.is_finite()) {
        return Err(FitError::BadData(format!("x[{i}] is not finite")));
    }
    if let Some(ws) = ws {
        if ws.len() != x.len() {
            return Err(FitError::BadData(format!(
                "{} x values but {} weights",
                x.len(),
                ws.len()
            )));
        }
        if let Some(i) = ws.iter().position(|v| !v.is_finite() || *v < 0.0) {
            return Err(FitError::BadData(format!(
                "weight[{i}] = {} is negative or not finite",
                ws[i]
            )));
        }
        if ws.iter().all(|v| *v == 0.0) {
            return Err(FitError::ZeroWeights);
        }
    }
    Ok(())
}

/// A fit that drifted to NaN or infinity ends in an error, never in a mixture whose JSON would
/// carry the NaN on silently.
fn check_finite(mix: &[Component]) -> Result<(), FitError> {
    for (k, c) in mix.iter().enumerate() {
        if !c.weight.is_finite() || c.params.iter().any(|p| !p.value().is_finite()) {
            return Err(FitError::NonFinite(format!(
                "component {k} ({}) has weight {} and params {:?}",
                c.dist.scipy_name(),
                c.weight,
                c.param_values()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mixture::dist::Dist;
    use crate::mixture::estep::PARALLEL_CELLS;
    use crate::mixture::npsum::pairwise_halves;

    #[test]
    fn an_m_step_error_stops_every_thread_of_the_fit() {
        // 5000 points x 8 components: the two-thread team. The gamma component has no mass
        // near the data, so its responsibilities are all 0 and its M-step target is NaN: the
        // fit must end with that error (not hang, not write NaN), with one thread or two.
        let x: Vec<f64> = (1..=5000).map(f64::from).collect();
        let mut components: Vec<Component> = (0..7)
            .map(|i| Component {
                weight: 0.1,
                dist: Dist::Lognorm,
                params: vec![
                    Num::Float(1.0),
                    Num::Int(0),
                    Num::Float(10.0 * (i + 1) as f64),
                ],
            })
            .collect();
        components.push(Component {
            weight: 0.3,
            dist: Dist::Gamma,
            params: vec![Num::Float(1e6), Num::Int(0), Num::Float(1.0)],
        });
        let init = InitialOrMix::Mixture(Mixture {
            components,
            sum: None,
        });
        let options = || FitOptions {
            iterations: 20,
            ..FitOptions::default()
        };
        assert!(x.len() * 8 >= PARALLEL_CELLS && pairwise_halves(x.len()).is_some());
        let ones = vec![1.0; x.len()];
        let data = FitData::Points {
            x: &x,
            weights: Some(&ones),
        };
        let err = fit(data, &init, options()).unwrap_err();
        assert!(
            matches!(&err, FitError::NonFinite(m) if m.contains("gamma M-step target")),
            "{err}"
        );
        let data = FitData::Points {
            x: &x[..100],
            weights: Some(&[1.0; 100]),
        };
        let err = fit(data, &init, options()).unwrap_err();
        assert!(matches!(err, FitError::NonFinite(_)), "{err}");
    }
}
