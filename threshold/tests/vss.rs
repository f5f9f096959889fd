//! Verifiable dealing and provable decryption shares: committed dealings
//! are accepted and decrypt right; a tampered dealing names its dealer; a
//! shifted decryption share is rejected with its sender named and another
//! committee completes; the members' commitments interpolate to the
//! collective public key exactly.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rlwe::poly::Poly;
use threshold::vss::{self, ShareCommitments};
use threshold::{
    ActiveSet, Crs, DecryptionShare, DecryptionShares, Error, Party, PartyId, PublicKeyShares,
    Smudging,
};

struct Session {
    params: Arc<bfv::Parameters>,
    ps: Vec<Party>,
    pk: bfv::PublicKey,
    coms: ShareCommitments,
    rng: ChaCha20Rng,
}

/// `n` parties: public key, committed dealing (with `tamper`, dealer 1
/// commits to another polynomial than the one it deals).
fn session(n: u32, t: usize, tamper: bool) -> Result<Session, Error> {
    let params = bfv::Parameters::preset(bfv::Preset::N4096T65537).unwrap();
    let rp = params.rlwe().clone();
    let mut rng = ChaCha20Rng::seed_from_u64(40 + n as u64);
    let crs = Crs::from_seed([3; 32]);
    let mut ps: Vec<Party> = (1..=n)
        .map(|i| Party::new(PartyId(i), &rp, &mut rng))
        .collect();
    let pk_shares: Vec<_> = ps
        .iter_mut()
        .map(|p| p.public_key_share(&crs, &mut rng).unwrap())
        .collect();
    let pk = bfv::PublicKey::from_rlwe(
        &params,
        PublicKeyShares::aggregate(pk_shares.clone())
            .unwrap()
            .finish()
            .unwrap(),
    )
    .unwrap();
    let mut inbox: Vec<Vec<_>> = (0..n).map(|_| Vec::new()).collect();
    let mut dealings = Vec::new();
    for p in &ps {
        let (msgs, mut com) = p.deal_committed(t, n as usize, &crs, &mut rng).unwrap();
        if tamper && p.id() == PartyId(1) {
            // Dealer 1 commits to another polynomial than the one it deals.
            com = p.deal_committed(t, n as usize, &crs, &mut rng).unwrap().1;
        }
        for m in msgs {
            inbox[(m.to.0 - 1) as usize].push(m);
        }
        dealings.push(com);
    }
    let coms = ShareCommitments::new(&rp, &crs, t, n as usize, &pk_shares, &dealings)?;
    for (p, msgs) in ps.iter_mut().zip(inbox) {
        p.receive_committed_dealings(msgs, &coms)?;
    }
    Ok(Session {
        params,
        ps,
        pk,
        coms,
        rng,
    })
}

/// Committee `set` makes proven shares of `ct`; `shift` adds 2^57 (two plaintext units at Δ = Q/t) to one
/// coefficient of member `shift`'s share. Returns the verification result
/// of each member and the decryption if all verify.
fn decrypt(
    s: &mut Session,
    set: &[u32],
    t: usize,
    ct: &bfv::Ciphertext,
    shift: Option<u32>,
) -> (Vec<Result<(), Error>>, Option<Vec<i64>>) {
    let ring = ct.rlwe().parts()[1].context().clone();
    let smudging = Smudging::with_sigma(20.0);
    let zp =
        vss::share_proof_params(&ring, &smudging, t, s.ps.len(), zk::MAX_SHARES_PER_PROOF).unwrap();
    let [a1, a2] = s.coms.polys().clone();
    let key = zk::ShareKey::new(&zp, &a1, &a2).unwrap();
    let active = ActiveSet::new(&set.iter().map(|&i| PartyId(i)).collect::<Vec<_>>(), t).unwrap();
    let context = [9u8; 32];
    let mut results = Vec::new();
    let mut shares = Vec::new();
    for &i in set {
        let [k1, k2] = s.coms.member(PartyId(i)).unwrap();
        let com = zk::ShareCommitment::new(&zp, &k1, &k2).unwrap();
        let p = &mut s.ps[(i - 1) as usize];
        let (mut ds, proofs) = p
            .proven_decryption_shares(
                &[ct.rlwe()],
                &active,
                &smudging,
                &zp,
                &key,
                &com,
                &context,
                &mut s.rng,
            )
            .unwrap();
        let mut polys: Vec<Poly> = ds.iter().map(|d| d.poly().clone()).collect();
        if shift == Some(i) {
            let mut off = rlwe::sample::wide_poly(&ring, &[1i128 << 57]);
            off.to_ntt();
            polys[0].add_assign(&off).unwrap();
            ds = vec![DecryptionShare::from_parts(PartyId(i), polys[0].clone())];
        }
        results.push(vss::verify_decryption_shares(
            &[ct.rlwe()],
            &active,
            PartyId(i),
            &polys,
            &proofs,
            &zp,
            &key,
            &com,
            &context,
        ));
        shares.extend(ds);
    }
    if results.iter().any(|r| r.is_err()) {
        return (results, None);
    }
    let pt = DecryptionShares::aggregate(ct.rlwe(), shares, Some(&active))
        .unwrap()
        .finish_bfv(&s.params, bfv::Encoding::Batch)
        .unwrap();
    let enc = bfv::Encoder::new(&s.params);
    (results, Some(enc.decode(&pt).unwrap()))
}

/// Honest committees decrypt right with every proof verifying; a shifted
/// share is rejected naming its sender, and a committee without it
/// completes.
#[test]
fn shifted_share_is_named_and_another_committee_completes() {
    let (n, t) = (5u32, 3usize);
    let mut s = session(n, t, false).unwrap();
    let enc = bfv::Encoder::new(&s.params);
    let values: Vec<i64> = (0..4096).map(|i| (i * 37) % 1000 - 500).collect();
    let pt = enc.encode(&values).unwrap();
    let ct = s.pk.encrypt(&pt, &mut s.rng).unwrap();
    let (res, out) = decrypt(&mut s, &[1, 2, 3], t, &ct, None);
    assert!(res.iter().all(|r| r.is_ok()));
    let out = out.unwrap();
    let t_mod = 65537i64;
    for (a, b) in out.iter().zip(&values) {
        assert_eq!((a - b).rem_euclid(t_mod), 0);
    }
    // Member 4 shifts its share: named, the others verify.
    let ct2 = s.pk.encrypt(&pt, &mut s.rng).unwrap();
    let (res, out) = decrypt(&mut s, &[2, 4, 5], t, &ct2, Some(4));
    assert!(out.is_none());
    assert!(res[0].is_ok() && res[2].is_ok());
    assert!(
        matches!(&res[1], Err(Error::InvalidShare { party, .. }) if *party == PartyId(4)),
        "{:?}",
        res[1]
    );
    // Another committee without member 4 completes (a retry decrypts a
    // re-randomized ciphertext: shares are single-use per ciphertext).
    let zero =
        s.pk.encrypt(&enc.encode(&[0]).unwrap(), &mut s.rng)
            .unwrap();
    let ct3 = bfv::Ciphertext::from_rlwe(
        &s.params,
        ct2.rlwe().add(zero.rlwe()).unwrap(),
        bfv::Encoding::Batch,
    )
    .unwrap();
    let (res, out) = decrypt(&mut s, &[1, 3, 5], t, &ct3, None);
    assert!(res.iter().all(|r| r.is_ok()));
    for (a, b) in out.unwrap().iter().zip(&values) {
        assert_eq!((a - b).rem_euclid(t_mod), 0);
    }
}

/// A dealing that does not match its dealer's commitment is refused by its
/// recipient, naming the dealer.
#[test]
fn tampered_dealing_names_its_dealer() {
    match session(4, 3, true) {
        Err(Error::InvalidShare { party, .. }) => assert_eq!(party, PartyId(1)),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("a tampered dealing was accepted"),
    }
}

/// `Σ_j λ_j·K1_j = −b` exactly for any committee: the commitments
/// interpolate to the collective public key (Lagrange at the evaluation
/// points `α_j = X^j`, recomputed here slot by slot).
#[test]
fn member_commitments_interpolate_to_the_public_key() {
    let (n, t) = (5u32, 3usize);
    let s = session(n, t, false).unwrap();
    let ring = s.params.rlwe().ring_q_top().clone();
    for set in [[1u32, 2, 3], [2, 4, 5]] {
        let mut acc = Poly::zero(&ring, rlwe::poly::Representation::Ntt);
        // λ_j = Π_{m≠j} α_m/(α_m − α_j) with α_m = X^m, slot by slot from
        // the NTT of the monomials (coefficient vectors with one ±1),
        // inverting each slot on its own with the extended Euclid.
        let n = ring.degree();
        let alpha = |m: u32| {
            let mut c = vec![0i64; n];
            c[m as usize % n] = if (m as usize / n).is_multiple_of(2) {
                1
            } else {
                -1
            };
            let mut p = Poly::from_i64(&ring, &c).unwrap();
            p.to_ntt();
            p
        };
        let alphas: std::collections::BTreeMap<u32, Poly> =
            set.iter().map(|&m| (m, alpha(m))).collect();
        for &j in &set {
            let mut lambda = Poly::zero(&ring, rlwe::poly::Representation::Ntt);
            let aj = &alphas[&j];
            for (l, q) in ring.moduli().iter().enumerate() {
                for i in 0..n {
                    let mut num = 1u64;
                    let mut den = 1u64;
                    for &m in &set {
                        if m != j {
                            let am = alphas[&m].limb(l)[i];
                            num = q.mul(num, am);
                            den = q.mul(den, q.sub(am, aj.limb(l)[i]));
                        }
                    }
                    lambda.limb_mut(l)[i] = q.mul(num, q.inv(den).unwrap());
                }
            }
            let [k1, _] = s.coms.member(PartyId(j)).unwrap();
            acc.mul_acc(&k1, &lambda).unwrap();
        }
        let mut b = s.pk.rlwe().b().restrict_to(&ring).unwrap();
        b.neg_assign();
        assert_eq!(acc, b);
    }
}

/// Bad inputs to the verifiable dealing get specific errors: a commitment
/// list missing a dealer, naming a dealer twice or one outside the session,
/// a commitment of another threshold, a member outside `1..=n`, malformed
/// commitment bytes; a share/proof count that does not match names the
/// member.
#[test]
fn dealing_commitment_errors() {
    let params = bfv::Parameters::preset(bfv::Preset::N4096T65537).unwrap();
    let rp = params.rlwe().clone();
    let mut rng = ChaCha20Rng::seed_from_u64(77);
    let crs = Crs::from_seed([5; 32]);
    let mut ps: Vec<Party> = (1..=3)
        .map(|i| Party::new(PartyId(i), &rp, &mut rng))
        .collect();
    let pks: Vec<_> = ps
        .iter_mut()
        .map(|p| p.public_key_share(&crs, &mut rng).unwrap())
        .collect();
    let coms: Vec<_> = ps
        .iter()
        .map(|p| p.deal_committed(2, 3, &crs, &mut rng).unwrap().1)
        .collect();
    let new =
        |c: &[vss::DealingCommitment], t: usize| ShareCommitments::new(&rp, &crs, t, 3, &pks, c);
    assert!(matches!(
        new(&coms[..2], 2),
        Err(Error::TooFewShares { .. })
    ));
    let twice = vec![coms[0].clone(), coms[0].clone(), coms[1].clone()];
    assert!(matches!(
        new(&twice, 2),
        Err(Error::DuplicateParty { party }) if party == PartyId(1)
    ));
    assert!(matches!(new(&coms, 3), Err(Error::InvalidShare { party, .. }) if party == PartyId(1)));
    assert!(matches!(new(&coms, 0), Err(Error::InvalidThreshold { .. })));
    let outsider = Party::new(PartyId(4), &rp, &mut rng)
        .deal_committed(2, 4, &crs, &mut rng)
        .unwrap()
        .1;
    let with_outsider = vec![coms[0].clone(), coms[1].clone(), outsider];
    assert!(matches!(
        new(&with_outsider, 2),
        Err(Error::UnexpectedParty { .. })
    ));
    let all = new(&coms, 2).unwrap();
    assert!(matches!(
        all.member(PartyId(0)),
        Err(Error::UnexpectedParty { .. })
    ));
    assert!(matches!(
        all.member(PartyId(4)),
        Err(Error::UnexpectedParty { .. })
    ));
    // wire
    let bytes = coms[1].to_bytes(&rp);
    assert_eq!(
        vss::DealingCommitment::from_bytes(&rp, &bytes).unwrap(),
        coms[1]
    );
    assert!(matches!(
        vss::DealingCommitment::from_bytes(&rp, &bytes[..bytes.len() - 3]),
        Err(Error::Malformed { .. } | Error::Rlwe(_))
    ));
    // a proof list of the wrong length names the member
    let enc = bfv::Encoder::new(&params);
    let pk = bfv::PublicKey::from_rlwe(
        &params,
        PublicKeyShares::aggregate(pks.clone())
            .unwrap()
            .finish()
            .unwrap(),
    )
    .unwrap();
    let ct = pk.encrypt(&enc.encode(&[1]).unwrap(), &mut rng).unwrap();
    let ring = ct.rlwe().parts()[1].context().clone();
    let zp = vss::share_proof_params(
        &ring,
        &Smudging::with_sigma(20.0),
        2,
        3,
        zk::MAX_SHARES_PER_PROOF,
    )
    .unwrap();
    let [a1, a2] = all.polys().clone();
    let key = zk::ShareKey::new(&zp, &a1, &a2).unwrap();
    let [k1, k2] = all.member(PartyId(1)).unwrap();
    let com = zk::ShareCommitment::new(&zp, &k1, &k2).unwrap();
    let active = ActiveSet::new(&[PartyId(1), PartyId(2)], 2).unwrap();
    let r = vss::verify_decryption_shares(
        &[ct.rlwe()],
        &active,
        PartyId(1),
        &[],
        &[],
        &zp,
        &key,
        &com,
        &[0; 32],
    );
    assert!(matches!(r, Err(Error::InvalidShare { party, .. }) if party == PartyId(1)));
}

/// The members' commitment noise bound is `n·t·η` (monomial evaluation
/// points: each of the `t` terms of each of the `n` dealers is a signed
/// rotation of one CBD sample, η = 21); a session of 16 parties at
/// `t = 9` proves its shares (the witness `K_j − A·S_j` is checked
/// against the bound when the proof is made), which integer points
/// (`n·η·Σ n^k` ≈ 2^40) could not.
#[test]
fn commitment_noise_grows_as_n_times_t() {
    assert_eq!(vss::key_noise_bound(6, 10), Some(1260));
    assert_eq!(vss::key_noise_bound(5001, 10000), Some(1_050_210_000));
    assert_eq!(vss::key_noise_bound(usize::MAX, 2), None);
    let mut s = session(16, 9, false).unwrap();
    let ring = s.params.rlwe().ring_q_top().clone();
    let smudging = Smudging::with_sigma(30.0);
    let zp = vss::share_proof_params(&ring, &smudging, 9, 16, 1).unwrap();
    let [a1, a2] = s.coms.polys();
    let key = zk::ShareKey::new(&zp, a1, a2).unwrap();
    let enc = bfv::Encoder::new(&s.params);
    let ct =
        s.pk.encrypt(&enc.encode(&[7, 8, 9]).unwrap(), &mut s.rng)
            .unwrap();
    let ids: Vec<PartyId> = (8..=16).map(PartyId).collect();
    let active = ActiveSet::new(&ids, 9).unwrap();
    let [k1, k2] = s.coms.member(PartyId(16)).unwrap();
    let com = zk::ShareCommitment::new(&zp, &k1, &k2).unwrap();
    let ctx = [1u8; 32];
    let (shares, proofs) = s.ps[15]
        .proven_decryption_shares(
            &[ct.rlwe()],
            &active,
            &smudging,
            &zp,
            &key,
            &com,
            &ctx,
            &mut s.rng,
        )
        .unwrap();
    let polys: Vec<Poly> = shares.iter().map(|d| d.poly().clone()).collect();
    vss::verify_decryption_shares(
        &[ct.rlwe()],
        &active,
        PartyId(16),
        &polys,
        &proofs,
        &zp,
        &key,
        &com,
        &ctx,
    )
    .unwrap();
}
