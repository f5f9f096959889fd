//! Encrypted inference of imported ONNX models through the graph compiler:
//! encrypted outputs against the graph's plaintext reference evaluator
//! (itself checked against onnxruntime in `onnx_import.rs`).

use ml_he::inference::{onnx, Client, CompileOptions, Packing, Server};
use ml_he::npy;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

fn data(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../data").join(rel)
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
        .fold((0, f64::NEG_INFINITY), |b, (i, &x)| if x > b.1 { (i, x) } else { b })
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
        Packing::Batch => xs.len(),
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
    assert!(worst < 1e-2, "{worst}");
}
