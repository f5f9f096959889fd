//! Keys: secret, public (seeded), key-switching keys with the hybrid
//! (digit-decomposed, special-prime) gadget, relinearization and Galois keys.

use std::collections::BTreeMap;
use std::sync::Arc;

use rand::{CryptoRng, RngCore};
use zeroize::Zeroize;

use crate::ciphertext::Ciphertext;
use crate::params::Params;
use crate::poly::{Poly, Representation, RingContext};
use crate::sample::{self, Seed};
use crate::{Error, Result};

/// Domain-separation labels for seed expansion.
pub(crate) const DOMAIN_PK: &[u8] = b"rlwe/pk/a";
pub(crate) const DOMAIN_CT: &[u8] = b"rlwe/ct/a";

pub(crate) fn ksk_domain(digit: usize) -> Vec<u8> {
    let mut d = b"rlwe/ksk/a/".to_vec();
    d.extend_from_slice(&(digit as u64).to_le_bytes());
    d
}

/// A secret key `s` (ternary by default). Zeroized on drop; `Debug` does not
/// print it.
pub struct SecretKey {
    params: Arc<Params>,
    coeffs: Vec<i64>,
    /// `s` in NTT form over `Q ∪ P` (top level).
    ntt_qp: Poly,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretKey")
            .field("degree", &self.params.degree())
            .finish_non_exhaustive()
    }
}

impl Drop for SecretKey {
    fn drop(&mut self) {
        self.coeffs.zeroize();
        self.ntt_qp.zeroize();
    }
}

impl Clone for SecretKey {
    fn clone(&self) -> Self {
        Self {
            params: self.params.clone(),
            coeffs: self.coeffs.clone(),
            ntt_qp: self.ntt_qp.clone(),
        }
    }
}

impl SecretKey {
    /// A fresh uniform ternary secret.
    pub fn generate<R: RngCore + CryptoRng>(params: &Arc<Params>, rng: &mut R) -> Self {
        let coeffs = sample::ternary(params.degree(), rng);
        // A ternary vector of the right length is always accepted.
        Self::build(params, coeffs)
    }

    /// A secret from explicit coefficients (e.g. a sum of threshold shares).
    /// Coefficients must be small: `|c| < 2^40`.
    pub fn from_coeffs(params: &Arc<Params>, coeffs: Vec<i64>) -> Result<Self> {
        if coeffs.len() != params.degree() {
            let mut coeffs = coeffs;
            coeffs.zeroize();
            return Err(Error::Malformed {
                what: "secret key",
                reason: "coefficient count differs from the ring degree".into(),
            });
        }
        if coeffs.iter().any(|c| c.unsigned_abs() >= 1 << 40) {
            let mut coeffs = coeffs;
            coeffs.zeroize();
            return Err(Error::OutOfRange {
                what: "secret key coefficient",
            });
        }
        Ok(Self::build(params, coeffs))
    }

    fn build(params: &Arc<Params>, coeffs: Vec<i64>) -> Self {
        let ring = params.ring_qp_top();
        let mut ntt_qp = sample::small_poly(ring, &coeffs);
        ntt_qp.to_ntt();
        Self {
            params: params.clone(),
            coeffs,
            ntt_qp,
        }
    }

    /// The parameters.
    pub fn params(&self) -> &Arc<Params> {
        &self.params
    }

    /// The secret coefficients. Handle with care.
    pub fn coeffs(&self) -> &[i64] {
        &self.coeffs
    }

    /// `s` in NTT form over `Q ∪ P` at the top level.
    pub fn ntt_qp(&self) -> &Poly {
        &self.ntt_qp
    }

    /// `s` in NTT form over any ring whose moduli are among `Q ∪ P`.
    pub fn poly_at(&self, ctx: &Arc<RingContext>) -> Result<Poly> {
        self.ntt_qp.restrict_to(ctx)
    }

    /// Encrypts the polynomial `m` (over `Q_l`, any representation) under
    /// the secret key: `(−a·s + e + m, a)` with `a` expanded from a fresh
    /// seed, so the ciphertext serializes at half size.
    pub fn encrypt<R: RngCore + CryptoRng>(&self, m: &Poly, rng: &mut R) -> Result<Ciphertext> {
        let level = self.params.level_of(m.context())?;
        let ring = self.params.ring_q(level)?;
        let seed = sample::random_seed(rng);
        let a = sample::uniform_poly(
            ring,
            Representation::Ntt,
            &mut sample::expand_seed(&seed, DOMAIN_CT),
        );
        let mut c0 = sample::small_poly(ring, &sample::cbd(ring.degree(), rng));
        c0.to_ntt();
        let mut mm = m.clone();
        mm.to_ntt();
        c0.add_assign(&mm)?;
        let s = self.poly_at(ring)?;
        let mut as_ = Poly::mul(&a, &s)?;
        as_.neg_assign();
        c0.add_assign(&as_)?;
        Ciphertext::from_seeded_parts(&self.params, c0, a, seed)
    }

    /// `c_0 + c_1·s + c_2·s² + …` in coefficient representation over `Q_l`.
    pub fn decrypt(&self, ct: &Ciphertext) -> Result<Poly> {
        self.params
            .check_same(ct.params(), "ciphertext and secret key")?;
        let ring = self.params.ring_q(ct.level())?;
        let s = self.poly_at(ring)?;
        let parts = ct.parts();
        // Horner: ((c_k s + c_{k-1}) s + …) s + c_0
        let mut acc = parts[parts.len() - 1].clone();
        for c in parts[..parts.len() - 1].iter().rev() {
            acc.mul_assign(&s)?;
            acc.add_assign(c)?;
        }
        acc.to_coeff();
        Ok(acc)
    }
}

/// A public key `(b, a) = (−a·s + e, a)` over the top-level `Q ∪ P`, with
/// `a` stored as a seed.
///
/// Encryption works over `Q_l ∪ P` and divides by `P` with rounding (as
/// SEAL does when it has special primes): the fresh noise `u·e + e_0 +
/// e_1·s` shrinks to the rounding noise of the division.
#[derive(Clone)]
pub struct PublicKey {
    params: Arc<Params>,
    seed: Seed,
    b: Poly,
    a: Poly,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublicKey")
            .field("degree", &self.params.degree())
            .finish_non_exhaustive()
    }
}

impl PublicKey {
    /// A public key for `sk` with a fresh seed.
    pub fn generate<R: RngCore + CryptoRng>(sk: &SecretKey, rng: &mut R) -> Result<Self> {
        let seed = sample::random_seed(rng);
        Self::generate_with_seed(sk, &seed, rng)
    }

    /// A public key whose `a` is expanded from `seed` (a common reference
    /// string in multiparty key generation: then `b` is one party's share).
    pub fn generate_with_seed<R: RngCore + CryptoRng>(
        sk: &SecretKey,
        seed: &Seed,
        rng: &mut R,
    ) -> Result<Self> {
        let params = sk.params();
        let a = Self::expand_a(params, seed);
        let b = Self::share(sk, &a, rng)?;
        Ok(Self {
            params: params.clone(),
            seed: *seed,
            b,
            a,
        })
    }

    /// `−a·s + e` over the top-level `Q ∪ P` (one party's share when `s` is
    /// a share of the joint secret).
    pub fn share<R: RngCore + CryptoRng>(sk: &SecretKey, a: &Poly, rng: &mut R) -> Result<Poly> {
        let ring = sk.params().ring_qp_top();
        let mut b = sample::small_poly(ring, &sample::cbd(ring.degree(), rng));
        b.to_ntt();
        let mut as_ = Poly::mul(a, &sk.ntt_qp)?;
        as_.neg_assign();
        b.add_assign(&as_)?;
        Ok(b)
    }

    /// The uniform polynomial `a` (over the top-level `Q ∪ P`) for `seed`.
    pub fn expand_a(params: &Params, seed: &Seed) -> Poly {
        sample::uniform_poly(
            params.ring_qp_top(),
            Representation::Ntt,
            &mut sample::expand_seed(seed, DOMAIN_PK),
        )
    }

    /// A public key from its parts (`b` in NTT form over the top-level `Q ∪ P`).
    pub fn from_parts(params: &Arc<Params>, seed: Seed, b: Poly) -> Result<Self> {
        let ring = params.ring_qp_top();
        if !b.context().same_ring(ring) {
            return Err(Error::ParameterMismatch {
                what: "public key polynomial is not over the top-level Q ∪ P",
            });
        }
        let mut b = b;
        b.to_ntt();
        Ok(Self {
            params: params.clone(),
            seed,
            a: Self::expand_a(params, &seed),
            b,
        })
    }

    /// The parameters.
    pub fn params(&self) -> &Arc<Params> {
        &self.params
    }

    /// The seed of `a`.
    pub fn seed(&self) -> &Seed {
        &self.seed
    }

    /// `b = −a·s + e` (over `Q ∪ P`).
    pub fn b(&self) -> &Poly {
        &self.b
    }

    /// `a` (over `Q ∪ P`).
    pub fn a(&self) -> &Poly {
        &self.a
    }

    /// Encrypts `m` (over `Q_l`): `(u·b + e_0, u·a + e_1)` over `Q_l ∪ P`
    /// with ternary `u`, divided by `P` with rounding, plus `m`.
    ///
    /// The products `u·b`, `u·a` are formed in NTT form and brought back to
    /// coefficients, where the errors are added and the division by `P`
    /// needs no transform; a plaintext in coefficient form (BFV) is added
    /// there too, so the ciphertext costs one forward transform per limb of
    /// `Q_l` and part (23 transforms at N = 8192 with 4 + 1 primes, against
    /// 29 with the errors, the rounding and the plaintext in NTT form).
    pub fn encrypt<R: RngCore + CryptoRng>(&self, m: &Poly, rng: &mut R) -> Result<Ciphertext> {
        let level = self.params.level_of(m.context())?;
        let (mut c0, mut c1) = self.encrypt_zero_coeff(level, rng)?;
        if m.representation() == Representation::Coefficient {
            c0.add_assign(m)?;
            c0.to_ntt();
            c1.to_ntt();
        } else {
            c0.to_ntt();
            c1.to_ntt();
            c0.add_assign(m)?;
        }
        Ciphertext::new(&self.params, vec![c0, c1])
    }

    /// The two parts of an encryption of zero at `level` (NTT over `Q_l`).
    pub fn encrypt_zero_parts<R: RngCore + CryptoRng>(
        &self,
        level: usize,
        rng: &mut R,
    ) -> Result<(Poly, Poly)> {
        let (mut c0, mut c1) = self.encrypt_zero_coeff(level, rng)?;
        c0.to_ntt();
        c1.to_ntt();
        Ok((c0, c1))
    }

    /// An encryption of zero at `level` in coefficient form over `Q_l`.
    fn encrypt_zero_coeff<R: RngCore + CryptoRng>(
        &self,
        level: usize,
        rng: &mut R,
    ) -> Result<(Poly, Poly)> {
        let with_p = !self.params.p().is_empty();
        let ring = if with_p {
            self.params.ring_qp(level)?
        } else {
            self.params.ring_q(level)?
        };
        let n = ring.degree();
        let mut u = sample::small_poly(ring, &sample::ternary(n, rng));
        u.to_ntt();
        let (e0, e1) = (sample::cbd(n, rng), sample::cbd(n, rng));
        let mut c0 = Poly::mul(&u, on_ring(&self.b, ring)?.as_ref())?;
        let mut c1 = Poly::mul(&u, on_ring(&self.a, ring)?.as_ref())?;
        u.zeroize();
        c0.to_coeff();
        c1.to_coeff();
        c0.add_small_assign(&e0)?;
        c1.add_small_assign(&e1)?;
        if with_p {
            crate::ciphertext::mod_down_pair(&self.params, c0, c1, level)
        } else {
            Ok((c0, c1))
        }
    }
}

/// `k` over `ring`: borrowed when it is already there (the top level),
/// restricted (copied) otherwise.
fn on_ring<'a>(k: &'a Poly, ring: &Arc<RingContext>) -> Result<std::borrow::Cow<'a, Poly>> {
    Ok(if k.context().same_ring(ring) {
        std::borrow::Cow::Borrowed(k)
    } else {
        std::borrow::Cow::Owned(k.restrict_to(ring)?)
    })
}

/// A key-switching key from a secret `s'` to the secret `s`: for each digit
/// `j`, `(b_j, a_j)` over `Q ∪ P` with `b_j = −a_j·s + e_j + P·g_j·s'`, where
/// `g_j ≡ 1` on the primes of digit `j` and `≡ 0` on the other primes of `Q`.
#[derive(Clone)]
pub struct KeySwitchKey {
    params: Arc<Params>,
    /// The seed of the `a_j`, when they were expanded from one.
    seed: Option<Seed>,
    b: Vec<Poly>,
    a: Vec<Poly>,
}

impl std::fmt::Debug for KeySwitchKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySwitchKey")
            .field("digits", &self.b.len())
            .finish_non_exhaustive()
    }
}

impl KeySwitchKey {
    /// A key switching from `from` (the NTT form of `s'` over the top-level
    /// `Q ∪ P`) to `sk`, with a fresh seed.
    pub fn generate<R: RngCore + CryptoRng>(
        sk: &SecretKey,
        from: &Poly,
        rng: &mut R,
    ) -> Result<Self> {
        let seed = sample::random_seed(rng);
        Self::generate_with_seed(sk, from, &seed, rng)
    }

    /// As [`Self::generate`], with the `a_j` expanded from `seed`.
    pub fn generate_with_seed<R: RngCore + CryptoRng>(
        sk: &SecretKey,
        from: &Poly,
        seed: &Seed,
        rng: &mut R,
    ) -> Result<Self> {
        let params = sk.params();
        if params.p().is_empty() {
            return Err(Error::InvalidParameters {
                reason: "key switching needs special primes P".into(),
            });
        }
        let ring = params.ring_qp_top();
        if !from.context().same_ring(ring) || from.representation() != Representation::Ntt {
            return Err(Error::ParameterMismatch {
                what: "key-switching source secret must be in NTT form over the top-level Q ∪ P",
            });
        }
        let a = Self::expand_a(params, seed);
        let mut b = Vec::with_capacity(a.len());
        for a_j in &a {
            let mut e = sample::small_poly(ring, &sample::cbd(ring.degree(), rng));
            e.to_ntt();
            let mut as_ = Poly::mul(a_j, &sk.ntt_qp)?;
            as_.neg_assign();
            e.add_assign(&as_)?;
            b.push(e);
        }
        add_gadget(params, &mut b, from)?;
        Ok(Self {
            params: params.clone(),
            seed: Some(*seed),
            b,
            a,
        })
    }

    /// The `a_j` expanded from `seed`.
    pub fn expand_a(params: &Params, seed: &Seed) -> Vec<Poly> {
        let ring = params.ring_qp_top();
        (0..params.digits())
            .map(|j| {
                sample::uniform_poly(
                    ring,
                    Representation::Ntt,
                    &mut sample::expand_seed(seed, &ksk_domain(j)),
                )
            })
            .collect()
    }

    /// A key from its parts (the `b_j` in NTT form over the top-level `Q ∪ P`,
    /// the `a_j` expanded from `seed`).
    pub fn from_parts(params: &Arc<Params>, seed: Seed, b: Vec<Poly>) -> Result<Self> {
        check_key_polys(params, &b)?;
        Ok(Self {
            params: params.clone(),
            seed: Some(seed),
            a: Self::expand_a(params, &seed),
            b,
        })
    }

    /// A key from explicit `b_j` and `a_j` (e.g. the output of the two-round
    /// multiparty relinearization-key protocol, whose `a_j` are not uniform
    /// from a seed).
    pub fn from_parts_explicit(params: &Arc<Params>, b: Vec<Poly>, a: Vec<Poly>) -> Result<Self> {
        check_key_polys(params, &b)?;
        check_key_polys(params, &a)?;
        Ok(Self {
            params: params.clone(),
            seed: None,
            b,
            a,
        })
    }

    /// The parameters.
    pub fn params(&self) -> &Arc<Params> {
        &self.params
    }

    /// The seed of the `a_j`, when they come from one.
    pub fn seed(&self) -> Option<&Seed> {
        self.seed.as_ref()
    }

    /// The `b_j`.
    pub fn b(&self) -> &[Poly] {
        &self.b
    }

    /// The `a_j`.
    pub fn a(&self) -> &[Poly] {
        &self.a
    }
}

fn check_key_polys(params: &Params, polys: &[Poly]) -> Result<()> {
    let ring = params.ring_qp_top();
    if polys.len() != params.digits() {
        return Err(Error::Malformed {
            what: "key-switching key",
            reason: format!(
                "{} digits, parameters have {}",
                polys.len(),
                params.digits()
            ),
        });
    }
    if polys
        .iter()
        .any(|p| !p.context().same_ring(ring) || p.representation() != Representation::Ntt)
    {
        return Err(Error::ParameterMismatch {
            what: "key-switching key polynomials are not NTT over the top-level Q ∪ P",
        });
    }
    Ok(())
}

/// Adds the gadget term `P·g_j·s'` to each `b_j` (over the top-level `Q ∪ P`).
pub fn add_gadget(params: &Params, b: &mut [Poly], from: &Poly) -> Result<()> {
    let ring = params.ring_qp_top();
    if !from.context().same_ring(ring)
        || from.representation() != Representation::Ntt
        || b.len() != params.digits()
    {
        return Err(Error::ParameterMismatch {
            what: "gadget source must be NTT over the top-level Q ∪ P, one b_j per digit",
        });
    }
    let n = params.degree();
    for (bj, range) in b.iter_mut().zip(params.digit_ranges()) {
        for i in range.clone() {
            let m = ring.moduli()[i];
            let p_mod = params
                .p()
                .iter()
                .fold(1u64, |acc, &p| m.mul(acc, m.reduce(p)));
            let ps = m.shoup(p_mod);
            let src = &from.data()[i * n..(i + 1) * n];
            for (d, &s) in bj.limb_mut(i).iter_mut().zip(src) {
                *d = m.add(*d, m.mul_shoup(s, p_mod, ps));
            }
        }
    }
    Ok(())
}

/// A relinearization key: switches `s²` to `s`.
#[derive(Clone, Debug)]
pub struct RelinKey {
    ksk: KeySwitchKey,
}

impl RelinKey {
    /// A relinearization key for `sk`.
    pub fn generate<R: RngCore + CryptoRng>(sk: &SecretKey, rng: &mut R) -> Result<Self> {
        let mut s2 = Poly::mul(&sk.ntt_qp, &sk.ntt_qp)?;
        let ksk = KeySwitchKey::generate(sk, &s2, rng);
        s2.zeroize();
        Ok(Self { ksk: ksk? })
    }

    /// Wraps a key-switching key (e.g. from a multiparty protocol).
    pub fn from_key_switch_key(ksk: KeySwitchKey) -> Self {
        Self { ksk }
    }

    /// The underlying key-switching key.
    pub fn key(&self) -> &KeySwitchKey {
        &self.ksk
    }
}

/// The Galois element `5^step mod 2N` for a rotation by `step` slots
/// (negative steps rotate the other way).
pub fn galois_element_for_rotation(step: i64, degree: usize) -> usize {
    let two_n = 2 * degree as u64;
    let order = (degree / 2) as i64; // the order of 5 modulo 2N
    let e = step.rem_euclid(order) as u64;
    let mut g = 1u64;
    let mut base = 5u64;
    let mut e2 = e;
    while e2 > 0 {
        if e2 & 1 == 1 {
            g = g * base % two_n;
        }
        base = base * base % two_n;
        e2 >>= 1;
    }
    g as usize
}

/// The Galois element `2N − 1` (`X → X^{-1}`): row swap in BFV, complex
/// conjugation in CKKS.
pub fn galois_element_conjugate(degree: usize) -> usize {
    2 * degree - 1
}

/// A Galois key for the automorphism `X → X^k`: switches `σ_k(s)` to `s`.
#[derive(Clone, Debug)]
pub struct GaloisKey {
    element: usize,
    ksk: KeySwitchKey,
}

impl GaloisKey {
    /// A key for the odd Galois element `element`.
    pub fn generate<R: RngCore + CryptoRng>(
        sk: &SecretKey,
        element: usize,
        rng: &mut R,
    ) -> Result<Self> {
        let element = check_element(element, sk.params().degree())?;
        let mut from = sk.ntt_qp.automorphism(element)?;
        let ksk = KeySwitchKey::generate(sk, &from, rng);
        from.zeroize();
        Ok(Self { element, ksk: ksk? })
    }

    /// Wraps a key-switching key for `element`.
    pub fn from_key_switch_key(element: usize, ksk: KeySwitchKey) -> Result<Self> {
        let element = check_element(element, ksk.params().degree())?;
        Ok(Self { element, ksk })
    }

    /// The Galois element.
    pub fn element(&self) -> usize {
        self.element
    }

    /// The underlying key-switching key.
    pub fn key(&self) -> &KeySwitchKey {
        &self.ksk
    }
}

fn check_element(element: usize, degree: usize) -> Result<usize> {
    let e = element % (2 * degree);
    if e.is_multiple_of(2) {
        return Err(Error::OutOfRange {
            what: "Galois element must be odd",
        });
    }
    Ok(e)
}

/// A set of Galois keys, generated only for the elements asked for.
#[derive(Clone, Debug, Default)]
pub struct GaloisKeys {
    keys: BTreeMap<usize, GaloisKey>,
}

impl GaloisKeys {
    /// Keys for each Galois element in `elements`.
    pub fn generate<R: RngCore + CryptoRng>(
        sk: &SecretKey,
        elements: &[usize],
        rng: &mut R,
    ) -> Result<Self> {
        let mut keys = BTreeMap::new();
        for &e in elements {
            let k = GaloisKey::generate(sk, e, rng)?;
            keys.insert(k.element(), k);
        }
        Ok(Self { keys })
    }

    /// Adds a key.
    pub fn insert(&mut self, key: GaloisKey) {
        self.keys.insert(key.element(), key);
    }

    /// The key for `element`, or [`Error::MissingKey`].
    pub fn get(&self, element: usize) -> Result<&GaloisKey> {
        self.keys.get(&element).ok_or_else(|| Error::MissingKey {
            what: format!("Galois key for element {element}"),
        })
    }

    /// The elements present.
    pub fn elements(&self) -> impl Iterator<Item = usize> + '_ {
        self.keys.keys().copied()
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}
