//! # ml-he — encrypted machine learning
//!
//! Encrypted inference (client encrypts, server evaluates without the key,
//! client decrypts), HE-MPC aggregation (federated averaging under a
//! threshold key, optional distributed differential privacy) and private
//! model testing, on hekit's CKKS, BFV, Paillier and threshold crates.
//!
//! | module | what |
//! |---|---|
//! | [`inference`] | CKKS inference of ONNX models (import, layer-graph compiler, convolutions, bootstraps placed in deep graphs) and of the fixed logistic / MLP circuits: `Server` (model owner) / `Client` (data owner), per-sample and SIMD-batch packings, every message as bytes |
//! | [`aggregation`] | federated averaging under a threshold CKKS key ([`aggregation::Client`], [`aggregation::Server`], [`aggregation::combine`]) and the threshold-Paillier variant; committee members decrypt only sums they recompute |
//! | [`dp`] | distributed differential privacy for the aggregated sums |
//! | [`testing`] | private model testing: the total confusion matrix of test sets nobody sees, under a threshold BFV key |
//! | [`model`], [`data`] | training and loading of the models and data sets the examples use |
//!
//! **Roles.** In every module a `Client` is a data owner — it holds key
//! material and encrypts its own data (an input to score, a model update, a
//! test set) — and a `Server` computes on ciphertexts with public keys only
//! and never decrypts: [`inference::Client`] / [`inference::Server`],
//! [`aggregation::Client`] / [`aggregation::Server`]. The two modules'
//! types are distinct (one key is the client's own, the other a share of a
//! collective key), so they are always named through their module.
//!
//! Federated averaging: three clients make a collective key, two submit
//! updates, a committee of two decrypts only their average.
//!
//! ```
//! use ml_he::aggregation::{
//!     combine, deal_all, AggregationConfig, AggregationParams, Client, Server, SessionKey,
//! };
//!
//! # fn main() -> ml_he::Result<()> {
//! let mut rng = ml_he::rng();
//! let params = AggregationParams::new(AggregationConfig::new(3, 2), [1; 32])?;
//! let mut clients = (1..=3)
//!     .map(|i| Client::new(&params, i, &mut rng))
//!     .collect::<ml_he::Result<Vec<_>>>()?;
//! let shares = clients
//!     .iter_mut()
//!     .map(|c| c.public_key_share(&mut rng))
//!     .collect::<ml_he::Result<Vec<_>>>()?;
//! let key = SessionKey::from_shares(&params, shares)?;
//! let key = deal_all(&mut clients, &key, &mut rng)?;
//! let mut server = Server::new(&key, 0, 3)?;
//! server.add(&clients[0].encrypt_update(0, &[1.0, 2.0, 3.0], &mut rng)?)?;
//! server.add(&clients[2].encrypt_update(0, &[3.0, 4.0, 5.0], &mut rng)?)?;
//! let request = server.decryption_request(&[1, 2])?;
//! let shares = vec![
//!     clients[0].decryption_share(&request, &mut rng)?,
//!     clients[1].decryption_share(&request, &mut rng)?,
//! ];
//! let result = combine(&key, &request, &shares)?;
//! for (got, want) in result.average.iter().zip([2.0, 3.0, 4.0]) {
//!     assert!((got - want).abs() <= result.precision);
//! }
//! # Ok(())
//! # }
//! ```

pub mod aggregation;
mod committee;
pub mod data;
pub mod dp;
pub mod error;
pub mod inference;
pub mod model;
pub mod npy;
pub mod testing;
mod wire;

pub use error::{Error, Result};
pub use rlwe::sample::rng;
