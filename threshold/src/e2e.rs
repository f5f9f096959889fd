//! End-to-end boxes between the parties of a session, for the messages that
//! must cross an untrusted relay in secret (Shamir dealings): each party
//! makes a fresh X25519 key pair per session; a box from `a` to `b` is
//! ChaCha20-Poly1305 under `HKDF-SHA256(X25519(sk_a, pk_b), salt = session,
//! info = domain/purpose/a/b)` with a random 12-byte nonce and `session ‖ a ‖
//! b ‖ purpose` as associated data. The relay sees ciphertexts only; a box
//! opened by another recipient, for another session or purpose, or altered,
//! does not authenticate.
//!
//! Authenticating the public keys themselves is the caller's part
//! (`hekit-mpc` signs them with each party's certificate).

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hkdf::Hkdf;
use rand::{CryptoRng, RngCore};
use sha2::Sha256;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

use crate::{Error, PartyId, Result};

/// Length of a box's nonce.
pub const NONCE_LEN: usize = 12;

/// A sealed message: sender, recipient, nonce and AEAD ciphertext.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedBox {
    /// The sender.
    pub from: u32,
    /// The recipient.
    pub to: u32,
    /// The random nonce.
    pub nonce: [u8; NONCE_LEN],
    /// The ciphertext with its 16-byte tag.
    pub ciphertext: Vec<u8>,
}

/// A party's end-to-end key pair for one session (the secret is zeroized on
/// drop and never printed).
pub struct E2eKey {
    id: u32,
    domain: String,
    secret: StaticSecret,
    public: PublicKey,
}

impl std::fmt::Debug for E2eKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("E2eKey")
            .field("id", &self.id)
            .field("domain", &self.domain)
            .finish_non_exhaustive()
    }
}

fn malformed(reason: String) -> Error {
    Error::Malformed {
        what: "end-to-end box",
        reason,
    }
}

impl E2eKey {
    /// A fresh key pair for party `id`; `domain` separates the boxes of one
    /// application from another's (it enters the key derivation).
    pub fn generate<R: RngCore + CryptoRng>(id: u32, domain: &str, rng: &mut R) -> Self {
        let secret = StaticSecret::random_from_rng(rng);
        let public = PublicKey::from(&secret);
        Self {
            id,
            domain: domain.to_owned(),
            secret,
            public,
        }
    }

    /// The secret key (32 bytes), for keeping the key pair between
    /// processes; secret, wiped on drop.
    pub fn secret_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.secret.to_bytes())
    }

    /// The key pair of a secret written by [`Self::secret_bytes`].
    pub fn from_secret_bytes(id: u32, domain: &str, secret: &[u8]) -> Result<Self> {
        let mut raw: [u8; 32] = secret
            .try_into()
            .map_err(|_| malformed(format!("X25519 secret key of {} bytes", secret.len())))?;
        let secret = StaticSecret::from(raw);
        zeroize::Zeroize::zeroize(&mut raw);
        let public = PublicKey::from(&secret);
        Ok(Self {
            id,
            domain: domain.to_owned(),
            secret,
            public,
        })
    }

    /// The party this key belongs to.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The public half (32 bytes), to announce.
    pub fn public_bytes(&self) -> [u8; 32] {
        *self.public.as_bytes()
    }

    fn aead(
        &self,
        peer: &[u8],
        session: &[u8; 32],
        from: u32,
        to: u32,
        purpose: &str,
    ) -> Result<ChaCha20Poly1305> {
        let peer: [u8; 32] = peer
            .try_into()
            .map_err(|_| malformed(format!("X25519 public key of {} bytes", peer.len())))?;
        let shared = self.secret.diffie_hellman(&PublicKey::from(peer));
        if !shared.was_contributory() {
            return Err(malformed("non-contributory X25519 public key".into()));
        }
        let hk = Hkdf::<Sha256>::new(Some(session), shared.as_bytes());
        let mut key = Zeroizing::new([0u8; 32]);
        let info = format!("{}/{purpose}/{from}/{to}", self.domain);
        hk.expand(info.as_bytes(), &mut key[..])
            .map_err(|_| malformed("HKDF expand".into()))?;
        Ok(ChaCha20Poly1305::new(Key::from_slice(&key[..])))
    }

    /// Seals `plaintext` for party `to` whose public key is `peer`.
    ///
    /// # Errors
    /// [`Error::Malformed`] for a public key that is not 32 bytes or not
    /// contributory.
    pub fn seal<R: RngCore + CryptoRng>(
        &self,
        to: u32,
        peer: &[u8],
        session: &[u8; 32],
        purpose: &str,
        plaintext: &[u8],
        rng: &mut R,
    ) -> Result<SealedBox> {
        let cipher = self.aead(peer, session, self.id, to, purpose)?;
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        let ciphertext = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad(session, self.id, to, purpose),
                },
            )
            .map_err(|_| malformed("encryption failed".into()))?;
        Ok(SealedBox {
            from: self.id,
            to,
            nonce,
            ciphertext,
        })
    }

    /// Opens a box sent to this party by `sealed.from`, whose public key is
    /// `peer`. The plaintext is wiped on drop.
    ///
    /// # Errors
    /// [`Error::UnexpectedParty`] for a box addressed to another party;
    /// [`Error::InvalidShare`] naming the sender for a box that does not
    /// authenticate (altered, another session, purpose or key);
    /// [`Error::Malformed`] for a bad public key.
    pub fn open(
        &self,
        sealed: &SealedBox,
        peer: &[u8],
        session: &[u8; 32],
        purpose: &str,
    ) -> Result<Zeroizing<Vec<u8>>> {
        if sealed.to != self.id {
            return Err(Error::UnexpectedParty {
                party: PartyId(sealed.to),
            });
        }
        let cipher = self.aead(peer, session, sealed.from, self.id, purpose)?;
        cipher
            .decrypt(
                Nonce::from_slice(&sealed.nonce),
                Payload {
                    msg: &sealed.ciphertext,
                    aad: &aad(session, sealed.from, self.id, purpose),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| Error::InvalidShare {
                party: PartyId(sealed.from),
                reason: "end-to-end box does not authenticate".into(),
            })
    }
}

fn aad(session: &[u8; 32], from: u32, to: u32, purpose: &str) -> Vec<u8> {
    let mut v = session.to_vec();
    v.extend_from_slice(&from.to_le_bytes());
    v.extend_from_slice(&to.to_le_bytes());
    v.extend_from_slice(purpose.as_bytes());
    v
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn boxes_open_only_for_their_recipient_session_and_purpose() {
        let mut r = rand_chacha::ChaCha20Rng::seed_from_u64(1);
        let a = E2eKey::generate(1, "test/e2e/v1", &mut r);
        let b = E2eKey::generate(2, "test/e2e/v1", &mut r);
        let c = E2eKey::generate(3, "test/e2e/v1", &mut r);
        let s = [7u8; 32];
        let sealed = a
            .seal(2, &b.public_bytes(), &s, "deal", b"share", &mut r)
            .unwrap();
        assert_eq!(
            &b.open(&sealed, &a.public_bytes(), &s, "deal").unwrap()[..],
            b"share"
        );
        // restored from its secret bytes, b still opens it
        let b2 = E2eKey::from_secret_bytes(2, "test/e2e/v1", &b.secret_bytes()[..]).unwrap();
        assert_eq!(b2.public_bytes(), b.public_bytes());
        assert_eq!(
            &b2.open(&sealed, &a.public_bytes(), &s, "deal").unwrap()[..],
            b"share"
        );
        // another recipient, session, purpose, domain, or an altered box
        assert!(matches!(
            c.open(&sealed, &a.public_bytes(), &s, "deal"),
            Err(Error::UnexpectedParty { .. })
        ));
        assert!(matches!(
            b.open(&sealed, &a.public_bytes(), &[8u8; 32], "deal"),
            Err(Error::InvalidShare {
                party: PartyId(1),
                ..
            })
        ));
        assert!(matches!(
            b.open(&sealed, &a.public_bytes(), &s, "other"),
            Err(Error::InvalidShare { .. })
        ));
        let other_domain = E2eKey::from_secret_bytes(2, "other/v1", &b.secret_bytes()[..]).unwrap();
        assert!(other_domain
            .open(&sealed, &a.public_bytes(), &s, "deal")
            .is_err());
        let mut bad = sealed.clone();
        bad.ciphertext[0] ^= 1;
        assert!(matches!(
            b.open(&bad, &a.public_bytes(), &s, "deal"),
            Err(Error::InvalidShare { .. })
        ));
        // malformed keys
        assert!(matches!(
            a.seal(2, &[0u8; 31], &s, "deal", b"x", &mut r),
            Err(Error::Malformed { .. })
        ));
        assert!(matches!(
            a.seal(2, &[0u8; 32], &s, "deal", b"x", &mut r),
            Err(Error::Malformed { .. })
        ));
        assert!(E2eKey::from_secret_bytes(1, "d", &[1u8; 5]).is_err());
    }
}
