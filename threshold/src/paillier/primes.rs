//! Safe-prime generation for the dealer.
//!
//! A candidate `p' = q0 + 2k` is sieved together with `p = 2p' + 1` by
//! the odd primes below [`SIEVE_LIMIT`] (residues of `q0` computed once,
//! then stepped in machine words), survivors get a base-2 Fermat test on
//! `p` (cheap, and it rejects almost every composite), and only then the
//! full `num-prime` probable-prime tests on `p'` and `p`. This is an order
//! of magnitude faster than drawing primes and testing `(p - 1) / 2`.

use num_bigint::{BigUint, RandBigInt};
use num_prime::nt_funcs::is_prime;
use num_traits::One;
use rand_core::{CryptoRng, RngCore};

/// Sieve bound.
const SIEVE_LIMIT: u32 = 1 << 14;
/// Candidates examined from one random start before drawing a new one.
const WINDOW: u32 = 1 << 16;

fn odd_primes_below(limit: u32) -> Vec<u32> {
    let mut composite = vec![false; limit as usize];
    let mut out = Vec::new();
    for i in 3..limit as usize {
        if i % 2 == 1 && !composite[i] {
            out.push(i as u32);
            let mut j = i * i;
            while j < limit as usize {
                composite[j] = true;
                j += i;
            }
        }
    }
    out
}

/// A safe prime of exactly `bits` bits with the top two bits set (so the
/// product of two of them has exactly `2 * bits` bits). `bits >= 16`.
pub(crate) fn gen_safe_prime<R: RngCore + CryptoRng>(bits: u64, rng: &mut R) -> BigUint {
    let small = odd_primes_below(SIEVE_LIMIT);
    let qbits = bits - 1;
    loop {
        // q0: qbits bits, top two set, odd.
        let mut q0 = rng.gen_biguint(qbits);
        q0.set_bit(qbits - 1, true);
        q0.set_bit(qbits - 2, true);
        q0.set_bit(0, true);
        let residues: Vec<u32> = small
            .iter()
            .map(|&s| {
                let r = &q0 % s;
                r.to_u32_digits().first().copied().unwrap_or(0)
            })
            .collect();
        for k in 0..WINDOW {
            // q = q0 + 2k; reject if s | q or s | 2q + 1 (q ≡ (s - 1) / 2).
            let sieved = small.iter().zip(&residues).any(|(&s, &r)| {
                let rq = ((r as u64 + 2 * k as u64) % s as u64) as u32;
                rq == 0 || rq == (s - 1) / 2
            });
            if sieved {
                continue;
            }
            let q = &q0 + BigUint::from(2 * k);
            if q.bits() != qbits {
                break;
            }
            let p: BigUint = (&q << 1u32) + 1u32;
            let two = BigUint::from(2u32);
            if !two.modpow(&(&p - 1u32), &p).is_one() {
                continue;
            }
            if is_prime(&q, None).probably() && is_prime(&p, None).probably() {
                return p;
            }
        }
    }
}

/// Whether `p` is a safe prime (probabilistic tests on `p` and `(p-1)/2`).
pub(crate) fn is_safe_prime(p: &BigUint) -> bool {
    if p.bits() < 3 || !p.bit(0) {
        return false;
    }
    let q: BigUint = p >> 1u32;
    is_prime(&q, None).probably() && is_prime(p, None).probably()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn generated_primes_are_safe_and_sized() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(5);
        for bits in [16u64, 40, 128, 256] {
            let p = gen_safe_prime(bits, &mut rng);
            assert_eq!(p.bits(), bits);
            assert!(p.bit(bits - 2));
            assert!(is_safe_prime(&p), "{p}");
        }
        assert!(!is_safe_prime(&BigUint::from(13u32))); // 6 is not prime
        assert!(is_safe_prime(&BigUint::from(23u32)));
    }
}
