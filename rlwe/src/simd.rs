//! AVX-512 IFMA kernels for the RNS hot loops (basis extension, scaling),
//! selected at run time; every kernel has a portable scalar twin in the
//! caller and is tested against it.
//!
//! The kernels use 52-bit Shoup multiplication: for a constant `w < p` with
//! `p < 2^50` and `w' = ⌊w·2^52/p⌋`, `x·w mod p` for any `x < 2^52` is
//! `(x·w − ⌊x·w'/2^52⌋·p) mod 2^52 ∈ [0, 2p)`.

/// Whether the IFMA kernels can run on this CPU.
#[inline]
pub(crate) fn ifma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512ifma")
            && std::arch::is_x86_feature_detected!("avx512dq")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Largest prime the IFMA kernels accept as a modulus.
pub(crate) const IFMA_MAX_MODULUS: u64 = 1 << 50;

/// `⌊w·2^52/p⌋`, the 52-bit Shoup constant.
#[inline]
pub(crate) fn shoup52(w: u64, p: u64) -> u64 {
    (((w as u128) << 52) / p as u128) as u64
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    const MASK52: i64 = (1 << 52) - 1;

    /// `(x·w mod p)` lazily in `[0, 2p)` for 8 lanes.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn shoup_lazy(x: __m512i, w: __m512i, ws: __m512i, p: __m512i) -> __m512i {
        let zero = _mm512_setzero_si512();
        let q = _mm512_madd52hi_epu64(zero, x, ws);
        let a = _mm512_madd52lo_epu64(zero, x, w);
        let b = _mm512_madd52lo_epu64(zero, q, p);
        _mm512_and_si512(_mm512_sub_epi64(a, b), _mm512_set1_epi64(MASK52))
    }

    /// `x − m` where `x ≥ m`, else `x` (unsigned lanes).
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn csub(x: __m512i, m: __m512i) -> __m512i {
        _mm512_min_epu64(x, _mm512_sub_epi64(x, m))
    }

    /// `dst[c] (+)= src[c]·w mod p`, kept in `[0, 2p)`.
    ///
    /// # Safety
    /// The CPU supports AVX-512F and IFMA; `dst.len() == src.len()`;
    /// `src[c] < 2^52`, `p < 2^50`, `w < p`; with `accumulate`, `dst[c] < 2p`.
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(super) unsafe fn mul_acc(
        dst: &mut [u64],
        src: &[u64],
        w: u64,
        ws: u64,
        p: u64,
        accumulate: bool,
    ) {
        let (vw, vws, vp) = (
            _mm512_set1_epi64(w as i64),
            _mm512_set1_epi64(ws as i64),
            _mm512_set1_epi64(p as i64),
        );
        let v2p = _mm512_set1_epi64(2 * p as i64);
        let chunks = dst.len() / 8;
        for k in 0..chunks {
            // SAFETY: k·8 + 8 ≤ len for both slices (equal lengths).
            unsafe {
                let s = _mm512_loadu_si512(src.as_ptr().add(8 * k) as *const _);
                let mut r = shoup_lazy(s, vw, vws, vp);
                let dp = dst.as_mut_ptr().add(8 * k) as *mut __m512i;
                if accumulate {
                    r = csub(_mm512_add_epi64(_mm512_loadu_si512(dp as *const _), r), v2p);
                }
                _mm512_storeu_si512(dp as *mut _, r);
            }
        }
        for c in 8 * chunks..dst.len() {
            let q = ((src[c] as u128 * ws as u128) >> 52) as u64;
            let mut r = (src[c].wrapping_mul(w)).wrapping_sub(q.wrapping_mul(p)) & (MASK52 as u64);
            if accumulate {
                r += dst[c];
                if r >= 2 * p {
                    r -= 2 * p;
                }
            }
            dst[c] = r;
        }
    }

    /// `dst[c] = (dst[c] − v[c]·w) mod p` in `[0, p)`, from `dst[c] < 2p`
    /// (`v[c] < 2^52`); with `v` empty, only reduces `dst` into `[0, p)`.
    ///
    /// # Safety
    /// As [`mul_acc`]; `v` is empty or as long as `dst`.
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(super) unsafe fn sub_mul_reduce(dst: &mut [u64], v: &[u64], w: u64, ws: u64, p: u64) {
        let (vw, vws, vp) = (
            _mm512_set1_epi64(w as i64),
            _mm512_set1_epi64(ws as i64),
            _mm512_set1_epi64(p as i64),
        );
        let v2p = _mm512_set1_epi64(2 * p as i64);
        let chunks = dst.len() / 8;
        for k in 0..chunks {
            // SAFETY: in bounds as above.
            unsafe {
                let dp = dst.as_mut_ptr().add(8 * k) as *mut __m512i;
                let mut d = _mm512_loadu_si512(dp as *const _);
                if !v.is_empty() {
                    let x = _mm512_loadu_si512(v.as_ptr().add(8 * k) as *const _);
                    let r = shoup_lazy(x, vw, vws, vp);
                    d = csub(_mm512_sub_epi64(_mm512_add_epi64(d, v2p), r), v2p);
                }
                d = csub(d, vp);
                _mm512_storeu_si512(dp as *mut _, d);
            }
        }
        for c in 8 * chunks..dst.len() {
            let mut d = dst[c];
            if !v.is_empty() {
                let q = ((v[c] as u128 * ws as u128) >> 52) as u64;
                let r = (v[c].wrapping_mul(w)).wrapping_sub(q.wrapping_mul(p)) & (MASK52 as u64);
                d = d + 2 * p - r;
                if d >= 2 * p {
                    d -= 2 * p;
                }
            }
            if d >= p {
                d -= p;
            }
            dst[c] = d;
        }
    }

    /// The high 64 bits of the 128-bit products of 8 unsigned lanes, from
    /// four 32×32-bit products (AVX-512 has no 64-bit high multiply).
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn mulhi64(a: __m512i, b: __m512i, b_hi: __m512i) -> __m512i {
        let lo = _mm512_set1_epi64(0xffff_ffff);
        let a_hi = _mm512_srli_epi64(a, 32);
        let ll = _mm512_mul_epu32(a, b);
        let lh = _mm512_mul_epu32(a, b_hi);
        let hl = _mm512_mul_epu32(a_hi, b);
        let hh = _mm512_mul_epu32(a_hi, b_hi);
        let mid = _mm512_add_epi64(
            _mm512_add_epi64(_mm512_srli_epi64(ll, 32), _mm512_and_si512(lh, lo)),
            _mm512_and_si512(hl, lo),
        );
        let hi = _mm512_add_epi64(
            _mm512_add_epi64(hh, _mm512_srli_epi64(lh, 32)),
            _mm512_srli_epi64(hl, 32),
        );
        _mm512_add_epi64(hi, _mm512_srli_epi64(mid, 32))
    }

    /// `x·w mod p` in `[0, 2p)` for 8 lanes, 64-bit Shoup (`p < 2^62`).
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq")]
    fn shoup64_lazy(x: __m512i, w: __m512i, ws: __m512i, ws_hi: __m512i, p: __m512i) -> __m512i {
        let q = mulhi64(x, ws, ws_hi);
        _mm512_sub_epi64(_mm512_mullo_epi64(x, w), _mm512_mullo_epi64(q, p))
    }

    /// The three element-wise 64-bit Shoup operations of basis extension
    /// and division by a basis tail, for primes `p < 2^62` (see
    /// [`super::Op64`]); results in `[0, p)`.
    ///
    /// # Safety
    /// AVX-512F and DQ; `dst.len() == src.len()`; `w < p < 2^62`; inputs
    /// as documented on [`super::Op64`].
    #[target_feature(enable = "avx512f,avx512dq")]
    pub(super) unsafe fn op64(
        op: super::Op64,
        dst: &mut [u64],
        src: &[u64],
        w: u64,
        ws: u64,
        p: u64,
    ) {
        use super::Op64;
        let (vw, vws, vws_hi, vp) = (
            _mm512_set1_epi64(w as i64),
            _mm512_set1_epi64(ws as i64),
            _mm512_set1_epi64((ws >> 32) as i64),
            _mm512_set1_epi64(p as i64),
        );
        let chunks = dst.len() / 8;
        for k in 0..chunks {
            // SAFETY: k·8 + 8 ≤ len for both slices (equal lengths).
            unsafe {
                let x = _mm512_loadu_si512(src.as_ptr().add(8 * k) as *const _);
                let dp = dst.as_mut_ptr().add(8 * k) as *mut __m512i;
                let r = match op {
                    Op64::Mul => csub(shoup64_lazy(x, vw, vws, vws_hi, vp), vp),
                    Op64::SubMul => {
                        let d = csub(_mm512_loadu_si512(dp as *const _), vp);
                        let t = csub(shoup64_lazy(x, vw, vws, vws_hi, vp), vp);
                        csub(_mm512_sub_epi64(_mm512_add_epi64(d, vp), t), vp)
                    }
                    Op64::SubThenMul => {
                        let d = _mm512_loadu_si512(dp as *const _);
                        let y = _mm512_sub_epi64(_mm512_add_epi64(d, vp), x);
                        csub(shoup64_lazy(y, vw, vws, vws_hi, vp), vp)
                    }
                    Op64::AddMul => {
                        let d = _mm512_loadu_si512(dp as *const _);
                        let t = csub(shoup64_lazy(x, vw, vws, vws_hi, vp), vp);
                        csub(_mm512_add_epi64(d, t), vp)
                    }
                };
                _mm512_storeu_si512(dp as *mut _, r);
            }
        }
        let tail = 8 * chunks;
        super::op64_scalar(op, &mut dst[tail..], &src[tail..], w, ws, p);
    }

    /// `dst[c] = Σ_i srcs[i][c]·w[i] mod p` in `[0, 2p)`, the sum kept in
    /// registers (one pass over `dst`).
    ///
    /// # Safety
    /// AVX-512F and DQ; every `srcs[i]` as long as `dst`; `w`, `ws` as
    /// long as `srcs`; `w[i] < p < 2^62`.
    #[target_feature(enable = "avx512f,avx512dq")]
    pub(super) unsafe fn dot64(dst: &mut [u64], srcs: &[&[u64]], w: &[u64], ws: &[u64], p: u64) {
        let vp = _mm512_set1_epi64(p as i64);
        let v2p = _mm512_set1_epi64(2 * p as i64);
        let chunks = dst.len() / 8;
        for k in 0..chunks {
            let mut acc = _mm512_setzero_si512();
            for (i, src) in srcs.iter().enumerate() {
                // SAFETY: k·8 + 8 ≤ len of every source (as long as dst).
                let x = unsafe { _mm512_loadu_si512(src.as_ptr().add(8 * k) as *const _) };
                let r = shoup64_lazy(
                    x,
                    _mm512_set1_epi64(w[i] as i64),
                    _mm512_set1_epi64(ws[i] as i64),
                    _mm512_set1_epi64((ws[i] >> 32) as i64),
                    vp,
                );
                acc = csub(_mm512_add_epi64(acc, r), v2p);
            }
            // SAFETY: in bounds.
            unsafe { _mm512_storeu_si512(dst.as_mut_ptr().add(8 * k) as *mut _, acc) };
        }
        super::dot64_scalar(dst, srcs, w, ws, p, 8 * chunks);
    }

    /// `a·b mod p` for 8 lanes with `a, b < p < 2^50` (Barrett on the
    /// 104-bit product; see [`super::Barrett52`]).
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn barrett_mul(
        a: __m512i,
        b: __m512i,
        mu: __m512i,
        neg_p: __m512i,
        p: __m512i,
        shr: __m512i,
        shl: __m512i,
    ) -> __m512i {
        let zero = _mm512_setzero_si512();
        let mask = _mm512_set1_epi64(MASK52);
        let lo = _mm512_madd52lo_epu64(zero, a, b);
        let hi = _mm512_madd52hi_epu64(zero, a, b);
        // c = ⌊a·b / 2^(L−1)⌋ < 2^(L+1), from the two 52-bit halves
        let c = _mm512_and_si512(
            _mm512_or_si512(_mm512_srlv_epi64(lo, shr), _mm512_sllv_epi64(hi, shl)),
            mask,
        );
        let q = _mm512_madd52hi_epu64(zero, c, mu);
        // r = a·b − q·p ∈ [0, 3p), exact in the low 52 bits
        let r = _mm512_and_si512(_mm512_madd52lo_epu64(lo, q, neg_p), mask);
        csub(csub(r, p), p)
    }

    /// `dst[c] = a[c]·b[c] mod p`, or `dst[c] = dst[c]·b[c] mod p` when `a`
    /// is `None`.
    ///
    /// # Safety
    /// AVX-512F and IFMA; equal lengths; every input below `p < 2^50`.
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(super) unsafe fn mul_mod(
        dst: &mut [u64],
        a: Option<&[u64]>,
        b: &[u64],
        k: &super::Barrett52,
    ) {
        let mu = _mm512_set1_epi64(k.mu as i64);
        let neg_p = _mm512_set1_epi64(((1u64 << 52) - k.p) as i64);
        let vp = _mm512_set1_epi64(k.p as i64);
        let shr = _mm512_set1_epi64(k.shift as i64);
        let shl = _mm512_set1_epi64(52 - k.shift as i64);
        let chunks = dst.len() / 8;
        for j in 0..chunks {
            // SAFETY: 8·j + 8 ≤ len for every slice (equal lengths).
            unsafe {
                let dp = dst.as_mut_ptr().add(8 * j) as *mut __m512i;
                let x = match a {
                    Some(a) => _mm512_loadu_si512(a.as_ptr().add(8 * j) as *const _),
                    None => _mm512_loadu_si512(dp as *const _),
                };
                let y = _mm512_loadu_si512(b.as_ptr().add(8 * j) as *const _);
                _mm512_storeu_si512(dp as *mut _, barrett_mul(x, y, mu, neg_p, vp, shr, shl));
            }
        }
        for c in 8 * chunks..dst.len() {
            let x = a.map_or(dst[c], |a| a[c]);
            dst[c] = k.mul(x, b[c]);
        }
    }

    /// `dst[c] = (dst[c] − v[c])·w mod p` for `dst[c], v[c] < p`.
    ///
    /// # Safety
    /// AVX-512F and IFMA; equal lengths; `p < 2^50`, `w < p`.
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(super) unsafe fn sub_then_mul(dst: &mut [u64], v: &[u64], w: u64, ws: u64, p: u64) {
        let (vw, vws, vp) = (
            _mm512_set1_epi64(w as i64),
            _mm512_set1_epi64(ws as i64),
            _mm512_set1_epi64(p as i64),
        );
        let chunks = dst.len() / 8;
        for k in 0..chunks {
            // SAFETY: in bounds (equal lengths).
            unsafe {
                let dp = dst.as_mut_ptr().add(8 * k) as *mut __m512i;
                let d = _mm512_loadu_si512(dp as *const _);
                let x = _mm512_loadu_si512(v.as_ptr().add(8 * k) as *const _);
                // d + p − x ∈ (0, 2p) < 2^52
                let y = _mm512_sub_epi64(_mm512_add_epi64(d, vp), x);
                _mm512_storeu_si512(dp as *mut _, csub(shoup_lazy(y, vw, vws, vp), vp));
            }
        }
        for c in 8 * chunks..dst.len() {
            let y = dst[c] + p - v[c];
            let q = ((y as u128 * ws as u128) >> 52) as u64;
            let mut r = (y.wrapping_mul(w)).wrapping_sub(q.wrapping_mul(p)) & (MASK52 as u64);
            if r >= p {
                r -= p;
            }
            dst[c] = r;
        }
    }

    /// `out[c] = a[c] ± b[c] mod p` for `a[c], b[c] < p` (`sub` picks the
    /// sign); `out` may be `a` itself.
    ///
    /// # Safety
    /// AVX-512F; `out`, `a` and `b` are valid for `n` words (`out` for
    /// writes); `out` is `a` or overlaps neither input.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn add_sub(
        out: *mut u64,
        a: *const u64,
        b: *const u64,
        n: usize,
        p: u64,
        sub: bool,
    ) {
        let vp = _mm512_set1_epi64(p as i64);
        let chunks = n / 8;
        for k in 0..chunks {
            // SAFETY: 8·k + 8 ≤ n; each lane is read before it is written.
            unsafe {
                let x = _mm512_loadu_si512(a.add(8 * k) as *const _);
                let y = _mm512_loadu_si512(b.add(8 * k) as *const _);
                let r = if sub {
                    // a − b wraps above a − b + p exactly when a < b
                    let d = _mm512_sub_epi64(x, y);
                    _mm512_min_epu64(d, _mm512_add_epi64(d, vp))
                } else {
                    csub(_mm512_add_epi64(x, y), vp)
                };
                _mm512_storeu_si512(out.add(8 * k) as *mut _, r);
            }
        }
        for k in 8 * chunks..n {
            // SAFETY: k < n.
            unsafe {
                let (x, y) = (*a.add(k), *b.add(k));
                *out.add(k) = if sub {
                    let d = x.wrapping_sub(y);
                    d.min(d.wrapping_add(p))
                } else {
                    let d = x + y;
                    d.min(d.wrapping_sub(p))
                };
            }
        }
    }

    /// `dst[c] = dst[c] + c_k mod p` for signed `|c_k| < p`, `dst[c] < p`.
    ///
    /// # Safety
    /// AVX-512F; `c.len() ≤ dst.len()`.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn add_small(dst: &mut [u64], c: &[i64], p: u64) {
        let vp = _mm512_set1_epi64(p as i64);
        let chunks = c.len() / 8;
        for k in 0..chunks {
            // SAFETY: 8·k + 8 ≤ c.len() ≤ dst.len().
            unsafe {
                let dp = dst.as_mut_ptr().add(8 * k) as *mut __m512i;
                let x = _mm512_loadu_si512(c.as_ptr().add(8 * k) as *const _);
                // c + p when c < 0 (sign mask), then the sum reduced once
                let lifted = _mm512_add_epi64(x, _mm512_and_si512(vp, _mm512_srai_epi64(x, 63)));
                let d = _mm512_add_epi64(_mm512_loadu_si512(dp as *const _), lifted);
                _mm512_storeu_si512(dp as *mut _, csub(d, vp));
            }
        }
        for k in 8 * chunks..c.len() {
            let lifted = (c[k] as u64).wrapping_add(p & ((c[k] >> 63) as u64));
            let d = dst[k] + lifted;
            dst[k] = d.min(d.wrapping_sub(p));
        }
    }

    /// See [`super::lift_i64`].
    ///
    /// # Safety
    /// AVX-512F; equal lengths.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn lift_i64(dst: &mut [u64], c: &[i64], p: u64) {
        super::lift_i64_scalar(dst, c, p);
    }

    /// See [`super::lift_one`].
    ///
    /// # Safety
    /// AVX-512F; equal lengths.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn lift_one(dst: &mut [u64], x: &[u64], half: u64, corr: u64, p: u64) {
        super::lift_one_scalar(dst, x, half, corr, p);
    }

    /// `acc[c] += src[c] as f64 · s`.
    ///
    /// # Safety
    /// AVX-512F and DQ; equal lengths.
    #[target_feature(enable = "avx512f,avx512dq")]
    pub(super) unsafe fn f64_acc(acc: &mut [f64], src: &[u64], s: f64) {
        for (a, &x) in acc.iter_mut().zip(src) {
            *a += x as f64 * s;
        }
    }

    /// 104-bit fixed-point accumulation of `x·θ` with `θ = (t1·2^52 + t0)/2^104`:
    /// `a += hi(x·t1)`, `b += lo(x·t1) + hi(x·t0)`, `c += lo(x·t0)`.
    ///
    /// # Safety
    /// AVX-512F and IFMA; equal lengths; `x < 2^52`, `t1, t0 < 2^52`.
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(super) unsafe fn theta_acc(
        a: &mut [u64],
        b: &mut [u64],
        c: &mut [u64],
        x: &[u64],
        t1: u64,
        t0: u64,
    ) {
        let (v1, v0) = (_mm512_set1_epi64(t1 as i64), _mm512_set1_epi64(t0 as i64));
        let chunks = x.len() / 8;
        for k in 0..chunks {
            // SAFETY: in bounds (equal lengths).
            unsafe {
                let xv = _mm512_loadu_si512(x.as_ptr().add(8 * k) as *const _);
                let ap = a.as_mut_ptr().add(8 * k) as *mut __m512i;
                let bp = b.as_mut_ptr().add(8 * k) as *mut __m512i;
                let cp = c.as_mut_ptr().add(8 * k) as *mut __m512i;
                let av = _mm512_madd52hi_epu64(_mm512_loadu_si512(ap as *const _), xv, v1);
                let bv = _mm512_madd52lo_epu64(_mm512_loadu_si512(bp as *const _), xv, v1);
                let bv = _mm512_madd52hi_epu64(bv, xv, v0);
                let cv = _mm512_madd52lo_epu64(_mm512_loadu_si512(cp as *const _), xv, v0);
                _mm512_storeu_si512(ap as *mut _, av);
                _mm512_storeu_si512(bp as *mut _, bv);
                _mm512_storeu_si512(cp as *mut _, cv);
            }
        }
        for k in 8 * chunks..x.len() {
            let p1 = x[k] as u128 * t1 as u128;
            let p0 = x[k] as u128 * t0 as u128;
            a[k] += (p1 >> 52) as u64;
            b[k] += (p1 as u64 & MASK52 as u64) + (p0 >> 52) as u64;
            c[k] += p0 as u64 & MASK52 as u64;
        }
    }
}

/// Barrett constants for products of two variables modulo a prime
/// `p < 2^50` of `L` bits: with `c = ⌊x/2^(L−1)⌋` and
/// `μ = ⌊2^(L+51)/p⌋`, `q = ⌊c·μ/2^52⌋` is at most 2 below `⌊x/p⌋` for
/// `x < p²` (both floors lose less than 1 each, and `x/2^(L+51) < ½`), so
/// `x − q·p < 3p < 2^52` is exact in 52-bit lanes; `c < 2^(L+1)` and
/// `μ < 2^52` fit the IFMA multiplier.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Barrett52 {
    p: u64,
    mu: u64,
    shift: u32,
}

impl Barrett52 {
    /// Constants for `p`, when the IFMA kernels can run and `p < 2^50`.
    pub(crate) fn new(p: u64) -> Option<Self> {
        if !ifma() || !(2..IFMA_MAX_MODULUS).contains(&p) {
            return None;
        }
        let bits = 64 - p.leading_zeros();
        let shift = bits - 1;
        Some(Self {
            p,
            mu: ((1u128 << (shift + 52)) / p as u128) as u64,
            shift,
        })
    }

    /// The scalar twin of the kernel (same arithmetic, one lane).
    #[inline]
    pub(crate) fn mul(&self, a: u64, b: u64) -> u64 {
        let x = a as u128 * b as u128;
        let c = ((x >> self.shift) as u64) & ((1 << 52) - 1);
        let q = ((c as u128 * self.mu as u128) >> 52) as u64;
        let mut r = (x as u64).wrapping_sub(q.wrapping_mul(self.p)) & ((1 << 52) - 1);
        if r >= self.p {
            r -= self.p;
        }
        if r >= self.p {
            r -= self.p;
        }
        r
    }
}

/// `dst = a ⊙ b mod p` (or `dst ⊙= b` with `a = None`), inputs below `p`.
#[inline]
pub(crate) fn mul_mod(dst: &mut [u64], a: Option<&[u64]>, b: &[u64], k: &Barrett52) {
    debug_assert!(dst.len() == b.len() && a.is_none_or(|a| a.len() == b.len()));
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a `Barrett52` exists only when `ifma()` returned true, for a
    // prime below 2^50; callers pass reduced inputs of equal lengths.
    unsafe {
        x86::mul_mod(dst, a, b, k)
    }
    #[cfg(not(target_arch = "x86_64"))]
    for c in 0..dst.len() {
        let x = a.map_or(dst[c], |a| a[c]);
        dst[c] = k.mul(x, b[c]);
    }
}

/// `dst (+)= src·w mod p` lazily in `[0, 2p)`; see the module notes. The
/// caller has checked [`ifma`] and the bounds.
#[inline]
pub(crate) fn mul_acc(dst: &mut [u64], src: &[u64], w: u64, ws52: u64, p: u64, accumulate: bool) {
    debug_assert!(p < IFMA_MAX_MODULUS && w < p && dst.len() == src.len());
    #[cfg(target_arch = "x86_64")]
    // SAFETY: callers only use this path after `ifma()` returned true and
    // with inputs within the documented bounds.
    unsafe {
        x86::mul_acc(dst, src, w, ws52, p, accumulate)
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (dst, src, w, ws52, p, accumulate);
}

/// Whether the 64-bit AVX-512 kernels ([`mul_acc64`]) can run.
#[inline]
pub(crate) fn avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512dq")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// `dst[c] = Σ_i srcs[i][c]·w[i] mod p` in `[0, 2p)` for primes up to
/// 2^62 (64-bit Shoup constants `ws`): the products of one coefficient are
/// summed in registers, one pass over `dst`. AVX-512 when [`avx512`].
pub(crate) fn dot64(dst: &mut [u64], srcs: &[&[u64]], w: &[u64], ws: &[u64], p: u64) {
    debug_assert!(p < 1 << 62 && srcs.len() == w.len() && w.len() == ws.len());
    debug_assert!(srcs.iter().all(|s| s.len() == dst.len()) && w.iter().all(|&x| x < p));
    #[cfg(target_arch = "x86_64")]
    if avx512() {
        // SAFETY: the features were detected; bounds as documented.
        unsafe { x86::dot64(dst, srcs, w, ws, p) };
        return;
    }
    dot64_scalar(dst, srcs, w, ws, p, 0);
}

/// [`dot64`] for the coefficients from `start` on, one at a time.
fn dot64_scalar(dst: &mut [u64], srcs: &[&[u64]], w: &[u64], ws: &[u64], p: u64, start: usize) {
    for (c, d) in dst.iter_mut().enumerate().skip(start) {
        let mut acc = 0u64;
        for (i, src) in srcs.iter().enumerate() {
            let x = src[c];
            let q = ((x as u128 * ws[i] as u128) >> 64) as u64;
            acc += x.wrapping_mul(w[i]).wrapping_sub(q.wrapping_mul(p));
            if acc >= 2 * p {
                acc -= 2 * p;
            }
        }
        *d = acc;
    }
}

/// An element-wise operation of [`op64`] (`x = src[c]`, `d = dst[c]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op64 {
    /// `d ← x·w mod p` (any 64-bit `x`).
    Mul,
    /// `d ← (d − x·w) mod p` from `d < 2p`.
    SubMul,
    /// `d ← (d − x)·w mod p` from `d, x < p`.
    SubThenMul,
    /// `d ← (d + x·w) mod p` from `d < p` (any 64-bit `x`).
    AddMul,
}

/// `op` over `dst` and `src` with the 64-bit Shoup constant
/// `ws = ⌊w·2^64/p⌋`, for primes up to 2^62 (the primes the IFMA kernels
/// cannot take): AVX-512 when [`avx512`], else scalar. Results in `[0, p)`.
#[inline]
pub(crate) fn op64(op: Op64, dst: &mut [u64], src: &[u64], w: u64, ws: u64, p: u64) {
    debug_assert!(p < 1 << 62 && w < p && dst.len() == src.len());
    #[cfg(target_arch = "x86_64")]
    if avx512() {
        // SAFETY: the features were detected; bounds as documented.
        unsafe { x86::op64(op, dst, src, w, ws, p) };
        return;
    }
    op64_scalar(op, dst, src, w, ws, p);
}

fn op64_scalar(op: Op64, dst: &mut [u64], src: &[u64], w: u64, ws: u64, p: u64) {
    let shoup = |x: u64| {
        let q = ((x as u128 * ws as u128) >> 64) as u64;
        let r = x.wrapping_mul(w).wrapping_sub(q.wrapping_mul(p));
        r.min(r.wrapping_sub(p))
    };
    for (d, &x) in dst.iter_mut().zip(src) {
        *d = match op {
            Op64::Mul => shoup(x),
            Op64::SubMul => {
                let a = (*d).min(d.wrapping_sub(p));
                let b = a + p - shoup(x);
                b.min(b.wrapping_sub(p))
            }
            Op64::SubThenMul => shoup(*d + p - x),
            Op64::AddMul => {
                let b = *d + shoup(x);
                b.min(b.wrapping_sub(p))
            }
        };
    }
}

/// `dst = (dst − v·w) mod p` from `dst < 2p` (or only the reduction when
/// `v` is empty).
#[inline]
pub(crate) fn sub_mul_reduce(dst: &mut [u64], v: &[u64], w: u64, ws52: u64, p: u64) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: as for `mul_acc`.
    unsafe {
        x86::sub_mul_reduce(dst, v, w, ws52, p)
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (dst, v, w, ws52, p);
}

/// `dst = (dst − v)·w mod p` (inputs below `p < 2^50`); the caller has
/// checked [`ifma`].
#[inline]
pub(crate) fn sub_then_mul(dst: &mut [u64], v: &[u64], w: u64, ws52: u64, p: u64) {
    debug_assert!(p < IFMA_MAX_MODULUS && w < p && dst.len() == v.len());
    #[cfg(target_arch = "x86_64")]
    // SAFETY: as for `mul_acc`.
    unsafe {
        x86::sub_then_mul(dst, v, w, ws52, p)
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (dst, v, w, ws52, p);
}

/// `out = a ± b mod p` elementwise with AVX-512F, or `false` (nothing
/// done) without it; `a` is `out` itself when `None`. Equal lengths.
#[inline]
pub(crate) fn add_sub(out: &mut [u64], a: Option<&[u64]>, b: &[u64], p: u64, sub: bool) -> bool {
    debug_assert!(b.len() == out.len() && a.is_none_or(|a| a.len() == out.len()));
    #[cfg(target_arch = "x86_64")]
    if avx512() {
        let n = out
            .len()
            .min(b.len())
            .min(a.map_or(usize::MAX, <[u64]>::len));
        let dst = out.as_mut_ptr();
        let src = a.map_or(dst as *const u64, <[u64]>::as_ptr);
        // SAFETY: AVX-512F checked; every pointer is valid for `n` words;
        // `src` is `dst` or a distinct borrow (`out` is `&mut`).
        unsafe { x86::add_sub(dst, src, b.as_ptr(), n, p, sub) };
        return true;
    }
    let _ = (out, a, b, p, sub);
    false
}

/// `dst += c mod p` for signed `|c| < p` (`c` may be shorter than `dst`);
/// the caller has checked [`ifma`] (AVX-512F is part of it).
#[inline]
pub(crate) fn add_small(dst: &mut [u64], c: &[i64], p: u64) {
    debug_assert!(c.len() <= dst.len() && c.iter().all(|x| x.unsigned_abs() < p));
    #[cfg(target_arch = "x86_64")]
    // SAFETY: AVX-512F is available when `ifma()` returned true.
    unsafe {
        x86::add_small(dst, c, p)
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (dst, c, p);
}

/// `dst = r mod p` for `r = x + (x > half ? corr : 0)`, with `x < 2p` and
/// `corr < p` (one source prime of a basis extension: `corr = −q mod p`
/// lifts the centered value). Written as a branch-free loop that the
/// compiler vectorizes under AVX-512F.
#[inline]
pub(crate) fn lift_one(dst: &mut [u64], x: &[u64], half: u64, corr: u64, p: u64) {
    debug_assert!(dst.len() == x.len() && corr < p);
    #[cfg(target_arch = "x86_64")]
    if avx512() {
        // SAFETY: AVX-512F checked at run time.
        unsafe { x86::lift_one(dst, x, half, corr, p) };
        return;
    }
    lift_one_scalar(dst, x, half, corr, p);
}

/// `dst = c mod p` for signed `|c| < p` (`c + p` when negative), as a
/// branch-free loop the compiler vectorizes under AVX-512F.
#[inline]
pub(crate) fn lift_i64(dst: &mut [u64], c: &[i64], p: u64) {
    debug_assert!(dst.len() == c.len() && c.iter().all(|x| x.unsigned_abs() < p));
    #[cfg(target_arch = "x86_64")]
    if avx512() {
        // SAFETY: AVX-512F checked at run time.
        unsafe { x86::lift_i64(dst, c, p) };
        return;
    }
    lift_i64_scalar(dst, c, p);
}

#[inline(always)]
fn lift_i64_scalar(dst: &mut [u64], c: &[i64], p: u64) {
    for (d, &x) in dst.iter_mut().zip(c) {
        *d = (x as u64).wrapping_add(p & ((x >> 63) as u64));
    }
}

#[inline(always)]
fn lift_one_scalar(dst: &mut [u64], x: &[u64], half: u64, corr: u64, p: u64) {
    for (d, &x) in dst.iter_mut().zip(x) {
        let r = x.min(x.wrapping_sub(p)) + (corr & u64::from(x > half).wrapping_neg());
        *d = r.min(r.wrapping_sub(p));
    }
}

/// `acc += src as f64 · s`.
#[inline]
pub(crate) fn f64_acc(acc: &mut [f64], src: &[u64], s: f64) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: as for `mul_acc` (AVX-512DQ is part of `ifma()`).
    unsafe {
        x86::f64_acc(acc, src, s)
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (acc, src, s);
}

/// 104-bit fixed-point accumulation (see `Scaler`).
#[inline]
pub(crate) fn theta_acc(a: &mut [u64], b: &mut [u64], c: &mut [u64], x: &[u64], t1: u64, t0: u64) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: as for `mul_acc`.
    unsafe {
        x86::theta_acc(a, b, c, x, t1, t0)
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (a, b, c, x, t1, t0);
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// `op64` (vector path when the CPU has AVX-512, and the scalar twin)
    /// against 128-bit schoolbook arithmetic, for primes from 2^40 to 2^62
    /// and inputs at the ends of their documented ranges.
    #[test]
    fn op64_matches_u128_arithmetic() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let primes = [
            (1u64 << 40) - 87,
            (1 << 50) - 27,
            (1 << 59) - 55,
            (1 << 61) - 1,
            (1 << 62) - 57,
        ];
        for &p in &primes {
            let n = 67; // not a multiple of 8: the scalar tail runs too
            let w = rng.gen_range(0..p);
            let ws = ((w as u128) << 64) / p as u128;
            let ws = ws as u64;
            let mulmod = |a: u64, b: u64| ((a as u128 * b as u128) % p as u128) as u64;
            let mut x: Vec<u64> = (0..n).map(|_| rng.gen_range(0..p)).collect();
            let mut d2: Vec<u64> = (0..n).map(|_| rng.gen_range(0..2 * p)).collect();
            let mut d1: Vec<u64> = (0..n).map(|_| rng.gen_range(0..p)).collect();
            (x[0], x[1], d2[0], d2[1], d1[0], d1[1]) = (0, p - 1, 2 * p - 1, 0, p - 1, 0);
            let xa: Vec<u64> = (0..n).map(|_| rng.gen()).collect();
            let cases: [(Op64, &[u64], &[u64]); 4] = [
                (Op64::Mul, &xa, &d1),
                (Op64::AddMul, &xa, &d1),
                (Op64::SubMul, &x, &d2),
                (Op64::SubThenMul, &x, &d1),
            ];
            for (op, src, dst0) in cases {
                let want: Vec<u64> = src
                    .iter()
                    .zip(dst0)
                    .map(|(&s, &d)| match op {
                        Op64::Mul => mulmod(s % p, w),
                        Op64::SubMul => (d % p + p - mulmod(s, w)) % p,
                        Op64::SubThenMul => mulmod((d + p - s) % p, w),
                        Op64::AddMul => (d + mulmod(s % p, w)) % p,
                    })
                    .collect();
                let mut got = dst0.to_vec();
                op64(op, &mut got, src, w, ws, p);
                assert_eq!(got, want, "{op:?} p = {p}");
                let mut got = dst0.to_vec();
                op64_scalar(op, &mut got, src, w, ws, p);
                assert_eq!(got, want, "{op:?} scalar p = {p}");
            }
        }
    }
}
