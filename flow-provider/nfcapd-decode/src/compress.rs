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
    if compression == Compression::Lz4 {
        // LZ4 cannot expand more than ~255:1, so size the buffer accordingly. The buffer keeps
        // its length between blocks: zero-filling megabytes per block would cost as much as
        // decoding them.
        let bound = payload
            .len()
            .saturating_mul(255)
            .saturating_add(64)
            .min(MAX_BLOCK_SIZE);
        if scratch.len() < bound {
            scratch.resize(bound, 0);
        }
        return match lz4_flex::block::decompress_into(payload, &mut scratch[..bound]) {
            Ok(n) => Ok(&scratch[..n]),
            Err(e) => Err(format!("LZ4 decompression failed: {e}")),
        };
    }
    if compression == Compression::Lzo {
        // As LZ4: the buffer keeps its length (and its zeros) from block to block.
        let size = MAX_BLOCK_SIZE + lzo::SLACK;
        if scratch.len() < size {
            scratch.resize(size, 0);
        }
        return match lzo::decompress_into(payload, &mut scratch[..size]) {
            Ok(n) => Ok(&scratch[..n]),
            Err(e) => Err(format!("LZO decompression failed: {e}")),
        };
    }
    scratch.clear();
    match compression {
        // (LZ4 and LZO returned above)
        Compression::None | Compression::Lz4 | Compression::Lzo => return Ok(payload),
        Compression::Bz2 => {
            let limit = MAX_BLOCK_SIZE as u64 + 1;
            let mut rd = bzip2::read::BzDecoder::new(payload).take(limit);
            rd.read_to_end(scratch)
                .map_err(|e| format!("BZ2 decompression failed: {e}"))?;
            if scratch.len() > MAX_BLOCK_SIZE {
                return Err(format!(
                    "BZ2 block decompresses to more than {MAX_BLOCK_SIZE} bytes"
                ));
            }
        }
        Compression::Zstd => zstd_decompress(payload, scratch)?,
    }
    Ok(scratch.as_slice())
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
