//! Stable radix sorts of `u64`s by a range of their bits: the sort's packed keys (a first digit
//! shared out among the cores, then every bucket by its remaining digits, in the cache) and a
//! gathered batch's (position, output index) pairs.

use rayon::prelude::*;
use std::ops::Range;

/// Widest digit of the per-bucket passes (a 16 KiB table of counts).
const DIGIT: u32 = 11;

/// Widest first digit: up to 4096 buckets, each a fraction of the keys small enough to be
/// sorted by the remaining bits in the cache when the keys spread over their range.
const FIRST_DIGIT: u32 = 12;

/// Sorts `values` stably by bits `bits` of `value - base` (wrapping), least significant digit
/// first, through `scratch` (as long as `values`).
pub fn lsd(values: &mut [u64], scratch: &mut [u64], base: u64, bits: Range<u32>) {
    let mut shift = bits.start;
    let mut in_values = true;
    while shift < bits.end {
        let width = (bits.end - shift).min(DIGIT);
        let mask = (1usize << width) - 1;
        let digit = |v: u64| (v.wrapping_sub(base) >> shift) as usize & mask;
        let (from, to) = if in_values {
            (&mut *values, &mut *scratch)
        } else {
            (&mut *scratch, &mut *values)
        };
        let mut next = vec![0usize; mask + 1];
        for &v in from.iter() {
            next[digit(v)] += 1;
        }
        let mut sum = 0;
        for n in next.iter_mut() {
            (*n, sum) = (sum, sum + *n);
        }
        for &v in from.iter() {
            let d = digit(v);
            to[next[d]] = v;
            next[d] += 1;
        }
        in_values = !in_values;
        shift += width;
    }
    if !in_values {
        values.copy_from_slice(scratch);
    }
}

/// Sorts `keys` stably by their bits `bits`: keys in order of their bits below `bits` (packed
/// keys with ascending positions there) end in the order of their whole value. The first digit
/// (the highest bits) spreads the keys over buckets, each core placing a contiguous share of the
/// keys; then the buckets are sorted by the remaining bits, on all cores. The keys move to a
/// new vector (the old one serves as the buckets' scratch).
pub fn sort_keys(keys: &mut Vec<u64>, bits: Range<u32>) {
    if bits.is_empty() || keys.len() < 2 {
        return;
    }
    let first = bits.len().min(FIRST_DIGIT as usize) as u32;
    let shift = bits.end - first;
    let buckets = 1usize << first;
    let bucket = |k: u64| (k >> shift) as usize & (buckets - 1);
    let share = keys.len().div_ceil(crate::par::cores());
    let counts: Vec<Vec<usize>> = keys
        .par_chunks(share)
        .map(|keys| {
            let mut count = vec![0; buckets];
            keys.iter().for_each(|&k| count[bucket(k)] += 1);
            count
        })
        .collect();
    // Bucket by bucket, each share's part of it: a share's keys of a bucket follow those of
    // the shares before (input order kept).
    let mut sorted = vec![0u64; keys.len()];
    let mut parts: Vec<Vec<&mut [u64]>> = counts.iter().map(|_| Vec::new()).collect();
    let mut rest = sorted.as_mut_slice();
    for b in 0..buckets {
        for (count, part) in counts.iter().zip(&mut parts) {
            let (here, after) = rest.split_at_mut(count[b]);
            part.push(here);
            rest = after;
        }
    }
    keys.par_chunks(share)
        .zip(parts.par_iter_mut())
        .for_each(|(keys, part)| {
            let mut filled = vec![0; buckets];
            for &k in keys {
                let b = bucket(k);
                part[b][filled[b]] = k;
                filled[b] += 1;
            }
        });
    // Each bucket by the rest of the bits, its scratch the same range of the old keys.
    let mut pairs = Vec::with_capacity(buckets);
    let (mut rest, mut scratch) = (sorted.as_mut_slice(), keys.as_mut_slice());
    for b in 0..buckets {
        let len: usize = counts.iter().map(|c| c[b]).sum();
        let (here, after) = rest.split_at_mut(len);
        let (room, more) = scratch.split_at_mut(len);
        (rest, scratch) = (after, more);
        if len > 1 && shift > bits.start {
            pairs.push((here, room));
        }
    }
    pairs
        .into_par_iter()
        .with_min_len(16)
        .for_each(|(bucket, scratch)| lsd(bucket, scratch, 0, bits.start..shift));
    *keys = sorted;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xorshift(mut x: u64) -> impl FnMut() -> u64 {
        move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        }
    }

    /// Packed keys of random values above ascending positions: the order of a comparison sort,
    /// for ranges needing one first digit only, one per-bucket pass, several, and skewed keys
    /// (everything in a few buckets).
    #[test]
    fn sorted_keys_are_a_comparison_sorts_order() {
        let mut next = xorshift(0x9E37_79B9_7F4A_7C15);
        let n = 100_000u64;
        let position_bits = 17;
        for key_bits in [0u32, 1, 5, 12, 23, 40, 47] {
            for skewed in [false, true] {
                let mut keys: Vec<u64> = (0..n)
                    .map(|i| {
                        let r = next() & ((1u64 << key_bits) - 1);
                        let v = if skewed { r % 3 } else { r };
                        v << position_bits | i
                    })
                    .collect();
                let mut expected = keys.clone();
                expected.sort_unstable();
                sort_keys(&mut keys, position_bits..position_bits + key_bits);
                assert_eq!(keys, expected, "{key_bits} bits, skewed {skewed}");
            }
        }
        let mut few = vec![3u64 << 1 | 1];
        sort_keys(&mut few, 1..3);
        assert_eq!(few, [7]);
    }

    #[test]
    fn lsd_sorts_by_the_bits_above_a_base_stably() {
        let mut next = xorshift(42);
        for (range, n) in [(u32::MAX as u64, 5000u64), (3000, 2000), (1, 3), (0, 0)] {
            let base = u64::from(u32::MAX) - range;
            let mut pairs: Vec<u64> = (0..n)
                .map(|k| (base + next() % (range + 1)) << 32 | k)
                .collect();
            let mut expected = pairs.clone();
            expected.sort_unstable();
            let bits = u64::BITS - range.leading_zeros();
            let mut scratch = vec![0; pairs.len()];
            lsd(&mut pairs, &mut scratch, base << 32, 32..32 + bits);
            assert_eq!(pairs, expected, "range {range}");
        }
    }
}
