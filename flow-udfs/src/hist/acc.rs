//! The fast histogram accumulator: one per thread, counting into dense arrays indexed by the
//! arithmetic log bin (no hashing, no per-row allocation), with a hash map only for bins beyond
//! the dense range (huge values with `-b 0`, negative durations). Accumulators merge exactly.

use super::spec::{EXACT, HistSpec, SumColumn, XValue};
use crate::bins::{DenseBins, log_bin_f64, log_bin_i128};
use crate::duration::{flow_duration, flow_rate};
use arrow::array::{
    Array, ArrayRef, AsArray, Decimal128Array, Float64Array, RecordBatch, UInt64Array,
};
use arrow::datatypes::{ArrowPrimitiveType, Int64Type, UInt64Type};
use datafusion::common::{Result, exec_err};
use std::collections::HashMap;
use std::sync::Arc;

/// Dense entries per accumulator: all log bins of u64 for `b ≤ 15`, the values below 2^17 for
/// one bin per value. A few MB per thread, and untouched pages are never made resident.
const DENSE_CAP: usize = 1 << 17;
/// Marks a row whose bin is not in the dense range.
const SPARSE: u32 = u32::MAX;

/// A floating sum with Neumaier compensation: the error stays about one rounding of the total,
/// however many values are added (a plain running sum loses up to one rounding per addition).
#[derive(Debug, Clone, Copy, Default)]
struct Compensated {
    sum: f64,
    comp: f64,
}

impl Compensated {
    #[inline]
    fn add(sum: &mut f64, comp: &mut f64, v: f64) {
        let t = *sum + v;
        *comp += if sum.abs() >= v.abs() {
            (*sum - t) + v
        } else {
            (v - t) + *sum
        };
        *sum = t;
    }

    fn value(self) -> f64 {
        self.sum + self.comp
    }
}

/// The sums of one bin outside the dense range.
#[derive(Debug, Clone, Copy, Default)]
struct Sums {
    hi: i128,
    flows: u64,
    packets: u128,
    octets: u128,
    duration: i128,
    rate: Compensated,
    aggs: u128,
}

/// Per-thread histogram state; see the module comment.
#[derive(Debug)]
pub struct HistAcc {
    spec: HistSpec,
    dense: DenseBins,
    flows: Vec<u64>,
    packets: Vec<u128>,
    octets: Vec<u128>,
    duration: Vec<i128>,
    rate_sum: Vec<f64>,
    rate_comp: Vec<f64>,
    aggs: Vec<u128>,
    /// Bins outside the dense range, by `bin_lo`.
    sparse: HashMap<i128, Sums>,
    // Per-batch scratch, reused.
    index: Vec<u32>,
    durations: Vec<i64>,
    rates: Vec<f64>,
}

/// The values of a non-null input column.
fn values<'a, T: ArrowPrimitiveType>(
    batch: &'a RecordBatch,
    name: &str,
) -> Result<&'a [T::Native]> {
    let Some(array) = batch.column_by_name(name) else {
        return exec_err!("histogram input has no column '{name}'");
    };
    let Some(array) = array.as_primitive_opt::<T>() else {
        return exec_err!("histogram input column '{name}' is {}", array.data_type());
    };
    if let Some(nulls) = array.nulls().filter(|n| n.null_count() > 0) {
        let row = nulls.iter().position(|v| !v).unwrap_or(0);
        return exec_err!("histogram input column '{name}' is null in row {row} of a batch");
    }
    Ok(array.values())
}

impl HistAcc {
    pub fn new(spec: &HistSpec) -> Self {
        let dense = DenseBins::new(spec.bits, DENSE_CAP);
        let n = dense.len();
        let sized = |on: bool| if on { n } else { 0 };
        let has = |c| spec.columns.contains(&c);
        Self {
            spec: spec.clone(),
            dense,
            flows: vec![0; n],
            packets: vec![0; n],
            octets: vec![0; n],
            duration: vec![0; sized(has(SumColumn::Duration))],
            rate_sum: vec![0.0; sized(has(SumColumn::Rate))],
            rate_comp: vec![0.0; sized(has(SumColumn::Rate))],
            aggs: vec![0; sized(has(SumColumn::Aggs))],
            sparse: HashMap::new(),
            index: Vec::new(),
            durations: Vec::new(),
            rates: Vec::new(),
        }
    }

    /// Adds every row of `batch` (columns as in [`HistSpec::input_exprs`]).
    pub fn update(&mut self, batch: &RecordBatch) -> Result<()> {
        let rows = batch.num_rows();
        let packets = values::<UInt64Type>(batch, "packets")?;
        let octets = values::<UInt64Type>(batch, "octets")?;
        if self.spec.needs_duration() {
            let [first, first_ms, last, last_ms] = [
                values::<Int64Type>(batch, "first")?,
                values::<Int64Type>(batch, "first_ms")?,
                values::<Int64Type>(batch, "last")?,
                values::<Int64Type>(batch, "last_ms")?,
            ];
            self.durations.clear();
            self.durations
                .extend((0..rows).map(|i| {
                    flow_duration(first[i], first_ms[i], last[i], last_ms[i], packets[i])
                }));
        }
        if self.spec.needs_rate() {
            self.rates.clear();
            self.rates.extend(
                octets
                    .iter()
                    .zip(&self.durations)
                    .map(|(&o, &d)| flow_rate(o, d)),
            );
        }
        self.index_rows(packets, octets);

        let mut sparse_rows = Vec::new();
        for (i, &k) in self.index.iter().enumerate() {
            if k == SPARSE {
                sparse_rows.push(i);
                continue;
            }
            let k = k as usize;
            self.flows[k] += 1;
            self.packets[k] += packets[i] as u128;
            self.octets[k] += octets[i] as u128;
        }
        let dense_rows = || self.index.iter().enumerate().filter(|(_, k)| **k != SPARSE);
        if !self.duration.is_empty() {
            for (i, &k) in dense_rows() {
                self.duration[k as usize] += self.durations[i] as i128;
            }
        }
        if !self.rate_sum.is_empty() {
            for (i, &k) in dense_rows() {
                let k = k as usize;
                Compensated::add(&mut self.rate_sum[k], &mut self.rate_comp[k], self.rates[i]);
            }
        }
        let aggs = if self.spec.needs_aggs() {
            values::<UInt64Type>(batch, "aggs")?
        } else {
            &[]
        };
        if !self.aggs.is_empty() {
            for (i, &k) in dense_rows() {
                self.aggs[k as usize] += aggs[i] as u128;
            }
        }
        for i in sparse_rows {
            self.add_sparse(i, packets, octets, aggs);
        }
        Ok(())
    }

    /// Fills `self.index` with each row's dense bin index, or [`SPARSE`].
    fn index_rows(&mut self, packets: &[u64], octets: &[u64]) {
        let dense = self.dense;
        let of = |x: u64| dense.index(x).map_or(SPARSE, |i| i as u32);
        self.index.clear();
        match self.spec.x {
            XValue::Length => self.index.extend(packets.iter().map(|&x| of(x))),
            XValue::Size => self.index.extend(octets.iter().map(|&x| of(x))),
            XValue::Duration => self.index.extend(
                self.durations
                    .iter()
                    .map(|&d| if d >= 0 { of(d as u64) } else { SPARSE }),
            ),
            XValue::Rate => {
                let bits = self.spec.bits;
                self.index.extend(self.rates.iter().map(|&r| {
                    let lo = log_bin_f64(r, bits).0;
                    // A bin edge is its own bin, so its index is the bin's index.
                    if (0.0..18446744073709551616.0).contains(&lo) {
                        of(lo as u64)
                    } else {
                        SPARSE
                    }
                }))
            }
        }
    }

    /// The slow path for a row whose bin is outside the dense range.
    #[cold]
    fn add_sparse(&mut self, i: usize, packets: &[u64], octets: &[u64], aggs: &[u64]) {
        let bits = self.spec.bits;
        let (lo, hi) = match self.spec.x {
            XValue::Length => log_bin_i128(packets[i] as i128, bits),
            XValue::Size => log_bin_i128(octets[i] as i128, bits),
            XValue::Duration => log_bin_i128(self.durations[i] as i128, bits),
            XValue::Rate => {
                let (lo, hi) = log_bin_f64(self.rates[i], bits);
                (lo as i128, hi as i128)
            }
        };
        let s = self.sparse.entry(lo).or_insert(Sums {
            hi,
            ..Sums::default()
        });
        s.flows += 1;
        s.packets += packets[i] as u128;
        s.octets += octets[i] as u128;
        if let Some(&d) = self.durations.get(i) {
            s.duration += d as i128;
        }
        if let Some(&r) = self.rates.get(i) {
            Compensated::add(&mut s.rate.sum, &mut s.rate.comp, r);
        }
        if let Some(&a) = aggs.get(i) {
            s.aggs += a as u128;
        }
    }

    /// Adds `other` (built for the same spec) into `self`.
    pub fn merge(&mut self, other: HistAcc) {
        fn add<T: Copy + std::ops::AddAssign>(a: &mut [T], b: &[T]) {
            a.iter_mut().zip(b).for_each(|(a, b)| *a += *b);
        }
        add(&mut self.flows, &other.flows);
        add(&mut self.packets, &other.packets);
        add(&mut self.octets, &other.octets);
        add(&mut self.duration, &other.duration);
        add(&mut self.aggs, &other.aggs);
        let mine = self.rate_sum.iter_mut().zip(self.rate_comp.iter_mut());
        let theirs = other.rate_sum.iter().zip(&other.rate_comp);
        for ((sum, comp), (&o_sum, &o_comp)) in mine.zip(theirs) {
            Compensated::add(sum, comp, o_sum);
            *comp += o_comp;
        }
        for (lo, o) in other.sparse {
            let s = self.sparse.entry(lo).or_insert(Sums {
                hi: o.hi,
                ..Sums::default()
            });
            s.flows += o.flows;
            s.packets += o.packets;
            s.octets += o.octets;
            s.duration += o.duration;
            Compensated::add(&mut s.rate.sum, &mut s.rate.comp, o.rate.sum);
            s.rate.comp += o.rate.comp;
            s.aggs += o.aggs;
        }
    }

    /// The non-empty bins in ascending order, as a batch of [`HistSpec::output_schema`].
    pub fn finish(self) -> Result<RecordBatch> {
        let mut bins: Vec<(i128, Sums)> = self.sparse.into_iter().collect();
        for (k, &flows) in self.flows.iter().enumerate() {
            if flows == 0 {
                continue;
            }
            let (lo, hi) = self.dense.bounds(k);
            let at = |v: &[f64]| v.get(k).copied().unwrap_or(0.0);
            bins.push((
                lo as i128,
                Sums {
                    hi: hi as i128,
                    flows,
                    packets: self.packets[k],
                    octets: self.octets[k],
                    duration: self.duration.get(k).copied().unwrap_or(0),
                    rate: Compensated {
                        sum: at(&self.rate_sum),
                        comp: at(&self.rate_comp),
                    },
                    aggs: self.aggs.get(k).copied().unwrap_or(0),
                },
            ));
        }
        bins.sort_unstable_by_key(|(lo, _)| *lo);

        let exact = |f: &dyn Fn(&(i128, Sums)) -> i128| -> Result<ArrayRef> {
            let a = Decimal128Array::from_iter_values(bins.iter().map(f));
            Ok(Arc::new(a.with_data_type(EXACT)))
        };
        let mut columns = vec![
            exact(&|b| b.0)?,
            exact(&|b| b.1.hi)?,
            Arc::new(UInt64Array::from_iter_values(
                bins.iter().map(|b| b.1.flows),
            )) as ArrayRef,
            exact(&|b| b.1.packets as i128)?,
            exact(&|b| b.1.octets as i128)?,
        ];
        for c in &self.spec.columns {
            columns.push(match c {
                SumColumn::Duration => exact(&|b| b.1.duration)?,
                SumColumn::Aggs => exact(&|b| b.1.aggs as i128)?,
                SumColumn::Rate => Arc::new(
                    bins.iter()
                        .map(|b| b.1.rate.value())
                        .collect::<Float64Array>(),
                ) as ArrayRef,
            });
        }
        Ok(RecordBatch::try_new(self.spec.output_schema(), columns)?)
    }
}
