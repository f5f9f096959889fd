//! The one error type of the `rlwe` crate.

/// Everything that can go wrong in `rlwe`. Input that comes from outside
/// (bytes, sizes, levels, parameters) yields one of these, never a panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The parameters are not valid (degree, moduli, primes ...).
    #[error("invalid parameters: {reason}")]
    InvalidParameters {
        /// What is wrong.
        reason: String,
    },
    /// The parameters exceed the HomomorphicEncryption.org bound for the
    /// requested security level.
    #[error(
        "insecure parameters: log2(QP) = {log_qp} bits exceeds the {level}-bit bound of {max_log_qp} bits for N = {degree} (ask for SecurityLevel::None to allow this explicitly)"
    )]
    InsecureParameters {
        /// Ring degree.
        degree: usize,
        /// Total modulus size in bits (special primes included).
        log_qp: u32,
        /// Largest allowed size.
        max_log_qp: u32,
        /// Requested security level in bits.
        level: u32,
    },
    /// Parameters read from bytes record a security level below the
    /// minimum the reader asked for ([`Params::from_bytes`](crate::params::Params::from_bytes)):
    /// the sender does not get to choose the reader's security level.
    #[error(
        "parameters from bytes claim {claimed}-bit security (log2(QP) = {log_qp} bits for N = {degree}), below the {min}-bit minimum asked for (bound {max_log_qp} bits)"
    )]
    SecurityBelowMinimum {
        /// Ring degree.
        degree: usize,
        /// Total modulus size in bits (special primes included).
        log_qp: u32,
        /// Security level recorded in the bytes, in bits (0 for `SecurityLevel::None`).
        claimed: u32,
        /// Minimum security level the reader asked for, in bits.
        min: u32,
        /// The HomomorphicEncryption.org bound on log2(QP) at `min` for this
        /// degree (`u32::MAX` for no bound, 0 for a degree outside the table).
        max_log_qp: u32,
    },
    /// Two operands belong to different parameters (or bases).
    #[error("parameter mismatch: {what}")]
    ParameterMismatch {
        /// Which objects disagree.
        what: &'static str,
    },
    /// An operand is at a level that the operation cannot use.
    #[error("invalid level: {what} (got {got}, max {max})")]
    InvalidLevel {
        /// What was asked.
        what: &'static str,
        /// Level given.
        got: usize,
        /// Highest valid level.
        max: usize,
    },
    /// An operand has the wrong representation (coefficient vs NTT).
    #[error("representation mismatch: expected {expected:?}, got {got:?}")]
    RepresentationMismatch {
        /// Representation the operation needs.
        expected: crate::poly::Representation,
        /// Representation given.
        got: crate::poly::Representation,
    },
    /// A value lies outside the range the operation accepts.
    #[error("value out of range: {what}")]
    OutOfRange {
        /// What was out of range.
        what: &'static str,
    },
    /// A key was asked for that was not generated (e.g. a Galois element).
    #[error("missing key: {what}")]
    MissingKey {
        /// Which key.
        what: String,
    },
    /// Bytes that do not describe a valid object.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// Which object was being read.
        what: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// Serialized data of a format version this build does not read.
    #[error(
        "unknown serialization version {got} for {what} (this build reads version {supported})"
    )]
    UnknownVersion {
        /// Which object.
        what: &'static str,
        /// Version found.
        got: u16,
        /// Version supported.
        supported: u16,
    },
    /// Serialized data in a retired format version: version 1, whose body
    /// was bincode 1.x (hekit 0.1). Such bytes are refused, never decoded
    /// as something else.
    #[error(
        "{what}: format version {version} (bincode, hekit ≤ 0.1) is no longer read; re-serialize it with this version"
    )]
    RetiredVersion {
        /// Which object.
        what: &'static str,
        /// Version found.
        version: u16,
    },
}

/// Result alias of the crate.
pub type Result<T> = core::result::Result<T, Error>;
