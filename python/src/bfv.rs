//! `hekit.bfv`: exact integer arithmetic on encrypted int64 vectors
//! (binds the `bfv` crate, same names).

use std::sync::Arc;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyType};

use crate::arrays;
use crate::ckks::{security_level, unpickler};
use crate::errors::{BfvError, OrRaise};
use crate::registry;

/// Presets at 128-bit security with SEAL's total modulus sizes, t = 65537.
#[pyclass(module = "hekit.bfv", eq, eq_int, frozen, from_py_object)]
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// N = 4096, log2(QP) = 109.
    N4096T65537,
    /// N = 8192, log2(QP) = 218: fresh noise budget ≈ 101 bits, depth 3.
    N8192T65537,
    /// N = 16384, log2(QP) = 438.
    N16384T65537,
    /// N = 32768, log2(QP) = 881.
    N32768T65537,
}

impl From<Preset> for bfv::Preset {
    fn from(p: Preset) -> Self {
        match p {
            Preset::N4096T65537 => bfv::Preset::N4096T65537,
            Preset::N8192T65537 => bfv::Preset::N8192T65537,
            Preset::N16384T65537 => bfv::Preset::N16384T65537,
            Preset::N32768T65537 => bfv::Preset::N32768T65537,
        }
    }
}

/// Validated BFV parameters: ring degree, ciphertext primes Q, special
/// primes P and the plaintext modulus t (batching needs t prime,
/// t ≡ 1 mod 2N). Recorded in the process registry (pickles of objects
/// carry the fingerprint only).
///
/// ``Parameters(degree, plaintext_modulus, q_bits, p_bits, security=128)``.
#[pyclass(module = "hekit.bfv", frozen)]
pub struct Parameters {
    pub(crate) inner: Arc<bfv::Parameters>,
}

impl Parameters {
    /// Wraps and registers.
    pub(crate) fn wrap(inner: Arc<bfv::Parameters>) -> Self {
        registry::register_bfv(&inner);
        Self { inner }
    }
}

#[pymethods]
impl Parameters {
    #[new]
    #[pyo3(signature = (degree, plaintext_modulus, q_bits, p_bits, security=128))]
    fn new(
        py: Python<'_>,
        degree: usize,
        plaintext_modulus: u64,
        q_bits: Vec<u32>,
        p_bits: Vec<u32>,
        security: u32,
    ) -> PyResult<Self> {
        let b = bfv::Parameters::builder()
            .degree(degree)
            .plaintext_modulus(plaintext_modulus)
            .q_bits(&q_bits)
            .p_bits(&p_bits)
            .security(security_level(security)?);
        Ok(Self::wrap(py.detach(|| b.build()).or_raise()?))
    }

    /// One of the presets (a ``Preset`` or its name, e.g. ``"N8192T65537"``).
    #[staticmethod]
    fn preset(py: Python<'_>, preset: &Bound<'_, PyAny>) -> PyResult<Self> {
        let p: Preset = match preset.extract::<Preset>() {
            Ok(p) => p,
            Err(_) => match preset.extract::<String>()?.as_str() {
                "N4096T65537" => Preset::N4096T65537,
                "N8192T65537" => Preset::N8192T65537,
                "N16384T65537" => Preset::N16384T65537,
                "N32768T65537" => Preset::N32768T65537,
                other => {
                    return Err(PyValueError::new_err(format!(
                        "unknown BFV preset {other:?} (N4096T65537, N8192T65537, N16384T65537, N32768T65537)"
                    )))
                }
            },
        };
        let p = bfv::Preset::from(p);
        Ok(Self::wrap(
            py.detach(|| bfv::Parameters::preset(p)).or_raise()?,
        ))
    }

    /// The RLWE parameters' versioned bytes; t is ``plaintext_modulus``.
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.rlwe().to_bytes())
    }

    /// Reads RLWE parameters written by ``to_bytes`` (security at least
    /// ``min_security`` bits) with plaintext modulus ``plaintext_modulus``.
    #[staticmethod]
    #[pyo3(signature = (data, plaintext_modulus, min_security=128))]
    fn from_bytes(
        py: Python<'_>,
        data: &[u8],
        plaintext_modulus: u64,
        min_security: u32,
    ) -> PyResult<Self> {
        let min = security_level(min_security)?;
        let inner = py
            .detach(|| {
                let rlwe = rlwe::params::Params::from_bytes(data, min)?;
                bfv::Parameters::from_rlwe(rlwe, plaintext_modulus)
            })
            .or_raise()?;
        Ok(Self::wrap(inner))
    }

    /// Ring degree N (also the number of slots: 2 rows of N/2).
    #[getter]
    fn degree(&self) -> usize {
        self.inner.degree()
    }

    /// The plaintext modulus t.
    #[getter]
    fn plaintext_modulus(&self) -> u64 {
        self.inner.plaintext_modulus()
    }

    /// The top level.
    #[getter]
    fn max_level(&self) -> usize {
        self.inner.max_level()
    }

    /// Whether SIMD batching is available.
    #[getter]
    fn supports_batching(&self) -> bool {
        self.inner.supports_batching()
    }

    /// The ciphertext primes Q.
    #[getter]
    fn q(&self) -> Vec<u64> {
        self.inner.rlwe().q().to_vec()
    }

    /// The special primes P.
    #[getter]
    fn p(&self) -> Vec<u64> {
        self.inner.rlwe().p().to_vec()
    }

    /// SHA-256 fingerprint of (RLWE parameters, t): what pickles carry.
    #[getter]
    fn fingerprint<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.inner.fingerprint())
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<Parameters>()
            .is_ok_and(|o| o.get().inner.fingerprint() == self.inner.fingerprint())
    }

    fn __hash__(&self) -> u64 {
        u64::from_le_bytes(self.inner.fingerprint()[..8].try_into().unwrap_or_default())
    }

    fn __repr__(&self) -> String {
        format!(
            "hekit.bfv.Parameters(degree={}, plaintext_modulus={}, levels={})",
            self.inner.degree(),
            self.inner.plaintext_modulus(),
            self.inner.max_level() + 1
        )
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> crate::Reduce<'py, (Bound<'py, PyBytes>, u64, u32)> {
        let p = &slf.get().inner;
        Ok((
            unpickler(slf.as_any())?,
            (
                PyBytes::new(slf.py(), &p.rlwe().to_bytes()),
                p.plaintext_modulus(),
                p.rlwe().security().bits(),
            ),
        ))
    }

    #[classmethod]
    fn _from_pickle(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        data: &[u8],
        plaintext_modulus: u64,
        security: u32,
    ) -> PyResult<Self> {
        Self::from_bytes(py, data, plaintext_modulus, security)
    }
}

type Params = Arc<bfv::Parameters>;

/// Defines a BFV object type holding its parameters, pickled as
/// `(fingerprint, to_bytes())`.
macro_rules! bytes_object {
    ($ty:ident, $inner:ty, $doc:literal, $to_bytes:expr, $from_bytes:expr, { $($extra:tt)* }) => {
        #[doc = $doc]
        #[pyclass(module = "hekit.bfv", frozen)]
        pub struct $ty {
            pub(crate) params: Params,
            pub(crate) inner: $inner,
        }

        #[pymethods]
        impl $ty {
            /// The versioned bytes (the parameters' fingerprint included).
            fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
                let f: fn(&$inner) -> PyResult<Vec<u8>> = $to_bytes;
                Ok(PyBytes::new(py, &f(&self.inner)?))
            }

            /// Reads an object of ``params`` from ``to_bytes`` output,
            /// validating the envelope and every coefficient.
            #[staticmethod]
            fn from_bytes(py: Python<'_>, params: &Parameters, data: &[u8]) -> PyResult<Self> {
                let f: fn(&Params, &[u8]) -> PyResult<$inner> = $from_bytes;
                let p = &params.inner;
                Ok(Self {
                    params: p.clone(),
                    inner: py.detach(|| f(p, data))?,
                })
            }

            /// The parameters.
            #[getter]
            fn params(&self) -> Parameters {
                Parameters::wrap(self.params.clone())
            }

            fn __reduce__<'py>(
                slf: &Bound<'py, Self>,
            ) -> crate::Reduce<'py, (Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
                let py = slf.py();
                let this = slf.get();
                Ok((
                    unpickler(slf.as_any())?,
                    (
                        PyBytes::new(py, this.params.fingerprint()),
                        this.to_bytes(py)?,
                    ),
                ))
            }

            #[classmethod]
            fn _from_pickle(
                _cls: &Bound<'_, PyType>,
                py: Python<'_>,
                fingerprint: &[u8],
                data: &[u8],
            ) -> PyResult<Self> {
                let params = Parameters {
                    inner: registry::BFV.get(fingerprint)?,
                };
                Self::from_bytes(py, &params, data)
            }

            $($extra)*
        }
    };
}

bytes_object!(
    SecretKey,
    bfv::SecretKey,
    "A BFV secret key: ``SecretKey.generate(params)``; decrypts and reports the noise budget.",
    |k| Ok(k.rlwe().to_bytes().to_vec()),
    |p, b| {
        let inner = rlwe::keys::SecretKey::from_bytes(p.rlwe(), b).or_raise()?;
        bfv::SecretKey::from_rlwe(p, inner).or_raise()
    },
    {
        /// A fresh secret key for ``params``.
        #[staticmethod]
        fn generate(py: Python<'_>, params: &Parameters) -> Self {
            let p = &params.inner;
            Self {
                params: p.clone(),
                inner: py.detach(|| bfv::SecretKey::generate(p, &mut crate::rng())),
            }
        }

        /// Secret-key encryption.
        fn encrypt(&self, py: Python<'_>, pt: &Plaintext) -> PyResult<Ciphertext> {
            let inner = py
                .detach(|| self.inner.encrypt(&pt.inner, &mut crate::rng()))
                .or_raise()?;
            Ok(Ciphertext::new(inner))
        }

        /// Decrypts to a plaintext (decode it with ``Encoder.decode``).
        fn decrypt(&self, py: Python<'_>, ct: &Ciphertext) -> PyResult<Plaintext> {
            let inner = py.detach(|| self.inner.decrypt(&ct.inner)).or_raise()?;
            Ok(Plaintext::new(inner))
        }

        /// The invariant noise budget in bits (as SEAL reports it); 0 when
        /// the ciphertext no longer decrypts reliably.
        fn noise_budget(&self, py: Python<'_>, ct: &Ciphertext) -> PyResult<f64> {
            py.detach(|| self.inner.noise_budget(&ct.inner)).or_raise()
        }

        fn __repr__(&self) -> String {
            "hekit.bfv.SecretKey(<secret>)".into()
        }
    }
);

bytes_object!(
    PublicKey,
    bfv::PublicKey,
    "A BFV public key: ``PublicKey.generate(sk)``; encrypts.",
    |k| Ok(k.to_bytes()),
    |p, b| bfv::PublicKey::from_bytes(p, b).or_raise(),
    {
        /// The public key of ``sk``.
        #[staticmethod]
        fn generate(py: Python<'_>, sk: &SecretKey) -> PyResult<Self> {
            let inner = py
                .detach(|| bfv::PublicKey::generate(&sk.inner, &mut crate::rng()))
                .or_raise()?;
            Ok(Self {
                params: sk.params.clone(),
                inner,
            })
        }

        /// Wraps a collective public key (``hekit.threshold``).
        #[staticmethod]
        fn from_rlwe(params: &Parameters, key: &crate::threshold::RlwePublicKey) -> PyResult<Self> {
            Ok(Self {
                params: params.inner.clone(),
                inner: bfv::PublicKey::from_rlwe(&params.inner, key.inner.clone()).or_raise()?,
            })
        }

        /// Public-key encryption.
        fn encrypt(&self, py: Python<'_>, pt: &Plaintext) -> PyResult<Ciphertext> {
            let inner = py
                .detach(|| self.inner.encrypt(&pt.inner, &mut crate::rng()))
                .or_raise()?;
            Ok(Ciphertext::new(inner))
        }
    }
);

bytes_object!(
    RelinKey,
    bfv::RelinKey,
    "A relinearization key: ``RelinKey.generate(sk)``.",
    |k| Ok(k.to_bytes()),
    |p, b| bfv::RelinKey::from_bytes(p, b).or_raise(),
    {
        /// The relinearization key of ``sk``.
        #[staticmethod]
        fn generate(py: Python<'_>, sk: &SecretKey) -> PyResult<Self> {
            let inner = py
                .detach(|| bfv::RelinKey::generate(&sk.inner, &mut crate::rng()))
                .or_raise()?;
            Ok(Self {
                params: sk.params.clone(),
                inner,
            })
        }

        /// Wraps a collective relinearization key (``hekit.threshold``).
        #[staticmethod]
        fn from_rlwe(params: &Parameters, key: &crate::threshold::RlweRelinKey) -> PyResult<Self> {
            Ok(Self {
                params: params.inner.clone(),
                inner: bfv::RelinKey::from_rlwe(&params.inner, key.inner.clone()).or_raise()?,
            })
        }
    }
);

bytes_object!(
    GaloisKeys,
    bfv::GaloisKeys,
    "Galois keys for row rotations (``GaloisKeys.generate(sk, steps, row_swap=False)``) \
     and slot sums (``GaloisKeys.for_slot_sum(sk)``).",
    |k| Ok(k.to_bytes()),
    |p, b| bfv::GaloisKeys::from_bytes(p, b).or_raise(),
    {
        /// Keys for rotating rows by each of ``steps`` and, with
        /// ``row_swap``, for swapping the rows.
        #[staticmethod]
        #[pyo3(signature = (sk, steps, row_swap=false))]
        fn generate(
            py: Python<'_>,
            sk: &SecretKey,
            steps: Vec<i64>,
            row_swap: bool,
        ) -> PyResult<Self> {
            let inner = py
                .detach(|| {
                    bfv::GaloisKeys::generate_with_row_swap(
                        &sk.inner,
                        &steps,
                        row_swap,
                        &mut crate::rng(),
                    )
                })
                .or_raise()?;
            Ok(Self {
                params: sk.params.clone(),
                inner,
            })
        }

        /// Wraps collective Galois keys (``hekit.threshold``).
        #[staticmethod]
        fn from_rlwe(
            params: &Parameters,
            keys: Vec<PyRef<'_, crate::threshold::RlweGaloisKey>>,
        ) -> Self {
            let mut set = rlwe::keys::GaloisKeys::default();
            for k in keys {
                set.insert(k.inner.clone());
            }
            Self {
                params: params.inner.clone(),
                inner: bfv::GaloisKeys::from_rlwe(&params.inner, set),
            }
        }

        /// The keys ``Evaluator.sum_slots`` needs.
        #[staticmethod]
        fn for_slot_sum(py: Python<'_>, sk: &SecretKey) -> PyResult<Self> {
            let inner = py
                .detach(|| bfv::GaloisKeys::for_slot_sum(&sk.inner, &mut crate::rng()))
                .or_raise()?;
            Ok(Self {
                params: sk.params.clone(),
                inner,
            })
        }
    }
);

bytes_object!(
    Ciphertext,
    bfv::Ciphertext,
    "A BFV ciphertext. Pickles as its bytes plus the parameters' fingerprint.",
    |ct| Ok(ct.to_bytes()),
    |p, b| bfv::Ciphertext::from_bytes(p, b).or_raise(),
    {
        /// The level.
        #[getter]
        fn level(&self) -> usize {
            self.inner.level()
        }

        /// ``"batch"`` or ``"coefficients"``.
        #[getter]
        fn encoding(&self) -> &'static str {
            encoding_name(self.inner.encoding())
        }

        /// Number of parts (2, or 3 after ``Evaluator.mul``).
        fn __len__(&self) -> usize {
            self.inner.len()
        }

        /// Size of ``to_bytes()``.
        #[getter]
        fn serialized_size(&self) -> usize {
            self.inner.serialized_size()
        }

        fn __repr__(&self) -> String {
            format!(
                "hekit.bfv.Ciphertext(level={}, parts={}, encoding={})",
                self.inner.level(),
                self.inner.len(),
                encoding_name(self.inner.encoding())
            )
        }
    }
);

impl Ciphertext {
    fn new(inner: bfv::Ciphertext) -> Self {
        Self {
            params: inner.params().clone(),
            inner,
        }
    }
}

fn encoding_name(e: bfv::Encoding) -> &'static str {
    match e {
        bfv::Encoding::Batch => "batch",
        bfv::Encoding::Coefficients => "coefficients",
    }
}

/// A BFV plaintext: a polynomial with coefficients in [0, t).
///
/// Pickles by its values (the Rust crate has no byte format for BFV
/// plaintexts: they are re-encoded, which is exact).
#[pyclass(module = "hekit.bfv", frozen)]
pub struct Plaintext {
    pub(crate) inner: bfv::Plaintext,
}

impl Plaintext {
    fn new(inner: bfv::Plaintext) -> Self {
        Self { inner }
    }
}

#[pymethods]
impl Plaintext {
    /// The coefficients in [0, t), as an int64 array.
    #[getter]
    fn coefficients<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let c: Vec<i64> = self
            .inner
            .coefficients()
            .iter()
            .map(|&c| c as i64)
            .collect();
        arrays::i64_array(py, &c)
    }

    /// ``"batch"`` or ``"coefficients"``.
    #[getter]
    fn encoding(&self) -> &'static str {
        encoding_name(self.inner.encoding())
    }

    /// The parameters.
    #[getter]
    fn params(&self) -> Parameters {
        Parameters::wrap(self.inner.params().clone())
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<Plaintext>()
            .is_ok_and(|o| o.get().inner == self.inner)
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> crate::Reduce<'py, (Bound<'py, PyBytes>, &'static str, Vec<i64>)> {
        let this = slf.get();
        let enc = Encoder::new(slf.py(), &this.params());
        let values = match this.inner.encoding() {
            bfv::Encoding::Batch => enc.inner.decode(&this.inner).or_raise()?,
            bfv::Encoding::Coefficients => this
                .inner
                .coefficients()
                .iter()
                .map(|&c| c as i64)
                .collect(),
        };
        Ok((
            unpickler(slf.as_any())?,
            (
                PyBytes::new(slf.py(), this.inner.params().fingerprint()),
                encoding_name(this.inner.encoding()),
                values,
            ),
        ))
    }

    #[classmethod]
    fn _from_pickle(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        fingerprint: &[u8],
        encoding: &str,
        values: Vec<i64>,
    ) -> PyResult<Self> {
        let params = Parameters {
            inner: registry::BFV.get(fingerprint)?,
        };
        let enc = Encoder::new(py, &params);
        let inner = match encoding {
            "batch" => enc.inner.encode(&values),
            _ => enc.inner.encode_coefficients(&values),
        }
        .or_raise()?;
        Ok(Self { inner })
    }
}

/// Encodes int64 vectors into plaintexts (batching: 2 rows of N/2 slots,
/// or one value per coefficient) and decodes them back to numpy arrays.
#[pyclass(module = "hekit.bfv", frozen)]
pub struct Encoder {
    inner: bfv::Encoder,
    params: Params,
}

#[pymethods]
impl Encoder {
    #[new]
    fn new(py: Python<'_>, params: &Parameters) -> Self {
        let p = &params.inner;
        Self {
            inner: py.detach(|| bfv::Encoder::new(p)),
            params: p.clone(),
        }
    }

    /// Number of slots (N).
    #[getter]
    fn slots(&self) -> usize {
        self.inner.slots()
    }

    /// Batch-encodes up to N integers in [−⌊t/2⌋, t) (missing slots are 0;
    /// slots 0..N/2 are row 0).
    fn encode(&self, values: &Bound<'_, PyAny>) -> PyResult<Plaintext> {
        let v = arrays::i64_vec(values, "values")?;
        Ok(Plaintext::new(self.inner.encode(&v).or_raise()?))
    }

    /// The slots as an int64 array of length N, centered in (−t/2, t/2].
    fn decode<'py>(&self, py: Python<'py>, pt: &Plaintext) -> PyResult<Bound<'py, PyAny>> {
        let v = self.inner.decode(&pt.inner).or_raise()?;
        arrays::i64_array(py, &v)
    }

    /// Encodes up to N integers as polynomial coefficients.
    fn encode_coefficients(&self, values: &Bound<'_, PyAny>) -> PyResult<Plaintext> {
        let v = arrays::i64_vec(values, "values")?;
        Ok(Plaintext::new(
            self.inner.encode_coefficients(&v).or_raise()?,
        ))
    }

    /// The coefficients, centered, as an int64 array.
    fn decode_coefficients<'py>(
        &self,
        py: Python<'py>,
        pt: &Plaintext,
    ) -> PyResult<Bound<'py, PyAny>> {
        let v = self.inner.decode_coefficients(&pt.inner).or_raise()?;
        arrays::i64_array(py, &v)
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> crate::Reduce<'py, (Bound<'py, PyBytes>,)> {
        let p = &slf.get().params;
        Ok((
            unpickler(slf.as_any())?,
            (PyBytes::new(slf.py(), p.fingerprint()),),
        ))
    }

    #[classmethod]
    fn _from_pickle(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        fingerprint: &[u8],
    ) -> PyResult<Self> {
        let p = Parameters {
            inner: registry::BFV.get(fingerprint)?,
        };
        Ok(Self::new(py, &p))
    }
}

/// Homomorphic operations on BFV ciphertexts (the names of
/// ``bfv::Evaluator``). Mixing parameters raises ``BfvError``.
#[pyclass(module = "hekit.bfv", frozen)]
pub struct Evaluator {
    inner: bfv::Evaluator,
    params: Params,
}

fn ct(r: bfv::Result<bfv::Ciphertext>) -> PyResult<Ciphertext> {
    Ok(Ciphertext::new(r.or_raise()?))
}

#[pymethods]
impl Evaluator {
    #[new]
    fn new(params: &Parameters) -> Self {
        Self {
            inner: bfv::Evaluator::new(&params.inner),
            params: params.inner.clone(),
        }
    }

    /// a + b (mod t, slot-wise).
    fn add(&self, a: &Ciphertext, b: &Ciphertext) -> PyResult<Ciphertext> {
        ct(self.inner.add(&a.inner, &b.inner))
    }

    /// a − b.
    fn sub(&self, a: &Ciphertext, b: &Ciphertext) -> PyResult<Ciphertext> {
        ct(self.inner.sub(&a.inner, &b.inner))
    }

    /// −a.
    fn neg(&self, a: &Ciphertext) -> PyResult<Ciphertext> {
        ct(self.inner.neg(&a.inner))
    }

    /// ct + pt.
    fn add_plain(&self, a: &Ciphertext, pt: &Plaintext) -> PyResult<Ciphertext> {
        ct(self.inner.add_plain(&a.inner, &pt.inner))
    }

    /// ct − pt.
    fn sub_plain(&self, a: &Ciphertext, pt: &Plaintext) -> PyResult<Ciphertext> {
        ct(self.inner.sub_plain(&a.inner, &pt.inner))
    }

    /// ct · pt slot-wise.
    fn mul_plain(&self, py: Python<'_>, a: &Ciphertext, pt: &Plaintext) -> PyResult<Ciphertext> {
        ct(py.detach(|| self.inner.mul_plain(&a.inner, &pt.inner)))
    }

    /// ct · c for an integer c.
    fn mul_scalar(&self, a: &Ciphertext, c: i64) -> PyResult<Ciphertext> {
        ct(self.inner.mul_scalar(&a.inner, c))
    }

    /// a · b without relinearization (3 parts).
    fn mul(&self, py: Python<'_>, a: &Ciphertext, b: &Ciphertext) -> PyResult<Ciphertext> {
        ct(py.detach(|| self.inner.mul(&a.inner, &b.inner)))
    }

    /// Relinearizes a 3-part ciphertext.
    fn relinearize(&self, py: Python<'_>, a: &Ciphertext, rlk: &RelinKey) -> PyResult<Ciphertext> {
        ct(py.detach(|| self.inner.relinearize(&a.inner, &rlk.inner)))
    }

    /// a · b, relinearized.
    fn mul_relin(
        &self,
        py: Python<'_>,
        a: &Ciphertext,
        b: &Ciphertext,
        rlk: &RelinKey,
    ) -> PyResult<Ciphertext> {
        ct(py.detach(|| self.inner.mul_relin(&a.inner, &b.inner, &rlk.inner)))
    }

    /// Rotates both rows left by ``step`` (negative: right).
    fn rotate_rows(
        &self,
        py: Python<'_>,
        a: &Ciphertext,
        step: i64,
        gk: &GaloisKeys,
    ) -> PyResult<Ciphertext> {
        ct(py.detach(|| self.inner.rotate_rows(&a.inner, step, &gk.inner)))
    }

    /// Swaps the two rows.
    fn rotate_columns(
        &self,
        py: Python<'_>,
        a: &Ciphertext,
        gk: &GaloisKeys,
    ) -> PyResult<Ciphertext> {
        ct(py.detach(|| self.inner.rotate_columns(&a.inner, &gk.inner)))
    }

    /// Every slot holds the sum of all N slots (keys:
    /// ``GaloisKeys.for_slot_sum``).
    fn sum_slots(&self, py: Python<'_>, a: &Ciphertext, gk: &GaloisKeys) -> PyResult<Ciphertext> {
        ct(py.detach(|| self.inner.sum_slots(&a.inner, &gk.inner)))
    }

    /// Modulus switching to the next level (smaller ciphertext).
    fn mod_switch_to_next(&self, py: Python<'_>, a: &Ciphertext) -> PyResult<Ciphertext> {
        ct(py.detach(|| self.inner.mod_switch_to_next(&a.inner)))
    }

    /// Modulus switching down to ``level``.
    fn mod_switch_to(&self, py: Python<'_>, a: &Ciphertext, level: usize) -> PyResult<Ciphertext> {
        ct(py.detach(|| self.inner.mod_switch_to(&a.inner, level)))
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> crate::Reduce<'py, (Bound<'py, PyBytes>,)> {
        Ok((
            unpickler(slf.as_any())?,
            (PyBytes::new(slf.py(), slf.get().params.fingerprint()),),
        ))
    }

    #[classmethod]
    fn _from_pickle(_cls: &Bound<'_, PyType>, fingerprint: &[u8]) -> PyResult<Self> {
        let params = registry::BFV.get(fingerprint)?;
        Ok(Self {
            inner: bfv::Evaluator::new(&params),
            params,
        })
    }
}

/// Registers the module's classes.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("BfvError", m.py().get_type::<BfvError>())?;
    m.add_class::<Preset>()?;
    m.add_class::<Parameters>()?;
    m.add_class::<SecretKey>()?;
    m.add_class::<PublicKey>()?;
    m.add_class::<RelinKey>()?;
    m.add_class::<GaloisKeys>()?;
    m.add_class::<Plaintext>()?;
    m.add_class::<Ciphertext>()?;
    m.add_class::<Encoder>()?;
    m.add_class::<Evaluator>()?;
    Ok(())
}
