//! Proof that decryption shares are correct (see the crate docs, "Decryption
//! shares", for the relation, soundness and zero-knowledge).

use std::sync::Arc;

use rand::{CryptoRng, RngCore};
use rlwe::poly::{
    negacyclic_mul_sparse, negacyclic_mul_sparse_wide, Poly, Representation, RingContext,
};
use rlwe::sample;
use zeroize::Zeroize;

use crate::codec::{width, width_wide, BitReader, BitWriter};
use crate::encryption::CHALLENGE_BITS;
use crate::transcript::Transcript;
use crate::{challenge, Error, Result};

const VERSION: u8 = 1;
const WHAT: &str = "decryption-share proof";

/// Largest number of shares one proof covers (callers split longer lists):
/// the rejection parameter grows with it.
pub const MAX_SHARES_PER_PROOF: usize = 8;

/// The public parameters of the proof that decryption shares `d_l` are
/// `M_l·S + e_l` for the secret `S` committed to in `(K1, K2) = (A1·S + E1,
/// A2·S + E2)`, with `‖E1‖∞, ‖E2‖∞ ≤ key_bound` and `‖e_l‖∞ ≤
/// noise_bound`, for up to `count` shares per proof.
///
/// Derived: the challenge weight `w` (2^128 challenge space), `κ =
/// N·(count + 2)` (an attempt succeeds with probability ≈ `e^-1`), `β =
/// w·bound` and uniform masks in `[−κβ, κβ]` for the short blocks; the mask
/// of `S` is uniform in `R_Q`.
#[derive(Clone, Debug)]
pub struct ShareParams {
    ring: Arc<RingContext>,
    weight: usize,
    kappa: u64,
    count: usize,
    key: (u64, u64, u64),
    noise: (u128, u128, u128),
    fingerprint: [u8; 32],
}

impl ShareParams {
    /// Parameters over `ring` (the ciphertexts' ring `Q`).
    ///
    /// # Errors
    /// [`Error::InvalidParameters`] if `count` is 0 or above
    /// [`MAX_SHARES_PER_PROOF`], the ring has no 2^128 challenge space, a
    /// mask bound overflows (key masks below 2^61, noise masks below
    /// 2^118), the proven noise bound `4γ` reaches `Q`, or the commitment
    /// would not bind at the proven key-noise bound (`(8γ_K)^2 ≥ Q`).
    pub fn new(
        ring: &Arc<RingContext>,
        key_bound: u64,
        noise_bound: u128,
        count: usize,
    ) -> Result<Self> {
        let n = ring.degree();
        let (weight, kappa) = Self::shape(n, count)?;
        let kb = (weight as u128) * u128::from(key_bound.max(1));
        let kg = kb * u128::from(kappa);
        if kg >= 1 << 61 {
            return Err(Error::InvalidParameters(format!(
                "key-noise mask bound 2^{:.1} reaches 2^61",
                (kg as f64).log2()
            )));
        }
        let (nb, ng) = Self::noise_masks(weight, kappa, noise_bound)?;
        let log_q: f64 = ring
            .moduli()
            .iter()
            .map(|m| (m.value() as f64).log2())
            .sum();
        let log_noise = ((4 * ng) as f64).log2();
        if log_noise + 1.0 >= log_q {
            return Err(Error::InvalidParameters(format!(
                "proven share noise 2^{log_noise:.1} does not fit Q = 2^{log_q:.1}"
            )));
        }
        let log_key = ((8 * kg) as f64).log2();
        if 2.0 * log_key + 1.0 >= log_q {
            return Err(Error::InvalidParameters(format!(
                "share commitments do not bind: (8γ_K)² = 2^{:.1} ≥ Q = 2^{log_q:.1}",
                2.0 * log_key
            )));
        }
        let mut t = Transcript::new(b"hekit/zk/share-params/v1");
        t.append_u64(b"degree", n as u64);
        let moduli: Vec<u64> = ring.moduli().iter().map(|m| m.value()).collect();
        t.append_words(b"moduli", &moduli);
        t.append_u64(b"weight", weight as u64);
        t.append_u64(b"kappa", kappa);
        t.append_u64(b"count", count as u64);
        t.append_u64(b"key_bound", key_bound.max(1));
        t.append(b"noise_bound", &noise_bound.max(1).to_le_bytes());
        Ok(Self {
            ring: ring.clone(),
            weight,
            kappa,
            count,
            key: (key_bound.max(1), kb as u64, kg as u64),
            noise: (noise_bound.max(1), nb, ng),
            fingerprint: t.finish(),
        })
    }

    /// `(w, κ)` for degree `n` and `count` shares per proof.
    fn shape(n: usize, count: usize) -> Result<(usize, u64)> {
        if count == 0 || count > MAX_SHARES_PER_PROOF {
            return Err(Error::InvalidParameters(format!(
                "{count} shares per proof (1..={MAX_SHARES_PER_PROOF})"
            )));
        }
        let weight = challenge::challenge_weight(n, CHALLENGE_BITS).ok_or_else(|| {
            Error::InvalidParameters(format!(
                "degree {n} has no challenge space of 2^{CHALLENGE_BITS}"
            ))
        })?;
        Ok((weight, (n * (count + 2)) as u64))
    }

    fn noise_masks(weight: usize, kappa: u64, noise_bound: u128) -> Result<(u128, u128)> {
        let nb = (weight as u128).checked_mul(noise_bound.max(1));
        let ng = nb.and_then(|b| b.checked_mul(u128::from(kappa)));
        match (nb, ng) {
            (Some(nb), Some(ng)) if ng < 1 << 118 => Ok((nb, ng)),
            _ => Err(Error::InvalidParameters(format!(
                "share-noise mask bound κ·w·2^{:.1} reaches 2^118",
                (noise_bound as f64).log2()
            ))),
        }
    }

    /// The bound a verified proof puts on each share's noise, `2(γ − β)`,
    /// for degree `degree`, `count` shares per proof and honest noise bound
    /// `noise_bound` — what a cheating committee member can add to the
    /// decrypted value without being caught (up to the challenge
    /// difference, see the crate docs). Independent of `Q`, so callers can
    /// size their modulus from it.
    pub fn offset_bound_for(degree: usize, count: usize, noise_bound: u128) -> Result<u128> {
        let (weight, kappa) = Self::shape(degree, count)?;
        let (nb, ng) = Self::noise_masks(weight, kappa, noise_bound)?;
        Ok(2 * (ng - nb))
    }

    /// The ring `Q`.
    pub fn ring(&self) -> &Arc<RingContext> {
        &self.ring
    }

    /// Shares per proof (at most).
    pub fn count(&self) -> usize {
        self.count
    }

    /// The rejection parameter `κ`.
    pub fn kappa(&self) -> u64 {
        self.kappa
    }

    /// The challenge weight `w`.
    pub fn weight(&self) -> usize {
        self.weight
    }

    /// The honest bound on the shares' noise.
    pub fn noise_bound(&self) -> u128 {
        self.noise.0
    }

    /// The honest bound on the commitment's noise.
    pub fn key_bound(&self) -> u64 {
        self.key.0
    }

    /// What a verified proof establishes about each share's noise:
    /// `2(γ − β)` ([`Self::offset_bound_for`]).
    pub fn offset_bound(&self) -> u128 {
        2 * (self.noise.2 - self.noise.1)
    }

    /// What a verified proof establishes about the commitment's noise.
    pub fn proven_key_bound(&self) -> u64 {
        2 * (self.key.2 - self.key.1)
    }

    /// Probability that one prover attempt with `shares` shares is accepted
    /// (≈ `e^-1` for `shares = count`).
    pub fn acceptance_probability(&self, shares: usize) -> f64 {
        let n = self.ring.degree() as f64;
        let k = |(_, b, g): (u64, u64, u64)| {
            n * (((2 * (g - b) + 1) as f64) / ((2 * g + 1) as f64)).ln()
        };
        let (_, b, g) = self.noise;
        let e = n * ((2.0 * (g - b) as f64 + 1.0) / (2.0 * g as f64 + 1.0)).ln();
        (2.0 * k(self.key) + shares as f64 * e).exp()
    }

    /// Bytes of a proof of `shares` shares: version, challenge hash, the
    /// response for `S` (every residue at its prime's width), two key-noise
    /// responses and one noise response per share.
    pub fn proof_bytes(&self, shares: usize) -> usize {
        let n = self.ring.degree();
        let s_bits: usize = self
            .ring
            .moduli()
            .iter()
            .map(|m| width((m.value() - 1) / 2) as usize)
            .sum::<usize>()
            * n;
        let k_bits = 2 * n * width(self.key.2 - self.key.1) as usize;
        let e_bits = shares * n * width_wide(self.noise.2 - self.noise.1) as usize;
        1 + 32 + (s_bits + k_bits + e_bits).div_ceil(8)
    }

    /// A digest of everything above (bound into every proof).
    pub fn fingerprint(&self) -> &[u8; 32] {
        &self.fingerprint
    }

    fn check_poly(&self, p: &Poly) -> Result<()> {
        if !p.context().same_ring(&self.ring) || p.representation() != Representation::Ntt {
            return Err(Error::ParameterMismatch {
                what: "polynomial not over the proof's ring in NTT form",
            });
        }
        Ok(())
    }
}

/// The two public polynomials `(A1, A2)` of the share commitments (NTT form
/// over the proof's ring) and their digest.
#[derive(Clone)]
pub struct ShareKey {
    a: [Poly; 2],
    digest: [u8; 32],
}

impl std::fmt::Debug for ShareKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShareKey")
            .field("digest", &&self.digest[..8])
            .finish_non_exhaustive()
    }
}

impl ShareKey {
    /// The key from two uniform polynomials (any representation over a
    /// ring that contains the proof's; restricted to it).
    pub fn new(params: &ShareParams, a1: &Poly, a2: &Poly) -> Result<Self> {
        let mut t = Transcript::new(b"hekit/zk/share-key/v1");
        let mut out = Vec::with_capacity(2);
        for a in [a1, a2] {
            let mut p = a.restrict_to(&params.ring)?;
            p.set_representation(Representation::Ntt);
            t.append_words(b"a", p.data());
            out.push(p);
        }
        let [a1, a2]: [Poly; 2] = out
            .try_into()
            .map_err(|_| Error::ParameterMismatch { what: "share key" })?;
        Ok(Self {
            a: [a1, a2],
            digest: t.finish(),
        })
    }

    /// `(A1, A2)`.
    pub fn polys(&self) -> &[Poly; 2] {
        &self.a
    }
}

/// A member's commitment `(K1, K2) = (A1·S + E1, A2·S + E2)` (NTT form over
/// the proof's ring). Public.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShareCommitment {
    k: [Poly; 2],
}

impl ShareCommitment {
    /// A commitment from its two polynomials (restricted to the proof's
    /// ring).
    pub fn new(params: &ShareParams, k1: &Poly, k2: &Poly) -> Result<Self> {
        let f = |k: &Poly| -> Result<Poly> {
            let mut p = k.restrict_to(&params.ring)?;
            p.set_representation(Representation::Ntt);
            Ok(p)
        };
        Ok(Self {
            k: [f(k1)?, f(k2)?],
        })
    }

    /// `(K1, K2)`.
    pub fn polys(&self) -> &[Poly; 2] {
        &self.k
    }
}

/// What a member knows: `S` and the commitment noise `(E1, E2)`. Secret:
/// zeroized on drop, hidden from `Debug`.
#[derive(Clone)]
pub struct ShareWitness {
    s: Poly,
    e: [Vec<i64>; 2],
}

impl std::fmt::Debug for ShareWitness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShareWitness").finish_non_exhaustive()
    }
}

impl ShareWitness {
    /// The witness from `S` and the commitment: `E_i = K_i − A_i·S` must be
    /// within the key bound ([`Error::WitnessOutOfBound`] otherwise).
    pub fn new(
        params: &ShareParams,
        key: &ShareKey,
        commitment: &ShareCommitment,
        s: &Poly,
    ) -> Result<Self> {
        let mut s = s.restrict_to(&params.ring)?;
        s.set_representation(Representation::Ntt);
        let mut e: [Vec<i64>; 2] = Default::default();
        for ((ei, k), a) in e.iter_mut().zip(&commitment.k).zip(&key.a) {
            let mut d = k.clone();
            d.sub_assign(&Poly::mul(a, &s)?)?;
            d.to_coeff();
            *ei = small_coeffs(&d, params.key.0).ok_or(Error::WitnessOutOfBound {
                what: "commitment noise",
            })?;
        }
        Ok(Self { s, e })
    }
}

impl Drop for ShareWitness {
    fn drop(&mut self) {
        self.s.zeroize();
        for e in &mut self.e {
            e.zeroize();
        }
    }
}

/// The centered integer coefficients of `p` (coefficient form) if every one
/// is within `±bound` (the residues agree modulo every prime), else `None`.
pub fn small_coeffs(p: &Poly, bound: u64) -> Option<Vec<i64>> {
    let ctx = p.context();
    let n = ctx.degree();
    let m0 = ctx.moduli()[0];
    let q0 = m0.value();
    let mut out = Vec::with_capacity(n);
    for &x in p.limb(0) {
        let v = if x > q0 / 2 {
            x as i64 - q0 as i64
        } else {
            x as i64
        };
        if v.unsigned_abs() > bound {
            return None;
        }
        out.push(v);
    }
    for (i, m) in ctx.moduli().iter().enumerate().skip(1) {
        if p.limb(i)
            .iter()
            .zip(&out)
            .any(|(&r, &v)| m.reduce_i64(v) != r)
        {
            return None;
        }
    }
    Some(out)
}

/// A proof for up to `count` shares: the challenge hash, the response for
/// `S` (uniform in `R_Q`), the two key-noise responses and one noise
/// response per share.
#[derive(Clone, PartialEq, Eq)]
pub struct ShareProof {
    challenge: [u8; 32],
    z_s: Poly,
    z_k: [Vec<i64>; 2],
    z_e: Vec<Vec<i128>>,
}

impl std::fmt::Debug for ShareProof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShareProof")
            .field("challenge", &&self.challenge[..8])
            .field("shares", &self.z_e.len())
            .finish_non_exhaustive()
    }
}

impl ShareProof {
    /// The proof's bytes ([`ShareParams::proof_bytes`] of them).
    pub fn to_bytes(&self, params: &ShareParams) -> Vec<u8> {
        let mut out = Vec::with_capacity(params.proof_bytes(self.z_e.len()));
        out.push(VERSION);
        out.extend_from_slice(&self.challenge);
        let mut w = BitWriter::new(out);
        for (i, m) in params.ring.moduli().iter().enumerate() {
            let h = (m.value() - 1) / 2;
            for &x in self.z_s.limb(i) {
                w.put(x as i64 - h as i64, h);
            }
        }
        let kz = params.key.2 - params.key.1;
        for z in &self.z_k {
            for &x in z {
                w.put(x, kz);
            }
        }
        let ez = params.noise.2 - params.noise.1;
        for z in &self.z_e {
            for &x in z {
                w.put_wide(x, ez);
            }
        }
        w.finish()
    }

    /// Reads a proof of `shares` shares for `params`, checking its length,
    /// version, that every residue is below its prime and every response
    /// within `±(γ − β)`.
    ///
    /// # Errors
    /// [`Error::Malformed`] for anything else.
    pub fn from_bytes(params: &ShareParams, shares: usize, bytes: &[u8]) -> Result<Self> {
        if shares == 0 || shares > params.count {
            return Err(Error::Malformed {
                what: WHAT,
                reason: format!("{shares} shares (1..={})", params.count),
            });
        }
        let want = params.proof_bytes(shares);
        if bytes.len() != want {
            return Err(Error::Malformed {
                what: WHAT,
                reason: format!("{} bytes, expected {want}", bytes.len()),
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
        let mut data = Vec::with_capacity(n * params.ring.len());
        for m in params.ring.moduli() {
            let h = (m.value() - 1) / 2;
            for _ in 0..n {
                data.push((r.get(h)? + h as i64) as u64);
            }
        }
        let z_s = Poly::from_limbs(&params.ring, Representation::Ntt, data)?;
        let kz = params.key.2 - params.key.1;
        let mut z_k: [Vec<i64>; 2] = Default::default();
        for z in &mut z_k {
            *z = (0..n).map(|_| r.get(kz)).collect::<Result<_>>()?;
        }
        let ez = params.noise.2 - params.noise.1;
        let z_e = (0..shares)
            .map(|_| (0..n).map(|_| r.get_wide(ez)).collect::<Result<Vec<_>>>())
            .collect::<Result<_>>()?;
        r.finish()?;
        Ok(Self {
            challenge,
            z_s,
            z_k,
            z_e,
        })
    }
}

/// The public statement: the multipliers `M_l` (in threshold decryption
/// `λ_i·c1_l`) and the shares `d_l`, NTT form over the proof's ring.
#[derive(Clone, Copy, Debug)]
pub struct SharesRef<'a> {
    /// `M_l`.
    pub multipliers: &'a [Poly],
    /// `d_l`.
    pub shares: &'a [Poly],
}

fn statement(
    params: &ShareParams,
    key: &ShareKey,
    commitment: &ShareCommitment,
    context: &[u8; 32],
    st: SharesRef<'_>,
) -> Result<Transcript> {
    let k = st.shares.len();
    if k == 0 || k > params.count || st.multipliers.len() != k {
        return Err(Error::ParameterMismatch {
            what: "share count (1..=count, one multiplier per share)",
        });
    }
    for p in st.multipliers.iter().chain(st.shares).chain(&commitment.k) {
        params.check_poly(p)?;
    }
    let mut t = Transcript::new(b"hekit/zk/share-proof/v1");
    t.append(b"params", &params.fingerprint);
    t.append(b"key", &key.digest);
    t.append_words(b"k1", commitment.k[0].data());
    t.append_words(b"k2", commitment.k[1].data());
    t.append(b"context", context);
    t.append_u64(b"shares", k as u64);
    for (m, d) in st.multipliers.iter().zip(st.shares) {
        t.append_words(b"m", m.data());
        t.append_words(b"d", d.data());
    }
    Ok(t)
}

/// A masked witness or a response: `(s, (k1, k2), e_l …)`.
struct Vector<'a> {
    s: &'a Poly,
    k: &'a [Vec<i64>; 2],
    e: &'a [Vec<i128>],
}

/// `(A1·s + k1, A2·s + k2, M_l·s + e_l …)`, minus `c` times the statement
/// when given, hashed after `prefix`.
fn commit_hash(
    params: &ShareParams,
    key: &ShareKey,
    st: SharesRef<'_>,
    v: Vector<'_>,
    minus_c: Option<(&Poly, &ShareCommitment)>,
    mut prefix: Transcript,
) -> Result<[u8; 32]> {
    let ring = &params.ring;
    let (s, e) = (v.s, v.e);
    for (i, (k, a)) in v.k.iter().zip(&key.a).enumerate() {
        let mut w = sample::small_poly(ring, k);
        w.to_ntt();
        w.mul_acc(a, s)?;
        if let Some((c, com)) = minus_c {
            w.sub_assign(&Poly::mul(c, &com.k[i])?)?;
        }
        prefix.append_words(b"w", w.data());
    }
    for (l, m) in st.multipliers.iter().enumerate() {
        let mut w = sample::wide_poly(ring, &e[l]);
        w.to_ntt();
        w.mul_acc(m, s)?;
        if let Some((c, _)) = minus_c {
            w.sub_assign(&Poly::mul(c, &st.shares[l])?)?;
        }
        prefix.append_words(b"w", w.data());
    }
    Ok(prefix.finish())
}

/// Proves that every `d_l = M_l·S + e_l` with `‖e_l‖∞ ≤ noise_bound` for the
/// `S` committed to in `commitment` (Fiat–Shamir with aborts; `S` masked
/// uniformly in `R_Q`), bound to `context`. `noise[l]` is the integer noise
/// of share `l`.
///
/// # Errors
/// [`Error::WitnessOutOfBound`] for noise beyond the bound,
/// [`Error::ParameterMismatch`] for polynomials of another ring or counts
/// that do not match. Each attempt succeeds with probability ≈ `e^-1`.
#[allow(clippy::too_many_arguments)]
pub fn prove_shares<R: RngCore + CryptoRng>(
    params: &ShareParams,
    key: &ShareKey,
    commitment: &ShareCommitment,
    context: &[u8; 32],
    st: SharesRef<'_>,
    witness: &ShareWitness,
    noise: &[Vec<i128>],
    rng: &mut R,
) -> Result<ShareProof> {
    let prefix = statement(params, key, commitment, context, st)?;
    let n = params.ring.degree();
    if noise.len() != st.shares.len()
        || noise
            .iter()
            .any(|e| e.len() != n || e.iter().any(|x| x.unsigned_abs() > params.noise.0))
    {
        return Err(Error::WitnessOutOfBound {
            what: "share noise",
        });
    }
    let (_, kb, kg) = params.key;
    let (_, nb, ng) = params.noise;
    loop {
        let mut y_s = sample::uniform_poly(&params.ring, Representation::Ntt, rng);
        let mut y_k: [Vec<i64>; 2] = [
            sample::uniform_centered(n, kg, rng)?,
            sample::uniform_centered(n, kg, rng)?,
        ];
        let mut y_e: Vec<Vec<i128>> = noise
            .iter()
            .map(|_| sample::uniform_centered_wide(n, ng, rng))
            .collect::<std::result::Result<_, _>>()?;
        let v = Vector {
            s: &y_s,
            k: &y_k,
            e: &y_e,
        };
        let seed = commit_hash(params, key, st, v, None, prefix.clone())?;
        let c = challenge::expand(&seed, n, params.weight);
        let mut accept = true;
        for (y, e) in y_k.iter_mut().zip(&witness.e) {
            let ce = negacyclic_mul_sparse(&c, e)?;
            for (yv, v) in y.iter_mut().zip(ce) {
                *yv += v;
            }
            accept &= y.iter().all(|x| x.unsigned_abs() <= kg - kb);
        }
        if accept {
            for (y, e) in y_e.iter_mut().zip(noise) {
                let ce = negacyclic_mul_sparse_wide(&c, e)?;
                for (yv, v) in y.iter_mut().zip(ce) {
                    *yv += v;
                }
                accept &= y.iter().all(|x| x.unsigned_abs() <= ng - nb);
                if !accept {
                    break;
                }
            }
        }
        if accept {
            let mut pc = sample::small_poly(&params.ring, &c);
            pc.to_ntt();
            y_s.mul_acc(&pc, &witness.s)?;
            return Ok(ShareProof {
                challenge: seed,
                z_s: y_s,
                z_k: y_k,
                z_e: y_e,
            });
        }
        y_s.zeroize();
        for y in &mut y_k {
            y.zeroize();
        }
        for y in &mut y_e {
            y.zeroize();
        }
    }
}

/// Verifies `proof` for the shares in `st` under `commitment` and `context`:
/// responses within `±(γ − β)`, and `(A_i·z_s + z_Ei − c·K_i, M_l·z_s + z_el
/// − c·d_l)` hash, with the statement, to the proof's challenge.
///
/// # Errors
/// [`Error::Rejected`] for a proof that does not verify;
/// [`Error::ParameterMismatch`] for polynomials of another ring or counts
/// that do not match.
pub fn verify_shares(
    params: &ShareParams,
    key: &ShareKey,
    commitment: &ShareCommitment,
    context: &[u8; 32],
    st: SharesRef<'_>,
    proof: &ShareProof,
) -> Result<()> {
    let prefix = statement(params, key, commitment, context, st)?;
    let n = params.ring.degree();
    params.check_poly(&proof.z_s)?;
    let kz = params.key.2 - params.key.1;
    let ez = params.noise.2 - params.noise.1;
    if proof.z_e.len() != st.shares.len()
        || proof
            .z_k
            .iter()
            .any(|z| z.len() != n || z.iter().any(|x| x.unsigned_abs() > kz))
        || proof
            .z_e
            .iter()
            .any(|z| z.len() != n || z.iter().any(|x| x.unsigned_abs() > ez))
    {
        return Err(Error::Rejected {
            reason: "response outside its bound",
        });
    }
    let c = challenge::expand(&proof.challenge, n, params.weight);
    let mut pc = sample::small_poly(&params.ring, &c);
    pc.to_ntt();
    let v = Vector {
        s: &proof.z_s,
        k: &proof.z_k,
        e: &proof.z_e,
    };
    let seed = commit_hash(params, key, st, v, Some((&pc, commitment)), prefix)?;
    if seed != proof.challenge {
        return Err(Error::Rejected {
            reason: "the commitment does not hash to the challenge",
        });
    }
    Ok(())
}
