//! Mixture models of flow-models 2.2 (`flow_models.fit`, `flow_models.lib.mix`): EM fitting
//! numerically faithful to the original, evaluation, sampling, and the JSON/.mode files.
#![forbid(unsafe_code)]

pub mod dist;
pub mod em;
mod estep;
mod eval_udf;
mod fit_udaf;
pub mod generate;
mod generate_udtf;
pub mod hist_csv;
pub mod initial;
pub mod json;
pub mod mix;
pub mod npsum;
pub mod pyfmt;
pub mod sample;
pub mod save;
pub mod special;
pub mod trace;
mod vexp;

pub use dist::{Dist, Frozen};
pub use em::InitialOrMix;
pub use em::{fit, fit_histogram, fit_histogram_with_progress, fit_unweighted};
pub use hist_csv::Histogram;
pub use initial::{InitialCounts, initial_mix};
pub use json::mode_from_json;
pub use json::{Initial, ModeArgs, mixture_from_json, mixture_to_json, mode_to_json};
pub use mix::{AvgWhat, XKind, avg, cdf, pdf};
pub use save::save;

use std::fmt;
use std::sync::Arc;

/// Installs `mixture_fit`, `mixture_pdf`, `mixture_cdf` and `mixture_generate` into `ctx`.
pub fn register(ctx: &datafusion::prelude::SessionContext) {
    ctx.register_udaf(datafusion::logical_expr::AggregateUDF::from(
        fit_udaf::MixtureFit::default(),
    ));
    ctx.register_udf(datafusion::logical_expr::ScalarUDF::from(
        eval_udf::MixtureEval::pdf(),
    ));
    ctx.register_udf(datafusion::logical_expr::ScalarUDF::from(
        eval_udf::MixtureEval::cdf(),
    ));
    ctx.register_udtf(
        "mixture_generate",
        Arc::new(generate_udtf::MixtureGenerateFunc),
    );
}

/// A number that remembers whether Python held it as an int or a float,
/// because the JSON output prints `0` and `0.0` differently.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    pub fn value(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }
}

/// One weighted component: scipy name and positional parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Component {
    pub weight: f64,
    pub dist: Dist,
    pub params: Vec<Num>,
}

impl Component {
    pub fn param_values(&self) -> Vec<f64> {
        self.params.iter().map(|p| p.value()).collect()
    }

    pub fn frozen(&self) -> Result<Frozen, FitError> {
        Frozen::new(self.dist, &self.param_values())
    }
}

/// A fitted (or initial) mixture; `sum` is the total data weight, if known.
#[derive(Clone, Debug, PartialEq)]
pub struct Mixture {
    pub components: Vec<Component>,
    pub sum: Option<Num>,
}

/// Everything that can go wrong; the library never panics on bad input.
#[derive(Debug, Clone, PartialEq)]
pub enum FitError {
    Io(String),
    EmptyHistogram,
    Csv { line: usize, msg: String },
    MissingColumn(String),
    BadData(String),
    ZeroWeights,
    UnknownDistribution(String),
    BadParams(String),
    BadJson(String),
    NonFinite(String),
}

impl fmt::Display for FitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FitError::Io(m) => write!(f, "I/O error: {m}"),
            FitError::EmptyHistogram => write!(f, "histogram has no data rows"),
            FitError::Csv { line, msg } => write!(f, "CSV line {line}: {msg}"),
            FitError::MissingColumn(c) => write!(f, "missing column {c:?}"),
            FitError::BadData(m) => write!(f, "bad data: {m}"),
            FitError::ZeroWeights => write!(f, "data weights sum to zero"),
            FitError::UnknownDistribution(d) => write!(f, "unknown distribution {d:?}"),
            FitError::BadParams(m) => write!(f, "bad parameters: {m}"),
            FitError::BadJson(m) => write!(f, "bad mixture JSON: {m}"),
            FitError::NonFinite(m) => write!(f, "fit produced a non-finite value: {m}"),
        }
    }
}

impl std::error::Error for FitError {}

impl From<FitError> for datafusion::common::DataFusionError {
    fn from(e: FitError) -> Self {
        datafusion::common::DataFusionError::External(Box::new(e))
    }
}
