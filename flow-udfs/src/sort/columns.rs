//! A trace's columns for the in-memory sort: zero-copy arrays over the memory-mapped files, and
//! which of them hold one value (such a column is its own sorted output: it is sliced, not
//! gathered, and a binary trace can be written with it before the order is known).

use arrow::array::{Array, ArrayRef};
use arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::common::{DataFusionError, Result};
use flow_provider::binary::compressed::read_whole;
use flow_provider::binary::dir::TraceDir;
use flow_provider::binary::mmap::{array_from_buffer, map_file, value_bytes};
use flow_provider::fields::dtype_to_arrow;
use std::sync::Arc;

/// The trace's columns as zero-copy arrays over their memory-mapped files (compressed ones
/// decompressed into memory), with their schema.
pub fn mapped_columns(trace: &TraceDir) -> Result<(SchemaRef, Vec<ArrayRef>)> {
    let mut fields = Vec::with_capacity(trace.columns.len());
    let mut arrays = Vec::with_capacity(trace.columns.len());
    for c in &trace.columns {
        let dt = dtype_to_arrow(c.dtype).ok_or_else(|| {
            DataFusionError::Internal(format!("type code {} of {}", c.dtype, c.location))
        })?;
        let buffer = match &c.compression {
            None => map_file(c.location.local("sort")?)?,
            // A compressed column is decompressed into memory whole.
            Some(z) => read_whole(c, z, trace.rows * c.width())?,
        };
        arrays.push(array_from_buffer(&buffer, &dt, 0, trace.rows)?);
        fields.push(Field::new(&c.field, dt, false));
    }
    Ok((Arc::new(Schema::new(fields)), arrays))
}

/// Bytes the compressed columns of `trace` take decompressed ([`mapped_columns`] holds them in
/// memory).
pub fn decompressed_bytes(trace: &TraceDir) -> usize {
    (trace.columns.iter())
        .filter(|c| c.compression.is_some())
        .map(|c| c.width() * trace.rows)
        .sum()
}

/// Whether every value of `column` is the same (bit for bit): sorted, such a column is its
/// input, so it needs no gathering (nor waiting for the order). An IPv4-only trace has seven:
/// `af` and the upper three words of both addresses, and `aggs` before a merge.
pub fn is_constant(column: &ArrayRef) -> bool {
    let Some(width) = column.data_type().primitive_width() else {
        return false;
    };
    if column.null_count() > 0 {
        return false;
    }
    let data = column.to_data();
    let bytes = value_bytes(&data);
    // Equal to itself shifted by one value.
    bytes.len() <= width || bytes[width..] == bytes[..bytes.len() - width]
}

/// [`is_constant`] of each column, on all cores.
pub fn constant_columns(columns: &[ArrayRef]) -> Vec<bool> {
    use rayon::prelude::*;
    columns.par_iter().map(is_constant).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn constant_columns_are_equal_bit_for_bit() {
        use arrow::array::{Float32Array, UInt32Array};
        let constant = |a: ArrayRef| is_constant(&a);
        assert!(constant(Arc::new(UInt32Array::from(vec![5; 1000]))));
        assert!(constant(Arc::new(UInt32Array::from(Vec::<u32>::new()))));
        assert!(constant(Arc::new(UInt32Array::from(vec![9]))));
        let mut last = vec![5; 1000];
        last[999] = 6;
        assert!(!constant(Arc::new(UInt32Array::from(last.clone()))));
        // The slice before the odd value is constant (offsets are honoured).
        let sliced = UInt32Array::from(last).slice(500, 499);
        assert!(constant(Arc::new(sliced.clone())));
        assert!(!constant(Arc::new(UInt32Array::from(vec![6, 5, 5]))));
        // 0.0 and -0.0 are equal numbers, but not the same bits: sorting must keep them apart.
        assert!(!constant(Arc::new(Float32Array::from(vec![0.0, -0.0]))));
        assert!(constant(Arc::new(Float32Array::from(vec![f32::NAN; 3]))));
        assert!(!constant(Arc::new(UInt32Array::from(vec![None, None]))));
        // A run of equal bytes across values of other widths.
        assert!(!constant(Arc::new(arrow::array::UInt16Array::from(vec![
            0x0101, 0x0001
        ]))));
    }
}
