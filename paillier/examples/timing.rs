//! Quick single-threaded timings (development aid; the criterion bench in
//! the workspace root is the reference). Reports wall time and process CPU
//! time per operation: on a shared machine the CPU time is the steadier one.
#![allow(clippy::unwrap_used)]
use num_bigint::RandBigInt;
use paillier::{test_keys, FastEncryptor, ShortExponent};
use rand::SeedableRng;
use std::time::Instant;

/// Process CPU time (user + system) in seconds, from /proc/self/stat.
fn cpu_time() -> f64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = s.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ut: f64 = f.get(11).and_then(|x| x.parse().ok()).unwrap_or(0.0);
    let st: f64 = f.get(12).and_then(|x| x.parse().ok()).unwrap_or(0.0);
    (ut + st) / 100.0
}

fn time<F: FnMut()>(name: &str, per_call: usize, mut f: F) {
    f();
    let t = Instant::now();
    let c = cpu_time();
    let mut n = 0usize;
    // at least ~1 s of CPU time so the 10 ms accounting tick does not matter
    while cpu_time() - c < 1.0 {
        f();
        n += per_call;
    }
    let wall = t.elapsed().as_secs_f64() * 1e3 / n as f64;
    let cpu = (cpu_time() - c) * 1e3 / n as f64;
    println!("{name:<24} wall {wall:>9.3} ms   cpu {cpu:>9.3} ms");
}

fn main() {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
    let only: Option<String> = std::env::args().nth(1);
    for pair in [test_keys::P1024, test_keys::P1536] {
        let (pk, sk) = test_keys::keypair_from(pair).unwrap();
        println!("== n = {} bits", pk.bits());
        let run = |name: &str| only.as_deref().is_none_or(|o| name.contains(o));
        let m = rng.gen_biguint_below(pk.n());
        let ct = pk.encrypt(&m, &mut rng).unwrap();
        if run("encrypt") {
            time("encrypt", 1, || {
                pk.encrypt(&m, &mut rng).unwrap();
            });
            let fast = FastEncryptor::new(&pk, ShortExponent::Security, &mut rng).unwrap();
            time("encrypt fast", 1, || {
                fast.encrypt(&m, &mut rng).unwrap();
            });
            time("encrypt crt", 1, || {
                sk.encrypt_crt(&m, &mut rng).unwrap();
            });
        }
        if run("decrypt") {
            time("decrypt portable", 1, || {
                sk.decrypt_portable(&ct).unwrap();
            });
            time("decrypt", 1, || {
                sk.decrypt(&ct).unwrap();
            });
            let cts: Vec<_> = (0..16).map(|_| ct.clone()).collect();
            time("decrypt batch (per ct)", 16, || {
                sk.decrypt_batch(&cts).unwrap();
            });
        }
        if run("ops") {
            time("add", 1, || {
                let _ = (&ct + &ct).unwrap();
            });
            let k = num_bigint::BigInt::from(rng.gen_biguint(32));
            time("mul 32-bit scalar", 1, || {
                let _ = ct.mul_scalar(&k);
            });
        }
    }
}
