//! CKKS keys: thin wrappers of the `rlwe` keys that speak in plaintexts and
//! ciphertexts with scales, a public key over `Q ∪ P` (fresh noise divided
//! by `P`, as in SEAL), rotation keys by slot step, and noise-flooded
//! decryption.

use rand::{CryptoRng, RngCore};

use rlwe::keys::{galois_element_conjugate, galois_element_for_rotation};
use rlwe::sample;

use crate::ciphertext::Ciphertext;
use crate::complex::Complex;
use crate::encoder::{Encoder, Plaintext};
use crate::params::Parameters;
use crate::{Error, Result};

/// A secret key (uniform ternary). Zeroized on drop by `rlwe`; `Debug`
/// does not print it.
#[derive(Clone, Debug)]
pub struct SecretKey {
    params: Parameters,
    inner: rlwe::keys::SecretKey,
}

/// Noise flooding for decryptions whose result leaves the key owner.
///
/// Li and Micciancio (EUROCRYPT 2021) showed that a CKKS decryption reveals
/// the noise `e`, and with it the secret key, once the decrypted values are
/// published. Flooding adds fresh Gaussian noise to the decrypted
/// polynomial before decoding, of standard deviation
///
/// `σ = 2^statistical_bits · √N · B`,  `B = 2^noise_bits`,
///
/// where `B` bounds the coefficients of the ciphertext's noise. By the
/// Gaussian smudging lemma the distribution of `m + e + e_flood` is then
/// within statistical distance about `√N·B/(2σ) ≤ 2^-statistical_bits` of
/// the distribution of `m + e_flood`, independent of `e`.
///
/// Precision cost: every slot receives Gaussian noise of standard
/// deviation about `σ·√(N/2)/Δ`, i.e. the result keeps about
/// `log2 Δ − statistical_bits − log2 N − noise_bits` bits after the point.
/// Decrypt flooded results *before* the last rescale (at scale `Δ²`) or use
/// a large scale for them. `noise_bits` is not something `ckks` tracks: get
/// it from a trial run with [`SecretKey::measure_noise_bits`] on known
/// inputs (as OpenFHE's noise-estimation mode does), rounded up.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Flooding {
    /// Statistical security parameter λ_s (default 30).
    pub statistical_bits: u32,
    /// `log2` of the bound `B` on the ciphertext noise coefficients.
    pub noise_bits: f64,
}

impl Flooding {
    /// Flooding for noise up to `2^noise_bits` with λ_s = 30.
    pub fn new(noise_bits: f64) -> Self {
        Self {
            statistical_bits: 30,
            noise_bits,
        }
    }

    /// `log2 σ` of the flooding noise for ring degree `n`.
    pub fn log2_sigma(&self, n: usize) -> f64 {
        self.statistical_bits as f64 + 0.5 * (n as f64).log2() + self.noise_bits
    }
}

impl SecretKey {
    /// A fresh secret key.
    pub fn generate<R: RngCore + CryptoRng>(params: &Parameters, rng: &mut R) -> Self {
        Self {
            params: params.clone(),
            inner: rlwe::keys::SecretKey::generate(params.rlwe(), rng),
        }
    }

    /// Wraps an `rlwe` secret key (e.g. from a threshold protocol).
    pub fn from_rlwe(params: &Parameters, inner: rlwe::keys::SecretKey) -> Result<Self> {
        params
            .rlwe()
            .check_same(inner.params(), "secret key and CKKS parameters")?;
        Ok(Self {
            params: params.clone(),
            inner,
        })
    }

    /// The parameters.
    pub fn params(&self) -> &Parameters {
        &self.params
    }

    /// The `rlwe` key.
    pub fn rlwe(&self) -> &rlwe::keys::SecretKey {
        &self.inner
    }

    /// Secret-key encryption (`c_1` is stored as a seed: half size on the
    /// wire). Fresh noise: one error sample (σ ≈ 3.2).
    pub fn encrypt<R: RngCore + CryptoRng>(
        &self,
        pt: &Plaintext,
        rng: &mut R,
    ) -> Result<Ciphertext> {
        self.params.check_same(&pt.params, "plaintext and key")?;
        let inner = self.inner.encrypt(&pt.poly, rng)?;
        Ok(Ciphertext {
            params: self.params.clone(),
            inner,
            scale: pt.scale,
        })
    }

    /// Decrypts to a plaintext (coefficient form) of the ciphertext's scale
    /// and level. Handles 2- and 3-part ciphertexts.
    pub fn decrypt(&self, ct: &Ciphertext) -> Result<Plaintext> {
        self.params.check_same(&ct.params, "ciphertext and key")?;
        let poly = self.inner.decrypt(&ct.inner)?;
        Plaintext::from_poly(&self.params, poly, ct.scale)
    }

    /// Decrypts and floods the result with Gaussian noise (see
    /// [`Flooding`]); use this whenever the decoded values leave the key
    /// owner.
    pub fn decrypt_flooded<R: RngCore + CryptoRng>(
        &self,
        ct: &Ciphertext,
        flooding: &Flooding,
        rng: &mut R,
    ) -> Result<Plaintext> {
        let mut pt = self.decrypt(ct)?;
        let n = self.params.degree();
        let log_sigma = flooding.log2_sigma(n);
        if !log_sigma.is_finite() || log_sigma > 100.0 {
            return Err(Error::ValueOutOfRange {
                what: format!("flooding σ of 2^{log_sigma:.1} (at most 2^100)"),
            });
        }
        if log_sigma + 4.0 >= self.params.log_q(ct.level()) - 1.0 {
            return Err(Error::ValueOutOfRange {
                what: format!(
                    "flooding σ of 2^{log_sigma:.1} does not fit the modulus at level {}",
                    ct.level()
                ),
            });
        }
        let noise = sample::gaussian_wide(n, log_sigma, rng)?;
        let mut e = sample::wide_poly(pt.poly.context(), &noise);
        e.set_representation(pt.poly.representation());
        pt.poly.add_assign(&e)?;
        Ok(pt)
    }

    /// `log2` of the largest coefficient of `decrypt(ct) − encode(expected)`
    /// (at the ciphertext's scale and level): the actual noise of a trial
    /// run on known inputs, to size [`Flooding::noise_bits`].
    pub fn measure_noise_bits(
        &self,
        encoder: &Encoder,
        ct: &Ciphertext,
        expected: &[Complex],
    ) -> Result<f64> {
        let pt = self.decrypt(ct)?;
        let reference = encoder.encode_complex_at(expected, ct.level(), ct.scale)?;
        let mut d = pt.poly.clone();
        d.to_ntt();
        d.sub_assign(&reference.poly)?;
        let c = crate::encoder::centered_f64(&d);
        Ok(c.iter().fold(0.0f64, |a, &x| a.max(x.abs())).log2())
    }

    /// Serialized secret key (wiped on drop).
    pub fn to_bytes(&self) -> zeroize::Zeroizing<Vec<u8>> {
        self.inner.to_bytes()
    }

    /// Reads a secret key of `params`.
    pub fn from_bytes(params: &Parameters, bytes: &[u8]) -> Result<Self> {
        Ok(Self {
            params: params.clone(),
            inner: rlwe::keys::SecretKey::from_bytes(params.rlwe(), bytes)?,
        })
    }
}

/// A CKKS public key: the `rlwe` public key (over `Q ∪ P`; encryption
/// divides by `P` with rounding, as SEAL does, so the fresh noise is the
/// rounding noise of that division).
#[derive(Clone)]
pub struct PublicKey {
    params: Parameters,
    inner: rlwe::keys::PublicKey,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublicKey")
            .field("degree", &self.params.degree())
            .finish_non_exhaustive()
    }
}

impl PublicKey {
    /// A public key for `sk`.
    pub fn generate<R: RngCore + CryptoRng>(sk: &SecretKey, rng: &mut R) -> Result<Self> {
        Ok(Self {
            params: sk.params.clone(),
            inner: rlwe::keys::PublicKey::generate(&sk.inner, rng)?,
        })
    }

    /// Wraps an `rlwe` public key (e.g. a collectively generated one).
    pub fn from_rlwe(params: &Parameters, inner: rlwe::keys::PublicKey) -> Result<Self> {
        params.rlwe().check_same(inner.params(), "public key")?;
        Ok(Self {
            params: params.clone(),
            inner,
        })
    }

    /// The parameters.
    pub fn params(&self) -> &Parameters {
        &self.params
    }

    /// The `rlwe` key.
    pub fn rlwe(&self) -> &rlwe::keys::PublicKey {
        &self.inner
    }

    /// Encrypts `pt` at its level and scale.
    pub fn encrypt<R: RngCore + CryptoRng>(
        &self,
        pt: &Plaintext,
        rng: &mut R,
    ) -> Result<Ciphertext> {
        self.params
            .check_same(&pt.params, "plaintext and public key")?;
        let inner = self.inner.encrypt(&pt.ntt_poly(), rng)?;
        Ok(Ciphertext {
            params: self.params.clone(),
            inner,
            scale: pt.scale,
        })
    }

    /// Serialized key: the seed of `a` and `b`.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.inner.to_bytes()
    }

    /// Reads a public key of `params`.
    pub fn from_bytes(params: &Parameters, bytes: &[u8]) -> Result<Self> {
        Self::from_rlwe(
            params,
            rlwe::keys::PublicKey::from_bytes(params.rlwe(), bytes)?,
        )
    }
}

/// A relinearization key (switches `s²` to `s`).
#[derive(Clone, Debug)]
pub struct RelinKey {
    params: Parameters,
    inner: rlwe::keys::RelinKey,
}

impl RelinKey {
    /// A relinearization key for `sk`.
    pub fn generate<R: RngCore + CryptoRng>(sk: &SecretKey, rng: &mut R) -> Result<Self> {
        Ok(Self {
            params: sk.params.clone(),
            inner: rlwe::keys::RelinKey::generate(&sk.inner, rng)?,
        })
    }

    /// Wraps an `rlwe` relinearization key (e.g. from a threshold protocol).
    pub fn from_rlwe(params: &Parameters, inner: rlwe::keys::RelinKey) -> Result<Self> {
        params
            .rlwe()
            .check_same(inner.key().params(), "relinearization key and parameters")?;
        Ok(Self {
            params: params.clone(),
            inner,
        })
    }

    /// The parameters.
    pub fn params(&self) -> &Parameters {
        &self.params
    }

    /// The `rlwe` key.
    pub fn rlwe(&self) -> &rlwe::keys::RelinKey {
        &self.inner
    }

    /// Serialized key.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.inner.to_bytes()
    }

    /// Reads a relinearization key of `params`.
    pub fn from_bytes(params: &Parameters, bytes: &[u8]) -> Result<Self> {
        Ok(Self {
            params: params.clone(),
            inner: rlwe::keys::RelinKey::from_bytes(params.rlwe(), bytes)?,
        })
    }
}

/// Rotation (and optionally conjugation) keys, generated only for the slot
/// steps asked for.
#[derive(Clone, Debug)]
pub struct GaloisKeys {
    params: Parameters,
    inner: rlwe::keys::GaloisKeys,
}

impl GaloisKeys {
    /// Keys for rotations by each of `steps` slots (positive: left, slot `j`
    /// receives slot `j + step`; negative: right).
    pub fn generate<R: RngCore + CryptoRng>(
        sk: &SecretKey,
        steps: &[i64],
        rng: &mut R,
    ) -> Result<Self> {
        Self::generate_with_conjugation(sk, steps, false, rng)
    }

    /// Keys for `steps` and, if `conjugation`, for complex conjugation.
    pub fn generate_with_conjugation<R: RngCore + CryptoRng>(
        sk: &SecretKey,
        steps: &[i64],
        conjugation: bool,
        rng: &mut R,
    ) -> Result<Self> {
        let n = sk.params.degree();
        let mut elements: Vec<usize> = steps
            .iter()
            .map(|&s| galois_element_for_rotation(s, n))
            .filter(|&g| g != 1)
            .collect();
        if conjugation {
            elements.push(galois_element_conjugate(n));
        }
        elements.sort_unstable();
        elements.dedup();
        Ok(Self {
            params: sk.params.clone(),
            inner: rlwe::keys::GaloisKeys::generate(&sk.inner, &elements, rng)?,
        })
    }

    /// Wraps `rlwe` Galois keys.
    pub fn from_rlwe(params: &Parameters, inner: rlwe::keys::GaloisKeys) -> Self {
        Self {
            params: params.clone(),
            inner,
        }
    }

    /// The parameters.
    pub fn params(&self) -> &Parameters {
        &self.params
    }

    /// The `rlwe` keys.
    pub fn rlwe(&self) -> &rlwe::keys::GaloisKeys {
        &self.inner
    }

    /// The key for a rotation by `step` slots.
    pub fn for_step(&self, step: i64) -> Result<&rlwe::keys::GaloisKey> {
        let g = galois_element_for_rotation(step, self.params.degree());
        self.inner.get(g).map_err(|_| {
            Error::Rlwe(rlwe::Error::MissingKey {
                what: format!("rotation key for step {step} (Galois element {g})"),
            })
        })
    }

    /// The conjugation key.
    pub fn for_conjugation(&self) -> Result<&rlwe::keys::GaloisKey> {
        Ok(self
            .inner
            .get(galois_element_conjugate(self.params.degree()))?)
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// Serialized keys.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.inner.to_bytes(self.params.rlwe())
    }

    /// Reads Galois keys of `params`.
    pub fn from_bytes(params: &Parameters, bytes: &[u8]) -> Result<Self> {
        Ok(Self {
            params: params.clone(),
            inner: rlwe::keys::GaloisKeys::from_bytes(params.rlwe(), bytes)?,
        })
    }
}
