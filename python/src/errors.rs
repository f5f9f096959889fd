//! Python exceptions: `hekit.HekitError` (a `ValueError`) and one subclass
//! per crate error type, carrying the Rust error's message unchanged.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

pyo3::create_exception!(
    hekit,
    HekitError,
    PyValueError,
    "Base class of every error hekit raises (a ValueError): the Rust error's message, unchanged."
);
pyo3::create_exception!(
    hekit,
    UnknownParametersError,
    HekitError,
    "Unpickling needs parameters this process has not created or loaded (objects travel with a fingerprint of their parameters, not the parameters)."
);
pyo3::create_exception!(
    hekit,
    RlweError,
    HekitError,
    "An error of the shared lattice core (`rlwe::Error`)."
);
pyo3::create_exception!(
    hekit.ckks,
    CkksError,
    HekitError,
    "An error of the CKKS scheme (`ckks::Error`)."
);
pyo3::create_exception!(
    hekit.bfv,
    BfvError,
    HekitError,
    "An error of the BFV scheme (`bfv::Error`)."
);
pyo3::create_exception!(
    hekit.paillier,
    PaillierError,
    HekitError,
    "An error of the Paillier scheme (`paillier::Error`)."
);
pyo3::create_exception!(
    hekit.threshold,
    ThresholdError,
    HekitError,
    "An error of the multiparty protocols (`threshold::Error`)."
);
pyo3::create_exception!(
    hekit.ml,
    MlError,
    HekitError,
    "An error of encrypted inference or aggregation (`ml_he::Error`)."
);

/// Turns a crate's `Result` into a `PyResult` raising that crate's
/// exception with the error's `Display` text.
pub trait OrRaise<T> {
    /// The `PyResult`.
    fn or_raise(self) -> PyResult<T>;
}

macro_rules! or_raise {
    ($err:ty, $exc:ty) => {
        impl<T> OrRaise<T> for Result<T, $err> {
            fn or_raise(self) -> PyResult<T> {
                self.map_err(|e| <$exc>::new_err(e.to_string()))
            }
        }
    };
}

or_raise!(rlwe::Error, RlweError);
or_raise!(ckks::Error, CkksError);
or_raise!(bfv::Error, BfvError);
or_raise!(paillier::Error, PaillierError);
or_raise!(threshold::Error, ThresholdError);
or_raise!(ml_he::Error, MlError);
