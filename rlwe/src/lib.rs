//! # rlwe — the lattice core of hekit
//!
//! Ring arithmetic and the RLWE primitives shared by hekit's BFV and CKKS:
//!
//! - [`zq`]: word-size prime moduli (Barrett, Shoup), NTT-friendly primes;
//! - [`ntt`]: the negacyclic NTT (on `tfhe-ntt`, AVX-512 IFMA below 2^50);
//! - [`rns`]: RNS bases, CRT, fast basis extension, scaling by `t/Q`;
//! - [`poly`]: RNS polynomials with an explicit representation;

pub mod ciphertext;
pub mod error;
pub mod keys;
pub mod ntt;
pub mod params;
pub mod poly;
pub mod rns;
pub mod sample;
pub mod serialize;
pub mod zq;

pub use error::{Error, Result};
