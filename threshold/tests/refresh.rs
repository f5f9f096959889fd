//! Collective refresh (threshold bootstrapping): 5 parties, t = 3.
//!
//! * CKKS: an iterated map of 14 multiplicative levels on a chain of 7
//!   (N = 16384, scale 2^40) completes with two collective refreshes by
//!   different committees, within 2^-20 of f64 in every slot.
//! * BFV: a product modulus-switched down to level 1 (the lowest with room
//!   for λ = 40 smudging) is refreshed to the top level, decrypts exactly
//!   at λ = 40, and takes another multiplication.
//! * Bad input: too few shares, shares of another ciphertext, a second
//!   share for the same ciphertext, a CKKS level without room for the
//!   masks, malformed share bytes.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use threshold::{
    ActiveSet, BfvNoise, CkksNoise, Crs, DecryptionShares, Error, Party, PartyId, PublicKeyShares,
    RefreshShare, RefreshShares, RelinKeyRound1, RelinKeyRound2, Smudging,
};

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

struct Session {
    parties: Vec<Party>,
    /// The joint secret `Σ s_i`, known to the test only (to measure).
    joint: rlwe::keys::SecretKey,
    crs: Crs,
    pk: rlwe::keys::PublicKey,
    rlk: rlwe::keys::RelinKey,
}

/// 5 parties, collective public and relinearization keys, Shamir dealing
/// for t = 3.
fn session(rlwe: &Arc<rlwe::params::Params>, r: &mut ChaCha20Rng) -> Session {
    let (n, t) = (5usize, 3usize);
    let crs = Crs::from_seed([9; 32]);
    let secrets: Vec<Vec<i64>> = (0..n)
        .map(|_| rlwe::sample::ternary(rlwe.degree(), r))
        .collect();
    let joint: Vec<i64> = (0..rlwe.degree())
        .map(|j| secrets.iter().map(|s| s[j]).sum())
        .collect();
    let joint = rlwe::keys::SecretKey::from_coeffs(rlwe, joint).unwrap();
    let mut parties: Vec<Party> = secrets
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let sk = rlwe::keys::SecretKey::from_coeffs(rlwe, s).unwrap();
            Party::from_secret(PartyId(i as u32 + 1), sk)
        })
        .collect();
    let shares: Vec<_> = parties
        .iter_mut()
        .map(|p| p.public_key_share(&crs, r).unwrap())
        .collect();
    let pk = PublicKeyShares::aggregate(shares)
        .unwrap()
        .finish()
        .unwrap();
    let (mut round1, mut eph) = (Vec::new(), Vec::new());
    for p in parties.iter_mut() {
        let (s, e) = p.relin_key_round1(&crs, r).unwrap();
        round1.push(s);
        eph.push(e);
    }
    let round1 = RelinKeyRound1::aggregate(round1).unwrap();
    let round2: Vec<_> = parties
        .iter_mut()
        .zip(eph)
        .map(|(p, e)| p.relin_key_round2(e, &round1, r).unwrap())
        .collect();
    let rlk = RelinKeyRound2::aggregate(round1, round2)
        .unwrap()
        .finish()
        .unwrap();
    let mut inbox: Vec<Vec<_>> = (0..n).map(|_| Vec::new()).collect();
    for p in &parties {
        for m in p.deal(t, n, r).unwrap() {
            inbox[(m.to.0 - 1) as usize].push(m);
        }
    }
    for (p, msgs) in parties.iter_mut().zip(inbox) {
        p.receive_dealings(msgs, t, n).unwrap();
    }
    Session {
        parties,
        joint,
        crs,
        pk,
        rlk,
    }
}

fn party(s: &mut Session, id: u32) -> &mut Party {
    &mut s.parties[(id - 1) as usize]
}

#[test]
fn ckks_circuit_longer_than_the_chain_with_two_refreshes() {
    let mut r = rng(70);
    let params = ckks::Parameters::preset(ckks::Preset::N16384).unwrap();
    let rlwe = params.rlwe().clone();
    let mut s = session(&rlwe, &mut r);
    let pk = ckks::PublicKey::from_rlwe(&params, s.pk.clone()).unwrap();
    let rlk = ckks::RelinKey::from_rlwe(&params, s.rlk.clone()).unwrap();
    let enc = ckks::Encoder::new(&params);
    let eval = ckks::Evaluator::new(&params);
    let slots = enc.slots();
    let x0: Vec<f64> = (0..slots).map(|_| r.gen_range(-0.5..0.5)).collect();
    let mut want = x0.clone();
    let mut ct = pk.encrypt(&enc.encode(&x0).unwrap(), &mut r).unwrap();
    let committees = [[1u32, 2, 3], [2, 4, 5]];
    let mut refreshes = 0;
    let iterations = 14;
    for it in 0..iterations {
        if ct.level() == 1 {
            // refresh: the phase is below scale·1 + noise (values < 1)
            let committee = committees[refreshes];
            let ids: Vec<PartyId> = committee.iter().map(|&i| PartyId(i)).collect();
            let active = ActiveSet::new(&ids, 3).unwrap();
            let noise = CkksNoise::fresh(&params, 5, 1.0).unwrap();
            let log2_phase = (ct.scale() + noise.log2_bound().exp2()).log2();
            let crs = s.crs;
            let shares: Vec<RefreshShare> = committee
                .iter()
                .map(|&i| {
                    party(&mut s, i)
                        .refresh_share_ckks(&ct, &crs, log2_phase, 3, Some(&active), &mut r)
                        .unwrap()
                })
                .collect();
            let bytes: usize = shares
                .iter()
                .map(|sh| sh.to_bytes(&rlwe).unwrap().len())
                .sum::<usize>()
                / shares.len();
            // the shares cross as bytes
            let shares: Vec<RefreshShare> = shares
                .iter()
                .map(|sh| RefreshShare::from_bytes(&rlwe, &sh.to_bytes(&rlwe).unwrap()).unwrap())
                .collect();
            let scale = ct.scale();
            ct = RefreshShares::aggregate(ct.rlwe(), &s.crs, shares, Some(&active))
                .unwrap()
                .finish_ckks(&params, scale)
                .unwrap();
            assert_eq!(ct.level(), params.max_level());
            refreshes += 1;
            println!(
                "iteration {it}: refresh {refreshes} by parties {committee:?}, {:.0} KiB per party",
                bytes as f64 / 1024.0
            );
        }
        ct = eval
            .add_const(&eval.mul_relin_rescale(&ct, &ct, &rlk).unwrap(), 0.1)
            .unwrap();
        for w in want.iter_mut() {
            *w = *w * *w + 0.1;
        }
    }
    assert_eq!(refreshes, 2);
    assert!(iterations > params.max_level());
    // measured with the joint secret (the scale 2^40 has no room for
    // λ = 40 smudging; decryption at λ = 40 is tested in ckks_lambda40.rs)
    let phase = s.joint.decrypt(ct.rlwe()).unwrap();
    let pt = ckks::Plaintext::from_poly(&params, phase, ct.scale()).unwrap();
    let got = enc.decode(&pt).unwrap();
    let worst = got
        .iter()
        .zip(&want)
        .map(|(g, w)| (g - w).abs())
        .fold(0.0, f64::max);
    let mean = got
        .iter()
        .zip(&want)
        .map(|(g, w)| (g - w).abs())
        .sum::<f64>()
        / slots as f64;
    println!(
        "{iterations} levels on a chain of {}: worst error 2^{:.1}, mean 2^{:.1} ({:.1} / {:.1} bits)",
        params.max_level(),
        worst.log2(),
        mean.log2(),
        -worst.log2(),
        -mean.log2()
    );
    assert!(worst < 2f64.powi(-20), "worst error {worst}");

    // the chain's last level has no room for masks at λ = 40
    let low = eval.drop_to_level(&ct, 0).unwrap();
    let crs = s.crs;
    let active = ActiveSet::new(&[PartyId(1), PartyId(2), PartyId(3)], 3).unwrap();
    assert!(matches!(
        party(&mut s, 1).refresh_share_ckks(&low, &crs, 41.0, 3, Some(&active), &mut r),
        Err(Error::SmudgingTooLarge { .. })
    ));
}

#[test]
fn bfv_refresh_from_the_lowest_level_and_bad_input() {
    let mut r = rng(71);
    let params = bfv::Parameters::preset(bfv::Preset::N8192T65537).unwrap();
    let rlwe = params.rlwe().clone();
    let mut s = session(&rlwe, &mut r);
    let pk = bfv::PublicKey::from_rlwe(&params, s.pk.clone()).unwrap();
    let rlk = bfv::RelinKey::from_rlwe(&params, s.rlk.clone()).unwrap();
    let enc = bfv::Encoder::new(&params);
    let eval = bfv::Evaluator::new(&params);
    let t = params.plaintext_modulus() as i64;
    let n = params.degree();
    let a: Vec<i64> = (0..n).map(|_| r.gen_range(-1000..1000)).collect();
    let b: Vec<i64> = (0..n).map(|_| r.gen_range(-1000..1000)).collect();
    let ca = pk.encrypt(&enc.encode(&a).unwrap(), &mut r).unwrap();
    let cb = pk.encrypt(&enc.encode(&b).unwrap(), &mut r).unwrap();
    let mut ct = eval.mul_relin(&ca, &cb, &rlk).unwrap();
    let mut noise = BfvNoise::fresh(&params, 5)
        .mul_relin(&BfvNoise::fresh(&params, 5))
        .unwrap();
    while ct.level() > 1 {
        ct = eval.mod_switch_to_next(&ct).unwrap();
        noise = noise.mod_switch().unwrap();
    }
    // level 0 (44 bits) has no room for λ = 40 smudging over t = 2^17;
    // level 1 (88 bits) has
    let bottom = noise.mod_switch().unwrap();
    assert!(matches!(
        Smudging::for_bfv(&params, 0, bottom.log2_bound(), 3),
        Err(Error::SmudgingTooLarge { .. })
    ));
    let ids = [PartyId(2), PartyId(3), PartyId(4)];
    let active = ActiveSet::new(&ids, 3).unwrap();
    let smudging = Smudging::for_bfv(&params, ct.level(), noise.log2_bound(), 3).unwrap();
    let crs = s.crs;
    let shares: Vec<RefreshShare> = ids
        .iter()
        .map(|id| {
            party(&mut s, id.0)
                .refresh_share_bfv(&ct, &crs, &smudging, Some(&active), &mut r)
                .unwrap()
        })
        .collect();
    let bytes = shares[0].to_bytes(&rlwe).unwrap().len();

    // bad input first (the good shares are reused below)
    assert!(matches!(
        RefreshShares::aggregate(ct.rlwe(), &crs, shares[..2].to_vec(), Some(&active)),
        Err(Error::TooFewShares { got: 2, need: 3 })
    ));
    let other = eval
        .mod_switch_to(&eval.mul_relin(&cb, &ca, &rlk).unwrap(), 0)
        .unwrap();
    assert!(matches!(
        RefreshShares::aggregate(other.rlwe(), &crs, shares.clone(), Some(&active)),
        Err(Error::InvalidShare { .. })
    ));
    assert!(matches!(
        RefreshShares::aggregate(
            ct.rlwe(),
            &Crs::from_seed([1; 32]),
            shares.clone(),
            Some(&active)
        ),
        Err(Error::InvalidShare { .. })
    ));
    assert!(matches!(
        party(&mut s, 2).refresh_share_bfv(&ct, &crs, &smudging, Some(&active), &mut r),
        Err(Error::ShareReused { .. })
    ));
    let mut bad = shares[0].to_bytes(&rlwe).unwrap();
    bad.truncate(bad.len() - 10);
    assert!(RefreshShare::from_bytes(&rlwe, &bad).is_err());
    let dec_share = party(&mut s, 5)
        .decryption_share(ca.rlwe(), None, &Smudging::with_sigma(10.0), &mut r)
        .unwrap()
        .to_bytes(&rlwe)
        .unwrap();
    assert!(matches!(
        RefreshShare::from_bytes(&rlwe, &dec_share),
        Err(Error::Malformed { .. })
    ));

    let fresh = RefreshShares::aggregate(ct.rlwe(), &crs, shares, Some(&active))
        .unwrap()
        .finish_bfv(&params, ct.encoding())
        .unwrap();
    assert_eq!(fresh.level(), params.max_level());
    println!(
        "BFV refresh from level 1 of 2: {:.0} KiB per party",
        bytes as f64 / 1024.0
    );

    // decrypt (another committee, λ = 40) and compute on
    let decrypt = |s: &mut Session, ct: &bfv::Ciphertext, noise: &BfvNoise, r: &mut ChaCha20Rng| {
        let ids = [PartyId(1), PartyId(4), PartyId(5)];
        let active = ActiveSet::new(&ids, 3).unwrap();
        let smudging = Smudging::for_bfv(&params, ct.level(), noise.log2_bound(), 3).unwrap();
        let shares: Vec<_> = ids
            .iter()
            .map(|id| {
                party(s, id.0)
                    .decryption_share(ct.rlwe(), Some(&active), &smudging, r)
                    .unwrap()
            })
            .collect();
        let pt = DecryptionShares::aggregate(ct.rlwe(), shares, Some(&active))
            .unwrap()
            .finish_bfv(&params, ct.encoding())
            .unwrap();
        enc.decode(&pt).unwrap()
    };
    let center = |v: i64| {
        let r = v.rem_euclid(t);
        if r > t / 2 {
            r - t
        } else {
            r
        }
    };
    // a refreshed ciphertext is bounded by a fresh encryption's noise
    let fresh_noise = BfvNoise::fresh(&params, 5);
    let ab: Vec<i64> = a.iter().zip(&b).map(|(x, y)| center(x * y)).collect();
    assert_eq!(decrypt(&mut s, &fresh, &fresh_noise, &mut r), ab);
    let again = eval.mul_relin(&fresh, &ca, &rlk).unwrap();
    let again_noise = fresh_noise.mul_relin(&fresh_noise).unwrap();
    let aba: Vec<i64> = ab.iter().zip(&a).map(|(x, y)| center(x * y)).collect();
    assert_eq!(decrypt(&mut s, &again, &again_noise, &mut r), aba);
}

#[test]
fn refresh_shares_need_the_instance_parameters() {
    let mut r = rng(72);
    let params = bfv::Parameters::preset(bfv::Preset::N4096T65537).unwrap();
    let other = bfv::Parameters::preset(bfv::Preset::N8192T65537).unwrap();
    let mut p = Party::new(PartyId(1), other.rlwe(), &mut r);
    let sk = bfv::SecretKey::generate(&params, &mut r);
    let ct = sk
        .encrypt(&bfv::Encoder::new(&params).encode(&[1, 2]).unwrap(), &mut r)
        .unwrap();
    assert!(matches!(
        p.refresh_share_bfv(
            &ct,
            &Crs::from_seed([0; 32]),
            &Smudging::with_sigma(10.0),
            None,
            &mut r
        ),
        Err(Error::ParameterMismatch { .. })
    ));
}
