//! Parameter audit: every preset, every parameter set the higher layers
//! build, and every key the library generates stays within the
//! HomomorphicEncryption.org bound for 128-bit security; Paillier presets
//! are at least 2048 bits.
//!
//! The bounds are typed in here from the standard (Albrecht et al.,
//! "Homomorphic Encryption Standard", 2018, Table 1: classical 128-bit
//! security, ternary/Gaussian secrets), independently of the library's own
//! table, and the modulus size is recomputed from the primes themselves.

use hekit::{bfv, ckks, ml_he, paillier, rlwe, threshold};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// log2(QP) bound for 128-bit classical security (HE standard, Table 1).
fn he_standard_128(degree: usize) -> u32 {
    match degree {
        1024 => 27,
        2048 => 54,
        4096 => 109,
        8192 => 218,
        16384 => 438,
        32768 => 881,
        // beyond the standard's table: OpenFHE's extrapolation
        65536 => 1747,
        n => panic!("no HE-standard entry for N = {n}"),
    }
}

/// Bit size of Q·P recomputed from the primes (each prime p < 2^bits(p)).
fn log_qp_bits(primes: impl IntoIterator<Item = u64>) -> u32 {
    primes.into_iter().map(|p| 64 - p.leading_zeros()).sum()
}

fn audit(what: &str, params: &rlwe::params::Params) -> u32 {
    let n = params.degree();
    let from_primes = log_qp_bits(params.q().iter().chain(params.p()).copied());
    assert_eq!(from_primes, params.log_qp(), "{what}: log_qp disagrees");
    let bound = he_standard_128(n);
    assert!(
        from_primes <= bound,
        "{what}: log2(QP) = {from_primes} > {bound} for N = {n}"
    );
    assert_eq!(
        params.security(),
        rlwe::params::SecurityLevel::Bits128,
        "{what}: presets must not opt out of the security check"
    );
    // every prime is distinct and NTT-friendly for this N (p ≡ 1 mod 2N)
    let all: Vec<u64> = params.q().iter().chain(params.p()).copied().collect();
    for (i, &p) in all.iter().enumerate() {
        assert_eq!(p % (2 * n as u64), 1, "{what}: prime {p} not ≡ 1 mod 2N");
        assert!(!all[..i].contains(&p), "{what}: repeated prime {p}");
    }
    from_primes
}

/// The key's own ring: the primes its polynomials actually live over.
fn audit_key_ring(what: &str, ring: &rlwe::poly::RingContext, n: usize) {
    let bits = log_qp_bits(ring.moduli().iter().map(|m| m.value()));
    assert!(
        bits <= he_standard_128(n),
        "{what}: key polynomials over a {bits}-bit modulus for N = {n}"
    );
}

fn rng() -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(0xA0D17)
}

#[test]
fn bfv_presets_and_their_keys() {
    let presets = [
        bfv::Preset::N4096T65537,
        bfv::Preset::N8192T65537,
        bfv::Preset::N16384T65537,
        bfv::Preset::N32768T65537,
    ];
    for preset in presets {
        let params = bfv::Parameters::preset(preset).expect("preset");
        let what = format!("bfv {preset:?}");
        audit(&what, params.rlwe());
        if params.degree() <= 8192 {
            // keys: secret, public, relinearization, Galois
            let sk = bfv::SecretKey::generate(&params, &mut rng());
            let pk = bfv::PublicKey::generate(&sk, &mut rng()).expect("pk");
            let rlk = bfv::RelinKey::generate(&sk, &mut rng()).expect("rlk");
            let gk = bfv::GaloisKeys::generate(&sk, &[1], &mut rng()).expect("gk");
            let n = params.degree();
            audit_key_ring(&what, sk.rlwe().ntt_qp().context(), n);
            audit_key_ring(&what, pk.rlwe().b().context(), n);
            for b in rlk.rlwe().key().b() {
                audit_key_ring(&what, b.context(), n);
            }
            for e in gk.rlwe().elements() {
                for b in gk.rlwe().get(e).expect("key").key().b() {
                    audit_key_ring(&what, b.context(), n);
                }
            }
        }
    }
}

#[test]
fn ckks_presets_and_circuit_parameters() {
    for preset in [
        ckks::Preset::N8192,
        ckks::Preset::N16384,
        ckks::Preset::N32768,
    ] {
        let params = ckks::Parameters::preset(preset).expect("preset");
        audit(&format!("ckks {preset:?}"), params.rlwe());
    }
    // Parameters chosen for a circuit: every depth the chooser accepts.
    let mut accepted = 0;
    for depth in 0..=24 {
        for (scale, precision) in [(30, 20), (40, 20), (50, 30)] {
            if let Ok(params) = ckks::Parameters::for_circuit(depth, scale, precision) {
                audit(
                    &format!("ckks for_circuit({depth}, {scale}, {precision})"),
                    params.rlwe(),
                );
                accepted += 1;
            }
        }
    }
    assert!(accepted >= 40, "only {accepted} circuit shapes accepted");
    let params = ckks::Parameters::preset(ckks::Preset::N8192).expect("preset");
    let sk = ckks::SecretKey::generate(&params, &mut rng());
    let rlk = ckks::RelinKey::generate(&sk, &mut rng()).expect("rlk");
    for b in rlk.rlwe().key().b() {
        audit_key_ring("ckks relinearization key", b.context(), params.degree());
    }
}

#[test]
fn ml_parameter_sets() {
    // HE-MPC aggregation (both ring degrees it offers)
    for degree in [8192, 16384] {
        let params = ml_he::aggregation::AggregationParams::new(
            ml_he::aggregation::AggregationConfig::new(10, 6).degree(degree),
            [1; 32],
        )
        .expect("aggregation params");
        audit(&format!("aggregation N = {degree}"), params.ckks().rlwe());
    }
    // private model testing
    let testing = ml_he::testing::TestingParams::new(5, 3, 10, [2; 32]).expect("testing params");
    audit("private testing", testing.bfv().rlwe());
    // encrypted inference: logistic regression (both packings) and an MLP
    use ml_he::inference::{Packing, Server};
    let lr = ml_he::model::LogisticRegression::zeros(30);
    for packing in [Packing::PerSample, Packing::Batch] {
        let server = Server::logistic(&lr, packing).expect("server");
        let params = server.setup().parameters().expect("params");
        audit(&format!("inference logistic {packing:?}"), params.rlwe());
    }
    let mlp = ml_he::model::Mlp::new(
        vec![vec![0.01; 64]; 16],
        vec![0.0; 16],
        vec![vec![0.01; 16]; 10],
        vec![0.0; 10],
        ml_he::model::Activation::Square,
    )
    .expect("mlp");
    for packing in [Packing::PerSample, Packing::Batch] {
        let server = Server::mlp(&mlp, packing).expect("server");
        let params = server.setup().parameters().expect("params");
        audit(&format!("inference MLP {packing:?}"), params.rlwe());
    }
}

#[test]
fn builders_refuse_insecure_sets_by_default() {
    // one bit over the bound, for every ring degree in the table
    for (degree, q) in [
        (4096, vec![40, 40]),
        (8192, vec![50, 50, 50, 40]),
        (16384, vec![50; 8]),
    ] {
        let bound = he_standard_128(degree);
        let total: u32 = q.iter().sum();
        let p = bound + 1 - total;
        assert!((20..=61).contains(&p));
        let r = rlwe::params::Params::builder()
            .degree(degree)
            .q_bits(&q)
            .p_bits(&[p])
            .build();
        assert!(
            matches!(r, Err(rlwe::Error::InsecureParameters { max_log_qp, .. }) if max_log_qp == bound),
            "N = {degree}: {r:?}"
        );
        let at_bound = rlwe::params::Params::builder()
            .degree(degree)
            .q_bits(&q)
            .p_bits(&[p - 1])
            .build();
        assert!(at_bound.is_ok(), "N = {degree} at the bound: {at_bound:?}");
    }
}

#[test]
fn paillier_presets_are_at_least_2048_bits() {
    for bits in [
        paillier::Bits::B2048,
        paillier::Bits::B3072,
        paillier::Bits::B4096,
    ] {
        assert!(bits.bits() >= 2048, "{bits:?}");
    }
    // a generated key has the size it promises
    let sk = paillier::SecretKey::generate(paillier::Bits::B2048, &mut rng()).expect("keygen");
    let pk = sk.public_key();
    assert!(pk.bits() >= 2048, "{} bits", pk.bits());
    // threshold Paillier and the ML Paillier variant refuse small keys
    // unless asked explicitly
    let r = threshold::PaillierDealer::deal(paillier::Bits::Insecure(1024), 2, 3, &mut rng());
    let (p, q) = paillier::test_keys::primes(threshold::paillier::test_primes::SAFE512);
    let r2 = threshold::PaillierDealer::deal_with_primes(p, q, 2, 3, &mut rng());
    assert!(
        matches!(
            r2,
            Err(threshold::Error::Paillier(
                paillier::Error::InsecureKeySize { bits: 1024 }
            ))
        ),
        "{r2:?}"
    );
    // the explicit opt-out is honoured (and only it)
    assert!(r.is_ok(), "{:?}", r.err());
}
