//! Mixture models of flow-models 2.2 (`flow_models.fit`, `flow_models.lib.mix`): EM fitting
//! numerically faithful to the original, evaluation, sampling, and the JSON/.mode files.
//!
//! A fit: read a histogram with [`Histogram::from_path`], run [`fit`] on one of its columns
//! ([`FitData::Histogram`]) from component counts or a mixture ([`InitialOrMix`]), then write
//! the result with [`save`] or [`mixture_to_json`]. [`pdf`], [`cdf`] and [`avg`] evaluate a
//! mixture; [`MixtureSampler`], [`rvs`] and [`FlowGenerator`] draw from one. [`register`]
//! makes the same available in SQL.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod dist;
mod em;
mod estep;
mod eval_udf;
mod fit_udaf;
mod generate;
mod generate_udtf;
mod hist_csv;
mod initial;
mod json;
mod mix;
mod npsum;
mod pyfmt;
pub use npsum::pairwise_sum;
pub(crate) use pyfmt::py_float_repr;
mod sample;
mod save;
mod special;
mod trace;
mod vexp;

pub use dist::{Dist, Frozen};
pub use em::{FitData, FitOptions, InitialOrMix, fit};
pub use fit_udaf::parse_counts;
pub use generate::{FlowGenerator, Source, clock_seed, flow_batches};
pub use generate_udtf::{GenerateExec, GenerateParams, GenerateTable};
pub use hist_csv::{Column as HistogramColumn, Histogram};
pub use initial::{InitialCounts, initial_mix};
pub use json::{
    Initial, ModeArgs, mixture_from_json, mixture_to_json, mode_from_json, mode_to_json,
};
pub use mix::{AvgWhat, XKind, avg, cdf, pdf};
pub use sample::{MixtureSampler, rvs};
pub use save::save;
pub use trace::{TraceSpec, generate_trace};

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
    /// A Python int (printed without a decimal point).
    Int(i64),
    /// A Python float (printed with `repr`).
    Float(f64),
}

impl Num {
    /// The number as a float.
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
    /// The component's weight (evaluation and sampling renormalise the weights to sum to 1).
    pub weight: f64,
    /// The distribution.
    pub dist: Dist,
    /// scipy's positional parameters: the shape if any, then `loc` and `scale`.
    pub params: Vec<Num>,
}

impl Component {
    /// The parameters as floats.
    pub fn param_values(&self) -> Vec<f64> {
        self.params.iter().map(|p| p.value()).collect()
    }

    /// The distribution with its parameters resolved, or [`FitError::BadParams`].
    pub fn frozen(&self) -> Result<Frozen, FitError> {
        Frozen::new(self.dist, &self.param_values())
    }
}

/// A fitted (or initial) mixture; `sum` is the total data weight, if known.
#[derive(Clone, Debug, PartialEq)]
pub struct Mixture {
    /// The components, in the order the JSON file lists them.
    pub components: Vec<Component>,
    /// The total data weight of the fitted column (the JSON's `sum`), when known.
    pub sum: Option<Num>,
}

/// Everything that can go wrong; the library never panics on bad input.
#[derive(Debug, Clone, PartialEq)]
pub enum FitError {
    /// A file could not be read or written.
    Io(String),
    /// The data have no points (a histogram without rows).
    EmptyHistogram,
    /// A csv_hist line that cannot be read.
    Csv {
        /// The 1-based line number (the header is line 1).
        line: usize,
        /// What is wrong with it.
        msg: String,
    },
    /// A histogram column or a mixture that is needed is absent.
    MissingColumn(String),
    /// Data the operation cannot use (non-finite points, negative weights, ...).
    BadData(String),
    /// Every data weight is zero.
    ZeroWeights,
    /// A distribution name that is not one of [`Dist`].
    UnknownDistribution(String),
    /// Parameters a distribution cannot take, or an empty mixture.
    BadParams(String),
    /// Mixture or `.mode` JSON that cannot be read.
    BadJson(String),
    /// A value that became NaN or infinite (during a fit, or on its way into JSON).
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
