//! # Private model testing
//!
//! Several **test parties** each hold a private labelled test set. A model
//! is tested on the union of their sets and only the aggregate metrics —
//! the confusion matrix, hence accuracy, precision, recall — are revealed,
//! by threshold decryption. No party's data, per-party counts or per-party
//! accuracy are revealed to anybody.
//!
//! ## Design and threat model
//!
//! - **The model is public to the test parties; the test sets are private.**
//!   This is the setting of a model owner who wants an honest accuracy
//!   figure on data it may not see (e.g. hospitals testing a published
//!   diagnostic model), or of a federation testing the model it just
//!   trained (the federated-averaging model is known to all clients).
//! - Each test party evaluates the model **locally** on its own data and
//!   obtains its confusion counts (rows = true class, columns = predicted
//!   class). It encrypts the counts under the collective **BFV** key
//!   (exact integers, one ciphertext: all `K²` counts and a party counter in
//!   the slots) and sends the ciphertext to the server.
//! - The **server** (the model owner or any aggregator; it holds no key
//!   share) checks and sums the ciphertexts and asks a committee of any `t`
//!   test parties for smudged decryption shares of the **sum only**.
//! - The result parties (the model owner, and/or the test parties) combine
//!   the shares into the total confusion matrix.
//!
//! What each party learns: the server learns the total confusion matrix and
//! how many parties took part; a test party learns the same (if it receives
//! the result) and nothing about the other parties' data or counts;
//! coalitions of fewer than `t` test parties with the server learn nothing
//! more. A test party can lie about its labels or counts (it could equally
//! lie about its data); counts are range-checked by honest clients only.
//!
//! Why not evaluate the model on encrypted features? With a public model,
//! sending encrypted features to the server protects nothing that local
//! evaluation does not, and computing a confusion matrix from encrypted
//! scores needs homomorphic comparisons, which CKKS only approximates
//! (scores close to the decision threshold would be miscounted). A
//! *private* model would need exactly that (encrypted logits from
//! `inference`, a polynomial sign approximation, slot sums under collective
//! relinearization and Galois keys); it is not implemented here.
//!
//! Parameters: BFV `N = 8192`, `t = 65537` (preset `N8192T65537`); each
//! count of the total must stay below 65537, so a party may contribute at
//! most `65536 / n` samples ([`Error::OutOfRange`] otherwise). Decryption
//! shares carry λ = 40 bits of smudging.

use std::collections::BTreeSet;
use std::sync::Arc;

use rand::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use threshold::{
    ActiveSet, DecryptionShare, DecryptionShares, Party, PartyId, PublicKeyShare, PublicKeyShares,
    SecretShareMessage, Smudging,
};

use crate::aggregation::{digest, frame, pack_poly, packed_len, unframe, unpack_poly};
use crate::data::Dataset;
use crate::{Error, Result};

/// A confusion matrix: `counts[true_class · K + predicted_class]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfusionMatrix {
    classes: usize,
    counts: Vec<u64>,
}

impl ConfusionMatrix {
    /// An all-zero matrix for `classes` classes.
    pub fn new(classes: usize) -> Self {
        Self {
            classes,
            counts: vec![0; classes * classes],
        }
    }

    /// Counts the predictions of `predict` on `data`.
    pub fn evaluate<F>(classes: usize, data: &Dataset, predict: F) -> Result<Self>
    where
        F: Fn(&[f64]) -> Result<usize>,
    {
        let mut m = Self::new(classes);
        for (x, &y) in data.x.iter().zip(&data.y) {
            let p = predict(x)?;
            m.record(y, p)?;
        }
        Ok(m)
    }

    /// Adds one sample.
    pub fn record(&mut self, truth: usize, predicted: usize) -> Result<()> {
        if truth >= self.classes || predicted >= self.classes {
            return Err(Error::OutOfRange(format!(
                "class {truth} or {predicted} outside 0..{}",
                self.classes
            )));
        }
        self.counts[truth * self.classes + predicted] += 1;
        Ok(())
    }

    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// The count of samples of class `truth` predicted as `predicted`.
    pub fn get(&self, truth: usize, predicted: usize) -> u64 {
        if truth < self.classes && predicted < self.classes {
            self.counts[truth * self.classes + predicted]
        } else {
            0
        }
    }

    /// All counts, row-major.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// Number of samples.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Correct predictions.
    pub fn correct(&self) -> u64 {
        (0..self.classes).map(|c| self.get(c, c)).sum()
    }

    /// Accuracy (0 for an empty matrix).
    pub fn accuracy(&self) -> f64 {
        let t = self.total();
        if t == 0 {
            0.0
        } else {
            self.correct() as f64 / t as f64
        }
    }

    /// Precision of class `c` (TP / predicted c).
    pub fn precision(&self, c: usize) -> f64 {
        let pred: u64 = (0..self.classes).map(|t| self.get(t, c)).sum();
        if pred == 0 {
            0.0
        } else {
            self.get(c, c) as f64 / pred as f64
        }
    }

    /// Recall of class `c` (TP / true c).
    pub fn recall(&self, c: usize) -> f64 {
        let truth: u64 = (0..self.classes).map(|p| self.get(c, p)).sum();
        if truth == 0 {
            0.0
        } else {
            self.get(c, c) as f64 / truth as f64
        }
    }

    /// Element-wise sum.
    pub fn add(&mut self, other: &ConfusionMatrix) -> Result<()> {
        if other.classes != self.classes {
            return Err(Error::Shape(format!(
                "{} classes vs {}",
                other.classes, self.classes
            )));
        }
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        Ok(())
    }
}

/// The public parameters of a private-testing session.
pub struct TestingParams {
    parties: usize,
    threshold: usize,
    classes: usize,
    bfv: Arc<bfv::Parameters>,
    encoder: bfv::Encoder,
    smudging: Smudging,
    crs: threshold::Crs,
}

impl std::fmt::Debug for TestingParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestingParams")
            .field("parties", &self.parties)
            .field("threshold", &self.threshold)
            .field("classes", &self.classes)
            .finish_non_exhaustive()
    }
}

impl TestingParams {
    /// The BFV parameters of the session.
    pub fn bfv(&self) -> &Arc<bfv::Parameters> {
        &self.bfv
    }

    /// `parties` test parties, any `threshold` of them decrypt, models with
    /// `classes` classes; public session seed.
    pub fn new(
        parties: usize,
        threshold: usize,
        classes: usize,
        session_seed: [u8; 32],
    ) -> Result<Arc<Self>> {
        if parties == 0 || threshold == 0 || threshold > parties || parties >= 1 << 16 {
            return Err(Error::OutOfRange(format!(
                "threshold {threshold} of {parties} parties"
            )));
        }
        let bfv = bfv::Parameters::preset(bfv::Preset::N8192T65537)?;
        let encoder = bfv::Encoder::new(&bfv);
        if classes < 2 || classes * classes + 1 > encoder.slots() {
            return Err(Error::OutOfRange(format!("{classes} classes")));
        }
        // Fresh public-key BFV noise is below 2^8 per party (threshold
        // tests); a sum of n ciphertexts below 2^(8 + log2 n + 2).
        let log2_noise = 10.0 + (parties as f64).log2();
        let top = bfv.max_level();
        let smudging = Smudging::for_bfv(&bfv, top, log2_noise, threshold)?;
        Ok(Arc::new(Self {
            parties,
            threshold,
            classes,
            bfv,
            encoder,
            smudging,
            crs: threshold::Crs::from_seed(session_seed),
        }))
    }

    /// Most samples one party may count.
    pub fn max_samples_per_party(&self) -> u64 {
        (self.bfv.plaintext_modulus() - 1) / self.parties as u64
    }

    fn check_party(&self, id: u32) -> Result<()> {
        if id == 0 || id as usize > self.parties {
            return Err(Error::UnknownParty { party: id });
        }
        Ok(())
    }

    fn fingerprint(&self) -> &[u8; 32] {
        self.bfv.fingerprint()
    }

    fn ring(&self) -> Result<&Arc<rlwe::poly::RingContext>> {
        Ok(self.bfv.rlwe().ring_q(self.bfv.max_level())?)
    }

    fn ct_from(&self, payload: &[u8], what: &'static str) -> Result<bfv::Ciphertext> {
        let ring = self.ring()?;
        let one = packed_len(ring);
        if payload.len() != 2 * one {
            return Err(Error::Malformed {
                what,
                reason: format!("{} bytes, expected {}", payload.len(), 2 * one),
            });
        }
        let c0 = unpack_poly(ring, rlwe::poly::Representation::Ntt, &payload[..one], what)?;
        let c1 = unpack_poly(ring, rlwe::poly::Representation::Ntt, &payload[one..], what)?;
        let ct = rlwe::ciphertext::Ciphertext::new(self.bfv.rlwe(), vec![c0, c1])?;
        // Re-wrap through the validated serialized form of the bfv crate.
        let bytes = BfvWire::wrap(&self.bfv, ct);
        Ok(bfv::Ciphertext::from_bytes(&self.bfv, &bytes)?)
    }

    fn active_set(&self, committee: &[u32]) -> Result<ActiveSet> {
        for &c in committee {
            self.check_party(c)?;
        }
        let ids: Vec<PartyId> = committee.iter().map(|&c| PartyId(c)).collect();
        let set = ActiveSet::new(&ids, self.threshold)?;
        // The smudging width is budgeted for t shares.
        if set.parties().len() != self.threshold {
            return Err(Error::OutOfRange(format!(
                "committee of {} parties: exactly t = {} decrypt",
                set.parties().len(),
                self.threshold
            )));
        }
        Ok(set)
    }
}

/// The serialized form the `bfv` crate reads (batched encoding).
struct BfvWire;

impl BfvWire {
    fn wrap(params: &Arc<bfv::Parameters>, ct: rlwe::ciphertext::Ciphertext) -> Vec<u8> {
        #[derive(Serialize)]
        struct Body {
            batch: bool,
            inner: Vec<u8>,
        }
        rlwe::serialize::encode(
            rlwe::serialize::Kind::External,
            params.fingerprint(),
            &Body {
                batch: true,
                inner: ct.to_bytes(),
            },
        )
    }
}

/// The collective BFV key of a testing session (public).
#[derive(Clone)]
pub struct TestingKey {
    params: Arc<TestingParams>,
    pk: bfv::PublicKey,
    id: [u8; 32],
}

impl std::fmt::Debug for TestingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestingKey").finish_non_exhaustive()
    }
}

impl TestingKey {
    /// Aggregates the public-key shares of all parties.
    pub fn from_shares(
        params: &Arc<TestingParams>,
        shares: impl IntoIterator<Item = PublicKeyShare>,
    ) -> Result<Self> {
        let agg = PublicKeyShares::aggregate(shares)?;
        let parties = agg.parties();
        for p in &parties {
            params.check_party(p.0)?;
        }
        if parties.len() != params.parties {
            return Err(Error::Threshold(threshold::Error::TooFewShares {
                got: parties.len(),
                need: params.parties,
            }));
        }
        let pk = bfv::PublicKey::from_rlwe(&params.bfv, agg.finish()?)?;
        let mut data = pk.to_bytes();
        data.extend_from_slice(params.crs.seed());
        let id = digest(b"ml-he/testing/session-key/v1", &data);
        Ok(Self {
            params: params.clone(),
            pk,
            id,
        })
    }

    /// The session parameters.
    pub fn params(&self) -> &Arc<TestingParams> {
        &self.params
    }
}

const COUNTS_TAG: [u8; 8] = *b"tst/cnt1";
const REQUEST_TAG: [u8; 8] = *b"tst/req1";
const SHARE_TAG: [u8; 8] = *b"tst/dsh1";

#[derive(Serialize, Deserialize)]
struct CountsHeader {
    tag: [u8; 8],
    key: [u8; 32],
    party: u32,
}

#[derive(Serialize, Deserialize)]
struct RequestHeader {
    tag: [u8; 8],
    key: [u8; 32],
    contributors: Vec<u32>,
    committee: Vec<u32>,
    nonce: [u8; 32],
}

#[derive(Serialize, Deserialize)]
struct ShareHeader {
    tag: [u8; 8],
    key: [u8; 32],
    nonce: [u8; 32],
    party: u32,
}

fn check_tag(found: &[u8; 8], want: &[u8; 8], what: &'static str) -> Result<()> {
    if found != want {
        return Err(Error::Malformed {
            what,
            reason: "wrong message type".into(),
        });
    }
    Ok(())
}

fn pack_ct(ct: &bfv::Ciphertext) -> Vec<u8> {
    let mut out = Vec::new();
    for p in ct.rlwe().parts() {
        pack_poly(p, &mut out);
    }
    out
}

struct Request {
    header: RequestHeader,
    ct: bfv::Ciphertext,
    active: ActiveSet,
}

fn parse_request(key: &TestingKey, bytes: &[u8]) -> Result<Request> {
    const WHAT: &str = "testing decryption request";
    let p = &key.params;
    let (h, payload): (RequestHeader, _) = unframe(bytes, WHAT, p.fingerprint())?;
    check_tag(&h.tag, &REQUEST_TAG, WHAT)?;
    if h.key != key.id {
        return Err(Error::SessionMismatch {
            what: "request for another collective key".into(),
        });
    }
    let mut seen = BTreeSet::new();
    for &c in &h.contributors {
        p.check_party(c)?;
        if !seen.insert(c) {
            return Err(Error::DuplicateSubmission { party: c });
        }
    }
    let active = p.active_set(&h.committee)?;
    let ct = p.ct_from(payload, WHAT)?;
    Ok(Request {
        header: h,
        ct,
        active,
    })
}

/// A test party: holds a private test set and a share of the decryption key.
pub struct TestParty {
    id: u32,
    params: Arc<TestingParams>,
    party: Party,
    key: Option<TestingKey>,
}

impl std::fmt::Debug for TestParty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestParty")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl TestParty {
    /// Party `id` (1..=n) with a fresh secret.
    pub fn new<R: RngCore + CryptoRng>(
        params: &Arc<TestingParams>,
        id: u32,
        rng: &mut R,
    ) -> Result<Self> {
        params.check_party(id)?;
        Ok(Self {
            id,
            params: params.clone(),
            party: Party::new(PartyId(id), params.bfv.rlwe(), rng),
            key: None,
        })
    }

    /// The party's id.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// Share of the collective public key.
    pub fn public_key_share<R: RngCore + CryptoRng>(
        &mut self,
        rng: &mut R,
    ) -> Result<PublicKeyShare> {
        Ok(self.party.public_key_share(&self.params.crs, rng)?)
    }

    /// Shamir shares of this party's secret (private channels).
    pub fn deal<R: RngCore + CryptoRng>(&self, rng: &mut R) -> Result<Vec<SecretShareMessage>> {
        Ok(self
            .party
            .deal(self.params.threshold, self.params.parties, rng)?)
    }

    /// Keeps the sum of the dealings addressed to this party.
    pub fn receive_dealings(&mut self, messages: Vec<SecretShareMessage>) -> Result<()> {
        Ok(self
            .party
            .receive_dealings(messages, self.params.threshold, self.params.parties)?)
    }

    /// Installs the collective key.
    pub fn set_key(&mut self, key: TestingKey) -> Result<()> {
        if key.params.fingerprint() != self.params.fingerprint() {
            return Err(Error::SessionMismatch {
                what: "key of another parameter set".into(),
            });
        }
        self.key = Some(key);
        Ok(())
    }

    fn key(&self) -> Result<&TestingKey> {
        self.key
            .as_ref()
            .ok_or_else(|| Error::Protocol("the collective key is not set".into()))
    }

    /// Local evaluation of a public model on this party's private data.
    pub fn evaluate<F>(&self, data: &Dataset, predict: F) -> Result<ConfusionMatrix>
    where
        F: Fn(&[f64]) -> Result<usize>,
    {
        ConfusionMatrix::evaluate(self.params.classes, data, predict)
    }

    /// Encrypts this party's confusion counts (and a party counter) under
    /// the collective key; the bytes go to the server.
    pub fn encrypt_counts<R: RngCore + CryptoRng>(
        &self,
        counts: &ConfusionMatrix,
        rng: &mut R,
    ) -> Result<Vec<u8>> {
        let key = self.key()?;
        let p = &self.params;
        if counts.classes != p.classes {
            return Err(Error::Shape(format!(
                "{} classes, the session has {}",
                counts.classes, p.classes
            )));
        }
        if counts.total() > p.max_samples_per_party() {
            return Err(Error::OutOfRange(format!(
                "{} samples, at most {} per party",
                counts.total(),
                p.max_samples_per_party()
            )));
        }
        let mut slots = counts.counts.clone();
        slots.push(1);
        let ct = key.pk.encrypt(&p.encoder.encode_u64(&slots)?, rng)?;
        let header = CountsHeader {
            tag: COUNTS_TAG,
            key: key.id,
            party: self.id,
        };
        Ok(frame(p.fingerprint(), &header, &pack_ct(&ct)))
    }

    /// Decryption share of the summed counts in `request` (committee
    /// members only; one share per ciphertext).
    pub fn decryption_share<R: RngCore + CryptoRng>(
        &mut self,
        request: &[u8],
        rng: &mut R,
    ) -> Result<Vec<u8>> {
        let key = self.key()?.clone();
        if self.party.threshold().is_none() {
            return Err(Error::Protocol("no Shamir share".into()));
        }
        let req = parse_request(&key, request)?;
        if !req.active.contains(PartyId(self.id)) {
            return Err(Error::UnknownParty { party: self.id });
        }
        if req.header.contributors.len() < 2 {
            return Err(Error::Protocol(
                "refusing to decrypt the counts of a single party".into(),
            ));
        }
        let smudging = self.params.smudging;
        let share =
            self.party
                .decryption_share(req.ct.rlwe(), Some(&req.active), &smudging, rng)?;
        let mut payload = Vec::new();
        pack_poly(share.poly(), &mut payload);
        let header = ShareHeader {
            tag: SHARE_TAG,
            key: key.id,
            nonce: req.header.nonce,
            party: self.id,
        };
        Ok(frame(self.params.fingerprint(), &header, &payload))
    }
}

/// Runs the Shamir dealing among `parties` in one process.
pub fn deal_all<R: RngCore + CryptoRng>(parties: &mut [TestParty], rng: &mut R) -> Result<()> {
    let mut inbox: Vec<Vec<SecretShareMessage>> = (0..parties.len()).map(|_| Vec::new()).collect();
    for p in parties.iter() {
        for m in p.deal(rng)? {
            let slot = parties
                .iter()
                .position(|q| q.id == m.to.0)
                .ok_or(Error::UnknownParty { party: m.to.0 })?;
            inbox[slot].push(m);
        }
    }
    for (p, msgs) in parties.iter_mut().zip(inbox) {
        p.receive_dealings(msgs)?;
    }
    Ok(())
}

/// The testing server: sums encrypted counts, never decrypts.
pub struct TestingServer {
    key: TestingKey,
    evaluator: bfv::Evaluator,
    sum: Option<bfv::Ciphertext>,
    contributors: BTreeSet<u32>,
}

impl std::fmt::Debug for TestingServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestingServer")
            .field("contributors", &self.contributors)
            .finish_non_exhaustive()
    }
}

impl TestingServer {
    /// A server for the session of `key`.
    pub fn new(key: &TestingKey) -> Self {
        Self {
            key: key.clone(),
            evaluator: bfv::Evaluator::new(&key.params.bfv),
            sum: None,
            contributors: BTreeSet::new(),
        }
    }

    /// Checks and adds a party's encrypted counts; returns the party id.
    pub fn add(&mut self, bytes: &[u8]) -> Result<u32> {
        const WHAT: &str = "encrypted counts";
        let p = self.key.params.clone();
        let (h, payload): (CountsHeader, _) = unframe(bytes, WHAT, p.fingerprint())?;
        check_tag(&h.tag, &COUNTS_TAG, WHAT)?;
        if h.key != self.key.id {
            return Err(Error::SessionMismatch {
                what: "counts under another collective key".into(),
            });
        }
        p.check_party(h.party)?;
        if self.contributors.contains(&h.party) {
            return Err(Error::DuplicateSubmission { party: h.party });
        }
        let ct = p.ct_from(payload, WHAT)?;
        match &mut self.sum {
            None => self.sum = Some(ct),
            Some(acc) => self.evaluator.add_assign(acc, &ct)?,
        }
        self.contributors.insert(h.party);
        Ok(h.party)
    }

    /// The parties whose counts are in the sum.
    pub fn contributors(&self) -> Vec<u32> {
        self.contributors.iter().copied().collect()
    }

    /// A request for decryption shares of the sum to a committee of exactly t.
    pub fn decryption_request<R: RngCore + CryptoRng>(
        &mut self,
        committee: &[u32],
        rng: &mut R,
    ) -> Result<Vec<u8>> {
        let p = self.key.params.clone();
        let active = p.active_set(committee)?;
        let sum = self
            .sum
            .as_ref()
            .ok_or_else(|| Error::Protocol("no counts were added".into()))?;
        let mut nonce = [0u8; 32];
        rng.fill_bytes(&mut nonce);
        let header = RequestHeader {
            tag: REQUEST_TAG,
            key: self.key.id,
            contributors: self.contributors(),
            committee: active.parties().iter().map(|q| q.0).collect(),
            nonce,
        };
        Ok(frame(p.fingerprint(), &header, &pack_ct(sum)))
    }
}

/// The revealed outcome: the total confusion matrix over all contributing
/// parties.
#[derive(Clone, Debug, PartialEq)]
pub struct TestingResult {
    /// The total confusion matrix.
    pub confusion: ConfusionMatrix,
    /// Parties whose counts are included.
    pub contributors: Vec<u32>,
}

/// Combines the committee's decryption shares into the total counts.
pub fn combine(key: &TestingKey, request: &[u8], shares: &[Vec<u8>]) -> Result<TestingResult> {
    const WHAT: &str = "testing decryption share";
    let p = key.params.clone();
    let req = parse_request(key, request)?;
    let ring = p.ring()?;
    let mut seen = BTreeSet::new();
    let mut ds = Vec::with_capacity(shares.len());
    for s in shares {
        let (h, payload): (ShareHeader, _) = unframe(s, WHAT, p.fingerprint())?;
        check_tag(&h.tag, &SHARE_TAG, WHAT)?;
        if h.key != key.id || h.nonce != req.header.nonce {
            return Err(Error::SessionMismatch {
                what: "share of another request".into(),
            });
        }
        if !req.active.contains(PartyId(h.party)) {
            return Err(Error::UnknownParty { party: h.party });
        }
        if !seen.insert(h.party) {
            return Err(Error::DuplicateSubmission { party: h.party });
        }
        let poly = unpack_poly(ring, rlwe::poly::Representation::Ntt, payload, WHAT)?;
        ds.push(DecryptionShare::from_parts(PartyId(h.party), poly));
    }
    let pt = DecryptionShares::aggregate(req.ct.rlwe(), ds, Some(&req.active))?
        .finish_bfv(&p.bfv, req.ct.encoding())?;
    let slots = p.encoder.decode_u64(&pt)?;
    let k2 = p.classes * p.classes;
    let parties = slots[k2];
    if parties != req.header.contributors.len() as u64 {
        return Err(Error::Protocol(format!(
            "the sum holds {parties} party counters for {} contributors",
            req.header.contributors.len()
        )));
    }
    Ok(TestingResult {
        confusion: ConfusionMatrix {
            classes: p.classes,
            counts: slots[..k2].to_vec(),
        },
        contributors: req.header.contributors,
    })
}
