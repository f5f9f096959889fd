//! CKKS parameters: an [`rlwe::params::Params`] (ring degree, chain of
//! rescaling primes, special primes) plus the default scale, presets at
//! 128-bit security, and a helper that sizes the chain for a circuit.

use std::sync::Arc;

use rlwe::params::{max_log_qp, Params, SecurityLevel};
use rlwe::serialize::{decode, encode, Kind};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Ready-made parameter sets, all at 128-bit classical security
/// (HomomorphicEncryption.org table, special primes included). Every prime is
/// below 2^50 so that the NTT takes its AVX-512 IFMA path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Preset {
    /// N = 8192 (4096 slots), `Q = [46, 40, 40, 40]`, `P = [50]`
    /// (216 bits), scale 2^40, depth 3. The first prime leaves 5 bits of
    /// headroom (results up to about ±32); the special prime is larger
    /// than every key-switching digit so rotations keep the precision.
    N8192,
    /// N = 16384 (8192 slots), `Q = [50, 40 × 7]`, `P = [50, 50]`
    /// (430 bits), scale 2^40, depth 7.
    N16384,
    /// N = 32768 (16384 slots), `Q = [50, 40 × 18]`, `P = [50, 50]`
    /// (870 bits), scale 2^40, depth 18.
    N32768,
}

impl Preset {
    /// `(degree, q bits, p bits, log2 scale)`.
    fn spec(self) -> (usize, Vec<u32>, Vec<u32>, u32) {
        let chain = |first: u32, depth: usize| {
            let mut q = vec![first];
            q.extend(std::iter::repeat_n(40u32, depth));
            q
        };
        match self {
            Preset::N8192 => (8192, chain(46, 3), vec![50], 40),
            Preset::N16384 => (16384, chain(50, 7), vec![50, 50], 40),
            Preset::N32768 => (32768, chain(50, 18), vec![50, 50], 40),
        }
    }
}

const PARAMS_TAG: [u8; 8] = *b"ckks/pr1";

#[derive(Serialize, Deserialize)]
struct ParamsBody {
    tag: [u8; 8],
    scale: f64,
    rlwe: Vec<u8>,
}

struct Inner {
    rlwe: Arc<Params>,
    scale: f64,
}

/// Validated CKKS parameters, cheap to clone (shared). Level `l` uses the
/// primes `q_0 … q_l`; rescaling at level `l` divides by `q_l`.
#[derive(Clone)]
pub struct Parameters {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Parameters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parameters")
            .field("degree", &self.degree())
            .field("q", &self.inner.rlwe.q())
            .field("p", &self.inner.rlwe.p())
            .field("log2_scale", &self.inner.scale.log2())
            .finish()
    }
}

impl PartialEq for Parameters {
    fn eq(&self, other: &Self) -> bool {
        self.inner.rlwe.fingerprint() == other.inner.rlwe.fingerprint()
            && self.inner.scale == other.inner.scale
    }
}

impl Parameters {
    /// One of the [`Preset`]s.
    pub fn preset(preset: Preset) -> Result<Self> {
        let (n, q, p, scale_bits) = preset.spec();
        Self::builder()
            .degree(n)
            .q_bits(&q)
            .p_bits(&p)
            .scale_bits(scale_bits)
            .build()
    }

    /// A builder for custom chains.
    pub fn builder() -> ParametersBuilder {
        ParametersBuilder::default()
    }

    /// Wraps existing RLWE parameters with a default scale.
    pub fn new(rlwe: Arc<Params>, scale: f64) -> Result<Self> {
        if !scale.is_finite() || scale < 2.0 {
            return Err(Error::InvalidArgument {
                what: format!("default scale {scale} must be finite and ≥ 2"),
            });
        }
        if rlwe.p().is_empty() {
            return Err(Error::InvalidArgument {
                what: "CKKS needs special primes P for relinearization and rotations".into(),
            });
        }
        Ok(Self {
            inner: Arc::new(Inner { rlwe, scale }),
        })
    }

    /// Special primes (bit sizes) for a chain of `q_bits` within `budget`
    /// bits of `log2 Q·P` (the security bound), or `None` if not even one
    /// fits: each at least as large as the largest chain prime (a digit of
    /// one prime stays below `P`), as many as the budget leaves room for,
    /// up to four, sized to use that room — at most 50 bits when the
    /// chain's primes are that small (the 52-bit IFMA kernels), else at
    /// most 60.
    ///
    /// A larger `P` lets each key-switching digit take more chain primes
    /// (a digit grows while it stays `≤ P`: [`rlwe::params::Params::digit_ranges`],
    /// so the key-switching noise bound does not change): fewer digits, so
    /// fewer NTTs per key switch and smaller relinearization and Galois
    /// keys, for free where the security bound has room.
    pub fn special_prime_bits(q_bits: &[u32], budget: u32) -> Option<Vec<u32>> {
        const MAX_SPECIAL: u32 = 4;
        let least = q_bits.iter().copied().max()?;
        let room = budget.checked_sub(q_bits.iter().sum())?;
        let count = (room / least.max(1)).min(MAX_SPECIAL);
        if count == 0 || least > 60 {
            return None;
        }
        let cap = if least <= 50 { 50 } else { 60 };
        Some(vec![(room / count).min(cap); count as usize])
    }

    /// Parameters for a circuit of multiplicative depth `depth` with values
    /// scaled by about `2^scale_bits`, keeping about `precision_bits` bits
    /// after the binary point, at 128-bit security.
    ///
    /// * The scale is raised when needed to `precision_bits + ½·log2 N + 8`
    ///   (fresh and rescaling noise of CKKS is about `2^(½·log2 N + 6)` in
    ///   slot units, plus a margin for a few multiplications).
    /// * The first prime is the scale plus 6 bits (results up to about ±32
    ///   at level 0); then `depth` rescaling primes of the scale's size.
    /// * Special primes by [`Self::special_prime_bits`]: as many (up to
    ///   four) and as large as the security bound leaves room for — fewer
    ///   key-switching digits, i.e. faster — each at least the largest
    ///   chain prime, so key switching adds no visible noise.
    /// * The smallest ring degree from 2^12 to 2^16 whose security bound
    ///   admits the chain and one special prime wins.
    ///   Primes stay at or below 50 bits when the scale allows it (fast NTT).
    pub fn for_circuit(depth: usize, scale_bits: u32, precision_bits: u32) -> Result<Self> {
        for log_n in 12..=16u32 {
            let n = 1usize << log_n;
            let noise_bits = log_n / 2 + 8;
            let s = scale_bits.max(precision_bits + noise_bits);
            if s + 6 > 60 {
                return Err(Error::InvalidArgument {
                    what: format!("a scale of 2^{s} does not fit in 60-bit primes"),
                });
            }
            let q0 = s + 6;
            let mut q = vec![q0];
            q.extend(std::iter::repeat_n(s, depth));
            let max = max_log_qp(n, SecurityLevel::Bits128).unwrap_or(0);
            if let Some(p) = Self::special_prime_bits(&q, max) {
                return Self::builder()
                    .degree(n)
                    .q_bits(&q)
                    .p_bits(&p)
                    .scale_bits(s)
                    .build();
            }
        }
        Err(Error::InvalidArgument {
            what: format!(
                "depth {depth} at scale 2^{scale_bits} does not fit N ≤ 65536 at 128-bit security"
            ),
        })
    }

    /// The RLWE parameters.
    #[inline]
    pub fn rlwe(&self) -> &Arc<Params> {
        &self.inner.rlwe
    }

    /// Ring degree N.
    #[inline]
    pub fn degree(&self) -> usize {
        self.inner.rlwe.degree()
    }

    /// Number of complex slots, N/2.
    #[inline]
    pub fn slots(&self) -> usize {
        self.inner.rlwe.degree() / 2
    }

    /// The default scale Δ used by [`crate::Encoder::encode`].
    #[inline]
    pub fn scale(&self) -> f64 {
        self.inner.scale
    }

    /// Highest level (number of rescalings available).
    #[inline]
    pub fn max_level(&self) -> usize {
        self.inner.rlwe.max_level()
    }

    /// The chain prime `q_l`.
    pub fn q(&self, level: usize) -> Result<u64> {
        self.inner
            .rlwe
            .q()
            .get(level)
            .copied()
            .ok_or(Error::InvalidLevel {
                what: "no such level",
                got: level,
                max: self.max_level(),
            })
    }

    /// log2 of `Q_l = q_0 ⋯ q_l`.
    pub fn log_q(&self, level: usize) -> f64 {
        self.inner
            .rlwe
            .q()
            .iter()
            .take(level + 1)
            .map(|&q| (q as f64).log2())
            .sum()
    }

    /// The serialized context: the RLWE parameters (degree, primes, security
    /// level) and the default scale, in the versioned envelope of every hekit
    /// object. Keys and ciphertexts are written without it and bound to it by
    /// [`Self::fingerprint`], so it travels once per session.
    pub fn to_bytes(&self) -> Vec<u8> {
        let body = ParamsBody {
            tag: PARAMS_TAG,
            scale: self.scale(),
            rlwe: self.rlwe().to_bytes(),
        };
        encode(Kind::External, self.fingerprint(), &body)
    }

    /// Reads a context written by [`Self::to_bytes`], re-validating the
    /// parameters; their recorded security level must be at least `min`
    /// (the reader's requirement, as for [`Params::from_bytes`]).
    ///
    /// # Errors
    /// [`Error::Malformed`] for bytes that are not a CKKS context or a scale
    /// that is not finite and ≥ 2; the errors of [`Params::from_bytes`]
    /// (inside [`Error::Rlwe`]): bad envelope, parameters below `min` or
    /// insecure, a fingerprint that does not match the parameters.
    pub fn from_bytes(bytes: &[u8], min: SecurityLevel) -> Result<Self> {
        const WHAT: &str = "CKKS parameters";
        let body: ParamsBody = decode(bytes, Kind::External, WHAT, None)?;
        if body.tag != PARAMS_TAG {
            return Err(Error::Malformed {
                what: WHAT,
                reason: "not a CKKS context".into(),
            });
        }
        if !body.scale.is_finite() || body.scale < 2.0 {
            return Err(Error::Malformed {
                what: WHAT,
                reason: format!("default scale {} is not finite and ≥ 2", body.scale),
            });
        }
        let rlwe = Params::from_bytes(&body.rlwe, min)?;
        decode::<ParamsBody>(bytes, Kind::External, WHAT, Some(rlwe.fingerprint()))?;
        Self::new(rlwe, body.scale)
    }

    /// The fingerprint every key and ciphertext of these parameters carries:
    /// the RLWE parameters' (the default scale is not part of it — each
    /// ciphertext records its own scale).
    pub fn fingerprint(&self) -> &[u8; 32] {
        self.inner.rlwe.fingerprint()
    }

    /// Whether two parameter sets are the same ring and chain.
    pub(crate) fn same(&self, other: &Parameters) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
            || self.inner.rlwe.fingerprint() == other.inner.rlwe.fingerprint()
    }

    pub(crate) fn check_same(&self, other: &Parameters, what: &'static str) -> Result<()> {
        if self.same(other) {
            Ok(())
        } else {
            Err(Error::ParameterMismatch { what })
        }
    }

    pub(crate) fn check_level(&self, level: usize, what: &'static str) -> Result<()> {
        if level > self.max_level() {
            return Err(Error::InvalidLevel {
                what,
                got: level,
                max: self.max_level(),
            });
        }
        Ok(())
    }
}

/// Builder for [`Parameters`].
#[derive(Clone, Debug)]
pub struct ParametersBuilder {
    degree: usize,
    q_bits: Vec<u32>,
    p_bits: Vec<u32>,
    q_primes: Option<Vec<u64>>,
    p_primes: Option<Vec<u64>>,
    scale: Option<f64>,
    security: SecurityLevel,
}

impl Default for ParametersBuilder {
    fn default() -> Self {
        Self {
            degree: 0,
            q_bits: Vec::new(),
            p_bits: Vec::new(),
            q_primes: None,
            p_primes: None,
            scale: None,
            security: SecurityLevel::Bits128,
        }
    }
}

impl ParametersBuilder {
    /// Ring degree N (a power of two).
    pub fn degree(mut self, n: usize) -> Self {
        self.degree = n;
        self
    }

    /// Chain prime sizes in bits: `q_0` first (the largest, it holds the
    /// result), then the rescaling primes (close to the scale).
    pub fn q_bits(mut self, bits: &[u32]) -> Self {
        self.q_bits = bits.to_vec();
        self
    }

    /// Special prime sizes in bits (key switching).
    pub fn p_bits(mut self, bits: &[u32]) -> Self {
        self.p_bits = bits.to_vec();
        self
    }

    /// Explicit chain primes.
    pub fn q_primes(mut self, primes: &[u64]) -> Self {
        self.q_primes = Some(primes.to_vec());
        self
    }

    /// Explicit special primes.
    pub fn p_primes(mut self, primes: &[u64]) -> Self {
        self.p_primes = Some(primes.to_vec());
        self
    }

    /// Default scale `2^bits`.
    pub fn scale_bits(mut self, bits: u32) -> Self {
        self.scale = Some(2f64.powi(bits as i32));
        self
    }

    /// Default scale.
    pub fn scale(mut self, scale: f64) -> Self {
        self.scale = Some(scale);
        self
    }

    /// Security level (default 128 bits).
    pub fn security(mut self, level: SecurityLevel) -> Self {
        self.security = level;
        self
    }

    /// Validates, generates primes and precomputes.
    pub fn build(self) -> Result<Parameters> {
        let mut b = Params::builder()
            .degree(self.degree)
            .security(self.security);
        b = match &self.q_primes {
            Some(p) => b.q_primes(p),
            None => b.q_bits(&self.q_bits),
        };
        b = match &self.p_primes {
            Some(p) => b.p_primes(p),
            None => b.p_bits(&self.p_bits),
        };
        let rlwe = b.build()?;
        let scale = match self.scale {
            Some(s) => s,
            None => {
                // Default: the size of the last rescaling prime.
                let q = rlwe.q();
                let last = q.get(1).or(q.first()).copied().unwrap_or(2);
                ((64 - last.leading_zeros() - 1) as f64).exp2()
            }
        };
        Parameters::new(rlwe, scale)
    }
}
