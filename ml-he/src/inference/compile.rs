//! The compiler: a layer [`Graph`] becomes an encrypted CKKS circuit with
//! its parameters, slot layouts, rotation set and a checked scale and level
//! plan; [`Server::compile`] returns a server that speaks the same messages
//! as the logistic and MLP servers ([`PublicSetup`], [`EvaluationKeys`](super::EvaluationKeys),
//! [`Query`](super::Query), [`Response`](super::Response)), so the same
//! [`Client`](super::Client) runs every compiled model.
//!
//! ## Lowering
//! The graph (a chain: each node reads the previous one) is cut into
//! *steps*: consecutive linear nodes (dense, convolution, pooling, folded
//! batch normalization, reshapes, constant affine maps) merge into one
//! linear block — its matrix is read off the reference evaluator
//! ([`Graph::eval_node`]) on unit vectors, so the semantics of every
//! operation live in one place — except that a convolution starts a new
//! block after a convolution or a pooling (merging them multiplies the taps
//! and the rotations). Squares stay squares; a ReLU / sigmoid / tanh / GELU
//! becomes a Chebyshev interpolant on the range its input takes on the
//! calibration samples, widened by [`CompileOptions::range_margin`]; the
//! map of that range onto `[−1, 1]` is folded into the preceding linear
//! block (no level spent on it).
//!
//! ## Layouts (per-sample packing)
//! The client tiles the sample with the power-of-two period above its size.
//! Each linear block picks the cheaper of the diagonal method over the
//! input's period and sparse rotations with placed outputs
//! (module `layout`), by plaintext products plus 8× the
//! rotations; the last linear block always uses the diagonal method, so the
//! outputs the client reads are in slots `0..k`. [`Packing::Batch`] puts
//! one sample per slot and one ciphertext per tensor element: linear blocks
//! are weighted sums over each output's nonzero terms, no rotation at all.
//!
//! ## Levels, scales and parameters
//! A linear block costs one level (plaintext product, one rescale), a
//! square one, a polynomial its [`Polynomial::depth`]. Inputs are encoded at
//! `2^scale_bits`; each linear block's plaintexts are encoded at the scale
//! that puts its output exactly back on `2^scale_bits` (it also absorbs the
//! drift of a square). Chain: the output modulus, one `scale_bits`-bit
//! prime per level above; then special primes, each at least as large as
//! the largest chain prime, up to four of them in the room the security
//! bound leaves (more special primes: fewer key-switching digits, so faster
//! rotations and smaller keys at the same noise). The
//! output modulus gets the bits the output bound needs over the scale (one
//! prime up to 60 bits, or up to three); beyond, the last block lands on a
//! smaller output scale (never below 2^20). The ring degree is the
//! smallest of 4096 … 32768 that is 128-bit secure for the chain
//! (HomomorphicEncryption.org table, every prime counted) and fits the
//! layouts.
//!
//! ### Bootstrapping
//! A graph too deep for N = 32768 is compiled with bootstraps
//! ([`CompileOptions::bootstrap`]: [`Bootstrapping::WhenTooDeep`], the
//! default; [`Bootstrapping::Always`] asks for them, [`Bootstrapping::Never`]
//! refuses with [`Error::TooDeep`]). The chain is then a bootstrapping chain
//! (module [`bootstrap`]): N = 2^16 at 128-bit security
//! ([`BootstrapRing::N65536`](super::BootstrapRing::N65536); or the
//! insecure N = 2^12 test ring, which the client must accept explicitly),
//! scale `2^40` ([`BootstrapOptions::scale_bits`]; a bootstrap keeps about
//! 2^-26 of its range at 2^40, 2^-18 at 2^30), `q_0` of `scale + 10` bits,
//! [`BootstrapOptions::levels`] user levels (9 at N = 2^16), then the
//! levels bootstrapping consumes, full packing. The client encrypts at the
//! top user level; each bootstrap (from whatever level, as
//! [`ckks::Bootstrapper::bootstrap`] reads level 0) lands back on it.
//! Bootstraps go as late as the levels allow, which gives the fewest, but
//! never right before a polynomial: before a linear block (or a square
//! that leads to one), which absorbs the range for free. The output keeps
//! a level that holds its bound at an output scale of 2^20 or more.
//!
//! Bootstrapping is correct only for slot values within `[−1, 1]` of its
//! scale. The interval bounds of the plan check (every slot, the padding
//! between the elements of a per-sample layout included) give, before each
//! bootstrap, the largest value `X` any input in the box can put there;
//! the step that sets the scale before it (the linear block, the
//! polynomial, the input) lowers its output scale by the power of two that
//! makes `X·scale ≤ Δ_b`, the ciphertext is read at Δ_b (free), and after
//! the bootstrap an integer multiplication (no level) brings the scale back
//! up. Every input in the box thus meets the bootstrap's range condition;
//! the bootstrap's error is then about 2^-26 of its range `B ≥ X` (the
//! report gives `B` per bootstrap, [`StepReport::range`]), and a range
//! above 2^20 is refused ([`Error::PlanOverflow`]).
//!
//! ## The plan check
//! As for the fixed circuits ([`CircuitPlan`]): interval arithmetic from
//! the input box `[−b, b]` (`b` = [`PublicSetup::max_abs_input`], by
//! default the largest absolute calibration input) through every step —
//! partial sums of every linear block, squares of intervals, and for a
//! polynomial the bound of its Chebyshev basis outside `[−1, 1]` — gives
//! each stage's largest value; a stage above its capacity is refused with
//! [`Error::PlanOverflow`] naming the graph node. In per-sample packing the
//! slots between the elements count too (zero after a linear block, `p(0)`
//! after a polynomial). The check holds for every input in the box, not
//! only for the calibration data; the accuracy of an approximated
//! activation holds inside its calibrated range.

use std::sync::Arc;

use ckks::{Bootstrapper, Encoder, Evaluator, Parameters, Polynomial};

use super::bootstrap::{self, BootstrapOptions, Bootstrapping, Kind, RangePlan};
use super::circuit::{CStep, GraphCircuit, SampleLinear};
use super::graph::{numel, Graph};
use super::layout::{dense_over_period, diagonals_cost, Layout, SparsePlan, Strategy};
use super::lower::{interval_bounds, lower, step_depth, step_kind, step_name, Bounds, Step};
pub use super::report::{ActivationInfo, BootstrapReport, CompileReport, StepReport};
use super::{
    level_moduli, pow2, BootstrapSetup, CircuitPlan, Diagonals, Evaluation, InputLayout,
    ModelShape, Packing, PlanStage, PublicSetup, Server, PLAN_MARGIN_BITS,
};
use crate::error::{Error, Result};

/// How a graph is compiled.
#[derive(Clone, Debug, PartialEq)]
pub struct CompileOptions {
    /// Per-sample (latency) or batch (throughput) packing.
    pub packing: Packing,
    /// log2 of the scale of inputs and intermediate values (precision): the
    /// compiler takes the smallest ring degree that fits a scale between
    /// `min_scale_bits` and `scale_bits`, the largest scale in it.
    pub scale_bits: u32,
    /// The smallest scale the compiler may choose to fit a smaller ring.
    pub min_scale_bits: u32,
    /// Degree of the Chebyshev interpolant of each nonpolynomial activation.
    pub activation_degree: usize,
    /// The calibrated range of an activation's input is widened by this
    /// fraction of its half-width on each side.
    pub range_margin: f64,
    /// The input bound the plan is checked for (and the client enforces);
    /// `None`: the largest absolute value of the calibration inputs.
    pub max_abs_input: Option<f64>,
    /// When to bootstrap (default: only when the graph is too deep for
    /// every ring without; see [`bootstrap`]).
    pub bootstrap: Bootstrapping,
}

impl Default for CompileOptions {
    fn default() -> Self {
        Self {
            packing: Packing::PerSample,
            scale_bits: 30,
            min_scale_bits: 25,
            activation_degree: 31,
            range_margin: 0.1,
            max_abs_input: None,
            bootstrap: Bootstrapping::WhenTooDeep,
        }
    }
}

/// Largest ring degree the compiler considers.
const MAX_DEGREE: usize = 32768;
/// Smallest output scale (bits) the compiler lowers to for headroom.
const MIN_OUTPUT_SCALE_BITS: i32 = 20;
/// Largest prime the compiler uses (bits).
const MAX_PRIME_BITS: u32 = 60;
/// Most primes the output modulus may take (180 bits: bounds beyond are a
/// circuit that cannot be evaluated meaningfully).
const MAX_OUTPUT_PRIMES: u32 = 3;
/// Relative cost of a rotation against a plaintext product (layout choice).
const ROTATION_COST: usize = 8;

impl Server {
    /// Compiles `graph` for encrypted inference. `calibration` holds sample
    /// inputs (flat, as [`Graph::eval`] takes them): they fix the ranges of
    /// the approximated activations and, unless
    /// [`CompileOptions::max_abs_input`] is set, the input bound.
    pub fn compile(
        graph: &Graph,
        calibration: &[Vec<f64>],
        options: &CompileOptions,
    ) -> Result<Self> {
        graph.validate()?;
        if calibration.is_empty() {
            return Err(Error::Shape(
                "no calibration samples (the activation ranges come from them)".into(),
            ));
        }
        if !(options.range_margin.is_finite() && options.range_margin >= 0.0) {
            return Err(Error::OutOfRange(
                "range margin must be finite and ≥ 0".into(),
            ));
        }
        if !(20..=50).contains(&options.scale_bits) || options.min_scale_bits < 20 {
            return Err(Error::OutOfRange(format!(
                "scale of 2^{}: between 2^20 and 2^50",
                options.scale_bits
            )));
        }
        let n_in = numel(&graph.input_shape);
        let n_out = numel(graph.output_shape()?);
        let values: Vec<Vec<Vec<f64>>> = calibration
            .iter()
            .map(|x| graph.eval_all(x))
            .collect::<Result<_>>()?;
        let steps = lower(graph, &values, options)?;
        let max_abs_input = match options.max_abs_input {
            Some(b) if b.is_finite() && b > 0.0 => b,
            Some(b) => {
                return Err(Error::OutOfRange(format!(
                    "input bound {b}: must be finite and positive"
                )))
            }
            None => calibration
                .iter()
                .flatten()
                .fold(0f64, |m, v| m.max(v.abs()))
                .max(1e-6),
        };
        let per_sample = options.packing == Packing::PerSample;
        let bounds = interval_bounds(&steps, n_in, max_abs_input, per_sample)?;
        if options.min_scale_bits > options.scale_bits {
            return Err(Error::OutOfRange("min_scale_bits above scale_bits".into()));
        }
        let depth: usize = steps.iter().map(step_depth).sum();
        let out_bound = bounds.stage.last().copied().unwrap_or(max_abs_input);
        let need = output_bits_needed(out_bound);
        if depth == 0 {
            return Err(Error::Shape("a circuit without a level".into()));
        }
        if let Bootstrapping::Always(b) = &options.bootstrap {
            return compile_bootstrapped(&steps, &bounds, options, b, n_in, n_out, max_abs_input);
        }
        let most = (MAX_PRIME_BITS * MAX_OUTPUT_PRIMES) as i32;
        if need + MIN_OUTPUT_SCALE_BITS > most {
            return Err(Error::PlanOverflow {
                layer: steps.last().map_or("input".to_string(), step_name),
                level: 0,
                bound: out_bound,
                capacity: pow2(most - MIN_OUTPUT_SCALE_BITS - PLAN_MARGIN_BITS - 1),
            });
        }
        // smallest ring first; within a ring the largest scale, then the
        // largest output scale that fits 128-bit security
        let mut last_err = None;
        let mut degree = 4096;
        while degree <= MAX_DEGREE {
            for s in (options.min_scale_bits..=options.scale_bits).rev() {
                let s = s as i32;
                for out_bits in (MIN_OUTPUT_SCALE_BITS..=s).rev() {
                    // the output modulus: as many primes of ≤ 60 bits as
                    // the output scale and bound need
                    let base_bits = (out_bits + need).max(s + 1) as u32;
                    let base_count = base_bits.div_ceil(MAX_PRIME_BITS);
                    if base_count > MAX_OUTPUT_PRIMES {
                        continue;
                    }
                    let b = base_bits.div_ceil(base_count);
                    let mut q_bits = vec![b; base_count as usize];
                    q_bits.extend(std::iter::repeat_n(s as u32, depth));
                    let Some(p_bits) = Parameters::special_prime_bits(&q_bits, max_log_q(degree))
                    else {
                        continue;
                    };
                    let Ok(params) = Parameters::builder()
                        .degree(degree)
                        .q_bits(&q_bits)
                        .p_bits(&p_bits)
                        .scale(pow2(s))
                        .build()
                    else {
                        continue;
                    };
                    let mut opts = options.clone();
                    opts.scale_bits = s as u32;
                    match build(
                        &steps,
                        &bounds,
                        params,
                        &opts,
                        n_in,
                        n_out,
                        out_bits,
                        max_abs_input,
                        None,
                    ) {
                        Ok(server) => return Ok(server),
                        Err(e) => last_err = Some(e),
                    }
                    // a larger output scale did not fit this ring: neither
                    // will it with a smaller scale; try the next ring
                    break;
                }
            }
            degree *= 2;
        }
        // Too deep for the largest ring: bootstrap, or name the step where
        // the chain runs out (the smallest scale, one output prime, a
        // special prime).
        let budget = f64::from(max_log_q(MAX_DEGREE));
        let s_min = f64::from(options.min_scale_bits);
        let mut used =
            2.0 * (s_min + f64::from(MIN_OUTPUT_SCALE_BITS)) + f64::from(need.max(0) as u32);
        for st in &steps {
            used += s_min * step_depth(st) as f64;
            if used > budget {
                if options.bootstrap == Bootstrapping::WhenTooDeep {
                    return compile_bootstrapped(
                        &steps,
                        &bounds,
                        options,
                        &BootstrapOptions::default(),
                        n_in,
                        n_out,
                        max_abs_input,
                    );
                }
                return Err(Error::TooDeep {
                    layer: step_name(st),
                    depth,
                    bits: used.ceil() as u32,
                    max_bits: budget as u32,
                    degree: MAX_DEGREE,
                });
            }
        }
        Err(last_err.unwrap_or_else(|| Error::Shape("no ring degree fits the circuit".into())))
    }

    /// The compiler's report (compiled graphs only).
    pub fn report(&self) -> Option<&CompileReport> {
        self.report.as_ref()
    }
}

/// The largest `log2 Q·P` 128-bit security allows at ring degree `n` with a
/// ternary secret (HomomorphicEncryption.org table).
fn max_log_q(n: usize) -> u32 {
    match n {
        1024 => 27,
        2048 => 54,
        4096 => 109,
        8192 => 218,
        16384 => 438,
        _ => 881,
    }
}

/// Bits the output modulus needs above the output scale: the bound, the
/// plan's margin and one bit for noise and rounding.
fn output_bits_needed(out_bound: f64) -> i32 {
    out_bound.max(1.0).log2().ceil() as i32 + 1 + PLAN_MARGIN_BITS + 1
}

/// [`Server::compile`] with bootstrapping (see [`bootstrap`]): the chain,
/// the positions, then the server with the largest output scale that fits
/// the level the circuit ends on.
fn compile_bootstrapped(
    steps: &[Step],
    bounds: &Bounds,
    options: &CompileOptions,
    boot_options: &BootstrapOptions,
    n_in: usize,
    n_out: usize,
    max_abs_input: f64,
) -> Result<Server> {
    let chain = bootstrap::chain(boot_options)?;
    let s = boot_options.scale_bits;
    let mut kinds: Vec<(Kind, usize)> = steps
        .iter()
        .map(|st| (step_kind(st), step_depth(st)))
        .collect();
    // the output needs a level whose modulus holds its bound at an output
    // scale of at least 2^20: the levels below it are reserved (as a last
    // step of that depth, so that a bootstrap comes before the end when the
    // circuit would end lower). A lower output scale costs less precision
    // than a bootstrap of the output would: with `q_0` of `s + 10` bits, an
    // output bound X leaves an error of about X·2^(5 − s), a bootstrap
    // about X·2^-26.
    let moduli = level_moduli(&chain.params);
    let log_q = |l: usize| moduli.get(l).map_or(0.0, |q| q.log2());
    let out_bound = bounds.stage.last().copied().unwrap_or(max_abs_input);
    let need = output_bits_needed(out_bound);
    let reserve = (0..=chain.levels)
        .find(|&l| log_q(l).floor() as i32 - need >= MIN_OUTPUT_SCALE_BITS)
        .ok_or_else(|| Error::PlanOverflow {
            layer: steps.last().map_or("input".to_string(), step_name),
            level: chain.levels,
            bound: out_bound,
            capacity: moduli.get(chain.levels).copied().unwrap_or(0.0)
                / pow2(1 + PLAN_MARGIN_BITS + MIN_OUTPUT_SCALE_BITS),
        })?;
    kinds.push((Kind::Linear, reserve));
    let positions = bootstrap::place(&kinds, chain.levels).map_err(|run| Error::TooDeep {
        layer: steps[run.from.min(steps.len() - 1)..=run.to.min(steps.len() - 1)]
            .iter()
            .map(step_name)
            .collect::<Vec<_>>()
            .join(", "),
        depth: kinds.iter().map(|k| k.1).sum::<usize>() - reserve,
        bits: run.levels as u32 * s,
        max_bits: chain.levels as u32 * s,
        degree: chain.params.degree(),
    })?;
    kinds.pop();
    // the level the output lands on, and the output scales that leave
    // room for the output bound there
    let last = positions.last().copied().unwrap_or(0);
    let end_level = chain.levels - kinds[last..].iter().map(|k| k.1).sum::<usize>();
    let top = (log_q(end_level).floor() as i32 - need).min(s as i32);
    // the steps a lower output scale relieves: the last linear block and
    // what follows it
    let last_linear = steps
        .iter()
        .rposition(|st| matches!(st, Step::Linear(_)))
        .unwrap_or(0);
    let tail: Vec<String> = steps[last_linear..].iter().map(step_name).collect();
    let plan = bootstrap::Plan {
        boot: Arc::new(Bootstrapper::new(&chain.params, chain.config)?),
        positions,
        levels: chain.levels,
    };
    let mut opts = options.clone();
    opts.scale_bits = s;
    let mut last_err = None;
    for out_bits in (MIN_OUTPUT_SCALE_BITS..=top.max(MIN_OUTPUT_SCALE_BITS)).rev() {
        match build(
            steps,
            bounds,
            chain.params.clone(),
            &opts,
            n_in,
            n_out,
            out_bits,
            max_abs_input,
            Some(&plan),
        ) {
            Ok(server) => return Ok(server),
            Err(Error::PlanOverflow {
                layer,
                level,
                bound,
                capacity,
            }) if tail.contains(&layer) => {
                last_err = Some(Error::PlanOverflow {
                    layer,
                    level,
                    bound,
                    capacity,
                })
            }
            Err(e) => return Err(e),
        }
    }
    Err(last_err.unwrap_or_else(|| Error::Shape("no output scale fits the circuit".into())))
}

/// Builds the server for parameters `params` (layouts, plaintexts, plan).
#[allow(clippy::too_many_arguments)]
fn build(
    steps: &[Step],
    bounds: &Bounds,
    params: Parameters,
    options: &CompileOptions,
    n_in: usize,
    n_out: usize,
    out_bits: i32,
    max_abs_input: f64,
    boot: Option<&bootstrap::Plan>,
) -> Result<Server> {
    let slots = params.slots();
    let encoder = Encoder::new(&params);
    let depth: usize = steps.iter().map(step_depth).sum();
    let kinds: Vec<(Kind, usize)> = steps
        .iter()
        .map(|st| (step_kind(st), step_depth(st)))
        .collect();
    let positions: &[usize] = boot.map_or(&[], |b| &b.positions);
    let range = boot.map(|b| RangePlan {
        kinds: &kinds,
        boots: positions,
        values: &bounds.values,
        delta: b.boot.config().input_scale,
    });
    // the power of two to divide a step's output scale by so that the
    // bootstraps up to the next linear block or polynomial see [−1, 1]
    let divisor = |next: usize, rho: f64, level: usize, after_boot: bool| -> Result<f64> {
        match &range {
            Some(r) => r.divisor(next, rho, level, after_boot, |l| Ok(params.q(l)? as f64)),
            None => Ok(1.0),
        }
    };
    let s = pow2(options.scale_bits as i32);
    let moduli = level_moduli(&params);
    let capacity = |level: usize, scale: f64| {
        moduli
            .get(level)
            .map_or(0.0, |q| q / (pow2(1 + PLAN_MARGIN_BITS) * scale))
    };
    let per_sample = options.packing == Packing::PerSample;
    let input_period = n_in.max(1).next_power_of_two();
    if per_sample && input_period > slots {
        return Err(Error::Shape(format!("{n_in} inputs exceed {slots} slots")));
    }
    let last_linear = steps
        .iter()
        .rposition(|s| matches!(s, Step::Linear(_)))
        .unwrap_or(0);
    let mut layout = Layout::tiled(n_in);
    // without bootstrapping, the levels below the circuit's are the output
    // modulus (several primes when the output bound needs more than one);
    // with it, the circuit starts on the top user level
    let input_level = boot.map_or(params.max_level(), |b| b.levels);
    let mut level = input_level;
    let mut scale = s / divisor(0, s, level, false)?;
    let input_scale = scale;
    let mut plan_stages = vec![PlanStage {
        layer: "input".into(),
        level,
        scale,
        bound: bounds.input,
        capacity: capacity(level, scale),
    }];
    let mut csteps = Vec::with_capacity(steps.len());
    let mut reports = Vec::with_capacity(steps.len());
    let mut rotations: Vec<i64> = Vec::new();
    let mut relin = false;
    let mut activations = Vec::new();
    let mut boot_count = 0usize;
    // k = steps.len(): a bootstrap after the last step (when the output
    // needs the levels)
    for k in 0..=steps.len() {
        if let (Some(b), true) = (boot, positions.binary_search(&k).is_ok()) {
            // values v at `scale` read at Δ_b: v·scale/Δ_b ∈ [−1, 1]
            let delta = b.boot.config().input_scale;
            let x = bounds
                .values
                .get(k.wrapping_sub(1))
                .copied()
                .unwrap_or(f64::NAN);
            let after = k.checked_sub(1).and_then(|i| steps.get(i));
            let name = format!(
                "bootstrap after {}",
                after.map_or("input".into(), step_name)
            );
            let range = delta / scale;
            if x.is_nan() || x > range * (1.0 + 1e-12) {
                return Err(Error::PlanOverflow {
                    layer: name,
                    level,
                    bound: x,
                    capacity: range,
                });
            }
            if range > pow2(bootstrap::MAX_RANGE_BITS) {
                return Err(Error::PlanOverflow {
                    layer: name,
                    level,
                    bound: x,
                    capacity: pow2(bootstrap::MAX_RANGE_BITS),
                });
            }
            // back towards Δ_b by an integer multiplication (no level), as
            // far as the next bootstrap before a linear block allows
            let near = range.round().max(1.0);
            let c = divisor(k, scale * near, b.levels, true)?;
            let mult = (near / c).floor().max(1.0);
            csteps.push(CStep::Bootstrap {
                scale,
                mult: mult as u64,
            });
            reports.push(StepReport {
                name,
                kind: "bootstrap".into(),
                shape: (layout.pos.len(), layout.pos.len()),
                level,
                plaintext_products: 0,
                rotations: 0,
                range: Some(range),
            });
            boot_count += 1;
            level = b.levels;
            scale *= mult;
            plan_stages.push(PlanStage {
                layer: format!("bootstrap {boot_count}"),
                level,
                scale,
                bound: x,
                capacity: capacity(level, scale),
            });
        }
        let Some(step) = steps.get(k) else { break };
        let start = level;
        match step {
            Step::Linear(block) => {
                let q = params.q(level)? as f64;
                let nominal = if k == last_linear { pow2(out_bits) } else { s };
                let target = nominal / divisor(k + 1, nominal, level - 1, false)?;
                let pt_scale = target * q / scale;
                let m = block.rows.len();
                let (cstep, kind, pt, rot, out_layout) = if per_sample {
                    let (dpt, drot) = diagonals_cost(&block.rows, &layout);
                    let sparse = if k == last_linear {
                        None
                    } else {
                        SparsePlan::new(&block.rows, &layout, slots).ok()
                    };
                    let strategy = match &sparse {
                        Some(p) => {
                            let (spt, srot) = p.cost();
                            if spt + ROTATION_COST * srot < dpt + ROTATION_COST * drot {
                                Strategy::Sparse
                            } else {
                                Strategy::Diagonals
                            }
                        }
                        None => Strategy::Diagonals,
                    };
                    match (strategy, sparse) {
                        (Strategy::Sparse, Some(plan)) => {
                            let (spt, _) = plan.cost();
                            let steps_needed = plan.rotation_steps();
                            let lin =
                                super::layout::SparseLinear::new(&encoder, &plan, level, pt_scale)?;
                            let mut b = vec![0.0; slots];
                            for (o, &p) in plan.out.pos.iter().enumerate() {
                                b[p] = block.bias[o];
                            }
                            let bias = encoder.encode_at(&b, level - 1, target)?;
                            let nrot = steps_needed.len();
                            rotations.extend(steps_needed);
                            (
                                CStep::SampleLinear(SampleLinear::Sparse(lin), bias),
                                "linear (sparse)",
                                spt,
                                nrot,
                                plan.out,
                            )
                        }
                        _ => {
                            let mp = m.max(1).next_power_of_two();
                            let n = layout.period;
                            if mp.max(n) > slots {
                                return Err(Error::Shape(format!(
                                    "block {} ({m} outputs) does not fit {slots} slots",
                                    block.name
                                )));
                            }
                            let w = dense_over_period(&block.rows, &layout);
                            let d = Diagonals::new(&encoder, &w, mp, n, level, pt_scale, true)?;
                            let steps_needed = d.rotation_steps();
                            let mut uniq = steps_needed.clone();
                            uniq.sort_unstable();
                            uniq.dedup();
                            let mut bp = block.bias.clone();
                            bp.resize(mp, 0.0);
                            let bias =
                                encoder.encode_at(&ckks::tile(&bp, slots), level - 1, target)?;
                            rotations.extend(steps_needed);
                            (
                                CStep::SampleLinear(SampleLinear::Diagonals(d), bias),
                                "linear (diagonals)",
                                dpt,
                                uniq.len(),
                                Layout::tiled(m),
                            )
                        }
                    }
                } else {
                    let nnz = block.rows.iter().map(Vec::len).sum();
                    (
                        CStep::BatchLinear {
                            rows: block.rows.clone(),
                            bias: block.bias.clone(),
                            pt_scale,
                            level,
                        },
                        "linear (weighted sums)",
                        nnz,
                        0,
                        Layout::tiled(m),
                    )
                };
                csteps.push(cstep);
                reports.push(StepReport {
                    name: block.name.clone(),
                    kind: kind.into(),
                    shape: (block.inputs, m),
                    level: start,
                    plaintext_products: pt,
                    rotations: rot,
                    range: None,
                });
                layout = out_layout;
                level -= 1;
                scale = target;
            }
            Step::Square { name } => {
                relin = true;
                let q = params.q(level)? as f64;
                csteps.push(CStep::Square);
                reports.push(StepReport {
                    name: name.clone(),
                    kind: "square".into(),
                    shape: (layout.pos.len(), layout.pos.len()),
                    level: start,
                    plaintext_products: 0,
                    rotations: 0,
                    range: None,
                });
                level -= 1;
                scale = scale * scale / q;
            }
            Step::Poly { name, info, poly } => {
                relin = true;
                level -= poly.depth();
                // a bootstrap ahead: the coefficients divided by c, the
                // output read at scale/c (the same values, c times fewer
                // units of the scale)
                let c = divisor(k + 1, scale, level, false)?;
                if c == 1.0 {
                    csteps.push(CStep::Poly(poly.clone(), None));
                } else {
                    let coeffs: Vec<f64> = poly.coeffs().iter().map(|x| x / c).collect();
                    let (a, b) = poly.interval();
                    scale /= c;
                    csteps.push(CStep::Poly(
                        Polynomial::chebyshev(&coeffs, a, b)?,
                        Some(scale),
                    ));
                }
                reports.push(StepReport {
                    name: name.clone(),
                    kind: "polynomial".into(),
                    shape: (layout.pos.len(), layout.pos.len()),
                    level: start,
                    plaintext_products: 0,
                    rotations: 0,
                    range: None,
                });
                activations.push(info.clone());
            }
        }
        plan_stages.push(PlanStage {
            layer: step_name(step),
            level,
            scale,
            bound: bounds.stage[k],
            capacity: capacity(level, scale),
        });
    }
    if let Some(st) = plan_stages
        .iter()
        .find(|st| st.bound.is_nan() || st.bound > st.capacity)
    {
        return Err(Error::PlanOverflow {
            layer: st.layer.clone(),
            level: st.level,
            bound: st.bound,
            capacity: st.capacity,
        });
    }
    // the outputs must be in slots 0..k (the last linear block uses the
    // diagonal method; only elementwise steps follow it)
    if per_sample && layout.pos.iter().enumerate().any(|(i, &p)| i != p) {
        return Err(Error::Shape("internal: outputs not in slots 0..k".into()));
    }
    rotations.sort_unstable();
    rotations.dedup();
    rotations.retain(|&r| r.rem_euclid(slots as i64) != 0);
    let plan = CircuitPlan {
        max_abs_input,
        stages: plan_stages,
    };
    let setup = PublicSetup {
        shape: ModelShape::Graph {
            inputs: n_in,
            outputs: n_out,
        },
        packing: options.packing,
        degree: params.degree(),
        q_primes: params.rlwe().q().to_vec(),
        p_primes: params.rlwe().p().to_vec(),
        security: params.rlwe().security(),
        input_scale,
        input_level,
        input_layout: if per_sample {
            InputLayout::Tiled {
                period: input_period,
            }
        } else {
            InputLayout::Slots
        },
        rotations: rotations.clone(),
        relinearization: relin,
        max_abs_input,
        output_stride: 1,
        bootstrap: boot.map(|b| BootstrapSetup::from_config(b.boot.config())),
    };
    setup.validate()?;
    let n = params.degree();
    let rp = params.rlwe();
    let (q_len, special) = (rp.q().len(), rp.p().len());
    // a key: one digit per group of chain primes, each digit one
    // polynomial over Q·P (the uniform half is a seed)
    let key_bytes_each = rp.digits() * (q_len + special) * n * 8;
    let mut keys = rotations.len() + usize::from(relin);
    let bootstrap_report = boot.map(|b| {
        let rotation_keys = b.boot.rotation_steps().len() + 1;
        BootstrapReport {
            slots: b.boot.config().slots,
            levels: b.levels,
            depth: params.max_level() - b.levels,
            count: boot_count,
            rotation_keys,
            secure: rp.security() != ckks::SecurityLevel::None,
        }
    });
    if let Some(b) = &bootstrap_report {
        // its Galois keys, the switch back to the dense key, and the
        // relinearization key when the circuit has none (the switch to the
        // sparse key lives over q_0 ∪ P only)
        keys += b.rotation_keys + 1 + usize::from(!relin);
    }
    let limbs_in = input_level + 1;
    let report = CompileReport {
        packing: options.packing,
        depth,
        degree: n,
        q_bits: params
            .rlwe()
            .q()
            .iter()
            .map(|q| 64 - q.leading_zeros())
            .collect(),
        p_bits: params
            .rlwe()
            .p()
            .iter()
            .map(|q| 64 - q.leading_zeros())
            .collect(),
        scale_bits: options.scale_bits,
        output_scale_bits: scale.log2(),
        max_abs_input,
        steps: reports,
        activations,
        rotation_keys: rotations.len(),
        relinearization: relin,
        key_bytes: keys * key_bytes_each,
        // symmetric encryption: the uniform half travels as a seed
        query_ciphertext_bytes: limbs_in * n * 8,
        response_ciphertext_bytes: 2 * (level + 1) * n * 8,
        query_ciphertexts: if per_sample { 1 } else { n_in },
        response_ciphertexts: if per_sample { 1 } else { n_out },
        bootstrap: bootstrap_report,
    };
    Ok(Server {
        eval: Evaluator::new(&params),
        params,
        setup,
        evaluation: Evaluation::Graph(Box::new(GraphCircuit {
            steps: csteps,
            boot: boot.map(|b| Arc::clone(&b.boot)),
        })),
        plan,
        report: Some(report),
    })
}
