//! What the compiler decided, before anything runs: [`CompileReport`] and
//! its parts.

use std::fmt;

use super::Packing;

/// How an activation was approximated (for the report).
#[derive(Clone, Debug, PartialEq)]
pub struct ActivationInfo {
    /// The graph node.
    pub node: String,
    /// The function (`"Relu"`, …, or `"polynomial"`).
    pub function: String,
    /// The interval the interpolant is fitted on (calibrated range with
    /// margin); `None` for an exact polynomial.
    pub interval: Option<(f64, f64)>,
    /// The range its input took on the calibration samples.
    pub calibrated: Option<(f64, f64)>,
    /// Degree of the polynomial.
    pub degree: usize,
    /// Largest |f − p| on the interval (on 4096 points).
    pub max_error: f64,
}

/// One evaluated step, for the report.
#[derive(Clone, Debug, PartialEq)]
pub struct StepReport {
    /// The graph node(s).
    pub name: String,
    /// `"linear (diagonals)"`, `"linear (sparse)"`, `"linear (weighted sums)"`,
    /// `"square"`, `"polynomial"`, `"bootstrap"`.
    pub kind: String,
    /// Input → output elements.
    pub shape: (usize, usize),
    /// The level the step starts on.
    pub level: usize,
    /// Plaintext products per ciphertext (linear steps).
    pub plaintext_products: usize,
    /// Rotations per ciphertext (per-sample linear steps).
    pub rotations: usize,
    /// Bootstraps: the range `B` the values are divided by on the way in
    /// (`|v| ≤ B` for every input in the checked box; the bootstrap's error
    /// is about 2^-24·B in the values' units). `None` for other steps.
    pub range: Option<f64>,
}

/// The bootstrapping a compiled circuit does (see
/// [`bootstrap`](super::bootstrap)).
#[derive(Clone, Debug, PartialEq)]
pub struct BootstrapReport {
    /// Slots bootstrapped (`N/2`: full packing).
    pub slots: usize,
    /// Levels between bootstraps (the client encrypts at the top one, every
    /// bootstrap lands back on it).
    pub levels: usize,
    /// Levels a bootstrap consumes (CoeffsToSlots, EvalMod, SlotsToCoeffs).
    pub depth: usize,
    /// Bootstraps per evaluation (per ciphertext: per sample for
    /// per-sample packing, per tensor element for batch packing).
    pub count: usize,
    /// Galois keys of bootstrapping (rotations and conjugation).
    pub rotation_keys: usize,
    /// Whether the parameters are 128-bit secure (`false`: the test ring).
    pub secure: bool,
}

/// What the compiler decided, before anything runs.
#[derive(Clone, Debug, PartialEq)]
pub struct CompileReport {
    /// Packing.
    pub packing: Packing,
    /// Multiplicative depth (levels consumed).
    pub depth: usize,
    /// Ring degree N.
    pub degree: usize,
    /// Bits of the chain primes `q_0 … q_L` and of the special primes.
    pub q_bits: Vec<u32>,
    /// Bits of the special primes.
    pub p_bits: Vec<u32>,
    /// log2 of the input scale.
    pub scale_bits: u32,
    /// log2 of the output scale.
    pub output_scale_bits: f64,
    /// The input bound the plan is checked for.
    pub max_abs_input: f64,
    /// Steps in order.
    pub steps: Vec<StepReport>,
    /// Approximated activations.
    pub activations: Vec<ActivationInfo>,
    /// Number of rotation keys.
    pub rotation_keys: usize,
    /// Whether a relinearization key is needed.
    pub relinearization: bool,
    /// Estimated size of the evaluation keys (bytes, sent once).
    pub key_bytes: usize,
    /// Size of one query ciphertext (per sample; batch: per input element).
    pub query_ciphertext_bytes: usize,
    /// Size of one response ciphertext.
    pub response_ciphertext_bytes: usize,
    /// Ciphertexts per query (per sample for per-sample packing, per batch
    /// otherwise).
    pub query_ciphertexts: usize,
    /// Ciphertexts per response (idem).
    pub response_ciphertexts: usize,
    /// Bootstrapping, when the circuit bootstraps.
    pub bootstrap: Option<BootstrapReport>,
}

impl fmt::Display for CompileReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mb = |b: usize| b as f64 / 1e6;
        writeln!(
            f,
            "packing {:?}, depth {}, N = {}, Q = {:?} + P = {:?} bits ({} in all), scale 2^{}, output scale 2^{:.1}",
            self.packing,
            self.depth,
            self.degree,
            self.q_bits,
            self.p_bits,
            self.q_bits.iter().chain(&self.p_bits).sum::<u32>(),
            self.scale_bits,
            self.output_scale_bits
        )?;
        writeln!(f, "input bound ±{}", self.max_abs_input)?;
        if let Some(b) = &self.bootstrap {
            writeln!(
                f,
                "bootstrapping{}: {} bootstrap(s) of {} slots, {} levels between them, {} levels each, {} Galois keys",
                if b.secure { "" } else { " (test ring, NOT SECURE)" },
                b.count,
                b.slots,
                b.levels,
                b.depth,
                b.rotation_keys
            )?;
        }
        for s in &self.steps {
            match s.range {
                Some(range) => writeln!(
                    f,
                    "  level {:>2}  {:<24} {:>5} → {:<5} {:<24} values ÷ {:.2} on the way in, back to level {}",
                    s.level,
                    s.name,
                    s.shape.0,
                    s.shape.1,
                    s.kind,
                    range,
                    self.bootstrap.as_ref().map_or(0, |b| b.levels)
                )?,
                None => writeln!(
                    f,
                    "  level {:>2}  {:<24} {:>5} → {:<5} {:<24} {:>5} pt-products {:>4} rotations",
                    s.level, s.name, s.shape.0, s.shape.1, s.kind, s.plaintext_products, s.rotations
                )?,
            }
        }
        for a in &self.activations {
            match a.interval {
                Some((lo, hi)) => writeln!(
                    f,
                    "  {} ({}): degree {} on [{lo:.3}, {hi:.3}] (calibrated {:?}), max error {:.2e}",
                    a.node, a.function, a.degree, a.calibrated, a.max_error
                )?,
                None => writeln!(f, "  {} (exact polynomial, degree {})", a.node, a.degree)?,
            }
        }
        writeln!(
            f,
            "keys: {} rotation keys{}{}, ≈ {:.1} MB (once); query {} × {:.2} MB, response {} × {:.2} MB",
            self.rotation_keys,
            if self.relinearization {
                " + relinearization key"
            } else {
                ""
            },
            if self.bootstrap.is_some() {
                " + bootstrapping keys"
            } else {
                ""
            },
            mb(self.key_bytes),
            self.query_ciphertexts,
            mb(self.query_ciphertext_bytes),
            self.response_ciphertexts,
            mb(self.response_ciphertext_bytes)
        )
    }
}
