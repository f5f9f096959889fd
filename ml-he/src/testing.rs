//! # Private model testing
//!
//! Several **test parties** each hold a private labelled test set. A model
//! is tested on the union of their sets and only the aggregate metrics —
//! the confusion matrix, hence accuracy, precision, recall — are revealed,
//! by threshold decryption. No party's data, per-party counts or per-party
//! accuracy are revealed to anybody.
//!
//! ## Roles and what crosses between them
//!
//! | step | who | sends |
//! |---|---|---|
//! | setup | everybody | [`TestingParams`] are public (parties, `t`, classes, session seed; [`TestingParams::with_min_contributors`] raises the default minimum of 2 contributions) |
//! | key generation | test parties | [`TestParty::public_key_share`] to anyone; [`TestParty::deal`]: Shamir messages over private channels and a public dealing commitment to everybody; [`TestingKey::from_shares`] (all `n`), then [`TestingKey::with_dealings`] (all `n` commitments) before [`TestParty::receive_dealings`] ([`deal_all`] in one process) |
//! | encrypt | each test party | [`TestParty::evaluate`] (local), [`TestParty::encrypt_counts`] → a *contribution* (bytes naming the party; [`contribution_digest`] is what its sender signs) |
//! | collect | server | [`TestingServer::add_from`] (authenticated sender) or [`TestingServer::add`] checks each contribution; [`TestingServer::decryption_request`] → a request carrying **the contributions themselves** to a committee of exactly `t` |
//! | check | each committee member's runtime | [`inspect_request`] lists `(party, digest)` of every contribution: compare with the senders' signatures before answering |
//! | decrypt | committee members | [`TestParty::decryption_share`] recomputes the sum and decrypts it → share bytes with a proof |
//! | result | result parties | [`decryption_share_sender`] names a share's sender; [`combine`] recomputes the sum, verifies every share's proof and gives the [`TestingResult`] |
//!
//! ## Design
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
//!   share) checks the contributions and sends them, all of them, in a
//!   decryption request to a committee of any `t` test parties. It never
//!   sends a sum: **each committee member checks every contribution and
//!   recomputes the sum itself**, then answers with a smudged decryption
//!   share of that sum.
//! - The result parties (the model owner, and/or the test parties) combine
//!   the shares into the total confusion matrix ([`combine`] recomputes the
//!   sum from the same request).
//!
//! What each party learns: the server learns the total confusion matrix and
//! who took part; a test party learns the same (if it receives the result)
//! and nothing about the other parties' data or counts; coalitions of fewer
//! than `t` test parties with the server learn nothing more. A test party
//! can lie about its labels or counts (it could equally lie about its
//! data); counts are range-checked by honest clients only.
//!
//! ## Threat model: a malicious server
//!
//! The server may deviate arbitrarily and write any bytes. Whatever it
//! sends, an honest committee member ([`TestParty::decryption_share`])
//! helps decrypt **only**
//!
//! - **a sum it computed itself** of the contributions in the request, each
//!   checked in full (the session's collective key and parameters, a known
//!   party, the party the request lists, well-formed ciphertext, every
//!   residue below its modulus, the digest the request lists) — never a
//!   ciphertext the server chose;
//! - of **at least `min_contributors` contributions from distinct parties**
//!   ([`TestingParams::min_contributors`], 2 by default;
//!   [`Error::TooFewContributors`]), so the server cannot have one party's
//!   counts decrypted on their own;
//! - for **one contribution set per session**: a member remembers the
//!   digest ([`contribution_set_digest`]) of the set whose sum it helped
//!   decrypt and refuses any other set ([`Error::AlreadyReleased`]), so the
//!   server cannot decrypt the sum over all parties and then the sum over
//!   all but one (whose difference is that party's counts) with committees
//!   that share a member — any two committees do when `t > n/2`;
//! - in **at most [`MAX_ATTEMPTS`] attempts** ([`Error::TooManyAttempts`]):
//!   attempt 0 decrypts the sum; attempt `a ≥ 1` (a new committee after a
//!   member dropped out) decrypts the sum plus a *public* encryption of
//!   zero whose randomness is a ChaCha20 stream seeded with a digest of the
//!   collective key, the set digest and `a`. Every member computes the same
//!   ciphertext and knows it encrypts zero, so the server adds nothing of
//!   its own; the attempts are distinct ciphertexts, and the threshold
//!   layer refuses a second share of the same one
//!   ([`threshold::Error::ShareReused`]), so a member makes at most
//!   [`MAX_ATTEMPTS`] shares per session.
//!
//! What the library cannot see is **who made a contribution**: a
//! contribution names its party, but anyone holding the public collective
//! key can encrypt counts in any party's name. Without authenticated
//! senders a malicious server can therefore still forge contributions —
//! e.g. send one party's real counts with forged encryptions of zero named
//! after other parties, and have that one party's counts decrypted as "the
//! total". **Sender authentication is the transport's job, and the caller
//! must do it**: each party signs (or sends over an authenticated channel)
//! its contribution's [`contribution_digest`]; before calling
//! [`TestParty::decryption_share`], a committee member's runtime calls
//! [`inspect_request`] and checks every listed `(party, digest)` against
//! that party's signature, refusing the request otherwise (as the
//! networked runtime `hekit-mpc` does for federated aggregation; it does
//! not run private testing). The server checks senders likewise with
//! [`TestingServer::add_from`] ([`Error::WrongSender`]), and result parties
//! match share senders with [`decryption_share_sender`].
//!
//! The memory of the released set is each member's own: with `t ≤ n/2`
//! two **disjoint committees** exist, and each can release the sum of a
//! different set (test
//! `disjoint_committees_release_two_sets_when_t_is_at_most_half`). Choose
//! `t > n/2`, or have each contributor approve (sign) one
//! [`RequestInfo::set_digest`] per session and check those approvals too.
//! A malicious server can also refuse service or choose *which* honest
//! parties' contributions to include (at least `min_contributors` of them);
//! within these limits it learns one total.
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
//! **Malicious input parties.** Each contribution is encrypted over `Q`
//! with known randomness as `(u·b + e0 + ⌊Q/t⌋·m, u·a + e1)` (`m` the
//! centered plaintext coefficients, `|m| ≤ t/2`) and carries a proof
//! ([`zk::prove`], [`zk::EncParams::with_lift`]) that it is well formed and
//! bounded, bound to the session key, the party and the ciphertext; the
//! server and every committee member verify it ([`Error::InvalidUpdateProof`]
//! otherwise). This closes issue 18's key-recovery attack here: without
//! proofs, the well-formed `(0, ⌊Q/t⌋)` would make the decrypted total
//! contain the collective secret `s` modulo `t` (test
//! `key_recovery_counts_are_refused`). The smudging is sized from the
//! *proven* noise bound of `n` contributions (below). A cheater's counts can
//! still be wrong (up to the proof's slack: they wrap modulo `t`), which
//! spoils the total, not the key.
//!
//! **Malicious committee members.** The dealing is verifiable
//! ([`threshold::vss`]: each dealer commits to its sharing polynomial, tied
//! to its public-key share, and every recipient checks its message against
//! the commitment, naming a dealer that cheats); the session key's id
//! covers every party's derived share commitment. Each decryption share
//! carries a proof ([`zk::prove_shares`]) that it was made with the
//! member's committed Shamir share and smudging noise within 14σ, bound to
//! the key, the request and the member; [`combine`] verifies every proof
//! and names a member whose proof fails ([`Error::InvalidShareProof`]) —
//! the server then asks another committee (the next attempt; test
//! `shifted_share_is_named_and_another_committee_completes`). What a
//! verified share can still carry (the proofs' slack,
//! [`zk::ShareParams::offset_bound`]: 2^102.2–2^108.9 for `n` = 3–67, one
//! share per proof) is checked at setup, with `t` such offsets and the
//! smudged noise, to stay
//! below `Q/(2t_p)` = 2^114: **the total decrypts exactly whatever a
//! verified committee sends.** `t` offsets must fit that room: with
//! `t = n/2 + 1` share proofs fit up to 67 parties; beyond,
//! [`TestingParams::new`] refuses and [`TestingParams::with_options`] can
//! turn them off (a member can then shift any count).
//!
//! The dealing commitments travel in the open: each party must build its
//! key from the same `n` commitments. Parties that were shown different
//! ones get different key ids ([`TestingKey::id`], named in every
//! message), so nothing of theirs combines; a runtime that relays the
//! commitments should have every party confirm (sign) the key id before
//! use, as `hekit-mpc` does for federated aggregation.
//!
//! ## Parameters and noise
//!
//! BFV `N = 8192`, `t = 65537` (preset `N8192T65537`); each count of the
//! total must stay below 65537, so a party may contribute at most
//! `65536 / n` samples ([`Error::OutOfRange`] otherwise). Decryption
//! shares carry λ = 40 bits of smudging: Gaussian noise of width `2^40·B`,
//! where `B` ([`TestingParams::log2_noise`]) bounds the phase noise of what
//! a member decrypts — at most `n` contributions (one per distinct party)
//! and, on a retry, the public encryption of zero. `B` is dominated by the
//! *proven* noise bound of the `n` contributions (≈ 2^38–2^41, see
//! `TestingParams::noise_bound`); the honest terms are:
//!
//! - encryption under the collective key of `n` ternary secrets ends with a
//!   division by the special prime, which leaves rounding noise
//!   `r_0 + r_1·s` of variance `N/12·(2n/3) + 1/12` per ciphertext; 8σ for
//!   `n + 1` ciphertexts is `8·sqrt((n + 1)·(N/12·(2n/3) + 1/12))` (2^9.6
//!   for `n = 4`);
//! - the plaintext embedding: contributions are `⌊Q/t⌋·m` with centered
//!   `|m| ≤ t/2` (the proof's lift), which misses `Q·m/t` by at most
//!   `|m|·(Q mod t)/t ≤ t/2` per contribution, and the carries of adding
//!   modulo `t` cost `(Q mod t)` each: `n·t/2 + (n + 1)/2` is budgeted.
//!
//! The measured noise of `n` honest contributions plus the encryption of
//! zero is 2^7.8–2^8.9 against a budget of 2^38.5–2^40.4 (n = 2, 5; test
//! `noise_budget_covers_every_contribution_and_the_retry_zero`): the
//! budget covers cheating contributions within the proofs' slack. The
//! smudged total stays far below `Q/(2t)` (`Δ ≈ 2^116`), which
//! [`threshold::Smudging::for_bfv`] checks when the parameters are built.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rand::{CryptoRng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use threshold::{
    ActiveSet, DecryptionShare, DecryptionShares, Party, PartyId, PublicKeyShare, PublicKeyShares,
    SecretShareMessage, Smudging,
};

pub use crate::committee::Dealing;
use crate::committee::Members;
use crate::data::Dataset;
use crate::wire::{check_tag, digest, frame, pack_poly, packed_len, unframe, unpack_poly};
use crate::{Error, Result};

/// Decryption attempts per session (the same bound as aggregation's: the
/// first and up to four retries, each a new committee after a dropout).
pub use crate::aggregation::MAX_ATTEMPTS;

/// The fewest contributions a committee member decrypts by default: a
/// total over one party is that party's counts.
pub const DEFAULT_MIN_CONTRIBUTORS: usize = 2;

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
    min_contributors: usize,
    bfv: Arc<bfv::Parameters>,
    encoder: bfv::Encoder,
    log2_noise: f64,
    smudging: Smudging,
    /// The contributions' proof parameters (lift `Δ = ⌊Q/t⌋`, messages the
    /// centered plaintext coefficients, `|m| ≤ t/2`).
    proof: zk::EncParams,
    /// The decryption-share proofs' parameters (sessions that prove shares).
    shares: Option<zk::ShareParams>,
    crs: threshold::Crs,
}

impl std::fmt::Debug for TestingParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestingParams")
            .field("parties", &self.parties)
            .field("threshold", &self.threshold)
            .field("classes", &self.classes)
            .field("min_contributors", &self.min_contributors)
            .field("share_proofs", &self.shares.is_some())
            .finish_non_exhaustive()
    }
}

impl TestingParams {
    /// The BFV parameters of the session.
    pub fn bfv(&self) -> &Arc<bfv::Parameters> {
        &self.bfv
    }

    /// `parties` test parties (at least 2), any `threshold` of them
    /// decrypt, models with `classes` classes; public session seed. Committee
    /// members decrypt sums of at least [`DEFAULT_MIN_CONTRIBUTORS`]
    /// contributions.
    pub fn new(
        parties: usize,
        threshold: usize,
        classes: usize,
        session_seed: [u8; 32],
    ) -> Result<Arc<Self>> {
        Self::with_min_contributors(
            parties,
            threshold,
            classes,
            DEFAULT_MIN_CONTRIBUTORS,
            session_seed,
        )
    }

    /// As [`TestingParams::new`], with committee members that decrypt only
    /// sums of at least `min_contributors` contributions (in
    /// `2..=parties`). Each party enforces its own value.
    pub fn with_min_contributors(
        parties: usize,
        threshold: usize,
        classes: usize,
        min_contributors: usize,
        session_seed: [u8; 32],
    ) -> Result<Arc<Self>> {
        Self::with_options(
            parties,
            threshold,
            classes,
            min_contributors,
            true,
            session_seed,
        )
    }

    /// As [`TestingParams::with_min_contributors`], choosing whether
    /// decryption shares are proven (`prove_shares`; on in
    /// [`Self::new`]). With share proofs, dealings carry public commitments
    /// ([`TestParty::deal`], [`TestingKey::with_dealings`]) and every share
    /// a proof, so a committee member cannot shift the total (see the
    /// module docs); `t` times what a verified share can still be off by
    /// must leave the total exact, which holds up to 67 parties at
    /// `t = n/2 + 1` ([`Error::OutOfRange`] beyond, naming this switch).
    /// Without them a single committee member can move any count of the
    /// total.
    pub fn with_options(
        parties: usize,
        threshold: usize,
        classes: usize,
        min_contributors: usize,
        prove_shares: bool,
        session_seed: [u8; 32],
    ) -> Result<Arc<Self>> {
        // Party ids are Shamir evaluation points X^j: below 2N = 16384.
        if parties < 2 || threshold == 0 || threshold > parties || parties >= 1 << 14 {
            return Err(Error::OutOfRange(format!(
                "threshold {threshold} of {parties} parties (2 to 16383 parties)"
            )));
        }
        if min_contributors < 2 || min_contributors > parties {
            return Err(Error::OutOfRange(format!(
                "min_contributors = {min_contributors} must be in 2..={parties}"
            )));
        }
        let bfv = bfv::Parameters::preset(bfv::Preset::N8192T65537)?;
        let encoder = bfv::Encoder::new(&bfv);
        if classes < 2 || classes * classes + 1 > encoder.slots() {
            return Err(Error::OutOfRange(format!("{classes} classes")));
        }
        let ring = bfv.rlwe().ring_q(bfv.max_level())?.clone();
        let t = bfv.plaintext_modulus();
        // Δ = ⌊Q/t⌋, in RNS.
        let lift = ring
            .basis()
            .decompose(&(ring.basis().product() / num_bigint::BigUint::from(t)));
        let proof = zk::EncParams::with_lift(&ring, t / 2, &lift)?;
        let log2_noise = Self::noise_bound(&bfv, &proof, parties)?;
        let top = bfv.max_level();
        let smudging = Smudging::for_bfv(&bfv, top, log2_noise, threshold)?;
        let shares = if prove_shares {
            Some(Self::share_proofs(
                &bfv, &ring, &smudging, log2_noise, threshold, parties,
            )?)
        } else {
            None
        };
        Ok(Arc::new(Self {
            parties,
            threshold,
            classes,
            min_contributors,
            bfv,
            encoder,
            log2_noise,
            smudging,
            proof,
            shares,
            crs: threshold::Crs::from_seed(session_seed),
        }))
    }

    /// The share proofs' parameters, checked to keep decryption **exact**
    /// whatever a verified committee sends: the contributions' noise plus
    /// `t` times (14σ, the proven smudging bound, plus the offset a
    /// verified share can still carry, [`zk::ShareParams::offset_bound`])
    /// stays below `Q/(2t_p)`.
    fn share_proofs(
        bfv: &bfv::Parameters,
        ring: &Arc<rlwe::poly::RingContext>,
        smudging: &Smudging,
        log2_noise: f64,
        t: usize,
        n: usize,
    ) -> Result<zk::ShareParams> {
        let zp = threshold::vss::share_proof_params(ring, smudging, t, n, 1).map_err(|e| {
            Error::OutOfRange(format!(
                "decryption-share proofs for t = {t} of n = {n}: {e} (fewer parties, a lower t \
                 or TestingParams::with_options(.., prove_shares = false, ..))"
            ))
        })?;
        // each verified share: noise within the proven 14σ plus the
        // proofs' slack, whatever its sender did
        let worst = log2_noise.exp2()
            + t as f64 * (smudging.tail_bound() as f64 + zp.offset_bound() as f64);
        let room = ring.basis().product().bits() as f64
            - 1.0
            - (2.0 * bfv.plaintext_modulus() as f64).log2();
        if worst.log2() >= room {
            return Err(Error::OutOfRange(format!(
                "decryption-share proofs for t = {t}: a verified share may still be off by \
                 2^{:.1}, the total would not decrypt exactly (room 2^{room:.1}): a lower t \
                 or TestingParams::with_options(.., prove_shares = false, ..)",
                worst.log2()
            )));
        }
        Ok(zp)
    }

    /// The number of test parties `n`.
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// How many parties decrypt (`t`).
    pub fn threshold(&self) -> usize {
        self.threshold
    }

    /// The decryption-share proofs' parameters, if shares are proven.
    pub fn share_proof_params(&self) -> Option<&zk::ShareParams> {
        self.shares.as_ref()
    }

    /// Whether decryption shares carry proofs ([`Self::with_options`]).
    pub fn proves_shares(&self) -> bool {
        self.shares.is_some()
    }

    /// log2 of a bound on the phase noise of what a committee member
    /// decrypts: the sum of at most `n` contributions (one per party) and,
    /// on a retry, one public encryption of zero. Each contribution is
    /// *proven* well formed ([`zk::prove`]), so its noise is bounded by the
    /// proven (slack-included) norms, `‖ū‖∞·‖e‖₁ + ‖ē0‖∞ + ‖ē1‖∞·‖s‖₁`
    /// (as for aggregation updates), whatever its sender did; plus the 8σ
    /// bound `8·sqrt((n + 1)·(N/12·(2n/3) + 1/12))` on the rounding noise of
    /// the encryption of zero (counted for `n + 1` ciphertexts), and the
    /// embedding: `⌊Q/t⌋·m` misses `Q·m/t` by at most `|m| ≤ t/2` per
    /// contribution, and the sum's own rounding.
    fn noise_bound(bfv: &bfv::Parameters, proof: &zk::EncParams, n: usize) -> Result<f64> {
        let var = bfv.degree() as f64 / 12.0 * (2.0 * n as f64 / 3.0) + 1.0 / 12.0;
        let fresh = 8.0 * ((n + 1) as f64 * var).sqrt();
        let proven = n as f64 * crate::aggregation::log2_proven_noise(proof, n).exp2();
        let embedding = n as f64 * bfv.plaintext_modulus() as f64 / 2.0 + (n + 1) as f64 / 2.0;
        Ok((proven + fresh + embedding).log2())
    }

    /// Bytes of the proof each contribution carries (after its ciphertext).
    pub fn proof_bytes(&self) -> usize {
        self.proof.proof_bytes()
    }

    /// Most samples one party may count.
    pub fn max_samples_per_party(&self) -> u64 {
        (self.bfv.plaintext_modulus() - 1) / self.parties as u64
    }

    /// The fewest contributions a committee member decrypts.
    pub fn min_contributors(&self) -> usize {
        self.min_contributors
    }

    /// log2 of the noise bound the smudging is budgeted for: it covers the
    /// sum of one contribution per party plus a retry's encryption of zero
    /// (see the module docs).
    pub fn log2_noise(&self) -> f64 {
        self.log2_noise
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
    /// The key over `Q` for the contribution proofs.
    zk: Arc<zk::EncKey>,
    /// The parties' public-key shares (when the key was made from them):
    /// what the dealing commitments are tied to.
    pk_shares: Option<Arc<Vec<PublicKeyShare>>>,
    /// The members' share commitments (sessions that prove shares, after
    /// [`TestingKey::with_dealings`]).
    members: Option<Arc<Members>>,
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
        let kept: Vec<PublicKeyShare> = shares.into_iter().collect();
        let agg = PublicKeyShares::aggregate(kept.clone())?;
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
        Self::wrap(params, pk, Some(Arc::new(kept)), None)
    }

    /// The key with the parties' dealing commitments ([`TestParty::deal`],
    /// all `n`), in a session that proves decryption shares: each is checked
    /// against its party's public-key share and every party's share
    /// commitment is derived; the key's [`id`](Self::id) then covers them
    /// (parties that disagree on them disagree on the session). Needs the
    /// key made by [`Self::from_shares`].
    ///
    /// # Errors
    /// [`Error::Protocol`] in a session without share proofs;
    /// [`Error::Threshold`] for a missing, duplicate or malformed
    /// commitment (naming its party).
    pub fn with_dealings(&self, dealings: &[threshold::vss::DealingCommitment]) -> Result<Self> {
        let p = &self.params;
        let members = Members::for_key(
            p.bfv.rlwe(),
            &p.crs,
            p.shares.as_ref(),
            (p.threshold, p.parties),
            self.pk_shares.as_ref(),
            dealings,
            "TestingKey::from_shares",
        )?;
        Self::wrap(
            p,
            self.pk.clone(),
            self.pk_shares.clone(),
            Some(Arc::new(members)),
        )
    }

    fn wrap(
        params: &Arc<TestingParams>,
        pk: bfv::PublicKey,
        pk_shares: Option<Arc<Vec<PublicKeyShare>>>,
        members: Option<Arc<Members>>,
    ) -> Result<Self> {
        let mut data = pk.to_bytes();
        data.extend_from_slice(params.crs.seed());
        if let Some(m) = &members {
            data.extend_from_slice(&m.digest);
        }
        let id = digest(b"ml-he/testing/session-key/v1", &data);
        let zk = Arc::new(zk::EncKey::new(&params.proof, pk.rlwe())?);
        Ok(Self {
            params: params.clone(),
            pk,
            id,
            zk,
            pk_shares,
            members,
        })
    }

    /// Whether the key carries the parties' share commitments (needed to
    /// make and check decryption shares in a session that proves them).
    pub fn has_share_commitments(&self) -> bool {
        self.members.is_some()
    }

    /// The members' commitments, or [`Error::Protocol`] if this session
    /// proves shares and the key has none.
    fn members(&self) -> Result<Option<(&zk::ShareParams, &Members)>> {
        match (&self.params.shares, &self.members) {
            (None, _) => Ok(None),
            (Some(zp), Some(m)) => Ok(Some((zp, m))),
            (Some(_), None) => Err(Error::Protocol(
                "the session proves decryption shares: the key needs the dealing commitments \
                 (TestingKey::with_dealings, or deal_all)"
                    .into(),
            )),
        }
    }

    /// **An attack, for tests of the refusal paths only**: party `party`'s
    /// well-formed contribution `(0, ⌊Q/t⌋)` with no valid proof — without
    /// proofs its decrypted total would contain the collective secret `s`
    /// modulo `t` (issue 18). Refused with [`Error::InvalidUpdateProof`].
    #[doc(hidden)]
    pub fn forge_key_recovery_counts(&self, party: u32) -> Result<Vec<u8>> {
        let p = &self.params;
        let ring = p.ring()?;
        let q = num_bigint::BigInt::from(ring.basis().product().clone());
        let t = num_bigint::BigInt::from(p.bfv.plaintext_modulus());
        let mut c1 = rlwe::poly::Poly::from_bigints(ring, &[q / t])?;
        c1.to_ntt();
        let c0 = rlwe::poly::Poly::zero(ring, rlwe::poly::Representation::Ntt);
        let header = CountsHeader {
            tag: COUNTS_TAG,
            key: self.id,
            party,
        };
        let mut payload = Vec::new();
        pack_poly(&c0, &mut payload);
        pack_poly(&c1, &mut payload);
        payload.resize(payload.len() + p.proof.proof_bytes(), 0);
        Ok(frame(p.fingerprint(), &header, &payload))
    }

    /// The session parameters.
    pub fn params(&self) -> &Arc<TestingParams> {
        &self.params
    }

    /// The session identifier: a digest of the collective public key and
    /// the session seed, named in every message of the session.
    pub fn id(&self) -> &[u8; 32] {
        &self.id
    }
}

const COUNTS_TAG: [u8; 8] = *b"tst/cnt2";
const REQUEST_TAG: [u8; 8] = *b"tst/req2";
const SHARE_TAG: [u8; 8] = *b"tst/dsh3";

const COUNTS_WHAT: &str = "encrypted counts";
const REQUEST_WHAT: &str = "testing decryption request";
const SHARE_WHAT: &str = "testing decryption share";

#[derive(Serialize, Deserialize)]
struct CountsHeader {
    tag: [u8; 8],
    key: [u8; 32],
    party: u32,
}

/// The header of a decryption request. The payload is the contributions
/// themselves (the exact bytes each party sent, in `contributors` order):
/// every committee member recomputes the sum, so the server cannot have
/// anything else decrypted.
#[derive(Serialize, Deserialize)]
struct RequestHeader {
    tag: [u8; 8],
    key: [u8; 32],
    attempt: u32,
    committee: Vec<u32>,
    contributors: Vec<u32>,
    digests: Vec<[u8; 32]>,
    sizes: Vec<u64>,
}

#[derive(Serialize, Deserialize)]
struct ShareHeader {
    tag: [u8; 8],
    key: [u8; 32],
    request: [u8; 32],
    party: u32,
    /// Share proofs after the share (0 or 1).
    proofs: u32,
}

fn pack_ct(ct: &bfv::Ciphertext) -> Vec<u8> {
    let mut out = Vec::new();
    for p in ct.rlwe().parts() {
        pack_poly(p, &mut out);
    }
    out
}

/// The context a contribution's proof is bound to: the session key (its
/// digest covers the public key and the CRS), the party and the
/// ciphertext's bytes.
fn counts_context(key: &TestingKey, party: u32, ct: &[u8]) -> [u8; 32] {
    let mut t = zk::Transcript::new(b"ml-he/testing/counts-proof/v1");
    t.append(b"key", &key.id);
    t.append(b"params", key.params.fingerprint());
    t.append_u64(b"party", u64::from(party));
    t.append(b"ciphertext", ct);
    t.finish()
}

/// The context a decryption share's proof is bound to: the session key
/// (covering the members' commitments), the request and the member.
fn share_context(key: &TestingKey, request: &[u8; 32], party: u32) -> [u8; 32] {
    let mut t = zk::Transcript::new(b"ml-he/testing/share-proof/v1");
    t.append(b"key", &key.id);
    t.append(b"request", request);
    t.append_u64(b"party", u64::from(party));
    t.finish()
}

/// The digest of a contribution (encrypted counts, exactly the bytes its
/// party sent): what the party signs and what decryption requests list.
pub fn contribution_digest(bytes: &[u8]) -> [u8; 32] {
    digest(b"ml-he/testing/contribution/v1", bytes)
}

/// The digest of a set of contributions: the session identifier
/// ([`TestingKey::id`]) and the `(party, contribution digest)` list sorted
/// by party. A committee member decrypts the sum of one set per session.
pub fn contribution_set_digest(id: &[u8; 32], set: &[(u32, [u8; 32])]) -> [u8; 32] {
    let mut sorted = set.to_vec();
    sorted.sort_unstable();
    crate::aggregation::contribution_set_digest(id, 0, &sorted)
}

/// What a decryption request asks for, read from its header alone (cheap):
/// the same type as aggregation's, with `round` 0 (a testing session has
/// one sum). A caller that authenticates senders checks `contributions`
/// against the parties' signatures over their [`contribution_digest`]s
/// before calling [`TestParty::decryption_share`].
pub use crate::aggregation::RequestInfo;

/// A checked contribution.
struct Counts {
    party: u32,
    digest: [u8; 32],
    ct: bfv::Ciphertext,
}

/// Parses and checks one contribution in full (tag, session key, party,
/// the party `expected` if given, size, every residue).
fn parse_counts(key: &TestingKey, expected: Option<u32>, bytes: &[u8]) -> Result<Counts> {
    let p = &key.params;
    let (h, payload): (CountsHeader, _) = unframe(bytes, COUNTS_WHAT, p.fingerprint())?;
    check_tag(&h.tag, &COUNTS_TAG, COUNTS_WHAT)?;
    if h.key != key.id {
        return Err(Error::SessionMismatch {
            what: "counts under another collective key".into(),
        });
    }
    p.check_party(h.party)?;
    if let Some(expected) = expected.filter(|&e| e != h.party) {
        return Err(Error::WrongSender {
            claimed: h.party,
            expected,
        });
    }
    let one = packed_len(p.ring()?);
    if payload.len() != 2 * one + p.proof.proof_bytes() {
        return Err(Error::Malformed {
            what: COUNTS_WHAT,
            reason: format!(
                "{} bytes, expected {} (ciphertext and proof)",
                payload.len(),
                2 * one + p.proof.proof_bytes()
            ),
        });
    }
    let (cts, proof) = payload.split_at(2 * one);
    let ct = p.ct_from(cts, COUNTS_WHAT)?;
    let bad = |e: zk::Error| Error::InvalidUpdateProof {
        party: h.party,
        reason: e.to_string(),
    };
    let proof = zk::EncProof::from_bytes(&p.proof, proof).map_err(bad)?;
    let [c0, c1] = ct.rlwe().parts() else {
        return Err(Error::Malformed {
            what: COUNTS_WHAT,
            reason: "ciphertext with three parts".into(),
        });
    };
    let context = counts_context(key, h.party, cts);
    zk::verify(&p.proof, &key.zk, &context, 0, (c0, c1), &proof).map_err(bad)?;
    Ok(Counts {
        party: h.party,
        digest: contribution_digest(bytes),
        ct,
    })
}

/// The checked header and committee of a decryption request, and its
/// (unparsed) payload: session key, attempt number, contributor list
/// (non-empty, known, strictly increasing, one digest and size each, sizes
/// adding up to the payload) and committee (exactly `t` known parties).
fn parse_request_header<'a>(
    key: &TestingKey,
    bytes: &'a [u8],
) -> Result<(RequestHeader, ActiveSet, &'a [u8])> {
    const WHAT: &str = REQUEST_WHAT;
    let p = &key.params;
    let (h, payload): (RequestHeader, _) = unframe(bytes, WHAT, p.fingerprint())?;
    check_tag(&h.tag, &REQUEST_TAG, WHAT)?;
    if h.key != key.id {
        return Err(Error::SessionMismatch {
            what: "decryption request for another collective key".into(),
        });
    }
    if h.attempt >= MAX_ATTEMPTS {
        return Err(Error::TooManyAttempts {
            round: 0,
            attempt: h.attempt,
            max: MAX_ATTEMPTS,
        });
    }
    if h.contributors.is_empty() {
        return Err(Error::Protocol(
            "decryption request with no contribution".into(),
        ));
    }
    if h.digests.len() != h.contributors.len() || h.sizes.len() != h.contributors.len() {
        return Err(Error::Malformed {
            what: WHAT,
            reason: format!(
                "{} contributors, {} digests, {} sizes",
                h.contributors.len(),
                h.digests.len(),
                h.sizes.len()
            ),
        });
    }
    let mut prev = 0u32;
    for &c in &h.contributors {
        p.check_party(c)?;
        if c == prev {
            return Err(Error::DuplicateSubmission { party: c });
        }
        if c < prev {
            return Err(Error::Malformed {
                what: WHAT,
                reason: "contributors not in increasing order".into(),
            });
        }
        prev = c;
    }
    let total = h
        .sizes
        .iter()
        .try_fold(0u64, |a, &s| a.checked_add(s))
        .unwrap_or(u64::MAX);
    if total != payload.len() as u64 {
        return Err(Error::Malformed {
            what: WHAT,
            reason: format!(
                "contribution sizes add up to {total}, the payload is {} bytes",
                payload.len()
            ),
        });
    }
    let active = p.active_set(&h.committee)?;
    Ok((h, active, payload))
}

fn request_info(key: &TestingKey, h: &RequestHeader, active: &ActiveSet) -> RequestInfo {
    let contributions: Vec<(u32, [u8; 32])> = h
        .contributors
        .iter()
        .copied()
        .zip(h.digests.iter().copied())
        .collect();
    let set_digest = contribution_set_digest(&key.id, &contributions);
    RequestInfo {
        round: 0,
        attempt: h.attempt,
        committee: active.parties().iter().map(|q| q.0).collect(),
        contributions,
        set_digest,
    }
}

/// The public encryption of zero added at attempt `attempt ≥ 1`: its
/// randomness is ChaCha20 seeded with a digest of the session key, the set
/// digest and the attempt, so everybody computes the same ciphertext.
fn retry_zero(key: &TestingKey, set_digest: &[u8; 32], attempt: u32) -> Result<bfv::Ciphertext> {
    let mut data = key.id.to_vec();
    data.extend_from_slice(set_digest);
    data.extend_from_slice(&attempt.to_le_bytes());
    let mut rng = ChaCha20Rng::from_seed(digest(b"ml-he/testing/rerandomize/v1", &data));
    let zero = key.params.encoder.encode_u64(&[0])?;
    Ok(key.pk.encrypt(&zero, &mut rng)?)
}

/// A decryption request whose sum was recomputed from its contributions.
struct Request {
    header: RequestHeader,
    info: RequestInfo,
    id: [u8; 32],
    sum: bfv::Ciphertext,
    active: ActiveSet,
}

/// Checks every contribution of a request (digest, then in full) and
/// recomputes the sum (plus the public encryption of zero of a retry).
fn recompute(
    key: &TestingKey,
    header: RequestHeader,
    active: ActiveSet,
    payload: &[u8],
) -> Result<Request> {
    let info = request_info(key, &header, &active);
    let mut parts = Vec::with_capacity(header.sizes.len());
    let mut at = 0usize;
    for (i, (&size, d)) in header.sizes.iter().zip(&header.digests).enumerate() {
        // The sizes add up to the payload length (checked), so each fits.
        let end = at + size as usize;
        let bytes = &payload[at..end];
        if &contribution_digest(bytes) != d {
            return Err(Error::Malformed {
                what: REQUEST_WHAT,
                reason: format!(
                    "contribution {i} (party {}) does not match its digest",
                    header.contributors[i]
                ),
            });
        }
        parts.push(bytes);
        at = end;
    }
    let cts = parts
        .par_iter()
        .zip(header.contributors.par_iter())
        .map(|(b, &c)| parse_counts(key, Some(c), b).map(|u| u.ct))
        .collect::<Result<Vec<_>>>()?;
    let ev = bfv::Evaluator::new(&key.params.bfv);
    let mut iter = cts.into_iter();
    let mut sum = iter
        .next()
        .ok_or_else(|| Error::Protocol("decryption request with no contribution".into()))?;
    for ct in iter {
        ev.add_assign(&mut sum, &ct)?;
    }
    if header.attempt > 0 {
        ev.add_assign(
            &mut sum,
            &retry_zero(key, &info.set_digest, header.attempt)?,
        )?;
    }
    let id = crate::aggregation::request_id(&key.id, &info);
    Ok(Request {
        header,
        info,
        id,
        sum,
        active,
    })
}

fn parse_request(key: &TestingKey, bytes: &[u8]) -> Result<Request> {
    let (header, active, payload) = parse_request_header(key, bytes)?;
    recompute(key, header, active, payload)
}

/// What decryption request `request` asks for (see [`RequestInfo`]): every
/// check of its header is made (session key, attempt number, contributor
/// list, committee), the contributions themselves are not read. Use it to
/// compare each contribution's `(party, digest)` with that party's
/// authenticated one before [`TestParty::decryption_share`].
pub fn inspect_request(key: &TestingKey, request: &[u8]) -> Result<RequestInfo> {
    let (h, active, _) = parse_request_header(key, request)?;
    Ok(request_info(key, &h, &active))
}

/// A test party: holds a private test set and a share of the decryption key.
pub struct TestParty {
    id: u32,
    params: Arc<TestingParams>,
    party: Party,
    key: Option<TestingKey>,
    /// The contribution set whose sum this party helped decrypt.
    released: Option<[u8; 32]>,
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
            released: None,
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

    /// Shamir shares of this party's secret (private channels) and, in a
    /// session that proves decryption shares, the public commitment to the
    /// sharing polynomial (to everybody: [`TestingKey::with_dealings`]).
    pub fn deal<R: RngCore + CryptoRng>(&self, rng: &mut R) -> Result<Dealing> {
        let p = &self.params;
        if p.shares.is_some() {
            let (messages, com) = self
                .party
                .deal_committed(p.threshold, p.parties, &p.crs, rng)?;
            return Ok(Dealing {
                messages,
                commitment: Some(com),
            });
        }
        Ok(Dealing {
            messages: self.party.deal(p.threshold, p.parties, rng)?,
            commitment: None,
        })
    }

    /// Keeps the sum of the dealings addressed to this party. In a session
    /// that proves decryption shares, each dealing is first checked against
    /// its dealer's commitment (set the key from
    /// [`TestingKey::with_dealings`] first, [`Error::Protocol`] otherwise):
    /// a dealing that does not match is refused naming its dealer
    /// ([`threshold::Error::InvalidShare`]).
    pub fn receive_dealings(&mut self, messages: Vec<SecretShareMessage>) -> Result<()> {
        let p = &self.params;
        crate::committee::receive_dealings(
            &mut self.party,
            p.shares.is_some(),
            self.key.as_ref().and_then(|k| k.members.as_deref()),
            messages,
            (p.threshold, p.parties),
            "TestingKey::with_dealings",
        )
    }

    /// Installs the collective key. The party's memory of the contribution
    /// set it helped decrypt is kept: its secret serves one session.
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
    /// the collective key: this party's contribution, whose bytes go to the
    /// server (sign their [`contribution_digest`] if the transport does not
    /// authenticate the sender).
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
        // Encrypted over Q with known randomness, `⌊Q/t⌋·m` for the centered
        // plaintext coefficients `m`, and proven well formed and bounded.
        let m = p.encoder.encode_u64(&slots)?.centered();
        let ((c0, c1), w) = zk::encrypt(&p.proof, &key.zk, &m, rng)?;
        let ct = rlwe::ciphertext::Ciphertext::new(p.bfv.rlwe(), vec![c0, c1])?;
        let ct = bfv::Ciphertext::from_rlwe(&p.bfv, ct, bfv::Encoding::Batch)?;
        let header = CountsHeader {
            tag: COUNTS_TAG,
            key: key.id,
            party: self.id,
        };
        let mut payload = pack_ct(&ct);
        let context = counts_context(key, self.id, &payload);
        let [c0, c1] = ct.rlwe().parts() else {
            return Err(Error::Protocol("ciphertext with three parts".into()));
        };
        let proof = zk::prove(&p.proof, &key.zk, &context, 0, (c0, c1), &w, rng)?;
        payload.extend_from_slice(&proof.to_bytes(&p.proof));
        Ok(frame(p.fingerprint(), &header, &payload))
    }

    /// This party's decryption share of the sum of the contributions in
    /// `request`, as a member of the request's committee. The party checks
    /// every contribution in full and recomputes the sum itself (plus the
    /// public encryption of zero of a retry), so it never decrypts a
    /// ciphertext of the server's choosing.
    ///
    /// Refused: a request for another session ([`Error::SessionMismatch`]),
    /// a committee without this party ([`Error::UnknownParty`]), fewer than
    /// [`TestingParams::min_contributors`] contributions
    /// ([`Error::TooFewContributors`]), a contribution set other than the
    /// one whose sum this party already helped decrypt
    /// ([`Error::AlreadyReleased`]), attempt numbers from [`MAX_ATTEMPTS`]
    /// on ([`Error::TooManyAttempts`]), a second share of the same attempt
    /// ([`threshold::Error::ShareReused`]); a contribution that does not
    /// match its listed digest, or is malformed ([`Error::Malformed`]),
    /// under another key ([`Error::SessionMismatch`]), of an unknown party
    /// ([`Error::UnknownParty`]), twice from one party
    /// ([`Error::DuplicateSubmission`]) or naming another party than the
    /// request lists ([`Error::WrongSender`]).
    ///
    /// The request names each contribution's party but cannot prove who
    /// made it: the caller checks [`inspect_request`] against the senders'
    /// signatures first (see the module docs).
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
        let (header, active, payload) = parse_request_header(&key, request)?;
        if !active.contains(PartyId(self.id)) {
            return Err(Error::UnknownParty { party: self.id });
        }
        let min = self.params.min_contributors;
        if header.contributors.len() < min {
            return Err(Error::TooFewContributors {
                got: header.contributors.len(),
                min,
            });
        }
        let set = request_info(&key, &header, &active).set_digest;
        if self.released.is_some_and(|d| d != set) {
            return Err(Error::AlreadyReleased { round: 0 });
        }
        let members = key.members()?;
        let req = recompute(&key, header, active, payload)?;
        let smudging = self.params.smudging;
        self.released = Some(set);
        let mut out = Vec::new();
        let proofs = if let Some((zp, m)) = members {
            let context = share_context(&key, &req.id, self.id);
            m.prove(
                zp,
                &mut self.party,
                &[req.sum.rlwe()],
                &req.active,
                &smudging,
                &context,
                rng,
                &mut out,
            )?
        } else {
            let share =
                self.party
                    .decryption_share(req.sum.rlwe(), Some(&req.active), &smudging, rng)?;
            pack_poly(share.poly(), &mut out);
            0
        };
        let header = ShareHeader {
            tag: SHARE_TAG,
            key: key.id,
            request: req.id,
            party: self.id,
            proofs,
        };
        Ok(frame(self.params.fingerprint(), &header, &out))
    }
}

/// Runs the Shamir dealing among `parties` in one process (each message
/// would go over a private channel), installs the session key on every
/// party and returns it — in a session that proves decryption shares,
/// `key` with every party's dealing commitment
/// ([`TestingKey::with_dealings`]), each dealing checked against it.
pub fn deal_all<R: RngCore + CryptoRng>(
    parties: &mut [TestParty],
    key: &TestingKey,
    rng: &mut R,
) -> Result<TestingKey> {
    crate::committee::deal_in_process(
        parties,
        |p| p.id,
        |p, r| p.deal(r),
        |coms| {
            if key.params.shares.is_some() {
                key.with_dealings(coms)
            } else {
                Ok(key.clone())
            }
        },
        |p, key, msgs| {
            p.set_key(key)?;
            p.receive_dealings(msgs)
        },
        rng,
    )
}

/// The testing server: checks and keeps the contributions, asks committees
/// to decrypt their sum; it holds no key share and never decrypts.
pub struct TestingServer {
    key: TestingKey,
    /// Contribution digest and bytes, by party.
    contributions: BTreeMap<u32, ([u8; 32], Vec<u8>)>,
    requests: u32,
}

impl std::fmt::Debug for TestingServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestingServer")
            .field("contributors", &self.contributors())
            .field("requests", &self.requests)
            .finish_non_exhaustive()
    }
}

impl TestingServer {
    /// A server for the session of `key`.
    pub fn new(key: &TestingKey) -> Self {
        Self {
            key: key.clone(),
            contributions: BTreeMap::new(),
            requests: 0,
        }
    }

    /// Checks and keeps a party's contribution (encrypted counts); returns
    /// the party it names. Without authenticated senders use
    /// [`TestingServer::add_from`] instead.
    pub fn add(&mut self, bytes: &[u8]) -> Result<u32> {
        self.add_checked(None, bytes)
    }

    /// As [`TestingServer::add`], for a contribution whose sender the
    /// transport authenticated as `expected_party`: a contribution naming
    /// another party is [`Error::WrongSender`].
    pub fn add_from(&mut self, expected_party: u32, bytes: &[u8]) -> Result<u32> {
        self.add_checked(Some(expected_party), bytes)
    }

    fn add_checked(&mut self, expected: Option<u32>, bytes: &[u8]) -> Result<u32> {
        let c = parse_counts(&self.key, expected, bytes)?;
        if self.contributions.contains_key(&c.party) {
            return Err(Error::DuplicateSubmission { party: c.party });
        }
        self.contributions
            .insert(c.party, (c.digest, bytes.to_vec()));
        Ok(c.party)
    }

    /// The parties whose contributions were kept.
    pub fn contributors(&self) -> Vec<u32> {
        self.contributions.keys().copied().collect()
    }

    /// A request for decryption shares of the sum, to a committee of
    /// exactly `t`: it carries every contribution (each committee member
    /// recomputes the sum). Each call is the next attempt (a new committee
    /// after a dropout); from the [`MAX_ATTEMPTS`]th on it is
    /// [`Error::TooManyAttempts`]. The committee members, not the server,
    /// enforce `min_contributors`.
    pub fn decryption_request(&mut self, committee: &[u32]) -> Result<Vec<u8>> {
        let p = self.key.params.clone();
        let active = p.active_set(committee)?;
        if self.contributions.is_empty() {
            return Err(Error::Protocol("no counts were added".into()));
        }
        let attempt = self.requests;
        if attempt >= MAX_ATTEMPTS {
            return Err(Error::TooManyAttempts {
                round: 0,
                attempt,
                max: MAX_ATTEMPTS,
            });
        }
        self.requests += 1;
        let total: usize = self.contributions.values().map(|(_, b)| b.len()).sum();
        let mut payload = Vec::with_capacity(total);
        let mut header = RequestHeader {
            tag: REQUEST_TAG,
            key: self.key.id,
            attempt,
            committee: active.parties().iter().map(|q| q.0).collect(),
            contributors: Vec::new(),
            digests: Vec::new(),
            sizes: Vec::new(),
        };
        for (&party, (d, bytes)) in &self.contributions {
            header.contributors.push(party);
            header.digests.push(*d);
            header.sizes.push(bytes.len() as u64);
            payload.extend_from_slice(bytes);
        }
        Ok(frame(p.fingerprint(), &header, &payload))
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
    /// The committee that decrypted.
    pub committee: Vec<u32>,
}

/// Checks a decryption share's header against the request (session key,
/// request id, committee, size); returns its sender and payload.
fn check_share_header<'a>(
    key: &TestingKey,
    request_id: &[u8; 32],
    active: &ActiveSet,
    share: &'a [u8],
) -> Result<(u32, &'a [u8])> {
    let p = &key.params;
    let (h, payload): (ShareHeader, _) = unframe(share, SHARE_WHAT, p.fingerprint())?;
    check_tag(&h.tag, &SHARE_TAG, SHARE_WHAT)?;
    if h.key != key.id || &h.request != request_id {
        return Err(Error::SessionMismatch {
            what: "decryption share of another request".into(),
        });
    }
    if !active.contains(PartyId(h.party)) {
        return Err(Error::UnknownParty { party: h.party });
    }
    let one = packed_len(p.ring()?);
    let want = one + crate::committee::proof_bytes(p.shares.as_ref(), 1);
    if h.proofs as usize != crate::committee::proof_count(p.shares.as_ref(), 1)
        || payload.len() != want
    {
        return Err(Error::Malformed {
            what: SHARE_WHAT,
            reason: format!(
                "{} bytes and {} proofs, expected {want} bytes",
                payload.len(),
                h.proofs
            ),
        });
    }
    Ok((h.party, payload))
}

/// The test party who made the decryption share `share`, after checking
/// that it answers `request` (same session, contribution set, attempt and
/// committee: a share of another request is [`Error::SessionMismatch`]),
/// that its sender is in the request's committee ([`Error::UnknownParty`])
/// and its size and residues ([`Error::Malformed`]). Nothing is combined:
/// use it to match a share with its authenticated sender before
/// [`combine`]. Only the request's header is read.
pub fn decryption_share_sender(key: &TestingKey, request: &[u8], share: &[u8]) -> Result<u32> {
    let (h, active, _) = parse_request_header(key, request)?;
    let rid = crate::aggregation::request_id(&key.id, &request_info(key, &h, &active));
    let (party, payload) = check_share_header(key, &rid, &active, share)?;
    let ring = key.params.ring()?;
    let (poly, proofs) = payload.split_at(packed_len(ring));
    unpack_poly(ring, rlwe::poly::Representation::Ntt, poly, SHARE_WHAT)?;
    if let Some(zp) = &key.params.shares {
        crate::committee::read_share_proofs(zp, party, 1, proofs)?;
    }
    Ok(party)
}

/// **An attack, for tests of the refusal paths only**: the decryption
/// share `share` (bytes of [`TestParty::decryption_share`]) moved by
/// `⌊Q/t⌋·m`, where `m` encodes `delta` in count `(truth, predicted)` and
/// zero elsewhere — the combined total then has that count moved by
/// `delta` and nothing else (the party counter included) — with its proof
/// unchanged (issue 18's shifted share). A session that proves shares
/// refuses it in [`combine`] with [`Error::InvalidShareProof`] naming the
/// sender; without share proofs the total is silently wrong.
#[doc(hidden)]
pub fn shift_decryption_share(
    key: &TestingKey,
    share: &[u8],
    (truth, predicted): (usize, usize),
    delta: u64,
) -> Result<Vec<u8>> {
    let p = &key.params;
    if truth >= p.classes || predicted >= p.classes {
        return Err(Error::OutOfRange(format!(
            "count ({truth}, {predicted}) of {} classes",
            p.classes
        )));
    }
    let (h, payload): (ShareHeader, _) = unframe(share, SHARE_WHAT, p.fingerprint())?;
    let ring = p.ring()?;
    let one = packed_len(ring);
    if payload.len() < one {
        return Err(Error::Malformed {
            what: SHARE_WHAT,
            reason: "no share".into(),
        });
    }
    let mut slots = vec![0u64; p.classes * p.classes];
    slots[truth * p.classes + predicted] = delta % p.bfv.plaintext_modulus();
    let m = p.encoder.encode_u64(&slots)?.centered();
    let q = num_bigint::BigInt::from(ring.basis().product().clone());
    let lift = q / num_bigint::BigInt::from(p.bfv.plaintext_modulus());
    let coeffs: Vec<num_bigint::BigInt> = m.iter().map(|&c| &lift * c).collect();
    let mut off = rlwe::poly::Poly::from_bigints(ring, &coeffs)?;
    off.to_ntt();
    let mut first = unpack_poly(
        ring,
        rlwe::poly::Representation::Ntt,
        &payload[..one],
        SHARE_WHAT,
    )?;
    first.add_assign(&off)?;
    let mut out = Vec::with_capacity(payload.len());
    pack_poly(&first, &mut out);
    out.extend_from_slice(&payload[one..]);
    Ok(frame(p.fingerprint(), &h, &out))
}

/// Combines the committee's decryption shares of `request` into the total
/// counts; the sum is recomputed from the request's contributions (checked
/// as by [`TestParty::decryption_share`]). Every committee member's share
/// is needed ([`threshold::Error::TooFewShares`] otherwise); shares of
/// another request or key are [`Error::SessionMismatch`], a share from
/// outside the committee [`Error::UnknownParty`], two from the same party
/// [`Error::DuplicateSubmission`]; a decrypted party counter that differs
/// from the number of contributions is [`Error::Protocol`].
pub fn combine(key: &TestingKey, request: &[u8], shares: &[Vec<u8>]) -> Result<TestingResult> {
    let p = key.params.clone();
    let members = key.members()?;
    let req = parse_request(key, request)?;
    let ring = p.ring()?;
    let one = packed_len(ring);
    let mut seen = BTreeSet::new();
    let mut ds = Vec::with_capacity(shares.len());
    let mut proofs = Vec::with_capacity(shares.len());
    for s in shares {
        let (party, payload) = check_share_header(key, &req.id, &req.active, s)?;
        if !seen.insert(party) {
            return Err(Error::DuplicateSubmission { party });
        }
        let poly = unpack_poly(
            ring,
            rlwe::poly::Representation::Ntt,
            &payload[..one],
            SHARE_WHAT,
        )?;
        proofs.push((party, poly.clone(), &payload[one..]));
        ds.push(DecryptionShare::from_parts(PartyId(party), poly));
    }
    if let Some((zp, m)) = members {
        // Every share's proof, in parallel; the first failure (in the
        // order the shares were given) names its sender.
        let checks: Vec<Result<()>> = proofs
            .par_iter()
            .map(|(party, poly, bytes)| {
                m.verify(
                    zp,
                    *party,
                    &[req.sum.rlwe()],
                    &req.active,
                    std::slice::from_ref(poly),
                    bytes,
                    &share_context(key, &req.id, *party),
                )
            })
            .collect();
        for c in checks {
            c?;
        }
    }
    let pt = DecryptionShares::aggregate(req.sum.rlwe(), ds, Some(&req.active))?
        .finish_bfv(&p.bfv, req.sum.encoding())?;
    let slots = p.encoder.decode_u64(&pt)?;
    let k2 = p.classes * p.classes;
    let parties = slots[k2];
    let contributors = req.header.contributors;
    if parties != contributors.len() as u64 {
        return Err(Error::Protocol(format!(
            "the sum holds {parties} party counters for {} contributions",
            contributors.len()
        )));
    }
    Ok(TestingResult {
        confusion: ConfusionMatrix {
            classes: p.classes,
            counts: slots[..k2].to_vec(),
        },
        contributors,
        committee: req.info.committee,
    })
}
