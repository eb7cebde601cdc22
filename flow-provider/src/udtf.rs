//! Table functions that read flow data by path: `flowbin('dir', …)`, `csv_flow('file', …)`,
//! `pipe('file', …)`.

use crate::binary::FlowBinTable;
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
            Expr::Literal(ScalarValue::Utf8(Some(s)) | ScalarValue::LargeUtf8(Some(s)) | ScalarValue::Utf8View(Some(s)), _) => {
                Ok(s.clone())
            }
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
