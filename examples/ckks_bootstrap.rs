//! A computation deeper than any CKKS chain: the logistic map
//! `x ← r·x·(1 − x)` on every slot (a per-slot `r` in [2.6, 3.4]: some
//! slots settle on a fixed point, others on a 2-cycle), two multiplicative
//! levels per step, bootstrapped whenever fewer than two levels are left,
//! compared with the same iteration in f64 after every bootstrap.
//!
//! ```text
//! cargo run --release --example ckks_bootstrap                     # N = 2^12 test preset (not secure), 30 steps
//! cargo run --release --example ckks_bootstrap -- --n65536 --steps 30   # N = 2^16, 128-bit, 2^15 slots
//! ```
//!
//! The first form takes seconds; the second needs about 10 GiB of memory
//! for the bootstrapping keys and diagonals and minutes of CPU.

use std::time::Instant;

use ckks::{
    BootstrapPreset, Bootstrapper, Encoder, Evaluator, PrecisionStats, PublicKey, SecretKey,
};
use rand::Rng;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let preset = if args.iter().any(|a| a == "--n65536") {
        BootstrapPreset::N65536
    } else {
        BootstrapPreset::TestN4096
    };
    let steps: usize = args
        .iter()
        .position(|a| a == "--steps")
        .and_then(|i| args.get(i + 1))
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(30);

    let t = Instant::now();
    let (params, config) = preset.parameters()?;
    let boot = Bootstrapper::new(&params, config)?;
    let mut rng = rlwe::sample::rng();
    let sk = SecretKey::generate(&params, &mut rng);
    let pk = PublicKey::generate(&sk, &mut rng)?;
    let keys = boot.generate_keys(&sk, &mut rng)?;
    println!(
        "{preset:?}: N = {}, {} slots, log2 QP = {}, {} levels ({} left after bootstrapping), scale 2^{:.0}; {} Galois keys; setup {:.1?}",
        params.degree(),
        params.slots(),
        params.rlwe().log_qp(),
        params.max_level(),
        boot.output_level(),
        params.scale().log2(),
        keys.gks.len(),
        t.elapsed()
    );

    let encoder = Encoder::new(&params);
    let eval = Evaluator::new(&params);
    let n = params.slots();
    let mut x: Vec<f64> = (0..n).map(|_| rng.gen_range(0.2..0.8)).collect();
    let r: Vec<f64> = (0..n).map(|_| rng.gen_range(2.6..3.4)).collect();
    let ct = pk.encrypt(&encoder.encode(&x)?, &mut rng)?;
    // the levels above the output level belong to bootstrapping
    let mut ct = eval.drop_to_level(&ct, boot.output_level())?;
    let decrypt = |ct: &ckks::Ciphertext| -> Result<Vec<f64>, ckks::Error> {
        encoder.decode(&sk.decrypt(ct)?)
    };
    let (mut levels, mut boots, mut boot_time) = (0usize, 0usize, 0.0f64);
    for step in 0..steps {
        if ct.level() < 2 {
            let t = Instant::now();
            ct = boot.bootstrap(&eval, &ct, &keys)?;
            boot_time += t.elapsed().as_secs_f64();
            boots += 1;
            let s = PrecisionStats::compare(&decrypt(&ct)?, &x);
            println!(
                "step {step:>3}: bootstrap {boots} in {:.2} s → level {}; error vs f64: worst 2^{:.1}, mean 2^{:.1}",
                t.elapsed().as_secs_f64(),
                ct.level(),
                s.max_error_log2,
                s.mean_error_log2
            );
        }
        // r·x (one level), times (1 − x) (one level)
        let pt = encoder.encode_at(&r, ct.level(), params.q(ct.level())? as f64)?;
        let rx = eval.rescale(&eval.mul_plain(&ct, &pt)?)?;
        let one_minus = eval.add_const(&eval.neg(&ct)?, 1.0)?;
        let one_minus = eval.drop_to_level(&one_minus, rx.level())?;
        ct = eval.mul_relin_rescale(&rx, &one_minus, &keys.rlk)?;
        levels += 2;
        for (xi, ri) in x.iter_mut().zip(&r) {
            *xi = ri * *xi * (1.0 - *xi);
        }
    }
    let s = PrecisionStats::compare(&decrypt(&ct)?, &x);
    println!(
        "{steps} steps = {levels} multiplicative levels on a chain of {} with {boots} bootstraps ({:.2} s each on average): worst error 2^{:.1}, mean 2^{:.1} against f64",
        params.max_level(),
        boot_time / boots.max(1) as f64,
        s.max_error_log2,
        s.mean_error_log2
    );
    Ok(())
}
