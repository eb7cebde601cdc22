//! Reading text flow files: a `FileSource`/`FileOpener` pair that streams a file's bytes from
//! the object store (local or remote alike), splits lines and parses them into batches.

use super::parse::{LineFormat, LineParser};
use arrow::array::RecordBatch;
use bytes::Bytes;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::metrics::ExecutionPlanMetricsSet;
use datafusion::physical_plan::projection::ProjectionExprs;
use datafusion_datasource::file::FileSource;
use datafusion_datasource::file_scan_config::FileScanConfig;
use datafusion_datasource::file_stream::{FileOpenFuture, FileOpener};
use datafusion_datasource::projection::{ProjectionOpener, SplitProjection};
use datafusion_datasource::{PartitionedFile, TableSchema};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use object_store::{ObjectStore, ObjectStoreExt};
use std::sync::Arc;

#[derive(Clone)]
pub struct TextSource {
    format: LineFormat,
    table_schema: TableSchema,
    projection: SplitProjection,
    batch_size: Option<usize>,
    metrics: ExecutionPlanMetricsSet,
}

impl TextSource {
    pub fn new(format: LineFormat, table_schema: TableSchema) -> Self {
        Self {
            format,
            projection: SplitProjection::unprojected(&table_schema),
            table_schema,
            batch_size: None,
            metrics: ExecutionPlanMetricsSet::new(),
        }
    }
}

impl FileSource for TextSource {
    fn create_file_opener(
        &self,
        object_store: Arc<dyn ObjectStore>,
        _base_config: &FileScanConfig,
        _partition: usize,
    ) -> Result<Arc<dyn FileOpener>> {
        let opener = Arc::new(TextOpener {
            format: self.format,
            batch_size: self.batch_size.unwrap_or(8192),
            store: object_store,
        });
        ProjectionOpener::try_new(self.projection.clone(), opener, self.table_schema.file_schema())
    }

    fn table_schema(&self) -> &TableSchema {
        &self.table_schema
    }

    fn with_batch_size(&self, batch_size: usize) -> Arc<dyn FileSource> {
        let mut s = self.clone();
        s.batch_size = Some(batch_size);
        Arc::new(s)
    }

    fn try_pushdown_projection(
        &self,
        projection: &ProjectionExprs,
    ) -> Result<Option<Arc<dyn FileSource>>> {
        let mut s = self.clone();
        let merged = self.projection.source.try_merge(projection)?;
        s.projection = SplitProjection::new(self.table_schema.file_schema(), &merged);
        Ok(Some(Arc::new(s)))
    }

    fn projection(&self) -> Option<&ProjectionExprs> {
        Some(&self.projection.source)
    }

    fn metrics(&self) -> &ExecutionPlanMetricsSet {
        &self.metrics
    }

    fn file_type(&self) -> &str {
        self.format.name()
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        datafusion::physical_plan::apply_expression_roots(self.projection.source.iter(), f)
    }
}

struct TextOpener {
    format: LineFormat,
    batch_size: usize,
    store: Arc<dyn ObjectStore>,
}

impl FileOpener for TextOpener {
    fn open(&self, file: PartitionedFile) -> Result<FileOpenFuture> {
        let store = self.store.clone();
        let format = self.format;
        let batch_size = self.batch_size;
        Ok(Box::pin(async move {
            let location = file.object_meta.location.clone();
            let chunks = store.get(&location).await?.into_stream();
            let name = location.to_string();
            Ok(parse_stream(chunks.map_err(Into::into).boxed(), format, batch_size, name))
        }))
    }
}

/// State of the line splitter between chunks.
struct Lines {
    chunks: BoxStream<'static, Result<Bytes>>,
    parser: LineParser,
    carry: Vec<u8>,
    line_no: u64,
    batch_size: usize,
    file: String,
    done: bool,
}

impl Lines {
    fn parse_line(&mut self, line: &[u8]) -> Result<()> {
        self.line_no += 1;
        let text = std::str::from_utf8(line).map_err(|_| self.error("is not valid UTF-8".into()))?;
        self.parser.push_line(text).map_err(|m| self.error(m))
    }

    fn error(&self, msg: String) -> DataFusionError {
        DataFusionError::Execution(format!(
            "{} file {}: line {}: {msg}",
            self.parser_name(),
            self.file,
            self.line_no
        ))
    }

    fn parser_name(&self) -> &'static str {
        self.parser.format().name()
    }

    /// Parses every complete line of `chunk` (plus the carried partial line).
    fn feed(&mut self, chunk: &[u8]) -> Result<()> {
        let mut rest = chunk;
        while let Some(nl) = rest.iter().position(|&b| b == b'\n') {
            if self.carry.is_empty() {
                self.parse_line(&rest[..nl])?;
            } else {
                let mut line = std::mem::take(&mut self.carry);
                line.extend_from_slice(&rest[..nl]);
                self.parse_line(&line)?;
            }
            rest = &rest[nl + 1..];
        }
        self.carry.extend_from_slice(rest);
        Ok(())
    }
}

fn parse_stream(
    chunks: BoxStream<'static, Result<Bytes>>,
    format: LineFormat,
    batch_size: usize,
    file: String,
) -> BoxStream<'static, Result<RecordBatch>> {
    let state = Lines {
        chunks,
        parser: LineParser::new(format),
        carry: Vec::new(),
        line_no: 0,
        batch_size,
        file,
        done: false,
    };
    futures::stream::try_unfold(state, |mut s| async move {
        while !s.done && s.parser.rows() < s.batch_size {
            match s.chunks.next().await {
                Some(chunk) => s.feed(&chunk?)?,
                None => {
                    s.done = true;
                    if !s.carry.is_empty() {
                        let last = std::mem::take(&mut s.carry);
                        s.parse_line(&last)?;
                    }
                }
            }
        }
        if s.parser.rows() == 0 {
            return Ok(None);
        }
        let batch = s.parser.take_batch()?;
        Ok(Some((batch, s)))
    })
    .boxed()
}
