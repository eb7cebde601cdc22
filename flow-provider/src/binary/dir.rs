//! Discovery of flow-models binary traces: which files of a directory are columns, with their
//! types and lengths, validated up front so a bad trace fails at planning with the file named.

use crate::fields::{dtype_to_arrow, standard_position};
use datafusion::common::{DataFusionError, Result};
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

/// One column file of a trace, e.g. `_sa0.I` → field `sa0`, type code `I`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnFile {
    pub field: String,
    pub dtype: char,
    pub path: PathBuf,
}

impl ColumnFile {
    /// Bytes per value of this column's type code.
    pub fn width(&self) -> usize {
        dtype_width(self.dtype)
    }
}

/// A directory holding one flow trace: its column files (standard fields first, in canonical
/// order, then the others by name) and the common row count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceDir {
    pub path: PathBuf,
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

/// Splits a file name of the form `{field}.{dtype}` or `_{field}.{dtype}` into field name and
/// type code; `None` for anything else (such files are ignored).
pub fn parse_file_name(name: &str) -> Option<(&str, char)> {
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
        if let Some((field, code)) = parse_file_name(name) {
            files.push(ColumnFile {
                field: field.to_string(),
                dtype: code,
                path,
            });
        } else if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            subdirs.push(path);
        }
    }
    if !files.is_empty() {
        traces.push(scan_trace(dir, files)?);
        return Ok(());
    }
    subdirs.sort();
    for sub in subdirs {
        collect(&sub, traces)?;
    }
    Ok(())
}

/// Validates the column files of one directory and computes its row count.
fn scan_trace(dir: &Path, mut columns: Vec<ColumnFile>) -> Result<TraceDir> {
    columns.sort_by(|a, b| {
        let key = |c: &ColumnFile| {
            (
                standard_position(&c.field).unwrap_or(usize::MAX),
                c.field.clone(),
            )
        };
        key(a).cmp(&key(b)).then_with(|| a.path.cmp(&b.path))
    });
    let mut seen: HashMap<&str, &Path> = HashMap::new();
    for c in &columns {
        if let Some(first) = seen.insert(&c.field, &c.path) {
            return Err(error(format!(
                "flowbin: {}: field '{}' is stored twice: {} and {}",
                dir.display(),
                c.field,
                file_name(first),
                file_name(&c.path)
            )));
        }
    }
    let mut rows: Option<(usize, &ColumnFile)> = None;
    for c in &columns {
        let len = column_len(c)?;
        match rows {
            None => rows = Some((len, c)),
            Some((n, other)) if n != len => {
                return Err(error(format!(
                    "flowbin: {}: columns differ in length: {} has {n} rows, {} has {len} rows",
                    dir.display(),
                    file_name(&other.path),
                    file_name(&c.path)
                )));
            }
            Some(_) => {}
        }
    }
    let rows = rows.map(|(n, _)| n).unwrap_or(0);
    Ok(TraceDir {
        path: dir.to_path_buf(),
        columns,
        rows,
    })
}

/// Row count of one column file, checking that it is a readable regular file whose size is a
/// whole number of values.
fn column_len(c: &ColumnFile) -> Result<usize> {
    let cannot = |e: std::io::Error| -> DataFusionError {
        crate::FlowError::io("cannot read", &c.path, e).into()
    };
    let meta = fs::metadata(&c.path).map_err(cannot)?;
    if !meta.is_file() {
        return Err(error(format!(
            "flowbin: {} is not a regular file",
            c.path.display()
        )));
    }
    fs::File::open(&c.path).map_err(cannot)?;
    let size = meta.len();
    let width = c.width() as u64;
    if size % width != 0 {
        return Err(error(format!(
            "flowbin: {}: size {size} bytes is not a multiple of {width} (the width of type '{}')",
            c.path.display(),
            c.dtype
        )));
    }
    usize::try_from(size / width)
        .map_err(|_| error(format!("flowbin: {}: file too large", c.path.display())))
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        assert_eq!(parse_file_name("packets.Q"), Some(("packets", 'Q')));
        assert_eq!(parse_file_name("_sa0.I"), Some(("sa0", 'I')));
        assert_eq!(parse_file_name("rate.d"), Some(("rate", 'd')));
        assert_eq!(parse_file_name("x.l"), Some(("x", 'l')));
        assert_eq!(parse_file_name("README.md"), None);
        assert_eq!(parse_file_name("packets.Z"), None);
        assert_eq!(parse_file_name("packets"), None);
        assert_eq!(parse_file_name("_.Q"), None);
        assert_eq!(parse_file_name(".Q"), None);
    }
}
