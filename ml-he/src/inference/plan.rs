//! The scale and level plan of a circuit and its check (see the module docs of `inference`).

use ckks::Parameters;

use super::*;
use crate::error::{Error, Result};

// ---------------------------------------------------------------- plan check

/// One stage of an encrypted circuit's scale and level plan: where its
/// values live, the largest value the model can put there and the largest
/// value the modulus can hold there.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanStage {
    /// What the stage holds (the name [`Error::PlanOverflow`] reports).
    pub layer: String,
    /// The level of its ciphertexts.
    pub level: usize,
    /// Their scale.
    pub scale: f64,
    /// The largest absolute value in any slot for inputs within the bound —
    /// partial sums of the rotations and weighted sums included — by
    /// interval arithmetic over the (folded) weights.
    pub bound: f64,
    /// The largest absolute value the level's modulus holds at this scale
    /// with the margin: `Q_level / (4 · scale)` (half of the centered range
    /// `±Q_level/2`; the other half covers noise and rounding).
    pub capacity: f64,
}

/// The scale and level plan of a server's circuit, checked when the server
/// is set up: for inputs with `|x_i| ≤ max_abs_input`, every stage's
/// [`bound`](PlanStage::bound) is within its
/// [`capacity`](PlanStage::capacity), so no value can wrap around its
/// modulus and the decrypted outputs are the model's outputs up to the
/// approximation error, never a residue modulo `q_0`.
#[derive(Clone, Debug, PartialEq)]
pub struct CircuitPlan {
    /// The input bound the plan was checked for (published in the setup as
    /// [`PublicSetup::max_abs_input`], enforced by the client).
    pub max_abs_input: f64,
    /// The stages, input first, output (what the client decrypts) last.
    pub stages: Vec<PlanStage>,
}

impl CircuitPlan {
    /// The output stage: its level and scale are those of every response
    /// ciphertext, its bound the largest output the inputs allow.
    pub fn output(&self) -> Option<&PlanStage> {
        self.stages.last()
    }
}

/// Level and scale of a stage.
pub(super) type At = (usize, f64);

/// What the plan check needs of a circuit: the moduli, where each stage
/// lives, and the (folded) weights the bounds are computed from.
pub(super) struct PlanSpec {
    /// `Q_l = q_0 ⋯ q_l` for every level.
    pub(super) moduli: Vec<f64>,
    pub(super) input: At,
    pub(super) circuit: SpecCircuit,
}

pub(super) enum SpecCircuit {
    Logistic {
        /// `Σ|w_i|` and the bias (with 1/R folded in for the sigmoid).
        abs_w: f64,
        bias: f64,
        logit: At,
        sigmoid: Option<SigmoidSpec>,
    },
    Mlp {
        /// `Σ_i |W1_ji|` per hidden unit.
        w1_abs_rows: Vec<f64>,
        b1: Vec<f64>,
        layer1: At,
        /// The square's output stage (none for a linear activation).
        square: Option<At>,
        w2: Vec<Vec<f64>>,
        b2: Vec<f64>,
        logits: At,
    },
}

pub(super) struct SigmoidSpec {
    /// Power-basis coefficients of the polynomial in `u = z / R`.
    pub(super) power: Vec<f64>,
    /// Where the Chebyshev basis `T_i(u)` lives: levels ≥ 1 at scales
    /// within a factor 2 of the input's, checked at the tightest corner.
    pub(super) basis: At,
    pub(super) output: At,
}

/// `max_{|u| ≤ bound, i ≤ degree} |T_i(u)|`: 1 inside `[−1, 1]`,
/// `cosh(degree · acosh(bound))` beyond (the largest degree dominates).
pub(crate) fn chebyshev_bound(bound: f64, degree: usize) -> f64 {
    if bound <= 1.0 || degree == 0 {
        1.0
    } else {
        (degree as f64 * bound.acosh()).cosh()
    }
}

/// Intervals of `y = W·x + b` for `x_i ∈ [lo_i, hi_i]`, and the largest
/// absolute value of any output or any partial sum of its terms (the
/// diagonal method, the rotations and the batch weighted sums accumulate
/// the terms of a row in an arbitrary order, the bias last).
pub(super) fn affine_bounds(w: &[Vec<f64>], b: &[f64], x: &[(f64, f64)]) -> (Vec<(f64, f64)>, f64) {
    let mut largest = 0f64;
    let out = w
        .iter()
        .zip(b)
        .map(|(row, &bias)| {
            let (mut lo, mut hi, mut neg, mut pos) = (0f64, 0f64, 0f64, 0f64);
            for (&wi, &(xl, xh)) in row.iter().zip(x) {
                let (t0, t1) = (wi * xl, wi * xh);
                let (tl, th) = (t0.min(t1), t0.max(t1));
                lo += tl;
                hi += th;
                neg += tl.min(0.0);
                pos += th.max(0.0);
            }
            let (lo, hi) = (lo + bias, hi + bias);
            largest = largest.max(-neg).max(pos).max(lo.abs()).max(hi.abs());
            (lo, hi)
        })
        .collect();
    (out, largest)
}

impl PlanSpec {
    pub(super) fn stage(&self, layer: &str, (level, scale): At, bound: f64) -> PlanStage {
        let capacity = self
            .moduli
            .get(level)
            .map_or(0.0, |q| q / (pow2(1 + PLAN_MARGIN_BITS) * scale));
        PlanStage {
            layer: layer.to_string(),
            level,
            scale,
            bound,
            capacity,
        }
    }

    /// The stages for inputs with `|x_i| ≤ b`.
    pub(super) fn stages(&self, b: f64) -> Vec<PlanStage> {
        let mut v = vec![self.stage("input", self.input, b)];
        match &self.circuit {
            SpecCircuit::Logistic {
                abs_w,
                bias,
                logit,
                sigmoid,
            } => {
                // partial sums ≤ Σ|w_i|·b, the logit ≤ Σ|w_i|·b + |bias|
                let z = abs_w * b + bias.abs();
                match sigmoid {
                    None => v.push(self.stage("logit", *logit, z)),
                    Some(sg) => {
                        v.push(self.stage("logit / range", *logit, z));
                        let degree = sg.power.len().saturating_sub(1);
                        v.push(self.stage("sigmoid basis", sg.basis, chebyshev_bound(z, degree)));
                        let p = sg
                            .power
                            .iter()
                            .enumerate()
                            .map(|(k, c)| c.abs() * z.powi(k as i32))
                            .sum();
                        v.push(self.stage("sigmoid", sg.output, p));
                    }
                }
            }
            SpecCircuit::Mlp {
                w1_abs_rows,
                b1,
                layer1,
                square,
                w2,
                b2,
                logits,
            } => {
                // layer 1 over the box [−b, b]^d: row j ∈ b1_j ± b·Σ|W1_j|
                let a: Vec<(f64, f64)> = w1_abs_rows
                    .iter()
                    .zip(b1)
                    .map(|(l, bj)| (bj - l * b, bj + l * b))
                    .collect();
                let a_max = w1_abs_rows
                    .iter()
                    .zip(b1)
                    .map(|(l, bj)| l * b + bj.abs())
                    .fold(0.0, f64::max);
                v.push(self.stage("layer 1", *layer1, a_max));
                let h = match square {
                    Some(at) => {
                        let h: Vec<(f64, f64)> = a
                            .iter()
                            .map(|&(lo, hi)| {
                                let top = (lo * lo).max(hi * hi);
                                let bottom = if lo <= 0.0 && hi >= 0.0 {
                                    0.0
                                } else {
                                    (lo * lo).min(hi * hi)
                                };
                                (bottom, top)
                            })
                            .collect();
                        let h_max = h.iter().map(|x| x.1).fold(0.0, f64::max);
                        v.push(self.stage("activation (square)", *at, h_max));
                        h
                    }
                    None => a,
                };
                let (_, o_max) = affine_bounds(w2, b2, &h);
                v.push(self.stage("layer 2 (logits)", *logits, o_max));
            }
        }
        v
    }

    /// The plan for inputs with `|x_i| ≤ b`, or the first stage that does
    /// not fit.
    pub(super) fn check(&self, b: f64) -> Result<CircuitPlan> {
        let stages = self.stages(b);
        if let Some(s) = stages
            .iter()
            .find(|s| s.bound.is_nan() || s.bound > s.capacity)
        {
            return Err(Error::PlanOverflow {
                layer: s.layer.clone(),
                level: s.level,
                bound: s.bound,
                capacity: s.capacity,
            });
        }
        Ok(CircuitPlan {
            max_abs_input: b,
            stages,
        })
    }

    /// The plan for the largest input bound in
    /// `[MIN_DERIVED_INPUT_BOUND, MAX_DERIVED_INPUT_BOUND]` that fits
    /// (rounded down to three significant digits), or the error at the
    /// smallest. Every bound grows with the input bound, so the largest is
    /// found by bisection.
    pub(super) fn derive(&self) -> Result<CircuitPlan> {
        let smallest = self.check(MIN_DERIVED_INPUT_BOUND)?;
        if let Ok(p) = self.check(MAX_DERIVED_INPUT_BOUND) {
            return Ok(p);
        }
        let (mut lo, mut hi) = (MIN_DERIVED_INPUT_BOUND, MAX_DERIVED_INPUT_BOUND);
        for _ in 0..64 {
            let mid = 0.5 * (lo + hi);
            if self.check(mid).is_ok() {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        // three significant digits, as the decimal the setup will print
        let exp = lo.log10().floor() as i32 - 2;
        let digits = (lo / 10f64.powi(exp)).floor();
        let nice = format!("{digits}e{exp}")
            .parse::<f64>()
            .unwrap_or(lo)
            .max(MIN_DERIVED_INPUT_BOUND);
        Ok(self
            .check(nice)
            .or_else(|_| self.check(lo))
            .unwrap_or(smallest))
    }

    /// The derived plan, or the plan for the bound the server asks for.
    pub(super) fn resolve(&self, max_abs_input: Option<f64>) -> Result<CircuitPlan> {
        match max_abs_input {
            None => self.derive(),
            Some(b) if b.is_finite() && b > 0.0 => self.check(b),
            Some(b) => Err(Error::OutOfRange(format!(
                "input bound {b}: must be finite and positive"
            ))),
        }
    }
}

/// `Q_l = q_0 ⋯ q_l` for every level.
pub(crate) fn level_moduli(params: &Parameters) -> Vec<f64> {
    params
        .rlwe()
        .q()
        .iter()
        .scan(1f64, |acc, &q| {
            *acc *= q as f64;
            Some(*acc)
        })
        .collect()
}
