// Writing a fit as the original's `save()` meant to: `{y}.json` and `{y}.mode` in a directory,
// each written atomically (flow-models 2.2 crashes here; see the README).

use crate::mixture::Mixture;
use crate::mixture::json::{ModeArgs, mixture_to_json, mode_to_json};
use datafusion::common::Result;
use flow_provider::FlowError;
use flow_provider::atomic::AtomicFile;
use std::io::Write;
use std::path::{Path, PathBuf};

fn write_atomic(path: &Path, text: &str) -> Result<()> {
    let mut f = AtomicFile::create(path)?;
    f.file()
        .write_all(text.as_bytes())
        .map_err(|e| FlowError::io("cannot write", path, e))?;
    f.commit()
}

/// Writes `{dir}/{y}.json` (the mixture with its sum) and `{dir}/{y}.mode` (the fit
/// arguments); returns the two paths. Both texts are made before anything is written, so a
/// mixture that cannot be written (a non-finite value) leaves no file behind.
pub fn save(dir: &Path, mix: &Mixture, mode: &ModeArgs) -> Result<(PathBuf, PathBuf)> {
    let json = mixture_to_json(mix)? + "\n";
    let mode_text = mode_to_json(mode)? + "\n";
    let json_path = dir.join(format!("{}.json", mode.y_value));
    let mode_path = dir.join(format!("{}.mode", mode.y_value));
    write_atomic(&json_path, &json)?;
    write_atomic(&mode_path, &mode_text)?;
    Ok((json_path, mode_path))
}
