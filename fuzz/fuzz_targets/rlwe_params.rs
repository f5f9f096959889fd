//! `rlwe::params::Params::from_bytes`: envelope, moduli, degree, security
//! level, fingerprint. Accepted parameters must re-serialize to the same
//! bytes (the format is canonical).
#![no_main]
use hekit_fuzz::{fixtures, Input};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(input) = Input::parse(data) else {
        return;
    };
    let fx = fixtures::rlwe();
    let valid = &fx.params_bytes[input.kind as usize % fx.params_bytes.len()];
    let bytes = input.bytes(valid);
    if let Ok(p) = rlwe::params::Params::from_bytes(&bytes, rlwe::params::SecurityLevel::None) {
        assert_eq!(p.to_bytes(), bytes, "parameters re-serialize differently");
    }
});
