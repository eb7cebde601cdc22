//! `log_bin(x, b)` and `log_bin_hi(x, b)`: the lower and upper edge of the logarithmic bin of
//! `x` with `b` bits (see [`crate::bins`]); `b = 0` gives one bin per value, like `hist -b 0`.
//!
//! Unsigned integers give a UInt64 `bin_lo`, signed ones Int64, floats Float64; `bin_hi` of an
//! integer can reach 2^64, so it is a DECIMAL(20, 0) (Float64 for floats).

use super::arrays;
use crate::bins::{log_bin_f64, log_bin_i128};
use arrow::array::{Array, ArrayRef, AsArray, Decimal128Array, Float64Array, PrimitiveArray};
use arrow::datatypes::{ArrowPrimitiveType, DataType, Float64Type, Int64Type, UInt64Type};
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogBinEdge {
    Lo,
    Hi,
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct LogBin {
    edge: LogBinEdge,
    signature: Signature,
}

impl LogBin {
    pub fn new(edge: LogBinEdge) -> Self {
        Self {
            edge,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

/// Bit counts are clamped: everything from 64 bits up means one bin per 64-bit value.
fn bits(function: &str, b: i64) -> Result<u32> {
    if b < 0 {
        return exec_err!("{function}: the number of bits must be >= 0, got {b}");
    }
    Ok(b.min(200) as u32)
}

impl ScalarUDFImpl for LogBin {
    fn name(&self) -> &str {
        match self.edge {
            LogBinEdge::Lo => "log_bin",
            LogBinEdge::Hi => "log_bin_hi",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        let [x, b] = args else {
            return plan_err!(
                "{}(x, b) takes two arguments, got {}",
                self.name(),
                args.len()
            );
        };
        let x = match x {
            t if t.is_unsigned_integer() => DataType::UInt64,
            t if t.is_signed_integer() || t.is_null() => DataType::Int64,
            t if t.is_floating() || t.is_decimal() => DataType::Float64,
            t => return plan_err!("{}: x must be a number, got {t}", self.name()),
        };
        if !b.is_integer() && !b.is_null() {
            return plan_err!("{}: b must be an integer, got {b}", self.name());
        }
        Ok(vec![x, DataType::Int64])
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Ok(match (self.edge, &args[0]) {
            (LogBinEdge::Lo, t) => t.clone(),
            (LogBinEdge::Hi, DataType::Float64) => DataType::Float64,
            (LogBinEdge::Hi, _) => DataType::Decimal128(20, 0),
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let x_type = args.arg_fields[0].data_type().clone();
        let a = arrays(
            self.name(),
            &args.args,
            &[x_type.clone(), DataType::Int64],
            args.number_rows,
        )?;
        let b = a[1].as_primitive::<Int64Type>();
        let hi = self.edge == LogBinEdge::Hi;
        let out: ArrayRef = match x_type {
            DataType::UInt64 => int_bins::<UInt64Type>(self.name(), &a[0], b, hi)?,
            DataType::Int64 => int_bins::<Int64Type>(self.name(), &a[0], b, hi)?,
            _ => {
                let x = a[0].as_primitive::<Float64Type>();
                let out = x
                    .iter()
                    .zip(b.iter())
                    .map(|(x, b)| match (x, b) {
                        (Some(x), Some(b)) => {
                            let (lo, h) = log_bin_f64(x, bits(self.name(), b)?);
                            Ok(Some(if hi { h } else { lo }))
                        }
                        _ => Ok(None),
                    })
                    .collect::<Result<Float64Array>>()?;
                Arc::new(out)
            }
        };
        Ok(ColumnarValue::Array(out))
    }
}

/// The bins of an integer column `x` with `b` bits, computed exactly: bin_lo in the column's own
/// type, or bin_hi as DECIMAL(20, 0) (the upper edge of the last bin of a 64-bit value does not
/// fit 64 bits).
fn int_bins<T>(
    function: &str,
    x: &ArrayRef,
    b: &PrimitiveArray<Int64Type>,
    hi: bool,
) -> Result<ArrayRef>
where
    T: ArrowPrimitiveType,
    T::Native: Into<i128> + TryFrom<i128>,
{
    let x = x.as_primitive::<T>();
    let bins = (0..x.len())
        .map(|i| match (x.is_valid(i), b.is_valid(i)) {
            (true, true) => Ok(Some(log_bin_i128(
                x.value(i).into(),
                bits(function, b.value(i))?,
            ))),
            _ => Ok(None),
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(if hi {
        Arc::new(edge_decimal(&bins))
    } else {
        // bin_lo <= x, so it fits the type of x.
        Arc::new(
            bins.iter()
                .map(|b| b.and_then(|b| T::Native::try_from(b.0).ok()))
                .collect::<PrimitiveArray<T>>(),
        )
    })
}

fn edge_decimal(bins: &[Option<(i128, i128)>]) -> Decimal128Array {
    bins.iter()
        .map(|b| b.map(|b| b.1))
        .collect::<Decimal128Array>()
        .with_precision_and_scale(20, 0)
        .expect("20 digits hold every bin edge of a 64-bit value")
}
