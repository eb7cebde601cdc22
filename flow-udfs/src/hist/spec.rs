//! What a histogram is asked for (x value, bits, extra sums) and the schemas that follow from it:
//! the input columns the fast path reads and the csv_hist columns it produces.

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::{Result, plan_err};
use datafusion::prelude::{Expr, cast, col};
use std::fmt;
use std::sync::Arc;

/// The value a flow is binned by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum XValue {
    /// packets
    Length,
    /// octets
    Size,
    /// milliseconds, as the SQL function `flow_duration` computes it
    Duration,
    /// bits per second, as the SQL function `flow_rate` computes it
    Rate,
}

/// An extra column summed per bin (the original's `-c`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum SumColumn {
    Duration,
    Rate,
    Aggs,
}

impl XValue {
    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "length" => Self::Length,
            "size" => Self::Size,
            "duration" => Self::Duration,
            "rate" => Self::Rate,
            _ => return plan_err!("unknown x value '{s}': use length, size, duration or rate"),
        })
    }
}

impl SumColumn {
    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "duration" => Self::Duration,
            "rate" => Self::Rate,
            "aggs" => Self::Aggs,
            _ => return plan_err!("unknown column to sum '{s}': use duration, rate or aggs"),
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Duration => "duration",
            Self::Rate => "rate",
            Self::Aggs => "aggs",
        }
    }
}

impl fmt::Display for HistSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sums: Vec<_> = self.columns.iter().map(|c| c.name()).collect();
        write!(
            f,
            "x={}, bits={}, sums=[{}]",
            self.x,
            self.bits,
            sums.join(", ")
        )
    }
}

impl fmt::Display for XValue {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(match self {
            Self::Length => "length",
            Self::Size => "size",
            Self::Duration => "duration",
            Self::Rate => "rate",
        })
    }
}

/// A histogram request. Plain data, so a plan node holding it can be serialised.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct HistSpec {
    pub x: XValue,
    /// Bits of the logarithmic bins; 0 = one bin per value.
    pub bits: u32,
    /// Extra sums, in output order.
    pub columns: Vec<SumColumn>,
}

/// Exact integer sums and bin edges: 38 digits hold any sum of 2^64 values below 2^64.
pub const EXACT: DataType = DataType::Decimal128(38, 0);

/// The input columns of the fast path, each with the type it is cast to.
pub const INPUT_TYPES: [(&str, DataType); 7] = [
    ("packets", DataType::UInt64),
    ("octets", DataType::UInt64),
    ("first", DataType::Int64),
    ("first_ms", DataType::Int64),
    ("last", DataType::Int64),
    ("last_ms", DataType::Int64),
    ("aggs", DataType::UInt64),
];

impl HistSpec {
    pub fn new(x: XValue, bits: u32, columns: Vec<SumColumn>) -> Self {
        Self { x, bits, columns }
    }

    pub fn needs_duration(&self) -> bool {
        matches!(self.x, XValue::Duration | XValue::Rate)
            || self
                .columns
                .iter()
                .any(|c| matches!(c, SumColumn::Duration | SumColumn::Rate))
    }

    pub fn needs_rate(&self) -> bool {
        self.x == XValue::Rate || self.columns.contains(&SumColumn::Rate)
    }

    pub fn needs_aggs(&self) -> bool {
        self.columns.contains(&SumColumn::Aggs)
    }

    /// The projection the fast path reads, as expressions over a flow table.
    pub fn input_exprs(&self) -> Vec<Expr> {
        INPUT_TYPES
            .iter()
            .filter(|(name, _)| match *name {
                "packets" | "octets" => true,
                "aggs" => self.needs_aggs(),
                _ => self.needs_duration(),
            })
            .map(|(name, t)| cast(col(*name), t.clone()).alias(*name))
            .collect()
    }

    /// The csv_hist columns: `bin_lo, bin_hi, flows_sum, packets_sum, octets_sum, {col}_sum…`.
    pub fn output_schema(&self) -> SchemaRef {
        let mut fields = vec![
            Field::new("bin_lo", EXACT, false),
            Field::new("bin_hi", EXACT, false),
            Field::new("flows_sum", DataType::UInt64, false),
            Field::new("packets_sum", EXACT, false),
            Field::new("octets_sum", EXACT, false),
        ];
        for c in &self.columns {
            let t = if *c == SumColumn::Rate {
                DataType::Float64
            } else {
                EXACT
            };
            fields.push(Field::new(format!("{}_sum", c.name()), t, false));
        }
        Arc::new(Schema::new(fields))
    }

    /// The columns of a partial histogram (`HistAcc::state`): the partition it was read from,
    /// then the output columns, a rate sum followed by its compensation (`rate_comp`).
    pub fn state_schema(&self) -> SchemaRef {
        let mut fields = vec![Field::new("partition", DataType::UInt64, false)];
        for f in self.output_schema().fields() {
            fields.push(f.as_ref().clone());
            if f.name() == "rate_sum" {
                fields.push(Field::new("rate_comp", DataType::Float64, false));
            }
        }
        Arc::new(Schema::new(fields))
    }
}
