//! CKKS end to end: encrypt → evaluate → decrypt, printing the precision
//! (log2 of the largest error over all slots, against f64) at each step.
//!
//! `cargo run --release --example ckks_basics`

use ckks::{
    tile, Encoder, Evaluator, GaloisKeys, LinearTransform, Parameters, Polynomial, PrecisionStats,
    Preset, PublicKey, RelinKey, SecretKey,
};
use rand::Rng;

fn report(step: &str, got: &[f64], want: &[f64], level: usize, scale: f64) {
    let s = PrecisionStats::compare(got, want);
    println!(
        "{step:<34} level {level}  scale 2^{:<7.3}  max error 2^{:.2}",
        scale.log2(),
        s.max_error_log2
    );
}

fn main() -> Result<(), ckks::Error> {
    // Key owner (result party): parameters and keys.
    let params = Parameters::preset(Preset::N16384)?;
    println!("{params:?}");
    let mut rng = rlwe::sample::rng();
    let sk = SecretKey::generate(&params, &mut rng);
    let pk = PublicKey::generate(&sk, &mut rng)?;
    let rlk = RelinKey::generate(&sk, &mut rng)?;
    let d = 64;
    let encoder = Encoder::new(&params);
    let matrix: Vec<Vec<f64>> = (0..d)
        .map(|_| (0..d).map(|_| rng.gen_range(-0.1..0.1)).collect())
        .collect();
    let lt = LinearTransform::new(&encoder, &matrix, params.max_level() - 1)?;
    let gk = GaloisKeys::generate(&sk, &lt.rotation_steps(), &mut rng)?;

    // Input party: encrypts a vector of 64 values, tiled over the slots.
    let n = params.slots();
    let x: Vec<f64> = (0..d).map(|_| rng.gen_range(-1.0..1.0)).collect();
    let xt = tile(&x, n);
    let ct = pk.encrypt(&encoder.encode(&xt)?, &mut rng)?;
    let dec = |ct: &ckks::Ciphertext| -> Result<Vec<f64>, ckks::Error> {
        encoder.decode(&sk.decrypt(ct)?)
    };
    report(
        "fresh (public key)",
        &dec(&ct)?,
        &xt,
        ct.level(),
        ct.scale(),
    );

    // Computing party: only public keys and ciphertexts.
    let eval = Evaluator::new(&params);
    let sq = eval.mul_relin_rescale(&ct, &ct, &rlk)?;
    let want_sq: Vec<f64> = xt.iter().map(|v| v * v).collect();
    report(
        "x² (mul + relin + rescale)",
        &dec(&sq)?,
        &want_sq,
        sq.level(),
        sq.scale(),
    );

    let sum = eval.add(&sq, &ct)?; // levels and scales aligned automatically
    let want_sum: Vec<f64> = xt.iter().map(|v| v * v + v).collect();
    report(
        "x² + x (auto-aligned)",
        &dec(&sum)?,
        &want_sum,
        sum.level(),
        sum.scale(),
    );

    let y = eval.linear_transform(&sum, &lt, &gk)?;
    let want_y: Vec<f64> = (0..n)
        .map(|j| (0..d).map(|k| matrix[j % d][k] * want_sum[k]).sum())
        .collect();
    report(
        "W·(x² + x), 64×64 BSGS",
        &dec(&y)?,
        &want_y,
        y.level(),
        y.scale(),
    );

    let sig = Polynomial::sigmoid(-4.0, 4.0, 7)?;
    let z = eval.evaluate_polynomial(&y, &sig, &rlk)?;
    let want_z: Vec<f64> = want_y.iter().map(|&v| sig.eval(v)).collect();
    report(
        "sigmoid (Chebyshev deg 7, [-4, 4])",
        &dec(&z)?,
        &want_z,
        z.level(),
        z.scale(),
    );
    let true_sig: Vec<f64> = want_y.iter().map(|&v| 1.0 / (1.0 + (-v).exp())).collect();
    report(
        "  … against the true sigmoid",
        &dec(&z)?,
        &true_sig,
        z.level(),
        z.scale(),
    );

    // What crosses to the result party: bytes.
    let bytes = z.to_bytes();
    let back = ckks::Ciphertext::from_bytes(&params, &bytes)?;
    println!("result ciphertext: {} bytes", bytes.len());
    report(
        "after serialization",
        &dec(&back)?,
        &want_z,
        back.level(),
        back.scale(),
    );
    Ok(())
}
