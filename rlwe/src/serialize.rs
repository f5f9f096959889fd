//! Versioned, length-checked binary serialization (serde + postcard).
//!
//! Every object is wrapped in an envelope: a fixed [`HEADER_LEN`]-byte
//! header — magic `HEKT`, format version (`u16`, little-endian), object
//! kind (one byte) and the SHA-256 fingerprint of its parameters — then the
//! body in the [postcard](https://docs.rs/postcard) format (integers as
//! varints, residues of polynomials as fixed 8-byte little-endian words).
//! The header does not depend on the body's format, so every version can
//! be recognised. Reading checks all four fields, rejects trailing bytes,
//! and validates every coefficient against its modulus. Uniform polynomials
//! that come from a seed are written as the seed (public keys,
//! key-switching keys, fresh secret-key ciphertexts).
//!
//! | version | body format | read by this build |
//! |---|---|---|
//! | 1 | bincode 1.x (fixed-width integers), hekit 0.1 | no: [`Error::RetiredVersion`] — re-serialize with this version |
//! | 2 | postcard 1.x | yes |

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use crate::ciphertext::Ciphertext;
use crate::keys::{GaloisKey, GaloisKeys, KeySwitchKey, PublicKey, RelinKey, SecretKey, DOMAIN_CT};
use crate::params::{max_log_qp, Params, SecurityLevel};
use crate::poly::{Poly, Representation, RingContext};
use crate::sample::{self, Seed};
use crate::{Error, Result};

/// Format version written by this build.
pub const VERSION: u16 = 2;
/// The last format version whose body was bincode 1.x (hekit 0.1): its
/// bytes are refused with [`Error::RetiredVersion`].
pub const BINCODE_VERSION: u16 = 1;
const MAGIC: [u8; 4] = *b"HEKT";
/// Length of the header: magic (4), version (2), kind (1), fingerprint (32).
pub const HEADER_LEN: usize = 4 + 2 + 1 + 32;

/// Object kinds (the byte after the version).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[repr(u8)]
pub enum Kind {
    /// [`Params`].
    Params = 1,
    /// [`SecretKey`].
    SecretKey = 2,
    /// [`PublicKey`].
    PublicKey = 3,
    /// [`KeySwitchKey`].
    KeySwitchKey = 4,
    /// [`RelinKey`].
    RelinKey = 5,
    /// [`GaloisKeys`].
    GaloisKeys = 6,
    /// [`Ciphertext`].
    Ciphertext = 7,
    /// A bare [`Poly`] (e.g. a plaintext).
    Poly = 8,
    /// Objects defined by other crates (schemes, threshold shares).
    External = 9,
}

impl Kind {
    fn from_byte(b: u8) -> Option<Self> {
        Some(match b {
            1 => Kind::Params,
            2 => Kind::SecretKey,
            3 => Kind::PublicKey,
            4 => Kind::KeySwitchKey,
            5 => Kind::RelinKey,
            6 => Kind::GaloisKeys,
            7 => Kind::Ciphertext,
            8 => Kind::Poly,
            9 => Kind::External,
            _ => return None,
        })
    }
}

/// Writes `body` in an envelope of `kind` for parameters with `fingerprint`.
pub fn encode<T: Serialize>(kind: Kind, fingerprint: &[u8; 32], body: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.push(kind as u8);
    out.extend_from_slice(fingerprint);
    // Serializing plain data structures into a Vec cannot fail.
    postcard::to_extend(body, out).unwrap_or_default()
}

/// Reads an envelope of `kind` for parameters with `fingerprint` (`None`
/// skips that check) and returns its body.
///
/// # Errors
/// [`Error::Malformed`] (short, bad magic or kind, a body that does not
/// decode, trailing bytes), [`Error::RetiredVersion`] (the bincode format
/// of hekit 0.1), [`Error::UnknownVersion`], [`Error::ParameterMismatch`].
pub fn decode<T: DeserializeOwned>(
    bytes: &[u8],
    kind: Kind,
    what: &'static str,
    fingerprint: Option<&[u8; 32]>,
) -> Result<T> {
    let malformed = |reason: String| Error::Malformed { what, reason };
    if bytes.len() < HEADER_LEN {
        return Err(malformed(format!(
            "{} bytes, shorter than the header",
            bytes.len()
        )));
    }
    if bytes[..4] != MAGIC {
        return Err(malformed("bad magic".into()));
    }
    // The version is at the same place (bytes 4..6, little-endian) in
    // every format version, the bincode one included.
    let version = u16::from_le_bytes([bytes[4], bytes[5]]);
    if version == BINCODE_VERSION {
        return Err(Error::RetiredVersion { what, version });
    }
    if version != VERSION {
        return Err(Error::UnknownVersion {
            what,
            got: version,
            supported: VERSION,
        });
    }
    let found = Kind::from_byte(bytes[6])
        .ok_or_else(|| malformed(format!("unknown object kind {}", bytes[6])))?;
    if found != kind {
        return Err(malformed(format!("found a {found:?}, expected a {kind:?}")));
    }
    if let Some(fp) = fingerprint {
        if bytes[7..HEADER_LEN] != fp[..] {
            return Err(Error::ParameterMismatch {
                what: "serialized object belongs to other parameters",
            });
        }
    }
    let (body, rest) =
        postcard::take_from_bytes(&bytes[HEADER_LEN..]).map_err(|e| malformed(e.to_string()))?;
    if !rest.is_empty() {
        return Err(malformed(format!("{} trailing bytes", rest.len())));
    }
    Ok(body)
}

/// Residues as one byte string of fixed 8-byte little-endian words (a
/// varint would take 9 bytes for a 60-bit residue; the length is a
/// multiple of 8). Self-describing formats that have no byte strings (JSON)
/// give a sequence of bytes, which is accepted too.
mod words {
    use serde::de::{Error as _, SeqAccess, Visitor};
    use serde::{Deserializer, Serializer};
    use zeroize::Zeroizing;

    pub fn serialize<S: Serializer>(data: &[u64], s: S) -> Result<S::Ok, S::Error> {
        // Zeroizing: the words may be a secret key's.
        let bytes: Zeroizing<Vec<u8>> =
            Zeroizing::new(data.iter().flat_map(|w| w.to_le_bytes()).collect());
        s.serialize_bytes(&bytes)
    }

    fn from_le(bytes: &[u8]) -> Option<Vec<u64>> {
        if !bytes.len().is_multiple_of(8) {
            return None;
        }
        Some(
            bytes
                .chunks_exact(8)
                .map(|c| {
                    let mut w = [0u8; 8];
                    w.copy_from_slice(c);
                    u64::from_le_bytes(w)
                })
                .collect(),
        )
    }

    struct Words;

    impl<'de> Visitor<'de> for Words {
        type Value = Vec<u64>;

        fn expecting(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
            f.write_str("a byte string of 8-byte little-endian words")
        }

        fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Vec<u64>, E> {
            from_le(v).ok_or_else(|| E::invalid_length(v.len(), &self))
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u64>, A::Error> {
            let mut v: Zeroizing<Vec<u8>> = Zeroizing::new(Vec::new());
            while let Some(b) = seq.next_element::<u8>()? {
                v.push(b);
            }
            from_le(&v).ok_or_else(|| A::Error::invalid_length(v.len(), &self))
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u64>, D::Error> {
        d.deserialize_bytes(Words)
    }
}

/// The residues of a polynomial (its ring is known from the context).
#[derive(Serialize, Deserialize)]
pub struct PolyData {
    repr: Representation,
    #[serde(with = "words")]
    data: Vec<u64>,
}

impl zeroize::Zeroize for PolyData {
    fn zeroize(&mut self) {
        self.data.zeroize();
    }
}

impl PolyData {
    /// Captures `p`.
    pub fn from_poly(p: &Poly) -> Self {
        Self {
            repr: p.representation(),
            data: p.data().to_vec(),
        }
    }

    /// Rebuilds over `ctx`, validating length and ranges.
    pub fn into_poly(self, ctx: &Arc<RingContext>) -> Result<Poly> {
        Poly::from_limbs(ctx, self.repr, self.data)
    }
}

/// Most chain primes accepted from bytes.
pub const MAX_READ_Q: usize = 128;
/// Most special primes accepted from bytes.
pub const MAX_READ_P: usize = 32;
/// Most residues `N·(|Q| + |P|)` of a polynomial over `Q ∪ P` accepted from
/// bytes (64 MiB per polynomial, e.g. N = 2^17 with 64 moduli). With the
/// two bounds above, reading parameters costs well under a second and a few
/// hundred MiB of tables instead of seconds and gigabytes for a 2 KB
/// message (N = 2^17 with 256 + 64 primes).
pub const MAX_READ_WORDS: u64 = 1 << 23;

/// Checks the size of parameters that come from outside (bytes, a peer's
/// published setup) before anything is precomputed for them: at most
/// [`MAX_READ_Q`] chain primes, [`MAX_READ_P`] special primes and
/// [`MAX_READ_WORDS`] residues per polynomial over `Q ∪ P`.
///
/// # Errors
/// [`Error::Malformed`] naming the bound that is exceeded.
pub fn check_untrusted_size(degree: u64, q: usize, p: usize) -> Result<()> {
    if q > MAX_READ_Q || p > MAX_READ_P {
        return Err(Error::Malformed {
            what: "parameters",
            reason: format!(
                "too many moduli ({q} in Q, {p} in P; at most {MAX_READ_Q} and {MAX_READ_P})"
            ),
        });
    }
    let words = degree.saturating_mul(q.saturating_add(p) as u64);
    if words > MAX_READ_WORDS {
        return Err(Error::Malformed {
            what: "parameters",
            reason: format!(
                "a polynomial over Q ∪ P would have {words} residues (at most {MAX_READ_WORDS})"
            ),
        });
    }
    Ok(())
}

#[derive(Serialize, Deserialize)]
struct ParamsBody {
    degree: u64,
    q: Vec<u64>,
    p: Vec<u64>,
    security: SecurityLevel,
}

impl Params {
    /// Serialized form (degree, primes, security level).
    pub fn to_bytes(&self) -> Vec<u8> {
        let body = ParamsBody {
            degree: self.degree() as u64,
            q: self.q().to_vec(),
            p: self.p().to_vec(),
            security: self.security(),
        };
        encode(Kind::Params, self.fingerprint(), &body)
    }

    /// Reads and re-validates parameters. The security level recorded in
    /// the bytes must be at least `min`, the reader's own requirement
    /// ([`Error::SecurityBelowMinimum`] otherwise — a peer cannot send
    /// `SecurityLevel::None` to skip the check); the modulus is then
    /// checked against the recorded level as by [`Params::new`]
    /// ([`Error::InsecureParameters`]), which is at least as strict as `min`.
    /// Pass `SecurityLevel::None` as `min` only to read parameters made for
    /// tests and experiments.
    pub fn from_bytes(bytes: &[u8], min: SecurityLevel) -> Result<Arc<Params>> {
        let b: ParamsBody = decode(bytes, Kind::Params, "parameters", None)?;
        check_untrusted_size(b.degree, b.q.len(), b.p.len())?;
        let degree = usize::try_from(b.degree).map_err(|_| Error::Malformed {
            what: "parameters",
            reason: "degree does not fit".into(),
        })?;
        // Before the (costly) precomputation: the bound only tightens with
        // the level, so a recorded level ≥ min is checked at least as
        // strictly as min by `Params::new`.
        if b.security.bits() < min.bits() {
            return Err(Error::SecurityBelowMinimum {
                degree,
                log_qp: b.q.iter().chain(&b.p).map(|x| 64 - x.leading_zeros()).sum(),
                claimed: b.security.bits(),
                min: min.bits(),
                max_log_qp: max_log_qp(degree, min).unwrap_or(0),
            });
        }
        let p = Params::new(degree, b.q, b.p, b.security)?;
        // The header's fingerprint must describe what was read.
        decode::<ParamsBody>(bytes, Kind::Params, "parameters", Some(p.fingerprint()))?;
        Ok(p)
    }
}

impl SecretKey {
    /// Serialized secret key (coefficients as bytes); the buffer is wiped on drop.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut coeffs: Vec<i64> = self.coeffs().to_vec();
        let out = encode(Kind::SecretKey, self.params().fingerprint(), &coeffs);
        coeffs.zeroize();
        Zeroizing::new(out)
    }

    /// Reads a secret key for `params`.
    pub fn from_bytes(params: &Arc<Params>, bytes: &[u8]) -> Result<Self> {
        let coeffs: Vec<i64> = decode(
            bytes,
            Kind::SecretKey,
            "secret key",
            Some(params.fingerprint()),
        )?;
        SecretKey::from_coeffs(params, coeffs)
    }
}

#[derive(Serialize, Deserialize)]
struct PublicKeyBody {
    seed: Seed,
    b: PolyData,
}

impl PublicKey {
    /// Serialized public key: the seed of `a` and `b`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let body = PublicKeyBody {
            seed: *self.seed(),
            b: PolyData::from_poly(self.b()),
        };
        encode(Kind::PublicKey, self.params().fingerprint(), &body)
    }

    /// Reads a public key for `params`.
    pub fn from_bytes(params: &Arc<Params>, bytes: &[u8]) -> Result<Self> {
        let b: PublicKeyBody = decode(
            bytes,
            Kind::PublicKey,
            "public key",
            Some(params.fingerprint()),
        )?;
        let poly = b.b.into_poly(params.ring_qp_top())?;
        PublicKey::from_parts(params, b.seed, poly)
    }
}

#[derive(Serialize, Deserialize)]
struct KskBody {
    seed: Option<Seed>,
    b: Vec<PolyData>,
    /// Only when there is no seed.
    a: Vec<PolyData>,
}

fn ksk_body(k: &KeySwitchKey) -> KskBody {
    KskBody {
        seed: k.seed().copied(),
        b: k.b().iter().map(PolyData::from_poly).collect(),
        a: if k.seed().is_some() {
            Vec::new()
        } else {
            k.a().iter().map(PolyData::from_poly).collect()
        },
    }
}

fn ksk_from_body(params: &Arc<Params>, b: KskBody) -> Result<KeySwitchKey> {
    if b.b.len() != params.digits() {
        return Err(Error::Malformed {
            what: "key-switching key",
            reason: format!("{} digits, parameters have {}", b.b.len(), params.digits()),
        });
    }
    let ring = params.ring_qp_top();
    let polys =
        b.b.into_iter()
            .map(|p| p.into_poly(ring))
            .collect::<Result<Vec<_>>>()?;
    match b.seed {
        Some(seed) => {
            if !b.a.is_empty() {
                return Err(Error::Malformed {
                    what: "key-switching key",
                    reason: "both a seed and explicit a_j".into(),
                });
            }
            KeySwitchKey::from_parts(params, seed, polys)
        }
        None => {
            let a =
                b.a.into_iter()
                    .map(|p| p.into_poly(ring))
                    .collect::<Result<Vec<_>>>()?;
            KeySwitchKey::from_parts_explicit(params, polys, a)
        }
    }
}

impl KeySwitchKey {
    /// Serialized key: the seed of the `a_j` and the `b_j`.
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(
            Kind::KeySwitchKey,
            self.params().fingerprint(),
            &ksk_body(self),
        )
    }

    /// Reads a key-switching key for `params`.
    pub fn from_bytes(params: &Arc<Params>, bytes: &[u8]) -> Result<Self> {
        let b: KskBody = decode(
            bytes,
            Kind::KeySwitchKey,
            "key-switching key",
            Some(params.fingerprint()),
        )?;
        ksk_from_body(params, b)
    }
}

impl RelinKey {
    /// Serialized relinearization key.
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(
            Kind::RelinKey,
            self.key().params().fingerprint(),
            &ksk_body(self.key()),
        )
    }

    /// Reads a relinearization key for `params`.
    pub fn from_bytes(params: &Arc<Params>, bytes: &[u8]) -> Result<Self> {
        let b: KskBody = decode(
            bytes,
            Kind::RelinKey,
            "relinearization key",
            Some(params.fingerprint()),
        )?;
        Ok(RelinKey::from_key_switch_key(ksk_from_body(params, b)?))
    }
}

impl GaloisKeys {
    /// Serialized set of Galois keys.
    pub fn to_bytes(&self, params: &Params) -> Vec<u8> {
        let body: Vec<(u64, KskBody)> = self
            .elements()
            .filter_map(|e| self.get(e).ok())
            .map(|k| (k.element() as u64, ksk_body(k.key())))
            .collect();
        encode(Kind::GaloisKeys, params.fingerprint(), &body)
    }

    /// Reads Galois keys for `params`.
    pub fn from_bytes(params: &Arc<Params>, bytes: &[u8]) -> Result<Self> {
        let body: Vec<(u64, KskBody)> = decode(
            bytes,
            Kind::GaloisKeys,
            "Galois keys",
            Some(params.fingerprint()),
        )?;
        let mut keys = GaloisKeys::default();
        for (e, b) in body {
            let e = usize::try_from(e).map_err(|_| Error::Malformed {
                what: "Galois keys",
                reason: "element does not fit".into(),
            })?;
            if e >= 2 * params.degree() {
                return Err(Error::Malformed {
                    what: "Galois keys",
                    reason: format!("element {e} ≥ 2N"),
                });
            }
            keys.insert(GaloisKey::from_key_switch_key(
                e,
                ksk_from_body(params, b)?,
            )?);
        }
        Ok(keys)
    }
}

#[derive(Serialize, Deserialize)]
struct CiphertextBody {
    level: u32,
    seed: Option<Seed>,
    parts: Vec<PolyData>,
}

impl Ciphertext {
    /// Serialized ciphertext; a fresh secret-key ciphertext writes the seed
    /// of `c_1` instead of `c_1`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let skip = usize::from(self.seed().is_some());
        let body = CiphertextBody {
            level: self.level() as u32,
            seed: self.seed().copied(),
            parts: self
                .parts()
                .iter()
                .enumerate()
                .filter(|(i, _)| !(skip == 1 && *i == 1))
                .map(|(_, p)| PolyData::from_poly(p))
                .collect(),
        };
        encode(Kind::Ciphertext, self.params().fingerprint(), &body)
    }

    /// Size in bytes of [`Self::to_bytes`].
    pub fn serialized_size(&self) -> usize {
        self.to_bytes().len()
    }

    /// Reads a ciphertext for `params`.
    pub fn from_bytes(params: &Arc<Params>, bytes: &[u8]) -> Result<Self> {
        let b: CiphertextBody = decode(
            bytes,
            Kind::Ciphertext,
            "ciphertext",
            Some(params.fingerprint()),
        )?;
        let level = b.level as usize;
        let ring = params.ring_q(level)?;
        let mut parts = b
            .parts
            .into_iter()
            .map(|p| p.into_poly(ring))
            .collect::<Result<Vec<_>>>()?;
        match b.seed {
            Some(seed) => {
                if parts.len() != 1 {
                    return Err(Error::Malformed {
                        what: "ciphertext",
                        reason: "a seeded ciphertext has exactly one stored part".into(),
                    });
                }
                let a = sample::uniform_poly(
                    ring,
                    Representation::Ntt,
                    &mut sample::expand_seed(&seed, DOMAIN_CT),
                );
                let c0 = parts.remove(0);
                Ciphertext::from_seeded_parts(params, c0, a, seed)
            }
            None => {
                if parts.len() < 2 || parts.len() > 16 {
                    return Err(Error::Malformed {
                        what: "ciphertext",
                        reason: format!("{} parts", parts.len()),
                    });
                }
                Ciphertext::new(params, parts)
            }
        }
    }
}

#[derive(Serialize, Deserialize)]
struct PolyBody {
    level: u32,
    poly: PolyData,
}

/// Serializes a polynomial over a level `Q_l` of `params` (e.g. a plaintext).
pub fn poly_to_bytes(params: &Params, p: &Poly) -> Result<Vec<u8>> {
    let level = params.level_of(p.context())?;
    Ok(encode(
        Kind::Poly,
        params.fingerprint(),
        &PolyBody {
            level: level as u32,
            poly: PolyData::from_poly(p),
        },
    ))
}

/// Reads a polynomial written by [`poly_to_bytes`].
pub fn poly_from_bytes(params: &Params, bytes: &[u8]) -> Result<Poly> {
    let b: PolyBody = decode(bytes, Kind::Poly, "polynomial", Some(params.fingerprint()))?;
    b.poly.into_poly(params.ring_q(b.level as usize)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zq::generate_primes;

    fn params_bytes(degree: u64, q: Vec<u64>, p: Vec<u64>) -> Vec<u8> {
        let body = ParamsBody {
            degree,
            q,
            p,
            security: SecurityLevel::None,
        };
        encode(Kind::Params, &[0; 32], &body)
    }

    fn assert_malformed(bytes: &[u8]) {
        match Params::from_bytes(bytes, SecurityLevel::None) {
            Err(Error::Malformed { what, reason }) => {
                assert_eq!(what, "parameters");
                assert!(
                    reason.contains("too many moduli") || reason.contains("residues"),
                    "{reason}"
                );
            }
            other => panic!("expected Malformed, got {other:?}"),
        }
    }

    /// Review of the `rlwe_params` fuzz target: valid NTT-friendly primes,
    /// 129 of them, were accepted and the precomputation (quadratic in the
    /// chain length) ran for a message of about a kilobyte.
    #[test]
    fn parameters_with_too_many_primes_are_malformed() -> Result<()> {
        let q = generate_primes(&[40; MAX_READ_Q + 1], 1024, &[])?;
        assert_malformed(&params_bytes(1024, q, Vec::new()));
        let all = generate_primes(&[40; MAX_READ_P + 2], 1024, &[])?;
        assert_malformed(&params_bytes(1024, all[..1].to_vec(), all[1..].to_vec()));
        Ok(())
    }

    /// N = 2^17 with 65 moduli: a gigabyte-scale set of NTT tables from a
    /// few hundred bytes.
    #[test]
    fn parameters_too_large_to_hold_are_malformed() -> Result<()> {
        let q = generate_primes(&[40; 65], 1 << 17, &[])?;
        assert_malformed(&params_bytes(1 << 17, q, Vec::new()));
        assert_malformed(&params_bytes(u64::MAX, vec![3], Vec::new()));
        Ok(())
    }
}
