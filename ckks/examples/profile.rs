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
    if which == "parts" {
        // Time the pieces of one rotation (rlwe calls), 100 times each.
        let rp = params.rlwe();
        let gk1 = gk.for_step(1)?;
        let k = gk1.element();
        let parts = a.rlwe().parts();
        let lvl = a.level();
        let time = |name: &str,
                    f: &mut dyn FnMut() -> Result<(), ckks::Error>|
         -> Result<(), ckks::Error> {
            let t = Instant::now();
            for _ in 0..100 {
                f()?;
            }
            println!("{name:<22} {:.3} ms", t.elapsed().as_secs_f64() * 10.0);
            Ok(())
        };
        let s1 = parts[1].automorphism(k).map_err(ckks::Error::from)?;
        let digits = rlwe::ciphertext::decompose(rp, &s1)?;
        let (a0, _a1) = gk1.key().apply_decomposed(&digits, lvl)?;
        time("automorphism c1", &mut || {
            std::hint::black_box(parts[1].automorphism(k)?);
            Ok(())
        })?;
        time("decompose", &mut || {
            std::hint::black_box(rlwe::ciphertext::decompose(rp, &s1)?);
            Ok(())
        })?;
        time("apply_decomposed", &mut || {
            std::hint::black_box(gk1.key().apply_decomposed(&digits, lvl)?);
            Ok(())
        })?;
        time("mod_down (one part)", &mut || {
            std::hint::black_box(rlwe::ciphertext::mod_down(rp, &a0, lvl)?);
            Ok(())
        })?;
        time("clone c0", &mut || {
            std::hint::black_box(parts[0].clone());
            Ok(())
        })?;
        {
            let q = rp.q();
            let mut to: Vec<u64> = q[2..].to_vec();
            to.extend_from_slice(rp.p());
            let ext = rlwe::rns::BasisExtender::new(&rlwe::rns::RnsBasis::new(&q[..2])?, &to)?;
            let n = params.degree();
            let mut c = parts[1].clone();
            c.to_coeff();
            let src = c.data()[..2 * n].to_vec();
            let mut out = vec![0u64; to.len() * n];
            time("extend 2→8 exact", &mut || {
                ext.extend(&src, n, &mut out, true);
                Ok(())
            })?;
            time("extend 2→8 approx", &mut || {
                ext.extend(&src, n, &mut out, false);
                Ok(())
            })?;
            let mut p1 = parts[1].clone();
            time("8 INTT + 8 NTT", &mut || {
                p1.to_coeff();
                p1.to_ntt();
                Ok(())
            })?;
        }
        time("whole rotate", &mut || {
            std::hint::black_box(eval.rotate(&a, 1, &gk)?);
            Ok(())
        })?;
        return Ok(());
    }
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
