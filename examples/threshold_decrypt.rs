//! Five parties create a joint key; nobody holds the secret. An input party
//! encrypts, a server computes on BFV and CKKS ciphertexts with the joint
//! evaluation keys, and any three of the five decrypt the results (their
//! decryption shares carry smudging noise at λ = 40). One RLWE parameter set
//! serves both schemes, so one key ceremony covers both; CKKS takes a scale
//! sized for λ = 40 from `threshold::ckks_parameters`.
//!
//! Run: `cargo run --release --example threshold_decrypt`

use std::time::Instant;

use rlwe::keys::galois_element_for_rotation;
use rlwe::params::Params;
use threshold::{
    ActiveSet, Crs, DecryptionShares, GaloisKeyShares, Party, PartyId, PublicKeyShares,
    RelinKeyRound1, RelinKeyRound2, Smudging,
};

fn main() -> Result<(), threshold::Error> {
    let (n, t) = (5usize, 3usize);
    // 128-bit secure: log2(QP) = 200 ≤ 218 at N = 8192.
    let rlwe = Params::builder()
        .degree(8192)
        .q_bits(&[50, 50, 50])
        .p_bits(&[50])
        .build()?;
    let bfv_params = bfv::Parameters::from_rlwe(rlwe.clone(), 65537)?;
    let mut rng = rlwe::sample::rng();
    let crs = Crs::from_seed(rlwe::sample::random_seed(&mut rng)); // agreed on publicly

    // --- key ceremony: every party online once --------------------------------
    let t0 = Instant::now();
    let mut parties: Vec<Party> = (1..=n as u32)
        .map(|i| Party::new(PartyId(i), &rlwe, &mut rng))
        .collect();
    let pk_shares = parties
        .iter_mut()
        .map(|p| p.public_key_share(&crs, &mut rng))
        .collect::<Result<Vec<_>, _>>()?;
    let pk = PublicKeyShares::aggregate(pk_shares)?.finish()?;
    let mut round1 = Vec::new();
    let mut ephemerals = Vec::new();
    for p in parties.iter_mut() {
        let (share, eph) = p.relin_key_round1(&crs, &mut rng)?;
        round1.push(share);
        ephemerals.push(eph);
    }
    let round1 = RelinKeyRound1::aggregate(round1)?;
    let mut round2 = Vec::new();
    for (p, eph) in parties.iter_mut().zip(ephemerals) {
        round2.push(p.relin_key_round2(eph, &round1, &mut rng)?);
    }
    let rlk = RelinKeyRound2::aggregate(round1, round2)?.finish()?;
    let g = galois_element_for_rotation(1, rlwe.degree());
    let g_shares = parties
        .iter_mut()
        .map(|p| p.galois_key_share(&crs, g, &mut rng))
        .collect::<Result<Vec<_>, _>>()?;
    let mut gks = rlwe::keys::GaloisKeys::default();
    gks.insert(GaloisKeyShares::aggregate(g_shares)?.finish()?);
    // Shamir dealing so that any t of the n can decrypt later.
    let mut inbox: Vec<Vec<_>> = (0..n).map(|_| Vec::new()).collect();
    for p in &parties {
        for m in p.deal(t, n, &mut rng)? {
            inbox[(m.to.0 - 1) as usize].push(m);
        }
    }
    for (p, msgs) in parties.iter_mut().zip(inbox) {
        p.receive_dealings(msgs, t, n)?;
    }
    println!(
        "key ceremony ({n} parties, threshold {t}): public, relinearization and Galois keys + dealing in {:.0} ms",
        t0.elapsed().as_secs_f64() * 1e3
    );

    // --- BFV: exact integers -------------------------------------------------
    let bpk = bfv::PublicKey::from_rlwe(&bfv_params, pk.clone())?;
    let brlk = bfv::RelinKey::from_rlwe(&bfv_params, rlk)?;
    let bgk = bfv::GaloisKeys::from_rlwe(&bfv_params, gks);
    let enc = bfv::Encoder::new(&bfv_params);
    let eval = bfv::Evaluator::new(&bfv_params);
    let a = vec![3, 1, 4, 1, 5, 9, 2, 6];
    let b = vec![2, 7, 1, 8, 2, 8, 1, 8];
    let ca = bpk.encrypt(&enc.encode(&a)?, &mut rng)?;
    let cb = bpk.encrypt(&enc.encode(&b)?, &mut rng)?;
    let result = eval.rotate_rows(&eval.mul_relin(&ca, &cb, &brlk)?, 1, &bgk)?;
    let decryptors = [PartyId(1), PartyId(3), PartyId(5)];
    let active = ActiveSet::new(&decryptors, t)?;
    // Every decryptor bounds the noise itself from the public circuit:
    // two fresh encryptions, a relinearized product, a rotation.
    let fresh = threshold::BfvNoise::fresh(&bfv_params, n);
    let noise = fresh.mul_relin(&fresh)?.rotate()?;
    let smudging = Smudging::for_bfv(&bfv_params, result.level(), noise.log2_bound(), t)?;
    let shares = decryptors
        .iter()
        .map(|id| {
            parties[(id.0 - 1) as usize].decryption_share(
                result.rlwe(),
                Some(&active),
                &smudging,
                &mut rng,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let pt = DecryptionShares::aggregate(result.rlwe(), shares, Some(&active))?
        .finish_bfv(&bfv_params, result.encoding())?;
    let values = enc.decode(&pt)?;
    println!(
        "BFV: rotate(a·b, 1) decrypted by parties {:?} (noise < 2^{:.1} by BfvNoise, smudging σ = 2^{:.0}): {:?}",
        decryptors.iter().map(|p| p.0).collect::<Vec<_>>(),
        noise.log2_bound(),
        smudging.log2_sigma(),
        &values[..7]
    );
    let expect: Vec<i64> = (1..8).map(|i| a[i] * b[i]).collect();
    assert_eq!(&values[..7], &expect[..]);

    // --- CKKS: approximate reals at λ = 40 -------------------------------------
    // Smudging at λ = 40 costs 40 bits of precision, more than a scale of
    // 2^40–2^50 holds; `ckks_parameters` picks the scale (same RLWE
    // parameters, same keys) that keeps 20 bits for a sum of three fresh
    // encryptions with |values| < 64, and `ckks_fresh_noise_bound` is the
    // public bound on that sum's noise.
    let inputs = 3;
    let precision_bits = 20.0;
    let ckks_params = threshold::ckks_parameters(rlwe.clone(), n, inputs, 64.0, precision_bits)?;
    let cpk = ckks::PublicKey::from_rlwe(&ckks_params, pk)?;
    let cenc = ckks::Encoder::new(&ckks_params);
    let ceval = ckks::Evaluator::new(&ckks_params);
    let xs: Vec<Vec<f64>> = (0..inputs)
        .map(|j| {
            (0..8)
                .map(|i| 0.25 * i as f64 - 1.0 + j as f64 / 3.0)
                .collect()
        })
        .collect();
    // three input parties encrypt, the server adds
    let mut sum = cpk.encrypt(&cenc.encode(&xs[0])?, &mut rng)?;
    for x in &xs[1..] {
        ceval.add_assign(&mut sum, &cpk.encrypt(&cenc.encode(x)?, &mut rng)?)?;
    }
    let decryptors = [PartyId(2), PartyId(4), PartyId(5)];
    let active = ActiveSet::new(&decryptors, t)?;
    let log2_noise = threshold::ckks_fresh_noise_bound(&rlwe, n, inputs);
    let smudging = Smudging::for_ckks(
        &ckks_params,
        sum.scale(),
        log2_noise,
        t,
        precision_bits,
        threshold::STATISTICAL_SECURITY,
    )?;
    let shares = decryptors
        .iter()
        .map(|id| {
            parties[(id.0 - 1) as usize].decryption_share(
                sum.rlwe(),
                Some(&active),
                &smudging,
                &mut rng,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let pt = DecryptionShares::aggregate(sum.rlwe(), shares, Some(&active))?
        .finish_ckks(&ckks_params, sum.scale())?;
    let got = cenc.decode(&pt)?;
    let err = (0..8)
        .map(|i| (xs.iter().map(|x| x[i]).sum::<f64>() - got[i]).abs())
        .fold(0.0, f64::max);
    println!(
        "CKKS: x + y + z decrypted by parties {:?} at λ = {} (scale 2^{:.0}, noise < 2^{:.1}, σ = 2^{:.1}): {:?}  max error 2^{:.1} (stated ≤ 2^-{precision_bits})",
        decryptors.iter().map(|p| p.0).collect::<Vec<_>>(),
        threshold::STATISTICAL_SECURITY,
        ckks_params.scale().log2(),
        log2_noise,
        smudging.log2_sigma(),
        got[..8]
            .iter()
            .map(|v| (v * 1e4).round() / 1e4)
            .collect::<Vec<_>>(),
        err.log2()
    );
    assert!(err < (-precision_bits).exp2());
    // two parties alone cannot form a decrypting set
    let too_few = ActiveSet::new(&[PartyId(1), PartyId(2)], t);
    println!(
        "two parties alone: {}",
        too_few.err().map(|e| e.to_string()).unwrap_or_default()
    );
    Ok(())
}
