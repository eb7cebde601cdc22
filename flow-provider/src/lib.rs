//! DataFusion sources and sinks for network flow records: flow-models binary traces (zero-copy
//! memory maps), flow-models csv_flow and nfdump pipe text, nfdump nfcapd files (native decoder). `register(&ctx)` installs them all;
//! [`SessionContextFlowExt`] adds one-line `register_*`/`read_*` calls.

pub mod atomic;
pub mod binary;
pub mod context;
pub mod fields;
pub mod inputs;
pub mod nfcapd;
pub mod sink;
pub mod text;
mod udtf;

pub use context::{SessionContextFlowExt, register};

use datafusion::common::DataFusionError;

/// `e` with the SQL function or format `name` in its message (kept as it is when it names it
/// already). Errors raised below a function (file readers, checks shared with the command line,
/// DataFusion's listing) do not know which call they belong to, and a user must see which failed.
pub fn named(name: &str, e: impl Into<DataFusionError>) -> DataFusionError {
    let e = e.into();
    if e.to_string().contains(name) {
        return e;
    }
    match e {
        DataFusionError::Plan(m) => DataFusionError::Plan(format!("{name}: {m}")),
        other => DataFusionError::Execution(format!("{name}: {}", other.message())),
    }
}
