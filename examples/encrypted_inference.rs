//! The main job: encrypted inference of an imported ONNX model on real data.
//!
//! Imports an ONNX model (default: the network of TenSEAL's encrypted-MNIST
//! tutorial, `data/models/mnist_cnn_tenseal.onnx`), compiles it for CKKS
//! (parameters, layouts and rotations chosen by the compiler; the report is
//! printed before anything runs), then runs MNIST test images through it
//! with the roles kept apart: the client encrypts, the server evaluates with
//! public keys only, the client decrypts. Every message crosses as bytes,
//! and the bytes are counted. Both packings: one image per ciphertext
//! (latency) and one image per slot (throughput, the whole test split by
//! default). Encrypted outputs are compared with the graph's plaintext
//! reference evaluator (agreement of the predicted class) and with the
//! labels.
//!
//! ```text
//! cargo run --release --example encrypted_inference
//! cargo run --release --example encrypted_inference -- --model data/models/mnist_lenet_avgpool.onnx --images 4 --batch-images 0
//! cargo run --release --example encrypted_inference -- --images 32 --batch-images 4096
//! ```
//!
//! Any ONNX model that takes a 28×28 MNIST image (pixel / 255, as `[1, 28, 28]`
//! or `[784]`) works; see `ml_he::inference::onnx` for the operators.

use std::time::Instant;

use ml_he::inference::{onnx, Client, CompileOptions, Graph, Packing, Server};
use ml_he::npy;

#[path = "common/mod.rs"]
mod common;
use common::{kb, median, ms, p90, Progress};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

struct Args {
    model: String,
    images: usize,
    batch_images: usize,
    calibration: usize,
}

fn args() -> Res<Args> {
    let mut a = Args {
        model: "data/models/mnist_cnn_tenseal.onnx".into(),
        images: 16,
        batch_images: 10_000,
        calibration: 200,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--model" => a.model = value()?,
            "--images" => a.images = value()?.parse()?,
            "--batch-images" => a.batch_images = value()?.parse()?,
            "--calibration" => a.calibration = value()?.parse()?,
            "-h" | "--help" => {
                println!(
                    "usage: encrypted_inference [--model FILE.onnx] [--images N] [--batch-images N] [--calibration N]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    Ok(a)
}

/// MNIST test images as model inputs (pixel / 255) and their labels.
fn mnist() -> Res<(Vec<Vec<f64>>, Vec<usize>)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/mnist");
    let (shape, px) = npy::read_npy_file(root.join("test_images.npy"))?;
    let (_, labels) = npy::read_npy_file(root.join("test_labels.npy"))?;
    let n: usize = shape[1..].iter().product();
    let xs = px
        .chunks(n)
        .map(|c| c.iter().map(|v| v / 255.0).collect())
        .collect();
    Ok((xs, labels.iter().map(|&l| l as usize).collect()))
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

/// Agreement with the plaintext graph, accuracy, max |output error|.
fn score(
    graph: &Graph,
    xs: &[Vec<f64>],
    labels: &[usize],
    got: &[Vec<f64>],
) -> Res<(usize, usize, f64)> {
    let (mut agree, mut correct, mut worst) = (0, 0, 0f64);
    for ((x, &label), g) in xs.iter().zip(labels).zip(got) {
        let want = graph.eval(x)?;
        let err = want
            .iter()
            .zip(g)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        worst = worst.max(err);
        agree += usize::from(argmax(&want) == argmax(g));
        correct += usize::from(argmax(g) == label);
    }
    Ok((agree, correct, worst))
}

fn main() -> Res<()> {
    let a = args()?;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(&a.model);
    let imported = onnx::import_model_file(&path)?;
    let graph = imported.graph;
    println!(
        "model {} (opset {}): {} nodes, input {:?}, output {:?}{}",
        a.model,
        imported.opset,
        graph.nodes.len(),
        graph.input_shape,
        graph.output_shape()?,
        if imported.post_ops.is_empty() {
            String::new()
        } else {
            format!(", left to the client: {}", imported.post_ops.join(", "))
        }
    );
    let (xs, labels) = mnist()?;
    let cal = &xs[..a.calibration.min(xs.len())];

    if a.images > 0 {
        println!("\n== one image per ciphertext (latency) ==");
        let t = Instant::now();
        let server = Server::compile(&graph, cal, &CompileOptions::default())?;
        println!("compiled in {:.2} s", t.elapsed().as_secs_f64());
        if let Some(r) = server.report() {
            print!("{r}");
        }
        let mut client = Client::new(server.setup())?;
        let t = Instant::now();
        let key_bytes = client.evaluation_keys()?.to_bytes();
        println!(
            "client: evaluation keys {} in {:.2} s (sent once)",
            kb(key_bytes.len()),
            t.elapsed().as_secs_f64()
        );
        let keys = server.read_keys(&key_bytes)?;
        let n = a.images.min(xs.len());
        let (mut enc, mut eval, mut dec) = (Vec::new(), Vec::new(), Vec::new());
        let (mut up, mut down) = (0, 0);
        let mut got = Vec::with_capacity(n);
        let mut bar = Progress::new("per-sample images", n);
        for x in &xs[..n] {
            let t = Instant::now();
            let q = client.encrypt(x)?.to_bytes();
            enc.push(ms(t.elapsed()));
            let t = Instant::now();
            let r = server.evaluate_bytes(&keys, &q)?;
            eval.push(ms(t.elapsed()));
            let t = Instant::now();
            got.push(client.decrypt_bytes(&r)?.remove(0));
            dec.push(ms(t.elapsed()));
            up = q.len();
            down = r.len();
            bar.tick();
        }
        let (agree, correct, worst) = score(&graph, &xs[..n], &labels[..n], &got)?;
        println!(
            "{n} images: encrypt {:.1} ms, server {:.1} ms (p90 {:.1}), decrypt {:.2} ms per image (medians, {} threads)",
            median(&mut enc),
            median(&mut eval),
            p90(&mut eval),
            median(&mut dec),
            rayon::current_num_threads()
        );
        println!(
            "bytes per image: {} up, {} down; agreement with plaintext {agree}/{n}, accuracy {correct}/{n}, max |Δ output| {worst:.2e}",
            kb(up),
            kb(down)
        );
    }

    if a.batch_images > 0 {
        println!("\n== one image per slot (throughput) ==");
        let options = CompileOptions {
            packing: Packing::Batch,
            ..CompileOptions::default()
        };
        let server = Server::compile(&graph, cal, &options)?;
        if let Some(r) = server.report() {
            print!("{r}");
        }
        let mut client = Client::new(server.setup())?;
        let keys = server.read_keys(&client.evaluation_keys()?.to_bytes())?;
        let n = a.batch_images.min(xs.len());
        let slots = server.parameters().slots();
        let (mut up, mut down) = (0usize, 0usize);
        let (mut t_enc, mut t_eval, mut t_dec) = (0.0, 0.0, 0.0);
        let mut got = Vec::with_capacity(n);
        let chunks: Vec<&[Vec<f64>]> = xs[..n].chunks(slots).collect();
        let mut bar = Progress::new("batches", chunks.len());
        for batch in chunks {
            let t = Instant::now();
            let q = client.encrypt_batch(batch)?.to_bytes();
            t_enc += t.elapsed().as_secs_f64();
            let t = Instant::now();
            let r = server.evaluate_bytes(&keys, &q)?;
            t_eval += t.elapsed().as_secs_f64();
            let t = Instant::now();
            got.extend(client.decrypt_bytes(&r)?);
            t_dec += t.elapsed().as_secs_f64();
            up += q.len();
            down += r.len();
            bar.tick();
        }
        let (agree, correct, worst) = score(&graph, &xs[..n], &labels[..n], &got)?;
        println!(
            "{n} images in batches of {slots}: encrypt {:.1} s, server {:.1} s ({:.2} ms per image), decrypt {:.2} s",
            t_enc,
            t_eval,
            1e3 * t_eval / n as f64,
            t_dec
        );
        println!(
            "bytes: {} up, {} down in all; agreement with plaintext {agree}/{n} ({:.2} %), accuracy {correct}/{n} ({:.2} %), max |Δ output| {worst:.2e}",
            kb(up),
            kb(down),
            100.0 * agree as f64 / n as f64,
            100.0 * correct as f64 / n as f64
        );
    }
    Ok(())
}
