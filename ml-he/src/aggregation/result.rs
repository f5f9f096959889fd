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
    if h.count != count || payload.len() != one * h.count as usize {
        return Err(Error::Malformed {
            what: WHAT,
            reason: format!("{} bytes for {} shares", payload.len(), h.count),
        });
    }
    Ok((h.party, payload))
}

/// The client who made the decryption share `share`, after checking that it
/// answers `request` (same collective key, round, contributions, attempt and
/// committee: a share of another or retried request is
/// [`Error::SessionMismatch`]), that its sender is a member of the request's
/// committee ([`Error::UnknownParty`]), and its size and every residue
/// (below its modulus, [`Error::Malformed`]). Nothing is combined: use it to
/// match a share with its authenticated sender before [`combine`]. Only the
/// request's header is read, not its contributions.
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
    payload
        .par_chunks(one)
        .try_for_each(|c| unpack_poly(ring, Representation::Ntt, c, WHAT).map(|_| ()))?;
    Ok(party)
}

/// Combines the committee's decryption shares of `request` into the
/// average (the sum is recomputed from the request's contributions). Every
/// committee member's share is needed ([`threshold::Error::TooFewShares`]
/// otherwise); shares of another request or key are
/// [`Error::SessionMismatch`], a share from outside the committee
/// [`Error::UnknownParty`], two from the same client
/// [`Error::DuplicateSubmission`].
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
