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

use super::bz2_ahead::Bz2Ahead;
use super::dir::{ColumnFile, Location};
use super::frames::xz_from_block;
pub use super::frames::{
    Frame, gzip_frames, lz4_frames, seek_table_in_tail, seek_table_len, xz_blocks, xz_index,
    xz_len, zstd_frames,
};
use super::mmap::map_file;
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
        let data = map_file(path)?;
        let data = data.as_slice();
        let (len, frames) = match codec {
            Codec::Zstd => zstd_frames(data),
            Codec::Xz => xz_blocks(data),
            Codec::Gzip => gzip_frames(data),
            Codec::Lz4 => lz4_frames(data),
            Codec::Bzip2 => None,
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

/// A mapped file's bytes as a reader's input.
pub(crate) struct Mapped(pub(crate) Buffer);

impl AsRef<[u8]> for Mapped {
    fn as_ref(&self) -> &[u8] {
        self.0.as_slice()
    }
}

/// The compressed bytes of the local xz file `path` from its block at byte `base` on: from its
/// stream's header when it is the stream's first block, else a stream made around it
/// ([`xz_from_block`]), then the rest of the file.
fn xz_from(path: &Path, base: u64) -> Result<Box<dyn Read + Send>> {
    let data = map_file(path)?;
    let bad = || {
        DataFusionError::Execution(format!(
            "flowbin: {} (xz): no block starts at byte {base} (changed since it was listed?)",
            path.display()
        ))
    };
    let streams = xz_index(data.as_slice()).ok_or_else(bad)?;
    let (stream, block) = (streams.iter())
        .find_map(|s| Some((s, s.blocks.iter().position(|b| b.offset == base)?)))
        .ok_or_else(bad)?;
    let part = |range: std::ops::Range<usize>| {
        std::io::Cursor::new(Mapped(data.slice_with_length(range.start, range.len())))
    };
    if block == 0 {
        return Ok(Box::new(part(stream.offset..data.len())));
    }
    let (header, blocks, tail) = xz_from_block(data.as_slice(), stream, block).ok_or_else(bad)?;
    Ok(Box::new(
        std::io::Cursor::new(header)
            .chain(part(blocks))
            .chain(std::io::Cursor::new(tail))
            .chain(part(stream.end..data.len())),
    ))
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
        let codec = compression.codec;
        let counted = |inner| Counted {
            inner,
            read: read.clone(),
        };
        let decoder = match (&column.location, codec) {
            (Location::Local(path), Codec::Bzip2) => {
                Box::new(Bz2Ahead::new(map_file(path)?, read.clone())) as Box<dyn Read + Send>
            }
            (Location::Local(path), Codec::Xz) if base > 0 => {
                codec.decoder(counted(xz_from(path, base)?))
            }
            _ => codec.decoder(counted(compressed_bytes(column, base, store)?)),
        };
        let mut reader = ColumnReader {
            name: column.location.to_string(),
            codec,
            decoder,
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
