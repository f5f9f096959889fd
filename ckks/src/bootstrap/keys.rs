//! The keys of bootstrapping: generated in one call, serialized.

use super::config::BootstrapConfig;
use crate::keys::{GaloisKeys, RelinKey, SecretKey};
use crate::params::Parameters;
use crate::{Error, Result};

#[cfg(doc)]
use super::Bootstrapper;

/// The keys of bootstrapping for one secret key, made in one call
/// ([`Bootstrapper::generate_keys`]): relinearization and Galois keys
/// (every step the transforms use, and conjugation), and the two key
/// switches of the sparse-secret encapsulation — dense `s` to the ephemeral
/// sparse `s'` over `q_0 ∪ P` only, and `s'` back to `s` over `Q ∪ P`.
#[derive(Clone, Debug)]
pub struct BootstrapKeys {
    /// Relinearization key of `s`.
    pub rlk: RelinKey,
    /// Galois keys of `s` for [`Bootstrapper::rotation_steps`] and conjugation.
    pub gks: GaloisKeys,
    /// `q_0 ∪ P`: the parameters the switch to `s'` lives in.
    pub(super) sparse_params: std::sync::Arc<rlwe::params::Params>,
    pub(super) to_sparse: rlwe::keys::KeySwitchKey,
    pub(super) to_dense: rlwe::keys::KeySwitchKey,
}

impl BootstrapKeys {
    /// Every key bootstrapping with `config` needs for `sk` (the same keys
    /// as [`Bootstrapper::generate_keys`], without building the
    /// transforms: the rotation steps come from
    /// [`BootstrapConfig::rotation_steps`]); the ephemeral sparse secret is
    /// sampled here and exists afterwards only inside the two
    /// key-switching keys.
    ///
    /// # Errors
    /// An invalid configuration; errors of key generation.
    pub fn generate<R: rand::RngCore + rand::CryptoRng>(
        sk: &SecretKey,
        config: &BootstrapConfig,
        rng: &mut R,
    ) -> Result<Self> {
        let params = sk.params();
        let rp = params.rlwe();
        if config.hamming_weight == 0 || config.hamming_weight > rp.degree() {
            return Err(Error::InvalidArgument {
                what: format!(
                    "Hamming weight {} of the ephemeral secret must be in 1..={}",
                    config.hamming_weight,
                    rp.degree()
                ),
            });
        }
        let steps = config.rotation_steps(rp.degree())?;
        let rlk = RelinKey::generate(sk, rng)?;
        let gks = GaloisKeys::generate_with_conjugation(sk, &steps, true, rng)?;
        let sparse_params = sparse_key_params(rp)?;
        let mut sparse = rlwe::sample::sparse_ternary(rp.degree(), config.hamming_weight, rng);
        let mut dense = sk.rlwe().coeffs().to_vec();
        // s → s' over q_0 ∪ P: a key under s' exposed only at the small modulus
        let s_small = rlwe::keys::SecretKey::from_coeffs(&sparse_params, dense.clone())?;
        let s_prime_small = rlwe::keys::SecretKey::from_coeffs(&sparse_params, sparse.clone())?;
        let to_sparse = rlwe::keys::KeySwitchKey::generate(&s_prime_small, s_small.ntt_qp(), rng)?;
        // s' → s over Q ∪ P: s' encrypted under the dense key
        let s_prime = rlwe::keys::SecretKey::from_coeffs(rp, sparse.clone())?;
        let to_dense = rlwe::keys::KeySwitchKey::generate(sk.rlwe(), s_prime.ntt_qp(), rng)?;
        zeroize::Zeroize::zeroize(&mut sparse);
        zeroize::Zeroize::zeroize(&mut dense);
        Ok(BootstrapKeys {
            rlk,
            gks,
            sparse_params,
            to_sparse,
            to_dense,
        })
    }
}

/// The parameters `q_0 ∪ P` of the switch to the ephemeral sparse secret.
fn sparse_key_params(rp: &rlwe::params::Params) -> Result<std::sync::Arc<rlwe::params::Params>> {
    let q0 = rp.q().first().copied().ok_or(Error::InvalidArgument {
        what: "bootstrapping parameters without a chain prime".into(),
    })?;
    Ok(rlwe::params::Params::new(
        rp.degree(),
        vec![q0],
        rp.p().to_vec(),
        rp.security(),
    )?)
}

/// Tag of serialized [`BootstrapKeys`] (inside the `External` envelope).
const BOOT_KEYS_TAG: [u8; 8] = *b"ckks/bk1";

#[derive(serde::Serialize, serde::Deserialize)]
struct BootKeysBody {
    tag: [u8; 8],
    rlk: Vec<u8>,
    gks: Vec<u8>,
    to_sparse: Vec<u8>,
    to_dense: Vec<u8>,
}

/// Serialization: the keys are public (the ephemeral secret exists only
/// inside the two key-switching keys, as RLWE samples), so they travel to
/// the party that bootstraps.
impl BootstrapKeys {
    /// Serialized keys: a versioned envelope (fingerprint of the
    /// parameters included) holding the relinearization key, the Galois
    /// keys and the two key-switching keys, each in its own envelope
    /// (seeded: the uniform halves are written as seeds).
    pub fn to_bytes(&self) -> Vec<u8> {
        let body = BootKeysBody {
            tag: BOOT_KEYS_TAG,
            rlk: self.rlk.to_bytes(),
            gks: self.gks.to_bytes(),
            to_sparse: self.to_sparse.to_bytes(),
            to_dense: self.to_dense.to_bytes(),
        };
        rlwe::serialize::encode(
            rlwe::serialize::Kind::External,
            self.rlk.params().fingerprint(),
            &body,
        )
    }

    /// The parameters the keys belong to.
    pub fn params(&self) -> &Parameters {
        self.rlk.params()
    }

    /// Size of [`Self::to_bytes`].
    pub fn serialized_size(&self) -> usize {
        self.to_bytes().len()
    }

    /// Reads bootstrapping keys of `params`, validating every envelope,
    /// key shape and coefficient. Whether the Galois keys cover a
    /// bootstrapper's rotation steps is checked when it uses them
    /// (a missing key is [`rlwe::Error::MissingKey`], never a wrong answer).
    ///
    /// # Errors
    /// [`Error::Malformed`] for bytes that are not bootstrapping keys; the
    /// errors of the keys' own readers inside [`Error::Rlwe`] (truncated or
    /// garbled bytes, keys of other parameters).
    pub fn from_bytes(params: &Parameters, bytes: &[u8]) -> Result<Self> {
        const WHAT: &str = "CKKS bootstrapping keys";
        let body: BootKeysBody = rlwe::serialize::decode(
            bytes,
            rlwe::serialize::Kind::External,
            WHAT,
            Some(params.fingerprint()),
        )?;
        if body.tag != BOOT_KEYS_TAG {
            return Err(Error::Malformed {
                what: WHAT,
                reason: "not bootstrapping keys".into(),
            });
        }
        let sparse_params = sparse_key_params(params.rlwe())?;
        Ok(Self {
            rlk: RelinKey::from_bytes(params, &body.rlk)?,
            gks: GaloisKeys::from_bytes(params, &body.gks)?,
            to_sparse: rlwe::keys::KeySwitchKey::from_bytes(&sparse_params, &body.to_sparse)?,
            to_dense: rlwe::keys::KeySwitchKey::from_bytes(params.rlwe(), &body.to_dense)?,
            sparse_params,
        })
    }
}
