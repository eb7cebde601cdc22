//! The physical scan of binary traces: the concatenated rows of all traces are split into one
//! contiguous range per partition, and each partition maps its files and emits zero-copy slices.
//! Every parameter is plain data (paths, counts, projection, limit), so a codec can ship the
//! node to another process and it re-opens the same paths there.

use super::dir::TraceDir;
use super::mmap::{array_from_buffer, map_file};
use arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions, new_null_array};
use arrow::buffer::Buffer;
use arrow::datatypes::SchemaRef;
use datafusion::common::stats::Precision;
use datafusion::common::{Result, Statistics};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
};
use std::fmt;
use std::sync::Arc;

/// Scan of `traces` producing `schema` (already projected); `columns[i]` is the field name of
/// output column `i`.
#[derive(Debug, Clone)]
pub struct FlowBinExec {
    traces: Arc<Vec<TraceDir>>,
    schema: SchemaRef,
    /// Total rows to read from the start of the concatenated traces (the limit, if any, applied).
    rows: usize,
    partitions: usize,
    properties: Arc<PlanProperties>,
}

impl FlowBinExec {
    pub fn new(
        traces: Arc<Vec<TraceDir>>,
        schema: SchemaRef,
        limit: Option<usize>,
        target_partitions: usize,
    ) -> Self {
        let total: usize = traces.iter().map(|t| t.rows).sum();
        let rows = limit.map_or(total, |l| l.min(total));
        // Tiny scans are not worth a thread each; big ones are split evenly over the cores.
        let partitions = target_partitions.clamp(1, rows.div_ceil(8192).max(1));
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(schema.clone()),
            Partitioning::UnknownPartitioning(partitions),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        Self { traces, schema, rows, partitions, properties }
    }

    pub fn traces(&self) -> &[TraceDir] {
        &self.traces
    }

    /// The half-open global row range of `partition`.
    fn range(&self, partition: usize) -> (usize, usize) {
        let at = |p: usize| (self.rows as u128 * p as u128 / self.partitions as u128) as usize;
        (at(partition), at(partition + 1))
    }
}

impl DisplayAs for FlowBinExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let cols: Vec<_> = self.schema.fields().iter().map(|f| f.name().as_str()).collect();
        write!(
            f,
            "FlowBinExec: traces={}, rows={}, partitions={}, projection=[{}]",
            self.traces.len(),
            self.rows,
            self.partitions,
            cols.join(", ")
        )
    }
}

impl ExecutionPlan for FlowBinExec {
    fn name(&self) -> &str {
        "FlowBinExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn with_new_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let (start, end) = self.range(partition);
        let batches = Batches {
            traces: self.traces.clone(),
            schema: self.schema.clone(),
            batch_size: context.session_config().batch_size(),
            position: start,
            end,
            mapped: None,
        };
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.schema.clone(),
            futures::stream::iter(batches),
        )))
    }

    fn partition_statistics(&self, partition: Option<usize>) -> Result<Arc<Statistics>> {
        let rows = match partition {
            Some(p) => {
                let (s, e) = self.range(p);
                e - s
            }
            None => self.rows,
        };
        let mut stats = Statistics::new_unknown(&self.schema);
        stats.num_rows = Precision::Exact(rows);
        let width: usize = self
            .schema
            .fields()
            .iter()
            .filter_map(|f| f.data_type().primitive_width())
            .sum();
        stats.total_byte_size = Precision::Exact(rows * width);
        Ok(Arc::new(stats))
    }

    fn supports_limit_pushdown(&self) -> bool {
        true
    }

    fn fetch(&self) -> Option<usize> {
        Some(self.rows)
    }

    fn with_fetch(&self, limit: Option<usize>) -> Option<Arc<dyn ExecutionPlan>> {
        let limit = limit.map_or(self.rows, |l| l.min(self.rows));
        Some(Arc::new(FlowBinExec::new(
            self.traces.clone(),
            self.schema.clone(),
            Some(limit),
            self.partitions,
        )))
    }
}

/// The maps of one trace, one entry per output column (`None`: field absent there → NULLs).
struct MappedTrace {
    index: usize,
    first_row: usize,
    columns: Vec<Option<Buffer>>,
}

/// Iterator over the batches of one partition's row range.
struct Batches {
    traces: Arc<Vec<TraceDir>>,
    schema: SchemaRef,
    batch_size: usize,
    position: usize,
    end: usize,
    mapped: Option<MappedTrace>,
}

impl Batches {
    /// Maps the trace containing global row `row` (once per trace and partition).
    fn trace_at(&mut self, row: usize) -> Result<&MappedTrace> {
        let current = self.mapped.as_ref().is_some_and(|m| {
            row >= m.first_row && row < m.first_row + self.traces[m.index].rows
        });
        if !current {
            let mut first_row = 0;
            let mut index = 0;
            for (i, t) in self.traces.iter().enumerate() {
                index = i;
                if row < first_row + t.rows {
                    break;
                }
                first_row += t.rows;
            }
            let trace = &self.traces[index];
            let columns = self
                .schema
                .fields()
                .iter()
                .map(|f| trace.column(f.name()).map(|c| map_file(&c.path)).transpose())
                .collect::<Result<Vec<_>>>()?;
            self.mapped = Some(MappedTrace { index, first_row, columns });
        }
        Ok(self.mapped.as_ref().expect("set above"))
    }

    fn next_batch(&mut self) -> Result<RecordBatch> {
        let row = self.position;
        let schema = self.schema.clone();
        let batch_size = self.batch_size.max(1);
        let end = self.end;
        let traces = self.traces.clone();
        let mapped = self.trace_at(row)?;
        let trace_end = mapped.first_row + traces[mapped.index].rows;
        let len = batch_size.min(end - row).min(trace_end - row);
        let offset = row - mapped.first_row;
        let arrays = schema
            .fields()
            .iter()
            .zip(&mapped.columns)
            .map(|(field, buffer)| match buffer {
                Some(b) => array_from_buffer(b, field.data_type(), offset, len),
                None => Ok(new_null_array(field.data_type(), len)),
            })
            .collect::<Result<Vec<ArrayRef>>>()?;
        self.position += len;
        let options = RecordBatchOptions::new().with_row_count(Some(len));
        Ok(RecordBatch::try_new_with_options(schema, arrays, &options)?)
    }
}

impl Iterator for Batches {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.position >= self.end {
            return None;
        }
        let batch = self.next_batch();
        if batch.is_err() {
            self.position = self.end;
        }
        Some(batch)
    }
}
