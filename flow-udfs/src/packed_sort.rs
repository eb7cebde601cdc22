//! In-memory sort of one binary trace by integer key fields: every record's keys and position
//! packed into one integer (most significant key highest, position lowest; each key as its
//! offset from the key's minimum, in the bits its range needs), the packed keys sorted, and the
//! trace's memory-mapped columns gathered in that order, batch by batch. Positions make every
//! packed key distinct, so sorting the packed keys gives numpy's stable lexsort order, and
//! `reverse` reverses the whole permutation: the same order as [`crate::sort`]'s DataFusion
//! plan, at 8 bytes per record (a `u64`, when the keys fit: a trace's time keys do; radix-sorted
//! by the key bits alone, the positions being in order already, through another 8 bytes) or 16
//! (a `u128`, sorted in place) instead of a copy of every column. Keys that do not pack
//! (floats, or ranges wider than 128 bits with the position) return `None`: use the DataFusion
//! sort. A column of one value ([`is_constant`]) is its own sorted output: it is sliced, not
//! gathered, and a caller writing a binary trace can write it before the order is known.

use crate::recycled::Recycler;
use arrow::array::{Array, ArrayRef, AsArray, PrimitiveArray, RecordBatch, UInt32Array};
use arrow::compute::take;
use arrow::datatypes::{ArrowPrimitiveType, DataType, Field, Schema, SchemaRef};
use arrow::datatypes::{
    Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::{PartitionStream, StreamingTableExec};
use flow_provider::binary::dir::TraceDir;
use flow_provider::binary::mmap::{array_from_buffer, map_file, value_bytes};
use flow_provider::fields::dtype_to_arrow;
use rayon::slice::ParallelSliceMut;
use std::sync::Arc;

/// The trace's columns as zero-copy arrays over their memory-mapped files, with their schema.
pub fn mapped_columns(trace: &TraceDir) -> Result<(SchemaRef, Vec<ArrayRef>)> {
    let mut fields = Vec::with_capacity(trace.columns.len());
    let mut arrays = Vec::with_capacity(trace.columns.len());
    for c in &trace.columns {
        let dt = dtype_to_arrow(c.dtype).ok_or_else(|| {
            DataFusionError::Internal(format!("type code {} of {}", c.dtype, c.path.display()))
        })?;
        arrays.push(array_from_buffer(&map_file(&c.path)?, &dt, 0, trace.rows)?);
        fields.push(Field::new(&c.field, dt, false));
    }
    Ok((Arc::new(Schema::new(fields)), arrays))
}

/// Whether every value of `column` is the same (bit for bit): sorted, such a column is its
/// input, so it needs no gathering (nor waiting for the order). An IPv4-only trace has seven:
/// `af` and the upper three words of both addresses, and `aggs` before a merge.
pub fn is_constant(column: &ArrayRef) -> bool {
    let Some(width) = column.data_type().primitive_width() else {
        return false;
    };
    if column.null_count() > 0 {
        return false;
    }
    let data = column.to_data();
    let bytes = value_bytes(&data);
    // Equal to itself shifted by one value.
    bytes.len() <= width || bytes[width..] == bytes[..bytes.len() - width]
}

/// [`is_constant`] of each column, on all cores.
pub fn constant_columns(columns: &[ArrayRef]) -> Vec<bool> {
    use rayon::prelude::*;
    columns.par_iter().map(is_constant).collect()
}

/// A key column's values as order-preserving unsigned integers (signed values with their sign
/// bit flipped), handed to `f` one by one; `None` for a type that does not pack.
fn for_each_key<F: FnMut(usize, u64)>(a: &ArrayRef, mut f: F) -> Option<()> {
    fn each<T: ArrowPrimitiveType>(
        a: &ArrayRef,
        to_u64: impl Fn(T::Native) -> u64,
        f: &mut impl FnMut(usize, u64),
    ) {
        for (i, &v) in a.as_primitive::<T>().values().iter().enumerate() {
            f(i, to_u64(v));
        }
    }
    match a.data_type() {
        DataType::UInt8 => each::<UInt8Type>(a, u64::from, &mut f),
        DataType::UInt16 => each::<UInt16Type>(a, u64::from, &mut f),
        DataType::UInt32 => each::<UInt32Type>(a, u64::from, &mut f),
        DataType::UInt64 => each::<UInt64Type>(a, |v| v, &mut f),
        DataType::Int8 => each::<Int8Type>(a, |v| u64::from(v as u8 ^ 0x80), &mut f),
        DataType::Int16 => each::<Int16Type>(a, |v| u64::from(v as u16 ^ 0x8000), &mut f),
        DataType::Int32 => each::<Int32Type>(a, |v| u64::from(v as u32 ^ (1 << 31)), &mut f),
        DataType::Int64 => each::<Int64Type>(a, |v| v as u64 ^ (1 << 63), &mut f),
        _ => return None,
    }
    Some(())
}

/// Bits needed for the values `0..=max`.
fn bits(max: u64) -> u32 {
    u64::BITS - max.leading_zeros()
}

/// A packed sort key: the record's keys above its position, each key as its offset from the
/// key's minimum in as many bits as its range needs.
trait Packed: Copy + Ord + Send + Sync + Default {
    fn position(i: usize) -> Self;
    fn or_at(&mut self, v: u64, shift: u32);
    /// The position: the `bits` lowest bits.
    fn position_of(self, bits: u32) -> u32;
}

/// [`Packed`] for the unsigned integers of 64 bits and more.
macro_rules! packed {
    ($($t:ty),*) => {$(
        impl Packed for $t {
            fn position(i: usize) -> Self {
                i as $t
            }
            fn or_at(&mut self, v: u64, shift: u32) {
                *self |= <$t>::from(v) << shift;
            }
            fn position_of(self, bits: u32) -> u32 {
                (self & ((1 << bits) - 1)) as u32
            }
        }
    )*};
}

packed!(u64, u128);

/// Input positions in output order, handed out a batch at a time.
pub trait Positions: Send + Sync + 'static {
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The input positions of output rows `rows`, into `out` (emptied first).
    fn positions(&self, rows: std::ops::Range<usize>, out: &mut Vec<u32>);
}

impl Positions for Vec<u32> {
    fn len(&self) -> usize {
        self.as_slice().len()
    }
    fn positions(&self, rows: std::ops::Range<usize>, out: &mut Vec<u32>) {
        out.clear();
        out.extend_from_slice(&self[rows]);
    }
}

/// A sorted order: the records' packed keys, sorted, positions in their lowest bits. The
/// positions are read out batch by batch as the gather needs them (no second array of
/// positions: 40 ms and 40 MB of fresh pages saved on 10 M records).
pub struct Order {
    keys: Sorted,
    position_bits: u32,
    reverse: bool,
}

enum Sorted {
    Narrow(Vec<u64>),
    Wide(Vec<u128>),
}

impl std::fmt::Debug for Order {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Order({} records of {} bytes", self.len(), self.width())?;
        write!(f, "{})", if self.reverse { ", reversed" } else { "" })
    }
}

impl Order {
    /// Bytes of memory per record.
    pub fn width(&self) -> usize {
        match self.keys {
            Sorted::Narrow(_) => 8,
            Sorted::Wide(_) => 16,
        }
    }

    /// All positions in output order.
    #[cfg(test)]
    fn to_vec(&self) -> Vec<u32> {
        let mut out = Vec::new();
        self.positions(0..self.len(), &mut out);
        out
    }
}

impl Positions for Order {
    fn len(&self) -> usize {
        match &self.keys {
            Sorted::Narrow(k) => k.len(),
            Sorted::Wide(k) => k.len(),
        }
    }

    fn positions(&self, rows: std::ops::Range<usize>, out: &mut Vec<u32>) {
        fn read<P: Packed>(keys: &[P], bits: u32, reverse: bool, out: &mut Vec<u32>) {
            out.clear();
            let positions = keys.iter().map(|&p| p.position_of(bits));
            if reverse {
                out.extend(positions.rev());
            } else {
                out.extend(positions);
            }
        }
        // Reversed, output row r is the key at len - 1 - r.
        let n = self.len();
        let at = if self.reverse {
            n - rows.end..n - rows.start
        } else {
            rows
        };
        let bits = self.position_bits;
        match &self.keys {
            Sorted::Narrow(k) => read(&k[at], bits, self.reverse, out),
            Sorted::Wide(k) => read(&k[at], bits, self.reverse, out),
        }
    }
}

/// The order that sorts `columns` (of `schema`) by `keys`, or `None` when the keys' ranges do
/// not pack into 128 bits with the position, or there are 2^32 records or more. A missing key
/// is an error.
pub fn packed_order(
    schema: &Schema,
    columns: &[ArrayRef],
    keys: &[String],
    reverse: bool,
) -> Result<Option<Order>> {
    let rows = columns.first().map_or(0, |c| c.len());
    if u32::try_from(rows).is_err() {
        return Ok(None);
    }
    // Least significant key first, each above the previous ones; (column, minimum, shift).
    let mut layout = Vec::with_capacity(keys.len());
    let position_bits = bits(rows.saturating_sub(1) as u64);
    let mut shift = position_bits;
    for k in keys.iter().rev() {
        let i = schema
            .index_of(k)
            .map_err(|_| DataFusionError::Plan(format!("sort: no field '{k}' in the input")))?;
        let (mut min, mut max) = (u64::MAX, 0);
        if for_each_key(&columns[i], |_, v| {
            min = min.min(v);
            max = max.max(v);
        })
        .is_none()
        {
            return Ok(None);
        }
        let width = bits(max.saturating_sub(min));
        if width > 0 {
            // (A key of one value orders nothing.)
            layout.push((&columns[i], min, shift));
            shift += width;
        }
    }
    let keys = if shift <= u64::BITS {
        // 10 M time keys (23 bits): 45 ms, where a parallel comparison sort took 120 ms.
        let mut keys = packed_keys(rows, &layout);
        crate::radix::sort_keys(&mut keys, position_bits..shift);
        Sorted::Narrow(keys)
    } else if shift <= u128::BITS {
        let mut keys: Vec<u128> = packed_keys(rows, &layout);
        keys.par_sort_unstable();
        Sorted::Wide(keys)
    } else {
        return Ok(None);
    };
    Ok(Some(Order {
        keys,
        position_bits,
        reverse,
    }))
}

/// The packed keys of `rows` records (`layout`: column, minimum, shift; positions in the lowest
/// bits), in input order, packed on all cores, a slice of records each (their fresh pages fault
/// in in parallel too).
fn packed_keys<P: Packed>(rows: usize, layout: &[(&ArrayRef, u64, u32)]) -> Vec<P> {
    use rayon::prelude::*;
    const SLICE: usize = 1 << 16;
    let mut packed = vec![P::default(); rows];
    packed
        .par_chunks_mut(SLICE)
        .enumerate()
        .for_each(|(n, slice)| {
            let first = n * SLICE;
            for (i, p) in slice.iter_mut().enumerate() {
                *p = P::position(first + i);
            }
            for &(column, min, shift) in layout {
                for_each_key(&column.slice(first, slice.len()), |i, v| {
                    slice[i].or_at(v - min, shift)
                });
            }
        });
    packed
}

/// `columns` in `order`, as batches of `batch_size` rows, gathered on a thread of their own (up
/// to two batches ahead) so that the gather overlaps whatever consumes the stream (writing). The
/// thread stops at the first batch nobody is waiting for any more. The `constant` ones (of one
/// value: [`constant_columns`]) are handed out as slices of themselves.
pub fn gathered<O: Positions>(
    schema: SchemaRef,
    columns: Vec<ArrayRef>,
    constant: Vec<bool>,
    order: Arc<O>,
    batch_size: usize,
) -> SendableRecordBatchStream {
    use futures::SinkExt;
    let batch_size = batch_size.max(1);
    let (mut tx, rx) = futures::channel::mpsc::channel(1);
    let batch_schema = schema.clone();
    std::thread::spawn(move || {
        let recycler = Recycler::default();
        let plain = columns.iter().all(|c| c.null_count() == 0);
        let batches = order.len().div_ceil(batch_size);
        let rows_of = |n: usize| n * batch_size..((n + 1) * batch_size).min(order.len());
        let prepare = |n: usize| {
            let mut rows = Vec::new();
            order.positions(rows_of(n), &mut rows);
            Read::new(rows, plain)
        };
        let mut read = None;
        for n in 0..batches {
            // A panic must reach the consumer as an error: a stream that just ended early would
            // be committed as a complete, shorter trace.
            let batch = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let this = read.take().unwrap_or_else(|| prepare(n));
                // The next batch's reading is prepared while this one's columns are gathered.
                let (columns, next) = rayon::join(
                    || this.columns(&columns, &constant, rows_of(n), &recycler),
                    || (n + 1 < batches).then(|| prepare(n + 1)),
                );
                read = next;
                columns.and_then(|c| Ok(RecordBatch::try_new(batch_schema.clone(), c)?))
            }))
            .unwrap_or_else(|_| {
                Err(DataFusionError::Internal(
                    "sort: gathering the sorted columns panicked".into(),
                ))
            });
            let failed = batch.is_err();
            if futures::executor::block_on(tx.send(batch)).is_err() || failed {
                break; // the consumer is gone, or has the error
            }
        }
    });
    Box::pin(RecordBatchStreamAdapter::new(schema, rx))
}

/// One trace in `keys` order as a one-partition plan whose batches are gathered from the mapped
/// columns as it is read (in-memory packed sort; ties in input order). `None` when the keys do
/// not pack, or the memory pool of `ctx` cannot grant the 16 bytes per record the sort needs (the
/// order's 8 or 16 bytes per record stay reserved while the plan lives): the caller then plans a
/// DataFusion sort, which spills.
pub fn sorted_trace_plan(
    trace: &TraceDir,
    keys: &[String],
    ctx: &TaskContext,
) -> Result<Option<Arc<dyn ExecutionPlan>>> {
    let reservation = MemoryConsumer::new("packed sort").register(ctx.memory_pool());
    if reservation.try_grow(16 * trace.rows).is_err() {
        return Ok(None);
    }
    let (schema, columns) = mapped_columns(trace)?;
    let Some(order) = packed_order(&schema, &columns, keys, false)? else {
        return Ok(None);
    };
    reservation.shrink((16 - order.width()) * trace.rows);
    let sorted = SortedTrace {
        schema: schema.clone(),
        constant: constant_columns(&columns),
        columns,
        order: Arc::new(order),
        _reservation: reservation,
    };
    let plan = StreamingTableExec::try_new(schema, vec![Arc::new(sorted)], None, [], false, None)?;
    Ok(Some(Arc::new(plan)))
}

/// A trace's columns in a sorted order, gathered as the partition is read (the order is shared
/// with the gather, not copied: it is the memory the reservation stands for).
#[derive(Debug)]
struct SortedTrace {
    schema: SchemaRef,
    columns: Vec<ArrayRef>,
    constant: Vec<bool>,
    order: Arc<Order>,
    _reservation: MemoryReservation,
}

impl PartitionStream for SortedTrace {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let batch_size = ctx.session_config().batch_size();
        gathered(
            self.schema.clone(),
            self.columns.clone(),
            self.constant.clone(),
            self.order.clone(),
            batch_size,
        )
    }
}

/// How a batch's rows are read: the rows of a time-sorted batch of a collector's trace are
/// spread over a few times as many input rows (a batch reaches back as far as its longest
/// flows), so reading them in output order misses the CPU cache at almost every value. When the
/// rows are that dense, they are read in input order instead, each value written to its place
/// in the output (which fits in the cache): (position, output index) pairs sorted once per
/// batch, for all columns. On the 10 M-record collector trace this took the gather from 0.56 to
/// 0.25 s (one thread). Rows scattered over the whole trace (keys unrelated to time) are taken
/// in output order: reading through every column for each batch would cost more.
enum Read {
    /// (position << 32 | output index) pairs, sorted.
    InInputOrder(Vec<u64>),
    InOutputOrder(UInt32Array),
}

impl Read {
    /// The reading of input positions `rows` (in output order); `plain`: no column has NULLs
    /// (the input-order gather writes plain values; a mapped trace never has NULLs).
    fn new(rows: Vec<u32>, plain: bool) -> Self {
        let (lo, hi) = rows
            .iter()
            .fold((u32::MAX, 0), |(lo, hi), &r| (lo.min(r), hi.max(r)));
        let dense = (hi.saturating_sub(lo) as usize) < DENSE_SPAN * rows.len();
        if !(dense && plain) {
            return Read::InOutputOrder(UInt32Array::from(rows));
        }
        let mut pairs: Vec<u64> = (0..)
            .zip(rows)
            .map(|(k, row)| u64::from(row) << 32 | k)
            .collect();
        // By position: the bits the range of positions needs, above the output index.
        let width = bits(u64::from(hi - lo));
        let mut scratch = vec![0; pairs.len()];
        crate::radix::lsd(
            &mut pairs,
            &mut scratch,
            u64::from(lo) << 32,
            32..32 + width,
        );
        Read::InInputOrder(pairs)
    }

    /// Every column's values at the rows (output rows `out_rows`), the columns shared
    /// round-robin among the cores; a `constant` column is its own slice.
    fn columns(
        &self,
        columns: &[ArrayRef],
        constant: &[bool],
        out_rows: std::ops::Range<usize>,
        recycler: &Recycler,
    ) -> Result<Vec<ArrayRef>> {
        let mut out: Vec<Option<ArrayRef>> = vec![None; columns.len()];
        let mut varying = Vec::with_capacity(columns.len());
        for (i, c) in columns.iter().enumerate() {
            if constant[i] {
                out[i] = Some(c.slice(out_rows.start, out_rows.len()));
            } else {
                varying.push(i);
            }
        }
        let threads = crate::par::cores().min(varying.len()).max(1);
        let shares = crate::par::on_each(&mut vec![(); threads], |t, _| {
            varying[t..]
                .iter()
                .step_by(threads)
                .map(|&i| {
                    let column = match self {
                        Read::InInputOrder(pairs) => gather(&columns[i], pairs, recycler)?,
                        Read::InOutputOrder(rows) => take(columns[i].as_ref(), rows, None)?,
                    };
                    Ok((i, column))
                })
                .collect::<Result<Vec<(usize, ArrayRef)>>>()
        });
        for share in shares {
            for (i, a) in share? {
                out[i] = Some(a);
            }
        }
        Ok(out.into_iter().flatten().collect())
    }
}

/// A batch's rows are read in input order when they lie within this many times their number of
/// consecutive input rows (a time-sorted collector trace: about 4).
const DENSE_SPAN: usize = 8;

/// `column`'s values at the positions of `pairs` (position << 32 | output index, sorted), in
/// memory from `recycler`.
fn gather(column: &ArrayRef, pairs: &[u64], recycler: &Recycler) -> Result<ArrayRef> {
    fn typed<T: ArrowPrimitiveType>(column: &ArrayRef, pairs: &[u64], r: &Recycler) -> ArrayRef {
        let values = column.as_primitive::<T>().values();
        let out = r.filled(pairs.len(), |out: &mut [T::Native]| {
            for &p in pairs {
                out[p as u32 as usize] = values[(p >> 32) as usize];
            }
        });
        Arc::new(PrimitiveArray::<T>::new(out, None))
    }
    let r = recycler;
    Ok(match column.data_type() {
        DataType::UInt8 => typed::<UInt8Type>(column, pairs, r),
        DataType::UInt16 => typed::<UInt16Type>(column, pairs, r),
        DataType::UInt32 => typed::<UInt32Type>(column, pairs, r),
        DataType::UInt64 => typed::<UInt64Type>(column, pairs, r),
        DataType::Int8 => typed::<Int8Type>(column, pairs, r),
        DataType::Int16 => typed::<Int16Type>(column, pairs, r),
        DataType::Int32 => typed::<Int32Type>(column, pairs, r),
        DataType::Int64 => typed::<Int64Type>(column, pairs, r),
        DataType::Float32 => typed::<Float32Type>(column, pairs, r),
        DataType::Float64 => typed::<Float64Type>(column, pairs, r),
        other => {
            return Err(DataFusionError::Internal(format!(
                "sort: cannot gather a column of type {other}"
            )));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int16Array, UInt8Array};

    fn order(keys: &[&str], reverse: bool) -> Option<Vec<u32>> {
        let a: ArrayRef = Arc::new(Int16Array::from(vec![3, -2, 3, -32768, 32767, -2]));
        let b: ArrayRef = Arc::new(UInt8Array::from(vec![1, 9, 0, 5, 5, 9]));
        let schema = Schema::new(vec![
            Field::new("a", DataType::Int16, false),
            Field::new("b", DataType::UInt8, false),
        ]);
        let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        packed_order(&schema, &[a, b], &keys, reverse)
            .unwrap()
            .map(|o| o.to_vec())
    }

    #[test]
    fn signed_keys_ties_and_reverse() {
        // a ascending (signed), ties (-2, rows 1 and 5) in input order.
        assert_eq!(order(&["a"], false), Some(vec![3, 1, 5, 0, 2, 4]));
        // (a, b): rows 0 and 2 tie on a; b orders them.
        assert_eq!(order(&["a", "b"], false), Some(vec![3, 1, 5, 2, 0, 4]));
        // b then a: b = 5 for rows 3 and 4, a orders them.
        assert_eq!(order(&["b", "a"], false), Some(vec![2, 0, 3, 4, 1, 5]));
        // --reverse is the exact reverse, ties included.
        assert_eq!(order(&["a"], true), Some(vec![4, 2, 0, 5, 1, 3]));
    }

    /// Enough records for several slices of the parallel packing: the order is a stable sort's,
    /// reversed exactly, and reading it batch by batch gives the same positions.
    #[test]
    fn a_large_order_is_a_stable_sort_read_in_any_batches() {
        let n = 150_000u32;
        let key: Vec<u16> = (0..n)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 20) as u16)
            .collect();
        let a: ArrayRef = Arc::new(arrow::array::UInt16Array::from(key.clone()));
        let schema = Schema::new(vec![Field::new("a", DataType::UInt16, false)]);
        let mut expected: Vec<u32> = (0..n).collect();
        expected.sort_by_key(|&i| key[i as usize]);
        for reverse in [false, true] {
            let order = packed_order(&schema, std::slice::from_ref(&a), &["a".into()], reverse)
                .unwrap()
                .unwrap();
            let mut batched = Vec::new();
            let mut rows = Vec::new();
            for start in (0..n as usize).step_by(40_000) {
                order.positions(start..(start + 40_000).min(n as usize), &mut rows);
                batched.extend_from_slice(&rows);
            }
            assert_eq!(batched, order.to_vec());
            let mut want = expected.clone();
            if reverse {
                want.reverse();
            }
            assert_eq!(batched, want, "reverse {reverse}");
        }
    }

    #[test]
    fn gathered_batches_follow_the_order_without_a_runtime() {
        use futures::StreamExt;
        let a: ArrayRef = Arc::new(Int16Array::from(vec![10, 11, 12, 13, 14]));
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int16, false)]));
        let stream = gathered(
            schema,
            vec![a],
            vec![false],
            Arc::new(vec![4, 0, 3, 1, 2]),
            2,
        );
        let batches: Vec<RecordBatch> = futures::executor::block_on(stream.collect::<Vec<_>>())
            .into_iter()
            .collect::<Result<_>>()
            .unwrap();
        let sizes: Vec<usize> = batches.iter().map(|b| b.num_rows()).collect();
        assert_eq!(sizes, [2, 2, 1]);
        let values: Vec<i16> = batches
            .iter()
            .flat_map(|b| b.column(0).as_primitive::<Int16Type>().values().to_vec())
            .collect();
        assert_eq!(values, [14, 10, 13, 11, 12]);
    }

    /// Dense rows (read in input order) and scattered rows (taken in output order) give what
    /// arrow's `take` gives, for each column type.
    #[test]
    fn both_ways_of_reading_a_batch_gather_the_same_values() {
        use arrow::array::{Float64Array, Int64Array, UInt8Array};
        let n = 10_000;
        let columns: Vec<ArrayRef> = vec![
            Arc::new(UInt8Array::from_iter_values((0..n).map(|i| (i * 7) as u8))),
            Arc::new(Int64Array::from_iter_values(
                (0..n).map(|i| -(i as i64) << 20),
            )),
            Arc::new(Float64Array::from_iter_values(
                (0..n).map(|i| i as f64 / 3.0),
            )),
        ];
        let dense: Vec<u32> = (0..2000).map(|k| (k * 7919 % 2000) + 500).collect();
        let scattered: Vec<u32> = (0..200).map(|k| k * 7919 % n as u32).collect();
        // With a NULL in one column, every column is taken (NULLs kept).
        let mut with_null = columns.clone();
        with_null.push(Arc::new(arrow::array::UInt16Array::from_iter(
            (0..n).map(|i| (i != 501).then_some(i as u16)),
        )));
        // A column of one value is its own slice at the output rows (here 0..).
        let mut with_constant = columns.clone();
        with_constant.push(Arc::new(UInt8Array::from(vec![4; n])));
        // The second dense batch gathers into the memory of the first (holding its values).
        let dense_again: Vec<u32> = dense.iter().rev().copied().collect();
        let recycler = Recycler::default();
        for (columns, rows) in [
            (&columns, &dense),
            (&columns, &scattered),
            (&with_null, &dense),
            (&columns, &dense_again),
            (&with_constant, &dense),
            (&with_constant, &scattered),
        ] {
            let plain = columns.iter().all(|c| c.null_count() == 0);
            let constant = constant_columns(columns);
            let expected = std::ptr::eq(columns, &with_constant);
            assert_eq!(constant, [false, false, false, expected][..columns.len()]);
            let got = Read::new(rows.clone(), plain)
                .columns(columns, &constant, 0..rows.len(), &recycler)
                .unwrap();
            let indices = UInt32Array::from(rows.to_vec());
            assert_eq!(got.len(), columns.len());
            for (g, c) in got.iter().zip(columns) {
                assert_eq!(
                    g.as_ref(),
                    take(c.as_ref(), &indices, None).unwrap().as_ref()
                );
            }
        }
    }

    #[test]
    fn constant_columns_are_equal_bit_for_bit() {
        use arrow::array::{Float32Array, UInt32Array};
        let constant = |a: ArrayRef| is_constant(&a);
        assert!(constant(Arc::new(UInt32Array::from(vec![5; 1000]))));
        assert!(constant(Arc::new(UInt32Array::from(Vec::<u32>::new()))));
        assert!(constant(Arc::new(UInt32Array::from(vec![9]))));
        let mut last = vec![5; 1000];
        last[999] = 6;
        assert!(!constant(Arc::new(UInt32Array::from(last.clone()))));
        // The slice before the odd value is constant (offsets are honoured).
        let sliced = UInt32Array::from(last).slice(500, 499);
        assert!(constant(Arc::new(sliced.clone())));
        assert!(!constant(Arc::new(UInt32Array::from(vec![6, 5, 5]))));
        // 0.0 and -0.0 are equal numbers, but not the same bits: sorting must keep them apart.
        assert!(!constant(Arc::new(Float32Array::from(vec![0.0, -0.0]))));
        assert!(constant(Arc::new(Float32Array::from(vec![f32::NAN; 3]))));
        assert!(!constant(Arc::new(UInt32Array::from(vec![None, None]))));
        // A run of equal bytes across values of other widths.
        assert!(!constant(Arc::new(arrow::array::UInt16Array::from(vec![
            0x0101, 0x0001
        ]))));
    }

    /// The gathered stream gives a constant column as slices of itself, in batches of the
    /// others' lengths.
    #[test]
    fn a_constant_column_is_sliced_in_batches() {
        use futures::StreamExt;
        let a: ArrayRef = Arc::new(Int16Array::from(vec![10, 11, 12, 13, 14]));
        let k: ArrayRef = Arc::new(UInt8Array::from(vec![3; 5]));
        let schema = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int16, false),
            Field::new("k", DataType::UInt8, false),
        ]));
        let columns = vec![a, k.clone()];
        let constant = constant_columns(&columns);
        let stream = gathered(schema, columns, constant, Arc::new(vec![4, 0, 3, 1, 2]), 2);
        let batches = futures::executor::block_on(stream.collect::<Vec<_>>());
        let mut at = 0;
        for batch in batches {
            let batch = batch.unwrap();
            assert_eq!(
                batch.column(1).as_ref(),
                k.slice(at, batch.num_rows()).as_ref()
            );
            at += batch.num_rows();
        }
        assert_eq!(at, 5);
    }

    #[test]
    fn a_failed_gather_is_an_error_not_a_short_stream() {
        use futures::StreamExt;
        let a: ArrayRef = Arc::new(Int16Array::from(vec![10, 11, 12]));
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int16, false)]));
        // Position 7 is outside the column: arrow's take fails or panics; either way the
        // consumer must see an error after the first (good) batch.
        let stream = gathered(schema, vec![a], vec![false], Arc::new(vec![2, 0, 7, 1]), 2);
        let results = futures::executor::block_on(stream.collect::<Vec<_>>());
        assert_eq!(results.len(), 2, "{results:?}");
        assert!(results[0].is_ok());
        assert!(results[1].is_err());
    }

    #[test]
    fn keys_that_do_not_pack_fall_back() {
        let full = || Arc::new(arrow::array::UInt64Array::from(vec![0, u64::MAX])) as ArrayRef;
        let schema = Schema::new(vec![
            Field::new("x", DataType::UInt64, false),
            Field::new("y", DataType::UInt64, false),
        ]);
        let keys = ["x".to_string(), "y".to_string()];
        // Two full 64-bit ranges and a bit of position do not fit in 128.
        assert!(
            packed_order(&schema, &[full(), full()], &keys, false)
                .unwrap()
                .is_none()
        );
        let err = packed_order(&schema, &[full(), full()], &["z".to_string()], false).unwrap_err();
        assert!(err.to_string().contains("no field 'z'"), "{err}");
    }

    /// Keys are packed as offsets from their minimum: large values with a narrow range sort in
    /// a `u64`, wide ranges in a `u128`; both give the stable order.
    #[test]
    fn ranges_pack_into_u64_or_u128() {
        let schema = Schema::new(vec![
            Field::new("x", DataType::UInt64, false),
            Field::new("y", DataType::Int64, false),
        ]);
        let keys = ["x".to_string(), "y".to_string()];
        let order = |x: Vec<u64>, y: Vec<i64>| {
            let cols: Vec<ArrayRef> = vec![
                Arc::new(arrow::array::UInt64Array::from(x)),
                Arc::new(arrow::array::Int64Array::from(y)),
            ];
            packed_order(&schema, &cols, &keys, false)
                .unwrap()
                .map(|o| o.to_vec())
        };
        // Narrow ranges far from zero (a u64 key).
        let base = u64::MAX - 10;
        assert_eq!(
            order(vec![base + 3, base, base + 3, base], vec![-1, 7, -5, 7]),
            Some(vec![1, 3, 2, 0])
        );
        // 40 + 40 bits of range and 2 of position: a u128 key.
        let (x0, y0) = (1u64 << 40, -(1i64 << 39));
        assert_eq!(
            order(vec![x0, 0, x0, 0], vec![y0, 1 << 39, -y0, 1 << 39]),
            Some(vec![1, 3, 0, 2])
        );
        // A full 64-bit range and a constant key: 64 + 2 bits, a u128.
        assert_eq!(
            order(vec![x0; 4], vec![i64::MIN, i64::MAX, i64::MIN, 0]),
            Some(vec![0, 2, 3, 1])
        );
        // A constant key takes no bits: 62 + 2 bits, a u64.
        assert_eq!(
            order(vec![x0; 4], vec![1 << 60, -(1 << 60), 0, 0]),
            Some(vec![1, 2, 3, 0])
        );
    }
}
