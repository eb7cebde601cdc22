//! Stable sorting of flow traces, byte-compatible with flow-models' `sort.py` (numpy lexsort:
//! ties keep input order; `--reverse` flips the whole order). DataFusion's sort is not
//! stable, so the input position (`__row`) is the last sort key; reversing sorts every key,
//! position included, descending. The sort spills to disk under the session's memory pool.

use crate::row_index::{ROW_COLUMN, RowIndexExec};
use arrow::compute::SortOptions;
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::physical_expr::expressions::{Column, col};
use datafusion::physical_expr::{LexOrdering, PhysicalSortExpr};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::sorts::sort::SortExec;
use datafusion::physical_plan::sorts::sort_preserving_merge::SortPreservingMergeExec;
use std::path::PathBuf;
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

/// A runtime whose operators share `limit` bytes fairly and spill beyond it, to `temp_dir`
/// (or the system temporary directory).
pub fn spilling_runtime(
    limit: Option<usize>,
    temp_dir: Option<PathBuf>,
) -> Result<Arc<RuntimeEnv>> {
    let mut builder = RuntimeEnvBuilder::new();
    if let Some(limit) = limit {
        builder = builder.with_memory_pool(Arc::new(FairSpillPool::new(limit)));
    }
    if let Some(dir) = temp_dir {
        builder = builder.with_temp_file_path(dir);
    }
    builder.build_arc()
}

/// Parses a size like `2G`, `512M`, `1.5g`, `100000` (bytes); K/M/G/T are powers of 1024.
pub fn parse_size(s: &str) -> std::result::Result<usize, String> {
    let t = s.trim();
    let (num, mult) = match t.chars().last().map(|c| c.to_ascii_uppercase()) {
        Some('K') => (&t[..t.len() - 1], 1u64 << 10),
        Some('M') => (&t[..t.len() - 1], 1 << 20),
        Some('G') => (&t[..t.len() - 1], 1 << 30),
        Some('T') => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a size like 2G or 512M"))?;
    if !v.is_finite() || v <= 0.0 {
        return Err(format!("'{s}' is not a positive size"));
    }
    Ok((v * mult as f64) as usize)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert_eq!(parse_size("512m"), Ok(512 << 20));
        assert_eq!(parse_size("1.5K"), Ok(1536));
        assert_eq!(parse_size("100"), Ok(100));
        assert!(parse_size("x").is_err());
        assert!(parse_size("-1G").is_err());
        assert!(parse_size("").is_err());
    }
}
