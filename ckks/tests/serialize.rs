#![allow(clippy::unwrap_used)]
//! Serialization round-trips and malformed input.

mod common;
use common::*;

use ckks::{
    Ciphertext, Encoder, Error, GaloisKeys, Parameters, Plaintext, PublicKey, RelinKey, SecretKey,
    SecurityLevel,
};

fn decrypt(c: &Ctx, ct: &Ciphertext) -> Vec<f64> {
    c.encoder.decode(&c.sk.decrypt(ct).unwrap()).unwrap()
}

#[test]
fn ciphertexts_round_trip() {
    let c = n8192();
    let x = uniform(64, -1.0, 1.0, 1);
    let pt = c.encoder.encode(&x).unwrap();
    // Seeded secret-key ciphertext: half size.
    let ct_sk = c.sk.encrypt(&pt, &mut rng(2)).unwrap();
    let ct_pk = c.pk.encrypt(&pt, &mut rng(3)).unwrap();
    let b_sk = ct_sk.to_bytes();
    let b_pk = ct_pk.to_bytes();
    assert_eq!(b_sk.len(), ct_sk.serialized_size());
    assert!(
        b_sk.len() * 2 < b_pk.len() + 1024,
        "seeded ciphertext is about half size"
    );
    for (ct, bytes) in [(&ct_sk, &b_sk), (&ct_pk, &b_pk)] {
        let back = Ciphertext::from_bytes(&c.params, bytes).unwrap();
        assert_eq!(back.scale(), ct.scale());
        assert_eq!(back.level(), ct.level());
        assert_eq!(back.rlwe().parts(), ct.rlwe().parts());
        assert_eq!(decrypt(c, &back)[..64], decrypt(c, ct)[..64]);
    }
    // After a product (3 parts, scale Δ²) and a rescale (exact scale kept).
    let p = c.eval.mul(&ct_pk, &ct_pk).unwrap();
    let back = Ciphertext::from_bytes(&c.params, &p.to_bytes()).unwrap();
    assert_eq!(back.len(), 3);
    assert_eq!(back.scale(), p.scale());
    let r = c.eval.mul_relin_rescale(&ct_pk, &ct_pk, &c.rlk).unwrap();
    let back = Ciphertext::from_bytes(&c.params, &r.to_bytes()).unwrap();
    assert_eq!(back.scale().to_bits(), r.scale().to_bits());
    assert_eq!(back.level(), c.params.max_level() - 1);
}

#[test]
fn plaintexts_and_keys_round_trip() {
    let c = n8192();
    let x = uniform(16, -1.0, 1.0, 4);
    let pt = c.encoder.encode_at(&x, 1, 2f64.powi(35)).unwrap();
    let back = Plaintext::from_bytes(&c.params, &pt.to_bytes().unwrap()).unwrap();
    assert_eq!(back.level(), 1);
    assert_eq!(back.scale(), pt.scale());
    assert_eq!(back.poly(), pt.poly());
    // Decrypted plaintexts (coefficient form) too.
    let dec =
        c.sk.decrypt(&c.sk.encrypt(&pt, &mut rng(5)).unwrap())
            .unwrap();
    let back = Plaintext::from_bytes(&c.params, &dec.to_bytes().unwrap()).unwrap();
    assert_eq!(
        c.encoder.decode(&back).unwrap(),
        c.encoder.decode(&dec).unwrap()
    );

    // Keys: a ciphertext made with the restored public key decrypts with the
    // restored secret key; restored relinearization and Galois keys work.
    let sk = SecretKey::from_bytes(&c.params, &c.sk.to_bytes()).unwrap();
    let pk = PublicKey::from_bytes(&c.params, &c.pk.to_bytes()).unwrap();
    let rlk = RelinKey::from_bytes(&c.params, &c.rlk.to_bytes()).unwrap();
    let gk = galois(c, &[3], true);
    let gk = GaloisKeys::from_bytes(&c.params, &gk.to_bytes()).unwrap();
    assert_eq!(gk.len(), 2);
    let xs = uniform(c.params.slots(), -1.0, 1.0, 6);
    let ct = pk
        .encrypt(&c.encoder.encode(&xs).unwrap(), &mut rng(7))
        .unwrap();
    let y = c
        .eval
        .rotate(&c.eval.mul_relin_rescale(&ct, &ct, &rlk).unwrap(), 3, &gk)
        .unwrap();
    let got = c.encoder.decode(&sk.decrypt(&y).unwrap()).unwrap();
    let n = xs.len();
    let want: Vec<f64> = (0..n).map(|j| xs[(j + 3) % n] * xs[(j + 3) % n]).collect();
    let e = max_err_log2(&got, &want);
    println!("round-tripped keys: x² rotated, log2 max err {e:.2}");
    assert!(e < -24.0);
}

#[test]
fn malformed_bytes_are_rejected() {
    let c = n8192();
    let ct =
        c.pk.encrypt(&c.encoder.encode(&[1.0, 2.0]).unwrap(), &mut rng(8))
            .unwrap();
    let bytes = ct.to_bytes();
    // Truncated anywhere.
    for cut in [0usize, 3, 20, 41, 50, bytes.len() / 2, bytes.len() - 1] {
        let r = Ciphertext::from_bytes(&c.params, &bytes[..cut]);
        assert!(
            matches!(r, Err(Error::Rlwe(rlwe::Error::Malformed { .. }))),
            "cut {cut}: {r:?}"
        );
    }
    // Trailing garbage.
    let mut long = bytes.clone();
    long.push(0);
    assert!(matches!(
        Ciphertext::from_bytes(&c.params, &long),
        Err(Error::Rlwe(rlwe::Error::Malformed { .. }))
    ));
    // Bad magic, unknown version.
    let mut b = bytes.clone();
    b[0] ^= 0xff;
    assert!(matches!(
        Ciphertext::from_bytes(&c.params, &b),
        Err(Error::Rlwe(rlwe::Error::Malformed { .. }))
    ));
    let mut b = bytes.clone();
    b[4] = 99;
    assert!(matches!(
        Ciphertext::from_bytes(&c.params, &b),
        Err(Error::Rlwe(rlwe::Error::UnknownVersion { .. }))
    ));
    // Other parameters (fingerprint in the header).
    let other = Parameters::builder()
        .degree(4096)
        .q_bits(&[40, 30])
        .p_bits(&[40])
        .security(SecurityLevel::None) // tiny chain, only used as "other parameters"
        .build()
        .unwrap();
    assert!(matches!(
        Ciphertext::from_bytes(&other, &bytes),
        Err(Error::Rlwe(rlwe::Error::ParameterMismatch { .. }))
    ));
    // A plaintext is not a ciphertext (same envelope kind, other tag).
    let pt_bytes = c.encoder.encode(&[1.0]).unwrap().to_bytes().unwrap();
    assert!(matches!(
        Ciphertext::from_bytes(&c.params, &pt_bytes),
        Err(Error::Malformed { .. })
    ));
    assert!(matches!(
        Plaintext::from_bytes(&c.params, &bytes),
        Err(Error::Malformed { .. })
    ));
    // The rlwe header (magic, version, kind, fingerprint); then the tag (8
    // bytes) and the scale (an f64: 8 bytes little-endian in postcard).
    let scale_at = rlwe::serialize::HEADER_LEN + 8;
    for bad in [f64::NAN, -1.0, 0.0, f64::INFINITY] {
        let mut b = bytes.clone();
        b[scale_at..scale_at + 8].copy_from_slice(&bad.to_le_bytes());
        assert!(
            matches!(
                Ciphertext::from_bytes(&c.params, &b),
                Err(Error::Malformed {
                    what: "CKKS ciphertext",
                    ..
                })
            ),
            "scale {bad}"
        );
    }
    // A coefficient not below its modulus: the last word of the last part.
    let mut b = bytes.clone();
    let len = b.len();
    b[len - 8..].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(matches!(
        Ciphertext::from_bytes(&c.params, &b),
        Err(Error::Rlwe(rlwe::Error::Malformed { .. }))
    ));
    // Keys from other parameters or garbage.
    assert!(PublicKey::from_bytes(&other, &c.pk.to_bytes()).is_err());
    assert!(matches!(
        PublicKey::from_bytes(&c.params, &bytes),
        Err(Error::Malformed { .. }) | Err(Error::Rlwe(rlwe::Error::Malformed { .. }))
    ));
    assert!(RelinKey::from_bytes(&c.params, &bytes[..100]).is_err());
    let enc = Encoder::new(&other);
    assert_eq!(enc.slots(), 2048);
}

#[test]
fn wrapped_rlwe_public_key_encrypts_and_round_trips() {
    // A plain rlwe public key (as a threshold protocol produces), wrapped.
    let c = n8192();
    let rpk = rlwe::keys::PublicKey::generate(c.sk.rlwe(), &mut rng(40)).unwrap();
    let pk = PublicKey::from_rlwe(&c.params, rpk).unwrap();
    let pk = PublicKey::from_bytes(&c.params, &pk.to_bytes()).unwrap();
    let x = uniform(c.params.slots(), -1.0, 1.0, 41);
    let ct = pk
        .encrypt(&c.encoder.encode(&x).unwrap(), &mut rng(42))
        .unwrap();
    let e = max_err_log2(&decrypt(c, &ct), &x);
    println!("fresh encryption with a wrapped rlwe public key: {e:.2}");
    assert!(e < -23.0);
}

/// The CKKS context travels as bytes: it reads back equal, keys and
/// ciphertexts of the original read under the copy, and tampered or
/// under-secured contexts are refused with specific errors.
#[test]
fn context_round_trips_and_bad_contexts_are_refused() {
    let c = n8192();
    let bytes = c.params.to_bytes();
    let back = Parameters::from_bytes(&bytes, SecurityLevel::Bits128).unwrap();
    assert_eq!(back, c.params);
    assert_eq!(back.fingerprint(), c.params.fingerprint());
    assert_eq!(back.scale(), c.params.scale());
    let x = uniform(16, -1.0, 1.0, 30);
    let ct =
        c.pk.encrypt(&c.encoder.encode(&x).unwrap(), &mut rng(31))
            .unwrap();
    let ct_back = Ciphertext::from_bytes(&back, &ct.to_bytes()).unwrap();
    let got = decrypt(c, &ct_back);
    assert!(x.iter().zip(&got).all(|(a, b)| (a - b).abs() < 1e-6));

    // a ciphertext is not a context
    assert!(matches!(
        Parameters::from_bytes(&ct.to_bytes(), SecurityLevel::Bits128),
        Err(Error::Malformed { .. })
    ));
    // truncated
    assert!(Parameters::from_bytes(&bytes[..bytes.len() - 3], SecurityLevel::Bits128).is_err());
    // a context at SecurityLevel::None is refused by a 128-bit reader
    let weak = Parameters::builder()
        .degree(4096)
        .q_bits(&[40, 30])
        .p_bits(&[40])
        .security(SecurityLevel::None)
        .build()
        .unwrap();
    assert!(matches!(
        Parameters::from_bytes(&weak.to_bytes(), SecurityLevel::Bits128),
        Err(Error::Rlwe(rlwe::Error::SecurityBelowMinimum { .. }))
    ));
    assert!(Parameters::from_bytes(&weak.to_bytes(), SecurityLevel::None).is_ok());
    // a header fingerprint that does not describe the parameters inside
    let mut forged = bytes.clone();
    forged[10] ^= 1;
    assert!(matches!(
        Parameters::from_bytes(&forged, SecurityLevel::Bits128),
        Err(Error::Rlwe(rlwe::Error::ParameterMismatch { .. }))
    ));
}

/// `&a + &b - &c` and `-&a` give what the evaluator gives, chain through
/// `Result`s, and carry a parameter mismatch to the end as an error.
#[test]
fn operators_chain_and_carry_errors() {
    let c = n8192();
    let xs: Vec<Vec<f64>> = (0..3).map(|i| uniform(32, -1.0, 1.0, 40 + i)).collect();
    let cts: Vec<Ciphertext> = xs
        .iter()
        .enumerate()
        .map(|(i, x)| {
            c.pk.encrypt(&c.encoder.encode(x).unwrap(), &mut rng(50 + i as u64))
                .unwrap()
        })
        .collect();
    let (a, b, d) = (&cts[0], &cts[1], &cts[2]);
    let e = (a + b - d).unwrap();
    let e2 = (a - (b + d)).unwrap();
    let n = -a;
    let got = decrypt(c, &e);
    let got2 = decrypt(c, &e2);
    let got_n = decrypt(c, &n);
    for i in 0..32 {
        assert!((got[i] - (xs[0][i] + xs[1][i] - xs[2][i])).abs() < 1e-6);
        assert!((got2[i] - (xs[0][i] - xs[1][i] - xs[2][i])).abs() < 1e-6);
        assert!((got_n[i] + xs[0][i]).abs() < 1e-6);
    }
    // the same bits as the evaluator
    assert_eq!(
        e.to_bytes(),
        c.eval
            .sub(&c.eval.add(a, b).unwrap(), d)
            .unwrap()
            .to_bytes()
    );
    // other parameters: the error comes out at the end of the chain
    let other = Parameters::builder()
        .degree(4096)
        .q_bits(&[40, 30])
        .p_bits(&[40])
        .security(SecurityLevel::None)
        .build()
        .unwrap();
    let sk2 = SecretKey::generate(&other, &mut rng(60));
    let ct2 = sk2
        .encrypt(&Encoder::new(&other).encode(&[1.0]).unwrap(), &mut rng(61))
        .unwrap();
    assert!(matches!(a + &ct2 + b, Err(Error::ParameterMismatch { .. })));
    assert!(matches!(
        a + (&ct2 - b),
        Err(Error::ParameterMismatch { .. })
    ));
}
