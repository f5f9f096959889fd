//! placeholder
use pyo3::prelude::*;

/// Registers the module's classes.
pub fn register(_m: &Bound<'_, PyModule>) -> PyResult<()> {
    Ok(())
}
