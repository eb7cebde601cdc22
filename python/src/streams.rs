//! Arrow C streams between Python and Rust: batches cross without a copy (the Arrow C stream
//! interface, `__arrow_c_stream__`), in either direction.

use arrow::array::{RecordBatch, RecordBatchIterator, RecordBatchReader};
use arrow::datatypes::SchemaRef;
use arrow::ffi_stream::{ArrowArrayStreamReader, FFI_ArrowArrayStream};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;
use std::sync::Mutex;

/// Batches for Python: `pyarrow.table(stream)` (or any reader of `__arrow_c_stream__`) takes
/// them once.
#[pyclass(frozen, name = "ArrowStream", module = "flow_models_df._native")]
pub struct ArrowStream(Mutex<Option<FFI_ArrowArrayStream>>);

impl ArrowStream {
    pub fn new(schema: SchemaRef, batches: Vec<RecordBatch>) -> Self {
        let reader = RecordBatchIterator::new(batches.into_iter().map(Ok), schema);
        Self(Mutex::new(Some(FFI_ArrowArrayStream::new(Box::new(
            reader,
        )))))
    }
}

#[pymethods]
impl ArrowStream {
    #[pyo3(signature = (requested_schema = None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema; // the batches are given as they are
        let stream = self.0.lock().ok().and_then(|mut s| s.take());
        let stream = stream.ok_or_else(|| PyTypeError::new_err("the stream was read already"))?;
        PyCapsule::new_with_value(py, stream, c"arrow_array_stream")
    }
}

/// The batches of any Python object with `__arrow_c_stream__` (a datafusion DataFrame, a
/// pyarrow Table or RecordBatchReader, a polars frame …), as a reader.
pub fn reader_of(obj: &Bound<'_, PyAny>) -> PyResult<Box<dyn RecordBatchReader + Send>> {
    if !obj.hasattr("__arrow_c_stream__")? {
        return Err(PyTypeError::new_err(format!(
            "expected a DataFrame or Arrow data (an object with __arrow_c_stream__), got {}",
            obj.get_type().name()?
        )));
    }
    let capsule = obj.call_method0("__arrow_c_stream__")?;
    let capsule = capsule.cast::<PyCapsule>()?;
    let pointer = capsule.pointer_checked(Some(c"arrow_array_stream"))?;
    // SAFETY: a capsule named "arrow_array_stream" holds an FFI_ArrowArrayStream (the Arrow C
    // stream interface); `from_raw` moves the stream out and marks the capsule's copy released,
    // so the capsule's destructor does not release it a second time.
    let reader = unsafe { ArrowArrayStreamReader::from_raw(pointer.as_ptr().cast()) };
    Ok(Box::new(reader.map_err(crate::errors::py_err_arrow)?))
}
