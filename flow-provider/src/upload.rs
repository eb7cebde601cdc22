//! Writing to object stores: one object uploaded as it is written ([`Upload`]: a single PUT
//! when small, a multipart upload otherwise, its parts sent concurrently), visible at its key
//! only once complete, as a local file appears only when renamed into place. The synchronous
//! writers (csv_flow, Parquet, binary columns) drive it through [`crate::store::block_on`].

use crate::store::{Object, block_on, spawn};
use bytes::Bytes;
use datafusion::common::{DataFusionError, Result};
use object_store::buffered::BufWriter;
use object_store::path::Path as ObjectPath;
use tokio::io::AsyncWriteExt;

/// Part size of multipart uploads (and the size up to which an object is sent in one PUT).
const PART_BYTES: usize = 10 << 20;

fn upload_err(url: &str, e: impl std::fmt::Display) -> DataFusionError {
    DataFusionError::Execution(format!("writing {url}: {e}"))
}

/// An object being written. Dropped unfinished, its upload is aborted: nothing appears.
pub struct Upload {
    url: String,
    writer: Option<BufWriter>,
}

impl Upload {
    /// A new object at `key` of `object`'s store.
    pub fn new(object: &Object, key: ObjectPath) -> Self {
        Self {
            url: object.url_of(&key),
            writer: Some(BufWriter::with_capacity(
                object.store.clone(),
                key,
                PART_BYTES,
            )),
        }
    }

    fn writer(&mut self) -> Result<&mut BufWriter> {
        let url = &self.url;
        self.writer
            .as_mut()
            .ok_or_else(|| upload_err(url, "already finished"))
    }

    pub async fn write(&mut self, bytes: Bytes) -> Result<()> {
        let url = self.url.clone();
        self.writer()?
            .put(bytes)
            .await
            .map_err(|e| upload_err(&url, e))
    }

    /// Completes the upload: only now does the object appear at its key.
    pub async fn finish(&mut self) -> Result<()> {
        let url = self.url.clone();
        self.writer()?
            .shutdown()
            .await
            .map_err(|e| upload_err(&url, e))?;
        self.writer = None;
        Ok(())
    }

    /// Abandons the upload (the parts sent so far are deleted by the store).
    pub async fn abort(&mut self) {
        if let Some(mut w) = self.writer.take() {
            let _ = w.abort().await;
        }
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if let Some(mut w) = self.writer.take() {
            // Not waited for (a drop may happen inside `block_on`); should the process end
            // first, the unfinished upload still never becomes an object.
            spawn(async move {
                let _ = w.abort().await;
            });
        }
    }
}

/// An [`Upload`] written through `std::io::Write`, for the writers that take one (csv_flow
/// text, Parquet). Each write is sent on; callers buffer (`BufWriter` of 1 MiB).
pub struct SyncUpload(pub Upload);

impl std::io::Write for SyncUpload {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        block_on(self.0.write(Bytes::copy_from_slice(buf)))
            .and_then(|r| r)
            .map_err(std::io::Error::other)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl SyncUpload {
    pub fn commit(mut self) -> Result<()> {
        block_on(self.0.finish())?
    }
}
