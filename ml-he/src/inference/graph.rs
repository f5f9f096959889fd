//! The layer graph: what an imported model is, independent of ONNX and of
//! encryption. A [`Graph`] is a list of [`Node`]s in topological order over
//! tensors without a batch dimension; value `0` is the graph input and value
//! `i + 1` is the output of node `i`. [`Graph::eval`] is the plaintext
//! reference evaluator the encrypted circuit is checked against.
//!
//! Tensors are stored flat in row-major (C) order: `[C, H, W]` for images,
//! `[F]` for feature vectors.

use crate::error::{Error, Result};

/// Index of a value: `0` is the graph input, `i + 1` the output of node `i`.
pub type ValueId = usize;

/// A nonpolynomial activation, replaced by a polynomial over a calibrated
/// range when the graph is compiled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Activation {
    /// `max(x, 0)`.
    Relu,
    /// `1 / (1 + e^−x)`.
    Sigmoid,
    /// `tanh x`.
    Tanh,
    /// `x · Φ(x)` (exact, erf-based).
    Gelu,
}

/// One operation. Every linear operation (all but [`Op::Square`],
/// [`Op::Activation`] and [`Op::Polynomial`]) is an affine map of its flat
/// input; the compiler merges consecutive ones into one matrix.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// `y = W·flatten(x) + b`, `W` of `out × in` stored row-major.
    Dense {
        /// `out × in`, row-major.
        weights: Vec<f64>,
        /// `out` entries.
        bias: Vec<f64>,
    },
    /// 2-D convolution of a `[C_in, H, W]` input (ONNX `Conv` semantics,
    /// cross-correlation).
    Conv {
        /// `[C_out, C_in / groups, kh, kw]`, row-major.
        weights: Vec<f64>,
        /// `C_out` entries (zeros when the model has none).
        bias: Vec<f64>,
        /// `[kh, kw]`.
        kernel: [usize; 2],
        /// `[sh, sw]`.
        stride: [usize; 2],
        /// `[top, left, bottom, right]`, zero padding.
        pads: [usize; 4],
        /// `1` for a plain convolution, `C_in` for a depthwise one.
        groups: usize,
    },
    /// Average pooling of a `[C, H, W]` input (ONNX `AveragePool`).
    AvgPool {
        /// `[kh, kw]`.
        kernel: [usize; 2],
        /// `[sh, sw]`.
        stride: [usize; 2],
        /// `[top, left, bottom, right]`.
        pads: [usize; 4],
        /// Whether padded zeros count in the divisor (ONNX
        /// `count_include_pad`).
        count_include_pad: bool,
    },
    /// `[C, H, W] → [C, 1, 1]`: the mean of each channel.
    GlobalAvgPool,
    /// Per-channel `y = scale[c]·x + shift[c]` over the first dimension
    /// (channels of `[C, H, W]`, features of `[F]`); a folded
    /// `BatchNormalization`, or `Mul` / `Add` by a constant (a single entry
    /// broadcasts over every channel).
    Affine {
        /// Per channel, or one entry for all.
        scale: Vec<f64>,
        /// Per channel, or one entry for all.
        shift: Vec<f64>,
    },
    /// `Flatten` / `Reshape`: the data in row-major order is unchanged, only
    /// the shape ([`Node::shape`]) changes.
    Reshape,
    /// Elementwise sum of two values of the same shape (residual
    /// connections).
    Add,
    /// `x²` elementwise (`Mul(x, x)`, `Pow(x, 2)`).
    Square,
    /// A nonpolynomial activation.
    Activation(Activation),
    /// `Σ_k c_k x^k` elementwise (power basis, `c_0` first).
    Polynomial(Vec<f64>),
}

/// A node: an operation, the values it reads and the shape of its output.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The ONNX node name (or a generated one), used in every error and
    /// report.
    pub name: String,
    /// What it computes.
    pub op: Op,
    /// The values it reads (one, or two for [`Op::Add`]).
    pub inputs: Vec<ValueId>,
    /// Its output shape, without a batch dimension.
    pub shape: Vec<usize>,
}

/// A model as a graph of [`Node`]s.
#[derive(Clone, Debug, PartialEq)]
pub struct Graph {
    /// The input's shape without the batch dimension (`[1, 28, 28]`, `[13]`).
    pub input_shape: Vec<usize>,
    /// Nodes in topological order.
    pub nodes: Vec<Node>,
    /// The value the client receives (scores before any softmax / argmax).
    pub output: ValueId,
}

/// Number of elements of a shape.
/// (Saturating: a shape too large to count gives `usize::MAX`.)
pub fn numel(shape: &[usize]) -> usize {
    shape.iter().fold(1usize, |n, &d| n.saturating_mul(d))
}

fn shape_err(node: &str, what: impl std::fmt::Display) -> Error {
    Error::Shape(format!("node `{node}`: {what}"))
}

/// Output extent of a window of `k` sliding by `s` over `n` with padding
/// `p0 + p1` (floor mode), or `None` when the window does not fit.
fn out_extent(n: usize, k: usize, s: usize, p0: usize, p1: usize) -> Option<usize> {
    let padded = n.checked_add(p0)?.checked_add(p1)?;
    if k == 0 || s == 0 || padded < k {
        return None;
    }
    Some((padded - k) / s + 1)
}

/// The `[C, H, W]` of a 3-D shape.
fn chw(node: &str, shape: &[usize]) -> Result<[usize; 3]> {
    match shape {
        [c, h, w] => Ok([*c, *h, *w]),
        _ => Err(shape_err(node, format!("input {shape:?} is not [C, H, W]"))),
    }
}

impl Graph {
    /// The shape of value `id` (`None` when there is no such value).
    pub fn value_shape(&self, id: ValueId) -> Option<&[usize]> {
        match id {
            0 => Some(&self.input_shape),
            i => self.nodes.get(i - 1).map(|n| n.shape.as_slice()),
        }
    }

    /// The shape of the value the client receives.
    pub fn output_shape(&self) -> Result<&[usize]> {
        self.value_shape(self.output).ok_or_else(|| {
            Error::Shape(format!(
                "output value {} beyond the {} nodes",
                self.output,
                self.nodes.len()
            ))
        })
    }

    /// Checks the whole graph: every node reads earlier values, its weights
    /// have the lengths its shapes ask for and are finite, its output shape
    /// is the one its operation produces; the output is a value of the
    /// graph. A malformed graph is an [`Error::Shape`] naming the node.
    pub fn validate(&self) -> Result<()> {
        if self.input_shape.is_empty() || numel(&self.input_shape) == 0 {
            return Err(Error::Shape(format!(
                "input shape {:?} has no element",
                self.input_shape
            )));
        }
        for (i, node) in self.nodes.iter().enumerate() {
            self.check_node(i)?;
            let finite = |v: &[f64]| v.iter().all(|x| x.is_finite());
            let ok = match &node.op {
                Op::Dense { weights, bias } | Op::Conv { weights, bias, .. } => {
                    finite(weights) && finite(bias)
                }
                Op::Affine { scale, shift } => finite(scale) && finite(shift),
                Op::Polynomial(c) => finite(c),
                _ => true,
            };
            if !ok {
                return Err(shape_err(&node.name, "a weight is NaN or infinite"));
            }
        }
        self.output_shape().map(|_| ())
    }

    /// Checks node `index` alone: arity, that its inputs are earlier values,
    /// and its weight lengths and output shape against its input shapes.
    fn check_node(&self, index: usize) -> Result<()> {
        let node = self
            .nodes
            .get(index)
            .ok_or_else(|| Error::Shape(format!("no node {index} in {}", self.nodes.len())))?;
        let name = node.name.as_str();
        let arity = if matches!(node.op, Op::Add) { 2 } else { 1 };
        if node.inputs.len() != arity {
            return Err(shape_err(
                name,
                format!(
                    "reads {} values, its operation takes {arity}",
                    node.inputs.len()
                ),
            ));
        }
        if let Some(&v) = node.inputs.iter().find(|&&v| v > index) {
            return Err(shape_err(
                name,
                format!("reads value {v}, not an earlier one"),
            ));
        }
        let input = self.value_shape(node.inputs[0]).unwrap_or(&[]);
        let (n_in, n_out) = (numel(input), numel(&node.shape));
        let expect = |want: Vec<usize>| {
            if node.shape == want {
                Ok(())
            } else {
                Err(shape_err(
                    name,
                    format!(
                        "output shape {:?}, its input {input:?} gives {want:?}",
                        node.shape
                    ),
                ))
            }
        };
        match &node.op {
            Op::Dense { weights, bias } => {
                if bias.len() != n_out || n_out == 0 || weights.len() != n_out.saturating_mul(n_in)
                {
                    return Err(shape_err(
                        name,
                        format!(
                            "dense {} weights and {} biases for {n_in} inputs and output {:?}",
                            weights.len(),
                            bias.len(),
                            node.shape
                        ),
                    ));
                }
                Ok(())
            }
            Op::Conv {
                weights,
                bias,
                kernel,
                stride,
                pads,
                groups,
            } => {
                let [c, h, w] = chw(name, input)?;
                let c_out = bias.len();
                if *groups == 0 || c % groups != 0 || c_out % groups != 0 || c_out == 0 {
                    return Err(shape_err(
                        name,
                        format!("{c} input and {c_out} output channels in {groups} groups"),
                    ));
                }
                let per = (c / groups)
                    .saturating_mul(kernel[0])
                    .saturating_mul(kernel[1]);
                if weights.len() != c_out.saturating_mul(per) {
                    return Err(shape_err(
                        name,
                        format!(
                            "{} conv weights, [{c_out}, {}, {}, {}] needs {}",
                            weights.len(),
                            c / groups,
                            kernel[0],
                            kernel[1],
                            c_out.saturating_mul(per)
                        ),
                    ));
                }
                let ho = out_extent(h, kernel[0], stride[0], pads[0], pads[2]);
                let wo = out_extent(w, kernel[1], stride[1], pads[1], pads[3]);
                match (ho, wo) {
                    (Some(ho), Some(wo)) => expect(vec![c_out, ho, wo]),
                    _ => Err(shape_err(
                        name,
                        format!("kernel {kernel:?} stride {stride:?} pads {pads:?} on {input:?}"),
                    )),
                }
            }
            Op::AvgPool {
                kernel,
                stride,
                pads,
                ..
            } => {
                let [c, h, w] = chw(name, input)?;
                let ho = out_extent(h, kernel[0], stride[0], pads[0], pads[2]);
                let wo = out_extent(w, kernel[1], stride[1], pads[1], pads[3]);
                let pads_ok = pads[0].max(pads[2]) < kernel[0] && pads[1].max(pads[3]) < kernel[1];
                match (ho, wo) {
                    (Some(ho), Some(wo)) if pads_ok => expect(vec![c, ho, wo]),
                    _ => Err(shape_err(
                        name,
                        format!("pool {kernel:?} stride {stride:?} pads {pads:?} on {input:?}"),
                    )),
                }
            }
            Op::GlobalAvgPool => {
                if input.len() < 2 {
                    return Err(shape_err(
                        name,
                        format!("global pool of {input:?}, not [C, …]"),
                    ));
                }
                let mut want = vec![1; input.len()];
                want[0] = input[0];
                expect(want)
            }
            Op::Affine { scale, shift } => {
                let c = input.first().copied().unwrap_or(1);
                let fits = |v: &Vec<f64>| v.len() == 1 || v.len() == c;
                if !fits(scale) || !fits(shift) {
                    return Err(shape_err(
                        name,
                        format!(
                            "affine of {} scales, {} shifts on {c} channels",
                            scale.len(),
                            shift.len()
                        ),
                    ));
                }
                expect(input.to_vec())
            }
            Op::Reshape => {
                if n_in != n_out {
                    return Err(shape_err(
                        name,
                        format!("reshape {input:?} to {:?}", node.shape),
                    ));
                }
                Ok(())
            }
            Op::Add => {
                let other = self.value_shape(node.inputs[1]).unwrap_or(&[]);
                if other != input {
                    return Err(shape_err(name, format!("adds {input:?} and {other:?}")));
                }
                expect(input.to_vec())
            }
            Op::Polynomial(c) if c.is_empty() => {
                Err(shape_err(name, "polynomial without coefficients"))
            }
            Op::Square | Op::Activation(_) | Op::Polynomial(_) => expect(input.to_vec()),
        }
    }

    /// Evaluates the graph in plaintext on one input (flat, row-major) and
    /// returns the output value.
    pub fn eval(&self, x: &[f64]) -> Result<Vec<f64>> {
        let mut all = self.eval_all(x)?;
        Ok(std::mem::take(&mut all[self.output]))
    }

    /// Evaluates the graph and returns every value (index = [`ValueId`]:
    /// the input first, then each node's output).
    pub fn eval_all(&self, x: &[f64]) -> Result<Vec<Vec<f64>>> {
        self.validate()?;
        if x.len() != numel(&self.input_shape) {
            return Err(Error::Shape(format!(
                "input of {} values, the graph takes {:?}",
                x.len(),
                self.input_shape
            )));
        }
        let mut values = Vec::with_capacity(self.nodes.len() + 1);
        values.push(x.to_vec());
        for (i, node) in self.nodes.iter().enumerate() {
            let inputs: Vec<&[f64]> = node.inputs.iter().map(|&v| values[v].as_slice()).collect();
            let y = self.apply(i, &inputs);
            values.push(y);
        }
        Ok(values)
    }

    /// Applies node `node` alone to the given values of its inputs (as many
    /// as it reads, each of its input's size). The one place where the
    /// semantics of every operation live.
    pub fn eval_node(&self, node: usize, inputs: &[&[f64]]) -> Result<Vec<f64>> {
        self.check_node(node)?;
        let n = &self.nodes[node];
        if inputs.len() != n.inputs.len() {
            return Err(shape_err(
                &n.name,
                format!("given {} inputs, reads {}", inputs.len(), n.inputs.len()),
            ));
        }
        for (x, &v) in inputs.iter().zip(&n.inputs) {
            let want = numel(self.value_shape(v).unwrap_or(&[]));
            if x.len() != want {
                return Err(shape_err(
                    &n.name,
                    format!("input value {v} given {} entries, has {want}", x.len()),
                ));
            }
        }
        Ok(self.apply(node, inputs))
    }

    /// Node `index` on inputs already checked by `check_node` and lengths.
    fn apply(&self, index: usize, inputs: &[&[f64]]) -> Vec<f64> {
        let node = &self.nodes[index];
        let x = inputs[0];
        let in_shape = self.value_shape(node.inputs[0]).unwrap_or(&[]);
        match &node.op {
            Op::Dense { weights, bias } => {
                let n_in = x.len();
                bias.iter()
                    .enumerate()
                    .map(|(o, b)| {
                        let row = &weights[o * n_in..(o + 1) * n_in];
                        b + row.iter().zip(x).map(|(w, v)| w * v).sum::<f64>()
                    })
                    .collect()
            }
            Op::Conv {
                weights,
                bias,
                kernel,
                stride,
                pads,
                groups,
            } => {
                let [c, h, w] = [in_shape[0], in_shape[1], in_shape[2]];
                let [_, ho, wo] = [node.shape[0], node.shape[1], node.shape[2]];
                let (cg, c_out) = (c / groups, bias.len());
                let og = c_out / groups;
                let mut y = vec![0.0; c_out * ho * wo];
                for co in 0..c_out {
                    let g = co / og;
                    for oh in 0..ho {
                        for ow in 0..wo {
                            let mut acc = bias[co];
                            for cl in 0..cg {
                                let ci = g * cg + cl;
                                for ki in 0..kernel[0] {
                                    let Some(ih) = (oh * stride[0] + ki).checked_sub(pads[0])
                                    else {
                                        continue;
                                    };
                                    if ih >= h {
                                        continue;
                                    }
                                    for kj in 0..kernel[1] {
                                        let Some(iw) = (ow * stride[1] + kj).checked_sub(pads[1])
                                        else {
                                            continue;
                                        };
                                        if iw >= w {
                                            continue;
                                        }
                                        let wi = ((co * cg + cl) * kernel[0] + ki) * kernel[1] + kj;
                                        acc += weights[wi] * x[(ci * h + ih) * w + iw];
                                    }
                                }
                            }
                            y[(co * ho + oh) * wo + ow] = acc;
                        }
                    }
                }
                y
            }
            Op::AvgPool {
                kernel,
                stride,
                pads,
                count_include_pad,
            } => {
                let [c, h, w] = [in_shape[0], in_shape[1], in_shape[2]];
                let [_, ho, wo] = [node.shape[0], node.shape[1], node.shape[2]];
                let mut y = vec![0.0; c * ho * wo];
                for ch in 0..c {
                    for oh in 0..ho {
                        for ow in 0..wo {
                            let (mut sum, mut count) = (0.0, 0usize);
                            for ki in 0..kernel[0] {
                                for kj in 0..kernel[1] {
                                    let ih = (oh * stride[0] + ki).checked_sub(pads[0]);
                                    let iw = (ow * stride[1] + kj).checked_sub(pads[1]);
                                    if let (Some(ih), Some(iw)) = (ih, iw) {
                                        if ih < h && iw < w {
                                            sum += x[(ch * h + ih) * w + iw];
                                            count += 1;
                                        }
                                    }
                                }
                            }
                            let div = if *count_include_pad {
                                kernel[0] * kernel[1]
                            } else {
                                count
                            };
                            y[(ch * ho + oh) * wo + ow] = sum / div as f64;
                        }
                    }
                }
                y
            }
            Op::GlobalAvgPool => {
                let inner = x.len() / in_shape[0];
                x.chunks(inner)
                    .map(|ch| ch.iter().sum::<f64>() / inner as f64)
                    .collect()
            }
            Op::Affine { scale, shift } => {
                let c = in_shape.first().copied().unwrap_or(1).max(1);
                let inner = (x.len() / c).max(1);
                let at = |v: &[f64], ch: usize| if v.len() == 1 { v[0] } else { v[ch] };
                x.iter()
                    .enumerate()
                    .map(|(i, v)| at(scale, i / inner) * v + at(shift, i / inner))
                    .collect()
            }
            Op::Reshape => x.to_vec(),
            Op::Add => x.iter().zip(inputs[1]).map(|(a, b)| a + b).collect(),
            Op::Square => x.iter().map(|v| v * v).collect(),
            Op::Activation(a) => x.iter().map(|&v| a.apply(v)).collect(),
            Op::Polynomial(c) => x
                .iter()
                .map(|&v| c.iter().rev().fold(0.0, |acc, ck| acc * v + ck))
                .collect(),
        }
    }
}

impl Graph {
    /// Folds every [`Op::Affine`] whose input is a [`Op::Conv`] or
    /// [`Op::Dense`] read by nothing else (and not the output) into that
    /// node's weights and bias — a `BatchNormalization`, or a `Mul` / `Add`
    /// by a constant, after a layer. Returns how many were folded; the
    /// folded layer is named `"<layer>+<affine>"`. Same outputs, fewer nodes.
    pub fn fold_affine(&mut self) -> Result<usize> {
        self.validate()?;
        let n = self.nodes.len();
        let mut consumers = vec![0usize; n + 1];
        for node in &self.nodes {
            for &v in &node.inputs {
                consumers[v] += 1;
            }
        }
        let mut is_output: Vec<bool> = (0..=n).map(|v| v == self.output).collect();
        let mut alias: Vec<ValueId> = (0..=n).collect();
        let mut nodes = self.nodes.clone();
        for i in 0..n {
            for k in 0..nodes[i].inputs.len() {
                nodes[i].inputs[k] = alias[nodes[i].inputs[k]];
            }
            let v = nodes[i].inputs[0];
            let Op::Affine { scale, shift } = nodes[i].op.clone() else {
                continue;
            };
            if v == 0 || consumers[v] != 1 || is_output[v] {
                continue;
            }
            let (head, tail) = nodes.split_at_mut(i);
            let (layer, affine) = (&mut head[v - 1], &tail[0]);
            let channels = layer.shape.first().copied().unwrap_or(1).max(1);
            let at = |x: &[f64], c: usize| if x.len() == 1 { x[0] } else { x[c] };
            let (weights, bias) = match &mut layer.op {
                Op::Dense { weights, bias } | Op::Conv { weights, bias, .. } => (weights, bias),
                _ => continue,
            };
            let (per_out, per_channel) = (weights.len() / bias.len(), bias.len() / channels);
            for (o, b) in bias.iter_mut().enumerate() {
                let c = o / per_channel;
                let (s, t) = (at(&scale, c), at(&shift, c));
                weights[o * per_out..(o + 1) * per_out]
                    .iter_mut()
                    .for_each(|w| *w *= s);
                *b = s * *b + t;
            }
            layer.name = format!("{}+{}", layer.name, affine.name);
            alias[i + 1] = v;
            consumers[v] = consumers[i + 1];
            is_output[v] = is_output[i + 1];
        }
        let mut new_id = vec![0; n + 1];
        let mut kept = Vec::with_capacity(n);
        for (i, node) in nodes.into_iter().enumerate() {
            if alias[i + 1] == i + 1 {
                kept.push(node);
                new_id[i + 1] = kept.len();
            }
        }
        for node in &mut kept {
            node.inputs.iter_mut().for_each(|v| *v = new_id[*v]);
        }
        let folded = n - kept.len();
        self.output = new_id[alias[self.output]];
        self.nodes = kept;
        Ok(folded)
    }
}

impl Activation {
    /// The function itself, in plaintext.
    pub fn apply(self, x: f64) -> f64 {
        match self {
            Self::Relu => x.max(0.0),
            Self::Sigmoid => {
                if x >= 0.0 {
                    1.0 / (1.0 + (-x).exp())
                } else {
                    let e = x.exp();
                    e / (1.0 + e)
                }
            }
            Self::Tanh => x.tanh(),
            Self::Gelu => 0.5 * x * (1.0 + erf(x * std::f64::consts::FRAC_1_SQRT_2)),
        }
    }
}

/// The error function, to about 1e-15 absolute: for |x| < 3 the series
/// `erf x = 2/√π · e^{−x²} · Σ 2ⁿ x^{2n+1} / (1·3·…·(2n+1))` (positive terms,
/// no cancellation), beyond it `1 − erfc x` with erfc from its continued
/// fraction (Abramowitz & Stegun 7.1.14), evaluated backwards.
pub fn erf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    let a = x.abs();
    let two_over_sqrt_pi = std::f64::consts::FRAC_2_SQRT_PI;
    let r = if a < 3.0 {
        let (mut term, mut sum) = (a, a);
        let mut n = 0.0;
        while term > sum * 1e-18 {
            n += 1.0;
            term *= 2.0 * a * a / (2.0 * n + 1.0);
            sum += term;
        }
        two_over_sqrt_pi * (-a * a).exp() * sum
    } else if a < 6.5 {
        let mut t = a;
        for k in (1..=80).rev() {
            t = a + (k as f64 / 2.0) / t;
        }
        1.0 - (-a * a).exp() / (std::f64::consts::PI.sqrt() * t)
    } else {
        1.0
    };
    r.copysign(x)
}

#[cfg(test)]
mod tests;
