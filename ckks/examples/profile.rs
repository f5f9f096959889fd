//! Profiling loop for CKKS key switching at N = 16384 (8 limbs):
//! `RAYON_NUM_THREADS=1 cargo run --release -p ckks --example profile -- rot 200`.

use std::time::Instant;

use ckks::{Encoder, Evaluator, GaloisKeys, Parameters, Preset, PublicKey, RelinKey, SecretKey};
use rand::SeedableRng;

fn main() -> Result<(), ckks::Error> {
    let params = Parameters::preset(Preset::N16384)?;
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
    let sk = SecretKey::generate(&params, &mut rng);
    let pk = PublicKey::generate(&sk, &mut rng)?;
    let rlk = RelinKey::generate(&sk, &mut rng)?;
    let enc0 = Encoder::new(&params);
    let d = 64;
    let m: Vec<Vec<f64>> = (0..d)
        .map(|i| {
            (0..d)
                .map(|j| ((i * 7 + j * 3) % 11) as f64 / 11.0 - 0.5)
                .collect()
        })
        .collect();
    let lt = ckks::LinearTransform::new(&enc0, &m, params.max_level())?;
    let mut steps = lt.rotation_steps();
    steps.push(1);
    let gk = GaloisKeys::generate(&sk, &steps, &mut rng)?;
    let enc = Encoder::new(&params);
    let eval = Evaluator::new(&params);
    let x = vec![0.5; params.slots()];
    let a = pk.encrypt(&enc.encode(&x)?, &mut rng)?;
    let which = std::env::args().nth(1).unwrap_or_default();
    let iters: usize = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let t = Instant::now();
    for _ in 0..iters {
        if which == "mul" {
            std::hint::black_box(eval.mul_relin_rescale(&a, &a, &rlk)?);
        } else if which == "mulrelin" {
            std::hint::black_box(eval.mul_relin(&a, &a, &rlk)?);
        } else if which == "rlwe-mul" {
            let t = a.rlwe().tensor(a.rlwe())?;
            std::hint::black_box(t.relinearize(rlk.rlwe())?.rescale()?);
        } else if which == "rlwe-rot" {
            std::hint::black_box(a.rlwe().apply_galois(gk.for_step(1)?)?);
        } else if which == "matvec" {
            std::hint::black_box(eval.linear_transform(&a, &lt, &gk)?);
        } else if which == "hoisted7" {
            std::hint::black_box(eval.rotate_hoisted(&a, &[1, 2, 3, 4, 5, 6, 7], &gk)?);
        } else if which == "ntt" {
            let mut p = a.rlwe().parts()[0].clone();
            for _ in 0..10 {
                p.to_coeff();
                p.to_ntt();
            }
            std::hint::black_box(p);
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
