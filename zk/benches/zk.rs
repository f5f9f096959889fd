//! Proofs of well-formed encryption at the aggregation parameters: N =
//! 8192, the chain `ml-he` picks for a session of 10 clients with proofs
//! and `max_abs = 256` (49 + 49 + 43 bits, see
//! `ml_he::aggregation::AggregationParams`), messages of 2^28, one
//! ciphertext = 8192 floats; a 100,000-float update is 13 ciphertexts.
//!
//! Proofs of correct decryption shares at the default session's chain
//! with share proofs (49 + 49 + 49 + 20 bits), 10 clients, t = 6, smudging
//! σ = 2^81.9: the 13 shares of a 100,000-float sum in two proofs (8 + 5).
//!
//! `RAYON_NUM_THREADS=1 cargo bench -p hekit-zk --bench zk`

#![allow(clippy::unwrap_used)]

use criterion::{criterion_group, criterion_main, Criterion};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rlwe::keys::{PublicKey, SecretKey};
use rlwe::params::Params;
use rlwe::poly::{Poly, Representation};
use rlwe::sample;
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

fn bench_shares(c: &mut Criterion) {
    let params = Params::builder()
        .degree(8192)
        .q_bits(&[49, 49, 49, 20])
        .p_bits(&[50])
        .build()
        .unwrap();
    let ring = params.ring_q_top().clone();
    let mut rng = ChaCha20Rng::from_seed([2; 32]);
    // n = 10, t = 6: n·t·η = 1,260 (Shamir points X^j,
    // `threshold::vss::key_noise_bound`); σ = 2^81.9, bound 14σ.
    let key_bound = 10 * 6 * 21;
    let noise_bound = (14.0 * 81.9f64.exp2()) as u128;
    let zp = ShareParams::new(&ring, key_bound, noise_bound, MAX_SHARES_PER_PROOF).unwrap();
    let a1 = sample::uniform_poly(&ring, Representation::Ntt, &mut rng);
    let a2 = sample::uniform_poly(&ring, Representation::Ntt, &mut rng);
    let key = ShareKey::new(&zp, &a1, &a2).unwrap();
    let s = sample::uniform_poly(&ring, Representation::Ntt, &mut rng);
    let mut k = Vec::new();
    for a in [&a1, &a2] {
        let mut p = sample::small_poly(&ring, &sample::cbd(8192, &mut rng));
        p.to_ntt();
        p.mul_acc(a, &s).unwrap();
        k.push(p);
    }
    let com = ShareCommitment::new(&zp, &k[0], &k[1]).unwrap();
    let w = ShareWitness::new(&zp, &key, &com, &s).unwrap();
    let mut ms: Vec<Poly> = Vec::new();
    let mut ds: Vec<Poly> = Vec::new();
    let mut es: Vec<Vec<i128>> = Vec::new();
    for _ in 0..13 {
        let m = sample::uniform_poly(&ring, Representation::Ntt, &mut rng);
        let e = sample::gaussian_wide(8192, 81.9, &mut rng).unwrap();
        let mut d = sample::wide_poly(&ring, &e);
        d.to_ntt();
        d.mul_acc(&m, &s).unwrap();
        ms.push(m);
        ds.push(d);
        es.push(e);
    }
    let chunks = |n: usize| -> Vec<(usize, usize)> {
        (0..n)
            .step_by(MAX_SHARES_PER_PROOF)
            .map(|a| (a, (a + MAX_SHARES_PER_PROOF).min(n)))
            .collect()
    };
    let prove_all = |rng: &mut ChaCha20Rng| -> Vec<ShareProof> {
        chunks(13)
            .into_iter()
            .map(|(a, b)| {
                let st = SharesRef {
                    multipliers: &ms[a..b],
                    shares: &ds[a..b],
                };
                prove_shares(&zp, &key, &com, &[0; 32], st, &w, &es[a..b], rng).unwrap()
            })
            .collect()
    };
    let proofs = prove_all(&mut rng);
    let proof_bytes: usize = proofs.iter().map(|p| p.to_bytes(&zp).len()).sum();
    let share_bytes = 13 * 8192 * (49 * 3 + 20) / 8;
    eprintln!(
        "share proofs for 13 shares: {proof_bytes} bytes ({:.0} % of the {share_bytes} bytes of shares), \
         offset bound 2^{:.1}, acceptance {:.2}",
        100.0 * proof_bytes as f64 / share_bytes as f64,
        (zp.offset_bound() as f64).log2(),
        zp.acceptance_probability(MAX_SHARES_PER_PROOF)
    );
    let mut g = c.benchmark_group("zk/decryption shares (N=8192, 13 shares = 100,000 floats)");
    g.sample_size(10);
    g.bench_function("prove", |b| b.iter(|| prove_all(&mut rng)));
    g.bench_function("verify", |b| {
        b.iter(|| {
            for ((a, e), p) in chunks(13).into_iter().zip(&proofs) {
                let st = SharesRef {
                    multipliers: &ms[a..e],
                    shares: &ds[a..e],
                };
                verify_shares(&zp, &key, &com, &[0; 32], st, p).unwrap();
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench, bench_shares);
criterion_main!(benches);
