//! `FileFormat`s for csv_flow and pipe: what `STORED AS CSV_FLOW` / `STORED AS PIPE`,
//! `COPY … STORED AS CSV_FLOW`, the `csv_flow()`/`pipe()` table functions and
//! `register_text_flows` resolve to.

pub use super::parse::LineFormat;
use super::parse::write_csv_flow;
use crate::inputs::{Input, inputs, keep_all};
use crate::listing::{FlowFormat, FlowListing, file_format, listing_table, no_options};
use crate::plan_data::FileKind;
use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use bytes::Bytes;
use datafusion::catalog::Session;
use datafusion::common::runtime::SpawnedTask;
use datafusion::common::{GetExt, Result, not_impl_err};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::dml::InsertOp;
use datafusion::physical_expr::LexRequirement;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan};
use datafusion_datasource::file_compression_type::FileCompressionType;
use datafusion_datasource::file_format::{FileFormat, FileFormatFactory};
use datafusion_datasource::file_sink_config::{FileSink, FileSinkConfig};
use datafusion_datasource::sink::{DataSink, DataSinkExec};
use datafusion_datasource::write::BatchSerializer;
use datafusion_datasource::write::demux::DemuxedStreamReceiver;
use datafusion_datasource::write::orchestration::spawn_writer_tasks_and_join;
use object_store::ObjectStore;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// Registered once per layout; `get_ext` is the name used after `STORED AS`.
#[derive(Debug)]
pub struct TextFlowFormatFactory(pub LineFormat);

impl GetExt for TextFlowFormatFactory {
    fn get_ext(&self) -> String {
        self.0.name().to_string()
    }
}

impl FileFormatFactory for TextFlowFormatFactory {
    fn create(
        &self,
        _state: &dyn Session,
        options: &HashMap<String, String>,
    ) -> Result<Arc<dyn FileFormat>> {
        no_options(self.0.name(), options)?;
        Ok(self.default())
    }

    fn default(&self) -> Arc<dyn FileFormat> {
        Arc::new(TextFlowFormat(self.0))
    }
}

#[derive(Debug)]
pub struct TextFlowFormat(pub LineFormat);

impl FlowFormat for TextFlowFormat {
    type Factory = LineFormat;

    fn opener_factory(&self) -> LineFormat {
        self.0
    }

    fn schema(&self) -> Result<SchemaRef> {
        Ok(self.0.schema())
    }

    fn writer(
        &self,
        input: Arc<dyn ExecutionPlan>,
        conf: FileSinkConfig,
        order_requirements: Option<LexRequirement>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if self.0 != LineFormat::CsvFlow {
            return not_impl_err!(
                "{} is a read-only format; write csv_flow instead",
                self.0.name()
            );
        }
        if conf.insert_op != InsertOp::Append {
            return not_impl_err!("overwriting is not supported for csv_flow");
        }
        Ok(Arc::new(DataSinkExec::new(
            input,
            Arc::new(CsvFlowSink::new(conf)),
            order_requirements,
        )))
    }
}

file_format!(TextFlowFormat);

/// A listing table over text flow files or directories of them (every file below a directory).
pub fn text_table<P: AsRef<str>>(format: LineFormat, paths: &[P]) -> Result<FlowListing> {
    let urls = inputs(format.name(), paths, keep_all)?
        .iter()
        .map(Input::url)
        .collect::<Result<Vec<_>>>()?;
    let table = listing_table(Arc::new(TextFlowFormat(format)), format.schema(), urls)?;
    Ok(FlowListing::known(table, FileKind::Text(format)))
}

/// COPY/INSERT sink writing csv_flow files through the object store (whose local
/// implementation stages each file and renames it into place when complete). Its one
/// parameter is DataFusion's sink configuration, which DataFusion's proto encodes.
#[derive(Debug)]
pub struct CsvFlowSink {
    config: FileSinkConfig,
}

impl CsvFlowSink {
    pub fn new(config: FileSinkConfig) -> Self {
        Self { config }
    }
}

impl DisplayAs for CsvFlowSink {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "CsvFlowSink(url={})", self.config.original_url)
    }
}

struct CsvFlowSerializer;

impl BatchSerializer for CsvFlowSerializer {
    fn serialize(&self, batch: RecordBatch, _initial: bool) -> Result<Bytes> {
        let mut out = Vec::with_capacity(batch.num_rows() * 96);
        write_csv_flow(&batch, &mut out)?;
        Ok(out.into())
    }
}

#[async_trait]
impl FileSink for CsvFlowSink {
    fn config(&self) -> &FileSinkConfig {
        &self.config
    }

    async fn spawn_writer_tasks_and_join(
        &self,
        context: &Arc<TaskContext>,
        demux_task: SpawnedTask<Result<()>>,
        file_stream_rx: DemuxedStreamReceiver,
        object_store: Arc<dyn ObjectStore>,
    ) -> Result<u64> {
        spawn_writer_tasks_and_join(
            context,
            Arc::new(CsvFlowSerializer),
            FileCompressionType::UNCOMPRESSED,
            None,
            object_store,
            demux_task,
            file_stream_rx,
        )
        .await
    }
}

#[async_trait]
impl DataSink for CsvFlowSink {
    fn schema(&self) -> &SchemaRef {
        self.config.output_schema()
    }

    async fn write_all(
        &self,
        data: SendableRecordBatchStream,
        context: &Arc<TaskContext>,
    ) -> Result<u64> {
        FileSink::write_all(self, data, context).await
    }
}
