//! Plaintext models: logistic regression and a one-hidden-layer MLP with a
//! polynomial activation, trained in Rust (seeded, reproducible), saved and
//! loaded as JSON so that a model trained elsewhere can be used.
//!
//! # JSON schema
//!
//! Logistic regression (as written by [`LogisticRegression::to_json`]):
//!
//! ```json
//! { "type": "logistic_regression", "weights": [0.1, -0.2, ...], "bias": 0.3 }
//! ```
//!
//! [`LogisticRegression::from_json`] also accepts scikit-learn's attribute
//! names and numpy-style nested lists: `"coef": [[...]]` (shape `1 × d` or
//! `d × 1`) and `"intercept": [b]` (a number or a one-element list).
//!
//! MLP (as written by [`Mlp::to_json`]); weights are `out × in` like a
//! PyTorch `nn.Linear.weight` (`y = W x + b`):
//!
//! ```json
//! { "type": "mlp",
//!   "activation": "square",            // or {"poly": [c0, c1, c2, ...]}
//!   "layers": [ { "weight": [[...], ...], "bias": [...] },    // 32 × 64
//!               { "weight": [[...], ...], "bias": [...] } ] } // 10 × 32
//! ```
//!
//! A layer may say `"layout": "in_out"` when its weight is stored `in × out`
//! (numpy `x @ W`, Keras). `"W"`/`"b"` are accepted for `"weight"`/`"bias"`.
//! A PyTorch `state_dict` exported with `{k: v.tolist()}` maps onto this by
//! listing its `*.weight` / `*.bias` pairs under `"layers"`.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde_json::{json, Value};

use crate::data::Dataset;
use crate::error::{Error, Result};

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn check_len(what: &str, got: usize, want: usize) -> Result<()> {
    if got == want {
        Ok(())
    } else {
        Err(Error::Shape(format!(
            "{what}: {got} values, expected {want}"
        )))
    }
}

/// The logistic function.
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// Least-squares odd polynomial approximation of the sigmoid on
/// `[-range, range]`: `0.5 + Σ_k c_{2k+1} z^{2k+1}`, returned in the power
/// basis (`coeffs[i]` multiplies `z^i`), fitted on 2001 evenly spaced points.
///
/// Fit it on the range the model's logits actually take (e.g.
/// [`LogisticRegression::logit_range`] on training data): the common
/// "tutorial" cubic `0.5 + 0.197z − 0.004z³` is only accurate for `|z| ≲ 5`
/// and flips sign for `|z| > 7.02`, which wrecks a well-trained model whose
/// logits reach ±30.
pub fn fit_sigmoid_odd(range: f64, degree: usize) -> Result<Vec<f64>> {
    if !(range.is_finite() && range > 0.0) || degree.is_multiple_of(2) || degree > 15 {
        return Err(Error::OutOfRange(format!(
            "sigmoid fit needs range > 0 and an odd degree ≤ 15 (got {range}, {degree})"
        )));
    }
    let k = degree.div_ceil(2); // unknowns: z, z^3, …, z^degree
    let pts = 2001;
    // Normal equations on the scaled variable t = z / range (well conditioned).
    let mut a = vec![vec![0.0; k + 1]; k];
    for i in 0..pts {
        let t = -1.0 + 2.0 * i as f64 / (pts - 1) as f64;
        let y = sigmoid(t * range) - 0.5;
        let basis: Vec<f64> = (0..k).map(|j| t.powi(2 * j as i32 + 1)).collect();
        for r in 0..k {
            for c in 0..k {
                a[r][c] += basis[r] * basis[c];
            }
            a[r][k] += basis[r] * y;
        }
    }
    // Gaussian elimination with partial pivoting.
    for col in 0..k {
        let piv = (col..k)
            .max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs()))
            .unwrap_or(col);
        a.swap(col, piv);
        let d = a[col][col];
        if d.abs() < 1e-300 {
            return Err(Error::OutOfRange("singular sigmoid fit".into()));
        }
        let pivot_row = a[col].clone();
        for (r, row) in a.iter_mut().enumerate() {
            if r != col {
                let f = row[col] / d;
                for (x, p) in row.iter_mut().zip(&pivot_row).skip(col) {
                    *x -= f * p;
                }
            }
        }
    }
    let mut coeffs = vec![0.0; degree + 1];
    coeffs[0] = 0.5;
    for j in 0..k {
        coeffs[2 * j + 1] = a[j][k] / a[j][j] / range.powi(2 * j as i32 + 1);
    }
    Ok(coeffs)
}

/// Evaluates a power-basis polynomial.
pub fn eval_poly(coeffs: &[f64], x: f64) -> f64 {
    coeffs.iter().rev().fold(0.0, |acc, &c| acc * x + c)
}

/// Index of the largest value (first one on ties; 0 for an empty slice).
pub fn argmax(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, x) in v.iter().enumerate() {
        if *x > v[best] {
            best = i;
        }
    }
    best
}

/// Adam state for a flat parameter vector.
#[derive(Debug, Clone)]
struct Adam {
    m: Vec<f64>,
    v: Vec<f64>,
    t: i32,
    lr: f64,
}

impl Adam {
    fn new(n: usize, lr: f64) -> Self {
        Self {
            m: vec![0.0; n],
            v: vec![0.0; n],
            t: 0,
            lr,
        }
    }

    fn step(&mut self, params: &mut [f64], grad: &[f64]) {
        self.t += 1;
        let (b1, b2) = (0.9f64, 0.999f64);
        let c1 = 1.0 - b1.powi(self.t);
        let c2 = 1.0 - b2.powi(self.t);
        for i in 0..params.len() {
            self.m[i] = b1 * self.m[i] + (1.0 - b1) * grad[i];
            self.v[i] = b2 * self.v[i] + (1.0 - b2) * grad[i] * grad[i];
            params[i] -= self.lr * (self.m[i] / c1) / ((self.v[i] / c2).sqrt() + 1e-8);
        }
    }
}

// ---------------------------------------------------------------- logistic regression

/// Training settings for [`LogisticRegression::fit`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogisticConfig {
    /// Full-batch epochs.
    pub epochs: usize,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// L2 penalty `λ/2 · ‖w‖²` (bias not penalized), added to the mean loss.
    pub l2: f64,
}

impl Default for LogisticConfig {
    fn default() -> Self {
        Self {
            epochs: 300,
            learning_rate: 0.05,
            l2: 1e-2,
        }
    }
}

/// Binary logistic regression `p(y = 1 | x) = σ(w·x + b)`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LogisticRegression {
    /// One weight per feature.
    pub weights: Vec<f64>,
    /// Intercept.
    pub bias: f64,
}

impl LogisticRegression {
    /// All-zero model for `n_features` features.
    pub fn zeros(n_features: usize) -> Self {
        Self {
            weights: vec![0.0; n_features],
            bias: 0.0,
        }
    }

    /// Number of features.
    pub fn n_features(&self) -> usize {
        self.weights.len()
    }

    /// `w·x + b`.
    pub fn logit(&self, x: &[f64]) -> Result<f64> {
        check_len("sample", x.len(), self.weights.len())?;
        Ok(dot(&self.weights, x) + self.bias)
    }

    /// The model as a layer graph (one dense node returning the logit), for
    /// [`crate::inference::Server::compile`].
    pub fn to_graph(&self) -> crate::inference::Graph {
        use crate::inference::graph::{Graph, Node, Op};
        Graph {
            input_shape: vec![self.weights.len()],
            nodes: vec![Node {
                name: "logit".into(),
                op: Op::Dense {
                    weights: self.weights.clone(),
                    bias: vec![self.bias],
                },
                inputs: vec![0],
                shape: vec![1],
            }],
            output: 1,
        }
    }

    /// `σ(w·x + b)`.
    pub fn predict_proba(&self, x: &[f64]) -> Result<f64> {
        Ok(sigmoid(self.logit(x)?))
    }

    /// Class 1 when the logit is positive.
    pub fn predict(&self, x: &[f64]) -> Result<usize> {
        Ok(usize::from(self.logit(x)? > 0.0))
    }

    /// Fraction of `data` classified correctly.
    pub fn accuracy(&self, data: &Dataset) -> Result<f64> {
        if data.is_empty() {
            return Ok(0.0);
        }
        let mut ok = 0usize;
        for (x, &y) in data.x.iter().zip(&data.y) {
            ok += usize::from(self.predict(x)? == y);
        }
        Ok(ok as f64 / data.len() as f64)
    }

    /// Mean binary cross-entropy on `data` plus `l2/2 · ‖w‖²`.
    pub fn loss(&self, data: &Dataset, l2: f64) -> Result<f64> {
        let mut s = 0.0;
        for (x, &y) in data.x.iter().zip(&data.y) {
            let z = self.logit(x)?;
            // log(1 + e^z) − y z, stably
            s += z.max(0.0) + (-z.abs()).exp().ln_1p() - if y == 1 { z } else { 0.0 };
        }
        let n = data.len().max(1) as f64;
        Ok(s / n + 0.5 * l2 * dot(&self.weights, &self.weights))
    }

    /// Gradient of [`loss`](Self::loss): `(∂/∂w, ∂/∂b)`.
    pub fn gradient(&self, data: &Dataset, l2: f64) -> Result<(Vec<f64>, f64)> {
        let mut gw = vec![0.0; self.weights.len()];
        let mut gb = 0.0;
        for (x, &y) in data.x.iter().zip(&data.y) {
            if y > 1 {
                return Err(Error::OutOfRange(format!("label {y} in a binary task")));
            }
            let r = sigmoid(self.logit(x)?) - y as f64;
            for (g, v) in gw.iter_mut().zip(x) {
                *g += r * v;
            }
            gb += r;
        }
        let n = data.len().max(1) as f64;
        for (g, w) in gw.iter_mut().zip(&self.weights) {
            *g = *g / n + l2 * w;
        }
        Ok((gw, gb / n))
    }

    /// One plain gradient-descent step on the whole of `data` (a client's
    /// shard in federated averaging): `θ ← θ − lr · ∇loss`.
    pub fn train_epoch(&mut self, data: &Dataset, learning_rate: f64, l2: f64) -> Result<()> {
        let (gw, gb) = self.gradient(data, l2)?;
        for (w, g) in self.weights.iter_mut().zip(&gw) {
            *w -= learning_rate * g;
        }
        self.bias -= learning_rate * gb;
        Ok(())
    }

    /// Trains from zero with full-batch Adam (deterministic: no randomness).
    pub fn fit(data: &Dataset, config: &LogisticConfig) -> Result<Self> {
        let d = data.n_features();
        let mut model = Self::zeros(d);
        let mut opt = Adam::new(d + 1, config.learning_rate);
        let mut params = vec![0.0; d + 1];
        for _ in 0..config.epochs {
            let (mut g, gb) = model.gradient(data, config.l2)?;
            g.push(gb);
            opt.step(&mut params, &g);
            model.weights.copy_from_slice(&params[..d]);
            model.bias = params[d];
        }
        Ok(model)
    }

    /// Parameters as one vector `[w..., b]` (for aggregation).
    pub fn to_vec(&self) -> Vec<f64> {
        let mut v = self.weights.clone();
        v.push(self.bias);
        v
    }

    /// Inverse of [`to_vec`](Self::to_vec).
    pub fn from_vec(v: &[f64]) -> Result<Self> {
        let (b, w) = v
            .split_last()
            .ok_or_else(|| Error::Shape("empty parameter vector".into()))?;
        Ok(Self {
            weights: w.to_vec(),
            bias: *b,
        })
    }

    /// Smallest and largest logit over `data` (to fit a sigmoid
    /// approximation on the range the model actually produces).
    pub fn logit_range(&self, data: &Dataset) -> Result<(f64, f64)> {
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        for x in &data.x {
            let z = self.logit(x)?;
            lo = lo.min(z);
            hi = hi.max(z);
        }
        Ok((lo, hi))
    }

    /// JSON text (see the module docs for the schema).
    pub fn to_json(&self) -> String {
        json!({"type": "logistic_regression", "weights": self.weights, "bias": self.bias})
            .to_string()
    }

    /// Reads the JSON schema of the module docs (also scikit-learn's
    /// `coef`/`intercept` with nested lists).
    pub fn from_json(text: &str) -> Result<Self> {
        let v: Value = serde_json::from_str(text).map_err(|e| Error::Data(format!("JSON: {e}")))?;
        let obj = v
            .as_object()
            .ok_or_else(|| Error::Data("model JSON is not an object".into()))?;
        if let Some(t) = obj.get("type").and_then(Value::as_str) {
            if t != "logistic_regression" {
                return Err(Error::Data(format!(
                    "model type {t:?}, expected logistic_regression"
                )));
            }
        }
        let w = obj
            .get("weights")
            .or_else(|| obj.get("coef"))
            .or_else(|| obj.get("coef_"))
            .ok_or_else(|| Error::Data("no \"weights\" / \"coef\"".into()))?;
        let weights = flatten_vector(w, "weights")?;
        let bias = match obj
            .get("bias")
            .or_else(|| obj.get("intercept"))
            .or_else(|| obj.get("intercept_"))
        {
            None => 0.0,
            Some(b) => {
                let b = flatten_vector(b, "bias")?;
                check_len("bias", b.len(), 1)?;
                b[0]
            }
        };
        Ok(Self { weights, bias })
    }
}

fn number(v: &Value, what: &str) -> Result<f64> {
    v.as_f64()
        .filter(|x| x.is_finite())
        .ok_or_else(|| Error::Data(format!("{what}: {v} is not a finite number")))
}

/// A number, a list, or a list of lists with one row or one column.
fn flatten_vector(v: &Value, what: &str) -> Result<Vec<f64>> {
    match v {
        Value::Array(items) => {
            if items.iter().all(Value::is_array) {
                let m = matrix(v, what)?;
                if m.len() == 1 || m.iter().all(|r| r.len() == 1) {
                    Ok(m.into_iter().flatten().collect())
                } else {
                    Err(Error::Shape(format!(
                        "{what}: a {} × {} matrix where a vector was expected",
                        m.len(),
                        m.first().map_or(0, Vec::len)
                    )))
                }
            } else {
                items.iter().map(|x| number(x, what)).collect()
            }
        }
        _ => Ok(vec![number(v, what)?]),
    }
}

fn matrix(v: &Value, what: &str) -> Result<Vec<Vec<f64>>> {
    let rows = v
        .as_array()
        .ok_or_else(|| Error::Data(format!("{what}: not a list of lists")))?;
    let m = rows
        .iter()
        .map(|r| {
            r.as_array()
                .ok_or_else(|| Error::Data(format!("{what}: not a list of lists")))?
                .iter()
                .map(|x| number(x, what))
                .collect::<Result<Vec<f64>>>()
        })
        .collect::<Result<Vec<_>>>()?;
    if let Some(first) = m.first() {
        if m.iter().any(|r| r.len() != first.len()) {
            return Err(Error::Shape(format!("{what}: ragged matrix")));
        }
    }
    Ok(m)
}

fn transpose(m: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let cols = m.first().map_or(0, Vec::len);
    (0..cols)
        .map(|j| m.iter().map(|r| r[j]).collect())
        .collect()
}

// ---------------------------------------------------------------- MLP

/// The hidden activation of an [`Mlp`]: a polynomial, so that it can be
/// evaluated on ciphertexts.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Activation {
    /// `x²` (CryptoNets).
    Square,
    /// `Σ cᵢ xⁱ` (power basis, e.g. a low-degree ReLU/sigmoid fit).
    Poly(Vec<f64>),
}

impl Activation {
    /// Value at `x`.
    pub fn eval(&self, x: f64) -> f64 {
        match self {
            Self::Square => x * x,
            Self::Poly(c) => c.iter().rev().fold(0.0, |acc, &ci| acc * x + ci),
        }
    }

    /// Derivative at `x`.
    pub fn derivative(&self, x: f64) -> f64 {
        match self {
            Self::Square => 2.0 * x,
            Self::Poly(c) => c
                .iter()
                .enumerate()
                .skip(1)
                .rev()
                .fold(0.0, |acc, (i, &ci)| acc * x + i as f64 * ci),
        }
    }

    /// Power-basis coefficients.
    pub fn coefficients(&self) -> Vec<f64> {
        match self {
            Self::Square => vec![0.0, 0.0, 1.0],
            Self::Poly(c) => c.clone(),
        }
    }

    /// Degree.
    pub fn degree(&self) -> usize {
        match self {
            Self::Square => 2,
            Self::Poly(c) => c.iter().rposition(|x| *x != 0.0).unwrap_or(0),
        }
    }
}

/// Training settings for [`Mlp::fit`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MlpConfig {
    /// Hidden width.
    pub hidden: usize,
    /// Epochs over the training set.
    pub epochs: usize,
    /// Minibatch size.
    pub batch: usize,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// L2 penalty on the weights (not the biases).
    pub l2: f64,
    /// Seed of the initialization and the minibatch order.
    pub seed: u64,
}

impl Default for MlpConfig {
    fn default() -> Self {
        Self {
            hidden: 32,
            epochs: 100,
            batch: 32,
            learning_rate: 3e-3,
            l2: 1e-4,
            seed: 0,
        }
    }
}

/// `x → W2 · act(W1 x + b1) + b2`: one hidden layer, polynomial activation,
/// logits out (argmax = class).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Mlp {
    /// `hidden × in`.
    pub w1: Vec<Vec<f64>>,
    /// `hidden`.
    pub b1: Vec<f64>,
    /// `out × hidden`.
    pub w2: Vec<Vec<f64>>,
    /// `out`.
    pub b2: Vec<f64>,
    /// Hidden activation.
    pub activation: Activation,
}

impl Mlp {
    /// Builds an MLP, checking the shapes.
    pub fn new(
        w1: Vec<Vec<f64>>,
        b1: Vec<f64>,
        w2: Vec<Vec<f64>>,
        b2: Vec<f64>,
        activation: Activation,
    ) -> Result<Self> {
        let m = Self {
            w1,
            b1,
            w2,
            b2,
            activation,
        };
        m.validate()?;
        Ok(m)
    }

    fn validate(&self) -> Result<()> {
        let (h, d, k) = (self.w1.len(), self.n_inputs(), self.w2.len());
        if h == 0 || d == 0 || k == 0 {
            return Err(Error::Shape("empty layer".into()));
        }
        if self.w1.iter().any(|r| r.len() != d) {
            return Err(Error::Shape("W1 is ragged".into()));
        }
        check_len("b1", self.b1.len(), h)?;
        if self.w2.iter().any(|r| r.len() != h) {
            return Err(Error::Shape(format!(
                "W2 rows must have {h} (hidden) entries"
            )));
        }
        check_len("b2", self.b2.len(), k)?;
        Ok(())
    }

    /// Input width.
    pub fn n_inputs(&self) -> usize {
        self.w1.first().map_or(0, Vec::len)
    }

    /// Hidden width.
    pub fn n_hidden(&self) -> usize {
        self.w1.len()
    }

    /// Number of outputs (classes).
    pub fn n_outputs(&self) -> usize {
        self.w2.len()
    }

    /// Hidden pre-activations `W1 x + b1`.
    pub fn hidden_pre(&self, x: &[f64]) -> Result<Vec<f64>> {
        check_len("sample", x.len(), self.n_inputs())?;
        Ok(self
            .w1
            .iter()
            .zip(&self.b1)
            .map(|(r, b)| dot(r, x) + b)
            .collect())
    }

    /// The model as a layer graph (dense, the activation polynomial, dense),
    /// for [`crate::inference::Server::compile`].
    pub fn to_graph(&self) -> crate::inference::Graph {
        use crate::inference::graph::{Graph, Node, Op};
        let dense = |name: &str, w: &[Vec<f64>], b: &[f64], input: usize| Node {
            name: name.into(),
            op: Op::Dense {
                weights: w.iter().flatten().copied().collect(),
                bias: b.to_vec(),
            },
            inputs: vec![input],
            shape: vec![b.len()],
        };
        Graph {
            input_shape: vec![self.n_inputs()],
            nodes: vec![
                dense("layer1", &self.w1, &self.b1, 0),
                Node {
                    name: "activation".into(),
                    op: Op::Polynomial(self.activation.coefficients()),
                    inputs: vec![1],
                    shape: vec![self.b1.len()],
                },
                dense("layer2", &self.w2, &self.b2, 2),
            ],
            output: 3,
        }
    }

    /// The logits.
    pub fn logits(&self, x: &[f64]) -> Result<Vec<f64>> {
        let h: Vec<f64> = self
            .hidden_pre(x)?
            .into_iter()
            .map(|a| self.activation.eval(a))
            .collect();
        Ok(self
            .w2
            .iter()
            .zip(&self.b2)
            .map(|(r, b)| dot(r, &h) + b)
            .collect())
    }

    /// Argmax of the logits.
    pub fn predict(&self, x: &[f64]) -> Result<usize> {
        Ok(argmax(&self.logits(x)?))
    }

    /// Fraction of `data` classified correctly.
    pub fn accuracy(&self, data: &Dataset) -> Result<f64> {
        if data.is_empty() {
            return Ok(0.0);
        }
        let mut ok = 0usize;
        for (x, &y) in data.x.iter().zip(&data.y) {
            ok += usize::from(self.predict(x)? == y);
        }
        Ok(ok as f64 / data.len() as f64)
    }

    /// Smallest and largest hidden pre-activation over `data` (the interval
    /// a polynomial activation must be accurate on).
    pub fn hidden_range(&self, data: &Dataset) -> Result<(f64, f64)> {
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        for x in &data.x {
            for a in self.hidden_pre(x)? {
                lo = lo.min(a);
                hi = hi.max(a);
            }
        }
        Ok((lo, hi))
    }

    /// Trains with minibatch Adam on softmax cross-entropy; seeded and
    /// reproducible (Gaussian init `N(0, 1/fan_in)`).
    pub fn fit(data: &Dataset, activation: Activation, config: &MlpConfig) -> Result<Self> {
        let d = data.n_features();
        let k = data.n_classes();
        let h = config.hidden;
        if d == 0 || k < 2 || h == 0 || config.batch == 0 {
            return Err(Error::Shape(
                "MLP training needs features, ≥ 2 classes and a hidden layer".into(),
            ));
        }
        let mut rng = ChaCha20Rng::seed_from_u64(config.seed);
        let mut gauss = |sd: f64| -> f64 {
            // Box–Muller
            let u1: f64 = rng.gen::<f64>().max(1e-300);
            let u2: f64 = rng.gen();
            sd * (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
        };
        // flat parameter layout: W1 (h×d), b1 (h), W2 (k×h), b2 (k)
        let (o_b1, o_w2, o_b2) = (h * d, h * d + h, h * d + h + k * h);
        let n_par = o_b2 + k;
        let mut p = vec![0.0; n_par];
        let sd1 = 1.0 / (d as f64).sqrt();
        let sd2 = 1.0 / (h as f64).sqrt();
        for v in &mut p[..o_b1] {
            *v = gauss(sd1);
        }
        for v in &mut p[o_w2..o_b2] {
            *v = gauss(sd2);
        }
        let mut rng = ChaCha20Rng::seed_from_u64(config.seed.wrapping_add(1));
        let mut opt = Adam::new(n_par, config.learning_rate);
        let mut idx: Vec<usize> = (0..data.len()).collect();
        let mut g = vec![0.0; n_par];
        let mut a1 = vec![0.0; h];
        let mut hv = vec![0.0; h];
        let mut o = vec![0.0; k];
        let mut g_h = vec![0.0; h];
        for _ in 0..config.epochs {
            idx.shuffle(&mut rng);
            for batch in idx.chunks(config.batch) {
                g.iter_mut().for_each(|x| *x = 0.0);
                let inv = 1.0 / batch.len() as f64;
                for &s in batch {
                    let x = &data.x[s];
                    let y = data.y[s];
                    for j in 0..h {
                        a1[j] = dot(&p[j * d..(j + 1) * d], x) + p[o_b1 + j];
                        hv[j] = activation.eval(a1[j]);
                    }
                    for c in 0..k {
                        o[c] = dot(&p[o_w2 + c * h..o_w2 + (c + 1) * h], &hv) + p[o_b2 + c];
                    }
                    let mx = o.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                    let mut z = 0.0;
                    for v in o.iter_mut() {
                        *v = (*v - mx).exp();
                        z += *v;
                    }
                    g_h.iter_mut().for_each(|x| *x = 0.0);
                    for c in 0..k {
                        let go = (o[c] / z - f64::from(u8::from(c == y))) * inv;
                        g[o_b2 + c] += go;
                        let row = o_w2 + c * h;
                        for j in 0..h {
                            g[row + j] += go * hv[j];
                            g_h[j] += go * p[row + j];
                        }
                    }
                    for j in 0..h {
                        let ga = g_h[j] * activation.derivative(a1[j]);
                        g[o_b1 + j] += ga;
                        for (gi, xi) in g[j * d..(j + 1) * d].iter_mut().zip(x) {
                            *gi += ga * xi;
                        }
                    }
                }
                for i in (0..o_b1).chain(o_w2..o_b2) {
                    g[i] += config.l2 * p[i];
                }
                opt.step(&mut p, &g);
            }
        }
        let w1 = (0..h).map(|j| p[j * d..(j + 1) * d].to_vec()).collect();
        let b1 = p[o_b1..o_w2].to_vec();
        let w2 = (0..k)
            .map(|c| p[o_w2 + c * h..o_w2 + (c + 1) * h].to_vec())
            .collect();
        let b2 = p[o_b2..].to_vec();
        Self::new(w1, b1, w2, b2, activation)
    }

    /// JSON text (see the module docs for the schema).
    pub fn to_json(&self) -> String {
        let act = match &self.activation {
            Activation::Square => json!("square"),
            Activation::Poly(c) => json!({ "poly": c }),
        };
        json!({
            "type": "mlp",
            "activation": act,
            "layers": [
                {"weight": self.w1, "bias": self.b1},
                {"weight": self.w2, "bias": self.b2},
            ],
        })
        .to_string()
    }

    /// Reads the JSON schema of the module docs.
    pub fn from_json(text: &str) -> Result<Self> {
        let v: Value = serde_json::from_str(text).map_err(|e| Error::Data(format!("JSON: {e}")))?;
        let obj = v
            .as_object()
            .ok_or_else(|| Error::Data("model JSON is not an object".into()))?;
        if let Some(t) = obj.get("type").and_then(Value::as_str) {
            if t != "mlp" {
                return Err(Error::Data(format!("model type {t:?}, expected mlp")));
            }
        }
        let activation = match obj.get("activation") {
            None => Activation::Square,
            Some(Value::String(s)) if s == "square" => Activation::Square,
            Some(Value::Object(a)) => match a.get("poly") {
                Some(c) => Activation::Poly(flatten_vector(c, "activation")?),
                None => return Err(Error::Data("activation object without \"poly\"".into())),
            },
            Some(a) => return Err(Error::Data(format!("unknown activation {a}"))),
        };
        let layers = obj
            .get("layers")
            .and_then(Value::as_array)
            .ok_or_else(|| Error::Data("no \"layers\" list".into()))?;
        if layers.len() != 2 {
            return Err(Error::Shape(format!(
                "{} layers; this MLP has exactly 2 (one hidden layer)",
                layers.len()
            )));
        }
        let mut parsed = Vec::new();
        for (i, l) in layers.iter().enumerate() {
            let w = l
                .get("weight")
                .or_else(|| l.get("W"))
                .ok_or_else(|| Error::Data(format!("layer {i}: no \"weight\"")))?;
            let mut w = matrix(w, "weight")?;
            if l.get("layout").and_then(Value::as_str) == Some("in_out") {
                w = transpose(&w);
            }
            let b = match l.get("bias").or_else(|| l.get("b")) {
                Some(b) => flatten_vector(b, "bias")?,
                None => vec![0.0; w.len()],
            };
            parsed.push((w, b));
        }
        let (w2, b2) = parsed.pop().unwrap_or_default();
        let (w1, b1) = parsed.pop().unwrap_or_default();
        Self::new(w1, b1, w2, b2, activation)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::data;

    #[test]
    fn logistic_regression_trains() {
        let s = data::breast_cancer_split(0).unwrap();
        let m = LogisticRegression::fit(&s.train, &LogisticConfig::default()).unwrap();
        let acc = m.accuracy(&s.test).unwrap();
        assert!(acc > 0.94, "{acc}");
        let m2 = LogisticRegression::from_json(&m.to_json()).unwrap();
        // serde_json's float parsing may be off by one ulp
        for (a, b) in m.weights.iter().zip(&m2.weights) {
            assert!((a - b).abs() <= 1e-15 * a.abs().max(1.0));
        }
        assert!((m.bias - m2.bias).abs() < 1e-15 * m.bias.abs().max(1.0));
        let sk = r#"{"coef": [[1.0, 2.0]], "intercept": [0.5]}"#;
        let m3 = LogisticRegression::from_json(sk).unwrap();
        assert_eq!(m3.weights, vec![1.0, 2.0]);
        assert_eq!(m3.bias, 0.5);
    }

    #[test]
    fn sigmoid_fit_tracks_the_sign() {
        let c = fit_sigmoid_odd(30.0, 3).unwrap();
        for z in [-30.0, -10.0, -1.0, 1.0, 10.0, 30.0] {
            assert_eq!(eval_poly(&c, z) > 0.5, z > 0.0, "z = {z}");
        }
        // the tutorial cubic flips sign beyond 7.02
        let tut = [0.5, 0.197, 0.0, -0.004];
        assert!(eval_poly(&tut, 8.0) < 0.5);
        let c7 = fit_sigmoid_odd(8.0, 7).unwrap();
        for i in -80..=80 {
            let z = i as f64 / 10.0;
            let e = (eval_poly(&c7, z) - sigmoid(z)).abs();
            assert!(e < 0.05, "z = {z}: {e}");
        }
        assert!(fit_sigmoid_odd(5.0, 2).is_err());
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let s = data::breast_cancer_split(1).unwrap();
        let mut m = LogisticRegression::zeros(30);
        m.weights[3] = 0.2;
        m.bias = -0.1;
        let (gw, gb) = m.gradient(&s.train, 0.1).unwrap();
        let eps = 1e-6;
        let mut p = m.clone();
        p.weights[3] += eps;
        let fd = (p.loss(&s.train, 0.1).unwrap() - m.loss(&s.train, 0.1).unwrap()) / eps;
        assert!((fd - gw[3]).abs() < 1e-4);
        let mut p = m.clone();
        p.bias += eps;
        let fd = (p.loss(&s.train, 0.1).unwrap() - m.loss(&s.train, 0.1).unwrap()) / eps;
        assert!((fd - gb).abs() < 1e-4);
    }

    #[test]
    fn mlp_json_roundtrip_and_layouts() {
        let m = Mlp::new(
            vec![vec![1.0, 2.0], vec![3.0, 4.0], vec![5.0, 6.0]],
            vec![0.1, 0.2, 0.3],
            vec![vec![1.0, 0.0, -1.0]],
            vec![0.5],
            Activation::Poly(vec![0.0, 0.5, 0.25]),
        )
        .unwrap();
        assert_eq!(Mlp::from_json(&m.to_json()).unwrap(), m);
        let t = r#"{"layers":[{"W":[[1,3,5],[2,4,6]],"b":[0.1,0.2,0.3],"layout":"in_out"},
                              {"weight":[[1,0,-1]],"bias":[0.5]}],
                    "activation":{"poly":[0,0.5,0.25]}}"#;
        assert_eq!(Mlp::from_json(t).unwrap(), m);
        assert!(matches!(
            Mlp::from_json(
                r#"{"layers":[{"weight":[[1,2]],"bias":[0]},{"weight":[[1,2]],"bias":[0]}]}"#
            ),
            Err(Error::Shape(_))
        ));
    }
}
