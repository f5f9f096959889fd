#![allow(dead_code, clippy::unwrap_used)]
use paillier::{test_keys, PublicKey, SecretKey};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::sync::OnceLock;

pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// 2048-bit key from the fixed test primes (built once per test binary).
pub fn key2048() -> &'static (PublicKey, SecretKey) {
    static K: OnceLock<(PublicKey, SecretKey)> = OnceLock::new();
    K.get_or_init(|| {
        let (p, q) = test_keys::primes(test_keys::P1024);
        let sk = SecretKey::from_primes(p, q).unwrap();
        (sk.public_key().clone(), sk)
    })
}

/// A second, unrelated 2048-bit key.
pub fn key2048_b() -> &'static (PublicKey, SecretKey) {
    static K: OnceLock<(PublicKey, SecretKey)> = OnceLock::new();
    K.get_or_init(|| {
        let (p, q) = test_keys::primes(test_keys::P1024_B);
        let sk = SecretKey::from_primes(p, q).unwrap();
        (sk.public_key().clone(), sk)
    })
}

/// 1024-bit key (insecure opt-out) for the property tests.
pub fn key1024() -> &'static (PublicKey, SecretKey) {
    static K: OnceLock<(PublicKey, SecretKey)> = OnceLock::new();
    K.get_or_init(|| test_keys::keypair_from(test_keys::P512).unwrap())
}
