//! The scalar SQL functions of the histograms, one file each, and the argument handling they
//! share.

mod cryptopan;
mod flow_duration;
mod flow_rate;
mod ip_in_net;
mod ip_text;
mod log_bin;
mod mpls_text;

use crate::named;
use arrow::array::ArrayRef;
use arrow::compute::{CastOptions, cast_with_options};
use arrow::datatypes::DataType;
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarUDF};

pub use cryptopan::{CryptoPan6Udf, CryptoPanUdf};
pub use flow_duration::FlowDuration;
pub use flow_rate::FlowRate;
pub use ip_in_net::IpInNet;
pub use ip_text::IpText;
pub use log_bin::{LogBin, LogBinEdge};
pub use mpls_text::{MplsText, mpls_text_array};

/// Every scalar function of this module.
pub fn all() -> Vec<ScalarUDF> {
    vec![
        ScalarUDF::from(LogBin::new(LogBinEdge::Lo)),
        ScalarUDF::from(LogBin::new(LogBinEdge::Hi)),
        ScalarUDF::from(FlowDuration::new()),
        ScalarUDF::from(FlowRate::new()),
        ScalarUDF::from(CryptoPanUdf::new()),
        ScalarUDF::from(CryptoPan6Udf::new()),
        ScalarUDF::from(IpText::new()),
        ScalarUDF::from(IpInNet::new()),
        ScalarUDF::from(MplsText::new()),
    ]
}

/// The arguments of `function` as arrays of `rows` rows, cast to `types` (the planner has
/// already coerced most of them, so those casts are no-ops). A value the type cannot hold (a
/// negative count) is an error naming the function, not a NULL.
fn arrays(
    function: &str,
    args: &[ColumnarValue],
    types: &[DataType],
    rows: usize,
) -> Result<Vec<ArrayRef>> {
    let options = CastOptions {
        safe: false,
        ..Default::default()
    };
    args.iter()
        .zip(types)
        .map(|(a, t)| {
            cast_with_options(&a.to_array(rows)?, t, &options).map_err(|e| named(function, e))
        })
        .collect()
}

/// Integer arguments coerced to `types`, for functions over flow fields of any integer width.
/// A signed argument of an unsigned parameter stays signed: the planner's cast of a negative
/// literal would fail without naming the function; [`arrays`] names it.
fn coerce_integers(name: &str, args: &[DataType], types: &[DataType]) -> Result<Vec<DataType>> {
    if args.len() != types.len() {
        return plan_err!(
            "{name}() takes {} arguments, got {}",
            types.len(),
            args.len()
        );
    }
    if let Some(t) = args.iter().find(|t| !t.is_integer() && !t.is_null()) {
        return plan_err!("{name}() takes integers, got {t}");
    }
    Ok(args
        .iter()
        .zip(types)
        .map(|(a, t)| {
            if a.is_signed_integer() && t.is_unsigned_integer() {
                DataType::Int64
            } else {
                t.clone()
            }
        })
        .collect())
}
