//! Helpers shared by the merge test binaries.

use arrow::array::{AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, UInt64Type};

/// A flow record: its 21 standard fields as u64.
pub type Row = [u64; 21];

/// The rows of `batches` (the 21 standard fields first), in order.
pub fn rows(batches: &[RecordBatch]) -> Vec<Row> {
    let mut out = Vec::new();
    for b in batches {
        let cols: Vec<_> = (0..21)
            .map(|i| cast(b.column(i), &DataType::UInt64).unwrap())
            .collect();
        for r in 0..b.num_rows() {
            out.push(std::array::from_fn(|i| {
                cols[i].as_primitive::<UInt64Type>().value(r)
            }));
        }
    }
    out
}
