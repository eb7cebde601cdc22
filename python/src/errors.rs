//! DataFusion errors as Python exceptions, with the whole message: a wrong argument or a bad
//! plan is a `ValueError`, a file that cannot be read an `OSError`, a memory limit a
//! `MemoryError`, anything else a `RuntimeError`.

use datafusion::common::DataFusionError;
use pyo3::PyErr;
use pyo3::exceptions::{PyMemoryError, PyOSError, PyRuntimeError, PyValueError};

pub fn py_err(e: DataFusionError) -> PyErr {
    let message = e.to_string();
    match e.find_root() {
        DataFusionError::Plan(_)
        | DataFusionError::SQL(..)
        | DataFusionError::Configuration(_)
        | DataFusionError::SchemaError(..) => PyValueError::new_err(message),
        DataFusionError::IoError(_) | DataFusionError::ObjectStore(_) => {
            PyOSError::new_err(message)
        }
        DataFusionError::ResourcesExhausted(_) => PyMemoryError::new_err(message),
        _ => PyRuntimeError::new_err(message),
    }
}

/// `Result<T, DataFusionError>` as `PyResult<T>`.
pub trait OrPyErr<T> {
    fn or_py(self) -> pyo3::PyResult<T>;
}

impl<T> OrPyErr<T> for datafusion::common::Result<T> {
    fn or_py(self) -> pyo3::PyResult<T> {
        self.map_err(py_err)
    }
}

pub fn py_err_arrow(e: arrow::error::ArrowError) -> PyErr {
    py_err(DataFusionError::ArrowError(Box::new(e), None))
}
