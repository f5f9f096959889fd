//! `hekit.ml`: encrypted machine learning (binds `ml_he`), in two
//! submodules named as the Rust ones: `hekit.ml.inference` (an ONNX model
//! in, a `Server` and a `Client` out, every message as bytes) and
//! `hekit.ml.aggregation` (federated averaging under a threshold CKKS key).

use std::sync::Arc;

use ml_he::aggregation as agg;
use ml_he::inference as inf;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyType};

use crate::arrays;
use crate::ckks::unpickler;
use crate::errors::{MlError, OrRaise};
use crate::registry;

// ---------------------------------------------------------------- inference

/// A layer graph imported from ONNX, with a float64 reference evaluator.
#[pyclass(module = "hekit.ml.inference", frozen)]
pub struct Graph {
    inner: inf::Graph,
    post_ops: Vec<String>,
    opset: i64,
    /// The ONNX bytes it was imported from (what its pickle carries).
    model: Vec<u8>,
}

/// Reads an ONNX model given as bytes or as a path (``str`` or
/// ``os.PathLike``).
fn model_bytes(model: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(b) = model.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    if let Ok(b) = model.extract::<Vec<u8>>() {
        if !model.is_instance_of::<pyo3::types::PyString>() {
            return Ok(b);
        }
    }
    let path: std::path::PathBuf = model
        .extract()
        .map_err(|_| PyTypeError::new_err("an ONNX model is given as bytes or as a path"))?;
    std::fs::read(&path).map_err(|e| {
        MlError::new_err(
            ml_he::Error::Data(format!("cannot read {}: {e}", path.display())).to_string(),
        )
    })
}

/// Imports an ONNX model (bytes or a path) into a ``Graph``
/// (``ml_he::inference::onnx::import_model``).
#[pyfunction]
fn import_onnx(py: Python<'_>, model: &Bound<'_, PyAny>) -> PyResult<Graph> {
    let bytes = model_bytes(model)?;
    let m = py.detach(|| inf::onnx::import_model(&bytes)).or_raise()?;
    Ok(Graph {
        inner: m.graph,
        post_ops: m.post_ops,
        opset: m.opset,
        model: bytes,
    })
}

#[pymethods]
impl Graph {
    /// The plaintext reference output of one sample (flattened input).
    fn eval<'py>(&self, py: Python<'py>, x: &Bound<'_, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let rows = arrays::f64_rows(x)?;
        let x: Vec<f64> = rows.into_iter().flatten().collect();
        let y = py.detach(|| self.inner.eval(&x)).or_raise()?;
        arrays::f64_array(py, &y)
    }

    /// The input shape (without the batch dimension).
    #[getter]
    fn input_shape(&self) -> Vec<usize> {
        self.inner.input_shape.clone()
    }

    /// The output shape.
    #[getter]
    fn output_shape(&self) -> PyResult<Vec<usize>> {
        Ok(self.inner.output_shape().or_raise()?.to_vec())
    }

    /// Number of nodes.
    fn __len__(&self) -> usize {
        self.inner.nodes.len()
    }

    /// Post-processing the import left to the client (softmax, …).
    #[getter]
    fn post_ops(&self) -> Vec<String> {
        self.post_ops.clone()
    }

    /// The model's default-domain opset.
    #[getter]
    fn opset(&self) -> i64 {
        self.opset
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> crate::Reduce<'py, (Bound<'py, PyBytes>,)> {
        Ok((
            unpickler(slf.as_any())?,
            (PyBytes::new(slf.py(), &slf.get().model),),
        ))
    }

    #[classmethod]
    fn _from_pickle(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        model: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        import_onnx(py, model)
    }
}

fn packing(name: &str) -> PyResult<inf::Packing> {
    match name {
        "per_sample" => Ok(inf::Packing::PerSample),
        "batch" => Ok(inf::Packing::Batch),
        other => Err(PyValueError::new_err(format!(
            "packing must be \"per_sample\" or \"batch\", got {other:?}"
        ))),
    }
}

fn packing_name(p: inf::Packing) -> &'static str {
    match p {
        inf::Packing::PerSample => "per_sample",
        inf::Packing::Batch => "batch",
    }
}

/// `bootstrap=` of ``CompileOptions``: ``"when_too_deep"``, ``"never"`` or
/// ``"always"`` with the ring, scale and levels of `ring`, `scale_bits`,
/// `levels` (which only ``"always"`` takes).
fn bootstrapping(
    mode: &str,
    ring: Option<&str>,
    scale_bits: Option<u32>,
    levels: Option<usize>,
) -> PyResult<inf::Bootstrapping> {
    let set = ring.is_some() || scale_bits.is_some() || levels.is_some();
    match mode {
        "when_too_deep" | "never" if set => Err(PyValueError::new_err(format!(
            "bootstrap_ring, bootstrap_scale_bits and bootstrap_levels go with bootstrap=\"always\", not {mode:?}"
        ))),
        "when_too_deep" => Ok(inf::Bootstrapping::WhenTooDeep),
        "never" => Ok(inf::Bootstrapping::Never),
        "always" => {
            let d = inf::BootstrapOptions::default();
            let ring = match ring {
                None | Some("N65536") => inf::BootstrapRing::N65536,
                Some("TestN4096Insecure") => inf::BootstrapRing::TestN4096Insecure,
                Some(other) => {
                    return Err(PyValueError::new_err(format!(
                        "bootstrap_ring must be \"N65536\" or \"TestN4096Insecure\", got {other:?}"
                    )))
                }
            };
            Ok(inf::Bootstrapping::Always(inf::BootstrapOptions {
                ring,
                scale_bits: scale_bits.unwrap_or(d.scale_bits),
                levels,
            }))
        }
        other => Err(PyValueError::new_err(format!(
            "bootstrap must be \"when_too_deep\", \"never\" or \"always\", got {other:?}"
        ))),
    }
}

/// The Python form of a `Bootstrapping`: mode, ring, scale bits, levels.
type BootstrapArgs = (
    &'static str,
    Option<&'static str>,
    Option<u32>,
    Option<usize>,
);

fn bootstrapping_args(b: &inf::Bootstrapping) -> BootstrapArgs {
    match b {
        inf::Bootstrapping::WhenTooDeep => ("when_too_deep", None, None, None),
        inf::Bootstrapping::Never => ("never", None, None, None),
        inf::Bootstrapping::Always(o) => (
            "always",
            Some(match o.ring {
                inf::BootstrapRing::N65536 => "N65536",
                inf::BootstrapRing::TestN4096Insecure => "TestN4096Insecure",
            }),
            Some(o.scale_bits),
            o.levels,
        ),
    }
}

/// How ``Server.compile`` compiles a graph (``ml_he::inference::CompileOptions``).
#[pyclass(module = "hekit.ml.inference", frozen)]
pub struct CompileOptions {
    inner: inf::CompileOptions,
}

#[pymethods]
impl CompileOptions {
    /// ``packing``: ``"per_sample"`` (latency: one sample per ciphertext)
    /// or ``"batch"`` (throughput: one sample per slot); the other fields
    /// as in Rust (defaults: scale 2^30 down to 2^25, Chebyshev degree 31,
    /// range margin 0.1, input bound from the calibration data).
    /// ``bootstrap``: ``"when_too_deep"`` (the default: bootstraps at
    /// N = 2^16 only for a graph too deep for every ring without),
    /// ``"never"``, or ``"always"`` with ``bootstrap_ring`` (``"N65536"``,
    /// the default, 128-bit secure; or ``"TestN4096Insecure"``, not secure:
    /// tests only, clients need ``min_security=0``), ``bootstrap_scale_bits``
    /// (30 to 50, default 40) and ``bootstrap_levels`` (levels between
    /// bootstraps; default: as many as the ring allows).
    #[new]
    #[pyo3(signature = (packing="per_sample", scale_bits=30, min_scale_bits=25, activation_degree=31, range_margin=0.1, max_abs_input=None, bootstrap="when_too_deep", bootstrap_ring=None, bootstrap_scale_bits=None, bootstrap_levels=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        packing: &str,
        scale_bits: u32,
        min_scale_bits: u32,
        activation_degree: usize,
        range_margin: f64,
        max_abs_input: Option<f64>,
        bootstrap: &str,
        bootstrap_ring: Option<&str>,
        bootstrap_scale_bits: Option<u32>,
        bootstrap_levels: Option<usize>,
    ) -> PyResult<Self> {
        Ok(Self {
            inner: inf::CompileOptions {
                packing: self::packing(packing)?,
                scale_bits,
                min_scale_bits,
                activation_degree,
                range_margin,
                max_abs_input,
                bootstrap: bootstrapping(
                    bootstrap,
                    bootstrap_ring,
                    bootstrap_scale_bits,
                    bootstrap_levels,
                )?,
            },
        })
    }

    /// The packing.
    #[getter]
    fn packing(&self) -> &'static str {
        packing_name(self.inner.packing)
    }

    /// ``"when_too_deep"``, ``"never"`` or ``"always"``.
    #[getter]
    fn bootstrap(&self) -> &'static str {
        bootstrapping_args(&self.inner.bootstrap).0
    }

    #[allow(clippy::type_complexity)]
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> crate::Reduce<
        'py,
        (
            &'static str,
            u32,
            u32,
            usize,
            f64,
            Option<f64>,
            &'static str,
            Option<&'static str>,
            Option<u32>,
            Option<usize>,
        ),
    > {
        let o = &slf.get().inner;
        let (mode, ring, bits, levels) = bootstrapping_args(&o.bootstrap);
        Ok((
            slf.get_type().into_any(),
            (
                packing_name(o.packing),
                o.scale_bits,
                o.min_scale_bits,
                o.activation_degree,
                o.range_margin,
                o.max_abs_input,
                mode,
                ring,
                bits,
                levels,
            ),
        ))
    }
}

/// What the server publishes (parameters, shape, layout, rotations, input
/// bound): self-contained bytes, no secret.
#[pyclass(module = "hekit.ml.inference", frozen)]
pub struct PublicSetup {
    inner: inf::PublicSetup,
}

#[pymethods]
impl PublicSetup {
    /// The versioned bytes.
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.to_bytes())
    }

    /// Reads and validates a setup.
    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: &[u8]) -> PyResult<Self> {
        Ok(Self {
            inner: py
                .detach(|| inf::PublicSetup::from_bytes(data))
                .or_raise()?,
        })
    }

    /// The CKKS parameters.
    #[getter]
    fn parameters(&self, py: Python<'_>) -> PyResult<crate::ckks::Parameters> {
        let p = py.detach(|| self.inner.parameters()).or_raise()?;
        Ok(crate::ckks::Parameters::wrap(p))
    }

    /// ``"per_sample"`` or ``"batch"``.
    #[getter]
    fn packing(&self) -> &'static str {
        packing_name(self.inner.packing)
    }

    /// Inputs per sample.
    #[getter]
    fn inputs(&self) -> usize {
        self.inner.shape.inputs()
    }

    /// Outputs per sample.
    #[getter]
    fn outputs(&self) -> usize {
        self.inner.shape.outputs()
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> crate::Reduce<'py, (Bound<'py, PyBytes>,)> {
        Ok((unpickler(slf.as_any())?, (slf.get().to_bytes(slf.py()),)))
    }

    #[classmethod]
    fn _from_pickle(_cls: &Bound<'_, PyType>, py: Python<'_>, data: &[u8]) -> PyResult<Self> {
        Self::from_bytes(py, data)
    }
}

macro_rules! message {
    ($ty:ident, $inner:ty, $doc:literal) => {
        #[doc = $doc]
        #[pyclass(module = "hekit.ml.inference", frozen)]
        pub struct $ty {
            inner: $inner,
            params: ckks::Parameters,
        }

        #[pymethods]
        impl $ty {
            /// The versioned bytes (what crosses to the server).
            fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
                PyBytes::new(py, &self.inner.to_bytes())
            }

            /// Reads a message for ``params`` (the setup's parameters).
            #[staticmethod]
            fn from_bytes(
                py: Python<'_>,
                params: &crate::ckks::Parameters,
                data: &[u8],
            ) -> PyResult<Self> {
                let p = &params.inner;
                Ok(Self {
                    inner: py.detach(|| <$inner>::from_bytes(p, data)).or_raise()?,
                    params: p.clone(),
                })
            }

            /// Size of ``to_bytes()``.
            #[getter]
            fn serialized_size(&self) -> usize {
                self.inner.serialized_size()
            }

            fn __reduce__<'py>(
                slf: &Bound<'py, Self>,
            ) -> crate::Reduce<'py, (Bound<'py, PyBytes>, f64, Bound<'py, PyBytes>)> {
                let py = slf.py();
                let this = slf.get();
                Ok((
                    unpickler(slf.as_any())?,
                    (
                        PyBytes::new(py, this.params.rlwe().fingerprint()),
                        this.params.scale(),
                        this.to_bytes(py),
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
                let mut p = registry::CKKS.get(fingerprint)?;
                if p.scale() != scale {
                    p = ckks::Parameters::new(p.rlwe().clone(), scale).or_raise()?;
                }
                let params = crate::ckks::Parameters { inner: p };
                Self::from_bytes(py, &params, data)
            }
        }
    };
}

message!(
    EvaluationKeys,
    inf::EvaluationKeys,
    "The client's public evaluation keys (relinearization and rotations), sent once."
);
message!(
    Query,
    inf::Query,
    "An encrypted query: one sample per ciphertext or one per slot."
);

/// The model owner's side: compiles a graph into a CKKS circuit and
/// evaluates queries with public keys only. Not picklable (it holds the
/// weights; recompile it).
#[pyclass(module = "hekit.ml.inference", name = "Server", frozen)]
pub struct InfServer {
    inner: inf::Server,
}

#[pymethods]
impl InfServer {
    /// Compiles ``graph`` with activation ranges calibrated on
    /// ``calibration`` (samples × inputs; any trailing shape is flattened).
    #[staticmethod]
    #[pyo3(signature = (graph, calibration, options=None))]
    fn compile(
        py: Python<'_>,
        graph: &Graph,
        calibration: &Bound<'_, PyAny>,
        options: Option<&CompileOptions>,
    ) -> PyResult<Self> {
        let cal = arrays::f64_rows(calibration)?;
        let default = inf::CompileOptions::default();
        let opts = options.map_or(&default, |o| &o.inner);
        let inner = py
            .detach(|| inf::Server::compile(&graph.inner, &cal, opts))
            .or_raise()?;
        crate::registry::register_ckks(inner.parameters());
        Ok(Self { inner })
    }

    /// The compiler's report (parameters, layouts, rotations, plan).
    #[getter]
    fn report(&self) -> Option<String> {
        self.inner.report().map(|r| r.to_string())
    }

    /// The public setup to send to clients.
    fn setup(&self) -> PublicSetup {
        PublicSetup {
            inner: self.inner.setup().clone(),
        }
    }

    /// The CKKS parameters.
    #[getter]
    fn parameters(&self) -> crate::ckks::Parameters {
        crate::ckks::Parameters::wrap(self.inner.parameters().clone())
    }

    /// Reads (and checks) a client's evaluation keys.
    fn read_keys(&self, py: Python<'_>, data: &[u8]) -> PyResult<EvaluationKeys> {
        let inner = py.detach(|| self.inner.read_keys(data)).or_raise()?;
        Ok(EvaluationKeys {
            inner,
            params: self.inner.parameters().clone(),
        })
    }

    /// Evaluates a query (bytes) with ``keys``; returns the response bytes.
    fn evaluate_bytes<'py>(
        &self,
        py: Python<'py>,
        keys: &EvaluationKeys,
        query: &[u8],
    ) -> PyResult<Bound<'py, PyBytes>> {
        let r = py
            .detach(|| self.inner.evaluate_bytes(&keys.inner, query))
            .or_raise()?;
        Ok(PyBytes::new(py, &r))
    }
}

/// The data owner's side: holds the secret key, encrypts samples and
/// decrypts responses. Not picklable (its secret key stays in the process).
#[pyclass(module = "hekit.ml.inference", name = "Client")]
pub struct InfClient {
    inner: inf::Client,
}

#[pymethods]
impl InfClient {
    /// A client for ``setup`` with a fresh secret key, accepting parameters
    /// down to ``min_security`` bits (0: also a server compiled with the
    /// insecure test ring, ``bootstrap_ring="TestN4096Insecure"``; tests only).
    #[new]
    #[pyo3(signature = (setup, min_security=128))]
    fn new(py: Python<'_>, setup: &PublicSetup, min_security: u32) -> PyResult<Self> {
        let min = crate::ckks::security_level(min_security)?;
        let inner = py
            .detach(|| inf::Client::with_min_security(&setup.inner, crate::rng(), min))
            .or_raise()?;
        crate::registry::register_ckks(inner.parameters());
        Ok(Self { inner })
    }

    /// The CKKS parameters.
    #[getter]
    fn parameters(&self) -> crate::ckks::Parameters {
        crate::ckks::Parameters::wrap(self.inner.parameters().clone())
    }

    /// The evaluation keys the server needs (send ``to_bytes()`` once).
    fn evaluation_keys(&mut self, py: Python<'_>) -> PyResult<EvaluationKeys> {
        let params = self.inner.parameters().clone();
        let inner = py.detach(|| self.inner.evaluation_keys()).or_raise()?;
        Ok(EvaluationKeys { inner, params })
    }

    /// Encrypts one sample (any shape, flattened).
    fn encrypt(&mut self, py: Python<'_>, x: &Bound<'_, PyAny>) -> PyResult<Query> {
        let x: Vec<f64> = arrays::f64_rows(x)?.into_iter().flatten().collect();
        let params = self.inner.parameters().clone();
        let inner = py.detach(|| self.inner.encrypt(&x)).or_raise()?;
        Ok(Query { inner, params })
    }

    /// Encrypts samples × inputs (one query: per-sample packing takes a
    /// few samples, batch packing up to one per slot).
    fn encrypt_batch(&mut self, py: Python<'_>, xs: &Bound<'_, PyAny>) -> PyResult<Query> {
        let xs = arrays::f64_rows(xs)?;
        let params = self.inner.parameters().clone();
        let inner = py.detach(|| self.inner.encrypt_batch(&xs)).or_raise()?;
        Ok(Query { inner, params })
    }

    /// Decrypts a response (bytes): samples × outputs, float64.
    fn decrypt_bytes<'py>(&self, py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyAny>> {
        let rows = py.detach(|| self.inner.decrypt_bytes(data)).or_raise()?;
        arrays::f64_matrix(py, &rows)
    }
}

// -------------------------------------------------------------- aggregation

/// The public parameters of an aggregation session
/// (``AggregationConfig`` + session seed → ``AggregationParams``): CKKS
/// parameters, scale, smudging at λ = 40, stated precision. Everybody
/// derives the same object from the same arguments.
#[pyclass(module = "hekit.ml.aggregation", frozen)]
pub struct AggregationParams {
    inner: Arc<agg::AggregationParams>,
    seed: [u8; 32],
}

#[pymethods]
impl AggregationParams {
    /// ``clients`` clients (ids 1..=n), any ``threshold`` of them decrypt;
    /// every coordinate within ``max_abs``; λ ≥ 40 unless
    /// ``insecure_weak_smudging``; updates carry zero-knowledge proofs of a
    /// well-formed, bounded encryption unless ``prove_updates=False``
    /// (insecure against malicious input parties); decryption shares carry
    /// zero-knowledge proofs of correctness unless ``prove_shares=False``
    /// (a committee member could then move the result undetected; the
    /// default follows ``prove_updates``).
    #[new]
    #[pyo3(signature = (clients, threshold, session_seed, max_abs=256.0, lambda_=threshold::STATISTICAL_SECURITY, min_contributors=None, degree=8192, insecure_weak_smudging=false, prove_updates=true, prove_shares=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        clients: usize,
        threshold: usize,
        session_seed: [u8; 32],
        max_abs: f64,
        lambda_: u32,
        min_contributors: Option<usize>,
        degree: usize,
        insecure_weak_smudging: bool,
        prove_updates: bool,
        prove_shares: Option<bool>,
    ) -> PyResult<Self> {
        let mut config = agg::AggregationConfig::new(clients, threshold)
            .max_abs(max_abs)
            .lambda(lambda_)
            .degree(degree)
            .prove_updates(prove_updates);
        if let Some(on) = prove_shares {
            config = config.prove_shares(on);
        }
        if let Some(k) = min_contributors {
            config = config.min_contributors(k);
        }
        if insecure_weak_smudging {
            config = config.insecure_weak_smudging();
        }
        let inner = py
            .detach(|| agg::AggregationParams::new(config, session_seed))
            .or_raise()?;
        crate::registry::register_ckks(inner.ckks());
        Ok(Self {
            inner,
            seed: session_seed,
        })
    }

    /// The CKKS parameters.
    #[getter]
    fn ckks(&self) -> crate::ckks::Parameters {
        crate::ckks::Parameters::wrap(self.inner.ckks().clone())
    }

    /// The encoding scale.
    #[getter]
    fn scale(&self) -> f64 {
        self.inner.scale()
    }

    /// Stated bound on the absolute error of each coordinate of a sum.
    #[getter]
    fn sum_precision(&self) -> f64 {
        self.inner.sum_precision()
    }

    /// Floats per ciphertext.
    #[getter]
    fn values_per_ciphertext(&self) -> usize {
        self.inner.values_per_ciphertext()
    }

    /// Bytes of one encrypted update of ``length`` floats.
    fn update_bytes(&self, length: usize) -> usize {
        self.inner.update_bytes(length)
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        // (cls, (clients, threshold, seed, max_abs, lambda, min_contributors, degree, insecure, prove, prove_shares))
        let this = slf.get();
        let c = this.inner.config();
        let args = (
            c.clients,
            c.threshold,
            PyBytes::new(slf.py(), &this.seed),
            c.max_abs,
            c.lambda,
            c.min_contributors,
            c.degree,
            c.insecure_weak_smudging,
            c.prove_updates,
            c.prove_shares,
        );
        (slf.get_type(), args)
            .into_pyobject(slf.py())
            .map(Bound::into_any)
    }
}

/// The collective public key of a session (public; recompute it from the
/// shares rather than accepting it from a server). Pickles with its
/// ``AggregationParams`` (a few numbers and the session seed).
#[pyclass(module = "hekit.ml.aggregation", frozen)]
pub struct SessionKey {
    inner: agg::SessionKey,
    params: Py<AggregationParams>,
}

#[pymethods]
impl SessionKey {
    /// Aggregates the public-key shares of all n clients; in a session
    /// that proves decryption shares, pass every client's dealing
    /// commitment (the second item of ``Client.deal``) as ``dealings``.
    #[staticmethod]
    #[pyo3(signature = (params, shares, dealings=None))]
    fn from_shares(
        py: Python<'_>,
        params: Bound<'_, AggregationParams>,
        shares: Vec<PyRef<'_, crate::threshold::PublicKeyShare>>,
        dealings: Option<Vec<Vec<u8>>>,
    ) -> PyResult<Self> {
        let v: Vec<_> = shares.iter().map(|s| s.inner.clone()).collect();
        let p = &params.get().inner;
        let inner = py
            .detach(|| -> ml_he::Result<agg::SessionKey> {
                let key = agg::SessionKey::from_shares(p, v)?;
                match dealings {
                    None => Ok(key),
                    Some(d) => {
                        let rp = p.ckks().rlwe();
                        let coms = d
                            .iter()
                            .map(|b| threshold::vss::DealingCommitment::from_bytes(rp, b))
                            .collect::<Result<Vec<_>, _>>()?;
                        key.with_dealings(&coms)
                    }
                }
            })
            .or_raise()?;
        Ok(Self {
            inner,
            params: params.unbind(),
        })
    }

    /// Whether the key carries every client's share commitment (needed to
    /// make and check decryption shares in a session that proves them).
    #[getter]
    fn has_share_commitments(&self) -> bool {
        self.inner.has_share_commitments()
    }

    /// The versioned bytes.
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.to_bytes())
    }

    /// Reads a session key of ``params``.
    #[staticmethod]
    fn from_bytes(params: Bound<'_, AggregationParams>, data: &[u8]) -> PyResult<Self> {
        Ok(Self {
            inner: agg::SessionKey::from_bytes(&params.get().inner, data).or_raise()?,
            params: params.unbind(),
        })
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> crate::Reduce<'py, (Bound<'py, AggregationParams>, Bound<'py, PyBytes>)> {
        let this = slf.get();
        Ok((
            unpickler(slf.as_any())?,
            (this.params.bind(slf.py()).clone(), this.to_bytes(slf.py())),
        ))
    }

    #[classmethod]
    fn _from_pickle(
        _cls: &Bound<'_, PyType>,
        params: Bound<'_, AggregationParams>,
        data: &[u8],
    ) -> PyResult<Self> {
        Self::from_bytes(params, data)
    }

    /// The session id (a digest of the key and parameters).
    #[getter]
    fn id<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.inner.id())
    }
}

/// A client of a session: a key holder (secret share, Shamir shares) and an
/// input party (encrypts its updates). Not picklable (it holds secrets).
#[pyclass(module = "hekit.ml.aggregation", name = "Client")]
pub struct AggClient {
    inner: agg::Client,
}

#[pymethods]
impl AggClient {
    /// Client ``id`` (1..=n) with a fresh secret.
    #[new]
    fn new(py: Python<'_>, params: &AggregationParams, id: u32) -> PyResult<Self> {
        let p = &params.inner;
        Ok(Self {
            inner: py
                .detach(|| agg::Client::new(p, id, &mut crate::rng()))
                .or_raise()?,
        })
    }

    /// The client's id.
    #[getter]
    fn id(&self) -> u32 {
        self.inner.id()
    }

    /// This client's share of the session's public key.
    fn public_key_share(
        &mut self,
        py: Python<'_>,
        params: &AggregationParams,
    ) -> PyResult<crate::threshold::PublicKeyShare> {
        let inner = py
            .detach(|| self.inner.public_key_share(&mut crate::rng()))
            .or_raise()?;
        Ok(crate::threshold::PublicKeyShare {
            inner,
            params: params.inner.ckks().rlwe().clone(),
        })
    }

    /// Shamir dealing of this client's secret: ``(messages, commitment)``,
    /// one private message per client and, in a session that proves
    /// decryption shares, the public commitment (bytes, to everybody; else
    /// ``None``).
    #[allow(clippy::type_complexity)]
    fn deal<'py>(
        &self,
        py: Python<'py>,
        params: &AggregationParams,
    ) -> PyResult<(
        Vec<crate::threshold::SecretShareMessage>,
        Option<Bound<'py, PyBytes>>,
    )> {
        let d = py
            .detach(|| self.inner.deal(&mut crate::rng()))
            .or_raise()?;
        let rlwe = params.inner.ckks().rlwe().clone();
        let com = d
            .commitment
            .as_ref()
            .map(|c| PyBytes::new(py, &c.to_bytes(&rlwe)));
        Ok((
            d.messages
                .into_iter()
                .map(|m| crate::threshold::SecretShareMessage {
                    inner: Some(m),
                    params: rlwe.clone(),
                })
                .collect(),
            com,
        ))
    }

    /// Receives the dealing messages addressed to this client.
    fn receive_dealings(
        &mut self,
        py: Python<'_>,
        messages: Vec<PyRefMut<'_, crate::threshold::SecretShareMessage>>,
    ) -> PyResult<()> {
        let mut taken = Vec::with_capacity(messages.len());
        for mut m in messages {
            taken.push(
                m.inner.take().ok_or_else(|| {
                    PyValueError::new_err("a dealing message was already received")
                })?,
            );
        }
        py.detach(|| self.inner.receive_dealings(taken)).or_raise()
    }

    /// Installs the session key (recomputed from the shares).
    fn set_key(&mut self, key: &SessionKey) -> PyResult<()> {
        self.inner.set_key(key.inner.clone()).or_raise()
    }

    /// Encrypts this client's update for ``round`` (a float64 vector, every
    /// coordinate within ``max_abs``): the bytes for the server.
    fn encrypt_update<'py>(
        &self,
        py: Python<'py>,
        round: u64,
        update: &Bound<'_, PyAny>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let u = arrays::f64_vec(update, "update")?;
        let b = py
            .detach(|| self.inner.encrypt_update(round, &u, &mut crate::rng()))
            .or_raise()?;
        Ok(PyBytes::new(py, &b))
    }

    /// As a committee member: checks the request (every contribution,
    /// recomputing the sum) and returns this client's smudged decryption
    /// share of the sum, as bytes.
    fn decryption_share<'py>(
        &mut self,
        py: Python<'py>,
        request: &[u8],
    ) -> PyResult<Bound<'py, PyBytes>> {
        let b = py
            .detach(|| self.inner.decryption_share(request, &mut crate::rng()))
            .or_raise()?;
        Ok(PyBytes::new(py, &b))
    }

    /// The client's whole state (its secret, Shamir share, answered protocol
    /// instances, session key and per-round releases) as bytes, for keeping
    /// it between processes — e.g. in a Flower node's context. Secret: keep
    /// it encrypted at rest. Not picklable on purpose.
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.to_bytes())
    }

    /// A client restored from ``to_bytes`` for the session ``params``; it
    /// refuses what the original refused.
    #[staticmethod]
    fn from_bytes(py: Python<'_>, params: &AggregationParams, data: &[u8]) -> PyResult<Self> {
        let p = &params.inner;
        Ok(Self {
            inner: py.detach(|| agg::Client::from_bytes(p, data)).or_raise()?,
        })
    }
}

/// Runs the Shamir dealing among ``clients`` in one process (every client
/// deals to every other; in a deployment each message goes over a private
/// channel), installs the session key on every client and returns it (in a
/// session that proves decryption shares, ``key`` with every client's
/// dealing commitment).
#[pyfunction]
fn deal_all(
    py: Python<'_>,
    params: Bound<'_, AggregationParams>,
    mut clients: Vec<PyRefMut<'_, AggClient>>,
    key: &SessionKey,
) -> PyResult<SessionKey> {
    let mut inner: Vec<&mut agg::Client> = clients.iter_mut().map(|c| &mut c.inner).collect();
    let k = key.inner.clone();
    let out = py.detach(|| agg::deal_among(&mut inner, &k, &mut crate::rng()));
    Ok(SessionKey {
        inner: out.or_raise()?,
        params: params.unbind(),
    })
}

/// The computing party: checks and keeps the updates of one round, then
/// asks a committee to decrypt their sum. Holds no key material.
#[pyclass(module = "hekit.ml.aggregation", name = "Server")]
pub struct AggServer {
    inner: agg::Server,
}

#[pymethods]
impl AggServer {
    /// A server for ``round`` of updates of ``length`` floats.
    #[new]
    fn new(key: &SessionKey, round: u64, length: usize) -> PyResult<Self> {
        Ok(Self {
            inner: agg::Server::new(&key.inner, round, length).or_raise()?,
        })
    }

    /// Checks and keeps an update; returns its client's id.
    fn add(&mut self, py: Python<'_>, update: &[u8]) -> PyResult<u32> {
        py.detach(|| self.inner.add(update)).or_raise()
    }

    /// As ``add``, refusing an update not made by ``expected_client``
    /// (the authenticated sender).
    fn add_from(&mut self, py: Python<'_>, expected_client: u32, update: &[u8]) -> PyResult<u32> {
        py.detach(|| self.inner.add_from(expected_client, update))
            .or_raise()
    }

    /// The clients whose updates were kept.
    #[getter]
    fn contributors(&self) -> Vec<u32> {
        self.inner.contributors()
    }

    /// The decryption request (bytes) for ``committee`` (t client ids).
    fn decryption_request<'py>(
        &mut self,
        py: Python<'py>,
        committee: Vec<u32>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let b = py
            .detach(|| self.inner.decryption_request(&committee))
            .or_raise()?;
        Ok(PyBytes::new(py, &b))
    }
}

/// The outcome of a round: the average, who contributed, who decrypted,
/// and the stated precision of each coordinate.
#[pyclass(module = "hekit.ml.aggregation", frozen, get_all)]
pub struct RoundResult {
    /// The average of the contributors' updates (float64 array).
    average: Py<PyAny>,
    /// Who contributed.
    contributors: Vec<u32>,
    /// Who decrypted.
    committee: Vec<u32>,
    /// Stated bound on the absolute error of each coordinate of ``average``.
    precision: f64,
}

#[pymethods]
impl RoundResult {
    #[new]
    fn new(
        average: Py<PyAny>,
        contributors: Vec<u32>,
        committee: Vec<u32>,
        precision: f64,
    ) -> Self {
        Self {
            average,
            contributors,
            committee,
            precision,
        }
    }

    #[allow(clippy::type_complexity)]
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> crate::Reduce<'py, (Py<PyAny>, Vec<u32>, Vec<u32>, f64)> {
        let this = slf.get();
        Ok((
            slf.get_type().into_any(),
            (
                this.average.clone_ref(slf.py()),
                this.contributors.clone(),
                this.committee.clone(),
                this.precision,
            ),
        ))
    }
}

/// Checks the committee's decryption shares against the request and
/// combines them: the ``RoundResult`` (average of the contributions).
#[pyfunction]
fn combine(
    py: Python<'_>,
    key: &SessionKey,
    request: &[u8],
    shares: Vec<Vec<u8>>,
) -> PyResult<RoundResult> {
    let r = py
        .detach(|| agg::combine(&key.inner, request, &shares))
        .or_raise()?;
    Ok(RoundResult {
        average: arrays::f64_array(py, &r.average)?.unbind(),
        contributors: r.contributors,
        committee: r.committee,
        precision: r.precision,
    })
}

/// What a decryption request asks for (``inspect_request``): round,
/// attempt, committee, the ``(client, update digest)`` of every
/// contribution, and the contribution set's digest.
#[pyclass(module = "hekit.ml.aggregation", frozen, get_all)]
pub struct RequestInfo {
    /// The round.
    round: u64,
    /// The attempt (0 first; a retry decrypts a re-randomized sum).
    attempt: u32,
    /// The committee asked for shares.
    committee: Vec<u32>,
    /// ``(client, update digest)`` of every contribution, by client.
    contributions: Vec<(u32, Py<PyBytes>)>,
    /// The digest of the contribution set.
    set_digest: Py<PyBytes>,
}

/// What ``request`` asks for, from its header (checked; the contributions
/// are not read) — a committee member checks that its own update is there
/// (compare with ``update_digest`` of what it sent).
#[pyfunction]
fn inspect_request(py: Python<'_>, key: &SessionKey, request: &[u8]) -> PyResult<RequestInfo> {
    let info = agg::inspect_request(&key.inner, request).or_raise()?;
    Ok(RequestInfo {
        round: info.round,
        attempt: info.attempt,
        committee: info.committee,
        contributions: info
            .contributions
            .iter()
            .map(|(p, d)| (*p, PyBytes::new(py, d).unbind()))
            .collect(),
        set_digest: PyBytes::new(py, &info.set_digest).unbind(),
    })
}

/// The committee member who made decryption share ``share`` of
/// ``request`` (checked: same request, a member of its committee, well
/// formed) — to match a share with the node that sent it before ``combine``.
#[pyfunction]
fn decryption_share_sender(key: &SessionKey, request: &[u8], share: &[u8]) -> PyResult<u32> {
    agg::decryption_share_sender(&key.inner, request, share).or_raise()
}

/// The digest by which requests name an encrypted update (the bytes
/// ``Client.encrypt_update`` returned).
#[pyfunction]
fn update_digest<'py>(py: Python<'py>, update: &[u8]) -> Bound<'py, PyBytes> {
    PyBytes::new(py, &agg::update_digest(update))
}

/// Registers the two submodules.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("MlError", py.get_type::<MlError>())?;

    let inference = PyModule::new(py, "inference")?;
    inference.add("MlError", py.get_type::<MlError>())?;
    inference.add_function(wrap_pyfunction!(import_onnx, &inference)?)?;
    inference.add_class::<Graph>()?;
    inference.add_class::<CompileOptions>()?;
    inference.add_class::<PublicSetup>()?;
    inference.add_class::<EvaluationKeys>()?;
    inference.add_class::<Query>()?;
    inference.add_class::<InfServer>()?;
    inference.add_class::<InfClient>()?;
    m.add_submodule(&inference)?;

    let aggregation = PyModule::new(py, "aggregation")?;
    aggregation.add("MlError", py.get_type::<MlError>())?;
    aggregation.add_class::<AggregationParams>()?;
    aggregation.add_class::<SessionKey>()?;
    aggregation.add_class::<AggClient>()?;
    aggregation.add_class::<AggServer>()?;
    aggregation.add_class::<RoundResult>()?;
    aggregation.add_function(wrap_pyfunction!(deal_all, &aggregation)?)?;
    aggregation.add_function(wrap_pyfunction!(combine, &aggregation)?)?;
    aggregation.add_class::<RequestInfo>()?;
    aggregation.add_function(wrap_pyfunction!(inspect_request, &aggregation)?)?;
    aggregation.add_function(wrap_pyfunction!(decryption_share_sender, &aggregation)?)?;
    aggregation.add_function(wrap_pyfunction!(update_digest, &aggregation)?)?;
    m.add_submodule(&aggregation)?;
    Ok(())
}
