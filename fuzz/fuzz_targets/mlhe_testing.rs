//! Private model testing (threshold BFV, N = 8192): `TestingServer::add` of
//! arbitrary encrypted counts after valid ones, `TestParty::decryption_share`
//! of an arbitrary request, `combine` of an arbitrary request with valid
//! shares and of the valid request with an arbitrary share.
#![no_main]
use hekit_fuzz::{fixtures, rng, Input};
use libfuzzer_sys::fuzz_target;
use ml_he::testing::{combine, TestingServer};

fuzz_target!(|data: &[u8]| {
    let Some(input) = Input::parse(data) else {
        return;
    };
    let fx = fixtures::testing();
    let kind = input.kind as usize % fixtures::TESTING_KINDS.len();
    let bytes = input.bytes(fx.valid(kind));
    let mut r = rng(109);
    match kind {
        0 => {
            let mut server = TestingServer::new(&fx.key);
            server.add(&fx.counts[0]).expect("valid counts");
            if server.add(&bytes).is_ok() {
                let _ = server.decryption_request(&[2, 3]);
            }
        }
        1 => {
            let mut parties = fx.parties.lock().unwrap_or_else(|e| e.into_inner());
            let _ = parties[1].decryption_share(&bytes, &mut r);
        }
        2 => {
            let _ = combine(&fx.key, &bytes, &fx.shares);
        }
        _ => {
            let _ = combine(&fx.key, &fx.request, &[bytes.clone(), fx.shares[1].clone()]);
            let _ = combine(&fx.key, &fx.request, &[fx.shares[1].clone(), bytes]);
        }
    }
});
