//! Aggregation parameters: the session configuration and everything derived from it.

use super::*;

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
    /// Every update carries a zero-knowledge proof that each ciphertext is a
    /// well-formed encryption of a message within `max_abs` (up to the
    /// proof's slack), verified by the server and every committee member;
    /// the smudging and the message space are sized from the *proven*
    /// bounds (on by default; see the module docs). Set with
    /// [`Self::prove_updates`].
    pub prove_updates: bool,
    /// Every decryption share carries a zero-knowledge proof that it was
    /// made with the member's committed Shamir share and noise within the
    /// smudging bound; the dealing is verifiable ([`threshold::vss`]), and
    /// a wrong share is refused naming its sender
    /// ([`Error::InvalidShareProof`]). On by default; needs
    /// [`Self::prove_updates`] (without update proofs any input party
    /// recovers the key, so share proofs alone would protect nothing). Set
    /// with [`Self::prove_shares`].
    pub prove_shares: bool,
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
            prove_updates: true,
            prove_shares: true,
        }
    }

    /// Turns the update proofs on or off. **Off is insecure against
    /// malicious input parties**: one well-formed update `(0, ⌊Q/64⌋)`
    /// then makes the published sum reveal the collective secret key.
    /// Off also turns the decryption-share proofs off (they need the
    /// update proofs).
    pub fn prove_updates(mut self, on: bool) -> Self {
        self.prove_updates = on;
        if !on {
            self.prove_shares = false;
        }
        self
    }

    /// Turns the decryption-share proofs on or off. **Off lets a committee
    /// member move the published result undetected** (it learns nothing
    /// more; the result is wrong).
    pub fn prove_shares(mut self, on: bool) -> Self {
        self.prove_shares = on;
        self
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
pub(super) const MAX_RETRIES: u32 = 4;

/// Bits of a proven update's integer message: a coordinate `v` within
/// `±max_abs` becomes `m = round(v·2^f)` with `f = 28 − ⌈log2 max_abs⌉`, so
/// `|m| ≤ 2^28` (the proof's message bound, 48-bit responses), lifted to
/// the CKKS scale `Δ` by the exact integer `K = Δ/2^f`. The rounding error,
/// at most `2^-(f+1)` per coordinate and update (2^-21 for `max_abs =
/// 256`), is part of the stated precision.
pub const PROOF_MESSAGE_BITS: u32 = 28;

/// The public parameters of an aggregation session: the configuration, the
/// CKKS parameters, the scale, the smudging width and the stated precision,
/// the update proofs' parameters, and the session's common reference
/// string. Everybody derives the same object from the same config and
/// session seed.
pub struct AggregationParams {
    pub(super) config: AggregationConfig,
    pub(super) ckks: ckks::Parameters,
    pub(super) scale: f64,
    /// Updates are rounded at `2^encode_bits` and lifted by `2^lift_log2`
    /// (`Δ = 2^(encode_bits + lift_log2)`).
    pub(super) encode_bits: u32,
    pub(super) lift: Vec<u64>,
    pub(super) log2_noise: f64,
    pub(super) smudging: Smudging,
    pub(super) sum_precision: f64,
    pub(super) proof: Option<zk::EncParams>,
    /// The decryption-share proofs' parameters (sessions that prove shares).
    pub(super) shares: Option<zk::ShareParams>,
    pub(super) crs: threshold::Crs,
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
            .field("proof_bytes", &self.proof.as_ref().map(|p| p.proof_bytes()))
            .field("share_proofs", &self.shares.is_some())
            .finish()
    }
}

/// log2 of the noise bound of one contribution proven well-formed: its
/// decryption is `K·m̄ + ū·e + ē0 + ē1·s` with the proven bounds on `ū`,
/// `ē0`, `ē1` (the slack included) and the collective key's `e = Σ e_i`
/// (centered binomial, variance 10.5 each) and `s = Σ s_i` (ternary,
/// variance 2/3 each) of `n` honest key shares:
/// `‖ū·e‖∞ ≤ ‖ū‖∞·‖e‖₁` with `‖e‖₁ ≤ 1.1·N·sqrt(10.5·n)`, and the same for
/// `ē1·s` with `‖s‖₁ ≤ 1.1·N·sqrt(2n/3)` (1.1: the sum of `N` absolute
/// values exceeds its mean bound by 10 % with probability far below 2^-100).
/// log2 of the worst error the `t` decryption shares add to the decrypted
/// sum: `t` smudging noises plus the ciphertext's own noise and, in a
/// session that proves shares, `t` times what a verified share proof still
/// allows a cheating member to add ([`zk::ShareParams::offset_bound_for`]):
/// the stated precision then holds whatever the committee sends.
fn log2_worst_error(
    sm: &Smudging,
    t: usize,
    log2_noise: f64,
    prove_shares: bool,
    degree: usize,
) -> Result<f64> {
    let honest = sm.log2_total_bound(t, log2_noise).exp2();
    let cheat = if prove_shares {
        zk::ShareParams::offset_bound_for(degree, zk::MAX_SHARES_PER_PROOF, sm.tail_bound())
            .map_err(|e| {
                Error::OutOfRange(format!(
                    "decryption-share proofs with smudging 2^{:.1}: {e} (fewer clients, a lower \
                     t or prove_shares(false))",
                    sm.log2_sigma()
                ))
            })? as f64
            * t as f64
    } else {
        0.0
    };
    Ok((honest + cheat).log2())
}

pub(crate) fn log2_proven_noise(proof: &zk::EncParams, n: usize) -> f64 {
    let b = proof.proven_bounds();
    let degree = proof.ring().degree() as f64;
    let e1 = 1.1 * degree * (10.5 * n as f64).sqrt();
    let s1 = 1.1 * degree * (2.0 * n as f64 / 3.0).sqrt();
    (b.u as f64 * e1 + b.e0 as f64 + b.e1 as f64 * s1).log2()
}

impl AggregationParams {
    /// Validates `config` and derives everything from it and the public
    /// session seed.
    ///
    /// Updates are encoded **coefficient-wise** (coordinate `j` of a chunk
    /// of `N` is coefficient `j` of the plaintext): aggregation only adds,
    /// and a bound on a coordinate is a bound on a coefficient, which is
    /// what the update proofs prove.
    ///
    /// With proofs ([`AggregationConfig::prove_updates`], the default) the
    /// chain is two 49-bit primes plus what the proven bounds need (a third
    /// prime of up to 49 bits; a fourth only fits at `N = 16384`), so that
    /// the sum of `n` messages of the proven bound (`max_abs` times the
    /// proof's slack) never wraps modulo `Q` and the smudging, sized from
    /// the proven noise bound, leaves at least `f + 1` bits (see
    /// [`PROOF_MESSAGE_BITS`])
    /// below the scale. Without proofs: two 49-bit primes, smudging from the
    /// honest fresh-noise bound.
    pub fn new(config: AggregationConfig, session_seed: [u8; 32]) -> Result<Arc<Self>> {
        let n = config.clients;
        let t = config.threshold;
        // Client ids are Shamir evaluation points X^j: below 2N.
        if n == 0 || t == 0 || t > n || n >= 2 * config.degree {
            return Err(Error::OutOfRange(format!(
                "threshold t = {t} of n = {n} clients (need 1 ≤ t ≤ n < 2N = {})",
                2 * config.degree
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
        if config.prove_shares && !config.prove_updates {
            return Err(Error::OutOfRange(
                "prove_shares needs prove_updates: without update proofs one input party \
                 recovers the key, so share proofs alone protect nothing"
                    .into(),
            ));
        }
        if config.degree != 8192 && config.degree != 16384 {
            return Err(Error::OutOfRange(format!(
                "ring degree {} (8192 or 16384)",
                config.degree
            )));
        }
        let build = |q_bits: &[u32]| {
            rlwe::params::Params::builder()
                .degree(config.degree)
                .q_bits(q_bits)
                .p_bits(&[50])
                .build()
        };
        let two = build(&[49, 49])?;
        let log2_fresh =
            |p: &rlwe::params::Params, k: usize| threshold::ckks_fresh_noise_bound(p, n, k);
        // (chain, noise bound, bound on each coordinate of one contribution,
        //  encoding bits)
        let (rlwe, log2_noise, coordinate_bound, encode_bits, proof_m) = if config.prove_updates {
            let f = f64::from(PROOF_MESSAGE_BITS) - config.max_abs.log2().ceil();
            if !(0.0..=61.0).contains(&f) {
                return Err(Error::OutOfRange(format!(
                    "max_abs = {} for proven updates (2^-33 ≤ max_abs ≤ 2^28)",
                    config.max_abs
                )));
            }
            let m_bound = (config.max_abs * f.exp2()).ceil();
            let m_bound = m_bound as u64;
            let probe = zk::EncParams::new(two.ring_q_top(), m_bound, 0)?;
            let proven = log2_proven_noise(&probe, n).exp2() * n as f64;
            let log2_noise = (proven + log2_fresh(&two, MAX_RETRIES as usize).exp2()).log2();
            let coordinate = probe.proven_bounds().m as f64 / f.exp2();
            let sm = Smudging::new(log2_noise, config.lambda);
            let log_err = log2_worst_error(&sm, t, log2_noise, config.prove_shares, config.degree)?;
            // log2 Q ≥ err + (rounding bits + 1) + 2 (margin) + sum bound + 1 (floor)
            let needed = log_err + f + 1.0 + 2.0 + (n as f64 * coordinate).log2() + 1.0;
            let mut q_bits = vec![49u32, 49];
            let mut rest = (needed - 98.0).ceil();
            while rest > 0.0 {
                let b = rest.clamp(20.0, 49.0);
                q_bits.push(b as u32);
                rest -= b;
            }
            let chain = build(&q_bits).map_err(|e| match e {
                rlwe::Error::InsecureParameters {
                    degree,
                    log_qp,
                    max_log_qp,
                    ..
                } => Error::OutOfRange(format!(
                    "{n} clients with t = {t}: the chain needs log2(QP) = {log_qp} bits, above \
                     the 128-bit bound of {max_log_qp} at N = {degree} (the share proofs' \
                     slack grows with t): AggregationConfig::degree(16384), a lower threshold \
                     or prove_shares(false)"
                )),
                e => e.into(),
            })?;
            (chain, log2_noise, coordinate, f as u32, Some(m_bound))
        } else {
            let log2_noise = log2_fresh(&two, n + MAX_RETRIES as usize);
            // Coefficients round(v·2^bits) below 2^62.
            let bits = (61.0 - config.max_abs.log2()).floor().max(0.0) as u32;
            (two, log2_noise, config.max_abs, bits, None)
        };
        let log_q: f64 = rlwe.q().iter().map(|&q| (q as f64).log2()).sum();
        // The sum of n contributions must stay below Q/4.
        let log_scale = (log_q - 2.0 - (n as f64 * coordinate_bound).log2()).floor();
        if log_scale < 20.0 {
            return Err(Error::OutOfRange(format!(
                "max_abs = {} for {n} clients leaves a scale of only 2^{log_scale}",
                config.max_abs
            )));
        }
        let encode_bits = encode_bits.min(log_scale as u32);
        let lift_log2 = log_scale as u32 - encode_bits;
        let scale = log_scale.exp2();
        let ckks = ckks::Parameters::new(rlwe, scale)?;
        // The precision the smudging leaves (bits below the scale): the
        // coefficient encoding has no embedding factor.
        let smudging = Smudging::new(log2_noise, config.lambda);
        let log_err =
            log2_worst_error(&smudging, t, log2_noise, config.prove_shares, config.degree)?;
        let precision_bits = log_scale - log_err;
        if precision_bits < 10.0 {
            return Err(Error::OutOfRange(format!(
                "λ = {} leaves only {precision_bits:.1} bits of precision",
                config.lambda
            )));
        }
        smudging.check_width()?;
        let ring = ckks.rlwe().ring_q_top().clone();
        let proof = proof_m
            .map(|m| zk::EncParams::new(&ring, m, lift_log2))
            .transpose()?;
        let shares = if config.prove_shares {
            Some(
                threshold::vss::share_proof_params(
                    &ring,
                    &smudging,
                    t,
                    n,
                    zk::MAX_SHARES_PER_PROOF,
                )
                .map_err(|e| {
                    Error::OutOfRange(format!(
                        "decryption-share proofs for t = {t} of n = {n}: {e} (fewer clients, \
                         a lower t or prove_shares(false))"
                    ))
                })?,
            )
        } else {
            None
        };
        let lift: Vec<u64> = ring
            .moduli()
            .iter()
            .map(|m| m.pow(2, u64::from(lift_log2)))
            .collect();
        // Rounding at 2^encode_bits: ≤ 2^-(encode_bits+1) per coordinate and update.
        let rounding = n as f64 * (-(f64::from(encode_bits) + 1.0)).exp2();
        Ok(Arc::new(Self {
            config,
            ckks,
            scale,
            encode_bits,
            lift,
            log2_noise,
            smudging,
            sum_precision: (log_err - log_scale).exp2() + rounding,
            proof,
            shares,
            crs: threshold::Crs::from_seed(session_seed),
        }))
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

    /// Floats per ciphertext (`N`: one per coefficient).
    pub fn values_per_ciphertext(&self) -> usize {
        self.ckks.degree()
    }

    /// Ciphertexts for a vector of `len` floats.
    pub fn ciphertexts_for(&self, len: usize) -> usize {
        len.div_ceil(self.values_per_ciphertext()).max(1)
    }

    /// Bytes on the wire of one client's update of `len` floats (without
    /// the header): the ciphertexts and, if the session proves updates, one
    /// proof per ciphertext.
    pub fn update_bytes(&self, len: usize) -> usize {
        self.ciphertexts_for(len) * (2 * packed_len(self.ring()) + self.proof_bytes())
    }

    /// Bytes of the proof of one ciphertext (0 without proofs).
    pub fn proof_bytes(&self) -> usize {
        self.proof.as_ref().map_or(0, zk::EncParams::proof_bytes)
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

    pub(super) fn ring(&self) -> &Arc<RingContext> {
        // level max_level = the whole chain Q
        self.ckks.rlwe().ring_q_top()
    }

    pub(super) fn fingerprint(&self) -> &[u8; 32] {
        self.ckks.rlwe().fingerprint()
    }

    pub(super) fn check_party(&self, id: u32) -> Result<()> {
        if id == 0 || id as usize > self.config.clients {
            return Err(Error::UnknownParty { party: id });
        }
        Ok(())
    }

    pub(super) fn active_set(&self, committee: &[u32]) -> Result<ActiveSet> {
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

    /// The integer message of a chunk of at most `N` coordinates:
    /// coefficient `j` is `round(v_j·2^encode_bits)` (the rest zero).
    pub(super) fn encode_message(&self, chunk: &[f64]) -> Vec<i64> {
        let s = f64::from(self.encode_bits).exp2();
        let mut m: Vec<i64> = chunk.iter().map(|v| (v * s).round() as i64).collect();
        m.resize(self.ckks.degree(), 0);
        m
    }

    /// The plaintext `K·m` (NTT form) of an integer message.
    pub(super) fn plaintext(&self, m: &[i64]) -> Result<ckks::Plaintext> {
        let mut poly = rlwe::sample::small_poly(self.ring(), m);
        poly.mul_scalar_rns_assign(&self.lift)?;
        poly.to_ntt();
        Ok(ckks::Plaintext::from_poly(&self.ckks, poly, self.scale)?)
    }

    /// The coordinates of a decrypted sum (a plaintext at scale Δ): the
    /// centered coefficients divided by Δ.
    pub(super) fn decode(&self, pt: &ckks::Plaintext) -> Vec<f64> {
        pt.poly()
            .centered_coeffs()
            .iter()
            .map(|c| num_traits::ToPrimitive::to_f64(c).unwrap_or(f64::NAN) / self.scale)
            .collect()
    }

    /// The parameters of the decryption-share proofs, if the session proves
    /// shares.
    pub fn share_proof_params(&self) -> Option<&zk::ShareParams> {
        self.shares.as_ref()
    }

    /// Bytes of the proofs a decryption share of `count` ciphertexts
    /// carries (0 without share proofs).
    pub fn share_proof_bytes(&self, count: usize) -> usize {
        crate::committee::proof_bytes(self.shares.as_ref(), count)
    }

    /// The parameters of the update proofs, if the session proves updates.
    pub fn proof_params(&self) -> Option<&zk::EncParams> {
        self.proof.as_ref()
    }

    /// Packs ciphertexts as all `c0` parts, then all `c1` parts: the `c1`
    /// half is what a decryption committee needs ([`update_digest`] hashes
    /// the halves separately so that it can check `c1` alone).
    pub(super) fn pack_cts(&self, cts: &[ckks::Ciphertext]) -> Vec<u8> {
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
    pub(super) fn unpack_polys(
        &self,
        bytes: &[u8],
        count: usize,
        what: &'static str,
    ) -> Result<Vec<Poly>> {
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

    pub(super) fn ciphertext(&self, c0: Poly, c1: Poly) -> Result<ckks::Ciphertext> {
        let ct = rlwe::ciphertext::Ciphertext::new(self.ckks.rlwe(), vec![c0, c1])?;
        Ok(ckks::Ciphertext::from_rlwe(&self.ckks, ct, self.scale)?)
    }

    pub(super) fn unpack_cts(
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
