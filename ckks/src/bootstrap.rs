//! Bootstrapping (first version: sparse packing): a ciphertext that has used
//! up its levels becomes one with levels to spare, encrypting the same
//! slots (Cheon, Han, Kim, Kim, Song, EUROCRYPT 2018; Chen, Chillotti,
//! Song, EUROCRYPT 2019).
//!
//! For `n` message slots (the slot vector tiled with period `n`, so the
//! plaintext lies in the subring `Z[X^M]`, `M = N/(2n)`):
//!
//! 1. **ModRaise with sparse-secret encapsulation** (Bossuat,
//!    Troncoso-Pastoriza, Hubaux, eprint 2022/024): the level-0 ciphertext
//!    is switched from the user's dense key `s` to an ephemeral sparse key
//!    `s'` of Hamming weight `h` (the key for that switch lives over
//!    `q_0 ∪ P` only, so `s'` is never exposed at a large modulus), read
//!    modulo `Q_L`, where it decrypts to `Δ·μ + q_0·I` with `I` small
//!    (`|I| ≤ K = ½ + 8·√(h/12)`, exceeded with probability below 2^-50
//!    per coefficient), and switched back to `s` (a key that encrypts `s'`
//!    under `s`). The rest of the circuit runs under `s` with the usual
//!    keys.
//! 2. **SubSum**: `log2 M` rotations by `n, 2n, …` project onto the subring
//!    (and multiply it by `M`).
//! 3. **CoeffsToSlots**: two complex linear transforms of the slots and of
//!    their conjugates (BSGS, [`LinearTransform::new_complex`]) put the
//!    `2n` subring coefficients, divided by `q_0`, into the slots of two
//!    ciphertexts: `u_j = Δ·μ_j/q_0 + I_j`.
//! 4. **EvalMod**: `sin(2π·u)`, as a Chebyshev interpolant of
//!    `cos(2π(u − ¼)/2^r)` on `[−K−1, K+1]` followed by `r` double angles
//!    `c ← 2c² − 1`; `sin(2π·u) ≈ 2π·Δ·μ/q_0` because `Δ·μ/q_0` is small.
//! 5. **SlotsToCoeffs**: two complex linear transforms (scaled by
//!    `q_0/(2π·Δ)`) turn the coefficients back into slots.
//!
//! The precision is limited by the noise EvalMod amplifies (the Chebyshev
//! recursion, `4^r` in the double angles) and then `q_0/(2πΔ)`, and by the
//! sine's curvature (relative `(2π·Δ|μ|/q_0)²/6`); with 50-bit primes,
//! `q_0/Δ = 2^10`, `r = 4` and degree 31, `tests/bootstrap.rs` measures
//! 2^-19.4 (8 slots) and 2^-18.2 (64 slots) at N = 2^12 and checks 2^-16.
//! The top prime (CoeffsToSlots) should be at least `q_0`; EvalMod runs at
//! the size of the prime below it. Not yet
//! here: full packing with the factored DFT, the arcsine correction, a
//! second iteration, and the N = 2^16 presets and benchmark of issue 17.
//!
//! **Security of the ephemeral secret.** `s'` appears in two places: the
//! key switching from `s` to `s'`, an RLWE sample under `s'` at the modulus
//! `q_0·P` only (much smaller than `Q·P`), and the key back, an encryption
//! of `s'` under the dense `s` (nothing beyond RLWE under `s`). Whether a
//! weight-`h` secret is hard enough at `q_0·P` must be checked with the
//! lattice estimator for each parameter set (eprint 2022/024, section 5):
//! not done here yet — the 128-bit presets of issue 17 will carry that
//! argument; the tests use `SecurityLevel::None`.

use crate::complex::Complex;
use crate::encoder::Encoder;
use crate::evaluator::Evaluator;
use crate::keys::{GaloisKeys, RelinKey, SecretKey};
use crate::linear::LinearTransform;
use crate::params::Parameters;
use crate::polynomial::Polynomial;
use crate::{Ciphertext, Error, Result};

/// A dense complex matrix (rows).
type Matrix = Vec<Vec<Complex>>;

/// What a [`Bootstrapper`] is built for.
#[derive(Clone, Debug, PartialEq)]
pub struct BootstrapConfig {
    /// Message slots `n` (a power of two, at most N/4).
    pub slots: usize,
    /// Hamming weight `h` of the ephemeral sparse secret ModRaise runs
    /// under (64 in the literature; the bound `K` on the overflow `I`
    /// follows from it, see [`Bootstrapper::k_bound`]).
    pub hamming_weight: usize,
    /// Double angles `r`.
    pub double_angles: u32,
    /// Degree of the Chebyshev interpolant of the scaled cosine.
    pub degree: usize,
    /// The scale of the ciphertexts to bootstrap (level 0).
    pub input_scale: f64,
}

/// The bound `K` on `|I|` for an ephemeral secret of Hamming weight `h`:
/// after the switch to it, `c_0 + c_1·s'` has coefficients `c_0 + Σ_h ±c_1`
/// with `c_0`, `c_1` uniform modulo `q_0`, so `I` has standard deviation
/// `√(h/12)`; `K = ½ + 8·√(h/12)` is exceeded with probability below
/// `2^-50` per coefficient.
fn k_bound(h: usize) -> f64 {
    0.5 + 8.0 * (h as f64 / 12.0).sqrt()
}

/// The keys of bootstrapping for one secret key, made in one call
/// ([`Bootstrapper::generate_keys`]): relinearization and Galois keys
/// (every step the transforms use, and conjugation), and the two key
/// switches of the sparse-secret encapsulation — dense `s` to the ephemeral
/// sparse `s'` over `q_0 ∪ P` only, and `s'` back to `s` over `Q ∪ P`.
#[derive(Clone, Debug)]
pub struct BootstrapKeys {
    /// Relinearization key of `s`.
    pub rlk: RelinKey,
    /// Galois keys of `s` for [`Bootstrapper::rotation_steps`] and conjugation.
    pub gks: GaloisKeys,
    /// `q_0 ∪ P`: the parameters the switch to `s'` lives in.
    sparse_params: std::sync::Arc<rlwe::params::Params>,
    to_sparse: rlwe::keys::KeySwitchKey,
    to_dense: rlwe::keys::KeySwitchKey,
}

/// Precomputed transforms and polynomial for bootstrapping ciphertexts of
/// one parameter set.
#[derive(Clone, Debug)]
pub struct Bootstrapper {
    params: Parameters,
    config: BootstrapConfig,
    /// (A, B) with `u = A·y + B·conj(y)`: coefficients `0..n`, then `n..2n`.
    c2s: [(LinearTransform, LinearTransform); 2],
    cosine: Polynomial,
    /// `z = G_0·s_0 + G_1·s_1`, encoded for inputs at `eval_scale` and a
    /// message scale of exactly `input_scale`.
    s2c: [LinearTransform; 2],
    /// The matrices `G_0`, `G_1`, to re-encode for other scales.
    g: [Matrix; 2],
    /// The scale EvalMod's output has for an input at exactly the
    /// configured scale.
    eval_scale: f64,
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
        if !n.is_power_of_two() || n > big_n / 4 {
            return Err(Error::InvalidArgument {
                what: format!("{n} slots: a power of two up to N/4 = {}", big_n / 4),
            });
        }
        if config.hamming_weight == 0
            || config.hamming_weight > big_n
            || config.degree == 0
            || !(config.input_scale.is_finite() && config.input_scale > 1.0)
        {
            return Err(Error::InvalidArgument {
                what: "bootstrapping bound, degree and scale must be positive".into(),
            });
        }
        let encoder = Encoder::new(params);
        let top = params.max_level();
        let q0 = params.q(0)? as f64;
        let delta = config.input_scale;
        let m = big_n / (2 * n);
        let slots = encoder.slots();
        // subring coefficients (2n, unscaled) of the tiled slot vector y
        let coeffs_of = |y: &[Complex]| -> Result<Vec<f64>> {
            let c = encoder.embed_inverse(&tile_complex(y, slots))?;
            Ok((0..2 * n).map(|j| c[j * m]).collect())
        };
        // The raised ciphertext is read at scale q_0, so after SubSum (which
        // multiplies by M = N/2n) its slots are y = M·E(c)/q_0 with values
        // of the order of K: u = c/q_0 = E⁻¹(y)/M. The diagonals are encoded
        // at Δ_b·q_L/q_0 so that EvalMod runs at Δ_b, the size of the prime
        // below the top (the top prime should be about q_0·M, else the
        // diagonals lose bits).
        let alpha = 1.0 / m as f64;
        let boot_scale = params.q(top - 1)? as f64;
        let c2s_scale = boot_scale * params.q(top)? as f64 / q0;
        let zero = || vec![vec![Complex::real(0.0); n]; n];
        let mut c2s_cols: [(Matrix, Matrix); 2] = [(zero(), zero()), (zero(), zero())];
        for l in 0..n {
            let mut e = vec![Complex::real(0.0); n];
            e[l] = Complex::real(1.0);
            let fe = coeffs_of(&e)?;
            e[l] = Complex::new(0.0, 1.0);
            let fi = coeffs_of(&e)?;
            for (h, (a, b)) in c2s_cols.iter_mut().enumerate() {
                for j in 0..n {
                    let (re, im) = (alpha * fe[h * n + j], alpha * fi[h * n + j]);
                    // A = (f(e) − i·f(ie))/2, B = (f(e) + i·f(ie))/2
                    a[j][l] = Complex::new(re / 2.0, -im / 2.0);
                    b[j][l] = Complex::new(re / 2.0, im / 2.0);
                }
            }
        }
        let c2s_lt = |mat: &[Vec<Complex>]| {
            LinearTransform::new_complex_with_scale(&encoder, mat, top, c2s_scale)
        };
        let c2s = [
            (c2s_lt(&c2s_cols[0].0)?, c2s_lt(&c2s_cols[0].1)?),
            (c2s_lt(&c2s_cols[1].0)?, c2s_lt(&c2s_cols[1].1)?),
        ];
        let k = k_bound(config.hamming_weight) + 1.0;
        let r = config.double_angles;
        let scale_r = f64::from(1u32 << r);
        let cosine = Polynomial::approximate(
            |u| (2.0 * std::f64::consts::PI * (u - 0.25) / scale_r).cos(),
            -k,
            k,
            config.degree,
        )?;
        let after_mod = top
            .checked_sub(1 + cosine.depth() + r as usize)
            .filter(|&l| l >= 1)
            .ok_or(Error::NotEnoughLevels {
                what: "bootstrapping (CoeffsToSlots, EvalMod, SlotsToCoeffs)",
                needed: 2 + cosine.depth() + r as usize,
                available: top,
            })?;
        // z_k = β·Σ_j s_j·E_{k,j}, β = q_0/(2π·Δ), E the subring embedding
        let beta = q0 / (2.0 * std::f64::consts::PI * delta);
        let mut g = [
            vec![vec![Complex::real(0.0); n]; n],
            vec![vec![Complex::real(0.0); n]; n],
        ];
        for j in 0..2 * n {
            let mut c = vec![0.0; big_n];
            c[j * m] = 1.0;
            let z = encoder.embed(&c)?;
            for kk in 0..n {
                g[j / n][kk][j % n] = z[kk].scale(beta);
            }
        }
        // The scale EvalMod ends at: the polynomial keeps Δ_b, each double
        // angle squares and divides by the prime of its level. SlotsToCoeffs
        // brings it back to Δ.
        let mut eval_scale = boot_scale;
        for j in 0..r as usize {
            eval_scale = eval_scale * eval_scale / params.q(top - 1 - cosine.depth() - j)? as f64;
        }
        let s2c_scale = delta * params.q(after_mod)? as f64 / eval_scale;
        let s2c_lt = |mat: &[Vec<Complex>]| {
            LinearTransform::new_complex_with_scale(&encoder, mat, after_mod, s2c_scale)
        };
        let s2c = [s2c_lt(&g[0])?, s2c_lt(&g[1])?];
        Ok(Self {
            params: params.clone(),
            config,
            c2s,
            cosine,
            s2c,
            g,
            eval_scale,
        })
    }

    /// The bound `K` on the ModRaise overflow the EvalMod interval covers.
    pub fn k_bound(&self) -> f64 {
        k_bound(self.config.hamming_weight)
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
        let rp = self.params.rlwe();
        let rlk = RelinKey::generate(sk, rng)?;
        let gks = GaloisKeys::generate_with_conjugation(sk, &self.rotation_steps(), true, rng)?;
        let sparse_params = rlwe::params::Params::new(
            rp.degree(),
            vec![rp.q()[0]],
            rp.p().to_vec(),
            rp.security(),
        )?;
        let mut sparse = rlwe::sample::sparse_ternary(rp.degree(), self.config.hamming_weight, rng);
        let mut dense = sk.rlwe().coeffs().to_vec();
        // s → s' over q_0 ∪ P: a key under s' exposed only at the small modulus
        let s_small = rlwe::keys::SecretKey::from_coeffs(&sparse_params, dense.clone())?;
        let s_prime_small = rlwe::keys::SecretKey::from_coeffs(&sparse_params, sparse.clone())?;
        let to_sparse = rlwe::keys::KeySwitchKey::generate(&s_prime_small, s_small.ntt_qp(), rng)?;
        // s' → s over Q ∪ P: s' encrypted under the dense key
        let s_prime = rlwe::keys::SecretKey::from_coeffs(rp, sparse.clone())?;
        let to_dense = rlwe::keys::KeySwitchKey::generate(sk.rlwe(), s_prime.ntt_qp(), rng)?;
        zeroize::Zeroize::zeroize(&mut sparse);
        zeroize::Zeroize::zeroize(&mut dense);
        Ok(BootstrapKeys {
            rlk,
            gks,
            sparse_params,
            to_sparse,
            to_dense,
        })
    }

    /// The level of a bootstrapped ciphertext.
    pub fn output_level(&self) -> usize {
        self.s2c[0].level() - 1
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
        for (a, b) in &self.c2s {
            v.extend(a.rotation_steps());
            v.extend(b.rotation_steps());
        }
        for s in &self.s2c {
            v.extend(s.rotation_steps());
        }
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Bootstraps `ct` (any level; it is read at level 0) with the
    /// relinearization key and Galois keys for [`Self::rotation_steps`] and
    /// conjugation.
    ///
    /// # Errors
    /// [`Error::ScaleMismatch`] for a ciphertext whose scale is not within
    /// a factor 2 of the configured input scale; missing keys; parameter
    /// mismatches. The output is at exactly the configured scale (an input
    /// scale that drifted costs a re-encoding of SlotsToCoeffs).
    pub fn bootstrap(
        &self,
        eval: &Evaluator,
        ct: &Ciphertext,
        keys: &BootstrapKeys,
    ) -> Result<Ciphertext> {
        let (rlk, gks) = (&keys.rlk, &keys.gks);
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
        let low = eval.drop_to_level(ct, 0)?;
        let mut x = self.mod_raise(&low, keys)?;
        // SubSum: project onto the subring
        let mut step = self.config.slots;
        while step < self.params.slots() {
            let r = eval.rotate(&x, step as i64, gks)?;
            x = eval.add(&x, &r)?;
            step <<= 1;
        }
        let xc = eval.conjugate(&x, gks)?;
        let mut halves = Vec::with_capacity(2);
        for (a, b) in &self.c2s {
            let u = eval.add(
                &eval.linear_transform(&x, a, gks)?,
                &eval.linear_transform(&xc, b, gks)?,
            )?;
            halves.push(self.eval_mod(eval, &u, rlk)?);
        }
        let s_in = halves[0].scale();
        let nominal =
            (ratio - 1.0).abs() < 1e-12 && ((s_in - self.eval_scale) / s_in).abs() < 1e-12;
        let rebuilt;
        let s2c = if nominal {
            &self.s2c
        } else {
            let encoder = Encoder::new(&self.params);
            let level = self.s2c[0].level();
            let pt_scale = delta * self.params.q(level)? as f64 / s_in;
            let lt = |g: &[Vec<Complex>]| {
                let scaled: Vec<Vec<Complex>> = g
                    .iter()
                    .map(|row| row.iter().map(|v| v.scale(1.0 / ratio)).collect())
                    .collect();
                LinearTransform::new_complex_with_scale(&encoder, &scaled, level, pt_scale)
            };
            rebuilt = [lt(&self.g[0])?, lt(&self.g[1])?];
            &rebuilt
        };
        eval.add(
            &eval.linear_transform(&halves[0], &s2c[0], gks)?,
            &eval.linear_transform(&halves[1], &s2c[1], gks)?,
        )
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
        let (mut r0, r1) = (raise(&c0)?, raise(&c1)?);
        // back under s: (r_0 + k_0, k_1)
        let (k0, k1) = keys.to_dense.switch(&r1)?;
        r0.add_assign(&k0)?;
        // read at scale q_0: the slots are (Δ·μ + q_0·I)/q_0 in embedding
        Ciphertext::from_rlwe(
            &self.params,
            rlwe::ciphertext::Ciphertext::new(rp, vec![r0, k1])?,
            q0 as f64,
        )
    }

    /// `sin(2π·u)` by the scaled cosine and `r` double angles.
    fn eval_mod(&self, eval: &Evaluator, u: &Ciphertext, rlk: &RelinKey) -> Result<Ciphertext> {
        let mut c = eval.evaluate_polynomial(u, &self.cosine, rlk)?;
        for _ in 0..self.config.double_angles {
            let sq = eval.mul_relin_rescale(&c, &c, rlk)?;
            c = eval.add_const(&eval.mul_integer(&sq, 2)?, -1.0)?;
        }
        Ok(c)
    }
}

fn tile_complex(values: &[Complex], slots: usize) -> Vec<Complex> {
    (0..slots).map(|j| values[j % values.len()]).collect()
}
