//! Packing many bounded integers into one plaintext.
//!
//! A [`Packer`] splits the plaintext into `slots` slots of `slot_bits` bits:
//! `value_bits` for a value plus enough headroom that the sum of
//! `max_terms` values (fresh packed ciphertexts added together) cannot carry
//! into the next slot. Packed ciphertexts count the terms they hold, and an
//! addition or scalar multiplication that would exceed the headroom is
//! refused with [`Error::HeadroomExceeded`] — never a silent carry.
//!
//! ```
//! # use paillier::*;
//! let (pk, sk) = paillier::test_keys::small_keypair()?; // 256-bit demo key
//! let mut rng = rand::thread_rng();
//! let packer = Packer::new(&pk, 16, 10)?;             // 16-bit values, 10 additions
//! let a = packer.encrypt(&pk, &[1, 2, 3], &mut rng)?;
//! let b = packer.encrypt(&pk, &[10, 20, 30], &mut rng)?;
//! let sum = a.add(&b)?;
//! assert_eq!(packer.decrypt(&sk, &sum)?, vec![11, 22, 33]);
//! # Ok::<(), paillier::Error>(())
//! ```

use num_bigint::BigUint;
use num_traits::{ToPrimitive, Zero};
use rand_core::{CryptoRng, RngCore};

use crate::ciphertext::Ciphertext;
use crate::error::{Error, Result};
use crate::keys::{PublicKey, SecretKey};

/// Slot layout for packing unsigned values of at most `value_bits` bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packer {
    value_bits: u32,
    slot_bits: u32,
    slots: usize,
    capacity: u64,
}

impl Packer {
    /// Layout for `value_bits`-bit values (1..=64) that leaves room for
    /// `max_additions` additions (`max_additions + 1` terms per slot).
    ///
    /// # Errors
    /// [`Error::Packing`] if `value_bits` is 0 or above 64, the slot would
    /// exceed 128 bits, or not even one slot fits in the key.
    pub fn new(pk: &PublicKey, value_bits: u32, max_additions: u64) -> Result<Self> {
        if value_bits == 0 || value_bits > 64 {
            return Err(Error::Packing {
                reason: "value_bits must be in 1..=64",
            });
        }
        let terms = max_additions.checked_add(1).ok_or(Error::Packing {
            reason: "too many additions",
        })?;
        // Sum of `terms` values < terms * 2^value_bits <= 2^(value_bits + headroom).
        let headroom = 64 - (terms - 1).leading_zeros();
        let slot_bits = value_bits + headroom;
        if slot_bits > 128 {
            return Err(Error::Packing {
                reason: "slot wider than 128 bits",
            });
        }
        // Plaintext must stay below n: use n_bits - 1 bits.
        let usable = pk.bits().saturating_sub(1);
        let slots = (usable / slot_bits as u64) as usize;
        if slots == 0 {
            return Err(Error::Packing {
                reason: "key too small for one slot",
            });
        }
        let slot_max: u128 = if slot_bits == 128 {
            u128::MAX
        } else {
            (1u128 << slot_bits) - 1
        };
        let value_max: u128 = (1u128 << value_bits) - 1;
        let capacity = (slot_max / value_max).min(u64::MAX as u128) as u64;
        Ok(Packer {
            value_bits,
            slot_bits,
            slots,
            capacity,
        })
    }

    /// Values per ciphertext.
    pub fn slots(&self) -> usize {
        self.slots
    }

    /// Bits per slot (value plus headroom).
    pub fn slot_bits(&self) -> u32 {
        self.slot_bits
    }

    /// Bits per value.
    pub fn value_bits(&self) -> u32 {
        self.value_bits
    }

    /// Most terms a slot can hold without carrying.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// The packed plaintext `Σ values[i] · 2^(i · slot_bits)`.
    ///
    /// # Errors
    /// [`Error::Packing`] for too many values or a value wider than
    /// `value_bits`.
    pub fn pack(&self, values: &[u64]) -> Result<BigUint> {
        if values.len() > self.slots {
            return Err(Error::Packing {
                reason: "more values than slots",
            });
        }
        let mut acc = BigUint::zero();
        for &v in values.iter().rev() {
            if self.value_bits < 64 && v >> self.value_bits != 0 {
                return Err(Error::Packing {
                    reason: "value wider than value_bits",
                });
            }
            acc <<= self.slot_bits as usize;
            acc += v;
        }
        Ok(acc)
    }

    /// Splits a packed plaintext into `len` slot values.
    ///
    /// # Errors
    /// [`Error::Packing`] if `len` exceeds the slot count.
    pub fn unpack(&self, m: &BigUint, len: usize) -> Result<Vec<u128>> {
        if len > self.slots {
            return Err(Error::Packing {
                reason: "more values than slots",
            });
        }
        let mask = if self.slot_bits == 128 {
            BigUint::from(u128::MAX)
        } else {
            BigUint::from((1u128 << self.slot_bits) - 1)
        };
        let mut out = Vec::with_capacity(len);
        let mut x = m.clone();
        for _ in 0..len {
            out.push((&x & &mask).to_u128().unwrap_or(0));
            x >>= self.slot_bits as usize;
        }
        Ok(out)
    }

    /// Packs and encrypts up to `slots` values.
    ///
    /// # Errors
    /// As [`Self::pack`].
    pub fn encrypt<R: RngCore + CryptoRng>(
        &self,
        pk: &PublicKey,
        values: &[u64],
        rng: &mut R,
    ) -> Result<PackedCiphertext> {
        let m = self.pack(values)?;
        Ok(PackedCiphertext {
            ct: pk.encrypt(&m, rng)?,
            layout: *self,
            len: values.len(),
            terms: 1,
        })
    }

    /// Decrypts and unpacks the slot sums.
    ///
    /// # Errors
    /// [`Error::Packing`] if the ciphertext uses another layout;
    /// [`Error::KeyMismatch`] for another key.
    pub fn decrypt(&self, sk: &SecretKey, ct: &PackedCiphertext) -> Result<Vec<u128>> {
        if ct.layout != *self {
            return Err(Error::Packing {
                reason: "layout mismatch",
            });
        }
        let m = sk.decrypt(&ct.ct)?;
        self.unpack(&m, ct.len)
    }
}

/// A ciphertext of packed values, with the number of terms each slot holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackedCiphertext {
    ct: Ciphertext,
    layout: Packer,
    len: usize,
    terms: u64,
}

impl PackedCiphertext {
    /// The underlying ciphertext.
    pub fn ciphertext(&self) -> &Ciphertext {
        &self.ct
    }

    /// Number of occupied slots.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no slot is occupied.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of packed plaintexts summed into each slot so far.
    pub fn terms(&self) -> u64 {
        self.terms
    }

    /// Slot-wise sum.
    ///
    /// # Errors
    /// [`Error::HeadroomExceeded`] if the slots could carry;
    /// [`Error::Packing`] for different layouts; [`Error::KeyMismatch`].
    pub fn add(&self, other: &PackedCiphertext) -> Result<PackedCiphertext> {
        if self.layout != other.layout {
            return Err(Error::Packing {
                reason: "layout mismatch",
            });
        }
        let needed = self.terms.saturating_add(other.terms);
        if needed > self.layout.capacity {
            return Err(Error::HeadroomExceeded {
                needed,
                capacity: self.layout.capacity,
            });
        }
        Ok(PackedCiphertext {
            ct: self.ct.add(&other.ct)?,
            layout: self.layout,
            len: self.len.max(other.len),
            terms: needed,
        })
    }

    /// Slot-wise multiplication by a small non-negative scalar.
    ///
    /// # Errors
    /// [`Error::HeadroomExceeded`] if the slots could carry.
    pub fn mul_scalar(&self, k: u64) -> Result<PackedCiphertext> {
        let needed = self.terms.saturating_mul(k);
        if needed > self.layout.capacity {
            return Err(Error::HeadroomExceeded {
                needed,
                capacity: self.layout.capacity,
            });
        }
        Ok(PackedCiphertext {
            ct: self.ct.mul_scalar(&k.into()),
            layout: self.layout,
            len: self.len,
            terms: needed,
        })
    }
}
