//! The portable fallback (no AVX-512 IFMA), forced on with
//! `__bench::disable_ifma` — its own test binary, since the switch is
//! process-wide. Batch decryption, CRT encryption and the public-key paths
//! must give the same results as with IFMA.
#![allow(clippy::unwrap_used)]

mod common;

use num_bigint::{BigUint, RandBigInt};
use paillier::{__bench, test_keys};

#[test]
fn fallback_matches_ifma_paths() {
    for pair in [test_keys::P1024, test_keys::P1536] {
        __bench::disable_ifma(false);
        let (pk, sk) = test_keys::keypair_from(pair).unwrap();
        let mut rng = common::rng(31);
        let mut ms: Vec<BigUint> = (0..11).map(|_| rng.gen_biguint_below(pk.n())).collect();
        ms[0] = BigUint::from(0u32);
        ms[5] = pk.n() - 1u32;
        let cts = pk.encrypt_batch(&ms, &mut rng).unwrap();
        let with_ifma = sk.decrypt_batch(&cts).unwrap();
        assert_eq!(with_ifma, ms);

        __bench::disable_ifma(true);
        assert!(!__bench::ifma_active());
        // a key built with IFMA contexts, used without them
        for len in 1..=cts.len() {
            assert_eq!(sk.decrypt_batch(&cts[..len]).unwrap(), ms[..len]);
        }
        // a key built without them
        let (pk2, sk2) = test_keys::keypair_from(pair).unwrap();
        let cts2 = sk2.encrypt_crt_batch(&ms, &mut rng).unwrap();
        assert_eq!(sk2.decrypt_batch(&cts2).unwrap(), ms);
        let sums = paillier::add_batch(&cts, &cts2).unwrap();
        let dec = sk2.decrypt_batch(&sums).unwrap();
        for (d, m) in dec.iter().zip(&ms) {
            assert_eq!(d, &((m + m) % pk2.n()));
        }
        __bench::disable_ifma(false);
    }
}
