//! `mpls_text(labels)`: an MPLS label stack (nfcapd's `mpls_labels`: ten 24-bit stack entries
//! as nfdump stores them, the 20-bit label, 3 experimental bits and the bottom-of-stack bit)
//! as nfdump prints it (`-o fmt:%mpls`): each entry as `label-exp-S`, in stack order,
//! separated by single spaces (nfdump pads each entry to a width; the text here is not padded).
//! A NULL stack (a record without the MPLS element) gives NULL; NULL entries are left out.

use arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use arrow::datatypes::{DataType, Field, UInt32Type};
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use nfcapd_decode::text::write_mpls;
use std::sync::Arc;

/// The argument type every list of integers is cast to.
fn list() -> DataType {
    DataType::List(Arc::new(Field::new("item", DataType::UInt32, true)))
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct MplsText {
    signature: Signature,
}

impl MplsText {
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl Default for MplsText {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for MplsText {
    fn name(&self) -> &str {
        "mpls_text"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        let item = |t: &DataType| match t {
            DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
                f.data_type().is_integer()
            }
            _ => t.is_null(),
        };
        match args {
            [t] if item(t) => Ok(vec![list()]),
            _ => plan_err!(
                "mpls_text(labels) takes one list of MPLS stack entries (mpls_labels), got {args:?}"
            ),
        }
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let stacks = args.args[0].to_array(args.number_rows)?;
        Ok(ColumnarValue::Array(mpls_text_array(&stacks)?))
    }
}

/// The text of every stack of `stacks` (any list of integers), as `mpls_text`.
pub fn mpls_text_array(stacks: &ArrayRef) -> Result<ArrayRef> {
    let rows = stacks.len();
    let stacks = arrow::compute::cast(stacks, &list())?;
    let stacks = stacks.as_list::<i32>();
    let mut out = StringBuilder::with_capacity(rows, rows * 60);
    let mut entries = Vec::new();
    for stack in stacks.iter() {
        let Some(stack) = stack else {
            out.append_null();
            continue;
        };
        entries.clear();
        entries.extend(stack.as_primitive::<UInt32Type>().iter().flatten());
        // Writing into the builder cannot fail.
        let _ = write_mpls(&mut out, &entries);
        out.append_value("");
    }
    Ok(Arc::new(out.finish()))
}
