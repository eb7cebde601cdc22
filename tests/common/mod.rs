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

/// An unbounded memory pool that refuses the in-memory "packed sort" its reservation, as a
/// pool too small for it would, while granting the merge and DataFusion's sort all they ask:
/// the merge then takes its per-key (spilling) strategy.
#[derive(Debug, Default)]
pub struct NoRoomForPackedSort(datafusion::execution::memory_pool::UnboundedMemoryPool);

impl std::fmt::Display for NoRoomForPackedSort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NoRoomForPackedSort")
    }
}

impl datafusion::execution::memory_pool::MemoryPool for NoRoomForPackedSort {
    fn name(&self) -> &str {
        "NoRoomForPackedSort"
    }

    fn grow(&self, r: &datafusion::execution::memory_pool::MemoryReservation, n: usize) {
        self.0.grow(r, n)
    }

    fn shrink(&self, r: &datafusion::execution::memory_pool::MemoryReservation, n: usize) {
        self.0.shrink(r, n)
    }

    fn try_grow(
        &self,
        r: &datafusion::execution::memory_pool::MemoryReservation,
        n: usize,
    ) -> datafusion::common::Result<()> {
        if r.consumer().name() == "packed sort" {
            return datafusion::common::resources_err!("no room for the packed sort here");
        }
        self.0.try_grow(r, n)
    }

    fn reserved(&self) -> usize {
        self.0.reserved()
    }
}
