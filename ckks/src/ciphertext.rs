//! CKKS ciphertexts (an RLWE ciphertext and its scale) and the serialized
//! forms of ciphertexts and plaintexts.

use serde::{Deserialize, Serialize};

use rlwe::serialize::{decode, encode, Kind};

use crate::encoder::{check_scale, Plaintext};
use crate::params::Parameters;
use crate::{Error, Result};

/// A CKKS ciphertext: an RLWE ciphertext `(c_0, c_1[, c_2])` in NTT form
/// over `Q_l` that decrypts to a plaintext of scale [`Self::scale`].
///
/// The scale is tracked exactly: multiplying multiplies the scales, and
/// rescaling at level `l` divides it by the actual prime `q_l` (not by a
/// nominal 2^40), which is what keeps the error of a product at the level
/// of the noise.
#[derive(Clone, Debug)]
pub struct Ciphertext {
    pub(crate) params: Parameters,
    pub(crate) inner: rlwe::ciphertext::Ciphertext,
    pub(crate) scale: f64,
}

impl Ciphertext {
    /// Wraps an RLWE ciphertext of `params` with its scale.
    pub fn from_rlwe(
        params: &Parameters,
        inner: rlwe::ciphertext::Ciphertext,
        scale: f64,
    ) -> Result<Self> {
        params
            .rlwe()
            .check_same(inner.params(), "RLWE ciphertext and CKKS parameters")?;
        check_scale(scale)?;
        Ok(Self {
            params: params.clone(),
            inner,
            scale,
        })
    }

    /// The parameters.
    pub fn params(&self) -> &Parameters {
        &self.params
    }

    /// The underlying RLWE ciphertext.
    pub fn rlwe(&self) -> &rlwe::ciphertext::Ciphertext {
        &self.inner
    }

    /// The scale Δ of the encrypted plaintext.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// Overrides the recorded scale (the value is reinterpreted: slots are
    /// multiplied by `old / new`). Use it to declare a scale that you know
    /// is right, e.g. after your own scale management.
    pub fn set_scale(&mut self, scale: f64) -> Result<()> {
        check_scale(scale)?;
        self.scale = scale;
        Ok(())
    }

    /// The level (rescalings left).
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

    /// Serialized form: a versioned envelope (parameter fingerprint
    /// included) holding the scale and the RLWE ciphertext (a fresh
    /// secret-key ciphertext is written at half size).
    pub fn to_bytes(&self) -> Vec<u8> {
        let body = CtBody {
            tag: CT_TAG,
            scale: self.scale,
            rlwe: self.inner.to_bytes(),
        };
        encode(Kind::External, self.params.rlwe().fingerprint(), &body)
    }

    /// Size of [`Self::to_bytes`].
    pub fn serialized_size(&self) -> usize {
        self.to_bytes().len()
    }

    /// Reads a ciphertext of `params`, validating the envelope, the scale,
    /// the level and every coefficient.
    pub fn from_bytes(params: &Parameters, bytes: &[u8]) -> Result<Self> {
        let body: CtBody = decode(
            bytes,
            Kind::External,
            "CKKS ciphertext",
            Some(params.rlwe().fingerprint()),
        )?;
        if body.tag != CT_TAG {
            return Err(Error::Malformed {
                what: "CKKS ciphertext",
                reason: "not a CKKS ciphertext".into(),
            });
        }
        if !body.scale.is_finite() || body.scale <= 0.0 {
            return Err(Error::Malformed {
                what: "CKKS ciphertext",
                reason: format!("scale {} is not finite and positive", body.scale),
            });
        }
        let inner = rlwe::ciphertext::Ciphertext::from_bytes(params.rlwe(), &body.rlwe)?;
        Ok(Self {
            params: params.clone(),
            inner,
            scale: body.scale,
        })
    }
}

const CT_TAG: [u8; 8] = *b"ckks/ct1";
const PT_TAG: [u8; 8] = *b"ckks/pt1";

#[derive(Serialize, Deserialize)]
struct CtBody {
    tag: [u8; 8],
    scale: f64,
    rlwe: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct PtBody {
    tag: [u8; 8],
    scale: f64,
    poly: Vec<u8>,
}

impl Plaintext {
    /// Serialized form (scale, level and the polynomial's residues).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let poly = rlwe::serialize::poly_to_bytes(self.params.rlwe(), &self.poly)?;
        let body = PtBody {
            tag: PT_TAG,
            scale: self.scale,
            poly,
        };
        Ok(encode(
            Kind::External,
            self.params.rlwe().fingerprint(),
            &body,
        ))
    }

    /// Reads a plaintext of `params`.
    pub fn from_bytes(params: &Parameters, bytes: &[u8]) -> Result<Self> {
        let body: PtBody = decode(
            bytes,
            Kind::External,
            "CKKS plaintext",
            Some(params.rlwe().fingerprint()),
        )?;
        if body.tag != PT_TAG {
            return Err(Error::Malformed {
                what: "CKKS plaintext",
                reason: "not a CKKS plaintext".into(),
            });
        }
        if !body.scale.is_finite() || body.scale <= 0.0 {
            return Err(Error::Malformed {
                what: "CKKS plaintext",
                reason: format!("scale {} is not finite and positive", body.scale),
            });
        }
        let poly = rlwe::serialize::poly_from_bytes(params.rlwe(), &body.poly)?;
        Plaintext::from_poly(params, poly, body.scale)
    }
}

// `&a + &b`, `&a - &b` (levels and scales aligned as by
// `Evaluator::add`; a `Result` on either side chains) and `-&a`: see
// `rlwe::ops` for why the binary operators return `Result`.
fn op_add(a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext> {
    crate::Evaluator::new(a.params()).add(a, b)
}

fn op_sub(a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext> {
    crate::Evaluator::new(a.params()).sub(a, b)
}

fn op_neg(a: &Ciphertext) -> Ciphertext {
    let mut out = a.clone();
    out.inner.neg_assign();
    out
}

rlwe::result_ops!(Ciphertext, Error, op_add, op_sub, op_neg);
