//! Where the frames of a compressed column file lie, read from the file's own headers,
//! indexes and tables without decompressing anything: zstd frames (or the seek table of zstd's
//! seekable format), xz blocks (from the stream indexes), lz4 frames with a content size, gzip
//! members that say their length (`bgzip`'s BGZF, ours), and the starts of bzip2 streams
//! (`pbzip2`'s and ours, found by their magic: a guess the decoder checks). Every walker takes
//! any bytes and returns `None` (never panics) for what it cannot read.

/// One independently decodable frame of a compressed column: where it lies in the file, and
/// how many bytes it decompresses to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Frame {
    pub offset: u64,
    pub len: u64,
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
    let streams = xz_index(data)?;
    let mut blocks = streams.iter().flat_map(|s| &s.blocks);
    blocks.try_fold(0u64, |n, b| n.checked_add(b.len))
}

/// The blocks of an xz file (each decodable from its start: see [`xz_from_block`]) with their
/// decompressed sizes, from the stream indexes; `None` when they cannot be read.
pub fn xz_blocks(data: &[u8]) -> Option<Vec<Frame>> {
    let streams = xz_index(data)?;
    Some(streams.into_iter().flat_map(|s| s.blocks).collect())
}

/// One stream of an xz file, from its index.
#[derive(Debug)]
pub struct XzStream {
    /// Where its header starts.
    pub offset: usize,
    /// Where its index starts (after the last block).
    pub index: usize,
    /// Just past its footer.
    pub end: usize,
    /// Its blocks: where each starts and its decompressed size.
    pub blocks: Vec<Frame>,
    /// Each block's unpadded and decompressed size, as its index lists them.
    pub records: Vec<(u64, u64)>,
}

/// The streams of an xz file and their blocks, from their indexes, read backwards from the end
/// (stream padding skipped); `None` when they cannot be read.
pub fn xz_index(data: &[u8]) -> Option<Vec<XzStream>> {
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
        let count = xz_varint(data, &mut at)?;
        let mut records = Vec::new();
        let mut padded = 0u64;
        for _ in 0..count {
            let unpadded = xz_varint(data, &mut at)?;
            let len = xz_varint(data, &mut at)?;
            // (A block is a header, data and a check: 5 bytes at the least.)
            if at > footer || unpadded < 5 {
                return None;
            }
            records.push((unpadded, len));
            padded = padded.checked_add(unpadded.checked_add(3)? / 4 * 4)?;
        }
        let start = index
            .checked_sub(usize::try_from(padded).ok()?)?
            .checked_sub(12)?;
        if data.get(start..start + 6)? != b"\xFD7zXZ\0" {
            return None;
        }
        let mut offset = (start + 12) as u64;
        let blocks = (records.iter())
            .map(|&(unpadded, len)| {
                let block = Frame { offset, len };
                offset += unpadded.div_ceil(4) * 4;
                block
            })
            .collect();
        streams.push(XzStream {
            offset: start,
            index,
            end,
            blocks,
            records,
        });
        end = start;
    }
    streams.reverse();
    Some(streams)
}

/// Appends the xz variable-length integer `value`.
fn push_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// The pieces of a valid xz stream that decodes from block `block` of `data`'s stream
/// `stream` on: (stream header, the blocks' byte range, an index and footer listing those
/// blocks only). A block of a multi-block stream (`xz -T0`) cannot be decoded without a
/// stream around it; these three, then the rest of the file, are such a stream.
pub fn xz_from_block(
    data: &[u8],
    stream: &XzStream,
    block: usize,
) -> Option<(Vec<u8>, std::ops::Range<usize>, Vec<u8>)> {
    let header = data.get(stream.offset..stream.offset + 12)?.to_vec();
    let from = usize::try_from(stream.blocks.get(block)?.offset).ok()?;
    let mut tail = vec![0u8];
    let records = stream.records.get(block..)?;
    push_varint(&mut tail, records.len() as u64);
    for &(unpadded, len) in records {
        push_varint(&mut tail, unpadded);
        push_varint(&mut tail, len);
    }
    while !tail.len().is_multiple_of(4) {
        tail.push(0);
    }
    tail.extend(crc32fast::hash(&tail).to_le_bytes());
    let mut footer = ((tail.len() / 4 - 1) as u32).to_le_bytes().to_vec();
    footer.extend_from_slice(&header[6..8]); // the stream flags
    tail.extend(crc32fast::hash(&footer).to_le_bytes());
    tail.extend(footer);
    tail.extend(b"YZ");
    Some((header, from..stream.index, tail))
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

fn le16(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(data.get(at..at + 2)?.try_into().ok()?))
}

/// Decompressed bytes a frame of a gzip file of small members gathers at least (BGZF members
/// hold 64 KiB each; fewer, larger frames keep a plan that lists them small).
const GZIP_FRAME: u64 = 1 << 18;

/// The id of the extra field in which our writer's gzip members say their length (4 bytes,
/// little-endian, the whole member's), as BGZF's `BC` field does in 2 bytes.
pub const GZIP_LENGTH_FIELD: [u8; 2] = *b"FM";

/// The frames of a gzip file whose members say their compressed length in an extra field of
/// their header (`bgzip`'s BGZF: `BC`; our writer's: [`GZIP_LENGTH_FIELD`]) and their
/// decompressed length in their trailer, each a run of members of at least 256 KiB
/// decompressed; `None` for any other gzip file (whose members can only be found by
/// decompressing).
pub fn gzip_frames(data: &[u8]) -> Option<Vec<Frame>> {
    let mut frames: Vec<Frame> = Vec::new();
    let mut at = 0usize;
    while at < data.len() {
        // Magic, deflate, FEXTRA set.
        if data.get(at..at + 3)? != [0x1f, 0x8b, 8] || data.get(at + 3)? & 4 == 0 {
            return None;
        }
        let extra = at + 12;
        let extra_end = extra.checked_add(le16(data, at + 10)? as usize)?;
        let (mut field, mut size) = (extra, None);
        while field + 4 <= extra_end {
            let len = le16(data, field + 2)? as usize;
            match (data.get(field..field + 2)?, len) {
                (b"BC", 2) => size = Some(le16(data, field + 4)? as usize + 1),
                (id, 4) if id == GZIP_LENGTH_FIELD => size = Some(le32(data, field + 4)? as usize),
                _ => {}
            }
            field += 4 + len;
        }
        let end = at.checked_add(size?)?;
        if end > data.len() || end < extra_end + 8 {
            return None;
        }
        let len = le32(data, end - 4)? as u64;
        match frames.last_mut() {
            Some(last) if last.len < GZIP_FRAME => last.len += len,
            _ => frames.push(Frame {
                offset: at as u64,
                len,
            }),
        }
        at = end;
    }
    Some(frames)
}

/// Where the streams of a bzip2 file seem to start: its start, and every later `BZh1`-`BZh9`
/// followed by a block's (or the end-of-stream) magic (`pbzip2` writes a stream per block;
/// our writer a stream per frame). The magic can occur inside compressed data by chance: the
/// reader decodes from each guess and keeps only those where the previous stream ended.
pub fn bz2_stream_starts(data: &[u8]) -> Vec<usize> {
    const BLOCK: [u8; 6] = [0x31, 0x41, 0x59, 0x26, 0x53, 0x59];
    const END: [u8; 6] = [0x17, 0x72, 0x45, 0x38, 0x50, 0x90];
    let mut starts = vec![0];
    for at in memchr::memmem::find_iter(data, b"BZh").filter(|&at| at > 0) {
        let level = data.get(at + 3).is_some_and(|l| (b'1'..=b'9').contains(l));
        let magic = data.get(at + 4..at + 10);
        if level && (magic == Some(&BLOCK) || magic == Some(&END)) {
            starts.push(at);
        }
    }
    starts
}
