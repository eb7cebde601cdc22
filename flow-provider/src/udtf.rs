//! Table functions that read flow data by path: `flowbin('dir', …)`, `csv_flow('file', …)`,
//! `pipe('file', …)`, `nfcapd('file or dir', …)`, `nfcapd_info('file or dir', …)`.

use crate::binary::FlowBinTable;
use crate::nfcapd::NfcapdOptions;
use crate::nfcapd::format::nfcapd_table;
use crate::nfcapd::info::info_table;
use crate::text::LineFormat;
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// The string literals of a table function call; anything else is a planning error.
fn path_args(function: &str, exprs: &[Expr]) -> Result<Vec<String>> {
    if exprs.is_empty() {
        return plan_err!("{function}() needs at least one path, e.g. {function}('data/trace')");
    }
    exprs
        .iter()
        .map(|e| match e {
            Expr::Literal(
                ScalarValue::Utf8(Some(s))
                | ScalarValue::LargeUtf8(Some(s))
                | ScalarValue::Utf8View(Some(s)),
                _,
            ) => Ok(s.clone()),
            other => plan_err!("{function}() takes string paths, got {other}"),
        })
        .collect()
}

#[derive(Debug)]
pub struct FlowBinFunc;

impl TableFunctionImpl for FlowBinFunc {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let paths = path_args("flowbin", args.exprs())?;
        Ok(Arc::new(FlowBinTable::try_new(&paths)?))
    }
}

#[derive(Debug)]
pub struct TextFunc(pub LineFormat);

impl TableFunctionImpl for TextFunc {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let paths = path_args(self.0.name(), args.exprs())?;
        Ok(Arc::new(crate::context::text_table(self.0, &paths)?))
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
        let paths = path_args("nfcapd", &exprs)?;
        Ok(Arc::new(nfcapd_table(&paths, options)?))
    }
}

/// `nfcapd_info('file or dir', …)`: one row of header data per nfcapd file.
#[derive(Debug)]
pub struct NfcapdInfoFunc;

impl TableFunctionImpl for NfcapdInfoFunc {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let paths = path_args("nfcapd_info", args.exprs())?;
        Ok(Arc::new(info_table(&paths)?))
    }
}
