//! The fixed circuits: logistic regression (logit or polynomial sigmoid) and the one-hidden-layer MLP, per-sample and batch; their parameters, the rectangular diagonal method and the block first layer.

use ckks::{Ciphertext, Encoder, Evaluator, GaloisKeys, Parameters, Plaintext, Polynomial};
use rlwe::poly::{Poly, Representation};

use super::*;
use crate::error::{Error, Result};
use crate::model::{LogisticRegression, Mlp};

/// What the logistic-regression server returns.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LogisticOutput {
    /// The logit `w·x + b` (fastest: N = 4096, one prime; the client
    /// applies the exact sigmoid — σ is invertible, so returning σ(z)
    /// reveals exactly as much as z).
    Logit,
    /// A least-squares odd polynomial approximation of σ fitted on
    /// `[−range, range]` ([`crate::model::fit_sigmoid_odd`]); pick the range
    /// from the model's training logits
    /// ([`LogisticRegression::logit_range`]), not a fixed textbook
    /// interval. N = 8192 and `depth + 1` more primes.
    Sigmoid {
        /// Half-width of the fitting interval.
        range: f64,
        /// Odd degree (3, 5, 7).
        degree: usize,
    },
}

// ---------------------------------------------------------------- parameters

/// log2 of the scale of the logistic-regression inputs.
pub(super) const LR_INPUT_BITS: i32 = 22;
/// log2 of the scale of the logistic-regression weights.
pub(super) const LR_WEIGHT_BITS: i32 = 18;
/// log2 of the scale of the logistic regression with a sigmoid output.
pub(super) const SIG_SCALE_BITS: i32 = 30;
/// log2 of the scale of the MLP inputs.
pub(super) const MLP_INPUT_BITS: i32 = 30;
/// log2 of the scale of the MLP's second-layer weights (square activation;
/// a linear activation rescales layer 2 by `q_1` instead).
pub(super) const MLP_W2_BITS: i32 = 19;
/// MLP chain `q_0, q_1, q_2`: `q_0` holds the logits (scale 2^41 after the
/// square: 60 bits leave `|logit| < 2^17`), `q_1` is the square's rescale,
/// `q_2` layer 1's.
pub(super) const MLP_Q_BITS: [u32; 3] = [60, 38, 30];
/// MLP special prime (≥ every chain prime: one prime per key-switching
/// digit).
pub(super) const MLP_P_BITS: [u32; 1] = [60];

/// Margin of the plan check: a stage at scale Δ on level `l` may hold
/// values up to `Q_l / (2^(1 + PLAN_MARGIN_BITS) · Δ)`, i.e. half of what the
/// centered representation mod `Q_l` can hold; the other half covers noise,
/// the rounding of the encoded weights and the float bookkeeping of scales.
pub(crate) const PLAN_MARGIN_BITS: i32 = 1;
/// The derived input bound is never below this: a model whose plan cannot
/// take inputs in `[−1, 1]` is refused ([`Error::PlanOverflow`]) unless the
/// server asks for a smaller bound explicitly.
pub(super) const MIN_DERIVED_INPUT_BOUND: f64 = 1.0;
/// The derived input bound is never above this (beyond it the rounding of
/// the encoded weights, not the modulus, limits the precision); a larger
/// bound can be asked for explicitly.
pub(super) const MAX_DERIVED_INPUT_BOUND: f64 = 1024.0;

pub(super) fn build_params(
    degree: usize,
    q_bits: &[u32],
    p_bits: &[u32],
    scale_bits: i32,
) -> Result<Parameters> {
    Ok(Parameters::builder()
        .degree(degree)
        .q_bits(q_bits)
        .p_bits(p_bits)
        .scale(pow2(scale_bits))
        .build()?)
}

pub(crate) fn pow2(bits: i32) -> f64 {
    2f64.powi(bits)
}

/// An MLP whose activation is reduced to a pure square (or the identity):
/// `c_2·a² + c_1·a + c_0 = c_2·(a + c_1/(2c_2))² + c_0 − c_1²/(4c_2)`, the
/// shift goes into `b_1`, the factor `c_2` into `W_2` and the constant into
/// `b_2`; a linear activation folds into `W_2`, `b_2` entirely.
pub(super) struct Folded {
    pub(super) w1: Vec<Vec<f64>>,
    pub(super) b1: Vec<f64>,
    pub(super) w2: Vec<Vec<f64>>,
    pub(super) b2: Vec<f64>,
    pub(super) square: bool,
}

pub(super) fn fold_activation(model: &Mlp) -> Result<Folded> {
    let deg = model.activation.degree();
    if deg > 2 {
        return Err(Error::OutOfRange(format!(
            "activation of degree {deg}: the encrypted circuit supports degree ≤ 2"
        )));
    }
    let mut c = model.activation.coefficients();
    c.resize(3, 0.0);
    let (shift, factor, constant, square) = if c[2] != 0.0 {
        (
            c[1] / (2.0 * c[2]),
            c[2],
            c[0] - c[1] * c[1] / (4.0 * c[2]),
            true,
        )
    } else {
        (0.0, c[1], c[0], false)
    };
    let b1 = model.b1.iter().map(|b| b + shift).collect();
    let w2: Vec<Vec<f64>> = model
        .w2
        .iter()
        .map(|r| r.iter().map(|w| w * factor).collect())
        .collect();
    let b2 = model
        .b2
        .iter()
        .zip(&model.w2)
        .map(|(b, r)| b + constant * r.iter().sum::<f64>())
        .collect();
    Ok(Folded {
        w1: model.w1.clone(),
        b1,
        w2,
        b2,
        square,
    })
}

// ---------------------------------------------------------------- diagonal method

/// A rectangular `m × n` matrix (both padded to powers of two) encoded for
/// the diagonal method with BSGS: with `P = max(m, n)` and `K = min(m, n)`,
/// `diag_k[j] = W[j mod m][(j + k) mod n]` (`j < P`, `k < K`), tiled over
/// the slots; for an input tiled with period `n`,
/// `z = Σ_k diag_k ⊙ rot_k(x)`, and when `m < n` the `n/m` partial sums are
/// folded by rotations by `m, 2m, …, n/2`. The output is tiled with period
/// `m`.
pub(crate) struct Diagonals {
    baby: usize,
    /// `(t, b, rot_{−t·g}(diag_{t·g+b}))`, nonzero diagonals only.
    diags: Vec<(usize, usize, Plaintext)>,
    fold_steps: Vec<i64>,
    level: usize,
    scale: f64,
    rescale: bool,
}

impl Diagonals {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        encoder: &Encoder,
        w: &[Vec<f64>],
        m: usize,
        n: usize,
        level: usize,
        scale: f64,
        rescale: bool,
    ) -> Result<Self> {
        let slots = encoder.slots();
        let p = m.max(n);
        let k_count = m.min(n);
        if !m.is_power_of_two() || !n.is_power_of_two() || p > slots {
            return Err(Error::Shape(format!(
                "layer {m} × {n} does not fit {slots} slots"
            )));
        }
        let at = |r: usize, c: usize| -> f64 {
            w.get(r).and_then(|row| row.get(c)).copied().unwrap_or(0.0)
        };
        let mut g = 1usize;
        while g * g < k_count {
            g <<= 1;
        }
        let mut diags = Vec::new();
        for k in 0..k_count {
            let diag: Vec<f64> = (0..p).map(|j| at(j % m, (j + k) % n)).collect();
            if diag.iter().all(|&v| v == 0.0) {
                continue;
            }
            let (t, b) = (k / g, k % g);
            let shift = (t * g) % p;
            let full: Vec<f64> = (0..slots).map(|j| diag[(j + p - shift) % p]).collect();
            diags.push((t, b, encoder.encode_at(&full, level, scale)?));
        }
        if diags.is_empty() {
            // An all-zero matrix (e.g. a constant activation): one zero
            // diagonal, so the output still has the planned scale.
            diags.push((0, 0, encoder.encode_at(&vec![0.0; slots], level, scale)?));
        }
        let mut fold_steps = Vec::new();
        let mut s = m;
        while s < n {
            fold_steps.push(s as i64);
            s <<= 1;
        }
        Ok(Self {
            baby: g,
            diags,
            fold_steps,
            level,
            scale,
            rescale,
        })
    }

    pub(crate) fn rotation_steps(&self) -> Vec<i64> {
        let mut v: Vec<i64> = Vec::new();
        for (t, b, _) in &self.diags {
            if *b != 0 {
                v.push(*b as i64);
            }
            if *t != 0 {
                v.push((t * self.baby) as i64);
            }
        }
        v.extend(&self.fold_steps);
        v
    }

    pub(super) fn output_scale(&self, input_scale: f64, params: &Parameters) -> Result<f64> {
        let s = input_scale * self.scale;
        Ok(if self.rescale {
            s / params.q(self.level)? as f64
        } else {
            s
        })
    }

    pub(crate) fn apply(
        &self,
        eval: &Evaluator,
        x: &Ciphertext,
        gks: &GaloisKeys,
    ) -> Result<Ciphertext> {
        let params = eval.params();
        if x.level() < self.level {
            return Err(Error::Ckks(ckks::Error::InvalidLevel {
                what: "ciphertext below the layer's level",
                got: x.level(),
                max: self.level,
            }));
        }
        let x = eval.drop_to_level(x, self.level)?;
        let mut babies: Vec<usize> = self.diags.iter().map(|d| d.1).collect();
        babies.sort_unstable();
        babies.dedup();
        let steps: Vec<i64> = babies.iter().map(|&b| b as i64).collect();
        let rotated = eval.rotate_hoisted(&x, &steps, gks)?;
        let mut giants: Vec<usize> = self.diags.iter().map(|d| d.0).collect();
        giants.sort_unstable();
        giants.dedup();
        let rp = params.rlwe();
        let ring = rp.ring_q(self.level)?;
        let mut total: Option<Ciphertext> = None;
        for t in giants {
            let mut acc0 = Poly::zero(ring, Representation::Ntt);
            let mut acc1 = Poly::zero(ring, Representation::Ntt);
            for (tt, b, pt) in &self.diags {
                if *tt != t {
                    continue;
                }
                let idx = babies
                    .binary_search(b)
                    .map_err(|_| Error::Shape("internal: missing baby step".into()))?;
                let parts = rotated[idx].rlwe().parts();
                acc0.mul_acc(&parts[0], pt.poly())?;
                acc1.mul_acc(&parts[1], pt.poly())?;
            }
            let inner = Ciphertext::from_rlwe(
                params,
                rlwe::ciphertext::Ciphertext::new(rp, vec![acc0, acc1])?,
                x.scale() * self.scale,
            )?;
            let shifted = if t == 0 {
                inner
            } else {
                eval.rotate(&inner, (t * self.baby) as i64, gks)?
            };
            match &mut total {
                None => total = Some(shifted),
                Some(acc) => eval.add_assign(acc, &shifted)?,
            }
        }
        let mut out =
            total.ok_or_else(|| Error::Shape("internal: layer without diagonals".into()))?;
        if self.rescale {
            out = eval.rescale(&out)?;
        }
        for &s in &self.fold_steps {
            let r = eval.rotate(&out, s, gks)?;
            eval.add_assign(&mut out, &r)?;
        }
        Ok(out)
    }
}

/// The first layer of the per-sample MLP for an input in the
/// [`InputLayout::RotatedBlocks`] layout (`m ≤ n`, `n² ≤ slots`): block `b`
/// of the plaintext holds `diag_b[j] = W[j mod m][(j + b) mod n]` (zero in
/// blocks `b ≥ n`), so one plaintext product puts the terms of diagonal `b`
/// in block `b`, and summing the blocks (`log2(slots/n)` rotations, after
/// the rescale: on one limb fewer) leaves `y[j mod m]` in every slot `j`:
/// the output is tiled with period `m`.
pub(super) struct BlockLayer {
    pt: Plaintext,
    steps: Vec<i64>,
    level: usize,
    scale: f64,
}

impl BlockLayer {
    pub(super) fn new(
        encoder: &Encoder,
        w: &[Vec<f64>],
        m: usize,
        n: usize,
        level: usize,
        scale: f64,
    ) -> Result<Self> {
        let slots = encoder.slots();
        if m > n || n * n > slots || !m.is_power_of_two() || !n.is_power_of_two() {
            return Err(Error::Shape(format!(
                "block layout needs m ≤ n, n² ≤ {slots} (m = {m}, n = {n})"
            )));
        }
        let at = |r: usize, c: usize| -> f64 {
            w.get(r).and_then(|row| row.get(c)).copied().unwrap_or(0.0)
        };
        let v: Vec<f64> = (0..slots)
            .map(|s| {
                let (b, j) = (s / n, s % n);
                if b < n {
                    at(j % m, (j + b) % n)
                } else {
                    0.0
                }
            })
            .collect();
        let mut steps = Vec::new();
        let mut st = n;
        while st < slots {
            steps.push(st as i64);
            st <<= 1;
        }
        Ok(Self {
            pt: encoder.encode_at(&v, level, scale)?,
            steps,
            level,
            scale,
        })
    }

    pub(super) fn apply(
        &self,
        eval: &Evaluator,
        x: &Ciphertext,
        gks: &GaloisKeys,
    ) -> Result<Ciphertext> {
        let x = eval.drop_to_level(x, self.level)?;
        let mut out = eval.rescale(&eval.mul_plain(&x, &self.pt)?)?;
        for &s in &self.steps {
            let r = eval.rotate(&out, s, gks)?;
            eval.add_assign(&mut out, &r)?;
        }
        Ok(out)
    }
}

pub(super) enum FirstLayer {
    Bsgs(Diagonals),
    Blocks(BlockLayer),
}

impl FirstLayer {
    pub(super) fn apply(
        &self,
        eval: &Evaluator,
        x: &Ciphertext,
        gks: &GaloisKeys,
    ) -> Result<Ciphertext> {
        match self {
            Self::Bsgs(d) => d.apply(eval, x, gks),
            Self::Blocks(b) => b.apply(eval, x, gks),
        }
    }

    pub(super) fn output_scale(&self, input_scale: f64, params: &Parameters) -> Result<f64> {
        match self {
            Self::Bsgs(d) => d.output_scale(input_scale, params),
            Self::Blocks(b) => Ok(input_scale * b.scale / params.q(b.level)? as f64),
        }
    }

    pub(super) fn rotation_steps(&self) -> Vec<i64> {
        match self {
            Self::Bsgs(d) => d.rotation_steps(),
            Self::Blocks(b) => b.steps.clone(),
        }
    }
}

pub(super) fn next_pow2(x: usize) -> usize {
    x.max(1).next_power_of_two()
}

impl Server {
    /// A server for a logistic regression that returns the logit (the
    /// client applies the exact sigmoid). The input bound is derived from
    /// the weights and the plan ([`Self::plan`]).
    pub fn logistic(model: &LogisticRegression, packing: Packing) -> Result<Self> {
        Self::logistic_with(model, packing, LogisticOutput::Logit)
    }

    /// A server for a logistic regression with a choice of output; the
    /// input bound is the largest one the circuit's plan holds for these
    /// weights, between 1 and 1024 ([`Error::PlanOverflow`] if even inputs
    /// in `[−1, 1]` could overflow).
    pub fn logistic_with(
        model: &LogisticRegression,
        packing: Packing,
        output: LogisticOutput,
    ) -> Result<Self> {
        Self::logistic_impl(model, packing, output, None)
    }

    /// The same with the input bound the server needs: refused with
    /// [`Error::PlanOverflow`] (naming the stage) if inputs with
    /// `|x_i| ≤ max_abs_input` could overflow the circuit.
    pub fn logistic_with_input_bound(
        model: &LogisticRegression,
        packing: Packing,
        output: LogisticOutput,
        max_abs_input: f64,
    ) -> Result<Self> {
        Self::logistic_impl(model, packing, output, Some(max_abs_input))
    }

    pub(super) fn logistic_impl(
        model: &LogisticRegression,
        packing: Packing,
        output: LogisticOutput,
        max_abs_input: Option<f64>,
    ) -> Result<Self> {
        let d = model.n_features();
        if d == 0 {
            return Err(Error::Shape("model without features".into()));
        }
        if model
            .weights
            .iter()
            .chain(std::iter::once(&model.bias))
            .any(|w| !w.is_finite())
        {
            return Err(Error::OutOfRange("non-finite weight".into()));
        }
        // Logit: N = 4096, one prime, no rescale: the logit at scale
        // 2^(22+18) on level 0. Sigmoid: the logit is computed as u = z / R
        // (1/R folded into the weights) at scale 2^30·q_top, rescaled to
        // 2^30 on level `depth`; the polynomial in u ∈ [−1, 1] takes
        // `depth` more levels and keeps the scale.
        let (params, input_bits, level, weight_scale, inv_r, sigmoid) = match output {
            LogisticOutput::Logit => {
                let p = build_params(4096, &[50], &[50], LR_INPUT_BITS)?;
                (p, LR_INPUT_BITS, 0, pow2(LR_WEIGHT_BITS), 1.0, None)
            }
            LogisticOutput::Sigmoid { range, degree } => {
                let c = crate::model::fit_sigmoid_odd(range, degree)?;
                let cu: Vec<f64> = c
                    .iter()
                    .enumerate()
                    .map(|(i, ci)| ci * range.powi(i as i32))
                    .collect();
                let poly = Polynomial::from_power(&cu)?;
                let depth = poly.depth();
                let mut q = vec![40u32];
                q.extend(std::iter::repeat_n(SIG_SCALE_BITS as u32, depth + 1));
                let p = build_params(8192, &q, &[40], SIG_SCALE_BITS)?;
                let top = depth + 1;
                let ws = p.q(top)? as f64;
                (p, SIG_SCALE_BITS, top, ws, 1.0 / range, Some((poly, cu)))
            }
        };
        let w: Vec<f64> = model.weights.iter().map(|w| w * inv_r).collect();
        let bias = model.bias * inv_r;
        let input_scale = pow2(input_bits);
        let logit_at = if level > 0 {
            (
                level - 1,
                input_scale * weight_scale / params.q(level)? as f64,
            )
        } else {
            (0, input_scale * weight_scale)
        };
        let spec = PlanSpec {
            moduli: level_moduli(&params),
            input: (level, input_scale),
            circuit: SpecCircuit::Logistic {
                abs_w: w.iter().map(|x| x.abs()).sum(),
                bias,
                logit: logit_at,
                sigmoid: sigmoid.as_ref().map(|(_, cu)| SigmoidSpec {
                    power: cu.clone(),
                    basis: (1, 2.0 * logit_at.1),
                    output: (0, logit_at.1),
                }),
            },
        };
        let plan = spec.resolve(max_abs_input)?;
        let sigmoid = sigmoid.map(|(poly, _)| poly);
        let encoder = Encoder::new(&params);
        let slots = params.slots();
        let count = next_pow2(d);
        if count > slots {
            return Err(Error::Shape(format!("{d} features for {slots} slots")));
        }
        let relinearization = sigmoid.is_some();
        let (evaluation, rotations, input_layout) = match packing {
            Packing::PerSample => {
                // Tiled weights and input: after the log-sum every slot
                // holds the logit (no slot holds a partial sum that would
                // reveal single weights to the client).
                let weights =
                    encoder.encode_at(&ckks::tile(&pad(&w, count), slots), level, weight_scale)?;
                (
                    Evaluation::LogisticSample {
                        weights,
                        bias,
                        count,
                        sigmoid,
                    },
                    Evaluator::sum_slots_steps(count),
                    InputLayout::Tiled { period: count },
                )
            }
            Packing::Batch => (
                Evaluation::LogisticBatch {
                    weights: w,
                    bias,
                    weight_scale,
                    sigmoid,
                },
                Vec::new(),
                InputLayout::Slots,
            ),
        };
        let setup = PublicSetup {
            shape: ModelShape::Logistic { features: d },
            packing,
            degree: params.degree(),
            q_primes: params.rlwe().q().to_vec(),
            p_primes: params.rlwe().p().to_vec(),
            security: params.rlwe().security(),
            input_scale,
            input_level: level,
            input_layout,
            max_abs_input: plan.max_abs_input,
            rotations,
            relinearization,
            output_stride: 1,
            bootstrap: None,
        };
        Ok(Self {
            eval: Evaluator::new(&params),
            params,
            setup,
            evaluation,
            plan,
            report: None,
        })
    }

    /// A server for a one-hidden-layer MLP (returns logits); the input
    /// bound is the largest one the circuit's plan holds for these weights,
    /// between 1 and 1024 ([`Error::PlanOverflow`] if even inputs in
    /// `[−1, 1]` could overflow).
    pub fn mlp(model: &Mlp, packing: Packing) -> Result<Self> {
        Self::mlp_impl(model, packing, None)
    }

    /// The same with the input bound the server needs: refused with
    /// [`Error::PlanOverflow`] (naming the stage) if inputs with
    /// `|x_i| ≤ max_abs_input` could overflow the circuit.
    pub fn mlp_with_input_bound(model: &Mlp, packing: Packing, max_abs_input: f64) -> Result<Self> {
        Self::mlp_impl(model, packing, Some(max_abs_input))
    }

    pub(super) fn mlp_impl(
        model: &Mlp,
        packing: Packing,
        max_abs_input: Option<f64>,
    ) -> Result<Self> {
        let (d, h, k) = (model.n_inputs(), model.n_hidden(), model.n_outputs());
        let all = model
            .w1
            .iter()
            .chain(&model.w2)
            .flatten()
            .chain(&model.b1)
            .chain(&model.b2);
        if all.into_iter().any(|w| !w.is_finite()) {
            return Err(Error::OutOfRange("non-finite weight".into()));
        }
        let f = fold_activation(model)?;
        let square = f.square;
        let params = build_params(8192, &MLP_Q_BITS, &MLP_P_BITS, MLP_INPUT_BITS)?;
        // The plan, level by level (both packings):
        //   input        level 2, 2^30
        //   layer 1      × W1 at scale q_2, rescale    → level 1, s1 = 2^30
        //   square       a², rescale by q_1            → level 0, s1²/q_1 ≈ 2^22
        //   layer 2      × W2 at 2^19, no rescale      → level 0, ≈ 2^41
        // and for a linear (degree ≤ 1) activation, which has no square:
        //   layer 2      × W2 at scale q_1, rescale    → level 0, s1 = 2^30
        let (q1, q2) = (params.q(1)? as f64, params.q(2)? as f64);
        let input_scale = pow2(MLP_INPUT_BITS);
        let s1 = input_scale * q2 / q2;
        let (s_h, w2_scale, l2_level) = if square {
            (s1 * s1 / q1, pow2(MLP_W2_BITS), 0)
        } else {
            (s1, q1, 1)
        };
        let rescale2 = !square;
        let s2 = if rescale2 {
            s_h * w2_scale / q1
        } else {
            s_h * w2_scale
        };
        let spec = PlanSpec {
            moduli: level_moduli(&params),
            input: (2, input_scale),
            circuit: SpecCircuit::Mlp {
                w1_abs_rows: f
                    .w1
                    .iter()
                    .map(|r| r.iter().map(|x| x.abs()).sum())
                    .collect(),
                b1: f.b1.clone(),
                layer1: (1, s1),
                square: square.then_some((0, s_h)),
                w2: f.w2.clone(),
                b2: f.b2.clone(),
                logits: (0, s2),
            },
        };
        let plan = spec.resolve(max_abs_input)?;
        let encoder = Encoder::new(&params);
        let slots = params.slots();
        let (dp, hp, kp) = (next_pow2(d), next_pow2(h), next_pow2(k));
        if dp.max(hp) > slots || hp.max(kp) > slots {
            return Err(Error::Shape(format!(
                "layers {d}→{h}→{k} exceed {slots} slots"
            )));
        }
        let (evaluation, rotations, input_layout, output_stride) = match packing {
            Packing::PerSample => {
                let (l1, layout) = if hp <= dp && dp * dp <= slots {
                    (
                        FirstLayer::Blocks(BlockLayer::new(&encoder, &f.w1, hp, dp, 2, q2)?),
                        InputLayout::RotatedBlocks { block: dp },
                    )
                } else {
                    (
                        FirstLayer::Bsgs(Diagonals::new(&encoder, &f.w1, hp, dp, 2, q2, true)?),
                        InputLayout::Tiled { period: dp },
                    )
                };
                if l1.output_scale(input_scale, &params)? != s1 {
                    return Err(Error::Shape(
                        "internal: layer 1 off its planned scale".into(),
                    ));
                }
                // Tiled over every slot: the replicated layout layer 2 reads.
                let b1 = encoder.encode_at(&ckks::tile(&pad(&f.b1, hp), slots), 1, s1)?;
                let l2 = Diagonals::new(&encoder, &f.w2, kp, hp, l2_level, w2_scale, rescale2)?;
                if l2.output_scale(s_h, &params)? != s2 {
                    return Err(Error::Shape(
                        "internal: layer 2 off its planned scale".into(),
                    ));
                }
                let b2 = encoder.encode_at(&ckks::tile(&pad(&f.b2, kp), slots), 0, s2)?;
                let mut rot = l1.rotation_steps();
                rot.extend(l2.rotation_steps());
                rot.sort_unstable();
                rot.dedup();
                (
                    Evaluation::MlpSample(Box::new(MlpCircuit {
                        l1,
                        b1,
                        square: f.square,
                        l2,
                        b2,
                    })),
                    rot,
                    layout,
                    1,
                )
            }
            Packing::Batch => (
                Evaluation::MlpBatch {
                    model: f,
                    w2_scale,
                    rescale2,
                },
                Vec::new(),
                InputLayout::Slots,
                1,
            ),
        };
        let setup = PublicSetup {
            shape: ModelShape::Mlp {
                inputs: d,
                hidden: h,
                outputs: k,
            },
            packing,
            degree: params.degree(),
            q_primes: params.rlwe().q().to_vec(),
            p_primes: params.rlwe().p().to_vec(),
            security: params.rlwe().security(),
            input_scale,
            input_level: 2,
            input_layout,
            max_abs_input: plan.max_abs_input,
            rotations,
            relinearization: square,
            output_stride,
            bootstrap: None,
        };
        Ok(Self {
            eval: Evaluator::new(&params),
            params,
            setup,
            evaluation,
            plan,
            report: None,
        })
    }
}
