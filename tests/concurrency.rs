//! Concurrency: contexts, keys and ciphertexts are `Send + Sync`, and
//! evaluating from several threads at once gives bit-for-bit the results of
//! a sequential run (evaluation is deterministic; only encryption draws
//! randomness, from the caller's generator). See docs/concurrency.md.

use std::sync::Arc;
use std::thread;

use hekit::{bfv, ckks, ml_he, paillier, rlwe, threshold};
use num_bigint::{BigInt, BigUint};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

const THREADS: usize = 4;

fn assert_send_sync<T: Send + Sync>() {}
fn assert_send<T: Send>() {}

#[test]
fn public_types_are_send_and_sync() {
    // lattice core
    assert_send_sync::<rlwe::params::Params>();
    assert_send_sync::<Arc<rlwe::params::Params>>();
    assert_send_sync::<rlwe::poly::Poly>();
    assert_send_sync::<rlwe::keys::SecretKey>();
    assert_send_sync::<rlwe::keys::PublicKey>();
    assert_send_sync::<rlwe::keys::RelinKey>();
    assert_send_sync::<rlwe::keys::GaloisKeys>();
    assert_send_sync::<rlwe::ciphertext::Ciphertext>();
    // BFV
    assert_send_sync::<Arc<bfv::Parameters>>();
    assert_send_sync::<bfv::Encoder>();
    assert_send_sync::<bfv::Evaluator>();
    assert_send_sync::<bfv::SecretKey>();
    assert_send_sync::<bfv::PublicKey>();
    assert_send_sync::<bfv::RelinKey>();
    assert_send_sync::<bfv::GaloisKeys>();
    assert_send_sync::<bfv::Plaintext>();
    assert_send_sync::<bfv::Ciphertext>();
    // CKKS
    assert_send_sync::<ckks::Parameters>();
    assert_send_sync::<ckks::Encoder>();
    assert_send_sync::<ckks::Evaluator>();
    assert_send_sync::<ckks::SecretKey>();
    assert_send_sync::<ckks::PublicKey>();
    assert_send_sync::<ckks::RelinKey>();
    assert_send_sync::<ckks::GaloisKeys>();
    assert_send_sync::<ckks::Plaintext>();
    assert_send_sync::<ckks::Ciphertext>();
    // Paillier
    assert_send_sync::<paillier::PublicKey>();
    assert_send_sync::<paillier::SecretKey>();
    assert_send_sync::<paillier::Ciphertext>();
    assert_send_sync::<paillier::FastEncryptor>();
    assert_send_sync::<paillier::Packer>();
    // threshold
    assert_send_sync::<threshold::Party>();
    assert_send_sync::<threshold::Crs>();
    assert_send_sync::<threshold::Smudging>();
    assert_send_sync::<threshold::PaillierPublicParams>();
    assert_send_sync::<threshold::PaillierKeyShare>();
    assert_send::<threshold::SecretShareMessage>();
    // ML
    assert_send_sync::<Arc<ml_he::aggregation::AggregationParams>>();
    assert_send_sync::<ml_he::aggregation::SessionKey>();
    assert_send_sync::<ml_he::aggregation::Client>();
    assert_send_sync::<ml_he::aggregation::Server>();
    assert_send_sync::<ml_he::inference::Server>();
}

/// Runs `job` once sequentially, then `THREADS` times at once, and checks
/// every concurrent result equals the sequential one.
fn same_in_parallel<T, F>(job: F) -> T
where
    T: PartialEq + std::fmt::Debug + Send,
    F: Fn() -> T + Sync,
{
    let sequential = job();
    let concurrent: Vec<T> = thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS).map(|_| s.spawn(&job)).collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("worker thread panicked"))
            .collect()
    });
    for (i, r) in concurrent.iter().enumerate() {
        assert_eq!(
            r, &sequential,
            "thread {i} disagrees with the sequential run"
        );
    }
    sequential
}

#[test]
fn bfv_evaluation_from_several_threads() {
    // fresh parameters, so that lazily built tables (Galois permutations)
    // are first built while the threads race
    let params = bfv::Parameters::preset(bfv::Preset::N8192T65537).expect("preset");
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let sk = bfv::SecretKey::generate(&params, &mut rng);
    let rlk = bfv::RelinKey::generate(&sk, &mut rng).expect("rlk");
    let gk = bfv::GaloisKeys::generate_with_row_swap(&sk, &[1, 3, -2], true, &mut rng).expect("gk");
    let encoder = bfv::Encoder::new(&params);
    let eval = bfv::Evaluator::new(&params);
    let inputs: Vec<Vec<i64>> = (0..3)
        .map(|k| (0..64).map(|i| (i * 7 + k * 13) % 100 - 50).collect())
        .collect();
    let cts: Vec<bfv::Ciphertext> = inputs
        .iter()
        .map(|v| sk.encrypt(&encoder.encode(v).expect("encode"), &mut rng))
        .collect::<Result<_, _>>()
        .expect("encrypt");

    let circuit = || -> Vec<Vec<u8>> {
        cts.iter()
            .map(|ct| {
                let sq = eval.mul_relin(ct, ct, &rlk).expect("mul");
                let r = eval.rotate_rows(&sq, 1, &gk).expect("rotate");
                let r = eval.rotate_rows(&r, 3, &gk).expect("rotate");
                let sum = eval.add(&r, ct).expect("add");
                eval.rotate_columns(&sum, &gk)
                    .map(|c| c.to_bytes())
                    .expect("columns")
            })
            .collect()
    };
    let results = same_in_parallel(circuit);

    // and the shared result is the right one (plaintext reference)
    let t = 65537i64;
    let half = 4096;
    for (bytes, input) in results.iter().zip(&inputs) {
        let ct = bfv::Ciphertext::from_bytes(&params, bytes).expect("bytes");
        let got = encoder
            .decode(&sk.decrypt(&ct).expect("decrypt"))
            .expect("decode");
        let mut row = vec![0i64; 2 * half];
        row[..input.len()].copy_from_slice(input);
        let sq: Vec<i64> = row.iter().map(|x| x * x % t).collect();
        // rotate row 0 left by 4, add the input, then swap rows
        let mut expected = vec![0i64; 2 * half];
        for i in 0..half {
            let rotated0 = sq[(i + 4) % half];
            let rotated1 = sq[half + (i + 4) % half];
            expected[half + i] = rotated0 + row[i];
            expected[i] = rotated1 + row[half + i];
        }
        let centered = |x: i64| {
            let r = x.rem_euclid(t);
            if r > t / 2 {
                r - t
            } else {
                r
            }
        };
        let got: Vec<i64> = got.into_iter().map(centered).collect();
        let expected: Vec<i64> = expected.into_iter().map(centered).collect();
        assert_eq!(got, expected);
    }
}

#[test]
fn ckks_evaluation_from_several_threads() {
    let params = ckks::Parameters::preset(ckks::Preset::N8192).expect("preset");
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let sk = ckks::SecretKey::generate(&params, &mut rng);
    let rlk = ckks::RelinKey::generate(&sk, &mut rng).expect("rlk");
    let gk = ckks::GaloisKeys::generate(&sk, &[1, 5], &mut rng).expect("gk");
    let encoder = ckks::Encoder::new(&params);
    let eval = ckks::Evaluator::new(&params);
    let x: Vec<f64> = (0..256).map(|i| (i as f64 / 256.0) - 0.5).collect();
    let ct = sk
        .encrypt(&encoder.encode(&x).expect("encode"), &mut rng)
        .expect("encrypt");

    let circuit = || -> Vec<u8> {
        let sq = eval.mul_relin_rescale(&ct, &ct, &rlk).expect("mul");
        let r = eval.rotate(&sq, 1, &gk).expect("rotate");
        let r = eval.rotate(&r, 5, &gk).expect("rotate");
        r.to_bytes()
    };
    let bytes = same_in_parallel(circuit);

    let ct = ckks::Ciphertext::from_bytes(&params, &bytes).expect("bytes");
    let got = encoder
        .decode(&sk.decrypt(&ct).expect("decrypt"))
        .expect("decode");
    for (i, g) in got.iter().take(250).enumerate() {
        let want = x[i + 6] * x[i + 6];
        assert!((g - want).abs() < 1e-6, "slot {i}: {g} vs {want}");
    }
}

#[test]
fn paillier_from_several_threads() {
    let (pk, sk) = paillier::test_keys::keypair_from(paillier::test_keys::P1024).expect("test key");
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let values: Vec<i64> = (0..8).map(|i| i * 1000 - 3500).collect();
    let cts: Vec<paillier::Ciphertext> = values
        .iter()
        .map(|&v| pk.encrypt_int(&BigInt::from(v), &mut rng))
        .collect::<Result<_, _>>()
        .expect("encrypt");

    // homomorphic evaluation and decryption (CRT, constant-time paths)
    let job = || -> Vec<BigInt> {
        cts.iter()
            .map(|c| {
                let y = c.mul_i64(-3).add_plain(&BigUint::from(17u8)).expect("add");
                sk.decrypt_int(&y).expect("decrypt")
            })
            .collect()
    };
    let got = same_in_parallel(job);
    let want: Vec<BigInt> = values.iter().map(|v| BigInt::from(v * -3 + 17)).collect();
    assert_eq!(got, want);
}

#[test]
fn threshold_decryption_shares_from_several_threads() {
    // Parties are independent objects: several threads can each drive
    // their own party against shared public objects at once.
    let params = bfv::Parameters::preset(bfv::Preset::N4096T65537).expect("preset");
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let crs = threshold::Crs::from_seed([4; 32]);
    let mut parties: Vec<threshold::Party> = (1..=THREADS as u32)
        .map(|i| threshold::Party::new(threshold::PartyId(i), params.rlwe(), &mut rng))
        .collect();
    let shares = thread::scope(|s| {
        let handles: Vec<_> = parties
            .iter_mut()
            .enumerate()
            .map(|(i, p)| {
                let crs = &crs;
                s.spawn(move || {
                    let mut rng = ChaCha20Rng::seed_from_u64(100 + i as u64);
                    p.public_key_share(crs, &mut rng)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("worker"))
            .collect::<Result<Vec<_>, _>>()
    })
    .expect("shares");
    let pk = bfv::PublicKey::from_rlwe(
        &params,
        threshold::PublicKeyShares::aggregate(shares)
            .expect("aggregate")
            .finish()
            .expect("finish"),
    )
    .expect("pk");
    let encoder = bfv::Encoder::new(&params);
    let ct = pk
        .encrypt(&encoder.encode(&[11, 22, 33]).expect("encode"), &mut rng)
        .expect("encrypt");
    let smudging =
        threshold::Smudging::for_bfv(&params, ct.level(), 8.0, THREADS).expect("smudging");
    let dshares = thread::scope(|s| {
        let handles: Vec<_> = parties
            .iter_mut()
            .enumerate()
            .map(|(i, p)| {
                let (ct, smudging) = (&ct, &smudging);
                s.spawn(move || {
                    let mut rng = ChaCha20Rng::seed_from_u64(200 + i as u64);
                    p.decryption_share(ct.rlwe(), None, smudging, &mut rng)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("worker"))
            .collect::<Result<Vec<_>, _>>()
    })
    .expect("decryption shares");
    let pt = threshold::DecryptionShares::aggregate(ct.rlwe(), dshares, None)
        .expect("aggregate")
        .finish_bfv(&params, ct.encoding())
        .expect("finish");
    assert_eq!(&encoder.decode(&pt).expect("decode")[..3], &[11, 22, 33]);
}
