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
use ml_he::inference::{
    Client, EvaluationKeys, InputLayout, LogisticOutput, Packing, PublicSetup, Query, Response,
    Server,
};
use ml_he::model::{
    argmax, eval_poly, fit_sigmoid_odd, Activation, LogisticConfig, LogisticRegression, Mlp,
    MlpConfig,
};
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

/// A small logistic model for the protocol tests (fast: N = 4096).
fn small_lr() -> LogisticRegression {
    LogisticRegression {
        weights: vec![0.5, -1.0, 0.25, 2.0],
        bias: 0.1,
    }
}

#[test]
fn messages_round_trip() {
    let m = small_lr();
    for packing in [Packing::PerSample, Packing::Batch] {
        let server = Server::logistic(&m, packing).unwrap();
        let setup_bytes = server.setup().to_bytes();
        let setup = PublicSetup::from_bytes(&setup_bytes).unwrap();
        assert_eq!(&setup, server.setup());
        let mut client = Client::with_rng(&setup, ChaCha20Rng::seed_from_u64(3)).unwrap();
        let params = client.parameters().clone();
        assert_eq!(&params, server.parameters());

        let keys = client.evaluation_keys().unwrap();
        let kb = keys.to_bytes();
        let keys2 = EvaluationKeys::from_bytes(&params, &kb).unwrap();
        assert_eq!(keys2.to_bytes(), kb);
        assert_eq!(keys.galois.is_some(), packing == Packing::PerSample);
        assert!(keys.relin.is_none());

        let xs = vec![vec![1.0, 2.0, 3.0, 4.0], vec![-1.0, 0.5, 0.0, 1.5]];
        let q = client.encrypt_batch(&xs).unwrap();
        let qb = q.to_bytes();
        let q2 = Query::from_bytes(&params, &qb).unwrap();
        assert_eq!(q2.samples, 2);
        assert_eq!(q2.to_bytes(), qb);

        let r = server.evaluate(&keys2, &q2).unwrap();
        let rb = r.to_bytes();
        let r2 = Response::from_bytes(&params, &rb).unwrap();
        assert_eq!(r2.to_bytes(), rb);
        let out = client.decrypt(&r2).unwrap();
        for (x, o) in xs.iter().zip(&out) {
            let want = m.logit(x).unwrap();
            assert!((o[0] - want).abs() < 1e-3, "{} vs {want}", o[0]);
        }
    }
}

#[test]
fn layouts() {
    let x = [1.0, 2.0, 3.0];
    assert_eq!(InputLayout::Slots.lay_out(&x, 8), vec![1.0, 2.0, 3.0]);
    assert_eq!(
        InputLayout::Tiled { period: 4 }.lay_out(&x, 8),
        vec![1.0, 2.0, 3.0, 0.0, 1.0, 2.0, 3.0, 0.0]
    );
    assert_eq!(
        InputLayout::RotatedBlocks { block: 4 }.lay_out(&x, 16),
        vec![1.0, 2.0, 3.0, 0.0, 2.0, 3.0, 0.0, 1.0, 3.0, 0.0, 1.0, 2.0, 0.0, 1.0, 2.0, 3.0]
    );
}

#[test]
fn wrong_feature_count_is_a_shape_error() {
    let server = Server::logistic(&small_lr(), Packing::PerSample).unwrap();
    let mut client = Client::with_rng(server.setup(), ChaCha20Rng::seed_from_u64(4)).unwrap();
    assert!(matches!(
        client.encrypt(&[1.0, 2.0, 3.0]),
        Err(Error::Shape(_))
    ));
    assert!(matches!(
        client.encrypt(&[1.0, 2.0, 3.0, 4.0, 5.0]),
        Err(Error::Shape(_))
    ));
    assert!(matches!(
        client.encrypt(&[1.0, f64::NAN, 3.0, 4.0]),
        Err(Error::OutOfRange(_))
    ));
    // far outside the encoding's range (e.g. unstandardized features)
    assert!(matches!(
        client.encrypt(&[1.0, 2.0, 3.0, 1e6]),
        Err(Error::OutOfRange(_))
    ));
    // batch API on a per-sample setup is fine, the reverse is not
    let batch = Server::logistic(&small_lr(), Packing::Batch).unwrap();
    let mut bc = Client::with_rng(batch.setup(), ChaCha20Rng::seed_from_u64(5)).unwrap();
    assert!(matches!(
        bc.encrypt(&[1.0, 2.0, 3.0, 4.0]),
        Err(Error::Shape(_))
    ));
    assert!(matches!(bc.encrypt_batch(&[]), Err(Error::Shape(_))));
    let too_many = vec![vec![0.0; 4]; bc.parameters().slots() + 1];
    assert!(matches!(bc.encrypt_batch(&too_many), Err(Error::Shape(_))));
    // a query with the wrong number of ciphertexts
    let keys = bc.evaluation_keys().unwrap();
    let mut q = bc.encrypt_batch(&[vec![0.0; 4]]).unwrap();
    q.ciphertexts.pop();
    assert!(matches!(batch.evaluate(&keys, &q), Err(Error::Shape(_))));
}

#[test]
fn mismatched_parameters_are_rejected() {
    // Same model, two servers with different parameter sets (LR: N = 4096;
    // MLP: N = 8192): objects of one are refused by the other.
    let lr_server = Server::logistic(&small_lr(), Packing::PerSample).unwrap();
    let mlp = Mlp::new(
        vec![vec![0.1; 4]; 2],
        vec![0.0; 2],
        vec![vec![1.0, -1.0]; 3],
        vec![0.0; 3],
        Activation::Square,
    )
    .unwrap();
    let mlp_server = Server::mlp(&mlp, Packing::PerSample).unwrap();
    let mut lr_client = Client::with_rng(lr_server.setup(), ChaCha20Rng::seed_from_u64(6)).unwrap();
    let mut mlp_client =
        Client::with_rng(mlp_server.setup(), ChaCha20Rng::seed_from_u64(7)).unwrap();
    let lr_keys = lr_client.evaluation_keys().unwrap();
    let mlp_keys = mlp_client.evaluation_keys().unwrap();
    let x = [1.0, 2.0, 3.0, 4.0];
    let q_mlp = mlp_client.encrypt(&x).unwrap();

    // bytes of the other parameters: ckks's fingerprint check
    let e = lr_server.read_query(&q_mlp.to_bytes()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Ckks(ckks::Error::Rlwe(rlwe::Error::ParameterMismatch { .. }))
        ) || matches!(e, Error::Ckks(ckks::Error::ParameterMismatch { .. })),
        "{e:?}"
    );
    assert!(lr_server.read_keys(&mlp_keys.to_bytes()).is_err());
    // in-memory objects of the other parameters
    assert!(matches!(
        lr_server.evaluate(&lr_keys, &q_mlp),
        Err(Error::Ckks(ckks::Error::ParameterMismatch { .. }))
    ));
    // the right query with the wrong keys
    let q_lr = lr_client.encrypt(&x).unwrap();
    assert!(lr_server.evaluate(&mlp_keys, &q_lr).is_err());
    // keys without the rotation keys
    let no_keys = EvaluationKeys {
        relin: None,
        galois: None,
    };
    assert!(matches!(
        lr_server.evaluate(&no_keys, &q_lr),
        Err(Error::Malformed { .. })
    ));
    // a response of the other parameters
    let r = mlp_server.evaluate(&mlp_keys, &q_mlp).unwrap();
    assert!(lr_client.decrypt_bytes(&r.to_bytes()).is_err());
    // the MLP works on its own parameters
    let out = mlp_client.decrypt(&r).unwrap();
    let want = mlp.logits(&x).unwrap();
    for (a, b) in out[0].iter().zip(&want) {
        assert!((a - b).abs() < 1e-2, "{a} vs {b}");
    }
}

#[test]
fn malformed_bytes_are_rejected() {
    let server = Server::logistic(&small_lr(), Packing::PerSample).unwrap();
    let mut client = Client::with_rng(server.setup(), ChaCha20Rng::seed_from_u64(8)).unwrap();
    let params = client.parameters().clone();
    let keys = client.evaluation_keys().unwrap();
    let q = client.encrypt(&[1.0, 2.0, 3.0, 4.0]).unwrap().to_bytes();

    // empty, truncated, trailing garbage, wrong message type
    for bad in [
        Vec::new(),
        q[..q.len() / 2].to_vec(),
        [q.clone(), vec![0u8; 3]].concat(),
        server.setup().to_bytes(),
    ] {
        assert!(
            matches!(server.read_query(&bad), Err(Error::Malformed { .. })),
            "{:?}",
            server.read_query(&bad).err()
        );
    }
    assert!(matches!(
        PublicSetup::from_bytes(&q),
        Err(Error::Malformed { .. })
    ));
    assert!(matches!(
        EvaluationKeys::from_bytes(&params, &q),
        Err(Error::Malformed { .. })
    ));
    assert!(matches!(
        Response::from_bytes(&params, &q),
        Err(Error::Malformed { .. })
    ));
    // a flipped byte inside a ciphertext: the inner ckks validation fails
    // (coefficient ≥ modulus or bad envelope) or the bytes still parse;
    // never a panic
    let mut flipped = q.clone();
    let i = flipped.len() - 9;
    flipped[i] = 0xff;
    flipped[i - 1] = 0xff;
    let _ = server.read_query(&flipped);
    // coefficient out of range: set a whole u64 to all ones
    let mut big = q.clone();
    let n = big.len();
    for b in &mut big[n - 8..] {
        *b = 0xff;
    }
    assert!(server.read_query(&big).is_err());
    // an inconsistent setup (input level above the chain)
    let mut setup = server.setup().clone();
    setup.input_level = 5;
    assert!(matches!(
        PublicSetup::from_bytes(&setup.to_bytes()),
        Err(Error::Malformed { .. })
    ));
    assert!(Client::new(&setup).is_err());
    // an insecure setup is refused by the client (parameters are rebuilt
    // and validated: 128-bit security)
    let mut setup = server.setup().clone();
    setup.q_primes.push(setup.p_primes[0] + 2);
    assert!(Client::new(&setup).is_err());
    let _ = keys;
}

#[test]
fn models_from_json_run_encrypted() {
    // sklearn-style logistic regression with numpy nested lists
    let m =
        LogisticRegression::from_json(r#"{"coef": [[0.5, -1.0, 0.25, 2.0]], "intercept": [0.1]}"#)
            .unwrap();
    assert_eq!(m, small_lr());
    // an MLP with a general quadratic activation (folded into a square)
    let mlp = Mlp::from_json(
        r#"{"type": "mlp", "activation": {"poly": [0.1, 0.5, 0.25]},
            "layers": [{"weight": [[0.2, -0.1, 0.3, 0.05], [-0.3, 0.2, 0.1, 0.4]], "bias": [0.1, -0.2]},
                       {"weight": [[1.0, -0.5], [0.3, 0.7], [-1.2, 0.4]], "bias": [0.0, 0.1, -0.1]}]}"#,
    )
    .unwrap();
    let x = vec![vec![0.5, 0.25, 1.0, 0.0], vec![1.0, 1.0, 0.0, 0.5]];
    for packing in [Packing::PerSample, Packing::Batch] {
        let server = Server::mlp(&mlp, packing).unwrap();
        let out = run(&server, &x, 9);
        for (xi, o) in x.iter().zip(&out) {
            let want = mlp.logits(xi).unwrap();
            for (a, b) in o.iter().zip(&want) {
                assert!((a - b).abs() < 1e-2, "{packing:?}: {a} vs {b}");
            }
        }
    }
    // degree 3 activations do not fit the circuit
    let cubic = Mlp::new(
        vec![vec![0.1; 4]; 2],
        vec![0.0; 2],
        vec![vec![1.0, -1.0]; 3],
        vec![0.0; 3],
        Activation::Poly(vec![0.0, 1.0, 0.0, 0.1]),
    )
    .unwrap();
    assert!(matches!(
        Server::mlp(&cubic, Packing::PerSample),
        Err(Error::OutOfRange(_))
    ));
}

/// The other circuit paths: a first layer wider than its input (BSGS
/// diagonals instead of the rotated-block layout) and a linear activation
/// (no square, no relinearization key).
#[test]
fn tall_first_layer_and_linear_activation() {
    let mut rng = ChaCha20Rng::seed_from_u64(10);
    use rand::Rng;
    let mut mat = |r: usize, c: usize| -> Vec<Vec<f64>> {
        (0..r)
            .map(|_| (0..c).map(|_| rng.gen_range(-0.5..0.5)).collect())
            .collect()
    };
    let (w1, w2) = (mat(8, 4), mat(3, 8));
    let xs = vec![vec![0.5, 0.25, 1.0, 0.0], vec![1.0, 1.0, 0.0, 0.5]];
    for act in [Activation::Square, Activation::Poly(vec![0.2, 0.5])] {
        let mlp = Mlp::new(
            w1.clone(),
            vec![0.1; 8],
            w2.clone(),
            vec![0.0, 0.1, -0.1],
            act,
        )
        .unwrap();
        for packing in [Packing::PerSample, Packing::Batch] {
            let server = Server::mlp(&mlp, packing).unwrap();
            if packing == Packing::PerSample {
                assert!(matches!(
                    server.setup().input_layout,
                    InputLayout::Tiled { period: 4 }
                ));
            }
            let out = run(&server, &xs, 11);
            for (x, o) in xs.iter().zip(&out) {
                let want = mlp.logits(x).unwrap();
                for (a, b) in o.iter().zip(&want) {
                    assert!((a - b).abs() < 1e-2, "{packing:?}: {a} vs {b}");
                }
            }
        }
    }
}

/// Sigmoid under encryption, fitted on the training logits' range: the
/// thresholded probability agrees with the plaintext prediction on the whole
/// test split (the tutorial cubic would flip every |z| > 7.02).
#[test]
fn logistic_sigmoid_output_agrees_on_test_split() {
    let (s, m) = lr();
    let (lo, hi) = m.logit_range(&s.train).unwrap();
    let range = lo.abs().max(hi.abs());
    let fit = fit_sigmoid_odd(range, 3).unwrap();
    for packing in [Packing::Batch, Packing::PerSample] {
        let server =
            Server::logistic_with(m, packing, LogisticOutput::Sigmoid { range, degree: 3 })
                .unwrap();
        let n = if packing == Packing::Batch {
            s.test.len()
        } else {
            16
        };
        let xs = &s.test.x[..n];
        let out = run(&server, xs, 12);
        let mut agree = 0;
        let mut max_err = 0f64;
        for (x, o) in xs.iter().zip(&out) {
            let z = m.logit(x).unwrap();
            max_err = max_err.max((eval_poly(&fit, z) - o[0]).abs());
            agree += usize::from((z > 0.0) == (o[0] > 0.5));
        }
        let rate = agree as f64 / n as f64;
        eprintln!("LR sigmoid {packing:?}: agreement {rate} on {n}, max |Δp| {max_err:.2e}");
        assert!(rate >= 0.995, "agreement {rate}");
        assert!(max_err < 1e-3, "max error {max_err}");
    }
}
