//! Signed integers and fixed-point numbers.
//!
//! **Signed integers.** A signed `v` with `|v| <= max_int = ⌊n / 3⌋ − 1` (python-paillier's bound) maps
//! to `v mod n`. Decoding maps `[0, max_int]` to itself and
//! `[n - max_int, n)` to negatives; anything in between is reported as
//! [`Error::Overflow`] (as python-paillier does: the gap between the two
//! ranges is what makes overflow detectable instead of silently wrapping).
//!
//! **Fixed-point numbers** ([`EncodedNumber`]) are `mantissa · 16^exponent`
//! with a signed integer mantissa, like python-paillier's `EncodedNumber`
//! (base 16). Floats are encoded exactly (the exponent is chosen so the
//! float's least significant bit is an integer multiple of `16^exponent`).
//! Adding two encrypted numbers aligns their exponents automatically by
//! lowering the larger one (multiplying its mantissa by a power of 16).

use num_bigint::{BigInt, BigUint, Sign};
use num_integer::Integer;
use num_traits::{One, Signed, ToPrimitive, Zero};
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};

use crate::ciphertext::Ciphertext;
use crate::error::{Error, Result};
use crate::keys::{PublicKey, SecretKey, MAX_MODULUS_BITS};

/// Base of the fixed-point exponent (as python-paillier).
pub const BASE: u32 = 16;

/// Maps a signed integer to a raw plaintext (`v mod n`).
///
/// # Errors
/// [`Error::EncodingOutOfRange`] if `|v| > max_int`.
pub fn encode_signed(pk: &PublicKey, v: &BigInt) -> Result<BigUint> {
    let mag = v.magnitude();
    if mag > pk.max_int() {
        return Err(Error::EncodingOutOfRange);
    }
    if v.sign() == Sign::Minus {
        Ok(pk.n() - mag)
    } else {
        Ok(mag.clone())
    }
}

/// Maps a raw plaintext back to a signed integer.
///
/// # Errors
/// [`Error::Overflow`] if `m` is in the gap `(max_int, n - max_int)`;
/// [`Error::PlaintextOutOfRange`] if `m >= n`.
pub fn decode_signed(pk: &PublicKey, m: &BigUint) -> Result<BigInt> {
    pk.check_plaintext(m)?;
    let n = pk.n();
    if m <= pk.max_int() {
        Ok(BigInt::from(m.clone()))
    } else if m >= &(n - pk.max_int()) {
        Ok(-BigInt::from(n - m))
    } else {
        Err(Error::Overflow)
    }
}

impl PublicKey {
    /// Encrypts a signed integer.
    ///
    /// # Errors
    /// [`Error::EncodingOutOfRange`] if `|v| > max_int`.
    pub fn encrypt_int<R: RngCore + CryptoRng>(
        &self,
        v: &BigInt,
        rng: &mut R,
    ) -> Result<Ciphertext> {
        let m = encode_signed(self, v)?;
        self.encrypt(&m, rng)
    }

    /// Encrypts an `i64`.
    ///
    /// # Errors
    /// [`Error::EncodingOutOfRange`] if the key is too small for `v`.
    pub fn encrypt_i64<R: RngCore + CryptoRng>(&self, v: i64, rng: &mut R) -> Result<Ciphertext> {
        self.encrypt_int(&BigInt::from(v), rng)
    }

    /// Encrypts a fixed-point number.
    ///
    /// # Errors
    /// [`Error::EncodingOutOfRange`] if `|mantissa| > max_int`.
    pub fn encrypt_encoded<R: RngCore + CryptoRng>(
        &self,
        x: &EncodedNumber,
        rng: &mut R,
    ) -> Result<EncryptedNumber> {
        let ct = self.encrypt_int(&x.mantissa, rng)?;
        Ok(EncryptedNumber {
            ct,
            exponent: x.exponent,
        })
    }

    /// Encrypts a float (exact encoding, see [`EncodedNumber::from_f64`]).
    ///
    /// # Errors
    /// [`Error::NonFinite`] for NaN / infinities; [`Error::EncodingOutOfRange`]
    /// if the key is too small.
    pub fn encrypt_f64<R: RngCore + CryptoRng>(
        &self,
        x: f64,
        rng: &mut R,
    ) -> Result<EncryptedNumber> {
        self.encrypt_encoded(&EncodedNumber::from_f64(x)?, rng)
    }
}

impl SecretKey {
    /// Decrypts a signed integer.
    ///
    /// # Errors
    /// [`Error::Overflow`] if the plaintext is outside the encodable range;
    /// [`Error::KeyMismatch`] for a ciphertext of another key.
    pub fn decrypt_int(&self, ct: &Ciphertext) -> Result<BigInt> {
        let m = self.decrypt(ct)?;
        decode_signed(self.public_key(), &m)
    }

    /// Decrypts an `i64`.
    ///
    /// # Errors
    /// As [`Self::decrypt_int`], and [`Error::DoesNotFit`] if the value does
    /// not fit in `i64`.
    pub fn decrypt_i64(&self, ct: &Ciphertext) -> Result<i64> {
        self.decrypt_int(ct)?
            .to_i64()
            .ok_or(Error::DoesNotFit { target: "i64" })
    }

    /// Decrypts a fixed-point number.
    ///
    /// # Errors
    /// As [`Self::decrypt_int`].
    pub fn decrypt_encoded(&self, x: &EncryptedNumber) -> Result<EncodedNumber> {
        Ok(EncodedNumber {
            mantissa: self.decrypt_int(&x.ct)?,
            exponent: x.exponent,
        })
    }

    /// Decrypts to a float.
    ///
    /// # Errors
    /// As [`Self::decrypt_int`], and [`Error::DoesNotFit`] if the value is
    /// beyond the range of `f64`.
    pub fn decrypt_f64(&self, x: &EncryptedNumber) -> Result<f64> {
        self.decrypt_encoded(x)?.to_f64()
    }
}

/// A fixed-point number `mantissa · 16^exponent` (key independent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    try_from = "crate::serial::EncodedNumberWire",
    into = "crate::serial::EncodedNumberWire"
)]
pub struct EncodedNumber {
    pub(crate) mantissa: BigInt,
    pub(crate) exponent: i32,
}

/// Splits a finite nonzero float into `(mantissa, binary exponent)` with
/// `x = mantissa · 2^exp` exactly.
fn decompose(x: f64) -> (i64, i32) {
    let bits = x.to_bits();
    let sign = if bits >> 63 == 1 { -1i64 } else { 1 };
    let exp_field = ((bits >> 52) & 0x7ff) as i32;
    let frac = (bits & ((1u64 << 52) - 1)) as i64;
    if exp_field == 0 {
        // Subnormal: python-paillier's exponent is frexp's minus 53 whatever
        // the float, i.e. a 53-bit mantissa here too (the value is the same).
        let len = 64 - frac.leading_zeros() as i32;
        (sign * (frac << (53 - len)), len - 1127)
    } else {
        (sign * (frac | (1i64 << 52)), exp_field - 1075)
    }
}

impl EncodedNumber {
    /// `mantissa · 16^exponent`.
    pub fn new(mantissa: BigInt, exponent: i32) -> Self {
        EncodedNumber { mantissa, exponent }
    }

    /// An integer (exponent 0).
    pub fn from_int(v: impl Into<BigInt>) -> Self {
        EncodedNumber {
            mantissa: v.into(),
            exponent: 0,
        }
    }

    /// Encodes a float exactly with python-paillier's exponent,
    /// `⌊(frexp(x).1 − 53) / 4⌋` (−14 for zero), so that both libraries
    /// encode every float alike.
    ///
    /// # Errors
    /// [`Error::NonFinite`] for NaN or infinities.
    pub fn from_f64(x: f64) -> Result<Self> {
        if !x.is_finite() {
            return Err(Error::NonFinite);
        }
        if x == 0.0 {
            // python-paillier: frexp(0.0) = (0.0, 0), so ⌊(0 − 53) / 4⌋
            return Ok(EncodedNumber {
                mantissa: BigInt::zero(),
                exponent: -14,
            });
        }
        let (m, e) = decompose(x);
        let exponent = Integer::div_floor(&e, &4);
        let shift = (e - 4 * exponent) as u32;
        Ok(EncodedNumber {
            mantissa: BigInt::from(m) << shift,
            exponent,
        })
    }

    /// Encodes a float at a fixed exponent, rounding to the nearest multiple
    /// of `16^exponent` (ties away from zero).
    ///
    /// # Errors
    /// [`Error::NonFinite`] for NaN or infinities.
    pub fn from_f64_with_exponent(x: f64, exponent: i32) -> Result<Self> {
        if !x.is_finite() {
            return Err(Error::NonFinite);
        }
        if x == 0.0 {
            return Ok(EncodedNumber {
                mantissa: BigInt::zero(),
                exponent,
            });
        }
        let (m, e) = decompose(x);
        // x / 16^exponent = m * 2^(e - 4 exponent)
        let shift = e as i64 - 4 * exponent as i64;
        let mant = BigInt::from(m);
        let mantissa = if shift >= 0 {
            if 53 + shift as u64 > MAX_MODULUS_BITS {
                return Err(Error::EncodingOutOfRange);
            }
            mant << (shift as u64)
        } else {
            let s = (-shift) as u64;
            if s > 1100 {
                BigInt::zero()
            } else {
                let half = BigInt::one() << (s - 1);
                let mag = mant.magnitude().clone();
                let r: BigInt = ((BigInt::from(mag) + half) >> s) * mant.signum();
                r
            }
        };
        Ok(EncodedNumber { mantissa, exponent })
    }

    /// The mantissa.
    pub fn mantissa(&self) -> &BigInt {
        &self.mantissa
    }

    /// The base-16 exponent.
    pub fn exponent(&self) -> i32 {
        self.exponent
    }

    /// The same value at a lower exponent (mantissa times `16^(old - new)`).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if `new_exponent > exponent`.
    pub fn decrease_exponent_to(&self, new_exponent: i32) -> Result<Self> {
        if new_exponent > self.exponent {
            return Err(Error::InvalidParameter {
                reason: "new exponent must not exceed the current one",
            });
        }
        let diff = (self.exponent as i64 - new_exponent as i64) as u64;
        if self.mantissa.is_zero() {
            return Ok(EncodedNumber {
                mantissa: BigInt::zero(),
                exponent: new_exponent,
            });
        }
        // No key can encode a mantissa wider than the largest modulus; refuse
        // before shifting (the exponents may come from untrusted bytes).
        if self.mantissa.bits().saturating_add(4 * diff) > MAX_MODULUS_BITS {
            return Err(Error::EncodingOutOfRange);
        }
        Ok(EncodedNumber {
            mantissa: &self.mantissa << (4 * diff),
            exponent: new_exponent,
        })
    }

    /// The exact integer value if the number is integral.
    ///
    /// # Errors
    /// [`Error::DoesNotFit`] if it has a fractional part.
    pub fn to_int(&self) -> Result<BigInt> {
        if self.mantissa.is_zero() {
            return Ok(BigInt::zero());
        }
        if self.exponent >= 0 {
            let shift = 4 * self.exponent as u64;
            if self.mantissa.bits().saturating_add(shift) > 2 * MAX_MODULUS_BITS {
                return Err(Error::DoesNotFit { target: "integer" });
            }
            Ok(&self.mantissa << shift)
        } else {
            let s = 4 * (-(self.exponent as i64)) as u64;
            if s >= self.mantissa.bits() {
                // 0 < |mantissa| < 16^-exponent: a nonzero fraction
                return Err(Error::DoesNotFit { target: "integer" });
            }
            let d = BigInt::one() << s;
            let (q, r) = self.mantissa.div_rem(&d);
            if r.is_zero() {
                Ok(q)
            } else {
                Err(Error::DoesNotFit { target: "integer" })
            }
        }
    }

    /// The nearest `f64` (mantissa truncated to 64 significant bits first).
    ///
    /// # Errors
    /// [`Error::DoesNotFit`] if the magnitude exceeds `f64::MAX`.
    pub fn to_f64(&self) -> Result<f64> {
        if self.mantissa.is_zero() {
            return Ok(0.0);
        }
        let bits = self.mantissa.bits();
        let drop = bits.saturating_sub(64);
        let top = (self.mantissa.magnitude() >> drop)
            .to_u64()
            .unwrap_or(u64::MAX) as f64;
        let e2 = drop as i64 + 4 * self.exponent as i64;
        let v = ldexp(top, e2);
        if !v.is_finite() {
            return Err(Error::DoesNotFit { target: "f64" });
        }
        Ok(if self.mantissa.is_negative() { -v } else { v })
    }
}

/// `x · 2^e` without intermediate overflow or underflow for the ranges used.
fn ldexp(mut x: f64, mut e: i64) -> f64 {
    while e > 1000 {
        x *= 2f64.powi(1000);
        e -= 1000;
        if x.is_infinite() {
            return x;
        }
    }
    while e < -1000 {
        x *= 2f64.powi(-1000);
        e += 1000;
        if x == 0.0 {
            return x;
        }
    }
    x * 2f64.powi(e as i32)
}

/// An encrypted fixed-point number: a ciphertext of the mantissa and the
/// (public) exponent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedNumber {
    pub(crate) ct: Ciphertext,
    pub(crate) exponent: i32,
}

impl EncryptedNumber {
    /// Wraps a ciphertext of a signed mantissa with its exponent.
    pub fn new(ct: Ciphertext, exponent: i32) -> Self {
        EncryptedNumber { ct, exponent }
    }

    /// The ciphertext of the mantissa.
    pub fn ciphertext(&self) -> &Ciphertext {
        &self.ct
    }

    /// The base-16 exponent.
    pub fn exponent(&self) -> i32 {
        self.exponent
    }

    /// The same value at a lower exponent (ciphertext times `16^(old-new)`).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if `new_exponent > exponent`.
    pub fn decrease_exponent_to(&self, new_exponent: i32) -> Result<Self> {
        if new_exponent > self.exponent {
            return Err(Error::InvalidParameter {
                reason: "new exponent must not exceed the current one",
            });
        }
        let diff = (self.exponent as i64 - new_exponent as i64) as u64;
        if diff == 0 {
            return Ok(self.clone());
        }
        if 4 * diff >= self.ct.public_key().bits() {
            // The factor 16^diff alone would wrap modulo n.
            return Err(Error::Overflow);
        }
        let factor = BigInt::one() << (4 * diff);
        Ok(EncryptedNumber {
            ct: self.ct.mul_scalar(&factor),
            exponent: new_exponent,
        })
    }

    /// Encrypted sum (exponents aligned to the smaller one).
    ///
    /// # Errors
    /// [`Error::KeyMismatch`] for numbers under different keys.
    pub fn add(&self, other: &EncryptedNumber) -> Result<EncryptedNumber> {
        if self.ct.public_key() != other.ct.public_key() {
            return Err(Error::KeyMismatch);
        }
        let e = self.exponent.min(other.exponent);
        let a = self.decrease_exponent_to(e)?;
        let b = other.decrease_exponent_to(e)?;
        Ok(EncryptedNumber {
            ct: a.ct.add(&b.ct)?,
            exponent: e,
        })
    }

    /// Encrypted difference.
    ///
    /// # Errors
    /// [`Error::KeyMismatch`] for numbers under different keys.
    pub fn sub(&self, other: &EncryptedNumber) -> Result<EncryptedNumber> {
        self.add(&other.neg())
    }

    /// Negation.
    pub fn neg(&self) -> EncryptedNumber {
        EncryptedNumber {
            ct: self.ct.neg(),
            exponent: self.exponent,
        }
    }

    /// Adds a plaintext number (exponents aligned).
    ///
    /// # Errors
    /// [`Error::EncodingOutOfRange`] if the aligned mantissa does not fit.
    pub fn add_encoded(&self, x: &EncodedNumber) -> Result<EncryptedNumber> {
        let e = self.exponent.min(x.exponent);
        let a = self.decrease_exponent_to(e)?;
        let xm = x.decrease_exponent_to(e)?;
        Ok(EncryptedNumber {
            ct: a.ct.add_plain_signed(&xm.mantissa)?,
            exponent: e,
        })
    }

    /// Adds a float.
    ///
    /// # Errors
    /// As [`Self::add_encoded`] and [`EncodedNumber::from_f64`].
    pub fn add_f64(&self, x: f64) -> Result<EncryptedNumber> {
        self.add_encoded(&EncodedNumber::from_f64(x)?)
    }

    /// Multiplies by a plaintext number (exponents add).
    ///
    /// # Errors
    /// [`Error::EncodingOutOfRange`] if `|mantissa| > max_int`;
    /// [`Error::Overflow`] if the exponent sum overflows `i32`.
    pub fn mul_encoded(&self, x: &EncodedNumber) -> Result<EncryptedNumber> {
        if x.mantissa.magnitude() > self.ct.public_key().max_int() {
            return Err(Error::EncodingOutOfRange);
        }
        let exponent = self
            .exponent
            .checked_add(x.exponent)
            .ok_or(Error::Overflow)?;
        Ok(EncryptedNumber {
            ct: self.ct.mul_scalar(&x.mantissa),
            exponent,
        })
    }

    /// Multiplies by a float.
    ///
    /// # Errors
    /// As [`Self::mul_encoded`] and [`EncodedNumber::from_f64`].
    pub fn mul_f64(&self, x: f64) -> Result<EncryptedNumber> {
        self.mul_encoded(&EncodedNumber::from_f64(x)?)
    }
}
