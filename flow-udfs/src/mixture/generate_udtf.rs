// `mixture_generate('histogram.csv' | 'mixture_dir', n [, 'length' | 'size' [, seed]])`: the
// flows `flow-models generate` makes, as a table (all fields 0 except packets and octets).

use crate::mixture::XKind;
use crate::mixture::generate::{FlowGenerator, Source, flow_batches};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::datasource::MemTable;
use datafusion::logical_expr::Expr;
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::path::Path;
use std::sync::Arc;

const USAGE: &str =
    "mixture_generate('histogram.csv' | 'mixture_dir', n [, 'length' | 'size' [, seed]])";

#[derive(Debug)]
pub struct MixtureGenerateFunc;

fn literal(e: &Expr) -> Result<&ScalarValue> {
    match e {
        Expr::Literal(v, _) => Ok(v),
        other => plan_err!("{USAGE}: arguments must be literals, got {other}"),
    }
}

fn string(e: &Expr) -> Result<String> {
    match literal(e)? {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => Ok(s.clone()),
        other => plan_err!("{USAGE}: expected a string, got {other}"),
    }
}

fn unsigned(e: &Expr, what: &str) -> Result<u64> {
    match literal(e)?.cast_to(&arrow::datatypes::DataType::Int64) {
        Ok(ScalarValue::Int64(Some(v))) if v >= 0 => Ok(v as u64),
        _ => plan_err!("{USAGE}: {what} must be a non-negative integer, got {e}"),
    }
}

impl TableFunctionImpl for MixtureGenerateFunc {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let exprs = args.exprs();
        if !(2..=4).contains(&exprs.len()) {
            return plan_err!("{USAGE}: got {} arguments", exprs.len());
        }
        let path = string(&exprs[0])?;
        let n = unsigned(&exprs[1], "n")?;
        let kind = match exprs.get(2).map(string).transpose()?.as_deref() {
            None | Some("length") => XKind::Length,
            Some("size") => XKind::Size,
            Some(other) => {
                return plan_err!("{USAGE}: x must be 'length' or 'size', got {other:?}");
            }
        };
        let mut rng = match exprs.get(3) {
            Some(e) => StdRng::seed_from_u64(unsigned(e, "seed")?),
            None => StdRng::seed_from_u64(super::generate::clock_seed()),
        };
        let source = Source::load(Path::new(&path))?;
        let mut generator = FlowGenerator::new(source, kind)?;
        let mut batches = Vec::new();
        flow_batches(&mut generator, &mut rng, n, 65536, |b| {
            batches.push(b);
            Ok(())
        })?;
        let schema = flow_provider::fields::standard_schema();
        Ok(Arc::new(MemTable::try_new(schema, vec![batches])?))
    }
}
