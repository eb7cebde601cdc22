//! `flow_models_df._native`: this project inside datafusion-python. Every table function, scalar
//! function, aggregate and `STORED AS` format is handed to the host session as a datafusion-ffi
//! capsule ([`capsules`]); the tools that do not fit a query (`hist` of a DataFrame, `fit`,
//! `plot`, writing a binary trace) are functions over Arrow C streams ([`tools`]). The Python
//! package (`flow_models_df/__init__.py`) puts a Pythonic face on both.

mod capsules;
mod errors;
mod sealed;
mod streams;
mod tools;

use pyo3::prelude::*;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<capsules::TableFunction>()?;
    m.add_class::<capsules::ScalarFunction>()?;
    m.add_class::<capsules::AggregateFunction>()?;
    m.add_class::<capsules::TableFactory>()?;
    m.add_class::<capsules::Table>()?;
    m.add_class::<streams::ArrowStream>()?;
    m.add_function(wrap_pyfunction!(capsules::functions, m)?)?;
    m.add_function(wrap_pyfunction!(capsules::table, m)?)?;
    m.add_function(wrap_pyfunction!(tools::hist, m)?)?;
    m.add_function(wrap_pyfunction!(tools::csv_hist, m)?)?;
    m.add_function(wrap_pyfunction!(tools::fit, m)?)?;
    m.add_function(wrap_pyfunction!(tools::plot, m)?)?;
    m.add_function(wrap_pyfunction!(tools::write_flowbin, m)?)?;
    Ok(())
}
