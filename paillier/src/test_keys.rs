//! Fixed primes for tests, benchmarks and documentation.
//!
//! These primes are published in this source file, so keys built from them
//! protect nothing: use them only to make tests and examples fast and
//! reproducible. Generated once with a seeded random search (top two bits
//! set, `gcd(n, φ(n)) = 1`).

use num_bigint::BigUint;

use crate::keys::{PublicKey, SecretKey};

/// 128-bit primes (256-bit `n`: insecure, doctest size).
pub const P128: (&str, &str) = (
    "e744c1d7ac7f6c5f89db0d451ea7b5e5",
    "cc734f07942c400c2fa3584189f688b7",
);

/// 512-bit primes (1024-bit `n`: insecure).
pub const P512: (&str, &str) = (
    "c92160256883bebbef2235170184a7da30cf6d40d97236e5fa733bed4ee4ea61bd701792fadcf3159d6d4eb40389b589055e9a3021dee1af30745bb0dd798ee9",
    "d45ab57c4ce213791a292f722980d44eeffe6ae0c01088ed39ba1ffb9d32e1fde468b795d2bac13bce47660a85e2de941c2bd7d7b4861ec2c8b7660518bd0a4f",
);

/// 1024-bit primes (2048-bit `n`).
pub const P1024: (&str, &str) = (
    "e5ac6d51f1685661f4389bb77874d9b7e3c49a8d63041e553980d18ebd938d972c7887abc79f7a928976b631bdde9c65aef650de89f86bad2d1a94bd98c05135fe19fc2675f750e6e1b0f0161f161fbadddde5a5b85492a450f53a076a122989fe38af7ddb11837df468cabdda6c50fa4c6cf39925bf707b8b89554d27c040c1",
    "e9c0be5e5f24d17e7092f72de35f450b2d4b81bea2516d285701519b560d5ef1cbe6a6c854aa165c28565eb940dfee43d7f63d857952695afe5506bc148583202bbb2460205a7e3426143ec475472124aa7230aaae4944f58e4fdc1414b64ad0224e9eb34ed825c32673e73fee6b4452650306e85516aeef38c372d82123019f",
);

/// A second, independent pair of 1024-bit primes (key-mismatch tests).
pub const P1024_B: (&str, &str) = (
    "c9303504eb7c0472838ec536961eb486ecc0a427f0c70b358805425068267c43769a62c73b5eb4caf70e6ffdbe8510ca2abc4526b4625b7199ec250d5ccf7d24f6e28f7f16e0845b481655e96488cbbf1dd52e7e63ab7fd38ad4e7635254a0d5dbcebc4c85b6c0c4ebe016350e5eaabb0f7c58115e0983bd2591666556bdcd59",
    "ca606483ba2372e4cf88ed7ee13f417da3be8657cd6518053be901aed13ac64f39569615153b6731cbfabc0662f574277e3057d93169a4fd27914eb87a91aaab561ec0dfd409a121a62d214d3194452927939958e42cb5b074286422a53ac57854e3182a06419db72148dca640ecd26b7b823de5674311ce0a6a0a89f39b4541",
);

/// 1536-bit primes (3072-bit `n`).
pub const P1536: (&str, &str) = (
    "d4de7972af96f7e24092db17a9d529c64ecb1b4783d57afd1f01c45131040db2f49d48d26215bf35ff36410db3440d745c5f67e05eef0ee8e6893c443f766f3ba9bcbc32f164f0fa83c67bc4a3a671d3b228c3d6e86cad074b33a0727857eb245169e3af51ac7e25f456cba867341a2f2f804181f3023d565adb06e7b1d0d4c18f2a875a0bc757c285f3d429ed4ac241f008516e43a0f09c4ba8dad11bc6393818e2518a341441164fc681f9661cad10e5d5c41f5d682d4aebee30ba48ec42db",
    "f5cb453fe6bf882ac6375a01d9b281063cae5e8607e75be03bb7a3963a3163f947ce92f066eb4ee390039ab5c7aae810cb4cdf5d311ceec24f87feafba69c744a77488d378efc9192466f5848db08504c438afb7c43f54cf3a9929aa7b76e118236c1ace2f33eb1e9099ced56029a44992c5b8f372516b8d30a4708162d188def66814b955a87496e3f171499b89a1573623bc2327aff75083cb2ddc0ce8563e688eaf25528faa6beddec9f989c34b82327a6845cf486f44c4e8dfb83fe74f3d",
);

/// Parses a hex constant (the constants above are valid hex).
pub fn hex(s: &str) -> BigUint {
    BigUint::parse_bytes(s.as_bytes(), 16).unwrap_or_default()
}

/// The primes of a pair as integers.
pub fn primes(pair: (&str, &str)) -> (BigUint, BigUint) {
    (hex(pair.0), hex(pair.1))
}

/// Builds a key pair from a pair of fixed primes (insecure opt-out, since
/// the primes are public; primality is not re-tested).
///
/// # Errors
/// Only if the constants were edited into something invalid.
pub fn keypair_from(pair: (&str, &str)) -> crate::Result<(PublicKey, SecretKey)> {
    let (p, q) = primes(pair);
    let sk = SecretKey::build(p, q, true, false)?;
    Ok((sk.public_key().clone(), sk))
}

/// A 256-bit key pair (insecure) for fast doctests.
///
/// # Errors
/// Only if the constants were edited into something invalid.
pub fn small_keypair() -> crate::Result<(PublicKey, SecretKey)> {
    keypair_from(P128)
}
