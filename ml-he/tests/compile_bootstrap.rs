//! Graphs deeper than the chain, compiled with bootstraps
//! ([`Bootstrapping::Always`] on the N = 2^12 test ring with
//! `SecurityLevel::None` — a small ring for fast tests, not a secure
//! parameter set), run encrypted on the digits data and compared with the
//! graph's plaintext reference evaluator within a bound derived from the
//! bootstrap's precision; where the compiler puts the bootstraps; and the
//! errors for missing or malformed bootstrapping keys and setups.

#![allow(clippy::unwrap_used)]

use ml_he::inference::graph::{Graph, Node, Op};
use ml_he::inference::{
    BootstrapOptions, BootstrapRing, Bootstrapping, Client, CompileOptions, EvaluationKeys,
    PublicSetup, Server,
};
use ml_he::Error;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

/// The test ring with `levels` levels between bootstraps, scale 2^40.
fn options(levels: usize) -> CompileOptions {
    CompileOptions {
        max_abs_input: Some(1.0),
        bootstrap: Bootstrapping::Always(BootstrapOptions {
            ring: BootstrapRing::TestN4096Insecure,
            scale_bits: 40,
            levels: Some(levels),
        }),
        ..CompileOptions::default()
    }
}

/// A dense layer reading value `input` (`n_in` wide), weights uniform in
/// `±gain/n_in·2` (row sums of |w| about `gain`), biases in ±0.05.
fn dense(
    name: &str,
    input: usize,
    n_in: usize,
    n_out: usize,
    gain: f64,
    r: &mut ChaCha20Rng,
) -> Node {
    let w = 2.0 * gain / n_in as f64;
    Node {
        name: name.into(),
        op: Op::Dense {
            weights: (0..n_in * n_out).map(|_| r.gen_range(-w..w)).collect(),
            bias: (0..n_out).map(|_| r.gen_range(-0.05..0.05)).collect(),
        },
        inputs: vec![input],
        shape: vec![n_out],
    }
}

fn elementwise(name: &str, input: usize, op: Op, n: usize) -> Node {
    Node {
        name: name.into(),
        op,
        inputs: vec![input],
        shape: vec![n],
    }
}

/// The activation of `deep_mlp`: `p(x) = x + 0.1·x² − 0.05·x³`.
const POLY: [f64; 4] = [0.0, 1.0, 0.1, -0.05];

/// 64 → 16 → 16 → 16 → 10 with a square, the polynomial and a square:
/// depth 8 (the polynomial takes two levels). `fc1`'s rows sum to about 3
/// in absolute value, so its square reaches 9 on the box `[−1, 1]^64`: the
/// first bootstrap needs its values divided (through the square).
fn deep_mlp() -> Graph {
    let mut r = ChaCha20Rng::seed_from_u64(17);
    let nodes = vec![
        dense("fc1", 0, 64, 16, 3.0, &mut r),
        elementwise("sq1", 1, Op::Square, 16),
        dense("fc2", 2, 16, 16, 0.2, &mut r),
        elementwise("act2", 3, Op::Polynomial(POLY.to_vec()), 16),
        dense("fc3", 4, 16, 16, 0.5, &mut r),
        elementwise("sq3", 5, Op::Square, 16),
        dense("fc4", 6, 16, 10, 1.0, &mut r),
    ];
    Graph {
        input_shape: vec![64],
        output: nodes.len(),
        nodes,
    }
}

fn digits() -> ml_he::data::Split {
    ml_he::data::digits_split(0).unwrap()
}

/// `(kind, level)` of every step of the report.
fn steps(server: &Server) -> Vec<(String, usize)> {
    server
        .report()
        .unwrap()
        .steps
        .iter()
        .map(|s| (s.kind.clone(), s.level))
        .collect()
}

/// A bound on the error of the encrypted output of `deep_mlp` for input
/// `x`, propagated step by step on the reference values `v` (an error `e`
/// on the input of a step becomes, on its output: `‖W‖∞·e` for a dense
/// layer, `2|v|·e + e²` for a square, `Σ|c_k|((|v|+e)^k − |v|^k)` for the
/// polynomial), plus at each step the CKKS noise `eta` and at each
/// bootstrap `2^-22·B` (`B` its range from the report; 2^-22 is the bound
/// `ckks/tests/bootstrap.rs` asserts per bootstrap on this chain, 4 bits
/// above the worst slot measured at Δ = 2^40 with `q_0` of 50 bits).
fn error_bound(graph: &Graph, x: &[f64], boots: &[(usize, f64)], eta: f64) -> f64 {
    let values = graph.eval_all(x).unwrap();
    let mut e = eta; // fresh encryption
    for (i, node) in graph.nodes.iter().enumerate() {
        let v = &values[i]; // the node's input
        e = match &node.op {
            Op::Dense { weights, .. } => {
                let n_in = v.len();
                weights
                    .chunks(n_in)
                    .map(|row| row.iter().map(|w| w.abs()).sum::<f64>())
                    .fold(0.0, f64::max)
                    * e
            }
            Op::Square => v
                .iter()
                .map(|a| 2.0 * a.abs() * e + e * e)
                .fold(0.0, f64::max),
            Op::Polynomial(c) => v
                .iter()
                .map(|a| {
                    c.iter()
                        .enumerate()
                        .map(|(k, ck)| {
                            ck.abs() * ((a.abs() + e).powi(k as i32) - a.abs().powi(k as i32))
                        })
                        .sum::<f64>()
                })
                .fold(0.0, f64::max),
            _ => unreachable!("deep_mlp has dense, square and polynomial nodes"),
        } + eta;
        // a bootstrap after node i
        if let Some(&(_, range)) = boots.iter().find(|b| b.0 == i + 1) {
            e += 2f64.powi(-22) * range;
        }
    }
    e
}

/// The compiler's placement on the 3-level test chain: `fc1 sq1 | fc2 act2
/// | fc3 sq3 fc4` — two bootstraps, the second before `fc3` and not
/// before `act2` (a polynomial needs its input at full scale), each back
/// on level 3; then encrypted inference of a digits test image against
/// the reference evaluator, within the derived bound.
#[test]
fn deep_mlp_bootstraps_and_matches_the_reference() {
    let graph = deep_mlp();
    let data = digits();
    let server = Server::compile(&graph, &data.train.x[..200], &options(3)).unwrap();
    let report = server.report().unwrap();
    println!("{report}");
    assert_eq!(report.depth, 8);
    let b = report.bootstrap.as_ref().unwrap();
    assert_eq!((b.count, b.levels, b.slots, b.secure), (2, 3, 2048, false));
    let kinds: Vec<(String, usize)> = steps(&server);
    let want = [
        ("linear (diagonals)", 3),
        ("square", 2),
        ("bootstrap", 1),
        ("linear (diagonals)", 3),
        ("polynomial", 2),
        ("bootstrap", 0),
        ("linear (diagonals)", 3),
        ("square", 2),
        ("linear (diagonals)", 1),
    ];
    assert_eq!(
        kinds
            .iter()
            .map(|(k, l)| (k.as_str(), *l))
            .collect::<Vec<_>>(),
        want
    );
    // the ranges B (values ÷ B on the way into each bootstrap): at least
    // the interval bound X of the values there (the plan's bootstrap
    // stages), and below 4X (a power of two on the step that sets the
    // scale, squared through sq1 for the first; up to the primes' drift)
    let ranges: Vec<(usize, f64)> = report
        .steps
        .iter()
        .filter_map(|s| s.range)
        .zip([2usize, 4])
        .map(|(r, at)| (at, r))
        .collect();
    let xs_at: Vec<f64> = server
        .plan()
        .stages
        .iter()
        .filter(|st| st.layer.starts_with("bootstrap"))
        .map(|st| st.bound)
        .collect();
    println!("bootstrap ranges {ranges:?}, value bounds {xs_at:?}");
    assert_eq!(xs_at.len(), 2);
    for (&(_, b), &x) in ranges.iter().zip(&xs_at) {
        assert!(
            x <= b && b < 4.0 * x.max(1.0),
            "range {b} for values up to {x}"
        );
    }
    assert!(ranges[0].1 > 8.0, "sq1 needs a divisor: {ranges:?}");
    for st in &server.plan().stages {
        assert!(st.bound <= st.capacity, "{st:?}");
    }

    // client: opts in to the insecure test ring; keys travel as bytes
    let setup = PublicSetup::from_bytes(&server.setup().to_bytes()).unwrap();
    assert!(matches!(
        Client::with_rng(&setup, ChaCha20Rng::seed_from_u64(1)),
        Err(Error::Insecure(_))
    ));
    let mut client = Client::with_min_security(
        &setup,
        ChaCha20Rng::seed_from_u64(2),
        ckks::SecurityLevel::None,
    )
    .unwrap();
    let t = std::time::Instant::now();
    let keys = client.evaluation_keys().unwrap();
    assert!(keys.relin.is_none(), "the bootstrapping keys' one serves");
    let key_bytes = keys.to_bytes();
    println!(
        "keys: {:.1} MB in {:.1?} (report: {:.1} MB)",
        key_bytes.len() as f64 / 1e6,
        t.elapsed(),
        report.key_bytes as f64 / 1e6
    );
    let close = (report.key_bytes as f64 / key_bytes.len() as f64 - 1.0).abs();
    assert!(close < 0.1, "key size estimate off by {close}");
    let keys = server.read_keys(&key_bytes).unwrap();

    // one image here (per-sample packing bootstraps each sample's
    // ciphertext); the batch test below takes all 360
    let xs = &data.test.x[..1];
    let t = std::time::Instant::now();
    let query = client.encrypt_batch(xs).unwrap().to_bytes();
    let got = client
        .decrypt_bytes(&server.evaluate_bytes(&keys, &query).unwrap())
        .unwrap();
    println!(
        "{} samples, 2 bootstraps each: {:.1?}",
        xs.len(),
        t.elapsed()
    );
    let eta = 2f64.powi(-30) * 16.0;
    for (x, g) in xs.iter().zip(&got) {
        let want = graph.eval(x).unwrap();
        let err = want
            .iter()
            .zip(g)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        let bound = error_bound(&graph, x, &ranges, eta);
        println!(
            "max |encrypted − reference| = 2^{:.2} (bound 2^{:.2}), outputs up to {:.3}",
            err.log2(),
            bound.log2(),
            want.iter().fold(0.0f64, |m, v| m.max(v.abs()))
        );
        assert!(
            bound < 2f64.powi(-16),
            "the bound itself: 2^{}",
            bound.log2()
        );
        assert!(
            err <= bound,
            "error 2^{} above the bound 2^{}",
            err.log2(),
            bound.log2()
        );
    }

    // the same keys without the bootstrapping keys: refused before anything
    // runs, naming them
    let partial = EvaluationKeys {
        relin: keys.bootstrap.as_ref().map(|b| b.rlk.clone()),
        galois: keys.galois.clone(),
        bootstrap: None,
    };
    match server.evaluate(&partial, &server.read_query(&query).unwrap()) {
        Err(Error::Malformed { what, reason }) => {
            assert_eq!(what, "evaluation keys");
            assert!(reason.contains("bootstrapping"), "{reason}");
        }
        other => panic!("expected Malformed, got {other:?}"),
    }
    // garbled bootstrapping keys: the last residue of the message (the
    // bootstrapping keys come last) above every modulus
    let mut bad = key_bytes.clone();
    let n = bad.len();
    bad[n - 9..n - 1].fill(0xff);
    let r = server.read_keys(&bad);
    assert!(
        matches!(
            r,
            Err(Error::Ckks(ckks::Error::Rlwe(
                rlwe::Error::Malformed { .. }
            )))
        ),
        "{:?}",
        r.err()
    );
    // truncated: malformed
    assert!(matches!(
        server.read_keys(&key_bytes[..n / 2]),
        Err(Error::Malformed { .. })
    ));
}

/// Batch packing (one image per slot, one ciphertext per tensor element):
/// `fc1 sq1 fc2 | sq2 fc3` on 3 levels, one bootstrap of each of `fc2`'s
/// two ciphertexts, with a square right after it; the 360 digits test
/// images in one query, each within the derived bound.
#[test]
fn batch_packing_bootstraps_every_ciphertext() {
    let mut r = ChaCha20Rng::seed_from_u64(23);
    let nodes = vec![
        dense("fc1", 0, 64, 2, 3.0, &mut r),
        elementwise("sq1", 1, Op::Square, 2),
        dense("fc2", 2, 2, 2, 1.0, &mut r),
        elementwise("sq2", 3, Op::Square, 2),
        dense("fc3", 4, 2, 1, 1.0, &mut r),
    ];
    let graph = Graph {
        input_shape: vec![64],
        output: nodes.len(),
        nodes,
    };
    let data = digits();
    let opts = CompileOptions {
        packing: ml_he::inference::Packing::Batch,
        ..options(3)
    };
    let server = Server::compile(&graph, &data.train.x[..200], &opts).unwrap();
    let report = server.report().unwrap();
    println!("{report}");
    let kinds: Vec<(String, usize)> = steps(&server);
    let kinds: Vec<(&str, usize)> = kinds.iter().map(|(k, l)| (k.as_str(), *l)).collect();
    assert_eq!(
        kinds,
        [
            ("linear (weighted sums)", 3),
            ("square", 2),
            ("linear (weighted sums)", 1),
            ("bootstrap", 0),
            ("square", 3),
            ("linear (weighted sums)", 2),
        ]
    );
    let range = report.steps[3].range.unwrap();
    let mut client = Client::with_min_security(
        server.setup(),
        ChaCha20Rng::seed_from_u64(3),
        ckks::SecurityLevel::None,
    )
    .unwrap();
    let keys = server
        .read_keys(&client.evaluation_keys().unwrap().to_bytes())
        .unwrap();
    let xs = &data.test.x;
    let t = std::time::Instant::now();
    let query = client.encrypt_batch(xs).unwrap().to_bytes();
    let got = client
        .decrypt_bytes(&server.evaluate_bytes(&keys, &query).unwrap())
        .unwrap();
    println!(
        "{} images, 2 ciphertexts bootstrapped: {:.1?}",
        xs.len(),
        t.elapsed()
    );
    let eta = 2f64.powi(-30) * range.max(1.0);
    let mut worst = (0f64, 0f64);
    for (x, g) in xs.iter().zip(&got) {
        let want = graph.eval(x).unwrap();
        let err = (want[0] - g[0]).abs();
        let bound = error_bound(&graph, x, &[(3, range)], eta);
        assert!(
            bound < 2f64.powi(-16),
            "the bound itself: 2^{}",
            bound.log2()
        );
        assert!(
            err <= bound,
            "error 2^{} above the bound 2^{}",
            err.log2(),
            bound.log2()
        );
        if err > worst.0 {
            worst = (err, bound);
        }
    }
    println!(
        "range {range:.3}: worst |encrypted − reference| over {} images 2^{:.2} (its bound 2^{:.2})",
        xs.len(),
        worst.0.log2(),
        worst.1.log2()
    );
}

/// Twelve one-level steps on 4 levels: bootstraps before steps 4 and 8
/// (levels 0 → 4), none when the chain holds the whole circuit; a linear
/// block and its polynomial deeper than the levels between bootstraps are
/// refused, naming them.
#[test]
fn bootstraps_go_where_the_levels_run_out() {
    let mut r = ChaCha20Rng::seed_from_u64(5);
    let mut nodes = Vec::new();
    for i in 0..6 {
        nodes.push(dense(&format!("fc{i}"), 2 * i, 8, 8, 1.0, &mut r));
        nodes.push(elementwise(&format!("sq{i}"), 2 * i + 1, Op::Square, 8));
    }
    let graph = Graph {
        input_shape: vec![8],
        output: nodes.len(),
        nodes,
    };
    let cal = vec![vec![0.5; 8]];
    let server = Server::compile(&graph, &cal, &options(4)).unwrap();
    let report = server.report().unwrap();
    println!("{report}");
    let boots: Vec<(usize, usize)> = report
        .steps
        .iter()
        .enumerate()
        .filter(|(_, s)| s.kind == "bootstrap")
        .map(|(i, s)| (i, s.level))
        .collect();
    // report rows: 4 steps, bootstrap, 4 steps, bootstrap, 4 steps
    assert_eq!(boots, vec![(4, 0), (9, 0)]);
    assert_eq!(report.steps[5].level, 4, "back on the top user level");
    assert_eq!(report.bootstrap.as_ref().unwrap().count, 2);
    // a chain that holds all 12 levels: no bootstrap
    let server = Server::compile(&graph, &cal, &options(12)).unwrap();
    assert_eq!(
        server.report().unwrap().bootstrap.as_ref().unwrap().count,
        0
    );
    // fc2 + act2 of deep_mlp need 3 levels: refused on 2
    let data = digits();
    match Server::compile(&deep_mlp(), &data.train.x[..20], &options(2)) {
        Err(Error::TooDeep {
            layer,
            bits,
            max_bits,
            degree,
            ..
        }) => {
            assert_eq!(layer, "fc2, act2");
            assert_eq!((bits, max_bits, degree), (120, 80, 4096));
        }
        other => panic!("expected TooDeep, got {:?}", other.map(|_| ())),
    }
}

/// Setups a client must refuse before building anything: a bootstrapping
/// configuration that makes no sense, and the format before bootstrapping.
#[test]
fn bad_bootstrapping_setups_are_refused() {
    let data = digits();
    let server = Server::compile(&deep_mlp(), &data.train.x[..20], &options(3)).unwrap();
    let mut setup = server.setup().clone();
    setup.bootstrap.as_mut().unwrap().slots = 3;
    match PublicSetup::from_bytes(&setup.to_bytes()) {
        Err(Error::Malformed { what, reason }) => {
            assert_eq!(what, "public setup");
            assert!(reason.contains("bootstrapping slots"), "{reason}");
        }
        other => panic!("expected Malformed, got {other:?}"),
    }
    // level budgets beyond the chain, or so few levels that the client
    // would encode transforms of thousands of diagonals (11 FFT stages in
    // one level)
    for levels in [1000, 1] {
        let mut setup = server.setup().clone();
        setup.bootstrap.as_mut().unwrap().coeffs_to_slots_levels = levels;
        match PublicSetup::from_bytes(&setup.to_bytes()) {
            Err(Error::Malformed { reason, .. }) => {
                assert!(reason.contains("level budgets"), "{reason}")
            }
            other => panic!("expected Malformed, got {other:?}"),
        }
    }
    let mut old = server.setup().to_bytes();
    old[7] = b'2';
    match PublicSetup::from_bytes(&old) {
        Err(Error::Malformed { reason, .. }) => {
            assert!(reason.starts_with("format version 2"), "{reason}")
        }
        other => panic!("expected Malformed, got {other:?}"),
    }
}
