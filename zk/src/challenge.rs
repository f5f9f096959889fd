//! Sparse ternary challenges: `w` coefficients ±1, the rest 0, expanded
//! from a 32-byte hash.

use rlwe::sample;

/// log2 of the number of challenges of weight `w` in degree `n`:
/// `log2(C(n, w)·2^w)`.
pub fn log2_challenge_space(n: usize, w: usize) -> f64 {
    if w > n {
        return 0.0;
    }
    let log2_binom: f64 = (0..w)
        .map(|i| ((n - i) as f64).log2() - ((i + 1) as f64).log2())
        .sum();
    log2_binom + w as f64
}

/// The smallest weight whose challenge space has at least `2^bits`
/// elements in degree `n`, if one below `n/2` exists.
pub fn challenge_weight(n: usize, bits: f64) -> Option<usize> {
    (1..=n / 2).find(|&w| log2_challenge_space(n, w) >= bits)
}

/// The challenge for `seed`: exactly `w` non-zero coefficients, positions
/// and signs uniform (a partial Fisher–Yates shuffle driven by ChaCha20
/// expanded from the seed).
pub fn expand(seed: &[u8; 32], n: usize, w: usize) -> Vec<i64> {
    let mut rng = sample::expand_seed(seed, b"hekit/zk/challenge/v1");
    sample::sparse_ternary(n, w, &mut rng)
}
