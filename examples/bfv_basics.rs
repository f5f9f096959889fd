//! BFV end to end: encode → encrypt → multiply → relinearize → rotate →
//! modulus switch → decrypt → decode, printing the invariant noise budget
//! and the sizes of what crosses the wire at each step.
//!
//! Run: `cargo run --release --example bfv_basics`

use std::time::Instant;

use bfv::{Encoder, Evaluator, GaloisKeys, Parameters, Preset, PublicKey, RelinKey, SecretKey};

fn main() -> Result<(), bfv::Error> {
    let params = Parameters::preset(Preset::N8192T65537)?;
    println!(
        "BFV N = {}, t = {}, log2(QP) = {} (128-bit bound 218), {} chain primes",
        params.degree(),
        params.plaintext_modulus(),
        params.rlwe().log_qp(),
        params.rlwe().q().len()
    );
    let mut rng = bfv::rng();
    let t0 = Instant::now();
    let sk = SecretKey::generate(&params, &mut rng);
    let pk = PublicKey::generate(&sk, &mut rng)?;
    let rlk = RelinKey::generate(&sk, &mut rng)?;
    let gk = GaloisKeys::generate_with_row_swap(&sk, &[1], true, &mut rng)?;
    println!("keys: {:.1} ms", t0.elapsed().as_secs_f64() * 1e3);
    println!(
        "sizes: public key {} KiB, relinearization key {} KiB, Galois keys (2) {} KiB",
        pk.to_bytes().len() / 1024,
        rlk.to_bytes().len() / 1024,
        gk.to_bytes().len() / 1024
    );

    let encoder = Encoder::new(&params);
    let eval = Evaluator::new(&params);
    let a: Vec<i64> = (0..8).map(|i| i + 1).collect();
    let b: Vec<i64> = (0..8).map(|i| 10 - 3 * i).collect();
    println!("a = {a:?}\nb = {b:?}");

    let ca = pk.encrypt(&encoder.encode(&a)?, &mut rng)?;
    let cb = sk.encrypt(&encoder.encode(&b)?, &mut rng)?;
    let show = |step: &str, ct: &bfv::Ciphertext| -> Result<(), bfv::Error> {
        let values = encoder.decode(&sk.decrypt(ct)?)?;
        println!(
            "{step:<28} level {}  parts {}  noise budget {:>5.1} bits  {:>5} KiB  first slots {:?}",
            ct.level(),
            ct.len(),
            sk.noise_budget(ct)?,
            ct.serialized_size() / 1024,
            &values[..8]
        );
        Ok(())
    };
    show("encrypt a (public key)", &ca)?;
    show("encrypt b (secret key, seeded)", &cb)?;
    let prod = eval.mul(&ca, &cb)?;
    show("a · b (3 parts)", &prod)?;
    let prod = eval.relinearize(&prod, &rlk)?;
    show("relinearized", &prod)?;
    let rot = eval.rotate_rows(&prod, 1, &gk)?;
    show("rotate rows by 1", &rot)?;
    let swapped = eval.rotate_columns(&rot, &gk)?;
    let tail = encoder.decode(&sk.decrypt(&swapped)?)?;
    println!(
        "{:<28} row 1 now starts with {:?}",
        "swap rows",
        &tail[params.degree() / 2..params.degree() / 2 + 8]
    );
    let low = eval.mod_switch_to(&rot, 0)?;
    show("modulus switched to level 0", &low)?;
    Ok(())
}
