//! Rounds on the party side: encrypting and signing the update, approving the contributor set once, verifying a decryption request before making a share, and the result.

use super::*;

impl State {
    pub(super) fn encrypt(&mut self, round: u64, x: &[f64]) -> Result<Vec<u8>> {
        let id = self.opts.id;
        if let Some(p) = &self.paillier {
            return Ok(p
                .session
                .encrypt_update_fast(id, round, x, &p.fast, &mut self.rng)?);
        }
        let client = self.client.as_ref().ok_or_else(|| proto("no client"))?;
        Ok(client.encrypt_update(round, x, &mut self.rng)?)
    }

    pub(super) fn on_update(&mut self, task: &Task) -> Result<Vec<Submission>> {
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
                Misbehave::KeyRecovery => {
                    let client = self.client.as_ref().ok_or_else(|| proto("no client"))?;
                    let key = client.session_key().ok_or_else(|| proto("no key"))?;
                    vec![key.forge_key_recovery_update(self.opts.id, round, cfg.len, 6)?]
                }
                Misbehave::BadShare
                | Misbehave::ShiftShare
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
    pub(super) fn on_approve(&mut self, task: &Task) -> Result<Submission> {
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
    pub(super) fn verify_request(&self, task: &Task, info: &RequestInfo) -> Result<()> {
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

    pub(super) fn on_decrypt(&mut self, task: &Task) -> Result<Submission> {
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
        let payload = if self.misbehaves(task.round) == Some(Misbehave::ShiftShare) {
            warn!(
                round = task.round,
                "sending a shifted decryption share on purpose (test)"
            );
            let key = self
                .client
                .as_ref()
                .and_then(|c| c.session_key())
                .ok_or_else(|| proto("no key"))?;
            ml_he::aggregation::shift_decryption_share(key, &share, 1.0)?
        } else if self.misbehaves(task.round) == Some(Misbehave::BadShare) {
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

    pub(super) fn on_result(&self, task: &Task) -> Result<()> {
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
}
