//! Randomness: a ChaCha20 CSPRNG seeded from the OS, seed expansion with
//! domain separation, and the distributions RLWE needs (uniform, ternary,
//! centered binomial, discrete Gaussian, wide noise for smudging).

use rand::{CryptoRng, Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha256};
use std::sync::Arc;

use crate::poly::{Poly, Representation, RingContext};

/// A 32-byte seed.
pub type Seed = [u8; 32];

/// A ChaCha20 generator seeded from the operating system.
pub fn rng() -> ChaCha20Rng {
    ChaCha20Rng::from_entropy()
}

/// A fresh random seed.
pub fn random_seed<R: RngCore + CryptoRng>(rng: &mut R) -> Seed {
    let mut s = [0u8; 32];
    rng.fill_bytes(&mut s);
    s
}

/// The deterministic generator for `seed` in the context `domain`: the
/// ChaCha20 key is `SHA-256("hekit/rlwe/expand/v1" || len(domain) || domain || seed)`,
/// so different domains give independent streams.
pub fn expand_seed(seed: &Seed, domain: &[u8]) -> ChaCha20Rng {
    let mut h = Sha256::new();
    h.update(b"hekit/rlwe/expand/v1");
    h.update((domain.len() as u64).to_le_bytes());
    h.update(domain);
    h.update(seed);
    ChaCha20Rng::from_seed(h.finalize().into())
}

/// A uniform polynomial over `ctx` (each limb independently uniform, which
/// is uniform modulo `Q`). Sampled directly in the given representation:
/// uniform evaluations are uniform coefficients.
pub fn uniform_poly<R: RngCore>(ctx: &Arc<RingContext>, repr: Representation, rng: &mut R) -> Poly {
    let n = ctx.degree();
    let mut p = Poly::zero(ctx, repr);
    for (i, m) in ctx.moduli().iter().enumerate() {
        let q = m.value();
        let mask = u64::MAX >> q.leading_zeros();
        for d in p.limb_mut(i) {
            // Rejection sampling: unbiased.
            *d = loop {
                let x = rng.next_u64() & mask;
                if x < q {
                    break x;
                }
            };
        }
        debug_assert_eq!(p.limb(i).len(), n);
    }
    p
}

/// `n` coefficients uniform in {-1, 0, 1}.
pub fn ternary<R: RngCore + CryptoRng>(n: usize, rng: &mut R) -> Vec<i64> {
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let b = rng.gen::<u8>();
        if b < 255 {
            out.push((b % 3) as i64 - 1);
        }
    }
    out
}

/// Parameter η of the centered binomial error: variance η/2 = 10.5, σ ≈ 3.24.
pub const CBD_ETA: u32 = 21;

/// `n` coefficients from the centered binomial distribution with η = 21
/// (σ ≈ 3.24, support [-21, 21]).
pub fn cbd<R: RngCore + CryptoRng>(n: usize, rng: &mut R) -> Vec<i64> {
    let mask = (1u64 << CBD_ETA) - 1;
    (0..n)
        .map(|_| {
            let x = rng.next_u64();
            (x & mask).count_ones() as i64 - ((x >> 32) & mask).count_ones() as i64
        })
        .collect()
}

/// A standard normal sample (Box–Muller on 53-bit uniforms).
fn std_normal<R: RngCore>(rng: &mut R) -> f64 {
    loop {
        let u1: f64 = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let u2: f64 = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        if u1 > 0.0 {
            return (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        }
    }
}

/// `n` samples of a rounded Gaussian of standard deviation `sigma`,
/// truncated at `6·sigma` (the usual discrete Gaussian for RLWE errors).
pub fn gaussian<R: RngCore + CryptoRng>(n: usize, sigma: f64, rng: &mut R) -> Vec<i64> {
    let bound = (6.0 * sigma).ceil();
    (0..n)
        .map(|_| loop {
            let x = (std_normal(rng) * sigma).round();
            if x.abs() <= bound {
                break x as i64;
            }
        })
        .collect()
}

/// `n` samples of wide Gaussian noise of standard deviation `2^log2_sigma`
/// (up to 2^100), for smudging. Above 2^40 the low bits are filled with
/// uniform randomness so that no bit of the result is constant.
pub fn gaussian_wide<R: RngCore + CryptoRng>(n: usize, log2_sigma: f64, rng: &mut R) -> Vec<i128> {
    let log2_sigma = log2_sigma.clamp(0.0, 100.0);
    let shift = (log2_sigma - 40.0).max(0.0).floor() as u32;
    let sigma_hi = (log2_sigma - shift as f64).exp2();
    (0..n)
        .map(|_| {
            let hi = (std_normal(rng) * sigma_hi).round() as i128;
            if shift == 0 {
                hi
            } else {
                let low = (rng.gen::<u128>() & ((1u128 << shift) - 1)) as i128;
                (hi << shift) + low - (1i128 << (shift - 1))
            }
        })
        .collect()
}

/// `n` samples uniform in `[-2^bits + 1, 2^bits - 1]` (`bits ≤ 120`), for
/// uniform smudging.
pub fn uniform_wide<R: RngCore + CryptoRng>(n: usize, bits: u32, rng: &mut R) -> Vec<i128> {
    let bits = bits.min(120);
    let mask = (1u128 << (bits + 1)) - 1;
    let top = (1u128 << (bits + 1)) - 1; // values 0..top-1 map to -(2^bits-1)..2^bits-1
    (0..n)
        .map(|_| loop {
            let x = rng.gen::<u128>() & mask;
            if x < top {
                break x as i128 - ((1i128 << bits) - 1);
            }
        })
        .collect()
}

/// A polynomial (coefficient representation) from small signed samples.
pub fn small_poly(ctx: &Arc<RingContext>, coeffs: &[i64]) -> Poly {
    let n = ctx.degree();
    let mut p = Poly::zero(ctx, Representation::Coefficient);
    for (i, m) in ctx.moduli().iter().enumerate() {
        for (d, &c) in p.limb_mut(i).iter_mut().zip(&coeffs[..n.min(coeffs.len())]) {
            *d = m.reduce_i64(c);
        }
    }
    p
}

/// A polynomial (coefficient representation) from wide signed samples.
pub fn wide_poly(ctx: &Arc<RingContext>, coeffs: &[i128]) -> Poly {
    let mut p = Poly::zero(ctx, Representation::Coefficient);
    for (i, m) in ctx.moduli().iter().enumerate() {
        for (d, &c) in p.limb_mut(i).iter_mut().zip(coeffs) {
            *d = m.reduce_i128(c);
        }
    }
    p
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn stats(x: &[f64]) -> (f64, f64) {
        let n = x.len() as f64;
        let mean = x.iter().sum::<f64>() / n;
        let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
        (mean, var)
    }

    #[test]
    fn seed_expansion_is_deterministic_and_domain_separated() {
        let s = [7u8; 32];
        let mut r1 = expand_seed(&s, b"pk");
        let mut r2 = expand_seed(&s, b"pk");
        let mut r3 = expand_seed(&s, b"rlk");
        let x1: Vec<u64> = (0..8).map(|_| r1.next_u64()).collect();
        let x2: Vec<u64> = (0..8).map(|_| r2.next_u64()).collect();
        let x3: Vec<u64> = (0..8).map(|_| r3.next_u64()).collect();
        assert_eq!(x1, x2);
        assert_ne!(x1, x3);
    }

    #[test]
    fn ternary_support_and_moments() {
        let mut r = expand_seed(&[1; 32], b"t");
        let t = ternary(200_000, &mut r);
        assert!(t.iter().all(|&x| (-1..=1).contains(&x)));
        let f: Vec<f64> = t.iter().map(|&x| x as f64).collect();
        let (m, v) = stats(&f);
        assert!(m.abs() < 0.01, "mean {m}");
        assert!((v - 2.0 / 3.0).abs() < 0.01, "variance {v}");
    }

    #[test]
    fn cbd_support_and_moments() {
        let mut r = expand_seed(&[2; 32], b"e");
        let e = cbd(200_000, &mut r);
        assert!(e.iter().all(|&x| x.abs() <= CBD_ETA as i64));
        let f: Vec<f64> = e.iter().map(|&x| x as f64).collect();
        let (m, v) = stats(&f);
        assert!(m.abs() < 0.05, "mean {m}");
        assert!((v - 10.5).abs() < 0.25, "variance {v}");
    }

    #[test]
    fn gaussian_moments_and_tail() {
        let mut r = expand_seed(&[3; 32], b"g");
        let e = gaussian(200_000, 3.2, &mut r);
        assert!(e.iter().all(|&x| x.abs() <= 20));
        let f: Vec<f64> = e.iter().map(|&x| x as f64).collect();
        let (m, v) = stats(&f);
        assert!(m.abs() < 0.05);
        // rounding adds 1/12 to the variance
        assert!(
            (v - (3.2f64 * 3.2 + 1.0 / 12.0)).abs() < 0.25,
            "variance {v}"
        );
        for log_sigma in [20.0f64, 60.0] {
            let w = gaussian_wide(100_000, log_sigma, &mut r);
            let f: Vec<f64> = w.iter().map(|&x| x as f64 / log_sigma.exp2()).collect();
            let (m, v) = stats(&f);
            assert!(m.abs() < 0.02, "mean {m}");
            assert!((v - 1.0).abs() < 0.03, "normalized variance {v}");
            // low bits are not constant
            assert!(w.iter().any(|&x| x & 1 == 1));
        }
    }

    #[test]
    fn uniform_wide_range_and_moments() {
        let mut r = expand_seed(&[4; 32], b"u");
        let w = uniform_wide(100_000, 10, &mut r);
        assert!(w.iter().all(|&x| x.abs() < 1024));
        assert!(w.contains(&1023) && w.contains(&-1023));
        let f: Vec<f64> = w.iter().map(|&x| x as f64).collect();
        let (m, v) = stats(&f);
        assert!(m.abs() < 5.0);
        let expect = (2047.0f64 * 2047.0 - 1.0) / 12.0;
        assert!((v / expect - 1.0).abs() < 0.02);
    }

    #[test]
    fn uniform_poly_is_reduced_and_balanced() {
        let ctx = RingContext::new(
            4096,
            &crate::zq::generate_primes(&[50, 30], 4096, &[]).unwrap(),
        )
        .unwrap();
        let mut r = expand_seed(&[5; 32], b"a");
        let p = uniform_poly(&ctx, Representation::Ntt, &mut r);
        for (i, m) in ctx.moduli().iter().enumerate() {
            let q = m.value();
            assert!(p.limb(i).iter().all(|&x| x < q));
            let mean = p.limb(i).iter().map(|&x| x as f64 / q as f64).sum::<f64>() / 4096.0;
            assert!((mean - 0.5).abs() < 0.03, "normalized mean {mean}");
        }
    }
}
