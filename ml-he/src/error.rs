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
    /// From the zero-knowledge proofs (parameters a session cannot prove
    /// with; a proof that fails is [`Error::InvalidUpdateProof`]).
    #[error(transparent)]
    Zk(#[from] zk::Error),
    /// An encrypted update whose zero-knowledge proof of a well-formed,
    /// bounded encryption is missing, malformed or does not verify (another
    /// ciphertext, session, round, party or key; a forgery). Refused before
    /// anything is summed, by the server and by every committee member.
    #[error("update of party {party}: {reason}")]
    InvalidUpdateProof {
        /// The party the update names.
        party: u32,
        /// What failed (the ciphertext's index and the proof's error).
        reason: String,
    },
    /// A decryption share whose zero-knowledge proof (made with the
    /// member's committed Shamir share, noise within the smudging bound) is
    /// malformed or does not verify: a shifted or otherwise wrong share.
    /// Names the committee member; the round can complete with another
    /// committee.
    #[error("decryption share of party {party}: {reason}")]
    InvalidShareProof {
        /// The committee member that sent it.
        party: u32,
        /// What failed.
        reason: String,
    },
    /// A data file or weights file that cannot be read.
    #[error("data error: {0}")]
    Data(String),
    /// Shapes that do not fit (features, layers, slots).
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// An ONNX operator, or a use of one (an attribute value, a broadcast),
    /// that the importer does not translate into the layer graph; `op` names
    /// the operator, `node` the ONNX node.
    #[error("unsupported ONNX operator {op} (node `{node}`)")]
    Unsupported {
        /// The operator (`"MaxPool"`, `"Conv (dilations [2, 2])"`, …).
        op: String,
        /// The ONNX node's name (or `"<op_type>_<index>"` when it has none).
        node: String,
    },
    /// Bytes that are not an ONNX model the importer can read: malformed
    /// protobuf, no graph, an opset below 13, a missing initializer, a bad
    /// attribute or tensor.
    #[error("ONNX: {0}")]
    Onnx(String),
    /// A value outside what the model or packing supports.
    #[error("out of range: {0}")]
    OutOfRange(String),
    /// Bytes that do not describe a valid protocol message.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// Which message.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// A message of another session, key, round, request or parameter set
    /// (e.g. a ciphertext under another collective key).
    #[error("session mismatch: {what}")]
    SessionMismatch {
        /// What disagrees.
        what: String,
    },
    /// A second submission from the same party for the same round.
    #[error("duplicate submission from party {party}")]
    DuplicateSubmission {
        /// The party.
        party: u32,
    },
    /// A message in the name of another party than its authenticated
    /// sender (e.g. an update whose header names party `claimed`, handed to
    /// [`Server::add_from`](crate::aggregation::Server::add_from) for party
    /// `expected`): refused before it touches any aggregate.
    #[error("message in the name of party {claimed}, sent by party {expected}")]
    WrongSender {
        /// The party the message names.
        claimed: u32,
        /// The authenticated sender.
        expected: u32,
    },
    /// A party id outside the session (ids are 1..=n).
    #[error("unknown party {party}")]
    UnknownParty {
        /// The party.
        party: u32,
    },
    /// A protocol step taken out of order (e.g. encrypting before the
    /// collective key is known, combining with no contribution).
    #[error("protocol error: {0}")]
    Protocol(String),
    /// A decryption request for a sum of fewer contributions than the
    /// decrypting party's minimum.
    #[error("refusing to decrypt a sum of {got} update(s): this party's minimum is {min}")]
    TooFewContributors {
        /// Contributions in the request.
        got: usize,
        /// The party's minimum.
        min: usize,
    },
    /// A decryption request for a second, different set of contributions in
    /// a round (or test session) whose sum this party already helped
    /// decrypt: each sum is released once.
    #[error("round {round}: this party already decrypted another set of contributions")]
    AlreadyReleased {
        /// The round.
        round: u64,
    },
    /// A decryption request beyond the fixed number of attempts per round.
    #[error("round {round}: decryption attempt {attempt}, at most {max} per round")]
    TooManyAttempts {
        /// The round.
        round: u64,
        /// The attempt asked for (0-based).
        attempt: u32,
        /// Attempts allowed per round.
        max: u32,
    },
    /// A setting below the security floor (e.g. smudging λ < 40) without the
    /// explicit insecure opt-in.
    #[error("insecure setting: {0}")]
    Insecure(String),
    /// A graph too deep for the chain. Without bootstrapping
    /// ([`Bootstrapping::Never`](crate::inference::Bootstrapping::Never)):
    /// deeper than the largest ring's chain holds at 128-bit security
    /// (ring degree 32768), `layer` is where it runs out. With
    /// bootstrapping: steps that no bootstrap may separate (a linear block
    /// and the polynomial activation after it, or one polynomial) need more
    /// levels than the chain leaves between two bootstraps; `layer` names
    /// them.
    #[error(
        "the circuit is too deep at {layer}: about {bits} bits of modulus needed there \
         (circuit depth {depth}), the chain at ring degree {degree} holds {max_bits}"
    )]
    TooDeep {
        /// The graph node(s) (or merged linear block) where the chain runs out.
        layer: String,
        /// The circuit's multiplicative depth.
        depth: usize,
        /// Bits of modulus the circuit needs up to that node (with
        /// bootstrapping: the levels of the unsplittable steps times the
        /// scale's bits).
        bits: u32,
        /// The most the chain holds: what 128-bit security allows at ring
        /// degree 32768 (881 bits), or with bootstrapping the levels
        /// between two bootstraps times the scale's bits.
        max_bits: u32,
        /// The ring degree.
        degree: usize,
    },
    /// A circuit whose scale and level plan cannot hold the values the
    /// model's weights and the input bound allow: at stage `layer`, values
    /// up to `bound` (in absolute value, partial sums included) times the
    /// stage's scale would exceed the modulus of its level (with a margin),
    /// so the result could wrap around — refused when the server is set up
    /// instead of decrypting to a wrong answer.
    #[error(
        "the circuit cannot hold {layer} (level {level}): values up to {bound:.4e}, \
         the modulus holds {capacity:.4e} at this scale (lower the input bound or the weights)"
    )]
    PlanOverflow {
        /// The stage ("input", "layer 1", "activation (square)", "layer 2
        /// (logits)", "logit", "logit / range", "sigmoid basis", "sigmoid"; a
        /// compiled graph's stages are named after its nodes).
        layer: String,
        /// Its level.
        level: usize,
        /// The largest absolute value the weights and the input bound allow.
        bound: f64,
        /// The largest absolute value the level's modulus holds at the
        /// stage's scale: `Q_level / (2^(1 + margin) · scale)`.
        capacity: f64,
    },
}

/// Result alias of the crate.
pub type Result<T> = core::result::Result<T, Error>;
