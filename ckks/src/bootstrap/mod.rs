//! Bootstrapping: a ciphertext that has used up its levels becomes one
//! with levels to spare, encrypting the same slots (Cheon, Han, Kim, Kim,
//! Song, EUROCRYPT 2018; Chen, Chillotti, Song, EUROCRYPT 2019), for full
//! (`N/2`) and sparse packing.
//!
//! For `n` message slots (a sparse slot vector is tiled with period `n`,
//! so the plaintext lies in the subring `Z[X^M]`, `M = N/(2n)`):
//!
//! 1. **ModRaise with sparse-secret encapsulation** (Bossuat,
//!    Troncoso-Pastoriza, Hubaux, eprint 2022/024): the level-0 ciphertext
//!    is switched from the user's dense key `s` to an ephemeral sparse key
//!    `s'` of Hamming weight `h` (the key for that switch lives over
//!    `q_0 ∪ P` only, so `s'` is never exposed at a large modulus), read
//!    modulo `Q_L`, where it decrypts to `t = Δ·μ + q_0·I` with `I` small
//!    (`|I| ≤ K = ½ + 8·√(h/12)`, exceeded with probability below 2^-50
//!    per coefficient), and switched back to `s` (a key that encrypts `s'`
//!    under `s`). The rest of the circuit runs under `s` with the usual
//!    keys.
//! 2. **SubSum** (sparse packing only): `log2 M` rotations by `n, 2n, …`
//!    project onto the subring (and multiply it by `M`).
//! 3. **CoeffsToSlots**: the inverse special FFT of size `n`, factored into
//!    `log2 n` butterfly stages grouped into a level budget of sparse BSGS
//!    transforms (see the `dft` module), leaves `v = R·w/2` in the slots
//!    (`w_i = (t_i + i·t_{i+n})/q_0` over the subring, `R` the bit
//!    reversal, never applied); `v + conj(v)` and `x + conj(x)` with
//!    `x = −i·v` (an exact monomial product) are the real and imaginary
//!    parts `u = t/q_0 = Δ·μ/q_0 + I`, in two ciphertexts (divided by
//!    `K + 1`, the interpolation interval, so that EvalMod needs no change
//!    of variable).
//! 4. **EvalMod**: `sin(2π·u)`, as a Chebyshev interpolant of
//!    `cos(2π(u − ¼)/2^r)` on `[−K−1, K+1]` followed by `r` double angles
//!    `c ← 2c² − 1`; `sin(2π·u) ≈ 2π·Δ·μ/q_0` because `Δ·μ/q_0` is small;
//!    then `arcsin(x) ≈ x + x³/6` removes the sine's curvature.
//! 5. **SlotsToCoeffs**: the two halves recombined (`a + i·b`) — with
//!    sparse packing projected onto the `n`-periodic slot vectors (SubSum
//!    again, `log2 M` rotations: EvalMod's noise is in every slot, the
//!    message only in the periodic part, and a second iteration could
//!    not correct the rest) — then the forward stages (scaled by `q_0/(2π·Δ)`, level budget of their own)
//!    give back the slots at exactly the input scale.
//! 6. **Optionally, a second iteration** (meta-bootstrapping, Bae, Cheon,
//!    Cho, Kim, Kim, CCS 2022; [`BootstrapConfig::iterations`]): the
//!    difference between the input and the result, scaled up by `2^b`, is
//!    bootstrapped and scaled back, which removes the first iteration's
//!    error up to the second's divided by `2^b` (see
//!    [`Bootstrapper::bootstrap`]): twice the time, no level.
//!
//! The precision is limited by the noise EvalMod amplifies (the Chebyshev
//! recursion, `4^r` in the double angles) and then `q_0/(2πΔ)`, and by the
//! sine's curvature (relative `(2π·Δ|μ|/q_0)²/6`). CoeffsToSlots starts at
//! the top prime, which should be at least `q_0`; EvalMod runs at the size
//! of the prime below the CoeffsToSlots levels.
//!
//! **Security of the ephemeral secret.** `s'` appears in two places: the
//! key switching from `s` to `s'`, RLWE samples under `s'` at the modulus
//! `q_0·P` only, and the key back, an encryption of `s'` under the dense
//! `s` (nothing beyond RLWE under `s`, covered by the parameter check of
//! the whole chain). For [`BootstrapPreset::N65536`] the first is
//! ring-LWE in dimension 2^16 with modulus `q_0·P` of 348 bits, error
//! σ ≈ 3.2 and a secret of Hamming weight 32. The argument, following
//! Bossuat, Troncoso-Pastoriza and Hubaux (eprint 2022/024, §5): (i) for a
//! uniform ternary secret, 128-bit security at N = 2^16 allows 1747 bits
//! (the table this crate enforces); 348 bits is five times below, so the
//! lattice part of any attack has a very large margin; (ii) what a sparse
//! secret adds are hybrid and combinatorial attacks that guess its zero
//! positions — guessing all 32 positions and signs alone is
//! `C(65536, 32)·2^32 ≈ 2^426` — and Lattigo's default N = 2^16
//! bootstrapping parameters (`N16QP1767H32768H32`: dense key, ephemeral
//! weight 32, as in eprint 2022/024) use the same weight at this ring
//! degree. The lattice estimator itself was not run here (it needs Sage):
//! run it before relying on another parameter set;
//! the small presets and the tests use `SecurityLevel::None`.

mod config;
mod keys;

pub use config::{BootstrapConfig, BootstrapPreset, ChainBits};
pub use keys::BootstrapKeys;

use crate::complex::Complex;
use crate::encoder::Encoder;
use crate::evaluator::Evaluator;
use crate::keys::{GaloisKeys, RelinKey, SecretKey};
use crate::linear::LinearTransform;
use crate::params::Parameters;
use crate::polynomial::Polynomial;
use crate::{Ciphertext, Error, Result};

use crate::dft::{self, Diagonals};

/// Precomputed transforms and polynomial for bootstrapping ciphertexts of
/// one parameter set.
#[derive(Clone, Debug)]
pub struct Bootstrapper {
    params: Parameters,
    config: BootstrapConfig,
    /// The grouped inverse FFT stages, from the top level down: slots →
    /// `R·w/2` (the `1/M` of SubSum folded in).
    c2s: Vec<LinearTransform>,
    cosine: Polynomial,
    /// The grouped forward stages scaled by `q_0/(2πΔ)`, the first encoded
    /// for inputs at `eval_scale` and an output at exactly `input_scale`.
    s2c: Vec<LinearTransform>,
    /// The first SlotsToCoeffs matrix, to re-encode for other scales.
    s2c_first: Diagonals,
    /// With two iterations: the first SlotsToCoeffs group encoded for the
    /// second iteration's input (scale `2^b·Δ`), made once here rather than
    /// on every call (it is as large as the other groups).
    s2c_refine: Option<LinearTransform>,
    /// The scale EvalMod's output has for an input at exactly the
    /// configured scale (times `M` with sparse packing: the projection).
    eval_scale: f64,
    /// `2^k ≤ Δ_b/q_0`: the raised ciphertext is multiplied by it before
    /// the key switches of ModRaise, SubSum and CoeffsToSlots, whose noise
    /// would otherwise be measured against `q_0` alone (at `q_0` = 2^50 and
    /// N = 2^16 that costs 5 bits of the result).
    lift: u64,
}

impl Bootstrapper {
    /// Builds the transforms for `params` (the top level `L` hosts
    /// CoeffsToSlots; the output is at [`Self::output_level`]).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a slot count that is not a power of
    /// two in `1..=N/4`, a non-positive bound, degree or scale;
    /// [`Error::NotEnoughLevels`] when the chain is too short for the
    /// circuit.
    pub fn new(params: &Parameters, config: BootstrapConfig) -> Result<Self> {
        let n = config.slots;
        let big_n = params.degree();
        if !n.is_power_of_two() || n > big_n / 2 {
            return Err(Error::InvalidArgument {
                what: format!("{n} slots: a power of two up to N/2 = {}", big_n / 2),
            });
        }
        if config.hamming_weight == 0
            || config.hamming_weight > big_n
            || config.degree == 0
            || config.coeffs_to_slots_levels == 0
            || config.slots_to_coeffs_levels == 0
            || !(config.input_scale.is_finite() && config.input_scale > 1.0)
        {
            return Err(Error::InvalidArgument {
                what: "bootstrapping bound, degree, level budgets and scale must be positive"
                    .into(),
            });
        }
        if !(1..=2).contains(&config.iterations) || !(1..=40).contains(&config.first_error_bits) {
            return Err(Error::InvalidArgument {
                what: format!(
                    "{} bootstrapping iterations with a first error of 2^-{}: 1 or 2 iterations, 1 to 40 bits",
                    config.iterations, config.first_error_bits
                ),
            });
        }
        let encoder = Encoder::new(params);
        let top = params.max_level();
        let q0 = params.q(0)? as f64;
        let delta = config.input_scale;
        let m = big_n / (2 * n);
        let r = config.double_angles;
        let cosine = config.cosine()?;
        let (c2s_levels, s2c_levels) =
            (config.coeffs_to_slots_levels, config.slots_to_coeffs_levels);
        let needed = config.depth()?;
        let output = top.checked_sub(needed).ok_or(Error::NotEnoughLevels {
            what: "bootstrapping (CoeffsToSlots, EvalMod, SlotsToCoeffs)",
            needed,
            available: top,
        })?;
        if config.iterations == 2 && output == 0 {
            return Err(Error::NotEnoughLevels {
                what: "two bootstrapping iterations (the circuit, and a level above the output \
                       to bring the first result to the input's scale)",
                needed: needed + 1,
                available: top,
            });
        }
        // The raised ciphertext is read at scale q_0, so after SubSum (which
        // multiplies by M) its slots are M·z(t/q_0). CoeffsToSlots divides
        // by 2M and comes down from q_0 to Δ_b, the prime EvalMod starts
        // at: the first group's diagonals are encoded at Δ_b·q_L/q_0, the
        // others at their level's prime (the scale stays).
        let eval_level = top - c2s_levels;
        let boot_scale = params.q(eval_level)? as f64;
        // (and keeping the first diagonals at a scale of 2^58 or more: the
        // transform's relative error multiplies |u| ≤ K + 1, not Δμ/q_0)
        let headroom = (boot_scale * params.q(top)? as f64 / q0).log2() - 58.0;
        let lift_bits = (boot_scale / q0)
            .log2()
            .min(headroom)
            .floor()
            .clamp(0.0, 30.0);
        let lift = 1u64 << lift_bits as u32;
        let c2s_mats = dft::coeffs_to_slots(
            n,
            c2s_levels,
            Complex::real(0.5 / (m as f64 * config.interval())),
        );
        let mut c2s = Vec::with_capacity(c2s_mats.len());
        for (i, mat) in c2s_mats.iter().enumerate() {
            let level = top - i;
            let scale = if i == 0 {
                boot_scale * params.q(top)? as f64 / (q0 * lift as f64)
            } else {
                params.q(level)? as f64
            };
            c2s.push(LinearTransform::from_diagonals(
                &encoder, n, mat, level, scale,
            )?);
        }
        // The scale EvalMod ends at: the polynomial keeps Δ_b, each double
        // angle squares and divides by the prime of its level.
        let mut eval_scale = boot_scale;
        let mut level = eval_level - cosine.depth();
        for _ in 0..r {
            eval_scale = eval_scale * eval_scale / params.q(level)? as f64;
            level -= 1;
        }
        if config.arcsine {
            // x·(1 + x²/6): x² relabelled at 6× its scale, times x
            let square = eval_scale * eval_scale / params.q(level)? as f64;
            eval_scale = 6.0 * square * eval_scale / params.q(level - 1)? as f64;
        }
        // sparse packing: EvalMod's output is projected onto the periodic
        // slots, M times its value read at an M times larger scale
        eval_scale *= m as f64;
        // SlotsToCoeffs: z = β·FFT(a + i·b), β = q_0/(2π·Δ), back to Δ.
        let beta = q0 / (2.0 * std::f64::consts::PI * delta);
        let s2c_mats = dft::slots_to_coeffs(n, s2c_levels, Complex::real(beta));
        let after_mod = output + s2c_levels;
        // The scale comes down from EvalMod's (the size of its primes) to Δ
        // by the same factor at every level, so that no level's diagonals
        // are encoded at a small scale (2^40 after 2^60 at one level would
        // leave the diagonals 2^22: 22 bits).
        let step = (delta / eval_scale).powf(1.0 / s2c_mats.len() as f64);
        let mut s2c = Vec::with_capacity(s2c_mats.len());
        for (i, mat) in s2c_mats.iter().enumerate() {
            let level = after_mod - i;
            let scale = params.q(level)? as f64 * step;
            s2c.push(LinearTransform::from_diagonals(
                &encoder, n, mat, level, scale,
            )?);
        }
        let mut boot = Self {
            params: params.clone(),
            config,
            c2s,
            cosine,
            s2c,
            s2c_first: s2c_mats.into_iter().next().unwrap_or_default(),
            s2c_refine: None,
            eval_scale,
            lift,
        };
        if boot.config.iterations >= 2 {
            let ratio = 2f64.powi(boot.config.first_error_bits as i32);
            boot.s2c_refine = Some(boot.first_s2c_for(&encoder, ratio, boot.eval_scale)?);
        }
        Ok(boot)
    }

    /// The first SlotsToCoeffs group for an input at `ratio·Δ` whose
    /// EvalMod output is at `s_in` (the output stays at exactly Δ).
    fn first_s2c_for(&self, encoder: &Encoder, ratio: f64, s_in: f64) -> Result<LinearTransform> {
        let t = &self.s2c[0];
        let mut mat = self.s2c_first.clone();
        for v in mat.values_mut() {
            for c in v.iter_mut() {
                *c = c.scale(1.0 / ratio);
            }
        }
        LinearTransform::from_diagonals(
            encoder,
            self.config.slots,
            &mat,
            t.level(),
            t.scale() * self.eval_scale / s_in,
        )
    }

    /// The bound `K` on the ModRaise overflow the EvalMod interval covers.
    pub fn k_bound(&self) -> f64 {
        config::k_bound(self.config.hamming_weight)
    }

    /// Generates every key bootstrapping needs for `sk` (see
    /// [`BootstrapKeys`]); the ephemeral sparse secret is sampled here and
    /// exists afterwards only inside the two key-switching keys.
    ///
    /// # Errors
    /// Parameter mismatches; errors of key generation.
    pub fn generate_keys<R: rand::RngCore + rand::CryptoRng>(
        &self,
        sk: &SecretKey,
        rng: &mut R,
    ) -> Result<BootstrapKeys> {
        self.params
            .check_same(sk.params(), "secret key and bootstrapper")?;
        BootstrapKeys::generate(sk, &self.config, rng)
    }

    /// The level of a bootstrapped ciphertext.
    pub fn output_level(&self) -> usize {
        self.s2c.last().map_or(0, |t| t.level() - 1)
    }

    /// The configuration.
    pub fn config(&self) -> &BootstrapConfig {
        &self.config
    }

    /// The rotation steps the Galois keys need (conjugation as well).
    pub fn rotation_steps(&self) -> Vec<i64> {
        let n = self.config.slots;
        let mut v: Vec<i64> = Vec::new();
        let mut step = n;
        while step < self.params.slots() {
            v.push(step as i64);
            step <<= 1;
        }
        for t in self.c2s.iter().chain(&self.s2c) {
            v.extend(t.rotation_steps());
        }
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Bootstraps `ct` (any level; it is read at level 0) with the
    /// relinearization key and Galois keys for [`Self::rotation_steps`] and
    /// conjugation.
    ///
    /// **Input range.** The precision figures are for slot values
    /// `|μ| ≤ 1`. Beyond, the sine's curvature left after the arcsine
    /// correction grows like `(2π·Δ|μ|/q_0)^4` (2^-22.7 at `|μ| = 4` with
    /// `q_0/Δ = 2^10`, `tests/bootstrap.rs`), and values past
    /// `q_0/(4Δ)` (64 for [`BootstrapPreset::N65536`]) come back wrong
    /// with no error: the sine cannot be inverted there, and nothing in a
    /// ciphertext tells. Scale inputs into `[−1, 1]` before bootstrapping.
    ///
    /// **Two iterations** ([`BootstrapConfig::iterations`] = 2,
    /// meta-bootstrapping after Bae, Cheon, Cho, Kim, Kim, "Meta-BTS:
    /// Bootstrapping Precision Beyond the Limit", CCS 2022): the first
    /// bootstrap gives `ct_1 ≈ μ + e_1` at [`Self::output_level`] and the
    /// scale Δ; `ct_1` is brought back to level 0 at the input's scale
    /// (dropped when the scales are equal, otherwise one multiplication by
    /// an integer and one rescale of a copy: exact scale tracking) and
    /// subtracted from the input, which leaves `−e_1` (small); that is
    /// multiplied by the integer `2^b` (no level; `b` =
    /// [`BootstrapConfig::first_error_bits`]) so that it fills the input
    /// range, relabelled to the scale `2^b` times larger (free: it still
    /// reads `−e_1`), and bootstrapped — SlotsToCoeffs is re-encoded for
    /// that scale, so the result reads `−e_1 + e_2/2^b` at exactly Δ — and
    /// added to `ct_1`: `μ + e_2/2^b`. Cost: two bootstraps (and the
    /// re-encoding of one SlotsToCoeffs transform); the output has the
    /// same level as after one iteration, at exactly Δ. The gain stops
    /// where the noise of a ciphertext at scale Δ (its rescales and key
    /// switches) takes over: at N = 2^12 and Δ = 2^50
    /// ([`BootstrapPreset::TestN4096`], `tests/bootstrap.rs`) the worst
    /// slot goes from 2^-24.4 to 2^-37.8 and the mean from 2^-26.7 to
    /// 2^-40.5 with 2048 slots, from 2^-29.0 to 2^-37.6 (mean 2^-30.8 to
    /// 2^-40.5) with 64. [`Self::refine`] is the second iteration alone.
    ///
    /// # Errors
    /// [`Error::ScaleMismatch`] for a ciphertext whose scale is not within
    /// a factor 2 of the configured input scale;
    /// [`Error::InvalidArgument`] for a ciphertext of three parts (not
    /// relinearized); missing keys; parameter mismatches. The output is at
    /// exactly the configured scale (an input scale that drifted costs a
    /// re-encoding of SlotsToCoeffs).
    pub fn bootstrap(
        &self,
        eval: &Evaluator,
        ct: &Ciphertext,
        keys: &BootstrapKeys,
    ) -> Result<Ciphertext> {
        let low = self.input(eval, ct)?;
        let first = self.bootstrap_once(eval, &low, keys)?;
        if self.config.iterations < 2 {
            return Ok(first);
        }
        self.second_iteration(eval, &low, &first, keys)
    }

    /// The second iteration of meta-bootstrapping on its own: `first` is
    /// `ct` bootstrapped once (by this bootstrapper, whatever its
    /// [`BootstrapConfig::iterations`]); returns `ct` bootstrapped twice,
    /// the same as [`Self::bootstrap`] with two iterations — for a caller
    /// that decides on the precision after the first result, or wants
    /// both.
    ///
    /// # Errors
    /// As [`Self::bootstrap`]; [`Error::InvalidLevel`] for a `first` that
    /// is not at [`Self::output_level`], [`Error::ScaleMismatch`] for one
    /// not at exactly the configured scale (neither is a bootstrap's
    /// output); [`Error::NotEnoughLevels`] for an output level of 0 with
    /// an input whose scale is not exactly the configured one.
    pub fn refine(
        &self,
        eval: &Evaluator,
        ct: &Ciphertext,
        first: &Ciphertext,
        keys: &BootstrapKeys,
    ) -> Result<Ciphertext> {
        let low = self.input(eval, ct)?;
        let output = self.output_level();
        if first.level() != output {
            return Err(Error::InvalidLevel {
                what: "meta-bootstrapping: the first result must be at the output level",
                got: first.level(),
                max: output,
            });
        }
        if first.scale() != self.config.input_scale {
            return Err(Error::ScaleMismatch {
                what: "meta-bootstrapping: the first result (configured scale)",
                left_bits: first.scale().log2(),
                right_bits: self.config.input_scale.log2(),
            });
        }
        self.second_iteration(eval, &low, first, keys)
    }

    /// The checked input, at level 0.
    fn input(&self, eval: &Evaluator, ct: &Ciphertext) -> Result<Ciphertext> {
        self.params
            .check_same(eval.params(), "evaluator and bootstrapper")?;
        // The transforms are built for the configured scale Δ; for an input
        // at Δ' (rescales make the scale drift a little) SlotsToCoeffs is
        // re-encoded for Δ' (and for the scale EvalMod ends at), so that the
        // output is at exactly Δ: a drift must not carry over, since squaring
        // doubles it.
        let delta = self.config.input_scale;
        let ratio = ct.scale() / delta;
        if !(0.5..=2.0).contains(&ratio) {
            return Err(Error::ScaleMismatch {
                what: "bootstrapping input (configured input scale)",
                left_bits: ct.scale().log2(),
                right_bits: delta.log2(),
            });
        }
        if ct.len() != 2 {
            return Err(Error::InvalidArgument {
                what: format!(
                    "bootstrapping a ciphertext of {} parts: relinearize it first",
                    ct.len()
                ),
            });
        }
        eval.drop_to_level(ct, 0)
    }

    /// `first + bootstrap(2^b·(low − first))/2^b` (see [`Self::bootstrap`]).
    fn second_iteration(
        &self,
        eval: &Evaluator,
        low: &Ciphertext,
        first: &Ciphertext,
        keys: &BootstrapKeys,
    ) -> Result<Ciphertext> {
        // ct_1 at level 0 and the input's scale: −e_1 = input − ct_1
        let back = if first.scale() == low.scale() {
            eval.drop_to_level(first, 0)?
        } else if first.level() == 0 {
            return Err(Error::NotEnoughLevels {
                what: "meta-bootstrapping an input whose scale is not the configured one",
                needed: 1,
                available: 0,
            });
        } else {
            eval.match_scale(first, low.scale(), 0)?
        };
        let diff = eval.sub(low, &back)?;
        // times 2^b (an integer: no level), read 2^b times smaller (free)
        let bits = self.config.first_error_bits;
        let mut lifted = eval.mul_integer(&diff, 1i64 << bits)?;
        lifted.set_scale(diff.scale() * 2f64.powi(bits as i32))?;
        let second = self.bootstrap_once(eval, &lifted, keys)?;
        eval.add(first, &second)
    }

    /// One bootstrap of the level-0 ciphertext `low`, whose scale may be
    /// any (the ratio to Δ is folded into SlotsToCoeffs); the output is at
    /// [`Self::output_level`] and exactly Δ.
    fn bootstrap_once(
        &self,
        eval: &Evaluator,
        low: &Ciphertext,
        keys: &BootstrapKeys,
    ) -> Result<Ciphertext> {
        let (rlk, gks) = (&keys.rlk, &keys.gks);
        let delta = self.config.input_scale;
        let ratio = low.scale() / delta;
        // SubSum: project onto the subring
        let mut x = self.sub_sum(eval, self.mod_raise(low, keys)?, gks)?;
        // CoeffsToSlots: v = R·w/2, then the real and imaginary parts
        for t in &self.c2s {
            x = eval.linear_transform(&x, t, gks)?;
        }
        let re = eval.add(&x, &eval.conjugate(&x, gks)?)?;
        let y = eval.mul_by_i(&x, true)?;
        let im = eval.add(&y, &eval.conjugate(&y, gks)?)?;
        // the two halves are independent: one per thread when there are two
        let (a, b) = rayon::join(
            || self.eval_mod(eval, &re, rlk),
            || self.eval_mod(eval, &im, rlk),
        );
        let (a, b) = (a?, b?);
        let mut z = eval.add(&a, &eval.mul_by_i(&b, false)?)?;
        if self.config.slots < self.params.slots() {
            // Sparse packing: the noise EvalMod amplified is in every slot,
            // not only in the n-periodic part that encodes the message (and
            // the SubSum of a second iteration would remove, not correct,
            // the rest): keep the periodic part — SubSum commutes with
            // SlotsToCoeffs — M·z read at an M times larger scale.
            z = self.sub_sum(eval, z, gks)?;
            let m = (self.params.slots() / self.config.slots) as f64;
            z.set_scale(z.scale() * m)?;
        }
        let s_in = z.scale();
        let same = |a: f64, b: f64| ((a - b) / b).abs() < 1e-12;
        let at_eval_scale = same(s_in, self.eval_scale);
        let reencoded;
        let first = if same(ratio, 1.0) && at_eval_scale {
            &self.s2c[0]
        } else {
            match &self.s2c_refine {
                Some(t)
                    if at_eval_scale
                        && same(ratio, 2f64.powi(self.config.first_error_bits as i32)) =>
                {
                    t
                }
                _ => {
                    reencoded = self.first_s2c_for(&Encoder::new(&self.params), ratio, s_in)?;
                    &reencoded
                }
            }
        };
        for (i, t) in self.s2c.iter().enumerate() {
            z = eval.linear_transform(&z, if i == 0 { first } else { t }, gks)?;
        }
        // Δ up to the rounding of the scale factors' floating-point product
        if ((z.scale() - delta) / delta).abs() < 1e-9 {
            z.set_scale(delta)?;
        }
        Ok(z)
    }

    /// `Σ_{j<M} rot(x, j·n)` (`log2 M` rotations, `M = N/(2n)`): `M` times
    /// the projection onto the `n`-periodic slot vectors (the subring).
    fn sub_sum(&self, eval: &Evaluator, mut x: Ciphertext, gks: &GaloisKeys) -> Result<Ciphertext> {
        let mut step = self.config.slots;
        while step < self.params.slots() {
            let r = eval.rotate(&x, step as i64, gks)?;
            x = eval.add(&x, &r)?;
            step <<= 1;
        }
        Ok(x)
    }

    /// The level-0 ciphertext switched to the sparse secret, read modulo
    /// `Q_L` (centered coefficients), and switched back to the dense key.
    fn mod_raise(&self, ct: &Ciphertext, keys: &BootstrapKeys) -> Result<Ciphertext> {
        let rp = self.params.rlwe();
        let ring0 = rp.ring_q(0)?;
        let small0 = keys.sparse_params.ring_q(0)?;
        let move_to = |p: &rlwe::poly::Poly, ring| -> Result<rlwe::poly::Poly> {
            Ok(rlwe::poly::Poly::from_limbs(
                ring,
                p.representation(),
                p.data().to_vec(),
            )?)
        };
        let parts = ct.rlwe().parts();
        // (c_0, c_1) under s → (c_0 + k_0, k_1) under s'
        let (k0, k1) = keys.to_sparse.switch(&move_to(&parts[1], small0)?)?;
        let mut c0 = parts[0].clone();
        c0.add_assign(&move_to(&k0, ring0)?)?;
        let c1 = move_to(&k1, ring0)?;
        // read modulo Q_L
        let top = rp.ring_q(rp.max_level())?;
        let q0 = rp.q()[0];
        let raise = |p: &rlwe::poly::Poly| -> Result<rlwe::poly::Poly> {
            let mut p = p.clone();
            p.to_coeff();
            let centered: Vec<i64> = p
                .limb(0)
                .iter()
                .map(|&v| {
                    if v > q0 / 2 {
                        v as i64 - q0 as i64
                    } else {
                        v as i64
                    }
                })
                .collect();
            let mut out = rlwe::poly::Poly::from_i64(top, &centered)?;
            out.to_ntt();
            Ok(out)
        };
        let (mut r0, mut r1) = (raise(&c0)?, raise(&c1)?);
        // times 2^k before any key switching: its noise is absolute, the
        // signal is now q_0·2^k
        r0.mul_scalar_assign(self.lift);
        r1.mul_scalar_assign(self.lift);
        // back under s: (r_0 + k_0, k_1)
        let (k0, k1) = keys.to_dense.switch(&r1)?;
        r0.add_assign(&k0)?;
        // read at scale q_0·2^k: the slots are (Δ·μ + q_0·I)/q_0 in embedding
        Ciphertext::from_rlwe(
            &self.params,
            rlwe::ciphertext::Ciphertext::new(rp, vec![r0, k1])?,
            q0 as f64 * self.lift as f64,
        )
    }

    /// `sin(2π·u)` by the scaled cosine and `r` double angles.
    fn eval_mod(&self, eval: &Evaluator, u: &Ciphertext, rlk: &RelinKey) -> Result<Ciphertext> {
        let mut c = eval.evaluate_polynomial(u, &self.cosine, rlk)?;
        for _ in 0..self.config.double_angles {
            let sq = eval.mul_relin_rescale(&c, &c, rlk)?;
            c = eval.add_const(&eval.mul_integer(&sq, 2)?, -1.0)?;
        }
        if self.config.arcsine {
            // arcsin(x) ≈ x + x³/6 = x·(1 + x²/6), x = sin(2πu) ≤ 2π·Δμ/q_0:
            // x² read at six times its scale is x²/6 (exact), plus 1, times x
            let mut sq = eval.mul_relin_rescale(&c, &c, rlk)?;
            let s = sq.scale();
            sq.set_scale(6.0 * s)?;
            let w = eval.add_const(&sq, 1.0)?;
            let c_low = eval.drop_to_level(&c, w.level())?;
            c = eval.mul_relin_rescale(&w, &c_low, rlk)?;
        }
        Ok(c)
    }
}
