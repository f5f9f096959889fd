//! Fixed **safe** primes (`p = 2p' + 1`, `p'` prime) for tests, benchmarks
//! and documentation.
//!
//! These primes are published in this source file, so keys dealt from them
//! protect nothing: use them only (through
//! [`Dealer::deal_with_primes_insecure`](super::Dealer::deal_with_primes_insecure),
//! or [`Dealer::deal_with_primes`](super::Dealer::deal_with_primes) for the
//! 2048- and 3072-bit pairs) to make tests and examples fast and reproducible.
//! Generated once with a seeded random search (top two bits set, both `p`
//! and `(p - 1) / 2` prime); `Dealer` re-tests them on every use.

use num_bigint::BigUint;

/// 128-bit safe primes (256-bit `n`: insecure, doctest size).
pub const SAFE128: (&str, &str) = (
    "c54e942246306b1930782b60a271b31f",
    "c690498629521d4f487d09f1ef0c753f",
);

/// A second pair of 128-bit safe primes (key-mismatch tests).
pub const SAFE128_B: (&str, &str) = (
    "fa033d01637562ff664dac9e8e86091f",
    "df83799468cec6ba7f604c4088f644ef",
);

/// 256-bit safe primes (512-bit `n`: insecure).
pub const SAFE256: (&str, &str) = (
    "e18dd67f30cee5835c250ba43c226e21f62a309f29665a64e209365333636eaf",
    "f6458d4f6a790988f21d2e73e4b8df35a723b8caf6d6797ea2cf421283b58c23",
);

/// A second pair of 256-bit safe primes (key-mismatch tests).
pub const SAFE256_B: (&str, &str) = (
    "e5f377c5a3cf949c22f633727e789bcea0a0cd56bdddc434f7c39e4259036bc7",
    "c90f3bf0c4d7ea32bc336a418ecbba3a3b1077da874804c52775fa5c5f9c3e6b",
);

/// 512-bit safe primes (1024-bit `n`: insecure).
pub const SAFE512: (&str, &str) = (
    "f6b04388885d2a733c8f466e8775f1c10721bccfdf29dc987c9dcffc4101a25c11fac7949864348f4292531c99973d659d4611202c67d8a4bcef3060fb3d23d7",
    "e514f0013ac58b1667fb9a7214df374f78deb50fe06f84ed79b7959b254aba066442ba936ee67ed2e5a4385d0a91b9e865fe2bb997a4286ce685dbf6070faad3",
);

/// 1024-bit safe primes (2048-bit `n`; public, so still no secrecy).
pub const SAFE1024: (&str, &str) = (
    "d24c7248d9c2a7699cc3a42e8e2ccfc5a9d8aceac7a8fdb49216a5a77884d2b6fed4eeeb9b4a9fd712648a87afe0d4151c36fec42b935f737a004d25179218a4f9f1c3976575bf4a97603e73b1738e43c31f786d4874761121ebe61b620ae32df432b0bad10ff12d4ccf6c1326d4cba0c8d2734f09691136b6667ed709b76fb7",
    "f6966b8cdab171ac2916748f3f17b0c264e5dae71ec266cd32af9eacd94343a27e24a6381a713fc29cd68bf374219cb3f561a23c3092d7648cd03e111715ce201138b8b180eabe254fd082c30efb0d375d0d576698ebef9831cca621280e0bcb05973c3c2ceee0fcb69e5e55382ee51f788507d2a9a3d25bc0d5491e80d1ea23",
);

/// 1536-bit safe primes (3072-bit `n`; public, so still no secrecy).
pub const SAFE1536: (&str, &str) = (
    "d93aa3857f82f71644a1d355dcd3e6ebac3e0f42387e4abf77c3aa509e6ddd9330f92516879ab2bf9360bb925db89081f79c05e2720acf9ba0a9f0d80178279baa0cab3f7ec15abc882df9447166e5559674affdacbf80dede775373a6597cd9381c5f6bf3e27795d4ea8382aec879f7a2ffc5dba20c5d9d26fbb234d6e68f659cd97e091bdb324afbb6955071df7dcf4c66dfcd777e825fae2fb1141c033d9a3c30e209ff0882052ecfb0b3c98359aedc79cb918da975b610ec1a7c2e05e247",
    "e8979487b42e63c5d182fcfc40a71d10dce05c2c29827dff9e3adaa325f2238cc10edd8c78b4c6c3921e6afb7a0f24cbfd4b63e91beffad2a8739e5f80e9a1e0163b5e65c7b359025ca34d744fe5380d3eb71b9b3f59af67bb1880811fd5dc8b37000d8640a419620b8fcfce0153b51fe7849ed89f22ccbf6dd95b327764a4c51564442ebe4d768f3045adceb444d612f17736d5d66a6ce7139f4f0b172b9aebb85a56d2328f8872fe944ab64c283360ad2dfc6e784bab4e579c0808d319fac7",
);

/// The primes of a pair as integers (the constants above are valid hex;
/// an edited, invalid constant parses as zero and is refused by `Dealer`).
pub fn primes(pair: (&str, &str)) -> (BigUint, BigUint) {
    let hex = |s: &str| BigUint::parse_bytes(s.as_bytes(), 16).unwrap_or_default();
    (hex(pair.0), hex(pair.1))
}
