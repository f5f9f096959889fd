//! Homomorphic evaluation: additions, plaintext operations, full-RNS
//! multiplication (HPS), relinearization, rotations, slot sums and modulus
//! switching. Every operation checks parameters, level and encoding.

use std::sync::Arc;

use rlwe::poly::{Poly, Representation};

use crate::ciphertext::Ciphertext;
use crate::encoder::Plaintext;
use crate::keys::{rotation_element, scaled_plaintext, GaloisKeys, RelinKey};
use crate::params::Parameters;
use crate::{Error, Result};

/// A plaintext in NTT form at one level, ready for multiplication.
#[derive(Clone, Debug)]
pub struct PreparedPlaintext {
    poly: Poly,
    encoding: crate::Encoding,
    level: usize,
}

impl PreparedPlaintext {
    /// The level it was prepared for.
    pub fn level(&self) -> usize {
        self.level
    }
}

/// Evaluates on ciphertexts; holds no secret.
#[derive(Clone, Debug)]
pub struct Evaluator {
    params: Arc<Parameters>,
}

impl Evaluator {
    /// An evaluator for `params`.
    pub fn new(params: &Arc<Parameters>) -> Self {
        Self {
            params: params.clone(),
        }
    }

    fn check(&self, ct: &Ciphertext) -> Result<()> {
        self.params
            .check_same(ct.params(), "ciphertext and evaluator")
    }

    fn check_pair(&self, a: &Ciphertext, b: &Ciphertext) -> Result<()> {
        self.check(a)?;
        self.check(b)?;
        a.rlwe().check_compatible(b.rlwe())?;
        if a.encoding() != b.encoding() {
            return Err(Error::EncodingMismatch {
                what: "operands use different encodings",
            });
        }
        Ok(())
    }

    fn check_plain(&self, ct: &Ciphertext, pt: &Plaintext) -> Result<()> {
        self.check(ct)?;
        self.params
            .check_same(pt.params(), "plaintext and evaluator")?;
        if ct.encoding() != pt.encoding() {
            return Err(Error::EncodingMismatch {
                what: "ciphertext and plaintext use different encodings",
            });
        }
        Ok(())
    }

    /// `a + b`.
    pub fn add(&self, a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext> {
        self.check_pair(a, b)?;
        Ciphertext::wrap(&self.params, a.rlwe().add(b.rlwe())?, a.encoding())
    }

    /// `a += b`.
    pub fn add_assign(&self, a: &mut Ciphertext, b: &Ciphertext) -> Result<()> {
        self.check_pair(a, b)?;
        a.rlwe_mut().add_assign(b.rlwe())?;
        Ok(())
    }

    /// `a − b`.
    pub fn sub(&self, a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext> {
        self.check_pair(a, b)?;
        Ciphertext::wrap(&self.params, a.rlwe().sub(b.rlwe())?, a.encoding())
    }

    /// `a −= b`.
    pub fn sub_assign(&self, a: &mut Ciphertext, b: &Ciphertext) -> Result<()> {
        self.check_pair(a, b)?;
        a.rlwe_mut().sub_assign(b.rlwe())?;
        Ok(())
    }

    /// `−a`.
    pub fn neg(&self, a: &Ciphertext) -> Result<Ciphertext> {
        self.check(a)?;
        let mut out = a.clone();
        out.rlwe_mut().neg_assign();
        Ok(out)
    }

    /// `ct + pt`.
    pub fn add_plain(&self, ct: &Ciphertext, pt: &Plaintext) -> Result<Ciphertext> {
        let mut out = ct.clone();
        self.add_plain_assign(&mut out, pt)?;
        Ok(out)
    }

    /// `ct += pt`.
    pub fn add_plain_assign(&self, ct: &mut Ciphertext, pt: &Plaintext) -> Result<()> {
        self.check_plain(ct, pt)?;
        let mut m = scaled_plaintext(pt, ct.level())?;
        m.to_ntt();
        ct.rlwe_mut().add_plain_assign(&m)?;
        Ok(())
    }

    /// `ct − pt`.
    pub fn sub_plain(&self, ct: &Ciphertext, pt: &Plaintext) -> Result<Ciphertext> {
        self.check_plain(ct, pt)?;
        let mut m = scaled_plaintext(pt, ct.level())?;
        m.to_ntt();
        let mut out = ct.clone();
        out.rlwe_mut().sub_plain_assign(&m)?;
        Ok(out)
    }

    /// The plaintext lifted to `Q_l` with centered coefficients, in NTT form
    /// (what plaintext multiplication multiplies by).
    fn lift(&self, pt: &Plaintext, level: usize) -> Result<Poly> {
        let ring = self.params.rlwe().ring_q(level)?;
        let mut m = Poly::from_i64(ring, &pt.centered())?;
        m.to_ntt();
        Ok(m)
    }

    /// `ct · pt` (each part written once from `ct` and the lifted `pt`).
    pub fn mul_plain(&self, ct: &Ciphertext, pt: &Plaintext) -> Result<Ciphertext> {
        self.check_plain(ct, pt)?;
        let m = self.lift(pt, ct.level())?;
        Ciphertext::wrap(&self.params, ct.rlwe().mul_plain(&m)?, ct.encoding())
    }

    /// `ct *= pt`.
    pub fn mul_plain_assign(&self, ct: &mut Ciphertext, pt: &Plaintext) -> Result<()> {
        self.check_plain(ct, pt)?;
        let m = self.lift(pt, ct.level())?;
        ct.rlwe_mut().mul_plain_assign(&m)?;
        Ok(())
    }

    /// A plaintext lifted to `Q_level` in NTT form, for repeated
    /// multiplications (SEAL's `transform_to_ntt`): [`Self::mul_prepared`]
    /// then costs one pointwise product per part.
    pub fn prepare_mul(&self, pt: &Plaintext, level: usize) -> Result<PreparedPlaintext> {
        self.params
            .check_same(pt.params(), "plaintext and evaluator")?;
        Ok(PreparedPlaintext {
            poly: self.lift(pt, level)?,
            encoding: pt.encoding(),
            level,
        })
    }

    fn check_prepared(&self, ct: &Ciphertext, pt: &PreparedPlaintext) -> Result<()> {
        self.check(ct)?;
        if ct.encoding() != pt.encoding {
            return Err(Error::EncodingMismatch {
                what: "ciphertext and plaintext use different encodings",
            });
        }
        if ct.level() != pt.level {
            return Err(Error::Rlwe(rlwe::Error::InvalidLevel {
                what: "prepared plaintext at another level",
                got: pt.level,
                max: ct.level(),
            }));
        }
        Ok(())
    }

    /// `ct · pt` for a prepared plaintext at the ciphertext's level: one
    /// pointwise product per part, written straight into the result (no
    /// copy of `ct` first).
    pub fn mul_prepared(&self, ct: &Ciphertext, pt: &PreparedPlaintext) -> Result<Ciphertext> {
        self.check_prepared(ct, pt)?;
        Ciphertext::wrap(&self.params, ct.rlwe().mul_plain(&pt.poly)?, ct.encoding())
    }

    /// `ct *= pt` for a prepared plaintext at the ciphertext's level, in
    /// place (SEAL's `multiply_plain_inplace` on NTT-form operands).
    pub fn mul_prepared_assign(&self, ct: &mut Ciphertext, pt: &PreparedPlaintext) -> Result<()> {
        self.check_prepared(ct, pt)?;
        ct.rlwe_mut().mul_plain_assign(&pt.poly)?;
        Ok(())
    }

    /// `ct · c` for an integer constant (reduced modulo t, centered).
    pub fn mul_scalar(&self, ct: &Ciphertext, c: i64) -> Result<Ciphertext> {
        self.check(ct)?;
        let t = self.params.t();
        let c = t.center(t.reduce_i64(c));
        let mut out = ct.clone();
        out.rlwe_mut().mul_scalar_assign(c.unsigned_abs());
        if c < 0 {
            out.rlwe_mut().neg_assign();
        }
        Ok(out)
    }

    /// `a · b` without relinearization (3 parts), in full RNS (HPS): both
    /// operands are extended exactly to `Q_l ∪ R`, multiplied in NTT form,
    /// scaled by `t/Q_l` with rounding into `R`, and extended back to `Q_l`.
    pub fn mul(&self, a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext> {
        self.check_pair(a, b)?;
        if a.len() != 2 || b.len() != 2 {
            return Err(Error::Malformed {
                what: "BFV ciphertext",
                reason: "multiplication takes 2-part ciphertexts (relinearize first)".into(),
            });
        }
        let level = a.level();
        let tables = self.params.level(level)?;
        let ring_q = self.params.rlwe().ring_q(level)?;
        let n = self.params.degree();
        let lq = level + 1;
        let lr = tables.q_to_r.to_moduli().len();
        // Q limbs: the NTT form the ciphertext already has; R limbs: the
        // exact (centered) extension of the coefficients, transformed.
        let plans_r = &tables.ring_qr.plans()[lq..];
        let lift = |p: &Poly| -> Result<Poly> {
            let mut c = p.clone();
            c.to_coeff();
            // every word is written below (extension, then the Q limbs)
            let mut data = rlwe::poly::scratch((lq + lr) * n);
            tables.q_to_r.extend(c.data(), n, &mut data[lq * n..], true);
            for (limb, plan) in data[lq * n..].chunks_mut(n).zip(plans_r) {
                plan.forward(limb);
            }
            if p.representation() == Representation::Ntt {
                data[..lq * n].copy_from_slice(p.data());
            } else {
                let mut pn = p.clone();
                pn.to_ntt();
                data[..lq * n].copy_from_slice(pn.data());
            }
            Ok(Poly::from_limbs(
                &tables.ring_qr,
                Representation::Ntt,
                data,
            )?)
        };
        let (a0, a1) = (lift(&a.rlwe().parts()[0])?, lift(&a.rlwe().parts()[1])?);
        let (b0, b1) = if std::ptr::eq(a, b) {
            (a0.clone(), a1.clone())
        } else {
            (lift(&b.rlwe().parts()[0])?, lift(&b.rlwe().parts()[1])?)
        };
        let c0 = Poly::mul(&a0, &b0)?;
        let mut c1 = Poly::mul(&a0, &b1)?;
        c1.mul_acc(&a1, &b0)?;
        let c2 = Poly::mul(&a1, &b1)?;
        let scale_down = |mut c: Poly| -> Result<Poly> {
            c.to_coeff();
            let mut in_r = rlwe::poly::scratch(lr * n);
            tables.mul_scaler.scale(c.data(), n, &mut in_r);
            let mut in_q = rlwe::poly::scratch(lq * n);
            tables.r_to_q.extend(&in_r, n, &mut in_q, true);
            rlwe::poly::recycle(in_r);
            let mut out = Poly::from_limbs(ring_q, Representation::Coefficient, in_q)?;
            out.to_ntt();
            Ok(out)
        };
        let parts = vec![scale_down(c0)?, scale_down(c1)?, scale_down(c2)?];
        Ciphertext::wrap(
            &self.params,
            rlwe::ciphertext::Ciphertext::new(self.params.rlwe(), parts)?,
            a.encoding(),
        )
    }

    /// Relinearizes a 3-part ciphertext to 2 parts.
    pub fn relinearize(&self, ct: &Ciphertext, rlk: &RelinKey) -> Result<Ciphertext> {
        self.check(ct)?;
        self.params
            .check_same(rlk.params(), "relinearization key")?;
        Ciphertext::wrap(
            &self.params,
            ct.rlwe().relinearize(rlk.rlwe())?,
            ct.encoding(),
        )
    }

    /// In-place relinearization.
    pub fn relinearize_assign(&self, ct: &mut Ciphertext, rlk: &RelinKey) -> Result<()> {
        *ct = self.relinearize(ct, rlk)?;
        Ok(())
    }

    /// `a · b`, relinearized.
    pub fn mul_relin(&self, a: &Ciphertext, b: &Ciphertext, rlk: &RelinKey) -> Result<Ciphertext> {
        self.relinearize(&self.mul(a, b)?, rlk)
    }

    /// In-place `a = a · b`, relinearized.
    pub fn mul_relin_assign(
        &self,
        a: &mut Ciphertext,
        b: &Ciphertext,
        rlk: &RelinKey,
    ) -> Result<()> {
        *a = self.mul_relin(a, b, rlk)?;
        Ok(())
    }

    /// Rotates both rows left by `step` (right for negative steps).
    pub fn rotate_rows(&self, ct: &Ciphertext, step: i64, gk: &GaloisKeys) -> Result<Ciphertext> {
        self.check(ct)?;
        self.params.check_same(gk.params(), "Galois keys")?;
        if step == 0 {
            return Ok(ct.clone());
        }
        let g = rotation_element(step, self.params.degree())?;
        Ciphertext::wrap(
            &self.params,
            ct.rlwe().apply_galois(gk.rlwe().get(g)?)?,
            ct.encoding(),
        )
    }

    /// Swaps the two rows (rotates the columns).
    pub fn rotate_columns(&self, ct: &Ciphertext, gk: &GaloisKeys) -> Result<Ciphertext> {
        self.check(ct)?;
        self.params.check_same(gk.params(), "Galois keys")?;
        let g = rlwe::keys::galois_element_conjugate(self.params.degree());
        Ciphertext::wrap(
            &self.params,
            ct.rlwe().apply_galois(gk.rlwe().get(g)?)?,
            ct.encoding(),
        )
    }

    /// Every slot receives the sum of all N slots (keys from
    /// [`GaloisKeys::for_slot_sum`]).
    pub fn sum_slots(&self, ct: &Ciphertext, gk: &GaloisKeys) -> Result<Ciphertext> {
        let half = self.params.degree() / 2;
        let mut acc = ct.clone();
        let mut step = 1usize;
        while step < half {
            let r = self.rotate_rows(&acc, step as i64, gk)?;
            self.add_assign(&mut acc, &r)?;
            step <<= 1;
        }
        let r = self.rotate_columns(&acc, gk)?;
        self.add_assign(&mut acc, &r)?;
        Ok(acc)
    }

    /// Switches to the next level down (divides by the last prime with
    /// rounding): smaller ciphertexts and faster decryption, same plaintext.
    pub fn mod_switch_to_next(&self, ct: &Ciphertext) -> Result<Ciphertext> {
        self.check(ct)?;
        Ciphertext::wrap(&self.params, ct.rlwe().rescale()?, ct.encoding())
    }

    /// Switches down to `level`.
    pub fn mod_switch_to(&self, ct: &Ciphertext, level: usize) -> Result<Ciphertext> {
        self.check(ct)?;
        if level > ct.level() {
            return Err(Error::Rlwe(rlwe::Error::InvalidLevel {
                what: "cannot switch a ciphertext up",
                got: level,
                max: ct.level(),
            }));
        }
        let mut out = ct.clone();
        while out.level() > level {
            out = self.mod_switch_to_next(&out)?;
        }
        Ok(out)
    }
}
