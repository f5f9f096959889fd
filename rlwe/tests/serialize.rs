//! Serialization round-trips for every public type, and malformed input
//! rejected with its specific error.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rlwe::ciphertext::Ciphertext;
use rlwe::keys::{
    galois_element_for_rotation, GaloisKeys, KeySwitchKey, PublicKey, RelinKey, SecretKey,
};
use rlwe::params::{Params, SecurityLevel};
use rlwe::poly::{Poly, Representation};
use rlwe::serialize::{poly_from_bytes, poly_to_bytes};
use rlwe::{sample, Error};

fn params() -> Arc<Params> {
    Params::builder()
        .degree(4096)
        .q_bits(&[30, 30])
        .p_bits(&[40])
        .build()
        .unwrap()
}

struct Fixture {
    params: Arc<Params>,
    sk: SecretKey,
    pk: PublicKey,
    rlk: RelinKey,
    gks: GaloisKeys,
    rng: ChaCha20Rng,
}

fn fixture() -> Fixture {
    let params = params();
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let sk = SecretKey::generate(&params, &mut rng);
    let pk = PublicKey::generate(&sk, &mut rng).unwrap();
    let rlk = RelinKey::generate(&sk, &mut rng).unwrap();
    let g = galois_element_for_rotation(1, 4096);
    let gks = GaloisKeys::generate(&sk, &[g, 2 * 4096 - 1], &mut rng).unwrap();
    Fixture {
        params,
        sk,
        pk,
        rlk,
        gks,
        rng,
    }
}

#[test]
fn round_trips() {
    let mut f = fixture();
    let p = &f.params;
    // params
    let p2 = Params::from_bytes(&p.to_bytes(), SecurityLevel::Bits128).unwrap();
    assert_eq!(*p2, **p);
    // secret key
    let sk2 = SecretKey::from_bytes(p, &f.sk.to_bytes()).unwrap();
    assert_eq!(sk2.coeffs(), f.sk.coeffs());
    // public key
    let pk_bytes = f.pk.to_bytes();
    let pk2 = PublicKey::from_bytes(p, &pk_bytes).unwrap();
    assert_eq!(pk2.b(), f.pk.b());
    assert_eq!(pk2.a(), f.pk.a());
    assert_eq!(pk2.to_bytes(), pk_bytes);
    // seeded: the public key is one polynomial plus a seed
    let one_poly = 8 * p.degree() * (p.q().len() + p.p().len());
    assert!(pk_bytes.len() < one_poly + 200, "{} bytes", pk_bytes.len());
    // relinearization and Galois keys
    let rlk2 = RelinKey::from_bytes(p, &f.rlk.to_bytes()).unwrap();
    assert_eq!(rlk2.key().b(), f.rlk.key().b());
    assert_eq!(rlk2.key().a(), f.rlk.key().a());
    let ksk2 = KeySwitchKey::from_bytes(p, &f.rlk.key().to_bytes()).unwrap();
    assert_eq!(ksk2.b(), f.rlk.key().b());
    let gks2 = GaloisKeys::from_bytes(p, &f.gks.to_bytes(p)).unwrap();
    assert_eq!(
        gks2.elements().collect::<Vec<_>>(),
        f.gks.elements().collect::<Vec<_>>()
    );
    for e in f.gks.elements() {
        assert_eq!(
            gks2.get(e).unwrap().key().b(),
            f.gks.get(e).unwrap().key().b()
        );
    }
    // ciphertexts: seeded (secret key) and full (public key)
    let m = sample::uniform_poly(p.ring_q(1).unwrap(), Representation::Ntt, &mut f.rng);
    let cs = f.sk.encrypt(&m, &mut f.rng).unwrap();
    let cp = f.pk.encrypt(&m, &mut f.rng).unwrap();
    let (bs, bp) = (cs.to_bytes(), cp.to_bytes());
    assert!(
        bs.len() * 2 < bp.len() + 200,
        "seeded {} vs full {}",
        bs.len(),
        bp.len()
    );
    assert_eq!(cs.serialized_size(), bs.len());
    for (ct, bytes) in [(&cs, bs), (&cp, bp)] {
        let ct2 = Ciphertext::from_bytes(p, &bytes).unwrap();
        assert_eq!(ct2.parts(), ct.parts());
        assert_eq!(f.sk.decrypt(&ct2).unwrap(), f.sk.decrypt(ct).unwrap());
    }
    // lower level ciphertext and a 3-part one
    let low = cp.drop_to_level(0).unwrap();
    let low2 = Ciphertext::from_bytes(p, &low.to_bytes()).unwrap();
    assert_eq!(low2.level(), 0);
    let c3 = cp.tensor(&cp).unwrap();
    assert_eq!(Ciphertext::from_bytes(p, &c3.to_bytes()).unwrap().len(), 3);
    // bare polynomial
    let pb = poly_to_bytes(p, &m).unwrap();
    assert_eq!(poly_from_bytes(p, &pb).unwrap(), m);
}

#[test]
fn malformed_bytes_are_rejected() {
    let mut f = fixture();
    let p = &f.params;
    let m = Poly::zero(p.ring_q(1).unwrap(), Representation::Ntt);
    let ct = f.pk.encrypt(&m, &mut f.rng).unwrap();
    let bytes = ct.to_bytes();

    // truncated
    let h = rlwe::serialize::HEADER_LEN;
    for cut in [0, 10, h - 1, h, h + 20, bytes.len() - 1] {
        assert!(
            matches!(
                Ciphertext::from_bytes(p, &bytes[..cut]),
                Err(Error::Malformed { .. })
            ),
            "cut at {cut}"
        );
    }
    // trailing garbage
    let mut long = bytes.clone();
    long.push(0);
    assert!(matches!(
        Ciphertext::from_bytes(p, &long),
        Err(Error::Malformed { .. })
    ));
    // bad magic
    let mut bad = bytes.clone();
    bad[0] ^= 1;
    assert!(matches!(
        Ciphertext::from_bytes(p, &bad),
        Err(Error::Malformed { .. })
    ));
    // unknown version
    let mut v = bytes.clone();
    v[4] = 99;
    assert!(matches!(
        Ciphertext::from_bytes(p, &v),
        Err(Error::UnknownVersion { got: 99, .. })
    ));
    // wrong kind: a public key read as a ciphertext
    assert!(matches!(
        Ciphertext::from_bytes(p, &f.pk.to_bytes()),
        Err(Error::Malformed { .. })
    ));
    // coefficient ≥ modulus: overwrite the last coefficient word with all ones
    let mut big = bytes.clone();
    let n = big.len();
    big[n - 8..].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(matches!(
        Ciphertext::from_bytes(p, &big),
        Err(Error::Malformed { .. })
    ));
    // a level beyond the chain: the body starts after the header with the
    // level (a varint: one byte for levels below 128)
    let mut lvl = bytes.clone();
    assert_eq!(lvl[rlwe::serialize::HEADER_LEN], 1);
    lvl[rlwe::serialize::HEADER_LEN] = 7;
    assert!(matches!(
        Ciphertext::from_bytes(p, &lvl),
        Err(Error::InvalidLevel { .. })
    ));
    // objects of other parameters
    let other = Params::builder()
        .degree(4096)
        .q_bits(&[30, 31])
        .p_bits(&[40])
        .build()
        .unwrap();
    assert!(matches!(
        Ciphertext::from_bytes(&other, &bytes),
        Err(Error::ParameterMismatch { .. })
    ));
    assert!(matches!(
        PublicKey::from_bytes(&other, &f.pk.to_bytes()),
        Err(Error::ParameterMismatch { .. })
    ));
    assert!(matches!(
        RelinKey::from_bytes(&other, &f.rlk.to_bytes()),
        Err(Error::ParameterMismatch { .. })
    ));
    // parameters that decode but are insecure
    let weak = Params::builder()
        .degree(1024)
        .q_bits(&[40, 40])
        .security(SecurityLevel::None)
        .build()
        .unwrap();
    let mut wb = weak.to_bytes();
    // flip the stored security level (the last byte: the enum's variant
    // index, a one-byte varint) from None (3) to Bits128 (0)
    let l = wb.len();
    assert_eq!(wb[l - 1], 3);
    wb[l - 1] = 0;
    // (the level the bytes record is enforced even when the reader asks
    // for no minimum)
    assert!(matches!(
        Params::from_bytes(&wb, SecurityLevel::None),
        Err(Error::InsecureParameters { .. })
    ));
    assert!(matches!(
        Params::from_bytes(&[1, 2, 3], SecurityLevel::Bits128),
        Err(Error::Malformed { .. })
    ));
    // a secret key with a wrong number of coefficients
    let sk_bytes = f.sk.to_bytes();
    assert!(matches!(
        SecretKey::from_bytes(p, &sk_bytes[..sk_bytes.len() - 8]),
        Err(Error::Malformed { .. })
    ));
    // Galois keys with an even element are rejected
    let _ = &f.gks;
}

#[test]
fn secret_key_debug_hides_coefficients() {
    let f = fixture();
    let s = format!("{:?}", f.sk);
    assert!(s.starts_with("SecretKey"));
    assert!(!s.contains("coeffs"));
    assert!(s.len() < 64, "{s}");
}

/// Issue 13, finding 5: the bytes chose their own security level. A peer's
/// parameters recording `SecurityLevel::None`, with log2(QP) = 120 above the
/// 109-bit 128-bit bound for N = 4096, are refused by a reader asking for
/// 128-bit security (naming the claimed level, the minimum and the bound),
/// and accepted only when the reader explicitly asks for no minimum.
#[test]
fn parameters_from_bytes_meet_the_readers_minimum_security() {
    let weak = Params::builder()
        .degree(4096)
        .q_bits(&[50, 50])
        .p_bits(&[20])
        .security(SecurityLevel::None)
        .build()
        .unwrap();
    assert_eq!(weak.log_qp(), 120);
    let bytes = weak.to_bytes();
    let r = Params::from_bytes(&bytes, SecurityLevel::Bits128);
    assert!(
        matches!(
            r,
            Err(Error::SecurityBelowMinimum {
                degree: 4096,
                log_qp: 120,
                claimed: 0,
                min: 128,
                max_log_qp: 109,
            })
        ),
        "{r:?}"
    );
    let back = Params::from_bytes(&bytes, SecurityLevel::None).unwrap();
    assert_eq!(*back, *weak);
    assert_eq!(back.security(), SecurityLevel::None);

    // A minimum above the recorded level is refused even when the modulus
    // would meet it: the recorded level is what the fingerprint binds.
    let p128 = params(); // log2(QP) = 100 at N = 4096, recorded as 128-bit
    let r = Params::from_bytes(&p128.to_bytes(), SecurityLevel::Bits192);
    assert!(
        matches!(
            r,
            Err(Error::SecurityBelowMinimum {
                claimed: 128,
                min: 192,
                max_log_qp: 75,
                ..
            })
        ),
        "{r:?}"
    );
    let small = Params::builder()
        .degree(4096)
        .q_bits(&[30])
        .security(SecurityLevel::None)
        .build()
        .unwrap();
    assert!(matches!(
        Params::from_bytes(&small.to_bytes(), SecurityLevel::Bits128),
        Err(Error::SecurityBelowMinimum {
            claimed: 0,
            min: 128,
            ..
        })
    ));
    // a recorded level above the minimum is accepted at that level
    let strong = Params::builder()
        .degree(4096)
        .q_bits(&[30])
        .security(SecurityLevel::Bits256)
        .build()
        .unwrap();
    let back = Params::from_bytes(&strong.to_bytes(), SecurityLevel::Bits128).unwrap();
    assert_eq!(back.security(), SecurityLevel::Bits256);
}

/// The fingerprint covers the security level: the same primes checked at
/// two levels are different parameters, and objects of one do not load
/// under the other.
#[test]
fn fingerprint_covers_the_security_level() {
    let p128 = params();
    let none = Params::new(
        p128.degree(),
        p128.q().to_vec(),
        p128.p().to_vec(),
        SecurityLevel::None,
    )
    .unwrap();
    assert_eq!((none.q(), none.p()), (p128.q(), p128.p()));
    assert_ne!(none.fingerprint(), p128.fingerprint());
    assert_ne!(*none, *p128);
    let mut rng = ChaCha20Rng::seed_from_u64(13);
    let sk = SecretKey::generate(&p128, &mut rng);
    let pk = PublicKey::generate(&sk, &mut rng).unwrap();
    assert!(matches!(
        PublicKey::from_bytes(&none, &pk.to_bytes()),
        Err(Error::ParameterMismatch { .. })
    ));
}

/// Format version 1 (hekit 0.1) wrote its envelopes with bincode 1.x:
/// magic, version `1u16` LE, the kind as a `u32` variant index, the
/// fingerprint, then a fixed-width body. Such bytes are refused as a
/// retired version, with a message that says what to do — never decoded.
#[test]
fn bincode_format_is_refused() {
    let mut f = fixture();
    let p = &f.params;
    let m = Poly::zero(p.ring_q(1).unwrap(), Representation::Ntt);
    let ct = f.pk.encrypt(&m, &mut f.rng).unwrap();
    // The old layout, by hand: a ciphertext (variant index 6) at level 1
    // (u32), no seed (u8 0), two parts (u64 length) …
    let mut old = Vec::new();
    old.extend_from_slice(b"HEKT");
    old.extend_from_slice(&1u16.to_le_bytes());
    old.extend_from_slice(&6u32.to_le_bytes());
    old.extend_from_slice(p.fingerprint());
    old.extend_from_slice(&1u32.to_le_bytes());
    old.push(0);
    old.extend_from_slice(&2u64.to_le_bytes());
    old.extend_from_slice(&[0; 64]);
    let r = Ciphertext::from_bytes(p, &old);
    assert!(
        matches!(
            r,
            Err(Error::RetiredVersion {
                what: "ciphertext",
                version: 1
            })
        ),
        "{r:?}"
    );
    let msg = r.unwrap_err().to_string();
    assert!(
        msg.contains("format version 1 (bincode") && msg.contains("re-serialize"),
        "{msg}"
    );
    // Every reader of the envelope says the same, whatever the kind.
    let mut old_pk = f.pk.to_bytes();
    old_pk[4..6].copy_from_slice(&1u16.to_le_bytes());
    assert!(matches!(
        PublicKey::from_bytes(p, &old_pk),
        Err(Error::RetiredVersion { version: 1, .. })
    ));
    // The current version is 2 and sits where version 1 did.
    assert_eq!(rlwe::serialize::VERSION, 2);
    assert_eq!(&ct.to_bytes()[4..6], &2u16.to_le_bytes());
}
