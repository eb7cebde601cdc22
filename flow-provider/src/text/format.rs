//! `FileFormat`s for csv_flow and pipe: what `STORED AS CSV_FLOW` / `STORED AS PIPE` and
//! `COPY … STORED AS CSV_FLOW` resolve to.

pub use super::parse::LineFormat;
use super::parse::write_csv_flow;
use super::source::TextSource;
use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use bytes::Bytes;
use datafusion::catalog::Session;
use datafusion::common::{GetExt, Result, Statistics, not_impl_err, plan_err};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::dml::InsertOp;
use datafusion::physical_expr::LexRequirement;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan};
use datafusion_datasource::file::FileSource;
use datafusion_datasource::file_compression_type::FileCompressionType;
use datafusion_datasource::file_format::{FileFormat, FileFormatFactory};
use datafusion_datasource::file_scan_config::{FileScanConfig, FileScanConfigBuilder};
use datafusion_datasource::file_sink_config::{FileSink, FileSinkConfig};
use datafusion_datasource::sink::{DataSink, DataSinkExec};
use datafusion_datasource::source::DataSourceExec;
use datafusion_datasource::write::BatchSerializer;
use datafusion_datasource::write::demux::DemuxedStreamReceiver;
use datafusion_datasource::write::orchestration::spawn_writer_tasks_and_join;
use datafusion_datasource::TableSchema;
use datafusion::common::runtime::SpawnedTask;
use datafusion::execution::SendableRecordBatchStream;
use object_store::{ObjectMeta, ObjectStore};
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
        if let Some(k) = options.keys().next() {
            return plan_err!("{} takes no options (got '{k}')", self.0.name());
        }
        Ok(self.default())
    }

    fn default(&self) -> Arc<dyn FileFormat> {
        Arc::new(TextFlowFormat(self.0))
    }
}

#[derive(Debug)]
pub struct TextFlowFormat(pub LineFormat);

#[async_trait]
impl FileFormat for TextFlowFormat {
    /// Flow text files carry no conventional extension (nfdump pipe dumps, `*.csv`, none at
    /// all), so every file of a listed directory is read.
    fn get_ext(&self) -> String {
        String::new()
    }

    fn get_ext_with_compression(&self, _c: &FileCompressionType) -> Result<String> {
        Ok(String::new())
    }

    fn compression_type(&self) -> Option<FileCompressionType> {
        None
    }

    async fn infer_schema(
        &self,
        _state: &dyn Session,
        _store: &Arc<dyn ObjectStore>,
        _objects: &[ObjectMeta],
    ) -> Result<SchemaRef> {
        Ok(self.0.schema())
    }

    async fn infer_stats(
        &self,
        _state: &dyn Session,
        _store: &Arc<dyn ObjectStore>,
        table_schema: SchemaRef,
        _object: &ObjectMeta,
    ) -> Result<Statistics> {
        Ok(Statistics::new_unknown(&table_schema))
    }

    async fn create_physical_plan(
        &self,
        _state: &dyn Session,
        conf: FileScanConfig,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(DataSourceExec::from_data_source(FileScanConfigBuilder::from(conf).build()))
    }

    async fn create_writer_physical_plan(
        &self,
        input: Arc<dyn ExecutionPlan>,
        _state: &dyn Session,
        conf: FileSinkConfig,
        order_requirements: Option<LexRequirement>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if self.0 != LineFormat::CsvFlow {
            return not_impl_err!("{} is a read-only format; write csv_flow instead", self.0.name());
        }
        if conf.insert_op != InsertOp::Append {
            return not_impl_err!("overwriting is not supported for csv_flow");
        }
        Ok(Arc::new(DataSinkExec::new(input, Arc::new(CsvFlowSink { config: conf }), order_requirements)))
    }

    fn file_source(&self, table_schema: TableSchema) -> Arc<dyn FileSource> {
        Arc::new(TextSource::new(self.0, table_schema))
    }
}

/// COPY/INSERT sink writing csv_flow files through the object store (whose local
/// implementation stages each file and renames it into place when complete).
#[derive(Debug)]
struct CsvFlowSink {
    config: FileSinkConfig,
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
