#![allow(clippy::unwrap_used)]
//! Bad input yields the specific error, never a panic or a wrong answer.

mod common;
use common::*;

use ckks::{
    Complex, Encoder, Error, Evaluator, LinearTransform, Parameters, Polynomial, Preset, SecretKey,
    SecurityLevel,
};

/// A second, small parameter set. `SecurityLevel::None` because its chain
/// is deliberately tiny (N = 4096, 3 primes) to keep key generation fast;
/// it only serves as "other parameters" in mismatch tests.
fn other_params() -> Parameters {
    Parameters::builder()
        .degree(4096)
        .q_bits(&[40, 30])
        .p_bits(&[40])
        .security(SecurityLevel::None)
        .build()
        .unwrap()
}

#[test]
fn mismatched_parameters_are_rejected() {
    let c = n8192();
    let other = other_params();
    let sk2 = SecretKey::generate(&other, &mut rng(1));
    let enc2 = Encoder::new(&other);
    let pt2 = enc2.encode(&[1.0, 2.0]).unwrap();
    let ct2 = sk2.encrypt(&pt2, &mut rng(2)).unwrap();
    let ct =
        c.sk.encrypt(&c.encoder.encode(&[1.0]).unwrap(), &mut rng(3))
            .unwrap();
    assert!(matches!(
        c.eval.add(&ct, &ct2),
        Err(Error::ParameterMismatch { .. })
    ));
    assert!(matches!(
        c.eval.mul(&ct2, &ct),
        Err(Error::ParameterMismatch { .. })
    ));
    assert!(matches!(
        c.eval.mul_plain(&ct, &pt2),
        Err(Error::ParameterMismatch { .. })
    ));
    let mut target = ct.clone();
    assert!(matches!(
        c.eval.mul_plain_assign(&mut target, &pt2),
        Err(Error::ParameterMismatch { .. })
    ));
    assert!(matches!(
        c.sk.decrypt(&ct2),
        Err(Error::ParameterMismatch { .. })
    ));
    assert!(matches!(
        c.sk.encrypt(&pt2, &mut rng(4)),
        Err(Error::ParameterMismatch { .. })
    ));
    assert!(matches!(
        c.pk.encrypt(&pt2, &mut rng(4)),
        Err(Error::ParameterMismatch { .. })
    ));
    assert!(matches!(
        c.encoder.decode(&pt2),
        Err(Error::ParameterMismatch { .. })
    ));
    let rlk2 = ckks::RelinKey::generate(&sk2, &mut rng(5)).unwrap();
    let sq = c.eval.mul(&ct, &ct).unwrap();
    assert!(matches!(
        c.eval.relinearize(&sq, &rlk2),
        Err(Error::ParameterMismatch { .. })
    ));
    let gk2 = ckks::GaloisKeys::generate(&sk2, &[1], &mut rng(6)).unwrap();
    assert!(matches!(
        c.eval.rotate(&ct, 1, &gk2),
        Err(Error::ParameterMismatch { .. })
    ));
    let ev2 = Evaluator::new(&other);
    assert!(matches!(
        ev2.rescale(&ct),
        Err(Error::ParameterMismatch { .. })
    ));
}

#[test]
fn scale_and_level_errors() {
    let c = n8192();
    let x = [0.5, 0.25];
    let top = c.params.max_level();
    let ct =
        c.sk.encrypt(&c.encoder.encode(&x).unwrap(), &mut rng(10))
            .unwrap();
    // Level 0 with unrelated scales: nothing left to align with.
    let a0 =
        c.sk.encrypt(
            &c.encoder.encode_at(&x, 0, 2f64.powi(30)).unwrap(),
            &mut rng(11),
        )
        .unwrap();
    let b0 =
        c.sk.encrypt(
            &c.encoder.encode_at(&x, 0, 2f64.powi(30) * 1.37).unwrap(),
            &mut rng(12),
        )
        .unwrap();
    assert!(matches!(
        c.eval.add(&a0, &b0),
        Err(Error::ScaleMismatch { .. })
    ));
    // Plaintext at another scale.
    let pt = c.encoder.encode_at(&x, top, 2f64.powi(30)).unwrap();
    assert!(matches!(
        c.eval.add_plain(&ct, &pt),
        Err(Error::ScaleMismatch { .. })
    ));
    assert!(matches!(
        c.eval.sub_plain(&ct, &pt),
        Err(Error::ScaleMismatch { .. })
    ));
    // Rescaling at level 0.
    assert!(matches!(
        c.eval.rescale(&a0),
        Err(Error::InvalidLevel { got: 0, .. })
    ));
    // A level that does not exist.
    assert!(matches!(
        c.encoder.encode_at(&x, top + 1, 2f64.powi(40)),
        Err(Error::InvalidLevel { .. })
    ));
    assert!(matches!(
        c.eval.drop_to_level(&a0, 2),
        Err(Error::Rlwe(rlwe::Error::InvalidLevel { .. }))
    ));
    // match_scale needs a level above the target.
    assert!(matches!(
        c.eval.match_scale(&a0, 2f64.powi(40), 0),
        Err(Error::InvalidLevel { .. })
    ));
    // Product scale too large for the modulus at level 0 (46-bit q_0),
    // also with a plaintext (by value and in place; the target is kept).
    assert!(matches!(
        c.eval.mul(&a0, &a0),
        Err(Error::ValueOutOfRange { .. })
    ));
    let big = c.encoder.encode_at(&x, 0, 2f64.powi(30)).unwrap();
    assert!(matches!(
        c.eval.mul_plain(&a0, &big),
        Err(Error::ValueOutOfRange { .. })
    ));
    let mut target = a0.clone();
    assert!(matches!(
        c.eval.mul_plain_assign(&mut target, &big),
        Err(Error::ValueOutOfRange { .. })
    ));
    assert_eq!(target.scale(), a0.scale());
    assert_eq!(target.level(), 0);
    // Degree-7 polynomial needs 3 levels; a level-2 ciphertext has 2.
    let low = c.eval.drop_to_level(&ct, 2).unwrap();
    let p = Polynomial::from_power(&[1.0; 8]).unwrap();
    assert!(matches!(
        c.eval.evaluate_polynomial(&low, &p, &c.rlk),
        Err(Error::NotEnoughLevels {
            needed: 3,
            available: 2,
            ..
        })
    ));
    // Relinearizing needs 3 parts for the fused path, rotations 2.
    let sq = c.eval.mul(&ct, &ct).unwrap();
    let gk = galois(c, &[1], false);
    assert!(matches!(
        c.eval.rotate(&sq, 1, &gk),
        Err(Error::InvalidArgument { .. })
    ));
    assert!(matches!(
        c.eval.mul(&sq, &ct),
        Err(Error::Rlwe(rlwe::Error::Malformed { .. }))
    ));
    assert!(matches!(
        ct.clone().set_scale(f64::NAN),
        Err(Error::ValueOutOfRange { .. })
    ));
}

#[test]
fn value_errors() {
    let c = n8192();
    let n = c.params.slots();
    assert!(matches!(
        c.encoder.encode(&vec![0.0; n + 1]),
        Err(Error::TooManyValues { got, max }) if got == n + 1 && max == n
    ));
    assert!(matches!(
        c.encoder.encode(&[f64::NAN]),
        Err(Error::ValueOutOfRange { .. })
    ));
    assert!(matches!(
        c.encoder
            .encode_complex(&[Complex::new(0.0, f64::INFINITY)]),
        Err(Error::ValueOutOfRange { .. })
    ));
    // 2^20 · 2^40 does not fit the 46-bit q_0 at level 0.
    assert!(matches!(
        c.encoder.encode_at(&[1e6], 0, 2f64.powi(40)),
        Err(Error::ValueOutOfRange { .. })
    ));
    assert!(matches!(
        c.encoder.encode_at(&[1.0], 1, -3.0),
        Err(Error::ValueOutOfRange { .. })
    ));
    assert!(matches!(
        c.encoder.encode_at(&[1.0], 1, 0.0),
        Err(Error::ValueOutOfRange { .. })
    ));
    let ct =
        c.sk.encrypt(&c.encoder.encode(&[1.0]).unwrap(), &mut rng(20))
            .unwrap();
    assert!(matches!(
        c.eval.add_const(&ct, f64::NAN),
        Err(Error::ValueOutOfRange { .. })
    ));
    assert!(matches!(
        c.eval.mul_const(&ct, f64::INFINITY),
        Err(Error::ValueOutOfRange { .. })
    ));
    assert!(matches!(
        c.eval.add_const(&ct, 1e40),
        Err(Error::ValueOutOfRange { .. })
    ));
}

#[test]
fn key_and_argument_errors() {
    let c = n8192();
    let ct =
        c.sk.encrypt(&c.encoder.encode(&[1.0]).unwrap(), &mut rng(30))
            .unwrap();
    let gk = galois(c, &[1, 2], false);
    assert!(matches!(
        c.eval.rotate(&ct, 3, &gk),
        Err(Error::Rlwe(rlwe::Error::MissingKey { .. }))
    ));
    assert!(matches!(
        c.eval.rotate_hoisted(&ct, &[1, 2, 5], &gk),
        Err(Error::Rlwe(rlwe::Error::MissingKey { .. }))
    ));
    assert!(matches!(
        c.eval.conjugate(&ct, &gk),
        Err(Error::Rlwe(rlwe::Error::MissingKey { .. }))
    ));
    // A full rotation needs no key.
    let same = c.eval.rotate(&ct, c.params.slots() as i64, &gk).unwrap();
    assert_eq!(same.level(), ct.level());
    for bad in [0, c.params.slots() + 1] {
        assert!(matches!(
            c.eval.sum_slots(&ct, bad, &gk),
            Err(Error::InvalidArgument { .. })
        ));
    }
    assert!(matches!(
        c.eval.sum_slots(&ct, 8, &gk),
        Err(Error::Rlwe(rlwe::Error::MissingKey { .. }))
    ));
    // Linear transforms: shape, level.
    let too_big = vec![vec![1.0; c.params.slots() + 1]; 2];
    assert!(matches!(
        LinearTransform::new(&c.encoder, &too_big, 1),
        Err(Error::InvalidArgument { .. })
    ));
    assert!(matches!(
        LinearTransform::new(&c.encoder, &[], 1),
        Err(Error::InvalidArgument { .. })
    ));
    let ragged = vec![vec![1.0; 4], vec![1.0; 3], vec![1.0; 4], vec![1.0; 4]];
    assert!(matches!(
        LinearTransform::new(&c.encoder, &ragged, 1),
        Err(Error::InvalidArgument { .. })
    ));
    let m4 = vec![vec![1.0; 4]; 4];
    assert!(matches!(
        LinearTransform::new(&c.encoder, &m4, 0),
        Err(Error::NotEnoughLevels { .. })
    ));
    let lt = LinearTransform::new(&c.encoder, &m4, c.params.max_level()).unwrap();
    let low = c.eval.drop_to_level(&ct, 1).unwrap();
    assert!(matches!(
        c.eval.linear_transform(&low, &lt, &gk),
        Err(Error::InvalidLevel { .. })
    ));
    // Polynomials: bad interval, bad coefficients.
    assert!(matches!(
        Polynomial::chebyshev(&[1.0], 1.0, -1.0),
        Err(Error::InvalidArgument { .. })
    ));
    assert!(matches!(
        Polynomial::from_power(&[]),
        Err(Error::InvalidArgument { .. })
    ));
    assert!(matches!(
        Polynomial::from_power(&[f64::NAN]),
        Err(Error::InvalidArgument { .. })
    ));
    // Presets build; insecure custom chains are refused.
    assert!(Parameters::preset(Preset::N8192).is_ok());
    assert!(matches!(
        Parameters::builder()
            .degree(8192)
            .q_bits(&[60, 60, 60])
            .p_bits(&[60])
            .build(),
        Err(Error::Rlwe(rlwe::Error::InsecureParameters { .. }))
    ));
    assert!(matches!(
        Parameters::builder().degree(8192).q_bits(&[50, 40]).build(),
        Err(Error::InvalidArgument { .. })
    ));
}

/// Special primes fill the room of the security bound: each at least the
/// largest chain prime, within the budget, as many as fit (up to 4), none
/// when not one fits; more of them means fewer key-switching digits.
#[test]
fn special_primes_fill_the_security_room() {
    for budget in [109u32, 218, 300, 438, 881] {
        for depth in 0..12usize {
            for (q0, s) in [(46u32, 40u32), (60, 40), (38, 30), (60, 55)] {
                let mut q = vec![q0];
                q.extend(std::iter::repeat_n(s, depth));
                let sum: u32 = q.iter().sum();
                let least = q0.max(if depth > 0 { s } else { 0 });
                let got = Parameters::special_prime_bits(&q, budget);
                let Some(p) = got else {
                    assert!(sum + least > budget, "{q:?} {budget}: one prime fits");
                    continue;
                };
                let room = budget - sum;
                assert!(!p.is_empty() && p.len() <= 4);
                assert!(p.iter().all(|&b| b >= least && b <= 60), "{p:?}");
                assert!(sum + p.iter().sum::<u32>() <= budget);
                assert!(p.len() == 4 || room < (p.len() as u32 + 1) * least);
            }
        }
    }
    assert_eq!(Parameters::special_prime_bits(&[], 438), None);
    // the LeNet chain of the inference compiler at N = 16384: three 40-bit
    // special primes, 3 digits instead of 10 with one 38-bit prime
    let q = [38, 38, 30, 30, 30, 30, 30, 30, 30, 30];
    let p = Parameters::special_prime_bits(&q, 438).unwrap();
    assert_eq!(p, vec![40, 40, 40]);
    let params = Parameters::builder()
        .degree(16384)
        .q_bits(&q)
        .p_bits(&p)
        .scale_bits(30)
        .build()
        .unwrap();
    assert_eq!(params.rlwe().digits(), 3);
}

#[test]
fn circuit_helper_picks_secure_parameters() {
    // depth 3 at 2^40 fits N = 8192; depth 7 needs N = 16384; depth 18 N = 32768.
    let p = Parameters::for_circuit(3, 40, 20).unwrap();
    assert_eq!(p.degree(), 8192);
    assert_eq!(p.max_level(), 3);
    let p = Parameters::for_circuit(7, 40, 20).unwrap();
    assert_eq!(p.degree(), 16384);
    let p = Parameters::for_circuit(18, 40, 20).unwrap();
    assert_eq!(p.degree(), 32768);
    assert!(p.rlwe().log_qp() <= rlwe::params::max_log_qp(32768, SecurityLevel::Bits128).unwrap());
    // Every preset is 128-bit secure with every prime below 2^50.
    for (preset, n) in [
        (Preset::N8192, 8192),
        (Preset::N16384, 16384),
        (Preset::N32768, 32768),
    ] {
        let p = Parameters::preset(preset).unwrap();
        assert_eq!(p.degree(), n);
        assert!(p.rlwe().log_qp() <= rlwe::params::max_log_qp(n, SecurityLevel::Bits128).unwrap());
        assert!(p
            .rlwe()
            .q()
            .iter()
            .chain(p.rlwe().p())
            .all(|&q| q < 1 << 50));
        assert_eq!(p.scale(), 2f64.powi(40));
    }
    // Asking for 30 bits of precision raises the scale above 2^40.
    let p = Parameters::for_circuit(2, 30, 30).unwrap();
    assert!(p.scale() >= 2f64.powi(44));
    assert!(matches!(
        Parameters::for_circuit(200, 40, 20),
        Err(Error::InvalidArgument { .. })
    ));
}
