// `mixture_generate('histogram.csv' | 'mixture_dir', n [, 'length' | 'size' [, seed]])`: the
// flows `flow-models generate` makes, as a table (all fields 0 except packets and octets).

use crate::mixture::XKind;
use crate::mixture::generate::{FlowGenerator, Source, flow_batches};
use crate::named;
use arrow::datatypes::{DataType, SchemaRef};
use datafusion::catalog::streaming::StreamingTable;
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{
    Result, ScalarValue, internal_datafusion_err, plan_datafusion_err, plan_err,
};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::PartitionStream;
use flow_provider::args;
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

const USAGE: &str =
    "mixture_generate('histogram.csv' | 'mixture_dir', n [, 'length' | 'size' [, seed]])";

#[derive(Debug)]
pub struct MixtureGenerateFunc;

fn literal(e: &Expr) -> Result<&ScalarValue> {
    args::literal(e)
        .ok_or_else(|| plan_datafusion_err!("{USAGE}: arguments must be literals, got {e}"))
}

fn string(e: &Expr) -> Result<String> {
    let v = literal(e)?;
    args::string(e)
        .map(str::to_string)
        .ok_or_else(|| plan_datafusion_err!("{USAGE}: expected a string, got {v}"))
}

/// A non-negative integer literal; 10.5 is refused, not truncated.
fn unsigned(e: &Expr, what: &str) -> Result<u64> {
    literal(e)?;
    match args::integer(e).map(|v| v.cast_to(&DataType::UInt64)) {
        Some(Ok(ScalarValue::UInt64(Some(v)))) => Ok(v),
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
        let seed = match exprs.get(3) {
            Some(e) => unsigned(e, "seed")?,
            None => super::generate::clock_seed(),
        };
        let source = Source::load(Path::new(&path)).map_err(|e| named("mixture_generate", e))?;
        let generator =
            FlowGenerator::new(source, kind).map_err(|e| named("mixture_generate", e))?;
        let flows = Flows {
            schema: flow_provider::fields::standard_schema(),
            generator,
            n,
            seed,
        };
        Ok(Arc::new(StreamingTable::try_new(
            flows.schema.clone(),
            vec![Arc::new(flows)],
        )?))
    }
}

/// The flows, drawn a batch at a time as they are read: memory is one batch whatever `n` is,
/// and a `LIMIT` stops the drawing.
struct Flows {
    schema: SchemaRef,
    generator: FlowGenerator,
    n: u64,
    seed: u64,
}

impl fmt::Debug for Flows {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "mixture_generate(n={}, seed={})", self.n, self.seed)
    }
}

impl PartitionStream for Flows {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let (mut generator, mut rng) = (self.generator.clone(), StdRng::seed_from_u64(self.seed));
        let batch_rows = ctx.session_config().batch_size().max(1) as u64;
        let mut left = self.n;
        // One random stream drawn in order: the rows do not depend on the batch size.
        let batches = std::iter::from_fn(move || {
            let rows = left.min(batch_rows);
            if rows == 0 {
                return None;
            }
            left -= rows;
            let mut batch = None;
            let drawn = flow_batches(&mut generator, &mut rng, rows, rows as usize, |b| {
                batch = Some(b);
                Ok(())
            })
            .map_err(|e| named("mixture_generate", e));
            if drawn.is_err() {
                left = 0;
            }
            Some(drawn.and_then(|()| {
                batch.ok_or_else(|| internal_datafusion_err!("mixture_generate: no batch drawn"))
            }))
        });
        Box::pin(RecordBatchStreamAdapter::new(
            self.schema.clone(),
            futures::stream::iter(batches),
        ))
    }
}
