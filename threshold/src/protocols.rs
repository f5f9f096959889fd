//! The lattice protocols: collective public, relinearization and Galois
//! keys, collective decryption and public-key switching. Each has a share
//! type made by a [`Party`], an aggregate that sums shares in any order, and
//! a `finish` that yields the ordinary object.

use std::collections::BTreeSet;
use std::sync::Arc;

use rand::{CryptoRng, RngCore};
use rlwe::ciphertext::Ciphertext;
use rlwe::keys::{add_gadget, GaloisKey, KeySwitchKey, PublicKey, RelinKey};
use rlwe::params::Params;
use rlwe::poly::{Poly, Representation, RingContext};
use rlwe::sample::{self, Seed};
use zeroize::Zeroize;

use crate::party::{ActiveSet, Party};
use crate::smudging::Smudging;
use crate::{Crs, Error, PartyId, Result};

const PK: &str = "public-key";
const RLK: &str = "relinearization-key";
const GALOIS: &str = "galois-key";
pub(crate) const DECRYPT: &str = "decryption";
const PCKS: &str = "public-key-switch";

/// A fresh error polynomial (CBD, σ ≈ 3.24) in NTT form.
fn error_poly<R: RngCore + CryptoRng>(ring: &Arc<RingContext>, rng: &mut R) -> Poly {
    let mut e = sample::small_poly(ring, &sample::cbd(ring.degree(), rng));
    e.to_ntt();
    e
}

/// Keeps track of who contributed to an aggregate.
#[derive(Debug, Default, Clone)]
struct Contributors(BTreeSet<PartyId>);

impl Contributors {
    fn add(&mut self, p: PartyId) -> Result<()> {
        if !self.0.insert(p) {
            return Err(Error::DuplicateParty { party: p });
        }
        Ok(())
    }
}

pub(crate) fn check_params(a: &Params, b: &Params) -> Result<()> {
    if a.fingerprint() != b.fingerprint() {
        return Err(Error::ParameterMismatch {
            what: "shares of different parameters",
        });
    }
    Ok(())
}

pub(crate) fn check_share_poly(party: PartyId, p: &Poly, ring: &RingContext) -> Result<()> {
    if !p.context().same_ring(ring) || p.representation() != Representation::Ntt {
        return Err(Error::InvalidShare {
            party,
            reason: "polynomial over the wrong ring or not in NTT form".into(),
        });
    }
    Ok(())
}

// ---------------------------------------------------------------- public key

/// A party's public-key share `b_i = −a·s_i + e_i`.
#[derive(Clone, Debug)]
pub struct PublicKeyShare {
    pub(crate) party: PartyId,
    pub(crate) params: Arc<Params>,
    pub(crate) seed: Seed,
    pub(crate) b: Poly,
}

impl PublicKeyShare {
    /// The party that made it.
    pub fn party(&self) -> PartyId {
        self.party
    }
}

/// The sum of public-key shares.
#[derive(Clone, Debug)]
pub struct PublicKeyShares {
    params: Arc<Params>,
    seed: Seed,
    b: Poly,
    contributors: Contributors,
}

impl Party {
    /// This party's share of the collective public key.
    pub fn public_key_share<R: RngCore + CryptoRng>(
        &mut self,
        crs: &Crs,
        rng: &mut R,
    ) -> Result<PublicKeyShare> {
        let seed = crs.derive(PK, 0);
        self.mark_used(PK, &seed, &[])?;
        let params = self.params().clone();
        let a = PublicKey::expand_a(&params, &seed);
        let b = PublicKey::share(self.secret(), &a, rng)?;
        Ok(PublicKeyShare {
            party: self.id(),
            params,
            seed,
            b,
        })
    }
}

impl PublicKeyShares {
    /// Sums the shares (any order); every party at most once.
    pub fn aggregate(shares: impl IntoIterator<Item = PublicKeyShare>) -> Result<Self> {
        let mut it = shares.into_iter();
        let first = it.next().ok_or(Error::TooFewShares { got: 0, need: 1 })?;
        let mut agg = Self {
            params: first.params.clone(),
            seed: first.seed,
            b: first.b.clone(),
            contributors: Contributors::default(),
        };
        check_share_poly(first.party, &first.b, agg.params.ring_qp_top())?;
        agg.contributors.add(first.party)?;
        for s in it {
            agg.add(s)?;
        }
        Ok(agg)
    }

    /// Adds one more share.
    pub fn add(&mut self, s: PublicKeyShare) -> Result<()> {
        check_params(&self.params, &s.params)?;
        if s.seed != self.seed {
            return Err(Error::InvalidShare {
                party: s.party,
                reason: "share made with another common reference string".into(),
            });
        }
        check_share_poly(s.party, &s.b, self.params.ring_qp_top())?;
        self.contributors.add(s.party)?;
        self.b.add_assign(&s.b)?;
        Ok(())
    }

    /// The parties that contributed.
    pub fn parties(&self) -> Vec<PartyId> {
        self.contributors.0.iter().copied().collect()
    }

    /// The collective public key `(Σ b_i, a)`, usable by `bfv`/`ckks` as is.
    pub fn finish(self) -> Result<PublicKey> {
        Ok(PublicKey::from_parts(&self.params, self.seed, self.b)?)
    }
}

// ------------------------------------------------------- relinearization key

/// Round-one share of the relinearization-key protocol.
#[derive(Clone, Debug)]
pub struct RelinRound1Share {
    pub(crate) party: PartyId,
    pub(crate) params: Arc<Params>,
    pub(crate) seed: Seed,
    pub(crate) h0: Vec<Poly>,
    pub(crate) h1: Vec<Poly>,
}

impl RelinRound1Share {
    /// The party that made it.
    pub fn party(&self) -> PartyId {
        self.party
    }
}

/// The party's ephemeral secret `u_i` between the two rounds (zeroized on
/// drop, consumed by round two).
pub struct RelinEphemeral {
    party: PartyId,
    seed: Seed,
    u: Poly,
}

impl std::fmt::Debug for RelinEphemeral {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelinEphemeral")
            .field("party", &self.party)
            .finish_non_exhaustive()
    }
}

impl Drop for RelinEphemeral {
    fn drop(&mut self) {
        self.u.zeroize();
    }
}

/// Aggregate of round one: `h0 = Σ h0_i`, `h1 = Σ h1_i`.
#[derive(Clone, Debug)]
pub struct RelinKeyRound1 {
    params: Arc<Params>,
    seed: Seed,
    h0: Vec<Poly>,
    h1: Vec<Poly>,
    contributors: Contributors,
}

/// Round-two share.
#[derive(Clone, Debug)]
pub struct RelinRound2Share {
    pub(crate) party: PartyId,
    pub(crate) params: Arc<Params>,
    pub(crate) seed: Seed,
    pub(crate) h0: Vec<Poly>,
    pub(crate) h1: Vec<Poly>,
}

impl RelinRound2Share {
    /// The party that made it.
    pub fn party(&self) -> PartyId {
        self.party
    }
}

/// Aggregate of round two, finished into the relinearization key.
#[derive(Clone, Debug)]
pub struct RelinKeyRound2 {
    round1: RelinKeyRound1,
    sum: Vec<Poly>,
    contributors: Contributors,
}

fn add_vec(acc: &mut [Poly], x: &[Poly]) -> Result<()> {
    for (a, b) in acc.iter_mut().zip(x) {
        a.add_assign(b)?;
    }
    Ok(())
}

fn check_vec(party: PartyId, v: &[Poly], params: &Params) -> Result<()> {
    if v.len() != params.digits() {
        return Err(Error::InvalidShare {
            party,
            reason: format!("{} digits, parameters have {}", v.len(), params.digits()),
        });
    }
    for p in v {
        check_share_poly(party, p, params.ring_qp_top())?;
    }
    Ok(())
}

impl Party {
    /// Round one: `h0_i[j] = −u_i·a_j + P·g_j·s_i + e`, `h1_i[j] = s_i·a_j + e'`
    /// with a fresh ephemeral ternary `u_i` (returned, for round two).
    pub fn relin_key_round1<R: RngCore + CryptoRng>(
        &mut self,
        crs: &Crs,
        rng: &mut R,
    ) -> Result<(RelinRound1Share, RelinEphemeral)> {
        let seed = crs.derive(RLK, 0);
        self.mark_used(RLK, &seed, &[])?;
        let params = self.params().clone();
        let ring = params.ring_qp_top();
        let a = KeySwitchKey::expand_a(&params, &seed);
        let mut u = sample::small_poly(ring, &sample::ternary(ring.degree(), rng));
        u.to_ntt();
        let s = self.secret().ntt_qp();
        let mut h0 = Vec::with_capacity(a.len());
        let mut h1 = Vec::with_capacity(a.len());
        for aj in &a {
            let mut x = error_poly(ring, rng);
            let mut ua = Poly::mul(&u, aj)?;
            ua.neg_assign();
            x.add_assign(&ua)?;
            h0.push(x);
            let mut y = error_poly(ring, rng);
            y.mul_acc(s, aj)?;
            h1.push(y);
        }
        add_gadget(&params, &mut h0, s)?;
        Ok((
            RelinRound1Share {
                party: self.id(),
                params,
                seed,
                h0,
                h1,
            },
            RelinEphemeral {
                party: self.id(),
                seed,
                u,
            },
        ))
    }

    /// Round two: `h0'_i[j] = s_i·h0[j] + e`, `h1'_i[j] = (u_i − s_i)·h1[j] + e'`.
    pub fn relin_key_round2<R: RngCore + CryptoRng>(
        &mut self,
        ephemeral: RelinEphemeral,
        round1: &RelinKeyRound1,
        rng: &mut R,
    ) -> Result<RelinRound2Share> {
        if ephemeral.party != self.id() || ephemeral.seed != round1.seed {
            return Err(Error::InvalidShare {
                party: self.id(),
                reason: "ephemeral secret of another party or session".into(),
            });
        }
        check_params(self.params(), &round1.params)?;
        let params = self.params().clone();
        let ring = params.ring_qp_top();
        let s = self.secret().ntt_qp();
        let mut u_minus_s = ephemeral.u.clone();
        u_minus_s.sub_assign(s)?;
        let mut h0 = Vec::with_capacity(round1.h0.len());
        let mut h1 = Vec::with_capacity(round1.h1.len());
        for (a, b) in round1.h0.iter().zip(&round1.h1) {
            let mut x = error_poly(ring, rng);
            x.mul_acc(s, a)?;
            h0.push(x);
            let mut y = error_poly(ring, rng);
            y.mul_acc(&u_minus_s, b)?;
            h1.push(y);
        }
        u_minus_s.zeroize();
        Ok(RelinRound2Share {
            party: self.id(),
            params,
            seed: round1.seed,
            h0,
            h1,
        })
    }
}

impl RelinKeyRound1 {
    /// Sums round-one shares.
    pub fn aggregate(shares: impl IntoIterator<Item = RelinRound1Share>) -> Result<Self> {
        let mut it = shares.into_iter();
        let first = it.next().ok_or(Error::TooFewShares { got: 0, need: 1 })?;
        check_vec(first.party, &first.h0, &first.params)?;
        check_vec(first.party, &first.h1, &first.params)?;
        let mut agg = Self {
            params: first.params.clone(),
            seed: first.seed,
            h0: first.h0.clone(),
            h1: first.h1.clone(),
            contributors: Contributors::default(),
        };
        agg.contributors.add(first.party)?;
        for s in it {
            check_params(&agg.params, &s.params)?;
            if s.seed != agg.seed {
                return Err(Error::InvalidShare {
                    party: s.party,
                    reason: "share made with another common reference string".into(),
                });
            }
            check_vec(s.party, &s.h0, &agg.params)?;
            check_vec(s.party, &s.h1, &agg.params)?;
            agg.contributors.add(s.party)?;
            add_vec(&mut agg.h0, &s.h0)?;
            add_vec(&mut agg.h1, &s.h1)?;
        }
        Ok(agg)
    }
}

impl RelinKeyRound1 {
    /// The parties that contributed.
    pub fn parties(&self) -> Vec<PartyId> {
        self.contributors.0.iter().copied().collect()
    }
}

impl RelinKeyRound2 {
    /// The parties that contributed (the same as in round one).
    pub fn parties(&self) -> Vec<PartyId> {
        self.contributors.0.iter().copied().collect()
    }

    /// Sums round-two shares; the same parties as in round one must answer.
    pub fn aggregate(
        round1: RelinKeyRound1,
        shares: impl IntoIterator<Item = RelinRound2Share>,
    ) -> Result<Self> {
        let mut sum: Option<Vec<Poly>> = None;
        let mut contributors = Contributors::default();
        for s in shares {
            check_params(&round1.params, &s.params)?;
            if s.seed != round1.seed {
                return Err(Error::InvalidShare {
                    party: s.party,
                    reason: "share of another relinearization-key session".into(),
                });
            }
            if !round1.contributors.0.contains(&s.party) {
                return Err(Error::UnexpectedParty { party: s.party });
            }
            check_vec(s.party, &s.h0, &round1.params)?;
            check_vec(s.party, &s.h1, &round1.params)?;
            contributors.add(s.party)?;
            let mut v = s.h0.clone();
            add_vec(&mut v, &s.h1)?;
            match &mut sum {
                None => sum = Some(v),
                Some(acc) => add_vec(acc, &v)?,
            }
        }
        let sum = sum.ok_or(Error::TooFewShares {
            got: 0,
            need: round1.contributors.0.len(),
        })?;
        if contributors.0.len() != round1.contributors.0.len() {
            return Err(Error::TooFewShares {
                got: contributors.0.len(),
                need: round1.contributors.0.len(),
            });
        }
        Ok(Self {
            round1,
            sum,
            contributors,
        })
    }

    /// The relinearization key `(Σ (h0'_i + h1'_i), h1)`.
    pub fn finish(self) -> Result<RelinKey> {
        let ksk = KeySwitchKey::from_parts_explicit(&self.round1.params, self.sum, self.round1.h1)?;
        let _ = self.contributors;
        Ok(RelinKey::from_key_switch_key(ksk))
    }
}

// ----------------------------------------------------------------- Galois keys

/// A party's share of the Galois key for one element.
#[derive(Clone, Debug)]
pub struct GaloisKeyShare {
    pub(crate) party: PartyId,
    pub(crate) params: Arc<Params>,
    pub(crate) element: usize,
    pub(crate) seed: Seed,
    pub(crate) b: Vec<Poly>,
}

impl GaloisKeyShare {
    /// The party that made it.
    pub fn party(&self) -> PartyId {
        self.party
    }

    /// The Galois element `k` of the automorphism `X → X^k` (odd, below `2N`).
    pub fn element(&self) -> usize {
        self.element
    }
}

/// Sum of Galois-key shares for one element.
#[derive(Clone, Debug)]
pub struct GaloisKeyShares {
    params: Arc<Params>,
    element: usize,
    seed: Seed,
    b: Vec<Poly>,
    contributors: Contributors,
}

impl Party {
    /// This party's share of the Galois key for `element` (`X → X^element`):
    /// `b_i[j] = −a_j·s_i + P·g_j·σ(s_i) + e`.
    pub fn galois_key_share<R: RngCore + CryptoRng>(
        &mut self,
        crs: &Crs,
        element: usize,
        rng: &mut R,
    ) -> Result<GaloisKeyShare> {
        let params = self.params().clone();
        let two_n = 2 * params.degree();
        let element = element % two_n;
        if element.is_multiple_of(2) {
            return Err(Error::Rlwe(rlwe::Error::OutOfRange {
                what: "Galois element must be odd",
            }));
        }
        let seed = crs.derive(GALOIS, element as u64);
        self.mark_used(GALOIS, &seed, &[])?;
        let ring = params.ring_qp_top();
        let a = KeySwitchKey::expand_a(&params, &seed);
        let s = self.secret().ntt_qp();
        let mut b = Vec::with_capacity(a.len());
        for aj in &a {
            let mut x = error_poly(ring, rng);
            let mut as_ = Poly::mul(aj, s)?;
            as_.neg_assign();
            x.add_assign(&as_)?;
            b.push(x);
        }
        let mut sg = s.automorphism(element)?;
        add_gadget(&params, &mut b, &sg)?;
        sg.zeroize();
        Ok(GaloisKeyShare {
            party: self.id(),
            params,
            element,
            seed,
            b,
        })
    }
}

impl GaloisKeyShares {
    /// Sums shares for one element.
    pub fn aggregate(shares: impl IntoIterator<Item = GaloisKeyShare>) -> Result<Self> {
        let mut it = shares.into_iter();
        let first = it.next().ok_or(Error::TooFewShares { got: 0, need: 1 })?;
        check_vec(first.party, &first.b, &first.params)?;
        let mut agg = Self {
            params: first.params.clone(),
            element: first.element,
            seed: first.seed,
            b: first.b.clone(),
            contributors: Contributors::default(),
        };
        agg.contributors.add(first.party)?;
        for s in it {
            check_params(&agg.params, &s.params)?;
            if s.element != agg.element || s.seed != agg.seed {
                return Err(Error::InvalidShare {
                    party: s.party,
                    reason: "share for another Galois element or session".into(),
                });
            }
            check_vec(s.party, &s.b, &agg.params)?;
            agg.contributors.add(s.party)?;
            add_vec(&mut agg.b, &s.b)?;
        }
        Ok(agg)
    }

    /// The parties that contributed.
    pub fn parties(&self) -> Vec<PartyId> {
        self.contributors.0.iter().copied().collect()
    }

    /// The Galois element of the key being aggregated.
    pub fn element(&self) -> usize {
        self.element
    }

    /// The collective Galois key.
    pub fn finish(self) -> Result<GaloisKey> {
        let ksk = KeySwitchKey::from_parts(&self.params, self.seed, self.b)?;
        Ok(GaloisKey::from_key_switch_key(self.element, ksk)?)
    }
}

// ------------------------------------------------------------------ decryption

/// A party's decryption share `c_1·s_i + e_smudge` (or `c_1·λ_i·S_i + e`).
#[derive(Clone, Debug)]
pub struct DecryptionShare {
    pub(crate) party: PartyId,
    pub(crate) d: Poly,
}

impl DecryptionShare {
    /// The party that made it.
    pub fn party(&self) -> PartyId {
        self.party
    }

    /// The share polynomial (NTT form over the ciphertext's level).
    pub fn poly(&self) -> &Poly {
        &self.d
    }

    /// A share received from `party` (e.g. deserialized from the network).
    pub fn from_parts(party: PartyId, d: Poly) -> Self {
        Self { party, d }
    }
}

/// The phase `c_0 + Σ d_i = c_0 + c_1·s + noise` of a collectively decrypted
/// ciphertext.
#[derive(Clone, Debug)]
pub struct DecryptionShares {
    phase: Poly,
    parties: Vec<PartyId>,
}

pub(crate) fn two_part(ct: &Ciphertext) -> Result<()> {
    if ct.len() != 2 {
        return Err(Error::Rlwe(rlwe::Error::Malformed {
            what: "ciphertext",
            reason: "collective decryption takes a 2-part ciphertext (relinearize first)".into(),
        }));
    }
    Ok(())
}

impl Party {
    /// This party's decryption share of `ct`: N-of-N with `active = None`,
    /// else as a member of the active set (after a Shamir dealing).
    pub fn decryption_share<R: RngCore + CryptoRng>(
        &mut self,
        ct: &Ciphertext,
        active: Option<&ActiveSet>,
        smudging: &Smudging,
        rng: &mut R,
    ) -> Result<DecryptionShare> {
        check_params(self.params(), ct.params())?;
        two_part(ct)?;
        let c1 = &ct.parts()[1];
        let ring = c1.context().clone();
        // Before marking the ciphertext used: a width the sampler refuses
        // must not burn this party's one share of it.
        smudging.check_width()?;
        let s = self.secret_for(&ring, active)?;
        self.mark_used(DECRYPT, &(ct.level() as u64).to_le_bytes(), &[c1.data()])?;
        let mut d = smudging.sample(&ring, rng)?;
        d.mul_acc(c1, &s)?;
        Ok(DecryptionShare {
            party: self.id(),
            d,
        })
    }
}

pub(crate) fn check_set(shares: &[PartyId], active: Option<&ActiveSet>) -> Result<()> {
    let mut seen = BTreeSet::new();
    for &p in shares {
        if !seen.insert(p) {
            return Err(Error::DuplicateParty { party: p });
        }
        if let Some(set) = active {
            if !set.contains(p) {
                return Err(Error::UnexpectedParty { party: p });
            }
        }
    }
    if let Some(set) = active {
        if seen.len() < set.parties().len() {
            return Err(Error::TooFewShares {
                got: seen.len(),
                need: set.parties().len(),
            });
        }
    }
    Ok(())
}

impl DecryptionShares {
    /// Combines the shares of every party (N-of-N, `active = None`) or of
    /// every member of the active set (t-of-n) into the phase.
    pub fn aggregate(
        ct: &Ciphertext,
        shares: impl IntoIterator<Item = DecryptionShare>,
        active: Option<&ActiveSet>,
    ) -> Result<Self> {
        two_part(ct)?;
        let shares: Vec<DecryptionShare> = shares.into_iter().collect();
        let parties: Vec<PartyId> = shares.iter().map(|s| s.party).collect();
        check_set(&parties, active)?;
        if shares.is_empty() {
            return Err(Error::TooFewShares { got: 0, need: 1 });
        }
        let mut phase = ct.parts()[0].clone();
        for s in &shares {
            check_share_poly(s.party, &s.d, phase.context())?;
            phase.add_assign(&s.d)?;
        }
        phase.to_coeff();
        Ok(Self { phase, parties })
    }

    /// The phase `c_0 + c_1·s + noise` (coefficient form).
    pub fn phase(&self) -> &Poly {
        &self.phase
    }

    /// The parties whose shares were combined.
    pub fn parties(&self) -> &[PartyId] {
        &self.parties
    }

    /// The CKKS plaintext at the ciphertext's `scale`.
    pub fn finish_ckks(&self, params: &ckks::Parameters, scale: f64) -> Result<ckks::Plaintext> {
        Ok(ckks::Plaintext::from_poly(
            params,
            self.phase.clone(),
            scale,
        )?)
    }

    /// The BFV plaintext.
    pub fn finish_bfv(
        &self,
        params: &Arc<bfv::Parameters>,
        encoding: bfv::Encoding,
    ) -> Result<bfv::Plaintext> {
        Ok(bfv::Plaintext::from_phase(params, &self.phase, encoding)?)
    }
}

// -------------------------------------------------------- public-key switching

/// A party's share for re-encrypting a ciphertext to an outside public key:
/// `(s_i·c_1 + u_i·b' + e_smudge, u_i·a' + e)`.
#[derive(Clone, Debug)]
pub struct KeySwitchShare {
    pub(crate) party: PartyId,
    pub(crate) h0: Poly,
    pub(crate) h1: Poly,
}

impl KeySwitchShare {
    /// The party that made it.
    pub fn party(&self) -> PartyId {
        self.party
    }
}

/// The re-encrypted ciphertext, assembled from shares.
#[derive(Clone, Debug)]
pub struct KeySwitchShares {
    ct: Ciphertext,
    parties: Vec<PartyId>,
}

impl Party {
    /// This party's share for switching `ct` to `target` (the result
    /// party's public key).
    pub fn key_switch_share<R: RngCore + CryptoRng>(
        &mut self,
        ct: &Ciphertext,
        target: &PublicKey,
        active: Option<&ActiveSet>,
        smudging: &Smudging,
        rng: &mut R,
    ) -> Result<KeySwitchShare> {
        check_params(self.params(), ct.params())?;
        check_params(self.params(), target.params())?;
        two_part(ct)?;
        let c1 = &ct.parts()[1];
        let ring = c1.context().clone();
        smudging.check_width()?; // before marking the instance used
        let s = self.secret_for(&ring, active)?;
        self.mark_used(
            PCKS,
            &(ct.level() as u64).to_le_bytes(),
            &[c1.data(), target.b().data()],
        )?;
        let mut u = sample::small_poly(&ring, &sample::ternary(ring.degree(), rng));
        u.to_ntt();
        let mut h0 = smudging.sample(&ring, rng)?;
        h0.mul_acc(c1, &s)?;
        h0.mul_acc(&u, &target.b().restrict_to(&ring)?)?;
        let mut h1 = error_poly(&ring, rng);
        h1.mul_acc(&u, &target.a().restrict_to(&ring)?)?;
        u.zeroize();
        Ok(KeySwitchShare {
            party: self.id(),
            h0,
            h1,
        })
    }
}

impl KeySwitchShares {
    /// Combines the shares into `(c_0 + Σ h0_i, Σ h1_i)`, a ciphertext under
    /// the target key.
    pub fn aggregate(
        ct: &Ciphertext,
        shares: impl IntoIterator<Item = KeySwitchShare>,
        active: Option<&ActiveSet>,
    ) -> Result<Self> {
        two_part(ct)?;
        let shares: Vec<KeySwitchShare> = shares.into_iter().collect();
        let parties: Vec<PartyId> = shares.iter().map(|s| s.party).collect();
        check_set(&parties, active)?;
        let ring = ct.parts()[0].context().clone();
        let mut c0 = ct.parts()[0].clone();
        let mut c1 = Poly::zero(&ring, Representation::Ntt);
        if shares.is_empty() {
            return Err(Error::TooFewShares { got: 0, need: 1 });
        }
        for s in &shares {
            check_share_poly(s.party, &s.h0, &ring)?;
            check_share_poly(s.party, &s.h1, &ring)?;
            c0.add_assign(&s.h0)?;
            c1.add_assign(&s.h1)?;
        }
        Ok(Self {
            ct: Ciphertext::new(ct.params(), vec![c0, c1])?,
            parties,
        })
    }

    /// The parties whose shares were combined.
    pub fn parties(&self) -> &[PartyId] {
        &self.parties
    }

    /// The ciphertext under the target key.
    pub fn finish(self) -> Ciphertext {
        self.ct
    }
}
