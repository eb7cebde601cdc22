//! Work shared out among the cores with scoped threads (the EM steps, the sort's gather).

/// The cores this process may use (at least 1).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Runs `f(i, &mut items[i])` for every item, each on a scoped thread of its own (on the calling
/// thread when there is one item), and returns the results in item order. A worker's panic is
/// resumed on the caller.
pub fn on_each<B: Send, T: Send>(items: &mut [B], f: impl Fn(usize, &mut B) -> T + Sync) -> Vec<T> {
    if let [only] = items {
        return vec![f(0, only)];
    }
    std::thread::scope(|s| {
        let f = &f;
        let handles: Vec<_> = items
            .iter_mut()
            .enumerate()
            .map(|(i, item)| s.spawn(move || f(i, item)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}
