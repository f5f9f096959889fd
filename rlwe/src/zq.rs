//! Arithmetic modulo word-size primes: [`Modulus`] with Barrett and Shoup
//! multiplication, inverses and powers, and generation of NTT-friendly
//! primes (`p ≡ 1 mod 2N`).

use crate::{Error, Result};

/// A prime modulus `p < 2^62` with precomputed Barrett constants.
///
/// All operations take and return values in `[0, p)` unless stated otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Modulus {
    p: u64,
    /// `floor(2^128 / p)` split in two words (Barrett reduction of 128-bit values).
    barrett_hi: u64,
    barrett_lo: u64,
    bits: u32,
}

/// Largest supported modulus size in bits.
pub const MAX_MODULUS_BITS: u32 = 61;

impl Modulus {
    /// A modulus `p` with `2 <= p < 2^61`. Primality is not checked here
    /// (see [`is_prime`]); the NTT needs a prime.
    pub fn new(p: u64) -> Result<Self> {
        if !(2..(1u64 << MAX_MODULUS_BITS)).contains(&p) {
            return Err(Error::InvalidParameters {
                reason: format!("modulus {p} outside [2, 2^{MAX_MODULUS_BITS})"),
            });
        }
        let r = u128::MAX / p as u128; // floor((2^128 - 1)/p) == floor(2^128/p) for p not a power of 2
        let r = if p.is_power_of_two() { r + 1 } else { r };
        Ok(Self {
            p,
            barrett_hi: (r >> 64) as u64,
            barrett_lo: r as u64,
            bits: 64 - p.leading_zeros(),
        })
    }

    /// The modulus value.
    #[inline]
    pub fn value(&self) -> u64 {
        self.p
    }

    /// Bit length of the modulus.
    #[inline]
    pub fn bits(&self) -> u32 {
        self.bits
    }

    /// `a + b mod p`.
    #[inline]
    pub fn add(&self, a: u64, b: u64) -> u64 {
        // branch-free (s − p wraps above s when s < p): data-dependent
        // branches here mispredict half the time
        let s = a + b;
        s.min(s.wrapping_sub(self.p))
    }

    /// `a - b mod p`.
    #[inline]
    pub fn sub(&self, a: u64, b: u64) -> u64 {
        // branch-free: a − b wraps above a − b + p exactly when a < b
        let d = a.wrapping_sub(b);
        d.min(d.wrapping_add(self.p))
    }

    /// `-a mod p`.
    #[inline]
    pub fn neg(&self, a: u64) -> u64 {
        if a == 0 {
            0
        } else {
            self.p - a
        }
    }

    /// Barrett reduction of a 128-bit value.
    #[inline]
    pub fn reduce_u128(&self, x: u128) -> u64 {
        let xl = x as u64 as u128;
        let xh = (x >> 64) as u64 as u128;
        let bl = self.barrett_lo as u128;
        let bh = self.barrett_hi as u128;
        // q = floor(x * r / 2^128), computed from the three significant partial products.
        let mid = ((xl * bl) >> 64) + xh * bl + xl * bh;
        let q = (mid >> 64) + xh * bh;
        // q underestimates floor(x/p) by at most 3, so r < 4p < 2^63.
        let mut r = x.wrapping_sub(q.wrapping_mul(self.p as u128)) as u64;
        while r >= self.p {
            r -= self.p;
        }
        r
    }

    /// `(⌊x/p⌋, x mod p)` for a 128-bit `x` (Barrett, no hardware division).
    #[inline]
    pub fn div_rem_u128(&self, x: u128) -> (u128, u64) {
        let xl = x as u64 as u128;
        let xh = (x >> 64) as u64 as u128;
        let bl = self.barrett_lo as u128;
        let bh = self.barrett_hi as u128;
        let mid = ((xl * bl) >> 64) + xh * bl + xl * bh;
        // q underestimates ⌊x/p⌋ by at most 3 (as in `reduce_u128`).
        let mut q = (mid >> 64) + xh * bh;
        let mut r = x.wrapping_sub(q.wrapping_mul(self.p as u128)) as u64;
        while r >= self.p {
            r -= self.p;
            q += 1;
        }
        (q, r)
    }

    /// `(⌊x/p⌋, x mod p)` for a 64-bit `x` (Barrett with `⌊2^64/p⌋`).
    #[inline]
    pub fn div_rem_u64(&self, x: u64) -> (u64, u64) {
        // the quotient estimate is at most 2 below ⌊x/p⌋ (as in `reduce`)
        let mut q = ((x as u128 * self.barrett_hi as u128) >> 64) as u64;
        let mut r = x.wrapping_sub(q.wrapping_mul(self.p));
        while r >= self.p {
            r -= self.p;
            q += 1;
        }
        (q, r)
    }

    /// `x mod p` for any 64-bit `x` (Barrett with `⌊2^64/p⌋`).
    #[inline]
    pub fn reduce(&self, x: u64) -> u64 {
        // barrett_hi = ⌊2^128/p⌋ >> 64 = ⌊2^64/p⌋; the quotient estimate is
        // at most 2 below ⌊x/p⌋.
        let q = ((x as u128 * self.barrett_hi as u128) >> 64) as u64;
        let mut r = x.wrapping_sub(q.wrapping_mul(self.p));
        if r >= self.p {
            r -= self.p;
        }
        if r >= self.p {
            r -= self.p;
        }
        r
    }

    /// `x mod p` for a signed value.
    #[inline]
    pub fn reduce_i64(&self, x: i64) -> u64 {
        // branch-free: the sign of encoded values is random, and a branch
        // on it mispredicts half the time
        let r = self.reduce(x.unsigned_abs());
        let n = self.p - r; // in [1, p]: p stands for 0
        let n = n.min(n.wrapping_sub(self.p));
        let neg = (x >> 63) as u64;
        (r & !neg) | (n & neg)
    }

    /// `x mod p` for a signed 128-bit value.
    #[inline]
    pub fn reduce_i128(&self, x: i128) -> u64 {
        if x >= 0 {
            self.reduce_u128(x as u128)
        } else {
            self.neg(self.reduce_u128(x.unsigned_abs()))
        }
    }

    /// The representative of `a` in `(-p/2, p/2]`.
    #[inline]
    pub fn center(&self, a: u64) -> i64 {
        if a > self.p / 2 {
            a as i64 - self.p as i64
        } else {
            a as i64
        }
    }

    /// `a * b mod p` (Barrett).
    #[inline]
    pub fn mul(&self, a: u64, b: u64) -> u64 {
        self.reduce_u128(a as u128 * b as u128)
    }

    /// Shoup precomputation `floor(b * 2^64 / p)` for a fixed multiplicand `b < p`.
    #[inline]
    pub fn shoup(&self, b: u64) -> u64 {
        (((b as u128) << 64) / self.p as u128) as u64
    }

    /// `a * b mod p` with `b_shoup = self.shoup(b)`; `a` may be any 64-bit value.
    #[inline]
    pub fn mul_shoup(&self, a: u64, b: u64, b_shoup: u64) -> u64 {
        let r = self.mul_shoup_lazy(a, b, b_shoup);
        if r >= self.p {
            r - self.p
        } else {
            r
        }
    }

    /// `a * b mod p` up to one multiple of `p`: the result is in `[0, 2p)`.
    #[inline]
    pub fn mul_shoup_lazy(&self, a: u64, b: u64, b_shoup: u64) -> u64 {
        let q = ((a as u128 * b_shoup as u128) >> 64) as u64;
        a.wrapping_mul(b).wrapping_sub(q.wrapping_mul(self.p))
    }

    /// `a^e mod p` (variable time in `e`; exponents here are public).
    pub fn pow(&self, a: u64, mut e: u64) -> u64 {
        let mut base = self.reduce(a);
        let mut acc = 1 % self.p;
        while e > 0 {
            if e & 1 == 1 {
                acc = self.mul(acc, base);
            }
            base = self.mul(base, base);
            e >>= 1;
        }
        acc
    }

    /// The inverse of `a` modulo the (prime) modulus, or an error when `a ≡ 0`.
    pub fn inv(&self, a: u64) -> Result<u64> {
        let a = self.reduce(a);
        if a == 0 {
            return Err(Error::OutOfRange {
                what: "zero has no modular inverse",
            });
        }
        // Extended Euclid works for any modulus coprime to a.
        let (mut r0, mut r1) = (self.p as i128, a as i128);
        let (mut t0, mut t1) = (0i128, 1i128);
        while r1 != 0 {
            let q = r0 / r1;
            (r0, r1) = (r1, r0 - q * r1);
            (t0, t1) = (t1, t0 - q * t1);
        }
        if r0 != 1 {
            return Err(Error::OutOfRange {
                what: "value not invertible modulo the modulus",
            });
        }
        Ok(self.reduce_i128(t0))
    }

    /// Element-wise `a[i] = a[i] + b[i] mod p`.
    #[inline]
    pub fn add_vec(&self, a: &mut [u64], b: &[u64]) {
        if a.len() == b.len() && crate::simd::add_sub(a, None, b, self.p, false) {
            return;
        }
        for (x, &y) in a.iter_mut().zip(b) {
            *x = self.add(*x, y);
        }
    }

    /// Element-wise `out[i] = a[i] + b[i] mod p` (one pass, no copy of `a`).
    #[inline]
    pub fn add_vec_into(&self, out: &mut [u64], a: &[u64], b: &[u64]) {
        if a.len() == out.len()
            && b.len() == out.len()
            && crate::simd::add_sub(out, Some(a), b, self.p, false)
        {
            return;
        }
        for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
            *o = self.add(x, y);
        }
    }

    /// Element-wise `out[i] = a[i] - b[i] mod p`.
    #[inline]
    pub fn sub_vec_into(&self, out: &mut [u64], a: &[u64], b: &[u64]) {
        if a.len() == out.len()
            && b.len() == out.len()
            && crate::simd::add_sub(out, Some(a), b, self.p, true)
        {
            return;
        }
        for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
            *o = self.sub(x, y);
        }
    }

    /// Element-wise `a[i] = a[i] - b[i] mod p`.
    #[inline]
    pub fn sub_vec(&self, a: &mut [u64], b: &[u64]) {
        if a.len() == b.len() && crate::simd::add_sub(a, None, b, self.p, true) {
            return;
        }
        for (x, &y) in a.iter_mut().zip(b) {
            *x = self.sub(*x, y);
        }
    }

    /// Element-wise `a[i] = b[i] - a[i] mod p`.
    #[inline]
    pub fn rsub_vec(&self, a: &mut [u64], b: &[u64]) {
        for (x, &y) in a.iter_mut().zip(b) {
            *x = self.sub(y, *x);
        }
    }

    /// Element-wise negation.
    #[inline]
    pub fn neg_vec(&self, a: &mut [u64]) {
        for x in a.iter_mut() {
            *x = self.neg(*x);
        }
    }

    /// Element-wise `a[i] = a[i] * c mod p` for a constant `c < p`.
    #[inline]
    pub fn mul_scalar_vec(&self, a: &mut [u64], c: u64) {
        let c = self.reduce(c);
        let cs = self.shoup(c);
        for x in a.iter_mut() {
            *x = self.mul_shoup(*x, c, cs);
        }
    }

    /// Element-wise `a[i] = a[i] * b[i] mod p`.
    #[inline]
    pub fn mul_vec(&self, a: &mut [u64], b: &[u64]) {
        for (x, &y) in a.iter_mut().zip(b) {
            *x = self.mul(*x, y);
        }
    }
}

/// Deterministic Miller–Rabin primality test for 64-bit integers.
pub fn is_prime(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    for p in [2u64, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37] {
        if n.is_multiple_of(p) {
            return n == p;
        }
    }
    let mut d = n - 1;
    let mut s = 0;
    while d.is_multiple_of(2) {
        d /= 2;
        s += 1;
    }
    let mulmod = |a: u64, b: u64| ((a as u128 * b as u128) % n as u128) as u64;
    let powmod = |mut a: u64, mut e: u64| {
        let mut r = 1u64;
        while e > 0 {
            if e & 1 == 1 {
                r = mulmod(r, a);
            }
            a = mulmod(a, a);
            e >>= 1;
        }
        r
    };
    // These bases are a deterministic witness set for all n < 2^64.
    'witness: for a in [2u64, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37] {
        let mut x = powmod(a, d);
        if x == 1 || x == n - 1 {
            continue;
        }
        for _ in 1..s {
            x = mulmod(x, x);
            if x == n - 1 {
                continue 'witness;
            }
        }
        return false;
    }
    true
}

/// Generates distinct primes `p ≡ 1 (mod 2·degree)` with the requested bit
/// sizes (each `p` has exactly that many bits), largest first within a size,
/// skipping any prime in `exclude`.
///
/// Sizes from 20 to 61 bits are accepted; the NTT is fastest (AVX-512 IFMA)
/// for primes below 2^50, so chains should prefer sizes ≤ 50.
pub fn generate_primes(bit_sizes: &[u32], degree: usize, exclude: &[u64]) -> Result<Vec<u64>> {
    if !degree.is_power_of_two() || degree < 2 {
        return Err(Error::InvalidParameters {
            reason: format!("ring degree {degree} is not a power of two"),
        });
    }
    let m = 2 * degree as u64;
    let mut out: Vec<u64> = Vec::with_capacity(bit_sizes.len());
    for &bits in bit_sizes {
        if !(20..=MAX_MODULUS_BITS).contains(&bits) {
            return Err(Error::InvalidParameters {
                reason: format!("prime size {bits} bits outside [20, {MAX_MODULUS_BITS}]"),
            });
        }
        let upper = 1u64 << bits; // exclusive
        let lower = 1u64 << (bits - 1);
        // Largest candidate ≡ 1 mod m below 2^bits.
        let mut c = ((upper - 1) / m) * m + 1;
        if c >= upper {
            c -= m;
        }
        loop {
            if c < lower || c < m {
                return Err(Error::InvalidParameters {
                    reason: format!("not enough {bits}-bit primes ≡ 1 mod {m}"),
                });
            }
            if is_prime(c) && !out.contains(&c) && !exclude.contains(&c) {
                out.push(c);
                break;
            }
            c -= m;
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const P50: u64 = 1125899903827969;
    const P60: u64 = 1152921504606584833;

    proptest! {
        /// The vector forms (AVX-512 on this CPU, 8 lanes + a scalar
        /// tail) agree with the scalar `add` / `sub` and with u128
        /// arithmetic, at every length up to 37 and at the range ends.
        #[test]
        fn vector_add_and_sub_match_u128(seed in any::<u64>(), len in 0usize..38) {
            for p in [P50, P60, 65537u64, (1u64 << 61) - 1] {
                let m = Modulus::new(p).unwrap();
                let mut x = seed;
                let mut next = || {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    // a quarter of the values at the range ends 0 and p − 1
                    match x >> 62 {
                        0 => 0,
                        1 => p - 1,
                        _ => (x >> 1) % p,
                    }
                };
                let a: Vec<u64> = (0..len).map(|_| next()).collect();
                let b: Vec<u64> = (0..len).map(|_| next()).collect();
                let sum: Vec<u64> = a.iter().zip(&b)
                    .map(|(&u, &v)| ((u as u128 + v as u128) % p as u128) as u64).collect();
                let diff: Vec<u64> = a.iter().zip(&b)
                    .map(|(&u, &v)| ((u as u128 + p as u128 - v as u128) % p as u128) as u64).collect();
                let mut out = vec![7u64; len];
                m.add_vec_into(&mut out, &a, &b);
                prop_assert_eq!(&out, &sum);
                m.sub_vec_into(&mut out, &a, &b);
                prop_assert_eq!(&out, &diff);
                let mut c = a.clone();
                m.add_vec(&mut c, &b);
                prop_assert_eq!(&c, &sum);
                let mut c = a.clone();
                m.sub_vec(&mut c, &b);
                prop_assert_eq!(&c, &diff);
            }
        }

        #[test]
        fn barrett_and_shoup_match_u128(a in any::<u64>(), b in any::<u64>(), x in any::<u128>()) {
            for p in [P50, P60, 65537u64, 12289, (1u64 << 61) - 1] {
                let m = Modulus::new(p).unwrap();
                let (a, b) = (a % p, b % p);
                prop_assert_eq!(m.mul(a, b) as u128, (a as u128 * b as u128) % p as u128);
                prop_assert_eq!(m.mul_shoup(a, b, m.shoup(b)), m.mul(a, b));
                prop_assert_eq!(m.reduce(x as u64) as u128, (x as u64 as u128) % p as u128);
                prop_assert!(m.mul_shoup_lazy(x as u64, b, m.shoup(b)) < 2 * p);
                prop_assert_eq!(m.reduce_u128(x) as u128, x % p as u128);
                prop_assert_eq!(m.div_rem_u128(x), (x / p as u128, (x % p as u128) as u64));
                prop_assert_eq!(m.div_rem_u64(x as u64), (x as u64 / p, x as u64 % p));
                prop_assert_eq!(m.add(a, b) as u128, (a as u128 + b as u128) % p as u128);
                prop_assert_eq!(m.add(m.sub(a, b), b), a);
            }
        }

        #[test]
        fn inverse_and_pow(a in 1u64..P50) {
            let m = Modulus::new(P50).unwrap();
            let i = m.inv(a).unwrap();
            prop_assert_eq!(m.mul(a, i), 1);
            prop_assert_eq!(m.pow(a, P50 - 1), 1); // Fermat
            prop_assert_eq!(m.pow(a, P50 - 2), i);
        }
    }

    proptest! {
        /// The branch-free signed reduction against i128 `rem_euclid`, at
        /// the ends of the i64 range and at multiples of p (whose negation
        /// must give 0, not p).
        #[test]
        fn reduce_i64_matches_rem_euclid(x in any::<i64>(), k in -1000i64..1000) {
            for p in [P50, P60, 97u64, (1u64 << 61) - 1] {
                let m = Modulus::new(p).unwrap();
                for v in [x, i64::MIN, i64::MAX, 0, -1, k.saturating_mul(p as i64)] {
                    prop_assert_eq!(m.reduce_i64(v), (v as i128).rem_euclid(p as i128) as u64);
                }
            }
        }
    }

    #[test]
    fn signed_reduction_and_center() {
        let m = Modulus::new(97).unwrap();
        assert_eq!(m.reduce_i64(-1), 96);
        assert_eq!(m.reduce_i128(-195), 97 * 3 - 195);
        assert_eq!(m.center(96), -1);
        assert_eq!(m.center(48), 48);
        assert_eq!(m.center(49), -48);
    }

    #[test]
    fn zero_has_no_inverse() {
        let m = Modulus::new(P50).unwrap();
        assert!(matches!(m.inv(0), Err(Error::OutOfRange { .. })));
        assert!(matches!(m.inv(P50), Err(Error::OutOfRange { .. })));
    }

    #[test]
    fn bad_moduli_rejected() {
        assert!(matches!(
            Modulus::new(1),
            Err(Error::InvalidParameters { .. })
        ));
        assert!(matches!(
            Modulus::new(1 << 62),
            Err(Error::InvalidParameters { .. })
        ));
    }

    #[test]
    fn miller_rabin_against_trial_division() {
        let trial = |n: u64| {
            n >= 2
                && (2..)
                    .take_while(|d| d * d <= n)
                    .all(|d| !n.is_multiple_of(d))
        };
        for n in 0..20_000u64 {
            assert_eq!(is_prime(n), trial(n), "n = {n}");
        }
        assert!(is_prime(P50) && is_prime(P60));
        assert!(!is_prime(3215031751)); // strong pseudoprime to bases 2, 3, 5, 7
    }

    #[test]
    fn generated_primes_are_ntt_friendly_and_distinct() {
        let n = 1 << 14;
        let ps = generate_primes(&[50, 50, 50, 45, 60], n, &[]).unwrap();
        for (&p, bits) in ps.iter().zip([50, 50, 50, 45, 60]) {
            assert!(is_prime(p));
            assert_eq!(p % (2 * n as u64), 1);
            assert_eq!(64 - p.leading_zeros(), bits);
        }
        let mut s = ps.clone();
        s.sort();
        s.dedup();
        assert_eq!(s.len(), ps.len());
        let more = generate_primes(&[50], n, &ps).unwrap();
        assert!(!ps.contains(&more[0]));
        assert!(matches!(
            generate_primes(&[10], n, &[]),
            Err(Error::InvalidParameters { .. })
        ));
        assert!(matches!(
            generate_primes(&[20; 40], 1 << 16, &[]),
            Err(Error::InvalidParameters { .. })
        ));
    }
}
