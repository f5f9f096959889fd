//! BFV correctness against plaintext arithmetic modulo t, noise budgets
//! against the stated estimates, depth, serialization and bad input.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use bfv::{
    Ciphertext, Encoder, Error, Evaluator, GaloisKeys, Parameters, Preset, PublicKey, RelinKey,
    SecretKey, SecurityLevel,
};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

const T: i64 = 65537;

struct Ctx {
    params: Arc<Parameters>,
    sk: SecretKey,
    pk: PublicKey,
    rlk: RelinKey,
    gk: GaloisKeys,
    enc: Encoder,
    eval: Evaluator,
    rng: ChaCha20Rng,
}

fn setup(preset: Preset) -> Ctx {
    let params = Parameters::preset(preset).unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let sk = SecretKey::generate(&params, &mut rng);
    let pk = PublicKey::generate(&sk, &mut rng).unwrap();
    let rlk = RelinKey::generate(&sk, &mut rng).unwrap();
    let gk = GaloisKeys::for_slot_sum(&sk, &mut rng).unwrap();
    Ctx {
        enc: Encoder::new(&params),
        eval: Evaluator::new(&params),
        params,
        sk,
        pk,
        rlk,
        gk,
        rng,
    }
}

fn random_vec(rng: &mut ChaCha20Rng, n: usize) -> Vec<i64> {
    (0..n).map(|_| rng.gen_range(-(T / 2)..=T / 2)).collect()
}

fn center(x: i64) -> i64 {
    let r = x.rem_euclid(T);
    if r > T / 2 {
        r - T
    } else {
        r
    }
}

/// Slot-wise reference: rotate each row of N/2 slots left by `k`.
fn rotate_rows_ref(v: &[i64], k: i64) -> Vec<i64> {
    let half = v.len() / 2;
    let mut out = vec![0; v.len()];
    for r in 0..2 {
        for j in 0..half {
            let src = (j as i64 + k).rem_euclid(half as i64) as usize;
            out[r * half + j] = v[r * half + src];
        }
    }
    out
}

#[test]
fn every_operation_matches_plaintext_arithmetic() {
    let mut c = setup(Preset::N8192T65537);
    let n = c.params.degree();
    let a = random_vec(&mut c.rng, n);
    let b = random_vec(&mut c.rng, n);
    let p = random_vec(&mut c.rng, n);
    let ca =
        c.pk.encrypt(&c.enc.encode(&a).unwrap(), &mut c.rng)
            .unwrap();
    let cb =
        c.sk.encrypt(&c.enc.encode(&b).unwrap(), &mut c.rng)
            .unwrap();
    let pp = c.enc.encode(&p).unwrap();
    let dec = |ct: &Ciphertext| c.enc.decode(&c.sk.decrypt(ct).unwrap()).unwrap();
    let zip = |f: &dyn Fn(i64, i64) -> i64, x: &[i64], y: &[i64]| -> Vec<i64> {
        x.iter().zip(y).map(|(&u, &v)| center(f(u, v))).collect()
    };

    assert_eq!(dec(&ca), a);
    assert_eq!(dec(&cb), b);
    assert_eq!(
        dec(&c.eval.add(&ca, &cb).unwrap()),
        zip(&|u, v| u + v, &a, &b)
    );
    assert_eq!(
        dec(&c.eval.sub(&ca, &cb).unwrap()),
        zip(&|u, v| u - v, &a, &b)
    );
    assert_eq!(dec(&c.eval.neg(&ca).unwrap()), zip(&|u, _| -u, &a, &b));
    assert_eq!(
        dec(&c.eval.add_plain(&ca, &pp).unwrap()),
        zip(&|u, v| u + v, &a, &p)
    );
    assert_eq!(
        dec(&c.eval.sub_plain(&ca, &pp).unwrap()),
        zip(&|u, v| u - v, &a, &p)
    );
    assert_eq!(
        dec(&c.eval.mul_plain(&ca, &pp).unwrap()),
        zip(&|u, v| u * v, &a, &p)
    );
    assert_eq!(
        dec(&c.eval.mul_scalar(&ca, -7).unwrap()),
        zip(&|u, _| -7 * u, &a, &b)
    );
    let prod = c.eval.mul(&ca, &cb).unwrap();
    assert_eq!(prod.len(), 3);
    assert_eq!(dec(&prod), zip(&|u, v| u * v, &a, &b));
    let ab = c.eval.relinearize(&prod, &c.rlk).unwrap();
    assert_eq!(ab.len(), 2);
    assert_eq!(dec(&ab), zip(&|u, v| u * v, &a, &b));
    assert_eq!(
        dec(&c.eval.mul_relin(&ca, &ca, &c.rlk).unwrap()),
        zip(&|u, _| u * u, &a, &a)
    );
    for k in [1i64, 2, 64] {
        assert_eq!(
            dec(&c.eval.rotate_rows(&ca, k, &c.gk).unwrap()),
            rotate_rows_ref(&a, k)
        );
    }
    let mut swapped = a[n / 2..].to_vec();
    swapped.extend_from_slice(&a[..n / 2]);
    assert_eq!(dec(&c.eval.rotate_columns(&ca, &c.gk).unwrap()), swapped);
    let total = center(a.iter().sum::<i64>());
    assert_eq!(dec(&c.eval.sum_slots(&ca, &c.gk).unwrap()), vec![total; n]);
    // modulus switching keeps the plaintext
    let low = c.eval.mod_switch_to(&ab, 0).unwrap();
    assert_eq!(low.level(), 0);
    assert_eq!(dec(&low), zip(&|u, v| u * v, &a, &b));
    assert!(low.serialized_size() * 2 < ab.serialized_size());
    // a prepared (NTT-form) plaintext, by value and in place
    let prepared = c.eval.prepare_mul(&pp, ca.level()).unwrap();
    let by_value = c.eval.mul_prepared(&ca, &prepared).unwrap();
    assert_eq!(dec(&by_value), zip(&|u, v| u * v, &a, &p));
    let mut in_place = ca.clone();
    c.eval
        .mul_prepared_assign(&mut in_place, &prepared)
        .unwrap();
    assert_eq!(in_place.rlwe().parts(), by_value.rlwe().parts());
    assert_eq!(
        by_value.rlwe().parts(),
        c.eval.mul_plain(&ca, &pp).unwrap().rlwe().parts()
    );
    // in-place variants agree
    let mut x = ca.clone();
    c.eval.add_assign(&mut x, &cb).unwrap();
    c.eval.mul_plain_assign(&mut x, &pp).unwrap();
    c.eval.mul_relin_assign(&mut x, &cb, &c.rlk).unwrap();
    let expect: Vec<i64> = (0..n)
        .map(|i| center((a[i] + b[i]) * p[i] % T * b[i]))
        .collect();
    assert_eq!(dec(&x), expect);
}

#[test]
fn negative_rotation_steps() {
    let mut c = setup(Preset::N4096T65537);
    let gk = GaloisKeys::generate(&c.sk, &[-3, 5], &mut c.rng).unwrap();
    let a: Vec<i64> = (0..4096).map(|i| i - 2048).collect();
    let ct =
        c.sk.encrypt(&c.enc.encode(&a).unwrap(), &mut c.rng)
            .unwrap();
    for k in [-3i64, 5] {
        let r = c.eval.rotate_rows(&ct, k, &gk).unwrap();
        assert_eq!(
            c.enc.decode(&c.sk.decrypt(&r).unwrap()).unwrap(),
            rotate_rows_ref(&a, k)
        );
    }
    assert!(matches!(
        c.eval.rotate_rows(&ct, 1, &gk),
        Err(Error::Rlwe(rlwe::Error::MissingKey { .. }))
    ));
    assert!(matches!(
        c.eval.rotate_columns(&ct, &gk),
        Err(Error::Rlwe(rlwe::Error::MissingKey { .. }))
    ));
}

#[test]
fn coefficient_encoding_multiplies_polynomials_mod_t() {
    let mut c = setup(Preset::N4096T65537);
    let n = 4096;
    let a = random_vec(&mut c.rng, 40);
    let b = random_vec(&mut c.rng, 40);
    let ca =
        c.pk.encrypt(&c.enc.encode_coefficients(&a).unwrap(), &mut c.rng)
            .unwrap();
    let cb =
        c.pk.encrypt(&c.enc.encode_coefficients(&b).unwrap(), &mut c.rng)
            .unwrap();
    let prod = c.eval.mul_relin(&ca, &cb, &c.rlk).unwrap();
    // schoolbook product mod t (degree < N: no wrap-around)
    let mut expect = vec![0i64; n];
    for (i, &x) in a.iter().enumerate() {
        for (j, &y) in b.iter().enumerate() {
            expect[i + j] = center(expect[i + j] + x * y % T);
        }
    }
    assert_eq!(
        c.enc
            .decode_coefficients(&c.sk.decrypt(&prod).unwrap())
            .unwrap(),
        expect
    );
    // a batch decoder refuses a coefficient plaintext
    assert!(matches!(
        c.enc.decode(&c.sk.decrypt(&prod).unwrap()),
        Err(Error::EncodingMismatch { .. })
    ));
}

/// Invariant noise of a fresh public-key encryption: `[t·(c_0 + c_1 s)]_Q =
/// t·E + t·ε` with `Δ·m = round(Q·m/t)` (`|ε| ≤ 1/2`). Encryption runs over
/// `Q ∪ P` and divides by `P`, so `E` is the rounding noise `ε_0 + ε_1·s`
/// (`|ε_i| ≤ 1/2`) of standard deviation `σ_E = sqrt(N/18 + 1/12)`; its
/// maximum over N coefficients is ≈ 4.4 σ_E, so the expected budget is
/// `log2 Q − 1 − log2(4.4·t·σ_E + t/2)`. (With `Δ = ⌊Q/t⌋` the term
/// `(Q mod t)·m`, up to `(Q mod t)·t/2`, would dominate: 7–8 bits less.)
#[test]
fn fresh_and_multiplication_noise_match_estimates() {
    for preset in [Preset::N8192T65537, Preset::N16384T65537] {
        let mut c = setup(preset);
        let n = c.params.degree() as f64;
        let q: num_bigint::BigUint = c
            .params
            .rlwe()
            .q()
            .iter()
            .map(|&x| num_bigint::BigUint::from(x))
            .product();
        let log_q = q.bits() as f64 - 0.5; // within half a bit
        let t = T as f64;
        let sigma_e = (n / 18.0 + 1.0 / 12.0).sqrt();
        let estimate = log_q - 1.0 - (4.4 * t * sigma_e + t / 2.0).log2();
        let a = random_vec(&mut c.rng, c.params.degree());
        let ct =
            c.pk.encrypt(&c.enc.encode(&a).unwrap(), &mut c.rng)
                .unwrap();
        let fresh = c.sk.noise_budget(&ct).unwrap();
        eprintln!("N={n}: fresh budget {fresh:.1} bits, estimate {estimate:.1}");
        assert!(
            (fresh - estimate).abs() < 2.0,
            "fresh {fresh} vs estimate {estimate}"
        );
        // One multiplication: v ≈ t·(v_1·k_2 + v_2·k_1) with ‖k_i‖ ≈ sqrt(N/18)
        // per coefficient, so it costs about log2(t·N) − 1 bits (± 3).
        let sq = c.eval.mul_relin(&ct, &ct, &c.rlk).unwrap();
        let after = c.sk.noise_budget(&sq).unwrap();
        let cost = fresh - after;
        let expect = (t * n).log2() - 1.0;
        eprintln!("N={n}: after one multiplication {after:.1} bits (cost {cost:.1}, estimate {expect:.1})");
        assert!((cost - expect).abs() < 3.0, "cost {cost} vs {expect}");
    }
}

/// SEAL's BFV layouts (t = 65537): N = 8192 with a 174-bit data modulus
/// `[43, 43, 44, 44]` and one 44-bit special prime; N = 16384 with 389 bits
/// `[48, 48, 48, 49 × 5]` and one 49-bit special prime. SEAL 4.4.3 (with
/// and without HEXL) reports fresh / after one relinearized product budgets
/// of 150 / 122 and 364–365 / 336 bits there (`shared/peers/
/// results_seal_hexl_t2.txt`; SEAL rounds down to whole bits). hekit must
/// reach them: ≥ 149 / 121 and ≥ 363 / 335 (hekit reports fractional bits).
///
/// Independent check of the embedding: the phase `c_0 + c_1·s` minus
/// `round(Q·m/t)` (big integers) is the encryption noise alone, at most a
/// few hundred, while `⌊Q/t⌋·m` would leave `(Q mod t)·m/t`, up to 2^14.5.
#[test]
fn noise_budget_at_seal_layouts_is_at_least_seals() {
    use num_bigint::{BigInt, BigUint};
    for (n, q, p, fresh_min, after_min) in [
        (8192, vec![43, 43, 44, 44], vec![44], 149.0, 121.0),
        (
            16384,
            vec![48, 48, 48, 49, 49, 49, 49, 49],
            vec![49],
            363.0,
            335.0,
        ),
    ] {
        let params = Parameters::builder()
            .degree(n)
            .plaintext_modulus(T as u64)
            .q_bits(&q)
            .p_bits(&p)
            .build()
            .unwrap();
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let sk = SecretKey::generate(&params, &mut rng);
        let pk = PublicKey::generate(&sk, &mut rng).unwrap();
        let rlk = RelinKey::generate(&sk, &mut rng).unwrap();
        let enc = Encoder::new(&params);
        let eval = Evaluator::new(&params);
        let (x, y) = (random_vec(&mut rng, n), random_vec(&mut rng, n));
        let px = enc.encode(&x).unwrap();
        let cx = pk.encrypt(&px, &mut rng).unwrap();
        let cy = pk.encrypt(&enc.encode(&y).unwrap(), &mut rng).unwrap();
        let prod = eval.mul_relin(&cx, &cy, &rlk).unwrap();
        let fresh = sk.noise_budget(&cx).unwrap();
        let after = sk.noise_budget(&prod).unwrap();
        eprintln!("N={n}: fresh budget {fresh:.2} bits, after one product {after:.2}");
        assert!(fresh >= fresh_min, "N={n}: fresh {fresh} < {fresh_min}");
        assert!(
            after >= after_min,
            "N={n}: after one product {after} < {after_min}"
        );
        let expect: Vec<i64> = x.iter().zip(&y).map(|(a, b)| center(a * b)).collect();
        assert_eq!(enc.decode(&sk.decrypt(&prod).unwrap()).unwrap(), expect);
        // the phase minus round(Q·m/t), with big integers
        let qb: BigUint = params
            .rlwe()
            .q()
            .iter()
            .map(|&v| BigUint::from(v))
            .product();
        let qi = BigInt::from(qb);
        let phase = sk.rlwe().decrypt(cx.rlwe()).unwrap().centered_coeffs();
        let t = BigInt::from(T);
        let worst = phase
            .iter()
            .zip(px.coefficients())
            .map(|(ph, &m)| {
                let exact = (&qi * BigInt::from(m) * 2 + &t) / (&t * 2);
                let half: BigInt = &qi / 2;
                let mut v: BigInt = (ph - exact) % &qi;
                if v > half {
                    v -= &qi;
                } else if v < -half {
                    v += &qi;
                }
                v.magnitude().bits()
            })
            .max()
            .unwrap();
        eprintln!("N={n}: max |phase − round(Q·m/t)| < 2^{worst}");
        assert!(worst <= 9, "N={n}: embedding error 2^{worst}");
    }
}

#[test]
fn deepest_chain_of_the_8192_preset() {
    let mut c = setup(Preset::N8192T65537);
    let n = c.params.degree();
    let x: Vec<i64> = (0..n as i64).map(|i| (i % 11) - 5).collect();
    let mut ct =
        c.pk.encrypt(&c.enc.encode(&x).unwrap(), &mut c.rng)
            .unwrap();
    let mut plain = x.clone();
    let mut depth = 0;
    let mut budgets = vec![c.sk.noise_budget(&ct).unwrap()];
    loop {
        let next = c.eval.mul_relin(&ct, &ct, &c.rlk).unwrap();
        let next_plain: Vec<i64> = plain.iter().map(|&v| center(v * v)).collect();
        let budget = c.sk.noise_budget(&next).unwrap();
        if budget <= 0.0 {
            // one multiplication too many: the budget is gone
            break;
        }
        depth += 1;
        budgets.push(budget);
        assert_eq!(
            c.enc.decode(&c.sk.decrypt(&next).unwrap()).unwrap(),
            next_plain,
            "depth {depth}"
        );
        ct = next;
        plain = next_plain;
    }
    eprintln!("N=8192 depth {depth}, budgets {budgets:.1?}");
    // 132-bit Q, fresh budget ≈ 108 bits, ≈ 29 bits per multiplication
    assert!(depth >= 3, "depth {depth}");
    // decryption still exact at the last level reached
    assert_eq!(c.enc.decode(&c.sk.decrypt(&ct).unwrap()).unwrap(), plain);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn homomorphism_on_random_vectors(seed in any::<u64>()) {
        let params = Parameters::preset(Preset::N4096T65537).unwrap();
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let sk = SecretKey::generate(&params, &mut rng);
        let rlk = RelinKey::generate(&sk, &mut rng).unwrap();
        let enc = Encoder::new(&params);
        let eval = Evaluator::new(&params);
        let a = random_vec(&mut rng, 4096);
        let b = random_vec(&mut rng, 4096);
        let ca = sk.encrypt(&enc.encode(&a).unwrap(), &mut rng).unwrap();
        let cb = sk.encrypt(&enc.encode(&b).unwrap(), &mut rng).unwrap();
        let sum = enc.decode(&sk.decrypt(&eval.add(&ca, &cb).unwrap()).unwrap()).unwrap();
        let prod = enc.decode(&sk.decrypt(&eval.mul_relin(&ca, &cb, &rlk).unwrap()).unwrap()).unwrap();
        for i in 0..4096 {
            prop_assert_eq!(sum[i], center(a[i] + b[i]));
            prop_assert_eq!(prod[i], center(a[i] * b[i]));
        }
    }
}

#[test]
fn serialization_round_trips() {
    let mut c = setup(Preset::N4096T65537);
    let a = random_vec(&mut c.rng, 4096);
    let pt = c.enc.encode(&a).unwrap();
    let seeded = c.sk.encrypt(&pt, &mut c.rng).unwrap();
    let full = c.pk.encrypt(&pt, &mut c.rng).unwrap();
    assert!(seeded.serialized_size() * 2 < full.serialized_size() + 400);
    for ct in [&seeded, &full] {
        let back = Ciphertext::from_bytes(&c.params, &ct.to_bytes()).unwrap();
        assert_eq!(c.enc.decode(&c.sk.decrypt(&back).unwrap()).unwrap(), a);
    }
    let pk = PublicKey::from_bytes(&c.params, &c.pk.to_bytes()).unwrap();
    let rlk = RelinKey::from_bytes(&c.params, &c.rlk.to_bytes()).unwrap();
    let gk = GaloisKeys::from_bytes(&c.params, &c.gk.to_bytes()).unwrap();
    let ct = pk.encrypt(&pt, &mut c.rng).unwrap();
    let r = c
        .eval
        .rotate_rows(&c.eval.mul_relin(&ct, &ct, &rlk).unwrap(), 1, &gk)
        .unwrap();
    let sq: Vec<i64> = a.iter().map(|&v| center(v * v)).collect();
    assert_eq!(
        c.enc.decode(&c.sk.decrypt(&r).unwrap()).unwrap(),
        rotate_rows_ref(&sq, 1)
    );
}

#[test]
fn bad_input_gives_specific_errors() {
    let mut c = setup(Preset::N4096T65537);
    // plaintext range and size
    assert!(matches!(
        c.enc.encode(&[T]),
        Err(Error::PlaintextOutOfRange { .. })
    ));
    assert!(matches!(
        c.enc.encode(&[-T / 2 - 1]),
        Err(Error::PlaintextOutOfRange { .. })
    ));
    // the error names the first offending value; the range ends are fine
    assert!(matches!(
        c.enc.encode(&[3, -T / 2, T - 1, i64::MIN, T]),
        Err(Error::PlaintextOutOfRange { value, .. }) if value == i128::from(i64::MIN)
    ));
    let edge = c.enc.encode(&[-T / 2, T - 1, 0]).unwrap();
    assert_eq!(&c.enc.decode(&edge).unwrap()[..3], &[-T / 2, -1, 0]);
    assert!(matches!(
        c.enc.encode_u64(&[T as u64]),
        Err(Error::PlaintextOutOfRange { .. })
    ));
    assert!(matches!(
        c.enc.encode(&vec![0; 4097]),
        Err(Error::TooManyValues {
            got: 4097,
            max: 4096
        })
    ));
    // rotation range
    let ct =
        c.sk.encrypt(&c.enc.encode(&[1]).unwrap(), &mut c.rng)
            .unwrap();
    assert!(matches!(
        c.eval.rotate_rows(&ct, 2048, &c.gk),
        Err(Error::InvalidRotation { .. })
    ));
    // other parameters: same Q, different t
    let other = Parameters::builder()
        .degree(4096)
        .plaintext_modulus(40961)
        .q_primes(c.params.rlwe().q())
        .p_primes(c.params.rlwe().p())
        .build()
        .unwrap();
    let enc2 = Encoder::new(&other);
    let sk2 = SecretKey::generate(&other, &mut c.rng);
    let ct2 = sk2
        .encrypt(&enc2.encode(&[1]).unwrap(), &mut c.rng)
        .unwrap();
    assert!(matches!(
        c.eval.add(&ct, &ct2),
        Err(Error::ParameterMismatch { .. })
    ));
    assert!(matches!(
        c.sk.decrypt(&ct2),
        Err(Error::ParameterMismatch { .. })
    ));
    assert!(matches!(
        Ciphertext::from_bytes(&c.params, &ct2.to_bytes()),
        Err(Error::Rlwe(rlwe::Error::ParameterMismatch { .. }))
    ));
    // levels
    let low = c.eval.mod_switch_to_next(&ct).unwrap();
    assert!(matches!(
        c.eval.add(&ct, &low),
        Err(Error::Rlwe(rlwe::Error::InvalidLevel { .. }))
    ));
    assert!(matches!(
        c.eval.mod_switch_to(&low, 1),
        Err(Error::Rlwe(rlwe::Error::InvalidLevel { .. }))
    ));
    // encodings
    let coeff = c.enc.encode_coefficients(&[1, 2]).unwrap();
    assert!(matches!(
        c.eval.mul_plain(&ct, &coeff),
        Err(Error::EncodingMismatch { .. })
    ));
    // prepared plaintexts: encoding and level are checked, by value and in place
    let prepared_coeff = c.eval.prepare_mul(&coeff, ct.level()).unwrap();
    let mut target = ct.clone();
    assert!(matches!(
        c.eval.mul_prepared(&ct, &prepared_coeff),
        Err(Error::EncodingMismatch { .. })
    ));
    assert!(matches!(
        c.eval.mul_prepared_assign(&mut target, &prepared_coeff),
        Err(Error::EncodingMismatch { .. })
    ));
    let batch = c.enc.encode(&[1, 2]).unwrap();
    let prepared_low = c.eval.prepare_mul(&batch, low.level()).unwrap();
    assert!(matches!(
        c.eval.mul_prepared(&ct, &prepared_low),
        Err(Error::Rlwe(rlwe::Error::InvalidLevel { .. }))
    ));
    assert!(matches!(
        c.eval.mul_prepared_assign(&mut target, &prepared_low),
        Err(Error::Rlwe(rlwe::Error::InvalidLevel { .. }))
    ));
    assert_eq!(
        target.rlwe().parts(),
        ct.rlwe().parts(),
        "unchanged on error"
    );
    // malformed bytes
    let bytes = ct.to_bytes();
    assert!(matches!(
        Ciphertext::from_bytes(&c.params, &bytes[..bytes.len() - 3]),
        Err(Error::Rlwe(rlwe::Error::Malformed { .. }))
    ));
    // no batching for a composite t; insecure and inconsistent parameters
    let p65536 = Parameters::builder()
        .degree(4096)
        .plaintext_modulus(65536)
        .q_bits(&[36, 36])
        .p_bits(&[37])
        .build()
        .unwrap();
    assert!(!p65536.supports_batching());
    assert!(matches!(
        Encoder::new(&p65536).encode(&[1]),
        Err(Error::BatchingUnavailable { t: 65536 })
    ));
    assert!(matches!(
        Parameters::builder()
            .degree(4096)
            .q_bits(&[50, 50])
            .p_bits(&[50])
            .build(),
        Err(Error::Rlwe(rlwe::Error::InsecureParameters { .. }))
    ));
    assert!(Parameters::builder()
        .degree(4096)
        .q_bits(&[50, 50])
        .p_bits(&[50])
        .security(SecurityLevel::None)
        .build()
        .is_ok());
    assert!(matches!(
        Parameters::builder()
            .degree(4096)
            .plaintext_modulus(1 << 30)
            .q_bits(&[36, 36])
            .p_bits(&[37])
            .build(),
        Err(Error::InvalidParameters { .. })
    ));
    assert!(matches!(
        Parameters::builder().degree(1024).q_bits(&[27]).build(),
        Err(Error::InvalidParameters { .. })
    ));
}

/// The BFV context (RLWE parameters and t) travels as bytes; ciphertexts
/// read under the copy; contexts that are not BFV, under-secured or forged
/// are refused with specific errors.
#[test]
fn context_round_trips_and_bad_contexts_are_refused() {
    let mut c = setup(Preset::N4096T65537);
    let bytes = c.params.to_bytes();
    let back = Parameters::from_bytes(&bytes, SecurityLevel::Bits128).unwrap();
    assert_eq!(back.fingerprint(), c.params.fingerprint());
    assert_eq!(back.plaintext_modulus(), T as u64);
    let a = random_vec(&mut c.rng, 64);
    let ct =
        c.pk.encrypt(&c.enc.encode(&a).unwrap(), &mut c.rng)
            .unwrap();
    let ct_back = Ciphertext::from_bytes(&back, &ct.to_bytes()).unwrap();
    assert_eq!(
        &c.enc.decode(&c.sk.decrypt(&ct_back).unwrap()).unwrap()[..64],
        &a[..]
    );
    // a ciphertext is not a context (its body does not even decode as one)
    assert!(matches!(
        Parameters::from_bytes(&ct.to_bytes(), SecurityLevel::Bits128),
        Err(Error::Malformed { .. }) | Err(Error::Rlwe(rlwe::Error::Malformed { .. }))
    ));
    // same ring, other t: another context, and the ciphertext is refused
    let other_t = Parameters::from_rlwe(c.params.rlwe().clone(), 40961).unwrap();
    let other_back = Parameters::from_bytes(&other_t.to_bytes(), SecurityLevel::Bits128).unwrap();
    assert_ne!(other_back.fingerprint(), c.params.fingerprint());
    assert!(Ciphertext::from_bytes(&other_back, &ct.to_bytes()).is_err());
    let mut forged = bytes.clone();
    forged[20] ^= 1;
    assert!(matches!(
        Parameters::from_bytes(&forged, SecurityLevel::Bits128),
        Err(Error::Rlwe(rlwe::Error::ParameterMismatch { .. }))
    ));
    let weak = Parameters::builder()
        .degree(2048)
        .q_bits(&[40, 40])
        .p_bits(&[40])
        .security(SecurityLevel::None)
        .build()
        .unwrap();
    assert!(matches!(
        Parameters::from_bytes(&weak.to_bytes(), SecurityLevel::Bits128),
        Err(Error::Rlwe(rlwe::Error::SecurityBelowMinimum { .. }))
    ));
}

/// `&a + &b - &c` and `-&a` match plaintext arithmetic mod t and chain
/// through `Result`s; a ciphertext of other parameters is an error at the
/// end of the chain.
#[test]
fn operators_chain_and_carry_errors() {
    let mut c = setup(Preset::N4096T65537);
    let xs: Vec<Vec<i64>> = (0..3).map(|_| random_vec(&mut c.rng, 4096)).collect();
    let cts: Vec<Ciphertext> = xs
        .iter()
        .map(|x| c.pk.encrypt(&c.enc.encode(x).unwrap(), &mut c.rng).unwrap())
        .collect();
    let (a, b, d) = (&cts[0], &cts[1], &cts[2]);
    let got = c
        .enc
        .decode(&c.sk.decrypt(&(a + b - d).unwrap()).unwrap())
        .unwrap();
    let want: Vec<i64> = (0..4096)
        .map(|i| center(xs[0][i] + xs[1][i] - xs[2][i]))
        .collect();
    assert_eq!(got, want);
    let got = c.enc.decode(&c.sk.decrypt(&-a).unwrap()).unwrap();
    let want: Vec<i64> = xs[0].iter().map(|&v| center(-v)).collect();
    assert_eq!(got, want);
    let other = setup(Preset::N8192T65537);
    let x = other
        .pk
        .encrypt(&other.enc.encode(&[1]).unwrap(), &mut c.rng)
        .unwrap();
    assert!(matches!(a + &x + b, Err(Error::ParameterMismatch { .. })));
    assert!(matches!(a - (b + &x), Err(Error::ParameterMismatch { .. })));
}
