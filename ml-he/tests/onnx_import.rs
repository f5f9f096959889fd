//! ONNX import: models built here in code (every operator the importer
//! translates, checked against the layer semantics computed independently),
//! the fixtures of `data/models/` (exported by PyTorch / skl2onnx, compared
//! with onnxruntime's outputs), unsupported operators, and bytes that are
//! not a model (they give `Error::Onnx`, never a panic).

#![allow(clippy::unwrap_used)]

use ml_he::inference::graph::{Activation, Graph, Op};
use ml_he::inference::onnx::{self, proto as pb, Imported};
use ml_he::{npy, Error};
use proptest::prelude::*;
use prost::Message;

// ---------------------------------------------------------------- builders

fn attr_i(name: &str, i: i64) -> pb::AttributeProto {
    pb::AttributeProto {
        name: Some(name.into()),
        i: Some(i),
        r#type: Some(pb::attribute_proto::AttributeType::Int as i32),
        ..Default::default()
    }
}

fn attr_f(name: &str, f: f32) -> pb::AttributeProto {
    pb::AttributeProto {
        name: Some(name.into()),
        f: Some(f),
        r#type: Some(pb::attribute_proto::AttributeType::Float as i32),
        ..Default::default()
    }
}

fn attr_ints(name: &str, v: &[i64]) -> pb::AttributeProto {
    pb::AttributeProto {
        name: Some(name.into()),
        ints: v.to_vec(),
        r#type: Some(pb::attribute_proto::AttributeType::Ints as i32),
        ..Default::default()
    }
}

fn attr_floats(name: &str, v: &[f32]) -> pb::AttributeProto {
    pb::AttributeProto {
        name: Some(name.into()),
        floats: v.to_vec(),
        r#type: Some(pb::attribute_proto::AttributeType::Floats as i32),
        ..Default::default()
    }
}

fn attr_s(name: &str, s: &str) -> pb::AttributeProto {
    pb::AttributeProto {
        name: Some(name.into()),
        s: Some(s.as_bytes().to_vec()),
        r#type: Some(pb::attribute_proto::AttributeType::String as i32),
        ..Default::default()
    }
}

fn node(
    op: &str,
    name: &str,
    ins: &[&str],
    outs: &[&str],
    attrs: Vec<pb::AttributeProto>,
) -> pb::NodeProto {
    pb::NodeProto {
        op_type: Some(op.into()),
        name: Some(name.into()),
        input: ins.iter().map(|s| s.to_string()).collect(),
        output: outs.iter().map(|s| s.to_string()).collect(),
        attribute: attrs,
        ..Default::default()
    }
}

fn ml(mut n: pb::NodeProto) -> pb::NodeProto {
    n.domain = Some("ai.onnx.ml".into());
    n
}

/// A float32 initializer (values in `float_data`).
fn init_f32(name: &str, dims: &[i64], v: &[f64]) -> pb::TensorProto {
    pb::TensorProto {
        name: Some(name.into()),
        dims: dims.to_vec(),
        data_type: Some(pb::tensor_proto::DataType::Float as i32),
        float_data: v.iter().map(|&x| x as f32).collect(),
        ..Default::default()
    }
}

/// A float64 initializer in `raw_data` (little-endian).
fn init_f64_raw(name: &str, dims: &[i64], v: &[f64]) -> pb::TensorProto {
    pb::TensorProto {
        name: Some(name.into()),
        dims: dims.to_vec(),
        data_type: Some(pb::tensor_proto::DataType::Double as i32),
        raw_data: Some(v.iter().flat_map(|x| x.to_le_bytes()).collect()),
        ..Default::default()
    }
}

fn init_i64(name: &str, v: &[i64]) -> pb::TensorProto {
    pb::TensorProto {
        name: Some(name.into()),
        dims: vec![v.len() as i64],
        data_type: Some(pb::tensor_proto::DataType::Int64 as i32),
        int64_data: v.to_vec(),
        ..Default::default()
    }
}

fn value_info(name: &str, dims: &[Option<i64>]) -> pb::ValueInfoProto {
    use pb::tensor_shape_proto::{dimension::Value, Dimension};
    pb::ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(pb::TypeProto {
            value: Some(pb::type_proto::Value::TensorType(pb::type_proto::Tensor {
                elem_type: Some(pb::tensor_proto::DataType::Float as i32),
                shape: Some(pb::TensorShapeProto {
                    dim: dims
                        .iter()
                        .map(|d| Dimension {
                            value: Some(match d {
                                Some(v) => Value::DimValue(*v),
                                None => Value::DimParam("N".into()),
                            }),
                            ..Default::default()
                        })
                        .collect(),
                }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn model(
    input: (&str, &[Option<i64>]),
    outputs: &[&str],
    nodes: Vec<pb::NodeProto>,
    inits: Vec<pb::TensorProto>,
    opset: i64,
) -> Vec<u8> {
    pb::ModelProto {
        ir_version: Some(8),
        producer_name: Some("hekit-tests".into()),
        // the default domain last: every strict prefix of the bytes then
        // lacks it (or is cut inside a message), so no prefix is a model
        opset_import: vec![
            pb::OperatorSetIdProto {
                domain: Some("ai.onnx.ml".into()),
                version: Some(1),
            },
            pb::OperatorSetIdProto {
                domain: Some(String::new()),
                version: Some(opset),
            },
        ],
        graph: Some(pb::GraphProto {
            name: Some("g".into()),
            node: nodes,
            initializer: inits,
            input: vec![value_info(input.0, input.1)],
            output: outputs.iter().map(|o| value_info(o, &[])).collect(),
            ..Default::default()
        }),
        ..Default::default()
    }
    .encode_to_vec()
}

fn close(got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
    for (i, (a, b)) in got.iter().zip(want).enumerate() {
        assert!(
            (a - b).abs() <= tol * (1.0 + b.abs()),
            "entry {i}: {a} vs {b}\n{got:?}\n{want:?}"
        );
    }
}

fn lcg(seed: &mut u64) -> f64 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    ((*seed >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
}

fn rand_vec(seed: &mut u64, n: usize) -> Vec<f64> {
    (0..n).map(|_| lcg(seed)).collect()
}

/// Rounds to float32, as weights stored in float32 initializers are.
fn f32r(v: &[f64]) -> Vec<f64> {
    v.iter().map(|&x| x as f32 as f64).collect()
}

// ---------------------------------------------------------------- CNN in code

/// Conv (stride 2, pads 1) → BatchNormalization → Relu → AveragePool →
/// Flatten → Gemm (transB) → Softmax, on a `[N, 2, 6, 6]` input, checked
/// against a direct computation; the BatchNorm is folded into the conv and
/// the Softmax is reported, not imported.
#[test]
fn cnn_in_code_matches_direct_computation() {
    let mut s = 11u64;
    let wc = f32r(&rand_vec(&mut s, 3 * 2 * 3 * 3));
    let bc = f32r(&rand_vec(&mut s, 3));
    let gamma = f32r(&rand_vec(&mut s, 3));
    let beta = f32r(&rand_vec(&mut s, 3));
    let mean = f32r(&rand_vec(&mut s, 3));
    let var: Vec<f64> = f32r(
        &rand_vec(&mut s, 3)
            .iter()
            .map(|v| v.abs() + 0.5)
            .collect::<Vec<_>>(),
    );
    let wf = rand_vec(&mut s, 4 * 12);
    let bf = rand_vec(&mut s, 4);
    let bytes = model(
        ("x", &[None, Some(2), Some(6), Some(6)]),
        &["probs"],
        vec![
            node(
                "Conv",
                "conv1",
                &["x", "wc", "bc"],
                &["c"],
                vec![
                    attr_ints("strides", &[2, 2]),
                    attr_ints("pads", &[1, 1, 1, 1]),
                    attr_ints("kernel_shape", &[3, 3]),
                ],
            ),
            node(
                "BatchNormalization",
                "bn1",
                &["c", "gamma", "beta", "mean", "var"],
                &["b"],
                vec![attr_f("epsilon", 1e-3)],
            ),
            node("Relu", "relu1", &["b"], &["r"], vec![]),
            node(
                "AveragePool",
                "pool1",
                &["r"],
                &["p"],
                vec![
                    attr_ints("kernel_shape", &[2, 2]),
                    attr_ints("strides", &[1, 1]),
                ],
            ),
            node("Flatten", "flat", &["p"], &["f"], vec![attr_i("axis", 1)]),
            node(
                "Gemm",
                "fc",
                &["f", "wf", "bf"],
                &["logits"],
                vec![
                    attr_i("transB", 1),
                    attr_f("alpha", 0.5),
                    attr_f("beta", 2.0),
                ],
            ),
            node(
                "Softmax",
                "sm",
                &["logits"],
                &["probs"],
                vec![attr_i("axis", 1)],
            ),
        ],
        vec![
            init_f32("wc", &[3, 2, 3, 3], &wc),
            init_f32("bc", &[3], &bc),
            init_f32("gamma", &[3], &gamma),
            init_f32("beta", &[3], &beta),
            init_f32("mean", &[3], &mean),
            init_f32("var", &[3], &var),
            init_f64_raw("wf", &[4, 12], &wf),
            init_f64_raw("bf", &[4], &bf),
        ],
        13,
    );
    let m = onnx::import_model(&bytes).unwrap();
    assert_eq!(m.graph.input_shape, vec![2, 6, 6]);
    assert_eq!(m.input_name, "x");
    assert_eq!(m.output_name, "logits");
    assert_eq!(m.onnx_outputs, vec!["probs".to_string()]);
    assert_eq!(m.post_ops, vec!["Softmax (node `sm`)".to_string()]);
    assert_eq!(m.opset, 13);
    let names: Vec<&str> = m.graph.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["conv1+bn1", "relu1", "pool1", "flat", "fc"]);
    assert_eq!(m.graph.nodes[2].shape, vec![3, 2, 2]);

    for _ in 0..3 {
        let x = rand_vec(&mut s, 72);
        // direct: conv 3×3 stride 2 pad 1 → [3, 3, 3]
        let mut c = vec![0.0; 27];
        for co in 0..3 {
            for oh in 0..3 {
                for ow in 0..3 {
                    let mut acc = bc[co];
                    for ci in 0..2 {
                        for ki in 0..3 {
                            for kj in 0..3 {
                                let (ih, iw) = (2 * oh + ki, 2 * ow + kj);
                                if (1..=6).contains(&ih) && (1..=6).contains(&iw) {
                                    acc += wc[((co * 2 + ci) * 3 + ki) * 3 + kj]
                                        * x[(ci * 6 + ih - 1) * 6 + iw - 1];
                                }
                            }
                        }
                    }
                    let bn =
                        gamma[co] * (acc - mean[co]) / (var[co] + 1e-3f32 as f64).sqrt() + beta[co];
                    c[(co * 3 + oh) * 3 + ow] = bn.max(0.0);
                }
            }
        }
        let mut p = [0.0; 12];
        for ch in 0..3 {
            for oh in 0..2 {
                for ow in 0..2 {
                    let at = |i: usize, j: usize| c[(ch * 3 + oh + i) * 3 + ow + j];
                    p[(ch * 2 + oh) * 2 + ow] = (at(0, 0) + at(0, 1) + at(1, 0) + at(1, 1)) / 4.0;
                }
            }
        }
        let want: Vec<f64> = (0..4)
            .map(|o| 0.5 * (0..12).map(|i| wf[o * 12 + i] * p[i]).sum::<f64>() + 2.0 * bf[o])
            .collect();
        close(&m.graph.eval(&x).unwrap(), &want, 1e-12);
    }
}

/// MatMul + Add bias, Sub / Div / Mul by constants, a residual Add, Mul(x,
/// x), Pow(x, 2), Sigmoid / Tanh / Gelu, Reshape with 0 and −1, Identity,
/// Dropout, Constant, GlobalAveragePool, a depthwise Conv: every value
/// against a direct computation.
#[test]
fn elementwise_and_shape_ops() {
    let mut s = 5u64;
    let w = rand_vec(&mut s, 8 * 4);
    let b = rand_vec(&mut s, 4);
    let dw = rand_vec(&mut s, 8); // [2, 1, 2, 2]
    let bytes = model(
        ("x", &[Some(1), Some(2), Some(2), Some(2)]),
        &["out"],
        vec![
            node(
                "Conv",
                "dw",
                &["x", "dw"],
                &["c"],
                vec![attr_i("group", 2), attr_s("auto_pad", "SAME_UPPER")],
            ),
            node("Identity", "id", &["c"], &["c1"], vec![]),
            node(
                "Constant",
                "k",
                &[],
                &["shape"],
                vec![pb::AttributeProto {
                    name: Some("value".into()),
                    t: Some(init_i64("", &[0, -1])),
                    ..Default::default()
                }],
            ),
            node("Reshape", "rs", &["c1", "shape"], &["flat"], vec![]),
            node("MatMul", "mm", &["flat", "w"], &["mmo"], vec![]),
            node("Add", "bias", &["mmo", "b"], &["h"], vec![]),
            node("Sub", "sub", &["h", "three"], &["h1"], vec![]),
            node("Div", "div", &["h1", "two"], &["h2"], vec![]),
            node("Dropout", "drop", &["h2"], &["h3"], vec![]),
            node("Mul", "sq", &["h3", "h3"], &["q"], vec![]),
            node("Pow", "pw", &["h3", "two"], &["q2"], vec![]),
            node("Add", "res", &["q", "q2"], &["r"], vec![]),
            node("Sigmoid", "sig", &["r"], &["g1"], vec![]),
            node("Tanh", "tanh", &["h3"], &["g2"], vec![]),
            node("Add", "res2", &["g1", "g2"], &["g3"], vec![]),
            node("Gelu", "gelu", &["g3"], &["g4"], vec![]),
            node("Mul", "scale", &["three", "g4"], &["out"], vec![]),
        ],
        vec![
            init_f64_raw("dw", &[2, 1, 2, 2], &dw),
            init_f64_raw("w", &[8, 4], &w),
            init_f64_raw("b", &[4], &b),
            init_f64_raw("three", &[], &[3.0]),
            init_f64_raw("two", &[1], &[2.0]),
        ],
        20,
    );
    let g = onnx::import(&bytes).unwrap();
    let x = rand_vec(&mut s, 8);
    // depthwise 2×2, SAME_UPPER on 2×2: pads bottom/right 1
    let mut c = [0.0; 8];
    for ch in 0..2 {
        for oh in 0..2 {
            for ow in 0..2 {
                let mut acc = 0.0;
                for ki in 0..2 {
                    for kj in 0..2 {
                        let (ih, iw) = (oh + ki, ow + kj);
                        if ih < 2 && iw < 2 {
                            acc += dw[(ch * 2 + ki) * 2 + kj] * x[(ch * 2 + ih) * 2 + iw];
                        }
                    }
                }
                c[(ch * 2 + oh) * 2 + ow] = acc;
            }
        }
    }
    let h3: Vec<f64> = (0..4)
        .map(|o| ((0..8).map(|i| c[i] * w[i * 4 + o]).sum::<f64>() + b[o] - 3.0) / 2.0)
        .collect();
    let want: Vec<f64> = h3
        .iter()
        .map(|&h| {
            let g3 = 1.0 / (1.0 + (-2.0 * h * h).exp()) + h.tanh();
            3.0 * Activation::Gelu.apply(g3)
        })
        .collect();
    close(&g.eval(&x).unwrap(), &want, 1e-12);
    // the bias, Sub and Div fold into the MatMul's dense layer
    assert!(
        g.nodes.iter().any(|n| n.name == "mm+bias+sub+div"),
        "{:#?}",
        g.nodes
    );
    assert!(g.nodes.iter().any(|n| matches!(n.op, Op::Square)));

    // GlobalAveragePool
    let bytes = model(
        ("x", &[None, Some(2), Some(2), Some(2)]),
        &["y"],
        vec![
            node("GlobalAveragePool", "gap", &["x"], &["g"], vec![]),
            node("Flatten", "f", &["g"], &["y"], vec![]),
        ],
        vec![],
        13,
    );
    let g = onnx::import(&bytes).unwrap();
    close(
        &g.eval(&[1.0, 2.0, 3.0, 4.0, 0.0, 0.0, 0.0, 2.0]).unwrap(),
        &[2.5, 0.5],
        0.0,
    );
}

/// skl2onnx's shapes: Scaler → LinearClassifier (binary: one coefficient
/// row, two classes → scores [−z, z]) → Normalizer → ZipMap, and a
/// multiclass one with SOFTMAX; LinearRegressor.
#[test]
fn sklearn_operators() {
    let classifier = |coef: &[f32], icpt: &[f32], labels: &[i64], pt: &str| {
        model(
            ("x", &[None, Some(3)]),
            &["label", "probabilities"],
            vec![
                ml(node(
                    "Scaler",
                    "scaler",
                    &["x"],
                    &["xs"],
                    vec![
                        attr_floats("offset", &[1.0, 2.0, 3.0]),
                        attr_floats("scale", &[0.5, 0.25, 2.0]),
                    ],
                )),
                ml(node(
                    "LinearClassifier",
                    "lc",
                    &["xs"],
                    &["label", "scores"],
                    vec![
                        attr_floats("coefficients", coef),
                        attr_floats("intercepts", icpt),
                        attr_ints("classlabels_ints", labels),
                        attr_s("post_transform", pt),
                        attr_i("multi_class", 0),
                    ],
                )),
                ml(node(
                    "Normalizer",
                    "norm",
                    &["scores"],
                    &["pn"],
                    vec![attr_s("norm", "L1")],
                )),
                ml(node("ZipMap", "zip", &["pn"], &["probabilities"], vec![])),
            ],
            vec![],
            13,
        )
    };
    let x = [2.0, 6.0, 2.5];
    let xs = [(2.0 - 1.0) * 0.5, (6.0 - 2.0) * 0.25, (2.5 - 3.0) * 2.0];
    let m =
        onnx::import_model(&classifier(&[1.0, -2.0, 0.5], &[0.25], &[0, 1], "LOGISTIC")).unwrap();
    let z = xs[0] - 2.0 * xs[1] + 0.5 * xs[2] + 0.25;
    close(&m.graph.eval(&x).unwrap(), &[-z, z], 1e-12);
    assert_eq!(
        m.post_ops,
        [
            "LinearClassifier label (argmax) (node `lc`)",
            "LinearClassifier post_transform LOGISTIC (node `lc`)",
            "Normalizer (node `norm`)",
            "ZipMap (node `zip`)",
        ]
    );
    assert!(
        matches!(m.graph.nodes[0].op, Op::Affine { .. }),
        "the scaler"
    );
    assert!(
        matches!(m.graph.nodes[1].op, Op::Dense { .. }),
        "the scores"
    );

    let coef = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
    let m =
        onnx::import_model(&classifier(&coef, &[0.0, 1.0, 2.0], &[0, 1, 2], "SOFTMAX")).unwrap();
    close(
        &m.graph.eval(&x).unwrap(),
        &[xs[0], xs[1] + 1.0, xs[2] + 2.0],
        1e-12,
    );

    let reg = model(
        ("x", &[None, Some(3)]),
        &["variable"],
        vec![ml(node(
            "LinearRegressor",
            "lr",
            &["x"],
            &["variable"],
            vec![
                attr_floats("coefficients", &[1.0, 2.0, 3.0]),
                attr_floats("intercepts", &[0.5]),
            ],
        ))],
        vec![],
        13,
    );
    close(
        &onnx::import(&reg).unwrap().eval(&x).unwrap(),
        &[2.0 + 12.0 + 7.5 + 0.5],
        1e-12,
    );
}

// ---------------------------------------------------------------- refused

fn unsupported(bytes: &[u8]) -> (String, String) {
    match onnx::import(bytes) {
        Err(Error::Unsupported { op, node }) => (op, node),
        other => panic!("expected Unsupported, got {other:?}"),
    }
}

fn onnx_err(bytes: &[u8]) -> String {
    match onnx::import(bytes) {
        Err(Error::Onnx(m)) => m,
        other => panic!("expected Error::Onnx, got {other:?}"),
    }
}

fn single(op: pb::NodeProto, inits: Vec<pb::TensorProto>, opset: i64) -> Vec<u8> {
    model(
        ("x", &[None, Some(1), Some(4), Some(4)]),
        &["y"],
        vec![op],
        inits,
        opset,
    )
}

#[test]
fn unsupported_operators_are_named() {
    let mp = single(
        node(
            "MaxPool",
            "pool7",
            &["x"],
            &["y"],
            vec![attr_ints("kernel_shape", &[2, 2])],
        ),
        vec![],
        13,
    );
    assert_eq!(unsupported(&mp), ("MaxPool".into(), "pool7".into()));
    let e = onnx::import(&mp).unwrap_err().to_string();
    assert!(e.contains("MaxPool") && e.contains("pool7"), "{e}");

    let w = init_f32("w", &[1, 1, 2, 2], &[1.0; 4]);
    let dil = single(
        node(
            "Conv",
            "c",
            &["x", "w"],
            &["y"],
            vec![attr_ints("dilations", &[2, 2])],
        ),
        vec![w.clone()],
        13,
    );
    assert!(unsupported(&dil).0.contains("dilations"));
    let ceil = single(
        node(
            "AveragePool",
            "ap",
            &["x"],
            &["y"],
            vec![attr_ints("kernel_shape", &[2, 2]), attr_i("ceil_mode", 1)],
        ),
        vec![],
        13,
    );
    assert!(unsupported(&ceil).0.contains("ceil_mode"));
    let gelu = single(
        node(
            "Gelu",
            "g",
            &["x"],
            &["y"],
            vec![attr_s("approximate", "tanh")],
        ),
        vec![],
        20,
    );
    assert!(unsupported(&gelu).0.contains("tanh"));
    // a Softmax in the middle of the graph
    let mid = model(
        ("x", &[None, Some(3)]),
        &["y"],
        vec![
            node("Softmax", "sm", &["x"], &["s"], vec![]),
            node("Relu", "after", &["s"], &["y"], vec![]),
        ],
        vec![],
        13,
    );
    let (op, n) = unsupported(&mid);
    assert!(op.contains("Relu after Softmax") && n == "after", "{op}");
    // a node without a name is named after its operator and position
    let anon = single(node("LRN", "", &["x"], &["y"], vec![]), vec![], 13);
    assert_eq!(unsupported(&anon), ("LRN".into(), "LRN_0".into()));
}

#[test]
fn malformed_models_are_onnx_errors() {
    let ok = single(node("Relu", "r", &["x"], &["y"], vec![]), vec![], 13);
    onnx::import(&ok).unwrap();
    // opset below 13
    let old = single(node("Relu", "r", &["x"], &["y"], vec![]), vec![], 11);
    assert!(onnx_err(&old).contains("opset 11"));
    // missing initializer
    let missing = single(
        node("Conv", "c", &["x", "nowhere"], &["y"], vec![]),
        vec![],
        13,
    );
    assert!(onnx_err(&missing).contains("nowhere"));
    // initializer of the wrong length
    let short = single(
        node("Conv", "c", &["x", "w"], &["y"], vec![]),
        vec![init_f32("w", &[1, 1, 2, 2], &[1.0; 3])],
        13,
    );
    assert!(onnx_err(&short).contains("needs 4 values"));
    // a bad attribute
    let bad = single(
        node(
            "Conv",
            "c",
            &["x", "w"],
            &["y"],
            vec![attr_ints("strides", &[1, 1, 1])],
        ),
        vec![init_f32("w", &[1, 1, 2, 2], &[1.0; 4])],
        13,
    );
    assert!(onnx_err(&bad).contains("strides"));
    // a batch dimension of 8, no graph, empty bytes
    let batch8 = model(("x", &[Some(8), Some(3)]), &["x"], vec![], vec![], 13);
    assert!(onnx_err(&batch8).contains("batch"));
    assert!(onnx_err(&pb::ModelProto::default().encode_to_vec()).contains("no graph"));
    assert!(matches!(onnx::import(&[]), Err(Error::Onnx(_))));
    // every truncation of a valid model
    for cut in 0..ok.len() {
        let r = onnx::import(&ok[..cut]);
        assert!(matches!(r, Err(Error::Onnx(_))), "cut at {cut}: {r:?}");
    }
    // a file that is not there is a data error
    assert!(matches!(
        onnx::import_file("/nonexistent/model.onnx"),
        Err(Error::Data(_))
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Random bytes are never a model: an `Error::Onnx`, no panic.
    #[test]
    fn random_bytes_are_onnx_errors(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        prop_assert!(matches!(onnx::import(&bytes), Err(Error::Onnx(_))));
    }

    /// A valid model with bytes overwritten: any result but a panic.
    #[test]
    fn corrupted_models_do_not_panic(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let mut bytes = corruptible_model();
        for (i, b) in edits {
            let k = i.index(bytes.len());
            bytes[k] = b;
        }
        let _ = onnx::import_model(&bytes);
    }
}

fn corruptible_model() -> Vec<u8> {
    model(
        ("x", &[None, Some(1), Some(4), Some(4)]),
        &["y"],
        vec![
            node(
                "Conv",
                "c",
                &["x", "w", "b"],
                &["c1"],
                vec![
                    attr_ints("pads", &[1, 1, 1, 1]),
                    attr_ints("strides", &[2, 2]),
                ],
            ),
            node(
                "AveragePool",
                "p",
                &["c1"],
                &["p1"],
                vec![attr_ints("kernel_shape", &[2, 2])],
            ),
            node("Reshape", "r", &["p1", "s"], &["f"], vec![]),
            node("Gemm", "g", &["f", "wf"], &["y"], vec![attr_i("transB", 1)]),
        ],
        vec![
            init_f32("w", &[2, 1, 2, 2], &[0.5; 8]),
            init_f32("b", &[2], &[0.1, 0.2]),
            init_i64("s", &[1, -1]),
            init_f32("wf", &[3, 8], &[0.25; 24]),
        ],
        13,
    )
}

#[test]
fn corruptible_model_is_valid() {
    let g: Graph = onnx::import(&corruptible_model()).unwrap();
    assert_eq!(g.eval(&[1.0; 16]).unwrap().len(), 3);
}

// ---------------------------------------------------------------- fixtures

fn fixture(file: &str) -> std::path::PathBuf {
    ml_he::data::data_path(&format!("models/{file}"))
}

fn load(file: &str) -> (Vec<usize>, Vec<f64>) {
    npy::read_npy_file(fixture(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn rows(shape: &[usize], data: &[f64]) -> Vec<Vec<f64>> {
    let n = shape[0];
    let per = data.len() / n;
    data.chunks(per).map(<[f64]>::to_vec).collect()
}

fn softmax(z: &[f64]) -> Vec<f64> {
    let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = z.iter().map(|v| (v - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}

/// Imports `<name>.onnx`, evaluates every row of `<name>.inputs.npy` and
/// compares with `<name>.outputs.npy` (float64 references: onnxruntime in
/// float64 for the float64 models, a float64 evaluation of the same float32
/// weights for the float32 ones, see `data/models/README.md`) to `tol`
/// absolute; where onnxruntime ran in float32 (`ort_outputs.npy`), also to
/// float32 rounding: 1e-5 of the largest output. Returns the import and the
/// scores.
fn check_fixture(name: &str, tol: f64) -> (Imported, Vec<Vec<f64>>) {
    let m = onnx::import_model_file(fixture(&format!("{name}.onnx")))
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    m.graph.validate().unwrap();
    let (xs, x) = load(&format!("{name}.inputs.npy"));
    let (ys, y) = load(&format!("{name}.outputs.npy"));
    assert_eq!(xs[0], ys[0], "{name}: as many outputs as inputs");
    assert_eq!(
        &xs[1..],
        m.graph.input_shape.as_slice(),
        "{name}: input shape"
    );
    let want = rows(&ys, &y);
    let mut got = Vec::new();
    let mut worst = 0.0f64;
    for (i, (x, w)) in rows(&xs, &x).iter().zip(&want).enumerate() {
        let g = m.graph.eval(x).unwrap();
        assert_eq!(g.len(), w.len(), "{name}: row {i}");
        for (a, b) in g.iter().zip(w) {
            worst = worst.max((a - b).abs());
        }
        got.push(g);
    }
    assert!(worst <= tol, "{name}: max |difference| {worst:e} > {tol:e}");
    let ort = fixture(&format!("{name}.ort_outputs.npy"));
    if ort.exists() {
        let (_, o) = load(&format!("{name}.ort_outputs.npy"));
        let scale = o.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let flat: Vec<f64> = got.concat();
        for (a, b) in flat.iter().zip(&o) {
            assert!(
                (a - b).abs() <= 1e-5 * scale,
                "{name}: {a} vs onnxruntime {b}"
            );
        }
    }
    (m, got)
}

#[test]
fn fixture_wine_logreg() {
    let (m, scores) = check_fixture("wine_logreg", 1e-9);
    assert_eq!(m.input_name, "X");
    assert_eq!(m.output_name, "raw_scores");
    assert!(
        m.post_ops.iter().any(|p| p.starts_with("Softmax")),
        "{:?}",
        m.post_ops
    );
    assert!(
        m.post_ops.iter().any(|p| p.starts_with("ArgMax")),
        "{:?}",
        m.post_ops
    );
    // onnxruntime's probabilities are the softmax of the scores
    let (ps, p) = load("wine_logreg.probabilities.npy");
    for (s, p) in scores.iter().zip(rows(&ps, &p)) {
        close(&softmax(s), &p, 1e-9);
    }
}

#[test]
fn fixture_mnist_logreg() {
    let (m, scores) = check_fixture("mnist_logreg", 1e-9);
    assert_eq!(m.graph.input_shape, vec![784]);
    assert_eq!(m.output_name, "raw_scores");
    assert_eq!(m.graph.nodes.len(), 1, "MatMul + Add: one dense layer");
    let (ps, p) = load("mnist_logreg.probabilities.npy");
    for (s, p) in scores.iter().zip(rows(&ps, &p)) {
        close(&softmax(s), &p, 1e-9);
    }
}

/// skl2onnx's MLPClassifier graph starts with a `Cast` of the input (to
/// float64: nothing here) and ends with `Softmax` → `Identity` → `ArgMax` →
/// label plumbing.
#[test]
fn fixture_mnist_mlp_relu() {
    let (m, scores) = check_fixture("mnist_mlp_relu", 1e-9);
    assert_eq!(m.output_name, "add_result1");
    let ops: Vec<&Op> = m.graph.nodes.iter().map(|n| &n.op).collect();
    assert!(matches!(
        ops.as_slice(),
        [
            Op::Dense { .. },
            Op::Activation(Activation::Relu),
            Op::Dense { .. }
        ]
    ));
    assert!(
        m.post_ops.iter().any(|p| p.starts_with("Softmax")),
        "{:?}",
        m.post_ops
    );
    let (ps, p) = load("mnist_mlp_relu.probabilities.npy");
    for (s, p) in scores.iter().zip(rows(&ps, &p)) {
        close(&softmax(s), &p, 1e-9);
    }
}

#[test]
fn fixture_wine_logreg_mlops() {
    let (m, scores) = check_fixture("wine_logreg_mlops", 1e-9);
    assert!(
        m.post_ops
            .iter()
            .any(|p| p.contains("post_transform SOFTMAX")),
        "{:?}",
        m.post_ops
    );
    let (ps, p) = load("wine_logreg_mlops.probabilities.npy");
    for (s, p) in scores.iter().zip(rows(&ps, &p)) {
        close(&softmax(s), &p, 1e-9);
    }
    // the same fitted pipeline as wine_logreg: the same predictions
    let (_, wine) = check_fixture("wine_logreg", 1e-9);
    let argmax = |v: &Vec<f64>| (0..v.len()).max_by(|&a, &b| v[a].total_cmp(&v[b]));
    for (a, b) in scores.iter().zip(&wine) {
        assert_eq!(argmax(a), argmax(b));
    }
}

#[test]
fn fixture_mnist_cnn_tenseal() {
    let (m, _) = check_fixture("mnist_cnn_tenseal", 1e-9);
    assert_eq!(m.graph.input_shape, vec![1, 28, 28]);
    assert!(
        m.graph
            .nodes
            .iter()
            .filter(|n| matches!(n.op, Op::Square))
            .count()
            == 2
    );
}

#[test]
fn fixture_mnist_lenet_avgpool() {
    let (m, _) = check_fixture("mnist_lenet_avgpool", 1e-9);
    // the BatchNormalization is folded into conv1
    assert!(
        m.graph.nodes.iter().any(|n| n.name == "conv1+bn1"),
        "{:?}",
        m.graph.nodes.iter().map(|n| &n.name).collect::<Vec<_>>()
    );
    assert!(!m.graph.nodes.iter().any(|n| n.name == "bn1"));
}

#[test]
fn fixture_ops_coverage() {
    let (m, _) = check_fixture("ops_coverage", 1e-9);
    let names: Vec<&str> = m.graph.nodes.iter().map(|n| n.name.as_str()).collect();
    for want in [
        "conv_s2_asym+bn",
        "conv_depthwise",
        "avgpool_exclude_pad",
        "avgpool_include_pad",
        "global_avgpool",
        "residual_add",
        "output_add",
    ] {
        assert!(names.contains(&want), "{want} not in {names:?}");
    }
}

#[test]
fn fixture_unsupported_maxpool() {
    let r = onnx::import_file(fixture("unsupported_maxpool.onnx"));
    assert!(
        matches!(&r, Err(Error::Unsupported { op, node }) if op == "MaxPool" && node == "pool1"),
        "{r:?}"
    );
    let msg = r.unwrap_err().to_string();
    assert!(msg.contains("MaxPool") && msg.contains("pool1"), "{msg}");
}

/// Every truncation point (sampled) of a real fixture is an `Error::Onnx`.
#[test]
fn truncated_fixture_is_onnx_error() {
    let bytes = std::fs::read(fixture("mnist_lenet_avgpool.onnx")).unwrap();
    for cut in (0..bytes.len()).step_by(97) {
        assert!(
            matches!(onnx::import(&bytes[..cut]), Err(Error::Onnx(_))),
            "cut at {cut}"
        );
    }
}
