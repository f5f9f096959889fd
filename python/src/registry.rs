//! The process registry of parameters, by fingerprint. Every parameter
//! set the bindings create or load is recorded here; pickled objects carry
//! their parameters' fingerprint and are rebuilt against the registered
//! parameters ([`crate::errors::UnknownParametersError`] if there are none).
//! Parameter sets are small (primes and NTT tables) and kept for the life of
//! the process.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use pyo3::prelude::*;

use crate::errors::UnknownParametersError;

/// Parameters of one kind, by fingerprint.
pub struct Registry<T> {
    kind: &'static str,
    hint: &'static str,
    map: LazyLock<Mutex<HashMap<[u8; 32], T>>>,
}

impl<T: Clone> Registry<T> {
    pub const fn new(kind: &'static str, hint: &'static str) -> Self {
        Self {
            kind,
            hint,
            map: LazyLock::new(|| Mutex::new(HashMap::new())),
        }
    }

    /// Records `value` under `fingerprint` (the newest wins).
    pub fn insert(&self, fingerprint: &[u8; 32], value: T) {
        if let Ok(mut m) = self.map.lock() {
            m.insert(*fingerprint, value);
        }
    }

    /// The parameters of `fingerprint`, or `UnknownParametersError`.
    pub fn get(&self, fingerprint: &[u8]) -> PyResult<T> {
        let found = <[u8; 32]>::try_from(fingerprint)
            .ok()
            .and_then(|fp| self.map.lock().ok()?.get(&fp).cloned());
        found.ok_or_else(|| {
            let hex: String = fingerprint
                .iter()
                .take(8)
                .map(|b| format!("{b:02x}"))
                .collect();
            UnknownParametersError::new_err(format!(
                "unknown {} parameters (fingerprint {hex}…): create or load them in this process ({}) before unpickling objects that use them",
                self.kind, self.hint
            ))
        })
    }
}

/// CKKS parameters by RLWE fingerprint (CKKS objects are compatible when
/// their RLWE parameters are; the default scale is not part of it).
pub static CKKS: Registry<ckks::Parameters> = Registry::new(
    "CKKS",
    "hekit.ckks.Parameters.preset / Parameters(...) / Parameters.from_bytes",
);
/// BFV parameters by fingerprint (RLWE parameters and `t`).
pub static BFV: Registry<Arc<bfv::Parameters>> = Registry::new(
    "BFV",
    "hekit.bfv.Parameters.preset / Parameters(...) / Parameters.from_bytes",
);
/// RLWE parameters by fingerprint (threshold messages).
pub static RLWE: Registry<Arc<rlwe::params::Params>> =
    Registry::new("RLWE", "the CKKS or BFV parameters of the session");

/// Records CKKS parameters (and their RLWE parameters).
pub fn register_ckks(p: &ckks::Parameters) {
    let fp = p.rlwe().fingerprint();
    CKKS.insert(fp, p.clone());
    RLWE.insert(fp, p.rlwe().clone());
}

/// Records BFV parameters (and their RLWE parameters).
pub fn register_bfv(p: &Arc<bfv::Parameters>) {
    BFV.insert(p.fingerprint(), p.clone());
    RLWE.insert(p.rlwe().fingerprint(), p.rlwe().clone());
}
