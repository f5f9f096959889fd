//! RLWE ciphertexts `(c_0, c_1, …)` in NTT form over `Q_l`, and the
//! scheme-independent operations on them.

use std::sync::Arc;

use crate::keys::{GaloisKey, KeySwitchKey, RelinKey};
use crate::params::Params;
use crate::poly::{Poly, Representation, RingContext};
use crate::sample::Seed;
use crate::{Error, Result};

/// A ciphertext: polynomials in NTT form over the ring `Q_l` of its level.
/// Decrypts to `Σ c_i·s^i`. A fresh secret-key ciphertext keeps the seed of
/// `c_1` so that it serializes at half size.
#[derive(Clone)]
pub struct Ciphertext {
    params: Arc<Params>,
    level: usize,
    parts: Vec<Poly>,
    seed: Option<Seed>,
}

impl std::fmt::Debug for Ciphertext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ciphertext")
            .field("level", &self.level)
            .field("parts", &self.parts.len())
            .field("seeded", &self.seed.is_some())
            .finish()
    }
}

impl Ciphertext {
    /// A ciphertext from its parts (converted to NTT form), all over the same
    /// level of `params`.
    pub fn new(params: &Arc<Params>, parts: Vec<Poly>) -> Result<Self> {
        if parts.len() < 2 {
            return Err(Error::Malformed {
                what: "ciphertext",
                reason: "fewer than two polynomials".into(),
            });
        }
        let level = params.level_of(parts[0].context())?;
        let mut parts = parts;
        for p in &mut parts {
            if params.level_of(p.context())? != level {
                return Err(Error::ParameterMismatch {
                    what: "ciphertext parts at different levels",
                });
            }
            p.to_ntt();
        }
        Ok(Self {
            params: params.clone(),
            level,
            parts,
            seed: None,
        })
    }

    pub(crate) fn from_seeded_parts(
        params: &Arc<Params>,
        c0: Poly,
        c1: Poly,
        seed: Seed,
    ) -> Result<Self> {
        let mut ct = Self::new(params, vec![c0, c1])?;
        ct.seed = Some(seed);
        Ok(ct)
    }

    /// The parameters.
    pub fn params(&self) -> &Arc<Params> {
        &self.params
    }

    /// The level (`0 ..= max_level`).
    pub fn level(&self) -> usize {
        self.level
    }

    /// The polynomials `c_0, c_1, …` (NTT form).
    pub fn parts(&self) -> &[Poly] {
        &self.parts
    }

    /// Mutable parts; the caller keeps them NTT over this level. Drops the seed.
    pub fn parts_mut(&mut self) -> &mut [Poly] {
        self.seed = None;
        &mut self.parts
    }

    /// Number of polynomials (2 after relinearization, 3 after a product).
    pub fn len(&self) -> usize {
        self.parts.len()
    }

    /// Always false (at least two parts).
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// The seed of `c_1`, for a fresh secret-key ciphertext.
    pub fn seed(&self) -> Option<&Seed> {
        self.seed.as_ref()
    }

    /// Errors unless `other` has the same parameters and level.
    pub fn check_compatible(&self, other: &Ciphertext) -> Result<()> {
        self.params
            .check_same(&other.params, "ciphertexts under different parameters")?;
        if self.level != other.level {
            return Err(Error::InvalidLevel {
                what: "operands at different levels",
                got: other.level,
                max: self.level,
            });
        }
        Ok(())
    }

    fn check_plain(&self, pt: &Poly) -> Result<()> {
        let level = self.params.level_of(pt.context())?;
        if level != self.level {
            return Err(Error::InvalidLevel {
                what: "plaintext and ciphertext at different levels",
                got: level,
                max: self.level,
            });
        }
        if pt.representation() != Representation::Ntt {
            return Err(Error::RepresentationMismatch {
                expected: Representation::Ntt,
                got: pt.representation(),
            });
        }
        Ok(())
    }

    /// `self + other` as a new ciphertext, in one pass over both (the
    /// longer of the two sets the number of parts).
    pub fn add(&self, other: &Ciphertext) -> Result<Ciphertext> {
        self.combine(other, Poly::add, |p| p.clone())
    }

    /// `self − other` as a new ciphertext, in one pass over both.
    pub fn sub(&self, other: &Ciphertext) -> Result<Ciphertext> {
        self.combine(other, Poly::sub, |p| {
            let mut q = p.clone();
            q.neg_assign();
            q
        })
    }

    /// Part by part `f(self_i, other_i)`; a part only `self` has is
    /// copied, one only `other` has goes through `extra`.
    fn combine(
        &self,
        other: &Ciphertext,
        f: impl Fn(&Poly, &Poly) -> Result<Poly>,
        extra: impl Fn(&Poly) -> Poly,
    ) -> Result<Ciphertext> {
        self.check_compatible(other)?;
        let mut parts = self
            .parts
            .iter()
            .zip(&other.parts)
            .map(|(a, b)| f(a, b))
            .collect::<Result<Vec<_>>>()?;
        let common = parts.len();
        parts.extend(self.parts[common..].iter().cloned());
        parts.extend(other.parts[common..].iter().map(extra));
        Ok(Ciphertext {
            params: self.params.clone(),
            level: self.level,
            parts,
            seed: None,
        })
    }

    /// `self += other` (the longer of the two sets the number of parts).
    pub fn add_assign(&mut self, other: &Ciphertext) -> Result<()> {
        self.check_compatible(other)?;
        self.seed = None;
        for (i, p) in other.parts.iter().enumerate() {
            if i < self.parts.len() {
                self.parts[i].add_assign(p)?;
            } else {
                self.parts.push(p.clone());
            }
        }
        Ok(())
    }

    /// `self -= other`.
    pub fn sub_assign(&mut self, other: &Ciphertext) -> Result<()> {
        self.check_compatible(other)?;
        self.seed = None;
        for (i, p) in other.parts.iter().enumerate() {
            if i < self.parts.len() {
                self.parts[i].sub_assign(p)?;
            } else {
                let mut q = p.clone();
                q.neg_assign();
                self.parts.push(q);
            }
        }
        Ok(())
    }

    /// `self = −self`.
    pub fn neg_assign(&mut self) {
        self.seed = None;
        for p in &mut self.parts {
            p.neg_assign();
        }
    }

    /// Adds a plaintext polynomial (NTT over this level) to `c_0`.
    pub fn add_plain_assign(&mut self, pt: &Poly) -> Result<()> {
        self.check_plain(pt)?;
        self.seed = None;
        self.parts[0].add_assign(pt)
    }

    /// Subtracts a plaintext polynomial from `c_0`.
    pub fn sub_plain_assign(&mut self, pt: &Poly) -> Result<()> {
        self.check_plain(pt)?;
        self.seed = None;
        self.parts[0].sub_assign(pt)
    }

    /// Multiplies every part by a plaintext polynomial (NTT over this level)
    /// in place: one pointwise pass per part.
    pub fn mul_plain_assign(&mut self, pt: &Poly) -> Result<()> {
        self.check_plain(pt)?;
        self.seed = None;
        for p in &mut self.parts {
            p.mul_assign(pt)?;
        }
        Ok(())
    }

    /// `self · pt` for a plaintext polynomial (NTT over this level) as a new
    /// ciphertext: each part is written once, from `self` and `pt` (no copy
    /// of `self` first).
    pub fn mul_plain(&self, pt: &Poly) -> Result<Ciphertext> {
        self.check_plain(pt)?;
        let parts = self
            .parts
            .iter()
            .map(|p| Poly::mul(p, pt))
            .collect::<Result<Vec<_>>>()?;
        Ok(Ciphertext {
            params: self.params.clone(),
            level: self.level,
            parts,
            seed: None,
        })
    }

    /// Multiplies every part by the integer `c`.
    pub fn mul_scalar_assign(&mut self, c: u64) {
        self.seed = None;
        for p in &mut self.parts {
            p.mul_scalar_assign(c);
        }
    }

    /// The tensor product of two 2-part ciphertexts in NTT form: the 3-part
    /// ciphertext `(a_0 b_0, a_0 b_1 + a_1 b_0, a_1 b_1)` that decrypts to
    /// the product of the two plaintexts (CKKS multiplication before
    /// relinearization; BFV scales this in its own crate).
    pub fn tensor(&self, other: &Ciphertext) -> Result<Ciphertext> {
        self.check_compatible(other)?;
        if self.parts.len() != 2 || other.parts.len() != 2 {
            return Err(Error::Malformed {
                what: "ciphertext",
                reason: "tensor needs two-part ciphertexts (relinearize first)".into(),
            });
        }
        let (a0, a1) = (&self.parts[0], &self.parts[1]);
        let (b0, b1) = (&other.parts[0], &other.parts[1]);
        let cross = || -> Result<Poly> {
            let mut c1 = Poly::mul(a0, b1)?;
            c1.mul_acc(a1, b0)?;
            Ok(c1)
        };
        let outer = || -> Result<(Poly, Poly)> { Ok((Poly::mul(a0, b0)?, Poly::mul(a1, b1)?)) };
        // two products each way: the halves on two threads when that pays
        let ((c0, c2), c1) = if rayon::current_num_threads() > 1
            && crate::poly::parallel(a0.context().len(), a0.context().degree())
        {
            let (o, c) = rayon::join(outer, cross);
            (o?, c?)
        } else {
            (outer()?, cross()?)
        };
        Ok(Ciphertext {
            params: self.params.clone(),
            level: self.level,
            parts: vec![c0, c1, c2],
            seed: None,
        })
    }

    /// Relinearizes a 3-part ciphertext into 2 parts with `rlk`.
    pub fn relinearize(&self, rlk: &RelinKey) -> Result<Ciphertext> {
        self.params
            .check_same(rlk.key().params(), "relinearization key and ciphertext")?;
        match self.parts.len() {
            2 => Ok(self.clone()),
            3 => {
                let (k0, k1) = rlk.key().switch(&self.parts[2])?;
                let mut c0 = self.parts[0].clone();
                let mut c1 = self.parts[1].clone();
                c0.add_assign(&k0)?;
                c1.add_assign(&k1)?;
                Ok(Ciphertext {
                    params: self.params.clone(),
                    level: self.level,
                    parts: vec![c0, c1],
                    seed: None,
                })
            }
            _ => Err(Error::Malformed {
                what: "ciphertext",
                reason: "relinearization takes a 3-part ciphertext".into(),
            }),
        }
    }

    /// Relinearizes a 3-part ciphertext and rescales by `q_l` in one step:
    /// the key-switching result over `Q_l ∪ P` is added to `P·(c_0, c_1)` and
    /// divided by `P·q_l` at once, saving the separate modulus reduction
    /// (what CKKS does after every multiplication). Decrypts to the same
    /// value as `relinearize(..).rescale()` up to rounding.
    pub fn relinearize_rescale(&self, rlk: &RelinKey) -> Result<Ciphertext> {
        self.params
            .check_same(rlk.key().params(), "relinearization key and ciphertext")?;
        if self.parts.len() != 3 {
            return Err(Error::Malformed {
                what: "ciphertext",
                reason: "relinearize_rescale takes a 3-part ciphertext".into(),
            });
        }
        let level = self.level;
        let tables = self.params.level_tables(level)?;
        let ext = tables.rescale_p.as_ref().ok_or(Error::InvalidLevel {
            what: "cannot rescale at level 0 (or no special primes)",
            got: level,
            max: self.params.max_level(),
        })?;
        let (k0, k1) = rlk.key().switch_unreduced(&self.parts[2])?;
        let ring_qp = self.params.ring_qp(level)?;
        let target = self.params.ring_q(level - 1)?;
        let n = self.params.degree();
        let half = |mut k: Poly, c: &Poly| -> Result<Poly> {
            // k += P·c on the Q_l limbs (P·c ≡ 0 on the P limbs)
            for (i, m) in ring_qp.moduli()[..=level].iter().enumerate() {
                let p_mod = self
                    .params
                    .p()
                    .iter()
                    .fold(1u64, |acc, &p| m.mul(acc, m.reduce(p)));
                let src = &c.data()[i * n..(i + 1) * n];
                crate::simd::op64(
                    crate::simd::Op64::AddMul,
                    k.limb_mut(i),
                    src,
                    p_mod,
                    m.shoup(p_mod),
                    m.value(),
                );
            }
            k.into_divide_round_by_tail(target, ext)
        };
        // the two halves concurrently on two threads (see `mod_down_pair`)
        let parts = if rayon::current_num_threads() > 1 && crate::poly::parallel(ring_qp.len(), n) {
            let (r0, r1) = rayon::join(|| half(k0, &self.parts[0]), || half(k1, &self.parts[1]));
            vec![r0?, r1?]
        } else {
            vec![half(k0, &self.parts[0])?, half(k1, &self.parts[1])?]
        };
        Ok(Ciphertext {
            params: self.params.clone(),
            level: level - 1,
            parts,
            seed: None,
        })
    }

    /// The parts, consuming the ciphertext.
    pub fn into_parts(self) -> Vec<Poly> {
        self.parts
    }

    /// Applies the automorphism of `gk` (`X → X^k`) and switches back to `s`.
    pub fn apply_galois(&self, gk: &GaloisKey) -> Result<Ciphertext> {
        self.params
            .check_same(gk.key().params(), "Galois key and ciphertext")?;
        if self.parts.len() != 2 {
            return Err(Error::Malformed {
                what: "ciphertext",
                reason: "automorphisms need a 2-part ciphertext (relinearize first)".into(),
            });
        }
        let k = gk.element();
        let mut c0 = self.parts[0].automorphism(k)?;
        let c1 = self.parts[1].automorphism(k)?;
        let (k0, k1) = gk.key().switch(&c1)?;
        c0.add_assign(&k0)?;
        Ok(Ciphertext {
            params: self.params.clone(),
            level: self.level,
            parts: vec![c0, k1],
            seed: None,
        })
    }

    /// The same ciphertext at a lower level, by dropping primes (no
    /// rounding: the noise is unchanged relative to the smaller modulus only
    /// for schemes that scale; use [`Self::rescale`] to divide).
    pub fn drop_to_level(&self, level: usize) -> Result<Ciphertext> {
        if level > self.level {
            return Err(Error::InvalidLevel {
                what: "cannot raise a ciphertext's level",
                got: level,
                max: self.level,
            });
        }
        let ring = self.params.ring_q(level)?;
        let parts = self
            .parts
            .iter()
            .map(|p| p.drop_to(ring))
            .collect::<Result<Vec<_>>>()?;
        Ok(Ciphertext {
            params: self.params.clone(),
            level,
            parts,
            seed: None,
        })
    }

    /// Divides every part by the last prime `q_l` with rounding and moves to
    /// level `l − 1` (CKKS rescaling).
    pub fn rescale(&self) -> Result<Ciphertext> {
        if self.level == 0 {
            return Err(Error::InvalidLevel {
                what: "cannot rescale a ciphertext at level 0",
                got: 0,
                max: 0,
            });
        }
        let tables = self.params.level_tables(self.level)?;
        let ext = tables.rescale.as_ref().ok_or(Error::InvalidLevel {
            what: "no rescaling table at this level",
            got: self.level,
            max: self.params.max_level(),
        })?;
        let ring = self.params.ring_q(self.level - 1)?;
        let parts = self
            .parts
            .iter()
            .map(|p| p.divide_round_by_tail(ring, ext))
            .collect::<Result<Vec<_>>>()?;
        Ok(Ciphertext {
            params: self.params.clone(),
            level: self.level - 1,
            parts,
            seed: None,
        })
    }
}

impl KeySwitchKey {
    /// Key switching of `d` (over some `Q_l`): returns `(k_0, k_1)` in NTT
    /// form over `Q_l` with `k_0 + k_1·s ≈ d·s'`.
    pub fn switch(&self, d: &Poly) -> Result<(Poly, Poly)> {
        let params = self.params();
        let level = params.level_of(d.context())?;
        let (a0, a1) = self.switch_unreduced(d)?;
        mod_down_pair(params, a0, a1, level)
    }

    /// The inner product of decomposed digits with the key, over `Q_l ∪ P`
    /// (before [`mod_down`]). Digits from [`decompose`] can be shared by
    /// several keys (hoisting).
    pub fn apply_decomposed(&self, digits: &[Poly], level: usize) -> Result<(Poly, Poly)> {
        self.apply_decomposed_galois(digits, level, None)
    }

    /// `(a_0, a_1)` over `Q_l ∪ P` before [`mod_down`]: the same as
    /// [`apply_decomposed`](Self::apply_decomposed) of [`decompose`]`(d)`,
    /// for a single key switch (no hoisting), without writing the digits
    /// out. Prime by prime: each digit's limb is extended into one
    /// limb-sized buffer, put in NTT form and multiplied into the two
    /// accumulator limbs while it is in cache (materialized, the digits
    /// are |digits|·|Q_l ∪ P| limbs — megabytes — that the NTTs and the
    /// inner product would each read back from memory).
    pub fn switch_unreduced(&self, d: &Poly) -> Result<(Poly, Poly)> {
        let params = self.params();
        let level = params.level_of(d.context())?;
        let tables = params.level_tables(level)?;
        if tables.digits.is_empty() {
            return Err(Error::InvalidParameters {
                reason: "key switching needs special primes P".into(),
            });
        }
        if tables.digits.len() > self.b().len() {
            return Err(Error::ParameterMismatch {
                what: "more digits than the key has",
            });
        }
        let ring = params.ring_qp(level)?;
        let top_l = params.q().len();
        let n = params.degree();
        let mut dc = d.clone();
        dc.to_coeff();
        // the digits' own limbs equal d's: d's NTT form when it has one
        let d_ntt = (d.representation() == Representation::Ntt).then_some(d);
        let prepared: Vec<crate::rns::Prepared> = tables
            .digits
            .iter()
            .map(|(range, ext)| {
                // centered digits (see `decompose`)
                ext.prepare(&dc.data()[range.start * n..range.end * n], n, true)
            })
            .collect();
        // every limb is written by the first digit: no zero fill
        let (mut acc0, mut acc1) = (unfilled(ring), unfilled(ring));
        let work = |(t, (l0, l1)): (usize, (&mut [u64], &mut [u64]))| {
            let plan = &ring.plans()[t];
            let key_limb = if t <= level { t } else { top_l + t - level - 1 };
            let mut tmp = crate::pool::take_overwrite(n);
            for (j, ((range, ext), prep)) in tables.digits.iter().zip(&prepared).enumerate() {
                let limb: &[u64] = if range.contains(&t) {
                    match d_ntt {
                        Some(dn) => dn.limb(t),
                        None => {
                            tmp.copy_from_slice(dc.limb(t));
                            plan.forward(&mut tmp);
                            &tmp
                        }
                    }
                } else {
                    // targets: the primes of Q_l outside the digit, then P
                    let k = if t < range.start { t } else { t - range.len() };
                    ext.extend_target(prep, k, &mut tmp);
                    plan.forward(&mut tmp);
                    &tmp
                };
                self.digit_product(plan, j, key_limb, limb, l0, l1);
            }
            crate::pool::give(tmp);
        };
        for_each_limb_pair(&mut acc0, &mut acc1, n, work);
        prepared.into_iter().for_each(crate::rns::Prepared::recycle);
        Ok((acc0, acc1))
    }

    /// [`Self::apply_decomposed`] of the digits' images under the
    /// automorphism `X → X^k` (`galois = Some(k)`, a hoisted rotation of
    /// the digits of the unrotated `c_1`): each digit limb is read through
    /// the NTT-slot permutation into one limb-sized buffer, so the rotated
    /// digits (digits × |Q_l ∪ P| limbs) are never written out. Limb by limb
    /// (parallel over limbs), so each accumulator limb stays in cache
    /// across the digits.
    pub fn apply_decomposed_galois(
        &self,
        digits: &[Poly],
        level: usize,
        galois: Option<usize>,
    ) -> Result<(Poly, Poly)> {
        let params = self.params();
        let ring = params.ring_qp(level)?;
        let top_l = params.q().len();
        let n = params.degree();
        if digits.len() > self.b().len() {
            return Err(Error::ParameterMismatch {
                what: "more digits than the key has",
            });
        }
        for d in digits {
            if !d.context().same_ring(ring) || d.representation() != Representation::Ntt {
                return Err(Error::ParameterMismatch {
                    what: "decomposed digit is not NTT over Q_l ∪ P",
                });
            }
        }
        let perms = match galois {
            Some(k) => {
                if k.is_multiple_of(2) {
                    return Err(Error::OutOfRange {
                        what: "Galois element must be odd",
                    });
                }
                ring.plans()
                    .iter()
                    .map(|plan| plan.galois_permutation(k % (2 * n)).map(Some))
                    .collect::<Result<Vec<_>>>()?
            }
            None => vec![None; ring.len()],
        };
        if digits.is_empty() {
            return Ok((
                Poly::zero(ring, Representation::Ntt),
                Poly::zero(ring, Representation::Ntt),
            ));
        }
        // every limb is written by the first digit: no zero fill
        let (mut acc0, mut acc1) = (unfilled(ring), unfilled(ring));
        let work = |(t, (l0, l1)): (usize, (&mut [u64], &mut [u64]))| {
            let plan = &ring.plans()[t];
            let src = if t <= level { t } else { top_l + t - level - 1 };
            let mut tmp = match perms[t] {
                Some(_) => crate::pool::take_overwrite(n),
                None => Vec::new(),
            };
            for (j, d) in digits.iter().enumerate() {
                let dl = match &perms[t] {
                    Some(perm) => {
                        let limb = d.limb(t);
                        for (o, &i) in tmp.iter_mut().zip(perm.iter()) {
                            *o = limb[i as usize];
                        }
                        &tmp[..]
                    }
                    None => d.limb(t),
                };
                self.digit_product(plan, j, src, dl, l0, l1);
            }
            crate::pool::give(tmp);
        };
        for_each_limb_pair(&mut acc0, &mut acc1, n, work);
        Ok((acc0, acc1))
    }
}

impl KeySwitchKey {
    /// Accumulator limbs `(l0, l1)` += digit `j`'s limb `limb` times the
    /// key's limb `key_limb`; digit 0 writes them (they start unfilled).
    fn digit_product(
        &self,
        plan: &crate::ntt::NttPlan,
        j: usize,
        key_limb: usize,
        limb: &[u64],
        l0: &mut [u64],
        l1: &mut [u64],
    ) {
        let n = limb.len();
        let r = key_limb * n..(key_limb + 1) * n;
        let (kb, ka) = (&self.b()[j].data()[r.clone()], &self.a()[j].data()[r]);
        if j == 0 {
            plan.mul_into(l0, limb, kb);
            plan.mul_into(l1, limb, ka);
        } else {
            plan.mul_acc(l0, limb, kb);
            plan.mul_acc(l1, limb, ka);
        }
    }
}

/// A polynomial over `ring` in NTT form whose limbs are all written before
/// they are read (no zero fill).
fn unfilled(ring: &Arc<RingContext>) -> Poly {
    Poly::from_limbs_unchecked(
        ring,
        Representation::Ntt,
        crate::poly::scratch(ring.len() * ring.degree()),
    )
}

/// Splits `d` (over `Q_l`) into the hybrid key-switching digits `D_j`
/// (centered: `D_j ≡ d mod Q_j`, `|D_j| < Q_j/2`), each extended exactly to
/// `Q_l ∪ P` and put in NTT form.
pub fn decompose(params: &Params, d: &Poly) -> Result<Vec<Poly>> {
    let level = params.level_of(d.context())?;
    let tables = params.level_tables(level)?;
    if tables.digits.is_empty() {
        return Err(Error::InvalidParameters {
            reason: "key switching needs special primes P".into(),
        });
    }
    let ring = params.ring_qp(level)?;
    let n = params.degree();
    let mut dc = d.clone();
    dc.to_coeff();
    // The digit's own limbs equal d's: reuse d's NTT form when it has one.
    let d_ntt = (d.representation() == Representation::Ntt).then_some(d);
    let mut out = Vec::with_capacity(tables.digits.len());
    for (range, ext) in &tables.digits {
        let src = &dc.data()[range.start * n..range.end * n];
        // Centered digits (|D_j| < Q_j/2): their mean is zero, so the
        // key-switching noise Σ_j D_j·e_j does not pick up a constant
        // offset (which the CKKS embedding would amplify by N instead of
        // sqrt(N)); the exact extension costs one float estimate per
        // coefficient.
        let mut ext_out = crate::poly::scratch(ext.to_moduli().len() * n);
        ext.extend(src, n, &mut ext_out, true);
        // every limb is written below: no zero fill; the limbs are put in
        // NTT form afterwards, prime by prime
        let mut digit = Poly::from_limbs_unchecked(
            ring,
            Representation::Ntt,
            crate::poly::scratch(ring.len() * n),
        );
        let mut k = 0;
        for t in 0..ring.len() {
            let dst = digit.limb_mut(t);
            if range.contains(&t) {
                match d_ntt {
                    Some(dn) => dst.copy_from_slice(dn.limb(t)),
                    None => {
                        dst.copy_from_slice(&src[(t - range.start) * n..(t - range.start + 1) * n])
                    }
                }
            } else {
                dst.copy_from_slice(&ext_out[k * n..(k + 1) * n]);
                k += 1;
            }
        }
        crate::poly::recycle(ext_out);
        out.push(digit);
    }
    // The forward NTTs prime by prime: one prime's twiddle tables serve
    // every digit's limb before the next prime's are loaded (digit by
    // digit, each NTT would find its tables evicted by the others').
    let mut columns: Vec<Vec<&mut [u64]>> = (0..ring.len()).map(|_| Vec::new()).collect();
    for ((range, _), digit) in tables.digits.iter().zip(out.iter_mut()) {
        for (t, limb) in digit.data_mut().chunks_mut(n).enumerate() {
            if !(range.contains(&t) && d_ntt.is_some()) {
                columns[t].push(limb);
            }
        }
    }
    let plans = ring.plans();
    let work = |(t, limbs): (usize, Vec<&mut [u64]>)| {
        for limb in limbs {
            plans[t].forward(limb);
        }
    };
    if crate::poly::parallel(ring.len(), n) {
        use rayon::prelude::*;
        columns.into_par_iter().enumerate().for_each(work);
    } else {
        columns.into_iter().enumerate().for_each(work);
    }
    Ok(out)
}

/// `work((t, (limb t of a, limb t of b)))` for every limb, in parallel over
/// limbs when that pays (the accumulators of the key inner products).
fn for_each_limb_pair<F>(a: &mut Poly, b: &mut Poly, n: usize, work: F)
where
    F: Fn((usize, (&mut [u64], &mut [u64]))) + Sync + Send,
{
    if crate::poly::parallel(a.context().len(), n) {
        use rayon::prelude::*;
        a.data_mut()
            .par_chunks_mut(n)
            .zip(b.data_mut().par_chunks_mut(n))
            .enumerate()
            .for_each(work);
    } else {
        a.data_mut()
            .chunks_mut(n)
            .zip(b.data_mut().chunks_mut(n))
            .enumerate()
            .for_each(work);
    }
}

/// `round(x / P)` from `Q_l ∪ P` to `Q_l` (keeps the representation).
pub fn mod_down(params: &Params, x: &Poly, level: usize) -> Result<Poly> {
    x.divide_round_by_tail(params.ring_q(level)?, mod_down_table(params, level)?)
}

/// [`mod_down`] in `x`'s own buffer.
pub fn mod_down_owned(params: &Params, x: Poly, level: usize) -> Result<Poly> {
    x.into_divide_round_by_tail(params.ring_q(level)?, mod_down_table(params, level)?)
}

/// [`mod_down_owned`] of both halves of a key switch; with more than one
/// thread the two run concurrently (each has serial steps — the inverse
/// NTTs of the `P` limbs and their extension — that the limb-parallel
/// loops inside one mod-down cannot spread).
pub fn mod_down_pair(params: &Params, a0: Poly, a1: Poly, level: usize) -> Result<(Poly, Poly)> {
    if rayon::current_num_threads() > 1
        && crate::poly::parallel(a0.context().len(), params.degree())
    {
        let (r0, r1) = rayon::join(
            || mod_down_owned(params, a0, level),
            || mod_down_owned(params, a1, level),
        );
        return Ok((r0?, r1?));
    }
    Ok((
        mod_down_owned(params, a0, level)?,
        mod_down_owned(params, a1, level)?,
    ))
}

fn mod_down_table(params: &Params, level: usize) -> Result<&crate::rns::BasisExtender> {
    params
        .level_tables(level)?
        .mod_down
        .as_ref()
        .ok_or(Error::InvalidParameters {
            reason: "key switching needs special primes P".into(),
        })
}
