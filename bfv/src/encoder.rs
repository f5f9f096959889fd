//! Plaintexts and the encoders: SIMD batching (2 × N/2 slots, rows and
//! columns as in SEAL) and plain coefficient encoding.

use std::collections::HashMap;
use std::sync::Arc;

use crate::params::Parameters;
use crate::{Error, Result};

/// How a plaintext was encoded (decoding checks it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// One value per SIMD slot.
    Batch,
    /// One value per polynomial coefficient.
    Coefficients,
}

/// A plaintext: a polynomial with coefficients in `[0, t)`.
#[derive(Clone, PartialEq, Eq)]
pub struct Plaintext {
    pub(crate) params: Arc<Parameters>,
    pub(crate) coeffs: Vec<u64>,
    pub(crate) encoding: Encoding,
}

impl std::fmt::Debug for Plaintext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plaintext")
            .field("encoding", &self.encoding)
            .finish_non_exhaustive()
    }
}

impl PartialEq for Parameters {
    fn eq(&self, other: &Self) -> bool {
        self.fingerprint() == other.fingerprint()
    }
}
impl Eq for Parameters {}

impl Plaintext {
    /// The parameters.
    pub fn params(&self) -> &Arc<Parameters> {
        &self.params
    }

    /// Coefficients in `[0, t)`.
    pub fn coefficients(&self) -> &[u64] {
        &self.coeffs
    }

    /// The encoding.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// The plaintext inside a decryption phase `x = c_0 + c_1·s + …` (a
    /// polynomial over some level `Q_l`): `round(t·x/Q_l) mod t`. This is
    /// the last step of decryption, also used by multiparty decryption,
    /// where `x` is assembled from decryption shares.
    pub fn from_phase(
        params: &Arc<Parameters>,
        x: &rlwe::poly::Poly,
        encoding: Encoding,
    ) -> Result<Self> {
        let level = params.rlwe().level_of(x.context())?;
        let mut x = x.clone();
        x.to_coeff();
        let n = params.degree();
        let mut coeffs = vec![0u64; n];
        params
            .level(level)?
            .dec_scaler
            .scale(x.data(), n, &mut coeffs);
        Ok(Plaintext {
            params: params.clone(),
            coeffs,
            encoding,
        })
    }

    /// Coefficients centered in `(−t/2, t/2]`.
    pub fn centered(&self) -> Vec<i64> {
        let t = self.params.t();
        self.coeffs.iter().map(|&c| t.center(c)).collect()
    }
}

/// Encodes integer vectors into plaintexts and back.
#[derive(Clone)]
pub struct Encoder {
    params: Arc<Parameters>,
    /// Slot `s` ↦ index in the NTT-modulo-t vector.
    slot_to_ntt: Vec<usize>,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("bfv::Encoder").finish_non_exhaustive()
    }
}

impl Encoder {
    /// An encoder for `params`. Slot `(row r, column j)` holds the value of
    /// the plaintext at `ζ^{±5^j}` (`+` for row 0, `−` for row 1), so the
    /// Galois element `5^k` rotates both rows left by `k` and `2N − 1` swaps
    /// the rows.
    pub fn new(params: &Arc<Parameters>) -> Self {
        let n = params.degree();
        let slot_to_ntt = match params.batching_plan() {
            Some(plan) => {
                let t = *plan.modulus();
                let mut x = vec![0u64; n];
                x[1] = 1;
                plan.forward(&mut x); // the evaluation points
                let index: HashMap<u64, usize> =
                    x.iter().enumerate().map(|(i, &w)| (w, i)).collect();
                let zeta = x[0];
                let two_n = 2 * n as u64;
                let mut out = vec![0usize; n];
                let mut e = 1u64; // 5^j mod 2N
                for j in 0..n / 2 {
                    let plus = t.pow(zeta, e);
                    let minus = t.pow(zeta, two_n - e);
                    out[j] = index.get(&plus).copied().unwrap_or(0);
                    out[n / 2 + j] = index.get(&minus).copied().unwrap_or(0);
                    e = e * 5 % two_n;
                }
                out
            }
            None => Vec::new(),
        };
        Self {
            params: params.clone(),
            slot_to_ntt,
        }
    }

    /// Number of SIMD slots (N).
    pub fn slots(&self) -> usize {
        self.params.degree()
    }

    fn reduce(&self, v: i64) -> Result<u64> {
        let t = self.params.plaintext_modulus();
        let half = (t / 2) as i128;
        let v128 = v as i128;
        if v128 >= t as i128 || v128 < -half {
            return Err(Error::PlaintextOutOfRange { value: v128, t });
        }
        Ok(self.params.t().reduce_i64(v))
    }

    /// Batch-encodes up to N values, each in `[−⌊t/2⌋, t)` (signed or
    /// unsigned); missing slots are zero. Slots `0..N/2` are row 0.
    pub fn encode(&self, values: &[i64]) -> Result<Plaintext> {
        let plan = self
            .params
            .batching_plan()
            .ok_or(Error::BatchingUnavailable {
                t: self.params.plaintext_modulus(),
            })?;
        let n = self.params.degree();
        if values.len() > n {
            return Err(Error::TooManyValues {
                got: values.len(),
                max: n,
            });
        }
        // the range check once (a branch-free scan), then a lift without
        // reductions: v ∈ [−⌊t/2⌋, t) is v or v + t
        let t = self.params.plaintext_modulus();
        let (lo, hi) = values
            .iter()
            .fold((0i64, 0i64), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        if lo < -((t / 2) as i64) || hi >= t as i64 {
            let bad = values
                .iter()
                .copied()
                .find(|&v| self.reduce(v).is_err())
                .unwrap_or(lo);
            return Err(Error::PlaintextOutOfRange {
                value: i128::from(bad),
                t,
            });
        }
        let mut evals = vec![0u64; n];
        for (&slot, &v) in self.slot_to_ntt.iter().zip(values) {
            evals[slot] = (v as u64).wrapping_add(t & ((v >> 63) as u64));
        }
        plan.backward(&mut evals);
        Ok(Plaintext {
            params: self.params.clone(),
            coeffs: evals,
            encoding: Encoding::Batch,
        })
    }

    /// Batch-encodes unsigned values in `[0, t)`.
    pub fn encode_u64(&self, values: &[u64]) -> Result<Plaintext> {
        let t = self.params.plaintext_modulus();
        let signed = values
            .iter()
            .map(|&v| {
                if v >= t {
                    Err(Error::PlaintextOutOfRange {
                        value: v as i128,
                        t,
                    })
                } else {
                    Ok(v as i64)
                }
            })
            .collect::<Result<Vec<_>>>()?;
        self.encode(&signed)
    }

    /// The slot values, centered in `(−t/2, t/2]`.
    pub fn decode(&self, pt: &Plaintext) -> Result<Vec<i64>> {
        let t = *self.params.t();
        Ok(self
            .decode_u64(pt)?
            .into_iter()
            .map(|v| t.center(v))
            .collect())
    }

    /// The slot values in `[0, t)`.
    pub fn decode_u64(&self, pt: &Plaintext) -> Result<Vec<u64>> {
        self.params
            .check_same(&pt.params, "plaintext and encoder")?;
        if pt.encoding != Encoding::Batch {
            return Err(Error::EncodingMismatch {
                what: "decode expects a batch-encoded plaintext",
            });
        }
        let plan = self
            .params
            .batching_plan()
            .ok_or(Error::BatchingUnavailable {
                t: self.params.plaintext_modulus(),
            })?;
        let mut evals = pt.coeffs.clone();
        plan.forward(&mut evals);
        Ok(self.slot_to_ntt.iter().map(|&i| evals[i]).collect())
    }

    /// Encodes up to N values as polynomial coefficients (works for any t).
    pub fn encode_coefficients(&self, values: &[i64]) -> Result<Plaintext> {
        let n = self.params.degree();
        if values.len() > n {
            return Err(Error::TooManyValues {
                got: values.len(),
                max: n,
            });
        }
        let mut coeffs = vec![0u64; n];
        for (c, &v) in coeffs.iter_mut().zip(values) {
            *c = self.reduce(v)?;
        }
        Ok(Plaintext {
            params: self.params.clone(),
            coeffs,
            encoding: Encoding::Coefficients,
        })
    }

    /// The coefficients, centered in `(−t/2, t/2]`.
    pub fn decode_coefficients(&self, pt: &Plaintext) -> Result<Vec<i64>> {
        self.params
            .check_same(&pt.params, "plaintext and encoder")?;
        if pt.encoding != Encoding::Coefficients {
            return Err(Error::EncodingMismatch {
                what: "decode_coefficients expects a coefficient-encoded plaintext",
            });
        }
        Ok(pt.centered())
    }
}
