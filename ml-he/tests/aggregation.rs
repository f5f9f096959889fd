//! HE-MPC federated averaging: the decrypted average equals the plaintext
//! average within the stated CKKS precision; any t of n clients complete a
//! round, t − 1 cannot; the server rejects malformed, mismatched and
//! duplicate input with specific errors; distributed DP noise has the
//! configured σ.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use ml_he::aggregation::*;
use ml_he::Error;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

struct Session {
    params: Arc<AggregationParams>,
    clients: Vec<Client>,
    key: SessionKey,
}

fn session(config: AggregationConfig, seed: u64) -> Session {
    let mut rng = rng(seed);
    let params = AggregationParams::new(config, [seed as u8; 32]).unwrap();
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
    }
}

fn updates(n: usize, len: usize, max: f64, seed: u64) -> Vec<Vec<f64>> {
    let mut r = rng(seed);
    (0..n)
        .map(|_| (0..len).map(|_| r.gen_range(-max..max)).collect())
        .collect()
}

fn plain_average(us: &[&Vec<f64>]) -> Vec<f64> {
    let k = us.len() as f64;
    (0..us[0].len())
        .map(|j| us.iter().map(|u| u[j]).sum::<f64>() / k)
        .collect()
}

/// Runs one round: `submit` clients send updates, `committee` decrypts.
fn round(
    s: &mut Session,
    round: u64,
    us: &[Vec<f64>],
    submit: &[u32],
    committee: &[u32],
    rng: &mut ChaCha20Rng,
) -> RoundResult {
    let len = us[0].len();
    let mut server = Server::new(&s.key, round, len).unwrap();
    for &i in submit {
        let bytes = s.clients[(i - 1) as usize]
            .encrypt_update(round, &us[(i - 1) as usize], rng)
            .unwrap();
        assert!(bytes.len() >= s.params.update_bytes(len));
        assert_eq!(server.add(&bytes).unwrap(), i);
    }
    let request = server.decryption_request(committee).unwrap();
    let shares: Vec<Vec<u8>> = committee
        .iter()
        .map(|&i| {
            s.clients[(i - 1) as usize]
                .decryption_share(&request, rng)
                .unwrap()
        })
        .collect();
    combine(&s.key, &request, &shares).unwrap()
}

#[test]
fn average_matches_plaintext_within_stated_precision() {
    // 10 clients, t = 4, vectors spanning several ciphertexts (with a
    // partial last one), entries up to ±max_abs.
    let config = AggregationConfig::new(10, 4);
    let mut s = session(config, 1);
    let len = 2 * s.params.values_per_ciphertext() + 1234;
    let us = updates(10, len, 256.0, 2);
    let mut r = rng(3);
    let all: Vec<u32> = (1..=10).collect();
    let res = round(&mut s, 0, &us, &all, &[2, 5, 7, 9], &mut r);
    let want = plain_average(&us.iter().collect::<Vec<_>>());
    assert_eq!(res.average.len(), len);
    assert_eq!(res.contributors, all);
    let max_err = res
        .average
        .iter()
        .zip(&want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    // The stated bound holds, and is tight enough to matter: with proven
    // updates each coordinate is rounded at 2^-20 (≤ 2^-21 per update), so
    // the average of 10 is within 10·2^-21/10 ≈ 4.8e-7 plus the smudging.
    assert!(
        max_err <= res.precision,
        "error {max_err:e} above the stated precision {:e}",
        res.precision
    );
    assert!(res.precision < 1e-6, "stated precision {:e}", res.precision);
    eprintln!(
        "max error {max_err:e}, stated {:e}, params {:?}",
        res.precision, s.params
    );
}

#[test]
fn dropout_any_t_complete_fewer_cannot() {
    let config = AggregationConfig::new(5, 3);
    let mut s = session(config, 4);
    let len = 1000;
    let us = updates(5, len, 10.0, 5);
    let mut r = rng(6);
    // client 4 drops out of the submission; committees of any 3 decrypt
    let submit = [1, 2, 3, 5];
    let want = plain_average(
        &submit
            .iter()
            .map(|&i| &us[i as usize - 1])
            .collect::<Vec<_>>(),
    );
    for (rnd, committee) in [[1u32, 2, 3], [3, 4, 5], [1, 4, 5]].iter().enumerate() {
        let res = round(&mut s, rnd as u64, &us, &submit, committee, &mut r);
        assert_eq!(res.contributors, submit.to_vec());
        for (a, b) in res.average.iter().zip(&want) {
            assert!((a - b).abs() <= res.precision);
        }
    }

    // t − 1 = 2 clients cannot form a committee …
    let mut server = Server::new(&s.key, 9, len).unwrap();
    for i in [1u32, 2] {
        server
            .add(
                &s.clients[i as usize - 1]
                    .encrypt_update(9, &us[i as usize - 1], &mut r)
                    .unwrap(),
            )
            .unwrap();
    }
    assert!(matches!(
        server.decryption_request(&[1, 2]),
        Err(Error::Threshold(threshold::Error::TooFewShares {
            got: 2,
            need: 3
        }))
    ));
    // … and a committee of 3 with one member gone cannot combine.
    let request = server.decryption_request(&[1, 2, 3]).unwrap();
    let shares: Vec<Vec<u8>> = [1u32, 2]
        .iter()
        .map(|&i| {
            s.clients[i as usize - 1]
                .decryption_share(&request, &mut r)
                .unwrap()
        })
        .collect();
    assert!(matches!(
        combine(&s.key, &request, &shares),
        Err(Error::Threshold(threshold::Error::TooFewShares {
            got: 2,
            need: 3
        }))
    ));
    // The server retries with another committee (re-randomized sum); the
    // members that already answered answer again, for the new ciphertext.
    let request = server.decryption_request(&[1, 2, 4]).unwrap();
    let shares: Vec<Vec<u8>> = [1u32, 2, 4]
        .iter()
        .map(|&i| {
            s.clients[i as usize - 1]
                .decryption_share(&request, &mut r)
                .unwrap()
        })
        .collect();
    let res = combine(&s.key, &request, &shares).unwrap();
    let want = plain_average(&[&us[0], &us[1]]);
    for (a, b) in res.average.iter().zip(&want) {
        assert!((a - b).abs() <= res.precision);
    }
    // a party never answers the same ciphertext twice
    assert!(matches!(
        s.clients[0].decryption_share(&request, &mut r),
        Err(Error::Threshold(threshold::Error::ShareReused { .. }))
    ));
}

#[test]
fn server_rejects_bad_input() {
    let config = AggregationConfig::new(3, 2);
    let mut s = session(config.clone(), 7);
    let mut r = rng(8);
    let len = 100;
    let us = updates(3, len, 1.0, 9);
    let mut server = Server::new(&s.key, 0, len).unwrap();
    let good = s.clients[0].encrypt_update(0, &us[0], &mut r).unwrap();

    // truncated, garbage, flipped residues
    assert!(matches!(
        server.add(&good[..good.len() - 1]),
        Err(Error::Malformed { .. })
    ));
    assert!(matches!(server.add(&[]), Err(Error::Malformed { .. })));
    assert!(matches!(
        server.add(&[0xAB; 500]),
        Err(Error::Malformed { .. })
    ));
    let mut bad = good.clone();
    let n = bad.len() - s.params.proof_bytes(); // the ciphertexts end here
    for b in &mut bad[n - 4000..n - 3000] {
        *b = 0xFF; // residues ≥ q
    }
    assert!(matches!(server.add(&bad), Err(Error::Malformed { .. })));
    // … and in the proof: refused as an invalid proof
    let mut bad = good.clone();
    let n = bad.len();
    for b in &mut bad[n - 4000..n - 3000] {
        *b = 0xFF;
    }
    assert!(matches!(
        server.add(&bad),
        Err(Error::InvalidUpdateProof { party: 1, .. })
    ));

    // ciphertext under another collective key (same parameters)
    let other = session(config.clone(), 10);
    let foreign = other.clients[0].encrypt_update(0, &us[0], &mut r).unwrap();
    assert!(matches!(
        server.add(&foreign),
        Err(Error::SessionMismatch { .. })
    ));
    // … and under other parameters
    let other_params = session(
        AggregationConfig::new(3, 2).max_abs(1000.0).degree(16384),
        11,
    );
    let foreign = other_params.clients[0]
        .encrypt_update(0, &us[0], &mut r)
        .unwrap();
    assert!(matches!(
        server.add(&foreign),
        Err(Error::SessionMismatch { .. })
    ));
    // another round
    let late = s.clients[1].encrypt_update(1, &us[1], &mut r).unwrap();
    assert!(matches!(
        server.add(&late),
        Err(Error::SessionMismatch { .. })
    ));
    // another length
    let short = s.clients[1]
        .encrypt_update(0, &us[1][..50], &mut r)
        .unwrap();
    assert!(matches!(server.add(&short), Err(Error::Shape(_))));

    // nothing bad was added: the first good submission goes in, the second
    // from the same client is refused
    assert_eq!(server.add(&good).unwrap(), 1);
    let again = s.clients[0].encrypt_update(0, &us[0], &mut r).unwrap();
    assert!(matches!(
        server.add(&again),
        Err(Error::DuplicateSubmission { party: 1 })
    ));
    assert!(matches!(
        server.add(&good),
        Err(Error::DuplicateSubmission { party: 1 })
    ));

    // values out of range are refused by the client
    assert!(matches!(
        s.clients[1].encrypt_update(0, &[1e6], &mut r),
        Err(Error::OutOfRange(_))
    ));
    assert!(matches!(
        s.clients[1].encrypt_update(0, &[f64::NAN], &mut r),
        Err(Error::OutOfRange(_))
    ));

    // a sum of a single update is not decrypted (min_contributors = 2)
    let request = server.decryption_request(&[1, 2]).unwrap();
    assert_eq!(
        s.clients[1].decryption_share(&request, &mut r),
        Err(Error::TooFewContributors { got: 1, min: 2 })
    );
    // a client outside the committee does not answer
    server
        .add(&s.clients[1].encrypt_update(0, &us[1], &mut r).unwrap())
        .unwrap();
    let request = server.decryption_request(&[1, 2]).unwrap();
    assert!(matches!(
        s.clients[2].decryption_share(&request, &mut r),
        Err(Error::UnknownParty { party: 3 })
    ));
    // shares of another request do not combine
    let s1 = s.clients[0].decryption_share(&request, &mut r).unwrap();
    let s2 = s.clients[1].decryption_share(&request, &mut r).unwrap();
    let request2 = server.decryption_request(&[1, 2]).unwrap();
    assert!(matches!(
        combine(&s.key, &request2, &[s1.clone(), s2.clone()]),
        Err(Error::SessionMismatch { .. })
    ));
    assert!(matches!(
        combine(&s.key, &request, &[s1.clone(), s1.clone()]),
        Err(Error::DuplicateSubmission { party: 1 })
    ));
    let res = combine(&s.key, &request, &[s2, s1]).unwrap();
    let want = plain_average(&[&us[0], &us[1]]);
    for (a, b) in res.average.iter().zip(&want) {
        assert!((a - b).abs() <= res.precision);
    }
    // unknown client ids
    assert!(matches!(
        Client::new(&s.params, 4, &mut r),
        Err(Error::UnknownParty { party: 4 })
    ));
    let _ = &mut s;
}

#[test]
fn wire_size_is_bit_packed() {
    // Without proofs: 100,000 floats are 13 ciphertexts of 2 × 8192 × 98 bits.
    let plain = AggregationParams::new(AggregationConfig::new(10, 3).prove_updates(false), [0; 32])
        .unwrap();
    assert_eq!(plain.ciphertexts_for(100_000), 13);
    assert_eq!(plain.update_bytes(100_000), 13 * 2 * 8192 * 98 / 8);
    // With proofs (the default): a third prime (here 45 bits, 2 × 8192 × 143
    // bits per ciphertext) and one proof of 116 bits per coefficient (+33
    // bytes) per ciphertext.
    let params = AggregationParams::new(AggregationConfig::new(10, 3), [0; 32]).unwrap();
    let q_bits: u32 = params
        .ckks()
        .rlwe()
        .q()
        .iter()
        .map(|q| 64 - q.leading_zeros())
        .sum();
    assert_eq!(params.proof_bytes(), 33 + 116 * 8192 / 8);
    assert_eq!(
        params.update_bytes(100_000),
        13 * (2 * 8192 * q_bits as usize / 8 + params.proof_bytes())
    );
    eprintln!(
        "log2 Q = {q_bits}: {} bytes per 100,000 floats ({} of proofs)",
        params.update_bytes(100_000),
        13 * params.proof_bytes()
    );
}

// ------------------------------------------------------------------ DP

use ml_he::dp::{self, Adjacency, DistributedGaussian};

#[test]
fn dp_accounting_known_answers() {
    // Φ at a few points (tables)
    assert!((dp::normal_cdf(0.0) - 0.5).abs() < 1e-7);
    assert!((dp::normal_cdf(-1.96) - 0.024_997_9).abs() < 1e-7);
    assert!((dp::normal_cdf(1.0) - 0.841_344_7).abs() < 1e-7);
    let tail = dp::normal_cdf(-10.0);
    assert!((tail / 7.619_853e-24 - 1.0).abs() < 1e-5, "{tail:e}");
    // σ = Δ: δ(ε = 0) = Φ(½) − Φ(−½)
    assert!((dp::analytic_delta(1.0, 1.0, 0.0) - 0.382_924_9).abs() < 1e-6);
    // classic bound, exactly
    let c = dp::classic_sigma(1.0, 0.5, 1e-5).unwrap();
    assert!((c - (2.0 * (1.25e5f64).ln()).sqrt() / 0.5).abs() < 1e-12);
    assert!(dp::classic_sigma(1.0, 1.5, 1e-5).is_err());
    // analytic calibration is consistent and needs less noise than classic
    for &(eps, delta) in &[(0.5, 1e-5), (0.9, 1e-6), (2.0, 1e-5), (8.0, 1e-7)] {
        let s = dp::analytic_sigma(1.0, eps, delta).unwrap();
        let d = dp::analytic_delta(s, 1.0, eps);
        assert!((d - delta).abs() <= 1e-3 * delta, "ε={eps}: δ={d:e}");
        let e = dp::analytic_epsilon(s, 1.0, delta).unwrap();
        assert!((e - eps).abs() < 1e-6 * eps, "ε={eps} → {e}");
        if eps < 1.0 {
            assert!(s < dp::classic_sigma(1.0, eps, delta).unwrap());
        }
    }
    // Balle & Wang (2018), Fig. 1 region: ε = 1, δ = 1e-5 needs σ ≈ 3.73·Δ
    let s = dp::analytic_sigma(1.0, 1.0, 1e-5).unwrap();
    assert!((s - 3.73).abs() < 0.02, "{s}");
    // the mechanism's bookkeeping
    let m = DistributedGaussian::for_epsilon(2.0, 1.0, 1e-5, 4, Adjacency::AddRemove).unwrap();
    assert!((m.sigma() - 2.0 * s).abs() < 1e-6);
    assert!((m.client_sigma() - m.sigma() / 2.0).abs() < 1e-12);
    assert!((m.epsilon().unwrap() - 1.0).abs() < 1e-6);
    // more contributors → more noise → smaller ε; colluders → larger ε
    assert!(m.guarantee(8, 0).unwrap() < 1.0);
    assert!(m.guarantee(4, 1).unwrap() > 1.0);
    let r = DistributedGaussian::for_epsilon(2.0, 1.0, 1e-5, 4, Adjacency::Replace).unwrap();
    assert!((r.sigma() - 2.0 * m.sigma()).abs() < 1e-6);
}

#[test]
fn dp_noise_has_configured_sigma_end_to_end() {
    // k_min = 4 clients each add N(0, σ²/4); the decrypted sum carries σ.
    let n = 4;
    let mech = DistributedGaussian::with_sigma(1.0, 3.0, 1e-5, n, Adjacency::AddRemove).unwrap();
    let mut s = session(AggregationConfig::new(n, 3).max_abs(64.0), 12);
    let len = 40_000;
    let mut r = rng(13);
    let mut server = Server::new(&s.key, 0, len).unwrap();
    let mut noisy = Vec::new();
    for c in 0..n {
        // a small true update of norm ≤ C after clipping
        let mut u: Vec<f64> = (0..len).map(|j| if j == c { 5.0 } else { 0.0 }).collect();
        let norm = mech.privatize(&mut u, &mut r);
        assert_eq!(norm, 5.0);
        noisy.push(u.clone());
        let bytes = s.clients[c].encrypt_update(0, &u, &mut r).unwrap();
        server.add(&bytes).unwrap();
    }
    // per-client noise: sample variance of one client's noise is σ²/4
    let own: Vec<f64> = noisy[0][n..].to_vec();
    let var = own.iter().map(|x| x * x).sum::<f64>() / own.len() as f64;
    let want = mech.client_sigma().powi(2);
    assert!(
        (var / want - 1.0).abs() < 0.03,
        "client variance {var} vs {want}"
    );

    let request = server.decryption_request(&[1, 2, 3]).unwrap();
    let shares: Vec<Vec<u8>> = [1usize, 2, 3]
        .iter()
        .map(|&i| s.clients[i - 1].decryption_share(&request, &mut r).unwrap())
        .collect();
    let res = combine(&s.key, &request, &shares).unwrap();
    let sum: Vec<f64> = res.average.iter().map(|a| a * n as f64).collect();
    // clipped signal: 1.0 at coordinate c (5 clipped to C = 1)
    let noise: Vec<f64> = sum[n..].to_vec();
    let m = noise.len() as f64;
    let mean = noise.iter().sum::<f64>() / m;
    let var = noise.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / m;
    // standard error of the variance estimate: σ²·sqrt(2/m) ≈ 0.7 %
    assert!(mean.abs() < 5.0 * mech.sigma() / m.sqrt(), "mean {mean}");
    assert!(
        (var / mech.sigma().powi(2) - 1.0).abs() < 0.04,
        "sum variance {var} vs σ² = {}",
        mech.sigma().powi(2)
    );
    // Gaussian shape: fraction within one σ
    let within = noise.iter().filter(|x| x.abs() <= mech.sigma()).count() as f64 / m;
    assert!((within - 0.6827).abs() < 0.01, "{within}");
    // no party saw an individual update: the server only ever handled
    // ciphertexts, the committee only the sum (structural, by the API).
    let _ = &mut s;
}

// ------------------------------------------------------- Paillier variant

use ml_he::aggregation::paillier_variant::{self as pv, PaillierServer, PaillierSession};

#[test]
fn paillier_variant_average_and_threshold() {
    let mut r = rng(20);
    let (p, q) =
        threshold::paillier::test_primes::primes(threshold::paillier::test_primes::SAFE512);
    let (tp, key_shares) =
        threshold::paillier::Dealer::deal_with_primes_insecure(p, q, 3, 5, &mut r).unwrap();
    let session = PaillierSession::new(tp, 5, 8.0, 30).unwrap();
    assert!(session.values_per_ciphertext() >= 20);
    let len = 3 * session.values_per_ciphertext() + 7;
    let us = updates(5, len, 8.0, 21);
    let mut server = PaillierServer::new(&session, 0, len).unwrap();
    let submit = [1u32, 2, 4, 5]; // client 3 drops out
    let fast = session.fast_encryptor(&mut r).unwrap();
    for &i in &submit {
        // textbook encryption for some clients, fixed-base short exponents for others
        let b = if i % 2 == 0 {
            session.encrypt_update_fast(i, 0, &us[i as usize - 1], &fast, &mut r)
        } else {
            session.encrypt_update(i, 0, &us[i as usize - 1], &mut r)
        }
        .unwrap();
        assert_eq!(server.add(&b).unwrap(), i);
    }
    let b = session.encrypt_update(1, 0, &us[0], &mut r).unwrap();
    assert!(matches!(
        server.add(&b),
        Err(Error::DuplicateSubmission { party: 1 })
    ));
    let mut fresh = PaillierServer::new(&session, 0, len).unwrap();
    assert!(matches!(
        fresh.add(&b[..b.len() - 3]),
        Err(Error::Malformed { .. })
    ));
    let mut bad = b.clone();
    let l = bad.len();
    bad[l - 256..].fill(0); // last ciphertext c = 0: not a unit mod n²
    assert!(matches!(fresh.add(&bad), Err(Error::Malformed { .. })));
    let late = session.encrypt_update(3, 1, &us[2], &mut r).unwrap();
    assert!(matches!(
        server.add(&late),
        Err(Error::SessionMismatch { .. })
    ));

    let mut holders: Vec<pv::KeyHolder> = key_shares
        .into_iter()
        .map(|k| pv::KeyHolder::new(&session, k, 2).unwrap())
        .collect();
    let request = server.decryption_request().unwrap();
    let shares: Vec<Vec<u8>> = [0usize, 2, 4]
        .iter()
        .map(|&i| holders[i].decryption_share(&request, &mut r).unwrap())
        .collect();
    let res = pv::combine(&session, &request, &shares).unwrap();
    let want = plain_average(
        &submit
            .iter()
            .map(|&i| &us[i as usize - 1])
            .collect::<Vec<_>>(),
    );
    assert_eq!(res.average.len(), len);
    for (a, b) in res.average.iter().zip(&want) {
        assert!((a - b).abs() <= res.precision, "{a} vs {b}");
    }
    // t − 1 key holders cannot decrypt
    assert!(matches!(
        pv::combine(&session, &request, &shares[..2]),
        Err(Error::Threshold(threshold::Error::TooFewShares {
            got: 2,
            need: 3
        }))
    ));
}

#[test]
fn session_key_round_trip_and_protocol_order() {
    let mut r = rng(30);
    let params = AggregationParams::new(AggregationConfig::new(3, 2), [30; 32]).unwrap();
    let mut clients: Vec<Client> = (1..=3)
        .map(|i| Client::new(&params, i, &mut r).unwrap())
        .collect();
    // encrypting before the key is known is a protocol error
    assert!(matches!(
        clients[0].encrypt_update(0, &[1.0], &mut r),
        Err(Error::Protocol(_))
    ));
    let shares: Vec<_> = clients
        .iter_mut()
        .map(|c| c.public_key_share(&mut r).unwrap())
        .collect();
    // a key from only some of the clients is refused
    assert!(matches!(
        SessionKey::from_shares(&params, shares[..2].to_vec()),
        Err(Error::Threshold(threshold::Error::TooFewShares {
            got: 2,
            need: 3
        }))
    ));
    let key = SessionKey::from_shares(&params, shares).unwrap();
    // the key travels as bytes; the identifier survives the trip
    let copy = SessionKey::from_bytes(&params, &key.to_bytes()).unwrap();
    assert_eq!(copy.id(), key.id());
    for c in &mut clients {
        c.set_key(copy.clone()).unwrap();
    }
    let mut server = Server::new(&key, 0, 3).unwrap();
    server
        .add(
            &clients[0]
                .encrypt_update(0, &[1.0, 2.0, 3.0], &mut r)
                .unwrap(),
        )
        .unwrap();
    server
        .add(
            &clients[1]
                .encrypt_update(0, &[3.0, 2.0, 1.0], &mut r)
                .unwrap(),
        )
        .unwrap();
    let request = server.decryption_request(&[1, 2]).unwrap();
    // no Shamir share yet: the client cannot take part in t-of-n decryption
    assert!(matches!(
        clients[0].decryption_share(&request, &mut r),
        Err(Error::Protocol(_))
    ));
    // After the dealing the key also covers the share commitments (a new
    // id): the round starts again under it.
    let key = deal_all(&mut clients, &key, &mut r).unwrap();
    assert_ne!(key.id(), copy.id());
    assert!(matches!(
        combine(&key, &request, &[]),
        Err(Error::SessionMismatch { .. })
    ));
    let copy = SessionKey::from_bytes(&params, &key.to_bytes()).unwrap();
    assert_eq!(copy.id(), key.id());
    let mut server = Server::new(&copy, 0, 3).unwrap();
    for (i, u) in [[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]].iter().enumerate() {
        server
            .add(&clients[i].encrypt_update(0, u, &mut r).unwrap())
            .unwrap();
    }
    let request = server.decryption_request(&[1, 2]).unwrap();
    let shares: Vec<Vec<u8>> = [0usize, 1]
        .iter()
        .map(|&i| clients[i].decryption_share(&request, &mut r).unwrap())
        .collect();
    let res = combine(&key, &request, &shares).unwrap();
    for a in &res.average {
        assert!((a - 2.0).abs() <= res.precision);
    }
}

#[test]
fn committee_must_be_exactly_t() {
    let mut s = session(AggregationConfig::new(4, 2), 40);
    let mut r = rng(41);
    let mut server = Server::new(&s.key, 0, 10).unwrap();
    for i in 0..3 {
        server
            .add(&s.clients[i].encrypt_update(0, &[0.5; 10], &mut r).unwrap())
            .unwrap();
    }
    assert!(matches!(
        server.decryption_request(&[1, 2, 3]),
        Err(Error::OutOfRange(_))
    ));
    assert!(matches!(
        server.decryption_request(&[1, 1]),
        Err(Error::Threshold(threshold::Error::DuplicateParty { .. }))
    ));
    assert!(matches!(
        server.decryption_request(&[1, 7]),
        Err(Error::UnknownParty { party: 7 })
    ));
    let _ = &mut s;
}

/// The noise bound that sizes the smudging (`log2_noise`) covers the noise
/// actually measured in a sum of n fresh encryptions under a collective key
/// of n parties (decrypted N-of-N with negligible smudging, tests only).
#[test]
fn smudging_noise_bound_covers_measured_noise() {
    use threshold::{DecryptionShares, Party, PartyId, PublicKeyShares, Smudging};
    let n = 10u32;
    // The honest fresh-noise bound sizes the smudging of sessions without
    // update proofs (with proofs, the proven bound does: see the module docs).
    let params = AggregationParams::new(
        AggregationConfig::new(n as usize, 4).prove_updates(false),
        [50; 32],
    )
    .unwrap();
    let mut r = rng(51);
    let rp = params.ckks().rlwe().clone();
    let crs = threshold::Crs::from_seed([52; 32]);
    let mut parties: Vec<Party> = (1..=n)
        .map(|i| Party::new(PartyId(i), &rp, &mut r))
        .collect();
    let shares: Vec<_> = parties
        .iter_mut()
        .map(|p| p.public_key_share(&crs, &mut r).unwrap())
        .collect();
    let pk = ckks::PublicKey::from_rlwe(
        params.ckks(),
        PublicKeyShares::aggregate(shares)
            .unwrap()
            .finish()
            .unwrap(),
    )
    .unwrap();
    let enc = ckks::Encoder::new(params.ckks());
    let ev = ckks::Evaluator::new(params.ckks());
    let zero = enc
        .encode_at(&[0.0], params.ckks().max_level(), params.scale())
        .unwrap();
    let mut sum = pk.encrypt(&zero, &mut r).unwrap();
    for _ in 1..n {
        ev.add_assign(&mut sum, &pk.encrypt(&zero, &mut r).unwrap())
            .unwrap();
    }
    let none = Smudging::with_sigma(0.0);
    let ds: Vec<_> = parties
        .iter_mut()
        .map(|p| p.decryption_share(sum.rlwe(), None, &none, &mut r).unwrap())
        .collect();
    let phase = DecryptionShares::aggregate(sum.rlwe(), ds, None).unwrap();
    // σ = 1 smudging from 10 parties adds ≈ 2^3 at most
    let measured = phase.phase().infinity_norm_bits();
    eprintln!(
        "measured noise 2^{measured:.2}, bound 2^{:.2}",
        params.log2_noise()
    );
    assert!(
        measured <= params.log2_noise(),
        "2^{measured} above the bound"
    );
    assert!(
        measured >= params.log2_noise() - 4.0,
        "bound far too loose: 2^{measured}"
    );
}

/// `Server::add_from` refuses an update in another client's name
/// (`WrongSender`) before it touches the sum; `check_update` +
/// `add_checked` parse once and add later; the decrypted average is that of
/// the accepted updates only.
#[test]
fn add_from_refuses_another_sender_and_leaves_the_sum() {
    let mut s = session(AggregationConfig::new(3, 2), 31);
    let mut r = rng(32);
    let us = updates(3, 10, 4.0, 33);
    let enc: Vec<Vec<u8>> = (0..3)
        .map(|i| s.clients[i].encrypt_update(0, &us[i], &mut r).unwrap())
        .collect();
    let mut server = Server::new(&s.key, 0, 10).unwrap();
    assert_eq!(
        server.add_from(2, &enc[0]),
        Err(Error::WrongSender {
            claimed: 1,
            expected: 2
        })
    );
    assert!(server.contributors().is_empty());
    assert_eq!(server.add_from(1, &enc[0]).unwrap(), 1);
    assert!(matches!(
        server.check_update(3, &enc[1]),
        Err(Error::WrongSender {
            claimed: 2,
            expected: 3
        })
    ));
    let checked = server.check_update(2, &enc[1]).unwrap();
    assert_eq!((checked.client(), checked.round()), (2, 0));
    // checking adds nothing
    assert_eq!(server.contributors(), vec![1]);
    // a checked update belongs to the server (round) that checked it
    let late = s.clients[2].encrypt_update(1, &us[2], &mut r).unwrap();
    let other_round = Server::new(&s.key, 1, 10).unwrap();
    let foreign = other_round.check_update(3, &late).unwrap();
    assert!(matches!(
        server.add_checked(foreign),
        Err(Error::SessionMismatch { .. })
    ));
    assert_eq!(server.add_checked(checked).unwrap(), 2);
    assert_eq!(
        server.add_from(1, &enc[0]),
        Err(Error::DuplicateSubmission { party: 1 })
    );
    assert!(matches!(
        server.add_from(3, &enc[0]),
        Err(Error::WrongSender { .. })
    ));
    assert_eq!(server.contributors(), vec![1, 2]);
    let request = server.decryption_request(&[1, 3]).unwrap();
    let shares: Vec<Vec<u8>> = [0usize, 2]
        .iter()
        .map(|&i| s.clients[i].decryption_share(&request, &mut r).unwrap())
        .collect();
    let res = combine(&s.key, &request, &shares).unwrap();
    let want = plain_average(&[&us[0], &us[1]]);
    for (a, b) in res.average.iter().zip(&want) {
        assert!((a - b).abs() <= res.precision, "{a} vs {b}");
    }
}

/// `decryption_share_sender` names the sender of a share of this request,
/// and refuses shares of another request (a retry), garbage, and residues
/// not below their modulus.
#[test]
fn decryption_share_sender_checks_the_request() {
    let mut s = session(AggregationConfig::new(3, 2), 41);
    let mut r = rng(42);
    let us = updates(3, 6, 4.0, 43);
    let mut server = Server::new(&s.key, 0, 6).unwrap();
    for (i, u) in us.iter().enumerate() {
        let b = s.clients[i].encrypt_update(0, u, &mut r).unwrap();
        server.add_from(i as u32 + 1, &b).unwrap();
    }
    let request = server.decryption_request(&[2, 3]).unwrap();
    let s2 = s.clients[1].decryption_share(&request, &mut r).unwrap();
    let s3 = s.clients[2].decryption_share(&request, &mut r).unwrap();
    assert_eq!(decryption_share_sender(&s.key, &request, &s2).unwrap(), 2);
    assert_eq!(decryption_share_sender(&s.key, &request, &s3).unwrap(), 3);
    // the retried request (another committee, another nonce)
    let retry = server.decryption_request(&[1, 3]).unwrap();
    assert!(matches!(
        decryption_share_sender(&s.key, &retry, &s3),
        Err(Error::SessionMismatch { .. })
    ));
    let s1 = s.clients[0].decryption_share(&retry, &mut r).unwrap();
    assert_eq!(decryption_share_sender(&s.key, &retry, &s1).unwrap(), 1);
    assert!(matches!(
        decryption_share_sender(&s.key, &request, b"garbage"),
        Err(Error::Malformed { .. })
    ));
    let mut high = s2.clone();
    let l = high.len();
    let tail = s.params.share_proof_bytes(1); // the share's proof follows it
    high[l - tail - 4000..l - tail - 3000].fill(0xff); // 49-bit residues of all ones ≥ q
    assert!(matches!(
        decryption_share_sender(&s.key, &request, &high),
        Err(Error::Malformed { .. })
    ));
    assert!(matches!(
        decryption_share_sender(&s.key, &request, &s2[..l - 1]),
        Err(Error::Malformed { .. })
    ));
    // a proof whose residue is out of range names the sender
    let mut bad = s2.clone();
    bad[l - tail + 33..l - tail + 41].fill(0xff);
    assert!(matches!(
        decryption_share_sender(&s.key, &request, &bad),
        Err(Error::InvalidShareProof { party: 2, .. })
    ));
    // the checked shares still combine
    let res = combine(&s.key, &request, &[s2, s3]).unwrap();
    assert_eq!(res.committee, vec![2, 3]);
}

/// The Paillier server's `add_from` and `decryption_share_sender`.
#[test]
fn paillier_add_from_and_share_sender() {
    let mut r = rng(50);
    let (p, q) =
        threshold::paillier::test_primes::primes(threshold::paillier::test_primes::SAFE512);
    let (tp, key_shares) =
        threshold::paillier::Dealer::deal_with_primes_insecure(p, q, 2, 3, &mut r).unwrap();
    let session = PaillierSession::new(tp, 3, 8.0, 30).unwrap();
    let us = updates(3, 5, 8.0, 51);
    let mut server = PaillierServer::new(&session, 0, 5).unwrap();
    let b1 = session.encrypt_update(1, 0, &us[0], &mut r).unwrap();
    let b2 = session.encrypt_update(2, 0, &us[1], &mut r).unwrap();
    assert_eq!(
        server.add_from(3, &b1),
        Err(Error::WrongSender {
            claimed: 1,
            expected: 3
        })
    );
    assert!(server.contributors().is_empty());
    assert_eq!(server.add_from(1, &b1).unwrap(), 1);
    let checked = server.check_update(2, &b2).unwrap();
    assert_eq!(server.contributors(), vec![1]);
    assert_eq!(server.add_checked(checked).unwrap(), 2);
    assert_eq!(
        server.add_from(1, &b1),
        Err(Error::DuplicateSubmission { party: 1 })
    );
    let mut holders: Vec<pv::KeyHolder> = key_shares
        .into_iter()
        .map(|k| pv::KeyHolder::new(&session, k, 2).unwrap())
        .collect();
    let request = server.decryption_request().unwrap();
    let other = server.decryption_request().unwrap(); // the next attempt
    let shares: Vec<Vec<u8>> = [0usize, 2]
        .iter()
        .map(|&i| holders[i].decryption_share(&request, &mut r).unwrap())
        .collect();
    assert_eq!(
        pv::decryption_share_sender(&session, &request, &shares[0]).unwrap(),
        1
    );
    assert_eq!(
        pv::decryption_share_sender(&session, &request, &shares[1]).unwrap(),
        3
    );
    assert!(matches!(
        pv::decryption_share_sender(&session, &other, &shares[0]),
        Err(Error::SessionMismatch { .. })
    ));
    assert!(matches!(
        pv::decryption_share_sender(&session, &request, b"garbage"),
        Err(Error::Malformed { .. })
    ));
    let res = pv::combine(&session, &request, &shares).unwrap();
    let want = plain_average(&[&us[0], &us[1]]);
    for (a, b) in res.average.iter().zip(&want) {
        assert!((a - b).abs() <= res.precision, "{a} vs {b}");
    }
}

/// Issue 13, finding 2, through the public API: a malicious server holds
/// one real update (party 1's) and forges a zero "update" in party 2's name
/// with the public key. The committee recomputes the sum from the
/// contributions the request carries, so all it could decrypt is
/// "party 1 + forged zero"; what stops it is the sender check: the request
/// lists, for party 2, a digest party 2 never sent ([`inspect_request`]),
/// which a caller comparing with the authenticated digests (hekit-mpc's
/// signatures) refuses. Without the forgery, the one-update request is
/// refused by the committee itself, and a hand-altered request too.
#[test]
fn malicious_server_cannot_get_one_update_decrypted() {
    let mut r = rng(130);
    let mut s = session(AggregationConfig::new(3, 2), 130);
    let us = updates(3, 20, 8.0, 131);
    let u1 = s.clients[0].encrypt_update(0, &us[0], &mut r).unwrap();
    let u2 = s.clients[1].encrypt_update(0, &us[1], &mut r).unwrap();
    let authentic = [(1u32, update_digest(&u1)), (2u32, update_digest(&u2))];

    // (a) party 1's update alone: every committee member refuses.
    let mut alone = Server::new(&s.key, 0, 20).unwrap();
    alone.add(&u1).unwrap();
    let req = alone.decryption_request(&[2, 3]).unwrap();
    for c in [1usize, 2] {
        assert_eq!(
            s.clients[c].decryption_share(&req, &mut r),
            Err(Error::TooFewContributors { got: 1, min: 2 })
        );
    }

    // (b) party 1's update next to a zero forged in party 2's name.
    let forged = s.key.encrypt_update(2, 0, &[0.0; 20], &mut r).unwrap();
    let mut evil = Server::new(&s.key, 0, 20).unwrap();
    evil.add(&u1).unwrap();
    evil.add(&forged).unwrap();
    let req = evil.decryption_request(&[2, 3]).unwrap();
    let info = inspect_request(&s.key, &req).unwrap();
    assert_eq!(info.round, 0);
    assert_eq!(info.contributions[0], authentic[0]);
    assert_ne!(
        info.contributions[1], authentic[1],
        "the forged contribution does not carry party 2's digest"
    );
    assert_ne!(
        info.set_digest,
        contribution_set_digest(s.key.id(), 0, &authentic)
    );

    // (c) a request whose contribution was altered in transit.
    let mut honest = Server::new(&s.key, 0, 20).unwrap();
    honest.add(&u1).unwrap();
    honest.add(&u2).unwrap();
    let req = honest.decryption_request(&[2, 3]).unwrap();
    let mut bad = req.clone();
    let at = bad.len() - 5;
    bad[at] ^= 1;
    assert!(matches!(
        s.clients[1].decryption_share(&bad, &mut r),
        Err(Error::Malformed { .. })
    ));
    assert!(matches!(
        s.clients[1].decryption_share(&bad[..bad.len() - 1], &mut r),
        Err(Error::Malformed { .. })
    ));

    // (d) the honest request decrypts the sum of exactly the listed updates.
    let info = inspect_request(&s.key, &req).unwrap();
    assert_eq!(info.contributions, authentic.to_vec());
    assert_eq!(info.committee, vec![2, 3]);
    let shares = vec![
        s.clients[1].decryption_share(&req, &mut r).unwrap(),
        s.clients[2].decryption_share(&req, &mut r).unwrap(),
    ];
    let res = combine(&s.key, &req, &shares).unwrap();
    let want = plain_average(&[&us[0], &us[1]]);
    for (a, b) in res.average.iter().zip(&want) {
        assert!((a - b).abs() <= res.precision, "{a} vs {b}");
    }
}

/// Each round's sum is released once: after a share of one contribution set,
/// a member refuses a different set of the same round (the differencing
/// attack: all three, then all but party 3, would give party 3's update),
/// while a re-randomized retry of the same set (attempt 1, public
/// encryption of zero) still decrypts correctly; attempts are capped.
#[test]
fn second_set_refused_retries_bounded() {
    let mut r = rng(140);
    let mut s = session(AggregationConfig::new(4, 2), 140);
    let us = updates(4, 9, 8.0, 141);
    let ups: Vec<Vec<u8>> = (0..3)
        .map(|i| s.clients[i].encrypt_update(0, &us[i], &mut r).unwrap())
        .collect();
    let mut all3 = Server::new(&s.key, 0, 9).unwrap();
    for u in &ups {
        all3.add(u).unwrap();
    }
    let req0 = all3.decryption_request(&[1, 2]).unwrap();
    let d1 = s.clients[0].decryption_share(&req0, &mut r).unwrap();
    // client 2 drops out; attempt 1 goes to {1, 4}: a new ciphertext
    let req1 = all3.decryption_request(&[1, 4]).unwrap();
    assert_eq!(inspect_request(&s.key, &req1).unwrap().attempt, 1);
    let e1 = s.clients[0].decryption_share(&req1, &mut r).unwrap();
    let e4 = s.clients[3].decryption_share(&req1, &mut r).unwrap();
    assert!(matches!(
        combine(&s.key, &req1, &[d1.clone(), e4.clone()]),
        Err(Error::SessionMismatch { .. })
    ));
    let res = combine(&s.key, &req1, &[e1, e4]).unwrap();
    let want = plain_average(&[&us[0], &us[1], &us[2]]);
    for (a, b) in res.average.iter().zip(&want) {
        assert!((a - b).abs() <= res.precision, "{a} vs {b}");
    }
    // the same set again (a re-sent request) is the same ciphertext: refused
    // by the single-use rule of the key share, not decrypted twice
    assert!(matches!(
        s.clients[0].decryption_share(&req0, &mut r),
        Err(Error::Threshold(threshold::Error::ShareReused { .. }))
    ));
    // a second set of round 0 (parties 1 and 2 only)
    let mut two = Server::new(&s.key, 0, 9).unwrap();
    two.add(&ups[0]).unwrap();
    two.add(&ups[1]).unwrap();
    let other = two.decryption_request(&[1, 4]).unwrap();
    for c in [0usize, 3] {
        assert_eq!(
            s.clients[c].decryption_share(&other, &mut r),
            Err(Error::AlreadyReleased { round: 0 })
        );
    }
    // a member that has not decrypted round 0 would answer the other set:
    // that is why, in hekit-mpc, every contributor also approves one set
    // per round (and sums need every contributor's approval)
    assert!(s.clients[1].decryption_share(&other, &mut r).is_err()); // not in {1, 4}
                                                                     // at most MAX_ATTEMPTS requests per round
    for _ in 2..MAX_ATTEMPTS {
        all3.decryption_request(&[1, 2]).unwrap();
    }
    assert_eq!(
        all3.decryption_request(&[1, 2]),
        Err(Error::TooManyAttempts {
            round: 0,
            attempt: MAX_ATTEMPTS,
            max: MAX_ATTEMPTS
        })
    );
}

/// Issue 13, finding 3: λ below 40 needs the explicitly insecure opt-in.
#[test]
fn weak_smudging_needs_the_insecure_opt_in() {
    for lambda in [0, 39] {
        assert!(matches!(
            AggregationParams::new(AggregationConfig::new(3, 2).lambda(lambda), [1; 32]),
            Err(Error::Insecure(_))
        ));
    }
    let p = AggregationParams::new(
        AggregationConfig::new(3, 2)
            .lambda(16)
            .insecure_weak_smudging(),
        [1; 32],
    )
    .unwrap();
    assert_eq!(p.config().lambda, 16);
    assert!(AggregationParams::new(AggregationConfig::new(3, 2).lambda(40), [1; 32]).is_ok());
}

/// The threshold-Paillier key holder keeps the same policy: too few
/// contributions, a second set of a round, and sums recomputed from the
/// contributions (a contribution altered in transit is refused).
#[test]
fn paillier_key_holder_policy() {
    let mut r = rng(150);
    let (p, q) =
        threshold::paillier::test_primes::primes(threshold::paillier::test_primes::SAFE512);
    let (tp, key_shares) =
        threshold::paillier::Dealer::deal_with_primes_insecure(p, q, 2, 3, &mut r).unwrap();
    let session = PaillierSession::new(tp, 3, 8.0, 30).unwrap();
    let mut holders: Vec<pv::KeyHolder> = key_shares
        .into_iter()
        .map(|k| pv::KeyHolder::new(&session, k, 2).unwrap())
        .collect();
    let us = updates(3, 6, 8.0, 151);
    let b: Vec<Vec<u8>> = (0..3)
        .map(|i| {
            session
                .encrypt_update(i as u32 + 1, 0, &us[i], &mut r)
                .unwrap()
        })
        .collect();
    let mut alone = PaillierServer::new(&session, 0, 6).unwrap();
    alone.add(&b[0]).unwrap();
    let req = alone.decryption_request().unwrap();
    assert_eq!(
        holders[0].decryption_share(&req, &mut r),
        Err(Error::TooFewContributors { got: 1, min: 2 })
    );
    let mut all = PaillierServer::new(&session, 0, 6).unwrap();
    for x in &b {
        all.add(x).unwrap();
    }
    let req = all.decryption_request().unwrap();
    let mut bad = req.clone();
    let at = bad.len() - 3;
    bad[at] ^= 1;
    assert!(matches!(
        holders[0].decryption_share(&bad, &mut r),
        Err(Error::Malformed { .. })
    ));
    let s0 = holders[0].decryption_share(&req, &mut r).unwrap();
    let s1 = holders[1].decryption_share(&req, &mut r).unwrap();
    let res = pv::combine(&session, &req, &[s0, s1]).unwrap();
    let want = plain_average(&[&us[0], &us[1], &us[2]]);
    for (a, w) in res.average.iter().zip(&want) {
        assert!((a - w).abs() <= res.precision, "{a} vs {w}");
    }
    let mut two = PaillierServer::new(&session, 0, 6).unwrap();
    two.add(&b[1]).unwrap();
    two.add(&b[2]).unwrap();
    let other = two.decryption_request().unwrap();
    assert_eq!(
        pv::inspect_request(&session, &other)
            .unwrap()
            .contributions
            .len(),
        2
    );
    assert_eq!(
        holders[0].decryption_share(&other, &mut r),
        Err(Error::AlreadyReleased { round: 0 })
    );
}

/// A client's state survives a process boundary (`Client::to_bytes` /
/// `from_bytes`, as a Flower SuperNode needs): restored clients encrypt and
/// decrypt a round whose average matches the plaintext one; a restored
/// client still refuses a second share for a request its original answered
/// and keeps its per-round release record; state of another session and
/// malformed bytes are refused.
#[test]
fn client_state_round_trips_and_keeps_its_refusals() {
    let config = AggregationConfig::new(3, 2);
    let mut s = session(config, 21);
    let us = updates(3, 100, 10.0, 22);
    let mut r = rng(23);
    // everyone through bytes
    s.clients = s
        .clients
        .iter()
        .map(|c| Client::from_bytes(&s.params, &c.to_bytes()).unwrap())
        .collect();
    let res = round(&mut s, 0, &us, &[1, 2, 3], &[1, 3], &mut r);
    let want = plain_average(&us.iter().collect::<Vec<_>>());
    let err = res
        .average
        .iter()
        .zip(&want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(err <= res.precision, "{err:e} > {:e}", res.precision);

    // round 1: client 1 answers, is saved, restored, asked again
    let mut server = Server::new(&s.key, 1, 100).unwrap();
    for i in 1..=3u32 {
        let u = s.clients[(i - 1) as usize]
            .encrypt_update(1, &us[(i - 1) as usize], &mut r)
            .unwrap();
        server.add(&u).unwrap();
    }
    let request = server.decryption_request(&[1, 2]).unwrap();
    s.clients[0].decryption_share(&request, &mut r).unwrap();
    let saved = s.clients[0].to_bytes();
    let mut restored = Client::from_bytes(&s.params, &saved).unwrap();
    assert!(matches!(
        restored.decryption_share(&request, &mut r),
        Err(Error::Threshold(threshold::Error::ShareReused { .. }))
    ));

    // another session (other CRS seed), same ring: refused
    let other = AggregationParams::new(AggregationConfig::new(3, 2), [99; 32]).unwrap();
    assert!(matches!(
        Client::from_bytes(&other, &saved),
        Err(Error::SessionMismatch { .. })
    ));
    // malformed: truncated, and a session key is not a client
    assert!(Client::from_bytes(&s.params, &saved[..saved.len() - 7]).is_err());
    assert!(Client::from_bytes(&s.params, &s.key.to_bytes()).is_err());
}
