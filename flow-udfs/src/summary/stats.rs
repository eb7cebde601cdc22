//! The statistics table: totals of flows, packets and octets, average flow length (and
//! duration and rate where the histogram sums them), average packet size — the rows and order
//! of the original's `stats_summary`.

use super::columns::{HistColumns, Total};

/// A statistic's value: a total (exact when its column holds integers) or a ratio.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StatValue {
    /// The sum of an integer column.
    IntTotal(i128),
    /// The sum of a float column (numpy's pairwise sum).
    FloatTotal(f64),
    /// An average (NaN when its divisor is zero, as numpy's).
    Average(f64),
}

impl StatValue {
    /// The value as a float (integer totals beyond 2^53 rounded).
    pub fn as_f64(self) -> f64 {
        match self {
            StatValue::IntTotal(i) => i as f64,
            StatValue::FloatTotal(f) | StatValue::Average(f) => f,
        }
    }
}

/// One row of the statistics table: `label & value & unit`.
#[derive(Debug, Clone, PartialEq)]
pub struct Stat {
    /// The original's label: `Number of flows`, `Average flow length`, …
    pub label: String,
    pub value: StatValue,
    /// `flows`, `packets`, `octets`, `bytes`, `milliseconds` or `bps`.
    pub unit: &'static str,
}

const Y_VALUES: [&str; 3] = ["flows", "packets", "octets"];

/// The averages the original prints, with the column each divides by `flows_sum`: length
/// is `packets_sum`; `size` would need a `size_sum` column, which csv_hist never has.
const AVERAGES: [(&str, &str, &str); 4] = [
    ("length", "packets_sum", "packets"),
    ("size", "size_sum", "bytes"),
    ("duration", "duration_sum", "milliseconds"),
    ("rate", "rate_sum", "bps"),
];

fn ratio(a: Total, b: Total) -> f64 {
    // numpy's int64 / int64: both converted to float64, then divided.
    a.as_f64() / b.as_f64()
}

/// The statistics of `hist`, in the original's order.
pub(crate) fn stats(hist: &HistColumns) -> Vec<Stat> {
    let mut out = Vec::new();
    for what in Y_VALUES {
        let value = match hist.required(&format!("{what}_sum")).total() {
            Total::Int(i) => StatValue::IntTotal(i),
            Total::Float(f) => StatValue::FloatTotal(f),
        };
        out.push(Stat {
            label: format!("Number of {what}"),
            value,
            unit: what,
        });
    }
    let flows = hist.required("flows_sum").total();
    for (what, col, unit) in AVERAGES {
        if let Some(v) = hist.get(col) {
            out.push(Stat {
                label: format!("Average flow {what}"),
                value: StatValue::Average(ratio(v.total(), flows)),
                unit,
            });
        }
    }
    let packets = hist.required("packets_sum").total();
    let octets = hist.required("octets_sum").total();
    out.push(Stat {
        label: "Average packet size".into(),
        value: StatValue::Average(ratio(octets, packets)),
        unit: "bytes",
    });
    out
}
