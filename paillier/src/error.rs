//! The crate's single error type.

use thiserror::Error;

/// Everything that can go wrong in this crate.
///
/// Every variant is structured so callers can match on it; none of them
/// carries secret material.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Error {
    /// A raw plaintext was not in `[0, n)`.
    #[error("plaintext out of range: must be in [0, n) for a {n_bits}-bit modulus")]
    PlaintextOutOfRange {
        /// Bit length of the modulus `n`.
        n_bits: u64,
    },
    /// A signed value or encoded mantissa does not fit the encodable range
    /// `[-max_int, max_int]` (with `max_int = (n - 1) / 3`).
    #[error("value does not fit the encodable range of the key")]
    EncodingOutOfRange,
    /// A decrypted value lies in the gap between the positive and negative
    /// encodable ranges: an addition or multiplication overflowed.
    #[error("overflow: the decrypted value is outside the encodable range")]
    Overflow,
    /// A ciphertext value is not a unit of `Z_{n^2}`.
    #[error("invalid ciphertext: {reason}")]
    InvalidCiphertext {
        /// Which check failed.
        reason: &'static str,
    },
    /// Two objects belong to different public keys.
    #[error("key mismatch: the operands belong to different public keys")]
    KeyMismatch,
    /// A modulus below 2048 bits was requested without the explicit opt-out.
    #[error(
        "insecure key size: {bits}-bit modulus (at least 2048 bits unless explicitly opted out)"
    )]
    InsecureKeySize {
        /// The requested modulus size.
        bits: u64,
    },
    /// Key material that is not a valid Paillier key.
    #[error("invalid key: {reason}")]
    InvalidKey {
        /// Which check failed.
        reason: &'static str,
    },
    /// A float that cannot be encoded (NaN or infinite).
    #[error("cannot encode a non-finite float")]
    NonFinite,
    /// Decoded value does not fit the requested output type.
    #[error("decoded value does not fit in {target}")]
    DoesNotFit {
        /// The requested output type.
        target: &'static str,
    },
    /// Packing parameters or values that do not fit.
    #[error("packing: {reason}")]
    Packing {
        /// What is wrong.
        reason: &'static str,
    },
    /// A packed operation would exceed the slot headroom (overflow into the
    /// neighbouring slot).
    #[error("packing headroom exceeded: {needed} terms but the slots hold at most {capacity}")]
    HeadroomExceeded {
        /// Number of terms the result would hold.
        needed: u64,
        /// Maximum number of terms the slot layout allows.
        capacity: u64,
    },
    /// Two vectors / batches of different lengths.
    #[error("length mismatch: {left} vs {right}")]
    LengthMismatch {
        /// Length of the first operand.
        left: usize,
        /// Length of the second operand.
        right: usize,
    },
    /// Bytes that do not decode into the expected object (truncated,
    /// trailing data, oversized, wrong structure).
    #[error("malformed {what}")]
    Malformed {
        /// What was being decoded.
        what: &'static str,
    },
    /// A serialized object with a version this library does not know.
    #[error("unknown serialization version {found} (expected {expected})")]
    UnknownVersion {
        /// The version found in the data.
        found: u16,
        /// The version this library writes.
        expected: u16,
    },
    /// A serialized object in a retired format version: version 1, whose
    /// format was bincode 1.x (hekit 0.1). Such bytes are refused, never
    /// decoded as something else.
    #[error(
        "format version {version} (bincode, hekit ≤ 0.1) is no longer read; re-serialize it with this version"
    )]
    RetiredVersion {
        /// The version found in the data.
        version: u16,
    },
    /// Invalid argument to a parameterised constructor.
    #[error("invalid parameter: {reason}")]
    InvalidParameter {
        /// What is wrong.
        reason: &'static str,
    },
}

/// Result alias for this crate.
pub type Result<T> = core::result::Result<T, Error>;
