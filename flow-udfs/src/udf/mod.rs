//! The scalar SQL functions of the histograms, one file each, and the argument handling they
//! share.

mod flow_duration;
mod flow_rate;
mod log_bin;

use arrow::array::ArrayRef;
use arrow::compute::cast;
use arrow::datatypes::DataType;
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarUDF};

pub use flow_duration::FlowDuration;
pub use flow_rate::FlowRate;
pub use log_bin::{LogBin, LogBinEdge};

/// Every scalar function of this module.
pub fn all() -> Vec<ScalarUDF> {
    vec![
        ScalarUDF::from(LogBin::new(LogBinEdge::Lo)),
        ScalarUDF::from(LogBin::new(LogBinEdge::Hi)),
        ScalarUDF::from(FlowDuration::new()),
        ScalarUDF::from(FlowRate::new()),
    ]
}

/// The arguments as arrays of `rows` rows, cast to `types` (the planner has already coerced
/// them, so the casts are normally no-ops).
fn arrays(args: &[ColumnarValue], types: &[DataType], rows: usize) -> Result<Vec<ArrayRef>> {
    args.iter()
        .zip(types)
        .map(|(a, t)| Ok(cast(&a.to_array(rows)?, t)?))
        .collect()
}

/// Integer arguments coerced to `types`, for functions over flow fields of any integer width.
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
    Ok(types.to_vec())
}
