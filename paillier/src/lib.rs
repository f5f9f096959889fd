//! Additive Paillier encryption for hekit.
//!
//! * keys: [`SecretKey::generate`] (`num-prime`, 2048 / 3072 / 4096 bits, optional safe
//!   primes, explicit [`Bits::Insecure`] opt-out below 2048), keys from known
//!   primes ([`SecretKey::from_primes`]) or a known modulus
//!   ([`PublicKey::from_n`]); `g = n + 1`;
//! * encryption `c = (1 + m n) r^n mod n^2` ([`PublicKey::encrypt`],
//!   deterministic [`PublicKey::encrypt_with_r`]), the fixed-base
//!   short-exponent fast path ([`FastEncryptor`]) and CRT encryption by the
//!   key owner ([`SecretKey::encrypt_crt`]);
//! * CRT decryption with precomputed constants and constant-time
//!   exponentiation ([`SecretKey::decrypt`], [`SecretKey::decrypt_batch`]);
//! * homomorphic add / subtract / negate / plaintext add / scalar multiply /
//!   re-randomize on [`Ciphertext`], checked to share a key;
//! * signed integers and fixed-point numbers ([`EncodedNumber`],
//!   [`EncryptedNumber`]) with overflow detection;
//! * packing of bounded integers ([`Packer`]);
//! * rayon batch APIs ([`batch`]);
//! * versioned, validated serialization ([`serial`]).
//!
//! The encrypt → add → decrypt path (a 256-bit demonstration key built from
//! published primes through the explicit insecure opt-out; real keys come
//! from [`SecretKey::generate`] with [`Bits::B3072`]):
//!
//! ```
//! use num_bigint::BigUint;
//! use paillier::{SecretKey, test_keys};
//!
//! let (p, q) = test_keys::primes(test_keys::P128);
//! let sk = SecretKey::from_primes_insecure(p, q)?;
//! let pk = sk.public_key().clone();
//! let mut rng = paillier::rng(); // ChaCha20 seeded from the OS
//!
//! let (a, b) = (BigUint::from(1200u32), BigUint::from(34u32));
//! let total = (&pk.encrypt(&a, &mut rng)? + &pk.encrypt(&b, &mut rng)?)?;
//! assert_eq!(sk.decrypt(&total)?, a + b);
//!
//! // signed values and floats
//! let x = pk.encrypt_f64(-2.5, &mut rng)?;
//! let y = x.add_f64(0.25)?.mul_f64(4.0)?;
//! assert_eq!(sk.decrypt_f64(&y)?, -9.0);
//! # Ok::<(), paillier::Error>(())
//! ```
//!
//! Binary operations on ciphertexts return `Result` (also through the `+`
//! and `-` operators): each ciphertext carries its public key, and mixing
//! keys is [`Error::KeyMismatch`], never a wrong answer or a panic. A
//! `Result` is accepted on either side of `+` and `-`, so expressions chain
//! and the first error comes out at the end — `(&a + &b - &c)?` — for
//! [`Ciphertext`] and [`EncryptedNumber`] alike, the same shape as the BFV
//! and CKKS ciphertexts; `iter.sum::<Result<_>>()` and [`sum`] add many.
//!
//! **Secrets.** Private-key limbs live in buffers wiped on drop; `Debug`
//! prints only public data. Exponentiations with secret exponents (`p - 1`,
//! `q - 1` in decryption, `p`, `q` in CRT encryption) use fixed windows with
//! masked table scans. The few `num-bigint` operations around them (the
//! final `L` function and CRT recombination) are ordinary variable-time
//! big-integer arithmetic on short-lived copies.

//! **Exponentiation engines.** Every modular exponentiation goes through
//! this crate's own Montgomery arithmetic (num-bigint's `modpow` is only the
//! reference in tests):
//!
//! * a portable 64-bit-limb CIOS core (`mont`), constant-time fixed windows
//!   for secret exponents and sliding windows for public ones;
//! * on x86-64 CPUs with AVX-512 IFMA (detected at run time), 52-bit-limb
//!   engines: single-value exponentiation with a number's limbs spread
//!   across vector lanes, the `p^2` and `q^2` halves of a decryption
//!   interleaved (`ifma_x2`: decryption, CRT encryption, and modulo `n^2`
//!   public encryption / scalar multiplication), and an 8-lane multi-buffer
//!   exponentiation (`ifma`: batch decryption, four ciphertexts' `p^2` and
//!   `q^2` halves per run). For 2048-, 3072- and 4096-bit moduli (limb
//!   counts divisible by ten) its products and squarings are the
//!   column-blocked kernels of `ifma_cols` (eleven accumulators in
//!   registers, a block of ten columns at a time); other sizes keep the
//!   row-by-row kernels. All are constant time for secret exponents (fixed
//!   windows, masked table scans). `__bench::disable_ifma` switches the IFMA
//!   paths off, to test the portable fallback on an IFMA machine.
//!
//! `unsafe` appears only in the SIMD modules (calling `#[target_feature]`
//! functions after run-time detection, moving vectors to arrays, and in
//! `ifma_cols` an empty `asm` block that fixes the code order), each block
//! with its `SAFETY` argument.

#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod batch;
mod ciphertext;
mod encoding;
mod error;
mod fast;
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod ifma;
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod ifma_cols;
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod ifma_x2;
mod keys;
mod mont;
mod packing;
pub mod serial;
pub mod test_keys;

/// A ChaCha20 generator seeded from the operating system: the
/// cryptographically secure generator every randomized call here accepts
/// (the same as `rlwe::sample::rng`, so that `hekit::rng()` serves every
/// scheme).
pub fn rng() -> rand_chacha::ChaCha20Rng {
    use rand::SeedableRng;
    rand_chacha::ChaCha20Rng::from_entropy()
}

pub use batch::{add_batch, mul_scalar_batch, sum, Summable};
pub use ciphertext::Ciphertext;
pub use encoding::{decode_signed, encode_signed, EncodedNumber, EncryptedNumber, BASE};
pub use error::{Error, Result};
pub use fast::{FastEncryptor, ShortExponent};
#[allow(deprecated)]
pub use keys::{keypair, keypair_with, PrivateKey};
pub use keys::{
    Bits, KeyGenOptions, PublicKey, SecretKey, MAX_MODULUS_BITS, MIN_INSECURE_BITS, MIN_SECURE_BITS,
};
pub use packing::{PackedCiphertext, Packer};

/// Re-exported so callers can name the big-integer types of the API.
pub use num_bigint;

/// Modular exponentiation with this crate's Montgomery core, for other
/// hekit crates that work modulo `n^2` themselves (threshold Paillier).
pub mod modpow {
    use num_bigint::BigUint;

    use crate::mont::{from_limbs, Mont};

    /// A precomputed Montgomery context for an odd modulus `N > 1`.
    #[derive(Clone, Debug)]
    pub struct Modulus {
        ctx: Mont,
    }

    impl Modulus {
        /// Context for odd `m > 1` (`None` otherwise).
        pub fn new(m: &BigUint) -> Option<Self> {
            Mont::new(m).map(|ctx| Modulus { ctx })
        }

        /// The modulus.
        pub fn modulus(&self) -> &BigUint {
            self.ctx.modulus()
        }

        /// `base^exp mod N` for a **public** exponent (sliding window,
        /// variable time).
        pub fn pow_public(&self, base: &BigUint, exp: &BigUint) -> BigUint {
            self.ctx.modpow_vartime(base, exp)
        }

        /// `base^exp mod N` for a **secret** exponent given as little-endian
        /// `u64` limbs, which must be below `2^exp_bits` (`exp_bits` is a
        /// public bound fixing the number of windows): fixed 5-bit windows,
        /// every window multiplies, table entries read by a full masked
        /// scan — no branch or memory index depends on the exponent. The
        /// base and the result are treated as public (the base is reduced
        /// with variable-time arithmetic).
        pub fn pow_secret(&self, base: &BigUint, exp: &[u64], exp_bits: usize) -> BigUint {
            let b = self.ctx.enter_mont(base);
            let r = self.ctx.pow_ct(&b, exp, exp_bits);
            from_limbs(&self.ctx.leave_mont(&r))
        }
    }
}

#[doc(hidden)]
pub mod __bench {
    //! Internal hooks for the benchmarks (not a stable API).
    use num_bigint::BigUint;

    /// Switches the AVX-512 IFMA paths off (`true`) or on again for the
    /// whole process, so the portable fallback can be tested and timed on an
    /// IFMA machine. Keys keep working either way; without IFMA every
    /// exponentiation takes the portable 64-bit core.
    pub fn disable_ifma(off: bool) {
        #[cfg(target_arch = "x86_64")]
        crate::ifma::set_disabled(off);
        #[cfg(not(target_arch = "x86_64"))]
        let _ = off;
    }

    /// Whether the AVX-512 IFMA paths are in use (CPU support, not switched
    /// off).
    pub fn ifma_active() -> bool {
        #[cfg(target_arch = "x86_64")]
        return crate::ifma::available();
        #[cfg(not(target_arch = "x86_64"))]
        false
    }

    /// `base^exp mod m` with the crate's constant-time Montgomery core.
    pub fn modpow_ct(base: &BigUint, exp: &BigUint, m: &BigUint) -> Option<BigUint> {
        let ctx = crate::mont::Mont::new(m)?;
        let b = ctx.enter_mont(base);
        let e = crate::mont::to_limbs(exp, crate::mont::limbs_of(exp))?;
        let r = ctx.pow_ct(&b, &e, exp.bits() as usize);
        Some(crate::mont::from_limbs(&ctx.leave_mont(&r)))
    }
}
