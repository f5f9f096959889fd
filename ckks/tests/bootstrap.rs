//! Bootstrapping (sparse packing) at N = 2^12 with `SecurityLevel::None`
//! (a deliberately small ring to keep the test fast; not a secure
//! parameter set): a level-0 ciphertext comes back at a higher level within
//! the stated bound, and a circuit longer than the chain completes through
//! bootstrapping, compared with f64.
//!
//! Chain: `q_0` of 60 bits (10 bits of headroom over the scale 2^50), 50-bit
//! primes (EvalMod amplifies noise: at 2^45 it loses 5 more bits), a 60-bit
//! top prime for CoeffsToSlots. The user's key is a dense
//! ternary key; ModRaise runs under an ephemeral sparse key of Hamming
//! weight 64 (sparse-secret encapsulation), so `|I| ≤ 19`.

#![allow(clippy::unwrap_used)]

use ckks::bootstrap::BootstrapKeys;
use ckks::{
    BootstrapConfig, Bootstrapper, Encoder, Error, Evaluator, Parameters, PublicKey, SecretKey,
    SecurityLevel,
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

fn setup(slots: usize, levels: usize) -> Ctx {
    let mut r = ChaCha20Rng::seed_from_u64(80);
    let mut q = vec![60u32];
    q.extend(std::iter::repeat_n(50u32, levels));
    q.push(60);
    let params = Parameters::builder()
        .degree(4096)
        .q_bits(&q)
        .p_bits(&[60, 60, 60])
        .scale_bits(50)
        .security(SecurityLevel::None)
        .build()
        .unwrap();
    let sk = SecretKey::generate(&params, &mut r);
    let pk = PublicKey::generate(&sk, &mut r).unwrap();
    let boot = Bootstrapper::new(
        &params,
        BootstrapConfig {
            slots,
            hamming_weight: 64,
            double_angles: 4,
            degree: 31,
            input_scale: params.scale(),
        },
    )
    .unwrap();
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

fn worst(c: &Ctx, got: &[f64], want: &[f64]) -> f64 {
    (0..c.enc.slots())
        .map(|j| (got[j] - want[j % want.len()]).abs())
        .fold(0.0, f64::max)
}

/// 8 and 64 slots: every slot within 2^-16 after one bootstrap (measured
/// 2^-19.4 and 2^-18.2 with these seeds).
#[test]
fn bootstrapping_returns_the_input() {
    for n in [8usize, 64] {
        let c = setup(n, 14);
        let mut r = ChaCha20Rng::seed_from_u64(81);
        let x: Vec<f64> = (0..n).map(|_| r.gen_range(-1.0..1.0)).collect();
        let ct =
            c.pk.encrypt(
                &c.enc.encode(&ckks::tile(&x, c.enc.slots())).unwrap(),
                &mut r,
            )
            .unwrap();
        let low = c.eval.drop_to_level(&ct, 0).unwrap();
        let out = c.boot.bootstrap(&c.eval, &low, &c.keys).unwrap();
        assert_eq!(out.level(), c.boot.output_level());
        let e = worst(&c, &decrypt(&c, &out), &x);
        println!(
            "bootstrapped {n} slots: level 0 → {} of {}, worst error 2^{:.2}",
            out.level(),
            c.params.max_level(),
            e.log2()
        );
        assert!(e < 2f64.powi(-16), "{n} slots: worst error 2^{}", e.log2());
    }
}

/// `x ← x² + 0.1`, 32 times (32 multiplicative levels) on a chain of 21:
/// bootstrapped twice, whenever the level runs out (8 levels left after
/// each), compared with f64 (measured 2^-26.6; the map contracts, so errors
/// do not grow). The first bootstrap's input scale has drifted (2^45.106):
/// its output is back at exactly 2^45.
#[test]
fn a_circuit_longer_than_the_chain_completes() {
    let n = 16;
    let c = setup(n, 20);
    let mut r = ChaCha20Rng::seed_from_u64(82);
    let x0: Vec<f64> = (0..n).map(|_| r.gen_range(-0.5..0.5)).collect();
    let mut want = x0.clone();
    let ct =
        c.pk.encrypt(
            &c.enc.encode(&ckks::tile(&x0, c.enc.slots())).unwrap(),
            &mut r,
        )
        .unwrap();
    // the top (60-bit) prime is CoeffsToSlots's: compute below it
    let mut ct = c.eval.drop_to_level(&ct, c.params.max_level() - 1).unwrap();
    let iterations = 32;
    let mut boots = 0;
    for _ in 0..iterations {
        if ct.level() == 0 {
            ct = c.boot.bootstrap(&c.eval, &ct, &c.keys).unwrap();
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
    let e = worst(&c, &decrypt(&c, &ct), &want);
    println!(
        "{iterations} squarings on a chain of {} with {boots} bootstraps (output level {}): worst error 2^{:.2}",
        c.params.max_level(),
        c.boot.output_level(),
        e.log2()
    );
    assert!(iterations > c.params.max_level());
    assert!(boots >= 2);
    assert!(e < 2f64.powi(-16), "worst error 2^{}", e.log2());
}

#[test]
fn bad_configurations_are_refused() {
    let c = setup(8, 14);
    let base = BootstrapConfig {
        slots: 8,
        hamming_weight: 64,
        double_angles: 4,
        degree: 31,
        input_scale: c.params.scale(),
    };
    for bad in [
        BootstrapConfig {
            slots: 6,
            ..base.clone()
        },
        BootstrapConfig {
            slots: 2048,
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
    let short = setup(8, 14);
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
