//! `nfcapd_info('path', …)`: one row per nfcapd file with its header and appendix data, the
//! native counterpart of `nfdump -I` (file totals by protocol, ident, compression, blocks).
//! Local files are mapped; objects in a store are read by ranges (the header and the appendix,
//! not the blocks), when the table is scanned.

use super::remote::RemoteFile;
use super::source::is_collector_side_file;
use crate::binary::mmap::map_file;
use crate::inputs::{Input, inputs, local_files};
use arrow::array::{
    ArrayRef, Int64Array, RecordBatch, StringArray, UInt8Array, UInt32Array, UInt64Array,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use async_trait::async_trait;
use datafusion::catalog::{MemTable, Session, TableProvider};
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::logical_expr::{Expr, TableType};
use datafusion::physical_plan::ExecutionPlan;
use futures::{StreamExt, TryStreamExt, stream};
use nfcapd_decode::{FileInfo, HEADER_BYTES, Layout, NfError, read_file_header, read_header};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Headers read at once from a store.
const CONCURRENT_READS: usize = 16;

/// Stat record counters in column order: (column name, accessor).
type Counter = (&'static str, fn(&nfcapd_decode::StatRecord) -> u64);
const COUNTERS: [Counter; 18] = [
    ("flows", |s| s.numflows),
    ("packets", |s| s.numpackets),
    ("bytes", |s| s.numbytes),
    ("flows_tcp", |s| s.numflows_tcp),
    ("flows_udp", |s| s.numflows_udp),
    ("flows_icmp", |s| s.numflows_icmp),
    ("flows_other", |s| s.numflows_other),
    ("packets_tcp", |s| s.numpackets_tcp),
    ("packets_udp", |s| s.numpackets_udp),
    ("packets_icmp", |s| s.numpackets_icmp),
    ("packets_other", |s| s.numpackets_other),
    ("bytes_tcp", |s| s.numbytes_tcp),
    ("bytes_udp", |s| s.numbytes_udp),
    ("bytes_icmp", |s| s.numbytes_icmp),
    ("bytes_other", |s| s.numbytes_other),
    ("first_ms", |s| s.first_seen_ms),
    ("last_ms", |s| s.last_seen_ms),
    ("sequence_failures", |s| s.sequence_failure),
];

pub fn info_schema() -> SchemaRef {
    let mut fields = vec![
        Field::new("file", DataType::Utf8, false),
        Field::new("layout", DataType::UInt8, false),
        Field::new("compression", DataType::Utf8, false),
        Field::new("nfdump_version", DataType::Utf8, true),
        Field::new("ident", DataType::Utf8, true),
        Field::new("created", DataType::Int64, true),
        Field::new("blocks", DataType::UInt32, false),
    ];
    fields.extend(
        COUNTERS
            .iter()
            .map(|(n, _)| Field::new(*n, DataType::UInt64, true)),
    );
    Arc::new(Schema::new(fields))
}

/// Every nfcapd file at `path`: the file itself, or all files below a directory in name order
/// (nfcapd's side files left out). A missing path or an empty directory is an error.
pub fn list_files(path: &Path) -> Result<Vec<PathBuf>> {
    local_files("nfcapd", path, is_collector_side_file)
}

/// `nfdump`'s version number 0x01070100 as "1.7.1"; nfdump 1.7.8 sets the top nibble
/// (0xF1070800): left out.
fn version_string(v: u32) -> String {
    let major = (v >> 24) & 0x0f;
    format!("{major}.{}.{}", (v >> 16) & 0xff, (v >> 8) & 0xff)
}

/// The header rows of all files at `paths`: files, directory trees, or URLs of objects (each
/// object is a URL of its own, as `store::expand_remote` lists them).
pub fn info_table<P: AsRef<str>>(paths: &[P]) -> Result<InfoTable> {
    let files = inputs("nfcapd_info", paths, is_collector_side_file)?;
    Ok(InfoTable { files })
}

/// `nfcapd_info`'s table: its files' headers are read when it is scanned.
#[derive(Debug)]
pub struct InfoTable {
    files: Vec<Input>,
}

#[async_trait]
impl TableProvider for InfoTable {
    fn schema(&self) -> SchemaRef {
        info_schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let runtime = state.runtime_env().clone();
        let infos: Vec<(String, FileInfo)> = stream::iter(self.files.clone())
            .map(|input| {
                let runtime = runtime.clone();
                async move { read_info(&runtime, &input).await }
            })
            .buffered(CONCURRENT_READS)
            .try_collect()
            .await?;
        let schema = info_schema();
        let table = MemTable::try_new(schema.clone(), vec![vec![info_batch(&infos, schema)?]])?;
        table.scan(state, projection, filters, limit).await
    }
}

/// The name and header of one file.
async fn read_info(runtime: &RuntimeEnv, input: &Input) -> Result<(String, FileInfo)> {
    let (name, info) = match input {
        Input::File(f) => {
            let name = f.display().to_string();
            let info = read_header(&map_file(f)?);
            (name, info)
        }
        Input::Remote(url) => {
            let file = RemoteFile::open(runtime, url).await?;
            let info = read_remote_header(&file).await?;
            (file.url, info)
        }
    };
    let info = info.map_err(|e| DataFusionError::Execution(e.with_file(&name).to_string()))?;
    Ok((name, info))
}

/// The header and appendix of a remote file, read by ranges.
async fn read_remote_header(file: &RemoteFile) -> Result<Result<FileInfo, NfError>> {
    let head = match file.size {
        0 => Default::default(),
        size => file.read(0..size.min(HEADER_BYTES as u64)).await?,
    };
    let mut header = read_file_header(&head, file.size);
    if let Ok(info) = &mut header {
        file.read_appendix(info).await?;
    }
    Ok(header)
}

fn info_batch(infos: &[(String, FileInfo)], schema: SchemaRef) -> Result<RecordBatch> {
    let stat = |f: fn(&nfcapd_decode::StatRecord) -> u64| -> ArrayRef {
        Arc::new(
            infos
                .iter()
                .map(|(_, i)| i.stat.as_ref().map(f))
                .collect::<UInt64Array>(),
        )
    };
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(
            infos
                .iter()
                .map(|(n, _)| Some(n.as_str()))
                .collect::<StringArray>(),
        ),
        Arc::new(
            infos
                .iter()
                .map(|(_, i)| Some(if i.layout == Layout::V1 { 1 } else { 2 }))
                .collect::<UInt8Array>(),
        ),
        Arc::new(
            infos
                .iter()
                .map(|(_, i)| Some(format!("{:?}", i.compression).to_lowercase()))
                .collect::<StringArray>(),
        ),
        Arc::new(
            infos
                .iter()
                .map(|(_, i)| i.nfdversion.map(version_string))
                .collect::<StringArray>(),
        ),
        Arc::new(
            infos
                .iter()
                .map(|(_, i)| i.ident.clone())
                .collect::<StringArray>(),
        ),
        Arc::new(infos.iter().map(|(_, i)| i.created).collect::<Int64Array>()),
        Arc::new(
            infos
                .iter()
                .map(|(_, i)| Some(i.num_blocks))
                .collect::<UInt32Array>(),
        ),
    ];
    columns.extend(COUNTERS.iter().map(|(_, f)| stat(*f)));
    Ok(RecordBatch::try_new(schema, columns)?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn version_prints_like_nfdump() {
        assert_eq!(super::version_string(0x0107_0100), "1.7.1");
    }
}
