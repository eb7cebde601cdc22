//! Object stores for URLs given as paths (`s3://bucket/prefix`, `gs://…`, `az://…`,
//! `http(s)://…`).
//!
//! `CREATE EXTERNAL TABLE … LOCATION 's3://…'` gets its store from DataFusion's SQL layer; a
//! path handed to a table function (`csv_flow('s3://…')`) or to a subcommand does not, so the
//! store for its bucket is made here from the environment, as datafusion-cli users configure
//! it: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`,
//! `AWS_ENDPOINT_URL` (or `AWS_ENDPOINT`), `AWS_ALLOW_HTTP` (object_store's `from_env`
//! builders; `GOOGLE_*` for gs://; `AZURE_*` for az://, e.g. `AZURE_STORAGE_ACCOUNT_NAME`,
//! `AZURE_STORAGE_ACCOUNT_KEY`, `AZURE_STORAGE_ENDPOINT`). A store registered before (by SQL or the embedding program)
//! is kept.
//!
//! A location with any other scheme is an error: it must never be taken for a local path
//! (`s3://b/p` as the directory `s3:/b/p`).

use datafusion::common::{DataFusionError, Result};
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::execution::runtime_env::RuntimeEnv;
use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::http::HttpBuilder;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt};
use std::sync::{Arc, OnceLock};
use url::Url;

/// The URL of a location naming an object store, `None` for a local path or `file://` URL.
pub fn remote_url(location: &str) -> Option<Url> {
    match Url::parse(location) {
        // A one-letter scheme is a Windows drive, not a URL.
        Ok(url) if url.scheme().len() > 1 && url.scheme() != "file" => Some(url),
        _ => None,
    }
}

fn err(url: &Url, msg: impl std::fmt::Display) -> DataFusionError {
    DataFusionError::Plan(format!("{url}: {msg}"))
}

/// A store for `url`'s bucket (or host) from the environment.
fn store_from_env(url: &Url) -> Result<Arc<dyn ObjectStore>> {
    let bucket = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| err(url, "no bucket in the URL"))?;
    let store: Arc<dyn ObjectStore> = match url.scheme() {
        "s3" | "s3a" => Arc::new(
            AmazonS3Builder::from_env()
                .with_bucket_name(bucket)
                .build()
                .map_err(|e| err(url, e))?,
        ),
        "gs" => Arc::new(
            GoogleCloudStorageBuilder::from_env()
                .with_bucket_name(bucket)
                .build()
                .map_err(|e| err(url, e))?,
        ),
        // az://container/…, and the abfs(s):// and azure:// forms object_store parses.
        "az" | "azure" | "abfs" | "abfss" => Arc::new(
            MicrosoftAzureBuilder::from_env()
                .with_url(url.as_str())
                .build()
                .map_err(|e| err(url, e))?,
        ),
        "http" | "https" => {
            let base = format!("{}://{}", url.scheme(), url.authority());
            Arc::new(
                HttpBuilder::new()
                    .with_url(base)
                    .build()
                    .map_err(|e| err(url, e))?,
            )
        }
        other => {
            return Err(err(
                url,
                format!(
                    "unsupported URL scheme '{other}' (s3://, gs://, az://, http(s):// or a local path)"
                ),
            ));
        }
    };
    Ok(store)
}

/// Makes sure `runtime` has a store for `location` when it is a URL (see the module docs);
/// a local path needs nothing.
pub fn ensure_store(runtime: &RuntimeEnv, location: &str) -> Result<()> {
    let Some(url) = remote_url(location) else {
        return Ok(());
    };
    // `scheme://bucket`: the part of a URL a store is registered under.
    let root = ObjectStoreUrl::parse(format!("{}://{}", url.scheme(), url.authority()))?;
    if runtime.object_store(&root).is_ok() {
        return Ok(());
    }
    runtime.register_object_store(root.as_ref(), store_from_env(&url)?);
    Ok(())
}

/// [`ensure_store`] for several locations.
pub fn ensure_stores<P: AsRef<str>>(runtime: &RuntimeEnv, locations: &[P]) -> Result<()> {
    locations
        .iter()
        .try_for_each(|l| ensure_store(runtime, l.as_ref()))
}

/// An object (or prefix) of a store, resolved from a URL.
#[derive(Debug, Clone)]
pub struct Object {
    /// The URL as given, for messages.
    pub url: Url,
    /// `scheme://bucket`, the part the store is registered under.
    pub root: String,
    pub store: Arc<dyn ObjectStore>,
    pub key: ObjectPath,
}

impl Object {
    /// The object a `location` names in `runtime`'s stores (made from the environment when
    /// missing); `None` for a local path.
    pub fn resolve(runtime: &RuntimeEnv, location: &str) -> Result<Option<Object>> {
        let Some(url) = remote_url(location) else {
            return Ok(None);
        };
        ensure_store(runtime, location)?;
        let root = format!("{}://{}", url.scheme(), url.authority());
        let store = runtime.object_store(ObjectStoreUrl::parse(&root)?)?;
        let key = ObjectPath::from_url_path(url.path()).map_err(|e| err(&url, e))?;
        Ok(Some(Object {
            url,
            root,
            store,
            key,
        }))
    }

    /// The object `path` names when it is a URL, its store made from the environment (for the
    /// callers that have no session: the library's writers, small files); `None` for a local
    /// path.
    pub fn from_env(path: &std::path::Path) -> Result<Option<Object>> {
        match path.to_str() {
            Some(location) => Object::resolve(&RuntimeEnv::default(), location),
            None => Ok(None),
        }
    }

    /// The object `url` names in the same store (another key of it).
    pub fn at_url(&self, url: &str) -> Result<Object> {
        let parsed = Url::parse(url).map_err(|e| err(&self.url, e))?;
        let key = ObjectPath::from_url_path(parsed.path()).map_err(|e| err(&parsed, e))?;
        Ok(Object {
            url: parsed,
            root: self.root.clone(),
            store: self.store.clone(),
            key,
        })
    }

    /// The URL of `key` in the same store.
    pub fn url_of(&self, key: &ObjectPath) -> String {
        format!("{}/{key}", self.root)
    }

    /// Every object below the key as a prefix or, when there is none, the object itself.
    pub fn list(&self) -> Result<Vec<ObjectMeta>> {
        use futures::TryStreamExt;
        let (store, key) = (self.store.clone(), self.key.clone());
        // The prefix first: a HEAD of a "directory" key is an error, not "not found", on
        // some servers (s3s-fs answers 500, which the client retries for seconds).
        block_on(async move {
            let below: Vec<ObjectMeta> = store.list(Some(&key)).try_collect().await?;
            if !below.is_empty() {
                return Ok(below);
            }
            match store.head(&key).await {
                Ok(meta) => Ok(vec![meta]),
                Err(object_store::Error::NotFound { .. }) => Ok(Vec::new()),
                Err(e) => Err(e),
            }
        })?
        .map_err(|e| err(&self.url, e))
    }
}

/// The objects each location names, as URLs: a remote location is the object itself or, when
/// no object has that name, every object below it as a prefix (in name order, subdirectories
/// included, as a local directory is read); a local path is returned as it is. A remote
/// location naming nothing is an error naming the source and the URL, as a missing local path
/// is: an empty table for a mistyped URL would be a wrong answer. Listing, as DataFusion's own
/// listing tables do, happens when the table is made.
pub fn expand_remote<P: AsRef<str>>(
    runtime: &RuntimeEnv,
    name: &str,
    locations: &[P],
) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for location in locations {
        let location = location.as_ref();
        let Some(object) = Object::resolve(runtime, location)? else {
            out.push(location.to_string());
            continue;
        };
        let fail = |e: &dyn std::fmt::Display| {
            DataFusionError::Plan(format!("{name}: {}: {e}", object.url))
        };
        let mut found: Vec<_> = object
            .list()
            .map_err(|e| fail(&e))?
            .into_iter()
            .map(|m| m.location)
            .collect();
        if found.is_empty() {
            return Err(fail(&"no such object, and no object below it"));
        }
        found.sort();
        out.extend(found.iter().map(|k| object.url_of(k)));
    }
    Ok(out)
}

/// The text of a small file (a csv_hist, a mixture's JSON), local or an object (the store from
/// the environment); the error as `std::fs::read_to_string` gives it, for the caller to name
/// the file.
pub fn read_to_string(path: &std::path::Path) -> std::io::Result<String> {
    let Some(object) = Object::from_env(path).map_err(std::io::Error::other)? else {
        return std::fs::read_to_string(path);
    };
    let bytes = block_on(async {
        let got = object.store.get(&object.key).await?;
        got.bytes().await
    })
    .map_err(std::io::Error::other)?
    .map_err(|e| match e {
        object_store::Error::NotFound { .. } => {
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such object")
        }
        e => std::io::Error::other(e),
    })?;
    String::from_utf8(bytes.to_vec())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

/// Whether `path` is a directory: locally as the file system says; in an object store when
/// objects lie below it as a prefix and no object has its name.
pub fn is_dir(path: &std::path::Path) -> bool {
    match Object::from_env(path) {
        Ok(Some(object)) => object
            .list()
            .is_ok_and(|found| found.iter().any(|m| m.location != object.key)),
        Ok(None) => path.is_dir(),
        Err(_) => false,
    }
}

/// The entries of the directory `path`, as paths (URLs for an object store: the objects
/// directly below the prefix), in name order.
pub fn dir_entries(path: &std::path::Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let Some(object) = Object::from_env(path).map_err(std::io::Error::other)? else {
        let mut entries = std::fs::read_dir(path)?
            .map(|e| e.map(|e| e.path()))
            .collect::<std::io::Result<Vec<_>>>()?;
        entries.sort();
        return Ok(entries);
    };
    let (store, key) = (object.store.clone(), object.key.clone());
    let listed = block_on(async move { store.list_with_delimiter(Some(&key)).await })
        .map_err(std::io::Error::other)?
        .map_err(std::io::Error::other)?;
    let mut entries: Vec<_> = listed
        .objects
        .iter()
        .map(|m| std::path::PathBuf::from(object.url_of(&m.location)))
        .collect();
    entries.sort();
    Ok(entries)
}

/// Runs `f` to completion on the process's object-store I/O runtime and waits for it, from
/// any thread: table functions are made synchronously (possibly on a worker thread of the
/// caller's runtime, where `Handle::block_on` is not allowed), and writers write from blocking
/// threads. The runtime is made once, with two threads, and lives as long as the process, so
/// connections pooled by a store never outlive the runtime that opened them.
pub fn block_on<F: std::future::Future>(f: F) -> Result<F::Output> {
    let _context = io_runtime()?.enter();
    Ok(futures::executor::block_on(f))
}

/// Starts `f` on the object-store I/O runtime without waiting for it.
pub fn spawn<F: std::future::Future<Output = ()> + Send + 'static>(f: F) {
    if let Ok(runtime) = io_runtime() {
        runtime.spawn(f);
    }
}

fn io_runtime() -> Result<&'static tokio::runtime::Runtime> {
    static RUNTIME: OnceLock<std::io::Result<tokio::runtime::Runtime>> = OnceLock::new();
    let runtime = RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("flow-models-io")
            .enable_all()
            .build()
    });
    runtime.as_ref().map_err(|e| {
        DataFusionError::Execution(format!("cannot start the object-store I/O runtime: {e}"))
    })
}

/// An error for a source or sink that works on local files only, given a URL.
pub fn local_only(what: &str, location: &str) -> Result<()> {
    match remote_url(location) {
        Some(url) => Err(DataFusionError::Plan(format!(
            "{what}: {url}: object stores are not supported here yet (local paths only)"
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_not_local_paths() {
        assert!(remote_url("s3://bucket/trace").is_some());
        assert!(remote_url("gs://bucket/trace").is_some());
        assert!(remote_url("data/trace").is_none());
        assert!(remote_url("/abs/trace").is_none());
        assert!(remote_url("file:///abs/trace").is_none());
        assert!(remote_url("C:/trace").is_none());
    }

    #[test]
    fn stores_are_made_once_and_unknown_schemes_refused() {
        let rt = RuntimeEnv::default();
        ensure_store(&rt, "s3://flows/t1").unwrap();
        let url = ObjectStoreUrl::parse("s3://flows").unwrap();
        let first = rt.object_store(&url).unwrap();
        ensure_store(&rt, "s3://flows/t2/packets.Q").unwrap();
        assert!(Arc::ptr_eq(&first, &rt.object_store(&url).unwrap()));
        let e = ensure_store(&rt, "ftp://host/x").unwrap_err().to_string();
        assert!(
            e.contains("ftp://host/x") && e.contains("unsupported URL scheme"),
            "{e}"
        );
        let e = local_only("flowbin", "s3://flows/t1")
            .unwrap_err()
            .to_string();
        assert!(e.contains("flowbin: s3://flows/t1"), "{e}");
    }
}
