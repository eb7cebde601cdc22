//! The local file system as DataFusion reads it (`file://`), with a file's metadata and its
//! opening done on the calling thread.
//!
//! object_store's `LocalFileSystem` hands every `head` and `get` to a blocking thread. A table
//! over a collector's day names 288 files: planning its scan asked for the metadata of each
//! (DataFusion heads every listed file), and each scan opened each again, 576 hand-offs that
//! grew tokio's blocking pool by some thirty threads — a fifth of a one-core query over the
//! day, for calls of a few microseconds. [`LocalFiles`] answers a whole-file `get` and a
//! `head` itself (an `open` and an `fstat`); everything else, and every request that fails,
//! goes to `LocalFileSystem`, so errors and all other behaviour are its own.

use async_trait::async_trait;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::execution::runtime_env::RuntimeEnv;
use futures::stream::BoxStream;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{
    Attributes, CopyOptions, GetOptions, GetResult, GetResultPayload, ListResult, MultipartUpload,
    ObjectMeta, ObjectStore, PutMultipartOptions, PutOptions, PutPayload, PutResult, Result,
};
use std::fs::File;
use std::sync::Arc;

/// `LocalFileSystem`, answering whole-file gets and heads on the calling thread.
#[derive(Debug, Default)]
pub struct LocalFiles {
    inner: LocalFileSystem,
}

impl std::fmt::Display for LocalFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LocalFiles({})", self.inner)
    }
}

/// Registers [`LocalFiles`] as `runtime`'s store of `file://` in place of DataFusion's default
/// `LocalFileSystem`; a store the embedding program registered is kept, and so is ours.
pub fn register_local_files(runtime: &RuntimeEnv) {
    let url = ObjectStoreUrl::local_filesystem();
    let default = match runtime.object_store(&url) {
        Ok(store) => store.to_string().starts_with("LocalFileSystem"),
        Err(_) => true,
    };
    if default {
        runtime.register_object_store(url.as_ref(), Arc::new(LocalFiles::default()));
    }
}

impl LocalFiles {
    /// The whole file at `location` opened here, `None` when `options` ask for a range or a
    /// version, or anything fails (`LocalFileSystem` then answers, with its own errors).
    fn open_here(&self, location: &Path, options: &GetOptions) -> Option<GetResult> {
        if options.range.is_some() || options.version.is_some() {
            return None;
        }
        let path = self.inner.path_to_filesystem(location).ok()?;
        let file = File::open(&path).ok()?;
        let metadata = file.metadata().ok().filter(|m| m.is_file())?;
        let meta = ObjectMeta {
            location: location.clone(),
            last_modified: metadata.modified().ok()?.into(),
            size: metadata.len(),
            e_tag: Some(e_tag(&metadata)),
            version: None,
        };
        options.check_preconditions(&meta).ok()?;
        Some(GetResult {
            range: 0..meta.size,
            payload: GetResultPayload::File(file, path),
            attributes: Attributes::default(),
            meta,
        })
    }
}

/// `LocalFileSystem`'s entity tag of a file (inode, modification time in microseconds and
/// size, in hex), so that a tag from either store matches the other's.
fn e_tag(metadata: &std::fs::Metadata) -> String {
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(metadata);
    #[cfg(not(unix))]
    let inode = 0u64;
    let mtime = metadata
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .unwrap_or_default()
        .as_micros();
    format!("{inode:x}-{mtime:x}-{:x}", metadata.len())
}

#[async_trait]
impl ObjectStore for LocalFiles {
    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        match self.open_here(location, &options) {
            Some(got) => Ok(got),
            None => self.inner.get_opts(location, options).await,
        }
    }

    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> Result<PutResult> {
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_ranges(
        &self,
        location: &Path,
        ranges: &[std::ops::Range<u64>],
    ) -> Result<Vec<bytes::Bytes>> {
        self.inner.get_ranges(location, ranges).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    fn list_with_offset(
        &self,
        prefix: Option<&Path>,
        offset: &Path,
    ) -> BoxStream<'static, Result<ObjectMeta>> {
        self.inner.list_with_offset(prefix, offset)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.inner.copy_opts(from, to, options).await
    }

    async fn rename_opts(
        &self,
        from: &Path,
        to: &Path,
        options: object_store::RenameOptions,
    ) -> Result<()> {
        self.inner.rename_opts(from, to, options).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::ObjectStoreExt;

    /// Heads and gets answered here equal `LocalFileSystem`'s; a range, a missing file, a
    /// directory and a failed precondition are its answers too.
    #[tokio::test]
    async fn answers_as_local_file_system() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f"), b"0123456789").unwrap();
        std::fs::create_dir(dir.path().join("d")).unwrap();
        let root = dir.path().canonicalize().unwrap();
        let path = |name: &str| Path::parse(root.join(name).to_str().unwrap()).unwrap();
        let (ours, theirs) = (LocalFiles::default(), LocalFileSystem::new());

        let f = path("f");
        let whole = GetOptions::default();
        assert!(ours.open_here(&f, &whole).is_some());
        assert!(ours.open_here(&path("d"), &whole).is_none());
        let range = GetOptions {
            range: Some((2..5).into()),
            ..Default::default()
        };
        assert!(ours.open_here(&f, &range).is_none());
        assert_eq!(ours.head(&f).await.unwrap(), theirs.head(&f).await.unwrap());
        let got = ours.get(&f).await.unwrap();
        assert!(matches!(got.payload, GetResultPayload::File(..)));
        assert_eq!(got.range, 0..10);
        assert_eq!(got.meta, theirs.head(&f).await.unwrap());
        assert_eq!(got.bytes().await.unwrap().as_ref(), b"0123456789");
        assert_eq!(ours.get_range(&f, 2..5).await.unwrap().as_ref(), b"234");

        for name in ["missing", "d"] {
            let (a, b) = (ours.head(&path(name)).await, theirs.head(&path(name)).await);
            assert!(
                matches!(a, Err(object_store::Error::NotFound { .. })),
                "{a:?}"
            );
            assert_eq!(a.unwrap_err().to_string(), b.unwrap_err().to_string());
        }
        let stale = GetOptions {
            if_match: Some("other".into()),
            ..Default::default()
        };
        let e = ours.get_opts(&f, stale).await.unwrap_err();
        assert!(matches!(e, object_store::Error::Precondition { .. }), "{e}");
    }

    #[test]
    fn replaces_only_the_default() {
        let url = ObjectStoreUrl::local_filesystem();
        let runtime = RuntimeEnv::default();
        register_local_files(&runtime);
        let first = runtime.object_store(&url).unwrap();
        assert!(first.to_string().starts_with("LocalFiles("), "{first}");
        register_local_files(&runtime);
        assert!(Arc::ptr_eq(&first, &runtime.object_store(&url).unwrap()));

        let custom = RuntimeEnv::default();
        let theirs: Arc<dyn ObjectStore> = Arc::new(object_store::memory::InMemory::new());
        custom.register_object_store(url.as_ref(), theirs.clone());
        register_local_files(&custom);
        assert!(Arc::ptr_eq(&theirs, &custom.object_store(&url).unwrap()));
    }
}
