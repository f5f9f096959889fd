//! AVX-512 IFMA Montgomery exponentiation of a *single* value, two moduli
//! at a time (the `p^2` and `q^2` halves of one CRT decryption).
//!
//! A number's radix-`2^52` limbs are spread across the lanes of `V` vectors
//! (limb `8v + l` in lane `l` of vector `v`). One Montgomery product
//! broadcasts a limb `b_i` of the multiplier, accumulates the low halves of
//! `a · b_i` and `m · N`, shifts the accumulator down one lane (`valignq`),
//! then adds the high halves — the high half of limb `j`'s product belongs
//! to position `j + 1`, which after the shift is lane `j`. The multiplier
//! `m` comes from lane 0 through a scalar multiply, which puts a
//! latency-bound chain in every step; two independent exponentiations
//! (modulo `p^2` and modulo `q^2`) are interleaved in one instruction stream
//! so each hides the other's latency.
//!
//! "Almost Montgomery" as in [`crate::ifma`]: `R = 2^(52k) > 4N`, values stay
//! below `2N`, the final product with 1 reduces fully. The exponentiation is
//! the constant-time fixed-window method (5-bit windows, every window
//! multiplies, table entries read by a full masked scan).

// Index loops over parallel limb arrays read better than zipped iterators here.
#![allow(clippy::needless_range_loop)]

use core::arch::x86_64::{
    __m512i, _mm512_alignr_epi64, _mm512_castsi512_si128, _mm512_madd52hi_epu64,
    _mm512_madd52lo_epu64, _mm512_mask_add_epi64, _mm512_set1_epi64, _mm512_set_epi64,
    _mm512_setzero_si512, _mm_cvtsi128_si64,
};

use num_bigint::BigUint;
use num_traits::One;
use zeroize::Zeroize;

use crate::ifma::{available, to_limbs52};
use crate::mont::{ct_select, window_bits};

const MASK52: u64 = (1u64 << 52) - 1;
const WINDOW: usize = 5;
/// Compiled vector counts (each a separate instantiation): 5, 8 and 10
/// fit the `p^2` of 2048-, 3072- and 4096-bit keys, 10, 15 and 20 their
/// `n^2`; the small ones serve test-size keys. Moduli up to
/// `20 · 8 · 52 - 2` bits.
const SIZES: [usize; 7] = [2, 3, 5, 8, 10, 15, 20];

/// Two moduli (the CRT halves of one decryption).
pub(crate) type X2Moduli = LaneMont<2>;
/// One modulus (`n^2` for public-key encryption and scalar products).
pub(crate) type X1Modulus = LaneMont<1>;

/// `S` moduli in the lane-spread layout, exponentiated together. Wiped on
/// drop.
pub(crate) struct LaneMont<const S: usize> {
    /// Radix-2^52 limbs per number (Montgomery steps per product).
    k: usize,
    /// Vectors per number (`8 v >= k`).
    v: usize,
    n: [Vec<u64>; S],
    n0: [u64; S],
    rr: [Vec<u64>; S],
}

impl<const S: usize> Drop for LaneMont<S> {
    fn drop(&mut self) {
        for x in self.n.iter_mut().chain(self.rr.iter_mut()) {
            x.zeroize();
        }
        self.n0.zeroize();
    }
}

impl<const S: usize> LaneMont<S> {
    /// Contexts for `S` odd moduli.
    pub(crate) fn new(moduli: [&BigUint; S]) -> Option<Self> {
        let max_bits = moduli.iter().map(|m| m.bits()).max().unwrap_or(0) as usize;
        let k = (max_bits + 2).div_ceil(52);
        // Round the vector count up to a compiled size (extra lanes stay 0).
        let v = *SIZES.iter().find(|&&v| 8 * v >= k)?;
        let r2 = BigUint::one() << (2 * 52 * k);
        let mut n: [Vec<u64>; S] = core::array::from_fn(|_| Vec::new());
        let mut rr: [Vec<u64>; S] = core::array::from_fn(|_| Vec::new());
        let mut n0 = [0u64; S];
        for (s, m) in moduli.iter().enumerate() {
            if !m.bit(0) || m.bits() < 2 {
                return None;
            }
            n[s] = to_limbs52(m, 8 * v)?;
            rr[s] = to_limbs52(&(&r2 % *m), 8 * v)?;
            let x = n[s][0];
            let mut inv = x;
            for _ in 0..6 {
                inv = inv.wrapping_mul(2u64.wrapping_sub(x.wrapping_mul(inv)));
            }
            n0[s] = inv.wrapping_neg() & MASK52;
        }
        Some(LaneMont { k, v, n, n0, rr })
    }

    /// Radix-2^52 limbs of the inputs and outputs.
    pub(crate) fn limbs(&self) -> usize {
        8 * self.v
    }

    /// `bases[s]^exps[s] mod N[s]` for every modulus, constant time in bases
    /// and exponents (`exp_bits` public). Bases are `limbs()` radix-2^52
    /// limbs below `N`; results the same, fully reduced. `None` without
    /// AVX-512 IFMA.
    pub(crate) fn pow(
        &self,
        bases: [&[u64]; S],
        exps: [&[u64]; S],
        exp_bits: usize,
    ) -> Option<[Vec<u64>; S]> {
        if !available() || bases.iter().any(|b| b.len() != 8 * self.v) {
            return None;
        }
        macro_rules! dispatch {
            ($($v:literal)*) => {
                match self.v {
                    // SAFETY: the CPU supports avx512f and avx512ifma (checked
                    // above), all `pow_v` needs; it does no raw memory access.
                    $($v => Some(unsafe { self.pow_v::<$v>(bases, exps, exp_bits) }),)*
                    _ => None,
                }
            };
        }
        dispatch!(2 3 5 8 10 15 20)
    }

    #[target_feature(enable = "avx512f,avx512ifma")]
    fn pow_v<const V: usize>(
        &self,
        bases: [&[u64]; S],
        exps: [&[u64]; S],
        exp_bits: usize,
    ) -> [Vec<u64>; S] {
        let kk = 8 * V;
        let zero = _mm512_setzero_si512();
        let mut nv = [[zero; V]; S];
        for s in 0..S {
            for v in 0..V {
                nv[s][v] = load(&self.n[s][8 * v..8 * v + 8]);
            }
        }
        let nl0: [u64; S] = core::array::from_fn(|s| self.n[s][0]);
        let ctx = Ctx::<V, S> {
            k: self.k,
            n: nv,
            nl0,
            n0: self.n0,
        };
        let mut one = vec![0u64; kk];
        one[0] = 1;
        let ones: [&[u64]; S] = [&one[..]; S];
        let entries = 1usize << WINDOW;
        let mut table: [Vec<u64>; S] = core::array::from_fn(|_| vec![0u64; entries * kk]);
        let mut tmp: [Vec<u64>; S] = core::array::from_fn(|_| vec![0u64; kk]);
        let mut x: [Vec<u64>; S] = core::array::from_fn(|_| vec![0u64; kk]);
        let mut sel: [Vec<u64>; S] = core::array::from_fn(|_| vec![0u64; kk]);
        // table[0] = R mod N, table[1] = base R mod N, table[e] = table[e-1] table[1]
        ctx.amm(core::array::from_fn(|s| &self.rr[s][..]), ones, &mut tmp);
        for s in 0..S {
            table[s][..kk].copy_from_slice(&tmp[s]);
        }
        ctx.amm(bases, core::array::from_fn(|s| &self.rr[s][..]), &mut tmp);
        for s in 0..S {
            table[s][kk..2 * kk].copy_from_slice(&tmp[s]);
        }
        for e in 2..entries {
            ctx.amm(
                core::array::from_fn(|s| &table[s][(e - 1) * kk..e * kk]),
                core::array::from_fn(|s| &table[s][kk..2 * kk]),
                &mut tmp,
            );
            for s in 0..S {
                table[s][e * kk..(e + 1) * kk].copy_from_slice(&tmp[s]);
            }
        }
        let windows = exp_bits.div_ceil(WINDOW).max(1);
        for wi in (0..windows).rev() {
            for s in 0..S {
                let d = window_bits(exps[s], wi * WINDOW, WINDOW);
                ct_select(&table[s], kk, entries, d, &mut sel[s]);
            }
            if wi == windows - 1 {
                for s in 0..S {
                    x[s].copy_from_slice(&sel[s]);
                }
                continue;
            }
            for _ in 0..WINDOW {
                ctx.amm(
                    core::array::from_fn(|s| &x[s][..]),
                    core::array::from_fn(|s| &x[s][..]),
                    &mut tmp,
                );
                core::mem::swap(&mut x, &mut tmp);
            }
            ctx.amm(
                core::array::from_fn(|s| &x[s][..]),
                core::array::from_fn(|s| &sel[s][..]),
                &mut tmp,
            );
            core::mem::swap(&mut x, &mut tmp);
        }
        ctx.amm(core::array::from_fn(|s| &x[s][..]), ones, &mut tmp);
        for v in table.iter_mut().chain(x.iter_mut()).chain(sel.iter_mut()) {
            v.zeroize();
        }
        tmp
    }
}

struct Ctx<const V: usize, const S: usize> {
    k: usize,
    n: [[__m512i; V]; S],
    nl0: [u64; S],
    n0: [u64; S],
}

impl<const V: usize, const S: usize> Ctx<V, S> {
    /// `S` almost-Montgomery products `out[s] = a[s] b[s] R^{-1} mod N[s]`,
    /// interleaved. Inputs: `8V` normalised radix-2^52 limbs below `2N`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn amm(&self, a: [&[u64]; S], b: [&[u64]; S], out: &mut [Vec<u64>; S]) {
        let zero = _mm512_setzero_si512();
        let mut av = [[zero; V]; S];
        for s in 0..S {
            for v in 0..V {
                av[s][v] = load(&a[s][8 * v..8 * v + 8]);
            }
        }
        let bk: [&[u64]; S] = core::array::from_fn(|s| &b[s][..self.k]);
        let mut acc = [[zero; V]; S];
        for i in 0..self.k {
            for s in 0..S {
                let bsi = bk[s][i];
                let bi = _mm512_set1_epi64(bsi as i64);
                let acc = &mut acc[s];
                let av = &av[s];
                let nv = &self.n[s];
                for v in 0..V {
                    acc[v] = _mm512_madd52lo_epu64(acc[v], av[v], bi);
                }
                let x0 = _mm_cvtsi128_si64(_mm512_castsi512_si128(acc[0])) as u64;
                let m = x0.wrapping_mul(self.n0[s]) & MASK52;
                let carry = (x0 + (self.nl0[s].wrapping_mul(m) & MASK52)) >> 52;
                let mb = _mm512_set1_epi64(m as i64);
                for v in 0..V {
                    acc[v] = _mm512_madd52lo_epu64(acc[v], nv[v], mb);
                }
                for v in 0..V {
                    let hi = if v + 1 < V { acc[v + 1] } else { zero };
                    acc[v] = _mm512_alignr_epi64::<1>(hi, acc[v]);
                }
                acc[0] = _mm512_mask_add_epi64(acc[0], 1, acc[0], _mm512_set1_epi64(carry as i64));
                for v in 0..V {
                    acc[v] = _mm512_madd52hi_epu64(acc[v], av[v], bi);
                    acc[v] = _mm512_madd52hi_epu64(acc[v], nv[v], mb);
                }
            }
        }
        for (s, o) in out.iter_mut().enumerate() {
            let mut c = 0u64;
            for v in 0..V {
                let lanes = store(acc[s][v]);
                for l in 0..8 {
                    let t = lanes[l] + c;
                    o[8 * v + l] = t & MASK52;
                    c = t >> 52;
                }
            }
        }
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
fn store(v: __m512i) -> [u64; 8] {
    // SAFETY: `__m512i` and `[u64; 8]` have the same size (64 bytes) and
    // every bit pattern is a valid value of both.
    unsafe { core::mem::transmute::<__m512i, [u64; 8]>(v) }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::ifma::from_limbs52;
    use num_bigint::RandBigInt;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn x2_pow_matches_modpow() {
        if !available() {
            eprintln!("AVX-512 IFMA not available: skipping");
            return;
        }
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        for (mbits, ebits) in [
            (64u64, 64usize),
            (300, 17),
            (1040, 520),
            (2048, 1024),
            (3072, 1536),
            (3071, 1535),
            (4096, 2048),
        ] {
            let moduli: Vec<BigUint> = (0..2)
                .map(|i| {
                    let mut m = rng.gen_biguint(mbits - i);
                    m.set_bit(0, true);
                    m.set_bit(mbits - 1 - i, true);
                    m
                })
                .collect();
            let ctx = X2Moduli::new([&moduli[0], &moduli[1]]).unwrap();
            let k = ctx.limbs();
            let xs: Vec<BigUint> = moduli.iter().map(|m| rng.gen_biguint_below(m)).collect();
            let es: Vec<BigUint> = (0..2)
                .map(|i| rng.gen_biguint((ebits - i) as u64))
                .collect();
            let b: Vec<Vec<u64>> = xs.iter().map(|x| to_limbs52(x, k).unwrap()).collect();
            let el: Vec<Vec<u64>> = es.iter().map(|e| e.to_u64_digits()).collect();
            let out = ctx.pow([&b[0], &b[1]], [&el[0], &el[1]], ebits).unwrap();
            for s in 0..2 {
                assert_eq!(
                    from_limbs52(&out[s]),
                    xs[s].modpow(&es[s], &moduli[s]),
                    "s {s} bits {mbits}"
                );
            }
        }
    }

    #[test]
    fn x1_pow_matches_modpow() {
        if !available() {
            return;
        }
        let mut rng = ChaCha20Rng::seed_from_u64(10);
        for (mbits, ebits) in [(512u64, 256usize), (4096, 2048), (6144, 3072), (8192, 64)] {
            let mut m = rng.gen_biguint(mbits);
            m.set_bit(0, true);
            m.set_bit(mbits - 1, true);
            let ctx = X1Modulus::new([&m]).unwrap();
            let x = rng.gen_biguint_below(&m);
            let e = rng.gen_biguint(ebits as u64);
            let b = to_limbs52(&x, ctx.limbs()).unwrap();
            let el = e.to_u64_digits();
            let [r] = ctx.pow([&b], [&el], ebits).unwrap();
            assert_eq!(from_limbs52(&r), x.modpow(&e, &m), "bits {mbits}");
        }
    }
}
