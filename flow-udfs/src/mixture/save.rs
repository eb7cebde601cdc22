// Writing a fit as the original's `save()` meant to: `{y}.json` and `{y}.mode` in a directory,
// each written atomically (flow-models 2.2 crashes here; see the README).

use crate::mixture::Mixture;
use crate::mixture::json::{ModeArgs, mixture_to_json, mode_to_json};
use datafusion::common::Result;
use flow_provider::atomic;
use std::path::{Path, PathBuf};

/// Writes `{dir}/{y}.json` (the mixture with its sum) and `{dir}/{y}.mode` (the fit
/// arguments); returns the two paths. Both texts are made before anything is written, so a
/// mixture that cannot be written (a non-finite value) leaves no file behind.
pub fn save(dir: &Path, mix: &Mixture, mode: &ModeArgs) -> Result<(PathBuf, PathBuf)> {
    let json = mixture_to_json(mix)? + "\n";
    let mode_text = mode_to_json(mode)? + "\n";
    let json_path = dir.join(format!("{}.json", mode.y_value));
    let mode_path = dir.join(format!("{}.mode", mode.y_value));
    atomic::write(&json_path, json.as_bytes())?;
    atomic::write(&mode_path, mode_text.as_bytes())?;
    Ok((json_path, mode_path))
}
