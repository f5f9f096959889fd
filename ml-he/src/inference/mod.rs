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
//!   ([`CompileReport`]; see [`compile`]).
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

pub mod graph;
pub mod onnx;
pub mod compile;
mod layout;

pub use compile::{ActivationInfo, CompileOptions, CompileReport, StepReport};
pub use graph::Graph;

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use ckks::{
    Ciphertext, Encoder, Evaluator, GaloisKeys, Parameters, Plaintext, Polynomial, RelinKey,
    SecretKey,
};
use rlwe::poly::{Poly, Representation};

use crate::error::{Error, Result};
use crate::model::{LogisticRegression, Mlp};

const SETUP_TAG: [u8; 8] = *b"mlhe/su2";
const KEYS_TAG: [u8; 8] = *b"mlhe/ek2";
const QUERY_TAG: [u8; 8] = *b"mlhe/qy2";
const RESP_TAG: [u8; 8] = *b"mlhe/rs2";

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

/// How samples are laid out in ciphertexts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Packing {
    /// One sample per ciphertext, features in slots (low latency).
    PerSample,
    /// One sample per slot, one ciphertext per feature (high throughput).
    Batch,
}

/// The public shape of the model (no weights).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ModelShape {
    /// Binary logistic regression: returns one logit per sample.
    Logistic {
        /// Number of features.
        features: usize,
    },
    /// One-hidden-layer MLP with a polynomial activation: returns the
    /// logits (argmax = class).
    Mlp {
        /// Input width.
        inputs: usize,
        /// Hidden width.
        hidden: usize,
        /// Number of outputs.
        outputs: usize,
    },
    /// A compiled layer graph ([`Server::compile`]): returns its output
    /// tensor, flat.
    Graph {
        /// Input elements.
        inputs: usize,
        /// Output elements.
        outputs: usize,
    },
}

impl ModelShape {
    /// Number of input features.
    pub fn inputs(&self) -> usize {
        match self {
            Self::Logistic { features } => *features,
            Self::Mlp { inputs, .. } | Self::Graph { inputs, .. } => *inputs,
        }
    }

    /// Number of outputs per sample.
    pub fn outputs(&self) -> usize {
        match self {
            Self::Logistic { .. } => 1,
            Self::Mlp { outputs, .. } | Self::Graph { outputs, .. } => *outputs,
        }
    }
}

/// Slot layout of one sample (per-sample packing).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum InputLayout {
    /// Features in slots `0..d`, zeros elsewhere (and the batch packing,
    /// where slot `s` of ciphertext `f` holds feature `f` of sample `s`).
    Slots,
    /// The sample, zero-padded to `period`, repeated over all slots.
    Tiled {
        /// The period (a power of two ≥ d).
        period: usize,
    },
    /// Blocks of `block` slots; block `b` holds the sample (zero-padded
    /// to `block`) rotated left by `b`: slot `block·b + j` holds
    /// `x[(j + b) mod block]`. The client does the rotations of the
    /// diagonal method in the clear, so the server's first layer is one
    /// plaintext product and `log2(slots/block)` rotations.
    RotatedBlocks {
        /// The block size (a power of two ≥ d, `block² ≤ slots`).
        block: usize,
    },
}

impl InputLayout {
    fn fits(&self, d: usize, slots: usize) -> bool {
        match *self {
            Self::Slots => d <= slots,
            Self::Tiled { period: p } | Self::RotatedBlocks { block: p } => {
                p >= d && p.is_power_of_two() && p <= slots
            }
        }
    }

    /// The slot vector of sample `x`.
    pub fn lay_out(&self, x: &[f64], slots: usize) -> Vec<f64> {
        match *self {
            Self::Slots => x.to_vec(),
            Self::Tiled { period } => (0..slots)
                .map(|j| x.get(j % period).copied().unwrap_or(0.0))
                .collect(),
            Self::RotatedBlocks { block } => (0..slots)
                .map(|s| {
                    let (b, j) = (s / block, s % block);
                    x.get((j + b) % block).copied().unwrap_or(0.0)
                })
                .collect(),
        }
    }
}

/// What the server publishes: CKKS parameters (exact primes), the model's
/// shape, the packing, the input encoding and the keys it needs. Enough for
/// the client to set itself up; contains no weight.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PublicSetup {
    /// Model shape.
    pub shape: ModelShape,
    /// Packing.
    pub packing: Packing,
    /// Ring degree N.
    pub degree: usize,
    /// Chain primes `q_0 … q_L`.
    pub q_primes: Vec<u64>,
    /// Special primes.
    pub p_primes: Vec<u64>,
    /// Scale the client encodes inputs at.
    pub input_scale: f64,
    /// Level the client encrypts inputs at.
    pub input_level: usize,
    /// Per-sample packing: how the client lays a sample out in the slots.
    pub input_layout: InputLayout,
    /// Rotation steps the server needs Galois keys for.
    pub rotations: Vec<i64>,
    /// Whether the server needs a relinearization key.
    pub relinearization: bool,
    /// Inputs larger than this in absolute value are refused by the client
    /// ([`Error::OutOfRange`]). The server's plan check guarantees that for
    /// inputs within it no value of the circuit can wrap around its
    /// modulus ([`CircuitPlan`]); it is derived from the model's weights
    /// unless the server asked for a bound.
    pub max_abs_input: f64,
    /// Per-sample packing: the outputs of the sample are in slots
    /// `output_stride·i` for `i < outputs` (LR: slot 0; MLP: slots 0..10).
    pub output_stride: usize,
}

#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    tag: [u8; 8],
    body: T,
}

fn to_envelope<T: Serialize>(tag: [u8; 8], body: &T) -> Vec<u8> {
    // Serializing plain data into a Vec cannot fail.
    postcard::to_allocvec(&Envelope { tag, body }).unwrap_or_default()
}

fn from_envelope<T: for<'de> Deserialize<'de>>(
    tag: [u8; 8],
    what: &'static str,
    bytes: &[u8],
) -> Result<T> {
    // The tags end in the format version: 1 was bincode (hekit 0.1), 2 postcard.
    if bytes.len() >= 8 && bytes[..7] == tag[..7] && bytes[7] == b'1' {
        return Err(Error::Malformed {
            what,
            reason: "format version 1 (bincode, hekit ≤ 0.1) is no longer read; re-serialize it with this version".into(),
        });
    }
    let env: Envelope<T> = match postcard::take_from_bytes(bytes) {
        Ok((env, [])) => env,
        Ok((_, rest)) => {
            return Err(Error::Malformed {
                what,
                reason: format!("{} trailing bytes", rest.len()),
            })
        }
        Err(e) => {
            return Err(Error::Malformed {
                what,
                reason: e.to_string(),
            })
        }
    };
    if env.tag != tag {
        return Err(Error::Malformed {
            what,
            reason: "wrong message type".into(),
        });
    }
    Ok(env.body)
}

impl PublicSetup {
    /// The CKKS parameters (validated: 128-bit security, NTT-friendly
    /// distinct primes).
    pub fn parameters(&self) -> Result<Parameters> {
        Ok(Parameters::builder()
            .degree(self.degree)
            .q_primes(&self.q_primes)
            .p_primes(&self.p_primes)
            .scale(self.input_scale)
            .build()?)
    }

    /// Serialized setup.
    pub fn to_bytes(&self) -> Vec<u8> {
        to_envelope(SETUP_TAG, self)
    }

    /// Size of [`Self::to_bytes`].
    pub fn serialized_size(&self) -> usize {
        self.to_bytes().len()
    }

    /// Reads a setup (and checks that it is consistent).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let s: Self = from_envelope(SETUP_TAG, "public setup", bytes)?;
        s.validate()?;
        Ok(s)
    }

    pub(crate) fn validate(&self) -> Result<()> {
        let bad = |m: &str| {
            Err(Error::Malformed {
                what: "public setup",
                reason: m.to_string(),
            })
        };
        if self.input_level >= self.q_primes.len() {
            return bad("input level above the chain");
        }
        // The client builds these parameters: bound their cost first.
        if let Err(e) = rlwe::serialize::check_untrusted_size(
            self.degree as u64,
            self.q_primes.len(),
            self.p_primes.len(),
        ) {
            return bad(&e.to_string());
        }
        if !self.input_scale.is_finite() || self.input_scale < 2.0 {
            return bad("input scale");
        }
        if !(self.max_abs_input.is_finite() && self.max_abs_input > 0.0) {
            return bad("input bound");
        }
        let slots = self.degree / 2;
        let n_in = self.shape.inputs();
        if n_in == 0 || self.shape.outputs() == 0 {
            return bad("empty model");
        }
        if self.packing == Packing::PerSample
            && (n_in > slots
                || self.output_stride == 0
                || self
                    .output_stride
                    .checked_mul(self.shape.outputs())
                    .is_none_or(|used| used > slots)
                || !self.input_layout.fits(n_in, slots))
        {
            return bad("layout does not fit the slots");
        }
        // Rotation keys are the client's cost (each is several MB): accept
        // what a baby-step giant-step product over all the slots plus a
        // logarithmic fold can use, distinct non-trivial steps only.
        let max_rotations = max_rotation_keys(slots);
        if self.rotations.len() > max_rotations {
            return bad(&format!(
                "{} rotation keys requested (at most {max_rotations} for {slots} slots)",
                self.rotations.len()
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for &r in &self.rotations {
            if r == 0
                || r.unsigned_abs() >= slots as u64
                || !seen.insert(r.rem_euclid(slots as i64))
            {
                return bad("rotation steps must be distinct, non-zero and below the slot count");
            }
        }
        Ok(())
    }

    /// How many ciphertexts a query carries for `samples` samples.
    pub fn ciphertexts_for(&self, samples: usize) -> usize {
        match self.packing {
            Packing::PerSample => samples,
            Packing::Batch => self.shape.inputs(),
        }
    }
}

/// The most rotation keys a client generates for a server's setup:
/// `2·⌈√slots⌉` baby and giant steps plus `log2(slots)` folding steps
/// (140 for 4096 slots; the shipped models use at most 13).
fn max_rotation_keys(slots: usize) -> usize {
    let mut root = 1;
    while root * root < slots {
        root += 1;
    }
    2 * root + slots.max(1).ilog2() as usize
}

/// The keys the server needs (relinearization and/or rotation keys; public).
#[derive(Clone, Debug)]
pub struct EvaluationKeys {
    /// Relinearization key (MLP: the square).
    pub relin: Option<RelinKey>,
    /// Rotation keys (per-sample packing).
    pub galois: Option<GaloisKeys>,
}

#[derive(Serialize, Deserialize)]
struct KeysBody {
    relin: Option<Vec<u8>>,
    galois: Option<Vec<u8>>,
}

impl EvaluationKeys {
    /// Serialized keys (seeded: the uniform halves are written as seeds).
    pub fn to_bytes(&self) -> Vec<u8> {
        to_envelope(
            KEYS_TAG,
            &KeysBody {
                relin: self.relin.as_ref().map(RelinKey::to_bytes),
                galois: self.galois.as_ref().map(GaloisKeys::to_bytes),
            },
        )
    }

    /// Size of [`Self::to_bytes`].
    pub fn serialized_size(&self) -> usize {
        self.to_bytes().len()
    }

    /// Reads keys of `params`.
    pub fn from_bytes(params: &Parameters, bytes: &[u8]) -> Result<Self> {
        let b: KeysBody = from_envelope(KEYS_TAG, "evaluation keys", bytes)?;
        Ok(Self {
            relin: b
                .relin
                .map(|r| RelinKey::from_bytes(params, &r))
                .transpose()?,
            galois: b
                .galois
                .map(|g| GaloisKeys::from_bytes(params, &g))
                .transpose()?,
        })
    }
}

#[derive(Serialize, Deserialize)]
struct CtsBody {
    samples: u64,
    cts: Vec<Vec<u8>>,
}

/// Encrypted input: per-sample packing, one ciphertext per sample; batch
/// packing, one ciphertext per feature holding `samples` samples.
#[derive(Clone, Debug)]
pub struct Query {
    /// Number of samples.
    pub samples: usize,
    /// The ciphertexts.
    pub ciphertexts: Vec<Ciphertext>,
}

/// Encrypted output: per-sample packing, one ciphertext per sample; batch
/// packing, one ciphertext per output (logit) holding all samples.
#[derive(Clone, Debug)]
pub struct Response {
    /// Number of samples.
    pub samples: usize,
    /// The ciphertexts.
    pub ciphertexts: Vec<Ciphertext>,
}

fn cts_to_bytes(tag: [u8; 8], samples: usize, cts: &[Ciphertext]) -> Vec<u8> {
    to_envelope(
        tag,
        &CtsBody {
            samples: samples as u64,
            cts: cts.iter().map(Ciphertext::to_bytes).collect(),
        },
    )
}

fn cts_from_bytes(
    tag: [u8; 8],
    what: &'static str,
    params: &Parameters,
    bytes: &[u8],
) -> Result<(usize, Vec<Ciphertext>)> {
    let b: CtsBody = from_envelope(tag, what, bytes)?;
    let samples = usize::try_from(b.samples).map_err(|_| Error::Malformed {
        what,
        reason: "sample count".into(),
    })?;
    let cts = b
        .cts
        .iter()
        .map(|c| Ciphertext::from_bytes(params, c))
        .collect::<ckks::Result<Vec<_>>>()?;
    Ok((samples, cts))
}

impl Query {
    /// Serialized query.
    pub fn to_bytes(&self) -> Vec<u8> {
        cts_to_bytes(QUERY_TAG, self.samples, &self.ciphertexts)
    }

    /// Size of [`Self::to_bytes`].
    pub fn serialized_size(&self) -> usize {
        self.to_bytes().len()
    }

    /// Reads a query of `params` (every coefficient validated).
    pub fn from_bytes(params: &Parameters, bytes: &[u8]) -> Result<Self> {
        let (samples, ciphertexts) = cts_from_bytes(QUERY_TAG, "query", params, bytes)?;
        Ok(Self {
            samples,
            ciphertexts,
        })
    }
}

impl Response {
    /// Serialized response.
    pub fn to_bytes(&self) -> Vec<u8> {
        cts_to_bytes(RESP_TAG, self.samples, &self.ciphertexts)
    }

    /// Size of [`Self::to_bytes`].
    pub fn serialized_size(&self) -> usize {
        self.to_bytes().len()
    }

    /// Reads a response of `params`.
    pub fn from_bytes(params: &Parameters, bytes: &[u8]) -> Result<Self> {
        let (samples, ciphertexts) = cts_from_bytes(RESP_TAG, "response", params, bytes)?;
        Ok(Self {
            samples,
            ciphertexts,
        })
    }
}

// ---------------------------------------------------------------- parameters

/// log2 of the scale of the logistic-regression inputs.
const LR_INPUT_BITS: i32 = 22;
/// log2 of the scale of the logistic-regression weights.
const LR_WEIGHT_BITS: i32 = 18;
/// log2 of the scale of the logistic regression with a sigmoid output.
const SIG_SCALE_BITS: i32 = 30;
/// log2 of the scale of the MLP inputs.
const MLP_INPUT_BITS: i32 = 30;
/// log2 of the scale of the MLP's second-layer weights (square activation;
/// a linear activation rescales layer 2 by `q_1` instead).
const MLP_W2_BITS: i32 = 19;
/// MLP chain `q_0, q_1, q_2`: `q_0` holds the logits (scale 2^41 after the
/// square: 60 bits leave `|logit| < 2^17`), `q_1` is the square's rescale,
/// `q_2` layer 1's.
const MLP_Q_BITS: [u32; 3] = [60, 38, 30];
/// MLP special prime (≥ every chain prime: one prime per key-switching
/// digit).
const MLP_P_BITS: [u32; 1] = [60];

/// Margin of the plan check: a stage at scale Δ on level `l` may hold
/// values up to `Q_l / (2^(1 + PLAN_MARGIN_BITS) · Δ)`, i.e. half of what the
/// centered representation mod `Q_l` can hold; the other half covers noise,
/// the rounding of the encoded weights and the float bookkeeping of scales.
pub(crate) const PLAN_MARGIN_BITS: i32 = 1;
/// The derived input bound is never below this: a model whose plan cannot
/// take inputs in `[−1, 1]` is refused ([`Error::PlanOverflow`]) unless the
/// server asks for a smaller bound explicitly.
const MIN_DERIVED_INPUT_BOUND: f64 = 1.0;
/// The derived input bound is never above this (beyond it the rounding of
/// the encoded weights, not the modulus, limits the precision); a larger
/// bound can be asked for explicitly.
const MAX_DERIVED_INPUT_BOUND: f64 = 1024.0;

fn build_params(
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
struct Folded {
    w1: Vec<Vec<f64>>,
    b1: Vec<f64>,
    w2: Vec<Vec<f64>>,
    b2: Vec<f64>,
    square: bool,
}

fn fold_activation(model: &Mlp) -> Result<Folded> {
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
type At = (usize, f64);

/// What the plan check needs of a circuit: the moduli, where each stage
/// lives, and the (folded) weights the bounds are computed from.
struct PlanSpec {
    /// `Q_l = q_0 ⋯ q_l` for every level.
    moduli: Vec<f64>,
    input: At,
    circuit: SpecCircuit,
}

enum SpecCircuit {
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

struct SigmoidSpec {
    /// Power-basis coefficients of the polynomial in `u = z / R`.
    power: Vec<f64>,
    /// Where the Chebyshev basis `T_i(u)` lives: levels ≥ 1 at scales
    /// within a factor 2 of the input's, checked at the tightest corner.
    basis: At,
    output: At,
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
fn affine_bounds(w: &[Vec<f64>], b: &[f64], x: &[(f64, f64)]) -> (Vec<(f64, f64)>, f64) {
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
    fn stage(&self, layer: &str, (level, scale): At, bound: f64) -> PlanStage {
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
    fn stages(&self, b: f64) -> Vec<PlanStage> {
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
    fn check(&self, b: f64) -> Result<CircuitPlan> {
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
    fn derive(&self) -> Result<CircuitPlan> {
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
    fn resolve(&self, max_abs_input: Option<f64>) -> Result<CircuitPlan> {
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

    fn output_scale(&self, input_scale: f64, params: &Parameters) -> Result<f64> {
        let s = input_scale * self.scale;
        Ok(if self.rescale {
            s / params.q(self.level)? as f64
        } else {
            s
        })
    }

    pub(crate) fn apply(&self, eval: &Evaluator, x: &Ciphertext, gks: &GaloisKeys) -> Result<Ciphertext> {
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
struct BlockLayer {
    pt: Plaintext,
    steps: Vec<i64>,
    level: usize,
    scale: f64,
}

impl BlockLayer {
    fn new(
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

    fn apply(&self, eval: &Evaluator, x: &Ciphertext, gks: &GaloisKeys) -> Result<Ciphertext> {
        let x = eval.drop_to_level(x, self.level)?;
        let mut out = eval.rescale(&eval.mul_plain(&x, &self.pt)?)?;
        for &s in &self.steps {
            let r = eval.rotate(&out, s, gks)?;
            eval.add_assign(&mut out, &r)?;
        }
        Ok(out)
    }
}

enum FirstLayer {
    Bsgs(Diagonals),
    Blocks(BlockLayer),
}

impl FirstLayer {
    fn apply(&self, eval: &Evaluator, x: &Ciphertext, gks: &GaloisKeys) -> Result<Ciphertext> {
        match self {
            Self::Bsgs(d) => d.apply(eval, x, gks),
            Self::Blocks(b) => b.apply(eval, x, gks),
        }
    }

    fn output_scale(&self, input_scale: f64, params: &Parameters) -> Result<f64> {
        match self {
            Self::Bsgs(d) => d.output_scale(input_scale, params),
            Self::Blocks(b) => Ok(input_scale * b.scale / params.q(b.level)? as f64),
        }
    }

    fn rotation_steps(&self) -> Vec<i64> {
        match self {
            Self::Bsgs(d) => d.rotation_steps(),
            Self::Blocks(b) => b.steps.clone(),
        }
    }
}

fn next_pow2(x: usize) -> usize {
    x.max(1).next_power_of_two()
}

// ---------------------------------------------------------------- server

struct MlpCircuit {
    l1: FirstLayer,
    b1: Plaintext,
    square: bool,
    l2: Diagonals,
    b2: Plaintext,
}

enum Evaluation {
    Graph(Box<compile::GraphCircuit>),
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

    fn logistic_impl(
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
            input_scale,
            input_level: level,
            input_layout,
            max_abs_input: plan.max_abs_input,
            rotations,
            relinearization,
            output_stride: 1,
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

    fn mlp_impl(model: &Mlp, packing: Packing, max_abs_input: Option<f64>) -> Result<Self> {
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
            input_scale,
            input_level: 2,
            input_layout,
            max_abs_input: plan.max_abs_input,
            rotations,
            relinearization: square,
            output_stride,
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
        keys.relin.as_ref().ok_or_else(|| Error::Malformed {
            what: "evaluation keys",
            reason: "no relinearization key (the square needs it)".into(),
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

// ---------------------------------------------------------------- client

/// The input and result party: holds the secret key, encrypts samples and
/// decrypts scores.
pub struct Client {
    setup: PublicSetup,
    params: Parameters,
    encoder: Encoder,
    sk: SecretKey,
    rng: ChaCha20Rng,
    policy: InputPolicy,
}

/// What the client does with a feature outside the setup's input bound
/// ([`PublicSetup::max_abs_input`]): the plan check holds only inside it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum InputPolicy {
    /// Refuse the sample ([`Error::OutOfRange`], naming the feature).
    #[default]
    Refuse,
    /// Clip the feature to `±max_abs_input` (the model then sees the
    /// clipped sample; a non-finite feature is still refused).
    Clip,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("setup", &self.setup)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for a server's published setup; key material from a
    /// ChaCha20 generator seeded by the OS.
    pub fn new(setup: &PublicSetup) -> Result<Self> {
        Self::with_rng(setup, ChaCha20Rng::from_entropy())
    }

    /// The same with a given generator (reproducible tests).
    pub fn with_rng(setup: &PublicSetup, mut rng: ChaCha20Rng) -> Result<Self> {
        setup.validate()?;
        let params = setup.parameters()?;
        let sk = SecretKey::generate(&params, &mut rng);
        Ok(Self {
            setup: setup.clone(),
            encoder: Encoder::new(&params),
            params,
            sk,
            rng,
            policy: InputPolicy::Refuse,
        })
    }

    /// The CKKS parameters.
    pub fn parameters(&self) -> &Parameters {
        &self.params
    }

    /// The setup this client follows.
    pub fn setup(&self) -> &PublicSetup {
        &self.setup
    }

    /// The public keys the server needs (send once).
    pub fn evaluation_keys(&mut self) -> Result<EvaluationKeys> {
        let relin = if self.setup.relinearization {
            Some(RelinKey::generate(&self.sk, &mut self.rng)?)
        } else {
            None
        };
        let galois = if self.setup.rotations.is_empty() {
            None
        } else {
            Some(GaloisKeys::generate(
                &self.sk,
                &self.setup.rotations,
                &mut self.rng,
            )?)
        };
        Ok(EvaluationKeys { relin, galois })
    }

    /// Chooses what happens to features outside the input bound (default
    /// [`InputPolicy::Refuse`]).
    pub fn set_input_policy(&mut self, policy: InputPolicy) {
        self.policy = policy;
    }

    /// The sample as it will be encrypted: checked, and clipped under
    /// [`InputPolicy::Clip`].
    fn admit(&self, x: &[f64]) -> Result<Vec<f64>> {
        let b = self.setup.max_abs_input;
        match self.policy {
            InputPolicy::Refuse => {
                self.check_sample(x)?;
                Ok(x.to_vec())
            }
            InputPolicy::Clip => {
                let clipped: Vec<f64> = x
                    .iter()
                    .map(|v| if v.is_finite() { v.clamp(-b, b) } else { *v })
                    .collect();
                self.check_sample(&clipped)?;
                Ok(clipped)
            }
        }
    }

    fn check_sample(&self, x: &[f64]) -> Result<()> {
        let d = self.setup.shape.inputs();
        if x.len() != d {
            return Err(Error::Shape(format!(
                "sample has {} features, the model {d}",
                x.len()
            )));
        }
        if let Some(i) = x.iter().position(|v| !v.is_finite()) {
            return Err(Error::OutOfRange(format!("feature {i} is not finite")));
        }
        if let Some(i) = x.iter().position(|v| v.abs() > self.setup.max_abs_input) {
            return Err(Error::OutOfRange(format!(
                "feature {i} = {} exceeds the setup's input bound ±{} (preprocess the sample as the model expects)",
                x[i], self.setup.max_abs_input
            )));
        }
        Ok(())
    }

    fn encrypt_slots(&mut self, values: &[f64]) -> Result<Ciphertext> {
        let pt = self
            .encoder
            .encode_at(values, self.setup.input_level, self.setup.input_scale)?;
        Ok(self.sk.encrypt(&pt, &mut self.rng)?)
    }

    /// Encrypts one sample (per-sample packing).
    pub fn encrypt(&mut self, x: &[f64]) -> Result<Query> {
        if self.setup.packing != Packing::PerSample {
            return Err(Error::Shape(
                "this setup packs batches: use encrypt_batch".into(),
            ));
        }
        let x = self.admit(x)?;
        let values = self.setup.input_layout.lay_out(&x, self.params.slots());
        Ok(Query {
            samples: 1,
            ciphertexts: vec![self.encrypt_slots(&values)?],
        })
    }

    /// Encrypts several samples. Batch packing: one ciphertext per feature,
    /// up to N/2 samples. Per-sample packing: one ciphertext per sample.
    pub fn encrypt_batch(&mut self, xs: &[Vec<f64>]) -> Result<Query> {
        if xs.is_empty() {
            return Err(Error::Shape("no sample".into()));
        }
        let xs = xs
            .iter()
            .map(|x| self.admit(x))
            .collect::<Result<Vec<_>>>()?;
        match self.setup.packing {
            Packing::PerSample => {
                let mut cts = Vec::with_capacity(xs.len());
                for x in &xs {
                    cts.extend(self.encrypt(x)?.ciphertexts);
                }
                Ok(Query {
                    samples: xs.len(),
                    ciphertexts: cts,
                })
            }
            Packing::Batch => {
                if xs.len() > self.params.slots() {
                    return Err(Error::Shape(format!(
                        "{} samples for {} slots (split the batch)",
                        xs.len(),
                        self.params.slots()
                    )));
                }
                let d = self.setup.shape.inputs();
                // One ChaCha20 stream per ciphertext, seeded from the
                // client's generator: the features encrypt in parallel.
                let seeds: Vec<[u8; 32]> = (0..d)
                    .map(|_| {
                        let mut s = [0u8; 32];
                        self.rng.fill_bytes(&mut s);
                        s
                    })
                    .collect();
                let (encoder, sk, setup, xs) = (&self.encoder, &self.sk, &self.setup, &xs);
                let cts = seeds
                    .into_par_iter()
                    .enumerate()
                    .map(|(f, seed)| {
                        let col: Vec<f64> = xs.iter().map(|x| x[f]).collect();
                        let pt = encoder.encode_at(&col, setup.input_level, setup.input_scale)?;
                        Ok(sk.encrypt(&pt, &mut ChaCha20Rng::from_seed(seed))?)
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok(Query {
                    samples: xs.len(),
                    ciphertexts: cts,
                })
            }
        }
    }

    /// Decrypts a response: one vector of outputs per sample (LR: the
    /// logit; MLP: the logits).
    pub fn decrypt(&self, resp: &Response) -> Result<Vec<Vec<f64>>> {
        let k = self.setup.shape.outputs();
        let want = match self.setup.packing {
            Packing::PerSample => resp.samples,
            Packing::Batch => k,
        };
        if resp.ciphertexts.len() != want || resp.samples == 0 {
            return Err(Error::Shape(format!(
                "response has {} ciphertexts for {} sample(s), expected {want}",
                resp.ciphertexts.len(),
                resp.samples
            )));
        }
        match self.setup.packing {
            Packing::PerSample => resp
                .ciphertexts
                .iter()
                .map(|ct| {
                    let v = self.encoder.decode(&self.sk.decrypt(ct)?)?;
                    (0..k)
                        .map(|i| {
                            v.get(i * self.setup.output_stride)
                                .copied()
                                .ok_or_else(|| Error::Shape("output slot out of range".into()))
                        })
                        .collect()
                })
                .collect(),
            Packing::Batch => {
                if resp.samples > self.params.slots() {
                    return Err(Error::Shape("more samples than slots".into()));
                }
                let cols = resp
                    .ciphertexts
                    .par_iter()
                    .map(|ct| Ok(self.encoder.decode(&self.sk.decrypt(ct)?)?))
                    .collect::<Result<Vec<Vec<f64>>>>()?;
                Ok((0..resp.samples)
                    .map(|s| cols.iter().map(|c| c[s]).collect())
                    .collect())
            }
        }
    }

    /// Reads a response (checked against the parameters) and decrypts it.
    pub fn decrypt_bytes(&self, bytes: &[u8]) -> Result<Vec<Vec<f64>>> {
        self.decrypt(&Response::from_bytes(&self.params, bytes)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            input_scale: 4194304.0,
            input_level: 0,
            input_layout: InputLayout::Tiled { period: 4 },
            rotations: vec![1, 2],
            relinearization: false,
            max_abs_input: 100.0,
            output_stride: 1 << 40,
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
            input_scale: 4194304.0,
            input_level: 0,
            input_layout: InputLayout::Slots,
            rotations: vec![],
            relinearization: false,
            max_abs_input: 100.0,
            output_stride: 1,
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
