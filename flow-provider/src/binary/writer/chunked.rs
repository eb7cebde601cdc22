//! The buffer between the writer and a column file: every write but the last a whole 2 MiB
//! chunk at an aligned address, as huge page-cache folios and direct writes want.

use crate::binary::direct::{ALIGN, is_aligned};
use std::io::Write;

/// Size of every write but a file's last: 2 MiB at 2 MiB-aligned offsets, so the kernel can keep
/// the written pages in 2 MiB page-cache folios, which later scans map with one page-table entry
/// each (small writes leave 4 KiB pages, and scanning a large trace then spends much of its time
/// on page tables).
const CHUNK: usize = 2 << 20;

/// A column file written in whole `CHUNK`s.
pub(super) struct Chunked<W: Write> {
    pub(super) file: W,
    /// The chunk being filled: `len` bytes at `raw[start..]`, the first [`ALIGN`]-aligned
    /// address of `raw` (direct writes need it).
    raw: Vec<u8>,
    start: usize,
    len: usize,
    /// Whether the caller's buffers may go to `file` as they are only when aligned.
    needs_alignment: bool,
    /// Bytes handed to `file` since the last early sync was asked for.
    pub(super) unsynced: u64,
}

impl<W: Write> Chunked<W> {
    pub(super) fn new(file: W, needs_alignment: bool) -> Self {
        let raw = vec![0; CHUNK + ALIGN];
        let start = raw.as_ptr().align_offset(ALIGN);
        Self {
            file,
            raw,
            start,
            len: 0,
            needs_alignment,
            unsynced: 0,
        }
    }

    pub(super) fn write_all(&mut self, mut bytes: &[u8]) -> std::io::Result<()> {
        // Straight from the caller's buffer when nothing is pending: whole chunks, or to a
        // direct file from an aligned buffer (the sort's gathered columns) every whole block.
        let step = if !self.needs_alignment {
            CHUNK
        } else if is_aligned(bytes) {
            bytes.len() / ALIGN * ALIGN
        } else {
            0
        };
        while self.len == 0 && step > 0 && bytes.len() >= step {
            self.file.write_all(&bytes[..step])?;
            bytes = &bytes[step..];
            self.unsynced += step as u64;
        }
        while !bytes.is_empty() {
            let take = (CHUNK - self.len).min(bytes.len());
            let at = self.start + self.len;
            self.raw[at..at + take].copy_from_slice(&bytes[..take]);
            self.len += take;
            bytes = &bytes[take..];
            if self.len == CHUNK {
                self.file
                    .write_all(&self.raw[self.start..self.start + CHUNK])?;
                self.len = 0;
                self.unsynced += CHUNK as u64;
            }
        }
        Ok(())
    }

    /// Writes the tail and returns the file.
    pub(super) fn finish(mut self) -> std::io::Result<W> {
        self.file
            .write_all(&self.raw[self.start..self.start + self.len])?;
        Ok(self.file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records the size of every write it receives, its bytes, and whether its buffer was
    /// [`ALIGN`]-aligned.
    #[derive(Default)]
    struct Writes(Vec<usize>, Vec<u8>, Vec<bool>);

    impl Write for Writes {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.push(buf.len());
            self.1.extend_from_slice(buf);
            self.2.push(is_aligned(buf));
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn writes_whole_aligned_chunks_then_the_tail() {
        let mut w = Chunked::new(Writes::default(), false);
        let data: Vec<u8> = (0..5 * CHUNK + 123).map(|i| (i % 251) as u8).collect();
        // Odd-sized pieces, as batches of different lengths and widths arrive.
        for piece in data.chunks(65_536 * 3 + 7) {
            w.write_all(piece).unwrap();
        }
        let out = w.finish().unwrap();
        assert_eq!(out.0, [CHUNK, CHUNK, CHUNK, CHUNK, CHUNK, 123]);
        assert_eq!(out.1, data);

        // Pieces larger than a chunk: whole chunks go straight out when nothing is pending,
        // otherwise through the buffer; the writes stay whole aligned chunks.
        let mut w = Chunked::new(Writes::default(), false);
        let half = 2 * CHUNK + CHUNK / 2;
        for piece in [&data[..2 * CHUNK], &data[2 * CHUNK..half], &data[half..]] {
            w.write_all(piece).unwrap();
        }
        let out = w.finish().unwrap();
        assert_eq!(out.0, [CHUNK, CHUNK, CHUNK, CHUNK, CHUNK, 123]);
        assert_eq!(out.1, data);

        // A file written direct takes the caller's buffer only when it is aligned: from an
        // unaligned one every chunk goes through the (aligned) buffer.
        let mut w = Chunked::new(Writes::default(), true);
        let unaligned = &data[1..];
        for piece in [&unaligned[..2 * CHUNK], &unaligned[2 * CHUNK..]] {
            w.write_all(piece).unwrap();
        }
        let out = w.finish().unwrap();
        assert_eq!(out.0, [CHUNK, CHUNK, CHUNK, CHUNK, CHUNK, 122]);
        assert_eq!(out.1, unaligned);
        assert_eq!(out.2, [true; 6]);

        // From an aligned buffer, every whole block goes straight to a direct file, whatever
        // the piece's length; a partial block waits in the buffer for the next pieces.
        let mut w = Chunked::new(Writes::default(), true);
        let start = data.as_ptr().align_offset(ALIGN);
        let aligned = &data[start..start + CHUNK + 100];
        let pieces = [3 * ALIGN, CHUNK / 2, 100 + ALIGN];
        let mut at = 0;
        for len in pieces {
            w.write_all(&aligned[at..at + len]).unwrap();
            at += len;
        }
        w.write_all(&aligned[at..]).unwrap();
        let out = w.finish().unwrap();
        let rest = CHUNK + 100 - 3 * ALIGN - CHUNK / 2;
        assert_eq!(out.0, [3 * ALIGN, CHUNK / 2, ALIGN, rest - ALIGN]);
        assert_eq!(out.1, aligned);
        assert_eq!(out.2, [true; 4]);
    }
}
