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
        self.check_width()?;
        let mut e = sample::wide_poly(
            ring,
            &sample::gaussian_wide(ring.degree(), self.log2_sigma, rng)?,
        );
        e.to_ntt();
        Ok(e)
    }
}
