//! The files a file source reads, found one way for all of them: `csv_flow()`, `pipe()`,
//! `nfcapd()`, `nfcapd_info()`, their `register_*`/`read_*` calls and `CREATE EXTERNAL TABLE …
//! STORED AS CSV_FLOW | PIPE | NFCAPD`. A path that does not exist or cannot be read, and a
//! directory or glob without files, are errors naming the source, the path and the reason: an
//! empty table for a mistyped path would be a wrong answer given without a word.

use datafusion::common::{DataFusionError, Result, plan_datafusion_err, plan_err};
use datafusion::datasource::listing::ListingTableUrl;
use std::path::{Path, PathBuf};
use url::Url;

/// One input of a source: a local file, or the URL of another object store (DataFusion lists
/// those; only a local file system can be checked here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    File(PathBuf),
    Remote(String),
}

impl Input {
    pub fn url(&self) -> Result<ListingTableUrl> {
        match self {
            // Not `ListingTableUrl::parse`: it would take a listed file's `[` or `*` for a glob.
            Input::File(f) => {
                // Parsed again to resolve `..` (as DataFusion does), which object stores refuse.
                let url = std::path::absolute(f)
                    .ok()
                    .and_then(|p| Url::from_file_path(p).ok())
                    .and_then(|u| Url::parse(u.as_str()).ok())
                    .ok_or_else(|| plan_datafusion_err!("no URL for {}", f.display()))?;
                ListingTableUrl::try_new(url, None)
            }
            Input::Remote(u) => ListingTableUrl::parse(u),
        }
    }
}

/// The local path a location names (a plain path or a `file://` URL); `None` for a URL of
/// another object store.
pub fn local_path(location: &str) -> Option<PathBuf> {
    match crate::store::remote_url(location) {
        Some(_) => None,
        None => match Url::parse(location) {
            Ok(url) if url.scheme() == "file" => url.to_file_path().ok(),
            _ => Some(PathBuf::from(location)),
        },
    }
}

/// The inputs of source `name` (a function or format name, for messages) at `paths`, each a
/// file, a directory (every file below it, in name order) or a glob; files whose name `skip`
/// accepts are left out.
pub fn inputs<P: AsRef<str>>(
    name: &str,
    paths: &[P],
    skip: fn(&str) -> bool,
) -> Result<Vec<Input>> {
    if paths.is_empty() {
        return plan_err!("{name}: no file or directory given");
    }
    let mut out = Vec::new();
    for p in paths {
        let p = p.as_ref();
        match local_path(p) {
            Some(path) => out.extend(local_files(name, &path, skip)?.into_iter().map(Input::File)),
            // An object's name is filtered as a local file's is (a collector's `.current`).
            None if p.rsplit('/').next().is_some_and(skip) => {}
            None => out.push(Input::Remote(p.to_string())),
        }
    }
    Ok(out)
}

/// The local files at `path`, as [`inputs`] describes.
pub fn local_files(name: &str, path: &Path, skip: fn(&str) -> bool) -> Result<Vec<PathBuf>> {
    let fail = |p: &Path, e: &dyn std::fmt::Display| {
        DataFusionError::Plan(format!("{name}: {}: {e}", p.display()))
    };
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        // A name that does not exist but is a pattern (`dumps/*.csv`) is expanded, as
        // DataFusion's listing would.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && is_glob(path) => {
            let pattern = path.to_string_lossy();
            let matches = glob::glob(&pattern).map_err(|e| fail(path, &e))?;
            let mut files = Vec::new();
            for m in matches {
                let m = m.map_err(|e| fail(path, &e))?;
                files.extend(local_files(name, &m, skip)?);
            }
            if files.is_empty() {
                return plan_err!("{name}: no files match {pattern}");
            }
            return Ok(files);
        }
        Err(e) => return Err(fail(path, &e)),
    };
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    walk(path, skip, &mut files, 64).map_err(|(p, e)| fail(&p, &e))?;
    if files.is_empty() {
        return plan_err!("{name}: no files in directory {}", path.display());
    }
    files.sort();
    Ok(files)
}

fn is_glob(path: &Path) -> bool {
    path.to_string_lossy().contains(['*', '?', '['])
}

/// Every file below `dir` (directory links followed, `levels` deep at most: a link to a parent
/// would recurse for ever); an error carries the path it happened at.
fn walk(
    dir: &Path,
    skip: fn(&str) -> bool,
    files: &mut Vec<PathBuf>,
    levels: usize,
) -> std::result::Result<(), (PathBuf, std::io::Error)> {
    let at = |e| (dir.to_path_buf(), e);
    if levels == 0 {
        return Err(at(std::io::Error::other(
            "too many directory levels (a link to a parent directory?)",
        )));
    }
    for entry in std::fs::read_dir(dir).map_err(at)? {
        let p = entry.map_err(at)?.path();
        if p.is_dir() {
            walk(&p, skip, files, levels - 1)?;
        } else if !p.file_name().and_then(|n| n.to_str()).is_some_and(skip) {
            files.push(p);
        }
    }
    Ok(())
}

/// For sources that skip nothing.
pub fn keep_all(_name: &str) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn error(r: Result<Vec<PathBuf>>) -> String {
        r.expect_err("an error").to_string()
    }

    #[test]
    fn missing_empty_and_nested() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let e = error(local_files("csv_flow", &root.join("nope"), keep_all));
        assert!(
            e.contains("csv_flow: ") && e.contains("nope: No such file or directory"),
            "{e}"
        );
        let e = error(local_files("pipe", root, keep_all));
        assert!(e.contains("pipe: no files in directory"), "{e}");

        fs::create_dir_all(root.join("b/c")).unwrap();
        fs::write(root.join("b/c/2.txt"), "").unwrap();
        fs::write(root.join("a.txt"), "").unwrap();
        fs::write(root.join("b/.nfstat"), "").unwrap();
        let names = |files: Vec<PathBuf>| -> Vec<String> {
            files
                .iter()
                .map(|f| f.strip_prefix(root).unwrap().display().to_string())
                .collect()
        };
        let skip = |n: &str| n == ".nfstat";
        assert_eq!(
            names(local_files("x", root, skip).unwrap()),
            ["a.txt", "b/c/2.txt"]
        );
        assert_eq!(
            names(local_files("x", &root.join("*.txt"), skip).unwrap()),
            ["a.txt"]
        );
        let e = error(local_files("x", &root.join("*.csv"), skip));
        assert!(e.contains("x: no files match"), "{e}");

        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(root, root.join("b/up")).unwrap();
            let e = error(local_files("x", root, skip));
            assert!(e.contains("too many directory levels"), "{e}");
        }
    }

    #[tokio::test]
    async fn a_listed_file_name_is_not_a_pattern() {
        let dir = tempfile::tempdir().unwrap();
        let line = "2, 6, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 1, 2, 100, 0, 101, 0, 1, 40, 1\n";
        fs::write(dir.path().join("[1].csv"), line).unwrap();
        let sub = dir.path().join("sub");
        fs::create_dir(&sub).unwrap();
        fs::write(sub.join("2.csv"), line).unwrap();
        // `..` in a path is resolved, not handed to the object store (which refuses it).
        let dotted = format!("{}/..", sub.display());
        let ctx = datafusion::prelude::SessionContext::new();
        let df = crate::SessionContextFlowExt::read_text_flows(
            &ctx,
            crate::text::LineFormat::CsvFlow,
            &[&dotted],
        )
        .unwrap();
        assert_eq!(df.count().await.unwrap(), 2);
    }

    #[test]
    fn urls_of_other_stores_pass_through() {
        assert_eq!(local_path("s3://bucket/flows"), None);
        assert_eq!(
            local_path("file:///tmp/a%20b"),
            Some(PathBuf::from("/tmp/a b"))
        );
        assert_eq!(local_path("dir/x.csv"), Some(PathBuf::from("dir/x.csv")));
        let inputs = inputs("csv_flow", &["s3://bucket/flows"], keep_all).unwrap();
        assert_eq!(inputs, [Input::Remote("s3://bucket/flows".into())]);
    }
}
