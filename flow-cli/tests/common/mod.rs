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

/// Runs the `flow-models` binary with `args`.
#[allow(dead_code)] // Not every test binary runs it through here.
pub fn flow_models(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_flow-models"))
        .args(args)
        .output()
        .expect("run flow-models")
}
