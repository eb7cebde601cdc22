// `mixture_fit(x, weight, spec, iterations [, max_pareto_w])`: the EM fit of `flow-models fit`
// as a SQL aggregate over any histogram query; returns the mixture JSON (with its sum).

use crate::mixture::hist_csv::{Column, Histogram};
use crate::mixture::npsum::pairwise_sum;
use crate::mixture::{
    FitData, FitOptions, InitialCounts, InitialOrMix, Num, fit, mixture_from_json, mixture_to_json,
};
use crate::named;
use arrow::array::{Array, ArrayRef, AsArray, Float64Array, ListArray};
use arrow::datatypes::{DataType, Field, FieldRef, Float64Type, Int64Type};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDFImpl, Signature, Volatility};
use std::sync::Arc;

const USAGE: &str =
    "mixture_fit(x, weight, 'U6L4' | '<initial mixture JSON>', iterations [, max_pareto_w])";

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct MixtureFit {
    signature: Signature,
}

impl Default for MixtureFit {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

/// Component counts like `U6L4`, `U6P1L4`, `L8`.
pub fn parse_counts(spec: &str) -> Option<InitialCounts> {
    let mut c = InitialCounts::default();
    let mut rest = spec.trim();
    if rest.is_empty() {
        return None;
    }
    while let Some(letter) = rest.chars().next() {
        let after = &rest[letter.len_utf8()..];
        let digits = after.chars().take_while(|d| d.is_ascii_digit()).count();
        let n: usize = after[..digits].parse().ok()?;
        match letter.to_ascii_uppercase() {
            'U' => c.uniform = n,
            'P' => c.pareto = n,
            'L' => c.lognorm = n,
            _ => return None,
        }
        rest = &after[digits..];
    }
    Some(c)
}

/// More components than this is a typo, not a model (the published ones have at most 10), and
/// each costs memory per histogram row: refused before anything is allocated.
const MAX_COMPONENTS: usize = 1000;

/// The type an x or weight argument is read as. Integers stay integers (the JSON `sum` of integer
/// weights is an integer, as pandas reads the original's histograms), and so do decimals of
/// scale 0, which is how `flow_hist` returns exact sums and bin edges.
fn numeric_as(t: &DataType) -> Option<DataType> {
    let whole_decimal = matches!(t, DataType::Decimal128(_, 0) | DataType::Decimal256(_, 0));
    if t.is_integer() || t.is_null() || whole_decimal {
        Some(DataType::Int64)
    } else if t.is_floating() || matches!(t, DataType::Decimal128(..) | DataType::Decimal256(..)) {
        Some(DataType::Float64)
    } else {
        None
    }
}

impl AggregateUDFImpl for MixtureFit {
    fn name(&self) -> &str {
        "mixture_fit"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        if !(4..=5).contains(&args.len()) {
            return plan_err!("{USAGE}: got {} arguments", args.len());
        }
        let (Some(x), Some(w)) = (numeric_as(&args[0]), numeric_as(&args[1])) else {
            return plan_err!(
                "{USAGE}: x and weight must be numbers, got {} and {}",
                args[0],
                args[1]
            );
        };
        // Parameters of the wrong type are refused here: the planner's cast of 'x' to a
        // number, or of 2.5 to an integer, would fail without naming the function or truncate.
        if !(args[2].is_null()
            || matches!(
                args[2],
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            ))
        {
            return plan_err!("{USAGE}: the spec must be a string, got {}", args[2]);
        }
        if !(args[3].is_integer() || args[3].is_null()) {
            return plan_err!("{USAGE}: iterations must be an integer, got {}", args[3]);
        }
        let mut out = vec![x, w, DataType::Utf8, DataType::Int64];
        if let Some(mpw) = args.get(4) {
            if numeric_as(mpw).is_none() {
                return plan_err!("{USAGE}: max_pareto_w must be a number, got {mpw}");
            }
            out.push(DataType::Float64);
        }
        Ok(out)
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let int = |i: usize| args.expr_fields[i].data_type().is_integer();
        Ok(Box::new(FitAccumulator {
            x_is_int: int(0),
            w_is_int: int(1),
            ..Default::default()
        }))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let list = |n: &str| {
            let item = Arc::new(Field::new_list_field(DataType::Float64, true));
            Arc::new(Field::new(
                format!("{}[{n}]", args.name),
                DataType::List(item),
                true,
            ))
        };
        Ok(vec![
            list("x"),
            list("w"),
            Arc::new(Field::new(
                format!("{}[spec]", args.name),
                DataType::Utf8,
                true,
            )),
            Arc::new(Field::new(
                format!("{}[iter]", args.name),
                DataType::Int64,
                true,
            )),
            Arc::new(Field::new(
                format!("{}[mpw]", args.name),
                DataType::Float64,
                true,
            )),
        ])
    }
}

#[derive(Debug, Default)]
struct FitAccumulator {
    x: Vec<f64>,
    w: Vec<f64>,
    spec: Option<String>,
    iterations: Option<i64>,
    mpw: Option<f64>,
    x_is_int: bool,
    w_is_int: bool,
}

fn floats(a: &ArrayRef) -> Result<Vec<Option<f64>>> {
    Ok(match a.data_type() {
        DataType::Int64 => a
            .as_primitive::<Int64Type>()
            .iter()
            .map(|v| v.map(|v| v as f64))
            .collect(),
        DataType::Float64 => a.as_primitive::<Float64Type>().iter().collect(),
        DataType::Null => vec![None; a.len()],
        t => return exec_err!("{USAGE}: unexpected argument type {t}"),
    })
}

impl FitAccumulator {
    fn push(&mut self, x: &[Option<f64>], w: &[Option<f64>]) {
        // Rows with a NULL x or weight are skipped, as SQL aggregates do.
        for (x, w) in x.iter().zip(w) {
            if let (Some(x), Some(w)) = (x, w) {
                self.x.push(*x);
                self.w.push(*w);
            }
        }
    }

    fn set_params(
        &mut self,
        spec: &ArrayRef,
        iter: &ArrayRef,
        mpw: Option<&ArrayRef>,
    ) -> Result<()> {
        if self.spec.is_none() {
            let s = spec.as_string::<i32>();
            self.spec = s.iter().flatten().next().map(str::to_string);
        }
        if self.iterations.is_none() {
            self.iterations = iter.as_primitive::<Int64Type>().iter().flatten().next();
        }
        if let (None, Some(m)) = (self.mpw, mpw) {
            self.mpw = m.as_primitive::<Float64Type>().iter().flatten().next();
        }
        Ok(())
    }
}

impl Accumulator for FitAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.push(&floats(&values[0])?, &floats(&values[1])?);
        self.set_params(&values[2], &values[3], values.get(4))?;
        // Rows came but no spec or iteration count with them: a NULL parameter, which would
        // otherwise give a NULL fit indistinguishable from that of no rows.
        if !values[0].is_empty() && (self.spec.is_none() || self.iterations.is_none()) {
            return exec_err!("{USAGE}: the spec and iterations must not be NULL");
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let list = |v: &[f64]| {
            ScalarValue::List(Arc::new(
                ListArray::from_iter_primitive::<Float64Type, _, _>([Some(
                    v.iter().map(|f| Some(*f)).collect::<Vec<_>>(),
                )]),
            ))
        };
        Ok(vec![
            list(&self.x),
            list(&self.w),
            ScalarValue::Utf8(self.spec.clone()),
            ScalarValue::Int64(self.iterations),
            ScalarValue::Float64(self.mpw),
        ])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let (xs, ws) = (states[0].as_list::<i32>(), states[1].as_list::<i32>());
        for i in 0..xs.len() {
            if xs.is_null(i) || ws.is_null(i) {
                continue;
            }
            let (x, w) = (xs.value(i), ws.value(i));
            let x: Vec<Option<f64>> = x
                .as_any()
                .downcast_ref::<Float64Array>()
                .into_iter()
                .flatten()
                .collect();
            let w: Vec<Option<f64>> = w
                .as_any()
                .downcast_ref::<Float64Array>()
                .into_iter()
                .flatten()
                .collect();
            self.push(&x, &w);
        }
        self.set_params(&states[2], &states[3], Some(&states[4]))
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let (Some(spec), Some(iterations)) = (&self.spec, self.iterations) else {
            return Ok(ScalarValue::Utf8(None));
        };
        if iterations < 0 {
            return exec_err!("{USAGE}: iterations must be >= 0, got {iterations}");
        }
        if let Some(m) = self.mpw
            && !(m.is_finite() && m >= 0.0)
        {
            return exec_err!("{USAGE}: max_pareto_w must be >= 0 (0: no cap), got {m}");
        }
        // The original fits a histogram sorted by x; partitions may arrive in any order.
        let mut order: Vec<usize> = (0..self.x.len()).collect();
        order.sort_by(|&a, &b| self.x[a].total_cmp(&self.x[b]));
        let x: Vec<f64> = order.iter().map(|&i| self.x[i]).collect();
        let w: Vec<f64> = order.iter().map(|&i| self.w[i]).collect();
        let sum = if self.w_is_int {
            Num::Int(w.iter().fold(0i64, |a, b| a.wrapping_add(*b as i64)))
        } else {
            Num::Float(pairwise_sum(&w))
        };
        let initial = match parse_counts(spec) {
            Some(c)
                if c.uniform.saturating_add(c.pareto).saturating_add(c.lognorm)
                    > MAX_COMPONENTS =>
            {
                return exec_err!(
                    "{USAGE}: spec {spec:?} asks for more than {MAX_COMPONENTS} components"
                );
            }
            Some(c) => InitialOrMix::Counts(c),
            None => InitialOrMix::Mixture(mixture_from_json(spec).map_err(|e| {
                datafusion::common::DataFusionError::Execution(format!(
                    "{USAGE}: spec {spec:?} is neither component counts nor a mixture: {e}"
                ))
            })?),
        };
        let hist = Histogram {
            x,
            x_is_int: self.x_is_int,
            columns: vec![Column {
                name: "w_sum".into(),
                values: w,
                is_int: self.w_is_int,
                sum,
            }],
        };
        let data = FitData::Histogram {
            hist: &hist,
            y_value: "w",
        };
        let options = FitOptions {
            iterations: iterations as usize,
            max_pareto_w: self.mpw,
            ..FitOptions::default()
        };
        let mix = fit(data, &initial, options).map_err(|e| named("mixture_fit", e))?;
        Ok(ScalarValue::Utf8(Some(
            mixture_to_json(&mix).map_err(|e| named("mixture_fit", e))?,
        )))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + (self.x.capacity() + self.w.capacity()) * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_spec() {
        let c = |u, p, l| {
            Some(InitialCounts {
                uniform: u,
                pareto: p,
                lognorm: l,
            })
        };
        assert_eq!(parse_counts("U6L4"), c(6, 0, 4));
        assert_eq!(parse_counts("U6P1L4"), c(6, 1, 4));
        assert_eq!(parse_counts("l8"), c(0, 0, 8));
        assert_eq!(parse_counts("U"), None);
        assert_eq!(parse_counts("[[1.0, \"norm\", [0, 1]]]"), None);
        assert_eq!(parse_counts(""), None);
        assert_eq!(parse_counts("é1"), None);
        assert_eq!(parse_counts("U1é"), None);
    }
}
