//! Discovery of flow-models binary traces: which files of a directory (or objects under a
//! prefix of an object store) are columns, with their types and lengths, validated up front so
//! a bad trace fails at planning with the file named.
//!
//! Directories whose name starts with a dot are not searched: they are hidden, and they are
//! where writers put a trace while it is written (`.trace.tmp-…`), which must never be read
//! as a trace of its own.

use super::compressed::{self, Codec, Compression};
use crate::fields::{dtype_to_arrow, standard_position};
use crate::store::Object;
use datafusion::common::{DataFusionError, Result};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

/// Where a trace or a column file is: a local path, or the URL of an object store's object
/// (or prefix). Plain data, so scans that hold it can be shipped to other processes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum Location {
    Local(PathBuf),
    Remote(String),
}

impl Location {
    /// The local path, or an error saying that `what` reads local traces only.
    pub fn local(&self, what: &str) -> Result<&Path> {
        match self {
            Location::Local(p) => Ok(p),
            Location::Remote(url) => Err(error(format!(
                "{what}: {url}: object stores are not supported here yet (local traces only)"
            ))),
        }
    }

    /// The last component: the file or directory name.
    pub fn name(&self) -> String {
        match self {
            Location::Local(p) => p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            Location::Remote(url) => url
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or("")
                .to_string(),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Local(p) => write!(f, "{}", p.display()),
            Location::Remote(url) => f.write_str(url),
        }
    }
}

/// One column file of a trace, e.g. `_sa0.I` → field `sa0`, type code `I`, with its size
/// (on disk: compressed for `octets.Q.zst`, whose compression is then described).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ColumnFile {
    pub field: String,
    pub dtype: char,
    pub location: Location,
    pub bytes: u64,
    #[serde(default)]
    pub compression: Option<Compression>,
}

impl ColumnFile {
    /// Bytes per value of this column's type code.
    pub fn width(&self) -> usize {
        dtype_width(self.dtype)
    }
}

/// A directory holding one flow trace: its column files (standard fields first, in canonical
/// order, then the others by name) and the common row count.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TraceDir {
    pub location: Location,
    pub columns: Vec<ColumnFile>,
    pub rows: usize,
}

impl TraceDir {
    pub fn column(&self, field: &str) -> Option<&ColumnFile> {
        self.columns.iter().find(|c| c.field == field)
    }
}

pub(crate) fn dtype_width(code: char) -> usize {
    dtype_to_arrow(code)
        .and_then(|t| t.primitive_width())
        .unwrap_or(0)
}

fn error(msg: String) -> DataFusionError {
    DataFusionError::Execution(msg)
}

/// Splits a file name of the form `{field}.{dtype}` or `_{field}.{dtype}`, either followed by
/// a compression's extension (`.zst`, `.gz`, `.xz`, `.bz2`, `.lz4`), into field name, type
/// code and codec; `None` for anything else (such files are ignored).
pub fn parse_file_name(name: &str) -> Option<(&str, char, Option<Codec>)> {
    let (rest, codec) = match name.rsplit_once('.') {
        Some((rest, ext)) => match Codec::from_ext(ext) {
            Some(codec) => (rest, Some(codec)),
            None => (name, None),
        },
        None => (name, None),
    };
    let (field, code) = parse_plain_name(rest)?;
    Some((field, code, codec))
}

/// [`parse_file_name`] of an uncompressed column's name.
fn parse_plain_name(name: &str) -> Option<(&str, char)> {
    let (stem, ext) = name.rsplit_once('.')?;
    let mut chars = ext.chars();
    let code = chars.next()?;
    if chars.next().is_some() || dtype_to_arrow(code).is_none() {
        return None;
    }
    let field = stem.strip_prefix('_').unwrap_or(stem);
    (!field.is_empty()).then_some((field, code))
}

/// Finds the traces at `root`: `root` itself when it holds column files, otherwise every
/// directory below it that does (sorted by path, so `day-01 … day-30` come in order).
pub fn discover(root: &Path) -> Result<Vec<TraceDir>> {
    let meta =
        fs::metadata(root).map_err(|e| error(format!("flowbin: {}: {e}", root.display())))?;
    if !meta.is_dir() {
        return Err(error(format!(
            "flowbin: {} is not a directory",
            root.display()
        )));
    }
    let mut traces = Vec::new();
    collect(root, &mut traces)?;
    if traces.is_empty() {
        return Err(error(format!(
            "flowbin: {} holds no flow-models column files ({{field}}.{{dtype}}, e.g. packets.Q) \
             in it or in any sub-directory",
            root.display()
        )));
    }
    Ok(traces)
}

fn collect(dir: &Path, traces: &mut Vec<TraceDir>) -> Result<()> {
    let read = fs::read_dir(dir).map_err(|e| error(format!("flowbin: {}: {e}", dir.display())))?;
    let mut files = Vec::new();
    let mut subdirs = Vec::new();
    for entry in read {
        let entry = entry.map_err(|e| error(format!("flowbin: {}: {e}", dir.display())))?;
        let path = entry.path();
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some((field, code, codec)) = parse_file_name(name) {
            let compression = match codec {
                Some(codec) => Some(Compression::probe(codec, &path)?),
                None => None,
            };
            files.push(ColumnFile {
                field: field.to_string(),
                dtype: code,
                bytes: file_size(&path)?,
                location: Location::Local(path),
                compression,
            });
        } else if !name.starts_with('.') && entry.file_type().is_ok_and(|t| t.is_dir()) {
            subdirs.push(path);
        }
    }
    if !files.is_empty() {
        traces.push(scan_trace(Location::Local(dir.to_path_buf()), files, None)?);
        return Ok(());
    }
    subdirs.sort();
    for sub in subdirs {
        collect(&sub, traces)?;
    }
    Ok(())
}

/// The traces below the prefix `object` names in an object store, found as [`discover`] finds
/// them on disk: the prefix itself when it holds column files, otherwise every "directory"
/// (key prefix up to a `/`) below it that does, in name order, not those below a trace.
/// Sizes come from the listing; nothing is read.
pub fn discover_remote(object: &Object) -> Result<Vec<TraceDir>> {
    let fail = |e: &dyn fmt::Display| error(format!("flowbin: {}: {e}", object.url));
    let prefix = object.key.as_ref();
    let mut dirs: BTreeMap<String, Vec<ColumnFile>> = BTreeMap::new();
    for meta in object.list().map_err(|e| fail(&e))? {
        let key = meta.location.as_ref();
        let Some(relative) = key.strip_prefix(prefix) else {
            continue;
        };
        let (dir, name) = match relative.trim_start_matches('/').rsplit_once('/') {
            Some((dir, name)) => (dir, name),
            None => ("", relative.trim_start_matches('/')),
        };
        if dir.split('/').any(|part| part.starts_with('.')) {
            continue; // hidden, or a trace being written
        }
        if let Some((field, code, codec)) = parse_file_name(name) {
            let url = object.url_of(&meta.location);
            let compression = codec
                .map(|c| {
                    Compression::probe_remote(c, &object.store, &meta.location, meta.size, &url)
                })
                .transpose()?;
            dirs.entry(dir.to_string()).or_default().push(ColumnFile {
                field: field.to_string(),
                dtype: code,
                location: Location::Remote(url),
                bytes: meta.size,
                compression,
            });
        }
    }
    let mut traces: Vec<TraceDir> = Vec::new();
    let mut taken: Vec<String> = Vec::new();
    for (dir, columns) in dirs {
        // A directory below a trace is not a trace of its own (as on disk).
        if taken
            .iter()
            .any(|t| t.is_empty() || dir.starts_with(&format!("{t}/")))
        {
            continue;
        }
        let url = match dir.as_str() {
            "" => object.url.to_string(),
            d => format!("{}/{d}", object.url.as_str().trim_end_matches('/')),
        };
        traces.push(scan_trace(Location::Remote(url), columns, Some(object))?);
        taken.push(dir);
    }
    if traces.is_empty() {
        return Err(fail(
            &"no flow-models column files ({field}.{dtype}, e.g. packets.Q) below it",
        ));
    }
    Ok(traces)
}

/// Validates the column files of one directory and computes its row count (`store`: the
/// object store of a remote trace).
fn scan_trace(
    dir: Location,
    mut columns: Vec<ColumnFile>,
    store: Option<&Object>,
) -> Result<TraceDir> {
    columns.sort_by(|a, b| {
        let key = |c: &ColumnFile| {
            (
                standard_position(&c.field).unwrap_or(usize::MAX),
                c.field.clone(),
            )
        };
        key(a)
            .cmp(&key(b))
            .then_with(|| a.location.cmp(&b.location))
    });
    let mut seen: HashMap<&str, &Location> = HashMap::new();
    for c in &columns {
        if let Some(first) = seen.insert(&c.field, &c.location) {
            return Err(error(format!(
                "flowbin: {dir}: field '{}' is stored twice: {} and {}",
                c.field,
                first.name(),
                c.location.name()
            )));
        }
    }
    let mut rows: Option<(usize, &ColumnFile)> = None;
    for c in &columns {
        let Some(len) = column_len(c)? else {
            continue; // compressed, its length unknown until read: checked by the scan
        };
        match rows {
            None => rows = Some((len, c)),
            Some((n, other)) if n != len => {
                return Err(error(format!(
                    "flowbin: {dir}: columns differ in length: {} has {n} rows, {} has {len} rows",
                    other.location.name(),
                    c.location.name()
                )));
            }
            Some(_) => {}
        }
    }
    // Every column compressed without saying its length: one is decompressed to count.
    let unknown = columns
        .iter()
        .find_map(|c| Some((c, c.compression.as_ref()?)));
    let rows = match (rows, unknown) {
        (Some((n, _)), _) => n,
        (None, Some((c, compression))) => values(c, compressed::measure(c, compression, store)?)?,
        (None, None) => 0,
    };
    Ok(TraceDir {
        location: dir,
        columns,
        rows,
    })
}

/// Size of a local column file, checking that it is a readable regular file.
fn file_size(path: &Path) -> Result<u64> {
    let cannot = |e: std::io::Error| -> DataFusionError {
        crate::FlowError::io("cannot read", path, e).into()
    };
    let meta = fs::metadata(path).map_err(cannot)?;
    if !meta.is_file() {
        return Err(error(format!(
            "flowbin: {} is not a regular file",
            path.display()
        )));
    }
    fs::File::open(path).map_err(cannot)?;
    Ok(meta.len())
}

/// Row count of one column file, checking that its size is a whole number of values; `None`
/// for a compressed file that does not tell its decompressed size.
fn column_len(c: &ColumnFile) -> Result<Option<usize>> {
    match &c.compression {
        None => values(c, c.bytes).map(Some),
        Some(z) => z.len.map(|len| values(c, len)).transpose(),
    }
}

/// The values in `bytes` bytes of column `c`, checking that they are a whole number.
fn values(c: &ColumnFile, bytes: u64) -> Result<usize> {
    let width = c.width() as u64;
    if !bytes.is_multiple_of(width) {
        let size = match c.compression {
            Some(_) => "decompressed size",
            None => "size",
        };
        return Err(error(format!(
            "flowbin: {}: {size} {bytes} bytes is not a multiple of {width} (the width of type \
             '{}')",
            c.location, c.dtype
        )));
    }
    usize::try_from(bytes / width)
        .map_err(|_| error(format!("flowbin: {}: file too large", c.location)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        assert_eq!(parse_file_name("packets.Q"), Some(("packets", 'Q', None)));
        assert_eq!(parse_file_name("_sa0.I"), Some(("sa0", 'I', None)));
        assert_eq!(parse_file_name("rate.d"), Some(("rate", 'd', None)));
        assert_eq!(parse_file_name("x.l"), Some(("x", 'l', None)));
        let zst = Some(Codec::Zstd);
        assert_eq!(parse_file_name("octets.Q.zst"), Some(("octets", 'Q', zst)));
        assert_eq!(
            parse_file_name("_sa0.I.bz2"),
            Some(("sa0", 'I', Some(Codec::Bzip2)))
        );
        assert_eq!(
            parse_file_name("first.I.gz").map(|p| p.2),
            Some(Some(Codec::Gzip))
        );
        assert_eq!(
            parse_file_name("first.I.xz").map(|p| p.2),
            Some(Some(Codec::Xz))
        );
        assert_eq!(
            parse_file_name("first.I.lz4").map(|p| p.2),
            Some(Some(Codec::Lz4))
        );
        assert_eq!(parse_file_name("first.I.zip"), None);
        assert_eq!(parse_file_name("octets.zst"), None);
        assert_eq!(parse_file_name("notes.txt.gz"), None);
        assert_eq!(parse_file_name("README.md"), None);
        assert_eq!(parse_file_name("packets.Z"), None);
        assert_eq!(parse_file_name("packets"), None);
        assert_eq!(parse_file_name("_.Q"), None);
        assert_eq!(parse_file_name(".Q"), None);
    }
}
