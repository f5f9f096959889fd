//! Real key generation (the only tests that generate primes).
#![allow(clippy::unwrap_used)]
mod common;

use num_bigint::BigUint;
use num_integer::Integer;
use num_traits::One;
use paillier::{Bits, KeyGenOptions, SecretKey};

#[test]
fn keygen_2048_has_the_promised_shape() {
    let mut rng = common::rng(11);
    let sk = SecretKey::generate(Bits::B2048, &mut rng).unwrap();
    let pk = sk.public_key().clone();
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
    let sk = SecretKey::generate(Bits::Insecure(512), &mut rng).unwrap();
    let pk = sk.public_key().clone();
    assert_eq!(pk.bits(), 512);
    let sk2 = SecretKey::generate_with(
        KeyGenOptions {
            bits: Bits::Insecure(256),
            safe_primes: true,
        },
        &mut rng,
    )
    .unwrap();
    let pk2 = sk2.public_key().clone();
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

/// The deprecated names still work for one release and give the same keys'
/// shape.
#[test]
#[allow(deprecated)]
fn deprecated_keypair_aliases_still_work() {
    let mut rng = common::rng(13);
    let (pk, sk): (paillier::PublicKey, paillier::PrivateKey) =
        paillier::keypair(Bits::Insecure(256), &mut rng).unwrap();
    assert_eq!(sk.public_key(), &pk);
    let ct = pk.encrypt_i64(42, &mut rng).unwrap();
    assert_eq!(sk.decrypt_i64(&ct).unwrap(), 42);
    assert!(matches!(
        paillier::keypair(Bits::Insecure(33), &mut rng),
        Err(paillier::Error::InsecureKeySize { bits: 33 })
    ));
}
