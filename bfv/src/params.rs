//! BFV parameters: an RLWE parameter set, a plaintext modulus `t`, and the
//! per-level tables of the full-RNS (HPS) multiplication and decryption.

use std::sync::Arc;

use num_bigint::BigUint;
use sha2::{Digest, Sha256};

use rlwe::ntt::NttPlan;
use rlwe::params::{Params, SecurityLevel};
use rlwe::poly::RingContext;
use rlwe::rns::{BasisExtender, RnsBasis, Scaler, Upscaler};
use rlwe::serialize::{decode, encode, Kind};
use rlwe::zq::{generate_primes, is_prime, Modulus};

use crate::{Error, Result};

/// Presets at 128-bit security with the total modulus sizes of SEAL's
/// defaults (special primes included) and `t = 65537` (batching).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// N = 4096, log2(QP) = 109 (2 + 1 primes).
    N4096T65537,
    /// N = 8192, log2(QP) = 218 (3 + 2 primes, all below 2^50; two special
    /// primes halve the key-switching digits: fresh noise budget ≈ 108 bits,
    /// depth 3. SEAL's layout with one special prime — `q_bits(&[44, 44, 44,
    /// 43])`, `p_bits(&[43])` — gives depth 4 for ≈ 30 % slower key switching).
    N8192T65537,
    /// N = 16384, log2(QP) = 438 (7 + 2 primes, all below 2^50; two special
    /// primes halve the key-switching digits).
    N16384T65537,
    /// N = 32768, log2(QP) = 881 (16 + 2 primes, all below 2^50).
    N32768T65537,
}

/// Per-level tables.
#[derive(Debug)]
pub(crate) struct LevelTables {
    /// `Δ·m = round(Q_l·m/t)` over `Q_l`.
    pub(crate) upscaler: Upscaler,
    /// `Q_l → R`, exact (centered).
    pub(crate) q_to_r: BasisExtender,
    /// `R → Q_l`, exact (centered).
    pub(crate) r_to_q: BasisExtender,
    /// `round(t·x/Q_l)` from `Q_l ∪ R` into `R`.
    pub(crate) mul_scaler: Scaler,
    /// `round(t·x/Q_l) mod t` from `Q_l`.
    pub(crate) dec_scaler: Scaler,
    /// The ring `Q_l ∪ R`.
    pub(crate) ring_qr: Arc<RingContext>,
}

const PARAMS_TAG: [u8; 8] = *b"bfv/prm1";

#[derive(serde::Serialize, serde::Deserialize)]
struct ParamsBody {
    tag: [u8; 8],
    t: u64,
    rlwe: Vec<u8>,
}

/// Validated BFV parameters, shared as `Arc<Parameters>`.
pub struct Parameters {
    rlwe: Arc<Params>,
    t: Modulus,
    /// NTT plan modulo `t` when batching is available.
    batching: Option<NttPlan>,
    levels: Vec<LevelTables>,
    fingerprint: [u8; 32],
}

impl std::fmt::Debug for Parameters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("bfv::Parameters")
            .field("degree", &self.rlwe.degree())
            .field("t", &self.t.value())
            .field("log_qp", &self.rlwe.log_qp())
            .field("levels", &self.levels.len())
            .finish()
    }
}

/// Builder for [`Parameters`].
#[derive(Clone, Debug)]
pub struct ParametersBuilder {
    degree: usize,
    t: u64,
    q_bits: Vec<u32>,
    q_primes: Vec<u64>,
    p_bits: Vec<u32>,
    p_primes: Vec<u64>,
    security: SecurityLevel,
}

impl Default for ParametersBuilder {
    fn default() -> Self {
        Self {
            degree: 0,
            t: 65537,
            q_bits: Vec::new(),
            q_primes: Vec::new(),
            p_bits: Vec::new(),
            p_primes: Vec::new(),
            security: SecurityLevel::Bits128,
        }
    }
}

impl ParametersBuilder {
    /// Ring degree N (2^11 ..= 2^16 for BFV).
    pub fn degree(mut self, n: usize) -> Self {
        self.degree = n;
        self
    }
    /// Plaintext modulus t (batching needs a prime `t ≡ 1 mod 2N`).
    pub fn plaintext_modulus(mut self, t: u64) -> Self {
        self.t = t;
        self
    }
    /// Chain primes by size in bits.
    pub fn q_bits(mut self, bits: &[u32]) -> Self {
        self.q_bits = bits.to_vec();
        self
    }
    /// Chain primes given explicitly.
    pub fn q_primes(mut self, primes: &[u64]) -> Self {
        self.q_primes = primes.to_vec();
        self
    }
    /// Special (key-switching) primes by size in bits.
    pub fn p_bits(mut self, bits: &[u32]) -> Self {
        self.p_bits = bits.to_vec();
        self
    }
    /// Special primes given explicitly.
    pub fn p_primes(mut self, primes: &[u64]) -> Self {
        self.p_primes = primes.to_vec();
        self
    }
    /// Security level (default 128 bits).
    pub fn security(mut self, level: SecurityLevel) -> Self {
        self.security = level;
        self
    }

    /// Validates and precomputes.
    pub fn build(self) -> Result<Arc<Parameters>> {
        let n = self.degree;
        if !n.is_power_of_two() || !(2048..=65536).contains(&n) {
            return Err(Error::InvalidParameters {
                reason: format!("BFV ring degree {n} must be a power of two in [2^11, 2^16]"),
            });
        }
        let mut b = Params::builder().degree(n).security(self.security);
        b = if self.q_primes.is_empty() {
            b.q_bits(&self.q_bits)
        } else {
            b.q_primes(&self.q_primes)
        };
        b = if self.p_primes.is_empty() {
            b.p_bits(&self.p_bits)
        } else {
            b.p_primes(&self.p_primes)
        };
        Parameters::from_rlwe(b.build()?, self.t)
    }
}

impl Parameters {
    /// A builder (t = 65537, 128-bit security by default).
    pub fn builder() -> ParametersBuilder {
        ParametersBuilder::default()
    }

    /// One of the presets.
    pub fn preset(preset: Preset) -> Result<Arc<Parameters>> {
        let (n, q, p): (usize, Vec<u32>, Vec<u32>) = match preset {
            Preset::N4096T65537 => (4096, vec![36, 36], vec![37]),
            Preset::N8192T65537 => (8192, vec![44, 44, 44], vec![43, 43]),
            Preset::N16384T65537 => (16384, vec![49, 49, 49, 49, 49, 49, 48], vec![48, 48]),
            Preset::N32768T65537 => {
                let mut q = vec![49; 15];
                q.push(48);
                (32768, q, vec![49, 49])
            }
        };
        Self::builder()
            .degree(n)
            .plaintext_modulus(65537)
            .q_bits(&q)
            .p_bits(&p)
            .build()
    }

    /// BFV parameters over existing RLWE parameters.
    pub fn from_rlwe(rlwe: Arc<Params>, t: u64) -> Result<Arc<Parameters>> {
        let n = rlwe.degree();
        if !(2..1 << 60).contains(&t) {
            return Err(Error::InvalidParameters {
                reason: format!("plaintext modulus {t} outside [2, 2^60)"),
            });
        }
        let t_mod = Modulus::new(t)?;
        let q0_bits = 64 - rlwe.q()[0].leading_zeros();
        let t_bits = 64 - t.leading_zeros();
        if q0_bits <= t_bits + 10 {
            return Err(Error::InvalidParameters {
                reason: format!("the first chain prime ({q0_bits} bits) must exceed t ({t_bits} bits) by more than 10 bits"),
            });
        }
        if rlwe.q().iter().any(|&q| q % t == 0 || t.is_multiple_of(q)) {
            return Err(Error::InvalidParameters {
                reason: "t must be coprime to every chain prime".into(),
            });
        }
        let batching = if is_prime(t) && t % (2 * n as u64) == 1 {
            Some(NttPlan::new(n, t)?)
        } else {
            None
        };
        // Auxiliary basis R for multiplication: R > t·N·Q·4 (see mul).
        let log_q: u32 = rlwe.q().iter().map(|q| 64 - q.leading_zeros()).sum();
        let need = log_q + n.trailing_zeros() + t_bits + 4;
        let count = need.div_ceil(49) as usize;
        let mut exclude = rlwe.q().to_vec();
        exclude.extend_from_slice(rlwe.p());
        let r = generate_primes(&vec![50; count], n, &exclude)?;
        let tb = BigUint::from(t);
        let mut levels = Vec::with_capacity(rlwe.q().len());
        for level in 0..rlwe.q().len() {
            let q = &rlwe.q()[..=level];
            let qb = RnsBasis::new(q)?;
            let rb = RnsBasis::new(&r)?;
            let mut plans: Vec<Arc<NttPlan>> = rlwe.ring_q(level)?.plans().to_vec();
            for &ri in &r {
                plans.push(Arc::new(NttPlan::new(n, ri)?));
            }
            levels.push(LevelTables {
                upscaler: Upscaler::new(q, t)?,
                q_to_r: BasisExtender::new(&qb, &r)?,
                r_to_q: BasisExtender::new(&rb, q)?,
                mul_scaler: Scaler::new(q, &r, &tb, None)?,
                dec_scaler: Scaler::new(q, &[], &tb, Some(&[t]))?,
                ring_qr: RingContext::from_plans(plans)?,
            });
        }
        let mut h = Sha256::new();
        h.update(b"hekit/bfv/params/v1");
        h.update(rlwe.fingerprint());
        h.update(t.to_le_bytes());
        Ok(Arc::new(Parameters {
            rlwe,
            t: t_mod,
            batching,
            levels,
            fingerprint: h.finalize().into(),
        }))
    }

    /// The RLWE parameters.
    pub fn rlwe(&self) -> &Arc<Params> {
        &self.rlwe
    }

    /// Ring degree N.
    pub fn degree(&self) -> usize {
        self.rlwe.degree()
    }

    /// Plaintext modulus t.
    pub fn plaintext_modulus(&self) -> u64 {
        self.t.value()
    }

    pub(crate) fn t(&self) -> &Modulus {
        &self.t
    }

    /// Highest level.
    pub fn max_level(&self) -> usize {
        self.rlwe.max_level()
    }

    /// Whether SIMD batching is available (`t` prime, `t ≡ 1 mod 2N`).
    pub fn supports_batching(&self) -> bool {
        self.batching.is_some()
    }

    pub(crate) fn batching_plan(&self) -> Option<&NttPlan> {
        self.batching.as_ref()
    }

    pub(crate) fn level(&self, level: usize) -> Result<&LevelTables> {
        self.levels
            .get(level)
            .ok_or(Error::Rlwe(rlwe::Error::InvalidLevel {
                what: "BFV level",
                got: level,
                max: self.max_level(),
            }))
    }

    /// The serialized context: the RLWE parameters (degree, primes, security
    /// level) and `t`, in the versioned envelope of every hekit object. Keys
    /// and ciphertexts are written without it and bound to it by
    /// [`Self::fingerprint`], so it travels once per session.
    pub fn to_bytes(&self) -> Vec<u8> {
        let body = ParamsBody {
            tag: PARAMS_TAG,
            t: self.plaintext_modulus(),
            rlwe: self.rlwe.to_bytes(),
        };
        encode(Kind::External, &self.fingerprint, &body)
    }

    /// Reads a context written by [`Self::to_bytes`], re-validating
    /// everything; the recorded security level must be at least `min` (the
    /// reader's requirement, as for [`Params::from_bytes`]).
    ///
    /// # Errors
    /// [`Error::Malformed`] for bytes that are not a BFV context; the errors
    /// of [`Self::from_rlwe`] and [`Params::from_bytes`] (bad envelope,
    /// parameters below `min` or insecure, a fingerprint that does not
    /// match the parameters).
    pub fn from_bytes(bytes: &[u8], min: SecurityLevel) -> Result<Arc<Parameters>> {
        const WHAT: &str = "BFV parameters";
        let body: ParamsBody = decode(bytes, Kind::External, WHAT, None)?;
        if body.tag != PARAMS_TAG {
            return Err(Error::Malformed {
                what: WHAT,
                reason: "not a BFV context".into(),
            });
        }
        let rlwe = Params::from_bytes(&body.rlwe, min)?;
        let params = Self::from_rlwe(rlwe, body.t)?;
        decode::<ParamsBody>(bytes, Kind::External, WHAT, Some(params.fingerprint()))?;
        Ok(params)
    }

    /// SHA-256 fingerprint of (RLWE parameters, t).
    pub fn fingerprint(&self) -> &[u8; 32] {
        &self.fingerprint
    }

    /// Errors unless `other` are the same parameters.
    pub fn check_same(&self, other: &Parameters, what: &'static str) -> Result<()> {
        if self.fingerprint != other.fingerprint {
            return Err(Error::ParameterMismatch { what });
        }
        Ok(())
    }
}
