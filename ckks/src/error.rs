//! The one error type of the `ckks` crate.

/// Everything that can go wrong in `ckks`. Input that comes from outside
/// (values, bytes, levels, steps, parameters) yields one of these, never a
/// panic.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An error of the lattice core (parameter mismatch, level, malformed
    /// bytes, missing key, ...).
    #[error(transparent)]
    Rlwe(#[from] rlwe::Error),
    /// Two operands have scales that cannot be aligned automatically.
    #[error("scale mismatch ({what}): 2^{left_bits:.4} vs 2^{right_bits:.4}")]
    ScaleMismatch {
        /// Which operation.
        what: &'static str,
        /// log2 of the left operand's scale.
        left_bits: f64,
        /// log2 of the right operand's scale.
        right_bits: f64,
    },
    /// Operands belong to different parameters.
    #[error("parameter mismatch: {what}")]
    ParameterMismatch {
        /// Which objects disagree.
        what: &'static str,
    },
    /// An operand is at a level the operation cannot use (e.g. nothing
    /// left to rescale, or a plaintext above its ciphertext).
    #[error("invalid level: {what} (got {got}, max {max})")]
    InvalidLevel {
        /// What was asked.
        what: &'static str,
        /// Level given.
        got: usize,
        /// Highest valid level.
        max: usize,
    },
    /// A circuit needs more levels than the ciphertext has left.
    #[error("not enough levels for {what}: needs {needed}, ciphertext has {available}")]
    NotEnoughLevels {
        /// Which circuit.
        what: &'static str,
        /// Levels consumed by the circuit.
        needed: usize,
        /// Level of the input.
        available: usize,
    },
    /// A value (or a value times the scale) is not finite or does not fit
    /// the modulus at the requested level.
    #[error("value out of range: {what}")]
    ValueOutOfRange {
        /// What was out of range.
        what: String,
    },
    /// More values than slots.
    #[error("too many values: {got} for {max} slots")]
    TooManyValues {
        /// Number of values given.
        got: usize,
        /// Number of slots (N/2).
        max: usize,
    },
    /// An argument that makes no sense (empty matrix, bad interval, ...).
    #[error("invalid argument: {what}")]
    InvalidArgument {
        /// What is wrong.
        what: String,
    },
    /// Bytes that do not describe a valid CKKS object.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// Which object.
        what: &'static str,
        /// Why it was rejected.
        reason: String,
    },
}

/// Result alias of the crate.
pub type Result<T> = core::result::Result<T, Error>;
