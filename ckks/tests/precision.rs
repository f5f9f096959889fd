#![allow(clippy::unwrap_used)]
//! Precision of CKKS against the same computation in f64, with explicit
//! bounds on log2 of the largest absolute error over all slots. Every test
//! prints the measured figure.

mod common;
use common::*;

use ckks::{tile, Complex, Flooding, LinearTransform, Polynomial, PrecisionStats};

#[test]
fn fresh_encryption_precision() {
    let c = n8192();
    let n = c.params.slots();
    let x = uniform(n, -1.0, 1.0, 10);
    let pt = c.encoder.encode(&x).unwrap();
    // Encoding alone: rounding to integers at scale 2^40.
    let enc = max_err_log2(&c.encoder.decode(&pt).unwrap(), &x);
    let ct_pk = c.pk.encrypt(&pt, &mut rng(11)).unwrap();
    let ct_sk = c.sk.encrypt(&pt, &mut rng(12)).unwrap();
    let e_pk = max_err_log2(
        &c.encoder.decode(&c.sk.decrypt(&ct_pk).unwrap()).unwrap(),
        &x,
    );
    let e_sk = max_err_log2(
        &c.encoder.decode(&c.sk.decrypt(&ct_sk).unwrap()).unwrap(),
        &x,
    );
    println!(
        "N=8192 Δ=2^40: encode {enc:.2}, fresh pk {e_pk:.2}, fresh sk {e_sk:.2} (log2 max err)"
    );
    assert!(enc < -32.0);
    assert!(e_pk < -25.0);
    assert!(e_sk < -26.0);
    // Complex slots too.
    let z = uniform_complex(n, 13);
    let ct =
        c.pk.encrypt(&c.encoder.encode_complex(&z).unwrap(), &mut rng(14))
            .unwrap();
    let got = c
        .encoder
        .decode_complex(&c.sk.decrypt(&ct).unwrap())
        .unwrap();
    let s = PrecisionStats::compare_complex(&got, &z);
    println!("N=8192 complex fresh pk: {:.2}", s.max_error_log2);
    assert!(s.max_error_log2 < -24.5);
}

#[test]
fn one_multiplication_and_rescale_precision_n16384() {
    // The configuration of the SEAL / OpenFHE / TenSEAL peer figures:
    // N = 16384, Δ = 2^40, values in [−1, 1] (SEAL: −25.27).
    let c = n16384();
    let n = c.params.slots();
    let x = uniform(n, -1.0, 1.0, 20);
    let y = uniform(n, -1.0, 1.0, 21);
    let cx =
        c.pk.encrypt(&c.encoder.encode(&x).unwrap(), &mut rng(22))
            .unwrap();
    let cy =
        c.pk.encrypt(&c.encoder.encode(&y).unwrap(), &mut rng(23))
            .unwrap();
    let fresh = max_err_log2(&c.encoder.decode(&c.sk.decrypt(&cx).unwrap()).unwrap(), &x);
    let p = c.eval.mul_relin(&cx, &cy, &c.rlk).unwrap();
    let r = c.eval.rescale(&p).unwrap();
    let want: Vec<f64> = x.iter().zip(&y).map(|(a, b)| a * b).collect();
    let before = max_err_log2(
        &c.encoder.decode(&c.sk.decrypt(&p).unwrap()).unwrap(),
        &want,
    );
    let after = max_err_log2(
        &c.encoder.decode(&c.sk.decrypt(&r).unwrap()).unwrap(),
        &want,
    );
    println!(
        "N=16384 Δ=2^40: fresh {fresh:.2}, mul+relin {before:.2}, mul+relin+rescale {after:.2} (SEAL: −26.15 / −25.97 / −25.27)"
    );
    // The fused relinearize + rescale (one division by P·q_7).
    let f = c.eval.mul_relin_rescale(&cx, &cy, &c.rlk).unwrap();
    let fused = max_err_log2(
        &c.encoder.decode(&c.sk.decrypt(&f).unwrap()).unwrap(),
        &want,
    );
    println!("N=16384 fused mul+relin+rescale {fused:.2}");
    assert!(fused < -25.3);
    assert_eq!(f.scale(), r.scale());
    // The scale is tracked exactly: Δ²/q_7, not 2^40.
    assert_eq!(
        r.scale(),
        (1u128 << 80) as f64 / c.params.q(7).unwrap() as f64
    );
    assert_ne!(r.scale(), 2f64.powi(40));
    assert!(fresh < -25.5);
    assert!(after < -25.3, "at least as good as SEAL's 2^-25.3");
}

#[test]
fn depth_seven_chain_precision() {
    // x_0 · x_1 ⋯ x_7 with seven multiply–relinearize–rescale steps, all
    // levels of the N = 16384 preset, values in [−1, 1].
    let c = n16384();
    let n = c.params.slots();
    let xs: Vec<Vec<f64>> = (0..8).map(|i| uniform(n, -1.0, 1.0, 30 + i)).collect();
    let mut want = xs[0].clone();
    let mut ct =
        c.sk.encrypt(&c.encoder.encode(&xs[0]).unwrap(), &mut rng(40))
            .unwrap();
    for (i, x) in xs.iter().enumerate().skip(1) {
        // fresh operand, encrypted at the level it meets the accumulator
        let pt = c
            .encoder
            .encode_at(x, ct.level(), c.params.scale())
            .unwrap();
        let cx = c.pk.encrypt(&pt, &mut rng(50 + i as u64)).unwrap();
        ct = c.eval.mul_relin_rescale(&ct, &cx, &c.rlk).unwrap();
        for (w, v) in want.iter_mut().zip(x) {
            *w *= v;
        }
        let got = c.encoder.decode(&c.sk.decrypt(&ct).unwrap()).unwrap();
        println!(
            "  after {i} multiplications (level {}): {:.2}",
            ct.level(),
            max_err_log2(&got, &want)
        );
    }
    assert_eq!(ct.level(), 0);
    let got = c.encoder.decode(&c.sk.decrypt(&ct).unwrap()).unwrap();
    let e = max_err_log2(&got, &want);
    println!("N=16384 depth-7 product chain: {e:.2}");
    assert!(e < -24.5);
}

#[test]
fn automatic_level_and_scale_alignment() {
    // x² + x: x² is one level lower with scale Δ²/q_L ≠ Δ; the evaluator
    // brings x down with one integer multiplication and a rescale.
    let c = n8192();
    let n = c.params.slots();
    let x = uniform(n, -1.0, 1.0, 60);
    let ct =
        c.pk.encrypt(&c.encoder.encode(&x).unwrap(), &mut rng(61))
            .unwrap();
    let sq = c.eval.mul_relin_rescale(&ct, &ct, &c.rlk).unwrap();
    assert_ne!(sq.scale(), ct.scale());
    let s = c.eval.add(&sq, &ct).unwrap();
    let d = c.eval.sub(&ct, &sq).unwrap();
    assert_eq!(s.level(), sq.level());
    let ws: Vec<f64> = x.iter().map(|v| v * v + v).collect();
    let wd: Vec<f64> = x.iter().map(|v| v - v * v).collect();
    let es = max_err_log2(&c.encoder.decode(&c.sk.decrypt(&s).unwrap()).unwrap(), &ws);
    let ed = max_err_log2(&c.encoder.decode(&c.sk.decrypt(&d).unwrap()).unwrap(), &wd);
    // constants: (x + 0.25)·(−1.5) + 2
    let k = c.eval.add_const(&ct, 0.25).unwrap();
    let k = c
        .eval
        .rescale(&c.eval.mul_const(&k, -1.5).unwrap())
        .unwrap();
    assert_eq!(
        k.scale(),
        ct.scale(),
        "mul_const at scale q_l keeps the scale exactly"
    );
    let k = c.eval.add_const(&k, 2.0).unwrap();
    let wk: Vec<f64> = x.iter().map(|v| (v + 0.25) * -1.5 + 2.0).collect();
    let ek = max_err_log2(&c.encoder.decode(&c.sk.decrypt(&k).unwrap()).unwrap(), &wk);
    // plaintext ops
    let w = uniform(n, -1.0, 1.0, 62);
    let pw = c
        .encoder
        .encode_at(&w, ct.level(), c.params.q(ct.level()).unwrap() as f64)
        .unwrap();
    let m = c
        .eval
        .rescale(&c.eval.mul_plain(&ct, &pw).unwrap())
        .unwrap();
    let pa = c.encoder.encode_at(&w, m.level(), m.scale()).unwrap();
    let m = c.eval.add_plain(&m, &pa).unwrap();
    let wm: Vec<f64> = x.iter().zip(&w).map(|(a, b)| a * b + b).collect();
    let em = max_err_log2(&c.encoder.decode(&c.sk.decrypt(&m).unwrap()).unwrap(), &wm);
    println!("x²+x {es:.2}, x−x² {ed:.2}, constants {ek:.2}, plaintext mul+add {em:.2}");
    for e in [es, ed, ek, em] {
        assert!(e < -24.5);
    }
}

/// Plaintext products by value and in place give the same ciphertext, at
/// a common level and with either operand above the other (the higher one
/// is brought down); the slots hold x·w to 2^-24.5 after rescaling.
#[test]
fn plaintext_products_by_value_and_in_place_agree() {
    let c = n8192();
    let n = c.params.slots();
    let x = uniform(n, -1.0, 1.0, 80);
    let w = uniform(n, -1.0, 1.0, 81);
    let want: Vec<f64> = x.iter().zip(&w).map(|(a, b)| a * b).collect();
    let top = c.params.max_level();
    let ct_top =
        c.pk.encrypt(&c.encoder.encode(&x).unwrap(), &mut rng(82))
            .unwrap();
    let ct_low = c.eval.drop_to_level(&ct_top, top - 1).unwrap();
    for (ct, pt_level) in [(&ct_top, top), (&ct_top, top - 1), (&ct_low, top)] {
        let l = ct.level().min(pt_level);
        let q = c.params.q(l).unwrap() as f64;
        let pw = c.encoder.encode_at(&w, pt_level, q).unwrap();
        let by_value = c.eval.mul_plain(ct, &pw).unwrap();
        let mut in_place = ct.clone();
        c.eval.mul_plain_assign(&mut in_place, &pw).unwrap();
        assert_eq!(by_value.level(), l);
        assert_eq!(in_place.level(), l);
        assert_eq!(by_value.scale(), in_place.scale());
        assert_eq!(by_value.scale(), ct.scale() * q);
        assert_eq!(
            c.sk.decrypt(&by_value).unwrap().poly(),
            c.sk.decrypt(&in_place).unwrap().poly()
        );
        let r = c.eval.rescale(&in_place).unwrap();
        let e = max_err_log2(
            &c.encoder.decode(&c.sk.decrypt(&r).unwrap()).unwrap(),
            &want,
        );
        println!(
            "ct level {}, pt level {pt_level}: error 2^{e:.2}",
            ct.level()
        );
        assert!(e < -24.5, "error 2^{e}");
    }
}

#[test]
fn rotation_conjugation_and_hoisting_precision() {
    let c = n8192();
    let n = c.params.slots();
    let steps = [1i64, 5, -3, 1000];
    let gks = galois(c, &steps, true);
    let z = uniform_complex(n, 70);
    let ct =
        c.pk.encrypt(&c.encoder.encode_complex(&z).unwrap(), &mut rng(71))
            .unwrap();
    let hoisted = c.eval.rotate_hoisted(&ct, &steps, &gks).unwrap();
    let mut worst = f64::NEG_INFINITY;
    for (&s, h) in steps.iter().zip(&hoisted) {
        let r = c.eval.rotate(&ct, s, &gks).unwrap();
        let want: Vec<Complex> = (0..n)
            .map(|j| z[(j as i64 + s).rem_euclid(n as i64) as usize])
            .collect();
        for ct in [&r, h] {
            let got = c
                .encoder
                .decode_complex(&c.sk.decrypt(ct).unwrap())
                .unwrap();
            let e = PrecisionStats::compare_complex(&got, &want).max_error_log2;
            worst = worst.max(e);
        }
    }
    let cj = c.eval.conjugate(&ct, &gks).unwrap();
    let got = c
        .encoder
        .decode_complex(&c.sk.decrypt(&cj).unwrap())
        .unwrap();
    let want: Vec<Complex> = z.iter().map(|v| v.conj()).collect();
    let ec = PrecisionStats::compare_complex(&got, &want).max_error_log2;
    // five rotations in sequence
    let mut r = ct.clone();
    for _ in 0..5 {
        r = c.eval.rotate(&r, 1, &gks).unwrap();
    }
    let want: Vec<Complex> = (0..n).map(|j| z[(j + 5) % n]).collect();
    let got = c
        .encoder
        .decode_complex(&c.sk.decrypt(&r).unwrap())
        .unwrap();
    let e5 = PrecisionStats::compare_complex(&got, &want).max_error_log2;
    println!("rotations (plain and hoisted) {worst:.2}, conjugation {ec:.2}, 5 chained rotations {e5:.2}");
    assert!(worst < -25.0 && ec < -25.0 && e5 < -25.0);
}

#[test]
fn degree_seven_polynomial_precision() {
    let c = n16384();
    let n = c.params.slots();
    let x = uniform(n, -1.0, 1.0, 80);
    let coeffs = [0.3, -1.1, 0.7, 1.9, -0.4, -2.2, 0.05, 0.9];
    let p = Polynomial::from_power(&coeffs).unwrap();
    let ct =
        c.pk.encrypt(&c.encoder.encode(&x).unwrap(), &mut rng(81))
            .unwrap();
    let y = c.eval.evaluate_polynomial(&ct, &p, &c.rlk).unwrap();
    assert_eq!(y.level(), ct.level() - p.depth());
    assert_eq!(y.scale(), ct.scale());
    let want: Vec<f64> = x
        .iter()
        .map(|&v| coeffs.iter().rev().fold(0.0, |acc, &c| acc * v + c))
        .collect();
    let e = max_err_log2(
        &c.encoder.decode(&c.sk.decrypt(&y).unwrap()).unwrap(),
        &want,
    );
    println!("degree-7 polynomial (depth {}): {e:.2}", p.depth());
    assert!(e < -23.5);
}

#[test]
fn activation_approximations_precision() {
    // Sigmoid of degree 15 on [−8, 8] and tanh of degree 15 on [−4, 4]:
    // error against the true function = approximation error + CKKS error.
    let c = n16384();
    let n = c.params.slots();
    let x = uniform(n, -8.0, 8.0, 90);
    let ct =
        c.pk.encrypt(&c.encoder.encode(&x).unwrap(), &mut rng(91))
            .unwrap();
    let sig = Polynomial::sigmoid(-8.0, 8.0, 15).unwrap();
    let y = c.eval.evaluate_polynomial(&ct, &sig, &c.rlk).unwrap();
    let got = c.encoder.decode(&c.sk.decrypt(&y).unwrap()).unwrap();
    let poly_ref: Vec<f64> = x.iter().map(|&v| sig.eval(v)).collect();
    let true_ref: Vec<f64> = x.iter().map(|&v| 1.0 / (1.0 + (-v).exp())).collect();
    let e_ckks = max_err_log2(&got, &poly_ref);
    let e_true = max_err_log2(&got, &true_ref);
    let xt: Vec<f64> = x.iter().map(|v| v / 2.0).collect();
    let ct2 =
        c.pk.encrypt(&c.encoder.encode(&xt).unwrap(), &mut rng(92))
            .unwrap();
    let th = Polynomial::tanh(-4.0, 4.0, 15).unwrap();
    let yt = c.eval.evaluate_polynomial(&ct2, &th, &c.rlk).unwrap();
    let gt = c.encoder.decode(&c.sk.decrypt(&yt).unwrap()).unwrap();
    let et: Vec<f64> = xt.iter().map(|&v| th.eval(v)).collect();
    let e_tanh = max_err_log2(&gt, &et);
    println!(
        "sigmoid deg 15 (depth {}): vs polynomial {e_ckks:.2}, vs sigmoid {e_true:.2}; tanh deg 15 vs polynomial {e_tanh:.2}",
        sig.depth()
    );
    assert!(e_ckks < -23.0);
    assert!(e_true < -9.0);
    assert!(e_tanh < -22.5);
}

#[test]
fn linear_transform_64x64_precision() {
    let c = n8192();
    let n = c.params.slots();
    let d = 64usize;
    let m: Vec<Vec<f64>> = (0..d)
        .map(|i| uniform(d, -1.0, 1.0, 100 + i as u64))
        .collect();
    let x = uniform(d, -1.0, 1.0, 99);
    let lt = LinearTransform::new(&c.encoder, &m, c.params.max_level()).unwrap();
    let steps = lt.rotation_steps();
    assert_eq!(
        steps,
        (1..=8).collect::<Vec<i64>>(),
        "7 baby steps and one giant step (Horner) for d = 64"
    );
    let gks = galois(c, &steps, false);
    let ct =
        c.pk.encrypt(&c.encoder.encode(&tile(&x, n)).unwrap(), &mut rng(98))
            .unwrap();
    let y = c.eval.linear_transform(&ct, &lt, &gks).unwrap();
    assert_eq!(y.level(), ct.level() - 1);
    let want: Vec<f64> = (0..n)
        .map(|j| (0..d).map(|k| m[j % d][k] * x[k]).sum())
        .collect();
    let got = c.encoder.decode(&c.sk.decrypt(&y).unwrap()).unwrap();
    let e = max_err_log2(&got, &want);
    println!("64×64 linear transform (outputs up to ~8 in size): {e:.2}");
    assert!(e < -23.5);
}

#[test]
fn slot_sums_and_inner_products() {
    let c = n8192();
    let n = c.params.slots();
    let count = 256usize;
    let gks = galois(c, &ckks::Evaluator::sum_slots_steps(count), false);
    let a = uniform(n, -1.0, 1.0, 110);
    let b = uniform(n, -1.0, 1.0, 111);
    let ca =
        c.pk.encrypt(&c.encoder.encode(&a).unwrap(), &mut rng(112))
            .unwrap();
    let cb =
        c.pk.encrypt(&c.encoder.encode(&b).unwrap(), &mut rng(113))
            .unwrap();
    let ip = c.eval.inner_product(&ca, &cb, count, &c.rlk, &gks).unwrap();
    let got = c.encoder.decode(&c.sk.decrypt(&ip).unwrap()).unwrap();
    let want: f64 = (0..count).map(|i| a[i] * b[i]).sum();
    let e1 = (got[0] - want).abs().log2();
    let ipw = c
        .eval
        .inner_product_plain(&ca, &b, count, &c.encoder, &gks)
        .unwrap();
    let got = c.encoder.decode(&c.sk.decrypt(&ipw).unwrap()).unwrap();
    let e2 = (got[0] - want).abs().log2();
    let sum = c.eval.sum_slots(&ca, count, &gks).unwrap();
    let got = c.encoder.decode(&c.sk.decrypt(&sum).unwrap()).unwrap();
    let want_s: f64 = a[5..5 + count].iter().sum();
    let e3 = (got[5] - want_s).abs().log2();
    println!("inner product of 256 (ct·ct) {e1:.2}, (ct·pt) {e2:.2}, slot sum {e3:.2}");
    assert!(e1 < -23.5 && e2 < -23.5 && e3 < -23.5);
}

/// Slot sums and inner products of lengths that are not powers of two: every
/// slot j of the result against the plaintext sum over j..j+count (mod N/2).
#[test]
fn slot_sums_of_any_length() {
    let c = n8192();
    let n = c.params.slots();
    let a = uniform(n, -1.0, 1.0, 114);
    let b = uniform(n, -1.0, 1.0, 115);
    let ca =
        c.pk.encrypt(&c.encoder.encode(&a).unwrap(), &mut rng(116))
            .unwrap();
    let cb =
        c.pk.encrypt(&c.encoder.encode(&b).unwrap(), &mut rng(117))
            .unwrap();
    for count in [1usize, 3, 7, 1000, n - 1] {
        let steps = ckks::Evaluator::sum_slots_steps(count);
        let top = usize::BITS - 1 - count.leading_zeros();
        let expect_steps = top as usize + usize::from(!count.is_power_of_two());
        assert_eq!(steps.len(), expect_steps, "count {count}: {steps:?}");
        let gks = galois(c, &steps, false);
        let sum = c.eval.sum_slots(&ca, count, &gks).unwrap();
        let got = c.encoder.decode(&c.sk.decrypt(&sum).unwrap()).unwrap();
        let mut worst = f64::MIN;
        for j in 0..n {
            let want: f64 = (0..count).map(|t| a[(j + t) % n]).sum();
            worst = worst.max((got[j] - want).abs().log2());
        }
        let ip = c.eval.inner_product(&ca, &cb, count, &c.rlk, &gks).unwrap();
        let got = c.encoder.decode(&c.sk.decrypt(&ip).unwrap()).unwrap();
        let want: f64 = (0..count).map(|i| a[i] * b[i]).sum();
        let e_ip = (got[0] - want).abs().log2();
        println!("count {count}: slot sums worst 2^{worst:.2}, inner product 2^{e_ip:.2}");
        assert!(worst < -20.0 && e_ip < -20.0, "count {count}");
    }
}

#[test]
fn noise_flooded_decryption_matches_documented_cost() {
    // Flooding at λ_s = 30 adds slot noise of about σ·√(N/2)/Δ with
    // σ = 2^30·√N·2^noise_bits; decrypting at a large scale keeps precision.
    let c = n8192();
    let n = c.params.slots();
    let x = uniform(n, -1.0, 1.0, 120);
    let scale = 2f64.powi(90);
    let pt = c
        .encoder
        .encode_at(&x, c.params.max_level(), scale)
        .unwrap();
    let ct = c.pk.encrypt(&pt, &mut rng(121)).unwrap();
    let xz: Vec<Complex> = x.iter().map(|&v| Complex::real(v)).collect();
    let noise_bits = c.sk.measure_noise_bits(&c.encoder, &ct, &xz).unwrap();
    let fl = Flooding::new(noise_bits.ceil());
    let plain = max_err_log2(&c.encoder.decode(&c.sk.decrypt(&ct).unwrap()).unwrap(), &x);
    let flooded = c.sk.decrypt_flooded(&ct, &fl, &mut rng(122)).unwrap();
    let e = max_err_log2(&c.encoder.decode(&flooded).unwrap(), &x);
    // predicted std of a slot's real part: σ·√(N/2)/Δ; max over 4096 slots ≈ 4σ.
    let predicted = fl.log2_sigma(c.params.degree()) + 0.5 * (n as f64).log2() - 90.0 + 2.0;
    println!(
        "fresh noise 2^{noise_bits:.2}; unflooded {plain:.2}; flooded (λ_s = 30) {e:.2}, predicted ≈ {predicted:.2}"
    );
    assert!(noise_bits < 8.0);
    assert!((e - predicted).abs() < 1.5, "flooding noise as documented");
    assert!(e > plain + 10.0, "flooding dominates the decryption noise");
}

#[test]
fn sparse_linear_transform_precision() {
    // A circulant band (diagonals 0, 1 and 63 = −1): the offsets form the
    // window {−1, 0, 1}, split as babies {−1, 0} and one giant step of 2
    // (keys 63 and 2: two rotations, where splitting 0..64 needed three).
    let c = n8192();
    let n = c.params.slots();
    let d = 64usize;
    let mut m = vec![vec![0.0; d]; d];
    for (j, row) in m.iter_mut().enumerate() {
        row[j] = 0.5;
        row[(j + 1) % d] = -0.25;
        row[(j + d - 1) % d] = 0.75;
    }
    let lt = LinearTransform::new(&c.encoder, &m, c.params.max_level()).unwrap();
    assert_eq!(lt.rotation_steps(), vec![2, 63]);
    let gks = galois(c, &lt.rotation_steps(), false);
    let x = uniform(d, -1.0, 1.0, 130);
    let ct =
        c.pk.encrypt(&c.encoder.encode(&tile(&x, n)).unwrap(), &mut rng(131))
            .unwrap();
    let y = c.eval.linear_transform(&ct, &lt, &gks).unwrap();
    let want: Vec<f64> = (0..n)
        .map(|j| (0..d).map(|k| m[j % d][k] * x[k]).sum())
        .collect();
    let e = max_err_log2(
        &c.encoder.decode(&c.sk.decrypt(&y).unwrap()).unwrap(),
        &want,
    );
    println!("banded 64×64 linear transform: {e:.2}");
    assert!(e < -24.0);
}

#[test]
fn rectangular_linear_transform_precision() {
    // 10 × 50 (a small dense layer): padded to 64 × 64.
    let c = n8192();
    let n = c.params.slots();
    let m: Vec<Vec<f64>> = (0..10).map(|i| uniform(50, -1.0, 1.0, 140 + i)).collect();
    let x = uniform(50, -1.0, 1.0, 139);
    let lt = LinearTransform::new(&c.encoder, &m, c.params.max_level()).unwrap();
    assert_eq!(lt.dim(), 64);
    let gks = galois(c, &lt.rotation_steps(), false);
    let input = lt.tile_input(&x, n).unwrap();
    let ct =
        c.pk.encrypt(&c.encoder.encode(&input).unwrap(), &mut rng(150))
            .unwrap();
    let y = c.eval.linear_transform(&ct, &lt, &gks).unwrap();
    let got = c.encoder.decode(&c.sk.decrypt(&y).unwrap()).unwrap();
    let want: Vec<f64> = (0..64)
        .map(|j| {
            if j < 10 {
                (0..50).map(|k| m[j][k] * x[k]).sum()
            } else {
                0.0
            }
        })
        .collect();
    let e = max_err_log2(&got[..64], &want);
    println!("10×50 linear transform (padded to 64): {e:.2}");
    assert!(e < -24.0);
}

/// `mul_by_i` is the monomial `±X^{N/2}`: the slots are multiplied by `±i`
/// with no level and no scale change, and no precision lost (the error is
/// the fresh encryption's, to within 2^-40).
#[test]
fn multiplication_by_i_is_exact() {
    let c = n8192();
    let n = c.params.slots();
    let z = uniform_complex(n, 90);
    let ct =
        c.pk.encrypt(&c.encoder.encode_complex(&z).unwrap(), &mut rng(91))
            .unwrap();
    let fresh = c
        .encoder
        .decode_complex(&c.sk.decrypt(&ct).unwrap())
        .unwrap();
    for negative in [false, true] {
        let r = c.eval.mul_by_i(&ct, negative).unwrap();
        assert_eq!((r.level(), r.scale()), (ct.level(), ct.scale()));
        let unit = if negative {
            Complex::new(0.0, -1.0)
        } else {
            Complex::new(0.0, 1.0)
        };
        let got = c
            .encoder
            .decode_complex(&c.sk.decrypt(&r).unwrap())
            .unwrap();
        // against the decryption of the input: only the encoding's rounding
        let want: Vec<Complex> = fresh.iter().map(|v| *v * unit).collect();
        let e = PrecisionStats::compare_complex(&got, &want).max_error_log2;
        assert!(e < -40.0, "×{unit:?}: 2^{e}");
        let want: Vec<Complex> = z.iter().map(|v| *v * unit).collect();
        let e = PrecisionStats::compare_complex(&got, &want).max_error_log2;
        assert!(e < -25.0, "×{unit:?} vs the message: 2^{e}");
    }
}

/// A matrix given by a few diagonals (offsets 0, ±4, ±8 mod 256, complex
/// entries, as a group of FFT stages has) against the dense product in
/// f64, with the rotation keys the transform asks for.
#[test]
fn sparse_diagonal_transform_precision() {
    use std::collections::BTreeMap;
    let c = n8192();
    let d = 256usize;
    let n = c.params.slots();
    let mut diags = BTreeMap::new();
    for (k, off) in [0usize, 4, 8, d - 4, d - 8].into_iter().enumerate() {
        diags.insert(off, uniform_complex(d, 100 + k as u64));
    }
    let level = c.params.max_level();
    let lt = LinearTransform::from_diagonals(
        &c.encoder,
        d,
        &diags,
        level,
        c.params.q(level).unwrap() as f64,
    )
    .unwrap();
    let steps = lt.rotation_steps();
    assert!(steps.len() <= 4, "{steps:?}");
    let gks = galois(c, &steps, false);
    let x = uniform_complex(d, 110);
    let tiled: Vec<Complex> = (0..n).map(|j| x[j % d]).collect();
    let ct =
        c.pk.encrypt(&c.encoder.encode_complex(&tiled).unwrap(), &mut rng(111))
            .unwrap();
    let y = c.eval.linear_transform(&ct, &lt, &gks).unwrap();
    let want: Vec<Complex> = (0..n)
        .map(|j| {
            let p = j % d;
            diags.iter().fold(Complex::real(0.0), |acc, (o, v)| {
                acc + v[p] * x[(p + o) % d]
            })
        })
        .collect();
    let got = c
        .encoder
        .decode_complex(&c.sk.decrypt(&y).unwrap())
        .unwrap();
    let e = PrecisionStats::compare_complex(&got, &want).max_error_log2;
    println!("5-diagonal transform, dimension {d}: {e:.2}");
    assert!(e < -22.0);
    // bad input: an offset outside the dimension, a short diagonal, a
    // dimension that is not a power of two
    let mut bad = diags.clone();
    bad.insert(d, vec![Complex::real(1.0); d]);
    assert!(matches!(
        LinearTransform::from_diagonals(&c.encoder, d, &bad, level, 1e12),
        Err(ckks::Error::InvalidArgument { .. })
    ));
    let mut short = BTreeMap::new();
    short.insert(0usize, vec![Complex::real(1.0); d - 1]);
    assert!(matches!(
        LinearTransform::from_diagonals(&c.encoder, d, &short, level, 1e12),
        Err(ckks::Error::InvalidArgument { .. })
    ));
    assert!(matches!(
        LinearTransform::from_diagonals(&c.encoder, 100, &diags, level, 1e12),
        Err(ckks::Error::InvalidArgument { .. })
    ));
    assert!(matches!(
        LinearTransform::from_diagonals(&c.encoder, d, &diags, 0, 1e12),
        Err(ckks::Error::NotEnoughLevels { .. })
    ));
}
