//! The collective public key of a session.

use super::*;

/// The session's collective public key and its identifier (a digest of the
/// key), which every message carries. Public.
#[derive(Clone)]
pub struct SessionKey {
    pub(super) params: Arc<AggregationParams>,
    pub(super) pk: ckks::PublicKey,
    pub(super) id: [u8; 32],
}

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionKey")
            .field("id", &hex(&self.id[..8]))
            .finish_non_exhaustive()
    }
}

pub(super) fn hex(b: &[u8]) -> String {
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

    pub(super) fn wrap(params: &Arc<AggregationParams>, pk: ckks::PublicKey) -> Self {
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
