//! # zk — zero-knowledge proofs for hekit
//!
//! Proofs that what a party sends into a multiparty HE protocol is well
//! formed, so that a malicious *input party* cannot turn the protocol's
//! decryption against the collective key. Own code on the `rlwe` hot loops
//! (NTT, RNS, sampling, the sparse challenge product): no proving library
//! targets RLWE ciphertexts over an RNS modulus of 2^98–2^147 at N = 8192
//! with the sizes needed here.
//!
//! | item | what it is |
//! |---|---|
//! | [`EncParams`] | the proof's parameters: ring `Q`, message bound, lift `K = 2^k`; derived challenge weight, masks, sizes, slack |
//! | [`EncKey`] | the public key `(b, a)` over `Q` and its digest |
//! | [`encrypt`] | `(u·b + e0 + K·m, u·a + e1)` over `Q`, and the [`EncWitness`] |
//! | [`prove`] / [`verify`] | the non-interactive proof of one ciphertext ([`EncProof`], bytes with [`EncProof::to_bytes`] / [`EncProof::from_bytes`]) |
//! | [`Transcript`] | the Fiat–Shamir transcript callers bind their context with |
//!
//! ```
//! use zk::{encrypt, prove, verify, EncKey, EncParams, EncProof};
//! # fn main() -> Result<(), zk::Error> {
//! let params = rlwe::params::Params::builder()
//!     .degree(1024)
//!     .q_bits(&[49, 49])
//!     .security(rlwe::params::SecurityLevel::None)
//!     .build()?;
//! let mut rng = rlwe::sample::rng();
//! let sk = rlwe::keys::SecretKey::generate(&params, &mut rng);
//! let pk = rlwe::keys::PublicKey::generate(&sk, &mut rng)?;
//! // messages |m| ≤ 2^20, lifted by K = 2^60
//! let zp = EncParams::new(params.ring_q_top(), 1 << 20, 60)?;
//! let key = EncKey::new(&zp, &pk)?;
//! let (ct, witness) = encrypt(&zp, &key, &[5, -7, 1 << 20], &mut rng)?;
//! let context = [7u8; 32]; // session, round, party, batch digest
//! let proof = prove(&zp, &key, &context, 0, (&ct.0, &ct.1), &witness, &mut rng)?;
//! let bytes = proof.to_bytes(&zp);
//! assert_eq!(bytes.len(), zp.proof_bytes());
//! verify(&zp, &key, &context, 0, (&ct.0, &ct.1), &EncProof::from_bytes(&zp, &bytes)?)?;
//! assert!(verify(&zp, &key, &[8u8; 32], 0, (&ct.0, &ct.1), &proof).is_err()); // other context
//! # Ok(())
//! # }
//! ```
//!
//! ## The relation
//!
//! Public: the ring `R_Q = Z_Q[X]/(X^N + 1)`, the key `(b, a)` (with
//! `b = −a·s + e` for the collective secret `s`), the lift `K = 2^k` and
//! the bound `B_m`. A ciphertext `ct = (c0, c1)` is in the relation if the
//! prover knows `(u, e0, e1, m)` with
//!
//! ```text
//! c0 = u·b + e0 + K·m,   c1 = u·a + e1   (mod Q)
//! ‖u‖∞ ≤ 1,  ‖e0‖∞, ‖e1‖∞ ≤ 21,  ‖m‖∞ ≤ B_m
//! ```
//!
//! The message is proven at a small scale (`m` is the update times 2^20 in
//! `ml-he`) and lifted to the full scale by the exact integer `K`, because
//! a message at the full CKKS scale (2^84 and more) cannot be masked inside
//! `Q`.
//!
//! ## The protocol (Fiat–Shamir with aborts, Lyubashevsky 2012)
//!
//! For each witness block `x ∈ {u, e0, e1, m}` with bound `B_x`: `β_x =
//! w·B_x` bounds `‖c·x‖∞` for every challenge, masks are **uniform** in
//! `[−γ_x, γ_x]` with `γ_x = κ·β_x`, `κ = 4N`. The prover draws masks `y`,
//! computes `w = (y_u·b + y_e0 + K·y_m, y_u·a + y_e1)`, the challenge
//! `c = H(statement, w)` — a sparse ternary polynomial with exactly `w`
//! coefficients ±1 — and `z = y + c·x`; it restarts unless every `‖z_x‖∞ ≤
//! γ_x − β_x`. The proof is `(H-value, z)`. The verifier checks the ranges
//! (while decoding), recomputes `w' = (z_u·b + z_e0 + K·z_m − c·c0, z_u·a +
//! z_e1 − c·c1)` and the hash. The statement hashed is: the parameters'
//! fingerprint (degree, moduli, `w`, `κ`, `K`, bounds), the key's digest,
//! the caller's context (in `ml-he`: session key, round, party, the whole
//! update's ciphertext digest), the ciphertext's index and the ciphertext.
//!
//! Parameters at `N = 8192`: `w = 11` (challenge space `C(8192, 11)·2^11 =
//! 2^128.7`), `κ = 32768`; response widths 20 (`u`), 24 (`e0`), 24 (`e1`)
//! and 48 bits (`m` with `B_m = 2^28`) per coefficient: **116 bits per ring
//! coefficient**, 118,817 bytes per ciphertext (41 % of a ciphertext over
//! `ml-he`'s default chain of 49 + 49 + 43 bits, 29 % of one over three
//! 49-bit primes). [`EncParams`] derives them for any degree.
//!
//! **Why uniform masks.** The simulator is exact (zero statistical
//! distance), the sampler and the acceptance test are integer-only (no
//! floating-point Gaussian whose deviation from a discrete Gaussian would
//! have to be argued), the responses have a fixed width so the encoding is
//! plain bit packing whose decoder checks every range. Gaussian masks
//! (`σ ≈ 11·‖c·x‖₂`) would cut the proof to ≈ 98 bits per coefficient and
//! the slack by ≈ 2^4; that is the next size optimization.
//!
//! ## Zero knowledge
//!
//! Each coefficient of `z_x = y_x + (c·x)_j` with `|(c·x)_j| ≤ β_x`,
//! conditioned on `|z_x| ≤ γ_x − β_x`, is uniform on `[−(γ_x − β_x), γ_x −
//! β_x]` whatever the witness: accepted transcripts are distributed exactly
//! as those of a simulator that picks `z` uniform in range and `c` uniform,
//! and programs the random oracle at `(statement, w')`. Statistical
//! distance **0** (up to the random oracle's programming collisions, `q_H ·
//! 2^-256`). Rejected attempts are never sent. An attempt is accepted with
//! probability `∏_x ((2(γ_x−β_x)+1)/(2γ_x+1))^N ≈ e^{−4N/κ} = e^{−1}` (0.37;
//! 2.7 attempts on average, [`EncParams::acceptance_probability`]; more
//! than 256 with probability below 2^-169).
//!
//! ## Soundness and the slack
//!
//! Special soundness: two accepting transcripts with the same `w` and
//! challenges `c ≠ c'` give `c̄ = c − c'` (coefficients in `{−2, …, 2}`, at
//! most `2w` non-zero) and `z̄ = z − z'` with
//!
//! ```text
//! c̄·c0 = z̄_u·b + z̄_e0 + K·z̄_m,   c̄·c1 = z̄_u·a + z̄_e1   (mod Q)
//! ‖z̄_x‖∞ ≤ 2(γ_x − β_x) = 2w(κ − 1)·B_x
//! ```
//!
//! — the usual **relaxed relation**, with slack `2w(κ − 1)` = **720,874 ≈
//! 2^19.5** at `N = 8192` in every block ([`EncParams::slack`],
//! [`EncParams::proven_bounds`]). By the forking lemma a prover making `q_H`
//! hash queries convinces with probability at most about `q_H / 2^128.7`
//! per ciphertext without such a witness; an update of `k` ciphertexts has
//! `k` independent challenges (no amortized challenge, so the rejection
//! rate does not grow with the update).
//!
//! ## What a cheating input party can still do, and why the key is safe
//!
//! Within the slack a cheater can encrypt with `u`, `e0`, `e1` up to ≈
//! 2^19.5 times the honest bounds and a message up to 2^19.5 times `B_m`.
//! Its ciphertext then decrypts to `K·m̄ + (ū·e + ē0 + ē1·s)`: the
//! `s`-dependent part is bounded by the proven norms (with `‖e‖₁`, `‖s‖₁`
//! of the honestly generated collective key), so **`ml-he` sizes the
//! smudging of decryption shares from this proven bound, not the honest
//! one**, and sizes the message space for `n` messages of `B_m·slack`: λ
//! and the stated precision then hold whatever the cheaters send, at the
//! price of a third prime in `Q`.
//!
//! The key-recovery update `(0, t)` with `t = ⌊Q/2^j⌋` has no proof: from
//! a prover that convinces with noticeable probability, rewinding gives
//! two *independent* challenges and `c̄·t = z̄_u·a + z̄_e1` with `z̄` within
//! the proven bounds. Such sums `z̄_u·a + z̄_e1` number at most about
//! `2^(45.3·N)` (2^20.5 and 2^24.9 values per coefficient), a fraction `2^((45.3 − log2
//! Q)·N)` ≤ `2^(−52·N)` of `R_Q`; for the uniform `a` (from the session's
//! CRS, fixed before the attacker chooses) hitting `c̄·t` for any of the
//! ≤ 2^258 differences `c̄` is hopeless — an argument sketch (it treats
//! `z̄_u·a` as uniform; `c̄·t` itself short, e.g. `j = 1` with `c`, `c'` of
//! the same support, has probability ≈ 2^-128 for independent challenges),
//! not a reduction. For `(c0, k·c1)` built from a valid `(c0, c1)`, a
//! witness has `ū·a + ē1 = k·(u·a + e1)`, which by the same count forces
//! `ū = k·u`, and then `c0 − ū·b = (1 − k)·u·b + e0 + K·m` is not short for
//! `k ≠ 1`. Tests: `key_recovery_ciphertexts_have_no_proof` here, and
//! `ml-he`'s `key_recovery_updates_are_refused` (j = 1, 6, 20, 60, 100;
//! k = 2, 3, 1000).
//!
//! Two limits remain, stated plainly:
//!
//! - **The relaxed relation has `c̄`.** The extractor gets `c̄·ct`, not `ct`,
//!   as an encryption of short values. The statement "a cheater's
//!   ciphertext decrypts to `K·m̄` plus noise within the proven bound"
//!   takes the prover's effective witness to be integral (`c̄` = 1), the
//!   standard heuristic for approximate proofs (as in PELTA); a prover
//!   that exploited `c̄⁻¹` would have to predict the challenge. Exact proofs
//!   (Lyubashevsky–Nguyen–Plançon, CRYPTO 2022) remove it.
//! - **The slack is large (2^19.5).** It bounds poisoning only loosely: a
//!   cheater's update can be ≈ 2^19.5 times `max_abs` per coordinate, and
//!   "one coordinate 10× over the bound" is *not* rejected. A norm proof
//!   with slack below 10 (a Johnson–Lindenstrauss projection proof, Gentry–
//!   Halevi–Lyubashevsky 2022 / LNP22) is the next step; it would also let
//!   the smudging and message space shrink back to near the honest sizes.

mod challenge;
pub mod codec;
mod encryption;
mod error;
mod share;
mod transcript;

pub use challenge::{challenge_weight, log2_challenge_space};
pub use encryption::*;
pub use error::{Error, Result};
pub use share::*;
pub use transcript::Transcript;
