//! `flow_duration(first, first_ms, last, last_ms, packets)`: flow duration in milliseconds, 0 for
//! single-packet flows (the original's `duration` x value).

use super::{arrays, coerce_integers};
use crate::duration::flow_duration_checked;
use arrow::array::{Array, AsArray, Int64Array};
use arrow::datatypes::{DataType, Int64Type, UInt64Type};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use std::sync::Arc;

const TYPES: [DataType; 5] = [
    DataType::Int64,
    DataType::Int64,
    DataType::Int64,
    DataType::Int64,
    DataType::UInt64,
];

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct FlowDuration {
    signature: Signature,
}

impl FlowDuration {
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl Default for FlowDuration {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for FlowDuration {
    fn name(&self) -> &str {
        "flow_duration"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        coerce_integers(self.name(), args, &TYPES)
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let a = arrays(self.name(), &args.args, &TYPES, args.number_rows)?;
        let [first, first_ms, last, last_ms] =
            [0, 1, 2, 3].map(|i| a[i].as_primitive::<Int64Type>());
        let packets = a[4].as_primitive::<UInt64Type>();
        let out: Int64Array = (0..args.number_rows)
            .map(|i| {
                let v = [first, first_ms, last, last_ms].map(|c| c.is_valid(i).then(|| c.value(i)));
                let ([Some(f), Some(fm), Some(l), Some(lm)], true) = (v, packets.is_valid(i))
                else {
                    return Ok(None);
                };
                match flow_duration_checked(f, fm, l, lm, packets.value(i)) {
                    Some(d) => Ok(Some(d)),
                    None => exec_err!(
                        "flow_duration: the duration of ({f}, {fm}, {l}, {lm}) does not fit Int64"
                    ),
                }
            })
            .collect::<Result<_>>()?;
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}
