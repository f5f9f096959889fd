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
    /// The clients' public-key shares (in memory only, when the key was
    /// made from them): what the dealing commitments are tied to.
    pub(super) pk_shares: Option<Arc<Vec<PublicKeyShare>>>,
    /// The members' share commitments (sessions that prove shares, after
    /// [`SessionKey::with_dealings`]).
    pub(super) members: Option<Arc<Members>>,
}

pub use crate::committee::Dealing;
pub(super) use crate::committee::Members;

const KEY_TAG: [u8; 8] = *b"mlhe/sk1";

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
        let kept: Vec<PublicKeyShare> = shares.into_iter().collect();
        let agg = PublicKeyShares::aggregate(kept.clone())?;
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
        let mut key = Self::wrap(params, pk, None)?;
        key.pk_shares = Some(Arc::new(kept));
        Ok(key)
    }

    /// The key with the clients' dealing commitments ([`Client::deal`], all
    /// `n`), in a session that proves decryption shares: each is checked
    /// against its client's public-key share, and every client's share
    /// commitment is derived (the key's [`id`](Self::id) then covers them,
    /// so clients that disagree on them disagree on the key). Needs the key
    /// made by [`Self::from_shares`] (it keeps the public-key shares).
    ///
    /// # Errors
    /// [`Error::Protocol`] in a session without share proofs or for a key
    /// not made from the shares; [`Error::Threshold`] for a missing,
    /// duplicate or malformed commitment (naming its client).
    pub fn with_dealings(&self, dealings: &[threshold::vss::DealingCommitment]) -> Result<Self> {
        let p = &self.params;
        let c = &p.config;
        let members = Members::for_key(
            p.ckks.rlwe(),
            &p.crs,
            p.shares.as_ref(),
            (c.threshold, c.clients),
            self.pk_shares.as_ref(),
            dealings,
            "SessionKey::from_shares",
        )?;
        let mut out = Self::wrap(p, self.pk.clone(), Some(Arc::new(members)))?;
        out.pk_shares = self.pk_shares.clone();
        Ok(out)
    }

    pub(super) fn wrap(
        params: &Arc<AggregationParams>,
        pk: ckks::PublicKey,
        members: Option<Arc<Members>>,
    ) -> Result<Self> {
        let mut data = pk.to_bytes();
        data.extend_from_slice(params.crs.seed());
        if let Some(m) = &members {
            data.extend_from_slice(&m.digest);
        }
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
            pk_shares: None,
            members,
        })
    }

    /// Serialized key: the public key and, once [`Self::with_dealings`]
    /// added them, every client's share commitment.
    pub fn to_bytes(&self) -> Vec<u8> {
        let Some(m) = &self.members else {
            return self.pk.to_bytes();
        };
        let pk = self.pk.to_bytes();
        let mut out = Vec::with_capacity(
            16 + pk.len() + Members::written_len(self.params.ring(), m.coms.len()),
        );
        out.extend_from_slice(&KEY_TAG);
        out.extend_from_slice(&(pk.len() as u64).to_le_bytes());
        out.extend_from_slice(&pk);
        m.write(&mut out);
        out
    }

    /// Reads a key written by [`Self::to_bytes`] for this session.
    ///
    /// # Errors
    /// [`Error::Malformed`] for bad lengths, a commitment list that is not
    /// exactly the clients `1..=n`, or commitments in a session without
    /// share proofs; the public key's own errors.
    pub fn from_bytes(params: &Arc<AggregationParams>, bytes: &[u8]) -> Result<Self> {
        const WHAT: &str = "session key";
        let bad = |reason: &str| Error::Malformed {
            what: WHAT,
            reason: reason.into(),
        };
        if !bytes.starts_with(&KEY_TAG) {
            let pk = ckks::PublicKey::from_bytes(&params.ckks, bytes)?;
            return Self::wrap(params, pk, None);
        }
        let Some(zp) = &params.shares else {
            return Err(bad("share commitments in a session without share proofs"));
        };
        let rest = &bytes[8..];
        let len = rest
            .get(..8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap_or_default()))
            .ok_or_else(|| bad("truncated"))?;
        let rest = &rest[8..];
        let len = usize::try_from(len)
            .ok()
            .filter(|&l| l <= rest.len())
            .ok_or_else(|| bad("truncated public key"))?;
        let pk = ckks::PublicKey::from_bytes(&params.ckks, &rest[..len])?;
        let members = Members::read(
            params.ckks.rlwe(),
            &params.crs,
            zp,
            params.config.clients,
            &rest[len..],
            WHAT,
        )?;
        Self::wrap(params, pk, Some(Arc::new(members)))
    }

    /// Whether the key carries the clients' share commitments (needed to
    /// make and check decryption shares in a session that proves them).
    pub fn has_share_commitments(&self) -> bool {
        self.members.is_some()
    }

    /// The members' commitments, or [`Error::Protocol`] if this session
    /// proves shares and the key has none.
    pub(super) fn members(&self) -> Result<Option<(&zk::ShareParams, &Members)>> {
        match (&self.params.shares, &self.members) {
            (None, _) => Ok(None),
            (Some(zp), Some(m)) => Ok(Some((zp, m))),
            (Some(_), None) => Err(Error::Protocol(
                "the session proves decryption shares: the key needs the dealing commitments \
                 (SessionKey::with_dealings, or deal_all)"
                    .into(),
            )),
        }
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
        let q = num_bigint::BigInt::from(ring.basis().product().clone());
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
