//! Verifiable Shamir dealing and provable decryption shares.
//!
//! A decryption share `d = λ_i·c1·S_i + e` can be shifted by its sender to
//! move the decrypted value; nothing in the share itself shows it. To make
//! shares checkable, each party's Shamir share `S_i` gets a public,
//! binding commitment, and every share carries a zero-knowledge proof
//! ([`zk::prove_shares`]) that it was made with the committed `S_i` and
//! noise within the smudging bound.
//!
//! **Commitments (an approximate Feldman VSS over RLWE).** Dealer `i`
//! shares `f_i(x) = s_i + r_1 x + … + r_{t−1} x^{t−1}` over `R_{QP}`,
//! evaluated at the monomials `α_j = X^j` (party `j` receives `f_i(X^j)`;
//! see [`Party::deal`]), and publishes, over
//! the chain `Q` (not `P`), `C1_k = A1·r_k + E`, `C2_k = A2·r_k + E'` for
//! `k ≥ 1` and `C2_0 = A2·s_i + E'` ([`DealingCommitment`]); `C1_0 = −b_i =
//! A1·s_i − e_i` is its public-key share, so the commitments are tied to
//! the collective key. `A1` is the public key's `a`, `A2` a second CRS
//! polynomial; `E` are centered binomial (η = 21). Recipient `j` checks
//! its dealing: `A·f_i(α_j) − Σ_k α_j^k·C_k` must be within `±η·t`
//! (multiplying by the monomial `α_j^k` only rotates a noise polynomial's
//! coefficients; [`Party::receive_committed_dealings`]; a dealing that does
//! not match is [`Error::InvalidShare`] naming the dealer). Anyone computes
//! member `j`'s commitment `K_j = Σ_i Σ_k α_j^k·C_{i,k} = (A1·S_j + E1,
//! A2·S_j + E2)` with `‖E‖∞ ≤ n·t·η` ([`ShareCommitments::member`],
//! [`key_noise_bound`]); by Lagrange interpolation `Σ_j λ_j·K_j = Σ_i
//! C_{i,0}` exactly, the collective key's commitment.
//!
//! The commitment binds while `(8·γ_K)^2 < Q` ([`zk::ShareParams::new`]
//! refuses otherwise). With integer evaluation points the noise grew as
//! `n^(t−1)` and limited share proofs to about 12 parties; with monomial
//! points it grows as `n·t` (10,000 parties at `t = 5,001` give
//! `‖E‖∞ ≤ 2^31`).
//!
//! The `P` part of a dealing is not committed (decryption needs only `Q`).

use std::collections::BTreeMap;
use std::sync::Arc;

use rand::{CryptoRng, RngCore};
use rlwe::ciphertext::Ciphertext;
use rlwe::keys::PublicKey;
use rlwe::params::Params;
use rlwe::poly::{Poly, Representation, RingContext};
use rlwe::sample;
use zeroize::Zeroize;

use crate::party::{ActiveSet, Party, SecretShareMessage};
use crate::protocols::{DecryptionShare, PublicKeyShare};
use crate::smudging::Smudging;
use crate::{Crs, Error, PartyId, Result};

const COMMIT: &str = "share-commitment";

/// The bound `n·t·η` on the noise of a member's commitment `K_j` (η = 21:
/// `n` dealers, `t` rotated CBD samples each), or `None` if it overflows
/// 2^62.
pub fn key_noise_bound(t: usize, n: usize) -> Option<u64> {
    let b = u128::from(sample::CBD_ETA)
        .checked_mul(t as u128)?
        .checked_mul(n as u128)?;
    u64::try_from(b).ok().filter(|&b| b < 1 << 62)
}

/// The two CRS polynomials `(A1, A2)` of the commitments over the chain
/// `Q`: `A1` is the public key's `a` for the CRS.
pub fn commitment_polys(params: &Params, crs: &Crs) -> Result<[Poly; 2]> {
    let ring = params.ring_q_top();
    let a1 = PublicKey::expand_a(params, &crs.derive("public-key", 0)).restrict_to(ring)?;
    let a2 = sample::uniform_poly(
        ring,
        Representation::Ntt,
        &mut sample::expand_seed(&crs.derive(COMMIT, 0), b"hekit/threshold/vss/a2"),
    );
    Ok([a1, a2])
}

/// A dealer's public commitments: `C1_k` for `k = 1..t` and `C2_k` for
/// `k = 0..t` (NTT form over the chain `Q`). Public.
#[derive(Clone, PartialEq)]
pub struct DealingCommitment {
    pub(crate) party: PartyId,
    pub(crate) c1: Vec<Poly>,
    pub(crate) c2: Vec<Poly>,
}

impl std::fmt::Debug for DealingCommitment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DealingCommitment")
            .field("party", &self.party)
            .field("t", &self.c2.len())
            .finish_non_exhaustive()
    }
}

impl DealingCommitment {
    /// The dealer.
    pub fn party(&self) -> PartyId {
        self.party
    }

    /// The threshold `t` it commits to.
    pub fn threshold(&self) -> usize {
        self.c2.len()
    }
}

fn noisy(
    ring: &Arc<RingContext>,
    a: &Poly,
    x: &Poly,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<Poly> {
    let mut e = sample::small_poly(ring, &sample::cbd(ring.degree(), rng));
    e.to_ntt();
    e.mul_acc(a, x)?;
    Ok(e)
}

impl Party {
    /// Deals Shamir shares of this party's secret ([`Party::deal`]) and
    /// returns the public commitments to the sharing polynomial.
    pub fn deal_committed<R: RngCore + CryptoRng>(
        &self,
        t: usize,
        n: usize,
        crs: &Crs,
        rng: &mut R,
    ) -> Result<(Vec<SecretShareMessage>, DealingCommitment)> {
        let (msgs, mut coeffs) = self.deal_polys(t, n, rng)?;
        let params = self.params().clone();
        let ring = params.ring_q_top();
        let [a1, a2] = commitment_polys(&params, crs)?;
        let mut c1 = Vec::with_capacity(t.saturating_sub(1));
        let mut c2 = Vec::with_capacity(t);
        for (k, c) in coeffs.iter().enumerate() {
            let mut x = c.restrict_to(ring)?;
            if k > 0 {
                c1.push(noisy(ring, &a1, &x, rng)?);
            }
            c2.push(noisy(ring, &a2, &x, rng)?);
            x.zeroize();
        }
        for c in &mut coeffs {
            c.zeroize();
        }
        Ok((
            msgs,
            DealingCommitment {
                party: self.id(),
                c1,
                c2,
            },
        ))
    }

    /// [`Party::receive_dealings`] after checking each dealing against its
    /// dealer's commitments: `A·f_i(α_j) − Σ_k α_j^k·C_k` within `±η·t`
    /// for both polynomials. A dealing that does not match is
    /// [`Error::InvalidShare`] naming the dealer.
    pub fn receive_committed_dealings(
        &mut self,
        messages: Vec<SecretShareMessage>,
        commitments: &ShareCommitments,
    ) -> Result<()> {
        let (t, n) = (commitments.t, commitments.n);
        for m in &messages {
            if m.to != self.id() {
                return Err(Error::InvalidShare {
                    party: m.from,
                    reason: format!("dealing addressed to {}", m.to),
                });
            }
            commitments.check_dealing(m.from, self.id(), &m.share)?;
        }
        self.receive_dealings(messages, t, n)
    }
}

/// Every dealer's commitments, for `t` of `n`, with the CRS polynomials.
#[derive(Clone)]
pub struct ShareCommitments {
    t: usize,
    n: usize,
    a: [Poly; 2],
    /// Per dealer: `(C1_k, C2_k)` for `k = 0..t`.
    dealers: BTreeMap<PartyId, (Vec<Poly>, Vec<Poly>)>,
}

impl std::fmt::Debug for ShareCommitments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShareCommitments")
            .field("t", &self.t)
            .field("n", &self.n)
            .finish_non_exhaustive()
    }
}

impl ShareCommitments {
    /// The commitments of all `n` dealers, each tied to its public-key
    /// share (`C1_0 = −b_i`).
    ///
    /// # Errors
    /// [`Error::TooFewShares`] unless every party `1..=n` has exactly one
    /// public-key share and one commitment ([`Error::DuplicateParty`],
    /// [`Error::UnexpectedParty`]); [`Error::InvalidShare`] for a commitment
    /// of another threshold or ring; [`Error::ParameterMismatch`] for
    /// shares of other parameters or CRS.
    pub fn new(
        params: &Arc<Params>,
        crs: &Crs,
        t: usize,
        n: usize,
        pk_shares: &[PublicKeyShare],
        dealings: &[DealingCommitment],
    ) -> Result<Self> {
        if t == 0 || t > n {
            return Err(Error::InvalidThreshold { t, n });
        }
        let ring = params.ring_q_top();
        let mut b: BTreeMap<PartyId, Poly> = BTreeMap::new();
        for s in pk_shares {
            if s.params.fingerprint() != params.fingerprint()
                || s.seed != crs.derive("public-key", 0)
            {
                return Err(Error::ParameterMismatch {
                    what: "public-key share of other parameters or CRS",
                });
            }
            let mut c = s.b.restrict_to(ring)?;
            c.neg_assign();
            if b.insert(s.party, c).is_some() {
                return Err(Error::DuplicateParty { party: s.party });
            }
        }
        let mut dealers = BTreeMap::new();
        for d in dealings {
            let p = d.party;
            if p.0 == 0 || p.0 as usize > n {
                return Err(Error::UnexpectedParty { party: p });
            }
            let ok = d.c2.len() == t
                && d.c1.len() + 1 == t
                && d.c1.iter().chain(&d.c2).all(|c| {
                    c.context().same_ring(ring) && c.representation() == Representation::Ntt
                });
            if !ok {
                return Err(Error::InvalidShare {
                    party: p,
                    reason: format!("dealing commitment not for t = {t} over the chain Q"),
                });
            }
            if dealers.contains_key(&p) {
                return Err(Error::DuplicateParty { party: p });
            }
            let c0 = b.remove(&p).ok_or(Error::TooFewShares {
                got: pk_shares.len(),
                need: n,
            })?;
            let mut c1 = vec![c0];
            c1.extend(d.c1.iter().cloned());
            dealers.insert(p, (c1, d.c2.clone()));
        }
        if dealers.len() != n {
            return Err(Error::TooFewShares {
                got: dealers.len(),
                need: n,
            });
        }
        Ok(Self {
            t,
            n,
            a: commitment_polys(params, crs)?,
            dealers,
        })
    }

    /// `(t, n)`.
    pub fn threshold(&self) -> (usize, usize) {
        (self.t, self.n)
    }

    /// `(A1, A2)`.
    pub fn polys(&self) -> &[Poly; 2] {
        &self.a
    }

    /// `Σ_k α_j^k·C_k` of one dealer (both polynomials; `α_j = X^j`).
    fn eval(&self, c: &(Vec<Poly>, Vec<Poly>), j: PartyId) -> Result<[Poly; 2]> {
        let x = crate::party::point(self.a[0].context(), j);
        Ok([
            crate::party::horner(&c.0, &x)?,
            crate::party::horner(&c.1, &x)?,
        ])
    }

    /// Member `j`'s commitment `K_j = Σ_i Σ_k α_j^k·C_{i,k}` (`α_j = X^j`).
    ///
    /// # Errors
    /// [`Error::UnexpectedParty`] for `j` outside `1..=n`.
    pub fn member(&self, j: PartyId) -> Result<[Poly; 2]> {
        if j.0 == 0 || j.0 as usize > self.n {
            return Err(Error::UnexpectedParty { party: j });
        }
        let mut out: Option<[Poly; 2]> = None;
        for c in self.dealers.values() {
            let v = self.eval(c, j)?;
            match &mut out {
                None => out = Some(v),
                Some(o) => {
                    o[0].add_assign(&v[0])?;
                    o[1].add_assign(&v[1])?;
                }
            }
        }
        out.ok_or(Error::TooFewShares { got: 0, need: 1 })
    }

    /// Checks dealer `from`'s dealing to `to` (a polynomial over `Q ∪ P`).
    fn check_dealing(&self, from: PartyId, to: PartyId, share: &Poly) -> Result<()> {
        let c = self
            .dealers
            .get(&from)
            .ok_or(Error::UnexpectedParty { party: from })?;
        let ring = self.a[0].context();
        let x = share.restrict_to(ring)?;
        // Σ_k α^k·E_k: each term a signed rotation of a CBD sample.
        let bound = self.t as u64 * u64::from(sample::CBD_ETA);
        let want = self.eval(c, to)?;
        for (a, w) in self.a.iter().zip(want) {
            let mut d = Poly::mul(a, &x)?;
            d.sub_assign(&w)?;
            d.to_coeff();
            if zk::small_coeffs(&d, bound).is_none() {
                return Err(Error::InvalidShare {
                    party: from,
                    reason: format!("dealing to {to} does not match the dealer's commitment"),
                });
            }
        }
        Ok(())
    }
}

/// The zero-knowledge proof parameters for decryption shares of
/// ciphertexts over `ring` with `smudging`, for a `t`-of-`n` sharing, up to
/// `count` shares per proof (at most [`zk::MAX_SHARES_PER_PROOF`]; fewer
/// shares per proof give a smaller slack).
pub fn share_proof_params(
    ring: &Arc<RingContext>,
    smudging: &Smudging,
    t: usize,
    n: usize,
    count: usize,
) -> Result<zk::ShareParams> {
    let kb = key_noise_bound(t, n).ok_or(Error::InvalidThreshold { t, n })?;
    Ok(zk::ShareParams::new(
        ring,
        kb,
        smudging.tail_bound(),
        count,
    )?)
}

impl Party {
    /// Decryption shares of `cts` (all over the proof's ring) as a member
    /// of `active`, each smudged as [`Party::decryption_share`] does, with
    /// one proof per [`zk::ShareParams::count`] shares that they were made
    /// with the committed Shamir share (`commitment` = this party's
    /// [`ShareCommitments::member`]) and noise within the smudging's tail
    /// bound; bound to `context`.
    #[allow(clippy::too_many_arguments)]
    pub fn proven_decryption_shares<R: RngCore + CryptoRng>(
        &mut self,
        cts: &[&Ciphertext],
        active: &ActiveSet,
        smudging: &Smudging,
        zp: &zk::ShareParams,
        key: &zk::ShareKey,
        commitment: &zk::ShareCommitment,
        context: &[u8; 32],
        rng: &mut R,
    ) -> Result<(Vec<DecryptionShare>, Vec<zk::ShareProof>)> {
        smudging.check_width()?;
        let ring = zp.ring().clone();
        for ct in cts {
            crate::protocols::check_params(self.params(), ct.params())?;
            crate::protocols::two_part(ct)?;
            if !ct.parts()[1].context().same_ring(&ring) {
                return Err(Error::ParameterMismatch {
                    what: "ciphertext not over the share proof's ring",
                });
            }
        }
        let (lambda, mut s) = self.lagrange_and_share(&ring, active)?;
        let witness = zk::ShareWitness::new(zp, key, commitment, &s);
        let bound = smudging.tail_bound();
        let mut shares = Vec::with_capacity(cts.len());
        let mut proofs = Vec::new();
        let result = (|| -> Result<()> {
            let witness = witness?;
            for ct in cts {
                let c1 = &ct.parts()[1];
                self.mark_used(
                    crate::protocols::DECRYPT,
                    &(ct.level() as u64).to_le_bytes(),
                    &[c1.data()],
                )?;
            }
            for chunk in cts.chunks(zp.count()) {
                let mut ds = Vec::with_capacity(chunk.len());
                let mut es = Vec::with_capacity(chunk.len());
                let ms = multipliers(chunk, &lambda)?;
                for m in &ms {
                    let e = smudging.sample_coeffs(ring.degree(), rng)?;
                    if e.iter().any(|x| x.unsigned_abs() > bound) {
                        return Err(Error::Zk(zk::Error::WitnessOutOfBound {
                            what: "smudging sample beyond 14σ",
                        }));
                    }
                    let mut d = sample::wide_poly(&ring, &e);
                    d.to_ntt();
                    d.mul_acc(m, &s)?;
                    ds.push(d);
                    es.push(e);
                }
                let st = zk::SharesRef {
                    multipliers: &ms,
                    shares: &ds,
                };
                proofs.push(zk::prove_shares(
                    zp, key, commitment, context, st, &witness, &es, rng,
                )?);
                for e in &mut es {
                    e.zeroize();
                }
                shares.extend(ds.into_iter().map(|d| DecryptionShare {
                    party: self.id(),
                    d,
                }));
            }
            Ok(())
        })();
        s.zeroize();
        result?;
        Ok((shares, proofs))
    }
}

/// The statement's multipliers `λ_i·c1` of 2-part ciphertexts (`λ_i` a
/// ring element in NTT form over the ciphertexts' ring).
fn multipliers(cts: &[&Ciphertext], lambda: &Poly) -> Result<Vec<Poly>> {
    cts.iter()
        .map(|ct| {
            crate::protocols::two_part(ct)?;
            let mut m = ct.parts()[1].clone();
            m.to_ntt();
            m.mul_assign(lambda)?;
            Ok(m)
        })
        .collect()
}

/// Checks `party`'s decryption shares of `cts` against its proofs (made by
/// [`Party::proven_decryption_shares`] with the same `context`); a share
/// or proof that does not verify is [`Error::InvalidShare`] naming `party`.
#[allow(clippy::too_many_arguments)]
pub fn verify_decryption_shares(
    cts: &[&Ciphertext],
    active: &ActiveSet,
    party: PartyId,
    shares: &[Poly],
    proofs: &[zk::ShareProof],
    zp: &zk::ShareParams,
    key: &zk::ShareKey,
    commitment: &zk::ShareCommitment,
    context: &[u8; 32],
) -> Result<()> {
    let ring = zp.ring();
    let bad = |reason: String| Error::InvalidShare { party, reason };
    if shares.len() != cts.len() || proofs.len() != cts.len().div_ceil(zp.count()) {
        return Err(bad(format!(
            "{} shares and {} proofs for {} ciphertexts",
            shares.len(),
            proofs.len(),
            cts.len()
        )));
    }
    if !active.contains(party) {
        return Err(Error::UnexpectedParty { party });
    }
    let lambda = active.lagrange(party, ring)?;
    for ((chunk, ds), proof) in cts
        .chunks(zp.count())
        .zip(shares.chunks(zp.count()))
        .zip(proofs)
    {
        let ms = multipliers(chunk, &lambda)?;
        let st = zk::SharesRef {
            multipliers: &ms,
            shares: ds,
        };
        zk::verify_shares(zp, key, commitment, context, st, proof)
            .map_err(|e| bad(format!("decryption-share proof: {e}")))?;
    }
    Ok(())
}
