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
