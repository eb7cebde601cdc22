//! Drivers shared by the fuzz targets: each feeds one input to a parser of outside data through
//! the library's public entry points and checks what it promises besides not panicking.

use std::sync::Arc;

pub mod compressed;
pub mod flowbin;
pub mod text;

/// FNV-1a of the input: settings of a run (chunk sizes, batch sizes) derived from the input
/// itself, so that they vary with it without taking bytes away from the parser and stay the same
/// when a crash is replayed.
pub fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The input as text, as `read_to_string` would give it (`None`: not UTF-8, which the readers
/// reject before parsing).
pub fn utf8(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// One task context per batch size, built once (building one costs more than a small input).
pub fn task_context(batch_size: usize) -> Arc<datafusion::execution::TaskContext> {
    use datafusion::execution::TaskContext;
    use datafusion::prelude::SessionConfig;
    use std::sync::OnceLock;
    static CONTEXTS: OnceLock<Vec<Arc<TaskContext>>> = OnceLock::new();
    let contexts = CONTEXTS.get_or_init(|| {
        (1..=16)
            .map(|n| {
                Arc::new(
                    TaskContext::default()
                        .with_session_config(SessionConfig::new().with_batch_size(n)),
                )
            })
            .collect()
    });
    contexts[(batch_size.clamp(1, 16)) - 1].clone()
}
