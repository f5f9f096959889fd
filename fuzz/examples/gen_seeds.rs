//! Writes the seed corpus: for every target and every object kind, the
//! valid serialized object (raw mode) and a few structured-mode edits of it.
//!
//! `cargo run --release --example gen_seeds -- [OUT_DIR]` (default `seeds`).

use std::fs;
use std::path::Path;

use hekit_fuzz::{fixtures, raw_seed, structured_seeds};

fn write(dir: &Path, target: &str, seeds: Vec<(String, Vec<u8>)>) {
    let d = dir.join(target);
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).expect("create seed directory");
    let mut total = 0;
    for (name, bytes) in &seeds {
        total += bytes.len();
        fs::write(d.join(name), bytes).expect("write seed");
    }
    println!("{target}: {} seeds, {total} bytes", seeds.len());
}

/// Raw seeds for each `(kind, bytes)` whose size is at most `raw_max`
/// bytes, and structured seeds for every kind.
fn seeds(
    kinds: &[&str],
    valid: impl Fn(usize) -> Vec<u8>,
    raw_max: usize,
) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut seen: Vec<Vec<u8>> = Vec::new();
    for (k, _) in kinds.iter().enumerate() {
        let v = valid(k);
        // One raw copy of each distinct object (the structured seeds of the
        // other kinds start from it anyway).
        if v.len() <= raw_max && !seen.contains(&v) {
            out.push((format!("raw-k{k}"), raw_seed(k as u8, &v)));
            seen.push(v);
        }
        for (i, s) in structured_seeds(k as u8).into_iter().enumerate() {
            out.push((format!("st-k{k}-{i}"), s));
        }
    }
    out
}

fn main() {
    let out = std::env::args().nth(1).unwrap_or_else(|| "seeds".into());
    let dir = Path::new(&out);
    const BIG: usize = 256 << 10;

    let fx = fixtures::rlwe();
    let names = [
        "params N=2048 insecure",
        "params N=4096",
        "params N=2048 192-bit",
    ];
    write(
        dir,
        "rlwe_params",
        seeds(&names, |k| fx.params_bytes[k].clone(), BIG),
    );
    write(
        dir,
        "rlwe_objects",
        seeds(&fixtures::RLWE_KINDS, |k| fx.bytes[k].clone(), BIG),
    );
    let fx = fixtures::bfv();
    write(
        dir,
        "bfv_decrypt",
        seeds(&fixtures::BFV_KINDS, |k| fx.bytes[k].clone(), BIG),
    );
    let fx = fixtures::ckks();
    write(
        dir,
        "ckks_decrypt",
        seeds(&fixtures::CKKS_KINDS, |k| fx.bytes[k].clone(), BIG),
    );
    let fx = fixtures::paillier();
    write(
        dir,
        "paillier_serial",
        seeds(&fixtures::PAILLIER_KINDS, |k| fx.bytes[k].clone(), BIG),
    );
    let fx = fixtures::threshold();
    write(
        dir,
        "threshold_wire",
        seeds(&fixtures::THRESHOLD_KINDS, |k| fx.valid(k), BIG),
    );
    let fx = fixtures::tpaillier();
    write(
        dir,
        "threshold_paillier",
        seeds(&fixtures::TPAILLIER_KINDS, |k| fx.bytes[k].clone(), BIG),
    );
    let fx = fixtures::agg();
    write(
        dir,
        "mlhe_aggregation",
        seeds(&fixtures::AGG_KINDS, |k| fx.valid(k).to_vec(), BIG),
    );
    let fx = fixtures::pagg();
    write(
        dir,
        "mlhe_paillier_aggregation",
        seeds(&fixtures::PAGG_KINDS, |k| fx.valid(k).to_vec(), BIG),
    );
    let fx = fixtures::inference();
    let mut inf = seeds(&fixtures::INFERENCE_KINDS, |k| fx.bytes[k].clone(), BIG);
    inf.extend(setup_edges(&fx.bytes[0]));
    write(dir, "mlhe_inference", inf);
    let fx = fixtures::testing();
    write(
        dir,
        "mlhe_testing",
        seeds(&fixtures::TESTING_KINDS, |k| fx.valid(k).to_vec(), BIG),
    );
}

/// Public setups at the edges of validation (overflowing products, empty
/// or huge shapes, levels above the chain): raw seeds for `mlhe_inference`.
fn setup_edges(valid: &[u8]) -> Vec<(String, Vec<u8>)> {
    use ml_he::inference::{InputLayout, ModelShape, PublicSetup};
    let base = PublicSetup::from_bytes(valid).expect("valid setup");
    let mut edits: Vec<PublicSetup> = Vec::new();
    let mut s = base.clone();
    s.shape = ModelShape::Mlp {
        inputs: 1,
        hidden: 1,
        outputs: 1 << 40,
    };
    s.output_stride = 1 << 40;
    edits.push(s);
    let mut s = base.clone();
    s.input_layout = InputLayout::RotatedBlocks { block: usize::MAX };
    edits.push(s);
    let mut s = base.clone();
    s.shape = ModelShape::Logistic { features: 0 };
    edits.push(s);
    let mut s = base.clone();
    s.input_level = usize::MAX;
    edits.push(s);
    let mut s = base.clone();
    s.degree = 1 << 17;
    s.rotations = vec![i64::MIN, i64::MAX, 0];
    edits.push(s);
    let mut s = base;
    s.input_scale = f64::MAX;
    s.max_abs_input = f64::MIN_POSITIVE;
    edits.push(s);
    edits
        .into_iter()
        .enumerate()
        .map(|(i, s)| (format!("edge-setup-{i}"), raw_seed(0, &s.to_bytes())))
        .collect()
}
