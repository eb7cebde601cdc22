//! The merge state machine of flow-models' `merge.py`, over one key-partition of the input:
//! long records wait in a per-key cache for their continuation, the rest go straight out.
//! Records of each key must arrive in (first, first_ms) order (the caller guarantees it).

use super::{Counters, MergeParams};
use foldhash::fast::FixedState;
use hashbrown::HashTable;
use hashbrown::hash_table::Entry;
use std::hash::{BuildHasher, Hasher};

/// The 14 key fields (`af prot inif outif sa0..sa3 da0..da3 sp dp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key {
    pub af: u8,
    pub prot: u8,
    pub inif: u16,
    pub outif: u16,
    pub sa: [u32; 4],
    pub da: [u32; 4],
    pub sp: u16,
    pub dp: u16,
}

/// Seed of [`Key::hash64`]: fixed, so that every partition computes the same hash.
const SEED: u64 = 0x243F_6A88_85A3_08D3;

impl Key {
    /// A well-mixed 64-bit hash of the whole key, computed once per record: the key's place in
    /// the candidate cache.
    pub fn hash64(&self) -> u64 {
        let word = |hi: u32, lo: u32| (u64::from(hi) << 32) | u64::from(lo);
        let mut h = FixedState::with_seed(SEED).build_hasher();
        h.write_u64(word(self.sa[0], self.sa[1]));
        h.write_u64(word(self.sa[2], self.sa[3]));
        h.write_u64(word(self.da[0], self.da[1]));
        h.write_u64(word(self.da[2], self.da[3]));
        h.write_u64(
            (u64::from(self.af) << 56)
                | (u64::from(self.prot) << 48)
                | (u64::from(self.inif) << 32)
                | (u64::from(self.outif) << 16)
                | u64::from(self.sp),
        );
        h.write_u16(self.dp);
        h.finish()
    }
}

/// The partition (of `partitions`) of every record with these addresses and ports, and so of
/// every record of one key. Cheaper than [`Key::hash64`]: it is computed for every record by
/// every partition, which then handles only its own.
pub fn partition(sa: [u32; 4], da: [u32; 4], ports: u32, partitions: usize) -> usize {
    let mixed =
        (sa[0] ^ sa[1] ^ sa[2] ^ sa[3] ^ da[0].rotate_left(16) ^ da[1] ^ da[2] ^ da[3] ^ ports)
            .wrapping_mul(0x9E37_79B1);
    ((u64::from(mixed) * partitions as u64) >> 32) as usize
}

/// One flow record; `aggs` is never 0 here (the original counts 0 as 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Flow {
    pub key: Key,
    pub first: u32,
    pub first_ms: u16,
    pub last: u32,
    pub last_ms: u16,
    pub packets: u64,
    pub octets: u64,
    pub aggs: u32,
}

impl Flow {
    /// Start in milliseconds: comparing whole milliseconds is what fixes the original's
    /// millisecond borrow (`delta_ms = 1000 - delta_ms`).
    pub fn first_t(&self) -> i64 {
        self.first as i64 * 1000 + self.first_ms as i64
    }

    pub fn last_t(&self) -> i64 {
        self.last as i64 * 1000 + self.last_ms as i64
    }

    /// Too short to have been cut by the active timeout: the original compares whole seconds
    /// (`last - first < active - inactive`), kept as is.
    fn is_short(&self, p: &MergeParams) -> bool {
        (self.last as i64 - self.first as i64) * 1000 < p.candidate_ms()
    }
}

/// Merges one partition's records; finished records accumulate in `out` until taken.
pub struct Merger {
    params: MergeParams,
    cache: HashTable<Flow>,
    pub out: Vec<Flow>,
    pub counters: Counters,
    /// (first_t of the latest record, records since the last sweep) for evicting dead candidates.
    now: i64,
    since_sweep: usize,
}

/// How often (in records, at least) the cache is swept of candidates that can no longer be
/// continued.
const SWEEP_EVERY: usize = 1 << 16;

/// Records whose keys [`Merger::push_all`] looks up ahead together.
const LOOK_AHEAD: usize = 32;

impl Merger {
    pub fn new(params: MergeParams) -> Self {
        Self {
            params,
            cache: HashTable::new(),
            out: Vec::new(),
            counters: Counters::default(),
            now: i64::MIN,
            since_sweep: 0,
        }
    }

    /// Bytes held: the candidate cache (one control byte per slot beside each record) and the
    /// records waiting to be taken.
    pub fn memory_size(&self) -> usize {
        let flow = std::mem::size_of::<Flow>();
        self.cache.capacity() * (flow + 1) + self.out.capacity() * flow
    }

    fn emit(out: &mut Vec<Flow>, counters: &mut Counters, flow: Flow) {
        counters.written += 1;
        counters.packets_out += flow.packets as u128;
        counters.octets_out += flow.octets as u128;
        counters.aggs_out += flow.aggs as u128;
        out.push(flow);
    }

    /// Takes the next records of the partition, in order.
    pub fn push_all(&mut self, flows: &[Flow]) {
        for group in flows.chunks(LOOK_AHEAD) {
            // A cached candidate is a cache miss in a table of hundreds of thousands. Looking
            // a group's keys up first, in a tight loop, lets the CPU wait for all their misses
            // at once; the real lookups below then find the candidates in the CPU cache.
            let mut hashes = [0; LOOK_AHEAD];
            for (f, h) in group.iter().zip(&mut hashes) {
                *h = f.key.hash64();
            }
            let mut found = 0;
            for (f, &h) in group.iter().zip(&hashes) {
                found += usize::from(self.cache.find(h, |c| c.key == f.key).is_some());
            }
            std::hint::black_box(found);
            for (&f, &h) in group.iter().zip(&hashes) {
                self.push(f, h);
            }
        }
    }

    /// Takes the next record of the partition; `hash` is `new.key.hash64()`.
    fn push(&mut self, mut new: Flow, hash: u64) {
        let c = &mut self.counters;
        new.aggs = new.aggs.max(1);
        c.read += 1;
        c.packets_in += new.packets as u128;
        c.octets_in += new.octets as u128;
        c.aggs_in += new.aggs as u128;
        let short = new.is_short(&self.params);
        match self
            .cache
            .entry(hash, |f| f.key == new.key, |f| f.key.hash64())
        {
            Entry::Occupied(mut e) => {
                let old = e.get_mut();
                if new.first_t() <= old.last_t() {
                    // Overlapping in time: the original drops both; we keep both, unmerged.
                    c.overlapping += 1;
                    let (old, _) = e.remove();
                    Self::emit(&mut self.out, c, old);
                    Self::emit(&mut self.out, c, new);
                } else if new.first_t() - old.last_t() < self.params.inactive_ms {
                    c.merged += 1;
                    // The original adds 1 per merged record whatever its own aggs: kept.
                    c.aggs_dropped += new.aggs as u128 - 1;
                    old.last = new.last;
                    old.last_ms = new.last_ms;
                    old.aggs = old.aggs.saturating_add(1);
                    old.packets += new.packets;
                    old.octets += new.octets;
                    if short {
                        let (old, _) = e.remove();
                        Self::emit(&mut self.out, c, old);
                    }
                } else {
                    let old = *old;
                    Self::emit(&mut self.out, c, old);
                    if short {
                        e.remove();
                        Self::emit(&mut self.out, c, new);
                    } else {
                        *e.get_mut() = new;
                    }
                }
            }
            Entry::Vacant(v) => {
                if short {
                    Self::emit(&mut self.out, c, new);
                } else {
                    v.insert(new);
                }
            }
        }
        self.now = self.now.max(new.first_t());
        self.since_sweep += 1;
        // Sweeping visits every cached candidate: doing it only after twice as many records as
        // are cached keeps that at most half a visit per record, and the cache at most three
        // times its live size.
        if self.since_sweep >= SWEEP_EVERY.max(2 * self.cache.len()) {
            self.sweep();
        }
    }

    /// Emits cached candidates that no later record can continue: records arrive in start
    /// order, so a candidate that ended `inactive` or more before the latest start is final.
    /// This keeps memory bounded by the flows active at one time, not by the trace.
    fn sweep(&mut self) {
        self.since_sweep = 0;
        let (now, inactive) = (self.now, self.params.inactive_ms);
        let (out, counters) = (&mut self.out, &mut self.counters);
        self.cache.retain(|f| {
            let alive = now - f.last_t() < inactive;
            if !alive {
                Self::emit(out, counters, *f);
            }
            alive
        });
    }

    /// End of input: every remaining candidate is final.
    pub fn finish(&mut self) {
        let (out, counters) = (&mut self.out, &mut self.counters);
        for f in self.cache.drain() {
            Self::emit(out, counters, f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 3000 records of 40 keys in start order: per key, long records (300 s, candidates) each
    /// followed 5 s after its end by the next, a short one now and then (closing a chain), and
    /// a gap beyond the inactive timeout now and then.
    fn records() -> Vec<Flow> {
        let mut flows = Vec::new();
        for k in 0..40u32 {
            let mut t = 1_000_000 + k * 7;
            for j in 0..75u32 {
                let long = j % 6 != 5;
                let key = Key {
                    af: 4,
                    prot: 6,
                    inif: 0,
                    outif: 0,
                    sa: [k, 0, 0, 0],
                    da: [7, 0, 0, 0],
                    sp: k as u16,
                    dp: 443,
                };
                let last = t + if long { 300 } else { 2 };
                flows.push(Flow {
                    key,
                    first: t,
                    first_ms: (j * 37 % 1000) as u16,
                    last,
                    last_ms: 999,
                    packets: u64::from(j % 5 + 1),
                    octets: u64::from(j * 40 + k),
                    aggs: j % 2,
                });
                t = last + if j % 10 == 9 { 60 } else { 5 };
            }
        }
        flows.sort_by_key(|f| (f.first, f.first_ms));
        flows
    }

    /// The look-ahead only reads the cache: records pushed in groups merge exactly as records
    /// pushed one by one.
    #[test]
    fn push_all_merges_as_push_does() {
        let params = MergeParams::from_seconds(15.0, 300.0).unwrap();
        let flows = records();
        let mut one = Merger::new(params);
        for &f in &flows {
            one.push(f, f.key.hash64());
        }
        one.finish();
        let mut grouped = Merger::new(params);
        for f in flows.chunks(1000) {
            grouped.push_all(f);
        }
        grouped.finish();
        assert!(one.counters.merged > 100, "{}", one.counters);
        one.counters.check().unwrap();
        assert_eq!(grouped.counters, one.counters);
        assert_eq!(grouped.out, one.out);
    }
}
