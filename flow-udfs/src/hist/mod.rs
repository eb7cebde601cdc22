//! Flow histograms (the original's `hist`): the fast path ([`HistAcc`] in [`HistExec`], used by
//! the `flow_hist` table function and the CLI), its csv_hist output, and one-call entry points.
//! `sql/hist.sql` holds the plain GROUP BY twin that tests prove equal.

mod acc;
mod csv;
mod exec;
mod spec;
mod sql;
mod table;

pub use acc::HistAcc;
pub use csv::{HistOutput, write_csv_hist, write_hist};
pub use exec::{HistExec, HistPartialExec, accumulate, hist_plan};
pub use spec::{EXACT, HistSpec, SumColumn, XValue};
pub use table::{FlowHistFunc, HistTable};

use arrow::array::RecordBatch;
use datafusion::common::Result;
use datafusion::physical_plan::{ExecutionPlan, execute_stream_partitioned};
use datafusion::prelude::DataFrame;
use std::sync::Arc;

/// The histogram of every flow of `df`, through the fast path, on all of `df`'s partitions;
/// `progress` is called with the row count of each batch read.
pub async fn histogram(
    df: DataFrame,
    spec: &HistSpec,
    progress: impl Fn(usize) + Clone + Send + 'static,
) -> Result<RecordBatch> {
    Ok(histogram_and_plan(df, spec, progress).await?.0)
}

/// [`histogram`], with the plan that read the flows (its metrics: what the scan read and
/// skipped).
pub async fn histogram_and_plan(
    df: DataFrame,
    spec: &HistSpec,
    progress: impl Fn(usize) + Clone + Send + 'static,
) -> Result<(RecordBatch, Arc<dyn ExecutionPlan>)> {
    let task_ctx = Arc::new(df.task_ctx());
    let plan = df
        .select(spec.input_exprs())?
        .create_physical_plan()
        .await?;
    let streams = execute_stream_partitioned(plan.clone(), task_ctx.clone())?;
    let batch = accumulate(streams, spec, task_ctx.memory_pool(), progress).await?;
    Ok((batch, plan))
}
