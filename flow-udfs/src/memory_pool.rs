//! The memory pool behind `--memory-limit`: DataFusion's fair spill pool, except that the
//! operators that can spill (sorts) share the limit minus a headroom that only the others
//! (merges, hash tables) may use.
//!
//! Why: DataFusion 55's external sort gives its merge pre-reservation back to the pool just
//! before it merges the batches it is about to spill, then asks for merge memory again. Under
//! `FairSpillPool` the other partitions' sorters may take those bytes in between (their fair
//! share grows as soon as unspillable memory shrinks), and the merge fails with "Failed to
//! allocate additional … for ExternalSorterMerge" although the query would fit (apache/datafusion
//! #24739, fixed after 55). Keeping a headroom out of the sorters' reach leaves that merge its
//! room; the total never exceeds the limit.

use datafusion::common::{Result, human_readable_size, resources_datafusion_err};
use datafusion::execution::memory_pool::{
    MemoryConsumer, MemoryLimit, MemoryPool, MemoryReservation,
};
use std::fmt;
use std::sync::Mutex;

/// The fraction of the limit kept out of the spilling operators' reach (one eighth).
const HEADROOM_SHIFT: u32 = 3;

/// A pool of `limit` bytes: consumers that cannot spill are served first come, first served up
/// to the limit; those that can spill each get at most an equal share of what is left of the
/// limit minus the headroom (see the module's documentation).
#[derive(Debug)]
pub struct HeadroomPool {
    limit: usize,
    headroom: usize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    spillers: usize,
    spillable: usize,
    unspillable: usize,
}

impl State {
    /// The bytes in use by the consumers of `r`'s kind (spilling or not).
    fn used(&mut self, r: &MemoryReservation) -> &mut usize {
        match r.consumer().can_spill() {
            true => &mut self.spillable,
            false => &mut self.unspillable,
        }
    }
}

impl HeadroomPool {
    /// A pool of `limit` bytes keeping `limit / 8` for the consumers that cannot spill.
    pub fn new(limit: usize) -> Self {
        Self::with_headroom(limit, limit >> HEADROOM_SHIFT)
    }

    /// A pool of `limit` bytes keeping `headroom` of them for the consumers that cannot spill.
    pub fn with_headroom(limit: usize, headroom: usize) -> Self {
        Self {
            limit,
            headroom: headroom.min(limit),
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves plain counters: still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl fmt::Display for HeadroomPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}(pool_size: {}, kept from spilling operators: {})",
            self.name(),
            human_readable_size(self.limit),
            human_readable_size(self.headroom)
        )
    }
}

impl MemoryPool for HeadroomPool {
    fn name(&self) -> &str {
        "fair"
    }

    fn register(&self, consumer: &MemoryConsumer) {
        if consumer.can_spill() {
            self.state().spillers += 1;
        }
    }

    fn unregister(&self, consumer: &MemoryConsumer) {
        if consumer.can_spill() {
            let mut state = self.state();
            state.spillers = state.spillers.saturating_sub(1);
        }
    }

    fn grow(&self, reservation: &MemoryReservation, additional: usize) {
        *self.state().used(reservation) += additional;
    }

    fn shrink(&self, reservation: &MemoryReservation, shrink: usize) {
        let mut state = self.state();
        let used = state.used(reservation);
        *used = used.saturating_sub(shrink);
    }

    fn try_grow(&self, reservation: &MemoryReservation, additional: usize) -> Result<()> {
        let mut state = self.state();
        let available = if reservation.consumer().can_spill() {
            let for_spillers = (self.limit - self.headroom).saturating_sub(state.unspillable);
            let share = for_spillers / state.spillers.max(1);
            let free = for_spillers.saturating_sub(state.spillable);
            share.saturating_sub(reservation.size()).min(free)
        } else {
            self.limit
                .saturating_sub(state.spillable + state.unspillable)
        };
        if additional > available {
            return Err(resources_datafusion_err!(
                "Failed to allocate additional {} for {} with {} already allocated for this \
                 reservation - {} remain available for the total memory pool: {}",
                human_readable_size(additional),
                reservation.consumer().name(),
                human_readable_size(reservation.size()),
                human_readable_size(available),
                self
            ));
        }
        *state.used(reservation) += additional;
        Ok(())
    }

    fn reserved(&self) -> usize {
        let state = self.state();
        state.spillable + state.unspillable
    }

    fn memory_limit(&self) -> MemoryLimit {
        MemoryLimit::Finite(self.limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn pool(limit: usize, headroom: usize) -> Arc<dyn MemoryPool> {
        Arc::new(HeadroomPool::with_headroom(limit, headroom))
    }

    fn consumer(pool: &Arc<dyn MemoryPool>, name: &str, spill: bool) -> MemoryReservation {
        MemoryConsumer::new(name)
            .with_can_spill(spill)
            .register(pool)
    }

    #[test]
    fn spillers_share_the_limit_minus_the_headroom_and_the_others_get_the_rest() {
        let pool = pool(100, 20);
        let a = consumer(&pool, "a", true);
        let b = consumer(&pool, "b", true);
        a.try_grow(40).unwrap();
        assert!(a.try_grow(1).is_err(), "a's share is (100 - 20) / 2");
        b.try_grow(40).unwrap();
        assert!(b.try_grow(1).is_err());
        let merge = consumer(&pool, "merge", false);
        merge.try_grow(20).unwrap();
        let err = merge.try_grow(1).unwrap_err().to_string();
        assert!(
            err.contains("for merge") && err.contains("fair(pool_size: 100.0 B"),
            "{err}"
        );
        assert_eq!(pool.reserved(), 100);
        assert!(matches!(pool.memory_limit(), MemoryLimit::Finite(100)));
    }

    /// DataFusion's sort: a merge pre-reservation given back while the other partition's
    /// sorter asks for more cannot end with the merge finding nothing left.
    #[test]
    fn memory_given_back_by_a_merge_stays_out_of_the_sorters_reach() {
        let pool = pool(64, 8);
        let (sort_a, sort_b) = (
            consumer(&pool, "sort a", true),
            consumer(&pool, "sort b", true),
        );
        let (merge_a, merge_b) = (
            consumer(&pool, "merge a", false),
            consumer(&pool, "merge b", false),
        );
        merge_a.try_grow(10).unwrap();
        merge_b.try_grow(10).unwrap();
        sort_a.try_grow(18).unwrap();
        sort_b.try_grow(18).unwrap();
        merge_a.free();
        // b's share grew to (64 - 8 - 10) / 2 = 23: it takes 5 more, not the whole 10.
        assert!(sort_b.try_grow(6).is_err());
        sort_b.try_grow(5).unwrap();
        merge_a.try_grow(8).unwrap();
        assert_eq!(pool.reserved(), 59);
    }

    #[test]
    fn shares_follow_the_number_of_spillers_and_grow_and_shrink_balance() {
        let pool = pool(90, 0);
        let a = consumer(&pool, "a", true);
        a.try_grow(90).unwrap();
        a.shrink(60);
        let b = consumer(&pool, "b", true);
        let c = consumer(&pool, "c", true);
        assert!(b.try_grow(31).is_err());
        b.try_grow(30).unwrap();
        c.grow(30);
        drop(c);
        assert_eq!(pool.reserved(), 60);
        assert!(a.try_grow(16).is_err(), "two spillers left: shares of 45");
        a.try_grow(15).unwrap();
    }
}
