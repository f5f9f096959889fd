//! CKKS deserializers (ciphertexts, plaintexts, secret, public,
//! relinearization and Galois keys) and decryption of arbitrary
//! ciphertexts: decrypt, decode, flooded decryption; evaluation with read
//! keys.
#![no_main]
use ckks::{Ciphertext, GaloisKeys, Plaintext, PublicKey, RelinKey, SecretKey};
use hekit_fuzz::{fixtures, rng, Input};
use libfuzzer_sys::fuzz_target;

fn decrypt_all(fx: &fixtures::CkksFx, ct: &Ciphertext) {
    if let Ok(pt) = fx.sk.decrypt(ct) {
        let _ = fx.encoder.decode(&pt);
    }
    let mut r = rng(102);
    let _ = fx
        .sk
        .decrypt_flooded(ct, &ckks::Flooding::new(20.0), &mut r);
}

fuzz_target!(|data: &[u8]| {
    let Some(input) = Input::parse(data) else {
        return;
    };
    let fx = fixtures::ckks();
    let kind = input.kind as usize % fx.bytes.len();
    let bytes = input.bytes(&fx.bytes[kind]);
    let p = &fx.params;
    let mut r = rng(103);
    match kind {
        0..=2 => {
            if let Ok(ct) = Ciphertext::from_bytes(p, &bytes) {
                decrypt_all(fx, &ct);
            }
        }
        3 => {
            if let Ok(pt) = Plaintext::from_bytes(p, &bytes) {
                let _ = fx.encoder.decode(&pt);
                let _ = fx.encoder.decode_complex(&pt);
                let _ = pt.to_bytes();
            }
        }
        4 => {
            if let Ok(sk) = SecretKey::from_bytes(p, &bytes) {
                let ct = Ciphertext::from_bytes(p, &fx.bytes[1]).expect("valid");
                if let Ok(pt) = sk.decrypt(&ct) {
                    let _ = fx.encoder.decode(&pt);
                }
            }
        }
        5 => {
            if let Ok(pk) = PublicKey::from_bytes(p, &bytes) {
                let pt = fx.encoder.encode(&[1.0, 2.0]).expect("encode");
                let ct = pk.encrypt(&pt, &mut r).expect("encrypt under a read key");
                decrypt_all(fx, &ct);
            }
        }
        6 => {
            if let Ok(rlk) = RelinKey::from_bytes(p, &bytes) {
                let ct = Ciphertext::from_bytes(p, &fx.bytes[2]).expect("valid");
                if let Ok(c) = fx.eval.relinearize(&ct, &rlk) {
                    decrypt_all(fx, &c);
                }
                let _ = fx.eval.relin_rescale(&ct, &rlk);
            }
        }
        7 => {
            if let Ok(gk) = GaloisKeys::from_bytes(p, &bytes) {
                let ct = Ciphertext::from_bytes(p, &fx.bytes[1]).expect("valid");
                if let Ok(c) = fx.eval.rotate(&ct, 1, &gk) {
                    decrypt_all(fx, &c);
                }
                let _ = fx.eval.conjugate(&ct, &gk);
            }
        }
        _ => {
            if let Ok(ct) = Ciphertext::from_bytes(p, &bytes) {
                let c = if ct.len() == 3 {
                    fx.eval.relin_rescale(&ct, &fx.rlk)
                } else {
                    fx.eval.rescale(&ct)
                };
                if let Ok(c) = c {
                    decrypt_all(fx, &c);
                }
                if let Ok(c) = fx.eval.rotate(&ct, 1, &fx.gk) {
                    decrypt_all(fx, &c);
                }
                let _ = fx.eval.mul(&ct, &ct);
            }
        }
    }
});
