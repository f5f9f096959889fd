//! A party: its additive secret `s_i`, its Shamir share of the joint secret
//! (t-of-n), and the record of protocol instances it already answered.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use rand::{CryptoRng, RngCore};
use rlwe::params::Params;
use rlwe::poly::{Poly, Representation, RingContext};
use rlwe::sample;
use sha2::{Digest, Sha256};
use zeroize::Zeroize;

use crate::{Error, PartyId, Result};

/// The parties taking part in a threshold operation, with the threshold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActiveSet {
    parties: Vec<PartyId>,
    t: usize,
}

impl ActiveSet {
    /// At least `t` distinct parties (ids 1..); fewer is [`Error::TooFewShares`].
    pub fn new(parties: &[PartyId], t: usize) -> Result<Self> {
        let set: BTreeSet<PartyId> = parties.iter().copied().collect();
        if set.len() != parties.len() {
            let dup = parties
                .iter()
                .find(|p| parties.iter().filter(|q| q == p).count() > 1)
                .copied()
                .unwrap_or(PartyId(0));
            return Err(Error::DuplicateParty { party: dup });
        }
        if let Some(p) = set.iter().find(|p| p.0 == 0) {
            return Err(Error::UnexpectedParty { party: *p });
        }
        if t == 0 || set.len() < t {
            return Err(Error::TooFewShares {
                got: set.len(),
                need: t.max(1),
            });
        }
        Ok(Self {
            parties: set.into_iter().collect(),
            t,
        })
    }

    /// The parties, sorted.
    pub fn parties(&self) -> &[PartyId] {
        &self.parties
    }

    /// The threshold.
    pub fn threshold(&self) -> usize {
        self.t
    }

    /// Whether `p` is in the set.
    pub fn contains(&self, p: PartyId) -> bool {
        self.parties.binary_search(&p).is_ok()
    }

    /// The Lagrange coefficient at 0 of party `j` over this set, a ring
    /// element in NTT form over `ring`: `Π_{m ≠ j} α_m / (α_m − α_j)` with
    /// the evaluation points `α_m = X^m` ([`point`]).
    pub(crate) fn lagrange(&self, j: PartyId, ring: &Arc<RingContext>) -> Result<Poly> {
        check_points(
            ring,
            self.parties.iter().map(|p| p.0 as usize).max().unwrap_or(0),
        )?;
        let aj = point(ring, j);
        let mut num: Option<Poly> = None;
        let mut den: Option<Poly> = None;
        for &m in &self.parties {
            if m == j {
                continue;
            }
            let am = point(ring, m);
            let mut d = am.clone();
            d.sub_assign(&aj)?;
            match (&mut num, &mut den) {
                (Some(nu), Some(de)) => {
                    nu.mul_assign(&am)?;
                    de.mul_assign(&d)?;
                }
                _ => {
                    num = Some(am);
                    den = Some(d);
                }
            }
        }
        match (num, den) {
            (Some(mut nu), Some(mut de)) => {
                de.invert_assign()
                    .map_err(|_| Error::InvalidThreshold { t: self.t, n: 0 })?;
                nu.mul_assign(&de)?;
                Ok(nu)
            }
            // a set of one: λ = 1
            _ => Ok(Poly::monomial_ntt(ring, 0)),
        }
    }
}

/// `Σ_k x^k·c_k` (Horner; NTT form).
pub(crate) fn horner(coeffs: &[Poly], x: &Poly) -> Result<Poly> {
    let Some((last, rest)) = coeffs.split_last() else {
        return Err(Error::InvalidThreshold { t: 0, n: 0 });
    };
    let mut acc = last.clone();
    for c in rest.iter().rev() {
        acc.mul_assign(x)?;
        acc.add_assign(c)?;
    }
    Ok(acc)
}

/// Party `j`'s Shamir evaluation point `α_j = X^j` (NTT form over `ring`).
/// Monomials keep the sharing's linear maps short: multiplying by `X^k` only
/// rotates coefficients (with signs), so the noise of commitments
/// evaluated at `α_j` grows with `t`, not with `j^(t−1)`
/// ([`crate::vss`]); and `α_m − α_j = X^j·(X^(m−j) − 1)` is a unit in
/// `Z_q[X]/(X^N + 1)` for every NTT prime `q` when `0 < |m − j| < 2N`
/// (each NTT slot is a primitive 2N-th root of unity), so every set of
/// parties with ids below `2N` interpolates.
pub(crate) fn point(ring: &Arc<RingContext>, j: PartyId) -> Poly {
    Poly::monomial_ntt(ring, u64::from(j.0))
}

/// Errors unless party ids up to `max_id` have distinct, interpolating
/// points over `ring` (`max_id < 2N`).
pub(crate) fn check_points(ring: &RingContext, max_id: usize) -> Result<()> {
    if max_id >= 2 * ring.degree() {
        return Err(Error::InvalidThreshold { t: 0, n: max_id });
    }
    Ok(())
}

/// A Shamir share of one party's secret, sent privately to another party.
/// Zeroized on drop; `Debug` does not print it.
pub struct SecretShareMessage {
    /// The dealer.
    pub from: PartyId,
    /// The recipient.
    pub to: PartyId,
    pub(crate) share: Poly,
}

impl std::fmt::Debug for SecretShareMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretShareMessage")
            .field("from", &self.from)
            .field("to", &self.to)
            .finish_non_exhaustive()
    }
}

impl Drop for SecretShareMessage {
    fn drop(&mut self) {
        self.share.zeroize();
    }
}

pub(crate) struct ThresholdState {
    pub(crate) t: usize,
    pub(crate) n: usize,
    /// `S_j = Σ_i f_i(j)` in NTT form over the top-level `Q ∪ P`.
    pub(crate) share: Poly,
}

impl Drop for ThresholdState {
    fn drop(&mut self) {
        self.share.zeroize();
    }
}

/// One party of a multiparty session.
pub struct Party {
    pub(crate) id: PartyId,
    pub(crate) params: Arc<Params>,
    pub(crate) sk: rlwe::keys::SecretKey,
    pub(crate) threshold: Option<ThresholdState>,
    /// Digests of the protocol instances answered (single-use shares).
    pub(crate) used: HashSet<[u8; 32]>,
}

impl std::fmt::Debug for Party {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Party")
            .field("id", &self.id)
            .field("threshold", &self.threshold.as_ref().map(|s| (s.t, s.n)))
            .finish_non_exhaustive()
    }
}

impl Party {
    /// A party with a fresh ternary secret.
    pub fn new<R: RngCore + CryptoRng>(id: PartyId, params: &Arc<Params>, rng: &mut R) -> Self {
        Self::from_secret(id, rlwe::keys::SecretKey::generate(params, rng))
    }

    /// A party holding an existing secret share.
    pub fn from_secret(id: PartyId, sk: rlwe::keys::SecretKey) -> Self {
        Self {
            id,
            params: sk.params().clone(),
            sk,
            threshold: None,
            used: HashSet::new(),
        }
    }

    /// The party's id.
    pub fn id(&self) -> PartyId {
        self.id
    }

    /// The RLWE parameters.
    pub fn params(&self) -> &Arc<Params> {
        &self.params
    }

    /// The additive secret `s_i` (for key generation).
    pub(crate) fn secret(&self) -> &rlwe::keys::SecretKey {
        &self.sk
    }

    /// The secret this party contributes over `ring`: `s_i` (N-of-N, `active`
    /// = None) or `λ_i·S_i` for the active set (t-of-n).
    pub(crate) fn secret_for(
        &self,
        ring: &Arc<RingContext>,
        active: Option<&ActiveSet>,
    ) -> Result<Poly> {
        match active {
            None => Ok(self.sk.poly_at(ring)?),
            Some(set) => {
                let (lambda, mut s) = self.lagrange_and_share(ring, set)?;
                s.mul_assign(&lambda)?;
                Ok(s)
            }
        }
    }

    /// `λ_i` over `ring` for the active set and the Shamir share `S_i`
    /// restricted to `ring` (secret: the caller wipes it).
    pub(crate) fn lagrange_and_share(
        &self,
        ring: &Arc<RingContext>,
        set: &ActiveSet,
    ) -> Result<(Poly, Poly)> {
        let st = self
            .threshold
            .as_ref()
            .ok_or(Error::InvalidThreshold { t: set.t, n: 0 })?;
        if set.t != st.t {
            return Err(Error::InvalidThreshold { t: set.t, n: st.n });
        }
        if !set.contains(self.id) {
            return Err(Error::UnexpectedParty { party: self.id });
        }
        Ok((set.lagrange(self.id, ring)?, st.share.restrict_to(ring)?))
    }

    /// Records that this party answered the protocol instance identified by
    /// `label` and `data`; a second call with the same instance is refused.
    pub(crate) fn mark_used(
        &mut self,
        protocol: &'static str,
        label: &[u8],
        data: &[&[u64]],
    ) -> Result<()> {
        let mut h = Sha256::new();
        h.update(protocol.as_bytes());
        h.update((label.len() as u64).to_le_bytes());
        h.update(label);
        for d in data {
            for w in d.iter() {
                h.update(w.to_le_bytes());
            }
        }
        if !self.used.insert(h.finalize().into()) {
            return Err(Error::ShareReused {
                party: self.id,
                protocol,
            });
        }
        Ok(())
    }

    /// Deals Shamir shares of this party's secret with threshold `t` to the
    /// parties `1..=n` (itself included): one private message each.
    pub fn deal<R: RngCore + CryptoRng>(
        &self,
        t: usize,
        n: usize,
        rng: &mut R,
    ) -> Result<Vec<SecretShareMessage>> {
        let (out, mut coeffs) = self.deal_polys(t, n, rng)?;
        for c in &mut coeffs {
            c.zeroize();
        }
        Ok(out)
    }

    /// The dealing messages and the sharing polynomial's coefficients
    /// `(s, r_1, …, r_{t−1})` (secret: the caller wipes them).
    pub(crate) fn deal_polys<R: RngCore + CryptoRng>(
        &self,
        t: usize,
        n: usize,
        rng: &mut R,
    ) -> Result<(Vec<SecretShareMessage>, Vec<Poly>)> {
        let ring = self.params.ring_qp_top();
        if t == 0 || t > n || check_points(ring, n).is_err() {
            return Err(Error::InvalidThreshold { t, n });
        }
        // f(x) = s + a_1 x + … + a_{t-1} x^{t-1} over R_{QP}, evaluated at
        // the points α_j = X^j (slot-wise in NTT form).
        let mut coeffs: Vec<Poly> = Vec::with_capacity(t);
        coeffs.push(self.sk.ntt_qp().clone());
        for _ in 1..t {
            coeffs.push(sample::uniform_poly(ring, Representation::Ntt, rng));
        }
        let mut out = Vec::with_capacity(n);
        for j in 1..=n as u32 {
            out.push(SecretShareMessage {
                from: self.id,
                to: PartyId(j),
                share: horner(&coeffs, &point(ring, PartyId(j)))?,
            });
        }
        Ok((out, coeffs))
    }

    /// Takes the `n` dealings addressed to this party (one from every party,
    /// itself included) and keeps `S_j = Σ_i f_i(j)`.
    pub fn receive_dealings(
        &mut self,
        messages: Vec<SecretShareMessage>,
        t: usize,
        n: usize,
    ) -> Result<()> {
        if t == 0 || t > n {
            return Err(Error::InvalidThreshold { t, n });
        }
        let ring = self.params.ring_qp_top();
        let mut seen = BTreeSet::new();
        let mut acc = Poly::zero(ring, Representation::Ntt);
        for m in &messages {
            if m.to != self.id {
                return Err(Error::InvalidShare {
                    party: m.from,
                    reason: format!("dealing addressed to {}", m.to),
                });
            }
            if m.from.0 == 0 || m.from.0 as usize > n {
                return Err(Error::UnexpectedParty { party: m.from });
            }
            if !seen.insert(m.from) {
                return Err(Error::DuplicateParty { party: m.from });
            }
            if !m.share.context().same_ring(ring) || m.share.representation() != Representation::Ntt
            {
                return Err(Error::InvalidShare {
                    party: m.from,
                    reason: "dealing is not an NTT polynomial over Q ∪ P".into(),
                });
            }
            acc.add_assign(&m.share)?;
        }
        if seen.len() != n {
            return Err(Error::TooFewShares {
                got: seen.len(),
                need: n,
            });
        }
        self.threshold = Some(ThresholdState { t, n, share: acc });
        Ok(())
    }

    /// Whether this party holds a t-of-n share, and its (t, n).
    pub fn threshold(&self) -> Option<(usize, usize)> {
        self.threshold.as_ref().map(|s| (s.t, s.n))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// Shamir at the points `X^j`: every `t`-subset of the `n` shares
    /// interpolates (Lagrange at 0, ring elements) to the sum of the
    /// parties' secrets exactly, over `Q ∪ P` and over a lower level; ids
    /// up to `2N − 1` deal and larger ones are refused (the points `X^j`
    /// repeat with period `2N`).
    #[test]
    fn monomial_points_interpolate_the_joint_secret() {
        let params = Params::builder()
            .degree(1024)
            .q_bits(&[40, 41])
            .p_bits(&[42])
            .security(rlwe::params::SecurityLevel::None)
            .build()
            .unwrap();
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
        let (n, t) = (7usize, 4usize);
        let mut ps: Vec<Party> = (1..=n as u32)
            .map(|i| Party::new(PartyId(i), &params, &mut rng))
            .collect();
        let mut inbox: Vec<Vec<SecretShareMessage>> = (0..n).map(|_| Vec::new()).collect();
        for p in &ps {
            for m in p.deal(t, n, &mut rng).unwrap() {
                inbox[m.to.0 as usize - 1].push(m);
            }
        }
        for (p, msgs) in ps.iter_mut().zip(inbox) {
            p.receive_dealings(msgs, t, n).unwrap();
        }
        for ring in [
            params.ring_qp_top().clone(),
            params.ring_q(0).unwrap().clone(),
        ] {
            let mut secret = Poly::zero(&ring, Representation::Ntt);
            for p in &ps {
                secret.add_assign(&p.sk.poly_at(&ring).unwrap()).unwrap();
            }
            for set in [[1u32, 2, 3, 4], [4, 5, 6, 7], [1, 3, 5, 7], [2, 3, 6, 7]] {
                let ids: Vec<PartyId> = set.iter().map(|&i| PartyId(i)).collect();
                let active = ActiveSet::new(&ids, t).unwrap();
                let mut acc = Poly::zero(&ring, Representation::Ntt);
                for &j in &set {
                    acc.add_assign(&ps[j as usize - 1].secret_for(&ring, Some(&active)).unwrap())
                        .unwrap();
                }
                assert_eq!(acc, secret, "set {set:?}");
                // t − 1 of them (with their coefficients for the set) do not
                let mut partial = Poly::zero(&ring, Representation::Ntt);
                for &j in &set[..t - 1] {
                    let (l, s) = ps[j as usize - 1]
                        .lagrange_and_share(&ring, &active)
                        .unwrap();
                    partial.mul_acc(&l, &s).unwrap();
                }
                assert_ne!(partial, secret);
            }
        }
        let p = Party::new(PartyId(1), &params, &mut rng);
        assert!(p.deal(2, 2047, &mut rng).is_ok());
        assert!(matches!(
            p.deal(2, 2048, &mut rng),
            Err(Error::InvalidThreshold { t: 2, n: 2048 })
        ));
    }
}
