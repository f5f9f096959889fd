//! Randomness: a ChaCha20 CSPRNG seeded from the OS, seed expansion with
//! domain separation, and the distributions RLWE needs (uniform, ternary,
//! centered binomial, discrete Gaussian, wide noise for smudging).

use rand::{CryptoRng, Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha256};
use std::sync::Arc;

use crate::poly::{Poly, Representation, RingContext};
use crate::{Error, Result};

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

/// `n` coefficients with exactly `h` of them ±1 (positions and signs
/// uniform), the rest 0: a sparse ternary secret of Hamming weight `h`
/// (`h` is capped at `n`).
pub fn sparse_ternary<R: RngCore + CryptoRng>(n: usize, h: usize, rng: &mut R) -> Vec<i64> {
    let mut out = vec![0i64; n];
    let h = h.min(n);
    // a partial Fisher–Yates shuffle of the positions
    let mut idx: Vec<usize> = (0..n).collect();
    for k in 0..h {
        let j = k + rng.gen_range(0..n - k);
        idx.swap(k, j);
        out[idx[k]] = if rng.gen::<bool>() { 1 } else { -1 };
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

/// Largest `log2 σ` that [`gaussian_wide`] samples (σ ≤ 2^120). Wider
/// requests are an error, never clamped: every sample then stays below
/// 2^125 in absolute value, well inside `i128` (see [`gaussian_wide`]).
pub const WIDE_MAX_LOG2_SIGMA: f64 = 120.0;

/// Largest `bits` that [`uniform_wide`] samples.
pub const WIDE_MAX_UNIFORM_BITS: u32 = 120;

/// `n` samples of wide Gaussian noise of standard deviation exactly the
/// requested `σ = 2^log2_sigma`, for smudging, with
/// `0 ≤ log2_sigma ≤ WIDE_MAX_LOG2_SIGMA` (120); anything else (NaN and
/// infinities included) is [`Error::OutOfRange`], never a narrower width.
///
/// Up to 2^40 this is a rounded Gaussian. Above, with `s = ⌊log2 σ⌋ − 40`,
/// a rounded Gaussian `h` of width `σ / 2^s ∈ [2^40, 2^41)` gives the high
/// part and `s` uniform bits the low part: `x = h·2^s + u − 2^(s−1)`, so no
/// bit of the result is constant and the variance is `σ²(1 + O(2^-80))`.
///
/// Range: the Box–Muller normal uses 53-bit uniforms, so `|z| ≤
/// sqrt(2·53·ln 2) < 8.6` and `|h| < 8.6·2^41 < 2^45`; with `s ≤ 80`,
/// `|x| < 2^125 + 2^79 < 2^127`. The values reduce into any RNS limb with
/// [`Modulus::reduce_i128`](crate::zq::Modulus::reduce_i128) (see
/// [`wide_poly`]).
pub fn gaussian_wide<R: RngCore + CryptoRng>(
    n: usize,
    log2_sigma: f64,
    rng: &mut R,
) -> Result<Vec<i128>> {
    // `contains` is false for NaN.
    if !(0.0..=WIDE_MAX_LOG2_SIGMA).contains(&log2_sigma) {
        return Err(Error::OutOfRange {
            what: "wide Gaussian noise: log2(σ) must be in [0, 120]",
        });
    }
    let shift = (log2_sigma - 40.0).max(0.0).floor() as u32;
    let sigma_hi = (log2_sigma - shift as f64).exp2();
    Ok((0..n)
        .map(|_| {
            let hi = (std_normal(rng) * sigma_hi).round() as i128;
            if shift == 0 {
                hi
            } else {
                let low = (rng.gen::<u128>() & ((1u128 << shift) - 1)) as i128;
                (hi << shift) + low - (1i128 << (shift - 1))
            }
        })
        .collect())
}

/// `n` samples uniform in `[-2^bits + 1, 2^bits - 1]`, for uniform
/// smudging; `bits` above [`WIDE_MAX_UNIFORM_BITS`] (120) is
/// [`Error::OutOfRange`], never a narrower range.
pub fn uniform_wide<R: RngCore + CryptoRng>(n: usize, bits: u32, rng: &mut R) -> Result<Vec<i128>> {
    if bits > WIDE_MAX_UNIFORM_BITS {
        return Err(Error::OutOfRange {
            what: "wide uniform noise: at most 120 bits",
        });
    }
    let mask = (1u128 << (bits + 1)) - 1;
    let top = (1u128 << (bits + 1)) - 1; // values 0..top-1 map to -(2^bits-1)..2^bits-1
    Ok((0..n)
        .map(|_| loop {
            let x = rng.gen::<u128>() & mask;
            if x < top {
                break x as i128 - ((1i128 << bits) - 1);
            }
        })
        .collect())
}

/// `n` samples uniform in `[-bound, bound]` (`bound < 2^62`), by rejection
/// on the smallest covering power of two (unbiased): the masks of
/// Fiat–Shamir-with-aborts proofs (`hekit-zk`).
///
/// # Errors
/// [`Error::OutOfRange`] for `bound ≥ 2^62`.
pub fn uniform_centered<R: RngCore + CryptoRng>(
    n: usize,
    bound: u64,
    rng: &mut R,
) -> Result<Vec<i64>> {
    if bound >= 1 << 62 {
        return Err(Error::OutOfRange {
            what: "uniform centered samples: bound must be below 2^62",
        });
    }
    let width = 2 * bound + 1;
    let mask = u64::MAX >> width.leading_zeros();
    Ok((0..n)
        .map(|_| loop {
            let x = rng.next_u64() & mask;
            if x < width {
                break x as i64 - bound as i64;
            }
        })
        .collect())
}

/// `n` samples uniform in `[-bound, bound]` (`bound < 2^126`), by rejection
/// on the smallest covering power of two: the masks of proofs about wide
/// (smudging) noise in `hekit-zk`.
///
/// # Errors
/// [`Error::OutOfRange`] for `bound ≥ 2^126`.
pub fn uniform_centered_wide<R: RngCore + CryptoRng>(
    n: usize,
    bound: u128,
    rng: &mut R,
) -> Result<Vec<i128>> {
    if bound >= 1 << 126 {
        return Err(Error::OutOfRange {
            what: "uniform centered samples: bound must be below 2^126",
        });
    }
    let width = 2 * bound + 1;
    let mask = u128::MAX >> width.leading_zeros();
    Ok((0..n)
        .map(|_| loop {
            let x = rng.gen::<u128>() & mask;
            if x < width {
                break x as i128 - bound as i128;
            }
        })
        .collect())
}

/// A polynomial (coefficient representation) from small signed samples.
/// Samples below every modulus in magnitude (errors, ternary and sparse
/// secrets) are lifted branch-free, larger ones reduced.
pub fn small_poly(ctx: &Arc<RingContext>, coeffs: &[i64]) -> Poly {
    let n = ctx.degree();
    let src = &coeffs[..n.min(coeffs.len())];
    let bound = src.iter().map(|c| c.unsigned_abs()).max().unwrap_or(0);
    let mut p = Poly::zero(ctx, Representation::Coefficient);
    for (i, m) in ctx.moduli().iter().enumerate() {
        let q = m.value();
        if bound < q {
            for (d, &c) in p.limb_mut(i).iter_mut().zip(src) {
                *d = crate::poly::lift_small(c, q);
            }
        } else {
            for (d, &c) in p.limb_mut(i).iter_mut().zip(src) {
                *d = m.reduce_i64(c);
            }
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

    /// Known answers: every sample in range, both ends reached, mean ≈ 0
    /// and variance ≈ ((2b+1)² − 1)/12; a bound of 2^62 is refused.
    #[test]
    fn uniform_centered_range_and_moments() {
        let mut r = ChaCha20Rng::from_seed([9; 32]);
        let x = uniform_centered(200_000, 5, &mut r).unwrap();
        assert!(x.iter().all(|v| (-5..=5).contains(v)));
        assert!(x.contains(&-5) && x.contains(&5));
        let f: Vec<f64> = x.iter().map(|&v| v as f64).collect();
        let (mean, var) = stats(&f);
        assert!(mean.abs() < 0.03, "mean {mean}");
        assert!((var - 10.0).abs() < 0.1, "variance {var} (want 10)");
        let big = uniform_centered(1000, (1 << 47) + 3, &mut r).unwrap();
        assert!(big.iter().all(|v| v.unsigned_abs() <= (1 << 47) + 3));
        assert!(big.iter().any(|v| v.unsigned_abs() > 1 << 46));
        assert!(matches!(
            uniform_centered(1, 1 << 62, &mut r),
            Err(Error::OutOfRange { .. })
        ));
        // The wide form: small range moments, a 2^100 range reaches its top half.
        let w = uniform_centered_wide(200_000, 5, &mut r).unwrap();
        assert!(w.iter().all(|v| (-5..=5).contains(v)) && w.contains(&-5) && w.contains(&5));
        let f: Vec<f64> = w.iter().map(|&v| v as f64).collect();
        let (mean, var) = stats(&f);
        assert!(
            mean.abs() < 0.03 && (var - 10.0).abs() < 0.1,
            "{mean} {var}"
        );
        let big = uniform_centered_wide(1000, (1 << 100) + 3, &mut r).unwrap();
        assert!(big.iter().all(|v| v.unsigned_abs() <= (1 << 100) + 3));
        assert!(big.iter().any(|v| v.unsigned_abs() > 1 << 99));
        assert!(matches!(
            uniform_centered_wide(1, 1 << 126, &mut r),
            Err(Error::OutOfRange { .. })
        ));
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
            let w = gaussian_wide(100_000, log_sigma, &mut r).unwrap();
            let f: Vec<f64> = w.iter().map(|&x| x as f64 / log_sigma.exp2()).collect();
            let (m, v) = stats(&f);
            assert!(m.abs() < 0.02, "mean {m}");
            assert!((v - 1.0).abs() < 0.03, "normalized variance {v}");
            // low bits are not constant
            assert!(w.iter().any(|&x| x & 1 == 1));
        }
    }

    /// Issue 13, finding 4: widths above 2^100 were silently clamped. At
    /// σ = 2^90 (and at the cap, 2^120) the empirical standard deviation
    /// of 200 000 samples must be the requested one: the standard error of
    /// the normalized variance is sqrt(2/200 000) ≈ 0.32 %, the tolerance
    /// 2 % (about 6 standard errors), i.e. log2 of the empirical standard
    /// deviation within 0.015 of log2 σ; the old clamp to 2^100 gave a
    /// normalized variance of 2^-40 at 2^120.
    #[test]
    fn gaussian_wide_has_the_requested_width_when_wide() {
        let mut r = expand_seed(&[6; 32], b"w");
        for log_sigma in [90.0f64, 100.5, WIDE_MAX_LOG2_SIGMA] {
            let w = gaussian_wide(200_000, log_sigma, &mut r).unwrap();
            let f: Vec<f64> = w.iter().map(|&x| x as f64 / log_sigma.exp2()).collect();
            let (m, v) = stats(&f);
            assert!(m.abs() < 0.015, "σ = 2^{log_sigma}: normalized mean {m}");
            assert!(
                (v - 1.0).abs() < 0.02,
                "σ = 2^{log_sigma}: normalized variance {v}"
            );
            let log_sd = 0.5 * v.log2() + log_sigma;
            assert!((log_sd - log_sigma).abs() < 0.015, "log2 sd {log_sd}");
            // the range bound of the documentation: |x| < 2^125
            assert!(w.iter().all(|&x| x.unsigned_abs() < 1u128 << 125));
            assert!(w.iter().any(|&x| x & 1 == 1));
        }
    }

    #[test]
    fn gaussian_wide_refuses_widths_it_cannot_sample() {
        let mut r = expand_seed(&[7; 32], b"w");
        for bad in [
            WIDE_MAX_LOG2_SIGMA + 0.01,
            130.0,
            -1.0,
            f64::NAN,
            f64::INFINITY,
        ] {
            let e = gaussian_wide(4, bad, &mut r);
            assert!(
                matches!(e, Err(Error::OutOfRange { .. })),
                "log2 σ = {bad}: {e:?}"
            );
        }
        assert!(gaussian_wide(4, 0.0, &mut r).is_ok());
    }

    #[test]
    fn uniform_wide_refuses_more_than_120_bits() {
        let mut r = expand_seed(&[8; 32], b"u");
        let e = uniform_wide(4, WIDE_MAX_UNIFORM_BITS + 1, &mut r);
        assert!(matches!(e, Err(Error::OutOfRange { .. })), "{e:?}");
        let w = uniform_wide(1000, WIDE_MAX_UNIFORM_BITS, &mut r).unwrap();
        assert!(w.iter().all(|&x| x.unsigned_abs() < 1u128 << 120));
    }

    /// The path from a wide sample to the RNS residues: every limb holds
    /// the sample modulo its prime (against `rem_euclid`), and the centered
    /// CRT composition over a 183-bit Q gives the sample back, for samples
    /// at the widest supported σ and for the extremes of `i128`.
    #[test]
    fn wide_samples_reduce_exactly_into_the_residues() {
        let ctx = RingContext::new(
            1024,
            &crate::zq::generate_primes(&[61, 61, 61], 1024, &[]).unwrap(),
        )
        .unwrap();
        let mut r = expand_seed(&[9; 32], b"r");
        let mut xs = gaussian_wide(1024, WIDE_MAX_LOG2_SIGMA, &mut r).unwrap();
        xs[..6].copy_from_slice(&[
            i128::MAX,
            i128::MIN,
            i128::MIN + 1,
            (1i128 << 125) - 1,
            -(1i128 << 125) + 1,
            -1,
        ]);
        let p = wide_poly(&ctx, &xs);
        for (i, m) in ctx.moduli().iter().enumerate() {
            let q = m.value() as i128;
            for (j, &x) in xs.iter().enumerate() {
                assert_eq!(p.limb(i)[j] as i128, x.rem_euclid(q), "limb {i}, x = {x}");
            }
        }
        let back = p.centered_coeffs();
        for (x, b) in xs.iter().zip(&back) {
            assert_eq!(num_bigint::BigInt::from(*x), *b);
        }
    }

    #[test]
    fn uniform_wide_range_and_moments() {
        let mut r = expand_seed(&[4; 32], b"u");
        let w = uniform_wide(100_000, 10, &mut r).unwrap();
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
