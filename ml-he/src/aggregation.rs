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
//! | sum | server (computing party) | [`Server::add_from`] (authenticated sender) or [`Server::add`] checks and keeps; [`Server::decryption_request`] → the contributions, to a committee of t clients |
//! | decrypt | committee clients | [`Client::decryption_share`] recomputes the sum and decrypts it → bytes to the result parties |
//! | result | result parties | [`decryption_share_sender`] names a share's sender; [`combine`] → [`RoundResult`] (the average) |
//!
//! No message carries a secret: the server sees only ciphertexts, the
//! committee members see only the summed ciphertext, and a decryption share
//! `c_1·λ_i·S_i + e_smudge` reveals nothing about a party's key share or about
//! any individual update.
//!
//! ## Threat model
//!
//! **Key holders** hold additive secrets and Shamir shares; any coalition of
//! fewer than `t` of them, together with the server, cannot decrypt. The
//! **server** may be malicious. What it can get decrypted is bounded by the
//! committee members, not by its honesty: a decryption request carries the
//! contributions themselves (the exact update bytes), and each committee
//! member ([`Client::decryption_share`]) checks every one in full and
//! recomputes the sum itself, so nothing but a sum of well-formed updates of
//! distinct clients is ever decrypted. A member refuses a sum of fewer than
//! `min_contributors` updates ([`Error::TooFewContributors`]), a second,
//! different contribution set in a round whose sum it already helped decrypt
//! ([`Error::AlreadyReleased`]) and more than [`MAX_ATTEMPTS`] attempts per
//! round ([`Error::TooManyAttempts`]); a retry decrypts the same sum plus a
//! public encryption of zero derived from the request (its randomness is a
//! digest of the request, so the server adds nothing of its own), a new
//! ciphertext for the key share's single-use rule.
//!
//! What the library alone cannot check is **who made each update**: anyone
//! holding the public key can encrypt a zero in another client's name, and
//! a sum of one real update and forged zeros is a sum "of two contributors".
//! A caller whose transport authenticates senders compares
//! [`inspect_request`] (each contribution's party and [`update_digest`])
//! with what the senders signed, and — to release each round's sum once even
//! when two committees have no honest member in common — has every
//! contributor approve exactly one [`contribution_set_digest`] per round
//! and checks the approvals too. `hekit-mpc` does both (signed statements,
//! `mpc/README.md`); over authenticated channels, [`Server::add_from`]
//! refuses an update whose named client is not the authenticated sender
//! ([`Error::WrongSender`]) and [`decryption_share_sender`] names the sender
//! of a decryption share.
//!
//! The collective key must be the sum of the clients' shares: each client
//! should recompute it from the shares ([`SessionKey::from_shares`]) rather
//! than accept a key from the server, and shares should be committed to
//! before they are revealed (a client choosing its share after seeing the
//! others' could make the key one whose secret it knows); `hekit-mpc` does
//! both. Smudging λ below 40 is refused unless asked for
//! ([`AggregationConfig::insecure_weak_smudging`]).
//!
//! Still out of scope: a malicious *client* can submit a well-formed
//! encryption of a bad update (no zero-knowledge range proofs yet), and a
//! committee member can send a wrong decryption share (the result is wrong;
//! it learns nothing more). Malformed bytes, ciphertexts under another key,
//! parameter set, session or round, and duplicates are rejected with
//! specific errors.
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
//! committee member drops out during decryption, the server issues the next
//! attempt to another committee: the members decrypt the sum plus a public
//! encryption of zero derived from the request, because a party never makes
//! two decryption shares for the same ciphertext.
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
//! let request = server.decryption_request(&[2, 3])?;
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
    /// Accept λ below [`threshold::STATISTICAL_SECURITY`] (40). Insecure:
    /// decryption shares then hide the joint secret only weakly. Set with
    /// [`Self::insecure_weak_smudging`].
    pub insecure_weak_smudging: bool,
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
            insecure_weak_smudging: false,
        }
    }

    /// Allows λ < 40 (**insecure**, for experiments only): without it
    /// [`AggregationParams::new`] refuses such a λ with [`Error::Insecure`].
    pub fn insecure_weak_smudging(mut self) -> Self {
        self.insecure_weak_smudging = true;
        self
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
        if config.lambda < threshold::STATISTICAL_SECURITY && !config.insecure_weak_smudging {
            return Err(Error::Insecure(format!(
                "smudging λ = {} is below {} (AggregationConfig::insecure_weak_smudging to allow)",
                config.lambda,
                threshold::STATISTICAL_SECURITY
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

    /// Packs ciphertexts as all `c0` parts, then all `c1` parts: the `c1`
    /// half is what a decryption committee needs ([`update_digest`] hashes
    /// the halves separately so that it can check `c1` alone).
    fn pack_cts(&self, cts: &[ckks::Ciphertext]) -> Vec<u8> {
        let one = packed_len(self.ring());
        let halves: Vec<Vec<u8>> = (0..2)
            .into_par_iter()
            .map(|part| {
                let mut out = Vec::with_capacity(one * cts.len());
                for ct in cts {
                    pack_poly(&ct.rlwe().parts()[part], &mut out);
                }
                out
            })
            .collect();
        halves.concat()
    }

    /// `count` packed polynomials (one part of each ciphertext).
    fn unpack_polys(&self, bytes: &[u8], count: usize, what: &'static str) -> Result<Vec<Poly>> {
        let one = packed_len(self.ring());
        if bytes.len() != count * one {
            return Err(Error::Malformed {
                what,
                reason: format!(
                    "{} bytes for {count} packed polynomials of {one} bytes",
                    bytes.len()
                ),
            });
        }
        bytes
            .par_chunks(one)
            .map(|c| unpack_poly(self.ring(), Representation::Ntt, c, what))
            .collect()
    }

    fn ciphertext(&self, c0: Poly, c1: Poly) -> Result<ckks::Ciphertext> {
        let ct = rlwe::ciphertext::Ciphertext::new(self.ckks.rlwe(), vec![c0, c1])?;
        Ok(ckks::Ciphertext::from_rlwe(&self.ckks, ct, self.scale)?)
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
        let (a, b) = payload.split_at(count * one);
        let c0 = self.unpack_polys(a, count, what)?;
        let c1 = self.unpack_polys(b, count, what)?;
        c0.into_iter()
            .zip(c1)
            .map(|(c0, c1)| self.ciphertext(c0, c1))
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
const REQUEST_TAG: [u8; 8] = *b"agg/req2";
const SHARE_TAG: [u8; 8] = *b"agg/dsh2";

/// Decryption attempts allowed per round: the first and up to
/// `MAX_ATTEMPTS − 1` re-randomized retries (after a committee member drops
/// out). A committee member refuses attempt numbers beyond this, so the
/// number of decryptions of a round's sum is bounded whatever the server
/// asks; the noise budget counts one fresh encryption of zero per retry.
pub const MAX_ATTEMPTS: u32 = MAX_RETRIES + 1;

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

/// The header of a decryption request. The payload is the server's sum of
/// the `c0` parts (used only to combine), then each contribution's `c1`
/// parts (in `contributors` order), which every committee member checks
/// against the contribution's digest and sums itself: a decryption share
/// depends on `c1` alone, so the server cannot have anything decrypted but
/// the sum of the listed contributions.
#[derive(Serialize, Deserialize)]
struct RequestHeader {
    tag: [u8; 8],
    key: [u8; 32],
    round: u64,
    attempt: u32,
    len: u64,
    committee: Vec<u32>,
    contributors: Vec<u32>,
    digests: Vec<[u8; 32]>,
    /// Hash of each contribution's first part (header and `c0` parts).
    heads: Vec<[u8; 32]>,
    /// Size of each contribution's `c1` parts.
    sizes: Vec<u64>,
    count: u32,
    scale: f64,
}

#[derive(Serialize, Deserialize)]
struct ShareHeader {
    tag: [u8; 8],
    key: [u8; 32],
    round: u64,
    request: [u8; 32],
    party: u32,
    count: u32,
}

/// The digest of an encrypted update's bytes, as signed by its sender and
/// listed in decryption requests. It hashes the update in two parts — the
/// header and first half of the payload (the `c0` parts of CKKS
/// ciphertexts), then the second half (the `c1` parts) — so that a
/// decryption committee, which needs only the `c1` parts, can check them
/// against the digest from the first part's hash
/// ([`update_digest_from_parts`]).
pub fn update_digest(bytes: &[u8]) -> [u8; 32] {
    let (head, tail) = split_update(bytes);
    update_digest_from_parts(&head_digest(head), tail)
}

/// [`update_digest`] from the hash of the first part and the second part.
pub fn update_digest_from_parts(head: &[u8; 32], tail: &[u8]) -> [u8; 32] {
    let mut data = head.to_vec();
    data.extend_from_slice(&digest(b"ml-he/aggregation/update-tail/v2", tail));
    digest(b"ml-he/aggregation/update/v2", &data)
}

fn head_digest(head: &[u8]) -> [u8; 32] {
    digest(b"ml-he/aggregation/update-head/v2", head)
}

/// An update's two parts: its length prefix, header and the first half of
/// its payload; the second half. (Bytes that are not a framed message are
/// all head.)
fn split_update(bytes: &[u8]) -> (&[u8], &[u8]) {
    let Some(prefix) = bytes.get(..8) else {
        return (bytes, &[]);
    };
    let mut w = [0u8; 8];
    w.copy_from_slice(prefix);
    let hl = u64::from_le_bytes(w);
    if hl > (bytes.len() - 8) as u64 {
        return (bytes, &[]);
    }
    let start = 8 + hl as usize;
    let half = (bytes.len() - start) / 2;
    bytes.split_at(bytes.len() - half)
}

/// The digest of a round's set of contributions: the session (key)
/// identifier, the round and the sorted `(party, update digest)` list.
/// What a contributor approves and a committee member decrypts at most once
/// per round.
pub fn contribution_set_digest(id: &[u8; 32], round: u64, set: &[(u32, [u8; 32])]) -> [u8; 32] {
    let mut data = id.to_vec();
    data.extend_from_slice(&round.to_le_bytes());
    for (p, d) in set {
        data.extend_from_slice(&p.to_le_bytes());
        data.extend_from_slice(d);
    }
    digest(b"ml-he/aggregation/contribution-set/v1", &data)
}

/// What a decryption request asks for, read from its header alone (cheap):
/// the round, the attempt, the committee and the contributions by party and
/// digest. A caller that authenticates senders (signatures over
/// [`update_digest`]s, approvals of [`RequestInfo::set_digest`]) checks them
/// against this before answering the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestInfo {
    /// The round.
    pub round: u64,
    /// The attempt (0 first; a retry decrypts a re-randomized sum).
    pub attempt: u32,
    /// The committee asked for shares.
    pub committee: Vec<u32>,
    /// `(party, update digest)` of every contribution, sorted by party.
    pub contributions: Vec<(u32, [u8; 32])>,
    /// [`contribution_set_digest`] of `contributions`.
    pub set_digest: [u8; 32],
}

fn request_info(
    id: &[u8; 32],
    round: u64,
    attempt: u32,
    committee: Vec<u32>,
    contributors: &[u32],
    digests: &[[u8; 32]],
) -> RequestInfo {
    let contributions: Vec<(u32, [u8; 32])> = contributors
        .iter()
        .copied()
        .zip(digests.iter().copied())
        .collect();
    let set_digest = contribution_set_digest(id, round, &contributions);
    RequestInfo {
        round,
        attempt,
        committee,
        contributions,
        set_digest,
    }
}

/// Identifies one request: the set, the attempt and the committee.
fn request_id(id: &[u8; 32], info: &RequestInfo) -> [u8; 32] {
    let mut data = id.to_vec();
    data.extend_from_slice(&info.set_digest);
    data.extend_from_slice(&info.attempt.to_le_bytes());
    for c in &info.committee {
        data.extend_from_slice(&c.to_le_bytes());
    }
    digest(b"ml-he/aggregation/request/v2", &data)
}

/// Checks the contributor list of a request (distinct, known, sorted,
/// non-empty, one digest and size each, sizes adding up to the payload) and
/// the attempt number.
#[allow(clippy::too_many_arguments)]
fn check_contribution_list(
    what: &'static str,
    clients: usize,
    round: u64,
    attempt: u32,
    contributors: &[u32],
    digests: &[[u8; 32]],
    sizes: &[u64],
    payload_len: usize,
) -> Result<()> {
    if contributors.is_empty() {
        return Err(Error::Protocol(format!("{what} with no contributor")));
    }
    if digests.len() != contributors.len() || sizes.len() != contributors.len() {
        return Err(Error::Malformed {
            what,
            reason: format!(
                "{} contributors, {} digests, {} sizes",
                contributors.len(),
                digests.len(),
                sizes.len()
            ),
        });
    }
    let mut prev = 0u32;
    for &c in contributors {
        if c == 0 || c as usize > clients {
            return Err(Error::UnknownParty { party: c });
        }
        if c == prev {
            return Err(Error::DuplicateSubmission { party: c });
        }
        if c < prev {
            return Err(Error::Malformed {
                what,
                reason: "contributors not in increasing order".into(),
            });
        }
        prev = c;
    }
    let total = sizes
        .iter()
        .try_fold(0u64, |a, &s| a.checked_add(s))
        .unwrap_or(u64::MAX);
    if total != payload_len as u64 {
        return Err(Error::Malformed {
            what,
            reason: format!("contribution sizes add up to {total}, payload is {payload_len} bytes"),
        });
    }
    if attempt >= MAX_ATTEMPTS {
        return Err(Error::TooManyAttempts {
            round,
            attempt,
            max: MAX_ATTEMPTS,
        });
    }
    Ok(())
}

/// Splits a request's payload into its contributions and checks each
/// against its listed digest.
fn split_contributions<'a>(
    what: &'static str,
    payload: &'a [u8],
    sizes: &[u64],
    digests: &[[u8; 32]],
) -> Result<Vec<&'a [u8]>> {
    let mut out = Vec::with_capacity(sizes.len());
    let mut at = 0usize;
    for (i, (&s, d)) in sizes.iter().zip(digests).enumerate() {
        let end = at + s as usize;
        let bytes = &payload[at..end];
        if &update_digest(bytes) != d {
            return Err(Error::Malformed {
                what,
                reason: format!("contribution {i} does not match its digest"),
            });
        }
        out.push(bytes);
        at = end;
    }
    Ok(out)
}

/// A parsed decryption request whose sum of `c1` parts was recomputed from
/// the contributions it carries (`c0` is the server's sum: it only affects
/// the combined result, never what a share reveals).
struct Request {
    header: RequestHeader,
    info: RequestInfo,
    id: [u8; 32],
    sum: Vec<ckks::Ciphertext>,
    active: ActiveSet,
}

fn parse_request(key: &SessionKey, bytes: &[u8]) -> Result<Request> {
    const WHAT: &str = "decryption request";
    let (header, active, payload) = parse_request_header(key, bytes)?;
    let p = &key.params;
    let count = header.count as usize;
    let (c0_bytes, tails) = payload.split_at(count * packed_len(p.ring()));
    let mut c0 = p.unpack_polys(c0_bytes, count, WHAT)?;
    let mut at = 0usize;
    let mut parts = Vec::with_capacity(header.sizes.len());
    for (i, &size) in header.sizes.iter().enumerate() {
        let tail = &tails[at..at + size as usize];
        at += size as usize;
        if update_digest_from_parts(&header.heads[i], tail) != header.digests[i] {
            return Err(Error::Malformed {
                what: WHAT,
                reason: format!("contribution {i} does not match its digest"),
            });
        }
        parts.push(tail);
    }
    let c1s = parts
        .par_iter()
        .map(|t| p.unpack_polys(t, count, WHAT))
        .collect::<Result<Vec<_>>>()?;
    let mut iter = c1s.into_iter();
    let mut c1 = iter.next().unwrap_or_default();
    for next in iter {
        c1.par_iter_mut()
            .zip(next.par_iter())
            .try_for_each(|(a, b)| a.add_assign(b))?;
    }
    let info = request_info(
        &key.id,
        header.round,
        header.attempt,
        active.parties().iter().map(|p| p.0).collect(),
        &header.contributors,
        &header.digests,
    );
    if header.attempt > 0 {
        // A public encryption of zero: its randomness comes from the request
        // itself, so every member adds the same ciphertext and sees that it
        // encrypts zero — the server adds nothing of its own.
        let mut data = info.set_digest.to_vec();
        data.extend_from_slice(&header.attempt.to_le_bytes());
        let mut seed_rng =
            ChaCha20Rng::from_seed(digest(b"ml-he/aggregation/rerandomize/v1", &data));
        let zero = p.encode_chunk(&[0.0])?;
        let rngs = child_rngs(&mut seed_rng, count);
        c0.par_iter_mut()
            .zip(c1.par_iter_mut())
            .zip(rngs)
            .try_for_each(|((a, b), mut r)| -> Result<()> {
                let z = key.pk.encrypt(&zero, &mut r)?;
                let [z0, z1] = z.rlwe().parts() else {
                    return Err(Error::Protocol(
                        "encryption of zero with three parts".into(),
                    ));
                };
                a.add_assign(z0)?;
                Ok(b.add_assign(z1)?)
            })?;
    }
    let sum = c0
        .into_iter()
        .zip(c1)
        .map(|(a, b)| p.ciphertext(a, b))
        .collect::<Result<Vec<_>>>()?;
    let id = request_id(&key.id, &info);
    Ok(Request {
        header,
        info,
        id,
        sum,
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
    let c0_len = (h.count as usize).saturating_mul(packed_len(p.ring()));
    if payload.len() < c0_len || h.heads.len() != h.contributors.len() {
        return Err(Error::Malformed {
            what: WHAT,
            reason: format!(
                "{} bytes, {} heads for {} contributors",
                payload.len(),
                h.heads.len(),
                h.contributors.len()
            ),
        });
    }
    check_contribution_list(
        WHAT,
        p.config.clients,
        h.round,
        h.attempt,
        &h.contributors,
        &h.digests,
        &h.sizes,
        payload.len() - c0_len,
    )?;
    let one_ct = (h.count as u64).saturating_mul(packed_len(p.ring()) as u64);
    if h.sizes.iter().any(|&s| s != one_ct) {
        return Err(Error::Malformed {
            what: WHAT,
            reason: "a contribution's c1 parts of the wrong size".into(),
        });
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

/// What decryption request `request` asks for, from its header alone (see
/// [`RequestInfo`]); every check of the header is made, the contributions
/// themselves are not read.
pub fn inspect_request(key: &SessionKey, request: &[u8]) -> Result<RequestInfo> {
    let (h, active, _) = parse_request_header(key, request)?;
    Ok(request_info(
        &key.id,
        h.round,
        h.attempt,
        active.parties().iter().map(|p| p.0).collect(),
        &h.contributors,
        &h.digests,
    ))
}

/// The header checks every encrypted update passes (CKKS and Paillier):
/// its round, its client (known, and `expected` if given), its length.
fn check_update_header(
    round: u64,
    len: usize,
    expected: Option<u32>,
    h_round: u64,
    client: u32,
    h_len: u64,
    check_party: impl Fn(u32) -> Result<()>,
) -> Result<()> {
    if h_round != round {
        return Err(Error::SessionMismatch {
            what: format!("update for round {h_round}, this is round {round}"),
        });
    }
    check_party(client)?;
    if let Some(expected) = expected.filter(|&e| e != client) {
        return Err(Error::WrongSender {
            claimed: client,
            expected,
        });
    }
    if h_len as usize != len {
        return Err(Error::Shape(format!(
            "update of {h_len} values, the round expects {len}"
        )));
    }
    Ok(())
}

/// Parses and checks one encrypted update for `round` of `len` values
/// (from `expected` if given): tag, key, round, party, length, sizes and
/// every residue.
fn parse_update(
    key: &SessionKey,
    round: u64,
    len: usize,
    expected: Option<u32>,
    bytes: &[u8],
) -> Result<CheckedUpdate<ckks::Ciphertext>> {
    const WHAT: &str = "encrypted update";
    let p = &key.params;
    let (h, payload): (UpdateHeader, _) = unframe(bytes, WHAT, p.fingerprint())?;
    check_tag(&h.tag, &UPDATE_TAG, WHAT)?;
    if h.key != key.id {
        return Err(Error::SessionMismatch {
            what: "ciphertext under another collective key".into(),
        });
    }
    check_update_header(round, len, expected, h.round, h.client, h.len, |c| {
        p.check_party(c)
    })?;
    if h.count as usize != p.ciphertexts_for(len) || h.scale != p.scale {
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
        digest: update_digest(bytes),
        bytes: bytes.to_vec(),
        cts,
    })
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
    /// The contribution set this client decrypted in each round.
    released: std::collections::BTreeMap<u64, [u8; 32]>,
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
            released: std::collections::BTreeMap::new(),
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

    /// The installed collective key, if any.
    pub fn session_key(&self) -> Option<&SessionKey> {
        self.key.as_ref()
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

    /// This client's decryption share of the sum of the contributions in
    /// `request`, as a member of the request's committee. The client
    /// recomputes the sum itself from the contributions the request carries
    /// (each checked in full: key, round, named party, length, residues,
    /// digest), so nothing but a sum of well-formed updates of distinct
    /// clients is ever decrypted. Refuses requests for another key
    /// ([`Error::SessionMismatch`]), committees it is not part of
    /// ([`Error::UnknownParty`]), sums of fewer than `min_contributors`
    /// updates ([`Error::TooFewContributors`]), a second, different set of
    /// contributions in a round ([`Error::AlreadyReleased`]) and attempts
    /// beyond [`MAX_ATTEMPTS`] ([`Error::TooManyAttempts`]); a retry
    /// decrypts the sum plus a public encryption of zero derived from the
    /// request, a new ciphertext each attempt.
    ///
    /// The request names each contribution's party but cannot prove who
    /// made it: a caller whose transport authenticates senders checks
    /// [`inspect_request`] against the senders' signatures first (as
    /// `hekit-mpc` does).
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
        let (h, active, _) = parse_request_header(&key, request)?;
        if !active.contains(PartyId(self.id)) {
            return Err(Error::UnknownParty { party: self.id });
        }
        let min = self.params.config.min_contributors;
        if h.contributors.len() < min {
            return Err(Error::TooFewContributors {
                got: h.contributors.len(),
                min,
            });
        }
        let set = request_info(
            &key.id,
            h.round,
            h.attempt,
            Vec::new(),
            &h.contributors,
            &h.digests,
        )
        .set_digest;
        if self.released.get(&h.round).is_some_and(|d| d != &set) {
            return Err(Error::AlreadyReleased { round: h.round });
        }
        let req = parse_request(&key, request)?;
        self.released.insert(h.round, set);
        let smudging = self.params.smudging;
        let mut payload = Vec::with_capacity(req.sum.len() * packed_len(self.params.ring()));
        for ct in &req.sum {
            let share =
                self.party
                    .decryption_share(ct.rlwe(), Some(&req.active), &smudging, rng)?;
            pack_poly(share.poly(), &mut payload);
        }
        let header = ShareHeader {
            tag: SHARE_TAG,
            key: key.id,
            round: req.header.round,
            request: req.id,
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
/// ready for `add_checked`: its exact bytes (which go into the decryption
/// request), their [`update_digest`], and the parsed ciphertexts (`C` is
/// `ckks::Ciphertext` or `paillier::Ciphertext`). Public data only.
pub struct CheckedUpdate<C = ckks::Ciphertext> {
    /// The key (CKKS) or session (Paillier) identifier it was checked for.
    id: [u8; 32],
    round: u64,
    client: u32,
    digest: [u8; 32],
    bytes: Vec<u8>,
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

    /// [`update_digest`] of its bytes (what its sender signs).
    pub fn digest(&self) -> &[u8; 32] {
        &self.digest
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

/// The checked contributions of one round, by client: what a server keeps
/// and puts into decryption requests (shared by the CKKS and Paillier
/// servers).
#[derive(Default)]
struct Contributions {
    by_client: std::collections::BTreeMap<u32, ([u8; 32], Vec<u8>)>,
    requests: u32,
}

impl Contributions {
    fn contains(&self, client: u32) -> bool {
        self.by_client.contains_key(&client)
    }

    fn clients(&self) -> Vec<u32> {
        self.by_client.keys().copied().collect()
    }

    fn set(&self) -> Vec<(u32, [u8; 32])> {
        self.by_client.iter().map(|(&c, (d, _))| (c, *d)).collect()
    }

    fn add<C>(&mut self, u: CheckedUpdate<C>) -> Result<u32> {
        if self.by_client.contains_key(&u.client) {
            return Err(Error::DuplicateSubmission { party: u.client });
        }
        self.by_client.insert(u.client, (u.digest, u.bytes));
        Ok(u.client)
    }

    /// The next attempt number ([`MAX_ATTEMPTS`] per round).
    fn next_attempt(&mut self, round: u64) -> Result<u32> {
        if self.by_client.is_empty() {
            return Err(Error::Protocol("no update was added".into()));
        }
        let attempt = self.requests;
        if attempt >= MAX_ATTEMPTS {
            return Err(Error::TooManyAttempts {
                round,
                attempt,
                max: MAX_ATTEMPTS,
            });
        }
        self.requests += 1;
        Ok(attempt)
    }
}

/// The aggregation server of one round: checks encrypted updates and asks
/// committees to decrypt their sum. It holds the public key only and never
/// decrypts; the committee members recompute the sum from the
/// contributions the request carries.
pub struct Server {
    key: SessionKey,
    round: u64,
    len: usize,
    contributions: Contributions,
    /// Sum of the contributions' `c0` parts (sent with each request).
    c0_sum: Vec<Poly>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("round", &self.round)
            .field("len", &self.len)
            .field("contributors", &self.contributions.clients())
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
            round,
            len,
            contributions: Contributions::default(),
            c0_sum: Vec::new(),
        })
    }

    /// Checks an encrypted update and keeps it for the sum; returns the
    /// client's id. Errors: [`Error::Malformed`] (bytes, tag, sizes,
    /// residues), [`Error::SessionMismatch`] (another key, parameter set or
    /// round), [`Error::UnknownParty`], [`Error::DuplicateSubmission`],
    /// [`Error::Shape`] (another vector length). The update names its
    /// sender but is not signed: when the sender is authenticated (a TLS
    /// certificate, a signed channel), use [`Self::add_from`].
    pub fn add(&mut self, bytes: &[u8]) -> Result<u32> {
        let u = self.parse(None, bytes)?;
        self.add_checked(u)
    }

    /// As [`Self::add`] for an update received from the authenticated client
    /// `expected_party`: an update in the name of another client is
    /// [`Error::WrongSender`], refused before anything is kept (the bytes
    /// are parsed once).
    pub fn add_from(&mut self, expected_party: u32, bytes: &[u8]) -> Result<u32> {
        let u = self.check_update(expected_party, bytes)?;
        self.add_checked(u)
    }

    /// Every check of [`Self::add_from`] (sender included) without adding:
    /// the parsed update, to be added with [`Self::add_checked`] — e.g. after
    /// it was persisted.
    pub fn check_update(&self, expected_party: u32, bytes: &[u8]) -> Result<CheckedUpdate> {
        self.parse(Some(expected_party), bytes)
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
        if self.contributions.contains(update.client) {
            return Err(Error::DuplicateSubmission {
                party: update.client,
            });
        }
        let c0: Vec<Poly> = update
            .cts
            .iter()
            .map(|ct| ct.rlwe().parts()[0].clone())
            .collect();
        if self.c0_sum.is_empty() {
            self.c0_sum = c0;
        } else {
            self.c0_sum
                .par_iter_mut()
                .zip(c0.par_iter())
                .try_for_each(|(a, b)| a.add_assign(b))?;
        }
        self.contributions.add(update)
    }

    fn parse(&self, expected: Option<u32>, bytes: &[u8]) -> Result<CheckedUpdate> {
        let u = parse_update(&self.key, self.round, self.len, expected, bytes)?;
        if self.contributions.contains(u.client) {
            return Err(Error::DuplicateSubmission { party: u.client });
        }
        Ok(u)
    }

    /// The clients whose updates are in the sum.
    pub fn contributors(&self) -> Vec<u32> {
        self.contributions.clients()
    }

    /// `(client, update digest)` of every contribution, sorted by client:
    /// what the contributors approve ([`contribution_set_digest`]).
    pub fn contribution_set(&self) -> Vec<(u32, [u8; 32])> {
        self.contributions.set()
    }

    /// The request for decryption shares of the sum, addressed to a
    /// committee of exactly `t` clients: it carries every contribution
    /// (each committee member recomputes the sum). Each call is a new
    /// attempt (a new committee after a dropout; the members decrypt the sum
    /// re-randomized by a public encryption of zero); more than
    /// [`MAX_ATTEMPTS`] is [`Error::TooManyAttempts`].
    pub fn decryption_request(&mut self, committee: &[u32]) -> Result<Vec<u8>> {
        let p = self.key.params.clone();
        let active = p.active_set(committee)?;
        let attempt = self.contributions.next_attempt(self.round)?;
        let count = p.ciphertexts_for(self.len);
        let one = packed_len(p.ring());
        let n = self.contributions.by_client.len();
        let mut payload = Vec::with_capacity(one * count * (n + 1));
        for c0 in &self.c0_sum {
            pack_poly(c0, &mut payload);
        }
        let (mut contributors, mut digests, mut heads, mut sizes) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (&c, (d, bytes)) in &self.contributions.by_client {
            let (head, tail) = split_update(bytes);
            contributors.push(c);
            digests.push(*d);
            heads.push(head_digest(head));
            sizes.push(tail.len() as u64);
            payload.extend_from_slice(tail);
        }
        let header = RequestHeader {
            tag: REQUEST_TAG,
            key: self.key.id,
            round: self.round,
            attempt,
            len: self.len as u64,
            committee: active.parties().iter().map(|p| p.0).collect(),
            contributors,
            digests,
            heads,
            sizes,
            count: count as u32,
            scale: p.scale,
        };
        Ok(frame(p.fingerprint(), &header, &payload))
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
/// request id, committee, sizes); returns its sender and payload.
fn check_share_header<'a>(
    key: &SessionKey,
    round: u64,
    count: u32,
    request_id: &[u8; 32],
    active: &ActiveSet,
    share: &'a [u8],
) -> Result<(u32, &'a [u8])> {
    const WHAT: &str = "decryption share";
    let p = &key.params;
    let (h, payload): (ShareHeader, _) = unframe(share, WHAT, p.fingerprint())?;
    check_tag(&h.tag, &SHARE_TAG, WHAT)?;
    if h.key != key.id || &h.request != request_id || h.round != round {
        return Err(Error::SessionMismatch {
            what: "decryption share of another request".into(),
        });
    }
    if !active.contains(PartyId(h.party)) {
        return Err(Error::UnknownParty { party: h.party });
    }
    let one = packed_len(p.ring());
    if h.count != count || payload.len() != one * h.count as usize {
        return Err(Error::Malformed {
            what: WHAT,
            reason: format!("{} bytes for {} shares", payload.len(), h.count),
        });
    }
    Ok((h.party, payload))
}

/// The client who made the decryption share `share`, after checking that it
/// answers `request` (same collective key, round, contributions, attempt and
/// committee: a share of another or retried request is
/// [`Error::SessionMismatch`]), that its sender is a member of the request's
/// committee ([`Error::UnknownParty`]), and its size and every residue
/// (below its modulus, [`Error::Malformed`]). Nothing is combined: use it to
/// match a share with its authenticated sender before [`combine`]. Only the
/// request's header is read, not its contributions.
pub fn decryption_share_sender(key: &SessionKey, request: &[u8], share: &[u8]) -> Result<u32> {
    const WHAT: &str = "decryption share";
    let (h, active, _) = parse_request_header(key, request)?;
    let info = request_info(
        &key.id,
        h.round,
        h.attempt,
        active.parties().iter().map(|p| p.0).collect(),
        &h.contributors,
        &h.digests,
    );
    let rid = request_id(&key.id, &info);
    let (party, payload) = check_share_header(key, h.round, h.count, &rid, &active, share)?;
    let ring = key.params.ring();
    let one = packed_len(ring);
    payload
        .par_chunks(one)
        .try_for_each(|c| unpack_poly(ring, Representation::Ntt, c, WHAT).map(|_| ()))?;
    Ok(party)
}

/// Combines the committee's decryption shares of `request` into the
/// average (the sum is recomputed from the request's contributions). Every
/// committee member's share is needed ([`threshold::Error::TooFewShares`]
/// otherwise); shares of another request or key are
/// [`Error::SessionMismatch`], a share from outside the committee
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
        let (party, payload) = check_share_header(
            key,
            req.header.round,
            req.header.count,
            &req.id,
            &req.active,
            s,
        )?;
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
        .sum
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
        committee: req.info.committee.clone(),
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
    const P_REQUEST_TAG: [u8; 8] = *b"pag/req2";
    const P_SHARE_TAG: [u8; 8] = *b"pag/dsh2";

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

    /// As the CKKS request: the payload is the contributions themselves.
    #[derive(Serialize, Deserialize)]
    struct PRequestHeader {
        tag: [u8; 8],
        round: u64,
        attempt: u32,
        len: u64,
        contributors: Vec<u32>,
        digests: Vec<[u8; 32]>,
        sizes: Vec<u64>,
        count: u32,
    }

    #[derive(Serialize, Deserialize)]
    struct PShareHeader {
        tag: [u8; 8],
        round: u64,
        request: [u8; 32],
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

        /// The session identifier (a digest of the public key) used in
        /// [`super::contribution_set_digest`].
        pub fn id(&self) -> &[u8; 32] {
            &self.fp
        }

        /// Parses and checks one encrypted update for `round` of `len`
        /// values (from `expected` if given).
        fn parse_update(
            &self,
            round: u64,
            len: usize,
            expected: Option<u32>,
            bytes: &[u8],
        ) -> Result<CheckedUpdate> {
            const WHAT: &str = "encrypted Paillier update";
            let (h, payload): (PUpdateHeader, _) = unframe(bytes, WHAT, &self.fp)?;
            check_tag(&h.tag, &P_UPDATE_TAG, WHAT)?;
            check_update_header(round, len, expected, h.round, h.client, h.len, |c| {
                self.check_party(c)
            })?;
            if h.count as usize != self.ciphertexts_for(len) {
                return Err(Error::Malformed {
                    what: WHAT,
                    reason: format!("{} ciphertexts", h.count),
                });
            }
            let cts = self.unpack_cts(payload, h.count as usize, WHAT)?;
            Ok(CheckedUpdate {
                id: self.fp,
                round: h.round,
                client: h.client,
                digest: update_digest(bytes),
                bytes: bytes.to_vec(),
                cts,
            })
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
        contributions: Contributions,
    }

    impl std::fmt::Debug for PaillierServer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("PaillierServer")
                .field("round", &self.round)
                .field("contributors", &self.contributions.clients())
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
                contributions: Contributions::default(),
            })
        }

        /// Checks and keeps an encrypted update (errors as
        /// [`super::Server::add`]).
        pub fn add(&mut self, bytes: &[u8]) -> Result<u32> {
            let u = self.parse(None, bytes)?;
            self.add_checked(u)
        }

        /// As [`Self::add`] for an update received from the authenticated
        /// client `expected_party` (as [`super::Server::add_from`]: another
        /// client's update is [`Error::WrongSender`], nothing is kept).
        pub fn add_from(&mut self, expected_party: u32, bytes: &[u8]) -> Result<u32> {
            let u = self.check_update(expected_party, bytes)?;
            self.add_checked(u)
        }

        /// Every check of [`Self::add_from`] without adding (as
        /// [`super::Server::check_update`]).
        pub fn check_update(&self, expected_party: u32, bytes: &[u8]) -> Result<CheckedUpdate> {
            self.parse(Some(expected_party), bytes)
        }

        /// Adds an update that passed [`Self::check_update`] on this
        /// server; returns the client's id.
        pub fn add_checked(&mut self, update: CheckedUpdate) -> Result<u32> {
            if update.round != self.round || update.id != self.session.fp {
                return Err(Error::SessionMismatch {
                    what: "update checked for another round or key".into(),
                });
            }
            self.check_headroom()?;
            self.contributions.add(update)
        }

        fn check_headroom(&self) -> Result<()> {
            let cap = self.session.packer.capacity();
            let needed = self.contributions.clients().len() as u64 + 1;
            if needed > cap {
                return Err(Error::Paillier(paillier::Error::HeadroomExceeded {
                    needed,
                    capacity: cap,
                }));
            }
            Ok(())
        }

        fn parse(&self, expected: Option<u32>, bytes: &[u8]) -> Result<CheckedUpdate> {
            let u = self
                .session
                .parse_update(self.round, self.len, expected, bytes)?;
            if self.contributions.contains(u.client) {
                return Err(Error::DuplicateSubmission { party: u.client });
            }
            self.check_headroom()?;
            Ok(u)
        }

        /// The clients in the sum.
        pub fn contributors(&self) -> Vec<u32> {
            self.contributions.clients()
        }

        /// `(client, update digest)` of every contribution (as
        /// [`super::Server::contribution_set`]).
        pub fn contribution_set(&self) -> Vec<(u32, [u8; 32])> {
            self.contributions.set()
        }

        /// The request for partial decryptions of the sum (any `t` key
        /// holders answer): it carries every contribution, and each key
        /// holder recomputes the sum ([`KeyHolder::decryption_share`]). Each
        /// call is a new attempt; more than [`MAX_ATTEMPTS`] is
        /// [`Error::TooManyAttempts`].
        pub fn decryption_request(&mut self) -> Result<Vec<u8>> {
            let attempt = self.contributions.next_attempt(self.round)?;
            let (mut contributors, mut digests, mut sizes, mut payload) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for (&c, (d, b)) in &self.contributions.by_client {
                contributors.push(c);
                digests.push(*d);
                sizes.push(b.len() as u64);
                payload.extend_from_slice(b);
            }
            let header = PRequestHeader {
                tag: P_REQUEST_TAG,
                round: self.round,
                attempt,
                len: self.len as u64,
                contributors,
                digests,
                sizes,
                count: self.session.ciphertexts_for(self.len) as u32,
            };
            Ok(frame(&self.session.fp, &header, &payload))
        }
    }

    /// A parsed request whose sum was recomputed from its contributions.
    struct PRequest {
        header: PRequestHeader,
        id: [u8; 32],
        sum: Vec<paillier::Ciphertext>,
    }

    fn parse_request(s: &PaillierSession, bytes: &[u8]) -> Result<PRequest> {
        const WHAT: &str = "Paillier decryption request";
        let (h, payload) = parse_request_header(s, bytes)?;
        let parts = split_contributions(WHAT, payload, &h.sizes, &h.digests)?;
        let updates = parts
            .par_iter()
            .zip(h.contributors.par_iter())
            .map(|(b, &c)| s.parse_update(h.round, h.len as usize, Some(c), b))
            .collect::<Result<Vec<_>>>()?;
        if updates.len() as u64 > s.packer.capacity() {
            return Err(Error::Paillier(paillier::Error::HeadroomExceeded {
                needed: updates.len() as u64,
                capacity: s.packer.capacity(),
            }));
        }
        let mut iter = updates.into_iter();
        let mut sum = iter.next().map(|u| u.cts).unwrap_or_default();
        for u in iter {
            sum = sum
                .par_iter()
                .zip(u.cts.par_iter())
                .map(|(a, b)| a.add(b))
                .collect::<std::result::Result<_, _>>()?;
        }
        let id = request_id(&s.fp, &p_info(s, &h));
        Ok(PRequest { header: h, id, sum })
    }

    fn p_info(s: &PaillierSession, h: &PRequestHeader) -> RequestInfo {
        request_info(
            &s.fp,
            h.round,
            h.attempt,
            Vec::new(),
            &h.contributors,
            &h.digests,
        )
    }

    fn parse_request_header<'a>(
        s: &PaillierSession,
        bytes: &'a [u8],
    ) -> Result<(PRequestHeader, &'a [u8])> {
        const WHAT: &str = "Paillier decryption request";
        let (h, payload): (PRequestHeader, _) = unframe(bytes, WHAT, &s.fp)?;
        check_tag(&h.tag, &P_REQUEST_TAG, WHAT)?;
        check_contribution_list(
            WHAT,
            s.clients,
            h.round,
            h.attempt,
            &h.contributors,
            &h.digests,
            &h.sizes,
            payload.len(),
        )?;
        if h.len == 0 || h.count as usize != s.ciphertexts_for(h.len as usize) {
            return Err(Error::Malformed {
                what: WHAT,
                reason: "inconsistent sizes".into(),
            });
        }
        Ok((h, payload))
    }

    /// What a Paillier decryption request asks for, from its header alone
    /// (as [`super::inspect_request`]; the committee is any `t` key holders,
    /// so [`RequestInfo::committee`] is empty).
    pub fn inspect_request(session: &PaillierSession, request: &[u8]) -> Result<RequestInfo> {
        let (h, _) = parse_request_header(session, request)?;
        Ok(p_info(session, &h))
    }

    /// A threshold Paillier key holder answering decryption requests: it
    /// recomputes each request's sum from the contributions it carries, and
    /// keeps the policy of [`super::Client::decryption_share`] (at least
    /// `min_contributors` updates, one contribution set per round, at most
    /// [`MAX_ATTEMPTS`] attempts). Partial decryptions are deterministic, so
    /// a retry of the same sum reveals nothing new.
    pub struct KeyHolder {
        session: Arc<PaillierSession>,
        share: KeyShare,
        min_contributors: usize,
        released: std::collections::BTreeMap<u64, [u8; 32]>,
    }

    impl std::fmt::Debug for KeyHolder {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("KeyHolder")
                .field("party", &self.share.party().0)
                .field("min_contributors", &self.min_contributors)
                .finish_non_exhaustive()
        }
    }

    impl KeyHolder {
        /// The holder of `share` for `session`, refusing sums of fewer than
        /// `min_contributors` (at least 1) updates.
        pub fn new(
            session: &Arc<PaillierSession>,
            share: KeyShare,
            min_contributors: usize,
        ) -> Result<Self> {
            if share.public_params() != &session.params {
                return Err(Error::SessionMismatch {
                    what: "key share of another dealing".into(),
                });
            }
            Ok(Self {
                session: session.clone(),
                share,
                min_contributors: min_contributors.max(1),
                released: std::collections::BTreeMap::new(),
            })
        }

        /// The key share.
        pub fn share(&self) -> &KeyShare {
            &self.share
        }

        /// Partial decryptions (with proofs) of the sum of the request's
        /// contributions. Errors as [`super::Client::decryption_share`].
        pub fn decryption_share<R: RngCore + CryptoRng>(
            &mut self,
            request: &[u8],
            rng: &mut R,
        ) -> Result<Vec<u8>> {
            let s = self.session.clone();
            let (h, _) = parse_request_header(&s, request)?;
            let min = self.min_contributors;
            if h.contributors.len() < min {
                return Err(Error::TooFewContributors {
                    got: h.contributors.len(),
                    min,
                });
            }
            let set = p_info(&s, &h).set_digest;
            if self.released.get(&h.round).is_some_and(|d| d != &set) {
                return Err(Error::AlreadyReleased { round: h.round });
            }
            let req = parse_request(&s, request)?;
            self.released.insert(h.round, set);
            let partials = req
                .sum
                .iter()
                .map(|c| Ok(self.share.partial_decrypt(c, rng)?.to_bytes()))
                .collect::<Result<Vec<_>>>()?;
            let header = PShareHeader {
                tag: P_SHARE_TAG,
                round: req.header.round,
                request: req.id,
                party: self.share.party().0,
                partials,
            };
            Ok(frame(&s.fp, &header, &[]))
        }
    }

    /// A share's sender and partial decryptions, checked against the
    /// request's header (round, request id, count, one party throughout).
    fn parse_share(
        session: &PaillierSession,
        h: &PRequestHeader,
        request_id: &[u8; 32],
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
        if &sh.request != request_id || sh.round != h.round {
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
    /// that it answers `request` (round, contributions and attempt, else
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
        let rid = request_id(&session.fp, &p_info(session, &h));
        let (party, _) = parse_share(session, &h, &rid, share)?;
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
        let req = parse_request(session, request)?;
        let (h, cts) = (&req.header, &req.sum);
        let mut per_ct: Vec<Vec<PartialDecryption>> = vec![Vec::new(); cts.len()];
        let mut parties = BTreeSet::new();
        for s in shares {
            let (party, pds) = parse_share(session, h, &req.id, s)?;
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
            contributors: h.contributors.clone(),
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
