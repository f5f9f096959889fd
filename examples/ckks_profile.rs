//! Profiling loop for CKKS key switching at N = 16384 (8 limbs):
//! `RAYON_NUM_THREADS=1 perf record cargo run --release --example ckks_profile`.

use std::time::Instant;

use ckks::{Encoder, Evaluator, GaloisKeys, Parameters, Preset, PublicKey, RelinKey, SecretKey};
use rand::SeedableRng;

fn main() -> Result<(), ckks::Error> {
    let params = Parameters::preset(Preset::N16384)?;
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
    let sk = SecretKey::generate(&params, &mut rng);
    let pk = PublicKey::generate(&sk, &mut rng)?;
    let rlk = RelinKey::generate(&sk, &mut rng)?;
    let gk = GaloisKeys::generate(&sk, &[1], &mut rng)?;
    let enc = Encoder::new(&params);
    let eval = Evaluator::new(&params);
    let x = vec![0.5; params.slots()];
    let a = pk.encrypt(&enc.encode(&x)?, &mut rng)?;
    let which = std::env::args().nth(1).unwrap_or_default();
    let iters = 200;
    let t = Instant::now();
    for _ in 0..iters {
        if which == "mul" {
            std::hint::black_box(eval.mul_relin_rescale(&a, &a, &rlk)?);
        } else {
            std::hint::black_box(eval.rotate(&a, 1, &gk)?);
        }
    }
    println!(
        "{which}: {:.3} ms",
        t.elapsed().as_secs_f64() * 1e3 / iters as f64
    );
    Ok(())
}
