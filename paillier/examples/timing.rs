//! Quick single-threaded timings (development aid; the criterion bench in
//! the workspace root is the reference).
#![allow(clippy::unwrap_used)]
use num_bigint::RandBigInt;
use paillier::{test_keys, FastEncryptor, ShortExponent};
use rand::SeedableRng;
use std::time::Instant;

fn time<F: FnMut()>(name: &str, reps: usize, mut f: F) {
    f();
    let t = Instant::now();
    for _ in 0..reps {
        f();
    }
    println!(
        "{name:<28} {:>10.3} ms",
        t.elapsed().as_secs_f64() * 1e3 / reps as f64
    );
}

fn main() {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
    for pair in [test_keys::P1024, test_keys::P1536] {
        let (pk, sk) = test_keys::keypair_from(pair).unwrap();
        println!("== n = {} bits", pk.bits());
        let m = rng.gen_biguint_below(pk.n());
        let ct = pk.encrypt(&m, &mut rng).unwrap();
        time("encrypt", 5, || {
            pk.encrypt(&m, &mut rng).unwrap();
        });
        let fast = FastEncryptor::new(&pk, ShortExponent::Security, &mut rng).unwrap();
        time("encrypt fast", 20, || {
            fast.encrypt(&m, &mut rng).unwrap();
        });
        time("encrypt crt", 10, || {
            sk.encrypt_crt(&m, &mut rng).unwrap();
        });
        time("decrypt portable", 5, || {
            sk.decrypt_portable(&ct).unwrap();
        });
        time("decrypt", 10, || {
            sk.decrypt(&ct).unwrap();
        });
        let cts: Vec<_> = (0..16).map(|_| ct.clone()).collect();
        time("decrypt batch /16", 2, || {
            sk.decrypt_batch(&cts).unwrap();
        });
        time("add", 1000, || {
            let _ = (&ct + &ct).unwrap();
        });
        let k = num_bigint::BigInt::from(rng.gen_biguint(32));
        time("mul 32-bit scalar", 100, || {
            let _ = ct.mul_scalar(&k);
        });
        let (p, _) = sk.primes();
        let p2 = &p * &p;
        let x = rng.gen_biguint_below(&p2);
        let e = &p - 1u32;
        time("num-bigint modpow p^2", 5, || {
            let _ = x.modpow(&e, &p2);
        });
        time("mont ct modpow p^2", 5, || {
            let _ = paillier::__bench::modpow_ct(&x, &e, &p2);
        });
    }
}
