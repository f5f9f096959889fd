//! Batch decryption (the 8-lane IFMA path on IFMA machines) against the
//! single-value paths and a textbook big-integer reference: fixed and
//! random keys at 2048 and 3072 bits, every batch size 1..=17 (full groups
//! of four and ragged tails), plaintexts at the ends of the range and raw
//! ciphertexts at the ends of `Z_{n^2}`.
#![allow(clippy::unwrap_used)]

mod common;

use num_bigint::{BigUint, RandBigInt};
use num_integer::Integer;
use num_traits::One;
use paillier::{test_keys, Bits, Ciphertext, PublicKey, SecretKey};

/// `L(c^λ mod n^2) μ mod n` with plain `BigUint::modpow`.
fn reference_decrypt(p: &BigUint, q: &BigUint, c: &BigUint) -> BigUint {
    let n = p * q;
    let nn = &n * &n;
    let lambda = (p - 1u32).lcm(&(q - 1u32));
    let l = |x: BigUint| (x - 1u32) / &n;
    let mu = l((&n + 1u32).modpow(&lambda, &nn)).modinv(&n).unwrap();
    (l(c.modpow(&lambda, &nn)) * mu) % &n
}

/// 17 ciphertexts: encryptions of 0, 1, n - 1, n - 2 and random values
/// (the range ends at several positions inside the groups of four), plus
/// the raw units 1, 2 and n^2 - 1.
fn ciphertexts(pk: &PublicKey, seed: u64) -> Vec<Ciphertext> {
    let mut rng = common::rng(seed);
    let n = pk.n();
    let nn = pk.n_squared();
    let mut ms: Vec<BigUint> = (0..14).map(|_| rng.gen_biguint_below(n)).collect();
    ms[0] = BigUint::from(0u32);
    ms[3] = n - 1u32;
    ms[6] = BigUint::one();
    ms[9] = n - 2u32;
    ms[13] = n - 1u32;
    let mut cts: Vec<Ciphertext> = ms
        .iter()
        .map(|m| {
            let r = pk.random_r(&mut rng);
            pk.encrypt_with_r(m, &r).unwrap()
        })
        .collect();
    for raw in [BigUint::one(), BigUint::from(2u32), nn - 1u32] {
        cts.insert(cts.len() / 2 + cts.len() % 3, pk.ciphertext(raw).unwrap());
    }
    assert_eq!(cts.len(), 17);
    cts
}

fn check_key(sk: &SecretKey, seed: u64) {
    let pk = sk.public_key();
    let (p, q) = sk.primes();
    let cts = ciphertexts(pk, seed);
    let expect: Vec<BigUint> = cts
        .iter()
        .map(|c| reference_decrypt(&p, &q, c.value()))
        .collect();
    for (c, e) in cts.iter().zip(&expect) {
        assert_eq!(&sk.decrypt(c).unwrap(), e, "decrypt");
        assert_eq!(&sk.decrypt_portable(c).unwrap(), e, "decrypt_portable");
    }
    for len in 1..=cts.len() {
        assert_eq!(
            sk.decrypt_batch(&cts[..len]).unwrap(),
            expect[..len],
            "batch of {len}, {} bits",
            pk.bits()
        );
    }
    // every offset of a ragged tail
    for start in 1..4 {
        assert_eq!(
            sk.decrypt_batch(&cts[start..]).unwrap(),
            expect[start..],
            "batch from {start}"
        );
    }
}

#[test]
fn fixed_keys_2048_and_3072() {
    for (i, pair) in [test_keys::P1024, test_keys::P1536].into_iter().enumerate() {
        let (_, sk) = test_keys::keypair_from(pair).unwrap();
        check_key(&sk, 100 + i as u64);
    }
}

#[test]
fn random_keys_2048() {
    let mut rng = common::rng(7);
    for seed in 0..2 {
        let sk = SecretKey::generate(Bits::B2048, &mut rng).unwrap();
        check_key(&sk, 200 + seed);
    }
}

#[test]
fn random_key_3072() {
    let mut rng = common::rng(8);
    let sk = SecretKey::generate(Bits::B3072, &mut rng).unwrap();
    check_key(&sk, 300);
}

#[test]
fn batch_results_do_not_depend_on_the_group() {
    // The same ciphertext decrypts the same in every lane of a group.
    let (pk, sk) = test_keys::keypair_from(test_keys::P1024).unwrap();
    let mut rng = common::rng(9);
    let m = rng.gen_biguint_below(pk.n());
    let c = pk.encrypt(&m, &mut rng).unwrap();
    let cts = vec![c; 9];
    assert!(sk.decrypt_batch(&cts).unwrap().iter().all(|d| d == &m));
}
