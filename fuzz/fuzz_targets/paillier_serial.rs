//! Paillier deserializers (public and private keys, encoded numbers,
//! ciphertexts, encrypted numbers, serde through postcard) and decryption of
//! arbitrary ciphertexts with a fixed key: decrypt (CRT and portable),
//! signed and fixed-point decoding, exponent changes.
#![no_main]
use hekit_fuzz::{fixtures, rng, Input};
use libfuzzer_sys::fuzz_target;
use paillier::{EncodedNumber, SecretKey, PublicKey};

fuzz_target!(|data: &[u8]| {
    let Some(input) = Input::parse(data) else {
        return;
    };
    let fx = fixtures::paillier();
    let kind = input.kind as usize % fx.bytes.len();
    let bytes = input.bytes(&fx.bytes[kind]);
    let mut r = rng(104);
    match kind {
        0 => {
            if let Ok(pk) = PublicKey::from_bytes(&bytes) {
                let ct = pk.encrypt_i64(-3, &mut r);
                if let Ok(ct) = ct {
                    let _ = ct.add(&ct).map(|c| c.mul_i64(-5));
                }
            }
        }
        1 => {
            if let Ok(sk) = SecretKey::from_bytes(&bytes) {
                let pk = sk.public_key().clone();
                let ct = pk
                    .encrypt_i64(77, &mut r)
                    .expect("encrypt under a read key");
                assert_eq!(
                    sk.decrypt_i64(&ct).ok(),
                    Some(77),
                    "read key does not decrypt"
                );
                let _ = sk.decrypt_portable(&ct);
            }
        }
        2 => {
            if let Ok(x) = EncodedNumber::from_bytes(&bytes) {
                let _ = x.to_int();
                let _ = x.to_f64();
                let _ = x.decrease_exponent_to(x.exponent().saturating_sub(3));
                let _ = x.decrease_exponent_to(i32::MIN);
                if let Ok(ct) = fx.pk.encrypt_encoded(&x, &mut r) {
                    let _ = fx.sk.decrypt_encoded(&ct).map(|d| d.to_f64());
                    let _ = ct.mul_encoded(&x);
                    let _ = ct.add_encoded(&x);
                }
            }
        }
        3 => {
            if let Ok(ct) = fx.pk.ciphertext_from_bytes(&bytes) {
                let a = fx.sk.decrypt(&ct);
                let b = fx.sk.decrypt_portable(&ct);
                assert_eq!(a.ok(), b.ok(), "CRT and portable decryption disagree");
                let _ = fx.sk.decrypt_int(&ct);
                let _ = fx.sk.decrypt_i64(&ct);
            }
        }
        4 => {
            if let Ok(x) = fx.pk.encrypted_number_from_bytes(&bytes) {
                let _ = fx.sk.decrypt_f64(&x);
                let _ = fx.sk.decrypt_encoded(&x).map(|e| e.to_int());
                let _ = x.decrease_exponent_to(x.exponent().saturating_sub(2));
                let _ = x.add(&x);
                let _ = x.mul_f64(-1.5);
            }
        }
        _ => {
            let a = PublicKey::from_bytes(&bytes).ok();
            // serde through postcard, with from_bytes' limit and no trailing bytes
            let b: Option<PublicKey> = (bytes.len() as u64
                <= paillier::serial::MAX_SERIALIZED_BYTES)
                .then(|| postcard::take_from_bytes::<PublicKey>(&bytes).ok())
                .flatten()
                .filter(|(_, rest)| rest.is_empty())
                .map(|(k, _)| k);
            assert_eq!(a.is_some(), b.is_some(), "from_bytes and serde disagree");
            let _ = postcard::from_bytes::<EncodedNumber>(&bytes);
            let _ = postcard::from_bytes::<SecretKey>(&bytes);
        }
    }
});
