//! The sort as a DataFusion plan: DataFusion's sort is not stable, so the input position
//! (`__row`) is the last sort key; reversing sorts every key, position included, descending.
//! It spills to disk under the session's memory pool.

use crate::row_index::{ROW_COLUMN, RowIndexExec, RowIndexTable};
use arrow::compute::SortOptions;
use datafusion::catalog::TableProvider;
use datafusion::common::{DataFusionError, Result};
use datafusion::datasource::provider_as_source;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, SortExpr};
use datafusion::physical_expr::expressions::{Column, col};
use datafusion::physical_expr::{LexOrdering, PhysicalSortExpr};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::sorts::sort::SortExec;
use datafusion::physical_plan::sorts::sort_preserving_merge::SortPreservingMergeExec;
use datafusion::prelude::{DataFrame, SessionContext};
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

fn no_field(k: &str) -> DataFusionError {
    DataFusionError::Plan(format!("sort: no field '{k}' in the input"))
}

/// `input` sorted by `keys` as [`sort_plan`] sorts it, or with no keys in input order, as a
/// logical plan (the positions from [`RowIndexTable`] the last key) that DataFusion plans as a
/// sort of each partition and an order-preserving merge of them. On a cluster the partitions
/// are read and sorted by the executors (spilling there) and merged in a final task; in input
/// order (no keys) the partitions are already sorted and only merged. `input`'s partitions
/// must be those of a flowbin scan or one partition.
pub fn sorted_plan(
    input: Arc<dyn TableProvider>,
    keys: &[String],
    reverse: bool,
) -> Result<LogicalPlan> {
    let schema = input.schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    if let Some(k) = keys.iter().find(|k| !names.contains(&k.as_str())) {
        return Err(no_field(k));
    }
    let column = |name: &str| Expr::Column(datafusion::common::Column::from_name(name));
    let order: Vec<SortExpr> = (keys.iter().map(String::as_str))
        .chain([ROW_COLUMN])
        .map(|k| SortExpr::new(column(k), !reverse, reverse))
        .collect();
    let indexed = provider_as_source(Arc::new(RowIndexTable::new(input)));
    LogicalPlanBuilder::scan("sorted", indexed, None)?
        .sort(order)?
        .project(names.iter().map(|n| column(n)))?
        .build()
}

/// [`sorted_plan`] as a DataFrame of `ctx`.
pub fn sorted_frame(
    ctx: &SessionContext,
    input: Arc<dyn TableProvider>,
    keys: &[String],
    reverse: bool,
) -> Result<DataFrame> {
    Ok(DataFrame::new(
        ctx.state(),
        sorted_plan(input, keys, reverse)?,
    ))
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
    // DataFusion's default NULL placement (ASC NULLS LAST, DESC NULLS FIRST), as FlowSortExec
    // declares it: the reverse is still the exact reverse.
    let options = SortOptions {
        descending: reverse,
        nulls_first: reverse,
    };
    let exprs = keys
        .iter()
        .map(String::as_str)
        .chain([ROW_COLUMN])
        .map(|k| {
            let e = col(k, &schema).map_err(|_| no_field(k))?;
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
