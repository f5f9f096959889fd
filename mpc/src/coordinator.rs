//! The coordinator: the computing party. It authenticates parties by their
//! certificates, relays public shares and sealed (end-to-end encrypted)
//! messages, sums encrypted updates, persists every accepted update before
//! acknowledging it, and drives threshold decryption of each round's sum by a
//! committee of live parties. It never holds key material that decrypts.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ml_he::aggregation::paillier_variant::{self as pv, PaillierServer, PaillierSession};
use ml_he::aggregation::{
    aggregate_relin_round1, combine, contribution_set_digest, decryption_share_sender,
    finish_galois_keys, finish_relin_key, AggregationParams, CheckedUpdate, Client, RoundResult,
    Server, SessionKey, MAX_ATTEMPTS,
};
use prost::Message;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde::Serialize;
use threshold::{GaloisKeyShare, PublicKeyShare, RelinRound1Share, RelinRound2Share};
use tokio::sync::{mpsc, oneshot};
use tonic::transport::{Certificate, Identity, ServerTlsConfig};
use tonic::{Request, Response, Status};
use tracing::{debug, error, info, warn};

use crate::certs::SessionCa;
use crate::e2e::{verify_announcement, E2eKey};
use crate::proto::{
    Ack, Bundle, Coordinator, CoordinatorServer, Gate, Hello, KeyAnnouncement, Kind, Sealed,
    Signed, Submission, Task, TaskStream,
};
use crate::session::{collective_key_id, hex, Scheme, SessionConfig};
use crate::sign::{self, phase, Peers};
use crate::store::{PersistedKeys, Store};
use crate::{certs, Error, Result};

/// How the coordinator runs.
#[derive(Clone, Debug)]
pub struct CoordinatorOptions {
    /// Address to listen on (port 0: any free port, see `port_file`).
    pub listen: SocketAddr,
    /// Coordinator certificate (PEM).
    pub cert: PathBuf,
    /// Coordinator private key (PEM).
    pub key: PathBuf,
    /// Session CA certificate (PEM): party certificates must chain to it.
    pub ca: PathBuf,
    /// State directory (persistence across restarts).
    pub state_dir: PathBuf,
    /// The session.
    pub config: SessionConfig,
    /// Deadline for each round's submissions and each decryption attempt.
    pub round_timeout: Duration,
    /// Deadline for each key-generation step.
    pub phase_timeout: Duration,
    /// How long to wait for the parties to join (or rejoin after a restart).
    pub join_timeout: Duration,
    /// Write the bound address here once listening.
    pub port_file: Option<PathBuf>,
    /// Append one JSON line per round (and a final one) here.
    pub summary_file: Option<PathBuf>,
    /// Deliberate misbehaviour (tests of the parties' checks).
    pub misbehave: Option<CoordinatorMisbehave>,
}

/// Deliberate coordinator misbehaviour, for tests of the parties' checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CoordinatorMisbehave {
    /// Relays the coordinator's own X25519 key as the last party's (with
    /// that party's certificate and signature) to every other party, and
    /// tries to open the boxes sealed to it.
    SubstituteE2eKey,
    /// Relays a public-key share of its own in the last party's name (the
    /// key-substitution attack: a collective key whose secret it knows).
    SubstituteKey,
    /// Leaves the last party's public-key share out of the relayed shares.
    DropKeyShare,
    /// In round 0, asks the committee to decrypt the first contributor's
    /// update next to a zero encrypted in the second contributor's name.
    ForgeContributor,
    /// After round 0 is released, asks for a second sum of that round.
    RepeatDecryption,
}

impl std::str::FromStr for CoordinatorMisbehave {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "substitute-e2e-key" => Ok(Self::SubstituteE2eKey),
            "substitute-key" => Ok(Self::SubstituteKey),
            "drop-key-share" => Ok(Self::DropKeyShare),
            "forge-contributor" => Ok(Self::ForgeContributor),
            "repeat-decryption" => Ok(Self::RepeatDecryption),
            _ => Err(format!("unknown coordinator misbehaviour {s:?}")),
        }
    }
}

/// What key generation produced: the keys to persist and the signed
/// evaluation-key shares every party needs to recompute the keys.
struct Keygen {
    keys: PersistedKeys,
    relay: Vec<Signed>,
}

/// A submission as a signed entry to relay.
fn signed_entry(party: u32, kind: Kind, s: &Submission) -> Signed {
    Signed {
        party,
        kind: kind as i32,
        payload: s.payload.clone(),
        signature: s.signature.clone(),
        round: s.round,
    }
}

type TaskSender = mpsc::Sender<std::result::Result<Task, Status>>;
type Reply = oneshot::Sender<std::result::Result<(), String>>;

enum Event {
    Connected {
        party: u32,
        conn: u64,
        hello: Hello,
        tx: TaskSender,
    },
    Disconnected {
        party: u32,
        conn: u64,
    },
    Submitted {
        party: u32,
        sub: Submission,
        reply: Reply,
        /// Refused before the step saw it (oversized), and why.
        refused: Option<String>,
    },
}

struct Svc {
    events: mpsc::Sender<Event>,
    parties: u32,
    next_conn: AtomicU64,
    ca: SessionCa,
    limits: Limits,
}

/// HTTP/2 streams per connection (a party needs its task stream and a few
/// submissions).
const MAX_STREAMS: u32 = 16;
/// Submissions of one party being received or handled at once.
const MAX_IN_FLIGHT: usize = 4;

/// The largest submission of each kind this session can need; anything
/// larger is refused before it reaches the protocol.
struct Limits {
    update: usize,
    share: usize,
    deal: usize,
}

impl Limits {
    const SMALL: usize = 64 << 10;

    fn new(cfg: &SessionConfig) -> Result<Self> {
        let slack = Self::SMALL;
        let update = match cfg.scheme {
            Scheme::Ckks => cfg.aggregation_params()?.update_bytes(cfg.len),
            // a packed Paillier ciphertext carries ≥ 1 value per 32 bytes
            Scheme::Paillier => cfg.len.saturating_mul(32),
        };
        // a CKKS dealing is N residues per prime (3 primes, 8 bytes), sealed
        let deal = cfg.parties.saturating_mul(cfg.degree * 3 * 8 + 1024);
        Ok(Self {
            update: update.saturating_add(slack),
            share: update.saturating_mul(4).saturating_add(slack),
            deal: deal.saturating_add(slack),
        })
    }

    fn for_kind(&self, kind: Kind) -> usize {
        match kind {
            Kind::Update => self.update,
            Kind::Decrypt => self.share,
            Kind::Deal => self.deal,
            Kind::Session
            | Kind::Approve
            | Kind::Key
            | Kind::Confirm
            | Kind::Dealings
            | Kind::PaillierKey => Self::SMALL,
            Kind::PkShare => 4 << 20,
            _ => crate::proto::MAX_MESSAGE,
        }
    }
}

/// Checks a `Hello`'s end-to-end key announcement: the certificate is the
/// one the TLS connection authenticated, and [`verify_announcement`] (the
/// parties' own check) passes. The parties' checks are what protects them;
/// this one refuses early, with a logged reason.
#[allow(clippy::result_large_err)] // tonic's own error type
fn check_hello<T>(
    req: &Request<T>,
    ca: &SessionCa,
    party: u32,
    hello: &Hello,
) -> std::result::Result<(), Status> {
    let tls_cert = req
        .peer_certs()
        .and_then(|c| c.first().map(|c| c.as_ref().to_vec()))
        .unwrap_or_default();
    let r = if hello.cert != tls_cert {
        Err(Error::E2eKey {
            party,
            fault: crate::e2e::KeyFault::Malformed(
                "announced with another certificate than the TLS connection's".into(),
            ),
        })
    } else {
        verify_announcement(
            ca,
            &KeyAnnouncement {
                party,
                e2e_public: hello.e2e_public.clone(),
                cert: hello.cert.clone(),
                signature: hello.e2e_signature.clone(),
                session_signature: Vec::new(),
            },
        )
    };
    r.map_err(|e| {
        warn!(party, reason = %e, "connection refused");
        Status::permission_denied(e.to_string())
    })
}

#[allow(clippy::result_large_err)] // tonic's own error type
fn authenticate<T>(req: &Request<T>, parties: u32) -> std::result::Result<u32, Status> {
    let certs = req
        .peer_certs()
        .ok_or_else(|| Status::unauthenticated("no client certificate"))?;
    let cert = certs
        .first()
        .ok_or_else(|| Status::unauthenticated("no client certificate"))?;
    certs::party_id(cert, parties).map_err(|e| {
        warn!(reason = %e, "unknown party refused");
        Status::unauthenticated(format!("unknown party: {e}"))
    })
}

#[tonic::async_trait]
impl Coordinator for Svc {
    async fn subscribe(
        &self,
        request: Request<Hello>,
    ) -> std::result::Result<Response<TaskStream>, Status> {
        let party = authenticate(&request, self.parties)?;
        check_hello(&request, &self.ca, party, request.get_ref())?;
        let hello = request.into_inner();
        let conn = self.next_conn.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(64);
        let watch = tx.clone();
        self.events
            .send(Event::Connected {
                party,
                conn,
                hello,
                tx,
            })
            .await
            .map_err(|_| Status::unavailable("coordinator is shutting down"))?;
        let events = self.events.clone();
        tokio::spawn(async move {
            watch.closed().await;
            let _ = events.send(Event::Disconnected { party, conn }).await;
        });
        Ok(Response::new(tokio_stream::wrappers::ReceiverStream::new(
            rx,
        )))
    }

    async fn submit(
        &self,
        request: Request<Submission>,
    ) -> std::result::Result<Response<Ack>, Status> {
        let party = authenticate(&request, self.parties)?;
        let sub = request.into_inner();
        let kind = Kind::try_from(sub.kind).unwrap_or(Kind::Unspecified);
        let (size, limit) = (sub.size(), self.limits.for_kind(kind));
        let (sub, refused) = if size > limit {
            warn!(party, ?kind, size, limit, "oversized submission refused");
            // the step learns of it (the party is excluded from it, not
            // waited for); the bytes are dropped here
            let stripped = Submission {
                kind: sub.kind,
                round: sub.round,
                attempt: sub.attempt,
                ..Default::default()
            };
            let reason =
                format!("{kind:?} submission of {size} bytes, at most {limit} in this session");
            (stripped, Some(reason))
        } else {
            (sub, None)
        };
        let (reply, rx) = oneshot::channel();
        self.events
            .send(Event::Submitted {
                party,
                sub,
                reply,
                refused,
            })
            .await
            .map_err(|_| Status::unavailable("coordinator is shutting down"))?;
        match rx.await {
            Ok(Ok(())) => Ok(Response::new(Ack { accepted: true })),
            Ok(Err(reason)) => Err(Status::invalid_argument(reason)),
            Err(_) => Err(Status::unavailable("coordinator is shutting down")),
        }
    }
}

/// One round's summary (logged, and appended to the summary file).
#[derive(Clone, Debug, Serialize)]
pub struct RoundSummary {
    /// Round number.
    pub round: u64,
    /// Parties whose updates are in the sum.
    pub contributors: Vec<u32>,
    /// Contributions restored from the state directory after a restart.
    pub restored: usize,
    /// Parties dropped during the round (disconnected or timed out).
    pub dropped: Vec<u32>,
    /// Refused submissions (party, reason).
    pub rejected: Vec<(u32, String)>,
    /// The committee that decrypted.
    pub committee: Vec<u32>,
    /// Decryption attempts.
    pub attempts: u32,
    /// Bytes received (submissions).
    pub bytes_in: u64,
    /// Bytes sent (tasks).
    pub bytes_out: u64,
    /// Wall time of the round.
    pub secs: f64,
    /// Time until every update was in.
    pub collect_secs: f64,
    /// Time of threshold decryption.
    pub decrypt_secs: f64,
    /// Stated bound on the error of each coordinate of the sum.
    pub precision: f64,
}

#[derive(Serialize)]
struct RoundFile<'a> {
    round: u64,
    contributors: &'a [u32],
    committee: &'a [u32],
    precision: f64,
    sum: Vec<f64>,
}

struct Conn {
    conn: u64,
    tx: TaskSender,
}

enum Next {
    Sub(u32, Submission, Reply, Option<String>),
    Gone(u32),
    Joined,
    Deadline,
}

struct Collected<T> {
    accepted: BTreeMap<u32, T>,
    failed: BTreeSet<u32>,
    rejected: Vec<(u32, String)>,
}

enum Keys {
    Ckks(SessionKey),
    Paillier(Arc<PaillierSession>),
}

/// An update that passed every check of its round's server.
enum Checked {
    Ckks(CheckedUpdate),
    Paillier(pv::CheckedUpdate),
}

impl Checked {
    fn digest(&self) -> &[u8; 32] {
        match self {
            Self::Ckks(u) => u.digest(),
            Self::Paillier(u) => u.digest(),
        }
    }
}

enum RoundServer {
    Ckks(SessionKey, Box<Server>),
    Paillier(Arc<PaillierSession>, PaillierServer),
}

impl RoundServer {
    fn new(keys: &Keys, round: u64, len: usize) -> Result<Self> {
        Ok(match keys {
            Keys::Ckks(k) => Self::Ckks(k.clone(), Box::new(Server::new(k, round, len)?)),
            Keys::Paillier(s) => Self::Paillier(s.clone(), PaillierServer::new(s, round, len)?),
        })
    }

    /// Full validation (parsed once; nothing touches the aggregate),
    /// including the sender check: the update must name the authenticated
    /// party. The checked update is added with [`Self::add`].
    fn check(&self, party: u32, bytes: &[u8]) -> Result<Checked> {
        let r = match self {
            Self::Ckks(_, s) => s.check_update(party, bytes).map(Checked::Ckks),
            Self::Paillier(_, s) => s.check_update(party, bytes).map(Checked::Paillier),
        };
        r.map_err(|e| match e {
            ml_he::Error::WrongSender { claimed, .. } => Error::Refused {
                party,
                reason: format!("update submitted in the name of party {claimed}"),
            },
            e => e.into(),
        })
    }

    fn add(&mut self, update: Checked) -> Result<u32> {
        Ok(match (self, update) {
            (Self::Ckks(_, s), Checked::Ckks(u)) => s.add_checked(u)?,
            (Self::Paillier(_, s), Checked::Paillier(u)) => s.add_checked(u)?,
            _ => return Err(Error::Protocol("update checked for another scheme".into())),
        })
    }

    fn contributors(&self) -> Vec<u32> {
        match self {
            Self::Ckks(_, s) => s.contributors(),
            Self::Paillier(_, s) => s.contributors(),
        }
    }

    fn request(&mut self, committee: &[u32]) -> Result<Vec<u8>> {
        Ok(match self {
            Self::Ckks(_, s) => s.decryption_request(committee)?,
            Self::Paillier(_, s) => s.decryption_request()?,
        })
    }

    /// The identifier contribution sets are bound to.
    fn enc_id(&self) -> [u8; 32] {
        match self {
            Self::Ckks(k, _) => *k.id(),
            Self::Paillier(s, _) => *s.id(),
        }
    }

    /// The `(party, update digest)` list of the round.
    fn contribution_set(&self) -> Vec<(u32, [u8; 32])> {
        match self {
            Self::Ckks(_, s) => s.contribution_set(),
            Self::Paillier(_, s) => s.contribution_set(),
        }
    }

    /// Checks one decryption share against the request and its sender.
    fn check_share(&self, party: u32, request: &[u8], share: &[u8]) -> Result<()> {
        let p = match self {
            Self::Ckks(k, _) => decryption_share_sender(k, request, share)?,
            Self::Paillier(s, _) => pv::decryption_share_sender(s, request, share)?,
        };
        if p != party {
            return Err(Error::Refused {
                party,
                reason: format!("decryption share in the name of party {p}"),
            });
        }
        Ok(())
    }

    fn combine(&self, request: &[u8], shares: &[Vec<u8>]) -> Result<RoundResult> {
        Ok(match self {
            Self::Ckks(k, _) => combine(k, request, shares)?,
            Self::Paillier(s, _) => pv::combine(s, request, shares)?,
        })
    }
}

/// Refuses a key-generation share in the name of another party than the
/// authenticated sender (before it is aggregated or relayed).
fn check_sender(party: u32, named: threshold::PartyId, what: &str) -> Result<()> {
    if named.0 != party {
        return Err(Error::Refused {
            party,
            reason: format!("{what} in the name of party {}", named.0),
        });
    }
    Ok(())
}

fn block<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

struct Driver {
    cfg: SessionConfig,
    sid: [u8; 32],
    opts: CoordinatorOptions,
    store: Store,
    events: mpsc::Receiver<Event>,
    conns: BTreeMap<u32, Conn>,
    dropped: BTreeSet<u32>,
    hellos: BTreeMap<u32, Hello>,
    pending: BTreeMap<u32, Task>,
    key_id: Vec<u8>,
    joining: bool,
    bytes_in: u64,
    bytes_out: u64,
    rng: ChaCha20Rng,
    /// With `--misbehave-coordinator substitute-e2e-key` (tests): the
    /// coordinator's own key, relayed in place of this party's.
    substitute: Option<(u32, E2eKey)>,
    /// Each party's signature of its end-to-end key bound to the session.
    e2e_session: BTreeMap<u32, Vec<u8>>,
    /// Each party's signature of its public-key commitment.
    commit_sigs: BTreeMap<u32, Vec<u8>>,
}

impl Driver {
    fn alive(&self) -> BTreeSet<u32> {
        self.conns
            .keys()
            .copied()
            .filter(|p| !self.dropped.contains(p))
            .collect()
    }

    async fn send(&mut self, party: u32, task: Task) {
        self.bytes_out += task.size() as u64;
        self.pending.insert(party, task.clone());
        if let Some(c) = self.conns.get(&party) {
            if c.tx.send(Ok(task)).await.is_err() {
                debug!(party, "task stream closed");
            }
        }
    }

    async fn drop_party(&mut self, party: u32, reason: &str) {
        warn!(party, reason, "party dropped");
        self.dropped.insert(party);
        self.pending.remove(&party);
        if let Some(c) = self.conns.remove(&party) {
            let mut t = Task::new(Kind::Failed);
            t.info = format!("dropped from the session: {reason}");
            let _ = c.tx.try_send(Ok(t));
        }
    }

    async fn on_connect(&mut self, party: u32, conn: u64, hello: Hello, tx: TaskSender) {
        let refuse = |reason: String| {
            warn!(party, %reason, "connection refused");
            let mut t = Task::new(Kind::Failed);
            t.info = reason;
            let _ = tx.try_send(Ok(t));
        };
        if self.dropped.contains(&party) {
            return refuse("dropped from the session".into());
        }
        if !self.key_id.is_empty() && hello.key_id != self.key_id {
            return refuse(if hello.key_id.is_empty() {
                "the session's keys are generated and this party holds none (restarted party)"
                    .into()
            } else {
                "party holds another collective key".into()
            });
        }
        if hello.e2e_public.len() != 32 {
            return refuse(format!(
                "end-to-end public key of {} bytes",
                hello.e2e_public.len()
            ));
        }
        let again = self.conns.insert(party, Conn { conn, tx }).is_some()
            || self.hellos.contains_key(&party);
        info!(party, reconnect = again, "party connected");
        self.hellos.insert(party, hello);
        if let Some(t) = self.pending.get(&party).cloned() {
            if let Some(c) = self.conns.get(&party) {
                let _ = c.tx.send(Ok(t)).await;
            }
        }
    }

    async fn next(&mut self, deadline: Instant) -> Next {
        loop {
            let ev = match tokio::time::timeout_at(deadline.into(), self.events.recv()).await {
                Err(_) | Ok(None) => return Next::Deadline,
                Ok(Some(ev)) => ev,
            };
            match ev {
                Event::Connected {
                    party,
                    conn,
                    hello,
                    tx,
                } => {
                    self.on_connect(party, conn, hello, tx).await;
                    return Next::Joined;
                }
                Event::Disconnected { party, conn } => {
                    if self.conns.get(&party).map(|c| c.conn) == Some(conn) {
                        self.conns.remove(&party);
                        if self.joining {
                            info!(party, "party left before the session started");
                        } else if self.dropped.insert(party) {
                            warn!(party, "party disconnected: dropped");
                            return Next::Gone(party);
                        }
                    }
                }
                Event::Submitted {
                    party,
                    sub,
                    reply,
                    refused,
                } => {
                    if self.dropped.contains(&party) {
                        let _ = reply.send(Err("party was dropped from the session".into()));
                        continue;
                    }
                    self.bytes_in += sub.size() as u64;
                    return Next::Sub(party, sub, reply, refused);
                }
            }
        }
    }

    /// Waits for `need` live parties.
    async fn wait_for(&mut self, need: usize, what: &str) -> Result<()> {
        let deadline = Instant::now() + self.opts.join_timeout;
        self.joining = true;
        while self.alive().len() < need {
            match self.next(deadline).await {
                Next::Deadline => {
                    self.joining = false;
                    return Err(Error::TooFewParties {
                        what: what.into(),
                        alive: self.alive().len(),
                        need,
                    });
                }
                Next::Sub(party, _, reply, _) => {
                    warn!(party, "submission before any task: rejected");
                    let _ = reply.send(Err("no task is pending".into()));
                }
                Next::Gone(_) | Next::Joined => {}
            }
        }
        self.joining = false;
        Ok(())
    }

    /// Sends nothing; collects one submission of `kind` from each of
    /// `targets` until `deadline`. A party whose stream closes or who
    /// misses the deadline is dropped; an invalid submission is refused
    /// with its reason (logged) and excludes the party from this step.
    async fn collect<T>(
        &mut self,
        kind: Kind,
        round: u64,
        attempt: u32,
        targets: &BTreeSet<u32>,
        deadline: Instant,
        mut validate: impl FnMut(u32, &Submission) -> Result<T>,
    ) -> Collected<T> {
        let mut out = Collected {
            accepted: BTreeMap::new(),
            failed: BTreeSet::new(),
            rejected: Vec::new(),
        };
        let mut waiting = targets.clone();
        waiting.retain(|p| !self.dropped.contains(p));
        out.failed.extend(targets.difference(&waiting));
        while !waiting.is_empty() {
            match self.next(deadline).await {
                Next::Deadline => {
                    for p in std::mem::take(&mut waiting) {
                        self.drop_party(p, &format!("missed the {kind:?} deadline"))
                            .await;
                        out.failed.insert(p);
                    }
                }
                Next::Gone(p) => {
                    if waiting.remove(&p) {
                        out.failed.insert(p);
                    }
                }
                Next::Joined => {}
                Next::Sub(p, s, reply, refused) => {
                    let k = Kind::try_from(s.kind).unwrap_or(Kind::Unspecified);
                    if k != kind || s.round != round || s.attempt != attempt {
                        let reason = format!(
                            "unexpected {k:?} submission for round {} attempt {} \
                             (expecting {kind:?}, round {round}, attempt {attempt}): replayed or stale",
                            s.round, s.attempt
                        );
                        warn!(party = p, %reason, "submission rejected");
                        let _ = reply.send(Err(reason.clone()));
                        out.rejected.push((p, reason));
                        continue;
                    }
                    if !waiting.contains(&p) {
                        let reason = if targets.contains(&p) {
                            "duplicate submission (this step is already answered or refused)"
                        } else {
                            "submission from a party not asked in this step"
                        };
                        warn!(party = p, reason, "submission rejected");
                        let _ = reply.send(Err(reason.into()));
                        out.rejected.push((p, reason.into()));
                        continue;
                    }
                    waiting.remove(&p);
                    if let Some(reason) = refused {
                        let _ = reply.send(Err(reason.clone()));
                        out.failed.insert(p);
                        out.rejected.push((p, reason));
                        continue;
                    }
                    if !s.refusal.is_empty() {
                        let reason = format!("refused by the party: {}", s.refusal);
                        warn!(party = p, ?kind, round, %reason, "task refused");
                        let _ = reply.send(Ok(()));
                        out.failed.insert(p);
                        out.rejected.push((p, reason));
                        continue;
                    }
                    match validate(p, &s) {
                        Ok(v) => {
                            debug!(party = p, ?kind, round, bytes = s.size(), "accepted");
                            out.accepted.insert(p, v);
                            let _ = reply.send(Ok(()));
                        }
                        Err(e) => {
                            let reason = e.to_string();
                            warn!(party = p, ?kind, round, %reason, "submission rejected");
                            let _ = reply.send(Err(reason.clone()));
                            out.failed.insert(p);
                            out.rejected.push((p, reason));
                        }
                    }
                }
            }
        }
        out
    }

    fn all_parties(&self) -> BTreeSet<u32> {
        (1..=self.cfg.parties as u32).collect()
    }

    fn keygen_failed<T>(&self, step: &str, c: &Collected<T>) -> Result<()> {
        if c.accepted.len() == self.cfg.parties {
            return Ok(());
        }
        Err(Error::TooFewParties {
            what: format!(
                "key generation ({step}) needs every party; failed: {:?}, refused: {:?}",
                c.failed, c.rejected
            ),
            alive: c.accepted.len(),
            need: self.cfg.parties,
        })
    }

    async fn broadcast(&mut self, parties: &BTreeSet<u32>, task: &Task) {
        for &p in parties {
            self.send(p, task.clone()).await;
        }
    }

    fn phase_deadline(&self) -> Instant {
        Instant::now() + self.opts.phase_timeout
    }

    fn directory(&self) -> Vec<(u32, Vec<u8>)> {
        self.hellos
            .iter()
            .map(|(p, h)| (*p, h.e2e_public.clone()))
            .collect()
    }

    /// The directory of signed end-to-end key announcements relayed to
    /// `recipient` (each party verifies every entry).
    fn announcements(&self, recipient: u32) -> Vec<KeyAnnouncement> {
        self.hellos
            .iter()
            .map(|(&party, h)| {
                let mut e2e_public = h.e2e_public.clone();
                if let Some((victim, key)) = &self.substitute {
                    if *victim == party && recipient != party {
                        warn!(
                            party,
                            recipient,
                            "relaying the coordinator's own end-to-end key as this party's (test)"
                        );
                        e2e_public = key.public_bytes();
                    }
                }
                KeyAnnouncement {
                    party,
                    e2e_public,
                    cert: h.cert.clone(),
                    signature: h.e2e_signature.clone(),
                    session_signature: self.e2e_session.get(&party).cloned().unwrap_or_default(),
                }
            })
            .collect()
    }

    /// Sends `task` to each of `parties` with the directory of end-to-end keys.
    async fn send_with_directory(&mut self, parties: &BTreeSet<u32>, task: &Task) {
        for &p in parties {
            let mut t = task.clone();
            t.directory = self.announcements(p);
            self.send(p, t).await;
        }
    }

    /// With a substituted key (test): opens what it can of the boxes sealed
    /// to the victim, and says so (the parties' checks must prevent it).
    fn try_substituted(&self, sealed: &[Sealed], purpose: &str) {
        let Some((victim, key)) = &self.substitute else {
            return;
        };
        for b in sealed.iter().filter(|b| b.to == *victim) {
            let Some(h) = self.hellos.get(&b.from) else {
                continue;
            };
            if key.open(b, &h.e2e_public, &self.sid, purpose).is_ok() {
                error!(
                    from = b.from,
                    to = victim,
                    "the coordinator opened a box sealed to the substituted key (test)"
                );
            }
        }
    }

    fn session_task(&self) -> Result<Task> {
        let mut t = Task::new(Kind::Session);
        t.info = serde_json::to_string(&self.cfg).map_err(|e| Error::Protocol(e.to_string()))?;
        t.payload = self.sid.to_vec();
        Ok(t)
    }

    /// The verified certificates of the parties that said `Hello` (the
    /// coordinator's early check of signed statements; the parties check
    /// everything again themselves).
    fn peers(&self) -> Peers {
        let mut peers = Peers::default();
        for (&p, h) in &self.hellos {
            if !h.cert.is_empty() {
                peers.insert(p, h.cert.clone());
            }
        }
        peers
    }

    /// The session task, collecting each party's session-bound signature of
    /// its end-to-end key and (CKKS) its signed public-key commitment.
    async fn join_session(&mut self) -> Result<BTreeMap<u32, [u8; 32]>> {
        let all = self.all_parties();
        let task = self.session_task()?;
        self.send_with_directory(&all, &task).await;
        let dl = self.phase_deadline();
        let ckks = self.cfg.scheme == Scheme::Ckks;
        let peers = self.peers();
        let sid = self.sid;
        let hellos = self.hellos.clone();
        let c = self
            .collect(Kind::Session, 0, 0, &all, dl, |p, s| {
                let e2e = hellos
                    .get(&p)
                    .map(|h| h.e2e_public.clone())
                    .unwrap_or_default();
                let sig = s.blobs.first().cloned().unwrap_or_default();
                peers.verify(&sid, phase::E2E_KEY, 0, p, &sign::sha256(&e2e), &sig)?;
                let commit = if ckks {
                    let d = sign::as_digest(&s.payload, "public-key commitment")?;
                    peers.verify(&sid, phase::PK_COMMIT, 0, p, &d, &s.signature)?;
                    d
                } else {
                    [0; 32]
                };
                Ok((sig, commit, s.signature.clone()))
            })
            .await;
        self.keygen_failed("joining the session", &c)?;
        let mut commits = BTreeMap::new();
        for (p, (e2e_sig, commit, sig)) in c.accepted {
            self.e2e_session.insert(p, e2e_sig);
            commits.insert(p, commit);
            self.commit_sigs.insert(p, sig);
        }
        Ok(commits)
    }

    /// Collective key generation (CKKS): committed public-key shares, Shamir
    /// dealing, optional relinearization and Galois keys, each share signed
    /// by its party and relayed to every party, which recomputes every key.
    async fn keygen_ckks(&mut self, params: &Arc<AggregationParams>) -> Result<Keygen> {
        let all = self.all_parties();
        let rp = params.ckks().rlwe().clone();
        let t0 = Instant::now();
        let sid = self.sid;

        // Commitments first: no party sees another's share before it is
        // bound to its own.
        let commits = self.join_session().await?;
        let mut t = Task::new(Kind::PkShare);
        t.signed = commits
            .iter()
            .map(|(&p, c)| Signed {
                party: p,
                kind: Kind::PkShare as i32,
                payload: c.to_vec(),
                signature: self.commit_sigs.get(&p).cloned().unwrap_or_default(),
                round: 0,
            })
            .collect();
        self.broadcast(&all, &t).await;
        let dl = self.phase_deadline();
        let c = self
            .collect(Kind::PkShare, 0, 0, &all, dl, |p, s| {
                if commits.get(&p) != Some(&sign::sha256(&s.payload)) {
                    return Err(Error::Refused {
                        party: p,
                        reason: "public-key share does not match its commitment".into(),
                    });
                }
                let share = block(|| PublicKeyShare::from_bytes(&rp, &s.payload))?;
                check_sender(p, share.party(), "public-key share")?;
                Ok((share, s.payload.clone()))
            })
            .await;
        self.keygen_failed("public-key shares", &c)?;
        let mut pk_entries: Vec<Signed> = c
            .accepted
            .iter()
            .map(|(&p, (_, b))| Signed {
                party: p,
                kind: Kind::PkShare as i32,
                payload: b.clone(),
                ..Default::default()
            })
            .collect();
        let key = block(|| SessionKey::from_shares(params, c.accepted.into_values().map(|v| v.0)))?;
        info!(key = %hex(&key.id()[..8]), secs = t0.elapsed().as_secs_f64(), "collective public key");
        match self.opts.misbehave {
            Some(CoordinatorMisbehave::SubstituteKey) => {
                let victim = self.cfg.parties as u32;
                warn!(victim, "relaying a public-key share of the coordinator's own in this party's name (test)");
                let mut own = Client::new(params, victim, &mut self.rng)?;
                let share = own.public_key_share(&mut self.rng)?;
                if let Some(e) = pk_entries.iter_mut().find(|e| e.party == victim) {
                    e.payload = share.to_bytes();
                }
            }
            Some(CoordinatorMisbehave::DropKeyShare) => {
                let victim = self.cfg.parties as u32;
                warn!(victim, "leaving this party's public-key share out (test)");
                pk_entries.retain(|e| e.party != victim);
            }
            _ => {}
        }

        // Shamir dealing through the mailbox (sealed end to end); the task
        // carries every public-key share for the parties to recompute the key.
        let directory = self.directory();
        let mut t = Task::new(Kind::Deal);
        t.signed = pk_entries;
        self.send_with_directory(&all, &t).await;
        let n = self.cfg.parties as u32;
        let dl = self.phase_deadline();
        let c = self
            .collect(Kind::Deal, 0, 0, &all, dl, |p, s| {
                let mut to: BTreeSet<u32> = BTreeSet::new();
                for b in &s.sealed {
                    if b.from != p || b.to == p || b.to == 0 || b.to > n || !to.insert(b.to) {
                        return Err(Error::Refused {
                            party: p,
                            reason: format!("sealed dealing {} → {}", b.from, b.to),
                        });
                    }
                }
                if to.len() != n as usize - 1 {
                    return Err(Error::Refused {
                        party: p,
                        reason: format!("{} sealed dealings, expected {}", to.len(), n - 1),
                    });
                }
                Ok(s.sealed.clone())
            })
            .await;
        self.keygen_failed("Shamir dealing", &c)?;
        let boxes: Vec<Sealed> = c.accepted.into_values().flatten().collect();
        self.try_substituted(&boxes, crate::party::DEAL_PURPOSE);
        let mut mailbox: BTreeMap<u32, Vec<Sealed>> = BTreeMap::new();
        for b in boxes {
            mailbox.entry(b.to).or_default().push(b);
        }
        for &p in &all {
            let mut t = Task::new(Kind::Dealings);
            t.sealed = mailbox.remove(&p).unwrap_or_default();
            t.directory = self.announcements(p);
            self.send(p, t).await;
        }
        let dl = self.phase_deadline();
        let c = self
            .collect(Kind::Dealings, 0, 0, &all, dl, |_, _| Ok(()))
            .await;
        self.keygen_failed("receiving dealings", &c)?;
        info!(secs = t0.elapsed().as_secs_f64(), "Shamir dealing done");

        let mut keys = PersistedKeys {
            ckks_key: key.to_bytes(),
            directory,
            ..Default::default()
        };
        // Signed evaluation-key shares relayed in the key task.
        let mut relay: Vec<Signed> = Vec::new();
        let peers = self.peers();

        if self.cfg.relin {
            let t1 = Instant::now();
            self.broadcast(&all, &Task::new(Kind::Relin1)).await;
            let dl = self.phase_deadline();
            let c = self
                .collect(Kind::Relin1, 0, 0, &all, dl, |p, s| {
                    peers.verify(
                        &sid,
                        phase::RELIN1,
                        0,
                        p,
                        &sign::sha256(&s.payload),
                        &s.signature,
                    )?;
                    let share = block(|| RelinRound1Share::from_bytes(&rp, &s.payload))?;
                    check_sender(p, share.party(), "relinearization round-1 share")?;
                    Ok((share, signed_entry(p, Kind::Relin1, s)))
                })
                .await;
            self.keygen_failed("relinearization round 1", &c)?;
            let (shares, entries): (Vec<_>, Vec<_>) = c.accepted.into_values().unzip();
            let round1 = block(|| aggregate_relin_round1(params, shares))?;
            let mut t = Task::new(Kind::Relin2);
            t.signed = entries;
            self.broadcast(&all, &t).await;
            let dl = self.phase_deadline();
            let c = self
                .collect(Kind::Relin2, 0, 0, &all, dl, |p, s| {
                    peers.verify(
                        &sid,
                        phase::RELIN2,
                        0,
                        p,
                        &sign::sha256(&s.payload),
                        &s.signature,
                    )?;
                    let share = block(|| RelinRound2Share::from_bytes(&rp, &s.payload))?;
                    check_sender(p, share.party(), "relinearization round-2 share")?;
                    Ok((share, signed_entry(p, Kind::Relin2, s)))
                })
                .await;
            self.keygen_failed("relinearization round 2", &c)?;
            let (shares, entries): (Vec<_>, Vec<_>) = c.accepted.into_values().unzip();
            relay.extend(entries);
            let rk = block(|| -> Result<_> {
                Ok(finish_relin_key(params, round1, shares)?.to_bytes())
            })?;
            info!(
                bytes = rk.len(),
                secs = t1.elapsed().as_secs_f64(),
                "collective relinearization key"
            );
            keys.relin = Some(rk);
        }

        if !self.cfg.galois.is_empty() {
            let t1 = Instant::now();
            let elements = self.cfg.galois_elements();
            let mut t = Task::new(Kind::Galois);
            t.ids = elements.iter().map(|&e| e as u32).collect();
            self.broadcast(&all, &t).await;
            let dl = self.phase_deadline();
            let ne = elements.len();
            let c = self
                .collect(Kind::Galois, 0, 0, &all, dl, |p, s| {
                    peers.verify(
                        &sid,
                        phase::GALOIS,
                        0,
                        p,
                        &sign::sha256(&s.payload),
                        &s.signature,
                    )?;
                    let bundle: Bundle =
                        prost::Message::decode(s.payload.as_slice()).map_err(|e| {
                            Error::Malformed {
                                what: "Galois-key shares",
                                reason: e.to_string(),
                            }
                        })?;
                    if bundle.blobs.len() != ne {
                        return Err(Error::Refused {
                            party: p,
                            reason: format!(
                                "{} Galois shares for {ne} elements",
                                bundle.blobs.len()
                            ),
                        });
                    }
                    let shares = block(|| {
                        bundle
                            .blobs
                            .iter()
                            .map(|b| Ok(GaloisKeyShare::from_bytes(&rp, b)?))
                            .collect::<Result<Vec<_>>>()
                    })?;
                    for (share, &e) in shares.iter().zip(&elements) {
                        check_sender(p, share.party(), "Galois-key share")?;
                        if share.element() != e {
                            return Err(Error::Refused {
                                party: p,
                                reason: format!(
                                    "Galois-key share for element {}, expected {e}",
                                    share.element()
                                ),
                            });
                        }
                    }
                    Ok((shares, signed_entry(p, Kind::Galois, s)))
                })
                .await;
            self.keygen_failed("Galois keys", &c)?;
            let (shares, entries): (Vec<_>, Vec<_>) = c.accepted.into_values().unzip();
            relay.extend(entries);
            let gk = block(|| finish_galois_keys(params, shares.into_iter().flatten()))?;
            keys.galois_elements = elements.iter().map(|&e| e as u64).collect();
            let bytes = gk.to_bytes();
            info!(
                elements = ?elements,
                bytes = bytes.len(),
                secs = t1.elapsed().as_secs_f64(),
                "collective Galois keys"
            );
            keys.galois = Some(bytes);
        }
        Ok(Keygen { keys, relay })
    }

    /// Threshold Paillier dealing by the dealer party.
    async fn keygen_paillier(&mut self) -> Result<Keygen> {
        let all = self.all_parties();
        self.join_session().await?;
        let directory = self.directory();
        let dealer = self.cfg.dealer;
        self.send_with_directory(&BTreeSet::from([dealer]), &Task::new(Kind::PaillierDeal))
            .await;
        let n = self.cfg.parties as u32;
        let cfg = self.cfg.clone();
        let only = BTreeSet::from([dealer]);
        let dl = self.phase_deadline();
        let c = self
            .collect(Kind::PaillierDeal, 0, 0, &only, dl, |p, s| {
                let params = threshold::paillier::PublicParams::from_bytes(&s.payload)?;
                cfg.paillier_session(params)?;
                let to: BTreeSet<u32> = s.sealed.iter().map(|b| b.to).collect();
                if s.sealed.iter().any(|b| b.from != p || b.to == p)
                    || to.len() != n as usize - 1
                    || to.iter().any(|&x| x == 0 || x > n)
                {
                    return Err(Error::Refused {
                        party: p,
                        reason: "sealed key shares do not address every other party once".into(),
                    });
                }
                Ok((s.payload.clone(), s.sealed.clone()))
            })
            .await;
        let Some((params, sealed)) = c.accepted.into_values().next() else {
            return Err(Error::Protocol(format!(
                "the Paillier dealer (party {dealer}) did not deal: {:?}",
                c.rejected
            )));
        };
        self.try_substituted(&sealed, crate::party::PAILLIER_PURPOSE);
        for &p in &all {
            let mut t = Task::new(Kind::PaillierKey);
            t.payload = params.clone();
            t.sealed = sealed.iter().filter(|b| b.to == p).cloned().collect();
            t.directory = self.announcements(p);
            self.send(p, t).await;
        }
        let dl = self.phase_deadline();
        let c = self
            .collect(Kind::PaillierKey, 0, 0, &all, dl, |_, _| Ok(()))
            .await;
        self.keygen_failed("receiving Paillier key shares", &c)?;
        Ok(Keygen {
            keys: PersistedKeys {
                paillier_params: params,
                directory,
                ..Default::default()
            },
            relay: Vec::new(),
        })
    }

    /// Every party recomputes the collective keys from the relayed signed
    /// shares and signs their id; the acknowledgements of all `n` are then
    /// relayed to every party, which installs the key only if all agree.
    async fn confirm_keys(&mut self, relay: Vec<Signed>) -> Result<()> {
        let all = self.all_parties();
        let mut t = Task::new(Kind::Key);
        t.payload = self.key_id.clone();
        t.signed = relay;
        self.broadcast(&all, &t).await;
        let dl = self.phase_deadline();
        let key_id = self.key_id.clone();
        let peers = self.peers();
        let sid = self.sid;
        let c = self
            .collect(Kind::Key, 0, 0, &all, dl, |p, s| {
                if s.payload != key_id {
                    return Err(Error::Refused {
                        party: p,
                        reason: "acknowledged another collective key".into(),
                    });
                }
                let d = sign::as_digest(&s.payload, "key id")?;
                peers.verify(&sid, phase::KEY_ACK, 0, p, &d, &s.signature)?;
                Ok(signed_entry(p, Kind::Key, s))
            })
            .await;
        self.keygen_failed("acknowledging the collective key", &c)?;
        let mut t = Task::new(Kind::Confirm);
        t.signed = c.accepted.into_values().collect();
        self.broadcast(&all, &t).await;
        let dl = self.phase_deadline();
        let c = self
            .collect(Kind::Confirm, 0, 0, &all, dl, |_, _| Ok(()))
            .await;
        self.keygen_failed("confirming the collective key", &c)?;
        Ok(())
    }

    fn load_keys(&self, k: &PersistedKeys) -> Result<Keys> {
        Ok(match self.cfg.scheme {
            Scheme::Ckks => {
                let params = self.cfg.aggregation_params()?;
                Keys::Ckks(SessionKey::from_bytes(&params, &k.ckks_key)?)
            }
            Scheme::Paillier => {
                let p = threshold::paillier::PublicParams::from_bytes(&k.paillier_params)?;
                Keys::Paillier(self.cfg.paillier_session(p)?)
            }
        })
    }

    fn key_id(&self, keys: &Keys, k: &PersistedKeys) -> Vec<u8> {
        let enc = match keys {
            Keys::Ckks(key) => *key.id(),
            Keys::Paillier(_) => sign::sha256(&k.paillier_params),
        };
        collective_key_id(&self.sid, &enc, k.relin.as_deref(), k.galois.as_deref()).to_vec()
    }

    fn summary_line(&self, line: &str) {
        if let Some(path) = &self.opts.summary_file {
            let r = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .and_then(|mut f| writeln!(f, "{line}"));
            if let Err(e) = r {
                warn!(error = %e, "cannot write the summary file");
            }
        }
    }

    async fn run(&mut self) -> Result<()> {
        let start = Instant::now();
        let keys = match self.store.keys()? {
            Some(k) => {
                let keys = self.load_keys(&k)?;
                self.key_id = self.key_id(&keys, &k);
                info!(
                    key = %hex(&self.key_id[..8]),
                    "resuming: keys restored from the state directory; waiting for the parties to rejoin"
                );
                let n = self.cfg.parties;
                if let Err(e) = self.wait_for(n, "rejoining").await {
                    warn!(error = %e, "not every party rejoined; going on with the live ones");
                }
                for (p, h) in &k.directory {
                    self.hellos.entry(*p).or_insert_with(|| Hello {
                        e2e_public: h.clone(),
                        ..Default::default()
                    });
                }
                // The live parties say they still hold the confirmed key.
                let mut kt = Task::new(Kind::Key);
                kt.payload = self.key_id.clone();
                let alive = self.alive();
                self.broadcast(&alive, &kt).await;
                let dl = self.phase_deadline();
                let key_id = self.key_id.clone();
                let c = self
                    .collect(Kind::Key, 0, 0, &alive, dl, |p, s| {
                        if s.payload != key_id {
                            return Err(Error::Refused {
                                party: p,
                                reason: "acknowledged another key".into(),
                            });
                        }
                        Ok(())
                    })
                    .await;
                if !c.failed.is_empty() {
                    warn!(failed = ?c.failed, "parties failed to acknowledge the key");
                }
                keys
            }
            None => {
                let n = self.cfg.parties;
                self.wait_for(n, "joining (key generation needs every party)")
                    .await?;
                info!(parties = n, "all parties joined; key generation");
                let t0 = Instant::now();
                let kg = match self.cfg.scheme {
                    Scheme::Ckks => {
                        let params = self.cfg.aggregation_params()?;
                        self.keygen_ckks(&params).await?
                    }
                    Scheme::Paillier => self.keygen_paillier().await?,
                };
                let keys = self.load_keys(&kg.keys)?;
                self.key_id = self.key_id(&keys, &kg.keys);
                self.confirm_keys(kg.relay).await?;
                self.store.save_keys(&kg.keys)?;
                let secs = t0.elapsed().as_secs_f64();
                info!(
                    key = %hex(&self.key_id[..8]),
                    secs,
                    bytes_in = self.bytes_in,
                    bytes_out = self.bytes_out,
                    "key generation done: every party recomputed and confirmed the collective keys"
                );
                self.summary_line(
                    &serde_json::json!({"keygen_secs": secs, "bytes_in": self.bytes_in, "bytes_out": self.bytes_out})
                        .to_string(),
                );
                keys
            }
        };

        for round in 0..self.cfg.rounds {
            if self.store.round_done(round) {
                info!(round, "round already done (state directory)");
                continue;
            }
            self.round(&keys, round).await?;
        }
        let alive = self.alive();
        let mut done = Task::new(Kind::Done);
        done.info = format!("{} rounds done", self.cfg.rounds);
        self.broadcast(&alive, &done).await;
        let secs = start.elapsed().as_secs_f64();
        info!(
            secs,
            bytes_in = self.bytes_in,
            bytes_out = self.bytes_out,
            "session done"
        );
        self.summary_line(
            &serde_json::json!({"done": true, "secs": secs, "bytes_in": self.bytes_in, "bytes_out": self.bytes_out})
                .to_string(),
        );
        Ok(())
    }

    /// Asks every contributor to approve the round's contributor set;
    /// returns the approvals (signed entries) if every contributor approved.
    async fn approve(
        &mut self,
        round: u64,
        set: &[(u32, [u8; 32])],
        enc_id: &[u8; 32],
        rejected: &mut Vec<(u32, String)>,
    ) -> std::result::Result<Vec<Signed>, String> {
        let digest = contribution_set_digest(enc_id, round, set);
        let mut task = Task::new(Kind::Approve);
        task.round = round;
        task.ids = set.iter().map(|(p, _)| *p).collect();
        task.blobs = set.iter().map(|(_, d)| d.to_vec()).collect();
        let targets: BTreeSet<u32> = task.ids.iter().copied().collect();
        self.broadcast(&targets, &task).await;
        let deadline = Instant::now() + self.opts.round_timeout;
        let peers = self.peers();
        let sid = self.sid;
        let c = self
            .collect(Kind::Approve, round, 0, &targets, deadline, |p, s| {
                if s.payload != digest {
                    return Err(Error::Refused {
                        party: p,
                        reason: "approved another contributor set".into(),
                    });
                }
                if peers.knows(p) {
                    peers.verify(&sid, phase::APPROVE, round, p, &digest, &s.signature)?;
                }
                Ok(signed_entry(p, Kind::Approve, s))
            })
            .await;
        rejected.extend(c.rejected);
        if !c.failed.is_empty() {
            return Err(format!(
                "contributor(s) {:?} did not approve the contributor set; a smaller set would \
                 need a second approval of the others, which they refuse (each sum is released once)",
                c.failed
            ));
        }
        Ok(c.accepted.into_values().collect())
    }

    async fn round(&mut self, keys: &Keys, round: u64) -> Result<()> {
        let t0 = Instant::now();
        let (in0, out0) = (self.bytes_in, self.bytes_out);
        let len = self.cfg.len;
        let t = self.cfg.threshold;
        let mut server = RoundServer::new(keys, round, len)?;
        let mut signatures: BTreeMap<u32, Signed> = BTreeMap::new();
        let mut restored = 0;
        for (p, record) in self.store.contributions(round)? {
            let r = Signed::decode(record.as_slice())
                .map_err(|e| Error::Malformed {
                    what: "persisted update",
                    reason: e.to_string(),
                })
                .and_then(|sg| {
                    let u = block(|| server.check(p, &sg.payload))?;
                    Ok((u, sg))
                })
                .and_then(|(u, sg)| {
                    server.add(u)?;
                    Ok(sg)
                });
            match r {
                Ok(sg) => {
                    restored += 1;
                    signatures.insert(p, sg);
                }
                Err(e) => warn!(round, party = p, error = %e, "persisted update refused on reload"),
            }
        }
        if restored > 0 {
            info!(round, restored, contributors = ?server.contributors(), "restored persisted updates");
        }
        let dropped_before = self.dropped.clone();
        let have: BTreeSet<u32> = server.contributors().into_iter().collect();
        let targets: BTreeSet<u32> = self.alive().difference(&have).copied().collect();
        let mut task = Task::new(Kind::Update);
        task.round = round;
        task.len = len as u64;
        self.broadcast(&targets, &task).await;
        let deadline = Instant::now() + self.opts.round_timeout;
        let store = self.store.clone();
        let nt = targets.len() + have.len();
        let peers = self.peers();
        let sid = self.sid;
        let c = self
            .collect(Kind::Update, round, 0, &targets, deadline, |p, s| {
                let update = block(|| server.check(p, &s.payload))?;
                if peers.knows(p) {
                    peers.verify(&sid, phase::UPDATE, round, p, update.digest(), &s.signature)?;
                }
                let entry = Signed {
                    party: p,
                    kind: Kind::Update as i32,
                    payload: s.payload.clone(),
                    signature: s.signature.clone(),
                    round,
                };
                store.append_contribution(round, p, &entry.encode_to_vec())?;
                block(|| server.add(update))?;
                info!(
                    round,
                    party = p,
                    bytes = s.payload.len(),
                    have = server.contributors().len(),
                    asked = nt,
                    "update accepted"
                );
                Ok(entry)
            })
            .await;
        signatures.extend(c.accepted);
        let mut rejected = c.rejected;
        let contributors = server.contributors();
        let collect_secs = t0.elapsed().as_secs_f64();
        info!(round, contributors = ?contributors, secs = collect_secs, "updates collected");
        if contributors.len() < self.cfg.min_contributors {
            return Err(Error::TooFewParties {
                what: format!("round {round}: contributions"),
                alive: contributors.len(),
                need: self.cfg.min_contributors,
            });
        }

        // Every contributor approves the set (once per round).
        let set = server.contribution_set();
        let enc_id = server.enc_id();
        let approvals = match self.approve(round, &set, &enc_id, &mut rejected).await {
            Ok(a) => a,
            Err(reason) => {
                warn!(round, %reason, "round not released");
                self.store
                    .write_atomic(&format!("round-{round}.skipped"), reason.as_bytes())?;
                self.store.remove_log(round);
                self.summary_line(
                    &serde_json::json!({"round": round, "released": false, "reason": reason})
                        .to_string(),
                );
                return Ok(());
            }
        };
        // What every committee member checks: each update signed by its
        // party, and every contributor's approval of this exact set.
        let mut evidence: Vec<Signed> = set
            .iter()
            .filter_map(|(p, d)| {
                signatures.get(p).map(|sg| Signed {
                    payload: d.to_vec(),
                    ..sg.clone()
                })
            })
            .collect();
        evidence.extend(approvals);

        if self.opts.misbehave == Some(CoordinatorMisbehave::ForgeContributor) && round == 0 {
            self.forge_contributor(keys, round, &set, &evidence, &mut rejected)
                .await?;
        }

        // Threshold decryption by a committee of t live parties.
        let t1 = Instant::now();
        let mut excluded: BTreeSet<u32> = BTreeSet::new();
        let mut attempts = 0u32;
        let (result, committee) = loop {
            let alive: Vec<u32> = self
                .alive()
                .into_iter()
                .filter(|p| !excluded.contains(p))
                .collect();
            if alive.len() < t {
                return Err(Error::TooFewParties {
                    what: format!("round {round}: threshold decryption"),
                    alive: alive.len(),
                    need: t,
                });
            }
            if attempts >= MAX_ATTEMPTS {
                return Err(Error::Protocol(format!(
                    "round {round}: threshold decryption failed after {attempts} attempts"
                )));
            }
            let committee: Vec<u32> = alive[..t].to_vec();
            let request = block(|| server.request(&committee))?;
            let attempt = attempts;
            attempts += 1;
            let mut task = Task::new(Kind::Decrypt);
            task.round = round;
            task.attempt = attempt;
            task.payload = request.clone();
            task.ids = committee.clone();
            task.signed = evidence.clone();
            let cset: BTreeSet<u32> = committee.iter().copied().collect();
            self.broadcast(&cset, &task).await;
            let deadline = Instant::now() + self.opts.round_timeout;
            let srv = &server;
            let c = self
                .collect(Kind::Decrypt, round, attempt, &cset, deadline, |p, s| {
                    block(|| srv.check_share(p, &request, &s.payload))?;
                    Ok(s.payload.clone())
                })
                .await;
            rejected.extend(c.rejected);
            if !c.failed.is_empty() {
                warn!(round, attempt, failed = ?c.failed, "committee member(s) failed or refused; new committee");
                excluded.extend(&c.failed);
                continue;
            }
            let shares: Vec<Vec<u8>> = c.accepted.into_values().collect();
            match block(|| server.combine(&request, &shares)) {
                Ok(r) => break (r, committee),
                Err(e) => {
                    warn!(round, attempt, error = %e, "combination failed; new committee");
                    if let Some(first) = committee.first() {
                        excluded.insert(*first);
                    }
                }
            }
        };
        let decrypt_secs = t1.elapsed().as_secs_f64();
        let k = result.contributors.len() as f64;
        let sum: Vec<f64> = result.average.iter().map(|x| x * k).collect();
        let precision = result.precision * k;
        let file = RoundFile {
            round,
            contributors: &result.contributors,
            committee: &committee,
            precision,
            sum,
        };
        let json = serde_json::to_vec(&file).map_err(|e| Error::Protocol(e.to_string()))?;
        self.store
            .write_atomic(&format!("round-{round}.json"), &json)?;

        let mut rt = Task::new(Kind::Result);
        rt.round = round;
        rt.ids = result.contributors.clone();
        rt.payload = file.sum.iter().flat_map(|x| x.to_le_bytes()).collect();
        rt.info = serde_json::json!({"precision": precision, "committee": committee}).to_string();
        let alive = self.alive();
        self.broadcast(&alive, &rt).await;

        if self.opts.misbehave == Some(CoordinatorMisbehave::RepeatDecryption) && round == 0 {
            self.repeat_decryption(keys, round, &set, &evidence, &committee, &mut rejected)
                .await?;
        }
        // The round is done (its result written): its update log is no
        // longer needed.
        self.store.remove_log(round);

        let summary = RoundSummary {
            round,
            contributors: result.contributors.clone(),
            restored,
            dropped: self.dropped.difference(&dropped_before).copied().collect(),
            rejected,
            committee,
            attempts,
            bytes_in: self.bytes_in - in0,
            bytes_out: self.bytes_out - out0,
            secs: t0.elapsed().as_secs_f64(),
            collect_secs,
            decrypt_secs,
            precision,
        };
        info!(
            round,
            contributors = ?summary.contributors,
            dropped = ?summary.dropped,
            committee = ?summary.committee,
            attempts = summary.attempts,
            bytes_in = summary.bytes_in,
            bytes_out = summary.bytes_out,
            secs = summary.secs,
            collect_secs,
            decrypt_secs,
            "round done"
        );
        if let Ok(line) = serde_json::to_string(&summary) {
            self.summary_line(&line);
        }
        Ok(())
    }

    /// Test misbehaviour: asks the first `t` live parties to decrypt a
    /// "sum" of the first contributor's real update and a zero encrypted in
    /// the second contributor's name, with the evidence of the real set.
    /// Honest committee members refuse; the coordinator logs what they said.
    async fn forge_contributor(
        &mut self,
        keys: &Keys,
        round: u64,
        set: &[(u32, [u8; 32])],
        evidence: &[Signed],
        rejected: &mut Vec<(u32, String)>,
    ) -> Result<()> {
        let (Keys::Ckks(key), [(victim, _), (other, _), ..]) = (keys, set) else {
            return Ok(());
        };
        let real = evidence
            .iter()
            .find(|e| e.party == *victim && e.kind == Kind::Update as i32)
            .and_then(|_| self.store.contributions(round).ok())
            .and_then(|c| c.into_iter().find(|(p, _)| p == victim))
            .and_then(|(_, rec)| Signed::decode(rec.as_slice()).ok())
            .map(|s| s.payload);
        let Some(real) = real else {
            return Ok(());
        };
        warn!(victim, other, "asking for the decryption of party {victim}'s update next to a zero forged in party {other}'s name (test)");
        let zero = vec![0.0; self.cfg.len];
        let forged = key.encrypt_update(*other, round, &zero, &mut self.rng)?;
        let mut fake = Server::new(key, round, self.cfg.len)?;
        fake.add(&real)?;
        fake.add(&forged)?;
        let committee: Vec<u32> = self.alive().into_iter().take(self.cfg.threshold).collect();
        let request = fake.decryption_request(&committee)?;
        self.illegitimate_request(
            round,
            request,
            &committee,
            evidence,
            "the forged sum",
            rejected,
        )
        .await;
        Ok(())
    }

    /// Test misbehaviours: sends a request the parties must refuse and
    /// logs whether every committee member did.
    async fn illegitimate_request(
        &mut self,
        round: u64,
        request: Vec<u8>,
        committee: &[u32],
        evidence: &[Signed],
        what: &str,
        rejected: &mut Vec<(u32, String)>,
    ) {
        let mut task = Task::new(Kind::Decrypt);
        task.round = round;
        task.attempt = 0;
        task.payload = request;
        task.ids = committee.to_vec();
        task.signed = evidence.to_vec();
        let cset: BTreeSet<u32> = committee.iter().copied().collect();
        self.broadcast(&cset, &task).await;
        let deadline = Instant::now() + self.opts.round_timeout;
        let c = self
            .collect(Kind::Decrypt, round, 0, &cset, deadline, |_, _| Ok(()))
            .await;
        if c.accepted.is_empty() {
            warn!(round, refusals = ?c.rejected, "every committee member refused {what} (test)");
        } else {
            error!(round, shares = ?c.accepted.keys(), "decryption shares of {what} (test)");
        }
        rejected.extend(c.rejected);
    }

    /// Test misbehaviour: after the round was released, asks the committee
    /// to decrypt a second sum of the same round (all contributors but the
    /// last), with the evidence it has. Honest members refuse.
    async fn repeat_decryption(
        &mut self,
        keys: &Keys,
        round: u64,
        set: &[(u32, [u8; 32])],
        evidence: &[Signed],
        committee: &[u32],
        rejected: &mut Vec<(u32, String)>,
    ) -> Result<()> {
        let Some(((last, _), rest)) = set.split_last() else {
            return Ok(());
        };
        warn!(
            round,
            left_out = last,
            "asking for a second sum of the same round (test)"
        );
        let mut fake = RoundServer::new(keys, round, self.cfg.len)?;
        for (p, rec) in self.store.contributions(round)? {
            if rest.iter().any(|(q, _)| *q == p) {
                if let Ok(sg) = Signed::decode(rec.as_slice()) {
                    let u = block(|| fake.check(p, &sg.payload))?;
                    fake.add(u)?;
                }
            }
        }
        let request = block(|| fake.request(committee))?;
        self.illegitimate_request(
            round,
            request,
            committee,
            evidence,
            "a second sum of the round",
            rejected,
        )
        .await;
        Ok(())
    }
}

/// Runs the coordinator until the session ends. Errors name the step that
/// failed (for instance too few live parties for threshold decryption).
pub async fn run(opts: CoordinatorOptions) -> Result<()> {
    let store = Store::open(&opts.state_dir)?;
    let cfg = match store.session()? {
        Some(saved) => {
            let mut want = opts.config.clone();
            if want.seed.is_empty() {
                want.seed = saved.seed.clone();
            }
            if saved != want {
                return Err(Error::config(format!(
                    "the state directory {} holds another session; use a fresh --state-dir",
                    opts.state_dir.display()
                )));
            }
            info!("resuming the session saved in the state directory");
            saved
        }
        None => {
            let mut c = opts.config.clone();
            if c.seed.is_empty() {
                let mut s = [0u8; 32];
                rand::RngCore::fill_bytes(&mut ChaCha20Rng::from_entropy(), &mut s);
                c.seed = hex(&s);
            }
            c.validate()?;
            store.save_session(&c)?;
            c
        }
    };
    cfg.validate()?;
    let sid = cfg.id();

    let listener = tokio::net::TcpListener::bind(opts.listen).await?;
    let addr = listener.local_addr()?;
    if let Some(pf) = &opts.port_file {
        let tmp = pf.with_extension("tmp");
        std::fs::write(&tmp, addr.to_string())?;
        std::fs::rename(&tmp, pf)?;
    }
    info!(%addr, session = %hex(&sid[..8]), scheme = ?cfg.scheme, parties = cfg.parties, threshold = cfg.threshold, rounds = cfg.rounds, len = cfg.len, "coordinator listening");

    let tls = ServerTlsConfig::new()
        .identity(Identity::from_pem(
            std::fs::read(&opts.cert)?,
            std::fs::read(&opts.key)?,
        ))
        .client_ca_root(Certificate::from_pem(std::fs::read(&opts.ca)?));
    let (etx, erx) = mpsc::channel(1024);
    let svc = CoordinatorServer::with_gate(
        Arc::new(Svc {
            events: etx,
            parties: cfg.parties as u32,
            next_conn: AtomicU64::new(1),
            ca: SessionCa::from_pem(&std::fs::read(&opts.ca)?)?,
            limits: Limits::new(&cfg)?,
        }),
        Gate::new(cfg.parties as u32, MAX_IN_FLIGHT),
    );
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let server = tonic::transport::Server::builder()
        .tls_config(tls)?
        .http2_keepalive_interval(Some(Duration::from_secs(10)))
        .http2_keepalive_timeout(Some(Duration::from_secs(20)))
        .max_concurrent_streams(MAX_STREAMS)
        .serve_with_incoming_shutdown(
            svc,
            tonic::transport::server::TcpIncoming::from(listener),
            async {
                let _ = stop_rx.await;
            },
        );
    let server = tokio::spawn(server);

    let mut driver = Driver {
        cfg,
        sid,
        opts,
        store,
        events: erx,
        conns: BTreeMap::new(),
        dropped: BTreeSet::new(),
        hellos: BTreeMap::new(),
        pending: BTreeMap::new(),
        key_id: Vec::new(),
        joining: false,
        bytes_in: 0,
        bytes_out: 0,
        rng: ChaCha20Rng::from_entropy(),
        substitute: None,
        e2e_session: BTreeMap::new(),
        commit_sigs: BTreeMap::new(),
    };
    if driver.opts.misbehave == Some(CoordinatorMisbehave::SubstituteE2eKey) {
        let victim = driver.cfg.parties as u32;
        warn!(
            victim,
            "will substitute this party's end-to-end key with the coordinator's (test)"
        );
        driver.substitute = Some((victim, E2eKey::generate(victim, &mut driver.rng)));
    }
    let result = driver.run().await;
    if let Err(e) = &result {
        error!(error = %e, "session failed");
        let mut t = Task::new(Kind::Failed);
        t.info = format!("session failed: {e}");
        let alive = driver.alive();
        driver.broadcast(&alive, &t).await;
        driver
            .summary_line(&serde_json::json!({"done": false, "error": e.to_string()}).to_string());
    }
    // Let the parties read their last task, then stop.
    let grace = Instant::now() + Duration::from_secs(2);
    while !driver.conns.is_empty() {
        match tokio::time::timeout_at(grace.into(), driver.events.recv()).await {
            Ok(Some(Event::Disconnected { party, conn })) => {
                if driver.conns.get(&party).map(|c| c.conn) == Some(conn) {
                    driver.conns.remove(&party);
                }
            }
            Ok(Some(Event::Submitted { reply, .. })) => {
                let _ = reply.send(Err("the session is over".into()));
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break,
        }
    }
    driver.conns.clear();
    driver.pending.clear();
    let _ = stop_tx.send(());
    let _ = tokio::time::timeout(Duration::from_secs(3), server).await;
    result
}
