//! Fiat–Shamir transcripts: SHA-256 with a domain label and length-prefixed
//! fields.

use sha2::{Digest, Sha256};

/// A running hash of the public data a proof is bound to. Every field is
/// length-prefixed, so two different sequences of fields never hash alike.
#[derive(Clone)]
pub struct Transcript {
    h: Sha256,
}

impl std::fmt::Debug for Transcript {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transcript").finish_non_exhaustive()
    }
}

impl Transcript {
    /// A transcript for the protocol named `domain`.
    pub fn new(domain: &[u8]) -> Self {
        let mut t = Self { h: Sha256::new() };
        t.append(b"domain", domain);
        t
    }

    /// Appends the field `label = data`.
    pub fn append(&mut self, label: &[u8], data: &[u8]) {
        self.h.update((label.len() as u64).to_le_bytes());
        self.h.update(label);
        self.h.update((data.len() as u64).to_le_bytes());
        self.h.update(data);
    }

    /// Appends an integer field.
    pub fn append_u64(&mut self, label: &[u8], x: u64) {
        self.append(label, &x.to_le_bytes());
    }

    /// Appends a field of 64-bit words (polynomial residues), hashed as
    /// little-endian bytes without an intermediate copy of the whole field.
    pub fn append_words(&mut self, label: &[u8], words: &[u64]) {
        self.h.update((label.len() as u64).to_le_bytes());
        self.h.update(label);
        self.h.update((words.len() as u64 * 8).to_le_bytes());
        let mut buf = [0u8; 8 * 256];
        for chunk in words.chunks(256) {
            for (b, w) in buf.chunks_exact_mut(8).zip(chunk) {
                b.copy_from_slice(&w.to_le_bytes());
            }
            self.h.update(&buf[..8 * chunk.len()]);
        }
    }

    /// The digest of everything appended.
    pub fn finish(self) -> [u8; 32] {
        self.h.finalize().into()
    }
}
