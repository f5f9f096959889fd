//! Signed statements: what makes the coordinator a relay that cannot lie.
//!
//! Every message a party sends that another party relies on — its
//! public-key commitment, its relinearization and Galois shares, its
//! acknowledgement of the collective key, each encrypted update and its
//! approval of a round's contributor set, its end-to-end key — is signed with
//! the party's certificate key (ECDSA P-256, the key `hekit-mpc gen-certs`
//! wrote) over a **statement**:
//!
//! ```text
//! "hekit-mpc statement v1" ‖ session id (32) ‖ len(phase) (u8) ‖ phase
//!   ‖ round (u64 LE) ‖ party (u32 LE) ‖ SHA-256 digest of the content (32)
//! ```
//!
//! The coordinator relays the signed messages (`proto::Signed`) and every
//! party verifies each one under the certificate of the party it names
//! (certificates chain to the session CA and name the party: the directory
//! check of [`crate::e2e::verify_announcement`]). The session id binds each
//! statement to one session, the phase to one step, the round to one round:
//! nothing can be replayed across them.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::e2e::KeySigner;
use crate::{Error, Result};

/// Domain separation of the statements.
pub const STATEMENT_DOMAIN: &[u8] = b"hekit-mpc statement v1";

/// The phases (what a statement is about).
pub mod phase {
    /// The party's X25519 end-to-end key, bound to the session.
    pub const E2E_KEY: &str = "e2e-key";
    /// Commitment to the party's public-key share (SHA-256 of its bytes).
    pub const PK_COMMIT: &str = "pk-commit";
    /// Relinearization key, round one share.
    pub const RELIN1: &str = "relin1";
    /// A dealer's commitment to its Shamir sharing polynomial.
    pub const DEAL_COMMIT: &str = "deal-commit";
    /// Relinearization key, round two share.
    pub const RELIN2: &str = "relin2";
    /// Galois-key shares (the encoded bundle).
    pub const GALOIS: &str = "galois";
    /// Acknowledgement of the collective key id.
    pub const KEY_ACK: &str = "key-ack";
    /// An encrypted update (its `ml_he::aggregation::update_digest`).
    pub const UPDATE: &str = "update";
    /// Approval of a round's contributor set
    /// (`ml_he::aggregation::contribution_set_digest`).
    pub const APPROVE: &str = "approve";
}

/// SHA-256.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// The statement a party signs.
pub fn statement(
    sid: &[u8; 32],
    phase: &str,
    round: u64,
    party: u32,
    digest: &[u8; 32],
) -> Vec<u8> {
    let mut m = STATEMENT_DOMAIN.to_vec();
    m.extend_from_slice(sid);
    m.push(phase.len() as u8);
    m.extend_from_slice(phase.as_bytes());
    m.extend_from_slice(&round.to_le_bytes());
    m.extend_from_slice(&party.to_le_bytes());
    m.extend_from_slice(digest);
    m
}

impl KeySigner {
    /// Signs the statement ([`statement`]).
    pub fn sign(
        &self,
        sid: &[u8; 32],
        phase: &str,
        round: u64,
        party: u32,
        digest: &[u8; 32],
    ) -> Result<Vec<u8>> {
        self.sign_bytes(&statement(sid, phase, round, party, digest))
    }
}

/// The verified certificates (DER) of the session's parties, by party id:
/// what signed statements are checked against.
#[derive(Clone, Debug, Default)]
pub struct Peers {
    certs: BTreeMap<u32, Vec<u8>>,
}

impl Peers {
    /// Records `party`'s certificate (the caller has checked that it chains
    /// to the session CA and names `party`).
    pub fn insert(&mut self, party: u32, cert_der: Vec<u8>) {
        self.certs.insert(party, cert_der);
    }

    /// Whether `party`'s certificate is known.
    pub fn knows(&self, party: u32) -> bool {
        self.certs.contains_key(&party)
    }

    /// Verifies `party`'s signature of a statement. A signature that does
    /// not verify (or an unknown party) is [`Error::BadSignature`], naming
    /// the party and what was signed.
    pub fn verify(
        &self,
        sid: &[u8; 32],
        phase: &'static str,
        round: u64,
        party: u32,
        digest: &[u8; 32],
        signature: &[u8],
    ) -> Result<()> {
        let bad = || Error::BadSignature { party, what: phase };
        let der = self.certs.get(&party).ok_or_else(bad)?;
        let cert = rustls_pki_types::CertificateDer::from(der.as_slice());
        let ee = webpki::EndEntityCert::try_from(&cert).map_err(|_| bad())?;
        ee.verify_signature(
            webpki::ring::ECDSA_P256_SHA256,
            &statement(sid, phase, round, party, digest),
            signature,
        )
        .map_err(|_| bad())
    }
}

/// A payload that is itself a 32-byte digest (commitment, key id, update
/// digest, set digest).
pub fn as_digest(payload: &[u8], what: &'static str) -> Result<[u8; 32]> {
    payload.try_into().map_err(|_| Error::Malformed {
        what,
        reason: format!(
            "{} bytes where a 32-byte digest was expected",
            payload.len()
        ),
    })
}

/// How a signed entry's payload is turned into the digest its statement
/// signs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Content {
    /// The payload is the digest (32 bytes).
    Digest,
    /// The statement signs SHA-256 of the payload.
    Hashed,
}

/// Signs `payload` as [`Content`] says.
pub fn content_digest(payload: &[u8], content: Content, what: &'static str) -> Result<[u8; 32]> {
    match content {
        Content::Digest => as_digest(payload, what),
        Content::Hashed => Ok(sha256(payload)),
    }
}

/// Checks that the relayed `entries` of `kind` hold exactly one entry for
/// every party in `parties` (no other), each signed by its party over
/// `phase` and `round`; returns each party's payload. A missing, extra or
/// duplicated entry is [`Error::Tampered`], a signature that does not
/// verify [`Error::BadSignature`].
#[allow(clippy::too_many_arguments)]
pub fn verify_each<'a>(
    peers: &Peers,
    sid: &[u8; 32],
    entries: &'a [crate::proto::Signed],
    kind: crate::proto::Kind,
    phase: &'static str,
    round: u64,
    parties: &std::collections::BTreeSet<u32>,
    content: Content,
) -> Result<BTreeMap<u32, &'a [u8]>> {
    let mut out = BTreeMap::new();
    for e in entries.iter().filter(|e| e.kind == kind as i32) {
        if !parties.contains(&e.party) {
            return Err(Error::Tampered(format!(
                "relayed a {phase} of party {}, which is not expected here",
                e.party
            )));
        }
        if out.contains_key(&e.party) {
            return Err(Error::Tampered(format!(
                "relayed two {phase} messages of party {}",
                e.party
            )));
        }
        if e.round != round {
            return Err(Error::Tampered(format!(
                "relayed a {phase} of party {} for round {}, expected round {round}",
                e.party, e.round
            )));
        }
        let d = content_digest(&e.payload, content, phase)?;
        peers.verify(sid, phase, round, e.party, &d, &e.signature)?;
        out.insert(e.party, e.payload.as_slice());
    }
    if let Some(p) = parties.iter().find(|p| !out.contains_key(p)) {
        return Err(Error::Tampered(format!(
            "relayed {} {phase} message(s) for {} parties: none of party {p}",
            out.len(),
            parties.len()
        )));
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn statements_bind_every_field() {
        let sid = [7u8; 32];
        let d = [9u8; 32];
        let base = statement(&sid, phase::UPDATE, 3, 2, &d);
        assert_ne!(base, statement(&[8; 32], phase::UPDATE, 3, 2, &d));
        assert_ne!(base, statement(&sid, phase::APPROVE, 3, 2, &d));
        assert_ne!(base, statement(&sid, phase::UPDATE, 4, 2, &d));
        assert_ne!(base, statement(&sid, phase::UPDATE, 3, 1, &d));
        assert_ne!(base, statement(&sid, phase::UPDATE, 3, 2, &[1; 32]));
        // the phase is length-prefixed: no ambiguity between phases
        assert_ne!(
            statement(&sid, "ab", 0, 0, &d),
            statement(&sid, "a", 0, 0, &d)
        );
    }
}
