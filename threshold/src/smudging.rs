//! Smudging (noise flooding) for decryption and key-switching shares.
//!
//! A decryption share `c_1·s_i + e_i` must not reveal the ciphertext noise,
//! which depends on the secret; each share therefore carries Gaussian noise
//! of standard deviation `σ = 2^λ · B`, where `B` bounds the ciphertext's
//! noise (in the phase `c_0 + c_1·s`) and `λ` is the statistical security
//! parameter (40 by default): the statistical distance between the shares
//! of two ciphertexts with noise below `B` is then about `2^-λ`.
//!
//! The width a [`Smudging`] reports is the width its shares carry: the
//! sampler draws σ up to [`Smudging::MAX_LOG2_SIGMA`] (2^120) exactly, and
//! a wider σ is [`Error::SmudgingTooWide`] — from [`Smudging::for_bfv`],
//! [`Smudging::for_ckks`] and [`Smudging::check`] at construction, and from
//! every share that would sample it — never a narrower noise.

use std::sync::Arc;

use rlwe::params::Params;
use rlwe::poly::Poly;
use rlwe::sample;

use crate::{Error, Result};

/// Default statistical security parameter λ (bits).
pub const STATISTICAL_SECURITY: u32 = 40;

/// The width of the smudging noise.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Smudging {
    log2_sigma: f64,
}

impl Smudging {
    /// Largest `log2 σ` the smudging sampler draws
    /// ([`rlwe::sample::WIDE_MAX_LOG2_SIGMA`]): at λ = 40, ciphertext noise
    /// up to 2^80.
    pub const MAX_LOG2_SIGMA: f64 = sample::WIDE_MAX_LOG2_SIGMA;

    /// `σ = 2^(log2_noise + λ)` for a ciphertext whose noise is below
    /// `2^log2_noise`. The width is kept as asked; above
    /// [`Self::MAX_LOG2_SIGMA`] it is refused with
    /// [`Error::SmudgingTooWide`] by [`Self::check_width`], [`Self::check`]
    /// and every share made with it (prefer [`Self::for_bfv`] /
    /// [`Self::for_ckks`], which refuse it here).
    pub fn new(log2_noise: f64, lambda: u32) -> Self {
        Self {
            log2_sigma: log2_noise.max(0.0) + lambda as f64,
        }
    }

    /// An explicit width `σ = 2^log2_sigma` (at least 1; NaN counts as 0).
    /// As for [`Self::new`], a width above [`Self::MAX_LOG2_SIGMA`] is kept
    /// and refused when checked or sampled, never narrowed.
    pub fn with_sigma(log2_sigma: f64) -> Self {
        Self {
            log2_sigma: log2_sigma.max(0.0),
        }
    }

    /// `⌈14·σ⌉`: the bound every sample of a provable share is checked
    /// against (a Gaussian exceeds it with probability below 2^-140 per
    /// coefficient); what the share proofs ([`crate::vss`]) prove. Saturates
    /// at `u128::MAX` (a width the proofs refuse).
    pub fn tail_bound(&self) -> u128 {
        let b = (14.0 * self.log2_sigma.exp2()).ceil();
        if b >= u128::MAX as f64 {
            u128::MAX
        } else {
            b as u128
        }
    }

    /// log2 of the standard deviation of one party's smudging noise.
    pub fn log2_sigma(&self) -> f64 {
        self.log2_sigma
    }

    /// log2 of a high-probability bound on the sum of `n` parties' noise
    /// plus the ciphertext's own: `6·sqrt(n)·σ + 2^log2_noise`.
    pub fn log2_total_bound(&self, n: usize, log2_noise: f64) -> f64 {
        (6.0 * (n.max(1) as f64).sqrt() * self.log2_sigma.exp2() + log2_noise.exp2()).log2()
    }

    /// Smudging with λ = 40 for a BFV ciphertext at `level` with noise below
    /// `2^log2_noise`, decrypted by `n` parties; errors when the width is
    /// above [`Self::MAX_LOG2_SIGMA`] ([`Error::SmudgingTooWide`]: noise above
    /// 2^80) or the smudged result would no longer decrypt (the noise must
    /// stay below `Q_l / (2t)`, [`Error::SmudgingTooLarge`]).
    pub fn for_bfv(
        params: &bfv::Parameters,
        level: usize,
        log2_noise: f64,
        n: usize,
    ) -> Result<Self> {
        let s = Self::new(log2_noise, STATISTICAL_SECURITY);
        let ring = params.rlwe().ring_q(level)?;
        let log_q = ring.basis().product().bits() as f64 - 1.0;
        let room = log_q - (2.0 * params.plaintext_modulus() as f64).log2();
        s.check(n, log2_noise, room)?;
        Ok(s)
    }

    /// Smudging with statistical parameter `lambda` for a CKKS ciphertext
    /// of scale `scale` and noise below `2^log2_noise`, decrypted by `n`
    /// parties, keeping at least `precision_bits` bits of precision in the
    /// decoded slots; errors otherwise. Decoding spreads coefficient noise
    /// over the slots, multiplying it by up to `sqrt(N)`, so the condition is
    /// `6·sqrt(n·N)·σ ≤ scale / 2^precision_bits`. CKKS pays for smudging in
    /// precision: λ bits of statistical security cost λ bits of precision,
    /// so choose the scale (or λ) accordingly. A width above
    /// [`Self::MAX_LOG2_SIGMA`] is [`Error::SmudgingTooWide`].
    ///
    /// At λ = 40 the usual scales (2^40 to 2^50, e.g. [`ckks::Preset::N8192`])
    /// leave no room, and [`Error::SmudgingTooLarge`] is the expected answer:
    /// a fresh ciphertext's noise (about 2^8) times 2^40, times `sqrt(n·N)`,
    /// is already above 2^50. [`ckks_parameters`] chooses a scale with that
    /// room for a requested precision, and [`ckks_fresh_noise_bound`] gives
    /// the `log2_noise` of fresh encryptions and their sums.
    pub fn for_ckks(
        params: &ckks::Parameters,
        scale: f64,
        log2_noise: f64,
        n: usize,
        precision_bits: f64,
        lambda: u32,
    ) -> Result<Self> {
        let s = Self::new(log2_noise, lambda);
        let embed = 0.5 * (params.degree() as f64).log2();
        s.check(n, log2_noise, scale.log2() - precision_bits - embed)?;
        Ok(s)
    }

    /// [`Error::SmudgingTooWide`] if this width is above
    /// [`Self::MAX_LOG2_SIGMA`], the widest the sampler draws.
    pub fn check_width(&self) -> Result<()> {
        // `contains` is false for +∞ (NaN cannot occur: constructors map it to 0).
        if !(0.0..=Self::MAX_LOG2_SIGMA).contains(&self.log2_sigma) {
            return Err(Error::SmudgingTooWide {
                log2_sigma: self.log2_sigma,
                max_log2_sigma: Self::MAX_LOG2_SIGMA,
            });
        }
        Ok(())
    }

    /// Errors unless this width can be sampled ([`Self::check_width`]) and
    /// `n` shares of it plus the ciphertext noise stay below `2^room_bits`
    /// ([`Error::SmudgingTooLarge`]).
    pub fn check(&self, n: usize, log2_noise: f64, room_bits: f64) -> Result<()> {
        self.check_width()?;
        let needed = self.log2_total_bound(n, log2_noise);
        if needed >= room_bits {
            return Err(Error::SmudgingTooLarge {
                needed_bits: needed,
                available_bits: room_bits,
            });
        }
        Ok(())
    }

    /// A fresh noise polynomial over `ring` (NTT form) of exactly this
    /// width; [`Error::SmudgingTooWide`] above [`Self::MAX_LOG2_SIGMA`].
    pub fn sample<R: rand::RngCore + rand::CryptoRng>(
        &self,
        ring: &std::sync::Arc<rlwe::poly::RingContext>,
        rng: &mut R,
    ) -> Result<Poly> {
        let mut e = sample::wide_poly(ring, &self.sample_coeffs(ring.degree(), rng)?);
        e.to_ntt();
        Ok(e)
    }

    /// `n` integer samples of the smudging noise (what [`Self::sample`]
    /// lifts into the ring; the share proofs need the integers).
    pub(crate) fn sample_coeffs<R: rand::RngCore + rand::CryptoRng>(
        &self,
        n: usize,
        rng: &mut R,
    ) -> Result<Vec<i128>> {
        self.check_width()?;
        Ok(sample::gaussian_wide(n, self.log2_sigma, rng)?)
    }
}

/// log2 of a high-probability bound (8 standard deviations) on every
/// coefficient of the phase noise `c_0 + c_1·s − Δ·m` of a sum of
/// `ciphertexts` fresh public-key encryptions (each of a freshly encoded
/// plaintext) under a collective key of `parties` ternary secrets, at any
/// level of `params`; the `log2_noise` to give [`Smudging::for_ckks`].
/// Public: it depends on the parameters only.
///
/// Public-key encryption computes `u·b + e_0 + m·P`, `u·a + e_1` over
/// `Q ∪ P` and divides by `P` with rounding, so the noise is
/// `(u·e + e_0 + e_1·s)/P + r_0 + r_1·s + r_m`: `u` ternary (variance 2/3),
/// `e` the sum of the parties' key errors (variance `parties·10.5`), `e_0`,
/// `e_1` centered binomial (10.5), `s` the sum of the secrets (variance
/// `2·parties/3`), the rounding `r_0`, `r_1` uniform in `[−½, ½]` (1/12)
/// and `r_m` the encoding's rounding (1/12). Without special primes the
/// first part is not divided. Sums add variances. For ciphertexts that
/// went through more than additions, track the bound with
/// [`CkksNoise`](crate::CkksNoise).
pub fn ckks_fresh_noise_bound(params: &Params, parties: usize, ciphertexts: usize) -> f64 {
    let var_ct = crate::noise::fresh_variance(params, parties);
    (8.0 * (ciphertexts.max(1) as f64 * var_ct).sqrt()).log2()
}

/// CKKS parameters over `rlwe` whose default scale leaves room for
/// threshold decryption at λ = [`STATISTICAL_SECURITY`] (40): for a sum of
/// up to `ciphertexts` fresh encryptions under a collective key of
/// `parties` secrets, decrypted by at most `parties` shares, the decoded
/// slots are within `2^-precision_bits` of the encrypted values (with high
/// probability; the encoder's own floating-point rounding, about
/// `max_abs·2^-45`, comes on top). The values (the decrypted sum) must stay
/// below `max_abs` in every slot.
///
/// The scale is `2^ceil(B + ½·log2 N + precision_bits)` with `B` the log2
/// of [`Smudging::log2_total_bound`] at the noise of
/// [`ckks_fresh_noise_bound`]; it is usually well above one prime (about
/// 2^80 at N = 8192), so encrypt and decrypt at the top level: the
/// parameters are for sums of fresh encryptions (aggregation, voting,
/// statistics), not for multiplying and rescaling at that scale. Then
///
/// ```
/// # fn main() -> Result<(), threshold::Error> {
/// let rlwe = ckks::Parameters::preset(ckks::Preset::N8192)?.rlwe().clone();
/// let (parties, inputs) = (5, 10);
/// let params = threshold::ckks_parameters(rlwe, parties, inputs, 1024.0, 20.0)?;
/// let noise = threshold::ckks_fresh_noise_bound(params.rlwe(), parties, inputs);
/// // any t ≤ parties decrypt with λ = 40 at 20 bits of precision
/// let smudging = threshold::Smudging::for_ckks(
///     &params, params.scale(), noise, 3, 20.0, threshold::STATISTICAL_SECURITY,
/// )?;
/// assert!(smudging.log2_sigma() > 40.0);
/// # Ok(())
/// # }
/// ```
///
/// Errors: [`ckks::Error::InvalidArgument`] for a `max_abs` that is not
/// finite and positive or a `precision_bits` outside `0..=40`;
/// [`Error::SmudgingTooLarge`] when the scale plus the values' headroom
/// (`log2(√2·max_abs) + 2` bits) exceeds the top-level modulus `Q`.
pub fn ckks_parameters(
    rlwe: Arc<Params>,
    parties: usize,
    ciphertexts: usize,
    max_abs: f64,
    precision_bits: f64,
) -> Result<ckks::Parameters> {
    if !(max_abs.is_finite() && max_abs > 0.0) {
        return Err(ckks::Error::InvalidArgument {
            what: format!("max_abs = {max_abs} must be finite and positive"),
        }
        .into());
    }
    if !(0.0..=40.0).contains(&precision_bits) {
        return Err(ckks::Error::InvalidArgument {
            what: format!("precision of {precision_bits} bits (0 to 40)"),
        }
        .into());
    }
    let log2_noise = ckks_fresh_noise_bound(&rlwe, parties, ciphertexts);
    let smudging = Smudging::new(log2_noise, STATISTICAL_SECURITY);
    smudging.check_width()?;
    let embed = 0.5 * (rlwe.degree() as f64).log2();
    let needed = smudging.log2_total_bound(parties, log2_noise) + embed + precision_bits;
    // strictly above what `Smudging::for_ckks` needs
    let log_scale = needed.floor() + 1.0;
    let log_q: f64 = rlwe.q().iter().map(|&q| (q as f64).log2()).sum();
    let headroom = (std::f64::consts::SQRT_2 * max_abs).log2().max(0.0) + 2.0;
    if log_scale + headroom > log_q {
        return Err(Error::SmudgingTooLarge {
            needed_bits: log_scale + headroom,
            available_bits: log_q,
        });
    }
    Ok(ckks::Parameters::new(rlwe, log_scale.exp2())?)
}
