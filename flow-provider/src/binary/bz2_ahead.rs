//! A bzip2 file of many streams (`pbzip2`'s, or our writer's: a stream per frame) decoded on
//! all cores: bzip2 streams do not say how much they decompress to, so a scan cannot start
//! inside the file, but the streams after the one being read can be decoded ahead, each on a
//! thread of its own, and handed over in order.
//!
//! Where streams start is guessed from their magic ([`bz2_stream_starts`]); a guess counts
//! only where the stream before it ended (a decoder tells how many bytes it took), so a magic
//! met inside compressed data by chance costs a wasted decode, never a wrong byte.

use super::frames::bz2_stream_starts;
use arrow::buffer::Buffer;
use std::collections::VecDeque;
use std::io::{Error, ErrorKind, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;

/// A decoded stream: its bytes and how many compressed bytes it took (`None`: too large).
type Decoded = std::io::Result<Option<(Vec<u8>, usize)>>;

/// Bytes a stream decoded ahead may hold: a larger one (the `bzip2` CLI writes one stream
/// for the whole file) is read by a streaming decoder instead, so that memory stays bounded.
const AHEAD_BYTES: usize = 32 << 20;

/// Decodes the one bzip2 stream at the start of `data`; `None` when it holds more than
/// `limit` bytes.
fn decode_stream(data: &[u8], limit: usize) -> Decoded {
    let mut d = bzip2::Decompress::new(false);
    let mut out = Vec::with_capacity(limit.clamp(1, 1 << 20));
    loop {
        if out.len() == out.capacity() {
            if out.len() >= limit {
                return Ok(None);
            }
            out.reserve(out.capacity());
        }
        let (taken, made) = (d.total_in(), out.len());
        let input = data.get(taken as usize..).unwrap_or_default();
        let status = d
            .decompress_vec(input, &mut out)
            .map_err(|e| Error::new(ErrorKind::InvalidData, e))?;
        if let bzip2::Status::StreamEnd = status {
            return Ok(Some((out, d.total_in() as usize)));
        }
        if d.total_in() == taken && out.len() == made {
            return Err(Error::new(
                ErrorKind::UnexpectedEof,
                "the file ends inside a bzip2 stream",
            ));
        }
    }
}

/// The decompressed bytes of a bzip2 file, its streams decoded ahead on threads.
pub struct Bz2Ahead {
    data: Buffer,
    /// Guessed stream starts not yet decoded, ascending.
    guesses: VecDeque<usize>,
    /// Decodes under way: where each started.
    ahead: VecDeque<(usize, JoinHandle<Decoded>)>,
    /// Where the next stream starts (the end of the last one handed over).
    next: usize,
    /// The stream being handed over, and how much of it was.
    out: Vec<u8>,
    at: usize,
    /// Compressed bytes consumed (for errors: where the decoder was).
    consumed: Arc<AtomicU64>,
    threads: usize,
    /// Bytes a stream decoded ahead may hold ([`AHEAD_BYTES`]).
    limit: usize,
    /// The streaming decoder of the rest of the file, once a stream was too large to decode
    /// ahead (or the file has one stream).
    streaming: Option<bzip2::read::MultiBzDecoder<std::io::Cursor<super::compressed::Mapped>>>,
}

impl Bz2Ahead {
    /// The decoder of the bzip2 file `data`; `consumed` follows its compressed position.
    pub fn new(data: Buffer, consumed: Arc<AtomicU64>) -> Self {
        let guesses = bz2_stream_starts(data.as_slice());
        Self::with_guesses(data, guesses, consumed)
    }

    /// [`Bz2Ahead::new`] with the stream starts guessed as `guesses`.
    fn with_guesses(data: Buffer, guesses: Vec<usize>, consumed: Arc<AtomicU64>) -> Self {
        let one = guesses.len() <= 1;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut reader = Bz2Ahead {
            data,
            guesses: guesses.into(),
            ahead: VecDeque::new(),
            next: 0,
            out: Vec::new(),
            at: 0,
            consumed,
            threads,
            limit: AHEAD_BYTES,
            streaming: None,
        };
        if one {
            reader.stream_from(0);
        }
        reader
    }

    /// Reads the rest of the file, from `start` on, by one streaming decoder.
    fn stream_from(&mut self, start: usize) {
        let rest = self.data.slice(start.min(self.data.len()));
        let input = std::io::Cursor::new(super::compressed::Mapped(rest));
        self.streaming = Some(bzip2::read::MultiBzDecoder::new(input));
        self.ahead.clear();
    }

    fn spawn(&mut self, start: usize) {
        let (data, limit) = (self.data.clone(), self.limit);
        let job = std::thread::spawn(move || decode_stream(&data.as_slice()[start..], limit));
        self.ahead.push_back((start, job));
    }

    /// The next stream, decoded: the one starting at `self.next`.
    fn next_stream(&mut self) -> std::io::Result<()> {
        // Decodes started at a wrong guess (before `next`, or one that skipped it) go.
        while self
            .ahead
            .front()
            .is_some_and(|(start, _)| *start != self.next)
        {
            self.ahead.pop_front();
        }
        while self.guesses.front().is_some_and(|&g| g <= self.next) {
            self.guesses.pop_front();
        }
        if self.ahead.is_empty() {
            self.spawn(self.next);
        }
        while self.ahead.len() < self.threads
            && let Some(start) = self.guesses.pop_front()
        {
            self.spawn(start);
        }
        let (start, job) = self
            .ahead
            .pop_front()
            .ok_or_else(|| Error::other("no decoder"))?;
        let decoded = job
            .join()
            .map_err(|_| Error::other("a bzip2 decoder panicked"))??;
        let Some((out, taken)) = decoded else {
            self.stream_from(start);
            return Ok(());
        };
        self.next = start + taken;
        self.consumed.store(self.next as u64, Ordering::Relaxed);
        (self.out, self.at) = (out, 0);
        Ok(())
    }
}

impl Read for Bz2Ahead {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.at == self.out.len()
            && let Some(decoder) = &mut self.streaming
        {
            return decoder.read(buf);
        }
        while self.at == self.out.len() && self.streaming.is_none() {
            if self.next >= self.data.len() || buf.is_empty() {
                return Ok(0);
            }
            self.next_stream()?;
        }
        if self.at == self.out.len() {
            return self.read(buf); // (streaming from here on)
        }
        let n = buf.len().min(self.out.len() - self.at);
        buf[..n].copy_from_slice(&self.out[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn stream(data: &[u8]) -> Vec<u8> {
        let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::new(1));
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn decode(file: &[u8], guesses: Vec<usize>) -> std::io::Result<Vec<u8>> {
        decode_within(file, guesses, AHEAD_BYTES)
    }

    /// [`decode`] with streams of more than `limit` bytes read by the streaming decoder.
    fn decode_within(file: &[u8], guesses: Vec<usize>, limit: usize) -> std::io::Result<Vec<u8>> {
        let consumed = Arc::new(AtomicU64::new(0));
        let mut reader = Bz2Ahead::with_guesses(Buffer::from(file.to_vec()), guesses, consumed);
        reader.limit = limit;
        let mut out = Vec::new();
        reader.read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn streams_decoded_ahead_in_order_whatever_the_guesses() {
        let parts: Vec<Vec<u8>> = (0..7u64)
            .map(|i| {
                (0..50_000 + i * 999)
                    .flat_map(|v| (v * i).to_le_bytes())
                    .collect()
            })
            .collect();
        let streams: Vec<Vec<u8>> = parts.iter().map(|p| stream(p)).collect();
        let file = streams.concat();
        let want = parts.concat();
        let mut starts = vec![0];
        for s in &streams {
            starts.push(starts.last().unwrap() + s.len());
        }
        starts.pop();
        assert_eq!(bz2_stream_starts(&file), starts);
        assert_eq!(decode(&file, starts.clone()).unwrap(), want);
        // Wrong guesses (inside streams, a start missing, duplicates): the same bytes.
        let wrong = vec![
            0,
            5,
            starts[1] + 1,
            starts[3],
            starts[3] + 100,
            starts[6] - 1,
        ];
        assert_eq!(decode(&file, wrong).unwrap(), want);
        assert_eq!(decode(&file, vec![0]).unwrap(), want);
        // Streams too large to decode ahead: the rest read by the streaming decoder.
        for limit in [1 << 16, 420_000, 1 << 20] {
            assert_eq!(decode_within(&file, starts.clone(), limit).unwrap(), want);
        }
        // A truncated last stream, a corrupt one: errors, not short output.
        assert!(decode(&file[..file.len() - 10], starts.clone()).is_err());
        let mut corrupt = file.clone();
        corrupt[starts[2] + 200] ^= 0x55;
        assert!(decode(&corrupt, starts).is_err());
    }
}
