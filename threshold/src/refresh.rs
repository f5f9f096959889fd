//! Collective refresh ("threshold bootstrapping"): parties holding shares
//! of a collective key turn a ciphertext that has used up its levels into a
//! fresh one at the top level, together, without decrypting it (Mouchet,
//! Troncoso-Pastoriza, Bossuat, Hubaux, PETS 2021, the refresh protocol).
//! Under a threshold key no single party can bootstrap; this is the cheap
//! path: one round, two polynomials per party.
//!
//! For a ciphertext `(c_0, c_1)` at level `l` and a common polynomial `a`
//! over the top-level modulus `Q_L` (expanded from the session's [`Crs`]
//! and the ciphertext), every party `i` of the active set sends
//!
//! * `h0_i = c_1·s_i + M_i + e_i (mod Q_l)` — a decryption share masked by
//!   its own mask `M_i`;
//! * `h1_i = −a·s_i − M_i + e'_i (mod Q_L)` — the same mask under the key.
//!
//! The aggregator computes `X = c_0 + Σ h0_i = m + ΣM_i + noise`, re-reads
//! it at the top level and outputs `(X + Σ h1_i, a)`, whose phase is
//! `m + ΣM_i − ΣM_i + noise`: the masks cancel, the message stays, and the
//! noise is that of a fresh encryption.
//!
//! * **CKKS** ([`Party::refresh_share_ckks`]): `M_i` is a Gaussian of width
//!   `2^λ` times a public bound `B` on the phase coefficients (λ = 40, the
//!   smudging argument: one honest party's mask hides `m` and its noise);
//!   `X` is lifted exactly, which needs `Q_l > 2·(B + 6·√n·2^λ·B)`, so the
//!   refresh runs at a level with about `λ + log2 B + 5` bits of modulus
//!   left (level 2 of a 40-bit chain). Nothing of the precision is lost
//!   beyond the fresh-encryption noise.
//! * **BFV** ([`Party::refresh_share_bfv`]): `M_i` is uniform modulo `t`,
//!   scaled by `Δ_l` in `h0` and `Δ_L` in `h1`; the aggregator decodes
//!   `m − ΣM_i mod t` from `X` (uniform, so it reveals nothing) and `h0`
//!   carries smudging noise ([`Smudging::for_bfv`]) because `X`'s noise is
//!   seen. Works down to the lowest level whose modulus holds the noise,
//!   2^λ and `t` (level 1 of the N = 8192 preset).
//!
//! t-of-n works as for decryption: the members of an [`ActiveSet`] use
//! their Lagrange-weighted Shamir shares. A party answers once per
//! ciphertext ([`Error::ShareReused`]); shares of another ciphertext or
//! session carry another instance seed and are refused
//! ([`Error::InvalidShare`]).
//!
//! **Threat model.** The aggregator learns `m + ΣM_i + noise` (CKKS) or
//! `m − ΣM_i mod t` (BFV): nothing while one mask is honest. A cheating
//! party can add any offset to the refreshed message (as with decryption
//! shares, only the zero-knowledge proofs of the verifiable-encryption
//! issue can stop that); it cannot learn anything more than from a
//! decryption share.

use std::sync::Arc;

use num_bigint::{BigInt, BigUint};
use num_traits::ToPrimitive;
use rand::{CryptoRng, RngCore};
use rlwe::ciphertext::Ciphertext;
use rlwe::params::Params;
use rlwe::poly::{Poly, Representation, RingContext};
use rlwe::sample::{self, Seed};
use rlwe::serialize::PolyData;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::party::{ActiveSet, Party};
use crate::smudging::Smudging;
use crate::{Crs, Error, PartyId, Result, STATISTICAL_SECURITY};

const REFRESH: &str = "refresh";

/// A party's refresh share: `h0` over the ciphertext's level, `h1` over the
/// top level (both NTT form), bound to the instance seed.
#[derive(Clone, Debug)]
pub struct RefreshShare {
    party: PartyId,
    seed: Seed,
    h0: Poly,
    h1: Poly,
}

/// The sum of the refresh shares of every party of the active set.
#[derive(Clone, Debug)]
pub struct RefreshShares {
    params: Arc<Params>,
    /// `c_0 + Σ h0_i`, coefficient form, at the ciphertext's level.
    x: Poly,
    /// `Σ h1_i`, NTT form, top level.
    h1: Poly,
    a: Poly,
    parties: Vec<PartyId>,
}

/// The instance seed of refreshing `ct` in the session of `crs`: the CRS
/// seed for this protocol, hashed with the ciphertext's level and parts.
fn instance_seed(crs: &Crs, ct: &Ciphertext) -> Seed {
    let mut h = Sha256::new();
    h.update(crs.derive(REFRESH, 0));
    h.update((ct.level() as u64).to_le_bytes());
    for part in ct.parts() {
        for w in part.data() {
            h.update(w.to_le_bytes());
        }
    }
    h.finalize().into()
}

/// The common polynomial `a` (uniform over `Q_L`, NTT form).
fn common_poly(params: &Arc<Params>, seed: &Seed) -> Result<Poly> {
    let ring = params.ring_q(params.max_level())?;
    let mut r = sample::expand_seed(seed, b"hekit/threshold/refresh/a");
    Ok(sample::uniform_poly(ring, Representation::Ntt, &mut r))
}

fn two_part(ct: &Ciphertext) -> Result<()> {
    if ct.len() != 2 {
        return Err(Error::Rlwe(rlwe::Error::Malformed {
            what: "ciphertext",
            reason: "a refresh takes a 2-part ciphertext (relinearize first)".into(),
        }));
    }
    Ok(())
}

fn error_poly<R: RngCore + CryptoRng>(ring: &Arc<RingContext>, rng: &mut R) -> Poly {
    let mut e = sample::small_poly(ring, &sample::cbd(ring.degree(), rng));
    e.to_ntt();
    e
}

/// `Δ = ⌊Q/t⌋` over `ring` (one residue per prime).
fn delta(ring: &RingContext, t: u64) -> Vec<u64> {
    let d = ring.basis().product() / BigUint::from(t);
    ring.moduli()
        .iter()
        .map(|m| (&d % m.value()).to_u64().unwrap_or(0))
        .collect()
}

/// log2 of `Q` over `ring`.
fn log2_q(ring: &RingContext) -> f64 {
    ring.moduli()
        .iter()
        .map(|m| (m.value() as f64).log2())
        .sum()
}

impl Party {
    /// This party's share for refreshing a CKKS ciphertext whose phase
    /// coefficients are below `2^log2_phase_bound` in magnitude (public:
    /// `Δ·max|z| + noise`, e.g. `log2(scale·max_abs + 2^CkksNoise::log2_bound)`),
    /// with masks of width `2^(log2_phase_bound + λ)`, λ =
    /// [`STATISTICAL_SECURITY`]. `parties` is the number of shares that
    /// will be summed (the active set's size, or n).
    ///
    /// # Errors
    /// [`Error::SmudgingTooLarge`] when the ciphertext's level leaves no
    /// room for the masks (refresh at a higher level),
    /// [`Error::SmudgingTooWide`] for masks above 2^120, the errors of
    /// decryption shares (parameters, active set, a second share for the
    /// same ciphertext).
    pub fn refresh_share_ckks<R: RngCore + CryptoRng>(
        &mut self,
        ct: &ckks::Ciphertext,
        crs: &Crs,
        log2_phase_bound: f64,
        parties: usize,
        active: Option<&ActiveSet>,
        rng: &mut R,
    ) -> Result<RefreshShare> {
        let mask = ckks_mask(ct.rlwe(), log2_phase_bound, parties)?;
        self.refresh_share(ct.rlwe(), crs, active, rng, |ring_l, ring_top, rng| {
            let m = sample::gaussian_wide(ring_l.degree(), mask.log2_sigma(), rng)?;
            let mut h0 = sample::wide_poly(ring_l, &m);
            let mut h1 = sample::wide_poly(ring_top, &m);
            h0.to_ntt();
            h1.to_ntt();
            h1.neg_assign();
            Ok((h0, h1))
        })
    }

    /// This party's share for refreshing a BFV ciphertext (at a level with
    /// room for `smudging`): masks uniform modulo `t`; `h0` carries `smudging` noise
    /// ([`Smudging::for_bfv`] at the ciphertext's level with its noise
    /// bound, e.g. from [`BfvNoise`](crate::BfvNoise)).
    ///
    /// # Errors
    /// As for decryption shares.
    pub fn refresh_share_bfv<R: RngCore + CryptoRng>(
        &mut self,
        ct: &bfv::Ciphertext,
        crs: &Crs,
        smudging: &Smudging,
        active: Option<&ActiveSet>,
        rng: &mut R,
    ) -> Result<RefreshShare> {
        smudging.check_width()?;
        let t = ct.params().plaintext_modulus();
        self.refresh_share(ct.rlwe(), crs, active, rng, |ring_l, ring_top, rng| {
            let m: Vec<i64> = (0..ring_l.degree())
                .map(|_| {
                    // uniform in [0, t) up to a bias below t/2^64
                    let v = ((rng.next_u64() as u128 * t as u128) >> 64) as i64;
                    if v > (t / 2) as i64 {
                        v - t as i64
                    } else {
                        v
                    }
                })
                .collect();
            // h0: −Δ_l·M + smudging; h1: +Δ_L·M
            let mut h0 = sample::small_poly(ring_l, &m);
            h0.mul_scalar_rns_assign(&delta(ring_l, t))?;
            h0.neg_assign();
            h0.to_ntt();
            h0.add_assign(&smudging.sample(ring_l, rng)?)?;
            let mut h1 = sample::small_poly(ring_top, &m);
            h1.mul_scalar_rns_assign(&delta(ring_top, t))?;
            h1.to_ntt();
            Ok((h0, h1))
        })
    }

    /// The common part: `h0 = c_1·s_i + mask_0 + e` and
    /// `h1 = −a·s_i + mask_1 + e'`, the masks from `masks` (over the
    /// ciphertext's ring and the top ring, NTT form).
    fn refresh_share<R, F>(
        &mut self,
        ct: &Ciphertext,
        crs: &Crs,
        active: Option<&ActiveSet>,
        rng: &mut R,
        masks: F,
    ) -> Result<RefreshShare>
    where
        R: RngCore + CryptoRng,
        F: FnOnce(&Arc<RingContext>, &Arc<RingContext>, &mut R) -> Result<(Poly, Poly)>,
    {
        if self.params().fingerprint() != ct.params().fingerprint() {
            return Err(Error::ParameterMismatch {
                what: "refresh share for a ciphertext of other parameters",
            });
        }
        two_part(ct)?;
        let params = self.params().clone();
        let c1 = &ct.parts()[1];
        let ring_l = c1.context().clone();
        let ring_top = params.ring_q(params.max_level())?.clone();
        let s_l = self.secret_for(&ring_l, active)?;
        let s_top = self.secret_for(&ring_top, active)?;
        let seed = instance_seed(crs, ct);
        self.mark_used(REFRESH, &seed, &[])?;
        let a = common_poly(&params, &seed)?;
        let (mut h0, mut h1) = masks(&ring_l, &ring_top, rng)?;
        h0.add_assign(&error_poly(&ring_l, rng))?;
        h0.mul_acc(c1, &s_l)?;
        h1.add_assign(&error_poly(&ring_top, rng))?;
        let mut as_i = Poly::mul(&a, &s_top)?;
        as_i.neg_assign();
        h1.add_assign(&as_i)?;
        Ok(RefreshShare {
            party: self.id(),
            seed,
            h0,
            h1,
        })
    }
}

/// The CKKS mask width, checked against the room the ciphertext's level
/// leaves.
fn ckks_mask(ct: &Ciphertext, log2_phase_bound: f64, parties: usize) -> Result<Smudging> {
    if !log2_phase_bound.is_finite() {
        return Err(ckks::Error::InvalidArgument {
            what: format!("phase bound 2^{log2_phase_bound} must be finite"),
        }
        .into());
    }
    let mask = Smudging::new(log2_phase_bound, STATISTICAL_SECURITY);
    // X = phase + ΣM + noise must be read exactly: |X| < Q_l / 2.
    let room = log2_q(ct.parts()[1].context()) - 1.0;
    mask.check(parties, log2_phase_bound, room)?;
    Ok(mask)
}

impl RefreshShare {
    /// The party that made it.
    pub fn party(&self) -> PartyId {
        self.party
    }

    /// Serialized share (for ciphertexts of `params`).
    ///
    /// # Errors
    /// [`Error::Rlwe`] if the share's rings are not those of `params`.
    pub fn to_bytes(&self, params: &Params) -> Result<Vec<u8>> {
        let body = RefreshBody {
            party: self.party.0,
            seed: self.seed,
            level: params.level_of(self.h0.context())? as u32,
            h0: PolyData::from_poly(&self.h0),
            h1: PolyData::from_poly(&self.h1),
        };
        Ok(crate::wire::write(params, b"thr/rfs1", &body))
    }

    /// Reads a share for `params`.
    ///
    /// # Errors
    /// [`Error::Malformed`] (another message, bad party id, bad level),
    /// the envelope and polynomial errors of `rlwe`.
    pub fn from_bytes(params: &Arc<Params>, bytes: &[u8]) -> Result<Self> {
        const WHAT: &str = "refresh share";
        let b: RefreshBody = crate::wire::read(params, b"thr/rfs1", WHAT, bytes)?;
        let ring_l = params.ring_q(b.level as usize)?;
        let ring_top = params.ring_q(params.max_level())?;
        let mut h0 = b.h0.into_poly(ring_l)?;
        let mut h1 = b.h1.into_poly(ring_top)?;
        h0.to_ntt();
        h1.to_ntt();
        Ok(Self {
            party: crate::wire::check_party(WHAT, b.party)?,
            seed: b.seed,
            h0,
            h1,
        })
    }
}

#[derive(Serialize, Deserialize)]
struct RefreshBody {
    party: u32,
    seed: Seed,
    level: u32,
    h0: PolyData,
    h1: PolyData,
}

impl RefreshShares {
    /// Sums the shares of every party (N-of-N, `active = None`) or of every
    /// member of the active set for refreshing `ct` in the session of `crs`.
    ///
    /// # Errors
    /// [`Error::TooFewShares`], [`Error::DuplicateParty`],
    /// [`Error::UnexpectedParty`]; [`Error::InvalidShare`] for a share of
    /// another ciphertext or session or over the wrong rings.
    pub fn aggregate(
        ct: &Ciphertext,
        crs: &Crs,
        shares: impl IntoIterator<Item = RefreshShare>,
        active: Option<&ActiveSet>,
    ) -> Result<Self> {
        two_part(ct)?;
        let shares: Vec<RefreshShare> = shares.into_iter().collect();
        let parties: Vec<PartyId> = shares.iter().map(|s| s.party).collect();
        crate::protocols::check_set(&parties, active)?;
        if shares.is_empty() {
            return Err(Error::TooFewShares { got: 0, need: 1 });
        }
        let params = ct.params().clone();
        let seed = instance_seed(crs, ct);
        let ring_l = ct.parts()[0].context().clone();
        let ring_top = params.ring_q(params.max_level())?.clone();
        let mut x = ct.parts()[0].clone();
        let mut h1 = Poly::zero(&ring_top, Representation::Ntt);
        for s in &shares {
            if s.seed != seed {
                return Err(Error::InvalidShare {
                    party: s.party,
                    reason: "share of another ciphertext or session".into(),
                });
            }
            crate::protocols::check_share_poly(s.party, &s.h0, &ring_l)?;
            crate::protocols::check_share_poly(s.party, &s.h1, &ring_top)?;
            x.add_assign(&s.h0)?;
            h1.add_assign(&s.h1)?;
        }
        x.to_coeff();
        Ok(Self {
            a: common_poly(&params, &seed)?,
            params,
            x,
            h1,
            parties,
        })
    }

    /// The parties whose shares were summed.
    pub fn parties(&self) -> &[PartyId] {
        &self.parties
    }

    /// `(lift(X) + Σ h1, a)` at the top level for a lifted `X` (NTT form).
    fn assemble(&self, mut c0: Poly) -> Result<Ciphertext> {
        c0.add_assign(&self.h1)?;
        Ok(Ciphertext::new(&self.params, vec![c0, self.a.clone()])?)
    }

    /// The refreshed CKKS ciphertext at the top level, same scale.
    ///
    /// # Errors
    /// [`ckks::Error`] for a scale that is not finite and positive or
    /// parameters that do not match.
    pub fn finish_ckks(&self, params: &ckks::Parameters, scale: f64) -> Result<ckks::Ciphertext> {
        let ring_top = self.params.ring_q(self.params.max_level())?;
        // X is below Q_l/2 (checked by every share): its centered value is
        // the integer to carry over.
        let coeffs: Vec<BigInt> = self.x.centered_coeffs();
        let mut c0 = Poly::from_bigints(ring_top, &coeffs)?;
        c0.to_ntt();
        Ok(ckks::Ciphertext::from_rlwe(
            params,
            self.assemble(c0)?,
            scale,
        )?)
    }

    /// The refreshed BFV ciphertext at the top level.
    ///
    /// # Errors
    /// [`bfv::Error`] for parameters that do not match.
    pub fn finish_bfv(
        &self,
        params: &Arc<bfv::Parameters>,
        encoding: bfv::Encoding,
    ) -> Result<bfv::Ciphertext> {
        let t = params.plaintext_modulus();
        // m' = m − ΣM mod t, uniform: decoded from X as a decryption would.
        let pt = bfv::Plaintext::from_phase(params, &self.x, encoding)?;
        let m: Vec<i64> = pt
            .coefficients()
            .iter()
            .map(|&v| {
                if v > t / 2 {
                    v as i64 - t as i64
                } else {
                    v as i64
                }
            })
            .collect();
        let ring_top = self.params.ring_q(self.params.max_level())?;
        let mut c0 = sample::small_poly(ring_top, &m);
        c0.mul_scalar_rns_assign(&delta(ring_top, t))?;
        c0.to_ntt();
        Ok(bfv::Ciphertext::from_rlwe(
            params,
            self.assemble(c0)?,
            encoding,
        )?)
    }
}
