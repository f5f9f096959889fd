//! # Threshold Paillier and Damgård–Jurik (Shoup 2000; Damgård–Jurik 2001)
//!
//! A trusted [`Dealer`] turns a Paillier modulus `n = pq` built from safe
//! primes (`p = 2p' + 1`, `q = 2q' + 1`) into `n` [`KeyShare`]s such that
//! any `t` of them decrypt and `t − 1` learn nothing. Ciphertexts are
//! ordinary [`paillier::Ciphertext`]s under
//! [`PublicParams::public_key`], so anything the `paillier` API computes
//! (sums, scalar products, re-randomization) decrypts jointly.
//!
//! **Roles.** The dealer runs once and hands each result party its
//! [`KeyShare`] (secret) and everyone the [`PublicParams`] (public). Input
//! parties encrypt with the public key; computing parties use the ordinary
//! `paillier` operations; each result party sends a [`PartialDecryption`]
//! (with its proof); anyone [`combine`](PublicParams::combine)s `t` of them.
//!
//! ## The scheme
//!
//! * `m = p'q'`; the secret `d` satisfies `d ≡ 0 (mod m)`, `d ≡ 1 (mod n)`;
//!   party `i ∈ {1..n}` holds `s_i = f(i) mod nm` for a random polynomial
//!   `f` of degree `t − 1` with `f(0) = d` (Shamir over `Z_{nm}`).
//! * `Δ = n_parties!`; a random square `v ∈ Z*_{n²}` is the verification
//!   base and `v_i = v^{Δ s_i} mod n²` party `i`'s verification key.
//! * Partial decryption: `c_i = c^{2Δ s_i} mod n²`, a constant-time
//!   fixed-window exponentiation with the secret exponent `Δ s_i` applied
//!   to the public `c²` (no branch or table index depends on the share).
//! * Combination over a set `S` of `t` parties with the integer Lagrange
//!   coefficients `λ_i = Δ Π_{j∈S, j≠i} j / (j − i)`:
//!   `c' = Π c_i^{2λ_i} = c^{4Δ²d}`, and `m = L(c') · (4Δ²)^{-1} mod n`
//!   with `L(u) = (u − 1) / n`.
//!
//! ## Damgård–Jurik, `s > 1`
//!
//! [`Dealer::deal_dj`] / [`Dealer::deal_dj_with_primes`] deal the same
//! scheme with plaintexts modulo `n^s` and ciphertexts modulo `n^{s+1}`
//! (Damgård–Jurik, PKC 2001, §4): `d ≡ 0 (mod m)`, `d ≡ 1 (mod n^s)`,
//! shares over `Z_{n^s m}`, everything else modulo `n^{s+1}`, and the final
//! step recovers `4Δ² m mod n^s` from `(1 + n)^{4Δ² m}` with the
//! Damgård–Jurik digit-by-digit algorithm. Ciphertexts are
//! [`DjCiphertext`]s made by [`PublicParams::encrypt_dj`] (with `add` and
//! `mul_scalar`); a [`paillier::Ciphertext`] is accepted only when `s = 1`.
//! Every method taking a ciphertext is generic over [`ThresholdCiphertext`].
//!
//! ## The proof of correct partial decryption
//!
//! Each partial decryption carries a non-interactive proof (Shoup 2000,
//! Fiat–Shamir with SHA-256 and the domain tag
//! `hekit/threshold/paillier/dleq/v1`) that
//! `log_{c^4}(c_i²) = log_v(v_i)` (modulo `n²`, or `n^{s+1}`); the
//! challenge hashes `n`, `s`, `v`, `v_i`, the party id, `c`, `c_i` and both
//! commitments. The secret exponent `x = Δ s_i` has at most
//! `|n^{s+1}| + |Δ|` bits, the challenge `e` 256 bits, and the nonce `r` is
//! drawn with
//!
//! `|r| = |n^{s+1}| + |Δ| + 2·256 + 128` bits (`|n²|` for Paillier)
//!
//! ([`PublicParams::nonce_bits`]): modulus and `Δ` (the size of `x`), one
//! hash length for `e·x`, and one hash length plus a 128-bit statistical
//! margin, so that `z = r + e·x` is within statistical distance
//! `2^{-384}` of `r`'s distribution and reveals nothing about `s_i`. A
//! proof is `e` (32 bytes) and `z` (`|r| + 1` bits: about 600 bytes at
//! 2048-bit `n` and 16 parties, about 850 bytes at 3072 bits).
//!
//! ## Cheaters
//!
//! * [`PublicParams::verify`] checks one partial decryption:
//!   [`Error::InvalidProof`] names the party whose proof fails.
//! * [`PublicParams::combine`] is strict: it verifies **every** partial
//!   decryption it is given and fails on the first bad one (in input order)
//!   naming its party, so cheating never goes unnoticed.
//! * [`PublicParams::combine_valid`] drops every invalid partial
//!   decryption (bad proof, duplicate, foreign party), succeeds if at least
//!   `t` valid ones remain, and reports who was dropped and why.
//!
//! Fewer than `t` distinct parties is [`Error::TooFewShares`]; two partial
//! decryptions from one party is [`Error::DuplicateParty`] (strict
//! `combine`); a ciphertext under another key is
//! `Error::Paillier(paillier::Error::KeyMismatch)`.
//!
//! ## Secrets and serialization
//!
//! A [`KeyShare`] keeps `s_i` and `Δ s_i` in limb buffers wiped on drop;
//! its `Debug` shows only the party and the key. Every exponentiation with
//! a secret exponent (the share, the proof nonce) is the `paillier`
//! crate's fixed-window constant-time Montgomery exponentiation
//! ([`paillier::modpow::Modulus::pow_secret`]) with a public bit bound, and
//! `z = r + e·x` is schoolbook limb arithmetic without data-dependent
//! branches. The dealer's `num-bigint` temporaries (`p`, `q`, `d`, the
//! polynomial) are cleared best-effort.
//!
//! [`PublicParams`], [`PartialDecryption`] (with its proof),
//! [`DjCiphertext`] and [`KeyShare`] have versioned, length-limited bytes
//! (`to_bytes` / `from_bytes`, `serialized_size`), validated on the way in:
//! values are units below `n^{s+1}`, party ids in `1..=n`, `1 ≤ t ≤ n`,
//! and a key share must match its verification key.
//!
//! ## Example
//!
//! Dealt from published 256-bit safe primes (512-bit `n`) through the
//! explicit insecure opt-out; real dealings use
//! [`Dealer::deal`] with [`paillier::Bits::B3072`] (or `B2048`).
//!
//! ```
//! use num_bigint::BigUint;
//! use threshold::paillier::{test_primes, Dealer};
//! # fn main() -> Result<(), threshold::Error> {
//! let mut rng = rand::thread_rng();
//! let (p, q) = test_primes::primes(test_primes::SAFE256);
//! let (params, shares) = Dealer::deal_with_primes_insecure(p, q, 2, 3, &mut rng)?; // 2 of 3
//!
//! // Input parties encrypt with the ordinary Paillier API; a computing
//! // party adds the ciphertexts.
//! let pk = params.public_key();
//! let a = pk.encrypt(&BigUint::from(1200u32), &mut rng)?;
//! let b = pk.encrypt(&BigUint::from(34u32), &mut rng)?;
//! let total = (&a + &b)?;
//!
//! // Any two result parties decrypt (here parties 3 and 1).
//! let partials = vec![
//!     shares[2].partial_decrypt(&total, &mut rng)?,
//!     shares[0].partial_decrypt(&total, &mut rng)?,
//! ];
//! assert_eq!(params.combine(&total, &partials)?, BigUint::from(1234u32));
//!
//! // One share is not enough.
//! assert!(matches!(
//!     params.combine(&total, &partials[..1]),
//!     Err(threshold::Error::TooFewShares { got: 1, need: 2 })
//! ));
//! # Ok(())
//! # }
//! ```

mod primes;
mod proof;
mod serial;
pub mod test_primes;

use std::collections::BTreeSet;
use std::sync::Arc;

use ::paillier::modpow::Modulus;
use ::paillier::{
    Bits, Ciphertext, PublicKey, MAX_MODULUS_BITS, MIN_INSECURE_BITS, MIN_SECURE_BITS,
};
use num_bigint::{BigInt, BigUint, RandBigInt, Sign};
use num_integer::Integer;
use num_traits::{One, Zero};
use rand_core::{CryptoRng, RngCore};
use rayon::prelude::*;
use zeroize::Zeroizing;

pub use proof::Proof;
pub use serial::{PartialDecryptionWire, PublicParamsWire, VERSION};

use crate::{Error, PartyId, Result};
use proof::{challenge, challenge_limbs, from_limbs, mul_add, random_limbs, to_limbs};

/// Largest number of parties a dealing may have (`Δ = 256!` has 1684 bits).
pub const MAX_PARTIES: usize = 256;
/// Bit length of the Fiat–Shamir challenge (SHA-256).
pub const CHALLENGE_BITS: usize = 256;
/// Statistical margin of the proof nonce, in bits.
pub const STATISTICAL_MARGIN_BITS: usize = 128;
/// Largest Damgård–Jurik exponent `s` (ciphertexts modulo `n^{s+1}`).
pub const MAX_S: u32 = 16;
/// Largest ciphertext modulus `n^{s+1}`, in bits.
pub const MAX_CIPHERTEXT_MODULUS_BITS: u64 = 2 * MAX_MODULUS_BITS;

fn check_s(s: u32, n_bits: u64) -> Result<()> {
    if s == 0 || s > MAX_S || (s as u64 + 1) * n_bits > MAX_CIPHERTEXT_MODULUS_BITS {
        return Err(Error::Malformed {
            what: "Damgård–Jurik exponent",
            reason: format!(
                "s = {s} (need 1 ≤ s ≤ {MAX_S} and (s + 1)·|n| ≤ {MAX_CIPHERTEXT_MODULUS_BITS})"
            ),
        });
    }
    Ok(())
}

fn key_err(reason: &'static str) -> Error {
    Error::Paillier(::paillier::Error::InvalidKey { reason })
}

fn check_threshold(t: usize, parties: usize) -> Result<()> {
    if parties == 0 || parties > MAX_PARTIES || t == 0 || t > parties {
        return Err(Error::InvalidThreshold { t, n: parties });
    }
    Ok(())
}

fn check_size(bits: u64, insecure_ok: bool) -> Result<()> {
    if !(MIN_INSECURE_BITS..=MAX_MODULUS_BITS).contains(&bits)
        || !bits.is_multiple_of(2)
        || (bits < MIN_SECURE_BITS && !insecure_ok)
    {
        return Err(Error::Paillier(::paillier::Error::InsecureKeySize { bits }));
    }
    Ok(())
}

/// `parties!`.
fn factorial(parties: usize) -> BigUint {
    (1..=parties as u64).fold(BigUint::one(), |acc, i| acc * i)
}

/// Best-effort wipe of a short-lived secret `BigUint` (num-bigint has no
/// in-place wipe; the long-lived secrets are kept in wiped limb buffers).
fn wipe(x: &mut BigUint) {
    x.set_zero();
}

struct ParamsInner {
    pk: PublicKey,
    /// Damgård–Jurik exponent (1 = Paillier).
    s: u32,
    /// `n^s`, the plaintext modulus.
    ns: BigUint,
    /// `n^{s+1}`, the ciphertext modulus.
    ns1: BigUint,
    t: usize,
    parties: usize,
    delta: BigUint,
    delta_limbs: Vec<u64>,
    v: BigUint,
    vks: Vec<BigUint>,
    vks_inv: Vec<BigUint>,
    /// Montgomery context modulo `n^{s+1}`.
    nn: Modulus,
    /// `(4Δ²)^{-1} mod n^s`.
    inv_4delta2: BigUint,
    share_limbs: usize,
    x_bits: usize,
    nonce_bits: usize,
}

/// The public side of a dealing: the Paillier public key, the threshold,
/// the verification base `v` and every party's verification key
/// `v_i = v^{Δ s_i}`. Cheap to clone (shared).
#[derive(Clone)]
pub struct PublicParams {
    inner: Arc<ParamsInner>,
}

impl core::fmt::Debug for PublicParams {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PublicParams")
            .field("key", &self.inner.pk)
            .field("threshold", &self.inner.t)
            .field("parties", &self.inner.parties)
            .finish_non_exhaustive()
    }
}

impl PartialEq for PublicParams {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
            || (self.inner.pk == other.inner.pk
                && self.inner.s == other.inner.s
                && self.inner.t == other.inner.t
                && self.inner.parties == other.inner.parties
                && self.inner.v == other.inner.v
                && self.inner.vks == other.inner.vks)
    }
}
impl Eq for PublicParams {}

/// `x` is a unit of `Z_{n²}` other than 0 (`x ∈ [1, n²)`, `gcd(x, n) = 1`).
fn unit_check(x: &BigUint, n: &BigUint, nn: &BigUint) -> core::result::Result<(), &'static str> {
    if x.is_zero() {
        return Err("value is zero");
    }
    if x >= nn {
        return Err("value is not below n^2");
    }
    if !x.gcd(n).is_one() {
        return Err("value shares a factor with n");
    }
    Ok(())
}

impl PublicParams {
    /// Public parameters from their parts, validated: the modulus through
    /// [`PublicKey::from_n`] (or [`PublicKey::from_n_insecure`] when
    /// `insecure`), `1 ≤ s ≤ MAX_S` with `n^{s+1}` of at most
    /// [`MAX_CIPHERTEXT_MODULUS_BITS`], `1 ≤ t ≤ parties ≤ MAX_PARTIES`,
    /// `gcd(Δ, n) = 1`, and `v` and every `v_i` units of `Z_{n^{s+1}}`
    /// (`v ≠ 1`). `s = 1` is threshold Paillier.
    ///
    /// # Errors
    /// [`Error::InvalidThreshold`], [`Error::Paillier`] for the modulus,
    /// [`Error::Malformed`] for the verification values.
    pub fn from_parts(
        n: BigUint,
        insecure: bool,
        s: u32,
        t: usize,
        parties: usize,
        v: BigUint,
        verification_keys: Vec<BigUint>,
    ) -> Result<Self> {
        check_threshold(t, parties)?;
        let pk = if insecure {
            PublicKey::from_n_insecure(n)?
        } else {
            PublicKey::from_n(n)?
        };
        check_s(s, pk.bits())?;
        let n = pk.n();
        let ns = num_traits::pow(n.clone(), s as usize);
        let ns1 = &ns * n;
        let nn = &ns1;
        let delta = factorial(parties);
        if !delta.gcd(n).is_one() {
            return Err(key_err("modulus has a factor not above the party count"));
        }
        let bad = |what: &'static str, reason: &str| Error::Malformed {
            what,
            reason: reason.to_string(),
        };
        unit_check(&v, n, nn).map_err(|r| bad("verification base", r))?;
        if v.is_one() {
            return Err(bad("verification base", "v = 1"));
        }
        if verification_keys.len() != parties {
            return Err(bad(
                "verification keys",
                &format!("{} keys for {parties} parties", verification_keys.len()),
            ));
        }
        let mut vks_inv = Vec::with_capacity(parties);
        for vk in &verification_keys {
            unit_check(vk, n, nn).map_err(|r| bad("verification key", r))?;
            vks_inv.push(
                vk.modinv(nn)
                    .ok_or(bad("verification key", "not invertible"))?,
            );
        }
        let ctx = Modulus::new(nn).ok_or(key_err("modulus"))?;
        let four_delta2 = (&delta * &delta * 4u32) % &ns;
        let inv_4delta2 = four_delta2
            .modinv(&ns)
            .ok_or(key_err("4Δ² is not invertible modulo n"))?;
        let nn_bits = nn.bits() as usize;
        let x_bits = nn_bits + delta.bits() as usize;
        let nonce_bits = x_bits + 2 * CHALLENGE_BITS + STATISTICAL_MARGIN_BITS;
        Ok(PublicParams {
            inner: Arc::new(ParamsInner {
                delta_limbs: delta.to_u64_digits(),
                delta,
                t,
                parties,
                v,
                vks: verification_keys,
                vks_inv,
                nn: ctx,
                inv_4delta2,
                share_limbs: nn_bits.div_ceil(64),
                x_bits,
                nonce_bits,
                s,
                ns,
                ns1,
                pk,
            }),
        })
    }

    /// The Paillier public key: encrypt with it, compute with the ordinary
    /// `paillier` API.
    pub fn public_key(&self) -> &PublicKey {
        &self.inner.pk
    }

    /// The Damgård–Jurik exponent `s` (1 for Paillier).
    pub fn s(&self) -> u32 {
        self.inner.s
    }

    /// The plaintext modulus `n^s` (`n` for Paillier).
    pub fn plaintext_modulus(&self) -> &BigUint {
        &self.inner.ns
    }

    /// The ciphertext modulus `n^{s+1}` (`n²` for Paillier).
    pub fn ciphertext_modulus(&self) -> &BigUint {
        &self.inner.ns1
    }

    /// The threshold `t`: this many valid partial decryptions decrypt.
    pub fn threshold(&self) -> usize {
        self.inner.t
    }

    /// The number of parties `n`.
    pub fn parties(&self) -> usize {
        self.inner.parties
    }

    /// `Δ = parties!`.
    pub fn delta(&self) -> &BigUint {
        &self.inner.delta
    }

    /// The verification base `v`.
    pub fn verification_base(&self) -> &BigUint {
        &self.inner.v
    }

    /// Party `party`'s verification key `v^{Δ s_i}` (`None` outside `1..=n`).
    pub fn verification_key(&self, party: PartyId) -> Option<&BigUint> {
        self.index(party).map(|i| &self.inner.vks[i])
    }

    /// Bit length of the proof nonce: `|n^{s+1}| + |Δ| + 2·256 + 128` (see
    /// the module documentation).
    pub fn nonce_bits(&self) -> usize {
        self.inner.nonce_bits
    }

    fn index(&self, party: PartyId) -> Option<usize> {
        let i = party.0 as usize;
        (1..=self.inner.parties).contains(&i).then(|| i - 1)
    }

    fn check_ciphertext<'a, C: ThresholdCiphertext>(&self, ct: &'a C) -> Result<&'a BigUint> {
        ct.value_for(self)
    }

    /// Structural checks of a partial decryption against these parameters
    /// (key, party range, `c_i` a unit below `n²`), without the proof.
    fn check_partial(&self, pd: &PartialDecryption) -> Result<usize> {
        if pd.key != self.inner.pk.fingerprint() {
            return Err(Error::ParameterMismatch {
                what: "partial decryption made under another threshold key",
            });
        }
        let idx = self
            .index(pd.party)
            .ok_or(Error::UnexpectedParty { party: pd.party })?;
        unit_check(&pd.value, self.inner.pk.n(), &self.inner.ns1).map_err(|r| {
            Error::InvalidShare {
                party: pd.party,
                reason: r.to_string(),
            }
        })?;
        Ok(idx)
    }

    /// Verifies one partial decryption of `ct`: its structure, then its
    /// proof of equality of discrete logarithms.
    ///
    /// # Errors
    /// [`Error::InvalidProof`] naming the party if the proof fails (e.g. a
    /// tampered `c_i` or proof); [`Error::InvalidShare`] if `c_i` is not a
    /// unit below `n²`; [`Error::UnexpectedParty`] for an id outside
    /// `1..=n`; [`Error::ParameterMismatch`] for a partial decryption under
    /// other parameters; `Error::Paillier(KeyMismatch)` for a ciphertext
    /// under another key.
    pub fn verify<C: ThresholdCiphertext>(&self, ct: &C, pd: &PartialDecryption) -> Result<()> {
        let c = self.check_ciphertext(ct)?;
        let idx = self.check_partial(pd)?;
        let p = &self.inner;
        let invalid = Error::InvalidProof { party: pd.party };
        if pd.proof.z.bits() as usize > p.nonce_bits + 1 {
            return Err(invalid);
        }
        let nn = &p.ns1;
        let c2 = (c * c) % nn;
        let c4 = (&c2 * &c2) % nn;
        let ci2 = (&pd.value * &pd.value) % nn;
        let ci2_inv = ci2.modinv(nn).ok_or(invalid.clone())?;
        let e = BigUint::from_bytes_be(&pd.proof.e);
        let z = &pd.proof.z;
        let a = (p.nn.pow_public(&c4, z) * p.nn.pow_public(&ci2_inv, &e)) % nn;
        let b = (p.nn.pow_public(&p.v, z) * p.nn.pow_public(&p.vks_inv[idx], &e)) % nn;
        let expect = challenge(
            p.pk.n(),
            p.s,
            &p.v,
            &p.vks[idx],
            pd.party,
            c,
            &pd.value,
            &a,
            &b,
        );
        if expect != pd.proof.e {
            return Err(invalid);
        }
        Ok(())
    }

    /// Strict combination: every partial decryption is checked (ids, then
    /// every proof, in parallel) and any failure is returned, naming the
    /// party (the first failing one in input order); then the plaintext
    /// `m ∈ [0, n)` is recovered from the first `t` of them.
    ///
    /// # Errors
    /// `Error::Paillier(KeyMismatch)` for a ciphertext under another key;
    /// [`Error::UnexpectedParty`] / [`Error::DuplicateParty`];
    /// [`Error::TooFewShares`] with fewer than `t` distinct parties;
    /// [`Error::InvalidProof`] / [`Error::InvalidShare`] naming a cheater
    /// (see [`Self::combine_valid`] to drop cheaters instead).
    pub fn combine<C: ThresholdCiphertext + Sync>(
        &self,
        ct: &C,
        partials: &[PartialDecryption],
    ) -> Result<BigUint> {
        self.check_ciphertext(ct)?;
        let mut seen = BTreeSet::new();
        for pd in partials {
            if self.index(pd.party).is_none() {
                return Err(Error::UnexpectedParty { party: pd.party });
            }
            if !seen.insert(pd.party) {
                return Err(Error::DuplicateParty { party: pd.party });
            }
        }
        if partials.len() < self.inner.t {
            return Err(Error::TooFewShares {
                got: partials.len(),
                need: self.inner.t,
            });
        }
        let checks: Vec<Result<()>> = partials.par_iter().map(|pd| self.verify(ct, pd)).collect();
        for r in checks {
            r?;
        }
        let used: Vec<&PartialDecryption> = partials.iter().take(self.inner.t).collect();
        self.combine_verified(&used)
    }

    /// Lenient combination: drops every partial decryption that fails
    /// ([`Error::InvalidProof`], [`Error::InvalidShare`],
    /// [`Error::UnexpectedParty`], [`Error::ParameterMismatch`], or
    /// [`Error::DuplicateParty`] for a second one from a party that already
    /// has a valid one) and decrypts with the first `t` valid ones.
    ///
    /// # Errors
    /// `Error::Paillier(KeyMismatch)` for a ciphertext under another key;
    /// [`Error::TooFewShares`] (counting valid partial decryptions only)
    /// if fewer than `t` remain.
    pub fn combine_valid<C: ThresholdCiphertext + Sync>(
        &self,
        ct: &C,
        partials: &[PartialDecryption],
    ) -> Result<Combined> {
        self.check_ciphertext(ct)?;
        let checks: Vec<Result<()>> = partials.par_iter().map(|pd| self.verify(ct, pd)).collect();
        let mut seen = BTreeSet::new();
        let mut valid = Vec::new();
        let mut rejected = Vec::new();
        for (pd, r) in partials.iter().zip(checks) {
            match r {
                Err(e) => rejected.push((pd.party, e)),
                Ok(()) if !seen.insert(pd.party) => {
                    rejected.push((pd.party, Error::DuplicateParty { party: pd.party }))
                }
                Ok(()) => valid.push(pd),
            }
        }
        if valid.len() < self.inner.t {
            return Err(Error::TooFewShares {
                got: valid.len(),
                need: self.inner.t,
            });
        }
        valid.truncate(self.inner.t);
        let plaintext = self.combine_verified(&valid)?;
        Ok(Combined {
            plaintext,
            used: valid.iter().map(|pd| pd.party).collect(),
            rejected,
        })
    }

    /// `λ_i = Δ Π_{j ∈ S, j ≠ i} j / (j − i)`, an exact integer.
    fn lagrange(&self, set: &[PartyId], i: PartyId) -> Result<BigInt> {
        let mut num = BigInt::from(self.inner.delta.clone());
        let mut den = BigInt::one();
        for &j in set {
            if j != i {
                num *= j.0;
                den *= i64::from(j.0) - i64::from(i.0);
            }
        }
        let (q, r) = num.div_rem(&den);
        if !r.is_zero() {
            return Err(Error::Malformed {
                what: "Lagrange coefficient",
                reason: "Δ λ_i is not an integer (duplicate party?)".to_string(),
            });
        }
        Ok(q)
    }

    /// `c' = Π c_i^{2λ_i} = (1 + n)^{4Δ² m}`, then `4Δ² m mod n^s` by
    /// [`dlog_one_plus_n`] and `m` by the inverse of `4Δ²`, over verified,
    /// distinct partial decryptions.
    fn combine_verified(&self, used: &[&PartialDecryption]) -> Result<BigUint> {
        let p = &self.inner;
        let nn = &p.ns1;
        let n = p.pk.n();
        let set: Vec<PartyId> = used.iter().map(|pd| pd.party).collect();
        let mut acc = BigUint::one();
        for pd in used {
            let lambda = self.lagrange(&set, pd.party)?;
            let base = if lambda.sign() == Sign::Minus {
                pd.value.modinv(nn).ok_or(Error::InvalidShare {
                    party: pd.party,
                    reason: "value is not invertible modulo n^2".to_string(),
                })?
            } else {
                pd.value.clone()
            };
            let exp = lambda.magnitude() << 1u32;
            acc = (acc * p.nn.pow_public(&base, &exp)) % nn;
        }
        if !(&acc % n).is_one() {
            return Err(Error::Malformed {
                what: "combined decryption",
                reason: "c' is not 1 modulo n".to_string(),
            });
        }
        let l = dlog_one_plus_n(&acc, n, p.s);
        Ok((l * &p.inv_4delta2) % &p.ns)
    }
}

/// `i mod n^s` from `a = (1 + n)^i mod n^{s+1}` (Damgård–Jurik, PKC 2001,
/// §3): digit by digit, `i_j = L(a mod n^{j+1}) − Σ_{k=2..j} C(i_{j−1}, k)
/// n^{k−1} mod n^j`. For `s = 1` this is `L(a) = (a − 1) / n`.
fn dlog_one_plus_n(a: &BigUint, n: &BigUint, s: u32) -> BigUint {
    let mut i = BigUint::zero();
    let mut nj = n.clone(); // n^j
    for j in 1..=s as usize {
        let nj1 = &nj * n; // n^{j+1}
        let mut t1 = ((a % &nj1) + &nj1 - 1u32) % &nj1 / n; // L(a mod n^{j+1}) < n^j
        let mut t2 = i.clone();
        let mut nk = BigUint::one(); // n^{k-1}
        let mut kfact = BigUint::one();
        for k in 2..=j {
            i = (&i + &nj - 1u32) % &nj;
            t2 = (&t2 * &i) % &nj;
            nk *= n;
            kfact *= k as u64;
            let kinv = kfact.modinv(&nj).unwrap_or_default();
            let sub = (&t2 * &nk % &nj) * kinv % &nj;
            t1 = (t1 + &nj - sub) % &nj;
        }
        i = t1;
        nj = nj1;
    }
    i
}

/// The result of [`PublicParams::combine_valid`].
#[derive(Clone, Debug, PartialEq)]
pub struct Combined {
    /// The plaintext `m ∈ [0, n)`.
    pub plaintext: BigUint,
    /// The parties whose partial decryptions were combined (`t` of them).
    pub used: Vec<PartyId>,
    /// The partial decryptions dropped, with the reason (in input order).
    pub rejected: Vec<(PartyId, Error)>,
}

/// A party's partial decryption `c_i = c^{2Δ s_i} mod n²` with its proof of
/// correctness. Public: it is what a result party sends.
#[derive(Clone, PartialEq, Eq)]
pub struct PartialDecryption {
    key: u64,
    party: PartyId,
    value: BigUint,
    proof: Proof,
}

impl core::fmt::Debug for PartialDecryption {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PartialDecryption")
            .field("party", &self.party)
            .field("key", &format_args!("{:016x}", self.key))
            .field("bits", &self.value.bits())
            .finish_non_exhaustive()
    }
}

impl PartialDecryption {
    /// A partial decryption received from elsewhere, for the parameters
    /// `params` (checked only when verified or combined).
    pub fn from_parts(params: &PublicParams, party: PartyId, value: BigUint, proof: Proof) -> Self {
        PartialDecryption {
            key: params.inner.pk.fingerprint(),
            party,
            value,
            proof,
        }
    }

    /// The party that made it.
    pub fn party(&self) -> PartyId {
        self.party
    }

    /// `c_i`.
    pub fn value(&self) -> &BigUint {
        &self.value
    }

    /// The proof of correct partial decryption.
    pub fn proof(&self) -> &Proof {
        &self.proof
    }
}

/// One party's secret share `s_i` of the decryption exponent, with the
/// public parameters. Secret limbs live in buffers wiped on drop; `Debug`
/// shows only the party and the key.
pub struct KeyShare {
    params: PublicParams,
    party: PartyId,
    /// `s_i`, `share_limbs` limbs.
    s: Zeroizing<Vec<u64>>,
    /// `x = Δ s_i` (the exponent actually used), fewer than `x_bits` bits.
    x: Zeroizing<Vec<u64>>,
}

impl core::fmt::Debug for KeyShare {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("KeyShare")
            .field("party", &self.party)
            .field(
                "key",
                &format_args!("{:016x}", self.params.inner.pk.fingerprint()),
            )
            .finish_non_exhaustive()
    }
}

impl KeyShare {
    /// Builds a share from `s_i` limbs (at most `share_limbs` of them).
    fn new(params: PublicParams, party: PartyId, s: Zeroizing<Vec<u64>>) -> Self {
        let x = mul_add(&[], &s, &params.inner.delta_limbs);
        KeyShare {
            params,
            party,
            s,
            x,
        }
    }

    /// The party holding this share.
    pub fn party(&self) -> PartyId {
        self.party
    }

    /// The public parameters of the dealing.
    pub fn public_params(&self) -> &PublicParams {
        &self.params
    }

    /// `v^{Δ s_i}` recomputed from the secret (constant time).
    fn recompute_verification_key(&self) -> BigUint {
        let p = &self.params.inner;
        p.nn.pow_secret(&p.v, &self.x, p.x_bits)
    }

    /// The partial decryption `c_i = c^{2Δ s_i} mod n²` of `ct` with its
    /// proof (three constant-time exponentiations modulo `n²`: one with
    /// the share, two with the proof nonce). Deterministic in `c_i`; the
    /// proof is fresh each call.
    ///
    /// # Errors
    /// `Error::Paillier(KeyMismatch)` if `ct` is under another key.
    pub fn partial_decrypt<C: ThresholdCiphertext, R: RngCore + CryptoRng>(
        &self,
        ct: &C,
        rng: &mut R,
    ) -> Result<PartialDecryption> {
        let c = self.params.check_ciphertext(ct)?;
        let p = &self.params.inner;
        let idx = self
            .params
            .index(self.party)
            .ok_or(Error::UnexpectedParty { party: self.party })?;
        let nn = &p.ns1;
        let c2 = (c * c) % nn;
        let c4 = (&c2 * &c2) % nn;
        let ci = p.nn.pow_secret(&c2, &self.x, p.x_bits);
        let r = random_limbs(p.nonce_bits, rng);
        let a = p.nn.pow_secret(&c4, &r, p.nonce_bits);
        let b = p.nn.pow_secret(&p.v, &r, p.nonce_bits);
        let e = challenge(p.pk.n(), p.s, &p.v, &p.vks[idx], self.party, c, &ci, &a, &b);
        let z = from_limbs(&mul_add(&r, &challenge_limbs(&e), &self.x));
        Ok(PartialDecryption {
            key: p.pk.fingerprint(),
            party: self.party,
            value: ci,
            proof: Proof { e, z },
        })
    }
}

/// The trusted dealer: generates the safe-prime modulus and deals the
/// shares. It must forget `p`, `q` and `d` afterwards (this code wipes its
/// copies, best effort for `num-bigint` temporaries).
#[derive(Clone, Copy, Debug)]
pub struct Dealer;

impl Dealer {
    /// Generates safe primes `p`, `q` of `bits / 2` bits each (top two bits
    /// set, so `n` has exactly `bits` bits) and deals `parties` threshold
    /// Paillier shares with threshold `t`. Safe-prime generation takes a
    /// few seconds at 2048 bits (measured 1–5 s), more at 3072.
    ///
    /// # Errors
    /// [`Error::InvalidThreshold`] unless `1 ≤ t ≤ parties ≤ MAX_PARTIES`;
    /// `Error::Paillier(InsecureKeySize)` for sizes below 2048 bits not
    /// requested through [`Bits::Insecure`], odd sizes, or sizes outside
    /// `[64, 8192]`.
    pub fn deal<R: RngCore + CryptoRng>(
        bits: Bits,
        t: usize,
        parties: usize,
        rng: &mut R,
    ) -> Result<(PublicParams, Vec<KeyShare>)> {
        Self::deal_dj(bits, 1, t, parties, rng)
    }

    /// As [`Self::deal`] for Damgård–Jurik with exponent `s` (plaintexts
    /// modulo `n^s`, ciphertexts [`DjCiphertext`] modulo `n^{s+1}`); `s = 1`
    /// is [`Self::deal`].
    ///
    /// # Errors
    /// As [`Self::deal`]; [`Error::Malformed`] unless `1 ≤ s ≤ MAX_S` and
    /// `(s + 1)·bits ≤ MAX_CIPHERTEXT_MODULUS_BITS`.
    pub fn deal_dj<R: RngCore + CryptoRng>(
        bits: Bits,
        s: u32,
        t: usize,
        parties: usize,
        rng: &mut R,
    ) -> Result<(PublicParams, Vec<KeyShare>)> {
        check_threshold(t, parties)?;
        let b = bits.bits();
        let insecure = matches!(bits, Bits::Insecure(_));
        check_size(b, insecure)?;
        check_s(s, b)?;
        loop {
            let p = primes::gen_safe_prime(b / 2, rng);
            let q = primes::gen_safe_prime(b / 2, rng);
            if p == q {
                continue;
            }
            match Self::deal_inner(p, q, s, t, parties, insecure, rng) {
                Err(Error::Paillier(::paillier::Error::InvalidKey { .. })) => continue,
                r => return r,
            }
        }
    }

    /// Deals threshold Paillier shares from known safe primes (re-tested),
    /// `n = pq` of at least 2048 bits.
    ///
    /// # Errors
    /// As [`Self::deal`]; `Error::Paillier(InvalidKey)` if `p` or `q` is not
    /// a safe prime or `p = q`.
    pub fn deal_with_primes<R: RngCore + CryptoRng>(
        p: BigUint,
        q: BigUint,
        t: usize,
        parties: usize,
        rng: &mut R,
    ) -> Result<(PublicParams, Vec<KeyShare>)> {
        Self::deal_checked(p, q, 1, t, parties, false, rng)
    }

    /// As [`Self::deal_with_primes`] but accepts moduli from 64 bits: the
    /// explicit insecure opt-out, for tests and demonstrations (see
    /// [`test_primes`]).
    ///
    /// # Errors
    /// As [`Self::deal_with_primes`] except for the lower size bound.
    pub fn deal_with_primes_insecure<R: RngCore + CryptoRng>(
        p: BigUint,
        q: BigUint,
        t: usize,
        parties: usize,
        rng: &mut R,
    ) -> Result<(PublicParams, Vec<KeyShare>)> {
        Self::deal_checked(p, q, 1, t, parties, true, rng)
    }

    /// Damgård–Jurik shares (exponent `s`) from known safe primes; `insecure`
    /// is the explicit opt-out for moduli below 2048 bits.
    ///
    /// # Errors
    /// As [`Self::deal_with_primes`] and [`Self::deal_dj`].
    pub fn deal_dj_with_primes<R: RngCore + CryptoRng>(
        p: BigUint,
        q: BigUint,
        s: u32,
        t: usize,
        parties: usize,
        insecure: bool,
        rng: &mut R,
    ) -> Result<(PublicParams, Vec<KeyShare>)> {
        Self::deal_checked(p, q, s, t, parties, insecure, rng)
    }

    fn deal_checked<R: RngCore + CryptoRng>(
        p: BigUint,
        q: BigUint,
        s: u32,
        t: usize,
        parties: usize,
        insecure: bool,
        rng: &mut R,
    ) -> Result<(PublicParams, Vec<KeyShare>)> {
        check_threshold(t, parties)?;
        let bits = (&p * &q).bits();
        check_size(bits, insecure)?;
        check_s(s, bits)?;
        if p == q {
            return Err(key_err("p and q must be distinct"));
        }
        if !primes::is_safe_prime(&p) || !primes::is_safe_prime(&q) {
            return Err(key_err("p and q must be safe primes"));
        }
        Self::deal_inner(p, q, s, t, parties, insecure, rng)
    }

    fn deal_inner<R: RngCore + CryptoRng>(
        mut p: BigUint,
        mut q: BigUint,
        s: u32,
        t: usize,
        parties: usize,
        insecure: bool,
        rng: &mut R,
    ) -> Result<(PublicParams, Vec<KeyShare>)> {
        let n = &p * &q;
        let ns = num_traits::pow(n.clone(), s as usize);
        let nn = &ns * &n; // n^{s+1}
        let mut m = (&p >> 1u32) * (&q >> 1u32);
        wipe(&mut p);
        wipe(&mut q);
        if !n.gcd(&m).is_one() {
            wipe(&mut m);
            return Err(key_err("gcd(n, p'q') != 1"));
        }
        let mut nm = &ns * &m;
        // d ≡ 0 (mod m), d ≡ 1 (mod n^s).
        let mut minv = (&m % &ns)
            .modinv(&ns)
            .ok_or(key_err("p'q' is not invertible modulo n"))?;
        let mut coeffs = Vec::with_capacity(t);
        coeffs.push((&m * &minv) % &nm);
        wipe(&mut minv);
        wipe(&mut m);
        for _ in 1..t {
            coeffs.push(rng.gen_biguint_below(&nm));
        }
        // Verification base: a random square of Z*_{n^{s+1}} (it generates
        // the squares with overwhelming probability).
        let v = loop {
            let r = rng.gen_biguint_below(&nn);
            if r.is_zero() || !r.gcd(&n).is_one() {
                continue;
            }
            let v = (&r * &r) % &nn;
            if !v.is_one() {
                break v;
            }
        };
        let delta = factorial(parties);
        let delta_limbs = delta.to_u64_digits();
        let x_bits = nn.bits() as usize + delta.bits() as usize;
        let share_limbs = (nn.bits() as usize).div_ceil(64);
        let ctx = Modulus::new(&nn).ok_or(key_err("modulus"))?;
        let mut secrets = Vec::with_capacity(parties);
        let mut vks = Vec::with_capacity(parties);
        for i in 1..=parties as u64 {
            // Horner: s_i = f(i) mod n^s m.
            let mut si = BigUint::zero();
            for a in coeffs.iter().rev() {
                si = (si * i + a) % &nm;
            }
            let limbs = to_limbs(&si, share_limbs).ok_or(key_err("share size"))?;
            wipe(&mut si);
            let x = mul_add(&[], &limbs, &delta_limbs);
            vks.push(ctx.pow_secret(&v, &x, x_bits));
            secrets.push(limbs);
        }
        for c in coeffs.iter_mut() {
            wipe(c);
        }
        wipe(&mut nm);
        let params = PublicParams::from_parts(n, insecure, s, t, parties, v, vks)?;
        let shares = secrets
            .into_iter()
            .zip(1u32..)
            .map(|(s, i)| KeyShare::new(params.clone(), PartyId(i), s))
            .collect();
        Ok((params, shares))
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for ::paillier::Ciphertext {}
    impl Sealed for super::DjCiphertext {}
}

/// A ciphertext that threshold decryption accepts: a
/// [`paillier::Ciphertext`] under the threshold public key (parameters
/// with `s = 1`) or a [`DjCiphertext`] of the same parameters. Sealed.
pub trait ThresholdCiphertext: sealed::Sealed {
    /// The ciphertext value after checking it belongs to `params`.
    ///
    /// # Errors
    /// `Error::Paillier(KeyMismatch)` for a ciphertext under another key;
    /// [`Error::ParameterMismatch`] for a Paillier ciphertext given to
    /// Damgård–Jurik parameters with `s > 1`.
    fn value_for<'a>(&'a self, params: &PublicParams) -> Result<&'a BigUint>;
}

impl ThresholdCiphertext for Ciphertext {
    fn value_for<'a>(&'a self, params: &PublicParams) -> Result<&'a BigUint> {
        if self.public_key() != &params.inner.pk {
            return Err(Error::Paillier(::paillier::Error::KeyMismatch));
        }
        if params.inner.s != 1 {
            return Err(Error::ParameterMismatch {
                what: "a Paillier ciphertext (s = 1) given to Damgård–Jurik parameters with s > 1",
            });
        }
        Ok(self.value())
    }
}

/// A Damgård–Jurik ciphertext `c = (1 + n)^m r^{n^s} mod n^{s+1}` of
/// `m ∈ [0, n^s)` under threshold parameters (any `s`; for `s = 1` it is a
/// Paillier ciphertext). Carries its parameters; operations between
/// ciphertexts of different parameters are errors.
#[derive(Clone, PartialEq, Eq)]
pub struct DjCiphertext {
    c: BigUint,
    params: PublicParams,
}

impl core::fmt::Debug for DjCiphertext {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DjCiphertext")
            .field(
                "key",
                &format_args!("{:016x}", self.params.inner.pk.fingerprint()),
            )
            .field("s", &self.params.inner.s)
            .field("bits", &self.c.bits())
            .finish()
    }
}

impl ThresholdCiphertext for DjCiphertext {
    fn value_for<'a>(&'a self, params: &PublicParams) -> Result<&'a BigUint> {
        if self.params != *params {
            return Err(Error::Paillier(::paillier::Error::KeyMismatch));
        }
        Ok(&self.c)
    }
}

impl PublicParams {
    /// Encrypts `m ∈ [0, n^s)` with the Damgård–Jurik scheme of these
    /// parameters: `c = (1 + n)^m r^{n^s} mod n^{s+1}`, fresh `r ∈ Z*_n`.
    ///
    /// # Errors
    /// `Error::Paillier(PlaintextOutOfRange)` if `m ≥ n^s`.
    pub fn encrypt_dj<R: RngCore + CryptoRng>(
        &self,
        m: &BigUint,
        rng: &mut R,
    ) -> Result<DjCiphertext> {
        let p = &self.inner;
        if m >= &p.ns {
            return Err(Error::Paillier(::paillier::Error::PlaintextOutOfRange {
                n_bits: p.ns.bits(),
            }));
        }
        let mut r = p.pk.random_r(rng);
        let g_m = p.nn.pow_public(&(p.pk.n() + 1u32), m);
        let noise = p.nn.pow_public(&r, &p.ns);
        wipe(&mut r);
        Ok(DjCiphertext {
            c: (g_m * noise) % &p.ns1,
            params: self.clone(),
        })
    }

    /// Checks `c` is a unit of `Z_{n^{s+1}}` and wraps it.
    ///
    /// # Errors
    /// `Error::Paillier(InvalidCiphertext)` naming the failed check.
    pub fn dj_ciphertext(&self, c: BigUint) -> Result<DjCiphertext> {
        unit_check(&c, self.inner.pk.n(), &self.inner.ns1)
            .map_err(|reason| Error::Paillier(::paillier::Error::InvalidCiphertext { reason }))?;
        Ok(DjCiphertext {
            c,
            params: self.clone(),
        })
    }
}

impl DjCiphertext {
    /// The value `c ∈ [1, n^{s+1})`.
    pub fn value(&self) -> &BigUint {
        &self.c
    }

    /// The parameters it belongs to.
    pub fn public_params(&self) -> &PublicParams {
        &self.params
    }

    /// `Enc(a + b)`: the product modulo `n^{s+1}`.
    ///
    /// # Errors
    /// `Error::Paillier(KeyMismatch)` for ciphertexts of other parameters.
    pub fn add(&self, other: &DjCiphertext) -> Result<DjCiphertext> {
        other.value_for(&self.params)?;
        Ok(DjCiphertext {
            c: (&self.c * &other.c) % &self.params.inner.ns1,
            params: self.params.clone(),
        })
    }

    /// `Enc(k a mod n^s)` for a public scalar `k` (variable time in `k`).
    pub fn mul_scalar(&self, k: &BigUint) -> DjCiphertext {
        let p = &self.params.inner;
        DjCiphertext {
            c: p.nn.pow_public(&self.c, &(k % &p.ns)),
            params: self.params.clone(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// The Damgård–Jurik discrete logarithm recovers `i mod n^s` from
    /// `(1 + n)^i mod n^{s+1}` for s = 1..5 (odd `n` with small factors
    /// above `s`, random and edge exponents).
    #[test]
    fn dlog_one_plus_n_inverts_the_power() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(12);
        let n = BigUint::from(1_000_000_007u64) * BigUint::from(998_244_353u64);
        for s in 1..=5u32 {
            let ns = num_traits::pow(n.clone(), s as usize);
            let ns1 = &ns * &n;
            let g = &n + 1u32;
            let mut cases: Vec<BigUint> = (0..20).map(|_| rng.gen_biguint_below(&ns)).collect();
            cases.extend([BigUint::zero(), BigUint::one(), &ns - 1u32, n.clone()]);
            for i in cases {
                let i = i % &ns;
                let a = g.modpow(&i, &ns1);
                assert_eq!(dlog_one_plus_n(&a, &n, s), i, "s = {s}");
                // Exponents beyond n^s wrap.
                let a = g.modpow(&(&i + &ns * 3u32), &ns1);
                assert_eq!(dlog_one_plus_n(&a, &n, s), i, "s = {s}");
            }
        }
    }
}
