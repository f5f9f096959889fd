//! The collective public key of a session.

use super::*;

/// The session's collective public key and its identifier (a digest of the
/// key), which every message carries. Public.
#[derive(Clone)]
pub struct SessionKey {
    pub(super) params: Arc<AggregationParams>,
    pub(super) pk: ckks::PublicKey,
    pub(super) id: [u8; 32],
    /// The key over `Q` for the update proofs (sessions that prove).
    pub(super) zk: Option<Arc<zk::EncKey>>,
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
        Self::wrap(params, pk)
    }

    pub(super) fn wrap(params: &Arc<AggregationParams>, pk: ckks::PublicKey) -> Result<Self> {
        let mut data = pk.to_bytes();
        data.extend_from_slice(params.crs.seed());
        let id = digest(b"ml-he/aggregation/session-key/v1", &data);
        let zk = params
            .proof
            .as_ref()
            .map(|zp| zk::EncKey::new(zp, pk.rlwe()).map(Arc::new))
            .transpose()?;
        Ok(Self {
            params: params.clone(),
            pk,
            id,
            zk,
        })
    }

    /// Serialized public key.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.pk.to_bytes()
    }

    /// Reads a serialized public key of this session.
    pub fn from_bytes(params: &Arc<AggregationParams>, bytes: &[u8]) -> Result<Self> {
        let pk = ckks::PublicKey::from_bytes(&params.ckks, bytes)?;
        Self::wrap(params, pk)
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
    /// generator seeded from `rng`; in a session that proves updates, each
    /// ciphertext is made over `Q` with known randomness and gets a proof
    /// ([`zk::prove`]) bound to the session key, parameters, round, client,
    /// length and every ciphertext of the update.
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
        let chunks: Vec<&[f64]> = update.chunks(p.values_per_ciphertext()).collect();
        let header = UpdateHeader {
            tag: UPDATE_TAG,
            key: self.id,
            round,
            client,
            len: update.len() as u64,
            count: count as u32,
            scale: p.scale,
            proofs: if p.proof.is_some() { count as u32 } else { 0 },
        };
        let (Some(zp), Some(zkey)) = (&p.proof, &self.zk) else {
            let cts: Vec<ckks::Ciphertext> = chunks
                .par_iter()
                .zip(rngs)
                .map(|(chunk, mut r)| {
                    let pt = p.plaintext(&p.encode_message(chunk))?;
                    Ok(self.pk.encrypt(&pt, &mut r)?)
                })
                .collect::<Result<_>>()?;
            return Ok(frame(p.fingerprint(), &header, &p.pack_cts(&cts)));
        };
        let made: Vec<(ckks::Ciphertext, zk::EncWitness, ChaCha20Rng)> = chunks
            .par_iter()
            .zip(rngs)
            .map(|(chunk, mut r)| {
                let ((c0, c1), w) = zk::encrypt(zp, zkey, &p.encode_message(chunk), &mut r)?;
                Ok((p.ciphertext(c0, c1)?, w, r))
            })
            .collect::<Result<_>>()?;
        let cts: Vec<ckks::Ciphertext> = made.iter().map(|(ct, _, _)| ct.clone()).collect();
        let mut payload = p.pack_cts(&cts);
        let context = proof_context(self, &header, &payload);
        let proofs: Vec<Vec<u8>> = made
            .into_par_iter()
            .enumerate()
            .map(|(i, (ct, w, mut r))| {
                let [c0, c1] = ct.rlwe().parts() else {
                    return Err(Error::Protocol("ciphertext with three parts".into()));
                };
                Ok(zk::prove(zp, zkey, &context, i as u64, (c0, c1), &w, &mut r)?.to_bytes(zp))
            })
            .collect::<Result<_>>()?;
        for proof in proofs {
            payload.extend_from_slice(&proof);
        }
        Ok(frame(p.fingerprint(), &header, &payload))
    }
}

impl SessionKey {
    /// **An attack, for tests of the refusal paths only**: the
    /// well-formed update whose every ciphertext is `(0, ⌊Q/2^j⌋)`, with no
    /// proof — issue 18's key-recovery update: a session without proofs
    /// decrypts `⌊Q/2^j⌋·s` into the published sum. Made from public data
    /// only (anyone can make it); a session that proves updates refuses it
    /// with [`Error::InvalidUpdateProof`].
    #[doc(hidden)]
    pub fn forge_key_recovery_update(
        &self,
        client: u32,
        round: u64,
        len: usize,
        j: u32,
    ) -> Result<Vec<u8>> {
        let p = &self.params;
        let ring = p.ring();
        let q: num_bigint::BigInt = ring
            .moduli()
            .iter()
            .map(|m| num_bigint::BigInt::from(m.value()))
            .product();
        let mut c1 = Poly::from_bigints(ring, &[q >> j])?;
        c1.to_ntt();
        let ct = p.ciphertext(Poly::zero(ring, Representation::Ntt), c1)?;
        let count = p.ciphertexts_for(len);
        let header = UpdateHeader {
            tag: UPDATE_TAG,
            key: self.id,
            round,
            client,
            len: len as u64,
            count: count as u32,
            scale: p.scale,
            proofs: 0,
        };
        Ok(frame(
            p.fingerprint(),
            &header,
            &p.pack_cts(&vec![ct; count]),
        ))
    }
}

/// The context every proof of an update is bound to: the session key (its
/// digest covers the public key and the CRS), the parameters, the round,
/// the client, the length, the number of ciphertexts and the digest of all
/// of the update's ciphertexts. A proof made for another session, round,
/// party or update does not verify.
pub(super) fn proof_context(key: &SessionKey, header: &UpdateHeader, cts: &[u8]) -> [u8; 32] {
    let mut t = zk::Transcript::new(b"ml-he/aggregation/update-proof/v1");
    t.append(b"key", &key.id);
    t.append(b"params", key.params.fingerprint());
    t.append_u64(b"round", header.round);
    t.append_u64(b"client", u64::from(header.client));
    t.append_u64(b"len", header.len);
    t.append_u64(b"count", u64::from(header.count));
    t.append(
        b"ciphertexts",
        &digest(b"ml-he/aggregation/update-ciphertexts/v1", cts),
    );
    t.finish()
}
