//! Proof of a well-formed, bounded public-key encryption (see the crate
//! docs for the relation, soundness and zero-knowledge).

use std::sync::Arc;

use rand::{CryptoRng, RngCore};
use rlwe::poly::{negacyclic_mul_sparse, Poly, Representation, RingContext};
use rlwe::sample;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::codec::{width, BitReader, BitWriter};
use crate::transcript::Transcript;
use crate::{challenge, Error, Result};

/// Security of the challenge space in bits: the weight is the smallest with
/// `C(N, w)·2^w ≥ 2^128`.
pub const CHALLENGE_BITS: f64 = 128.0;

/// Bound on the encryption randomness `u` (ternary).
pub const U_BOUND: u64 = 1;

/// Bound on the encryption errors `e0`, `e1` (centered binomial, η = 21).
pub const E_BOUND: u64 = sample::CBD_ETA as u64;

const VERSION: u8 = 1;
const WHAT: &str = "encryption proof";

/// One witness block: its name, honest bound, challenge bound `β = w·bound`
/// and mask bound `γ = κ·β`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Block {
    bound: u64,
    beta: u64,
    gamma: u64,
}

impl Block {
    /// The largest response coefficient a verifier accepts: `γ − β`.
    fn z_max(&self) -> u64 {
        self.gamma - self.beta
    }
}

/// The public parameters of the proof that a ciphertext over the ring `Q`
/// is `(u·b + e0 + K·m, u·a + e1)` with `‖u‖∞ ≤ 1`, `‖e0‖∞, ‖e1‖∞ ≤ 21`
/// and `‖m‖∞ ≤ m_bound`, for the integer lift `K = 2^lift_log2`.
///
/// Derived: the challenge weight `w` (smallest with a challenge space of
/// 2^128 in degree `N`), the rejection parameter `κ = 4N` (each attempt
/// succeeds with probability ≈ `e^-1`), per block `β = w·bound` (a bound on
/// `‖c·s‖∞`) and uniform masks in `[−κβ, κβ]`.
#[derive(Clone, Debug)]
pub struct EncParams {
    ring: Arc<RingContext>,
    weight: usize,
    kappa: u64,
    lift_log2: Option<u32>,
    lift: Vec<u64>,
    blocks: [Block; 4],
    fingerprint: [u8; 32],
}

/// Indices of the four witness blocks.
const U: usize = 0;
const E0: usize = 1;
const E1: usize = 2;
const M: usize = 3;

impl EncParams {
    /// Parameters for ciphertexts over `ring` whose message `m` is bounded
    /// by `m_bound` (in absolute value) and lifted by `2^lift_log2`.
    ///
    /// # Errors
    /// [`Error::InvalidParameters`] if the ring is too small for a 2^128
    /// challenge space, or a mask bound would reach 2^62 (`m_bound` too
    /// large for the degree).
    pub fn new(ring: &Arc<RingContext>, m_bound: u64, lift_log2: u32) -> Result<Self> {
        let lift: Vec<u64> = ring
            .moduli()
            .iter()
            .map(|m| m.pow(2, u64::from(lift_log2)))
            .collect();
        Self::build(ring, m_bound, lift, Some(lift_log2))
    }

    /// Parameters with an arbitrary integer lift `K`, given by its residues
    /// modulo the primes of `ring` (e.g. BFV's `Δ = ⌊Q/t⌋`).
    ///
    /// # Errors
    /// As [`Self::new`]; [`Error::ParameterMismatch`] if `lift` does not
    /// have one residue below each prime.
    pub fn with_lift(ring: &Arc<RingContext>, m_bound: u64, lift: &[u64]) -> Result<Self> {
        if lift.len() != ring.len() || lift.iter().zip(ring.moduli()).any(|(&k, m)| k >= m.value())
        {
            return Err(Error::ParameterMismatch {
                what: "lift residues (one below each prime of the ring)",
            });
        }
        Self::build(ring, m_bound, lift.to_vec(), None)
    }

    fn build(
        ring: &Arc<RingContext>,
        m_bound: u64,
        lift: Vec<u64>,
        lift_log2: Option<u32>,
    ) -> Result<Self> {
        let n = ring.degree();
        let weight = challenge::challenge_weight(n, CHALLENGE_BITS).ok_or_else(|| {
            Error::InvalidParameters(format!(
                "degree {n} has no challenge space of 2^{CHALLENGE_BITS}"
            ))
        })?;
        let kappa = 4 * n as u64;
        let mut blocks = [Block {
            bound: 0,
            beta: 0,
            gamma: 0,
        }; 4];
        for (b, bound) in blocks
            .iter_mut()
            .zip([U_BOUND, E_BOUND, E_BOUND, m_bound.max(1)])
        {
            let beta = (weight as u128) * bound as u128;
            let gamma = beta * kappa as u128;
            if gamma >= 1 << 61 {
                return Err(Error::InvalidParameters(format!(
                    "mask bound κ·w·{bound} = 2^{:.1} reaches 2^61",
                    (gamma as f64).log2()
                )));
            }
            *b = Block {
                bound,
                beta: beta as u64,
                gamma: gamma as u64,
            };
        }
        let mut t = Transcript::new(b"hekit/zk/enc-params/v2");
        t.append_u64(b"degree", n as u64);
        let moduli: Vec<u64> = ring.moduli().iter().map(|m| m.value()).collect();
        t.append_words(b"moduli", &moduli);
        t.append_u64(b"weight", weight as u64);
        t.append_u64(b"kappa", kappa);
        t.append_words(b"lift", &lift);
        for b in &blocks {
            t.append_u64(b"bound", b.bound);
        }
        Ok(Self {
            ring: ring.clone(),
            weight,
            kappa,
            lift_log2,
            lift,
            blocks,
            fingerprint: t.finish(),
        })
    }

    /// The ring `Q`.
    pub fn ring(&self) -> &Arc<RingContext> {
        &self.ring
    }

    /// The challenge weight `w`.
    pub fn weight(&self) -> usize {
        self.weight
    }

    /// log2 of the challenge space, `log2(C(N, w)·2^w)` (≥ 128).
    pub fn log2_challenge_space(&self) -> f64 {
        challenge::log2_challenge_space(self.ring.degree(), self.weight)
    }

    /// The rejection parameter `κ` (masks `γ = κ·β`).
    pub fn kappa(&self) -> u64 {
        self.kappa
    }

    /// Probability that one prover attempt is accepted:
    /// `∏ ((2(γ−β)+1)/(2γ+1))^N` over the four blocks (≈ `e^-1`).
    pub fn acceptance_probability(&self) -> f64 {
        let n = self.ring.degree() as f64;
        self.blocks
            .iter()
            .map(|b| n * (((2 * b.z_max() + 1) as f64) / ((2 * b.gamma + 1) as f64)).ln())
            .sum::<f64>()
            .exp()
    }

    /// `k` of the lift `K = 2^k`, if the parameters were made with one
    /// ([`Self::new`]; `None` for [`Self::with_lift`]).
    pub fn lift_log2(&self) -> Option<u32> {
        self.lift_log2
    }

    /// The honest bound on `‖m‖∞`.
    pub fn m_bound(&self) -> u64 {
        self.blocks[M].bound
    }

    /// The soundness slack: an extractor gets a witness `2·w·(κ−1)` times
    /// the honest bound in every block (with the challenge difference `c̄`,
    /// see the crate docs).
    pub fn slack(&self) -> u64 {
        2 * self.weight as u64 * (self.kappa - 1)
    }

    /// What the proof establishes about `(‖u‖∞, ‖e0‖∞, ‖e1‖∞, ‖m‖∞)` of the
    /// extracted witness: `2(γ − β)` per block.
    pub fn proven_bounds(&self) -> ProvenBounds {
        let z = |i: usize| 2 * self.blocks[i].z_max();
        ProvenBounds {
            u: z(U),
            e0: z(E0),
            e1: z(E1),
            m: z(M),
        }
    }

    /// Bytes of one proof: a version byte, the 32-byte challenge hash and
    /// the four responses, `N` coefficients each in a fixed width.
    pub fn proof_bytes(&self) -> usize {
        let bits: usize = self
            .blocks
            .iter()
            .map(|b| width(b.z_max()) as usize)
            .sum::<usize>()
            * self.ring.degree();
        1 + 32 + bits.div_ceil(8)
    }

    /// A digest of everything above (bound into every proof).
    pub fn fingerprint(&self) -> &[u8; 32] {
        &self.fingerprint
    }
}

/// Infinity-norm bounds established by a verified proof (see
/// [`EncParams::proven_bounds`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProvenBounds {
    /// `‖ū‖∞`.
    pub u: u64,
    /// `‖ē0‖∞`.
    pub e0: u64,
    /// `‖ē1‖∞`.
    pub e1: u64,
    /// `‖m̄‖∞`.
    pub m: u64,
}

/// The public key `(b, a)` over the ring `Q` of [`EncParams`] (NTT form)
/// and its digest.
#[derive(Clone)]
pub struct EncKey {
    b: Poly,
    a: Poly,
    digest: [u8; 32],
}

impl std::fmt::Debug for EncKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncKey")
            .field("digest", &&self.digest[..8])
            .finish_non_exhaustive()
    }
}

impl EncKey {
    /// The key `(b, a)` of an RLWE public key, restricted to the ring `Q`
    /// of `params` (dropping the special primes).
    pub fn new(params: &EncParams, pk: &rlwe::keys::PublicKey) -> Result<Self> {
        let mut b = pk.b().restrict_to(&params.ring)?;
        let mut a = pk.a().restrict_to(&params.ring)?;
        b.set_representation(Representation::Ntt);
        a.set_representation(Representation::Ntt);
        let mut t = Transcript::new(b"hekit/zk/enc-key/v1");
        t.append_words(b"b", b.data());
        t.append_words(b"a", a.data());
        Ok(Self {
            b,
            a,
            digest: t.finish(),
        })
    }

    /// A digest of the key (bound into every proof).
    pub fn digest(&self) -> &[u8; 32] {
        &self.digest
    }
}

/// What the prover knows about one ciphertext: `u`, `e0`, `e1` and `m`
/// (integer coefficients). Secret: zeroized on drop, hidden from `Debug`.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct EncWitness {
    parts: [Vec<i64>; 4],
}

impl std::fmt::Debug for EncWitness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncWitness").finish_non_exhaustive()
    }
}

impl EncWitness {
    /// A witness from its parts (each of `N` coefficients).
    pub fn new(u: Vec<i64>, e0: Vec<i64>, e1: Vec<i64>, m: Vec<i64>) -> Self {
        Self {
            parts: [u, e0, e1, m],
        }
    }

    /// Errors unless every part has `N` coefficients within its bound.
    fn check(&self, params: &EncParams) -> Result<()> {
        let n = params.ring.degree();
        for (i, (p, b)) in self.parts.iter().zip(&params.blocks).enumerate() {
            let what = ["u", "e0", "e1", "m"][i];
            if p.len() != n {
                return Err(Error::ParameterMismatch {
                    what: "witness part of another degree",
                });
            }
            if p.iter().any(|x| x.unsigned_abs() > b.bound) {
                return Err(Error::WitnessOutOfBound { what });
            }
        }
        Ok(())
    }
}

/// A ciphertext `(c0, c1)` over the ring `Q` of [`EncParams`], NTT form.
pub type Ciphertext = (Poly, Poly);

/// A borrowed ciphertext `(&c0, &c1)`.
pub type CiphertextRef<'a> = (&'a Poly, &'a Poly);

fn check_ct(params: &EncParams, ct: CiphertextRef<'_>) -> Result<()> {
    for p in [ct.0, ct.1] {
        if !p.context().same_ring(&params.ring) || p.representation() != Representation::Ntt {
            return Err(Error::ParameterMismatch {
                what: "ciphertext part not over the proof's ring in NTT form",
            });
        }
    }
    Ok(())
}

/// `(u·b + e0 + K·m, u·a + e1)` in NTT form.
fn commit(
    params: &EncParams,
    key: &EncKey,
    u: &[i64],
    e0: &[i64],
    e1: &[i64],
    m: &[i64],
) -> Result<(Poly, Poly)> {
    let ring = &params.ring;
    let mut pu = sample::small_poly(ring, u);
    pu.to_ntt();
    let mut p0 = sample::small_poly(ring, m);
    p0.mul_scalar_rns_assign(&params.lift)?;
    p0.add_small_assign(e0)?;
    p0.to_ntt();
    let mut p1 = sample::small_poly(ring, e1);
    p1.to_ntt();
    p0.mul_acc(&pu, &key.b)?;
    p1.mul_acc(&pu, &key.a)?;
    pu.zeroize();
    Ok((p0, p1))
}

/// Encrypts the integer message `m` (`N` coefficients, `‖m‖∞ ≤ m_bound`)
/// under `key` **without** the special primes: `(u·b + e0 + K·m, u·a + e1)`
/// over `Q` with ternary `u` and centered-binomial `e0`, `e1` (η = 21, the
/// distributions of `rlwe::keys::PublicKey::encrypt`), and returns the
/// witness for [`prove`].
pub fn encrypt<R: RngCore + CryptoRng>(
    params: &EncParams,
    key: &EncKey,
    m: &[i64],
    rng: &mut R,
) -> Result<(Ciphertext, EncWitness)> {
    let n = params.ring.degree();
    let mut m = m.to_vec();
    if m.len() > n {
        return Err(Error::ParameterMismatch {
            what: "message longer than the ring degree",
        });
    }
    m.resize(n, 0);
    let w = EncWitness::new(
        sample::ternary(n, rng),
        sample::cbd(n, rng),
        sample::cbd(n, rng),
        m,
    );
    w.check(params)?;
    let [u, e0, e1, m] = &w.parts;
    let ct = commit(params, key, u, e0, e1, m)?;
    Ok((ct, w))
}

/// A non-interactive proof for one ciphertext: the challenge hash and the
/// responses `z = y + c·s` of the four witness blocks.
#[derive(Clone, PartialEq, Eq)]
pub struct EncProof {
    challenge: [u8; 32],
    z: [Vec<i64>; 4],
}

impl std::fmt::Debug for EncProof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncProof")
            .field("challenge", &&self.challenge[..8])
            .finish_non_exhaustive()
    }
}

impl EncProof {
    /// The proof's bytes ([`EncParams::proof_bytes`] of them).
    pub fn to_bytes(&self, params: &EncParams) -> Vec<u8> {
        let mut out = Vec::with_capacity(params.proof_bytes());
        out.push(VERSION);
        out.extend_from_slice(&self.challenge);
        let mut w = BitWriter::new(out);
        for (z, b) in self.z.iter().zip(&params.blocks) {
            for &x in z {
                w.put(x, b.z_max());
            }
        }
        w.finish()
    }

    /// Reads a proof for `params`, checking its length, version and that
    /// every response coefficient is within `±(γ − β)`.
    ///
    /// # Errors
    /// [`Error::Malformed`] for anything else.
    pub fn from_bytes(params: &EncParams, bytes: &[u8]) -> Result<Self> {
        if bytes.len() != params.proof_bytes() {
            return Err(Error::Malformed {
                what: WHAT,
                reason: format!("{} bytes, expected {}", bytes.len(), params.proof_bytes()),
            });
        }
        if bytes[0] != VERSION {
            return Err(Error::Malformed {
                what: WHAT,
                reason: format!("version {}", bytes[0]),
            });
        }
        let mut challenge = [0u8; 32];
        challenge.copy_from_slice(&bytes[1..33]);
        let n = params.ring.degree();
        let mut r = BitReader::new(&bytes[33..], WHAT);
        let mut z: [Vec<i64>; 4] = Default::default();
        for (zi, b) in z.iter_mut().zip(&params.blocks) {
            *zi = (0..n).map(|_| r.get(b.z_max())).collect::<Result<_>>()?;
        }
        r.finish()?;
        Ok(Self { challenge, z })
    }
}

/// The transcript prefix shared by prover and verifier: parameters, key,
/// the caller's context (session, round, party, digests of the other
/// ciphertexts of the batch), the index and the ciphertext itself.
fn statement(
    params: &EncParams,
    key: &EncKey,
    context: &[u8; 32],
    index: u64,
    ct: CiphertextRef<'_>,
) -> Transcript {
    let mut t = Transcript::new(b"hekit/zk/enc-proof/v1");
    t.append(b"params", &params.fingerprint);
    t.append(b"key", &key.digest);
    t.append(b"context", context);
    t.append_u64(b"index", index);
    t.append_words(b"c0", ct.0.data());
    t.append_words(b"c1", ct.1.data());
    t
}

fn challenge_of(mut t: Transcript, w0: &Poly, w1: &Poly) -> [u8; 32] {
    t.append_words(b"w0", w0.data());
    t.append_words(b"w1", w1.data());
    t.finish()
}

/// Proves that `ct` is a well-formed, bounded encryption under `key`
/// (Fiat–Shamir with aborts, uniform masks): bound to `context` (the
/// caller's session, round, party and batch) and `index` (the ciphertext's
/// place in the batch).
///
/// # Errors
/// [`Error::WitnessOutOfBound`] / [`Error::ParameterMismatch`] for a
/// witness or ciphertext that does not fit `params`. Each attempt succeeds
/// with probability ≈ `e^-1` independently, so the loop ends after 2.7
/// attempts on average (more than 256 with probability below 2^-169).
pub fn prove<R: RngCore + CryptoRng>(
    params: &EncParams,
    key: &EncKey,
    context: &[u8; 32],
    index: u64,
    ct: CiphertextRef<'_>,
    witness: &EncWitness,
    rng: &mut R,
) -> Result<EncProof> {
    check_ct(params, ct)?;
    witness.check(params)?;
    let n = params.ring.degree();
    let prefix = statement(params, key, context, index, ct);
    loop {
        let mut y: [Vec<i64>; 4] = Default::default();
        for (yi, b) in y.iter_mut().zip(&params.blocks) {
            *yi = sample::uniform_centered(n, b.gamma, rng)?;
        }
        let (w0, w1) = commit(params, key, &y[U], &y[E0], &y[E1], &y[M])?;
        let seed = challenge_of(prefix.clone(), &w0, &w1);
        let c = challenge::expand(&seed, n, params.weight);
        let mut z: [Vec<i64>; 4] = Default::default();
        let mut accept = true;
        for i in 0..4 {
            let mut cs = negacyclic_mul_sparse(&c, &witness.parts[i])?;
            let zmax = params.blocks[i].z_max() as i64;
            for (x, &yv) in cs.iter_mut().zip(&y[i]) {
                *x += yv;
            }
            accept &= cs.iter().all(|x| x.abs() <= zmax);
            z[i] = cs;
            if !accept {
                break;
            }
        }
        for yi in &mut y {
            yi.zeroize();
        }
        if accept {
            return Ok(EncProof { challenge: seed, z });
        }
        for zi in &mut z {
            zi.zeroize();
        }
    }
}

/// Verifies `proof` for `ct` under `key`, `context` and `index`: the
/// responses are within `±(γ − β)` and `(z_u·b + z_e0 + K·z_m − c·c0,
/// z_u·a + z_e1 − c·c1)` hashes, with the statement, to the proof's
/// challenge.
///
/// # Errors
/// [`Error::Rejected`] for a proof that does not verify;
/// [`Error::ParameterMismatch`] for a ciphertext of another ring.
pub fn verify(
    params: &EncParams,
    key: &EncKey,
    context: &[u8; 32],
    index: u64,
    ct: CiphertextRef<'_>,
    proof: &EncProof,
) -> Result<()> {
    check_ct(params, ct)?;
    let n = params.ring.degree();
    for (z, b) in proof.z.iter().zip(&params.blocks) {
        if z.len() != n || z.iter().any(|x| x.unsigned_abs() > b.z_max()) {
            return Err(Error::Rejected {
                reason: "response outside its bound",
            });
        }
    }
    let c = challenge::expand(&proof.challenge, n, params.weight);
    let z = &proof.z;
    let (mut w0, mut w1) = commit(params, key, &z[U], &z[E0], &z[E1], &z[M])?;
    let mut pc = sample::small_poly(&params.ring, &c);
    pc.to_ntt();
    let mut t = Poly::mul(&pc, ct.0)?;
    w0.sub_assign(&t)?;
    t = Poly::mul(&pc, ct.1)?;
    w1.sub_assign(&t)?;
    let seed = challenge_of(statement(params, key, context, index, ct), &w0, &w1);
    if seed != proof.challenge {
        return Err(Error::Rejected {
            reason: "the commitment does not hash to the challenge",
        });
    }
    Ok(())
}
