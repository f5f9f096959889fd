//! NTT benchmarks: hekit's `rlwe::ntt::NttPlan` wrapper against the same calls
//! made directly on `tfhe_ntt::prime64::Plan`, and the full RNS polynomial
//! transform (`Poly::to_ntt` / `Poly::to_coeff`, rayon over limbs) on one
//! thread and on two, against 8 raw single-limb transforms.
//!
//! Run with `cargo bench --bench ntt` (a filter such as `-- rns` selects a
//! group). Bench IDs read as `ntt-forward/<who>/<prime>/<N>`,
//! `ntt-backward/<who>/<prime>/<N>` and `rns-n16384-8x50bit/<op>/<who>/<threads>`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use rand::{Rng, SeedableRng};
use rlwe::ntt::NttPlan;
use rlwe::poly::{Poly, Representation, RingContext};
use rlwe::zq::generate_primes;

const LOG_DEGREES: std::ops::RangeInclusive<u32> = 12..=16;
const MAX_DEGREE: usize = 1 << 16;
const RNS_DEGREE: usize = 1 << 14;
const RNS_LIMBS: usize = 8;

/// One sub-2^50 prime (tfhe-ntt's IFMA kernels) and one 60-bit prime (64-bit
/// kernels), both ≡ 1 mod 2^17 so they serve every degree up to 2^16.
fn primes() -> [(&'static str, u64); 2] {
    let p50 = generate_primes(&[50], MAX_DEGREE, &[]).expect("50-bit NTT prime");
    let p60 = generate_primes(&[60], MAX_DEGREE, &[]).expect("60-bit NTT prime");
    [("50-bit", p50[0]), ("60-bit", p60[0])]
}

fn random_vec(n: usize, p: u64, seed: u64) -> Vec<u64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| rng.gen_range(0..p)).collect()
}

fn single_prime(c: &mut Criterion) {
    let primes = primes();
    for (label, p) in primes {
        let plan = NttPlan::new(MAX_DEGREE, p).expect("plan");
        eprintln!(
            "prime {label}: p = {p} (log2 p = {:.3}), IFMA kernels: {}",
            (p as f64).log2(),
            plan.uses_ifma()
        );
    }

    let mut fwd = c.benchmark_group("ntt-forward");
    fwd.sample_size(40)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1200));
    for (label, p) in primes {
        for log_n in LOG_DEGREES {
            let n = 1usize << log_n;
            let ours = NttPlan::new(n, p).expect("plan");
            let raw = tfhe_ntt::prime64::Plan::try_new(n, p).expect("tfhe plan");
            let mut a = random_vec(n, p, log_n as u64);
            fwd.bench_with_input(BenchmarkId::new(format!("ours/{label}"), n), &n, |b, _| {
                b.iter(|| ours.forward(black_box(&mut a)))
            });
            fwd.bench_with_input(
                BenchmarkId::new(format!("tfhe-raw/{label}"), n),
                &n,
                |b, _| b.iter(|| raw.fwd(black_box(&mut a))),
            );
        }
    }
    fwd.finish();

    let mut bwd = c.benchmark_group("ntt-backward");
    bwd.sample_size(40)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1200));
    for (label, p) in primes {
        for log_n in LOG_DEGREES {
            let n = 1usize << log_n;
            let ours = NttPlan::new(n, p).expect("plan");
            let raw = tfhe_ntt::prime64::Plan::try_new(n, p).expect("tfhe plan");
            let mut a = random_vec(n, p, log_n as u64);
            bwd.bench_with_input(BenchmarkId::new(format!("ours/{label}"), n), &n, |b, _| {
                b.iter(|| ours.backward(black_box(&mut a)))
            });
            bwd.bench_with_input(
                BenchmarkId::new(format!("tfhe-raw-inv+normalize/{label}"), n),
                &n,
                |b, _| {
                    b.iter(|| {
                        raw.inv(black_box(&mut a));
                        raw.normalize(&mut a);
                    })
                },
            );
            bwd.bench_with_input(
                BenchmarkId::new(format!("tfhe-raw-inv-only/{label}"), n),
                &n,
                |b, _| b.iter(|| raw.inv(black_box(&mut a))),
            );
        }
    }
    bwd.finish();
}

fn full_rns(c: &mut Criterion) {
    let n = RNS_DEGREE;
    let moduli = generate_primes(&[50; RNS_LIMBS], n, &[]).expect("RNS primes");
    let ctx = RingContext::new(n, &moduli).expect("ring");
    let raw: Vec<tfhe_ntt::prime64::Plan> = moduli
        .iter()
        .map(|&q| tfhe_ntt::prime64::Plan::try_new(n, q).expect("tfhe plan"))
        .collect();
    let mut data = Vec::with_capacity(RNS_LIMBS * n);
    for (i, &q) in moduli.iter().enumerate() {
        data.extend(random_vec(n, q, 100 + i as u64));
    }
    let coeff = Poly::from_limbs(&ctx, Representation::Coefficient, data.clone()).expect("poly");

    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    let mut threads = vec![1usize, 2];
    if cores > 2 {
        threads.push(cores);
    }
    let pools: Vec<(usize, rayon::ThreadPool)> = threads
        .into_iter()
        .map(|t| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .expect("rayon pool");
            (t, pool)
        })
        .collect();
    eprintln!("full RNS: N = {n}, {RNS_LIMBS} limbs {moduli:?}, {cores} cores available");

    let mut g = c.benchmark_group(format!("rns-n{n}-{RNS_LIMBS}x50bit"));
    g.sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));

    // Steady state: forward and backward alternate on one polynomial and only
    // one direction is timed, so the data and the pool's workers are as a
    // pipeline of RNS operations leaves them. The raw tfhe-ntt reference runs
    // the same alternation, limb after limb on one thread.
    for (dir, forward) in [("forward", true), ("backward", false)] {
        for (t, pool) in &pools {
            let mut p = coeff.clone();
            g.bench_function(
                BenchmarkId::new(format!("{dir}/poly"), format!("{t}-thread")),
                |b| pool.install(|| b.iter_custom(|iters| alternate_poly(&mut p, iters, forward))),
            );
        }
        let mut d = data.clone();
        g.bench_function(
            BenchmarkId::new(format!("{dir}/tfhe-raw-8x-single-limb"), "1-thread"),
            |b| b.iter_custom(|iters| alternate_raw(&raw, &mut d, iters, forward)),
        );
    }

    // Fresh copy: every call transforms a new copy of the coefficient-form
    // polynomial, made by one thread just before (outside the timed region),
    // after which the pool's other workers have gone idle. This is the case of
    // a lone NTT after sequential work.
    for (t, pool) in &pools {
        g.bench_function(
            BenchmarkId::new("forward-fresh-copy/poly", format!("{t}-thread")),
            |b| {
                pool.install(|| {
                    b.iter_batched_ref(|| coeff.clone(), |p| p.to_ntt(), BatchSize::PerIteration)
                })
            },
        );
    }
    g.bench_function(
        BenchmarkId::new("forward-fresh-copy/tfhe-raw-8x-single-limb", "1-thread"),
        |b| {
            b.iter_batched_ref(
                || data.clone(),
                |d| {
                    for (limb, plan) in d.chunks_exact_mut(n).zip(&raw) {
                        plan.fwd(limb);
                    }
                },
                BatchSize::PerIteration,
            )
        },
    );
    g.finish();
}

/// Runs `iters` forward/backward pairs on `p`, timing only one direction.
fn alternate_poly(p: &mut Poly, iters: u64, time_forward: bool) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        for forward in [true, false] {
            let start = Instant::now();
            if forward {
                black_box(&mut *p).to_ntt();
            } else {
                black_box(&mut *p).to_coeff();
            }
            if forward == time_forward {
                total += start.elapsed();
            }
        }
    }
    total
}

/// The same alternation with the raw tfhe-ntt calls, one limb after another.
fn alternate_raw(
    plans: &[tfhe_ntt::prime64::Plan],
    data: &mut [u64],
    iters: u64,
    time_forward: bool,
) -> Duration {
    let n = data.len() / plans.len();
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        for forward in [true, false] {
            let start = Instant::now();
            for (limb, plan) in black_box(&mut *data).chunks_exact_mut(n).zip(plans) {
                if forward {
                    plan.fwd(limb);
                } else {
                    plan.inv(limb);
                    plan.normalize(limb);
                }
            }
            if forward == time_forward {
                total += start.elapsed();
            }
        }
    }
    total
}

criterion_group!(benches, single_prime, full_rns);
criterion_main!(benches);
