//! Key generation: committed public-key shares, Shamir dealing, evaluation keys and the signed confirmation of the collective key (CKKS), or the threshold Paillier dealing.

use super::*;

impl Driver {
    /// The session task, collecting each party's session-bound signature of
    /// its end-to-end key and (CKKS) its signed public-key commitment.
    pub(super) async fn join_session(&mut self) -> Result<BTreeMap<u32, [u8; 32]>> {
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
    pub(super) async fn keygen_ckks(&mut self, params: &Arc<AggregationParams>) -> Result<Keygen> {
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
        let mut key =
            block(|| SessionKey::from_shares(params, c.accepted.into_values().map(|v| v.0)))?;
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
        let proves_shares = params.share_proof_params().is_some();
        let peers = self.peers();
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
                let com = if proves_shares {
                    peers.verify(
                        &sid,
                        phase::DEAL_COMMIT,
                        0,
                        p,
                        &sign::sha256(&s.payload),
                        &s.signature,
                    )?;
                    let c =
                        block(|| threshold::vss::DealingCommitment::from_bytes(&rp, &s.payload))?;
                    check_sender(p, c.party(), "dealing commitment")?;
                    Some((c, signed_entry(p, Kind::Deal, s)))
                } else {
                    None
                };
                Ok((s.sealed.clone(), com))
            })
            .await;
        self.keygen_failed("Shamir dealing", &c)?;
        let mut boxes: Vec<Sealed> = Vec::new();
        let mut coms = Vec::new();
        let mut com_entries = Vec::new();
        for (sealed, com) in c.accepted.into_values() {
            boxes.extend(sealed);
            if let Some((c, e)) = com {
                coms.push(c);
                com_entries.push(e);
            }
        }
        if proves_shares {
            key = block(|| key.with_dealings(&coms))?;
            info!(key = %hex(&key.id()[..8]), "dealing commitments: every member's share commitment");
        }
        self.try_substituted(&boxes, crate::party::DEAL_PURPOSE);
        let mut mailbox: BTreeMap<u32, Vec<Sealed>> = BTreeMap::new();
        for b in boxes {
            mailbox.entry(b.to).or_default().push(b);
        }
        for &p in &all {
            let mut t = Task::new(Kind::Dealings);
            t.sealed = mailbox.remove(&p).unwrap_or_default();
            t.directory = self.announcements(p);
            t.signed = com_entries.clone();
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
    pub(super) async fn keygen_paillier(&mut self) -> Result<Keygen> {
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
    pub(super) async fn confirm_keys(&mut self, relay: Vec<Signed>) -> Result<()> {
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
}
