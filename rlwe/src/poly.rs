//! RNS polynomials in `Z_Q[X]/(X^N + 1)` that know their basis and their
//! representation (coefficients or NTT evaluations).

use std::sync::Arc;

use num_bigint::BigInt;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use crate::ntt::NttPlan;
use crate::pool;
use crate::rns::{BasisExtender, RnsBasis};
use crate::zq::Modulus;
use crate::{Error, Result};

/// How a polynomial's limbs are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Representation {
    /// Coefficients `a_0 .. a_{N-1}` modulo each prime.
    Coefficient,
    /// NTT evaluations (the order of [`NttPlan::forward`]).
    Ntt,
}

/// A ring `Z_Q[X]/(X^N + 1)` for one RNS basis: the moduli and their NTT
/// plans. Shared (`Arc`) by every polynomial in that ring.
pub struct RingContext {
    degree: usize,
    moduli: Vec<Modulus>,
    plans: Vec<Arc<NttPlan>>,
    basis: RnsBasis,
}

impl std::fmt::Debug for RingContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RingContext")
            .field("degree", &self.degree)
            .field(
                "moduli",
                &self.moduli.iter().map(|m| m.value()).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl RingContext {
    /// A ring of degree `degree` (a power of two ≥ 16) over NTT-friendly primes.
    pub fn new(degree: usize, moduli: &[u64]) -> Result<Arc<Self>> {
        let plans = moduli
            .iter()
            .map(|&q| NttPlan::new(degree, q).map(Arc::new))
            .collect::<Result<Vec<_>>>()?;
        Self::from_plans(plans)
    }

    /// A ring reusing existing NTT plans (which must share one degree).
    pub fn from_plans(plans: Vec<Arc<NttPlan>>) -> Result<Arc<Self>> {
        let degree = plans
            .first()
            .map(|p| p.degree())
            .ok_or(Error::InvalidParameters {
                reason: "a ring needs at least one modulus".into(),
            })?;
        if plans.iter().any(|p| p.degree() != degree) {
            return Err(Error::InvalidParameters {
                reason: "NTT plans of different degrees".into(),
            });
        }
        let moduli: Vec<Modulus> = plans.iter().map(|p| *p.modulus()).collect();
        let basis = RnsBasis::new(&moduli.iter().map(|m| m.value()).collect::<Vec<_>>())?;
        Ok(Arc::new(Self {
            degree,
            moduli,
            plans,
            basis,
        }))
    }

    /// Ring degree N.
    #[inline]
    pub fn degree(&self) -> usize {
        self.degree
    }

    /// The moduli of the basis.
    #[inline]
    pub fn moduli(&self) -> &[Modulus] {
        &self.moduli
    }

    /// The NTT plans, one per modulus.
    #[inline]
    pub fn plans(&self) -> &[Arc<NttPlan>] {
        &self.plans
    }

    /// CRT constants of the basis.
    #[inline]
    pub fn basis(&self) -> &RnsBasis {
        &self.basis
    }

    /// Number of moduli (limbs).
    #[inline]
    pub fn len(&self) -> usize {
        self.moduli.len()
    }

    /// Always false.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.moduli.is_empty()
    }

    /// Whether two contexts describe the same ring.
    pub fn same_ring(&self, other: &RingContext) -> bool {
        std::ptr::eq(self, other) || (self.degree == other.degree && self.moduli == other.moduli)
    }
}

/// Whether limb-parallel work on `limbs` limbs of degree `n` is worth
/// handing to rayon (more than one thread, enough work per task).
#[inline]
pub(crate) fn parallel(limbs: usize, n: usize) -> bool {
    limbs > 1 && n >= 8192 && limbs * n >= 1 << 16 && rayon::current_num_threads() > 1
}

/// `c mod q` for `|c| < q`, branch-free (`c + q` when `c` is negative).
#[inline]
pub(crate) fn lift_small(c: i64, q: u64) -> u64 {
    (c as u64).wrapping_add(q & ((c >> 63) as u64))
}

/// A zeroed scratch buffer of `len` words from the per-thread pool (see
/// [`Poly`]'s allocation notes); hand it back with [`recycle`].
pub fn buffer(len: usize) -> Vec<u64> {
    pool::take_zeroed(len)
}

/// A scratch buffer of `len` words with unspecified contents, for outputs
/// that are overwritten entirely (no zero fill); hand it back with
/// [`recycle`].
pub fn scratch(len: usize) -> Vec<u64> {
    pool::take_overwrite(len)
}

/// Returns a buffer obtained from [`buffer`] (or any `Vec<u64>`) to the pool.
pub fn recycle(v: Vec<u64>) {
    pool::give(v)
}

/// A polynomial in RNS form. Limb `i` holds the residues modulo the `i`-th
/// prime of its context, limb-major in one buffer.
pub struct Poly {
    ctx: Arc<RingContext>,
    repr: Representation,
    data: Vec<u64>,
}

impl std::fmt::Debug for Poly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Coefficients are not printed: a polynomial may be secret.
        f.debug_struct("Poly")
            .field("degree", &self.ctx.degree)
            .field("limbs", &self.ctx.len())
            .field("repr", &self.repr)
            .finish_non_exhaustive()
    }
}

impl Clone for Poly {
    fn clone(&self) -> Self {
        let mut data = pool::take(self.data.len());
        data.extend_from_slice(&self.data);
        Self {
            ctx: self.ctx.clone(),
            repr: self.repr,
            data,
        }
    }
}

impl Drop for Poly {
    fn drop(&mut self) {
        pool::give(std::mem::take(&mut self.data));
    }
}

impl Zeroize for Poly {
    fn zeroize(&mut self) {
        self.data.zeroize();
    }
}

impl PartialEq for Poly {
    fn eq(&self, other: &Self) -> bool {
        self.ctx.same_ring(&other.ctx) && self.repr == other.repr && self.data == other.data
    }
}
impl Eq for Poly {}

impl Poly {
    /// The zero polynomial.
    pub fn zero(ctx: &Arc<RingContext>, repr: Representation) -> Self {
        Self {
            ctx: ctx.clone(),
            repr,
            data: pool::take_zeroed(ctx.len() * ctx.degree),
        }
    }

    /// A polynomial from limb-major residues, each checked against its modulus.
    pub fn from_limbs(
        ctx: &Arc<RingContext>,
        repr: Representation,
        data: Vec<u64>,
    ) -> Result<Self> {
        let n = ctx.degree;
        if data.len() != ctx.len() * n {
            return Err(Error::Malformed {
                what: "polynomial",
                reason: format!("{} words for {} limbs of degree {n}", data.len(), ctx.len()),
            });
        }
        for (i, m) in ctx.moduli.iter().enumerate() {
            if data[i * n..(i + 1) * n].iter().any(|&x| x >= m.value()) {
                return Err(Error::Malformed {
                    what: "polynomial",
                    reason: format!("coefficient not below modulus {}", m.value()),
                });
            }
        }
        Ok(Self {
            ctx: ctx.clone(),
            repr,
            data,
        })
    }

    /// A polynomial from limb-major residues that the caller guarantees are
    /// reduced (length `limbs × N`, each value below its modulus): no
    /// validation pass. For data produced by this crate's own arithmetic.
    pub(crate) fn from_limbs_unchecked(
        ctx: &Arc<RingContext>,
        repr: Representation,
        data: Vec<u64>,
    ) -> Self {
        debug_assert_eq!(data.len(), ctx.len() * ctx.degree);
        Self {
            ctx: ctx.clone(),
            repr,
            data,
        }
    }

    /// The monomial `X^k` in NTT form (`k` taken modulo `2N`: `X^N = −1`).
    pub fn monomial_ntt(ctx: &Arc<RingContext>, k: u64) -> Self {
        let n = ctx.degree;
        let k = k % (2 * n as u64);
        let (at, negative) = ((k % n as u64) as usize, k >= n as u64);
        let mut p = Self::zero(ctx, Representation::Coefficient);
        for (i, m) in ctx.moduli.iter().enumerate() {
            p.data[i * n + at] = if negative { m.value() - 1 } else { 1 };
        }
        p.to_ntt();
        p
    }

    /// Inverts every NTT slot in place (Montgomery's batch inversion: one
    /// modular inverse per limb). A zero slot — the polynomial is not a
    /// unit — is [`Error::OutOfRange`] and leaves `self` unchanged.
    pub fn invert_assign(&mut self) -> Result<()> {
        self.check_ntt()?;
        let n = self.ctx.degree;
        if self.data.contains(&0) {
            return Err(Error::OutOfRange {
                what: "a zero NTT slot: the polynomial is not invertible",
            });
        }
        let mut prefix = pool::take_overwrite(n);
        for (i, m) in self.ctx.moduli.iter().enumerate() {
            let limb = &mut self.data[i * n..(i + 1) * n];
            let mut acc = 1u64;
            for (p, &x) in prefix.iter_mut().zip(limb.iter()) {
                *p = acc;
                acc = m.mul(acc, x);
            }
            let mut inv = m.inv(acc)?;
            for (x, &p) in limb.iter_mut().zip(prefix.iter()).rev() {
                let xi = m.mul(inv, p);
                inv = m.mul(inv, *x);
                *x = xi;
            }
        }
        pool::give(prefix);
        Ok(())
    }

    /// A polynomial (coefficient representation) from signed coefficients;
    /// missing high coefficients are zero.
    pub fn from_i64(ctx: &Arc<RingContext>, coeffs: &[i64]) -> Result<Self> {
        let n = ctx.degree;
        if coeffs.len() > n {
            return Err(Error::OutOfRange {
                what: "more coefficients than the ring degree",
            });
        }
        // values below a modulus in magnitude (the usual case: encodings,
        // errors) take the vectorized lift; larger ones are reduced
        let max = coeffs.iter().map(|c| c.unsigned_abs()).max().unwrap_or(0);
        let mut data = pool::take_overwrite(ctx.len() * n);
        for (i, m) in ctx.moduli.iter().enumerate() {
            let (head, tail) = data[i * n..(i + 1) * n].split_at_mut(coeffs.len());
            if max < m.value() {
                crate::simd::lift_i64(head, coeffs, m.value());
            } else {
                for (d, &c) in head.iter_mut().zip(coeffs) {
                    *d = m.reduce_i64(c);
                }
            }
            tail.fill(0);
        }
        Ok(Self::from_limbs_unchecked(
            ctx,
            Representation::Coefficient,
            data,
        ))
    }

    /// Adds small signed integers to the coefficients (coefficient
    /// representation; missing high coefficients add nothing). Values below
    /// every modulus in magnitude take a branch-free path (errors, ternary
    /// secrets); larger ones are reduced.
    ///
    /// # Errors
    /// [`Error::RepresentationMismatch`] in NTT form; [`Error::OutOfRange`]
    /// for more than N values.
    pub fn add_small_assign(&mut self, coeffs: &[i64]) -> Result<()> {
        if self.repr != Representation::Coefficient {
            return Err(Error::RepresentationMismatch {
                expected: Representation::Coefficient,
                got: self.repr,
            });
        }
        let n = self.ctx.degree;
        if coeffs.len() > n {
            return Err(Error::OutOfRange {
                what: "more coefficients than the ring degree",
            });
        }
        let bound = coeffs.iter().map(|c| c.unsigned_abs()).max().unwrap_or(0);
        for (i, m) in self.ctx.moduli.iter().enumerate() {
            let dst = &mut self.data[i * n..i * n + coeffs.len()];
            let q = m.value();
            if bound < q && crate::simd::ifma() {
                crate::simd::add_small(dst, coeffs, q);
            } else if bound < q {
                for (d, &c) in dst.iter_mut().zip(coeffs) {
                    *d = m.add(*d, lift_small(c, q));
                }
            } else {
                for (d, &c) in dst.iter_mut().zip(coeffs) {
                    *d = m.add(*d, m.reduce_i64(c));
                }
            }
        }
        Ok(())
    }

    /// `round(Q·m/t)` (coefficient representation) for the coefficients `m`
    /// in `[0, t)` of a plaintext modulo `t`, with `upscaler` built for this
    /// ring's moduli (see [`crate::rns::Upscaler`]).
    ///
    /// # Errors
    /// [`Error::ParameterMismatch`] when `upscaler` is for other moduli;
    /// [`Error::OutOfRange`] for more than N values or a value `≥ t`.
    pub fn from_upscaled(
        ctx: &Arc<RingContext>,
        upscaler: &crate::rns::Upscaler,
        m: &[u64],
    ) -> Result<Self> {
        let n = ctx.degree;
        if !upscaler
            .moduli()
            .iter()
            .map(|q| q.value())
            .eq(ctx.moduli.iter().map(|q| q.value()))
        {
            return Err(Error::ParameterMismatch {
                what: "upscaler built for other moduli than the ring",
            });
        }
        if m.len() > n {
            return Err(Error::OutOfRange {
                what: "more coefficients than the ring degree",
            });
        }
        let mut data = pool::take_overwrite(ctx.len() * n);
        if m.len() == n {
            upscaler.scale(m, &mut data)?;
        } else {
            let mut full = m.to_vec();
            full.resize(n, 0);
            upscaler.scale(&full, &mut data)?;
        }
        Ok(Self::from_limbs_unchecked(
            ctx,
            Representation::Coefficient,
            data,
        ))
    }

    /// A polynomial (coefficient representation) from arbitrary integers
    /// (reduced modulo `Q`).
    pub fn from_bigints(ctx: &Arc<RingContext>, coeffs: &[BigInt]) -> Result<Self> {
        let n = ctx.degree;
        if coeffs.len() > n {
            return Err(Error::OutOfRange {
                what: "more coefficients than the ring degree",
            });
        }
        let mut p = Self::zero(ctx, Representation::Coefficient);
        for (c, x) in coeffs.iter().enumerate() {
            for (i, r) in ctx.basis.decompose_signed(x).into_iter().enumerate() {
                p.data[i * n + c] = r;
            }
        }
        Ok(p)
    }

    /// The ring this polynomial lives in.
    #[inline]
    pub fn context(&self) -> &Arc<RingContext> {
        &self.ctx
    }

    /// Current representation.
    #[inline]
    pub fn representation(&self) -> Representation {
        self.repr
    }

    /// Ring degree.
    #[inline]
    pub fn degree(&self) -> usize {
        self.ctx.degree
    }

    /// All limbs, limb-major.
    #[inline]
    pub fn data(&self) -> &[u64] {
        &self.data
    }

    /// Mutable access to all limbs. The caller keeps every value below its
    /// modulus.
    #[inline]
    pub fn data_mut(&mut self) -> &mut [u64] {
        &mut self.data
    }

    /// Limb `i`.
    #[inline]
    pub fn limb(&self, i: usize) -> &[u64] {
        let n = self.ctx.degree;
        &self.data[i * n..(i + 1) * n]
    }

    /// Mutable limb `i`.
    #[inline]
    pub fn limb_mut(&mut self, i: usize) -> &mut [u64] {
        let n = self.ctx.degree;
        &mut self.data[i * n..(i + 1) * n]
    }

    /// Sets the representation, transforming if needed.
    pub fn set_representation(&mut self, repr: Representation) {
        if self.repr == repr {
            return;
        }
        let n = self.ctx.degree;
        let plans = &self.ctx.plans;
        let forward = repr == Representation::Ntt;
        let run = |(i, limb): (usize, &mut [u64])| {
            if forward {
                plans[i].forward(limb)
            } else {
                plans[i].backward(limb)
            }
        };
        if parallel(self.ctx.len(), n) {
            self.data.par_chunks_mut(n).enumerate().for_each(run);
        } else {
            self.data.chunks_mut(n).enumerate().for_each(run);
        }
        self.repr = repr;
    }

    /// Switches to the NTT representation (no-op if already there).
    pub fn to_ntt(&mut self) {
        self.set_representation(Representation::Ntt);
    }

    /// Switches to the coefficient representation (no-op if already there).
    pub fn to_coeff(&mut self) {
        self.set_representation(Representation::Coefficient);
    }

    fn check_ring(&self, other: &Poly) -> Result<()> {
        if !self.ctx.same_ring(&other.ctx) {
            return Err(Error::ParameterMismatch {
                what: "polynomials over different RNS bases",
            });
        }
        Ok(())
    }

    fn check_same(&self, other: &Poly) -> Result<()> {
        self.check_ring(other)?;
        if self.repr != other.repr {
            return Err(Error::RepresentationMismatch {
                expected: self.repr,
                got: other.repr,
            });
        }
        Ok(())
    }

    fn check_ntt(&self) -> Result<()> {
        if self.repr != Representation::Ntt {
            return Err(Error::RepresentationMismatch {
                expected: Representation::Ntt,
                got: self.repr,
            });
        }
        Ok(())
    }

    fn zip_limbs(&mut self, other: &Poly, f: impl Fn(&Modulus, &mut [u64], &[u64])) {
        let n = self.ctx.degree;
        for (i, m) in self.ctx.moduli.iter().enumerate() {
            f(
                m,
                &mut self.data[i * n..(i + 1) * n],
                &other.data[i * n..(i + 1) * n],
            );
        }
    }

    /// `f(modulus, out, a, b)` limb by limb into a new polynomial of
    /// `self`'s ring and representation (no copy of `self` first).
    fn zip_into(&self, other: &Poly, f: impl Fn(&Modulus, &mut [u64], &[u64], &[u64])) -> Poly {
        let n = self.ctx.degree;
        let mut data = pool::take_overwrite(self.data.len());
        for (i, m) in self.ctx.moduli.iter().enumerate() {
            let r = i * n..(i + 1) * n;
            f(
                m,
                &mut data[r.clone()],
                &self.data[r.clone()],
                &other.data[r],
            );
        }
        Self {
            ctx: self.ctx.clone(),
            repr: self.repr,
            data,
        }
    }

    /// `self + other` as a new polynomial (one pass over both).
    pub fn add(&self, other: &Poly) -> Result<Poly> {
        self.check_same(other)?;
        Ok(self.zip_into(other, |m, o, a, b| m.add_vec_into(o, a, b)))
    }

    /// `self − other` as a new polynomial (one pass over both).
    pub fn sub(&self, other: &Poly) -> Result<Poly> {
        self.check_same(other)?;
        Ok(self.zip_into(other, |m, o, a, b| m.sub_vec_into(o, a, b)))
    }

    /// `self += other`.
    pub fn add_assign(&mut self, other: &Poly) -> Result<()> {
        self.check_same(other)?;
        self.zip_limbs(other, |m, a, b| m.add_vec(a, b));
        Ok(())
    }

    /// `self -= other`.
    pub fn sub_assign(&mut self, other: &Poly) -> Result<()> {
        self.check_same(other)?;
        self.zip_limbs(other, |m, a, b| m.sub_vec(a, b));
        Ok(())
    }

    /// `self = -self`.
    pub fn neg_assign(&mut self) {
        let n = self.ctx.degree;
        for (i, m) in self.ctx.moduli.iter().enumerate() {
            m.neg_vec(&mut self.data[i * n..(i + 1) * n]);
        }
    }

    /// `self *= other`; both in NTT representation.
    pub fn mul_assign(&mut self, other: &Poly) -> Result<()> {
        self.check_same(other)?;
        self.check_ntt()?;
        let n = self.ctx.degree;
        for (i, plan) in self.ctx.plans.iter().enumerate() {
            plan.mul_assign(
                &mut self.data[i * n..(i + 1) * n],
                &other.data[i * n..(i + 1) * n],
            );
        }
        Ok(())
    }

    /// `self += a * b`; all in NTT representation.
    pub fn mul_acc(&mut self, a: &Poly, b: &Poly) -> Result<()> {
        self.check_same(a)?;
        self.check_same(b)?;
        self.check_ntt()?;
        let n = self.ctx.degree;
        for (i, plan) in self.ctx.plans.iter().enumerate() {
            let r = i * n..(i + 1) * n;
            plan.mul_acc(&mut self.data[r.clone()], &a.data[r.clone()], &b.data[r]);
        }
        Ok(())
    }

    /// `a * b` (both NTT), written once into a fresh buffer (no zero fill).
    pub fn mul(a: &Poly, b: &Poly) -> Result<Poly> {
        a.check_same(b)?;
        a.check_ntt()?;
        let n = a.ctx.degree;
        let mut data = pool::take_overwrite(a.data.len());
        for (i, plan) in a.ctx.plans.iter().enumerate() {
            let r = i * n..(i + 1) * n;
            plan.mul_into(&mut data[r.clone()], &a.data[r.clone()], &b.data[r]);
        }
        Ok(Self::from_limbs_unchecked(
            &a.ctx,
            Representation::Ntt,
            data,
        ))
    }

    /// Multiplies every coefficient by the integer `c` (any representation).
    pub fn mul_scalar_assign(&mut self, c: u64) {
        let n = self.ctx.degree;
        for (i, m) in self.ctx.moduli.iter().enumerate() {
            m.mul_scalar_vec(&mut self.data[i * n..(i + 1) * n], c);
        }
    }

    /// Multiplies limb `i` by `c[i]` (an integer given by its residues).
    pub fn mul_scalar_rns_assign(&mut self, c: &[u64]) -> Result<()> {
        if c.len() != self.ctx.len() {
            return Err(Error::ParameterMismatch {
                what: "scalar residues do not match the basis",
            });
        }
        let n = self.ctx.degree;
        for (i, m) in self.ctx.moduli.iter().enumerate() {
            m.mul_scalar_vec(&mut self.data[i * n..(i + 1) * n], c[i]);
        }
        Ok(())
    }

    /// `self += c·other` limb by limb (`c` an integer given by its residues
    /// modulo this polynomial's moduli), where `other` has the same
    /// representation and this basis as a prefix of its own (a ciphertext
    /// part at a higher level is read at this level without a copy).
    pub fn mul_scalar_rns_acc(&mut self, other: &Poly, c: &[u64]) -> Result<()> {
        let n = self.ctx.degree;
        let l = self.ctx.len();
        if c.len() != l
            || other.repr != self.repr
            || other.ctx.degree != n
            || other.ctx.len() < l
            || other.ctx.moduli[..l] != self.ctx.moduli[..]
        {
            return Err(Error::ParameterMismatch {
                what: "scalar multiply-accumulate: bases or representations differ",
            });
        }
        for (i, m) in self.ctx.moduli.iter().enumerate() {
            let w = m.reduce(c[i]);
            crate::simd::op64(
                crate::simd::Op64::AddMul,
                &mut self.data[i * n..(i + 1) * n],
                &other.data[i * n..(i + 1) * n],
                w,
                m.shoup(w),
                m.value(),
            );
        }
        Ok(())
    }

    /// The automorphism `X -> X^k` (`k` odd), in either representation.
    pub fn automorphism(&self, k: usize) -> Result<Poly> {
        let n = self.ctx.degree;
        let two_n = 2 * n;
        if k.is_multiple_of(2) {
            return Err(Error::OutOfRange {
                what: "Galois element must be odd",
            });
        }
        let k = k % two_n;
        // X -> X^k permutes the coefficients (up to sign) and the NTT slots:
        // every output word is written below, so no zero fill.
        let mut out =
            Poly::from_limbs_unchecked(&self.ctx, self.repr, pool::take_overwrite(self.data.len()));
        match self.repr {
            Representation::Coefficient => {
                for (l, m) in self.ctx.moduli.iter().enumerate() {
                    let src = &self.data[l * n..(l + 1) * n];
                    let dst = &mut out.data[l * n..(l + 1) * n];
                    for (i, &a) in src.iter().enumerate() {
                        let e = (i * k) % two_n;
                        if e < n {
                            dst[e] = a;
                        } else {
                            dst[e - n] = m.neg(a);
                        }
                    }
                }
            }
            Representation::Ntt => {
                for (l, plan) in self.ctx.plans.iter().enumerate() {
                    let perm = plan.galois_permutation(k)?;
                    let src = &self.data[l * n..(l + 1) * n];
                    let dst = &mut out.data[l * n..(l + 1) * n];
                    for (d, &j) in dst.iter_mut().zip(perm.iter()) {
                        *d = src[j as usize];
                    }
                }
            }
        }
        Ok(out)
    }

    /// The same polynomial over `target`, whose moduli must be a prefix of
    /// this polynomial's (dropping limbs, as in modulus reduction without
    /// rounding). Works in both representations.
    pub fn drop_to(&self, target: &Arc<RingContext>) -> Result<Poly> {
        let k = target.len();
        if target.degree != self.ctx.degree
            || k > self.ctx.len()
            || target.moduli[..] != self.ctx.moduli[..k]
        {
            return Err(Error::ParameterMismatch {
                what: "target basis is not a prefix of the polynomial's basis",
            });
        }
        let mut data = pool::take(k * self.ctx.degree);
        data.extend_from_slice(&self.data[..k * self.ctx.degree]);
        Ok(Poly {
            ctx: target.clone(),
            repr: self.repr,
            data,
        })
    }

    /// The same polynomial over `target`, whose moduli must all be moduli of
    /// this polynomial (any subset, e.g. `Q_l ∪ P` inside `Q ∪ P`).
    pub fn restrict_to(&self, target: &Arc<RingContext>) -> Result<Poly> {
        let n = self.ctx.degree;
        if target.degree != n {
            return Err(Error::ParameterMismatch {
                what: "target ring has another degree",
            });
        }
        let mut data = pool::take(target.len() * n);
        for m in &target.moduli {
            let i =
                self.ctx
                    .moduli
                    .iter()
                    .position(|x| x == m)
                    .ok_or(Error::ParameterMismatch {
                        what: "target basis is not a subset of the polynomial's basis",
                    })?;
            data.extend_from_slice(&self.data[i * n..(i + 1) * n]);
        }
        Ok(Poly {
            ctx: target.clone(),
            repr: self.repr,
            data,
        })
    }

    /// Drops the last limb (no rounding).
    pub fn drop_last(&self, target: &Arc<RingContext>) -> Result<Poly> {
        if target.len() + 1 != self.ctx.len() {
            return Err(Error::ParameterMismatch {
                what: "target basis must have exactly one modulus fewer",
            });
        }
        self.drop_to(target)
    }

    /// `round(self / T)` over `target`, where this polynomial's basis is
    /// `target ∪ T` (the moduli of `T` last) and `ext` extends from `T` to
    /// `target`. This is CKKS rescaling (`T = q_last`) and the key-switching
    /// modulus reduction (`T = P`). Keeps the representation.
    pub fn divide_round_by_tail(
        &self,
        target: &Arc<RingContext>,
        ext: &BasisExtender,
    ) -> Result<Poly> {
        let k = self.split_check(target, ext)?;
        let n = self.ctx.degree;
        if self.repr == Representation::Ntt {
            // only the tail limbs are copied (to take them to coefficients)
            let mut tail = pool::take(self.data.len() - k * n);
            tail.extend_from_slice(&self.data[k * n..]);
            tail.chunks_mut(n)
                .zip(&self.ctx.plans[k..])
                .for_each(|(limb, plan)| plan.backward(limb));
            let out = self.divide_round_split(target, ext, &self.data[..k * n], &tail);
            pool::give(tail);
            Ok(out)
        } else {
            Ok(self.divide_round_split(target, ext, &self.data[..k * n], &self.data[k * n..]))
        }
    }

    /// [`Self::divide_round_by_tail`] taking the tail limbs to coefficient
    /// form in this polynomial's own buffer (no copy at all).
    pub fn into_divide_round_by_tail(
        mut self,
        target: &Arc<RingContext>,
        ext: &BasisExtender,
    ) -> Result<Poly> {
        let k = self.split_check(target, ext)?;
        let n = self.ctx.degree;
        if self.repr == Representation::Ntt {
            let plans = &self.ctx.plans[k..];
            self.data[k * n..]
                .chunks_mut(n)
                .zip(plans)
                .for_each(|(limb, plan)| plan.backward(limb));
        }
        let (head, tail) = self.data.split_at(k * n);
        Ok(self.divide_round_split(target, ext, head, tail))
    }

    /// The number of target limbs, after checking that this polynomial's
    /// basis is `target ∪ T` with `ext` extending from `T` to `target`.
    fn split_check(&self, target: &Arc<RingContext>, ext: &BasisExtender) -> Result<usize> {
        let k = target.len();
        let tail = ext.from_basis();
        if target.degree != self.ctx.degree
            || k + tail.len() != self.ctx.len()
            || target.moduli[..] != self.ctx.moduli[..k]
            || tail.moduli() != &self.ctx.moduli[k..]
            || ext.to_moduli() != &target.moduli[..]
        {
            return Err(Error::ParameterMismatch {
                what: "basis does not split as target ∪ tail",
            });
        }
        Ok(k)
    }

    /// `(head − r)·T^{-1}` over `target`, with `r` the centered remainder
    /// of the tail (coefficient form) extended to the target, written into
    /// the buffer of `r` itself: one pass over the head limbs, which are
    /// only read, in this polynomial's representation.
    fn divide_round_split(
        &self,
        target: &Arc<RingContext>,
        ext: &BasisExtender,
        head: &[u64],
        tail: &[u64],
    ) -> Poly {
        let n = self.ctx.degree;
        let k = target.len();
        let mut r = pool::take_overwrite(k * n);
        ext.extend(tail, n, &mut r, true);
        // T^{-1} mod each target prime (T is invertible: distinct primes);
        // r ← (r − x)·(−T^{-1}) = (x − r)·T^{-1}
        let t_inv = ext.source_inverse_mod_targets();
        let plans = &target.plans;
        let ntt = self.repr == Representation::Ntt;
        // the IFMA kernels serve the target primes below 2^50 when the
        // extender's sources are too
        let work = |(i, (rl, x)): (usize, (&mut [u64], &[u64]))| {
            let m = &target.moduli[i];
            if ntt {
                plans[i].forward(rl);
            }
            let q = m.value();
            let neg_inv = q - t_inv[i];
            if ext.target_uses_ifma(i) {
                crate::simd::sub_then_mul(rl, x, neg_inv, crate::simd::shoup52(neg_inv, q), q);
                return;
            }
            // (r − x)·(−T^{-1}) in one pass; r − x + q < 2q fits the Shoup input.
            crate::simd::op64(
                crate::simd::Op64::SubThenMul,
                rl,
                x,
                neg_inv,
                m.shoup(neg_inv),
                q,
            );
        };
        if parallel(k, n) {
            r.par_chunks_mut(n)
                .zip(head.par_chunks(n))
                .enumerate()
                .for_each(work);
        } else {
            r.chunks_mut(n)
                .zip(head.chunks(n))
                .enumerate()
                .for_each(work);
        }
        Poly {
            ctx: target.clone(),
            repr: self.repr,
            data: r,
        }
    }

    /// Centered integer coefficients in `(-Q/2, Q/2]` (CRT over the basis).
    pub fn centered_coeffs(&self) -> Vec<BigInt> {
        let mut p = self.clone();
        p.to_coeff();
        let n = self.ctx.degree;
        let l = self.ctx.len();
        (0..n)
            .map(|c| {
                let res: Vec<u64> = (0..l).map(|i| p.data[i * n + c]).collect();
                self.ctx.basis.compose_centered(&res)
            })
            .collect()
    }

    /// log2 of the largest centered coefficient (0 for the zero polynomial).
    pub fn infinity_norm_bits(&self) -> f64 {
        self.centered_coeffs()
            .iter()
            .map(|c| {
                let b = c.bits();
                if b == 0 {
                    0.0
                } else if b <= 52 {
                    let v: f64 = num_traits::ToPrimitive::to_f64(c).unwrap_or(0.0);
                    v.abs().log2()
                } else {
                    b as f64
                }
            })
            .fold(0.0, f64::max)
    }
}

/// The negacyclic product `c·x` in `Z[X]/(X^N + 1)` of two integer
/// polynomials given by their coefficients, where `c` is sparse (a
/// Fiat–Shamir challenge: few non-zero small coefficients): one signed,
/// shifted copy of `x` per non-zero coefficient of `c`, `O(weight·N)`, exact
/// over the integers (no modulus).
///
/// # Errors
/// [`Error::OutOfRange`] if the lengths differ or `‖c‖₁·‖x‖∞ ≥ 2^63` (the
/// product could overflow).
pub fn negacyclic_mul_sparse(c: &[i64], x: &[i64]) -> Result<Vec<i64>> {
    let n = x.len();
    if c.len() != n {
        return Err(Error::OutOfRange {
            what: "sparse negacyclic product: operands of different lengths",
        });
    }
    let l1: u128 = c.iter().map(|v| v.unsigned_abs() as u128).sum();
    let inf = x.iter().map(|v| v.unsigned_abs()).max().unwrap_or(0) as u128;
    if l1 * inf >= 1 << 63 {
        return Err(Error::OutOfRange {
            what: "sparse negacyclic product: result could exceed 2^63",
        });
    }
    Ok(sparse_product(c, x))
}

/// [`negacyclic_mul_sparse`] for wide coefficients (`i128`): the responses
/// of proofs about smudging noise (`hekit-zk`'s decryption-share proofs).
///
/// # Errors
/// [`Error::OutOfRange`] if the lengths differ or `‖c‖₁·‖x‖∞ ≥ 2^127`.
pub fn negacyclic_mul_sparse_wide(c: &[i64], x: &[i128]) -> Result<Vec<i128>> {
    if c.len() != x.len() {
        return Err(Error::OutOfRange {
            what: "sparse negacyclic product: operands of different lengths",
        });
    }
    let l1: u128 = c.iter().map(|v| v.unsigned_abs() as u128).sum();
    let inf = x.iter().map(|v| v.unsigned_abs()).max().unwrap_or(0);
    if l1.checked_mul(inf).is_none_or(|p| p >= 1 << 127) {
        return Err(Error::OutOfRange {
            what: "sparse negacyclic product: result could exceed 2^127",
        });
    }
    Ok(sparse_product(c, x))
}

/// The shared loop of the sparse products (operands checked by callers).
fn sparse_product<T>(c: &[i64], x: &[T]) -> Vec<T>
where
    T: Copy
        + Default
        + From<i64>
        + std::ops::Mul<Output = T>
        + std::ops::AddAssign
        + std::ops::SubAssign,
{
    let n = x.len();
    let mut out = vec![T::default(); n];
    for (k, &ck) in c.iter().enumerate().filter(|(_, &v)| v != 0) {
        let ck = T::from(ck);
        // X^k·x: coefficient j moves to j + k, with a sign flip past N.
        let (low, high) = out.split_at_mut(k);
        for (o, &v) in high.iter_mut().zip(&x[..n - k]) {
            *o += ck * v;
        }
        for (o, &v) in low.iter_mut().zip(&x[n - k..]) {
            *o -= ck * v;
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::zq::generate_primes;
    use num_bigint::Sign;
    use proptest::prelude::*;
    use rand::{Rng, SeedableRng};

    /// Known answer against the schoolbook negacyclic product, including
    /// the sign flip of the wrap-around (X^(N−1)·X = −1); an overflowing
    /// product is refused.
    #[test]
    fn sparse_product_matches_schoolbook() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        let n = 64;
        let mut c = vec![0i64; n];
        for &(k, v) in &[(0, 1), (5, -1), (63, 2), (40, -2)] {
            c[k] = v;
        }
        let x: Vec<i64> = (0..n).map(|_| rng.gen_range(-1000..1000)).collect();
        let mut want = vec![0i64; n];
        for i in 0..n {
            for j in 0..n {
                let p = c[i] * x[j];
                if i + j < n {
                    want[i + j] += p;
                } else {
                    want[i + j - n] -= p;
                }
            }
        }
        assert_eq!(negacyclic_mul_sparse(&c, &x).unwrap(), want);
        let mut one = vec![0i64; n];
        one[n - 1] = 1;
        let mut xx = vec![0i64; n];
        xx[1] = 7;
        let got = negacyclic_mul_sparse(&one, &xx).unwrap();
        assert_eq!(got[0], -7);
        assert!(matches!(
            negacyclic_mul_sparse(&c, &vec![1 << 61; n]),
            Err(Error::OutOfRange { .. })
        ));
        assert!(negacyclic_mul_sparse(&c[..3], &x).is_err());
        // The wide form agrees, and reaches past 2^63.
        let wide: Vec<i128> = x.iter().map(|&v| i128::from(v) << 60).collect();
        let got = negacyclic_mul_sparse_wide(&c, &wide).unwrap();
        let want_wide: Vec<i128> = want.iter().map(|&v| i128::from(v) << 60).collect();
        assert_eq!(got, want_wide);
        assert!(matches!(
            negacyclic_mul_sparse_wide(&c, &vec![1 << 125; n]),
            Err(Error::OutOfRange { .. })
        ));
    }

    fn ctx(n: usize, bits: &[u32]) -> Arc<RingContext> {
        RingContext::new(n, &generate_primes(bits, n, &[]).unwrap()).unwrap()
    }

    /// `from_i64` (vectorized lift when every value is below a modulus,
    /// reduction otherwise, zero high coefficients) against `reduce_i64`.
    #[test]
    fn from_i64_matches_reduction() {
        let ring = ctx(1024, &[30, 45]);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for bound in [2i64, 1 << 29, 1 << 40, i64::MAX] {
            let c: Vec<i64> = (0..1000).map(|_| rng.gen_range(-bound..bound)).collect();
            let p = Poly::from_i64(&ring, &c).unwrap();
            for (i, m) in ring.moduli().iter().enumerate() {
                for (k, d) in p.limb(i).iter().enumerate() {
                    let want = c.get(k).map_or(0, |&x| m.reduce_i64(x));
                    assert_eq!(*d, want, "bound {bound}, limb {i}, coefficient {k}");
                }
            }
        }
        assert!(Poly::from_i64(&ring, &vec![0; 1025]).is_err());
    }

    /// `X^k` in NTT form is the schoolbook monomial (the sign flips past
    /// `N`, `X^(2N) = 1`); `invert_assign` gives the multiplicative inverse
    /// (checked by the product, which is 1 in every slot), inverts
    /// `X^d − 1` for `0 < d < 2N` (the threshold layer's evaluation-point
    /// differences) and refuses a zero slot, leaving the polynomial as it
    /// was.
    #[test]
    fn monomials_and_slot_inverses() {
        let ring = ctx(64, &[40, 45]);
        let n = 64;
        for k in [0u64, 1, 5, 63, 64, 70, 127, 128, 131] {
            let got = Poly::monomial_ntt(&ring, k);
            let mut c = vec![0i64; n];
            let r = (k % 128) as usize;
            c[r % n] = if r < n { 1 } else { -1 };
            let mut want = Poly::from_i64(&ring, &c).unwrap();
            want.to_ntt();
            assert_eq!(got, want, "X^{k}");
        }
        let one = Poly::monomial_ntt(&ring, 0);
        let mut x = random(&ring, 9);
        x.to_ntt();
        let mut inv = x.clone();
        inv.invert_assign().unwrap();
        assert_eq!(Poly::mul(&x, &inv).unwrap(), one);
        for d in 1..128u64 {
            let mut p = Poly::monomial_ntt(&ring, d);
            p.sub_assign(&one).unwrap();
            let mut q = p.clone();
            q.invert_assign().unwrap();
            assert_eq!(Poly::mul(&p, &q).unwrap(), one, "X^{d} - 1");
        }
        // X^128 − 1 = 0: not a unit
        let mut zero = Poly::monomial_ntt(&ring, 128);
        zero.sub_assign(&one).unwrap();
        assert!(matches!(
            zero.invert_assign(),
            Err(Error::OutOfRange { .. })
        ));
        let mut y = x.clone();
        y.limb_mut(1)[7] = 0;
        let before = y.clone();
        assert!(matches!(y.invert_assign(), Err(Error::OutOfRange { .. })));
        assert_eq!(y, before);
        let mut c = x.clone();
        c.to_coeff();
        assert!(c.invert_assign().is_err());
    }

    fn random(ctx: &Arc<RingContext>, seed: u64) -> Poly {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let n = ctx.degree();
        let mut data = vec![0u64; ctx.len() * n];
        for (i, m) in ctx.moduli().iter().enumerate() {
            for d in &mut data[i * n..(i + 1) * n] {
                *d = rng.gen_range(0..m.value());
            }
        }
        Poly::from_limbs(ctx, Representation::Coefficient, data).unwrap()
    }

    /// Schoolbook negacyclic product over the integers, reduced mod Q.
    fn schoolbook_big(a: &[BigInt], b: &[BigInt], q: &BigInt) -> Vec<BigInt> {
        let n = a.len();
        let mut c = vec![BigInt::from(0); n];
        for i in 0..n {
            for j in 0..n {
                let p = &a[i] * &b[j];
                if i + j < n {
                    c[i + j] += p;
                } else {
                    c[i + j - n] -= p;
                }
            }
        }
        c.into_iter()
            .map(|x| {
                let r = num_integer::Integer::mod_floor(&x, q);
                if &r * 2 > *q {
                    r - q
                } else {
                    r
                }
            })
            .collect()
    }

    #[test]
    fn rns_product_equals_bigint_schoolbook() {
        for (n, bits) in [(16usize, vec![50u32, 50, 50]), (128, vec![60, 45, 50, 50])] {
            let c = ctx(n, &bits);
            let a = random(&c, 1);
            let b = random(&c, 2);
            let q = BigInt::from_biguint(Sign::Plus, c.basis().product().clone());
            let expect = schoolbook_big(&a.centered_coeffs(), &b.centered_coeffs(), &q);
            let (mut fa, mut fb) = (a.clone(), b.clone());
            fa.to_ntt();
            fb.to_ntt();
            let mut prod = Poly::mul(&fa, &fb).unwrap();
            prod.to_coeff();
            assert_eq!(prod.centered_coeffs(), expect);
        }
    }

    /// `from_upscaled` writes `round(Q·m/t)` (checked against big
    /// integers), pads missing coefficients with zero, and refuses an
    /// upscaler of other moduli or too many values.
    #[test]
    fn from_upscaled_matches_bigint_and_checks_its_input() {
        let c = ctx(16, &[43, 44]);
        let t = 65537u64;
        let up =
            crate::rns::Upscaler::new(&c.moduli().iter().map(|m| m.value()).collect::<Vec<_>>(), t)
                .unwrap();
        let m: Vec<u64> = (0..10).map(|i| i * 6553 + 3).collect();
        let p = Poly::from_upscaled(&c, &up, &m).unwrap();
        let q = c.basis().product();
        for (k, x) in p.centered_coeffs().iter().enumerate() {
            let mk = m.get(k).copied().unwrap_or(0);
            let exact = (q * mk * 2u32 + t) / (num_bigint::BigUint::from(t) * 2u32);
            let exact = BigInt::from_biguint(Sign::Plus, exact);
            let xr =
                num_integer::Integer::mod_floor(x, &BigInt::from_biguint(Sign::Plus, q.clone()));
            assert_eq!(xr, exact, "coefficient {k}");
        }
        let other =
            crate::rns::Upscaler::new(&generate_primes(&[40], 16, &[]).unwrap(), t).unwrap();
        assert!(matches!(
            Poly::from_upscaled(&c, &other, &m),
            Err(Error::ParameterMismatch { .. })
        ));
        assert!(matches!(
            Poly::from_upscaled(&c, &up, &[0; 17]),
            Err(Error::OutOfRange { .. })
        ));
        assert!(matches!(
            Poly::from_upscaled(&c, &up, &[t]),
            Err(Error::OutOfRange { .. })
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 32, failure_persistence: None, ..ProptestConfig::default() })]
        #[test]
        fn ring_identities(s1 in any::<u64>(), s2 in any::<u64>(), s3 in any::<u64>()) {
            let c = ctx(64, &[50, 55]);
            let (a, b, d) = (random(&c, s1), random(&c, s2), random(&c, s3));
            // (a + b) - b == a ; a + (-a) == 0
            let mut x = a.clone(); x.add_assign(&b).unwrap(); x.sub_assign(&b).unwrap();
            prop_assert_eq!(&x, &a);
            let mut y = a.clone(); y.neg_assign(); y.add_assign(&a).unwrap();
            prop_assert_eq!(y, Poly::zero(&c, Representation::Coefficient));
            // distributivity in NTT: a*(b + d) == a*b + a*d; commutativity
            let (mut fa, mut fb, mut fd) = (a.clone(), b.clone(), d.clone());
            fa.to_ntt(); fb.to_ntt(); fd.to_ntt();
            let mut bd = fb.clone(); bd.add_assign(&fd).unwrap();
            let lhs = Poly::mul(&fa, &bd).unwrap();
            let mut rhs = Poly::mul(&fa, &fb).unwrap(); rhs.mul_acc(&fa, &fd).unwrap();
            prop_assert_eq!(&lhs, &rhs);
            prop_assert_eq!(Poly::mul(&fa, &fb).unwrap(), Poly::mul(&fb, &fa).unwrap());
            // NTT is linear and invertible
            let mut back = fa.clone(); back.to_coeff();
            prop_assert_eq!(&back, &a);
            // automorphisms compose: σ_k ∘ σ_j = σ_{kj}; NTT and coefficient versions agree
            let k = 5usize; let j = 2 * 64 - 1;
            let ca = a.automorphism(k).unwrap().automorphism(j).unwrap();
            prop_assert_eq!(&ca, &a.automorphism(k * j).unwrap());
            let mut na = fa.automorphism(k).unwrap(); na.to_coeff();
            prop_assert_eq!(na, a.automorphism(k).unwrap());
            // scalar multiplication equals repeated addition
            let mut m3 = a.clone(); m3.mul_scalar_assign(3);
            let mut a3 = a.clone(); a3.add_assign(&a).unwrap(); a3.add_assign(&a).unwrap();
            prop_assert_eq!(m3, a3);
        }
    }

    #[test]
    fn automorphism_equals_naive_permutation() {
        let c = ctx(32, &[50]);
        let a = Poly::from_i64(&c, &(0..32).map(|i| i as i64 + 1).collect::<Vec<_>>()).unwrap();
        let b = a.automorphism(3).unwrap();
        let coeffs: Vec<i64> = b
            .centered_coeffs()
            .iter()
            .map(|x| i64::try_from(x).unwrap())
            .collect();
        let mut naive = vec![0i64; 32];
        for i in 0..32usize {
            let e = (3 * i) % 64;
            if e < 32 {
                naive[e] = i as i64 + 1;
            } else {
                naive[e - 32] = -(i as i64 + 1);
            }
        }
        assert_eq!(coeffs, naive);
    }

    #[test]
    fn mismatches_are_errors() {
        let c1 = ctx(64, &[50, 55]);
        let c2 = ctx(64, &[50, 51]);
        let a = random(&c1, 1);
        let b = random(&c2, 2);
        let mut x = a.clone();
        assert!(matches!(
            x.add_assign(&b),
            Err(Error::ParameterMismatch { .. })
        ));
        let mut fa = a.clone();
        fa.to_ntt();
        assert!(matches!(
            x.add_assign(&fa),
            Err(Error::RepresentationMismatch { .. })
        ));
        assert!(matches!(
            Poly::mul(&a, &a),
            Err(Error::RepresentationMismatch { .. })
        ));
        assert!(matches!(a.automorphism(2), Err(Error::OutOfRange { .. })));
        assert!(matches!(
            a.drop_to(&c2),
            Err(Error::ParameterMismatch { .. })
        ));
        // bad limbs
        let bad = vec![u64::MAX; 2 * 64];
        assert!(matches!(
            Poly::from_limbs(&c1, Representation::Coefficient, bad),
            Err(Error::Malformed { .. })
        ));
        assert!(matches!(
            Poly::from_limbs(&c1, Representation::Coefficient, vec![0; 5]),
            Err(Error::Malformed { .. })
        ));
    }

    /// Sub-2^50 primes (IFMA kernels where the CPU has them) and 55-bit
    /// primes (scalar path) against big-integer rounding, borrowed and
    /// owned forms, coefficient and NTT representation.
    #[test]
    fn divide_round_by_tail_rounds_exactly() {
        for bits in [[50u32, 50, 50, 45], [55, 55, 50, 45]] {
            divide_round_by_tail_case(&bits);
        }
    }

    /// `add_small_assign` equals adding `from_i64`, on the branch-free path
    /// (|c| below every modulus) and the reducing one; NTT form and too
    /// many values are errors.
    #[test]
    fn add_small_assign_equals_from_i64_sum() {
        let c = ctx(16, &[30, 50]);
        let a = random(&c, 4);
        let full: Vec<i64> = (0..16).map(|i| (i - 8) * 3).collect();
        let edge = vec![
            -((1 << 30) - 36),
            (1 << 30) - 36,
            0,
            -1,
            1,
            5,
            -21,
            21,
            4,
            -4,
            9,
            -9,
            3,
        ];
        for vals in [full, edge, vec![-(1 << 40), 1 << 45, 7]] {
            let mut x = a.clone();
            x.add_small_assign(&vals).unwrap();
            let mut y = a.clone();
            y.add_assign(&Poly::from_i64(&c, &vals).unwrap()).unwrap();
            assert_eq!(x, y);
        }
        let mut x = a.clone();
        assert!(matches!(
            x.add_small_assign(&[0; 17]),
            Err(Error::OutOfRange { .. })
        ));
        x.to_ntt();
        assert!(matches!(
            x.add_small_assign(&[1]),
            Err(Error::RepresentationMismatch { .. })
        ));
    }

    fn divide_round_by_tail_case(bits: &[u32]) {
        let n = 64;
        let primes = generate_primes(bits, n, &[]).unwrap();
        let full = RingContext::new(n, &primes).unwrap();
        for tail_len in [1usize, 2] {
            let k = primes.len() - tail_len;
            let target = RingContext::new(n, &primes[..k]).unwrap();
            let tail = RnsBasis::new(&primes[k..]).unwrap();
            let ext = BasisExtender::new(&tail, &primes[..k]).unwrap();
            let a = random(&full, 9);
            let t = BigInt::from_biguint(Sign::Plus, tail.product().clone());
            let expect: Vec<BigInt> = a
                .centered_coeffs()
                .iter()
                .map(|x| num_integer::Integer::div_floor(&(x * 2 + &t), &(&t * 2)))
                .collect();
            for ntt in [false, true] {
                let mut x = a.clone();
                if ntt {
                    x.to_ntt();
                }
                let mut r = x.divide_round_by_tail(&target, &ext).unwrap();
                r.to_coeff();
                assert_eq!(r.centered_coeffs(), expect);
                let mut r = x.clone().into_divide_round_by_tail(&target, &ext).unwrap();
                r.to_coeff();
                assert_eq!(r.centered_coeffs(), expect);
            }
        }
    }
}
