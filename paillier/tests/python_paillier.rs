//! Interoperability with python-paillier (`phe` 1.5.0): ciphertexts and
//! float encodings produced by python-paillier for a fixed key and fixed
//! randomness `r` (`pk.encrypt(x, r_value=r)`,
//! `EncodedNumber.encode(pk, x)`), pasted here as known answers.
#![allow(clippy::unwrap_used)]

use num_bigint::BigInt;
use paillier::{test_keys, EncodedNumber, EncryptedNumber, SecretKey};

const R: &str = "1234567890abcdef1234567890abcdef";

fn key() -> SecretKey {
    let (p, q) = test_keys::primes(test_keys::P128);
    SecretKey::from_primes_insecure(p, q).unwrap()
}

#[test]
fn integers_match_python_paillier() {
    let sk = key();
    let pk = sk.public_key();
    let r = test_keys::hex(R);
    let cases: [(i64, &str); 2] = [
        (42, "67a941c4832059cd7cf91666e6e14f2cd52b705c8d5506df531d5e58a9eb6695d57d5ef4adf8bd1dede7519d33e16514c44798696e96bdf2768e441aa08888ba"),
        (-7, "4bc0015d85e68d1981d9b06331c7c5eda723f26fda5be365d66340a1751fd9d3bb9656b6e30ec68b8d42363134b7370e9cea21ee92cedfaa568c2d51e0d537c5"),
    ];
    for (v, c_hex) in cases {
        let m = paillier::encode_signed(pk, &BigInt::from(v)).unwrap();
        let ct = pk.encrypt_with_r(&m, &r).unwrap();
        assert_eq!(ct.value(), &test_keys::hex(c_hex), "value {v}");
        let theirs = pk.ciphertext(test_keys::hex(c_hex)).unwrap();
        assert_eq!(sk.decrypt_i64(&theirs).unwrap(), v);
    }
}

/// Zero and subnormals take python-paillier's exponents too (`⌊(frexp(x).1
/// − 53) / 4⌋`), values from `phe.EncodedNumber.encode` (phe 1.5).
#[test]
fn zero_and_subnormal_exponents_match_python_paillier() {
    let cases: [(f64, i32, i64); 4] = [
        (0.0, -14, 0),
        (f64::from_bits(1), -282, 18014398509481984),
        (-1e-310, -271, -20725990738668544),
        (f64::from_bits(3), -282, 54043195528445952),
    ];
    for (x, exp, mant) in cases {
        let e = EncodedNumber::from_f64(x).unwrap();
        assert_eq!(e.exponent(), exp, "exponent of {x:e}");
        assert_eq!(e.mantissa(), &BigInt::from(mant), "mantissa of {x:e}");
        assert_eq!(e.to_f64().unwrap(), x);
    }
}

#[test]
fn floats_match_python_paillier() {
    let sk = key();
    let pk = sk.public_key();
    let r = test_keys::hex(R);
    // (value, exponent, mantissa, ciphertext) from python-paillier
    let cases: [(f64, i32, i64, &str); 5] = [
        (1.5, -13, 6755399441055744, "47c45423185db7e1cb9075c72bb8e0ebfc06bb6dcde465d0e83fdadd51c051217fa6e8b633fa7cd1abcc5d85c805f8989025b8bf7d592cb6a03e60141a32bdb2"),
        (-0.1, -14, -7205759403792794, "5a8caafd0b2e3e533fce8a29e8d3b50b852ff4ed427e480aae83706fa811f9f64141743fd5d1590816582d84e816a360aaa1171b241eb170b44ea5d3daeb7408"),
        (std::f64::consts::PI, -13, 14148475504056880, "2b8b227ad70eee8152e470e5bf64e083cbaddf63ebee5dedcc8b982730f3b406333a5b662494810c27fbd79063085dc72d9101ec8f05567096f3dbc748a92ec0"),
        (1e-20, -30, 13292279957849158, "3b4f181c83e842b2c276e6615a6c3cea58cc382f489c10035c316ea839f3017e4c08665039498bb5a0ba4fafc3543fa1405a2a18624d4e504699831e03a08b32"),
        (123456.789, -9, 8483885939586761, "5b0beb43be998b10f94843cb933f7ea8109f5e89eb01b9f3c0f105416012d0613b9bc656bed9f1be034817b8778eba681a6c1f49a1a397f65ae02ac0c6309817"),
    ];
    for (x, exp, mant, c_hex) in cases {
        let e = EncodedNumber::from_f64(x).unwrap();
        assert_eq!(e.exponent(), exp, "exponent of {x}");
        assert_eq!(e.mantissa(), &BigInt::from(mant), "mantissa of {x}");
        let m = paillier::encode_signed(pk, e.mantissa()).unwrap();
        let ct = pk.encrypt_with_r(&m, &r).unwrap();
        assert_eq!(ct.value(), &test_keys::hex(c_hex), "ciphertext of {x}");
        let theirs = EncryptedNumber::new(pk.ciphertext(test_keys::hex(c_hex)).unwrap(), exp);
        assert_eq!(sk.decrypt_f64(&theirs).unwrap(), x);
    }
}
