//! Column files compressed one by one: `{field}.{dtype}.{zst|gz|xz|bz2|lz4}` beside plain
//! ones, as the ordinary CLI tools write them (`zstd`, `gzip`, `xz`, `bzip2`, `lz4`).
//!
//! A compressed column is read by streaming it through its decoder into Arrow buffers a batch
//! at a time (no scratch file; plain columns of the same trace stay mapped). What the file says
//! about itself is read once, at discovery, from its frame headers only: zstd frames that carry
//! their content size (every frame the `zstd` CLI and our writer make), the streams of an xz
//! file (from their indexes) and lz4 frames that carry their content size (our writer's) give
//! the column's length and where each frame starts, so a scan starts a partition at any frame.
//! gzip members and bzip2 streams say neither: their length comes from a plain column of the
//! trace, and they are read from the start by one partition. In an object store only a zstd
//! file's seek table is read at discovery (two ranged GETs); any other compressed object is
//! streamed from one GET by one partition.

use super::dir::{ColumnFile, Location};
use crate::FlowError;
use crate::store::Object;
use arrow::buffer::{Buffer, MutableBuffer};
use datafusion::common::{DataFusionError, Result};
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A compression format of a column file, named by its file name's last extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Codec {
    Zstd,
    Gzip,
    Xz,
    Bzip2,
    Lz4,
}

impl Codec {
    pub const ALL: [Codec; 5] = [
        Codec::Zstd,
        Codec::Gzip,
        Codec::Xz,
        Codec::Bzip2,
        Codec::Lz4,
    ];

    /// The codec of a file name's extension (`zst`, `gz`, `xz`, `bz2`, `lz4`).
    pub fn from_ext(ext: &str) -> Option<Codec> {
        Codec::ALL.into_iter().find(|c| c.ext() == ext)
    }

    /// The file name extension, without the dot.
    pub fn ext(self) -> &'static str {
        match self {
            Codec::Zstd => "zst",
            Codec::Gzip => "gz",
            Codec::Xz => "xz",
            Codec::Bzip2 => "bz2",
            Codec::Lz4 => "lz4",
        }
    }

    /// The format's usual name (the CLI tool's).
    pub fn name(self) -> &'static str {
        match self {
            Codec::Zstd => "zstd",
            Codec::Gzip => "gzip",
            Codec::Xz => "xz",
            Codec::Bzip2 => "bzip2",
            Codec::Lz4 => "lz4",
        }
    }

    /// A decoder of every frame (member, stream) of `input`, one after the other.
    fn decoder<R: Read + Send + 'static>(self, input: R) -> Box<dyn Read + Send> {
        let input = BufReader::with_capacity(1 << 16, input);
        match self {
            // A zstd decoder reads on across frames, and skips skippable ones (seek tables).
            Codec::Zstd => match zstd::stream::read::Decoder::with_buffer(input) {
                Ok(d) => Box::new(d),
                Err(e) => Box::new(Failing(Some(e))),
            },
            Codec::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(input)),
            Codec::Xz => Box::new(liblzma::bufread::XzDecoder::new_multi_decoder(input)),
            Codec::Bzip2 => Box::new(bzip2::bufread::MultiBzDecoder::new(input)),
            Codec::Lz4 => Box::new(FramesInTurn(lz4_flex::frame::FrameDecoder::new(input))),
        }
    }
}

/// A decoder that reports the end of each frame as the end of its input (lz4_flex's), read on
/// across the frames of a file: its end is a frame's end followed by nothing.
struct FramesInTurn<R>(R);

impl<R: Read> Read for FramesInTurn<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.0.read(buf)? {
            0 if !buf.is_empty() => self.0.read(buf),
            n => Ok(n),
        }
    }
}

/// A reader whose first read fails (a decoder that could not be made).
struct Failing(Option<std::io::Error>);

impl Read for Failing {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        Err(self
            .0
            .take()
            .unwrap_or_else(|| std::io::Error::other("no decoder")))
    }
}

/// One independently decodable frame of a compressed column: where it lies in the file, and
/// how many bytes it decompresses to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Frame {
    pub offset: u64,
    pub len: u64,
}

/// What a compressed column file is: its codec, its decompressed length when the file tells,
/// and its frames when they can be started one by one (see the module comment).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Compression {
    pub codec: Codec,
    /// Decompressed bytes, from the frame headers or the xz index.
    pub len: Option<u64>,
    /// The frames in order (zstd frames that carry their content size), empty otherwise.
    pub frames: Vec<Frame>,
}

impl Compression {
    /// Reads what `path` (compressed with `codec`) says about itself; nothing is decompressed.
    pub fn probe(codec: Codec, path: &Path) -> Result<Compression> {
        let data = super::mmap::map_file(path)?;
        let data = data.as_slice();
        let (len, frames) = match codec {
            Codec::Zstd => zstd_frames(data),
            Codec::Xz => xz_streams(data),
            Codec::Lz4 => lz4_frames(data),
            Codec::Gzip | Codec::Bzip2 => None,
        }
        .map_or((None, Vec::new()), |frames| {
            (Some(frames.iter().map(|f| f.len).sum()), frames)
        });
        Ok(Compression { codec, len, frames })
    }

    /// What the object `key` of `store` (`size` bytes; `url` in errors) compressed with `codec`
    /// says about itself, from its last bytes only. A zstd file with a seek table (what
    /// `flow-models compress` writes) gives its length and frames from two ranged GETs; any
    /// other file is read whole from its start by one partition, its length taken from a
    /// plain column (walking the frames of an object would mean reading it).
    pub fn probe_remote(
        codec: Codec,
        store: &Arc<dyn object_store::ObjectStore>,
        key: &object_store::path::Path,
        size: u64,
        url: &str,
    ) -> Result<Compression> {
        use object_store::ObjectStoreExt;
        let unsplit = Compression {
            codec,
            len: None,
            frames: Vec::new(),
        };
        if codec != Codec::Zstd || size < 9 {
            return Ok(unsplit);
        }
        let get = |range: std::ops::Range<u64>| {
            let (store, key) = (store.clone(), key.clone());
            crate::store::block_on(async move { store.get_range(&key, range).await })?
                .map_err(|e| DataFusionError::Execution(format!("flowbin: {url}: {e}")))
        };
        let footer = get(size - 9..size)?;
        let Some(table) = seek_table_len(&footer) else {
            return Ok(unsplit);
        };
        let tail = get(size.saturating_sub(table as u64)..size)?;
        let frames = seek_table_in_tail(&tail, size).ok_or_else(|| {
            DataFusionError::Execution(format!("flowbin: {url} (zstd): a bad seek table"))
        })?;
        Ok(Compression {
            codec,
            len: Some(frames.iter().map(|f| f.len).sum()),
            frames,
        })
    }

    /// Whether a scan can start anywhere (at the frame holding its first row).
    pub fn splittable(&self) -> bool {
        !self.frames.is_empty()
    }
}

const ZSTD_MAGIC: u32 = 0xFD2F_B528;
const SKIPPABLE_MASK: u32 = 0xFFFF_FFF0;
const SKIPPABLE_MAGIC: u32 = 0x184D_2A50;
/// The last four bytes of a zstd seekable-format seek table.
const SEEKABLE_MAGIC: u32 = 0x8F92_EAB1;

fn le32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

/// The frames of a zstd file, from its seek table (zstd's seekable format, which our writer
/// appends) or else by walking the frame headers; `None` when a frame does not carry its
/// content size or the file is not a sequence of zstd frames (its decoder will say why).
pub fn zstd_frames(data: &[u8]) -> Option<Vec<Frame>> {
    if let Some(frames) = seek_table(data) {
        return Some(frames);
    }
    let mut frames = Vec::new();
    let mut at = 0usize;
    while at < data.len() {
        let rest = &data[at..];
        let magic = le32(rest, 0)?;
        if magic & SKIPPABLE_MASK == SKIPPABLE_MAGIC {
            at = at.checked_add(8 + le32(rest, 4)? as usize)?;
            continue;
        }
        if magic != ZSTD_MAGIC {
            return None;
        }
        let len = zstd::zstd_safe::get_frame_content_size(rest).ok()??;
        let size = zstd::zstd_safe::find_frame_compressed_size(rest).ok()?;
        frames.push(Frame {
            offset: at as u64,
            len,
        });
        at += size.max(1);
    }
    (at == data.len()).then_some(frames)
}

/// The frames a seek table at the end of `data` lists (zstd's seekable format: a skippable
/// frame of `(compressed, decompressed[, checksum])` entries and a 9-byte footer), if there is
/// one that adds up to the file.
fn seek_table(data: &[u8]) -> Option<Vec<Frame>> {
    seek_table_in_tail(data, data.len() as u64)
}

/// The bytes of the seek table the 9-byte footer `footer` (the last bytes of a zstd file)
/// announces, footer included; `None` when it is no seek table's footer.
pub fn seek_table_len(footer: &[u8]) -> Option<usize> {
    if footer.len() != 9 || le32(footer, 5)? != SEEKABLE_MAGIC {
        return None;
    }
    let entry = if footer[4] & 0x80 != 0 { 12 } else { 8 };
    (le32(footer, 0)? as usize)
        .checked_mul(entry)?
        .checked_add(8 + 9)
}

/// The frames the seek table at the end of `tail` lists, `tail` being the last bytes of a file
/// of `file_len` bytes (the whole file, or only its table).
pub fn seek_table_in_tail(tail: &[u8], file_len: u64) -> Option<Vec<Frame>> {
    let n = tail.len();
    let table = seek_table_len(tail.get(n.checked_sub(9)?..)?)?;
    let count = le32(tail, n - 9)? as usize;
    let entry = (table - 17) / count.max(1);
    let start = n.checked_sub(table)?;
    if le32(tail, start)? != SKIPPABLE_MAGIC | 0xE || le32(tail, start + 4)? as usize != table - 8 {
        return None;
    }
    let mut frames = Vec::with_capacity(count);
    let mut offset = 0u64;
    for i in 0..count {
        let at = start + 8 + i * entry;
        frames.push(Frame {
            offset,
            len: le32(tail, at + 4)? as u64,
        });
        offset = offset.checked_add(le32(tail, at)? as u64)?;
    }
    (offset == file_len.checked_sub(table as u64)?).then_some(frames)
}

/// Reads an xz variable-length integer at `*at`.
fn xz_varint(data: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for i in 0..9 {
        let b = *data.get(*at)?;
        *at += 1;
        value |= ((b & 0x7F) as u64) << (7 * i);
        if b & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// The decompressed length of an xz file from the indexes of its streams; `None` when they
/// cannot be read.
pub fn xz_len(data: &[u8]) -> Option<u64> {
    xz_streams(data).map(|streams| streams.iter().map(|s| s.len).sum())
}

/// The streams of an xz file (each decodable on its own: our writer makes one per frame) with
/// their decompressed sizes, from their indexes, read backwards from the end (stream padding
/// skipped); `None` when they cannot be read.
pub fn xz_streams(data: &[u8]) -> Option<Vec<Frame>> {
    let mut end = data.len();
    let mut streams = Vec::new();
    while end > 0 {
        if !end.is_multiple_of(4) {
            return None;
        }
        if data[end - 4..end] == [0; 4] {
            end -= 4; // stream padding
            continue;
        }
        if end < 24 || &data[end - 2..end] != b"YZ" {
            return None;
        }
        let footer = end - 12;
        let index_size = (le32(data, footer + 4)? as usize + 1) * 4;
        let index = footer.checked_sub(index_size)?;
        let mut at = index;
        if *data.get(at)? != 0 {
            return None;
        }
        at += 1;
        let records = xz_varint(data, &mut at)?;
        let (mut blocks, mut len) = (0u64, 0u64);
        for _ in 0..records {
            let unpadded = xz_varint(data, &mut at)?;
            len = len.checked_add(xz_varint(data, &mut at)?)?;
            blocks = blocks.checked_add(unpadded.div_ceil(4) * 4)?;
        }
        if at > footer {
            return None;
        }
        end = index
            .checked_sub(usize::try_from(blocks).ok()?)?
            .checked_sub(12)?;
        if data.get(end..end + 6)? != b"\xFD7zXZ\0" {
            return None;
        }
        streams.push(Frame {
            offset: end as u64,
            len,
        });
    }
    streams.reverse();
    Some(streams)
}

/// The frames of an lz4 file, walked through their headers and block sizes (skippable frames
/// passed over); `None` when a frame does not carry its content size (the `lz4` CLI's own, by
/// default) or the file is not a sequence of lz4 frames.
pub fn lz4_frames(data: &[u8]) -> Option<Vec<Frame>> {
    const MAGIC: u32 = 0x184D_2204;
    let mut frames = Vec::new();
    let mut at = 0usize;
    while at < data.len() {
        let magic = le32(data, at)?;
        if magic & SKIPPABLE_MASK == SKIPPABLE_MAGIC {
            at = at.checked_add(8 + le32(data, at + 4)? as usize)?;
            continue;
        }
        if magic != MAGIC {
            return None;
        }
        let flg = *data.get(at + 4)?;
        if flg & 0x08 == 0 {
            return None; // no content size
        }
        let len = u64::from_le_bytes(data.get(at + 6..at + 14)?.try_into().ok()?);
        let mut pos = at + 14 + if flg & 0x01 != 0 { 4 } else { 0 } + 1;
        let block_checksum = if flg & 0x10 != 0 { 4 } else { 0 };
        loop {
            let size = le32(data, pos)?;
            pos += 4;
            if size == 0 {
                break;
            }
            pos = pos.checked_add((size & 0x7FFF_FFFF) as usize + block_checksum)?;
        }
        if flg & 0x04 != 0 {
            pos += 4; // content checksum
        }
        frames.push(Frame {
            offset: at as u64,
            len,
        });
        at = pos;
    }
    (at == data.len()).then_some(frames)
}

/// Counts the bytes read through it, to name where in a compressed file a decoder failed.
struct Counted<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// The bytes of a remote object from some offset on, read by one streamed GET (a blocking
/// reader for the decoders: each chunk awaited on the object-store runtime).
struct ObjectRead {
    chunks: futures::stream::BoxStream<'static, object_store::Result<bytes::Bytes>>,
    chunk: bytes::Bytes,
}

impl Read for ObjectRead {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use futures::StreamExt;
        while self.chunk.is_empty() {
            let next = crate::store::block_on(self.chunks.next()).map_err(std::io::Error::other)?;
            match next {
                Some(chunk) => self.chunk = chunk.map_err(std::io::Error::other)?,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk.split_to(n));
        Ok(n)
    }
}

/// The compressed bytes of `column` from byte `base` on: the local file, or one GET of the
/// object (`store`: any object of the store holding it).
fn compressed_bytes(
    column: &ColumnFile,
    base: u64,
    store: Option<&Object>,
) -> Result<Box<dyn Read + Send>> {
    match (&column.location, store) {
        (Location::Local(path), _) => {
            let mut file = File::open(path).map_err(|e| FlowError::io("cannot open", path, e))?;
            file.seek(SeekFrom::Start(base))
                .map_err(|e| FlowError::io("cannot seek in", path, e))?;
            Ok(Box::new(file))
        }
        (Location::Remote(_), None) => {
            let local = column.location.local("a compressed column read whole");
            Err(local
                .err()
                .unwrap_or_else(|| DataFusionError::Internal("no store".into())))
        }
        (Location::Remote(url), Some(store)) => {
            let object = store.at_url(url)?;
            let options = object_store::GetOptions {
                range: Some((base..column.bytes.max(base)).into()),
                ..Default::default()
            };
            let (objects, at) = (object.store, object.key);
            let got = crate::store::block_on(async move { objects.get_opts(&at, options).await })?
                .map_err(|e| {
                    DataFusionError::Execution(format!("flowbin: {url}: cannot read: {e}"))
                })?;
            Ok(Box::new(ObjectRead {
                chunks: got.into_stream(),
                chunk: bytes::Bytes::new(),
            }))
        }
    }
}

/// A compressed column read front to back from some byte of its decompressed contents on.
pub struct ColumnReader {
    /// The file or URL, for errors.
    name: String,
    codec: Codec,
    decoder: Box<dyn Read + Send>,
    /// Compressed bytes taken from the file, from `base` on.
    read: Arc<AtomicU64>,
    base: u64,
    /// Decompressed bytes produced so far (the offset in the column).
    at: u64,
    /// Decompressed bytes handed out by [`ColumnReader::read_buffer`] (what a scan counts).
    pub decompressed: u64,
}

impl ColumnReader {
    /// Opens the local compressed column `column` at byte `from` of its decompressed contents
    /// (see [`ColumnReader::open_in`]).
    pub fn open(column: &ColumnFile, compression: &Compression, from: u64) -> Result<Self> {
        Self::open_in(column, compression, from, None)
    }

    /// Opens the compressed column `column` at byte `from` of its decompressed contents:
    /// decoding starts at the frame that holds it (the first when frames are not known) and
    /// skips what lies before. A remote column is read from `store` (an object of its store).
    pub fn open_in(
        column: &ColumnFile,
        compression: &Compression,
        from: u64,
        store: Option<&Object>,
    ) -> Result<Self> {
        // The last frame starting at or before `from` (none known: the file's start).
        let (mut base, mut start, mut first) = (0, 0, 0);
        for f in &compression.frames {
            if first > from {
                break;
            }
            (base, start) = (f.offset, first);
            first += f.len;
        }
        let read = Arc::new(AtomicU64::new(0));
        let counted = Counted {
            inner: compressed_bytes(column, base, store)?,
            read: read.clone(),
        };
        let mut reader = ColumnReader {
            name: column.location.to_string(),
            codec: compression.codec,
            decoder: compression.codec.decoder(counted),
            read,
            base,
            at: start,
            decompressed: 0,
        };
        reader.skip(from - start)?;
        Ok(reader)
    }

    /// Decodes and drops `bytes` bytes.
    fn skip(&mut self, bytes: u64) -> Result<()> {
        let mut scratch = vec![0u8; (1 << 16).min(bytes as usize)];
        let mut left = bytes;
        while left > 0 {
            let n = scratch.len().min(left as usize);
            self.fill(&mut scratch[..n])?;
            left -= n as u64;
        }
        Ok(())
    }

    /// The next `len` bytes of the column as an Arrow buffer (aligned for any primitive type).
    pub fn read_buffer(&mut self, len: usize) -> Result<Buffer> {
        let mut buffer = MutableBuffer::from_len_zeroed(len);
        self.fill(buffer.as_slice_mut())?;
        self.decompressed += len as u64;
        Ok(buffer.into())
    }

    /// Fills `out` from the decoder: a file that ends first or fails to decode is an error
    /// naming it, the codec and where.
    fn fill(&mut self, out: &mut [u8]) -> Result<()> {
        let mut done = 0;
        while done < out.len() {
            match self.decoder.read(&mut out[done..]) {
                Ok(0) => {
                    return Err(self.error(format!(
                        "ends after {} decompressed bytes, {} more expected (truncated, or \
                         shorter than the trace's other columns)",
                        self.at,
                        out.len() - done
                    )));
                }
                Ok(n) => {
                    done += n;
                    self.at += n as u64;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.error(format!("cannot decompress: {e}"))),
            }
        }
        Ok(())
    }

    /// Decodes up to `out.len()` bytes into `out`: how many, 0 at the end of the column.
    pub fn read_some(&mut self, out: &mut [u8]) -> Result<usize> {
        loop {
            match self.decoder.read(out) {
                Ok(n) => {
                    self.at += n as u64;
                    return Ok(n);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.error(format!("cannot decompress: {e}"))),
            }
        }
    }

    /// Checks that the column ends here (it holds no more rows than the trace).
    pub fn expect_end(&mut self) -> Result<()> {
        let mut byte = [0u8; 1];
        loop {
            match self.decoder.read(&mut byte) {
                Ok(0) => return Ok(()),
                Ok(_) => {
                    return Err(self.error(format!(
                        "holds more than the trace's {} bytes of this column (longer than the \
                         trace's other columns)",
                        self.at
                    )));
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.error(format!("cannot decompress: {e}"))),
            }
        }
    }

    fn error(&self, reason: String) -> DataFusionError {
        let near = self.base + self.read.load(Ordering::Relaxed);
        DataFusionError::Execution(format!(
            "flowbin: {} ({}): {reason}; compressed byte {near} read, decompressed offset {}",
            self.name,
            self.codec.name(),
            self.at
        ))
    }
}

/// The whole decompressed column `column` (`len` bytes, checked), in memory: for the tools
/// that work on whole columns (the sort).
pub fn read_whole(column: &ColumnFile, compression: &Compression, len: usize) -> Result<Buffer> {
    let mut reader = ColumnReader::open(column, compression, 0)?;
    let buffer = reader.read_buffer(len)?;
    reader.expect_end()?;
    Ok(buffer)
}

/// The decompressed length of a compressed column whose files do not tell, by decompressing
/// it (the fallback of a trace whose every column is compressed that way); a remote column
/// is read from `store`.
pub fn measure(
    column: &ColumnFile,
    compression: &Compression,
    store: Option<&Object>,
) -> Result<u64> {
    let mut reader = ColumnReader::open_in(column, compression, 0, store)?;
    let mut scratch = vec![0u8; 1 << 16];
    while reader.read_some(&mut scratch)? > 0 {}
    Ok(reader.at)
}
