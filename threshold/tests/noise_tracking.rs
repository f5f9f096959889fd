//! The public noise bounds `CkksNoise` and `BfvNoise` against the noise
//! measured with the joint secret of 3 parties along circuits of every
//! tracked operation, under collective public, relinearization (two-round)
//! and Galois keys: after every step the measured noise is below the bound,
//! and the bound is not loose by more than 6 bits.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use num_traits::ToPrimitive;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use threshold::{
    BfvNoise, CkksNoise, Crs, Error, GaloisKeyShares, Party, PartyId, PublicKeyShares,
    RelinKeyRound1, RelinKeyRound2,
};

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

fn random_values(slots: usize, max_abs: f64, rng: &mut ChaCha20Rng) -> Vec<f64> {
    (0..slots)
        .map(|_| rng.gen_range(-max_abs..max_abs))
        .collect()
}

/// Collective keys of `n` parties whose secrets the test knows: the joint
/// secret, the public key, the relinearization key and the Galois keys for
/// `elements`.
struct Keys {
    joint: rlwe::keys::SecretKey,
    pk: rlwe::keys::PublicKey,
    rlk: rlwe::keys::RelinKey,
    gks: rlwe::keys::GaloisKeys,
}

fn collective_keys(
    rlwe: &Arc<rlwe::params::Params>,
    n: usize,
    elements: &[usize],
    r: &mut ChaCha20Rng,
) -> Keys {
    let secrets: Vec<Vec<i64>> = (0..n)
        .map(|_| rlwe::sample::ternary(rlwe.degree(), r))
        .collect();
    let joint: Vec<i64> = (0..rlwe.degree())
        .map(|j| secrets.iter().map(|s| s[j]).sum())
        .collect();
    let joint = rlwe::keys::SecretKey::from_coeffs(rlwe, joint).unwrap();
    let mut ps: Vec<Party> = secrets
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let sk = rlwe::keys::SecretKey::from_coeffs(rlwe, s).unwrap();
            Party::from_secret(PartyId(i as u32 + 1), sk)
        })
        .collect();
    let crs = Crs::from_seed([4; 32]);
    let shares: Vec<_> = ps
        .iter_mut()
        .map(|p| p.public_key_share(&crs, r).unwrap())
        .collect();
    let pk = PublicKeyShares::aggregate(shares)
        .unwrap()
        .finish()
        .unwrap();
    let (mut round1, mut ephemerals) = (Vec::new(), Vec::new());
    for p in ps.iter_mut() {
        let (share, eph) = p.relin_key_round1(&crs, r).unwrap();
        round1.push(share);
        ephemerals.push(eph);
    }
    let round1 = RelinKeyRound1::aggregate(round1).unwrap();
    let round2: Vec<_> = ps
        .iter_mut()
        .zip(ephemerals)
        .map(|(p, eph)| p.relin_key_round2(eph, &round1, r).unwrap())
        .collect();
    let rlk = RelinKeyRound2::aggregate(round1, round2)
        .unwrap()
        .finish()
        .unwrap();
    let mut gks = rlwe::keys::GaloisKeys::default();
    for &g in elements {
        let g_shares: Vec<_> = ps
            .iter_mut()
            .map(|p| p.galois_key_share(&crs, g, r).unwrap())
            .collect();
        gks.insert(
            GaloisKeyShares::aggregate(g_shares)
                .unwrap()
                .finish()
                .unwrap(),
        );
    }
    Keys {
        joint,
        pk,
        rlk,
        gks,
    }
}

fn max_abs_log2(p: &rlwe::poly::Poly) -> f64 {
    p.centered_coeffs()
        .iter()
        .map(|c| c.to_f64().unwrap().abs())
        .fold(0.0, f64::max)
        .log2()
}

fn report(step: &str, measured: f64, bound: f64) {
    println!(
        "{step:28} measured 2^{measured:6.2}  bound 2^{bound:6.2}  margin {:.2} bits",
        bound - measured
    );
    assert!(measured < bound, "{step}: 2^{measured} ≥ 2^{bound}");
    assert!(
        bound - measured < 6.0,
        "{step}: bound 2^{bound} loose for 2^{measured}"
    );
}

/// CKKS on the default preset (N = 8192, scale 2^40): the phase noise is
/// measured against the exact result encoded at the ciphertext's level and
/// scale.
#[test]
fn tracked_noise_bound_covers_a_circuit() {
    let mut r = rng(42);
    let rlwe = ckks::Parameters::preset(ckks::Preset::N8192)
        .unwrap()
        .rlwe()
        .clone();
    let params = ckks::Parameters::new(rlwe.clone(), 2f64.powi(40)).unwrap();
    let n_parties = 3;
    let g = rlwe::keys::galois_element_for_rotation(1, rlwe.degree());
    let Keys {
        joint,
        pk,
        rlk,
        gks,
    } = collective_keys(&rlwe, n_parties, &[g], &mut r);
    let pk = ckks::PublicKey::from_rlwe(&params, pk).unwrap();
    let rlk = ckks::RelinKey::from_rlwe(&params, rlk).unwrap();
    let gks = ckks::GaloisKeys::from_rlwe(&params, gks);
    let enc = ckks::Encoder::new(&params);
    let eval = ckks::Evaluator::new(&params);
    let slots = enc.slots();

    // measured max |phase − encode(exact)| in log2
    let measure = |ct: &ckks::Ciphertext, exact: &[f64]| -> f64 {
        let mut phase = joint.decrypt(ct.rlwe()).unwrap();
        let mut m = enc
            .encode_at(exact, ct.level(), ct.scale())
            .unwrap()
            .poly()
            .clone();
        m.to_coeff();
        phase.sub_assign(&m).unwrap();
        phase
            .centered_coeffs()
            .iter()
            .map(|c| c.to_f64().unwrap().abs())
            .fold(0.0, f64::max)
            .log2()
    };
    let check = |step: &str, ct: &ckks::Ciphertext, exact: &[f64], bound: &CkksNoise| {
        assert_eq!(bound.level(), ct.level(), "{step}");
        assert!(
            ((bound.scale() - ct.scale()) / ct.scale()).abs() < 1e-9,
            "{step}"
        );
        let measured = measure(ct, exact);
        let b = bound.log2_bound();
        println!(
            "{step:28} measured 2^{measured:6.2}  bound 2^{b:6.2}  margin {:.2} bits",
            b - measured
        );
        assert!(measured < b, "{step}: 2^{measured} ≥ 2^{b}");
        assert!(
            b - measured < 6.0,
            "{step}: bound 2^{b} loose for 2^{measured}"
        );
    };

    let max_abs = 1.0;
    let x = random_values(slots, max_abs, &mut r);
    let w = random_values(slots, 0.5, &mut r);
    let cx = pk.encrypt(&enc.encode(&x).unwrap(), &mut r).unwrap();
    let nx = CkksNoise::fresh(&params, n_parties, max_abs).unwrap();
    check("fresh", &cx, &x, &nx);

    // y = x ⊙ w (plaintext at scale q_L), rescaled
    let q_top = params.q(cx.level()).unwrap() as f64;
    let pw = enc.encode_at(&w, cx.level(), q_top).unwrap();
    let cy = eval.mul_plain(&cx, &pw).unwrap();
    let ny = nx.mul_plain(q_top, 0.5).unwrap();
    let y: Vec<f64> = x.iter().zip(&w).map(|(a, b)| a * b).collect();
    check("mul_plain", &cy, &y, &ny);
    let cy = eval.rescale(&cy).unwrap();
    let ny = ny.rescale().unwrap();
    check("mul_plain + rescale", &cy, &y, &ny);

    // z = rot(y, 1) + y
    let cz = eval.rotate(&cy, 1, &gks).unwrap();
    let nz = ny.rotate().unwrap();
    let yr: Vec<f64> = (0..slots).map(|i| y[(i + 1) % slots]).collect();
    check("rotate", &cz, &yr, &nz);
    let cz = eval.add(&cz, &cy).unwrap();
    let nz = nz.add(&ny).unwrap();
    let z: Vec<f64> = (0..slots).map(|i| yr[i] + y[i]).collect();
    check("rotate + add", &cz, &z, &nz);

    // p = z² (relinearized by the collective key), rescaled; then 3·p
    let cp = eval.mul_relin(&cz, &cz, &rlk).unwrap();
    let np = nz.mul_relin(&nz).unwrap();
    let p: Vec<f64> = z.iter().map(|v| v * v).collect();
    check("mul_relin", &cp, &p, &np);
    let cp = eval.rescale(&cp).unwrap();
    let np = np.rescale().unwrap();
    check("mul_relin + rescale", &cp, &p, &np);
    let cq = eval.rescale(&eval.mul_const(&cp, 3.0).unwrap()).unwrap();
    let nq = np.mul_const(3.0).unwrap().rescale().unwrap();
    let q: Vec<f64> = p.iter().map(|v| 3.0 * v).collect();
    check("mul_const + rescale", &cq, &q, &nq);

    // bad use of the tracker: operands at different levels
    assert!(matches!(
        nq.add(&nx),
        Err(Error::Ckks(ckks::Error::InvalidArgument { .. }))
    ));
    assert!(matches!(
        CkksNoise::fresh(&params, 3, f64::NAN),
        Err(Error::Ckks(ckks::Error::InvalidArgument { .. }))
    ));
    let mut bottom = nq.clone();
    while bottom.level() > 0 {
        bottom = bottom.rescale().unwrap();
    }
    assert!(matches!(
        bottom.rescale(),
        Err(Error::Ckks(ckks::Error::NotEnoughLevels { .. }))
    ));
}

/// BFV on the N = 8192 preset (t = 65537): the invariant noise
/// `[t·(c_0 + c_1·s)]_Q` measured with the joint secret (as SEAL's noise
/// budget does) against `BfvNoise`, through additions, a plaintext product,
/// a relinearized product, a rotation and modulus switching; the budget the
/// bound leaves is within 6 bits of the measured one.
#[test]
fn bfv_tracked_noise_bound_covers_a_circuit() {
    let mut r = rng(43);
    let params = bfv::Parameters::preset(bfv::Preset::N8192T65537).unwrap();
    let rlwe = params.rlwe().clone();
    let n_parties = 3;
    let t = params.plaintext_modulus();
    let g = rlwe::keys::galois_element_for_rotation(1, rlwe.degree());
    let Keys {
        joint,
        pk,
        rlk,
        gks,
    } = collective_keys(&rlwe, n_parties, &[g], &mut r);
    let pk = bfv::PublicKey::from_rlwe(&params, pk).unwrap();
    let rlk = bfv::RelinKey::from_rlwe(&params, rlk).unwrap();
    let gks = bfv::GaloisKeys::from_rlwe(&params, gks);
    let enc = bfv::Encoder::new(&params);
    let eval = bfv::Evaluator::new(&params);
    let n = rlwe.degree();
    let measure = |ct: &bfv::Ciphertext| -> f64 {
        let mut w = joint.decrypt(ct.rlwe()).unwrap();
        w.mul_scalar_assign(t);
        max_abs_log2(&w)
    };
    let check = |step: &str, ct: &bfv::Ciphertext, bound: &BfvNoise| {
        assert_eq!(bound.level(), ct.level(), "{step}");
        report(step, measure(ct), bound.log2_invariant_bound());
    };
    let values = |r: &mut ChaCha20Rng| -> Vec<i64> {
        (0..n)
            .map(|_| r.gen_range(-(t as i64) / 2..=(t as i64) / 2))
            .collect()
    };
    let a = pk
        .encrypt(&enc.encode(&values(&mut r)).unwrap(), &mut r)
        .unwrap();
    let b = pk
        .encrypt(&enc.encode(&values(&mut r)).unwrap(), &mut r)
        .unwrap();
    let na = BfvNoise::fresh(&params, n_parties);
    check("fresh", &a, &na);
    let s = eval.add(&a, &b).unwrap();
    let ns = na.add(&na).unwrap();
    check("add", &s, &ns);
    let p = eval
        .mul_plain(&s, &enc.encode(&values(&mut r)).unwrap())
        .unwrap();
    let np = ns.mul_plain();
    check("mul_plain", &p, &np);
    let m = eval.mul_relin(&a, &b, &rlk).unwrap();
    let nm = na.mul_relin(&na).unwrap();
    check("mul_relin", &m, &nm);
    let rot = eval.rotate_rows(&m, 1, &gks).unwrap();
    let nrot = nm.rotate().unwrap();
    check("mul_relin + rotate", &rot, &nrot);
    let k = eval.mul_scalar(&rot, 12345).unwrap();
    let nk = nrot.mul_scalar(12345);
    check("mul_scalar", &k, &nk);
    let down = eval.mod_switch_to_next(&k).unwrap();
    let ndown = nk.mod_switch().unwrap();
    check("mod_switch", &down, &ndown);
    let down2 = eval.mod_switch_to_next(&a).unwrap();
    let ndown2 = na.mod_switch().unwrap();
    check("fresh + mod_switch", &down2, &ndown2);
    println!(
        "budget left by the bound after the circuit: {:.1} bits",
        ndown.budget_bits()
    );
    // the bound is what threshold decryption is budgeted for
    assert!(threshold::Smudging::for_bfv(&params, down.level(), ndown.log2_bound(), 3).is_ok());
    // bad use: operands at different levels
    assert!(matches!(
        ndown.add(&na),
        Err(Error::Ckks(ckks::Error::InvalidArgument { .. }))
    ));
}
