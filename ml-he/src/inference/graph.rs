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
pub fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

#[allow(dead_code)]
fn _types_only(_: &Graph) -> Result<()> {
    Err(Error::Shape("placeholder".into()))
}
