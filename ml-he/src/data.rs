//! The data sets shipped with hekit and their preprocessing.
//!
//! `data/breast_cancer.csv` (569 × 30, binary labels) and `data/digits.csv`
//! (1797 × 64, labels 0–9) are copies of scikit-learn's bundled sets (see
//! `data/README.md` for provenance and licence). Both files have a header row
//! and the label in the first column.
//!
//! Splits are a **seeded shuffle** (ChaCha20 seeded from a `u64`, Fisher–Yates)
//! followed by an 80/20 cut: reproducible across runs and platforms, but not
//! the same rows as scikit-learn's `train_test_split(random_state=0)`.
//!
//! ```no_run
//! use ml_he::data;
//! let split = data::breast_cancer_split(0)?; // standardized, 80/20
//! assert_eq!(split.train.n_features(), 30);
//! # Ok::<(), ml_he::Error>(())
//! ```

use std::path::{Path, PathBuf};

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use crate::error::{Error, Result};

/// A labelled data set: one row of features per sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Features, `x[i]` is sample `i`.
    pub x: Vec<Vec<f64>>,
    /// Labels (class indices), `y[i]` belongs to `x[i]`.
    pub y: Vec<usize>,
}

impl Dataset {
    /// Builds a data set, checking that all rows have the same length and
    /// that there is one label per row.
    pub fn new(x: Vec<Vec<f64>>, y: Vec<usize>) -> Result<Self> {
        if x.len() != y.len() {
            return Err(Error::Shape(format!(
                "{} feature rows but {} labels",
                x.len(),
                y.len()
            )));
        }
        if let Some(first) = x.first() {
            let d = first.len();
            if let Some((i, r)) = x.iter().enumerate().find(|(_, r)| r.len() != d) {
                return Err(Error::Shape(format!(
                    "row {i} has {} features, row 0 has {d}",
                    r.len()
                )));
            }
        }
        Ok(Self { x, y })
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.x.len()
    }

    /// True when there is no sample.
    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }

    /// Number of features per sample (0 for an empty set).
    pub fn n_features(&self) -> usize {
        self.x.first().map_or(0, Vec::len)
    }

    /// Number of classes (largest label + 1).
    pub fn n_classes(&self) -> usize {
        self.y.iter().max().map_or(0, |m| m + 1)
    }

    /// The samples at `indices`, in that order.
    pub fn subset(&self, indices: &[usize]) -> Result<Self> {
        let mut x = Vec::with_capacity(indices.len());
        let mut y = Vec::with_capacity(indices.len());
        for &i in indices {
            if i >= self.len() {
                return Err(Error::OutOfRange(format!(
                    "index {i} in a data set of {} samples",
                    self.len()
                )));
            }
            x.push(self.x[i].clone());
            y.push(self.y[i]);
        }
        Ok(Self { x, y })
    }

    /// Seeded shuffle, then the last `ceil((1 − train_fraction) · n)` samples
    /// go to `test` and the rest to `train` (the same sizes as scikit-learn's
    /// `train_test_split`, not the same rows).
    pub fn split(&self, train_fraction: f64, seed: u64) -> Result<Split> {
        if !(0.0..=1.0).contains(&train_fraction) {
            return Err(Error::OutOfRange(format!(
                "train fraction {train_fraction} is not in [0, 1]"
            )));
        }
        let mut idx: Vec<usize> = (0..self.len()).collect();
        idx.shuffle(&mut ChaCha20Rng::seed_from_u64(seed));
        let n_test = ((1.0 - train_fraction) * self.len() as f64 - 1e-9)
            .ceil()
            .max(0.0) as usize;
        let n_train = self.len() - n_test.min(self.len());
        Ok(Split {
            train: self.subset(&idx[..n_train])?,
            test: self.subset(&idx[n_train..])?,
        })
    }

    /// Cuts the set into `n` disjoint shards of near-equal size (sample `i`
    /// goes to shard `i mod n`), e.g. one per federated client.
    pub fn shards(&self, n: usize) -> Result<Vec<Self>> {
        if n == 0 {
            return Err(Error::OutOfRange("zero shards".into()));
        }
        let mut out = vec![
            Self {
                x: Vec::new(),
                y: Vec::new()
            };
            n
        ];
        for (i, (x, &y)) in self.x.iter().zip(&self.y).enumerate() {
            out[i % n].x.push(x.clone());
            out[i % n].y.push(y);
        }
        Ok(out)
    }

    /// Multiplies every feature by `factor` (digits: `1/16`).
    pub fn scale(&mut self, factor: f64) {
        for r in &mut self.x {
            for v in r {
                *v *= factor;
            }
        }
    }
}

/// A train / test split.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// Training samples.
    pub train: Dataset,
    /// Held-out samples.
    pub test: Dataset,
}

/// Per-feature standardization `(x − mean) / std`, fitted on training data.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Standardizer {
    /// Per-feature mean.
    pub mean: Vec<f64>,
    /// Per-feature standard deviation (population; 1 where it is 0).
    pub std: Vec<f64>,
}

impl Standardizer {
    /// Fits mean and (population) standard deviation on `data`.
    pub fn fit(data: &Dataset) -> Result<Self> {
        if data.is_empty() {
            return Err(Error::Data("cannot standardize an empty data set".into()));
        }
        let d = data.n_features();
        let n = data.len() as f64;
        let mut mean = vec![0.0; d];
        for r in &data.x {
            for (m, v) in mean.iter_mut().zip(r) {
                *m += v;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n);
        let mut var = vec![0.0; d];
        for r in &data.x {
            for ((s, v), m) in var.iter_mut().zip(r).zip(&mean) {
                *s += (v - m) * (v - m);
            }
        }
        let std = var
            .into_iter()
            .map(|s| {
                let sd = (s / n).sqrt();
                if sd > 0.0 {
                    sd
                } else {
                    1.0
                }
            })
            .collect();
        Ok(Self { mean, std })
    }

    /// Standardizes one sample.
    pub fn transform_row(&self, row: &[f64]) -> Result<Vec<f64>> {
        if row.len() != self.mean.len() {
            return Err(Error::Shape(format!(
                "sample has {} features, the standardizer {}",
                row.len(),
                self.mean.len()
            )));
        }
        Ok(row
            .iter()
            .zip(self.mean.iter().zip(&self.std))
            .map(|(v, (m, s))| (v - m) / s)
            .collect())
    }

    /// Standardizes every sample of `data` in place.
    pub fn transform(&self, data: &mut Dataset) -> Result<()> {
        for r in &mut data.x {
            *r = self.transform_row(r)?;
        }
        Ok(())
    }
}

/// Path of a file in the workspace's `data/` folder.
pub fn data_path(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("data")
        .join(file)
}

/// Parses a CSV text with a header row, the integer label in the first
/// column and `n_features` numeric features after it.
pub fn parse_csv(text: &str, n_features: Option<usize>) -> Result<Dataset> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header = lines
        .next()
        .ok_or_else(|| Error::Data("empty CSV file".into()))?;
    let cols = header.split(',').count();
    if cols < 2 {
        return Err(Error::Data(format!("header has {cols} column(s)")));
    }
    if let Some(d) = n_features {
        if cols != d + 1 {
            return Err(Error::Data(format!(
                "header has {cols} columns, expected label + {d} features"
            )));
        }
    }
    let mut x = Vec::new();
    let mut y = Vec::new();
    for (ln, line) in lines.enumerate() {
        let mut fields = line.split(',').map(str::trim);
        let label = fields.next().unwrap_or_default();
        let label: usize = label
            .parse()
            .map_err(|_| Error::Data(format!("row {}: bad label {label:?}", ln + 1)))?;
        let row = fields
            .map(|f| {
                f.parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| Error::Data(format!("row {}: bad value {f:?}", ln + 1)))
            })
            .collect::<Result<Vec<f64>>>()?;
        if row.len() + 1 != cols {
            return Err(Error::Data(format!(
                "row {} has {} columns, the header {cols}",
                ln + 1,
                row.len() + 1
            )));
        }
        x.push(row);
        y.push(label);
    }
    Dataset::new(x, y)
}

/// Reads a CSV file (header, label first) from `path`.
pub fn load_csv(path: impl AsRef<Path>, n_features: Option<usize>) -> Result<Dataset> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Data(format!("cannot read {}: {e}", path.display())))?;
    parse_csv(&text, n_features)
}

/// Breast cancer (569 × 30, label 0 = malignant, 1 = benign), raw features,
/// from the workspace's `data/breast_cancer.csv`.
pub fn load_breast_cancer() -> Result<Dataset> {
    load_csv(data_path("breast_cancer.csv"), Some(30))
}

/// Digits (1797 × 64, labels 0–9), raw pixel values 0..16, from the
/// workspace's `data/digits.csv`.
pub fn load_digits() -> Result<Dataset> {
    load_csv(data_path("digits.csv"), Some(64))
}

/// Breast cancer split 80/20 by a seeded shuffle, standardized with mean and
/// standard deviation fitted on the training part only. Returns the split and
/// the fitted standardizer (to preprocess new samples the same way).
pub fn breast_cancer_split_with_scaler(seed: u64) -> Result<(Split, Standardizer)> {
    let mut split = load_breast_cancer()?.split(0.8, seed)?;
    let st = Standardizer::fit(&split.train)?;
    st.transform(&mut split.train)?;
    st.transform(&mut split.test)?;
    Ok((split, st))
}

/// Breast cancer split 80/20 (seeded shuffle), standardized on train.
pub fn breast_cancer_split(seed: u64) -> Result<Split> {
    Ok(breast_cancer_split_with_scaler(seed)?.0)
}

/// Digits split 80/20 (seeded shuffle), pixels divided by 16 (to `[0, 1]`).
pub fn digits_split(seed: u64) -> Result<Split> {
    let mut d = load_digits()?;
    d.scale(1.0 / 16.0);
    d.split(0.8, seed)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn loads_and_splits() {
        let s = breast_cancer_split(0).unwrap();
        assert_eq!(s.train.len(), 455);
        assert_eq!(s.test.len(), 114);
        assert_eq!(s.train.n_features(), 30);
        let m: f64 = s.train.x.iter().map(|r| r[0]).sum::<f64>() / 455.0;
        assert!(m.abs() < 1e-9);
        let d = digits_split(0).unwrap();
        assert_eq!(d.train.len() + d.test.len(), 1797);
        assert_eq!(d.test.len(), 360);
        assert_eq!(d.train.n_classes(), 10);
        assert!(d.train.x.iter().flatten().all(|v| (0.0..=1.0).contains(v)));
    }

    #[test]
    fn bad_csv() {
        assert!(matches!(parse_csv("", None), Err(Error::Data(_))));
        assert!(matches!(
            parse_csv("label,a,b\n1,2\n", None),
            Err(Error::Data(_))
        ));
        assert!(matches!(
            parse_csv("label,a\nx,2\n", None),
            Err(Error::Data(_))
        ));
        assert!(matches!(
            parse_csv("label,a\n1,nan\n", None),
            Err(Error::Data(_))
        ));
    }
}
