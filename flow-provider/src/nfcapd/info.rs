//! `nfcapd_info('path', …)`: one row per nfcapd file with its header and appendix data, the
//! native counterpart of `nfdump -I` (file totals by protocol, ident, compression, blocks).

use super::source::is_collector_side_file;
use crate::binary::mmap::map_file;
use crate::inputs::{Input, inputs, local_files};
use arrow::array::{
    ArrayRef, Int64Array, RecordBatch, StringArray, UInt8Array, UInt32Array, UInt64Array,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::MemTable;
use datafusion::common::{DataFusionError, Result, plan_err};
use nfcapd_decode::{FileInfo, Layout, read_header};
use std::path::{Path, PathBuf};
use std::sync::Arc;

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

/// `nfdump`'s version number 0x01070100 as "1.7.1".
fn version_string(v: u32) -> String {
    format!("{}.{}.{}", v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff)
}

/// The header rows of all files at `paths` (files or directory trees).
pub fn info_table<P: AsRef<str>>(paths: &[P]) -> Result<MemTable> {
    let mut files = Vec::new();
    for input in inputs("nfcapd_info", paths, is_collector_side_file)? {
        match input {
            Input::File(f) => files.push(f),
            Input::Remote(u) => return plan_err!("nfcapd_info reads local files only, got {u}"),
        }
    }
    let mut infos: Vec<(String, FileInfo)> = Vec::new();
    for f in &files {
        let name = f.display().to_string();
        let bytes = map_file(f)?;
        let info = read_header(&bytes)
            .map_err(|e| DataFusionError::Execution(e.with_file(&name).to_string()))?;
        infos.push((name, info));
    }
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
    let schema = info_schema();
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    MemTable::try_new(schema, vec![vec![batch]])
}

#[cfg(test)]
mod tests {
    #[test]
    fn version_prints_like_nfdump() {
        assert_eq!(super::version_string(0x0107_0100), "1.7.1");
    }
}
