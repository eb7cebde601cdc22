//! Table functions that read flow data by path: `flowbin('dir', …)`, `csv_flow('file', …)`,
//! `pipe('file', …)`, `nfcapd('file or dir', …)`, `nfcapd_info('file or dir', …)`.

use crate::args::paths;
use crate::binary::FlowBinTable;
use crate::nfcapd::NfcapdOptions;
use crate::nfcapd::format::nfcapd_table;
use crate::nfcapd::info::info_table;
use crate::store::expand_remote;
use crate::text::{LineFormat, text_table};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::Expr;
use std::sync::Arc;

#[derive(Debug)]
pub struct FlowBinFunc;

impl TableFunctionImpl for FlowBinFunc {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let paths = paths("flowbin", args.exprs())?;
        Ok(Arc::new(FlowBinTable::open(
            args.session().runtime_env(),
            &paths,
        )?))
    }
}

#[derive(Debug)]
pub struct TextFunc(pub LineFormat);

impl TableFunctionImpl for TextFunc {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let paths = paths(self.0.name(), args.exprs())?;
        let paths = expand_remote(args.session().runtime_env(), self.0.name(), &paths)?;
        Ok(Arc::new(text_table(self.0, &paths)?))
    }
}

/// `nfcapd('file or dir', …[, skip_corrupt])`: a trailing boolean is the skip_corrupt option.
#[derive(Debug)]
pub struct NfcapdFunc;

impl TableFunctionImpl for NfcapdFunc {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let mut exprs = args.exprs().to_vec();
        let mut options = NfcapdOptions::default();
        if let Some(Expr::Literal(ScalarValue::Boolean(Some(skip)), _)) = exprs.last() {
            options.skip_corrupt = *skip;
            exprs.pop();
        }
        let paths = paths("nfcapd", &exprs)?;
        let paths = expand_remote(args.session().runtime_env(), "nfcapd", &paths)?;
        Ok(Arc::new(nfcapd_table(&paths, options)?))
    }
}

/// `nfcapd_info('file or dir', …)`: one row of header data per nfcapd file.
#[derive(Debug)]
pub struct NfcapdInfoFunc;

impl TableFunctionImpl for NfcapdInfoFunc {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let paths = paths("nfcapd_info", args.exprs())?;
        let paths = expand_remote(args.session().runtime_env(), "nfcapd_info", &paths)?;
        Ok(Arc::new(info_table(&paths)?))
    }
}
