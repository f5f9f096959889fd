//! The crate's error type.

/// Errors of the networked protocol.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An aggregation-layer error (malformed message, wrong key, duplicate…).
    #[error("aggregation: {0}")]
    Aggregation(#[from] ml_he::Error),
    /// A threshold-layer error.
    #[error("threshold: {0}")]
    Threshold(#[from] threshold::Error),
    /// A message from the network that does not parse or does not fit.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// What was being read.
        what: &'static str,
        /// Why it was refused.
        reason: String,
    },
    /// A message from a party that is not allowed to send it.
    #[error("party {party}: {reason}")]
    Refused {
        /// The sender.
        party: u32,
        /// Why.
        reason: String,
    },
    /// Too few parties are alive to go on.
    #[error("{what}: only {alive} parties alive, {need} needed")]
    TooFewParties {
        /// The step that failed.
        what: String,
        /// Parties still alive.
        alive: usize,
        /// Parties needed (t for decryption, n for key generation).
        need: usize,
    },
    /// A protocol step failed.
    #[error("protocol: {0}")]
    Protocol(String),
    /// A configuration error (command line, files).
    #[error("configuration: {0}")]
    Config(String),
    /// End-to-end encryption failed (wrong key, tampered box).
    #[error("end-to-end encryption: {0}")]
    E2e(String),
    /// A party's end-to-end key announcement was refused: nothing is sealed
    /// to or opened from that party.
    #[error("end-to-end key of party {party} {fault}")]
    E2eKey {
        /// The party whose announcement was refused.
        party: u32,
        /// Why.
        fault: crate::e2e::KeyFault,
    },
    /// A signed statement relayed by the coordinator does not verify under
    /// the certificate of the party it names: the coordinator (or that
    /// party) is faulty. Nothing built on it is used.
    #[error("the {what} of party {party} does not carry party {party}'s signature: the coordinator relayed a forged or altered message")]
    BadSignature {
        /// The party named.
        party: u32,
        /// What was signed (the statement's phase).
        what: &'static str,
    },
    /// What the coordinator relayed contradicts what the parties signed
    /// (a key that is not the sum of the signed shares, a share that does
    /// not match its signed commitment, a contributor set this party did not
    /// approve…): the coordinator is faulty.
    #[error("the coordinator is faulty: {0}")]
    Tampered(String),
    /// A session or request this party's own policy refuses (smudging λ,
    /// threshold, contributors, security level).
    #[error("refused by this party's policy: {0}")]
    Policy(String),
    /// A party's own update for a round is unusable (a file that does not
    /// parse, another length than the session's, NaN or infinity, a value
    /// beyond the session's `max_abs`, a missing round): the party submits
    /// nothing for that round and says why.
    #[error("input {origin}: {reason}")]
    Input {
        /// The file (or `callback`, `demonstration vectors`).
        origin: String,
        /// What is wrong.
        reason: String,
    },
    /// TLS / certificate error.
    #[error("tls: {0}")]
    Tls(String),
    /// gRPC transport error.
    #[error("transport: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// gRPC status.
    #[error("rpc: {0}")]
    Status(Box<tonic::Status>),
    /// I/O (state directory, certificates).
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

/// Result with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl From<tonic::Status> for Error {
    fn from(s: tonic::Status) -> Self {
        Self::Status(Box::new(s))
    }
}

impl Error {
    pub(crate) fn config(s: impl Into<String>) -> Self {
        Self::Config(s.into())
    }
}
