//! `ip_text(af, w0, w1, w2, w3)`: an address held as flow-models holds it (the family, then
//! four 32-bit words, `w0` the most significant) as the text nfdump prints: `af` 2 (AF_INET)
//! → IPv4 from `w3`; 10 (AF_INET6) → IPv6 from the four words, as glibc's `inet_ntop` writes
//! it; any other family → NULL. On nfcapd tables `src_ip` is `ip_text(af, sa0, sa1, sa2, sa3)`.

use super::{arrays, coerce_integers};
use arrow::array::{Array, AsArray, StringBuilder};
use arrow::datatypes::{DataType, Int64Type, UInt32Type};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use nfcapd_decode::text::write_ip;
use std::sync::Arc;

const TYPES: [DataType; 5] = [
    DataType::Int64,
    DataType::UInt32,
    DataType::UInt32,
    DataType::UInt32,
    DataType::UInt32,
];

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct IpText {
    signature: Signature,
}

impl IpText {
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl Default for IpText {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for IpText {
    fn name(&self) -> &str {
        "ip_text"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        coerce_integers(self.name(), args, &TYPES)
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let a = arrays(self.name(), &args.args, &TYPES, rows)?;
        let af = a[0].as_primitive::<Int64Type>();
        let w = [1, 2, 3, 4].map(|i| a[i].as_primitive::<UInt32Type>());
        let mut out = StringBuilder::with_capacity(rows, rows * 14);
        for row in 0..rows {
            let valid = af.is_valid(row) && w.iter().all(|w| w.is_valid(row));
            let family = u8::try_from(af.value(row)).unwrap_or(0);
            let words = w.map(|w| w.value(row));
            if valid && matches!(write_ip(&mut out, family, &words), Ok(true)) {
                out.append_value("");
            } else {
                out.append_null();
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}
