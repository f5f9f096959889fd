#![allow(dead_code, clippy::unwrap_used)]
//! Shared test fixtures: keys are generated once per parameter set.

use std::sync::OnceLock;

use ckks::{
    Complex, Encoder, Evaluator, GaloisKeys, Parameters, Preset, PublicKey, RelinKey, SecretKey,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

pub struct Ctx {
    pub params: Parameters,
    pub sk: SecretKey,
    pub pk: PublicKey,
    pub rlk: RelinKey,
    pub encoder: Encoder,
    pub eval: Evaluator,
}

pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

fn make(preset: Preset, seed: u64) -> Ctx {
    let params = Parameters::preset(preset).unwrap();
    let mut r = rng(seed);
    let sk = SecretKey::generate(&params, &mut r);
    let pk = PublicKey::generate(&sk, &mut r).unwrap();
    let rlk = RelinKey::generate(&sk, &mut r).unwrap();
    Ctx {
        encoder: Encoder::new(&params),
        eval: Evaluator::new(&params),
        params,
        sk,
        pk,
        rlk,
    }
}

/// N = 8192, Q = [46, 40, 40, 40], P = [50], 128-bit secure.
pub fn n8192() -> &'static Ctx {
    static C: OnceLock<Ctx> = OnceLock::new();
    C.get_or_init(|| make(Preset::N8192, 1))
}

/// N = 16384, Q = [50, 40 × 7], P = [50, 50], 128-bit secure.
pub fn n16384() -> &'static Ctx {
    static C: OnceLock<Ctx> = OnceLock::new();
    C.get_or_init(|| make(Preset::N16384, 2))
}

pub fn galois(ctx: &Ctx, steps: &[i64], conj: bool) -> GaloisKeys {
    GaloisKeys::generate_with_conjugation(&ctx.sk, steps, conj, &mut rng(99)).unwrap()
}

pub fn uniform(n: usize, lo: f64, hi: f64, seed: u64) -> Vec<f64> {
    let mut r = rng(seed);
    (0..n).map(|_| r.gen_range(lo..hi)).collect()
}

pub fn uniform_complex(n: usize, seed: u64) -> Vec<Complex> {
    let mut r = rng(seed);
    (0..n)
        .map(|_| Complex::new(r.gen_range(-1.0..1.0), r.gen_range(-1.0..1.0)))
        .collect()
}

/// log2 of the largest absolute difference.
pub fn max_err_log2(got: &[f64], want: &[f64]) -> f64 {
    assert!(got.len() >= want.len());
    got.iter()
        .zip(want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max)
        .log2()
}
