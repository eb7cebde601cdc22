//! This project's functions and formats as datafusion-ffi capsules for a datafusion-python
//! session: each object answers the host's capsule protocol (`__datafusion_table_function__`,
//! `__datafusion_scalar_udf__`, `__datafusion_aggregate_udf__`,
//! `__datafusion_table_provider_factory__`, `__datafusion_table_provider__`). The list is not
//! kept by hand: [`functions`] is whatever `flow_udfs::register_all` adds to a session.

use crate::errors::OrPyErr;
use crate::sealed::{SealedFactory, SealedFunction, SealedTable};
use datafusion::catalog::{TableFunctionImpl, TableProvider, TableProviderFactory};
use datafusion::common::ScalarValue;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::logical_expr::{AggregateUDF, Expr, ScalarUDF};
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion_ffi::table_provider::FFI_TableProvider;
use datafusion_ffi::table_provider_factory::FFI_TableProviderFactory;
use datafusion_ffi::udaf::FFI_AggregateUDF;
use datafusion_ffi::udf::FFI_ScalarUDF;
use datafusion_ffi::udtf::FFI_TableFunction;
use datafusion_python_util::{ffi_logical_codec_from_pycapsule, get_tokio_runtime};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyCapsule, PyInt, PyString};
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

/// This library's own session: every function registered, no memory limit. The functions handed
/// to hosts come from it, and the tools (`hist`, `write_flowbin`) run in it.
pub fn session() -> &'static SessionContext {
    static SESSION: OnceLock<SessionContext> = OnceLock::new();
    SESSION.get_or_init(|| {
        flow_udfs::context(SessionConfig::new(), Arc::new(RuntimeEnv::default()))
            .expect("registering this library's functions into a new session")
    })
}

/// The tokio runtime of this library (the host has its own): futures of our providers and
/// plans run on it when the host calls them through the FFI.
fn runtime() -> Option<tokio::runtime::Handle> {
    Some(get_tokio_runtime().handle().clone())
}

/// A table function (`flowbin`, `flow_hist`, …) for `SessionContext.register_udtf`.
#[pyclass(frozen, name = "TableFunction", module = "flow_models_df._native")]
pub struct TableFunction {
    name: String,
    function: Arc<dyn TableFunctionImpl>,
}

#[pymethods]
impl TableFunction {
    #[getter]
    fn name(&self) -> &str {
        &self.name
    }

    fn __datafusion_table_function__<'py>(
        &self,
        py: Python<'py>,
        session: Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let codec = ffi_logical_codec_from_pycapsule(session, None)?;
        let function =
            FFI_TableFunction::new_with_ffi_codec(self.function.clone(), runtime(), codec);
        PyCapsule::new_with_value(py, function, c"datafusion_table_function")
    }
}

/// A scalar function (`log_bin`, `cryptopan`, …) for `SessionContext.register_udf`.
#[pyclass(frozen, name = "ScalarFunction", module = "flow_models_df._native")]
pub struct ScalarFunction(Arc<ScalarUDF>);

#[pymethods]
impl ScalarFunction {
    #[getter]
    fn name(&self) -> &str {
        self.0.name()
    }

    fn __datafusion_scalar_udf__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        let function = FFI_ScalarUDF::from(self.0.clone());
        PyCapsule::new_with_value(py, function, c"datafusion_scalar_udf")
    }
}

/// An aggregate function (`mixture_fit`) for `SessionContext.register_udaf`.
#[pyclass(frozen, name = "AggregateFunction", module = "flow_models_df._native")]
pub struct AggregateFunction(Arc<AggregateUDF>);

#[pymethods]
impl AggregateFunction {
    #[getter]
    fn name(&self) -> &str {
        self.0.name()
    }

    fn __datafusion_aggregate_udf__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let function = FFI_AggregateUDF::from(self.0.clone());
        PyCapsule::new_with_value(py, function, c"datafusion_aggregate_udf")
    }
}

/// `CREATE EXTERNAL TABLE … STORED AS <format>` for `SessionContext.register_table_factory`.
#[pyclass(frozen, name = "TableFactory", module = "flow_models_df._native")]
pub struct TableFactory {
    format: String,
    factory: Arc<dyn TableProviderFactory>,
}

#[pymethods]
impl TableFactory {
    #[getter]
    fn format(&self) -> &str {
        &self.format
    }

    fn __datafusion_table_provider_factory__<'py>(
        &self,
        py: Python<'py>,
        codec: Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let codec = ffi_logical_codec_from_pycapsule(codec, None)?;
        let factory = FFI_TableProviderFactory::new_with_ffi_codec(
            self.factory.clone() as Arc<dyn TableProviderFactory + Send>,
            runtime(),
            codec,
        );
        PyCapsule::new_with_value(py, factory, c"datafusion_table_provider_factory")
    }
}

/// A table (a trace, nfcapd files, …) for `SessionContext.read_table` / `register_table`. Its
/// scan keeps the projection, filters and limit the host pushes down.
#[pyclass(frozen, name = "Table", module = "flow_models_df._native")]
pub struct Table(Arc<dyn TableProvider>);

#[pymethods]
impl Table {
    fn __datafusion_table_provider__<'py>(
        &self,
        py: Python<'py>,
        session: Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let codec = ffi_logical_codec_from_pycapsule(session, None)?;
        let provider =
            FFI_TableProvider::new_with_ffi_codec(self.0.clone(), true, runtime(), codec);
        PyCapsule::new_with_value(py, provider, c"datafusion_table_provider")
    }

    /// The column names, in order.
    fn columns(&self) -> Vec<String> {
        let schema = self.0.schema();
        schema.fields().iter().map(|f| f.name().clone()).collect()
    }
}

/// Everything `flow_udfs::register_all` adds to a session, as capsule objects: (table
/// functions, scalar functions, aggregate functions, table factories).
#[pyfunction]
pub fn functions() -> (
    Vec<TableFunction>,
    Vec<ScalarFunction>,
    Vec<AggregateFunction>,
    Vec<TableFactory>,
) {
    let ours = session().state();
    let plain = SessionContext::new().state();
    let table_functions = (ours.table_functions().iter())
        .filter(|(name, _)| !plain.table_functions().contains_key(*name))
        .map(|(name, f)| TableFunction {
            name: name.clone(),
            function: Arc::new(SealedFunction(f.function().clone())),
        });
    let scalar = (ours.scalar_functions().iter())
        .filter(|(name, _)| !plain.scalar_functions().contains_key(*name))
        .map(|(_, f)| ScalarFunction(f.clone()));
    let aggregate = (ours.aggregate_functions().iter())
        .filter(|(name, _)| !plain.aggregate_functions().contains_key(*name))
        .map(|(_, f)| AggregateFunction(f.clone()));
    let factories = (ours.table_factories().iter())
        .filter(|(name, _)| !plain.table_factories().contains_key(*name))
        .map(|(format, f)| TableFactory {
            format: format.clone(),
            factory: Arc::new(SealedFactory(f.clone())),
        });
    (
        by_name(table_functions.map(|f| (f.name.clone(), f))),
        by_name(scalar.map(|f| (f.0.name().to_string(), f))),
        by_name(aggregate.map(|f| (f.0.name().to_string(), f))),
        by_name(factories.map(|f| (f.format.clone(), f))),
    )
}

/// In name order, so that registration does not depend on hash order.
fn by_name<T>(named: impl Iterator<Item = (String, T)>) -> Vec<T> {
    named.collect::<BTreeMap<_, _>>().into_values().collect()
}

/// A literal argument of a table function from Python: str, bool or int.
fn literal(value: &Bound<'_, PyAny>) -> PyResult<Expr> {
    let scalar = if value.is_instance_of::<PyString>() {
        ScalarValue::Utf8(Some(value.extract()?))
    } else if value.is_instance_of::<PyBool>() {
        ScalarValue::Boolean(Some(value.extract()?))
    } else if value.is_instance_of::<PyInt>() {
        ScalarValue::Int64(Some(value.extract()?))
    } else {
        return Err(PyTypeError::new_err(format!(
            "a table function argument must be str, bool or int, got {}",
            value.get_type().name()?
        )));
    };
    Ok(Expr::Literal(scalar, None))
}

/// The table `function(args…)` makes (`table("flowbin", ["trace"])`), opened now, as a
/// [`Table`].
#[pyfunction]
pub fn table(function: &str, args: Vec<Bound<'_, PyAny>>) -> PyResult<Table> {
    let state = session().state();
    let f = state
        .table_functions()
        .get(function)
        .ok_or_else(|| PyValueError::new_err(format!("no table function '{function}'")))?;
    let exprs = args.iter().map(literal).collect::<PyResult<Vec<_>>>()?;
    let args = datafusion::catalog::TableFunctionArgs::new(&exprs, &state);
    let provider = f.create_table_provider_with_args(args).or_py()?;
    Ok(Table(Arc::new(SealedTable(provider))))
}
