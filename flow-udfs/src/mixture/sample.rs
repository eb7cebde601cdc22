// Random samples from a mixture (`flow_models.lib.mix.rvs`), drawn with `rand_distr`'s
// standard algorithms (inverse CDF for the generalised Pareto, which rand_distr lacks).

use crate::mixture::dist::Dist;
use crate::mixture::mix::XKind;
use crate::mixture::{FitError, Mixture};
use rand::Rng;
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand_distr::{Gamma, LogNormal, Normal, Uniform, Weibull};

/// One component ready to draw from.
#[derive(Clone)]
enum Sampler {
    Uniform(Uniform<f64>),
    Normal(Normal<f64>),
    /// loc + LogNormal(ln scale, s)
    Lognorm(f64, LogNormal<f64>),
    /// c, loc, scale
    Genpareto(f64, f64, f64),
    /// loc + Gamma(a, scale)
    Gamma(f64, Gamma<f64>),
    /// loc + Weibull(scale, c)
    Weibull(f64, Weibull<f64>),
}

fn bad(e: impl std::fmt::Display) -> FitError {
    FitError::BadParams(e.to_string())
}

impl Sampler {
    fn new(dist: Dist, p: &[f64]) -> Result<Sampler, FitError> {
        let fr = crate::mixture::Frozen::new(dist, p)?;
        let (c, loc, scale) = (fr.shape, fr.loc, fr.scale);
        let shape_ok = match dist {
            Dist::Lognorm | Dist::Gamma | Dist::WeibullMin => c > 0.0 && c.is_finite(),
            _ => true,
        };
        if !shape_ok {
            return Err(bad(format!("{} with shape {c}", dist.scipy_name())));
        }
        if !(scale > 0.0 && loc.is_finite() && scale.is_finite()) {
            return Err(bad(format!(
                "{} with loc {loc}, scale {scale}",
                dist.scipy_name()
            )));
        }
        Ok(match dist {
            Dist::Uniform => Sampler::Uniform(Uniform::new(loc, loc + scale).map_err(bad)?),
            Dist::Norm => Sampler::Normal(Normal::new(loc, scale).map_err(bad)?),
            Dist::Lognorm => Sampler::Lognorm(loc, LogNormal::new(scale.ln(), c).map_err(bad)?),
            Dist::Genpareto if c.is_finite() => Sampler::Genpareto(c, loc, scale),
            Dist::Gamma => Sampler::Gamma(loc, Gamma::new(c, scale).map_err(bad)?),
            Dist::WeibullMin => Sampler::Weibull(loc, Weibull::new(scale, c).map_err(bad)?),
            Dist::Genpareto => return Err(bad(format!("genpareto with c = {c}"))),
        })
    }

    fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Sampler::Uniform(u) => u.sample(rng),
            Sampler::Normal(n) => n.sample(rng),
            Sampler::Lognorm(loc, d) => loc + d.sample(rng),
            Sampler::Genpareto(c, loc, scale) => {
                // Inverse CDF: F(x) = 1 - (1 + c z)^(-1/c), z = (x - loc) / scale.
                let u: f64 = rng.random();
                let z = if *c == 0.0 {
                    -(-u).ln_1p()
                } else {
                    ((-c) * (-u).ln_1p()).exp_m1() / c
                };
                loc + scale * z
            }
            Sampler::Gamma(loc, d) => loc + d.sample(rng),
            Sampler::Weibull(loc, d) => loc + d.sample(rng),
        }
    }
}

/// Draws from a mixture: the component by its (renormalised) weight, then the value.
#[derive(Clone)]
pub struct MixtureSampler {
    pick: WeightedIndex<f64>,
    comps: Vec<Sampler>,
}

impl MixtureSampler {
    /// A sampler of `mix`; [`FitError::BadParams`] for weights or parameters it cannot draw
    /// from.
    pub fn new(mix: &Mixture) -> Result<MixtureSampler, FitError> {
        let w: Vec<f64> = mix.components.iter().map(|c| c.weight).collect();
        let pick = WeightedIndex::new(&w).map_err(|e| bad(format!("mixture weights: {e}")))?;
        let comps = mix
            .components
            .iter()
            .map(|c| Sampler::new(c.dist, &c.param_values()))
            .collect::<Result<_, _>>()?;
        Ok(MixtureSampler { pick, comps })
    }

    /// One continuous value.
    pub fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        self.comps[self.pick.sample(rng)].draw(rng)
    }

    /// One value as `rvs` returns it for a flow feature: for length and size the integer
    /// part plus one (numpy's `astype('u8') + 1`; negative draws saturate at 0 here, where
    /// numpy's cast is undefined), sizes at least 64.
    pub fn draw_x<R: Rng + ?Sized>(&self, rng: &mut R, kind: XKind) -> f64 {
        let v = self.draw(rng);
        match kind {
            XKind::Length => (v as u64).saturating_add(1) as f64,
            XKind::Size => ((v as u64).saturating_add(1)).max(64) as f64,
            XKind::Other => v,
        }
    }
}

/// `rvs(mix, x_val, size)`.
pub fn rvs<R: Rng + ?Sized>(
    mix: &Mixture,
    kind: XKind,
    size: usize,
    rng: &mut R,
) -> Result<Vec<f64>, FitError> {
    let s = MixtureSampler::new(mix)?;
    Ok((0..size).map(|_| s.draw_x(rng, kind)).collect())
}
