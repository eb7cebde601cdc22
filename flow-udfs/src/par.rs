//! Work shared out among the cores on rayon's thread pool (the EM steps, the sort's gather).

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
