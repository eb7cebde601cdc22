//! The order of the in-memory sort: every record's keys and position packed into one integer
//! (most significant key highest, position lowest; each key as its offset from the key's
//! minimum, in the bits its range needs), and the packed keys sorted. Positions make every packed
//! key distinct, so this is numpy's stable lexsort order, and `reverse` reverses the whole
//! permutation: the order of the DataFusion plan in `spilling`, at 8 bytes per record (a `u64`,
//! when the keys fit: a trace's time keys do; radix-sorted by the key bits alone, the positions
//! being in order already, through another 8 bytes) or 16 (a `u128`, sorted in place) instead
//! of a copy of every column. Keys that do not pack (floats, or ranges wider than 128 bits with
//! the position) give `None`: the DataFusion sort takes them.

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{ArrowPrimitiveType, DataType, Schema};
use arrow::datatypes::{
    Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use datafusion::common::{DataFusionError, Result};
use rayon::slice::ParallelSliceMut;

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
pub(super) fn bits(max: u64) -> u32 {
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
/// positions, and none of the fresh pages it would fault in).
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
        // A radix sort of the key bits: under half the time of a parallel comparison sort on a
        // trace's time keys (docs/performance.md, "Sort").
        let mut keys = packed_keys(rows, &layout);
        super::radix::sort_keys(&mut keys, position_bits..shift);
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

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int16Array, UInt8Array};
    use arrow::datatypes::{Field, Schema};
    use std::sync::Arc;
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
