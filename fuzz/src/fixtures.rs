//! Deterministic fixtures: small but valid parameters, keys, ciphertexts and
//! protocol messages for every target, built once per process from fixed
//! seeds. `kinds()` of each fixture lists the valid serialized object of
//! every kind its target reads (the structured mode's starting points and
//! the raw seeds).

use std::sync::{Arc, Mutex};

use paillier::num_bigint::BigUint;
use rlwe::params::{Params, SecurityLevel};
use rlwe::poly::{Poly, Representation};
use threshold::{ActiveSet, Crs, Party, Smudging};

use crate::{rng, Lazy};

/// Small insecure RLWE parameters (N = 2048, two 40-bit chain primes and
/// one special prime): fast, and every code path of the large ones.
pub fn small_rlwe() -> Arc<Params> {
    Params::builder()
        .degree(2048)
        .q_bits(&[40, 40])
        .p_bits(&[41])
        .security(SecurityLevel::None)
        .build()
        .expect("small rlwe parameters")
}

// ===================================================================== rlwe

/// `rlwe` objects under [`small_rlwe`].
pub struct RlweFx {
    /// The parameters.
    pub params: Arc<Params>,
    /// The secret key.
    pub sk: rlwe::keys::SecretKey,
    /// Valid bytes, indexed by kind (see `rlwe_objects`).
    pub bytes: Vec<Vec<u8>>,
    /// Valid parameter sets' bytes (for `rlwe_params`).
    pub params_bytes: Vec<Vec<u8>>,
}

static RLWE: Lazy<RlweFx> = Lazy::new();

/// Kinds of `rlwe_objects`.
pub const RLWE_KINDS: [&str; 10] = [
    "params",
    "secret key",
    "public key",
    "key-switching key",
    "relinearization key",
    "Galois keys",
    "ciphertext (seeded)",
    "ciphertext (public key, level 0)",
    "ciphertext (3 parts)",
    "polynomial",
];

/// The `rlwe` fixture.
pub fn rlwe() -> &'static RlweFx {
    RLWE.get(|| {
        use rlwe::keys::*;
        let params = small_rlwe();
        let mut r = rng(1);
        let sk = SecretKey::generate(&params, &mut r);
        let pk = PublicKey::generate(&sk, &mut r).expect("pk");
        let rlk = RelinKey::generate(&sk, &mut r).expect("rlk");
        let gk = GaloisKeys::generate(&sk, &[3, 2 * 2048 - 1], &mut r).expect("gk");
        let from = Poly::mul(sk.ntt_qp(), sk.ntt_qp()).expect("s^2");
        let ksk = KeySwitchKey::generate(&sk, &from, &mut r).expect("ksk");
        let top = params.ring_q_top();
        let mut m = Poly::zero(top, Representation::Coefficient);
        m.limb_mut(0)[0] = 42;
        let ct_seeded = sk.encrypt(&m, &mut r).expect("ct");
        let m0 = Poly::zero(
            params.ring_q(0).expect("level 0"),
            Representation::Coefficient,
        );
        let ct_pk = pk.encrypt(&m0, &mut r).expect("ct pk");
        let ct_pk_top = pk.encrypt(&m, &mut r).expect("ct pk top");
        let ct3 = ct_pk_top.tensor(&ct_pk_top).expect("tensor");
        let poly = rlwe::serialize::poly_to_bytes(&params, &m).expect("poly");
        let bytes = vec![
            params.to_bytes(),
            sk.to_bytes().to_vec(),
            pk.to_bytes(),
            ksk.to_bytes(),
            rlk.to_bytes(),
            gk.to_bytes(&params),
            ct_seeded.to_bytes(),
            ct_pk.to_bytes(),
            ct3.to_bytes(),
            poly,
        ];
        let params_bytes = vec![
            params.to_bytes(),
            Params::builder()
                .degree(4096)
                .q_bits(&[36, 36])
                .p_bits(&[37])
                .build()
                .expect("N=4096")
                .to_bytes(),
            Params::builder()
                .degree(2048)
                .q_bits(&[30])
                .p_bits(&[])
                .security(SecurityLevel::Bits192)
                .build()
                .expect("N=2048")
                .to_bytes(),
        ];
        RlweFx {
            params,
            sk,
            bytes,
            params_bytes,
        }
    })
}

// ====================================================================== bfv

/// BFV objects (N = 2048, t = 65537, insecure).
pub struct BfvFx {
    /// Parameters.
    pub params: Arc<bfv::Parameters>,
    /// Secret key.
    pub sk: bfv::SecretKey,
    /// Relinearization key.
    pub rlk: bfv::RelinKey,
    /// Galois keys (rotation by 1 and the row swap).
    pub gk: bfv::GaloisKeys,
    /// Encoder.
    pub encoder: bfv::Encoder,
    /// Evaluator.
    pub eval: bfv::Evaluator,
    /// Valid bytes by kind.
    pub bytes: Vec<Vec<u8>>,
}

/// Kinds of `bfv_decrypt`.
pub const BFV_KINDS: [&str; 8] = [
    "ciphertext (secret key, seeded)",
    "ciphertext (public key)",
    "ciphertext (3 parts)",
    "ciphertext (coefficient encoding, level 0)",
    "public key",
    "relinearization key",
    "Galois keys",
    "ciphertext then evaluate (relinearize, rotate)",
];

static BFV: Lazy<BfvFx> = Lazy::new();

/// The BFV fixture.
pub fn bfv() -> &'static BfvFx {
    BFV.get(|| {
        let params = bfv::Parameters::builder()
            .degree(2048)
            .plaintext_modulus(65537)
            .q_bits(&[50, 50])
            .p_bits(&[51])
            .security(SecurityLevel::None)
            .build()
            .expect("bfv parameters");
        let mut r = rng(2);
        let sk = bfv::SecretKey::generate(&params, &mut r);
        let pk = bfv::PublicKey::generate(&sk, &mut r).expect("pk");
        let rlk = bfv::RelinKey::generate(&sk, &mut r).expect("rlk");
        let gk = bfv::GaloisKeys::generate_with_row_swap(&sk, &[1], true, &mut r).expect("gk");
        let encoder = bfv::Encoder::new(&params);
        let eval = bfv::Evaluator::new(&params);
        let pt = encoder.encode(&[1, 2, 3, -4]).expect("encode");
        let ct_sk = sk.encrypt(&pt, &mut r).expect("ct sk");
        let ct_pk = pk.encrypt(&pt, &mut r).expect("ct pk");
        let ct3 = eval.mul(&ct_pk, &ct_pk).expect("mul");
        let ptc = encoder.encode_coefficients(&[5, -6, 7]).expect("coeff");
        let ct_c = pk.encrypt(&ptc, &mut r).expect("ct coeff");
        let bytes = vec![
            ct_sk.to_bytes(),
            ct_pk.to_bytes(),
            ct3.to_bytes(),
            ct_c.to_bytes(),
            pk.to_bytes(),
            rlk.to_bytes(),
            gk.to_bytes(),
            ct3.to_bytes(),
        ];
        BfvFx {
            params,
            sk,
            rlk,
            gk,
            encoder,
            eval,
            bytes,
        }
    })
}

// ===================================================================== ckks

/// CKKS objects (N = 2048, insecure).
pub struct CkksFx {
    /// Parameters.
    pub params: ckks::Parameters,
    /// Secret key.
    pub sk: ckks::SecretKey,
    /// Relinearization key.
    pub rlk: ckks::RelinKey,
    /// Galois keys.
    pub gk: ckks::GaloisKeys,
    /// Encoder.
    pub encoder: ckks::Encoder,
    /// Evaluator.
    pub eval: ckks::Evaluator,
    /// Valid bytes by kind.
    pub bytes: Vec<Vec<u8>>,
}

/// Kinds of `ckks_decrypt`.
pub const CKKS_KINDS: [&str; 9] = [
    "ciphertext (secret key, seeded)",
    "ciphertext (public key)",
    "ciphertext (3 parts)",
    "plaintext",
    "secret key",
    "public key",
    "relinearization key",
    "Galois keys",
    "ciphertext then evaluate (relinearize, rescale, rotate)",
];

static CKKS: Lazy<CkksFx> = Lazy::new();

/// The CKKS fixture.
pub fn ckks() -> &'static CkksFx {
    CKKS.get(|| {
        let params = ckks::Parameters::builder()
            .degree(2048)
            .q_bits(&[50, 40])
            .p_bits(&[50])
            .scale_bits(40)
            .security(SecurityLevel::None)
            .build()
            .expect("ckks parameters");
        let mut r = rng(3);
        let sk = ckks::SecretKey::generate(&params, &mut r);
        let pk = ckks::PublicKey::generate(&sk, &mut r).expect("pk");
        let rlk = ckks::RelinKey::generate(&sk, &mut r).expect("rlk");
        let gk = ckks::GaloisKeys::generate(&sk, &[1], &mut r).expect("gk");
        let encoder = ckks::Encoder::new(&params);
        let eval = ckks::Evaluator::new(&params);
        let pt = encoder.encode(&[0.5, -1.25, 3.0]).expect("encode");
        let ct_sk = sk.encrypt(&pt, &mut r).expect("ct sk");
        let ct_pk = pk.encrypt(&pt, &mut r).expect("ct pk");
        let ct3 = eval.mul(&ct_pk, &ct_pk).expect("mul");
        let bytes = vec![
            ct_sk.to_bytes(),
            ct_pk.to_bytes(),
            ct3.to_bytes(),
            pt.to_bytes().expect("pt bytes"),
            sk.to_bytes().to_vec(),
            pk.to_bytes(),
            rlk.to_bytes(),
            gk.to_bytes(),
            ct3.to_bytes(),
        ];
        CkksFx {
            params,
            sk,
            rlk,
            gk,
            encoder,
            eval,
            bytes,
        }
    })
}

// ================================================================= paillier

/// Paillier objects (256-bit insecure test key).
pub struct PaillierFx {
    /// Public key.
    pub pk: paillier::PublicKey,
    /// Private key.
    pub sk: paillier::SecretKey,
    /// Valid bytes by kind.
    pub bytes: Vec<Vec<u8>>,
}

/// Kinds of `paillier_serial`.
pub const PAILLIER_KINDS: [&str; 6] = [
    "public key",
    "private key",
    "encoded number",
    "ciphertext",
    "encrypted number",
    "public key (serde, 1024-bit)",
];

static PAILLIER: Lazy<PaillierFx> = Lazy::new();

/// The Paillier fixture.
pub fn paillier() -> &'static PaillierFx {
    PAILLIER.get(|| {
        let (pk, sk) = paillier::test_keys::small_keypair().expect("keypair");
        let mut r = rng(4);
        let ct = pk.encrypt_i64(-12345, &mut r).expect("ct");
        let en = pk.encrypt_f64(3.25, &mut r).expect("encrypted number");
        let enc = paillier::EncodedNumber::from_f64(-0.0625).expect("encoded");
        let (pk1024, _) =
            paillier::test_keys::keypair_from(paillier::test_keys::P512).expect("1024-bit key");
        let bytes = vec![
            pk.to_bytes(),
            sk.to_bytes().to_vec(),
            enc.to_bytes(),
            ct.to_bytes(),
            en.to_bytes(),
            pk1024.to_bytes(),
        ];
        PaillierFx { pk, sk, bytes }
    })
}

// ======================================================== threshold (RLWE)

/// Threshold lattice protocol objects: 3 parties, t = 2, small parameters.
pub struct ThresholdFx {
    /// Parameters.
    pub params: Arc<Params>,
    /// BFV view of the parameters (t = 65537).
    pub bfv: Arc<bfv::Parameters>,
    /// CKKS view of the parameters.
    pub ckks: ckks::Parameters,
    /// Common reference string.
    pub crs: Crs,
    /// Parties 1..=3 after the Shamir dealing (t = 2), for decryption
    /// shares of fuzzed ciphertexts.
    pub parties: Mutex<Vec<Party>>,
    /// A secret key of party 1 for a party that receives fuzzed dealings.
    pub sk1: rlwe::keys::SecretKey,
    /// Collective public key.
    pub cpk: rlwe::keys::PublicKey,
    /// A ciphertext under the collective key.
    pub ct: rlwe::ciphertext::Ciphertext,
    /// Active set {1, 2}.
    pub active: ActiveSet,
    /// Smudging.
    pub smudging: Smudging,
    /// Valid shares: public key (3), relin round 1 (3), round 2 (3),
    /// Galois (3), decryption N-of-N (3), decryption t-of-n {1, 2} (2),
    /// key switch (3), dealing messages to party 1 (3).
    pub pk: Vec<Vec<u8>>,
    /// Relinearization round 1.
    pub r1: Vec<Vec<u8>>,
    /// Relinearization round 2.
    pub r2: Vec<Vec<u8>>,
    /// Galois element 3.
    pub gk: Vec<Vec<u8>>,
    /// N-of-N decryption shares of `ct`.
    pub dec: Vec<Vec<u8>>,
    /// t-of-n decryption shares of `ct` by {1, 2}.
    pub dec_t: Vec<Vec<u8>>,
    /// Key-switching shares of `ct` to `target`.
    pub ks: Vec<Vec<u8>>,
    /// Dealing messages addressed to party 1.
    pub deal: Vec<Vec<u8>>,
    /// Target key of the key switch.
    pub target: rlwe::keys::PublicKey,
}

/// Kinds of `threshold_wire`.
pub const THRESHOLD_KINDS: [&str; 8] = [
    "public-key share (+ aggregate, finish)",
    "relinearization round-1 share (+ aggregate)",
    "relinearization round-2 share (+ aggregate, finish)",
    "Galois-key share (+ aggregate, finish)",
    "decryption share (+ N-of-N and t-of-n combine, BFV/CKKS finish)",
    "key-switching share (+ aggregate)",
    "dealing message (+ receive_dealings)",
    "ciphertext (+ decryption shares of parties, combine, finish)",
];

static THRESHOLD: Lazy<ThresholdFx> = Lazy::new();

/// The threshold fixture.
pub fn threshold() -> &'static ThresholdFx {
    THRESHOLD.get(|| {
        use threshold::*;
        let params = small_rlwe();
        let bfvp = bfv::Parameters::from_rlwe(params.clone(), 65537).expect("bfv view");
        let ckksp = ckks::Parameters::new(params.clone(), 2f64.powi(30)).expect("ckks view");
        let mut r = crate::rng(5);
        let crs = Crs::from_seed([9u8; 32]);
        let sk1 = rlwe::keys::SecretKey::generate(&params, &mut r);
        let mut parties: Vec<Party> = vec![
            Party::from_secret(PartyId(1), sk1.clone()),
            Party::new(PartyId(2), &params, &mut r),
            Party::new(PartyId(3), &params, &mut r),
        ];
        let pks: Vec<PublicKeyShare> = parties
            .iter_mut()
            .map(|p| p.public_key_share(&crs, &mut r).expect("pk share"))
            .collect();
        let cpk = PublicKeyShares::aggregate(pks.clone())
            .expect("aggregate")
            .finish()
            .expect("cpk");
        let mut r1 = Vec::new();
        let mut eph = Vec::new();
        for p in parties.iter_mut() {
            let (s, e) = p.relin_key_round1(&crs, &mut r).expect("r1");
            r1.push(s);
            eph.push(e);
        }
        let r1agg = RelinKeyRound1::aggregate(r1.clone()).expect("r1 agg");
        let r2: Vec<RelinRound2Share> = parties
            .iter_mut()
            .zip(eph)
            .map(|(p, e)| p.relin_key_round2(e, &r1agg, &mut r).expect("r2"))
            .collect();
        let gks: Vec<GaloisKeyShare> = parties
            .iter_mut()
            .map(|p| p.galois_key_share(&crs, 3, &mut r).expect("gk share"))
            .collect();
        // Shamir dealing t = 2 of 3.
        let mut inbox: Vec<Vec<SecretShareMessage>> = vec![Vec::new(), Vec::new(), Vec::new()];
        for p in parties.iter() {
            for m in p.deal(2, 3, &mut r).expect("deal") {
                inbox[m.to.0 as usize - 1].push(m);
            }
        }
        let deal: Vec<Vec<u8>> = inbox[0]
            .iter()
            .map(|m| m.to_bytes(&params).to_vec())
            .collect();
        for (p, msgs) in parties.iter_mut().zip(inbox) {
            p.receive_dealings(msgs, 2, 3).expect("receive");
        }
        let mut m = Poly::zero(params.ring_q_top(), Representation::Coefficient);
        m.limb_mut(0)[0] = 7;
        let ct = cpk.encrypt(&m, &mut r).expect("ct");
        let smudging = Smudging::new(10.0, 20);
        let dec: Vec<Vec<u8>> = parties
            .iter_mut()
            .map(|p| {
                p.decryption_share(&ct, None, &smudging, &mut r)
                    .expect("dec")
                    .to_bytes(&params)
                    .expect("dec bytes")
            })
            .collect();
        let active = ActiveSet::new(&[PartyId(1), PartyId(2)], 2).expect("active");
        // A second ciphertext for the t-of-n shares (a party makes one
        // decryption share per ciphertext).
        let ct_t = cpk.encrypt(&m, &mut r).expect("ct t");
        let dec_t: Vec<Vec<u8>> = parties[..2]
            .iter_mut()
            .map(|p| {
                p.decryption_share(&ct_t, Some(&active), &smudging, &mut r)
                    .expect("dec t")
                    .to_bytes(&params)
                    .expect("dec t bytes")
            })
            .collect();
        let target_sk = rlwe::keys::SecretKey::generate(&params, &mut r);
        let target = rlwe::keys::PublicKey::generate(&target_sk, &mut r).expect("target");
        let ct_ks = cpk.encrypt(&m, &mut r).expect("ct ks");
        let ks: Vec<Vec<u8>> = parties
            .iter_mut()
            .map(|p| {
                p.key_switch_share(&ct_ks, &target, None, &smudging, &mut r)
                    .expect("ks")
                    .to_bytes(&params)
                    .expect("ks bytes")
            })
            .collect();
        ThresholdFx {
            bfv: bfvp,
            ckks: ckksp,
            crs,
            parties: Mutex::new(parties),
            sk1,
            cpk,
            ct,
            active,
            smudging,
            pk: pks.iter().map(|s| s.to_bytes()).collect(),
            r1: r1.iter().map(|s| s.to_bytes()).collect(),
            r2: r2.iter().map(|s| s.to_bytes()).collect(),
            gk: gks.iter().map(|s| s.to_bytes()).collect(),
            dec,
            dec_t,
            ks,
            deal,
            target,
            params,
        }
    })
}

impl ThresholdFx {
    /// The first valid object of each kind.
    pub fn valid(&self, kind: usize) -> Vec<u8> {
        match kind {
            0 => self.pk[0].clone(),
            1 => self.r1[0].clone(),
            2 => self.r2[0].clone(),
            3 => self.gk[0].clone(),
            4 => self.dec[0].clone(),
            5 => self.ks[0].clone(),
            6 => self.deal[1].clone(),
            _ => self.ct.to_bytes(),
        }
    }
}

// ======================================================= threshold Paillier

/// Threshold Paillier objects: 2-of-3 over a 256-bit modulus (Paillier,
/// s = 1) and 2-of-3 Damgård–Jurik with s = 2.
pub struct TPaillierFx {
    /// Parameters (s = 1).
    pub params: threshold::paillier::PublicParams,
    /// Key shares (s = 1).
    pub shares: Vec<threshold::paillier::KeyShare>,
    /// A Paillier ciphertext under `params`.
    pub ct: paillier::Ciphertext,
    /// Valid partial decryptions of `ct` by parties 1, 2, 3.
    pub partials: Vec<threshold::paillier::PartialDecryption>,
    /// Parameters (s = 2).
    pub params2: threshold::paillier::PublicParams,
    /// Key shares (s = 2).
    pub shares2: Vec<threshold::paillier::KeyShare>,
    /// A DJ ciphertext under `params2`.
    pub ct2: threshold::paillier::DjCiphertext,
    /// Valid partial decryptions of `ct2`.
    pub partials2: Vec<threshold::paillier::PartialDecryption>,
    /// Valid bytes by kind.
    pub bytes: Vec<Vec<u8>>,
}

/// Kinds of `threshold_paillier`.
pub const TPAILLIER_KINDS: [&str; 8] = [
    "public parameters",
    "key share (+ partial decryption)",
    "partial decryption (+ verify, combine, combine_valid)",
    "Paillier ciphertext (+ partial decryptions, combine)",
    "public parameters (s = 2)",
    "key share (s = 2)",
    "partial decryption (s = 2, + verify, combine)",
    "Damgård–Jurik ciphertext (s = 2, + partial decryptions, combine)",
];

static TPAILLIER: Lazy<TPaillierFx> = Lazy::new();

/// The threshold Paillier fixture.
pub fn tpaillier() -> &'static TPaillierFx {
    TPAILLIER.get(|| {
        use threshold::paillier::*;
        let mut r = rng(6);
        let (p, q) = test_primes::primes(test_primes::SAFE128);
        let (params, shares) =
            Dealer::deal_with_primes_insecure(p.clone(), q.clone(), 2, 3, &mut r).expect("deal");
        let ct = params
            .public_key()
            .encrypt(&BigUint::from(4242u32), &mut r)
            .expect("ct");
        let partials: Vec<PartialDecryption> = shares
            .iter()
            .map(|s| s.partial_decrypt(&ct, &mut r).expect("partial"))
            .collect();
        let (params2, shares2) =
            Dealer::deal_dj_with_primes(p, q, 2, 2, 3, true, &mut r).expect("deal dj");
        let ct2 = params2
            .encrypt_dj(&BigUint::from(99u32), &mut r)
            .expect("dj ct");
        let partials2: Vec<PartialDecryption> = shares2
            .iter()
            .map(|s| s.partial_decrypt(&ct2, &mut r).expect("partial dj"))
            .collect();
        let bytes = vec![
            params.to_bytes(),
            shares[0].to_bytes().to_vec(),
            partials[0].to_bytes(),
            ct.to_bytes(),
            params2.to_bytes(),
            shares2[0].to_bytes().to_vec(),
            partials2[0].to_bytes(),
            ct2.to_bytes(),
        ];
        TPaillierFx {
            params,
            shares,
            ct,
            partials,
            params2,
            shares2,
            ct2,
            partials2,
            bytes,
        }
    })
}

// ================================================= ml-he aggregation (CKKS)

/// A CKKS aggregation session: 3 clients, t = 2, N = 8192 (the smallest the
/// session allows), updates of 4 floats; clients 1 and 3 submitted, the
/// committee {2, 3} was asked.
pub struct AggFx {
    /// Session parameters.
    pub params: Arc<ml_he::aggregation::AggregationParams>,
    /// The collective key.
    pub key: ml_he::aggregation::SessionKey,
    /// Clients (client 2 answers fuzzed requests).
    pub clients: Mutex<Vec<ml_he::aggregation::Client>>,
    /// Serialized key.
    pub key_bytes: Vec<u8>,
    /// Updates of clients 1 and 3 (round 0).
    pub updates: Vec<Vec<u8>>,
    /// The decryption request to {2, 3}.
    pub request: Vec<u8>,
    /// Decryption shares of clients 2 and 3.
    pub shares: Vec<Vec<u8>>,
}

/// Kinds of `mlhe_aggregation`.
pub const AGG_KINDS: [&str; 5] = [
    "session key (+ encrypt an update with it)",
    "encrypted update (Server::add after a valid one, then a request)",
    "decryption request (Client::decryption_share)",
    "decryption request (combine with valid shares)",
    "decryption share (combine with the valid request)",
];

static AGG: Lazy<AggFx> = Lazy::new();

/// The aggregation fixture.
pub fn agg() -> &'static AggFx {
    AGG.get(|| {
        use ml_he::aggregation::*;
        let mut r = rng(7);
        let params =
            AggregationParams::new(AggregationConfig::new(3, 2), [1u8; 32]).expect("params");
        let mut clients: Vec<Client> = (1..=3)
            .map(|i| Client::new(&params, i, &mut r).expect("client"))
            .collect();
        let shares: Vec<_> = clients
            .iter_mut()
            .map(|c| c.public_key_share(&mut r).expect("pk share"))
            .collect();
        let key = SessionKey::from_shares(&params, shares).expect("key");
        let key = deal_all(&mut clients, &key, &mut r).expect("deal");
        let u1 = clients[0]
            .encrypt_update(0, &[1.0, 2.0, 3.0, 4.0], &mut r)
            .expect("u1");
        let u3 = clients[2]
            .encrypt_update(0, &[3.0, 2.0, 1.0, 0.0], &mut r)
            .expect("u3");
        let mut server = Server::new(&key, 0, 4).expect("server");
        server.add(&u1).expect("add 1");
        server.add(&u3).expect("add 3");
        let request = server.decryption_request(&[2, 3]).expect("request");
        let s2 = clients[1].decryption_share(&request, &mut r).expect("s2");
        let s3 = clients[2].decryption_share(&request, &mut r).expect("s3");
        combine(&key, &request, &[s2.clone(), s3.clone()]).expect("combine");
        AggFx {
            params,
            key_bytes: key.to_bytes(),
            key,
            clients: Mutex::new(clients),
            updates: vec![u1, u3],
            request,
            shares: vec![s2, s3],
        }
    })
}

impl AggFx {
    /// The valid object of each kind.
    pub fn valid(&self, kind: usize) -> &[u8] {
        match kind {
            0 => &self.key_bytes,
            1 => &self.updates[1],
            2 | 3 => &self.request,
            _ => &self.shares[0],
        }
    }
}

// ============================================= ml-he aggregation (Paillier)

/// A threshold Paillier aggregation session: 3 clients, key holders 2-of-3
/// (512-bit insecure modulus), updates of 5 floats.
pub struct PAggFx {
    /// The session.
    pub session: Arc<ml_he::aggregation::paillier_variant::PaillierSession>,
    /// The key holders' shares (bytes: a fresh `KeyHolder` per input).
    pub shares: Vec<Vec<u8>>,
    /// Updates of clients 1 and 2.
    pub updates: Vec<Vec<u8>>,
    /// The decryption request.
    pub request: Vec<u8>,
    /// Decryption shares of key holders 1 and 2.
    pub dshares: Vec<Vec<u8>>,
}

/// Kinds of `mlhe_paillier_aggregation`.
pub const PAGG_KINDS: [&str; 4] = [
    "encrypted update (PaillierServer::add after a valid one, then a request)",
    "decryption request (decryption_share)",
    "decryption request (combine with valid shares)",
    "decryption share (combine with the valid request)",
];

static PAGG: Lazy<PAggFx> = Lazy::new();

/// The Paillier aggregation fixture.
pub fn pagg() -> &'static PAggFx {
    PAGG.get(|| {
        use ml_he::aggregation::paillier_variant::*;
        use threshold::paillier::*;
        let mut r = rng(8);
        let (p, q) = test_primes::primes(test_primes::SAFE256);
        let (params, shares) = Dealer::deal_with_primes_insecure(p, q, 2, 3, &mut r).expect("deal");
        let session = PaillierSession::new(params, 3, 8.0, 16).expect("session");
        let x1 = [0.5, -1.0, 2.0, 7.5, -8.0];
        let x2 = [1.5, 1.0, -2.0, 0.5, 0.0];
        let u1 = session.encrypt_update(1, 0, &x1, &mut r).expect("u1");
        let u2 = session.encrypt_update(2, 0, &x2, &mut r).expect("u2");
        let mut server = PaillierServer::new(&session, 0, 5).expect("server");
        server.add(&u1).expect("add 1");
        server.add(&u2).expect("add 2");
        let request = server.decryption_request().expect("request");
        let share_bytes: Vec<Vec<u8>> = shares.iter().map(|k| k.to_bytes().to_vec()).collect();
        let mut holders: Vec<KeyHolder> = shares
            .into_iter()
            .map(|k| KeyHolder::new(&session, k, 2).expect("holder"))
            .collect();
        let d1 = holders[0].decryption_share(&request, &mut r).expect("d1");
        let d2 = holders[1].decryption_share(&request, &mut r).expect("d2");
        combine(&session, &request, &[d1.clone(), d2.clone()]).expect("combine");
        PAggFx {
            session,
            shares: share_bytes,
            updates: vec![u1, u2],
            request,
            dshares: vec![d1, d2],
        }
    })
}

impl PAggFx {
    /// The valid object of each kind.
    pub fn valid(&self, kind: usize) -> &[u8] {
        match kind {
            0 => &self.updates[1],
            1 | 2 => &self.request,
            _ => &self.dshares[0],
        }
    }
}

// ======================================================== ml-he inference

/// Encrypted logistic-regression inference (per-sample packing): server,
/// client, valid setup, keys, query and response.
pub struct InferenceFx {
    /// The server.
    pub server: ml_he::inference::Server,
    /// The client (decrypts fuzzed responses).
    pub client: ml_he::inference::Client,
    /// Valid evaluation keys.
    pub keys: ml_he::inference::EvaluationKeys,
    /// Valid bytes by kind.
    pub bytes: Vec<Vec<u8>>,
}

/// Kinds of `mlhe_inference`.
pub const INFERENCE_KINDS: [&str; 4] = [
    "public setup (+ parameters)",
    "evaluation keys",
    "query (+ evaluate with valid keys)",
    "response (+ client decryption)",
];

static INFERENCE: Lazy<InferenceFx> = Lazy::new();

/// The inference fixture.
pub fn inference() -> &'static InferenceFx {
    INFERENCE.get(|| {
        use ml_he::inference::*;
        use ml_he::model::LogisticRegression;
        let model = LogisticRegression {
            weights: vec![0.5, -0.25, 1.0, 0.125],
            bias: 0.2,
        };
        let server = Server::logistic(&model, Packing::PerSample).expect("server");
        let mut client = Client::with_rng(server.setup(), rng(9)).expect("client");
        let keys = client.evaluation_keys().expect("keys");
        let query = client.encrypt(&[0.1, 0.2, -0.3, 0.4]).expect("query");
        let resp = server.evaluate(&keys, &query).expect("evaluate");
        client.decrypt(&resp).expect("decrypt");
        let bytes = vec![
            server.setup().to_bytes(),
            keys.to_bytes(),
            query.to_bytes(),
            resp.to_bytes(),
        ];
        InferenceFx {
            server,
            client,
            keys,
            bytes,
        }
    })
}

// ========================================================= ml-he testing

/// Private model testing: 3 parties, t = 2, 2 classes (BFV N = 8192).
pub struct TestingFx {
    /// The collective key.
    pub key: ml_he::testing::TestingKey,
    /// Parties (party 2 answers fuzzed requests).
    pub parties: Mutex<Vec<ml_he::testing::TestParty>>,
    /// Encrypted counts of parties 1 and 3.
    pub counts: Vec<Vec<u8>>,
    /// Request to {2, 3}.
    pub request: Vec<u8>,
    /// Shares of parties 2 and 3.
    pub shares: Vec<Vec<u8>>,
}

/// Kinds of `mlhe_testing`.
pub const TESTING_KINDS: [&str; 4] = [
    "encrypted counts (TestingServer::add after a valid one, then a request)",
    "decryption request (TestParty::decryption_share)",
    "decryption request (combine with valid shares)",
    "decryption share (combine with the valid request)",
];

static TESTING: Lazy<TestingFx> = Lazy::new();

/// The model-testing fixture.
pub fn testing() -> &'static TestingFx {
    TESTING.get(|| {
        use ml_he::testing::*;
        let mut r = rng(10);
        let params = TestingParams::new(3, 2, 2, [3u8; 32]).expect("params");
        let mut parties: Vec<TestParty> = (1..=3)
            .map(|i| TestParty::new(&params, i, &mut r).expect("party"))
            .collect();
        let pks: Vec<_> = parties
            .iter_mut()
            .map(|p| p.public_key_share(&mut r).expect("pk share"))
            .collect();
        let key = TestingKey::from_shares(&params, pks).expect("key");
        let key = deal_all(&mut parties, &key, &mut r).expect("deal");
        let mut cm = ConfusionMatrix::new(2);
        cm.record(0, 0).expect("record");
        cm.record(1, 0).expect("record");
        cm.record(1, 1).expect("record");
        let c1 = parties[0].encrypt_counts(&cm, &mut r).expect("c1");
        let c3 = parties[2].encrypt_counts(&cm, &mut r).expect("c3");
        let mut server = TestingServer::new(&key);
        server.add(&c1).expect("add 1");
        server.add(&c3).expect("add 3");
        let request = server.decryption_request(&[2, 3]).expect("request");
        let s2 = parties[1].decryption_share(&request, &mut r).expect("s2");
        let s3 = parties[2].decryption_share(&request, &mut r).expect("s3");
        combine(&key, &request, &[s2.clone(), s3.clone()]).expect("combine");
        TestingFx {
            key,
            parties: Mutex::new(parties),
            counts: vec![c1, c3],
            request,
            shares: vec![s2, s3],
        }
    })
}

impl TestingFx {
    /// The valid object of each kind.
    pub fn valid(&self, kind: usize) -> &[u8] {
        match kind {
            0 => &self.counts[1],
            1 | 2 => &self.request,
            _ => &self.shares[0],
        }
    }
}
