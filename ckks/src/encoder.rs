//! The CKKS encoder: the canonical embedding of `R = Z[X]/(X^N + 1)` into
//! `N/2` complex slots, computed with the "special FFT" in `O(N log N)`.
//!
//! Slot `j` holds `m(ζ^{5^j})` for `ζ = e^{iπ/N}`, so the Galois element
//! `5^k mod 2N` rotates the slots left by `k` (slot `j` receives slot
//! `j + k`) and `2N − 1` conjugates them.
//!
//! ## How the special FFT works
//! Write `n = N/2` and pair the real coefficients as `w_i = m_i + i·m_{i+n}`
//! (`i < n`). Every slot point `ζ^{5^j}` satisfies `ζ^{5^j·n} = i` (because
//! `5^j ≡ 1 mod 4`), so `m(ζ^{5^j}) = Σ_i w_i ζ^{5^j·i}`; writing
//! `5^j = 4t_j + 1` this is `Σ_i (w_i ζ^i)·e^{2πi·t_j·i/n}`, a size-`n`
//! DFT of the twisted vector `w_i ζ^i` read at index `t_j`. Decoding is
//! one twist and one FFT; encoding is the inverse FFT and the inverse
//! twist. Every root is computed directly with `sin`/`cos` (no accumulated
//! products), so the transform's relative error is about `2^-52·log2 n`.

use std::sync::Arc;

use rlwe::poly::{Poly, Representation, RingContext};
use rlwe::zq::Modulus;

use crate::complex::Complex;
use crate::params::Parameters;
use crate::{Error, Result};

/// An encoded message: a polynomial over `Q_l` (NTT form when it comes from
/// the encoder, coefficient form when it comes from decryption) and the
/// scale its slots were multiplied by.
#[derive(Clone, Debug)]
pub struct Plaintext {
    pub(crate) params: Parameters,
    pub(crate) poly: Poly,
    pub(crate) scale: f64,
    pub(crate) level: usize,
}

impl Plaintext {
    /// Wraps a polynomial over a level of `params` (either representation).
    pub fn from_poly(params: &Parameters, poly: Poly, scale: f64) -> Result<Self> {
        let level = params.rlwe().level_of(poly.context())?;
        check_scale(scale)?;
        Ok(Self {
            params: params.clone(),
            poly,
            scale,
            level,
        })
    }

    /// The parameters.
    pub fn params(&self) -> &Parameters {
        &self.params
    }

    /// The polynomial over `Q_l`.
    pub fn poly(&self) -> &Poly {
        &self.poly
    }

    /// The polynomial in NTT form (borrowed when it already is).
    pub(crate) fn ntt_poly(&self) -> std::borrow::Cow<'_, Poly> {
        if self.poly.representation() == Representation::Ntt {
            std::borrow::Cow::Borrowed(&self.poly)
        } else {
            let mut p = self.poly.clone();
            p.to_ntt();
            std::borrow::Cow::Owned(p)
        }
    }

    /// The scale Δ: slot values are `m(ζ^{5^j}) / Δ`.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// The level `l` (the polynomial lives modulo `q_0 ⋯ q_l`).
    pub fn level(&self) -> usize {
        self.level
    }
}

pub(crate) fn check_scale(scale: f64) -> Result<()> {
    if !scale.is_finite() || scale <= 0.0 {
        return Err(Error::ValueOutOfRange {
            what: format!("scale {scale} must be finite and positive"),
        });
    }
    Ok(())
}

/// How far decoded values are from reference values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PrecisionStats {
    /// `log2` of the largest absolute error (`-inf` when exact).
    pub max_error_log2: f64,
    /// `log2` of the mean absolute error.
    pub mean_error_log2: f64,
    /// Number of values compared.
    pub count: usize,
}

impl PrecisionStats {
    /// Compares real values (pairs up to the shorter length).
    pub fn compare(got: &[f64], expected: &[f64]) -> Self {
        let errs: Vec<f64> = got
            .iter()
            .zip(expected)
            .map(|(a, b)| (a - b).abs())
            .collect();
        Self::from_errors(&errs)
    }

    /// Compares complex values (modulus of the difference).
    pub fn compare_complex(got: &[Complex], expected: &[Complex]) -> Self {
        let errs: Vec<f64> = got
            .iter()
            .zip(expected)
            .map(|(a, b)| (*a - *b).abs())
            .collect();
        Self::from_errors(&errs)
    }

    fn from_errors(errs: &[f64]) -> Self {
        let max = errs.iter().copied().fold(0.0, f64::max);
        let mean = if errs.is_empty() {
            0.0
        } else {
            errs.iter().sum::<f64>() / errs.len() as f64
        };
        Self {
            max_error_log2: max.log2(),
            mean_error_log2: mean.log2(),
            count: errs.len(),
        }
    }

    /// Bits of precision kept: `−max_error_log2`.
    pub fn bits(&self) -> f64 {
        -self.max_error_log2
    }
}

/// The special FFT tables for one ring degree.
#[derive(Debug)]
struct SpecialFft {
    /// Number of slots `n = N/2`.
    n: usize,
    /// `t_j = (5^j mod 2N − 1)/4`: the DFT index read by slot `j`.
    slot_index: Vec<usize>,
    /// `ζ^i = e^{iπ i/N}` for `i < n`.
    twist: Vec<Complex>,
    /// `e^{2πi k/n}` for `k < n/2`.
    roots: Vec<Complex>,
    /// Bit-reversal permutation of size `n`.
    bitrev: Vec<usize>,
}

impl SpecialFft {
    fn new(degree: usize) -> Self {
        let n = degree / 2;
        let two_n_ring = 2 * degree;
        let mut slot_index = Vec::with_capacity(n);
        let mut g = 1usize;
        for _ in 0..n {
            slot_index.push((g - 1) / 4);
            g = g * 5 % two_n_ring;
        }
        let pi = std::f64::consts::PI;
        let twist = (0..n)
            .map(|i| Complex::from_angle(pi * i as f64 / degree as f64))
            .collect();
        let roots = (0..n / 2)
            .map(|k| Complex::from_angle(2.0 * pi * k as f64 / n as f64))
            .collect();
        let bits = n.trailing_zeros();
        let bitrev = (0..n)
            .map(|i| {
                if bits == 0 {
                    0
                } else {
                    i.reverse_bits() >> (usize::BITS - bits)
                }
            })
            .collect();
        Self {
            n,
            slot_index,
            twist,
            roots,
            bitrev,
        }
    }

    /// In-place DFT `X_t = Σ_i x_i e^{±2πi t i/n}` (`inverse` uses the minus
    /// sign and does not normalize).
    fn fft(&self, a: &mut [Complex], inverse: bool) {
        let n = self.n;
        for i in 0..n {
            let j = self.bitrev[i];
            if i < j {
                a.swap(i, j);
            }
        }
        let mut len = 2;
        while len <= n {
            let half = len / 2;
            let stride = n / len;
            for start in (0..n).step_by(len) {
                for k in 0..half {
                    let mut w = self.roots[k * stride];
                    if inverse {
                        w = w.conj();
                    }
                    let u = a[start + k];
                    let v = a[start + k + half] * w;
                    a[start + k] = u + v;
                    a[start + k + half] = u - v;
                }
            }
            len <<= 1;
        }
    }

    /// Slots → coefficients (real, unscaled): `N` values.
    fn embed_inverse(&self, slots: &[Complex]) -> Vec<f64> {
        let n = self.n;
        let mut x = vec![Complex::default(); n];
        for (j, z) in slots.iter().enumerate().take(n) {
            x[self.slot_index[j]] = *z;
        }
        self.fft(&mut x, true);
        let inv_n = 1.0 / n as f64;
        let mut m = vec![0.0f64; 2 * n];
        for i in 0..n {
            let w = x[i] * self.twist[i].conj();
            m[i] = w.re * inv_n;
            m[i + n] = w.im * inv_n;
        }
        m
    }

    /// Coefficients → slots.
    fn embed(&self, coeffs: &[f64]) -> Vec<Complex> {
        let n = self.n;
        let mut x: Vec<Complex> = (0..n)
            .map(|i| Complex::new(coeffs[i], coeffs[i + n]) * self.twist[i])
            .collect();
        self.fft(&mut x, false);
        self.slot_index.iter().map(|&t| x[t]).collect()
    }
}

/// `x.round()` (ties away from zero) without the libm call for
/// `|x| < 2^51`: adding and subtracting 1.5·2^52 rounds to nearest even,
/// and an exact tie is moved away from zero.
#[inline]
pub(crate) fn round_half_away(x: f64) -> f64 {
    const M: f64 = 6_755_399_441_055_744.0; // 1.5·2^52
    if x.abs() >= 2_251_799_813_685_248.0 {
        // 2^51: no fractional part left to round, or too large for the trick
        return x.round();
    }
    // (the sign of a zero result follows x, as for f64::round)
    let r = ((x + M) - M).copysign(x);
    if (x - r).abs() == 0.5 {
        x + 0.5f64.copysign(x)
    } else {
        r
    }
}

/// `x mod q` for an integral `f64` of any magnitude (exact: the value is
/// split into its 53-bit mantissa and a power of two).
pub(crate) fn reduce_f64(m: &Modulus, x: f64) -> u64 {
    if x.abs() < 9.2e18 {
        return m.reduce_i64(x as i64);
    }
    let bits = x.abs().to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i64 - 1075;
    let mant = (bits & ((1u64 << 52) - 1)) | (1u64 << 52);
    // x = ±mant · 2^exp with exp > 0 here (|x| ≥ 2^63).
    let r = m.mul(m.reduce(mant), m.pow(2, exp.max(0) as u64));
    if x < 0.0 {
        m.neg(r)
    } else {
        r
    }
}

/// Encodes and decodes CKKS plaintexts for one parameter set.
#[derive(Clone, Debug)]
pub struct Encoder {
    params: Parameters,
    fft: Arc<SpecialFft>,
}

impl Encoder {
    /// An encoder for `params` (precomputes the special FFT tables).
    pub fn new(params: &Parameters) -> Self {
        Self {
            params: params.clone(),
            fft: Arc::new(SpecialFft::new(params.degree())),
        }
    }

    /// The parameters.
    pub fn params(&self) -> &Parameters {
        &self.params
    }

    /// Number of slots (N/2).
    pub fn slots(&self) -> usize {
        self.fft.n
    }

    /// Encodes real values (missing slots are zero) at the top level and the
    /// default scale.
    pub fn encode(&self, values: &[f64]) -> Result<Plaintext> {
        self.encode_at(values, self.params.max_level(), self.params.scale())
    }

    /// Encodes real values at `level` with `scale`.
    pub fn encode_at(&self, values: &[f64], level: usize, scale: f64) -> Result<Plaintext> {
        let z: Vec<Complex> = values.iter().map(|&x| Complex::real(x)).collect();
        self.encode_complex_at(&z, level, scale)
    }

    /// Encodes complex values at the top level and the default scale.
    pub fn encode_complex(&self, values: &[Complex]) -> Result<Plaintext> {
        self.encode_complex_at(values, self.params.max_level(), self.params.scale())
    }

    /// Encodes complex values at `level` with `scale`. Coefficients
    /// `round(Δ·m_i)` of any size are reduced exactly modulo each prime;
    /// the result must fit `Q_l/2`.
    pub fn encode_complex_at(
        &self,
        values: &[Complex],
        level: usize,
        scale: f64,
    ) -> Result<Plaintext> {
        self.params.check_level(level, "encoding level")?;
        check_scale(scale)?;
        if values.len() > self.fft.n {
            return Err(Error::TooManyValues {
                got: values.len(),
                max: self.fft.n,
            });
        }
        if let Some(i) = values.iter().position(|z| !z.is_finite()) {
            return Err(Error::ValueOutOfRange {
                what: format!("value {i} is not finite"),
            });
        }
        let coeffs = self.fft.embed_inverse(values);
        let ring = self.params.rlwe().ring_q(level)?;
        let poly = self.coeffs_to_poly(ring, coeffs, scale, self.params.log_q(level))?;
        Ok(Plaintext {
            params: self.params.clone(),
            poly,
            scale,
            level,
        })
    }

    /// Real coefficients times `scale`, rounded, reduced, in NTT form.
    fn coeffs_to_poly(
        &self,
        ring: &Arc<RingContext>,
        mut scaled: Vec<f64>,
        scale: f64,
        log_q: f64,
    ) -> Result<Poly> {
        for c in &mut scaled {
            *c = round_half_away(*c * scale);
        }
        let max = scaled.iter().fold(0.0f64, |a, &c| a.max(c.abs()));
        if !max.is_finite() || (max > 0.0 && max.log2() >= log_q - 1.0) {
            return Err(Error::ValueOutOfRange {
                what: format!(
                    "scaled coefficient of 2^{:.1} bits does not fit Q_l of {:.1} bits",
                    max.log2(),
                    log_q
                ),
            });
        }
        let mut poly = if max < 9.2e18 {
            // integral and below 2^63: reduced by `rlwe` (vectorized when
            // below every prime)
            // (collected in place: the same allocation)
            let ints: Vec<i64> = scaled.into_iter().map(|c| c as i64).collect();
            Poly::from_i64(ring, &ints)?
        } else {
            let n = ring.degree();
            let mut data = vec![0u64; ring.len() * n];
            for (i, m) in ring.moduli().iter().enumerate() {
                for (d, &c) in data[i * n..(i + 1) * n].iter_mut().zip(&scaled) {
                    *d = reduce_f64(m, c);
                }
            }
            Poly::from_limbs(ring, Representation::Coefficient, data)?
        };
        poly.to_ntt();
        Ok(poly)
    }

    /// Decodes the real parts of the slots.
    pub fn decode(&self, pt: &Plaintext) -> Result<Vec<f64>> {
        Ok(self.decode_complex(pt)?.into_iter().map(|z| z.re).collect())
    }

    /// Decodes all `N/2` complex slots.
    pub fn decode_complex(&self, pt: &Plaintext) -> Result<Vec<Complex>> {
        self.params
            .check_same(&pt.params, "plaintext and encoder")?;
        let coeffs = centered_f64(&pt.poly);
        let inv = 1.0 / pt.scale;
        let scaled: Vec<f64> = coeffs.iter().map(|c| c * inv).collect();
        Ok(self.fft.embed(&scaled))
    }

    /// Slot values of a real coefficient vector (no scaling): the canonical
    /// embedding itself, for noise analysis.
    pub fn embed(&self, coeffs: &[f64]) -> Result<Vec<Complex>> {
        if coeffs.len() != self.params.degree() {
            return Err(Error::InvalidArgument {
                what: format!(
                    "{} coefficients for degree {}",
                    coeffs.len(),
                    self.params.degree()
                ),
            });
        }
        Ok(self.fft.embed(coeffs))
    }

    /// The real coefficients (unscaled, before rounding) of the polynomial
    /// whose slots are `values`.
    pub fn embed_inverse(&self, values: &[Complex]) -> Result<Vec<f64>> {
        if values.len() > self.fft.n {
            return Err(Error::TooManyValues {
                got: values.len(),
                max: self.fft.n,
            });
        }
        Ok(self.fft.embed_inverse(values))
    }
}

/// The centered coefficients of a polynomial as `f64`, by Garner's
/// mixed-radix CRT with balanced digits (exact digits; the final `f64`
/// Horner evaluation has relative error about `L·2^-53`).
pub(crate) fn centered_f64(p: &Poly) -> Vec<f64> {
    let mut p = p.clone();
    p.to_coeff();
    let ctx = p.context().clone();
    let moduli = ctx.moduli();
    let l = moduli.len();
    let n = ctx.degree();
    // inv_prefix[i] = (q_0 ⋯ q_{i-1})^{-1} mod q_i
    let inv_prefix: Vec<u64> = (0..l)
        .map(|i| {
            let m = &moduli[i];
            let prod = moduli[..i]
                .iter()
                .fold(1u64, |acc, q| m.mul(acc, m.reduce(q.value())));
            m.inv(prod).unwrap_or(0)
        })
        .collect();
    // qmod[i][j] = q_j mod q_i
    let qmod: Vec<Vec<u64>> = (0..l)
        .map(|i| {
            moduli[..i]
                .iter()
                .map(|q| moduli[i].reduce(q.value()))
                .collect()
        })
        .collect();
    let qf: Vec<f64> = moduli.iter().map(|m| m.value() as f64).collect();
    let data = p.data();
    let mut out = vec![0.0f64; n];
    let mut a = vec![0i64; l];
    for (c, o) in out.iter_mut().enumerate() {
        a[0] = moduli[0].center(data[c]);
        for i in 1..l {
            let m = &moduli[i];
            // (a_0 + a_1 q_0 + … + a_{i-1} q_0⋯q_{i-2}) mod q_i, by Horner.
            let mut acc = m.reduce_i64(a[i - 1]);
            for j in (0..i - 1).rev() {
                acc = m.add(m.mul(acc, qmod[i][j]), m.reduce_i64(a[j]));
            }
            let d = m.mul(m.sub(data[i * n + c], acc), inv_prefix[i]);
            a[i] = m.center(d);
        }
        let mut v = a[l - 1] as f64;
        for i in (0..l - 1).rev() {
            v = v * qf[i] + a[i] as f64;
        }
        *o = v;
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn special_fft_matches_naive_embedding() {
        let n_ring = 64usize;
        let fft = SpecialFft::new(n_ring);
        let coeffs: Vec<f64> = (0..n_ring).map(|i| ((i * 7 % 13) as f64) - 6.0).collect();
        let fast = fft.embed(&coeffs);
        for (j, z) in fast.iter().enumerate() {
            // m(ζ^{5^j}) by direct summation
            let mut g = 1usize;
            for _ in 0..j {
                g = g * 5 % (2 * n_ring);
            }
            let mut s = Complex::default();
            for (i, &c) in coeffs.iter().enumerate() {
                let ang = std::f64::consts::PI * ((g * i) % (2 * n_ring)) as f64 / n_ring as f64;
                s = s + Complex::from_angle(ang).scale(c);
            }
            assert!((s - *z).abs() < 1e-9, "slot {j}");
        }
        let back = fft.embed_inverse(&fast);
        for (a, b) in back.iter().zip(&coeffs) {
            assert!((a - b).abs() < 1e-9);
        }
    }

    #[test]
    fn rounding_matches_f64_round() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let mut xs = vec![
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            -1.5,
            2.5,
            -2.5,
            0.49999999999999994,
            -0.49999999999999994,
            4503599627370495.5,
            -4503599627370495.5,
            2251799813685247.5,
            -2251799813685247.5,
            2251799813685248.0,
            1e18 + 0.5,
            -3e300,
            f64::MAX,
            f64::MIN,
        ];
        for _ in 0..10_000 {
            let e = rng.gen_range(-5..60);
            xs.push(rng.gen_range(-1.0..1.0) * 2f64.powi(e));
            xs.push(rng.gen_range(-1000i64..1000) as f64 + 0.5);
        }
        for x in xs {
            assert_eq!(round_half_away(x).to_bits(), x.round().to_bits(), "{x}");
        }
    }

    #[test]
    fn reduce_f64_is_exact_for_huge_values() {
        let m = Modulus::new(1125899903827969).unwrap();
        let x = 3.0f64 * 2f64.powi(100);
        // 3·2^100 mod q computed with u128 arithmetic: 2^100 = 2^50·2^50.
        let t = m.pow(2, 100);
        assert_eq!(reduce_f64(&m, x), m.mul(3, t));
        assert_eq!(reduce_f64(&m, -x), m.neg(m.mul(3, t)));
        assert_eq!(reduce_f64(&m, -5.0), m.neg(5));
    }
}
