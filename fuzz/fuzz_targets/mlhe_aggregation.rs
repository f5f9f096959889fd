//! HE-MPC federated averaging (threshold CKKS, N = 8192): the session key
//! read from bytes, `Server::add` of an arbitrary update after a valid one,
//! `Client::decryption_share` of an arbitrary request, `combine` of an
//! arbitrary request with valid shares and of the valid request with an
//! arbitrary share.
#![no_main]
use hekit_fuzz::{fixtures, rng, Input};
use libfuzzer_sys::fuzz_target;
use ml_he::aggregation::{combine, Server, SessionKey};

fuzz_target!(|data: &[u8]| {
    let Some(input) = Input::parse(data) else {
        return;
    };
    let fx = fixtures::agg();
    let kind = input.kind as usize % fixtures::AGG_KINDS.len();
    let bytes = input.bytes(fx.valid(kind));
    let mut r = rng(107);
    match kind {
        0 => {
            if let Ok(key) = SessionKey::from_bytes(&fx.params, &bytes) {
                let _ = key.encrypt_update(1, 0, &[1.0, -2.0], &mut r);
            }
        }
        1 => {
            let mut server = Server::new(&fx.key, 0, 4).expect("server");
            server.add(&fx.updates[0]).expect("valid update");
            if server.add(&bytes).is_ok() {
                let _ = server.decryption_request(&[2, 3]);
            }
        }
        2 => {
            let mut clients = fx.clients.lock().unwrap_or_else(|e| e.into_inner());
            let _ = clients[1].decryption_share(&bytes, &mut r);
        }
        3 => {
            let _ = combine(&fx.key, &bytes, &fx.shares);
        }
        _ => {
            let _ = combine(&fx.key, &fx.request, &[bytes.clone(), fx.shares[1].clone()]);
            let _ = combine(&fx.key, &fx.request, &[fx.shares[1].clone(), bytes]);
        }
    }
});
