//! flow-models binary traces: a directory with one raw native-endian array file per field,
//! read zero-copy through memory maps (or by ranged GETs from an object store) and written
//! atomically.

mod bz2_ahead;
pub mod compress;
pub mod compressed;
mod compressed_run;
pub mod cut;
pub mod dir;
mod direct;
pub mod format;
pub mod frames;
pub mod mmap;
pub mod scan;
pub mod source;
pub mod table;
pub mod writer;

pub use direct::ALIGN as DIRECT_ALIGN;
pub use format::{FlowBinFormatFactory, FlowBinSink, FlowBinTableFactory};
pub use table::FlowBinTable;
pub use writer::{FlowBinWriter, RemoteTraceWriter};
