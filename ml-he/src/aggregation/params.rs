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
pub(super) const MAX_RETRIES: u32 = 4;

/// The public parameters of an aggregation session: the configuration, the
/// CKKS parameters, the scale, the smudging width and the stated precision,
/// and the session's common reference string. Everybody derives the same
/// object from the same config and session seed.
pub struct AggregationParams {
    pub(super) config: AggregationConfig,
    pub(super) ckks: ckks::Parameters,
    pub(super) encoder: ckks::Encoder,
    pub(super) scale: f64,
    pub(super) encode_shift: u32,
    pub(super) log2_noise: f64,
    pub(super) smudging: Smudging,
    pub(super) sum_precision: f64,
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
        let log2_noise =
            threshold::ckks_fresh_noise_bound(ckks.rlwe(), n, n + MAX_RETRIES as usize);
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

    /// Packs `N` reals into `N/2` complex slots at scale Δ. The encoder
    /// rounds at the scale `Δ_0 = Δ / 2^shift` that keeps every coefficient
    /// below 2^62 (its fast path), then the plaintext is multiplied by the
    /// integer `2^shift` (exact, modulo each prime): the rounding error,
    /// at most ½ per coefficient at `Δ_0`, is part of the stated precision.
    pub(super) fn encode_chunk(&self, chunk: &[f64]) -> Result<ckks::Plaintext> {
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
