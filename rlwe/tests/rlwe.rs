//! End-to-end RLWE tests: encryption, decryption, key switching,
//! relinearization, Galois automorphisms and rescaling, with measured noise
//! under stated bounds; mismatched objects give specific errors.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use num_bigint::BigInt;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rlwe::ciphertext::Ciphertext;
use rlwe::keys::{
    galois_element_for_rotation, GaloisKeys, KeySwitchKey, PublicKey, RelinKey, SecretKey,
};
use rlwe::params::{Params, SecurityLevel};
use rlwe::poly::{Poly, Representation};
use rlwe::sample;
use rlwe::Error;

fn rng() -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(42)
}

/// N = 8192, 218-bit QP (128-bit secure): 4 chain primes, 1 special prime.
fn params_8192() -> Arc<Params> {
    Params::builder()
        .degree(8192)
        .q_bits(&[43, 43, 44, 44])
        .p_bits(&[44])
        .build()
        .unwrap()
}

/// N = 4096 with 2 special primes (digits of 2 primes), 109 bits.
fn params_4096() -> Arc<Params> {
    Params::builder()
        .degree(4096)
        .q_bits(&[22, 22, 22])
        .p_bits(&[21, 22])
        .build()
        .unwrap()
}

fn max_abs_bits(p: &Poly) -> f64 {
    p.infinity_norm_bits()
}

fn diff(a: &Poly, b: &Poly) -> Poly {
    let mut x = a.clone();
    x.to_coeff();
    let mut y = b.clone();
    y.to_coeff();
    x.sub_assign(&y).unwrap();
    x
}

#[test]
fn secret_key_encryption_noise_is_the_error_sample() {
    let params = params_8192();
    let mut rng = rng();
    let sk = SecretKey::generate(&params, &mut rng);
    for level in [params.max_level(), 0] {
        let ring = params.ring_q(level).unwrap();
        let m = sample::uniform_poly(ring, Representation::Coefficient, &mut rng);
        let ct = sk.encrypt(&m, &mut rng).unwrap();
        assert!(ct.seed().is_some());
        let noise = diff(&sk.decrypt(&ct).unwrap(), &m);
        // Fresh noise is one centered-binomial sample: |e| ≤ 21 < 2^4.4.
        let bits = max_abs_bits(&noise);
        assert!(bits <= 21f64.log2() + 1e-9, "noise {bits} bits");
    }
}

#[test]
fn public_key_encryption_noise_bound() {
    let params = params_8192();
    let mut rng = rng();
    let sk = SecretKey::generate(&params, &mut rng);
    let pk = PublicKey::generate(&sk, &mut rng).unwrap();
    let ring = params.ring_q(params.max_level()).unwrap();
    let m = sample::uniform_poly(ring, Representation::Coefficient, &mut rng);
    let ct = pk.encrypt(&m, &mut rng).unwrap();
    let noise = diff(&sk.decrypt(&ct).unwrap(), &m);
    // Encryption runs over Q ∪ P and divides by P = 2^44: the noise
    // (u·e + e_0 + e_1·s)/P (≈ 2^11 / 2^44) vanishes and what remains is the
    // rounding ε_0 + ε_1·s, |ε| ≤ 1/2: std ≈ sqrt(N·(2/3)/12) = sqrt(N/18)
    // ≈ 21 at N = 8192, max over N coefficients ≈ 4.4σ ≈ 2^6.6.
    let bits = max_abs_bits(&noise);
    assert!(bits < 7.5, "public-key noise {bits} bits");
    assert!(bits > 5.0, "suspiciously small noise {bits}");
}

/// Noise of `k0 + k1·s − d·s'` for a uniform `d`.
fn key_switch_noise_bits(
    ksk: &KeySwitchKey,
    sk: &SecretKey,
    s_from: &Poly,
    level: usize,
    rng: &mut ChaCha20Rng,
) -> f64 {
    let params = sk.params();
    let ring = params.ring_q(level).unwrap();
    let d = sample::uniform_poly(ring, Representation::Ntt, rng);
    let (k0, k1) = ksk.switch(&d).unwrap();
    let s = sk.poly_at(ring).unwrap();
    let mut lhs = Poly::mul(&k1, &s).unwrap();
    lhs.add_assign(&k0).unwrap();
    let rhs = Poly::mul(&d, &s_from.restrict_to(ring).unwrap()).unwrap();
    max_abs_bits(&diff(&lhs, &rhs))
}

#[test]
fn relinearization_and_galois_key_switching_noise() {
    for params in [params_8192(), params_4096()] {
        let mut rng = rng();
        let sk = SecretKey::generate(&params, &mut rng);
        let n = params.degree() as f64;
        // Key-switching noise = Σ_j D_j·e_j / P + (ε_0 + ε_1·s) with |ε| ≤ 1/2.
        // Each coefficient of the first term has std ≈ sqrt(N·dnum)·α·(Q_j/P)·σ/√3,
        // the rounding term ≈ sqrt(N/18); 6 standard deviations stay below
        // 2^(log2(N)/2 + 6) for both parameter sets (measured: ≤ 9.0 bits with
        // centered digits).
        let bound = n.log2() / 2.0 + 6.0;
        let rlk = RelinKey::generate(&sk, &mut rng).unwrap();
        let s2 = Poly::mul(sk.ntt_qp(), sk.ntt_qp()).unwrap();
        let g = galois_element_for_rotation(3, params.degree());
        let gks = GaloisKeys::generate(&sk, &[g], &mut rng).unwrap();
        let sg = sk.ntt_qp().automorphism(g).unwrap();
        for level in 0..=params.max_level() {
            let b1 = key_switch_noise_bits(rlk.key(), &sk, &s2, level, &mut rng);
            let b2 = key_switch_noise_bits(gks.get(g).unwrap().key(), &sk, &sg, level, &mut rng);
            eprintln!("N={} level={level}: relin noise {b1:.1} bits, galois noise {b2:.1} bits (bound {bound})", params.degree());
            assert!(b1 < bound && b2 < bound, "{b1} {b2}");
        }
    }
}

#[test]
fn relinearized_product_decrypts_to_product() {
    let params = params_8192();
    let mut rng = rng();
    let sk = SecretKey::generate(&params, &mut rng);
    let rlk = RelinKey::generate(&sk, &mut rng).unwrap();
    let ring = params.ring_q(params.max_level()).unwrap();
    // messages scaled by 2^30 so that noise is relatively small
    let a: Vec<i64> = (0..8).map(|i| (i + 1) << 30).collect();
    let b: Vec<i64> = vec![3 << 30];
    let ma = Poly::from_i64(ring, &a).unwrap();
    let mb = Poly::from_i64(ring, &b).unwrap();
    let ca = sk.encrypt(&ma, &mut rng).unwrap();
    let cb = sk.encrypt(&mb, &mut rng).unwrap();
    let c3 = ca.tensor(&cb).unwrap();
    assert_eq!(c3.len(), 3);
    let c2 = c3.relinearize(&rlk).unwrap();
    assert_eq!(c2.len(), 2);
    let d3 = sk.decrypt(&c3).unwrap();
    let d2 = sk.decrypt(&c2).unwrap();
    let expect: Vec<BigInt> = (0..params.degree())
        .map(|i| {
            if i < 8 {
                BigInt::from((i as i64 + 1) * 3) << 60
            } else {
                BigInt::from(0)
            }
        })
        .collect();
    for d in [d3, d2] {
        let got = d.centered_coeffs();
        for (g, e) in got.iter().zip(&expect) {
            let err = g - e;
            // noise ≈ e_a·m_b + e_b·m_a + ... < 2^30·2^8·N
            assert!(err.bits() < 30 + 8 + 13, "error {} bits", err.bits());
        }
    }
}

#[test]
fn fused_relinearize_rescale_matches_the_two_steps() {
    let params = params_8192();
    let mut rng = rng();
    let sk = SecretKey::generate(&params, &mut rng);
    let rlk = RelinKey::generate(&sk, &mut rng).unwrap();
    let ring = params.ring_q(params.max_level()).unwrap();
    let m = Poly::from_i64(ring, &[5 << 40, -(3 << 40), 1 << 40]).unwrap();
    let ct = sk
        .encrypt(&m, &mut rng)
        .unwrap()
        .tensor(&sk.encrypt(&m, &mut rng).unwrap())
        .unwrap();
    let fused = ct.relinearize_rescale(&rlk).unwrap();
    let two = ct.relinearize(&rlk).unwrap().rescale().unwrap();
    assert_eq!(fused.level(), two.level());
    let d = diff(&sk.decrypt(&fused).unwrap(), &sk.decrypt(&two).unwrap());
    // both are m²/q_3 up to key-switching noise / q_3 and rounding: ≪ 2^10
    assert!(
        max_abs_bits(&d) < 10.0,
        "difference {} bits",
        max_abs_bits(&d)
    );
    assert!(matches!(
        ct.drop_to_level(0).unwrap().relinearize_rescale(&rlk),
        Err(Error::InvalidLevel { .. })
    ));
}

#[test]
fn galois_automorphism_decrypts_to_permuted_message() {
    let params = params_4096();
    let mut rng = rng();
    let sk = SecretKey::generate(&params, &mut rng);
    let pk = PublicKey::generate(&sk, &mut rng).unwrap();
    let n = params.degree();
    let elements = [
        galois_element_for_rotation(1, n),
        galois_element_for_rotation(-1, n),
        2 * n - 1,
    ];
    let gks = GaloisKeys::generate(&sk, &elements, &mut rng).unwrap();
    let ring = params.ring_q(params.max_level()).unwrap();
    let coeffs: Vec<i64> = (0..n as i64).map(|i| (i % 17 - 8) << 40).collect();
    let m = Poly::from_i64(ring, &coeffs).unwrap();
    let ct = pk.encrypt(&m, &mut rng).unwrap();
    for &g in &elements {
        let rot = ct.apply_galois(gks.get(g).unwrap()).unwrap();
        let noise = diff(&sk.decrypt(&rot).unwrap(), &m.automorphism(g).unwrap());
        assert!(
            max_abs_bits(&noise) < 20.0,
            "noise {}",
            max_abs_bits(&noise)
        );
    }
    assert!(matches!(gks.get(5 * 5 * 5), Err(Error::MissingKey { .. })));
}

#[test]
fn rescale_divides_by_last_prime() {
    let params = params_8192();
    let mut rng = rng();
    let sk = SecretKey::generate(&params, &mut rng);
    let level = params.max_level();
    let ring = params.ring_q(level).unwrap();
    let q_last = params.q()[level] as i64;
    let msg: Vec<i64> = (0..64).map(|i| i * 1000 - 32_000).collect();
    let scaled: Vec<BigInt> = msg.iter().map(|&m| BigInt::from(m) * q_last).collect();
    let m = Poly::from_bigints(ring, &scaled).unwrap();
    let ct = sk.encrypt(&m, &mut rng).unwrap();
    let r = ct.rescale().unwrap();
    assert_eq!(r.level(), level - 1);
    let dec = sk.decrypt(&r).unwrap().centered_coeffs();
    for (i, d) in dec.iter().enumerate() {
        let expect = if i < 64 { msg[i] } else { 0 };
        // (e + e'·s)/q + rounding: |err| ≤ (21 + N)/q + 1/2·(1 + ‖s‖₁) ≪ N
        let err = (d - BigInt::from(expect)).magnitude().bits();
        assert!(err <= 13, "coefficient {i}: error {err} bits");
    }
    let bottom = ct.drop_to_level(0).unwrap();
    assert!(matches!(bottom.rescale(), Err(Error::InvalidLevel { .. })));
    assert!(matches!(
        bottom.drop_to_level(1),
        Err(Error::InvalidLevel { .. })
    ));
}

#[test]
fn homomorphic_addition_and_plain_multiplication() {
    let params = params_4096();
    let mut rng = rng();
    let sk = SecretKey::generate(&params, &mut rng);
    let ring = params.ring_q(params.max_level()).unwrap();
    let a = Poly::from_i64(ring, &[5 << 20, 7 << 20]).unwrap();
    let b = Poly::from_i64(ring, &[-(2 << 20), 1 << 20]).unwrap();
    let mut ca = sk.encrypt(&a, &mut rng).unwrap();
    let cb = sk.encrypt(&b, &mut rng).unwrap();
    ca.add_assign(&cb).unwrap();
    let mut plain = Poly::from_i64(ring, &[0, 2]).unwrap(); // multiply by 2X
    plain.to_ntt();
    ca.mul_plain_assign(&plain).unwrap();
    let dec = sk.decrypt(&ca).unwrap().centered_coeffs();
    // (3·2^20 + 8·2^20 X)·2X = 6·2^20 X + 16·2^20 X^2
    let want = [0i64, 6 << 20, 16 << 20];
    for (i, w) in want.iter().enumerate() {
        assert!((&dec[i] - BigInt::from(*w)).magnitude().bits() <= 7);
    }
}

/// The one-pass `add` / `sub` agree with `clone` + `add_assign` /
/// `sub_assign` part by part (residues compared exactly), including a
/// 3-part tensor against a 2-part ciphertext in both orders, and refuse
/// what the in-place forms refuse.
#[test]
fn one_pass_sum_and_difference_match_the_in_place_forms() {
    let params = params_4096();
    let mut rng = rng();
    let sk = SecretKey::generate(&params, &mut rng);
    let ring = params.ring_q(params.max_level()).unwrap();
    let a = Poly::from_i64(ring, &[5 << 20, 7 << 20, -3]).unwrap();
    let b = Poly::from_i64(ring, &[-(2 << 20), 1 << 20, 9]).unwrap();
    let ca = sk.encrypt(&a, &mut rng).unwrap();
    let cb = sk.encrypt(&b, &mut rng).unwrap();
    let t = ca.tensor(&cb).unwrap();
    for (x, y) in [(&ca, &cb), (&t, &ca), (&ca, &t)] {
        let mut want = x.clone();
        want.add_assign(y).unwrap();
        let got = x.add(y).unwrap();
        assert_eq!(got.parts().len(), want.parts().len());
        for (g, w) in got.parts().iter().zip(want.parts()) {
            assert_eq!(g.data(), w.data());
        }
        let mut want = x.clone();
        want.sub_assign(y).unwrap();
        let got = x.sub(y).unwrap();
        assert_eq!(got.parts().len(), want.parts().len());
        for (g, w) in got.parts().iter().zip(want.parts()) {
            assert_eq!(g.data(), w.data());
        }
    }
    // a − a decrypts to zero; a + b to the sum
    let zero = sk.decrypt(&ca.sub(&ca).unwrap()).unwrap().centered_coeffs();
    assert!(zero.iter().all(|c| c == &BigInt::from(0)));
    let sum = sk.decrypt(&ca.add(&cb).unwrap()).unwrap().centered_coeffs();
    for (i, w) in [3i64 << 20, 8 << 20, 6].iter().enumerate() {
        assert!((&sum[i] - BigInt::from(*w)).magnitude().bits() <= 7);
    }
    let low = ca.drop_to_level(0).unwrap();
    assert!(matches!(ca.add(&low), Err(Error::InvalidLevel { .. })));
    assert!(matches!(ca.sub(&low), Err(Error::InvalidLevel { .. })));
    let other = SecretKey::generate(&params_8192(), &mut rng);
    let m2 = Poly::zero(
        params_8192().ring_q(params_8192().max_level()).unwrap(),
        Representation::Ntt,
    );
    let c2 = other.encrypt(&m2, &mut rng).unwrap();
    assert!(matches!(ca.add(&c2), Err(Error::ParameterMismatch { .. })));
}

#[test]
fn mismatched_objects_are_errors() {
    let p1 = params_4096();
    let p2 = params_8192();
    let mut rng = rng();
    let sk1 = SecretKey::generate(&p1, &mut rng);
    let sk2 = SecretKey::generate(&p2, &mut rng);
    let m1 = Poly::zero(p1.ring_q(p1.max_level()).unwrap(), Representation::Ntt);
    let m2 = Poly::zero(p2.ring_q(p2.max_level()).unwrap(), Representation::Ntt);
    let c1 = sk1.encrypt(&m1, &mut rng).unwrap();
    let c2 = sk2.encrypt(&m2, &mut rng).unwrap();
    let mut x = c1.clone();
    assert!(matches!(
        x.add_assign(&c2),
        Err(Error::ParameterMismatch { .. })
    ));
    assert!(matches!(
        sk1.decrypt(&c2),
        Err(Error::ParameterMismatch { .. })
    ));
    assert!(matches!(
        sk1.encrypt(&m2, &mut rng),
        Err(Error::ParameterMismatch { .. })
    ));
    let low = c1.drop_to_level(0).unwrap();
    assert!(matches!(
        x.add_assign(&low),
        Err(Error::InvalidLevel { .. })
    ));
    let rlk2 = RelinKey::generate(&sk2, &mut rng).unwrap();
    assert!(matches!(
        c1.tensor(&c1).unwrap().relinearize(&rlk2),
        Err(Error::ParameterMismatch { .. })
    ));
    let mut coeff_pt = m1.clone();
    coeff_pt.to_coeff();
    assert!(matches!(
        x.mul_plain_assign(&coeff_pt),
        Err(Error::RepresentationMismatch { .. })
    ));
    assert!(matches!(
        Ciphertext::new(&p1, vec![m1.clone()]),
        Err(Error::Malformed { .. })
    ));
    assert!(matches!(
        SecretKey::from_coeffs(&p1, vec![0; 10]),
        Err(Error::Malformed { .. })
    ));
    // no special primes: key switching is unavailable
    let nop = Params::builder()
        .degree(4096)
        .q_bits(&[40, 40])
        .build()
        .unwrap();
    let sk = SecretKey::generate(&nop, &mut rng);
    assert!(matches!(
        RelinKey::generate(&sk, &mut rng),
        Err(Error::InvalidParameters { .. })
    ));
    let _ = SecurityLevel::None;
}
