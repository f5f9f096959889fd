//! Private model testing: the revealed result is exactly the total
//! confusion matrix of the parties' local evaluations; bad input is refused.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ml_he::data::Dataset;
use ml_he::testing::*;
use ml_he::Error;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// A random 3-class data set and a fixed public "model".
fn data(n: usize, seed: u64) -> Dataset {
    let mut r = rng(seed);
    let x: Vec<Vec<f64>> = (0..n)
        .map(|_| (0..4).map(|_| r.gen_range(-1.0..1.0)).collect())
        .collect();
    let y = (0..n).map(|_| r.gen_range(0..3)).collect();
    Dataset::new(x, y).unwrap()
}

fn model(x: &[f64]) -> ml_he::Result<usize> {
    let s = x[0] + 0.5 * x[1] - x[2];
    Ok(if s < -0.3 {
        0
    } else if s < 0.4 {
        1
    } else {
        2
    })
}

#[test]
fn reveals_exactly_the_total_counts() {
    let (n, t) = (4usize, 3usize);
    let mut r = rng(1);
    let params = TestingParams::new(n, t, 3, [5; 32]).unwrap();
    let mut parties: Vec<TestParty> = (1..=n as u32)
        .map(|i| TestParty::new(&params, i, &mut r).unwrap())
        .collect();
    let shares: Vec<_> = parties
        .iter_mut()
        .map(|p| p.public_key_share(&mut r).unwrap())
        .collect();
    let key = TestingKey::from_shares(&params, shares).unwrap();
    deal_all(&mut parties, &mut r).unwrap();
    for p in &mut parties {
        p.set_key(key.clone()).unwrap();
    }
    let sets: Vec<Dataset> = (0..n).map(|i| data(50 + 17 * i, 10 + i as u64)).collect();
    let mut server = TestingServer::new(&key);
    let mut expected = ConfusionMatrix::new(3);
    let mut sent = Vec::new();
    for (p, d) in parties.iter().zip(&sets) {
        let cm = p.evaluate(d, model).unwrap();
        assert_eq!(cm.total(), d.len() as u64);
        expected.add(&cm).unwrap();
        let bytes = p.encrypt_counts(&cm, &mut r).unwrap();
        sent.push(bytes.clone());
        server.add(&bytes).unwrap();
    }
    // duplicates and garbage are refused
    assert!(matches!(
        server.add(&sent[0]),
        Err(Error::DuplicateSubmission { party: 1 })
    ));
    let mut fresh = TestingServer::new(&key);
    let b = &sent[1];
    assert!(matches!(
        fresh.add(&b[..b.len() - 1]),
        Err(Error::Malformed { .. })
    ));
    assert!(matches!(fresh.add(&b[..40]), Err(Error::Malformed { .. })));

    let committee = [2u32, 3, 4];
    let request = server.decryption_request(&committee, &mut r).unwrap();
    let dshares: Vec<Vec<u8>> = committee
        .iter()
        .map(|&i| {
            parties[i as usize - 1]
                .decryption_share(&request, &mut r)
                .unwrap()
        })
        .collect();
    let result = combine(&key, &request, &dshares).unwrap();
    assert_eq!(result.confusion, expected);
    assert_eq!(result.contributors, vec![1, 2, 3, 4]);
    let total: usize = sets.iter().map(|d| d.len()).sum();
    assert_eq!(result.confusion.total(), total as u64);
    let acc_plain = {
        let mut c = 0;
        for d in &sets {
            for (x, &y) in d.x.iter().zip(&d.y) {
                c += usize::from(model(x).unwrap() == y);
            }
        }
        c as f64 / total as f64
    };
    assert!((result.confusion.accuracy() - acc_plain).abs() < 1e-12);

    // t − 1 cannot decrypt
    assert!(matches!(
        server.decryption_request(&[1, 2], &mut r),
        Err(Error::Threshold(threshold::Error::TooFewShares { .. }))
    ));
    assert!(matches!(
        combine(&key, &request, &dshares[..2]),
        Err(Error::Threshold(threshold::Error::TooFewShares { .. }))
    ));
}
