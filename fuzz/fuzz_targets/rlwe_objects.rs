//! Every `rlwe` deserializer for fixed small parameters (secret, public,
//! key-switching, relinearization and Galois keys, ciphertexts, bare
//! polynomials, the envelope itself), then the objects are used: keys
//! encrypt / relinearize / rotate, ciphertexts are decrypted.
#![no_main]
use hekit_fuzz::{fixtures, rng, Input};
use libfuzzer_sys::fuzz_target;
use rlwe::ciphertext::Ciphertext;
use rlwe::keys::{GaloisKeys, KeySwitchKey, PublicKey, RelinKey, SecretKey};
use rlwe::poly::{Poly, Representation};
use rlwe::serialize::{self, Kind, PolyData};

fuzz_target!(|data: &[u8]| {
    let Some(input) = Input::parse(data) else {
        return;
    };
    let fx = fixtures::rlwe();
    let kind = input.kind as usize % fx.bytes.len();
    let bytes = input.bytes(&fx.bytes[kind]);
    let p = &fx.params;
    let mut r = rng(100);
    let valid_ct = || Ciphertext::from_bytes(p, &fx.bytes[8]).expect("valid ct");
    match kind {
        0 => {
            let _ = rlwe::params::Params::from_bytes(&bytes, rlwe::params::SecurityLevel::None);
            // The envelope alone, with any body type.
            let _ = serialize::decode::<Vec<PolyData>>(&bytes, Kind::Params, "fuzz", None);
        }
        1 => {
            if let Ok(sk) = SecretKey::from_bytes(p, &bytes) {
                let _ = sk.decrypt(&valid_ct());
            }
        }
        2 => {
            if let Ok(pk) = PublicKey::from_bytes(p, &bytes) {
                let m = Poly::zero(p.ring_q_top(), Representation::Coefficient);
                let ct = pk.encrypt(&m, &mut r).expect("encrypt under a read key");
                let _ = fx.sk.decrypt(&ct);
            }
        }
        3 => {
            if let Ok(k) = KeySwitchKey::from_bytes(p, &bytes) {
                let ct = valid_ct();
                let _ = k.switch(&ct.parts()[2]);
                let _ = k.to_bytes();
            }
        }
        4 => {
            if let Ok(rlk) = RelinKey::from_bytes(p, &bytes) {
                let ct = valid_ct();
                if let Ok(c) = ct.relinearize(&rlk) {
                    let _ = fx.sk.decrypt(&c);
                }
                let _ = ct.relinearize_rescale(&rlk);
            }
        }
        5 => {
            if let Ok(gks) = GaloisKeys::from_bytes(p, &bytes) {
                let ct = Ciphertext::from_bytes(p, &fx.bytes[7]).expect("valid ct");
                for e in gks.elements().collect::<Vec<_>>() {
                    let gk = gks.get(e).expect("listed element");
                    if let Ok(c) = ct.apply_galois(gk) {
                        let _ = fx.sk.decrypt(&c);
                    }
                }
            }
        }
        6..=8 => {
            if let Ok(ct) = Ciphertext::from_bytes(p, &bytes) {
                let _ = fx.sk.decrypt(&ct);
                let _ = ct.rescale();
                let _ = ct.drop_to_level(0);
                let _ = ct.to_bytes();
            }
        }
        _ => {
            if let Ok(poly) = serialize::poly_from_bytes(p, &bytes) {
                let _ = serialize::poly_to_bytes(p, &poly);
            }
        }
    }
});
