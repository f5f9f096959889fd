//! # hekit-mpc — networked HE-MPC
//!
//! The in-process protocols of [`ml_he::aggregation`] (threshold CKKS and
//! threshold Paillier federated aggregation) between real processes: one
//! **coordinator** (the computing party: it sums ciphertexts and never holds
//! key material that decrypts) and `n` **parties** (input parties and key
//! holders), speaking gRPC over HTTP/2 with mutual TLS.
//!
//! A session runs collective key generation (public key; relinearization and
//! Galois keys if configured; Shamir dealing of every party's secret for
//! t-of-n decryption — or a threshold Paillier dealing by one party), then
//! `rounds` aggregation rounds (every live party submits an encrypted
//! vector, the coordinator checks and sums), each ending in threshold
//! decryption of the sum only, by a committee of `t` live parties.
//!
//! Each party's update for a round comes from [`input::InputSource`]: a
//! `.npy` or `.csv` file, a directory of per-round files, a callback, or
//! the demonstration vectors; results are written in the input's format.
//!
//! See `mpc/README.md` for the protocol, the trust assumptions, persistence
//! and dropout handling; [`coordinator::run`] and [`party::run`] are what the
//! `hekit-mpc` binary calls.

pub mod certs;
pub mod coordinator;
pub mod e2e;
mod error;
pub mod input;
pub mod party;
pub mod proto;
pub mod session;
pub mod sign;
pub mod store;

pub use error::{Error, Result};
