//! The errors of the flow sources and sinks: what failed, on which file, with the cause kept as
//! the error's source instead of being flattened into text. They convert into DataFusion's error
//! (as `External`, so `std::error::Error::source` still reaches the `io::Error`).

use datafusion::common::DataFusionError;
use std::path::PathBuf;

/// A failure of a flow source or sink.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    /// An I/O operation on a file or directory failed: `{action} {path}: {source}`, e.g.
    /// `cannot map trace/octets.Q: Permission denied`.
    #[error("{action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Writing one column of a binary trace failed (`No space left on device`, ...).
    #[error("writing {}: column '{column}': {source}", target.display())]
    Column {
        target: PathBuf,
        column: String,
        #[source]
        source: std::io::Error,
    },
    /// Writing an output stream failed: `{what}: {source}` (e.g. `writing the histogram: Broken
    /// pipe`).
    #[error("{what}: {source}")]
    Output {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// `source`, raised below the SQL function or format `name` (a file reader, a check shared
    /// with the command line), which a user must see named.
    #[error("{name}: {}", source.message())]
    In {
        name: String,
        #[source]
        source: Box<DataFusionError>,
    },
    /// A ranged read of an object failed: `reading {url} at byte offset {offset}: {source}`.
    #[error("reading {url} at byte offset {offset}: {source}")]
    Read {
        url: String,
        offset: u64,
        #[source]
        source: object_store::Error,
    },
    /// An nfcapd file could not be decoded (its file, block and byte offset are in it).
    #[error(transparent)]
    Nfcapd(#[from] nfcapd_decode::NfError),
}

impl FlowError {
    /// `action` on `path` failed with `source`.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        FlowError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

impl From<FlowError> for DataFusionError {
    fn from(e: FlowError) -> Self {
        DataFusionError::External(Box::new(e))
    }
}
