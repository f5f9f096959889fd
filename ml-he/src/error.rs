//! The one error type of the `ml-he` crate.

/// Everything that can go wrong in `ml-he`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// From the lattice core.
    #[error(transparent)]
    Rlwe(#[from] rlwe::Error),
    /// From CKKS.
    #[error(transparent)]
    Ckks(#[from] ckks::Error),
    /// From BFV.
    #[error(transparent)]
    Bfv(#[from] bfv::Error),
    /// From Paillier.
    #[error(transparent)]
    Paillier(#[from] paillier::Error),
    /// From the threshold protocols.
    #[error(transparent)]
    Threshold(#[from] threshold::Error),
    /// A data file or weights file that cannot be read.
    #[error("data error: {0}")]
    Data(String),
    /// Shapes that do not fit (features, layers, slots).
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// A value outside what the model or packing supports.
    #[error("out of range: {0}")]
    OutOfRange(String),
}

/// Result alias of the crate.
pub type Result<T> = core::result::Result<T, Error>;
