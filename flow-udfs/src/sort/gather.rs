//! The sorted trace read out batch by batch: each batch's input positions (from the order) and
//! every column's values at them, on all cores, in recycled memory.

use super::packed::{Positions, bits};
use super::recycled::Recycler;
use arrow::array::{Array, ArrayRef, AsArray, PrimitiveArray, RecordBatch, UInt32Array};
use arrow::compute::take;
use arrow::datatypes::{ArrowPrimitiveType, DataType, SchemaRef};
use arrow::datatypes::{
    Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchReceiverStreamBuilder;
use std::sync::Arc;

/// `columns` in `order`, as batches of `batch_size` rows, gathered on a blocking task of
/// DataFusion's runtime (up to two batches ahead) so that the gather overlaps whatever consumes
/// the stream (writing). The task stops at the first batch nobody is waiting for any more. The
/// `constant` ones (of one value: [`constant_columns`]) are handed out as slices of themselves.
pub fn gathered<O: Positions>(
    schema: SchemaRef,
    columns: Vec<ArrayRef>,
    constant: Vec<bool>,
    order: Arc<O>,
    batch_size: usize,
) -> SendableRecordBatchStream {
    let batch_size = batch_size.max(1);
    let mut builder = RecordBatchReceiverStreamBuilder::new(schema.clone(), 2);
    let tx = builder.tx();
    let batch_schema = schema;
    builder.spawn_blocking(move || {
        let recycler = Recycler::default();
        let plain = columns.iter().all(|c| c.null_count() == 0);
        let batches = order.len().div_ceil(batch_size);
        let rows_of = |n: usize| n * batch_size..((n + 1) * batch_size).min(order.len());
        let prepare = |n: usize| {
            let mut rows = Vec::new();
            order.positions(rows_of(n), &mut rows);
            Read::new(rows, plain)
        };
        let mut read = None;
        for n in 0..batches {
            // A panic must reach the consumer as an error: a stream that just ended early would
            // be committed as a complete, shorter trace.
            let batch = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let this = read.take().unwrap_or_else(|| prepare(n));
                // The next batch's reading is prepared while this one's columns are gathered.
                let (columns, next) = rayon::join(
                    || this.columns(&columns, &constant, rows_of(n), &recycler),
                    || (n + 1 < batches).then(|| prepare(n + 1)),
                );
                read = next;
                columns.and_then(|c| Ok(RecordBatch::try_new(batch_schema.clone(), c)?))
            }))
            .unwrap_or_else(|_| {
                Err(DataFusionError::Internal(
                    "sort: gathering the sorted columns panicked".into(),
                ))
            });
            let failed = batch.is_err();
            if tx.blocking_send(batch).is_err() || failed {
                break; // the consumer is gone, or has the error
            }
        }
        Ok(())
    });
    builder.build()
}

/// How a batch's rows are read: the rows of a time-sorted batch of a collector's trace are
/// spread over a few times as many input rows (a batch reaches back as far as its longest
/// flows), so reading them in output order misses the CPU cache at almost every value. When the
/// rows are that dense, they are read in input order instead, each value written to its place
/// in the output (which fits in the cache): (position, output index) pairs sorted once per
/// batch, for all columns: on a collector trace sorted by time that halves the gather
/// (docs/performance.md, "Sort"). Rows scattered over the whole trace (keys unrelated to time)
/// are taken in output order: reading through every column for each batch would cost more.
enum Read {
    /// (position << 32 | output index) pairs, sorted.
    InInputOrder(Vec<u64>),
    InOutputOrder(UInt32Array),
}

impl Read {
    /// The reading of input positions `rows` (in output order); `plain`: no column has NULLs
    /// (the input-order gather writes plain values; a mapped trace never has NULLs).
    fn new(rows: Vec<u32>, plain: bool) -> Self {
        let (lo, hi) = rows
            .iter()
            .fold((u32::MAX, 0), |(lo, hi), &r| (lo.min(r), hi.max(r)));
        let dense = (hi.saturating_sub(lo) as usize) < DENSE_SPAN * rows.len();
        if !(dense && plain) {
            return Read::InOutputOrder(UInt32Array::from(rows));
        }
        let mut pairs: Vec<u64> = (0..)
            .zip(rows)
            .map(|(k, row)| u64::from(row) << 32 | k)
            .collect();
        // By position: the bits the range of positions needs, above the output index.
        let width = bits(u64::from(hi - lo));
        let mut scratch = vec![0; pairs.len()];
        super::radix::lsd(
            &mut pairs,
            &mut scratch,
            u64::from(lo) << 32,
            32..32 + width,
        );
        Read::InInputOrder(pairs)
    }

    /// Every column's values at the rows (output rows `out_rows`), the columns shared
    /// round-robin among the cores; a `constant` column is its own slice.
    fn columns(
        &self,
        columns: &[ArrayRef],
        constant: &[bool],
        out_rows: std::ops::Range<usize>,
        recycler: &Recycler,
    ) -> Result<Vec<ArrayRef>> {
        let mut out: Vec<Option<ArrayRef>> = vec![None; columns.len()];
        let mut varying = Vec::with_capacity(columns.len());
        for (i, c) in columns.iter().enumerate() {
            if constant[i] {
                out[i] = Some(c.slice(out_rows.start, out_rows.len()));
            } else {
                varying.push(i);
            }
        }
        let threads = crate::par::cores().min(varying.len()).max(1);
        let shares = crate::par::on_each(&mut vec![(); threads], |t, _| {
            varying[t..]
                .iter()
                .step_by(threads)
                .map(|&i| {
                    let column = match self {
                        Read::InInputOrder(pairs) => gather(&columns[i], pairs, recycler)?,
                        Read::InOutputOrder(rows) => take(columns[i].as_ref(), rows, None)?,
                    };
                    Ok((i, column))
                })
                .collect::<Result<Vec<(usize, ArrayRef)>>>()
        });
        for share in shares {
            for (i, a) in share? {
                out[i] = Some(a);
            }
        }
        Ok(out.into_iter().flatten().collect())
    }
}

/// A batch's rows are read in input order when they lie within this many times their number of
/// consecutive input rows (a time-sorted collector trace: about 4).
const DENSE_SPAN: usize = 8;

/// `column`'s values at the positions of `pairs` (position << 32 | output index, sorted), in
/// memory from `recycler`.
fn gather(column: &ArrayRef, pairs: &[u64], recycler: &Recycler) -> Result<ArrayRef> {
    fn typed<T: ArrowPrimitiveType>(column: &ArrayRef, pairs: &[u64], r: &Recycler) -> ArrayRef {
        let values = column.as_primitive::<T>().values();
        let out = r.filled(pairs.len(), |out: &mut [T::Native]| {
            for &p in pairs {
                out[p as u32 as usize] = values[(p >> 32) as usize];
            }
        });
        Arc::new(PrimitiveArray::<T>::new(out, None))
    }
    let r = recycler;
    Ok(match column.data_type() {
        DataType::UInt8 => typed::<UInt8Type>(column, pairs, r),
        DataType::UInt16 => typed::<UInt16Type>(column, pairs, r),
        DataType::UInt32 => typed::<UInt32Type>(column, pairs, r),
        DataType::UInt64 => typed::<UInt64Type>(column, pairs, r),
        DataType::Int8 => typed::<Int8Type>(column, pairs, r),
        DataType::Int16 => typed::<Int16Type>(column, pairs, r),
        DataType::Int32 => typed::<Int32Type>(column, pairs, r),
        DataType::Int64 => typed::<Int64Type>(column, pairs, r),
        DataType::Float32 => typed::<Float32Type>(column, pairs, r),
        DataType::Float64 => typed::<Float64Type>(column, pairs, r),
        other => {
            return Err(DataFusionError::Internal(format!(
                "sort: cannot gather a column of type {other}"
            )));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sort::columns::constant_columns;
    use arrow::array::{Int16Array, UInt8Array};
    use arrow::datatypes::{Field, Schema};

    #[tokio::test]
    async fn gathered_batches_follow_the_order() {
        use futures::StreamExt;
        let a: ArrayRef = Arc::new(Int16Array::from(vec![10, 11, 12, 13, 14]));
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int16, false)]));
        let stream = gathered(
            schema,
            vec![a],
            vec![false],
            Arc::new(vec![4, 0, 3, 1, 2]),
            2,
        );
        let batches: Vec<RecordBatch> = stream
            .collect::<Vec<_>>()
            .await
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

    /// Dense rows (read in input order) and scattered rows (taken in output order) give what
    /// arrow's `take` gives, for each column type.
    #[test]
    fn both_ways_of_reading_a_batch_gather_the_same_values() {
        use arrow::array::{Float64Array, Int64Array, UInt8Array};
        let n = 10_000;
        let columns: Vec<ArrayRef> = vec![
            Arc::new(UInt8Array::from_iter_values((0..n).map(|i| (i * 7) as u8))),
            Arc::new(Int64Array::from_iter_values(
                (0..n).map(|i| -(i as i64) << 20),
            )),
            Arc::new(Float64Array::from_iter_values(
                (0..n).map(|i| i as f64 / 3.0),
            )),
        ];
        let dense: Vec<u32> = (0..2000).map(|k| (k * 7919 % 2000) + 500).collect();
        let scattered: Vec<u32> = (0..200).map(|k| k * 7919 % n as u32).collect();
        // With a NULL in one column, every column is taken (NULLs kept).
        let mut with_null = columns.clone();
        with_null.push(Arc::new(arrow::array::UInt16Array::from_iter(
            (0..n).map(|i| (i != 501).then_some(i as u16)),
        )));
        // A column of one value is its own slice at the output rows (here 0..).
        let mut with_constant = columns.clone();
        with_constant.push(Arc::new(UInt8Array::from(vec![4; n])));
        // The second dense batch gathers into the memory of the first (holding its values).
        let dense_again: Vec<u32> = dense.iter().rev().copied().collect();
        let recycler = Recycler::default();
        for (columns, rows) in [
            (&columns, &dense),
            (&columns, &scattered),
            (&with_null, &dense),
            (&columns, &dense_again),
            (&with_constant, &dense),
            (&with_constant, &scattered),
        ] {
            let plain = columns.iter().all(|c| c.null_count() == 0);
            let constant = constant_columns(columns);
            let expected = std::ptr::eq(columns, &with_constant);
            assert_eq!(constant, [false, false, false, expected][..columns.len()]);
            let got = Read::new(rows.clone(), plain)
                .columns(columns, &constant, 0..rows.len(), &recycler)
                .unwrap();
            let indices = UInt32Array::from(rows.to_vec());
            assert_eq!(got.len(), columns.len());
            for (g, c) in got.iter().zip(columns) {
                assert_eq!(
                    g.as_ref(),
                    take(c.as_ref(), &indices, None).unwrap().as_ref()
                );
            }
        }
    }

    /// The gathered stream gives a constant column as slices of itself, in batches of the
    /// others' lengths.
    #[tokio::test]
    async fn a_constant_column_is_sliced_in_batches() {
        use futures::StreamExt;
        let a: ArrayRef = Arc::new(Int16Array::from(vec![10, 11, 12, 13, 14]));
        let k: ArrayRef = Arc::new(UInt8Array::from(vec![3; 5]));
        let schema = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int16, false),
            Field::new("k", DataType::UInt8, false),
        ]));
        let columns = vec![a, k.clone()];
        let constant = constant_columns(&columns);
        let stream = gathered(schema, columns, constant, Arc::new(vec![4, 0, 3, 1, 2]), 2);
        let batches = stream.collect::<Vec<_>>().await;
        let mut at = 0;
        for batch in batches {
            let batch = batch.unwrap();
            assert_eq!(
                batch.column(1).as_ref(),
                k.slice(at, batch.num_rows()).as_ref()
            );
            at += batch.num_rows();
        }
        assert_eq!(at, 5);
    }

    #[tokio::test]
    async fn a_failed_gather_is_an_error_not_a_short_stream() {
        use futures::StreamExt;
        let a: ArrayRef = Arc::new(Int16Array::from(vec![10, 11, 12]));
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int16, false)]));
        // Position 7 is outside the column: arrow's take fails or panics; either way the
        // consumer must see an error after the first (good) batch.
        let stream = gathered(schema, vec![a], vec![false], Arc::new(vec![2, 0, 7, 1]), 2);
        let results = stream.collect::<Vec<_>>().await;
        assert_eq!(results.len(), 2, "{results:?}");
        assert!(results[0].is_ok());
        assert!(results[1].is_err());
    }
}
