//! BFV deserializers (ciphertexts in every shape, public, relinearization
//! and Galois keys) and decryption of arbitrary ciphertexts: decrypt,
//! decode (batch or coefficients), noise budget; evaluation with read keys.
#![no_main]
use bfv::{Ciphertext, Encoding, GaloisKeys, PublicKey, RelinKey};
use hekit_fuzz::{fixtures, rng, Input};
use libfuzzer_sys::fuzz_target;

fn decrypt_all(fx: &fixtures::BfvFx, ct: &Ciphertext) {
    if let Ok(pt) = fx.sk.decrypt(ct) {
        match ct.encoding() {
            Encoding::Batch => {
                let _ = fx.encoder.decode(&pt);
                let _ = fx.encoder.decode_u64(&pt);
            }
            _ => {
                let _ = fx.encoder.decode_coefficients(&pt);
            }
        }
    }
    let _ = fx.sk.noise_budget(ct);
}

fuzz_target!(|data: &[u8]| {
    let Some(input) = Input::parse(data) else {
        return;
    };
    let fx = fixtures::bfv();
    let kind = input.kind as usize % fx.bytes.len();
    let bytes = input.bytes(&fx.bytes[kind]);
    let p = &fx.params;
    let mut r = rng(101);
    match kind {
        0..=3 => {
            if let Ok(ct) = Ciphertext::from_bytes(p, &bytes) {
                decrypt_all(fx, &ct);
            }
        }
        4 => {
            if let Ok(pk) = PublicKey::from_bytes(p, &bytes) {
                let pt = fx.encoder.encode(&[1, 2]).expect("encode");
                let ct = pk.encrypt(&pt, &mut r).expect("encrypt under a read key");
                decrypt_all(fx, &ct);
            }
        }
        5 => {
            if let Ok(rlk) = RelinKey::from_bytes(p, &bytes) {
                let ct = Ciphertext::from_bytes(p, &fx.bytes[2]).expect("valid");
                if let Ok(c) = fx.eval.relinearize(&ct, &rlk) {
                    decrypt_all(fx, &c);
                }
            }
        }
        6 => {
            if let Ok(gk) = GaloisKeys::from_bytes(p, &bytes) {
                let ct = Ciphertext::from_bytes(p, &fx.bytes[1]).expect("valid");
                if let Ok(c) = fx.eval.rotate_rows(&ct, 1, &gk) {
                    decrypt_all(fx, &c);
                }
                let _ = fx.eval.rotate_columns(&ct, &gk);
            }
        }
        _ => {
            if let Ok(ct) = Ciphertext::from_bytes(p, &bytes) {
                let c = if ct.len() == 3 {
                    fx.eval.relinearize(&ct, &fx.rlk)
                } else {
                    Ok(ct.clone())
                };
                if let Ok(c) = c {
                    if let Ok(rot) = fx.eval.rotate_rows(&c, 1, &fx.gk) {
                        decrypt_all(fx, &rot);
                    }
                    let _ = fx.eval.mul(&c, &ct);
                }
            }
        }
    }
});
