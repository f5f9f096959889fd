//! Column-blocked 8-lane AVX-512 IFMA Montgomery kernels (the squarings and
//! products of [`crate::ifma`]'s exponentiation when the limb count is a
//! multiple of [`B`]: 2048-, 3072- and 4096-bit moduli).
//!
//! Numbers as in [`crate::ifma`]: radix `2^52`, limb `j` of all eight lanes
//! in one `__m512i`, "almost Montgomery" with `R = 2^(52k) > 4N`. The
//! products are formed block of columns by block of columns ("product
//! scanning"): the `B` output columns of a block are accumulated in `B + 1`
//! registers while the rows stream through — `a_i` of a product, `m_i` of the
//! reduction — each row adding `lo(a_i x_j)` to column `i + j` and
//! `hi(a_i x_j)` to column `i + j + 1`. Inside a block no accumulator goes
//! through memory, and the `B + 1` independent accumulation chains keep the
//! IFMA units busy (the row-by-row kernels of [`crate::ifma`] load and store
//! an accumulator every eight multiply-adds and wait on long chains).
//!
//! The rows at the edges of a block's band meet only part of it. Their
//! shapes depend on the row's offset from the edge, not on the block, so each
//! edge row is its own fully unrolled code (the `*_rows!` macros below) and
//! no multiply-add is spent on padding.
//!
//! A square is `T = a^2` (each off-diagonal product once, doubled, plus the
//! diagonal), a product `T = a b`; then `T` is Montgomery-reduced. The
//! reduction finds the multipliers `m_c` column by column in the blocks below
//! `k` (the only sequential part) and adds the rows `m_i N` everywhere else.
//!
//! Operands are zero-padded to `k + B` limbs (the windows read up to `B`
//! limbs past an operand's end). Constant time: every branch and address
//! depends on public sizes only. The only `unsafe` is an empty `asm` block
//! that pins the code order (see `pin!`).

// Index loops over parallel limb arrays read better than zipped iterators here.
#![allow(clippy::needless_range_loop)]

use core::arch::x86_64::{
    __m512i, _mm512_add_epi64, _mm512_and_si512, _mm512_cmpeq_epi64_mask, _mm512_madd52hi_epu64,
    _mm512_madd52lo_epu64, _mm512_mask_mov_epi64, _mm512_set1_epi64, _mm512_setzero_si512,
    _mm512_slli_epi64, _mm512_srli_epi64,
};

/// Columns per block (accumulators `B + 1`, of the 32 vector registers).
/// 10 divides the limb counts 40, 60 and 80 of 2048-, 3072- and 4096-bit
/// moduli; it beat 20 (one squaring 1.06 -> 0.96 us at k = 40, 2.08 -> 2.0
/// at k = 60: smaller edge shapes and triangles, and the ten-column row
/// still outlasts the eight-cycle accumulation chain), 8 (k = 40) and 12
/// (k = 60, within noise of 10).
pub(crate) const B: usize = 10;
const A: usize = B + 1;
const MASK52: u64 = (1u64 << 52) - 1;

type V = __m512i;

/// The `B` limbs of `x` from `at` (`x` is padded, so they exist).
#[inline(always)]
fn win(x: &[V], at: usize) -> &[V; B] {
    match x[at..].first_chunk::<B>() {
        Some(w) => w,
        None => unreachable!("operands are padded to k + B limbs"),
    }
}

#[inline(always)]
fn win_mut(x: &mut [V], at: usize) -> &mut [V; B] {
    match x[at..].first_chunk_mut::<B>() {
        Some(w) => w,
        None => unreachable!("buffers hold whole blocks"),
    }
}

/// `lo <= b <= hi` (a function, so constant bounds raise no lint).
#[inline(always)]
const fn within(b: usize, lo: usize, hi: usize) -> bool {
    lo <= b && b <= hi
}

/// `$body` for `$b = 0, 1, ..., B - 1`, each a compile-time constant: a
/// guaranteed unroll, so every accumulator index is constant and the
/// accumulators stay in registers.
macro_rules! each_b {
    ($b:ident, $body:block) => {
        each_b!(@ $b, $body; 0 1 2 3 4 5 6 7 8 9)
    };
    (@ $b:ident, $body:block; $($n:literal)*) => {
        $( {
            #[allow(non_upper_case_globals)]
            const $b: usize = $n;
            $body
        } )*
    };
}

/// One row `r` against the window `x` (`x[b]` pairs with column `b`),
/// columns `$lo ..= $hi` only: `acc[b] += lo(r x[b])`,
/// `acc[b + 1] += hi(r x[b])`.
macro_rules! row {
    ($acc:ident, $r:expr, $x:expr, $lo:expr, $hi:expr) => {{
        let r = $r;
        let x: &[V; B] = $x;
        each_b!(b, {
            if within(b, $lo, $hi) {
                $acc[b] = _mm512_madd52lo_epu64($acc[b], r, x[b]);
                $acc[b + 1] = _mm512_madd52hi_epu64($acc[b + 1], r, x[b]);
            }
        });
    }};
}

/// Rows `i = base + s`, `s = 0 ..= B - 2`, meet columns `0 ..= s` (the
/// lower-right edge of the band, where `j = c0 + b - i` would pass `k - 1`);
/// rows with `i < 0` are skipped. `x` is indexed by `j`.
macro_rules! prefix_rows {
    ($acc:ident, $rows:expr, $x:expr, $c0:expr, $base:expr; $($s:literal)*) => {
        $(
            let i = $base + $s as isize;
            if i >= 0 {
                let i = i as usize;
                row!($acc, $rows[i], win($x, $c0 - i), 0, $s);
            }
        )*
    };
}

/// Rows `i = c0 + r`, `r = 1 ..= B - 1`, below `k`, meet columns `r ..` (the
/// upper-left edge, where `j = b - r` would be negative).
macro_rules! suffix_rows {
    ($acc:ident, $rows:expr, $x:expr, $c0:expr, $k:expr; $($r:literal)*) => {
        $(
            if $c0 + $r < $k {
                let rr = $rows[$c0 + $r];
                let x = win($x, 0);
                each_b!(b, {
                    if b >= $r {
                        $acc[b] = _mm512_madd52lo_epu64($acc[b], rr, x[b - $r]);
                        $acc[b + 1] = _mm512_madd52hi_epu64($acc[b + 1], rr, x[b - $r]);
                    }
                });
            }
        )*
    };
}

/// Square, diagonal edge: row `i = h + r` (`h = c0 / 2`) meets columns
/// `2r + 1 ..` (`j > i`); its partners `a_j`, `j = h + b - r`, start at
/// `a_(i+1)`.
macro_rules! diag_rows {
    ($acc:ident, $a:expr, $h:expr; $($r:literal)*) => {
        $( {
            let i = $h + $r;
            let ai = $a[i];
            let x = win($a, i + 1);
            each_b!(b, {
                if b > 2 * $r {
                    $acc[b] = _mm512_madd52lo_epu64($acc[b], ai, x[b - 2 * $r - 1]);
                    $acc[b + 1] = _mm512_madd52hi_epu64($acc[b + 1], ai, x[b - 2 * $r - 1]);
                }
            });
        } )*
    };
}

/// Square, last block (`c0 = 2k - B`, where both edges cut the same rows):
/// row `i = k - B + 1 + s` meets columns `max(0, 2s + 3 - B) ..= s`.
macro_rules! last_rows {
    ($acc:ident, $a:expr, $k:expr, $c0:expr; $($s:literal)*) => {
        $( {
            let i = $k - B + 1 + $s;
            const LO: usize = (2 * $s + 3usize).saturating_sub(B);
            row!($acc, $a[i], win($a, $c0 - i), LO, $s);
        } )*
    };
}

/// Keeps the code order: every accumulator passes through an empty `asm`
/// block, so nothing computed before it can sink below it (LLVM otherwise
/// regroups the triangle's rows into one long chain per column, which the
/// out-of-order window cannot start early: the triangle ran ~25 % slower).
macro_rules! pin {
    ($acc:ident) => {
        // SAFETY: an empty assembly block (the operands are named in a
        // comment only): it reads and writes nothing but its register operands.
        unsafe {
            core::arch::asm!("/* {0} {1} {2} {3} {4} {5} {6} {7} {8} {9} {10} */",
                inout(zmm_reg) $acc[0], inout(zmm_reg) $acc[1], inout(zmm_reg) $acc[2], inout(zmm_reg) $acc[3], inout(zmm_reg) $acc[4], inout(zmm_reg) $acc[5], inout(zmm_reg) $acc[6], inout(zmm_reg) $acc[7], inout(zmm_reg) $acc[8], inout(zmm_reg) $acc[9], inout(zmm_reg) $acc[10],
                options(pure, nomem, nostack, preserves_flags));
        }
    };
}

/// Reduction, in-block triangle (blocks below `k`). Before the first step:
/// `$mc` = the multiplier of column 0 and `$cc` = its carry. Step `$r`
/// finishes column `$r + 1` and its multiplier first (the critical path:
/// two multiply-adds in parallel, an add, the multiplier's multiply-add),
/// then adds the rest of the row `m_r N` — in program order after the next
/// multiplier, so the scheduler never puts it ahead of the critical chain.
/// The carry out of a finished column `x` is `(x + 2^52 - 1) >> 52`: adding
/// `lo(m n_0)` makes the low 52 bits zero, carrying one exactly when they
/// were not zero already.
macro_rules! tri_steps {
    ($acc:ident, $n:expr, $n0:expr, $m:expr, $c0:expr, $mc:ident, $cc:ident; $($r:literal)*) => {
        $( {
            const R: usize = $r;
            let n: &[V; B] = $n;
            let zero = _mm512_setzero_si512();
            let mr = $mc;
            let lo1 = if R + 1 < B {
                _mm512_madd52lo_epu64(_mm512_add_epi64($acc[R + 1], $cc), mr, n[1])
            } else {
                _mm512_add_epi64($acc[R + 1], $cc)
            };
            let hi0 = _mm512_madd52hi_epu64(zero, mr, n[0]);
            let x = _mm512_add_epi64(lo1, hi0);
            $acc[R + 1] = x;
            if R + 1 < B {
                $mc = _mm512_madd52lo_epu64(zero, x, $n0);
                $m[$c0 + R + 1] = $mc;
                $cc = _mm512_srli_epi64::<52>(_mm512_add_epi64(x, _mm512_set1_epi64(MASK52 as i64)));
            }
            each_b!(b, {
                if b > R + 1 {
                    $acc[b] = _mm512_madd52lo_epu64($acc[b], mr, n[b - R]);
                }
                if b > R {
                    $acc[b + 1] = _mm512_madd52hi_epu64($acc[b + 1], mr, n[b - R]);
                }
            });
            pin!($acc);
        } )*
    };
}

/// `t[0 .. 2k] = a b` (limbs unnormalised, below `2^59` for `k <= 80`).
/// `a`, `b`: `k + B` limbs, zero from `k`; `t`: `2k` limbs; `k` a multiple
/// of `B`.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
pub(crate) fn mul_cols(a: &[V], b: &[V], k: usize, t: &mut [V]) {
    debug_assert!(k.is_multiple_of(B) && k >= B && a.len() >= k + B && b.len() >= k + B);
    let zero = _mm512_setzero_si512();
    let mut spill = zero;
    let mut c0 = 0;
    while c0 < 2 * k {
        // The previous block's spill is added last: the rows need not wait
        // for it (likewise below).
        let mut acc = [zero; A];
        let base = c0 as isize + 1 - k as isize;
        prefix_rows!(acc, a, b, c0, base; 0 1 2 3 4 5 6 7 8);
        for i in (c0 + B).saturating_sub(k)..=c0.min(k - 1) {
            row!(acc, a[i], win(b, c0 - i), 0, B - 1);
        }
        suffix_rows!(acc, a, b, c0, k; 1 2 3 4 5 6 7 8 9);
        acc[0] = _mm512_add_epi64(acc[0], spill);
        let tw = win_mut(t, c0);
        each_b!(j, {
            tw[j] = acc[j];
        });
        spill = acc[B];
        c0 += B;
    }
}

/// `t[0 .. 2k] = a^2` (limbs unnormalised, below `2^59` for `k <= 80`).
/// `a`: `k + B` limbs, zero from `k`; `t`: `2k` limbs; `k` a multiple of
/// `B`.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
pub(crate) fn sqr_cols(a: &[V], k: usize, t: &mut [V]) {
    debug_assert!(k.is_multiple_of(B) && k >= B && a.len() >= k + B);
    let zero = _mm512_setzero_si512();
    let mut spill = zero;
    let mut c0 = 0;
    while c0 < 2 * k {
        let mut acc = [zero; A];
        let h = c0 / 2;
        if c0 + B < 2 * k {
            // below the diagonal rows: the edge j <= k - 1, then full rows
            let base = c0 as isize + 1 - k as isize;
            prefix_rows!(acc, a, a, c0, base; 0 1 2 3 4 5 6 7 8);
            for i in (c0 + B).saturating_sub(k)..h {
                row!(acc, a[i], win(a, c0 - i), 0, B - 1);
            }
            diag_rows!(acc, a, h; 0 1 2 3 4);
        } else {
            last_rows!(acc, a, k, c0; 0 1 2 3 4 5 6 7);
        }
        // double the off-diagonal sum (the spill is doubled in the next
        // block) and add the squares a_(h+r)^2 to columns 2r, 2r + 1
        let next = acc[B];
        acc[0] = _mm512_add_epi64(acc[0], spill);
        let aw = win(a, h);
        let tw = win_mut(t, c0);
        each_b!(j, {
            let d = _mm512_slli_epi64::<1>(acc[j]);
            let ai = aw[j / 2];
            tw[j] = if j.is_multiple_of(2) {
                _mm512_madd52lo_epu64(d, ai, ai)
            } else {
                _mm512_madd52hi_epu64(d, ai, ai)
            };
        });
        spill = next;
        c0 += B;
    }
}

/// `out = t R^{-1} mod N`, almost Montgomery (below `2N` when `t < 4N^2`),
/// normalised 52-bit limbs. `t`: `2k` limbs (unnormalised, below `2^60`);
/// `n`: `k + B` limbs, zero from `k`; `n0 = -N^{-1} mod 2^52`; `m`: scratch
/// of `k`; `out`: `k` limbs written (a longer buffer keeps its tail).
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
pub(crate) fn redc_cols(t: &[V], n: &[V], n0: V, k: usize, m: &mut [V], out: &mut [V]) {
    debug_assert!(k.is_multiple_of(B) && k >= B && n.len() >= k + B && t.len() >= 2 * k);
    let zero = _mm512_setzero_si512();
    let mask = _mm512_set1_epi64(MASK52 as i64);
    let n_lo = win(n, 0);
    let mut spill = zero;
    let mut c0 = 0;
    while c0 < 2 * k {
        let mut acc = [zero; A];
        let tw = win(t, c0);
        each_b!(j, {
            acc[j] = tw[j];
        });
        // rows i < min(c0, k), whose m_i are known: the edge j <= k - 1,
        // then full rows
        let lo = (c0 + B).saturating_sub(k);
        if lo > 0 {
            let base = c0 as isize + 1 - k as isize;
            prefix_rows!(acc, m, n, c0, base; 0 1 2 3 4 5 6 7 8);
        }
        for i in lo..c0.min(k) {
            row!(acc, m[i], win(n, c0 - i), 0, B - 1);
        }
        acc[0] = _mm512_add_epi64(acc[0], spill);
        if c0 < k {
            let mut mc = _mm512_madd52lo_epu64(zero, acc[0], n0);
            m[c0] = mc;
            let mut cc = _mm512_srli_epi64::<52>(_mm512_add_epi64(acc[0], mask));
            tri_steps!(acc, n_lo, n0, m, c0, mc, cc;
                0 1 2 3 4 5 6 7 8 9);
        } else {
            let ow = win_mut(out, c0 - k);
            each_b!(j, {
                ow[j] = acc[j];
            });
        }
        spill = acc[B];
        c0 += B;
    }
    let mut c = zero;
    for j in 0..k {
        let x = _mm512_add_epi64(out[j], c);
        out[j] = _mm512_and_si512(x, mask);
        c = _mm512_srli_epi64::<52>(x);
    }
}

/// `sel[j] = table[idx[lane]][j]` lane by lane for `j < k`: a masked scan of
/// every entry (constant time), `B` limbs at a time held in registers (the
/// generic scan in [`crate::ifma`] merges into memory, a masked store per
/// limb and entry). Entries are `stride` limbs apart.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
pub(crate) fn select(table: &[V], k: usize, stride: usize, entries: usize, idx: V, sel: &mut [V]) {
    debug_assert!(k.is_multiple_of(B) && table.len() >= (entries - 1) * stride + k);
    let zero = _mm512_setzero_si512();
    let mut j0 = 0;
    while j0 < k {
        let mut r = [zero; B];
        for e in 0..entries {
            let m = _mm512_cmpeq_epi64_mask(idx, _mm512_set1_epi64(e as i64));
            let row = win(table, e * stride + j0);
            each_b!(j, {
                r[j] = _mm512_mask_mov_epi64(r[j], m, row[j]);
            });
        }
        let out = win_mut(sel, j0);
        each_b!(j, {
            out[j] = r[j];
        });
        j0 += B;
    }
}
