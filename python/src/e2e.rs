//! `hekit.threshold.E2eKey`: the end-to-end boxes of `threshold::e2e`
//! (X25519, HKDF-SHA256, ChaCha20-Poly1305), for secret messages such as
//! Shamir dealings that cross an untrusted relay.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::errors::OrRaise;

/// A party's end-to-end key pair for one session. A box from this party to
/// ``to`` is ChaCha20-Poly1305 under ``HKDF-SHA256(X25519(own secret, peer),
/// salt = session, info = domain/purpose/from/to)`` with a random nonce;
/// it opens only for its recipient, session, purpose and domain. Not
/// picklable: ``secret_bytes()`` is explicit (and secret).
#[pyclass(module = "hekit.threshold", frozen)]
pub struct E2eKey {
    inner: threshold::e2e::E2eKey,
}

fn session32(session: &[u8]) -> PyResult<[u8; 32]> {
    session.try_into().map_err(|_| {
        PyValueError::new_err(format!("session of {} bytes (32 expected)", session.len()))
    })
}

#[pymethods]
impl E2eKey {
    /// A fresh key pair for party ``id``; ``domain`` separates one
    /// application's boxes from another's.
    #[new]
    fn new(id: u32, domain: &str) -> Self {
        Self {
            inner: threshold::e2e::E2eKey::generate(id, domain, &mut crate::rng()),
        }
    }

    /// The key pair of a secret written by ``secret_bytes``.
    #[staticmethod]
    fn from_secret_bytes(id: u32, domain: &str, secret: &[u8]) -> PyResult<Self> {
        Ok(Self {
            inner: threshold::e2e::E2eKey::from_secret_bytes(id, domain, secret).or_raise()?,
        })
    }

    /// The 32-byte secret key — secret: for keeping the key pair on its node
    /// between processes only.
    fn secret_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.secret_bytes()[..])
    }

    /// The 32-byte public key, to announce.
    fn public_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.public_bytes())
    }

    /// The party id.
    #[getter]
    fn id(&self) -> u32 {
        self.inner.id()
    }

    /// Seals ``plaintext`` for party ``to`` (public key ``peer``): the box
    /// as ``nonce ‖ ciphertext`` bytes.
    fn seal<'py>(
        &self,
        py: Python<'py>,
        to: u32,
        peer: &[u8],
        session: &[u8],
        purpose: &str,
        plaintext: &[u8],
    ) -> PyResult<Bound<'py, PyBytes>> {
        let s = session32(session)?;
        let b = self
            .inner
            .seal(to, peer, &s, purpose, plaintext, &mut crate::rng())
            .or_raise()?;
        let mut out = b.nonce.to_vec();
        out.extend_from_slice(&b.ciphertext);
        Ok(PyBytes::new(py, &out))
    }

    /// Opens a box (``nonce ‖ ciphertext``) from party ``sender`` (public key
    /// ``peer``) to this party; raises ``ThresholdError`` if it does not
    /// authenticate.
    fn open<'py>(
        &self,
        py: Python<'py>,
        sender: u32,
        peer: &[u8],
        session: &[u8],
        purpose: &str,
        sealed: &[u8],
    ) -> PyResult<Bound<'py, PyBytes>> {
        let s = session32(session)?;
        const N: usize = threshold::e2e::NONCE_LEN;
        if sealed.len() < N {
            return Err(PyValueError::new_err(format!(
                "box of {} bytes",
                sealed.len()
            )));
        }
        let mut nonce = [0u8; N];
        nonce.copy_from_slice(&sealed[..N]);
        let b = threshold::e2e::SealedBox {
            from: sender,
            to: self.inner.id(),
            nonce,
            ciphertext: sealed[N..].to_vec(),
        };
        let plain = self.inner.open(&b, peer, &s, purpose).or_raise()?;
        Ok(PyBytes::new(py, &plain))
    }
}
