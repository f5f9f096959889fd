//! Proofs of correct decryption shares (`hekit-zk`, N = 1024): an arbitrary
//! proof of two shares decoded with `ShareProof::from_bytes` and, when it
//! decodes, verified against fixed shares (which only the valid proof
//! proves). Structured mode edits a valid proof.
#![no_main]
use std::sync::OnceLock;

use hekit_fuzz::{rng, Input};
use libfuzzer_sys::fuzz_target;
use rlwe::poly::{Poly, Representation};
use rlwe::sample;

struct Fx {
    zp: zk::ShareParams,
    key: zk::ShareKey,
    com: zk::ShareCommitment,
    ms: Vec<Poly>,
    ds: Vec<Poly>,
    proof: Vec<u8>,
}

fn fx() -> &'static Fx {
    static FX: OnceLock<Fx> = OnceLock::new();
    FX.get_or_init(|| {
        let params = rlwe::params::Params::builder()
            .degree(1024)
            .q_bits(&[60, 60, 60])
            .security(rlwe::params::SecurityLevel::None)
            .build()
            .expect("params");
        let ring = params.ring_q_top().clone();
        let mut r = rng(181);
        let zp = zk::ShareParams::new(&ring, 1 << 10, 1 << 40, 2).expect("zk params");
        let a1 = sample::uniform_poly(&ring, Representation::Ntt, &mut r);
        let a2 = sample::uniform_poly(&ring, Representation::Ntt, &mut r);
        let key = zk::ShareKey::new(&zp, &a1, &a2).expect("key");
        let s = sample::uniform_poly(&ring, Representation::Ntt, &mut r);
        let mut k = Vec::new();
        for a in [&a1, &a2] {
            let mut p = sample::small_poly(&ring, &sample::cbd(1024, &mut r));
            p.to_ntt();
            p.mul_acc(a, &s).expect("mul");
            k.push(p);
        }
        let com = zk::ShareCommitment::new(&zp, &k[0], &k[1]).expect("commitment");
        let w = zk::ShareWitness::new(&zp, &key, &com, &s).expect("witness");
        let (mut ms, mut ds, mut es) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..2 {
            let m = sample::uniform_poly(&ring, Representation::Ntt, &mut r);
            let e = sample::gaussian_wide(1024, 30.0, &mut r).expect("noise");
            let mut d = sample::wide_poly(&ring, &e);
            d.to_ntt();
            d.mul_acc(&m, &s).expect("mul");
            ms.push(m);
            ds.push(d);
            es.push(e);
        }
        let st = zk::SharesRef {
            multipliers: &ms,
            shares: &ds,
        };
        let proof = zk::prove_shares(&zp, &key, &com, &[0; 32], st, &w, &es, &mut r)
            .expect("prove")
            .to_bytes(&zp);
        Fx {
            zp,
            key,
            com,
            ms,
            ds,
            proof,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some(input) = Input::parse(data) else {
        return;
    };
    let f = fx();
    let bytes = input.bytes(&f.proof);
    if let Ok(p) = zk::ShareProof::from_bytes(&f.zp, 2, &bytes) {
        let st = zk::SharesRef {
            multipliers: &f.ms,
            shares: &f.ds,
        };
        let ok = zk::verify_shares(&f.zp, &f.key, &f.com, &[0; 32], st, &p).is_ok();
        // only the valid proof itself verifies
        assert!(!ok || bytes == f.proof);
    }
});
