//! Residue number system: an RNS basis with CRT constants, fast basis
//! extension (approximate and exact), and scaling by `t/Q` with rounding.
//!
//! Polynomial data handed to these routines is limb-major: limb `i` holds
//! the residues of all `N` coefficients modulo the `i`-th prime.

use num_bigint::{BigInt, BigUint, Sign};
use num_integer::Integer;
use num_traits::{One, ToPrimitive, Zero};

use crate::simd;
use crate::zq::Modulus;
use crate::{Error, Result};

/// A set of distinct primes with their CRT constants.
#[derive(Clone, Debug)]
pub struct RnsBasis {
    moduli: Vec<Modulus>,
    product: BigUint,
    /// `Q / q_i`.
    q_hat: Vec<BigUint>,
    /// `(Q / q_i)^{-1} mod q_i` and its Shoup constant.
    q_hat_inv: Vec<u64>,
    q_hat_inv_shoup: Vec<u64>,
}

impl RnsBasis {
    /// A basis from distinct primes.
    pub fn new(moduli: &[u64]) -> Result<Self> {
        if moduli.is_empty() {
            return Err(Error::InvalidParameters {
                reason: "an RNS basis needs at least one modulus".into(),
            });
        }
        let mods = moduli
            .iter()
            .map(|&q| Modulus::new(q))
            .collect::<Result<Vec<_>>>()?;
        for (i, a) in moduli.iter().enumerate() {
            if moduli[..i].contains(a) {
                return Err(Error::InvalidParameters {
                    reason: format!("modulus {a} appears twice in the basis"),
                });
            }
        }
        let product: BigUint = moduli.iter().map(|&q| BigUint::from(q)).product();
        let mut q_hat = Vec::with_capacity(mods.len());
        let mut q_hat_inv = Vec::with_capacity(mods.len());
        let mut q_hat_inv_shoup = Vec::with_capacity(mods.len());
        for m in &mods {
            let h = &product / m.value();
            let h_mod = (&h % m.value()).to_u64().unwrap_or(0);
            let inv = m.inv(h_mod).map_err(|_| Error::InvalidParameters {
                reason: "basis moduli are not pairwise coprime".into(),
            })?;
            q_hat.push(h);
            q_hat_inv.push(inv);
            q_hat_inv_shoup.push(m.shoup(inv));
        }
        Ok(Self {
            moduli: mods,
            product,
            q_hat,
            q_hat_inv,
            q_hat_inv_shoup,
        })
    }

    /// The moduli.
    #[inline]
    pub fn moduli(&self) -> &[Modulus] {
        &self.moduli
    }

    /// Number of moduli.
    #[inline]
    pub fn len(&self) -> usize {
        self.moduli.len()
    }

    /// Always false: a basis has at least one modulus.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.moduli.is_empty()
    }

    /// The product `Q` of the moduli.
    pub fn product(&self) -> &BigUint {
        &self.product
    }

    /// Residues of `x` (reduced modulo `Q` first).
    pub fn decompose(&self, x: &BigUint) -> Vec<u64> {
        self.moduli
            .iter()
            .map(|m| (x % m.value()).to_u64().unwrap_or(0))
            .collect()
    }

    /// Residues of a signed integer.
    pub fn decompose_signed(&self, x: &BigInt) -> Vec<u64> {
        let q = BigInt::from_biguint(Sign::Plus, self.product.clone());
        let r = x.mod_floor(&q);
        self.decompose(&r.to_biguint().unwrap_or_default())
    }

    /// The integer in `[0, Q)` with the given residues (CRT).
    pub fn compose(&self, residues: &[u64]) -> BigUint {
        let mut acc = BigUint::zero();
        for (i, m) in self.moduli.iter().enumerate() {
            let y = m.mul_shoup(
                residues.get(i).copied().unwrap_or(0) % m.value(),
                self.q_hat_inv[i],
                self.q_hat_inv_shoup[i],
            );
            acc += &self.q_hat[i] * y;
        }
        acc % &self.product
    }

    /// The integer in `(-Q/2, Q/2]` with the given residues.
    pub fn compose_centered(&self, residues: &[u64]) -> BigInt {
        let x = self.compose(residues);
        let half = &self.product >> 1;
        if x > half {
            BigInt::from_biguint(Sign::Plus, x)
                - BigInt::from_biguint(Sign::Plus, self.product.clone())
        } else {
            BigInt::from_biguint(Sign::Plus, x)
        }
    }

    /// `y_i = x_i · (Q/q_i)^{-1} mod q_i` for every coefficient, limb-major.
    fn premultiply(&self, input: &[u64], degree: usize, out: &mut [u64]) {
        for (i, m) in self.moduli.iter().enumerate() {
            let (w, ws) = (self.q_hat_inv[i], self.q_hat_inv_shoup[i]);
            let src = &input[i * degree..(i + 1) * degree];
            let dst = &mut out[i * degree..(i + 1) * degree];
            simd::op64(simd::Op64::Mul, dst, src, w, ws, m.value());
        }
    }
}

/// Fast basis extension from a basis `Q` to a list of target moduli.
#[derive(Clone, Debug)]
pub struct BasisExtender {
    from: RnsBasis,
    to: Vec<Modulus>,
    /// `(Q / q_i) mod p_j`, indexed `[j][i]`, with Shoup constants.
    q_hat_mod_p: Vec<Vec<u64>>,
    q_hat_mod_p_shoup: Vec<Vec<u64>>,
    /// `Q mod p_j`.
    q_mod_p: Vec<u64>,
    /// `Q^{-1} mod p_j` (0 where `Q` is not invertible).
    q_inv_mod_p: Vec<u64>,
    /// `1 / q_i` as floating point, for the exact variant.
    q_inv_f64: Vec<f64>,
    /// One source prime `q` with `q ≤ 2p` for every target `p`: the
    /// extension is a centered lift ([`simd::lift_one`]), no products.
    lift_one: bool,
    /// 52-bit Shoup constants for the IFMA path (empty when unavailable).
    ifma: Option<ExtendIfma>,
}

#[derive(Clone, Debug)]
struct ExtendIfma {
    /// Which targets are below 2^50 (IFMA); the others use the 64-bit kernels.
    target_small: Vec<bool>,
    q_hat_inv52: Vec<u64>,
    q_hat_mod_p52: Vec<Vec<u64>>,
    q_mod_p52: Vec<u64>,
}

impl BasisExtender {
    /// An extender from `from` to the moduli `to` (which must not share a
    /// prime with `from`).
    pub fn new(from: &RnsBasis, to: &[u64]) -> Result<Self> {
        let to = to
            .iter()
            .map(|&p| Modulus::new(p))
            .collect::<Result<Vec<_>>>()?;
        if to
            .iter()
            .any(|p| from.moduli.iter().any(|q| q.value() == p.value()))
        {
            return Err(Error::InvalidParameters {
                reason: "basis extension target shares a modulus with the source".into(),
            });
        }
        let q_hat_mod_p = to
            .iter()
            .map(|p| {
                from.q_hat
                    .iter()
                    .map(|h| (h % p.value()).to_u64().unwrap_or(0))
                    .collect()
            })
            .collect();
        let q_hat_mod_p_shoup = to
            .iter()
            .zip(&q_hat_mod_p)
            .map(|(p, row): (&Modulus, &Vec<u64>)| row.iter().map(|&w| p.shoup(w)).collect())
            .collect();
        let q_mod_p = to
            .iter()
            .map(|p| (&from.product % p.value()).to_u64().unwrap_or(0))
            .collect();
        let q_inv_mod_p = to
            .iter()
            .zip(&q_mod_p)
            .map(|(p, &x): (&Modulus, &u64)| p.inv(x).unwrap_or(0))
            .collect();
        let q_inv_f64 = from.moduli.iter().map(|q| 1.0 / q.value() as f64).collect();
        let small = |m: &Modulus| m.value() < simd::IFMA_MAX_MODULUS;
        // the IFMA kernels need sources below 2^50; targets above take the
        // 64-bit kernels one by one
        let ifma = (simd::ifma() && from.moduli.iter().all(small)).then(|| ExtendIfma {
            target_small: to.iter().map(small).collect(),
            q_hat_inv52: from
                .moduli
                .iter()
                .zip(&from.q_hat_inv)
                .map(|(m, &w)| simd::shoup52(w, m.value()))
                .collect(),
            q_hat_mod_p52: to
                .iter()
                .zip(&q_hat_mod_p)
                .map(|(p, row): (&Modulus, &Vec<u64>)| {
                    if small(p) {
                        row.iter().map(|&w| simd::shoup52(w, p.value())).collect()
                    } else {
                        Vec::new()
                    }
                })
                .collect(),
            q_mod_p52: to
                .iter()
                .zip(&q_mod_p)
                .map(|(p, &w)| {
                    if small(p) {
                        simd::shoup52(w, p.value())
                    } else {
                        0
                    }
                })
                .collect(),
        });
        let lift_one =
            from.len() == 1 && to.iter().all(|p| from.moduli[0].value() <= 2 * p.value());
        Ok(Self {
            from: from.clone(),
            to,
            q_hat_mod_p,
            q_hat_mod_p_shoup,
            q_mod_p,
            q_inv_mod_p,
            q_inv_f64,
            lift_one,
            ifma,
        })
    }

    /// The source basis.
    pub fn from_basis(&self) -> &RnsBasis {
        &self.from
    }

    /// `Q^{-1} mod p_j` for the source product `Q` and each target `p_j`
    /// (0 where it does not exist).
    pub fn source_inverse_mod_targets(&self) -> &[u64] {
        &self.q_inv_mod_p
    }

    /// The target moduli.
    pub fn to_moduli(&self) -> &[Modulus] {
        &self.to
    }

    /// Whether the IFMA kernels serve this extension (every prime below
    /// 2^50 on a CPU that has them).
    pub(crate) fn target_uses_ifma(&self, j: usize) -> bool {
        self.ifma.as_ref().is_some_and(|t| t.target_small[j])
    }

    /// Extends `input` (limb-major, `|Q|·degree` words, coefficient domain)
    /// into `output` (limb-major, `|to|·degree` words).
    ///
    /// With `exact = false` the result is `x + u·Q` for some `0 ≤ u < |Q|`
    /// (the fast, approximate extension used in key switching). With
    /// `exact = true` the result is the centered representative of `x` in
    /// `(-Q/2, Q/2)` (a floating-point estimate of `u` corrects the overflow;
    /// exact except when `x` lies within `|Q|·2^-50·Q` of `±Q/2`).
    pub fn extend(&self, input: &[u64], degree: usize, output: &mut [u64], exact: bool) {
        debug_assert_eq!(output.len(), self.to.len() * degree);
        let prepared = self.prepare(input, degree, exact);
        for (j, dst) in output.chunks_mut(degree).enumerate() {
            self.extend_target(&prepared, j, dst);
        }
        prepared.recycle();
    }

    /// The first half of [`Self::extend`], shared by every target: the
    /// sources times `(Q/q_i)^{-1}` and (exact) the overflow estimate.
    pub(crate) fn prepare(&self, input: &[u64], degree: usize, exact: bool) -> Prepared {
        let l = self.from.len();
        debug_assert_eq!(input.len(), l * degree);
        if self.lift_one {
            // One source prime: `Q/q = 1`, nothing to multiply, and the
            // overflow of the centered value is exactly `x > q/2`, decided
            // per target in `extend_one`.
            let mut y = crate::pool::take_overwrite(degree);
            y.copy_from_slice(input);
            return Prepared {
                y,
                v: Vec::new(),
                degree,
                exact,
            };
        }
        let mut y = crate::pool::take_overwrite(l * degree);
        match &self.ifma {
            Some(t) => {
                for (i, m) in self.from.moduli.iter().enumerate() {
                    let r = i * degree..(i + 1) * degree;
                    let q = m.value();
                    simd::mul_acc(
                        &mut y[r.clone()],
                        &input[r.clone()],
                        self.from.q_hat_inv[i],
                        t.q_hat_inv52[i],
                        q,
                        false,
                    );
                    simd::sub_mul_reduce(&mut y[r], &[], 0, 0, q);
                }
            }
            None => self.from.premultiply(input, degree, &mut y),
        }
        let mut v = Vec::new();
        if exact {
            let mut acc = vec![0f64; degree];
            for i in 0..l {
                let src = &y[i * degree..(i + 1) * degree];
                if simd::avx512() {
                    simd::f64_acc(&mut acc, src, self.q_inv_f64[i]);
                } else {
                    for (a, &x) in acc.iter_mut().zip(src) {
                        *a += x as f64 * self.q_inv_f64[i];
                    }
                }
            }
            v = crate::pool::take(degree);
            // s ≥ 0: round half up by truncation (no libm call)
            v.extend(acc.iter().map(|&s| (s + 0.5) as u64));
        }
        Prepared {
            y,
            v,
            degree,
            exact,
        }
    }

    /// The second half of [`Self::extend`]: target `j` of the prepared
    /// input into `dst` (`degree` words).
    pub(crate) fn extend_target(&self, prepared: &Prepared, j: usize, dst: &mut [u64]) {
        let (y, v, degree) = (&prepared.y, &prepared.v, prepared.degree);
        let l = self.from.len();
        let p = &self.to[j];
        let exact = prepared.exact;
        if self.lift_one {
            let q = self.from.moduli[0].value();
            let pv = p.value();
            let (half, corr) = if exact {
                (q / 2, pv - q % pv) // −q mod p, in [1, p)
            } else {
                (u64::MAX, 0)
            };
            simd::lift_one(dst, y, half, corr, pv);
            return;
        }
        if let Some(t) = self.ifma.as_ref().filter(|t| t.target_small[j]) {
            let (w, ws) = (&self.q_hat_mod_p[j], &t.q_hat_mod_p52[j]);
            for i in 0..l {
                simd::mul_acc(
                    dst,
                    &y[i * degree..(i + 1) * degree],
                    w[i],
                    ws[i],
                    p.value(),
                    i > 0,
                );
            }
            simd::sub_mul_reduce(dst, v, self.q_mod_p[j], t.q_mod_p52[j], p.value());
            return;
        }
        // the 64-bit kernels: Σ_i y_i·(Q/q_i) mod p_j in [0, 2p), summed in
        // registers
        let srcs: Vec<&[u64]> = (0..l).map(|i| &y[i * degree..(i + 1) * degree]).collect();
        simd::dot64(
            dst,
            &srcs,
            &self.q_hat_mod_p[j],
            &self.q_hat_mod_p_shoup[j],
            p.value(),
        );
        if exact {
            // v < l + 1 < p: d ← (d − v·Q) mod p
            let qm = self.q_mod_p[j];
            simd::op64(simd::Op64::SubMul, dst, v, qm, p.shoup(qm), p.value());
        } else {
            let pv = p.value();
            dst.iter_mut()
                .for_each(|d| *d = (*d).min(d.wrapping_sub(pv)));
        }
    }
}

/// An input prepared for extension ([`BasisExtender::prepare`]).
pub(crate) struct Prepared {
    y: Vec<u64>,
    v: Vec<u64>,
    degree: usize,
    exact: bool,
}

impl Prepared {
    /// Returns the buffers to the pool.
    pub(crate) fn recycle(self) {
        crate::pool::give(self.y);
        crate::pool::give(self.v);
    }
}

/// Scaling up with rounding: `round(Q·m/t) mod q_i` for integers `m` in
/// `[0, t)` — the BFV embedding `Δ·m` with the fractional part of `Q/t`
/// kept: `⌊Q/t⌋·m + round((Q mod t)·m/t)`. Against `⌊Q/t⌋·m` alone this
/// removes the `(Q mod t)·m` term (up to `t²/2`) from the invariant noise
/// `[t·(Δ·m + v)]_Q`, leaving `t·v` plus at most `t/2`.
#[derive(Clone, Debug)]
pub struct Upscaler {
    q: Vec<Modulus>,
    t: Modulus,
    /// `[⌊Q/t⌋]_{q_i}` and its Shoup constants.
    delta: Vec<u64>,
    delta_shoup: Vec<u64>,
    /// `Q mod t`.
    q_mod_t: u64,
    /// 52-bit Shoup constants of `[⌊Q/t⌋]_{q_i}` when the IFMA kernels
    /// serve every `q_i` (all below 2^50, and `t` below all of them).
    delta52: Option<Vec<u64>>,
}

impl Upscaler {
    /// `round(Q·m/t)` into the moduli `q` (whose product is `Q`), for any
    /// `2 ≤ t < 2^61` (coprimality with `Q` is not needed).
    ///
    /// # Errors
    /// [`Error::InvalidParameters`] for repeated or no moduli, or `t`
    /// outside the range.
    pub fn new(q: &[u64], t: u64) -> Result<Self> {
        let basis = RnsBasis::new(q)?;
        let t_mod = Modulus::new(t)?;
        let (delta_big, rem) = basis.product().div_rem(&BigUint::from(t));
        let delta: Vec<u64> = basis.decompose(&delta_big);
        let delta_shoup = basis
            .moduli()
            .iter()
            .zip(&delta)
            .map(|(m, &d)| m.shoup(d))
            .collect();
        let ifma = simd::ifma() && q.iter().all(|&qi| qi < simd::IFMA_MAX_MODULUS && t < qi);
        let delta52 = ifma.then(|| {
            q.iter()
                .zip(&delta)
                .map(|(&qi, &d)| simd::shoup52(d, qi))
                .collect()
        });
        Ok(Self {
            q: basis.moduli().to_vec(),
            t: t_mod,
            delta,
            delta_shoup,
            q_mod_t: rem.to_u64().unwrap_or(0),
            delta52,
        })
    }

    /// The moduli `q_i` of `Q`.
    pub fn moduli(&self) -> &[Modulus] {
        &self.q
    }

    /// `[⌊Q/t⌋]_{q_i}`.
    pub fn delta(&self) -> &[u64] {
        &self.delta
    }

    /// `Q mod t`.
    pub fn q_mod_t(&self) -> u64 {
        self.q_mod_t
    }

    /// Writes `round(Q·m_c/t)` (limb-major over `Q`, coefficient domain) for
    /// the `m_c` of `m`, each in `[0, t)`. Ties round up.
    ///
    /// # Errors
    /// [`Error::Malformed`] when `output` is not `|Q|·m.len()` words;
    /// [`Error::OutOfRange`] for a value `≥ t` (nothing useful is written).
    pub fn scale(&self, m: &[u64], output: &mut [u64]) -> Result<()> {
        let n = m.len();
        if output.len() != self.q.len() * n {
            return Err(Error::Malformed {
                what: "upscaler output",
                reason: format!("{} words for {} limbs of {n}", output.len(), self.q.len()),
            });
        }
        let t = self.t.value();
        if m.iter().any(|&x| x >= t) {
            return Err(Error::OutOfRange {
                what: "plaintext coefficient (must be below t)",
            });
        }
        // round((Q mod t)·m/t) < t: one Barrett division per coefficient
        // (on 64-bit words when t < 2^32).
        let (r, half) = (self.q_mod_t, t / 2);
        let mut fix = crate::pool::take_overwrite(n);
        if t < 1 << 32 {
            for (f, &x) in fix.iter_mut().zip(m) {
                *f = self.t.div_rem_u64(x * r + half).0;
            }
        } else {
            for (f, &x) in fix.iter_mut().zip(m) {
                *f = self.t.div_rem_u128(x as u128 * r as u128 + half as u128).0 as u64;
            }
        }
        for (i, q) in self.q.iter().enumerate() {
            let dst = &mut output[i * n..(i + 1) * n];
            let d = self.delta[i];
            if let Some(d52) = &self.delta52 {
                // fix + m·Δ_i lazily in [0, 2q_i) (fix < t < q_i), then reduced
                dst.copy_from_slice(&fix);
                simd::mul_acc(dst, m, d, d52[i], q.value(), true);
                simd::sub_mul_reduce(dst, &[], 0, 0, q.value());
            } else {
                let ds = self.delta_shoup[i];
                for ((o, &x), &f) in dst.iter_mut().zip(m).zip(fix.iter()) {
                    *o = q.add(q.mul_shoup(x, d, ds), q.reduce(f));
                }
            }
        }
        crate::pool::give(fix);
        Ok(())
    }
}

/// Scaling with rounding: `round(t · x / Q) mod m` for `x` given in the
/// basis `Q ∪ R` and output moduli either `R` itself or any list of moduli
/// when `R` is empty (e.g. `t` for BFV decryption).
///
/// This is the HPS "complex scaling": all arithmetic is on machine words;
/// the fractional parts are kept as 128-bit fixed point, so the rounding is
/// exact up to a 2^-120 relative error.
#[derive(Clone, Debug)]
pub struct Scaler {
    q_len: usize,
    r_len: usize,
    out: Vec<Modulus>,
    /// `[ω_i]_{out_j}`, indexed `[j][i]`, with Shoup constants.
    omega: Vec<Vec<u64>>,
    omega_shoup: Vec<Vec<u64>>,
    /// Fractional parts `θ_i` as (high, low) 64-bit words of `θ_i · 2^128`.
    theta: Vec<(u64, u64)>,
    /// `λ_j` (only when the output basis is `R`).
    lambda: Vec<u64>,
    /// IFMA constants: θ as two 52-bit limbs, 52-bit Shoup constants of ω and λ.
    ifma: Option<ScaleIfma>,
}

#[derive(Clone, Debug)]
struct ScaleIfma {
    theta52: Vec<(u64, u64)>,
    omega52: Vec<Vec<u64>>,
    lambda52: Vec<u64>,
}

impl Scaler {
    /// `round(t·x/Q)` from `Q ∪ R` into `R` (`out_is_r = true`), or from `Q`
    /// into the moduli `out` (`r` must then be empty).
    pub fn new(q: &[u64], r: &[u64], t: &BigUint, out: Option<&[u64]>) -> Result<Self> {
        let mut all: Vec<u64> = q.to_vec();
        all.extend_from_slice(r);
        let basis = RnsBasis::new(&all)?;
        let (out_mods, out_is_r): (Vec<u64>, bool) = match out {
            Some(o) => {
                if !r.is_empty() {
                    return Err(Error::InvalidParameters {
                        reason: "a scaler with an auxiliary basis outputs into that basis".into(),
                    });
                }
                (o.to_vec(), false)
            }
            None => (r.to_vec(), true),
        };
        if out_mods.is_empty() {
            return Err(Error::InvalidParameters {
                reason: "scaler has no output modulus".into(),
            });
        }
        let out = out_mods
            .iter()
            .map(|&m| Modulus::new(m))
            .collect::<Result<Vec<_>>>()?;
        let r_prod: BigUint = r.iter().map(|&x| BigUint::from(x)).product();
        let two128 = BigUint::one() << 128;
        let mut omega = vec![Vec::with_capacity(q.len()); out.len()];
        let mut theta = Vec::with_capacity(q.len());
        for (i, &qi) in q.iter().enumerate() {
            // t·R·[(QR/q_i)^{-1}]_{q_i} / q_i = ω_i + θ_i
            let num = t * &r_prod * basis.q_hat_inv[i];
            let (w, rem) = num.div_rem(&BigUint::from(qi));
            for (j, m) in out.iter().enumerate() {
                omega[j].push((&w % m.value()).to_u64().unwrap_or(0));
            }
            let f: BigUint = (rem * &two128) / qi;
            let hi = (&f >> 64usize).to_u64().unwrap_or(0);
            let lo = (&f & BigUint::from(u64::MAX)).to_u64().unwrap_or(0);
            theta.push((hi, lo));
        }
        let omega_shoup = out
            .iter()
            .zip(&omega)
            .map(|(m, row): (&Modulus, &Vec<u64>)| row.iter().map(|&w| m.shoup(w)).collect())
            .collect();
        let mut lambda = Vec::new();
        if out_is_r {
            for (j, &rj) in r.iter().enumerate() {
                let v = t * (&r_prod / rj) * basis.q_hat_inv[q.len() + j];
                lambda.push((v % rj).to_u64().unwrap_or(0));
            }
        }
        let small = |x: &u64| *x < simd::IFMA_MAX_MODULUS;
        let ifma = (simd::ifma()
            && q.iter().all(small)
            && r.iter().all(small)
            && out_mods.iter().all(small))
        .then(|| {
            let mask = (1u64 << 52) - 1;
            ScaleIfma {
                // θ·2^104 = (θ·2^128) >> 24, split into 52-bit limbs
                theta52: theta
                    .iter()
                    .map(|&(hi, lo)| {
                        let f = ((hi as u128) << 40) | (lo >> 24) as u128;
                        ((f >> 52) as u64, f as u64 & mask)
                    })
                    .collect(),
                omega52: out
                    .iter()
                    .zip(&omega)
                    .map(|(m, row): (&Modulus, &Vec<u64>)| {
                        row.iter().map(|&w| simd::shoup52(w, m.value())).collect()
                    })
                    .collect(),
                lambda52: out
                    .iter()
                    .zip(&lambda)
                    .map(|(m, &w)| simd::shoup52(w, m.value()))
                    .collect(),
            }
        });
        Ok(Self {
            q_len: q.len(),
            r_len: r.len(),
            out,
            omega,
            omega_shoup,
            theta,
            lambda,
            ifma,
        })
    }

    /// Output moduli.
    pub fn out_moduli(&self) -> &[Modulus] {
        &self.out
    }

    /// Scales `input` (limb-major over `Q ∪ R`, coefficient domain) into
    /// `output` (limb-major over the output moduli).
    pub fn scale(&self, input: &[u64], degree: usize, output: &mut [u64]) {
        let l = self.q_len;
        debug_assert_eq!(input.len(), (l + self.r_len) * degree);
        debug_assert_eq!(output.len(), self.out.len() * degree);
        if let Some(t) = &self.ifma {
            return self.scale_ifma(t, input, degree, output);
        }
        // t·x/Q = Σ_{i∈Q} x_i·(ω_i + θ_i) + Σ_{j∈R} x_{r_j}·λ_j  (mod the output).
        let y = &input[..l * degree];
        // Σ_i x_i·θ_i as (integer, fraction) accumulators per coefficient,
        // then rounded; θ_i = (hi + lo/2^64)/2^64.
        let mut int_acc = vec![0u128; degree];
        let mut frac_acc = vec![0u128; degree];
        for (i, &(hi, lo)) in self.theta.iter().enumerate() {
            let src = &y[i * degree..(i + 1) * degree];
            for ((ia, fa), &x) in int_acc.iter_mut().zip(frac_acc.iter_mut()).zip(src) {
                let x = x as u128;
                let term = x * hi as u128 + ((x * lo as u128) >> 64);
                *ia += term >> 64;
                *fa += term & u64::MAX as u128;
            }
        }
        let rounded: Vec<u128> = int_acc
            .iter()
            .zip(&frac_acc)
            .map(|(&ia, &fa)| ia + ((fa + (1u128 << 63)) >> 64))
            .collect();
        for (j, m) in self.out.iter().enumerate() {
            let (w, ws) = (&self.omega[j], &self.omega_shoup[j]);
            let dst = &mut output[j * degree..(j + 1) * degree];
            for (d, &r) in dst.iter_mut().zip(&rounded) {
                *d = m.reduce_u128(r);
            }
            // lazy Shoup products (< 2m each), sum < (2l + 1)·m < 2^64
            for i in 0..l {
                let src = &y[i * degree..(i + 1) * degree];
                for (d, &s) in dst.iter_mut().zip(src) {
                    *d += m.mul_shoup_lazy(s, w[i], ws[i]);
                }
            }
            for d in dst.iter_mut() {
                *d = m.reduce(*d);
            }
            if !self.lambda.is_empty() {
                let lam = self.lambda[j];
                let ls = m.shoup(lam);
                let src = &input[(l + j) * degree..(l + j + 1) * degree];
                for (d, &s) in dst.iter_mut().zip(src) {
                    *d = m.add(*d, m.mul_shoup(s, lam, ls));
                }
            }
        }
    }
}

impl Scaler {
    fn scale_ifma(&self, t: &ScaleIfma, input: &[u64], degree: usize, output: &mut [u64]) {
        let l = self.q_len;
        let mut a = crate::pool::take_zeroed(degree);
        let mut b = crate::pool::take_zeroed(degree);
        let mut c = crate::pool::take_zeroed(degree);
        for (i, &(t1, t0)) in t.theta52.iter().enumerate() {
            simd::theta_acc(
                &mut a,
                &mut b,
                &mut c,
                &input[i * degree..(i + 1) * degree],
                t1,
                t0,
            );
        }
        // Σ x_i θ_i = (a·2^104 + b·2^52 + c) / 2^104, rounded
        for ((ai, &bi), &ci) in a.iter_mut().zip(&b).zip(&c) {
            *ai += (bi + (ci >> 52) + (1 << 51)) >> 52;
        }
        for (j, m) in self.out.iter().enumerate() {
            let dst = &mut output[j * degree..(j + 1) * degree];
            for (d, &r) in dst.iter_mut().zip(a.iter()) {
                *d = m.reduce(r);
            }
            for i in 0..l {
                simd::mul_acc(
                    dst,
                    &input[i * degree..(i + 1) * degree],
                    self.omega[j][i],
                    t.omega52[j][i],
                    m.value(),
                    true,
                );
            }
            if !self.lambda.is_empty() {
                let src = &input[(l + j) * degree..(l + j + 1) * degree];
                simd::mul_acc(dst, src, self.lambda[j], t.lambda52[j], m.value(), true);
            }
            simd::sub_mul_reduce(dst, &[], 0, 0, m.value());
        }
        crate::pool::give(a);
        crate::pool::give(b);
        crate::pool::give(c);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::zq::generate_primes;
    use num_bigint::RandBigInt;
    use rand::SeedableRng;

    fn rng() -> rand_chacha::ChaCha8Rng {
        rand_chacha::ChaCha8Rng::seed_from_u64(7)
    }

    #[test]
    fn crt_round_trip_equals_bigint() {
        let mut rng = rng();
        let primes = generate_primes(&[50, 50, 49, 60, 40], 1024, &[]).unwrap();
        let b = RnsBasis::new(&primes).unwrap();
        for _ in 0..200 {
            let x = rng.gen_biguint_below(b.product());
            let r = b.decompose(&x);
            for (ri, &p) in r.iter().zip(&primes) {
                assert_eq!(BigUint::from(*ri), &x % p);
            }
            assert_eq!(b.compose(&r), x);
            let xs = BigInt::from_biguint(Sign::Plus, x.clone())
                - BigInt::from_biguint(Sign::Plus, b.product().clone() / 2u32);
            assert_eq!(b.compose_centered(&b.decompose_signed(&xs)), xs);
        }
    }

    /// `round(Q·m/t)` against big-integer arithmetic, for the BFV `t`,
    /// an even `t` (ties) and a 59-bit `t`, at the edges `m ∈ {0, 1, t − 1}`
    /// and at random; out-of-range input is an error.
    #[test]
    fn upscaler_rounds_q_m_over_t_exactly() {
        let mut rng = rng();
        let q = generate_primes(&[43, 43, 44, 44], 1024, &[]).unwrap();
        let qb: BigUint = q.iter().map(|&x| BigUint::from(x)).product();
        for t in [65537u64, 1 << 20, (1 << 59) + 27] {
            let up = Upscaler::new(&q, t).unwrap();
            assert_eq!(BigUint::from(up.q_mod_t()), &qb % t);
            let mut m: Vec<u64> = (0..61)
                .map(|_| rng.gen_biguint_below(&BigUint::from(t)).to_u64().unwrap())
                .collect();
            m.extend([0, 1, t - 1, t / 2, t / 2 + 1]);
            let n = m.len();
            let mut out = vec![0u64; q.len() * n];
            up.scale(&m, &mut out).unwrap();
            for (c, &mc) in m.iter().enumerate() {
                // round(Q·m/t) = ⌊(2·Q·m + t) / 2t⌋ (ties up)
                let exact = (&qb * mc * 2u32 + t) / (BigUint::from(t) * 2u32);
                for (i, &qi) in q.iter().enumerate() {
                    assert_eq!(BigUint::from(out[i * n + c]), &exact % qi, "t={t} m={mc}");
                }
            }
            let mut bad = m.clone();
            bad[3] = t;
            assert!(matches!(
                up.scale(&bad, &mut out),
                Err(Error::OutOfRange { .. })
            ));
            assert!(matches!(
                up.scale(&m, &mut out[1..]),
                Err(Error::Malformed { .. })
            ));
        }
    }

    #[test]
    fn duplicate_moduli_rejected() {
        assert!(matches!(
            RnsBasis::new(&[65537, 65537]),
            Err(Error::InvalidParameters { .. })
        ));
        assert!(matches!(
            RnsBasis::new(&[]),
            Err(Error::InvalidParameters { .. })
        ));
    }

    /// Exact and approximate extension against big-integer CRT, for 50-bit
    /// (IFMA) bases, for twelve 61-bit primes, where a sum of lazy
    /// products would pass 2^64, and from a single prime (its own path)
    /// (random values and the extremes 0, 1, Q/2, Q − 1).
    #[test]
    fn basis_extension_exact_and_approximate() {
        let mut rng = rng();
        let n = 64;
        for (q_bits, p_bits) in [
            (vec![50u32, 50, 50], vec![49u32, 49, 61]),
            (vec![61; 12], vec![60, 61, 61]),
            // one source prime (the single-prime digits and special prime of
            // SEAL's layouts): targets above it, just below it and far
            // below it (Barrett)
            (vec![40], vec![40, 41, 50, 61]),
            (vec![44], vec![43, 44, 45, 61]),
            (vec![50], vec![30, 49, 50]),
        ] {
            let q = generate_primes(&q_bits, n, &[]).unwrap();
            let p = generate_primes(&p_bits, n, &q).unwrap();
            let bq = RnsBasis::new(&q).unwrap();
            let ext = BasisExtender::new(&bq, &p).unwrap();
            let mut xs: Vec<BigUint> = (0..n - 4)
                .map(|_| rng.gen_biguint_below(bq.product()))
                .collect();
            xs.extend([
                BigUint::from(0u32),
                BigUint::from(1u32),
                bq.product() >> 1,
                bq.product() - 1u32,
            ]);
            let mut input = vec![0u64; q.len() * n];
            for (c, x) in xs.iter().enumerate() {
                for (i, r) in bq.decompose(x).into_iter().enumerate() {
                    input[i * n + c] = r;
                }
            }
            let mut exact = vec![0u64; p.len() * n];
            ext.extend(&input, n, &mut exact, true);
            let mut approx = vec![0u64; p.len() * n];
            ext.extend(&input, n, &mut approx, false);
            let qbig = BigInt::from_biguint(Sign::Plus, bq.product().clone());
            for (c, x) in xs.iter().enumerate() {
                let xi = BigInt::from_biguint(Sign::Plus, x.clone());
                let centered = if x > &(bq.product() >> 1) {
                    &xi - &qbig
                } else {
                    xi.clone()
                };
                for (j, &pj) in p.iter().enumerate() {
                    let pb = BigInt::from(pj);
                    assert!(approx[j * n + c] < pj && exact[j * n + c] < pj);
                    // (Q/2 itself is the documented ambiguity of the exact variant)
                    if *x != bq.product() >> 1 {
                        assert_eq!(BigInt::from(exact[j * n + c]), centered.mod_floor(&pb));
                    }
                    // approximate: x + u·Q with 0 <= u < |Q|
                    let ok = (0..q.len()).any(|u| {
                        BigInt::from(approx[j * n + c]) == (&xi + &qbig * u).mod_floor(&pb)
                    });
                    assert!(ok, "{q_bits:?}: coefficient {c}, target {j}");
                }
            }
            assert_eq!(
                ext.lift_one,
                q.len() == 1 && p.iter().all(|&x| q[0] <= 2 * x)
            );
            assert!(BasisExtender::new(&bq, &q[..1]).is_err());
        }
    }

    #[test]
    fn scaling_matches_bigint_rounding() {
        let mut rng = rng();
        let n = 32;
        let q = generate_primes(&[50, 50, 50, 50], n, &[]).unwrap();
        let r = generate_primes(&[50, 50, 50, 50, 50], n, &q).unwrap();
        let t = BigUint::from(65537u32);
        let mut all = q.clone();
        all.extend_from_slice(&r);
        let ball = RnsBasis::new(&all).unwrap();
        let qprod: BigUint = q.iter().map(|&x| BigUint::from(x)).product();
        let qbig = BigInt::from_biguint(Sign::Plus, qprod.clone());
        let tbig = BigInt::from(65537u32);
        // Into R.
        let sc = Scaler::new(&q, &r, &t, None).unwrap();
        let xs: Vec<BigUint> = (0..n)
            .map(|_| rng.gen_biguint_below(ball.product()))
            .collect();
        let mut input = vec![0u64; all.len() * n];
        for (c, x) in xs.iter().enumerate() {
            for (i, v) in ball.decompose(x).into_iter().enumerate() {
                input[i * n + c] = v;
            }
        }
        let mut out = vec![0u64; r.len() * n];
        sc.scale(&input, n, &mut out);
        for (c, x) in xs.iter().enumerate() {
            let num = &tbig * BigInt::from_biguint(Sign::Plus, x.clone());
            // round(num / Q) = floor((2 num + Q) / 2Q)
            let two_num: BigInt = num * 2 + &qbig;
            let rounded = two_num.div_floor(&(&qbig * 2));
            for (j, &rj) in r.iter().enumerate() {
                assert_eq!(
                    BigInt::from(out[j * n + c]),
                    rounded.mod_floor(&BigInt::from(rj))
                );
            }
        }
        // From Q alone into t (BFV decryption).
        let sc_t = Scaler::new(&q, &[], &t, Some(&[65537])).unwrap();
        let bq = RnsBasis::new(&q).unwrap();
        let xs: Vec<BigUint> = (0..n).map(|_| rng.gen_biguint_below(&qprod)).collect();
        let mut input = vec![0u64; q.len() * n];
        for (c, x) in xs.iter().enumerate() {
            for (i, v) in bq.decompose(x).into_iter().enumerate() {
                input[i * n + c] = v;
            }
        }
        let mut out = vec![0u64; n];
        sc_t.scale(&input, n, &mut out);
        for (c, x) in xs.iter().enumerate() {
            let num = &tbig * BigInt::from_biguint(Sign::Plus, x.clone());
            let two_num: BigInt = num * 2 + &qbig;
            let rounded = two_num.div_floor(&(&qbig * 2));
            assert_eq!(BigInt::from(out[c]), rounded.mod_floor(&tbig));
        }
    }
}
