//! Slot layouts of one sample's tensors, and the linear maps between them
//! that a compiled graph evaluates on one ciphertext.
//!
//! A [`Layout`] says where each element of a tensor sits: element `e` is in
//! slots `pos[e] + k·period` for every `k` (the tensor is replicated with
//! `period`, a power of two dividing the slot count). Two ways to apply a
//! linear map `y = W·x`:
//!
//! * [`Strategy::Diagonals`] — the rectangular diagonal method of
//!   [`super::Diagonals`], over the `period` slots of the input as a vector
//!   (zeros where no element sits). The output is compact and replicated
//!   (`y_o` in slots `o + k·m'`, `m'` the power of two above the output
//!   size). Cost: one plaintext product per nonzero diagonal (at most
//!   `min(m', period)`) and `≈ 2√K + log2(period/m')` rotations, whatever
//!   the input layout: dense layers.
//! * [`Strategy::Sparse`] — the output elements are *placed* so that the
//!   terms `W_oi·x_i` need few distinct rotations: a term needs the
//!   rotation `r = (pos_i − pos_o) mod period`, and the map is
//!   `y = Σ_r d_r ⊙ rot_r(x)` with `d_r[pos_o] = Σ W_oi` over the terms of
//!   rotation `r`. Outputs are placed greedily where their terms reuse the
//!   rotations already needed (a convolution with `T` taps places every
//!   output at its window's anchor and needs `T` rotations per input/output
//!   channel offset, whatever the image size). Rotations are split in baby
//!   and giant steps (hoisted baby steps). Every other slot of the output is
//!   exactly zero (plus noise), so the result is a valid layout with
//!   `period = slots`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use ckks::{Ciphertext, Encoder, Evaluator, GaloisKeys, Plaintext};
use rlwe::poly::{Poly, Representation};

use crate::error::{Error, Result};

/// Where a tensor's elements sit in the slots of one ciphertext.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Layout {
    /// Slot of each element, below `period`.
    pub pos: Vec<usize>,
    /// The replication period (a power of two dividing the slot count).
    pub period: usize,
}

impl Layout {
    /// Elements `0..n` in slots `0..n`, repeated with period `n'` (the power
    /// of two above `n`).
    pub fn tiled(n: usize) -> Self {
        Self {
            pos: (0..n).collect(),
            period: n.max(1).next_power_of_two(),
        }
    }
}

/// A linear map as sparse rows: `rows[o] = [(i, W_oi)]`, nonzero entries.
pub(crate) type SparseRows = Vec<Vec<(usize, f64)>>;

/// How a linear block is evaluated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// Rectangular diagonal method over the input's period.
    Diagonals,
    /// Sparse rotations with placed outputs.
    Sparse,
}

/// A sparse map compiled for a layout: placed outputs and, per distinct
/// rotation, the slot vector of its coefficients.
pub(crate) struct SparsePlan {
    /// Output layout (`period = slots`).
    pub out: Layout,
    /// `r → d_r` (slot vectors).
    pub diags: BTreeMap<usize, Vec<f64>>,
    /// Baby-step size.
    pub baby: usize,
}

impl SparsePlan {
    /// Places the outputs of `rows` for an input laid out as `input` in
    /// `slots` slots and gathers the coefficients by rotation.
    pub fn new(rows: &SparseRows, input: &Layout, slots: usize) -> Result<Self> {
        let period = input.period;
        if period == 0 || !slots.is_multiple_of(period) || rows.len() > slots {
            return Err(Error::Shape(format!(
                "{} outputs (input period {period}) do not fit {slots} slots",
                rows.len()
            )));
        }
        let mut used = vec![false; slots];
        let mut rset: BTreeSet<usize> = BTreeSet::new();
        let mut pos = Vec::with_capacity(rows.len());
        let rot = |pi: usize, po: usize| (pi + slots - po % period) % period;
        let new_count = |row: &[(usize, f64)], po: usize, rset: &BTreeSet<usize>| {
            let mut seen: Vec<usize> = row
                .iter()
                .map(|&(i, _)| rot(input.pos[i], po))
                .filter(|r| !rset.contains(r))
                .collect();
            seen.sort_unstable();
            seen.dedup();
            seen.len()
        };
        let mut prev: Option<(usize, usize)> = None; // (first input, slot) of the last row
        let mut next_free = 0usize;
        for row in rows {
            if row.iter().any(|&(i, _)| i >= input.pos.len()) {
                return Err(Error::Shape("internal: term outside the input".into()));
            }
            let mut best: Option<(usize, usize)> = None; // (new rotations, slot)
            let consider = |p: usize, used: &[bool], best: &mut Option<(usize, usize)>| {
                if used[p] {
                    return;
                }
                let n = new_count(row, p, &rset);
                if best.is_none_or(|(bn, bp)| n < bn || (n == bn && p < bp)) {
                    *best = Some((n, p));
                }
            };
            if let (Some(&(i0, _)), Some((pi, pp))) = (row.first(), prev) {
                // the shift the inputs moved by, applied to the last output
                let delta = (input.pos[i0] + slots - input.pos[pi]) % slots;
                for k in 0..slots / period {
                    let p = (pp + delta + k * period) % slots;
                    consider(p, &used, &mut best);
                    if best.is_some_and(|b| b.0 == 0) {
                        break;
                    }
                }
            }
            if best.is_none_or(|b| b.0 > 0) {
                // anchor candidates: slots where one of the first terms
                // reuses a known rotation
                'search: for &(i, _) in row.iter().take(2) {
                    for &r in rset.iter().take(256) {
                        for k in 0..slots / period {
                            let p = (input.pos[i] + slots - r + k * period) % slots;
                            consider(p, &used, &mut best);
                            if best.is_some_and(|b| b.0 == 0) {
                                break 'search;
                            }
                        }
                    }
                }
            }
            if best.is_none() {
                while next_free < slots && used[next_free] {
                    next_free += 1;
                }
                if next_free < slots {
                    best = Some((new_count(row, next_free, &rset), next_free));
                }
            }
            let (_, p) = best.ok_or_else(|| Error::Shape("no free slot for an output".into()))?;
            used[p] = true;
            pos.push(p);
            for &(i, _) in row {
                rset.insert(rot(input.pos[i], p));
            }
            prev = row.first().map(|&(i0, _)| (i0, p));
        }
        let mut diags: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
        for (row, &p) in rows.iter().zip(&pos) {
            for &(i, w) in row {
                let r = rot(input.pos[i], p);
                diags.entry(r).or_insert_with(|| vec![0.0; slots])[p] += w;
            }
        }
        let rs: Vec<usize> = diags.keys().copied().collect();
        let baby = best_baby(&rs, slots);
        Ok(Self {
            out: Layout { pos, period: slots },
            diags,
            baby,
        })
    }

    /// Rotations (baby + giant) this plan needs.
    pub fn rotation_steps(&self) -> Vec<i64> {
        split_steps(self.diags.keys().copied(), self.baby)
    }

    /// `(plaintext products, rotations)`.
    pub fn cost(&self) -> (usize, usize) {
        (self.diags.len(), self.rotation_steps().len())
    }
}

/// The baby-step size (a power of two) minimising the distinct baby plus
/// giant steps for rotations `rs`.
fn best_baby(rs: &[usize], slots: usize) -> usize {
    let mut best = (usize::MAX, 1usize);
    let mut g = 1usize;
    while g <= slots {
        let n = split_steps(rs.iter().copied(), g).len();
        if n < best.0 {
            best = (n, g);
        }
        g <<= 1;
    }
    best.1
}

/// The distinct non-zero baby (`r mod g`) and giant (`r − r mod g`) steps.
fn split_steps(rs: impl Iterator<Item = usize>, g: usize) -> Vec<i64> {
    let mut v = BTreeSet::new();
    for r in rs {
        let (b, t) = (r % g, r - r % g);
        if b != 0 {
            v.insert(b as i64);
        }
        if t != 0 {
            v.insert(t as i64);
        }
    }
    v.into_iter().collect()
}

/// A [`SparsePlan`] encoded for one level: `(giant, [(baby, plaintext of
/// rot_{−giant}(d_{giant+baby}))])`.
pub(crate) struct SparseLinear {
    babies: Vec<usize>,
    giants: Vec<(usize, Vec<(usize, Plaintext)>)>,
    level: usize,
    pt_scale: f64,
}

impl SparseLinear {
    /// Encodes `plan` at `level` with coefficients at scale `pt_scale`.
    pub fn new(encoder: &Encoder, plan: &SparsePlan, level: usize, pt_scale: f64) -> Result<Self> {
        let slots = encoder.slots();
        let g = plan.baby;
        let mut babies = BTreeSet::new();
        let mut by_giant: BTreeMap<usize, Vec<(usize, Plaintext)>> = BTreeMap::new();
        for (&r, d) in &plan.diags {
            let (b, t) = (r % g, r - r % g);
            babies.insert(b);
            // rot_{−t}: slot j receives d[(j − t) mod slots]
            let rotated: Vec<f64> = (0..slots).map(|j| d[(j + slots - t) % slots]).collect();
            let pt = encoder.encode_at(&rotated, level, pt_scale)?;
            by_giant.entry(t).or_default().push((b, pt));
        }
        let babies: Vec<usize> = babies.into_iter().collect();
        let giants = by_giant
            .into_iter()
            .map(|(t, v)| {
                let v = v
                    .into_iter()
                    .map(|(b, pt)| {
                        let idx = babies.binary_search(&b).unwrap_or(0);
                        (idx, pt)
                    })
                    .collect();
                (t, v)
            })
            .collect();
        Ok(Self {
            babies,
            giants,
            level,
            pt_scale,
        })
    }

    /// `Σ_r d_r ⊙ rot_r(x)`, rescaled (one level).
    pub fn apply(&self, eval: &Evaluator, x: &Ciphertext, gks: &GaloisKeys) -> Result<Ciphertext> {
        let params = eval.params();
        let x = eval.drop_to_level(x, self.level)?;
        let steps: Vec<i64> = self.babies.iter().map(|&b| b as i64).collect();
        let rotated = eval.rotate_hoisted(&x, &steps, gks)?;
        let rp = params.rlwe();
        let ring = rp.ring_q(self.level)?;
        let mut total: Option<Ciphertext> = None;
        for (t, terms) in &self.giants {
            let mut acc0 = Poly::zero(ring, Representation::Ntt);
            let mut acc1 = Poly::zero(ring, Representation::Ntt);
            for (idx, pt) in terms {
                let parts = rotated[*idx].rlwe().parts();
                acc0.mul_acc(&parts[0], pt.poly())?;
                acc1.mul_acc(&parts[1], pt.poly())?;
            }
            let inner = Ciphertext::from_rlwe(
                params,
                rlwe::ciphertext::Ciphertext::new(rp, vec![acc0, acc1])?,
                x.scale() * self.pt_scale,
            )?;
            let shifted = if *t == 0 {
                inner
            } else {
                eval.rotate(&inner, *t as i64, gks)?
            };
            match &mut total {
                None => total = Some(shifted),
                Some(acc) => eval.add_assign(acc, &shifted)?,
            }
        }
        let out = total.ok_or_else(|| Error::Shape("internal: empty sparse map".into()))?;
        Ok(eval.rescale(&out)?)
    }
}

/// The dense rows (length `period`) of `rows` read from layout `input`:
/// `W'[o][pos_i] = W_oi`, for the diagonal method over the input's period.
pub(crate) fn dense_over_period(rows: &SparseRows, input: &Layout) -> Vec<Vec<f64>> {
    rows.iter()
        .map(|row| {
            let mut v = vec![0.0; input.period];
            for &(i, w) in row {
                v[input.pos[i]] += w;
            }
            v
        })
        .collect()
}

/// `(plaintext products, rotations)` of the diagonal method for `rows` over
/// `input` (`m'` outputs, `n = period`), without encoding anything.
pub(crate) fn diagonals_cost(rows: &SparseRows, input: &Layout) -> (usize, usize) {
    let m = rows.len().max(1).next_power_of_two();
    let n = input.period;
    let k_count = m.min(n);
    let mut nonzero: HashMap<usize, ()> = HashMap::new();
    for (o, row) in rows.iter().enumerate() {
        for &(i, w) in row {
            if w == 0.0 {
                continue;
            }
            // entry (o, c) is on diagonal k for every j ≡ o (mod m) with
            // (j + k) ≡ c (mod n), j < max(m, n)
            let c = input.pos[i];
            let p = m.max(n);
            let mut j = o;
            while j < p {
                let k = (c + n - j % n) % n;
                if k < k_count {
                    nonzero.insert(k, ());
                }
                j += m;
            }
        }
    }
    let mut g = 1usize;
    while g * g < k_count {
        g <<= 1;
    }
    let ks: Vec<usize> = nonzero.keys().copied().collect();
    let mut folds = 0;
    let mut s = m;
    while s < n {
        folds += 1;
        s <<= 1;
    }
    (
        ks.len().max(1),
        split_steps(ks.into_iter(), g).len() + folds,
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A 2-D convolution's rows (one input channel, `c` output channels,
    /// `k × k` kernel, stride 1, no padding) on an `h × h` image.
    fn conv_rows(h: usize, k: usize, c: usize) -> SparseRows {
        let o = h - k + 1;
        let mut rows = Vec::new();
        for ch in 0..c {
            for y in 0..o {
                for x in 0..o {
                    let mut row = Vec::new();
                    for ky in 0..k {
                        for kx in 0..k {
                            row.push(((y + ky) * h + x + kx, (ch * 100 + ky * k + kx + 1) as f64));
                        }
                    }
                    rows.push(row);
                }
            }
        }
        rows
    }

    #[test]
    fn convolution_needs_one_rotation_per_tap() {
        // 4 channels of a 5×5 kernel on a 28×28 image tiled with period
        // 1024 over 4096 slots: every output sits at its window's anchor,
        // channel c in replica c: 25 distinct rotations in all.
        let rows = conv_rows(28, 5, 4);
        let plan = SparsePlan::new(&rows, &Layout::tiled(784), 4096).unwrap();
        assert_eq!(plan.diags.len(), 25);
        // and the map is exact: Σ_r d_r[p_o]·x[p_o + r] = y_o
        let x: Vec<f64> = (0..784).map(|i| (i as f64 * 0.37).sin()).collect();
        let slots: Vec<f64> = (0..4096)
            .map(|s| x.get(s % 1024).copied().unwrap_or(0.0))
            .collect();
        for (o, row) in rows.iter().enumerate() {
            let want: f64 = row.iter().map(|&(i, w)| w * x[i]).sum();
            let p = plan.out.pos[o];
            let got: f64 = plan
                .diags
                .iter()
                .map(|(&r, d)| d[p] * slots[(p + r) % 4096])
                .sum();
            assert!((got - want).abs() < 1e-9, "output {o}: {got} vs {want}");
        }
        let mut seen = plan.out.pos.clone();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), rows.len(), "outputs must not share a slot");
    }

    #[test]
    fn dense_rows_prefer_the_diagonal_method() {
        let rows: SparseRows = (0..64)
            .map(|o| (0..256).map(|i| (i, (o * 7 + i) as f64 + 1.0)).collect())
            .collect();
        let input = Layout::tiled(256);
        let (pt, rot) = diagonals_cost(&rows, &input);
        assert_eq!(pt, 64);
        // 8 baby + 8 giant steps (minus the zero ones) + log2(256/64) folds
        assert_eq!(rot, 7 + 7 + 2);
        let sparse = SparsePlan::new(&rows, &input, 4096).unwrap();
        assert!(sparse.cost().0 > pt);
    }
}
