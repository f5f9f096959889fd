//! `hekit.threshold`
use pyo3::prelude::*;

/// A collective public key (RLWE level).
#[pyclass(module = "hekit.threshold", frozen)]
pub struct RlwePublicKey {
    pub(crate) inner: rlwe::keys::PublicKey,
}
/// A collective relinearization key (RLWE level).
#[pyclass(module = "hekit.threshold", frozen)]
pub struct RlweRelinKey {
    pub(crate) inner: rlwe::keys::RelinKey,
}
/// A collective Galois key (RLWE level).
#[pyclass(module = "hekit.threshold", frozen)]
pub struct RlweGaloisKey {
    pub(crate) inner: rlwe::keys::GaloisKey,
}

/// Registers the module's classes.
pub fn register(_m: &Bound<'_, PyModule>) -> PyResult<()> {
    Ok(())
}
