//! Known-answer tests: every ciphertext and plaintext is checked against an
//! independent computation with num-bigint's `modpow` (textbook formulas,
//! no code shared with the crate).
#![allow(clippy::unwrap_used)]
mod common;

use num_bigint::{BigUint, RandBigInt};
use num_integer::Integer;
use num_traits::One;
use paillier::{test_keys, FastEncryptor, SecretKey, ShortExponent};

/// Textbook Paillier with g = n + 1, straight from the definitions.
fn reference_encrypt(n: &BigUint, m: &BigUint, r: &BigUint) -> BigUint {
    let nn = n * n;
    let g = n + 1u32;
    (g.modpow(m, &nn) * r.modpow(n, &nn)) % &nn
}

/// Textbook decryption: m = L(c^λ mod n^2) · μ mod n, λ = lcm(p-1, q-1).
fn reference_decrypt(p: &BigUint, q: &BigUint, c: &BigUint) -> BigUint {
    let n = p * q;
    let nn = &n * &n;
    let lambda = (p - 1u32).lcm(&(q - 1u32));
    let l = |x: BigUint| (x - 1u32) / &n;
    let mu = l((&n + 1u32).modpow(&lambda, &nn)).modinv(&n).unwrap();
    (l(c.modpow(&lambda, &nn)) * mu) % &n
}

fn check_pair(pair: (&str, &str), seed: u64) {
    let (p, q) = test_keys::primes(pair);
    let sk = SecretKey::from_primes(p.clone(), q.clone()).unwrap();
    let pk = sk.public_key().clone();
    let n = &p * &q;
    assert_eq!(pk.n(), &n);
    let mut rng = common::rng(seed);
    let n_minus_1 = &n - 1u32;
    let ms = [
        BigUint::from(0u32),
        BigUint::one(),
        BigUint::from(123456789u64),
        n_minus_1.clone(),
        rng.gen_biguint_below(&n),
    ];
    for m in ms.iter() {
        let r = pk.random_r(&mut rng);
        let ct = pk.encrypt_with_r(m, &r).unwrap();
        let expect = reference_encrypt(&n, m, &r);
        assert_eq!(
            ct.value(),
            &expect,
            "ciphertext differs from (1+n)^m r^n mod n^2"
        );
        // decryption of a ciphertext built outside the crate
        let ext = pk.ciphertext(expect.clone()).unwrap();
        assert_eq!(&sk.decrypt(&ext).unwrap(), m);
        assert_eq!(&reference_decrypt(&p, &q, &expect), m);
    }
}

#[test]
fn encrypt_with_r_matches_reference_2048() {
    check_pair(test_keys::P1024, 1);
}

#[test]
fn encrypt_with_r_matches_reference_3072() {
    check_pair(test_keys::P1536, 2);
}

#[test]
fn encrypt_with_r_matches_reference_small() {
    let (p, q) = test_keys::primes(test_keys::P128);
    let sk = SecretKey::from_primes_insecure(p.clone(), q.clone()).unwrap();
    let pk = sk.public_key();
    let n = &p * &q;
    // fixed m and r
    let m = BigUint::from(42u32);
    let r = BigUint::from(0x1234_5678_9abc_def1u64);
    let ct = pk.encrypt_with_r(&m, &r).unwrap();
    assert_eq!(ct.value(), &reference_encrypt(&n, &m, &r));
    assert_eq!(sk.decrypt(&ct).unwrap(), m);
}

#[test]
fn randomized_paths_decrypt_to_reference() {
    let (pk, sk) = common::key2048();
    let (p, q) = sk.primes();
    let mut rng = common::rng(3);
    let fast = FastEncryptor::new(pk, ShortExponent::Security, &mut rng).unwrap();
    let djn = FastEncryptor::new(pk, ShortExponent::HalfModulus, &mut rng).unwrap();
    assert_eq!(fast.exponent_bits(), 224);
    assert_eq!(djn.exponent_bits(), 1024);
    for _ in 0..4 {
        let m = rng.gen_biguint_below(pk.n());
        for ct in [
            pk.encrypt(&m, &mut rng).unwrap(),
            sk.encrypt_crt(&m, &mut rng).unwrap(),
            fast.encrypt(&m, &mut rng).unwrap(),
            djn.encrypt(&m, &mut rng).unwrap(),
        ] {
            // a valid unit of Z_{n^2}, decrypting to m under both algorithms
            assert!(pk.ciphertext(ct.value().clone()).is_ok());
            assert_eq!(reference_decrypt(&p, &q, ct.value()), m);
            assert_eq!(sk.decrypt(&ct).unwrap(), m);
        }
    }
    // fresh randomness each time
    let m = BigUint::from(7u32);
    assert_ne!(
        fast.encrypt(&m, &mut rng).unwrap(),
        fast.encrypt(&m, &mut rng).unwrap()
    );
    assert_ne!(
        sk.encrypt_crt(&m, &mut rng).unwrap(),
        sk.encrypt_crt(&m, &mut rng).unwrap()
    );
}

#[test]
fn crt_encryption_noise_is_an_nth_residue() {
    // Enc_crt(0) must be r^n mod n^2 for some r: raising it to λ gives 1.
    let (pk, sk) = common::key2048();
    let (p, q) = sk.primes();
    let lambda = (&p - 1u32).lcm(&(&q - 1u32));
    let mut rng = common::rng(4);
    let ct = sk.encrypt_crt(&BigUint::from(0u32), &mut rng).unwrap();
    assert_eq!(ct.value().modpow(&lambda, pk.n_squared()), BigUint::one());
    // the batch path (8-lane IFMA groups of 4 when available)
    let zeros = vec![BigUint::from(0u32); 7];
    let cts = sk.encrypt_crt_batch(&zeros, &mut rng).unwrap();
    for ct in &cts {
        assert_eq!(ct.value().modpow(&lambda, pk.n_squared()), BigUint::one());
    }
    assert_ne!(cts[0], cts[1]);
}

#[test]
fn batch_paths_agree_with_single() {
    let (pk, sk) = common::key2048();
    let mut rng = common::rng(5);
    let ms: Vec<BigUint> = (0..19).map(|_| rng.gen_biguint_below(pk.n())).collect();
    let cts = pk.encrypt_batch(&ms, &mut rng).unwrap();
    assert_eq!(sk.decrypt_batch(&cts).unwrap(), ms);
    let cts2 = sk.encrypt_crt_batch(&ms, &mut rng).unwrap();
    let sums = paillier::add_batch(&cts, &cts2).unwrap();
    let dec = sk.decrypt_batch(&sums).unwrap();
    for (d, m) in dec.iter().zip(&ms) {
        assert_eq!(d, &((m + m) % pk.n()));
    }
    let total = paillier::sum(&cts).unwrap();
    let expect = ms.iter().fold(BigUint::from(0u32), |a, m| (a + m) % pk.n());
    assert_eq!(sk.decrypt(&total).unwrap(), expect);
}

#[test]
fn ifma_and_portable_decryption_agree() {
    // On IFMA machines `decrypt` / `decrypt_batch` take the 8-lane path;
    // `decrypt_portable` always uses the 64-bit core. Both must equal the
    // textbook result, for every group size 1..=9.
    for pair in [test_keys::P1024, test_keys::P1536] {
        let (pk, sk) = test_keys::keypair_from(pair).unwrap();
        let (p, q) = sk.primes();
        let mut rng = common::rng(21);
        let cts: Vec<_> = (0..9)
            .map(|_| {
                let r = pk.random_r(&mut rng);
                pk.encrypt_with_r(&rng.gen_biguint_below(pk.n()), &r)
                    .unwrap()
            })
            .collect();
        let expect: Vec<BigUint> = cts
            .iter()
            .map(|c| reference_decrypt(&p, &q, c.value()))
            .collect();
        for (c, e) in cts.iter().zip(&expect) {
            assert_eq!(&sk.decrypt(c).unwrap(), e);
            assert_eq!(&sk.decrypt_portable(c).unwrap(), e);
        }
        for len in 1..=cts.len() {
            assert_eq!(sk.decrypt_batch(&cts[..len]).unwrap(), expect[..len]);
        }
    }
}
