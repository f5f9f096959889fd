//! Batch APIs, parallel with rayon over the items (the coarsest level with
//! enough work; nothing inside an item is parallelised).
//!
//! Randomized batch calls draw one 32-byte ChaCha20 seed per item from the
//! caller's generator, so results are reproducible for a seeded generator
//! regardless of the thread count.

use num_bigint::{BigInt, BigUint};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRng, RngCore};
use rayon::prelude::*;
use zeroize::Zeroize;

use crate::ciphertext::Ciphertext;
use crate::encoding::{decode_signed, EncodedNumber, EncryptedNumber};
use crate::error::{Error, Result};
use crate::fast::FastEncryptor;
use crate::keys::{PublicKey, SecretKey};

fn seeds<R: RngCore + CryptoRng>(count: usize, rng: &mut R) -> Vec<[u8; 32]> {
    (0..count)
        .map(|_| {
            let mut s = [0u8; 32];
            rng.fill_bytes(&mut s);
            s
        })
        .collect()
}

fn with_seeds<T: Send, F>(mut seeds: Vec<[u8; 32]>, f: F) -> Result<Vec<T>>
where
    F: Fn(usize, &mut ChaCha20Rng) -> Result<T> + Sync + Send,
{
    let out = seeds
        .par_iter()
        .enumerate()
        .map(|(i, s)| {
            let mut r = ChaCha20Rng::from_seed(*s);
            f(i, &mut r)
        })
        .collect();
    for s in seeds.iter_mut() {
        s.zeroize();
    }
    out
}

impl PublicKey {
    /// Encrypts every plaintext (parallel).
    ///
    /// # Errors
    /// The first [`Error::PlaintextOutOfRange`].
    pub fn encrypt_batch<R: RngCore + CryptoRng>(
        &self,
        ms: &[BigUint],
        rng: &mut R,
    ) -> Result<Vec<Ciphertext>> {
        with_seeds(seeds(ms.len(), rng), |i, r| self.encrypt(&ms[i], r))
    }

    /// Encrypts signed integers (parallel).
    ///
    /// # Errors
    /// The first [`Error::EncodingOutOfRange`].
    pub fn encrypt_i64_batch<R: RngCore + CryptoRng>(
        &self,
        vs: &[i64],
        rng: &mut R,
    ) -> Result<Vec<Ciphertext>> {
        with_seeds(seeds(vs.len(), rng), |i, r| self.encrypt_i64(vs[i], r))
    }

    /// Encrypts a vector of floats (parallel).
    ///
    /// # Errors
    /// The first encoding error.
    pub fn encrypt_f64_batch<R: RngCore + CryptoRng>(
        &self,
        xs: &[f64],
        rng: &mut R,
    ) -> Result<Vec<EncryptedNumber>> {
        with_seeds(seeds(xs.len(), rng), |i, r| self.encrypt_f64(xs[i], r))
    }
}

impl FastEncryptor {
    /// Encrypts every plaintext with the fast path (parallel).
    ///
    /// # Errors
    /// The first [`Error::PlaintextOutOfRange`].
    pub fn encrypt_batch<R: RngCore + CryptoRng>(
        &self,
        ms: &[BigUint],
        rng: &mut R,
    ) -> Result<Vec<Ciphertext>> {
        with_seeds(seeds(ms.len(), rng), |i, r| self.encrypt(&ms[i], r))
    }

    /// Encrypts signed integers with the fast path (parallel).
    ///
    /// # Errors
    /// The first [`Error::EncodingOutOfRange`].
    pub fn encrypt_i64_batch<R: RngCore + CryptoRng>(
        &self,
        vs: &[i64],
        rng: &mut R,
    ) -> Result<Vec<Ciphertext>> {
        with_seeds(seeds(vs.len(), rng), |i, r| {
            self.encrypt_int(&BigInt::from(vs[i]), r)
        })
    }
}

impl SecretKey {
    /// Decrypts every ciphertext (parallel over groups of 4; on CPUs with
    /// AVX-512 IFMA each group runs as one 8-lane multi-buffer
    /// exponentiation: 4 lanes modulo `p^2`, 4 modulo `q^2`).
    ///
    /// # Errors
    /// The first [`Error::KeyMismatch`].
    pub fn decrypt_batch(&self, cts: &[Ciphertext]) -> Result<Vec<BigUint>> {
        for ct in cts {
            self.check_key(ct)?;
        }
        let groups: Vec<Result<Vec<BigUint>>> =
            cts.par_chunks(4).map(|g| self.decrypt_group(g)).collect();
        let mut out = Vec::with_capacity(cts.len());
        for g in groups {
            out.extend(g?);
        }
        Ok(out)
    }

    /// Decrypts a group of at most 4 ciphertexts (already key-checked):
    /// three or four go through one 8-lane IFMA exponentiation (4 × `p^2`,
    /// 4 × `q^2`); one or two are cheaper one at a time on the single-value
    /// IFMA path ([`SecretKey::decrypt`]); without IFMA, the portable core.
    pub(crate) fn decrypt_group(&self, g: &[Ciphertext]) -> Result<Vec<BigUint>> {
        #[cfg(target_arch = "x86_64")]
        if g.len() >= 3 {
            if let Some(r) = self.decrypt_mb8(g) {
                return r;
            }
        }
        g.iter().map(|c| self.decrypt(c)).collect()
    }

    /// Decrypts signed integers (parallel).
    ///
    /// # Errors
    /// [`Error::KeyMismatch`], [`Error::Overflow`].
    pub fn decrypt_int_batch(&self, cts: &[Ciphertext]) -> Result<Vec<BigInt>> {
        let ms = self.decrypt_batch(cts)?;
        ms.iter()
            .map(|m| decode_signed(self.public_key(), m))
            .collect()
    }

    /// Decrypts a vector of floats (parallel).
    ///
    /// # Errors
    /// As [`SecretKey::decrypt_f64`].
    pub fn decrypt_f64_batch(&self, xs: &[EncryptedNumber]) -> Result<Vec<f64>> {
        let cts: Vec<Ciphertext> = xs.iter().map(|x| x.ciphertext().clone()).collect();
        let ms = self.decrypt_int_batch(&cts)?;
        ms.into_iter()
            .zip(xs)
            .map(|(m, x)| EncodedNumber::new(m, x.exponent()).to_f64())
            .collect()
    }

    /// CRT encryption of every plaintext (parallel over groups of 4; with
    /// AVX-512 IFMA a group shares one 8-lane exponentiation). One seed is
    /// drawn per group.
    ///
    /// # Errors
    /// The first [`Error::PlaintextOutOfRange`].
    pub fn encrypt_crt_batch<R: RngCore + CryptoRng>(
        &self,
        ms: &[BigUint],
        rng: &mut R,
    ) -> Result<Vec<Ciphertext>> {
        let groups: Vec<&[BigUint]> = ms.chunks(4).collect();
        let parts = with_seeds(seeds(groups.len(), rng), |i, r| {
            self.encrypt_crt_group(groups[i], r)
        })?;
        Ok(parts.into_iter().flatten().collect())
    }
}

/// Element-wise homomorphic addition (parallel).
///
/// # Errors
/// [`Error::LengthMismatch`], [`Error::KeyMismatch`].
pub fn add_batch(a: &[Ciphertext], b: &[Ciphertext]) -> Result<Vec<Ciphertext>> {
    if a.len() != b.len() {
        return Err(Error::LengthMismatch {
            left: a.len(),
            right: b.len(),
        });
    }
    a.par_iter().zip(b).map(|(x, y)| x.add(y)).collect()
}

/// What [`sum`] adds: [`Ciphertext`] and [`EncryptedNumber`] (exponents
/// aligned to the smallest).
pub trait Summable: Clone + Send + Sync + sealed::Sealed {
    /// The homomorphic sum of two values under one key.
    ///
    /// # Errors
    /// [`Error::KeyMismatch`] for values under different keys.
    fn add_to(&self, other: &Self) -> Result<Self>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::Ciphertext {}
    impl Sealed for crate::EncryptedNumber {}
}

impl Summable for Ciphertext {
    fn add_to(&self, other: &Self) -> Result<Self> {
        self.add(other)
    }
}

impl Summable for EncryptedNumber {
    fn add_to(&self, other: &Self) -> Result<Self> {
        self.add(other)
    }
}

/// Homomorphic sum of ciphertexts or encrypted numbers (parallel tree
/// reduction). Sequentially, `items.iter().sum::<Result<_>>()` gives the
/// same value.
///
/// # Errors
/// [`Error::KeyMismatch`]; [`Error::InvalidParameter`] for an empty slice.
pub fn sum<T: Summable>(items: &[T]) -> Result<T> {
    let first = items.first().ok_or(Error::InvalidParameter {
        reason: "sum of an empty slice",
    })?;
    items[1..]
        .par_iter()
        .map(|c| Ok(c.clone()))
        .try_reduce_with(|x, y| x.add_to(&y))
        .map_or_else(|| Ok(first.clone()), |rest| first.add_to(&rest?))
}

/// Multiplies each ciphertext by its scalar (parallel).
///
/// # Errors
/// [`Error::LengthMismatch`].
pub fn mul_scalar_batch(cts: &[Ciphertext], ks: &[BigInt]) -> Result<Vec<Ciphertext>> {
    if cts.len() != ks.len() {
        return Err(Error::LengthMismatch {
            left: cts.len(),
            right: ks.len(),
        });
    }
    Ok(cts
        .par_iter()
        .zip(ks)
        .map(|(c, k)| c.mul_scalar(k))
        .collect())
}
