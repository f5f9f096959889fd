//! BFV keys: thin wrappers over the `rlwe` keys that encrypt and decrypt
//! plaintexts, and Galois keys named by rotation steps.

use std::sync::Arc;

use rand::{CryptoRng, RngCore};
use rlwe::keys::{galois_element_conjugate, galois_element_for_rotation};
use rlwe::poly::Poly;

use crate::ciphertext::Ciphertext;
use crate::encoder::Plaintext;
use crate::params::Parameters;
use crate::{Error, Result};

/// `Δ_l·m = round(Q_l·m/t)` over `Q_l` (coefficient representation): the
/// fractional part of `Q_l/t` is kept, so the invariant noise of the
/// embedding is at most `t/2` (with `⌊Q_l/t⌋·m` it would be `(Q_l mod t)·m`,
/// up to `t²/2`: 7–8 bits of budget at `t = 65537`).
pub(crate) fn scaled_plaintext(pt: &Plaintext, level: usize) -> Result<Poly> {
    let params = &pt.params;
    let ring = params.rlwe().ring_q(level)?;
    let upscaler = &params.level(level)?.upscaler;
    Ok(Poly::from_upscaled(ring, upscaler, pt.coefficients())?)
}

/// A BFV secret key. Zeroized on drop (by `rlwe`), never printed.
#[derive(Clone)]
pub struct SecretKey {
    params: Arc<Parameters>,
    inner: rlwe::keys::SecretKey,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("bfv::SecretKey").finish_non_exhaustive()
    }
}

impl SecretKey {
    /// A fresh ternary secret key.
    pub fn generate<R: RngCore + CryptoRng>(params: &Arc<Parameters>, rng: &mut R) -> Self {
        Self {
            params: params.clone(),
            inner: rlwe::keys::SecretKey::generate(params.rlwe(), rng),
        }
    }

    /// Wraps an `rlwe` secret key (e.g. one reconstructed in a test).
    pub fn from_rlwe(params: &Arc<Parameters>, inner: rlwe::keys::SecretKey) -> Result<Self> {
        params.rlwe().check_same(inner.params(), "secret key")?;
        Ok(Self {
            params: params.clone(),
            inner,
        })
    }

    /// The parameters.
    pub fn params(&self) -> &Arc<Parameters> {
        &self.params
    }

    /// The underlying RLWE key.
    pub fn rlwe(&self) -> &rlwe::keys::SecretKey {
        &self.inner
    }

    /// Symmetric (seeded) encryption at the top level.
    pub fn encrypt<R: RngCore + CryptoRng>(
        &self,
        pt: &Plaintext,
        rng: &mut R,
    ) -> Result<Ciphertext> {
        self.params.check_same(&pt.params, "plaintext and key")?;
        let m = scaled_plaintext(pt, self.params.max_level())?;
        Ciphertext::wrap(&self.params, self.inner.encrypt(&m, rng)?, pt.encoding)
    }

    /// Decrypts: `round(t·(c_0 + c_1·s + …)/Q_l) mod t`.
    pub fn decrypt(&self, ct: &Ciphertext) -> Result<Plaintext> {
        self.params.check_same(ct.params(), "ciphertext and key")?;
        let x = self.inner.decrypt(ct.rlwe())?;
        Plaintext::from_phase(&self.params, &x, ct.encoding())
    }

    /// The invariant noise budget in bits (as SEAL reports it):
    /// `log2(Q_l) − log2(‖[t·(c_0 + c_1·s)]_{Q_l}‖∞) − 1`, or 0 when the
    /// ciphertext no longer decrypts reliably.
    pub fn noise_budget(&self, ct: &Ciphertext) -> Result<f64> {
        self.params.check_same(ct.params(), "ciphertext and key")?;
        let mut x = self.inner.decrypt(ct.rlwe())?;
        x.mul_scalar_assign(self.params.plaintext_modulus());
        let norm = x.infinity_norm_bits();
        let ring = self.params.rlwe().ring_q(ct.level())?;
        let log_q = rlwe_log2(ring.basis().product());
        Ok((log_q - norm - 1.0).max(0.0))
    }
}

pub(crate) fn rlwe_log2(x: &num_bigint::BigUint) -> f64 {
    let bits = x.bits();
    if bits <= 60 {
        (num_traits::ToPrimitive::to_f64(x).unwrap_or(1.0)).log2()
    } else {
        let top: f64 = num_traits::ToPrimitive::to_f64(&(x >> (bits - 60) as usize)).unwrap_or(1.0);
        top.log2() + (bits - 60) as f64
    }
}

/// A BFV public key.
#[derive(Clone, Debug)]
pub struct PublicKey {
    params: Arc<Parameters>,
    inner: rlwe::keys::PublicKey,
}

impl PublicKey {
    /// The public key of `sk`.
    pub fn generate<R: RngCore + CryptoRng>(sk: &SecretKey, rng: &mut R) -> Result<Self> {
        Ok(Self {
            params: sk.params.clone(),
            inner: rlwe::keys::PublicKey::generate(&sk.inner, rng)?,
        })
    }

    /// Wraps an `rlwe` public key (e.g. a collectively generated one).
    pub fn from_rlwe(params: &Arc<Parameters>, inner: rlwe::keys::PublicKey) -> Result<Self> {
        params.rlwe().check_same(inner.params(), "public key")?;
        Ok(Self {
            params: params.clone(),
            inner,
        })
    }

    /// The parameters.
    pub fn params(&self) -> &Arc<Parameters> {
        &self.params
    }

    /// The underlying RLWE key.
    pub fn rlwe(&self) -> &rlwe::keys::PublicKey {
        &self.inner
    }

    /// Public-key encryption at the top level.
    pub fn encrypt<R: RngCore + CryptoRng>(
        &self,
        pt: &Plaintext,
        rng: &mut R,
    ) -> Result<Ciphertext> {
        self.params.check_same(&pt.params, "plaintext and key")?;
        let m = scaled_plaintext(pt, self.params.max_level())?;
        Ciphertext::wrap(&self.params, self.inner.encrypt(&m, rng)?, pt.encoding)
    }

    /// Serialized form (seeded: one polynomial plus a seed).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.inner.to_bytes()
    }

    /// Reads a public key for `params`.
    pub fn from_bytes(params: &Arc<Parameters>, bytes: &[u8]) -> Result<Self> {
        Self::from_rlwe(
            params,
            rlwe::keys::PublicKey::from_bytes(params.rlwe(), bytes)?,
        )
    }
}

/// A relinearization key.
#[derive(Clone, Debug)]
pub struct RelinKey {
    params: Arc<Parameters>,
    inner: rlwe::keys::RelinKey,
}

impl RelinKey {
    /// The relinearization key of `sk`.
    pub fn generate<R: RngCore + CryptoRng>(sk: &SecretKey, rng: &mut R) -> Result<Self> {
        Ok(Self {
            params: sk.params.clone(),
            inner: rlwe::keys::RelinKey::generate(&sk.inner, rng)?,
        })
    }

    /// Wraps an `rlwe` relinearization key.
    pub fn from_rlwe(params: &Arc<Parameters>, inner: rlwe::keys::RelinKey) -> Result<Self> {
        params
            .rlwe()
            .check_same(inner.key().params(), "relinearization key")?;
        Ok(Self {
            params: params.clone(),
            inner,
        })
    }

    /// The underlying RLWE key.
    pub fn rlwe(&self) -> &rlwe::keys::RelinKey {
        &self.inner
    }

    pub(crate) fn params(&self) -> &Arc<Parameters> {
        &self.params
    }

    /// Serialized form.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.inner.to_bytes()
    }

    /// Reads a relinearization key for `params`.
    pub fn from_bytes(params: &Arc<Parameters>, bytes: &[u8]) -> Result<Self> {
        Self::from_rlwe(
            params,
            rlwe::keys::RelinKey::from_bytes(params.rlwe(), bytes)?,
        )
    }
}

/// Galois keys for row rotations (by the steps asked for) and, optionally,
/// the row swap.
#[derive(Clone, Debug)]
pub struct GaloisKeys {
    params: Arc<Parameters>,
    inner: rlwe::keys::GaloisKeys,
}

impl GaloisKeys {
    /// Keys for rotating rows by each of `steps` (|step| < N/2).
    pub fn generate<R: RngCore + CryptoRng>(
        sk: &SecretKey,
        steps: &[i64],
        rng: &mut R,
    ) -> Result<Self> {
        Self::generate_with_row_swap(sk, steps, false, rng)
    }

    /// Keys for `steps`, plus the row swap when `row_swap`.
    pub fn generate_with_row_swap<R: RngCore + CryptoRng>(
        sk: &SecretKey,
        steps: &[i64],
        row_swap: bool,
        rng: &mut R,
    ) -> Result<Self> {
        let n = sk.params.degree();
        let mut elements = steps
            .iter()
            .map(|&s| rotation_element(s, n))
            .collect::<Result<Vec<_>>>()?;
        if row_swap {
            elements.push(galois_element_conjugate(n));
        }
        Ok(Self {
            params: sk.params.clone(),
            inner: rlwe::keys::GaloisKeys::generate(&sk.inner, &elements, rng)?,
        })
    }

    /// The keys [`crate::Evaluator::sum_slots`] needs: rotations by powers
    /// of two and the row swap.
    pub fn for_slot_sum<R: RngCore + CryptoRng>(sk: &SecretKey, rng: &mut R) -> Result<Self> {
        let half = sk.params.degree() / 2;
        let steps: Vec<i64> = (0..half.trailing_zeros()).map(|i| 1i64 << i).collect();
        Self::generate_with_row_swap(sk, &steps, true, rng)
    }

    /// Wraps `rlwe` Galois keys.
    pub fn from_rlwe(params: &Arc<Parameters>, inner: rlwe::keys::GaloisKeys) -> Self {
        Self {
            params: params.clone(),
            inner,
        }
    }

    /// The underlying RLWE keys.
    pub fn rlwe(&self) -> &rlwe::keys::GaloisKeys {
        &self.inner
    }

    pub(crate) fn params(&self) -> &Arc<Parameters> {
        &self.params
    }

    /// Serialized form.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.inner.to_bytes(self.params.rlwe())
    }

    /// Reads Galois keys for `params`.
    pub fn from_bytes(params: &Arc<Parameters>, bytes: &[u8]) -> Result<Self> {
        Ok(Self::from_rlwe(
            params,
            rlwe::keys::GaloisKeys::from_bytes(params.rlwe(), bytes)?,
        ))
    }
}

/// The Galois element rotating rows left by `step`.
pub(crate) fn rotation_element(step: i64, n: usize) -> Result<usize> {
    let slots = n / 2;
    if step.unsigned_abs() as usize >= slots {
        return Err(Error::InvalidRotation { step, slots });
    }
    Ok(galois_element_for_rotation(step, n))
}
