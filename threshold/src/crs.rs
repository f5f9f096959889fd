//! The common reference string: one public 32-byte session seed from which
//! every common polynomial is expanded, with domain separation per protocol
//! and per round (and per Galois element).

use rlwe::sample::Seed;
use sha2::{Digest, Sha256};

/// A session's common reference string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Crs {
    seed: Seed,
}

impl Crs {
    /// The CRS of a session seed (agreed on publicly, e.g. by a coordinator
    /// or a coin-tossing protocol).
    pub fn from_seed(seed: Seed) -> Self {
        Self { seed }
    }

    /// The session seed.
    pub fn seed(&self) -> &Seed {
        &self.seed
    }

    /// The seed for one protocol instance: `SHA-256("hekit/threshold/crs/v1"
    /// || seed || protocol || index)`.
    pub fn derive(&self, protocol: &str, index: u64) -> Seed {
        let mut h = Sha256::new();
        h.update(b"hekit/threshold/crs/v1");
        h.update(self.seed);
        h.update((protocol.len() as u64).to_le_bytes());
        h.update(protocol.as_bytes());
        h.update(index.to_le_bytes());
        h.finalize().into()
    }
}
