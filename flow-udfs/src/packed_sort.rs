//! In-memory sort of one binary trace by integer key fields: every record's keys and position
//! packed into one `u128` (most significant key highest, position lowest), the packed keys
//! sorted, and the trace's memory-mapped columns gathered in that order, batch by batch.
//! Positions make every packed key distinct, so the unstable sort gives numpy's stable lexsort
//! order, and `reverse` reverses the whole permutation: the same order as [`crate::sort`]'s
//! DataFusion plan, at 16 bytes per record instead of a copy of every column. Keys that do not
//! pack (floats, or more than 96 bits in all) return `None`: use the DataFusion sort.

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, UInt32Array};
use arrow::compute::take;
use arrow::datatypes::{ArrowPrimitiveType, DataType, Field, Schema, SchemaRef};
use arrow::datatypes::{
    Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::{PartitionStream, StreamingTableExec};
use flow_provider::binary::dir::TraceDir;
use flow_provider::binary::mmap::{array_from_buffer, map_file};
use flow_provider::fields::dtype_to_arrow;
use rayon::slice::ParallelSliceMut;
use std::sync::Arc;

/// Bits of the packed key holding the record's position.
const POSITION_BITS: u32 = 32;

/// The trace's columns as zero-copy arrays over their memory-mapped files, with their schema.
pub fn mapped_columns(trace: &TraceDir) -> Result<(SchemaRef, Vec<ArrayRef>)> {
    let mut fields = Vec::with_capacity(trace.columns.len());
    let mut arrays = Vec::with_capacity(trace.columns.len());
    for c in &trace.columns {
        let dt = dtype_to_arrow(c.dtype).ok_or_else(|| {
            DataFusionError::Internal(format!("type code {} of {}", c.dtype, c.path.display()))
        })?;
        arrays.push(array_from_buffer(&map_file(&c.path)?, &dt, 0, trace.rows)?);
        fields.push(Field::new(&c.field, dt, false));
    }
    Ok((Arc::new(Schema::new(fields)), arrays))
}

/// ORs a key column's values, as order-preserving unsigned integers (signed values with their
/// sign bit flipped), into `packed` at bit `shift`; returns the key's width in bits, or `None`
/// (leaving `packed` alone) for a type that does not pack or does not fit below bit 128.
fn pack_key(a: &ArrayRef, packed: &mut [u128], shift: u32) -> Option<u32> {
    fn or<T: ArrowPrimitiveType>(
        a: &ArrayRef,
        packed: &mut [u128],
        shift: u32,
        f: impl Fn(T::Native) -> u64,
    ) {
        for (p, &v) in packed.iter_mut().zip(a.as_primitive::<T>().values()) {
            *p |= u128::from(f(v)) << shift;
        }
    }
    let bits = match a.data_type() {
        DataType::UInt8 | DataType::Int8 => 8,
        DataType::UInt16 | DataType::Int16 => 16,
        DataType::UInt32 | DataType::Int32 => 32,
        DataType::UInt64 | DataType::Int64 => 64,
        _ => return None,
    };
    if shift + bits > 128 {
        return None;
    }
    match a.data_type() {
        DataType::UInt8 => or::<UInt8Type>(a, packed, shift, u64::from),
        DataType::UInt16 => or::<UInt16Type>(a, packed, shift, u64::from),
        DataType::UInt32 => or::<UInt32Type>(a, packed, shift, u64::from),
        DataType::UInt64 => or::<UInt64Type>(a, packed, shift, |v| v),
        DataType::Int8 => or::<Int8Type>(a, packed, shift, |v| u64::from(v as u8 ^ 0x80)),
        DataType::Int16 => or::<Int16Type>(a, packed, shift, |v| u64::from(v as u16 ^ 0x8000)),
        DataType::Int32 => or::<Int32Type>(a, packed, shift, |v| u64::from(v as u32 ^ (1 << 31))),
        _ => or::<Int64Type>(a, packed, shift, |v| v as u64 ^ (1 << 63)),
    }
    Some(bits)
}

/// The permutation that sorts `columns` (of `schema`) by `keys`, or `None` when the keys do not
/// pack into 96 bits or there are 2^32 records or more. A missing key is an error.
pub fn packed_order(
    schema: &Schema,
    columns: &[ArrayRef],
    keys: &[String],
    reverse: bool,
) -> Result<Option<Vec<u32>>> {
    let rows = columns.first().map_or(0, |c| c.len());
    if u32::try_from(rows).is_err() {
        return Ok(None);
    }
    let mut packed: Vec<u128> = (0..rows as u128).collect();
    let mut shift = POSITION_BITS;
    // Least significant key first, each above the previous ones.
    for k in keys.iter().rev() {
        let i = schema
            .index_of(k)
            .map_err(|_| DataFusionError::Plan(format!("sort: no field '{k}' in the input")))?;
        let Some(bits) = pack_key(&columns[i], &mut packed, shift) else {
            return Ok(None);
        };
        shift += bits;
    }
    packed.par_sort_unstable();
    let mut order: Vec<u32> = packed.into_iter().map(|p| p as u32).collect();
    if reverse {
        order.reverse();
    }
    Ok(Some(order))
}

/// `columns` in `order`, as batches of `batch_size` rows, gathered on a thread of their own (up
/// to two batches ahead) so that the gather overlaps whatever consumes the stream (writing). The
/// thread stops at the first batch nobody is waiting for any more.
pub fn gathered(
    schema: SchemaRef,
    columns: Vec<ArrayRef>,
    order: Arc<Vec<u32>>,
    batch_size: usize,
) -> SendableRecordBatchStream {
    use futures::SinkExt;
    let batch_size = batch_size.max(1);
    let (mut tx, rx) = futures::channel::mpsc::channel(1);
    let batch_schema = schema.clone();
    std::thread::spawn(move || {
        for rows in order.chunks(batch_size) {
            let indices = UInt32Array::from(rows.to_vec());
            // A panic must reach the consumer as an error: a stream that just ended early would
            // be committed as a complete, shorter trace.
            let batch = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                take_columns(&columns, &indices)
                    .and_then(|c| Ok(RecordBatch::try_new(batch_schema.clone(), c)?))
            }))
            .unwrap_or_else(|_| {
                Err(DataFusionError::Internal(
                    "sort: gathering the sorted columns panicked".into(),
                ))
            });
            let failed = batch.is_err();
            if futures::executor::block_on(tx.send(batch)).is_err() || failed {
                break; // the consumer is gone, or has the error
            }
        }
    });
    Box::pin(RecordBatchStreamAdapter::new(schema, rx))
}

/// One trace in `keys` order as a one-partition plan whose batches are gathered from the mapped
/// columns as it is read (in-memory packed sort; ties in input order). `None` when the keys do
/// not pack, or the memory pool of `ctx` cannot grant the 16 bytes per record the sort needs (the
/// 4 bytes per record of the order stay reserved while the plan lives): the caller then plans a
/// DataFusion sort, which spills.
pub fn sorted_trace_plan(
    trace: &TraceDir,
    keys: &[String],
    ctx: &TaskContext,
) -> Result<Option<Arc<dyn ExecutionPlan>>> {
    let reservation = MemoryConsumer::new("packed sort").register(ctx.memory_pool());
    if reservation.try_grow(16 * trace.rows).is_err() {
        return Ok(None);
    }
    let (schema, columns) = mapped_columns(trace)?;
    let Some(order) = packed_order(&schema, &columns, keys, false)? else {
        return Ok(None);
    };
    reservation.shrink(12 * trace.rows);
    let sorted = SortedTrace {
        schema: schema.clone(),
        columns,
        order: Arc::new(order),
        _reservation: reservation,
    };
    let plan = StreamingTableExec::try_new(schema, vec![Arc::new(sorted)], None, [], false, None)?;
    Ok(Some(Arc::new(plan)))
}

/// A trace's columns in a sorted order, gathered as the partition is read (the order is shared
/// with the gather, not copied: it is the memory the reservation stands for).
#[derive(Debug)]
struct SortedTrace {
    schema: SchemaRef,
    columns: Vec<ArrayRef>,
    order: Arc<Vec<u32>>,
    _reservation: MemoryReservation,
}

impl PartitionStream for SortedTrace {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let batch_size = ctx.session_config().batch_size();
        gathered(
            self.schema.clone(),
            self.columns.clone(),
            self.order.clone(),
            batch_size,
        )
    }
}

/// `take` of every column, the columns shared round-robin among the available cores (random
/// reads from the mapped files are the slow part of a sort).
fn take_columns(columns: &[ArrayRef], indices: &UInt32Array) -> Result<Vec<ArrayRef>> {
    let threads = crate::par::cores().min(columns.len()).max(1);
    let shares = crate::par::on_each(&mut vec![(); threads], |t, _| {
        (t..columns.len())
            .step_by(threads)
            .map(|i| Ok((i, take(columns[i].as_ref(), indices, None)?)))
            .collect::<Result<Vec<(usize, ArrayRef)>>>()
    });
    let mut out: Vec<Option<ArrayRef>> = vec![None; columns.len()];
    for share in shares {
        for (i, a) in share? {
            out[i] = Some(a);
        }
    }
    Ok(out.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int16Array, UInt8Array};

    fn order(keys: &[&str], reverse: bool) -> Option<Vec<u32>> {
        let a: ArrayRef = Arc::new(Int16Array::from(vec![3, -2, 3, -32768, 32767, -2]));
        let b: ArrayRef = Arc::new(UInt8Array::from(vec![1, 9, 0, 5, 5, 9]));
        let schema = Schema::new(vec![
            Field::new("a", DataType::Int16, false),
            Field::new("b", DataType::UInt8, false),
        ]);
        let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        packed_order(&schema, &[a, b], &keys, reverse).unwrap()
    }

    #[test]
    fn signed_keys_ties_and_reverse() {
        // a ascending (signed), ties (-2, rows 1 and 5) in input order.
        assert_eq!(order(&["a"], false), Some(vec![3, 1, 5, 0, 2, 4]));
        // (a, b): rows 0 and 2 tie on a; b orders them.
        assert_eq!(order(&["a", "b"], false), Some(vec![3, 1, 5, 2, 0, 4]));
        // b then a: b = 5 for rows 3 and 4, a orders them.
        assert_eq!(order(&["b", "a"], false), Some(vec![2, 0, 3, 4, 1, 5]));
        // --reverse is the exact reverse, ties included.
        assert_eq!(order(&["a"], true), Some(vec![4, 2, 0, 5, 1, 3]));
    }

    #[test]
    fn gathered_batches_follow_the_order_without_a_runtime() {
        use futures::StreamExt;
        let a: ArrayRef = Arc::new(Int16Array::from(vec![10, 11, 12, 13, 14]));
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int16, false)]));
        let stream = gathered(schema, vec![a], Arc::new(vec![4, 0, 3, 1, 2]), 2);
        let batches: Vec<RecordBatch> = futures::executor::block_on(stream.collect::<Vec<_>>())
            .into_iter()
            .collect::<Result<_>>()
            .unwrap();
        let sizes: Vec<usize> = batches.iter().map(|b| b.num_rows()).collect();
        assert_eq!(sizes, [2, 2, 1]);
        let values: Vec<i16> = batches
            .iter()
            .flat_map(|b| b.column(0).as_primitive::<Int16Type>().values().to_vec())
            .collect();
        assert_eq!(values, [14, 10, 13, 11, 12]);
    }

    #[test]
    fn a_failed_gather_is_an_error_not_a_short_stream() {
        use futures::StreamExt;
        let a: ArrayRef = Arc::new(Int16Array::from(vec![10, 11, 12]));
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int16, false)]));
        // Position 7 is outside the column: arrow's take fails or panics; either way the
        // consumer must see an error after the first (good) batch.
        let stream = gathered(schema, vec![a], Arc::new(vec![2, 0, 7, 1]), 2);
        let results = futures::executor::block_on(stream.collect::<Vec<_>>());
        assert_eq!(results.len(), 2, "{results:?}");
        assert!(results[0].is_ok());
        assert!(results[1].is_err());
    }

    #[test]
    fn keys_that_do_not_pack_fall_back() {
        let cols: Vec<ArrayRef> = (0..2)
            .map(|_| Arc::new(arrow::array::UInt64Array::from(vec![1u64, 2])) as ArrayRef)
            .collect();
        let schema = Schema::new(vec![
            Field::new("x", DataType::UInt64, false),
            Field::new("y", DataType::UInt64, false),
        ]);
        let keys = ["x".to_string(), "y".to_string()];
        // 64 + 64 bits of keys and 32 of position do not fit in 128.
        assert_eq!(packed_order(&schema, &cols, &keys, false).unwrap(), None);
        let err = packed_order(&schema, &cols, &["z".to_string()], false).unwrap_err();
        assert!(err.to_string().contains("no field 'z'"), "{err}");
    }
}
