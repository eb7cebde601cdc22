//! `FlowBinTable`: one or many binary traces as a single DataFusion table.

use super::dir::{Location, TraceDir, discover, discover_remote};
use crate::fields::{dtype_to_arrow, standard_position};
use arrow::datatypes::{Field, Schema, SchemaRef};
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::stats::Precision;
use datafusion::common::{DataFusionError, Result, Statistics};
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::logical_expr::{Expr, TableType};
use datafusion::physical_plan::ExecutionPlan;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The traces found at the given paths (local directories, or `s3://…` and other object-store
/// URLs), read as one table. A field absent from some traces is a nullable column that is NULL
/// for their rows.
#[derive(Debug, Clone)]
pub struct FlowBinTable {
    paths: Vec<PathBuf>,
    traces: Arc<Vec<TraceDir>>,
    schema: SchemaRef,
}

impl FlowBinTable {
    /// The traces at `paths`, object stores made from the environment (`AWS_*`, see
    /// [`crate::store`]). [`FlowBinTable::open`] takes the stores of a session instead.
    pub fn try_new<P: AsRef<Path>>(paths: &[P]) -> Result<Self> {
        Self::open(&RuntimeEnv::default(), paths)
    }

    /// The traces at `paths`; URLs are listed with the stores registered in `runtime` (one is
    /// made from the environment and registered there for a bucket without one).
    pub fn open<P: AsRef<Path>>(runtime: &RuntimeEnv, paths: &[P]) -> Result<Self> {
        if paths.is_empty() {
            return Err(DataFusionError::Plan("flowbin: no directory given".into()));
        }
        let mut traces = Vec::new();
        for p in paths {
            let remote = match p.as_ref().to_str() {
                Some(location) => crate::store::Object::resolve(runtime, location)?,
                None => None,
            };
            match remote {
                Some(object) => traces.extend(discover_remote(&object)?),
                None => traces.extend(discover(&local_path(p.as_ref()))?),
            }
        }
        let paths = paths.iter().map(|p| p.as_ref().to_path_buf()).collect();
        Self::from_traces(paths, traces)
    }

    /// The table of `traces` already found at `paths` (what [`FlowBinTable::traces`] gave in
    /// another process): nothing is listed or read.
    pub fn from_traces(paths: Vec<PathBuf>, traces: Vec<TraceDir>) -> Result<Self> {
        let schema = union_schema(&traces)?;
        Ok(Self {
            paths,
            traces: Arc::new(traces),
            schema,
        })
    }

    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }

    pub fn traces(&self) -> &[TraceDir] {
        &self.traces
    }

    pub fn num_rows(&self) -> usize {
        self.traces.iter().map(|t| t.rows).sum()
    }
}

/// A local path as given, or the path of a `file://` URL.
fn local_path(p: &Path) -> PathBuf {
    p.to_str()
        .and_then(crate::inputs::local_path)
        .unwrap_or_else(|| p.to_path_buf())
}

/// The columns of all traces: standard fields in canonical order, then the others by name.
pub(super) fn union_schema(traces: &[TraceDir]) -> Result<SchemaRef> {
    let mut fields: Vec<(String, char, &Location)> = Vec::new();
    for t in traces {
        for c in &t.columns {
            match fields.iter().find(|(name, _, _)| *name == c.field) {
                Some((_, code, first))
                    if *code != c.dtype && dtype_to_arrow(*code) != dtype_to_arrow(c.dtype) =>
                {
                    return Err(DataFusionError::Plan(format!(
                        "flowbin: field '{}' has type '{}' in {} but '{}' in {}",
                        c.field, code, first, c.dtype, c.location
                    )));
                }
                Some(_) => {}
                None => fields.push((c.field.clone(), c.dtype, &c.location)),
            }
        }
    }
    fields
        .sort_by_key(|(name, _, _)| (standard_position(name).unwrap_or(usize::MAX), name.clone()));
    let fields = fields
        .into_iter()
        .map(|(name, code, _)| {
            let nullable = traces
                .iter()
                .any(|t| t.rows > 0 && t.column(&name).is_none());
            Field::new(
                name,
                dtype_to_arrow(code).expect("validated code"),
                nullable,
            )
        })
        .collect::<Vec<_>>();
    Ok(Arc::new(Schema::new(fields)))
}

#[async_trait]
impl TableProvider for FlowBinTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        super::scan::scan_plan(
            self.traces.clone(),
            state.runtime_env().clone(),
            self.schema.clone(),
            projection,
            limit,
            state.config().target_partitions(),
        )
    }

    fn statistics(&self) -> Option<Statistics> {
        let mut stats = Statistics::new_unknown(&self.schema);
        stats.num_rows = Precision::Exact(self.num_rows());
        Some(stats)
    }
}
