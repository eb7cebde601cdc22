//! `flow_rate(octets, duration)`: flow rate in bits per second, 0 when the duration is 0 (the
//! original's `rate` x value), correctly rounded like Python's integer division.

use super::{arrays, coerce_integers};
use crate::duration::flow_rate;
use arrow::array::{AsArray, Float64Array};
use arrow::datatypes::{DataType, Int64Type, UInt64Type};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use std::sync::Arc;

const TYPES: [DataType; 2] = [DataType::UInt64, DataType::Int64];

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct FlowRate {
    signature: Signature,
}

impl FlowRate {
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl Default for FlowRate {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for FlowRate {
    fn name(&self) -> &str {
        "flow_rate"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        coerce_integers(self.name(), args, &TYPES)
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let a = arrays(self.name(), &args.args, &TYPES, args.number_rows)?;
        let octets = a[0].as_primitive::<UInt64Type>();
        let duration = a[1].as_primitive::<Int64Type>();
        let out: Float64Array = octets
            .iter()
            .zip(duration.iter())
            .map(|(o, d)| Some(flow_rate(o?, d?)))
            .collect();
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}
