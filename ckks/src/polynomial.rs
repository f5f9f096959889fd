//! Polynomials in the Chebyshev basis, Chebyshev interpolation of common
//! activation functions, and their homomorphic evaluation by the
//! baby-step giant-step algorithm (Paterson–Stockmeyer style, on the
//! Chebyshev basis as in Bossuat et al., EUROCRYPT 2021).
//!
//! ## Evaluation
//! For `p(x) = Σ c_i T_i(y)` with `y = (2x − a − b)/(b − a)`:
//! 1. the baby steps `T_1 … T_k` (`k = 2` up to degree 15, which gives the
//!    optimal depth `⌈log2(d+1)⌉`; above, `k` is the power of two nearest
//!    `√(d+1)`, one level more but far fewer products) and the giant steps
//!    `T_k, T_2k, T_4k, …` are computed with
//!    `T_2i = 2T_i² − 1` and `T_{2i+1} = 2T_{i+1}T_i − T_1`
//!    (`T_i` costs `⌈log2 i⌉` levels);
//! 2. `p = q·T_G + r` (Chebyshev division, `G` the largest giant step
//!    `≤ d`), recursively, down to leaves of degree `< k`;
//! 3. every leaf is a linear combination of baby steps evaluated with one
//!    integer multiplication per term and one rescale, at a scale chosen
//!    top-down so that every product `q·T_G` lands *exactly* on the scale
//!    of `r` (no scale mismatch, no extra level); the result has the scale
//!    of the input.
//!
//! Levels used: one for the affine map onto `[−1, 1]` (none when the
//! interval has length 2, e.g. `[−1, 1]` or `[0, 2]`: a shift is a free
//! constant addition), plus `⌈log2(d+1)⌉` up to degree 15 (3 for degree 7,
//! 4 for degree 15), `⌈log2 k⌉ + 1` for the leaves plus one per giant-step
//! level above.

use crate::ciphertext::Ciphertext;
use crate::evaluator::Evaluator;
use crate::keys::RelinKey;
use crate::{Error, Result};

/// A real polynomial `p(x) = Σ_i c_i T_i(y)` in the Chebyshev basis on the
/// interval `[a, b]` (`y` maps `[a, b]` onto `[−1, 1]`).
#[derive(Clone, Debug, PartialEq)]
pub struct Polynomial {
    coeffs: Vec<f64>,
    a: f64,
    b: f64,
}

impl Polynomial {
    /// From Chebyshev coefficients on `[a, b]`.
    pub fn chebyshev(coeffs: &[f64], a: f64, b: f64) -> Result<Self> {
        if !(a.is_finite() && b.is_finite() && a < b) {
            return Err(Error::InvalidArgument {
                what: format!("interval [{a}, {b}] is empty or not finite"),
            });
        }
        if coeffs.is_empty() || coeffs.iter().any(|c| !c.is_finite()) {
            return Err(Error::InvalidArgument {
                what: "coefficients must be finite and non-empty".into(),
            });
        }
        let mut c = coeffs.to_vec();
        while c.len() > 1 && c[c.len() - 1] == 0.0 {
            c.pop();
        }
        Ok(Self { coeffs: c, a, b })
    }

    /// From power-basis coefficients `p(x) = Σ c_i x^i` (converted exactly
    /// to the Chebyshev basis on `[−1, 1]`; valid for every `x`).
    pub fn from_power(coeffs: &[f64]) -> Result<Self> {
        if coeffs.is_empty() || coeffs.iter().any(|c| !c.is_finite()) {
            return Err(Error::InvalidArgument {
                what: "coefficients must be finite and non-empty".into(),
            });
        }
        let d = coeffs.len() - 1;
        let mut out = vec![0.0f64; d + 1];
        // x^j in the Chebyshev basis, by x·T_n = (T_{n+1} + T_{|n−1|})/2.
        let mut xj = vec![0.0f64; d + 2];
        xj[0] = 1.0;
        for (j, &c) in coeffs.iter().enumerate() {
            for (o, &v) in out.iter_mut().zip(&xj).take(j + 1) {
                *o += c * v;
            }
            let mut next = vec![0.0f64; d + 2];
            for n in 0..=j.min(d) {
                let v = xj[n];
                if v == 0.0 {
                    continue;
                }
                if n == 0 {
                    next[1] += v;
                } else {
                    if n <= d {
                        next[n + 1] += v / 2.0;
                    }
                    next[n - 1] += v / 2.0;
                }
            }
            xj = next;
        }
        Self::chebyshev(&out, -1.0, 1.0)
    }

    /// Chebyshev interpolation of `f` on `[a, b]` at the `degree + 1`
    /// Chebyshev nodes (near-minimax for smooth `f`).
    pub fn approximate(f: impl Fn(f64) -> f64, a: f64, b: f64, degree: usize) -> Result<Self> {
        if !(a.is_finite() && b.is_finite() && a < b) {
            return Err(Error::InvalidArgument {
                what: format!("interval [{a}, {b}] is empty or not finite"),
            });
        }
        if degree > 1024 {
            return Err(Error::InvalidArgument {
                what: format!("degree {degree} above 1024"),
            });
        }
        let m = degree + 1;
        let pi = std::f64::consts::PI;
        let fx: Vec<f64> = (0..m)
            .map(|j| {
                let t = (pi * (j as f64 + 0.5) / m as f64).cos();
                f(0.5 * (b - a) * t + 0.5 * (a + b))
            })
            .collect();
        let coeffs: Vec<f64> = (0..m)
            .map(|k| {
                let s: f64 = fx
                    .iter()
                    .enumerate()
                    .map(|(j, &y)| y * (pi * k as f64 * (j as f64 + 0.5) / m as f64).cos())
                    .sum();
                let c = 2.0 * s / m as f64;
                if k == 0 {
                    c / 2.0
                } else {
                    c
                }
            })
            .collect();
        Self::chebyshev(&coeffs, a, b)
    }

    /// The logistic sigmoid `1/(1 + e^{−x})` on `[a, b]`.
    pub fn sigmoid(a: f64, b: f64, degree: usize) -> Result<Self> {
        Self::approximate(|x| 1.0 / (1.0 + (-x).exp()), a, b, degree)
    }

    /// `tanh` on `[a, b]`.
    pub fn tanh(a: f64, b: f64, degree: usize) -> Result<Self> {
        Self::approximate(f64::tanh, a, b, degree)
    }

    /// `ReLU(x) = max(0, x)` on `[a, b]` (a smooth approximation; the error
    /// is largest near 0, about `(b − a)/(2·degree)`).
    pub fn relu(a: f64, b: f64, degree: usize) -> Result<Self> {
        Self::approximate(|x| x.max(0.0), a, b, degree)
    }

    /// `SiLU(x) = x·sigmoid(x)` (a smooth ReLU-like activation) on `[a, b]`.
    pub fn silu(a: f64, b: f64, degree: usize) -> Result<Self> {
        Self::approximate(|x| x / (1.0 + (-x).exp()), a, b, degree)
    }

    /// The Chebyshev coefficients.
    pub fn coeffs(&self) -> &[f64] {
        &self.coeffs
    }

    /// The interval `[a, b]`.
    pub fn interval(&self) -> (f64, f64) {
        (self.a, self.b)
    }

    /// The degree.
    pub fn degree(&self) -> usize {
        self.coeffs.len() - 1
    }

    fn is_unit_interval(&self) -> bool {
        self.a == -1.0 && self.b == 1.0
    }

    /// `p(x)` in floating point (Clenshaw's recurrence).
    pub fn eval(&self, x: f64) -> f64 {
        let y = (2.0 * x - self.a - self.b) / (self.b - self.a);
        let (mut b1, mut b2) = (0.0f64, 0.0f64);
        for &c in self.coeffs.iter().skip(1).rev() {
            let t = 2.0 * y * b1 - b2 + c;
            b2 = b1;
            b1 = t;
        }
        y * b1 - b2 + self.coeffs[0]
    }

    /// Levels [`Evaluator::evaluate_polynomial`] consumes.
    pub fn depth(&self) -> usize {
        let d = self.degree();
        if d == 0 {
            return 0;
        }
        let map = usize::from(self.b - self.a != 2.0);
        let plan = Plan::new(d);
        // Levels are counted down from a virtual top level.
        let top = 1usize << 20;
        let lv = |i: usize| top - ceil_log2(i);
        top - plan.out_level(&self.coeffs, &lv) + map
    }
}

fn ceil_log2(i: usize) -> usize {
    if i <= 1 {
        0
    } else {
        (usize::BITS - (i - 1).leading_zeros()) as usize
    }
}

/// Largest degree evaluated with baby steps of size 2 (optimal depth).
const DEPTH_OPTIMAL_MAX_DEGREE: usize = 15;

/// The baby-step size and the Chebyshev division.
struct Plan {
    k: usize,
}

impl Plan {
    /// Baby-step size: 2 up to degree 15 (depth-optimal: `⌈log2(d + 1)⌉`
    /// levels, about `d` ciphertext products), the power of two near
    /// `√(d + 1)` above (one level more, about `2√d + log2 d` products).
    fn new(d: usize) -> Self {
        if d <= DEPTH_OPTIMAL_MAX_DEGREE {
            return Self { k: 2 };
        }
        let mut k = 1usize;
        while k * k < d + 1 {
            k <<= 1;
        }
        Self { k: k.max(2) }
    }

    /// The largest giant step `k·2^j ≤ d`, if `d ≥ k`.
    fn giant(&self, d: usize) -> Option<usize> {
        if d < self.k {
            return None;
        }
        let mut g = self.k;
        while g * 2 <= d {
            g *= 2;
        }
        Some(g)
    }

    /// Output level of evaluating `coeffs` when `T_i` sits at level `lv(i)`.
    fn out_level(&self, coeffs: &[f64], lv: &dyn Fn(usize) -> usize) -> usize {
        let d = coeffs.len() - 1;
        match self.giant(d) {
            None => (1..=d.max(1)).map(lv).min().unwrap_or(0).saturating_sub(1),
            Some(g) => {
                let (q, r) = divide(coeffs, g);
                let lq = if q.len() == 1 {
                    lv(g)
                } else {
                    self.out_level(&q, lv)
                };
                let prod = lq.min(lv(g)).saturating_sub(1);
                prod.min(self.out_level(&r, lv))
            }
        }
    }
}

/// `p = q·T_g + r` in the Chebyshev basis (`deg r < g`).
fn divide(coeffs: &[f64], g: usize) -> (Vec<f64>, Vec<f64>) {
    let d = coeffs.len() - 1;
    let mut c = coeffs.to_vec();
    let mut q = vec![0.0f64; d - g + 1];
    for i in (g..=d).rev() {
        let v = c[i];
        if v == 0.0 {
            continue;
        }
        c[i] = 0.0;
        let j = i - g;
        if j == 0 {
            q[0] += v;
        } else {
            // T_i = 2·T_g·T_j − T_{|g−j|}
            q[j] += 2.0 * v;
            c[g.abs_diff(j)] -= v;
        }
    }
    c.truncate(g);
    (q, c)
}

impl Evaluator {
    /// Evaluates `poly` on every slot of `ct`. The result has the scale of
    /// `ct` and is [`Polynomial::depth`] levels lower.
    pub fn evaluate_polynomial(
        &self,
        ct: &Ciphertext,
        poly: &Polynomial,
        rlk: &RelinKey,
    ) -> Result<Ciphertext> {
        let d = poly.degree();
        let depth = poly.depth();
        if depth > ct.level() {
            return Err(Error::NotEnoughLevels {
                what: "polynomial evaluation",
                needed: depth,
                available: ct.level(),
            });
        }
        let target = ct.scale();
        if d == 0 {
            let z = self.mul_integer(ct, 0)?;
            return self.add_const(&z, poly.coeffs[0]);
        }
        // y = α·x + β maps [a, b] onto [−1, 1]. A pure shift (α = 1) is a
        // free constant addition; otherwise one multiplication by α at scale
        // q_l and a rescale (the result keeps the scale of x). Reading x at
        // the scale Δ/α instead would be free, but the scales of T_2, T_4, …
        // would drift by α^(−2^j) and starve the leaves of precision.
        let y = if poly.is_unit_interval() {
            ct.clone()
        } else {
            let (a, b) = (poly.a, poly.b);
            let alpha = 2.0 / (b - a);
            let beta = -(a + b) / (b - a);
            if alpha == 1.0 {
                self.add_const(ct, beta)?
            } else {
                let t = self.rescale(&self.mul_const(ct, alpha)?)?;
                self.add_const(&t, beta)?
            }
        };
        let plan = Plan::new(d);
        // Chebyshev basis: T[i] for i ≤ k, and giant steps k·2^j ≤ d.
        let mut basis: Vec<Option<Ciphertext>> = vec![None; d.max(plan.k) + 1];
        basis[1] = Some(y);
        let get = |basis: &Vec<Option<Ciphertext>>, i: usize| -> Result<Ciphertext> {
            basis[i].clone().ok_or(Error::InvalidArgument {
                what: format!("internal: T_{i} not computed"),
            })
        };
        for i in 2..=plan.k.min(d.max(2)) {
            let t = if i % 2 == 0 {
                let h = get(&basis, i / 2)?;
                let sq = self.mul_integer(&self.square(&h, rlk)?, 2)?;
                self.rescale(&self.add_const(&sq, -1.0)?)?
            } else {
                let a = get(&basis, i / 2 + 1)?;
                let b = get(&basis, i / 2)?;
                let t1 = get(&basis, 1)?;
                let p = self.mul_integer(&self.mul_relin(&a, &b, rlk)?, 2)?;
                self.rescale(&self.sub(&p, &t1)?)?
            };
            basis[i] = Some(t);
        }
        let mut g = plan.k;
        while g * 2 <= d {
            let h = get(&basis, g)?;
            let sq = self.mul_integer(&self.square(&h, rlk)?, 2)?;
            basis[g * 2] = Some(self.rescale(&self.add_const(&sq, -1.0)?)?);
            g *= 2;
        }
        let levels: Vec<usize> = basis
            .iter()
            .map(|b| b.as_ref().map(|c| c.level()).unwrap_or(0))
            .collect();
        let lv = |i: usize| levels.get(i).copied().unwrap_or(0);
        self.eval_rec(&plan, &poly.coeffs, target, &basis, &lv, rlk)
    }

    fn eval_rec(
        &self,
        plan: &Plan,
        coeffs: &[f64],
        target: f64,
        basis: &[Option<Ciphertext>],
        lv: &dyn Fn(usize) -> usize,
        rlk: &RelinKey,
    ) -> Result<Ciphertext> {
        let d = coeffs.len() - 1;
        let get = |i: usize| -> Result<&Ciphertext> {
            basis
                .get(i)
                .and_then(|b| b.as_ref())
                .ok_or(Error::InvalidArgument {
                    what: format!("internal: T_{i} not computed"),
                })
        };
        match plan.giant(d) {
            None => {
                // Leaf: Σ c_i T_i at the lowest level among the T_i, each term
                // multiplied by round(c_i·target·q_l/Δ_i), one rescale.
                let dd = d.max(1);
                let l = (1..=dd).map(lv).min().unwrap_or(0);
                if l == 0 {
                    return Err(Error::NotEnoughLevels {
                        what: "polynomial leaf",
                        needed: 1,
                        available: 0,
                    });
                }
                let q = self.params().q(l)? as f64;
                let out_scale = target * q;
                let mut acc: Option<Ciphertext> = None;
                for (i, &c) in coeffs.iter().enumerate().skip(1) {
                    let t = get(i)?;
                    let k = (c * out_scale / t.scale()).round();
                    match &mut acc {
                        // Σ k_i·T_i accumulated in place, each T_i read at
                        // level l where it sits (no copies)
                        Some(a) => self.mul_integer_acc(a, t, k)?,
                        None => {
                            let t = self.drop_to_level(t, l)?;
                            let mut term = self.mul_integer_f64(&t, k)?;
                            term.scale = out_scale;
                            acc = Some(term);
                        }
                    }
                }
                let acc = match acc {
                    Some(a) => a,
                    None => {
                        let t = self.drop_to_level(get(1)?, l)?;
                        let mut z = self.mul_integer(&t, 0)?;
                        z.scale = out_scale;
                        z
                    }
                };
                let acc = self.add_const(&acc, coeffs[0])?;
                let mut out = self.rescale(&acc)?;
                out.scale = target;
                Ok(out)
            }
            Some(g) => {
                let (q, r) = divide(coeffs, g);
                let tg = get(g)?;
                let prod = if q.len() == 1 {
                    // Constant quotient: one integer multiplication of T_g.
                    let l = lv(g);
                    if l == 0 {
                        return Err(Error::NotEnoughLevels {
                            what: "polynomial giant step",
                            needed: 1,
                            available: 0,
                        });
                    }
                    let ql = self.params().q(l)? as f64;
                    let k = (q[0] * target * ql / tg.scale()).round();
                    let mut p = self.mul_integer_f64(tg, k)?;
                    p.scale = target * ql;
                    let mut p = self.rescale(&p)?;
                    p.scale = target;
                    p
                } else {
                    let lq = plan.out_level(&q, lv);
                    let lm = lq.min(lv(g));
                    let ql = self.params().q(lm)? as f64;
                    let sq = target * ql / tg.scale();
                    let qc = self.eval_rec(plan, &q, sq, basis, lv, rlk)?;
                    let mut p = self.rescale(&self.mul_relin(&qc, tg, rlk)?)?;
                    p.scale = target;
                    p
                };
                let rc = self.eval_rec(plan, &r, target, basis, lv, rlk)?;
                let mut prod = prod;
                self.add_assign(&mut prod, &rc)?;
                Ok(prod)
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn power_to_chebyshev_is_exact() {
        let p = Polynomial::from_power(&[0.5, -1.0, 0.25, 2.0, 0.0, -0.75, 0.1, 0.3]).unwrap();
        for i in 0..50 {
            let x = -1.5 + 3.0 * i as f64 / 49.0;
            let expect = 0.5 - x + 0.25 * x * x + 2.0 * x.powi(3) - 0.75 * x.powi(5)
                + 0.1 * x.powi(6)
                + 0.3 * x.powi(7);
            assert!((p.eval(x) - expect).abs() < 1e-12, "{x}");
        }
    }

    #[test]
    fn division_is_exact() {
        let c: Vec<f64> = (0..16).map(|i| (i as f64 * 0.37).sin()).collect();
        let p = Polynomial::chebyshev(&c, -1.0, 1.0).unwrap();
        let (q, r) = divide(&c, 8);
        let qp = Polynomial::chebyshev(&q, -1.0, 1.0).unwrap();
        let rp = Polynomial::chebyshev(&r, -1.0, 1.0).unwrap();
        let t8 = Polynomial::chebyshev(&[0., 0., 0., 0., 0., 0., 0., 0., 1.], -1.0, 1.0).unwrap();
        for i in 0..40 {
            let x = -1.0 + 2.0 * i as f64 / 39.0;
            assert!((p.eval(x) - (qp.eval(x) * t8.eval(x) + rp.eval(x))).abs() < 1e-12);
        }
    }

    #[test]
    fn approximations_are_accurate() {
        let s = Polynomial::sigmoid(-8.0, 8.0, 31).unwrap();
        let t = Polynomial::tanh(-4.0, 4.0, 31).unwrap();
        let mut es: f64 = 0.0;
        let mut et: f64 = 0.0;
        for i in 0..=400 {
            let x = -8.0 + 16.0 * i as f64 / 400.0;
            es = es.max((s.eval(x) - 1.0 / (1.0 + (-x).exp())).abs());
            let x = x / 2.0;
            et = et.max((t.eval(x) - x.tanh()).abs());
        }
        assert!(es < 1e-4, "sigmoid error {es}");
        assert!(et < 1e-3, "tanh error {et}");
    }

    #[test]
    fn depth_formula() {
        // degree 7 on [−1, 1]: baby k = 2, giants T_2, T_4 → ⌈log2 8⌉ = 3.
        let p = Polynomial::from_power(&[1.0; 8]).unwrap();
        assert_eq!(p.depth(), 3);
        // the map onto [−1, 1] costs a level unless it is a shift
        let p = Polynomial::sigmoid(-8.0, 8.0, 7).unwrap();
        assert_eq!(p.depth(), 4);
        let p = Polynomial::sigmoid(-8.0, 8.0, 15).unwrap();
        assert_eq!(p.depth(), 5);
        let p = Polynomial::sigmoid(0.0, 2.0, 7).unwrap();
        assert_eq!(p.depth(), 3);
        // degree 31: BSGS with k = 8 (T_7 at depth 3, leaf 4, giants 8, 16) → 6.
        let p = Polynomial::sigmoid(-1.0, 1.0, 31).unwrap();
        assert_eq!(p.depth(), 6);
        let p = Polynomial::from_power(&[1.0, 2.0, 3.0]).unwrap();
        assert_eq!(p.depth(), 2);
    }
}
