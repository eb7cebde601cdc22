//! SQL wiring of the binary format: `CREATE EXTERNAL TABLE … STORED AS FLOWBIN` (a table
//! factory) and `COPY … TO 'dir' STORED AS FLOWBIN` (a file format whose only job is writing:
//! a trace is a directory, not a file, so reading goes through `FlowBinTable`, not a listing).

use super::compress::CompressOptions;
use super::table::FlowBinTable;
use super::writer::{FlowBinWriter, RemoteTraceWriter};
use crate::listing::{FlowFormat, OpenerArgs, OpenerFactory, file_format, no_options};
use crate::sink::FlowSink;
use crate::store::Object;
use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider, TableProviderFactory};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{GetExt, Result, exec_err, not_impl_err, plan_err};
use datafusion::datasource::file_format::file_type_to_format;
use datafusion::datasource::file_format::format_as_file_type;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::CreateExternalTable;
use datafusion::logical_expr::LogicalPlan;
use datafusion::logical_expr::dml::CopyTo;
use datafusion::optimizer::AnalyzerRule;
use datafusion::physical_expr::LexRequirement;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan};
use datafusion_datasource::file_format::{FileFormat, FileFormatFactory};
use datafusion_datasource::file_sink_config::FileSinkConfig;
use datafusion_datasource::file_stream::FileOpener;
use datafusion_datasource::sink::{DataSink, DataSinkExec};
use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

const READ_HINT: &str =
    "a flowbin trace is read with flowbin('dir') or CREATE EXTERNAL TABLE … STORED AS FLOWBIN";

/// `STORED AS FLOWBIN LOCATION 'dir'`: the location is a trace or a directory of traces.
#[derive(Debug, Default)]
pub struct FlowBinTableFactory;

#[async_trait]
impl TableProviderFactory for FlowBinTableFactory {
    async fn create(
        &self,
        state: &dyn Session,
        cmd: &CreateExternalTable,
    ) -> Result<Arc<dyn TableProvider>> {
        no_options("STORED AS FLOWBIN", &cmd.options)?;
        let table = FlowBinTable::open(state.runtime_env(), &cmd.locations)?;
        if !cmd.schema.fields().is_empty() {
            let declared: Vec<_> = cmd.schema.fields().iter().map(|f| f.name()).collect();
            let found: Vec<_> = table
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect();
            if declared.iter().zip(&found).any(|(d, f)| *d != f) || declared.len() != found.len() {
                return plan_err!(
                    "declared columns {declared:?} differ from the trace's columns {found:?}; \
                     omit the column list to take the trace's own"
                );
            }
        }
        Ok(Arc::new(table))
    }
}

/// The local directory named by a location (a plain path or a `file://` URL).
fn local_path(location: &str) -> Result<PathBuf> {
    match crate::inputs::local_path(location) {
        Some(path) => Ok(path),
        None => plan_err!("'{location}' is not a local path"),
    }
}

/// `STORED AS FLOWBIN` in a `COPY`: makes the format that writes the trace, its compression
/// from the statement's options, else the one it carries (see [`CopyOptionsInFormat`]).
#[derive(Debug, Default)]
pub struct FlowBinFormatFactory {
    pub compression: Option<CompressOptions>,
}

impl FlowBinFormatFactory {
    /// The compression of a `COPY`'s options (`none` when they name none).
    fn compression_of(options: &HashMap<String, String>) -> Result<Option<CompressOptions>> {
        let mut options = options.clone();
        let mut take =
            |key: &str| (options.remove(key)).or_else(|| options.remove(&format!("format.{key}")));
        let codec = take("compression");
        let (level, frame_rows) = (take("compression_level"), take("compression_frame_rows"));
        no_options(
            "FLOWBIN (besides 'compression', 'compression_level', 'compression_frame_rows')",
            &options,
        )?;
        match codec {
            Some(codec) => CompressOptions::parse(&codec, level.as_deref(), frame_rows.as_deref()),
            None if level.is_some() || frame_rows.is_some() => plan_err!(
                "FLOWBIN: 'compression_level' or 'compression_frame_rows' without 'compression'"
            ),
            None => Ok(None),
        }
    }
}

/// Puts a `COPY … STORED AS FLOWBIN OPTIONS (…)`'s compression into the plan's format, where
/// it travels with the plan: DataFusion's plan protobuf drops a `COPY`'s options, so without
/// it a cluster (Ballista) would write the trace plain.
#[derive(Debug, Default)]
pub struct CopyOptionsInFormat;

impl AnalyzerRule for CopyOptionsInFormat {
    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up(|node| {
            let LogicalPlan::Copy(copy) = &node else {
                return Ok(Transformed::no(node));
            };
            let format = file_type_to_format(&copy.file_type)?;
            let any: &dyn std::any::Any = format.as_ref();
            // (A plan decoded elsewhere has no options left, and its format's compression.)
            let Some(ours) = any.downcast_ref::<FlowBinFormatFactory>() else {
                return Ok(Transformed::no(node));
            };
            let compression = FlowBinFormatFactory::compression_of(&copy.options)?;
            if copy.options.is_empty() || ours.compression == compression {
                return Ok(Transformed::no(node));
            }
            let factory = Arc::new(FlowBinFormatFactory { compression });
            Ok(Transformed::yes(LogicalPlan::Copy(CopyTo::new(
                copy.input.clone(),
                copy.output_url.clone(),
                copy.partition_by.clone(),
                format_as_file_type(factory),
                copy.options.clone(),
            ))))
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "flowbin_copy_options_in_format"
    }
}

impl GetExt for FlowBinFormatFactory {
    fn get_ext(&self) -> String {
        "flowbin".into()
    }
}

impl FileFormatFactory for FlowBinFormatFactory {
    fn create(
        &self,
        _state: &dyn Session,
        options: &HashMap<String, String>,
    ) -> Result<Arc<dyn FileFormat>> {
        let compression = match Self::compression_of(options)? {
            None if options.is_empty() => self.compression,
            named => named,
        };
        Ok(Arc::new(FlowBinFormat { compression }))
    }

    fn default(&self) -> Arc<dyn FileFormat> {
        Arc::new(FlowBinFormat::default())
    }
}

/// `STORED AS FLOWBIN`: traces are written with their column files compressed by
/// `compression` (`COPY … OPTIONS ('compression' 'zstd')`), plain when `None`.
#[derive(Debug, Clone, Default)]
pub struct FlowBinFormat {
    compression: Option<CompressOptions>,
}

impl FlowFormat for FlowBinFormat {
    type Factory = FlowBinFormat;

    fn opener_factory(&self) -> FlowBinFormat {
        self.clone()
    }

    fn schema(&self) -> Result<SchemaRef> {
        not_impl_err!("{READ_HINT}")
    }

    fn writer(
        &self,
        input: Arc<dyn ExecutionPlan>,
        conf: FileSinkConfig,
        order_requirements: Option<LexRequirement>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if !conf.table_partition_cols.is_empty() {
            return not_impl_err!("FLOWBIN cannot write PARTITIONED BY output");
        }
        let sink = FlowBinSink::new(conf.original_url.clone(), conf.output_schema().clone())
            .with_compression(self.compression);
        Ok(Arc::new(DataSinkExec::new(
            input,
            Arc::new(sink),
            order_requirements,
        )))
    }
}

file_format!(FlowBinFormat);

/// Listing tables cannot read traces (a trace is a directory); the opener only says so.
impl OpenerFactory for FlowBinFormat {
    fn file_type(&self) -> &'static str {
        "flowbin"
    }

    fn opener(&self, _scan: OpenerArgs) -> Result<Arc<dyn FileOpener>> {
        exec_err!("{READ_HINT}")
    }
}

/// Writes the whole input as one trace at `target`, replacing it atomically. Plain data (the
/// target and the columns), so that a codec can ship it.
#[derive(Debug)]
pub struct FlowBinSink {
    /// A local directory or an object-store URL.
    target: String,
    schema: SchemaRef,
    compression: Option<CompressOptions>,
}

impl FlowBinSink {
    pub fn new(target: String, schema: SchemaRef) -> Self {
        Self {
            target,
            schema,
            compression: None,
        }
    }

    /// The trace written with its column files compressed.
    pub fn with_compression(mut self, compression: Option<CompressOptions>) -> Self {
        self.compression = compression;
        self
    }

    pub fn compression(&self) -> Option<CompressOptions> {
        self.compression
    }

    /// The trace written: a local directory or an object-store URL.
    pub fn target(&self) -> &str {
        &self.target
    }
}

impl DisplayAs for FlowBinSink {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "FlowBinSink(dir={})", self.target)
    }
}

#[async_trait]
impl DataSink for FlowBinSink {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    async fn write_all(
        &self,
        data: SendableRecordBatchStream,
        context: &Arc<TaskContext>,
    ) -> Result<u64> {
        let schema = data.schema();
        let sink = match Object::resolve(&context.runtime_env(), &self.target)? {
            Some(object) => FlowSink::RemoteBinary(RemoteTraceWriter::create(
                object,
                &schema,
                self.compression,
            )?),
            None => FlowSink::Binary(
                FlowBinWriter::create(&local_path(&self.target)?, &schema)?
                    .with_compression(self.compression),
            ),
        };
        crate::sink::drain(data, sink, |_| {}).await
    }
}
