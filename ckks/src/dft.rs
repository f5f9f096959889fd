//! The special FFT of `n` slots factored into sparse stages, for the
//! homomorphic CoeffsToSlots and SlotsToCoeffs of bootstrapping (Cheon,
//! Han, Hhan, "Faster homomorphic discrete Fourier transforms", 2018; Chen,
//! Chillotti, Song, EUROCRYPT 2019).
//!
//! For a polynomial `t` of the subring `Z[Y]/(Y^{2n} + 1)` (`Y = X^{N/2n}`),
//! pair the coefficients as `w_i = t_i + i·t_{i+n}` (`i < n`). The slots are
//! `z_j = Σ_i w_i·ξ^{5^j·i}` with `ξ = e^{2πi/4n}` — what
//! [`Encoder::embed`](crate::Encoder) computes for the whole ring, tiled
//! with period `n`. As matrices, `z = S_L ⋯ S_2·S_1·R·w` with `R` the
//! bit-reversal permutation and `L = log2 n` butterfly stages: stage `k`
//! (blocks of `2^k`, half `h = 2^{k−1}`) maps, for `j < h` in each block,
//! `(u, v) ↦ (u + ω_j·v, u − ω_j·v)` with `ω_j = e^{2πi·(5^j mod 2^{k+2})/2^{k+2}}`,
//! where `u` sits at position `j` of the block and `v` at `j + h`. Each
//! stage has three nonzero diagonals (offsets `0`, `+h`, `−h`), so a
//! group of consecutive stages is a sparse matrix and one level of
//! rotations; the permutation `R` is never applied: CoeffsToSlots stops at
//! `R·w` (EvalMod works slot by slot) and SlotsToCoeffs starts there.

use std::collections::BTreeMap;

use crate::complex::Complex;

/// A matrix of dimension `n` by its diagonals: offset `o` ↦ `d_o` with
/// `M[p][(p + o) mod n] = d_o[p]`.
pub(crate) type Diagonals = BTreeMap<usize, Vec<Complex>>;

fn add_to(m: &mut Diagonals, n: usize, offset: usize, p: usize, v: Complex) {
    let d = m
        .entry(offset % n)
        .or_insert_with(|| vec![Complex::real(0.0); n]);
    d[p] = d[p] + v;
}

/// Stage `k` (blocks of `len = 2^k`) of the special FFT of size `n`, or
/// its inverse.
fn stage(n: usize, len: usize, inverse: bool) -> Diagonals {
    let h = len / 2;
    // ω_j for j < h (5^j mod 4·len, computed incrementally)
    let mut omegas = Vec::with_capacity(h);
    let modulus = 4 * len;
    let mut g = 1usize;
    for _ in 0..h {
        omegas.push(Complex::from_angle(
            2.0 * std::f64::consts::PI * g as f64 / modulus as f64,
        ));
        g = g * 5 % modulus;
    }
    let mut m = Diagonals::new();
    let half = Complex::real(0.5);
    for p in 0..n {
        let j = p % len;
        if j < h {
            let w = omegas[j];
            if inverse {
                // u = (u' + v')/2
                add_to(&mut m, n, 0, p, half);
                add_to(&mut m, n, h, p, half);
            } else {
                // u' = u + ω·v
                add_to(&mut m, n, 0, p, Complex::real(1.0));
                add_to(&mut m, n, h, p, w);
            }
        } else {
            let w = omegas[j - h];
            if inverse {
                // v = (u' − v')·conj(ω)/2
                let c = w.conj().scale(0.5);
                add_to(&mut m, n, n - h, p, c);
                add_to(&mut m, n, 0, p, -c);
            } else {
                // v' = u − ω·v
                add_to(&mut m, n, n - h, p, Complex::real(1.0));
                add_to(&mut m, n, 0, p, -w);
            }
        }
    }
    m
}

/// `A·B` (apply `B`, then `A`).
fn product(a: &Diagonals, b: &Diagonals, n: usize) -> Diagonals {
    let mut c = Diagonals::new();
    for (&oa, da) in a {
        for (&ob, db) in b {
            let d = c
                .entry((oa + ob) % n)
                .or_insert_with(|| vec![Complex::real(0.0); n]);
            for p in 0..n {
                d[p] = d[p] + da[p] * db[(p + oa) % n];
            }
        }
    }
    c
}

/// Splits `stages` into `groups` consecutive runs as even as possible
/// (earlier runs take the remainder).
fn split(stages: usize, groups: usize) -> Vec<usize> {
    let groups = groups.clamp(1, stages.max(1));
    (0..groups)
        .map(|i| stages / groups + usize::from(i < stages % groups))
        .collect()
}

/// The matrices of `c·S_1⁻¹ ⋯ S_L⁻¹` in application order (`S_L⁻¹`
/// first), grouped into `levels` matrices, the constant `c` folded into
/// the first: they map the slots `z` to `c·R·w`.
pub(crate) fn coeffs_to_slots(n: usize, levels: usize, c: Complex) -> Vec<Diagonals> {
    let log_n = n.trailing_zeros() as usize;
    let order: Vec<usize> = (1..=log_n).rev().collect();
    // the runs of SlotsToCoeffs in reverse, so that both transforms use
    // the same offsets (and rotation keys)
    let mut sizes = split(log_n, levels);
    sizes.reverse();
    grouped(n, &order, &sizes, c, true)
}

/// The matrices of `c·S_L ⋯ S_1` in application order (`S_1` first),
/// grouped into `levels` matrices, `c` folded into the first: they map
/// `R·w` to `c·z`.
pub(crate) fn slots_to_coeffs(n: usize, levels: usize, c: Complex) -> Vec<Diagonals> {
    let log_n = n.trailing_zeros() as usize;
    let order: Vec<usize> = (1..=log_n).collect();
    grouped(n, &order, &split(log_n, levels), c, false)
}

fn grouped(
    n: usize,
    order: &[usize],
    sizes: &[usize],
    c: Complex,
    inverse: bool,
) -> Vec<Diagonals> {
    let identity = || {
        let mut m = Diagonals::new();
        m.insert(0, vec![Complex::real(1.0); n]);
        m
    };
    let mut out = Vec::new();
    let mut at = 0;
    for &size in sizes {
        let mut m = identity();
        for &k in &order[at..at + size] {
            m = product(&stage(n, 1 << k, inverse), &m, n);
        }
        at += size;
        out.push(m);
    }
    if out.is_empty() {
        out.push(identity());
    }
    for v in out[0].values_mut() {
        for x in v.iter_mut() {
            *x = *x * c;
        }
    }
    out
}

/// The bit-reversal permutation of `0..n`.
#[cfg(test)]
fn bit_reverse(n: usize) -> Vec<usize> {
    let bits = n.trailing_zeros();
    (0..n)
        .map(|i| {
            if bits == 0 {
                0
            } else {
                i.reverse_bits() >> (usize::BITS - bits)
            }
        })
        .collect()
}

/// `M·x` for a matrix in diagonal form (a reference for tests).
#[cfg(test)]
fn apply(m: &Diagonals, x: &[Complex]) -> Vec<Complex> {
    let n = x.len();
    (0..n)
        .map(|p| {
            m.iter().fold(Complex::real(0.0), |acc, (o, d)| {
                acc + d[p] * x[(p + o) % n]
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random(n: usize, seed: u64) -> Vec<Complex> {
        let mut s = seed;
        let mut next = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        (0..n).map(|_| Complex::new(next(), next())).collect()
    }

    /// `z_j = Σ_i w_i ξ^{5^j·i}`, evaluated directly in O(n²).
    fn direct(w: &[Complex]) -> Vec<Complex> {
        let n = w.len();
        let m = 4 * n;
        let mut g = 1usize;
        let mut z = Vec::with_capacity(n);
        for _ in 0..n {
            let mut acc = Complex::real(0.0);
            for (i, wi) in w.iter().enumerate() {
                let e = (g * i) % m;
                acc = acc
                    + *wi * Complex::from_angle(2.0 * std::f64::consts::PI * e as f64 / m as f64);
            }
            z.push(acc);
            g = g * 5 % m;
        }
        z
    }

    #[test]
    fn stages_compose_to_the_special_fft_and_back() {
        for n in [1usize, 2, 4, 16, 64, 256] {
            let w = random(n, n as u64);
            let br = bit_reverse(n);
            let rw: Vec<Complex> = (0..n).map(|i| w[br[i]]).collect();
            let want = direct(&w);
            for levels in 1..=4 {
                let c = Complex::new(0.25, -1.5);
                let mut z = rw.clone();
                for m in slots_to_coeffs(n, levels, c) {
                    z = apply(&m, &z);
                }
                let err = z
                    .iter()
                    .zip(&want)
                    .map(|(a, b)| (*a - *b * c).abs())
                    .fold(0.0, f64::max);
                assert!(err < 1e-12 * n as f64, "n = {n}, {levels} levels: {err}");
                // and back: the inverse stages recover c'·R·w
                let c2 = Complex::new(0.5, 0.0);
                let mut back = want.clone();
                for m in coeffs_to_slots(n, levels, c2) {
                    back = apply(&m, &back);
                }
                let err = back
                    .iter()
                    .zip(&rw)
                    .map(|(a, b)| (*a - b.scale(0.5)).abs())
                    .fold(0.0, f64::max);
                assert!(err < 1e-12 * n as f64, "inverse, n = {n}: {err}");
            }
        }
    }

    #[test]
    fn a_group_of_k_stages_has_at_most_2_to_the_k_plus_1_diagonals() {
        let n = 1024;
        for (levels, max_run) in [(10usize, 1u32), (5, 2), (4, 3), (3, 4), (2, 5)] {
            for m in coeffs_to_slots(n, levels, Complex::real(1.0)) {
                assert!(m.len() < 1 << (max_run + 1), "{levels} levels: {}", m.len());
            }
        }
        assert_eq!(split(15, 4), vec![4, 4, 4, 3]);
        assert_eq!(split(3, 5), vec![1, 1, 1]);
    }
}
