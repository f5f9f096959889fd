//! Verifiable dealing and proven decryption shares: what federated
//! aggregation and private model testing share.
//!
//! Every key holder deals its secret with a public commitment
//! ([`threshold::vss`]); from the `n` commitments and public-key shares
//! everybody derives each member's commitment to its Shamir share
//! ([`Members`]). A committee member then proves each decryption share it
//! sends ([`zk::prove_shares`]) and result parties verify it against that
//! commitment, naming a member whose share does not verify
//! ([`Error::InvalidShareProof`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use rand::{CryptoRng, RngCore};
use rayon::prelude::*;
use rlwe::ciphertext::Ciphertext;
use rlwe::poly::{Poly, Representation, RingContext};
use threshold::vss::{DealingCommitment, ShareCommitments};
use threshold::{ActiveSet, Crs, Party, PartyId, PublicKeyShare, SecretShareMessage, Smudging};

use crate::wire::{pack_poly, packed_len, unpack_poly};
use crate::{Error, Result};

/// A dealing: the private messages (one per key holder, to be sent over
/// private channels) and, in a session that proves decryption shares, the
/// public commitment to the sharing polynomial (to everybody).
#[derive(Debug)]
pub struct Dealing {
    /// Private, one per recipient.
    pub messages: Vec<SecretShareMessage>,
    /// Public (sessions that prove shares).
    pub commitment: Option<DealingCommitment>,
}

/// Every key holder's commitment to its Shamir share `K_j = (A1·S_j + E1,
/// A2·S_j + E2)` and the commitment key; the dealers' commitments too when
/// made here (needed to check dealings, not serialized).
pub(crate) struct Members {
    pub(crate) key: zk::ShareKey,
    pub(crate) coms: BTreeMap<u32, zk::ShareCommitment>,
    pub(crate) dealers: Option<ShareCommitments>,
    /// A digest of every member's commitment (session key ids cover it).
    pub(crate) digest: [u8; 32],
}

impl Members {
    fn new(
        key: zk::ShareKey,
        coms: BTreeMap<u32, zk::ShareCommitment>,
        dealers: Option<ShareCommitments>,
    ) -> Self {
        let mut t = zk::Transcript::new(b"ml-he/aggregation/share-commitments/v1");
        for (j, c) in &coms {
            t.append_u64(b"party", u64::from(*j));
            for k in c.polys() {
                t.append_words(b"k", k.data());
            }
        }
        Self {
            key,
            coms,
            dealers,
            digest: t.finish(),
        }
    }

    /// [`Self::from_dealings`] for a session key: [`Error::Protocol`] in a
    /// session without share proofs (`zp` is `None`) or for a key that was
    /// not made from the public-key shares (`pk_shares` is `None`;
    /// `from_shares` names the constructor that keeps them).
    pub(crate) fn for_key(
        params: &Arc<rlwe::params::Params>,
        crs: &Crs,
        zp: Option<&zk::ShareParams>,
        t_n: (usize, usize),
        pk_shares: Option<&Arc<Vec<PublicKeyShare>>>,
        dealings: &[DealingCommitment],
        from_shares: &str,
    ) -> Result<Self> {
        let Some(zp) = zp else {
            return Err(Error::Protocol(
                "dealing commitments in a session without share proofs".into(),
            ));
        };
        let Some(pk_shares) = pk_shares else {
            return Err(Error::Protocol(format!(
                "the key was not made from the public-key shares ({from_shares})"
            )));
        };
        Self::from_dealings(params, crs, zp, t_n, pk_shares, dealings)
    }

    /// From the `n` dealing commitments, each checked against its dealer's
    /// public-key share; derives every member's share commitment.
    fn from_dealings(
        params: &Arc<rlwe::params::Params>,
        crs: &Crs,
        zp: &zk::ShareParams,
        (t, n): (usize, usize),
        pk_shares: &[PublicKeyShare],
        dealings: &[DealingCommitment],
    ) -> Result<Self> {
        let dealers = ShareCommitments::new(params, crs, t, n, pk_shares, dealings)?;
        let [a1, a2] = dealers.polys();
        let key = zk::ShareKey::new(zp, a1, a2)?;
        let coms = (1..=n as u32)
            .into_par_iter()
            .map(|j| {
                let [k1, k2] = dealers.member(PartyId(j))?;
                Ok((j, zk::ShareCommitment::new(zp, &k1, &k2)?))
            })
            .collect::<Result<BTreeMap<_, _>>>()?;
        Ok(Self::new(key, coms, Some(dealers)))
    }

    /// From serialized member commitments ([`Self::write`]): exactly the
    /// members `1..=n`, in order.
    pub(crate) fn read(
        params: &rlwe::params::Params,
        crs: &Crs,
        zp: &zk::ShareParams,
        n: usize,
        bytes: &[u8],
        what: &'static str,
    ) -> Result<Self> {
        let bad = |reason: &str| Error::Malformed {
            what,
            reason: reason.into(),
        };
        let ring = zp.ring();
        let one = packed_len(ring);
        let count = bytes
            .get(..4)
            .map(|b| u32::from_le_bytes(b.try_into().unwrap_or_default()))
            .ok_or_else(|| bad("truncated"))?;
        let rest = &bytes[4..];
        if count as usize != n || rest.len() != n * (4 + 2 * one) {
            return Err(bad("share commitments are not one per key holder"));
        }
        let coms = rest
            .par_chunks(4 + 2 * one)
            .enumerate()
            .map(|(i, c)| {
                let j = u32::from_le_bytes(c[..4].try_into().unwrap_or_default());
                if j as usize != i + 1 {
                    return Err(bad("share commitments out of order"));
                }
                let k1 = unpack_poly(ring, Representation::Ntt, &c[4..4 + one], what)?;
                let k2 = unpack_poly(ring, Representation::Ntt, &c[4 + one..], what)?;
                Ok((j, zk::ShareCommitment::new(zp, &k1, &k2)?))
            })
            .collect::<Result<BTreeMap<_, _>>>()?;
        let [a1, a2] = threshold::vss::commitment_polys(params, crs)?;
        let key = zk::ShareKey::new(zp, &a1, &a2)?;
        Ok(Self::new(key, coms, None))
    }

    /// Appends the member commitments (count, then `(id, K1, K2)` each).
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&(self.coms.len() as u32).to_le_bytes());
        for (j, c) in &self.coms {
            out.extend_from_slice(&j.to_le_bytes());
            for k in c.polys() {
                pack_poly(k, out);
            }
        }
    }

    /// Bytes [`Self::write`] appends for `n` members over `ring`.
    pub(crate) fn written_len(ring: &RingContext, n: usize) -> usize {
        4 + n * (4 + 2 * packed_len(ring))
    }

    fn commitment(&self, party: u32) -> Result<&zk::ShareCommitment> {
        self.coms.get(&party).ok_or(Error::UnknownParty { party })
    }

    /// The dealers' commitments, to check dealings against, or
    /// [`Error::Protocol`] for members read from bytes.
    pub(crate) fn dealers(&self) -> Result<&ShareCommitments> {
        self.dealers.as_ref().ok_or_else(|| {
            Error::Protocol(
                "the session proves decryption shares: set the key made with the dealing \
                 commitments (with_dealings) in this process before receiving dealings"
                    .into(),
            )
        })
    }

    /// `party`'s proven decryption shares of `cts` as a member of `active`:
    /// appends the packed shares, then the proofs; returns the number of
    /// proofs.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn prove<R: RngCore + CryptoRng>(
        &self,
        zp: &zk::ShareParams,
        party: &mut Party,
        cts: &[&Ciphertext],
        active: &ActiveSet,
        smudging: &Smudging,
        context: &[u8; 32],
        rng: &mut R,
        out: &mut Vec<u8>,
    ) -> Result<u32> {
        let com = self.commitment(party.id().0)?;
        let (shares, proofs) = party
            .proven_decryption_shares(cts, active, smudging, zp, &self.key, com, context, rng)?;
        for share in &shares {
            pack_poly(share.poly(), out);
        }
        for p in &proofs {
            out.extend_from_slice(&p.to_bytes(zp));
        }
        Ok(proofs.len() as u32)
    }

    /// Verifies `party`'s decryption shares `polys` of `cts` against its
    /// proofs (`proofs`: the bytes after the shares); any failure is
    /// [`Error::InvalidShareProof`] naming `party`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn verify(
        &self,
        zp: &zk::ShareParams,
        party: u32,
        cts: &[&Ciphertext],
        active: &ActiveSet,
        polys: &[Poly],
        proofs: &[u8],
        context: &[u8; 32],
    ) -> Result<()> {
        let proofs = read_share_proofs(zp, party, cts.len(), proofs)?;
        let com = self.commitment(party)?;
        threshold::vss::verify_decryption_shares(
            cts,
            active,
            PartyId(party),
            polys,
            &proofs,
            zp,
            &self.key,
            com,
            context,
        )
        .map_err(|e| Error::InvalidShareProof {
            party,
            reason: e.to_string(),
        })
    }
}

/// Keeps the sum of the dealings addressed to `party` (`t` of `n`): in a
/// session that proves shares (`proves`), each checked first against its
/// dealer's commitment from `members` (the key made with the dealing
/// commitments; [`Error::Protocol`] naming `with_dealings` without it).
pub(crate) fn receive_dealings(
    party: &mut Party,
    proves: bool,
    members: Option<&Members>,
    messages: Vec<SecretShareMessage>,
    (t, n): (usize, usize),
    with_dealings: &str,
) -> Result<()> {
    if !proves {
        return Ok(party.receive_dealings(messages, t, n)?);
    }
    let dealers = members
        .ok_or_else(|| {
            Error::Protocol(format!(
                "the session proves decryption shares: set the key from {with_dealings} \
                 before receiving dealings"
            ))
        })?
        .dealers()?;
    Ok(party.receive_committed_dealings(messages, dealers)?)
}

/// The number of share proofs for `count` shares.
pub(crate) fn proof_count(zp: Option<&zk::ShareParams>, count: usize) -> usize {
    zp.map_or(0, |zp| count.div_ceil(zp.count()))
}

/// The bytes of the proofs of `count` shares (0 without share proofs).
pub(crate) fn proof_bytes(zp: Option<&zk::ShareParams>, count: usize) -> usize {
    let Some(zp) = zp else { return 0 };
    let c = zp.count();
    (count / c) * zp.proof_bytes(c)
        + if count.is_multiple_of(c) {
            0
        } else {
            zp.proof_bytes(count % c)
        }
}

/// Reads the proofs of `count` shares; a malformed proof is
/// [`Error::InvalidShareProof`] naming `party`.
pub(crate) fn read_share_proofs(
    zp: &zk::ShareParams,
    party: u32,
    count: usize,
    proofs: &[u8],
) -> Result<Vec<zk::ShareProof>> {
    let c = zp.count();
    let mut out = Vec::with_capacity(count.div_ceil(c));
    let mut at = 0;
    let mut left = count;
    while left > 0 {
        let k = left.min(c);
        let len = zp.proof_bytes(k);
        let bytes = proofs
            .get(at..at + len)
            .ok_or_else(|| Error::InvalidShareProof {
                party,
                reason: "truncated proofs".into(),
            })?;
        out.push(zk::ShareProof::from_bytes(zp, k, bytes).map_err(|e| {
            Error::InvalidShareProof {
                party,
                reason: e.to_string(),
            }
        })?);
        at += len;
        left -= k;
    }
    if at != proofs.len() {
        return Err(Error::InvalidShareProof {
            party,
            reason: format!("{} bytes after the proofs", proofs.len() - at),
        });
    }
    Ok(out)
}

/// The dealing among key holders in one process (each message would go
/// over a private channel): every holder deals (`deal`), the session key
/// is made from the public commitments (`key_from`: the key itself, or
/// with the commitments in a session that proves shares), and every
/// holder installs it and receives its messages (`install`). Returns the
/// key.
pub(crate) fn deal_in_process<T, K: Clone, R>(
    holders: &mut [T],
    id: impl Fn(&T) -> u32,
    deal: impl Fn(&T, &mut R) -> Result<Dealing>,
    key_from: impl FnOnce(&[DealingCommitment]) -> Result<K>,
    install: impl Fn(&mut T, K, Vec<SecretShareMessage>) -> Result<()>,
    rng: &mut R,
) -> Result<K> {
    let ids: Vec<u32> = holders.iter().map(&id).collect();
    let mut inbox: Vec<Vec<SecretShareMessage>> = ids.iter().map(|_| Vec::new()).collect();
    let mut commitments = Vec::new();
    for h in holders.iter() {
        let d = deal(h, rng)?;
        commitments.extend(d.commitment);
        for m in d.messages {
            let slot = ids
                .iter()
                .position(|&id| id == m.to.0)
                .ok_or(Error::UnknownParty { party: m.to.0 })?;
            inbox[slot].push(m);
        }
    }
    let key = key_from(&commitments)?;
    for (h, msgs) in holders.iter_mut().zip(inbox) {
        install(h, key.clone(), msgs)?;
    }
    Ok(key)
}
