//! Data block framing: walks the `dataBlock_t` headers from the first data block, validates
//! sizes against the file length and yields raw (possibly compressed) payloads.
use crate::MAX_BLOCK_SIZE;
use crate::bytes::{slice, u16_at, u32_at};
use crate::error::NfError;
use crate::header::{BLOCK_HEADER_SIZE, FileInfo, Layout};

/// One data block as stored in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawBlock<'a> {
    /// 0-based index of the data block in the file.
    pub index: u64,
    /// File offset of the block header.
    pub offset: u64,
    pub num_records: u32,
    /// Payload size in the file (compressed size if compressed).
    pub size: u32,
    /// Block type: 2 (nfdump 1.6 records), 3 (nfdump 1.7 records), 4 (array block), 1 (1.5).
    pub block_type: u16,
    pub flags: u16,
    /// The payload bytes (`size` bytes following the header).
    pub payload: &'a [u8],
}

/// The header of a data block (the fields of [`RawBlock`] without the payload), checked as
/// the walk checks it (its payload lies within the file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct BlockHeader {
    index: u64,
    offset: u64,
    num_records: u32,
    size: u32,
    block_type: u16,
    flags: u16,
}

impl BlockHeader {
    /// File offset just past the block's payload: where the next block header is.
    fn end(&self) -> u64 {
        self.offset + (BLOCK_HEADER_SIZE as u64) + u64::from(self.size)
    }
}

/// Iterator over the data blocks of a file. Stops after `num_blocks` blocks, at the layout 2
/// appendix, at end of file, or after the first framing error (which it yields).
///
/// It walks a whole file, or a window of one (see [`Blocks::window`]): a walk that reaches
/// the end of its window before the end of its blocks stops, and [`Blocks::needs`] says how
/// far the next window must reach for the walk to go on.
#[derive(Debug, Clone)]
pub struct Blocks<'a> {
    bytes: &'a [u8],
    /// File offset of `bytes[0]`.
    base: u64,
    file_len: u64,
    pos: u64,
    index: u64,
    num_blocks: u64,
    stop_at: u64,
    done: bool,
    /// Set when the walk stopped at the end of its window: the file offset the bytes must
    /// reach for it to go on.
    needs: Option<u64>,
}

impl<'a> Blocks<'a> {
    pub fn new(bytes: &'a [u8], info: &FileInfo) -> Self {
        Self::walk(bytes, 0, bytes.len() as u64, info)
    }

    /// Continues a walk at the block header at `offset`, which is block number `index`
    /// (a position returned by [`Blocks::position`]).
    pub fn resume(bytes: &'a [u8], info: &FileInfo, offset: u64, index: u64) -> Self {
        Self::new(bytes, info).at(offset, index)
    }

    /// A walk over `bytes`, the part of the file (of `info.file_len` bytes) from offset `base`
    /// on, from the block header at `offset`, block number `index`.
    pub fn window(bytes: &'a [u8], base: u64, info: &FileInfo, offset: u64, index: u64) -> Self {
        Self::walk(bytes, base, info.file_len, info).at(offset, index)
    }

    fn walk(bytes: &'a [u8], base: u64, file_len: u64, info: &FileInfo) -> Self {
        let stop_at = if info.layout == Layout::V2 && info.appendix_blocks > 0 {
            info.appendix_offset.min(file_len)
        } else {
            file_len
        };
        Blocks {
            bytes,
            base,
            file_len,
            pos: info.first_block_offset,
            index: 0,
            num_blocks: u64::from(info.num_blocks),
            stop_at,
            done: false,
            needs: None,
        }
    }

    fn at(mut self, offset: u64, index: u64) -> Self {
        self.pos = offset;
        self.index = index;
        self
    }

    /// Offset and index of the next block header.
    pub fn position(&self) -> (u64, u64) {
        (self.pos, self.index)
    }

    /// After the walk stopped (`next` gave `None`): `None` when its blocks are done, or the
    /// file offset the bytes must reach for it to go on when its window ended first.
    pub fn needs(&self) -> Option<u64> {
        self.needs
    }

    fn step(&mut self, header: &BlockHeader) {
        self.pos = header.end();
        self.index += 1;
    }

    fn fail<T>(&mut self, reason: String) -> Option<Result<T, NfError>> {
        self.done = true;
        Some(Err(NfError::in_block(self.index, self.pos, reason)))
    }

    /// Stops the walk at the end of the window, which must reach `offset` for it to go on.
    fn starve<T>(&mut self, offset: u64) -> Option<T> {
        self.needs = Some(offset);
        None
    }

    /// The bytes `len` bytes at file offset `offset`, if the window holds them.
    fn bytes_at(&self, offset: u64, len: usize) -> Option<&'a [u8]> {
        let start = usize::try_from(offset.checked_sub(self.base)?).ok()?;
        slice(self.bytes, start, len)
    }

    /// The header of the block at the position, checked (not stepped over).
    fn peek_header(&mut self) -> Option<Result<BlockHeader, NfError>> {
        self.needs = None;
        if self.done || self.index >= self.num_blocks {
            return None;
        }
        if self.pos >= self.stop_at {
            if self.pos >= self.file_len {
                let n = self.num_blocks;
                return self.fail(format!(
                    "unexpected end of file: header announces {n} blocks"
                ));
            }
            // reached the appendix: nfdump would stop here too
            self.done = true;
            return None;
        }
        let header_end = self.pos.saturating_add(BLOCK_HEADER_SIZE as u64);
        let Some(raw) = self.bytes_at(self.pos, BLOCK_HEADER_SIZE) else {
            if header_end <= self.file_len {
                return self.starve(header_end);
            }
            let have = self.file_len.saturating_sub(self.pos);
            return self.fail(format!(
                "truncated block header ({have} of {BLOCK_HEADER_SIZE} bytes)"
            ));
        };
        let (Some(num_records), Some(size), Some(block_type), Some(flags)) = (
            u32_at(raw, 0),
            u32_at(raw, 4),
            u16_at(raw, 8),
            u16_at(raw, 10),
        ) else {
            return self.fail("truncated block header".into());
        };
        if size == 0 || size as usize > MAX_BLOCK_SIZE - BLOCK_HEADER_SIZE {
            return self.fail(format!("corrupt block size {size}"));
        }
        if num_records == 0 {
            return self.fail("corrupt block: 0 records".into());
        }
        let header = BlockHeader {
            index: self.index,
            offset: self.pos,
            num_records,
            size,
            block_type,
            flags,
        };
        if header.end() > self.file_len {
            let have = self.file_len.saturating_sub(header_end);
            return self.fail(format!(
                "truncated block: size {size}, only {have} bytes left in file"
            ));
        }
        Some(Ok(header))
    }
}

impl<'a> Iterator for Blocks<'a> {
    type Item = Result<RawBlock<'a>, NfError>;

    fn next(&mut self) -> Option<Self::Item> {
        let h = match self.peek_header()? {
            Ok(h) => h,
            Err(e) => return Some(Err(e)),
        };
        let start = h.offset + BLOCK_HEADER_SIZE as u64;
        let Some(payload) = self.bytes_at(start, h.size as usize) else {
            return self.starve(h.end());
        };
        self.step(&h);
        Some(Ok(RawBlock {
            index: h.index,
            offset: h.offset,
            num_records: h.num_records,
            size: h.size,
            block_type: h.block_type,
            flags: h.flags,
            payload,
        }))
    }
}
