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
type LevelDigits = Vec<(usize, usize, BasisExtender)>;

/// Lazily built centered-decomposition tables for every level.
#[derive(Debug)]
pub(crate) struct Decomposer {
    levels: Vec<OnceLock<std::result::Result<LevelDigits, rlwe::Error>>>,
}

impl Decomposer {
    pub(crate) fn new(params: &Params) -> Arc<Self> {
        Arc::new(Self {
            levels: (0..=params.max_level()).map(|_| OnceLock::new()).collect(),
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
                let targets: Vec<u64> = q[..=level]
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !(start..end).contains(i))
                    .map(|(_, &x)| x)
                    .chain(p.iter().copied())
                    .collect();
                let ext = BasisExtender::new(&RnsBasis::new(&q[start..end])?, &targets)?;
                out.push((start, end, ext));
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
        let n = params.degree();
        let mut dc = d.clone();
        dc.to_coeff();
        let build = |(start, end, ext): &(usize, usize, BasisExtender)| -> Result<Poly> {
            let src = &dc.data()[start * n..end * n];
            let mut ext_out = vec![0u64; ext.to_moduli().len() * n];
            ext.extend(src, n, &mut ext_out, true);
            let mut digit = Poly::zero(ring, Representation::Coefficient);
            let mut k = 0;
            for t in 0..ring.len() {
                let dst = digit.limb_mut(t);
                if (*start..*end).contains(&t) {
                    dst.copy_from_slice(&src[(t - start) * n..(t - start + 1) * n]);
                } else {
                    dst.copy_from_slice(&ext_out[k * n..(k + 1) * n]);
                    k += 1;
                }
            }
            digit.to_ntt();
            Ok(digit)
        };
        use rayon::prelude::*;
        if tables.len() > 1 && n >= 4096 {
            tables.par_iter().map(build).collect()
        } else {
            tables.iter().map(build).collect()
        }
    }
}
