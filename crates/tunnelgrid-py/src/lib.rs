//! `import tunnelgrid`: the library's volumes, models, sweeps and studies as a Python module,
//! NumPy arrays in and out (PyO3 + rust-numpy, packaged by maturin; issue 19).
//!
//! Every function builds the same library values the command line builds (`ModelSpec`,
//! `engines::select_named`, `transport`, `Fields`, `analyze_point`, `threshold_study`) with
//! errors naming keyword arguments, then computes with the GIL released (`compute`), so other
//! Python threads run meanwhile. Errors become `ValueError` (what the caller gave is not
//! allowed) or `RuntimeError` (the computation or the device failed), carrying the library's
//! message; a panic is caught and raised as `RuntimeError`, never as PyO3's `PanicException`.
//!
//! Axes: a NumPy array shaped (nz, ny, nx) has axis 0 = z, 1 = y, 2 = x (a 2D image shaped
//! (ny, nx): axis 0 = y, 1 = x). Site index (z·ny + y)·nx + x is the array's C order.

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use std::panic::AssertUnwindSafe;

mod model;
mod research;
mod volumes;

/// Turns a library error into the Python exception that fits it: `ValueError` when the model,
/// the conditions or the arguments are invalid (a `ConfigError` anywhere in its chain),
/// `RuntimeError` otherwise (device failures, solver non-convergence). The message is the
/// whole chain, as the command line prints it.
fn py_error(error: anyhow::Error) -> PyErr {
    use tunnelgrid::model::{ConfigError, EngineError};
    let invalid = error.chain().any(|cause| {
        cause.is::<ConfigError>()
            || matches!(
                cause.downcast_ref::<EngineError>(),
                Some(EngineError::Config(_))
            )
    });
    let message = format!("{error:#}");
    if invalid {
        PyValueError::new_err(message)
    } else {
        PyRuntimeError::new_err(message)
    }
}

/// A `ValueError` for arguments refused before any computation.
fn invalid(error: anyhow::Error) -> PyErr {
    PyValueError::new_err(format!("{error:#}"))
}

/// Runs `work` with the GIL released and any panic caught: its error becomes the fitting
/// exception (`py_error`), a panic a `RuntimeError` that says it is a bug.
fn compute<T, F>(py: Python<'_>, work: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce() -> anyhow::Result<T> + Send,
{
    match py.detach(|| std::panic::catch_unwind(AssertUnwindSafe(work))) {
        Ok(result) => result.map_err(py_error),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(PyRuntimeError::new_err(format!(
                "tunnelgrid: internal error (a bug, please report it): {what}"
            )))
        }
    }
}

/// The module.
#[pymodule]
#[pyo3(name = "tunnelgrid")]
fn tunnelgrid_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add(
        "STATES",
        ("insulating", "conducting", "superconducting").into_pyobject(m.py())?,
    )?;
    m.add_function(wrap_pyfunction!(volumes::label, m)?)?;
    m.add_function(wrap_pyfunction!(volumes::spanning, m)?)?;
    m.add_function(wrap_pyfunction!(volumes::transport, m)?)?;
    m.add_class::<volumes::Transport>()?;
    m.add_class::<model::Model>()?;
    m.add_class::<model::Report>()?;
    m.add_function(wrap_pyfunction!(research::threshold, m)?)?;
    m.add_function(wrap_pyfunction!(research::adapters, m)?)?;
    Ok(())
}
