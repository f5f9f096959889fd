//! BFV benchmarks at N = 8192 (218-bit QP) and N = 16384 (438-bit QP),
//! t = 65537: the presets, and at N = 8192 also SEAL's layout (`SEAL8192`:
//! `Q = [43, 43, 44, 44]`, `P = [44]`, the layout of the SEAL+HEXL figures
//! in issue 19). Single-thread figures: run with `RAYON_NUM_THREADS=1`.
//!
//! `RAYON_NUM_THREADS=1 cargo bench --bench bfv`

use std::time::Duration;

use bfv::{Encoder, Evaluator, GaloisKeys, Parameters, Preset, PublicKey, RelinKey, SecretKey};
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("bfv");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_millis(500));
    let seal8192 = Parameters::builder()
        .degree(8192)
        .plaintext_modulus(65537)
        .q_bits(&[43, 43, 44, 44])
        .p_bits(&[44])
        .build()
        .expect("SEAL layout");
    for (name, params) in [
        (
            "N8192",
            Parameters::preset(Preset::N8192T65537).expect("preset"),
        ),
        ("SEAL8192", seal8192),
        (
            "N16384",
            Parameters::preset(Preset::N16384T65537).expect("preset"),
        ),
    ] {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let sk = SecretKey::generate(&params, &mut rng);
        let pk = PublicKey::generate(&sk, &mut rng).expect("pk");
        let rlk = RelinKey::generate(&sk, &mut rng).expect("rlk");
        let gk = GaloisKeys::generate(&sk, &[1], &mut rng).expect("gk");
        let enc = Encoder::new(&params);
        let eval = Evaluator::new(&params);
        let n = params.degree();
        let values: Vec<i64> = (0..n).map(|_| rng.gen_range(-30000..30000)).collect();
        let pt = enc.encode(&values).expect("encode");
        let a = pk.encrypt(&pt, &mut rng).expect("encrypt");
        let b = pk.encrypt(&pt, &mut rng).expect("encrypt");
        let prod = eval.mul(&a, &b).expect("mul");

        group.bench_function(BenchmarkId::new("encode", name), |bn| {
            bn.iter(|| enc.encode(&values))
        });
        group.bench_function(BenchmarkId::new("encrypt_pk", name), |bn| {
            bn.iter(|| pk.encrypt(&pt, &mut rng))
        });
        group.bench_function(BenchmarkId::new("encrypt_sk", name), |bn| {
            bn.iter(|| sk.encrypt(&pt, &mut rng))
        });
        group.bench_function(BenchmarkId::new("decrypt", name), |bn| {
            bn.iter(|| sk.decrypt(&a))
        });
        group.bench_function(BenchmarkId::new("decode", name), |bn| {
            bn.iter(|| enc.decode(&pt))
        });
        group.bench_function(BenchmarkId::new("add", name), |bn| {
            bn.iter(|| eval.add(&a, &b))
        });
        group.bench_function(BenchmarkId::new("mul_plain", name), |bn| {
            bn.iter(|| eval.mul_plain(&a, &pt))
        });
        group.bench_function(BenchmarkId::new("mul_plain_assign", name), |bn| {
            // a fresh, cache-warm copy per iteration (the copy is not timed)
            bn.iter_batched_ref(
                || a.clone(),
                |ct| eval.mul_plain_assign(ct, &pt),
                BatchSize::PerIteration,
            )
        });
        let prepared = eval.prepare_mul(&pt, a.level()).expect("prepare");
        group.bench_function(BenchmarkId::new("mul_plain_prepared", name), |bn| {
            bn.iter(|| eval.mul_prepared(&a, &prepared))
        });
        // both operands in NTT form, in place: no allocation, no copy
        group.bench_function(BenchmarkId::new("mul_prepared_assign", name), |bn| {
            // a fresh, cache-warm copy per iteration (the copy is not timed)
            bn.iter_batched_ref(
                || a.clone(),
                |ct| eval.mul_prepared_assign(ct, &prepared),
                BatchSize::PerIteration,
            )
        });
        group.bench_function(BenchmarkId::new("mul", name), |bn| {
            bn.iter(|| eval.mul(&a, &b))
        });
        group.bench_function(BenchmarkId::new("relinearize", name), |bn| {
            bn.iter(|| eval.relinearize(&prod, &rlk))
        });
        group.bench_function(BenchmarkId::new("mul_relin", name), |bn| {
            bn.iter(|| eval.mul_relin(&a, &b, &rlk))
        });
        group.bench_function(BenchmarkId::new("rotate_rows", name), |bn| {
            bn.iter(|| eval.rotate_rows(&a, 1, &gk))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
