//! Outputs that appear whole or not at all: everything is written under a temporary name in the
//! destination's directory and renamed into place only once complete, so a crash or an error
//! never leaves a half-written file or trace behind.

use crate::FlowError;
use crate::store::Object;
use crate::upload::{SyncUpload, Upload};
use datafusion::common::{DataFusionError, Result};
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use tempfile::{NamedTempFile, TempDir};

fn io_err(what: &'static str, path: &Path, e: std::io::Error) -> DataFusionError {
    FlowError::io(what, path, e).into()
}

fn parent_of(target: &Path) -> Result<PathBuf> {
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(|e| io_err("cannot create directory", &parent, e))?;
    Ok(parent)
}

/// Temporaries of `target` are named `.NAME.tmp-PID-XXXXXX` (PID: the writing process) and
/// locked (`flock`) while written, so that a later write can tell a killed writer's leftovers
/// from a live writer's work.
fn temp_prefix(target: &Path) -> String {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!(".{name}.tmp-")
}

/// The directory a temporary of `target` goes in (created if missing), and the name prefix of
/// this process's temporaries; the temporaries of dead writers are removed first.
fn prepare(target: &Path) -> Result<(PathBuf, String)> {
    // `s3://b/p` is no local directory `s3:/b/p`.
    if let Some(s) = target.to_str() {
        crate::store::local_only("writing", s)?;
    }
    let parent = parent_of(target)?;
    remove_stale_temporaries(&parent, target);
    Ok((
        parent,
        format!("{}{}-", temp_prefix(target), std::process::id()),
    ))
}

/// Removes the temporaries of `target` (in `parent`) left by writers that died (killed, or the
/// machine went down): those whose process is gone and whose lock nobody holds. Returns what
/// was removed.
fn remove_stale_temporaries(parent: &Path, target: &Path) -> Vec<PathBuf> {
    let prefix = temp_prefix(target);
    let Ok(entries) = fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(&prefix)) else {
            continue;
        };
        let pid = pid.split('-').next().and_then(|p| p.parse::<u32>().ok());
        let path = entry.path();
        if pid.is_none_or(process_alive) || !lock_is_free(&path) {
            continue;
        }
        let gone = match entry.file_type() {
            Ok(t) if t.is_dir() => fs::remove_dir_all(&path),
            _ => fs::remove_file(&path),
        };
        if gone.is_ok() {
            removed.push(path);
        }
    }
    removed
}

/// Whether process `pid` runs on this machine (where that cannot be known: assumed so for
/// another process, so nothing of a live writer's is removed).
fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true
    }
}

/// Whether nobody holds the lock of file or directory `path` (a writer holds it while it
/// writes; the lock goes with its process).
fn lock_is_free(path: &Path) -> bool {
    fs::File::open(path).is_ok_and(|f| f.try_lock().is_ok())
}

/// Takes the lock of the temporary at `path` through `file`, its open handle.
fn lock(file: &fs::File, path: &Path) -> Result<()> {
    file.try_lock()
        .map_err(|e| io_err("cannot lock", path, e.into()))
}

/// Makes the output directory `dir` (and its parents) when missing. A URL needs nothing: an
/// object store has no directories (and `s3://b/p` is never the local directory `s3:/b/p`).
pub fn ensure_dir(dir: &Path) -> Result<()> {
    if dir.to_str().and_then(crate::store::remote_url).is_some() {
        return Ok(());
    }
    fs::create_dir_all(dir).map_err(|e| io_err("cannot create directory", dir, e))
}

/// Writes `bytes` as the file `target`, atomically (an [`AtomicFile`] written and committed).
pub fn write(target: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = AtomicFile::create(target)?;
    file.write_all(bytes)
        .map_err(|e| FlowError::io("cannot write", target, e))?;
    file.commit()
}

/// A file that becomes `target` on [`AtomicFile::commit`]; dropped uncommitted, it vanishes.
/// A target that is a device or a FIFO (`/dev/stdout`, a named pipe) is written directly: it
/// cannot be replaced by a rename (that would put a regular file in its place), and what went
/// into it cannot be taken back. A target that is an object-store URL (`s3://bucket/key`, see
/// [`crate::store`]; the store made from the environment) is uploaded as it is written and
/// appears only when the upload completes on commit.
pub struct AtomicFile {
    target: PathBuf,
    out: Output,
}

enum Output {
    Temp(NamedTempFile),
    Special(fs::File),
    Remote(Box<SyncUpload>),
}

impl AtomicFile {
    pub fn create(target: &Path) -> Result<Self> {
        if let Some(object) = Object::from_env(target)? {
            let upload = Upload::new(&object, object.key.clone());
            return Ok(Self {
                target: target.to_path_buf(),
                out: Output::Remote(Box::new(SyncUpload(upload))),
            });
        }
        let special = fs::metadata(target).is_ok_and(|m| !m.is_file() && !m.is_dir());
        if special {
            let file = fs::OpenOptions::new()
                .write(true)
                .open(target)
                .map_err(|e| io_err("cannot open", target, e))?;
            return Ok(Self {
                target: target.to_path_buf(),
                out: Output::Special(file),
            });
        }
        let (parent, prefix) = prepare(target)?;
        let temp = tempfile::Builder::new()
            .prefix(&prefix)
            .permissions(fs::Permissions::from_mode(0o666))
            .tempfile_in(&parent)
            .map_err(|e| io_err("cannot create a temporary file in", &parent, e))?;
        lock(temp.as_file(), temp.path())?;
        Ok(Self {
            target: target.to_path_buf(),
            out: Output::Temp(temp),
        })
    }

    fn out(&mut self) -> &mut dyn Write {
        match &mut self.out {
            Output::Temp(temp) => temp.as_file_mut(),
            Output::Special(file) => file,
            Output::Remote(upload) => upload.as_mut(),
        }
    }

    /// `e`, saying which output it happened to.
    fn named(&self, e: std::io::Error) -> std::io::Error {
        std::io::Error::new(e.kind(), format!("writing {}: {e}", self.target.display()))
    }

    pub fn commit(self) -> Result<()> {
        let temp = match self.out {
            Output::Temp(temp) => temp,
            Output::Special(mut file) => {
                return file
                    .flush()
                    .map_err(|e| io_err("cannot write", &self.target, e));
            }
            Output::Remote(upload) => return upload.commit(),
        };
        temp.as_file()
            .sync_all()
            .map_err(|e| io_err("cannot write", &self.target, e))?;
        temp.persist(&self.target)
            .map_err(|e| io_err("cannot rename into", &self.target, e.error))?;
        Ok(())
    }
}

/// Errors name the output (`writing out.csv: No space left on device`).
impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let result = self.out().write(buf);
        result.map_err(|e| self.named(e))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let result = self.out().flush();
        result.map_err(|e| self.named(e))
    }
}

/// A directory that replaces `target` on [`AtomicDir::commit`]; dropped uncommitted, it and
/// everything in it are removed.
pub struct AtomicDir {
    target: PathBuf,
    temp: TempDir,
    /// The open directory, whose lock marks it as being written.
    _lock: fs::File,
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
        let (parent, prefix) = prepare(target)?;
        let temp = tempfile::Builder::new()
            .prefix(&prefix)
            .permissions(fs::Permissions::from_mode(0o777))
            .tempdir_in(&parent)
            .map_err(|e| io_err("cannot create a temporary directory in", &parent, e))?;
        let dir = fs::File::open(temp.path()).map_err(|e| io_err("cannot open", temp.path(), e))?;
        lock(&dir, temp.path())?;
        Ok(Self {
            target: target.to_path_buf(),
            temp,
            _lock: dir,
        })
    }

    pub fn path(&self) -> &Path {
        self.temp.path()
    }

    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Moves the finished directory into place. An existing target is exchanged with the new
    /// one in a single rename where the file system can (Linux `RENAME_EXCHANGE`), so readers
    /// and a crash see either the old or the new; elsewhere it is first renamed aside.
    pub fn commit(self) -> Result<()> {
        let dir = self.temp.keep();
        if let Ok(d) = fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        if self.target.exists() && exchange(&dir, &self.target).is_ok() {
            // `dir` now holds the old trace.
            return fs::remove_dir_all(&dir).map_err(|e| io_err("cannot remove", &dir, e));
        }
        let old = if self.target.exists() {
            let mut old = dir.clone().into_os_string();
            old.push("-old");
            let old = PathBuf::from(old);
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

/// Swaps `a` and `b` in one step.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(std::io::Error::from)
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::FileTypeExt;

    /// The process's umask, from /proc (Linux).
    fn umask() -> u32 {
        let status = fs::read_to_string("/proc/self/status").unwrap();
        let line = status.lines().find(|l| l.starts_with("Umask:")).unwrap();
        u32::from_str_radix(line[6..].trim(), 8).unwrap()
    }

    /// Outputs get the permissions any new file or directory gets (0666 / 0777 less the umask),
    /// not the owner-only mode of a temporary file: a histogram or trace written for others to
    /// read must be readable by them.
    #[test]
    fn outputs_have_the_usual_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let (file, trace) = (dir.path().join("h.csv"), dir.path().join("trace"));
        let mut f = AtomicFile::create(&file).unwrap();
        f.write_all(b"bin_lo\n").unwrap();
        f.commit().unwrap();
        AtomicDir::create(&trace, |_| Ok(()))
            .unwrap()
            .commit()
            .unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&file), 0o666 & !umask());
        assert_eq!(mode(&trace), 0o777 & !umask());
    }

    /// A device is written, never replaced by a regular file: `/dev/null` takes the output,
    /// `/dev/full` refuses it with the device's error, and both stay devices.
    #[test]
    fn a_device_is_written_not_replaced() {
        let mut f = AtomicFile::create(Path::new("/dev/null")).unwrap();
        f.write_all(b"flows\n").unwrap();
        f.commit().unwrap();
        if let Ok(mut f) = AtomicFile::create(Path::new("/dev/full")) {
            let e = f.write_all(&[b'x'; 1 << 16]).and_then(|_| f.flush());
            let e = e.unwrap_err().to_string();
            assert!(
                e.contains("writing /dev/full") && e.contains("No space left"),
                "{e}"
            );
            assert!(
                fs::metadata("/dev/full")
                    .unwrap()
                    .file_type()
                    .is_char_device()
            );
        }
        assert!(
            fs::metadata("/dev/null")
                .unwrap()
                .file_type()
                .is_char_device()
        );
    }

    #[test]
    fn file_appears_only_on_commit() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.csv");
        let mut f = AtomicFile::create(&target).unwrap();
        f.write_all(b"x").unwrap();
        assert!(!target.exists());
        drop(f);
        assert!(!target.exists());
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            0,
            "temporary file removed"
        );
        let mut f = AtomicFile::create(&target).unwrap();
        f.write_all(b"y").unwrap();
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
        assert!(
            target.join("old.Q").exists(),
            "abandoned write leaves the old trace"
        );
        let d = AtomicDir::create(&target, |_| Ok(())).unwrap();
        fs::write(d.path().join("new.Q"), b"").unwrap();
        d.commit().unwrap();
        assert!(target.join("new.Q").exists() && !target.join("old.Q").exists());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "no leftovers");
    }

    /// A PID that no process has (Linux's PIDs stay below 2^22).
    const DEAD: u32 = 4_194_304 + 17;

    #[test]
    fn only_dead_writers_temporaries_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("trace");
        let stale_dir = dir.path().join(format!(".trace.tmp-{DEAD}-abc"));
        fs::create_dir(&stale_dir).unwrap();
        fs::write(stale_dir.join("octets.Q"), b"12345678").unwrap();
        let stale_file = dir.path().join(format!(".trace.tmp-{DEAD}-def"));
        fs::write(&stale_file, b"x").unwrap();
        // A dead PID but a lock held (a writer of another machine on a shared file system).
        let locked = dir.path().join(format!(".trace.tmp-{DEAD}-ghi"));
        fs::write(&locked, b"x").unwrap();
        let holder = fs::File::open(&locked).unwrap();
        holder.lock().unwrap();
        // A live process's (ours), and names that are not our temporaries.
        let live = dir
            .path()
            .join(format!(".trace.tmp-{}-jkl", std::process::id()));
        fs::write(&live, b"x").unwrap();
        let others = [".trace.tmpold", ".other.tmp-1-x", "trace.tmp-1-x"];
        for name in others {
            fs::write(dir.path().join(name), b"x").unwrap();
        }
        let mut removed = remove_stale_temporaries(dir.path(), &target);
        removed.sort();
        assert_eq!(removed, vec![stale_dir.clone(), stale_file.clone()]);
        assert!(!stale_dir.exists() && !stale_file.exists());
        assert!(locked.exists() && live.exists());
        assert!(others.iter().all(|n| dir.path().join(n).exists()));
        drop(holder);
        assert_eq!(remove_stale_temporaries(dir.path(), &target), vec![locked]);
    }

    #[test]
    fn a_write_cleans_up_and_locks_its_own_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.csv");
        let stale = dir.path().join(format!(".out.csv.tmp-{DEAD}-abc"));
        fs::write(&stale, b"partial").unwrap();
        let f = AtomicFile::create(&target).unwrap();
        assert!(
            !stale.exists(),
            "the next write removes a dead writer's temporary"
        );
        let Output::Temp(temp) = &f.out else {
            panic!("a regular file is written under a temporary name")
        };
        let name = temp
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(name.starts_with(&format!(".out.csv.tmp-{}-", std::process::id())));
        assert!(!lock_is_free(temp.path()), "locked while written");
        let d = AtomicDir::create(&dir.path().join("t"), |_| Ok(())).unwrap();
        assert!(!lock_is_free(d.path()));
        assert!(remove_stale_temporaries(dir.path(), &target).is_empty());
    }

    #[test]
    fn a_replaced_trace_is_exchanged_in_one_rename() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("trace");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("old.Q"), b"").unwrap();
        // A reader's open handle on the old trace sees the old files after the exchange.
        let old = fs::File::open(target.join("old.Q")).unwrap();
        let d = AtomicDir::create(&target, |_| Ok(())).unwrap();
        fs::write(d.path().join("new.Q"), b"").unwrap();
        d.commit().unwrap();
        assert!(target.join("new.Q").exists() && !target.join("old.Q").exists());
        assert!(old.metadata().is_ok());
        let left: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "only the trace");
    }
}
