//! Known-answer tests of the layer semantics against small cases computed
//! by hand, of validation, of affine folding and of erf.

#![allow(clippy::unwrap_used)]

use super::*;

fn node(name: &str, op: Op, inputs: Vec<ValueId>, shape: Vec<usize>) -> Node {
    Node {
        name: name.into(),
        op,
        inputs,
        shape,
    }
}

fn one(input_shape: Vec<usize>, n: Node) -> Graph {
    Graph {
        input_shape,
        nodes: vec![n],
        output: 1,
    }
}

fn close(a: &[f64], b: &[f64], tol: f64) {
    assert_eq!(a.len(), b.len(), "{a:?} vs {b:?}");
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= tol, "{a:?} vs {b:?}");
    }
}

const X33: [f64; 9] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0];

/// 3×3 input 1..9, 2×2 kernel [[1, 2], [3, 4]], stride 2, padding 1 on every
/// side, bias 0.5. The padded input is 5×5, the output 2×2; each window
/// starts at input (2·oh − 1, 2·ow − 1):
/// (0,0) sees only x(0,0)=1 under k(1,1)=4 → 4;
/// (0,1) sees x(0,1)=2, x(0,2)=3 under k(1,0)=3, k(1,1)=4 → 18;
/// (1,0) sees x(1,0)=4, x(2,0)=7 under k(0,1)=2, k(1,1)=4 → 36;
/// (1,1) sees 5, 6, 8, 9 under 1, 2, 3, 4 → 77. Plus the bias.
#[test]
fn conv_stride2_pad1_by_hand() {
    let conv = Op::Conv {
        weights: vec![1.0, 2.0, 3.0, 4.0],
        bias: vec![0.5],
        kernel: [2, 2],
        stride: [2, 2],
        pads: [1, 1, 1, 1],
        groups: 1,
    };
    let g = one(vec![1, 3, 3], node("c", conv, vec![0], vec![1, 2, 2]));
    close(&g.eval(&X33).unwrap(), &[4.5, 18.5, 36.5, 77.5], 0.0);
    close(
        &g.eval_node(0, &[&X33]).unwrap(),
        &[4.5, 18.5, 36.5, 77.5],
        0.0,
    );
}

/// Two input channels, two output channels, a 1×1 kernel: at every pixel
/// the output is `W·x + b`, as a dense layer per pixel. Asymmetric padding
/// (bottom 1, right 0) adds a row of bias only.
#[test]
fn conv_multichannel_and_asymmetric_pads() {
    let conv = Op::Conv {
        weights: vec![1.0, -1.0, 2.0, 3.0],
        bias: vec![0.0, 1.0],
        kernel: [1, 1],
        stride: [1, 1],
        pads: [0, 0, 1, 0],
        groups: 1,
    };
    let g = one(vec![2, 1, 2], node("c", conv, vec![0], vec![2, 2, 2]));
    // channel 0 = [1, 2], channel 1 = [10, 20]
    let y = g.eval(&[1.0, 2.0, 10.0, 20.0]).unwrap();
    // out0 = x0 − x1, out1 = 2·x0 + 3·x1 + 1; the padded row gives the bias
    close(&y, &[-9.0, -18.0, 0.0, 0.0, 33.0, 65.0, 1.0, 1.0], 0.0);
}

/// Depthwise (groups = C): channel c is convolved with its own kernel only.
#[test]
fn conv_depthwise() {
    let conv = Op::Conv {
        weights: vec![1.0, 1.0, 2.0, -1.0],
        bias: vec![0.0, 0.0],
        kernel: [1, 2],
        stride: [1, 1],
        pads: [0; 4],
        groups: 2,
    };
    let g = one(vec![2, 1, 3], node("dw", conv, vec![0], vec![2, 1, 2]));
    let y = g.eval(&[1.0, 2.0, 3.0, 10.0, 20.0, 40.0]).unwrap();
    close(&y, &[3.0, 5.0, 0.0, 0.0], 0.0);
}

/// The same 3×3 input, 2×2 pool, stride 2, padding 1: windows hold
/// {1}, {2, 3}, {4, 7}, {5, 6, 8, 9}.
#[test]
fn avgpool_by_hand() {
    for (include, want) in [
        (true, [0.25, 1.25, 2.75, 7.0]),
        (false, [1.0, 2.5, 5.5, 7.0]),
    ] {
        let op = Op::AvgPool {
            kernel: [2, 2],
            stride: [2, 2],
            pads: [1, 1, 1, 1],
            count_include_pad: include,
        };
        let g = one(vec![1, 3, 3], node("p", op, vec![0], vec![1, 2, 2]));
        close(&g.eval(&X33).unwrap(), &want, 1e-15);
    }
    // no padding, stride 1: the four 2×2 means
    let op = Op::AvgPool {
        kernel: [2, 2],
        stride: [1, 1],
        pads: [0; 4],
        count_include_pad: false,
    };
    let g = one(vec![1, 3, 3], node("p", op, vec![0], vec![1, 2, 2]));
    close(&g.eval(&X33).unwrap(), &[3.0, 4.0, 6.0, 7.0], 1e-15);
}

#[test]
fn global_avgpool_dense_affine_by_hand() {
    let g = one(
        vec![2, 2, 2],
        node("gap", Op::GlobalAvgPool, vec![0], vec![2, 1, 1]),
    );
    close(
        &g.eval(&[1.0, 2.0, 3.0, 4.0, 0.0, 0.0, 0.0, 8.0]).unwrap(),
        &[2.5, 2.0],
        0.0,
    );

    let dense = Op::Dense {
        weights: vec![1.0, 2.0, 3.0, -1.0, 0.0, 1.0],
        bias: vec![0.5, -0.5],
    };
    let g = one(vec![3], node("fc", dense, vec![0], vec![2]));
    close(&g.eval(&[1.0, 1.0, 2.0]).unwrap(), &[9.5, 0.5], 0.0);

    // per channel over [2, 1, 2], and one entry for all
    let affine = Op::Affine {
        scale: vec![2.0, -1.0],
        shift: vec![1.0, 0.0],
    };
    let g = one(vec![2, 1, 2], node("bn", affine, vec![0], vec![2, 1, 2]));
    close(
        &g.eval(&[1.0, 2.0, 3.0, 4.0]).unwrap(),
        &[3.0, 5.0, -3.0, -4.0],
        0.0,
    );
    let affine = Op::Affine {
        scale: vec![0.5],
        shift: vec![-1.0],
    };
    let g = one(vec![3], node("mul", affine, vec![0], vec![3]));
    close(&g.eval(&[2.0, 4.0, 6.0]).unwrap(), &[0.0, 1.0, 2.0], 0.0);
}

#[test]
fn elementwise_ops_and_eval_all() {
    let g = Graph {
        input_shape: vec![3],
        nodes: vec![
            node("sq", Op::Square, vec![0], vec![3]),
            node("relu", Op::Activation(Activation::Relu), vec![0], vec![3]),
            node("add", Op::Add, vec![1, 2], vec![3]),
            node(
                "poly",
                Op::Polynomial(vec![1.0, 0.0, 2.0]),
                vec![3],
                vec![3],
            ),
            node("flat", Op::Reshape, vec![4], vec![1, 3]),
        ],
        output: 3,
    };
    let all = g.eval_all(&[-1.0, 0.0, 2.0]).unwrap();
    assert_eq!(all.len(), 6);
    close(&all[3], &[1.0, 0.0, 6.0], 0.0);
    close(&all[4], &[3.0, 1.0, 73.0], 0.0);
    close(&all[5], &all[4], 0.0);
    close(&g.eval(&[-1.0, 0.0, 2.0]).unwrap(), &[1.0, 0.0, 6.0], 0.0);
}

#[test]
fn activations() {
    let s = Activation::Sigmoid;
    close(
        &[s.apply(0.0), s.apply(-800.0), s.apply(800.0)],
        &[0.5, 0.0, 1.0],
        0.0,
    );
    close(&[Activation::Tanh.apply(0.5)], &[0.5f64.tanh()], 0.0);
    // x·Φ(x), Φ(1) = 0.8413447460685429, Φ(−2) = 0.022750131948179195
    let g = Activation::Gelu;
    close(
        &[g.apply(1.0), g.apply(-2.0)],
        &[0.8413447460685429, -0.04550026389635839],
        1e-15,
    );
}

/// Reference values of erf and erfc (CPython's `math.erf`, `math.erfc`).
#[test]
fn erf_known_values() {
    let cases = [
        (1e-3, 0.0011283787909692365),
        (0.1, 0.1124629160182849),
        (0.5, 0.5204998778130465),
        (1.0, 0.8427007929497149),
        (1.5, 0.9661051464753108),
        (2.0, 0.9953222650189527),
        (2.5, 0.999593047982555),
        (2.9, 0.9999589021219005),
        (2.999, 0.9999777698314002),
        (3.0, 0.9999779095030014),
        (3.001, 0.9999780483390822),
        (3.5, 0.9999992569016276),
        (4.0, 0.9999999845827421),
        (5.0, 0.9999999999984626),
        (6.0, 1.0),
        (-0.7, -0.6778011938374184),
    ];
    for (x, want) in cases {
        assert!(
            (erf(x) - want).abs() <= 1e-15,
            "erf({x}) = {} ≠ {want}",
            erf(x)
        );
    }
    assert_eq!(erf(0.0), 0.0);
    assert_eq!(erf(f64::INFINITY), 1.0);
    assert_eq!(erf(-40.0), -1.0);
    assert!(erf(f64::NAN).is_nan());
    // 1 − erf near the switch to the continued fraction matches erfc
    assert!(((1.0 - erf(3.0)) - 2.2090496998585438e-05).abs() < 1e-16);
    assert!(((1.0 - erf(4.0)) - 1.541725790028002e-08).abs() < 1e-16);
}

fn shape_error_names(g: &Graph, name: &str) {
    match g.validate() {
        Err(Error::Shape(m)) => assert!(m.contains(name), "{m}"),
        other => panic!("expected a shape error naming {name}, got {other:?}"),
    }
}

#[test]
fn malformed_graphs_are_shape_errors() {
    let dense = |w: usize, b: usize| Op::Dense {
        weights: vec![1.0; w],
        bias: vec![0.0; b],
    };
    // weight length
    shape_error_names(
        &one(vec![3], node("fc1", dense(5, 2), vec![0], vec![2])),
        "fc1",
    );
    // bias length vs shape
    shape_error_names(
        &one(vec![3], node("fc2", dense(6, 2), vec![0], vec![3])),
        "fc2",
    );
    // reads a later value
    shape_error_names(
        &one(vec![3], node("late", Op::Square, vec![1], vec![3])),
        "late",
    );
    // wrong arity
    shape_error_names(&one(vec![3], node("add", Op::Add, vec![0], vec![3])), "add");
    // conv on a flat input, conv of the wrong output shape, kernel larger than input
    let conv = |k: usize| Op::Conv {
        weights: vec![1.0; k * k],
        bias: vec![0.0],
        kernel: [k, k],
        stride: [1, 1],
        pads: [0; 4],
        groups: 1,
    };
    shape_error_names(
        &one(vec![9], node("c1", conv(2), vec![0], vec![1, 2, 2])),
        "c1",
    );
    shape_error_names(
        &one(vec![1, 3, 3], node("c2", conv(2), vec![0], vec![1, 3, 3])),
        "c2",
    );
    shape_error_names(
        &one(vec![1, 3, 3], node("c3", conv(4), vec![0], vec![1, 0, 0])),
        "c3",
    );
    let zero_stride = Op::AvgPool {
        kernel: [2, 2],
        stride: [0, 1],
        pads: [0; 4],
        count_include_pad: true,
    };
    shape_error_names(
        &one(
            vec![1, 3, 3],
            node("p0", zero_stride, vec![0], vec![1, 2, 2]),
        ),
        "p0",
    );
    let bad_groups = Op::Conv {
        weights: vec![1.0; 4],
        bias: vec![0.0; 3],
        kernel: [1, 1],
        stride: [1, 1],
        pads: [0; 4],
        groups: 2,
    };
    shape_error_names(
        &one(vec![2, 1, 1], node("g", bad_groups, vec![0], vec![3, 1, 1])),
        "g",
    );
    let affine = Op::Affine {
        scale: vec![1.0; 2],
        shift: vec![0.0],
    };
    shape_error_names(&one(vec![3], node("aff", affine, vec![0], vec![3])), "aff");
    shape_error_names(
        &one(vec![3], node("nan", dense(6, 2), vec![0], vec![2])).tap_nan(),
        "nan",
    );
    // output out of range
    let mut g = one(vec![3], node("sq", Op::Square, vec![0], vec![3]));
    g.output = 2;
    assert!(matches!(g.validate(), Err(Error::Shape(_))));
    assert!(matches!(g.eval(&[1.0; 3]), Err(Error::Shape(_))));
    // wrong input length, wrong node index, wrong input count
    g.output = 1;
    assert!(matches!(g.eval(&[1.0; 2]), Err(Error::Shape(_))));
    assert!(matches!(g.eval_node(1, &[&[1.0; 3]]), Err(Error::Shape(_))));
    assert!(matches!(g.eval_node(0, &[&[1.0; 2]]), Err(Error::Shape(_))));
    assert!(matches!(g.eval_node(0, &[]), Err(Error::Shape(_))));
}

trait TapNan {
    fn tap_nan(self) -> Self;
}

impl TapNan for Graph {
    fn tap_nan(mut self) -> Self {
        if let Op::Dense { weights, .. } = &mut self.nodes[0].op {
            weights[1] = f64::NAN;
        }
        self
    }
}

fn lcg(seed: &mut u64) -> f64 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    ((*seed >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
}

/// Conv → BatchNorm (as Affine) → ReLU → Dense → Mul (one-entry Affine) →
/// Dense, a residual Add, Dense → Affine (the output): the three affines
/// fold into the layers before them, the graph loses three nodes and gives
/// the same outputs; an affine whose layer has a second reader stays.
#[test]
fn affine_folding_keeps_outputs() {
    let mut s = 7u64;
    let mut r = |n: usize| (0..n).map(|_| lcg(&mut s)).collect::<Vec<_>>();
    let conv = Op::Conv {
        weights: r(3 * 2 * 2 * 2),
        bias: r(3),
        kernel: [2, 2],
        stride: [1, 1],
        pads: [1, 0, 0, 1],
        groups: 1,
    };
    let bn = Op::Affine {
        scale: r(3),
        shift: r(3),
    };
    let g0 = Graph {
        input_shape: vec![2, 3, 3],
        nodes: vec![
            node("conv", conv, vec![0], vec![3, 3, 3]),
            node("bn", bn, vec![1], vec![3, 3, 3]),
            node(
                "relu",
                Op::Activation(Activation::Relu),
                vec![2],
                vec![3, 3, 3],
            ),
            node("flat", Op::Reshape, vec![3], vec![27]),
            node(
                "fc1",
                Op::Dense {
                    weights: r(4 * 27),
                    bias: r(4),
                },
                vec![4],
                vec![4],
            ),
            node(
                "mul",
                Op::Affine {
                    scale: vec![0.5],
                    shift: vec![0.25],
                },
                vec![5],
                vec![4],
            ),
            node(
                "fc2",
                Op::Dense {
                    weights: r(16),
                    bias: r(4),
                },
                vec![6],
                vec![4],
            ),
            node("res", Op::Add, vec![7, 6], vec![4]),
            node(
                "fc3",
                Op::Dense {
                    weights: r(8),
                    bias: r(2),
                },
                vec![8],
                vec![2],
            ),
            node(
                "scale",
                Op::Affine {
                    scale: vec![2.0, 3.0],
                    shift: vec![1.0, 0.0],
                },
                vec![9],
                vec![2],
            ),
        ],
        output: 10,
    };
    let mut g = g0.clone();
    // bn → conv, mul → fc1, scale → fc3 (fc2's output is read twice: kept)
    assert_eq!(g.fold_affine().unwrap(), 3);
    assert_eq!(g.nodes.len(), g0.nodes.len() - 3);
    g.validate().unwrap();
    assert_eq!(g.nodes[0].name, "conv+bn");
    assert_eq!(g.nodes.last().map(|n| n.name.as_str()), Some("fc3+scale"));
    for _ in 0..5 {
        let x = r(18);
        close(&g.eval(&x).unwrap(), &g0.eval(&x).unwrap(), 1e-12);
    }
    // the layer is read by the affine and by the Add: nothing folds
    let mut h = Graph {
        input_shape: vec![3],
        nodes: vec![
            node(
                "fc",
                Op::Dense {
                    weights: r(6),
                    bias: r(2),
                },
                vec![0],
                vec![2],
            ),
            node(
                "aff",
                Op::Affine {
                    scale: vec![2.0],
                    shift: vec![1.0],
                },
                vec![1],
                vec![2],
            ),
            node("res", Op::Add, vec![1, 2], vec![2]),
        ],
        output: 3,
    };
    let before = h.clone();
    assert_eq!(h.fold_affine().unwrap(), 0);
    assert_eq!(h, before);
}
