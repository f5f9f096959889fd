//! Encrypted inference of imported ONNX models through the graph compiler:
//! encrypted outputs against the graph's plaintext reference evaluator
//! (itself checked against onnxruntime in `onnx_import.rs`).

#![allow(clippy::unwrap_used)]

use ml_he::inference::{onnx, Client, CompileOptions, InputPolicy, Packing, Server};
use ml_he::{npy, Error};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

fn data(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../data")
        .join(rel)
}

/// MNIST test images as model inputs (pixel / 255), and labels.
fn mnist(count: usize) -> (Vec<Vec<f64>>, Vec<usize>) {
    let (shape, px) = npy::read_npy_file(data("mnist/test_images.npy")).unwrap();
    let (_, labels) = npy::read_npy_file(data("mnist/test_labels.npy")).unwrap();
    let n = shape[1] * shape[2];
    let xs = px
        .chunks(n)
        .take(count)
        .map(|c| c.iter().map(|v| v / 255.0).collect())
        .collect();
    (xs, labels.iter().take(count).map(|&l| l as usize).collect())
}

fn argmax(v: &[f64]) -> usize {
    v.iter()
        .enumerate()
        .fold(
            (0, f64::NEG_INFINITY),
            |b, (i, &x)| if x > b.1 { (i, x) } else { b },
        )
        .0
}

/// Runs `count` samples encrypted; returns (agreement with the plaintext
/// graph, max |logit error|).
fn run(server: &Server, graph: &ml_he::inference::graph::Graph, xs: &[Vec<f64>]) -> (f64, f64) {
    let mut client =
        Client::with_rng(server.setup(), ChaCha20Rng::seed_from_u64(7)).expect("client");
    let keys = server
        .read_keys(&client.evaluation_keys().unwrap().to_bytes())
        .unwrap();
    let (mut agree, mut worst) = (0usize, 0f64);
    let chunk = match server.setup().packing {
        Packing::PerSample => 4,
        Packing::Batch => server.parameters().slots(),
    };
    for batch in xs.chunks(chunk) {
        let q = client.encrypt_batch(batch).unwrap().to_bytes();
        let r = server.evaluate_bytes(&keys, &q).unwrap();
        let got = client.decrypt_bytes(&r).unwrap();
        for (x, g) in batch.iter().zip(&got) {
            let want = graph.eval(x).unwrap();
            let err = want
                .iter()
                .zip(g)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            worst = worst.max(err);
            agree += usize::from(argmax(&want) == argmax(g));
        }
    }
    (agree as f64 / xs.len() as f64, worst)
}

#[test]
fn tenseal_cnn_per_sample() {
    let graph = onnx::import_file(data("models/mnist_cnn_tenseal.onnx")).unwrap();
    let (cal, _) = mnist(200);
    let server = Server::compile(&graph, &cal, &CompileOptions::default()).unwrap();
    eprintln!("{}", server.report().unwrap());
    let (xs, _) = mnist(16);
    let (agree, worst) = run(&server, &graph, &xs);
    eprintln!("agreement {agree}, max |Δlogit| {worst:.2e}");
    assert_eq!(agree, 1.0);
    // logits reach ±77: 5e-2 is a relative error below 10^-3
    assert!(worst < 5e-2, "{worst}");
}

fn batch_agreement(model: &str, count: usize, options: &CompileOptions) -> (f64, f64) {
    let graph = onnx::import_file(data(&format!("models/{model}.onnx"))).unwrap();
    let (cal, _) = mnist(200);
    let server = Server::compile(&graph, &cal, options).unwrap();
    eprintln!("{model}:\n{}", server.report().unwrap());
    let (xs, _) = mnist(count);
    let t = std::time::Instant::now();
    let r = run(&server, &graph, &xs);
    eprintln!(
        "{model}: {count} images in {:.1} s: agreement {}, max |Δ| {:.2e}",
        t.elapsed().as_secs_f64(),
        r.0,
        r.1
    );
    r
}

/// The wine data (`data/wine.csv`): features of every row, and the test
/// split's rows (`wine_logreg.test_indices.npy`).
fn wine() -> (Vec<Vec<f64>>, Vec<usize>) {
    let text = std::fs::read_to_string(data("wine.csv")).unwrap();
    let rows = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').skip(1).map(|v| v.parse().unwrap()).collect())
        .collect();
    let (_, idx) = npy::read_npy_file(data("models/wine_logreg.test_indices.npy")).unwrap();
    (rows, idx.iter().map(|&i| i as usize).collect())
}

#[test]
fn wine_multinomial_logistic_regression_full_test_split() {
    // scikit-learn's scaler + multinomial logistic regression (3 classes):
    // every one of the 54 test rows, both packings, against onnxruntime's
    // scores (float64 model) and the reference evaluator
    let graph = onnx::import_file(data("models/wine_logreg.onnx")).unwrap();
    let (rows, test) = wine();
    let (_, ort) = npy::read_npy_file(data("models/wine_logreg.outputs.npy")).unwrap();
    let xs: Vec<Vec<f64>> = test.iter().map(|&i| rows[i].clone()).collect();
    for packing in [Packing::PerSample, Packing::Batch] {
        let options = CompileOptions {
            packing,
            ..CompileOptions::default()
        };
        let server = Server::compile(&graph, &rows, &options).unwrap();
        let report = server.report().unwrap();
        assert_eq!(report.depth, 1, "{report}");
        let (agree, worst) = run(&server, &graph, &xs);
        assert_eq!(agree, 1.0, "{packing:?}");
        // scores within ±15 (inputs up to 1680, the proline column)
        assert!(worst < 1e-2, "{packing:?}: {worst}");
        // and the reference evaluator is onnxruntime's answer
        for (x, want) in xs.iter().zip(ort.chunks(3)) {
            let got = graph.eval(x).unwrap();
            for (g, w) in got.iter().zip(want) {
                assert!((g - w).abs() < 1e-9);
            }
        }
    }
}

#[test]
fn mnist_logistic_regression_full_test_split_batch() {
    let options = CompileOptions {
        packing: Packing::Batch,
        ..CompileOptions::default()
    };
    let (agree, worst) = batch_agreement("mnist_logreg", 10_000, &options);
    assert!(agree >= 0.995, "{agree}");
    assert!(worst < 1e-3, "{worst}");
}

#[test]
fn tenseal_cnn_batch() {
    // one full batch (4096 of the 10,000 test images; the whole split runs
    // in the encrypted_inference example)
    let options = CompileOptions {
        packing: Packing::Batch,
        ..CompileOptions::default()
    };
    let (agree, worst) = batch_agreement("mnist_cnn_tenseal", 4096, &options);
    assert!(agree >= 0.995, "{agree}");
    assert!(worst < 5e-2, "{worst}");
}

#[test]
fn lenet_per_sample() {
    // LeNet-style: conv + folded batch norm, three squares, two average
    // pools; depth 8, the output modulus takes two primes for the bound
    let graph = onnx::import_file(data("models/mnist_lenet_avgpool.onnx")).unwrap();
    let (cal, _) = mnist(200);
    let server = Server::compile(&graph, &cal, &CompileOptions::default()).unwrap();
    let report = server.report().unwrap();
    assert_eq!(report.depth, 8, "{report}");
    let plan = server.plan();
    let out = plan.output().unwrap();
    assert!(out.bound <= out.capacity && out.capacity > 1e11, "{out:?}");
    let (xs, _) = mnist(2);
    let (agree, worst) = run(&server, &graph, &xs);
    assert_eq!(agree, 1.0);
    assert!(worst < 5e-2, "{worst}");
}

#[test]
fn mlp_with_relu_approximated() {
    // ReLU → degree-31 Chebyshev interpolant on the calibrated range of
    // the hidden layer (its map onto [−1, 1] folded into the first layer);
    // per-sample packing on 4 samples (the batch layout of 2048 samples ran
    // a minute of CI for the same property; batch packing is covered by the
    // CNN and logistic-regression tests)
    let options = CompileOptions::default();
    let graph = onnx::import_file(data("models/mnist_mlp_relu.onnx")).unwrap();
    let (cal, _) = mnist(1000);
    let server = Server::compile(&graph, &cal, &options).unwrap();
    let report = server.report().unwrap();
    eprintln!("{report}");
    let act = &report.activations[0];
    assert_eq!((act.function.as_str(), act.degree), ("Relu", 31));
    let (xs, _) = mnist(4);
    let (agree, worst) = run(&server, &graph, &xs);
    // the logits differ from the exact ReLU network's by the interpolant's
    // error summed over the hidden layer (≈ 0.6 here), not by the
    // encryption; the predicted class is what must survive
    eprintln!("MLP (ReLU): agreement {agree}, worst logit error {worst:e}");
    assert_eq!(agree, 1.0);
}

#[test]
fn report_sizes_match_the_messages() {
    let graph = onnx::import_file(data("models/mnist_cnn_tenseal.onnx")).unwrap();
    let (cal, _) = mnist(50);
    let server = Server::compile(&graph, &cal, &CompileOptions::default()).unwrap();
    let report = server.report().unwrap().clone();
    let mut client = Client::with_rng(server.setup(), ChaCha20Rng::seed_from_u64(3)).unwrap();
    let keys = client.evaluation_keys().unwrap().to_bytes().len() as f64;
    let query = client.encrypt(&cal[0]).unwrap();
    let q = query.to_bytes().len() as f64;
    let parsed = server
        .read_keys(&client.evaluation_keys().unwrap().to_bytes())
        .unwrap();
    let r = server.evaluate(&parsed, &query).unwrap().to_bytes().len() as f64;
    let close = |est: usize, got: f64| (est as f64 - got).abs() <= 0.1 * got;
    assert!(
        close(report.key_bytes, keys),
        "keys {} vs {keys}",
        report.key_bytes
    );
    assert!(
        close(report.query_ciphertext_bytes, q),
        "query {} vs {q}",
        report.query_ciphertext_bytes
    );
    assert!(
        close(report.response_ciphertext_bytes, r),
        "response {} vs {r}",
        report.response_ciphertext_bytes
    );
}

#[test]
fn bad_inputs_get_specific_errors() {
    let graph = onnx::import_file(data("models/mnist_cnn_tenseal.onnx")).unwrap();
    // no calibration data
    assert!(matches!(
        Server::compile(&graph, &[], &CompileOptions::default()),
        Err(Error::Shape(_))
    ));
    // a calibration sample of the wrong size
    assert!(matches!(
        Server::compile(&graph, &[vec![0.0; 10]], &CompileOptions::default()),
        Err(Error::Shape(_))
    ));
    // an input bound the output modulus cannot hold: refused, naming the
    // output layer
    let (cal, _) = mnist(20);
    let huge = CompileOptions {
        max_abs_input: Some(1e12),
        ..CompileOptions::default()
    };
    match Server::compile(&graph, &cal, &huge) {
        Err(Error::PlanOverflow {
            layer,
            bound,
            capacity,
            ..
        }) => {
            assert_eq!(layer, "fc2");
            assert!(bound > capacity);
        }
        other => panic!("expected PlanOverflow, got {other:?}"),
    }
    // a residual branch: named
    let residual = onnx::import_file(data("models/ops_coverage.onnx")).unwrap();
    let cal = vec![vec![0.1; 3 * 9 * 10]];
    match Server::compile(&residual, &cal, &CompileOptions::default()) {
        Err(Error::Unsupported { op, .. }) => assert!(op.contains("branch"), "{op}"),
        other => panic!("expected Unsupported, got {other:?}"),
    }
    // a sample outside the input bound: refused, or clipped on request
    let server = Server::compile(&graph, &cal_or(&graph), &CompileOptions::default()).unwrap();
    let mut client = Client::with_rng(server.setup(), ChaCha20Rng::seed_from_u64(5)).unwrap();
    let mut x = mnist(1).0.remove(0);
    x[100] = 3.0;
    assert!(matches!(client.encrypt(&x), Err(Error::OutOfRange(_))));
    client.set_input_policy(InputPolicy::Clip);
    let keys = server
        .read_keys(&client.evaluation_keys().unwrap().to_bytes())
        .unwrap();
    let query = client.encrypt(&x).unwrap();
    let got = client
        .decrypt(&server.evaluate(&keys, &query).unwrap())
        .unwrap();
    x[100] = 1.0;
    let want = graph.eval(&x).unwrap();
    for (g, w) in got[0].iter().zip(&want) {
        assert!((g - w).abs() < 5e-2, "{g} vs {w}");
    }
}

fn cal_or(_: &ml_he::inference::Graph) -> Vec<Vec<f64>> {
    mnist(50).0
}

#[test]
fn fixed_circuit_models_compile_as_graphs() {
    // the models of the fixed circuits (trained here) as layer graphs: the
    // compiled circuit returns what the fixed one returns
    use ml_he::data;
    use ml_he::model::{Activation, LogisticConfig, LogisticRegression, Mlp, MlpConfig};
    let bc = data::breast_cancer_split(0).unwrap();
    let lr = LogisticRegression::fit(&bc.train, &LogisticConfig::default()).unwrap();
    let graph = lr.to_graph();
    let server = Server::compile(&graph, &bc.train.x, &CompileOptions::default()).unwrap();
    let xs = &bc.test.x[..8];
    let (agree, worst) = run(&server, &graph, xs);
    assert_eq!(agree, 1.0);
    assert!(worst < 1e-3, "{worst}");
    for x in xs {
        assert!((graph.eval(x).unwrap()[0] - lr.logit(x).unwrap()).abs() < 1e-12);
    }
    let dg = data::digits_split(0).unwrap();
    let mlp = Mlp::fit(&dg.train, Activation::Square, &MlpConfig::default()).unwrap();
    let graph = mlp.to_graph();
    for packing in [Packing::PerSample, Packing::Batch] {
        let options = CompileOptions {
            packing,
            ..CompileOptions::default()
        };
        let server = Server::compile(&graph, &dg.train.x, &options).unwrap();
        let xs = &dg.test.x[..64];
        let (agree, worst) = run(&server, &graph, xs);
        assert_eq!(agree, 1.0, "{packing:?}");
        assert!(worst < 1e-2, "{packing:?}: {worst}");
        for x in xs {
            let (g, m) = (graph.eval(x).unwrap(), mlp.logits(x).unwrap());
            assert!(g.iter().zip(&m).all(|(a, b)| (a - b).abs() < 1e-9));
        }
    }
}
