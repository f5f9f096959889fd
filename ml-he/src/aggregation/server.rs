//! The server of a round (computing party): checked contributions and decryption requests.

use super::*;

/// An encrypted update that passed every check of [`Server::check_update`]
/// (or [`paillier_variant::PaillierServer::check_update`]), parsed once and
/// ready for `add_checked`: its exact bytes (which go into the decryption
/// request), their [`update_digest`], and the parsed ciphertexts (`C` is
/// `ckks::Ciphertext` or `paillier::Ciphertext`). Public data only.
pub struct CheckedUpdate<C = ckks::Ciphertext> {
    /// The key (CKKS) or session (Paillier) identifier it was checked for.
    pub(super) id: [u8; 32],
    pub(super) round: u64,
    pub(super) client: u32,
    pub(super) digest: [u8; 32],
    pub(super) bytes: Vec<u8>,
    pub(super) cts: Vec<C>,
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
pub(super) struct Contributions {
    pub(super) by_client: std::collections::BTreeMap<u32, ([u8; 32], Vec<u8>)>,
    pub(super) requests: u32,
}

impl Contributions {
    pub(super) fn contains(&self, client: u32) -> bool {
        self.by_client.contains_key(&client)
    }

    pub(super) fn clients(&self) -> Vec<u32> {
        self.by_client.keys().copied().collect()
    }

    pub(super) fn set(&self) -> Vec<(u32, [u8; 32])> {
        self.by_client.iter().map(|(&c, (d, _))| (c, *d)).collect()
    }

    pub(super) fn add<C>(&mut self, u: CheckedUpdate<C>) -> Result<u32> {
        if self.by_client.contains_key(&u.client) {
            return Err(Error::DuplicateSubmission { party: u.client });
        }
        self.by_client.insert(u.client, (u.digest, u.bytes));
        Ok(u.client)
    }

    /// The next attempt number ([`MAX_ATTEMPTS`] per round).
    pub(super) fn next_attempt(&mut self, round: u64) -> Result<u32> {
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
    pub(super) key: SessionKey,
    pub(super) round: u64,
    pub(super) len: usize,
    pub(super) contributions: Contributions,
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
        })
    }

    /// Checks an encrypted update and keeps it for the sum; returns the
    /// client's id. Errors: [`Error::Malformed`] (bytes, tag, sizes,
    /// residues), [`Error::InvalidUpdateProof`] (in a session that proves
    /// updates: a missing, malformed or wrong proof), [`Error::SessionMismatch`]
    /// (another key, parameter set or round), [`Error::UnknownParty`],
    /// [`Error::DuplicateSubmission`], [`Error::Shape`] (another vector length). The update names its
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
        self.contributions.add(update)
    }

    pub(super) fn parse(&self, expected: Option<u32>, bytes: &[u8]) -> Result<CheckedUpdate> {
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
        let total: usize = self
            .contributions
            .by_client
            .values()
            .map(|(_, b)| b.len())
            .sum();
        let mut payload = Vec::with_capacity(total);
        let (mut contributors, mut digests, mut sizes) = (Vec::new(), Vec::new(), Vec::new());
        for (&c, (d, bytes)) in &self.contributions.by_client {
            contributors.push(c);
            digests.push(*d);
            sizes.push(bytes.len() as u64);
            payload.extend_from_slice(bytes);
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
            sizes,
            count: count as u32,
            scale: p.scale,
        };
        Ok(frame(p.fingerprint(), &header, &payload))
    }
}
