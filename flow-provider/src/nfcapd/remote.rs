//! nfcapd objects in a store, read by one GET streamed from the start (header, blocks, layout 2
//! appendix), received a few parts ahead of the decoder on the runtime: a file is fetched once,
//! in one request, with memory bounded by those parts. An object is read whole by one
//! partition (the scan does not split objects into byte ranges: see
//! `FlowSource::repartitioned`).

use crate::FlowError;
use bytes::{Bytes, BytesMut};
use datafusion::common::runtime::SpawnedTask;
use datafusion::common::{DataFusionError, Result};
use datafusion::datasource::listing::ListingTableUrl;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::physical_plan::metrics::Count;
use futures::stream::{self, BoxStream, StreamExt};
use nfcapd_decode::{FileInfo, NfError, read_appendix};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use std::ops::Range;
use std::sync::Arc;

/// The streamed body is handed to the decoder in parts of at least this size (a part
/// usually holds many blocks, which nfdump writes of ~200 KiB, 5 MiB at most).
const PART: usize = 4 << 20;
/// Parts read ahead of the decoder: with the part being received and the decoder's window,
/// what a scan holds of a file is about this many parts plus three.
const AHEAD: usize = 3;

/// An object of a store read by ranges; its errors name its URL and the offset.
pub(super) struct RemoteFile {
    store: Arc<dyn ObjectStore>,
    location: Path,
    pub url: String,
    /// The size listed for it: reading less is an error, not a shorter file.
    pub size: u64,
    /// Where the bytes read are counted (a scan's `file_bytes`).
    fetched: Count,
}

impl RemoteFile {
    pub fn new(
        store: Arc<dyn ObjectStore>,
        location: Path,
        url: String,
        size: u64,
        fetched: Count,
    ) -> Self {
        Self {
            store,
            location,
            url,
            size,
            fetched,
        }
    }

    /// The object at `url` (one object, as `store::expand_remote` lists them), through the
    /// store `runtime` has for it.
    pub async fn open(runtime: &RuntimeEnv, url: &str) -> Result<Self> {
        let parsed = ListingTableUrl::parse(url)?;
        let store = runtime.object_store(parsed.object_store())?;
        let location = parsed.prefix().clone();
        let mut file = Self::new(store, location, url.into(), 0, Count::new());
        let meta = file.store.head(&file.location).await;
        file.size = meta.map_err(|e| file.read_error(0, e))?.size;
        Ok(file)
    }

    /// The bytes of `range`, all of them.
    pub async fn read(&self, range: Range<u64>) -> Result<Bytes> {
        let bytes = self
            .store
            .get_range(&self.location, range.clone())
            .await
            .map_err(|source| self.read_error(range.start, source))?;
        self.fetched.add(bytes.len());
        let end = range.start + bytes.len() as u64;
        if end < range.end {
            let e = NfError::new(end, format!("object ends before its size of {}", self.size));
            return Err(nf_error(e, &self.url));
        }
        Ok(bytes)
    }

    pub fn read_error(&self, offset: u64, source: object_store::Error) -> DataFusionError {
        let url = self.url.clone();
        FlowError::Read {
            url,
            offset,
            source,
        }
        .into()
    }

    /// Reads the layout 2 appendix of `info` (ident and stats) into it, if it has one.
    pub async fn read_appendix(&self, info: &mut FileInfo) -> Result<()> {
        if let Some(range) = info.appendix_range() {
            let bytes = self.read(range).await?;
            read_appendix(info, &bytes);
        }
        Ok(())
    }
}

/// The bytes of `body` (a GET of `file` from `offset` on) as they arrive, received on the
/// runtime ahead of the caller (at most [`AHEAD`] parts of [`PART`] bytes waiting): stopped
/// when the stream is dropped.
fn read_ahead(
    file: Arc<RemoteFile>,
    mut body: BoxStream<'static, object_store::Result<Bytes>>,
    mut offset: u64,
) -> BoxStream<'static, Result<Bytes>> {
    let (tx, rx) = tokio::sync::mpsc::channel(AHEAD);
    let task = SpawnedTask::spawn(async move {
        let mut part = BytesMut::new();
        while let Some(bytes) = body.next().await {
            let bytes = match bytes {
                Ok(bytes) => bytes,
                Err(e) => {
                    let at = offset + part.len() as u64;
                    let _ = tx.send(Err(file.read_error(at, e))).await;
                    return;
                }
            };
            file.fetched.add(bytes.len());
            part.extend_from_slice(&bytes);
            if part.len() >= PART {
                offset += part.len() as u64;
                if tx.send(Ok(part.split().freeze())).await.is_err() {
                    return;
                }
            }
        }
        if !part.is_empty() {
            let _ = tx.send(Ok(part.freeze())).await;
        }
    });
    stream::unfold((rx, task), |(mut rx, task)| async move {
        let part = rx.recv().await?;
        Some((part, (rx, task)))
    })
    .boxed()
}

/// A file's bytes from `base` on, as far as the decoder needs them: what it walks. It is
/// extended from the file's streamed body, and past its end by a ranged read of what the walk
/// needs (an object shorter than listed is then an error naming the offset).
pub(super) struct Window {
    pub bytes: Bytes,
    pub base: u64,
    /// Bytes received that follow `bytes`.
    next: Bytes,
    parts: BoxStream<'static, Result<Bytes>>,
    file: Arc<RemoteFile>,
}

impl Window {
    /// An empty window at the start of the file, whose bytes `body` (a GET of the whole
    /// object) streams.
    pub fn new(
        file: Arc<RemoteFile>,
        body: BoxStream<'static, object_store::Result<Bytes>>,
    ) -> Self {
        Self {
            bytes: Bytes::new(),
            base: 0,
            next: Bytes::new(),
            parts: read_ahead(file.clone(), body, 0),
            file,
        }
    }

    /// The file's bytes in `range` (dropping those before it; read again by a ranged GET if
    /// the window has passed them).
    pub async fn read(&mut self, range: Range<u64>) -> Result<Bytes> {
        if range.start < self.base {
            return self.file.read(range).await;
        }
        self.extend(range.start, range.end).await?;
        let at = |offset: u64| usize::try_from(offset - self.base).unwrap_or(usize::MAX);
        let end = at(range.end).min(self.bytes.len());
        Ok(self.bytes.slice(at(range.start).min(end)..end))
    }

    /// Makes the window reach `upto`, dropping its bytes before `from` (the walk's position).
    /// Bytes are copied only for a block that spans parts.
    pub async fn extend(&mut self, from: u64, upto: u64) -> Result<()> {
        let keep = usize::try_from(from.saturating_sub(self.base))
            .unwrap_or(usize::MAX)
            .min(self.bytes.len());
        self.base += keep as u64;
        let mut parts = vec![self.bytes.split_off(keep)];
        let mut end = self.base + parts[0].len() as u64;
        while end < upto {
            let part = match std::mem::take(&mut self.next) {
                next if !next.is_empty() => next,
                _ => match self.parts.next().await {
                    Some(part) => part?,
                    None => self.file.read(end..upto).await?,
                },
            };
            end += part.len() as u64;
            parts.push(part);
        }
        parts.retain(|p| !p.is_empty());
        if parts.len() > 1
            && let Some(last) = parts.last_mut()
        {
            // Only what the walk needs of the last part is joined; the rest stays whole.
            let over = usize::try_from(end - upto).unwrap_or(0);
            self.next = last.split_off(last.len() - over);
        }
        self.bytes = concat(parts);
        Ok(())
    }
}

/// The parts as one buffer (copied only when there is more than one).
fn concat(mut parts: Vec<Bytes>) -> Bytes {
    if parts.len() <= 1 {
        return parts.pop().unwrap_or_default();
    }
    let mut joined = BytesMut::with_capacity(parts.iter().map(Bytes::len).sum());
    parts.iter().for_each(|p| joined.extend_from_slice(p));
    joined.freeze()
}

pub(super) fn nf_error(e: NfError, name: &str) -> DataFusionError {
    FlowError::from(e.with_file(name)).into()
}
