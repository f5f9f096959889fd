//! CKKS benchmarks at N = 16384, scale 2^40.
//!
//! * `L8`: the `Preset::N16384` chain, 8 ciphertext limbs
//!   `Q = [50, 40 × 7]` + `P = [50, 50]` (430 bits, 128-bit secure);
//! * `L7`: the shape of the SEAL / OpenFHE peer figures (`[60, 40 × 6, 60]`)
//!   in sub-2^50 primes, 7 ciphertext limbs `Q = [50, 40 × 6]` + `P = [50, 50]`;
//! * `SEAL`: SEAL's exact chain, `Q = [60, 40 × 6]`, `P = [60]` (one special
//!   prime: single-prime digits; 60-bit primes leave the IFMA kernels).
//!
//! Single-thread figures (compare with `shared/peers/results_py.txt`):
//! `RAYON_NUM_THREADS=1 cargo bench --bench ckks`
//!
//! `ckks-bootstrap`: bootstrapping with `BootstrapPreset::TestN4096`
//! (N = 2^12, `SecurityLevel::None`; 8, 64 and 2048 = full slots) and, with
//! `HEKIT_BENCH_N65536=1`, `BootstrapPreset::N65536` (N = 2^16, 2^15 slots,
//! 128-bit; about 10 GiB and 40 s of key generation): the precision and the
//! levels left are printed before the timing.
//! `RAYON_NUM_THREADS=1 HEKIT_BENCH_N65536=1 cargo bench --bench ckks -- ckks-bootstrap`

use std::time::Duration;

use ckks::{
    tile, Encoder, Evaluator, GaloisKeys, LinearTransform, Parameters, Preset, PublicKey, RelinKey,
    SecretKey,
};
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("ckks");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    let configs = [
        (
            "N16384-L8",
            Parameters::preset(Preset::N16384).expect("preset"),
        ),
        (
            "N16384-L7",
            Parameters::builder()
                .degree(16384)
                .q_bits(&[50, 40, 40, 40, 40, 40, 40])
                .p_bits(&[50, 50])
                .scale_bits(40)
                .build()
                .expect("params"),
        ),
        (
            "N16384-SEAL",
            Parameters::builder()
                .degree(16384)
                .q_bits(&[60, 40, 40, 40, 40, 40, 40])
                .p_bits(&[60])
                .scale_bits(40)
                .build()
                .expect("SEAL's chain"),
        ),
    ];
    for (name, params) in configs {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let sk = SecretKey::generate(&params, &mut rng);
        let pk = PublicKey::generate(&sk, &mut rng).expect("pk");
        let rlk = RelinKey::generate(&sk, &mut rng).expect("rlk");
        let enc = Encoder::new(&params);
        let eval = Evaluator::new(&params);
        let n = params.slots();
        let x: Vec<f64> = (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let pt = enc.encode(&x).expect("encode");
        let a = pk.encrypt(&pt, &mut rng).expect("encrypt");
        let b = pk.encrypt(&pt, &mut rng).expect("encrypt");
        let prod = eval.mul_relin(&a, &b, &rlk).expect("mul");
        let d = 64;
        let m: Vec<Vec<f64>> = (0..d)
            .map(|_| (0..d).map(|_| rng.gen_range(-1.0..1.0)).collect())
            .collect();
        let lt = LinearTransform::new(&enc, &m, params.max_level()).expect("lt");
        let mut steps = lt.rotation_steps();
        steps.push(1);
        let gk = GaloisKeys::generate(&sk, &steps, &mut rng).expect("gk");
        let v = pk
            .encrypt(&enc.encode(&tile(&x[..d], n)).expect("encode"), &mut rng)
            .expect("encrypt");

        group.bench_function(BenchmarkId::new("encode_encrypt_pk", name), |bn| {
            bn.iter(|| pk.encrypt(&enc.encode(&x).expect("encode"), &mut rng))
        });
        group.bench_function(BenchmarkId::new("encode_encrypt_sk", name), |bn| {
            bn.iter(|| sk.encrypt(&enc.encode(&x).expect("encode"), &mut rng))
        });
        group.bench_function(BenchmarkId::new("decrypt_decode", name), |bn| {
            bn.iter(|| enc.decode(&sk.decrypt(&a).expect("decrypt")))
        });
        group.bench_function(BenchmarkId::new("add", name), |bn| {
            bn.iter(|| eval.add(&a, &b))
        });
        // ct × pt with the plaintext in NTT form at the ciphertext's level
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
        group.bench_function(BenchmarkId::new("mul_relin", name), |bn| {
            bn.iter(|| eval.mul_relin(&a, &b, &rlk))
        });
        group.bench_function(BenchmarkId::new("rescale", name), |bn| {
            bn.iter(|| eval.rescale(&prod))
        });
        group.bench_function(BenchmarkId::new("mul_relin_rescale", name), |bn| {
            bn.iter(|| eval.mul_relin_rescale(&a, &b, &rlk))
        });
        group.bench_function(BenchmarkId::new("rotate_1", name), |bn| {
            bn.iter(|| eval.rotate(&a, 1, &gk))
        });
        group.bench_function(BenchmarkId::new("matvec_64x64", name), |bn| {
            bn.iter(|| eval.linear_transform(&v, &lt, &gk))
        });
    }
    group.finish();
}

fn bootstrap(c: &mut Criterion) {
    let mut group = c.benchmark_group("ckks-bootstrap");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10))
        .warm_up_time(Duration::from_millis(500));
    let mut presets = vec![(ckks::BootstrapPreset::TestN4096, vec![8usize, 64, 2048])];
    if std::env::var("HEKIT_BENCH_N65536").is_ok_and(|v| v == "1") {
        presets.push((ckks::BootstrapPreset::N65536, vec![1 << 15]));
    }
    for (preset, slot_counts) in presets {
        let (params, base) = preset.parameters().expect("preset");
        let mut rng = ChaCha20Rng::seed_from_u64(90);
        let sk = SecretKey::generate(&params, &mut rng);
        let pk = PublicKey::generate(&sk, &mut rng).expect("pk");
        let enc = Encoder::new(&params);
        let eval = Evaluator::new(&params);
        for slots in slot_counts {
            // the preset's level budgets: its chain is laid out for them
            let config = ckks::BootstrapConfig {
                slots,
                ..base.clone()
            };
            let boot = ckks::Bootstrapper::new(&params, config).expect("bootstrapper");
            let keys = boot.generate_keys(&sk, &mut rng).expect("keys");
            let x: Vec<f64> = (0..slots).map(|_| rng.gen_range(-1.0..1.0)).collect();
            let ct = pk
                .encrypt(
                    &enc.encode(&tile(&x, enc.slots())).expect("encode"),
                    &mut rng,
                )
                .expect("encrypt");
            let low = eval.drop_to_level(&ct, 0).expect("drop");
            let out = boot.bootstrap(&eval, &low, &keys).expect("bootstrap");
            let got = enc
                .decode(&sk.decrypt(&out).expect("decrypt"))
                .expect("decode");
            let stats = ckks::PrecisionStats::compare(&got, &tile(&x, enc.slots()));
            println!(
                "{preset:?}, {slots} slots: precision mean {:.1} bits, worst {:.1} bits; {} levels left at scale 2^{:.0}; {} Galois keys; {} threads",
                -stats.mean_error_log2,
                -stats.max_error_log2,
                out.level(),
                out.scale().log2(),
                keys.gks.len(),
                rayon::current_num_threads()
            );
            let name = format!("N{}", params.degree());
            group.bench_function(BenchmarkId::new(name, format!("{slots}-slots")), |b| {
                b.iter(|| boot.bootstrap(&eval, &low, &keys).expect("bootstrap"))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench, bootstrap);
criterion_main!(benches);
