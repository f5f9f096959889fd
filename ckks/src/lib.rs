//! # ckks — approximate arithmetic on encrypted real and complex vectors
//!
//! RNS CKKS (Cheon–Kim–Kim–Song, and the full-RNS variant of Cheon, Han,
//! Kim, Kim, Song, SAC 2018) on the `rlwe` core of hekit: a ciphertext
//! holds `N/2` complex slots, additions and multiplications act slot-wise,
//! rotations permute the slots, and every result is approximate with a
//! precision set by the scale Δ.
//!
//! | item | what |
//! |---|---|
//! | [`Parameters`], [`Preset`] | ring degree, chain of rescaling primes, special primes, default scale; presets at 128-bit security; [`Parameters::for_circuit`] sizes a chain |
//! | [`Encoder`], [`Plaintext`] | canonical embedding by the special FFT, at any level and scale; [`PrecisionStats`] |
//! | [`SecretKey`], [`PublicKey`], [`RelinKey`], [`GaloisKeys`] | keys; secret- and public-key encryption, decryption, noise-flooded decryption ([`Flooding`]) |
//! | [`Ciphertext`] | an RLWE ciphertext with its exactly tracked scale; versioned serialization |
//! | [`Evaluator`] | add / sub / negate, plaintext and constant operations, multiply + relinearize, rescale, level and scale alignment, rotations (hoisted), conjugation, slot sums, inner products |
//! | [`Polynomial`] | Chebyshev interpolation (sigmoid, tanh, ReLU, SiLU) and baby-step giant-step evaluation |
//! | [`LinearTransform`] | matrix × vector (real or complex) by the diagonal method with BSGS rotations |
//! | [`Bootstrapper`] | bootstrapping, full and sparse packing (ModRaise under a sparse ephemeral secret, SubSum, CoeffsToSlots, EvalMod by a scaled cosine, double angles and the arcsine correction, SlotsToCoeffs), optionally two iterations (meta-bootstrapping, [`BootstrapConfig::iterations`]); presets and keys in [`bootstrap`] |
//!
//! ## Encrypt → evaluate → decrypt
//!
//! ```
//! use ckks::{Encoder, Evaluator, GaloisKeys, Parameters, Preset, PublicKey, RelinKey, SecretKey};
//!
//! # fn main() -> Result<(), ckks::Error> {
//! let params = Parameters::preset(Preset::N8192)?; // 128-bit secure, scale 2^40, depth 3
//! let mut rng = ckks::rng(); // ChaCha20 seeded from the OS
//! let sk = SecretKey::generate(&params, &mut rng);
//! let pk = PublicKey::generate(&sk, &mut rng)?;
//! let rlk = RelinKey::generate(&sk, &mut rng)?;
//! let gk = GaloisKeys::generate(&sk, &[1], &mut rng)?;
//!
//! let encoder = Encoder::new(&params);
//! let eval = Evaluator::new(&params);
//! let x = [0.5, -1.25, 2.0, 0.75];
//! let ct = pk.encrypt(&encoder.encode(&x)?, &mut rng)?;
//!
//! // x² + 0.5·x, then rotate left by one slot
//! let sq = eval.mul_relin_rescale(&ct, &ct, &rlk)?;
//! let half = eval.rescale(&eval.mul_const(&ct, 0.5)?)?;
//! let y = eval.rotate(&eval.add(&sq, &half)?, 1, &gk)?;
//!
//! let out = encoder.decode(&sk.decrypt(&y)?)?;
//! for i in 0..3 {
//!     let want = x[i + 1] * x[i + 1] + 0.5 * x[i + 1];
//!     assert!((out[i] - want).abs() < 1e-5);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! ## Levels, scales, precision
//!
//! A fresh ciphertext sits at the top level `L` with scale Δ (2^40 in the
//! presets); every `rescale` divides by the next prime `q_l` and records the
//! exact new scale. Additions align levels and scales automatically (see
//! [`evaluator`] for the rules) or fail with [`Error::ScaleMismatch`];
//! [`Evaluator::mul_const`] encodes constants at scale `q_l` so that a
//! rescale brings the scale back exactly; [`Evaluator::evaluate_polynomial`]
//! uses `⌈log2(d+1)⌉` levels up to degree 15. With N = 16384 and Δ = 2^40
//! the largest slot error is about 2^-25.8 fresh and 2^-25.4 after a
//! multiplication and a rescale (SEAL: 2^-26.2 / 2^-25.3).
//!
//! Objects record their parameters and level; operations check both and
//! the scales of their operands, and mixing objects of different
//! parameters is an [`Error`], never a wrong answer.
//!
//! When decrypted values leave the key owner, use
//! [`SecretKey::decrypt_flooded`] (Li–Micciancio noise flooding).

pub mod bootstrap;
pub mod ciphertext;
pub mod complex;
mod dft;
pub mod encoder;
pub mod error;
pub mod evaluator;
pub mod keys;
pub mod linear;
pub mod params;
pub mod polynomial;

pub use bootstrap::{BootstrapConfig, BootstrapKeys, BootstrapPreset, Bootstrapper};
pub use ciphertext::Ciphertext;
pub use complex::Complex;
pub use encoder::{Encoder, Plaintext, PrecisionStats};
pub use error::{Error, Result};
pub use evaluator::Evaluator;
pub use keys::{Flooding, GaloisKeys, PublicKey, RelinKey, SecretKey};
pub use linear::{tile, LinearTransform};
pub use params::{Parameters, ParametersBuilder, Preset};
pub use polynomial::Polynomial;
pub use rlwe::params::SecurityLevel;
pub use rlwe::sample::rng;
