//! File header parsing for layout 1 (nfdump 1.6: 140-byte header + 136-byte stat record) and
//! layout 2 (nfdump 1.7: 40-byte `fileHeaderV2_t` + appendix blocks holding ident and stats).
use crate::MAX_BLOCK_SIZE;
use crate::bytes::{slice, u8_at, u16_at, u32_at, u64_at};
use crate::compress::{Compression, decompress};
use crate::error::NfError;

pub const MAGIC: u16 = 0xA50C;
pub const LAYOUT_VERSION_1: u16 = 1;
pub const LAYOUT_VERSION_2: u16 = 2;
/// `sizeof(fileHeaderV1_t)`: magic, version, flags, NumBlocks, ident[128].
pub const HEADER_V1_SIZE: usize = 140;
/// `sizeof(stat_recordV1_t)`.
pub const STAT_V1_SIZE: usize = 136;
/// `sizeof(fileHeaderV2_t)`.
pub const HEADER_V2_SIZE: usize = 40;
/// `sizeof(stat_record_t)` (layout 2 appendix).
pub const STAT_V2_SIZE: usize = 144;
/// Size of `dataBlock_t` / `data_block_headerV1_t`.
pub const BLOCK_HEADER_SIZE: usize = 12;
const IDENTLEN: usize = 128;
const TYPE_IDENT: u16 = 0x8001;
const TYPE_STAT: u16 = 0x8002;

/// File layout version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// nfdump 1.6.x (`LAYOUT_VERSION_1`).
    V1,
    /// nfdump 1.7.x (`LAYOUT_VERSION_2`).
    V2,
}

/// File statistics record (sum over all flows of the file, as written by nfdump).
/// Layout 1 stores seconds + msec; both are normalised to epoch milliseconds here.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatRecord {
    pub numflows: u64,
    pub numbytes: u64,
    pub numpackets: u64,
    pub numflows_tcp: u64,
    pub numflows_udp: u64,
    pub numflows_icmp: u64,
    pub numflows_other: u64,
    pub numbytes_tcp: u64,
    pub numbytes_udp: u64,
    pub numbytes_icmp: u64,
    pub numbytes_other: u64,
    pub numpackets_tcp: u64,
    pub numpackets_udp: u64,
    pub numpackets_icmp: u64,
    pub numpackets_other: u64,
    /// First seen, epoch milliseconds.
    pub first_seen_ms: u64,
    /// Last seen, epoch milliseconds.
    pub last_seen_ms: u64,
    pub sequence_failure: u64,
}

impl StatRecord {
    /// First seen, epoch seconds (as `nfdump -I` prints `First:`).
    pub fn first_seen(&self) -> u64 {
        self.first_seen_ms / 1000
    }
    /// Milliseconds part of first seen (`msec_first:`).
    pub fn msec_first(&self) -> u64 {
        self.first_seen_ms % 1000
    }
    pub fn last_seen(&self) -> u64 {
        self.last_seen_ms / 1000
    }
    pub fn msec_last(&self) -> u64 {
        self.last_seen_ms % 1000
    }

    /// Parse the 15 leading u64 counters shared by both layouts.
    fn counters(buf: &[u8], off: usize) -> Option<StatRecord> {
        let g = |i: usize| u64_at(buf, off + i * 8);
        Some(StatRecord {
            numflows: g(0)?,
            numbytes: g(1)?,
            numpackets: g(2)?,
            numflows_tcp: g(3)?,
            numflows_udp: g(4)?,
            numflows_icmp: g(5)?,
            numflows_other: g(6)?,
            numbytes_tcp: g(7)?,
            numbytes_udp: g(8)?,
            numbytes_icmp: g(9)?,
            numbytes_other: g(10)?,
            numpackets_tcp: g(11)?,
            numpackets_udp: g(12)?,
            numpackets_icmp: g(13)?,
            numpackets_other: g(14)?,
            ..Default::default()
        })
    }

    fn parse_v1(buf: &[u8], off: usize) -> Option<StatRecord> {
        let mut s = Self::counters(buf, off)?;
        let first = u64::from(u32_at(buf, off + 120)?);
        let last = u64::from(u32_at(buf, off + 124)?);
        let msec_first = u64::from(u16_at(buf, off + 128)?);
        let msec_last = u64::from(u16_at(buf, off + 130)?);
        s.first_seen_ms = first * 1000 + msec_first;
        s.last_seen_ms = last * 1000 + msec_last;
        s.sequence_failure = u64::from(u32_at(buf, off + 132)?);
        Some(s)
    }

    fn parse_v2(buf: &[u8], off: usize) -> Option<StatRecord> {
        let mut s = Self::counters(buf, off)?;
        s.first_seen_ms = u64_at(buf, off + 120)?;
        s.last_seen_ms = u64_at(buf, off + 128)?;
        s.sequence_failure = u64_at(buf, off + 136)?;
        Some(s)
    }
}

/// Everything known about a file after reading its header (and, for layout 2, its appendix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    pub layout: Layout,
    pub compression: Compression,
    /// Layout 1: raw header flags (bit 1 = anonymised). Layout 2: 0.
    pub flags: u32,
    /// Layout 2 only: nfdump version that wrote the file (e.g. 0x01070100).
    pub nfdversion: Option<u32>,
    /// Layout 2 only: creation time (epoch seconds). Layout 1 has none (nfdump uses mtime).
    pub created: Option<i64>,
    pub ident: Option<String>,
    /// Number of data blocks announced in the header (appendix blocks excluded).
    pub num_blocks: u32,
    /// Layout 2 only: `BlockSize` header field (informational).
    pub block_size: u32,
    /// File offset of the first data block header.
    pub first_block_offset: u64,
    /// Layout 2: offset of the appendix (0 if none) and its block count.
    pub appendix_offset: u64,
    pub appendix_blocks: u16,
    /// Statistics record (layout 1: from header; layout 2: from the appendix, if readable).
    pub stat: Option<StatRecord>,
    /// Set when the layout 2 appendix exists but could not be decoded (nfdump logs and
    /// continues in that case); `decode_file` in strict mode reports it as an error.
    pub appendix_error: Option<NfError>,
    /// Total file length in bytes.
    pub file_len: u64,
}

/// Bytes at the start of a file that hold its fixed header in either layout (a layout 1
/// header and its stat record): what [`read_file_header`] needs.
pub const HEADER_BYTES: usize = HEADER_V1_SIZE + STAT_V1_SIZE;

/// Parse the file header (and layout 2 appendix) of a whole nfcapd file.
pub fn read_header(bytes: &[u8]) -> Result<FileInfo, NfError> {
    let mut info = read_file_header(bytes, bytes.len() as u64)?;
    if let Some(range) = info.appendix_range() {
        let start = usize::try_from(range.start).unwrap_or(usize::MAX);
        read_appendix(&mut info, bytes.get(start..).unwrap_or_default());
    }
    Ok(info)
}

/// Parse the fixed header of a file of `file_len` bytes from `head`, its first
/// [`HEADER_BYTES`] bytes (or all of it when shorter). A layout 2 appendix is not read: see
/// [`FileInfo::appendix_range`] and [`read_appendix`].
pub fn read_file_header(head: &[u8], file_len: u64) -> Result<FileInfo, NfError> {
    if file_len == 0 {
        return Err(NfError::new(0, "empty file"));
    }
    let magic = u16_at(head, 0).ok_or_else(|| NfError::new(0, "file too short for magic"))?;
    if magic != MAGIC {
        return Err(NfError::new(
            0,
            format!("bad magic 0x{magic:04X}, expected 0x{MAGIC:04X}"),
        ));
    }
    let version = u16_at(head, 2).ok_or_else(|| NfError::new(2, "file too short for version"))?;
    match version {
        LAYOUT_VERSION_1 => read_header_v1(head, file_len),
        LAYOUT_VERSION_2 => read_header_v2(head, file_len),
        v => Err(NfError::new(2, format!("unsupported layout version {v}"))),
    }
}

impl FileInfo {
    /// The bytes that may hold the layout 2 appendix (from its offset to the end of the file,
    /// at most as many blocks of the largest size as it has): `None` when there is none.
    pub fn appendix_range(&self) -> Option<std::ops::Range<u64>> {
        if self.layout != Layout::V2 || self.appendix_blocks == 0 {
            return None;
        }
        let most = u64::from(self.appendix_blocks) * (BLOCK_HEADER_SIZE + MAX_BLOCK_SIZE) as u64;
        let end = self.file_len.min(self.appendix_offset.saturating_add(most));
        Some(self.appendix_offset..end)
    }
}

fn c_string(raw: &[u8]) -> String {
    let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
    String::from_utf8_lossy(raw.get(..end).unwrap_or_default()).into_owned()
}

fn read_header_v1(bytes: &[u8], file_len: u64) -> Result<FileInfo, NfError> {
    let need = HEADER_V1_SIZE + STAT_V1_SIZE;
    if bytes.len() < need {
        return Err(NfError::new(
            file_len,
            format!(
                "truncated layout 1 header: {} bytes, need {need}",
                bytes.len()
            ),
        ));
    }
    let short = || NfError::new(0, "truncated layout 1 header");
    let flags = u32_at(bytes, 4).ok_or_else(short)?;
    let num_blocks = u32_at(bytes, 8).ok_or_else(short)?;
    let ident = c_string(slice(bytes, 12, IDENTLEN).ok_or_else(short)?);
    let stat = StatRecord::parse_v1(bytes, HEADER_V1_SIZE).ok_or_else(short)?;
    // same precedence as nfdump's FILEV1_COMPRESSION(): LZO, BZ2, LZ4
    let compression = if flags & 0x1 != 0 {
        Compression::Lzo
    } else if flags & 0x8 != 0 {
        Compression::Bz2
    } else if flags & 0x10 != 0 {
        Compression::Lz4
    } else {
        Compression::None
    };
    Ok(FileInfo {
        layout: Layout::V1,
        compression,
        flags,
        nfdversion: None,
        created: None,
        ident: if ident.is_empty() { None } else { Some(ident) },
        num_blocks,
        block_size: 0,
        first_block_offset: need as u64,
        appendix_offset: 0,
        appendix_blocks: 0,
        stat: Some(stat),
        appendix_error: None,
        file_len,
    })
}

fn read_header_v2(bytes: &[u8], file_len: u64) -> Result<FileInfo, NfError> {
    if bytes.len() < HEADER_V2_SIZE {
        return Err(NfError::new(
            file_len,
            format!(
                "truncated layout 2 header: {} bytes, need {HEADER_V2_SIZE}",
                bytes.len()
            ),
        ));
    }
    let short = || NfError::new(0, "truncated layout 2 header");
    let nfdversion = u32_at(bytes, 4).ok_or_else(short)?;
    let created = u64_at(bytes, 8).ok_or_else(short)? as i64;
    let comp_raw = u8_at(bytes, 16).ok_or_else(short)?;
    let encryption = u8_at(bytes, 17).ok_or_else(short)?;
    let appendix_blocks = u16_at(bytes, 18).ok_or_else(short)?;
    let appendix_offset = u64_at(bytes, 24).ok_or_else(short)?;
    let block_size = u32_at(bytes, 32).ok_or_else(short)?;
    let num_blocks = u32_at(bytes, 36).ok_or_else(short)?;
    let compression = Compression::from_v2(comp_raw)
        .ok_or_else(|| NfError::new(16, format!("unknown compression {comp_raw}")))?;
    if encryption != 0 {
        return Err(NfError::new(
            17,
            format!("encrypted file (encryption {encryption}) not supported"),
        ));
    }
    let info = FileInfo {
        layout: Layout::V2,
        compression,
        flags: 0,
        nfdversion: Some(nfdversion),
        created: Some(created),
        ident: None,
        num_blocks,
        block_size,
        first_block_offset: HEADER_V2_SIZE as u64,
        appendix_offset,
        appendix_blocks,
        stat: None,
        appendix_error: None,
        file_len,
    };
    // like nfdump: an appendix offset outside the file makes the file unreadable
    if appendix_blocks > 0
        && (appendix_offset >= file_len || appendix_offset < HEADER_V2_SIZE as u64)
    {
        return Err(NfError::new(
            24,
            format!("appendix offset {appendix_offset} outside file of {file_len} bytes"),
        ));
    }
    Ok(info)
}

/// Decode the layout 2 appendix (ident and stat records) into `info` from `bytes`, the file
/// from the appendix offset on (see [`FileInfo::appendix_range`]); an appendix that cannot be
/// decoded is kept in `info.appendix_error`, as nfdump logs it and goes on.
pub fn read_appendix(info: &mut FileInfo, bytes: &[u8]) {
    if let Err(e) = decode_appendix(info, bytes) {
        info.appendix_error = Some(e);
    }
}

fn decode_appendix(info: &mut FileInfo, bytes: &[u8]) -> Result<(), NfError> {
    let base = info.appendix_offset;
    let mut off = 0usize;
    let mut scratch = Vec::new();
    for i in 0..info.appendix_blocks {
        let blk = u64::from(info.num_blocks) + u64::from(i);
        let err =
            |o: usize, r: String| NfError::in_block(blk, base + o as u64, format!("appendix: {r}"));
        let num_records =
            u32_at(bytes, off).ok_or_else(|| err(off, "truncated block header".into()))?;
        let size = u32_at(bytes, off + 4)
            .ok_or_else(|| err(off, "truncated block header".into()))? as usize;
        if size == 0 || size > MAX_BLOCK_SIZE {
            return Err(err(off, format!("bad block size {size}")));
        }
        let payload = slice(bytes, off + BLOCK_HEADER_SIZE, size)
            .ok_or_else(|| err(off, format!("block of {size} bytes exceeds file")))?;
        let data = decompress(info.compression, payload, &mut scratch).map_err(|r| err(off, r))?;
        let mut pos = 0usize;
        for _ in 0..num_records {
            let rtype =
                u16_at(data, pos).ok_or_else(|| err(off, format!("truncated record at {pos}")))?;
            let rsize = u16_at(data, pos + 2)
                .ok_or_else(|| err(off, format!("truncated record at {pos}")))?
                as usize;
            if rsize < 4 {
                return Err(err(off, format!("record size {rsize} at {pos}")));
            }
            let rec = slice(data, pos, rsize)
                .ok_or_else(|| err(off, format!("record at {pos} overruns block")))?;
            let body = rec.get(4..).unwrap_or_default();
            match rtype {
                TYPE_IDENT if rsize < IDENTLEN => info.ident = Some(c_string(body)),
                TYPE_STAT if body.len() == STAT_V2_SIZE => {
                    info.stat = StatRecord::parse_v2(body, 0)
                }
                _ => {}
            }
            pos += rsize;
        }
        off = off
            .checked_add(BLOCK_HEADER_SIZE + size)
            .ok_or_else(|| err(off, "offset overflow".into()))?;
    }
    Ok(())
}
