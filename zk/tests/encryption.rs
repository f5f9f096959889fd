//! The proof of well-formed, bounded encryption: honest proofs verify
//! (through their bytes), proofs do not transfer to another context, index,
//! key or ciphertext, the key-recovery ciphertexts have no proof, malformed
//! bytes give specific errors, and the parameters at N = 8192 are the ones
//! the crate documents.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rlwe::keys::{PublicKey, SecretKey};
use rlwe::params::{Params, SecurityLevel};
use rlwe::poly::Poly;
use zk::*;

fn setup(seed: u8) -> (Arc<Params>, EncParams, EncKey, SecretKey, ChaCha20Rng) {
    let params = Params::builder()
        .degree(1024)
        .q_bits(&[49, 49])
        .security(SecurityLevel::None)
        .build()
        .unwrap();
    let mut rng = ChaCha20Rng::from_seed([seed; 32]);
    let sk = SecretKey::generate(&params, &mut rng);
    let pk = PublicKey::generate(&sk, &mut rng).unwrap();
    let zp = EncParams::new(params.ring_q_top(), 1 << 28, 56).unwrap();
    let key = EncKey::new(&zp, &pk).unwrap();
    (params, zp, key, sk, rng)
}

fn message(n: usize) -> Vec<i64> {
    (0..n as i64)
        .map(|i| (i * 7919) % (1 << 28) - (1 << 27))
        .collect()
}

/// Honest proofs verify, through their bytes; decryption with the secret
/// gives `K·m` plus a small error (the ciphertext is what `encrypt` says).
#[test]
fn honest_proof_verifies_and_round_trips() {
    let (_, zp, key, sk, mut rng) = setup(1);
    let m = message(1024);
    let (ct, w) = encrypt(&zp, &key, &m, &mut rng).unwrap();
    let ctx = [3u8; 32];
    for index in 0..3 {
        let proof = prove(&zp, &key, &ctx, index, (&ct.0, &ct.1), &w, &mut rng).unwrap();
        let bytes = proof.to_bytes(&zp);
        assert_eq!(bytes.len(), zp.proof_bytes());
        let back = EncProof::from_bytes(&zp, &bytes).unwrap();
        assert_eq!(back, proof);
        verify(&zp, &key, &ctx, index, (&ct.0, &ct.1), &back).unwrap();
    }
    // c0 + c1·s = K·m + noise, |noise| ≤ 2^16 (honest: ≈ 2^10)
    let mut d = Poly::mul(&ct.1, &sk.poly_at(zp.ring()).unwrap()).unwrap();
    d.add_assign(&ct.0).unwrap();
    let k = num_bigint::BigInt::from(1u64 << 56);
    for (j, c) in d.centered_coeffs().iter().enumerate() {
        let noise = c - &k * m[j];
        assert!(noise.bits() <= 16, "coefficient {j}: noise {noise}");
    }
}

/// A proof is bound to its context, index, key and ciphertext.
#[test]
fn proof_does_not_transfer() {
    let (params, zp, key, _, mut rng) = setup(2);
    let (ct, w) = encrypt(&zp, &key, &message(1024), &mut rng).unwrap();
    let (ct2, _) = encrypt(&zp, &key, &message(1024), &mut rng).unwrap();
    let ctx = [1u8; 32];
    let proof = prove(&zp, &key, &ctx, 5, (&ct.0, &ct.1), &w, &mut rng).unwrap();
    let rejected = |r: Result<()>| matches!(r, Err(Error::Rejected { .. }));
    assert!(rejected(verify(
        &zp,
        &key,
        &[2u8; 32],
        5,
        (&ct.0, &ct.1),
        &proof
    )));
    assert!(rejected(verify(&zp, &key, &ctx, 4, (&ct.0, &ct.1), &proof)));
    assert!(rejected(verify(
        &zp,
        &key,
        &ctx,
        5,
        (&ct2.0, &ct2.1),
        &proof
    )));
    let sk2 = SecretKey::generate(&params, &mut rng);
    let key2 = EncKey::new(&zp, &PublicKey::generate(&sk2, &mut rng).unwrap()).unwrap();
    assert!(rejected(verify(
        &zp,
        &key2,
        &ctx,
        5,
        (&ct.0, &ct.1),
        &proof
    )));
    // other parameters (another message bound): another fingerprint
    let zp2 = EncParams::new(zp.ring(), 1 << 27, 56).unwrap();
    assert!(rejected(verify(
        &zp2,
        &key,
        &ctx,
        5,
        (&ct.0, &ct.1),
        &proof
    )));
}

/// The key-recovery ciphertext `(0, ⌊Q/2^j⌋)` and a valid ciphertext with
/// `c1` multiplied by `k` have no witness: an honest proof attached to them
/// is rejected, and proving them with the witness they would need is
/// refused (out of bound).
#[test]
fn key_recovery_ciphertexts_have_no_proof() {
    let (_, zp, key, _, mut rng) = setup(3);
    let (ct, w) = encrypt(&zp, &key, &message(1024), &mut rng).unwrap();
    let ctx = [4u8; 32];
    let proof = prove(&zp, &key, &ctx, 0, (&ct.0, &ct.1), &w, &mut rng).unwrap();
    let ring = zp.ring();
    let q: num_bigint::BigInt = ring
        .moduli()
        .iter()
        .map(|m| num_bigint::BigInt::from(m.value()))
        .product();
    for j in [1u32, 6, 20, 60] {
        let mut c1 = Poly::from_bigints(ring, &[&q >> j]).unwrap();
        c1.to_ntt();
        let mut c0 = Poly::zero(ring, rlwe::poly::Representation::Ntt);
        c0.to_ntt();
        let bad = (c0, c1);
        assert!(matches!(
            verify(&zp, &key, &ctx, 0, (&bad.0, &bad.1), &proof),
            Err(Error::Rejected { .. })
        ));
    }
    for k in [2u64, 3, 64] {
        let mut c1 = ct.1.clone();
        c1.mul_scalar_assign(k);
        let bad = (ct.0.clone(), c1);
        assert!(matches!(
            verify(&zp, &key, &ctx, 0, (&bad.0, &bad.1), &proof),
            Err(Error::Rejected { .. })
        ));
    }
    // a witness beyond the bounds is refused by the prover
    let big = EncWitness::new(vec![2; 1024], vec![0; 1024], vec![0; 1024], vec![0; 1024]);
    assert!(matches!(
        prove(&zp, &key, &ctx, 0, (&ct.0, &ct.1), &big, &mut rng),
        Err(Error::WitnessOutOfBound { what: "u" })
    ));
    let big = EncWitness::new(
        vec![0; 1024],
        vec![0; 1024],
        vec![0; 1024],
        vec![1 << 29; 1024],
    );
    assert!(matches!(
        prove(&zp, &key, &ctx, 0, (&ct.0, &ct.1), &big, &mut rng),
        Err(Error::WitnessOutOfBound { what: "m" })
    ));
}

/// Bad bytes: length, version, a response outside its range, non-zero
/// padding — each a specific `Malformed`, never a panic.
#[test]
fn malformed_proof_bytes() {
    let (_, zp, key, _, mut rng) = setup(4);
    let (ct, w) = encrypt(&zp, &key, &message(1024), &mut rng).unwrap();
    let bytes = prove(&zp, &key, &[0; 32], 0, (&ct.0, &ct.1), &w, &mut rng)
        .unwrap()
        .to_bytes(&zp);
    let malformed = |b: &[u8]| matches!(EncProof::from_bytes(&zp, b), Err(Error::Malformed { .. }));
    assert!(malformed(&bytes[..bytes.len() - 1]));
    assert!(malformed(&[bytes.clone(), vec![0]].concat()));
    assert!(malformed(&[]));
    let mut b = bytes.clone();
    b[0] = 2;
    assert!(malformed(&b));
    // all-ones response bits: 2^width − 1 > 2(γ − β) for the u block
    let mut b = bytes.clone();
    for x in &mut b[33..33 + 8] {
        *x = 0xff;
    }
    assert!(malformed(&b));
    // a flipped response bit in range still decodes, and is rejected
    let mut b = bytes.clone();
    b[40] ^= 1;
    if let Ok(p) = EncProof::from_bytes(&zp, &b) {
        assert!(matches!(
            verify(&zp, &key, &[0; 32], 0, (&ct.0, &ct.1), &p),
            Err(Error::Rejected { .. })
        ));
    }
}

/// Known answers at N = 8192 with three 49-bit primes and `B_m = 2^28`:
/// challenge weight 11 (2^128.7 challenges), κ = 32768, slack 720,874,
/// 116 bits per coefficient (118,817 bytes), acceptance ≈ e^-1.
#[test]
fn parameters_at_8192() {
    let params = Params::builder()
        .degree(8192)
        .q_bits(&[49, 49, 49])
        .build()
        .unwrap();
    let zp = EncParams::new(params.ring_q_top(), 1 << 28, 100).unwrap();
    assert_eq!(zp.weight(), 11);
    assert!((zp.log2_challenge_space() - 128.7).abs() < 0.05);
    assert_eq!(zp.kappa(), 32768);
    assert_eq!(zp.slack(), 720_874);
    assert_eq!(zp.proof_bytes(), 1 + 32 + 116 * 8192 / 8);
    let p = zp.acceptance_probability();
    assert!((p - (-1f64).exp()).abs() < 0.01, "{p}");
    let b = zp.proven_bounds();
    assert_eq!((b.u, b.e0, b.m), (720_874, 720_874 * 21, 720_874 << 28));
    assert_eq!(challenge_weight(1024, 128.0), Some(16));
    assert!(matches!(
        EncParams::new(params.ring_q_top(), 1 << 50, 10),
        Err(Error::InvalidParameters(_))
    ));
}

/// A general lift (BFV's `Δ = ⌊Q/t⌋`, not a power of two): honest proofs
/// verify, the ciphertext decrypts to `Δ·m` plus a small error (big-integer
/// check), a proof under the power-of-two lift does not transfer, and lift
/// residues of the wrong count or at a prime are refused.
#[test]
fn general_lift_proves_and_bad_lifts_are_refused() {
    let (_, zp2, _, sk, mut rng) = setup(7);
    let ring = zp2.ring().clone();
    let q: num_bigint::BigInt = ring
        .moduli()
        .iter()
        .map(|m| num_bigint::BigInt::from(m.value()))
        .product();
    let t = 65537u64;
    let delta = &q / t;
    let lift: Vec<u64> = ring
        .moduli()
        .iter()
        .map(|m| {
            let r: num_bigint::BigInt = &delta % m.value();
            u64::try_from(r).unwrap()
        })
        .collect();
    let zp = EncParams::with_lift(&ring, t / 2, &lift).unwrap();
    assert_eq!(zp.lift_log2(), None);
    assert_eq!(zp2.lift_log2(), Some(56));
    let pk = PublicKey::generate(&sk, &mut rng).unwrap();
    let key = EncKey::new(&zp, &pk).unwrap();
    let m: Vec<i64> = (0..1024).map(|i| (i * 37) % 65537 - 32768).collect();
    let (ct, w) = encrypt(&zp, &key, &m, &mut rng).unwrap();
    let proof = prove(&zp, &key, &[4; 32], 0, (&ct.0, &ct.1), &w, &mut rng).unwrap();
    verify(&zp, &key, &[4; 32], 0, (&ct.0, &ct.1), &proof).unwrap();
    let key2 = EncKey::new(&zp2, &pk).unwrap();
    assert!(verify(&zp2, &key2, &[4; 32], 0, (&ct.0, &ct.1), &proof).is_err());
    let mut d = Poly::mul(&ct.1, &sk.poly_at(&ring).unwrap()).unwrap();
    d.add_assign(&ct.0).unwrap();
    for (j, c) in d.centered_coeffs().iter().enumerate() {
        let noise = c - &delta * m[j];
        assert!(noise.bits() <= 16, "coefficient {j}: noise {noise}");
    }
    assert!(matches!(
        EncParams::with_lift(&ring, 10, &lift[..1]),
        Err(Error::ParameterMismatch { .. })
    ));
    let mut at_prime = lift.clone();
    at_prime[0] = ring.moduli()[0].value();
    assert!(matches!(
        EncParams::with_lift(&ring, 10, &at_prime),
        Err(Error::ParameterMismatch { .. })
    ));
}
