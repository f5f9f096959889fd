//! Aggregation rounds: collecting signed updates, the contributors' approval of the set, threshold decryption of the verified sum, and the test misbehaviours.

use super::*;

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
pub(super) struct RoundFile<'a> {
    pub(super) round: u64,
    pub(super) contributors: &'a [u32],
    pub(super) committee: &'a [u32],
    pub(super) precision: f64,
    pub(super) sum: Vec<f64>,
}

pub(super) enum Keys {
    Ckks(SessionKey),
    Paillier(Arc<PaillierSession>),
}

/// An update that passed every check of its round's server.
pub(super) enum Checked {
    Ckks(CheckedUpdate),
    Paillier(pv::CheckedUpdate),
}

impl Checked {
    pub(super) fn digest(&self) -> &[u8; 32] {
        match self {
            Self::Ckks(u) => u.digest(),
            Self::Paillier(u) => u.digest(),
        }
    }
}

pub(super) enum RoundServer {
    Ckks(SessionKey, Box<Server>),
    Paillier(Arc<PaillierSession>, PaillierServer),
}

impl RoundServer {
    pub(super) fn new(keys: &Keys, round: u64, len: usize) -> Result<Self> {
        Ok(match keys {
            Keys::Ckks(k) => Self::Ckks(k.clone(), Box::new(Server::new(k, round, len)?)),
            Keys::Paillier(s) => Self::Paillier(s.clone(), PaillierServer::new(s, round, len)?),
        })
    }

    /// Full validation (parsed once; nothing touches the aggregate),
    /// including the sender check: the update must name the authenticated
    /// party. The checked update is added with [`Self::add`].
    pub(super) fn check(&self, party: u32, bytes: &[u8]) -> Result<Checked> {
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

    pub(super) fn add(&mut self, update: Checked) -> Result<u32> {
        Ok(match (self, update) {
            (Self::Ckks(_, s), Checked::Ckks(u)) => s.add_checked(u)?,
            (Self::Paillier(_, s), Checked::Paillier(u)) => s.add_checked(u)?,
            _ => return Err(Error::Protocol("update checked for another scheme".into())),
        })
    }

    pub(super) fn contributors(&self) -> Vec<u32> {
        match self {
            Self::Ckks(_, s) => s.contributors(),
            Self::Paillier(_, s) => s.contributors(),
        }
    }

    pub(super) fn request(&mut self, committee: &[u32]) -> Result<Vec<u8>> {
        Ok(match self {
            Self::Ckks(_, s) => s.decryption_request(committee)?,
            Self::Paillier(_, s) => s.decryption_request()?,
        })
    }

    /// The identifier contribution sets are bound to.
    pub(super) fn enc_id(&self) -> [u8; 32] {
        match self {
            Self::Ckks(k, _) => *k.id(),
            Self::Paillier(s, _) => *s.id(),
        }
    }

    /// The `(party, update digest)` list of the round.
    pub(super) fn contribution_set(&self) -> Vec<(u32, [u8; 32])> {
        match self {
            Self::Ckks(_, s) => s.contribution_set(),
            Self::Paillier(_, s) => s.contribution_set(),
        }
    }

    /// Checks one decryption share against the request and its sender.
    pub(super) fn check_share(&self, party: u32, request: &[u8], share: &[u8]) -> Result<()> {
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

    pub(super) fn combine(&self, request: &[u8], shares: &[Vec<u8>]) -> Result<RoundResult> {
        Ok(match self {
            Self::Ckks(k, _) => combine(k, request, shares)?,
            Self::Paillier(s, _) => pv::combine(s, request, shares)?,
        })
    }
}

impl Driver {
    /// Asks every contributor to approve the round's contributor set;
    /// returns the approvals (signed entries) if every contributor approved.
    pub(super) async fn approve(
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

    pub(super) async fn round(&mut self, keys: &Keys, round: u64) -> Result<()> {
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
                    // A share whose proof fails names its sender: exclude
                    // it; otherwise (no share proofs) the first member.
                    let named = match &e {
                        Error::Aggregation(ml_he::Error::InvalidShareProof { party, .. }) => {
                            Some(*party)
                        }
                        _ => committee.first().copied(),
                    };
                    warn!(round, attempt, error = %e, excluded = ?named, "combination failed; new committee");
                    if let Some(p) = named {
                        excluded.insert(p);
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
    pub(super) async fn forge_contributor(
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
    pub(super) async fn illegitimate_request(
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
    pub(super) async fn repeat_decryption(
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
