//! Paillier benchmarks: keygen, encryption (plain, fast fixed-base, CRT),
//! decryption (single, portable core, batch), add and scalar multiply at
//! 2048 and 3072 bits, and batch throughput on one core and on all cores.
//!
//! Keys other than in the keygen group come from the fixed test primes, so
//! runs are comparable. Run with
//! `cargo bench --bench paillier` (about three minutes).

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use num_bigint::{BigInt, BigUint, RandBigInt};
use paillier::{test_keys, Bits, Ciphertext, FastEncryptor, ShortExponent};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

const BATCH: usize = 64;

fn rng() -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(0xbe4c)
}

fn keys(bits: u64) -> (paillier::PublicKey, paillier::SecretKey) {
    let pair = if bits == 2048 {
        test_keys::P1024
    } else {
        test_keys::P1536
    };
    match test_keys::keypair_from(pair) {
        Ok(k) => k,
        Err(e) => panic!("test key: {e}"),
    }
}

fn ok<T>(r: paillier::Result<T>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("benchmark setup failed: {e}"),
    }
}

fn bench_keygen(c: &mut Criterion) {
    let mut g = c.benchmark_group("paillier/keygen");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(8))
        .warm_up_time(Duration::from_millis(100));
    for (bits, b) in [(2048, Bits::B2048), (3072, Bits::B3072)] {
        let mut r = rng();
        g.bench_function(BenchmarkId::from_parameter(bits), |bch| {
            bch.iter(|| ok(paillier::SecretKey::generate(b, &mut r)))
        });
    }
    g.finish();
}

fn bench_ops(c: &mut Criterion) {
    for bits in [2048u64, 3072] {
        let (pk, sk) = keys(bits);
        let mut r = rng();
        let m = r.gen_biguint_below(pk.n());
        let fast = ok(FastEncryptor::new(&pk, ShortExponent::Security, &mut r));
        let ct = ok(pk.encrypt(&m, &mut r));
        let ct2 = ok(pk.encrypt(&m, &mut r));
        let k32 = BigInt::from(r.gen_biguint(32));
        let kfull = BigInt::from(r.gen_biguint_below(pk.n()));

        let mut g = c.benchmark_group(format!("paillier/{bits}"));
        g.sample_size(10)
            .measurement_time(Duration::from_secs(3))
            .warm_up_time(Duration::from_millis(500));
        g.bench_function("encrypt", |b| b.iter(|| ok(pk.encrypt(&m, &mut r))));
        g.bench_function("encrypt_fast", |b| b.iter(|| ok(fast.encrypt(&m, &mut r))));
        g.bench_function("encrypt_crt", |b| b.iter(|| ok(sk.encrypt_crt(&m, &mut r))));
        g.bench_function("decrypt", |b| b.iter(|| ok(sk.decrypt(&ct))));
        g.bench_function("decrypt_portable", |b| {
            b.iter(|| ok(sk.decrypt_portable(&ct)))
        });
        g.bench_function("add", |b| b.iter(|| ok(&ct + &ct2)));
        g.bench_function("add_plain", |b| b.iter(|| ok(ct.add_plain(&m))));
        g.bench_function("mul_scalar_32bit", |b| b.iter(|| ct.mul_scalar(&k32)));
        g.bench_function("mul_scalar_full", |b| b.iter(|| ct.mul_scalar(&kfull)));
        g.bench_function("rerandomize_fast", |b| {
            b.iter(|| ok(fast.rerandomize(&ct, &mut r)))
        });
        g.bench_function("serialize_roundtrip", |b| {
            b.iter(|| ok(pk.ciphertext_from_bytes(&ct.to_bytes())))
        });
        g.finish();
    }
}

fn bench_batch(c: &mut Criterion) {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    for bits in [2048u64, 3072] {
        let (pk, sk) = keys(bits);
        let mut r = rng();
        let fast = ok(FastEncryptor::new(&pk, ShortExponent::Security, &mut r));
        let ms: Vec<BigUint> = (0..BATCH).map(|_| r.gen_biguint_below(pk.n())).collect();
        let cts: Vec<Ciphertext> = ok(fast.encrypt_batch(&ms, &mut r));
        let cts2: Vec<Ciphertext> = ok(fast.encrypt_batch(&ms, &mut r));
        let mut g = c.benchmark_group(format!("paillier/{bits}/batch{BATCH}"));
        g.sample_size(10)
            .measurement_time(Duration::from_secs(4))
            .warm_up_time(Duration::from_millis(500));
        g.throughput(Throughput::Elements(BATCH as u64));
        for threads in [1usize, cores] {
            let pool = match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
                Ok(p) => p,
                Err(e) => panic!("rayon pool: {e}"),
            };
            let tag = format!("{threads}core");
            g.bench_function(format!("decrypt/{tag}"), |b| {
                b.iter(|| pool.install(|| ok(sk.decrypt_batch(&cts))))
            });
            g.bench_function(format!("encrypt_fast/{tag}"), |b| {
                b.iter_batched(
                    rng,
                    |mut rr| pool.install(|| ok(fast.encrypt_batch(&ms, &mut rr))),
                    BatchSize::SmallInput,
                )
            });
            g.bench_function(format!("encrypt_crt/{tag}"), |b| {
                b.iter_batched(
                    rng,
                    |mut rr| pool.install(|| ok(sk.encrypt_crt_batch(&ms, &mut rr))),
                    BatchSize::SmallInput,
                )
            });
            g.bench_function(format!("add/{tag}"), |b| {
                b.iter(|| pool.install(|| ok(paillier::add_batch(&cts, &cts2))))
            });
            if threads == cores {
                break;
            }
        }
        g.finish();
    }
}

criterion_group!(benches, bench_ops, bench_batch, bench_keygen);
criterion_main!(benches);
