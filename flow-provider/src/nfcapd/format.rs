//! nfcapd as a DataFusion `FileFormat`: what `STORED AS NFCAPD`, the `nfcapd()` table function
//! and `register_nfcapd` resolve to. The scan is a plain `DataSourceExec` over file groups, so
//! its parameters are paths, byte ranges, projection, limit and `NfcapdOptions` (plain data).

use super::nets::AddrNets;
use super::schema::nfcapd_schema;
use super::source::is_collector_side_file;
use super::window::TimeWindow;
use crate::inputs::{Input, inputs};
use crate::listing::{FlowFormat, FlowListing, file_format, listing_table};
use crate::plan_data::FileKind;
use arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::common::{GetExt, Result, exec_err, plan_err};
use datafusion_datasource::file_format::{FileFormat, FileFormatFactory};
use std::collections::HashMap;
use std::sync::Arc;

/// Reading options. `skip_corrupt`: skip blocks (and files) that fail to decode, counting them
/// in the scan's metrics, instead of failing the query.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NfcapdOptions {
    pub skip_corrupt: bool,
    /// Bounds on `first` and `last` pushed down from the query: files whose statistics miss
    /// them are skipped ([`TimeWindow`]); not an option of `OPTIONS (…)`.
    pub window: TimeWindow,
    /// `ip_in_net(src_ip | dst_ip, 'net')` filters the scan answers ([`AddrNets`]); not an
    /// option of `OPTIONS (…)` either.
    pub nets: AddrNets,
}

impl NfcapdOptions {
    /// From `OPTIONS ('skip_corrupt' 'true')` (also spelled `format.skip_corrupt`).
    pub fn from_map(options: &HashMap<String, String>) -> Result<Self> {
        let mut parsed = Self::default();
        for (key, value) in options {
            match key.strip_prefix("format.").unwrap_or(key) {
                "skip_corrupt" => {
                    parsed.skip_corrupt = match value.to_ascii_lowercase().as_str() {
                        "true" | "1" | "yes" => true,
                        "false" | "0" | "no" => false,
                        _ => {
                            return plan_err!(
                                "nfcapd: skip_corrupt must be true or false, got '{value}'"
                            );
                        }
                    }
                }
                _ => return plan_err!("nfcapd: unknown option '{key}' (known: skip_corrupt)"),
            }
        }
        Ok(parsed)
    }
}

#[derive(Debug, Default)]
pub struct NfcapdFormatFactory;

impl GetExt for NfcapdFormatFactory {
    fn get_ext(&self) -> String {
        "nfcapd".into()
    }
}

impl FileFormatFactory for NfcapdFormatFactory {
    fn create(
        &self,
        _state: &dyn Session,
        options: &HashMap<String, String>,
    ) -> Result<Arc<dyn FileFormat>> {
        Ok(Arc::new(NfcapdFormat(NfcapdOptions::from_map(options)?)))
    }

    fn default(&self) -> Arc<dyn FileFormat> {
        Arc::new(NfcapdFormat::default())
    }
}

#[derive(Debug, Default)]
pub struct NfcapdFormat(pub NfcapdOptions);

/// Collector files are named `nfcapd.YYYYMMDDhhmm`: there is no common extension, so every file
/// of a listed directory is read (nfcapd's own side files are skipped).
impl FlowFormat for NfcapdFormat {
    type Factory = NfcapdOptions;

    fn opener_factory(&self) -> NfcapdOptions {
        self.0.clone()
    }

    fn schema(&self) -> Result<SchemaRef> {
        Ok(nfcapd_schema())
    }
}

file_format!(NfcapdFormat);

/// A table over nfcapd files, lists of them, or directory trees (every file below a
/// directory, e.g. a collector's `yyyy/mm/dd/nfcapd.YYYYMMDDhhmm` layout).
pub fn nfcapd_table<P: AsRef<str>>(paths: &[P], options: NfcapdOptions) -> Result<FlowListing> {
    // DataFusion lists only the top level of a directory by default, drops empty files
    // silently and lists a missing path as empty: the inputs are found and checked here, and an
    // empty nfcapd file is an error.
    let mut urls = Vec::new();
    for input in inputs("nfcapd", paths, is_collector_side_file)? {
        if let Input::File(f) = &input
            && std::fs::metadata(f).is_ok_and(|m| m.is_file() && m.len() == 0)
        {
            // Skipped with skip_corrupt (DataFusion's listing leaves empty files out): it holds
            // no flows, so nothing is lost.
            if !options.skip_corrupt {
                return exec_err!("nfcapd file {}: at byte offset 0: empty file", f.display());
            }
        }
        urls.push(input.url()?);
    }
    let table = listing_table(
        Arc::new(NfcapdFormat(options.clone())),
        nfcapd_schema(),
        urls,
    )?;
    Ok(FlowListing::known(table, FileKind::Nfcapd(options)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_parse_and_reject_unknown_keys() {
        let map = |k: &str, v: &str| HashMap::from([(k.to_string(), v.to_string())]);
        assert!(
            NfcapdOptions::from_map(&map("skip_corrupt", "true"))
                .unwrap()
                .skip_corrupt
        );
        assert!(
            NfcapdOptions::from_map(&map("format.skip_corrupt", "TRUE"))
                .unwrap()
                .skip_corrupt
        );
        assert!(
            !NfcapdOptions::from_map(&map("skip_corrupt", "false"))
                .unwrap()
                .skip_corrupt
        );
        assert!(NfcapdOptions::from_map(&map("skip_corrupt", "maybe")).is_err());
        assert!(NfcapdOptions::from_map(&map("compression", "lz4")).is_err());
    }
}
