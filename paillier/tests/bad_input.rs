//! Bad input: each case returns its specific error variant.
#![allow(clippy::unwrap_used)]
mod common;

use num_bigint::{BigInt, BigUint};
use num_traits::One;
use paillier::{
    test_keys, Bits, Error, FastEncryptor, Packer, PublicKey, SecretKey, ShortExponent,
};

#[test]
fn plaintext_not_below_n() {
    let (pk, sk) = common::key2048();
    let mut rng = common::rng(1);
    let n = pk.n().clone();
    assert!(matches!(
        pk.encrypt(&n, &mut rng),
        Err(Error::PlaintextOutOfRange { n_bits: 2048 })
    ));
    assert!(matches!(
        pk.encrypt(&(&n + 5u32), &mut rng),
        Err(Error::PlaintextOutOfRange { .. })
    ));
    assert!(matches!(
        pk.encrypt_with_r(&n, &BigUint::from(3u32)),
        Err(Error::PlaintextOutOfRange { .. })
    ));
    assert!(matches!(
        sk.encrypt_crt(&n, &mut rng),
        Err(Error::PlaintextOutOfRange { .. })
    ));
    let fast = FastEncryptor::new(pk, ShortExponent::Security, &mut rng).unwrap();
    assert!(matches!(
        fast.encrypt(&n, &mut rng),
        Err(Error::PlaintextOutOfRange { .. })
    ));
    let ct = pk.encrypt(&BigUint::one(), &mut rng).unwrap();
    assert!(matches!(
        ct.add_plain(&n),
        Err(Error::PlaintextOutOfRange { .. })
    ));
}

#[test]
fn signed_out_of_range_and_overflow() {
    let (pk, sk) = common::key2048();
    let mut rng = common::rng(2);
    let max = BigInt::from(pk.max_int().clone());
    assert!(matches!(
        pk.encrypt_int(&(&max + 1), &mut rng),
        Err(Error::EncodingOutOfRange)
    ));
    assert!(matches!(
        pk.encrypt_int(&(-&max - 1), &mut rng),
        Err(Error::EncodingOutOfRange)
    ));
    let c = pk.encrypt_int(&max, &mut rng).unwrap();
    assert_eq!(sk.decrypt_int(&c).unwrap(), max);
    // max + max lands in the gap: reported, not wrapped
    let s = (&c + &c).unwrap();
    assert!(matches!(sk.decrypt_int(&s), Err(Error::Overflow)));
    let neg = pk.encrypt_int(&-&max, &mut rng).unwrap();
    assert!(matches!(
        sk.decrypt_int(&(&neg + &neg).unwrap()),
        Err(Error::Overflow)
    ));
    assert!(matches!(sk.decrypt_i64(&c), Err(Error::DoesNotFit { .. })));
    assert!(matches!(
        pk.encrypt_f64(f64::NAN, &mut rng),
        Err(Error::NonFinite)
    ));
    assert!(matches!(
        pk.encrypt_f64(f64::INFINITY, &mut rng),
        Err(Error::NonFinite)
    ));
    // exponent alignment whose factor 16^diff alone exceeds n (1024-bit key)
    let (pk1, _) = common::key1024();
    let a = pk1.encrypt_f64(1e300, &mut rng).unwrap();
    let b = pk1.encrypt_f64(1e-300, &mut rng).unwrap();
    assert!(matches!(a.add(&b), Err(Error::Overflow)));
}

#[test]
fn hostile_exponents_fail_fast() {
    use paillier::EncodedNumber;
    // Exponents can arrive in bytes; aligning them must not allocate
    // gigabytes.
    let big = EncodedNumber::new(BigInt::from(1), i32::MAX);
    assert!(matches!(
        big.decrease_exponent_to(-14),
        Err(Error::EncodingOutOfRange)
    ));
    assert!(matches!(big.to_int(), Err(Error::DoesNotFit { .. })));
    let tiny = EncodedNumber::new(BigInt::from(1), i32::MIN);
    assert!(matches!(tiny.to_int(), Err(Error::DoesNotFit { .. })));
    assert_eq!(tiny.to_f64().unwrap(), 0.0);
    assert!(big.to_f64().is_err());
    assert!(matches!(
        EncodedNumber::from_f64_with_exponent(1.5, i32::MIN),
        Err(Error::EncodingOutOfRange)
    ));
    let zero = EncodedNumber::new(BigInt::from(0), i32::MAX);
    assert_eq!(
        zero.decrease_exponent_to(i32::MIN).unwrap().mantissa(),
        &BigInt::from(0)
    );
    let (pk, sk) = common::key1024();
    let x = pk.encrypt_f64(1.25, &mut common::rng(8)).unwrap();
    let hostile = EncodedNumber::from_bytes(&big.to_bytes()).unwrap();
    assert!(matches!(
        x.add_encoded(&hostile),
        Err(Error::EncodingOutOfRange)
    ));
    // 1.25 * 16^(2^31 - 1) is representable as an (exponent, mantissa) pair
    // but not as an f64
    let p = x.mul_encoded(&hostile).unwrap();
    assert!(matches!(sk.decrypt_f64(&p), Err(Error::DoesNotFit { .. })));
    let again = p.mul_encoded(&hostile);
    assert!(matches!(again, Err(Error::Overflow)));
}

#[test]
fn invalid_ciphertext_values() {
    let (pk, sk) = common::key2048();
    let (p, _q) = sk.primes();
    assert!(matches!(
        pk.ciphertext(BigUint::from(0u32)),
        Err(Error::InvalidCiphertext { .. })
    ));
    assert!(matches!(
        pk.ciphertext(pk.n_squared().clone()),
        Err(Error::InvalidCiphertext { .. })
    ));
    assert!(matches!(
        pk.ciphertext(pk.n_squared() + 1u32),
        Err(Error::InvalidCiphertext { .. })
    ));
    assert!(matches!(
        pk.ciphertext(p.clone()),
        Err(Error::InvalidCiphertext { .. })
    ));
    assert!(matches!(
        pk.ciphertext(pk.n().clone()),
        Err(Error::InvalidCiphertext { .. })
    ));
    assert!(pk.ciphertext(BigUint::one()).is_ok());
    // through bytes too: a wire ciphertext equal to p
    let good = pk.encrypt(&BigUint::one(), &mut common::rng(3)).unwrap();
    let mut bytes = good.to_bytes();
    let len = bytes.len();
    let pb = p.to_bytes_be();
    let clen = pk.n_squared().bits().div_ceil(8) as usize;
    for b in bytes[len - clen..].iter_mut() {
        *b = 0;
    }
    bytes[len - pb.len()..].copy_from_slice(&pb);
    assert!(matches!(
        pk.ciphertext_from_bytes(&bytes),
        Err(Error::InvalidCiphertext { .. })
    ));
    for b in bytes[len - clen..].iter_mut() {
        *b = 0;
    }
    assert!(matches!(
        pk.ciphertext_from_bytes(&bytes),
        Err(Error::InvalidCiphertext { .. })
    ));
    for b in bytes[len - clen..].iter_mut() {
        *b = 0xff;
    }
    assert!(matches!(
        pk.ciphertext_from_bytes(&bytes),
        Err(Error::InvalidCiphertext { .. })
    ));
}

#[test]
fn ciphertexts_under_different_keys() {
    let (pk, sk) = common::key2048();
    let (pk_b, sk_b) = common::key2048_b();
    let mut rng = common::rng(4);
    let a = pk.encrypt(&BigUint::from(5u32), &mut rng).unwrap();
    let b = pk_b.encrypt(&BigUint::from(6u32), &mut rng).unwrap();
    assert!(matches!(&a + &b, Err(Error::KeyMismatch)));
    assert!(matches!(&a - &b, Err(Error::KeyMismatch)));
    assert!(matches!(sk.decrypt(&b), Err(Error::KeyMismatch)));
    assert!(matches!(sk_b.decrypt(&a), Err(Error::KeyMismatch)));
    assert!(matches!(
        sk.decrypt_batch(&[a.clone(), b.clone()]),
        Err(Error::KeyMismatch)
    ));
    assert!(matches!(
        paillier::add_batch(std::slice::from_ref(&a), std::slice::from_ref(&b)),
        Err(Error::KeyMismatch)
    ));
    assert!(matches!(
        pk.ciphertext_from_bytes(&b.to_bytes()),
        Err(Error::KeyMismatch)
    ));
    let fa = pk.encrypt_f64(1.5, &mut rng).unwrap();
    let fb = pk_b.encrypt_f64(1.5, &mut rng).unwrap();
    assert!(matches!(fa.add(&fb), Err(Error::KeyMismatch)));
    let fast = FastEncryptor::new(pk, ShortExponent::Security, &mut rng).unwrap();
    assert!(matches!(
        fast.rerandomize(&b, &mut rng),
        Err(Error::KeyMismatch)
    ));
    assert!(matches!(
        paillier::add_batch(std::slice::from_ref(&a), &[]),
        Err(Error::LengthMismatch { left: 1, right: 0 })
    ));
}

#[test]
fn truncated_trailing_and_unknown_version() {
    let (pk, sk) = common::key2048();
    let ct = pk
        .encrypt(&BigUint::from(9u32), &mut common::rng(5))
        .unwrap();
    let bytes = ct.to_bytes();
    for cut in [0, 1, 2, 10, bytes.len() - 1] {
        assert!(
            matches!(
                pk.ciphertext_from_bytes(&bytes[..cut]),
                Err(Error::Malformed { .. })
            ),
            "cut {cut}"
        );
    }
    let mut long = bytes.clone();
    long.push(0);
    assert!(matches!(
        pk.ciphertext_from_bytes(&long),
        Err(Error::Malformed { .. })
    ));
    let mut v3 = bytes.clone();
    assert_eq!(
        v3[0], 2,
        "the version (a postcard varint, one byte below 128) comes first"
    );
    v3[0] = 3;
    assert!(matches!(
        pk.ciphertext_from_bytes(&v3),
        Err(Error::UnknownVersion {
            found: 3,
            expected: 2
        })
    ));

    let pkb = pk.to_bytes();
    assert!(matches!(
        PublicKey::from_bytes(&pkb[..pkb.len() - 3]),
        Err(Error::Malformed { .. })
    ));
    // version 257: a two-byte varint in place of the one-byte version 2
    let mut v = vec![0x81, 0x02];
    v.extend_from_slice(&pkb[1..]);
    assert!(matches!(
        PublicKey::from_bytes(&v),
        Err(Error::UnknownVersion { found: 257, .. })
    ));
    let skb = sk.to_bytes();
    assert!(matches!(
        SecretKey::from_bytes(&skb[..skb.len() / 2]),
        Err(Error::Malformed { .. })
    ));
    let mut v = skb.clone();
    v[0] = 9;
    assert!(matches!(
        SecretKey::from_bytes(&v),
        Err(Error::UnknownVersion { found: 9, .. })
    ));
    let e = paillier::EncodedNumber::from_f64(2.75).unwrap().to_bytes();
    assert!(matches!(
        paillier::EncodedNumber::from_bytes(&e[..e.len() - 1]),
        Err(Error::Malformed { .. })
    ));
    // oversized length prefix
    let mut huge = bytes.clone();
    huge[10..18].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(matches!(
        pk.ciphertext_from_bytes(&huge),
        Err(Error::Malformed { .. })
    ));
}

#[test]
fn insecure_and_invalid_keys() {
    let (p, q) = test_keys::primes(test_keys::P512);
    assert!(matches!(
        SecretKey::from_primes(p.clone(), q.clone()),
        Err(Error::InsecureKeySize { bits: 1024 })
    ));
    assert!(SecretKey::from_primes_insecure(p.clone(), q.clone()).is_ok());
    assert!(matches!(
        PublicKey::from_n(&p * &q),
        Err(Error::InsecureKeySize { bits: 1024 })
    ));
    assert!(PublicKey::from_n_insecure(&p * &q).is_ok());
    let mut rng = common::rng(6);
    assert!(matches!(
        paillier::SecretKey::generate(Bits::Insecure(32), &mut rng),
        Err(Error::InsecureKeySize { bits: 32 })
    ));
    assert!(matches!(
        paillier::SecretKey::generate(Bits::Insecure(16384), &mut rng),
        Err(Error::InsecureKeySize { .. })
    ));
    let (p2, q2) = test_keys::primes(test_keys::P1024);
    assert!(matches!(
        SecretKey::from_primes(p2.clone(), p2.clone()),
        Err(Error::InvalidKey { .. })
    ));
    assert!(matches!(
        SecretKey::from_primes(p2.clone(), &q2 * 3u32),
        Err(Error::InvalidKey { .. })
    ));
    assert!(matches!(
        PublicKey::from_n(&p2 * &q2 * 2u32),
        Err(Error::InvalidKey { .. })
    ));
    assert!(matches!(
        PublicKey::from_n(&p2 * &q2 * 3u32),
        Err(Error::InvalidKey { .. } | Error::InsecureKeySize { .. })
    ));
    // an insecure key whose opt-out flag is removed in transit is refused
    let pk_small = PublicKey::from_n_insecure(&p * &q).unwrap();
    let mut b = pk_small.to_bytes();
    // version 2 (one varint byte), then the insecure flag
    assert_eq!((b[0], b[1]), (2, 1));
    b[1] = 0;
    assert!(matches!(
        PublicKey::from_bytes(&b),
        Err(Error::InsecureKeySize { bits: 1024 })
    ));
    let (pk, _) = common::key2048();
    assert!(matches!(
        FastEncryptor::new(pk, ShortExponent::Bits(64), &mut rng),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        pk.encrypt_with_r(&BigUint::one(), &BigUint::from(0u32)),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        pk.encrypt_with_r(&BigUint::one(), &p2),
        Err(Error::InvalidParameter { .. })
    ));
}

#[test]
fn packing_limits() {
    let (pk, sk) = common::key1024();
    let mut rng = common::rng(7);
    assert!(matches!(Packer::new(pk, 0, 1), Err(Error::Packing { .. })));
    assert!(matches!(Packer::new(pk, 65, 1), Err(Error::Packing { .. })));
    assert!(matches!(
        Packer::new(pk, 64, u64::MAX),
        Err(Error::Packing { .. })
    ));
    let packer = Packer::new(pk, 8, 3).unwrap(); // 4 terms -> 2 headroom bits, capacity 1023/255 = 4
    assert_eq!(packer.slot_bits(), 10);
    assert_eq!(packer.capacity(), 4);
    assert!(matches!(packer.pack(&[256]), Err(Error::Packing { .. })));
    assert!(matches!(
        packer.pack(&vec![1; packer.slots() + 1]),
        Err(Error::Packing { .. })
    ));
    let a = packer.encrypt(pk, &[255, 255], &mut rng).unwrap();
    let s4 = a.add(&a).unwrap().add(&a).unwrap().add(&a).unwrap();
    assert_eq!(packer.decrypt(sk, &s4).unwrap(), vec![1020, 1020]);
    assert!(matches!(
        s4.add(&a),
        Err(Error::HeadroomExceeded {
            needed: 5,
            capacity: 4
        })
    ));
    assert!(matches!(
        a.mul_scalar(5),
        Err(Error::HeadroomExceeded {
            needed: 5,
            capacity: 4
        })
    ));
    let other = Packer::new(pk, 9, 3).unwrap();
    let b = other.encrypt(pk, &[1], &mut rng).unwrap();
    assert!(matches!(a.add(&b), Err(Error::Packing { .. })));
    assert!(matches!(packer.decrypt(sk, &b), Err(Error::Packing { .. })));
}
