//! # bfv — exact integer arithmetic on encrypted data
//!
//! RNS BFV over hekit's lattice core ([`rlwe`]): batching (2 × N/2 SIMD
//! slots modulo a prime `t ≡ 1 mod 2N`), full-RNS multiplication in the
//! Halevi–Polyakov–Shoup variant (no big integers on the hot path),
//! relinearization, row and column rotations, slot sums, plaintext
//! operations, modulus switching and the invariant noise budget.
//!
//! ```
//! use bfv::{Encoder, Evaluator, GaloisKeys, Parameters, Preset, PublicKey, RelinKey, SecretKey};
//!
//! # fn main() -> Result<(), bfv::Error> {
//! let params = Parameters::preset(Preset::N8192T65537)?; // 128-bit secure, 218-bit QP
//! let mut rng = bfv::rng();
//! let sk = SecretKey::generate(&params, &mut rng);
//! let pk = PublicKey::generate(&sk, &mut rng)?;
//! let rlk = RelinKey::generate(&sk, &mut rng)?;
//! let gk = GaloisKeys::generate(&sk, &[1, -1], &mut rng)?;
//!
//! let encoder = Encoder::new(&params);
//! let ct = pk.encrypt(&encoder.encode(&[1, 2, 3])?, &mut rng)?;
//! let eval = Evaluator::new(&params);
//! let ct = eval.rotate_rows(&eval.mul_relin(&ct, &ct, &rlk)?, 1, &gk)?;
//! let values: Vec<i64> = encoder.decode(&sk.decrypt(&ct)?)?;
//! assert_eq!(&values[..3], &[4, 9, 0]);
//! assert!(sk.noise_budget(&ct)? > 50.0);
//! # Ok(())
//! # }
//! ```

pub mod ciphertext;
pub mod encoder;
pub mod error;
pub mod evaluator;
pub mod keys;
pub mod params;

pub use ciphertext::Ciphertext;
pub use encoder::{Encoder, Encoding, Plaintext};
pub use error::{Error, Result};
pub use evaluator::{Evaluator, PreparedPlaintext};
pub use keys::{GaloisKeys, PublicKey, RelinKey, SecretKey};
pub use params::{Parameters, ParametersBuilder, Preset};
pub use rlwe::params::SecurityLevel;
pub use rlwe::sample::rng;
