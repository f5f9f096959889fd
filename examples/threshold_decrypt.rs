//! Five parties create a joint key; nobody holds the secret. An input party
//! encrypts, a server computes on BFV and CKKS ciphertexts with the joint
//! evaluation keys, and any three of the five decrypt the results (their
//! decryption shares carry smudging noise). One RLWE parameter set serves
//! both schemes, so one key ceremony covers both.
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
    let ckks_params = ckks::Parameters::new(rlwe.clone(), 2f64.powi(50))?;
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
    let brlk = bfv::RelinKey::from_rlwe(&bfv_params, rlk.clone())?;
    let bgk = bfv::GaloisKeys::from_rlwe(&bfv_params, gks.clone());
    let enc = bfv::Encoder::new(&bfv_params);
    let eval = bfv::Evaluator::new(&bfv_params);
    let a = vec![3, 1, 4, 1, 5, 9, 2, 6];
    let b = vec![2, 7, 1, 8, 2, 8, 1, 8];
    let ca = bpk.encrypt(&enc.encode(&a)?, &mut rng)?;
    let cb = bpk.encrypt(&enc.encode(&b)?, &mut rng)?;
    let result = eval.rotate_rows(&eval.mul_relin(&ca, &cb, &brlk)?, 1, &bgk)?;
    let decryptors = [PartyId(1), PartyId(3), PartyId(5)];
    let active = ActiveSet::new(&decryptors, t)?;
    // The phase noise after one multiplication stays below 2^60 here.
    let smudging = Smudging::for_bfv(&bfv_params, result.level(), 60.0, t)?;
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
        "BFV: rotate(a·b, 1) decrypted by parties {:?} with smudging σ = 2^{:.0}: {:?}",
        decryptors.iter().map(|p| p.0).collect::<Vec<_>>(),
        smudging.log2_sigma(),
        &values[..7]
    );
    let expect: Vec<i64> = (1..8).map(|i| a[i] * b[i]).collect();
    assert_eq!(&values[..7], &expect[..]);

    // --- CKKS: approximate reals -----------------------------------------------
    let cpk = ckks::PublicKey::from_rlwe(&ckks_params, pk)?;
    let crlk = ckks::RelinKey::from_rlwe(&ckks_params, rlk)?;
    let cenc = ckks::Encoder::new(&ckks_params);
    let ceval = ckks::Evaluator::new(&ckks_params);
    let x: Vec<f64> = (0..8).map(|i| 0.25 * i as f64 - 1.0).collect();
    let cx = cpk.encrypt(&cenc.encode(&x)?, &mut rng)?;
    let sq = ceval.rescale(&ceval.mul_relin(&cx, &cx, &crlk)?)?;
    let decryptors = [PartyId(2), PartyId(4), PartyId(5)];
    let active = ActiveSet::new(&decryptors, t)?;
    // CKKS pays for smudging with precision: λ = 16 here keeps ≥ 12 bits at scale 2^50.
    let smudging = Smudging::for_ckks(&ckks_params, sq.scale(), 10.0, t, 12.0, 16)?;
    let shares = decryptors
        .iter()
        .map(|id| {
            parties[(id.0 - 1) as usize].decryption_share(
                sq.rlwe(),
                Some(&active),
                &smudging,
                &mut rng,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let pt = DecryptionShares::aggregate(sq.rlwe(), shares, Some(&active))?
        .finish_ckks(&ckks_params, sq.scale())?;
    let got = cenc.decode(&pt)?;
    let err = x
        .iter()
        .zip(&got)
        .map(|(v, g)| (v * v - g).abs())
        .fold(0.0, f64::max);
    println!(
        "CKKS: x² decrypted by parties {:?} (λ = 16): {:?}  max error 2^{:.1}",
        decryptors.iter().map(|p| p.0).collect::<Vec<_>>(),
        got[..8]
            .iter()
            .map(|v| (v * 1e4).round() / 1e4)
            .collect::<Vec<_>>(),
        err.log2()
    );
    // two parties alone cannot form a decrypting set
    let too_few = ActiveSet::new(&[PartyId(1), PartyId(2)], t);
    println!(
        "two parties alone: {}",
        too_few.err().map(|e| e.to_string()).unwrap_or_default()
    );
    Ok(())
}
