//! End-to-end encryption between parties through the coordinator's mailbox.
//!
//! Every party makes a fresh X25519 key pair for the session and announces
//! the public half in its `Hello`; the coordinator relays the directory of
//! public keys. A secret message from `a` to `b` (a Shamir dealing, a
//! threshold Paillier key share) is sealed with ChaCha20-Poly1305 under
//! `HKDF-SHA256(X25519(sk_a, pk_b), salt = session id, info = label ‖ a ‖ b)`
//! with a random nonce and the session id, sender, recipient and purpose as
//! associated data. The coordinator sees only ciphertexts. (It relays the
//! public keys, so, as in the aggregation layer's threat model, it is trusted
//! to be honest-but-curious; pinning the keys in the certificates would
//! remove that assumption.)

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hkdf::Hkdf;
use rand::{CryptoRng, RngCore};
use sha2::Sha256;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

use crate::proto::Sealed;
use crate::{Error, Result};

/// A party's end-to-end key pair (the secret is zeroized on drop).
pub struct E2eKey {
    id: u32,
    secret: StaticSecret,
    public: PublicKey,
}

impl std::fmt::Debug for E2eKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("E2eKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

fn aead(
    secret: &StaticSecret,
    peer: &[u8],
    session: &[u8; 32],
    from: u32,
    to: u32,
    purpose: &str,
) -> Result<ChaCha20Poly1305> {
    let peer: [u8; 32] = peer
        .try_into()
        .map_err(|_| Error::E2e(format!("X25519 public key of {} bytes", peer.len())))?;
    let shared = secret.diffie_hellman(&PublicKey::from(peer));
    if !shared.was_contributory() {
        return Err(Error::E2e("non-contributory X25519 public key".into()));
    }
    let hk = Hkdf::<Sha256>::new(Some(session), shared.as_bytes());
    let mut key = Zeroizing::new([0u8; 32]);
    let info = format!("hekit-mpc/e2e/v1/{purpose}/{from}/{to}");
    hk.expand(info.as_bytes(), &mut key[..])
        .map_err(|_| Error::E2e("HKDF expand".into()))?;
    Ok(ChaCha20Poly1305::new(Key::from_slice(&key[..])))
}

fn aad(session: &[u8; 32], from: u32, to: u32, purpose: &str) -> Vec<u8> {
    let mut v = session.to_vec();
    v.extend_from_slice(&from.to_le_bytes());
    v.extend_from_slice(&to.to_le_bytes());
    v.extend_from_slice(purpose.as_bytes());
    v
}

impl E2eKey {
    /// A fresh key pair for party `id`.
    pub fn generate<R: RngCore + CryptoRng>(id: u32, rng: &mut R) -> Self {
        let secret = StaticSecret::random_from_rng(rng);
        let public = PublicKey::from(&secret);
        Self { id, secret, public }
    }

    /// The public half (announced in `Hello`).
    pub fn public_bytes(&self) -> Vec<u8> {
        self.public.as_bytes().to_vec()
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
        let cipher = aead(&self.secret, peer, session, self.id, to, purpose)?;
        let mut nonce = [0u8; 12];
        rng.fill_bytes(&mut nonce);
        let ciphertext = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad(session, self.id, to, purpose),
                },
            )
            .map_err(|_| Error::E2e("encryption failed".into()))?;
        Ok(Sealed {
            from: self.id,
            to,
            nonce: nonce.to_vec(),
            ciphertext,
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
        if sealed.to != self.id {
            return Err(Error::E2e(format!(
                "box for party {} delivered to party {}",
                sealed.to, self.id
            )));
        }
        if sealed.nonce.len() != 12 {
            return Err(Error::E2e(format!("nonce of {} bytes", sealed.nonce.len())));
        }
        let cipher = aead(&self.secret, peer, session, sealed.from, self.id, purpose)?;
        cipher
            .decrypt(
                Nonce::from_slice(&sealed.nonce),
                Payload {
                    msg: &sealed.ciphertext,
                    aad: &aad(session, sealed.from, self.id, purpose),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| {
                Error::E2e(format!(
                    "box from party {} does not authenticate",
                    sealed.from
                ))
            })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

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
