//! # rlwe — the lattice core of hekit
//!
//! Ring arithmetic and the RLWE primitives that hekit's BFV and CKKS share.
//! Nothing here is scheme-specific: schemes encode messages into
//! polynomials, and this crate encrypts, switches keys and rescales them.
//!
//! | module | holds |
//! |---|---|
//! | [`zq`] | word-size prime moduli (Barrett, Shoup), NTT-friendly prime generation |
//! | [`ntt`] | the negacyclic NTT on `tfhe-ntt` (AVX-512 IFMA for primes below 2^50) |
//! | [`rns`] | RNS bases, CRT, fast basis extension, scaling by `t/Q` with rounding |
//! | [`poly`] | RNS polynomials that know their basis and representation |
//! | [`sample`] | ChaCha20 CSPRNG, seed expansion, ternary / CBD / Gaussian / smudging noise |
//! | [`params`] | degree, chain `Q`, special primes `P`, HomomorphicEncryption.org security check |
//! | [`keys`] | secret, public, key-switching (hybrid gadget), relinearization and Galois keys |
//! | [`ciphertext`] | RLWE ciphertexts, key switching, relinearization, automorphisms, rescaling |
//! | [`serialize`] | versioned, validated binary encoding of every object |
//! | [`ops`] | the operator shape of every scheme's ciphertexts (`Result` outputs that chain) |
//!
//! ## Encrypt → evaluate → decrypt at the RLWE level
//!
//! ```
//! use rlwe::keys::{galois_element_for_rotation, GaloisKeys, PublicKey, RelinKey, SecretKey};
//! use rlwe::params::Params;
//! use rlwe::poly::Poly;
//!
//! # fn main() -> Result<(), rlwe::Error> {
//! // 128-bit secure: log2(QP) = 218 ≤ 218 for N = 8192.
//! let params = Params::builder().degree(8192).q_bits(&[43, 43, 44, 44]).p_bits(&[44]).build()?;
//! let mut rng = rlwe::sample::rng();
//! let sk = SecretKey::generate(&params, &mut rng);
//! let pk = PublicKey::generate(&sk, &mut rng)?;
//! let rlk = RelinKey::generate(&sk, &mut rng)?;
//! let g = galois_element_for_rotation(1, params.degree());
//! let gk = GaloisKeys::generate(&sk, &[g], &mut rng)?;
//!
//! // Messages are polynomials with large coefficients (schemes scale them).
//! let ring = params.ring_q(params.max_level())?;
//! let m = Poly::from_i64(ring, &[3 << 40, 1 << 40])?;
//! let ct = pk.encrypt(&m, &mut rng)?;
//! let sq = ct.tensor(&ct)?.relinearize(&rlk)?; // decrypts to m² (+ noise)
//! let rot = sq.rescale()?.apply_galois(gk.get(g)?)?; // divide by q_3, then X → X^5
//! let out = sk.decrypt(&rot)?.centered_coeffs();
//! // m² / q_3 ≈ (9·2^80 + 6·2^80 X + 2^80 X²) / q_3; X → X^5 moves X to X^5.
//! let q3 = params.q()[3] as f64;
//! let c0: f64 = out[0].to_string().parse().unwrap();
//! assert!((c0 - 9.0 * 2f64.powi(80) / q3).abs() < 1e3);
//! # Ok(())
//! # }
//! ```
//!
//! Parameters are validated once and shared as `Arc<Params>`; every object
//! records its parameters (by fingerprint) and level, and mixing objects of
//! different parameters or levels is an [`Error`], never a wrong answer.

pub mod ciphertext;
pub mod error;
pub mod keys;
pub mod ntt;
pub mod ops;
pub mod params;
pub mod poly;
mod pool;
pub mod rns;
pub mod sample;
pub mod serialize;
mod simd;
pub mod zq;

pub use error::{Error, Result};
