//! Helpers shared by the CLI test binaries.

use std::path::Path;

/// `path` (relative to the repository root) as an absolute path string.
pub fn repo(path: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path)
        .to_string_lossy()
        .into_owned()
}
