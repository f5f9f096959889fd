//! Bootstrapping, sparse and full packing, at N = 2^12 with
//! `SecurityLevel::None` (a deliberately small ring to keep the test fast;
//! not a secure parameter set): a level-0 ciphertext comes back at a higher
//! level within the stated bound, and a circuit longer than the chain
//! completes through bootstrapping, compared with f64; two iterations
//! (meta-bootstrapping) gain precision on the `TestN4096` preset.
//!
//! Chain (see [`setup`]): `q_0` of 60 bits (10 bits of headroom over the
//! scale 2^50), the user's levels and SlotsToCoeffs on 50-bit primes,
//! EvalMod on 58-bit primes, CoeffsToSlots on 60-bit primes. The user's key
//! is a dense ternary key; ModRaise runs under an ephemeral sparse key of
//! Hamming weight 32 (sparse-secret encapsulation), so `|I| ≤ 13.6`.

#![allow(clippy::unwrap_used)]

use ckks::bootstrap::{BootstrapKeys, ChainBits};
use ckks::{
    BootstrapConfig, BootstrapPreset, Bootstrapper, Complex, Encoder, Error, Evaluator, Parameters,
    PrecisionStats, PublicKey, SecretKey, SecurityLevel,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

struct Ctx {
    params: Parameters,
    sk: SecretKey,
    pk: PublicKey,
    keys: BootstrapKeys,
    boot: Bootstrapper,
    enc: Encoder,
    eval: Evaluator,
}

/// The chain for `slots` message slots and `user` levels left after
/// bootstrapping: `q_0` (60 bits), `user` 50-bit primes (the computation's
/// levels, scale 2^50), SlotsToCoeffs on 50-bit primes, EvalMod on 58-bit
/// primes (its noise is amplified by the double angles and then by
/// `q_0/(2πΔ)·√n` in SlotsToCoeffs: 50-bit primes there cost 8 bits) and
/// CoeffsToSlots on 60-bit primes (the top prime must be at least `q_0`).
fn setup(slots: usize, user: usize) -> Ctx {
    let config = BootstrapConfig::new(slots, 2f64.powi(50));
    let c = context(chain_params(&config, user), config);
    assert_eq!(c.boot.output_level(), user);
    c
}

/// The parameters of [`setup`] (no keys).
fn chain_params(config: &BootstrapConfig, user: usize) -> Parameters {
    let q = config
        .chain(
            user,
            ChainBits {
                q0: 60,
                user: 50,
                slots_to_coeffs: 50,
                eval_mod: 58,
                coeffs_to_slots: 60,
            },
        )
        .unwrap();
    Parameters::builder()
        .degree(4096)
        .q_bits(&q)
        .p_bits(&[60, 60, 60])
        .scale_bits(50)
        .security(SecurityLevel::None)
        .build()
        .unwrap()
}

/// Keys (seeded) and a bootstrapper for `config` on `params`.
fn context(params: Parameters, config: BootstrapConfig) -> Ctx {
    let mut r = ChaCha20Rng::seed_from_u64(80);
    let sk = SecretKey::generate(&params, &mut r);
    let pk = PublicKey::generate(&sk, &mut r).unwrap();
    let boot = Bootstrapper::new(&params, config).unwrap();
    let keys = boot.generate_keys(&sk, &mut r).unwrap();
    Ctx {
        enc: Encoder::new(&params),
        eval: Evaluator::new(&params),
        params,
        sk,
        pk,
        keys,
        boot,
    }
}

fn decrypt(c: &Ctx, ct: &ckks::Ciphertext) -> Vec<f64> {
    c.enc.decode(&c.sk.decrypt(ct).unwrap()).unwrap()
}

fn stats(c: &Ctx, got: &[f64], want: &[f64]) -> PrecisionStats {
    let want: Vec<f64> = (0..c.enc.slots()).map(|j| want[j % want.len()]).collect();
    PrecisionStats::compare(got, &want)
}

/// `x` tiled over the slots, encrypted (seeded) at the top level.
fn encrypt(c: &Ctx, x: &[f64], seed: u64) -> ckks::Ciphertext {
    let mut r = ChaCha20Rng::seed_from_u64(seed);
    c.pk.encrypt(
        &c.enc.encode(&ckks::tile(x, c.enc.slots())).unwrap(),
        &mut r,
    )
    .unwrap()
}

fn bootstrap_values(c: &Ctx, x: &[f64], seed: u64) -> (PrecisionStats, usize) {
    let low = c.eval.drop_to_level(&encrypt(c, x, seed), 0).unwrap();
    let out = c.boot.bootstrap(&c.eval, &low, &c.keys).unwrap();
    assert_eq!(out.scale(), c.params.scale());
    (stats(c, &decrypt(c, &out), x), out.level())
}

/// Sparse (8, 64 slots) and full packing (2048 = N/2 slots), uniform
/// values in [−1, 1]: every slot within 2^-22 and the mean error below
/// 2^-24 after one bootstrap, with 4 levels left (measured with these
/// seeds: worst 2^-28.7 / 2^-28.2 / 2^-24.2, mean 2^-29.7 / 2^-29.9 /
/// 2^-26.6; sparse packing projects EvalMod's output onto the periodic
/// slots, which took the sparse figures from 2^-27.6 / 2^-26.5 worst).
#[test]
fn bootstrapping_returns_the_input() {
    for n in [8usize, 64, 2048] {
        let c = setup(n, 4);
        let mut r = ChaCha20Rng::seed_from_u64(81);
        let x: Vec<f64> = (0..n).map(|_| r.gen_range(-1.0..1.0)).collect();
        let (st, level) = bootstrap_values(&c, &x, 82);
        println!(
            "bootstrapped {n} slots: level 0 → {level} of {}, worst error 2^{:.2}, mean 2^{:.2}",
            c.params.max_level(),
            st.max_error_log2,
            st.mean_error_log2
        );
        assert_eq!(level, 4);
        assert!(st.max_error_log2 < -22.0, "{n} slots: {st:?}");
        assert!(st.mean_error_log2 < -24.0, "{n} slots: {st:?}");
    }
}

/// Structured inputs under full packing — all the energy in one
/// coefficient (a constant vector: the sine's curvature matters most),
/// one slot set (every coefficient used), the extremes ±1 alternating —
/// and complex-valued slots, which the transforms carry too: worst error
/// below 2^-22 for each (measured 2^-24.3 to 2^-24.5; without the arcsine
/// correction the constant vector is off by 2^-17.7).
#[test]
fn full_packing_structured_inputs() {
    let c = setup(2048, 2);
    let n = c.enc.slots();
    let mut one_hot = vec![0.0; n];
    one_hot[17] = 1.0;
    let alternating: Vec<f64> = (0..n)
        .map(|j| if j % 2 == 0 { 1.0 } else { -1.0 })
        .collect();
    for (name, x) in [
        ("constant 0.9", vec![0.9; n]),
        ("one-hot", one_hot),
        ("alternating ±1", alternating),
    ] {
        let (st, _) = bootstrap_values(&c, &x, 83);
        println!(
            "full packing, {name}: worst 2^{:.2}, mean 2^{:.2}",
            st.max_error_log2, st.mean_error_log2
        );
        assert!(st.max_error_log2 < -22.0, "{name}: {st:?}");
    }
    // past the documented range |μ| ≤ 1 (q_0/Δ = 2^10 here): the error
    // grows as the docs of `Bootstrapper::bootstrap` state (measured 2^-22.7)
    let (st, _) = bootstrap_values(&c, &vec![4.0; n], 85);
    println!(
        "full packing, constant 4.0 (outside |μ| ≤ 1): worst 2^{:.2}",
        st.max_error_log2
    );
    assert!(st.max_error_log2 < -20.0, "constant 4.0: {st:?}");
    let mut r = ChaCha20Rng::seed_from_u64(84);
    let z: Vec<Complex> = (0..n)
        .map(|_| Complex::new(r.gen_range(-1.0..1.0), r.gen_range(-1.0..1.0)))
        .collect();
    let ct =
        c.pk.encrypt(&c.enc.encode_complex(&z).unwrap(), &mut r)
            .unwrap();
    let low = c.eval.drop_to_level(&ct, 0).unwrap();
    let out = c.boot.bootstrap(&c.eval, &low, &c.keys).unwrap();
    let got = c.enc.decode_complex(&c.sk.decrypt(&out).unwrap()).unwrap();
    let st = PrecisionStats::compare_complex(&got, &z);
    println!(
        "full packing, complex slots: worst 2^{:.2}, mean 2^{:.2}",
        st.max_error_log2, st.mean_error_log2
    );
    assert!(st.max_error_log2 < -22.0, "complex: {st:?}");
}

/// `x ← x² + 0.1` on 2048 slots (full packing), 32 times — 32
/// multiplicative levels on a chain of 26 with 8 levels left after each
/// bootstrap: bootstrapped whenever the level runs out (3 times), compared
/// with f64 (the map contracts, so errors do not grow: measured 2^-38). The scales drift
/// between bootstraps (the primes are not exactly 2^50); each output is
/// back at exactly 2^50.
#[test]
fn a_circuit_longer_than_the_chain_completes() {
    let c = setup(2048, 8);
    let n = c.enc.slots();
    let mut r = ChaCha20Rng::seed_from_u64(82);
    let x0: Vec<f64> = (0..n).map(|_| r.gen_range(-0.5..0.5)).collect();
    let mut want = x0.clone();
    let ct = c.pk.encrypt(&c.enc.encode(&x0).unwrap(), &mut r).unwrap();
    // the levels above the output level are bootstrapping's (larger primes)
    let mut ct = c.eval.drop_to_level(&ct, c.boot.output_level()).unwrap();
    let iterations = 32;
    let mut boots = 0;
    for _ in 0..iterations {
        if ct.level() == 0 {
            ct = c.boot.bootstrap(&c.eval, &ct, &c.keys).unwrap();
            assert_eq!(ct.scale(), c.params.scale());
            boots += 1;
        }
        ct = c
            .eval
            .add_const(
                &c.eval.mul_relin_rescale(&ct, &ct, &c.keys.rlk).unwrap(),
                0.1,
            )
            .unwrap();
        for w in want.iter_mut() {
            *w = *w * *w + 0.1;
        }
    }
    let st = stats(&c, &decrypt(&c, &ct), &want);
    println!(
        "{iterations} squarings on a chain of {} with {boots} bootstraps (output level {}): worst error 2^{:.2}, mean 2^{:.2}",
        c.params.max_level(),
        c.boot.output_level(),
        st.max_error_log2,
        st.mean_error_log2
    );
    assert!(iterations > c.params.max_level());
    assert_eq!(boots, 3);
    assert!(st.max_error_log2 < -20.0, "{st:?}");
}

/// The presets: the N = 2^16 one is 128-bit secure with every prime
/// counted (the builder refuses more than 1747 bits), full packing, 9
/// levels of 2^40 left; the test preset is what `setup` builds.
#[test]
fn presets() {
    let (params, config) = BootstrapPreset::N65536.parameters().unwrap();
    assert_eq!(params.degree(), 1 << 16);
    assert_eq!(config.slots, 1 << 15);
    assert_eq!(params.rlwe().security(), SecurityLevel::Bits128);
    assert!(params.rlwe().log_qp() <= 1747, "{}", params.rlwe().log_qp());
    assert_eq!(params.scale(), 2f64.powi(40));
    let levels_left = params.max_level() - config.depth().unwrap();
    assert_eq!(levels_left, 9);
    let (small, config) = BootstrapPreset::TestN4096.parameters().unwrap();
    assert_eq!(small.rlwe().security(), SecurityLevel::None);
    assert_eq!(small.max_level() - config.depth().unwrap(), 8);
}

#[test]
fn bad_configurations_are_refused() {
    let c = setup(8, 4);
    let base = BootstrapConfig::new(8, c.params.scale());
    for bad in [
        BootstrapConfig {
            slots: 6,
            ..base.clone()
        },
        BootstrapConfig {
            slots: 4096,
            ..base.clone()
        },
        BootstrapConfig {
            coeffs_to_slots_levels: 0,
            ..base.clone()
        },
        BootstrapConfig {
            hamming_weight: 0,
            ..base.clone()
        },
        BootstrapConfig {
            degree: 0,
            ..base.clone()
        },
    ] {
        assert!(matches!(
            Bootstrapper::new(&c.params, bad),
            Err(Error::InvalidArgument { .. })
        ));
    }
    // a chain too short for the circuit
    let short = setup(8, 4);
    let too_deep = BootstrapConfig {
        double_angles: 12,
        ..base.clone()
    };
    assert!(matches!(
        Bootstrapper::new(&short.params, too_deep),
        Err(Error::NotEnoughLevels { .. })
    ));
    // an input far from the configured scale
    let ct =
        c.pk.encrypt(
            &c.enc.encode(&[0.5]).unwrap(),
            &mut ChaCha20Rng::seed_from_u64(3),
        )
        .unwrap();
    let odd = c
        .eval
        .mul_const_with_scale(&ct, 1.0, 2f64.powi(20))
        .unwrap();
    assert!(matches!(
        c.boot.bootstrap(&c.eval, &odd, &c.keys),
        Err(Error::ScaleMismatch { .. })
    ));
}

#[test]
fn rotation_steps_without_the_transforms() {
    // the configuration alone gives the steps the encoded transforms use
    // (what a client generating keys relies on), for full and sparse packing
    let (params, base) = BootstrapPreset::TestN4096.parameters().unwrap();
    for slots in [8usize, 64, 2048] {
        let config = BootstrapConfig {
            slots,
            ..base.clone()
        };
        let boot = Bootstrapper::new(&params, config.clone()).unwrap();
        assert_eq!(
            config.rotation_steps(params.degree()).unwrap(),
            boot.rotation_steps(),
            "{slots} slots"
        );
    }
    let bad = BootstrapConfig {
        slots: 3,
        ..base.clone()
    };
    assert!(matches!(
        bad.rotation_steps(params.degree()),
        Err(ckks::Error::InvalidArgument { .. })
    ));
    assert!(matches!(
        base.rotation_steps(base.slots),
        Err(ckks::Error::InvalidArgument { .. })
    ));
}

/// Meta-bootstrapping on the `TestN4096` preset — N = 2^12 with
/// `SecurityLevel::None` (a small ring for a fast test, not a secure
/// parameter set), scale 2^50, 8 levels left: the second iteration
/// (`Bootstrapper::refine`, what `BootstrapConfig::iterations` = 2 runs
/// after the first) against the first on the same ciphertext, uniform
/// values in [−1, 1], full packing (2048 slots) from level 0 at exactly the
/// configured scale and sparse packing (64 slots) from level 3 at a scale
/// that drifted (one rescale by a prime that is not 2^50: the first result
/// is brought to that scale by one rescale of a copy). Measured, worst /
/// mean: 2048 slots 2^-24.37 / 2^-26.68 → 2^-37.77 / 2^-40.50 (13.4 /
/// 13.8 bits), 64 slots 2^-28.96 / 2^-30.82 → 2^-37.59 / 2^-40.53 (8.6 /
/// 9.7 bits); asserted: at most 2^-35 worst and 2^-38 mean, and 12 (full)
/// or 8 (sparse) bits better than one iteration on both; the level and the
/// scale stay.
#[test]
fn two_iterations_gain_precision() {
    let (params, base) = BootstrapPreset::TestN4096.parameters().unwrap();
    assert_eq!(params.rlwe().security(), SecurityLevel::None);
    for (n, drifted, gain) in [(2048usize, false, 12.0), (64, true, 8.0)] {
        let c = context(params.clone(), BootstrapConfig { slots: n, ..base });
        let mut r = ChaCha20Rng::seed_from_u64(86);
        let x: Vec<f64> = (0..n).map(|_| r.gen_range(-1.0..1.0)).collect();
        let ct = encrypt(&c, &x, 87);
        let input = if drifted {
            // times 1 at the scale 2^50, rescaled by the user prime q_4
            let ct = c.eval.drop_to_level(&ct, 4).unwrap();
            let one = c
                .eval
                .mul_const_with_scale(&ct, 1.0, 2f64.powi(50))
                .unwrap();
            c.eval.rescale(&one).unwrap()
        } else {
            c.eval.drop_to_level(&ct, 0).unwrap()
        };
        assert_eq!(input.scale() != c.params.scale(), drifted);
        let once = c.boot.bootstrap(&c.eval, &input, &c.keys).unwrap();
        let twice = c.boot.refine(&c.eval, &input, &once, &c.keys).unwrap();
        assert_eq!((twice.level(), once.level()), (8, 8));
        assert_eq!(twice.scale(), c.params.scale());
        let s1 = stats(&c, &decrypt(&c, &once), &x);
        let s2 = stats(&c, &decrypt(&c, &twice), &x);
        println!(
            "{n} slots{}: one iteration worst 2^{:.2} mean 2^{:.2}; two iterations worst 2^{:.2} mean 2^{:.2} (level {})",
            if drifted { " (drifted scale)" } else { "" },
            s1.max_error_log2,
            s1.mean_error_log2,
            s2.max_error_log2,
            s2.mean_error_log2,
            twice.level()
        );
        assert!(s1.max_error_log2 < -22.0, "{n}, one iteration: {s1:?}");
        assert!(s2.max_error_log2 < -35.0, "{n}, two iterations: {s2:?}");
        assert!(s2.mean_error_log2 < -38.0, "{n}, two iterations: {s2:?}");
        assert!(
            s2.max_error_log2 < s1.max_error_log2 - gain,
            "{s1:?} {s2:?}"
        );
        assert!(
            s2.mean_error_log2 < s1.mean_error_log2 - gain,
            "{s1:?} {s2:?}"
        );
        if drifted {
            // a first result that is not one: another level, another scale
            let low = c.eval.drop_to_level(&once, 7).unwrap();
            assert!(matches!(
                c.boot.refine(&c.eval, &input, &low, &c.keys),
                Err(Error::InvalidLevel { got: 7, max: 8, .. })
            ));
            let mut off = once.clone();
            off.set_scale(c.params.scale() * 1.5).unwrap();
            assert!(matches!(
                c.boot.refine(&c.eval, &input, &off, &c.keys),
                Err(Error::ScaleMismatch { .. })
            ));
            // an unrelinearized product, read back at the input scale
            let mut three = c.eval.mul(&ct, &ct).unwrap();
            three.set_scale(c.params.scale()).unwrap();
            assert_eq!(three.len(), 3);
            match c.boot.bootstrap(&c.eval, &three, &c.keys) {
                Err(Error::InvalidArgument { what }) => {
                    assert!(what.contains("relinearize"), "{what}")
                }
                other => panic!("expected InvalidArgument, got {:?}", other.err()),
            }
        }
    }
}

/// What two iterations refuse: a chain that leaves no level above the
/// output (the first result could not be brought to a drifted input's
/// scale), iteration counts other than 1 and 2, error bounds outside
/// 1..=40 bits (`two_iterations_gain_precision` checks the bad inputs of
/// `refine` and a ciphertext of three parts).
#[test]
fn two_iterations_refuse_bad_input() {
    let base = BootstrapConfig::new(8, 2f64.powi(50));
    let flat = chain_params(&base, 0);
    assert_eq!(
        Bootstrapper::new(&flat, base.clone())
            .unwrap()
            .output_level(),
        0
    );
    match Bootstrapper::new(&flat, base.clone().with_iterations(2)) {
        Err(Error::NotEnoughLevels {
            needed, available, ..
        }) => assert_eq!(needed, available + 1),
        other => panic!("expected NotEnoughLevels, got {:?}", other.err()),
    }
    let params = chain_params(&base, 1);
    for bad in [
        base.clone().with_iterations(0),
        base.clone().with_iterations(3),
        BootstrapConfig {
            first_error_bits: 0,
            ..base.clone().with_iterations(2)
        },
        BootstrapConfig {
            first_error_bits: 41,
            ..base.clone().with_iterations(2)
        },
    ] {
        assert!(matches!(
            Bootstrapper::new(&params, bad),
            Err(Error::InvalidArgument { .. })
        ));
    }
}
