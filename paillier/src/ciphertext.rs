//! Ciphertexts and the homomorphic operations.
//!
//! A [`Ciphertext`] carries (a shared handle to) its [`PublicKey`], so every
//! binary operation checks that both operands belong to the same key and
//! returns [`Error::KeyMismatch`] otherwise — never a wrong answer and never
//! a panic. For that reason the binary operators return `Result`:
//!
//! ```
//! # use paillier::*;
//! # use num_bigint::BigUint;
//! # let (pk, sk) = paillier::test_keys::small_keypair()?;
//! # let mut rng = rand::thread_rng();
//! let a = pk.encrypt(&BigUint::from(20u32), &mut rng)?;
//! let b = pk.encrypt(&BigUint::from(22u32), &mut rng)?;
//! let total = (&a + &b)?;           // checked: same key
//! let doubled = &total * 2i64;       // scalar multiply cannot fail
//! assert_eq!(sk.decrypt(&doubled)?, BigUint::from(84u32));
//! # Ok::<(), paillier::Error>(())
//! ```

use core::ops::{Add, Mul, Neg, Sub};

use num_bigint::{BigInt, BigUint, Sign};
use num_traits::{One, Zero};
use rand_core::{CryptoRng, RngCore};

use crate::error::{Error, Result};
use crate::keys::{PublicKey, ZeroizeBigUint};

/// A Paillier ciphertext `c ∈ Z_{n^2}^*`, tied to its public key.
#[derive(Clone)]
pub struct Ciphertext {
    c: BigUint,
    pk: PublicKey,
}

impl core::fmt::Debug for Ciphertext {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Ciphertext")
            .field("key", &format_args!("{:016x}", self.pk.fingerprint()))
            .field("bits", &self.c.bits())
            .finish()
    }
}

impl PartialEq for Ciphertext {
    fn eq(&self, other: &Self) -> bool {
        self.pk == other.pk && self.c == other.c
    }
}
impl Eq for Ciphertext {}

impl Ciphertext {
    /// Wraps a value known to be a valid ciphertext under `pk`.
    pub(crate) fn new_unchecked(c: BigUint, pk: PublicKey) -> Self {
        Ciphertext { c, pk }
    }

    /// The ciphertext value `c ∈ [1, n^2)`.
    pub fn value(&self) -> &BigUint {
        &self.c
    }

    /// The key this ciphertext belongs to.
    pub fn public_key(&self) -> &PublicKey {
        &self.pk
    }

    fn same_key(&self, other: &Ciphertext) -> Result<()> {
        if self.pk != other.pk {
            return Err(Error::KeyMismatch);
        }
        Ok(())
    }

    fn nn(&self) -> &BigUint {
        self.pk.n_squared()
    }

    /// `Enc(a + b)`: the product of the ciphertexts mod `n^2`.
    ///
    /// # Errors
    /// [`Error::KeyMismatch`] if the operands belong to different keys.
    pub fn add(&self, other: &Ciphertext) -> Result<Ciphertext> {
        self.same_key(other)?;
        Ok(Ciphertext {
            c: (&self.c * &other.c) % self.nn(),
            pk: self.pk.clone(),
        })
    }

    /// `Enc(a - b)`.
    ///
    /// # Errors
    /// [`Error::KeyMismatch`] if the operands belong to different keys.
    pub fn sub(&self, other: &Ciphertext) -> Result<Ciphertext> {
        self.same_key(other)?;
        Ok(Ciphertext {
            c: (&self.c * inverse(&other.c, self.nn())) % self.nn(),
            pk: self.pk.clone(),
        })
    }

    /// `Enc(-a)` (the inverse mod `n^2`).
    pub fn neg(&self) -> Ciphertext {
        Ciphertext {
            c: inverse(&self.c, self.nn()),
            pk: self.pk.clone(),
        }
    }

    /// `Enc(a + m)` for a raw plaintext `m ∈ [0, n)`: `c (1 + m n) mod n^2`.
    ///
    /// # Errors
    /// [`Error::PlaintextOutOfRange`] if `m >= n`.
    pub fn add_plain(&self, m: &BigUint) -> Result<Ciphertext> {
        self.pk.check_plaintext(m)?;
        Ok(Ciphertext {
            c: self.pk.apply_message(m, &self.c),
            pk: self.pk.clone(),
        })
    }

    /// `Enc(a + v)` for a signed `v` with `|v| <= max_int`.
    ///
    /// # Errors
    /// [`Error::EncodingOutOfRange`] if `|v| > max_int`.
    pub fn add_plain_signed(&self, v: &BigInt) -> Result<Ciphertext> {
        let m = crate::encoding::encode_signed(&self.pk, v)?;
        self.add_plain(&m)
    }

    /// `Enc(k a)` for any signed scalar `k` (`c^k`, through the inverse for
    /// negative `k`; `|k|` is reduced mod `n`). Variable time in `k` (a
    /// public scalar).
    pub fn mul_scalar(&self, k: &BigInt) -> Ciphertext {
        let n = self.pk.n();
        let mag = k.magnitude();
        let mag = if mag >= n { mag % n } else { mag.clone() };
        if mag.is_zero() {
            return Ciphertext {
                c: BigUint::one(),
                pk: self.pk.clone(),
            };
        }
        let base = if k.sign() == Sign::Minus {
            inverse(&self.c, self.nn())
        } else {
            self.c.clone()
        };
        let c = self.pk.pow_nn(&base, &mag);
        Ciphertext {
            c,
            pk: self.pk.clone(),
        }
    }

    /// `Enc(k a)` for an `i64` scalar.
    pub fn mul_i64(&self, k: i64) -> Ciphertext {
        self.mul_scalar(&BigInt::from(k))
    }

    /// A fresh-looking encryption of the same plaintext: `c r^n mod n^2`.
    pub fn rerandomize<R: RngCore + CryptoRng>(&self, rng: &mut R) -> Ciphertext {
        let mut r = self.pk.random_r(rng);
        let u = self.pk.pow_nn(&r, self.pk.n());
        r.zeroize_biguint();
        Ciphertext {
            c: (&self.c * u) % self.nn(),
            pk: self.pk.clone(),
        }
    }
}

/// Inverse of a unit mod `nn` (ciphertexts are validated units, so this
/// always exists; `1` is returned defensively otherwise).
fn inverse(c: &BigUint, nn: &BigUint) -> BigUint {
    c.modinv(nn).unwrap_or_else(BigUint::one)
}

// `+` and `-` return `Result` (the key of each operand is a run-time value;
// mixing keys is `Error::KeyMismatch`), with a `Result` accepted on either
// side so that `(&a + &b - &c)?` chains; `-` alone cannot fail. The same
// shape as the lattice schemes' ciphertexts (`rlwe::ops`).
macro_rules! result_ops {
    ($t:ty) => {
        result_ops!(@bin $t, Add, add);
        result_ops!(@bin $t, Sub, sub);
        impl Neg for &$t {
            type Output = $t;
            fn neg(self) -> $t {
                <$t>::neg(self)
            }
        }
        impl<'a> core::iter::Sum<&'a $t> for Result<$t> {
            /// The homomorphic sum; an empty iterator is
            /// [`Error::InvalidParameter`].
            fn sum<I: Iterator<Item = &'a $t>>(mut iter: I) -> Self {
                let first = iter.next().ok_or(Error::InvalidParameter {
                    reason: "sum of no ciphertexts",
                })?;
                iter.try_fold(first.clone(), |acc, x| acc.add(x))
            }
        }
    };
    (@bin $t:ty, $tr:ident, $m:ident) => {
        impl $tr<&$t> for &$t {
            type Output = Result<$t>;
            fn $m(self, rhs: &$t) -> Result<$t> {
                <$t>::$m(self, rhs)
            }
        }
        impl $tr<&$t> for Result<$t> {
            type Output = Result<$t>;
            fn $m(self, rhs: &$t) -> Result<$t> {
                <$t>::$m(&self?, rhs)
            }
        }
        impl $tr<Result<$t>> for &$t {
            type Output = Result<$t>;
            fn $m(self, rhs: Result<$t>) -> Result<$t> {
                <$t>::$m(self, &rhs?)
            }
        }
    };
}

result_ops!(Ciphertext);
result_ops!(crate::encoding::EncryptedNumber);

impl Add<&BigUint> for &Ciphertext {
    type Output = Result<Ciphertext>;
    fn add(self, rhs: &BigUint) -> Result<Ciphertext> {
        self.add_plain(rhs)
    }
}

impl Mul<i64> for &Ciphertext {
    type Output = Ciphertext;
    fn mul(self, rhs: i64) -> Ciphertext {
        self.mul_i64(rhs)
    }
}

impl Mul<&BigInt> for &Ciphertext {
    type Output = Ciphertext;
    fn mul(self, rhs: &BigInt) -> Ciphertext {
        self.mul_scalar(rhs)
    }
}
