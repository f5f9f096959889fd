//! Homomorphic operations on CKKS ciphertexts, with level and scale
//! management.
//!
//! ## Scale rules
//! * Products multiply scales; [`Evaluator::rescale`] divides by the
//!   actual prime `q_l` and records the exact result.
//! * Constants multiplied by [`Evaluator::mul_const`] are encoded at scale
//!   `q_l`, so `rescale(mul_const(ct, c))` has exactly the scale of `ct`.
//! * Additions align operands automatically:
//!   1. scales equal up to the evaluator's tolerance (relative `2^-32` by
//!      default) are treated as equal;
//!   2. if one scale is (close to) an integer multiple `k` of the other, or
//!      the ratio is large (`≥ Δ_small / 4`), the smaller operand is
//!      multiplied by `k = round(ratio)` (no level used; relative value
//!      error ≤ `1/(2·ratio)`, below the encoding precision);
//!   3. otherwise, if one operand is at a higher level, it is brought to the
//!      other's level and scale by one multiplication with the integer
//!      `round(q·Δ_target/Δ)` and a rescale (a level it would have lost
//!      anyway when dropped);
//!   4. otherwise (same level `l ≥ 1`, unrelated scales, e.g. `x²` and
//!      `0.5·x` both rescaled once) both operands are multiplied by integers
//!      to the common scale `Δ_b·q_l` and the sum is rescaled: the result
//!      is one level lower, at scale `Δ_b`;
//!   5. at level 0 the addition fails with [`Error::ScaleMismatch`].
//! * Levels are aligned by dropping primes from the higher operand.

use std::borrow::Cow;

use rlwe::ciphertext::mod_down_pair;
use rlwe::poly::{Poly, Representation};

use crate::ciphertext::Ciphertext;
use crate::complex::Complex;
use crate::encoder::{check_scale, reduce_f64, Plaintext};
use crate::keys::{GaloisKeys, RelinKey};
use crate::params::Parameters;
use crate::{Error, Result};

/// Evaluates operations on ciphertexts of one parameter set.
#[derive(Clone, Debug)]
pub struct Evaluator {
    params: Parameters,
    tolerance: f64,
}

fn bits(x: f64) -> f64 {
    x.log2()
}

impl Evaluator {
    /// An evaluator for `params` (scale tolerance `2^-32`).
    pub fn new(params: &Parameters) -> Self {
        Self {
            params: params.clone(),
            tolerance: 2f64.powi(-32),
        }
    }

    /// The same evaluator with another relative scale tolerance.
    pub fn with_scale_tolerance(mut self, tolerance: f64) -> Self {
        self.tolerance = tolerance.abs();
        self
    }

    /// The parameters.
    pub fn params(&self) -> &Parameters {
        &self.params
    }

    fn check(&self, ct: &Ciphertext) -> Result<()> {
        self.params
            .check_same(&ct.params, "ciphertext and evaluator")
    }

    fn check_pt(&self, pt: &Plaintext) -> Result<()> {
        self.params
            .check_same(&pt.params, "plaintext and evaluator")
    }

    fn wrap(&self, inner: rlwe::ciphertext::Ciphertext, scale: f64) -> Ciphertext {
        Ciphertext {
            params: self.params.clone(),
            inner,
            scale,
        }
    }

    fn same_scale(&self, a: f64, b: f64) -> bool {
        ((a - b) / a.max(b)).abs() <= self.tolerance
    }

    /// The same ciphertext at a lower level (primes dropped, scale kept).
    pub fn drop_to_level(&self, ct: &Ciphertext, level: usize) -> Result<Ciphertext> {
        self.check(ct)?;
        if level == ct.level() {
            return Ok(ct.clone());
        }
        Ok(self.wrap(ct.inner.drop_to_level(level)?, ct.scale))
    }

    /// Multiplies by the integer `k` (an integral `f64` of any size); the
    /// scale is unchanged (the values are multiplied by `k`).
    pub(crate) fn mul_integer_f64(&self, ct: &Ciphertext, k: f64) -> Result<Ciphertext> {
        if !k.is_finite() || k.abs() >= 2f64.powi(self.params.log_q(ct.level()) as i32) {
            return Err(Error::ValueOutOfRange {
                what: format!("integer multiplier {k:e} does not fit the modulus"),
            });
        }
        let ring = self.params.rlwe().ring_q(ct.level())?;
        let res: Vec<u64> = ring.moduli().iter().map(|m| reduce_f64(m, k)).collect();
        let mut inner = ct.inner.clone();
        for p in inner.parts_mut() {
            p.mul_scalar_rns_assign(&res)?;
        }
        Ok(self.wrap(inner, ct.scale))
    }

    /// `acc += k·t` for an integral `f64` `k` of any size, with `t` read at
    /// `acc`'s level (no copy of `t`); the scales are the caller's to keep
    /// consistent (`acc`'s is kept).
    pub(crate) fn mul_integer_acc(
        &self,
        acc: &mut Ciphertext,
        t: &Ciphertext,
        k: f64,
    ) -> Result<()> {
        let level = acc.level();
        if !k.is_finite() || k.abs() >= 2f64.powi(self.params.log_q(level) as i32) {
            return Err(Error::ValueOutOfRange {
                what: format!("integer multiplier {k:e} does not fit the modulus"),
            });
        }
        if t.level() < level || t.len() != acc.len() {
            return Err(Error::InvalidArgument {
                what: "internal: multiply-accumulate of mismatched ciphertexts".into(),
            });
        }
        let ring = self.params.rlwe().ring_q(level)?;
        let res: Vec<u64> = ring.moduli().iter().map(|m| reduce_f64(m, k)).collect();
        for (a, b) in acc.inner.parts_mut().iter_mut().zip(t.inner.parts()) {
            a.mul_scalar_rns_acc(b, &res)?;
        }
        Ok(())
    }

    /// Multiplies the slots by the integer `k` (no level used).
    pub fn mul_integer(&self, ct: &Ciphertext, k: i64) -> Result<Ciphertext> {
        self.check(ct)?;
        self.mul_integer_f64(ct, k as f64)
    }

    /// Brings `ct` to `level` with scale `target` (up to a relative error of
    /// `1/(2k)`, `k ≈ q·target/scale`) by dropping to `level + 1`,
    /// multiplying by the integer `k = round(q_{level+1}·target/scale)` and
    /// rescaling. The recorded scale is `target`.
    pub fn match_scale(&self, ct: &Ciphertext, target: f64, level: usize) -> Result<Ciphertext> {
        self.check(ct)?;
        check_scale(target)?;
        if level >= ct.level() {
            return Err(Error::InvalidLevel {
                what: "matching a scale needs a level above the target",
                got: ct.level(),
                max: level,
            });
        }
        let x = self.drop_to_level(ct, level + 1)?;
        let q = self.params.q(level + 1)? as f64;
        self.check_product_scale(target * q, level + 1)?;
        let k = (q * target / ct.scale).round();
        if k < 1.0 || k * 4.0 < target {
            return Err(Error::ScaleMismatch {
                what: "scale too far from the target to match with one rescale",
                left_bits: bits(ct.scale),
                right_bits: bits(target),
            });
        }
        let mut y = self.mul_integer_f64(&x, k)?;
        y.scale = ct.scale * q; // nominal, rescale divides by q
        let mut z = self.rescale(&y)?;
        z.scale = target;
        Ok(z)
    }

    /// `ct` at `level` (borrowed when already there).
    fn at_level<'a>(&self, ct: &'a Ciphertext, level: usize) -> Result<Cow<'a, Ciphertext>> {
        if ct.level() == level {
            Ok(Cow::Borrowed(ct))
        } else {
            Ok(Cow::Owned(self.drop_to_level(ct, level)?))
        }
    }

    /// Aligns levels and scales of two operands (see the module docs).
    fn align<'a>(
        &self,
        a: &'a Ciphertext,
        b: &'a Ciphertext,
    ) -> Result<(Cow<'a, Ciphertext>, Cow<'a, Ciphertext>, bool)> {
        self.check(a)?;
        self.check(b)?;
        let (mut a, mut b) = (Cow::Borrowed(a), Cow::Borrowed(b));
        if !self.same_scale(a.scale, b.scale) {
            let a_big = a.scale > b.scale;
            let (big, small) = if a_big {
                (a.scale, b.scale)
            } else {
                (b.scale, a.scale)
            };
            let r = big / small;
            let k = r.round();
            if ((k - r) / r).abs() <= self.tolerance || r * 4.0 >= small {
                let s = if a_big { &mut b } else { &mut a };
                let mut t = self.mul_integer_f64(s, k)?;
                t.scale = big;
                *s = Cow::Owned(t);
            } else if a.level() > b.level() {
                a = Cow::Owned(self.match_scale(&a, b.scale, b.level())?);
            } else if b.level() > a.level() {
                b = Cow::Owned(self.match_scale(&b, a.scale, a.level())?);
            } else if a.level() > 0 {
                // Same level: both to the scale Δ_b·q_l by integer
                // multiplications (q_l exactly for b); the caller rescales.
                let l = a.level();
                let q = self.params.q(l)? as f64;
                let target = b.scale * q;
                let ka = (target / a.scale).round();
                let mut ta = self.mul_integer_f64(&a, ka)?;
                ta.scale = target;
                let mut tb = self.mul_integer_f64(&b, q)?;
                tb.scale = target;
                return Ok((Cow::Owned(ta), Cow::Owned(tb), true));
            } else {
                return Err(Error::ScaleMismatch {
                    what: "operands at level 0 with unrelated scales",
                    left_bits: bits(a.scale),
                    right_bits: bits(b.scale),
                });
            }
        }
        let l = a.level().min(b.level());
        let a = match a {
            Cow::Borrowed(x) => self.at_level(x, l)?,
            Cow::Owned(x) => Cow::Owned(self.at_level(&x, l)?.into_owned()),
        };
        let b = match b {
            Cow::Borrowed(x) => self.at_level(x, l)?,
            Cow::Owned(x) => Cow::Owned(self.at_level(&x, l)?.into_owned()),
        };
        Ok((a, b, false))
    }

    /// `a + b` (levels and scales aligned automatically).
    pub fn add(&self, a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext> {
        let (a, b, rescale) = self.align(a, b)?;
        let mut out = Ciphertext {
            params: a.params.clone(),
            inner: a.inner.add(&b.inner)?,
            scale: a.scale,
        };
        if rescale {
            out = self.rescale(&out)?;
        }
        Ok(out)
    }

    /// `a − b`.
    pub fn sub(&self, a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext> {
        let (a, b, rescale) = self.align(a, b)?;
        let mut out = Ciphertext {
            params: a.params.clone(),
            inner: a.inner.sub(&b.inner)?,
            scale: a.scale,
        };
        if rescale {
            out = self.rescale(&out)?;
        }
        Ok(out)
    }

    /// `a += b` in place (same alignment rules as [`Self::add`]; `a` is
    /// replaced by the aligned sum).
    pub fn add_assign(&self, a: &mut Ciphertext, b: &Ciphertext) -> Result<()> {
        if self.same_scale(a.scale, b.scale) && a.level() == b.level() {
            self.check(a)?;
            self.check(b)?;
            return Ok(a.inner.add_assign(&b.inner)?);
        }
        *a = self.add(a, b)?;
        Ok(())
    }

    /// `−a` (the name the other schemes use; also `-&a`).
    pub fn neg(&self, a: &Ciphertext) -> Result<Ciphertext> {
        #[allow(deprecated)]
        self.negate(a)
    }

    /// `−a`.
    #[deprecated(note = "renamed to `neg`, as in `bfv` and `paillier`")]
    pub fn negate(&self, a: &Ciphertext) -> Result<Ciphertext> {
        self.check(a)?;
        let mut a = a.clone();
        a.inner.neg_assign();
        Ok(a)
    }

    /// Aligns a plaintext with a ciphertext's level (the plaintext may be
    /// above: its primes are dropped; if below, the ciphertext is dropped).
    fn align_plain(&self, ct: &Ciphertext, pt: &Plaintext) -> Result<(Ciphertext, Poly)> {
        self.check(ct)?;
        self.check_pt(pt)?;
        let l = ct.level().min(pt.level);
        let ring = self.params.rlwe().ring_q(l)?;
        let poly = if pt.level == l {
            pt.ntt_poly().into_owned()
        } else {
            pt.ntt_poly().drop_to(ring)?
        };
        Ok((self.at_level(ct, l)?.into_owned(), poly))
    }

    /// `ct + pt`; the plaintext must have the ciphertext's scale (encode it
    /// with `encode_at(values, ct.level(), ct.scale())`).
    pub fn add_plain(&self, ct: &Ciphertext, pt: &Plaintext) -> Result<Ciphertext> {
        if !self.same_scale(ct.scale, pt.scale) {
            return Err(Error::ScaleMismatch {
                what: "add_plain",
                left_bits: bits(ct.scale),
                right_bits: bits(pt.scale),
            });
        }
        let (mut c, p) = self.align_plain(ct, pt)?;
        c.inner.add_plain_assign(&p)?;
        Ok(c)
    }

    /// `ct − pt` (same scale rule as [`Self::add_plain`]).
    pub fn sub_plain(&self, ct: &Ciphertext, pt: &Plaintext) -> Result<Ciphertext> {
        if !self.same_scale(ct.scale, pt.scale) {
            return Err(Error::ScaleMismatch {
                what: "sub_plain",
                left_bits: bits(ct.scale),
                right_bits: bits(pt.scale),
            });
        }
        let (mut c, p) = self.align_plain(ct, pt)?;
        c.inner.sub_plain_assign(&p)?;
        Ok(c)
    }

    /// The plaintext's NTT polynomial at `level ≤ pt.level` (borrowed when
    /// it is already NTT at that level).
    fn plain_at<'a>(&self, pt: &'a Plaintext, level: usize) -> Result<Cow<'a, Poly>> {
        let p = pt.ntt_poly();
        if pt.level == level {
            return Ok(p);
        }
        Ok(Cow::Owned(p.drop_to(self.params.rlwe().ring_q(level)?)?))
    }

    /// `ct ⊙ pt` slot-wise; the scale is the product of the scales (rescale
    /// afterwards). At a common level, each part is written once from `ct`
    /// and `pt` (neither is copied first).
    pub fn mul_plain(&self, ct: &Ciphertext, pt: &Plaintext) -> Result<Ciphertext> {
        self.check(ct)?;
        self.check_pt(pt)?;
        let l = ct.level().min(pt.level);
        self.check_product_scale(ct.scale * pt.scale, l)?;
        let p = self.plain_at(pt, l)?;
        let inner = if ct.level() == l {
            ct.inner.mul_plain(&p)?
        } else {
            let mut inner = ct.inner.drop_to_level(l)?;
            inner.mul_plain_assign(&p)?;
            inner
        };
        Ok(self.wrap(inner, ct.scale * pt.scale))
    }

    /// `ct ⊙= pt` in place (same rules as [`Self::mul_plain`]; a ciphertext
    /// above the plaintext's level is dropped to it first).
    pub fn mul_plain_assign(&self, ct: &mut Ciphertext, pt: &Plaintext) -> Result<()> {
        self.check(ct)?;
        self.check_pt(pt)?;
        let l = ct.level().min(pt.level);
        self.check_product_scale(ct.scale * pt.scale, l)?;
        let p = self.plain_at(pt, l)?;
        if ct.level() != l {
            ct.inner = ct.inner.drop_to_level(l)?;
        }
        ct.inner.mul_plain_assign(&p)?;
        ct.scale *= pt.scale;
        Ok(())
    }

    pub(crate) fn check_product_scale(&self, scale: f64, level: usize) -> Result<()> {
        // Leave at least 2 bits for the values themselves.
        if !scale.is_finite() || bits(scale) > self.params.log_q(level) - 3.0 {
            return Err(Error::ValueOutOfRange {
                what: format!(
                    "scale 2^{:.1} does not fit the modulus of 2^{:.1} at level {level}",
                    bits(scale),
                    self.params.log_q(level)
                ),
            });
        }
        Ok(())
    }

    /// Adds the real constant `c` to every slot.
    pub fn add_const(&self, ct: &Ciphertext, c: f64) -> Result<Ciphertext> {
        self.add_const_complex(ct, Complex::real(c))
    }

    /// Adds the complex constant `c` to every slot.
    pub fn add_const_complex(&self, ct: &Ciphertext, c: Complex) -> Result<Ciphertext> {
        self.check(ct)?;
        if !c.is_finite() {
            return Err(Error::ValueOutOfRange {
                what: "constant is not finite".into(),
            });
        }
        let re = (c.re * ct.scale).round();
        let im = (c.im * ct.scale).round();
        if re.abs().max(im.abs()) > 0.0
            && bits(re.abs().max(im.abs())) > self.params.log_q(ct.level()) - 2.0
        {
            return Err(Error::ValueOutOfRange {
                what: "constant times scale does not fit the modulus".into(),
            });
        }
        let ring = self.params.rlwe().ring_q(ct.level())?;
        let mut out = ct.clone();
        if im == 0.0 {
            // A constant polynomial is constant in the NTT domain too.
            let n = ring.degree();
            let parts = out.inner.parts_mut();
            for (i, m) in ring.moduli().iter().enumerate() {
                let r = reduce_f64(m, re);
                for x in &mut parts[0].data_mut()[i * n..(i + 1) * n] {
                    *x = m.add(*x, r);
                }
            }
        } else {
            // i is the slot image of X^{N/2}.
            let n = ring.degree();
            let mut data = vec![0u64; ring.len() * n];
            for (i, m) in ring.moduli().iter().enumerate() {
                data[i * n] = reduce_f64(m, re);
                data[i * n + n / 2] = reduce_f64(m, im);
            }
            let mut p = Poly::from_limbs(ring, Representation::Coefficient, data)?;
            p.to_ntt();
            out.inner.add_plain_assign(&p)?;
        }
        Ok(out)
    }

    /// Multiplies every slot by the real constant `c`, encoded at scale
    /// `q_l` (the prime the next rescale divides by), so that
    /// `rescale(mul_const(ct, c))` has exactly the scale of `ct`. At level 0
    /// the constant is encoded at the default scale instead.
    pub fn mul_const(&self, ct: &Ciphertext, c: f64) -> Result<Ciphertext> {
        self.check(ct)?;
        let const_scale = if ct.level() > 0 {
            self.params.q(ct.level())? as f64
        } else {
            self.params.scale()
        };
        self.mul_const_with_scale(ct, c, const_scale)
    }

    /// Multiplies every slot by `c` encoded as the integer
    /// `round(c·const_scale)`; the result's scale is `scale·const_scale`.
    pub fn mul_const_with_scale(
        &self,
        ct: &Ciphertext,
        c: f64,
        const_scale: f64,
    ) -> Result<Ciphertext> {
        self.check(ct)?;
        check_scale(const_scale)?;
        if !c.is_finite() {
            return Err(Error::ValueOutOfRange {
                what: "constant is not finite".into(),
            });
        }
        self.check_product_scale(ct.scale * const_scale, ct.level())?;
        let k = (c * const_scale).round();
        let mut out = self.mul_integer_f64(ct, k)?;
        out.scale = ct.scale * const_scale;
        Ok(out)
    }

    /// Multiplies every slot by the complex constant `c` (through a
    /// plaintext at scale `q_l`; rescale afterwards).
    pub fn mul_const_complex(&self, ct: &Ciphertext, c: Complex) -> Result<Ciphertext> {
        self.check(ct)?;
        if c.im == 0.0 {
            return self.mul_const(ct, c.re);
        }
        let const_scale = if ct.level() > 0 {
            self.params.q(ct.level())? as f64
        } else {
            self.params.scale()
        };
        self.check_product_scale(ct.scale * const_scale, ct.level())?;
        let ring = self.params.rlwe().ring_q(ct.level())?;
        let n = ring.degree();
        let re = (c.re * const_scale).round();
        let im = (c.im * const_scale).round();
        let mut data = vec![0u64; ring.len() * n];
        for (i, m) in ring.moduli().iter().enumerate() {
            data[i * n] = reduce_f64(m, re);
            data[i * n + n / 2] = reduce_f64(m, im);
        }
        let mut p = Poly::from_limbs(ring, Representation::Coefficient, data)?;
        p.to_ntt();
        let mut out = ct.clone();
        out.inner.mul_plain_assign(&p)?;
        out.scale = ct.scale * const_scale;
        Ok(out)
    }

    /// Multiplies every slot by `i` (or by `−i` with `negative`) exactly:
    /// `X^{N/2}` evaluates to `i` at every slot point, so this is a
    /// product with the monomial `±X^{N/2}` — no level, no scale change,
    /// no added noise.
    pub fn mul_by_i(&self, ct: &Ciphertext, negative: bool) -> Result<Ciphertext> {
        self.check(ct)?;
        let ring = self.params.rlwe().ring_q(ct.level())?;
        let n = ring.degree();
        let mut data = vec![0u64; ring.len() * n];
        for (i, m) in ring.moduli().iter().enumerate() {
            data[i * n + n / 2] = if negative { m.value() - 1 } else { 1 };
        }
        let mut p = Poly::from_limbs(ring, Representation::Coefficient, data)?;
        p.to_ntt();
        let mut out = ct.clone();
        out.inner.mul_plain_assign(&p)?;
        Ok(out)
    }

    /// The tensor product (3 parts, scale `Δ_a·Δ_b`); relinearize next.
    pub fn mul(&self, a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext> {
        self.check(a)?;
        self.check(b)?;
        let l = a.level().min(b.level());
        let a = self.at_level(a, l)?;
        let b = self.at_level(b, l)?;
        let scale = a.scale * b.scale;
        self.check_product_scale(scale, l)?;
        Ok(self.wrap(a.inner.tensor(&b.inner)?, scale))
    }

    /// Relinearizes a 3-part ciphertext (key switching of `c_2` with
    /// centered digits, see the crate's key-switching notes).
    pub fn relinearize(&self, ct: &Ciphertext, rlk: &RelinKey) -> Result<Ciphertext> {
        self.check(ct)?;
        self.params
            .check_same(rlk.params(), "relinearization key")?;
        match ct.len() {
            2 => Ok(ct.clone()),
            3 => {
                let rp = self.params.rlwe();
                let level = ct.level();
                let parts = ct.inner.parts();
                let (k0, k1) = rlk.rlwe().key().switch_unreduced(&parts[2])?;
                let mut c0 = parts[0].clone();
                let mut c1 = parts[1].clone();
                let (k0, k1) = mod_down_pair(rp, k0, k1, level)?;
                c0.add_assign(&k0)?;
                c1.add_assign(&k1)?;
                let inner = rlwe::ciphertext::Ciphertext::new(rp, vec![c0, c1])?;
                Ok(self.wrap(inner, ct.scale))
            }
            _ => Err(Error::InvalidArgument {
                what: format!("relinearization takes 3 parts, got {}", ct.len()),
            }),
        }
    }

    /// `a·b` relinearized (not rescaled).
    pub fn mul_relin(&self, a: &Ciphertext, b: &Ciphertext, rlk: &RelinKey) -> Result<Ciphertext> {
        self.relinearize(&self.mul(a, b)?, rlk)
    }

    /// `a·b` relinearized and rescaled, fused: the key-switching result over
    /// `Q_l ∪ P` is added to `P·(c_0, c_1)` and divided by `P·q_l` in one
    /// rounding step (saves the separate modulus reduction by `P` and its
    /// transforms; the rounding error is that of a plain rescale).
    pub fn mul_relin_rescale(
        &self,
        a: &Ciphertext,
        b: &Ciphertext,
        rlk: &RelinKey,
    ) -> Result<Ciphertext> {
        let t = self.mul(a, b)?;
        self.relin_rescale(&t, rlk)
    }

    /// Relinearizes a 3-part ciphertext and rescales it (fused, see
    /// [`Self::mul_relin_rescale`]).
    pub fn relin_rescale(&self, ct: &Ciphertext, rlk: &RelinKey) -> Result<Ciphertext> {
        self.check(ct)?;
        self.params
            .check_same(rlk.params(), "relinearization key")?;
        let l = ct.level();
        if l == 0 {
            return Err(Error::InvalidLevel {
                what: "cannot rescale at level 0",
                got: 0,
                max: 0,
            });
        }
        if ct.len() != 3 {
            return self.rescale(&self.relinearize(ct, rlk)?);
        }
        // rlwe fuses the key-switching reduction by P with the rescale by q_l.
        let inner = ct.inner.relinearize_rescale(rlk.rlwe())?;
        let q = self.params.q(l)? as f64;
        Ok(self.wrap(inner, ct.scale / q))
    }

    /// `a²` relinearized (not rescaled).
    pub fn square(&self, a: &Ciphertext, rlk: &RelinKey) -> Result<Ciphertext> {
        self.mul_relin(a, a, rlk)
    }

    /// Divides by the last prime `q_l` with rounding: level `l − 1`, scale
    /// `Δ / q_l` (exact).
    pub fn rescale(&self, ct: &Ciphertext) -> Result<Ciphertext> {
        self.check(ct)?;
        let l = ct.level();
        if l == 0 {
            return Err(Error::InvalidLevel {
                what: "cannot rescale at level 0",
                got: 0,
                max: 0,
            });
        }
        let q = self.params.q(l)? as f64;
        Ok(self.wrap(ct.inner.rescale()?, ct.scale / q))
    }

    /// Rotates the slots left by `step` (slot `j` receives slot `j + step`;
    /// negative steps rotate right). Needs the key for `step`.
    pub fn rotate(&self, ct: &Ciphertext, step: i64, gks: &GaloisKeys) -> Result<Ciphertext> {
        self.check(ct)?;
        self.params.check_same(gks.params(), "Galois keys")?;
        if step.rem_euclid(self.params.slots() as i64) == 0 {
            return Ok(ct.clone());
        }
        let gk = gks.for_step(step)?;
        self.apply_galois(ct, &[Some(gk)])?
            .pop()
            .ok_or(Error::InvalidArgument {
                what: "internal: no rotation result".into(),
            })
    }

    /// Complex conjugation of every slot.
    pub fn conjugate(&self, ct: &Ciphertext, gks: &GaloisKeys) -> Result<Ciphertext> {
        self.check(ct)?;
        self.params.check_same(gks.params(), "Galois keys")?;
        let gk = gks.for_conjugation()?;
        self.apply_galois(ct, &[Some(gk)])?
            .pop()
            .ok_or(Error::InvalidArgument {
                what: "internal: no conjugation result".into(),
            })
    }

    /// Automorphisms of one ciphertext sharing one decomposition of `c_1`
    /// (`None` = identity): `σ_k` commutes with the digit decomposition, so
    /// the digits of `σ_k(c_1)` are the NTT-domain permutations of those of
    /// `c_1`.
    fn apply_galois(
        &self,
        ct: &Ciphertext,
        keys: &[Option<&rlwe::keys::GaloisKey>],
    ) -> Result<Vec<Ciphertext>> {
        if ct.len() != 2 {
            return Err(Error::InvalidArgument {
                what: "rotations need a relinearized (2-part) ciphertext".into(),
            });
        }
        let rp = self.params.rlwe();
        let level = ct.level();
        let parts = ct.inner.parts();
        if let [Some(gk)] = keys {
            // One automorphism: permute c_1 (L limbs) before decomposing
            // rather than every digit (digits × |Q_l ∪ P| limbs).
            let k = gk.element();
            let (a0, a1) = gk.key().switch_unreduced(&parts[1].automorphism(k)?)?;
            let mut c0 = parts[0].automorphism(k)?;
            let (a0, c1) = mod_down_pair(rp, a0, a1, level)?;
            c0.add_assign(&a0)?;
            let inner = rlwe::ciphertext::Ciphertext::new(rp, vec![c0, c1])?;
            return Ok(vec![self.wrap(inner, ct.scale)]);
        }
        let digits = if keys.iter().any(Option::is_some) {
            rlwe::ciphertext::decompose(rp, &parts[1])?
        } else {
            Vec::new()
        };
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            let Some(gk) = key else {
                out.push(ct.clone());
                continue;
            };
            let k = gk.element();
            let (a0, a1) = gk.key().apply_decomposed_galois(&digits, level, Some(k))?;
            let mut c0 = parts[0].automorphism(k)?;
            let (a0, c1) = mod_down_pair(rp, a0, a1, level)?;
            c0.add_assign(&a0)?;
            let inner = rlwe::ciphertext::Ciphertext::new(rp, vec![c0, c1])?;
            out.push(self.wrap(inner, ct.scale));
        }
        Ok(out)
    }

    /// Several rotations of one ciphertext sharing one key-switching
    /// decomposition of `c_1` (hoisting, Halevi–Shoup 2018): the costly
    /// basis extension and NTTs of the digits are done once.
    pub fn rotate_hoisted(
        &self,
        ct: &Ciphertext,
        steps: &[i64],
        gks: &GaloisKeys,
    ) -> Result<Vec<Ciphertext>> {
        self.check(ct)?;
        self.params.check_same(gks.params(), "Galois keys")?;
        if ct.len() != 2 {
            return Err(Error::InvalidArgument {
                what: "rotations need a relinearized (2-part) ciphertext".into(),
            });
        }
        let slots = self.params.slots() as i64;
        // Look the keys up first: a missing key is an error before any work.
        let keys = steps
            .iter()
            .map(|&s| {
                if s.rem_euclid(slots) == 0 {
                    Ok(None)
                } else {
                    gks.for_step(s).map(Some)
                }
            })
            .collect::<Result<Vec<_>>>()?;
        self.apply_galois(ct, &keys)
    }

    /// Sums `count` consecutive slots (any `1 ≤ count ≤ N/2`): slot `j`
    /// of the result holds `Σ_{t<count} x_{j+t}` (indices mod N/2), so slot
    /// 0 holds the sum of slots `0..count` and with `count = N/2` every
    /// slot holds the total. Partial sums over 1, 2, 4, … slots (rotations
    /// by 1, 2, 4, …) are combined along the binary digits of `count`
    /// (one more rotation per further digit): `⌊log2 count⌋ + popcount − 1`
    /// rotations, keys for the steps of [`Self::sum_slots_steps`].
    pub fn sum_slots(&self, ct: &Ciphertext, count: usize, gks: &GaloisKeys) -> Result<Ciphertext> {
        self.check(ct)?;
        if count == 0 || count > self.params.slots() {
            return Err(Error::InvalidArgument {
                what: format!("slot count {count} must be in 1..={}", self.params.slots()),
            });
        }
        // block = S_{2^b}: slot j holds Σ_{t<2^b} x_{j+t}. acc covers the
        // digits of `count` below b: Σ_{t<count mod 2^b} x_{j+t}.
        let top = usize::BITS - 1 - count.leading_zeros();
        let mut block = ct.clone();
        let mut acc: Option<Ciphertext> = None;
        for b in 0..=top {
            let width = 1usize << b;
            if count & width != 0 {
                acc = Some(match acc {
                    None => block.clone(),
                    // a new higher block first, then the lower digits after it
                    Some(lower) => self.add(&block, &self.rotate(&lower, width as i64, gks)?)?,
                });
            }
            if b < top {
                let r = self.rotate(&block, width as i64, gks)?;
                block = self.add(&block, &r)?;
            }
        }
        acc.ok_or_else(|| Error::InvalidArgument {
            what: "slot count 0".into(),
        })
    }

    /// The rotation steps [`Self::sum_slots`] needs for `count`: 1, 2, 4,
    /// … below `count`, and the highest power of two ≤ `count` when `count`
    /// is not itself a power of two.
    pub fn sum_slots_steps(count: usize) -> Vec<i64> {
        let mut v = Vec::new();
        if count == 0 {
            return v;
        }
        let top = usize::BITS - 1 - count.leading_zeros();
        for b in 0..top {
            v.push(1i64 << b);
        }
        if !count.is_power_of_two() {
            v.push(1i64 << top);
        }
        v
    }

    /// Inner products of the first `count` slots (any `count ≤ N/2`; keys
    /// for [`Self::sum_slots_steps`]): every slot `j` of the result holds `Σ_{t<count} a_{j+t}·b_{j+t}`, so slot 0
    /// holds `⟨a, b⟩` over slots `0..count`. One multiplication, one rescale
    /// and about `log2 count` rotations.
    pub fn inner_product(
        &self,
        a: &Ciphertext,
        b: &Ciphertext,
        count: usize,
        rlk: &RelinKey,
        gks: &GaloisKeys,
    ) -> Result<Ciphertext> {
        let p = self.mul_relin_rescale(a, b, rlk)?;
        self.sum_slots(&p, count, gks)
    }

    /// Inner product with a plaintext vector of weights (one plaintext
    /// multiplication at scale `q_l`, one rescale, the rotations of
    /// [`Self::sum_slots`]; any `count`).
    pub fn inner_product_plain(
        &self,
        a: &Ciphertext,
        weights: &[f64],
        count: usize,
        encoder: &crate::Encoder,
        gks: &GaloisKeys,
    ) -> Result<Ciphertext> {
        self.check(a)?;
        if a.level() == 0 {
            return Err(Error::NotEnoughLevels {
                what: "inner product with weights",
                needed: 1,
                available: 0,
            });
        }
        let q = self.params.q(a.level())? as f64;
        let pt = encoder.encode_at(weights, a.level(), q)?;
        let p = self.rescale(&self.mul_plain(a, &pt)?)?;
        self.sum_slots(&p, count, gks)
    }
}
