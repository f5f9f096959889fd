//! `hekit.threshold`: multiparty RLWE protocols for CKKS and BFV (binds
//! the `threshold` crate). Every protocol has the crate's one shape: each
//! ``Party`` makes a **share**, anyone **aggregates** the shares, and
//! **finish** turns the aggregate into the ordinary object (a key or a
//! plaintext). Shares are serializable and name their sender.

use std::sync::Arc;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyType};
use threshold::PartyId;

use crate::ckks::unpickler;
use crate::errors::{OrRaise, ThresholdError};
use crate::registry;

type Params = Arc<rlwe::params::Params>;

/// The RLWE parameters of a ``hekit.ckks.Parameters`` or
/// ``hekit.bfv.Parameters``.
fn rlwe_params(obj: &Bound<'_, PyAny>) -> PyResult<Params> {
    if let Ok(p) = obj.cast::<crate::ckks::Parameters>() {
        Ok(p.get().inner.rlwe().clone())
    } else if let Ok(p) = obj.cast::<crate::bfv::Parameters>() {
        Ok(p.get().inner.rlwe().clone())
    } else {
        Err(PyTypeError::new_err(
            "expected hekit.ckks.Parameters or hekit.bfv.Parameters",
        ))
    }
}

/// The RLWE ciphertext of a CKKS or BFV ciphertext.
fn rlwe_ciphertext(obj: &Bound<'_, PyAny>) -> PyResult<rlwe::ciphertext::Ciphertext> {
    if let Ok(c) = obj.cast::<crate::ckks::Ciphertext>() {
        Ok(c.get().inner.rlwe().clone())
    } else if let Ok(c) = obj.cast::<crate::bfv::Ciphertext>() {
        Ok(c.get().inner.rlwe().clone())
    } else {
        Err(PyTypeError::new_err(
            "expected hekit.ckks.Ciphertext or hekit.bfv.Ciphertext",
        ))
    }
}

fn party_id(id: u32) -> PyResult<PartyId> {
    if id == 0 {
        return Err(PyValueError::new_err(
            "party ids are 1, 2, …, n (0 is not a Shamir evaluation point)",
        ));
    }
    Ok(PartyId(id))
}

/// The common reference string of a session: a public 32-byte seed every
/// party agrees on; common polynomials are expanded from it with domain
/// separation.
#[pyclass(module = "hekit.threshold", frozen)]
pub struct Crs {
    inner: threshold::Crs,
}

#[pymethods]
impl Crs {
    /// The CRS of a 32-byte seed.
    #[new]
    fn new(seed: [u8; 32]) -> Self {
        Self {
            inner: threshold::Crs::from_seed(seed),
        }
    }

    /// The CRS of a 32-byte seed (as ``Crs(seed)``).
    #[staticmethod]
    fn from_seed(seed: [u8; 32]) -> Self {
        Self::new(seed)
    }

    /// A CRS from a fresh random seed (publish ``seed``).
    #[staticmethod]
    fn random() -> Self {
        Self::new(rlwe::sample::random_seed(&mut crate::rng()))
    }

    /// The seed.
    #[getter]
    fn seed<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.inner.seed())
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> crate::Reduce<'py, (Bound<'py, PyBytes>,)> {
        Ok((slf.get_type().into_any(), (slf.get().seed(slf.py()),)))
    }
}

/// A set of at least ``t`` parties decrypting together after a Shamir
/// dealing (t-of-n).
#[pyclass(module = "hekit.threshold", frozen)]
pub struct ActiveSet {
    inner: threshold::ActiveSet,
}

#[pymethods]
impl ActiveSet {
    #[new]
    fn new(parties: Vec<u32>, t: usize) -> PyResult<Self> {
        let ids = parties
            .into_iter()
            .map(party_id)
            .collect::<PyResult<Vec<_>>>()?;
        Ok(Self {
            inner: threshold::ActiveSet::new(&ids, t).or_raise()?,
        })
    }

    /// The members.
    #[getter]
    fn parties(&self) -> Vec<u32> {
        self.inner.parties().iter().map(|p| p.0).collect()
    }

    /// The threshold t.
    #[getter]
    fn threshold(&self) -> usize {
        self.inner.threshold()
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> crate::Reduce<'py, (Vec<u32>, usize)> {
        let this = slf.get();
        Ok((
            slf.get_type().into_any(),
            (this.parties(), this.threshold()),
        ))
    }
}

/// Smudging noise for decryption shares: width ``2^λ`` times the
/// ciphertext's noise bound (λ = 40 by default), checked to leave
/// decryption correct.
#[pyclass(module = "hekit.threshold", frozen)]
pub struct Smudging {
    inner: threshold::Smudging,
}

#[pymethods]
impl Smudging {
    /// Smudging for a noise bound ``2^log2_noise`` with statistical
    /// parameter ``lambda_``.
    #[new]
    #[pyo3(signature = (log2_noise, lambda_=threshold::STATISTICAL_SECURITY))]
    fn new(log2_noise: f64, lambda_: u32) -> Self {
        Self {
            inner: threshold::Smudging::new(log2_noise, lambda_),
        }
    }

    /// Smudging for a CKKS ciphertext of ``scale`` and noise below
    /// ``2^log2_noise`` decrypted by ``n`` parties, keeping
    /// ``precision_bits`` bits; ``ThresholdError`` when the scale leaves no
    /// room (use ``ckks_parameters``).
    #[staticmethod]
    #[pyo3(signature = (params, scale, log2_noise, n, precision_bits, lambda_=threshold::STATISTICAL_SECURITY))]
    fn for_ckks(
        params: &crate::ckks::Parameters,
        scale: f64,
        log2_noise: f64,
        n: usize,
        precision_bits: f64,
        lambda_: u32,
    ) -> PyResult<Self> {
        Ok(Self {
            inner: threshold::Smudging::for_ckks(
                &params.inner,
                scale,
                log2_noise,
                n,
                precision_bits,
                lambda_,
            )
            .or_raise()?,
        })
    }

    /// Smudging at λ = 40 for a BFV ciphertext at ``level`` with noise below
    /// ``2^log2_noise``, decrypted by ``n`` parties.
    #[staticmethod]
    fn for_bfv(
        params: &crate::bfv::Parameters,
        level: usize,
        log2_noise: f64,
        n: usize,
    ) -> PyResult<Self> {
        Ok(Self {
            inner: threshold::Smudging::for_bfv(&params.inner, level, log2_noise, n).or_raise()?,
        })
    }

    /// An explicit width σ = 2^log2_sigma (refused when checked or
    /// sampled if above the widest the sampler draws).
    #[staticmethod]
    fn with_sigma(log2_sigma: f64) -> Self {
        Self {
            inner: threshold::Smudging::with_sigma(log2_sigma),
        }
    }

    /// log2 of the noise's standard deviation.
    #[getter]
    fn log2_sigma(&self) -> f64 {
        self.inner.log2_sigma()
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> crate::Reduce<'py, (f64,)> {
        Ok((unpickler(slf.as_any())?, (slf.get().inner.log2_sigma(),)))
    }

    #[classmethod]
    fn _from_pickle(_cls: &Bound<'_, PyType>, log2_sigma: f64) -> Self {
        Self::with_sigma(log2_sigma)
    }
}

/// One party of a multiparty session: holds an additive share of the
/// collective secret key (and, after a Shamir dealing, a share for t-of-n
/// decryption). A party refuses a second share for the same protocol
/// instance. Not picklable: its secret never leaves the process.
#[pyclass(module = "hekit.threshold")]
pub struct Party {
    inner: threshold::Party,
}

macro_rules! share_type {
    ($ty:ident, $inner:ty, $doc:literal) => {
        #[doc = $doc]
        #[pyclass(module = "hekit.threshold", frozen)]
        pub struct $ty {
            pub(crate) inner: $inner,
            pub(crate) params: Params,
        }

        #[pymethods]
        impl $ty {
            /// The sending party's id.
            #[getter]
            fn party(&self) -> u32 {
                self.inner.party().0
            }

            /// The versioned bytes (the parameters' fingerprint included).
            fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
                PyBytes::new(py, &self.inner.to_bytes())
            }

            /// Reads a share for ``params`` (CKKS or BFV parameters).
            #[staticmethod]
            fn from_bytes(params: &Bound<'_, PyAny>, data: &[u8]) -> PyResult<Self> {
                let p = rlwe_params(params)?;
                Ok(Self {
                    inner: <$inner>::from_bytes(&p, data).or_raise()?,
                    params: p,
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
                        PyBytes::new(py, this.params.fingerprint()),
                        this.to_bytes(py),
                    ),
                ))
            }

            #[classmethod]
            fn _from_pickle(
                _cls: &Bound<'_, PyType>,
                fingerprint: &[u8],
                data: &[u8],
            ) -> PyResult<Self> {
                let p = registry::RLWE.get(fingerprint)?;
                Ok(Self {
                    inner: <$inner>::from_bytes(&p, data).or_raise()?,
                    params: p,
                })
            }
        }
    };
}

share_type!(
    PublicKeyShare,
    threshold::PublicKeyShare,
    "A party's share of the collective public key."
);
share_type!(
    RelinRound1Share,
    threshold::RelinRound1Share,
    "A party's round-1 share of the collective relinearization key."
);
share_type!(
    RelinRound2Share,
    threshold::RelinRound2Share,
    "A party's round-2 share of the collective relinearization key."
);
share_type!(
    GaloisKeyShare,
    threshold::GaloisKeyShare,
    "A party's share of a collective Galois (rotation) key."
);

/// A party's decryption share of one ciphertext (smudged).
#[pyclass(module = "hekit.threshold", frozen)]
pub struct DecryptionShare {
    inner: threshold::DecryptionShare,
    params: Params,
}

#[pymethods]
impl DecryptionShare {
    /// The sending party's id.
    #[getter]
    fn party(&self) -> u32 {
        self.inner.party().0
    }

    /// The versioned bytes.
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        Ok(PyBytes::new(
            py,
            &self.inner.to_bytes(&self.params).or_raise()?,
        ))
    }

    /// Reads a share for ``params`` (CKKS or BFV parameters).
    #[staticmethod]
    fn from_bytes(params: &Bound<'_, PyAny>, data: &[u8]) -> PyResult<Self> {
        let p = rlwe_params(params)?;
        Ok(Self {
            inner: threshold::DecryptionShare::from_bytes(&p, data).or_raise()?,
            params: p,
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
                PyBytes::new(py, this.params.fingerprint()),
                this.to_bytes(py)?,
            ),
        ))
    }

    #[classmethod]
    fn _from_pickle(_cls: &Bound<'_, PyType>, fingerprint: &[u8], data: &[u8]) -> PyResult<Self> {
        let p = registry::RLWE.get(fingerprint)?;
        Ok(Self {
            inner: threshold::DecryptionShare::from_bytes(&p, data).or_raise()?,
            params: p,
        })
    }
}

/// A party's ephemeral secret between the two relinearization rounds
/// (used once by ``Party.relin_key_round2``; not serializable).
#[pyclass(module = "hekit.threshold")]
pub struct RelinEphemeral {
    inner: Option<threshold::RelinEphemeral>,
}

/// A Shamir share of one party's secret, for one other party: send it over
/// a private channel. Consumed by ``Party.receive_dealings``.
#[pyclass(module = "hekit.threshold")]
pub struct SecretShareMessage {
    pub(crate) inner: Option<threshold::SecretShareMessage>,
    pub(crate) params: Params,
}

#[pymethods]
impl SecretShareMessage {
    /// The dealer's id.
    #[getter]
    fn sender(&self) -> PyResult<u32> {
        Ok(self.get()?.from.0)
    }

    /// The recipient's id.
    #[getter]
    fn recipient(&self) -> PyResult<u32> {
        Ok(self.get()?.to.0)
    }

    /// The versioned bytes (secret: for the recipient only).
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        Ok(PyBytes::new(py, &self.get()?.to_bytes(&self.params)))
    }

    /// Reads a message for ``params`` (CKKS or BFV parameters).
    #[staticmethod]
    fn from_bytes(params: &Bound<'_, PyAny>, data: &[u8]) -> PyResult<Self> {
        let p = rlwe_params(params)?;
        Ok(Self {
            inner: Some(threshold::SecretShareMessage::from_bytes(&p, data).or_raise()?),
            params: p,
        })
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> crate::Reduce<'py, (Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
        let py = slf.py();
        let this = slf.borrow();
        Ok((
            unpickler(slf.as_any())?,
            (
                PyBytes::new(py, this.params.fingerprint()),
                this.to_bytes(py)?,
            ),
        ))
    }

    #[classmethod]
    fn _from_pickle(_cls: &Bound<'_, PyType>, fingerprint: &[u8], data: &[u8]) -> PyResult<Self> {
        let p = registry::RLWE.get(fingerprint)?;
        Ok(Self {
            inner: Some(threshold::SecretShareMessage::from_bytes(&p, data).or_raise()?),
            params: p,
        })
    }
}

impl SecretShareMessage {
    fn get(&self) -> PyResult<&threshold::SecretShareMessage> {
        self.inner
            .as_ref()
            .ok_or_else(|| PyValueError::new_err("this dealing message was already received"))
    }
}

#[pymethods]
impl Party {
    /// Party ``id`` (1 … n) with a fresh secret for ``params`` (CKKS or
    /// BFV parameters; one RLWE parameter set serves both).
    #[new]
    fn new(py: Python<'_>, id: u32, params: &Bound<'_, PyAny>) -> PyResult<Self> {
        let id = party_id(id)?;
        let p = rlwe_params(params)?;
        Ok(Self {
            inner: py.detach(|| threshold::Party::new(id, &p, &mut crate::rng())),
        })
    }

    /// This party's id.
    #[getter]
    fn id(&self) -> u32 {
        self.inner.id().0
    }

    /// ``(t, n)`` after a Shamir dealing, else ``None``.
    #[getter]
    fn threshold(&self) -> Option<(usize, usize)> {
        self.inner.threshold()
    }

    /// This party's share of the collective public key.
    fn public_key_share(&mut self, py: Python<'_>, crs: &Crs) -> PyResult<PublicKeyShare> {
        let inner = py
            .detach(|| self.inner.public_key_share(&crs.inner, &mut crate::rng()))
            .or_raise()?;
        Ok(PublicKeyShare {
            inner,
            params: self.inner.params().clone(),
        })
    }

    /// Round 1 of the collective relinearization key: the share to publish
    /// and the ephemeral secret to keep for round 2.
    fn relin_key_round1(
        &mut self,
        py: Python<'_>,
        crs: &Crs,
    ) -> PyResult<(RelinRound1Share, RelinEphemeral)> {
        let (share, eph) = py
            .detach(|| self.inner.relin_key_round1(&crs.inner, &mut crate::rng()))
            .or_raise()?;
        Ok((
            RelinRound1Share {
                inner: share,
                params: self.inner.params().clone(),
            },
            RelinEphemeral { inner: Some(eph) },
        ))
    }

    /// Round 2, from this party's ephemeral secret and the aggregated round 1.
    fn relin_key_round2(
        &mut self,
        py: Python<'_>,
        mut ephemeral: PyRefMut<'_, RelinEphemeral>,
        round1: &RelinKeyRound1,
    ) -> PyResult<RelinRound2Share> {
        let eph = ephemeral
            .inner
            .take()
            .ok_or_else(|| PyValueError::new_err("this ephemeral secret was already used"))?;
        let inner = py
            .detach(|| {
                self.inner
                    .relin_key_round2(eph, &round1.inner, &mut crate::rng())
            })
            .or_raise()?;
        Ok(RelinRound2Share {
            inner,
            params: self.inner.params().clone(),
        })
    }

    /// This party's share of the Galois key for ``element``
    /// (``galois_element(step, degree)`` for a rotation by ``step``).
    fn galois_key_share(
        &mut self,
        py: Python<'_>,
        crs: &Crs,
        element: usize,
    ) -> PyResult<GaloisKeyShare> {
        let inner = py
            .detach(|| {
                self.inner
                    .galois_key_share(&crs.inner, element, &mut crate::rng())
            })
            .or_raise()?;
        Ok(GaloisKeyShare {
            inner,
            params: self.inner.params().clone(),
        })
    }

    /// Shamir dealing of this party's secret for t-of-n decryption: one
    /// message per party (its own included), each for that party only.
    fn deal(&self, py: Python<'_>, t: usize, n: usize) -> PyResult<Vec<SecretShareMessage>> {
        let msgs = py
            .detach(|| self.inner.deal(t, n, &mut crate::rng()))
            .or_raise()?;
        let params = self.inner.params().clone();
        Ok(msgs
            .into_iter()
            .map(|m| SecretShareMessage {
                inner: Some(m),
                params: params.clone(),
            })
            .collect())
    }

    /// Receives the ``n`` dealing messages addressed to this party.
    fn receive_dealings(
        &mut self,
        py: Python<'_>,
        messages: Vec<PyRefMut<'_, SecretShareMessage>>,
        t: usize,
        n: usize,
    ) -> PyResult<()> {
        let mut taken = Vec::with_capacity(messages.len());
        for mut m in messages {
            taken.push(
                m.inner.take().ok_or_else(|| {
                    PyValueError::new_err("a dealing message was already received")
                })?,
            );
        }
        py.detach(|| self.inner.receive_dealings(taken, t, n))
            .or_raise()
    }

    /// This party's smudged decryption share of a 2-part CKKS or BFV
    /// ciphertext: N-of-N with ``active=None``, else as a member of the
    /// active set (after a dealing).
    #[pyo3(signature = (ciphertext, smudging, active=None))]
    fn decryption_share(
        &mut self,
        py: Python<'_>,
        ciphertext: &Bound<'_, PyAny>,
        smudging: &Smudging,
        active: Option<&ActiveSet>,
    ) -> PyResult<DecryptionShare> {
        let ct = rlwe_ciphertext(ciphertext)?;
        let active = active.map(|a| &a.inner);
        let inner = py
            .detach(|| {
                self.inner
                    .decryption_share(&ct, active, &smudging.inner, &mut crate::rng())
            })
            .or_raise()?;
        Ok(DecryptionShare {
            inner,
            params: self.inner.params().clone(),
        })
    }

    fn __repr__(&self) -> String {
        format!("hekit.threshold.Party(id={}, <secret>)", self.inner.id().0)
    }
}

/// The aggregate of public-key shares; ``finish()`` gives the collective
/// public key (wrap it with ``hekit.ckks.PublicKey.from_rlwe`` or
/// ``hekit.bfv.PublicKey.from_rlwe``).
#[pyclass(module = "hekit.threshold", frozen)]
pub struct PublicKeyShares {
    inner: threshold::PublicKeyShares,
}

#[pymethods]
impl PublicKeyShares {
    /// Aggregates shares of distinct parties.
    #[staticmethod]
    fn aggregate(shares: Vec<PyRef<'_, PublicKeyShare>>) -> PyResult<Self> {
        let v: Vec<_> = shares.iter().map(|s| s.inner.clone()).collect();
        Ok(Self {
            inner: threshold::PublicKeyShares::aggregate(v).or_raise()?,
        })
    }

    /// The parties whose shares were aggregated.
    #[getter]
    fn parties(&self) -> Vec<u32> {
        self.inner.parties().iter().map(|p| p.0).collect()
    }

    /// The collective public key.
    fn finish(&self) -> PyResult<RlwePublicKey> {
        Ok(RlwePublicKey {
            inner: self.inner.clone().finish().or_raise()?,
        })
    }
}

/// The aggregate of round-1 relinearization shares (input of round 2).
#[pyclass(module = "hekit.threshold", frozen)]
pub struct RelinKeyRound1 {
    inner: threshold::RelinKeyRound1,
}

#[pymethods]
impl RelinKeyRound1 {
    /// Aggregates round-1 shares of all parties.
    #[staticmethod]
    fn aggregate(py: Python<'_>, shares: Vec<PyRef<'_, RelinRound1Share>>) -> PyResult<Self> {
        let v: Vec<_> = shares.iter().map(|s| s.inner.clone()).collect();
        Ok(Self {
            inner: py
                .detach(|| threshold::RelinKeyRound1::aggregate(v))
                .or_raise()?,
        })
    }

    /// The parties.
    #[getter]
    fn parties(&self) -> Vec<u32> {
        self.inner.parties().iter().map(|p| p.0).collect()
    }
}

/// The aggregate of round-2 shares; ``finish()`` gives the collective
/// relinearization key.
#[pyclass(module = "hekit.threshold", frozen)]
pub struct RelinKeyRound2 {
    inner: threshold::RelinKeyRound2,
}

#[pymethods]
impl RelinKeyRound2 {
    /// Aggregates the round-2 shares of the parties of ``round1``.
    #[staticmethod]
    fn aggregate(
        py: Python<'_>,
        round1: &RelinKeyRound1,
        shares: Vec<PyRef<'_, RelinRound2Share>>,
    ) -> PyResult<Self> {
        let v: Vec<_> = shares.iter().map(|s| s.inner.clone()).collect();
        let r1 = round1.inner.clone();
        Ok(Self {
            inner: py
                .detach(|| threshold::RelinKeyRound2::aggregate(r1, v))
                .or_raise()?,
        })
    }

    /// The collective relinearization key.
    fn finish(&self) -> PyResult<RlweRelinKey> {
        Ok(RlweRelinKey {
            inner: self.inner.clone().finish().or_raise()?,
        })
    }
}

/// The aggregate of Galois-key shares for one element.
#[pyclass(module = "hekit.threshold", frozen)]
pub struct GaloisKeyShares {
    inner: threshold::GaloisKeyShares,
}

#[pymethods]
impl GaloisKeyShares {
    /// Aggregates shares of all parties for one element.
    #[staticmethod]
    fn aggregate(shares: Vec<PyRef<'_, GaloisKeyShare>>) -> PyResult<Self> {
        let v: Vec<_> = shares.iter().map(|s| s.inner.clone()).collect();
        Ok(Self {
            inner: threshold::GaloisKeyShares::aggregate(v).or_raise()?,
        })
    }

    /// The collective Galois key (collect them in
    /// ``hekit.ckks.GaloisKeys.from_rlwe``).
    fn finish(&self) -> PyResult<RlweGaloisKey> {
        Ok(RlweGaloisKey {
            inner: self.inner.clone().finish().or_raise()?,
        })
    }
}

/// The sum of the decryption shares of one ciphertext (its phase);
/// ``finish_ckks`` / ``finish_bfv`` give the plaintext.
#[pyclass(module = "hekit.threshold", frozen)]
pub struct DecryptionShares {
    inner: threshold::DecryptionShares,
}

#[pymethods]
impl DecryptionShares {
    /// Combines the shares of every party (N-of-N, ``active=None``) or of
    /// every member of ``active`` (t-of-n) for ``ciphertext``.
    #[staticmethod]
    #[pyo3(signature = (ciphertext, shares, active=None))]
    fn aggregate(
        py: Python<'_>,
        ciphertext: &Bound<'_, PyAny>,
        shares: Vec<PyRef<'_, DecryptionShare>>,
        active: Option<&ActiveSet>,
    ) -> PyResult<Self> {
        let ct = rlwe_ciphertext(ciphertext)?;
        let v: Vec<_> = shares.iter().map(|s| s.inner.clone()).collect();
        let active = active.map(|a| &a.inner);
        Ok(Self {
            inner: py
                .detach(|| threshold::DecryptionShares::aggregate(&ct, v, active))
                .or_raise()?,
        })
    }

    /// The parties whose shares were combined.
    #[getter]
    fn parties(&self) -> Vec<u32> {
        self.inner.parties().iter().map(|p| p.0).collect()
    }

    /// The CKKS plaintext at the ciphertext's ``scale`` (decode it with
    /// ``hekit.ckks.Encoder``).
    fn finish_ckks(
        &self,
        params: &crate::ckks::Parameters,
        scale: f64,
    ) -> PyResult<crate::ckks::Plaintext> {
        Ok(crate::ckks::Plaintext {
            inner: self.inner.finish_ckks(&params.inner, scale).or_raise()?,
        })
    }

    /// The BFV plaintext (``encoding``: ``"batch"`` or ``"coefficients"``,
    /// the ciphertext's ``encoding``).
    #[pyo3(signature = (params, encoding="batch"))]
    fn finish_bfv(
        &self,
        params: &crate::bfv::Parameters,
        encoding: &str,
    ) -> PyResult<crate::bfv::Plaintext> {
        let e = match encoding {
            "batch" => bfv::Encoding::Batch,
            "coefficients" => bfv::Encoding::Coefficients,
            other => {
                return Err(PyValueError::new_err(format!(
                    "encoding must be \"batch\" or \"coefficients\", got {other:?}"
                )))
            }
        };
        Ok(crate::bfv::Plaintext {
            inner: self.inner.finish_bfv(&params.inner, e).or_raise()?,
        })
    }
}

/// A collective public key at the RLWE level (``PublicKeyShares.finish``).
#[pyclass(module = "hekit.threshold", frozen)]
pub struct RlwePublicKey {
    pub(crate) inner: rlwe::keys::PublicKey,
}

#[pymethods]
impl RlwePublicKey {
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> crate::Reduce<'py, (Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
        let py = slf.py();
        let this = slf.get();
        Ok((
            unpickler(slf.as_any())?,
            (
                PyBytes::new(py, this.inner.params().fingerprint()),
                this.to_bytes(py),
            ),
        ))
    }

    #[classmethod]
    fn _from_pickle(_cls: &Bound<'_, PyType>, fingerprint: &[u8], data: &[u8]) -> PyResult<Self> {
        let p = registry::RLWE.get(fingerprint)?;
        Ok(Self {
            inner: rlwe::keys::PublicKey::from_bytes(&p, data).or_raise()?,
        })
    }

    /// The versioned bytes.
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.to_bytes())
    }

    /// Reads a key for ``params`` (CKKS or BFV parameters).
    #[staticmethod]
    fn from_bytes(params: &Bound<'_, PyAny>, data: &[u8]) -> PyResult<Self> {
        let p = rlwe_params(params)?;
        Ok(Self {
            inner: rlwe::keys::PublicKey::from_bytes(&p, data).or_raise()?,
        })
    }
}

/// A collective relinearization key at the RLWE level.
#[pyclass(module = "hekit.threshold", frozen)]
pub struct RlweRelinKey {
    pub(crate) inner: rlwe::keys::RelinKey,
}

/// A collective Galois key at the RLWE level.
#[pyclass(module = "hekit.threshold", frozen)]
pub struct RlweGaloisKey {
    pub(crate) inner: rlwe::keys::GaloisKey,
}

/// CKKS parameters over the RLWE parameters of ``params`` whose scale
/// leaves room for threshold decryption at λ = 40 of sums of up to
/// ``ciphertexts`` fresh encryptions under a key of ``parties`` secrets,
/// within ``2^-precision_bits``, for values below ``max_abs``.
#[pyfunction]
fn ckks_parameters(
    py: Python<'_>,
    params: &Bound<'_, PyAny>,
    parties: usize,
    ciphertexts: usize,
    max_abs: f64,
    precision_bits: f64,
) -> PyResult<crate::ckks::Parameters> {
    let p = rlwe_params(params)?;
    let inner = py
        .detach(|| threshold::ckks_parameters(p, parties, ciphertexts, max_abs, precision_bits))
        .or_raise()?;
    Ok(crate::ckks::Parameters::wrap(inner))
}

/// log2 of the public noise bound of a sum of ``ciphertexts`` fresh CKKS
/// encryptions under a collective key of ``parties`` secrets.
#[pyfunction]
fn ckks_fresh_noise_bound(
    params: &Bound<'_, PyAny>,
    parties: usize,
    ciphertexts: usize,
) -> PyResult<f64> {
    let p = rlwe_params(params)?;
    Ok(threshold::ckks_fresh_noise_bound(&p, parties, ciphertexts))
}

/// The Galois element of a rotation by ``step`` slots at ring degree
/// ``degree``.
#[pyfunction]
fn galois_element(step: i64, degree: usize) -> usize {
    rlwe::keys::galois_element_for_rotation(step, degree)
}

/// Registers the module's classes.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("ThresholdError", m.py().get_type::<ThresholdError>())?;
    m.add("STATISTICAL_SECURITY", threshold::STATISTICAL_SECURITY)?;
    m.add_class::<Crs>()?;
    m.add_class::<crate::e2e::E2eKey>()?;
    m.add_class::<Party>()?;
    m.add_class::<ActiveSet>()?;
    m.add_class::<Smudging>()?;
    m.add_class::<PublicKeyShare>()?;
    m.add_class::<PublicKeyShares>()?;
    m.add_class::<RelinRound1Share>()?;
    m.add_class::<RelinEphemeral>()?;
    m.add_class::<RelinKeyRound1>()?;
    m.add_class::<RelinRound2Share>()?;
    m.add_class::<RelinKeyRound2>()?;
    m.add_class::<GaloisKeyShare>()?;
    m.add_class::<GaloisKeyShares>()?;
    m.add_class::<SecretShareMessage>()?;
    m.add_class::<DecryptionShare>()?;
    m.add_class::<DecryptionShares>()?;
    m.add_class::<RlwePublicKey>()?;
    m.add_class::<RlweRelinKey>()?;
    m.add_class::<RlweGaloisKey>()?;
    m.add_function(wrap_pyfunction!(ckks_parameters, m)?)?;
    m.add_function(wrap_pyfunction!(ckks_fresh_noise_bound, m)?)?;
    m.add_function(wrap_pyfunction!(galois_element, m)?)?;
    Ok(())
}
