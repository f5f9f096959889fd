//! The one error type of the `bfv` crate.

/// Everything that can go wrong in `bfv`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An error from the lattice core (parameters, levels, bytes, keys).
    #[error(transparent)]
    Rlwe(#[from] rlwe::Error),
    /// Invalid BFV parameters (plaintext modulus, chain, …).
    #[error("invalid BFV parameters: {reason}")]
    InvalidParameters {
        /// What is wrong.
        reason: String,
    },
    /// Objects of different BFV parameters were mixed.
    #[error("parameter mismatch: {what}")]
    ParameterMismatch {
        /// Which objects disagree.
        what: &'static str,
    },
    /// A value does not fit in the plaintext space (−t/2, t/2] or [0, t).
    #[error("plaintext value {value} out of range for t = {t}")]
    PlaintextOutOfRange {
        /// The value.
        value: i128,
        /// The plaintext modulus.
        t: u64,
    },
    /// More values than slots or coefficients.
    #[error("too many values: {got} > {max}")]
    TooManyValues {
        /// Values given.
        got: usize,
        /// Capacity.
        max: usize,
    },
    /// Batching needs a prime `t ≡ 1 (mod 2N)`.
    #[error("batching is unavailable: t = {t} is not a prime ≡ 1 mod 2N")]
    BatchingUnavailable {
        /// The plaintext modulus.
        t: u64,
    },
    /// A plaintext of the wrong encoding for the requested decoding.
    #[error("encoding mismatch: {what}")]
    EncodingMismatch {
        /// What was expected.
        what: &'static str,
    },
    /// A rotation step outside (−N/2, N/2).
    #[error("rotation step {step} out of range for {slots} slots per row")]
    InvalidRotation {
        /// The step.
        step: i64,
        /// Slots per row.
        slots: usize,
    },
    /// Bytes that do not describe a valid BFV object.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// Which object.
        what: &'static str,
        /// Why.
        reason: String,
    },
}

/// Result alias of the crate.
pub type Result<T> = core::result::Result<T, Error>;
