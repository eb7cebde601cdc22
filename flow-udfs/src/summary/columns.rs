//! The histogram columns a summary reads, taken out of Arrow batches: integer columns exactly
//! (as i128), others as f64 (pandas' float64), and the csv_hist file reader.

use crate::mixture::Histogram;
use arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Array, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Decimal128Type, Field, Float64Type, Schema};
use datafusion::common::{DataFusionError, Result, exec_err, plan_err};
use std::path::Path;
use std::sync::Arc;

/// One data column, in input row order.
#[derive(Debug, Clone)]
pub(crate) enum Values {
    Int(Vec<i128>),
    Float(Vec<f64>),
}

impl Values {
    /// The total as numpy computes it: exact for integers (numpy's int64 sum wraps where this
    /// does not), pairwise for floats.
    pub(crate) fn total(&self) -> Total {
        match self {
            Values::Int(v) => Total::Int(v.iter().sum()),
            Values::Float(v) => Total::Float(crate::mixture::pairwise_sum(v)),
        }
    }
}

/// A column's total.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Total {
    Int(i128),
    Float(f64),
}

impl Total {
    pub(crate) fn as_f64(self) -> f64 {
        match self {
            Total::Int(i) => i as f64,
            Total::Float(f) => f,
        }
    }
}

/// `bin_lo` and the named data columns of a histogram.
#[derive(Debug, Clone)]
pub(crate) struct HistColumns {
    pub(crate) x: Vec<f64>,
    pub(crate) columns: Vec<(String, Values)>,
}

/// The columns every summary needs.
pub(crate) const REQUIRED: [&str; 4] = ["bin_lo", "flows_sum", "packets_sum", "octets_sum"];

impl HistColumns {
    pub(crate) fn try_new(batches: &[RecordBatch]) -> Result<Self> {
        let Some(first) = batches.first() else {
            return exec_err!("summary: the histogram has no rows");
        };
        let schema = first.schema();
        let missing: Vec<&str> = REQUIRED
            .iter()
            .copied()
            .filter(|c| schema.index_of(c).is_err())
            .collect();
        if !missing.is_empty() {
            return plan_err!(
                "summary: the histogram lacks the column(s) {} (it has {})",
                missing.join(", "),
                schema
                    .fields()
                    .iter()
                    .map(|f| f.name().as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        if batches.iter().all(|b| b.num_rows() == 0) {
            return exec_err!("summary: the histogram has no rows");
        }
        let x = match values("bin_lo", batches)? {
            Values::Int(v) => v.into_iter().map(|i| i as f64).collect(),
            Values::Float(v) => v,
        };
        let columns = schema
            .fields()
            .iter()
            .map(|f| f.name())
            .filter(|n| n.ends_with("_sum"))
            .map(|n| Ok((n.clone(), values(n, batches)?)))
            .collect::<Result<_>>()?;
        Ok(Self { x, columns })
    }

    /// The column called `name`, if there is one.
    pub(crate) fn get(&self, name: &str) -> Option<&Values> {
        self.columns.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// A column [`REQUIRED`] guarantees.
    pub(crate) fn required(&self, name: &str) -> &Values {
        self.get(name).expect("checked in try_new")
    }
}

/// Column `name` of every batch, exactly when it holds integers.
fn values(name: &str, batches: &[RecordBatch]) -> Result<Values> {
    let arrays: Vec<&ArrayRef> = batches
        .iter()
        .map(|b| {
            b.column_by_name(name).ok_or_else(|| {
                DataFusionError::Execution(format!("summary: column {name} missing in a batch"))
            })
        })
        .collect::<Result<_>>()?;
    if arrays.iter().any(|a| a.null_count() > 0) {
        return exec_err!("summary: column {name} has NULLs");
    }
    let dt = arrays[0].data_type().clone();
    let integral = dt.is_integer() || matches!(dt, DataType::Decimal128(_, 0));
    if integral {
        let mut out = Vec::new();
        for a in arrays {
            let d = cast(a, &DataType::Decimal128(38, 0))?;
            out.extend(d.as_primitive::<Decimal128Type>().values().iter().copied());
        }
        Ok(Values::Int(out))
    } else if dt.is_numeric() {
        let mut out = Vec::new();
        for a in arrays {
            let d = cast(a, &DataType::Float64)?;
            out.extend(d.as_primitive::<Float64Type>().values().iter().copied());
        }
        Ok(Values::Float(out))
    } else {
        plan_err!("summary: column {name} must be numeric, is {dt}")
    }
}

/// See [`super::read_csv_hist`].
pub(crate) fn read_csv_hist(path: &Path) -> Result<RecordBatch> {
    let hist = Histogram::from_path(path)
        .map_err(|e| DataFusionError::Execution(format!("{}: {e}", path.display())))?;
    let mut fields = Vec::with_capacity(hist.columns.len() + 1);
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(hist.columns.len() + 1);
    let mut push = |name: &str, v: &[f64], is_int: bool| {
        if is_int {
            fields.push(Field::new(name, DataType::Int64, false));
            arrays.push(Arc::new(Int64Array::from_iter_values(
                v.iter().map(|&f| f as i64),
            )));
        } else {
            fields.push(Field::new(name, DataType::Float64, false));
            arrays.push(Arc::new(Float64Array::from(v.to_vec())));
        }
    };
    push("bin_lo", &hist.x, hist.x_is_int);
    for c in &hist.columns {
        push(&c.name, &c.values, c.is_int);
    }
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)?)
}
