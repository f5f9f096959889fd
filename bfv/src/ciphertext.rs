//! BFV ciphertexts: an RLWE ciphertext tagged with its BFV parameters and
//! plaintext encoding, with validated serialization.

use std::sync::Arc;

use rlwe::serialize::{decode, encode, Kind};
use serde::{Deserialize, Serialize};

use crate::encoder::Encoding;
use crate::params::Parameters;
use crate::{Error, Result};

/// A BFV ciphertext.
#[derive(Clone)]
pub struct Ciphertext {
    params: Arc<Parameters>,
    inner: rlwe::ciphertext::Ciphertext,
    encoding: Encoding,
}

impl std::fmt::Debug for Ciphertext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("bfv::Ciphertext")
            .field("level", &self.inner.level())
            .field("parts", &self.inner.len())
            .field("encoding", &self.encoding)
            .finish()
    }
}

#[derive(Serialize, Deserialize)]
struct Body {
    batch: bool,
    inner: Vec<u8>,
}

impl Ciphertext {
    /// Wraps an RLWE ciphertext of `params` (e.g. one assembled by a
    /// threshold protocol) with its plaintext encoding.
    ///
    /// # Errors
    /// [`Error::Rlwe`] with a parameter mismatch if `inner` is of other RLWE
    /// parameters.
    pub fn from_rlwe(
        params: &Arc<Parameters>,
        inner: rlwe::ciphertext::Ciphertext,
        encoding: Encoding,
    ) -> Result<Self> {
        Self::wrap(params, inner, encoding)
    }

    pub(crate) fn wrap(
        params: &Arc<Parameters>,
        inner: rlwe::ciphertext::Ciphertext,
        encoding: Encoding,
    ) -> Result<Self> {
        params.rlwe().check_same(inner.params(), "ciphertext")?;
        Ok(Self {
            params: params.clone(),
            inner,
            encoding,
        })
    }

    /// The parameters.
    pub fn params(&self) -> &Arc<Parameters> {
        &self.params
    }

    /// The underlying RLWE ciphertext.
    pub fn rlwe(&self) -> &rlwe::ciphertext::Ciphertext {
        &self.inner
    }

    pub(crate) fn rlwe_mut(&mut self) -> &mut rlwe::ciphertext::Ciphertext {
        &mut self.inner
    }

    /// Level (number of chain primes − 1).
    pub fn level(&self) -> usize {
        self.inner.level()
    }

    /// Number of polynomials (2, or 3 before relinearization).
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// Always false.
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// The encoding of the plaintext inside.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// Serialized form: BFV parameters' fingerprint, encoding, and the RLWE
    /// ciphertext (seeded when fresh from the secret key).
    pub fn to_bytes(&self) -> Vec<u8> {
        let body = Body {
            batch: self.encoding == Encoding::Batch,
            inner: self.inner.to_bytes(),
        };
        encode(Kind::External, self.params.fingerprint(), &body)
    }

    /// Size of [`Self::to_bytes`] in bytes.
    pub fn serialized_size(&self) -> usize {
        self.to_bytes().len()
    }

    /// Reads a ciphertext for `params`.
    pub fn from_bytes(params: &Arc<Parameters>, bytes: &[u8]) -> Result<Self> {
        let body: Body = decode(
            bytes,
            Kind::External,
            "BFV ciphertext",
            Some(params.fingerprint()),
        )?;
        let inner = rlwe::ciphertext::Ciphertext::from_bytes(params.rlwe(), &body.inner)?;
        if inner.len() > 3 {
            return Err(Error::Malformed {
                what: "BFV ciphertext",
                reason: format!("{} parts", inner.len()),
            });
        }
        let encoding = if body.batch {
            Encoding::Batch
        } else {
            Encoding::Coefficients
        };
        Self::wrap(params, inner, encoding)
    }
}

// `&a + &b`, `&a - &b` (a `Result` on either side chains) and `-&a`: see
// `rlwe::ops` for why the binary operators return `Result`.
fn op_add(a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext> {
    crate::Evaluator::new(a.params()).add(a, b)
}

fn op_sub(a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext> {
    crate::Evaluator::new(a.params()).sub(a, b)
}

fn op_neg(a: &Ciphertext) -> Ciphertext {
    let mut out = a.clone();
    out.rlwe_mut().neg_assign();
    out
}

rlwe::result_ops!(Ciphertext, crate::Error, op_add, op_sub, op_neg);
