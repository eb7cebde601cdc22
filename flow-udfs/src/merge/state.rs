//! The merge state machine of flow-models' `merge.py`, over one key-partition of the input:
//! long records wait in a per-key cache for their continuation, the rest go straight out.
//! Records of each key must arrive in (first, first_ms) order (the caller guarantees it).

use super::{Counters, MergeParams};
use datafusion::common::HashMap;
use datafusion::common::hash_map::Entry;

/// The 14 key fields (`af prot inif outif sa0..sa3 da0..da3 sp dp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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

impl Key {
    /// A cheap, well-mixed hash choosing the partition of a key (every record of one key must
    /// land in the same partition; the HashMap uses its own hasher).
    pub fn partition(&self, partitions: usize) -> usize {
        let mut h: u64 = ((self.af as u64) << 56) | ((self.prot as u64) << 48);
        h ^= ((self.inif as u64) << 16) | self.outif as u64;
        h ^= ((self.sp as u64) << 32) | ((self.dp as u64) << 8);
        for w in self.sa.iter().chain(&self.da) {
            h = (h ^ *w as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            h ^= h >> 29;
        }
        (h % partitions as u64) as usize
    }
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
    cache: HashMap<Key, Flow>,
    pub out: Vec<Flow>,
    pub counters: Counters,
    /// (first_t of the latest record, records since the last sweep) for evicting dead candidates.
    now: i64,
    since_sweep: usize,
}

/// How often (in records) the cache is swept of candidates that can no longer be continued.
const SWEEP_EVERY: usize = 1 << 16;

impl Merger {
    pub fn new(params: MergeParams) -> Self {
        Self {
            params,
            cache: HashMap::default(),
            out: Vec::new(),
            counters: Counters::default(),
            now: i64::MIN,
            since_sweep: 0,
        }
    }

    fn emit(out: &mut Vec<Flow>, counters: &mut Counters, flow: Flow) {
        counters.written += 1;
        counters.packets_out += flow.packets as u128;
        counters.octets_out += flow.octets as u128;
        counters.aggs_out += flow.aggs as u128;
        out.push(flow);
    }

    pub fn push(&mut self, mut new: Flow) {
        let c = &mut self.counters;
        new.aggs = new.aggs.max(1);
        c.read += 1;
        c.packets_in += new.packets as u128;
        c.octets_in += new.octets as u128;
        c.aggs_in += new.aggs as u128;
        let short = new.is_short(&self.params);
        match self.cache.entry(new.key) {
            Entry::Occupied(mut e) => {
                let old = e.get_mut();
                if new.first_t() <= old.last_t() {
                    // Overlapping in time: the original drops both; we keep both, unmerged.
                    c.overlapping += 1;
                    let old = e.remove();
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
                        let old = e.remove();
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
        if self.since_sweep >= SWEEP_EVERY {
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
        self.cache.retain(|_, f| {
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
        for (_, f) in self.cache.drain() {
            Self::emit(out, counters, f);
        }
    }
}
