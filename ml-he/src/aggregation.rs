//! # HE-MPC federated averaging
//!
//! `n` clients hold model-update vectors (up to 10^6 floats each). They
//! encrypt them under a **collective threshold CKKS key**, a server that holds
//! no key material sums the ciphertexts, and any `t` of the `n` clients
//! jointly decrypt **only the sum**, from which everybody holding the `t`
//! decryption shares computes the average.
//!
//! ## Roles and what crosses between them
//!
//! | step | who | sends |
//! |---|---|---|
//! | setup | everybody | [`AggregationParams`] are public (config + session seed) |
//! | key generation | clients (key holders) | [`threshold::PublicKeyShare`] to anyone; [`threshold::SecretShareMessage`]s over private channels (Shamir dealing for t-of-n) |
//! | optional evaluation keys | clients | [`Client::relin_key_round1`] / [`Client::relin_key_round2`] and [`Client::galois_key_share`] shares to anyone; [`aggregate_relin_round1`], [`finish_relin_key`], [`finish_galois_keys`] (all `n` clients) give `ckks::RelinKey` / `ckks::GaloisKeys` |
//! | key | anyone | [`SessionKey`] (public, serialized with [`SessionKey::to_bytes`]) |
//! | encrypt | each client (input party) | [`Client::encrypt_update`] → bytes to the server |
//! | sum | server (computing party) | [`Server::add_from`] (authenticated sender) or [`Server::add`] checks and sums; [`Server::decryption_request`] → bytes to a committee of t clients |
//! | decrypt | committee clients | [`Client::decryption_share`] → bytes to the result parties |
//! | result | result parties | [`decryption_share_sender`] names a share's sender; [`combine`] → [`RoundResult`] (the average) |
//!
//! No message carries a secret: the server sees only ciphertexts, the
//! committee members see only the summed ciphertext, and a decryption share
//! `c_1·λ_i·S_i + e_smudge` reveals nothing about a party's key share or about
//! any individual update.
//!
//! ## Threat model
//!
//! Semi-honest (honest-but-curious) server and clients. Any coalition of
//! fewer than `t` clients, together with the server, learns nothing but the
//! sum (the average) of the contributing updates and the list of
//! contributors. `t` colluding clients hold the joint secret and could
//! decrypt individual updates if the server gave them the individual
//! ciphertexts: choose `t` accordingly. A client refuses to decrypt a
//! "sum" of fewer than [`AggregationConfig::min_contributors`] updates, but it
//! cannot check that the server really summed (a malicious server could send
//! one client's ciphertext as the "sum"); against a malicious server, publish
//! the individual ciphertexts so that the committee can recompute the sum.
//! Malformed bytes, ciphertexts under another key, parameter set, session or
//! round, and duplicate submissions are rejected with specific errors; a
//! malicious *client* can still submit a well-formed encryption of a bad
//! update (no zero-knowledge range proofs here). Messages name their sender
//! but are not signed: run the protocol over authenticated channels, or a
//! party could submit in another client's name (which the server would then
//! refuse as a duplicate). Over authenticated channels, [`Server::add_from`]
//! refuses an update whose named client is not the authenticated sender
//! ([`Error::WrongSender`]) and [`decryption_share_sender`] names the sender
//! of a decryption share, to compare with the authenticated one; the
//! threshold shares of key generation name theirs (`party()`).
//!
//! ## Parameters and precision
//!
//! CKKS with `N = 8192` (configurable), a chain of **two** 49-bit primes
//! (`Q ≈ 2^98`) and one 50-bit special prime (`QP ≈ 2^148`, within the
//! 218-bit bound for 128-bit security). Nothing is multiplied, so no
//! rescaling level is needed: clients encrypt directly at the only level and
//! every ciphertext holds just the two primes. Each complex slot carries two
//! reals (real and imaginary part), so one ciphertext holds `N` floats
//! (8192; 100,000 floats take 13 ciphertexts). Coefficients are bit-packed on
//! the wire (49 bits per residue): `2·N·98/8` bytes per ciphertext, 24.5
//! bytes per float — 2.61 MB for 100,000 floats (TenSEAL with a single key
//! and three primes: 5.88 MB). Secret-key ciphertexts could be halved by a
//! seed, but encryption here is under the collective *public* key.
//!
//! Encryption encodes at a scale `Δ_0 ≤ Δ` whose coefficients stay below
//! 2^62 and lifts the plaintext by the exact integer `Δ/Δ_0` (the rounding
//! error is included in the stated precision); ciphertexts are encrypted,
//! packed, parsed and summed in parallel (rayon, one task per ciphertext).
//!
//! The scale is as large as `Q` allows for sums of `n` updates of entries in
//! `[−max_abs, max_abs]`: `Δ = 2^⌊log2 Q − 2 − log2(√2·n·max_abs)⌋`
//! (2^84 for 10 clients and `max_abs = 256`). The large scale pays for the
//! smudging noise of threshold decryption: each of the `t` decryption shares
//! carries Gaussian noise of width `σ = 2^λ·B`, where `B` bounds the noise of
//! the summed ciphertext (fresh public-key encryption with the collective
//! secret: `B = 8·sqrt(k·(N/12·(2n/3) + 1/6))` for `k` summed ciphertexts)
//! and **λ = 40** by default ([`AggregationConfig::lambda`]). The stated
//! precision ([`AggregationParams::sum_precision`]) is the resulting
//! high-probability bound `2^(log2(6·√t·σ + B) + ½·log2 N) / Δ` on the
//! absolute error of each coordinate of the sum (≈ 2^-22 for the defaults
//! with `n = t = 10`); the average's error is that divided by the number of
//! contributors.
//!
//! ## Dropout
//!
//! Keys are generated by all `n` clients, then every client deals Shamir
//! shares of its secret (threshold `t`). A round sums whichever clients
//! submitted updates (the average divides by their number), and any
//! committee of `t` clients decrypts it (exactly `t`: the smudging is
//! budgeted for `t` shares). A committee of `t − 1` cannot be formed ([`threshold::Error::TooFewShares`]), and a combination
//! missing a committee member's share fails with the same error. If a
//! committee member drops out during decryption, the server issues a new
//! request to another committee: the summed ciphertext is first
//! re-randomized with a fresh encryption of zero, because a party never
//! makes two decryption shares for the same ciphertext.
//!
//! ```
//! use ml_he::aggregation::*;
//! # fn main() -> ml_he::Result<()> {
//! let mut rng = rlwe::sample::rng();
//! let params = AggregationParams::new(AggregationConfig::new(3, 2), [1; 32])?;
//! let mut clients: Vec<Client> = (1..=3)
//!     .map(|i| Client::new(&params, i, &mut rng))
//!     .collect::<ml_he::Result<_>>()?;
//! // collective key (all n) and Shamir dealing (t-of-n)
//! let shares = clients.iter_mut().map(|c| c.public_key_share(&mut rng)).collect::<ml_he::Result<Vec<_>>>()?;
//! let key = SessionKey::from_shares(&params, shares)?;
//! deal_all(&mut clients, &mut rng)?;
//! for c in &mut clients { c.set_key(key.clone())?; }
//!
//! // round 0: clients 1 and 3 submit, the server sums, clients 2 and 3 decrypt
//! let mut server = Server::new(&key, 0, 4)?;
//! server.add(&clients[0].encrypt_update(0, &[1.0, 2.0, 3.0, 4.0], &mut rng)?)?;
//! server.add(&clients[2].encrypt_update(0, &[3.0, 2.0, 1.0, 0.0], &mut rng)?)?;
//! let request = server.decryption_request(&[2, 3], &mut rng)?;
//! let dshares = vec![
//!     clients[1].decryption_share(&request, &mut rng)?,
//!     clients[2].decryption_share(&request, &mut rng)?,
//! ];
//! let result = combine(&key, &request, &dshares)?;
//! for (got, want) in result.average.iter().zip([2.0, 2.0, 2.0, 2.0]) {
//!     assert!((got - want).abs() <= result.precision);
//! }
//! # Ok(())
//! # }
//! ```

use std::collections::BTreeSet;
use std::sync::Arc;

use rand::{CryptoRng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;
use rlwe::poly::{Poly, Representation, RingContext};
use rlwe::serialize::Kind;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use threshold::{
    ActiveSet, DecryptionShare, DecryptionShares, GaloisKeyShare, GaloisKeyShares, Party, PartyId,
    PublicKeyShare, PublicKeyShares, RelinEphemeral, RelinKeyRound1, RelinKeyRound2,
    RelinRound1Share, RelinRound2Share, SecretShareMessage, Smudging,
};

use crate::{Error, Result};

// =====================================================================
// Wire helpers (shared with `testing`)
// =====================================================================

/// Bits of a modulus.
pub(crate) fn modulus_bits(q: u64) -> u32 {
    64 - q.leading_zeros()
}

/// Bytes of a bit-packed polynomial over `ctx`.
pub(crate) fn packed_len(ctx: &RingContext) -> usize {
    let bits: usize = ctx
        .moduli()
        .iter()
        .map(|m| modulus_bits(m.value()) as usize)
        .sum::<usize>()
        * ctx.degree();
    bits.div_ceil(8)
}

/// Appends the residues of `p`, each in as many bits as its modulus has,
/// as a little-endian bit stream.
pub(crate) fn pack_poly(p: &Poly, out: &mut Vec<u8>) {
    let ctx = p.context();
    let mut acc: u128 = 0;
    let mut nacc: u32 = 0;
    for (i, m) in ctx.moduli().iter().enumerate() {
        let b = modulus_bits(m.value());
        for &x in p.limb(i) {
            acc |= (x as u128) << nacc;
            nacc += b;
            if nacc >= 64 {
                out.extend_from_slice(&(acc as u64).to_le_bytes());
                acc >>= 64;
                nacc -= 64;
            }
        }
    }
    while nacc > 0 {
        out.push(acc as u8);
        acc >>= 8;
        nacc = nacc.saturating_sub(8);
    }
}

/// Reads a polynomial written by [`pack_poly`], validating the length, every
/// residue against its modulus and the zero padding.
pub(crate) fn unpack_poly(
    ctx: &Arc<RingContext>,
    repr: Representation,
    bytes: &[u8],
    what: &'static str,
) -> Result<Poly> {
    if bytes.len() != packed_len(ctx) {
        return Err(Error::Malformed {
            what,
            reason: format!(
                "packed polynomial of {} bytes, expected {}",
                bytes.len(),
                packed_len(ctx)
            ),
        });
    }
    let n = ctx.degree();
    let mut data = vec![0u64; ctx.len() * n];
    let mut acc: u128 = 0;
    let mut nacc: u32 = 0;
    let mut pos = 0usize;
    for (i, m) in ctx.moduli().iter().enumerate() {
        let q = m.value();
        let b = modulus_bits(q);
        let mask = (1u128 << b) - 1;
        for d in data[i * n..(i + 1) * n].iter_mut() {
            while nacc < b {
                if pos + 8 <= bytes.len() {
                    let mut w = [0u8; 8];
                    w.copy_from_slice(&bytes[pos..pos + 8]);
                    acc |= (u64::from_le_bytes(w) as u128) << nacc;
                    nacc += 64;
                    pos += 8;
                } else if pos < bytes.len() {
                    acc |= (bytes[pos] as u128) << nacc;
                    nacc += 8;
                    pos += 1;
                } else {
                    return Err(Error::Malformed {
                        what,
                        reason: "truncated packed polynomial".into(),
                    });
                }
            }
            let x = (acc & mask) as u64;
            acc >>= b;
            nacc -= b;
            if x >= q {
                return Err(Error::Malformed {
                    what,
                    reason: format!("residue {x} not below its modulus {q}"),
                });
            }
            *d = x;
        }
    }
    if acc != 0 || pos != bytes.len() {
        return Err(Error::Malformed {
            what,
            reason: "non-zero padding".into(),
        });
    }
    Ok(Poly::from_limbs(ctx, repr, data)?)
}

/// Largest header accepted (bytes).
const MAX_HEADER: u64 = 1 << 20;

/// A message: `u64` header length, a versioned `rlwe::serialize` envelope
/// (magic, version, kind, parameter fingerprint) holding the header, then the
/// payload whose exact length the header determines.
pub(crate) fn frame<H: Serialize>(fingerprint: &[u8; 32], header: &H, payload: &[u8]) -> Vec<u8> {
    let h = rlwe::serialize::encode(Kind::External, fingerprint, header);
    let mut out = Vec::with_capacity(8 + h.len() + payload.len());
    out.extend_from_slice(&(h.len() as u64).to_le_bytes());
    out.extend_from_slice(&h);
    out.extend_from_slice(payload);
    out
}

/// Splits a message written by [`frame`] into its header and payload.
pub(crate) fn unframe<'a, H: DeserializeOwned>(
    bytes: &'a [u8],
    what: &'static str,
    fingerprint: &[u8; 32],
) -> Result<(H, &'a [u8])> {
    if bytes.len() < 8 {
        return Err(Error::Malformed {
            what,
            reason: format!("{} bytes, shorter than the length prefix", bytes.len()),
        });
    }
    let mut w = [0u8; 8];
    w.copy_from_slice(&bytes[..8]);
    let hl = u64::from_le_bytes(w);
    if hl > MAX_HEADER || hl > (bytes.len() - 8) as u64 {
        return Err(Error::Malformed {
            what,
            reason: format!("header length {hl} out of range"),
        });
    }
    let hl = hl as usize;
    let header: H =
        rlwe::serialize::decode(&bytes[8..8 + hl], Kind::External, what, Some(fingerprint))
            .map_err(|e| match e {
                rlwe::Error::ParameterMismatch { .. } => Error::SessionMismatch {
                    what: format!("{what} belongs to another parameter set"),
                },
                other => Error::Malformed {
                    what,
                    reason: other.to_string(),
                },
            })?;
    Ok((header, &bytes[8 + hl..]))
}

/// A 32-byte digest of `data` in the context `domain` (SHA-256 through
/// `rlwe::sample::expand_seed`).
pub(crate) fn digest(domain: &[u8], data: &[u8]) -> [u8; 32] {
    let mut input = Vec::with_capacity(domain.len() + data.len());
    input.extend_from_slice(domain);
    input.extend_from_slice(data);
    let mut r = rlwe::sample::expand_seed(&[0u8; 32], &input);
    let mut out = [0u8; 32];
    r.fill_bytes(&mut out);
    out
}

/// Per-item generators drawn from the caller's CSPRNG (for rayon).
pub(crate) fn child_rngs<R: RngCore + CryptoRng>(rng: &mut R, count: usize) -> Vec<ChaCha20Rng> {
    (0..count)
        .map(|_| {
            let mut seed = [0u8; 32];
            rng.fill_bytes(&mut seed);
            ChaCha20Rng::from_seed(seed)
        })
        .collect()
}

fn check_tag(found: &[u8; 8], expected: &[u8; 8], what: &'static str) -> Result<()> {
    if found != expected {
        return Err(Error::Malformed {
            what,
            reason: format!(
                "message type {:?}, expected {:?}",
                String::from_utf8_lossy(found),
                String::from_utf8_lossy(expected)
            ),
        });
    }
    Ok(())
}

// =====================================================================
// Parameters
// =====================================================================

/// What a session is set up for.
#[derive(Clone, Debug, PartialEq)]
pub struct AggregationConfig {
    /// Number of clients `n` (ids 1..=n).
    pub clients: usize,
    /// Decryption threshold `t` (any `t` clients decrypt, `t − 1` cannot).
    pub threshold: usize,
    /// Bound on every coordinate a client submits (checked by the client).
    pub max_abs: f64,
    /// Statistical security λ of the smudging noise in decryption shares.
    pub lambda: u32,
    /// A client refuses to decrypt a sum of fewer updates than this.
    pub min_contributors: usize,
    /// Ring degree `N` (8192 or 16384; `N` floats per ciphertext).
    pub degree: usize,
}

impl AggregationConfig {
    /// `n` clients, threshold `t`; `max_abs = 256`, `λ = 40`, at least two
    /// contributors per decrypted sum, `N = 8192`.
    pub fn new(clients: usize, threshold: usize) -> Self {
        Self {
            clients,
            threshold,
            max_abs: 256.0,
            lambda: threshold::STATISTICAL_SECURITY,
            min_contributors: 2.min(clients.max(1)),
            degree: 8192,
        }
    }

    /// Sets the coordinate bound.
    pub fn max_abs(mut self, max_abs: f64) -> Self {
        self.max_abs = max_abs;
        self
    }

    /// Sets λ.
    pub fn lambda(mut self, lambda: u32) -> Self {
        self.lambda = lambda;
        self
    }

    /// Sets the minimum number of contributors.
    pub fn min_contributors(mut self, k: usize) -> Self {
        self.min_contributors = k;
        self
    }

    /// Sets the ring degree.
    pub fn degree(mut self, degree: usize) -> Self {
        self.degree = degree;
        self
    }
}

/// How many fresh ciphertexts of noise the budget allows beyond the `n`
/// updates: the re-randomizations of retried decryption requests.
const MAX_RETRIES: u32 = 4;

/// The public parameters of an aggregation session: the configuration, the
/// CKKS parameters, the scale, the smudging width and the stated precision,
/// and the session's common reference string. Everybody derives the same
/// object from the same config and session seed.
pub struct AggregationParams {
    config: AggregationConfig,
    ckks: ckks::Parameters,
    encoder: ckks::Encoder,
    scale: f64,
    encode_shift: u32,
    log2_noise: f64,
    smudging: Smudging,
    sum_precision: f64,
    crs: threshold::Crs,
}

impl std::fmt::Debug for AggregationParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AggregationParams")
            .field("config", &self.config)
            .field("ckks", &self.ckks)
            .field("log2_scale", &self.scale.log2())
            .field("log2_noise", &self.log2_noise)
            .field("log2_smudging_sigma", &self.smudging.log2_sigma())
            .field("sum_precision", &self.sum_precision)
            .finish()
    }
}

impl AggregationParams {
    /// Validates `config` and derives everything from it and the public
    /// session seed.
    pub fn new(config: AggregationConfig, session_seed: [u8; 32]) -> Result<Arc<Self>> {
        let n = config.clients;
        let t = config.threshold;
        if n == 0 || t == 0 || t > n || n >= 1 << 20 {
            return Err(Error::OutOfRange(format!(
                "threshold t = {t} of n = {n} clients (need 1 ≤ t ≤ n < 2^20)"
            )));
        }
        if !(config.max_abs.is_finite() && config.max_abs > 0.0) {
            return Err(Error::OutOfRange(format!(
                "max_abs = {} must be finite and positive",
                config.max_abs
            )));
        }
        if config.min_contributors == 0 || config.min_contributors > n {
            return Err(Error::OutOfRange(format!(
                "min_contributors = {} must be in 1..={n}",
                config.min_contributors
            )));
        }
        if config.degree != 8192 && config.degree != 16384 {
            return Err(Error::OutOfRange(format!(
                "ring degree {} (8192 or 16384)",
                config.degree
            )));
        }
        let rlwe = rlwe::params::Params::builder()
            .degree(config.degree)
            .q_bits(&[49, 49])
            .p_bits(&[50])
            .build()?;
        let log_q: f64 = rlwe.q().iter().map(|&q| (q as f64).log2()).sum();
        // Coefficients of a polynomial whose (complex) slots are bounded by
        // S are bounded by √2·S; the sum of n updates must stay below Q/4.
        let bound = std::f64::consts::SQRT_2 * n as f64 * config.max_abs;
        let log_scale = (log_q - 2.0 - bound.log2()).floor();
        if log_scale < 20.0 {
            return Err(Error::OutOfRange(format!(
                "max_abs = {} for {n} clients leaves a scale of only 2^{log_scale}",
                config.max_abs
            )));
        }
        let scale = log_scale.exp2();
        let ckks = ckks::Parameters::new(rlwe, scale)?;
        let encoder = ckks::Encoder::new(&ckks);
        let log2_noise = Self::noise_bound(config.degree, n, n + MAX_RETRIES as usize);
        // The precision the smudging leaves (bits below the scale).
        let probe = Smudging::new(log2_noise, config.lambda);
        let embed = 0.5 * (config.degree as f64).log2();
        let log_err = probe.log2_total_bound(t, log2_noise) + embed;
        let precision_bits = log_scale - log_err;
        if precision_bits < 10.0 {
            return Err(Error::OutOfRange(format!(
                "λ = {} leaves only {precision_bits:.1} bits of precision",
                config.lambda
            )));
        }
        let smudging = Smudging::for_ckks(
            &ckks,
            scale,
            log2_noise,
            t,
            precision_bits - 0.01,
            config.lambda,
        )?;
        // Encoding scale with coefficients of one update below 2^62
        // (|coefficient| ≤ √2·max_abs·Δ_0); shift = log2(Δ/Δ_0) < 64.
        let log_low = (61.0 - (std::f64::consts::SQRT_2 * config.max_abs).log2())
            .floor()
            .min(log_scale);
        let encode_shift = (log_scale - log_low).clamp(0.0, 62.0) as u32;
        let log_low = log_scale - encode_shift as f64;
        // Rounding at Δ_0: ≤ ½ per coefficient, ≤ N/2 in a slot, per update.
        let rounding = n as f64 * config.degree as f64 * 0.5 / log_low.exp2();
        Ok(Arc::new(Self {
            config,
            ckks,
            encoder,
            scale,
            encode_shift,
            log2_noise,
            smudging,
            sum_precision: (log_err - log_scale).exp2() + rounding,
            crs: threshold::Crs::from_seed(session_seed),
        }))
    }

    /// log2 of a high-probability (8σ) bound on the phase noise of a sum of
    /// `k` fresh public-key encryptions under the collective secret of `n`
    /// ternary secrets: the rounding of the division by `P` leaves
    /// `r_0 + r_1·s` with `r` uniform in `[−½, ½]` (variance 1/12) and `s`
    /// of coefficient variance `2n/3`, plus the encoding rounding.
    fn noise_bound(degree: usize, n: usize, k: usize) -> f64 {
        let var_ct = degree as f64 / 12.0 * (2.0 * n as f64 / 3.0) + 2.0 / 12.0;
        (8.0 * (k as f64 * var_ct).sqrt()).log2()
    }

    /// The configuration.
    pub fn config(&self) -> &AggregationConfig {
        &self.config
    }

    /// The CKKS parameters.
    pub fn ckks(&self) -> &ckks::Parameters {
        &self.ckks
    }

    /// The encoding scale Δ.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// Floats per ciphertext (`N`: two per complex slot).
    pub fn values_per_ciphertext(&self) -> usize {
        self.ckks.degree()
    }

    /// Ciphertexts for a vector of `len` floats.
    pub fn ciphertexts_for(&self, len: usize) -> usize {
        len.div_ceil(self.values_per_ciphertext()).max(1)
    }

    /// Bytes on the wire of one client's update of `len` floats.
    pub fn update_bytes(&self, len: usize) -> usize {
        self.ciphertexts_for(len) * 2 * packed_len(self.ring())
    }

    /// Stated bound on the absolute error of each coordinate of the
    /// decrypted **sum** (encryption noise plus `t` smudged shares).
    pub fn sum_precision(&self) -> f64 {
        self.sum_precision
    }

    /// log2 of the bound on the summed ciphertext's noise used for smudging.
    pub fn log2_noise(&self) -> f64 {
        self.log2_noise
    }

    /// The smudging width of each decryption share.
    pub fn smudging(&self) -> &Smudging {
        &self.smudging
    }

    fn ring(&self) -> &Arc<RingContext> {
        // level max_level = the whole chain Q
        self.ckks.rlwe().ring_q_top()
    }

    fn fingerprint(&self) -> &[u8; 32] {
        self.ckks.rlwe().fingerprint()
    }

    fn check_party(&self, id: u32) -> Result<()> {
        if id == 0 || id as usize > self.config.clients {
            return Err(Error::UnknownParty { party: id });
        }
        Ok(())
    }

    fn active_set(&self, committee: &[u32]) -> Result<ActiveSet> {
        for &c in committee {
            self.check_party(c)?;
        }
        let ids: Vec<PartyId> = committee.iter().map(|&c| PartyId(c)).collect();
        let set = ActiveSet::new(&ids, self.config.threshold)?;
        // The smudging width is budgeted for t shares.
        if set.parties().len() != self.config.threshold {
            return Err(Error::OutOfRange(format!(
                "committee of {} clients: exactly t = {} decrypt",
                set.parties().len(),
                self.config.threshold
            )));
        }
        Ok(set)
    }

    /// Packs `N` reals into `N/2` complex slots at scale Δ. The encoder
    /// rounds at the scale `Δ_0 = Δ / 2^shift` that keeps every coefficient
    /// below 2^62 (its fast path), then the plaintext is multiplied by the
    /// integer `2^shift` (exact, modulo each prime): the rounding error,
    /// at most ½ per coefficient at `Δ_0`, is part of the stated precision.
    fn encode_chunk(&self, chunk: &[f64]) -> Result<ckks::Plaintext> {
        let z: Vec<ckks::Complex> = chunk
            .chunks(2)
            .map(|p| ckks::Complex::new(p[0], p.get(1).copied().unwrap_or(0.0)))
            .collect();
        let level = self.ckks.max_level();
        if self.encode_shift == 0 {
            return Ok(self.encoder.encode_complex_at(&z, level, self.scale)?);
        }
        let low = self.scale / (self.encode_shift as f64).exp2();
        let pt = self.encoder.encode_complex_at(&z, level, low)?;
        let mut poly = pt.poly().clone();
        poly.mul_scalar_assign(1u64 << self.encode_shift);
        Ok(ckks::Plaintext::from_poly(&self.ckks, poly, self.scale)?)
    }

    fn pack_cts(&self, cts: &[ckks::Ciphertext]) -> Vec<u8> {
        let per = 2 * packed_len(self.ring());
        let parts: Vec<Vec<u8>> = cts
            .par_iter()
            .map(|ct| {
                let mut out = Vec::with_capacity(per);
                for p in ct.rlwe().parts() {
                    pack_poly(p, &mut out);
                }
                out
            })
            .collect();
        let mut out = Vec::with_capacity(per * cts.len());
        for p in parts {
            out.extend_from_slice(&p);
        }
        out
    }

    fn unpack_cts(
        &self,
        payload: &[u8],
        count: usize,
        what: &'static str,
    ) -> Result<Vec<ckks::Ciphertext>> {
        let one = packed_len(self.ring());
        if payload.len() != count * 2 * one {
            return Err(Error::Malformed {
                what,
                reason: format!(
                    "payload of {} bytes for {count} ciphertexts of {} bytes",
                    payload.len(),
                    2 * one
                ),
            });
        }
        payload
            .par_chunks(2 * one)
            .map(|c| {
                let c0 = unpack_poly(self.ring(), Representation::Ntt, &c[..one], what)?;
                let c1 = unpack_poly(self.ring(), Representation::Ntt, &c[one..], what)?;
                let ct = rlwe::ciphertext::Ciphertext::new(self.ckks.rlwe(), vec![c0, c1])?;
                Ok(ckks::Ciphertext::from_rlwe(&self.ckks, ct, self.scale)?)
            })
            .collect()
    }
}

// =====================================================================
// The collective key
// =====================================================================

/// The session's collective public key and its identifier (a digest of the
/// key), which every message carries. Public.
#[derive(Clone)]
pub struct SessionKey {
    params: Arc<AggregationParams>,
    pk: ckks::PublicKey,
    id: [u8; 32],
}

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionKey")
            .field("id", &hex(&self.id[..8]))
            .finish_non_exhaustive()
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl SessionKey {
    /// Aggregates the public-key shares of **all** `n` clients.
    pub fn from_shares(
        params: &Arc<AggregationParams>,
        shares: impl IntoIterator<Item = PublicKeyShare>,
    ) -> Result<Self> {
        let agg = PublicKeyShares::aggregate(shares)?;
        let parties = agg.parties();
        for p in &parties {
            params.check_party(p.0)?;
        }
        if parties.len() != params.config.clients {
            return Err(Error::Threshold(threshold::Error::TooFewShares {
                got: parties.len(),
                need: params.config.clients,
            }));
        }
        let pk = ckks::PublicKey::from_rlwe(&params.ckks, agg.finish()?)?;
        Ok(Self::wrap(params, pk))
    }

    fn wrap(params: &Arc<AggregationParams>, pk: ckks::PublicKey) -> Self {
        let mut data = pk.to_bytes();
        data.extend_from_slice(params.crs.seed());
        let id = digest(b"ml-he/aggregation/session-key/v1", &data);
        Self {
            params: params.clone(),
            pk,
            id,
        }
    }

    /// Serialized public key.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.pk.to_bytes()
    }

    /// Reads a serialized public key of this session.
    pub fn from_bytes(params: &Arc<AggregationParams>, bytes: &[u8]) -> Result<Self> {
        let pk = ckks::PublicKey::from_bytes(&params.ckks, bytes)?;
        Ok(Self::wrap(params, pk))
    }

    /// The key identifier carried by every message of the session.
    pub fn id(&self) -> &[u8; 32] {
        &self.id
    }

    /// The session parameters.
    pub fn params(&self) -> &Arc<AggregationParams> {
        &self.params
    }

    /// The CKKS public key.
    pub fn public_key(&self) -> &ckks::PublicKey {
        &self.pk
    }

    /// Encrypts `update` as client `client` for `round` (what
    /// [`Client::encrypt_update`] does; only the public key is needed).
    /// Ciphertexts are made in parallel (rayon), each from its own ChaCha20
    /// generator seeded from `rng`.
    pub fn encrypt_update<R: RngCore + CryptoRng>(
        &self,
        client: u32,
        round: u64,
        update: &[f64],
        rng: &mut R,
    ) -> Result<Vec<u8>> {
        let p = &self.params;
        p.check_party(client)?;
        if update.is_empty() {
            return Err(Error::Shape("empty update".into()));
        }
        if let Some((i, x)) = update
            .iter()
            .enumerate()
            .find(|(_, x)| !x.is_finite() || x.abs() > p.config.max_abs)
        {
            return Err(Error::OutOfRange(format!(
                "coordinate {i} = {x} outside ±{} (max_abs)",
                p.config.max_abs
            )));
        }
        let count = p.ciphertexts_for(update.len());
        let rngs = child_rngs(rng, count);
        let cts: Vec<ckks::Ciphertext> = update
            .par_chunks(p.values_per_ciphertext())
            .zip(rngs)
            .map(|(chunk, mut r)| {
                let pt = p.encode_chunk(chunk)?;
                Ok(self.pk.encrypt(&pt, &mut r)?)
            })
            .collect::<Result<_>>()?;
        let header = UpdateHeader {
            tag: UPDATE_TAG,
            key: self.id,
            round,
            client,
            len: update.len() as u64,
            count: count as u32,
            scale: p.scale,
        };
        Ok(frame(p.fingerprint(), &header, &p.pack_cts(&cts)))
    }
}

const UPDATE_TAG: [u8; 8] = *b"agg/upd1";
const REQUEST_TAG: [u8; 8] = *b"agg/req1";
const SHARE_TAG: [u8; 8] = *b"agg/dsh1";

#[derive(Serialize, Deserialize)]
struct UpdateHeader {
    tag: [u8; 8],
    key: [u8; 32],
    round: u64,
    client: u32,
    len: u64,
    count: u32,
    scale: f64,
}

#[derive(Serialize, Deserialize)]
struct RequestHeader {
    tag: [u8; 8],
    key: [u8; 32],
    round: u64,
    len: u64,
    contributors: Vec<u32>,
    committee: Vec<u32>,
    nonce: [u8; 32],
    count: u32,
    scale: f64,
}

#[derive(Serialize, Deserialize)]
struct ShareHeader {
    tag: [u8; 8],
    key: [u8; 32],
    round: u64,
    nonce: [u8; 32],
    party: u32,
    count: u32,
}

/// A parsed decryption request.
struct Request {
    header: RequestHeader,
    cts: Vec<ckks::Ciphertext>,
    active: ActiveSet,
}

fn parse_request(key: &SessionKey, bytes: &[u8]) -> Result<Request> {
    const WHAT: &str = "decryption request";
    let (header, active, payload) = parse_request_header(key, bytes)?;
    let cts = key
        .params
        .unpack_cts(payload, header.count as usize, WHAT)?;
    Ok(Request {
        header,
        cts,
        active,
    })
}

/// The checked header and committee of a decryption request, and its
/// (unparsed) payload.
fn parse_request_header<'a>(
    key: &SessionKey,
    bytes: &'a [u8],
) -> Result<(RequestHeader, ActiveSet, &'a [u8])> {
    let p = &key.params;
    const WHAT: &str = "decryption request";
    let (h, payload): (RequestHeader, _) = unframe(bytes, WHAT, p.fingerprint())?;
    check_tag(&h.tag, &REQUEST_TAG, WHAT)?;
    if h.key != key.id {
        return Err(Error::SessionMismatch {
            what: "decryption request for another collective key".into(),
        });
    }
    let mut seen = BTreeSet::new();
    for &c in &h.contributors {
        p.check_party(c)?;
        if !seen.insert(c) {
            return Err(Error::DuplicateSubmission { party: c });
        }
    }
    if h.contributors.is_empty() {
        return Err(Error::Protocol(
            "decryption request with no contributor".into(),
        ));
    }
    if h.scale != p.scale {
        return Err(Error::Malformed {
            what: WHAT,
            reason: format!("scale {} is not the session's", h.scale),
        });
    }
    if h.len == 0 || h.count as usize != p.ciphertexts_for(h.len as usize) {
        return Err(Error::Malformed {
            what: WHAT,
            reason: format!("{} ciphertexts for {} values", h.count, h.len),
        });
    }
    let active = p.active_set(&h.committee)?;
    Ok((h, active, payload))
}

// =====================================================================
// Client (input party and key holder)
// =====================================================================

/// A client: an input party (encrypts its update) and a key holder (its
/// additive secret and its Shamir share of the joint secret never leave it).
pub struct Client {
    id: u32,
    params: Arc<AggregationParams>,
    party: Party,
    key: Option<SessionKey>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.id)
            .field("has_key", &self.key.is_some())
            .field("threshold", &self.party.threshold())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Client `id` (1..=n) with a fresh secret.
    pub fn new<R: RngCore + CryptoRng>(
        params: &Arc<AggregationParams>,
        id: u32,
        rng: &mut R,
    ) -> Result<Self> {
        params.check_party(id)?;
        Ok(Self {
            id,
            params: params.clone(),
            party: Party::new(PartyId(id), params.ckks.rlwe(), rng),
            key: None,
        })
    }

    /// The client's id.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// This client's share of the collective public key (once per session).
    pub fn public_key_share<R: RngCore + CryptoRng>(
        &mut self,
        rng: &mut R,
    ) -> Result<PublicKeyShare> {
        Ok(self.party.public_key_share(&self.params.crs, rng)?)
    }

    /// Shamir shares of this client's secret for every client (threshold
    /// `t`), to be sent over private channels.
    pub fn deal<R: RngCore + CryptoRng>(&self, rng: &mut R) -> Result<Vec<SecretShareMessage>> {
        let c = &self.params.config;
        Ok(self.party.deal(c.threshold, c.clients, rng)?)
    }

    /// Keeps the sum of the `n` dealings addressed to this client.
    pub fn receive_dealings(&mut self, messages: Vec<SecretShareMessage>) -> Result<()> {
        let c = &self.params.config;
        Ok(self
            .party
            .receive_dealings(messages, c.threshold, c.clients)?)
    }

    /// Round one of the collective relinearization key: this client's
    /// share (to everybody) and its ephemeral secret (kept for round two).
    /// Once per session.
    pub fn relin_key_round1<R: RngCore + CryptoRng>(
        &mut self,
        rng: &mut R,
    ) -> Result<(RelinRound1Share, RelinEphemeral)> {
        Ok(self.party.relin_key_round1(&self.params.crs, rng)?)
    }

    /// Round two of the collective relinearization key, from this client's
    /// round-one ephemeral secret and the aggregate of **all** `n` clients'
    /// round-one shares ([`aggregate_relin_round1`]).
    pub fn relin_key_round2<R: RngCore + CryptoRng>(
        &mut self,
        ephemeral: RelinEphemeral,
        round1: &RelinKeyRound1,
        rng: &mut R,
    ) -> Result<RelinRound2Share> {
        check_all_parties(&self.params, &round1.parties())?;
        Ok(self.party.relin_key_round2(ephemeral, round1, rng)?)
    }

    /// This client's share of the collective Galois key for `element`
    /// (`X → X^element`, odd; see `rlwe::keys::galois_element_for_rotation`).
    /// Once per element and session.
    pub fn galois_key_share<R: RngCore + CryptoRng>(
        &mut self,
        element: usize,
        rng: &mut R,
    ) -> Result<GaloisKeyShare> {
        Ok(self
            .party
            .galois_key_share(&self.params.crs, element, rng)?)
    }

    /// Installs the session's collective key.
    pub fn set_key(&mut self, key: SessionKey) -> Result<()> {
        if !Arc::ptr_eq(&key.params, &self.params)
            && key.params.fingerprint() != self.params.fingerprint()
        {
            return Err(Error::SessionMismatch {
                what: "collective key of another parameter set".into(),
            });
        }
        self.key = Some(key);
        Ok(())
    }

    fn key(&self) -> Result<&SessionKey> {
        self.key
            .as_ref()
            .ok_or_else(|| Error::Protocol("the collective key is not set".into()))
    }

    /// Encrypts this client's update for `round` (every coordinate within
    /// `±max_abs`); the bytes go to the server.
    pub fn encrypt_update<R: RngCore + CryptoRng>(
        &self,
        round: u64,
        update: &[f64],
        rng: &mut R,
    ) -> Result<Vec<u8>> {
        self.key()?.encrypt_update(self.id, round, update, rng)
    }

    /// This client's decryption share of the summed ciphertext in
    /// `request`, as a member of the request's committee. Refuses requests
    /// for another key, committees it is not part of, sums of fewer than
    /// `min_contributors` updates, and a second share of the same
    /// ciphertext.
    pub fn decryption_share<R: RngCore + CryptoRng>(
        &mut self,
        request: &[u8],
        rng: &mut R,
    ) -> Result<Vec<u8>> {
        let key = self.key()?.clone();
        if self.party.threshold().is_none() {
            return Err(Error::Protocol(
                "no Shamir share: receive the dealings first".into(),
            ));
        }
        let req = parse_request(&key, request)?;
        if !req.active.contains(PartyId(self.id)) {
            return Err(Error::UnknownParty { party: self.id });
        }
        let min = self.params.config.min_contributors;
        if req.header.contributors.len() < min {
            return Err(Error::Protocol(format!(
                "refusing to decrypt a sum of {} update(s) (minimum {min})",
                req.header.contributors.len()
            )));
        }
        let smudging = self.params.smudging;
        let mut payload = Vec::with_capacity(req.cts.len() * packed_len(self.params.ring()));
        for ct in &req.cts {
            let share =
                self.party
                    .decryption_share(ct.rlwe(), Some(&req.active), &smudging, rng)?;
            pack_poly(share.poly(), &mut payload);
        }
        let header = ShareHeader {
            tag: SHARE_TAG,
            key: key.id,
            round: req.header.round,
            nonce: req.header.nonce,
            party: self.id,
            count: req.header.count,
        };
        Ok(frame(self.params.fingerprint(), &header, &payload))
    }
}

/// Runs the Shamir dealing among `clients` in one process (every client
/// deals to every other; in a deployment each message goes over a private
/// channel).
pub fn deal_all<R: RngCore + CryptoRng>(clients: &mut [Client], rng: &mut R) -> Result<()> {
    let n = clients.len();
    let mut inbox: Vec<Vec<SecretShareMessage>> = (0..n).map(|_| Vec::new()).collect();
    for c in clients.iter() {
        for m in c.deal(rng)? {
            let to = m.to.0 as usize;
            let slot = clients
                .iter()
                .position(|c| c.id as usize == to)
                .ok_or(Error::UnknownParty { party: m.to.0 })?;
            inbox[slot].push(m);
        }
    }
    for (c, msgs) in clients.iter_mut().zip(inbox) {
        c.receive_dealings(msgs)?;
    }
    Ok(())
}

/// Errors unless `parties` are exactly the session's clients `1..=n`.
fn check_all_parties(params: &AggregationParams, parties: &[PartyId]) -> Result<()> {
    for p in parties {
        params.check_party(p.0)?;
    }
    if parties.len() != params.config.clients {
        return Err(Error::Threshold(threshold::Error::TooFewShares {
            got: parties.len(),
            need: params.config.clients,
        }));
    }
    Ok(())
}

/// Sums the round-one relinearization shares of **all** `n` clients (made
/// by [`Client::relin_key_round1`]); every client needs this aggregate for
/// round two. Errors: a client outside the session
/// ([`Error::UnknownParty`]), a missing one or a duplicate, a share of
/// another parameter set or session ([`Error::Threshold`]).
pub fn aggregate_relin_round1(
    params: &Arc<AggregationParams>,
    shares: impl IntoIterator<Item = RelinRound1Share>,
) -> Result<RelinKeyRound1> {
    let round1 = RelinKeyRound1::aggregate(shares)?;
    check_all_parties(params, &round1.parties())?;
    Ok(round1)
}

/// The collective relinearization key from the round-one aggregate and the
/// round-two shares of all `n` clients ([`Client::relin_key_round2`]).
pub fn finish_relin_key(
    params: &Arc<AggregationParams>,
    round1: RelinKeyRound1,
    shares: impl IntoIterator<Item = RelinRound2Share>,
) -> Result<ckks::RelinKey> {
    check_all_parties(params, &round1.parties())?;
    let round2 = RelinKeyRound2::aggregate(round1, shares)?;
    check_all_parties(params, &round2.parties())?;
    Ok(ckks::RelinKey::from_rlwe(&params.ckks, round2.finish()?)?)
}

/// The collective Galois keys from the shares of all `n` clients
/// ([`Client::galois_key_share`]) for one or more elements, in any order:
/// the shares are grouped by element, and every element needs a share of
/// every client.
pub fn finish_galois_keys(
    params: &Arc<AggregationParams>,
    shares: impl IntoIterator<Item = GaloisKeyShare>,
) -> Result<ckks::GaloisKeys> {
    let mut per_element: std::collections::BTreeMap<usize, Vec<GaloisKeyShare>> =
        std::collections::BTreeMap::new();
    for s in shares {
        params.check_party(s.party().0)?;
        per_element.entry(s.element()).or_default().push(s);
    }
    if per_element.is_empty() {
        return Err(Error::Threshold(threshold::Error::TooFewShares {
            got: 0,
            need: params.config.clients,
        }));
    }
    let mut gks = rlwe::keys::GaloisKeys::default();
    for (_, shares) in per_element {
        let agg = GaloisKeyShares::aggregate(shares)?;
        check_all_parties(params, &agg.parties())?;
        let gk = agg.finish()?;
        params
            .ckks
            .rlwe()
            .check_same(gk.key().params(), "Galois key and session parameters")?;
        gks.insert(gk);
    }
    Ok(ckks::GaloisKeys::from_rlwe(&params.ckks, gks))
}

// =====================================================================
// Server (computing party)
// =====================================================================

/// An encrypted update that passed every check of [`Server::check_update`]
/// (or [`paillier_variant::PaillierServer::check_update`]), parsed once and
/// ready for `add_checked`. Public ciphertexts only; `C` is
/// `ckks::Ciphertext` or `paillier::Ciphertext`.
pub struct CheckedUpdate<C = ckks::Ciphertext> {
    /// The key (CKKS) or session (Paillier) identifier it was checked for.
    id: [u8; 32],
    round: u64,
    client: u32,
    cts: Vec<C>,
}

impl<C> CheckedUpdate<C> {
    /// The client whose update it is (the authenticated sender).
    pub fn client(&self) -> u32 {
        self.client
    }

    /// The round it was made for.
    pub fn round(&self) -> u64 {
        self.round
    }
}

impl<C> std::fmt::Debug for CheckedUpdate<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckedUpdate")
            .field("client", &self.client)
            .field("round", &self.round)
            .field("ciphertexts", &self.cts.len())
            .finish_non_exhaustive()
    }
}

/// The aggregation server of one round: checks and sums encrypted updates.
/// It holds the public key only and never decrypts.
pub struct Server {
    key: SessionKey,
    evaluator: ckks::Evaluator,
    round: u64,
    len: usize,
    sum: Option<Vec<ckks::Ciphertext>>,
    contributors: BTreeSet<u32>,
    requests: u32,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("round", &self.round)
            .field("len", &self.len)
            .field("contributors", &self.contributors)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// A server for `round`, expecting updates of `len` floats.
    pub fn new(key: &SessionKey, round: u64, len: usize) -> Result<Self> {
        if len == 0 {
            return Err(Error::Shape("updates of zero length".into()));
        }
        Ok(Self {
            key: key.clone(),
            evaluator: ckks::Evaluator::new(&key.params.ckks),
            round,
            len,
            sum: None,
            contributors: BTreeSet::new(),
            requests: 0,
        })
    }

    /// Checks an encrypted update and adds it to the sum; returns the
    /// client's id. Errors: [`Error::Malformed`] (bytes, tag, sizes,
    /// residues), [`Error::SessionMismatch`] (another key, parameter set or
    /// round), [`Error::UnknownParty`], [`Error::DuplicateSubmission`],
    /// [`Error::Shape`] (another vector length). The update names its
    /// sender but is not signed: when the sender is authenticated (a TLS
    /// certificate, a signed channel), use [`Self::add_from`].
    pub fn add(&mut self, bytes: &[u8]) -> Result<u32> {
        let u = self.parse_update(None, bytes)?;
        self.add_checked(u)
    }

    /// As [`Self::add`] for an update received from the authenticated client
    /// `expected_party`: an update in the name of another client is
    /// [`Error::WrongSender`], refused before the sum is touched (the bytes
    /// are parsed once).
    pub fn add_from(&mut self, expected_party: u32, bytes: &[u8]) -> Result<u32> {
        let u = self.check_update(expected_party, bytes)?;
        self.add_checked(u)
    }

    /// Every check of [`Self::add_from`] (sender included) without adding:
    /// the parsed update, to be added with [`Self::add_checked`] — e.g. after
    /// it was persisted. The sum is not touched.
    pub fn check_update(&self, expected_party: u32, bytes: &[u8]) -> Result<CheckedUpdate> {
        self.parse_update(Some(expected_party), bytes)
    }

    /// Adds an update that passed [`Self::check_update`] on this server;
    /// returns the client's id. A second update of the same client is still
    /// [`Error::DuplicateSubmission`], one checked by another round's or
    /// key's server [`Error::SessionMismatch`].
    pub fn add_checked(&mut self, update: CheckedUpdate) -> Result<u32> {
        if update.id != self.key.id || update.round != self.round {
            return Err(Error::SessionMismatch {
                what: "update checked for another round or collective key".into(),
            });
        }
        if self.contributors.contains(&update.client) {
            return Err(Error::DuplicateSubmission {
                party: update.client,
            });
        }
        let cts = update.cts;
        match &mut self.sum {
            None => self.sum = Some(cts),
            Some(acc) => {
                let ev = &self.evaluator;
                acc.par_iter_mut()
                    .zip(cts.par_iter())
                    .try_for_each(|(a, b)| ev.add_assign(a, b))?;
            }
        }
        self.contributors.insert(update.client);
        Ok(update.client)
    }

    fn parse_update(&self, expected: Option<u32>, bytes: &[u8]) -> Result<CheckedUpdate> {
        const WHAT: &str = "encrypted update";
        let p = self.key.params.clone();
        let (h, payload): (UpdateHeader, _) = unframe(bytes, WHAT, p.fingerprint())?;
        check_tag(&h.tag, &UPDATE_TAG, WHAT)?;
        if h.key != self.key.id {
            return Err(Error::SessionMismatch {
                what: "ciphertext under another collective key".into(),
            });
        }
        if h.round != self.round {
            return Err(Error::SessionMismatch {
                what: format!("update for round {}, this is round {}", h.round, self.round),
            });
        }
        p.check_party(h.client)?;
        if let Some(expected) = expected.filter(|&e| e != h.client) {
            return Err(Error::WrongSender {
                claimed: h.client,
                expected,
            });
        }
        if self.contributors.contains(&h.client) {
            return Err(Error::DuplicateSubmission { party: h.client });
        }
        if h.len as usize != self.len {
            return Err(Error::Shape(format!(
                "update of {} values, the round expects {}",
                h.len, self.len
            )));
        }
        if h.count as usize != p.ciphertexts_for(self.len) || h.scale != p.scale {
            return Err(Error::Malformed {
                what: WHAT,
                reason: format!("{} ciphertexts at scale {}", h.count, h.scale),
            });
        }
        let cts = p.unpack_cts(payload, h.count as usize, WHAT)?;
        Ok(CheckedUpdate {
            id: h.key,
            round: h.round,
            client: h.client,
            cts,
        })
    }

    /// The clients whose updates are in the sum.
    pub fn contributors(&self) -> Vec<u32> {
        self.contributors.iter().copied().collect()
    }

    /// The request for decryption shares of the sum, addressed to a
    /// committee of exactly `t` clients. A second request (another
    /// committee, after a dropout) re-randomizes the sum first.
    pub fn decryption_request<R: RngCore + CryptoRng>(
        &mut self,
        committee: &[u32],
        rng: &mut R,
    ) -> Result<Vec<u8>> {
        let p = self.key.params.clone();
        let active = p.active_set(committee)?;
        let contributors = self.contributors();
        let sum = self
            .sum
            .as_mut()
            .ok_or_else(|| Error::Protocol("no update was added".into()))?;
        if self.requests > 0 {
            if self.requests > MAX_RETRIES {
                return Err(Error::Protocol(format!(
                    "more than {MAX_RETRIES} retried decryption requests"
                )));
            }
            let zero = p.encode_chunk(&[0.0])?;
            let rngs = child_rngs(rng, sum.len());
            let pk = &self.key.pk;
            let ev = &self.evaluator;
            sum.par_iter_mut()
                .zip(rngs)
                .try_for_each(|(ct, mut r)| -> Result<()> {
                    let z = pk.encrypt(&zero, &mut r)?;
                    Ok(ev.add_assign(ct, &z)?)
                })?;
        }
        self.requests += 1;
        let mut nonce = [0u8; 32];
        rng.fill_bytes(&mut nonce);
        let header = RequestHeader {
            tag: REQUEST_TAG,
            key: self.key.id,
            round: self.round,
            len: self.len as u64,
            contributors,
            committee: active.parties().iter().map(|p| p.0).collect(),
            nonce,
            count: sum.len() as u32,
            scale: p.scale,
        };
        Ok(frame(p.fingerprint(), &header, &p.pack_cts(sum)))
    }
}

// =====================================================================
// Result party
// =====================================================================

/// The outcome of a round.
#[derive(Clone, Debug, PartialEq)]
pub struct RoundResult {
    /// The average of the contributors' updates.
    pub average: Vec<f64>,
    /// Who contributed (the average divides by their number).
    pub contributors: Vec<u32>,
    /// Who decrypted.
    pub committee: Vec<u32>,
    /// Stated bound on the absolute error of each coordinate of `average`.
    pub precision: f64,
}

/// Checks a decryption share's header against the request (key, round,
/// nonce, committee, sizes); returns its sender and payload.
fn check_share_header<'a>(
    key: &SessionKey,
    request: &RequestHeader,
    active: &ActiveSet,
    share: &'a [u8],
) -> Result<(u32, &'a [u8])> {
    const WHAT: &str = "decryption share";
    let p = &key.params;
    let (h, payload): (ShareHeader, _) = unframe(share, WHAT, p.fingerprint())?;
    check_tag(&h.tag, &SHARE_TAG, WHAT)?;
    if h.key != key.id || h.nonce != request.nonce || h.round != request.round {
        return Err(Error::SessionMismatch {
            what: "decryption share of another request".into(),
        });
    }
    if !active.contains(PartyId(h.party)) {
        return Err(Error::UnknownParty { party: h.party });
    }
    let one = packed_len(p.ring());
    if h.count != request.count || payload.len() != one * h.count as usize {
        return Err(Error::Malformed {
            what: WHAT,
            reason: format!("{} bytes for {} shares", payload.len(), h.count),
        });
    }
    Ok((h.party, payload))
}

/// The client who made the decryption share `share`, after checking that it
/// answers `request` (same collective key, round and nonce: a share of an
/// earlier or retried request is [`Error::SessionMismatch`]), that its
/// sender is a member of the request's committee ([`Error::UnknownParty`]),
/// and its size and every residue (below its modulus, [`Error::Malformed`]).
/// Nothing is combined: use it to match a share with its authenticated
/// sender before [`combine`]. Only the request's header is read, not its
/// ciphertexts.
pub fn decryption_share_sender(key: &SessionKey, request: &[u8], share: &[u8]) -> Result<u32> {
    const WHAT: &str = "decryption share";
    let (header, active, _) = parse_request_header(key, request)?;
    let (party, payload) = check_share_header(key, &header, &active, share)?;
    let ring = key.params.ring();
    let one = packed_len(ring);
    payload
        .par_chunks(one)
        .try_for_each(|c| unpack_poly(ring, Representation::Ntt, c, WHAT).map(|_| ()))?;
    Ok(party)
}

/// Combines the committee's decryption shares of `request` into the
/// average. Every committee member's share is needed
/// ([`threshold::Error::TooFewShares`] otherwise); shares of another request
/// or key are [`Error::SessionMismatch`], a share from outside the committee
/// [`Error::UnknownParty`], two from the same client
/// [`Error::DuplicateSubmission`].
pub fn combine(key: &SessionKey, request: &[u8], shares: &[Vec<u8>]) -> Result<RoundResult> {
    const WHAT: &str = "decryption share";
    let p = key.params.clone();
    let req = parse_request(key, request)?;
    let ring = p.ring();
    let one = packed_len(ring);
    let mut seen = BTreeSet::new();
    let mut per_share: Vec<(u32, &[u8])> = Vec::with_capacity(shares.len());
    for s in shares {
        let (party, payload) = check_share_header(key, &req.header, &req.active, s)?;
        if !seen.insert(party) {
            return Err(Error::DuplicateSubmission { party });
        }
        per_share.push((party, payload));
    }
    if per_share.len() < req.active.parties().len() {
        return Err(Error::Threshold(threshold::Error::TooFewShares {
            got: per_share.len(),
            need: req.active.parties().len(),
        }));
    }
    let k = req.header.contributors.len() as f64;
    let len = req.header.len as usize;
    let chunks: Vec<Vec<f64>> = req
        .cts
        .par_iter()
        .enumerate()
        .map(|(i, ct)| {
            let ds = per_share
                .iter()
                .map(|(party, payload)| {
                    let poly = unpack_poly(
                        ring,
                        Representation::Ntt,
                        &payload[i * one..(i + 1) * one],
                        WHAT,
                    )?;
                    Ok(DecryptionShare::from_parts(PartyId(*party), poly))
                })
                .collect::<Result<Vec<_>>>()?;
            let pt = DecryptionShares::aggregate(ct.rlwe(), ds, Some(&req.active))?
                .finish_ckks(&p.ckks, ct.scale())?;
            let z = p.encoder.decode_complex(&pt)?;
            Ok(z.iter().flat_map(|c| [c.re / k, c.im / k]).collect())
        })
        .collect::<Result<_>>()?;
    let mut average: Vec<f64> = chunks.into_iter().flatten().collect();
    average.truncate(len);
    Ok(RoundResult {
        average,
        contributors: req.header.contributors.clone(),
        committee: req.active.parties().iter().map(|p| p.0).collect(),
        precision: p.sum_precision / k,
    })
}

// =====================================================================
// Paillier variant: packed fixed-point updates, threshold Paillier
// =====================================================================

/// Federated averaging with **threshold Paillier** (Shoup / Damgård–Jurik,
/// [`threshold::paillier`]) and packing.
///
/// Each coordinate `x ∈ [−max_abs, max_abs]` is encoded as the unsigned
/// fixed-point integer `round((x + max_abs)·2^f)` and
/// [`paillier::Packer`] packs as many as fit into one plaintext, with
/// `⌈log2 n⌉` bits of headroom per slot so that the sum of `n` clients never
/// carries; the server adds the ciphertexts (it checks the number of terms
/// against the packer's capacity) and any `t` key holders decrypt the sum
/// with proofs of correct partial decryption. The average is exact up to the
/// fixed-point rounding: error ≤ `2^−(f+1)` per coordinate.
///
/// Trust differs from the CKKS session: the threshold Paillier key comes
/// from a **trusted dealer** (who must forget the factorization), not from
/// a dealer-free collective key generation. The key holders
/// ([`threshold::paillier::KeyShare`]) may be the clients or separate
/// result parties.
pub mod paillier_variant {
    use super::*;
    use num_bigint::BigUint;
    use num_traits::ToPrimitive;
    use threshold::paillier::{KeyShare, PartialDecryption, PublicParams};

    const P_UPDATE_TAG: [u8; 8] = *b"pag/upd1";
    const P_REQUEST_TAG: [u8; 8] = *b"pag/req1";
    const P_SHARE_TAG: [u8; 8] = *b"pag/dsh1";

    /// The public session: threshold Paillier parameters, packing layout,
    /// fixed-point encoding.
    pub struct PaillierSession {
        params: PublicParams,
        packer: paillier::Packer,
        clients: usize,
        max_abs: f64,
        frac_bits: u32,
        fp: [u8; 32],
        ct_bytes: usize,
    }

    impl std::fmt::Debug for PaillierSession {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("PaillierSession")
                .field("clients", &self.clients)
                .field("slots", &self.packer.slots())
                .field("slot_bits", &self.packer.slot_bits())
                .field("frac_bits", &self.frac_bits)
                .finish_non_exhaustive()
        }
    }

    #[derive(Serialize, Deserialize)]
    struct PUpdateHeader {
        tag: [u8; 8],
        round: u64,
        client: u32,
        len: u64,
        count: u32,
    }

    #[derive(Serialize, Deserialize)]
    struct PRequestHeader {
        tag: [u8; 8],
        round: u64,
        len: u64,
        contributors: Vec<u32>,
        nonce: [u8; 32],
        count: u32,
    }

    #[derive(Serialize, Deserialize)]
    struct PShareHeader {
        tag: [u8; 8],
        round: u64,
        nonce: [u8; 32],
        party: u32,
        partials: Vec<Vec<u8>>,
    }

    impl PaillierSession {
        /// A session for `clients` clients (ids 1..=clients) with
        /// coordinates in `±max_abs` encoded with `frac_bits` fractional
        /// bits.
        pub fn new(
            params: PublicParams,
            clients: usize,
            max_abs: f64,
            frac_bits: u32,
        ) -> Result<Arc<Self>> {
            if clients == 0 || clients >= 1 << 20 {
                return Err(Error::OutOfRange(format!("{clients} clients")));
            }
            if !(max_abs.is_finite() && max_abs > 0.0) || frac_bits > 52 {
                return Err(Error::OutOfRange(format!(
                    "max_abs = {max_abs}, frac_bits = {frac_bits}"
                )));
            }
            let top = 2.0 * max_abs * (frac_bits as f64).exp2();
            let value_bits = (top + 1.0).log2().ceil() as u32;
            if value_bits > 53 {
                return Err(Error::OutOfRange(format!(
                    "{value_bits}-bit fixed-point values (at most 53)"
                )));
            }
            let pk = params.public_key();
            let packer = paillier::Packer::new(pk, value_bits, clients as u64 - 1)?;
            let fp = digest(b"ml-he/aggregation/paillier/v1", &pk.n().to_bytes_be());
            let ct_bytes = (pk.n_squared().bits() as usize).div_ceil(8);
            Ok(Arc::new(Self {
                params,
                packer,
                clients,
                max_abs,
                frac_bits,
                fp,
                ct_bytes,
            }))
        }

        /// The threshold Paillier public parameters.
        pub fn params(&self) -> &PublicParams {
            &self.params
        }

        /// Floats per Paillier ciphertext.
        pub fn values_per_ciphertext(&self) -> usize {
            self.packer.slots()
        }

        /// Ciphertexts for `len` floats.
        pub fn ciphertexts_for(&self, len: usize) -> usize {
            len.div_ceil(self.packer.slots()).max(1)
        }

        /// Bound on the absolute error of each coordinate of the average.
        pub fn precision(&self) -> f64 {
            (-(self.frac_bits as f64) - 1.0).exp2()
        }

        fn check_party(&self, id: u32) -> Result<()> {
            if id == 0 || id as usize > self.clients {
                return Err(Error::UnknownParty { party: id });
            }
            Ok(())
        }

        fn encode(&self, x: f64) -> Result<u64> {
            if !x.is_finite() || x.abs() > self.max_abs {
                return Err(Error::OutOfRange(format!(
                    "{x} outside ±{} (max_abs)",
                    self.max_abs
                )));
            }
            Ok(((x + self.max_abs) * (self.frac_bits as f64).exp2()).round() as u64)
        }

        fn pack_cts(&self, cts: &[paillier::Ciphertext]) -> Vec<u8> {
            let mut out = Vec::with_capacity(cts.len() * self.ct_bytes);
            for c in cts {
                let b = c.value().to_bytes_be();
                out.resize(out.len() + self.ct_bytes - b.len(), 0);
                out.extend_from_slice(&b);
            }
            out
        }

        fn unpack_cts(
            &self,
            payload: &[u8],
            count: usize,
            what: &'static str,
        ) -> Result<Vec<paillier::Ciphertext>> {
            if payload.len() != count * self.ct_bytes {
                return Err(Error::Malformed {
                    what,
                    reason: format!("{} bytes for {count} ciphertexts", payload.len()),
                });
            }
            let pk = self.params.public_key();
            payload
                .par_chunks(self.ct_bytes)
                .map(|c| {
                    pk.ciphertext(BigUint::from_bytes_be(c))
                        .map_err(|e| Error::Malformed {
                            what,
                            reason: e.to_string(),
                        })
                })
                .collect()
        }

        /// Client `client` encrypts its update for `round` (textbook
        /// Paillier encryption, parallel over ciphertexts).
        pub fn encrypt_update<R: RngCore + CryptoRng>(
            &self,
            client: u32,
            round: u64,
            update: &[f64],
            rng: &mut R,
        ) -> Result<Vec<u8>> {
            self.encrypt_inner(client, round, update, None, rng)
        }

        /// A client's fixed-base encryptor (Damgård–Jurik–Nielsen short
        /// exponents, see [`paillier::FastEncryptor`] for the assumption),
        /// made once and reused for every round.
        pub fn fast_encryptor<R: RngCore + CryptoRng>(
            &self,
            rng: &mut R,
        ) -> Result<paillier::FastEncryptor> {
            Ok(paillier::FastEncryptor::new(
                self.params.public_key(),
                paillier::ShortExponent::Security,
                rng,
            )?)
        }

        /// As [`Self::encrypt_update`] with a [`Self::fast_encryptor`].
        pub fn encrypt_update_fast<R: RngCore + CryptoRng>(
            &self,
            client: u32,
            round: u64,
            update: &[f64],
            encryptor: &paillier::FastEncryptor,
            rng: &mut R,
        ) -> Result<Vec<u8>> {
            if encryptor.public_key() != self.params.public_key() {
                return Err(Error::SessionMismatch {
                    what: "encryptor for another Paillier key".into(),
                });
            }
            self.encrypt_inner(client, round, update, Some(encryptor), rng)
        }

        fn encrypt_inner<R: RngCore + CryptoRng>(
            &self,
            client: u32,
            round: u64,
            update: &[f64],
            fast: Option<&paillier::FastEncryptor>,
            rng: &mut R,
        ) -> Result<Vec<u8>> {
            self.check_party(client)?;
            if update.is_empty() {
                return Err(Error::Shape("empty update".into()));
            }
            let ints = update
                .iter()
                .map(|&x| self.encode(x))
                .collect::<Result<Vec<u64>>>()?;
            let ms = ints
                .chunks(self.packer.slots())
                .map(|c| self.packer.pack(c))
                .collect::<std::result::Result<Vec<BigUint>, _>>()?;
            let cts = match fast {
                Some(f) => f.encrypt_batch(&ms, rng)?,
                None => self.params.public_key().encrypt_batch(&ms, rng)?,
            };
            let header = PUpdateHeader {
                tag: P_UPDATE_TAG,
                round,
                client,
                len: update.len() as u64,
                count: cts.len() as u32,
            };
            Ok(frame(&self.fp, &header, &self.pack_cts(&cts)))
        }
    }

    /// A Paillier update that passed every check of
    /// [`PaillierServer::check_update`], ready for
    /// [`PaillierServer::add_checked`].
    pub type CheckedUpdate = super::CheckedUpdate<paillier::Ciphertext>;

    /// The server of one round of the Paillier variant.
    pub struct PaillierServer {
        session: Arc<PaillierSession>,
        round: u64,
        len: usize,
        sum: Option<Vec<paillier::Ciphertext>>,
        contributors: BTreeSet<u32>,
    }

    impl std::fmt::Debug for PaillierServer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("PaillierServer")
                .field("round", &self.round)
                .field("contributors", &self.contributors)
                .finish_non_exhaustive()
        }
    }

    impl PaillierServer {
        /// A server for `round`, updates of `len` floats.
        pub fn new(session: &Arc<PaillierSession>, round: u64, len: usize) -> Result<Self> {
            if len == 0 {
                return Err(Error::Shape("updates of zero length".into()));
            }
            Ok(Self {
                session: session.clone(),
                round,
                len,
                sum: None,
                contributors: BTreeSet::new(),
            })
        }

        /// Checks and adds an encrypted update (errors as
        /// [`super::Server::add`]).
        pub fn add(&mut self, bytes: &[u8]) -> Result<u32> {
            let u = self.parse_update(None, bytes)?;
            self.add_checked(u)
        }

        /// As [`Self::add`] for an update received from the authenticated
        /// client `expected_party` (as [`super::Server::add_from`]: another
        /// client's update is [`Error::WrongSender`], the sum is untouched).
        pub fn add_from(&mut self, expected_party: u32, bytes: &[u8]) -> Result<u32> {
            let u = self.check_update(expected_party, bytes)?;
            self.add_checked(u)
        }

        /// Every check of [`Self::add_from`] without adding (as
        /// [`super::Server::check_update`]).
        pub fn check_update(&self, expected_party: u32, bytes: &[u8]) -> Result<CheckedUpdate> {
            self.parse_update(Some(expected_party), bytes)
        }

        /// Adds an update that passed [`Self::check_update`] on this
        /// server; returns the client's id.
        pub fn add_checked(&mut self, update: CheckedUpdate) -> Result<u32> {
            let s = self.session.clone();
            if update.round != self.round || update.id != s.fp {
                return Err(Error::SessionMismatch {
                    what: "update checked for another round or key".into(),
                });
            }
            if self.contributors.contains(&update.client) {
                return Err(Error::DuplicateSubmission {
                    party: update.client,
                });
            }
            if self.contributors.len() as u64 + 1 > s.packer.capacity() {
                return Err(Error::Paillier(paillier::Error::HeadroomExceeded {
                    needed: self.contributors.len() as u64 + 1,
                    capacity: s.packer.capacity(),
                }));
            }
            let cts = update.cts;
            match &mut self.sum {
                None => self.sum = Some(cts),
                Some(acc) => {
                    let added: Vec<paillier::Ciphertext> = acc
                        .par_iter()
                        .zip(cts.par_iter())
                        .map(|(a, b)| a.add(b))
                        .collect::<std::result::Result<_, _>>()?;
                    *acc = added;
                }
            }
            self.contributors.insert(update.client);
            Ok(update.client)
        }

        fn parse_update(&self, expected: Option<u32>, bytes: &[u8]) -> Result<CheckedUpdate> {
            const WHAT: &str = "encrypted Paillier update";
            let s = self.session.clone();
            let (h, payload): (PUpdateHeader, _) = unframe(bytes, WHAT, &s.fp)?;
            check_tag(&h.tag, &P_UPDATE_TAG, WHAT)?;
            if h.round != self.round {
                return Err(Error::SessionMismatch {
                    what: format!("update for round {}, this is round {}", h.round, self.round),
                });
            }
            s.check_party(h.client)?;
            if let Some(expected) = expected.filter(|&e| e != h.client) {
                return Err(Error::WrongSender {
                    claimed: h.client,
                    expected,
                });
            }
            if self.contributors.contains(&h.client) {
                return Err(Error::DuplicateSubmission { party: h.client });
            }
            if h.len as usize != self.len {
                return Err(Error::Shape(format!(
                    "update of {} values, the round expects {}",
                    h.len, self.len
                )));
            }
            if h.count as usize != s.ciphertexts_for(self.len) {
                return Err(Error::Malformed {
                    what: WHAT,
                    reason: format!("{} ciphertexts", h.count),
                });
            }
            if self.contributors.len() as u64 + 1 > s.packer.capacity() {
                return Err(Error::Paillier(paillier::Error::HeadroomExceeded {
                    needed: self.contributors.len() as u64 + 1,
                    capacity: s.packer.capacity(),
                }));
            }
            let cts = s.unpack_cts(payload, h.count as usize, WHAT)?;
            Ok(CheckedUpdate {
                id: s.fp,
                round: h.round,
                client: h.client,
                cts,
            })
        }

        /// The clients in the sum.
        pub fn contributors(&self) -> Vec<u32> {
            self.contributors.iter().copied().collect()
        }

        /// The request for partial decryptions of the sum (any `t` key
        /// holders answer).
        pub fn decryption_request<R: RngCore + CryptoRng>(&self, rng: &mut R) -> Result<Vec<u8>> {
            let sum = self
                .sum
                .as_ref()
                .ok_or_else(|| Error::Protocol("no update was added".into()))?;
            let mut nonce = [0u8; 32];
            rng.fill_bytes(&mut nonce);
            let header = PRequestHeader {
                tag: P_REQUEST_TAG,
                round: self.round,
                len: self.len as u64,
                contributors: self.contributors(),
                nonce,
                count: sum.len() as u32,
            };
            Ok(frame(
                &self.session.fp,
                &header,
                &self.session.pack_cts(sum),
            ))
        }
    }

    fn parse_request(
        s: &PaillierSession,
        bytes: &[u8],
    ) -> Result<(PRequestHeader, Vec<paillier::Ciphertext>)> {
        const WHAT: &str = "Paillier decryption request";
        let (h, payload) = parse_request_header(s, bytes)?;
        let cts = s.unpack_cts(payload, h.count as usize, WHAT)?;
        Ok((h, cts))
    }

    fn parse_request_header<'a>(
        s: &PaillierSession,
        bytes: &'a [u8],
    ) -> Result<(PRequestHeader, &'a [u8])> {
        const WHAT: &str = "Paillier decryption request";
        let (h, payload): (PRequestHeader, _) = unframe(bytes, WHAT, &s.fp)?;
        check_tag(&h.tag, &P_REQUEST_TAG, WHAT)?;
        let mut seen = BTreeSet::new();
        for &c in &h.contributors {
            s.check_party(c)?;
            if !seen.insert(c) {
                return Err(Error::DuplicateSubmission { party: c });
            }
        }
        if h.contributors.is_empty()
            || h.len == 0
            || h.count as usize != s.ciphertexts_for(h.len as usize)
        {
            return Err(Error::Malformed {
                what: WHAT,
                reason: "no contributor or inconsistent sizes".into(),
            });
        }
        Ok((h, payload))
    }

    /// A key holder's partial decryptions (with proofs) of the summed
    /// ciphertexts; refuses sums of fewer than `min_contributors` updates.
    pub fn decryption_share<R: RngCore + CryptoRng>(
        session: &PaillierSession,
        share: &KeyShare,
        request: &[u8],
        min_contributors: usize,
        rng: &mut R,
    ) -> Result<Vec<u8>> {
        if share.public_params() != &session.params {
            return Err(Error::SessionMismatch {
                what: "key share of another dealing".into(),
            });
        }
        let (h, cts) = parse_request(session, request)?;
        if h.contributors.len() < min_contributors {
            return Err(Error::Protocol(format!(
                "refusing to decrypt a sum of {} update(s) (minimum {min_contributors})",
                h.contributors.len()
            )));
        }
        let partials = cts
            .iter()
            .map(|c| Ok(share.partial_decrypt(c, rng)?.to_bytes()))
            .collect::<Result<Vec<_>>>()?;
        let header = PShareHeader {
            tag: P_SHARE_TAG,
            round: h.round,
            nonce: h.nonce,
            party: share.party().0,
            partials,
        };
        Ok(frame(&session.fp, &header, &[]))
    }

    /// A share's sender and partial decryptions, checked against the
    /// request's header (round, nonce, count, one party throughout).
    fn parse_share(
        session: &PaillierSession,
        h: &PRequestHeader,
        share: &[u8],
    ) -> Result<(u32, Vec<PartialDecryption>)> {
        const WHAT: &str = "Paillier decryption share";
        let (sh, rest): (PShareHeader, _) = unframe(share, WHAT, &session.fp)?;
        check_tag(&sh.tag, &P_SHARE_TAG, WHAT)?;
        if !rest.is_empty() || sh.partials.len() != h.count as usize {
            return Err(Error::Malformed {
                what: WHAT,
                reason: format!("{} partial decryptions", sh.partials.len()),
            });
        }
        if sh.nonce != h.nonce || sh.round != h.round {
            return Err(Error::SessionMismatch {
                what: "decryption share of another request".into(),
            });
        }
        let pds = sh
            .partials
            .iter()
            .map(|b| {
                let pd = session.params.partial_from_bytes(b)?;
                if pd.party().0 != sh.party {
                    return Err(Error::Malformed {
                        what: WHAT,
                        reason: "partial decryption of another party".into(),
                    });
                }
                Ok(pd)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((sh.party, pds))
    }

    /// The key holder who made the decryption share `share`, after checking
    /// that it answers `request` (round and nonce, else
    /// [`Error::SessionMismatch`]), that it holds one partial decryption per
    /// ciphertext, all in the same party's name, and that the party is a key
    /// holder of the session ([`Error::UnknownParty`]). The proofs are not
    /// verified (that is [`combine`]'s work); only the request's header is
    /// read.
    pub fn decryption_share_sender(
        session: &PaillierSession,
        request: &[u8],
        share: &[u8],
    ) -> Result<u32> {
        let (h, _) = parse_request_header(session, request)?;
        let (party, _) = parse_share(session, &h, share)?;
        if session
            .params
            .verification_key(threshold::PartyId(party))
            .is_none()
        {
            return Err(Error::UnknownParty { party });
        }
        Ok(party)
    }

    /// Verifies the partial decryptions (proofs) of at least `t` key
    /// holders and recovers the average.
    pub fn combine(
        session: &PaillierSession,
        request: &[u8],
        shares: &[Vec<u8>],
    ) -> Result<RoundResult> {
        let (h, cts) = parse_request(session, request)?;
        let mut per_ct: Vec<Vec<PartialDecryption>> = vec![Vec::new(); cts.len()];
        let mut parties = BTreeSet::new();
        for s in shares {
            let (party, pds) = parse_share(session, &h, s)?;
            if !parties.insert(party) {
                return Err(Error::DuplicateSubmission { party });
            }
            for (slot, pd) in per_ct.iter_mut().zip(pds) {
                slot.push(pd);
            }
        }
        let k = h.contributors.len();
        let slots = session.packer.slots();
        let len = h.len as usize;
        let scale = (session.frac_bits as f64).exp2();
        let offset = k as f64 * session.max_abs;
        let chunks: Vec<Vec<f64>> = cts
            .par_iter()
            .zip(per_ct.par_iter())
            .enumerate()
            .map(|(i, (ct, pds))| {
                let m = session.params.combine(ct, pds)?;
                let here = slots.min(len - i * slots);
                let vals = session.packer.unpack(&m, here)?;
                Ok(vals
                    .into_iter()
                    .map(|v| (v.to_f64().unwrap_or(f64::NAN) / scale - offset) / k as f64)
                    .collect())
            })
            .collect::<Result<_>>()?;
        Ok(RoundResult {
            average: chunks.into_iter().flatten().collect(),
            contributors: h.contributors,
            committee: parties.into_iter().collect(),
            precision: session.precision(),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Three clients run the relinearization and Galois rounds through
    /// [`Client`] (shares through their wire format, as between processes);
    /// the finished keys relinearize a product and rotate a ciphertext
    /// encrypted under the collective public key, and a t-of-n threshold
    /// decryption (committee {1, 3}, the clients' own Shamir shares) gives
    /// x² within 1e-3 (x at scale 2^30, product at 2^60; measured ≈ 2e-5)
    /// and x rotated by two slots within 1e-5 (scale 2^40; the fresh and
    /// key-switching noise, ≈ 2^18 in a slot, leaves ≈ 2.5e-7). Incomplete
    /// share sets are refused.
    #[test]
    fn clients_make_collective_relin_and_galois_keys() {
        let mut rng = ChaCha20Rng::from_seed([3; 32]);
        let params = AggregationParams::new(AggregationConfig::new(3, 2), [8; 32]).unwrap();
        let rp = params.ckks().rlwe().clone();
        let mut clients: Vec<Client> = (1..=3)
            .map(|i| Client::new(&params, i, &mut rng).unwrap())
            .collect();
        let shares: Vec<_> = clients
            .iter_mut()
            .map(|c| c.public_key_share(&mut rng).unwrap())
            .collect();
        let key = SessionKey::from_shares(&params, shares).unwrap();
        deal_all(&mut clients, &mut rng).unwrap();

        // Relinearization key: two rounds.
        let mut r1 = Vec::new();
        let mut eph = Vec::new();
        for c in &mut clients {
            let (s, e) = c.relin_key_round1(&mut rng).unwrap();
            assert_eq!(s.party(), PartyId(c.id()));
            r1.push(RelinRound1Share::from_bytes(&rp, &s.to_bytes()).unwrap());
            eph.push(e);
        }
        assert!(matches!(
            aggregate_relin_round1(&params, r1[..2].to_vec()),
            Err(Error::Threshold(threshold::Error::TooFewShares {
                got: 2,
                need: 3
            }))
        ));
        let round1 = aggregate_relin_round1(&params, r1).unwrap();
        let r2: Vec<_> = clients
            .iter_mut()
            .zip(eph)
            .map(|(c, e)| {
                let s = c.relin_key_round2(e, &round1, &mut rng).unwrap();
                RelinRound2Share::from_bytes(&rp, &s.to_bytes()).unwrap()
            })
            .collect();
        assert!(matches!(
            finish_relin_key(&params, round1.clone(), r2[1..].to_vec()),
            Err(Error::Threshold(threshold::Error::TooFewShares { .. }))
        ));
        let rlk = finish_relin_key(&params, round1, r2).unwrap();

        // Galois keys for rotations by 1 and 2 slots, shares in any order.
        let elements: Vec<usize> = [1, 2]
            .iter()
            .map(|&k| rlwe::keys::galois_element_for_rotation(k, rp.degree()))
            .collect();
        let mut gshares = Vec::new();
        for &e in elements.iter().rev() {
            for c in &mut clients {
                let s = c.galois_key_share(e, &mut rng).unwrap();
                assert_eq!((s.party(), s.element()), (PartyId(c.id()), e));
                gshares.push(GaloisKeyShare::from_bytes(&rp, &s.to_bytes()).unwrap());
            }
        }
        assert!(matches!(
            finish_galois_keys(&params, gshares[1..].to_vec()),
            Err(Error::Threshold(threshold::Error::TooFewShares { .. }))
        ));
        let gks = finish_galois_keys(&params, gshares).unwrap();
        // a second share for the same instance is refused (it would leak)
        assert!(clients[0].galois_key_share(elements[0], &mut rng).is_err());
        assert!(clients[0].relin_key_round1(&mut rng).is_err());

        let enc = ckks::Encoder::new(params.ckks());
        let ev = ckks::Evaluator::new(params.ckks());
        let x: Vec<f64> = (0..64).map(|i| i as f64 / 16.0 - 2.0).collect();
        let pt = enc.encode_at(&x, 1, 2f64.powi(30)).unwrap();
        let ct = key.public_key().encrypt(&pt, &mut rng).unwrap();
        let sq = ev.mul_relin(&ct, &ct, &rlk).unwrap();
        let pt = enc.encode_at(&x, 1, 2f64.powi(40)).unwrap();
        let rot = ev
            .rotate(&key.public_key().encrypt(&pt, &mut rng).unwrap(), 2, &gks)
            .unwrap();

        // t-of-n threshold decryption by clients 1 and 3 (narrow smudging:
        // this checks the keys, not the smudging budget).
        let committee = [PartyId(1), PartyId(3)];
        let active = ActiveSet::new(&committee, 2).unwrap();
        let smudging = Smudging::with_sigma(10.0);
        let mut decrypt = |ct: &ckks::Ciphertext| -> Vec<f64> {
            let shares: Vec<_> = [0usize, 2]
                .iter()
                .map(|&i| {
                    clients[i]
                        .party
                        .decryption_share(ct.rlwe(), Some(&active), &smudging, &mut rng)
                        .unwrap()
                })
                .collect();
            let pt = DecryptionShares::aggregate(ct.rlwe(), shares, Some(&active))
                .unwrap()
                .finish_ckks(params.ckks(), ct.scale())
                .unwrap();
            enc.decode(&pt).unwrap()
        };
        let got = decrypt(&sq);
        for (g, v) in got.iter().zip(&x) {
            assert!((g - v * v).abs() < 1e-3, "square: {g} vs {}", v * v);
        }
        let got = decrypt(&rot);
        for i in 0..x.len() - 2 {
            assert!(
                (got[i] - x[i + 2]).abs() < 1e-5,
                "rotation slot {i}: {} vs {}",
                got[i],
                x[i + 2]
            );
        }
    }
}
