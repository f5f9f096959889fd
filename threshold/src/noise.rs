//! Public noise bounds for CKKS ciphertexts under a collective key,
//! computed from the operations that produced them.
//!
//! The width of a decryption share's smudging noise is `2^λ` times a bound
//! on the ciphertext's noise, and every party computes it on its own: from
//! the parameters and the public history of the ciphertext, never from a
//! number another party sends or a guess. [`CkksNoise`] mirrors the
//! evaluator: start from [`CkksNoise::fresh`], apply the same operations as
//! the circuit (`add`, `mul_plain`, `mul_const`, `mul_relin`, `rescale`,
//! `rotate`), and pass [`CkksNoise::log2_bound`] to
//! [`Smudging::for_ckks`](crate::Smudging::for_ckks).
//!
//! **Model.** The tracked quantity is the variance `v` of one coefficient
//! of the phase noise `c_0 + c_1·s − m` (heuristic independence and central
//! limit, as in the CKKS literature); the bound is `8·√v`. Messages enter
//! through a bound `B` on the magnitude of their slot values: a message
//! polynomial at scale `Δ` then has `E[m_i²] ≤ Δ²·B²/N` (Parseval on the
//! canonical embedding), so a product's noise `m_1·e_2 + m_2·e_1 + e_1·e_2`
//! has variance at most `Δ_1²B_1²·v_2 + Δ_2²B_2²·v_1 + N·v_1·v_2`. Keys are
//! those of the `threshold` protocols for `n` parties: joint secret
//! `s = Σ s_i` (variance `2n/3`), Galois-key error `Σ e_i` (variance
//! `n·σ²`), relinearization-key error `s·e + (u − s)·e' + e''` of the
//! two-round protocol (variance `2n²·N·σ² + 2n·σ²`), with `σ² = 10.5`
//! (the centered binomial of `rlwe::sample`). Key switching over digits
//! `D_j` (`Params::digit_ranges`) adds `Σ_j N·D_j²/12·v_key / P²` plus
//! the rounding `(N·2n/3 + 1)/12` of the division by `P`; rescaling by `q`
//! divides by `q²` and adds the same rounding.
//!
//! [`BfvNoise`] does the same for BFV (invariant noise, modulus switching).
//!
//! `threshold/tests/noise_tracking.rs` checks both bounds against the noise
//! measured with the joint secret along circuits of every operation.

use std::sync::Arc;

use rlwe::params::Params;
use rlwe::sample;

use crate::{Error, Result};

/// A public bound on the noise of a CKKS ciphertext under a collective key
/// of `parties` secrets, tracked through the operations that produced it.
///
/// The tracked quantity is the variance of one coefficient of the phase
/// noise; the bound is 8 standard deviations. Messages enter through a
/// bound on their slot values; products, key switches (collective
/// relinearization and Galois keys of the `threshold` protocols) and
/// rescales follow the model written in `threshold/src/noise.rs`, checked
/// against measured noise in `threshold/tests/noise_tracking.rs`.
#[derive(Clone, Debug)]
pub struct CkksNoise {
    rlwe: Arc<Params>,
    parties: usize,
    level: usize,
    scale: f64,
    max_abs: f64,
    var: f64,
}

fn invalid(what: String) -> Error {
    ckks::Error::InvalidArgument { what }.into()
}

fn check_bound(what: &str, x: f64) -> Result<()> {
    if x.is_finite() && x >= 0.0 {
        Ok(())
    } else {
        Err(invalid(format!("{what} = {x} must be finite and ≥ 0")))
    }
}

impl CkksNoise {
    /// A fresh public-key encryption at the top level and scale of
    /// `params` of values with `|z| ≤ max_abs` in every slot.
    ///
    /// # Errors
    /// [`ckks::Error::InvalidArgument`] for a `max_abs` that is not finite
    /// and ≥ 0.
    pub fn fresh(params: &ckks::Parameters, parties: usize, max_abs: f64) -> Result<Self> {
        Self::fresh_at(params, parties, params.scale(), max_abs)
    }

    /// As [`Self::fresh`] for a plaintext encoded at `scale`.
    ///
    /// # Errors
    /// As [`Self::fresh`].
    pub fn fresh_at(
        params: &ckks::Parameters,
        parties: usize,
        scale: f64,
        max_abs: f64,
    ) -> Result<Self> {
        check_bound("max_abs", max_abs)?;
        let rlwe = params.rlwe().clone();
        Ok(Self {
            var: fresh_variance(&rlwe, parties),
            level: rlwe.max_level(),
            parties: parties.max(1),
            rlwe,
            scale,
            max_abs,
        })
    }

    fn n(&self) -> f64 {
        self.rlwe.degree() as f64
    }

    fn rounding(&self) -> f64 {
        rounding_variance(&self.rlwe, self.parties)
    }

    fn same_shape(&self, other: &Self, what: &str) -> Result<()> {
        if self.rlwe.fingerprint() != other.rlwe.fingerprint() || self.parties != other.parties {
            return Err(invalid(format!(
                "{what}: bounds of other parameters or parties"
            )));
        }
        if self.level != other.level
            || ((self.scale - other.scale) / self.scale.max(other.scale)).abs() > 1e-9
        {
            return Err(invalid(format!(
                "{what}: operands at level {} / {} and scale 2^{:.2} / 2^{:.2} (align them first, as the circuit does)",
                self.level,
                other.level,
                self.scale.log2(),
                other.scale.log2()
            )));
        }
        Ok(())
    }

    /// `a + b` or `a − b` (same level and scale).
    ///
    /// # Errors
    /// [`ckks::Error::InvalidArgument`] for bounds at different levels or
    /// scales, of other parameters or party counts.
    pub fn add(&self, other: &Self) -> Result<Self> {
        self.same_shape(other, "add")?;
        Ok(Self {
            var: self.var + other.var,
            max_abs: self.max_abs + other.max_abs,
            ..self.clone()
        })
    }

    /// Plus a plaintext with `|w| ≤ max_abs` in every slot, encoded at the
    /// ciphertext's scale (its rounding adds 1/12).
    ///
    /// # Errors
    /// As [`Self::fresh`] for `max_abs`.
    pub fn add_plain(&self, max_abs: f64) -> Result<Self> {
        check_bound("max_abs", max_abs)?;
        Ok(Self {
            var: self.var + 1.0 / 12.0,
            max_abs: self.max_abs + max_abs,
            ..self.clone()
        })
    }

    /// Times a plaintext encoded at `plain_scale` with `|w| ≤ max_abs` in
    /// every slot (before the rescale; `Evaluator::mul_plain`).
    ///
    /// # Errors
    /// As [`Self::fresh`] for `max_abs`; a `plain_scale` below 1.
    pub fn mul_plain(&self, plain_scale: f64, max_abs: f64) -> Result<Self> {
        check_bound("max_abs", max_abs)?;
        if !(plain_scale.is_finite() && plain_scale >= 1.0) {
            return Err(invalid(format!(
                "plaintext scale {plain_scale} must be ≥ 1"
            )));
        }
        let msg = self.scale * self.max_abs;
        let w = plain_scale * max_abs;
        Ok(Self {
            var: w * w * self.var + msg * msg / 12.0,
            scale: self.scale * plain_scale,
            max_abs: self.max_abs * max_abs,
            ..self.clone()
        })
    }

    /// Times a constant `c` encoded at scale `q_l` (`Evaluator::mul_const`,
    /// before the rescale).
    ///
    /// # Errors
    /// A `c` that is not finite; a level without a prime.
    pub fn mul_const(&self, c: f64) -> Result<Self> {
        if !c.is_finite() {
            return Err(invalid(format!("constant {c} must be finite")));
        }
        let q = self.q()?;
        let k = (c * q).round();
        let msg = self.scale * self.max_abs;
        Ok(Self {
            var: k * k * self.var + msg * msg / (4.0 * self.n()),
            scale: self.scale * q,
            max_abs: self.max_abs * c.abs(),
            ..self.clone()
        })
    }

    /// Product of two ciphertexts with relinearization by the collective
    /// key (`Evaluator::mul_relin`, before the rescale).
    ///
    /// # Errors
    /// As [`Self::add`].
    pub fn mul_relin(&self, other: &Self) -> Result<Self> {
        if self.rlwe.fingerprint() != other.rlwe.fingerprint() || self.level != other.level {
            return Err(invalid(
                "mul_relin: operands at different levels or parameters".into(),
            ));
        }
        let (m1, m2) = (self.scale * self.max_abs, other.scale * other.max_abs);
        let n = self.n();
        let key = relin_key_variance(n, self.parties);
        let var = m1 * m1 * other.var + m2 * m2 * self.var + n * self.var * other.var;
        Ok(Self {
            var: var + self.key_switch(key)?,
            scale: self.scale * other.scale,
            max_abs: self.max_abs * other.max_abs,
            ..self.clone()
        })
    }

    /// A rotation or conjugation by a collective Galois key.
    ///
    /// # Errors
    /// A level without key-switching digits (no special primes).
    pub fn rotate(&self) -> Result<Self> {
        Ok(Self {
            var: self.var + self.key_switch(galois_key_variance(self.parties))?,
            ..self.clone()
        })
    }

    /// Division by `q_l` (`Evaluator::rescale`): one level down.
    ///
    /// # Errors
    /// At level 0.
    pub fn rescale(&self) -> Result<Self> {
        if self.level == 0 {
            return Err(ckks::Error::NotEnoughLevels {
                what: "rescale",
                needed: 1,
                available: 0,
            }
            .into());
        }
        let q = self.q()?;
        Ok(Self {
            var: self.var / (q * q) + self.rounding(),
            scale: self.scale / q,
            level: self.level - 1,
            ..self.clone()
        })
    }

    /// log2 of the bound (8 standard deviations) on every coefficient of
    /// the phase noise: the `log2_noise` of
    /// [`Smudging::for_ckks`](crate::Smudging::for_ckks).
    pub fn log2_bound(&self) -> f64 {
        (8.0 * self.var.sqrt()).log2()
    }

    /// The level the tracked ciphertext is at.
    pub fn level(&self) -> usize {
        self.level
    }

    /// The tracked scale.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// The bound on the slot values carried along.
    pub fn max_abs(&self) -> f64 {
        self.max_abs
    }

    fn q(&self) -> Result<f64> {
        self.rlwe
            .q()
            .get(self.level)
            .map(|&q| q as f64)
            .ok_or_else(|| invalid(format!("no prime at level {}", self.level)))
    }

    fn key_switch(&self, key: f64) -> Result<f64> {
        key_switch_variance(&self.rlwe, self.level, self.parties, key)
    }
}

/// A public bound on the noise of a BFV ciphertext under a collective key
/// of `parties` secrets, tracked through the operations that produced it.
///
/// The tracked quantity is the invariant noise `w = [t·(c_0 + c_1·s)]_{Q_l}`
/// (decryption is correct while `|w| < Q_l/2`; SEAL's noise budget is
/// `log2(Q_l) − log2‖w‖∞ − 1`), as a variance (independent terms) plus a
/// deterministic part, the rounding `t·(round(Q_l·m/t) − Q_l·m/t)` of the
/// plaintext embedding (at most `t/2`), kept as a worst case. Under products the deterministic part counts as noise
/// of variance at most its square. Messages are taken as uniform modulo `t`
/// (what batched slots look like in coefficients), ciphertext coefficients
/// as uniform modulo `Q_l`; a product adds `m_1·w_2 + m_2·w_1 +
/// t·(w_1·k_2 + w_2·k_1) + t·(r_0 + r_1·s + r_2·s²)` with `k_i` the
/// multiple of `Q_l` in the phase (coefficient variance `(N·2n/3 + 1)/12`),
/// then the relinearization by the collective key. Keys and roundings are
/// modelled as for [`CkksNoise`].
#[derive(Clone, Debug)]
pub struct BfvNoise {
    rlwe: Arc<Params>,
    t: f64,
    parties: usize,
    level: usize,
    var: f64,
    det: f64,
}

impl BfvNoise {
    /// A fresh public-key encryption at the top level of `params`.
    pub fn fresh(params: &bfv::Parameters, parties: usize) -> Self {
        let rlwe = params.rlwe().clone();
        let t = params.plaintext_modulus() as f64;
        let level = rlwe.max_level();
        Self {
            var: t * t * fresh_variance(&rlwe, parties),
            // `Δ·m = round(Q·m/t)`: `t·Δ·m − Q·m` is at most `t/2`
            det: t / 2.0,
            t,
            level,
            parties: parties.max(1),
            rlwe,
        }
    }

    fn n(&self) -> f64 {
        self.rlwe.degree() as f64
    }

    fn check_pair(&self, other: &Self, what: &str) -> Result<()> {
        if self.rlwe.fingerprint() != other.rlwe.fingerprint()
            || self.t != other.t
            || self.parties != other.parties
            || self.level != other.level
        {
            return Err(invalid(format!(
                "{what}: bounds of other parameters, parties or levels ({} / {})",
                self.level, other.level
            )));
        }
        Ok(())
    }

    /// `a + b` or `a − b` (same level).
    ///
    /// # Errors
    /// [`ckks::Error::InvalidArgument`] for bounds of other parameters,
    /// party counts or levels.
    pub fn add(&self, other: &Self) -> Result<Self> {
        self.check_pair(other, "add")?;
        Ok(Self {
            var: self.var + other.var,
            det: self.det + other.det,
            ..self.clone()
        })
    }

    /// Times a plaintext of batched slots (coefficients uniform modulo t).
    pub fn mul_plain(&self) -> Self {
        let var_m = self.t * self.t / 12.0;
        Self {
            var: self.n() * var_m * (self.var + self.det * self.det),
            det: 0.0,
            ..self.clone()
        }
    }

    /// Times an integer constant `c` (taken modulo t, centered).
    pub fn mul_scalar(&self, c: i64) -> Self {
        let t = self.t as i128;
        let mut k = (c as i128).rem_euclid(t);
        if k > t / 2 {
            k -= t;
        }
        let k = k as f64;
        Self {
            var: k * k * self.var,
            det: k.abs() * self.det,
            ..self.clone()
        }
    }

    /// Product of two ciphertexts, relinearized by the collective key.
    ///
    /// # Errors
    /// As [`Self::add`].
    pub fn mul_relin(&self, other: &Self) -> Result<Self> {
        self.check_pair(other, "mul_relin")?;
        let (n, t) = (self.n(), self.t);
        let var_s = 2.0 * self.parties as f64 / 3.0;
        let var_k = (n * var_s + 1.0) / 12.0;
        let var_m = t * t / 12.0;
        let (w1, w2) = (
            self.var + self.det * self.det,
            other.var + other.det * other.det,
        );
        let rounding = t * t * (1.0 + n * var_s + n * n * var_s * var_s) / 12.0;
        let ks = key_switch_variance(
            &self.rlwe,
            self.level,
            self.parties,
            relin_key_variance(n, self.parties),
        )?;
        Ok(Self {
            var: n * var_m * (w1 + w2) + n * t * t * var_k * (w1 + w2) + rounding + t * t * ks,
            det: 0.0,
            ..self.clone()
        })
    }

    /// A row or column rotation by a collective Galois key.
    ///
    /// # Errors
    /// Without special primes (not modelled).
    pub fn rotate(&self) -> Result<Self> {
        let ks = key_switch_variance(
            &self.rlwe,
            self.level,
            self.parties,
            galois_key_variance(self.parties),
        )?;
        Ok(Self {
            var: self.var + self.t * self.t * ks,
            ..self.clone()
        })
    }

    /// Modulus switching to the next level (`Evaluator::mod_switch_to_next`).
    ///
    /// # Errors
    /// At level 0.
    pub fn mod_switch(&self) -> Result<Self> {
        if self.level == 0 {
            return Err(invalid("modulus switching below level 0".into()));
        }
        let q = self.rlwe.q()[self.level] as f64;
        Ok(Self {
            var: self.var / (q * q) + self.t * self.t * rounding_variance(&self.rlwe, self.parties),
            det: self.det / q,
            level: self.level - 1,
            ..self.clone()
        })
    }

    /// log2 of the bound on the invariant noise `‖w‖∞` (8 standard
    /// deviations plus the deterministic part).
    pub fn log2_invariant_bound(&self) -> f64 {
        (8.0 * self.var.sqrt() + self.det).log2()
    }

    /// log2 of the bound on the phase noise, `‖w‖∞ / t`: the `log2_noise`
    /// of [`Smudging::for_bfv`](crate::Smudging::for_bfv).
    pub fn log2_bound(&self) -> f64 {
        self.log2_invariant_bound() - self.t.log2()
    }

    /// The noise budget this bound leaves, in SEAL's convention:
    /// `log2(Q_l) − log2‖w‖∞ − 1` (at most; decryption fails at 0).
    pub fn budget_bits(&self) -> f64 {
        let log_q: f64 = self.rlwe.q()[..=self.level]
            .iter()
            .map(|&q| (q as f64).log2())
            .sum();
        (log_q - self.log2_invariant_bound() - 1.0).max(0.0)
    }

    /// The level the tracked ciphertext is at.
    pub fn level(&self) -> usize {
        self.level
    }
}

/// Phase-noise variance a key switch at `level` adds with a key of error
/// variance `key`: the digits `D_j` ([`Params::digit_ranges`]) up to the
/// level, `Σ_j N·D_j²/12·key /
/// P²`, plus the rounding of the division by `P`.
fn key_switch_variance(rlwe: &Params, level: usize, parties: usize, key: f64) -> Result<f64> {
    let p = rlwe.p();
    if p.is_empty() {
        return Err(invalid(
            "key switching without special primes is not modelled".into(),
        ));
    }
    let log_p: f64 = p.iter().map(|&x| (x as f64).log2()).sum();
    let n = rlwe.degree() as f64;
    let q = rlwe
        .q()
        .get(..=level)
        .ok_or_else(|| invalid(format!("no level {level}")))?;
    let digits: f64 = rlwe
        .digit_ranges()
        .iter()
        .filter(|r| r.start < q.len())
        .map(|r| {
            let d = &q[r.start..r.end.min(q.len())];
            let log_d: f64 = d.iter().map(|&x| (x as f64).log2()).sum();
            (2.0 * (log_d - log_p)).exp2() * n / 12.0 * key
        })
        .sum();
    Ok(digits + rounding_variance(rlwe, parties))
}

/// Variance of `r_0 + r_1·s` with `r_i` uniform in `[−½, ½]` (the rounding
/// of a division) under the joint secret of `parties`.
fn rounding_variance(rlwe: &Params, parties: usize) -> f64 {
    (rlwe.degree() as f64 * 2.0 * parties.max(1) as f64 / 3.0 + 1.0) / 12.0
}

/// Error variance of the collective relinearization key of the two-round
/// protocol: `s·e + (u − s)·e' + e''` (see the module docs).
fn relin_key_variance(n: f64, parties: usize) -> f64 {
    let p = parties.max(1) as f64;
    let var_e = sample::CBD_ETA as f64 / 2.0;
    2.0 * p * p * n * var_e + 2.0 * p * var_e
}

/// Error variance of a collective Galois key: the sum of the parties'
/// errors.
fn galois_key_variance(parties: usize) -> f64 {
    parties.max(1) as f64 * sample::CBD_ETA as f64 / 2.0
}

/// Variance of one phase-noise coefficient of a fresh public-key
/// encryption under the collective key of `parties` secrets (see
/// [`ckks_fresh_noise_bound`](crate::ckks_fresh_noise_bound)).
pub(crate) fn fresh_variance(params: &Params, parties: usize) -> f64 {
    let n = params.degree() as f64;
    let parties = parties.max(1) as f64;
    let var_s = 2.0 * parties / 3.0;
    let var_e = sample::CBD_ETA as f64 / 2.0;
    let raw = n * (2.0 / 3.0) * parties * var_e + var_e + n * var_e * var_s;
    let log_p: f64 = params.p().iter().map(|&p| (p as f64).log2()).sum();
    if params.p().is_empty() {
        raw + 1.0 / 12.0
    } else {
        raw / (2.0 * log_p).exp2() + (n * var_s + 1.0) / 12.0 + 1.0 / 12.0
    }
}
