// `mixture_generate('histogram.csv' | 'mixture_dir', n [, 'length' | 'size' [, seed]])`: the
// flows `flow-models generate` makes, as a table (all fields 0 except packets and octets).

use crate::mixture::XKind;
use crate::mixture::generate::{FlowGenerator, Source, flow_batches};
use crate::named;
use arrow::datatypes::{DataType, SchemaRef};
use async_trait::async_trait;
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{
    Result, ScalarValue, internal_datafusion_err, internal_err, plan_datafusion_err, plan_err,
};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{Expr, TableType};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::execution_plan::EmissionType;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};
use flow_provider::args;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;
use std::sync::Arc;

const NAME: &str = "mixture_generate";

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
        let size = match exprs.get(2).map(string).transpose()?.as_deref() {
            None | Some("length") => false,
            Some("size") => true,
            Some(other) => {
                return plan_err!("{USAGE}: x must be 'length' or 'size', got {other:?}");
            }
        };
        let seed = match exprs.get(3) {
            Some(e) => unsigned(e, "seed")?,
            None => super::generate::clock_seed(),
        };
        let path = std::path::absolute(&path).map_or(path, |p| p.to_string_lossy().into_owned());
        Ok(Arc::new(GenerateTable::open(GenerateParams {
            path,
            n,
            size,
            seed,
        })?))
    }
}

/// What `mixture_generate` draws: from the histogram or mixture at `path`, `n` flows of
/// `size` (else length) with the random stream of `seed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenerateParams {
    /// A csv_hist file or a mixture directory (absolute: where it is decoded may not share
    /// the caller's working directory).
    pub path: String,
    /// How many flows.
    pub n: u64,
    /// x is the flow size (octets), else its length (packets).
    pub size: bool,
    /// Seed of the one random stream the flows are drawn from.
    pub seed: u64,
}

/// The flows `mixture_generate` makes, as a table: one partition ([`GenerateExec`]).
#[derive(Debug, Clone)]
pub struct GenerateTable(GenerateExec);

impl GenerateTable {
    /// Loads the histogram or mixture (an error names the file).
    pub fn open(params: GenerateParams) -> Result<Self> {
        Ok(Self(GenerateExec::open(params)?))
    }

    /// What the table draws.
    pub fn params(&self) -> &GenerateParams {
        &self.0.params
    }
}

#[async_trait]
impl TableProvider for GenerateTable {
    fn schema(&self) -> SchemaRef {
        self.0.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    async fn scan(
        &self,
        _session: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        crate::projected(Arc::new(self.0.clone()), projection)
    }
}

/// The drawing of [`GenerateParams`]' flows, in one partition.
#[derive(Clone)]
pub struct GenerateExec {
    params: GenerateParams,
    generator: FlowGenerator,
    properties: Arc<PlanProperties>,
}

impl GenerateExec {
    /// Loads the histogram or mixture (an error names the file).
    pub fn open(params: GenerateParams) -> Result<Self> {
        let kind = match params.size {
            true => XKind::Size,
            false => XKind::Length,
        };
        let source = Source::load(Path::new(&params.path)).map_err(|e| named(NAME, e))?;
        let generator = FlowGenerator::new(source, kind).map_err(|e| named(NAME, e))?;
        let properties = crate::plan_properties(
            flow_provider::fields::standard_schema(),
            1,
            EmissionType::Incremental,
        );
        Ok(Self {
            params,
            generator,
            properties,
        })
    }

    /// What the operator draws.
    pub fn params(&self) -> &GenerateParams {
        &self.params
    }
}

impl fmt::Debug for GenerateExec {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "GenerateExec({:?})", self.params)
    }
}

impl DisplayAs for GenerateExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let GenerateParams {
            path,
            n,
            size,
            seed,
        } = &self.params;
        let x = if *size { "size" } else { "length" };
        write!(f, "GenerateExec: {path}, n={n}, x={x}, seed={seed}")
    }
}

impl ExecutionPlan for GenerateExec {
    fn name(&self) -> &str {
        "GenerateExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn with_new_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    /// The flows, drawn a batch at a time as they are read: memory is one batch whatever `n`
    /// is, and a `LIMIT` stops the drawing.
    fn execute(
        &self,
        partition: usize,
        ctx: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return internal_err!("{NAME} has one partition, asked for {partition}");
        }
        let (mut generator, mut rng) = (
            self.generator.clone(),
            StdRng::seed_from_u64(self.params.seed),
        );
        let batch_rows = ctx.session_config().batch_size().max(1) as u64;
        let mut left = self.params.n;
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
            .map_err(|e| named(NAME, e));
            if drawn.is_err() {
                left = 0;
            }
            Some(drawn.and_then(|()| {
                batch.ok_or_else(|| internal_datafusion_err!("{NAME}: no batch drawn"))
            }))
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.schema(),
            futures::stream::iter(batches),
        )))
    }
}
