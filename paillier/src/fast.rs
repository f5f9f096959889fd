//! Fast public-key encryption with precomputed randomness.
//!
//! [`FastEncryptor`] replaces the fresh `r^n mod n^2` of textbook encryption
//! by `h_s^α mod n^2`, where `h_s = r_0^n mod n^2` is fixed (random `r_0`
//! drawn once) and `α` is a fresh *short* random exponent — the
//! Damgård–Jurik–Nielsen "short exponent" variant. `h_s^α` is computed from
//! a fixed-base table (`h_s^(j · 2^(w i))` for every window `i` and digit
//! `j`), so an encryption costs about `ℓ / w` multiplications modulo `n^2`
//! instead of a full `|n|`-bit exponentiation.
//!
//! **Assumption.** Semantic security now rests on DCR *plus* the assumption
//! that `h_s^α` with `α` uniform in `[0, 2^ℓ)` is indistinguishable from a
//! uniform `n`-th residue (DJN, IJIS 2010, §4; the short-exponent
//! indistinguishability assumption). The best known attacks on short
//! exponents are generic (Pollard kangaroo / baby-step giant-step in
//! `2^(ℓ/2)`), so we take `ℓ = 2λ` for a key of `λ`-bit security:
//! `ℓ = 224` below 3072-bit moduli, `ℓ = 256` from 3072 bits (128-bit
//! security; also used at 4096), `ℓ = 384` from 7680 bits. Callers who prefer
//! the original DJN choice `ℓ = ⌈|n|/2⌉` can ask for
//! [`ShortExponent::HalfModulus`] (slower, larger table).
//!
//! Digits are selected with a full masked table scan, so neither branches
//! nor memory addresses depend on `α`.

use num_bigint::BigUint;
use rand_core::{CryptoRng, RngCore};
use zeroize::Zeroize;

use crate::ciphertext::Ciphertext;
use crate::error::{Error, Result};
use crate::keys::{PublicKey, ZeroizeBigUint};
use crate::mont::{ct_select, from_limbs, window_bits};

/// Size of the short exponent `α`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShortExponent {
    /// `ℓ = 2λ` for the key's security level `λ` (see the module docs).
    Security,
    /// DJN's original `ℓ = ⌈|n| / 2⌉`.
    HalfModulus,
    /// An explicit `ℓ` in bits (at least 128).
    Bits(u32),
}

/// Table window width.
const WINDOW: usize = 6;

/// Public-key encryptor with a fixed-base table of `h_s = r_0^n mod n^2`.
pub struct FastEncryptor {
    pk: PublicKey,
    exp_bits: usize,
    /// `windows × 2^WINDOW` entries of `k` limbs, Montgomery form mod n^2.
    table: Vec<u64>,
}

impl core::fmt::Debug for FastEncryptor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FastEncryptor")
            .field("key", &self.pk)
            .field("exponent_bits", &self.exp_bits)
            .field("table_bytes", &(self.table.len() * 8))
            .finish()
    }
}

impl FastEncryptor {
    /// Draws `r_0`, computes `h_s = r_0^n mod n^2` and its table.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for an explicit exponent size below 128
    /// bits or above `|n|`.
    pub fn new<R: RngCore + CryptoRng>(
        pk: &PublicKey,
        size: ShortExponent,
        rng: &mut R,
    ) -> Result<Self> {
        let n_bits = pk.bits() as usize;
        let exp_bits = match size {
            ShortExponent::Security => {
                let l = if n_bits < 3072 {
                    224
                } else if n_bits < 7680 {
                    256
                } else {
                    384
                };
                l.min(n_bits.div_ceil(2))
            }
            ShortExponent::HalfModulus => n_bits.div_ceil(2),
            ShortExponent::Bits(b) => {
                let b = b as usize;
                if b < 128 || b > n_bits {
                    return Err(Error::InvalidParameter {
                        reason: "short exponent must be 128..=|n| bits",
                    });
                }
                b
            }
        };
        let mont = &pk.inner.mont_nn;
        let k = mont.limbs();
        let mut r0 = pk.random_r(rng);
        let hs = pk.pow_nn(&r0, pk.n());
        r0.zeroize_biguint();
        let entries = 1usize << WINDOW;
        let windows = exp_bits.div_ceil(WINDOW);
        let mut table = vec![0u64; windows * entries * k];
        let mut t = mont.scratch();
        // base_i = h_s^(2^(w i)) in Montgomery form.
        let mut base = mont.enter_mont(&hs);
        let mut tmp = vec![0u64; k];
        for i in 0..windows {
            let row = &mut table[i * entries * k..(i + 1) * entries * k];
            row[..k].copy_from_slice(mont.one());
            row[k..2 * k].copy_from_slice(&base);
            for j in 2..entries {
                let (done, rest) = row.split_at_mut(j * k);
                mont.mul(&done[(j - 1) * k..j * k], &base, &mut rest[..k], &mut t);
            }
            // next base = base^(2^w) = row[2^(w-1)]^2
            let half = &row[(entries / 2) * k..(entries / 2 + 1) * k];
            mont.mul(half, half, &mut tmp, &mut t);
            base.copy_from_slice(&tmp);
        }
        Ok(FastEncryptor {
            pk: pk.clone(),
            exp_bits,
            table,
        })
    }

    /// The key this encryptor belongs to.
    pub fn public_key(&self) -> &PublicKey {
        &self.pk
    }

    /// Short exponent size `ℓ` in bits.
    pub fn exponent_bits(&self) -> usize {
        self.exp_bits
    }

    /// `h_s^α mod n^2` for a fresh random `α` of `ℓ` bits.
    fn noise<R: RngCore + CryptoRng>(&self, rng: &mut R) -> BigUint {
        let mont = &self.pk.inner.mont_nn;
        let k = mont.limbs();
        let mut alpha = vec![0u64; self.exp_bits.div_ceil(64)];
        for w in alpha.iter_mut() {
            *w = rng.next_u64();
        }
        let extra = alpha.len() * 64 - self.exp_bits;
        if extra > 0 {
            if let Some(last) = alpha.last_mut() {
                *last &= u64::MAX >> extra;
            }
        }
        let entries = 1usize << WINDOW;
        let windows = self.exp_bits.div_ceil(WINDOW);
        let mut acc = mont.one().to_vec();
        let mut sel = vec![0u64; k];
        let mut tmp = vec![0u64; k];
        let mut t = mont.scratch();
        for i in 0..windows {
            let d = window_bits(&alpha, i * WINDOW, WINDOW);
            let row = &self.table[i * entries * k..(i + 1) * entries * k];
            ct_select(row, k, entries, d, &mut sel);
            mont.mul(&acc, &sel, &mut tmp, &mut t);
            core::mem::swap(&mut acc, &mut tmp);
        }
        alpha.zeroize();
        sel.zeroize();
        let u = from_limbs(&mont.leave_mont(&acc));
        acc.zeroize();
        u
    }

    /// Encrypts `m ∈ [0, n)`.
    ///
    /// # Errors
    /// [`Error::PlaintextOutOfRange`] if `m >= n`.
    pub fn encrypt<R: RngCore + CryptoRng>(&self, m: &BigUint, rng: &mut R) -> Result<Ciphertext> {
        self.pk.check_plaintext(m)?;
        let mut u = self.noise(rng);
        let c = self.pk.apply_message(m, &u);
        u.zeroize_biguint();
        Ok(Ciphertext::new_unchecked(c, self.pk.clone()))
    }

    /// Encrypts a signed integer.
    ///
    /// # Errors
    /// [`Error::EncodingOutOfRange`] if `|v| > max_int`.
    pub fn encrypt_int<R: RngCore + CryptoRng>(
        &self,
        v: &num_bigint::BigInt,
        rng: &mut R,
    ) -> Result<Ciphertext> {
        let m = crate::encoding::encode_signed(&self.pk, v)?;
        self.encrypt(&m, rng)
    }

    /// Re-randomizes a ciphertext with a short-exponent noise term.
    ///
    /// # Errors
    /// [`Error::KeyMismatch`] for a ciphertext of another key.
    pub fn rerandomize<R: RngCore + CryptoRng>(
        &self,
        ct: &Ciphertext,
        rng: &mut R,
    ) -> Result<Ciphertext> {
        if ct.public_key() != &self.pk {
            return Err(Error::KeyMismatch);
        }
        let u = self.noise(rng);
        Ok(Ciphertext::new_unchecked(
            (ct.value() * u) % self.pk.n_squared(),
            self.pk.clone(),
        ))
    }
}
