//! Every `threshold::wire` message (public-key, relinearization rounds 1
//! and 2, Galois-key, decryption, key-switching shares, Shamir dealing
//! messages) read from bytes and fed to its aggregation next to valid
//! shares of the other parties; and arbitrary ciphertexts decrypted
//! collectively (N-of-N and t-of-n) then finished as BFV and CKKS.
#![no_main]
use hekit_fuzz::{fixtures, rng, Input};
use libfuzzer_sys::fuzz_target;
use rlwe::ciphertext::Ciphertext;
use threshold::*;

fn finish(fx: &fixtures::ThresholdFx, agg: Result<DecryptionShares>) {
    if let Ok(agg) = agg {
        let _ = agg.finish_bfv(&fx.bfv, bfv::Encoding::Batch);
        let _ = agg.finish_bfv(&fx.bfv, bfv::Encoding::Coefficients);
        let _ = agg.finish_ckks(&fx.ckks, 2f64.powi(30));
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(input) = Input::parse(data) else {
        return;
    };
    let fx = fixtures::threshold();
    let kind = input.kind as usize % fixtures::THRESHOLD_KINDS.len();
    let bytes = input.bytes(&fx.valid(kind));
    let p = &fx.params;
    let mut r = rng(105);
    match kind {
        0 => {
            if let Ok(s) = PublicKeyShare::from_bytes(p, &bytes) {
                let mut all = vec![s];
                for b in &fx.pk[1..] {
                    all.push(PublicKeyShare::from_bytes(p, b).expect("valid"));
                }
                if let Ok(agg) = PublicKeyShares::aggregate(all) {
                    let _ = agg.finish();
                }
            }
        }
        1 => {
            if let Ok(s) = RelinRound1Share::from_bytes(p, &bytes) {
                let mut all = vec![s];
                for b in &fx.r1[1..] {
                    all.push(RelinRound1Share::from_bytes(p, b).expect("valid"));
                }
                if let Ok(agg) = RelinKeyRound1::aggregate(all) {
                    let r2: Vec<RelinRound2Share> = fx
                        .r2
                        .iter()
                        .map(|b| RelinRound2Share::from_bytes(p, b).expect("valid"))
                        .collect();
                    if let Ok(a2) = RelinKeyRound2::aggregate(agg, r2) {
                        let _ = a2.finish();
                    }
                }
            }
        }
        2 => {
            if let Ok(s) = RelinRound2Share::from_bytes(p, &bytes) {
                let r1: Vec<RelinRound1Share> = fx
                    .r1
                    .iter()
                    .map(|b| RelinRound1Share::from_bytes(p, b).expect("valid"))
                    .collect();
                let agg = RelinKeyRound1::aggregate(r1).expect("valid round 1");
                let mut all = vec![s];
                for b in &fx.r2[1..] {
                    all.push(RelinRound2Share::from_bytes(p, b).expect("valid"));
                }
                if let Ok(a2) = RelinKeyRound2::aggregate(agg, all) {
                    if let Ok(rlk) = a2.finish() {
                        let ct = fx.ct.tensor(&fx.ct).expect("tensor");
                        let _ = ct.relinearize(&rlk);
                    }
                }
            }
        }
        3 => {
            if let Ok(s) = GaloisKeyShare::from_bytes(p, &bytes) {
                let mut all = vec![s];
                for b in &fx.gk[1..] {
                    all.push(GaloisKeyShare::from_bytes(p, b).expect("valid"));
                }
                if let Ok(agg) = GaloisKeyShares::aggregate(all) {
                    if let Ok(gk) = agg.finish() {
                        let _ = fx.ct.apply_galois(&gk);
                    }
                }
            }
        }
        4 => {
            if let Ok(s) = DecryptionShare::from_bytes(p, &bytes) {
                let mut all = vec![s.clone()];
                for b in &fx.dec[1..] {
                    all.push(DecryptionShare::from_bytes(p, b).expect("valid"));
                }
                finish(fx, DecryptionShares::aggregate(&fx.ct, all, None));
                let other = DecryptionShare::from_bytes(p, &fx.dec_t[1]).expect("valid");
                finish(
                    fx,
                    DecryptionShares::aggregate(&fx.ct, vec![s, other], Some(&fx.active)),
                );
            }
        }
        5 => {
            if let Ok(s) = KeySwitchShare::from_bytes(p, &bytes) {
                let mut all = vec![s];
                for b in &fx.ks[1..] {
                    all.push(KeySwitchShare::from_bytes(p, b).expect("valid"));
                }
                if let Ok(agg) = KeySwitchShares::aggregate(&fx.ct, all, None) {
                    let _ = agg.finish().to_bytes();
                }
            }
        }
        6 => {
            if let Ok(m) = SecretShareMessage::from_bytes(p, &bytes) {
                let msgs = vec![
                    SecretShareMessage::from_bytes(p, &fx.deal[0]).expect("valid"),
                    m,
                    SecretShareMessage::from_bytes(p, &fx.deal[2]).expect("valid"),
                ];
                let mut party = Party::from_secret(PartyId(1), fx.sk1.clone());
                if party.receive_dealings(msgs, 2, 3).is_ok() {
                    let _ = party.decryption_share(&fx.ct, Some(&fx.active), &fx.smudging, &mut r);
                }
            }
        }
        _ => {
            if let Ok(ct) = Ciphertext::from_bytes(p, &bytes) {
                let mut parties = fx.parties.lock().unwrap_or_else(|e| e.into_inner());
                let all: Vec<DecryptionShare> = parties
                    .iter_mut()
                    .filter_map(|q| q.decryption_share(&ct, None, &fx.smudging, &mut r).ok())
                    .collect();
                finish(fx, DecryptionShares::aggregate(&ct, all, None));
                let t: Vec<DecryptionShare> = parties[..2]
                    .iter_mut()
                    .filter_map(|q| {
                        q.decryption_share(&ct, Some(&fx.active), &fx.smudging, &mut r)
                            .ok()
                    })
                    .collect();
                finish(fx, DecryptionShares::aggregate(&ct, t, Some(&fx.active)));
                let ks: Vec<KeySwitchShare> = parties
                    .iter_mut()
                    .filter_map(|q| {
                        q.key_switch_share(&ct, &fx.target, None, &fx.smudging, &mut r)
                            .ok()
                    })
                    .collect();
                let _ = KeySwitchShares::aggregate(&ct, ks, None);
            }
        }
    }
});
