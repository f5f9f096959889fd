//! Python bindings of hekit (the `hekit` package): a thin PyO3 layer over
//! the Rust crates. No cryptography lives here — every call goes to the
//! Rust API of the same name; this crate converts arguments (numpy arrays,
//! Python ints, bytes), releases the GIL around heavy calls, maps each
//! crate's error type to a Python exception and makes objects picklable
//! through their versioned byte formats.
//!
//! | module | binds |
//! |---|---|
//! | [`ckks`] | `ckks`: parameters, keys, encoder, evaluator, ciphertexts, bootstrapping |
//! | [`bfv`] | `bfv`: the same for exact integers |
//! | [`paillier`] | `paillier`: keys, `EncodedNumber` / `EncryptedNumber`, python-paillier interop |
//! | [`threshold`] | `threshold`: parties, key-generation and decryption shares |
//! | [`ml`] | `ml_he`: encrypted inference (ONNX) and federated aggregation |
//!
//! Shared pieces: [`errors`] (exceptions), [`arrays`] (numpy in and out),
//! [`registry`] (parameters by fingerprint, for unpickling).

use pyo3::prelude::*;

pub mod arrays;
pub mod bfv;
pub mod ckks;
pub mod e2e;
pub mod errors;
pub mod ml;
pub mod paillier;
pub mod registry;
pub mod threshold;

/// Adds `sub` to `parent` as attribute `name`, with `__name__`
/// `hekit._hekit.<name>` (the public modules `hekit.<name>` re-export it).
fn add_submodule(
    parent: &Bound<'_, PyModule>,
    name: &str,
    fill: impl FnOnce(&Bound<'_, PyModule>) -> PyResult<()>,
) -> PyResult<()> {
    let sub = PyModule::new(parent.py(), name)?;
    fill(&sub)?;
    parent.add_submodule(&sub)?;
    Ok(())
}

/// The native module `hekit._hekit`.
#[pymodule]
fn _hekit(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("HekitError", py.get_type::<errors::HekitError>())?;
    m.add(
        "UnknownParametersError",
        py.get_type::<errors::UnknownParametersError>(),
    )?;
    m.add("RlweError", py.get_type::<errors::RlweError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(ifma_available, m)?)?;
    add_submodule(m, "ckks", ckks::register)?;
    add_submodule(m, "bfv", bfv::register)?;
    add_submodule(m, "paillier", paillier::register)?;
    add_submodule(m, "threshold", threshold::register)?;
    add_submodule(m, "ml", ml::register)?;
    Ok(())
}

/// Whether this CPU has AVX-512 IFMA, which the NTT and Paillier engines
/// select at run time (the same detection as the Rust crates).
#[pyfunction]
fn ifma_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512ifma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// A ChaCha20 generator seeded from the operating system (one per call:
/// calls never share a generator, so releasing the GIL is safe).
pub(crate) fn rng() -> rand_chacha::ChaCha20Rng {
    rlwe::sample::rng()
}

/// What `__reduce__` returns: the unpickling callable and its arguments.
pub(crate) type Reduce<'py, A> = PyResult<(Bound<'py, PyAny>, A)>;
