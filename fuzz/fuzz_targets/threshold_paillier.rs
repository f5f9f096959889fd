//! Threshold Paillier / Damgård–Jurik serialization (public parameters,
//! key shares, partial decryptions with their proofs, DJ ciphertexts) for
//! s = 1 and s = 2, and threshold decryption of arbitrary ciphertexts:
//! partial decryptions, proof verification, strict and lenient combination.
#![no_main]
use hekit_fuzz::{fixtures, rng, Input};
use libfuzzer_sys::fuzz_target;
use threshold::paillier::{KeyShare, PublicParams};

fuzz_target!(|data: &[u8]| {
    let Some(input) = Input::parse(data) else {
        return;
    };
    let fx = fixtures::tpaillier();
    let kind = input.kind as usize % fx.bytes.len();
    let bytes = input.bytes(&fx.bytes[kind]);
    let mut r = rng(106);
    match kind {
        0 | 4 => {
            if let Ok(p) = PublicParams::from_bytes(&bytes) {
                let _ = p.verify(&fx.ct, &fx.partials[0]);
                let _ = p.partial_from_bytes(&fx.bytes[2]);
            }
        }
        1 | 5 => {
            if let Ok(share) = KeyShare::from_bytes(&bytes) {
                let (params, ct_ok) = if kind == 1 {
                    (&fx.params, share.partial_decrypt(&fx.ct, &mut r))
                } else {
                    (&fx.params2, share.partial_decrypt(&fx.ct2, &mut r))
                };
                if let Ok(pd) = ct_ok {
                    if kind == 1 {
                        let _ = params.verify(&fx.ct, &pd);
                    } else {
                        let _ = params.verify(&fx.ct2, &pd);
                    }
                }
            }
        }
        2 => {
            if let Ok(pd) = fx.params.partial_from_bytes(&bytes) {
                let _ = fx.params.verify(&fx.ct, &pd);
                let _ = fx
                    .params
                    .combine(&fx.ct, &[pd.clone(), fx.partials[1].clone()]);
                let _ = fx
                    .params
                    .combine(&fx.ct, &[fx.partials[2].clone(), pd.clone()]);
                let _ = fx.params.combine_valid(
                    &fx.ct,
                    &[pd, fx.partials[1].clone(), fx.partials[2].clone()],
                );
            }
        }
        3 => {
            if let Ok(ct) = fx.params.public_key().ciphertext_from_bytes(&bytes) {
                let pds: Vec<_> = fx
                    .shares
                    .iter()
                    .filter_map(|s| s.partial_decrypt(&ct, &mut r).ok())
                    .collect();
                let _ = fx.params.combine(&ct, &pds[..2.min(pds.len())]);
            }
            if let Ok(ct) = fx.params.dj_ciphertext_from_bytes(&bytes) {
                let _ = fx.params.combine(&ct, &fx.partials);
            }
        }
        6 => {
            if let Ok(pd) = fx.params2.partial_from_bytes(&bytes) {
                let _ = fx.params2.verify(&fx.ct2, &pd);
                let _ = fx
                    .params2
                    .combine(&fx.ct2, &[pd.clone(), fx.partials2[1].clone()]);
                let _ = fx.params2.combine_valid(
                    &fx.ct2,
                    &[fx.partials2[0].clone(), pd, fx.partials2[2].clone()],
                );
            }
        }
        _ => {
            if let Ok(ct) = fx.params2.dj_ciphertext_from_bytes(&bytes) {
                let pds: Vec<_> = fx
                    .shares2
                    .iter()
                    .filter_map(|s| s.partial_decrypt(&ct, &mut r).ok())
                    .collect();
                let _ = fx.params2.combine(&ct, &pds);
                let _ = fx.params2.combine_valid(&ct, &pds);
            }
        }
    }
});
