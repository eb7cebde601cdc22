//! Rewrites an nfcapd file with every block recompressed: how `bench/nfcapd.sh` makes the ZSTD
//! file Debian's nfdump 1.7.1 cannot write (the tests' re-writer; no LZO encoder).
//!
//!     cargo run --release -p flow-provider --example nfcapd_recompress -- IN OUT zstd
#[path = "../tests/nfcapd_common/mod.rs"]
mod nfcapd_common;

use nfcapd_decode::Compression;

fn main() -> Result<(), String> {
    let [_, input, output, codec] =
        <[String; 4]>::try_from(std::env::args().collect::<Vec<_>>())
            .map_err(|_| "usage: nfcapd_recompress IN OUT none|lz4|bz2|zstd".to_string())?;
    let to = match codec.as_str() {
        "none" => Compression::None,
        "lz4" => Compression::Lz4,
        "bz2" => Compression::Bz2,
        "zstd" => Compression::Zstd,
        c => return Err(format!("no encoder for '{c}' (none, lz4, bz2, zstd)")),
    };
    let bytes = std::fs::read(&input).map_err(|e| format!("{input}: {e}"))?;
    let out = nfcapd_common::rewrite(&bytes, to, None);
    std::fs::write(&output, out).map_err(|e| format!("{output}: {e}"))
}
