//! The one error type of the `zk` crate.

/// Everything that can go wrong in `zk`. Bytes from outside (a proof) yield
/// one of these, never a panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// From the lattice core.
    #[error(transparent)]
    Rlwe(#[from] rlwe::Error),
    /// Parameters the proof system cannot use (a ring too small for a
    /// 128-bit challenge space, a bound whose masks would overflow 62 bits).
    #[error("invalid proof parameters: {0}")]
    InvalidParameters(String),
    /// Objects of different parameters (a key, ciphertext or witness over
    /// another ring).
    #[error("parameter mismatch: {what}")]
    ParameterMismatch {
        /// Which objects disagree.
        what: &'static str,
    },
    /// Proof bytes that cannot be decoded: wrong length, version, or a
    /// response coefficient outside its range (out-of-range responses are
    /// refused while decoding, before any arithmetic).
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// Which object.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// A well-encoded proof that does not verify: the recomputed commitment
    /// does not hash to the proof's challenge (another statement, context,
    /// index, key or ciphertext, or a forgery).
    #[error("proof rejected: {reason}")]
    Rejected {
        /// Which check failed.
        reason: &'static str,
    },
    /// The prover's witness is outside the bounds the statement claims (an
    /// honest prover never gets this; nothing is proven).
    #[error("witness outside the proof's bounds: {what}")]
    WitnessOutOfBound {
        /// Which part.
        what: &'static str,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
