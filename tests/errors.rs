//! The bad-input catalogue: one test per row of `docs/errors.md`.
//!
//! Each test provokes exactly the error its row describes, through the
//! public API, and checks the variant (not just "some error"). The test
//! `catalogue_matches_docs` keeps the table and this file in step: every
//! row names a test that exists here, and every test here has a row.

use std::sync::Arc;

use hekit::{bfv, ckks, ml_he, paillier, rlwe, threshold, zk};
use num_bigint::{BigInt, BigUint};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

fn rng() -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(0xE77)
}

// ---------------------------------------------------------------- fixtures

fn rlwe_params() -> Arc<rlwe::params::Params> {
    rlwe::params::Params::builder()
        .degree(4096)
        .q_bits(&[36, 36])
        .p_bits(&[37])
        .build()
        .expect("valid 109-bit parameters")
}

fn rlwe_other_params() -> Arc<rlwe::params::Params> {
    rlwe::params::Params::builder()
        .degree(4096)
        .q_bits(&[35, 36])
        .p_bits(&[37])
        .build()
        .expect("valid 108-bit parameters")
}

fn rlwe_ct(
    params: &Arc<rlwe::params::Params>,
) -> (rlwe::keys::SecretKey, rlwe::ciphertext::Ciphertext) {
    let mut rng = rng();
    let sk = rlwe::keys::SecretKey::generate(params, &mut rng);
    let m = rlwe::poly::Poly::from_i64(params.ring_q_top(), &[1, 2, 3]).expect("3 coefficients");
    let ct = sk.encrypt(&m, &mut rng).expect("encrypt");
    (sk, ct)
}

fn bfv_setup() -> (
    Arc<bfv::Parameters>,
    bfv::SecretKey,
    bfv::Encoder,
    bfv::Evaluator,
) {
    let params = bfv::Parameters::preset(bfv::Preset::N4096T65537).expect("preset");
    let sk = bfv::SecretKey::generate(&params, &mut rng());
    let encoder = bfv::Encoder::new(&params);
    let eval = bfv::Evaluator::new(&params);
    (params, sk, encoder, eval)
}

fn ckks_setup() -> (
    ckks::Parameters,
    ckks::SecretKey,
    ckks::Encoder,
    ckks::Evaluator,
) {
    let params = ckks::Parameters::preset(ckks::Preset::N8192).expect("preset");
    let sk = ckks::SecretKey::generate(&params, &mut rng());
    let encoder = ckks::Encoder::new(&params);
    let eval = ckks::Evaluator::new(&params);
    (params, sk, encoder, eval)
}

fn paillier_keys() -> (paillier::PublicKey, paillier::SecretKey) {
    paillier::test_keys::keypair_from(paillier::test_keys::P1024).expect("2048-bit test key")
}

fn threshold_paillier() -> (
    threshold::PaillierPublicParams,
    Vec<threshold::PaillierKeyShare>,
) {
    let (p, q) = paillier::test_keys::primes(threshold::paillier::test_primes::SAFE512);
    threshold::paillier::Dealer::deal_with_primes_insecure(p, q, 2, 3, &mut rng())
        .expect("1024-bit insecure test dealing")
}

fn parties(params: &Arc<rlwe::params::Params>, n: u32) -> Vec<threshold::Party> {
    let mut rng = rng();
    (1..=n)
        .map(|i| threshold::Party::new(threshold::PartyId(i), params, &mut rng))
        .collect()
}

fn aggregation() -> (
    Arc<ml_he::aggregation::AggregationParams>,
    Vec<ml_he::aggregation::Client>,
    ml_he::aggregation::SessionKey,
) {
    use ml_he::aggregation::*;
    let mut rng = rng();
    let params = AggregationParams::new(AggregationConfig::new(3, 2), [5; 32]).expect("params");
    let mut clients: Vec<Client> = (1..=3)
        .map(|i| Client::new(&params, i, &mut rng))
        .collect::<ml_he::Result<_>>()
        .expect("clients");
    let shares = clients
        .iter_mut()
        .map(|c| c.public_key_share(&mut rng))
        .collect::<ml_he::Result<Vec<_>>>()
        .expect("shares");
    let key = SessionKey::from_shares(&params, shares).expect("key");
    let key = deal_all(&mut clients, &key, &mut rng).expect("dealing");
    (params, clients, key)
}

// ---------------------------------------------------------------- rlwe

#[test]
fn rlwe_invalid_parameters() {
    let r = rlwe::params::Params::builder()
        .degree(3000)
        .q_bits(&[30])
        .build();
    assert!(
        matches!(r, Err(rlwe::Error::InvalidParameters { .. })),
        "{r:?}"
    );
}

#[test]
fn rlwe_insecure_parameters() {
    let r = rlwe::params::Params::builder()
        .degree(4096)
        .q_bits(&[50, 50])
        .p_bits(&[50])
        .build();
    assert!(
        matches!(
            r,
            Err(rlwe::Error::InsecureParameters {
                degree: 4096,
                max_log_qp: 109,
                level: 128,
                ..
            })
        ),
        "{r:?}"
    );
}

#[test]
fn rlwe_security_below_minimum() {
    // a peer's parameters recorded as SecurityLevel::None: 150 bits at N = 4096
    let weak = rlwe::params::Params::builder()
        .degree(4096)
        .q_bits(&[50, 50])
        .p_bits(&[50])
        .security(rlwe::params::SecurityLevel::None)
        .build()
        .expect("unchecked parameters");
    let r =
        rlwe::params::Params::from_bytes(&weak.to_bytes(), rlwe::params::SecurityLevel::Bits128);
    assert!(
        matches!(
            r,
            Err(rlwe::Error::SecurityBelowMinimum {
                degree: 4096,
                claimed: 0,
                min: 128,
                max_log_qp: 109,
                ..
            })
        ),
        "{r:?}"
    );
}

#[test]
fn rlwe_parameter_mismatch() {
    let (_, mut a) = rlwe_ct(&rlwe_params());
    let (_, b) = rlwe_ct(&rlwe_other_params());
    let r = a.add_assign(&b);
    assert!(
        matches!(r, Err(rlwe::Error::ParameterMismatch { .. })),
        "{r:?}"
    );
}

#[test]
fn rlwe_invalid_level() {
    let params = rlwe_params();
    let (_, ct) = rlwe_ct(&params);
    let low = ct.drop_to_level(0).expect("drop");
    let r = low.drop_to_level(1);
    assert!(
        matches!(r, Err(rlwe::Error::InvalidLevel { got: 1, max: 0, .. })),
        "{r:?}"
    );
}

#[test]
fn rlwe_representation_mismatch() {
    let params = rlwe_params();
    let (_, mut ct) = rlwe_ct(&params);
    let coeff_form = rlwe::poly::Poly::from_i64(params.ring_q_top(), &[1]).expect("poly");
    let r = ct.mul_plain_assign(&coeff_form);
    assert!(
        matches!(r, Err(rlwe::Error::RepresentationMismatch { .. })),
        "{r:?}"
    );
}

#[test]
fn rlwe_out_of_range() {
    let params = rlwe_params();
    let mut coeffs = vec![0i64; params.degree()];
    coeffs[7] = 1 << 41;
    let r = rlwe::keys::SecretKey::from_coeffs(&params, coeffs);
    assert!(matches!(r, Err(rlwe::Error::OutOfRange { .. })));
    // wide noise beyond the sampler's 2^120 is refused, not narrowed
    let r = rlwe::sample::gaussian_wide(4, 121.0, &mut rng());
    assert!(matches!(r, Err(rlwe::Error::OutOfRange { .. })), "{r:?}");
}

#[test]
fn rlwe_missing_key() {
    let params = rlwe_params();
    let sk = rlwe::keys::SecretKey::generate(&params, &mut rng());
    let e1 = rlwe::keys::galois_element_for_rotation(1, params.degree());
    let e2 = rlwe::keys::galois_element_for_rotation(2, params.degree());
    let gks = rlwe::keys::GaloisKeys::generate(&sk, &[e1], &mut rng()).expect("keys");
    let r = gks.get(e2).map(|_| ());
    assert!(matches!(r, Err(rlwe::Error::MissingKey { .. })), "{r:?}");
}

#[test]
fn rlwe_malformed() {
    let params = rlwe_params();
    let (_, ct) = rlwe_ct(&params);
    let bytes = ct.to_bytes();
    let r = rlwe::ciphertext::Ciphertext::from_bytes(&params, &bytes[..bytes.len() - 1]);
    assert!(matches!(r, Err(rlwe::Error::Malformed { .. })), "{r:?}");
}

#[test]
fn rlwe_unknown_version() {
    let params = rlwe_params();
    let (_, ct) = rlwe_ct(&params);
    let mut bytes = ct.to_bytes();
    bytes[4] = 0x7f; // the u16 version follows the 4-byte magic
    let r = rlwe::ciphertext::Ciphertext::from_bytes(&params, &bytes);
    assert!(
        matches!(r, Err(rlwe::Error::UnknownVersion { supported: 2, .. })),
        "{r:?}"
    );
}

#[test]
fn rlwe_retired_version() {
    let params = rlwe_params();
    let (_, ct) = rlwe_ct(&params);
    let mut bytes = ct.to_bytes();
    bytes[4..6].copy_from_slice(&1u16.to_le_bytes()); // hekit 0.1's bincode format
    let r = rlwe::ciphertext::Ciphertext::from_bytes(&params, &bytes);
    assert!(
        matches!(r, Err(rlwe::Error::RetiredVersion { version: 1, .. })),
        "{r:?}"
    );
}

// ---------------------------------------------------------------- bfv

#[test]
fn bfv_rlwe() {
    // Lattice-core errors pass through unchanged: a ciphertext made for
    // other parameters fails the envelope's parameter fingerprint.
    let (_, sk, encoder, _) = bfv_setup();
    let other = bfv::Parameters::preset(bfv::Preset::N8192T65537).expect("preset");
    let ct = sk
        .encrypt(&encoder.encode(&[1]).expect("encode"), &mut rng())
        .expect("encrypt");
    let r = bfv::Ciphertext::from_bytes(&other, &ct.to_bytes());
    assert!(
        matches!(
            r,
            Err(bfv::Error::Rlwe(rlwe::Error::ParameterMismatch { .. }))
        ),
        "{r:?}"
    );
}

#[test]
fn bfv_invalid_parameters() {
    let rlwe = rlwe_params();
    let r = bfv::Parameters::from_rlwe(rlwe, 1);
    assert!(matches!(r, Err(bfv::Error::InvalidParameters { .. })));
}

#[test]
fn bfv_parameter_mismatch() {
    let (_, _, _, eval) = bfv_setup();
    let other = bfv::Parameters::preset(bfv::Preset::N8192T65537).expect("preset");
    let sk2 = bfv::SecretKey::generate(&other, &mut rng());
    let ct2 = sk2
        .encrypt(
            &bfv::Encoder::new(&other).encode(&[1]).expect("encode"),
            &mut rng(),
        )
        .expect("encrypt");
    let r = eval.add(&ct2, &ct2);
    assert!(
        matches!(r, Err(bfv::Error::ParameterMismatch { .. })),
        "{r:?}"
    );
}

#[test]
fn bfv_plaintext_out_of_range() {
    let (_, _, encoder, _) = bfv_setup();
    let r = encoder.encode(&[70_000]);
    assert!(
        matches!(
            r,
            Err(bfv::Error::PlaintextOutOfRange {
                value: 70_000,
                t: 65537
            })
        ),
        "{r:?}"
    );
}

#[test]
fn bfv_too_many_values() {
    let (_, _, encoder, _) = bfv_setup();
    let r = encoder.encode(&vec![1; 4097]);
    assert!(
        matches!(
            r,
            Err(bfv::Error::TooManyValues {
                got: 4097,
                max: 4096
            })
        ),
        "{r:?}"
    );
}

#[test]
fn bfv_batching_unavailable() {
    let params = bfv::Parameters::from_rlwe(rlwe_params(), 256).expect("t = 256");
    let r = bfv::Encoder::new(&params).encode(&[1]);
    assert!(
        matches!(r, Err(bfv::Error::BatchingUnavailable { t: 256 })),
        "{r:?}"
    );
}

#[test]
fn bfv_encoding_mismatch() {
    let (_, _, encoder, _) = bfv_setup();
    let pt = encoder.encode_coefficients(&[1, 2]).expect("encode");
    let r = encoder.decode(&pt);
    assert!(
        matches!(r, Err(bfv::Error::EncodingMismatch { .. })),
        "{r:?}"
    );
}

#[test]
fn bfv_invalid_rotation() {
    let (_, sk, _, _) = bfv_setup();
    let r = bfv::GaloisKeys::generate(&sk, &[2048], &mut rng());
    assert!(
        matches!(
            r,
            Err(bfv::Error::InvalidRotation {
                step: 2048,
                slots: 2048
            })
        ),
        "{r:?}"
    );
}

#[test]
fn bfv_malformed() {
    let (params, _, _, _) = bfv_setup();
    let r = bfv::Ciphertext::from_bytes(&params, b"not a ciphertext");
    assert!(
        matches!(
            r,
            Err(bfv::Error::Malformed { .. } | bfv::Error::Rlwe(rlwe::Error::Malformed { .. }))
        ),
        "{r:?}"
    );
}

// ---------------------------------------------------------------- ckks

#[test]
fn ckks_rlwe() {
    let (_, sk, encoder, eval) = ckks_setup();
    let ct = sk
        .encrypt(&encoder.encode(&[1.0]).expect("encode"), &mut rng())
        .expect("encrypt");
    let gks = ckks::GaloisKeys::generate(&sk, &[1], &mut rng()).expect("keys");
    let r = eval.rotate(&ct, 2, &gks);
    assert!(
        matches!(r, Err(ckks::Error::Rlwe(rlwe::Error::MissingKey { .. }))),
        "{r:?}"
    );
}

#[test]
fn ckks_scale_mismatch() {
    let (params, sk, encoder, eval) = ckks_setup();
    let ct = sk
        .encrypt(&encoder.encode(&[1.0]).expect("encode"), &mut rng())
        .expect("encrypt");
    let pt = encoder
        .encode_at(&[1.0], params.max_level(), 2f64.powi(30))
        .expect("encode");
    let r = eval.add_plain(&ct, &pt);
    assert!(matches!(r, Err(ckks::Error::ScaleMismatch { .. })), "{r:?}");
}

#[test]
fn ckks_parameter_mismatch() {
    let (_, sk, encoder, _) = ckks_setup();
    let other = ckks::Parameters::builder()
        .degree(8192)
        .q_bits(&[50, 40])
        .p_bits(&[50])
        .scale_bits(40)
        .build()
        .expect("params");
    let ct = sk
        .encrypt(&encoder.encode(&[1.0]).expect("encode"), &mut rng())
        .expect("encrypt");
    let sk2 = ckks::SecretKey::generate(&other, &mut rng());
    let r = sk2.decrypt(&ct);
    assert!(
        matches!(r, Err(ckks::Error::ParameterMismatch { .. })),
        "{r:?}"
    );
}

#[test]
fn ckks_invalid_level() {
    let (params, sk, encoder, eval) = ckks_setup();
    let ct = sk
        .encrypt(
            &encoder
                .encode_at(&[1.0], 1, params.scale())
                .expect("encode"),
            &mut rng(),
        )
        .expect("encrypt");
    let r = eval.match_scale(&ct, params.scale(), 2);
    assert!(matches!(r, Err(ckks::Error::InvalidLevel { .. })), "{r:?}");
}

#[test]
fn ckks_not_enough_levels() {
    let (params, sk, encoder, eval) = ckks_setup();
    let rlk = ckks::RelinKey::generate(&sk, &mut rng()).expect("rlk");
    let ct = sk
        .encrypt(
            &encoder
                .encode_at(&[0.5], 1, params.scale())
                .expect("encode"),
            &mut rng(),
        )
        .expect("encrypt");
    // degree 7 needs 3 levels; the ciphertext has 1 left
    let poly =
        ckks::Polynomial::from_power(&[0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0]).expect("poly");
    let r = eval.evaluate_polynomial(&ct, &poly, &rlk);
    assert!(
        matches!(r, Err(ckks::Error::NotEnoughLevels { .. })),
        "{r:?}"
    );
}

#[test]
fn ckks_value_out_of_range() {
    let (_, _, encoder, _) = ckks_setup();
    let r = encoder.encode(&[f64::NAN]);
    assert!(
        matches!(r, Err(ckks::Error::ValueOutOfRange { .. })),
        "{r:?}"
    );
}

#[test]
fn ckks_too_many_values() {
    let (_, _, encoder, _) = ckks_setup();
    let r = encoder.encode(&vec![0.0; 4097]);
    assert!(
        matches!(
            r,
            Err(ckks::Error::TooManyValues {
                got: 4097,
                max: 4096
            })
        ),
        "{r:?}"
    );
}

#[test]
fn ckks_invalid_argument() {
    let r = ckks::Polynomial::from_power(&[]);
    assert!(
        matches!(r, Err(ckks::Error::InvalidArgument { .. })),
        "{r:?}"
    );
}

#[test]
fn ckks_malformed() {
    let (params, _, _, _) = ckks_setup();
    let r = ckks::Ciphertext::from_bytes(&params, &[0u8; 3]);
    assert!(
        matches!(
            r,
            Err(ckks::Error::Malformed { .. } | ckks::Error::Rlwe(rlwe::Error::Malformed { .. }))
        ),
        "{r:?}"
    );
}

// ---------------------------------------------------------------- paillier

#[test]
fn paillier_plaintext_out_of_range() {
    let (pk, _) = paillier_keys();
    let r = pk.encrypt(pk.n(), &mut rng());
    assert!(
        matches!(
            r,
            Err(paillier::Error::PlaintextOutOfRange { n_bits: 2048 })
        ),
        "{r:?}"
    );
}

#[test]
fn paillier_encoding_out_of_range() {
    let (pk, _) = paillier_keys();
    let too_big = BigInt::from(pk.max_int().clone()) + 1;
    let r = paillier::encode_signed(&pk, &too_big);
    assert!(
        matches!(r, Err(paillier::Error::EncodingOutOfRange)),
        "{r:?}"
    );
}

#[test]
fn paillier_overflow() {
    let (pk, sk) = paillier_keys();
    let max = BigInt::from(pk.max_int().clone());
    let a = pk.encrypt_int(&max, &mut rng()).expect("encrypt");
    let sum = a.add(&a).expect("add");
    let r = sk.decrypt_int(&sum);
    assert!(matches!(r, Err(paillier::Error::Overflow)), "{r:?}");
}

#[test]
fn paillier_invalid_ciphertext() {
    let (pk, _) = paillier_keys();
    let r = pk.ciphertext(pk.n().clone()); // shares the factors of n: not a unit
    assert!(
        matches!(r, Err(paillier::Error::InvalidCiphertext { .. })),
        "{r:?}"
    );
}

#[test]
fn paillier_key_mismatch() {
    let (pk, _) = paillier_keys();
    let (pk2, _) =
        paillier::test_keys::keypair_from(paillier::test_keys::P1024_B).expect("second key");
    let a = pk
        .encrypt(&BigUint::from(1u8), &mut rng())
        .expect("encrypt");
    let b = pk2
        .encrypt(&BigUint::from(1u8), &mut rng())
        .expect("encrypt");
    let r = a.add(&b);
    assert!(matches!(r, Err(paillier::Error::KeyMismatch)), "{r:?}");
}

#[test]
fn paillier_insecure_key_size() {
    let (p, q) = paillier::test_keys::primes(paillier::test_keys::P512);
    let r = paillier::PublicKey::from_n(p * q);
    assert!(
        matches!(r, Err(paillier::Error::InsecureKeySize { bits: 1024 })),
        "{r:?}"
    );
}

#[test]
fn paillier_invalid_key() {
    let (pk, _) = paillier_keys();
    let even = pk.n() + 1u8;
    let r = paillier::PublicKey::from_n(even);
    assert!(
        matches!(r, Err(paillier::Error::InvalidKey { .. })),
        "{r:?}"
    );
}

#[test]
fn paillier_non_finite() {
    let r = paillier::EncodedNumber::from_f64(f64::INFINITY);
    assert!(matches!(r, Err(paillier::Error::NonFinite)), "{r:?}");
}

#[test]
fn paillier_does_not_fit() {
    let (pk, sk) = paillier_keys();
    let big = BigInt::from(1u8) << 70;
    let ct = pk.encrypt_int(&big, &mut rng()).expect("encrypt");
    let r = sk.decrypt_i64(&ct);
    assert!(
        matches!(r, Err(paillier::Error::DoesNotFit { target: "i64" })),
        "{r:?}"
    );
}

#[test]
fn paillier_packing() {
    let (pk, _) = paillier_keys();
    let r = paillier::Packer::new(&pk, 65, 1);
    assert!(matches!(r, Err(paillier::Error::Packing { .. })), "{r:?}");
}

#[test]
fn paillier_headroom_exceeded() {
    let (pk, _) = paillier_keys();
    let packer = paillier::Packer::new(&pk, 8, 1).expect("packer");
    let ct = packer
        .encrypt(&pk, &[1, 2, 3], &mut rng())
        .expect("encrypt");
    let two = ct.add(&ct).expect("two terms fit");
    let r = two.add(&ct);
    assert!(
        matches!(
            r,
            Err(paillier::Error::HeadroomExceeded {
                needed: 3,
                capacity: 2
            })
        ),
        "{r:?}"
    );
}

#[test]
fn paillier_length_mismatch() {
    let (pk, _) = paillier_keys();
    let a = pk
        .encrypt(&BigUint::from(1u8), &mut rng())
        .expect("encrypt");
    let r = paillier::add_batch(&[a.clone(), a.clone()], &[a]);
    assert!(
        matches!(
            r,
            Err(paillier::Error::LengthMismatch { left: 2, right: 1 })
        ),
        "{r:?}"
    );
}

#[test]
fn paillier_malformed() {
    let r = paillier::PublicKey::from_bytes(&[2, 0]); // version 2, then truncated
    assert!(matches!(r, Err(paillier::Error::Malformed { .. })), "{r:?}");
}

#[test]
fn paillier_unknown_version() {
    let (pk, _) = paillier_keys();
    let mut bytes = pk.to_bytes();
    bytes[0] = 9; // the version first (a one-byte varint)
    let r = paillier::PublicKey::from_bytes(&bytes);
    assert!(
        matches!(
            r,
            Err(paillier::Error::UnknownVersion {
                found: 9,
                expected: 2
            })
        ),
        "{r:?}"
    );
}

#[test]
fn paillier_retired_version() {
    let (pk, _) = paillier_keys();
    // hekit 0.1's bincode format: a little-endian u16 version 1 first
    let mut bytes = vec![1, 0, 0];
    let n = pk.n().to_bytes_be();
    bytes.extend_from_slice(&(n.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&n);
    let r = paillier::PublicKey::from_bytes(&bytes);
    assert!(
        matches!(r, Err(paillier::Error::RetiredVersion { version: 1 })),
        "{r:?}"
    );
}

#[test]
fn paillier_invalid_parameter() {
    let r = paillier::sum::<paillier::Ciphertext>(&[]);
    assert!(
        matches!(r, Err(paillier::Error::InvalidParameter { .. })),
        "{r:?}"
    );
}

// ---------------------------------------------------------------- threshold

#[test]
fn threshold_too_few_shares() {
    let r = threshold::ActiveSet::new(&[threshold::PartyId(1)], 2);
    assert!(
        matches!(r, Err(threshold::Error::TooFewShares { got: 1, need: 2 })),
        "{r:?}"
    );
}

#[test]
fn threshold_duplicate_party() {
    let params = rlwe_params();
    let crs = threshold::Crs::from_seed([1; 32]);
    let mut ps = parties(&params, 2);
    let s1 = ps[0].public_key_share(&crs, &mut rng()).expect("share");
    let r = threshold::PublicKeyShares::aggregate(vec![s1.clone(), s1]);
    assert!(
        matches!(
            r,
            Err(threshold::Error::DuplicateParty {
                party: threshold::PartyId(1)
            })
        ),
        "{r:?}"
    );
}

#[test]
fn threshold_unexpected_party() {
    let r = threshold::ActiveSet::new(&[threshold::PartyId(1), threshold::PartyId(0)], 2);
    assert!(
        matches!(
            r,
            Err(threshold::Error::UnexpectedParty {
                party: threshold::PartyId(0)
            })
        ),
        "{r:?}"
    );
}

#[test]
fn threshold_share_reused() {
    let params = rlwe_params();
    let crs = threshold::Crs::from_seed([2; 32]);
    let mut ps = parties(&params, 1);
    ps[0]
        .public_key_share(&crs, &mut rng())
        .expect("first share");
    let r = ps[0].public_key_share(&crs, &mut rng());
    assert!(
        matches!(r, Err(threshold::Error::ShareReused { .. })),
        "{r:?}"
    );
}

#[test]
fn threshold_invalid_threshold() {
    let params = rlwe_params();
    let ps = parties(&params, 1);
    let r = ps[0].deal(4, 3, &mut rng());
    assert!(
        matches!(r, Err(threshold::Error::InvalidThreshold { t: 4, n: 3 })),
        "{r:?}"
    );
}

#[test]
fn threshold_smudging_too_large() {
    let params = bfv::Parameters::preset(bfv::Preset::N4096T65537).expect("preset");
    // λ = 80 bits of smudging on 2^8 noise leaves no room in a 72-bit Q
    let r = threshold::Smudging::new(8.0, 80).check(params.degree(), 8.0, 72.0);
    assert!(
        matches!(r, Err(threshold::Error::SmudgingTooLarge { .. })),
        "{r:?}"
    );
}

#[test]
fn threshold_smudging_too_wide() {
    let params = bfv::Parameters::preset(bfv::Preset::N16384T65537).expect("preset");
    // noise below 2^90 at λ = 40: σ = 2^130, beyond the sampler's 2^120
    // (the 342-bit Q would leave room for it)
    let r = threshold::Smudging::for_bfv(&params, params.max_level(), 90.0, 3);
    assert!(
        matches!(r, Err(threshold::Error::SmudgingTooWide { .. })),
        "{r:?}"
    );
}

#[test]
fn threshold_invalid_share() {
    let params = rlwe_params();
    let crs_a = threshold::Crs::from_seed([3; 32]);
    let crs_b = threshold::Crs::from_seed([4; 32]);
    let mut ps = parties(&params, 2);
    let s1 = ps[0].public_key_share(&crs_a, &mut rng()).expect("share");
    let s2 = ps[1].public_key_share(&crs_b, &mut rng()).expect("share");
    let r = threshold::PublicKeyShares::aggregate(vec![s1, s2]);
    assert!(
        matches!(r, Err(threshold::Error::InvalidShare { .. })),
        "{r:?}"
    );
    // A verifiable dealing that does not match its commitment names the
    // dealer (party 1 commits to one polynomial and deals another).
    let params = std::sync::Arc::new(
        rlwe::params::Params::builder()
            .degree(1024)
            .q_bits(&[50, 50])
            .p_bits(&[50])
            .security(rlwe::params::SecurityLevel::None)
            .build()
            .expect("params"),
    );
    let mut ps = parties(&params, 2);
    let pks: Vec<_> = ps
        .iter_mut()
        .map(|p| p.public_key_share(&crs_a, &mut rng()).expect("share"))
        .collect();
    let mut r = rng();
    let (m1, _) = ps[0].deal_committed(2, 2, &crs_a, &mut r).expect("deal");
    let (_, c1) = ps[0].deal_committed(2, 2, &crs_a, &mut r).expect("deal");
    let (m2, c2) = ps[1].deal_committed(2, 2, &crs_a, &mut r).expect("deal");
    let coms = threshold::vss::ShareCommitments::new(&params, &crs_a, 2, 2, &pks, &[c1, c2])
        .expect("commitments");
    let to_2: Vec<_> = m1.into_iter().chain(m2).filter(|m| m.to.0 == 2).collect();
    let r = ps[1].receive_committed_dealings(to_2, &coms);
    assert!(
        matches!(r, Err(threshold::Error::InvalidShare { party, .. }) if party.0 == 1),
        "{r:?}"
    );
}

#[test]
fn threshold_invalid_proof() {
    let (pp, shares) = threshold_paillier();
    let ct = pp
        .public_key()
        .encrypt(&BigUint::from(42u8), &mut rng())
        .expect("encrypt");
    let pd = shares[0].partial_decrypt(&ct, &mut rng()).expect("partial");
    let forged = threshold::PaillierPartialDecryption::from_parts(
        &pp,
        pd.party(),
        pd.value() + 1u8,
        pd.proof().clone(),
    );
    let r = pp.verify(&ct, &forged);
    assert!(
        matches!(r, Err(threshold::Error::InvalidProof { .. })),
        "{r:?}"
    );
}

#[test]
fn threshold_parameter_mismatch() {
    let crs = threshold::Crs::from_seed([5; 32]);
    let mut a = parties(&rlwe_params(), 1);
    let mut b = parties(&rlwe_other_params(), 2);
    let s1 = a[0].public_key_share(&crs, &mut rng()).expect("share");
    let s2 = b[1].public_key_share(&crs, &mut rng()).expect("share");
    let r = threshold::PublicKeyShares::aggregate(vec![s1, s2]);
    assert!(
        matches!(r, Err(threshold::Error::ParameterMismatch { .. })),
        "{r:?}"
    );
}

#[test]
fn threshold_malformed() {
    let params = rlwe_params();
    let r = threshold::PublicKeyShare::from_bytes(&params, &[0xff; 10]);
    assert!(
        matches!(
            r,
            Err(threshold::Error::Malformed { .. }
                | threshold::Error::Rlwe(rlwe::Error::Malformed { .. }))
        ),
        "{r:?}"
    );
}

#[test]
fn threshold_wrapped() {
    // Scheme errors pass through in their own variant.
    let (_, shares) = threshold_paillier();
    let (other_pk, _) = paillier_keys();
    let ct = other_pk
        .encrypt(&BigUint::from(1u8), &mut rng())
        .expect("encrypt");
    let r = shares[0].partial_decrypt(&ct, &mut rng());
    assert!(
        matches!(
            r,
            Err(threshold::Error::Paillier(paillier::Error::KeyMismatch))
        ),
        "{r:?}"
    );
}

// ---------------------------------------------------------------- zk

/// N = 1024, two 49-bit primes (insecure ring: the proofs do not care),
/// messages |m| ≤ 2^20 lifted by 2^60, a key, a ciphertext and its witness.
#[allow(clippy::type_complexity)]
fn zk_setup() -> (
    Arc<rlwe::params::Params>,
    zk::EncParams,
    zk::EncKey,
    zk::Ciphertext,
    zk::EncWitness,
) {
    let params = rlwe::params::Params::builder()
        .degree(1024)
        .q_bits(&[49, 49])
        .security(rlwe::params::SecurityLevel::None)
        .build()
        .expect("params");
    let mut rng = rng();
    let sk = rlwe::keys::SecretKey::generate(&params, &mut rng);
    let pk = rlwe::keys::PublicKey::generate(&sk, &mut rng).expect("pk");
    let zp = zk::EncParams::new(params.ring_q_top(), 1 << 20, 60).expect("zk params");
    let key = zk::EncKey::new(&zp, &pk).expect("key");
    let (ct, w) = zk::encrypt(&zp, &key, &[1, -2, 3], &mut rng).expect("encrypt");
    (params, zp, key, ct, w)
}

#[test]
fn zk_wrapped() {
    let (_, zp, ..) = zk_setup();
    let other = rlwe::params::Params::builder()
        .degree(2048)
        .q_bits(&[49, 49])
        .security(rlwe::params::SecurityLevel::None)
        .build()
        .expect("params");
    let sk = rlwe::keys::SecretKey::generate(&other, &mut rng());
    let pk = rlwe::keys::PublicKey::generate(&sk, &mut rng()).expect("pk");
    let r = zk::EncKey::new(&zp, &pk);
    assert!(matches!(r, Err(zk::Error::Rlwe(_))), "{r:?}");
}

#[test]
fn zk_invalid_parameters() {
    let (params, ..) = zk_setup();
    let r = zk::EncParams::new(params.ring_q_top(), 1 << 50, 10);
    assert!(matches!(r, Err(zk::Error::InvalidParameters(_))), "{r:?}");
}

#[test]
fn zk_parameter_mismatch() {
    let (_, zp, key, ct, _) = zk_setup();
    let short = zk::EncWitness::new(vec![0; 10], vec![0; 10], vec![0; 10], vec![0; 10]);
    let r = zk::prove(&zp, &key, &[0; 32], 0, (&ct.0, &ct.1), &short, &mut rng());
    assert!(
        matches!(r, Err(zk::Error::ParameterMismatch { .. })),
        "{r:?}"
    );
}

#[test]
fn zk_malformed() {
    let (_, zp, ..) = zk_setup();
    let r = zk::EncProof::from_bytes(&zp, b"garbage");
    assert!(matches!(r, Err(zk::Error::Malformed { .. })), "{r:?}");
}

#[test]
fn zk_rejected() {
    let (_, zp, key, ct, w) = zk_setup();
    let proof = zk::prove(&zp, &key, &[1; 32], 0, (&ct.0, &ct.1), &w, &mut rng()).expect("prove");
    let r = zk::verify(&zp, &key, &[2; 32], 0, (&ct.0, &ct.1), &proof); // another context
    assert!(matches!(r, Err(zk::Error::Rejected { .. })), "{r:?}");
}

#[test]
fn zk_witness_out_of_bound() {
    let (_, zp, key, ct, _) = zk_setup();
    let mut m = vec![0i64; 1024];
    m[0] = 1 << 21; // above the bound 2^20
    let w = zk::EncWitness::new(vec![0; 1024], vec![0; 1024], vec![0; 1024], m);
    let r = zk::prove(&zp, &key, &[0; 32], 0, (&ct.0, &ct.1), &w, &mut rng());
    assert!(
        matches!(r, Err(zk::Error::WitnessOutOfBound { what: "m" })),
        "{r:?}"
    );
}

// ---------------------------------------------------------------- ml-he

#[test]
fn ml_data() {
    let r = ml_he::data::load_csv("/nonexistent/hekit.csv", None);
    assert!(matches!(r, Err(ml_he::Error::Data(_))), "{r:?}");
}

#[test]
fn ml_shape() {
    let r = ml_he::data::Dataset::new(vec![vec![1.0, 2.0], vec![3.0]], vec![0, 1]);
    assert!(matches!(r, Err(ml_he::Error::Shape(_))), "{r:?}");
}

/// An ONNX model whose one node is a `MaxPool` (built in code with the
/// importer's own protobuf types).
fn onnx_maxpool() -> Vec<u8> {
    use ml_he::inference::onnx::proto::{self as pb, Message};
    let dims = [None, Some(1), Some(4), Some(4)].map(|d| pb::tensor_shape_proto::Dimension {
        value: Some(match d {
            Some(v) => pb::tensor_shape_proto::dimension::Value::DimValue(v),
            None => pb::tensor_shape_proto::dimension::Value::DimParam("N".into()),
        }),
        ..Default::default()
    });
    let input = pb::ValueInfoProto {
        name: Some("x".into()),
        r#type: Some(pb::TypeProto {
            value: Some(pb::type_proto::Value::TensorType(pb::type_proto::Tensor {
                elem_type: Some(pb::tensor_proto::DataType::Float as i32),
                shape: Some(pb::TensorShapeProto { dim: dims.to_vec() }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    };
    let pool = pb::NodeProto {
        op_type: Some("MaxPool".into()),
        name: Some("pool1".into()),
        input: vec!["x".into()],
        output: vec!["y".into()],
        attribute: vec![pb::AttributeProto {
            name: Some("kernel_shape".into()),
            ints: vec![2, 2],
            ..Default::default()
        }],
        ..Default::default()
    };
    pb::ModelProto {
        opset_import: vec![pb::OperatorSetIdProto {
            domain: Some(String::new()),
            version: Some(13),
        }],
        graph: Some(pb::GraphProto {
            node: vec![pool],
            input: vec![input],
            output: vec![pb::ValueInfoProto {
                name: Some("y".into()),
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    }
    .encode_to_vec()
}

#[test]
fn ml_unsupported() {
    let r = ml_he::inference::onnx::import(&onnx_maxpool());
    assert!(
        matches!(&r, Err(ml_he::Error::Unsupported { op, node }) if op == "MaxPool" && node == "pool1"),
        "{r:?}"
    );
}

#[test]
fn ml_onnx() {
    let bytes = onnx_maxpool();
    let r = ml_he::inference::onnx::import(&bytes[..bytes.len() / 2]);
    assert!(matches!(r, Err(ml_he::Error::Onnx(_))), "{r:?}");
}

#[test]
fn ml_out_of_range() {
    let r = ml_he::dp::analytic_sigma(1.0, 1.0, 1.5);
    assert!(matches!(r, Err(ml_he::Error::OutOfRange(_))), "{r:?}");
}

#[test]
fn ml_malformed() {
    let (_, _, key) = aggregation();
    let mut server = ml_he::aggregation::Server::new(&key, 0, 4).expect("server");
    let r = server.add(b"garbage");
    assert!(matches!(r, Err(ml_he::Error::Malformed { .. })), "{r:?}");
    assert!(server.contributors().is_empty());
}

#[test]
fn ml_invalid_update_proof() {
    let (_, clients, key) = aggregation();
    let mut server = ml_he::aggregation::Server::new(&key, 0, 4).expect("server");
    let mut update = clients[0]
        .encrypt_update(0, &[1.0; 4], &mut rng())
        .expect("encrypt");
    // a bit of the proof (the last bytes) flipped
    let last = update.len() - 1000;
    update[last] ^= 1;
    let r = server.add(&update);
    assert!(
        matches!(r, Err(ml_he::Error::InvalidUpdateProof { party: 1, .. })),
        "{r:?}"
    );
    assert!(server.contributors().is_empty());
}

#[test]
fn ml_invalid_share_proof() {
    let (_, mut clients, key) = aggregation();
    let mut server = ml_he::aggregation::Server::new(&key, 0, 4).expect("server");
    for c in &clients[..2] {
        let u = c.encrypt_update(0, &[1.0; 4], &mut rng()).expect("encrypt");
        server.add(&u).expect("add");
    }
    let request = server.decryption_request(&[1, 2]).expect("request");
    let s1 = clients[0]
        .decryption_share(&request, &mut rng())
        .expect("share");
    let s2 = clients[1]
        .decryption_share(&request, &mut rng())
        .expect("share");
    // member 2 moves the first coordinate by 0.5: its proof fails
    let bad = ml_he::aggregation::shift_decryption_share(&key, &s2, 0.5).expect("shift");
    let r = ml_he::aggregation::combine(&key, &request, &[s1, bad]);
    assert!(
        matches!(r, Err(ml_he::Error::InvalidShareProof { party: 2, .. })),
        "{r:?}"
    );
}

#[test]
fn ml_session_mismatch() {
    let (_, clients, key) = aggregation();
    let mut server = ml_he::aggregation::Server::new(&key, 1, 4).expect("server");
    let update = clients[0]
        .encrypt_update(0, &[1.0; 4], &mut rng())
        .expect("encrypt");
    let r = server.add(&update); // made for round 0, server sums round 1
    assert!(
        matches!(r, Err(ml_he::Error::SessionMismatch { .. })),
        "{r:?}"
    );
}

#[test]
fn ml_duplicate_submission() {
    let (_, clients, key) = aggregation();
    let mut server = ml_he::aggregation::Server::new(&key, 0, 4).expect("server");
    let update = clients[0]
        .encrypt_update(0, &[1.0; 4], &mut rng())
        .expect("encrypt");
    server.add(&update).expect("first");
    let r = server.add(&update);
    assert!(
        matches!(r, Err(ml_he::Error::DuplicateSubmission { party: 1 })),
        "{r:?}"
    );
}

#[test]
fn ml_unknown_party() {
    let (params, _, _) = aggregation();
    let r = ml_he::aggregation::Client::new(&params, 4, &mut rng());
    assert!(
        matches!(r, Err(ml_he::Error::UnknownParty { party: 4 })),
        "{r:?}"
    );
}

#[test]
fn ml_wrong_sender() {
    let (_, clients, key) = aggregation();
    let mut server = ml_he::aggregation::Server::new(&key, 0, 4).expect("server");
    let update = clients[0]
        .encrypt_update(0, &[1.0; 4], &mut rng())
        .expect("encrypt");
    let r = server.add_from(2, &update); // client 1's update, sent by client 2
    assert!(
        matches!(
            r,
            Err(ml_he::Error::WrongSender {
                claimed: 1,
                expected: 2
            })
        ),
        "{r:?}"
    );
    assert!(server.contributors().is_empty());
}

#[test]
fn ml_protocol() {
    let (params, _, _) = aggregation();
    let client = ml_he::aggregation::Client::new(&params, 1, &mut rng()).expect("client");
    let r = client.encrypt_update(0, &[1.0], &mut rng());
    assert!(matches!(r, Err(ml_he::Error::Protocol(_))), "{r:?}");
}

#[test]
fn ml_wrapped() {
    let (_, clients, key) = aggregation();
    let mut server = ml_he::aggregation::Server::new(&key, 0, 4).expect("server");
    for c in &clients {
        server
            .add(&c.encrypt_update(0, &[1.0; 4], &mut rng()).expect("encrypt"))
            .expect("add");
    }
    // a committee of t − 1 = 1 party
    let r = server.decryption_request(&[1]);
    assert!(
        matches!(
            r,
            Err(ml_he::Error::Threshold(
                threshold::Error::TooFewShares { .. }
            ))
        ),
        "{r:?}"
    );
}

#[test]
fn ml_too_few_contributors() {
    let (_, mut clients, key) = aggregation();
    let mut server = ml_he::aggregation::Server::new(&key, 0, 4).expect("server");
    let u = clients[0]
        .encrypt_update(0, &[1.0; 4], &mut rng())
        .expect("encrypt");
    server.add(&u).expect("add");
    let req = server.decryption_request(&[2, 3]).expect("request");
    let r = clients[1].decryption_share(&req, &mut rng());
    assert_eq!(r, Err(ml_he::Error::TooFewContributors { got: 1, min: 2 }));
}

#[test]
fn ml_already_released() {
    let (_, mut clients, key) = aggregation();
    let ups: Vec<Vec<u8>> = clients
        .iter()
        .map(|c| c.encrypt_update(0, &[1.0; 4], &mut rng()).expect("encrypt"))
        .collect();
    let mut all = ml_he::aggregation::Server::new(&key, 0, 4).expect("server");
    let mut two = ml_he::aggregation::Server::new(&key, 0, 4).expect("server");
    for (i, u) in ups.iter().enumerate() {
        all.add(u).expect("add");
        if i < 2 {
            two.add(u).expect("add");
        }
    }
    let req = all.decryption_request(&[2, 3]).expect("request");
    clients[1]
        .decryption_share(&req, &mut rng())
        .expect("first set");
    let other = two.decryption_request(&[2, 3]).expect("request");
    let r = clients[1].decryption_share(&other, &mut rng());
    assert_eq!(r, Err(ml_he::Error::AlreadyReleased { round: 0 }));
}

#[test]
fn ml_too_many_attempts() {
    let (_, clients, key) = aggregation();
    let mut server = ml_he::aggregation::Server::new(&key, 0, 4).expect("server");
    for c in &clients {
        server
            .add(&c.encrypt_update(0, &[1.0; 4], &mut rng()).expect("encrypt"))
            .expect("add");
    }
    for _ in 0..ml_he::aggregation::MAX_ATTEMPTS {
        server.decryption_request(&[1, 2]).expect("request");
    }
    let r = server.decryption_request(&[1, 2]);
    assert!(
        matches!(
            r,
            Err(ml_he::Error::TooManyAttempts {
                round: 0,
                attempt: 5,
                max: 5
            })
        ),
        "{r:?}"
    );
}

#[test]
fn ml_insecure() {
    use ml_he::aggregation::*;
    let r = AggregationParams::new(AggregationConfig::new(3, 2).lambda(20), [5; 32]);
    assert!(matches!(r, Err(ml_he::Error::Insecure(_))), "{r:?}");
}

#[test]
fn ml_too_deep() {
    // a 4-wide dense layer followed by 40 squares (values stay in [0, 1]):
    // depth 41 needs more than 881 bits even at a 2^20 scale
    use ml_he::inference::graph::{Graph, Node, Op};
    let mut nodes = vec![Node {
        name: "dense".into(),
        op: Op::Dense {
            weights: vec![0.25; 16],
            bias: vec![0.0; 4],
        },
        inputs: vec![0],
        shape: vec![4],
    }];
    for i in 0..40 {
        nodes.push(Node {
            name: format!("square{i}"),
            op: Op::Square,
            inputs: vec![i + 1],
            shape: vec![4],
        });
    }
    let graph = Graph {
        input_shape: vec![4],
        output: nodes.len(),
        nodes,
    };
    // without bootstrapping (by default the compiler would bootstrap at
    // N = 2^16 instead)
    let options = ml_he::inference::CompileOptions {
        min_scale_bits: 20,
        bootstrap: ml_he::inference::Bootstrapping::Never,
        ..Default::default()
    };
    let r = ml_he::inference::Server::compile(&graph, &[vec![0.5; 4]], &options);
    match r {
        Err(ml_he::Error::TooDeep {
            layer,
            depth,
            bits,
            max_bits,
            degree,
        }) => {
            assert_eq!(depth, 41);
            assert!(bits > max_bits && max_bits == 881 && degree == 32768);
            // 881 bits at 20 bits per level: the chain ends around level 40
            assert!(layer.starts_with("square3"), "{layer}");
        }
        other => panic!("expected TooDeep, got {other:?}"),
    }
}

#[test]
fn ml_plan_overflow() {
    // logits up to 3·100 at inputs in [−1, 1]; the logit (scale 2^40 on a
    // 50-bit prime) holds < 2^8
    let lr = ml_he::model::LogisticRegression {
        weights: vec![100.0, -100.0, 100.0],
        bias: 0.0,
    };
    let r = ml_he::inference::Server::logistic(&lr, ml_he::inference::Packing::Batch);
    assert!(
        matches!(
            r,
            Err(ml_he::Error::PlanOverflow {
                ref layer,
                level: 0,
                ..
            }) if layer == "logit"
        ),
        "{r:?}"
    );
}

// ---------------------------------------------------------------- hekit-mpc

fn mpc_session() -> hekit_mpc::session::SessionConfig {
    hekit_mpc::session::SessionConfig {
        scheme: hekit_mpc::session::Scheme::Ckks,
        parties: 5,
        threshold: 3,
        rounds: 1,
        len: 8,
        max_abs: 16.0,
        lambda: 40,
        min_contributors: 2,
        degree: 8192,
        relin: false,
        galois: Vec::new(),
        paillier_bits: 2048,
        paillier_insecure_test_primes: false,
        frac_bits: 24,
        dealer: 1,
        seed: "00".repeat(32),
        insecure_weak_smudging: false,
    }
}

#[test]
fn mpc_policy() {
    let policy = hekit_mpc::session::Policy::default();
    policy.check(&mpc_session()).expect("a sound session");
    let mut weak = mpc_session();
    weak.lambda = 0;
    weak.insecure_weak_smudging = true;
    let r = policy.check(&weak);
    assert!(
        matches!(&r, Err(hekit_mpc::Error::Policy(m)) if m.contains("λ = 0")),
        "{r:?}"
    );
    let mut t1 = mpc_session();
    t1.threshold = 1;
    let r = policy.check(&t1);
    assert!(
        matches!(&r, Err(hekit_mpc::Error::Policy(m)) if m.contains("threshold t = 1 of 5")),
        "{r:?}"
    );
}

#[test]
fn mpc_tampered() {
    use hekit_mpc::proto::{Kind, Signed};
    use hekit_mpc::sign::{phase, verify_each, Content, Peers};
    // a relay missing party 2's acknowledgement
    let entries = [Signed {
        party: 1,
        kind: Kind::Key as i32,
        payload: vec![0; 32],
        signature: Vec::new(),
        round: 0,
    }];
    let r = verify_each(
        &Peers::default(),
        &[0; 32],
        &entries[1..],
        Kind::Key,
        phase::KEY_ACK,
        0,
        &[1u32, 2].into_iter().collect(),
        Content::Digest,
    );
    assert!(
        matches!(&r, Err(hekit_mpc::Error::Tampered(m)) if m.contains("none of party 1")),
        "{r:?}"
    );
}

#[test]
fn mpc_bad_signature() {
    use hekit_mpc::sign::{phase, Peers};
    let r = Peers::default().verify(&[0; 32], phase::UPDATE, 0, 3, &[0; 32], b"not a signature");
    assert!(
        matches!(
            r,
            Err(hekit_mpc::Error::BadSignature {
                party: 3,
                what: "update"
            })
        ),
        "{r:?}"
    );
}

#[test]
fn mpc_input() {
    let r = hekit_mpc::input::InputSource::callback(|_, len| Ok(vec![f64::NAN; len]))
        .open()
        .and_then(|i| i.update(1, 0, 4, 16.0));
    assert!(
        matches!(&r, Err(hekit_mpc::Error::Input { reason, .. }) if reason.contains("NaN")),
        "{r:?}"
    );
}

// ---------------------------------------------------------------- the table

#[test]
fn catalogue_matches_docs() {
    let doc = include_str!("../docs/errors.md");
    let src = include_str!("errors.rs");
    let tests: std::collections::BTreeSet<&str> = src
        .lines()
        .filter_map(|l| l.trim().strip_prefix("fn "))
        .filter_map(|l| l.split('(').next())
        .filter(|n| {
            n.starts_with("rlwe_")
                || n.starts_with("bfv_")
                || n.starts_with("ckks_")
                || n.starts_with("paillier_")
                || n.starts_with("threshold_")
                || n.starts_with("ml_")
                || n.starts_with("zk_")
                || n.starts_with("mpc_")
        })
        .filter(|n| {
            !matches!(
                *n,
                "rlwe_params"
                    | "rlwe_other_params"
                    | "rlwe_ct"
                    | "bfv_setup"
                    | "ckks_setup"
                    | "paillier_keys"
                    | "threshold_paillier"
                    | "zk_setup"
                    | "mpc_session"
            )
        })
        .collect();
    let rows: std::collections::BTreeSet<&str> = doc
        .lines()
        .filter(|l| l.starts_with('|'))
        .filter_map(|l| l.trim_end_matches('|').rsplit('|').next())
        .map(str::trim)
        .filter_map(|c| c.strip_prefix('`').and_then(|c| c.strip_suffix('`')))
        .collect();
    let missing_tests: Vec<_> = rows.difference(&tests).collect();
    let missing_rows: Vec<_> = tests.difference(&rows).collect();
    assert!(
        missing_tests.is_empty(),
        "rows without a test: {missing_tests:?}"
    );
    assert!(
        missing_rows.is_empty(),
        "tests without a row: {missing_rows:?}"
    );
    assert!(rows.len() >= 60, "{} rows", rows.len());
}
