//! The fast histogram accumulator: one per thread, counting into dense arrays indexed by the
//! arithmetic log bin (no hashing, no per-row allocation), with a hash map only for bins beyond
//! the dense range (huge values with `-b 0`, negative durations). Accumulators merge exactly.

use super::spec::{EXACT, HistSpec, SumColumn, XValue};
use crate::bins::{DenseBins, log_bin_f64, log_bin_i128};
use crate::duration::{flow_duration, flow_rate};
use arrow::array::{
    Array, ArrayRef, AsArray, Decimal128Array, Float64Array, RecordBatch, UInt64Array,
};
use arrow::datatypes::{ArrowPrimitiveType, Decimal128Type, Float64Type, Int64Type, UInt64Type};
use datafusion::common::{Result, exec_err};
use std::collections::HashMap;
use std::sync::Arc;

/// Dense entries per accumulator: all log bins of u64 for `b ≤ 15`, the values below 2^17 for
/// one bin per value. A few MB per thread, and untouched pages are never made resident.
const DENSE_CAP: usize = 1 << 17;
/// Marks a row whose bin is not in the dense range.
const SPARSE: u32 = u32::MAX;
/// Copies of each hot dense cell the fast path adds into in turn (row i into copy i % LANES):
/// on real traffic most rows fall into a few bins, and consecutive adds to one cell would wait
/// on each other. Folded into `cells` before any reading.
const LANES: usize = 4;
/// The dense cells that have lanes: bins of one value below 4096 (all of them for `-b 12`),
/// where real flows' lengths and sizes mostly fall; 128 KB of lanes.
const HOT: usize = 4096;

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

/// The always-present sums of one dense bin, side by side so that adding a row touches one
/// cache line, or two (three separate arrays cost three misses per row when bins are many, as
/// for `size`). 24 bytes, not aligned to 32: the cells a size histogram touches then share a
/// core's L2 with the lanes (aligned, `size -b 12` took 7 % more CPU). `packets` and `octets`
/// are the low 64 bits; carries go to [`HistAcc::carries`].
#[derive(Debug, Clone, Copy, Default)]
#[repr(C)]
struct Cell {
    flows: u64,
    packets: u64,
    octets: u64,
}

/// A lane of a hot cell (see [`LANES`]): its rows in the low [`ROW_BITS`] bits, and above them
/// the sum of the column that is not x, so that a row is one 64-bit add (8 bytes a lane: the
/// lanes and the cells beyond them share the core's L2). The sum of x itself is not kept: a
/// hot cell is the bin of one value, so it is the rows times the value, added when the lanes
/// are folded.
#[derive(Debug, Clone, Copy, Default)]
struct Lane(u64);

/// Bits of a lane's row count; the other 40 hold its sum (see `HistAcc::lane_sum`).
const ROW_BITS: u32 = 24;

impl Lane {
    /// One row (no carry possible: see `HistAcc::lane_sum`).
    #[inline(always)]
    fn add(&mut self, other: u64) {
        self.0 = self.0.wrapping_add(1 + (other << ROW_BITS));
    }

    fn flows(self) -> u64 {
        self.0 & ((1 << ROW_BITS) - 1)
    }

    fn other(self) -> u64 {
        self.0 >> ROW_BITS
    }
}

/// Per-thread histogram state; see the module comment.
#[derive(Debug)]
pub struct HistAcc {
    spec: HistSpec,
    dense: DenseBins,
    cells: Vec<Cell>,
    /// Overflows of a cell's 64-bit `packets` / `octets`, in units of 2^64, by dense index
    /// (exact sums whatever the input; empty on real traffic).
    carries: HashMap<usize, (u64, u64)>,
    duration: Vec<i128>,
    rate_sum: Vec<f64>,
    rate_comp: Vec<f64>,
    aggs: Vec<u128>,
    /// Bins outside the dense range, by `bin_lo`.
    sparse: HashMap<i128, Sums>,
    /// The fast path's lanes of the hot cells, `LANES` side by side (allocated at its first
    /// batch), folded into `cells` by [`HistAcc::fold_lanes`].
    lanes: Vec<Lane>,
    /// The exact sum of the values added into the lanes' `other` since they were last folded,
    /// and the rows: a lane holds at most all of them, so while they stay below 2^40 and
    /// 2^[`ROW_BITS`] no lane can have carried out of its part and the fast path adds without
    /// a check per row (the lanes are folded before either would pass).
    lane_sum: u64,
    lane_rows: u64,
    // Per-batch scratch, reused.
    index: Vec<u32>,
    durations: Vec<i64>,
    rates: Vec<f64>,
}

/// Records carries out of dense cell `k`'s 64-bit packet and octet sums.
#[cold]
fn add_carry(carries: &mut HashMap<usize, (u64, u64)>, k: usize, packets: u64, octets: u64) {
    let c = carries.entry(k).or_default();
    c.0 += packets;
    c.1 += octets;
}

/// One row into dense cell `k`, its carries kept.
#[inline(always)]
fn add_checked(
    cells: &mut [Cell],
    carries: &mut HashMap<usize, (u64, u64)>,
    k: usize,
    p: u64,
    o: u64,
) {
    let cell = &mut cells[k];
    cell.flows += 1;
    let (p, p_over) = cell.packets.overflowing_add(p);
    let (o, o_over) = cell.octets.overflowing_add(o);
    (cell.packets, cell.octets) = (p, o);
    if p_over | o_over {
        add_carry(carries, k, p_over as u64, o_over as u64);
    }
}

/// The exact sum of `values`, in two 64-bit sums of 32-bit halves (each takes 2^32 values
/// without carrying, and the loop vectorizes).
fn exact_sum(values: &[u64]) -> u128 {
    values
        .chunks(u32::MAX as usize)
        .map(|chunk| {
            let (lo, hi) = chunk.iter().fold((0u64, 0u64), |(lo, hi), &v| {
                (lo + (v & 0xffff_ffff), hi + (v >> 32))
            });
            ((hi as u128) << 32) + lo as u128
        })
        .sum()
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
            cells: vec![Cell::default(); n],
            carries: HashMap::new(),
            duration: vec![0; sized(has(SumColumn::Duration))],
            rate_sum: vec![0.0; sized(has(SumColumn::Rate))],
            rate_comp: vec![0.0; sized(has(SumColumn::Rate))],
            aggs: vec![0; sized(has(SumColumn::Aggs))],
            sparse: HashMap::new(),
            lanes: Vec::new(),
            lane_sum: 0,
            lane_rows: 0,
            index: Vec::new(),
            durations: Vec::new(),
            rates: Vec::new(),
        }
    }

    /// Bytes this accumulator holds (what it reserves from the memory pool). The dense part is
    /// counted whole although its untouched pages never become resident.
    pub fn memory_size(&self) -> usize {
        use std::mem::size_of;
        let entry = |k: usize, v: usize| k + v + 1;
        self.cells.capacity() * size_of::<Cell>()
            + self.lanes.capacity() * size_of::<Lane>()
            + self.carries.capacity() * entry(size_of::<usize>(), 16)
            + self.duration.capacity() * 16
            + (self.rate_sum.capacity() + self.rate_comp.capacity()) * 8
            + self.aggs.capacity() * 16
            + self.sparse.capacity() * entry(16, size_of::<Sums>())
            + self.index.capacity() * 4
            + (self.durations.capacity() + self.rates.capacity()) * 8
    }

    /// Adds every row of `batch` (columns as in [`HistSpec::input_exprs`]).
    pub fn update(&mut self, batch: &RecordBatch) -> Result<()> {
        let rows = batch.num_rows();
        let packets = values::<UInt64Type>(batch, "packets")?;
        let octets = values::<UInt64Type>(batch, "octets")?;
        if self.spec.columns.is_empty() && self.update_fast(packets, octets) {
            return Ok(());
        }
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
            add_checked(
                &mut self.cells,
                &mut self.carries,
                k as usize,
                packets[i],
                octets[i],
            );
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

    /// The fast path of `length` and `size` without extra sums: one pass computing each row's
    /// bin and adding it, a row of a hot cell into its lane of it without an overflow check (the
    /// batch's exact sum of the other column, checked first, bounds every lane), any other row
    /// checked. `false` when it does not apply (another x, or a batch whose other column sums
    /// to 2^40 or more, a mean above 2^27 in batches of 8192 rows: then the checked path adds
    /// the batch).
    fn update_fast(&mut self, packets: &[u64], octets: &[u64]) -> bool {
        let (xs, others) = match self.spec.x {
            XValue::Length => (packets, octets),
            XValue::Size => (octets, packets),
            XValue::Duration | XValue::Rate => return false,
        };
        const SUM_BITS: u32 = 64 - ROW_BITS;
        let (sum, rows) = (exact_sum(others), xs.len() as u64);
        if sum >> SUM_BITS != 0 || rows >> ROW_BITS != 0 {
            return false;
        }
        let sum = sum as u64;
        if (self.lane_sum + sum) >> SUM_BITS != 0 || (self.lane_rows + rows) >> ROW_BITS != 0 {
            self.fold_lanes();
        }
        self.lane_sum += sum;
        self.lane_rows += rows;
        // Values below `exact` are their own dense index (bins of one value): the hot cells.
        let exact = match self.spec.bits {
            0 => HOT,
            b => HOT.min(1 << b.min(20)),
        }
        .min(self.cells.len());
        if self.lanes.is_empty() {
            self.lanes = vec![Lane::default(); exact * LANES];
        }
        let exact = exact as u64;
        let dense = self.dense;
        let length = self.spec.x == XValue::Length;
        let mut sparse_rows = Vec::new();
        let (lanes, cells, carries) = (&mut self.lanes[..], &mut self.cells[..], &mut self.carries);
        // A row outside the hot cells: into its dense cell, checked, else a sparse bin.
        let mut cold = |i: usize, x: u64, other: u64| match dense.index(x) {
            Some(k) => {
                let (p, o) = if length { (x, other) } else { (other, x) };
                add_checked(cells, carries, k, p, o);
            }
            None => sparse_rows.push(i),
        };
        // LANES rows at a time, row j of each group into lane j.
        let (xg, xr) = xs.as_chunks::<LANES>();
        let (og, or) = others.as_chunks::<LANES>();
        for (g, (x, o)) in xg.iter().zip(og).enumerate() {
            // A group of hot rows only (most groups of real lengths) is added apart: the
            // cold path's state then stays out of the registers of this loop.
            if x.iter().all(|&v| v < exact) {
                for j in 0..LANES {
                    lanes[x[j] as usize * LANES + j].add(o[j]);
                }
                continue;
            }
            for j in 0..LANES {
                if x[j] < exact {
                    lanes[x[j] as usize * LANES + j].add(o[j]);
                } else {
                    cold(g * LANES + j, x[j], o[j]);
                }
            }
        }
        let at = xg.len() * LANES;
        for (j, (&x, &o)) in xr.iter().zip(or).enumerate() {
            cold(at + j, x, o);
        }
        for i in sparse_rows {
            self.add_sparse(i, packets, octets, &[]);
        }
        true
    }

    /// Adds the lanes of the fast path into `cells` (exactly, carries kept) and empties them.
    fn fold_lanes(&mut self) {
        let mut lanes = std::mem::take(&mut self.lanes);
        let length = self.spec.x == XValue::Length;
        for (k, lanes) in lanes.chunks_exact_mut(LANES).enumerate() {
            let flows: u64 = lanes.iter().map(|l| l.flows()).sum();
            if flows == 0 {
                continue;
            }
            let other: u128 = lanes.iter().map(|l| u128::from(l.other())).sum();
            // A hot cell is the bin of the value k.
            let x = flows as u128 * k as u128;
            let (p, o) = if length { (x, other) } else { (other, x) };
            self.add_wide(k, flows, p, o);
            lanes.fill(Lane::default());
        }
        self.lanes = lanes;
        self.lane_sum = 0;
        self.lane_rows = 0;
    }

    /// Adds `flows` rows with packet and octet sums `p` and `o` into dense cell `k`, exactly.
    fn add_wide(&mut self, k: usize, flows: u64, p: u128, o: u128) {
        let (mine_p, mine_o) = self.wide_sums(k);
        let (p, o) = (mine_p + p, mine_o + o);
        let cell = &mut self.cells[k];
        cell.flows += flows;
        (cell.packets, cell.octets) = (p as u64, o as u64);
        if (p >> 64) | (o >> 64) != 0 {
            self.carries.insert(k, ((p >> 64) as u64, (o >> 64) as u64));
        }
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
            // Bin edges are integers: a rate's bin is that of its integer part.
            XValue::Rate => self.index.extend(self.rates.iter().map(|&r| {
                if (0.0..18446744073709551616.0).contains(&r) {
                    of(r as u64)
                } else {
                    SPARSE
                }
            })),
        }
    }

    /// The exact packet and octet sums of dense cell `k`.
    fn wide_sums(&self, k: usize) -> (u128, u128) {
        let (hp, ho) = self.carries.get(&k).copied().unwrap_or_default();
        let c = &self.cells[k];
        (
            ((hp as u128) << 64) | c.packets as u128,
            ((ho as u128) << 64) | c.octets as u128,
        )
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
    pub fn merge(&mut self, mut other: HistAcc) {
        self.fold_lanes();
        other.fold_lanes();
        fn add<T: Copy + std::ops::AddAssign>(a: &mut [T], b: &[T]) {
            a.iter_mut().zip(b).for_each(|(a, b)| *a += *b);
        }
        for k in 0..self.cells.len() {
            let flows = other.cells[k].flows;
            if flows > 0 {
                let (p, o) = other.wide_sums(k);
                self.add_wide(k, flows, p, o);
            }
        }
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

    /// The non-empty bins in ascending order of `bin_lo`, with their sums.
    fn bins(mut self) -> Vec<(i128, Sums)> {
        self.fold_lanes();
        let mut bins: Vec<(i128, Sums)> = std::mem::take(&mut self.sparse).into_iter().collect();
        for (k, cell) in self.cells.iter().enumerate() {
            if cell.flows == 0 {
                continue;
            }
            let (packets, octets) = self.wide_sums(k);
            let (lo, hi) = self.dense.bounds(k);
            let at = |v: &[f64]| v.get(k).copied().unwrap_or(0.0);
            bins.push((
                lo as i128,
                Sums {
                    hi: hi as i128,
                    flows: cell.flows,
                    packets,
                    octets,
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
        bins
    }

    /// The non-empty bins in ascending order, as a batch of [`HistSpec::output_schema`].
    pub fn finish(self) -> Result<RecordBatch> {
        let schema = self.spec.output_schema();
        let columns = bin_columns(&self.spec.clone(), &self.bins(), false)?;
        Ok(RecordBatch::try_new(schema, columns)?)
    }

    /// The accumulator of `partition` as a batch of [`HistSpec::state_schema`]: its non-empty
    /// bins with every sum as it stands (a rate sum with its compensation), so that
    /// [`HistAcc::from_state`] rebuilds it exactly and merging partial histograms in partition
    /// order gives what merging the accumulators gives.
    pub fn state(self, partition: u64) -> Result<RecordBatch> {
        let spec = self.spec.clone();
        let bins = self.bins();
        let mut columns =
            vec![Arc::new(UInt64Array::from(vec![partition; bins.len()])) as ArrayRef];
        columns.extend(bin_columns(&spec, &bins, true)?);
        Ok(RecordBatch::try_new(spec.state_schema(), columns)?)
    }

    /// The accumulator a batch of [`HistAcc::state`] holds, and its partition (`None` for a
    /// batch without bins).
    pub fn from_state(spec: &HistSpec, batch: &RecordBatch) -> Result<(Option<u64>, Self)> {
        if batch.schema().fields() != spec.state_schema().fields() {
            return exec_err!(
                "a partial histogram with columns {:?}, expected those of {:?}",
                batch.schema(),
                spec.state_schema()
            );
        }
        let mut acc = HistAcc::new(spec);
        let exact = |i: usize| batch.column(i).as_primitive::<Decimal128Type>().values();
        let floats = |i: usize| batch.column(i).as_primitive::<Float64Type>().values();
        let partition = batch.column(0).as_primitive::<UInt64Type>().values();
        let (lo, hi, packets, octets) = (exact(1), exact(2), exact(4), exact(5));
        let flows = batch.column(3).as_primitive::<UInt64Type>().values();
        let (mut duration, mut rate, mut aggs) = (None, None, None);
        let mut at = 6;
        for c in &spec.columns {
            match c {
                SumColumn::Duration => duration = Some(exact(at)),
                SumColumn::Aggs => aggs = Some(exact(at)),
                SumColumn::Rate => {
                    rate = Some((floats(at), floats(at + 1)));
                    at += 1;
                }
            }
            at += 1;
        }
        for row in 0..batch.num_rows() {
            let sums = Sums {
                hi: hi[row],
                flows: flows[row],
                packets: packets[row] as u128,
                octets: octets[row] as u128,
                duration: duration.map_or(0, |d| d[row]),
                rate: rate.map_or(Compensated::default(), |(s, c)| Compensated {
                    sum: s[row],
                    comp: c[row],
                }),
                aggs: aggs.map_or(0, |a| a[row] as u128),
            };
            let dense = u64::try_from(lo[row]).ok().and_then(|x| acc.dense.index(x));
            match dense {
                Some(k) => acc.set_dense(k, &sums),
                None => {
                    acc.sparse.insert(lo[row], sums);
                }
            }
        }
        Ok((partition.first().copied(), acc))
    }

    /// Sets dense cell `k` to `sums`.
    fn set_dense(&mut self, k: usize, sums: &Sums) {
        self.cells[k] = Cell {
            flows: sums.flows,
            packets: sums.packets as u64,
            octets: sums.octets as u64,
        };
        let (hp, ho) = ((sums.packets >> 64) as u64, (sums.octets >> 64) as u64);
        if hp | ho != 0 {
            self.carries.insert(k, (hp, ho));
        }
        if let Some(d) = self.duration.get_mut(k) {
            *d = sums.duration;
        }
        if let (Some(s), Some(c)) = (self.rate_sum.get_mut(k), self.rate_comp.get_mut(k)) {
            (*s, *c) = (sums.rate.sum, sums.rate.comp);
        }
        if let Some(a) = self.aggs.get_mut(k) {
            *a = sums.aggs;
        }
    }
}

/// The columns of `bins` after the partition: those of [`HistSpec::output_schema`], or with
/// `state` those of [`HistSpec::state_schema`] (a rate sum and its compensation apart).
fn bin_columns(spec: &HistSpec, bins: &[(i128, Sums)], state: bool) -> Result<Vec<ArrayRef>> {
    let exact = |f: &dyn Fn(&(i128, Sums)) -> i128| -> Result<ArrayRef> {
        let a = Decimal128Array::from_iter_values(bins.iter().map(f));
        Ok(Arc::new(a.with_data_type(EXACT)))
    };
    let floats = |f: &dyn Fn(&Compensated) -> f64| -> ArrayRef {
        Arc::new(bins.iter().map(|b| f(&b.1.rate)).collect::<Float64Array>())
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
    for c in &spec.columns {
        match c {
            SumColumn::Duration => columns.push(exact(&|b| b.1.duration)?),
            SumColumn::Aggs => columns.push(exact(&|b| b.1.aggs as i128)?),
            SumColumn::Rate if state => {
                columns.push(floats(&|r| r.sum));
                columns.push(floats(&|r| r.comp));
            }
            SumColumn::Rate => columns.push(floats(&|r| r.value())),
        }
    }
    Ok(columns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::{DataType, Field, Schema};

    fn batch(packets: &[u64], octets: &[u64]) -> RecordBatch {
        let schema = Schema::new(vec![
            Field::new("packets", DataType::UInt64, false),
            Field::new("octets", DataType::UInt64, false),
        ]);
        let col = |v: &[u64]| Arc::new(UInt64Array::from(v.to_vec())) as ArrayRef;
        RecordBatch::try_new(Arc::new(schema), vec![col(packets), col(octets)]).unwrap()
    }

    fn column(b: &RecordBatch, i: usize) -> Vec<i128> {
        b.column(i)
            .as_primitive::<arrow::datatypes::Decimal128Type>()
            .values()
            .to_vec()
    }

    /// The fast path (length and size, no extra sums) against a reference computed per row
    /// with exact u128 sums: hot cells and their lanes, cells beyond the hot ones, sparse bins
    /// (`-b 0` beyond the dense range) inside the fast path, lanes folded when their sums
    /// would pass 2^64, a batch whose sums carry (the checked path), merged accumulators.
    #[test]
    fn the_fast_path_sums_exactly_with_sparse_bins_and_carries() {
        use std::collections::BTreeMap;
        let small = |seed: u64, n: u64| -> (Vec<u64>, Vec<u64>) {
            let v = |f: &dyn Fn(u64) -> u64| (0..n).map(|i| f(seed * 7 + i)).collect();
            let packets = v(&|i| match i % 11 {
                0 => 5000 + i * 31,             // beyond the hot cells
                1 => (1 << 20) + i * 1_000_003, // beyond the dense range with -b 0
                _ => 1 + i % 3,                 // one hot bin after another
            });
            let octets = v(&|i| 40 + (i * 7919) % 300_000);
            (packets, octets)
        };
        let huge = (
            vec![u64::MAX - 3, 1, u64::MAX, 2],
            vec![u64::MAX, u64::MAX, 7, 1],
        );
        // One hot row a batch with the other column at 2^63 (the rest in a cold cell): no
        // batch sums past 2^64, two do, so the lanes are folded before the second and the hot
        // cell carries (one lane would wrap).
        let (hot, big): (Vec<u64>, Vec<u64>) =
            (vec![1, 5000, 5000, 5000], vec![(1 << 63) + 5, 1, 2, 3]);
        let (big_octets, big_packets) = ((hot.clone(), big.clone()), (big, hot));
        for (x, bits) in [
            (XValue::Length, 12),
            (XValue::Size, 12),
            (XValue::Length, 0),
            (XValue::Size, 4),
        ] {
            let spec = HistSpec::new(x, bits, vec![]);
            let batches = [
                small(1, 4000),
                small(2, 1000),
                big_octets.clone(),
                big_packets.clone(),
                big_octets.clone(),
                big_packets.clone(),
                big_octets.clone(),
                big_packets.clone(),
                huge.clone(),
                small(3, 500),
            ];
            let mut want: BTreeMap<i128, (u64, u128, u128)> = BTreeMap::new();
            for (packets, octets) in &batches {
                for (&p, &o) in packets.iter().zip(octets) {
                    let v = if x == XValue::Length { p } else { o };
                    let e = want.entry(log_bin_i128(v as i128, bits).0).or_default();
                    (e.0, e.1, e.2) = (e.0 + 1, e.1 + p as u128, e.2 + o as u128);
                }
            }
            // One accumulator for everything, and two merged (the second's batches carry).
            let mut one = HistAcc::new(&spec);
            let (mut a, mut b) = (HistAcc::new(&spec), HistAcc::new(&spec));
            for (i, (packets, octets)) in batches.iter().enumerate() {
                one.update(&batch(packets, octets)).unwrap();
                let half = if i < 5 { &mut a } else { &mut b };
                half.update(&batch(packets, octets)).unwrap();
            }
            a.merge(b);
            for acc in [one, a] {
                let out = acc.finish().unwrap();
                let lo = column(&out, 0);
                let flows = out.column(2).as_primitive::<UInt64Type>().values().to_vec();
                let (packets, octets) = (column(&out, 3), column(&out, 4));
                let got: BTreeMap<i128, (u64, u128, u128)> = (0..lo.len())
                    .map(|r| (lo[r], (flows[r], packets[r] as u128, octets[r] as u128)))
                    .collect();
                assert_eq!(got, want, "{x:?} -b {bits}");
            }
        }
    }

    /// A lane packs its rows (24 bits) and its sum (40 bits) in one word: the lanes are folded
    /// before either part could carry, whether many batches pass 2^40 in sum (each below it)
    /// or 2^26 rows fall into one hot cell (2^24 into each of its lanes).
    #[test]
    fn lanes_fold_before_their_rows_or_sums_carry() {
        let n = 8192u64;
        let ones = vec![1u64; n as usize];
        let heavy: Vec<u64> = (0..n).map(|i| (1 << 26) + i).collect();
        let cases = [
            // 10 batches of 2^39.x: one lane holds 2^40.x without folds
            (batch(&ones, &heavy), 10u64),
            // 8200 batches of 8192 rows: 2^26 and more rows in one cell
            (batch(&ones, &ones), 8200),
        ];
        for (b, times) in cases {
            for x in [XValue::Length, XValue::Size] {
                let mut acc = HistAcc::new(&HistSpec::new(x, 12, vec![]));
                for _ in 0..times {
                    acc.update(&b).unwrap();
                }
                let out = acc.finish().unwrap();
                let octets: u128 = values::<UInt64Type>(&b, "octets")
                    .unwrap()
                    .iter()
                    .map(|&o| u128::from(o) * u128::from(times))
                    .sum();
                let flows = out.column(2).as_primitive::<UInt64Type>().values();
                let total = |c| column(&out, c).iter().sum::<i128>();
                assert_eq!(flows.iter().sum::<u64>(), n * times, "{x:?}");
                assert_eq!(total(3), i128::from(n * times), "{x:?}");
                assert_eq!(total(4), octets as i128, "{x:?}");
            }
        }
    }

    /// A histogram without extra sums (the fast path for length and size) against the same x
    /// with `aggs` summed too (the checked path) on the same batches: negative durations and
    /// rates (sparse bins), rates beyond the dense range, sums that carry.
    #[test]
    fn the_fast_path_equals_the_checked_path_for_every_x() {
        use arrow::array::Int64Array;
        let batch = |seed: u64, n: u64, huge: bool| {
            let v =
                |f: &dyn Fn(u64) -> u64| -> Vec<u64> { (0..n).map(|i| f(seed * 7 + i)).collect() };
            // a batch whose sums carry only after its first chunks (1024 rows)
            let packets: Vec<u64> = (0..n)
                .map(|k| match seed * 7 + k {
                    _ if huge && k >= 1500 && k % 5 == 0 => u64::MAX / 3,
                    i => 1 + i % 4 + (i % 13) * 1000,
                })
                .collect();
            let octets = v(&|i| 40 + (i * 7919) % 3_000_000);
            let first = v(&|i| 1_000_000 + i % 50);
            // some flows end before they start: negative durations and rates
            let last = v(&|i| 1_000_000 + (i * 13) % 70 + if i % 17 == 0 { 0 } else { 40 });
            let ms = v(&|i| (i * 37) % 1000);
            let aggs = v(&|i| 1 + i % 2);
            let u = |v: &[u64]| Arc::new(UInt64Array::from(v.to_vec())) as ArrayRef;
            let t = |v: &[u64]| -> ArrayRef {
                Arc::new(Int64Array::from_iter_values(v.iter().map(|&x| x as i64)))
            };
            let columns = vec![
                ("packets", u(&packets)),
                ("octets", u(&octets)),
                ("first", t(&first)),
                ("first_ms", t(&ms)),
                ("last", t(&last)),
                (
                    "last_ms",
                    t(&ms.iter().map(|m| (m * 7) % 1000).collect::<Vec<_>>()),
                ),
                ("aggs", u(&aggs)),
            ];
            RecordBatch::try_from_iter(columns).unwrap()
        };
        let batches = [
            batch(1, 3000, false),
            batch(2, 700, false),
            batch(3, 2500, true),
            batch(4, 900, false),
        ];
        for x in [XValue::Length, XValue::Size, XValue::Duration, XValue::Rate] {
            for bits in [0, 3, 12] {
                let mut fast = HistAcc::new(&HistSpec::new(x, bits, vec![]));
                let mut checked = HistAcc::new(&HistSpec::new(x, bits, vec![SumColumn::Aggs]));
                for b in &batches {
                    fast.update(b).unwrap();
                    checked.update(b).unwrap();
                }
                let (fast, checked) = (fast.finish().unwrap(), checked.finish().unwrap());
                assert!(
                    fast.num_rows() > 10,
                    "{x} -b {bits}: {} bins",
                    fast.num_rows()
                );
                assert_eq!(fast.columns(), &checked.columns()[..5], "{x} -b {bits}");
                let lo = column(&fast, 0);
                if matches!(x, XValue::Duration | XValue::Rate) {
                    assert!(lo[0] < 0, "{x} -b {bits}: no negative bin");
                }
            }
        }
    }

    /// Accumulators rebuilt from their partial histograms merge as the accumulators do:
    /// dense and sparse bins, carries past 64 bits, every extra sum, a rate's compensation.
    #[test]
    fn partial_histograms_merge_as_their_accumulators() {
        let schema = Arc::new(Schema::new(
            [
                "packets", "octets", "aggs", "first", "first_ms", "last", "last_ms",
            ]
            .map(|n| {
                let t = if n.starts_with('f') || n.starts_with('l') {
                    DataType::Int64
                } else {
                    DataType::UInt64
                };
                Field::new(n, t, false)
            })
            .to_vec(),
        ));
        let batch = |seed: u64| {
            let n = 500;
            let v = |f: &dyn Fn(u64) -> u64| -> Vec<u64> {
                (0..n).map(|i| f(seed * 1000 + i)).collect()
            };
            let packets = v(&|i| {
                if i % 97 == 0 {
                    u64::MAX - i
                } else {
                    1 + i % 300
                }
            });
            let octets = v(&|i| {
                if i % 89 == 0 {
                    u64::MAX
                } else {
                    40 + (i * 7919) % 100_000
                }
            });
            let aggs = v(&|i| 1 + i % 3);
            let first = v(&|i| 1_000 + i % 50);
            let last = v(&|i| 1_000 + (i * 13) % 70);
            let ms = v(&|i| (i * 37) % 1000);
            let u = |v: Vec<u64>| Arc::new(UInt64Array::from(v)) as ArrayRef;
            let s = |v: Vec<u64>| {
                Arc::new(arrow::array::Int64Array::from_iter_values(
                    v.into_iter().map(|x| x as i64),
                )) as ArrayRef
            };
            RecordBatch::try_new(
                schema.clone(),
                vec![
                    u(packets),
                    u(octets),
                    u(aggs),
                    s(first),
                    s(ms.clone()),
                    s(last),
                    s(ms),
                ],
            )
            .unwrap()
        };
        let all = vec![SumColumn::Duration, SumColumn::Rate, SumColumn::Aggs];
        for (x, bits) in [
            (XValue::Length, 0),
            (XValue::Size, 12),
            (XValue::Duration, 3),
            (XValue::Rate, 12),
            (XValue::Rate, 0),
        ] {
            let spec = HistSpec::new(x, bits, all.clone());
            let accs = || {
                (0..3u64).map(|p| {
                    let mut acc = HistAcc::new(&spec);
                    acc.update(&batch(p)).unwrap();
                    acc.update(&batch(p + 10)).unwrap();
                    acc
                })
            };
            let mut direct = HistAcc::new(&spec);
            accs().for_each(|a| direct.merge(a));
            let mut rebuilt = HistAcc::new(&spec);
            for (p, acc) in accs().enumerate() {
                let state = acc.state(p as u64).unwrap();
                let (partition, acc) = HistAcc::from_state(&spec, &state).unwrap();
                assert_eq!(partition, Some(p as u64));
                rebuilt.merge(acc);
            }
            let (a, b) = (direct.finish().unwrap(), rebuilt.finish().unwrap());
            assert!(a.num_rows() > 10, "{x} {bits}: {} bins", a.num_rows());
            assert_eq!(a, b, "{x} -b {bits}");
        }
        let spec = HistSpec::new(XValue::Length, 12, vec![]);
        let empty = HistAcc::new(&spec).state(4).unwrap();
        assert_eq!(HistAcc::from_state(&spec, &empty).unwrap().0, None);
        let other = HistSpec::new(XValue::Length, 12, all);
        assert!(HistAcc::from_state(&other, &empty).is_err());
    }

    /// 64-bit cell sums carry exactly, in `update` and in `merge`.
    #[test]
    fn dense_sums_carry_past_64_bits() {
        let spec = HistSpec::new(XValue::Length, 12, vec![]);
        let max = u64::MAX;
        let (mut a, mut b) = (HistAcc::new(&spec), HistAcc::new(&spec));
        a.update(&batch(&[7, 7, 9], &[max, max, 1])).unwrap();
        b.update(&batch(&[7, 7], &[max, 5])).unwrap();
        b.update(&batch(&[9], &[max])).unwrap();
        a.merge(b);
        let out = a.finish().unwrap();
        assert_eq!(column(&out, 0), [7, 9]);
        assert_eq!(
            out.column(2).as_primitive::<UInt64Type>().values().to_vec(),
            [4, 2]
        );
        assert_eq!(column(&out, 3), [28, 18]);
        assert_eq!(column(&out, 4), [3 * (max as i128) + 5, max as i128 + 1]);
    }
}
