//! Time windows pushed into an nfcapd scan, as `nfdump -t` uses them: a file whose statistics
//! record says all its flows lie outside the window is skipped when it is opened, without
//! decoding a block.
//!
//! A query's `WHERE first >= X AND first < Y` (or the same on `last`, `BETWEEN`, `=`; epoch
//! seconds, integer or decimal) reaches the scan as DataFusion's filter pushdown; the scan keeps
//! the bounds as plain data ([`TimeWindow`], shipped with the plan) and still returns every row
//! to the filter above it, so the answer is the filter's. A file is skipped when its span
//! `[first seen, last seen]` misses a bound: nfcapd and nfdump write into that record the
//! earliest `first` and the latest `last` of the file's flows, and, as `nfdump -t` does, a
//! record's own `first` and `last` are taken to lie in that span. A file without the record (a
//! layout 2 file with no appendix), or with an empty or zero one, is read.

use datafusion::common::ScalarValue;
use datafusion::logical_expr::Operator;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::{BinaryExpr, CastExpr, Column, Literal, TryCastExpr};
use nfcapd_decode::StatRecord;
use std::fmt;
use std::sync::Arc;

/// Inclusive bounds, in epoch seconds, that every wanted row's `first` and `last` meet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TimeWindow {
    pub first: Bounds,
    pub last: Bounds,
}

/// `lo <= value <= hi`; `None`: unbounded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Bounds {
    pub lo: Option<i64>,
    pub hi: Option<i64>,
}

impl Bounds {
    fn narrow(&mut self, lo: Option<i64>, hi: Option<i64>) {
        self.lo = self.lo.max(lo);
        self.hi = match (self.hi, hi) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }

    /// Whether a value in `[from, to]` may meet the bounds.
    fn meets(&self, from: i64, to: i64) -> bool {
        self.lo.is_none_or(|lo| to >= lo) && self.hi.is_none_or(|hi| from <= hi)
    }

    fn is_unbounded(&self) -> bool {
        self.lo.is_none() && self.hi.is_none()
    }
}

impl TimeWindow {
    /// The bounds that `filters` (conjuncts over the nfcapd table's columns) put on `first`
    /// and `last`; conjuncts of any other form are left to the filter.
    pub fn from_filters(filters: &[Arc<dyn PhysicalExpr>]) -> Self {
        let mut window = Self::default();
        for f in filters {
            window.add(f.as_ref());
        }
        window
    }

    pub fn is_unbounded(&self) -> bool {
        self.first.is_unbounded() && self.last.is_unbounded()
    }

    /// This window narrowed by `other`'s bounds (both must hold).
    pub fn and(mut self, other: &Self) -> Self {
        self.first.narrow(other.first.lo, other.first.hi);
        self.last.narrow(other.last.lo, other.last.hi);
        self
    }

    fn add(&mut self, e: &dyn PhysicalExpr) {
        let Some(b) = e.downcast_ref::<BinaryExpr>() else {
            return;
        };
        if *b.op() == Operator::And {
            self.add(b.left().as_ref());
            self.add(b.right().as_ref());
            return;
        }
        let (column, op, value) = match (time_column(b.left()), literal(b.right())) {
            (Some(c), Some(v)) => (c, *b.op(), v),
            _ => match (literal(b.left()), time_column(b.right())) {
                (Some(v), Some(c)) => match b.op().swap() {
                    Some(op) => (c, op, v),
                    None => return,
                },
                _ => return,
            },
        };
        let Some((lo, hi)) = integer_bounds(op, value) else {
            return;
        };
        match column {
            "first" => self.first.narrow(lo, hi),
            _ => self.last.narrow(lo, hi),
        }
    }

    /// Whether a file with statistics `stat` may hold rows in the window: false only when its
    /// span (first seen to last seen, seconds) misses a bound.
    pub fn meets(&self, stat: Option<&StatRecord>) -> bool {
        let known = |s: &&StatRecord| {
            s.numflows > 0 && s.last_seen_ms > 0 && s.first_seen_ms <= s.last_seen_ms
        };
        let Some(s) = stat.filter(known) else {
            return true;
        };
        let (from, to) = (s.first_seen() as i64, s.last_seen() as i64);
        self.first.meets(from, to) && self.last.meets(from, to)
    }
}

/// `first` or `last` (the column itself or a cast of it, which keeps its order).
fn time_column(e: &Arc<dyn PhysicalExpr>) -> Option<&'static str> {
    if let Some(c) = e.downcast_ref::<CastExpr>() {
        return time_column(c.expr());
    }
    if let Some(c) = e.downcast_ref::<TryCastExpr>() {
        return time_column(c.expr());
    }
    match e.downcast_ref::<Column>()?.name() {
        "first" => Some("first"),
        "last" => Some("last"),
        _ => None,
    }
}

/// A numeric literal: exact for integers (of any width), a fraction for a non-integer float
/// (so that `< 5.5` and `< 5` give different whole-second bounds).
fn literal(e: &Arc<dyn PhysicalExpr>) -> Option<Number> {
    let v = e.downcast_ref::<Literal>()?.value();
    let int = |x: i128| Some(Number::Int(x));
    match *v {
        ScalarValue::Int8(Some(x)) => int(x as i128),
        ScalarValue::Int16(Some(x)) => int(x as i128),
        ScalarValue::Int32(Some(x)) => int(x as i128),
        ScalarValue::Int64(Some(x)) => int(x as i128),
        ScalarValue::UInt8(Some(x)) => int(x as i128),
        ScalarValue::UInt16(Some(x)) => int(x as i128),
        ScalarValue::UInt32(Some(x)) => int(x as i128),
        ScalarValue::UInt64(Some(x)) => int(x as i128),
        ScalarValue::Float32(Some(x)) => Number::float(x as f64),
        ScalarValue::Float64(Some(x)) => Number::float(x),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy)]
enum Number {
    Int(i128),
    /// A finite non-integer value.
    Fraction(f64),
}

impl Number {
    fn float(x: f64) -> Option<Self> {
        match x.is_finite() {
            true if x.fract() == 0.0 && x.abs() < 1e30 => Some(Self::Int(x as i128)),
            true => Some(Self::Fraction(x)),
            false => None,
        }
    }

    /// The smallest integer >= self, the largest <= self.
    fn ceil_floor(self) -> (i128, i128) {
        match self {
            Self::Int(x) => (x, x),
            Self::Fraction(x) => (x.ceil() as i128, x.floor() as i128),
        }
    }
}

/// The inclusive integer bounds `column op value` puts on an integer column.
fn integer_bounds(op: Operator, value: Number) -> Option<(Option<i64>, Option<i64>)> {
    let (ceil, floor) = value.ceil_floor();
    let exact = matches!(value, Number::Int(_));
    let clamp = |x: i128| x.clamp(i64::MIN as i128, i64::MAX as i128) as i64;
    Some(match op {
        Operator::Gt => (Some(clamp(floor + 1)), None),
        Operator::GtEq => (Some(clamp(ceil)), None),
        Operator::Lt => (None, Some(clamp(ceil - 1))),
        Operator::LtEq => (None, Some(clamp(floor))),
        // `= 5.5` holds for no integer: an empty window, left to the filter (it reads all).
        Operator::Eq if exact => (Some(clamp(ceil)), Some(clamp(floor))),
        _ => return None,
    })
}

impl fmt::Display for TimeWindow {
    /// As EXPLAIN shows it: `time_window=[first >= 1, first <= 9, last >= 3]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        for (name, b) in [("first", &self.first), ("last", &self.last)] {
            parts.extend(b.lo.map(|v| format!("{name} >= {v}")));
            parts.extend(b.hi.map(|v| format!("{name} <= {v}")));
        }
        write!(f, "time_window=[{}]", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::{DataType, Field, Schema};
    use datafusion::physical_expr::expressions::{binary, cast, col, lit};

    fn schema() -> Schema {
        Schema::new(vec![
            Field::new("first", DataType::UInt32, false),
            Field::new("last", DataType::UInt32, false),
            Field::new("sp", DataType::UInt16, false),
        ])
    }

    fn cmp(column: &str, op: Operator, value: ScalarValue) -> Arc<dyn PhysicalExpr> {
        let s = schema();
        binary(col(column, &s).unwrap(), op, lit(value), &s).unwrap()
    }

    fn stat(first_ms: u64, last_ms: u64) -> StatRecord {
        StatRecord {
            numflows: 1,
            first_seen_ms: first_ms,
            last_seen_ms: last_ms,
            ..Default::default()
        }
    }

    #[test]
    fn bounds_come_from_comparisons_of_first_and_last_with_numbers() {
        let w = TimeWindow::from_filters(&[
            cmp("first", Operator::GtEq, ScalarValue::UInt32(Some(100))),
            cmp("first", Operator::Lt, ScalarValue::Int64(Some(200))),
            cmp("last", Operator::Gt, ScalarValue::Float64(Some(150.5))),
            cmp("last", Operator::LtEq, ScalarValue::Float64(Some(300.5))),
            cmp("sp", Operator::Eq, ScalarValue::UInt16(Some(53))),
        ]);
        assert_eq!(
            w.first,
            Bounds {
                lo: Some(100),
                hi: Some(199)
            }
        );
        assert_eq!(
            w.last,
            Bounds {
                lo: Some(151),
                hi: Some(300)
            }
        );
        assert_eq!(
            w.to_string(),
            "time_window=[first >= 100, first <= 199, last >= 151, last <= 300]"
        );
        // The literal on the left, a cast column, an AND, an equality.
        let s = schema();
        let cast_first = cast(col("first", &s).unwrap(), &s, DataType::Int64).unwrap();
        let left = binary(
            lit(ScalarValue::Int64(Some(120))),
            Operator::Lt,
            cast_first,
            &s,
        )
        .unwrap();
        let eq = cmp("last", Operator::Eq, ScalarValue::Int64(Some(170)));
        let both = binary(left, Operator::And, eq, &s).unwrap();
        let w = TimeWindow::from_filters(&[both]);
        assert_eq!(
            w.first,
            Bounds {
                lo: Some(121),
                hi: None
            }
        );
        assert_eq!(
            w.last,
            Bounds {
                lo: Some(170),
                hi: Some(170)
            }
        );
    }

    #[test]
    fn what_is_not_a_bound_is_left_to_the_filter() {
        let s = schema();
        let sum = binary(col("first", &s).unwrap(), Operator::Plus, lit(1u32), &s).unwrap();
        let filters = [
            binary(sum, Operator::Gt, lit(5u32), &s).unwrap(),
            cmp("first", Operator::NotEq, ScalarValue::UInt32(Some(5))),
            cmp("first", Operator::Eq, ScalarValue::Float64(Some(5.5))),
            cmp("first", Operator::Gt, ScalarValue::UInt32(None)),
            cmp("first", Operator::Lt, ScalarValue::Float64(Some(f64::NAN))),
            binary(
                cmp("first", Operator::Lt, ScalarValue::UInt32(Some(1))),
                Operator::Or,
                cmp("last", Operator::Gt, ScalarValue::UInt32(Some(9))),
                &s,
            )
            .unwrap(),
        ];
        assert!(TimeWindow::from_filters(&filters).is_unbounded());
    }

    #[test]
    fn a_file_is_skipped_only_when_its_span_misses_the_window() {
        let w = TimeWindow::from_filters(&[
            cmp("first", Operator::GtEq, ScalarValue::UInt32(Some(1000))),
            cmp("first", Operator::Lt, ScalarValue::UInt32(Some(2000))),
        ]);
        assert!(
            w.meets(Some(&stat(900_000, 1_000_999))),
            "ends in the window's first second"
        );
        assert!(!w.meets(Some(&stat(900_000, 999_999))), "ends before it");
        assert!(
            w.meets(Some(&stat(1_999_999, 2_500_000))),
            "starts in its last second"
        );
        assert!(
            !w.meets(Some(&stat(2_000_000, 2_500_000))),
            "starts after it"
        );
        assert!(w.meets(None), "no statistics: read");
        assert!(w.meets(Some(&stat(0, 0))), "zero statistics: read");
        assert!(w.meets(Some(&stat(5_000_000, 4_000_000))), "inverted: read");
        let empty = StatRecord {
            numflows: 0,
            ..stat(1, 2)
        };
        assert!(w.meets(Some(&empty)));
        let on_last =
            TimeWindow::from_filters(&[cmp("last", Operator::Gt, ScalarValue::UInt32(Some(3000)))]);
        assert!(!on_last.meets(Some(&stat(1_000_000, 3_000_999))));
        assert!(on_last.meets(Some(&stat(1_000_000, 3_001_000))));
    }
}
