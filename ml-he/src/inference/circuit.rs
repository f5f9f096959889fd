//! The circuit [`Server::compile`] produces and its evaluation on a query.

use std::sync::Arc;

use ckks::{Bootstrapper, Plaintext, Polynomial};

use super::layout::SparseRows;
use super::{bootstrap, Diagonals, Packing, Server};
use crate::error::{Error, Result};

/// A linear block encoded for per-sample evaluation.
pub(crate) enum SampleLinear {
    Diagonals(Diagonals),
    Sparse(super::layout::SparseLinear),
}

/// A compiled step.
pub(crate) enum CStep {
    /// Per-sample linear block and its bias (laid out like the output).
    SampleLinear(SampleLinear, Plaintext),
    /// Batch linear block: `(rows, bias)`, weights at `pt_scale`, level.
    BatchLinear {
        rows: SparseRows,
        bias: Vec<f64>,
        pt_scale: f64,
        level: usize,
    },
    Square,
    /// A polynomial; `Some(s)`: its output is read at scale `s` (its
    /// coefficients were divided by the ratio, for the bootstrap after it).
    Poly(Polynomial, Option<f64>),
    /// A bootstrap of values at `scale`, its output multiplied by `mult`
    /// (see [`bootstrap::run`]).
    Bootstrap {
        scale: f64,
        mult: u64,
    },
}

/// The compiled circuit a [`Server`] evaluates.
pub(crate) struct GraphCircuit {
    pub steps: Vec<CStep>,
    /// The bootstrapper, when the circuit bootstraps.
    pub boot: Option<Arc<Bootstrapper>>,
}

impl Server {
    /// Evaluates a compiled graph on a (checked) query.
    pub(crate) fn evaluate_graph(
        &self,
        circuit: &GraphCircuit,
        keys: &super::EvaluationKeys,
        query: &super::Query,
    ) -> Result<Vec<ckks::Ciphertext>> {
        use rayon::prelude::*;
        let ev = &self.eval;
        let needs_relin = circuit
            .steps
            .iter()
            .any(|s| matches!(s, CStep::Square | CStep::Poly(..)));
        let rlk = if needs_relin {
            Some(self.relin(keys)?)
        } else {
            None
        };
        let relin = || rlk.ok_or_else(|| Error::Shape("internal: no relinearization key".into()));
        let boot = match &circuit.boot {
            Some(b) => Some((b.as_ref(), self.boot_keys(keys)?)),
            None => None,
        };
        // one ciphertext through an elementwise step (the same for both packings)
        let elementwise = |x: &ckks::Ciphertext, step: &CStep| -> Result<ckks::Ciphertext> {
            Ok(match step {
                CStep::Square => ev.mul_relin_rescale(x, x, relin()?)?,
                CStep::Poly(p, relabel) => {
                    let mut y = ev.evaluate_polynomial(x, p, relin()?)?;
                    if let Some(s) = relabel {
                        y.set_scale(*s)?;
                    }
                    y
                }
                CStep::Bootstrap { scale, mult } => {
                    let (b, k) =
                        boot.ok_or_else(|| Error::Shape("internal: no bootstrapper".into()))?;
                    bootstrap::run(ev, b, k, x, *scale, *mult)?
                }
                CStep::SampleLinear(..) | CStep::BatchLinear { .. } => {
                    return Err(Error::Shape(
                        "internal: a linear step is not elementwise".into(),
                    ))
                }
            })
        };
        match self.setup.packing {
            Packing::PerSample => {
                let gks = if self.setup.rotations.is_empty() {
                    None
                } else {
                    Some(self.galois(keys)?)
                };
                let galois =
                    || gks.ok_or_else(|| Error::Shape("internal: no rotation keys".into()));
                query
                    .ciphertexts
                    .par_iter()
                    .map(|ct| {
                        let mut x = ct.clone();
                        for step in &circuit.steps {
                            x = match step {
                                CStep::SampleLinear(lin, bias) => {
                                    let y = match lin {
                                        SampleLinear::Diagonals(d) => d.apply(ev, &x, galois()?)?,
                                        SampleLinear::Sparse(s) => s.apply(ev, &x, galois()?)?,
                                    };
                                    ev.add_plain(&y, bias)?
                                }
                                CStep::BatchLinear { .. } => {
                                    return Err(Error::Shape(
                                        "internal: batch step in a per-sample circuit".into(),
                                    ))
                                }
                                other => elementwise(&x, other)?,
                            };
                        }
                        Ok(x)
                    })
                    .collect()
            }
            Packing::Batch => {
                let mut xs: Vec<ckks::Ciphertext> = query
                    .ciphertexts
                    .iter()
                    .map(|ct| ev.drop_to_level(ct, self.setup.input_level))
                    .collect::<ckks::Result<_>>()?;
                for step in &circuit.steps {
                    xs = match step {
                        CStep::BatchLinear {
                            rows,
                            bias,
                            pt_scale,
                            level,
                        } => {
                            let xs_l = xs
                                .par_iter()
                                .map(|c| ev.drop_to_level(c, *level))
                                .collect::<ckks::Result<Vec<_>>>()?;
                            rows.par_iter()
                                .zip(bias)
                                .map(|(row, &b)| {
                                    let z = super::weighted_sum_terms(ev, &xs_l, row, *pt_scale)?;
                                    Ok(ev.add_const(&ev.rescale(&z)?, b)?)
                                })
                                .collect::<Result<Vec<_>>>()?
                        }
                        CStep::SampleLinear(..) => {
                            return Err(Error::Shape(
                                "internal: per-sample step in a batch circuit".into(),
                            ))
                        }
                        other => xs
                            .par_iter()
                            .map(|c| elementwise(c, other))
                            .collect::<Result<Vec<_>>>()?,
                    };
                }
                Ok(xs)
            }
        }
    }
}
