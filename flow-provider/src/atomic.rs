//! Outputs that appear whole or not at all: everything is written under a temporary name in the
//! destination's directory and renamed into place only once complete, so a crash or an error
//! never leaves a half-written file or trace behind.

use datafusion::common::{DataFusionError, Result};
use std::fs;
use std::path::{Path, PathBuf};
use tempfile::{NamedTempFile, TempDir};

fn io_err(what: &str, path: &Path, e: std::io::Error) -> DataFusionError {
    DataFusionError::Execution(format!("{what} {}: {e}", path.display()))
}

fn parent_of(target: &Path) -> Result<PathBuf> {
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(|e| io_err("cannot create directory", &parent, e))?;
    Ok(parent)
}

fn hidden_prefix(target: &Path) -> String {
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    format!(".{name}.tmp")
}

/// A file that becomes `target` on [`AtomicFile::commit`]; dropped uncommitted, it vanishes.
pub struct AtomicFile {
    target: PathBuf,
    temp: NamedTempFile,
}

impl AtomicFile {
    pub fn create(target: &Path) -> Result<Self> {
        let parent = parent_of(target)?;
        let temp = tempfile::Builder::new()
            .prefix(&hidden_prefix(target))
            .tempfile_in(&parent)
            .map_err(|e| io_err("cannot create a temporary file in", &parent, e))?;
        Ok(Self { target: target.to_path_buf(), temp })
    }

    pub fn file(&mut self) -> &mut fs::File {
        self.temp.as_file_mut()
    }

    pub fn commit(self) -> Result<()> {
        self.temp
            .as_file()
            .sync_all()
            .map_err(|e| io_err("cannot sync", self.temp.path(), e))?;
        self.temp
            .persist(&self.target)
            .map_err(|e| io_err("cannot rename into", &self.target, e.error))?;
        Ok(())
    }
}

/// A directory that replaces `target` on [`AtomicDir::commit`]; dropped uncommitted, it and
/// everything in it are removed.
pub struct AtomicDir {
    target: PathBuf,
    temp: TempDir,
}

impl AtomicDir {
    /// `replaceable` decides whether an existing `target` may be replaced (it is given the
    /// existing directory); an existing target it refuses is an error before anything is written.
    pub fn create(target: &Path, replaceable: impl Fn(&Path) -> Result<()>) -> Result<Self> {
        if target.exists() {
            if !target.is_dir() {
                return Err(DataFusionError::Execution(format!(
                    "refusing to replace {}: it is not a directory",
                    target.display()
                )));
            }
            replaceable(target)?;
        }
        let parent = parent_of(target)?;
        let temp = tempfile::Builder::new()
            .prefix(&hidden_prefix(target))
            .tempdir_in(&parent)
            .map_err(|e| io_err("cannot create a temporary directory in", &parent, e))?;
        Ok(Self { target: target.to_path_buf(), temp })
    }

    pub fn path(&self) -> &Path {
        self.temp.path()
    }

    /// Moves the finished directory into place. An existing target is first renamed aside and
    /// removed only after the new one is in place, so readers see either the old or the new.
    pub fn commit(self) -> Result<()> {
        let dir = self.temp.keep();
        if let Ok(d) = fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        let old = if self.target.exists() {
            let old = dir.with_extension("old");
            fs::rename(&self.target, &old)
                .map_err(|e| io_err("cannot move aside", &self.target, e))?;
            Some(old)
        } else {
            None
        };
        if let Err(e) = fs::rename(&dir, &self.target) {
            if let Some(old) = &old {
                let _ = fs::rename(old, &self.target);
            }
            let _ = fs::remove_dir_all(&dir);
            return Err(io_err("cannot rename into", &self.target, e));
        }
        if let Some(old) = old {
            fs::remove_dir_all(&old).map_err(|e| io_err("cannot remove", &old, e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn file_appears_only_on_commit() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.csv");
        let mut f = AtomicFile::create(&target).unwrap();
        f.file().write_all(b"x").unwrap();
        assert!(!target.exists());
        drop(f);
        assert!(!target.exists());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0, "temporary file removed");
        let mut f = AtomicFile::create(&target).unwrap();
        f.file().write_all(b"y").unwrap();
        f.commit().unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"y");
    }

    #[test]
    fn dir_replaces_old_or_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("trace");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("old.Q"), b"").unwrap();
        let d = AtomicDir::create(&target, |_| Ok(())).unwrap();
        fs::write(d.path().join("new.Q"), b"").unwrap();
        drop(d);
        assert!(target.join("old.Q").exists(), "abandoned write leaves the old trace");
        let d = AtomicDir::create(&target, |_| Ok(())).unwrap();
        fs::write(d.path().join("new.Q"), b"").unwrap();
        d.commit().unwrap();
        assert!(target.join("new.Q").exists() && !target.join("old.Q").exists());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "no leftovers");
    }
}
