//! Key generation on the party side: the session and its policy, committed public-key shares, the Shamir dealing, evaluation-key shares, the Paillier dealing, and the recomputation and confirmation of every collective key.

use super::*;

impl State {
    pub(super) fn on_session(&mut self, task: &Task) -> Result<Submission> {
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
    pub(super) fn signed_shares<T>(
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
    pub(super) fn on_pk_commits(&mut self, task: &Task) -> Result<Submission> {
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
    pub(super) fn recompute_public_key(&mut self, task: &Task) -> Result<()> {
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

    pub(super) fn on_deal(&mut self, task: &Task) -> Result<Submission> {
        self.read_directory(task, true)?;
        self.recompute_public_key(task)?;
        let rp = self.params()?.ckks().rlwe().clone();
        let client = self.client.as_ref().ok_or_else(|| proto("no client"))?;
        let dealing = client.deal(&mut self.rng)?;
        // The public commitment to the sharing polynomial (sessions that
        // prove decryption shares), signed: relayed to every party.
        let (payload, signature) = match &dealing.commitment {
            Some(c) => {
                let bytes = c.to_bytes(&rp);
                let sig = self.sign(phase::DEAL_COMMIT, 0, &sign::sha256(&bytes))?;
                (bytes, sig)
            }
            None => (Vec::new(), Vec::new()),
        };
        let mut sealed = Vec::new();
        for m in dealing.messages {
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
            payload,
            signature,
            ..Default::default()
        })
    }

    pub(super) fn on_dealings(&mut self, task: &Task) -> Result<Submission> {
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
        if self.params()?.share_proof_params().is_some() {
            // Every dealer's signed commitment: the key then carries every
            // member's share commitment (the key acknowledgement covers
            // them), and each dealing is checked against its dealer's.
            let all = self.all()?;
            let coms = self.signed_shares(task, Kind::Deal, phase::DEAL_COMMIT, &all, |b| {
                let c = threshold::vss::DealingCommitment::from_bytes(&rp, b)?;
                Ok((c.party().0, c))
            })?;
            let pending = self
                .pending
                .as_mut()
                .ok_or_else(|| proto("no public key"))?;
            pending.key = pending.key.with_dealings(&coms)?;
            let key = pending.key.clone();
            self.client()?.set_key(key)?;
        }
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

    pub(super) fn on_relin1(&mut self) -> Result<Submission> {
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

    pub(super) fn on_relin2(&mut self, task: &Task) -> Result<Submission> {
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

    pub(super) fn on_galois(&mut self, task: &Task) -> Result<Submission> {
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

    pub(super) fn on_paillier_deal(&mut self, task: &Task) -> Result<Submission> {
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

    pub(super) fn on_paillier_key(&mut self, task: &Task) -> Result<Submission> {
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
    pub(super) fn recompute_evaluation_keys(&self, task: &Task) -> Result<EvaluationKeys> {
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
    pub(super) fn on_key(&mut self, task: &Task) -> Result<Submission> {
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
    pub(super) fn on_confirm(&mut self, task: &Task) -> Result<Submission> {
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
}
