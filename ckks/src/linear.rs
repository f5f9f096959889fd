//! Linear transforms: matrix × vector on packed slots by the diagonal
//! method (Halevi–Shoup, CRYPTO 2014) with baby-step giant-step rotations
//! (Halevi–Shoup, CRYPTO 2018).
//!
//! The input vector `x` of dimension `d` (a power of two dividing N/2) must
//! be *tiled*: slot `j` holds `x_{j mod d}` (see [`tile`]). Then
//! `M·x = Σ_i diag_i ⊙ rot_i(x)` with `diag_i[j] = M[j][(j + i) mod d]`;
//! writing `i = t·g + b` (`g ≈ √d`),
//! `M·x = Σ_t rot_{t·g}( Σ_b rot_{−t·g}(diag_{t·g+b}) ⊙ rot_b(x) )`:
//! `g − 1` baby rotations of `x` (hoisted: one key-switching decomposition)
//! and `d/g − 1` giant rotations (combined by Horner's rule when every giant
//! step has a nonzero diagonal, so they all rotate by `g`: `g` keys in all
//! instead of `g + d/g − 2`), one plaintext multiplication per nonzero
//! diagonal and a single rescale. The output is tiled the same way, so
//! transforms chain.
//!
//! A matrix with few nonzero diagonals ([`LinearTransform::from_diagonals`],
//! e.g. a group of stages of a factored FFT, whose offsets are the
//! multiples of a power of two `s` in a window `k_min·s, …, (k_min + w)·s`)
//! is split the same way inside its window: baby steps `s·(k_min + b)`,
//! giant steps multiples of `s·g` with `g² ≥ w`, so the cost follows the
//! number of diagonals, not `d`.

use rlwe::poly::{Poly, Representation};

use crate::ciphertext::Ciphertext;
use crate::complex::Complex;
use crate::encoder::{Encoder, Plaintext};
use crate::evaluator::Evaluator;
use crate::keys::GaloisKeys;
use crate::{Error, Result};

/// `values` (length `d`) repeated over `slots` slots.
pub fn tile(values: &[f64], slots: usize) -> Vec<f64> {
    if values.is_empty() {
        return vec![0.0; slots];
    }
    (0..slots).map(|j| values[j % values.len()]).collect()
}

/// A `d × d` matrix encoded for one level: the pre-rotated diagonals as
/// plaintexts at scale `q_level`, so that the product, once rescaled, has
/// exactly the scale of the input.
#[derive(Clone, Debug)]
pub struct LinearTransform {
    dim: usize,
    /// The giant step `G`: giant `t` rotates by `t·G`.
    giant: usize,
    level: usize,
    /// The scale of the diagonals (`q_level` unless chosen).
    scale: f64,
    /// `(t, baby step β, plaintext of rot_{−t·G}(diag_{t·G+β}))` for the
    /// nonzero diagonals.
    diagonals: Vec<(usize, usize, Plaintext)>,
}

/// The checks every complex constructor shares: finite entries, a scale
/// of at least 1, a level with a prime to rescale by.
fn check_entries<'a>(
    mut entries: impl Iterator<Item = &'a Complex>,
    scale: f64,
    level: usize,
) -> Result<()> {
    if entries.any(|x| !x.re.is_finite() || !x.im.is_finite()) {
        return Err(Error::ValueOutOfRange {
            what: "matrix entry is not finite".into(),
        });
    }
    if !(scale.is_finite() && scale >= 1.0) {
        return Err(Error::InvalidArgument {
            what: format!("diagonal scale {scale} must be finite and ≥ 1"),
        });
    }
    if level == 0 {
        return Err(Error::NotEnoughLevels {
            what: "linear transform",
            needed: 1,
            available: 0,
        });
    }
    Ok(())
}

impl LinearTransform {
    /// Encodes `matrix` (a list of rows) for ciphertexts at `level`. A
    /// rectangular `r × c` matrix is padded with zeros to `d × d`, `d` the
    /// smallest power of two `≥ max(r, c)` ([`Self::dim`]); the input must
    /// then be tiled with period `d` ([`Self::tile_input`]) and output `i`
    /// is in slot `i` (and `i + d`, `i + 2d`, …).
    pub fn new(encoder: &Encoder, matrix: &[Vec<f64>], level: usize) -> Result<Self> {
        let slots = encoder.slots();
        let rows = matrix.len();
        let cols = matrix.iter().map(Vec::len).max().unwrap_or(0);
        if rows == 0 || cols == 0 || matrix.iter().any(|r| r.len() != cols) {
            return Err(Error::InvalidArgument {
                what: "matrix is empty or ragged".into(),
            });
        }
        let d = rows.max(cols).next_power_of_two();
        if d > slots {
            return Err(Error::InvalidArgument {
                what: format!("matrix dimension {d} (padded) exceeds the {slots} slots"),
            });
        }
        if matrix.iter().flatten().any(|x| !x.is_finite()) {
            return Err(Error::ValueOutOfRange {
                what: "matrix entry is not finite".into(),
            });
        }
        if level == 0 {
            return Err(Error::NotEnoughLevels {
                what: "linear transform",
                needed: 1,
                available: 0,
            });
        }
        let q = encoder.params().q(level)? as f64;
        Self::build_dense(encoder, d, level, q, |j, k| {
            Complex::real(matrix.get(j).and_then(|r| r.get(k)).copied().unwrap_or(0.0))
        })
    }

    /// As [`Self::new`] for a complex matrix (the diagonals are encoded as
    /// complex slot vectors; the input and output are complex slot vectors
    /// tiled with period [`Self::dim`]).
    pub fn new_complex(encoder: &Encoder, matrix: &[Vec<Complex>], level: usize) -> Result<Self> {
        let q = encoder.params().q(level)? as f64;
        Self::new_complex_with_scale(encoder, matrix, level, q)
    }

    /// As [`Self::new_complex`] with the diagonals encoded at `scale`
    /// instead of `q_level`: the output's scale is the input's times
    /// `scale / q_level` (bootstrapping uses it to come down from the
    /// scale of a raised ciphertext).
    pub fn new_complex_with_scale(
        encoder: &Encoder,
        matrix: &[Vec<Complex>],
        level: usize,
        scale: f64,
    ) -> Result<Self> {
        let slots = encoder.slots();
        let rows = matrix.len();
        let cols = matrix.iter().map(Vec::len).max().unwrap_or(0);
        if rows == 0 || cols == 0 || matrix.iter().any(|r| r.len() != cols) {
            return Err(Error::InvalidArgument {
                what: "matrix is empty or ragged".into(),
            });
        }
        let d = rows.max(cols).next_power_of_two();
        if d > slots {
            return Err(Error::InvalidArgument {
                what: format!("matrix dimension {d} (padded) exceeds the {slots} slots"),
            });
        }
        check_entries(matrix.iter().flatten(), scale, level)?;
        Self::build_dense(encoder, d, level, scale, |j, k| {
            matrix
                .get(j)
                .and_then(|r| r.get(k))
                .copied()
                .unwrap_or(Complex::real(0.0))
        })
    }

    /// The diagonals of the `d × d` matrix `entry(row, col)`.
    fn build_dense(
        encoder: &Encoder,
        d: usize,
        level: usize,
        scale: f64,
        entry: impl Fn(usize, usize) -> Complex,
    ) -> Result<Self> {
        let diagonals = (0..d)
            .map(|i| (i, (0..d).map(|j| entry(j, (j + i) % d)).collect()))
            .collect();
        Self::build(encoder, d, level, scale, diagonals)
    }

    /// Encodes a `d × d` complex matrix given by its diagonals:
    /// `diagonals[o][j] = M[j][(j + o) mod d]` for each offset `o < d`
    /// (absent offsets are zero). A sparse set of offsets — the stages of
    /// a factored FFT have offsets `{0, ±h}` or, merged, every multiple of
    /// a power of two in a window — costs rotations in proportion to the
    /// square root of the window, not of `d`. `d` must be a power of two
    /// dividing the slot count; the input is tiled with period `d`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a bad dimension, an offset `≥ d` or
    /// a diagonal of the wrong length; [`Error::ValueOutOfRange`] for a
    /// non-finite entry; [`Error::NotEnoughLevels`] at level 0.
    pub fn from_diagonals(
        encoder: &Encoder,
        d: usize,
        diagonals: &std::collections::BTreeMap<usize, Vec<Complex>>,
        level: usize,
        scale: f64,
    ) -> Result<Self> {
        let slots = encoder.slots();
        if !d.is_power_of_two() || d > slots {
            return Err(Error::InvalidArgument {
                what: format!("dimension {d}: a power of two up to the {slots} slots"),
            });
        }
        if let Some((o, v)) = diagonals.iter().find(|(o, v)| **o >= d || v.len() != d) {
            return Err(Error::InvalidArgument {
                what: format!(
                    "diagonal at offset {o} of length {} for dimension {d}",
                    v.len()
                ),
            });
        }
        check_entries(diagonals.values().flatten(), scale, level)?;
        let list = diagonals.iter().map(|(o, v)| (*o, v.clone())).collect();
        Self::build(encoder, d, level, scale, list)
    }

    /// Encodes the nonzero diagonals `(offset, values)`, pre-rotated for
    /// the baby-step giant-step split (see [`split`]).
    fn build(
        encoder: &Encoder,
        d: usize,
        level: usize,
        scale: f64,
        mut list: Vec<(usize, Vec<Complex>)>,
    ) -> Result<Self> {
        let slots = encoder.slots();
        list.retain(|(_, v)| nonzero(v));
        list.sort_by_key(|(o, _)| *o);
        let offsets: Vec<usize> = list.iter().map(|(o, _)| *o).collect();
        let (giant, placed) = split(d, &offsets);
        let mut diagonals = Vec::with_capacity(list.len());
        for ((_, diag), &(t, baby)) in list.iter().zip(&placed) {
            let shift = (t * giant) % d;
            // rot_{−shift}: slot j receives diag[(j − shift) mod d].
            let rotated: Vec<Complex> = (0..slots).map(|j| diag[(j % d + d - shift) % d]).collect();
            let pt = encoder.encode_complex_at(&rotated, level, scale)?;
            diagonals.push((t, baby, pt));
        }
        Ok(Self {
            dim: d,
            giant,
            level,
            scale,
            diagonals,
        })
    }

    /// The (padded) dimension `d`: the period of the input and output tiling.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// `x` padded with zeros to [`Self::dim`] and tiled over `slots` slots.
    pub fn tile_input(&self, x: &[f64], slots: usize) -> Result<Vec<f64>> {
        if x.len() > self.dim {
            return Err(Error::InvalidArgument {
                what: format!(
                    "{} inputs for a transform of dimension {}",
                    x.len(),
                    self.dim
                ),
            });
        }
        let mut v = x.to_vec();
        v.resize(self.dim, 0.0);
        Ok(tile(&v, slots))
    }

    /// The scale the diagonals are encoded at: the output's scale is the
    /// input's times `scale / q_level`.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// The level the diagonals are encoded for.
    pub fn level(&self) -> usize {
        self.level
    }

    /// The rotation steps the transform needs keys for.
    pub fn rotation_steps(&self) -> Vec<i64> {
        let placed: Vec<(usize, usize)> = self.diagonals.iter().map(|(t, b, _)| (*t, *b)).collect();
        steps(self.giant, self.dim, &placed)
    }

    /// The giant-step indices with at least one nonzero diagonal.
    fn giants(&self) -> Vec<usize> {
        let mut g: Vec<usize> = self.diagonals.iter().map(|(t, _, _)| *t).collect();
        g.sort_unstable();
        g.dedup();
        g
    }

    /// Whether the giant steps are dense (`0, 1, …, t_max` all present): then
    /// they are combined by Horner's rule, `Σ_t rot_{t·G}(y_t) =
    /// y_0 + rot_G(y_1 + rot_G(y_2 + …))` — as many rotations, all by `G`,
    /// so one giant-step key instead of `t_max`.
    fn horner(&self) -> bool {
        let placed: Vec<(usize, usize)> = self.diagonals.iter().map(|(t, b, _)| (*t, *b)).collect();
        horner(&placed)
    }
}

/// Whether a diagonal has a nonzero entry (all-zero diagonals are dropped).
fn nonzero(v: &[Complex]) -> bool {
    v.iter().any(|x| x.re != 0.0 || x.im != 0.0)
}

/// The baby-step giant-step split of a `d × d` matrix whose nonzero
/// diagonals have the sorted `offsets`: the giant step `G` and, per
/// offset, `(t, β)` with the diagonal applied as `rot_{t·G}(… ⊙ rot_β(x))`.
/// The offsets are multiples of a power of two `s` (the largest dividing
/// all of them); as multiples `k·s` they lie in a cyclic window starting at
/// `k_min` (after the largest gap) of width `w`. With `g` the smallest
/// power of two with `g² ≥ w`, offset `k·s` is `s·(k_min + b) + t·(s·g)`:
/// baby rotations by `s·(k_min + b)`, `b < g` (hoisted), giant rotations by
/// multiples of `G = s·g`.
fn split(d: usize, offsets: &[usize]) -> (usize, Vec<(usize, usize)>) {
    let s = offsets
        .iter()
        .map(|o| if *o == 0 { d } else { 1 << o.trailing_zeros() })
        .min()
        .unwrap_or(d)
        .min(d);
    let window = d / s;
    let ks: Vec<usize> = offsets.iter().map(|o| o / s).collect();
    let k_min = if ks.len() <= 1 {
        ks.first().copied().unwrap_or(0)
    } else {
        // the element after the largest cyclic gap
        // (ties: the first, so that a full set starts at 0)
        let (mut gap, mut at) = (ks[0] + window - ks[ks.len() - 1], 0);
        for i in 1..ks.len() {
            if ks[i] - ks[i - 1] > gap {
                (gap, at) = (ks[i] - ks[i - 1], i);
            }
        }
        ks[at]
    };
    let width = ks
        .iter()
        .map(|k| (k + window - k_min) % window + 1)
        .max()
        .unwrap_or(1);
    let mut g = 1usize;
    while g * g < width {
        g <<= 1;
    }
    let giant = (s * g) % d;
    let placed = ks
        .iter()
        .map(|k| {
            let rel = (k + window - k_min) % window;
            (rel / g, s * ((k_min + rel % g) % window))
        })
        .collect();
    (giant, placed)
}

/// Whether the giant steps are `0, 1, …, t_max` (Horner's rule applies).
fn horner(placed: &[(usize, usize)]) -> bool {
    let mut g: Vec<usize> = placed.iter().map(|(t, _)| *t).collect();
    g.sort_unstable();
    g.dedup();
    g.iter().enumerate().all(|(i, &t)| i == t)
}

/// The rotation steps of a split: every nonzero baby step, and the giant
/// step `G` (Horner) or each `t·G`.
fn steps(giant: usize, d: usize, placed: &[(usize, usize)]) -> Vec<i64> {
    let horner = horner(placed);
    let mut v: Vec<i64> = Vec::new();
    for &(t, b) in placed {
        if b != 0 {
            v.push(b as i64);
        }
        if t != 0 {
            v.push(if horner { giant } else { (t * giant) % d } as i64);
        }
    }
    v.sort_unstable();
    v.dedup();
    v
}

/// The rotation steps [`LinearTransform::from_diagonals`] would need for
/// these diagonals, without encoding them.
pub(crate) fn rotation_steps_of(
    d: usize,
    diagonals: &std::collections::BTreeMap<usize, Vec<Complex>>,
) -> Vec<i64> {
    let offsets: Vec<usize> = diagonals
        .iter()
        .filter(|(_, v)| nonzero(v))
        .map(|(o, _)| *o)
        .collect();
    let (giant, placed) = split(d, &offsets);
    steps(giant, d, &placed)
}

impl Evaluator {
    /// `M·x` for a tiled input `x` (see the module docs); one level.
    pub fn linear_transform(
        &self,
        ct: &Ciphertext,
        lt: &LinearTransform,
        gks: &GaloisKeys,
    ) -> Result<Ciphertext> {
        if ct.level() < lt.level {
            return Err(Error::InvalidLevel {
                what: "ciphertext below the level the transform was encoded for",
                got: ct.level(),
                max: lt.level,
            });
        }
        let dropped;
        let x = if ct.level() == lt.level {
            ct
        } else {
            dropped = self.drop_to_level(ct, lt.level)?;
            &dropped
        };
        self.check_product_scale(x.scale() * lt.scale, lt.level)?;
        let mut babies: Vec<usize> = lt.diagonals.iter().map(|(_, b, _)| *b).collect();
        babies.sort_unstable();
        babies.dedup();
        // baby step 0 is x itself (no copy)
        let steps: Vec<i64> = babies
            .iter()
            .filter(|&&b| b != 0)
            .map(|&b| b as i64)
            .collect();
        let rotated = self.rotate_hoisted(x, &steps, gks)?;
        let nonzero: Vec<usize> = babies.iter().copied().filter(|&b| b != 0).collect();
        let giants = lt.giants();
        let horner = lt.horner();
        let rp = self.params().rlwe();
        let ring = rp.ring_q(lt.level)?;
        let mut total: Option<Ciphertext> = None;
        let order: Vec<usize> = if horner {
            giants.iter().rev().copied().collect()
        } else {
            giants.clone()
        };
        for t in order {
            // Σ_b pt_{t,b} ⊙ rot_b(x), accumulated in place (NTT domain).
            let mut acc0 = Poly::zero(ring, Representation::Ntt);
            let mut acc1 = Poly::zero(ring, Representation::Ntt);
            for (tt, b, pt) in &lt.diagonals {
                if *tt != t {
                    continue;
                }
                let parts = if *b == 0 {
                    x.rlwe().parts()
                } else {
                    let idx = nonzero
                        .binary_search(b)
                        .map_err(|_| Error::InvalidArgument {
                            what: "internal: baby step missing".into(),
                        })?;
                    rotated[idx].rlwe().parts()
                };
                let p = pt.ntt_poly();
                acc0.mul_acc(&parts[0], &p)?;
                acc1.mul_acc(&parts[1], &p)?;
            }
            let inner = Ciphertext::from_rlwe(
                self.params(),
                rlwe::ciphertext::Ciphertext::new(rp, vec![acc0, acc1])?,
                x.scale() * lt.scale,
            )?;
            if horner {
                // total ← rot_g(total) + y_t, from the last giant step down.
                total = Some(match total {
                    None => inner,
                    Some(acc) => {
                        let mut r = self.rotate(&acc, lt.giant as i64, gks)?;
                        self.add_assign(&mut r, &inner)?;
                        r
                    }
                });
            } else {
                let shifted = if t == 0 {
                    inner
                } else {
                    self.rotate(&inner, ((t * lt.giant) % lt.dim) as i64, gks)?
                };
                match &mut total {
                    None => total = Some(shifted),
                    Some(acc) => self.add_assign(acc, &shifted)?,
                }
            }
        }
        match total {
            Some(t) => self.rescale(&t),
            None => {
                // The zero matrix.
                let z = self.mul_integer(x, 0)?;
                self.drop_to_level(&z, lt.level - 1)
            }
        }
    }
}
