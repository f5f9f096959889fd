//! Versioned, validated serialization (serde + postcard) of the threshold
//! Paillier objects.
//!
//! Every object is written as a "wire" struct in the
//! [postcard](https://docs.rs/postcard) format, starting with a version tag
//! (a varint `u16`). Reading checks a length limit, then the version (before
//! the rest is decoded), rejects trailing bytes and
//! non-canonical integers (leading zero bytes), then validates the values:
//! public parameters through [`PublicParams::from_parts`] (modulus, `t`,
//! party count, `v` and every `v_i` units below `n^{s+1}`); partial decryptions
//! against the parameters (key, party id in `1..=n`, `c_i` a unit below
//! `n^{s+1}`, response size); key shares additionally against their
//! verification key (`v^{Δ s_i} = v_i`).
//!
//! | version | format | read by this build |
//! |---|---|---|
//! | 1 | bincode 1.x (fixed-width little-endian integers), hekit 0.1 | no: [`Error::Malformed`] saying so — re-serialize with this version |
//! | 2 | postcard 1.x | yes |
//!
//! A version-1 object starts with the bytes `01 00`, which postcard reads
//! as the varint 1, so old bytes are refused as such.

use num_bigint::BigUint;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use super::proof::{be_bytes_to_limbs, limbs_lt, limbs_to_be_bytes, to_limbs};
use super::{DjCiphertext, KeyShare, PartialDecryption, Proof, PublicParams, MAX_PARTIES};
use crate::{Error, PartyId, Result};
use ::paillier::{MAX_MODULUS_BITS, MIN_SECURE_BITS};

/// The serialization format version this module writes and reads.
pub const VERSION: u16 = 2;
/// The last version whose format was bincode 1.x (hekit 0.1).
const BINCODE_VERSION: u16 = 1;

/// Largest value below `n^{s+1}` (bytes).
const MAX_INT_BYTES: usize = (2 * MAX_MODULUS_BITS as usize).div_ceil(8);
/// Largest proof response (bytes): `|n^{s+1}| + |Δ| + 640` bits at the largest
/// modulus and party count, rounded up generously.
const MAX_Z_BYTES: usize = 4096;
/// Longest postcard length prefix (a varint of a 64-bit length).
const LEN_PREFIX: usize = 10;
/// Limit on serialized public parameters: `n`, `v` and `MAX_PARTIES`
/// verification keys of `MAX_INT_BYTES` each with their length prefixes,
/// plus framing (the list's length, version, flag, `s`, `t`, party count).
const MAX_PARAMS_BYTES: u64 = ((MAX_PARTIES + 3) * (MAX_INT_BYTES + LEN_PREFIX) + 64) as u64;
/// Limit on a serialized partial decryption.
const MAX_PARTIAL_BYTES: u64 = (MAX_INT_BYTES + MAX_Z_BYTES + 128) as u64;
/// Limit on a serialized key share.
const MAX_SHARE_BYTES: u64 = MAX_PARAMS_BYTES + MAX_INT_BYTES as u64 + 64;

fn to_bytes<T: Serialize>(v: &T, limit: u64) -> Vec<u8> {
    // Serializing these plain structs into a Vec cannot fail; objects
    // above the limit are written as nothing, which is refused on the way
    // back in anyway.
    let out = postcard::to_allocvec(v).unwrap_or_default();
    if out.len() as u64 > limit {
        return Vec::new();
    }
    out
}

/// Reads `bytes` as one `T` (every wire struct starts with its version):
/// the size limit first, then the version, then the whole object, which
/// must use every byte.
fn from_bytes<'a, T: Deserialize<'a>>(
    bytes: &'a [u8],
    what: &'static str,
    limit: u64,
) -> Result<T> {
    if bytes.len() as u64 > limit {
        return Err(malformed(
            what,
            format!("{} bytes, at most {limit}", bytes.len()),
        ));
    }
    let (version, _) = postcard::take_from_bytes::<u16>(bytes)
        .map_err(|e| malformed(what, format!("no version: {e}")))?;
    check_version(version, what)?;
    let (v, rest) = postcard::take_from_bytes(bytes).map_err(|e| malformed(what, e.to_string()))?;
    if !rest.is_empty() {
        return Err(malformed(what, format!("{} trailing bytes", rest.len())));
    }
    Ok(v)
}

fn size_of<T: Serialize>(v: &T) -> u64 {
    postcard::serialize_with_flavor(v, postcard::ser_flavors::Size::default()).unwrap_or(0) as u64
}

fn malformed(what: &'static str, reason: impl Into<String>) -> Error {
    Error::Malformed {
        what,
        reason: reason.into(),
    }
}

fn check_version(found: u16, what: &'static str) -> Result<()> {
    if found == BINCODE_VERSION {
        return Err(malformed(
            what,
            format!(
                "format version {found} (bincode, hekit ≤ 0.1) is no longer read; re-serialize it with this version"
            ),
        ));
    }
    if found != VERSION {
        return Err(malformed(
            what,
            format!("unknown version {found} (expected {VERSION})"),
        ));
    }
    Ok(())
}

/// A canonical big-endian integer of at most `max` bytes.
fn int_from(bytes: &[u8], what: &'static str, max: usize) -> Result<BigUint> {
    if bytes.is_empty() || bytes.len() > max {
        return Err(malformed(what, format!("integer of {} bytes", bytes.len())));
    }
    if bytes.len() > 1 && bytes[0] == 0 {
        return Err(malformed(what, "non-canonical integer (leading zero)"));
    }
    Ok(BigUint::from_bytes_be(bytes))
}

fn to_u32(x: usize) -> u32 {
    u32::try_from(x).unwrap_or(u32::MAX)
}

/// Serialized [`PublicParams`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PublicParamsWire {
    version: u16,
    /// Set for moduli below 2048 bits: the insecure opt-out travels with
    /// the parameters, and such parameters are refused without it.
    insecure: bool,
    n: Vec<u8>,
    /// Damgård–Jurik exponent (1 = Paillier).
    s: u32,
    threshold: u32,
    parties: u32,
    v: Vec<u8>,
    verification_keys: Vec<Vec<u8>>,
}

impl From<&PublicParams> for PublicParamsWire {
    fn from(p: &PublicParams) -> Self {
        let i = &p.inner;
        PublicParamsWire {
            version: VERSION,
            insecure: i.pk.bits() < MIN_SECURE_BITS,
            n: i.pk.n().to_bytes_be(),
            s: i.s,
            threshold: to_u32(i.t),
            parties: to_u32(i.parties),
            v: i.v.to_bytes_be(),
            verification_keys: i.vks.iter().map(|x| x.to_bytes_be()).collect(),
        }
    }
}

impl TryFrom<PublicParamsWire> for PublicParams {
    type Error = Error;
    fn try_from(w: PublicParamsWire) -> Result<Self> {
        const WHAT: &str = "threshold Paillier public parameters";
        check_version(w.version, WHAT)?;
        let parties = w.parties as usize;
        if parties > MAX_PARTIES || w.verification_keys.len() != parties {
            return Err(malformed(
                WHAT,
                format!(
                    "{} verification keys for {parties} parties (at most {MAX_PARTIES})",
                    w.verification_keys.len()
                ),
            ));
        }
        let n = int_from(&w.n, WHAT, MAX_INT_BYTES / 2)?;
        let v = int_from(&w.v, WHAT, MAX_INT_BYTES)?;
        let vks = w
            .verification_keys
            .iter()
            .map(|b| int_from(b, WHAT, MAX_INT_BYTES))
            .collect::<Result<Vec<_>>>()?;
        PublicParams::from_parts(n, w.insecure, w.s, w.threshold as usize, parties, v, vks)
    }
}

impl Serialize for PublicParams {
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        PublicParamsWire::from(self).serialize(s)
    }
}

impl<'de> Deserialize<'de> for PublicParams {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> core::result::Result<Self, D::Error> {
        let w = PublicParamsWire::deserialize(d)?;
        PublicParams::try_from(w).map_err(serde::de::Error::custom)
    }
}

impl PublicParams {
    /// Versioned bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        to_bytes(&PublicParamsWire::from(self), MAX_PARAMS_BYTES)
    }

    /// Reads and validates public parameters.
    ///
    /// # Errors
    /// [`Error::Malformed`] (bytes, version, verification values),
    /// [`Error::InvalidThreshold`], [`Error::Paillier`] for the modulus.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        PublicParams::try_from(from_bytes::<PublicParamsWire>(
            bytes,
            "threshold Paillier public parameters",
            MAX_PARAMS_BYTES,
        )?)
    }

    /// Length of [`Self::to_bytes`].
    pub fn serialized_size(&self) -> u64 {
        size_of(&PublicParamsWire::from(self))
    }

    /// Reads a partial decryption and validates it against these
    /// parameters (not the proof: see [`Self::verify`]).
    ///
    /// # Errors
    /// [`Error::Malformed`] (bytes, version, sizes);
    /// [`Error::ParameterMismatch`] (made under other parameters);
    /// [`Error::UnexpectedParty`] (id outside `1..=n`);
    /// [`Error::InvalidShare`] (`c_i` not a unit below `n^{s+1}`).
    pub fn partial_from_bytes(&self, bytes: &[u8]) -> Result<PartialDecryption> {
        let w = from_bytes::<PartialDecryptionWire>(bytes, PARTIAL, MAX_PARTIAL_BYTES)?;
        let pd = PartialDecryption::try_from(w)?;
        self.check_partial(&pd)?;
        if pd.proof.z.bits() as usize > self.inner.nonce_bits + 1 {
            return Err(malformed(PARTIAL, "proof response too large"));
        }
        Ok(pd)
    }
}

const PARTIAL: &str = "partial decryption";

/// Serialized [`PartialDecryption`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PartialDecryptionWire {
    version: u16,
    /// Fingerprint of the threshold public key.
    key: u64,
    party: u32,
    value: Vec<u8>,
    e: [u8; 32],
    z: Vec<u8>,
}

impl From<&PartialDecryption> for PartialDecryptionWire {
    fn from(p: &PartialDecryption) -> Self {
        PartialDecryptionWire {
            version: VERSION,
            key: p.key,
            party: p.party.0,
            value: p.value.to_bytes_be(),
            e: p.proof.e,
            z: p.proof.z.to_bytes_be(),
        }
    }
}

impl TryFrom<PartialDecryptionWire> for PartialDecryption {
    type Error = Error;
    /// Structural checks only (version, canonical sizes, party ≠ 0); the
    /// checks against the parameters happen in
    /// [`PublicParams::partial_from_bytes`], `verify` and `combine`.
    fn try_from(w: PartialDecryptionWire) -> Result<Self> {
        check_version(w.version, PARTIAL)?;
        if w.party == 0 {
            return Err(Error::UnexpectedParty { party: PartyId(0) });
        }
        let value = int_from(&w.value, PARTIAL, MAX_INT_BYTES)?;
        let z = int_from(&w.z, PARTIAL, MAX_Z_BYTES)?;
        Ok(PartialDecryption {
            key: w.key,
            party: PartyId(w.party),
            value,
            proof: Proof { e: w.e, z },
        })
    }
}

impl Serialize for PartialDecryption {
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        PartialDecryptionWire::from(self).serialize(s)
    }
}

impl<'de> Deserialize<'de> for PartialDecryption {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> core::result::Result<Self, D::Error> {
        let w = PartialDecryptionWire::deserialize(d)?;
        PartialDecryption::try_from(w).map_err(serde::de::Error::custom)
    }
}

impl PartialDecryption {
    /// Versioned bytes (read back with [`PublicParams::partial_from_bytes`]).
    pub fn to_bytes(&self) -> Vec<u8> {
        to_bytes(&PartialDecryptionWire::from(self), MAX_PARTIAL_BYTES)
    }

    /// Length of [`Self::to_bytes`].
    pub fn serialized_size(&self) -> u64 {
        size_of(&PartialDecryptionWire::from(self))
    }
}

/// Serialized key share (secret). Wiped on drop.
#[derive(Serialize, Deserialize)]
struct KeyShareWire {
    version: u16,
    params: PublicParamsWire,
    party: u32,
    share: Vec<u8>,
}

impl Drop for KeyShareWire {
    fn drop(&mut self) {
        self.share.zeroize();
    }
}

const SHARE: &str = "threshold Paillier key share";

impl KeyShare {
    /// Versioned bytes of the share and its public parameters (secret:
    /// returned in a buffer wiped on drop).
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let w = KeyShareWire {
            version: VERSION,
            params: PublicParamsWire::from(&self.params),
            party: self.party.0,
            share: limbs_to_be_bytes(&self.s).to_vec(),
        };
        Zeroizing::new(to_bytes(&w, MAX_SHARE_BYTES))
    }

    /// Reads a key share: validates the parameters, the party id, the size
    /// of `s_i` (below `n^{s+1}`) and that `v^{Δ s_i}` is the party's
    /// verification key.
    ///
    /// # Errors
    /// [`Error::Malformed`], [`Error::UnexpectedParty`], the parameter
    /// errors of [`PublicParams::from_bytes`], and [`Error::InvalidShare`]
    /// if the share does not match its verification key.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut w = from_bytes::<KeyShareWire>(bytes, SHARE, MAX_SHARE_BYTES)?;
        check_version(w.version, SHARE)?;
        let wire_params = core::mem::take(&mut w.params);
        let params = PublicParams::try_from(wire_params)?;
        let party = PartyId(w.party);
        let idx = params
            .index(party)
            .ok_or(Error::UnexpectedParty { party })?;
        if w.share.len() > MAX_INT_BYTES || (w.share.len() > 1 && w.share[0] == 0) {
            return Err(malformed(SHARE, "non-canonical or oversized share"));
        }
        let k = params.inner.share_limbs;
        let nn = to_limbs(&params.inner.ns1, k).ok_or(malformed(SHARE, "modulus size"))?;
        let limbs = be_bytes_to_limbs(&w.share, k)
            .filter(|s| limbs_lt(s, &nn))
            .ok_or(malformed(SHARE, "share is not below n^{s+1}"))?;
        let share = KeyShare::new(params, party, limbs);
        if share.recompute_verification_key() != share.params.inner.vks[idx] {
            return Err(Error::InvalidShare {
                party,
                reason: "share does not match its verification key".to_string(),
            });
        }
        Ok(share)
    }

    /// Length of [`Self::to_bytes`].
    pub fn serialized_size(&self) -> u64 {
        self.to_bytes().len() as u64
    }
}

const DJ_CT: &str = "Damgård–Jurik ciphertext";

/// Serialized [`DjCiphertext`].
#[derive(Debug, Clone, Serialize, Deserialize)]
struct DjCiphertextWire {
    version: u16,
    /// Fingerprint of the threshold public key.
    key: u64,
    s: u32,
    c: Vec<u8>,
}

impl DjCiphertext {
    /// Versioned bytes (read back with
    /// [`PublicParams::dj_ciphertext_from_bytes`]).
    pub fn to_bytes(&self) -> Vec<u8> {
        to_bytes(&self.wire(), MAX_PARTIAL_BYTES)
    }

    /// Length of [`Self::to_bytes`].
    pub fn serialized_size(&self) -> u64 {
        size_of(&self.wire())
    }

    fn wire(&self) -> DjCiphertextWire {
        let p = self.public_params();
        DjCiphertextWire {
            version: VERSION,
            key: p.inner.pk.fingerprint(),
            s: p.inner.s,
            c: self.value().to_bytes_be(),
        }
    }
}

impl PublicParams {
    /// Reads a Damgård–Jurik ciphertext and validates it against these
    /// parameters (key, `s`, a unit below `n^{s+1}`).
    ///
    /// # Errors
    /// [`Error::Malformed`] (bytes, version), `Error::Paillier(KeyMismatch)`
    /// (other key or `s`), `Error::Paillier(InvalidCiphertext)`.
    pub fn dj_ciphertext_from_bytes(&self, bytes: &[u8]) -> Result<DjCiphertext> {
        let w = from_bytes::<DjCiphertextWire>(bytes, DJ_CT, MAX_PARTIAL_BYTES)?;
        check_version(w.version, DJ_CT)?;
        if w.key != self.inner.pk.fingerprint() || w.s != self.inner.s {
            return Err(Error::Paillier(::paillier::Error::KeyMismatch));
        }
        self.dj_ciphertext(int_from(&w.c, DJ_CT, MAX_INT_BYTES)?)
    }
}
