//! Federated averaging with threshold Paillier: `PaillierServer::add` of an
//! arbitrary update after a valid one, `decryption_share` of an arbitrary
//! request, `combine` of an arbitrary request with valid shares and of the
//! valid request with an arbitrary share (partial decryptions and proofs
//! inside).
#![no_main]
use hekit_fuzz::{fixtures, rng, Input};
use libfuzzer_sys::fuzz_target;
use ml_he::aggregation::paillier_variant::{combine, KeyHolder, PaillierServer};

fuzz_target!(|data: &[u8]| {
    let Some(input) = Input::parse(data) else {
        return;
    };
    let fx = fixtures::pagg();
    let kind = input.kind as usize % fixtures::PAGG_KINDS.len();
    let bytes = input.bytes(fx.valid(kind));
    let mut r = rng(108);
    match kind {
        0 => {
            let mut server = PaillierServer::new(&fx.session, 0, 5).expect("server");
            server.add(&fx.updates[0]).expect("valid update");
            if server.add(&bytes).is_ok() {
                let _ = server.decryption_request();
            }
        }
        1 => {
            let share = threshold::paillier::KeyShare::from_bytes(&fx.shares[2]).expect("share");
            let mut holder = KeyHolder::new(&fx.session, share, 2).expect("holder");
            let _ = holder.decryption_share(&bytes, &mut r);
        }
        2 => {
            let _ = combine(&fx.session, &bytes, &fx.dshares);
        }
        _ => {
            let _ = combine(
                &fx.session,
                &fx.request,
                &[bytes.clone(), fx.dshares[1].clone()],
            );
            let _ = combine(&fx.session, &fx.request, &[fx.dshares[1].clone(), bytes]);
        }
    }
});
