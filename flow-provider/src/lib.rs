//! DataFusion sources and sinks for network flow records: flow-models binary traces (zero-copy
//! memory maps), flow-models csv_flow and nfdump pipe text, nfdump nfcapd files (native decoder). `register(&ctx)` installs them all;
//! [`SessionContextFlowExt`] adds one-line `register_*`/`read_*` calls.

pub mod atomic;
pub mod binary;
pub mod context;
pub mod convert;
pub mod fields;
pub mod nfcapd;
pub mod sink;
pub mod text;
mod udtf;

pub use context::{SessionContextFlowExt, register};
