//! # hekit — computing on encrypted data
//!
//! One dependency for additive **Paillier**, RNS **BFV** (exact integers)
//! and **CKKS** (approximate reals) over one lattice core, **threshold**
//! decryption for both families, and **encrypted machine learning**
//! (inference, federated aggregation under a threshold key, private model
//! testing). Every crate of the workspace is re-exported here, so a user
//! writes `hekit::ckks::…`, `hekit::bfv::…` and so on; [`rng()`] is the
//! ChaCha20 generator (seeded from the OS) that every randomized call
//! accepts.
//!
//! | module | what |
//! |---|---|
//! | [`rlwe`] | ring arithmetic, NTT, RNS, sampling, parameters checked against the HomomorphicEncryption.org table, keys, key switching |
//! | [`bfv`] | exact integer arithmetic: batching, multiplication, rotations, noise budget |
//! | [`ckks`] | approximate arithmetic: scale tracking, rescale, rotations, polynomials, linear transforms |
//! | [`paillier`] | additive Paillier: keys, fast encryption, CRT decryption, signed / fixed-point encodings, packing |
//! | [`threshold`] | multiparty protocols: collective keys, t-of-n smudged decryption, threshold Paillier with proofs |
//! | [`zk`] | zero-knowledge proofs of well-formed, bounded encryptions (federated updates) |
//! | [`ml_he`] | encrypted inference, federated aggregation, distributed DP, private model testing |
//!
//! ## CKKS: encrypt → evaluate → decrypt
//!
//! ```
//! use hekit::ckks::{Encoder, Evaluator, Parameters, Preset, PublicKey, RelinKey, SecretKey};
//!
//! # fn main() -> Result<(), hekit::ckks::Error> {
//! let params = Parameters::preset(Preset::N8192)?;
//! let mut rng = hekit::rng();
//! let sk = SecretKey::generate(&params, &mut rng);
//! let pk = PublicKey::generate(&sk, &mut rng)?;
//! let rlk = RelinKey::generate(&sk, &mut rng)?;
//! let (encoder, eval) = (Encoder::new(&params), Evaluator::new(&params));
//! let ct = pk.encrypt(&encoder.encode(&[1.5, -2.0])?, &mut rng)?;
//! let sq = eval.mul_relin_rescale(&ct, &ct, &rlk)?;
//! let out = encoder.decode(&sk.decrypt(&sq)?)?;
//! assert!((out[0] - 2.25).abs() < 1e-5 && (out[1] - 4.0).abs() < 1e-5);
//! # Ok(())
//! # }
//! ```
//!
//! ## BFV: exact integers
//!
//! ```
//! use hekit::bfv::{Encoder, Evaluator, Parameters, Preset, PublicKey, RelinKey, SecretKey};
//!
//! # fn main() -> Result<(), hekit::bfv::Error> {
//! let params = Parameters::preset(Preset::N8192T65537)?;
//! let mut rng = hekit::rng();
//! let sk = SecretKey::generate(&params, &mut rng);
//! let pk = PublicKey::generate(&sk, &mut rng)?;
//! let rlk = RelinKey::generate(&sk, &mut rng)?;
//! let encoder = Encoder::new(&params);
//! let ct = pk.encrypt(&encoder.encode(&[3, 4, 5])?, &mut rng)?;
//! let ct = Evaluator::new(&params).mul_relin(&ct, &ct, &rlk)?;
//! let values: Vec<i64> = encoder.decode(&sk.decrypt(&ct)?)?;
//! assert_eq!(&values[..3], &[9, 16, 25]);
//! # Ok(())
//! # }
//! ```
//!
//! ## Paillier: additive, with signed and fixed-point values
//!
//! ```
//! use hekit::paillier::{test_keys, SecretKey};
//!
//! // a demonstration key from published primes (explicitly insecure);
//! // real keys: hekit::paillier::SecretKey::generate(hekit::paillier::Bits::B3072, &mut rng)
//! let (p, q) = test_keys::primes(test_keys::P128);
//! let sk = SecretKey::from_primes_insecure(p, q)?;
//! let pk = sk.public_key().clone();
//! let mut rng = hekit::rng();
//! let x = pk.encrypt_f64(-2.5, &mut rng)?;
//! let y = x.add_f64(0.25)?.mul_f64(4.0)?;
//! assert_eq!(sk.decrypt_f64(&y)?, -9.0);
//! # Ok::<(), hekit::paillier::Error>(())
//! ```
//!
//! ## Federated averaging under a threshold key
//!
//! No single party can decrypt: three clients make a collective CKKS key,
//! two of them submit updates, the server keeps the encrypted updates, and a
//! committee of two recomputes and decrypts only their sum.
//!
//! ```
//! use hekit::ml_he::aggregation::{
//!     combine, deal_all, AggregationConfig, AggregationParams, Client, Server, SessionKey,
//! };
//!
//! # fn main() -> hekit::ml_he::Result<()> {
//! let mut rng = hekit::rng();
//! let params = AggregationParams::new(AggregationConfig::new(3, 2), [1; 32])?;
//! let mut clients = (1..=3)
//!     .map(|i| Client::new(&params, i, &mut rng))
//!     .collect::<hekit::ml_he::Result<Vec<_>>>()?;
//! let shares = clients
//!     .iter_mut()
//!     .map(|c| c.public_key_share(&mut rng))
//!     .collect::<hekit::ml_he::Result<Vec<_>>>()?;
//! let key = SessionKey::from_shares(&params, shares)?;
//! let key = deal_all(&mut clients, &key, &mut rng)?;
//! let mut server = Server::new(&key, 0, 2)?;
//! server.add(&clients[0].encrypt_update(0, &[1.0, 2.0], &mut rng)?)?;
//! server.add(&clients[1].encrypt_update(0, &[3.0, 4.0], &mut rng)?)?;
//! let request = server.decryption_request(&[2, 3])?;
//! let shares = vec![
//!     clients[1].decryption_share(&request, &mut rng)?,
//!     clients[2].decryption_share(&request, &mut rng)?,
//! ];
//! let result = combine(&key, &request, &shares)?;
//! assert!((result.average[0] - 2.0).abs() <= result.precision);
//! assert!((result.average[1] - 3.0).abs() <= result.precision);
//! # Ok(())
//! # }
//! ```
//!
//! ## Build profile
//!
//! The arithmetic is far too slow unoptimized: a crate that depends on
//! hekit should build it optimized even in debug builds, in its own
//! `Cargo.toml` (see the workspace README for the measured difference):
//!
//! ```toml
//! [profile.dev.package."*"]
//! opt-level = 3
//! ```

pub use bfv;
pub use ckks;
pub use ml_he;
pub use paillier;
pub use rlwe;
pub use rlwe::sample::rng;
pub use threshold;
pub use zk;
