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
pub use exec::{HistExec, accumulate};
pub use spec::{EXACT, HistSpec, SumColumn, XValue};
pub use table::{FlowHistFunc, HistTable};

use arrow::array::RecordBatch;
use datafusion::common::Result;
use datafusion::prelude::DataFrame;

/// The histogram of every flow of `df`, through the fast path, on all of `df`'s partitions;
/// `progress` is called with the row count of each batch read.
pub async fn histogram(
    df: DataFrame,
    spec: &HistSpec,
    progress: impl Fn(usize) + Clone + Send + 'static,
) -> Result<RecordBatch> {
    let pool = df.task_ctx().memory_pool().clone();
    let streams = df
        .select(spec.input_exprs())?
        .execute_stream_partitioned()
        .await?;
    accumulate(streams, spec, &pool, progress).await
}
