//! # HE-MPC federated averaging
//!
//! `n` clients hold model-update vectors (up to 10^6 floats each). They
//! encrypt them under a **collective threshold CKKS key**, a server that holds
//! no key material sums the ciphertexts, and any `t` of the `n` clients
//! jointly decrypt **only the sum**, from which everybody holding the `t`
//! decryption shares computes the average.
//!
//! ## Roles and what crosses between them
//!
//! | step | who | sends |
//! |---|---|---|
//! | setup | everybody | [`AggregationParams`] are public (config + session seed) |
//! | key generation | clients (key holders) | [`threshold::PublicKeyShare`] to anyone; [`Client::deal`]: [`threshold::SecretShareMessage`]s over private channels (Shamir dealing for t-of-n) and, in a session that proves shares, a public [`threshold::vss::DealingCommitment`] to anyone ([`SessionKey::with_dealings`]; [`deal_all`] in one process) |
//! | optional evaluation keys | clients | [`Client::relin_key_round1`] / [`Client::relin_key_round2`] and [`Client::galois_key_share`] shares to anyone; [`aggregate_relin_round1`], [`finish_relin_key`], [`finish_galois_keys`] (all `n` clients) give `ckks::RelinKey` / `ckks::GaloisKeys` |
//! | key | anyone | [`SessionKey`] (public, serialized with [`SessionKey::to_bytes`]) |
//! | encrypt | each client (input party) | [`Client::encrypt_update`] → bytes to the server: the ciphertexts and, by default, a zero-knowledge proof per ciphertext that it is a well-formed encryption of a bounded update ([`zk`]) |
//! | sum | server (computing party) | [`Server::add_from`] (authenticated sender) or [`Server::add`] checks (proofs included) and keeps; [`Server::decryption_request`] → the contributions, to a committee of t clients |
//! | decrypt | committee clients | [`Client::decryption_share`] re-checks every contribution (proofs included), recomputes the sum and decrypts it, with a zero-knowledge proof per 8 shares that they were made with its committed Shamir share ([`zk::prove_shares`]) → bytes to the result parties |
//! | result | result parties | [`decryption_share_sender`] names a share's sender; [`combine`] verifies every share's proof (naming a cheater, [`Error::InvalidShareProof`]) → [`RoundResult`] (the average) |
//!
//! No message carries a secret: the server sees only ciphertexts, the
//! committee members see only the summed ciphertext, and a decryption share
//! `c_1·λ_i·S_i + e_smudge` reveals nothing about a party's key share or about
//! any individual update.
//!
//! ## Layout
//!
//! `params` (configuration, scale, smudging), `key` ([`SessionKey`]),
//! `request` (message formats, digests, what a committee member checks),
//! `client` ([`Client`] and the collective evaluation keys), `server`
//! ([`Server`]), `result` ([`combine`]) and [`paillier_variant`]; the wire
//! helpers shared with `testing` live in the crate's `wire` module.
//!
//! ## Threat model
//!
//! **Key holders** hold additive secrets and Shamir shares; any coalition of
//! fewer than `t` of them, together with the server, cannot decrypt. The
//! **server** may be malicious. What it can get decrypted is bounded by the
//! committee members, not by its honesty: a decryption request carries the
//! contributions themselves (the exact update bytes), and each committee
//! member ([`Client::decryption_share`]) checks every one in full and
//! recomputes the sum itself, so nothing but a sum of well-formed updates of
//! distinct clients is ever decrypted. A member refuses a sum of fewer than
//! `min_contributors` updates ([`Error::TooFewContributors`]), a second,
//! different contribution set in a round whose sum it already helped decrypt
//! ([`Error::AlreadyReleased`]) and more than [`MAX_ATTEMPTS`] attempts per
//! round ([`Error::TooManyAttempts`]); a retry decrypts the same sum plus a
//! public encryption of zero derived from the request (its randomness is a
//! digest of the request, so the server adds nothing of its own), a new
//! ciphertext for the key share's single-use rule.
//!
//! What the library alone cannot check is **who made each update**: anyone
//! holding the public key can encrypt a zero in another client's name, and
//! a sum of one real update and forged zeros is a sum "of two contributors".
//! A caller whose transport authenticates senders compares
//! [`inspect_request`] (each contribution's party and [`update_digest`])
//! with what the senders signed, and — to release each round's sum once even
//! when two committees have no honest member in common — has every
//! contributor approve exactly one [`contribution_set_digest`] per round
//! and checks the approvals too. `hekit-mpc` does both (signed statements,
//! `mpc/README.md`); over authenticated channels, [`Server::add_from`]
//! refuses an update whose named client is not the authenticated sender
//! ([`Error::WrongSender`]) and [`decryption_share_sender`] names the sender
//! of a decryption share.
//!
//! **Input parties** may be malicious. In a session that proves updates
//! ([`AggregationConfig::prove_updates`], the default) every ciphertext of
//! an update carries a proof ([`zk::prove`], Fiat–Shamir with aborts) that
//! it is `(u·b + e0 + K·m, u·a + e1)` with short `u`, `e0`, `e1` and a
//! message `m` within `max_abs·2^f` (up to the proof's slack), bound to the
//! session key, parameters, round, client and the whole update; the server
//! and every committee member verify each proof before summing, and refuse
//! an update without a valid one ([`Error::InvalidUpdateProof`]). This
//! closes the key-recovery attack of one input party: the well-formed
//! update `(0, ⌊Q/64⌋)` (and `⌊Q/2^j⌋`, and a valid update with `c1`
//! scaled) has no proof, and what a cheater *can* prove within the slack
//! is covered by the smudging, which is sized from the proven noise bound
//! (see below), not the honest one.
//!
//! **Committee members** may be malicious. In a session that proves
//! shares ([`AggregationConfig::prove_shares`], the default) the Shamir
//! dealing is verifiable ([`threshold::vss`]): each dealer publishes
//! RLWE commitments to its sharing polynomial (the constant term's is its
//! public-key share), each recipient checks its dealing against them (a
//! dealer that deals something else is named), and everybody derives each
//! member's share commitment, which the session key then covers (its id
//! changes, so clients that saw different commitments disagree on every
//! message). Each decryption share carries a proof ([`zk::prove_shares`])
//! that it is `λ_i·c1·S_i + e` for the committed `S_i` and `‖e‖∞ ≤ 14σ`,
//! bound to the key, the request and the member; [`combine`] verifies every
//! proof and names the first member whose proof fails
//! ([`Error::InvalidShareProof`]); the server then asks another committee
//! (`hekit-mpc` excludes the named member). Within the proof's slack a
//! member can still add up to [`zk::ShareParams::offset_bound`] (≈ 2^106.5
//! at `n = 10`) to its share: the chain is sized so that `t` such offsets
//! stay `2^(f+1)` below the scale, and the stated precision includes them.
//! Limits: the Shamir evaluation points are the monomials `X^j`, so the
//! commitments' noise grows only as `n·t` ([`threshold::vss`]); what
//! grows with `t` is the budget for `t` cheating members' offsets, which
//! needs more of the chain: at `t = n/2 + 1` share proofs fit up to 22
//! clients at `N = 8192` and 600 at `N = 16384`
//! ([`AggregationConfig::degree`]; [`AggregationParams::new`] refuses
//! larger sessions with a clear error naming the ways out, unless
//! `prove_shares(false)`); the `P` part of a dealing is not committed
//! (decryption needs only `Q`).
//!
//! The collective key must be the sum of the clients' shares: each client
//! should recompute it from the shares ([`SessionKey::from_shares`]) rather
//! than accept a key from the server, and shares should be committed to
//! before they are revealed (a client choosing its share after seeing the
//! others' could make the key one whose secret it knows); `hekit-mpc` does
//! both. Smudging λ below 40 is refused unless asked for
//! ([`AggregationConfig::insecure_weak_smudging`]).
//!
//! Still out of scope: **poisoning within the proof's slack** — the proof
//! is approximate (slack 2^19.5, [`zk::EncParams::slack`]): a cheater's
//! proven update can reach about 2^19.5·`max_abs` per coordinate (the
//! message space is sized so that even `n` of those never wrap modulo
//! `Q`, so the result stays decodable and the stated precision true, but
//! "one coordinate 10× over the bound" is *not* refused; a norm proof with
//! small slack is the next step). Malformed bytes, ciphertexts
//! under another key, parameter set, session or round, and duplicates are
//! rejected with specific errors. Without proofs
//! (`prove_updates(false)`) one malicious input party recovers the
//! collective secret key.
//!
//! ## Parameters and precision
//!
//! CKKS with `N = 8192` (configurable) and one 50-bit special prime.
//! Nothing is multiplied, so no rescaling level is needed: clients encrypt
//! directly at the only level. Updates are encoded **coefficient-wise**:
//! coordinate `j` of a chunk of `N` floats is coefficient `j` of the
//! plaintext (aggregation only adds, and a bound on a coordinate is then a
//! bound on the proof's witness), so one ciphertext holds `N` floats
//! (100,000 floats take 13 ciphertexts). Coefficients are bit-packed on the
//! wire (as many bits per residue as its prime has).
//!
//! **With proofs (default).** A coordinate `v` is rounded to `m =
//! round(v·2^f)` with `f = 28 − ⌈log2 max_abs⌉` (`|m| ≤ 2^28`,
//! [`PROOF_MESSAGE_BITS`]) and lifted to the scale by the exact integer `K
//! = Δ/2^f`; each ciphertext is encrypted over `Q` with
//! known randomness and proven ([`zk::prove`]). A verified proof bounds the
//! noise a contribution brings to the decrypted sum by `‖ū‖∞·‖e‖₁ + ‖ē0‖∞ +
//! ‖ē1‖∞·‖s‖₁` with the proven (slack-included) norms, ≈ 2^38.6 at `n = 10`;
//! the smudging width is `2^λ` times `n` of these (plus the retries'
//! honest noise), and the message space holds `n` messages of the proven
//! bound `max_abs·slack`. The chain is two 49-bit primes plus what keeps
//! the worst decryption error 2^(f+1) below the scale: the smudged error
//! and, with share proofs (the default), `t` times the offset a share
//! proof still allows. At `n = t = 10`, `max_abs = 256`: with share proofs
//! 49 + 49 + 49 + 20 bits (`Q ≈ 2^167`, `Δ = 2^134`, `QP ≈ 2^217 ≤ 2^218`),
//! per 100,000 floats 4.45 MB of ciphertexts and 1.54 MB of update proofs
//! (116 bits per coefficient, 35 %); with update proofs only 49 + 49 + 43
//! bits (`Q ≈ 2^141`, `Δ = 2^108`), 3.75 MB and 1.54 MB (41 %). The stated
//! precision of the sum is `n·2^-(f+1)` from the rounding plus the worst
//! decryption error over `Δ`, i.e. about 2^-(f+1) on each coordinate of the
//! average (2^-21 for `max_abs = 256`), whatever the committee sends.
//!
//! **Without proofs** (`prove_updates(false)`, insecure against malicious
//! input parties): a chain of two 49-bit primes (`Q ≈ 2^98`, 2.61 MB per
//! 100,000 floats), encryption with the special prime (SEAL-style), the
//! scale `Δ = 2^⌊log2 Q − 2 − log2(n·max_abs)⌋` (2^84 for 10 clients and
//! `max_abs = 256`), rounding at the largest `2^b` that keeps coefficients
//! below 2^62, and smudging `σ = 2^λ·B` from the honest fresh-noise bound
//! `B = 8·sqrt(k·(N/12·(2n/3) + 1/6))` for `k` summed ciphertexts.
//!
//! Ciphertexts are encrypted, proven, packed, parsed, verified and summed
//! in parallel (rayon, one task per ciphertext).
//!
//! ## Dropout
//!
//! Keys are generated by all `n` clients, then every client deals Shamir
//! shares of its secret (threshold `t`). A round sums whichever clients
//! submitted updates (the average divides by their number), and any
//! committee of `t` clients decrypts it (exactly `t`: the smudging is
//! budgeted for `t` shares). A committee of `t − 1` cannot be formed ([`threshold::Error::TooFewShares`]), and a combination
//! missing a committee member's share fails with the same error. If a
//! committee member drops out during decryption, the server issues the next
//! attempt to another committee: the members decrypt the sum plus a public
//! encryption of zero derived from the request, because a party never makes
//! two decryption shares for the same ciphertext.
//!
//! ```
//! use ml_he::aggregation::*;
//! # fn main() -> ml_he::Result<()> {
//! let mut rng = ml_he::rng();
//! let params = AggregationParams::new(AggregationConfig::new(3, 2), [1; 32])?;
//! let mut clients: Vec<Client> = (1..=3)
//!     .map(|i| Client::new(&params, i, &mut rng))
//!     .collect::<ml_he::Result<_>>()?;
//! // collective key (all n) and Shamir dealing (t-of-n)
//! let shares = clients.iter_mut().map(|c| c.public_key_share(&mut rng)).collect::<ml_he::Result<Vec<_>>>()?;
//! let key = SessionKey::from_shares(&params, shares)?;
//! let key = deal_all(&mut clients, &key, &mut rng)?;
//!
//! // round 0: clients 1 and 3 submit, the server sums, clients 2 and 3 decrypt
//! let mut server = Server::new(&key, 0, 4)?;
//! server.add(&clients[0].encrypt_update(0, &[1.0, 2.0, 3.0, 4.0], &mut rng)?)?;
//! server.add(&clients[2].encrypt_update(0, &[3.0, 2.0, 1.0, 0.0], &mut rng)?)?;
//! let request = server.decryption_request(&[2, 3])?;
//! let dshares = vec![
//!     clients[1].decryption_share(&request, &mut rng)?,
//!     clients[2].decryption_share(&request, &mut rng)?,
//! ];
//! let result = combine(&key, &request, &dshares)?;
//! for (got, want) in result.average.iter().zip([2.0, 2.0, 2.0, 2.0]) {
//!     assert!((got - want).abs() <= result.precision);
//! }
//! # Ok(())
//! # }
//! ```

use std::collections::BTreeSet;
use std::sync::Arc;

use rand::{CryptoRng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;
use rlwe::poly::{Poly, Representation, RingContext};
use serde::{Deserialize, Serialize};
use threshold::{
    ActiveSet, DecryptionShare, DecryptionShares, GaloisKeyShare, GaloisKeyShares, Party, PartyId,
    PublicKeyShare, PublicKeyShares, RelinEphemeral, RelinKeyRound1, RelinKeyRound2,
    RelinRound1Share, RelinRound2Share, SecretShareMessage, Smudging,
};

use crate::{Error, Result};

pub(crate) use crate::wire::*;

mod client;
mod key;
mod params;
mod request;
mod result;
mod server;

pub mod paillier_variant;

#[cfg(test)]
mod proof_tests;

pub use client::*;
pub use key::*;
pub use params::*;
pub use request::*;
pub use result::*;
pub use server::*;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Three clients run the relinearization and Galois rounds through
    /// [`Client`] (shares through their wire format, as between processes);
    /// the finished keys relinearize a product and rotate a ciphertext
    /// encrypted under the collective public key, and a t-of-n threshold
    /// decryption (committee {1, 3}, the clients' own Shamir shares) gives
    /// x² within 1e-3 (x at scale 2^30, product at 2^60; measured ≈ 2e-5)
    /// and x rotated by two slots within 1e-5 (scale 2^40; the fresh and
    /// key-switching noise, ≈ 2^18 in a slot, leaves ≈ 2.5e-7). Incomplete
    /// share sets are refused.
    #[test]
    fn clients_make_collective_relin_and_galois_keys() {
        let mut rng = ChaCha20Rng::from_seed([3; 32]);
        let params = AggregationParams::new(AggregationConfig::new(3, 2), [8; 32]).unwrap();
        let rp = params.ckks().rlwe().clone();
        let mut clients: Vec<Client> = (1..=3)
            .map(|i| Client::new(&params, i, &mut rng).unwrap())
            .collect();
        let shares: Vec<_> = clients
            .iter_mut()
            .map(|c| c.public_key_share(&mut rng).unwrap())
            .collect();
        let key = SessionKey::from_shares(&params, shares).unwrap();
        let key = deal_all(&mut clients, &key, &mut rng).unwrap();

        // Relinearization key: two rounds.
        let mut r1 = Vec::new();
        let mut eph = Vec::new();
        for c in &mut clients {
            let (s, e) = c.relin_key_round1(&mut rng).unwrap();
            assert_eq!(s.party(), PartyId(c.id()));
            r1.push(RelinRound1Share::from_bytes(&rp, &s.to_bytes()).unwrap());
            eph.push(e);
        }
        assert!(matches!(
            aggregate_relin_round1(&params, r1[..2].to_vec()),
            Err(Error::Threshold(threshold::Error::TooFewShares {
                got: 2,
                need: 3
            }))
        ));
        let round1 = aggregate_relin_round1(&params, r1).unwrap();
        let r2: Vec<_> = clients
            .iter_mut()
            .zip(eph)
            .map(|(c, e)| {
                let s = c.relin_key_round2(e, &round1, &mut rng).unwrap();
                RelinRound2Share::from_bytes(&rp, &s.to_bytes()).unwrap()
            })
            .collect();
        assert!(matches!(
            finish_relin_key(&params, round1.clone(), r2[1..].to_vec()),
            Err(Error::Threshold(threshold::Error::TooFewShares { .. }))
        ));
        let rlk = finish_relin_key(&params, round1, r2).unwrap();

        // Galois keys for rotations by 1 and 2 slots, shares in any order.
        let elements: Vec<usize> = [1, 2]
            .iter()
            .map(|&k| rlwe::keys::galois_element_for_rotation(k, rp.degree()))
            .collect();
        let mut gshares = Vec::new();
        for &e in elements.iter().rev() {
            for c in &mut clients {
                let s = c.galois_key_share(e, &mut rng).unwrap();
                assert_eq!((s.party(), s.element()), (PartyId(c.id()), e));
                gshares.push(GaloisKeyShare::from_bytes(&rp, &s.to_bytes()).unwrap());
            }
        }
        assert!(matches!(
            finish_galois_keys(&params, gshares[1..].to_vec()),
            Err(Error::Threshold(threshold::Error::TooFewShares { .. }))
        ));
        let gks = finish_galois_keys(&params, gshares).unwrap();
        // a second share for the same instance is refused (it would leak)
        assert!(clients[0].galois_key_share(elements[0], &mut rng).is_err());
        assert!(clients[0].relin_key_round1(&mut rng).is_err());

        let enc = ckks::Encoder::new(params.ckks());
        let ev = ckks::Evaluator::new(params.ckks());
        let x: Vec<f64> = (0..64).map(|i| i as f64 / 16.0 - 2.0).collect();
        let pt = enc.encode_at(&x, 1, 2f64.powi(30)).unwrap();
        let ct = key.public_key().encrypt(&pt, &mut rng).unwrap();
        let sq = ev.mul_relin(&ct, &ct, &rlk).unwrap();
        let pt = enc.encode_at(&x, 1, 2f64.powi(40)).unwrap();
        let rot = ev
            .rotate(&key.public_key().encrypt(&pt, &mut rng).unwrap(), 2, &gks)
            .unwrap();

        // t-of-n threshold decryption by clients 1 and 3 (narrow smudging:
        // this checks the keys, not the smudging budget).
        let committee = [PartyId(1), PartyId(3)];
        let active = ActiveSet::new(&committee, 2).unwrap();
        let smudging = Smudging::with_sigma(10.0);
        let mut decrypt = |ct: &ckks::Ciphertext| -> Vec<f64> {
            let shares: Vec<_> = [0usize, 2]
                .iter()
                .map(|&i| {
                    clients[i]
                        .party
                        .decryption_share(ct.rlwe(), Some(&active), &smudging, &mut rng)
                        .unwrap()
                })
                .collect();
            let pt = DecryptionShares::aggregate(ct.rlwe(), shares, Some(&active))
                .unwrap()
                .finish_ckks(params.ckks(), ct.scale())
                .unwrap();
            enc.decode(&pt).unwrap()
        };
        let got = decrypt(&sq);
        for (g, v) in got.iter().zip(&x) {
            assert!((g - v * v).abs() < 1e-3, "square: {g} vs {}", v * v);
        }
        let got = decrypt(&rot);
        for i in 0..x.len() - 2 {
            assert!(
                (got[i] - x[i + 2]).abs() < 1e-5,
                "rotation slot {i}: {} vs {}",
                got[i],
                x[i + 2]
            );
        }
    }
}
