//! 8-lane AVX-512 IFMA multi-buffer Montgomery exponentiation.
//!
//! Eight independent exponentiations (each lane with its own odd modulus,
//! exponent and base) run side by side in the eight 64-bit lanes of `zmm`
//! registers. Numbers are held in radix `2^52`: limb `j` of all eight lanes
//! is one `__m512i`. A Montgomery product uses `vpmadd52luq` /
//! `vpmadd52huq` (low / high 52 bits of a 52×52-bit product, added to a
//! 64-bit accumulator), with the carries left unpropagated inside the loop
//! (each accumulator stays below `2^60`) and normalised once at the end.
//!
//! We use "almost Montgomery" products: with `R = 2^(52k) > 4N`, inputs
//! below `2N` give outputs below `2N`, so no conditional subtraction is
//! needed inside the exponentiation; leaving the Montgomery domain (a
//! product with 1) returns a fully reduced value.
//!
//! The exponentiation is the constant-time fixed-window method of
//! [`crate::mont::Mont::pow_ct`]: 5-bit windows, every window multiplies,
//! and the table entry of each lane is taken with a masked scan of the whole
//! table (`vpcmpeqq` + masked moves), so neither branches nor addresses
//! depend on the exponents.
//!
//! Selected at run time with `is_x86_feature_detected!`; callers fall back
//! to the portable 64-bit core when this returns `None`.

// Index loops over parallel limb arrays read better than zipped iterators here.
#![allow(clippy::needless_range_loop)]

use core::arch::x86_64::{
    __m512i, _mm512_add_epi64, _mm512_and_si512, _mm512_cmpeq_epi64_mask, _mm512_madd52hi_epu64,
    _mm512_madd52lo_epu64, _mm512_mask_mov_epi64, _mm512_set1_epi64, _mm512_set_epi64,
    _mm512_setzero_si512, _mm512_srli_epi64,
};

use num_bigint::BigUint;
use num_traits::{One, Zero};
use zeroize::Zeroize;

use crate::ifma_cols as cols;
use crate::mont::window_bits;

/// Lanes per vector.
pub(crate) const LANES: usize = 8;
const MASK52: u64 = (1u64 << 52) - 1;
const WINDOW: usize = 5;

/// Set by [`crate::__bench::disable_ifma`] (tests and benchmarks of the
/// portable fallback on IFMA machines).
static DISABLED: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// Turns the IFMA paths off (`true`) or back on for the whole process.
pub(crate) fn set_disabled(off: bool) {
    DISABLED.store(off, core::sync::atomic::Ordering::Relaxed);
}

/// Whether the CPU can run this module (and it is not switched off).
pub(crate) fn available() -> bool {
    !DISABLED.load(core::sync::atomic::Ordering::Relaxed)
        && std::is_x86_feature_detected!("avx512f")
        && std::is_x86_feature_detected!("avx512ifma")
}

/// Radix-2^52 limbs of `x`, `k` of them (`None` if `x` does not fit).
pub(crate) fn to_limbs52(x: &BigUint, k: usize) -> Option<Vec<u64>> {
    if x.bits() > 52 * k as u64 {
        return None;
    }
    let mut d = x.to_u64_digits();
    let out = (0..k).map(|j| window_bits(&d, 52 * j, 52) as u64).collect();
    d.zeroize();
    Some(out)
}

/// The integer with radix-2^52 limbs `l` (limbs may exceed 52 bits).
pub(crate) fn from_limbs52(l: &[u64]) -> BigUint {
    let mut acc = BigUint::zero();
    for &w in l.iter().rev() {
        acc <<= 52usize;
        acc += w;
    }
    acc
}

/// Eight moduli (one per lane), in radix 2^52, interleaved limb-major:
/// element `j * 8 + lane` is limb `j` of lane `lane`. Wiped on drop.
pub(crate) struct Mb8Moduli {
    k: usize,
    n: Vec<u64>,
    /// `-N^{-1} mod 2^52` per lane.
    n0: [u64; LANES],
    /// `R^2 mod N` per lane (interleaved), `R = 2^(52k)`.
    rr: Vec<u64>,
    /// `R^3 mod N` per lane (interleaved): bases of `2k` limbs enter the
    /// Montgomery domain with one reduction and one product.
    rrr: Vec<u64>,
}

impl Drop for Mb8Moduli {
    fn drop(&mut self) {
        self.n.zeroize();
        self.n0.zeroize();
        self.rr.zeroize();
        self.rrr.zeroize();
    }
}

impl Mb8Moduli {
    /// Contexts for eight odd moduli; `k` limbs with `2^(52k) > 4 max(N)`.
    pub(crate) fn new(moduli: [&BigUint; LANES]) -> Option<Self> {
        let max_bits = moduli.iter().map(|m| m.bits()).max().unwrap_or(0) as usize;
        // k a multiple of 4 (the squaring handles four rows per pass), 2^(52k) > 4N.
        let k = (max_bits + 2).div_ceil(52).next_multiple_of(4);
        let r2 = BigUint::one() << (2 * 52 * k);
        let mut n = vec![0u64; k * LANES];
        let mut rr = vec![0u64; k * LANES];
        let mut rrr = vec![0u64; k * LANES];
        let mut n0 = [0u64; LANES];
        for (lane, m) in moduli.iter().enumerate() {
            if !m.bit(0) || m.bits() < 2 {
                return None;
            }
            let ml = to_limbs52(m, k)?;
            let r2m = &r2 % *m;
            let rrl = to_limbs52(&r2m, k)?;
            let rrrl = to_limbs52(&((&r2m << (52 * k)) % *m), k)?;
            for j in 0..k {
                n[j * LANES + lane] = ml[j];
                rr[j * LANES + lane] = rrl[j];
                rrr[j * LANES + lane] = rrrl[j];
            }
            let x = ml[0];
            let mut inv = x;
            for _ in 0..6 {
                inv = inv.wrapping_mul(2u64.wrapping_sub(x.wrapping_mul(inv)));
            }
            n0[lane] = inv.wrapping_neg() & MASK52;
        }
        Some(Mb8Moduli { k, n, n0, rr, rrr })
    }

    /// Limb count (radix 2^52).
    pub(crate) fn limbs(&self) -> usize {
        self.k
    }

    /// [`Self::pow`] for bases of `2k` limbs below `N R` (a ciphertext
    /// modulo `n^2` against the moduli `p^2`, `q^2`), reduced inside: one
    /// Montgomery reduction and one product with `R^3`, instead of a
    /// reduction per lane with big integers. `None` without IFMA or for
    /// limb counts the column kernels do not serve (then reduce and call
    /// [`Self::pow`]).
    pub(crate) fn pow_wide(
        &self,
        bases: &[Vec<u64>; LANES],
        exps: &[&[u64]; LANES],
        exp_bits: usize,
    ) -> Option<[Vec<u64>; LANES]> {
        if !available()
            || !self.k.is_multiple_of(cols::B)
            || bases.iter().any(|b| b.len() != 2 * self.k)
        {
            return None;
        }
        // SAFETY: the CPU supports avx512f and avx512ifma (checked just above),
        // which is all `pow_cols` requires; it performs no raw memory access.
        Some(unsafe { self.pow_cols(bases, exps, exp_bits) })
    }

    /// `bases[lane]^exps[lane] mod N[lane]` for all eight lanes, in constant
    /// time with respect to bases and exponents (`exp_bits` is public).
    /// Bases are radix-2^52 limbs (`k` each) of values below `N`; results are
    /// the same form, fully reduced. `None` if the CPU lacks AVX-512 IFMA or
    /// the inputs are malformed.
    pub(crate) fn pow(
        &self,
        bases: &[Vec<u64>; LANES],
        exps: &[&[u64]; LANES],
        exp_bits: usize,
    ) -> Option<[Vec<u64>; LANES]> {
        if !available() || bases.iter().any(|b| b.len() != self.k) {
            return None;
        }
        if self.k.is_multiple_of(cols::B) {
            // SAFETY: as below.
            return Some(unsafe { self.pow_cols(bases, exps, exp_bits) });
        }
        // SAFETY: the CPU supports avx512f and avx512ifma (checked just above),
        // which is all `pow_impl` requires; it performs no raw memory access.
        Some(unsafe { self.pow_impl(bases, exps, exp_bits) })
    }

    /// [`Self::pow`] with the column-blocked kernels of [`crate::ifma_cols`]
    /// (`k` a multiple of [`cols::B`]). Every operand buffer is padded with
    /// `B` zero limbs.
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn pow_cols(
        &self,
        bases: &[Vec<u64>; LANES],
        exps: &[&[u64]; LANES],
        exp_bits: usize,
    ) -> [Vec<u64>; LANES] {
        let k = self.k;
        let kp = k + cols::B;
        let zero = _mm512_setzero_si512();
        let padded = |src: &[u64]| -> Vec<__m512i> {
            let mut v = vec![zero; kp];
            for j in 0..k {
                v[j] = load(&src[j * LANES..(j + 1) * LANES]);
            }
            v
        };
        // p^2 and R^2 mod p^2 are secret too: wiped with the rest below
        let mut n = padded(&self.n);
        let mut rr = padded(&self.rr);
        let n0 = load(&self.n0);
        // bases of k limbs (below N), or of 2k limbs (below N R, reduced here)
        let kb = bases[0].len();
        let mut base = vec![zero; kb.max(kp)];
        for j in 0..kb {
            let mut v = [0u64; LANES];
            for (lane, b) in bases.iter().enumerate() {
                v[lane] = b[j];
            }
            base[j] = load(&v);
            v.zeroize();
        }
        let mut one_plain = vec![zero; kp];
        one_plain[0] = _mm512_set1_epi64(1);
        let mut t = vec![zero; 2 * k];
        let mut m = vec![zero; k];
        // The table is compact (entries k limbs apart: 80 KB at k = 40, the
        // masked scan of every window streams it from L2); its entries are
        // formed in padded buffers.
        let entries = 1usize << WINDOW;
        let mut table = vec![zero; entries * k];
        let mut b1 = vec![zero; kp];
        let mut prev = vec![zero; kp];
        cols::mul_cols(&rr, &one_plain, k, &mut t);
        cols::redc_cols(&t, &n, n0, k, &mut m, &mut prev);
        table[..k].copy_from_slice(&prev[..k]);
        if kb == 2 * k {
            // (c R^-1) R^3 R^-1 = c R: the Montgomery form of c mod N
            let mut rrr = padded(&self.rrr);
            cols::redc_cols(&base, &n, n0, k, &mut m, &mut prev);
            cols::mul_cols(&prev, &rrr, k, &mut t);
            rrr.fill(zero);
        } else {
            cols::mul_cols(&base, &rr, k, &mut t);
        }
        cols::redc_cols(&t, &n, n0, k, &mut m, &mut b1);
        table[k..2 * k].copy_from_slice(&b1[..k]);
        prev.copy_from_slice(&b1);
        for e in 2..entries {
            cols::mul_cols(&prev, &b1, k, &mut t);
            cols::redc_cols(&t, &n, n0, k, &mut m, &mut prev);
            table[e * k..(e + 1) * k].copy_from_slice(&prev[..k]);
        }
        let windows = exp_bits.div_ceil(WINDOW).max(1);
        let mut x = vec![zero; kp];
        let mut sel = vec![zero; kp];
        for wi in (0..windows).rev() {
            let mut idx = [0u64; LANES];
            for (lane, e) in exps.iter().enumerate() {
                idx[lane] = window_bits(e, wi * WINDOW, WINDOW) as u64;
            }
            let idxv = load(&idx);
            idx.zeroize();
            cols::select(&table, k, k, entries, idxv, &mut sel);
            if wi == windows - 1 {
                x.copy_from_slice(&sel);
            } else {
                for _ in 0..WINDOW {
                    cols::sqr_cols(&x, k, &mut t);
                    cols::redc_cols(&t, &n, n0, k, &mut m, &mut x);
                }
                cols::mul_cols(&x, &sel, k, &mut t);
                cols::redc_cols(&t, &n, n0, k, &mut m, &mut x);
            }
        }
        cols::mul_cols(&x, &one_plain, k, &mut t);
        cols::redc_cols(&t, &n, n0, k, &mut m, &mut x);
        let mut out: [Vec<u64>; LANES] = Default::default();
        for o in out.iter_mut() {
            o.resize(k, 0);
        }
        for (j, v) in x[..k].iter().enumerate() {
            let lanes = store(*v);
            for lane in 0..LANES {
                out[lane][j] = lanes[lane];
            }
        }
        for v in [
            &mut table, &mut x, &mut sel, &mut t, &mut m, &mut base, &mut b1, &mut prev, &mut n,
            &mut rr,
        ] {
            v.fill(zero);
        }
        out
    }

    #[target_feature(enable = "avx512f,avx512ifma")]
    fn pow_impl(
        &self,
        bases: &[Vec<u64>; LANES],
        exps: &[&[u64]; LANES],
        exp_bits: usize,
    ) -> [Vec<u64>; LANES] {
        let k = self.k;
        let mut n: Vec<__m512i> = (0..k)
            .map(|j| load(&self.n[j * LANES..(j + 1) * LANES]))
            .collect();
        let mut rr: Vec<__m512i> = (0..k)
            .map(|j| load(&self.rr[j * LANES..(j + 1) * LANES]))
            .collect();
        let n0 = load(&self.n0);
        let zero = _mm512_setzero_si512();
        let mut base: Vec<__m512i> = (0..k)
            .map(|j| {
                let mut v = [0u64; LANES];
                for (lane, b) in bases.iter().enumerate() {
                    v[lane] = b[j];
                }
                let r = load(&v);
                v.zeroize();
                r
            })
            .collect();
        let mut one_plain = vec![zero; k];
        one_plain[0] = _mm512_set1_epi64(1);
        let mut acc = vec![zero; k];
        let mut tmp = vec![zero; k];
        // Montgomery forms: 1 -> R mod N, base -> base R mod N.
        let entries = 1usize << WINDOW;
        let mut table = vec![zero; entries * k];
        amm(&rr, &one_plain, &n, n0, &mut tmp, &mut acc);
        table[..k].copy_from_slice(&tmp);
        amm(&base, &rr, &n, n0, &mut tmp, &mut acc);
        table[k..2 * k].copy_from_slice(&tmp);
        for e in 2..entries {
            let (done, rest) = table.split_at_mut(e * k);
            amm(
                &done[(e - 1) * k..e * k],
                &done[k..2 * k],
                &n,
                n0,
                &mut rest[..k],
                &mut acc,
            );
        }
        let windows = exp_bits.div_ceil(WINDOW).max(1);
        let mut x = vec![zero; k];
        let mut sel = vec![zero; k];
        let mut wide = vec![zero; 2 * k + 4];
        let mut apad = vec![zero; k + 4];
        let mut np = n.clone();
        np.resize(k + 4, zero);
        for wi in (0..windows).rev() {
            let mut idx = [0u64; LANES];
            for (lane, e) in exps.iter().enumerate() {
                idx[lane] = window_bits(e, wi * WINDOW, WINDOW) as u64;
            }
            let idxv = load(&idx);
            idx.zeroize();
            select(&table, k, entries, idxv, &mut sel);
            if wi == windows - 1 {
                x.copy_from_slice(&sel);
            } else {
                for _ in 0..WINDOW {
                    ams(&x, &n, &np, n0, &mut tmp, &mut apad, &mut wide);
                    core::mem::swap(&mut x, &mut tmp);
                }
                amm(&x, &sel, &n, n0, &mut tmp, &mut acc);
                core::mem::swap(&mut x, &mut tmp);
            }
        }
        amm(&x, &one_plain, &n, n0, &mut tmp, &mut acc);
        let mut out: [Vec<u64>; LANES] = Default::default();
        for o in out.iter_mut() {
            o.resize(k, 0);
        }
        for (j, v) in tmp.iter().enumerate() {
            let lanes = store(*v);
            for lane in 0..LANES {
                out[lane][j] = lanes[lane];
            }
        }
        for v in [
            &mut table, &mut x, &mut sel, &mut tmp, &mut acc, &mut base, &mut wide, &mut apad,
            &mut n, &mut rr, &mut np,
        ] {
            v.fill(zero);
        }
        out
    }
}

#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn load(v: &[u64]) -> __m512i {
    _mm512_set_epi64(
        v[7] as i64,
        v[6] as i64,
        v[5] as i64,
        v[4] as i64,
        v[3] as i64,
        v[2] as i64,
        v[1] as i64,
        v[0] as i64,
    )
}

#[inline]
fn store(v: __m512i) -> [u64; LANES] {
    // SAFETY: `__m512i` and `[u64; 8]` have the same size (64 bytes) and
    // every bit pattern is a valid value of both.
    unsafe { core::mem::transmute::<__m512i, [u64; LANES]>(v) }
}

/// Masked scan: `sel[j] = table[idx[lane]][j]` lane by lane.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn select(table: &[__m512i], k: usize, entries: usize, idx: __m512i, sel: &mut [__m512i]) {
    for s in sel.iter_mut() {
        *s = _mm512_setzero_si512();
    }
    for e in 0..entries {
        let m = _mm512_cmpeq_epi64_mask(idx, _mm512_set1_epi64(e as i64));
        let row = &table[e * k..(e + 1) * k];
        for (s, &t) in sel.iter_mut().zip(row) {
            *s = _mm512_mask_mov_epi64(*s, m, t);
        }
    }
}

/// Almost-Montgomery squaring `out = a^2 R^{-1} mod N` (output below `2N`
/// for `a` below `2N`): the off-diagonal products are computed once and
/// doubled, then the `2k`-limb square is Montgomery-reduced — about `3k^2`
/// multiply-adds instead of the `4k^2` of [`amm`]. Both phases handle four
/// rows per pass over the accumulator (eight multiply-adds per load/store),
/// and the reduction computes the next pass's multipliers early
/// (software pipelining). `k` must be a multiple of 4; `np` is `n` padded
/// with four zero limbs; `ap` is scratch of `k + 4`, `t` of `2k + 4`.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn ams(
    a: &[__m512i],
    n: &[__m512i],
    np: &[__m512i],
    n0: __m512i,
    out: &mut [__m512i],
    ap: &mut [__m512i],
    t: &mut [__m512i],
) {
    let k = n.len();
    let zero = _mm512_setzero_si512();
    let mask = _mm512_set1_epi64(MASK52 as i64);
    let ap = &mut ap[..k + 4];
    ap[..k].copy_from_slice(&a[..k]);
    for x in ap[k..].iter_mut() {
        *x = zero;
    }
    let ap = &*ap;
    let np = &np[..k + 4];
    let t = &mut t[..2 * k + 4];
    let out = &mut out[..k];
    for x in t.iter_mut() {
        *x = zero;
    }
    // Off-diagonal products a_i a_j (i < j), rows i .. i + 3 together.
    // Row i + q adds lo(a_(i+q) a_(d-q)) and hi(a_(i+q) a_(d-q-1)) to
    // position i + d, each only when its j exceeds i + q (limbs beyond k
    // read the zero padding).
    let mut i = 0;
    while i + 3 < k {
        let r = [ap[i], ap[i + 1], ap[i + 2], ap[i + 3]];
        for d in i + 1..i + 8 {
            let mut x = t[i + d];
            for (q, &rq) in r.iter().enumerate() {
                if d > i + 2 * q {
                    x = _mm512_madd52lo_epu64(x, rq, ap[d - q]);
                }
                if d > i + 2 * q + 1 {
                    x = _mm512_madd52hi_epu64(x, rq, ap[d - q - 1]);
                }
            }
            t[i + d] = x;
        }
        // d = i + 8 ..= k + 3; w = [a_(d-4), ..., a_d]
        for (td, w) in t[2 * i + 8..i + k + 4]
            .iter_mut()
            .zip(ap[i + 4..].windows(5))
        {
            let x = _mm512_madd52lo_epu64(*td, r[0], w[4]);
            let x = _mm512_madd52hi_epu64(x, r[0], w[3]);
            let x = _mm512_madd52lo_epu64(x, r[1], w[3]);
            let x = _mm512_madd52hi_epu64(x, r[1], w[2]);
            let x = _mm512_madd52lo_epu64(x, r[2], w[2]);
            let x = _mm512_madd52hi_epu64(x, r[2], w[1]);
            let x = _mm512_madd52lo_epu64(x, r[3], w[1]);
            *td = _mm512_madd52hi_epu64(x, r[3], w[0]);
        }
        i += 4;
    }
    // Double, then add the squares a_i^2.
    for (i, &ai) in ap[..k].iter().enumerate() {
        let lo = _mm512_add_epi64(t[2 * i], t[2 * i]);
        t[2 * i] = _mm512_madd52lo_epu64(lo, ai, ai);
        let hi = _mm512_add_epi64(t[2 * i + 1], t[2 * i + 1]);
        t[2 * i + 1] = _mm512_madd52hi_epu64(hi, ai, ai);
    }
    // Montgomery reduction, four limbs per pass.
    let (mut m, mut c3) = red_quad([t[0], t[1], t[2], t[3]], np, n0, mask);
    let mut i = 0;
    while i < k {
        for d in 4..8 {
            let mut x = t[i + d];
            if d == 4 {
                x = _mm512_add_epi64(x, c3);
            }
            for (q, &mq) in m.iter().enumerate() {
                x = _mm512_madd52lo_epu64(x, mq, np[d - q]);
                x = _mm512_madd52hi_epu64(x, mq, np[d - q - 1]);
            }
            t[i + d] = x;
        }
        let next = if i + 4 < k {
            red_quad([t[i + 4], t[i + 5], t[i + 6], t[i + 7]], np, n0, mask)
        } else {
            ([zero; 4], zero)
        };
        // d = 8 ..= k + 3; w = [n_(d-4), ..., n_d]
        for (td, w) in t[i + 8..i + k + 4].iter_mut().zip(np[4..].windows(5)) {
            let x = _mm512_madd52lo_epu64(*td, m[0], w[4]);
            let x = _mm512_madd52hi_epu64(x, m[0], w[3]);
            let x = _mm512_madd52lo_epu64(x, m[1], w[3]);
            let x = _mm512_madd52hi_epu64(x, m[1], w[2]);
            let x = _mm512_madd52lo_epu64(x, m[2], w[2]);
            let x = _mm512_madd52hi_epu64(x, m[2], w[1]);
            let x = _mm512_madd52lo_epu64(x, m[3], w[1]);
            *td = _mm512_madd52hi_epu64(x, m[3], w[0]);
        }
        (m, c3) = next;
        i += 4;
    }
    let mut c = zero;
    for j in 0..k {
        let x = _mm512_add_epi64(t[k + j], c);
        out[j] = _mm512_and_si512(x, mask);
        c = _mm512_srli_epi64::<52>(x);
    }
}

/// For the four lowest remaining positions `p`, the Montgomery multipliers
/// `m0..m3` and the carry out of the fourth position into the fifth.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn red_quad(
    p: [__m512i; 4],
    np: &[__m512i],
    n0: __m512i,
    mask: __m512i,
) -> ([__m512i; 4], __m512i) {
    let zero = _mm512_setzero_si512();
    let mut m = [zero; 4];
    let mut c = zero;
    for pos in 0..4 {
        let mut x = _mm512_add_epi64(p[pos], c);
        for q in 0..pos {
            x = _mm512_madd52lo_epu64(x, m[q], np[pos - q]);
            x = _mm512_madd52hi_epu64(x, m[q], np[pos - q - 1]);
        }
        m[pos] = _mm512_and_si512(_mm512_madd52lo_epu64(zero, x, n0), mask);
        c = _mm512_srli_epi64::<52>(_mm512_madd52lo_epu64(x, m[pos], np[0]));
    }
    (m, c)
}

/// Almost-Montgomery product `out = a b R^{-1} mod N` (output below `2N`
/// for inputs below `2N`), eight lanes at once. `acc` is scratch of `k`.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn amm(
    a: &[__m512i],
    b: &[__m512i],
    n: &[__m512i],
    n0: __m512i,
    out: &mut [__m512i],
    acc: &mut [__m512i],
) {
    let k = n.len();
    let a = &a[..k];
    let b = &b[..k];
    let acc = &mut acc[..k];
    let out = &mut out[..k];
    let zero = _mm512_setzero_si512();
    let mask = _mm512_set1_epi64(MASK52 as i64);
    for x in acc.iter_mut() {
        *x = zero;
    }
    for &bi in b.iter() {
        // Position 0 decides m; after adding m N it is divisible by 2^52.
        let t0 = _mm512_madd52lo_epu64(acc[0], a[0], bi);
        let m = _mm512_and_si512(_mm512_madd52lo_epu64(zero, t0, n0), mask);
        let t0 = _mm512_madd52lo_epu64(t0, n[0], m);
        let carry = _mm512_srli_epi64::<52>(t0);
        // Shift down one limb while accumulating the remaining products.
        for j in 1..k {
            let mut t = _mm512_madd52lo_epu64(acc[j], a[j], bi);
            t = _mm512_madd52hi_epu64(t, a[j - 1], bi);
            t = _mm512_madd52lo_epu64(t, n[j], m);
            t = _mm512_madd52hi_epu64(t, n[j - 1], m);
            acc[j - 1] = t;
        }
        acc[0] = _mm512_add_epi64(acc[0], carry);
        let t = _mm512_madd52hi_epu64(zero, a[k - 1], bi);
        acc[k - 1] = _mm512_madd52hi_epu64(t, n[k - 1], m);
    }
    // Normalise to 52-bit limbs.
    let mut c = zero;
    for j in 0..k {
        let t = _mm512_add_epi64(acc[j], c);
        out[j] = _mm512_and_si512(t, mask);
        c = _mm512_srli_epi64::<52>(t);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use num_bigint::RandBigInt;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn limbs52_round_trip() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        for bits in [1u64, 52, 53, 1000, 3072] {
            let x = rng.gen_biguint(bits);
            let k = (bits as usize).div_ceil(52).max(1);
            assert_eq!(from_limbs52(&to_limbs52(&x, k).unwrap()), x);
        }
    }

    /// Radix-2^52 limbs of `xs` (one value per lane) as `kp` vectors.
    fn lanes_to_vecs(xs: &[BigUint], kp: usize) -> Vec<__m512i> {
        let l: Vec<Vec<u64>> = xs.iter().map(|x| to_limbs52(x, kp).unwrap()).collect();
        (0..kp)
            .map(|j| {
                let v: [u64; LANES] = core::array::from_fn(|lane| l[lane][j]);
                // SAFETY: plain 64-byte reinterpretation.
                unsafe { core::mem::transmute::<[u64; LANES], __m512i>(v) }
            })
            .collect()
    }

    #[test]
    fn column_kernels_match_row_kernels() {
        if !available() {
            eprintln!("AVX-512 IFMA not available: skipping");
            return;
        }
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        for k in [20usize, 40, 60, 80] {
            let kp = k + cols::B;
            // odd moduli below 2^(52k - 2), some at the top of the range
            let moduli: Vec<BigUint> = (0..LANES)
                .map(|i| {
                    let bits = (52 * k - 2 - (i % 3) * 20) as u64;
                    let mut m = rng.gen_biguint(bits);
                    m.set_bit(0, true);
                    m.set_bit(bits - 1, true);
                    m
                })
                .collect();
            let refs: [&BigUint; LANES] = core::array::from_fn(|i| &moduli[i]);
            let ctx = Mb8Moduli::new(refs).unwrap();
            assert_eq!(ctx.limbs(), k);
            // inputs below 2N, with the extremes 0, 1, N - 1, N, 2N - 1
            let pick = |rng: &mut ChaCha20Rng, case: usize| -> Vec<BigUint> {
                moduli
                    .iter()
                    .enumerate()
                    .map(|(lane, m)| match (case + lane) % 7 {
                        0 => BigUint::zero(),
                        1 => BigUint::one(),
                        2 => m - 1u32,
                        3 => m.clone(),
                        4 => (m << 1u32) - 1u32,
                        _ => rng.gen_biguint_below(&(m << 1u32)),
                    })
                    .collect()
            };
            // SAFETY: the CPU has avx512f and avx512ifma (checked above).
            unsafe { check_kernels(&ctx, &moduli, kp, &mut rng, &pick) };
        }
    }

    #[target_feature(enable = "avx512f,avx512ifma")]
    fn check_kernels(
        ctx: &Mb8Moduli,
        moduli: &[BigUint],
        kp: usize,
        rng: &mut ChaCha20Rng,
        pick: &dyn Fn(&mut ChaCha20Rng, usize) -> Vec<BigUint>,
    ) {
        let k = ctx.k;
        let zero = _mm512_setzero_si512();
        let n: Vec<__m512i> = (0..k)
            .map(|j| load(&ctx.n[j * LANES..(j + 1) * LANES]))
            .collect();
        let mut npad = n.clone();
        npad.resize(kp, zero);
        let n0 = load(&ctx.n0);
        let (mut out1, mut out2) = (vec![zero; k], vec![zero; kp]);
        let (mut acc, mut ap, mut wide) = (vec![zero; k], vec![zero; k + 4], vec![zero; 2 * k + 4]);
        let (mut t, mut m) = (vec![zero; 2 * k], vec![zero; k]);
        let r_inv = |x: &BigUint, lane: usize| -> BigUint {
            let r = BigUint::one() << (52 * k);
            (x * r.modinv(&moduli[lane]).unwrap()) % &moduli[lane]
        };
        for case in 0..14 {
            let xs = pick(rng, case);
            let ys = pick(rng, case + 3);
            let a = lanes_to_vecs(&xs, kp);
            let b = lanes_to_vecs(&ys, kp);
            // square
            ams(&a[..k], &n, &npad, n0, &mut out1, &mut ap, &mut wide);
            cols::sqr_cols(&a, k, &mut t);
            cols::redc_cols(&t, &npad, n0, k, &mut m, &mut out2);
            for lane in 0..LANES {
                let got = from_limbs52(&(0..k).map(|j| store(out2[j])[lane]).collect::<Vec<_>>());
                let old = from_limbs52(&(0..k).map(|j| store(out1[j])[lane]).collect::<Vec<_>>());
                assert_eq!(got, old, "square, k {k}, case {case}, lane {lane}");
                assert!(got < (&moduli[lane] << 1u32));
                let expect = r_inv(&(&xs[lane] * &xs[lane]), lane);
                assert_eq!(&got % &moduli[lane], expect);
            }
            // product
            amm(&a[..k], &b[..k], &n, n0, &mut out1, &mut acc);
            cols::mul_cols(&a, &b, k, &mut t);
            cols::redc_cols(&t, &npad, n0, k, &mut m, &mut out2);
            for lane in 0..LANES {
                let got = from_limbs52(&(0..k).map(|j| store(out2[j])[lane]).collect::<Vec<_>>());
                let old = from_limbs52(&(0..k).map(|j| store(out1[j])[lane]).collect::<Vec<_>>());
                assert_eq!(got, old, "product, k {k}, case {case}, lane {lane}");
                assert!(got < (&moduli[lane] << 1u32));
                let expect = r_inv(&(&xs[lane] * &ys[lane]), lane);
                assert_eq!(&got % &moduli[lane], expect);
            }
            // the padding of the output buffer stays zero
            assert!(out2[k..].iter().all(|v| store(*v) == [0; LANES]));
        }
    }

    #[test]
    fn mb8_pow_matches_modpow() {
        if !available() {
            eprintln!("AVX-512 IFMA not available: skipping");
            return;
        }
        let mut rng = ChaCha20Rng::seed_from_u64(8);
        for (mbits, ebits) in [
            (64u64, 64usize),
            (300, 17),
            (1040, 520),
            (2048, 1024),
            (3072, 1536),
            (3071, 1536),
        ] {
            let moduli: Vec<BigUint> = (0..LANES)
                .map(|i| {
                    let mut m = rng.gen_biguint(mbits - (i as u64 % 2));
                    m.set_bit(0, true);
                    m.set_bit(mbits - 1 - (i as u64 % 2), true);
                    m
                })
                .collect();
            let refs: [&BigUint; LANES] = core::array::from_fn(|i| &moduli[i]);
            let ctx = Mb8Moduli::new(refs).unwrap();
            let k = ctx.limbs();
            let xs: Vec<BigUint> = moduli.iter().map(|m| rng.gen_biguint_below(m)).collect();
            let es: Vec<BigUint> = (0..LANES)
                .map(|i| rng.gen_biguint((ebits - i % 3) as u64))
                .collect();
            let bases: [Vec<u64>; LANES] = core::array::from_fn(|i| to_limbs52(&xs[i], k).unwrap());
            let el: Vec<Vec<u64>> = es.iter().map(|e| e.to_u64_digits()).collect();
            let exps: [&[u64]; LANES] = core::array::from_fn(|i| el[i].as_slice());
            let out = ctx.pow(&bases, &exps, ebits).unwrap();
            for lane in 0..LANES {
                assert_eq!(
                    from_limbs52(&out[lane]),
                    xs[lane].modpow(&es[lane], &moduli[lane]),
                    "lane {lane} bits {mbits}"
                );
            }
        }
    }
}
