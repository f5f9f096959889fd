//! Encrypted inference with CKKS: the client encrypts its features, the
//! server evaluates its plaintext model on the ciphertexts without any
//! secret key, the client decrypts the scores.
//!
//! ## Models
//!
//! * **Any ONNX model** of the operators small and medium networks use
//!   ([`onnx`]: Gemm, MatMul + Add, Conv, average pooling, batch
//!   normalization, reshapes, squares, ReLU / sigmoid / tanh / GELU, and
//!   scikit-learn's exports) becomes a layer [`Graph`] with a plaintext
//!   reference evaluator; [`Server::compile`] turns it into an encrypted
//!   circuit — slot layouts, rotation keys, depth, scales, CKKS parameters
//!   at 128-bit security and a checked plan, reported before anything runs
//!   ([`CompileReport`]; see [`compile`]); a graph deeper than the chain is
//!   bootstrapped where its levels run out ([`bootstrap`]).
//! * The fixed circuits below ([`Server::logistic`], [`Server::mlp`]) for
//!   models trained in [`crate::model`] or loaded from JSON.
//!
//! Both speak the same messages, and one [`Client`] serves every server.
//!
//! ```no_run
//! use ml_he::inference::{onnx, Client, CompileOptions, Server};
//!
//! # fn main() -> Result<(), ml_he::Error> {
//! let graph = onnx::import_file("data/models/mnist_cnn_tenseal.onnx")?;
//! # let calibration_images: Vec<Vec<f64>> = vec![vec![0.5; 784]];
//! # let image = vec![0.5; 784];
//! let server = Server::compile(&graph, &calibration_images, &CompileOptions::default())?;
//! println!("{}", server.report().expect("compiled"));
//! let mut client = Client::new(server.setup())?;
//! let keys = server.read_keys(&client.evaluation_keys()?.to_bytes())?;
//! let response = server.evaluate_bytes(&keys, &client.encrypt(&image)?.to_bytes())?;
//! let logits = client.decrypt_bytes(&response)?.remove(0);
//! # let _ = logits;
//! # Ok(())
//! # }
//! ```
//!
//! ## Roles and messages
//!
//! ```text
//!  Server (model owner, computing party)         Client (input + result party)
//!  Server::logistic / Server::mlp
//!  ── setup().to_bytes() ───────────────────────▶ Client::new(&PublicSetup)
//!                                                 (secret key stays here)
//!  ◀──────────────────── evaluation_keys().to_bytes()   (once)
//!  ◀──────────────────── encrypt(x) / encrypt_batch(xs) → Query::to_bytes()
//!  evaluate(&keys, &query) → Response::to_bytes() ───▶ decrypt(&response)
//! ```
//!
//! ```
//! use ml_he::inference::{Client, Packing, PublicSetup, Server};
//! use ml_he::model::LogisticRegression;
//!
//! # fn main() -> Result<(), ml_he::Error> {
//! // server (model owner): publishes the setup, never sees a secret key
//! let model = LogisticRegression { weights: vec![0.5, -1.0, 2.0], bias: 0.25 };
//! let server = Server::logistic(&model, Packing::PerSample)?;
//! let setup_bytes = server.setup().to_bytes();
//!
//! // client (input and result party): keys, encryption
//! let mut client = Client::new(&PublicSetup::from_bytes(&setup_bytes)?)?;
//! let keys_bytes = client.evaluation_keys()?.to_bytes();
//! let query_bytes = client.encrypt(&[1.0, 2.0, 3.0])?.to_bytes();
//!
//! // server: evaluates on ciphertexts with public keys only
//! let keys = server.read_keys(&keys_bytes)?;
//! let response_bytes = server.evaluate_bytes(&keys, &query_bytes)?;
//!
//! // client: decrypts the logit (and applies the exact sigmoid itself)
//! let logit = client.decrypt_bytes(&response_bytes)?[0][0];
//! assert!((logit - model.logit(&[1.0, 2.0, 3.0])?).abs() < 1e-3);
//! # Ok(())
//! # }
//! ```
//!
//! Everything that crosses is a serialized public object ([`PublicSetup`],
//! [`EvaluationKeys`], [`Query`], [`Response`]); the server never sees the
//! secret key, the client never sees the weights (only the scores, as with
//! any prediction API).
//!
//! ## Packings
//!
//! * [`Packing::PerSample`] (latency): one sample per ciphertext.
//!   - Logistic regression: the sample is tiled with period 32 over all
//!     slots, one plaintext product with the (tiled) weights, `log2 32 = 5`
//!     rotations sum each window, the bias is added: every slot holds the
//!     logit, no slot holds a partial sum that would expose single weights.
//!   - MLP, first layer: the client lays the sample out in
//!     [`InputLayout::RotatedBlocks`] (block `b` holds `x` rotated by `b`),
//!     i.e. it does the baby-step rotations of the diagonal method in the
//!     clear; the server does one plaintext product, one rescale and
//!     `log2(4096/64) = 6` rotations on one limb fewer. The result is tiled
//!     with period 32; the bias is tiled too, so the replicated layout the
//!     next layer reads stays intact (a bias added to the first 32 slots
//!     only would break it). Layers wider than their input fall back to the
//!     BSGS diagonal method.
//!   - MLP, second layer: diagonal method for the rectangular (padded)
//!     16 × 32 matrix with baby-step giant-step rotations (hoisted baby
//!     steps) and one folding rotation; no rescale after a square, one
//!     rescale (on level 1) after a linear activation.
//! * [`Packing::Batch`] (throughput): one sample per slot, one ciphertext
//!   per feature; dot products are scalar multiplications accumulated in
//!   128 bits and reduced once, no rotation and no Galois key at all.
//!
//! ## Parameters and scale/level plans (128-bit security)
//!
//! * Logistic regression ([`LogisticOutput::Logit`]): N = 4096, `Q = [50]`,
//!   `P = [50]` bits (100 ≤ 109). Features at scale 2^22, weights at 2^18;
//!   the product is never rescaled, so a single prime suffices: the logit
//!   sits at scale 2^40 on level 0 and must stay below `q_0/2^42 ≈ 2^8`.
//!   The client applies the exact sigmoid (σ is invertible: a sigmoid
//!   computed under encryption reveals exactly as much as the logit).
//! * Logistic regression with [`LogisticOutput::Sigmoid`]: N = 8192,
//!   `Q = [40, 30 × (depth + 1)]`, `P = [40]`: `u = z/R` at scale 2^30 (1/R
//!   folded into the weights), then the fitted odd polynomial in `u`; the
//!   output at scale 2^30 on level 0 must stay below `q_0/2^32 ≈ 2^8`.
//! * MLP: N = 8192, `Q = [60, 38, 30]`, `P = [60]` bits (188 ≤ 218). Input
//!   at 2^30 on level 2, layer 1 at scale `q_2` and one rescale (scale
//!   stays 2^30, level 1). Square activation: square + rescale by `q_1`
//!   (scale ≈ 2^22, level 0), layer 2 at 2^19 with no rescale: logits at
//!   scale ≈ 2^41 on level 0, below `q_0/2^43 ≈ 2^17`. Linear activation
//!   (degree ≤ 1, e.g. scikit-learn's `identity`): no square, so layer 2
//!   is evaluated on level 1 with its weights at scale `q_1` and one
//!   rescale: logits at 2^30 on level 0, below `2^28`. A quadratic
//!   activation `c_2a² + c_1a + c_0` is folded into a pure square (shift
//!   into `b_1`, `c_2` into `W_2`, constant into `b_2`), a linear one into
//!   `W_2`, `b_2`. `q_0` and the special prime are 60 bits (outside the
//!   AVX-512 IFMA fast path of primes below 2^50): `q_0` holds the logits
//!   of the square network with 17 bits of headroom instead of 8, enough
//!   for the worst case of trained networks on unit-range inputs.
//!
//! ## The plan check (no output can wrap)
//!
//! A value `v` at scale Δ on level `l` decrypts correctly only while
//! `|v|·Δ` stays below `Q_l/2` (`Q_l = q_0⋯q_l`); beyond, the client
//! decrypts `v` modulo `Q_l/Δ` — a wrong answer with nothing to show for
//! it. Every server therefore computes its circuit's plan when it is set
//! up ([`Server::plan`], [`CircuitPlan`]): for each stage (input, layer 1,
//! the square, the logits; the logit, `u = z/R`, the Chebyshev basis and
//! the polynomial for the sigmoid) its level, its scale, the largest
//! absolute value inputs with `|x_i| ≤ max_abs_input` can put in any slot
//! (interval arithmetic over the folded weights, partial sums of the
//! rotations and weighted sums included) and the capacity
//! `Q_l/(4·Δ)` (half the centered range: the other half covers noise and
//! rounding). A product before its rescale (level `l + 1`, scale
//! `Δ·q_{l+1}`) has the same capacity as after it, so each stage is checked
//! once; the output stage is the one that binds in practice. A stage whose
//! bound exceeds its capacity is refused with [`Error::PlanOverflow`]
//! naming the stage; responses are checked against the plan's output level
//! and scale.
//!
//! The input bound the client enforces ([`PublicSetup::max_abs_input`]) is
//! derived from the weights: the largest bound (three significant digits,
//! between 1 and 1024) for which the plan holds. [`Server::mlp`] and
//! [`Server::logistic`] refuse a model that cannot take inputs in
//! `[−1, 1]`; [`Server::mlp_with_input_bound`] and
//! [`Server::logistic_with_input_bound`] take the bound a deployment needs
//! and refuse the model if the plan cannot hold it. The bounds are worst
//! cases (every feature at ±bound with the signs that add up), so real
//! outputs stay far below the capacities.
//!
//! Not provided: circuit privacy (the server does not flood the noise of
//! its response, so a client that keeps its secret key could in principle
//! learn more about the weights than the scores reveal).

pub mod bootstrap;
mod circuit;
pub mod compile;
pub mod graph;
mod layout;
mod lower;
pub mod onnx;
mod report;

pub use bootstrap::{BootstrapOptions, BootstrapRing, Bootstrapping};
pub use compile::{ActivationInfo, BootstrapReport, CompileOptions, CompileReport, StepReport};
pub use graph::Graph;

use rayon::prelude::*;

use ckks::{Ciphertext, Evaluator, GaloisKeys, Parameters, Plaintext, Polynomial, RelinKey};
use rlwe::poly::Poly;

use crate::error::{Error, Result};
mod client;
mod fixed;
mod messages;
mod plan;

pub use client::{Client, InputPolicy};
pub use fixed::LogisticOutput;
pub(crate) use fixed::*;
pub use messages::{
    BootstrapSetup, EvaluationKeys, InputLayout, ModelShape, Packing, PublicSetup, Query, Response,
};
pub(crate) use plan::*;
pub use plan::{CircuitPlan, PlanStage};

// ---------------------------------------------------------------- server

struct MlpCircuit {
    l1: FirstLayer,
    b1: Plaintext,
    square: bool,
    l2: Diagonals,
    b2: Plaintext,
}

enum Evaluation {
    Graph(Box<circuit::GraphCircuit>),
    LogisticSample {
        weights: Plaintext,
        bias: f64,
        count: usize,
        sigmoid: Option<Polynomial>,
    },
    LogisticBatch {
        weights: Vec<f64>,
        bias: f64,
        weight_scale: f64,
        sigmoid: Option<Polynomial>,
    },
    MlpSample(Box<MlpCircuit>),
    MlpBatch {
        model: Folded,
        /// Layer 2's weight scale, and whether it is rescaled (by `q_1`:
        /// linear activation).
        w2_scale: f64,
        rescale2: bool,
    },
}

/// The computing party: holds the plaintext model and, per client, only
/// public evaluation keys.
pub struct Server {
    setup: PublicSetup,
    params: Parameters,
    eval: Evaluator,
    evaluation: Evaluation,
    plan: CircuitPlan,
    report: Option<compile::CompileReport>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("setup", &self.setup)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// The circuit's scale and level plan, checked at setup: per stage the
    /// level, the scale, the largest value the input bound and the weights
    /// allow, and the largest value the modulus holds there.
    pub fn plan(&self) -> &CircuitPlan {
        &self.plan
    }

    /// What the server publishes to its clients.
    pub fn setup(&self) -> &PublicSetup {
        &self.setup
    }

    /// The CKKS parameters.
    pub fn parameters(&self) -> &Parameters {
        &self.params
    }

    /// Reads a client's evaluation keys (checked against the parameters).
    pub fn read_keys(&self, bytes: &[u8]) -> Result<EvaluationKeys> {
        EvaluationKeys::from_bytes(&self.params, bytes)
    }

    /// Reads a query (checked against the parameters).
    pub fn read_query(&self, bytes: &[u8]) -> Result<Query> {
        Query::from_bytes(&self.params, bytes)
    }

    /// Bytes in, bytes out: reads the query, evaluates, serializes the
    /// response.
    pub fn evaluate_bytes(&self, keys: &EvaluationKeys, query: &[u8]) -> Result<Vec<u8>> {
        Ok(self.evaluate(keys, &self.read_query(query)?)?.to_bytes())
    }

    fn check_query(&self, q: &Query) -> Result<()> {
        let want = self.setup.ciphertexts_for(q.samples);
        if q.ciphertexts.len() != want {
            return Err(Error::Shape(format!(
                "query has {} ciphertexts, expected {want} for {} sample(s)",
                q.ciphertexts.len(),
                q.samples
            )));
        }
        if q.samples == 0 {
            return Err(Error::Shape("query without samples".into()));
        }
        if self.setup.packing == Packing::Batch && q.samples > self.params.slots() {
            return Err(Error::Shape(format!(
                "{} samples in a batch of {} slots",
                q.samples,
                self.params.slots()
            )));
        }
        for ct in &q.ciphertexts {
            if ct.params() != &self.params {
                return Err(Error::Ckks(ckks::Error::ParameterMismatch {
                    what: "query and server",
                }));
            }
            if ct.level() < self.setup.input_level || ct.len() != 2 {
                return Err(Error::Ckks(ckks::Error::InvalidLevel {
                    what: "query ciphertext below the input level",
                    got: ct.level(),
                    max: self.setup.input_level,
                }));
            }
            let ratio = ct.scale() / self.setup.input_scale;
            if !(0.999..=1.001).contains(&ratio) {
                return Err(Error::OutOfRange(format!(
                    "query scale 2^{:.2}, expected 2^{:.2}",
                    ct.scale().log2(),
                    self.setup.input_scale.log2()
                )));
            }
        }
        Ok(())
    }

    /// Every response ciphertext must sit where the checked plan says the
    /// output is: a circuit that drifted off its plan is an error, never
    /// an unchecked answer.
    fn check_response(&self, cts: &[Ciphertext]) -> Result<()> {
        let out = self
            .plan
            .output()
            .ok_or_else(|| Error::Shape("internal: empty circuit plan".into()))?;
        for ct in cts {
            if ct.level() != out.level {
                return Err(Error::Ckks(ckks::Error::InvalidLevel {
                    what: "response level differs from the circuit plan",
                    got: ct.level(),
                    max: out.level,
                }));
            }
            if ((ct.scale() - out.scale) / out.scale).abs() > 1e-9 {
                return Err(Error::Ckks(ckks::Error::ScaleMismatch {
                    what: "response scale differs from the circuit plan",
                    left_bits: ct.scale().log2(),
                    right_bits: out.scale.log2(),
                }));
            }
        }
        Ok(())
    }

    fn galois<'a>(&self, keys: &'a EvaluationKeys) -> Result<&'a GaloisKeys> {
        keys.galois.as_ref().ok_or_else(|| Error::Malformed {
            what: "evaluation keys",
            reason: "no rotation keys (per-sample packing needs them)".into(),
        })
    }

    fn relin<'a>(&self, keys: &'a EvaluationKeys) -> Result<&'a RelinKey> {
        keys.relin
            .as_ref()
            .or(keys.bootstrap.as_ref().map(|b| &b.rlk))
            .ok_or_else(|| Error::Malformed {
                what: "evaluation keys",
                reason: "no relinearization key (the square needs it)".into(),
            })
    }

    fn boot_keys<'a>(
        &self,
        keys: &'a EvaluationKeys,
    ) -> Result<&'a ckks::bootstrap::BootstrapKeys> {
        keys.bootstrap.as_ref().ok_or_else(|| Error::Malformed {
            what: "evaluation keys",
            reason: "no bootstrapping keys (the circuit bootstraps)".into(),
        })
    }

    /// Evaluates the model on an encrypted query.
    pub fn evaluate(&self, keys: &EvaluationKeys, query: &Query) -> Result<Response> {
        self.check_query(query)?;
        let ev = &self.eval;
        let ciphertexts = match &self.evaluation {
            Evaluation::Graph(c) => self.evaluate_graph(c, keys, query)?,
            Evaluation::LogisticSample {
                weights,
                bias,
                count,
                sigmoid,
            } => {
                let gks = self.galois(keys)?;
                let rlk = match sigmoid {
                    Some(_) => Some(self.relin(keys)?),
                    None => None,
                };
                query
                    .ciphertexts
                    .par_iter()
                    .map(|ct| {
                        let ct = ev.drop_to_level(ct, weights.level())?;
                        let mut p = ev.mul_plain(&ct, weights)?;
                        if p.level() > 0 {
                            p = ev.rescale(&p)?;
                        }
                        let z = ev.add_const(&ev.sum_slots(&p, *count, gks)?, *bias)?;
                        match (sigmoid, rlk) {
                            (Some(poly), Some(rlk)) => Ok(ev.evaluate_polynomial(&z, poly, rlk)?),
                            _ => Ok(z),
                        }
                    })
                    .collect::<Result<Vec<_>>>()?
            }
            Evaluation::LogisticBatch {
                weights,
                bias,
                weight_scale,
                sigmoid,
            } => {
                let level = self.setup.input_level;
                let xs = query
                    .ciphertexts
                    .iter()
                    .map(|ct| ev.drop_to_level(ct, level))
                    .collect::<ckks::Result<Vec<_>>>()?;
                let mut z = weighted_sum(ev, &xs, weights, *weight_scale)?;
                if level > 0 {
                    z = ev.rescale(&z)?;
                }
                let z = ev.add_const(&z, *bias)?;
                match sigmoid {
                    Some(poly) => vec![ev.evaluate_polynomial(&z, poly, self.relin(keys)?)?],
                    None => vec![z],
                }
            }
            Evaluation::MlpSample(c) => {
                let MlpCircuit {
                    l1,
                    b1,
                    square,
                    l2,
                    b2,
                } = c.as_ref();
                let gks = self.galois(keys)?;
                let rlk = if *square {
                    Some(self.relin(keys)?)
                } else {
                    None
                };
                query
                    .ciphertexts
                    .par_iter()
                    .map(|ct| {
                        let a = ev.add_plain(&l1.apply(ev, ct, gks)?, b1)?;
                        let h = match rlk {
                            Some(rlk) => ev.mul_relin_rescale(&a, &a, rlk)?,
                            None => a,
                        };
                        let o = l2.apply(ev, &h, gks)?;
                        Ok(ev.add_plain(&o, b2)?)
                    })
                    .collect::<Result<Vec<_>>>()?
            }
            Evaluation::MlpBatch {
                model,
                w2_scale,
                rescale2,
            } => {
                let rlk = if model.square {
                    Some(self.relin(keys)?)
                } else {
                    None
                };
                let xs = query
                    .ciphertexts
                    .iter()
                    .map(|ct| ev.drop_to_level(ct, 2))
                    .collect::<ckks::Result<Vec<_>>>()?;
                let q2 = self.params.q(2)? as f64;
                let hidden = model
                    .w1
                    .par_iter()
                    .zip(&model.b1)
                    .map(|(row, &b)| {
                        let z = weighted_sum(ev, &xs, row, q2)?;
                        let z = ev.add_const(&ev.rescale(&z)?, b)?;
                        Ok(match rlk {
                            Some(rlk) => ev.mul_relin_rescale(&z, &z, rlk)?,
                            None => z,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                model
                    .w2
                    .par_iter()
                    .zip(&model.b2)
                    .map(|(row, &b)| {
                        let mut z = weighted_sum(ev, &hidden, row, *w2_scale)?;
                        if *rescale2 {
                            z = ev.rescale(&z)?;
                        }
                        Ok(ev.add_const(&z, b)?)
                    })
                    .collect::<Result<Vec<_>>>()?
            }
        };
        self.check_response(&ciphertexts)?;
        Ok(Response {
            samples: query.samples,
            ciphertexts,
        })
    }
}

fn pad(v: &[f64], n: usize) -> Vec<f64> {
    let mut out = v.to_vec();
    out.resize(n, 0.0);
    out
}

/// `Σ_i w_i·ct_i` with the weights encoded as the integers
/// `round(w_i·scale)` (not rescaled): one pass over the residues with
/// 128-bit lazy accumulation and one modular reduction per coefficient,
/// instead of a multiplication, a reduction and a new ciphertext per term.
/// The inputs must share level and scale.
fn weighted_sum(ev: &Evaluator, cts: &[Ciphertext], w: &[f64], scale: f64) -> Result<Ciphertext> {
    if cts.len() != w.len() {
        return Err(Error::Shape(format!(
            "{} inputs for {} weights",
            cts.len(),
            w.len()
        )));
    }
    let terms: Vec<(usize, f64)> = w.iter().copied().enumerate().collect();
    weighted_sum_terms(ev, cts, &terms, scale)
}

/// [`weighted_sum`] over the terms `(i, w_i)` only (sparse rows: a
/// convolution's output reads its window).
pub(crate) fn weighted_sum_terms(
    ev: &Evaluator,
    cts: &[Ciphertext],
    terms: &[(usize, f64)],
    scale: f64,
) -> Result<Ciphertext> {
    let first = cts
        .first()
        .ok_or_else(|| Error::Shape("empty layer input".into()))?;
    if terms.iter().any(|&(i, _)| i >= cts.len()) {
        return Err(Error::Shape("weighted-sum term outside the inputs".into()));
    }
    let (level, in_scale) = (first.level(), first.scale());
    for ct in cts {
        if ct.level() != level
            || ct.len() != 2
            || ((ct.scale() - in_scale) / in_scale).abs() > 1e-12
        {
            return Err(Error::Shape(
                "weighted sum over ciphertexts of different levels or scales".into(),
            ));
        }
    }
    let params = ev.params();
    let out_scale = in_scale * scale;
    if out_scale.log2() > params.log_q(level) - 3.0 {
        return Err(Error::OutOfRange(format!(
            "weighted-sum scale 2^{:.1} does not fit level {level}",
            out_scale.log2()
        )));
    }
    let ints: Vec<(usize, i64)> = terms
        .iter()
        .map(|&(i, wi)| {
            let k = (wi * scale).round();
            if k.is_finite() && k.abs() < 2f64.powi(62) {
                Ok((i, k as i64))
            } else {
                Err(Error::OutOfRange(format!("weight {wi} at scale {scale}")))
            }
        })
        .collect::<Result<_>>()?;
    let rp = params.rlwe();
    let ring = rp.ring_q(level)?;
    let n = ring.degree();
    let mut parts = Vec::with_capacity(2);
    for part in 0..2 {
        let repr = first.rlwe().parts()[part].representation();
        let mut data = vec![0u64; ring.moduli().len() * n];
        let mut acc = vec![0u128; n];
        for (i, m) in ring.moduli().iter().enumerate() {
            acc.iter_mut().for_each(|a| *a = 0);
            // Products are below (p − 1)²: after a reduction (< p) the
            // accumulator takes `lazy` more without overflowing 128 bits
            // (2^28 terms for 50-bit primes, 255 for 60-bit ones).
            let p1 = u128::from(m.value() - 1);
            let lazy = (u128::MAX / (p1 * p1).max(1)).saturating_sub(1).max(1);
            let mut pending = 0u128;
            for &(ci, k) in &ints {
                let ct = &cts[ci];
                if k == 0 {
                    continue;
                }
                if pending == lazy {
                    acc.iter_mut()
                        .for_each(|a| *a = u128::from(m.reduce_u128(*a)));
                    pending = 0;
                }
                pending += 1;
                let r = u128::from(m.reduce_i64(k));
                for (a, &c) in acc.iter_mut().zip(ct.rlwe().parts()[part].limb(i)) {
                    *a += u128::from(c) * r;
                }
            }
            for (d, &a) in data[i * n..(i + 1) * n].iter_mut().zip(&acc) {
                *d = m.reduce_u128(a);
            }
        }
        parts.push(Poly::from_limbs(ring, repr, data)?);
    }
    Ok(Ciphertext::from_rlwe(
        params,
        rlwe::ciphertext::Ciphertext::new(rp, parts)?,
        out_scale,
    )?)
}

#[cfg(test)]
mod tests {
    use super::messages::max_rotation_keys;
    use super::*;
    use crate::model::Mlp;

    /// Found by `fuzz/fuzz_targets/mlhe_inference.rs`: `output_stride ×
    /// outputs` overflowed (a panic with overflow checks; in release the
    /// product wrapped to 0 and the nonsensical setup was accepted).
    #[test]
    fn setup_with_overflowing_output_stride_is_malformed() {
        let setup = PublicSetup {
            shape: ModelShape::Mlp {
                inputs: 1,
                hidden: 1,
                outputs: 1 << 40,
            },
            packing: Packing::PerSample,
            degree: 4096,
            q_primes: vec![1125899906826241],
            p_primes: vec![1125899906629633],
            security: ckks::SecurityLevel::Bits128,
            input_scale: 4194304.0,
            input_level: 0,
            input_layout: InputLayout::Tiled { period: 4 },
            rotations: vec![1, 2],
            relinearization: false,
            max_abs_input: 100.0,
            output_stride: 1 << 40,
            bootstrap: None,
        };
        let bytes = setup.to_bytes();
        assert!(matches!(
            PublicSetup::from_bytes(&bytes),
            Err(Error::Malformed {
                what: "public setup",
                ..
            })
        ));
    }

    /// A hostile server cannot make the client generate an unbounded set of
    /// rotation keys: more than 2·⌈√slots⌉ + log2(slots) steps, repeated
    /// steps and steps beyond the slot count are refused before any key is
    /// made.
    #[test]
    fn setup_with_too_many_rotations_is_malformed() {
        use crate::model::Activation;
        let mlp = Mlp::new(
            vec![vec![0.01; 64]; 32],
            vec![0.0; 32],
            vec![vec![0.01; 32]; 10],
            vec![0.0; 10],
            Activation::Square,
        )
        .expect("mlp");
        let server = Server::mlp(&mlp, Packing::PerSample).expect("server");
        let good = server.setup().clone();
        assert!(PublicSetup::from_bytes(&good.to_bytes()).is_ok());
        let slots = good.degree / 2;
        assert_eq!(max_rotation_keys(4096), 140);
        let malformed = |setup: &PublicSetup| {
            matches!(
                PublicSetup::from_bytes(&setup.to_bytes()),
                Err(Error::Malformed {
                    what: "public setup",
                    ..
                })
            )
        };
        let mut many = good.clone();
        many.rotations = (1..=max_rotation_keys(slots) as i64 + 1).collect();
        assert!(malformed(&many));
        let mut repeated = good.clone();
        repeated.rotations = vec![1, 1 + slots as i64 / 2, 1];
        assert!(malformed(&repeated));
        let mut beyond = good.clone();
        beyond.rotations = vec![slots as i64];
        assert!(malformed(&beyond));
        let mut zero = good;
        zero.rotations = vec![0];
        assert!(malformed(&zero));
    }

    /// A setup naming 200 chain primes at N = 2^17 made the client build
    /// gigabytes of tables in [`PublicSetup::parameters`]: refused first.
    #[test]
    fn setup_with_oversized_parameters_is_malformed() {
        let setup = PublicSetup {
            shape: ModelShape::Logistic { features: 4 },
            packing: Packing::Batch,
            degree: 1 << 17,
            q_primes: vec![786433; 200],
            p_primes: vec![],
            security: ckks::SecurityLevel::Bits128,
            input_scale: 4194304.0,
            input_level: 0,
            input_layout: InputLayout::Slots,
            rotations: vec![],
            relinearization: false,
            max_abs_input: 100.0,
            output_stride: 1,
            bootstrap: None,
        };
        match PublicSetup::from_bytes(&setup.to_bytes()) {
            Err(Error::Malformed { what, reason }) => {
                assert_eq!(what, "public setup");
                assert!(reason.contains("too many moduli"), "{reason}");
            }
            other => panic!("expected Malformed, got {other:?}"),
        }
    }
}
