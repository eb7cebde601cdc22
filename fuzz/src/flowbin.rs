//! The binary trace scanner over directory layouts made from the input: file and directory
//! names, file sizes and symbolic links are created in a scratch directory (on /dev/shm where
//! there is one), the scanner looks for traces there, and what it found is read back.
//!
//! The input is lines (at most [`MAX_LINES`]); names are bytes, `/` separates directories, and
//! components that are empty, `.`, `..` or longer than a file name can be are skipped, so
//! nothing is made outside the scratch directory:
//! - `PATH SIZE`: a file of SIZE (decimal, modulo 64 KiB) zero bytes,
//! - `PATH/`: a directory,
//! - `PATH @TARGET`: a symbolic link to TARGET (a path relative to the link's directory),
//! - `>PATH`: scan PATH (several give several roots; none: the scratch directory itself).

use datafusion::catalog::TableProvider;
use flow_provider::binary::FlowBinTable;
use flow_provider::binary::scan::scan_plan;
use futures::StreamExt;
use futures::executor::block_on;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const MAX_LINES: usize = 48;
const MAX_SIZE: u64 = 64 * 1024;

/// A fresh, empty scratch directory of this process.
fn scratch() -> PathBuf {
    let base = std::env::var_os("FLOW_FUZZ_TMP")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let shm = Path::new("/dev/shm");
            if shm.is_dir() {
                shm.to_path_buf()
            } else {
                std::env::temp_dir()
            }
        });
    let dir = base.join(format!("flowbin-fuzz-{}", std::process::id()));
    match fs::remove_dir_all(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => panic!("cannot clear {}: {e}", dir.display()),
    }
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

/// `bytes` as a relative path of acceptable components (`None`: some component is not).
fn relative(bytes: &[u8]) -> Option<PathBuf> {
    let mut path = PathBuf::new();
    for part in bytes.split(|&b| b == b'/') {
        if part.is_empty() || part == b"." || part == b".." || part.len() > 255 || part.contains(&0)
        {
            return None;
        }
        path.push(OsStr::from_bytes(part));
    }
    Some(path)
}

/// Makes the layout the input describes under `root`; returns the roots to scan.
fn build(root: &Path, data: &[u8]) -> Vec<PathBuf> {
    let mut roots = Vec::new();
    for line in data.split(|&b| b == b'\n').take(MAX_LINES) {
        if let Some(rest) = line.strip_prefix(b">") {
            if rest.is_empty() {
                roots.push(root.to_path_buf());
            } else if let Some(p) = relative(rest) {
                roots.push(root.join(p));
            }
            continue;
        }
        if let Some(dir) = line.strip_suffix(b"/") {
            if let Some(p) = relative(dir) {
                let _ = fs::create_dir_all(root.join(p));
            }
            continue;
        }
        let Some(space) = line.iter().rposition(|&b| b == b' ') else {
            continue;
        };
        let (name, spec) = (&line[..space], &line[space + 1..]);
        let Some(path) = relative(name).map(|p| root.join(p)) else {
            continue;
        };
        if let Some(parent) = path.parent()
            && fs::create_dir_all(parent).is_err()
        {
            continue;
        }
        if let Some(target) = spec.strip_prefix(b"@") {
            if let Some(t) = relative(target) {
                let _ = std::os::unix::fs::symlink(t, &path);
            }
            continue;
        }
        let Some(size) = std::str::from_utf8(spec)
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
        else {
            continue;
        };
        if let Ok(f) = fs::File::create(&path) {
            let _ = f.set_len(size % MAX_SIZE);
        }
    }
    if roots.is_empty() {
        roots.push(root.to_path_buf());
    }
    roots
}

/// Builds the layout, scans it and checks the outcome: an error that says it is flowbin's, or
/// traces whose files have the sizes their row counts claim and whose rows all read back.
pub fn scan_layout(data: &[u8]) {
    let root = scratch();
    let roots = build(&root, data);
    let table = match FlowBinTable::try_new(&roots) {
        Ok(t) => t,
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains("flowbin"), "error without its source: {msg}");
            return;
        }
    };
    for trace in table.traces() {
        for c in &trace.columns {
            let path = c.location.local("fuzz").expect("a local trace");
            let size = fs::metadata(path).expect("a found column exists").len();
            assert_eq!(size, c.bytes, "{}", c.location);
            assert_eq!(size, (trace.rows * c.width()) as u64, "{}", c.location);
        }
    }
    let h = crate::fnv(data);
    let limit = (h & 1 == 1).then_some(((h >> 1) % 4096) as usize);
    let partitions = 1 + ((h >> 13) % 4) as usize;
    let batch_size = 1 + ((h >> 17) % 16) as usize;
    let exec = scan_plan(
        Arc::new(table.traces().to_vec()),
        Arc::default(),
        table.schema(),
        None,
        limit,
        partitions,
    )
    .expect("a scan of found traces");
    let expected = limit.map_or(table.num_rows(), |l| l.min(table.num_rows()));
    let partitions = exec.properties().partitioning.partition_count();
    let mut rows = 0;
    for p in 0..partitions {
        let mut stream = exec
            .execute(p, crate::task_context(batch_size))
            .expect("execute");
        while let Some(batch) = block_on(stream.next()) {
            let batch = batch.unwrap_or_else(|e| panic!("reading a found trace failed: {e}"));
            assert!(batch.num_rows() <= batch_size);
            rows += batch.num_rows();
        }
    }
    assert_eq!(rows, expected, "rows read back");
}
