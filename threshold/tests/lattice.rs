//! Collective keys and threshold decryption for BFV and CKKS: keys made by
//! n parties drive the ordinary evaluators, any t parties decrypt, fewer
//! cannot, shares are single-use, and smudging has the stated width.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rlwe::keys::galois_element_for_rotation;
use rlwe::poly::{Poly, Representation};
use threshold::{
    ActiveSet, Crs, DecryptionShares, Error, GaloisKeyShares, KeySwitchShares, Party, PartyId,
    PublicKeyShares, RelinKeyRound1, RelinKeyRound2, Smudging,
};

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

fn parties(params: &Arc<rlwe::params::Params>, n: u32, rng: &mut ChaCha20Rng) -> Vec<Party> {
    (1..=n)
        .map(|i| Party::new(PartyId(i), params, rng))
        .collect()
}

struct Keys {
    pk: rlwe::keys::PublicKey,
    rlk: rlwe::keys::RelinKey,
    gk: rlwe::keys::GaloisKeys,
}

/// The full N-of-N key generation: public key, two-round relinearization
/// key, Galois key for a rotation by one slot.
fn collective_keys(ps: &mut [Party], crs: &Crs, rng: &mut ChaCha20Rng) -> Keys {
    let pk_shares: Vec<_> = ps
        .iter_mut()
        .map(|p| p.public_key_share(crs, rng).unwrap())
        .collect();
    let pk = PublicKeyShares::aggregate(pk_shares)
        .unwrap()
        .finish()
        .unwrap();
    let (r1, eph): (Vec<_>, Vec<_>) = ps
        .iter_mut()
        .map(|p| p.relin_key_round1(crs, rng).unwrap())
        .unzip();
    // shares aggregate in any order
    let round1 = RelinKeyRound1::aggregate(r1.into_iter().rev()).unwrap();
    let r2: Vec<_> = ps
        .iter_mut()
        .zip(eph)
        .map(|(p, e)| p.relin_key_round2(e, &round1, rng).unwrap())
        .collect();
    let rlk = RelinKeyRound2::aggregate(round1, r2)
        .unwrap()
        .finish()
        .unwrap();
    let g = galois_element_for_rotation(1, pk.params().degree());
    let g_shares: Vec<_> = ps
        .iter_mut()
        .map(|p| p.galois_key_share(crs, g, rng).unwrap())
        .collect();
    let mut gk = rlwe::keys::GaloisKeys::default();
    gk.insert(
        GaloisKeyShares::aggregate(g_shares)
            .unwrap()
            .finish()
            .unwrap(),
    );
    Keys { pk, rlk, gk }
}

fn center(x: i64, t: i64) -> i64 {
    let r = x.rem_euclid(t);
    if r > t / 2 {
        r - t
    } else {
        r
    }
}

#[test]
fn bfv_n_of_n_for_several_party_counts() {
    let params = bfv::Parameters::preset(bfv::Preset::N8192T65537).unwrap();
    for n in [2u32, 3, 5, 16] {
        let mut rng = rng(n as u64);
        let crs = Crs::from_seed([n as u8; 32]);
        let mut ps = parties(params.rlwe(), n, &mut rng);
        let keys = collective_keys(&mut ps, &crs, &mut rng);
        let pk = bfv::PublicKey::from_rlwe(&params, keys.pk).unwrap();
        let rlk = bfv::RelinKey::from_rlwe(&params, keys.rlk).unwrap();
        let gk = bfv::GaloisKeys::from_rlwe(&params, keys.gk);
        let enc = bfv::Encoder::new(&params);
        let eval = bfv::Evaluator::new(&params);
        let a: Vec<i64> = (0..8192).map(|i| (i * 37 % 1000) - 500).collect();
        let b: Vec<i64> = (0..8192).map(|i| (i * 11 % 300) - 150).collect();
        let ca = pk.encrypt(&enc.encode(&a).unwrap(), &mut rng).unwrap();
        let cb = pk.encrypt(&enc.encode(&b).unwrap(), &mut rng).unwrap();
        let ct = eval
            .rotate_rows(&eval.mul_relin(&ca, &cb, &rlk).unwrap(), 1, &gk)
            .unwrap();
        // Noise after one multiplication at N = 8192 is below 2^60 in the
        // phase (the budget test in `bfv` measures ≈ 2^47 for one party;
        // the joint secret of 16 parties is ≈ 4× larger).
        let smudging = Smudging::for_bfv(&params, ct.level(), 60.0, n as usize).unwrap();
        let shares: Vec<_> = ps
            .iter_mut()
            .map(|p| {
                p.decryption_share(ct.rlwe(), None, &smudging, &mut rng)
                    .unwrap()
            })
            .collect();
        let pt = DecryptionShares::aggregate(ct.rlwe(), shares, None)
            .unwrap()
            .finish_bfv(&params, ct.encoding())
            .unwrap();
        let got = enc.decode(&pt).unwrap();
        let half = 4096;
        for r in 0..2 {
            for j in 0..half {
                let src = r * half + (j + 1) % half;
                assert_eq!(
                    got[r * half + j],
                    center(a[src] * b[src], 65537),
                    "n={n} slot {j}"
                );
            }
        }
        // every party must contribute in N-of-N: a missing share gives garbage,
        // which is why t-of-n needs the dealing (next test)
    }
}

#[test]
fn bfv_t_of_n_any_t_decrypt_fewer_cannot() {
    let params = bfv::Parameters::preset(bfv::Preset::N4096T65537).unwrap();
    for (n, t) in [(3u32, 2usize), (5, 3), (16, 9)] {
        let mut rng = rng(100 + n as u64);
        let crs = Crs::from_seed([9; 32]);
        let mut ps = parties(params.rlwe(), n, &mut rng);
        let pk_shares: Vec<_> = ps
            .iter_mut()
            .map(|p| p.public_key_share(&crs, &mut rng).unwrap())
            .collect();
        let pk = bfv::PublicKey::from_rlwe(
            &params,
            PublicKeyShares::aggregate(pk_shares)
                .unwrap()
                .finish()
                .unwrap(),
        )
        .unwrap();
        // Shamir dealing: every party shares its secret with all.
        let mut inbox: Vec<Vec<_>> = (0..n).map(|_| Vec::new()).collect();
        for p in &ps {
            for m in p.deal(t, n as usize, &mut rng).unwrap() {
                inbox[(m.to.0 - 1) as usize].push(m);
            }
        }
        for (p, msgs) in ps.iter_mut().zip(inbox) {
            p.receive_dealings(msgs, t, n as usize).unwrap();
        }
        let enc = bfv::Encoder::new(&params);
        let values: Vec<i64> = (0..4096).map(|i| i % 5000 - 2500).collect();
        // two different active sets of size t decrypt two fresh ciphertexts
        let sets: Vec<Vec<u32>> =
            vec![(1..=t as u32).collect(), ((n - t as u32 + 1)..=n).collect()];
        for set in sets {
            let ct = pk.encrypt(&enc.encode(&values).unwrap(), &mut rng).unwrap();
            let active =
                ActiveSet::new(&set.iter().map(|&i| PartyId(i)).collect::<Vec<_>>(), t).unwrap();
            let smudging = Smudging::for_bfv(&params, ct.level(), 8.0, t).unwrap();
            let shares: Vec<_> = set
                .iter()
                .map(|&i| {
                    ps[(i - 1) as usize]
                        .decryption_share(ct.rlwe(), Some(&active), &smudging, &mut rng)
                        .unwrap()
                })
                .collect();
            // fewer than the active set: refused
            assert!(matches!(
                DecryptionShares::aggregate(ct.rlwe(), shares[..t - 1].to_vec(), Some(&active)),
                Err(Error::TooFewShares { .. })
            ));
            let pt = DecryptionShares::aggregate(ct.rlwe(), shares, Some(&active))
                .unwrap()
                .finish_bfv(&params, ct.encoding())
                .unwrap();
            assert_eq!(enc.decode(&pt).unwrap(), values, "n={n} t={t} set={set:?}");
        }
        // an active set of t − 1 parties cannot be formed
        let small: Vec<PartyId> = (1..t as u32).map(PartyId).collect();
        assert!(matches!(
            ActiveSet::new(&small, t),
            Err(Error::TooFewShares { .. })
        ));
    }
}

#[test]
fn ckks_collective_keys_multiply_and_rescale() {
    let params = ckks::Parameters::builder()
        .degree(8192)
        .q_bits(&[50, 50, 50])
        .p_bits(&[50])
        .scale_bits(50)
        .build()
        .unwrap();
    let mut rng = rng(7);
    let crs = Crs::from_seed([3; 32]);
    let mut ps = parties(params.rlwe(), 3, &mut rng);
    let keys = collective_keys(&mut ps, &crs, &mut rng);
    let pk = ckks::PublicKey::from_rlwe(&params, keys.pk).unwrap();
    let rlk = ckks::RelinKey::from_rlwe(&params, keys.rlk).unwrap();
    let enc = ckks::Encoder::new(&params);
    let eval = ckks::Evaluator::new(&params);
    let x: Vec<f64> = (0..enc.slots())
        .map(|i| ((i % 200) as f64 - 100.0) / 100.0)
        .collect();
    let y: Vec<f64> = (0..enc.slots())
        .map(|i| ((i % 77) as f64 - 38.0) / 40.0)
        .collect();
    let cx = pk.encrypt(&enc.encode(&x).unwrap(), &mut rng).unwrap();
    let cy = pk.encrypt(&enc.encode(&y).unwrap(), &mut rng).unwrap();
    let prod = eval
        .rescale(&eval.mul_relin(&cx, &cy, &rlk).unwrap())
        .unwrap();
    // The phase noise after multiplication and rescaling is the rescaling
    // round-off, below 2^10. λ = 40 smudging does not fit a 2^50 scale with
    // 10 bits of precision …
    assert!(matches!(
        Smudging::for_ckks(&params, prod.scale(), 10.0, 3, 10.0, 40),
        Err(Error::SmudgingTooLarge { .. })
    ));
    // … λ = 16 does (CKKS trades statistical security for precision).
    let smudging = Smudging::for_ckks(&params, prod.scale(), 10.0, 3, 10.0, 16).unwrap();
    let shares: Vec<_> = ps
        .iter_mut()
        .map(|p| {
            p.decryption_share(prod.rlwe(), None, &smudging, &mut rng)
                .unwrap()
        })
        .collect();
    let pt = DecryptionShares::aggregate(prod.rlwe(), shares, None)
        .unwrap()
        .finish_ckks(&params, prod.scale())
        .unwrap();
    let got = enc.decode(&pt).unwrap();
    let max_err = got
        .iter()
        .zip(x.iter().zip(&y))
        .map(|(g, (a, b))| (g - a * b).abs())
        .fold(0.0, f64::max);
    eprintln!("CKKS 3-party product: max error 2^{:.1}", max_err.log2());
    assert!(max_err < 2f64.powi(-10), "max error {max_err}");
}

#[test]
fn public_key_switching_to_an_outside_party() {
    let params = bfv::Parameters::preset(bfv::Preset::N4096T65537).unwrap();
    let mut rng = rng(21);
    let crs = Crs::from_seed([5; 32]);
    let mut ps = parties(params.rlwe(), 3, &mut rng);
    let pk_shares: Vec<_> = ps
        .iter_mut()
        .map(|p| p.public_key_share(&crs, &mut rng).unwrap())
        .collect();
    let pk = bfv::PublicKey::from_rlwe(
        &params,
        PublicKeyShares::aggregate(pk_shares)
            .unwrap()
            .finish()
            .unwrap(),
    )
    .unwrap();
    let enc = bfv::Encoder::new(&params);
    let values: Vec<i64> = (0..100).collect();
    let ct = pk.encrypt(&enc.encode(&values).unwrap(), &mut rng).unwrap();
    // the result party has its own key pair
    let result_sk = bfv::SecretKey::generate(&params, &mut rng);
    let result_pk = bfv::PublicKey::generate(&result_sk, &mut rng).unwrap();
    let smudging = Smudging::for_bfv(&params, ct.level(), 8.0, 3).unwrap();
    let shares: Vec<_> = ps
        .iter_mut()
        .map(|p| {
            p.key_switch_share(ct.rlwe(), result_pk.rlwe(), None, &smudging, &mut rng)
                .unwrap()
        })
        .collect();
    let switched = KeySwitchShares::aggregate(ct.rlwe(), shares, None)
        .unwrap()
        .finish();
    let phase = result_sk.rlwe().decrypt(&switched).unwrap();
    let pt = bfv::Plaintext::from_phase(&params, &phase, bfv::Encoding::Batch).unwrap();
    assert_eq!(&enc.decode(&pt).unwrap()[..100], &values[..]);
}

#[test]
fn shares_are_single_use_and_checked() {
    let params = bfv::Parameters::preset(bfv::Preset::N4096T65537).unwrap();
    let mut rng = rng(33);
    let crs = Crs::from_seed([1; 32]);
    let mut ps = parties(params.rlwe(), 3, &mut rng);
    let s1 = ps[0].public_key_share(&crs, &mut rng).unwrap();
    // a second share for the same common polynomial is refused
    assert!(matches!(
        ps[0].public_key_share(&crs, &mut rng),
        Err(Error::ShareReused {
            party: PartyId(1),
            ..
        })
    ));
    // duplicates and mixed sessions are rejected, naming the party
    let s2 = ps[1].public_key_share(&crs, &mut rng).unwrap();
    assert!(matches!(
        PublicKeyShares::aggregate(vec![s2.clone(), s2.clone()]),
        Err(Error::DuplicateParty { party: PartyId(2) })
    ));
    let other = ps[2]
        .public_key_share(&Crs::from_seed([2; 32]), &mut rng)
        .unwrap();
    assert!(matches!(
        PublicKeyShares::aggregate(vec![s1.clone(), other]),
        Err(Error::InvalidShare {
            party: PartyId(3),
            ..
        })
    ));
    let s3 = ps[2].public_key_share(&crs, &mut rng).unwrap();
    let pk = bfv::PublicKey::from_rlwe(
        &params,
        PublicKeyShares::aggregate(vec![s3, s1, s2])
            .unwrap()
            .finish()
            .unwrap(),
    )
    .unwrap();
    let enc = bfv::Encoder::new(&params);
    let ct = pk
        .encrypt(&enc.encode(&[1, 2, 3]).unwrap(), &mut rng)
        .unwrap();
    let sm = Smudging::for_bfv(&params, ct.level(), 8.0, 3).unwrap();
    let d1 = ps[0]
        .decryption_share(ct.rlwe(), None, &sm, &mut rng)
        .unwrap();
    // the same ciphertext again (even for another active set): refused
    assert!(matches!(
        ps[0].decryption_share(ct.rlwe(), None, &sm, &mut rng),
        Err(Error::ShareReused {
            party: PartyId(1),
            ..
        })
    ));
    // a share over the wrong ring is rejected with the party's name
    let low = bfv::Evaluator::new(&params)
        .mod_switch_to_next(&ct)
        .unwrap();
    let wrong = ps[1]
        .decryption_share(low.rlwe(), None, &sm, &mut rng)
        .unwrap();
    assert!(matches!(
        DecryptionShares::aggregate(ct.rlwe(), vec![d1, wrong], None),
        Err(Error::InvalidShare {
            party: PartyId(2),
            ..
        })
    ));
    // smudging that would break decryption is refused up front
    assert!(matches!(
        Smudging::for_bfv(&params, ct.level(), 20.0, 3),
        Err(Error::SmudgingTooLarge { .. })
    ));
    // t-of-n before any dealing, and bad thresholds
    let active = ActiveSet::new(&[PartyId(1), PartyId(2)], 2).unwrap();
    let ct2 = pk.encrypt(&enc.encode(&[1]).unwrap(), &mut rng).unwrap();
    assert!(matches!(
        ps[0].decryption_share(ct2.rlwe(), Some(&active), &sm, &mut rng),
        Err(Error::InvalidThreshold { .. })
    ));
    assert!(matches!(
        ps[0].deal(4, 3, &mut rng),
        Err(Error::InvalidThreshold { t: 4, n: 3 })
    ));
    assert!(matches!(
        ActiveSet::new(&[PartyId(1), PartyId(1)], 1),
        Err(Error::DuplicateParty { party: PartyId(1) })
    ));
}

/// With `c_1 = 0` a decryption share is exactly the smudging noise: its
/// empirical standard deviation must be the stated `σ = 2^log2_sigma`.
#[test]
fn smudging_noise_has_the_stated_width() {
    let params = bfv::Parameters::preset(bfv::Preset::N8192T65537).unwrap();
    let rp = params.rlwe().clone();
    let mut rng = rng(55);
    let ring = rp.ring_q(rp.max_level()).unwrap();
    for log2_sigma in [20.0f64, 60.0, 90.0] {
        // a fresh party each time: the same c_1 = 0 twice would be refused
        let mut ps = parties(&rp, 1, &mut rng);
        let sm = Smudging::with_sigma(log2_sigma);
        let c0 = rlwe::sample::uniform_poly(ring, Representation::Ntt, &mut rng);
        let ct =
            rlwe::ciphertext::Ciphertext::new(&rp, vec![c0, Poly::zero(ring, Representation::Ntt)])
                .unwrap();
        let share = ps[0].decryption_share(&ct, None, &sm, &mut rng).unwrap();
        let coeffs = share.poly().centered_coeffs();
        let sigma = log2_sigma.exp2();
        let xs: Vec<f64> = coeffs
            .iter()
            .map(|c| c.to_string().parse::<f64>().unwrap() / sigma)
            .collect();
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
        // 8192 samples: the standard error of the variance is ≈ sqrt(2/8192) ≈ 1.6%
        assert!(mean.abs() < 0.05, "mean {mean}");
        assert!(
            (var - 1.0).abs() < 0.06,
            "σ = 2^{log2_sigma}: normalized variance {var}"
        );
    }
}

/// Normalized mean and variance of the centered coefficients of `polys`
/// divided by `2^log2_sigma`.
fn normalized_moments(polys: &[Poly], log2_sigma: f64) -> (f64, f64, usize) {
    let sigma = log2_sigma.exp2();
    let xs: Vec<f64> = polys
        .iter()
        .flat_map(|p| p.centered_coeffs())
        .map(|c| c.to_string().parse::<f64>().unwrap() / sigma)
        .collect();
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
    (mean, var, xs.len())
}

/// Issue 13, finding 4: `for_bfv` with a noise bound of 2^70 at λ = 40
/// stated σ = 2^110 while the sampler clamped to 2^100 (30 bits of
/// statistical security instead of 40). The shares of three parties for a
/// ciphertext with `c_1 = 0` are exactly their smudging noise: over 3·8192
/// coefficients (standard error of the normalized variance
/// sqrt(2/24576) ≈ 0.9 %) the variance must be 1 ± 5 % at the stated σ,
/// i.e. log2 of the empirical standard deviation within 0.04 of 110; the
/// clamp gave 2^-20.
#[test]
fn for_bfv_with_noise_2_70_smudges_at_2_110() {
    let params = bfv::Parameters::preset(bfv::Preset::N8192T65537).unwrap();
    let rp = params.rlwe().clone();
    let top = rp.max_level();
    let sm = Smudging::for_bfv(&params, top, 70.0, 3).unwrap();
    assert_eq!(sm.log2_sigma(), 110.0);
    let mut rng = rng(56);
    let ring = rp.ring_q(top).unwrap();
    let mut ps = parties(&rp, 3, &mut rng);
    let c0 = rlwe::sample::uniform_poly(ring, Representation::Ntt, &mut rng);
    let ct =
        rlwe::ciphertext::Ciphertext::new(&rp, vec![c0, Poly::zero(ring, Representation::Ntt)])
            .unwrap();
    let shares: Vec<Poly> = ps
        .iter_mut()
        .map(|p| {
            p.decryption_share(&ct, None, &sm, &mut rng)
                .unwrap()
                .poly()
                .clone()
        })
        .collect();
    let (mean, var, n) = normalized_moments(&shares, sm.log2_sigma());
    assert_eq!(n, 3 * 8192);
    assert!(mean.abs() < 0.04, "normalized mean {mean}");
    assert!(
        (var - 1.0).abs() < 0.05,
        "σ = 2^110 stated, empirical 2^{:.2}",
        110.0 + 0.5 * var.log2()
    );
}

/// Smudging wider than the sampler draws (σ > 2^120) is an error, never a
/// narrower noise: at construction from `for_bfv` / `for_ckks` (here 2^90
/// noise at λ = 40 on N = 16384, whose 342-bit Q would have room for it),
/// from `check`, and from every share (before the share marks its
/// instance used, so a correct retry still works).
#[test]
fn smudging_wider_than_the_sampler_is_refused() {
    let too_wide = |r: Result<_, Error>| {
        matches!(
            r,
            Err(Error::SmudgingTooWide { log2_sigma, max_log2_sigma })
                if log2_sigma > max_log2_sigma && max_log2_sigma == Smudging::MAX_LOG2_SIGMA
        )
    };
    assert_eq!(Smudging::MAX_LOG2_SIGMA, 120.0);
    let big = bfv::Parameters::preset(bfv::Preset::N16384T65537).unwrap();
    let r = Smudging::for_bfv(&big, big.max_level(), 90.0, 3);
    assert!(
        matches!(
            r,
            Err(Error::SmudgingTooWide {
                log2_sigma,
                max_log2_sigma
            }) if log2_sigma == 130.0 && max_log2_sigma == 120.0
        ),
        "{r:?}"
    );
    // the room alone would have allowed it
    assert!(Smudging::new(90.0, 40)
        .log2_total_bound(3, 90.0)
        .lt(&(342.0 - 18.0)));
    assert!(Smudging::for_bfv(&big, big.max_level(), 80.0, 3).is_ok());
    let ck = ckks::Parameters::builder()
        .degree(8192)
        .q_bits(&[50, 50, 50])
        .p_bits(&[50])
        .scale_bits(50)
        .build()
        .unwrap();
    assert!(too_wide(
        Smudging::for_ckks(&ck, 2f64.powi(50), 90.0, 3, 10.0, 40).map(|_| ())
    ));
    assert!(too_wide(Smudging::with_sigma(121.0).check(3, 8.0, 400.0)));
    assert!(too_wide(Smudging::with_sigma(f64::INFINITY).check_width()));
    assert!(Smudging::with_sigma(120.0).check_width().is_ok());

    // shares
    let params = bfv::Parameters::preset(bfv::Preset::N4096T65537).unwrap();
    let rp = params.rlwe().clone();
    let mut rng = rng(57);
    let ring = rp.ring_q(rp.max_level()).unwrap();
    let wide = Smudging::with_sigma(121.0);
    assert_eq!(wide.log2_sigma(), 121.0);
    assert!(too_wide(wide.sample(ring, &mut rng).map(|_| ())));
    let mut ps = parties(&rp, 1, &mut rng);
    let c0 = rlwe::sample::uniform_poly(ring, Representation::Ntt, &mut rng);
    let c1 = rlwe::sample::uniform_poly(ring, Representation::Ntt, &mut rng);
    let ct = rlwe::ciphertext::Ciphertext::new(&rp, vec![c0, c1]).unwrap();
    let target_sk = rlwe::keys::SecretKey::generate(&rp, &mut rng);
    let target = rlwe::keys::PublicKey::generate(&target_sk, &mut rng).unwrap();
    assert!(too_wide(
        ps[0]
            .decryption_share(&ct, None, &wide, &mut rng)
            .map(|_| ())
    ));
    assert!(too_wide(
        ps[0]
            .key_switch_share(&ct, &target, None, &wide, &mut rng)
            .map(|_| ())
    ));
    let ok = Smudging::with_sigma(20.0);
    assert!(ps[0].decryption_share(&ct, None, &ok, &mut rng).is_ok());
    assert!(ps[0]
        .key_switch_share(&ct, &target, None, &ok, &mut rng)
        .is_ok());
}

/// The whole protocol with every message serialized and read back, as
/// between processes; malformed and mismatched bytes give specific errors.
#[test]
fn every_message_crosses_as_bytes() {
    use threshold::{
        DecryptionShare, GaloisKeyShare, KeySwitchShare, PublicKeyShare, RelinRound1Share,
        RelinRound2Share, SecretShareMessage,
    };
    let params = bfv::Parameters::preset(bfv::Preset::N8192T65537).unwrap();
    let rp = params.rlwe().clone();
    let mut rng = rng(77);
    let crs = Crs::from_seed([4; 32]);
    let mut ps = parties(&rp, 3, &mut rng);
    let pk_bytes: Vec<Vec<u8>> = ps
        .iter_mut()
        .map(|p| p.public_key_share(&crs, &mut rng).unwrap().to_bytes())
        .collect();
    let pk_shares: Vec<_> = pk_bytes
        .iter()
        .map(|b| PublicKeyShare::from_bytes(&rp, b).unwrap())
        .collect();
    let pk = PublicKeyShares::aggregate(pk_shares)
        .unwrap()
        .finish()
        .unwrap();
    let mut r1_bytes = Vec::new();
    let mut eph = Vec::new();
    for p in ps.iter_mut() {
        let (s, e) = p.relin_key_round1(&crs, &mut rng).unwrap();
        r1_bytes.push(s.to_bytes());
        eph.push(e);
    }
    let round1 = RelinKeyRound1::aggregate(
        r1_bytes
            .iter()
            .map(|b| RelinRound1Share::from_bytes(&rp, b).unwrap()),
    )
    .unwrap();
    let r2_bytes: Vec<Vec<u8>> = ps
        .iter_mut()
        .zip(eph)
        .map(|(p, e)| p.relin_key_round2(e, &round1, &mut rng).unwrap().to_bytes())
        .collect();
    let rlk = RelinKeyRound2::aggregate(
        round1,
        r2_bytes
            .iter()
            .map(|b| RelinRound2Share::from_bytes(&rp, b).unwrap()),
    )
    .unwrap()
    .finish()
    .unwrap();
    let g = galois_element_for_rotation(1, 8192);
    let g_bytes: Vec<Vec<u8>> = ps
        .iter_mut()
        .map(|p| p.galois_key_share(&crs, g, &mut rng).unwrap().to_bytes())
        .collect();
    let gk = GaloisKeyShares::aggregate(
        g_bytes
            .iter()
            .map(|b| GaloisKeyShare::from_bytes(&rp, b).unwrap()),
    )
    .unwrap()
    .finish()
    .unwrap();
    // the finished keys also serialize (the relinearization key with explicit a_j)
    let rlk = rlwe::keys::RelinKey::from_bytes(&rp, &rlk.to_bytes()).unwrap();
    let mut gks = rlwe::keys::GaloisKeys::default();
    gks.insert(gk);
    // dealing messages through bytes
    let mut inbox: Vec<Vec<SecretShareMessage>> = (0..3).map(|_| Vec::new()).collect();
    for p in &ps {
        for m in p.deal(2, 3, &mut rng).unwrap() {
            let bytes = m.to_bytes(&rp);
            inbox[(m.to.0 - 1) as usize].push(SecretShareMessage::from_bytes(&rp, &bytes).unwrap());
        }
    }
    for (p, msgs) in ps.iter_mut().zip(inbox) {
        p.receive_dealings(msgs, 2, 3).unwrap();
    }
    let bpk = bfv::PublicKey::from_rlwe(&params, pk).unwrap();
    let enc = bfv::Encoder::new(&params);
    let eval = bfv::Evaluator::new(&params);
    let x: Vec<i64> = (0..8192).map(|i| i % 100).collect();
    let ct = bpk.encrypt(&enc.encode(&x).unwrap(), &mut rng).unwrap();
    let ct = eval
        .rotate_rows(
            &eval
                .mul_relin(&ct, &ct, &bfv::RelinKey::from_rlwe(&params, rlk).unwrap())
                .unwrap(),
            1,
            &bfv::GaloisKeys::from_rlwe(&params, gks),
        )
        .unwrap();
    let active = ActiveSet::new(&[PartyId(1), PartyId(3)], 2).unwrap();
    let sm = Smudging::for_bfv(&params, ct.level(), 60.0, 2).unwrap();
    let d_bytes: Vec<Vec<u8>> = [0usize, 2]
        .iter()
        .map(|&i| {
            ps[i]
                .decryption_share(ct.rlwe(), Some(&active), &sm, &mut rng)
                .unwrap()
                .to_bytes(&rp)
                .unwrap()
        })
        .collect();
    let shares: Vec<_> = d_bytes
        .iter()
        .map(|b| DecryptionShare::from_bytes(&rp, b).unwrap())
        .collect();
    let pt = DecryptionShares::aggregate(ct.rlwe(), shares, Some(&active))
        .unwrap()
        .finish_bfv(&params, ct.encoding())
        .unwrap();
    let got = enc.decode(&pt).unwrap();
    for (j, g) in got.iter().enumerate().take(4095) {
        assert_eq!(*g, ((j + 1) % 100 * ((j + 1) % 100)) as i64);
    }
    // public-key switching shares through bytes
    let result_sk = rlwe::keys::SecretKey::generate(&rp, &mut rng);
    let result_pk = rlwe::keys::PublicKey::generate(&result_sk, &mut rng).unwrap();
    let fresh = bpk
        .encrypt(&enc.encode(&[9, 8, 7]).unwrap(), &mut rng)
        .unwrap();
    let sm = Smudging::for_bfv(&params, fresh.level(), 8.0, 3).unwrap();
    let ks: Vec<_> = ps
        .iter_mut()
        .map(|p| {
            let b = p
                .key_switch_share(fresh.rlwe(), &result_pk, None, &sm, &mut rng)
                .unwrap()
                .to_bytes(&rp)
                .unwrap();
            KeySwitchShare::from_bytes(&rp, &b).unwrap()
        })
        .collect();
    let switched = KeySwitchShares::aggregate(fresh.rlwe(), ks, None)
        .unwrap()
        .finish();
    let pt = bfv::Plaintext::from_phase(
        &params,
        &result_sk.decrypt(&switched).unwrap(),
        bfv::Encoding::Batch,
    )
    .unwrap();
    assert_eq!(&enc.decode(&pt).unwrap()[..3], &[9, 8, 7]);

    // bad input: truncated, wrong kind, other parameters, bad party id
    let b = &pk_bytes[0];
    assert!(matches!(
        PublicKeyShare::from_bytes(&rp, &b[..b.len() - 5]),
        Err(Error::Rlwe(rlwe::Error::Malformed { .. }))
    ));
    assert!(matches!(
        RelinRound1Share::from_bytes(&rp, b),
        Err(Error::Malformed { .. })
    ));
    let other = bfv::Parameters::preset(bfv::Preset::N4096T65537).unwrap();
    assert!(matches!(
        PublicKeyShare::from_bytes(other.rlwe(), b),
        Err(Error::Rlwe(rlwe::Error::ParameterMismatch { .. }))
    ));
    // body = (tag: 8 bytes, party: varint u32, …) after the rlwe header
    let body_at = rlwe::serialize::HEADER_LEN + 8;
    let (party, rest) = postcard::take_from_bytes::<u32>(&b[body_at..]).unwrap();
    assert_ne!(party, 0);
    let zero_party = [&b[..body_at], &postcard::to_allocvec(&0u32).unwrap(), rest].concat();
    assert!(matches!(
        PublicKeyShare::from_bytes(&rp, &zero_party),
        Err(Error::Malformed { .. })
    ));
    // a Galois share's body: (party, element: varint u64, …)
    let g = &g_bytes[0];
    let ((party, _element), rest) = postcard::take_from_bytes::<(u32, u64)>(&g[body_at..]).unwrap();
    let even = [
        &g[..body_at],
        &postcard::to_allocvec(&(party, 4u64)).unwrap(),
        rest,
    ]
    .concat();
    assert!(matches!(
        GaloisKeyShare::from_bytes(&rp, &even),
        Err(Error::Malformed { .. })
    ));
    let mut big = d_bytes[0].clone();
    let l = big.len();
    big[l - 8..].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(matches!(
        DecryptionShare::from_bytes(&rp, &big),
        Err(Error::Rlwe(rlwe::Error::Malformed { .. }))
    ));
}

/// Every share names the party that made it, before and after crossing as
/// bytes, so that a receiver can match it with an authenticated sender
/// before aggregating; the aggregates list their contributors.
#[test]
fn every_share_names_its_party() {
    use threshold::{
        DecryptionShare, GaloisKeyShare, KeySwitchShare, PublicKeyShare, RelinRound1Share,
        RelinRound2Share,
    };
    let params = bfv::Parameters::preset(bfv::Preset::N4096T65537).unwrap();
    let rp = params.rlwe().clone();
    let mut rng = rng(91);
    let crs = Crs::from_seed([9; 32]);
    let mut ps = parties(&rp, 3, &mut rng);
    let ids = [PartyId(1), PartyId(2), PartyId(3)];

    let pk: Vec<_> = ps
        .iter_mut()
        .map(|p| p.public_key_share(&crs, &mut rng).unwrap())
        .collect();
    for (s, id) in pk.iter().zip(ids) {
        assert_eq!(s.party(), id);
        assert_eq!(
            PublicKeyShare::from_bytes(&rp, &s.to_bytes())
                .unwrap()
                .party(),
            id
        );
    }
    let pk = PublicKeyShares::aggregate(pk).unwrap().finish().unwrap();

    let (r1, eph): (Vec<_>, Vec<_>) = ps
        .iter_mut()
        .map(|p| p.relin_key_round1(&crs, &mut rng).unwrap())
        .unzip();
    for (s, id) in r1.iter().zip(ids) {
        assert_eq!(s.party(), id);
        assert_eq!(
            RelinRound1Share::from_bytes(&rp, &s.to_bytes())
                .unwrap()
                .party(),
            id
        );
    }
    let round1 = RelinKeyRound1::aggregate(r1).unwrap();
    assert_eq!(round1.parties(), ids);
    let r2: Vec<_> = ps
        .iter_mut()
        .zip(eph)
        .map(|(p, e)| p.relin_key_round2(e, &round1, &mut rng).unwrap())
        .collect();
    for (s, id) in r2.iter().zip(ids) {
        assert_eq!(s.party(), id);
        assert_eq!(
            RelinRound2Share::from_bytes(&rp, &s.to_bytes())
                .unwrap()
                .party(),
            id
        );
    }
    assert_eq!(
        RelinKeyRound2::aggregate(round1, r2).unwrap().parties(),
        ids
    );

    let g = galois_element_for_rotation(1, rp.degree());
    let gs: Vec<_> = ps
        .iter_mut()
        .map(|p| p.galois_key_share(&crs, g, &mut rng).unwrap())
        .collect();
    for (s, id) in gs.iter().zip(ids) {
        assert_eq!((s.party(), s.element()), (id, g));
        let back = GaloisKeyShare::from_bytes(&rp, &s.to_bytes()).unwrap();
        assert_eq!((back.party(), back.element()), (id, g));
    }
    let agg = GaloisKeyShares::aggregate(gs).unwrap();
    assert_eq!((agg.parties(), agg.element()), (ids.to_vec(), g));

    let bpk = bfv::PublicKey::from_rlwe(&params, pk).unwrap();
    let enc = bfv::Encoder::new(&params);
    let ct = bpk
        .encrypt(&enc.encode(&[1, 2]).unwrap(), &mut rng)
        .unwrap();
    let sm = Smudging::for_bfv(&params, ct.level(), 8.0, 3).unwrap();
    let target_sk = rlwe::keys::SecretKey::generate(&rp, &mut rng);
    let target = rlwe::keys::PublicKey::generate(&target_sk, &mut rng).unwrap();
    for (p, id) in ps.iter_mut().zip(ids) {
        let d = p.decryption_share(ct.rlwe(), None, &sm, &mut rng).unwrap();
        assert_eq!(d.party(), id);
        let b = d.to_bytes(&rp).unwrap();
        assert_eq!(DecryptionShare::from_bytes(&rp, &b).unwrap().party(), id);
        let k = p
            .key_switch_share(ct.rlwe(), &target, None, &sm, &mut rng)
            .unwrap();
        assert_eq!(k.party(), id);
        let b = k.to_bytes(&rp).unwrap();
        assert_eq!(KeySwitchShare::from_bytes(&rp, &b).unwrap().party(), id);
    }
}
