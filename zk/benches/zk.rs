//! Proofs of well-formed encryption at the aggregation parameters: N =
//! 8192, the chain `ml-he` picks for a session of 10 clients with proofs
//! and `max_abs = 256` (49 + 49 + 43 bits, see
//! `ml_he::aggregation::AggregationParams`), messages of 2^28, one
//! ciphertext = 8192 floats; a 100,000-float update is 13 ciphertexts.
//!
//! `RAYON_NUM_THREADS=1 cargo bench -p hekit-zk --bench zk`

#![allow(clippy::unwrap_used)]

use criterion::{criterion_group, criterion_main, Criterion};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rlwe::keys::{PublicKey, SecretKey};
use rlwe::params::Params;
use zk::*;

fn bench(c: &mut Criterion) {
    let params = Params::builder()
        .degree(8192)
        .q_bits(&[49, 49, 43])
        .p_bits(&[50])
        .build()
        .unwrap();
    let mut rng = ChaCha20Rng::from_seed([1; 32]);
    let sk = SecretKey::generate(&params, &mut rng);
    let pk = PublicKey::generate(&sk, &mut rng).unwrap();
    let zp = EncParams::new(params.ring_q_top(), 256 << 20, 88).unwrap();
    let key = EncKey::new(&zp, &pk).unwrap();
    let m: Vec<i64> = (0..8192).map(|i| (i * 7919) % (256 << 20)).collect();
    let (ct, w) = encrypt(&zp, &key, &m, &mut rng).unwrap();
    let proof = prove(&zp, &key, &[0; 32], 0, (&ct.0, &ct.1), &w, &mut rng).unwrap();
    eprintln!(
        "proof {} bytes per ciphertext ({} bits per coefficient), ciphertext {} bytes",
        zp.proof_bytes(),
        (zp.proof_bytes() - 33) * 8 / 8192,
        2 * 8192 * 141 / 8
    );
    let mut g = c.benchmark_group("zk/encryption (N=8192, one ciphertext)");
    g.sample_size(20);
    g.bench_function("encrypt", |b| {
        b.iter(|| encrypt(&zp, &key, &m, &mut rng).unwrap())
    });
    g.bench_function("prove", |b| {
        b.iter(|| prove(&zp, &key, &[0; 32], 0, (&ct.0, &ct.1), &w, &mut rng).unwrap())
    });
    g.bench_function("verify", |b| {
        b.iter(|| verify(&zp, &key, &[0; 32], 0, (&ct.0, &ct.1), &proof).unwrap())
    });
    let bytes = proof.to_bytes(&zp);
    g.bench_function("decode", |b| {
        b.iter(|| EncProof::from_bytes(&zp, &bytes).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
