//! # Distributed differential privacy for federated averaging
//!
//! Each client clips its update to L2 norm `C` and adds Gaussian noise of
//! variance `σ²/k_min` to every coordinate **before encrypting it**; the
//! encrypted sum of `k ≥ k_min` updates therefore carries Gaussian noise of
//! variance `k·σ²/k_min ≥ σ²` — the Gaussian mechanism applied to the sum —
//! while no party ever sees an individual update, noisy or not (the server
//! sees ciphertexts, the decryption committee sees only the noisy sum).
//! `k_min` is the session's minimum number of contributors
//! ([`crate::aggregation::AggregationConfig::min_contributors`]): with
//! dropout only the contributors' noise is in the sum, so each client adds
//! enough that `k_min` of them reach σ.
//!
//! ## Accounting
//!
//! Adjacency: two federations differ by **one client's update** added or
//! removed. After clipping, the L2 sensitivity of the sum is `C`
//! ([`Adjacency::AddRemove`]); if instead one client's update may be replaced
//! by another, it is `2C` ([`Adjacency::Replace`]). Dividing by the public
//! number of contributors does not change ε (noise and sensitivity scale
//! together).
//!
//! For one release (one round), ε at a given δ is computed with the
//! **analytic Gaussian mechanism** (Balle & Wang, ICML 2018): the mechanism
//! is (ε, δ)-DP iff `Φ(Δ/2σ − εσ/Δ) − e^ε·Φ(−Δ/2σ − εσ/Δ) ≤ δ`, solved for
//! ε by bisection. The classic bound `σ = Δ·sqrt(2 ln(1.25/δ))/ε` (Dwork &
//! Roth, Thm A.1, valid for ε < 1) is also provided; it always needs more
//! noise. Several rounds compose: this module reports the per-round
//! guarantee; use an RDP/zCDP accountant for many rounds (a Gaussian
//! mechanism with `Δ/σ = μ` is `μ²/2`-zCDP, and zCDP adds up over rounds —
//! [`DistributedGaussian::zcdp_rho`]).
//!
//! Against a coalition of `c` contributors that pools its own noise, the
//! remaining noise has variance `(k − c)·σ²/k_min`;
//! [`DistributedGaussian::guarantee`] reports ε for that case.
//!
//! Noise is sampled from the caller's CSPRNG (ChaCha20) with the Box–Muller
//! transform on 53-bit uniforms. Floating-point Gaussian samplers have
//! known subtle leaks in their lowest bits (Mironov, CCS 2012); here the
//! noise is followed by CKKS encoding and decryption noise (relative error
//! around 2^-50 of the scale), which is not a formal fix.

use rand::{CryptoRng, RngCore};

use crate::{Error, Result};

/// Which pairs of federations are neighbours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Adjacency {
    /// One client's update added or removed: sensitivity `C`.
    AddRemove,
    /// One client's update replaced: sensitivity `2C`.
    Replace,
}

impl Adjacency {
    /// L2 sensitivity of the sum for clipping norm `c`.
    pub fn sensitivity(self, clip_norm: f64) -> f64 {
        match self {
            Adjacency::AddRemove => clip_norm,
            Adjacency::Replace => 2.0 * clip_norm,
        }
    }
}

// ------------------------------------------------------------ normal tails

/// `ln erfc(z)` for `z ≥ 0` (Chebyshev fit of Numerical Recipes §6.2,
/// relative error of erfc below 1.2·10^-7 everywhere, no underflow).
fn ln_erfc_pos(z: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    t.ln() - z * z + poly
}

/// `ln Φ(x)` for the standard normal CDF.
fn ln_phi(x: f64) -> f64 {
    // Φ(x) = erfc(−x/√2)/2
    let z = -x / std::f64::consts::SQRT_2;
    if z >= 0.0 {
        ln_erfc_pos(z) - std::f64::consts::LN_2
    } else {
        (1.0 - 0.5 * ln_erfc_pos(-z).exp()).ln()
    }
}

/// The standard normal CDF.
pub fn normal_cdf(x: f64) -> f64 {
    ln_phi(x).exp()
}

// ------------------------------------------------------ Gaussian mechanism

/// The smallest δ for which the Gaussian mechanism with noise `sigma` and L2
/// sensitivity `sensitivity` is (ε, δ)-DP (Balle & Wang 2018, Thm 8).
pub fn analytic_delta(sigma: f64, sensitivity: f64, epsilon: f64) -> f64 {
    let a = sensitivity / (2.0 * sigma);
    let b = epsilon * sigma / sensitivity;
    let d = normal_cdf(a - b) - (epsilon + ln_phi(-a - b)).exp();
    d.max(0.0)
}

fn check_positive(x: f64, what: &str) -> Result<()> {
    if !(x.is_finite() && x > 0.0) {
        return Err(Error::OutOfRange(format!(
            "{what} = {x} must be finite and positive"
        )));
    }
    Ok(())
}

fn check_delta(delta: f64) -> Result<()> {
    if !(delta > 0.0 && delta < 1.0) {
        return Err(Error::OutOfRange(format!("δ = {delta} must be in (0, 1)")));
    }
    Ok(())
}

/// The smallest ε (to 10^-9 relative) for which the Gaussian mechanism is
/// (ε, δ)-DP; `OutOfRange` if even ε = 10^4 does not reach δ.
pub fn analytic_epsilon(sigma: f64, sensitivity: f64, delta: f64) -> Result<f64> {
    check_positive(sigma, "σ")?;
    check_positive(sensitivity, "sensitivity")?;
    check_delta(delta)?;
    if analytic_delta(sigma, sensitivity, 0.0) <= delta {
        return Ok(0.0);
    }
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    while analytic_delta(sigma, sensitivity, hi) > delta {
        hi *= 2.0;
        if hi > 1e4 {
            return Err(Error::OutOfRange(format!(
                "σ = {sigma} is too small for δ = {delta}"
            )));
        }
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if analytic_delta(sigma, sensitivity, mid) > delta {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-9 * hi {
            break;
        }
    }
    Ok(hi)
}

/// The smallest σ (to 10^-9 relative) for which the Gaussian mechanism is
/// (ε, δ)-DP, by bisection on [`analytic_delta`].
pub fn analytic_sigma(sensitivity: f64, epsilon: f64, delta: f64) -> Result<f64> {
    check_positive(sensitivity, "sensitivity")?;
    check_positive(epsilon, "ε")?;
    check_delta(delta)?;
    let (mut lo, mut hi) = (1e-6 * sensitivity, sensitivity);
    while analytic_delta(hi, sensitivity, epsilon) > delta {
        hi *= 2.0;
        if hi > 1e12 * sensitivity {
            return Err(Error::OutOfRange(format!(
                "no σ for ε = {epsilon}, δ = {delta}"
            )));
        }
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if analytic_delta(mid, sensitivity, epsilon) > delta {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-9 * hi {
            break;
        }
    }
    Ok(hi)
}

/// The classic calibration `σ = Δ·sqrt(2 ln(1.25/δ))/ε` (valid for ε < 1;
/// `OutOfRange` otherwise).
pub fn classic_sigma(sensitivity: f64, epsilon: f64, delta: f64) -> Result<f64> {
    check_positive(sensitivity, "sensitivity")?;
    check_positive(epsilon, "ε")?;
    check_delta(delta)?;
    if epsilon >= 1.0 {
        return Err(Error::OutOfRange(format!(
            "the classic Gaussian bound needs ε < 1 (got {epsilon}); use the analytic one"
        )));
    }
    Ok(sensitivity * (2.0 * (1.25 / delta).ln()).sqrt() / epsilon)
}

// ------------------------------------------------------------ sampling

/// A uniform in (0, 1] with 53 bits.
fn uniform_open<R: RngCore + CryptoRng>(rng: &mut R) -> f64 {
    ((rng.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Fills `out` with independent N(0, σ²) samples (Box–Muller) from `rng`.
pub fn gaussian_noise<R: RngCore + CryptoRng>(out: &mut [f64], sigma: f64, rng: &mut R) {
    let two_pi = 2.0 * std::f64::consts::PI;
    for pair in out.chunks_mut(2) {
        let u1 = uniform_open(rng);
        let u2 = uniform_open(rng);
        let r = sigma * (-2.0 * u1.ln()).sqrt();
        pair[0] = r * (two_pi * u2).cos();
        if let Some(x) = pair.get_mut(1) {
            *x = r * (two_pi * u2).sin();
        }
    }
}

/// Scales `update` down to L2 norm at most `clip_norm`; returns the norm
/// before clipping.
pub fn clip(update: &mut [f64], clip_norm: f64) -> f64 {
    let norm = update.iter().map(|x| x * x).sum::<f64>().sqrt();
    if norm > clip_norm && norm > 0.0 {
        let f = clip_norm / norm;
        for x in update.iter_mut() {
            *x *= f;
        }
    }
    norm
}

// ------------------------------------------------------------ the mechanism

/// Distributed Gaussian mechanism for the sum of clipped client updates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DistributedGaussian {
    clip_norm: f64,
    sigma: f64,
    delta: f64,
    min_contributors: usize,
    adjacency: Adjacency,
}

impl DistributedGaussian {
    /// Calibrated (analytic Gaussian mechanism) so that a sum of at least
    /// `min_contributors` updates clipped to `clip_norm` is (ε, δ)-DP.
    pub fn for_epsilon(
        clip_norm: f64,
        epsilon: f64,
        delta: f64,
        min_contributors: usize,
        adjacency: Adjacency,
    ) -> Result<Self> {
        let sigma = analytic_sigma(adjacency.sensitivity(clip_norm), epsilon, delta)?;
        Self::with_sigma(clip_norm, sigma, delta, min_contributors, adjacency)
    }

    /// A total noise `sigma` on the sum of at least `min_contributors`
    /// updates; ε is reported at `delta`.
    pub fn with_sigma(
        clip_norm: f64,
        sigma: f64,
        delta: f64,
        min_contributors: usize,
        adjacency: Adjacency,
    ) -> Result<Self> {
        check_positive(clip_norm, "clipping norm")?;
        check_positive(sigma, "σ")?;
        check_delta(delta)?;
        if min_contributors == 0 {
            return Err(Error::OutOfRange("min_contributors must be ≥ 1".into()));
        }
        Ok(Self {
            clip_norm,
            sigma,
            delta,
            min_contributors,
            adjacency,
        })
    }

    /// Clipping norm `C`.
    pub fn clip_norm(&self) -> f64 {
        self.clip_norm
    }

    /// Standard deviation σ of the noise on the sum (of `min_contributors`
    /// updates).
    pub fn sigma(&self) -> f64 {
        self.sigma
    }

    /// Standard deviation of each client's noise, `σ/sqrt(k_min)`.
    pub fn client_sigma(&self) -> f64 {
        self.sigma / (self.min_contributors as f64).sqrt()
    }

    /// δ.
    pub fn delta(&self) -> f64 {
        self.delta
    }

    /// L2 sensitivity of the sum.
    pub fn sensitivity(&self) -> f64 {
        self.adjacency.sensitivity(self.clip_norm)
    }

    /// ε of one round with at least `min_contributors` contributors.
    pub fn epsilon(&self) -> Result<f64> {
        analytic_epsilon(self.sigma, self.sensitivity(), self.delta)
    }

    /// ε of one round with `contributors` contributors of which `colluding`
    /// pool their own noise (the remaining noise has variance
    /// `(contributors − colluding)·σ²/k_min`).
    pub fn guarantee(&self, contributors: usize, colluding: usize) -> Result<f64> {
        let honest = contributors.saturating_sub(colluding);
        if honest == 0 {
            return Err(Error::OutOfRange("no honest contributor left".into()));
        }
        let s = self.client_sigma() * (honest as f64).sqrt();
        analytic_epsilon(s, self.sensitivity(), self.delta)
    }

    /// zCDP parameter ρ = Δ²/(2σ²) of one round (ρ adds up over rounds;
    /// ρ-zCDP implies (ρ + 2·sqrt(ρ·ln(1/δ)), δ)-DP).
    pub fn zcdp_rho(&self) -> f64 {
        let mu = self.sensitivity() / self.sigma;
        mu * mu / 2.0
    }

    /// ε at δ after `rounds` rounds through zCDP composition.
    pub fn epsilon_after(&self, rounds: usize) -> f64 {
        let rho = self.zcdp_rho() * rounds as f64;
        rho + 2.0 * (rho * (1.0 / self.delta).ln()).sqrt()
    }

    /// What a client does before encrypting: clip `update` to `C` and add
    /// its share of the noise, N(0, σ²/k_min) per coordinate, from `rng`.
    /// Returns the update's norm before clipping.
    pub fn privatize<R: RngCore + CryptoRng>(&self, update: &mut [f64], rng: &mut R) -> f64 {
        let norm = clip(update, self.clip_norm);
        let mut noise = vec![0.0; update.len()];
        gaussian_noise(&mut noise, self.client_sigma(), rng);
        for (x, e) in update.iter_mut().zip(noise) {
            *x += e;
        }
        norm
    }
}
