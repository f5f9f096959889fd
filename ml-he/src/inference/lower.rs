//! Lowering a layer graph into steps (linear blocks, squares, polynomials)
//! and the interval bounds of every step (see the [`compile`](super::compile)
//! module docs).

use ckks::Polynomial;

use super::bootstrap::Kind;
use super::chebyshev_bound;
use super::compile::{ActivationInfo, CompileOptions};
use super::graph::{numel, Graph, Op};
use super::layout::SparseRows;
use crate::error::{Error, Result};

/// One step of the lowered circuit.
#[derive(Clone, Debug)]
pub(crate) enum Step {
    Linear(LinearBlock),
    Square {
        name: String,
    },
    Poly {
        name: String,
        info: ActivationInfo,
        poly: Polynomial,
    },
}

/// A merged run of linear nodes: `y = W·x + b`.
#[derive(Clone, Debug)]
pub(crate) struct LinearBlock {
    pub name: String,
    pub rows: SparseRows,
    pub bias: Vec<f64>,
    pub inputs: usize,
}

/// Scale-independent value bounds of every stage.
pub(crate) struct Bounds {
    /// Per step: the largest absolute value of any slot the step produces
    /// (partial sums included) — checked against its capacity.
    pub stage: Vec<f64>,
    /// Per step: the largest absolute value of its output in any slot
    /// (what a bootstrap after it receives).
    pub values: Vec<f64>,
    /// The input bound.
    pub input: f64,
}

pub(crate) fn step_kind(s: &Step) -> Kind {
    match s {
        Step::Linear(_) => Kind::Linear,
        Step::Square { .. } => Kind::Square,
        Step::Poly { .. } => Kind::Poly,
    }
}

pub(crate) fn step_depth(s: &Step) -> usize {
    match s {
        Step::Linear(_) | Step::Square { .. } => 1,
        Step::Poly { poly, .. } => poly.depth(),
    }
}

pub(crate) fn step_name(s: &Step) -> String {
    match s {
        Step::Linear(b) => b.name.clone(),
        Step::Square { name } | Step::Poly { name, .. } => name.clone(),
    }
}

fn is_linear(op: &Op) -> bool {
    !matches!(
        op,
        Op::Square | Op::Activation(_) | Op::Polynomial(_) | Op::Add
    )
}

/// Cuts the graph into steps (see the module docs).
pub(crate) fn lower(
    graph: &Graph,
    values: &[Vec<Vec<f64>>],
    options: &CompileOptions,
) -> Result<Vec<Step>> {
    let last = graph.output;
    if last == 0 {
        return Err(Error::Shape("the graph's output is its input".into()));
    }
    let mut steps: Vec<Step> = Vec::new();
    let mut group: Vec<usize> = Vec::new();
    let flush = |group: &mut Vec<usize>, steps: &mut Vec<Step>| -> Result<()> {
        if !group.is_empty() {
            steps.push(Step::Linear(linear_block(graph, group)?));
            group.clear();
        }
        Ok(())
    };
    for (i, node) in graph.nodes.iter().enumerate().take(last) {
        if node.inputs != [i] {
            return Err(Error::Unsupported {
                op: match node.op {
                    Op::Add => "Add of two branches (residual)".into(),
                    _ => format!(
                        "a branch (the node reads values {:?}, not only the previous node's output; the compiler takes chains)",
                        node.inputs
                    ),
                },
                node: node.name.clone(),
            });
        }
        match &node.op {
            op if is_linear(op) => {
                let spatial = |j: &usize| {
                    matches!(
                        graph.nodes[*j].op,
                        Op::Conv { .. } | Op::AvgPool { .. } | Op::GlobalAvgPool
                    )
                };
                if matches!(op, Op::Conv { .. }) && group.iter().any(spatial) {
                    flush(&mut group, &mut steps)?;
                }
                group.push(i);
            }
            Op::Square => {
                flush(&mut group, &mut steps)?;
                steps.push(Step::Square {
                    name: node.name.clone(),
                });
            }
            Op::Polynomial(c) => {
                flush(&mut group, &mut steps)?;
                let poly = Polynomial::from_power(c)?;
                steps.push(Step::Poly {
                    name: node.name.clone(),
                    info: ActivationInfo {
                        node: node.name.clone(),
                        function: "polynomial".into(),
                        interval: None,
                        calibrated: None,
                        degree: c.len().saturating_sub(1),
                        max_error: 0.0,
                    },
                    poly,
                });
            }
            Op::Activation(act) => {
                flush(&mut group, &mut steps)?;
                // the range of its input (value i) on the calibration set
                let (lo, hi) = values
                    .iter()
                    .flat_map(|v| v[i].iter())
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
                        (lo.min(x), hi.max(x))
                    });
                if !(lo.is_finite() && hi.is_finite()) {
                    return Err(Error::OutOfRange(format!(
                        "activation {}: calibration values are not finite",
                        node.name
                    )));
                }
                let c = 0.5 * (lo + hi);
                let h = (0.5 * (hi - lo) * (1.0 + options.range_margin)).max(1e-3);
                let (a, b) = (c - h, c + h);
                let act = *act;
                let f = move |x: f64| act.apply(x);
                // fold y = (x − c)/h into the preceding linear block when
                // there is one: the polynomial is then on [−1, 1]
                let folded = match steps.last_mut() {
                    Some(Step::Linear(block)) => {
                        for row in &mut block.rows {
                            for t in row.iter_mut() {
                                t.1 /= h;
                            }
                        }
                        for bi in &mut block.bias {
                            *bi = (*bi - c) / h;
                        }
                        true
                    }
                    _ => false,
                };
                let degree = options.activation_degree.max(1);
                let poly = if folded {
                    Polynomial::approximate(move |y| f(c + h * y), -1.0, 1.0, degree)?
                } else {
                    Polynomial::approximate(f, a, b, degree)?
                };
                let max_error = (0..=4096)
                    .map(|k| {
                        let x = a + (b - a) * k as f64 / 4096.0;
                        let px = if folded {
                            poly.eval((x - c) / h)
                        } else {
                            poly.eval(x)
                        };
                        (f(x) - px).abs()
                    })
                    .fold(0.0, f64::max);
                steps.push(Step::Poly {
                    name: node.name.clone(),
                    info: ActivationInfo {
                        node: node.name.clone(),
                        function: format!("{act:?}"),
                        interval: Some((a, b)),
                        calibrated: Some((lo, hi)),
                        degree,
                        max_error,
                    },
                    poly,
                });
            }
            _ => {
                return Err(Error::Unsupported {
                    op: format!("{:?}", node.op),
                    node: node.name.clone(),
                })
            }
        }
    }
    flush(&mut group, &mut steps)?;
    if !steps.iter().any(|s| matches!(s, Step::Linear(_))) {
        return Err(Error::Shape("a graph without a linear layer".into()));
    }
    Ok(steps)
}

/// The matrix and bias of a run of linear nodes, read off the reference
/// evaluator on unit vectors.
fn linear_block(graph: &Graph, nodes: &[usize]) -> Result<LinearBlock> {
    let first = nodes[0];
    let n = numel(graph.value_shape(first).unwrap_or(&[]));
    let apply = |x: Vec<f64>| -> Result<Vec<f64>> {
        let mut v = x;
        for &j in nodes {
            v = graph.eval_node(j, &[&v])?;
        }
        Ok(v)
    };
    let bias = apply(vec![0.0; n])?;
    let mut rows: SparseRows = vec![Vec::new(); bias.len()];
    let mut e = vec![0.0; n];
    for j in 0..n {
        e[j] = 1.0;
        let col = apply(e.clone())?;
        e[j] = 0.0;
        for (o, (&y, &b)) in col.iter().zip(&bias).enumerate() {
            let w = y - b;
            if w != 0.0 {
                rows[o].push((j, w));
            }
        }
    }
    let name = nodes
        .iter()
        .map(|&j| graph.nodes[j].name.as_str())
        .collect::<Vec<_>>()
        .join("+");
    Ok(LinearBlock {
        name,
        rows,
        bias,
        inputs: n,
    })
}

/// Interval arithmetic through the steps from the box `[−b, b]^n`. With
/// `padding` (per-sample packing), the slots between the elements count
/// too: zero after the client's layout and after every linear block, then
/// mapped by the elementwise steps like every slot (a polynomial turns
/// them into `p(0)`).
pub(crate) fn interval_bounds(steps: &[Step], n: usize, b: f64, padding: bool) -> Result<Bounds> {
    let mut x: Vec<(f64, f64)> = vec![(-b, b); n];
    let mut pad = padding.then_some((0f64, 0f64));
    let mut stage = Vec::with_capacity(steps.len());
    let mut values = Vec::with_capacity(steps.len());
    let widest = |x: &[(f64, f64)], pad: Option<(f64, f64)>| {
        x.iter()
            .chain(&pad)
            .fold(0f64, |m, &(lo, hi)| m.max(lo.abs()).max(hi.abs()))
    };
    for s in steps {
        match s {
            Step::Linear(block) => {
                if block.inputs != x.len() {
                    return Err(Error::Shape(format!(
                        "internal: block {} reads {} values, has {}",
                        block.name,
                        block.inputs,
                        x.len()
                    )));
                }
                let mut largest = 0f64;
                let y: Vec<(f64, f64)> = block
                    .rows
                    .iter()
                    .zip(&block.bias)
                    .map(|(row, &bias)| {
                        let (mut lo, mut hi, mut neg, mut pos) = (0f64, 0f64, 0f64, 0f64);
                        for &(i, w) in row {
                            let (xl, xh) = x[i];
                            let (t0, t1) = (w * xl, w * xh);
                            let (tl, th) = (t0.min(t1), t0.max(t1));
                            lo += tl;
                            hi += th;
                            neg += tl.min(0.0);
                            pos += th.max(0.0);
                        }
                        let (lo, hi) = (lo + bias, hi + bias);
                        largest = largest.max(-neg).max(pos).max(lo.abs()).max(hi.abs());
                        (lo, hi)
                    })
                    .collect();
                stage.push(largest);
                x = y;
                pad = pad.map(|_| (0.0, 0.0));
            }
            Step::Square { .. } => {
                let square = |(lo, hi): (f64, f64)| {
                    let top = (lo * lo).max(hi * hi);
                    let bottom = if lo <= 0.0 && hi >= 0.0 {
                        0.0
                    } else {
                        (lo * lo).min(hi * hi)
                    };
                    (bottom, top)
                };
                x = x.iter().copied().map(square).collect();
                pad = pad.map(square);
                stage.push(widest(&x, pad));
            }
            Step::Poly { poly, .. } => {
                // |p(y)| ≤ Σ|c_i|·max|T_i(y')| with y' the argument mapped
                // onto the polynomial's interval
                let (a, bb) = poly.interval();
                let m = x
                    .iter()
                    .chain(&pad)
                    .map(|&(lo, hi)| {
                        let f = |v: f64| ((2.0 * v - a - bb) / (bb - a)).abs();
                        f(lo).max(f(hi))
                    })
                    .fold(0.0, f64::max);
                let c = poly.coeffs();
                let basis = chebyshev_bound(m, c.len().saturating_sub(1));
                let out: f64 = c
                    .iter()
                    .enumerate()
                    .map(|(i, ci)| ci.abs() * chebyshev_bound(m, i))
                    .sum();
                stage.push(basis.max(out));
                x = vec![(-out, out); x.len()];
                pad = pad.map(|_| (-out, out));
            }
        }
        values.push(widest(&x, pad));
    }
    Ok(Bounds {
        stage,
        values,
        input: b,
    })
}
