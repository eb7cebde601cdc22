//! Any byte string fed to the nfcapd decoder gives `Ok` or `Err`, never a panic, an endless
//! loop or an allocation beyond what the input justifies (libFuzzer's -rss_limit_mb checks it).
//!
//! The decoder's modules are compiled here straight from `flow-provider/src/nfcapd/` (they use
//! nothing but each other, std and the decompressors), so fuzzing does not build DataFusion.
#![no_main]
#![allow(dead_code)]

#[path = "../../src/nfcapd/block.rs"]
mod block;
#[path = "../../src/nfcapd/bytes.rs"]
mod bytes;
#[path = "../../src/nfcapd/compress.rs"]
mod compress;
#[path = "../../src/nfcapd/decode.rs"]
mod decode;
#[path = "../../src/nfcapd/error.rs"]
mod error;
#[path = "../../src/nfcapd/header.rs"]
mod header;
#[path = "../../src/nfcapd/lzo.rs"]
mod lzo;
#[path = "../../src/nfcapd/record.rs"]
mod record;
#[path = "../../src/nfcapd/v1.rs"]
mod v1;
#[path = "../../src/nfcapd/v2.rs"]
mod v2;

use decode::{MAX_BLOCK_SIZE, decode_file};
use header::read_header;
use libfuzzer_sys::fuzz_target;
use record::Projection;

fuzz_target!(|data: &[u8]| {
    if read_header(data).is_ok() {
        let _ = decode_file(data, &Projection::all(), false);
        let _ = decode_file(data, &Projection::none(), true);
    }
});
