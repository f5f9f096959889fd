//! Serialization round trips (bytes and serde) and size reporting.
#![allow(clippy::unwrap_used)]
mod common;

use num_bigint::BigUint;
use paillier::{EncodedNumber, PrivateKey, PublicKey};

#[test]
fn keys_round_trip() {
    let (pk, sk) = common::key2048();
    let b = pk.to_bytes();
    assert_eq!(b.len() as u64, pk.serialized_size());
    let pk2 = PublicKey::from_bytes(&b).unwrap();
    assert_eq!(&pk2, pk);
    let sb = sk.to_bytes();
    assert_eq!(sb.len() as u64, sk.serialized_size());
    let sk2 = PrivateKey::from_bytes(&sb).unwrap();
    assert_eq!(sk2.public_key(), pk);
    // serde through bincode directly
    let pk3: PublicKey = bincode::deserialize(&bincode::serialize(pk).unwrap()).unwrap();
    assert_eq!(&pk3, pk);
    let sk3: PrivateKey = bincode::deserialize(&bincode::serialize(sk).unwrap()).unwrap();
    let ct = pk
        .encrypt(&BigUint::from(77u32), &mut common::rng(1))
        .unwrap();
    assert_eq!(sk3.decrypt(&ct).unwrap(), BigUint::from(77u32));
    // Debug never shows the primes
    let dbg = format!("{sk:?}");
    let (p, _) = sk.primes();
    assert!(!dbg.contains(&p.to_string()));
    assert!(!dbg.to_lowercase().contains(&format!("{p:x}")[..16]));
}

#[test]
fn ciphertexts_round_trip_across_key_copies() {
    let (pk, sk) = common::key2048();
    let mut rng = common::rng(2);
    let ct = pk.encrypt_i64(-12345, &mut rng).unwrap();
    let bytes = ct.to_bytes();
    assert_eq!(bytes.len() as u64, ct.serialized_size());
    // 2 (version) + 8 (key) + 8 (length) + 512 (n^2)
    assert_eq!(bytes.len(), 2 + 8 + 8 + 512);
    // a receiver holding an independently deserialized copy of the key
    let pk_copy = PublicKey::from_bytes(&pk.to_bytes()).unwrap();
    let back = pk_copy.ciphertext_from_bytes(&bytes).unwrap();
    let sum = (&back + &ct).unwrap();
    assert_eq!(sk.decrypt_i64(&sum).unwrap(), -24690);
    let wire: paillier::serial::CiphertextWire =
        bincode::deserialize(&bincode::serialize(&ct).unwrap()).unwrap();
    assert_eq!(pk.import_ciphertext(wire).unwrap(), ct);
}

#[test]
fn numbers_round_trip() {
    let (pk, sk) = common::key2048();
    let mut rng = common::rng(3);
    for x in [0.0, -1.5, 3.25e-7, 6.02e23] {
        let e = EncodedNumber::from_f64(x).unwrap();
        let b = e.to_bytes();
        assert_eq!(b.len() as u64, e.serialized_size());
        assert_eq!(EncodedNumber::from_bytes(&b).unwrap(), e);
        let e2: EncodedNumber = bincode::deserialize(&bincode::serialize(&e).unwrap()).unwrap();
        assert_eq!(e2, e);
        let c = pk.encrypt_f64(x, &mut rng).unwrap();
        let cb = c.to_bytes();
        assert_eq!(cb.len() as u64, c.serialized_size());
        let c2 = pk.encrypted_number_from_bytes(&cb).unwrap();
        assert_eq!(sk.decrypt_f64(&c2).unwrap(), x);
    }
}
