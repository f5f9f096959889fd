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
//! 5. **SlotsToCoeffs**: the two halves recombined (`a + i·b`), then the
//!    forward stages (scaled by `q_0/(2π·Δ)`, level budget of their own)
//!    give back the slots at exactly the input scale.
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

use crate::complex::Complex;
use crate::encoder::Encoder;
use crate::evaluator::Evaluator;
use crate::keys::{GaloisKeys, RelinKey, SecretKey};
use crate::linear::LinearTransform;
use crate::params::Parameters;
use crate::polynomial::Polynomial;
use crate::{Ciphertext, Error, Result, SecurityLevel};

use crate::dft::{self, Diagonals};

/// What a [`Bootstrapper`] is built for.
#[derive(Clone, Debug, PartialEq)]
pub struct BootstrapConfig {
    /// Message slots `n` (a power of two, at most N/2; N/2 is full
    /// packing).
    pub slots: usize,
    /// Hamming weight `h` of the ephemeral sparse secret ModRaise runs
    /// under (64 in the literature; the bound `K` on the overflow `I`
    /// follows from it, see [`Bootstrapper::k_bound`]).
    pub hamming_weight: usize,
    /// Double angles `r`.
    pub double_angles: u32,
    /// Correct the sine's curvature with `arcsin(x) ≈ x + x³/6` (two more
    /// levels): without it, a coefficient of size `Δ·μ` is off by the
    /// relative `(2π·Δμ/q_0)²/6` — 2^-17.7 for a constant slot vector of
    /// 0.9 at `q_0/Δ = 2^10`, whatever the noise.
    pub arcsine: bool,
    /// Degree of the Chebyshev interpolant of the scaled cosine.
    pub degree: usize,
    /// The scale of the ciphertexts to bootstrap (level 0).
    pub input_scale: f64,
    /// Levels CoeffsToSlots may use (the `log2 n` FFT stages are grouped
    /// into this many sparse transforms: fewer levels, more rotations).
    pub coeffs_to_slots_levels: usize,
    /// Levels SlotsToCoeffs may use.
    pub slots_to_coeffs_levels: usize,
}

impl BootstrapConfig {
    /// The defaults for `slots` message slots at `input_scale`: an
    /// ephemeral secret of Hamming weight 32, a degree-31 interpolant, 4
    /// double angles and the arcsine correction (EvalMod: 11 levels), and `⌈log2 n / 4⌉` levels for
    /// each linear transform (at most 4 stages, 31 diagonals, per level).
    pub fn new(slots: usize, input_scale: f64) -> Self {
        let stages = slots.max(1).trailing_zeros() as usize;
        let levels = stages.div_ceil(4).max(1);
        Self {
            slots,
            hamming_weight: 32,
            double_angles: 4,
            arcsine: true,
            degree: 31,
            input_scale,
            coeffs_to_slots_levels: levels,
            slots_to_coeffs_levels: levels,
        }
    }

    /// The rotation steps the Galois keys of bootstrapping need for this
    /// configuration in a ring of degree `degree` (conjugation as well),
    /// found from the transforms' nonzero diagonals without encoding them
    /// (a client generating keys for N = 2^16 need not build the several
    /// GB of a [`Bootstrapper`]).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a slot count that is not a power of
    /// two up to `degree/2`, or a zero level budget.
    pub fn rotation_steps(&self, degree: usize) -> Result<Vec<i64>> {
        let n = self.slots;
        if !n.is_power_of_two()
            || !degree.is_power_of_two()
            || n > degree / 2
            || self.coeffs_to_slots_levels == 0
            || self.slots_to_coeffs_levels == 0
        {
            return Err(Error::InvalidArgument {
                what: format!(
                    "{n} slots in degree {degree} with level budgets {} / {}",
                    self.coeffs_to_slots_levels, self.slots_to_coeffs_levels
                ),
            });
        }
        let mut v: Vec<i64> = Vec::new();
        let mut step = n;
        while step < degree / 2 {
            v.push(step as i64);
            step <<= 1;
        }
        // the entries' values do not change which diagonals are nonzero
        let one = Complex::real(1.0);
        let mats = dft::coeffs_to_slots(n, self.coeffs_to_slots_levels, one)
            .into_iter()
            .chain(dft::slots_to_coeffs(n, self.slots_to_coeffs_levels, one));
        for mat in mats {
            v.extend(crate::linear::rotation_steps_of(n, &mat));
        }
        v.sort_unstable();
        v.dedup();
        Ok(v)
    }

    /// Bit sizes of a modulus chain for this configuration, bottom up:
    /// `q_0`, `user` primes of `bits.user` bits (the levels left after
    /// bootstrapping), then SlotsToCoeffs, EvalMod and CoeffsToSlots primes
    /// of the sizes in `bits` (EvalMod's noise is amplified by the double
    /// angles and then by `q_0/(2πΔ)·√n`: its primes should be the
    /// largest; the top prime must be at least `q_0`).
    ///
    /// # Errors
    /// As [`Self::depth`].
    pub fn chain(&self, user: usize, bits: ChainBits) -> Result<Vec<u32>> {
        let eval_mod = self.depth()? - self.coeffs_to_slots_levels - self.slots_to_coeffs_levels;
        let mut q = vec![bits.q0];
        q.extend(std::iter::repeat_n(bits.user, user));
        q.extend(std::iter::repeat_n(
            bits.slots_to_coeffs,
            self.slots_to_coeffs_levels,
        ));
        q.extend(std::iter::repeat_n(bits.eval_mod, eval_mod));
        q.extend(std::iter::repeat_n(
            bits.coeffs_to_slots,
            self.coeffs_to_slots_levels,
        ));
        Ok(q)
    }

    /// The levels bootstrapping consumes: CoeffsToSlots, EvalMod (the
    /// interpolant's depth plus the double angles) and SlotsToCoeffs.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a degree the interpolation refuses.
    pub fn depth(&self) -> Result<usize> {
        Ok(self.coeffs_to_slots_levels
            + self.cosine()?.depth()
            + self.double_angles as usize
            + 2 * usize::from(self.arcsine)
            + self.slots_to_coeffs_levels)
    }

    /// The Chebyshev interpolant of `cos(2π(u − ¼)/2^r)` on `[−K−1, K+1]`.
    /// As a function of `y = u/(K + 1) ∈ [−1, 1]`: CoeffsToSlots divides by
    /// `K + 1`, so the interpolant needs no change of variable (a level).
    fn cosine(&self) -> Result<Polynomial> {
        let k = self.interval();
        let scale_r = f64::from(1u32 << self.double_angles.min(31));
        Polynomial::approximate(
            |y| (2.0 * std::f64::consts::PI * (k * y - 0.25) / scale_r).cos(),
            -1.0,
            1.0,
            self.degree,
        )
    }

    /// `K + 1`: EvalMod covers `u ∈ [−K−1, K+1]`.
    fn interval(&self) -> f64 {
        k_bound(self.hamming_weight) + 1.0
    }
}

/// Prime sizes (bits) for [`BootstrapConfig::chain`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainBits {
    /// `q_0`: `log2(q_0/Δ)` bits of headroom over the scale Δ.
    pub q0: u32,
    /// The levels left to the user (about the scale).
    pub user: u32,
    /// SlotsToCoeffs.
    pub slots_to_coeffs: u32,
    /// EvalMod.
    pub eval_mod: u32,
    /// CoeffsToSlots (at least `q0`).
    pub coeffs_to_slots: u32,
}

/// Ready-made bootstrapping parameter sets: the chain and the
/// configuration together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BootstrapPreset {
    /// N = 2^16, full packing (2^15 slots), 128-bit secure by the
    /// HomomorphicEncryption.org table with every prime counted (`log2 QP`
    /// ≤ 1747): scale 2^40, `q_0` of 48 bits, 9 levels of 40 bits left
    /// after bootstrapping, SlotsToCoeffs on 45-bit primes (3 levels),
    /// EvalMod on 60-bit primes (12 levels), CoeffsToSlots on 60-bit primes
    /// (3 levels), 5 special primes of 60 bits: `log2 QP` = 1743. The
    /// ephemeral secret has Hamming weight 32 and lives at `q_0·P` (348
    /// bits) only: see the module docs.
    N65536,
    /// N = 2^12, 2^11 slots, `SecurityLevel::None` — a small ring for tests
    /// and examples, not a secure parameter set: scale 2^50, `q_0` of 60
    /// bits, 8 levels of 50 bits left, EvalMod on 58-bit primes.
    TestN4096,
}

impl BootstrapPreset {
    /// The parameters and the bootstrapping configuration.
    ///
    /// # Errors
    /// Errors of parameter generation (none for the presets as shipped).
    pub fn parameters(self) -> Result<(Parameters, BootstrapConfig)> {
        let (degree, scale_bits, user, bits, p, security) = match self {
            BootstrapPreset::N65536 => (
                1usize << 16,
                40,
                9,
                ChainBits {
                    q0: 48,
                    user: 40,
                    slots_to_coeffs: 45,
                    eval_mod: 60,
                    coeffs_to_slots: 60,
                },
                vec![60u32; 5],
                SecurityLevel::Bits128,
            ),
            BootstrapPreset::TestN4096 => (
                1 << 12,
                50,
                8,
                ChainBits {
                    q0: 60,
                    user: 50,
                    slots_to_coeffs: 50,
                    eval_mod: 58,
                    coeffs_to_slots: 60,
                },
                vec![60u32; 3],
                SecurityLevel::None,
            ),
        };
        let mut config = BootstrapConfig::new(degree / 2, 2f64.powi(scale_bits));
        if self == BootstrapPreset::N65536 {
            // 15 FFT stages in 3 levels of 5 (63 diagonals each): a fourth
            // level would not fit the 1747 bits
            config.coeffs_to_slots_levels = 3;
            config.slots_to_coeffs_levels = 3;
        }
        let params = Parameters::builder()
            .degree(degree)
            .q_bits(&config.chain(user, bits)?)
            .p_bits(&p)
            .scale_bits(scale_bits as u32)
            .security(security)
            .build()?;
        Ok((params, config))
    }
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

impl BootstrapKeys {
    /// Every key bootstrapping with `config` needs for `sk` (the same keys
    /// as [`Bootstrapper::generate_keys`], without building the
    /// transforms: the rotation steps come from
    /// [`BootstrapConfig::rotation_steps`]); the ephemeral sparse secret is
    /// sampled here and exists afterwards only inside the two
    /// key-switching keys.
    ///
    /// # Errors
    /// An invalid configuration; errors of key generation.
    pub fn generate<R: rand::RngCore + rand::CryptoRng>(
        sk: &SecretKey,
        config: &BootstrapConfig,
        rng: &mut R,
    ) -> Result<Self> {
        let params = sk.params();
        let rp = params.rlwe();
        if config.hamming_weight == 0 || config.hamming_weight > rp.degree() {
            return Err(Error::InvalidArgument {
                what: format!(
                    "Hamming weight {} of the ephemeral secret must be in 1..={}",
                    config.hamming_weight,
                    rp.degree()
                ),
            });
        }
        let steps = config.rotation_steps(rp.degree())?;
        let rlk = RelinKey::generate(sk, rng)?;
        let gks = GaloisKeys::generate_with_conjugation(sk, &steps, true, rng)?;
        let sparse_params = sparse_key_params(rp)?;
        let mut sparse = rlwe::sample::sparse_ternary(rp.degree(), config.hamming_weight, rng);
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
}

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
    /// The scale EvalMod's output has for an input at exactly the
    /// configured scale.
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
        Ok(Self {
            params: params.clone(),
            config,
            c2s,
            cosine,
            s2c,
            s2c_first: s2c_mats.into_iter().next().unwrap_or_default(),
            eval_scale,
            lift,
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
        let s_in = z.scale();
        let nominal =
            (ratio - 1.0).abs() < 1e-12 && ((s_in - self.eval_scale) / s_in).abs() < 1e-12;
        for (i, t) in self.s2c.iter().enumerate() {
            z = if i == 0 && !nominal {
                let encoder = Encoder::new(&self.params);
                let level = t.level();
                let scale = t.scale() * self.eval_scale / s_in;
                let mut mat = self.s2c_first.clone();
                for v in mat.values_mut() {
                    for c in v.iter_mut() {
                        *c = c.scale(1.0 / ratio);
                    }
                }
                let first = LinearTransform::from_diagonals(
                    &encoder,
                    self.config.slots,
                    &mat,
                    level,
                    scale,
                )?;
                eval.linear_transform(&z, &first, gks)?
            } else {
                eval.linear_transform(&z, t, gks)?
            };
        }
        // Δ up to the rounding of the scale factors' floating-point product
        if ((z.scale() - delta) / delta).abs() < 1e-9 {
            z.set_scale(delta)?;
        }
        Ok(z)
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

/// The parameters `q_0 ∪ P` of the switch to the ephemeral sparse secret.
fn sparse_key_params(rp: &rlwe::params::Params) -> Result<std::sync::Arc<rlwe::params::Params>> {
    let q0 = rp.q().first().copied().ok_or(Error::InvalidArgument {
        what: "bootstrapping parameters without a chain prime".into(),
    })?;
    Ok(rlwe::params::Params::new(
        rp.degree(),
        vec![q0],
        rp.p().to_vec(),
        rp.security(),
    )?)
}

/// Tag of serialized [`BootstrapKeys`] (inside the `External` envelope).
const BOOT_KEYS_TAG: [u8; 8] = *b"ckks/bk1";

#[derive(serde::Serialize, serde::Deserialize)]
struct BootKeysBody {
    tag: [u8; 8],
    rlk: Vec<u8>,
    gks: Vec<u8>,
    to_sparse: Vec<u8>,
    to_dense: Vec<u8>,
}

/// Serialization: the keys are public (the ephemeral secret exists only
/// inside the two key-switching keys, as RLWE samples), so they travel to
/// the party that bootstraps.
impl BootstrapKeys {
    /// Serialized keys: a versioned envelope (fingerprint of the
    /// parameters included) holding the relinearization key, the Galois
    /// keys and the two key-switching keys, each in its own envelope
    /// (seeded: the uniform halves are written as seeds).
    pub fn to_bytes(&self) -> Vec<u8> {
        let body = BootKeysBody {
            tag: BOOT_KEYS_TAG,
            rlk: self.rlk.to_bytes(),
            gks: self.gks.to_bytes(),
            to_sparse: self.to_sparse.to_bytes(),
            to_dense: self.to_dense.to_bytes(),
        };
        rlwe::serialize::encode(
            rlwe::serialize::Kind::External,
            self.rlk.params().fingerprint(),
            &body,
        )
    }

    /// Size of [`Self::to_bytes`].
    pub fn serialized_size(&self) -> usize {
        self.to_bytes().len()
    }

    /// Reads bootstrapping keys of `params`, validating every envelope,
    /// key shape and coefficient. Whether the Galois keys cover a
    /// bootstrapper's rotation steps is checked when it uses them
    /// (a missing key is [`rlwe::Error::MissingKey`], never a wrong answer).
    ///
    /// # Errors
    /// [`Error::Malformed`] for bytes that are not bootstrapping keys; the
    /// errors of the keys' own readers inside [`Error::Rlwe`] (truncated or
    /// garbled bytes, keys of other parameters).
    pub fn from_bytes(params: &Parameters, bytes: &[u8]) -> Result<Self> {
        const WHAT: &str = "CKKS bootstrapping keys";
        let body: BootKeysBody = rlwe::serialize::decode(
            bytes,
            rlwe::serialize::Kind::External,
            WHAT,
            Some(params.fingerprint()),
        )?;
        if body.tag != BOOT_KEYS_TAG {
            return Err(Error::Malformed {
                what: WHAT,
                reason: "not bootstrapping keys".into(),
            });
        }
        let sparse_params = sparse_key_params(params.rlwe())?;
        Ok(Self {
            rlk: RelinKey::from_bytes(params, &body.rlk)?,
            gks: GaloisKeys::from_bytes(params, &body.gks)?,
            to_sparse: rlwe::keys::KeySwitchKey::from_bytes(&sparse_params, &body.to_sparse)?,
            to_dense: rlwe::keys::KeySwitchKey::from_bytes(params.rlwe(), &body.to_dense)?,
            sparse_params,
        })
    }
}
