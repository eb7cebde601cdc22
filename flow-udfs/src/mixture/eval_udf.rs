// `mixture_pdf(mix, x, x_kind)` and `mixture_cdf(mix, x)`: a mixture JSON evaluated at x like
// `flow_models.lib.mix.pdf` (integer-bin probabilities below 1024) and `cdf`.

use crate::mixture::mix::{XKind, cdf, pdf};
use crate::mixture::{Mixture, mixture_from_json};
use crate::named;
use arrow::array::{Array, AsArray, Float64Array};
use arrow::datatypes::{DataType, Float64Type};
use datafusion::common::{DataFusionError, Result, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use std::sync::Arc;

/// Which function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Pdf,
    Cdf,
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct MixtureEval {
    kind: Kind,
    signature: Signature,
}

impl MixtureEval {
    pub fn pdf() -> Self {
        Self {
            kind: Kind::Pdf,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }

    pub fn cdf() -> Self {
        Self {
            kind: Kind::Cdf,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }

    fn usage(&self) -> &'static str {
        match self.kind {
            Kind::Pdf => "mixture_pdf(mixture_json, x, 'length' | 'size' | 'other')",
            Kind::Cdf => "mixture_cdf(mixture_json, x)",
        }
    }
}

fn x_kind(s: &str) -> Result<XKind> {
    Ok(match s {
        "length" => XKind::Length,
        "size" => XKind::Size,
        "duration" | "rate" | "other" => XKind::Other,
        _ => {
            return exec_err!("mixture_pdf: x_kind must be 'length', 'size' or 'other', got {s:?}");
        }
    })
}

impl ScalarUDFImpl for MixtureEval {
    fn name(&self) -> &str {
        match self.kind {
            Kind::Pdf => "mixture_pdf",
            Kind::Cdf => "mixture_cdf",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        let n = if self.kind == Kind::Pdf { 3 } else { 2 };
        if args.len() != n {
            return plan_err!("{}: got {} arguments", self.usage(), args.len());
        }
        if !(args[1].is_numeric() || args[1].is_null()) {
            return plan_err!("{}: x must be a number, got {}", self.usage(), args[1]);
        }
        let mut out = vec![DataType::Utf8, DataType::Float64];
        if n == 3 {
            out.push(DataType::Utf8);
        }
        Ok(out)
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let mixes = arrays[0].as_string::<i32>();
        let xs = arrays[1].as_primitive::<Float64Type>();
        let kinds = arrays.get(2).map(|a| a.as_string::<i32>());
        // Mixture arguments are nearly always one literal: parse each distinct text once.
        let mut cached: Option<(String, Mixture)> = None;
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            if mixes.is_null(i) || xs.is_null(i) || kinds.is_some_and(|k| k.is_null(i)) {
                out.push(None);
                continue;
            }
            let text = mixes.value(i);
            if cached.as_ref().is_none_or(|(t, _)| t != text) {
                let m = mixture_from_json(text)
                    .map_err(|e| DataFusionError::Execution(format!("{}: {e}", self.usage())))?;
                cached = Some((text.to_string(), m));
            }
            let mix = &cached.as_ref().expect("set above").1;
            let x = [xs.value(i)];
            let v = match (self.kind, kinds) {
                (Kind::Pdf, Some(k)) => pdf(mix, &x, x_kind(k.value(i))?),
                _ => cdf(mix, &x),
            }
            .map_err(|e| named(self.name(), e))?;
            out.push(Some(v[0]));
        }
        Ok(ColumnarValue::Array(Arc::new(Float64Array::from(out))))
    }
}
