//! Proofs of well-formed encryption (`hekit-zk`, N = 1024): an arbitrary
//! proof decoded with `EncProof::from_bytes` and, when it decodes, verified
//! against a fixed ciphertext (which it must not prove). Structured mode
//! edits a valid proof.
#![no_main]
use std::sync::OnceLock;

use hekit_fuzz::{rng, Input};
use libfuzzer_sys::fuzz_target;

struct Fx {
    zp: zk::EncParams,
    key: zk::EncKey,
    ct: zk::Ciphertext,
    proof: Vec<u8>,
}

fn fx() -> &'static Fx {
    static FX: OnceLock<Fx> = OnceLock::new();
    FX.get_or_init(|| {
        let params = rlwe::params::Params::builder()
            .degree(1024)
            .q_bits(&[49, 49])
            .security(rlwe::params::SecurityLevel::None)
            .build()
            .expect("params");
        let mut r = rng(180);
        let sk = rlwe::keys::SecretKey::generate(&params, &mut r);
        let pk = rlwe::keys::PublicKey::generate(&sk, &mut r).expect("pk");
        let zp = zk::EncParams::new(params.ring_q_top(), 1 << 20, 60).expect("zk params");
        let key = zk::EncKey::new(&zp, &pk).expect("key");
        let (ct, w) = zk::encrypt(&zp, &key, &[1, 2, 3], &mut r).expect("encrypt");
        let proof = zk::prove(&zp, &key, &[0; 32], 0, (&ct.0, &ct.1), &w, &mut r)
            .expect("prove")
            .to_bytes(&zp);
        Fx { zp, key, ct, proof }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some(input) = Input::parse(data) else {
        return;
    };
    let f = fx();
    let bytes = input.bytes(&f.proof);
    if let Ok(p) = zk::EncProof::from_bytes(&f.zp, &bytes) {
        let ok = zk::verify(&f.zp, &f.key, &[0; 32], 0, (&f.ct.0, &f.ct.1), &p).is_ok();
        // only the valid proof itself verifies
        assert!(!ok || bytes == f.proof);
    }
});
