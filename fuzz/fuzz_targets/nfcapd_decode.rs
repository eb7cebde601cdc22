//! Any byte string fed to the nfcapd decoder gives `Ok` or `Err`, never a panic, an endless
//! loop or an allocation beyond what the input justifies (libFuzzer's -rss_limit_mb checks it).
//!
//! The decoder's modules are compiled here straight from `flow-provider/src/nfcapd/` (they use
//! nothing but each other, std and the decompressors); the other targets use the library crates
//! as ordinary dependencies, as this one will once the decoder is reachable from outside.
#![no_main]
#![allow(dead_code)]

#[path = "../../flow-provider/src/nfcapd/block.rs"]
mod block;
#[path = "../../flow-provider/src/nfcapd/bytes.rs"]
mod bytes;
#[path = "../../flow-provider/src/nfcapd/compress.rs"]
mod compress;
#[path = "../../flow-provider/src/nfcapd/decode.rs"]
mod decode;
#[path = "../../flow-provider/src/nfcapd/error.rs"]
mod error;
#[path = "../../flow-provider/src/nfcapd/header.rs"]
mod header;
#[path = "../../flow-provider/src/nfcapd/lzo.rs"]
mod lzo;
#[path = "../../flow-provider/src/nfcapd/record.rs"]
mod record;
#[path = "../../flow-provider/src/nfcapd/v1.rs"]
mod v1;
#[path = "../../flow-provider/src/nfcapd/v2.rs"]
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
