//! Encrypted inference (`ml_he::inference`): latency per sample (per-sample
//! packing: client encrypt → bytes, server evaluate bytes → bytes, client
//! decrypt bytes → scores, and the three end to end) and batch throughput
//! (batch packing, full ciphertexts: 2048 samples for the logistic
//! regression, 4096 for the MLP) for both models of the example:
//! logistic regression on breast cancer (30 features) and the 64→32→10
//! square-activation MLP on digits.
//!
//! Peer (TenSEAL, `shared/peers/results_ml.txt`, same machine): LR 4.6 +
//! 48.5 + 0.6 ms, MLP 4.3 + 349 + 0.4 ms per sample.
//!
//! ```text
//! cargo bench --bench ml
//! RAYON_NUM_THREADS=1 cargo bench --bench ml
//! RAYON_NUM_THREADS=1 cargo bench --bench ml -- onnx-cnn   # the TenSEAL CNN only
//! ```
//!
//! The aggregation benches (10 clients × 100,000 floats) live in
//! `benches/ml_aggregation.rs`; further groups can be added to
//! `criterion_main!` below next to `inference`.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ml_he::data;
use ml_he::inference::{Client, LogisticOutput, Packing, Server};
use ml_he::model::{Activation, LogisticConfig, LogisticRegression, Mlp, MlpConfig};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

fn models() -> (data::Split, LogisticRegression, data::Split, Mlp) {
    let bc = data::breast_cancer_split(0).expect("breast cancer");
    let lr = LogisticRegression::fit(&bc.train, &LogisticConfig::default()).expect("train lr");
    let dg = data::digits_split(0).expect("digits");
    let mlp = Mlp::fit(&dg.train, Activation::Square, &MlpConfig::default()).expect("train mlp");
    (bc, lr, dg, mlp)
}

fn latency(c: &mut Criterion, name: &str, server: &Server, xs: &[Vec<f64>]) {
    let mut client =
        Client::with_rng(server.setup(), ChaCha20Rng::seed_from_u64(1)).expect("client");
    let keys = server
        .read_keys(&client.evaluation_keys().expect("keys").to_bytes())
        .expect("read keys");
    let x = &xs[0];
    let q = client.encrypt(x).expect("encrypt").to_bytes();
    let r = server.evaluate_bytes(&keys, &q).expect("evaluate");
    let mut g = c.benchmark_group(format!("inference/{name}/per-sample"));
    g.sample_size(20)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_millis(500));
    g.bench_function("encrypt", |b| {
        b.iter(|| client.encrypt(x).expect("encrypt").to_bytes())
    });
    g.bench_function("evaluate", |b| {
        b.iter(|| server.evaluate_bytes(&keys, &q).expect("evaluate"))
    });
    g.bench_function("decrypt", |b| {
        b.iter(|| client.decrypt_bytes(&r).expect("decrypt"))
    });
    let mut i = 0usize;
    g.bench_function("end-to-end", |b| {
        b.iter(|| {
            i = (i + 1) % xs.len();
            let q = client.encrypt(&xs[i]).expect("encrypt").to_bytes();
            let r = server.evaluate_bytes(&keys, &q).expect("evaluate");
            client.decrypt_bytes(&r).expect("decrypt")
        })
    });
    g.finish();
    eprintln!(
        "{name} per-sample: {} B client → server, {} B server → client",
        q.len(),
        r.len()
    );
}

fn throughput(c: &mut Criterion, name: &str, server: &Server, xs: &[Vec<f64>]) {
    let mut client =
        Client::with_rng(server.setup(), ChaCha20Rng::seed_from_u64(2)).expect("client");
    let keys = server
        .read_keys(&client.evaluation_keys().expect("keys").to_bytes())
        .expect("read keys");
    let slots = server.parameters().slots();
    let batch: Vec<Vec<f64>> = (0..slots).map(|i| xs[i % xs.len()].clone()).collect();
    let q = client.encrypt_batch(&batch).expect("encrypt").to_bytes();
    let r = server.evaluate_bytes(&keys, &q).expect("evaluate");
    let mut g = c.benchmark_group(format!("inference/{name}/batch-{slots}"));
    g.sample_size(10)
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_millis(500))
        .throughput(Throughput::Elements(slots as u64));
    g.bench_function("encrypt", |b| {
        b.iter(|| client.encrypt_batch(&batch).expect("encrypt").to_bytes())
    });
    g.bench_function("evaluate", |b| {
        b.iter(|| server.evaluate_bytes(&keys, &q).expect("evaluate"))
    });
    g.bench_function("decrypt", |b| {
        b.iter(|| client.decrypt_bytes(&r).expect("decrypt"))
    });
    g.finish();
    eprintln!(
        "{name} batch of {slots}: {} B client → server, {} B server → client",
        q.len(),
        r.len()
    );
}

fn inference_benches(c: &mut Criterion) {
    let (bc, lr, dg, mlp) = models();
    let lr_sample = Server::logistic(&lr, Packing::PerSample).expect("server");
    latency(c, "logistic", &lr_sample, &bc.test.x);
    let (lo, hi) = lr.logit_range(&bc.train).expect("range");
    let sig = LogisticOutput::Sigmoid {
        range: lo.abs().max(hi.abs()),
        degree: 3,
    };
    let lr_sig = Server::logistic_with(&lr, Packing::PerSample, sig).expect("server");
    latency(c, "logistic-sigmoid3", &lr_sig, &bc.test.x);
    let lr_batch = Server::logistic(&lr, Packing::Batch).expect("server");
    throughput(c, "logistic", &lr_batch, &bc.test.x);
    let mlp_sample = Server::mlp(&mlp, Packing::PerSample).expect("server");
    latency(c, "mlp-64-32-10", &mlp_sample, &dg.test.x);
    let mlp_batch = Server::mlp(&mlp, Packing::Batch).expect("server");
    throughput(c, "mlp-64-32-10", &mlp_batch, &dg.test.x);
}

/// The first `n` MNIST test images as model inputs (pixel / 255).
fn mnist(n: usize) -> Vec<Vec<f64>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/mnist");
    let (shape, px) = ml_he::npy::read_npy_file(root.join("test_images.npy")).expect("mnist");
    let d: usize = shape[1..].iter().product();
    px.chunks(d)
        .take(n)
        .map(|c| c.iter().map(|v| v / 255.0).collect())
        .collect()
}

/// Imported ONNX models through the compiler: the network of TenSEAL's
/// encrypted-MNIST tutorial (peer: `benches/peers/tenseal_convmnist.py`,
/// results in `docs/peers/tenseal_convmnist_t1.txt`).
fn onnx_benches(c: &mut Criterion) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/models");
    let graph =
        ml_he::inference::onnx::import_file(root.join("mnist_cnn_tenseal.onnx")).expect("import");
    let xs = mnist(256);
    let options = ml_he::inference::CompileOptions::default();
    let server = Server::compile(&graph, &xs, &options).expect("compile");
    latency(c, "onnx-cnn-tenseal", &server, &xs);
    let batch = ml_he::inference::CompileOptions {
        packing: Packing::Batch,
        ..options
    };
    let server = Server::compile(&graph, &xs, &batch).expect("compile");
    throughput(c, "onnx-cnn-tenseal", &server, &xs);
}

criterion_group!(inference, inference_benches);
criterion_group!(onnx, onnx_benches);
criterion_main!(inference, onnx);
