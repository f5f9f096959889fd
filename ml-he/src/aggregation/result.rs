//! The result party: checking decryption shares and combining them.

use super::*;

/// The outcome of a round.
#[derive(Clone, Debug, PartialEq)]
pub struct RoundResult {
    /// The average of the contributors' updates.
    pub average: Vec<f64>,
    /// Who contributed (the average divides by their number).
    pub contributors: Vec<u32>,
    /// Who decrypted.
    pub committee: Vec<u32>,
    /// Stated bound on the absolute error of each coordinate of `average`.
    pub precision: f64,
}

/// Checks a decryption share's header against the request (key, round,
/// request id, committee, sizes); returns its sender and payload.
pub(super) fn check_share_header<'a>(
    key: &SessionKey,
    round: u64,
    count: u32,
    request_id: &[u8; 32],
    active: &ActiveSet,
    share: &'a [u8],
) -> Result<(u32, &'a [u8])> {
    const WHAT: &str = "decryption share";
    let p = &key.params;
    let (h, payload): (ShareHeader, _) = unframe(share, WHAT, p.fingerprint())?;
    check_tag(&h.tag, &SHARE_TAG, WHAT)?;
    if h.key != key.id || &h.request != request_id || h.round != round {
        return Err(Error::SessionMismatch {
            what: "decryption share of another request".into(),
        });
    }
    if !active.contains(PartyId(h.party)) {
        return Err(Error::UnknownParty { party: h.party });
    }
    let one = packed_len(p.ring());
    let want_proofs = crate::committee::proof_count(p.shares.as_ref(), count as usize);
    if h.count != count
        || h.proofs as usize != want_proofs
        || payload.len() != one * h.count as usize + p.share_proof_bytes(count as usize)
    {
        return Err(Error::Malformed {
            what: WHAT,
            reason: format!(
                "{} bytes for {} shares and {} proofs",
                payload.len(),
                h.count,
                h.proofs
            ),
        });
    }
    Ok((h.party, payload))
}

/// The client who made the decryption share `share`, after checking that it
/// answers `request` (same collective key, round, contributions, attempt and
/// committee: a share of another or retried request is
/// [`Error::SessionMismatch`]), that its sender is a member of the request's
/// committee ([`Error::UnknownParty`]), and its size and every residue
/// (below its modulus, [`Error::Malformed`]) and, in a session that proves
/// shares, that its proofs decode ([`Error::InvalidShareProof`]; they are
/// *verified* by [`combine`], which needs the sum). Nothing is combined:
/// use it to match a share with its authenticated sender before
/// [`combine`]. Only the request's header is read, not its contributions.
pub fn decryption_share_sender(key: &SessionKey, request: &[u8], share: &[u8]) -> Result<u32> {
    const WHAT: &str = "decryption share";
    let (h, active, _) = parse_request_header(key, request)?;
    let info = request_info(
        &key.id,
        h.round,
        h.attempt,
        active.parties().iter().map(|p| p.0).collect(),
        &h.contributors,
        &h.digests,
    );
    let rid = request_id(&key.id, &info);
    let (party, payload) = check_share_header(key, h.round, h.count, &rid, &active, share)?;
    let ring = key.params.ring();
    let one = packed_len(ring);
    let count = h.count as usize;
    let (polys, proofs) = payload.split_at(one * count);
    polys
        .par_chunks(one)
        .try_for_each(|c| unpack_poly(ring, Representation::Ntt, c, WHAT).map(|_| ()))?;
    if let Some(zp) = &key.params.shares {
        crate::committee::read_share_proofs(zp, party, count, proofs)?;
    }
    Ok(party)
}

/// Combines the committee's decryption shares of `request` into the
/// average (the sum is recomputed from the request's contributions). Every
/// committee member's share is needed ([`threshold::Error::TooFewShares`]
/// otherwise); shares of another request or key are
/// [`Error::SessionMismatch`], a share from outside the committee
/// [`Error::UnknownParty`], two from the same client
/// [`Error::DuplicateSubmission`]. In a session that proves shares, every
/// share's proofs are verified against the sum and the member's share
/// commitment first: a shifted or otherwise wrong share is
/// [`Error::InvalidShareProof`] naming its sender (the round can then go
/// to another committee).
pub fn combine(key: &SessionKey, request: &[u8], shares: &[Vec<u8>]) -> Result<RoundResult> {
    const WHAT: &str = "decryption share";
    let p = key.params.clone();
    let req = parse_request(key, request)?;
    let ring = p.ring();
    let one = packed_len(ring);
    let mut seen = BTreeSet::new();
    let mut per_share: Vec<(u32, &[u8])> = Vec::with_capacity(shares.len());
    for s in shares {
        let (party, payload) = check_share_header(
            key,
            req.header.round,
            req.header.count,
            &req.id,
            &req.active,
            s,
        )?;
        if !seen.insert(party) {
            return Err(Error::DuplicateSubmission { party });
        }
        per_share.push((party, payload));
    }
    if per_share.len() < req.active.parties().len() {
        return Err(Error::Threshold(threshold::Error::TooFewShares {
            got: per_share.len(),
            need: req.active.parties().len(),
        }));
    }
    if let Some((zp, m)) = key.members()? {
        let count = req.header.count as usize;
        let cts: Vec<&rlwe::ciphertext::Ciphertext> = req.sum.iter().map(|c| c.rlwe()).collect();
        // Every share's proofs, in parallel; the first failure (in party
        // order) names its sender.
        let checks: Vec<Result<()>> = per_share
            .par_iter()
            .map(|&(party, payload)| {
                let (polys, proofs) = payload.split_at(one * count);
                let ds = p.unpack_polys(polys, count, WHAT)?;
                m.verify(
                    zp,
                    party,
                    &cts,
                    &req.active,
                    &ds,
                    proofs,
                    &share_context(key, &req.id, party),
                )
            })
            .collect();
        for c in checks {
            c?;
        }
    }
    let k = req.header.contributors.len() as f64;
    let len = req.header.len as usize;
    let chunks: Vec<Vec<f64>> = req
        .sum
        .par_iter()
        .enumerate()
        .map(|(i, ct)| {
            let ds = per_share
                .iter()
                .map(|(party, payload)| {
                    let poly = unpack_poly(
                        ring,
                        Representation::Ntt,
                        &payload[i * one..(i + 1) * one],
                        WHAT,
                    )?;
                    Ok(DecryptionShare::from_parts(PartyId(*party), poly))
                })
                .collect::<Result<Vec<_>>>()?;
            let pt = DecryptionShares::aggregate(ct.rlwe(), ds, Some(&req.active))?
                .finish_ckks(&p.ckks, ct.scale())?;
            Ok(p.decode(&pt).into_iter().map(|x| x / k).collect())
        })
        .collect::<Result<_>>()?;
    let mut average: Vec<f64> = chunks.into_iter().flatten().collect();
    average.truncate(len);
    Ok(RoundResult {
        average,
        contributors: req.header.contributors.clone(),
        committee: req.info.committee.clone(),
        precision: p.sum_precision / k,
    })
}

/// **An attack, for tests of the refusal paths only**: the decryption
/// share `share` (bytes of [`Client::decryption_share`]) with its first
/// polynomial moved by `round(value·Δ)` in coefficient 0 — the published
/// sum's first coordinate moves by `value` — and its proofs unchanged
/// (issue 18's shifted share). A session that proves shares refuses it in
/// [`combine`] with [`Error::InvalidShareProof`] naming the sender.
#[doc(hidden)]
pub fn shift_decryption_share(key: &SessionKey, share: &[u8], value: f64) -> Result<Vec<u8>> {
    const WHAT: &str = "decryption share";
    let p = &key.params;
    let (h, payload): (ShareHeader, _) = unframe(share, WHAT, p.fingerprint())?;
    let one = packed_len(p.ring());
    if payload.len() < one {
        return Err(Error::Malformed {
            what: WHAT,
            reason: "no share".into(),
        });
    }
    let mut first = unpack_poly(p.ring(), Representation::Ntt, &payload[..one], WHAT)?;
    let mut off = rlwe::sample::wide_poly(p.ring(), &[(value * p.scale).round() as i128]);
    off.to_ntt();
    first.add_assign(&off)?;
    let mut out = Vec::with_capacity(payload.len());
    pack_poly(&first, &mut out);
    out.extend_from_slice(&payload[one..]);
    Ok(frame(p.fingerprint(), &h, &out))
}
