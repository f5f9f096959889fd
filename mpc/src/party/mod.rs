//! A party: input party (encrypts its update), key holder (its secret and
//! its Shamir share, or its threshold Paillier key share, never leave the
//! process) and decryption-committee member.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ml_he::aggregation::paillier_variant::{self as pv, PaillierSession};
use ml_he::aggregation::{
    aggregate_relin_round1, contribution_set_digest, finish_galois_keys, finish_relin_key,
    inspect_request, update_digest, AggregationParams, Client, RequestInfo, SessionKey,
};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use threshold::paillier::{KeyShare, PublicParams};
use threshold::{
    GaloisKeyShare, PublicKeyShare, RelinEphemeral, RelinKeyRound1, RelinRound1Share,
    RelinRound2Share, SecretShareMessage,
};
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};
use tracing::{debug, info, warn};
use zeroize::Zeroizing;

use crate::certs::SessionCa;
use crate::e2e::{verify_announcement, E2eKey, KeySigner};
use crate::input::{Input, InputSource};
use crate::proto::{Bundle, CoordinatorClient, Hello, KeyAnnouncement, Kind, Submission, Task};
use crate::session::{collective_key_id, hex, Policy, Scheme, SessionConfig};
use crate::sign::{self, phase, Content, Peers};
use crate::{Error, Result};

mod keygen;
mod round;

pub(crate) const DEAL_PURPOSE: &str = "shamir-dealing";
pub(crate) const PAILLIER_PURPOSE: &str = "paillier-key-share";

/// Deliberate misbehaviour, for tests of the coordinator's input checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Misbehave {
    /// Random bytes instead of the encrypted update.
    Garbage,
    /// The previous round's update again.
    Replay,
    /// An update encrypted under another collective key.
    WrongKey,
    /// An update in another party's name.
    Impersonate,
    /// The update twice.
    Duplicate,
    /// Random bytes instead of the decryption share.
    BadShare,
    /// Galois-key shares made in another party's name (key generation).
    ImpersonateKeygen,
    /// A `Hello` announcing another X25519 key than the signed one.
    ForgeE2eKey,
    /// Refuses to approve the round's contributor set (as a party that dies
    /// between submitting and approving).
    NoApprove,
    /// An update padded with 8 MiB of zeros (beyond the session's size
    /// limit for updates).
    Oversize,
    /// The key-recovery update `(0, ⌊Q/64⌋)` with no proof (issue 18):
    /// refused by a session that proves updates.
    KeyRecovery,
    /// A well-formed decryption share moved by one unit of the first
    /// coordinate, its proof unchanged (issue 18): refused by a session
    /// that proves shares, naming this party.
    ShiftShare,
}

impl std::str::FromStr for Misbehave {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Ok(match s {
            "garbage" => Self::Garbage,
            "replay" => Self::Replay,
            "wrong-key" => Self::WrongKey,
            "impersonate" => Self::Impersonate,
            "duplicate" => Self::Duplicate,
            "bad-share" => Self::BadShare,
            "impersonate-keygen" => Self::ImpersonateKeygen,
            "forge-e2e-key" => Self::ForgeE2eKey,
            "no-approve" => Self::NoApprove,
            "oversize" => Self::Oversize,
            "key-recovery" => Self::KeyRecovery,
            "shift-share" => Self::ShiftShare,
            _ => return Err(format!("unknown misbehaviour {s:?}")),
        })
    }
}

/// Parses `mode[@round],…`.
pub fn parse_misbehave(s: &str) -> std::result::Result<Vec<(Misbehave, Option<u64>)>, String> {
    s.split(',')
        .filter(|x| !x.is_empty())
        .map(|item| match item.split_once('@') {
            Some((m, r)) => Ok((
                m.parse()?,
                Some(r.parse().map_err(|_| format!("bad round in {item:?}"))?),
            )),
            None => Ok((item.parse()?, None)),
        })
        .collect()
}

/// How a party runs.
#[derive(Clone, Debug)]
pub struct PartyOptions {
    /// This party's id (must be the one its certificate names).
    pub id: u32,
    /// Coordinator URL, `https://host:port`.
    pub coordinator: String,
    /// TLS name of the coordinator (default: the URL's host).
    pub domain: Option<String>,
    /// Session CA certificate.
    pub ca: PathBuf,
    /// This party's certificate.
    pub cert: PathBuf,
    /// This party's private key.
    pub key: PathBuf,
    /// Where this party's update for each round comes from: the
    /// demonstration vectors (default), a `.npy` / `.csv` file or directory,
    /// or a callback (`hekit_mpc::input`).
    pub input: InputSource,
    /// Refuse sessions whose number of parties differs.
    pub expect_parties: Option<usize>,
    /// Refuse sessions whose threshold differs.
    pub expect_threshold: Option<usize>,
    /// What this party accepts (λ, threshold floor, contributors), whatever
    /// the coordinator proposes.
    pub policy: Policy,
    /// Accept Paillier sessions on the published test primes (INSECURE).
    pub allow_insecure: bool,
    /// Give up when the coordinator is unreachable this long.
    pub reconnect_timeout: Duration,
    /// Write each round's sum here (`party-<id>-round-<r>.npy` / `.csv` for
    /// file inputs, `.json` otherwise).
    pub output_dir: Option<PathBuf>,
    /// Wait this long before submitting each update.
    pub submit_delay: Duration,
    /// Deliberate misbehaviour (tests).
    pub misbehave: Vec<(Misbehave, Option<u64>)>,
}

enum Outcome {
    Done(String),
    Failed(String),
}

struct Paillier {
    session: Arc<PaillierSession>,
    holder: pv::KeyHolder,
    fast: paillier::FastEncryptor,
}

/// The serialized collective relinearization and Galois keys, if any.
type EvaluationKeys = (Option<Vec<u8>>, Option<Vec<u8>>);

/// What identifies a decryption request: round, attempt, contribution set
/// digest and committee.
type ShareKey = (u64, u32, [u8; 32], Vec<u32>);

/// The collective CKKS key while it is being verified: recomputed by this
/// party from the signed shares, installed only once every party has
/// acknowledged its id.
struct Pending {
    key: SessionKey,
    round1: Option<RelinKeyRound1>,
}

struct State {
    opts: PartyOptions,
    /// The resolved input source.
    input: Input,
    rng: ChaCha20Rng,
    e2e: E2eKey,
    /// This party's signed announcement of `e2e` (sent in every `Hello`).
    announcement: KeyAnnouncement,
    /// Signs this party's statements (its certificate's key).
    signer: KeySigner,
    /// The session CA: every relayed end-to-end key must be signed by a
    /// certificate chaining to it.
    ca: SessionCa,
    /// The verified certificates of the session's parties.
    peers: Peers,
    cfg: Option<SessionConfig>,
    sid: [u8; 32],
    params: Option<Arc<AggregationParams>>,
    client: Option<Client>,
    relin_eph: Option<RelinEphemeral>,
    own_dealing: Option<Zeroizing<Vec<u8>>>,
    directory: BTreeMap<u32, Vec<u8>>,
    /// This party's public-key share (bytes) and everybody's signed
    /// commitments to theirs.
    own_pk_share: Option<Vec<u8>>,
    commitments: BTreeMap<u32, [u8; 32]>,
    pending: Option<Pending>,
    /// Identifier of the confirmed collective keys (empty until every party
    /// acknowledged it).
    key_id: Vec<u8>,
    /// The identifier contribution sets are bound to (`SessionKey::id` or
    /// the Paillier session id).
    enc_id: [u8; 32],
    paillier: Option<Paillier>,
    dealt_paillier: Option<KeyShare>,
    updates: BTreeMap<u64, Vec<u8>>,
    /// The contributor set this party approved in each round.
    approved: BTreeMap<u64, [u8; 32]>,
    /// Decryption shares made, by round, attempt, contribution set and
    /// committee (a re-sent request gets the same share).
    shares: BTreeMap<ShareKey, Vec<u8>>,
}

fn proto(s: impl Into<String>) -> Error {
    Error::Protocol(s.into())
}

fn tampered(s: impl Into<String>) -> Error {
    Error::Tampered(s.into())
}

impl State {
    fn cfg(&self) -> Result<&SessionConfig> {
        self.cfg.as_ref().ok_or_else(|| proto("no session yet"))
    }

    fn params(&self) -> Result<&Arc<AggregationParams>> {
        self.params.as_ref().ok_or_else(|| proto("no CKKS session"))
    }

    fn all(&self) -> Result<BTreeSet<u32>> {
        Ok((1..=self.cfg()?.parties as u32).collect())
    }

    fn misbehaves(&self, round: u64) -> Option<Misbehave> {
        self.opts
            .misbehave
            .iter()
            .find(|(_, r)| r.is_none_or(|r| r == round))
            .map(|(m, _)| *m)
    }

    fn client(&mut self) -> Result<&mut Client> {
        self.client.as_mut().ok_or_else(|| proto("no client"))
    }

    fn sign(&self, phase: &str, round: u64, digest: &[u8; 32]) -> Result<Vec<u8>> {
        self.signer
            .sign(&self.sid, phase, round, self.opts.id, digest)
    }

    /// Reads and verifies the relayed directory of end-to-end keys: every
    /// entry must be signed by its party's certificate (chaining to the
    /// session CA, naming that party) and, once the session is known
    /// (`session_bound`), signed again bound to the session id — or the
    /// step fails here, before anything is sealed to or opened from it.
    fn read_directory(&mut self, task: &Task, session_bound: bool) -> Result<()> {
        let n = self.cfg()?.parties;
        if task.directory.len() != n {
            return Err(Error::Malformed {
                what: "directory",
                reason: format!("{} keys for {n} parties", task.directory.len()),
            });
        }
        let mut dir = BTreeMap::new();
        let mut peers = Peers::default();
        for a in &task.directory {
            let p = a.party;
            if p == 0 || p as usize > n || dir.contains_key(&p) {
                return Err(Error::Malformed {
                    what: "directory",
                    reason: format!("entry for party {p}"),
                });
            }
            if let Err(e) = verify_announcement(&self.ca, a) {
                warn!(party = p, error = %e, "refusing to seal to or open from this party");
                return Err(e);
            }
            peers.insert(p, a.cert.clone());
            if session_bound {
                let d = sign::sha256(&a.e2e_public);
                if let Err(e) =
                    peers.verify(&self.sid, phase::E2E_KEY, 0, p, &d, &a.session_signature)
                {
                    warn!(party = p, error = %e, "end-to-end key not bound to this session");
                    return Err(e);
                }
            }
            dir.insert(p, a.e2e_public.clone());
        }
        if dir.get(&self.opts.id) != Some(&self.e2e.public_bytes()) {
            return Err(tampered("the directory does not hold this party's key"));
        }
        if !self.directory.is_empty() && self.directory != dir {
            return Err(tampered("the directory of end-to-end keys changed"));
        }
        self.directory = dir;
        self.peers = peers;
        Ok(())
    }

    fn peer(&self, p: u32) -> Result<&[u8]> {
        self.directory
            .get(&p)
            .map(|v| v.as_slice())
            .ok_or_else(|| proto(format!("no end-to-end key for party {p}")))
    }

    /// Handles one task; keygen failures are fatal, round failures are
    /// answered with a refusal (the coordinator tries another committee or
    /// leaves the round unreleased).
    fn handle(&mut self, task: &Task) -> Result<Vec<Submission>> {
        let kind = Kind::try_from(task.kind).unwrap_or(Kind::Unspecified);
        debug!(?kind, round = task.round, bytes = task.size(), "task");
        let one = |s: Submission| vec![s];
        match kind {
            Kind::Session => self.on_session(task).map(one),
            Kind::PkShare => self.on_pk_commits(task).map(one),
            Kind::Deal => self.on_deal(task).map(one),
            Kind::Dealings => self.on_dealings(task).map(one),
            Kind::Relin1 => self.on_relin1().map(one),
            Kind::Relin2 => self.on_relin2(task).map(one),
            Kind::Galois => self.on_galois(task).map(one),
            Kind::PaillierDeal => self.on_paillier_deal(task).map(one),
            Kind::PaillierKey => self.on_paillier_key(task).map(one),
            Kind::Key => self.on_key(task).map(one),
            Kind::Confirm => self.on_confirm(task).map(one),
            Kind::Update => self.on_update(task),
            Kind::Approve => self.on_approve(task).map(one),
            Kind::Decrypt => self.on_decrypt(task).map(one),
            Kind::Result => self.on_result(task).map(|_| Vec::new()),
            Kind::Done | Kind::Failed | Kind::Unspecified => {
                Err(proto(format!("unexpected task {kind:?}")))
            }
        }
    }
}

async fn connect(opts: &PartyOptions) -> Result<CoordinatorClient> {
    let uri: tonic::codegen::http::Uri = opts
        .coordinator
        .parse()
        .map_err(|e| Error::config(format!("coordinator URL {:?}: {e}", opts.coordinator)))?;
    let domain = match &opts.domain {
        Some(d) => d.clone(),
        None => uri
            .host()
            .map(|h| h.trim_start_matches('[').trim_end_matches(']').to_string())
            .ok_or_else(|| Error::config("coordinator URL without a host"))?,
    };
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(std::fs::read(&opts.ca)?))
        .identity(Identity::from_pem(
            std::fs::read(&opts.cert)?,
            std::fs::read(&opts.key)?,
        ))
        .domain_name(domain);
    let channel = Endpoint::from(uri)
        .tls_config(tls)?
        .connect_timeout(Duration::from_secs(5))
        .http2_keep_alive_interval(Duration::from_secs(10))
        .keep_alive_timeout(Duration::from_secs(20))
        .connect()
        .await?;
    Ok(crate::proto::client(channel))
}

async fn session_once(st: &mut State, progress: &mut Instant) -> Result<Outcome> {
    let mut client = connect(&st.opts).await?;
    let mut e2e_public = st.announcement.e2e_public.clone();
    if st
        .opts
        .misbehave
        .iter()
        .any(|(m, _)| *m == Misbehave::ForgeE2eKey)
    {
        warn!("announcing an end-to-end key that is not the signed one (test)");
        e2e_public = E2eKey::generate(st.opts.id, &mut st.rng).public_bytes();
    }
    let hello = Hello {
        e2e_public,
        key_id: st.key_id.clone(),
        version: env!("CARGO_PKG_VERSION").into(),
        cert: st.announcement.cert.clone(),
        e2e_signature: st.announcement.signature.clone(),
    };
    let mut stream = client.subscribe(hello).await?.into_inner();
    info!(coordinator = %st.opts.coordinator, "connected");
    *progress = Instant::now();
    while let Some(task) = stream.message().await? {
        *progress = Instant::now();
        let kind = Kind::try_from(task.kind).unwrap_or(Kind::Unspecified);
        match kind {
            Kind::Done => return Ok(Outcome::Done(task.info)),
            Kind::Failed => return Ok(Outcome::Failed(task.info)),
            _ => {}
        }
        let subs = match tokio::task::block_in_place(|| st.handle(&task)) {
            Ok(s) => s,
            Err(e) => {
                let fatal = matches!(
                    kind,
                    Kind::Session
                        | Kind::Deal
                        | Kind::Dealings
                        | Kind::Relin1
                        | Kind::Relin2
                        | Kind::Galois
                        | Kind::PaillierDeal
                        | Kind::PaillierKey
                        | Kind::Key
                        | Kind::PkShare
                        | Kind::Confirm
                );
                if fatal {
                    warn!(?kind, error = %e, "key generation stopped");
                    return Err(e);
                }
                warn!(?kind, round = task.round, attempt = task.attempt, error = %e, "task refused");
                // The reason of an input refusal may quote the party's own
                // data (a value beyond the bound): it stays in this log.
                let refusal = match e {
                    Error::Input { .. } => {
                        "this party has no usable input for this round (the reason is in its log)"
                            .to_string()
                    }
                    e => e.to_string(),
                };
                vec![Submission {
                    kind: task.kind,
                    round: task.round,
                    attempt: task.attempt,
                    refusal,
                    ..Default::default()
                }]
            }
        };
        if kind == Kind::Update && !st.opts.submit_delay.is_zero() {
            tokio::time::sleep(st.opts.submit_delay).await;
        }
        for s in subs {
            let bytes = s.size();
            match client.submit(s).await {
                Ok(_) => debug!(?kind, round = task.round, bytes, "submitted"),
                Err(status) if status.code() == tonic::Code::InvalidArgument => {
                    warn!(?kind, round = task.round, reason = %status.message(), "submission refused by the coordinator");
                }
                Err(status) => return Err(status.into()),
            }
        }
    }
    Err(tonic::Status::unavailable("the coordinator closed the task stream").into())
}

/// Runs a party until the session ends (`Ok`) or fails (`Err`, with the
/// coordinator's reason). The party reconnects (keeping its state) while the
/// coordinator is unreachable, up to `reconnect_timeout`.
pub async fn run(opts: PartyOptions) -> Result<()> {
    let mut rng = ChaCha20Rng::from_entropy();
    let e2e = E2eKey::generate(opts.id, &mut rng);
    let ca = SessionCa::from_pem(&std::fs::read(&opts.ca)?)?;
    let signer = KeySigner::from_pem(&std::fs::read(&opts.cert)?, &std::fs::read(&opts.key)?)?;
    let announcement = signer.announce(&ca, opts.id, &e2e.public_bytes())?;
    let input = opts.input.open()?;
    let mut st = State {
        opts,
        input,
        rng,
        e2e,
        announcement,
        signer,
        ca,
        peers: Peers::default(),
        cfg: None,
        sid: [0; 32],
        params: None,
        client: None,
        relin_eph: None,
        own_dealing: None,
        directory: BTreeMap::new(),
        own_pk_share: None,
        commitments: BTreeMap::new(),
        pending: None,
        key_id: Vec::new(),
        enc_id: [0; 32],
        paillier: None,
        dealt_paillier: None,
        updates: BTreeMap::new(),
        approved: BTreeMap::new(),
        shares: BTreeMap::new(),
    };
    let mut progress = Instant::now();
    loop {
        match session_once(&mut st, &mut progress).await {
            Ok(Outcome::Done(info)) => {
                info!(%info, "session done");
                return Ok(());
            }
            Ok(Outcome::Failed(info)) => return Err(Error::Protocol(info)),
            Err(Error::Status(s))
                if matches!(
                    s.code(),
                    tonic::Code::Unauthenticated | tonic::Code::PermissionDenied
                ) =>
            {
                return Err(Error::Status(s));
            }
            Err(e @ (Error::Transport(_) | Error::Status(_))) => {
                if progress.elapsed() > st.opts.reconnect_timeout {
                    return Err(e);
                }
                warn!(error = %e, "coordinator unreachable; reconnecting");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => return Err(e),
        }
    }
}
