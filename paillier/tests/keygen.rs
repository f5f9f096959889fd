//! Real key generation (the only tests that generate primes).
#![allow(clippy::unwrap_used)]
mod common;

use num_bigint::BigUint;
use num_integer::Integer;
use num_traits::One;
use paillier::{keypair, keypair_with, Bits, KeyGenOptions};

#[test]
fn keygen_2048_has_the_promised_shape() {
    let mut rng = common::rng(11);
    let (pk, sk) = keypair(Bits::B2048, &mut rng).unwrap();
    assert_eq!(pk.bits(), 2048);
    let (p, q) = sk.primes();
    assert_ne!(p, q);
    assert_eq!(p.bits(), 1024);
    assert_eq!(q.bits(), 1024);
    assert_eq!(&(&p * &q), pk.n());
    assert!(pk.n().gcd(&((&p - 1u32) * (&q - 1u32))).is_one());
    let ct = pk.encrypt(&BigUint::from(31337u32), &mut rng).unwrap();
    assert_eq!(sk.decrypt(&ct).unwrap(), BigUint::from(31337u32));
}

#[test]
fn keygen_insecure_and_safe_primes() {
    let mut rng = common::rng(12);
    let (pk, sk) = keypair(Bits::Insecure(512), &mut rng).unwrap();
    assert_eq!(pk.bits(), 512);
    let (pk2, sk2) = keypair_with(
        KeyGenOptions {
            bits: Bits::Insecure(256),
            safe_primes: true,
        },
        &mut rng,
    )
    .unwrap();
    assert_eq!(pk2.bits(), 256);
    let (p, q) = sk2.primes();
    for x in [&p, &q] {
        let half = (x - 1u32) / 2u32;
        assert!(
            num_prime::nt_funcs::is_prime(&half, None).probably(),
            "safe prime"
        );
    }
    for (pk, sk) in [(&pk, &sk), (&pk2, &sk2)] {
        let ct = pk.encrypt_i64(-5, &mut rng).unwrap();
        assert_eq!(sk.decrypt_i64(&ct).unwrap(), -5);
    }
}
