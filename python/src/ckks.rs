//! `hekit.ckks`: approximate arithmetic on encrypted float64 vectors
//! (binds the `ckks` crate, same names).

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyType};

use crate::arrays;
use crate::errors::{CkksError, OrRaise};
use crate::registry;

/// Maps a security level in bits (128, 192, 256, or 0 for none) to
/// `SecurityLevel`.
pub(crate) fn security_level(bits: u32) -> PyResult<ckks::SecurityLevel> {
    Ok(match bits {
        128 => ckks::SecurityLevel::Bits128,
        192 => ckks::SecurityLevel::Bits192,
        256 => ckks::SecurityLevel::Bits256,
        0 => ckks::SecurityLevel::None,
        other => {
            return Err(PyValueError::new_err(format!(
                "security must be 128, 192, 256 or 0 (no check), got {other}"
            )))
        }
    })
}

/// The `_from_pickle` class method of `obj`'s class.
pub(crate) fn unpickler<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    obj.get_type().getattr("_from_pickle")
}

/// Ready-made parameter sets at 128-bit security (all primes below 2^50).
#[pyclass(module = "hekit.ckks", eq, eq_int, frozen, from_py_object)]
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// N = 8192 (4096 slots), Q = `[46, 40, 40, 40]`, P = `[50]`, scale 2^40, depth 3.
    N8192,
    /// N = 16384 (8192 slots), Q = `[50, 40 × 7]`, P = `[50, 50]`, scale 2^40, depth 7.
    N16384,
    /// N = 32768 (16384 slots), Q = `[50, 40 × 18]`, P = `[50, 50]`, scale 2^40, depth 18.
    N32768,
}

impl From<Preset> for ckks::Preset {
    fn from(p: Preset) -> Self {
        match p {
            Preset::N8192 => ckks::Preset::N8192,
            Preset::N16384 => ckks::Preset::N16384,
            Preset::N32768 => ckks::Preset::N32768,
        }
    }
}

/// Validated CKKS parameters: ring degree, chain of rescaling primes `Q`,
/// special primes `P`, default scale. Created once and shared by every
/// object made from them; recorded in the process registry so that pickled
/// objects (which carry only the fingerprint) can find them again.
///
/// ``Parameters(degree, q_bits, p_bits, scale_bits=None, security=128)``
/// builds a custom chain (as ``ckks::ParametersBuilder``); the default
/// scale is the size of the second prime. ``security=0`` skips the
/// HomomorphicEncryption.org check (tests and experiments only).
#[pyclass(module = "hekit.ckks", frozen)]
pub struct Parameters {
    pub(crate) inner: ckks::Parameters,
}

impl Parameters {
    /// Wraps and registers.
    pub(crate) fn wrap(inner: ckks::Parameters) -> Self {
        registry::register_ckks(&inner);
        Self { inner }
    }
}

#[pymethods]
impl Parameters {
    #[new]
    #[pyo3(signature = (degree, q_bits, p_bits, scale_bits=None, security=128))]
    fn new(
        py: Python<'_>,
        degree: usize,
        q_bits: Vec<u32>,
        p_bits: Vec<u32>,
        scale_bits: Option<u32>,
        security: u32,
    ) -> PyResult<Self> {
        let level = security_level(security)?;
        let mut b = ckks::Parameters::builder()
            .degree(degree)
            .q_bits(&q_bits)
            .p_bits(&p_bits)
            .security(level);
        if let Some(s) = scale_bits {
            b = b.scale_bits(s);
        }
        Ok(Self::wrap(py.detach(|| b.build()).or_raise()?))
    }

    /// One of the presets (a ``Preset`` or its name, e.g. ``"N8192"``).
    #[staticmethod]
    fn preset(py: Python<'_>, preset: &Bound<'_, PyAny>) -> PyResult<Self> {
        let p: Preset = match preset.extract::<Preset>() {
            Ok(p) => p,
            Err(_) => match preset.extract::<String>()?.as_str() {
                "N8192" => Preset::N8192,
                "N16384" => Preset::N16384,
                "N32768" => Preset::N32768,
                other => {
                    return Err(PyValueError::new_err(format!(
                        "unknown CKKS preset {other:?} (N8192, N16384, N32768)"
                    )))
                }
            },
        };
        let p = ckks::Preset::from(p);
        Ok(Self::wrap(
            py.detach(|| ckks::Parameters::preset(p)).or_raise()?,
        ))
    }

    /// Parameters for a circuit of multiplicative ``depth`` with values
    /// scaled by about ``2^scale_bits``, keeping about ``precision_bits``
    /// bits after the binary point, at 128-bit security.
    #[staticmethod]
    fn for_circuit(
        py: Python<'_>,
        depth: usize,
        scale_bits: u32,
        precision_bits: u32,
    ) -> PyResult<Self> {
        Ok(Self::wrap(
            py.detach(|| ckks::Parameters::for_circuit(depth, scale_bits, precision_bits))
                .or_raise()?,
        ))
    }

    /// The same ring and chain with another default scale.
    fn with_scale(&self, scale: f64) -> PyResult<Self> {
        Ok(Self::wrap(
            ckks::Parameters::new(self.inner.rlwe().clone(), scale).or_raise()?,
        ))
    }

    /// The RLWE parameters' versioned bytes (degree, primes, security
    /// level); the default scale is ``scale``.
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.rlwe().to_bytes())
    }

    /// Reads parameters written by ``to_bytes`` with default scale
    /// ``scale``; their recorded security level must be at least
    /// ``min_security`` bits (0 accepts parameters made without the check).
    #[staticmethod]
    #[pyo3(signature = (data, scale, min_security=128))]
    fn from_bytes(py: Python<'_>, data: &[u8], scale: f64, min_security: u32) -> PyResult<Self> {
        let min = security_level(min_security)?;
        let rlwe = py
            .detach(|| rlwe::params::Params::from_bytes(data, min))
            .or_raise()?;
        Ok(Self::wrap(ckks::Parameters::new(rlwe, scale).or_raise()?))
    }

    /// Ring degree N.
    #[getter]
    fn degree(&self) -> usize {
        self.inner.degree()
    }

    /// Number of complex slots, N/2.
    #[getter]
    fn slots(&self) -> usize {
        self.inner.slots()
    }

    /// The default scale Δ.
    #[getter]
    fn scale(&self) -> f64 {
        self.inner.scale()
    }

    /// The top level L (a fresh ciphertext's level).
    #[getter]
    fn max_level(&self) -> usize {
        self.inner.max_level()
    }

    /// The rescaling primes q_0 … q_L.
    #[getter]
    fn q(&self) -> Vec<u64> {
        self.inner.rlwe().q().to_vec()
    }

    /// The special primes P.
    #[getter]
    fn p(&self) -> Vec<u64> {
        self.inner.rlwe().p().to_vec()
    }

    /// log2 of q_0 ⋯ q_level.
    fn log_q(&self, level: usize) -> f64 {
        self.inner.log_q(level)
    }

    /// The RLWE parameters' SHA-256 fingerprint (what pickles carry).
    #[getter]
    fn fingerprint<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.inner.rlwe().fingerprint())
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<Parameters>()
            .is_ok_and(|o| o.get().inner == self.inner)
    }

    fn __hash__(&self) -> u64 {
        let fp = self.inner.rlwe().fingerprint();
        u64::from_le_bytes(fp[..8].try_into().unwrap_or_default()) ^ self.inner.scale().to_bits()
    }

    fn __repr__(&self) -> String {
        format!(
            "hekit.ckks.Parameters(degree={}, q_bits={:?}, p_bits={:?}, scale=2^{:.1})",
            self.inner.degree(),
            bits(self.inner.rlwe().q()),
            bits(self.inner.rlwe().p()),
            self.inner.scale().log2()
        )
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> crate::Reduce<'py, (Bound<'py, PyBytes>, f64, u32)> {
        let p = &slf.get().inner;
        Ok((
            unpickler(slf.as_any())?,
            (
                PyBytes::new(slf.py(), &p.rlwe().to_bytes()),
                p.scale(),
                p.rlwe().security().bits(),
            ),
        ))
    }

    #[classmethod]
    fn _from_pickle(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        data: &[u8],
        scale: f64,
        security: u32,
    ) -> PyResult<Self> {
        Self::from_bytes(py, data, scale, security)
    }
}

fn bits(primes: &[u64]) -> Vec<u32> {
    primes.iter().map(|q| 64 - q.leading_zeros()).collect()
}

/// Parameters of `fingerprint` with default scale `scale`.
fn params_for(fingerprint: &[u8], scale: f64) -> PyResult<ckks::Parameters> {
    let p = registry::CKKS.get(fingerprint)?;
    if p.scale() == scale {
        Ok(p)
    } else {
        ckks::Parameters::new(p.rlwe().clone(), scale).or_raise()
    }
}

/// Defines a CKKS object type that pickles as `(fingerprint, to_bytes())`.
macro_rules! bytes_object {
    ($ty:ident, $inner:ty, $doc:literal, $to_bytes:expr, $from_bytes:expr, { $($extra:tt)* }) => {
        #[doc = $doc]
        #[pyclass(module = "hekit.ckks", frozen)]
        pub struct $ty {
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
                let f: fn(&ckks::Parameters, &[u8]) -> PyResult<$inner> = $from_bytes;
                let p = &params.inner;
                Ok(Self {
                    inner: py.detach(|| f(p, data))?,
                })
            }

            /// The parameters.
            #[getter]
            fn params(&self) -> Parameters {
                Parameters::wrap(self.inner.params().clone())
            }

            fn __reduce__<'py>(
                slf: &Bound<'py, Self>,
            ) -> crate::Reduce<'py, (Bound<'py, PyBytes>, f64, Bound<'py, PyBytes>)> {
                let py = slf.py();
                let this = slf.get();
                let p = this.inner.params();
                Ok((
                    unpickler(slf.as_any())?,
                    (
                        PyBytes::new(py, p.rlwe().fingerprint()),
                        p.scale(),
                        this.to_bytes(py)?,
                    ),
                ))
            }

            #[classmethod]
            fn _from_pickle(
                _cls: &Bound<'_, PyType>,
                py: Python<'_>,
                fingerprint: &[u8],
                scale: f64,
                data: &[u8],
            ) -> PyResult<Self> {
                let params = Parameters {
                    inner: params_for(fingerprint, scale)?,
                };
                Self::from_bytes(py, &params, data)
            }

            $($extra)*
        }
    };
}

bytes_object!(
    SecretKey,
    ckks::SecretKey,
    "A CKKS secret key (ternary). ``SecretKey.generate(params)``; decrypts; \
     its bytes are wiped in Rust, but a pickle or ``to_bytes()`` copy is yours to protect.",
    |k| Ok(k.to_bytes().to_vec()),
    |p, b| ckks::SecretKey::from_bytes(p, b).or_raise(),
    {
        /// A fresh secret key for ``params``.
        #[staticmethod]
        fn generate(py: Python<'_>, params: &Parameters) -> Self {
            let p = &params.inner;
            Self {
                inner: py.detach(|| ckks::SecretKey::generate(p, &mut crate::rng())),
            }
        }

        /// Secret-key encryption (half-size, seeded ciphertext).
        fn encrypt(&self, py: Python<'_>, pt: &Plaintext) -> PyResult<Ciphertext> {
            let inner = py
                .detach(|| self.inner.encrypt(&pt.inner, &mut crate::rng()))
                .or_raise()?;
            Ok(Ciphertext { inner })
        }

        /// Decrypts to a plaintext (decode it with ``Encoder.decode``).
        fn decrypt(&self, py: Python<'_>, ct: &Ciphertext) -> PyResult<Plaintext> {
            let inner = py.detach(|| self.inner.decrypt(&ct.inner)).or_raise()?;
            Ok(Plaintext { inner })
        }

        /// Decrypts and floods the result with Gaussian noise for a noise bound
        /// of ``2^noise_bits`` (Li–Micciancio): use it whenever decrypted values
        /// leave the key owner.
        fn decrypt_flooded(
            &self,
            py: Python<'_>,
            ct: &Ciphertext,
            noise_bits: f64,
        ) -> PyResult<Plaintext> {
            let flooding = ckks::Flooding::new(noise_bits);
            let inner = py
                .detach(|| {
                    self.inner
                        .decrypt_flooded(&ct.inner, &flooding, &mut crate::rng())
                })
                .or_raise()?;
            Ok(Plaintext { inner })
        }

        fn __repr__(&self) -> String {
            "hekit.ckks.SecretKey(<secret>)".into()
        }
    }
);
bytes_object!(
    PublicKey,
    ckks::PublicKey,
    "A CKKS public key: ``PublicKey.generate(sk)``; encrypts.",
    |k| Ok(k.to_bytes()),
    |p, b| ckks::PublicKey::from_bytes(p, b).or_raise(),
    {
        /// The public key of ``sk``.
        #[staticmethod]
        fn generate(py: Python<'_>, sk: &SecretKey) -> PyResult<Self> {
            let inner = py
                .detach(|| ckks::PublicKey::generate(&sk.inner, &mut crate::rng()))
                .or_raise()?;
            Ok(Self { inner })
        }

        /// Wraps a collective public key (``hekit.threshold``) for ``params``.
        #[staticmethod]
        fn from_rlwe(params: &Parameters, key: &crate::threshold::RlwePublicKey) -> PyResult<Self> {
            Ok(Self {
                inner: ckks::PublicKey::from_rlwe(&params.inner, key.inner.clone()).or_raise()?,
            })
        }

        /// Public-key encryption of a plaintext.
        fn encrypt(&self, py: Python<'_>, pt: &Plaintext) -> PyResult<Ciphertext> {
            let inner = py
                .detach(|| self.inner.encrypt(&pt.inner, &mut crate::rng()))
                .or_raise()?;
            Ok(Ciphertext { inner })
        }
    }
);
bytes_object!(
    RelinKey,
    ckks::RelinKey,
    "A relinearization key: ``RelinKey.generate(sk)``; used by ``Evaluator.mul_relin``.",
    |k| Ok(k.to_bytes()),
    |p, b| ckks::RelinKey::from_bytes(p, b).or_raise(),
    {
        /// The relinearization key of ``sk``.
        #[staticmethod]
        fn generate(py: Python<'_>, sk: &SecretKey) -> PyResult<Self> {
            let inner = py
                .detach(|| ckks::RelinKey::generate(&sk.inner, &mut crate::rng()))
                .or_raise()?;
            Ok(Self { inner })
        }

        /// Wraps a collective relinearization key (``hekit.threshold``).
        #[staticmethod]
        fn from_rlwe(params: &Parameters, key: &crate::threshold::RlweRelinKey) -> PyResult<Self> {
            Ok(Self {
                inner: ckks::RelinKey::from_rlwe(&params.inner, key.inner.clone()).or_raise()?,
            })
        }
    }
);
bytes_object!(
    GaloisKeys,
    ckks::GaloisKeys,
    "Galois (rotation) keys: ``GaloisKeys.generate(sk, steps, conjugation=False)``.",
    |k| Ok(k.to_bytes()),
    |p, b| ckks::GaloisKeys::from_bytes(p, b).or_raise(),
    {
        /// Keys for rotations by each of ``steps`` slots (positive: left) and,
        /// with ``conjugation``, for complex conjugation.
        #[staticmethod]
        #[pyo3(signature = (sk, steps, conjugation=false))]
        fn generate(
            py: Python<'_>,
            sk: &SecretKey,
            steps: Vec<i64>,
            conjugation: bool,
        ) -> PyResult<Self> {
            let inner = py
                .detach(|| {
                    ckks::GaloisKeys::generate_with_conjugation(
                        &sk.inner,
                        &steps,
                        conjugation,
                        &mut crate::rng(),
                    )
                })
                .or_raise()?;
            Ok(Self { inner })
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
                inner: ckks::GaloisKeys::from_rlwe(&params.inner, set),
            }
        }

        /// The rotation steps ``Evaluator.sum_slots`` needs for ``count`` slots.
        #[staticmethod]
        fn sum_slots_steps(count: usize) -> Vec<i64> {
            ckks::Evaluator::sum_slots_steps(count)
        }

        fn __len__(&self) -> usize {
            self.inner.len()
        }
    }
);
bytes_object!(
    Plaintext,
    ckks::Plaintext,
    "An encoded vector at a level and scale (``Encoder.encode``).",
    |pt| pt.to_bytes().or_raise(),
    |p, b| ckks::Plaintext::from_bytes(p, b).or_raise(),
    {
        /// The scale.
        #[getter]
        fn scale(&self) -> f64 {
            self.inner.scale()
        }

        /// The level.
        #[getter]
        fn level(&self) -> usize {
            self.inner.level()
        }
    }
);
bytes_object!(
    Ciphertext,
    ckks::Ciphertext,
    "A CKKS ciphertext with its exactly tracked scale and level. Pickles as \
     its bytes plus the parameters' fingerprint (never the parameters).",
    |ct| Ok(ct.to_bytes()),
    |p, b| ckks::Ciphertext::from_bytes(p, b).or_raise(),
    {
        /// The scale of the encrypted values.
        #[getter]
        fn scale(&self) -> f64 {
            self.inner.scale()
        }

        /// The level (number of rescalings left).
        #[getter]
        fn level(&self) -> usize {
            self.inner.level()
        }

        /// Number of parts (2, or 3 after ``Evaluator.mul`` without relinearization).
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
                "hekit.ckks.Ciphertext(level={}, scale=2^{:.2}, parts={})",
                self.inner.level(),
                self.inner.scale().log2(),
                self.inner.len()
            )
        }
    }
);

/// Encodes float64 (or complex128) vectors into plaintexts by the canonical
/// embedding, and decodes them back to numpy arrays.
#[pyclass(module = "hekit.ckks", frozen)]
pub struct Encoder {
    inner: ckks::Encoder,
}

#[pymethods]
impl Encoder {
    #[new]
    fn new(py: Python<'_>, params: &Parameters) -> Self {
        let p = &params.inner;
        Self {
            inner: py.detach(|| ckks::Encoder::new(p)),
        }
    }

    /// Number of slots.
    #[getter]
    fn slots(&self) -> usize {
        self.inner.slots()
    }

    /// The parameters.
    #[getter]
    fn params(&self) -> Parameters {
        Parameters::wrap(self.inner.params().clone())
    }

    /// Encodes up to ``slots`` real values (the rest are zero) at the top
    /// level and the default scale, or at ``level`` / ``scale``.
    #[pyo3(signature = (values, level=None, scale=None))]
    fn encode(
        &self,
        py: Python<'_>,
        values: &Bound<'_, PyAny>,
        level: Option<usize>,
        scale: Option<f64>,
    ) -> PyResult<Plaintext> {
        let v = arrays::f64_vec(values, "values")?;
        let p = self.inner.params();
        let level = level.unwrap_or(p.max_level());
        let scale = scale.unwrap_or(p.scale());
        let inner = py
            .detach(|| self.inner.encode_at(&v, level, scale))
            .or_raise()?;
        Ok(Plaintext { inner })
    }

    /// Encodes up to ``slots`` complex values.
    #[pyo3(signature = (values, level=None, scale=None))]
    fn encode_complex(
        &self,
        py: Python<'_>,
        values: &Bound<'_, PyAny>,
        level: Option<usize>,
        scale: Option<f64>,
    ) -> PyResult<Plaintext> {
        let v: Vec<ckks::Complex> = arrays::complex_vec(values, "values")?
            .into_iter()
            .map(|(re, im)| ckks::Complex { re, im })
            .collect();
        let p = self.inner.params();
        let level = level.unwrap_or(p.max_level());
        let scale = scale.unwrap_or(p.scale());
        let inner = py
            .detach(|| self.inner.encode_complex_at(&v, level, scale))
            .or_raise()?;
        Ok(Plaintext { inner })
    }

    /// The real parts of all slots, as a float64 array of length ``slots``.
    fn decode<'py>(&self, py: Python<'py>, pt: &Plaintext) -> PyResult<Bound<'py, PyAny>> {
        let v = py.detach(|| self.inner.decode(&pt.inner)).or_raise()?;
        arrays::f64_array(py, &v)
    }

    /// All slots as a complex128 array.
    fn decode_complex<'py>(&self, py: Python<'py>, pt: &Plaintext) -> PyResult<Bound<'py, PyAny>> {
        let v = py
            .detach(|| self.inner.decode_complex(&pt.inner))
            .or_raise()?;
        let pairs: Vec<(f64, f64)> = v.iter().map(|c| (c.re, c.im)).collect();
        arrays::complex_array(py, &pairs)
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> crate::Reduce<'py, (Bound<'py, PyBytes>, f64)> {
        let p = slf.get().inner.params();
        Ok((
            unpickler(slf.as_any())?,
            (PyBytes::new(slf.py(), p.rlwe().fingerprint()), p.scale()),
        ))
    }

    #[classmethod]
    fn _from_pickle(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        fingerprint: &[u8],
        scale: f64,
    ) -> PyResult<Self> {
        let p = Parameters {
            inner: params_for(fingerprint, scale)?,
        };
        Ok(Self::new(py, &p))
    }
}

/// Homomorphic operations on ciphertexts of one parameter set (the same
/// names as ``ckks::Evaluator``). Mixing parameters raises ``CkksError``.
#[pyclass(module = "hekit.ckks", frozen)]
pub struct Evaluator {
    inner: ckks::Evaluator,
}

/// `ct` as a new Python ciphertext.
fn ct(r: ckks::Result<ckks::Ciphertext>) -> PyResult<Ciphertext> {
    Ok(Ciphertext {
        inner: r.or_raise()?,
    })
}

#[pymethods]
impl Evaluator {
    #[new]
    fn new(params: &Parameters) -> Self {
        Self {
            inner: ckks::Evaluator::new(&params.inner),
        }
    }

    /// The parameters.
    #[getter]
    fn params(&self) -> Parameters {
        Parameters::wrap(self.inner.params().clone())
    }

    /// a + b (levels and scales aligned automatically).
    fn add(&self, a: &Ciphertext, b: &Ciphertext) -> PyResult<Ciphertext> {
        ct(self.inner.add(&a.inner, &b.inner))
    }

    /// a − b.
    fn sub(&self, a: &Ciphertext, b: &Ciphertext) -> PyResult<Ciphertext> {
        ct(self.inner.sub(&a.inner, &b.inner))
    }

    /// −a.
    fn negate(&self, a: &Ciphertext) -> PyResult<Ciphertext> {
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

    /// ct · pt slot-wise (scales multiply; ``rescale`` afterwards).
    fn mul_plain(&self, py: Python<'_>, a: &Ciphertext, pt: &Plaintext) -> PyResult<Ciphertext> {
        ct(py.detach(|| self.inner.mul_plain(&a.inner, &pt.inner)))
    }

    /// ct + c in every slot.
    fn add_const(&self, a: &Ciphertext, c: f64) -> PyResult<Ciphertext> {
        ct(self.inner.add_const(&a.inner, c))
    }

    /// ct · c, with c encoded at scale q_l so that ``rescale`` restores the
    /// scale exactly.
    fn mul_const(&self, a: &Ciphertext, c: f64) -> PyResult<Ciphertext> {
        ct(self.inner.mul_const(&a.inner, c))
    }

    /// ct · k for an integer k (no level used).
    fn mul_integer(&self, a: &Ciphertext, k: i64) -> PyResult<Ciphertext> {
        ct(self.inner.mul_integer(&a.inner, k))
    }

    /// a · b without relinearization (a 3-part ciphertext).
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

    /// a · b, relinearized and rescaled (one level).
    fn mul_relin_rescale(
        &self,
        py: Python<'_>,
        a: &Ciphertext,
        b: &Ciphertext,
        rlk: &RelinKey,
    ) -> PyResult<Ciphertext> {
        ct(py.detach(|| self.inner.mul_relin_rescale(&a.inner, &b.inner, &rlk.inner)))
    }

    /// a², relinearized.
    fn square(&self, py: Python<'_>, a: &Ciphertext, rlk: &RelinKey) -> PyResult<Ciphertext> {
        ct(py.detach(|| self.inner.square(&a.inner, &rlk.inner)))
    }

    /// Divides by the last prime of the level (one level down).
    fn rescale(&self, py: Python<'_>, a: &Ciphertext) -> PyResult<Ciphertext> {
        ct(py.detach(|| self.inner.rescale(&a.inner)))
    }

    /// The same ciphertext at a lower level (scale kept).
    fn drop_to_level(&self, a: &Ciphertext, level: usize) -> PyResult<Ciphertext> {
        ct(self.inner.drop_to_level(&a.inner, level))
    }

    /// ``a`` brought to ``level`` with scale ``target``.
    fn match_scale(
        &self,
        py: Python<'_>,
        a: &Ciphertext,
        target: f64,
        level: usize,
    ) -> PyResult<Ciphertext> {
        ct(py.detach(|| self.inner.match_scale(&a.inner, target, level)))
    }

    /// Rotates the slots left by ``step`` (negative: right).
    fn rotate(
        &self,
        py: Python<'_>,
        a: &Ciphertext,
        step: i64,
        gk: &GaloisKeys,
    ) -> PyResult<Ciphertext> {
        ct(py.detach(|| self.inner.rotate(&a.inner, step, &gk.inner)))
    }

    /// Complex conjugation of every slot.
    fn conjugate(&self, py: Python<'_>, a: &Ciphertext, gk: &GaloisKeys) -> PyResult<Ciphertext> {
        ct(py.detach(|| self.inner.conjugate(&a.inner, &gk.inner)))
    }

    /// Sums ``count`` consecutive slots (a power of two): slot j holds
    /// Σ_{t<count} x_{j+t}.
    fn sum_slots(
        &self,
        py: Python<'_>,
        a: &Ciphertext,
        count: usize,
        gk: &GaloisKeys,
    ) -> PyResult<Ciphertext> {
        ct(py.detach(|| self.inner.sum_slots(&a.inner, count, &gk.inner)))
    }

    /// ⟨a, b⟩ over the first ``count`` slots (in slot 0): one
    /// multiplication, one rescale, log2(count) rotations.
    fn inner_product(
        &self,
        py: Python<'_>,
        a: &Ciphertext,
        b: &Ciphertext,
        count: usize,
        rlk: &RelinKey,
        gk: &GaloisKeys,
    ) -> PyResult<Ciphertext> {
        ct(py.detach(|| {
            self.inner
                .inner_product(&a.inner, &b.inner, count, &rlk.inner, &gk.inner)
        }))
    }

    /// ⟨a, weights⟩ over the first ``count`` slots, weights in the clear.
    fn inner_product_plain(
        &self,
        py: Python<'_>,
        a: &Ciphertext,
        weights: &Bound<'_, PyAny>,
        count: usize,
        encoder: &Encoder,
        gk: &GaloisKeys,
    ) -> PyResult<Ciphertext> {
        let w = arrays::f64_vec(weights, "weights")?;
        ct(py.detach(|| {
            self.inner
                .inner_product_plain(&a.inner, &w, count, &encoder.inner, &gk.inner)
        }))
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> crate::Reduce<'py, (Bound<'py, PyBytes>, f64)> {
        let p = slf.get().inner.params();
        Ok((
            unpickler(slf.as_any())?,
            (PyBytes::new(slf.py(), p.rlwe().fingerprint()), p.scale()),
        ))
    }

    #[classmethod]
    fn _from_pickle(_cls: &Bound<'_, PyType>, fingerprint: &[u8], scale: f64) -> PyResult<Self> {
        Ok(Self {
            inner: ckks::Evaluator::new(&params_for(fingerprint, scale)?),
        })
    }
}

// ---------------------------------------------------------- bootstrapping

/// Ready-made bootstrapping parameter sets (``ckks::BootstrapPreset``):
/// ``N65536`` (N = 2^16, 2^15 slots, 128-bit secure, 9 levels of 2^40
/// left) and ``TestN4096`` (N = 2^12, 2^11 slots, **no security**: tests
/// and examples, 8 levels of 2^50 left). ``BootstrapConfig.preset`` gives
/// the parameters and the configuration.
#[pyclass(module = "hekit.ckks", eq, eq_int, frozen, from_py_object)]
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum BootstrapPreset {
    /// N = 2^16, full packing, 128-bit secure.
    N65536,
    /// N = 2^12, full packing, ``security=0`` (not secure).
    TestN4096,
}

/// What a ``Bootstrapper`` is built for (``ckks::BootstrapConfig``, same
/// field names): ``slots`` message slots (a power of two up to N/2),
/// ``input_scale`` (the scale of the ciphertexts to bootstrap), the
/// ephemeral secret's ``hamming_weight``, EvalMod's ``double_angles``,
/// ``arcsine`` correction and interpolant ``degree``, the level budgets of
/// the two linear transforms (``None``: ``ceil(log2(slots)/4)``), and
/// ``iterations``: 1, or 2 for meta-bootstrapping (twice the time, the
/// same levels left, about 13 more bits at N = 2^12, scale 2^50), whose
/// second iteration scales the first one's error up by
/// ``2^first_error_bits``.
#[pyclass(module = "hekit.ckks", frozen)]
pub struct BootstrapConfig {
    pub(crate) inner: ckks::BootstrapConfig,
}

#[pymethods]
impl BootstrapConfig {
    #[new]
    #[pyo3(signature = (slots, input_scale, hamming_weight=32, double_angles=4, arcsine=true, degree=31, coeffs_to_slots_levels=None, slots_to_coeffs_levels=None, iterations=1, first_error_bits=20))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        slots: usize,
        input_scale: f64,
        hamming_weight: usize,
        double_angles: u32,
        arcsine: bool,
        degree: usize,
        coeffs_to_slots_levels: Option<usize>,
        slots_to_coeffs_levels: Option<usize>,
        iterations: u32,
        first_error_bits: u32,
    ) -> Self {
        let base = ckks::BootstrapConfig::new(slots, input_scale);
        Self {
            inner: ckks::BootstrapConfig {
                hamming_weight,
                double_angles,
                arcsine,
                degree,
                coeffs_to_slots_levels: coeffs_to_slots_levels
                    .unwrap_or(base.coeffs_to_slots_levels),
                slots_to_coeffs_levels: slots_to_coeffs_levels
                    .unwrap_or(base.slots_to_coeffs_levels),
                iterations,
                first_error_bits,
                ..base
            },
        }
    }

    /// The parameters and configuration of a preset (a ``BootstrapPreset``
    /// or its name, ``"N65536"`` or ``"TestN4096"``).
    #[staticmethod]
    fn preset(py: Python<'_>, preset: &Bound<'_, PyAny>) -> PyResult<(Parameters, Self)> {
        let p = match preset.extract::<BootstrapPreset>() {
            Ok(p) => p,
            Err(_) => match preset.extract::<String>()?.as_str() {
                "N65536" => BootstrapPreset::N65536,
                "TestN4096" => BootstrapPreset::TestN4096,
                other => {
                    return Err(PyValueError::new_err(format!(
                        "unknown bootstrapping preset {other:?} (N65536, TestN4096)"
                    )))
                }
            },
        };
        let p = match p {
            BootstrapPreset::N65536 => ckks::BootstrapPreset::N65536,
            BootstrapPreset::TestN4096 => ckks::BootstrapPreset::TestN4096,
        };
        let (params, config) = py.detach(|| p.parameters()).or_raise()?;
        Ok((Parameters::wrap(params), Self { inner: config }))
    }

    /// The same configuration with some fields changed (keyword arguments
    /// named as the fields), e.g. ``replace(slots=64)`` for sparse packing
    /// on a preset's chain.
    #[pyo3(signature = (*, slots=None, input_scale=None, hamming_weight=None, double_angles=None, arcsine=None, degree=None, coeffs_to_slots_levels=None, slots_to_coeffs_levels=None, iterations=None, first_error_bits=None))]
    #[allow(clippy::too_many_arguments)]
    fn replace(
        &self,
        slots: Option<usize>,
        input_scale: Option<f64>,
        hamming_weight: Option<usize>,
        double_angles: Option<u32>,
        arcsine: Option<bool>,
        degree: Option<usize>,
        coeffs_to_slots_levels: Option<usize>,
        slots_to_coeffs_levels: Option<usize>,
        iterations: Option<u32>,
        first_error_bits: Option<u32>,
    ) -> Self {
        let c = &self.inner;
        Self {
            inner: ckks::BootstrapConfig {
                slots: slots.unwrap_or(c.slots),
                input_scale: input_scale.unwrap_or(c.input_scale),
                hamming_weight: hamming_weight.unwrap_or(c.hamming_weight),
                double_angles: double_angles.unwrap_or(c.double_angles),
                arcsine: arcsine.unwrap_or(c.arcsine),
                degree: degree.unwrap_or(c.degree),
                coeffs_to_slots_levels: coeffs_to_slots_levels.unwrap_or(c.coeffs_to_slots_levels),
                slots_to_coeffs_levels: slots_to_coeffs_levels.unwrap_or(c.slots_to_coeffs_levels),
                iterations: iterations.unwrap_or(c.iterations),
                first_error_bits: first_error_bits.unwrap_or(c.first_error_bits),
            },
        }
    }

    /// The same configuration with ``iterations`` iterations (2:
    /// meta-bootstrapping).
    fn with_iterations(&self, iterations: u32) -> Self {
        Self {
            inner: self.inner.clone().with_iterations(iterations),
        }
    }

    /// The levels one bootstrap consumes (CoeffsToSlots, EvalMod,
    /// SlotsToCoeffs); two iterations consume the same.
    fn depth(&self) -> PyResult<usize> {
        self.inner.depth().or_raise()
    }

    /// The rotation steps the bootstrapping keys hold, for ring degree
    /// ``degree`` (conjugation as well).
    fn rotation_steps(&self, degree: usize) -> PyResult<Vec<i64>> {
        self.inner.rotation_steps(degree).or_raise()
    }

    /// Message slots.
    #[getter]
    fn slots(&self) -> usize {
        self.inner.slots
    }

    /// The scale of the ciphertexts to bootstrap (and of the output).
    #[getter]
    fn input_scale(&self) -> f64 {
        self.inner.input_scale
    }

    /// Hamming weight of the ephemeral sparse secret.
    #[getter]
    fn hamming_weight(&self) -> usize {
        self.inner.hamming_weight
    }

    /// EvalMod's double angles.
    #[getter]
    fn double_angles(&self) -> u32 {
        self.inner.double_angles
    }

    /// Whether EvalMod corrects the sine's curvature (two levels).
    #[getter]
    fn arcsine(&self) -> bool {
        self.inner.arcsine
    }

    /// Degree of EvalMod's Chebyshev interpolant.
    #[getter]
    fn degree(&self) -> usize {
        self.inner.degree
    }

    /// Levels of CoeffsToSlots.
    #[getter]
    fn coeffs_to_slots_levels(&self) -> usize {
        self.inner.coeffs_to_slots_levels
    }

    /// Levels of SlotsToCoeffs.
    #[getter]
    fn slots_to_coeffs_levels(&self) -> usize {
        self.inner.slots_to_coeffs_levels
    }

    /// 1, or 2 (meta-bootstrapping).
    #[getter]
    fn iterations(&self) -> u32 {
        self.inner.iterations
    }

    /// ``b``: the first iteration's errors are taken to be below ``2^-b``.
    #[getter]
    fn first_error_bits(&self) -> u32 {
        self.inner.first_error_bits
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<BootstrapConfig>()
            .is_ok_and(|o| o.get().inner == self.inner)
    }

    fn __repr__(&self) -> String {
        let c = &self.inner;
        format!(
            "hekit.ckks.BootstrapConfig(slots={}, input_scale=2^{:.1}, hamming_weight={}, double_angles={}, arcsine={}, degree={}, coeffs_to_slots_levels={}, slots_to_coeffs_levels={}, iterations={}, first_error_bits={})",
            c.slots,
            c.input_scale.log2(),
            c.hamming_weight,
            c.double_angles,
            if c.arcsine { "True" } else { "False" },
            c.degree,
            c.coeffs_to_slots_levels,
            c.slots_to_coeffs_levels,
            c.iterations,
            c.first_error_bits
        )
    }

    #[allow(clippy::type_complexity)]
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> crate::Reduce<'py, (usize, f64, usize, u32, bool, usize, usize, usize, u32, u32)> {
        let c = &slf.get().inner;
        Ok((
            slf.get_type().into_any(),
            (
                c.slots,
                c.input_scale,
                c.hamming_weight,
                c.double_angles,
                c.arcsine,
                c.degree,
                c.coeffs_to_slots_levels,
                c.slots_to_coeffs_levels,
                c.iterations,
                c.first_error_bits,
            ),
        ))
    }
}

bytes_object!(
    BootstrapKeys,
    ckks::BootstrapKeys,
    "Every key bootstrapping needs (relinearization, the rotations of the \
     transforms, conjugation, the two key switches of the sparse ephemeral \
     secret): ``BootstrapKeys.generate(sk, config)``. Public: they travel \
     to whoever bootstraps (gigabytes at N = 2^16).",
    |k| Ok(k.to_bytes()),
    |p, b| ckks::BootstrapKeys::from_bytes(p, b).or_raise(),
    {
        /// The keys for bootstrapping with ``config`` under ``sk`` (the
        /// transforms are not built: a client can make them for a server).
        #[staticmethod]
        fn generate(py: Python<'_>, sk: &SecretKey, config: &BootstrapConfig) -> PyResult<Self> {
            let (sk, config) = (&sk.inner, &config.inner);
            let inner = py
                .detach(|| ckks::BootstrapKeys::generate(sk, config, &mut crate::rng()))
                .or_raise()?;
            Ok(Self { inner })
        }

        /// Size of ``to_bytes()``.
        #[getter]
        fn serialized_size(&self, py: Python<'_>) -> usize {
            py.detach(|| self.inner.serialized_size())
        }
    }
);

/// Bootstraps ciphertexts of one parameter set (``ckks::Bootstrapper``):
/// ``Bootstrapper(params, config)`` encodes the transforms (seconds and
/// gigabytes at N = 2^16; picklable as its parameters and configuration,
/// rebuilt when unpickled). ``bootstrap(ct, keys)`` takes a ciphertext at
/// any level and scale within a factor 2 of ``config.input_scale``, slot
/// values within [−1, 1], and returns it at ``output_level`` and exactly
/// that scale (two bootstraps when ``config.iterations`` is 2; ``refine``
/// is the second alone).
#[pyclass(module = "hekit.ckks", frozen)]
pub struct Bootstrapper {
    inner: ckks::Bootstrapper,
    eval: ckks::Evaluator,
}

#[pymethods]
impl Bootstrapper {
    #[new]
    fn new(py: Python<'_>, params: &Parameters, config: &BootstrapConfig) -> PyResult<Self> {
        let (p, c) = (&params.inner, config.inner.clone());
        let inner = py.detach(|| ckks::Bootstrapper::new(p, c)).or_raise()?;
        Ok(Self {
            inner,
            eval: ckks::Evaluator::new(p),
        })
    }

    /// Bootstraps ``ct`` with ``keys``.
    fn bootstrap(
        &self,
        py: Python<'_>,
        ct: &Ciphertext,
        keys: &BootstrapKeys,
    ) -> PyResult<Ciphertext> {
        let (c, k) = (&ct.inner, &keys.inner);
        self::ct(py.detach(|| self.inner.bootstrap(&self.eval, c, k)))
    }

    /// The second iteration alone: ``first`` is ``ct`` bootstrapped once
    /// (by this bootstrapper); returns ``ct`` bootstrapped twice, as
    /// ``bootstrap`` does with ``config.iterations == 2``.
    fn refine(
        &self,
        py: Python<'_>,
        ct: &Ciphertext,
        first: &Ciphertext,
        keys: &BootstrapKeys,
    ) -> PyResult<Ciphertext> {
        let (c, f, k) = (&ct.inner, &first.inner, &keys.inner);
        self::ct(py.detach(|| self.inner.refine(&self.eval, c, f, k)))
    }

    /// ``BootstrapKeys.generate(sk, self.config)``, checked against these
    /// parameters.
    fn generate_keys(&self, py: Python<'_>, sk: &SecretKey) -> PyResult<BootstrapKeys> {
        let sk = &sk.inner;
        let inner = py
            .detach(|| self.inner.generate_keys(sk, &mut crate::rng()))
            .or_raise()?;
        Ok(BootstrapKeys { inner })
    }

    /// The level of a bootstrapped ciphertext (the levels left).
    #[getter]
    fn output_level(&self) -> usize {
        self.inner.output_level()
    }

    /// The configuration.
    #[getter]
    fn config(&self) -> BootstrapConfig {
        BootstrapConfig {
            inner: self.inner.config().clone(),
        }
    }

    /// The parameters.
    #[getter]
    fn params(&self) -> Parameters {
        Parameters::wrap(self.eval.params().clone())
    }

    /// The rotation steps the keys need (conjugation as well).
    fn rotation_steps(&self) -> Vec<i64> {
        self.inner.rotation_steps()
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> crate::Reduce<'py, (Bound<'py, PyBytes>, f64, Bound<'py, BootstrapConfig>)> {
        let py = slf.py();
        let this = slf.get();
        let p = this.eval.params();
        Ok((
            unpickler(slf.as_any())?,
            (
                PyBytes::new(py, p.rlwe().fingerprint()),
                p.scale(),
                Bound::new(py, this.config())?,
            ),
        ))
    }

    #[classmethod]
    fn _from_pickle(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        fingerprint: &[u8],
        scale: f64,
        config: &BootstrapConfig,
    ) -> PyResult<Self> {
        let params = Parameters {
            inner: params_for(fingerprint, scale)?,
        };
        Self::new(py, &params, config)
    }
}

/// Registers the module's classes.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("CkksError", m.py().get_type::<CkksError>())?;
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
    m.add_class::<BootstrapPreset>()?;
    m.add_class::<BootstrapConfig>()?;
    m.add_class::<BootstrapKeys>()?;
    m.add_class::<Bootstrapper>()?;
    Ok(())
}
