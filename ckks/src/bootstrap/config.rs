//! What a [`Bootstrapper`] is built for: the configuration, the chain it
//! needs, and the presets.

use crate::complex::Complex;
use crate::params::Parameters;
use crate::polynomial::Polynomial;
use crate::{Error, Result, SecurityLevel};

use crate::dft;

#[cfg(doc)]
use super::Bootstrapper;

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
    /// Bootstrapping iterations: 1, or 2 for meta-bootstrapping (Bae,
    /// Cheon, Cho, Kim, Kim, CCS 2022), which bootstraps the first
    /// iteration's error once more and removes it (see
    /// [`Bootstrapper::bootstrap`]): twice the time, the same levels left,
    /// the error of the second bootstrap divided by `2^first_error_bits`
    /// (until the noise of the output scale dominates). The keys and the
    /// transforms do not depend on it.
    pub iterations: u32,
    /// `b`: the first iteration's slot errors are below `2^-b` for inputs
    /// in the documented range. The second iteration bootstraps the
    /// difference between the input and the first result multiplied by
    /// `2^b`, which brings it up to the input range `[−1, 1]` — larger than
    /// the actual error, it would leave that range and come back wrong
    /// (the sine of EvalMod is invertible up to `q_0/(4Δ)` only), smaller,
    /// it divides the second error by less. 20 by default (the presets
    /// measure 2^-21.9 and 2^-24.3 worst); 1 to 40.
    pub first_error_bits: u32,
}

impl BootstrapConfig {
    /// The defaults for `slots` message slots at `input_scale`: an
    /// ephemeral secret of Hamming weight 32, a degree-31 interpolant, 4
    /// double angles and the arcsine correction (EvalMod: 11 levels), and `⌈log2 n / 4⌉` levels for
    /// each linear transform (at most 4 stages, 31 diagonals, per level);
    /// one iteration (`first_error_bits` 20 for a second one).
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
            iterations: 1,
            first_error_bits: 20,
        }
    }

    /// The same configuration with `iterations` bootstrapping iterations
    /// (2: meta-bootstrapping, see [`Self::iterations`]).
    pub fn with_iterations(self, iterations: u32) -> Self {
        Self { iterations, ..self }
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
    pub(super) fn cosine(&self) -> Result<Polynomial> {
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
    pub(super) fn interval(&self) -> f64 {
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
pub(super) fn k_bound(h: usize) -> f64 {
    0.5 + 8.0 * (h as f64 / 12.0).sqrt()
}
