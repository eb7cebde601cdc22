//! Work shared out among the cores: rayon's thread pool (the sort's gather) and teams of spinning
//! threads (the EM loop).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// The cores this process may use (at least 1).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Runs `f(i, &mut items[i])` for every item on rayon's thread pool (on the calling thread when
/// there is one item) and returns the results in item order. A worker's panic is resumed on the
/// caller.
pub fn on_each<B: Send, T: Send>(items: &mut [B], f: impl Fn(usize, &mut B) -> T + Sync) -> Vec<T> {
    use rayon::prelude::*;
    if let [only] = items {
        return vec![f(0, only)];
    }
    items
        .par_iter_mut()
        .with_max_len(1)
        .enumerate()
        .map(|(i, item)| f(i, item))
        .collect()
}

/// One of the threads of a [`team`]: its number (the caller is 0) and the team's barrier.
pub struct Member<'a> {
    pub index: usize,
    pub size: usize,
    barrier: &'a SpinBarrier,
}

impl Member<'_> {
    /// Waits until every member has reached this call (the same number of times). Members
    /// spin, so a team suits many short steps (the EM loop: three meetings per iteration, each
    /// after a fraction of a millisecond of work, where putting threads to sleep and waking them
    /// cost more than the work). Panics if another member panicked, so that nobody waits for it
    /// forever.
    pub fn wait(&self) {
        self.barrier.wait();
    }
}

/// Runs `f` on `size` threads at once, the calling thread being member 0, and returns each
/// member's result in member order. A member's panic reaches the caller.
pub fn team<R: Send>(size: usize, f: impl Fn(&Member) -> R + Sync) -> Vec<R> {
    let barrier = SpinBarrier::new(size.max(1));
    let run = |index| {
        let _poison = PoisonOnPanic(&barrier.poisoned);
        f(&Member {
            index,
            size: barrier.size,
            barrier: &barrier,
        })
    };
    std::thread::scope(|s| {
        let others: Vec<_> = (1..barrier.size).map(|i| s.spawn(move || run(i))).collect();
        let mut out = vec![run(0)];
        for h in others {
            out.push(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        }
        out
    })
}

/// Spins this many times (tens of microseconds) before yielding the core while waiting at a
/// barrier, so that a team sharing the cores with other busy threads still moves on.
const SPINS_BEFORE_YIELD: u32 = 1 << 11;

struct SpinBarrier {
    size: usize,
    arrived: AtomicUsize,
    generation: AtomicUsize,
    poisoned: AtomicBool,
}

impl SpinBarrier {
    fn new(size: usize) -> Self {
        SpinBarrier {
            size,
            arrived: AtomicUsize::new(0),
            generation: AtomicUsize::new(0),
            poisoned: AtomicBool::new(false),
        }
    }

    fn wait(&self) {
        let generation = self.generation.load(Ordering::Acquire);
        if self.arrived.fetch_add(1, Ordering::AcqRel) + 1 == self.size {
            // The last to arrive opens the next round (the count is reset before anyone can
            // pass this one and arrive at the next).
            self.arrived.store(0, Ordering::Relaxed);
            self.generation.fetch_add(1, Ordering::Release);
            return;
        }
        let mut spins = 0u32;
        while self.generation.load(Ordering::Acquire) == generation {
            assert!(
                !self.poisoned.load(Ordering::Relaxed),
                "another thread of the team panicked"
            );
            if spins < SPINS_BEFORE_YIELD {
                std::hint::spin_loop();
                spins += 1;
            } else {
                std::thread::yield_now();
            }
        }
    }
}

/// Marks the team's barrier poisoned when its member unwinds.
struct PoisonOnPanic<'a>(&'a AtomicBool);

impl Drop for PoisonOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.store(true, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn team_members_meet_at_the_barrier_in_every_round() {
        let counter = AtomicUsize::new(0);
        let seen = team(3, |m| {
            let mut seen = Vec::new();
            for round in 0..1000 {
                counter.fetch_add(1, Ordering::SeqCst);
                m.wait();
                // Everyone has counted this round and nobody the next one.
                seen.push(counter.load(Ordering::SeqCst) == 3 * (round + 1));
                m.wait();
            }
            (m.index, seen.iter().all(|&ok| ok))
        });
        assert_eq!(seen, vec![(0, true), (1, true), (2, true)]);
    }

    #[test]
    fn a_members_panic_reaches_the_caller_instead_of_hanging_the_team() {
        let r = std::panic::catch_unwind(|| {
            team(2, |m| {
                if m.index == 1 {
                    panic!("member 1 fails");
                }
                m.wait();
            })
        });
        assert!(r.is_err());
    }
}
