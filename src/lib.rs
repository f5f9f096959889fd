//! # hekit
//!
//! Computing on encrypted data in one Rust API: additive Paillier
//! ([`paillier`]), and the RNS lattice core ([`rlwe`]) that BFV and CKKS
//! are built on. See the workspace README for what works today.

pub use bfv;
pub use ckks;
pub use ml_he;
pub use paillier;
pub use rlwe;
pub use threshold;
