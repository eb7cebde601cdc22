//! What [`super::PackedAggregateExec`] computes, on plain data: the group keys of a batch packed
//! into `N` 64-bit words per row ([`KeyLayout`]), the groups found or added by their packed key
//! ([`Groups`]), and `min`/`max`/`sum`/`count` over integer columns ([`Acc`]), emitted as the
//! columns DataFusion's own aggregate states are.

use arrow::array::{Array, ArrayRef, AsArray, PrimitiveArray};
use arrow::datatypes::{
    ArrowPrimitiveType, DataType, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use datafusion::common::{Result, internal_err};
use hashbrown::HashTable;
use std::sync::Arc;

/// The most words a packed key takes (8 columns of 64 bits; a 5-tuple of IPv6 words takes 5).
pub const MAX_WORDS: usize = 8;

/// An integer column type, and whether it is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntType {
    pub bits: u32,
    pub signed: bool,
}

impl IntType {
    pub fn of(t: &DataType) -> Option<Self> {
        let (bits, signed) = match t {
            DataType::UInt8 => (8, false),
            DataType::UInt16 => (16, false),
            DataType::UInt32 => (32, false),
            DataType::UInt64 => (64, false),
            DataType::Int8 => (8, true),
            DataType::Int16 => (16, true),
            DataType::Int32 => (32, true),
            DataType::Int64 => (64, true),
            _ => return None,
        };
        Some(Self { bits, signed })
    }

    fn data_type(self) -> DataType {
        match (self.bits, self.signed) {
            (8, false) => DataType::UInt8,
            (16, false) => DataType::UInt16,
            (32, false) => DataType::UInt32,
            (64, false) => DataType::UInt64,
            (8, true) => DataType::Int8,
            (16, true) => DataType::Int16,
            (32, true) => DataType::Int32,
            _ => DataType::Int64,
        }
    }

    /// `f(row, value)` for every value of `a` (of this type): the value widened to 64 bits,
    /// signed ones with their sign (two's complement).
    fn each(self, a: &ArrayRef, mut f: impl FnMut(usize, u64)) {
        fn go<T: ArrowPrimitiveType>(
            a: &ArrayRef,
            to: impl Fn(T::Native) -> u64,
            f: &mut impl FnMut(usize, u64),
        ) {
            for (i, &v) in a.as_primitive::<T>().values().iter().enumerate() {
                f(i, to(v));
            }
        }
        match (self.bits, self.signed) {
            (8, false) => go::<UInt8Type>(a, u64::from, &mut f),
            (16, false) => go::<UInt16Type>(a, u64::from, &mut f),
            (32, false) => go::<UInt32Type>(a, u64::from, &mut f),
            (64, false) => go::<UInt64Type>(a, |v| v, &mut f),
            (8, true) => go::<Int8Type>(a, |v| i64::from(v) as u64, &mut f),
            (16, true) => go::<Int16Type>(a, |v| i64::from(v) as u64, &mut f),
            (32, true) => go::<Int32Type>(a, |v| i64::from(v) as u64, &mut f),
            _ => go::<Int64Type>(a, |v| v as u64, &mut f),
        }
    }

    /// Each value of `a` (of this type) as the bits of its width, shifted left by `shift` and
    /// or-ed into the word of its row in `dst`.
    fn or_into(self, a: &ArrayRef, dst: &mut [u64], shift: u32) {
        fn go<T: ArrowPrimitiveType>(
            a: &ArrayRef,
            dst: &mut [u64],
            shift: u32,
            bits: impl Fn(T::Native) -> u64,
        ) {
            let values = a.as_primitive::<T>().values();
            for (d, &v) in dst.iter_mut().zip(values.iter()) {
                *d |= bits(v) << shift;
            }
        }
        match (self.bits, self.signed) {
            (8, false) => go::<UInt8Type>(a, dst, shift, u64::from),
            (16, false) => go::<UInt16Type>(a, dst, shift, u64::from),
            (32, false) => go::<UInt32Type>(a, dst, shift, u64::from),
            (64, false) => go::<UInt64Type>(a, dst, shift, |v| v),
            (8, true) => go::<Int8Type>(a, dst, shift, |v| u64::from(v as u8)),
            (16, true) => go::<Int16Type>(a, dst, shift, |v| u64::from(v as u16)),
            (32, true) => go::<Int32Type>(a, dst, shift, |v| u64::from(v as u32)),
            _ => go::<Int64Type>(a, dst, shift, |v| v as u64),
        }
    }

    /// The array of this type of `values` (each the 64-bit widening [`IntType::each`] gives).
    fn array(self, values: impl Iterator<Item = u64>) -> ArrayRef {
        fn go<T: ArrowPrimitiveType>(
            values: impl Iterator<Item = u64>,
            from: impl Fn(u64) -> T::Native,
        ) -> ArrayRef {
            Arc::new(PrimitiveArray::<T>::from_iter_values(values.map(from)))
        }
        match (self.bits, self.signed) {
            (8, false) => go::<UInt8Type>(values, |v| v as u8),
            (16, false) => go::<UInt16Type>(values, |v| v as u16),
            (32, false) => go::<UInt32Type>(values, |v| v as u32),
            (64, false) => go::<UInt64Type>(values, |v| v),
            (8, true) => go::<Int8Type>(values, |v| v as i8),
            (16, true) => go::<Int16Type>(values, |v| v as i16),
            (32, true) => go::<Int32Type>(values, |v| v as i32),
            _ => go::<Int64Type>(values, |v| v as i64),
        }
    }
}

/// Where one key column sits in the packed key: bits `shift..shift + ty.bits` of word `word`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Slot {
    word: usize,
    shift: u32,
    ty: IntType,
}

/// The packed key of a list of integer columns: widest first, each into the first word with
/// room for it (no column straddles two words).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyLayout {
    /// One per key column, in key order.
    slots: Vec<Slot>,
    words: usize,
}

impl KeyLayout {
    /// `None` when the columns need more than [`MAX_WORDS`] words.
    pub fn new(types: &[IntType]) -> Option<Self> {
        let mut order: Vec<usize> = (0..types.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(types[i].bits));
        let mut used: Vec<u32> = Vec::new();
        let mut slots = vec![None; types.len()];
        for i in order {
            let bits = types[i].bits;
            let word = match used.iter().position(|&u| u + bits <= 64) {
                Some(w) => w,
                None => {
                    used.push(0);
                    used.len() - 1
                }
            };
            slots[i] = Some(Slot {
                word,
                shift: used[word],
                ty: types[i],
            });
            used[word] += bits;
        }
        let slots: Option<Vec<Slot>> = slots.into_iter().collect();
        (used.len() <= MAX_WORDS).then_some(Self {
            slots: slots?,
            words: used.len(),
        })
    }

    pub fn words(&self) -> usize {
        self.words
    }

    /// The packed keys of the rows of `columns` (one per key column) into `keys`, through one
    /// contiguous word per row and key word in `words` (scratch).
    fn pack<const N: usize>(
        &self,
        columns: &[ArrayRef],
        words: &mut Vec<u64>,
        keys: &mut Vec<[u64; N]>,
    ) {
        let rows = columns.first().map_or(0, |c| c.len());
        words.clear();
        words.resize(rows * N, 0);
        for (slot, column) in self.slots.iter().zip(columns) {
            let word = &mut words[slot.word * rows..(slot.word + 1) * rows];
            slot.ty.or_into(column, word, slot.shift);
        }
        keys.clear();
        keys.extend((0..rows).map(|i| std::array::from_fn(|w| words[w * rows + i])));
    }

    /// The key columns of `keys` (the inverse of `pack`).
    fn unpack<const N: usize>(&self, keys: &[[u64; N]]) -> Vec<ArrayRef> {
        self.slots
            .iter()
            .map(|s| {
                let mask = u64::MAX >> (64 - s.ty.bits);
                let value = |k: &[u64; N]| {
                    let v = (k[s.word] >> s.shift) & mask;
                    // back to the 64-bit widening: sign-extend a signed value
                    match s.ty.signed {
                        true => ((v << (64 - s.ty.bits)) as i64 >> (64 - s.ty.bits)) as u64,
                        false => v,
                    }
                };
                s.ty.array(keys.iter().map(value))
            })
            .collect()
    }
}

/// Whether two keys are equal, without a branch per word (`==` on arrays calls `memcmp`).
#[inline]
fn same<const N: usize>(a: &[u64; N], b: &[u64; N]) -> bool {
    a.iter().zip(b).fold(0, |d, (x, y)| d | (x ^ y)) == 0
}

/// A key's hash: each word folded in by a 128-bit multiply (foldhash's mixing step).
#[inline]
fn hash<const N: usize>(k: &[u64; N]) -> u64 {
    const SEED: u64 = 0x243f_6a88_85a3_08d3;
    const MUL: u64 = 0x9e37_79b9_7f4a_7c15;
    k.iter().fold(SEED, |h, &w| {
        let m = u128::from(h ^ w) * u128::from(MUL);
        (m as u64) ^ ((m >> 64) as u64)
    })
}

/// The groups met so far: each one's packed key, in order of first appearance, found by hash.
#[derive(Debug)]
pub struct Groups<const N: usize> {
    layout: KeyLayout,
    keys: Vec<[u64; N]>,
    table: HashTable<u32>,
    /// Scratch: the packed keys of the batch at hand, and their words key word by key word.
    batch: Vec<[u64; N]>,
    words: Vec<u64>,
}

impl<const N: usize> Groups<N> {
    pub fn new(layout: KeyLayout) -> Self {
        Self {
            layout,
            keys: Vec::new(),
            table: HashTable::new(),
            batch: Vec::new(),
            words: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// The group of every row of the key `columns` into `out`, new groups added.
    pub fn intern(&mut self, columns: &[ArrayRef], out: &mut Vec<u32>) {
        self.layout.pack(columns, &mut self.words, &mut self.batch);
        out.clear();
        out.reserve(self.batch.len());
        let (keys, table) = (&mut self.keys, &mut self.table);
        let mut last: Option<([u64; N], u32)> = None;
        for k in &self.batch {
            // consecutive records of one flow (or one talker) share a key: no lookup
            if let Some((lk, g)) = last
                && same(&lk, k)
            {
                out.push(g);
                continue;
            }
            let g = *table
                .entry(
                    hash(k),
                    |&g| same(&keys[g as usize], k),
                    |&g| hash(&keys[g as usize]),
                )
                .or_insert_with(|| {
                    keys.push(*k);
                    (keys.len() - 1) as u32
                })
                .get();
            last = Some((*k, g));
            out.push(g);
        }
    }

    /// The key columns of all groups, in group order; the groups are forgotten.
    pub fn take(&mut self) -> Vec<ArrayRef> {
        let columns = self.layout.unpack(&self.keys);
        self.keys.clear();
        self.table.clear();
        columns
    }

    /// Bytes held.
    pub fn memory_size(&self) -> usize {
        (self.keys.capacity() + self.batch.capacity()) * N * 8
            + self.words.capacity() * 8
            + self.table.capacity() * (std::mem::size_of::<u32>() + 1)
    }
}

/// An aggregate the packed path computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Min,
    Max,
    Sum,
    Count,
}

/// One aggregate's value per group, as 64-bit integers: sums wrap as DataFusion's do; `min` and
/// `max` compare signed values as signed (their sign bit flipped).
#[derive(Debug, Clone)]
pub struct Acc {
    op: Op,
    /// The argument column and its type (`None`: `count` of a value never null).
    input: Option<(usize, IntType)>,
    /// The output (state) column's type.
    output: IntType,
    values: Vec<u64>,
}

impl Acc {
    /// `None` unless `output` is the type DataFusion gives the aggregate's state.
    pub fn new(op: Op, input: Option<(usize, IntType)>, output: &DataType) -> Option<Self> {
        let int64 = |signed| IntType { bits: 64, signed };
        let expected = match (op, input) {
            (Op::Count, _) => int64(true),
            (Op::Sum, Some((_, t))) => int64(t.signed),
            (Op::Min | Op::Max, Some((_, t))) => t,
            (_, None) => return None,
        };
        (*output == expected.data_type()).then(|| Self {
            op,
            input: input.filter(|_| op != Op::Count),
            output: expected,
            values: Vec::new(),
        })
    }

    fn flip(&self) -> u64 {
        match self.input {
            Some((_, t)) if t.signed && matches!(self.op, Op::Min | Op::Max) => 1 << 63,
            _ => 0,
        }
    }

    /// Adds the rows of `columns` (the input batch's) to their `groups`; `n` groups in all.
    pub fn update(&mut self, columns: &[ArrayRef], groups: &[u32], n: usize) {
        let start = match self.op {
            Op::Min => u64::MAX,
            _ => 0,
        };
        let flip = self.flip();
        self.values.resize(n, start);
        let values = &mut self.values;
        let Some((col, ty)) = self.input else {
            groups.iter().for_each(|&g| values[g as usize] += 1);
            return;
        };
        let op = self.op;
        ty.each(&columns[col], |i, v| {
            let acc = &mut values[groups[i] as usize];
            *acc = match op {
                Op::Sum => acc.wrapping_add(v),
                Op::Min => (*acc).min(v ^ flip),
                Op::Max | Op::Count => (*acc).max(v ^ flip),
            };
        });
    }

    /// The column of all groups' values; the values are forgotten.
    pub fn take(&mut self) -> ArrayRef {
        let flip = self.flip();
        let values = std::mem::take(&mut self.values)
            .into_iter()
            .map(|v| v ^ flip);
        self.output.array(values)
    }

    pub fn memory_size(&self) -> usize {
        self.values.capacity() * 8
    }

    /// The input column of its argument (`None` for `count`).
    pub fn input_column(&self) -> Option<usize> {
        self.input.map(|(c, _)| c)
    }
}

/// The columns read, checked to hold no null (the rule takes only non-nullable ones).
pub fn no_nulls<'a>(mut columns: impl Iterator<Item = &'a ArrayRef>) -> Result<()> {
    match columns.any(|c| c.null_count() > 0) {
        true => internal_err!("PackedAggregateExec: a null in a column declared non-nullable"),
        false => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int8Array, Int64Array, UInt16Array, UInt32Array};

    #[test]
    fn layout_puts_the_widest_first_and_never_straddles() {
        let t = |bits, signed| IntType { bits, signed };
        // a 5-tuple of IPv6 words: 8 x 32, 16, 16, 8 bits: 5 words
        let mut tuple = vec![t(32, false); 8];
        tuple.extend([t(16, false), t(16, false), t(8, false)]);
        assert_eq!(KeyLayout::new(&tuple).unwrap().words(), 5);
        assert_eq!(
            KeyLayout::new(&[t(8, true), t(64, true)]).unwrap().words(),
            2
        );
        assert!(KeyLayout::new(&[t(64, false); 9]).is_none());
    }

    #[test]
    fn keys_unpack_to_what_was_packed_and_groups_are_found_again() {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(UInt32Array::from(vec![7, u32::MAX, 7, 0])),
            Arc::new(Int8Array::from(vec![-1, i8::MIN, -1, i8::MAX])),
            Arc::new(UInt16Array::from(vec![80, 443, 80, 80])),
            Arc::new(Int64Array::from(vec![i64::MIN, -5, i64::MIN, 0])),
        ];
        let types: Vec<IntType> = columns
            .iter()
            .map(|c| IntType::of(c.data_type()).unwrap())
            .collect();
        let mut groups = Groups::<2>::new(KeyLayout::new(&types).unwrap());
        let mut ids = Vec::new();
        groups.intern(&columns, &mut ids);
        assert_eq!(ids, [0, 1, 0, 2]);
        let mut sums = Acc::new(Op::Sum, Some((3, types[3])), &DataType::Int64).unwrap();
        let mut mins = Acc::new(Op::Min, Some((1, types[1])), &DataType::Int8).unwrap();
        sums.update(&columns, &ids, groups.len());
        mins.update(&columns, &ids, groups.len());
        let keys = groups.take();
        for (k, c) in keys.iter().zip(&columns) {
            let rows = [0, 1, 3].map(|i| c.slice(i, 1));
            let want =
                arrow::compute::concat(&rows.iter().map(|r| r as &dyn Array).collect::<Vec<_>>());
            assert_eq!(k, &want.unwrap());
        }
        // i64::MIN + i64::MIN wraps to 0, as DataFusion's sum does
        assert_eq!(
            sums.take().as_primitive::<Int64Type>().values(),
            &[0, -5, 0]
        );
        assert_eq!(
            mins.take().as_primitive::<Int8Type>().values(),
            &[-1, i8::MIN, i8::MAX]
        );
        assert_eq!(groups.len(), 0);
    }
}
