//! Federated averaging with **threshold Paillier** (Shoup / Damgård–Jurik,
//! [`threshold::paillier`]) and packing.
//!
//! Each coordinate `x ∈ [−max_abs, max_abs]` is encoded as the unsigned
//! fixed-point integer `round((x + max_abs)·2^f)` and
//! [`paillier::Packer`] packs as many as fit into one plaintext, with
//! `⌈log2 n⌉` bits of headroom per slot so that the sum of `n` clients never
//! carries; the server adds the ciphertexts (it checks the number of terms
//! against the packer's capacity) and any `t` key holders decrypt the sum
//! with proofs of correct partial decryption. The average is exact up to the
//! fixed-point rounding: error ≤ `2^−(f+1)` per coordinate.
//!
//! Trust differs from the CKKS session: the threshold Paillier key comes
//! from a **trusted dealer** (who must forget the factorization), not from
//! a dealer-free collective key generation. The key holders
//! ([`threshold::paillier::KeyShare`]) may be the clients or separate
//! result parties.

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
