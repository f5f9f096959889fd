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

mod keygen;
mod round;
mod service;

pub use round::RoundSummary;
use round::*;
use service::*;

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
