//! Message formats, digests, and decryption requests: what a committee member checks and recomputes.

use super::*;

pub(super) const UPDATE_TAG: [u8; 8] = *b"agg/upd2";
pub(super) const REQUEST_TAG: [u8; 8] = *b"agg/req3";
pub(super) const SHARE_TAG: [u8; 8] = *b"agg/dsh3";

/// Decryption attempts allowed per round: the first and up to
/// `MAX_ATTEMPTS − 1` re-randomized retries (after a committee member drops
/// out). A committee member refuses attempt numbers beyond this, so the
/// number of decryptions of a round's sum is bounded whatever the server
/// asks; the noise budget counts one fresh encryption of zero per retry.
pub const MAX_ATTEMPTS: u32 = MAX_RETRIES + 1;

#[derive(Serialize, Deserialize)]
pub(super) struct UpdateHeader {
    pub(super) tag: [u8; 8],
    pub(super) key: [u8; 32],
    pub(super) round: u64,
    pub(super) client: u32,
    pub(super) len: u64,
    pub(super) count: u32,
    pub(super) scale: f64,
    /// Proofs after the ciphertexts: `count` in a session that proves
    /// updates, else 0.
    pub(super) proofs: u32,
}

/// The header of a decryption request. The payload is every contribution's
/// exact bytes (in `contributors` order), which every committee member
/// checks in full — format, digest and, in a session that proves updates,
/// every proof — and sums itself, so the server cannot have anything
/// decrypted but the sum of the listed, proven contributions.
#[derive(Serialize, Deserialize)]
pub(super) struct RequestHeader {
    pub(super) tag: [u8; 8],
    pub(super) key: [u8; 32],
    pub(super) round: u64,
    pub(super) attempt: u32,
    pub(super) len: u64,
    pub(super) committee: Vec<u32>,
    pub(super) contributors: Vec<u32>,
    pub(super) digests: Vec<[u8; 32]>,
    /// Size of each contribution.
    pub(super) sizes: Vec<u64>,
    pub(super) count: u32,
    pub(super) scale: f64,
}

#[derive(Serialize, Deserialize)]
pub(super) struct ShareHeader {
    pub(super) tag: [u8; 8],
    pub(super) key: [u8; 32],
    pub(super) round: u64,
    pub(super) request: [u8; 32],
    pub(super) party: u32,
    pub(super) count: u32,
    /// Proofs after the shares (sessions that prove shares: one per
    /// [`zk::ShareParams::count`] shares), else 0.
    pub(super) proofs: u32,
}

/// The context a member's share proofs are bound to: the session key (its
/// digest covers the share commitments), the request (round, attempt,
/// committee, contributions) and the member.
pub(super) fn share_context(key: &SessionKey, request: &[u8; 32], party: u32) -> [u8; 32] {
    let mut t = zk::Transcript::new(b"ml-he/aggregation/share-proof/v1");
    t.append(b"key", &key.id);
    t.append(b"request", request);
    t.append_u64(b"party", u64::from(party));
    t.finish()
}

/// The digest of an encrypted update's bytes, as signed by its sender and
/// listed in decryption requests. It hashes the update in two parts — the
/// header and first half of the payload, then the second half — so that
/// a party holding only the second half and the first part's hash can
/// check it ([`update_digest_from_parts`]); decryption requests carry whole
/// updates (a committee member verifies every proof).
pub fn update_digest(bytes: &[u8]) -> [u8; 32] {
    let (head, tail) = split_update(bytes);
    update_digest_from_parts(&head_digest(head), tail)
}

/// [`update_digest`] from the hash of the first part and the second part.
pub fn update_digest_from_parts(head: &[u8; 32], tail: &[u8]) -> [u8; 32] {
    let mut data = head.to_vec();
    data.extend_from_slice(&digest(b"ml-he/aggregation/update-tail/v2", tail));
    digest(b"ml-he/aggregation/update/v2", &data)
}

pub(super) fn head_digest(head: &[u8]) -> [u8; 32] {
    digest(b"ml-he/aggregation/update-head/v2", head)
}

/// An update's two parts: its length prefix, header and the first half of
/// its payload; the second half. (Bytes that are not a framed message are
/// all head.)
pub(super) fn split_update(bytes: &[u8]) -> (&[u8], &[u8]) {
    let Some(prefix) = bytes.get(..8) else {
        return (bytes, &[]);
    };
    let mut w = [0u8; 8];
    w.copy_from_slice(prefix);
    let hl = u64::from_le_bytes(w);
    if hl > (bytes.len() - 8) as u64 {
        return (bytes, &[]);
    }
    let start = 8 + hl as usize;
    let half = (bytes.len() - start) / 2;
    bytes.split_at(bytes.len() - half)
}

/// The digest of a round's set of contributions: the session (key)
/// identifier, the round and the sorted `(party, update digest)` list.
/// What a contributor approves and a committee member decrypts at most once
/// per round.
pub fn contribution_set_digest(id: &[u8; 32], round: u64, set: &[(u32, [u8; 32])]) -> [u8; 32] {
    let mut data = id.to_vec();
    data.extend_from_slice(&round.to_le_bytes());
    for (p, d) in set {
        data.extend_from_slice(&p.to_le_bytes());
        data.extend_from_slice(d);
    }
    digest(b"ml-he/aggregation/contribution-set/v1", &data)
}

/// What a decryption request asks for, read from its header alone (cheap):
/// the round, the attempt, the committee and the contributions by party and
/// digest. A caller that authenticates senders (signatures over
/// [`update_digest`]s, approvals of [`RequestInfo::set_digest`]) checks them
/// against this before answering the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestInfo {
    /// The round.
    pub round: u64,
    /// The attempt (0 first; a retry decrypts a re-randomized sum).
    pub attempt: u32,
    /// The committee asked for shares.
    pub committee: Vec<u32>,
    /// `(party, update digest)` of every contribution, sorted by party.
    pub contributions: Vec<(u32, [u8; 32])>,
    /// [`contribution_set_digest`] of `contributions`.
    pub set_digest: [u8; 32],
}

pub(super) fn request_info(
    id: &[u8; 32],
    round: u64,
    attempt: u32,
    committee: Vec<u32>,
    contributors: &[u32],
    digests: &[[u8; 32]],
) -> RequestInfo {
    let contributions: Vec<(u32, [u8; 32])> = contributors
        .iter()
        .copied()
        .zip(digests.iter().copied())
        .collect();
    let set_digest = contribution_set_digest(id, round, &contributions);
    RequestInfo {
        round,
        attempt,
        committee,
        contributions,
        set_digest,
    }
}

/// Identifies one request: the set, the attempt and the committee.
pub(crate) fn request_id(id: &[u8; 32], info: &RequestInfo) -> [u8; 32] {
    let mut data = id.to_vec();
    data.extend_from_slice(&info.set_digest);
    data.extend_from_slice(&info.attempt.to_le_bytes());
    for c in &info.committee {
        data.extend_from_slice(&c.to_le_bytes());
    }
    digest(b"ml-he/aggregation/request/v2", &data)
}

/// Checks the contributor list of a request (distinct, known, sorted,
/// non-empty, one digest and size each, sizes adding up to the payload) and
/// the attempt number.
#[allow(clippy::too_many_arguments)]
pub(super) fn check_contribution_list(
    what: &'static str,
    clients: usize,
    round: u64,
    attempt: u32,
    contributors: &[u32],
    digests: &[[u8; 32]],
    sizes: &[u64],
    payload_len: usize,
) -> Result<()> {
    if contributors.is_empty() {
        return Err(Error::Protocol(format!("{what} with no contributor")));
    }
    if digests.len() != contributors.len() || sizes.len() != contributors.len() {
        return Err(Error::Malformed {
            what,
            reason: format!(
                "{} contributors, {} digests, {} sizes",
                contributors.len(),
                digests.len(),
                sizes.len()
            ),
        });
    }
    let mut prev = 0u32;
    for &c in contributors {
        if c == 0 || c as usize > clients {
            return Err(Error::UnknownParty { party: c });
        }
        if c == prev {
            return Err(Error::DuplicateSubmission { party: c });
        }
        if c < prev {
            return Err(Error::Malformed {
                what,
                reason: "contributors not in increasing order".into(),
            });
        }
        prev = c;
    }
    let total = sizes
        .iter()
        .try_fold(0u64, |a, &s| a.checked_add(s))
        .unwrap_or(u64::MAX);
    if total != payload_len as u64 {
        return Err(Error::Malformed {
            what,
            reason: format!("contribution sizes add up to {total}, payload is {payload_len} bytes"),
        });
    }
    if attempt >= MAX_ATTEMPTS {
        return Err(Error::TooManyAttempts {
            round,
            attempt,
            max: MAX_ATTEMPTS,
        });
    }
    Ok(())
}

/// Splits a request's payload into its contributions and checks each
/// against its listed digest.
pub(super) fn split_contributions<'a>(
    what: &'static str,
    payload: &'a [u8],
    sizes: &[u64],
    digests: &[[u8; 32]],
) -> Result<Vec<&'a [u8]>> {
    let mut out = Vec::with_capacity(sizes.len());
    let mut at = 0usize;
    for (i, (&s, d)) in sizes.iter().zip(digests).enumerate() {
        let end = at + s as usize;
        let bytes = &payload[at..end];
        if &update_digest(bytes) != d {
            return Err(Error::Malformed {
                what,
                reason: format!("contribution {i} does not match its digest"),
            });
        }
        out.push(bytes);
        at = end;
    }
    Ok(out)
}

/// A parsed decryption request whose sum was recomputed from the
/// contributions it carries, each checked in full.
pub(super) struct Request {
    pub(super) header: RequestHeader,
    pub(super) info: RequestInfo,
    pub(super) id: [u8; 32],
    pub(super) sum: Vec<ckks::Ciphertext>,
    pub(super) active: ActiveSet,
}

pub(super) fn parse_request(key: &SessionKey, bytes: &[u8]) -> Result<Request> {
    const WHAT: &str = "decryption request";
    let (header, active, payload) = parse_request_header(key, bytes)?;
    let p = &key.params;
    let count = header.count as usize;
    let mut at = 0usize;
    let mut sum: Option<Vec<(Poly, Poly)>> = None;
    for (i, &size) in header.sizes.iter().enumerate() {
        let contribution = &payload[at..at + size as usize];
        at += size as usize;
        if update_digest(contribution) != header.digests[i] {
            return Err(Error::Malformed {
                what: WHAT,
                reason: format!("contribution {i} does not match its digest"),
            });
        }
        // Every check of the server, proofs included, against the party
        // the request names.
        let u = parse_update(
            key,
            header.round,
            header.len as usize,
            Some(header.contributors[i]),
            contribution,
        )?;
        let parts: Vec<(Poly, Poly)> = u
            .cts
            .iter()
            .map(|ct| {
                let [c0, c1] = ct.rlwe().parts() else {
                    return Err(Error::Protocol("ciphertext with three parts".into()));
                };
                Ok((c0.clone(), c1.clone()))
            })
            .collect::<Result<_>>()?;
        match &mut sum {
            None => sum = Some(parts),
            Some(s) => s.par_iter_mut().zip(parts.par_iter()).try_for_each(
                |((a0, a1), (b0, b1))| -> Result<()> {
                    a0.add_assign(b0)?;
                    Ok(a1.add_assign(b1)?)
                },
            )?,
        }
    }
    let mut sum = sum.ok_or_else(|| Error::Protocol(format!("{WHAT} with no contributor")))?;
    let info = request_info(
        &key.id,
        header.round,
        header.attempt,
        active.parties().iter().map(|p| p.0).collect(),
        &header.contributors,
        &header.digests,
    );
    if header.attempt > 0 {
        // A public encryption of zero: its randomness comes from the request
        // itself, so every member adds the same ciphertext and sees that it
        // encrypts zero — the server adds nothing of its own.
        let mut data = info.set_digest.to_vec();
        data.extend_from_slice(&header.attempt.to_le_bytes());
        let mut seed_rng =
            ChaCha20Rng::from_seed(digest(b"ml-he/aggregation/rerandomize/v1", &data));
        let zero = p.plaintext(&[])?;
        let rngs = child_rngs(&mut seed_rng, count);
        sum.par_iter_mut()
            .zip(rngs)
            .try_for_each(|((a, b), mut r)| -> Result<()> {
                let z = key.pk.encrypt(&zero, &mut r)?;
                let [z0, z1] = z.rlwe().parts() else {
                    return Err(Error::Protocol(
                        "encryption of zero with three parts".into(),
                    ));
                };
                a.add_assign(z0)?;
                Ok(b.add_assign(z1)?)
            })?;
    }
    let sum = sum
        .into_iter()
        .map(|(a, b)| p.ciphertext(a, b))
        .collect::<Result<Vec<_>>>()?;
    let id = request_id(&key.id, &info);
    Ok(Request {
        header,
        info,
        id,
        sum,
        active,
    })
}

/// The checked header and committee of a decryption request, and its
/// (unparsed) payload.
pub(super) fn parse_request_header<'a>(
    key: &SessionKey,
    bytes: &'a [u8],
) -> Result<(RequestHeader, ActiveSet, &'a [u8])> {
    let p = &key.params;
    const WHAT: &str = "decryption request";
    let (h, payload): (RequestHeader, _) = unframe(bytes, WHAT, p.fingerprint())?;
    check_tag(&h.tag, &REQUEST_TAG, WHAT)?;
    if h.key != key.id {
        return Err(Error::SessionMismatch {
            what: "decryption request for another collective key".into(),
        });
    }
    check_contribution_list(
        WHAT,
        p.config.clients,
        h.round,
        h.attempt,
        &h.contributors,
        &h.digests,
        &h.sizes,
        payload.len(),
    )?;
    if h.scale != p.scale {
        return Err(Error::Malformed {
            what: WHAT,
            reason: format!("scale {} is not the session's", h.scale),
        });
    }
    if h.len == 0 || h.count as usize != p.ciphertexts_for(h.len as usize) {
        return Err(Error::Malformed {
            what: WHAT,
            reason: format!("{} ciphertexts for {} values", h.count, h.len),
        });
    }
    let active = p.active_set(&h.committee)?;
    Ok((h, active, payload))
}

/// What decryption request `request` asks for, from its header alone (see
/// [`RequestInfo`]); every check of the header is made, the contributions
/// themselves are not read.
pub fn inspect_request(key: &SessionKey, request: &[u8]) -> Result<RequestInfo> {
    let (h, active, _) = parse_request_header(key, request)?;
    Ok(request_info(
        &key.id,
        h.round,
        h.attempt,
        active.parties().iter().map(|p| p.0).collect(),
        &h.contributors,
        &h.digests,
    ))
}

/// The header checks every encrypted update passes (CKKS and Paillier):
/// its round, its client (known, and `expected` if given), its length.
pub(super) fn check_update_header(
    round: u64,
    len: usize,
    expected: Option<u32>,
    h_round: u64,
    client: u32,
    h_len: u64,
    check_party: impl Fn(u32) -> Result<()>,
) -> Result<()> {
    if h_round != round {
        return Err(Error::SessionMismatch {
            what: format!("update for round {h_round}, this is round {round}"),
        });
    }
    check_party(client)?;
    if let Some(expected) = expected.filter(|&e| e != client) {
        return Err(Error::WrongSender {
            claimed: client,
            expected,
        });
    }
    if h_len as usize != len {
        return Err(Error::Shape(format!(
            "update of {h_len} values, the round expects {len}"
        )));
    }
    Ok(())
}

/// Parses and checks one encrypted update for `round` of `len` values
/// (from `expected` if given): tag, key, round, party, length, sizes and
/// every residue.
pub(super) fn parse_update(
    key: &SessionKey,
    round: u64,
    len: usize,
    expected: Option<u32>,
    bytes: &[u8],
) -> Result<CheckedUpdate<ckks::Ciphertext>> {
    const WHAT: &str = "encrypted update";
    let p = &key.params;
    let (h, payload): (UpdateHeader, _) = unframe(bytes, WHAT, p.fingerprint())?;
    check_tag(&h.tag, &UPDATE_TAG, WHAT)?;
    if h.key != key.id {
        return Err(Error::SessionMismatch {
            what: "ciphertext under another collective key".into(),
        });
    }
    check_update_header(round, len, expected, h.round, h.client, h.len, |c| {
        p.check_party(c)
    })?;
    if h.count as usize != p.ciphertexts_for(len) || h.scale != p.scale {
        return Err(Error::Malformed {
            what: WHAT,
            reason: format!("{} ciphertexts at scale {}", h.count, h.scale),
        });
    }
    let count = h.count as usize;
    let ct_len = count * 2 * packed_len(p.ring());
    match (&p.proof, h.proofs) {
        (Some(_), 0) => {
            return Err(Error::InvalidUpdateProof {
                party: h.client,
                reason: "the session proves updates and this one carries no proof".into(),
            })
        }
        (Some(_), k) if k as usize == count => {}
        (None, 0) => {}
        (_, k) => {
            return Err(Error::Malformed {
                what: WHAT,
                reason: format!("{k} proofs for {count} ciphertexts"),
            })
        }
    }
    let proof_len = if h.proofs == 0 {
        0
    } else {
        count * p.proof_bytes()
    };
    if payload.len() != ct_len + proof_len {
        return Err(Error::Malformed {
            what: WHAT,
            reason: format!(
                "payload of {} bytes for {count} ciphertexts ({ct_len} bytes) and proofs ({proof_len} bytes)",
                payload.len()
            ),
        });
    }
    let (ct_bytes, proof_bytes) = payload.split_at(ct_len);
    let cts = p.unpack_cts(ct_bytes, count, WHAT)?;
    if let Some(zp) = &p.proof {
        let zkey = key
            .zk
            .as_ref()
            .ok_or_else(|| Error::Protocol("session key without its proof key".into()))?;
        let context = super::key::proof_context(key, &h, ct_bytes);
        let bad = |i: usize, e: zk::Error| Error::InvalidUpdateProof {
            party: h.client,
            reason: format!("ciphertext {i}: {e}"),
        };
        proof_bytes
            .par_chunks(zp.proof_bytes())
            .zip(cts.par_iter())
            .enumerate()
            .try_for_each(|(i, (b, ct))| -> Result<()> {
                let proof = zk::EncProof::from_bytes(zp, b).map_err(|e| bad(i, e))?;
                let [c0, c1] = ct.rlwe().parts() else {
                    return Err(Error::Protocol("ciphertext with three parts".into()));
                };
                zk::verify(zp, zkey, &context, i as u64, (c0, c1), &proof).map_err(|e| bad(i, e))
            })?;
    }
    Ok(CheckedUpdate {
        id: h.key,
        round: h.round,
        client: h.client,
        digest: update_digest(bytes),
        bytes: bytes.to_vec(),
        cts,
    })
}
