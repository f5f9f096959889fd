//! The messages between server and client: the public setup, evaluation keys, queries and responses, each in a versioned envelope.

use serde::{Deserialize, Serialize};

use ckks::bootstrap::BootstrapKeys;
use ckks::{BootstrapConfig, Ciphertext, GaloisKeys, Parameters, RelinKey, SecurityLevel};

use crate::error::{Error, Result};

// The setup and the keys are at version 3 (bootstrapping: the setup names
// its security level and bootstrapping configuration, the keys carry
// bootstrapping keys); queries and responses are unchanged at 2.
pub(super) const SETUP_TAG: [u8; 8] = *b"mlhe/su3";
pub(super) const KEYS_TAG: [u8; 8] = *b"mlhe/ek3";
pub(super) const QUERY_TAG: [u8; 8] = *b"mlhe/qy2";
pub(super) const RESP_TAG: [u8; 8] = *b"mlhe/rs2";

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
    /// A compiled layer graph ([`Server::compile`](super::Server::compile)): returns its output
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
    pub(super) fn fits(&self, d: usize, slots: usize) -> bool {
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
    /// The security level the parameters are built (and fingerprinted) at:
    /// 128-bit for every server but the bootstrapping test ring
    /// ([`BootstrapRing::TestN4096Insecure`](super::BootstrapRing::TestN4096Insecure)).
    /// A client refuses a level below its own minimum
    /// ([`Error::Insecure`]), whatever the server sends.
    pub security: SecurityLevel,
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
    /// modulus ([`CircuitPlan`](super::CircuitPlan)); it is derived from the model's weights
    /// unless the server asked for a bound.
    pub max_abs_input: f64,
    /// Per-sample packing: the outputs of the sample are in slots
    /// `output_stride·i` for `i < outputs` (LR: slot 0; MLP: slots 0..10).
    pub output_stride: usize,
    /// The bootstrapping the circuit does, if any: the client makes the
    /// matching bootstrapping keys ([`EvaluationKeys::bootstrap`]).
    pub bootstrap: Option<BootstrapSetup>,
}

/// A [`BootstrapConfig`] as it travels in a [`PublicSetup`]: the client
/// builds the same [`ckks::Bootstrapper`] from it, derives the rotation
/// steps itself and generates the keys.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BootstrapSetup {
    /// [`BootstrapConfig::slots`].
    pub slots: usize,
    /// [`BootstrapConfig::hamming_weight`].
    pub hamming_weight: usize,
    /// [`BootstrapConfig::double_angles`].
    pub double_angles: u32,
    /// [`BootstrapConfig::arcsine`].
    pub arcsine: bool,
    /// [`BootstrapConfig::degree`].
    pub degree: usize,
    /// [`BootstrapConfig::input_scale`].
    pub input_scale: f64,
    /// [`BootstrapConfig::coeffs_to_slots_levels`].
    pub coeffs_to_slots_levels: usize,
    /// [`BootstrapConfig::slots_to_coeffs_levels`].
    pub slots_to_coeffs_levels: usize,
}

impl BootstrapSetup {
    /// The setup of a configuration.
    pub fn from_config(c: &BootstrapConfig) -> Self {
        Self {
            slots: c.slots,
            hamming_weight: c.hamming_weight,
            double_angles: c.double_angles,
            arcsine: c.arcsine,
            degree: c.degree,
            input_scale: c.input_scale,
            coeffs_to_slots_levels: c.coeffs_to_slots_levels,
            slots_to_coeffs_levels: c.slots_to_coeffs_levels,
        }
    }

    /// The configuration.
    pub fn config(&self) -> BootstrapConfig {
        BootstrapConfig {
            slots: self.slots,
            hamming_weight: self.hamming_weight,
            double_angles: self.double_angles,
            arcsine: self.arcsine,
            degree: self.degree,
            input_scale: self.input_scale,
            coeffs_to_slots_levels: self.coeffs_to_slots_levels,
            slots_to_coeffs_levels: self.slots_to_coeffs_levels,
            // the server's concern: the keys and the transforms a client
            // builds do not depend on the iterations
            ..BootstrapConfig::new(self.slots, self.input_scale)
        }
    }

    /// Bounds what a client builds for it (the transforms' size follows
    /// the slots, the interpolant's degree and the level budgets); the
    /// bootstrapper checks the rest (powers of two, the chain's depth).
    fn validate(&self, degree: usize, chain: usize) -> std::result::Result<(), &'static str> {
        let levels = self
            .coeffs_to_slots_levels
            .saturating_add(self.slots_to_coeffs_levels);
        if !self.slots.is_power_of_two() || self.slots > degree / 2 {
            return Err("bootstrapping slots: a power of two up to N/2");
        }
        if self.hamming_weight == 0 || self.hamming_weight > degree {
            return Err("bootstrapping Hamming weight");
        }
        if self.degree == 0 || self.degree > MAX_BOOT_DEGREE || self.double_angles > 16 {
            return Err("bootstrapping interpolant: degree 1 to 255, at most 16 double angles");
        }
        // at most 5 of the log2(slots) FFT stages per level (63 diagonals
        // per transform, as the N = 2^16 preset): fewer levels would make
        // the client encode transforms of thousands of diagonals
        let stages = self.slots.trailing_zeros() as usize;
        let (c2s, s2c) = (self.coeffs_to_slots_levels, self.slots_to_coeffs_levels);
        if c2s == 0 || s2c == 0 || levels >= chain || 5 * c2s.min(s2c) < stages {
            return Err(
                "bootstrapping level budgets (1 to 5 FFT stages per level, within the chain)",
            );
        }
        if !(self.input_scale.is_finite() && self.input_scale >= 2.0) {
            return Err("bootstrapping scale");
        }
        Ok(())
    }
}

/// Largest interpolant degree a setup may ask the client to build.
const MAX_BOOT_DEGREE: usize = 255;

#[derive(Serialize, Deserialize)]
pub(super) struct Envelope<T> {
    tag: [u8; 8],
    body: T,
}

pub(super) fn to_envelope<T: Serialize>(tag: [u8; 8], body: &T) -> Vec<u8> {
    // Serializing plain data into a Vec cannot fail.
    postcard::to_allocvec(&Envelope { tag, body }).unwrap_or_default()
}

pub(super) fn from_envelope<T: for<'de> Deserialize<'de>>(
    tag: [u8; 8],
    what: &'static str,
    bytes: &[u8],
) -> Result<T> {
    // The tags end in the format version: 1 was bincode (hekit 0.1), 2 postcard;
    // the setup and the keys are at 3 (bootstrapping).
    if bytes.len() >= 8 && bytes[..7] == tag[..7] && bytes[7] == b'1' {
        return Err(Error::Malformed {
            what,
            reason: "format version 1 (bincode, hekit ≤ 0.1) is no longer read; re-serialize it with this version".into(),
        });
    }
    if bytes.len() >= 8 && bytes[..7] == tag[..7] && (b'2'..tag[7]).contains(&bytes[7]) {
        return Err(Error::Malformed {
            what,
            reason: format!(
                "format version {} (before bootstrapping) is no longer read; re-create it with this version",
                char::from(bytes[7])
            ),
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
    ///
    /// # Errors
    /// [`Error::Insecure`] for a setup below 128-bit security; the errors of
    /// parameter generation.
    pub fn parameters(&self) -> Result<Parameters> {
        self.parameters_with_min_security(SecurityLevel::Bits128)
    }

    /// The CKKS parameters at the setup's security level, which must be at
    /// least `min`: pass `SecurityLevel::None` only for tests and examples
    /// (the bootstrapping test ring).
    ///
    /// # Errors
    /// [`Error::Insecure`] when [`Self::security`] is below `min`; the
    /// errors of parameter generation (a modulus above the level's bound).
    pub fn parameters_with_min_security(&self, min: SecurityLevel) -> Result<Parameters> {
        if self.security.bits() < min.bits() {
            return Err(Error::Insecure(format!(
                "the setup's parameters are at {:?}, this party's minimum is {min:?}",
                self.security
            )));
        }
        Ok(Parameters::builder()
            .degree(self.degree)
            .q_primes(&self.q_primes)
            .p_primes(&self.p_primes)
            .scale(self.input_scale)
            .security(self.security)
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
        if let Some(b) = &self.bootstrap {
            b.validate(self.degree, self.q_primes.len()).or_else(bad)?;
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
pub(super) fn max_rotation_keys(slots: usize) -> usize {
    let mut root = 1;
    while root * root < slots {
        root += 1;
    }
    2 * root + slots.max(1).ilog2() as usize
}

/// The keys the server needs (relinearization, rotation and
/// bootstrapping keys; all public).
#[derive(Clone, Debug)]
pub struct EvaluationKeys {
    /// Relinearization key (MLP: the square). `None` when the
    /// bootstrapping keys' relinearization key serves.
    pub relin: Option<RelinKey>,
    /// Rotation keys (per-sample packing).
    pub galois: Option<GaloisKeys>,
    /// Bootstrapping keys (a circuit that bootstraps,
    /// [`PublicSetup::bootstrap`]).
    pub bootstrap: Option<BootstrapKeys>,
}

#[derive(Serialize, Deserialize)]
pub(super) struct KeysBody {
    relin: Option<Vec<u8>>,
    galois: Option<Vec<u8>>,
    bootstrap: Option<Vec<u8>>,
}

impl EvaluationKeys {
    /// Serialized keys (seeded: the uniform halves are written as seeds).
    pub fn to_bytes(&self) -> Vec<u8> {
        to_envelope(
            KEYS_TAG,
            &KeysBody {
                relin: self.relin.as_ref().map(RelinKey::to_bytes),
                galois: self.galois.as_ref().map(GaloisKeys::to_bytes),
                bootstrap: self.bootstrap.as_ref().map(BootstrapKeys::to_bytes),
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
            bootstrap: b
                .bootstrap
                .map(|k| BootstrapKeys::from_bytes(params, &k))
                .transpose()?,
        })
    }
}

#[derive(Serialize, Deserialize)]
pub(super) struct CtsBody {
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

pub(super) fn cts_to_bytes(tag: [u8; 8], samples: usize, cts: &[Ciphertext]) -> Vec<u8> {
    to_envelope(
        tag,
        &CtsBody {
            samples: samples as u64,
            cts: cts.iter().map(Ciphertext::to_bytes).collect(),
        },
    )
}

pub(super) fn cts_from_bytes(
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
