//! The RLWE core on its own: key generation, public-key encryption, a
//! product with relinearization, rescaling and a Galois automorphism, with
//! the noise measured after each step and the size of what would be sent.
//!
//! Run: `cargo run --release --example rlwe_basics`

use std::time::Instant;

use rlwe::keys::{galois_element_for_rotation, GaloisKeys, PublicKey, RelinKey, SecretKey};
use rlwe::params::Params;
use rlwe::poly::Poly;

fn main() -> Result<(), rlwe::Error> {
    let params = Params::builder()
        .degree(16384)
        .q_bits(&[50, 40, 40, 40, 40, 40, 40])
        .p_bits(&[50, 50])
        .build()?;
    println!(
        "N = {}, log2(QP) = {} bits (128-bit bound {}), {} chain primes, {} special, {} key-switching digits",
        params.degree(),
        params.log_qp(),
        rlwe::params::max_log_qp(params.degree(), params.security()).unwrap_or(0),
        params.q().len(),
        params.p().len(),
        params.digits()
    );
    let mut rng = rlwe::sample::rng();
    let t = Instant::now();
    let sk = SecretKey::generate(&params, &mut rng);
    let pk = PublicKey::generate(&sk, &mut rng)?;
    let rlk = RelinKey::generate(&sk, &mut rng)?;
    let g = galois_element_for_rotation(1, params.degree());
    let gks = GaloisKeys::generate(&sk, &[g], &mut rng)?;
    println!(
        "keygen (sk, pk, rlk, 1 Galois key): {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    println!(
        "public key {} KiB, relinearization key {} KiB (seeded)",
        pk.to_bytes().len() / 1024,
        rlk.to_bytes().len() / 1024
    );

    // The message: coefficients scaled by 2^40 (what CKKS does with its scale).
    let scale = 2f64.powi(40);
    let values: Vec<f64> = (0..16).map(|i| (i as f64 - 8.0) / 8.0).collect();
    let coeffs: Vec<i64> = values.iter().map(|v| (v * scale).round() as i64).collect();
    let ring = params.ring_q(params.max_level())?;
    let m = Poly::from_i64(ring, &coeffs)?;

    let t = Instant::now();
    let ct = pk.encrypt(&m, &mut rng)?;
    println!(
        "encrypt: {:.2} ms, ciphertext {} KiB",
        t.elapsed().as_secs_f64() * 1e3,
        ct.serialized_size() / 1024
    );
    let ct_sk = sk.encrypt(&m, &mut rng)?;
    println!(
        "secret-key (seeded) ciphertext {} KiB",
        ct_sk.serialized_size() / 1024
    );

    let report = |label: &str,
                  ct: &rlwe::ciphertext::Ciphertext,
                  expect: &[f64],
                  scale: f64|
     -> Result<(), rlwe::Error> {
        let dec = sk.decrypt(ct)?.centered_coeffs();
        let mut max_err = 0f64;
        for (i, e) in expect.iter().enumerate() {
            let got: f64 = dec[i].to_string().parse().unwrap_or(f64::NAN);
            max_err = max_err.max((got / scale - e).abs());
        }
        println!(
            "{label:<28} level {}  max error {:.2e} (log2 {:.1})",
            ct.level(),
            max_err,
            max_err.log2()
        );
        Ok(())
    };
    report("fresh", &ct, &values, scale)?;

    // Square (a polynomial product), relinearize, rescale.
    let t = Instant::now();
    let sq = ct.tensor(&ct)?.relinearize(&rlk)?.rescale()?;
    println!(
        "multiply + relinearize + rescale: {:.2} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    let mut square = vec![0f64; 31];
    for i in 0..16 {
        for j in 0..16 {
            square[i + j] += values[i] * values[j];
        }
    }
    let new_scale = scale * scale / params.q()[params.max_level()] as f64;
    report("squared polynomial", &sq, &square, new_scale)?;

    // X -> X^5 moves coefficient i to 5i (negated past N).
    let t = Instant::now();
    let rot = sq.apply_galois(gks.get(g)?)?;
    println!(
        "automorphism (key switch): {:.2} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    let mut moved = vec![0f64; 5 * 31];
    for (i, v) in square.iter().enumerate() {
        moved[5 * i] = *v;
    }
    report("after X -> X^5", &rot, &moved, new_scale)?;
    Ok(())
}
