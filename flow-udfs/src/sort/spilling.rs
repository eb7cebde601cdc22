//! The sort as a DataFusion plan: DataFusion's sort is not stable, so the input position
//! (`__row`) is the last sort key; reversing sorts every key, position included, descending.
//! It spills to disk under the session's memory pool.

use crate::row_index::{ROW_COLUMN, RowIndexExec};
use arrow::compute::SortOptions;
use datafusion::common::{DataFusionError, Result};
use datafusion::physical_expr::expressions::{Column, col};
use datafusion::physical_expr::{LexOrdering, PhysicalSortExpr};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::sorts::sort::SortExec;
use datafusion::physical_plan::sorts::sort_preserving_merge::SortPreservingMergeExec;
use std::sync::Arc;

/// A sort over a scan, keeping hold of the sort node to read its spill metrics afterwards.
pub struct SortPlan {
    pub plan: Arc<dyn ExecutionPlan>,
    sort: Arc<SortExec>,
}

/// What the sort spilled to disk: (spill files, bytes), once the plan has run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Spill {
    pub files: usize,
    pub bytes: usize,
    pub rows: usize,
}

impl SortPlan {
    pub fn spill(&self) -> Spill {
        let m = self.sort.metrics().unwrap_or_default();
        Spill {
            files: m.spill_count().unwrap_or(0),
            bytes: m.spilled_bytes().unwrap_or(0),
            rows: m.spilled_rows().unwrap_or(0),
        }
    }
}

/// `scan` (a flowbin scan or any single-partition input) sorted by `keys`, ascending, or the
/// exact reverse of that order. The output has the scan's columns.
pub fn sort_plan(scan: Arc<dyn ExecutionPlan>, keys: &[String], reverse: bool) -> Result<SortPlan> {
    if keys.is_empty() {
        return Err(DataFusionError::Plan(
            "sort: give at least one key field (-k)".into(),
        ));
    }
    let columns = scan.schema().fields().len();
    let indexed: Arc<dyn ExecutionPlan> = Arc::new(RowIndexExec::try_new(scan)?);
    let schema = indexed.schema();
    let options = SortOptions {
        descending: reverse,
        nulls_first: !reverse,
    };
    let exprs = keys
        .iter()
        .map(String::as_str)
        .chain([ROW_COLUMN])
        .map(|k| {
            let e = col(k, &schema)
                .map_err(|_| DataFusionError::Plan(format!("sort: no field '{k}' in the input")))?;
            Ok(PhysicalSortExpr::new(e, options))
        })
        .collect::<Result<Vec<_>>>()?;
    let ordering = LexOrdering::new(exprs).expect("at least the position key");
    let sort = Arc::new(SortExec::new(ordering.clone(), indexed).with_preserve_partitioning(true));
    let merged: Arc<dyn ExecutionPlan> =
        Arc::new(SortPreservingMergeExec::new(ordering, sort.clone()));
    let out = (0..columns).map(|i| {
        let name = schema.field(i).name().clone();
        (Arc::new(Column::new(&name, i)) as _, name)
    });
    let plan = Arc::new(ProjectionExec::try_new(out, merged)?);
    Ok(SortPlan { plan, sort })
}
