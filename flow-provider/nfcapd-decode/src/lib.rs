//! A decoder of nfdump `nfcapd` files, both on-disk layouts (1 = nfdump 1.6, 2 = nfdump 1.7)
//! and every block compression nfdump writes (LZO, LZ4, BZ2, ZSTD), into columns of flow
//! fields. It knows nothing of DataFusion: `flow-provider` builds Arrow arrays and a DataFusion
//! file source on it, and the fuzz target feeds it arbitrary bytes.
//!
//! ```no_run
//! use nfcapd_decode::{Projection, decode_file, read_header};
//!
//! let bytes = std::fs::read("nfcapd.201907110830").unwrap();
//! let info = read_header(&bytes).unwrap();
//! println!("layout {:?}, compression {:?}", info.layout, info.compression);
//! let (columns, stats) = decode_file(&bytes, &Projection::all(), false).unwrap();
//! println!("{} records in {} blocks", columns.rows, stats.blocks);
//! ```
//!
//! The decoder never panics and never reads outside its input: every access goes through the
//! bounded helpers in `bytes`, and block sizes are capped at nfdump's own limit.
#![forbid(unsafe_code)]

mod block;
mod bytes;
mod compress;
mod decode;
mod error;
mod header;
mod lzo;
pub mod net;
mod record;
pub mod text;
mod v1;
mod v2;

pub use block::{Blocks, RawBlock};
pub use compress::{Compression, decompress};
pub use decode::{
    DecodeStats, Decoder, MAX_BLOCK_SIZE, blocks, blocks_with, decode_block, decode_block_with,
    decode_file,
};
pub use error::NfError;
pub use header::{
    BLOCK_HEADER_SIZE, FileInfo, HEADER_BYTES, Layout, StatRecord, read_appendix, read_file_header,
    read_header,
};
pub use record::{Addr, Column, FlowColumns, FlowRow, IpWords, Projection};
pub use v1::ExtMaps;
