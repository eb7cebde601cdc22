//! The codecs of this project's plan nodes, wrapping Ballista's: what they know is encoded as
//! plain data (JSON of the nodes' parameters, see [`Node`]), everything else is Ballista's (its
//! shuffle and cache nodes) and DataFusion's. Every message starts with a tag byte saying whose
//! it is, so neither side ever guesses at the other's bytes.
//!
//! Known today: binary traces (`flowbin(…)`, `FlowBinTable`, and its scan `FlowBinExec`). A plan
//! holding another of our sources or operators fails to encode with DataFusion's "not
//! implemented" error naming it.

use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::TableProvider;
use datafusion::common::{DataFusionError, Result, TableReference};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Extension, LogicalPlan};
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};
use flow_provider::binary::FlowBinTable;
use flow_provider::binary::dir::{Location, TraceDir};
use flow_provider::binary::exec::FlowBinExec;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;

/// First byte of a message: the rest is Ballista's codec's.
const BALLISTA: u8 = 0;
/// First byte of a message: the rest is a [`Node`] as JSON.
const OURS: u8 = 1;

/// The plain data of our nodes.
#[derive(Serialize, Deserialize)]
enum Node {
    /// A `FlowBinTable`: the traces found when the table was made (not listed again).
    FlowBinTable {
        paths: Vec<PathBuf>,
        traces: Vec<TraceDir>,
    },
    /// A `FlowBinExec`: the traces, the output columns by name, the limit, the partitions.
    FlowBinScan {
        traces: Vec<TraceDir>,
        columns: Vec<String>,
        limit: Option<usize>,
        partitions: usize,
    },
}

fn encode(node: &Node, buf: &mut Vec<u8>) -> Result<()> {
    buf.push(OURS);
    serde_json::to_writer(buf, node).map_err(|e| DataFusionError::External(Box::new(e)))
}

/// Whose `buf` is: ours (the node) or Ballista's (its bytes).
fn decode(buf: &[u8]) -> Result<std::result::Result<Node, &[u8]>> {
    match buf.split_first() {
        Some((&OURS, json)) => serde_json::from_slice(json)
            .map(Ok)
            .map_err(|e| DataFusionError::Internal(format!("a flow-models plan node: {e}"))),
        Some((&BALLISTA, rest)) => Ok(Err(rest)),
        _ => Err(DataFusionError::Internal(
            "a plan node without the flow-models codec's tag".into(),
        )),
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

impl LogicalExtensionCodec for FlowLogicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[LogicalPlan],
        ctx: &TaskContext,
    ) -> Result<Extension> {
        match decode(buf)? {
            Err(rest) => self.inner.try_decode(rest, inputs, ctx),
            Ok(_) => Err(DataFusionError::Internal(
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
            // One scan partition: Ballista gives each task its share of a stage's partitions
            // by rewriting the leaves it knows (file scans, shuffle reads) and running the
            // task's plan from partition 0, so a leaf it does not know (this scan) would be
            // read from its first partition by every task. Read by one task, the trace is
            // read once; the stages above are spread over the executors.
            Ok(Node::FlowBinTable { paths, traces }) => Ok(Arc::new(
                FlowBinTable::from_traces(paths, traces)?.with_max_partitions(1),
            )),
            Ok(_) => Err(DataFusionError::Internal(format!(
                "{table_ref}: a flow-models scan where a table was expected"
            ))),
            Err(rest) => self
                .inner
                .try_decode_table_provider(rest, table_ref, schema, ctx),
        }
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
            return encode(&node, buf);
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

impl PhysicalExtensionCodec for FlowPhysicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        match decode(buf)? {
            Ok(Node::FlowBinScan {
                traces,
                columns,
                limit,
                partitions,
            }) => Ok(Arc::new(FlowBinExec::from_columns(
                traces, &columns, limit, partitions,
            )?)),
            Ok(_) => Err(DataFusionError::Internal(
                "a flow-models table where an execution plan was expected".into(),
            )),
            Err(rest) => self.inner.try_decode(rest, inputs, ctx, proto_converter),
        }
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        if let Some(scan) = node.downcast_ref::<FlowBinExec>() {
            let schema = scan.schema();
            let node = Node::FlowBinScan {
                traces: scan.traces().to_vec(),
                columns: schema.fields().iter().map(|f| f.name().clone()).collect(),
                limit: scan.limit(),
                partitions: scan.partitions(),
            };
            return encode(&node, buf);
        }
        theirs(buf, |buf| self.inner.try_encode(node, buf, proto_converter))
    }
}
