//! The in-memory sort of one trace as a one-partition plan (what the merge of an unordered
//! trace reads), its memory reserved from the session's pool.

use super::columns::{constant_columns, decompressed_bytes, mapped_columns};
use super::gather::gathered;
use super::packed::{Order, packed_order};
use crate::row_index::flowbin_traces;
use arrow::array::ArrayRef;
use arrow::datatypes::SchemaRef;
use datafusion::common::Result;
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryLimit, MemoryReservation};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::streaming::{PartitionStream, StreamingTableExec};
use flow_provider::binary::dir::{Location, TraceDir};
use std::sync::Arc;

/// Whether the trace's files are local (mapped): the packed sort reads whole columns, which
/// for a trace in an object store would be a download of everything into memory; the
/// DataFusion sort streams those instead.
pub(crate) fn is_local(trace: &TraceDir) -> bool {
    matches!(trace.location, Location::Local(_))
}

/// The trace `scan` reads, when the in-memory sort can take it: one local binary trace, every
/// column of it (no projection: the packed sort gathers whole mapped columns), in a session
/// without a memory limit (the CLI's rule: `--memory-limit` means DataFusion's spilling sort).
/// `flow_sort`, `ORDER BY` (through [`FlowSortExec`](super::FlowSortExec)) and `sort` decide
/// here.
pub(crate) fn in_memory_trace(
    scan: &Arc<dyn ExecutionPlan>,
    ctx: &TaskContext,
) -> Option<TraceDir> {
    if !matches!(ctx.memory_pool().memory_limit(), MemoryLimit::Infinite) {
        return None;
    }
    match flowbin_traces(scan)? {
        [trace] if trace.columns.len() == scan.schema().fields().len() && is_local(trace) => {
            Some(trace.clone())
        }
        _ => None,
    }
}

/// One trace in `keys` order (`reverse`: the exact reverse) as a one-partition plan whose batches are gathered from the mapped
/// columns as it is read (in-memory packed sort; ties in input order). `None` when the keys do
/// not pack, or the memory pool of `ctx` cannot grant the 16 bytes per record the sort needs and
/// the compressed columns decompressed (the order's 8 or 16 bytes per record and those columns
/// stay reserved while the plan lives): the caller then plans a
/// DataFusion sort, which spills. Its batches have `batch_rows` rows.
pub fn sorted_trace_plan(
    trace: &TraceDir,
    keys: &[String],
    reverse: bool,
    batch_rows: usize,
    ctx: &TaskContext,
) -> Result<Option<Arc<dyn ExecutionPlan>>> {
    if !is_local(trace) {
        return Ok(None);
    }
    // The order, and the compressed columns decompressed for the whole sort.
    let reservation = MemoryConsumer::new("packed sort").register(ctx.memory_pool());
    if (reservation.try_grow(16 * trace.rows + decompressed_bytes(trace))).is_err() {
        return Ok(None);
    }
    let (schema, columns) = mapped_columns(trace)?;
    let Some(order) = packed_order(&schema, &columns, keys, reverse)? else {
        return Ok(None);
    };
    reservation.shrink((16 - order.width()) * trace.rows);
    let sorted = SortedTrace {
        schema: schema.clone(),
        constant: constant_columns(&columns),
        columns,
        order: Arc::new(order),
        batch_rows,
        _reservation: reservation,
    };
    let plan = StreamingTableExec::try_new(schema, vec![Arc::new(sorted)], None, [], false, None)?;
    Ok(Some(Arc::new(plan)))
}

/// A trace's columns in a sorted order, gathered as the partition is read (the order is shared
/// with the gather, not copied: it is the memory the reservation stands for).
#[derive(Debug)]
struct SortedTrace {
    schema: SchemaRef,
    columns: Vec<ArrayRef>,
    constant: Vec<bool>,
    order: Arc<Order>,
    batch_rows: usize,
    _reservation: MemoryReservation,
}

impl PartitionStream for SortedTrace {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        gathered(
            self.schema.clone(),
            self.columns.clone(),
            self.constant.clone(),
            self.order.clone(),
            self.batch_rows,
        )
    }
}
