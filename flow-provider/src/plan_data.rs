//! This crate's tables and scans as plain data, for codecs that ship plans to other processes
//! (a Ballista scheduler and its executors): which format a file table or a file scan reads,
//! with its options, and the traces of a binary-trace scan. Rebuilt from it, a table lists its
//! files again and a scan opens them again, by path or object-store URL; the rest of a file
//! scan (file groups, ranges, projection, limit, statistics) is DataFusion's `FileScanConfig`,
//! which DataFusion's own proto encoding carries.

use crate::binary::dir::TraceDir;
use crate::binary::scan::TraceRows;
use crate::listing::{FlowSource, listing_table};
use crate::nfcapd::NfcapdOptions;
use crate::nfcapd::format::NfcapdFormat;
use crate::nfcapd::schema::nfcapd_schema;
use crate::text::{LineFormat, TextFlowFormat};
use datafusion::common::Result;
use datafusion::datasource::listing::{ListingTable, ListingTableUrl};
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion_datasource::TableSchema;
use datafusion_datasource::file::FileSource;
use datafusion_datasource::file_format::FileFormat;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The format of a listing table of flow files, with its options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FileKind {
    Nfcapd(NfcapdOptions),
    Text(LineFormat),
}

impl FileKind {
    /// The kind of a listing table's format, if it is one of ours.
    pub fn of_format(format: &dyn FileFormat) -> Option<Self> {
        if let Some(f) = format.downcast_ref::<NfcapdFormat>() {
            return Some(Self::Nfcapd(f.0.clone()));
        }
        format
            .downcast_ref::<TextFlowFormat>()
            .map(|f| Self::Text(f.0))
    }

    /// The listing table of this format over `urls` (what `nfcapd(…)`, `csv_flow(…)` and
    /// `pipe(…)` made from the paths they were given).
    pub fn listing(self, urls: &[String]) -> Result<ListingTable> {
        let urls = (urls.iter())
            .map(ListingTableUrl::parse)
            .collect::<Result<Vec<_>>>()?;
        match self {
            Self::Nfcapd(o) => listing_table(Arc::new(NfcapdFormat(o)), nfcapd_schema(), urls),
            Self::Text(f) => listing_table(Arc::new(TextFlowFormat(f)), f.schema(), urls),
        }
    }
}

/// What a file scan of ours reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum ScanSource {
    /// Binary traces (the scan's files are runs of their rows).
    FlowBin(Vec<TraceDir>),
    Files(FileKind),
}

impl ScanSource {
    /// What `source` reads, if it is one of ours.
    pub fn of(source: &dyn FileSource) -> Option<Self> {
        if let Some(s) = source.downcast_ref::<FlowSource<TraceRows>>() {
            return Some(Self::FlowBin(s.factory().traces().to_vec()));
        }
        if let Some(s) = source.downcast_ref::<FlowSource<NfcapdOptions>>() {
            return Some(Self::Files(FileKind::Nfcapd(s.factory().clone())));
        }
        (source.downcast_ref::<FlowSource<LineFormat>>())
            .map(|s| Self::Files(FileKind::Text(*s.factory())))
    }

    /// The file source reading it, unprojected, over `schema` (DataFusion applies the scan's
    /// projection); remote traces are fetched through the stores of `runtime`.
    pub fn file_source(self, schema: TableSchema, runtime: Arc<RuntimeEnv>) -> Arc<dyn FileSource> {
        match self {
            Self::FlowBin(traces) => {
                Arc::new(FlowSource::new(TraceRows::new(traces, runtime), schema))
            }
            Self::Files(FileKind::Nfcapd(o)) => Arc::new(FlowSource::new(o, schema)),
            Self::Files(FileKind::Text(f)) => Arc::new(FlowSource::new(f, schema)),
        }
    }
}
