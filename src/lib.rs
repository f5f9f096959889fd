//! hekit facade
pub use paillier;
pub use rlwe;
