//! The codecs of this project's plan nodes, wrapping Ballista's: what they know is encoded as
//! plain data (JSON of the nodes' parameters, see [`Node`], followed by DataFusion's protobuf
//! of a file scan's configuration where there is one), everything else is Ballista's (its
//! shuffle and cache nodes) and DataFusion's. Every message starts with a tag byte saying whose
//! it is, so neither side ever guesses at the other's bytes.
//!
//! Known today: the tables of binary traces (`flowbin(…)`, `FlowBinTable`) and of flow files
//! (`nfcapd(…)`, `csv_flow(…)`, `pipe(…)`, `STORED AS NFCAPD|CSV_FLOW|PIPE`: `FlowListing`),
//! their scans (DataFusion file scans over our file sources), and `flow_hist(…)` (`HistTable`)
//! with its two operators, `flow_merge(…)` (`MergeTable`, merged by key partitions on a
//! cluster: `RowIndexExec`, `MergeExec`), input positions (`RowIndexTable`: what `sort` and
//! `convert --remote` order by), `mixture_generate(…)` (`GenerateTable`, `GenerateExec`),
//! `flow_series(…)` (`SecondsTable`, `SecondsExec` under DataFusion's aggregate), and
//! `COPY … STORED AS FLOWBIN` (the format and its sink; `STORED AS CSV_FLOW` likewise). A plan
//! holding another of our operators fails to encode with DataFusion's error naming it.

use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};
use datafusion::arrow::datatypes::Schema;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::TableProvider;
use datafusion::catalog::view::ViewTable;
use datafusion::common::{DataFusionError, Result, TableReference};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Extension, LogicalPlan};
use datafusion::physical_plan::{ExecutionPlan, Partitioning};
use datafusion_datasource::file_format::FileFormatFactory;
use datafusion_datasource::file_scan_config::FileScanConfig;
use datafusion_datasource::file_sink_config::{FileSink, FileSinkConfig};
use datafusion_datasource::sink::{DataSink, DataSinkExec};
use datafusion_datasource::source::DataSourceExec;
use datafusion_proto::logical_plan::{AsLogicalPlan, LogicalExtensionCodec};
use datafusion_proto::physical_plan::from_proto::parse_protobuf_file_scan_config;
use datafusion_proto::physical_plan::to_proto::serialize_file_scan_config;
use datafusion_proto::physical_plan::{
    PhysicalExtensionCodec, PhysicalPlanDecodeContext, PhysicalProtoConverterExtension,
};
use datafusion_proto::protobuf::FileScanExecConf;
use datafusion_proto::protobuf::LogicalPlanNode;
use flow_provider::binary::compress::CompressOptions;
use flow_provider::binary::dir::{Location, TraceDir};
use flow_provider::binary::{FlowBinFormatFactory, FlowBinSink, FlowBinTable};
use flow_provider::listing::FlowListing;
use flow_provider::plan_data::{FileKind, ScanSource};
use flow_provider::text::{CsvFlowSink, LineFormat, TextFlowFormatFactory};
use flow_udfs::hist::{HistExec, HistPartialExec, HistSpec, HistTable};
use flow_udfs::merge::{MergeExec, MergeParams, MergeTable, Mode};
use flow_udfs::mixture::{GenerateExec, GenerateParams, GenerateTable};
use flow_udfs::row_index::{RowIndexExec, RowIndexTable};
use flow_udfs::series::{SecondsExec, SecondsTable};
use flow_udfs::sort::SortTable;
use prost::Message as _;
use serde::{Deserialize, Serialize};
use std::any::Any;
use std::path::PathBuf;
use std::sync::Arc;

/// First byte of a message: the rest is Ballista's codec's.
const BALLISTA: u8 = 0;
/// First byte of a message: then the length of a [`Node`] as JSON (u32, little-endian), the
/// JSON, and the node's binary payload (a file scan's protobuf; nothing for the others).
const OURS: u8 = 1;

/// The plain data of our nodes.
#[derive(Serialize, Deserialize)]
enum Node {
    /// A `FlowBinTable`: the traces found when the table was made (not listed again).
    FlowBinTable {
        paths: Vec<PathBuf>,
        traces: Vec<TraceDir>,
    },
    /// A `FlowListing`: its format and the URLs it lists (listed again where it is decoded).
    Listing { kind: FileKind, urls: Vec<String> },
    /// A file scan over one of our sources; its `FileScanConfig` is the payload.
    FileScan { source: ScanSource },
    /// `flow_hist(…)`: the source's name and the histogram asked for; the payload is the
    /// source table's own encoding.
    HistTable { name: String, spec: HistSpec },
    /// A `HistPartialExec` (its input is the node's input).
    HistPartial { spec: HistSpec },
    /// A `HistExec` (its input is the node's input).
    Hist { spec: HistSpec },
    /// `flow_merge(…)`: the timeouts; the payload is the merged table's own encoding.
    MergeTable { params: MergeParams },
    /// A `RowIndexExec` (its input is the node's input).
    RowIndex,
    /// A `RowIndexTable` (what sorts and ordered copies read); the payload is the inner
    /// table's own encoding.
    RowIndexTable,
    /// A `MergeExec` (its input is the node's input).
    Merge { mode: Mode, params: MergeParams },
    /// What `flow_series(…)` sums (`SecondsTable`): the source's name; the payload is the
    /// source table's own encoding.
    SecondsTable { name: String },
    /// A `SecondsExec` (its input is the node's input).
    Seconds,
    /// `mixture_generate(…)` as a table, or its `GenerateExec` (the mixture loaded again where
    /// it is decoded).
    Generate(GenerateParams),
    /// A table defined by a logical plan (a DataFrame read as a table, e.g. what the CLI
    /// merges): the payload is the plan's protobuf; decoded as a view of it.
    View,
    /// `STORED AS FLOWBIN` in a `COPY`, with its compression (the `COPY`'s options, which
    /// DataFusion's protobuf drops: see `CopyOptionsInFormat`).
    FlowBinFormat(Option<CompressOptions>),
    /// `STORED AS CSV_FLOW` (or `PIPE`, which refuses to write) in a `COPY`.
    TextFormat(LineFormat),
    /// A `DataSinkExec` writing csv_flow files (its input is the node's input); the payload is
    /// the protobuf of DataFusion's sink configuration.
    CsvFlowSink,
    /// A `DataSinkExec` writing a trace at `target` (its input is the node's input); the
    /// payload is the protobuf of the columns written.
    FlowBinSink {
        target: String,
        #[serde(default)]
        compression: Option<CompressOptions>,
    },
}

fn encode(node: &Node, payload: &[u8], buf: &mut Vec<u8>) -> Result<()> {
    let json = serde_json::to_vec(node).map_err(|e| DataFusionError::External(Box::new(e)))?;
    let len = u32::try_from(json.len())
        .map_err(|_| DataFusionError::Internal("a flow-models plan node over 4 GiB".into()))?;
    buf.push(OURS);
    buf.extend_from_slice(&len.to_le_bytes());
    buf.extend_from_slice(&json);
    buf.extend_from_slice(payload);
    Ok(())
}

/// A message, by whose it is.
enum Message<'a> {
    /// Ours: the node and its payload.
    Ours(Node, &'a [u8]),
    /// Ballista's bytes.
    Theirs(&'a [u8]),
}

fn decode(buf: &[u8]) -> Result<Message<'_>> {
    let bad = |what: &str| DataFusionError::Internal(format!("a flow-models plan node: {what}"));
    match buf.split_first() {
        Some((&OURS, rest)) => {
            let (len, rest) = rest.split_at_checked(4).ok_or_else(|| bad("truncated"))?;
            let len = u32::from_le_bytes(len.try_into().expect("4 bytes")) as usize;
            let (json, payload) = rest.split_at_checked(len).ok_or_else(|| bad("truncated"))?;
            let node = serde_json::from_slice(json).map_err(|e| bad(&e.to_string()))?;
            Ok(Message::Ours(node, payload))
        }
        Some((&BALLISTA, rest)) => Ok(Message::Theirs(rest)),
        _ => Err(bad("without the flow-models codec's tag")),
    }
}

/// Writes Ballista's encoding of a node after its tag.
fn theirs(buf: &mut Vec<u8>, write: impl FnOnce(&mut Vec<u8>) -> Result<()>) -> Result<()> {
    buf.push(BALLISTA);
    write(buf)
}

/// `traces` with their local paths made absolute (relative ones are relative to the client's
/// working directory, which the scheduler and executors do not share).
fn absolute(traces: &[TraceDir]) -> Vec<TraceDir> {
    let absolute = |location: &mut Location| {
        if let Location::Local(path) = location
            && let Ok(abs) = std::path::absolute(&*path)
        {
            *path = abs;
        }
    };
    let mut traces = traces.to_vec();
    for trace in &mut traces {
        absolute(&mut trace.location);
        trace
            .columns
            .iter_mut()
            .for_each(|c| absolute(&mut c.location));
    }
    traces
}

/// The logical codec: our table providers, then Ballista's.
#[derive(Debug, Default)]
pub struct FlowLogicalCodec {
    inner: BallistaLogicalExtensionCodec,
}

impl FlowLogicalCodec {
    /// A table encoded as the view of `plan`.
    fn encode_view(&self, plan: &LogicalPlan, buf: &mut Vec<u8>) -> Result<()> {
        let mut bytes = Vec::new();
        LogicalPlanNode::try_from_logical_plan(plan, self)?.try_encode(&mut bytes)?;
        encode(&Node::View, &bytes, buf)
    }

    /// The encoding of a table inside one of ours (its payload).
    fn encoded(
        &self,
        table_ref: &TableReference,
        table: &Arc<dyn TableProvider>,
    ) -> Result<Vec<u8>> {
        let mut buf = Vec::new();
        self.try_encode_table_provider(table_ref, table.clone(), &mut buf)?;
        Ok(buf)
    }
}

impl LogicalExtensionCodec for FlowLogicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[LogicalPlan],
        ctx: &TaskContext,
    ) -> Result<Extension> {
        match decode(buf)? {
            Message::Theirs(rest) => self.inner.try_decode(rest, inputs, ctx),
            Message::Ours(..) => Err(DataFusionError::Internal(
                "a flow-models table where a logical plan node was expected".into(),
            )),
        }
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        theirs(buf, |buf| self.inner.try_encode(node, buf))
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        match decode(buf)? {
            Message::Ours(Node::FlowBinTable { paths, traces }, _) => {
                Ok(Arc::new(FlowBinTable::from_traces(paths, traces)?))
            }
            Message::Ours(Node::HistTable { name, spec }, source) => {
                let source = self.try_decode_table_provider(source, table_ref, schema, ctx)?;
                Ok(Arc::new(HistTable::new(name, source, spec)))
            }
            // Merged by key partitions: the one-pass strategies read the whole input in one
            // task, which a cluster's tasks (each given some partitions) cannot.
            Message::Ours(Node::MergeTable { params }, inner) => {
                let inner = self.try_decode_table_provider(inner, table_ref, schema, ctx)?;
                Ok(Arc::new(MergeTable::by_key(inner, params)))
            }
            Message::Ours(Node::Generate(params), _) => Ok(Arc::new(GenerateTable::open(params)?)),
            Message::Ours(Node::SecondsTable { name }, source) => {
                let source = self.try_decode_table_provider(source, table_ref, schema, ctx)?;
                Ok(Arc::new(SecondsTable::new(name, source)))
            }
            Message::Ours(Node::RowIndexTable, inner) => {
                let inner = self.try_decode_table_provider(inner, table_ref, schema, ctx)?;
                Ok(Arc::new(RowIndexTable::new(inner)))
            }
            Message::Ours(Node::View, plan) => {
                let plan = LogicalPlanNode::try_decode(plan)?.try_into_logical_plan(ctx, self)?;
                Ok(Arc::new(ViewTable::new(plan, None)))
            }
            Message::Ours(Node::Listing { kind, urls }, _) => {
                Ok(Arc::new(FlowListing::reopen(kind, &urls)?))
            }
            Message::Ours(..) => Err(DataFusionError::Internal(format!(
                "{table_ref}: a flow-models scan where a table was expected"
            ))),
            Message::Theirs(rest) => self
                .inner
                .try_decode_table_provider(rest, table_ref, schema, ctx),
        }
    }

    fn try_decode_file_format(
        &self,
        buf: &[u8],
        ctx: &TaskContext,
    ) -> Result<Arc<dyn FileFormatFactory>> {
        match decode(buf)? {
            Message::Ours(Node::FlowBinFormat(compression), _) => {
                Ok(Arc::new(FlowBinFormatFactory { compression }))
            }
            Message::Ours(Node::TextFormat(f), _) => Ok(Arc::new(TextFlowFormatFactory(f))),
            Message::Ours(..) => Err(DataFusionError::Internal(
                "a flow-models plan node where a file format was expected".into(),
            )),
            Message::Theirs(rest) => self.inner.try_decode_file_format(rest, ctx),
        }
    }

    fn try_encode_file_format(
        &self,
        buf: &mut Vec<u8>,
        node: Arc<dyn FileFormatFactory>,
    ) -> Result<()> {
        let any: &dyn Any = node.as_ref();
        if let Some(format) = any.downcast_ref::<FlowBinFormatFactory>() {
            return encode(&Node::FlowBinFormat(format.compression), &[], buf);
        }
        if let Some(text) = any.downcast_ref::<TextFlowFormatFactory>() {
            return encode(&Node::TextFormat(text.0), &[], buf);
        }
        theirs(buf, |buf| self.inner.try_encode_file_format(buf, node))
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        if let Some(table) = node.downcast_ref::<FlowBinTable>() {
            let node = Node::FlowBinTable {
                paths: table.paths().to_vec(),
                traces: absolute(table.traces()),
            };
            return encode(&node, &[], buf);
        }
        if let Some(table) = node.downcast_ref::<MergeTable>() {
            let inner = self.encoded(table_ref, table.inner())?;
            let params = table.params();
            return encode(&Node::MergeTable { params }, &inner, buf);
        }
        if let Some(table) = node.downcast_ref::<SortTable>() {
            // flow_sort as DataFusion's sort with the positions as the last key: the executors
            // sort their partitions, one task merges them (same order, another way).
            return self.encode_view(&table.distributed_plan()?, buf);
        }
        if let Some(table) = node.downcast_ref::<SecondsTable>() {
            let source = self.encoded(table_ref, table.source())?;
            let name = table.name().to_string();
            return encode(&Node::SecondsTable { name }, &source, buf);
        }
        if let Some(table) = node.downcast_ref::<GenerateTable>() {
            return encode(&Node::Generate(table.params().clone()), &[], buf);
        }
        if let Some(table) = node.downcast_ref::<RowIndexTable>() {
            let inner = self.encoded(table_ref, table.inner())?;
            return encode(&Node::RowIndexTable, &inner, buf);
        }
        if let Some(table) = node.downcast_ref::<HistTable>() {
            let (name, spec) = (table.name().to_string(), table.spec().clone());
            let source = self.encoded(table_ref, table.source())?;
            return encode(&Node::HistTable { name, spec }, &source, buf);
        }
        if let Some(table) = node.downcast_ref::<FlowListing>() {
            let node = Node::Listing {
                kind: table.kind(),
                urls: table.urls(),
            };
            return encode(&node, &[], buf);
        }
        if let Some(plan) = node.get_logical_plan() {
            return self.encode_view(&plan, buf);
        }
        theirs(buf, |buf| {
            self.inner.try_encode_table_provider(table_ref, node, buf)
        })
    }
}

/// The physical codec: our operators, then Ballista's.
#[derive(Debug, Default)]
pub struct FlowPhysicalCodec {
    inner: BallistaPhysicalExtensionCodec,
}

/// The configuration and source of `node` if it is a file scan over one of our sources.
fn our_file_scan(node: &dyn ExecutionPlan) -> Option<(&FileScanConfig, ScanSource)> {
    let exec = node.downcast_ref::<DataSourceExec>()?;
    let source: &dyn Any = exec.data_source().as_ref();
    let config = source.downcast_ref::<FileScanConfig>()?;
    Some((config, ScanSource::of(config.file_source().as_ref())?))
}

/// The one input of a decoded operator.
fn only_input(inputs: &[Arc<dyn ExecutionPlan>]) -> Result<Arc<dyn ExecutionPlan>> {
    match inputs {
        [input] => Ok(input.clone()),
        _ => Err(DataFusionError::Internal(format!(
            "a flow-models operator with {} inputs, expected 1",
            inputs.len()
        ))),
    }
}

impl PhysicalExtensionCodec for FlowPhysicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        match decode(buf)? {
            Message::Ours(Node::FileScan { source }, payload) => {
                let conf = FileScanExecConf::decode(payload)
                    .map_err(|e| DataFusionError::Internal(format!("a file scan: {e}")))?;
                let schema = FileScanConfig::parse_table_schema_from_proto(&conf)?;
                let source = source.file_source(schema, ctx.runtime_env());
                let decode_ctx = PhysicalPlanDecodeContext::new(ctx, self);
                let mut config =
                    parse_protobuf_file_scan_config(&conf, &decode_ctx, proto_converter, source)?;
                // A task's share of a scan declared with its partitions: as many as it got.
                let groups = config.file_groups.len();
                if let Some(p) = &config.output_partitioning
                    && p.partition_count() != groups
                {
                    config.output_partitioning = Some(Partitioning::UnknownPartitioning(groups));
                }
                Ok(DataSourceExec::from_data_source(config))
            }
            Message::Ours(Node::HistPartial { spec }, _) => {
                Ok(Arc::new(HistPartialExec::new(only_input(inputs)?, spec)))
            }
            Message::Ours(Node::Hist { spec }, _) => {
                Ok(Arc::new(HistExec::new(only_input(inputs)?, spec)))
            }
            Message::Ours(Node::RowIndex, _) => {
                Ok(Arc::new(RowIndexExec::try_new(only_input(inputs)?)?))
            }
            Message::Ours(Node::Generate(params), _) => Ok(Arc::new(GenerateExec::open(params)?)),
            Message::Ours(Node::Seconds, _) => Ok(Arc::new(SecondsExec::new(only_input(inputs)?))),
            Message::Ours(Node::Merge { mode, params }, _) => Ok(Arc::new(MergeExec::try_new(
                only_input(inputs)?,
                mode,
                params,
            )?)),
            Message::Ours(Node::CsvFlowSink, payload) => {
                let config = datafusion_proto::protobuf::FileSinkConfig::decode(payload)
                    .map_err(|e| DataFusionError::Internal(format!("a csv_flow sink: {e}")))?;
                let sink = Arc::new(CsvFlowSink::new(FileSinkConfig::try_from(&config)?));
                Ok(Arc::new(DataSinkExec::new(only_input(inputs)?, sink, None)))
            }
            Message::Ours(
                Node::FlowBinSink {
                    target,
                    compression,
                },
                payload,
            ) => {
                let schema = datafusion_proto::protobuf::Schema::decode(payload)
                    .map_err(|e| DataFusionError::Internal(format!("a trace's columns: {e}")))?;
                let schema = Arc::new(Schema::try_from(&schema)?);
                let sink = Arc::new(FlowBinSink::new(target, schema).with_compression(compression));
                Ok(Arc::new(DataSinkExec::new(only_input(inputs)?, sink, None)))
            }
            Message::Ours(..) => Err(DataFusionError::Internal(
                "a flow-models table where an execution plan was expected".into(),
            )),
            Message::Theirs(rest) => self.inner.try_decode(rest, inputs, ctx, proto_converter),
        }
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        if let Some((config, source)) = our_file_scan(node.as_ref()) {
            let conf = serialize_file_scan_config(config, self, proto_converter)?;
            return encode(&Node::FileScan { source }, &conf.encode_to_vec(), buf);
        }
        if let Some(exec) = node.downcast_ref::<DataSinkExec>() {
            let sink: &dyn Any = exec.sink();
            if let Some(sink) = sink.downcast_ref::<CsvFlowSink>() {
                let config = datafusion_proto::protobuf::FileSinkConfig::try_from(sink.config())?;
                return encode(&Node::CsvFlowSink, &config.encode_to_vec(), buf);
            }
            if let Some(sink) = sink.downcast_ref::<FlowBinSink>() {
                let node = Node::FlowBinSink {
                    target: sink.target().to_string(),
                    compression: sink.compression(),
                };
                let schema = datafusion_proto::protobuf::Schema::try_from(sink.schema().as_ref())?;
                return encode(&node, &schema.encode_to_vec(), buf);
            }
        }
        if node.downcast_ref::<RowIndexExec>().is_some() {
            return encode(&Node::RowIndex, &[], buf);
        }
        if node.downcast_ref::<SecondsExec>().is_some() {
            return encode(&Node::Seconds, &[], buf);
        }
        if let Some(generate) = node.downcast_ref::<GenerateExec>() {
            return encode(&Node::Generate(generate.params().clone()), &[], buf);
        }
        if let Some(merge) = node.downcast_ref::<MergeExec>() {
            let (mode, params) = (merge.mode(), merge.params());
            return encode(&Node::Merge { mode, params }, &[], buf);
        }
        if let Some(hist) = node.downcast_ref::<HistPartialExec>() {
            let spec = hist.spec().clone();
            return encode(&Node::HistPartial { spec }, &[], buf);
        }
        if let Some(hist) = node.downcast_ref::<HistExec>() {
            let spec = hist.spec().clone();
            return encode(&Node::Hist { spec }, &[], buf);
        }
        theirs(buf, |buf| self.inner.try_encode(node, buf, proto_converter))
    }
}
