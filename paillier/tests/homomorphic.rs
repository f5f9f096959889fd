//! Property tests: the homomorphisms hold for random signed integers,
//! raw plaintexts and floats with different exponents (1024-bit test key).
#![allow(clippy::unwrap_used)]
mod common;

use num_bigint::{BigInt, BigUint};
use paillier::EncodedNumber;
use proptest::prelude::*;

fn cfg() -> ProptestConfig {
    ProptestConfig {
        cases: 48,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(cfg())]

    #[test]
    fn add_sub_neg_signed(a in any::<i64>(), b in any::<i64>(), seed in any::<u64>()) {
        let (pk, sk) = common::key1024();
        let mut rng = common::rng(seed);
        let ca = pk.encrypt_i64(a, &mut rng).unwrap();
        let cb = pk.encrypt_i64(b, &mut rng).unwrap();
        let (a, b) = (BigInt::from(a), BigInt::from(b));
        prop_assert_eq!(sk.decrypt_int(&(&ca + &cb).unwrap()).unwrap(), &a + &b);
        prop_assert_eq!(sk.decrypt_int(&(&ca - &cb).unwrap()).unwrap(), &a - &b);
        prop_assert_eq!(sk.decrypt_int(&-&ca).unwrap(), -&a);
        prop_assert_eq!(sk.decrypt_int(&ca.add_plain_signed(&b).unwrap()).unwrap(), &a + &b);
        let rr = ca.rerandomize(&mut rng);
        prop_assert_ne!(&rr, &ca);
        prop_assert_eq!(sk.decrypt_int(&rr).unwrap(), a);
    }

    #[test]
    fn scalar_mul_signed(a in any::<i64>(), k in any::<i64>(), seed in any::<u64>()) {
        let (pk, sk) = common::key1024();
        let mut rng = common::rng(seed);
        let ca = pk.encrypt_i64(a, &mut rng).unwrap();
        let prod = &ca * k;
        prop_assert_eq!(sk.decrypt_int(&prod).unwrap(), BigInt::from(a) * BigInt::from(k));
    }

    #[test]
    fn raw_plaintexts_wrap_mod_n(a in any::<u128>(), b in any::<u128>(), seed in any::<u64>()) {
        let (pk, sk) = common::key1024();
        let mut rng = common::rng(seed);
        let (a, b) = (BigUint::from(a), BigUint::from(b));
        let a_big = pk.n() - &a - 1u32; // near n: the sum wraps
        let ca = pk.encrypt(&a_big, &mut rng).unwrap();
        let cb = pk.encrypt(&b, &mut rng).unwrap();
        let s = (&ca + &cb).unwrap();
        prop_assert_eq!(sk.decrypt(&s).unwrap(), (&a_big + &b) % pk.n());
        let s2 = (&ca + &b).unwrap();
        prop_assert_eq!(sk.decrypt(&s2).unwrap(), (&a_big + &b) % pk.n());
    }

    #[test]
    fn float_add_mul_with_different_exponents(
        x in -1e12f64..1e12, y in -1e-3f64..1e-3, z in -1e6f64..1e6, seed in any::<u64>())
    {
        let (pk, sk) = common::key1024();
        let mut rng = common::rng(seed);
        let ex = EncodedNumber::from_f64(x).unwrap();
        let ey = EncodedNumber::from_f64(y).unwrap();
        let cx = pk.encrypt_f64(x, &mut rng).unwrap();
        let cy = pk.encrypt_f64(y, &mut rng).unwrap();
        // exact: aligned mantissas add
        let s = cx.add(&cy).unwrap();
        let e = ex.exponent().min(ey.exponent());
        prop_assert_eq!(s.exponent(), e);
        let expect = ex.decrease_exponent_to(e).unwrap().mantissa() + ey.decrease_exponent_to(e).unwrap().mantissa();
        let dec = sk.decrypt_encoded(&s).unwrap();
        prop_assert_eq!(dec.mantissa(), &expect);
        let got = sk.decrypt_f64(&s).unwrap();
        prop_assert!((got - (x + y)).abs() <= 1e-15 * (x + y).abs().max(1e-300));
        // plaintext add and multiply
        let t = cx.add_f64(z).unwrap().mul_f64(-0.5).unwrap();
        let got = sk.decrypt_f64(&t).unwrap();
        let want = (x + z) * -0.5;
        prop_assert!((got - want).abs() <= 1e-12 * want.abs().max(1.0), "{} vs {}", got, want);
        // subtraction and negation
        let d = cx.sub(&cy).unwrap();
        let got = sk.decrypt_f64(&d).unwrap();
        prop_assert!((got - (x - y)).abs() <= 1e-15 * (x - y).abs().max(1e-300));
        prop_assert_eq!(sk.decrypt_f64(&cx.neg()).unwrap(), -x);
    }

    #[test]
    fn encode_decode_f64_exact(x in proptest::num::f64::NORMAL | proptest::num::f64::SUBNORMAL | proptest::num::f64::ZERO) {
        let e = EncodedNumber::from_f64(x).unwrap();
        prop_assert_eq!(e.to_f64().unwrap(), x);
    }
}

#[test]
fn float_exponent_rules() {
    // python-paillier: exponent = floor(lsb_exponent / 4)
    let e = EncodedNumber::from_f64(0.5).unwrap();
    assert_eq!(e.exponent(), -14); // 0.5 = 2^52 * 2^-53
    assert_eq!(e.to_f64().unwrap(), 0.5);
    let e = EncodedNumber::from_f64_with_exponent(std::f64::consts::PI, -4).unwrap();
    assert_eq!(e.mantissa(), &BigInt::from(205887)); // round(pi * 16^4) = round(205887.4)
    let i = EncodedNumber::from_int(-35);
    assert_eq!(
        i.decrease_exponent_to(-2).unwrap().mantissa(),
        &BigInt::from(-35 * 256)
    );
    assert_eq!(
        i.decrease_exponent_to(-2).unwrap().to_int().unwrap(),
        BigInt::from(-35)
    );
}

#[test]
fn vector_float_batch() {
    let (pk, sk) = common::key1024();
    let mut rng = common::rng(9);
    let xs: Vec<f64> = (0..11).map(|i| i as f64 * 1.25 - 3.0).collect();
    let cs = pk.encrypt_f64_batch(&xs, &mut rng).unwrap();
    assert_eq!(sk.decrypt_f64_batch(&cs).unwrap(), xs);
}

/// Operators chain through `Result`s for ciphertexts and encrypted numbers,
/// `iter().sum()` and `paillier::sum` add either, and a key mismatch
/// anywhere in a chain is the error at its end.
#[test]
fn operators_chain_and_sums_take_encrypted_numbers() {
    let (pk, sk) = common::key1024();
    let mut rng = common::rng(7);
    let vals = [12i64, -40, 7, 1 << 40];
    let cts: Vec<_> = vals
        .iter()
        .map(|&v| pk.encrypt_i64(v, &mut rng).unwrap())
        .collect();
    let e = (&cts[0] + &cts[1] - &cts[2] + &cts[3]).unwrap();
    assert_eq!(sk.decrypt_i64(&e).unwrap(), 12 - 40 - 7 + (1 << 40));
    let e = (&cts[0] - (&cts[1] + &cts[2])).unwrap();
    assert_eq!(sk.decrypt_i64(&e).unwrap(), 12 + 40 - 7);
    let total: paillier::Result<paillier::Ciphertext> = cts.iter().sum();
    assert_eq!(
        sk.decrypt_i64(&total.unwrap()).unwrap(),
        vals.iter().sum::<i64>()
    );
    assert_eq!(
        sk.decrypt_i64(&paillier::sum(&cts).unwrap()).unwrap(),
        vals.iter().sum::<i64>()
    );

    // encrypted numbers with different exponents
    let xs = [0.5f64, -2.25, 1e-3, 1024.0];
    let ens: Vec<_> = xs
        .iter()
        .map(|&x| pk.encrypt_f64(x, &mut rng).unwrap())
        .collect();
    let want: f64 = xs.iter().sum();
    let s = paillier::sum(&ens).unwrap();
    assert!((sk.decrypt_f64(&s).unwrap() - want).abs() < 1e-12);
    let s2: paillier::Result<paillier::EncryptedNumber> = ens.iter().sum();
    assert!((sk.decrypt_f64(&s2.unwrap()).unwrap() - want).abs() < 1e-12);
    let d = (&ens[0] - &ens[1] + &ens[2]).unwrap();
    assert!((sk.decrypt_f64(&d).unwrap() - (0.5 + 2.25 + 1e-3)).abs() < 1e-12);
    assert!((sk.decrypt_f64(&-&ens[3]).unwrap() + 1024.0).abs() < 1e-12);

    // empty sums and mixed keys
    let none: &[paillier::EncryptedNumber] = &[];
    assert!(matches!(
        paillier::sum(none),
        Err(paillier::Error::InvalidParameter { .. })
    ));
    let empty: paillier::Result<paillier::Ciphertext> = cts[..0].iter().sum();
    assert!(matches!(
        empty,
        Err(paillier::Error::InvalidParameter { .. })
    ));
    let (pk2, _) = common::key2048_b();
    let other = pk2.encrypt_i64(1, &mut rng).unwrap();
    assert!(matches!(
        &cts[0] + &other + &cts[1],
        Err(paillier::Error::KeyMismatch)
    ));
    let mixed = vec![cts[0].clone(), other];
    assert!(matches!(
        paillier::sum(&mixed),
        Err(paillier::Error::KeyMismatch)
    ));
}
