//! Any byte string fed to the nfcapd decoder gives `Ok` or `Err`, never a panic, an endless
//! loop or an allocation beyond what the input justifies (libFuzzer's -rss_limit_mb checks it).
#![no_main]

use libfuzzer_sys::fuzz_target;
use nfcapd_decode::{Projection, decode_file, read_header};

fuzz_target!(|data: &[u8]| {
    if read_header(data).is_ok() {
        let _ = decode_file(data, &Projection::all(), false);
        let _ = decode_file(data, &Projection::none(), true);
    }
});
