//! Negacyclic NTT over one prime, on `tfhe-ntt`.
//!
//! This is the only file that touches `tfhe-ntt`: [`NttPlan`] wraps its
//! `prime64::Plan`, whose AVX-512 IFMA kernels are used for primes below
//! 2^50 (about 2× faster than the 64-bit kernels used above that).
//!
//! Conventions: [`NttPlan::forward`] maps coefficients to evaluations at the
//! odd powers of a primitive 2N-th root of unity, in the order `tfhe-ntt`
//! chooses (bit-reversed); [`NttPlan::backward`] is its exact inverse
//! (normalized by N^{-1}). Products in the NTT domain are exact products
//! modulo `X^N + 1` after the backward transform.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use crate::zq::Modulus;
use crate::{Error, Result};

/// An NTT plan for one prime and one ring degree.
pub struct NttPlan {
    plan: tfhe_ntt::prime64::Plan,
    modulus: Modulus,
    degree: usize,
    /// IFMA Barrett constants for pointwise products (primes below 2^50).
    pointwise: Option<crate::simd::Barrett52>,
    /// Cache of NTT-domain permutations for automorphisms X -> X^k.
    galois: Mutex<HashMap<usize, std::sync::Arc<Vec<u32>>>>,
    /// Slots as exponents of one root, made on first use
    /// ([`NttPlan::exponent_tables`]).
    exponents: OnceLock<ExponentTables>,
}

/// Every NTT slot's evaluation point as an odd power `r^e` of one
/// primitive 2N-th root `r` (the first slot's point), and back.
struct ExponentTables {
    /// `e` of slot `i`.
    of_slot: Vec<u32>,
    /// The slot of odd `e < 2N` (even entries unused).
    slot_of: Vec<u32>,
}

impl std::fmt::Debug for NttPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NttPlan")
            .field("modulus", &self.modulus.value())
            .field("degree", &self.degree)
            .field("ifma", &self.plan.use_ifma())
            .finish()
    }
}

impl NttPlan {
    /// A plan for `X^degree + 1` modulo the prime `p ≡ 1 (mod 2·degree)`.
    pub fn new(degree: usize, p: u64) -> Result<Self> {
        let modulus = Modulus::new(p)?;
        if !degree.is_power_of_two() || degree < 16 {
            return Err(Error::InvalidParameters {
                reason: format!("NTT degree {degree} must be a power of two ≥ 16"),
            });
        }
        if p % (2 * degree as u64) != 1 || !crate::zq::is_prime(p) {
            return Err(Error::InvalidParameters {
                reason: format!("{p} is not a prime ≡ 1 mod {}", 2 * degree),
            });
        }
        let plan = tfhe_ntt::prime64::Plan::try_new(degree, p).ok_or_else(|| {
            Error::InvalidParameters {
                reason: format!("no negacyclic NTT of size {degree} modulo {p}"),
            }
        })?;
        Ok(Self {
            plan,
            modulus,
            degree,
            pointwise: crate::simd::Barrett52::new(p),
            galois: Mutex::new(HashMap::new()),
            exponents: OnceLock::new(),
        })
    }

    /// The prime modulus.
    #[inline]
    pub fn modulus(&self) -> &Modulus {
        &self.modulus
    }

    /// The ring degree N.
    #[inline]
    pub fn degree(&self) -> usize {
        self.degree
    }

    /// Whether the AVX-512 IFMA kernels serve this prime.
    pub fn uses_ifma(&self) -> bool {
        self.plan.use_ifma()
    }

    /// In-place forward transform; `a.len()` must equal the degree.
    #[inline]
    pub fn forward(&self, a: &mut [u64]) {
        self.plan.fwd(a);
    }

    /// In-place backward transform, the exact inverse of [`Self::forward`].
    #[inline]
    pub fn backward(&self, a: &mut [u64]) {
        self.plan.inv(a);
        self.plan.normalize(a);
    }

    /// `acc[i] += a[i] * b[i] mod p` (NTT-domain multiply-accumulate).
    #[inline]
    pub fn mul_acc(&self, acc: &mut [u64], a: &[u64], b: &[u64]) {
        self.plan.mul_accumulate(acc, a, b);
    }

    /// `out[i] = a[i] * b[i] mod p` (inputs reduced; `out` may hold anything).
    #[inline]
    pub fn mul_into(&self, out: &mut [u64], a: &[u64], b: &[u64]) {
        match &self.pointwise {
            Some(k) => crate::simd::mul_mod(out, Some(a), b, k),
            None if !a.len().is_multiple_of(8) => {
                out.copy_from_slice(a);
                self.modulus.mul_vec(out, b);
            }
            None => {
                out.fill(0);
                self.plan.mul_accumulate(out, a, b);
            }
        }
    }

    /// `a[i] = a[i] * b[i] mod p` (inputs reduced).
    #[inline]
    pub fn mul_assign(&self, a: &mut [u64], b: &[u64]) {
        match &self.pointwise {
            // one pass, IFMA Barrett (primes below 2^50)
            Some(k) => crate::simd::mul_mod(a, None, b, k),
            // Larger primes: tfhe-ntt's vectorized multiply-accumulate into
            // the zeroed vector, from a copy (twice as fast as scalar
            // Barrett; `mul_assign_normalize` would add a factor N^{-1}).
            // (tfhe-ntt's kernels skip a tail that is not a multiple of 8)
            None if !a.len().is_multiple_of(8) => self.modulus.mul_vec(a, b),
            None => {
                let mut copy = crate::pool::take_overwrite(a.len());
                copy.copy_from_slice(a);
                a.fill(0);
                self.plan.mul_accumulate(a, &copy, b);
                crate::pool::give(copy);
            }
        }
    }

    /// The slot ↔ exponent tables: the powers `r^1, r^3, …, r^(2N−1)` of
    /// the first slot's point `r` are looked up among the slots once per
    /// plan; a permutation is then `e ↦ e·k mod 2N` on exponents (no
    /// modular powers or hashing per Galois element).
    fn exponent_tables(&self) -> Result<&ExponentTables> {
        if let Some(t) = self.exponents.get() {
            return Ok(t);
        }
        let n = self.degree;
        // The transform of X is the vector of evaluation points.
        let mut points = vec![0u64; n];
        points[1] = 1;
        self.forward(&mut points);
        let index: HashMap<u64, u32> = points
            .iter()
            .enumerate()
            .map(|(i, &w)| (w, i as u32))
            .collect();
        let not_closed = || Error::InvalidParameters {
            reason: "NTT evaluation points are not the odd powers of one 2N-th root".into(),
        };
        let m = &self.modulus;
        let r = points[0];
        let r2 = m.mul(r, r);
        let mut of_slot = vec![u32::MAX; n];
        let mut slot_of = vec![u32::MAX; 2 * n];
        let mut v = r;
        for e in (1..2 * n).step_by(2) {
            let i = *index.get(&v).ok_or_else(not_closed)?;
            if of_slot[i as usize] != u32::MAX {
                return Err(not_closed());
            }
            of_slot[i as usize] = e as u32;
            slot_of[e] = i;
            v = m.mul(v, r2);
        }
        Ok(self
            .exponents
            .get_or_init(|| ExponentTables { of_slot, slot_of }))
    }

    /// The NTT-domain permutation `perm` such that for `b = σ_k(a)`
    /// (`X -> X^k`, `k` odd), `NTT(b)[i] = NTT(a)[perm[i]]`.
    pub fn galois_permutation(&self, k: usize) -> Result<std::sync::Arc<Vec<u32>>> {
        let two_n = 2 * self.degree;
        if k.is_multiple_of(2) {
            return Err(Error::OutOfRange {
                what: "Galois element must be odd",
            });
        }
        let k = k % two_n;
        if let Ok(cache) = self.galois.lock() {
            if let Some(p) = cache.get(&k) {
                return Ok(p.clone());
            }
        }
        let t = self.exponent_tables()?;
        let perm: Vec<u32> = t
            .of_slot
            .iter()
            .map(|&e| t.slot_of[(e as usize * k) % two_n])
            .collect();
        let perm = std::sync::Arc::new(perm);
        if let Ok(mut cache) = self.galois.lock() {
            cache.insert(k, perm.clone());
        }
        Ok(perm)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::zq::generate_primes;
    use rand::{Rng, SeedableRng};

    /// Schoolbook negacyclic product: the independent reference.
    pub(crate) fn schoolbook(a: &[u64], b: &[u64], m: &Modulus) -> Vec<u64> {
        let n = a.len();
        let mut c = vec![0u64; n];
        for i in 0..n {
            for j in 0..n {
                let p = m.mul(a[i], b[j]);
                if i + j < n {
                    c[i + j] = m.add(c[i + j], p);
                } else {
                    c[i + j - n] = m.sub(c[i + j - n], p);
                }
            }
        }
        c
    }

    #[test]
    fn ntt_product_equals_schoolbook() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        for &n in &[16usize, 64, 1024] {
            for bits in [30u32, 49, 50, 55, 60, 61] {
                let p = generate_primes(&[bits], n, &[]).unwrap()[0];
                let plan = NttPlan::new(n, p).unwrap();
                let m = *plan.modulus();
                let a: Vec<u64> = (0..n).map(|_| rng.gen_range(0..p)).collect();
                let b: Vec<u64> = (0..n).map(|_| rng.gen_range(0..p)).collect();
                let expect = schoolbook(&a, &b, &m);
                let (mut fa, mut fb) = (a.clone(), b.clone());
                plan.forward(&mut fa);
                plan.forward(&mut fb);
                assert!(fa.iter().all(|&x| x < p), "forward output reduced");
                let mut prod = vec![0; n];
                plan.mul_into(&mut prod, &fa, &fb);
                let mut prod2 = fa.clone();
                plan.mul_assign(&mut prod2, &fb);
                assert_eq!(prod, prod2);
                plan.backward(&mut prod);
                assert_eq!(prod, expect, "n={n} p={p}");
                let mut back = fa.clone();
                plan.backward(&mut back);
                assert_eq!(back, a);
            }
        }
    }

    fn check_plan(plan: &NttPlan, a: &[u64], b: &[u64], expect: &[u64], bits: u32) {
        let mut out = vec![u64::MAX; a.len()];
        plan.mul_into(&mut out, a, b);
        assert_eq!(out, expect, "mul_into, {bits} bits, length {}", a.len());
        let mut inplace = a.to_vec();
        plan.mul_assign(&mut inplace, b);
        assert_eq!(
            inplace,
            expect,
            "mul_assign, {bits} bits, length {}",
            a.len()
        );
    }

    /// Pointwise products (the IFMA Barrett kernel below 2^50, tfhe-ntt /
    /// scalar Barrett above) against `u128` arithmetic, at the worst-case
    /// operands (`p − 1`, `p − 2`, `0`, `1`, `2^(L−1)`) and at random, for
    /// lengths that leave a scalar tail; in place and out of place agree.
    #[test]
    fn pointwise_products_equal_u128_reference() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for bits in [20u32, 30, 40, 44, 48, 49, 50, 55, 60] {
            let p = generate_primes(&[bits], 16, &[]).unwrap()[0];
            let plan = NttPlan::new(16, p).unwrap();
            let len = 16 * 9 + 5;
            let edge = [p - 1, p - 2, 0, 1, 1 << (bits - 1), p / 2, p / 2 + 1];
            let mut a: Vec<u64> = (0..len).map(|_| rng.gen_range(0..p)).collect();
            let mut b: Vec<u64> = (0..len).map(|_| rng.gen_range(0..p)).collect();
            for (i, &x) in edge.iter().enumerate() {
                for (j, &y) in edge.iter().enumerate() {
                    a[i * edge.len() + j] = x;
                    b[i * edge.len() + j] = y;
                }
            }
            a[len - 1] = p - 1;
            b[len - 1] = p - 1;
            let expect: Vec<u64> = a
                .iter()
                .zip(&b)
                .map(|(&x, &y)| (x as u128 * y as u128 % p as u128) as u64)
                .collect();
            // whole vectors and (for the fallbacks) a tail
            for whole in [len / 16 * 16, len] {
                check_plan(&plan, &a[..whole], &b[..whole], &expect[..whole], bits);
            }
            if let Some(k) = crate::simd::Barrett52::new(p) {
                // the kernel itself, with a scalar tail, and its scalar twin
                let mut out = vec![u64::MAX; len];
                crate::simd::mul_mod(&mut out, Some(&a), &b, &k);
                assert_eq!(out, expect, "kernel, p = {p}");
                let mut inplace = a.clone();
                crate::simd::mul_mod(&mut inplace, None, &b, &k);
                assert_eq!(inplace, expect, "kernel in place, p = {p}");
                for (i, (&x, &y)) in a.iter().zip(&b).enumerate() {
                    assert_eq!(k.mul(x, y), expect[i], "scalar twin, p = {p}");
                }
            } else {
                assert!(
                    bits > 50 || !crate::simd::ifma(),
                    "IFMA kernel for {bits} bits"
                );
            }
        }
    }

    #[test]
    fn galois_permutation_equals_naive_automorphism() {
        // every odd k at n = 64, a few at n = 2048; IFMA and 64-bit primes
        for (n, bits) in [(64usize, 50u32), (64, 60), (2048, 45), (2048, 61)] {
            let ks: Vec<usize> = if n == 64 {
                (1..2 * n).step_by(2).collect()
            } else {
                vec![3, 5, 25, 5usize.pow(7) % (2 * n), 2 * n - 1, 2 * n + 5]
            };
            check_galois_permutation(n, bits, &ks);
        }
    }

    fn check_galois_permutation(n: usize, bits: u32, ks: &[usize]) {
        let p = generate_primes(&[bits], n, &[]).unwrap()[0];
        let plan = NttPlan::new(n, p).unwrap();
        let m = *plan.modulus();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
        let a: Vec<u64> = (0..n).map(|_| rng.gen_range(0..p)).collect();
        for &k in ks {
            // naive: X^i -> X^{ik mod 2n} with sign flip past n
            let mut b = vec![0u64; n];
            for (i, &ai) in a.iter().enumerate() {
                let e = (i * k) % (2 * n);
                if e < n {
                    b[e] = m.add(b[e], ai);
                } else {
                    b[e - n] = m.sub(b[e - n], ai);
                }
            }
            let perm = plan.galois_permutation(k).unwrap();
            let mut fa = a.clone();
            plan.forward(&mut fa);
            let mut fb = b.clone();
            plan.forward(&mut fb);
            let permuted: Vec<u64> = perm.iter().map(|&j| fa[j as usize]).collect();
            assert_eq!(permuted, fb, "k = {k}");
        }
        assert!(matches!(
            plan.galois_permutation(4),
            Err(Error::OutOfRange { .. })
        ));
    }

    #[test]
    fn bad_plans_rejected() {
        assert!(NttPlan::new(1024, 65537).is_ok());
        assert!(matches!(
            NttPlan::new(1024, 65539),
            Err(Error::InvalidParameters { .. })
        ));
        assert!(matches!(
            NttPlan::new(1000, 65537),
            Err(Error::InvalidParameters { .. })
        ));
    }
}
