//! The relinearization and Galois rounds run on a twin `threshold::Party`
//! made from the same generator as the aggregation client's secret (the
//! client does not expose those rounds). This checks, in one process, that
//! the twins hold the clients' secrets and that the collective keys they
//! make are right: a product relinearized with the collective
//! relinearization key and a rotation with the collective Galois key decrypt
//! correctly under the sum of the secrets.
#![allow(clippy::unwrap_used)]

use ml_he::aggregation::{AggregationConfig, AggregationParams, Client, SessionKey};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use threshold::{Crs, GaloisKeyShares, Party, PartyId, RelinKeyRound1, RelinKeyRound2};

#[test]
fn twin_parties_make_correct_relin_and_galois_keys() {
    let n = 3;
    let seed = [5u8; 32];
    let params = AggregationParams::new(AggregationConfig::new(n, 2), seed).unwrap();
    let rp = params.ckks().rlwe().clone();
    let crs = Crs::from_seed(seed);
    let mut rng = ChaCha20Rng::from_seed([1; 32]);
    let mut clients = Vec::new();
    let mut twins = Vec::new();
    let mut secret = vec![0i64; rp.degree()];
    let mut pk_shares = Vec::new();
    for id in 1..=n as u32 {
        let s = [id as u8 + 100; 32];
        let mut c = Client::new(&params, id, &mut ChaCha20Rng::from_seed(s)).unwrap();
        let mut t = Party::new(PartyId(id), &rp, &mut ChaCha20Rng::from_seed(s));
        let sk = rlwe::keys::SecretKey::generate(&rp, &mut ChaCha20Rng::from_seed(s));
        for (a, b) in secret.iter_mut().zip(sk.coeffs()) {
            *a += b;
        }
        // Same randomness, same secret: same public-key share.
        let r = [id as u8 + 200; 32];
        let a = c.public_key_share(&mut ChaCha20Rng::from_seed(r)).unwrap();
        let b = t
            .public_key_share(&crs, &mut ChaCha20Rng::from_seed(r))
            .unwrap();
        assert_eq!(a.to_bytes(), b.to_bytes());
        pk_shares.push(a);
        clients.push(c);
        twins.push(t);
    }
    let key = SessionKey::from_shares(&params, pk_shares).unwrap();
    let sk = ckks::SecretKey::from_rlwe(
        params.ckks(),
        rlwe::keys::SecretKey::from_coeffs(&rp, secret).unwrap(),
    )
    .unwrap();

    // Relinearization key, two rounds, through the wire format.
    let mut eph = Vec::new();
    let mut r1 = Vec::new();
    for t in &mut twins {
        let (s, e) = t.relin_key_round1(&crs, &mut rng).unwrap();
        r1.push(threshold::RelinRound1Share::from_bytes(&rp, &s.to_bytes()).unwrap());
        eph.push(e);
    }
    let round1 = RelinKeyRound1::aggregate(r1).unwrap();
    let r2: Vec<_> = twins
        .iter_mut()
        .zip(eph)
        .map(|(t, e)| {
            let s = t.relin_key_round2(e, &round1, &mut rng).unwrap();
            threshold::RelinRound2Share::from_bytes(&rp, &s.to_bytes()).unwrap()
        })
        .collect();
    let rlk = RelinKeyRound2::aggregate(round1, r2)
        .unwrap()
        .finish()
        .unwrap();
    let rlk = ckks::RelinKey::from_rlwe(params.ckks(), rlk).unwrap();

    // Galois key for a rotation by one slot.
    let e = rlwe::keys::galois_element_for_rotation(1, rp.degree());
    let shares: Vec<_> = twins
        .iter_mut()
        .map(|t| t.galois_key_share(&crs, e, &mut rng).unwrap())
        .collect();
    let mut gks = rlwe::keys::GaloisKeys::default();
    gks.insert(
        GaloisKeyShares::aggregate(shares)
            .unwrap()
            .finish()
            .unwrap(),
    );
    let gks = ckks::GaloisKeys::from_rlwe(params.ckks(), gks);

    let enc = ckks::Encoder::new(params.ckks());
    let ev = ckks::Evaluator::new(params.ckks());
    let x: Vec<f64> = (0..16).map(|i| i as f64 / 4.0 - 2.0).collect();
    let pt = enc.encode_at(&x, 1, 2f64.powi(24)).unwrap();
    let ct = key.public_key().encrypt(&pt, &mut rng).unwrap();

    let sq = ev.mul_relin(&ct, &ct, &rlk).unwrap();
    let got = enc.decode(&sk.decrypt(&sq).unwrap()).unwrap();
    for (g, v) in got.iter().zip(&x) {
        assert!((g - v * v).abs() < 1e-3, "square: {g} vs {}", v * v);
    }
    let rot = ev.rotate(&ct, 1, &gks).unwrap();
    let got = enc.decode(&sk.decrypt(&rot).unwrap()).unwrap();
    for i in 0..15 {
        assert!(
            (got[i] - x[i + 1]).abs() < 1e-3,
            "rotation slot {i}: {}",
            got[i]
        );
    }
}
