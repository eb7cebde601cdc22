//! Stable sorting of flow traces, byte-compatible with flow-models' `sort.py` (numpy lexsort:
//! ties keep input order; `reverse` flips the whole order). Two ways, one order:
//! - in memory (`columns`, `packed`, `gather`, `trace_plan`): one binary trace, its integer keys
//!   packed with each record's position into one sortable integer, the mapped columns gathered
//!   in that order batch by batch;
//! - DataFusion's sort with the input position as the last key (`spilling`), for every other
//!   input and under a memory limit, spilling to disk.
//!
//! [`sort_into`] picks one and writes the result; [`sort_plan`] is the DataFusion plan alone,
//! [`sorted_frame`] the same order as a logical plan (what a cluster runs), [`FlowSortFunc`]
//! the SQL table function `flow_sort` (either sort, chosen when it runs).

mod columns;
mod gather;
mod packed;
mod radix;
mod recycled;
mod rule;
mod spilling;
mod table;
mod trace_plan;

pub use rule::FlowSortRule;
pub use spilling::{SortPlan, Spill, sort_plan, sorted_frame, sorted_plan};
pub use table::{FlowSortExec, FlowSortFunc, SortTable};
use trace_plan::in_memory_trace;
pub(crate) use trace_plan::sorted_trace_plan;

use arrow::datatypes::Schema;
use columns::{constant_columns, mapped_columns};
use datafusion::common::Result;
use datafusion::physical_plan::{ExecutionPlan, execute_stream};
use datafusion::prelude::DataFrame;
use flow_provider::binary::dir::TraceDir;
use flow_provider::sink::{FlowSink, drain};
use gather::gathered;
use packed::packed_order;
use std::sync::Arc;

/// How [`sort_into`] sorted.
#[derive(Debug)]
pub enum SortRun {
    /// In memory (one binary trace, keys that pack, no memory limit).
    InMemory,
    /// By DataFusion's sort, which spilled this much; the plan that ran (its metrics).
    Spilling(Spill, Arc<dyn ExecutionPlan>),
}

/// Rows per gathered output batch of the in-memory sort (whatever the session's batch size).
const BATCH_ROWS: usize = 262_144;

/// Sorts every row of `input` by `keys` (stable; `reverse` flips the whole order) into the sink
/// `create` makes for the output schema, calling `progress` with each batch's row count. Returns
/// the rows written and how. One binary trace is sorted in memory when its keys pack and the
/// session has no memory limit; anything else by DataFusion's sort, spilling under the limit.
/// Read text and Parquet inputs in one partition: the scan order is then the input order that
/// ties keep.
///
/// ```no_run
/// # async fn f() -> datafusion::common::Result<()> {
/// use flow_provider::SessionContextFlowExt;
/// use flow_provider::sink::{FlowSink, OutputFormat};
/// let ctx = datafusion::prelude::SessionContext::new();
/// let trace = ctx.read_flowbin(&["trace"])?;
/// let keys = ["first".to_string(), "first_ms".to_string()];
/// let (rows, _) = flow_udfs::sort::sort_into(trace, &keys, false, |schema| {
///     FlowSink::create(OutputFormat::Binary, "by_time", schema)
/// }, |_| {}).await?;
/// # Ok(()) }
/// ```
pub async fn sort_into(
    input: DataFrame,
    keys: &[String],
    reverse: bool,
    create: impl Fn(&Schema) -> Result<FlowSink>,
    mut progress: impl FnMut(usize),
) -> Result<(u64, SortRun)> {
    let task_ctx = Arc::new(input.task_ctx());
    let scan = input.create_physical_plan().await?;
    if let Some(trace) = in_memory_trace(&scan, &task_ctx)
        && let Some(written) = in_memory(&trace, keys, reverse, &create, &mut progress).await?
    {
        return Ok((written, SortRun::InMemory));
    }
    let sort = sort_plan(scan, keys, reverse)?;
    let stream = execute_stream(sort.plan.clone(), task_ctx)?;
    let sink = create(&stream.schema())?;
    let written = drain(stream, sink, progress).await?;
    Ok((written, SortRun::Spilling(sort.spill(), sort.plan)))
}

/// The in-memory sort of one binary trace into a sink from `create`; `None` when the keys do
/// not pack (the sink made for it is then dropped, which removes its temporary output).
async fn in_memory(
    trace: &TraceDir,
    keys: &[String],
    reverse: bool,
    create: &impl Fn(&Schema) -> Result<FlowSink>,
    progress: &mut impl FnMut(usize),
) -> Result<Option<u64>> {
    let (schema, columns) = mapped_columns(trace)?;
    let mut sink = create(&schema)?;
    // Columns of one value are their own sorted output: a binary trace gets them whole at
    // once, written while the order is computed (the disk is what the sort waits for); other
    // outputs get slices of them from the gather.
    let constant = constant_columns(&columns);
    let ahead = match &mut sink {
        FlowSink::Binary(w) if constant.contains(&false) => {
            for i in (0..columns.len()).filter(|&i| constant[i]) {
                w.write_column(schema.field(i).name(), columns[i].clone())?;
            }
            true
        }
        _ => false,
    };
    let Some(order) = packed_order(&schema, &columns, keys, reverse)? else {
        return Ok(None);
    };
    let rest: Vec<usize> = (0..columns.len())
        .filter(|&i| !(ahead && constant[i]))
        .collect();
    let gather = rest.iter().map(|&i| columns[i].clone()).collect();
    let sliced = rest.iter().map(|&i| constant[i]).collect();
    let schema = Arc::new(schema.project(&rest)?);
    let stream = gathered(schema, gather, sliced, Arc::new(order), BATCH_ROWS);
    Ok(Some(drain(stream, sink, progress).await?))
}
