//! Key generation, public and private keys, encryption and decryption.

use std::sync::Arc;

use num_bigint::{BigUint, RandBigInt};
use num_integer::Integer;
use num_prime::nt_funcs::is_prime;
use num_prime::RandPrime;
use num_traits::{One, Zero};
use rand_core::{CryptoRng, RngCore};
use zeroize::Zeroize;

use crate::ciphertext::Ciphertext;
use crate::error::{Error, Result};
use crate::mont::{from_limbs, limbs_of, to_limbs, Mont};

/// Smallest modulus accepted without the explicit insecure opt-out.
pub const MIN_SECURE_BITS: u64 = 2048;
/// Largest modulus this crate accepts (keys, deserialization).
pub const MAX_MODULUS_BITS: u64 = 8192;
/// Smallest modulus accepted even with the insecure opt-out.
pub const MIN_INSECURE_BITS: u64 = 64;

/// Modulus size for [`SecretKey::generate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bits {
    /// 2048-bit `n` (112-bit security).
    B2048,
    /// 3072-bit `n` (128-bit security).
    B3072,
    /// 4096-bit `n`.
    B4096,
    /// Any even size from 64 bits up, including sizes below 2048 that offer
    /// no security: the explicit opt-out for tests and demos. Sizes of 2048
    /// bits and more are accepted here too.
    Insecure(u32),
}

impl Bits {
    /// Modulus bit length.
    pub fn bits(self) -> u64 {
        match self {
            Bits::B2048 => 2048,
            Bits::B3072 => 3072,
            Bits::B4096 => 4096,
            Bits::Insecure(b) => b as u64,
        }
    }
}

/// Options for [`SecretKey::generate_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyGenOptions {
    /// Modulus size.
    pub bits: Bits,
    /// Use safe primes (`p = 2p' + 1`); much slower to generate.
    pub safe_primes: bool,
}

/// Generates a key pair with random primes of equal size.
#[deprecated(
    note = "use `SecretKey::generate(bits, rng)` and `sk.public_key()`, the shape of every hekit scheme"
)]
pub fn keypair<R: RngCore + CryptoRng>(bits: Bits, rng: &mut R) -> Result<(PublicKey, SecretKey)> {
    let sk = SecretKey::generate(bits, rng)?;
    Ok((sk.public_key().clone(), sk))
}

/// Generates a key pair with the given options.
#[deprecated(note = "use `SecretKey::generate_with(opts, rng)` and `sk.public_key()`")]
pub fn keypair_with<R: RngCore + CryptoRng>(
    opts: KeyGenOptions,
    rng: &mut R,
) -> Result<(PublicKey, SecretKey)> {
    let sk = SecretKey::generate_with(opts, rng)?;
    Ok((sk.public_key().clone(), sk))
}

/// The old name of [`SecretKey`] (every hekit scheme calls its decryption
/// key `SecretKey`).
#[deprecated(note = "renamed to `SecretKey`")]
pub type PrivateKey = SecretKey;

fn generate_with<R: RngCore + CryptoRng>(opts: KeyGenOptions, rng: &mut R) -> Result<SecretKey> {
    let bits = opts.bits.bits();
    let insecure_ok = matches!(opts.bits, Bits::Insecure(_));
    check_size(bits, insecure_ok)?;
    if !bits.is_multiple_of(2) {
        return Err(Error::InsecureKeySize { bits });
    }
    let half = bits / 2;
    loop {
        let p = gen_prime(half, opts.safe_primes, rng);
        let q = gen_prime(half, opts.safe_primes, rng);
        if p == q {
            continue;
        }
        let n = &p * &q;
        if n.bits() != bits {
            continue;
        }
        match SecretKey::build(p, q, insecure_ok, false) {
            Ok(sk) => return Ok(sk),
            Err(Error::InvalidKey { .. }) => continue,
            Err(e) => return Err(e),
        }
    }
}

fn check_size(bits: u64, insecure_ok: bool) -> Result<()> {
    if !(MIN_INSECURE_BITS..=MAX_MODULUS_BITS).contains(&bits)
        || (bits < MIN_SECURE_BITS && !insecure_ok)
    {
        return Err(Error::InsecureKeySize { bits });
    }
    Ok(())
}

const SMALL_PRIMES: [u32; 54] = [
    3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97,
    101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167, 173, 179, 181, 191, 193,
    197, 199, 211, 223, 227, 229, 233, 239, 241, 251, 257,
];

fn has_small_factor(x: &BigUint) -> bool {
    SMALL_PRIMES
        .iter()
        .any(|&sp| x != &BigUint::from(sp) && (x % sp).is_zero())
}

fn gen_prime<R: RngCore + CryptoRng>(bits: u64, safe: bool, rng: &mut R) -> BigUint {
    if safe {
        loop {
            let p: BigUint = rng.gen_safe_prime_exact(bits as usize);
            if p.bits() == bits && p.bit(bits - 2) {
                return p;
            }
        }
    }
    loop {
        let mut t = rng.gen_biguint(bits);
        t.set_bit(bits - 1, true);
        t.set_bit(bits - 2, true);
        t.set_bit(0, true);
        if has_small_factor(&t) {
            continue;
        }
        if is_prime(&t, None).probably() {
            return t;
        }
    }
}

/// Fingerprint of a modulus: 64 bits of a cheap keyed mixing of its limbs,
/// used to tag serialized ciphertexts with their key (not a security
/// mechanism; the modulus itself is compared when both objects are local).
pub(crate) fn fingerprint(n: &BigUint) -> u64 {
    let mut h: u64 = 0x9e37_79b9_7f4a_7c15;
    for w in n.to_u64_digits() {
        h ^= w;
        h = h.wrapping_mul(0x100_0000_01b3).rotate_left(29) ^ (h >> 31);
        h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    }
    h ^ (h >> 33)
}

pub(crate) struct PkInner {
    pub(crate) n: BigUint,
    pub(crate) nn: BigUint,
    pub(crate) max_int: BigUint,
    pub(crate) mont_nn: Mont,
    pub(crate) fingerprint: u64,
    /// AVX-512 IFMA context modulo `n^2` (when the CPU has IFMA).
    #[cfg(target_arch = "x86_64")]
    pub(crate) x1: Option<crate::ifma_x2::X1Modulus>,
}

/// A Paillier public key (`n`, with `g = n + 1`). Cheap to clone (shared).
#[derive(Clone)]
pub struct PublicKey {
    pub(crate) inner: Arc<PkInner>,
}

impl core::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PublicKey")
            .field("bits", &self.bits())
            .field(
                "fingerprint",
                &format_args!("{:016x}", self.inner.fingerprint),
            )
            .finish()
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner) || self.inner.n == other.inner.n
    }
}
impl Eq for PublicKey {}

impl PublicKey {
    /// Public key from a modulus made elsewhere (e.g. python-paillier).
    ///
    /// # Errors
    /// [`Error::InsecureKeySize`] below 2048 bits (see
    /// [`Self::from_n_insecure`]) or above 8192; [`Error::InvalidKey`] for
    /// an even modulus or one with a small factor.
    pub fn from_n(n: BigUint) -> Result<Self> {
        Self::new_checked(n, false)
    }

    /// As [`Self::from_n`] but accepts moduli from 64 bits: the explicit
    /// insecure opt-out, for tests and demonstrations.
    ///
    /// # Errors
    /// As [`Self::from_n`] except for the lower size bound.
    pub fn from_n_insecure(n: BigUint) -> Result<Self> {
        Self::new_checked(n, true)
    }

    pub(crate) fn new_checked(n: BigUint, insecure_ok: bool) -> Result<Self> {
        check_size(n.bits(), insecure_ok)?;
        if !n.bit(0) {
            return Err(Error::InvalidKey {
                reason: "modulus is even",
            });
        }
        if has_small_factor(&n) {
            return Err(Error::InvalidKey {
                reason: "modulus has a small factor",
            });
        }
        let nn = &n * &n;
        let mont_nn = Mont::new(&nn).ok_or(Error::InvalidKey { reason: "modulus" })?;
        // python-paillier's bound (`n // 3 - 1`), so that every value either
        // library encrypts, the other decrypts.
        let max_int = &n / 3u32 - 1u32;
        let fingerprint = fingerprint(&n);
        #[cfg(target_arch = "x86_64")]
        let x1 = if crate::ifma::available() {
            crate::ifma_x2::X1Modulus::new([&nn])
        } else {
            None
        };
        Ok(PublicKey {
            inner: Arc::new(PkInner {
                n,
                nn,
                max_int,
                mont_nn,
                fingerprint,
                #[cfg(target_arch = "x86_64")]
                x1,
            }),
        })
    }

    /// The modulus `n`.
    pub fn n(&self) -> &BigUint {
        &self.inner.n
    }

    /// `n^2`.
    pub fn n_squared(&self) -> &BigUint {
        &self.inner.nn
    }

    /// Bit length of `n`.
    pub fn bits(&self) -> u64 {
        self.inner.n.bits()
    }

    /// Largest magnitude of a signed value the encodings accept:
    /// `n / 3 - 1`, python-paillier's `max_int`. Values decrypting into `(max_int, n - max_int)` are
    /// reported as [`Error::Overflow`].
    pub fn max_int(&self) -> &BigUint {
        &self.inner.max_int
    }

    /// A 64-bit tag identifying this key in serialized ciphertexts.
    pub fn fingerprint(&self) -> u64 {
        self.inner.fingerprint
    }

    pub(crate) fn check_plaintext(&self, m: &BigUint) -> Result<()> {
        if m >= &self.inner.n {
            return Err(Error::PlaintextOutOfRange {
                n_bits: self.bits(),
            });
        }
        Ok(())
    }

    /// `base^exp mod n^2` for a public exponent (IFMA when available, else
    /// the portable sliding-window path).
    pub(crate) fn pow_nn(&self, base: &BigUint, exp: &BigUint) -> BigUint {
        #[cfg(target_arch = "x86_64")]
        if let Some(x1) = self.inner.x1.as_ref() {
            let b = crate::ifma::to_limbs52(&(base % &self.inner.nn), x1.limbs());
            let e = exp.to_u64_digits();
            if let Some(b) = b {
                if let Some([r]) = x1.pow([&b], [&e], exp.bits() as usize) {
                    return crate::ifma::from_limbs52(&r);
                }
            }
        }
        self.inner.mont_nn.modpow_vartime(base, exp)
    }

    /// A uniformly random unit `r` of `Z_n`.
    pub fn random_r<R: RngCore + CryptoRng>(&self, rng: &mut R) -> BigUint {
        loop {
            let r = rng.gen_biguint_below(&self.inner.n);
            if !r.is_zero() && r.gcd(&self.inner.n).is_one() {
                return r;
            }
        }
    }

    /// `(1 + m n) * u mod n^2`, computed as `u + n * (m * u mod n)`.
    pub(crate) fn apply_message(&self, m: &BigUint, u: &BigUint) -> BigUint {
        let n = &self.inner.n;
        if m.is_zero() {
            return u.clone();
        }
        let t = (m * (u % n)) % n;
        (u + n * t) % &self.inner.nn
    }

    /// Encrypts `m ∈ [0, n)`: `c = (1 + m n) r^n mod n^2` with fresh `r`.
    ///
    /// # Errors
    /// [`Error::PlaintextOutOfRange`] if `m >= n`.
    pub fn encrypt<R: RngCore + CryptoRng>(&self, m: &BigUint, rng: &mut R) -> Result<Ciphertext> {
        self.check_plaintext(m)?;
        let mut r = self.random_r(rng);
        let c = self.encrypt_with_r(m, &r);
        r.zeroize_biguint();
        c
    }

    /// Deterministic encryption with caller-supplied randomness `r`
    /// (a unit of `Z_n`): for tests and interoperability. Never reuse `r`.
    ///
    /// # Errors
    /// [`Error::PlaintextOutOfRange`] if `m >= n`; [`Error::InvalidParameter`]
    /// if `r` is not in `[1, n)` or shares a factor with `n`.
    pub fn encrypt_with_r(&self, m: &BigUint, r: &BigUint) -> Result<Ciphertext> {
        self.check_plaintext(m)?;
        let n = &self.inner.n;
        if r.is_zero() || r >= n || !r.gcd(n).is_one() {
            return Err(Error::InvalidParameter {
                reason: "r must be a unit of Z_n",
            });
        }
        let u = self.pow_nn(r, n);
        Ok(Ciphertext::new_unchecked(
            self.apply_message(m, &u),
            self.clone(),
        ))
    }

    /// Checks `c` is a valid ciphertext under this key (`c ∈ [1, n^2)`,
    /// `gcd(c, n) = 1`) and wraps it.
    ///
    /// # Errors
    /// [`Error::InvalidCiphertext`] naming the failed check.
    pub fn ciphertext(&self, c: BigUint) -> Result<Ciphertext> {
        if c.is_zero() {
            return Err(Error::InvalidCiphertext {
                reason: "ciphertext is zero",
            });
        }
        if c >= self.inner.nn {
            return Err(Error::InvalidCiphertext {
                reason: "ciphertext is not below n^2",
            });
        }
        if !c.gcd(&self.inner.n).is_one() {
            return Err(Error::InvalidCiphertext {
                reason: "ciphertext shares a factor with n",
            });
        }
        Ok(Ciphertext::new_unchecked(c, self.clone()))
    }
}

/// Best-effort wiping of a temporary `BigUint` (its limbs cannot be reached
/// in place: we overwrite by zero-valued assignment after shrinking).
pub(crate) trait ZeroizeBigUint {
    fn zeroize_biguint(&mut self);
}
impl ZeroizeBigUint for BigUint {
    fn zeroize_biguint(&mut self) {
        // Assigning through `Zero::set_zero` clears the digit vector's
        // length; the capacity is then released. num-bigint offers no
        // in-place wipe, so this is best effort for short-lived values.
        self.set_zero();
    }
}

/// Secret limbs, wiped on drop.
#[derive(Clone)]
pub(crate) struct Secret(pub(crate) Vec<u64>);
impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// Per-prime CRT data (for prime `p`; the same for `q`).
pub(crate) struct Half {
    /// The prime.
    pub(crate) prime: Secret,
    pub(crate) prime_bits: usize,
    /// `p - 1` (decryption exponent).
    pub(crate) pm1: Secret,
    pub(crate) pm1_bits: usize,
    /// `h_p = L_p(g^{p-1} mod p^2)^{-1} mod p = (-q)^{-1} mod p`.
    pub(crate) h: Secret,
    /// Montgomery context modulo `p^2` (limb count shared by both halves,
    /// large enough that `n^2 < p^2 R`).
    pub(crate) mont_sq: Mont,
}

pub(crate) struct SkInner {
    pub(crate) p: Half,
    pub(crate) q: Half,
    /// `p^{-1} mod q`.
    pub(crate) p_inv_q: Secret,
    /// `(p^2)^{-1} mod q^2` (CRT encryption).
    pub(crate) p2_inv_q2: Secret,
    /// Common limb count of the `p^2`, `q^2` contexts.
    pub(crate) k: usize,
    /// 8-lane IFMA contexts: lanes 0..4 modulo `p^2`, lanes 4..8 modulo
    /// `q^2` (present when the CPU has AVX-512 IFMA).
    #[cfg(target_arch = "x86_64")]
    pub(crate) mb8: Option<crate::ifma::Mb8Moduli>,
    /// Single-value IFMA context for (`p^2`, `q^2`).
    #[cfg(target_arch = "x86_64")]
    pub(crate) x2: Option<crate::ifma_x2::X2Moduli>,
}

/// A Paillier private key: the primes and every CRT constant decryption
/// needs, precomputed. Secret limbs are wiped on drop; `Debug` prints only
/// public data.
pub struct SecretKey {
    pub(crate) pk: PublicKey,
    pub(crate) s: Box<SkInner>,
}

impl core::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SecretKey")
            .field("public", &self.pk)
            .finish_non_exhaustive()
    }
}

impl SecretKey {
    /// Generates a key with random primes of equal size (see
    /// [`Self::generate_with`]); the public key is [`Self::public_key`].
    ///
    /// ```
    /// let mut rng = paillier::rng();
    /// let sk = paillier::SecretKey::generate(paillier::Bits::B2048, &mut rng)?;
    /// let pk = sk.public_key();
    /// let c = pk.encrypt_i64(-7, &mut rng)?;
    /// assert_eq!(sk.decrypt_i64(&c)?, -7);
    /// # Ok::<(), paillier::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InsecureKeySize`] for an odd size, a size outside
    /// `[64, 8192]`, or a size below 2048 bits not requested through
    /// [`Bits::Insecure`].
    pub fn generate<R: RngCore + CryptoRng>(bits: Bits, rng: &mut R) -> Result<Self> {
        generate_with(
            KeyGenOptions {
                bits,
                safe_primes: false,
            },
            rng,
        )
    }

    /// Generates a key: `p` and `q` distinct primes of exactly `bits / 2`
    /// bits each (top two bits set so `n` has exactly `bits` bits), with
    /// `gcd(n, φ(n)) = 1`; `g = n + 1`; safe primes on request.
    ///
    /// # Errors
    /// As [`Self::generate`].
    pub fn generate_with<R: RngCore + CryptoRng>(opts: KeyGenOptions, rng: &mut R) -> Result<Self> {
        generate_with(opts, rng)
    }

    /// Private key from known primes (e.g. a python-paillier key).
    ///
    /// # Errors
    /// [`Error::InvalidKey`] if `p` or `q` is not a probable prime, `p = q`,
    /// or `gcd(n, φ(n)) ≠ 1`; [`Error::InsecureKeySize`] if `n` has fewer than
    /// 2048 bits (see [`Self::from_primes_insecure`]).
    pub fn from_primes(p: BigUint, q: BigUint) -> Result<Self> {
        Self::build(p, q, false, true)
    }

    /// As [`Self::from_primes`] but accepts moduli from 64 bits: the
    /// explicit insecure opt-out, for tests and demonstrations.
    ///
    /// # Errors
    /// As [`Self::from_primes`] except for the lower size bound.
    pub fn from_primes_insecure(p: BigUint, q: BigUint) -> Result<Self> {
        Self::build(p, q, true, true)
    }

    pub(crate) fn build(
        mut p: BigUint,
        mut q: BigUint,
        insecure_ok: bool,
        test_primes: bool,
    ) -> Result<Self> {
        let two = BigUint::from(2u32);
        if p <= two || q <= two {
            return Err(Error::InvalidKey {
                reason: "primes must be odd primes",
            });
        }
        if p == q {
            return Err(Error::InvalidKey {
                reason: "p and q must be distinct",
            });
        }
        let n = &p * &q;
        check_size(n.bits(), insecure_ok)?;
        if !p.bit(0) || !q.bit(0) {
            return Err(Error::InvalidKey {
                reason: "primes must be odd primes",
            });
        }
        if test_primes && !(is_prime(&p, None).probably() && is_prime(&q, None).probably()) {
            return Err(Error::InvalidKey {
                reason: "p or q is not prime",
            });
        }
        let pm1 = &p - 1u32;
        let qm1 = &q - 1u32;
        let phi = &pm1 * &qm1;
        if !n.gcd(&phi).is_one() {
            return Err(Error::InvalidKey {
                reason: "gcd(n, phi(n)) != 1",
            });
        }
        let pk = PublicKey::new_checked(n, insecure_ok)?;
        let p2 = &p * &p;
        let q2 = &q * &q;
        let k = limbs_of(&p2).max(limbs_of(&q2));
        let bad = Error::InvalidKey {
            reason: "inconsistent primes",
        };
        let hp = (&p - (&q % &p)).modinv(&p).ok_or(bad.clone())?;
        let hq = (&q - (&p % &q)).modinv(&q).ok_or(bad.clone())?;
        let p_inv_q = (&p % &q).modinv(&q).ok_or(bad.clone())?;
        let p2_inv_q2 = (&p2 % &q2).modinv(&q2).ok_or(bad.clone())?;
        let mk_half = |prime: &BigUint, pm1: &BigUint, h: &BigUint, sq: &BigUint| -> Result<Half> {
            let pl = limbs_of(prime);
            Ok(Half {
                prime: Secret(to_limbs(prime, pl).ok_or(bad.clone())?),
                prime_bits: prime.bits() as usize,
                pm1: Secret(to_limbs(pm1, pl).ok_or(bad.clone())?),
                pm1_bits: pm1.bits() as usize,
                h: Secret(to_limbs(h, pl).ok_or(bad.clone())?),
                mont_sq: Mont::with_limbs(sq, k).ok_or(bad.clone())?,
            })
        };
        let s = SkInner {
            p: mk_half(&p, &pm1, &hp, &p2)?,
            q: mk_half(&q, &qm1, &hq, &q2)?,
            p_inv_q: Secret(to_limbs(&p_inv_q, limbs_of(&q)).ok_or(bad.clone())?),
            p2_inv_q2: Secret(to_limbs(&p2_inv_q2, k).ok_or(bad)?),
            k,
            #[cfg(target_arch = "x86_64")]
            mb8: if crate::ifma::available() {
                crate::ifma::Mb8Moduli::new([&p2, &p2, &p2, &p2, &q2, &q2, &q2, &q2])
            } else {
                None
            },
            #[cfg(target_arch = "x86_64")]
            x2: if crate::ifma::available() {
                crate::ifma_x2::X2Moduli::new([&p2, &q2])
            } else {
                None
            },
        };
        p.zeroize_biguint();
        q.zeroize_biguint();
        Ok(SecretKey { pk, s: Box::new(s) })
    }

    /// The matching public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.pk
    }

    /// The primes `(p, q)` (secret: handle with care).
    pub fn primes(&self) -> (BigUint, BigUint) {
        (from_limbs(&self.s.p.prime.0), from_limbs(&self.s.q.prime.0))
    }

    pub(crate) fn check_key(&self, ct: &Ciphertext) -> Result<()> {
        if ct.public_key() != &self.pk {
            return Err(Error::KeyMismatch);
        }
        Ok(())
    }

    /// Decrypts to the raw plaintext in `[0, n)` (CRT: one constant-time
    /// exponentiation modulo `p^2` and one modulo `q^2`).
    ///
    /// # Errors
    /// [`Error::KeyMismatch`] if the ciphertext belongs to another key.
    pub fn decrypt(&self, ct: &Ciphertext) -> Result<BigUint> {
        self.check_key(ct)?;
        #[cfg(target_arch = "x86_64")]
        if let Some(r) = self.decrypt_x2(ct) {
            return r;
        }
        self.decrypt_portable(ct)
    }

    /// One ciphertext with the single-value IFMA path (both CRT halves
    /// interleaved): `None` if IFMA is unavailable.
    #[cfg(target_arch = "x86_64")]
    pub(crate) fn decrypt_x2(&self, ct: &Ciphertext) -> Option<Result<BigUint>> {
        use crate::ifma::{from_limbs52, to_limbs52};
        let x2 = self.s.x2.as_ref()?;
        let k = self.s.k;
        let kk = x2.limbs();
        let mut cl = to_limbs(ct.value(), 2 * k)?;
        let mut bases: [Vec<u64>; 2] = Default::default();
        for (b, half) in bases.iter_mut().zip([&self.s.p, &self.s.q]) {
            let x = half.mont_sq.enter_mont_wide(&cl);
            let mut plain = from_limbs(&half.mont_sq.leave_mont(&x));
            *b = to_limbs52(&plain, kk)?;
            plain.zeroize_biguint();
        }
        cl.zeroize();
        let bits = self.s.p.pm1_bits.max(self.s.q.pm1_bits);
        let mut out = x2.pow(
            [&bases[0], &bases[1]],
            [&self.s.p.pm1.0, &self.s.q.pm1.0],
            bits,
        )?;
        for b in bases.iter_mut() {
            b.zeroize();
        }
        let mut zp = from_limbs52(&out[0]);
        let mut zq = from_limbs52(&out[1]);
        let m = self.finish_decrypt(&zp, &zq);
        zp.zeroize_biguint();
        zq.zeroize_biguint();
        for o in out.iter_mut() {
            o.zeroize();
        }
        Some(m)
    }

    /// Decryption with the portable 64-bit Montgomery core only (what
    /// [`Self::decrypt`] uses on CPUs without AVX-512 IFMA).
    ///
    /// # Errors
    /// [`Error::KeyMismatch`] if the ciphertext belongs to another key.
    pub fn decrypt_portable(&self, ct: &Ciphertext) -> Result<BigUint> {
        self.check_key(ct)?;
        let k = self.s.k;
        let mut cl = to_limbs(ct.value(), 2 * k).ok_or(Error::InvalidCiphertext {
            reason: "too large",
        })?;
        let xp = self.s.p.mont_sq.enter_mont_wide(&cl);
        let xq = self.s.q.mont_sq.enter_mont_wide(&cl);
        cl.zeroize();
        let yp = self
            .s
            .p
            .mont_sq
            .pow_ct(&xp, &self.s.p.pm1.0, self.s.p.pm1_bits);
        let yq = self
            .s
            .q
            .mont_sq
            .pow_ct(&xq, &self.s.q.pm1.0, self.s.q.pm1_bits);
        let mut zp = from_limbs(&self.s.p.mont_sq.leave_mont(&yp));
        let mut zq = from_limbs(&self.s.q.mont_sq.leave_mont(&yq));
        let m = self.finish_decrypt(&zp, &zq);
        zp.zeroize_biguint();
        zq.zeroize_biguint();
        m
    }

    /// Up to 4 ciphertexts (already key-checked) in one 8-lane IFMA
    /// exponentiation: `None` if IFMA is unavailable.
    #[cfg(target_arch = "x86_64")]
    pub(crate) fn decrypt_mb8(&self, g: &[Ciphertext]) -> Option<Result<Vec<BigUint>>> {
        use crate::ifma::{to_limbs52, LANES};
        let mb = self.s.mb8.as_ref()?;
        if g.is_empty() || g.len() > LANES / 2 {
            return None;
        }
        let k = self.s.k;
        let k52 = mb.limbs();
        let (pe, qe) = (&self.s.p.pm1.0[..], &self.s.q.pm1.0[..]);
        let exps: [&[u64]; LANES] = [pe, pe, pe, pe, qe, qe, qe, qe];
        let bits = self.s.p.pm1_bits.max(self.s.q.pm1_bits);
        // The column kernels take the ciphertexts as they are (2k limbs,
        // reduced modulo p^2 and q^2 inside the IFMA run).
        let mut wide: [Vec<u64>; LANES] = core::array::from_fn(|_| {
            let mut one = vec![0u64; 2 * k52];
            one[0] = 1;
            one
        });
        for (i, ct) in g.iter().enumerate() {
            let c = to_limbs52(ct.value(), 2 * k52)?;
            wide[i + LANES / 2].clone_from(&c);
            wide[i] = c;
        }
        let out = mb.pow_wide(&wide, &exps, bits);
        for b in wide.iter_mut() {
            b.zeroize();
        }
        if let Some(out) = out {
            return Some(self.finish_mb8(g.len(), out));
        }
        let mut one = vec![0u64; k52];
        one[0] = 1;
        let mut bases: [Vec<u64>; LANES] = core::array::from_fn(|_| one.clone());
        for (i, ct) in g.iter().enumerate() {
            let mut cl = to_limbs(ct.value(), 2 * k)?;
            for (lane, half) in [(i, &self.s.p), (i + LANES / 2, &self.s.q)] {
                let x = half.mont_sq.enter_mont_wide(&cl);
                let mut plain = from_limbs(&half.mont_sq.leave_mont(&x));
                bases[lane] = to_limbs52(&plain, k52)?;
                plain.zeroize_biguint();
            }
            cl.zeroize();
        }
        let out = mb.pow(&bases, &exps, bits)?;
        for b in bases.iter_mut() {
            b.zeroize();
        }
        Some(self.finish_mb8(g.len(), out))
    }

    /// Results of an 8-lane run (`c^{p-1} mod p^2` in lane `i`,
    /// `c^{q-1} mod q^2` in lane `i + 4`) to plaintexts.
    #[cfg(target_arch = "x86_64")]
    fn finish_mb8(&self, count: usize, mut out: [Vec<u64>; 8]) -> Result<Vec<BigUint>> {
        use crate::ifma::{from_limbs52, LANES};
        let res = (0..count)
            .map(|i| {
                let mut zp = from_limbs52(&out[i]);
                let mut zq = from_limbs52(&out[i + LANES / 2]);
                let m = self.finish_decrypt(&zp, &zq);
                zp.zeroize_biguint();
                zq.zeroize_biguint();
                m
            })
            .collect();
        for o in out.iter_mut() {
            o.zeroize();
        }
        res
    }

    /// From `c^{p-1} mod p^2` and `c^{q-1} mod q^2` to `m`.
    pub(crate) fn finish_decrypt(&self, zp: &BigUint, zq: &BigUint) -> Result<BigUint> {
        let mut p = from_limbs(&self.s.p.prime.0);
        let mut q = from_limbs(&self.s.q.prime.0);
        let mut mp = l_times_h(zp, &p, &self.s.p.h.0)?;
        let mut mq = l_times_h(zq, &q, &self.s.q.h.0)?;
        let mut pinv = from_limbs(&self.s.p_inv_q.0);
        // m = m_p + p * ((m_q - m_p) p^{-1} mod q)
        let mut diff = (&mq + &q - (&mp % &q)) % &q;
        let mut t = (&diff * &pinv) % &q;
        let m = &mp + &p * &t;
        for x in [
            &mut p, &mut q, &mut mp, &mut mq, &mut pinv, &mut diff, &mut t,
        ] {
            x.zeroize_biguint();
        }
        Ok(m)
    }

    /// Encryption by the key owner via CRT: `r^n mod p^2` is replaced by
    /// `x_p^p mod p^2` for a fresh uniform `x_p ∈ [1, p)` (and likewise for
    /// `q`). Because `gcd(n, φ(n)) = 1`, `r ↦ r^n mod p^2` maps `Z_n^*`
    /// uniformly onto the order-`(p-1)` subgroup of `Z_{p^2}^*`, which
    /// `x ↦ x^p` also covers uniformly; the ciphertext distribution is
    /// exactly that of [`PublicKey::encrypt`], at about the cost of one
    /// decryption.
    ///
    /// # Errors
    /// [`Error::PlaintextOutOfRange`] if `m >= n`.
    pub fn encrypt_crt<R: RngCore + CryptoRng>(
        &self,
        m: &BigUint,
        rng: &mut R,
    ) -> Result<Ciphertext> {
        self.pk.check_plaintext(m)?;
        #[cfg(target_arch = "x86_64")]
        let noise = self.crt_noise_x2(rng);
        #[cfg(not(target_arch = "x86_64"))]
        let noise: Option<(BigUint, BigUint)> = None;
        let (mut up, mut uq) = match noise {
            Some(pair) => pair,
            None => (crt_noise(&self.s.p, rng)?, crt_noise(&self.s.q, rng)?),
        };
        let mut u = self.crt_combine(&up, &uq);
        let c = self.pk.apply_message(m, &u);
        for x in [&mut u, &mut up, &mut uq] {
            x.zeroize_biguint();
        }
        Ok(Ciphertext::new_unchecked(c, self.pk.clone()))
    }

    /// CRT encryption of up to 4 plaintexts; three or four share one 8-lane
    /// IFMA exponentiation (`x_p^p` in lanes 0..4, `x_q^q` in lanes 4..8).
    pub(crate) fn encrypt_crt_group<R: RngCore + CryptoRng>(
        &self,
        ms: &[BigUint],
        rng: &mut R,
    ) -> Result<Vec<Ciphertext>> {
        for m in ms {
            self.pk.check_plaintext(m)?;
        }
        #[cfg(target_arch = "x86_64")]
        if ms.len() >= 3 && ms.len() <= 4 {
            if let Some(noise) = self.crt_noise_mb8(ms.len(), rng) {
                return Ok(ms
                    .iter()
                    .zip(noise)
                    .map(|(m, (mut up, mut uq))| {
                        let mut u = self.crt_combine(&up, &uq);
                        let c = self.pk.apply_message(m, &u);
                        for x in [&mut u, &mut up, &mut uq] {
                            x.zeroize_biguint();
                        }
                        Ciphertext::new_unchecked(c, self.pk.clone())
                    })
                    .collect());
            }
        }
        ms.iter().map(|m| self.encrypt_crt(m, rng)).collect()
    }

    /// `count` (≤ 4) pairs `(x_p^p mod p^2, x_q^q mod q^2)` in one 8-lane run.
    #[cfg(target_arch = "x86_64")]
    fn crt_noise_mb8<R: RngCore + CryptoRng>(
        &self,
        count: usize,
        rng: &mut R,
    ) -> Option<Vec<(BigUint, BigUint)>> {
        use crate::ifma::{from_limbs52, to_limbs52, LANES};
        let mb = self.s.mb8.as_ref()?;
        let k52 = mb.limbs();
        let one = BigUint::one();
        let mut bases: [Vec<u64>; LANES] = core::array::from_fn(|_| Vec::new());
        for (lane, base) in bases.iter_mut().enumerate() {
            let half = if lane < LANES / 2 {
                &self.s.p
            } else {
                &self.s.q
            };
            let mut prime = from_limbs(&half.prime.0);
            let mut x = rng.gen_biguint_range(&one, &prime);
            *base = to_limbs52(&x, k52)?;
            x.zeroize_biguint();
            prime.zeroize_biguint();
        }
        let (pe, qe) = (&self.s.p.prime.0[..], &self.s.q.prime.0[..]);
        let exps: [&[u64]; LANES] = [pe, pe, pe, pe, qe, qe, qe, qe];
        let bits = self.s.p.prime_bits.max(self.s.q.prime_bits);
        let mut out = mb.pow(&bases, &exps, bits)?;
        for b in bases.iter_mut() {
            b.zeroize();
        }
        let r = (0..count)
            .map(|i| (from_limbs52(&out[i]), from_limbs52(&out[i + LANES / 2])))
            .collect();
        for o in out.iter_mut() {
            o.zeroize();
        }
        Some(r)
    }

    /// `(x_p^p mod p^2, x_q^q mod q^2)` with the single-value IFMA path.
    #[cfg(target_arch = "x86_64")]
    fn crt_noise_x2<R: RngCore + CryptoRng>(&self, rng: &mut R) -> Option<(BigUint, BigUint)> {
        use crate::ifma::{from_limbs52, to_limbs52};
        let x2 = self.s.x2.as_ref()?;
        let kk = x2.limbs();
        let one = BigUint::one();
        let mut bases: [Vec<u64>; 2] = Default::default();
        for (b, half) in bases.iter_mut().zip([&self.s.p, &self.s.q]) {
            let mut prime = from_limbs(&half.prime.0);
            let mut x = rng.gen_biguint_range(&one, &prime);
            *b = to_limbs52(&x, kk)?;
            x.zeroize_biguint();
            prime.zeroize_biguint();
        }
        let bits = self.s.p.prime_bits.max(self.s.q.prime_bits);
        let mut out = x2.pow(
            [&bases[0], &bases[1]],
            [&self.s.p.prime.0, &self.s.q.prime.0],
            bits,
        )?;
        for b in bases.iter_mut() {
            b.zeroize();
        }
        let r = (from_limbs52(&out[0]), from_limbs52(&out[1]));
        for o in out.iter_mut() {
            o.zeroize();
        }
        Some(r)
    }

    /// Combines residues mod `p^2`, `q^2` into the residue mod `n^2`.
    fn crt_combine(&self, up: &BigUint, uq: &BigUint) -> BigUint {
        let p2 = self.s.p.mont_sq.modulus();
        let q2 = self.s.q.mont_sq.modulus();
        let inv = from_limbs(&self.s.p2_inv_q2.0);
        let d = (uq + q2 - (up % q2)) % q2;
        let t = (&d * &inv) % q2;
        up + p2 * t
    }
}

/// `x_p^p mod p^2` for fresh uniform `x_p ∈ [1, p)`, constant-time exponent.
fn crt_noise<R: RngCore + CryptoRng>(h: &Half, rng: &mut R) -> Result<BigUint> {
    let p = from_limbs(&h.prime.0);
    let one = BigUint::one();
    let mut x = rng.gen_biguint_range(&one, &p);
    let k = h.mont_sq.limbs();
    let mut xl = to_limbs(&x, k).ok_or(Error::InvalidKey { reason: "limbs" })?;
    let mut xm = vec![0u64; k];
    let mut t = h.mont_sq.scratch();
    h.mont_sq.mul(&xl, h.mont_sq.r2(), &mut xm, &mut t);
    let y = h.mont_sq.pow_ct(&xm, &h.prime.0, h.prime_bits);
    let r = from_limbs(&h.mont_sq.leave_mont(&y));
    xl.zeroize();
    xm.zeroize();
    x.zeroize_biguint();
    Ok(r)
}

/// `L_p(z) * h_p mod p` where `L_p(z) = (z - 1) / p`.
fn l_times_h(z: &BigUint, p: &BigUint, h: &[u64]) -> Result<BigUint> {
    if z.is_zero() {
        return Err(Error::InvalidCiphertext {
            reason: "not a unit modulo n^2",
        });
    }
    let l = (z - 1u32) / p;
    let hb = from_limbs(h);
    Ok((l * hb) % p)
}
