//! The frame splitter of compressed columns (zstd seek tables and frame headers, xz indexes, lz4
//! frame headers):
//! frames inside the file and in order, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| flow_models_fuzz::compressed::frames(data));
