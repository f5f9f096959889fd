//! Serialization round trips (bytes and serde) and size reporting.
#![allow(clippy::unwrap_used)]
mod common;

use num_bigint::BigUint;
use paillier::{EncodedNumber, PublicKey, SecretKey};

#[test]
fn keys_round_trip() {
    let (pk, sk) = common::key2048();
    let b = pk.to_bytes();
    assert_eq!(b.len() as u64, pk.serialized_size());
    let pk2 = PublicKey::from_bytes(&b).unwrap();
    assert_eq!(&pk2, pk);
    let sb = sk.to_bytes();
    assert_eq!(sb.len() as u64, sk.serialized_size());
    let sk2 = SecretKey::from_bytes(&sb).unwrap();
    assert_eq!(sk2.public_key(), pk);
    // serde through postcard directly
    let pk3: PublicKey = postcard::from_bytes(&postcard::to_allocvec(pk).unwrap()).unwrap();
    assert_eq!(&pk3, pk);
    let sk3: SecretKey = postcard::from_bytes(&postcard::to_allocvec(sk).unwrap()).unwrap();
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
    // postcard: version, key fingerprint and the length of c are varints,
    // then c as fixed-length bytes (those of n^2: 512)
    let varint_len = |x: u64| (64 - x.leading_zeros()).max(1).div_ceil(7) as usize;
    assert_eq!(varint_len(paillier::serial::VERSION.into()), 1);
    assert_eq!(
        bytes.len(),
        1 + varint_len(pk.fingerprint()) + varint_len(512) + 512
    );
    // a receiver holding an independently deserialized copy of the key
    let pk_copy = PublicKey::from_bytes(&pk.to_bytes()).unwrap();
    let back = pk_copy.ciphertext_from_bytes(&bytes).unwrap();
    let sum = (&back + &ct).unwrap();
    assert_eq!(sk.decrypt_i64(&sum).unwrap(), -24690);
    let wire: paillier::serial::CiphertextWire =
        postcard::from_bytes(&postcard::to_allocvec(&ct).unwrap()).unwrap();
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
        let e2: EncodedNumber = postcard::from_bytes(&postcard::to_allocvec(&e).unwrap()).unwrap();
        assert_eq!(e2, e);
        let c = pk.encrypt_f64(x, &mut rng).unwrap();
        let cb = c.to_bytes();
        assert_eq!(cb.len() as u64, c.serialized_size());
        let c2 = pk.encrypted_number_from_bytes(&cb).unwrap();
        assert_eq!(sk.decrypt_f64(&c2).unwrap(), x);
    }
}

/// Format version 1 (hekit 0.1) was bincode 1.x with fixed-width integers:
/// `u16` version, then the fields, byte strings with `u64` lengths. Such
/// bytes are refused as a retired version, with a message that says what
/// to do — never decoded as something else.
#[test]
fn bincode_format_is_refused() {
    use paillier::Error;
    let (pk, _) = common::key2048();
    let n = pk.n().to_bytes_be();
    // PublicKeyWire { version: 1, insecure: false, n } in bincode.
    let mut old = vec![1, 0, 0];
    old.extend_from_slice(&(n.len() as u64).to_le_bytes());
    old.extend_from_slice(&n);
    let r = PublicKey::from_bytes(&old);
    assert!(
        matches!(r, Err(Error::RetiredVersion { version: 1 })),
        "{r:?}"
    );
    let msg = r.unwrap_err().to_string();
    assert!(
        msg.contains("format version 1 (bincode") && msg.contains("re-serialize"),
        "{msg}"
    );
    // CiphertextWire { version: 1, key, c } in bincode.
    let mut old_ct = vec![1, 0];
    old_ct.extend_from_slice(&pk.fingerprint().to_le_bytes());
    old_ct.extend_from_slice(&512u64.to_le_bytes());
    old_ct.extend_from_slice(&[7; 512]);
    assert!(matches!(
        pk.ciphertext_from_bytes(&old_ct),
        Err(Error::RetiredVersion { version: 1 })
    ));
    assert!(matches!(
        pk.encrypted_number_from_bytes(&old_ct),
        Err(Error::RetiredVersion { version: 1 })
    ));
    // EncodedNumberWire { version: 1, negative, magnitude, exponent }.
    let mut old_num = vec![1, 0, 0];
    old_num.extend_from_slice(&1u64.to_le_bytes());
    old_num.push(5);
    old_num.extend_from_slice(&0i32.to_le_bytes());
    assert!(matches!(
        EncodedNumber::from_bytes(&old_num),
        Err(Error::RetiredVersion { version: 1 })
    ));
    // PrivateKeyWire starts the same way.
    assert!(matches!(
        SecretKey::from_bytes(&old),
        Err(Error::RetiredVersion { version: 1 })
    ));
    assert_eq!(paillier::serial::VERSION, 2);
    assert_eq!(pk.to_bytes()[0], 2);
}
