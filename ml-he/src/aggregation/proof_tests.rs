//! Malicious input parties against the update proofs (issue 18, attack 1):
//! the key-recovery update works without proofs and is refused with them,
//! as are its variants, forged and replayed proofs and bad proof bytes; a
//! malicious server cannot slip an unproven update past a committee member.
//! Malicious committee members against the share proofs (attack 2): a
//! shifted decryption share is refused naming its sender, and another
//! committee completes the round.

#![allow(clippy::unwrap_used)]

use super::*;
use num_bigint::BigInt;

struct Session {
    params: Arc<AggregationParams>,
    clients: Vec<Client>,
    key: SessionKey,
    rng: ChaCha20Rng,
}

fn session(config: AggregationConfig, seed: u8) -> Session {
    let mut rng = ChaCha20Rng::from_seed([seed; 32]);
    let params = AggregationParams::new(config, [seed; 32]).unwrap();
    let n = params.config().clients as u32;
    let mut clients: Vec<Client> = (1..=n)
        .map(|i| Client::new(&params, i, &mut rng).unwrap())
        .collect();
    let shares: Vec<_> = clients
        .iter_mut()
        .map(|c| c.public_key_share(&mut rng).unwrap())
        .collect();
    let key = SessionKey::from_shares(&params, shares).unwrap();
    let key = deal_all(&mut clients, &key, &mut rng).unwrap();
    Session {
        params,
        clients,
        key,
        rng,
    }
}

fn q_of(p: &AggregationParams) -> BigInt {
    p.ring()
        .moduli()
        .iter()
        .map(|m| BigInt::from(m.value()))
        .product()
}

/// The attacker's ciphertext `(c0, c1) = (0, c)` for a constant `c`.
fn constant_ct(p: &AggregationParams, c: &BigInt) -> ckks::Ciphertext {
    let mut c1 = Poly::from_bigints(p.ring(), std::slice::from_ref(c)).unwrap();
    c1.to_ntt();
    let c0 = Poly::zero(p.ring(), Representation::Ntt);
    p.ciphertext(c0, c1).unwrap()
}

/// Frames ciphertexts and proof bytes as an update of `client` for
/// `round` (what a malicious client can send).
fn craft(
    key: &SessionKey,
    round: u64,
    client: u32,
    len: usize,
    cts: &[ckks::Ciphertext],
    proofs: &[u8],
    nproofs: u32,
) -> Vec<u8> {
    let p = &key.params;
    let header = UpdateHeader {
        tag: UPDATE_TAG,
        key: key.id,
        round,
        client,
        len: len as u64,
        count: cts.len() as u32,
        scale: p.scale,
        proofs: nproofs,
    };
    let mut payload = p.pack_cts(cts);
    payload.extend_from_slice(proofs);
    frame(p.fingerprint(), &header, &payload)
}

/// An honest update's ciphertexts and proof bytes.
fn split(key: &SessionKey, bytes: &[u8]) -> (UpdateHeader, Vec<ckks::Ciphertext>, Vec<u8>) {
    let p = &key.params;
    let (h, payload): (UpdateHeader, _) = unframe(bytes, "test", p.fingerprint()).unwrap();
    let ct_len = h.count as usize * 2 * packed_len(p.ring());
    let cts = p
        .unpack_cts(&payload[..ct_len], h.count as usize, "test")
        .unwrap();
    (h, cts, payload[ct_len..].to_vec())
}

fn is_invalid_proof(r: Result<u32>, party: u32) -> bool {
    matches!(r, Err(Error::InvalidUpdateProof { party: p, .. }) if p == party)
}

/// Attack 1 of issue 18 against a session **without** proofs (what `main`
/// did): client 1 submits `(0, ⌊Q/64⌋)`, client 2 an honest update of
/// zeros; the published average is `(⌊Q/64⌋·s)/(2Δ)` coefficient-wise, and
/// rounding `2Δ·64/Q` times it gives the collective secret `s`: it
/// satisfies the public-key relation, `‖b + a·s‖∞ < 2^12` (a wrong key
/// leaves ≈ Q/2 ≈ 2^97).
#[test]
fn key_recovery_without_proofs() {
    let mut s = session(AggregationConfig::new(3, 2).prove_updates(false), 60);
    let p = s.params.clone();
    let q = q_of(&p);
    let len = 8192;
    let evil = s.key.forge_key_recovery_update(1, 0, len, 6).unwrap();
    let mut server = Server::new(&s.key, 0, len).unwrap();
    assert_eq!(server.add(&evil).unwrap(), 1);
    let honest = s.clients[1]
        .encrypt_update(0, &vec![0.0; len], &mut s.rng)
        .unwrap();
    server.add(&honest).unwrap();
    let request = server.decryption_request(&[2, 3]).unwrap();
    let shares = vec![
        s.clients[1].decryption_share(&request, &mut s.rng).unwrap(),
        s.clients[2].decryption_share(&request, &mut s.rng).unwrap(),
    ];
    let result = combine(&s.key, &request, &shares).unwrap();
    let qf: f64 = num_traits::ToPrimitive::to_f64(&q).unwrap();
    let recovered: Vec<i64> = result
        .average
        .iter()
        .map(|a| (a * 2.0 * p.scale * 64.0 / qf).round() as i64)
        .collect();
    assert!(recovered.iter().all(|x| x.abs() <= 3));
    assert!(recovered.iter().any(|&x| x != 0));
    // b + a·s = e: small for the real key
    let pk = s.key.pk.rlwe();
    let ring = p.ring();
    let (b, a) = (
        pk.b().restrict_to(ring).unwrap(),
        pk.a().restrict_to(ring).unwrap(),
    );
    let mut sp = rlwe::sample::small_poly(ring, &recovered);
    sp.to_ntt();
    let mut e = Poly::mul(&a, &sp).unwrap();
    e.add_assign(&b).unwrap();
    let bits = e.infinity_norm_bits();
    assert!(bits < 12.0, "‖b + a·s‖∞ = 2^{bits}: not the key");
}

/// With proofs (the default) the same update is refused, without a proof
/// and with an honest proof of the same client and round attached, for
/// `⌊Q/2^j⌋` with j = 1, 6, 20, 60, 100; and so is a valid update whose
/// `c1` parts are multiplied by 2, 3 or 1000 (with its own proofs).
#[test]
fn key_recovery_updates_are_refused() {
    let mut s = session(AggregationConfig::new(3, 2), 61);
    let p = s.params.clone();
    let q = q_of(&p);
    let len = 8;
    let honest = s.clients[0]
        .encrypt_update(0, &[1.0; 8], &mut s.rng)
        .unwrap();
    let (_, cts, proofs) = split(&s.key, &honest);
    assert_eq!(proofs.len(), p.proof_bytes());
    let mut server = Server::new(&s.key, 0, len).unwrap();
    for j in [1, 6, 20, 60, 100] {
        let ct = constant_ct(&p, &(&q >> j));
        let bare = craft(&s.key, 0, 1, len, std::slice::from_ref(&ct), &[], 0);
        assert!(is_invalid_proof(server.add(&bare), 1), "j = {j}, no proof");
        let with = craft(&s.key, 0, 1, len, &[ct], &proofs, 1);
        assert!(is_invalid_proof(server.add(&with), 1), "j = {j}, proof");
    }
    for k in [2u64, 3, 1000] {
        let scaled: Vec<ckks::Ciphertext> = cts
            .iter()
            .map(|ct| {
                let [c0, c1] = ct.rlwe().parts() else {
                    panic!("two parts")
                };
                let mut c1 = c1.clone();
                c1.mul_scalar_assign(k);
                p.ciphertext(c0.clone(), c1).unwrap()
            })
            .collect();
        let bytes = craft(&s.key, 0, 1, len, &scaled, &proofs, 1);
        assert!(is_invalid_proof(server.add(&bytes), 1), "c1 × {k}");
    }
    let forged = s.key.forge_key_recovery_update(1, 0, len, 6).unwrap();
    assert!(is_invalid_proof(server.add(&forged), 1));
    assert!(server.contributors().is_empty());
    assert_eq!(server.add(&honest).unwrap(), 1);
}

/// A valid proof does not transfer: to another ciphertext of the same
/// client, to another round, to another party, to another session; the
/// honest updates are accepted and the round's average is right.
#[test]
fn forged_proofs_are_refused() {
    let mut s = session(AggregationConfig::new(3, 2), 62);
    let len = 8;
    let x: Vec<f64> = (0..len).map(|i| i as f64 - 3.5).collect();
    let u1 = s.clients[0].encrypt_update(0, &x, &mut s.rng).unwrap();
    let u2 = s.clients[0].encrypt_update(0, &x, &mut s.rng).unwrap();
    let (h1, cts1, _) = split(&s.key, &u1);
    let (_, _, proofs2) = split(&s.key, &u2);
    let (_, _, proofs1) = split(&s.key, &u1);
    let mut server = Server::new(&s.key, 0, len).unwrap();
    // proof of another ciphertext of the same client and round
    let other_ct = craft(&s.key, 0, 1, len, &cts1, &proofs2, 1);
    assert!(is_invalid_proof(server.add(&other_ct), 1));
    // the same ciphertexts and proofs in another party's name
    let other_party = craft(&s.key, 0, 2, len, &cts1, &proofs1, 1);
    assert!(is_invalid_proof(server.add(&other_party), 2));
    // ... for another round
    let mut server1 = Server::new(&s.key, 1, len).unwrap();
    let other_round = craft(&s.key, 1, 1, len, &cts1, &proofs1, 1);
    assert!(is_invalid_proof(server1.add(&other_round), 1));
    // ... from another session with the same configuration
    let mut t = session(AggregationConfig::new(3, 2), 63);
    let foreign = t.clients[0].encrypt_update(0, &x, &mut t.rng).unwrap();
    let (_, fcts, fproofs) = split(&t.key, &foreign);
    let moved = craft(&s.key, 0, 1, len, &fcts, &fproofs, 1);
    assert!(is_invalid_proof(server.add(&moved), 1));
    assert_eq!(h1.client, 1);
    // the honest updates go through and the average is right
    server.add(&u1).unwrap();
    let y: Vec<f64> = x.iter().map(|v| -2.0 * v).collect();
    let u3 = s.clients[2].encrypt_update(0, &y, &mut s.rng).unwrap();
    server.add(&u3).unwrap();
    let request = server.decryption_request(&[1, 2]).unwrap();
    let shares = vec![
        s.clients[0].decryption_share(&request, &mut s.rng).unwrap(),
        s.clients[1].decryption_share(&request, &mut s.rng).unwrap(),
    ];
    let res = combine(&s.key, &request, &shares).unwrap();
    for (got, v) in res.average.iter().zip(&x) {
        assert!(
            (got + v / 2.0).abs() <= res.precision,
            "{got} vs {}",
            -v / 2.0
        );
    }
}

/// A malicious server that skips the checks and puts the key-recovery
/// update into a decryption request gets no share: every committee member
/// verifies every contribution's proofs (and `combine` too).
#[test]
fn committee_refuses_unproven_contribution() {
    let mut s = session(AggregationConfig::new(3, 2), 64);
    let p = s.params.clone();
    let q = q_of(&p);
    let len = 8;
    let evil = craft(&s.key, 0, 1, len, &[constant_ct(&p, &(&q >> 6))], &[], 0);
    let mut server = Server::new(&s.key, 0, len).unwrap();
    server
        .add_checked(CheckedUpdate {
            id: s.key.id,
            round: 0,
            client: 1,
            digest: update_digest(&evil),
            bytes: evil,
            cts: Vec::new(),
        })
        .unwrap();
    let honest = s.clients[1]
        .encrypt_update(0, &[0.5; 8], &mut s.rng)
        .unwrap();
    server.add(&honest).unwrap();
    let request = server.decryption_request(&[2, 3]).unwrap();
    for c in [1usize, 2] {
        assert!(matches!(
            s.clients[c].decryption_share(&request, &mut s.rng),
            Err(Error::InvalidUpdateProof { party: 1, .. })
        ));
    }
    assert!(matches!(
        combine(&s.key, &request, &[]),
        Err(Error::InvalidUpdateProof { party: 1, .. })
    ));
}

/// Bad proof bytes give specific errors: a proof count that does not
/// match the ciphertexts and a truncated proof are `Malformed` (sizes);
/// a proof with a response out of range, or any bit flipped, is
/// `InvalidUpdateProof`.
#[test]
fn bad_proof_bytes() {
    let mut s = session(AggregationConfig::new(3, 2), 65);
    let len = 8;
    let honest = s.clients[0]
        .encrypt_update(0, &[1.0; 8], &mut s.rng)
        .unwrap();
    let (_, cts, proofs) = split(&s.key, &honest);
    let mut server = Server::new(&s.key, 0, len).unwrap();
    let two = craft(&s.key, 0, 1, len, &cts, &proofs, 2);
    assert!(matches!(server.add(&two), Err(Error::Malformed { .. })));
    let cut = craft(&s.key, 0, 1, len, &cts, &proofs[..proofs.len() - 1], 1);
    assert!(matches!(server.add(&cut), Err(Error::Malformed { .. })));
    let mut out_of_range = proofs.clone();
    for b in &mut out_of_range[33..40] {
        *b = 0xff;
    }
    let bytes = craft(&s.key, 0, 1, len, &cts, &out_of_range, 1);
    match server.add(&bytes) {
        Err(Error::InvalidUpdateProof { party: 1, reason }) => {
            assert!(reason.contains("malformed"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    let mut flipped = proofs.clone();
    flipped[5000] ^= 4;
    let bytes = craft(&s.key, 0, 1, len, &cts, &flipped, 1);
    assert!(is_invalid_proof(server.add(&bytes), 1));
    assert_eq!(server.add(&honest).unwrap(), 1);
}

/// The noise accounting with proofs uses the proven bound: at n = 10,
/// t = 10, max_abs = 256 the smudging covers a noise of 2^41.9 (ten
/// contributions at the slack, against 2^13 for ten honest ones). With
/// update proofs only, the chain gets a third prime of 43 bits (Δ =
/// 2^108); with share proofs too (the default) the error a cheating
/// committee can still add within the share proofs' slack (t·2^106.5 =
/// 2^109.8)
/// must also stay 2^(f+1) below Δ: a fourth prime of 20 bits, Q = 2^167,
/// Δ = 2^134, QP = 2^217 ≤ 2^218. Either way the stated precision of the
/// sum is ≈ 4.8e-6 (the rounding at 2^-21, ten times, dominates) and holds
/// whatever the committee sends.
#[test]
fn proven_noise_sizes_smudging_and_chain() {
    let p = AggregationParams::new(AggregationConfig::new(10, 10), [1; 32]).unwrap();
    let q = p.ckks().rlwe().q();
    let bits: Vec<u32> = q.iter().map(|q| 64 - q.leading_zeros()).collect();
    eprintln!(
        "q bits {bits:?}, log2 noise {:.2}, log2 Δ {}, σ 2^{:.1}, precision {:e}, proof {} B/ct",
        p.log2_noise(),
        p.scale().log2(),
        p.smudging().log2_sigma(),
        p.sum_precision(),
        p.proof_bytes()
    );
    assert_eq!(bits, vec![49, 49, 49, 20]);
    assert!((p.log2_noise() - 41.9).abs() < 0.1, "{}", p.log2_noise());
    assert!(p.sum_precision() < 5.1e-6 && p.sum_precision() > 4.7e-6);
    assert_eq!(p.scale(), 2f64.powi(134));
    let zp = p.share_proof_params().unwrap();
    let cheat = (zp.offset_bound() as f64 * 10.0).log2();
    assert!((cheat - 109.8).abs() < 0.2, "{cheat}");
    let updates_only =
        AggregationParams::new(AggregationConfig::new(10, 10).prove_shares(false), [1; 32])
            .unwrap();
    assert_eq!(updates_only.ckks().rlwe().q().len(), 3);
    assert_eq!(updates_only.scale(), 2f64.powi(108));
    assert!(updates_only.share_proof_params().is_none());
    let plain =
        AggregationParams::new(AggregationConfig::new(10, 10).prove_updates(false), [1; 32])
            .unwrap();
    assert_eq!(plain.ckks().rlwe().q().len(), 2);
    assert!(plain.log2_noise() < 14.0);
    assert_eq!(plain.proof_bytes(), 0);
}

/// A committee member shifts its (otherwise honest) decryption share to
/// move the published average — by 1.0, and by 10^-6, 2^22 times above
/// what the share proofs still allow — or sends its honest share with
/// another member's proof: `combine` refuses each, naming the member; the
/// honest shares of the same request combine; a retry with a committee
/// without the cheater completes with the right average. A share proven
/// for one request does not verify for the retry.
#[test]
fn shifted_decryption_share_is_named_and_another_committee_completes() {
    let mut s = session(AggregationConfig::new(4, 2).max_abs(4.0), 70);
    let len = 9000; // two ciphertexts
    let us: Vec<Vec<f64>> = (0..3)
        .map(|i| {
            (0..len)
                .map(|j| ((i * 7 + j) % 13) as f64 / 4.0 - 1.5)
                .collect()
        })
        .collect();
    let want: Vec<f64> = (0..len)
        .map(|j| us.iter().map(|u| u[j]).sum::<f64>() / 3.0)
        .collect();
    let mut server = Server::new(&s.key, 0, len).unwrap();
    for (i, u) in us.iter().enumerate() {
        let b = s.clients[i].encrypt_update(0, u, &mut s.rng).unwrap();
        server.add(&b).unwrap();
    }
    let request = server.decryption_request(&[1, 2]).unwrap();
    let s1 = s.clients[0].decryption_share(&request, &mut s.rng).unwrap();
    let s2 = s.clients[1].decryption_share(&request, &mut s.rng).unwrap();
    for shift in [1.0, 1e-6] {
        let bad = shift_decryption_share(&s.key, &s2, shift).unwrap();
        // the shifted share is well formed: only its proof exposes it
        assert_eq!(decryption_share_sender(&s.key, &request, &bad).unwrap(), 2);
        match combine(&s.key, &request, &[s1.clone(), bad]) {
            Err(Error::InvalidShareProof { party: 2, reason }) => {
                assert!(reason.contains("proof"), "{reason}")
            }
            other => panic!("shift {shift}: {other:?}"),
        }
    }
    // member 1's share carrying member 2's proof
    let tail = s.params.share_proof_bytes(2);
    let mut swapped = s1.clone();
    let l1 = swapped.len();
    swapped[l1 - tail..].copy_from_slice(&s2[s2.len() - tail..]);
    assert!(matches!(
        combine(&s.key, &request, &[swapped, s2.clone()]),
        Err(Error::InvalidShareProof { party: 1, .. })
    ));
    // the honest shares combine
    let res = combine(&s.key, &request, &[s1, s2.clone()]).unwrap();
    for (a, b) in res.average.iter().zip(&want) {
        assert!((a - b).abs() <= res.precision, "{a} vs {b}");
    }
    // the retry, without member 2: right average; member 2's proven share of
    // the first request does not pass for it
    let retry = server.decryption_request(&[1, 3]).unwrap();
    let r1 = s.clients[0].decryption_share(&retry, &mut s.rng).unwrap();
    let r3 = s.clients[2].decryption_share(&retry, &mut s.rng).unwrap();
    let res = combine(&s.key, &retry, &[r1, r3]).unwrap();
    assert_eq!(res.committee, vec![1, 3]);
    for (a, b) in res.average.iter().zip(&want) {
        assert!((a - b).abs() <= res.precision, "{a} vs {b}");
    }
    assert!(combine(&s.key, &retry, &[s2]).is_err());
}

/// Twenty clients at `t = 11` with share proofs (integer Shamir points
/// capped share proofs at about 12 clients): a shifted share of one of the
/// 11 members is named, and a committee without it gives the right average.
#[test]
fn twenty_clients_prove_their_shares() {
    let mut s = session(AggregationConfig::new(20, 11).max_abs(4.0), 72);
    assert!(s.params.share_proof_params().is_some());
    let len = 300;
    let us: Vec<Vec<f64>> = (0..3)
        .map(|i| {
            (0..len)
                .map(|j| ((i * 5 + j) % 11) as f64 / 4.0 - 1.0)
                .collect()
        })
        .collect();
    let want: Vec<f64> = (0..len)
        .map(|j| us.iter().map(|u| u[j]).sum::<f64>() / 3.0)
        .collect();
    let mut server = Server::new(&s.key, 0, len).unwrap();
    for (i, u) in us.iter().enumerate() {
        let b = s.clients[i].encrypt_update(0, u, &mut s.rng).unwrap();
        server.add(&b).unwrap();
    }
    let committee: Vec<u32> = (10..=20).collect();
    let request = server.decryption_request(&committee).unwrap();
    let mut shares: Vec<Vec<u8>> = committee
        .iter()
        .map(|&c| {
            s.clients[c as usize - 1]
                .decryption_share(&request, &mut s.rng)
                .unwrap()
        })
        .collect();
    shares[6] = shift_decryption_share(&s.key, &shares[6], 0.5).unwrap();
    assert!(matches!(
        combine(&s.key, &request, &shares),
        Err(Error::InvalidShareProof { party: 16, .. })
    ));
    let retry_committee: Vec<u32> = (1..=11).collect();
    let retry = server.decryption_request(&retry_committee).unwrap();
    let shares: Vec<Vec<u8>> = retry_committee
        .iter()
        .map(|&c| {
            s.clients[c as usize - 1]
                .decryption_share(&retry, &mut s.rng)
                .unwrap()
        })
        .collect();
    let res = combine(&s.key, &retry, &shares).unwrap();
    for (a, b) in res.average.iter().zip(&want) {
        assert!((a - b).abs() <= res.precision, "{a} vs {b}");
    }
}

/// Share proofs need update proofs; a key without the dealing commitments
/// cannot make or check shares in a session that proves them; the key's
/// bytes carry the commitments (and the id covers them).
#[test]
fn share_proof_sessions_need_the_commitments() {
    assert!(matches!(
        AggregationParams::new(
            AggregationConfig {
                prove_updates: false,
                ..AggregationConfig::new(3, 2)
            },
            [1; 32]
        ),
        Err(Error::OutOfRange(_))
    ));
    // prove_updates(false) turns the share proofs off too
    let plain =
        AggregationParams::new(AggregationConfig::new(3, 2).prove_updates(false), [1; 32]).unwrap();
    assert!(plain.share_proof_params().is_none());
    // Limits at t = n/2 + 1 (monomial evaluation points: the commitments'
    // noise grows as n·t, the chain room for t offsets decides): 22
    // clients at N = 8192, where 24 is refused naming the ways out, and
    // far more at N = 16384.
    assert!(AggregationParams::new(AggregationConfig::new(22, 12), [1; 32]).is_ok());
    match AggregationParams::new(AggregationConfig::new(24, 13), [1; 32]) {
        Err(Error::OutOfRange(m)) => {
            assert!(
                m.contains("degree(16384)") && m.contains("prove_shares(false)"),
                "{m}"
            )
        }
        other => panic!("expected OutOfRange, got {other:?}"),
    }
    let wide =
        AggregationParams::new(AggregationConfig::new(200, 101).degree(16384), [1; 32]).unwrap();
    assert!(wide.share_proof_params().is_some());
    // 1000 clients: the smudging grows past what the share proofs' masks
    // hold — refused, naming the ways out
    match AggregationParams::new(AggregationConfig::new(1000, 501).degree(16384), [1; 32]) {
        Err(Error::OutOfRange(m)) => assert!(m.contains("prove_shares(false)"), "{m}"),
        other => panic!("expected OutOfRange, got {other:?}"),
    }
    assert!(matches!(
        AggregationParams::new(AggregationConfig::new(16384, 2), [1; 32]),
        Err(Error::OutOfRange(_))
    ));
    let mut s = session(AggregationConfig::new(3, 2), 71);
    let back = SessionKey::from_bytes(&s.params, &s.key.to_bytes()).unwrap();
    assert_eq!(back.id(), s.key.id());
    assert!(back.has_share_commitments());
    // the public key alone: another id, and no shares can be made with it
    let bare = SessionKey::from_bytes(&s.params, &s.key.public_key().to_bytes()).unwrap();
    assert_ne!(bare.id(), s.key.id());
    assert!(!bare.has_share_commitments());
    let mut server = Server::new(&bare, 0, 4).unwrap();
    for i in 0..2 {
        let b = bare
            .encrypt_update(i as u32 + 1, 0, &[0.5; 4], &mut s.rng)
            .unwrap();
        server.add(&b).unwrap();
    }
    let request = server.decryption_request(&[1, 2]).unwrap();
    s.clients[0].set_key(bare.clone()).unwrap();
    assert!(matches!(
        s.clients[0].decryption_share(&request, &mut s.rng),
        Err(Error::Protocol(_))
    ));
    assert!(matches!(
        combine(&bare, &request, &[]),
        Err(Error::Protocol(_)) | Err(Error::Threshold(_))
    ));
    // truncated key bytes
    let bytes = s.key.to_bytes();
    assert!(matches!(
        SessionKey::from_bytes(&s.params, &bytes[..bytes.len() - 7]),
        Err(Error::Malformed { .. })
    ));
}
