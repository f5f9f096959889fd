//! The public description of a session, shared by the coordinator and the
//! parties, and the deterministic test inputs.

use std::sync::Arc;

use ml_he::aggregation::paillier_variant::PaillierSession;
use ml_he::aggregation::{AggregationConfig, AggregationParams};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// Which homomorphic scheme the session aggregates with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// Threshold CKKS with a dealer-free collective key (t-of-n after a
    /// Shamir dealing between the parties).
    Ckks,
    /// Threshold Paillier; the key comes from a dealer party.
    Paillier,
}

/// Everything public about a session. The coordinator sends it to the
/// parties, who check it against their own policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionConfig {
    /// The scheme.
    pub scheme: Scheme,
    /// Number of parties `n` (ids 1..=n).
    pub parties: usize,
    /// Decryption threshold `t`.
    pub threshold: usize,
    /// Aggregation rounds.
    pub rounds: u64,
    /// Floats per update.
    pub len: usize,
    /// Bound on every coordinate.
    pub max_abs: f64,
    /// Statistical security of the smudging noise (CKKS).
    pub lambda: u32,
    /// Parties refuse to decrypt sums of fewer updates.
    pub min_contributors: usize,
    /// Ring degree (CKKS).
    pub degree: usize,
    /// Generate a collective relinearization key (CKKS).
    pub relin: bool,
    /// Rotation steps to generate collective Galois keys for (CKKS).
    pub galois: Vec<i64>,
    /// Paillier modulus bits (2048 or 3072).
    pub paillier_bits: u32,
    /// Use the published 512-bit test primes (INSECURE, tests only).
    pub paillier_insecure_test_primes: bool,
    /// Fixed-point fractional bits (Paillier).
    pub frac_bits: u32,
    /// The Paillier dealer (one party; never the coordinator).
    pub dealer: u32,
    /// Public session seed (common reference string), hex.
    pub seed: String,
    /// Smudging λ below 40 is allowed (INSECURE; every party must opt in
    /// too, with `--insecure-accept-weak-session`).
    #[serde(default)]
    pub insecure_weak_smudging: bool,
}

impl SessionConfig {
    /// The 32-byte public seed.
    pub fn seed_bytes(&self) -> Result<[u8; 32]> {
        let s = self.seed.as_bytes();
        if s.len() != 64 {
            return Err(Error::config("session seed must be 64 hex digits"));
        }
        let mut out = [0u8; 32];
        for (i, o) in out.iter_mut().enumerate() {
            let h = std::str::from_utf8(&s[2 * i..2 * i + 2])
                .map_err(|_| Error::config("session seed is not hex"))?;
            *o = u8::from_str_radix(h, 16).map_err(|_| Error::config("session seed is not hex"))?;
        }
        Ok(out)
    }

    /// Checks the numbers (what every party also checks).
    pub fn validate(&self) -> Result<()> {
        let (n, t) = (self.parties, self.threshold);
        if n == 0 || t == 0 || t > n || n > 4096 {
            return Err(Error::config(format!("threshold {t} of {n} parties")));
        }
        if self.len == 0 || self.len > 2_000_000 {
            return Err(Error::config(format!("vector length {}", self.len)));
        }
        if self.rounds == 0 || self.rounds > 1_000_000 {
            return Err(Error::config(format!("{} rounds", self.rounds)));
        }
        if self.min_contributors == 0 || self.min_contributors > n {
            return Err(Error::config(format!(
                "min_contributors {} of {n}",
                self.min_contributors
            )));
        }
        if self.scheme == Scheme::Paillier && (self.dealer == 0 || self.dealer as usize > n) {
            return Err(Error::config(format!("dealer {} of {n}", self.dealer)));
        }
        if self.galois.len() > 64 {
            return Err(Error::config("at most 64 Galois keys"));
        }
        self.seed_bytes()?;
        Ok(())
    }

    /// Session identifier: SHA-256 of the canonical JSON description.
    pub fn id(&self) -> [u8; 32] {
        let json = serde_json::to_vec(self).unwrap_or_default();
        let mut h = Sha256::new();
        h.update(b"hekit-mpc/session/v1");
        h.update(&json);
        h.finalize().into()
    }

    /// The CKKS aggregation parameters.
    pub fn aggregation_params(&self) -> Result<Arc<AggregationParams>> {
        let mut cfg = AggregationConfig::new(self.parties, self.threshold)
            .max_abs(self.max_abs)
            .lambda(self.lambda)
            .min_contributors(self.min_contributors)
            .degree(self.degree);
        if self.insecure_weak_smudging {
            cfg = cfg.insecure_weak_smudging();
        }
        Ok(AggregationParams::new(cfg, self.seed_bytes()?)?)
    }

    /// The Paillier session from the dealt public parameters, checked
    /// against the configuration.
    pub fn paillier_session(
        &self,
        params: threshold::paillier::PublicParams,
    ) -> Result<Arc<PaillierSession>> {
        if params.threshold() != self.threshold || params.parties() != self.parties {
            return Err(Error::Protocol(format!(
                "Paillier key dealt for {} of {} parties, session is {} of {}",
                params.threshold(),
                params.parties(),
                self.threshold,
                self.parties
            )));
        }
        let bits = params.public_key().n().bits();
        let want = if self.paillier_insecure_test_primes {
            1024
        } else {
            self.paillier_bits as u64
        };
        if bits < want {
            return Err(Error::Protocol(format!(
                "Paillier modulus of {bits} bits, session needs {want}"
            )));
        }
        Ok(PaillierSession::new(
            params,
            self.parties,
            self.max_abs,
            self.frac_bits,
        )?)
    }

    /// Galois elements for the configured rotation steps.
    pub fn galois_elements(&self) -> Vec<usize> {
        self.galois
            .iter()
            .map(|&s| rlwe::keys::galois_element_for_rotation(s, self.degree))
            .collect()
    }
}

/// The identifier of a session's collective keys, which every party
/// recomputes from the signed shares and acknowledges (signed): the session
/// id, the identifier of the encryption key (`ml_he::aggregation::SessionKey::id`,
/// or the SHA-256 of the threshold Paillier public parameters) and the
/// SHA-256 of the serialized relinearization and Galois keys, if any.
pub fn collective_key_id(
    sid: &[u8; 32],
    encryption_key: &[u8; 32],
    relin: Option<&[u8]>,
    galois: Option<&[u8]>,
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"hekit-mpc/collective-key/v1");
    h.update(sid);
    h.update(encryption_key);
    for k in [relin, galois] {
        match k {
            Some(b) => {
                h.update([1u8]);
                h.update(Sha256::digest(b));
            }
            None => h.update([0u8]),
        }
    }
    h.finalize().into()
}

/// What a party accepts, whatever the coordinator proposes. The defaults are
/// the safe ones; weakening λ or the threshold needs the explicitly named
/// insecure mode.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    /// Smallest smudging λ accepted (default 40).
    pub min_lambda: u32,
    /// Smallest threshold accepted, pinned by the party (default: a strict
    /// majority of the session's parties, `⌊n/2⌋ + 1`).
    pub min_threshold: Option<usize>,
    /// Sums of fewer updates are never decrypted or approved.
    pub min_contributors: usize,
    /// Accept λ and thresholds below the floors (INSECURE; tests and
    /// experiments only).
    pub insecure_accept_weak_session: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            min_lambda: threshold::STATISTICAL_SECURITY,
            min_threshold: None,
            min_contributors: 2,
            insecure_accept_weak_session: false,
        }
    }
}

impl Policy {
    /// Checks a proposed session; the error says which setting is refused.
    pub fn check(&self, cfg: &SessionConfig) -> Result<()> {
        let refuse = |s: String| Err(Error::Policy(s));
        if cfg.min_contributors < self.min_contributors {
            return refuse(format!(
                "the session decrypts sums of {} update(s), this party's minimum is {}",
                cfg.min_contributors, self.min_contributors
            ));
        }
        if self.insecure_accept_weak_session {
            return Ok(());
        }
        if cfg.scheme == Scheme::Ckks
            && cfg.lambda < self.min_lambda.max(threshold::STATISTICAL_SECURITY)
        {
            return refuse(format!(
                "smudging λ = {} is below this party's minimum {} (--insecure-accept-weak-session to allow)",
                cfg.lambda,
                self.min_lambda.max(threshold::STATISTICAL_SECURITY)
            ));
        }
        if cfg.insecure_weak_smudging {
            return refuse(
                "the session asks for insecure smudging (--insecure-accept-weak-session to allow)"
                    .into(),
            );
        }
        let floor = self.min_threshold.unwrap_or(cfg.parties / 2 + 1);
        if cfg.threshold < floor {
            return refuse(format!(
                "threshold t = {} of {} parties is below this party's minimum {floor} \
                 (any {} parties could decrypt individual updates; --insecure-accept-weak-session to allow)",
                cfg.threshold, cfg.parties, cfg.threshold
            ));
        }
        if cfg.scheme == Scheme::Paillier
            && !cfg.paillier_insecure_test_primes
            && cfg.paillier_bits < 2048
        {
            return refuse(format!(
                "Paillier modulus of {} bits (at least 2048)",
                cfg.paillier_bits
            ));
        }
        Ok(())
    }
}

/// Deterministic inputs for demonstrations and tests: party `party`'s
/// update for `round`, `len` values uniform in `[−scale, scale]`, derived
/// from `seed`. (A real party reads its data instead.)
pub fn party_input(seed: u64, party: u32, round: u64, len: usize, scale: f64) -> Vec<f64> {
    let mut h = Sha256::new();
    h.update(b"hekit-mpc/input/v1");
    h.update(seed.to_le_bytes());
    h.update(party.to_le_bytes());
    h.update(round.to_le_bytes());
    let mut rng = ChaCha20Rng::from_seed(h.finalize().into());
    (0..len).map(|_| rng.gen_range(-scale..=scale)).collect()
}

/// Lowercase hex.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
