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

/// Iterator over the data blocks of a file. Stops after `num_blocks` blocks, at the layout 2
/// appendix, at end of file, or after the first framing error (which it yields).
#[derive(Debug, Clone)]
pub struct Blocks<'a> {
    bytes: &'a [u8],
    pos: u64,
    index: u64,
    num_blocks: u64,
    stop_at: u64,
    done: bool,
}

impl<'a> Blocks<'a> {
    pub fn new(bytes: &'a [u8], info: &FileInfo) -> Self {
        let file_len = bytes.len() as u64;
        let stop_at = if info.layout == Layout::V2 && info.appendix_blocks > 0 {
            info.appendix_offset.min(file_len)
        } else {
            file_len
        };
        Blocks {
            bytes,
            pos: info.first_block_offset,
            index: 0,
            num_blocks: u64::from(info.num_blocks),
            stop_at,
            done: false,
        }
    }

    /// Continues a walk at the block header at `offset`, which is block number `index`
    /// (a position returned by [`Blocks::position`]).
    pub fn resume(bytes: &'a [u8], info: &FileInfo, offset: u64, index: u64) -> Self {
        let mut blocks = Self::new(bytes, info);
        blocks.pos = offset;
        blocks.index = index;
        blocks
    }

    /// Offset and index of the next block header.
    pub fn position(&self) -> (u64, u64) {
        (self.pos, self.index)
    }

    fn fail(&mut self, reason: String) -> Option<Result<RawBlock<'a>, NfError>> {
        self.done = true;
        Some(Err(NfError::in_block(self.index, self.pos, reason)))
    }
}

impl<'a> Iterator for Blocks<'a> {
    type Item = Result<RawBlock<'a>, NfError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.index >= self.num_blocks {
            return None;
        }
        if self.pos >= self.stop_at {
            if self.pos >= self.bytes.len() as u64 {
                let n = self.num_blocks;
                return self.fail(format!(
                    "unexpected end of file: header announces {n} blocks"
                ));
            }
            // reached the appendix: nfdump would stop here too
            self.done = true;
            return None;
        }
        let Ok(p) = usize::try_from(self.pos) else {
            return self.fail("offset overflow".into());
        };
        let (Some(num_records), Some(size), Some(block_type), Some(flags)) = (
            u32_at(self.bytes, p),
            u32_at(self.bytes, p + 4),
            u16_at(self.bytes, p + 8),
            u16_at(self.bytes, p + 10),
        ) else {
            let have = self.bytes.len().saturating_sub(p);
            return self.fail(format!(
                "truncated block header ({have} of {BLOCK_HEADER_SIZE} bytes)"
            ));
        };
        let usize_size = size as usize;
        if size == 0 || usize_size > MAX_BLOCK_SIZE - BLOCK_HEADER_SIZE {
            return self.fail(format!("corrupt block size {size}"));
        }
        if num_records == 0 {
            return self.fail("corrupt block: 0 records".into());
        }
        let Some(payload) = slice(self.bytes, p + BLOCK_HEADER_SIZE, usize_size) else {
            let have = self.bytes.len().saturating_sub(p + BLOCK_HEADER_SIZE);
            return self.fail(format!(
                "truncated block: size {size}, only {have} bytes left in file"
            ));
        };
        let blk = RawBlock {
            index: self.index,
            offset: self.pos,
            num_records,
            size,
            block_type,
            flags,
            payload,
        };
        self.pos += (BLOCK_HEADER_SIZE + usize_size) as u64;
        self.index += 1;
        Some(Ok(blk))
    }
}
