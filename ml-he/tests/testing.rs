//! Private model testing: the revealed result is exactly the total
//! confusion matrix of the parties' local evaluations; bad input is refused;
//! a malicious server's attacks on the decryption committee (one party's
//! counts alone, forged contributions, a second contribution set, unbounded
//! retries, tampered requests) are replayed through the public API and
//! refused with specific errors — or, for forgeries in another party's name,
//! detected by the caller's check of authenticated digests.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use ml_he::data::Dataset;
use ml_he::testing::*;
use ml_he::Error;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// A random 3-class data set and a fixed public "model".
fn data(n: usize, seed: u64) -> Dataset {
    let mut r = rng(seed);
    let x: Vec<Vec<f64>> = (0..n)
        .map(|_| (0..4).map(|_| r.gen_range(-1.0..1.0)).collect())
        .collect();
    let y = (0..n).map(|_| r.gen_range(0..3)).collect();
    Dataset::new(x, y).unwrap()
}

fn model(x: &[f64]) -> ml_he::Result<usize> {
    let s = x[0] + 0.5 * x[1] - x[2];
    Ok(if s < -0.3 {
        0
    } else if s < 0.4 {
        1
    } else {
        2
    })
}

/// A session of `n` parties, threshold `t`, 3 classes: collective key,
/// Shamir dealing (committed: share proofs are on by default), key
/// installed.
fn session(
    n: usize,
    t: usize,
    seed: u64,
) -> (Arc<TestingParams>, TestingKey, Vec<TestParty>, ChaCha20Rng) {
    session_of(TestingParams::new(n, t, 3, [seed as u8; 32]).unwrap(), seed)
}

fn session_of(
    params: Arc<TestingParams>,
    seed: u64,
) -> (Arc<TestingParams>, TestingKey, Vec<TestParty>, ChaCha20Rng) {
    let mut r = rng(seed);
    let n = params.parties();
    let mut parties: Vec<TestParty> = (1..=n as u32)
        .map(|i| TestParty::new(&params, i, &mut r).unwrap())
        .collect();
    let shares: Vec<_> = parties
        .iter_mut()
        .map(|p| p.public_key_share(&mut r).unwrap())
        .collect();
    let key = TestingKey::from_shares(&params, shares).unwrap();
    let key = deal_all(&mut parties, &key, &mut r).unwrap();
    assert_eq!(key.has_share_commitments(), params.proves_shares());
    (params, key, parties, r)
}

/// Each party's confusion matrix on its own data and its contribution.
fn contributions(
    parties: &[TestParty],
    r: &mut ChaCha20Rng,
) -> (Vec<ConfusionMatrix>, Vec<Vec<u8>>) {
    parties
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let cm = p
                .evaluate(&data(40 + 13 * i, 100 + i as u64), model)
                .unwrap();
            let bytes = p.encrypt_counts(&cm, r).unwrap();
            (cm, bytes)
        })
        .unzip()
}

fn total(cms: &[ConfusionMatrix]) -> ConfusionMatrix {
    let mut sum = ConfusionMatrix::new(3);
    for cm in cms {
        sum.add(cm).unwrap();
    }
    sum
}

/// Decryption shares of `request` from each member of `committee`.
fn shares_of(
    parties: &mut [TestParty],
    committee: &[u32],
    request: &[u8],
    r: &mut ChaCha20Rng,
) -> Vec<Vec<u8>> {
    committee
        .iter()
        .map(|&i| {
            parties[i as usize - 1]
                .decryption_share(request, r)
                .unwrap()
        })
        .collect()
}

/// What a committee member's runtime does before answering a request when
/// the transport authenticates senders: every listed contribution must be
/// the one its party signed (`signed`: party → digest of the bytes it
/// sent). Returns the first party whose listed contribution it did not
/// sign.
fn check_signed(info: &RequestInfo, signed: &BTreeMap<u32, [u8; 32]>) -> Result<(), u32> {
    for (party, d) in &info.contributions {
        if signed.get(party) != Some(d) {
            return Err(*party);
        }
    }
    Ok(())
}

/// `request` with its attempt number replaced, as a malicious server could
/// write it (the attempt follows the session key id in the request header).
fn with_attempt(key: &TestingKey, request: &[u8], attempt: u32) -> Vec<u8> {
    let at = request
        .windows(32)
        .position(|w| w == key.id())
        .expect("key id in the header")
        + 32;
    // the attempt is a postcard varint (LEB128): replace it whole
    let len = request[at..]
        .iter()
        .position(|b| b & 0x80 == 0)
        .expect("varint end")
        + 1;
    let mut varint = Vec::new();
    let mut v = attempt;
    loop {
        let low = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            varint.push(low);
            break;
        }
        varint.push(low | 0x80);
    }
    let mut out = request.to_vec();
    // the header is framed by its length (u64, little endian)
    let mut hl = [0u8; 8];
    hl.copy_from_slice(&out[..8]);
    let hl = u64::from_le_bytes(hl) + varint.len() as u64 - len as u64;
    out[..8].copy_from_slice(&hl.to_le_bytes());
    out.splice(at..at + len, varint);
    out
}

/// (e) The honest path: the revealed matrix is exactly the plaintext sum,
/// also on a retry (attempt 1) by another committee; duplicates and garbage
/// are refused by the server, a committee of t − 1 cannot be formed, a
/// second share of the same attempt is refused.
#[test]
fn reveals_exactly_the_total_counts_also_on_a_retry() {
    let (n, t) = (4usize, 3usize);
    let (_params, key, mut parties, mut r) = session(n, t, 1);
    let sets: Vec<Dataset> = (0..n).map(|i| data(50 + 17 * i, 10 + i as u64)).collect();
    let mut server = TestingServer::new(&key);
    let mut expected = ConfusionMatrix::new(3);
    let mut sent = Vec::new();
    for (p, d) in parties.iter().zip(&sets) {
        let cm = p.evaluate(d, model).unwrap();
        assert_eq!(cm.total(), d.len() as u64);
        expected.add(&cm).unwrap();
        let bytes = p.encrypt_counts(&cm, &mut r).unwrap();
        sent.push(bytes.clone());
        assert_eq!(server.add_from(p.id(), &bytes).unwrap(), p.id());
    }
    // duplicates and garbage are refused
    assert!(matches!(
        server.add(&sent[0]),
        Err(Error::DuplicateSubmission { party: 1 })
    ));
    let mut fresh = TestingServer::new(&key);
    let b = &sent[1];
    assert!(matches!(
        fresh.add(&b[..b.len() - 1]),
        Err(Error::Malformed { .. })
    ));
    assert!(matches!(fresh.add(&b[..40]), Err(Error::Malformed { .. })));
    // t − 1 cannot decrypt (and a refused request is no attempt)
    assert!(matches!(
        server.decryption_request(&[1, 2]),
        Err(Error::Threshold(threshold::Error::TooFewShares { .. }))
    ));

    // attempt 0, committee {2, 3, 4}
    let committee = [2u32, 3, 4];
    let request = server.decryption_request(&committee).unwrap();
    let info = inspect_request(&key, &request).unwrap();
    assert_eq!(info.attempt, 0);
    assert_eq!(info.committee, committee);
    let signed: BTreeMap<u32, [u8; 32]> = (1..=n as u32)
        .zip(sent.iter().map(|b| contribution_digest(b)))
        .collect();
    assert_eq!(check_signed(&info, &signed), Ok(()));
    assert_eq!(
        info.set_digest,
        contribution_set_digest(key.id(), &info.contributions)
    );
    let dshares = shares_of(&mut parties, &committee, &request, &mut r);
    for (s, &c) in dshares.iter().zip(&committee) {
        assert_eq!(decryption_share_sender(&key, &request, s).unwrap(), c);
    }
    let result = combine(&key, &request, &dshares).unwrap();
    assert_eq!(result.confusion, expected);
    assert_eq!(result.contributors, vec![1, 2, 3, 4]);
    assert_eq!(result.committee, committee);
    let total: usize = sets.iter().map(|d| d.len()).sum();
    assert_eq!(result.confusion.total(), total as u64);
    let acc_plain = {
        let mut c = 0;
        for d in &sets {
            for (x, &y) in d.x.iter().zip(&d.y) {
                c += usize::from(model(x).unwrap() == y);
            }
        }
        c as f64 / total as f64
    };
    assert!((result.confusion.accuracy() - acc_plain).abs() < 1e-12);
    assert!(matches!(
        combine(&key, &request, &dshares[..2]),
        Err(Error::Threshold(threshold::Error::TooFewShares { .. }))
    ));

    // retry: attempt 1 by another committee (members 2 and 3 answered
    // attempt 0 too): the same set, a distinct ciphertext (sum plus the
    // public encryption of zero), the same exact counts
    let retry_committee = [1u32, 2, 3];
    let retry = server.decryption_request(&retry_committee).unwrap();
    let retry_info = inspect_request(&key, &retry).unwrap();
    assert_eq!(retry_info.attempt, 1);
    assert_eq!(retry_info.set_digest, info.set_digest);
    let retry_shares = shares_of(&mut parties, &retry_committee, &retry, &mut r);
    let again = combine(&key, &retry, &retry_shares).unwrap();
    assert_eq!(again.confusion, expected);
    assert_eq!(again.committee, retry_committee);
    // shares of attempt 0 do not answer attempt 1
    assert!(matches!(
        combine(&key, &retry, &dshares),
        Err(Error::SessionMismatch { .. })
    ));

    // the same attempt to another committee is the same ciphertext: a
    // member that already answered it refuses (threshold layer)
    let mut replay = TestingServer::new(&key);
    for b in &sent {
        replay.add(b).unwrap();
    }
    let same_attempt_0 = replay.decryption_request(&[1, 2, 4]).unwrap();
    assert!(matches!(
        parties[1].decryption_share(&same_attempt_0, &mut r),
        Err(Error::Threshold(threshold::Error::ShareReused { .. }))
    ));
}

/// (a) A request carrying one party's contribution alone is refused by
/// every committee member (below `min_contributors`); a raised minimum is
/// enforced likewise.
#[test]
fn refuses_one_partys_counts_alone() {
    let (_params, key, mut parties, mut r) = session(3, 2, 2);
    let (_, sent) = contributions(&parties, &mut r);
    // a malicious server asks for party 1's contribution alone
    let mut server = TestingServer::new(&key);
    server.add(&sent[0]).unwrap();
    let request = server.decryption_request(&[2, 3]).unwrap();
    for member in [2usize, 3] {
        assert!(matches!(
            parties[member - 1].decryption_share(&request, &mut r),
            Err(Error::TooFewContributors { got: 1, min: 2 })
        ));
    }
    // nothing was released: the same members still answer a proper request
    let mut honest = TestingServer::new(&key);
    honest.add(&sent[0]).unwrap();
    honest.add(&sent[2]).unwrap();
    let request = honest.decryption_request(&[2, 3]).unwrap();
    let shares = shares_of(&mut parties, &[2, 3], &request, &mut r);
    assert_eq!(
        combine(&key, &request, &shares).unwrap().contributors,
        vec![1, 3]
    );

    // each party enforces its own minimum
    let params = TestingParams::with_min_contributors(3, 2, 3, 3, [9; 32]).unwrap();
    assert_eq!(params.min_contributors(), 3);
    let (_, key, mut parties, mut r) = session_of(params, 22);
    let (_, sent) = contributions(&parties, &mut r);
    let mut server = TestingServer::new(&key);
    server.add(&sent[0]).unwrap();
    server.add(&sent[1]).unwrap();
    let request = server.decryption_request(&[1, 3]).unwrap();
    assert!(matches!(
        parties[0].decryption_share(&request, &mut r),
        Err(Error::TooFewContributors { got: 2, min: 3 })
    ));
    // the minimum must be at least 2 and at most n
    for k in [0, 1, 4] {
        assert!(matches!(
            TestingParams::with_min_contributors(3, 2, 3, k, [9; 32]),
            Err(Error::OutOfRange(_))
        ));
    }
}

/// (b) One real contribution plus a forged encryption of zero counts in
/// another party's name: the library cannot tell (anyone holding the public
/// key can encrypt in any name) and the committee would decrypt party 1's
/// counts as "the total"; a caller that compares [`inspect_request`] with
/// the senders' authenticated digests detects the forgery before answering.
#[test]
fn forged_contribution_in_another_name_is_caught_by_the_authenticated_digests() {
    let (params, key, mut parties, mut r) = session(4, 3, 3);
    let (cms, sent) = contributions(&parties, &mut r);
    // what each party signed: the digest of the bytes it sent
    let signed: BTreeMap<u32, [u8; 32]> = (1..=4u32)
        .zip(sent.iter().map(|b| contribution_digest(b)))
        .collect();

    // the server (or anyone) encrypts zero counts in party 2's name
    let mut forger = TestParty::new(&params, 2, &mut r).unwrap();
    forger.set_key(key.clone()).unwrap();
    let forged = forger
        .encrypt_counts(&ConfusionMatrix::new(3), &mut r)
        .unwrap();
    // over authenticated channels the server itself refuses it from
    // another sender
    let mut checked = TestingServer::new(&key);
    assert!(matches!(
        checked.add_from(3, &forged),
        Err(Error::WrongSender {
            claimed: 2,
            expected: 3
        })
    ));

    let mut server = TestingServer::new(&key);
    server.add(&sent[0]).unwrap();
    server.add(&forged).unwrap();
    let committee = [2u32, 3, 4];
    let request = server.decryption_request(&committee).unwrap();

    // the caller's check: party 2 never signed the listed contribution
    let info = inspect_request(&key, &request).unwrap();
    assert_eq!(
        info.contributions.iter().map(|c| c.0).collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert_eq!(info.contributions[0].1, signed[&1]);
    assert_ne!(info.contributions[1].1, signed[&2]);
    assert_eq!(check_signed(&info, &signed), Err(2));

    // without that check the attack works: the "total" is party 1's
    // counts, which is why senders must be authenticated
    let shares = shares_of(&mut parties, &committee, &request, &mut r);
    let leaked = combine(&key, &request, &shares).unwrap();
    assert_eq!(leaked.confusion, cms[0]);
    assert_eq!(leaked.contributors, vec![1, 2]);
    // and the members have now released that set: the honest total is
    // refused afterwards (the forgery costs availability as well)
    let mut honest = TestingServer::new(&key);
    for b in &sent {
        honest.add(b).unwrap();
    }
    let honest_request = honest.decryption_request(&committee).unwrap();
    assert_eq!(
        check_signed(&inspect_request(&key, &honest_request).unwrap(), &signed),
        Ok(())
    );
    assert!(matches!(
        parties[1].decryption_share(&honest_request, &mut r),
        Err(Error::AlreadyReleased { .. })
    ));
}

/// (c) After a member has answered a request, a request for a different
/// contribution set in the same session is refused: here the sum over all
/// but party 4, whose difference with the first total would be party 4's
/// counts.
#[test]
fn second_contribution_set_is_refused() {
    let (_params, key, mut parties, mut r) = session(4, 3, 4);
    let (cms, sent) = contributions(&parties, &mut r);
    let mut all = TestingServer::new(&key);
    for b in &sent {
        all.add(b).unwrap();
    }
    let request = all.decryption_request(&[1, 2, 3]).unwrap();
    let shares = shares_of(&mut parties, &[1, 2, 3], &request, &mut r);
    assert_eq!(
        combine(&key, &request, &shares).unwrap().confusion,
        total(&cms)
    );

    let mut all_but_4 = TestingServer::new(&key);
    for b in &sent[..3] {
        all_but_4.add(b).unwrap();
    }
    for committee in [[1u32, 2, 3], [2, 3, 4]] {
        let second = all_but_4.decryption_request(&committee).unwrap();
        assert_ne!(
            inspect_request(&key, &second).unwrap().set_digest,
            inspect_request(&key, &request).unwrap().set_digest
        );
        for &m in &committee {
            let got = parties[m as usize - 1].decryption_share(&second, &mut r);
            if m == 4 {
                // party 4 has released nothing yet; alone it cannot decrypt
                assert!(got.is_ok());
            } else {
                assert!(
                    matches!(got, Err(Error::AlreadyReleased { round: 0 })),
                    "{got:?}"
                );
            }
        }
    }
}

/// (d) Attempts are bounded: the server makes at most `MAX_ATTEMPTS`
/// requests, the last one still decrypts exactly, and a committee member
/// refuses a request whose attempt number is beyond the cap.
#[test]
fn attempts_beyond_the_cap_are_refused() {
    assert_eq!(MAX_ATTEMPTS, 5);
    let (_params, key, mut parties, mut r) = session(3, 2, 5);
    let (cms, sent) = contributions(&parties, &mut r);
    let mut server = TestingServer::new(&key);
    for b in &sent {
        server.add(b).unwrap();
    }
    let mut last = Vec::new();
    for attempt in 0..MAX_ATTEMPTS {
        last = server.decryption_request(&[1, 3]).unwrap();
        assert_eq!(inspect_request(&key, &last).unwrap().attempt, attempt);
    }
    assert!(matches!(
        server.decryption_request(&[1, 3]),
        Err(Error::TooManyAttempts {
            round: 0,
            attempt: 5,
            max: 5
        })
    ));
    // the last allowed attempt decrypts exactly
    let shares = shares_of(&mut parties, &[1, 3], &last, &mut r);
    assert_eq!(
        combine(&key, &last, &shares).unwrap().confusion,
        total(&cms)
    );

    // a malicious server writes attempt 5 (or any larger number) itself
    assert_eq!(
        inspect_request(&key, &with_attempt(&key, &last, 3))
            .unwrap()
            .attempt,
        3
    );
    for attempt in [MAX_ATTEMPTS, u32::MAX] {
        let beyond = with_attempt(&key, &last, attempt);
        let refused = |e: &Error| matches!(e, Error::TooManyAttempts { attempt: a, max: 5, .. } if *a == attempt);
        let e = parties[1].decryption_share(&beyond, &mut r).unwrap_err();
        assert!(refused(&e), "{e:?}");
        assert!(refused(&inspect_request(&key, &beyond).unwrap_err()));
        assert!(refused(&combine(&key, &beyond, &shares).unwrap_err()));
    }
}

/// Tampering: a contribution altered inside a request no longer matches
/// its listed digest (refused by members and result parties alike), a
/// truncated request is malformed, contributions under another key or
/// with a residue out of range are refused by the server; nothing is
/// released by a refused request.
#[test]
fn tampered_requests_and_contributions_are_refused() {
    let (_params, key, mut parties, mut r) = session(3, 2, 6);
    let (cms, sent) = contributions(&parties, &mut r);
    let mut server = TestingServer::new(&key);
    for b in &sent {
        server.add(b).unwrap();
    }
    let request = server.decryption_request(&[1, 2]).unwrap();
    let len = sent[0].len();
    assert!(sent.iter().all(|b| b.len() == len));
    let payload_start = request.len() - 3 * len;
    let digest_mismatch = |e: &Error, party: u32| {
        matches!(e, Error::Malformed { what: "testing decryption request", reason }
            if reason.contains(&format!("(party {party}) does not match its digest")))
    };
    // one bit of party 2's ciphertext, and one of party 3's
    for (i, party) in [(1usize, 2u32), (2, 3)] {
        let mut tampered = request.clone();
        tampered[payload_start + i * len + len / 2] ^= 1;
        assert!(digest_mismatch(
            &parties[0].decryption_share(&tampered, &mut r).unwrap_err(),
            party
        ));
        assert!(digest_mismatch(
            &combine(&key, &tampered, &[]).unwrap_err(),
            party
        ));
    }
    // truncated
    assert!(matches!(
        parties[0].decryption_share(&request[..request.len() - 1], &mut r),
        Err(Error::Malformed { .. })
    ));
    // another key's request
    let (_, other_key, _, _) = session(3, 2, 7);
    assert!(matches!(
        inspect_request(&other_key, &request),
        Err(Error::SessionMismatch { .. })
    ));

    // contributions altered before they reach the server
    let at = sent[1].windows(32).position(|w| w == key.id()).unwrap();
    let mut other_session = sent[1].clone();
    other_session[at] ^= 1;
    let mut fresh = TestingServer::new(&key);
    assert!(matches!(
        fresh.add(&other_session),
        Err(Error::SessionMismatch { .. })
    ));
    // the last residues of the ciphertext (its proof follows it)
    let tail = key.params().proof_bytes();
    let mut out_of_range = sent[1].clone();
    for b in &mut out_of_range[len - tail - 8..len - tail] {
        *b = 0xff;
    }
    assert!(matches!(
        fresh.add(&out_of_range),
        Err(Error::Malformed {
            what: "encrypted counts",
            ..
        })
    ));

    // the refused requests released nothing: the genuine one is answered
    let shares = shares_of(&mut parties, &[1, 2], &request, &mut r);
    assert_eq!(
        combine(&key, &request, &shares).unwrap().confusion,
        total(&cms)
    );
}

/// The smudging's noise budget (`TestingParams::log2_noise`) covers what a
/// member decrypts: a sum of one fresh public-key encryption per party and
/// the retry's fresh encryption of zero under an `n`-party collective key,
/// measured here as the phase noise of exactly that sum (decrypted with
/// negligible smudging by the raw threshold parties). The budget itself is
/// the proven bound of `n` contributions whatever their senders did (the
/// contributions carry proofs), so it is far above the honest noise.
#[test]
fn noise_budget_covers_every_contribution_and_the_retry_zero() {
    use threshold::{Crs, DecryptionShares, Party, PartyId, PublicKeyShares, Smudging};
    let mut r = rng(8);
    for n in [2usize, 5] {
        let params = TestingParams::new(n, 2, 3, [8; 32]).unwrap();
        let bfv = params.bfv().clone();
        let t = bfv.plaintext_modulus();
        let crs = Crs::from_seed([8; 32]);
        let mut ps: Vec<Party> = (1..=n as u32)
            .map(|i| Party::new(PartyId(i), bfv.rlwe(), &mut r))
            .collect();
        let shares: Vec<_> = ps
            .iter_mut()
            .map(|p| p.public_key_share(&crs, &mut r).unwrap())
            .collect();
        let pk = bfv::PublicKey::from_rlwe(
            &bfv,
            PublicKeyShares::aggregate(shares)
                .unwrap()
                .finish()
                .unwrap(),
        )
        .unwrap();
        let enc = bfv::Encoder::new(&bfv);
        let ev = bfv::Evaluator::new(&bfv);
        let mut worst: f64 = 0.0;
        for _ in 0..3 {
            let mut sum_slots = vec![0u64; enc.slots()];
            let mut sum: Option<bfv::Ciphertext> = None;
            for j in 0..=n {
                // n contributions of counts, then the encryption of zero
                let slots: Vec<u64> = if j < n {
                    (0..enc.slots()).map(|_| r.gen_range(0..t)).collect()
                } else {
                    vec![0; enc.slots()]
                };
                for (a, b) in sum_slots.iter_mut().zip(&slots) {
                    *a = (*a + b) % t;
                }
                let ct = pk
                    .encrypt(&enc.encode_u64(&slots).unwrap(), &mut r)
                    .unwrap();
                match &mut sum {
                    None => sum = Some(ct),
                    Some(acc) => ev.add_assign(acc, &ct).unwrap(),
                }
            }
            let noise_only = ev
                .sub_plain(&sum.unwrap(), &enc.encode_u64(&sum_slots).unwrap())
                .unwrap();
            let tiny = Smudging::with_sigma(0.0);
            let ds: Vec<_> = ps
                .iter_mut()
                .map(|p| {
                    p.decryption_share(noise_only.rlwe(), None, &tiny, &mut r)
                        .unwrap()
                })
                .collect();
            let phase = DecryptionShares::aggregate(noise_only.rlwe(), ds, None).unwrap();
            worst = worst.max(phase.phase().infinity_norm_bits());
        }
        println!(
            "n = {n}: measured noise 2^{worst:.2}, budget 2^{:.2}",
            params.log2_noise()
        );
        assert!(
            worst <= params.log2_noise(),
            "n = {n}: noise 2^{worst:.2} above the budget 2^{:.2}",
            params.log2_noise()
        );
        // Contributions are proven well formed, so the budget is the
        // *proven* bound of n cheating contributions (slack 2^19.5 on
        // every witness block): ≈ 2^38–2^41, far above honest noise, and
        // still decryptable after smudging at λ = 40 (Δ = 2^116).
        assert!(
            (34.0..41.0).contains(&params.log2_noise()),
            "{}",
            params.log2_noise()
        );
    }
}

/// The limit of the per-member memory, as documented: with `t ≤ n/2` two
/// disjoint committees can each release a different contribution set (here
/// all parties, then all but party 4 — whose difference is party 4's
/// counts). With `t > n/2` any two committees share a member, who refuses
/// (`second_contribution_set_is_refused`).
#[test]
fn disjoint_committees_release_two_sets_when_t_is_at_most_half() {
    let (_params, key, mut parties, mut r) = session(4, 2, 9);
    let (cms, sent) = contributions(&parties, &mut r);
    let mut all = TestingServer::new(&key);
    for b in &sent {
        all.add(b).unwrap();
    }
    let mut all_but_4 = TestingServer::new(&key);
    for b in &sent[..3] {
        all_but_4.add(b).unwrap();
    }
    let first = all.decryption_request(&[1, 2]).unwrap();
    let shares = shares_of(&mut parties, &[1, 2], &first, &mut r);
    let sum_all = combine(&key, &first, &shares).unwrap().confusion;
    let second = all_but_4.decryption_request(&[3, 4]).unwrap();
    let shares = shares_of(&mut parties, &[3, 4], &second, &mut r);
    let sum_3 = combine(&key, &second, &shares).unwrap().confusion;
    let party_4: Vec<u64> = sum_all
        .counts()
        .iter()
        .zip(sum_3.counts())
        .map(|(a, b)| a - b)
        .collect();
    assert_eq!(party_4, cms[3].counts());
    // a member of the first committee refuses the second set
    assert!(matches!(
        parties[0].decryption_share(&all_but_4.decryption_request(&[1, 3]).unwrap(), &mut r),
        Err(Error::AlreadyReleased { round: 0 })
    ));
}

/// Issue 18, attack 1 on private model testing: the well-formed
/// contribution `(0, ⌊Q/t⌋)` — without proofs its decrypted total would
/// contain the collective secret modulo `t` — and an honest contribution
/// with one proof bit flipped are refused by the server, naming the party;
/// a request carrying the forged contribution is refused by a committee
/// member; the honest contributions decrypt to the exact total.
#[test]
fn key_recovery_counts_are_refused() {
    let (_params, key, mut parties, mut r) = session(3, 2, 12);
    let (cms, sent) = contributions(&parties, &mut r);
    let mut server = TestingServer::new(&key);
    let evil = key.forge_key_recovery_counts(1).unwrap();
    assert!(matches!(
        server.add(&evil),
        Err(Error::InvalidUpdateProof { party: 1, .. })
    ));
    let mut flipped = sent[0].clone();
    let at = flipped.len() - 500;
    flipped[at] ^= 1;
    assert!(matches!(
        server.add(&flipped),
        Err(Error::InvalidUpdateProof { party: 1, .. })
    ));
    for s in &sent {
        server.add(s).unwrap();
    }
    let request = server.decryption_request(&[1, 2]).unwrap();
    let shares: Vec<Vec<u8>> = [0usize, 1]
        .iter()
        .map(|&i| parties[i].decryption_share(&request, &mut r).unwrap())
        .collect();
    let res = combine(&key, &request, &shares).unwrap();
    assert_eq!(res.confusion, total(&cms));
}

/// Issue 18, attack 2 in private testing: a committee member shifts one
/// count of the total through its decryption share. With share proofs (the
/// default) `combine` names it and another committee completes the same
/// contribution set exactly; without them the total is silently wrong by
/// exactly the shift — the proofs are what stops it.
#[test]
fn shifted_share_is_named_and_another_committee_completes() {
    let (params, key, mut parties, mut r) = session(4, 3, 13);
    assert!(params.proves_shares());
    let (cms, sent) = contributions(&parties, &mut r);
    let mut server = TestingServer::new(&key);
    for s in &sent {
        server.add(s).unwrap();
    }
    let committee = [1u32, 2, 3];
    let request = server.decryption_request(&committee).unwrap();
    let mut dshares = shares_of(&mut parties, &committee, &request, &mut r);
    dshares[1] = shift_decryption_share(&key, &dshares[1], (0, 2), 7).unwrap();
    // the sender is still recognised (the header and proof decode) ...
    assert_eq!(
        decryption_share_sender(&key, &request, &dshares[1]).unwrap(),
        2
    );
    // ... and combining names it
    match combine(&key, &request, &dshares) {
        Err(Error::InvalidShareProof { party: 2, reason }) => {
            assert!(reason.contains("proof"), "{reason}")
        }
        other => panic!("expected InvalidShareProof for party 2, got {other:?}"),
    }
    // the round completes with a committee without party 2
    let retry_committee = [1u32, 3, 4];
    let retry = server.decryption_request(&retry_committee).unwrap();
    let retry_shares = shares_of(&mut parties, &retry_committee, &retry, &mut r);
    let res = combine(&key, &retry, &retry_shares).unwrap();
    assert_eq!(res.confusion, total(&cms));
    assert_eq!(res.committee, retry_committee);

    // The same attack in a session without share proofs succeeds silently.
    let plain = TestingParams::with_options(4, 3, 3, 2, false, [14; 32]).unwrap();
    assert!(!plain.proves_shares());
    let (_, key, mut parties, mut r) = session_of(plain, 14);
    assert!(!key.has_share_commitments());
    let (cms, sent) = contributions(&parties, &mut r);
    let mut server = TestingServer::new(&key);
    for s in &sent {
        server.add(s).unwrap();
    }
    let request = server.decryption_request(&committee).unwrap();
    let mut dshares = shares_of(&mut parties, &committee, &request, &mut r);
    dshares[1] = shift_decryption_share(&key, &dshares[1], (0, 2), 7).unwrap();
    let res = combine(&key, &request, &dshares).unwrap();
    let mut want = total(&cms);
    assert_ne!(res.confusion, want);
    let mut shifted = ConfusionMatrix::new(3);
    shifted.record(0, 2).unwrap();
    for _ in 0..7 {
        want.add(&shifted).unwrap();
    }
    assert_eq!(res.confusion, want, "exactly the shift, nothing else");
}

/// Share proofs' bad inputs: a truncated or corrupted proof names its
/// sender; dealings need the committed key first; a share without its
/// proof is malformed; sessions too large for the proofs say so and run
/// without them only when asked.
#[test]
fn share_proof_refusals() {
    let (_params, key, mut parties, mut r) = session(3, 2, 15);
    let (_, sent) = contributions(&parties, &mut r);
    let mut server = TestingServer::new(&key);
    for s in &sent {
        server.add(s).unwrap();
    }
    let committee = [1u32, 3];
    let request = server.decryption_request(&committee).unwrap();
    let dshares = shares_of(&mut parties, &committee, &request, &mut r);
    // one flipped bit in the proof (the share's last bytes)
    let mut bad = dshares[1].clone();
    let at = bad.len() - 100;
    bad[at] ^= 0x10;
    match combine(&key, &request, &[dshares[0].clone(), bad]) {
        Err(Error::InvalidShareProof { party: 3, .. }) => {}
        other => panic!("expected InvalidShareProof for party 3, got {other:?}"),
    }
    // a share cut short is malformed (its header counts a proof)
    let cut = &dshares[0][..dshares[0].len() - 10];
    assert!(matches!(
        decryption_share_sender(&key, &request, cut),
        Err(Error::Malformed { .. })
    ));
    // the honest shares combine
    combine(&key, &request, &dshares).unwrap();

    // dealings are checked against commitments: without the committed
    // key a party refuses them
    let params = TestingParams::new(3, 2, 3, [16; 32]).unwrap();
    let mut r = rng(16);
    let mut fresh: Vec<TestParty> = (1..=3)
        .map(|i| TestParty::new(&params, i, &mut r).unwrap())
        .collect();
    let d = fresh[0].deal(&mut r).unwrap();
    assert!(d.commitment.is_some());
    let to_2: Vec<_> = d.messages.into_iter().filter(|m| m.to.0 == 2).collect();
    assert!(matches!(
        fresh[1].receive_dealings(to_2),
        Err(Error::Protocol(_))
    ));
    let shares: Vec<_> = fresh
        .iter_mut()
        .map(|p| p.public_key_share(&mut r).unwrap())
        .collect();
    let key = TestingKey::from_shares(&params, shares).unwrap();
    assert!(matches!(key.with_dealings(&[]), Err(Error::Threshold(_))));

    // what a verified share can still add keeps the total exact: t
    // offsets plus the smudged noise stay below Q/(2·t_p) = 2^114
    // (2^102.2–2^108.9 per share at n = 3–67)
    for (n, t) in [(3usize, 2usize), (8, 5), (16, 9), (67, 34)] {
        let p = TestingParams::new(n, t, 3, [18; 32]).unwrap();
        let off = p.share_proof_params().unwrap().offset_bound() as f64;
        let worst = t as f64 * (off + 14.0 * (p.log2_noise() + 40.0).exp2());
        assert!(worst.log2() < 114.0, "n = {n}: 2^{:.1}", worst.log2());
    }
    // 68 parties at t = 35 would not decrypt exactly: refused, naming the
    // way out; without share proofs the session runs
    match TestingParams::new(68, 35, 3, [17; 32]) {
        Err(Error::OutOfRange(m)) => assert!(m.contains("prove_shares"), "{m}"),
        other => panic!("expected OutOfRange, got {other:?}"),
    }
    let big = TestingParams::with_options(68, 35, 3, 2, false, [17; 32]).unwrap();
    assert!(!big.proves_shares());
    // the largest session: share-proof masks too narrow for its smudging,
    // refused naming the way out
    match TestingParams::new(16383, 8192, 3, [17; 32]) {
        Err(Error::OutOfRange(m)) => assert!(m.contains("prove_shares"), "{m}"),
        other => panic!("expected OutOfRange, got {other:?}"),
    }
    // party ids are evaluation points X^j below 2N = 16384
    assert!(matches!(
        TestingParams::with_options(16384, 2, 3, 2, false, [17; 32]),
        Err(Error::OutOfRange(_))
    ));
}
