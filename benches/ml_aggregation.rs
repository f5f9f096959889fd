//! HE-MPC aggregation: 10 clients × 100,000 floats under a collective
//! threshold CKKS key (t = 6 of n = 10): client encrypt (to bytes), server
//! add (parse + validate + sum) of all 10 updates, one committee member's
//! decryption share, and the combination into the average. Bytes per client
//! are printed. Peer (`shared/peers/results_ml.txt`, TenSEAL, *single* key):
//! 73 ms and 5.88 MB per client.
//!
//! `cargo bench --bench ml_aggregation`
//!
//! Measured here (2 vCPU Xeon, `flock /tmp/bench.lock`, 2026-11-25):
//! client encrypt 9.1 ms (21.0 ms with `RAYON_NUM_THREADS=1`), 2,609,274
//! bytes per client, server add of 10 updates 11.0 ms, one decryption share
//! 9.6 ms, combination of 6 shares 8.6 ms; stated precision of the average
//! 9.5e-10 at λ = 40.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use ml_he::aggregation::{
    combine, deal_all, AggregationConfig, AggregationParams, Client, Server, SessionKey,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

const N: usize = 10;
const T: usize = 6;
const LEN: usize = 100_000;

fn aggregation(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let params = AggregationParams::new(AggregationConfig::new(N, T).max_abs(16.0), [1; 32])
        .expect("parameters");
    let mut clients: Vec<Client> = (1..=N as u32)
        .map(|i| Client::new(&params, i, &mut rng).expect("client"))
        .collect();
    let shares: Vec<_> = clients
        .iter_mut()
        .map(|c| c.public_key_share(&mut rng).expect("pk share"))
        .collect();
    let key = SessionKey::from_shares(&params, shares).expect("key");
    let key = deal_all(&mut clients, &key, &mut rng).expect("dealing");
    let updates: Vec<Vec<f64>> = (0..N)
        .map(|_| (0..LEN).map(|_| rng.gen_range(-1.0..1.0)).collect())
        .collect();
    let encrypt_all = |round: u64, rng: &mut ChaCha20Rng| -> Vec<Vec<u8>> {
        updates
            .iter()
            .enumerate()
            .map(|(i, u)| {
                key.encrypt_update(i as u32 + 1, round, u, rng)
                    .expect("encrypt")
            })
            .collect()
    };
    let sample = encrypt_all(0, &mut rng);
    eprintln!(
        "ml_aggregation: n = {N}, t = {T}, {LEN} floats, {} ciphertexts of N = {}, {} bytes per client ({:.2} MB, {:.2}x float32), log2 scale {:.0}, λ = {}, stated precision of the average {:.2e}",
        params.ciphertexts_for(LEN),
        params.ckks().degree(),
        sample[0].len(),
        sample[0].len() as f64 / 1e6,
        sample[0].len() as f64 / (4.0 * LEN as f64),
        params.scale().log2(),
        params.config().lambda,
        params.sum_precision() / N as f64,
    );

    let mut g = c.benchmark_group("ml_aggregation");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_millis(500));

    g.bench_function("client_encrypt_100k", |b| {
        b.iter(|| {
            clients[0]
                .encrypt_update(0, &updates[0], &mut rng)
                .expect("encrypt")
        })
    });

    g.bench_function("server_add_10x100k", |b| {
        b.iter(|| {
            let mut server = Server::new(&key, 0, LEN).expect("server");
            for u in &sample {
                server.add(u).expect("add");
            }
            server
        })
    });

    // Decryption: shares are single-use per ciphertext and a member
    // decrypts one contribution set per round, so every iteration decrypts
    // a fresh sum of a new round (set-up, not timed).
    let committee: Vec<u32> = (1..=T as u32).collect();
    let mut next_round = 0u64;
    let mut fresh_request = |rng: &mut ChaCha20Rng| -> Vec<u8> {
        next_round += 1;
        let mut server = Server::new(&key, next_round, LEN).expect("server");
        for u in encrypt_all(next_round, rng) {
            server.add(&u).expect("add");
        }
        server.decryption_request(&committee).expect("request")
    };
    let mut rng2 = ChaCha20Rng::seed_from_u64(2);
    let mut rng3 = ChaCha20Rng::seed_from_u64(3);
    g.bench_function("decryption_share_one_party", |b| {
        b.iter_batched(
            || fresh_request(&mut rng2),
            |req| clients[0].decryption_share(&req, &mut rng3).expect("share"),
            BatchSize::PerIteration,
        )
    });
    let mut rng4 = ChaCha20Rng::seed_from_u64(4);
    g.bench_function("combine_t6", |b| {
        b.iter_batched(
            || {
                let req = fresh_request(&mut rng2);
                let shares: Vec<Vec<u8>> = clients[..T]
                    .iter_mut()
                    .map(|c| c.decryption_share(&req, &mut rng4).expect("share"))
                    .collect();
                (req, shares)
            },
            |(req, shares)| combine(&key, &req, &shares).expect("combine"),
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, aggregation);
criterion_main!(benches);
