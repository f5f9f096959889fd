//! Key-switching decomposition with *centered* digits.
//!
//! `rlwe::ciphertext::decompose` extends each digit with the fast
//! approximate basis extension, whose representatives lie in `[0, q_j)`
//! (plus a small multiple of `q_j`). Their mean `q_j/2` makes the
//! key-switching noise `Σ_j d_j·e_j` large in the slots: the embedding of a
//! polynomial with a constant nonzero mean grows like `N`, not `√N`. With
//! centered digits in `(−q_j/2, q_j/2)` the noise in the slots is about
//! `√N` times smaller — 5 to 7 bits of precision after a rotation when the
//! special modulus `P` is not much larger than a digit (the N = 8192
//! preset). Same cost up to one floating-point estimate per coefficient.

use std::sync::{Arc, OnceLock};

use rlwe::params::Params;
use rlwe::poly::{Poly, Representation};
use rlwe::rns::{BasisExtender, RnsBasis};

use crate::Result;

/// Per-level digit extenders `(start, end, extender)`.
/// For each digit: its prime range `start..end`, the extender to the primes
/// before it (`q_0 … q_{start−1}`, if any) and the extender to the primes
/// after it (`q_end … q_l` and `P`). Two extenders let the extension write
/// straight into the digit's limbs, in order, with no copy.
type LevelDigits = Vec<(usize, usize, Option<BasisExtender>, BasisExtender)>;

/// The extender `{q_l} ∪ P → Q_{l−1}` and `P mod q_i` for `i ≤ l`.
type FusedTables = (BasisExtender, Vec<u64>);

/// Lazily built centered-decomposition tables for every level.
#[derive(Debug)]
pub(crate) struct Decomposer {
    levels: Vec<OnceLock<std::result::Result<LevelDigits, rlwe::Error>>>,
    /// Per level `l ≥ 1`: the extender `{q_l} ∪ P → Q_{l−1}` for fused
    /// relinearization + rescaling, and `P mod q_i` for `i ≤ l`.
    fused: Vec<OnceLock<std::result::Result<FusedTables, rlwe::Error>>>,
}

impl Decomposer {
    pub(crate) fn new(params: &Params) -> Arc<Self> {
        Arc::new(Self {
            levels: (0..=params.max_level()).map(|_| OnceLock::new()).collect(),
            fused: (0..=params.max_level()).map(|_| OnceLock::new()).collect(),
        })
    }

    fn tables(&self, params: &Params, level: usize) -> Result<&LevelDigits> {
        let cell = self.levels.get(level).ok_or(rlwe::Error::InvalidLevel {
            what: "decomposition level",
            got: level,
            max: params.max_level(),
        })?;
        let t = cell.get_or_init(|| {
            let q = params.q();
            let p = params.p();
            let alpha = p.len().max(1);
            let mut out = Vec::new();
            let mut start = 0;
            while start <= level {
                let end = (start + alpha).min(level + 1);
                let basis = RnsBasis::new(&q[start..end])?;
                let before = if start > 0 {
                    Some(BasisExtender::new(&basis, &q[..start])?)
                } else {
                    None
                };
                let after: Vec<u64> = q[end..=level].iter().chain(p).copied().collect();
                let after = BasisExtender::new(&basis, &after)?;
                out.push((start, end, before, after));
                start += alpha;
            }
            Ok(out)
        });
        t.as_ref().map_err(|e| e.clone().into())
    }

    /// The digits of `d` (over `Q_l`) with centered representatives,
    /// extended to `Q_l ∪ P`, in NTT form: a drop-in replacement of
    /// `rlwe::ciphertext::decompose` for `KeySwitchKey::apply_decomposed`.
    pub(crate) fn decompose(&self, params: &Params, d: &Poly) -> Result<Vec<Poly>> {
        let level = params.level_of(d.context())?;
        if params.p().is_empty() {
            return Err(rlwe::Error::InvalidParameters {
                reason: "key switching needs special primes P".into(),
            }
            .into());
        }
        let tables = self.tables(params, level)?;
        let ring = params.ring_qp(level)?;
        let plans = ring.plans();
        let n = params.degree();
        let ntt_in = d.representation() == Representation::Ntt;
        let mut dc = d.clone();
        dc.to_coeff();
        // Digit j: its own primes are the input's residues (taken from the
        // NTT form when the input has it: no transform needed), the other
        // primes of Q_l ∪ P get the centered extension, transformed limb by
        // limb. No zero-filled intermediate polynomial.
        type Digit = (usize, usize, Option<BasisExtender>, BasisExtender);
        let build = |(start, end, before, after): &Digit| -> Result<Poly> {
            let (start, end) = (*start, *end);
            let src = &dc.data()[start * n..end * n];
            let mut data = vec![0u64; ring.len() * n];
            if let Some(b) = before {
                b.extend(src, n, &mut data[..start * n], true);
            }
            after.extend(src, n, &mut data[end * n..], true);
            if ntt_in {
                data[start * n..end * n].copy_from_slice(&d.data()[start * n..end * n]);
            } else {
                data[start * n..end * n].copy_from_slice(src);
            }
            for (t, (limb, plan)) in data.chunks_mut(n).zip(plans).enumerate() {
                if !ntt_in || !(start..end).contains(&t) {
                    plan.forward(limb);
                }
            }
            Ok(Poly::from_limbs(ring, Representation::Ntt, data)?)
        };
        use rayon::prelude::*;
        if tables.len() > 1 && n >= 4096 {
            tables.par_iter().map(build).collect()
        } else {
            tables.iter().map(build).collect()
        }
    }
}

impl Decomposer {
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
