//! `hekit.paillier`: additive Paillier (binds the `paillier` crate), with
//! python-paillier's `EncodedNumber` semantics (base 16, exponents) and
//! conversions to and from python-paillier (`phe`) keys and numbers.
//!
//! All Paillier bindings are in this one file. Python calls the key
//! `SecretKey` (as Rust and `ckks` / `bfv` do) with `PrivateKey` as an
//! alias (python-paillier's word).

use num_bigint::{BigInt, BigUint};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyType};
use sha2::{Digest, Sha256};

use crate::arrays;
use crate::ckks::unpickler;
use crate::errors::{OrRaise, PaillierError};
use crate::registry::Registry;

/// Public keys by SHA-256 of their bytes (what pickled ciphertexts carry).
static KEYS: Registry<paillier::PublicKey> = Registry::new(
    "Paillier public-key",
    "hekit.paillier.PublicKey.from_n / from_bytes, or a SecretKey",
);

fn key_id(pk: &paillier::PublicKey) -> [u8; 32] {
    Sha256::digest(pk.to_bytes()).into()
}

/// A Paillier public key (`n`, `g = n + 1`): encrypts, and is the context
/// of every ciphertext made with it.
#[pyclass(module = "hekit.paillier", frozen)]
pub struct PublicKey {
    pub(crate) inner: paillier::PublicKey,
}

impl PublicKey {
    pub(crate) fn wrap(inner: paillier::PublicKey) -> Self {
        KEYS.insert(&key_id(&inner), inner.clone());
        Self { inner }
    }
}

fn phe(py: Python<'_>) -> PyResult<Bound<'_, PyModule>> {
    py.import("phe")
}

#[pymethods]
impl PublicKey {
    /// The public key of a modulus made elsewhere (e.g. python-paillier);
    /// below 2048 bits only with ``insecure=True``.
    #[staticmethod]
    #[pyo3(signature = (n, insecure=false))]
    fn from_n(n: BigUint, insecure: bool) -> PyResult<Self> {
        let pk = if insecure {
            paillier::PublicKey::from_n_insecure(n)
        } else {
            paillier::PublicKey::from_n(n)
        };
        Ok(Self::wrap(pk.or_raise()?))
    }

    /// python-paillier's ``PaillierPublicKey`` of the same ``n``.
    fn to_phe<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        phe(py)?.call_method1("PaillierPublicKey", (self.inner.n().clone(),))
    }

    /// The key of a python-paillier ``PaillierPublicKey``.
    #[staticmethod]
    #[pyo3(signature = (key, insecure=false))]
    fn from_phe(key: &Bound<'_, PyAny>, insecure: bool) -> PyResult<Self> {
        Self::from_n(key.getattr("n")?.extract()?, insecure)
    }

    /// The modulus n.
    #[getter]
    fn n(&self) -> BigUint {
        self.inner.n().clone()
    }

    /// n².
    #[getter]
    fn n_squared(&self) -> BigUint {
        self.inner.n_squared().clone()
    }

    /// Bit length of n.
    #[getter]
    fn bits(&self) -> u64 {
        self.inner.bits()
    }

    /// Largest magnitude of a signed value: ``n // 3 - 1``, python-paillier's
    /// ``max_int``.
    #[getter]
    fn max_int(&self) -> BigUint {
        self.inner.max_int().clone()
    }

    /// The 64-bit tag identifying this key in serialized ciphertexts.
    #[getter]
    fn fingerprint(&self) -> u64 {
        self.inner.fingerprint()
    }

    /// Raw encryption of ``m`` in [0, n).
    fn encrypt(&self, py: Python<'_>, m: BigUint) -> PyResult<Ciphertext> {
        let inner = py
            .detach(|| self.inner.encrypt(&m, &mut crate::rng()))
            .or_raise()?;
        Ok(Ciphertext { inner })
    }

    /// Encryption of a signed integer, |v| ≤ ``max_int``.
    fn encrypt_int(&self, py: Python<'_>, v: BigInt) -> PyResult<Ciphertext> {
        let inner = py
            .detach(|| self.inner.encrypt_int(&v, &mut crate::rng()))
            .or_raise()?;
        Ok(Ciphertext { inner })
    }

    /// Encryption of a float, encoded exactly (python-paillier's default
    /// precision: the largest exponent that represents it).
    fn encrypt_f64(&self, py: Python<'_>, x: f64) -> PyResult<EncryptedNumber> {
        let inner = py
            .detach(|| self.inner.encrypt_f64(x, &mut crate::rng()))
            .or_raise()?;
        Ok(EncryptedNumber { inner })
    }

    /// Encryption of an ``EncodedNumber`` (mantissa and exponent).
    fn encrypt_encoded(&self, py: Python<'_>, x: &EncodedNumber) -> PyResult<EncryptedNumber> {
        let inner = py
            .detach(|| self.inner.encrypt_encoded(&x.inner, &mut crate::rng()))
            .or_raise()?;
        Ok(EncryptedNumber { inner })
    }

    /// python-paillier's ``encrypt(value)``: an int (exponent 0) or a float
    /// (exact encoding) as an ``EncryptedNumber``.
    fn encrypt_number(
        &self,
        py: Python<'_>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<EncryptedNumber> {
        let enc = EncodedNumber::encode(value, None)?;
        self.encrypt_encoded(py, &enc)
    }

    /// Encrypts many raw values in parallel (GIL released).
    fn encrypt_batch(&self, py: Python<'_>, ms: Vec<BigUint>) -> PyResult<Vec<Ciphertext>> {
        let v = py
            .detach(|| self.inner.encrypt_batch(&ms, &mut crate::rng()))
            .or_raise()?;
        Ok(v.into_iter().map(|inner| Ciphertext { inner }).collect())
    }

    /// Encrypts an int64 array in parallel.
    fn encrypt_i64_batch(
        &self,
        py: Python<'_>,
        values: &Bound<'_, PyAny>,
    ) -> PyResult<Vec<Ciphertext>> {
        let vs = arrays::i64_vec(values, "values")?;
        let v = py
            .detach(|| self.inner.encrypt_i64_batch(&vs, &mut crate::rng()))
            .or_raise()?;
        Ok(v.into_iter().map(|inner| Ciphertext { inner }).collect())
    }

    /// Encrypts a float64 array in parallel (exact encodings).
    fn encrypt_f64_batch(
        &self,
        py: Python<'_>,
        values: &Bound<'_, PyAny>,
    ) -> PyResult<Vec<EncryptedNumber>> {
        let vs = arrays::f64_vec(values, "values")?;
        let v = py
            .detach(|| self.inner.encrypt_f64_batch(&vs, &mut crate::rng()))
            .or_raise()?;
        Ok(v.into_iter()
            .map(|inner| EncryptedNumber { inner })
            .collect())
    }

    /// Wraps a raw ciphertext value (checked to be a unit below n²).
    fn ciphertext(&self, c: BigUint) -> PyResult<Ciphertext> {
        Ok(Ciphertext {
            inner: self.inner.ciphertext(c).or_raise()?,
        })
    }

    /// Versioned bytes.
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.to_bytes())
    }

    /// Reads and validates a public key.
    #[staticmethod]
    fn from_bytes(data: &[u8]) -> PyResult<Self> {
        Ok(Self::wrap(
            paillier::PublicKey::from_bytes(data).or_raise()?,
        ))
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<PublicKey>()
            .is_ok_and(|o| o.get().inner.n() == self.inner.n())
    }

    fn __hash__(&self) -> u64 {
        self.inner.fingerprint()
    }

    fn __repr__(&self) -> String {
        format!(
            "hekit.paillier.PublicKey(bits={}, fingerprint={:016x})",
            self.inner.bits(),
            self.inner.fingerprint()
        )
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> crate::Reduce<'py, (Bound<'py, PyBytes>,)> {
        Ok((unpickler(slf.as_any())?, (slf.get().to_bytes(slf.py()),)))
    }

    #[classmethod]
    fn _from_pickle(_cls: &Bound<'_, PyType>, data: &[u8]) -> PyResult<Self> {
        Self::from_bytes(data)
    }
}

fn bits_of(bits: u32, insecure: bool) -> PyResult<paillier::Bits> {
    Ok(match (bits, insecure) {
        (2048, false) => paillier::Bits::B2048,
        (3072, false) => paillier::Bits::B3072,
        (4096, false) => paillier::Bits::B4096,
        (b, true) => paillier::Bits::Insecure(b),
        (b, false) if b >= 2048 => paillier::Bits::Insecure(b),
        (b, false) => {
            return Err(PaillierError::new_err(
                paillier::Error::InsecureKeySize { bits: u64::from(b) }.to_string(),
            ))
        }
    })
}

/// A Paillier secret key (the primes p, q; CRT decryption with
/// constant-time exponentiation). ``SecretKey.generate(bits)``,
/// ``SecretKey.from_primes(p, q)``; ``public_key`` encrypts.
#[pyclass(module = "hekit.paillier", frozen)]
pub struct SecretKey {
    inner: paillier::SecretKey,
}

#[pymethods]
impl SecretKey {
    /// A fresh key with an n of ``bits`` bits (2048, 3072, 4096; smaller
    /// sizes only with ``insecure=True``), optionally with safe primes.
    #[staticmethod]
    #[pyo3(signature = (bits=3072, safe_primes=false, insecure=false))]
    fn generate(py: Python<'_>, bits: u32, safe_primes: bool, insecure: bool) -> PyResult<Self> {
        let opts = paillier::KeyGenOptions {
            bits: bits_of(bits, insecure)?,
            safe_primes,
        };
        let inner = py
            .detach(|| paillier::SecretKey::generate_with(opts, &mut crate::rng()))
            .or_raise()?;
        PublicKey::wrap(inner.public_key().clone());
        Ok(Self { inner })
    }

    /// The key of known primes (checked); below 2048 bits only with
    /// ``insecure=True``.
    #[staticmethod]
    #[pyo3(signature = (p, q, insecure=false))]
    fn from_primes(py: Python<'_>, p: BigUint, q: BigUint, insecure: bool) -> PyResult<Self> {
        let inner = py
            .detach(|| {
                if insecure {
                    paillier::SecretKey::from_primes_insecure(p, q)
                } else {
                    paillier::SecretKey::from_primes(p, q)
                }
            })
            .or_raise()?;
        PublicKey::wrap(inner.public_key().clone());
        Ok(Self { inner })
    }

    /// python-paillier's ``PaillierPrivateKey`` of the same primes.
    fn to_phe<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let (p, q) = self.inner.primes();
        let pk = self.public_key().to_phe(py)?;
        phe(py)?.call_method1("PaillierPrivateKey", (pk, p, q))
    }

    /// The key of a python-paillier ``PaillierPrivateKey``.
    #[staticmethod]
    #[pyo3(signature = (key, insecure=false))]
    fn from_phe(py: Python<'_>, key: &Bound<'_, PyAny>, insecure: bool) -> PyResult<Self> {
        Self::from_primes(
            py,
            key.getattr("p")?.extract()?,
            key.getattr("q")?.extract()?,
            insecure,
        )
    }

    /// The public key.
    #[getter]
    fn public_key(&self) -> PublicKey {
        PublicKey::wrap(self.inner.public_key().clone())
    }

    /// The primes (p, q).
    #[getter]
    fn primes(&self) -> (BigUint, BigUint) {
        self.inner.primes()
    }

    /// Raw decryption: the plaintext in [0, n).
    fn decrypt(&self, py: Python<'_>, ct: &Ciphertext) -> PyResult<BigUint> {
        py.detach(|| self.inner.decrypt(&ct.inner)).or_raise()
    }

    /// A signed integer (``PaillierError`` on overflow: a value in the gap
    /// (max_int, n − max_int)).
    fn decrypt_int(&self, py: Python<'_>, ct: &Ciphertext) -> PyResult<BigInt> {
        py.detach(|| self.inner.decrypt_int(&ct.inner)).or_raise()
    }

    /// The ``EncodedNumber`` (mantissa, exponent) of an encrypted number.
    fn decrypt_encoded(&self, py: Python<'_>, x: &EncryptedNumber) -> PyResult<EncodedNumber> {
        let inner = py
            .detach(|| self.inner.decrypt_encoded(&x.inner))
            .or_raise()?;
        Ok(EncodedNumber { inner })
    }

    /// An encrypted number as a float.
    fn decrypt_f64(&self, py: Python<'_>, x: &EncryptedNumber) -> PyResult<f64> {
        py.detach(|| self.inner.decrypt_f64(&x.inner)).or_raise()
    }

    /// python-paillier's ``decrypt``: the number as an int when its
    /// exponent is ≥ 0, else as a float.
    fn decrypt_number<'py>(
        &self,
        py: Python<'py>,
        x: &EncryptedNumber,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.decrypt_encoded(py, x)?.decode(py)
    }

    /// Raw decryption of many ciphertexts in parallel (GIL released).
    fn decrypt_batch(
        &self,
        py: Python<'_>,
        cts: Vec<PyRef<'_, Ciphertext>>,
    ) -> PyResult<Vec<BigUint>> {
        let v: Vec<paillier::Ciphertext> = cts.iter().map(|c| c.inner.clone()).collect();
        py.detach(|| self.inner.decrypt_batch(&v)).or_raise()
    }

    /// Signed integers of many ciphertexts in parallel.
    fn decrypt_int_batch(
        &self,
        py: Python<'_>,
        cts: Vec<PyRef<'_, Ciphertext>>,
    ) -> PyResult<Vec<BigInt>> {
        let v: Vec<paillier::Ciphertext> = cts.iter().map(|c| c.inner.clone()).collect();
        py.detach(|| self.inner.decrypt_int_batch(&v)).or_raise()
    }

    /// Many encrypted numbers as a float64 array, in parallel.
    fn decrypt_f64_batch<'py>(
        &self,
        py: Python<'py>,
        xs: Vec<PyRef<'_, EncryptedNumber>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let v: Vec<paillier::EncryptedNumber> = xs.iter().map(|c| c.inner.clone()).collect();
        let out = py.detach(|| self.inner.decrypt_f64_batch(&v)).or_raise()?;
        arrays::f64_array(py, &out)
    }

    /// Versioned bytes of the primes (secret: protect them).
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.to_bytes())
    }

    /// Reads and re-validates a secret key.
    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: &[u8]) -> PyResult<Self> {
        let inner = py
            .detach(|| paillier::SecretKey::from_bytes(data))
            .or_raise()?;
        PublicKey::wrap(inner.public_key().clone());
        Ok(Self { inner })
    }

    fn __repr__(&self) -> String {
        format!(
            "hekit.paillier.SecretKey(bits={}, <secret>)",
            self.inner.public_key().bits()
        )
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> crate::Reduce<'py, (Bound<'py, PyBytes>,)> {
        Ok((unpickler(slf.as_any())?, (slf.get().to_bytes(slf.py()),)))
    }

    #[classmethod]
    fn _from_pickle(_cls: &Bound<'_, PyType>, py: Python<'_>, data: &[u8]) -> PyResult<Self> {
        Self::from_bytes(py, data)
    }
}

/// A fresh key pair ``(public_key, secret_key)`` (``SecretKey.generate``).
#[pyfunction]
#[pyo3(signature = (bits=3072, safe_primes=false, insecure=false))]
fn keypair(
    py: Python<'_>,
    bits: u32,
    safe_primes: bool,
    insecure: bool,
) -> PyResult<(PublicKey, SecretKey)> {
    let sk = SecretKey::generate(py, bits, safe_primes, insecure)?;
    Ok((sk.public_key(), sk))
}

/// A raw Paillier ciphertext under one public key: ``+``, ``-`` with
/// ciphertexts (same key, else ``PaillierError``), ``* int``.
#[pyclass(module = "hekit.paillier", frozen)]
pub struct Ciphertext {
    inner: paillier::Ciphertext,
}

#[pymethods]
impl Ciphertext {
    /// The ciphertext value c (an int below n²).
    #[getter]
    fn value(&self) -> BigUint {
        self.inner.value().clone()
    }

    /// The public key.
    #[getter]
    fn public_key(&self) -> PublicKey {
        PublicKey::wrap(self.inner.public_key().clone())
    }

    /// Encrypted sum.
    fn add(&self, other: &Ciphertext) -> PyResult<Ciphertext> {
        Ok(Ciphertext {
            inner: self.inner.add(&other.inner).or_raise()?,
        })
    }

    /// Encrypted difference.
    fn sub(&self, other: &Ciphertext) -> PyResult<Ciphertext> {
        Ok(Ciphertext {
            inner: self.inner.sub(&other.inner).or_raise()?,
        })
    }

    /// Negation.
    fn neg(&self) -> Ciphertext {
        Ciphertext {
            inner: self.inner.neg(),
        }
    }

    /// Adds a signed plaintext integer.
    fn add_plain_signed(&self, v: BigInt) -> PyResult<Ciphertext> {
        Ok(Ciphertext {
            inner: self.inner.add_plain_signed(&v).or_raise()?,
        })
    }

    /// Multiplies by a signed integer.
    fn mul_scalar(&self, py: Python<'_>, k: BigInt) -> Ciphertext {
        Ciphertext {
            inner: py.detach(|| self.inner.mul_scalar(&k)),
        }
    }

    /// The same plaintext under fresh randomness.
    fn rerandomize(&self, py: Python<'_>) -> Ciphertext {
        Ciphertext {
            inner: py.detach(|| self.inner.rerandomize(&mut crate::rng())),
        }
    }

    fn __add__(&self, other: &Bound<'_, PyAny>) -> PyResult<Ciphertext> {
        match other.cast::<Ciphertext>() {
            Ok(o) => self.add(o.get()),
            Err(_) => self.add_plain_signed(other.extract()?),
        }
    }

    fn __radd__(&self, other: &Bound<'_, PyAny>) -> PyResult<Ciphertext> {
        self.__add__(other)
    }

    fn __sub__(&self, other: &Ciphertext) -> PyResult<Ciphertext> {
        self.sub(other)
    }

    fn __neg__(&self) -> Ciphertext {
        self.neg()
    }

    fn __mul__(&self, py: Python<'_>, k: BigInt) -> Ciphertext {
        self.mul_scalar(py, k)
    }

    fn __rmul__(&self, py: Python<'_>, k: BigInt) -> Ciphertext {
        self.mul_scalar(py, k)
    }

    /// Versioned bytes (the key's fingerprint included).
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.to_bytes())
    }

    /// Reads a ciphertext of ``public_key``, validating it.
    #[staticmethod]
    fn from_bytes(public_key: &PublicKey, data: &[u8]) -> PyResult<Self> {
        Ok(Self {
            inner: public_key.inner.ciphertext_from_bytes(data).or_raise()?,
        })
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> crate::Reduce<'py, (Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
        let py = slf.py();
        let this = slf.get();
        Ok((
            unpickler(slf.as_any())?,
            (
                PyBytes::new(py, &key_id(this.inner.public_key())),
                this.to_bytes(py),
            ),
        ))
    }

    #[classmethod]
    fn _from_pickle(_cls: &Bound<'_, PyType>, key: &[u8], data: &[u8]) -> PyResult<Self> {
        let pk = PublicKey {
            inner: KEYS.get(key)?,
        };
        Self::from_bytes(&pk, data)
    }
}

/// A plaintext fixed-point number ``mantissa · 16**exponent``
/// (python-paillier's ``EncodedNumber``, key-independent here).
#[pyclass(module = "hekit.paillier", frozen)]
pub struct EncodedNumber {
    inner: paillier::EncodedNumber,
}

#[pymethods]
impl EncodedNumber {
    #[new]
    fn new(mantissa: BigInt, exponent: i32) -> Self {
        Self {
            inner: paillier::EncodedNumber::new(mantissa, exponent),
        }
    }

    /// Encodes an int (exponent 0, or ``exponent`` if given) or a float
    /// (exactly at python-paillier's default exponent, or rounded to the
    /// nearest multiple of ``16**exponent``).
    #[staticmethod]
    #[pyo3(signature = (value, exponent=None))]
    fn encode(value: &Bound<'_, PyAny>, exponent: Option<i32>) -> PyResult<Self> {
        let inner = if let Ok(v) = value.extract::<BigInt>() {
            let e = paillier::EncodedNumber::from_int(v);
            match exponent {
                Some(x) if x <= 0 => e.decrease_exponent_to(x).or_raise()?,
                Some(_) => {
                    return Err(PyTypeError::new_err(
                        "an int encodes at exponent ≤ 0 (use a float for a positive exponent)",
                    ))
                }
                None => e,
            }
        } else if let Ok(x) = value.extract::<f64>() {
            match exponent {
                Some(e) => paillier::EncodedNumber::from_f64_with_exponent(x, e),
                None => paillier::EncodedNumber::from_f64(x),
            }
            .or_raise()?
        } else {
            return Err(PyTypeError::new_err(format!(
                "EncodedNumber.encode takes an int or a float, not {}",
                value.get_type().name()?
            )));
        };
        Ok(Self { inner })
    }

    /// The signed mantissa.
    #[getter]
    fn mantissa(&self) -> BigInt {
        self.inner.mantissa().clone()
    }

    /// The base-16 exponent.
    #[getter]
    fn exponent(&self) -> i32 {
        self.inner.exponent()
    }

    /// The same value at a lower exponent.
    fn decrease_exponent_to(&self, new_exponent: i32) -> PyResult<Self> {
        Ok(Self {
            inner: self.inner.decrease_exponent_to(new_exponent).or_raise()?,
        })
    }

    /// The value: an int when the exponent is ≥ 0 (python-paillier's
    /// ``decode``), else a float.
    fn decode<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        if self.inner.exponent() >= 0 {
            Ok(self
                .inner
                .to_int()
                .or_raise()?
                .into_pyobject(py)?
                .into_any())
        } else {
            Ok(self
                .inner
                .to_f64()
                .or_raise()?
                .into_pyobject(py)?
                .into_any())
        }
    }

    /// The value as a float.
    fn to_f64(&self) -> PyResult<f64> {
        self.inner.to_f64().or_raise()
    }

    /// The exact integer value (``PaillierError`` if it has a fraction).
    fn to_int(&self) -> PyResult<BigInt> {
        self.inner.to_int().or_raise()
    }

    fn __repr__(&self) -> String {
        format!(
            "hekit.paillier.EncodedNumber(mantissa={}, exponent={})",
            self.inner.mantissa(),
            self.inner.exponent()
        )
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> crate::Reduce<'py, (BigInt, i32)> {
        let this = slf.get();
        Ok((
            slf.get_type().into_any(),
            (this.inner.mantissa().clone(), this.inner.exponent()),
        ))
    }
}

/// An encrypted fixed-point number: a ciphertext of the mantissa and the
/// public exponent (python-paillier's ``EncryptedNumber``). ``+`` / ``-``
/// with encrypted numbers, ints and floats; ``*`` with ints and floats.
#[pyclass(module = "hekit.paillier", frozen)]
pub struct EncryptedNumber {
    inner: paillier::EncryptedNumber,
}

impl EncryptedNumber {
    fn wrap(r: paillier::Result<paillier::EncryptedNumber>) -> PyResult<Self> {
        Ok(Self {
            inner: r.or_raise()?,
        })
    }
}

#[pymethods]
impl EncryptedNumber {
    /// Wraps a ciphertext of a signed mantissa with its exponent.
    #[new]
    fn new(ciphertext: &Ciphertext, exponent: i32) -> Self {
        Self {
            inner: paillier::EncryptedNumber::new(ciphertext.inner.clone(), exponent),
        }
    }

    /// The ciphertext of the mantissa.
    #[getter]
    fn ciphertext(&self) -> Ciphertext {
        Ciphertext {
            inner: self.inner.ciphertext().clone(),
        }
    }

    /// The base-16 exponent.
    #[getter]
    fn exponent(&self) -> i32 {
        self.inner.exponent()
    }

    /// The public key.
    #[getter]
    fn public_key(&self) -> PublicKey {
        PublicKey::wrap(self.inner.ciphertext().public_key().clone())
    }

    /// The same value at a lower exponent.
    fn decrease_exponent_to(&self, new_exponent: i32) -> PyResult<Self> {
        Self::wrap(self.inner.decrease_exponent_to(new_exponent))
    }

    /// Encrypted sum (exponents aligned).
    fn add(&self, other: &EncryptedNumber) -> PyResult<Self> {
        Self::wrap(self.inner.add(&other.inner))
    }

    /// Encrypted difference.
    fn sub(&self, other: &EncryptedNumber) -> PyResult<Self> {
        Self::wrap(self.inner.sub(&other.inner))
    }

    /// Negation.
    fn neg(&self) -> Self {
        Self {
            inner: self.inner.neg(),
        }
    }

    /// Adds a plaintext ``EncodedNumber``.
    fn add_encoded(&self, x: &EncodedNumber) -> PyResult<Self> {
        Self::wrap(self.inner.add_encoded(&x.inner))
    }

    /// Adds a float.
    fn add_f64(&self, x: f64) -> PyResult<Self> {
        Self::wrap(self.inner.add_f64(x))
    }

    /// Multiplies by a plaintext ``EncodedNumber`` (exponents add).
    fn mul_encoded(&self, py: Python<'_>, x: &EncodedNumber) -> PyResult<Self> {
        Self::wrap(py.detach(|| self.inner.mul_encoded(&x.inner)))
    }

    /// Multiplies by a float.
    fn mul_f64(&self, py: Python<'_>, x: f64) -> PyResult<Self> {
        Self::wrap(py.detach(|| self.inner.mul_f64(x)))
    }

    fn __add__(&self, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        match other.cast::<EncryptedNumber>() {
            Ok(o) => self.add(o.get()),
            Err(_) => self.add_encoded(&EncodedNumber::encode(other, None)?),
        }
    }

    fn __radd__(&self, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        self.__add__(other)
    }

    fn __sub__(&self, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        match other.cast::<EncryptedNumber>() {
            Ok(o) => self.sub(o.get()),
            Err(_) => self.add_encoded(&EncodedNumber::encode(&other.neg()?, None)?),
        }
    }

    fn __rsub__(&self, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        self.neg().__add__(other)
    }

    fn __neg__(&self) -> Self {
        self.neg()
    }

    fn __mul__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        self.mul_encoded(py, &EncodedNumber::encode(other, None)?)
    }

    fn __rmul__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        self.__mul__(py, other)
    }

    /// python-paillier's ``EncryptedNumber`` of the same ciphertext and
    /// exponent, under ``public_key`` (a ``phe.PaillierPublicKey``; by
    /// default one made from this key).
    #[pyo3(signature = (public_key=None))]
    fn to_phe<'py>(
        &self,
        py: Python<'py>,
        public_key: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let pk = match public_key {
            Some(k) => k.clone(),
            None => self.public_key().to_phe(py)?,
        };
        phe(py)?.call_method1(
            "EncryptedNumber",
            (
                pk,
                self.inner.ciphertext().value().clone(),
                self.inner.exponent(),
            ),
        )
    }

    /// The number of a python-paillier ``EncryptedNumber`` (its ciphertext,
    /// obfuscated as python-paillier keeps it, and its exponent), under
    /// ``public_key`` (by default the key of its ``n``, which must then be
    /// of at least 2048 bits: pass ``public_key`` for smaller test keys).
    #[staticmethod]
    #[pyo3(signature = (number, public_key=None))]
    fn from_phe(number: &Bound<'_, PyAny>, public_key: Option<&PublicKey>) -> PyResult<Self> {
        let n: BigUint = number.getattr("public_key")?.getattr("n")?.extract()?;
        let pk = match public_key {
            Some(k) => k.inner.clone(),
            None => paillier::PublicKey::from_n(n.clone()).or_raise()?,
        };
        if pk.n() != &n {
            return Err(PaillierError::new_err(
                paillier::Error::KeyMismatch.to_string(),
            ));
        }
        let c: BigUint = number.call_method1("ciphertext", (false,))?.extract()?;
        let exponent: i32 = number.getattr("exponent")?.extract()?;
        Ok(Self {
            inner: paillier::EncryptedNumber::new(pk.ciphertext(c).or_raise()?, exponent),
        })
    }

    /// Versioned bytes (ciphertext, exponent, key fingerprint).
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.to_bytes())
    }

    /// Reads an encrypted number of ``public_key``, validating it.
    #[staticmethod]
    fn from_bytes(public_key: &PublicKey, data: &[u8]) -> PyResult<Self> {
        Self::wrap(public_key.inner.encrypted_number_from_bytes(data))
    }

    fn __repr__(&self) -> String {
        format!(
            "hekit.paillier.EncryptedNumber(exponent={}, key={:016x})",
            self.inner.exponent(),
            self.inner.ciphertext().public_key().fingerprint()
        )
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> crate::Reduce<'py, (Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
        let py = slf.py();
        let this = slf.get();
        Ok((
            unpickler(slf.as_any())?,
            (
                PyBytes::new(py, &key_id(this.inner.ciphertext().public_key())),
                this.to_bytes(py),
            ),
        ))
    }

    #[classmethod]
    fn _from_pickle(_cls: &Bound<'_, PyType>, key: &[u8], data: &[u8]) -> PyResult<Self> {
        let pk = PublicKey {
            inner: KEYS.get(key)?,
        };
        Self::from_bytes(&pk, data)
    }
}

/// Registers the module's classes.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("PaillierError", m.py().get_type::<PaillierError>())?;
    m.add_class::<PublicKey>()?;
    m.add_class::<SecretKey>()?;
    // The Rust crate's name until its rename to `SecretKey`.
    m.add("PrivateKey", m.py().get_type::<SecretKey>())?;
    m.add_class::<Ciphertext>()?;
    m.add_class::<EncodedNumber>()?;
    m.add_class::<EncryptedNumber>()?;
    m.add_function(wrap_pyfunction!(keypair, m)?)?;
    m.add("BASE", paillier::BASE)?;
    Ok(())
}
