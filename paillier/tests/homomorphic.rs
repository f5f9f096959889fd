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
