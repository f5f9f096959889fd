//! The non-interactive proof of equality of discrete logarithms (Shoup,
//! EUROCRYPT 2000, §4; Fiat–Shamir with SHA-256) and the constant-time limb
//! arithmetic its prover needs.
//!
//! Statement, for party `i` with secret exponent `x = Δ s_i`:
//! `log_{c^4}(c_i^2) = log_v(v_i)` modulo `n^{s+1}` (`n^2` for Paillier). The prover draws a nonce
//! `r` of [`nonce_bits`](super::PublicParams::nonce_bits) bits, sends
//! `e = H(n, s, v, v_i, i, c, c_i, c^{4r}, v^r)` (256 bits) and
//! `z = r + e·x` computed over the integers. The verifier recomputes
//! `a = c^{4z} (c_i^2)^{-e}`, `b = v^z v_i^{-e}` and checks the hash.

use num_bigint::BigUint;
use rand_core::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::PartyId;

/// Domain-separation tag of the challenge hash.
const DOMAIN: &[u8] = b"hekit/threshold/paillier/dleq/v1";

/// A proof of correct partial decryption: the challenge `e` (256 bits,
/// big-endian) and the response `z = r + e·Δ s_i`.
#[derive(Clone, PartialEq, Eq)]
pub struct Proof {
    pub(crate) e: [u8; 32],
    pub(crate) z: BigUint,
}

impl core::fmt::Debug for Proof {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Proof")
            .field(
                "e",
                &format_args!(
                    "{:02x}{:02x}{:02x}{:02x}…",
                    self.e[0], self.e[1], self.e[2], self.e[3]
                ),
            )
            .field("z_bits", &self.z.bits())
            .finish()
    }
}

impl Proof {
    /// A proof received from elsewhere (checked only by verification).
    pub fn from_parts(e: [u8; 32], z: BigUint) -> Self {
        Proof { e, z }
    }

    /// The challenge (SHA-256 output, read as a big-endian integer).
    pub fn challenge(&self) -> &[u8; 32] {
        &self.e
    }

    /// The response `z`.
    pub fn response(&self) -> &BigUint {
        &self.z
    }
}

fn absorb(h: &mut Sha256, label: &[u8], x: &BigUint) {
    let bytes = x.to_bytes_be();
    h.update((label.len() as u64).to_be_bytes());
    h.update(label);
    h.update((bytes.len() as u64).to_be_bytes());
    h.update(&bytes);
}

/// The Fiat–Shamir challenge: every value is length-prefixed and labelled,
/// after the domain tag.
#[allow(clippy::too_many_arguments)]
pub(crate) fn challenge(
    n: &BigUint,
    s: u32,
    v: &BigUint,
    vi: &BigUint,
    party: PartyId,
    c: &BigUint,
    ci: &BigUint,
    a: &BigUint,
    b: &BigUint,
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update((DOMAIN.len() as u64).to_be_bytes());
    h.update(DOMAIN);
    absorb(&mut h, b"n", n);
    absorb(&mut h, b"s", &BigUint::from(s));
    absorb(&mut h, b"v", v);
    absorb(&mut h, b"v_i", vi);
    absorb(&mut h, b"i", &BigUint::from(party.0));
    absorb(&mut h, b"c", c);
    absorb(&mut h, b"c_i", ci);
    absorb(&mut h, b"c^4r", a);
    absorb(&mut h, b"v^r", b);
    h.finalize().into()
}

/// Limbs (little-endian `u64`) of a 32-byte big-endian challenge.
pub(crate) fn challenge_limbs(e: &[u8; 32]) -> [u64; 4] {
    let mut out = [0u64; 4];
    for (i, limb) in out.iter_mut().enumerate() {
        let mut w = [0u8; 8];
        w.copy_from_slice(&e[32 - 8 * (i + 1)..32 - 8 * i]);
        *limb = u64::from_be_bytes(w);
    }
    out
}

/// A uniformly random secret of `bits` bits, as wiped limbs.
pub(crate) fn random_limbs<R: RngCore + CryptoRng>(
    bits: usize,
    rng: &mut R,
) -> Zeroizing<Vec<u64>> {
    let k = bits.div_ceil(64).max(1);
    let mut out = Zeroizing::new(vec![0u64; k]);
    for l in out.iter_mut() {
        *l = rng.next_u64();
    }
    let top = bits % 64;
    if top != 0 {
        out[k - 1] &= (1u64 << top) - 1;
    }
    out
}

/// `acc + a·b` over the integers on fixed-length limb vectors (schoolbook,
/// no data-dependent branch): the result has `max(acc, a + b) + 1` limbs.
pub(crate) fn mul_add(acc: &[u64], a: &[u64], b: &[u64]) -> Zeroizing<Vec<u64>> {
    let len = acc.len().max(a.len() + b.len()) + 1;
    let mut out = Zeroizing::new(vec![0u64; len]);
    out[..acc.len()].copy_from_slice(acc);
    for (i, &ai) in a.iter().enumerate() {
        let mut carry = 0u64;
        for (j, &bj) in b.iter().enumerate() {
            let s = (ai as u128) * (bj as u128) + (out[i + j] as u128) + (carry as u128);
            out[i + j] = s as u64;
            carry = (s >> 64) as u64;
        }
        for o in out[i + b.len()..].iter_mut() {
            let s = (*o as u128) + (carry as u128);
            *o = s as u64;
            carry = (s >> 64) as u64;
        }
    }
    out
}

/// The integer whose little-endian limbs are `l`.
pub(crate) fn from_limbs(l: &[u64]) -> BigUint {
    let mut digits = Zeroizing::new(Vec::with_capacity(2 * l.len()));
    for &w in l {
        digits.push(w as u32);
        digits.push((w >> 32) as u32);
    }
    BigUint::new(digits.to_vec())
}

/// Minimal big-endian bytes of the integer with little-endian limbs `l`
/// (`[0]` for zero), without a `BigUint` temporary (for secrets).
pub(crate) fn limbs_to_be_bytes(l: &[u64]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(8 * l.len()));
    for w in l.iter().rev() {
        out.extend_from_slice(&w.to_be_bytes());
    }
    let lead = out
        .iter()
        .take_while(|&&b| b == 0)
        .count()
        .min(out.len().saturating_sub(1));
    out.drain(..lead);
    if out.is_empty() {
        out.push(0);
    }
    out
}

/// Little-endian limbs (`k` of them) of big-endian `bytes`, without a
/// `BigUint` temporary (for secrets); `None` if the value needs more.
pub(crate) fn be_bytes_to_limbs(bytes: &[u8], k: usize) -> Option<Zeroizing<Vec<u64>>> {
    let mut out = Zeroizing::new(vec![0u64; k]);
    for (i, &b) in bytes.iter().rev().enumerate() {
        let limb = i / 8;
        if limb >= k {
            if b != 0 {
                return None;
            }
            continue;
        }
        out[limb] |= (b as u64) << (8 * (i % 8));
    }
    Some(out)
}

/// `a < b` for equal-length little-endian limb vectors.
pub(crate) fn limbs_lt(a: &[u64], b: &[u64]) -> bool {
    for (x, y) in a.iter().rev().zip(b.iter().rev()) {
        if x != y {
            return x < y;
        }
    }
    false
}

/// Limbs of `x`, padded to `k` (`None` if `x` needs more).
pub(crate) fn to_limbs(x: &BigUint, k: usize) -> Option<Zeroizing<Vec<u64>>> {
    let mut v = Zeroizing::new(x.to_u64_digits());
    if v.len() > k {
        return None;
    }
    v.resize(k, 0);
    Some(v)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use num_bigint::RandBigInt;
    use rand::SeedableRng;

    #[test]
    fn mul_add_matches_bigint() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(9);
        for (ab, bb, cb) in [
            (64u64, 256u64, 700u64),
            (1, 1, 1),
            (300, 5, 3000),
            (2000, 2000, 64),
        ] {
            let a = rng.gen_biguint(ab);
            let b = rng.gen_biguint(bb);
            let c = rng.gen_biguint(cb);
            let al = to_limbs(&a, (ab as usize).div_ceil(64)).unwrap();
            let bl = to_limbs(&b, (bb as usize).div_ceil(64)).unwrap();
            let cl = to_limbs(&c, (cb as usize).div_ceil(64)).unwrap();
            assert_eq!(from_limbs(&mul_add(&cl, &al, &bl)), &c + &a * &b);
        }
        for bits in [0u64, 1, 8, 9, 64, 65, 1000] {
            let x = rng.gen_biguint(bits);
            let k = (bits as usize).div_ceil(64).max(1) + 1;
            let l = to_limbs(&x, k).unwrap();
            let be = limbs_to_be_bytes(&l);
            assert_eq!(&be[..], &x.to_bytes_be()[..]);
            assert_eq!(be_bytes_to_limbs(&be, k).unwrap(), l);
            let y = &x + 1u32;
            assert!(limbs_lt(&l, &to_limbs(&y, k).unwrap()));
            assert!(!limbs_lt(&l, &l));
        }
        assert!(be_bytes_to_limbs(&[1, 0, 0, 0, 0, 0, 0, 0, 0], 1).is_none());
        assert_eq!(
            be_bytes_to_limbs(&[0, 0, 0, 0, 0, 0, 0, 0, 7], 1).unwrap()[0],
            7
        );
        let e = [0xabu8; 32];
        let el = challenge_limbs(&e);
        assert_eq!(from_limbs(&el), BigUint::from_bytes_be(&e));
    }

    #[test]
    fn paillier_modpow_matches_bigint() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(11);
        for bits in [128u64, 1024] {
            let mut m = rng.gen_biguint(bits);
            m.set_bit(0, true);
            m.set_bit(bits - 1, true);
            let ctx = ::paillier::modpow::Modulus::new(&m).unwrap();
            for ebits in [1usize, 64, 700, 1500] {
                let b = rng.gen_biguint_below(&m);
                let e = rng.gen_biguint(ebits as u64);
                let expect = b.modpow(&e, &m);
                assert_eq!(ctx.pow_public(&b, &e), expect);
                let el = to_limbs(&e, ebits.div_ceil(64) + 2).unwrap();
                assert_eq!(ctx.pow_secret(&b, &el, ebits), expect);
                assert_eq!(ctx.pow_secret(&b, &el, ebits + 77), expect);
            }
        }
    }

    #[test]
    fn random_limbs_respect_the_bit_bound() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(10);
        for bits in [1usize, 63, 64, 65, 1000] {
            let r = random_limbs(bits, &mut rng);
            assert!(from_limbs(&r).bits() as usize <= bits);
        }
    }
}
