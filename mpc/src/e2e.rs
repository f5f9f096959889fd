//! End-to-end encryption between parties through the coordinator's mailbox.
//!
//! Every party makes a fresh X25519 key pair for the session and announces
//! the public half in its `Hello`, **signed with its TLS client
//! certificate's key** (ECDSA P-256, the key `hekit-mpc gen-certs` wrote):
//!
//! ```text
//! signed = "hekit-mpc e2e key v1" ‖ SHA-256(session CA certificate, DER)
//!          ‖ party id (u32 LE) ‖ X25519 public key (32 bytes)
//! ```
//!
//! The coordinator relays the directory of announcements (party id, X25519
//! key, certificate, signature: [`KeyAnnouncement`]). Every party verifies
//! every entry with [`verify_announcement`] — the certificate chains to the
//! session CA and names `party-<id>.hekit-mpc` for that entry's id (the same
//! check as the coordinator's, [`SessionCa::verify_party_cert`]) and the
//! signature verifies under the certificate's public key — and refuses the
//! session otherwise ([`Error::E2eKey`], e.g. "end-to-end key of party 3 is
//! not signed by its certificate"): nothing is ever sealed to, or opened
//! from, an unverified key. So the coordinator cannot substitute its own key
//! for a party's; it is not trusted for key distribution. (It checks the
//! signature of each `Hello` too, for an early, logged refusal.)
//!
//! The session id is not known to a party when it sends its `Hello` (it
//! arrives with the first task), so the signature binds what the party does
//! know: the session CA (one per `gen-certs`, i.e. per deployment), its id
//! and its key. Within one CA, a coordinator could replay an announcement
//! of an earlier session, but that X25519 key was made fresh by an earlier
//! party process, which zeroized the secret; and every box is bound to the
//! session id (HKDF salt and associated data), so boxes do not carry over
//! either.
//!
//! A secret message from `a` to `b` (a Shamir dealing, a threshold Paillier
//! key share) is sealed with ChaCha20-Poly1305 under
//! `HKDF-SHA256(X25519(sk_a, pk_b), salt = session id, info = label ‖ a ‖ b)`
//! with a random nonce and the session id, sender, recipient and purpose as
//! associated data. The coordinator sees only ciphertexts.

use rand::{CryptoRng, RngCore};
use zeroize::Zeroizing;

use crate::certs::{CertFault, SessionCa};
use crate::proto::{KeyAnnouncement, Sealed};
use crate::{Error, Result};

/// Domain separation of the signed end-to-end key announcements.
pub const ANNOUNCEMENT_DOMAIN: &[u8] = b"hekit-mpc e2e key v1";

/// Why a party's end-to-end key announcement was refused (the message of
/// [`Error::E2eKey`] follows "end-to-end key of party N").
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyFault {
    /// The signature does not verify under the certificate's public key
    /// (another key, another party id, another session CA, another signer).
    NotSigned,
    /// The certificate does not chain to the session CA.
    Untrusted(String),
    /// The certificate chains to the CA but names another party.
    WrongName,
    /// Not a 32-byte key or not a certificate.
    Malformed(String),
}

impl std::fmt::Display for KeyFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotSigned => write!(f, "is not signed by its certificate"),
            Self::Untrusted(e) => write!(
                f,
                "comes with a certificate that does not chain to the session CA ({e})"
            ),
            Self::WrongName => write!(f, "comes with a certificate that does not name that party"),
            Self::Malformed(e) => write!(f, "is malformed: {e}"),
        }
    }
}

/// The message a party signs to announce its X25519 key `e2e_public`.
pub fn announcement_message(ca_fingerprint: &[u8; 32], party: u32, e2e_public: &[u8]) -> Vec<u8> {
    let mut m = ANNOUNCEMENT_DOMAIN.to_vec();
    m.extend_from_slice(ca_fingerprint);
    m.extend_from_slice(&party.to_le_bytes());
    m.extend_from_slice(e2e_public);
    m
}

/// Verifies one directory entry against the session CA: certificate chain
/// and name ([`SessionCa::verify_party_cert`], as the coordinator checks
/// client certificates), then the signature of the key.
pub fn verify_announcement(ca: &SessionCa, a: &KeyAnnouncement) -> Result<()> {
    let fault = |fault| Error::E2eKey {
        party: a.party,
        fault,
    };
    if a.e2e_public.len() != 32 {
        return Err(fault(KeyFault::Malformed(format!(
            "X25519 key of {} bytes",
            a.e2e_public.len()
        ))));
    }
    let der = rustls_pki_types::CertificateDer::from(a.cert.as_slice());
    let ee = ca.verify_party_cert(&der, a.party).map_err(|e| {
        fault(match e {
            CertFault::Malformed(e) => KeyFault::Malformed(format!("certificate: {e}")),
            CertFault::Untrusted(e) => KeyFault::Untrusted(e),
            CertFault::WrongName => KeyFault::WrongName,
        })
    })?;
    let msg = announcement_message(ca.fingerprint(), a.party, &a.e2e_public);
    ee.verify_signature(webpki::ring::ECDSA_P256_SHA256, &msg, &a.signature)
        .map_err(|_| fault(KeyFault::NotSigned))
}

/// A party's certificate and its signing key (the PEM files of
/// `hekit-mpc gen-certs`: ECDSA P-256, PKCS#8).
pub struct KeySigner {
    cert: Vec<u8>,
    key: ring::signature::EcdsaKeyPair,
}

impl std::fmt::Debug for KeySigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySigner").finish_non_exhaustive()
    }
}

impl KeySigner {
    /// From the PEM certificate (its first, leaf, certificate) and the PEM
    /// PKCS#8 private key.
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<Self> {
        use rustls_pki_types::pem::PemObject;
        let cert = rustls_pki_types::CertificateDer::from_pem_slice(cert_pem)
            .map_err(|e| Error::Tls(format!("party certificate: {e}")))?;
        let key = rustls_pki_types::PrivatePkcs8KeyDer::from_pem_slice(key_pem)
            .map_err(|e| Error::Tls(format!("party key (PKCS#8 PEM expected): {e}")))?;
        let key = ring::signature::EcdsaKeyPair::from_pkcs8(
            &ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            key.secret_pkcs8_der(),
            &ring::rand::SystemRandom::new(),
        )
        .map_err(|e| Error::Tls(format!("party key is not an ECDSA P-256 key: {e}")))?;
        Ok(Self {
            cert: cert.as_ref().to_vec(),
            key,
        })
    }

    /// The certificate (DER).
    pub fn cert(&self) -> &[u8] {
        &self.cert
    }

    /// Signs party `party`'s X25519 key `e2e_public` for the session of CA `ca`.
    pub fn announce(
        &self,
        ca: &SessionCa,
        party: u32,
        e2e_public: &[u8],
    ) -> Result<KeyAnnouncement> {
        let msg = announcement_message(ca.fingerprint(), party, e2e_public);
        Ok(KeyAnnouncement {
            party,
            e2e_public: e2e_public.to_vec(),
            cert: self.cert.clone(),
            signature: self.sign_bytes(&msg)?,
            session_signature: Vec::new(),
        })
    }

    /// Signs `msg` with the certificate's key (ECDSA P-256 SHA-256, DER).
    pub(crate) fn sign_bytes(&self, msg: &[u8]) -> Result<Vec<u8>> {
        let sig = self
            .key
            .sign(&ring::rand::SystemRandom::new(), msg)
            .map_err(|_| Error::E2e("signing failed".into()))?;
        Ok(sig.as_ref().to_vec())
    }
}

/// A party's end-to-end key pair (the secret is zeroized on drop): the box
/// construction of [`threshold::e2e`] in the domain `hekit-mpc/e2e/v1`, with
/// the boxes as protocol messages.
#[derive(Debug)]
pub struct E2eKey(threshold::e2e::E2eKey);

/// The key-derivation domain of `hekit-mpc`'s boxes.
const DOMAIN: &str = "hekit-mpc/e2e/v1";

fn e2e_error(e: threshold::Error) -> Error {
    Error::E2e(match e {
        threshold::Error::InvalidShare { party, .. } => {
            format!("box from party {} does not authenticate", party.0)
        }
        other => other.to_string(),
    })
}

impl E2eKey {
    /// A fresh key pair for party `id`.
    pub fn generate<R: RngCore + CryptoRng>(id: u32, rng: &mut R) -> Self {
        Self(threshold::e2e::E2eKey::generate(id, DOMAIN, rng))
    }

    /// The public half (announced in `Hello`).
    pub fn public_bytes(&self) -> Vec<u8> {
        self.0.public_bytes().to_vec()
    }

    /// Seals `plaintext` for party `to` whose public key is `peer`.
    pub fn seal<R: RngCore + CryptoRng>(
        &self,
        to: u32,
        peer: &[u8],
        session: &[u8; 32],
        purpose: &str,
        plaintext: &[u8],
        rng: &mut R,
    ) -> Result<Sealed> {
        let b = self
            .0
            .seal(to, peer, session, purpose, plaintext, rng)
            .map_err(e2e_error)?;
        Ok(Sealed {
            from: b.from,
            to: b.to,
            nonce: b.nonce.to_vec(),
            ciphertext: b.ciphertext,
        })
    }

    /// Opens a box sent to this party by `sealed.from`, whose public key is
    /// `peer`. The plaintext is wiped on drop.
    pub fn open(
        &self,
        sealed: &Sealed,
        peer: &[u8],
        session: &[u8; 32],
        purpose: &str,
    ) -> Result<Zeroizing<Vec<u8>>> {
        if sealed.to != self.0.id() {
            return Err(Error::E2e(format!(
                "box for party {} delivered to party {}",
                sealed.to,
                self.0.id()
            )));
        }
        let nonce: [u8; threshold::e2e::NONCE_LEN] = sealed
            .nonce
            .as_slice()
            .try_into()
            .map_err(|_| Error::E2e(format!("nonce of {} bytes", sealed.nonce.len())))?;
        let b = threshold::e2e::SealedBox {
            from: sealed.from,
            to: sealed.to,
            nonce,
            ciphertext: sealed.ciphertext.clone(),
        };
        self.0.open(&b, peer, session, purpose).map_err(e2e_error)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    struct Certs(std::path::PathBuf);

    impl Certs {
        fn new(name: &str) -> Self {
            let d =
                std::env::temp_dir().join(format!("hekit-mpc-e2e-{name}-{}", std::process::id()));
            crate::certs::generate(&d, 3, &["localhost".into()]).unwrap();
            Self(d)
        }
        fn ca(&self) -> SessionCa {
            SessionCa::from_pem(&std::fs::read(self.0.join("ca.pem")).unwrap()).unwrap()
        }
        fn signer(&self, id: u32) -> KeySigner {
            let r = |f: String| std::fs::read(self.0.join(f)).unwrap();
            KeySigner::from_pem(&r(format!("party-{id}.pem")), &r(format!("party-{id}.key")))
                .unwrap()
        }
    }

    impl Drop for Certs {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn fault(r: Result<()>) -> (u32, KeyFault) {
        match r {
            Err(Error::E2eKey { party, fault }) => (party, fault),
            other => panic!("expected a refused key, got {other:?}"),
        }
    }

    /// Finding 7: an end-to-end key's session-bound signature verifies only
    /// for that session, that party and that key — an announcement replayed
    /// from an earlier session under the same CA is refused.
    #[test]
    fn session_bound_key_signatures_do_not_replay() {
        use crate::sign::{phase, sha256, Peers};
        let certs = Certs::new("sessionbound");
        let s1 = certs.signer(1);
        let mut peers = Peers::default();
        peers.insert(1, s1.cert().to_vec());
        peers.insert(2, certs.signer(2).cert().to_vec());
        let key = sha256(b"x25519 public key");
        let (old, new) = ([1u8; 32], [2u8; 32]);
        let sig = s1.sign(&old, phase::E2E_KEY, 0, 1, &key).unwrap();
        peers
            .verify(&old, phase::E2E_KEY, 0, 1, &key, &sig)
            .unwrap();
        let refused = |r: Result<()>| {
            assert!(
                matches!(
                    r,
                    Err(Error::BadSignature {
                        party: _,
                        what: phase::E2E_KEY
                    })
                ),
                "{r:?}"
            )
        };
        refused(peers.verify(&new, phase::E2E_KEY, 0, 1, &key, &sig)); // replayed
        refused(peers.verify(&old, phase::E2E_KEY, 0, 2, &key, &sig)); // another party
        refused(peers.verify(&old, phase::E2E_KEY, 0, 1, &sha256(b"other"), &sig));
        refused(peers.verify(&old, phase::E2E_KEY, 0, 3, &key, &sig)); // unknown party
                                                                       // a signature of another phase does not stand for this one
        let upd = s1.sign(&old, phase::UPDATE, 0, 1, &key).unwrap();
        refused(peers.verify(&old, phase::E2E_KEY, 0, 1, &key, &upd));
    }

    #[test]
    fn announcements_are_bound_to_certificates() {
        let mut rng = rlwe::sample::rng();
        let certs = Certs::new("a");
        let other_ca = Certs::new("b");
        let ca = certs.ca();
        let k3 = E2eKey::generate(3, &mut rng).public_bytes();
        let k2 = E2eKey::generate(2, &mut rng).public_bytes();
        let mallory = E2eKey::generate(0, &mut rng).public_bytes();

        // valid
        let a3 = certs.signer(3).announce(&ca, 3, &k3).unwrap();
        verify_announcement(&ca, &a3).unwrap();
        let a2 = certs.signer(2).announce(&ca, 2, &k2).unwrap();
        verify_announcement(&ca, &a2).unwrap();

        // key swapped (the substitution a malicious coordinator would try)
        let mut t = a3.clone();
        t.e2e_public = mallory.clone();
        let err = verify_announcement(&ca, &t).unwrap_err();
        assert_eq!(
            err.to_string(),
            "end-to-end key of party 3 is not signed by its certificate"
        );
        assert_eq!(fault(Err(err)), (3, KeyFault::NotSigned));

        // party id swapped: party 3's entry relabelled as party 2's…
        let mut t = a3.clone();
        t.party = 2;
        assert_eq!(
            fault(verify_announcement(&ca, &t)),
            (2, KeyFault::WrongName)
        );
        // …or party 2's certificate with a signature of the key as party 3's
        let mut t = certs.signer(2).announce(&ca, 3, &k2).unwrap();
        t.party = 2;
        assert_eq!(
            fault(verify_announcement(&ca, &t)),
            (2, KeyFault::NotSigned)
        );

        // signature made with another party's certificate key
        let mut t = a3.clone();
        t.signature = certs.signer(2).announce(&ca, 3, &k3).unwrap().signature;
        assert_eq!(
            fault(verify_announcement(&ca, &t)),
            (3, KeyFault::NotSigned)
        );

        // certificate (and signature) from another CA
        let t = other_ca.signer(3).announce(&ca, 3, &k3).unwrap();
        let (p, f) = fault(verify_announcement(&ca, &t));
        assert_eq!(p, 3);
        assert!(matches!(f, KeyFault::Untrusted(_)), "{f:?}");
        assert!(verify_announcement(&ca, &t)
            .unwrap_err()
            .to_string()
            .contains("does not chain to the session CA"));

        // signed for the other CA's session (replay across sessions)
        let t = certs.signer(3).announce(&other_ca.ca(), 3, &k3).unwrap();
        assert_eq!(
            fault(verify_announcement(&ca, &t)),
            (3, KeyFault::NotSigned)
        );

        // malformed key and certificate
        let mut t = a3.clone();
        t.e2e_public.pop();
        assert!(matches!(
            fault(verify_announcement(&ca, &t)).1,
            KeyFault::Malformed(_)
        ));
        let mut t = a3;
        t.cert = vec![1, 2, 3];
        assert!(matches!(
            fault(verify_announcement(&ca, &t)).1,
            KeyFault::Malformed(_)
        ));
    }

    #[test]
    fn seal_open_and_tamper() {
        let mut rng = rlwe::sample::rng();
        let a = E2eKey::generate(1, &mut rng);
        let b = E2eKey::generate(2, &mut rng);
        let c = E2eKey::generate(3, &mut rng);
        let s = [9u8; 32];
        let boxed = a
            .seal(2, &b.public_bytes(), &s, "deal", b"secret", &mut rng)
            .unwrap();
        assert!(!boxed.ciphertext.windows(6).any(|w| w == b"secret"));
        let m = b.open(&boxed, &a.public_bytes(), &s, "deal").unwrap();
        assert_eq!(&m[..], b"secret");
        // another recipient, another purpose, another session, tampering
        assert!(c.open(&boxed, &a.public_bytes(), &s, "deal").is_err());
        assert!(b.open(&boxed, &a.public_bytes(), &s, "key").is_err());
        assert!(b.open(&boxed, &a.public_bytes(), &[8; 32], "deal").is_err());
        let mut t = boxed.clone();
        t.ciphertext[0] ^= 1;
        assert!(b.open(&t, &a.public_bytes(), &s, "deal").is_err());
        let mut t = boxed;
        t.from = 3;
        assert!(b.open(&t, &c.public_bytes(), &s, "deal").is_err());
    }
}
