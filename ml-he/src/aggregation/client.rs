//! The client: input party and key holder; collective evaluation keys.

use super::*;

/// A client: an input party (encrypts its update) and a key holder (its
/// additive secret and its Shamir share of the joint secret never leave it).
pub struct Client {
    pub(super) id: u32,
    pub(super) params: Arc<AggregationParams>,
    pub(super) party: Party,
    pub(super) key: Option<SessionKey>,
    /// The contribution set this client decrypted in each round.
    pub(super) released: std::collections::BTreeMap<u64, [u8; 32]>,
}

const CLIENT_TAG: [u8; 8] = *b"mlhe/cl1";

#[derive(Serialize, Deserialize)]
struct ClientBody {
    tag: [u8; 8],
    crs: [u8; 32],
    clients: u32,
    threshold: u32,
    id: u32,
    /// `threshold::Party::to_bytes`.
    party: Vec<u8>,
    key: Option<Vec<u8>>,
    released: Vec<(u64, [u8; 32])>,
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
    /// `t`), to be sent over private channels, and — in a session that
    /// proves decryption shares — the public commitment to the sharing
    /// polynomial, for everybody ([`SessionKey::with_dealings`]).
    pub fn deal<R: RngCore + CryptoRng>(&self, rng: &mut R) -> Result<Dealing> {
        let c = &self.params.config;
        if self.params.shares.is_some() {
            let (messages, com) =
                self.party
                    .deal_committed(c.threshold, c.clients, &self.params.crs, rng)?;
            return Ok(Dealing {
                messages,
                commitment: Some(com),
            });
        }
        Ok(Dealing {
            messages: self.party.deal(c.threshold, c.clients, rng)?,
            commitment: None,
        })
    }

    /// Keeps the sum of the `n` dealings addressed to this client. In a
    /// session that proves decryption shares, each dealing is first checked
    /// against its dealer's commitment (the key set with [`Self::set_key`]
    /// must come from [`SessionKey::with_dealings`] in this process): a
    /// dealing that does not match is refused naming the dealer
    /// ([`threshold::Error::InvalidShare`]).
    pub fn receive_dealings(&mut self, messages: Vec<SecretShareMessage>) -> Result<()> {
        let c = &self.params.config;
        crate::committee::receive_dealings(
            &mut self.party,
            self.params.shares.is_some(),
            self.key.as_ref().and_then(|k| k.members.as_deref()),
            messages,
            (c.threshold, c.clients),
            "SessionKey::with_dealings",
        )
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

    pub(super) fn key(&self) -> Result<&SessionKey> {
        self.key
            .as_ref()
            .ok_or_else(|| Error::Protocol("the collective key is not set".into()))
    }

    /// The installed collective key, if any.
    pub fn session_key(&self) -> Option<&SessionKey> {
        self.key.as_ref()
    }

    /// The client's whole state — its additive secret and Shamir share, the
    /// protocol instances it has answered, the collective key, and the
    /// contribution set it decrypted in each round — for keeping it between
    /// processes (a Flower SuperNode handles each message in a new one).
    /// Secret: keep it encrypted at rest; the buffer is wiped on drop. A
    /// restored client refuses what the original refused (a second share of
    /// an instance, a second contribution set for a round).
    pub fn to_bytes(&self) -> zeroize::Zeroizing<Vec<u8>> {
        let mut body = ClientBody {
            tag: CLIENT_TAG,
            crs: *self.params.crs.seed(),
            clients: self.params.config.clients as u32,
            threshold: self.params.config.threshold as u32,
            id: self.id,
            party: self.party.to_bytes().to_vec(),
            key: self.key.as_ref().map(SessionKey::to_bytes),
            released: self.released.iter().map(|(r, d)| (*r, *d)).collect(),
        };
        let out = zeroize::Zeroizing::new(rlwe::serialize::encode(
            rlwe::serialize::Kind::External,
            self.params.fingerprint(),
            &body,
        ));
        zeroize::Zeroize::zeroize(&mut body.party);
        out
    }

    /// Reads a client written by [`Self::to_bytes`] for the session `params`.
    ///
    /// # Errors
    /// [`Error::Malformed`] for bytes that are not a client state;
    /// [`Error::SessionMismatch`] for a client of another session (CRS,
    /// client count, threshold or parameters); the errors of the party
    /// state and the collective key.
    pub fn from_bytes(params: &Arc<AggregationParams>, bytes: &[u8]) -> Result<Self> {
        const WHAT: &str = "aggregation client state";
        let mut b: ClientBody = rlwe::serialize::decode(
            bytes,
            rlwe::serialize::Kind::External,
            WHAT,
            Some(params.fingerprint()),
        )?;
        let party = Party::from_bytes(params.ckks.rlwe(), &b.party);
        zeroize::Zeroize::zeroize(&mut b.party);
        if b.tag != CLIENT_TAG {
            return Err(Error::Malformed {
                what: WHAT,
                reason: "not a client state".into(),
            });
        }
        if b.crs != *params.crs.seed()
            || b.clients as usize != params.config.clients
            || b.threshold as usize != params.config.threshold
        {
            return Err(Error::SessionMismatch {
                what: "client state of another session".into(),
            });
        }
        params.check_party(b.id)?;
        let party = party?;
        if party.id() != PartyId(b.id) {
            return Err(Error::Malformed {
                what: WHAT,
                reason: "party id differs from the client id".into(),
            });
        }
        let key = b
            .key
            .as_deref()
            .map(|k| SessionKey::from_bytes(params, k))
            .transpose()?;
        Ok(Self {
            id: b.id,
            params: params.clone(),
            party,
            key,
            released: b.released.into_iter().collect(),
        })
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
        let mut proofs = 0u32;
        if let Some((zp, m)) = key.members()? {
            let context = share_context(&key, &req.id, self.id);
            let cts: Vec<&rlwe::ciphertext::Ciphertext> =
                req.sum.iter().map(|c| c.rlwe()).collect();
            proofs = m.prove(
                zp,
                &mut self.party,
                &cts,
                &req.active,
                &smudging,
                &context,
                rng,
                &mut payload,
            )?;
        } else {
            for ct in &req.sum {
                let share =
                    self.party
                        .decryption_share(ct.rlwe(), Some(&req.active), &smudging, rng)?;
                pack_poly(share.poly(), &mut payload);
            }
        }
        let header = ShareHeader {
            tag: SHARE_TAG,
            key: key.id,
            round: req.header.round,
            request: req.id,
            party: self.id,
            count: req.header.count,
            proofs,
        };
        Ok(frame(self.params.fingerprint(), &header, &payload))
    }
}

/// Runs the Shamir dealing among `clients` in one process (every client
/// deals to every other; in a deployment each message goes over a private
/// channel), installs the session key on every client and returns it — in
/// a session that proves decryption shares, `key` with every client's
/// dealing commitment ([`SessionKey::with_dealings`]), each dealing checked
/// against it.
pub fn deal_all<R: RngCore + CryptoRng>(
    clients: &mut [Client],
    key: &SessionKey,
    rng: &mut R,
) -> Result<SessionKey> {
    deal_among(&mut clients.iter_mut().collect::<Vec<_>>(), key, rng)
}

/// [`deal_all`] over borrowed clients.
pub fn deal_among<R: RngCore + CryptoRng>(
    clients: &mut [&mut Client],
    key: &SessionKey,
    rng: &mut R,
) -> Result<SessionKey> {
    crate::committee::deal_in_process(
        clients,
        |c| c.id,
        |c, r| c.deal(r),
        |coms| {
            if key.params.shares.is_some() {
                key.with_dealings(coms)
            } else {
                Ok(key.clone())
            }
        },
        |c, key, msgs| {
            c.set_key(key)?;
            c.receive_dealings(msgs)
        },
        rng,
    )
}

/// Errors unless `parties` are exactly the session's clients `1..=n`.
pub(super) fn check_all_parties(params: &AggregationParams, parties: &[PartyId]) -> Result<()> {
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
