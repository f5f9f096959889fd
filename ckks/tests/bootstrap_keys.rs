//! Serialized bootstrapping keys ([`BootstrapKeys::to_bytes`] /
//! [`BootstrapKeys::from_bytes`]): a round trip gives back the same keys,
//! and truncated, garbled or foreign bytes give a specific error,
//! never a panic. N = 2^12 with `SecurityLevel::None` (a small ring for a
//! fast test, not a secure parameter set), 8 slots.

#![allow(clippy::unwrap_used)]

use ckks::bootstrap::{BootstrapKeys, ChainBits};
use ckks::{BootstrapConfig, Bootstrapper, Error, Parameters, SecretKey, SecurityLevel};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

fn chain_params(user: usize, config: &BootstrapConfig) -> Parameters {
    let q = config
        .chain(
            user,
            ChainBits {
                q0: 50,
                user: 40,
                slots_to_coeffs: 45,
                eval_mod: 60,
                coeffs_to_slots: 60,
            },
        )
        .unwrap();
    Parameters::builder()
        .degree(4096)
        .q_bits(&q)
        .p_bits(&[60, 60, 60])
        .scale_bits(40)
        .security(SecurityLevel::None)
        .build()
        .unwrap()
}

fn is_malformed(r: &Result<BootstrapKeys, Error>) -> bool {
    matches!(
        r,
        Err(Error::Rlwe(rlwe::Error::Malformed { .. })) | Err(Error::Malformed { .. })
    )
}

/// A round trip gives back the same bytes (the same keys: a bootstrap with
/// them is the original keys' bootstrap; `ml-he/tests/compile_bootstrap.rs`
/// bootstraps with keys read from bytes), and bad bytes are refused.
#[test]
fn bootstrap_keys_round_trip_and_reject_bad_bytes() {
    let config = BootstrapConfig::new(8, 2f64.powi(40));
    let params = chain_params(2, &config);
    let mut rng = ChaCha20Rng::seed_from_u64(90);
    let r = &mut rng;
    let sk = SecretKey::generate(&params, r);
    let boot = Bootstrapper::new(&params, config.clone()).unwrap();
    let keys = boot.generate_keys(&sk, r).unwrap();
    let bytes = keys.to_bytes();
    assert_eq!(bytes.len(), keys.serialized_size());
    let back = BootstrapKeys::from_bytes(&params, &bytes).unwrap();
    assert_eq!(back.to_bytes(), bytes, "a round trip is the identity");

    // truncated anywhere: malformed
    for cut in [
        0usize,
        10,
        38,
        39,
        45,
        200,
        bytes.len() / 3,
        bytes.len() - 1,
    ] {
        let got = BootstrapKeys::from_bytes(&params, &bytes[..cut]);
        assert!(is_malformed(&got), "cut at {cut}: {:?}", got.err());
    }
    // a trailing byte
    let mut long = bytes.clone();
    long.push(0);
    assert!(is_malformed(&BootstrapKeys::from_bytes(&params, &long)));
    // bad magic
    let mut b = bytes.clone();
    b[0] ^= 0xff;
    assert!(is_malformed(&BootstrapKeys::from_bytes(&params, &b)));
    // the body's tag: another CKKS object's
    let mut b = bytes.clone();
    b[39 + 6] ^= 0x01;
    match BootstrapKeys::from_bytes(&params, &b) {
        Err(Error::Malformed { what, reason }) => {
            assert_eq!(what, "CKKS bootstrapping keys");
            assert!(reason.contains("not bootstrapping keys"), "{reason}");
        }
        other => panic!("expected Malformed, got {:?}", other.err()),
    }
    // a residue of the last key (the 8 bytes before the empty list of
    // explicit `a` polynomials) set to 2^64 − 1, above every modulus
    let mut b = bytes.clone();
    let n = b.len();
    b[n - 9..n - 1].fill(0xff);
    let got = BootstrapKeys::from_bytes(&params, &b);
    assert!(is_malformed(&got), "{:?}", got.err());
    // garbage of every length up to 64 bytes and a garbled body: an error,
    // never a panic
    for len in 0..64 {
        let junk: Vec<u8> = (0..len).map(|_| r.gen::<u8>()).collect();
        assert!(BootstrapKeys::from_bytes(&params, &junk).is_err());
    }
    let mut b = bytes.clone();
    for i in (39..b.len()).step_by(b.len() / 97 + 1) {
        b[i] = b[i].wrapping_add(0x5a);
    }
    assert!(BootstrapKeys::from_bytes(&params, &b).is_err());
    // keys of other parameters
    let other = chain_params(3, &config);
    assert!(matches!(
        BootstrapKeys::from_bytes(&other, &bytes),
        Err(Error::Rlwe(rlwe::Error::ParameterMismatch { .. }))
    ));
}
