//! Tables for the fused relinearization + rescale.
//!
//! Key switching itself is `rlwe`'s: `rlwe::ciphertext::decompose`
//! (centered digits since rlwe 1d7fb10 — found by this crate: uncentered
//! digits have a mean of `q_j/2`, whose canonical embedding grows like `N`
//! instead of `√N`, which cost CKKS rotations 4–5 bits at N = 8192), then
//! `KeySwitchKey::apply_decomposed`. What `ckks` adds is the last step of
//! `mul_relin_rescale`: instead of dividing the key-switching result by `P`
//! and then the ciphertext by `q_l`, it adds `P·(c_0, c_1)` to the result
//! over `Q_l ∪ P` and divides by `P·q_l` once, which needs the extender
//! `{q_l} ∪ P → Q_{l−1}` built here (per level, on first use).

use std::sync::{Arc, OnceLock};

use rlwe::params::Params;
use rlwe::rns::{BasisExtender, RnsBasis};

use crate::Result;

/// The extender `{q_l} ∪ P → Q_{l−1}` and `P mod q_i` for `i ≤ l`.
type FusedTables = (BasisExtender, Vec<u64>);

/// Lazily built per-level tables.
#[derive(Debug)]
pub(crate) struct Decomposer {
    fused: Vec<OnceLock<std::result::Result<FusedTables, rlwe::Error>>>,
}

impl Decomposer {
    pub(crate) fn new(params: &Params) -> Arc<Self> {
        Arc::new(Self {
            fused: (0..=params.max_level()).map(|_| OnceLock::new()).collect(),
        })
    }

    /// The extender `{q_l} ∪ P → Q_{l−1}` and `P mod q_i` (`i ≤ l`).
    pub(crate) fn fused_tables(&self, params: &Params, level: usize) -> Result<&FusedTables> {
        let cell =
            self.fused
                .get(level)
                .filter(|_| level >= 1)
                .ok_or(rlwe::Error::InvalidLevel {
                    what: "fused rescaling level",
                    got: level,
                    max: params.max_level(),
                })?;
        let t = cell.get_or_init(|| {
            let q = params.q();
            let mut tail = vec![q[level]];
            tail.extend_from_slice(params.p());
            let ext = BasisExtender::new(&RnsBasis::new(&tail)?, &q[..level])?;
            let ring = params.ring_q(level)?;
            let p_mod = ring
                .moduli()
                .iter()
                .map(|m| {
                    params
                        .p()
                        .iter()
                        .fold(1u64, |acc, &p| m.mul(acc, m.reduce(p)))
                })
                .collect();
            Ok((ext, p_mod))
        });
        t.as_ref().map_err(|e| e.clone().into())
    }
}
