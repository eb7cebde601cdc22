//! `FlowSortRule`: `ORDER BY` over a binary-trace scan as the stable flow sort. DataFusion plans
//! a full sort as a partition-preserving `SortExec` under a `SortPreservingMergeExec` (or one
//! `SortExec` over one partition); its ties come out in any order. When every key is an integer
//! column of a flowbin scan (directly, or through a projection of plain columns), all keys go
//! the same direction with DataFusion's default null placement, and there is no `LIMIT` (TopK
//! stays), the pair becomes [`FlowSortExec`]: the same rows, ties in input order (descending:
//! the exact reverse), sorted in memory where it can be (see `FlowSortExec`). Anything else is
//! left as it is. Under a session memory limit the rule still applies: `FlowSortExec` then
//! runs DataFusion's spilling sort with the input position as the last key (what `sort
//! --memory-limit` runs), so the order stays stable and the memory bounded as before.
//!
//! On a cluster ([`FlowSortRule::distributed`], the Ballista scheduler's) the pair stays a
//! partition-wise sort and a merge, with the input position as the last key ([`sort_plan`]):
//! executors sort their partitions, one merges them, ties in input order all the same.

use super::{FlowSortExec, sort_plan};
use crate::row_index::flowbin_traces;
use arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::config::ConfigOptions;
use datafusion::physical_expr::LexOrdering;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::execution_plan::replace_children_if_necessary;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::sorts::sort::SortExec;
use datafusion::physical_plan::sorts::sort_preserving_merge::SortPreservingMergeExec;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties};
use std::sync::Arc;

#[derive(Debug, Default)]
pub struct FlowSortRule {
    distributed: bool,
}

impl FlowSortRule {
    /// The rule for a plan a distributed engine splits into tasks: the stable sort as
    /// DataFusion's partition-wise sort and merge (by keys and input position), not as the one
    /// partition of [`FlowSortExec`].
    pub fn distributed() -> Self {
        Self { distributed: true }
    }
}

impl PhysicalOptimizerRule for FlowSortRule {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_down(|node| {
            Ok(match stable_sort(&node, self.distributed)? {
                Some(sorted) => Transformed::yes(sorted),
                None => Transformed::no(node),
            })
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "FlowSortRule"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// The full sort `node` is (a merge over a partition-preserving sort, or a sort of one
/// partition), as its ordering and the sort's input.
fn full_sort(node: &Arc<dyn ExecutionPlan>) -> Option<(&LexOrdering, &Arc<dyn ExecutionPlan>)> {
    if let Some(merge) = node.downcast_ref::<SortPreservingMergeExec>() {
        let sort = merge.input().downcast_ref::<SortExec>()?;
        let whole = merge.fetch().is_none() && sort.fetch().is_none();
        return (whole && sort.preserve_partitioning() && sort.expr() == merge.expr())
            .then(|| (sort.expr(), sort.input()));
    }
    let sort = node.downcast_ref::<SortExec>()?;
    let one = sort.input().output_partitioning().partition_count() == 1;
    (sort.fetch().is_none() && (one || !sort.preserve_partitioning()))
        .then(|| (sort.expr(), sort.input()))
}

/// `node` as the stable sort of a flowbin scan, when it is a full sort the rule applies to.
fn stable_sort(
    node: &Arc<dyn ExecutionPlan>,
    distributed: bool,
) -> Result<Option<Arc<dyn ExecutionPlan>>> {
    let Some((ordering, input)) = full_sort(node) else {
        return Ok(None);
    };
    // A projection of plain columns between: keys are looked up through it.
    let projection = input.downcast_ref::<ProjectionExec>();
    let scan = match projection {
        Some(p) => p.input(),
        None => input,
    };
    let Some(traces) = flowbin_traces(scan) else {
        return Ok(None);
    };
    // A key must be a column of the traces as stored, not a value the scan computes (a
    // projection pushed into it) under its name: same name, same type.
    let stored = |name: &str, t: &DataType| {
        let column = traces.first().and_then(|trace| trace.column(name));
        column.is_some_and(|c| flow_provider::fields::dtype_to_arrow(c.dtype).as_ref() == Some(t))
    };
    let scan_column = |c: &Column| -> Option<String> {
        match projection {
            None => Some(c.name().to_string()),
            Some(p) => {
                let e = &p.expr().get(c.index())?.expr;
                e.downcast_ref::<Column>().map(|c| c.name().to_string())
            }
        }
    };
    if let Some(p) = projection
        && !p
            .expr()
            .iter()
            .all(|e| e.expr.downcast_ref::<Column>().is_some())
    {
        return Ok(None);
    }
    let reverse = ordering.first().options.descending;
    let mut keys = Vec::new();
    for e in ordering.iter() {
        let Some(column) = e.expr.downcast_ref::<Column>() else {
            return Ok(None);
        };
        let Some(name) = scan_column(column) else {
            return Ok(None);
        };
        let integer = (scan.schema().field_with_name(&name))
            .is_ok_and(|f| f.data_type().is_integer() && stored(&name, f.data_type()));
        // DataFusion's defaults: ASC NULLS LAST, DESC NULLS FIRST.
        let (d, n) = (e.options.descending, e.options.nulls_first);
        if !integer || d != reverse || n != reverse {
            return Ok(None);
        }
        keys.push(name);
    }
    let sorted: Arc<dyn ExecutionPlan> = match distributed {
        true => sort_plan(scan.clone(), &keys, reverse)?.plan,
        false => Arc::new(FlowSortExec::new(scan.clone(), keys, reverse)),
    };
    Ok(Some(match projection {
        Some(_) => replace_children_if_necessary(input.clone(), vec![sorted])?,
        None => sorted,
    }))
}
