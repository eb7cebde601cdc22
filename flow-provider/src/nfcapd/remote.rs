//! nfcapd objects in a store, read by ranged GETs instead of whole: the header (and the layout 2
//! appendix), the block headers up to where a partition's byte range starts, then the blocks
//! of the range in chunks fetched a few ahead of the decoder. A file split over partitions is
//! so fetched once in all, plus one small read per block header a partition steps over.

use crate::FlowError;
use bytes::{Bytes, BytesMut};
use datafusion::common::runtime::SpawnedTask;
use datafusion::common::{DataFusionError, Result, internal_err};
use datafusion::datasource::listing::ListingTableUrl;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::physical_plan::metrics::Count;
use futures::stream::{self, BoxStream, StreamExt};
use nfcapd_decode::{BLOCK_HEADER_SIZE, Blocks, FileInfo, NfError, read_appendix};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use std::ops::Range;
use std::sync::Arc;

/// Size of one ranged read of data blocks. nfdump writes blocks of ~200 KiB (5 MiB at most);
/// larger reads did not scan faster (see docs/performance.md).
const CHUNK: u64 = 4 << 20;
/// Ranged reads a scan keeps going (the one being waited for and those ahead of it): the
/// memory a partition holds is about this many chunks.
const READS: usize = 3;

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

    /// Position (offset, index) of the first block whose header starts at or after `from`,
    /// found by walking the block headers from the first, one small read each; `None` when
    /// the blocks end before, or a framing error the range holding it reports comes first.
    pub async fn seek(&self, info: &FileInfo, from: u64) -> Result<Option<(u64, u64)>> {
        let (mut pos, mut index) = (info.first_block_offset, 0);
        while pos < from {
            let end = self.size.min(pos + BLOCK_HEADER_SIZE as u64);
            let header = match pos < end {
                true => self.read(pos..end).await?,
                false => Bytes::new(),
            };
            match Blocks::window(&header, pos, info, pos, index).next_header() {
                Some(Ok(h)) => (pos, index) = (h.end(), h.index + 1),
                _ => return Ok(None),
            }
        }
        Ok(Some((pos, index)))
    }
}

/// A file's bytes from `base` on, as far as they were read: what the decoder walks. It is
/// extended from the chunks of the partition's range read ahead, and past them by reads of
/// just what the walk needs (the rest of the block the range ends in).
pub(super) struct Window {
    pub bytes: Bytes,
    pub base: u64,
    chunks: BoxStream<'static, Result<Bytes>>,
    file: Arc<RemoteFile>,
}

impl Window {
    /// An empty window at `range.start`, the chunks of `range` read ahead of it.
    pub fn new(file: Arc<RemoteFile>, range: Range<u64>) -> Self {
        Self {
            bytes: Bytes::new(),
            base: range.start,
            chunks: read_ahead(file.clone(), range),
            file,
        }
    }

    /// Makes the window reach `upto`, dropping its bytes before `from` (the walk's position).
    pub async fn extend(&mut self, from: u64, upto: u64) -> Result<()> {
        let keep = usize::try_from(from.saturating_sub(self.base))
            .unwrap_or(usize::MAX)
            .min(self.bytes.len());
        let mut parts = vec![self.bytes.slice(keep..)];
        self.base += keep as u64;
        let mut end = self.base + parts[0].len() as u64;
        if end >= upto {
            return internal_err!(
                "{}: the walk at {from} needs no bytes past {end}",
                self.file.url
            );
        }
        while end < upto {
            let part = match self.chunks.next().await {
                Some(chunk) => chunk?,
                None => self.file.read(end..upto).await?,
            };
            end += part.len() as u64;
            parts.push(part);
        }
        self.bytes = concat(parts);
        Ok(())
    }
}

/// The chunks of `range` in order, read [`READS`] at a time on the runtime (so reads go on
/// while the caller decodes).
fn read_ahead(file: Arc<RemoteFile>, range: Range<u64>) -> BoxStream<'static, Result<Bytes>> {
    let starts = (range.start..range.end).step_by(CHUNK as usize);
    stream::iter(starts)
        .map(move |start| {
            let (file, end) = (file.clone(), range.end.min(start + CHUNK));
            let read = SpawnedTask::spawn(async move { file.read(start..end).await });
            async move {
                let joined = read.join_unwind().await;
                joined.map_err(|e| DataFusionError::ExecutionJoin(Box::new(e)))?
            }
        })
        .buffered(READS)
        .boxed()
}

/// The parts as one buffer (copied only when there is more than one that is not empty).
fn concat(parts: Vec<Bytes>) -> Bytes {
    let mut parts: Vec<Bytes> = parts.into_iter().filter(|p| !p.is_empty()).collect();
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
