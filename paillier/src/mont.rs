//! Montgomery arithmetic on 64-bit limbs: the exponentiation core.
//!
//! Numbers are little-endian `u64` limb slices of a fixed length `k` (the
//! limb count of the modulus context). Multiplication is the coarsely
//! integrated operand scanning (CIOS) Montgomery product with `u128`
//! partial products; the final conditional subtraction is done with masks,
//! so a product's timing does not depend on its operands.
//!
//! Two exponentiations are provided:
//! * [`Mont::pow_ct`] — fixed 5-bit windows, every window multiplies, and the
//!   table entry is read by scanning the whole table with masks: no branch
//!   and no memory index depends on the exponent. Used for secret exponents
//!   (`p - 1`, `q - 1`, `p`, `q`).
//! * [`Mont::pow_vartime`] — sliding windows, for public exponents (`n`,
//!   scalars).

use num_bigint::BigUint;
use num_traits::{One, Zero};
use zeroize::Zeroize;

/// Little-endian `u64` limbs of `x`, padded with zeros to `k` limbs.
/// Returns `None` if `x` needs more than `k` limbs.
pub(crate) fn to_limbs(x: &BigUint, k: usize) -> Option<Vec<u64>> {
    let mut v = x.to_u64_digits();
    if v.len() > k {
        v.zeroize();
        return None;
    }
    v.resize(k, 0);
    Some(v)
}

/// The integer whose little-endian limbs are `l`.
pub(crate) fn from_limbs(l: &[u64]) -> BigUint {
    let mut digits = Vec::with_capacity(l.len() * 2);
    for &w in l {
        digits.push(w as u32);
        digits.push((w >> 32) as u32);
    }
    let r = BigUint::new(digits.clone());
    digits.zeroize();
    r
}

/// Number of 64-bit limbs needed for `x` (at least 1).
pub(crate) fn limbs_of(x: &BigUint) -> usize {
    (x.bits() as usize).div_ceil(64).max(1)
}

/// All-ones if `a == b`, zero otherwise, without branching.
#[inline(always)]
pub(crate) fn ct_eq_mask(a: u64, b: u64) -> u64 {
    let x = a ^ b;
    let nonzero = (x | x.wrapping_neg()) >> 63;
    nonzero.wrapping_sub(1)
}

/// A Montgomery context for an odd modulus `N < R = 2^(64k)`.
/// Every field is wiped on drop (the modulus may be secret, e.g. `p^2`).
#[derive(Clone)]
pub(crate) struct Mont {
    k: usize,
    n: Vec<u64>,
    /// `-N^{-1} mod 2^64`.
    n0: u64,
    /// `R mod N` (Montgomery form of 1).
    r1: Vec<u64>,
    /// `R^2 mod N`.
    r2: Vec<u64>,
    /// `R^3 mod N`.
    r3: Vec<u64>,
    modulus: BigUint,
}

impl Drop for Mont {
    fn drop(&mut self) {
        self.n.zeroize();
        self.n0.zeroize();
        self.r1.zeroize();
        self.r2.zeroize();
        self.r3.zeroize();
        // BigUint cannot be wiped in place; overwrite with zero (its buffer is
        // released). The limb copies above hold the long-lived values.
        self.modulus = BigUint::zero();
    }
}

impl core::fmt::Debug for Mont {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Mont")
            .field("limbs", &self.k)
            .finish_non_exhaustive()
    }
}

/// Window width of the constant-time exponentiation.
const CT_WINDOW: usize = 5;

impl Mont {
    /// Context for odd `n > 1` with the minimal number of limbs.
    pub(crate) fn new(n: &BigUint) -> Option<Self> {
        Self::with_limbs(n, limbs_of(n))
    }

    /// Context for odd `n > 1` using `k` limbs (`k` at least the limb count
    /// of `n`); a larger `k` raises `R`, which [`Self::to_mont_wide`] needs.
    pub(crate) fn with_limbs(n: &BigUint, k: usize) -> Option<Self> {
        if n <= &BigUint::one() || !n.bit(0) {
            return None;
        }
        let nl = to_limbs(n, k)?;
        // Newton iteration for n[0]^{-1} mod 2^64: each step doubles the
        // number of correct low bits (n*n = 1 mod 8 gives 3 to start).
        let mut inv = nl[0];
        for _ in 0..6 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(nl[0].wrapping_mul(inv)));
        }
        let n0 = inv.wrapping_neg();
        let r = BigUint::one() << (64 * k);
        let r1b = &r % n;
        let r2b = (&r1b * &r1b) % n;
        let r3b = (&r2b * &r1b) % n;
        Some(Mont {
            k,
            n: nl,
            n0,
            r1: to_limbs(&r1b, k)?,
            r2: to_limbs(&r2b, k)?,
            r3: to_limbs(&r3b, k)?,
            modulus: n.clone(),
        })
    }

    /// Limb count.
    pub(crate) fn limbs(&self) -> usize {
        self.k
    }

    /// The modulus.
    pub(crate) fn modulus(&self) -> &BigUint {
        &self.modulus
    }

    /// Modulus limbs.
    #[allow(dead_code)]
    pub(crate) fn modulus_limbs(&self) -> &[u64] {
        &self.n
    }

    /// `-N^{-1} mod 2^64`.
    #[allow(dead_code)]
    pub(crate) fn n0(&self) -> u64 {
        self.n0
    }

    /// Montgomery form of one.
    pub(crate) fn one(&self) -> &[u64] {
        &self.r1
    }

    /// `R^2 mod N`.
    pub(crate) fn r2(&self) -> &[u64] {
        &self.r2
    }

    /// Fresh scratch for [`Self::mul`].
    pub(crate) fn scratch(&self) -> Vec<u64> {
        vec![0u64; self.k + 2]
    }

    /// `out = a * b * R^{-1} mod N` for `a, b < N` (CIOS, constant time).
    /// `t` is scratch of `k + 2` limbs.
    #[inline]
    pub(crate) fn mul(&self, a: &[u64], b: &[u64], out: &mut [u64], t: &mut [u64]) {
        let k = self.k;
        let a = &a[..k];
        let b = &b[..k];
        let n = &self.n[..k];
        let t = &mut t[..k + 2];
        let out = &mut out[..k];
        t.fill(0);
        let n0 = self.n0;
        for &ai in a.iter() {
            // t = (t + ai * b + m * n) / 2^64 in a single pass.
            let s = (ai as u128) * (b[0] as u128) + (t[0] as u128);
            let mut c1 = (s >> 64) as u64;
            let lo = s as u64;
            let m = lo.wrapping_mul(n0);
            let s2 = (m as u128) * (n[0] as u128) + (lo as u128);
            let mut c2 = (s2 >> 64) as u64;
            for j in 1..k {
                let s = (ai as u128) * (b[j] as u128) + (t[j] as u128) + (c1 as u128);
                c1 = (s >> 64) as u64;
                let s2 = (m as u128) * (n[j] as u128) + ((s as u64) as u128) + (c2 as u128);
                c2 = (s2 >> 64) as u64;
                t[j - 1] = s2 as u64;
            }
            let s = (t[k] as u128) + (c1 as u128) + (c2 as u128);
            t[k - 1] = s as u64;
            t[k] = (s >> 64) as u64;
        }
        self.final_sub(&t[..k], t[k], out);
    }

    /// `out = x - N` if `top:x >= N` else `x`, with masks (x < 2N).
    #[inline]
    fn final_sub(&self, x: &[u64], top: u64, out: &mut [u64]) {
        let k = self.k;
        let n = &self.n[..k];
        let mut borrow = 0u64;
        for j in 0..k {
            let (d1, b1) = x[j].overflowing_sub(n[j]);
            let (d2, b2) = d1.overflowing_sub(borrow);
            out[j] = d2;
            borrow = (b1 | b2) as u64;
        }
        // Use the difference iff top == 1 or no borrow.
        let use_diff = top | (borrow ^ 1);
        let mask = 0u64.wrapping_sub(use_diff & 1);
        for j in 0..k {
            out[j] = (out[j] & mask) | (x[j] & !mask);
        }
    }

    /// Montgomery form of `x` (any size; reduced with num-bigint first).
    /// Variable time in `x`: for public inputs.
    pub(crate) fn enter_mont(&self, x: &BigUint) -> Vec<u64> {
        let xr = x % &self.modulus;
        let mut xl = to_limbs(&xr, self.k).unwrap_or_else(|| vec![0; self.k]);
        let mut out = vec![0u64; self.k];
        let mut t = self.scratch();
        self.mul(&xl, &self.r2, &mut out, &mut t);
        xl.zeroize();
        out
    }

    /// Montgomery form of `x mod N` for `x < N * R` given as at most `2k`
    /// limbs, in constant time (one REDC and one product with `R^3`).
    pub(crate) fn enter_mont_wide(&self, x: &[u64]) -> Vec<u64> {
        let k = self.k;
        let mut t = vec![0u64; 2 * k];
        let len = x.len().min(2 * k);
        t[..len].copy_from_slice(&x[..len]);
        let mut red = vec![0u64; k];
        self.redc(&mut t, &mut red);
        t.zeroize();
        let mut out = vec![0u64; k];
        let mut sc = self.scratch();
        self.mul(&red, &self.r3, &mut out, &mut sc);
        red.zeroize();
        out
    }

    /// Montgomery reduction `out = t R^{-1} mod N` of a `2k`-limb `t < N R`
    /// (constant time; `t` is overwritten).
    #[inline]
    fn redc(&self, t: &mut [u64], out: &mut [u64]) {
        let k = self.k;
        let n = &self.n[..k];
        let t = &mut t[..2 * k];
        let mut extra = 0u64;
        for i in 0..k {
            let m = t[i].wrapping_mul(self.n0);
            let mut c = 0u64;
            let row = &mut t[i..i + k];
            for (tj, &nj) in row.iter_mut().zip(n) {
                let s = (m as u128) * (nj as u128) + (*tj as u128) + (c as u128);
                *tj = s as u64;
                c = (s >> 64) as u64;
            }
            let s = (t[i + k] as u128) + (c as u128) + (extra as u128);
            t[i + k] = s as u64;
            extra = (s >> 64) as u64;
        }
        self.final_sub(&t[k..2 * k], extra, out);
    }

    /// `out = a^2 R^{-1} mod N` for `a < N` (constant time): the square by
    /// half the cross products, doubled, plus the diagonal, then one REDC —
    /// about `1.5 k^2` word products instead of the `2 k^2` of [`Self::mul`].
    /// `t` is scratch of `2k` limbs.
    #[inline]
    pub(crate) fn sqr(&self, a: &[u64], out: &mut [u64], t: &mut [u64]) {
        let k = self.k;
        let a = &a[..k];
        let t = &mut t[..2 * k];
        t.fill(0);
        for i in 0..k.saturating_sub(1) {
            let ai = a[i] as u128;
            let mut c = 0u64;
            let row = &mut t[2 * i + 1..i + k];
            for (tj, &aj) in row.iter_mut().zip(&a[i + 1..]) {
                let s = ai * (aj as u128) + (*tj as u128) + (c as u128);
                *tj = s as u64;
                c = (s >> 64) as u64;
            }
            t[i + k] = c;
        }
        // double (the cross-product sum is below R^2 / 2: no bit is lost)
        let mut top = 0u64;
        for x in t.iter_mut() {
            let next = *x >> 63;
            *x = (*x << 1) | top;
            top = next;
        }
        let mut c = 0u64;
        for i in 0..k {
            let sq = (a[i] as u128) * (a[i] as u128);
            let s = (t[2 * i] as u128) + ((sq as u64) as u128) + (c as u128);
            t[2 * i] = s as u64;
            c = (s >> 64) as u64;
            let s = (t[2 * i + 1] as u128) + (sq >> 64) + (c as u128);
            t[2 * i + 1] = s as u64;
            c = (s >> 64) as u64;
        }
        self.redc(t, out);
    }

    /// Leaves Montgomery form: `a * R^{-1} mod N`.
    pub(crate) fn leave_mont(&self, a: &[u64]) -> Vec<u64> {
        let mut one = vec![0u64; self.k];
        one[0] = 1;
        let mut out = vec![0u64; self.k];
        let mut t = self.scratch();
        self.mul(a, &one, &mut out, &mut t);
        out
    }

    /// `base^exp` in Montgomery form for a secret exponent, in constant
    /// time: `exp_bits` (public) fixes the number of windows; each window
    /// does 5 squarings and one product with a table entry selected by a
    /// full masked scan.
    pub(crate) fn pow_ct(&self, base_m: &[u64], exp: &[u64], exp_bits: usize) -> Vec<u64> {
        let k = self.k;
        let entries = 1usize << CT_WINDOW;
        let mut table = vec![0u64; entries * k];
        let mut t = self.scratch();
        let mut wide = vec![0u64; 2 * k];
        table[..k].copy_from_slice(&self.r1);
        table[k..2 * k].copy_from_slice(&base_m[..k]);
        for i in 2..entries {
            let (done, rest) = table.split_at_mut(i * k);
            self.mul(&done[(i - 1) * k..i * k], base_m, &mut rest[..k], &mut t);
        }
        let windows = exp_bits.div_ceil(CT_WINDOW).max(1);
        let mut acc = vec![0u64; k];
        let mut tmp = vec![0u64; k];
        let mut sel = vec![0u64; k];
        for wi in (0..windows).rev() {
            let w = window_bits(exp, wi * CT_WINDOW, CT_WINDOW);
            ct_select(&table, k, entries, w, &mut sel);
            if wi == windows - 1 {
                acc.copy_from_slice(&sel);
            } else {
                for _ in 0..CT_WINDOW {
                    self.sqr(&acc, &mut tmp, &mut wide);
                    core::mem::swap(&mut acc, &mut tmp);
                }
                self.mul(&acc, &sel, &mut tmp, &mut t);
                core::mem::swap(&mut acc, &mut tmp);
            }
        }
        table.zeroize();
        tmp.zeroize();
        sel.zeroize();
        t.zeroize();
        wide.zeroize();
        acc
    }

    /// `base^exp` in Montgomery form for a public exponent (sliding window,
    /// variable time).
    pub(crate) fn pow_vartime(&self, base_m: &[u64], exp: &BigUint) -> Vec<u64> {
        let k = self.k;
        let bits = exp.bits() as usize;
        if bits == 0 {
            return self.r1.clone();
        }
        let w = match bits {
            0..=24 => 1,
            25..=80 => 3,
            81..=240 => 4,
            241..=672 => 5,
            _ => 6,
        };
        let e = exp.to_u64_digits();
        let mut t = self.scratch();
        let mut wide = vec![0u64; 2 * k];
        // Odd powers base^1, base^3, ..., base^(2^w - 1).
        let half = 1usize << (w - 1);
        let mut table = vec![0u64; half * k];
        table[..k].copy_from_slice(&base_m[..k]);
        if half > 1 {
            let mut sq = vec![0u64; k];
            self.mul(base_m, base_m, &mut sq, &mut t);
            for i in 1..half {
                let (done, rest) = table.split_at_mut(i * k);
                self.mul(&done[(i - 1) * k..i * k], &sq, &mut rest[..k], &mut t);
            }
        }
        let bit = |i: usize| (e[i / 64] >> (i % 64)) & 1;
        let mut acc = vec![0u64; k];
        let mut tmp = vec![0u64; k];
        let mut started = false;
        let mut i = bits as isize - 1;
        while i >= 0 {
            if bit(i as usize) == 0 {
                if started {
                    self.sqr(&acc, &mut tmp, &mut wide);
                    core::mem::swap(&mut acc, &mut tmp);
                }
                i -= 1;
                continue;
            }
            let mut l = (i - w as isize + 1).max(0);
            while bit(l as usize) == 0 {
                l += 1;
            }
            let len = (i - l + 1) as usize;
            let val = window_bits(&e, l as usize, len);
            let entry = &table[(val >> 1) * k..(val >> 1) * k + k];
            if started {
                for _ in 0..len {
                    self.sqr(&acc, &mut tmp, &mut wide);
                    core::mem::swap(&mut acc, &mut tmp);
                }
                self.mul(&acc, entry, &mut tmp, &mut t);
                core::mem::swap(&mut acc, &mut tmp);
            } else {
                acc.copy_from_slice(entry);
                started = true;
            }
            i = l - 1;
        }
        acc
    }

    /// `base^exp mod N` for public values (convenience wrapper).
    pub(crate) fn modpow_vartime(&self, base: &BigUint, exp: &BigUint) -> BigUint {
        let b = self.enter_mont(base);
        let r = self.pow_vartime(&b, exp);
        from_limbs(&self.leave_mont(&r))
    }

    /// `a * b mod N` for public values given as integers.
    #[allow(dead_code)]
    pub(crate) fn mulmod(&self, a: &BigUint, b: &BigUint) -> BigUint {
        let am = self.enter_mont(a);
        let mut bl = to_limbs(&(b % &self.modulus), self.k).unwrap_or_else(|| vec![0; self.k]);
        let mut out = vec![0u64; self.k];
        let mut t = self.scratch();
        // (a R) * b * R^{-1} = a b.
        self.mul(&am, &bl, &mut out, &mut t);
        bl.zeroize();
        from_limbs(&out)
    }
}

/// `len` (≤ 64) bits of `e` starting at bit `pos` (missing limbs read as 0).
/// Branches only on the public positions.
#[inline]
pub(crate) fn window_bits(e: &[u64], pos: usize, len: usize) -> usize {
    let limb = pos / 64;
    let off = pos % 64;
    let lo = e.get(limb).copied().unwrap_or(0) >> off;
    let hi = if off != 0 {
        e.get(limb + 1).copied().unwrap_or(0) << (64 - off)
    } else {
        0
    };
    let mask = if len >= 64 {
        u64::MAX
    } else {
        (1u64 << len) - 1
    };
    ((lo | hi) & mask) as usize
}

/// `out = table[idx]` (entries of `k` limbs) reading every entry.
#[inline]
pub(crate) fn ct_select(table: &[u64], k: usize, entries: usize, idx: usize, out: &mut [u64]) {
    out[..k].fill(0);
    for i in 0..entries {
        let mask = ct_eq_mask(i as u64, idx as u64);
        let row = &table[i * k..i * k + k];
        for (o, &v) in out[..k].iter_mut().zip(row) {
            *o |= v & mask;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use num_bigint::RandBigInt;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn rand_odd(rng: &mut ChaCha20Rng, bits: u64) -> BigUint {
        let mut n = rng.gen_biguint(bits);
        n.set_bit(0, true);
        n.set_bit(bits - 1, true);
        n
    }

    #[test]
    fn mul_matches_bigint() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        for bits in [64u64, 65, 127, 512, 1000, 2048, 3072] {
            let n = rand_odd(&mut rng, bits);
            let m = Mont::new(&n).unwrap();
            for _ in 0..20 {
                let a = rng.gen_biguint_below(&n);
                let b = rng.gen_biguint_below(&n);
                assert_eq!(m.mulmod(&a, &b), (&a * &b) % &n);
            }
            // extremes
            let nm1 = &n - 1u32;
            assert_eq!(m.mulmod(&nm1, &nm1), (&nm1 * &nm1) % &n);
        }
    }

    #[test]
    fn sqr_matches_mul() {
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        for bits in [64u64, 65, 128, 1000, 3072] {
            let n = rand_odd(&mut rng, bits);
            let m = Mont::new(&n).unwrap();
            let k = m.limbs();
            for _ in 0..20 {
                let a = m.enter_mont(&rng.gen_biguint_below(&n));
                let (mut x, mut y) = (vec![0u64; k], vec![0u64; k]);
                m.mul(&a, &a, &mut x, &mut m.scratch());
                m.sqr(&a, &mut y, &mut vec![0u64; 2 * k]);
                assert_eq!(x, y);
            }
            let top = m.enter_mont(&(&n - 1u32));
            let (mut x, mut y) = (vec![0u64; k], vec![0u64; k]);
            m.mul(&top, &top, &mut x, &mut m.scratch());
            m.sqr(&top, &mut y, &mut vec![0u64; 2 * k]);
            assert_eq!(x, y);
        }
    }

    #[test]
    fn pow_ct_and_vartime_match_modpow() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        for bits in [64u64, 200, 1024, 2048] {
            let n = rand_odd(&mut rng, bits);
            let m = Mont::new(&n).unwrap();
            for ebits in [0u64, 1, 2, 5, 64, 300, 1024] {
                let a = rng.gen_biguint_below(&n);
                let e = if ebits == 0 {
                    BigUint::zero()
                } else {
                    rng.gen_biguint(ebits)
                };
                let expect = a.modpow(&e, &n);
                assert_eq!(
                    m.modpow_vartime(&a, &e),
                    expect,
                    "vartime bits={bits} ebits={ebits}"
                );
                let am = m.enter_mont(&a);
                let el = to_limbs(&e, limbs_of(&e)).unwrap();
                let r = m.pow_ct(&am, &el, ebits as usize);
                assert_eq!(
                    from_limbs(&m.leave_mont(&r)),
                    expect,
                    "ct bits={bits} ebits={ebits}"
                );
            }
        }
    }

    #[test]
    fn enter_mont_wide_reduces() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let p = rand_odd(&mut rng, 1000);
        let q = rand_odd(&mut rng, 1000);
        let p2 = &p * &p;
        let q2 = &q * &q;
        let k = limbs_of(&p2).max(limbs_of(&q2));
        let m = Mont::with_limbs(&p2, k).unwrap();
        for _ in 0..10 {
            let c = rng.gen_biguint_below(&(&p2 * &q2));
            let cl = to_limbs(&c, 2 * k).unwrap();
            let cm = m.enter_mont_wide(&cl);
            assert_eq!(from_limbs(&m.leave_mont(&cm)), &c % &p2);
        }
    }
}
