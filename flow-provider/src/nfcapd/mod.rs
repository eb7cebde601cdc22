//! nfdump `nfcapd` files (layout 1 = nfdump 1.6, layout 2 = nfdump 1.7) as a DataFusion source:
//! a pure-Rust decoder (`header`, `block`, `compress`, `v1`, `v2`, `decode`) and the DataFusion
//! glue (`format` for `STORED AS NFCAPD`, `source` for opening one file, `info` for `nfcapd_info`).
//!
//! The decoder never panics and never reads outside its input: all access goes through the
//! bounded helpers in `bytes`. It has no `unsafe`; memory maps are made by `binary::mmap`.
#![forbid(unsafe_code)]

mod block;
mod bytes;
mod compress;
mod decode;
mod error;
pub mod format;
mod header;
pub mod info;
mod lzo;
mod record;
pub mod schema;
mod source;
mod v1;
mod v2;

pub use block::{Blocks, RawBlock};
pub use compress::{Compression, decompress};
pub use decode::{
    DecodeStats, Decoder, MAX_BLOCK_SIZE, blocks, blocks_with, decode_block, decode_block_with,
    decode_file,
};
pub use error::NfError;
pub use format::{NfcapdFormat, NfcapdFormatFactory, NfcapdOptions};
pub use header::{FileInfo, Layout, StatRecord, read_header};
pub use record::{Column, FlowColumns, FlowRow, IpWords, Projection};
pub use v1::ExtMaps;
