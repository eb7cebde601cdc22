//! Column files mapped read-only into memory and handed to Arrow as buffers, without copying:
//! the Arrow array's values are the page-cache pages of the file.

use crate::FlowError;
use arrow::array::ArrayData;
use arrow::array::{ArrayRef, make_array};
use arrow::buffer::Buffer;
use arrow::datatypes::DataType;
use datafusion::common::{DataFusionError, Result};
use memmap2::{Advice, Mmap};
use std::fs::File;
use std::path::Path;
use std::ptr::NonNull;
use std::sync::Arc;

/// Maps `path` and returns a buffer over its bytes that keeps the map alive.
pub fn map_file(path: &Path) -> Result<Buffer> {
    let file = File::open(path).map_err(|e| cannot_map(path, e))?;
    map_open_file(&file, path)
}

fn cannot_map(path: &Path, e: std::io::Error) -> DataFusionError {
    FlowError::io("cannot map", path, e).into()
}

/// Maps the open `file` (at `path`, named in errors), as [`map_file`] does.
pub fn map_open_file(file: &File, path: &Path) -> Result<Buffer> {
    let fail = |e: std::io::Error| cannot_map(path, e);
    if file.metadata().map_err(fail)?.len() == 0 {
        // A zero-length mapping is not allowed by mmap(2); an empty column needs no pages.
        return Ok(Buffer::from(Vec::<u8>::new()));
    }
    // SAFETY: the map is read-only and private to this process. Its contents are undefined only
    // if another process truncates or rewrites the file while it is mapped; flow-models traces
    // are immutable once written (our writers replace whole directories by rename, which leaves
    // mapped inodes untouched), the same contract numpy.memmap relies on in the original tool.
    let map = unsafe { Mmap::map(file) }.map_err(fail)?;
    // Scans read columns front to back; tell the kernel to read ahead aggressively, and to read
    // a cold file into 2 MiB page-cache folios, which this and every later scan maps with one
    // page-table entry per 2 MiB instead of 512 (a warm column sums in about a third of the
    // time, and unmapping it becomes free: docs/performance.md). Both are hints; errors are
    // harmless.
    let _ = map.advise(Advice::Sequential);
    #[cfg(target_os = "linux")]
    let _ = map.advise(Advice::HugePage);
    let len = map.len();
    let ptr = NonNull::new(map.as_ptr() as *mut u8)
        .ok_or_else(|| DataFusionError::Internal("mmap returned a null pointer".into()))?;
    // SAFETY: `ptr` points to `len` readable bytes owned by `map`; the buffer holds the map in
    // its `Arc` owner, so the region stays mapped for as long as any array references it, and
    // Arrow never writes through a buffer it does not own exclusively (a `from_custom_allocation`
    // buffer cannot be turned into a mutable one).
    Ok(unsafe { Buffer::from_custom_allocation(ptr, len, Arc::new(map)) })
}

/// The values of a primitive array as bytes (what [`array_from_buffer`] reads back).
pub fn value_bytes(data: &ArrayData) -> &[u8] {
    let width = data.data_type().primitive_width().unwrap_or(0);
    &data.buffers()[0].as_slice()[data.offset() * width..(data.offset() + data.len()) * width]
}

/// An Arrow array of `len` values of type `data_type` starting at value `offset` of `buffer`.
/// Fails (instead of panicking) when the range is outside the buffer or misaligned.
pub fn array_from_buffer(
    buffer: &Buffer,
    data_type: &DataType,
    offset: usize,
    len: usize,
) -> Result<ArrayRef> {
    let width = data_type
        .primitive_width()
        .ok_or_else(|| DataFusionError::Internal(format!("{data_type} is not primitive")))?;
    let start = offset.checked_mul(width);
    let bytes = len.checked_mul(width);
    let (Some(start), Some(bytes)) = (start, bytes) else {
        return Err(DataFusionError::Execution(
            "flowbin: row range overflows".into(),
        ));
    };
    if start
        .checked_add(bytes)
        .is_none_or(|end| end > buffer.len())
    {
        return Err(DataFusionError::Execution(format!(
            "flowbin: rows {offset}..{} are beyond the end of the column ({} rows); \
             was the file truncated while the query ran?",
            offset + len,
            buffer.len() / width
        )));
    }
    // A buffer of its own over the range, not a slice of the whole map: a slice reports the
    // whole column file as its capacity, which operators that keep a batch (TopK, sorts) then
    // reserve from the memory pool: 580 MB for `ORDER BY octets LIMIT 3` of a 50 M-record trace.
    let ptr = NonNull::new(buffer.as_ptr().wrapping_add(start).cast_mut())
        .ok_or_else(|| DataFusionError::Internal("a null buffer pointer".into()))?;
    // SAFETY: `start + bytes <= buffer.len()` (checked above), so `ptr` points to `bytes`
    // readable bytes of `buffer`, which the new buffer holds as its owner: they stay valid
    // while any array references them, and Arrow never writes through a custom allocation.
    let values = unsafe { Buffer::from_custom_allocation(ptr, bytes, Arc::new(buffer.clone())) };
    let data = ArrayData::builder(data_type.clone())
        .len(len)
        .add_buffer(values)
        .build()?;
    Ok(make_array(data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::AsArray;
    use arrow::datatypes::UInt64Type;
    use std::io::Write;

    #[test]
    fn a_batch_reports_its_own_bytes_not_the_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("octets.Q");
        let values: Vec<u8> = (0..8 * 100_000).map(|i| i as u8).collect();
        std::fs::write(&path, &values).unwrap();
        let buffer = map_file(&path).unwrap();
        let array = array_from_buffer(&buffer, &DataType::UInt64, 1000, 10).unwrap();
        assert!(
            array.get_array_memory_size() < 1000,
            "{}",
            array.get_array_memory_size()
        );
        assert_eq!(value_bytes(&array.to_data()), &values[8000..8080]);
        drop(buffer);
        assert_eq!(
            value_bytes(&array.to_data()),
            &values[8000..8080],
            "the map outlives"
        );
    }

    #[test]
    fn array_points_into_the_map() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("packets.Q");
        let values: Vec<u64> = (0..1000).map(|i| i * 3).collect();
        let mut f = File::create(&path).unwrap();
        for v in &values {
            f.write_all(&v.to_ne_bytes()).unwrap();
        }
        drop(f);
        let buffer = map_file(&path).unwrap();
        let base = buffer.as_ptr() as usize;
        let array = array_from_buffer(&buffer, &DataType::UInt64, 10, 100).unwrap();
        let prim = array.as_primitive::<UInt64Type>();
        assert_eq!(prim.value(0), 30);
        assert_eq!(prim.len(), 100);
        let data_ptr = prim.values().as_ptr() as usize;
        // Zero-copy: the values are the mapped bytes themselves, at the right offset.
        assert_eq!(data_ptr, base + 10 * 8);
        assert!(data_ptr >= base && data_ptr + 100 * 8 <= base + buffer.len());
    }

    #[test]
    fn out_of_range_is_an_error() {
        let buffer = Buffer::from(vec![0u8; 16]);
        assert!(array_from_buffer(&buffer, &DataType::UInt64, 1, 2).is_err());
        assert!(array_from_buffer(&buffer, &DataType::UInt64, usize::MAX, 2).is_err());
        assert!(array_from_buffer(&buffer, &DataType::UInt64, 0, 2).is_ok());
    }
}
