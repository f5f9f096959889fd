//! Threshold Paillier: what each test proves is in its doc comment.
#![allow(clippy::unwrap_used)]

use num_bigint::{BigInt, BigUint};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use threshold::paillier::{
    test_primes, Dealer, KeyShare, PartialDecryption, Proof, PublicParams, ThresholdCiphertext,
    CHALLENGE_BITS, STATISTICAL_MARGIN_BITS,
};
use threshold::{Error, PartyId};

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// 512-bit `n` from published safe primes (insecure opt-out).
fn deal512(t: usize, n: usize, rng: &mut ChaCha20Rng) -> (PublicParams, Vec<KeyShare>) {
    let (p, q) = test_primes::primes(test_primes::SAFE256);
    Dealer::deal_with_primes_insecure(p, q, t, n, rng).unwrap()
}

/// Encrypts `values` and sums them with the ordinary paillier API.
fn encrypted_sum(
    params: &PublicParams,
    values: &[u64],
    rng: &mut ChaCha20Rng,
) -> (paillier::Ciphertext, BigUint) {
    let pk = params.public_key();
    let cts: Vec<_> = values
        .iter()
        .map(|&v| pk.encrypt(&BigUint::from(v), rng).unwrap())
        .collect();
    let total = paillier::sum(&cts).unwrap();
    let expect: BigUint = values.iter().map(|&v| BigUint::from(v)).sum();
    (total, expect)
}

fn partials<C: ThresholdCiphertext>(
    shares: &[KeyShare],
    ct: &C,
    rng: &mut ChaCha20Rng,
) -> Vec<PartialDecryption> {
    shares
        .iter()
        .map(|s| s.partial_decrypt(ct, rng).unwrap())
        .collect()
}

/// For n ∈ {2, 3, 5, 16} and several t: a sum of encrypted values computed
/// with the ordinary `paillier` API decrypts correctly from several
/// different t-subsets (first t, last t, random t in shuffled order, all
/// n), every proof verifies, and t − 1 partial decryptions are
/// `TooFewShares` (never a wrong answer).
#[test]
fn any_t_of_n_decrypt_a_paillier_sum() {
    let mut rng = rng(1);
    for (n, ts) in [
        (2usize, vec![1usize, 2]),
        (3, vec![2, 3]),
        (5, vec![2, 3, 5]),
        (16, vec![2, 9, 16]),
    ] {
        for t in ts {
            let (params, shares) = deal512(t, n, &mut rng);
            assert_eq!((params.threshold(), params.parties()), (t, n));
            let values: Vec<u64> = (0..6)
                .map(|i| 1_000_003 * (i + 1) * (n as u64 + t as u64))
                .collect();
            let (total, expect) = encrypted_sum(&params, &values, &mut rng);
            let all = partials(&shares, &total, &mut rng);
            for pd in &all {
                params.verify(&total, pd).unwrap();
            }
            let mut subsets: Vec<Vec<PartialDecryption>> =
                vec![all[..t].to_vec(), all[n - t..].to_vec(), all.clone()];
            for _ in 0..2 {
                let mut s = all.clone();
                s.shuffle(&mut rng);
                s.truncate(t);
                subsets.push(s);
            }
            for s in &subsets {
                assert_eq!(params.combine(&total, s).unwrap(), expect, "n={n} t={t}");
                assert_eq!(params.combine_valid(&total, s).unwrap().plaintext, expect);
            }
            if t > 1 {
                let short = &subsets[3][..t - 1];
                assert_eq!(
                    params.combine(&total, short),
                    Err(Error::TooFewShares {
                        got: t - 1,
                        need: t
                    })
                );
                assert_eq!(
                    params.combine_valid(&total, short),
                    Err(Error::TooFewShares {
                        got: t - 1,
                        need: t
                    })
                );
            }
            assert_eq!(
                params.combine(&total, &[]),
                Err(Error::TooFewShares { got: 0, need: t })
            );
        }
    }
}

/// Other homomorphic results decrypt jointly too: a scalar multiple, a
/// subtraction giving a negative signed value (decoded with the ordinary
/// `paillier::decode_signed`), zero, and `n − 1`.
#[test]
fn other_homomorphic_results_and_edge_plaintexts() {
    let mut rng = rng(2);
    let (params, shares) = deal512(3, 5, &mut rng);
    let pk = params.public_key();
    let a = pk.encrypt(&BigUint::from(40u32), &mut rng).unwrap();
    let b = pk.encrypt(&BigUint::from(100u32), &mut rng).unwrap();
    let diff = (&(&a * 3i64) - &b).unwrap(); // 3·40 − 100 = 20
    let neg = (&diff - &pk.encrypt(&BigUint::from(50u32), &mut rng).unwrap()).unwrap(); // −30
    let m = params
        .combine(&neg, &partials(&shares[1..4], &neg, &mut rng))
        .unwrap();
    assert_eq!(paillier::decode_signed(pk, &m).unwrap(), BigInt::from(-30));
    for v in [BigUint::from(0u32), pk.n() - 1u32] {
        let ct = pk.encrypt(&v, &mut rng).unwrap();
        let ps = partials(&shares[2..], &ct, &mut rng);
        assert_eq!(params.combine(&ct, &ps).unwrap(), v);
    }
}

/// The dealer's own safe-prime generation (insecure sizes so it is fast):
/// the modulus has exactly the requested size and the dealing decrypts.
#[test]
fn dealer_generates_safe_primes() {
    let mut rng = rng(3);
    for bits in [256u32, 512] {
        let (params, shares) =
            Dealer::deal(paillier::Bits::Insecure(bits), 2, 3, &mut rng).unwrap();
        assert_eq!(params.public_key().bits(), bits as u64);
        let (total, expect) = encrypted_sum(&params, &[5, 7, 11], &mut rng);
        let ps = partials(&shares[1..], &total, &mut rng);
        assert_eq!(params.combine(&total, &ps).unwrap(), expect);
    }
}

/// Realistic sizes through the secure path (no opt-out): a 2048-bit
/// modulus from published safe primes (a fresh 2048-bit dealing needs
/// seconds of safe-prime search and is not run here), 2 of 3.
#[test]
fn secure_size_2048_bits() {
    let mut rng = rng(4);
    let (p, q) = test_primes::primes(test_primes::SAFE1024);
    let (params, shares) = Dealer::deal_with_primes(p, q, 2, 3, &mut rng).unwrap();
    assert_eq!(params.public_key().bits(), 2048);
    let (total, expect) = encrypted_sum(&params, &[u64::MAX, u64::MAX, 3], &mut rng);
    let ps = vec![
        shares[2].partial_decrypt(&total, &mut rng).unwrap(),
        shares[0].partial_decrypt(&total, &mut rng).unwrap(),
    ];
    assert_eq!(params.combine(&total, &ps).unwrap(), expect);
    // Proof size: nonce |n²| + |Δ| + 2·256 + 128 bits; z has at most one more.
    let nonce =
        4096 + params.delta().bits() as usize + 2 * CHALLENGE_BITS + STATISTICAL_MARGIN_BITS;
    assert_eq!(params.nonce_bits(), nonce);
    for pd in &ps {
        assert!(pd.proof().response().bits() as usize <= nonce + 1);
        assert!(pd.proof().response().bits() as usize >= nonce - 64);
    }
}

/// A tampered partial decryption value, a tampered response, a tampered
/// challenge, a relabelled share and an honest share of another ciphertext
/// are each rejected by `verify` and by strict `combine` with
/// `InvalidProof` naming that party; `combine_valid` drops the cheater and
/// still decrypts with the honest remainder, reporting who was dropped.
#[test]
fn tampering_is_detected_and_the_cheater_named() {
    let mut rng = rng(5);
    let (params, shares) = deal512(3, 5, &mut rng);
    let pk = params.public_key();
    let nn = pk.n_squared().clone();
    let (total, expect) = encrypted_sum(&params, &[3, 4, 5], &mut rng);
    let (other, _) = encrypted_sum(&params, &[9], &mut rng);
    let honest = partials(&shares, &total, &mut rng);
    let cheater = PartyId(2);
    let pd = &honest[1];
    let one_plus_n = pk.n() + 1u32;
    let forged: Vec<(&str, PartialDecryption)> = vec![
        (
            "value times (1 + n)",
            PartialDecryption::from_parts(
                &params,
                cheater,
                (pd.value() * &one_plus_n) % &nn,
                pd.proof().clone(),
            ),
        ),
        (
            "value squared",
            PartialDecryption::from_parts(
                &params,
                cheater,
                (pd.value() * pd.value()) % &nn,
                pd.proof().clone(),
            ),
        ),
        (
            "response + 1",
            PartialDecryption::from_parts(
                &params,
                cheater,
                pd.value().clone(),
                Proof::from_parts(*pd.proof().challenge(), pd.proof().response() + 1u32),
            ),
        ),
        ("challenge bit flipped", {
            let mut e = *pd.proof().challenge();
            e[31] ^= 1;
            PartialDecryption::from_parts(
                &params,
                cheater,
                pd.value().clone(),
                Proof::from_parts(e, pd.proof().response().clone()),
            )
        }),
        (
            "party 3's share relabelled",
            PartialDecryption::from_parts(
                &params,
                cheater,
                honest[2].value().clone(),
                honest[2].proof().clone(),
            ),
        ),
        (
            "share of another ciphertext",
            shares[1].partial_decrypt(&other, &mut rng).unwrap(),
        ),
        (
            "oversized response",
            PartialDecryption::from_parts(
                &params,
                cheater,
                pd.value().clone(),
                Proof::from_parts(
                    *pd.proof().challenge(),
                    BigUint::from(1u32) << (params.nonce_bits() + 1),
                ),
            ),
        ),
    ];
    let bad_proof = Err(Error::InvalidProof { party: cheater });
    for (what, f) in &forged {
        assert_eq!(params.verify(&total, f), bad_proof, "{what}");
        // Strict: the cheater is named even though 4 honest shares are present.
        let mut set = vec![
            honest[0].clone(),
            f.clone(),
            honest[2].clone(),
            honest[3].clone(),
            honest[4].clone(),
        ];
        assert_eq!(
            params.combine(&total, &set).map(|_| ()),
            bad_proof,
            "{what}"
        );
        // Lenient: dropped, the other four decrypt.
        let got = params.combine_valid(&total, &set).unwrap();
        assert_eq!(got.plaintext, expect, "{what}");
        assert_eq!(
            got.rejected,
            vec![(cheater, Error::InvalidProof { party: cheater })]
        );
        assert_eq!(got.used, vec![PartyId(1), PartyId(3), PartyId(4)]);
        // With only t = 3 shares including the cheater, 2 valid remain.
        set.truncate(3);
        assert_eq!(
            params.combine_valid(&total, &set),
            Err(Error::TooFewShares { got: 2, need: 3 })
        );
    }
    // Values that are not units below n² are InvalidShare, naming the party.
    for v in [pk.n().clone(), nn.clone(), BigUint::from(0u32)] {
        let f = PartialDecryption::from_parts(&params, cheater, v, pd.proof().clone());
        assert!(
            matches!(params.verify(&total, &f), Err(Error::InvalidShare { party, .. }) if party == cheater)
        );
    }
}

/// Byte-level tampering: flipping any single byte of a serialized partial
/// decryption's value or proof is caught — either on reading (malformed /
/// invalid share) or by the proof (`InvalidProof` for the right party).
#[test]
fn byte_tampering_is_caught() {
    let mut rng = rng(6);
    let (params, shares) = deal512(2, 3, &mut rng);
    let (total, _) = encrypted_sum(&params, &[1, 2], &mut rng);
    let pd = shares[2].partial_decrypt(&total, &mut rng).unwrap();
    let bytes = pd.to_bytes();
    assert_eq!(bytes.len() as u64, pd.serialized_size());
    let back = params.partial_from_bytes(&bytes).unwrap();
    assert_eq!(back, pd);
    params.verify(&total, &back).unwrap();
    // version, key fingerprint, party (varints): edits there are other errors
    let header = postcard::to_allocvec(&(
        threshold::paillier::VERSION,
        params.public_key().fingerprint(),
        3u32,
    ))
    .unwrap()
    .len();
    let mut caught_by_proof = 0;
    for i in header..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= 0x40;
        match params.partial_from_bytes(&b) {
            Err(Error::Malformed { .. }) | Err(Error::InvalidShare { .. }) => {}
            Err(e) => panic!("byte {i}: unexpected {e:?}"),
            Ok(f) => {
                assert_eq!(
                    params.verify(&total, &f),
                    Err(Error::InvalidProof { party: PartyId(3) }),
                    "byte {i}"
                );
                caught_by_proof += 1;
            }
        }
    }
    assert!(caught_by_proof > 100);
}

/// Bad inputs give specific errors: a ciphertext under another key (in
/// `partial_decrypt`, `verify`, `combine`), partial decryptions from
/// another dealing, duplicate and out-of-range parties, invalid thresholds
/// and primes, insecure sizes without the opt-out.
#[test]
fn bad_inputs_give_specific_errors() {
    let mut rng = rng(7);
    let (params, shares) = deal512(2, 3, &mut rng);
    let (q1, q2) = test_primes::primes(test_primes::SAFE256_B);
    let (params_b, shares_b) = Dealer::deal_with_primes_insecure(q1, q2, 2, 3, &mut rng).unwrap();
    let (total, expect) = encrypted_sum(&params, &[10, 20], &mut rng);
    let (total_b, _) = encrypted_sum(&params_b, &[10, 20], &mut rng);
    let mismatch = Err(Error::Paillier(paillier::Error::KeyMismatch));

    // Ciphertext under another key.
    assert_eq!(
        shares[0].partial_decrypt(&total_b, &mut rng).map(|_| ()),
        mismatch
    );
    let ps = partials(&shares, &total, &mut rng);
    assert_eq!(params.verify(&total_b, &ps[0]), mismatch);
    assert_eq!(params.combine(&total_b, &ps).map(|_| ()), mismatch);
    assert_eq!(params.combine_valid(&total_b, &ps).map(|_| ()), mismatch);
    // An ordinary (non-threshold) paillier key with the same plaintexts.
    let (pk_plain, _) = paillier::test_keys::small_keypair().unwrap();
    let ct_plain = pk_plain.encrypt(&BigUint::from(1u32), &mut rng).unwrap();
    assert_eq!(
        shares[1].partial_decrypt(&ct_plain, &mut rng).map(|_| ()),
        mismatch
    );

    // Partial decryptions from another dealing.
    let pb = shares_b[0].partial_decrypt(&total_b, &mut rng).unwrap();
    assert!(matches!(
        params.verify(&total, &pb),
        Err(Error::ParameterMismatch { .. })
    ));
    assert!(matches!(
        params.combine(&total, &[ps[1].clone(), pb.clone()]),
        Err(Error::ParameterMismatch { .. })
    ));
    assert!(matches!(
        params.partial_from_bytes(&pb.to_bytes()),
        Err(Error::ParameterMismatch { .. })
    ));

    // Duplicate party: strict error; lenient drops the duplicate.
    let dup = vec![ps[0].clone(), ps[0].clone()];
    assert_eq!(
        params.combine(&total, &dup),
        Err(Error::DuplicateParty { party: PartyId(1) })
    );
    assert_eq!(
        params.combine_valid(&total, &dup),
        Err(Error::TooFewShares { got: 1, need: 2 })
    );
    let dup3 = vec![ps[0].clone(), ps[0].clone(), ps[2].clone()];
    let got = params.combine_valid(&total, &dup3).unwrap();
    assert_eq!(got.plaintext, expect);
    assert_eq!(
        got.rejected,
        vec![(PartyId(1), Error::DuplicateParty { party: PartyId(1) })]
    );

    // Parties outside 1..=n.
    for id in [0u32, 4, 1000] {
        let f = PartialDecryption::from_parts(
            &params,
            PartyId(id),
            ps[0].value().clone(),
            ps[0].proof().clone(),
        );
        let e = Err(Error::UnexpectedParty { party: PartyId(id) });
        assert_eq!(params.verify(&total, &f), e);
        assert_eq!(
            params
                .combine(&total, &[f.clone(), ps[1].clone()])
                .map(|_| ()),
            e
        );
    }

    // Dealing parameters.
    let (p, q) = test_primes::primes(test_primes::SAFE256);
    for (t, n) in [(0usize, 3usize), (4, 3), (1, 0), (2, 257)] {
        assert_eq!(
            Dealer::deal_with_primes_insecure(p.clone(), q.clone(), t, n, &mut rng).map(|_| ()),
            Err(Error::InvalidThreshold { t, n })
        );
    }
    // Ordinary (not safe) primes, equal primes.
    let (op, oq) = paillier::test_keys::primes(paillier::test_keys::P512);
    assert!(matches!(
        Dealer::deal_with_primes_insecure(op, oq, 2, 3, &mut rng),
        Err(Error::Paillier(paillier::Error::InvalidKey { .. }))
    ));
    assert!(matches!(
        Dealer::deal_with_primes_insecure(p.clone(), p.clone(), 2, 3, &mut rng),
        Err(Error::Paillier(paillier::Error::InvalidKey { .. }))
    ));
    // Below 2048 bits without the opt-out.
    assert_eq!(
        Dealer::deal_with_primes(p, q, 2, 3, &mut rng).map(|_| ()),
        Err(Error::Paillier(paillier::Error::InsecureKeySize {
            bits: 512
        }))
    );
    assert_eq!(
        Dealer::deal(paillier::Bits::Insecure(63), 2, 3, &mut rng).map(|_| ()),
        Err(Error::Paillier(paillier::Error::InsecureKeySize {
            bits: 63
        }))
    );
}

/// Serialization round trips (public parameters, partial decryptions, key
/// shares) preserve behaviour, sizes are reported, and malformed bytes are
/// rejected with specific errors: truncated, trailing, wrong version,
/// non-canonical integers, t > n, a verification key that is not a unit,
/// the insecure flag cleared, a key share that does not match its
/// verification key. `Debug` of a key share shows no secret.
#[test]
fn serialization_round_trips_and_validation() {
    let mut rng = rng(8);
    let (params, shares) = deal512(2, 3, &mut rng);
    let (total, expect) = encrypted_sum(&params, &[7, 8, 9], &mut rng);

    let pb = params.to_bytes();
    assert_eq!(pb.len() as u64, params.serialized_size());
    let params2 = PublicParams::from_bytes(&pb).unwrap();
    assert_eq!(params2, params);
    assert_eq!(params2.public_key(), params.public_key());
    let via_serde: PublicParams =
        postcard::from_bytes(&postcard::to_allocvec(&params).unwrap()).unwrap();
    assert_eq!(via_serde, params);

    // Key shares round-trip and still decrypt, with the re-read parameters.
    let shares2: Vec<KeyShare> = shares
        .iter()
        .map(|s| KeyShare::from_bytes(&s.to_bytes()).unwrap())
        .collect();
    assert_eq!(
        shares2[0].serialized_size(),
        shares[0].to_bytes().len() as u64
    );
    let ps: Vec<PartialDecryption> = shares2[1..]
        .iter()
        .map(|s| {
            let pd = s.partial_decrypt(&total, &mut rng).unwrap();
            params2.partial_from_bytes(&pd.to_bytes()).unwrap()
        })
        .collect();
    assert_eq!(params.combine(&total, &ps).unwrap(), expect);
    let via_serde: PartialDecryption =
        postcard::from_bytes(&postcard::to_allocvec(&ps[0]).unwrap()).unwrap();
    assert_eq!(via_serde, ps[0]);

    // Debug hides the secret.
    let dbg = format!("{:?}", shares[0]);
    assert!(
        dbg.contains("KeyShare") && dbg.contains("PartyId(1)"),
        "{dbg}"
    );
    let sb = shares[0].to_bytes();
    let secret_hex: String = sb[sb.len() - 8..]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(!dbg.contains(&secret_hex) && dbg.len() < 120, "{dbg}");

    // Malformed bytes.
    let malformed = |r: Result<PublicParams, Error>| matches!(r, Err(Error::Malformed { .. }));
    assert!(malformed(PublicParams::from_bytes(&pb[..pb.len() - 1])));
    assert!(malformed(PublicParams::from_bytes(
        &[pb.clone(), vec![0]].concat()
    )));
    assert!(malformed(PublicParams::from_bytes(&[])));
    let mut wrong_version = pb.clone();
    wrong_version[0] = 9;
    assert!(malformed(PublicParams::from_bytes(&wrong_version)));
    let pdb = ps[0].to_bytes();
    let mut pd_version = pdb.clone();
    pd_version[0] = threshold::paillier::VERSION as u8 + 1; // a one-byte varint
    assert!(matches!(
        params.partial_from_bytes(&pd_version),
        Err(Error::Malformed { .. })
    ));
    assert!(matches!(
        params.partial_from_bytes(&pdb[..pdb.len() - 3]),
        Err(Error::Malformed { .. })
    ));

    // Field-level edits through the wire struct (postcard layout: version
    // and insecure flag one byte each, then n with its varint length, s, t,
    // parties as varints — one byte each here — and so on).
    let n_bytes = params.public_key().n().to_bytes_be();
    let prefixed = |b: &[u8]| postcard::to_allocvec(b).unwrap(); // varint length ‖ bytes
    let s_at = 1 + 1 + prefixed(&n_bytes).len();
    let mut bad_s = pb.clone();
    assert_eq!(bad_s[s_at], 1); // s = 1 (Paillier)
    bad_s[s_at] = 0; // s = 0
    assert!(malformed(PublicParams::from_bytes(&bad_s)));
    let t_at = s_at + 1;
    let mut bad_t = pb.clone();
    assert_eq!(bad_t[t_at], 2);
    bad_t[t_at] = 4; // t = 4 > n = 3
    assert_eq!(
        PublicParams::from_bytes(&bad_t),
        Err(Error::InvalidThreshold { t: 4, n: 3 })
    );
    let mut cleared = pb.clone();
    assert_eq!(cleared[1], 1);
    cleared[1] = 0; // insecure flag off on a 512-bit modulus
    assert_eq!(
        PublicParams::from_bytes(&cleared),
        Err(Error::Paillier(paillier::Error::InsecureKeySize {
            bits: 512
        }))
    );
    // The last verification key replaced by n (not a unit of Z_{n²}).
    let wire: threshold::paillier::PublicParamsWire = postcard::from_bytes(&pb).unwrap();
    let mut edited = postcard::to_allocvec(&wire).unwrap();
    assert_eq!(edited, pb);
    let vk = params.verification_key(PartyId(3)).unwrap().to_bytes_be();
    // Replace the last key (its bytes with their length prefix) by n.
    edited.truncate(edited.len() - prefixed(&vk).len());
    edited.extend_from_slice(&prefixed(&n_bytes));
    assert!(malformed(PublicParams::from_bytes(&edited)));
    // Leading zero byte (non-canonical) in v.
    // v follows t and the party count (one varint byte each).
    let v_at = t_at + 2;
    let (v, rest) = postcard::take_from_bytes::<Vec<u8>>(&pb[v_at..]).unwrap();
    assert!(!v.is_empty() && v[0] != 0); // canonical: no leading zero
    let lead = [&pb[..v_at], &prefixed(&[&[0u8][..], &v].concat()), rest].concat();
    assert!(malformed(PublicParams::from_bytes(&lead)));

    // A key share whose secret was altered no longer matches its
    // verification key; one for party 9 of 3 is an unexpected party.
    let mut ks = shares[1].to_bytes().to_vec();
    let last = ks.len() - 1;
    ks[last] ^= 1;
    assert!(
        matches!(KeyShare::from_bytes(&ks), Err(Error::InvalidShare { party, .. }) if party == PartyId(2))
    );
    let mut ks = shares[1].to_bytes().to_vec();
    let party_at = 1 + pb.len(); // version (one varint byte), then the embedded parameters
    assert_eq!(ks[party_at], 2);
    ks[party_at] = 9;
    assert_eq!(
        KeyShare::from_bytes(&ks).map(|_| ()),
        Err(Error::UnexpectedParty { party: PartyId(9) })
    );
    assert!(matches!(
        KeyShare::from_bytes(&ks[..ks.len() - 1]),
        Err(Error::Malformed { .. })
    ));
}

/// A fresh 2048-bit dealing through the secure path (safe-prime search
/// included), 2 of 3, decrypts. The seeded generator makes the search (and
/// so the time, about a second) deterministic.
#[test]
fn fresh_2048_bit_dealing() {
    let mut rng = rng(9);
    let (params, shares) = Dealer::deal(paillier::Bits::B2048, 2, 3, &mut rng).unwrap();
    assert_eq!(params.public_key().bits(), 2048);
    let (total, expect) = encrypted_sum(&params, &[1, 2, 3], &mut rng);
    let ps = partials(&shares[..2], &total, &mut rng);
    assert_eq!(params.combine(&total, &ps).unwrap(), expect);
}

/// Damgård–Jurik with s ∈ {2, 3} (and s = 1 through the same path):
/// plaintexts beyond n, up to n^s − 1, encrypted as `DjCiphertext`s, added
/// (with wrap-around modulo n^s) and scaled, decrypt correctly from several
/// t-subsets; t − 1 is `TooFewShares`; a tampered share is `InvalidProof`
/// naming the party; a Paillier ciphertext given to s > 1 parameters is a
/// `ParameterMismatch`; parameters, ciphertexts and key shares round-trip
/// through bytes with `s` kept.
#[test]
fn damgard_jurik_s_greater_than_one() {
    let mut rng = rng(11);
    for (pair, s, t, n) in [
        (test_primes::SAFE128, 2u32, 2usize, 3usize),
        (test_primes::SAFE128, 3, 3, 5),
        (test_primes::SAFE256, 2, 9, 16),
        (test_primes::SAFE128, 1, 2, 3),
    ] {
        let (p, q) = test_primes::primes(pair);
        let (params, shares) = Dealer::deal_dj_with_primes(p, q, s, t, n, true, &mut rng).unwrap();
        assert_eq!(params.s(), s);
        let nmod = params.public_key().n().clone();
        let ns = params.plaintext_modulus().clone();
        assert_eq!(ns, num_traits::pow(nmod.clone(), s as usize));
        assert_eq!(params.ciphertext_modulus(), &(&ns * &nmod));
        let a = &ns - 5u32;
        let b = BigUint::from(7u32);
        let big = &ns / 3u32 + 12345u32;
        let ca = params.encrypt_dj(&a, &mut rng).unwrap();
        let cb = params.encrypt_dj(&b, &mut rng).unwrap();
        let cbig = params.encrypt_dj(&big, &mut rng).unwrap();
        let total = ca.add(&cb).unwrap().add(&cbig).unwrap();
        let expect = (&a + &b + &big) % &ns;
        assert!(s == 1 || expect > nmod, "the plaintext exceeds n");
        let scaled = cbig.mul_scalar(&BigUint::from(5u32));
        let all = partials(&shares, &total, &mut rng);
        let mut subsets = vec![all[..t].to_vec(), all[n - t..].to_vec()];
        let mut shuffled = all.clone();
        shuffled.shuffle(&mut rng);
        shuffled.truncate(t);
        subsets.push(shuffled);
        for set in &subsets {
            assert_eq!(
                params.combine(&total, set).unwrap(),
                expect,
                "s={s} t={t} n={n}"
            );
        }
        let ps = partials(&shares[n - t..], &scaled, &mut rng);
        assert_eq!(params.combine(&scaled, &ps).unwrap(), (&big * 5u32) % &ns);
        assert_eq!(
            params.combine(&total, &all[..t - 1]).map(|_| ()),
            Err(Error::TooFewShares {
                got: t - 1,
                need: t
            })
        );
        // Tampering.
        let nn = params.ciphertext_modulus();
        let forged = PartialDecryption::from_parts(
            &params,
            all[0].party(),
            (all[0].value() * (&nmod + 1u32)) % nn,
            all[0].proof().clone(),
        );
        assert_eq!(
            params.verify(&total, &forged),
            Err(Error::InvalidProof { party: PartyId(1) })
        );
        let mut set = all.clone();
        set[0] = forged;
        let got = params.combine_valid(&total, &set).unwrap();
        assert_eq!(got.plaintext, expect);
        assert_eq!(got.rejected.len(), 1);
        // Paillier ciphertexts: only for s = 1, where they agree with DJ.
        let pct = params
            .public_key()
            .encrypt(&BigUint::from(99u32), &mut rng)
            .unwrap();
        if s == 1 {
            let ps = partials(&shares[..t], &pct, &mut rng);
            assert_eq!(params.combine(&pct, &ps).unwrap(), BigUint::from(99u32));
        } else {
            assert!(matches!(
                shares[0].partial_decrypt(&pct, &mut rng),
                Err(Error::ParameterMismatch { .. })
            ));
        }
        // Out-of-range plaintext.
        assert!(matches!(
            params.encrypt_dj(&ns, &mut rng),
            Err(Error::Paillier(paillier::Error::PlaintextOutOfRange { .. }))
        ));
        // Serialization keeps s and validates against it.
        let params2 = PublicParams::from_bytes(&params.to_bytes()).unwrap();
        assert_eq!((params2.s(), &params2), (s, &params));
        let total2 = params2.dj_ciphertext_from_bytes(&total.to_bytes()).unwrap();
        assert_eq!(total2, total);
        assert_eq!(total.serialized_size(), total.to_bytes().len() as u64);
        let share2 = KeyShare::from_bytes(&shares[1].to_bytes()).unwrap();
        let pd = share2.partial_decrypt(&total2, &mut rng).unwrap();
        params2.verify(&total2, &pd).unwrap();
        let pd2 = params2.partial_from_bytes(&pd.to_bytes()).unwrap();
        assert_eq!(pd2, pd);
    }
    // A DJ ciphertext of other parameters (same n, other s) is a key mismatch.
    let (p, q) = test_primes::primes(test_primes::SAFE128);
    let (p2, _) =
        Dealer::deal_dj_with_primes(p.clone(), q.clone(), 2, 2, 3, true, &mut rng).unwrap();
    let (p3, s3) = Dealer::deal_dj_with_primes(p, q, 3, 2, 3, true, &mut rng).unwrap();
    let c2 = p2.encrypt_dj(&BigUint::from(1u32), &mut rng).unwrap();
    assert_eq!(
        s3[0].partial_decrypt(&c2, &mut rng).map(|_| ()),
        Err(Error::Paillier(paillier::Error::KeyMismatch))
    );
    assert_eq!(
        p3.dj_ciphertext_from_bytes(&c2.to_bytes()).map(|_| ()),
        Err(Error::Paillier(paillier::Error::KeyMismatch))
    );
    // s out of range.
    let (p, q) = test_primes::primes(test_primes::SAFE128);
    for s in [0u32, 17] {
        assert!(matches!(
            Dealer::deal_dj_with_primes(p.clone(), q.clone(), s, 2, 3, true, &mut rng),
            Err(Error::Malformed { .. })
        ));
    }
}

/// Format version 1 (hekit 0.1) was bincode 1.x with fixed-width integers
/// (`u16` version first, byte strings with `u64` lengths). Such bytes are
/// refused as a retired version with a message that says what to do —
/// never decoded as something else.
#[test]
fn bincode_format_is_refused() {
    let mut rng = rng(12);
    let (params, shares) = deal512(2, 3, &mut rng);
    let n = params.public_key().n().to_bytes_be();
    // PublicParamsWire { version: 1, insecure: true, n, s: 1, … } in bincode.
    let mut old = vec![1, 0, 1];
    old.extend_from_slice(&(n.len() as u64).to_le_bytes());
    old.extend_from_slice(&n);
    old.extend_from_slice(&1u32.to_le_bytes());
    let retired = |r: Result<(), Error>| match r {
        Err(Error::Malformed { reason, .. }) => {
            assert!(
                reason.starts_with("format version 1 (bincode") && reason.contains("re-serialize"),
                "{reason}"
            );
        }
        other => panic!("expected the retired-version error, got {other:?}"),
    };
    retired(PublicParams::from_bytes(&old).map(|_| ()));
    // PartialDecryptionWire { version: 1, key, party, … }.
    let mut old_pd = vec![1, 0];
    old_pd.extend_from_slice(&params.public_key().fingerprint().to_le_bytes());
    old_pd.extend_from_slice(&1u32.to_le_bytes());
    old_pd.extend_from_slice(&[0; 40]);
    retired(params.partial_from_bytes(&old_pd).map(|_| ()));
    retired(params.dj_ciphertext_from_bytes(&old_pd).map(|_| ()));
    // KeyShareWire { version: 1, params: PublicParamsWire { version: 1, … }, … }.
    let old_share = [&[1u8, 0][..], &old].concat();
    retired(KeyShare::from_bytes(&old_share).map(|_| ()));
    // What this build writes is version 2, one varint byte.
    assert_eq!(threshold::paillier::VERSION, 2);
    assert_eq!(params.to_bytes()[0], 2);
    assert_eq!(shares[0].to_bytes()[0], 2);
}
