//! Wire helpers shared by `aggregation` and `testing`: bit-packed
//! polynomials, framed messages (a versioned header envelope, then the
//! payload), domain-separated digests and child generators.

use std::sync::Arc;

use rand::{CryptoRng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rlwe::poly::{Poly, Representation, RingContext};
use rlwe::serialize::Kind;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{Error, Result};

/// Bits of a modulus.
pub(crate) fn modulus_bits(q: u64) -> u32 {
    64 - q.leading_zeros()
}

/// Bytes of a bit-packed polynomial over `ctx`.
pub(crate) fn packed_len(ctx: &RingContext) -> usize {
    let bits: usize = ctx
        .moduli()
        .iter()
        .map(|m| modulus_bits(m.value()) as usize)
        .sum::<usize>()
        * ctx.degree();
    bits.div_ceil(8)
}

/// Appends the residues of `p`, each in as many bits as its modulus has,
/// as a little-endian bit stream.
pub(crate) fn pack_poly(p: &Poly, out: &mut Vec<u8>) {
    let ctx = p.context();
    let mut acc: u128 = 0;
    let mut nacc: u32 = 0;
    for (i, m) in ctx.moduli().iter().enumerate() {
        let b = modulus_bits(m.value());
        for &x in p.limb(i) {
            acc |= (x as u128) << nacc;
            nacc += b;
            if nacc >= 64 {
                out.extend_from_slice(&(acc as u64).to_le_bytes());
                acc >>= 64;
                nacc -= 64;
            }
        }
    }
    while nacc > 0 {
        out.push(acc as u8);
        acc >>= 8;
        nacc = nacc.saturating_sub(8);
    }
}

/// Reads a polynomial written by [`pack_poly`], validating the length, every
/// residue against its modulus and the zero padding.
pub(crate) fn unpack_poly(
    ctx: &Arc<RingContext>,
    repr: Representation,
    bytes: &[u8],
    what: &'static str,
) -> Result<Poly> {
    if bytes.len() != packed_len(ctx) {
        return Err(Error::Malformed {
            what,
            reason: format!(
                "packed polynomial of {} bytes, expected {}",
                bytes.len(),
                packed_len(ctx)
            ),
        });
    }
    let n = ctx.degree();
    let mut data = vec![0u64; ctx.len() * n];
    let mut acc: u128 = 0;
    let mut nacc: u32 = 0;
    let mut pos = 0usize;
    for (i, m) in ctx.moduli().iter().enumerate() {
        let q = m.value();
        let b = modulus_bits(q);
        let mask = (1u128 << b) - 1;
        for d in data[i * n..(i + 1) * n].iter_mut() {
            while nacc < b {
                if pos + 8 <= bytes.len() {
                    let mut w = [0u8; 8];
                    w.copy_from_slice(&bytes[pos..pos + 8]);
                    acc |= (u64::from_le_bytes(w) as u128) << nacc;
                    nacc += 64;
                    pos += 8;
                } else if pos < bytes.len() {
                    acc |= (bytes[pos] as u128) << nacc;
                    nacc += 8;
                    pos += 1;
                } else {
                    return Err(Error::Malformed {
                        what,
                        reason: "truncated packed polynomial".into(),
                    });
                }
            }
            let x = (acc & mask) as u64;
            acc >>= b;
            nacc -= b;
            if x >= q {
                return Err(Error::Malformed {
                    what,
                    reason: format!("residue {x} not below its modulus {q}"),
                });
            }
            *d = x;
        }
    }
    if acc != 0 || pos != bytes.len() {
        return Err(Error::Malformed {
            what,
            reason: "non-zero padding".into(),
        });
    }
    Ok(Poly::from_limbs(ctx, repr, data)?)
}

/// Largest header accepted (bytes).
pub(crate) const MAX_HEADER: u64 = 1 << 20;

/// A message: `u64` header length, a versioned `rlwe::serialize` envelope
/// (magic, version, kind, parameter fingerprint) holding the header, then the
/// payload whose exact length the header determines.
pub(crate) fn frame<H: Serialize>(fingerprint: &[u8; 32], header: &H, payload: &[u8]) -> Vec<u8> {
    let h = rlwe::serialize::encode(Kind::External, fingerprint, header);
    let mut out = Vec::with_capacity(8 + h.len() + payload.len());
    out.extend_from_slice(&(h.len() as u64).to_le_bytes());
    out.extend_from_slice(&h);
    out.extend_from_slice(payload);
    out
}

/// Splits a message written by [`frame`] into its header and payload.
pub(crate) fn unframe<'a, H: DeserializeOwned>(
    bytes: &'a [u8],
    what: &'static str,
    fingerprint: &[u8; 32],
) -> Result<(H, &'a [u8])> {
    if bytes.len() < 8 {
        return Err(Error::Malformed {
            what,
            reason: format!("{} bytes, shorter than the length prefix", bytes.len()),
        });
    }
    let mut w = [0u8; 8];
    w.copy_from_slice(&bytes[..8]);
    let hl = u64::from_le_bytes(w);
    if hl > MAX_HEADER || hl > (bytes.len() - 8) as u64 {
        return Err(Error::Malformed {
            what,
            reason: format!("header length {hl} out of range"),
        });
    }
    let hl = hl as usize;
    let header: H =
        rlwe::serialize::decode(&bytes[8..8 + hl], Kind::External, what, Some(fingerprint))
            .map_err(|e| match e {
                rlwe::Error::ParameterMismatch { .. } => Error::SessionMismatch {
                    what: format!("{what} belongs to another parameter set"),
                },
                other => Error::Malformed {
                    what,
                    reason: other.to_string(),
                },
            })?;
    Ok((header, &bytes[8 + hl..]))
}

/// A 32-byte digest of `data` in the context `domain`: the proofs'
/// transcript hash ([`zk::Transcript`], BLAKE3), streaming (no copy).
pub(crate) fn digest(domain: &[u8], data: &[u8]) -> [u8; 32] {
    let mut t = zk::Transcript::new(domain);
    t.append(b"data", data);
    t.finish()
}

/// Per-item generators drawn from the caller's CSPRNG (for rayon).
pub(crate) fn child_rngs<R: RngCore + CryptoRng>(rng: &mut R, count: usize) -> Vec<ChaCha20Rng> {
    (0..count)
        .map(|_| {
            let mut seed = [0u8; 32];
            rng.fill_bytes(&mut seed);
            ChaCha20Rng::from_seed(seed)
        })
        .collect()
}

pub(crate) fn check_tag(found: &[u8; 8], expected: &[u8; 8], what: &'static str) -> Result<()> {
    if found != expected {
        return Err(Error::Malformed {
            what,
            reason: format!(
                "message type {:?}, expected {:?}",
                String::from_utf8_lossy(found),
                String::from_utf8_lossy(expected)
            ),
        });
    }
    Ok(())
}
