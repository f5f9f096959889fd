//! ckks (in progress)
