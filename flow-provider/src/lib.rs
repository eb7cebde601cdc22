//! DataFusion sources and sinks for network flow records: flow-models binary traces (zero-copy
//! memory maps), flow-models csv_flow and nfdump pipe text, nfdump nfcapd files (decoded by the
//! `nfcapd-decode` crate). [`register`] installs them all (`STORED AS FLOWBIN | CSV_FLOW | PIPE |
//! NFCAPD`, `COPY … STORED AS FLOWBIN | CSV_FLOW`, the table functions `flowbin`, `csv_flow`,
//! `pipe`, `nfcapd`, `nfcapd_info`); [`SessionContextFlowExt`] adds one-line calls.
//!
//! ```no_run
//! use datafusion::prelude::SessionContext;
//! use flow_provider::SessionContextFlowExt;
//!
//! # async fn f() -> datafusion::common::Result<()> {
//! let ctx = SessionContext::new();
//! flow_provider::register(&ctx)?;
//! ctx.register_flowbin("flows", "examples/data/sample")?;
//! let df = ctx
//!     .sql("SELECT prot, count(*), sum(octets) FROM flows GROUP BY prot")
//!     .await?;
//! df.show().await?;
//! // nfdump's files in SQL, and a filtered copy as a new binary trace
//! ctx.sql("COPY (SELECT * FROM nfcapd('/var/cache/nfdump/2024/') WHERE prot = 17) \
//!          TO 'udp' STORED AS FLOWBIN")
//!     .await?
//!     .collect()
//!     .await?;
//! # Ok(()) }
//! ```

pub mod atomic;
pub mod binary;
mod context;
mod error;
pub mod fields;
pub mod nfcapd;
pub mod plan_data;
pub mod sink;
pub mod store;
pub mod text;
mod udtf;
pub mod upload;

// Shared with flow-udfs and the fuzz targets, not part of the embedding API.
#[doc(hidden)]
pub mod args;
#[doc(hidden)]
pub mod inputs;
#[doc(hidden)]
pub mod listing;
pub mod local_store;

pub use context::{SessionContextFlowExt, register};
pub use error::FlowError;

use datafusion::common::DataFusionError;

#[doc(hidden)]
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
        DataFusionError::Execution(m) => DataFusionError::Execution(format!("{name}: {m}")),
        // Anything else keeps its source error: `source()` still reaches an `io::Error`.
        other => FlowError::In {
            name: name.to_string(),
            source: Box::new(other),
        }
        .into(),
    }
}
