//! Installing the flow formats into a `SessionContext`, and the extension trait that gives
//! embedding applications one-line access to flow data.

use crate::binary::format::CopyOptionsInFormat;
use crate::binary::{FlowBinFormatFactory, FlowBinTable, FlowBinTableFactory};
use crate::inputs::{keep_all, local_files, local_path};
use crate::listing::FlowListing;
use crate::named;
use crate::nfcapd::format::nfcapd_table;
use crate::nfcapd::{NfcapdFormatFactory, NfcapdOptions};
use crate::text::{LineFormat, TextFlowFormatFactory, text_table};
use crate::udtf::{FlowBinFunc, NfcapdFunc, NfcapdInfoFunc, TextFunc};
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider, TableProviderFactory};
use datafusion::common::Result;
use datafusion::datasource::listing::ListingTable;
use datafusion::datasource::listing_table_factory::ListingTableFactory;
use datafusion::logical_expr::CreateExternalTable;
use datafusion::prelude::{DataFrame, SessionContext};
use std::path::Path;
use std::sync::Arc;

const TEXT_FORMATS: [LineFormat; 2] = [LineFormat::CsvFlow, LineFormat::Pipe];

/// Installs every flow format: `STORED AS FLOWBIN | CSV_FLOW | PIPE | NFCAPD` for `CREATE
/// EXTERNAL TABLE` and `COPY`, and the table functions `flowbin()`, `csv_flow()`, `pipe()`,
/// `nfcapd()`, `nfcapd_info()`; local files are read through [`LocalFiles`](crate::local_store).
pub fn register(ctx: &SessionContext) -> Result<()> {
    crate::local_store::register_local_files(&ctx.runtime_env());
    {
        let state = ctx.state_ref();
        let mut state = state.write();
        state.register_file_format(Arc::new(FlowBinFormatFactory::default()), true)?;
        state
            .table_factories_mut()
            .insert("FLOWBIN".into(), Arc::new(FlowBinTableFactory));
        for format in TEXT_FORMATS {
            state.register_file_format(Arc::new(TextFlowFormatFactory(format)), true)?;
            state.table_factories_mut().insert(
                format.name().to_uppercase(),
                Arc::new(CheckedListingFactory(format.name())),
            );
        }
        state.register_file_format(Arc::new(NfcapdFormatFactory), true)?;
        state
            .table_factories_mut()
            .insert("NFCAPD".into(), Arc::new(CheckedListingFactory("nfcapd")));
    }
    ctx.add_analyzer_rule(Arc::new(CopyOptionsInFormat));
    ctx.register_udtf("flowbin", Arc::new(FlowBinFunc));
    ctx.register_udtf("nfcapd", Arc::new(NfcapdFunc));
    ctx.register_udtf("nfcapd_info", Arc::new(NfcapdInfoFunc));
    for format in TEXT_FORMATS {
        ctx.register_udtf(format.name(), Arc::new(TextFunc(format)));
    }
    Ok(())
}

/// `CREATE EXTERNAL TABLE … STORED AS CSV_FLOW | PIPE | NFCAPD`: DataFusion's listing (a
/// directory is read as `dir/*.{format}`), after each local location is checked as the table
/// functions check their paths: DataFusion lists a missing path as empty and says only "No files
/// found", without the format or the reason. Its own errors get the format's name too.
#[derive(Debug)]
struct CheckedListingFactory(&'static str);

#[async_trait]
impl TableProviderFactory for CheckedListingFactory {
    async fn create(
        &self,
        state: &dyn Session,
        cmd: &CreateExternalTable,
    ) -> Result<Arc<dyn TableProvider>> {
        // Local nfcapd locations are read as nfcapd('dir') reads them: every file below a
        // directory. DataFusion's listing would take only the top level and only names ending in
        // `.nfcapd`, and a collector's files (`yyyy/mm/dd/nfcapd.YYYYMMDDhhmm`) have neither.
        if self.0 == "nfcapd" {
            let local: Option<Vec<String>> = cmd
                .locations
                .iter()
                .map(|l| local_path(l).map(|p| p.to_string_lossy().into_owned()))
                .collect();
            if let Some(paths) = local {
                let options = NfcapdOptions::from_map(&cmd.options)?;
                return Ok(Arc::new(nfcapd_table(&paths, options)?));
            }
        }
        for location in &cmd.locations {
            if let Some(path) = local_path(location) {
                local_files(self.0, &path, keep_all)?;
            }
        }
        let table = ListingTableFactory::new()
            .create(state, cmd)
            .await
            .map_err(|e| named(self.0, e))?;
        // Said to be ours, so that a codec can ship it (see `FlowListing`).
        let listing = table.downcast_ref::<ListingTable>().cloned();
        Ok(match listing.and_then(FlowListing::new) {
            Some(ours) => Arc::new(ours),
            None => table,
        })
    }
}

/// One-line access to flow data from any `SessionContext`.
pub trait SessionContextFlowExt {
    /// Registers the binary trace(s) at `path` (a trace, or a directory of traces) as `name`.
    fn register_flowbin(&self, name: &str, path: impl AsRef<Path>) -> Result<()>;
    /// Reads binary traces (each path a trace or a directory of traces) as one DataFrame.
    fn read_flowbin<P: AsRef<Path>>(&self, paths: &[P]) -> Result<DataFrame>;
    /// Registers csv_flow or pipe files (or directories of them) as `name`.
    fn register_text_flows(&self, name: &str, format: LineFormat, paths: &[&str]) -> Result<()>;
    /// Reads csv_flow or pipe files (or directories of them) as one DataFrame.
    fn read_text_flows(&self, format: LineFormat, paths: &[&str]) -> Result<DataFrame>;
    /// Registers nfcapd files (or directory trees of them) as `name`.
    fn register_nfcapd(&self, name: &str, paths: &[&str], options: NfcapdOptions) -> Result<()>;
    /// Reads nfcapd files (or directory trees of them) as one DataFrame.
    fn read_nfcapd(&self, paths: &[&str], options: NfcapdOptions) -> Result<DataFrame>;
}

impl SessionContextFlowExt for SessionContext {
    fn register_flowbin(&self, name: &str, path: impl AsRef<Path>) -> Result<()> {
        self.register_table(
            name,
            Arc::new(FlowBinTable::open(&self.runtime_env(), &[path])?),
        )?;
        Ok(())
    }

    fn read_flowbin<P: AsRef<Path>>(&self, paths: &[P]) -> Result<DataFrame> {
        self.read_table(
            Arc::new(FlowBinTable::open(&self.runtime_env(), paths)?) as Arc<dyn TableProvider>
        )
    }

    fn register_text_flows(&self, name: &str, format: LineFormat, paths: &[&str]) -> Result<()> {
        let paths = crate::store::expand_remote(&self.runtime_env(), format.name(), paths)?;
        self.register_table(name, Arc::new(text_table(format, &paths)?))?;
        Ok(())
    }

    fn read_text_flows(&self, format: LineFormat, paths: &[&str]) -> Result<DataFrame> {
        let paths = crate::store::expand_remote(&self.runtime_env(), format.name(), paths)?;
        self.read_table(Arc::new(text_table(format, &paths)?))
    }

    fn register_nfcapd(&self, name: &str, paths: &[&str], options: NfcapdOptions) -> Result<()> {
        let paths = crate::store::expand_remote(&self.runtime_env(), "nfcapd", paths)?;
        self.register_table(name, Arc::new(nfcapd_table(&paths, options)?))?;
        Ok(())
    }

    fn read_nfcapd(&self, paths: &[&str], options: NfcapdOptions) -> Result<DataFrame> {
        let paths = crate::store::expand_remote(&self.runtime_env(), "nfcapd", paths)?;
        self.read_table(Arc::new(nfcapd_table(&paths, options)?))
    }
}
