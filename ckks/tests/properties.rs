#![allow(clippy::unwrap_used)]
//! Property tests: the encoder is an (approximate) ring homomorphism and the
//! evaluator's operations commute with decryption, with explicit bounds.

mod common;
use common::*;

use ckks::Complex;
use proptest::prelude::*;

fn vals() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(-4.0f64..4.0, 1..64)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn encode_decode_round_trip(x in vals(), level in 0usize..4, scale_bits in 25i32..100) {
        // Scales up to 2^100 (coefficients beyond 2^64 reduced exactly).
        let c = n8192();
        let scale = 2f64.powi(scale_bits);
        // Coefficients are at most max|x|·Δ: below Q_l/4 encoding must
        // succeed; above, it may be refused (ValueOutOfRange) but never wrong.
        let max = x.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        let must_fit = max == 0.0 || max.log2() + (scale_bits as f64) < c.params.log_q(level) - 2.0;
        let r = match c.encoder.encode_at(&x, level, scale) {
            Err(ckks::Error::ValueOutOfRange { .. }) if !must_fit => return Ok(()),
            r => r,
        };
        let got = c.encoder.decode(&r.unwrap()).unwrap();
        // Rounding error ~ √N/Δ, floating point ~ 2^-50·|x|.
        let bound = (2f64.powi(9 - scale_bits)).max(2f64.powi(-44));
        for (a, b) in got.iter().zip(&x) {
            prop_assert!((a - b).abs() < bound, "{a} vs {b}");
        }
        for v in &got[x.len()..] {
            prop_assert!(v.abs() < bound);
        }
    }

    #[test]
    fn add_mul_commute_with_decryption(x in vals(), y in vals(), k in -3.0f64..3.0) {
        let c = n8192();
        let n = x.len().min(y.len());
        let cx = c.sk.encrypt(&c.encoder.encode(&x[..n]).unwrap(), &mut rng(1)).unwrap();
        let cy = c.pk.encrypt(&c.encoder.encode(&y[..n]).unwrap(), &mut rng(2)).unwrap();
        let s = c.eval.add(&cx, &cy).unwrap();
        let d = c.eval.sub(&cx, &c.eval.neg(&cy).unwrap()).unwrap();
        let p = c.eval.mul_relin_rescale(&cx, &cy, &c.rlk).unwrap();
        let m = c.eval.rescale(&c.eval.mul_const(&cx, k).unwrap()).unwrap();
        let a = c.eval.add_const_complex(&cx, Complex::new(k, -k)).unwrap();
        let dec = |ct: &ckks::Ciphertext| c.encoder.decode_complex(&c.sk.decrypt(ct).unwrap()).unwrap();
        let (ds, dd, dp, dm, da) = (dec(&s), dec(&d), dec(&p), dec(&m), dec(&a));
        for i in 0..n {
            prop_assert!((ds[i].re - (x[i] + y[i])).abs() < 1e-6);
            prop_assert!((dd[i].re - (x[i] + y[i])).abs() < 1e-6);
            prop_assert!((dp[i].re - x[i] * y[i]).abs() < 1e-5);
            prop_assert!((dm[i].re - k * x[i]).abs() < 1e-6);
            prop_assert!((da[i] - Complex::new(x[i] + k, -k)).abs() < 1e-6);
        }
    }
}
