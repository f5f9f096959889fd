//! Versioned, validated serialization (serde + postcard).
//!
//! Every object is written as a small "wire" struct in the
//! [postcard](https://docs.rs/postcard) format that starts with a version
//! tag (a varint `u16`). Reading checks the version, the length limit (no
//! object is larger than [`MAX_SERIALIZED_BYTES`]), rejects trailing bytes, and
//! validates every value: moduli through the key constructors, ciphertexts
//! through [`PublicKey::ciphertext`] (`c ∈ [1, n^2)`, `gcd(c, n) = 1`) and
//! the key fingerprint they carry.
//!
//! Ciphertexts cannot be validated without their key, so they are read with
//! [`PublicKey::ciphertext_from_bytes`] (or deserialized as a
//! [`CiphertextWire`] and imported with [`PublicKey::import_ciphertext`]).
//!
//! | version | format | read by this build |
//! |---|---|---|
//! | 1 | bincode 1.x (fixed-width little-endian integers), hekit 0.1 | no: [`Error::RetiredVersion`] — re-serialize with this version |
//! | 2 | postcard 1.x | yes |
//!
//! A version-1 object starts with the bytes `01 00` (its `u16` version),
//! which postcard reads as the varint 1: the version is checked before the
//! rest is decoded, so old bytes are refused as such and never decoded as
//! something else.

use num_bigint::{BigInt, BigUint, Sign};
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use crate::ciphertext::Ciphertext;
use crate::encoding::{EncodedNumber, EncryptedNumber};
use crate::error::{Error, Result};
use crate::keys::{PublicKey, SecretKey, MAX_MODULUS_BITS, MIN_SECURE_BITS};

/// The serialization format version this library writes and reads.
pub const VERSION: u16 = 2;

/// Upper bound on any serialized object (bytes).
pub const MAX_SERIALIZED_BYTES: u64 = 8 * 1024;

/// Largest big-integer field (bytes): an `n^2` of the largest modulus.
const MAX_INT_BYTES: usize = (2 * MAX_MODULUS_BITS as usize).div_ceil(8);

/// The last version whose format was bincode 1.x (hekit 0.1).
pub const BINCODE_VERSION: u16 = 1;

fn to_bytes<T: Serialize>(v: &T) -> Vec<u8> {
    // Serializing these plain structs into a Vec cannot fail; an empty
    // vector would be rejected on the way back in anyway.
    postcard::to_allocvec(v).unwrap_or_default()
}

/// Reads `bytes` as one `T` (every wire struct starts with its version):
/// the size limit is checked first, then the version, then the whole
/// object, which must use every byte.
fn from_bytes<'a, T: Deserialize<'a>>(bytes: &'a [u8], what: &'static str) -> Result<T> {
    if bytes.len() as u64 > MAX_SERIALIZED_BYTES {
        return Err(Error::Malformed { what });
    }
    let (version, _) =
        postcard::take_from_bytes::<u16>(bytes).map_err(|_| Error::Malformed { what })?;
    check_version(version)?;
    match postcard::take_from_bytes(bytes) {
        Ok((v, [])) => Ok(v),
        _ => Err(Error::Malformed { what }),
    }
}

fn size_of<T: Serialize>(v: &T) -> u64 {
    postcard::serialize_with_flavor(v, postcard::ser_flavors::Size::default()).unwrap_or(0) as u64
}

fn check_version(found: u16) -> Result<()> {
    if found == BINCODE_VERSION {
        return Err(Error::RetiredVersion { version: found });
    }
    if found != VERSION {
        return Err(Error::UnknownVersion {
            found,
            expected: VERSION,
        });
    }
    Ok(())
}

fn int_from(bytes: &[u8], what: &'static str) -> Result<BigUint> {
    if bytes.is_empty() || bytes.len() > MAX_INT_BYTES {
        return Err(Error::Malformed { what });
    }
    Ok(BigUint::from_bytes_be(bytes))
}

/// Serialized public key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PublicKeyWire {
    version: u16,
    /// Set for keys below 2048 bits: the insecure opt-out travels with the
    /// key, and such keys are refused on the way in without it.
    insecure: bool,
    n: Vec<u8>,
}

impl From<PublicKey> for PublicKeyWire {
    fn from(pk: PublicKey) -> Self {
        PublicKeyWire {
            version: VERSION,
            insecure: pk.bits() < MIN_SECURE_BITS,
            n: pk.n().to_bytes_be(),
        }
    }
}

impl TryFrom<PublicKeyWire> for PublicKey {
    type Error = Error;
    fn try_from(w: PublicKeyWire) -> Result<Self> {
        check_version(w.version)?;
        let n = int_from(&w.n, "public key")?;
        PublicKey::new_checked(n, w.insecure)
    }
}

impl Serialize for PublicKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        PublicKeyWire::from(self.clone()).serialize(s)
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> core::result::Result<Self, D::Error> {
        let w = PublicKeyWire::deserialize(d)?;
        PublicKey::try_from(w).map_err(serde::de::Error::custom)
    }
}

impl PublicKey {
    /// Versioned bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        to_bytes(&PublicKeyWire::from(self.clone()))
    }

    /// Reads and validates a public key.
    ///
    /// # Errors
    /// [`Error::Malformed`], [`Error::UnknownVersion`], or the key
    /// constructor's errors.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        PublicKey::try_from(from_bytes::<PublicKeyWire>(bytes, "public key")?)
    }

    /// Length of [`Self::to_bytes`].
    pub fn serialized_size(&self) -> u64 {
        size_of(&PublicKeyWire::from(self.clone()))
    }

    /// Reads a ciphertext and validates it against this key.
    ///
    /// # Errors
    /// [`Error::Malformed`] (truncated, trailing or oversized bytes),
    /// [`Error::UnknownVersion`], [`Error::KeyMismatch`] (fingerprint of
    /// another key), [`Error::InvalidCiphertext`].
    pub fn ciphertext_from_bytes(&self, bytes: &[u8]) -> Result<Ciphertext> {
        self.import_ciphertext(from_bytes::<CiphertextWire>(bytes, "ciphertext")?)
    }

    /// Validates a deserialized ciphertext against this key.
    ///
    /// # Errors
    /// As [`Self::ciphertext_from_bytes`].
    pub fn import_ciphertext(&self, w: CiphertextWire) -> Result<Ciphertext> {
        check_version(w.version)?;
        if w.key != self.fingerprint() {
            return Err(Error::KeyMismatch);
        }
        if w.c.len() > self.n_squared().bits().div_ceil(8) as usize {
            return Err(Error::InvalidCiphertext {
                reason: "ciphertext is not below n^2",
            });
        }
        let c = int_from(&w.c, "ciphertext")?;
        self.ciphertext(c)
    }

    /// Reads an encrypted number and validates it against this key.
    ///
    /// # Errors
    /// As [`Self::ciphertext_from_bytes`].
    pub fn encrypted_number_from_bytes(&self, bytes: &[u8]) -> Result<EncryptedNumber> {
        let w = from_bytes::<EncryptedNumberWire>(bytes, "encrypted number")?;
        let ct = self.import_ciphertext(w.ct)?;
        Ok(EncryptedNumber::new(ct, w.exponent))
    }
}

/// Serialized private key (the primes; every constant is recomputed and the
/// primes re-tested on the way in). Wiped on drop.
#[derive(Serialize, Deserialize)]
struct PrivateKeyWire {
    version: u16,
    insecure: bool,
    p: Vec<u8>,
    q: Vec<u8>,
}

impl Drop for PrivateKeyWire {
    fn drop(&mut self) {
        self.p.zeroize();
        self.q.zeroize();
    }
}

impl SecretKey {
    fn wire(&self) -> PrivateKeyWire {
        let (mut p, mut q) = self.primes();
        let w = PrivateKeyWire {
            version: VERSION,
            insecure: self.public_key().bits() < MIN_SECURE_BITS,
            p: p.to_bytes_be(),
            q: q.to_bytes_be(),
        };
        crate::keys::ZeroizeBigUint::zeroize_biguint(&mut p);
        crate::keys::ZeroizeBigUint::zeroize_biguint(&mut q);
        w
    }

    /// Versioned bytes (secret: returned in a buffer wiped on drop).
    pub fn to_bytes(&self) -> zeroize::Zeroizing<Vec<u8>> {
        zeroize::Zeroizing::new(to_bytes(&self.wire()))
    }

    /// Length of [`Self::to_bytes`].
    pub fn serialized_size(&self) -> u64 {
        size_of(&self.wire())
    }

    /// Reads and validates a private key.
    ///
    /// # Errors
    /// [`Error::Malformed`], [`Error::UnknownVersion`], or the errors of
    /// [`SecretKey::from_primes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let w: PrivateKeyWire = from_bytes(bytes, "private key")?;
        Self::from_wire(&w)
    }

    fn from_wire(w: &PrivateKeyWire) -> Result<Self> {
        check_version(w.version)?;
        let p = int_from(&w.p, "private key")?;
        let q = int_from(&w.q, "private key")?;
        SecretKey::build(p, q, w.insecure, true)
    }
}

impl Serialize for SecretKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        self.wire().serialize(s)
    }
}

impl<'de> Deserialize<'de> for SecretKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> core::result::Result<Self, D::Error> {
        let w = PrivateKeyWire::deserialize(d)?;
        SecretKey::from_wire(&w).map_err(serde::de::Error::custom)
    }
}

/// Serialized ciphertext: version, key fingerprint (a varint), `c` as
/// fixed-length big-endian bytes (the length of `n^2`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CiphertextWire {
    version: u16,
    key: u64,
    c: Vec<u8>,
}

impl From<&Ciphertext> for CiphertextWire {
    fn from(ct: &Ciphertext) -> Self {
        let len = ct.public_key().n_squared().bits().div_ceil(8) as usize;
        let raw = ct.value().to_bytes_be();
        let mut c = vec![0u8; len.saturating_sub(raw.len())];
        c.extend_from_slice(&raw);
        CiphertextWire {
            version: VERSION,
            key: ct.public_key().fingerprint(),
            c,
        }
    }
}

impl Serialize for Ciphertext {
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        CiphertextWire::from(self).serialize(s)
    }
}

impl Ciphertext {
    /// Versioned bytes; read back with [`PublicKey::ciphertext_from_bytes`].
    pub fn to_bytes(&self) -> Vec<u8> {
        to_bytes(&CiphertextWire::from(self))
    }

    /// Length of [`Self::to_bytes`].
    pub fn serialized_size(&self) -> u64 {
        size_of(&CiphertextWire::from(self))
    }
}

/// Serialized encrypted number.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EncryptedNumberWire {
    ct: CiphertextWire,
    exponent: i32,
}

impl Serialize for EncryptedNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        EncryptedNumberWire {
            ct: CiphertextWire::from(self.ciphertext()),
            exponent: self.exponent(),
        }
        .serialize(s)
    }
}

impl EncryptedNumber {
    /// Versioned bytes; read back with
    /// [`PublicKey::encrypted_number_from_bytes`].
    pub fn to_bytes(&self) -> Vec<u8> {
        to_bytes(self)
    }

    /// Length of [`Self::to_bytes`].
    pub fn serialized_size(&self) -> u64 {
        size_of(self)
    }
}

/// Serialized encoded number.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EncodedNumberWire {
    version: u16,
    negative: bool,
    magnitude: Vec<u8>,
    exponent: i32,
}

impl From<EncodedNumber> for EncodedNumberWire {
    fn from(x: EncodedNumber) -> Self {
        EncodedNumberWire {
            version: VERSION,
            negative: x.mantissa().sign() == Sign::Minus,
            magnitude: x.mantissa().magnitude().to_bytes_be(),
            exponent: x.exponent(),
        }
    }
}

impl TryFrom<EncodedNumberWire> for EncodedNumber {
    type Error = Error;
    fn try_from(w: EncodedNumberWire) -> Result<Self> {
        check_version(w.version)?;
        let mag = int_from(&w.magnitude, "encoded number")?;
        let sign = if w.negative { Sign::Minus } else { Sign::Plus };
        Ok(EncodedNumber::new(
            BigInt::from_biguint(sign, mag),
            w.exponent,
        ))
    }
}

impl EncodedNumber {
    /// Versioned bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        to_bytes(self)
    }

    /// Reads an encoded number.
    ///
    /// # Errors
    /// [`Error::Malformed`] or [`Error::UnknownVersion`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let w: EncodedNumberWire = from_bytes(bytes, "encoded number")?;
        EncodedNumber::try_from(w)
    }

    /// Length of [`Self::to_bytes`].
    pub fn serialized_size(&self) -> u64 {
        size_of(self)
    }
}
