//! Block decompression by the file's compression (none, LZO, BZ2, LZ4, ZSTD); every codec
//! writes into a caller-provided scratch buffer and is capped at `MAX_BLOCK_SIZE` bytes.
use std::io::Read;

use crate::MAX_BLOCK_SIZE;
use crate::lzo;

/// Block compression. Layout 1 encodes it in header flags, layout 2 in the `compression`
/// byte (`NOT_COMPRESSED 0, LZO 1, BZ2 2, LZ4 3, ZSTD 4`). nfdump applies it to every block
/// (the per-block `flags` field is ignored by nfdump's reader, and so it is here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Lzo,
    Bz2,
    Lz4,
    Zstd,
}

impl Compression {
    pub fn from_v2(v: u8) -> Option<Compression> {
        Some(match v {
            0 => Compression::None,
            1 => Compression::Lzo,
            2 => Compression::Bz2,
            3 => Compression::Lz4,
            4 => Compression::Zstd,
            _ => return None,
        })
    }

    /// Value of the layout 2 header `compression` byte.
    pub fn to_v2(self) -> u8 {
        match self {
            Compression::None => 0,
            Compression::Lzo => 1,
            Compression::Bz2 => 2,
            Compression::Lz4 => 3,
            Compression::Zstd => 4,
        }
    }
}

/// Decompress one block payload. Returns `payload` itself when uncompressed, else the
/// decompressed bytes in `scratch`. The output is limited to `MAX_BLOCK_SIZE` bytes.
pub fn decompress<'a>(
    compression: Compression,
    payload: &'a [u8],
    scratch: &'a mut Vec<u8>,
) -> Result<&'a [u8], String> {
    match compression {
        Compression::None => Ok(payload),
        Compression::Lz4 => {
            // LZ4 cannot expand more than ~255:1, so size the buffer accordingly.
            let bound = payload
                .len()
                .saturating_mul(255)
                .saturating_add(64)
                .min(MAX_BLOCK_SIZE);
            into_kept(scratch, bound, "LZ4", |out| {
                lz4_flex::block::decompress_into(payload, out)
            })
        }
        Compression::Lzo => {
            let size = MAX_BLOCK_SIZE + lzo::SLACK;
            into_kept(scratch, size, "LZO", |out| {
                lzo::decompress_into(payload, out)
            })
        }
        Compression::Bz2 => {
            scratch.clear();
            let limit = MAX_BLOCK_SIZE as u64 + 1;
            let mut rd = bzip2::read::BzDecoder::new(payload).take(limit);
            rd.read_to_end(scratch)
                .map_err(|e| format!("BZ2 decompression failed: {e}"))?;
            if scratch.len() > MAX_BLOCK_SIZE {
                return Err(format!(
                    "BZ2 block decompresses to more than {MAX_BLOCK_SIZE} bytes"
                ));
            }
            Ok(scratch.as_slice())
        }
        Compression::Zstd => {
            scratch.clear();
            zstd_decompress(payload, scratch)?;
            Ok(scratch.as_slice())
        }
    }
}

/// `decode` into the first `size` bytes of `scratch`, which keeps its length (and its zeros)
/// from block to block: zero-filling megabytes per block would cost as much as decoding them.
fn into_kept<'a, E: std::fmt::Display>(
    scratch: &'a mut Vec<u8>,
    size: usize,
    codec: &str,
    decode: impl FnOnce(&mut [u8]) -> Result<usize, E>,
) -> Result<&'a [u8], String> {
    if scratch.len() < size {
        scratch.resize(size, 0);
    }
    match decode(&mut scratch[..size]) {
        Ok(n) => Ok(&scratch[..n]),
        Err(e) => Err(format!("{codec} decompression failed: {e}")),
    }
}

fn zstd_decompress(payload: &[u8], scratch: &mut Vec<u8>) -> Result<(), String> {
    scratch.reserve(MAX_BLOCK_SIZE);
    let mut d = zstd::bulk::Decompressor::new().map_err(|e| format!("ZSTD init failed: {e}"))?;
    d.decompress_to_buffer(payload, scratch)
        .map_err(|e| format!("ZSTD decompression failed: {e}"))?;
    if scratch.len() > MAX_BLOCK_SIZE {
        return Err(format!(
            "ZSTD block decompresses to more than {MAX_BLOCK_SIZE} bytes"
        ));
    }
    Ok(())
}
