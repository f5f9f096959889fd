//! The one error type of the `threshold` crate.

use crate::PartyId;

/// Everything that can go wrong in a multiparty protocol.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// From the lattice core.
    #[error(transparent)]
    Rlwe(#[from] rlwe::Error),
    /// From the BFV crate.
    #[error(transparent)]
    Bfv(#[from] bfv::Error),
    /// From the CKKS crate.
    #[error(transparent)]
    Ckks(#[from] ckks::Error),
    /// From the proof system (share proofs).
    #[error(transparent)]
    Zk(#[from] zk::Error),
    /// From the Paillier crate.
    #[error(transparent)]
    Paillier(#[from] paillier::Error),
    /// Fewer shares than the threshold.
    #[error("too few shares: {got} of the {need} needed")]
    TooFewShares {
        /// Shares given.
        got: usize,
        /// Threshold.
        need: usize,
    },
    /// Two shares from the same party.
    #[error("duplicate share from party {party}")]
    DuplicateParty {
        /// The party.
        party: PartyId,
    },
    /// A share from a party outside the session or the active set.
    #[error("unexpected share from party {party}")]
    UnexpectedParty {
        /// The party.
        party: PartyId,
    },
    /// A party was asked to produce a second share for the same protocol
    /// instance (same common polynomial or same ciphertext): repeated shares
    /// leak the secret, so this is refused.
    #[error("party {party} already produced a share for this {protocol} instance")]
    ShareReused {
        /// The party.
        party: PartyId,
        /// Which protocol.
        protocol: &'static str,
    },
    /// Threshold parameters out of range.
    #[error("invalid threshold t = {t} for n = {n} parties")]
    InvalidThreshold {
        /// Threshold.
        t: usize,
        /// Parties.
        n: usize,
    },
    /// The smudging noise would make decryption wrong.
    #[error("smudging noise of 2^{needed_bits:.1} does not fit the 2^{available_bits:.1} the ciphertext leaves (make room: a larger scale or modulus; for CKKS at λ = 40 see threshold::ckks_parameters)")]
    SmudgingTooLarge {
        /// log2 of the total smudging bound.
        needed_bits: f64,
        /// log2 of the room left by the ciphertext.
        available_bits: f64,
    },
    /// Smudging noise wider than the sampler draws (σ above
    /// [`Smudging::MAX_LOG2_SIGMA`](crate::Smudging::MAX_LOG2_SIGMA)):
    /// refused rather than sampled narrower than stated.
    #[error("smudging noise of σ = 2^{log2_sigma:.1} is wider than the 2^{max_log2_sigma} the sampler draws")]
    SmudgingTooWide {
        /// log2 of the requested standard deviation.
        log2_sigma: f64,
        /// log2 of the widest supported standard deviation.
        max_log2_sigma: f64,
    },
    /// A share that is malformed or does not match the protocol instance.
    #[error("invalid share from party {party}: {reason}")]
    InvalidShare {
        /// The party.
        party: PartyId,
        /// Why.
        reason: String,
    },
    /// A partial decryption whose proof does not verify (threshold Paillier).
    #[error("party {party} sent a partial decryption with an invalid proof")]
    InvalidProof {
        /// The cheating party.
        party: PartyId,
    },
    /// Objects of different parameters or sessions were mixed.
    #[error("parameter mismatch: {what}")]
    ParameterMismatch {
        /// What disagrees.
        what: &'static str,
    },
    /// Bytes that do not describe a valid object.
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
