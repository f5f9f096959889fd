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

    fn on_session(&mut self, task: &Task) -> Result<Submission> {
        let cfg: SessionConfig =
            serde_json::from_str(&task.info).map_err(|e| Error::Malformed {
                what: "session description",
                reason: e.to_string(),
            })?;
        cfg.validate()?;
        if task.payload != cfg.id() {
            return Err(proto("session id does not match the description"));
        }
        let o = &self.opts;
        if o.expect_parties.is_some_and(|n| n != cfg.parties)
            || o.expect_threshold.is_some_and(|t| t != cfg.threshold)
        {
            return Err(Error::Policy(format!(
                "session of {} of {} parties, this party expects {:?} of {:?}",
                cfg.threshold, cfg.parties, o.expect_threshold, o.expect_parties
            )));
        }
        o.policy.check(&cfg)?;
        if cfg.scheme == Scheme::Paillier && cfg.paillier_insecure_test_primes && !o.allow_insecure
        {
            return Err(Error::Policy(
                "session uses the published Paillier test primes (pass --allow-insecure-test-primes)"
                    .into(),
            ));
        }
        if o.id as usize > cfg.parties {
            return Err(proto(format!("party {} of {}", o.id, cfg.parties)));
        }
        if let Some(old) = &self.cfg {
            if old != &cfg {
                return Err(tampered("the coordinator changed the session"));
            }
        }
        self.sid = task
            .payload
            .clone()
            .try_into()
            .map_err(|_| proto("session id"))?;
        self.cfg = Some(cfg.clone());
        self.read_directory(task, false)?;
        info!(session = %hex(&self.sid[..8]), scheme = ?cfg.scheme, parties = cfg.parties, threshold = cfg.threshold, lambda = cfg.lambda, "joined session");
        info!(input = %self.input.describe(), rounds = cfg.rounds, len = cfg.len, max_abs = cfg.max_abs, "input");
        for problem in self.input.preflight(cfg.rounds, cfg.len) {
            warn!(%problem, "input does not fit the session (each round is checked when it starts)");
        }
        let e2e_sig = self.sign(phase::E2E_KEY, 0, &sign::sha256(&self.e2e.public_bytes()))?;
        let mut sub = Submission {
            kind: Kind::Session as i32,
            blobs: vec![e2e_sig],
            ..Default::default()
        };
        if cfg.scheme == Scheme::Ckks {
            if self.client.is_none() {
                let params = cfg.aggregation_params()?;
                if params.ckks().rlwe().security() == rlwe::params::SecurityLevel::None {
                    return Err(Error::Policy(
                        "the session's lattice parameters are below 128-bit security".into(),
                    ));
                }
                let mut client = Client::new(&params, self.opts.id, &mut self.rng)?;
                let share = client.public_key_share(&mut self.rng)?;
                self.own_pk_share = Some(share.to_bytes());
                self.client = Some(client);
                self.params = Some(params);
            }
            let commit = sign::sha256(self.own_pk_share.as_deref().unwrap_or_default());
            sub.payload = commit.to_vec();
            sub.signature = self.sign(phase::PK_COMMIT, 0, &commit)?;
        }
        Ok(sub)
    }

    /// The relayed shares of `kind`, one per party of `parties`, each signed
    /// by its party (statement `phase`, SHA-256 of the bytes) and naming
    /// that party once parsed (`parse` returns the party it names).
    fn signed_shares<T>(
        &self,
        task: &Task,
        kind: Kind,
        phase: &'static str,
        parties: &BTreeSet<u32>,
        parse: impl Fn(&[u8]) -> Result<(u32, T)>,
    ) -> Result<Vec<T>> {
        let got = sign::verify_each(
            &self.peers,
            &self.sid,
            &task.signed,
            kind,
            phase,
            0,
            parties,
            Content::Hashed,
        )?;
        got.iter()
            .map(|(&p, b)| {
                let (named, share) = parse(b)?;
                if named != p {
                    return Err(tampered(format!(
                        "{phase} share of party {named} relayed as party {p}'s"
                    )));
                }
                Ok(share)
            })
            .collect()
    }

    /// Every party's signed commitment to its public-key share; this party
    /// reveals its share only once it holds all of them (so no party can
    /// choose its share after seeing the others').
    fn on_pk_commits(&mut self, task: &Task) -> Result<Submission> {
        let all = self.all()?;
        let got = sign::verify_each(
            &self.peers,
            &self.sid,
            &task.signed,
            Kind::PkShare,
            phase::PK_COMMIT,
            0,
            &all,
            Content::Digest,
        )?;
        let mut commitments = BTreeMap::new();
        for (p, c) in got {
            commitments.insert(p, sign::as_digest(c, "public-key commitment")?);
        }
        let own = self
            .own_pk_share
            .clone()
            .ok_or_else(|| proto("no public-key share"))?;
        if commitments.get(&self.opts.id) != Some(&sign::sha256(&own)) {
            return Err(tampered(
                "relayed another public-key commitment in this party's name",
            ));
        }
        self.commitments = commitments;
        Ok(Submission {
            kind: Kind::PkShare as i32,
            payload: own,
            ..Default::default()
        })
    }

    /// Recomputes the collective public key from the relayed shares, each
    /// checked against its party's signed commitment.
    fn recompute_public_key(&mut self, task: &Task) -> Result<()> {
        let params = self.params()?.clone();
        let rp = params.ckks().rlwe().clone();
        let n = self.cfg()?.parties;
        let entries: Vec<_> = task
            .signed
            .iter()
            .filter(|e| e.kind == Kind::PkShare as i32)
            .collect();
        if entries.len() != n {
            return Err(tampered(format!(
                "relayed {} public-key shares for {n} parties",
                entries.len()
            )));
        }
        let mut shares = Vec::with_capacity(n);
        for e in entries {
            let Some(c) = self.commitments.get(&e.party) else {
                return Err(tampered(format!(
                    "public-key share of unknown party {}",
                    e.party
                )));
            };
            if &sign::sha256(&e.payload) != c {
                return Err(tampered(format!(
                    "the public-key share relayed for party {} is not the one it committed to",
                    e.party
                )));
            }
            let share = PublicKeyShare::from_bytes(&rp, &e.payload)?;
            if share.party().0 != e.party {
                return Err(tampered(format!(
                    "public-key share of party {} relayed as party {}'s",
                    share.party().0,
                    e.party
                )));
            }
            shares.push(share);
        }
        let key = SessionKey::from_shares(&params, shares)?;
        info!(key = %hex(&key.id()[..8]), "collective public key recomputed from the committed shares");
        self.pending = Some(Pending { key, round1: None });
        Ok(())
    }

    fn on_deal(&mut self, task: &Task) -> Result<Submission> {
        self.read_directory(task, true)?;
        self.recompute_public_key(task)?;
        let rp = self.params()?.ckks().rlwe().clone();
        let client = self.client.as_ref().ok_or_else(|| proto("no client"))?;
        let msgs = client.deal(&mut self.rng)?;
        let mut sealed = Vec::new();
        for m in msgs {
            let bytes = m.to_bytes(&rp);
            if m.to.0 == self.opts.id {
                self.own_dealing = Some(bytes);
            } else {
                let peer = self.peer(m.to.0)?.to_vec();
                sealed.push(self.e2e.seal(
                    m.to.0,
                    &peer,
                    &self.sid,
                    DEAL_PURPOSE,
                    &bytes,
                    &mut self.rng,
                )?);
            }
        }
        Ok(Submission {
            kind: Kind::Deal as i32,
            sealed,
            ..Default::default()
        })
    }

    fn on_dealings(&mut self, task: &Task) -> Result<Submission> {
        self.read_directory(task, true)?;
        let rp = self.params()?.ckks().rlwe().clone();
        let own = self
            .own_dealing
            .take()
            .ok_or_else(|| proto("dealings before dealing"))?;
        let mut plain: Vec<Zeroizing<Vec<u8>>> = vec![own];
        for b in &task.sealed {
            let peer = self.peer(b.from)?.to_vec();
            let bytes = self.e2e.open(b, &peer, &self.sid, DEAL_PURPOSE)?;
            let m = SecretShareMessage::from_bytes(&rp, &bytes)?;
            if m.from.0 != b.from || m.to.0 != self.opts.id {
                return Err(proto(format!(
                    "dealing {} → {} in a box from {}",
                    m.from.0, m.to.0, b.from
                )));
            }
            plain.push(bytes);
        }
        let msgs = plain
            .iter()
            .map(|b| Ok(SecretShareMessage::from_bytes(&rp, b)?))
            .collect::<Result<Vec<_>>>()?;
        self.client()?.receive_dealings(msgs)?;
        info!(
            dealings = plain.len(),
            "Shamir share of the joint secret received"
        );
        Ok(Submission {
            kind: Kind::Dealings as i32,
            ..Default::default()
        })
    }

    fn on_relin1(&mut self) -> Result<Submission> {
        let mut rng = ChaCha20Rng::from_rng(&mut self.rng).map_err(|e| proto(e.to_string()))?;
        let (share, eph) = self.client()?.relin_key_round1(&mut rng)?;
        self.relin_eph = Some(eph);
        let payload = share.to_bytes();
        Ok(Submission {
            kind: Kind::Relin1 as i32,
            signature: self.sign(phase::RELIN1, 0, &sign::sha256(&payload))?,
            payload,
            ..Default::default()
        })
    }

    fn on_relin2(&mut self, task: &Task) -> Result<Submission> {
        let params = self.params()?.clone();
        let rp = params.ckks().rlwe().clone();
        let all = self.all()?;
        let shares = self.signed_shares(task, Kind::Relin1, phase::RELIN1, &all, |b| {
            let s = RelinRound1Share::from_bytes(&rp, b)?;
            Ok((s.party().0, s))
        })?;
        let round1 = aggregate_relin_round1(&params, shares)?;
        let eph = self
            .relin_eph
            .take()
            .ok_or_else(|| proto("relinearization round two before round one"))?;
        let mut rng = ChaCha20Rng::from_rng(&mut self.rng).map_err(|e| proto(e.to_string()))?;
        let share = self.client()?.relin_key_round2(eph, &round1, &mut rng)?;
        if let Some(p) = &mut self.pending {
            p.round1 = Some(round1);
        }
        let payload = share.to_bytes();
        Ok(Submission {
            kind: Kind::Relin2 as i32,
            signature: self.sign(phase::RELIN2, 0, &sign::sha256(&payload))?,
            payload,
            ..Default::default()
        })
    }

    fn on_galois(&mut self, task: &Task) -> Result<Submission> {
        let mut rng = ChaCha20Rng::from_rng(&mut self.rng).map_err(|e| proto(e.to_string()))?;
        let blobs = if self
            .opts
            .misbehave
            .iter()
            .any(|(m, _)| *m == Misbehave::ImpersonateKeygen)
        {
            let cfg = self.cfg()?.clone();
            let other = self.opts.id % cfg.parties as u32 + 1;
            warn!(other, "Galois-key shares in another party's name (test)");
            let mut fake = threshold::Party::new(
                threshold::PartyId(other),
                self.params()?.ckks().rlwe(),
                &mut rng,
            );
            let crs = threshold::Crs::from_seed(cfg.seed_bytes()?);
            task.ids
                .iter()
                .map(|&e| {
                    Ok(fake
                        .galois_key_share(&crs, e as usize, &mut rng)?
                        .to_bytes())
                })
                .collect::<Result<Vec<_>>>()?
        } else {
            let client = self.client()?;
            task.ids
                .iter()
                .map(|&e| Ok(client.galois_key_share(e as usize, &mut rng)?.to_bytes()))
                .collect::<Result<Vec<_>>>()?
        };
        let payload = prost::Message::encode_to_vec(&Bundle { blobs });
        Ok(Submission {
            kind: Kind::Galois as i32,
            signature: self.sign(phase::GALOIS, 0, &sign::sha256(&payload))?,
            payload,
            ..Default::default()
        })
    }

    fn on_paillier_deal(&mut self, task: &Task) -> Result<Submission> {
        self.read_directory(task, true)?;
        let cfg = self.cfg()?.clone();
        if cfg.dealer != self.opts.id {
            return Err(proto(
                "asked to deal but this party is not the session's dealer",
            ));
        }
        let (n, t) = (cfg.parties, cfg.threshold);
        let t0 = Instant::now();
        let (params, shares) = if cfg.paillier_insecure_test_primes {
            let (p, q) =
                threshold::paillier::test_primes::primes(threshold::paillier::test_primes::SAFE512);
            threshold::paillier::Dealer::deal_with_primes_insecure(p, q, t, n, &mut self.rng)?
        } else {
            let bits = match cfg.paillier_bits {
                3072 => paillier::Bits::B3072,
                _ => paillier::Bits::B2048,
            };
            threshold::paillier::Dealer::deal(bits, t, n, &mut self.rng)?
        };
        info!(
            secs = t0.elapsed().as_secs_f64(),
            "dealt the threshold Paillier key"
        );
        let mut sealed = Vec::new();
        for s in shares {
            let to = s.party().0;
            if to == self.opts.id {
                self.dealt_paillier = Some(s);
                continue;
            }
            let peer = self.peer(to)?.to_vec();
            let bytes = s.to_bytes();
            sealed.push(self.e2e.seal(
                to,
                &peer,
                &self.sid,
                PAILLIER_PURPOSE,
                &bytes,
                &mut self.rng,
            )?);
        }
        Ok(Submission {
            kind: Kind::PaillierDeal as i32,
            payload: params.to_bytes(),
            sealed,
            ..Default::default()
        })
    }

    fn on_paillier_key(&mut self, task: &Task) -> Result<Submission> {
        self.read_directory(task, true)?;
        let cfg = self.cfg()?.clone();
        let params = PublicParams::from_bytes(&task.payload)?;
        let share = match self.dealt_paillier.take() {
            Some(s) => s,
            None => {
                let [b] = task.sealed.as_slice() else {
                    return Err(proto(format!("{} sealed key shares", task.sealed.len())));
                };
                if b.from != cfg.dealer {
                    return Err(proto(format!(
                        "key share from party {}, not the dealer",
                        b.from
                    )));
                }
                let peer = self.peer(b.from)?.to_vec();
                let bytes = self.e2e.open(b, &peer, &self.sid, PAILLIER_PURPOSE)?;
                KeyShare::from_bytes(&bytes)?
            }
        };
        if share.public_params() != &params || share.party().0 != self.opts.id {
            return Err(tampered(
                "the relayed Paillier parameters are not those of the dealer's sealed key share",
            ));
        }
        let session = cfg.paillier_session(params)?;
        let fast = session.fast_encryptor(&mut self.rng)?;
        let holder = pv::KeyHolder::new(&session, share, self.opts.policy.min_contributors)?;
        self.paillier = Some(Paillier {
            session,
            holder,
            fast,
        });
        info!("threshold Paillier key share received");
        Ok(Submission {
            kind: Kind::PaillierKey as i32,
            ..Default::default()
        })
    }

    /// Recomputes the collective relinearization and Galois keys from the
    /// relayed, signed shares; returns their serialized forms.
    fn recompute_evaluation_keys(&self, task: &Task) -> Result<EvaluationKeys> {
        let cfg = self.cfg()?.clone();
        let params = self.params()?.clone();
        let rp = params.ckks().rlwe().clone();
        let all = self.all()?;
        let pending = self
            .pending
            .as_ref()
            .ok_or_else(|| proto("no public key"))?;
        let relin = if cfg.relin {
            let shares = self.signed_shares(task, Kind::Relin2, phase::RELIN2, &all, |b| {
                let s = RelinRound2Share::from_bytes(&rp, b)?;
                Ok((s.party().0, s))
            })?;
            let round1 = pending
                .round1
                .clone()
                .ok_or_else(|| proto("relinearization key without round one"))?;
            Some(finish_relin_key(&params, round1, shares)?.to_bytes())
        } else {
            None
        };
        let galois = if cfg.galois.is_empty() {
            None
        } else {
            let got = sign::verify_each(
                &self.peers,
                &self.sid,
                &task.signed,
                Kind::Galois,
                phase::GALOIS,
                0,
                &all,
                Content::Hashed,
            )?;
            let elements = cfg.galois_elements();
            let mut shares = Vec::new();
            for (&p, b) in &got {
                let bundle: Bundle = prost::Message::decode(*b).map_err(|e| Error::Malformed {
                    what: "Galois-key shares",
                    reason: e.to_string(),
                })?;
                if bundle.blobs.len() != elements.len() {
                    return Err(tampered(format!(
                        "party {p} signed {} Galois shares for {} elements",
                        bundle.blobs.len(),
                        elements.len()
                    )));
                }
                for (blob, &e) in bundle.blobs.iter().zip(&elements) {
                    let s = GaloisKeyShare::from_bytes(&rp, blob)?;
                    if s.party().0 != p || s.element() != e {
                        return Err(tampered(format!(
                            "Galois share of party {} for element {} relayed as party {p}'s for {e}",
                            s.party().0,
                            s.element()
                        )));
                    }
                    shares.push(s);
                }
            }
            Some(finish_galois_keys(&params, shares)?.to_bytes())
        };
        Ok((relin, galois))
    }

    /// The collective keys: recomputed from the signed shares (first time),
    /// acknowledged with a signature over their id; or, after the
    /// coordinator restarted, the id compared with the confirmed one.
    fn on_key(&mut self, task: &Task) -> Result<Submission> {
        if !self.key_id.is_empty() {
            if task.payload != self.key_id {
                return Err(tampered("the coordinator names another collective key"));
            }
            return Ok(Submission {
                kind: Kind::Key as i32,
                payload: self.key_id.clone(),
                signature: self.sign(
                    phase::KEY_ACK,
                    0,
                    &sign::as_digest(&self.key_id, "key id")?,
                )?,
                ..Default::default()
            });
        }
        let cfg = self.cfg()?.clone();
        let (enc_id, relin, galois) = match cfg.scheme {
            Scheme::Ckks => {
                let (relin, galois) = self.recompute_evaluation_keys(task)?;
                let pending = self
                    .pending
                    .as_ref()
                    .ok_or_else(|| proto("no public key"))?;
                (*pending.key.id(), relin, galois)
            }
            Scheme::Paillier => {
                let p = self
                    .paillier
                    .as_ref()
                    .ok_or_else(|| proto("no key share"))?;
                (
                    sign::sha256(&p.holder.share().public_params().to_bytes()),
                    None,
                    None,
                )
            }
        };
        let id = collective_key_id(&self.sid, &enc_id, relin.as_deref(), galois.as_deref());
        if !task.payload.is_empty() && task.payload != id {
            return Err(tampered(
                "the coordinator's collective key is not the one recomputed from the signed shares",
            ));
        }
        self.enc_id = match &self.paillier {
            Some(p) => *p.session.id(),
            None => enc_id,
        };
        info!(key = %hex(&id[..8]), "collective keys recomputed from the signed shares");
        Ok(Submission {
            kind: Kind::Key as i32,
            payload: id.to_vec(),
            signature: self.sign(phase::KEY_ACK, 0, &id)?,
            ..Default::default()
        })
    }

    /// Every party's signed acknowledgement of the same key id: only then is
    /// the key installed (this party never encrypts under a key it did not
    /// recompute, nor under one another party does not hold).
    fn on_confirm(&mut self, task: &Task) -> Result<Submission> {
        if self.key_id.is_empty() {
            let all = self.all()?;
            let got = sign::verify_each(
                &self.peers,
                &self.sid,
                &task.signed,
                Kind::Key,
                phase::KEY_ACK,
                0,
                &all,
                Content::Digest,
            )?;
            let mine = got
                .get(&self.opts.id)
                .map(|b| b.to_vec())
                .ok_or_else(|| tampered("no acknowledgement of this party"))?;
            if let Some((p, _)) = got.iter().find(|(_, b)| **b != mine.as_slice()) {
                return Err(tampered(format!(
                    "party {p} acknowledged another collective key than this party"
                )));
            }
            if let Some(pending) = self.pending.take() {
                self.client()?.set_key(pending.key)?;
            }
            info!(key = %hex(&mine[..8]), "collective key confirmed by every party and installed");
            self.key_id = mine;
        }
        Ok(Submission {
            kind: Kind::Confirm as i32,
            ..Default::default()
        })
    }

    fn encrypt(&mut self, round: u64, x: &[f64]) -> Result<Vec<u8>> {
        let id = self.opts.id;
        if let Some(p) = &self.paillier {
            return Ok(p
                .session
                .encrypt_update_fast(id, round, x, &p.fast, &mut self.rng)?);
        }
        let client = self.client.as_ref().ok_or_else(|| proto("no client"))?;
        Ok(client.encrypt_update(round, x, &mut self.rng)?)
    }

    fn on_update(&mut self, task: &Task) -> Result<Vec<Submission>> {
        if self.key_id.is_empty() {
            return Err(proto(
                "no confirmed collective key: this party encrypts nothing",
            ));
        }
        let cfg = self.cfg()?.clone();
        let round = task.round;
        if task.len as usize != cfg.len {
            return Err(proto(format!(
                "update of {} values, session has {}",
                task.len, cfg.len
            )));
        }
        let t0 = Instant::now();
        let cached = self.updates.get(&round).cloned();
        // Read (and check) the input only when it is encrypted now; a
        // re-asked round (coordinator restart) gets the same ciphertext.
        let needs_input = cached.is_none()
            || matches!(
                self.misbehaves(round),
                Some(Misbehave::Impersonate | Misbehave::WrongKey)
            );
        let x = if needs_input {
            self.input
                .update(self.opts.id, round, cfg.len, cfg.max_abs)?
        } else {
            Vec::new()
        };
        let honest = match cached {
            Some(b) => b,
            None => self.encrypt(round, &x)?,
        };
        self.updates.insert(round, honest.clone());
        let mut out = vec![honest.clone()];
        if let Some(m) = self.misbehaves(round) {
            warn!(round, misbehaviour = ?m, "misbehaving on purpose (test)");
            out = match m {
                Misbehave::Garbage => {
                    let mut g = vec![0u8; honest.len()];
                    self.rng.fill_bytes(&mut g);
                    vec![g]
                }
                Misbehave::Replay => {
                    match round.checked_sub(1).and_then(|r| self.updates.get(&r)) {
                        Some(old) => vec![old.clone()],
                        None => vec![honest.clone(), honest.clone()],
                    }
                }
                Misbehave::Duplicate => vec![honest.clone(), honest.clone()],
                Misbehave::Oversize => {
                    let mut big = honest.clone();
                    big.resize(honest.len() + (8 << 20), 0);
                    vec![big]
                }
                Misbehave::Impersonate => {
                    let other = self.opts.id % cfg.parties as u32 + 1;
                    let client = self.client.as_ref().ok_or_else(|| proto("no client"))?;
                    let key = client.session_key().ok_or_else(|| proto("no key"))?;
                    vec![key.encrypt_update(other, round, &x, &mut self.rng)?]
                }
                Misbehave::WrongKey => {
                    let params = self.params()?.clone();
                    let mut clients = (1..=cfg.parties as u32)
                        .map(|i| Client::new(&params, i, &mut self.rng))
                        .collect::<ml_he::Result<Vec<_>>>()?;
                    let shares = clients
                        .iter_mut()
                        .map(|c| c.public_key_share(&mut self.rng))
                        .collect::<ml_he::Result<Vec<_>>>()?;
                    let other = SessionKey::from_shares(&params, shares)?;
                    vec![other.encrypt_update(self.opts.id, round, &x, &mut self.rng)?]
                }
                Misbehave::BadShare
                | Misbehave::ImpersonateKeygen
                | Misbehave::ForgeE2eKey
                | Misbehave::NoApprove => {
                    vec![honest.clone()]
                }
            };
        }
        debug!(
            round,
            secs = t0.elapsed().as_secs_f64(),
            bytes = honest.len(),
            "update encrypted"
        );
        out.into_iter()
            .map(|payload| {
                Ok(Submission {
                    kind: Kind::Update as i32,
                    round,
                    signature: self.sign(phase::UPDATE, round, &update_digest(&payload))?,
                    payload,
                    ..Default::default()
                })
            })
            .collect()
    }

    /// Approves the round's contributor set — once per round, only a set
    /// that holds this party's own update, unchanged, and at least this
    /// party's minimum number of contributors.
    fn on_approve(&mut self, task: &Task) -> Result<Submission> {
        let round = task.round;
        if self.misbehaves(round) == Some(Misbehave::NoApprove) {
            warn!(round, "withholding the approval on purpose (test)");
            return Err(proto("withholding the approval (test)"));
        }
        if task.ids.len() != task.blobs.len() {
            return Err(Error::Malformed {
                what: "contributor set",
                reason: format!("{} parties, {} digests", task.ids.len(), task.blobs.len()),
            });
        }
        if !task.ids.windows(2).all(|w| w[0] < w[1]) {
            return Err(Error::Malformed {
                what: "contributor set",
                reason: "parties not in increasing order".into(),
            });
        }
        let set: Vec<(u32, [u8; 32])> = task
            .ids
            .iter()
            .zip(&task.blobs)
            .map(|(&p, d)| Ok((p, sign::as_digest(d, "update digest")?)))
            .collect::<Result<_>>()?;
        let own = self
            .updates
            .get(&round)
            .map(|b| update_digest(b))
            .ok_or_else(|| proto(format!("round {round}: this party submitted no update")))?;
        match set.iter().find(|(p, _)| *p == self.opts.id) {
            None => {
                return Err(proto(format!(
                    "round {round}: this party is not in the set"
                )))
            }
            Some((_, d)) if *d != own => {
                return Err(tampered(format!(
                    "round {round}: the contributor set lists another update in this party's name"
                )))
            }
            Some(_) => {}
        }
        let min = self.opts.policy.min_contributors;
        if set.len() < min {
            return Err(Error::Policy(format!(
                "round {round}: a set of {} contributor(s), this party's minimum is {min}",
                set.len()
            )));
        }
        let digest = contribution_set_digest(&self.enc_id, round, &set);
        if self.approved.get(&round).is_some_and(|d| *d != digest) {
            return Err(Error::Policy(format!(
                "round {round}: this party already approved another contributor set"
            )));
        }
        self.approved.insert(round, digest);
        info!(round, contributors = ?task.ids, "contributor set approved");
        Ok(Submission {
            kind: Kind::Approve as i32,
            round,
            payload: digest.to_vec(),
            signature: self.sign(phase::APPROVE, round, &digest)?,
            ..Default::default()
        })
    }

    /// Checks that every contribution of a decryption request is signed by
    /// its party and that every contributor approved exactly this set.
    fn verify_request(&self, task: &Task, info: &RequestInfo) -> Result<()> {
        let round = task.round;
        if info.round != round || info.attempt != task.attempt {
            return Err(tampered(format!(
                "decryption request for round {} attempt {} in a task for round {round} attempt {}",
                info.round, info.attempt, task.attempt
            )));
        }
        let contributors: BTreeSet<u32> = info.contributions.iter().map(|(p, _)| *p).collect();
        let updates = sign::verify_each(
            &self.peers,
            &self.sid,
            &task.signed,
            Kind::Update,
            phase::UPDATE,
            round,
            &contributors,
            Content::Digest,
        )?;
        for (p, d) in &info.contributions {
            if updates.get(p).is_some_and(|s| *s != d.as_slice()) {
                return Err(tampered(format!(
                    "round {round}: the update of party {p} in the request is not the one party {p} signed"
                )));
            }
        }
        let approvals = sign::verify_each(
            &self.peers,
            &self.sid,
            &task.signed,
            Kind::Approve,
            phase::APPROVE,
            round,
            &contributors,
            Content::Digest,
        )?;
        if let Some((p, _)) = approvals
            .iter()
            .find(|(_, d)| **d != info.set_digest.as_slice())
        {
            return Err(tampered(format!(
                "round {round}: party {p} did not approve this contributor set"
            )));
        }
        Ok(())
    }

    fn on_decrypt(&mut self, task: &Task) -> Result<Submission> {
        // The request's header names what it asks for (cheap to read); the
        // contributions are checked against it when the share is made.
        let info = match (&self.paillier, &self.client) {
            (Some(p), _) => pv::inspect_request(&p.session, &task.payload)?,
            (None, Some(c)) => {
                let key = c.session_key().ok_or_else(|| proto("no key"))?;
                inspect_request(key, &task.payload)?
            }
            (None, None) => return Err(proto("no key")),
        };
        let k = (
            task.round,
            task.attempt,
            info.set_digest,
            info.committee.clone(),
        );
        let share = match self.shares.get(&k) {
            Some(s) => s.clone(),
            None => {
                self.verify_request(task, &info)?;
                let s = match (&mut self.paillier, &mut self.client) {
                    (Some(p), _) => p.holder.decryption_share(&task.payload, &mut self.rng)?,
                    (None, Some(c)) => c.decryption_share(&task.payload, &mut self.rng)?,
                    (None, None) => return Err(proto("no key")),
                };
                info!(
                    round = task.round,
                    attempt = task.attempt,
                    "decryption share of a verified sum"
                );
                self.shares.insert(k, s.clone());
                s
            }
        };
        let payload = if self.misbehaves(task.round) == Some(Misbehave::BadShare) {
            warn!(
                round = task.round,
                "sending a garbage decryption share on purpose (test)"
            );
            let mut g = vec![0u8; share.len()];
            self.rng.fill_bytes(&mut g);
            g
        } else {
            share
        };
        Ok(Submission {
            kind: Kind::Decrypt as i32,
            round: task.round,
            attempt: task.attempt,
            payload,
            ..Default::default()
        })
    }

    fn on_result(&self, task: &Task) -> Result<()> {
        if !task.payload.len().is_multiple_of(8) {
            return Err(Error::Malformed {
                what: "result",
                reason: format!("{} bytes", task.payload.len()),
            });
        }
        let sum: Vec<f64> = task
            .payload
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap_or_default()))
            .collect();
        info!(
            round = task.round,
            contributors = ?task.ids,
            values = sum.len(),
            first = ?sum.iter().take(3).collect::<Vec<_>>(),
            info = %task.info,
            "round result (sum of the contributors' updates)"
        );
        if let Some(dir) = &self.opts.output_dir {
            let name = self
                .input
                .write_result(dir, self.opts.id, task.round, &task.ids, &sum)?;
            debug!(round = task.round, file = %dir.join(name).display(), "sum written");
        }
        Ok(())
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
    Ok(CoordinatorClient::new(channel))
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
