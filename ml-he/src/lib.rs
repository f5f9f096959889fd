//! # ml-he — encrypted machine learning
//!
//! Encrypted inference (client encrypts, server evaluates without the key,
//! client decrypts), HE-MPC aggregation (federated averaging under a
//! threshold key, optional distributed differential privacy) and private
//! model testing, on hekit's CKKS, BFV, Paillier and threshold crates.

pub mod aggregation;
pub mod data;
pub mod dp;
pub mod error;
pub mod inference;
pub mod model;
pub mod testing;
mod wire;

pub use error::{Error, Result};
pub use rlwe::sample::rng;
