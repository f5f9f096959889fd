//! Multiparty protocols: per-party share generation and aggregation for
//! collective key generation and decryption at N = 8192 / 16384 for n = 3
//! and 16 parties; threshold Paillier partial decryption + proof,
//! verification and combination at 2048 / 3072 bits for n = 3 and 16;
//! collective refresh of a CKKS ciphertext at N = 16384 (share per party,
//! aggregate + finish for 3 parties).
//!
//! `RAYON_NUM_THREADS=1 cargo bench --bench threshold`

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use threshold::{Crs, DecryptionShares, Party, PartyId, PublicKeyShares, RelinKeyRound1, Smudging};

fn lattice(c: &mut Criterion) {
    let mut group = c.benchmark_group("threshold");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(300));
    for (name, preset) in [
        ("N8192", bfv::Preset::N8192T65537),
        ("N16384", bfv::Preset::N16384T65537),
    ] {
        let params = bfv::Parameters::preset(preset).expect("preset");
        let rp = params.rlwe().clone();
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        for n in [3u32, 16] {
            let id = format!("{name}/n{n}");
            let mut parties: Vec<Party> = (1..=n)
                .map(|i| Party::new(PartyId(i), &rp, &mut rng))
                .collect();
            // per-party share generation (a fresh CRS each time: shares are single-use)
            let mut k = 0u64;
            group.bench_function(BenchmarkId::new("pk_share", &id), |b| {
                b.iter(|| {
                    k += 1;
                    let mut seed = [0u8; 32];
                    seed[..8].copy_from_slice(&k.to_le_bytes());
                    parties[0]
                        .public_key_share(&Crs::from_seed(seed), &mut rng)
                        .expect("share")
                })
            });
            let crs = Crs::from_seed([200; 32]);
            let pk_shares: Vec<_> = parties
                .iter_mut()
                .map(|p| p.public_key_share(&crs, &mut rng).expect("share"))
                .collect();
            group.bench_function(BenchmarkId::new("pk_aggregate", &id), |b| {
                b.iter_batched(
                    || pk_shares.clone(),
                    |s| {
                        PublicKeyShares::aggregate(s)
                            .and_then(|a| a.finish())
                            .expect("aggregate")
                    },
                    BatchSize::LargeInput,
                )
            });
            let (r1, _eph): (Vec<_>, Vec<_>) = parties
                .iter_mut()
                .map(|p| p.relin_key_round1(&crs, &mut rng).expect("round 1"))
                .unzip();
            group.bench_function(BenchmarkId::new("rlk_round1_aggregate", &id), |b| {
                b.iter_batched(
                    || r1.clone(),
                    |s| RelinKeyRound1::aggregate(s).expect("aggregate"),
                    BatchSize::LargeInput,
                )
            });
            let pk = bfv::PublicKey::from_rlwe(
                &params,
                PublicKeyShares::aggregate(pk_shares.clone())
                    .expect("agg")
                    .finish()
                    .expect("pk"),
            )
            .expect("pk");
            let enc = bfv::Encoder::new(&params);
            let pt = enc.encode(&[1, 2, 3]).expect("encode");
            let smudging =
                Smudging::for_bfv(&params, params.max_level(), 8.0, n as usize).expect("smudging");
            // a fresh ciphertext per iteration: a party answers each ciphertext once
            let mut enc_rng = ChaCha20Rng::seed_from_u64(1);
            let mut share_rng = ChaCha20Rng::seed_from_u64(2);
            group.bench_function(BenchmarkId::new("decryption_share", &id), |b| {
                b.iter_batched(
                    || pk.encrypt(&pt, &mut enc_rng).expect("ct"),
                    |ct| {
                        parties[0]
                            .decryption_share(ct.rlwe(), None, &smudging, &mut share_rng)
                            .expect("share")
                    },
                    BatchSize::LargeInput,
                )
            });
            let ct = pk.encrypt(&pt, &mut rng).expect("ct");
            let shares: Vec<_> = parties
                .iter_mut()
                .map(|p| {
                    p.decryption_share(ct.rlwe(), None, &smudging, &mut rng)
                        .expect("share")
                })
                .collect();
            group.bench_function(BenchmarkId::new("decryption_combine", &id), |b| {
                b.iter_batched(
                    || shares.clone(),
                    |s| {
                        DecryptionShares::aggregate(ct.rlwe(), s, None)
                            .and_then(|d| d.finish_bfv(&params, ct.encoding()))
                            .expect("combine")
                    },
                    BatchSize::LargeInput,
                )
            });
        }
    }
    group.finish();
}

fn paillier(c: &mut Criterion) {
    use threshold::paillier::{test_primes, Dealer};
    let mut group = c.benchmark_group("threshold_paillier");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_millis(300));
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    for (bits, pair) in [(2048, test_primes::SAFE1024), (3072, test_primes::SAFE1536)] {
        let (p, q) = test_primes::primes(pair);
        for n in [3usize, 16] {
            let t = n / 2 + 1;
            let id = format!("{bits}/n{n}");
            let (params, shares) =
                Dealer::deal_with_primes(p.clone(), q.clone(), t, n, &mut rng).expect("deal");
            let pk = params.public_key().clone();
            let ct = pk
                .encrypt(&num_bigint::BigUint::from(123_456u32), &mut rng)
                .expect("encrypt");
            group.bench_function(BenchmarkId::new("partial_decrypt_with_proof", &id), |b| {
                b.iter(|| shares[0].partial_decrypt(&ct, &mut rng).expect("partial"))
            });
            let partials: Vec<_> = shares
                .iter()
                .take(t)
                .map(|s| s.partial_decrypt(&ct, &mut rng).expect("partial"))
                .collect();
            group.bench_function(BenchmarkId::new("verify", &id), |b| {
                b.iter(|| params.verify(&ct, &partials[0]).expect("verify"))
            });
            group.bench_function(BenchmarkId::new("combine_t_verified", &id), |b| {
                b.iter(|| params.combine(&ct, &partials).expect("combine"))
            });
        }
    }
    group.finish();
}

fn refresh(c: &mut Criterion) {
    let mut group = c.benchmark_group("threshold-refresh");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_millis(300));
    let params = ckks::Parameters::preset(ckks::Preset::N16384).expect("preset");
    let rp = params.rlwe().clone();
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let mut parties: Vec<Party> = (1..=3u32)
        .map(|i| Party::new(PartyId(i), &rp, &mut rng))
        .collect();
    let crs = Crs::from_seed([201; 32]);
    let shares: Vec<_> = parties
        .iter_mut()
        .map(|p| p.public_key_share(&crs, &mut rng).expect("share"))
        .collect();
    let pk = PublicKeyShares::aggregate(shares)
        .and_then(|a| a.finish())
        .expect("pk");
    let pk = ckks::PublicKey::from_rlwe(&params, pk).expect("pk");
    let enc = ckks::Encoder::new(&params);
    let eval = ckks::Evaluator::new(&params);
    let x: Vec<f64> = (0..enc.slots()).map(|i| (i % 7) as f64 / 8.0).collect();
    let pt = enc.encode(&x).expect("encode");
    let log2_phase = params.scale().log2() + 0.1;
    // a fresh ciphertext at level 1 per iteration (shares are single-use)
    let fresh = |rng: &mut ChaCha20Rng| {
        let ct = pk.encrypt(&pt, rng).expect("encrypt");
        eval.drop_to_level(&ct, 1).expect("drop")
    };
    group.bench_function("N16384/level1/share", |b| {
        b.iter_batched(
            || fresh(&mut rng),
            |ct| {
                parties[0]
                    .refresh_share_ckks(
                        &ct,
                        &crs,
                        log2_phase,
                        3,
                        None,
                        &mut ChaCha20Rng::seed_from_u64(1),
                    )
                    .expect("share")
            },
            BatchSize::LargeInput,
        )
    });
    group.bench_function("N16384/level1/aggregate_finish_n3", |b| {
        b.iter_batched(
            || {
                let ct = fresh(&mut rng);
                let shares: Vec<_> = parties
                    .iter_mut()
                    .map(|p| {
                        p.refresh_share_ckks(&ct, &crs, log2_phase, 3, None, &mut rng)
                            .expect("share")
                    })
                    .collect();
                (ct, shares)
            },
            |(ct, shares)| {
                threshold::RefreshShares::aggregate(ct.rlwe(), &crs, shares, None)
                    .and_then(|a| a.finish_ckks(&params, ct.scale()))
                    .expect("refresh")
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, lattice, paillier, refresh);
criterion_main!(benches);
