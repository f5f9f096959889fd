//! Private model testing: a model owner publishes a model; four test
//! parties each hold a private labelled test set (disjoint shards of the
//! held-out split). Each party evaluates the public model locally, encrypts
//! its confusion counts under the collective threshold BFV key and sends
//! them to the server (the model owner), which forwards all contributions
//! to a committee of any 3 of the 4 parties; each committee member checks
//! every contribution against the digest its sender signed, recomputes the
//! sum itself and decrypts only that total. Nobody sees another party's
//! data, counts or accuracy. Shown for the logistic regression on breast
//! cancer (2 classes) and the square-activation MLP on digits (10 classes).
//!
//! `cargo run --release --example private_model_testing`

use std::time::Instant;

use ml_he::data::{breast_cancer_split_with_scaler, digits_split, Dataset};
use ml_he::model::{Activation, LogisticConfig, LogisticRegression, Mlp, MlpConfig};
use ml_he::testing::{
    combine, contribution_digest, deal_all, inspect_request, ConfusionMatrix, TestParty,
    TestingKey, TestingParams, TestingServer,
};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

const PARTIES: usize = 4;
const T: usize = 3;

fn run<F>(name: &str, classes: usize, test: &Dataset, predict: F) -> ml_he::Result<()>
where
    F: Fn(&[f64]) -> ml_he::Result<usize> + Copy,
{
    let mut rng = ChaCha20Rng::from_entropy();
    let mut seed = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rng, &mut seed);
    let t0 = Instant::now();
    let params = TestingParams::new(PARTIES, T, classes, seed)?;
    let mut parties: Vec<TestParty> = (1..=PARTIES as u32)
        .map(|i| TestParty::new(&params, i, &mut rng))
        .collect::<ml_he::Result<_>>()?;
    let shares = parties
        .iter_mut()
        .map(|p| p.public_key_share(&mut rng))
        .collect::<ml_he::Result<Vec<_>>>()?;
    let key = TestingKey::from_shares(&params, shares)?;
    // verifiable dealing: the key then covers every party's share
    // commitment, and each decryption share will carry a proof
    let key = deal_all(&mut parties, &key, &mut rng)?;
    let setup_ms = t0.elapsed().as_secs_f64() * 1e3;

    // each party's private test set
    let sets = test.shards(PARTIES)?;
    let mut server = TestingServer::new(&key);
    let mut enc_ms = 0.0;
    let mut bytes = 0;
    // what each party signs: the digest of its contribution (here kept
    // locally; a networked runtime distributes the signatures)
    let mut signed = Vec::new();
    for (p, set) in parties.iter().zip(&sets) {
        let cm = p.evaluate(set, predict)?; // local, private
        let t = Instant::now();
        let msg = p.encrypt_counts(&cm, &mut rng)?;
        enc_ms += t.elapsed().as_secs_f64() * 1e3;
        bytes = msg.len();
        signed.push((p.id(), contribution_digest(&msg)));
        server.add_from(p.id(), &msg)?; // sender authenticated by the transport
    }
    let committee = [1u32, 3, 4];
    let request = server.decryption_request(&committee)?;
    // each committee member's runtime: the request must carry exactly the
    // signed contributions before the member answers
    let info = inspect_request(&key, &request)?;
    if info.contributions != signed {
        return Err(ml_he::Error::Protocol(
            "the request carries a contribution its party did not sign".into(),
        ));
    }
    let t = Instant::now();
    let dshares = committee
        .iter()
        .map(|&c| parties[c as usize - 1].decryption_share(&request, &mut rng))
        .collect::<ml_he::Result<Vec<_>>>()?;
    let share_ms = t.elapsed().as_secs_f64() * 1e3 / committee.len() as f64;
    let result = combine(&key, &request, &dshares)?;

    // reference: the plaintext evaluation on the whole split (for checking
    // only; no party could compute it in the protocol)
    let reference = ConfusionMatrix::evaluate(classes, test, predict)?;
    println!(
        "\n== {name}: {} test samples held by {PARTIES} parties ({:?}) ==",
        test.len(),
        sets.iter().map(|s| s.len()).collect::<Vec<_>>()
    );
    println!(
        "revealed: accuracy {:.4} ({} / {}), contributors {:?}; plaintext reference accuracy {:.4}; identical confusion matrix: {}",
        result.confusion.accuracy(),
        result.confusion.correct(),
        result.confusion.total(),
        result.contributors,
        reference.accuracy(),
        result.confusion == reference
    );
    if classes == 2 {
        println!(
            "confusion [true\\pred]: [[{}, {}], [{}, {}]]; precision(1) {:.4}, recall(1) {:.4}",
            result.confusion.get(0, 0),
            result.confusion.get(0, 1),
            result.confusion.get(1, 0),
            result.confusion.get(1, 1),
            result.confusion.precision(1),
            result.confusion.recall(1)
        );
    } else {
        let diag: Vec<u64> = (0..classes).map(|c| result.confusion.get(c, c)).collect();
        println!("per-class correct: {diag:?}");
    }
    println!(
        "setup {setup_ms:.0} ms; per party: encrypt {:.2} ms, {} bytes; decryption share (checks {} contributions, recomputes the sum) {:.2} ms; request {} bytes",
        enc_ms / PARTIES as f64,
        bytes,
        info.contributions.len(),
        share_ms,
        request.len()
    );
    // a malicious server asking party 1 for a second, different set (all
    // but party 4: the difference would be party 4's counts) is refused
    let mut rogue = TestingServer::new(&key);
    for p in &parties[..3] {
        let cm = p.evaluate(&sets[p.id() as usize - 1], predict)?;
        rogue.add(&p.encrypt_counts(&cm, &mut rng)?)?;
    }
    let second = rogue.decryption_request(&[1, 2, 3])?;
    match parties[0].decryption_share(&second, &mut rng) {
        Err(e) => println!("second contribution set refused: {e}"),
        Ok(_) => return Err(ml_he::Error::Protocol("second set answered".into())),
    }
    Ok(())
}

fn main() -> ml_he::Result<()> {
    let (bc, _) = breast_cancer_split_with_scaler(0)?;
    let lr = LogisticRegression::fit(&bc.train, &LogisticConfig::default())?;
    run("logistic regression, breast cancer", 2, &bc.test, |x| {
        lr.predict(x)
    })?;

    let digits = digits_split(0)?;
    let mlp = Mlp::fit(&digits.train, Activation::Square, &MlpConfig::default())?;
    run("MLP 64-32-10 (square), digits", 10, &digits.test, |x| {
        mlp.predict(x)
    })?;
    Ok(())
}
