//! Encrypted-inference messages: the public setup (and the CKKS parameters
//! it describes), evaluation keys, queries (evaluated by the server with
//! valid keys) and responses (decrypted by the client).
#![no_main]
use hekit_fuzz::{fixtures, Input};
use libfuzzer_sys::fuzz_target;
use ml_he::inference::{PublicSetup, Query};

fuzz_target!(|data: &[u8]| {
    let Some(input) = Input::parse(data) else {
        return;
    };
    let fx = fixtures::inference();
    let kind = input.kind as usize % fx.bytes.len();
    let bytes = input.bytes(&fx.bytes[kind]);
    match kind {
        0 => {
            if let Ok(s) = PublicSetup::from_bytes(&bytes) {
                let _ = s.ciphertexts_for(3);
                let _ = s.parameters();
            }
        }
        1 => {
            if let Ok(keys) = fx.server.read_keys(&bytes) {
                let q = Query::from_bytes(fx.server.parameters(), &fx.bytes[2]).expect("valid");
                if let Ok(resp) = fx.server.evaluate(&keys, &q) {
                    let _ = fx.client.decrypt(&resp);
                }
            }
        }
        2 => {
            if let Ok(q) = fx.server.read_query(&bytes) {
                if let Ok(resp) = fx.server.evaluate(&fx.keys, &q) {
                    let _ = fx.client.decrypt(&resp);
                }
            }
        }
        _ => {
            let _ = fx.client.decrypt_bytes(&bytes);
        }
    }
});
