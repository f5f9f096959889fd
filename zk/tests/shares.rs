//! The proof of correct decryption shares: honest proofs verify (through
//! their bytes); a shifted share, another member's commitment, another
//! context or a share list with one share swapped is rejected; malformed
//! bytes and bad parameters give specific errors.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rlwe::params::{Params, SecurityLevel};
use rlwe::poly::{Poly, Representation, RingContext};
use rlwe::sample;
use zk::*;

const NOISE: u128 = 1 << 70;

struct Setup {
    zp: ShareParams,
    key: ShareKey,
    com: ShareCommitment,
    s: Poly,
    rng: ChaCha20Rng,
}

fn ring() -> Arc<RingContext> {
    let params = Params::builder()
        .degree(1024)
        .q_bits(&[60, 60, 60])
        .security(SecurityLevel::None)
        .build()
        .unwrap();
    params.ring_q_top().clone()
}

fn setup(seed: u8, count: usize) -> Setup {
    let ring = ring();
    let mut rng = ChaCha20Rng::from_seed([seed; 32]);
    let zp = ShareParams::new(&ring, 1 << 20, NOISE, count).unwrap();
    let a1 = sample::uniform_poly(&ring, Representation::Ntt, &mut rng);
    let a2 = sample::uniform_poly(&ring, Representation::Ntt, &mut rng);
    let key = ShareKey::new(&zp, &a1, &a2).unwrap();
    // S uniform (a Shamir share), E within ±2^20.
    let s = sample::uniform_poly(&ring, Representation::Ntt, &mut rng);
    let mut k = Vec::new();
    for a in [&a1, &a2] {
        let e: Vec<i64> = (0..1024)
            .map(|_| rng.gen_range(-(1 << 20)..=(1 << 20)))
            .collect();
        let mut p = sample::small_poly(&ring, &e);
        p.to_ntt();
        p.mul_acc(a, &s).unwrap();
        k.push(p);
    }
    let com = ShareCommitment::new(&zp, &k[0], &k[1]).unwrap();
    Setup {
        zp,
        key,
        com,
        s,
        rng,
    }
}

/// `count` multipliers and shares `M·S + e` with `|e| ≤ NOISE`.
fn shares(st: &mut Setup, count: usize) -> (Vec<Poly>, Vec<Poly>, Vec<Vec<i128>>) {
    let ring = st.zp.ring().clone();
    let mut ms = Vec::new();
    let mut ds = Vec::new();
    let mut es = Vec::new();
    for _ in 0..count {
        let m = sample::uniform_poly(&ring, Representation::Ntt, &mut st.rng);
        let e: Vec<i128> = (0..1024)
            .map(|_| st.rng.gen_range(-(NOISE as i128)..=NOISE as i128))
            .collect();
        let mut d = sample::wide_poly(&ring, &e);
        d.to_ntt();
        d.mul_acc(&m, &st.s).unwrap();
        ms.push(m);
        ds.push(d);
        es.push(e);
    }
    (ms, ds, es)
}

/// Honest proofs of 1 and 3 shares verify through their bytes (the stated
/// length), and the stated bounds are the documented formulas.
#[test]
fn honest_share_proofs_verify() {
    let mut st = setup(1, 3);
    let w = ShareWitness::new(&st.zp, &st.key, &st.com, &st.s).unwrap();
    let ctx = [5u8; 32];
    for count in [1, 3] {
        let (ms, ds, es) = shares(&mut st, count);
        let sr = SharesRef {
            multipliers: &ms,
            shares: &ds,
        };
        let proof = prove_shares(&st.zp, &st.key, &st.com, &ctx, sr, &w, &es, &mut st.rng).unwrap();
        let bytes = proof.to_bytes(&st.zp);
        assert_eq!(bytes.len(), st.zp.proof_bytes(count));
        let back = ShareProof::from_bytes(&st.zp, count, &bytes).unwrap();
        assert_eq!(back, proof);
        verify_shares(&st.zp, &st.key, &st.com, &ctx, sr, &back).unwrap();
    }
    // κ = N·(count + 2), bound 2(γ − β) = 2·w·(κ − 1)·B.
    let zp = &st.zp;
    assert_eq!(zp.kappa(), 1024 * 5);
    let w = zp.weight() as u128;
    assert_eq!(zp.offset_bound(), 2 * w * (1024 * 5 - 1) * NOISE);
    assert_eq!(
        ShareParams::offset_bound_for(1024, 3, NOISE).unwrap(),
        zp.offset_bound()
    );
    let p = zp.acceptance_probability(3);
    assert!((0.30..0.45).contains(&p), "acceptance {p}");
}

/// A share moved by a chosen offset — far below the scale of a message,
/// 2^20 times above the proof's noise bound — does not verify with the
/// honest proof, and its sender cannot prove it (the witness is out of
/// bound); neither does a proof transfer to another member's commitment,
/// another context, or a list with a share swapped.
#[test]
fn shifted_shares_and_transfers_are_rejected() {
    let mut st = setup(2, 2);
    let w = ShareWitness::new(&st.zp, &st.key, &st.com, &st.s).unwrap();
    let ctx = [6u8; 32];
    let (ms, ds, es) = shares(&mut st, 2);
    let sr = SharesRef {
        multipliers: &ms,
        shares: &ds,
    };
    let proof = prove_shares(&st.zp, &st.key, &st.com, &ctx, sr, &w, &es, &mut st.rng).unwrap();
    let ring = st.zp.ring().clone();
    // Offset: 2^110 on every coefficient of share 1.
    let shift = st.zp.offset_bound() << 20;
    let mut shifted = ds.clone();
    let mut off = sample::wide_poly(&ring, &vec![shift as i128; 1024]);
    off.to_ntt();
    shifted[1].add_assign(&off).unwrap();
    let bad = SharesRef {
        multipliers: &ms,
        shares: &shifted,
    };
    assert!(matches!(
        verify_shares(&st.zp, &st.key, &st.com, &ctx, bad, &proof),
        Err(Error::Rejected { .. })
    ));
    let mut es_bad = es.clone();
    for x in &mut es_bad[1] {
        *x += shift as i128;
    }
    assert!(matches!(
        prove_shares(
            &st.zp,
            &st.key,
            &st.com,
            &ctx,
            bad,
            &w,
            &es_bad,
            &mut st.rng
        ),
        Err(Error::WitnessOutOfBound { .. })
    ));
    // Another context, another member's commitment, swapped shares.
    assert!(verify_shares(&st.zp, &st.key, &st.com, &[7u8; 32], sr, &proof).is_err());
    let other = setup(3, 2);
    let other_com =
        ShareCommitment::new(&st.zp, &other.com.polys()[0], &other.com.polys()[1]).unwrap();
    assert!(verify_shares(&st.zp, &st.key, &other_com, &ctx, sr, &proof).is_err());
    let swapped = vec![ds[1].clone(), ds[0].clone()];
    let sw = SharesRef {
        multipliers: &ms,
        shares: &swapped,
    };
    assert!(verify_shares(&st.zp, &st.key, &st.com, &ctx, sw, &proof).is_err());
    // A witness that does not open the commitment is refused.
    let wrong = sample::uniform_poly(&ring, Representation::Ntt, &mut st.rng);
    assert!(matches!(
        ShareWitness::new(&st.zp, &st.key, &st.com, &wrong),
        Err(Error::WitnessOutOfBound { .. })
    ));
}

/// Malformed proof bytes: wrong length, version, a residue at its prime,
/// a share count the parameters do not allow; bad parameters.
#[test]
fn malformed_share_proofs_and_parameters() {
    let mut st = setup(4, 1);
    let w = ShareWitness::new(&st.zp, &st.key, &st.com, &st.s).unwrap();
    let (ms, ds, es) = shares(&mut st, 1);
    let sr = SharesRef {
        multipliers: &ms,
        shares: &ds,
    };
    let ctx = [8u8; 32];
    let proof = prove_shares(&st.zp, &st.key, &st.com, &ctx, sr, &w, &es, &mut st.rng).unwrap();
    let bytes = proof.to_bytes(&st.zp);
    let zp = &st.zp;
    let err = |b: &[u8], k: usize| ShareProof::from_bytes(zp, k, b).unwrap_err();
    assert!(matches!(
        err(&bytes[..bytes.len() - 1], 1),
        Error::Malformed { .. }
    ));
    assert!(matches!(err(&bytes, 2), Error::Malformed { .. }));
    assert!(matches!(err(&bytes, 0), Error::Malformed { .. }));
    let mut v = bytes.clone();
    v[0] = 9;
    assert!(matches!(err(&v, 1), Error::Malformed { .. }));
    // The first residue of z_s set to all ones: at least q − 1 + 1 > q − 1.
    let mut v = bytes.clone();
    for b in &mut v[33..40] {
        *b = 0xff;
    }
    v[40] |= 0x0f;
    assert!(matches!(err(&v, 1), Error::Malformed { .. }));
    // A flipped response bit decodes but does not verify.
    let mut v = bytes.clone();
    let last = v.len() - 20;
    v[last] ^= 1;
    if let Ok(p) = ShareProof::from_bytes(zp, 1, &v) {
        assert!(verify_shares(zp, &st.key, &st.com, &ctx, sr, &p).is_err());
    }
    // Parameters: count 0 and 9, noise masks past 2^118, no binding at
    // a small Q.
    let ring = ring();
    for c in [0, MAX_SHARES_PER_PROOF + 1] {
        assert!(matches!(
            ShareParams::new(&ring, 1, 1, c),
            Err(Error::InvalidParameters(_))
        ));
    }
    assert!(ShareParams::new(&ring, 1, 1 << 110, 2).is_err());
    assert!(matches!(
        ShareParams::new(&ring, 1 << 45, 1, 2),
        Err(Error::InvalidParameters(_))
    ));
    // Count mismatch between statement and noise.
    assert!(matches!(
        prove_shares(zp, &st.key, &st.com, &ctx, sr, &w, &[], &mut st.rng),
        Err(Error::WitnessOutOfBound { .. })
    ));
}
