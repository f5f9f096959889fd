//! Serialized forms of the lattice protocol messages, so that shares can
//! cross between processes: public-key, relinearization-key (both rounds),
//! Galois-key, decryption and key-switching shares, and the private Shamir
//! dealing messages. Every message is an `rlwe` envelope (magic, version,
//! kind, parameters' fingerprint) with a tag naming the message, the
//! sender's id, and polynomials validated against their ring on the way in.

use std::sync::Arc;

use rlwe::params::Params;
use rlwe::poly::{Poly, RingContext};
use rlwe::sample::Seed;
use rlwe::serialize::{decode, encode, Kind, PolyData};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::party::{Party, SecretShareMessage, ThresholdState};
use crate::protocols::{
    DecryptionShare, GaloisKeyShare, KeySwitchShare, PublicKeyShare, RelinRound1Share,
    RelinRound2Share,
};
use crate::vss::DealingCommitment;
use crate::{Error, PartyId, Result};

const MAX_PARTY: u32 = 1 << 20;

pub(crate) fn check_party(what: &'static str, p: u32) -> Result<PartyId> {
    if p == 0 || p > MAX_PARTY {
        return Err(Error::Malformed {
            what,
            reason: format!("party id {p} out of range"),
        });
    }
    Ok(PartyId(p))
}

pub(crate) fn write<T: Serialize>(params: &Params, tag: &[u8; 8], body: &T) -> Vec<u8> {
    encode(Kind::External, params.fingerprint(), &(tag, body))
}

/// Length of the `rlwe` envelope header (magic, version, kind, fingerprint).
const HEADER: usize = rlwe::serialize::HEADER_LEN;

pub(crate) fn read<T: DeserializeOwned>(
    params: &Params,
    tag: &[u8; 8],
    what: &'static str,
    bytes: &[u8],
) -> Result<T> {
    // The tag follows the header: check it first, so that a message of
    // another kind is named as such rather than as undecodable.
    if bytes.len() >= HEADER + 8 && &bytes[HEADER..HEADER + 8] != tag {
        return Err(Error::Malformed {
            what,
            reason: "message of another kind".into(),
        });
    }
    let (t, body): ([u8; 8], T) = decode(bytes, Kind::External, what, Some(params.fingerprint()))?;
    if &t != tag {
        return Err(Error::Malformed {
            what,
            reason: "message of another kind".into(),
        });
    }
    Ok(body)
}

fn polys(
    v: Vec<PolyData>,
    ring: &Arc<RingContext>,
    params: &Params,
    what: &'static str,
) -> Result<Vec<Poly>> {
    if v.len() != params.digits() {
        return Err(Error::Malformed {
            what,
            reason: format!("{} digits, parameters have {}", v.len(), params.digits()),
        });
    }
    v.into_iter()
        .map(|p| p.into_poly(ring).map_err(Error::from))
        .collect()
}

#[derive(Serialize, Deserialize)]
struct PkBody {
    party: u32,
    seed: Seed,
    b: PolyData,
}

impl PublicKeyShare {
    /// Serialized share.
    pub fn to_bytes(&self) -> Vec<u8> {
        let body = PkBody {
            party: self.party.0,
            seed: self.seed,
            b: PolyData::from_poly(&self.b),
        };
        write(&self.params, b"thr/pk01", &body)
    }

    /// Reads a share for `params`.
    pub fn from_bytes(params: &Arc<Params>, bytes: &[u8]) -> Result<Self> {
        const WHAT: &str = "public-key share";
        let b: PkBody = read(params, b"thr/pk01", WHAT, bytes)?;
        Ok(Self {
            party: check_party(WHAT, b.party)?,
            params: params.clone(),
            seed: b.seed,
            b: b.b.into_poly(params.ring_qp_top())?,
        })
    }
}

#[derive(Serialize, Deserialize)]
struct RlkBody {
    party: u32,
    seed: Seed,
    h0: Vec<PolyData>,
    h1: Vec<PolyData>,
}

macro_rules! relin_wire {
    ($ty:ident, $tag:expr, $what:expr) => {
        impl $ty {
            /// Serialized share.
            pub fn to_bytes(&self) -> Vec<u8> {
                let body = RlkBody {
                    party: self.party.0,
                    seed: self.seed,
                    h0: self.h0.iter().map(PolyData::from_poly).collect(),
                    h1: self.h1.iter().map(PolyData::from_poly).collect(),
                };
                write(&self.params, $tag, &body)
            }

            /// Reads a share for `params`.
            pub fn from_bytes(params: &Arc<Params>, bytes: &[u8]) -> Result<Self> {
                let b: RlkBody = read(params, $tag, $what, bytes)?;
                let ring = params.ring_qp_top();
                Ok(Self {
                    party: check_party($what, b.party)?,
                    params: params.clone(),
                    seed: b.seed,
                    h0: polys(b.h0, ring, params, $what)?,
                    h1: polys(b.h1, ring, params, $what)?,
                })
            }
        }
    };
}

relin_wire!(
    RelinRound1Share,
    b"thr/rk01",
    "relinearization-key round-1 share"
);
relin_wire!(
    RelinRound2Share,
    b"thr/rk02",
    "relinearization-key round-2 share"
);

#[derive(Serialize, Deserialize)]
struct GkBody {
    party: u32,
    element: u64,
    seed: Seed,
    b: Vec<PolyData>,
}

impl GaloisKeyShare {
    /// Serialized share.
    pub fn to_bytes(&self) -> Vec<u8> {
        let body = GkBody {
            party: self.party.0,
            element: self.element as u64,
            seed: self.seed,
            b: self.b.iter().map(PolyData::from_poly).collect(),
        };
        write(&self.params, b"thr/gk01", &body)
    }

    /// Reads a share for `params`.
    pub fn from_bytes(params: &Arc<Params>, bytes: &[u8]) -> Result<Self> {
        const WHAT: &str = "Galois-key share";
        let b: GkBody = read(params, b"thr/gk01", WHAT, bytes)?;
        let two_n = 2 * params.degree() as u64;
        if b.element >= two_n || b.element.is_multiple_of(2) {
            return Err(Error::Malformed {
                what: WHAT,
                reason: format!("Galois element {} is not odd and below 2N", b.element),
            });
        }
        Ok(Self {
            party: check_party(WHAT, b.party)?,
            params: params.clone(),
            element: b.element as usize,
            seed: b.seed,
            b: polys(b.b, params.ring_qp_top(), params, WHAT)?,
        })
    }
}

#[derive(Serialize, Deserialize)]
struct DecBody {
    party: u32,
    level: u32,
    d: PolyData,
}

impl DecryptionShare {
    /// Serialized share (for ciphertexts of `params`).
    pub fn to_bytes(&self, params: &Params) -> Result<Vec<u8>> {
        let level = params.level_of(self.d.context())?;
        let body = DecBody {
            party: self.party.0,
            level: level as u32,
            d: PolyData::from_poly(&self.d),
        };
        Ok(write(params, b"thr/dec1", &body))
    }

    /// Reads a share for `params`.
    pub fn from_bytes(params: &Arc<Params>, bytes: &[u8]) -> Result<Self> {
        const WHAT: &str = "decryption share";
        let b: DecBody = read(params, b"thr/dec1", WHAT, bytes)?;
        let ring = params.ring_q(b.level as usize)?;
        let mut d = b.d.into_poly(ring)?;
        d.to_ntt();
        Ok(Self {
            party: check_party(WHAT, b.party)?,
            d,
        })
    }
}

#[derive(Serialize, Deserialize)]
struct KsBody {
    party: u32,
    level: u32,
    h0: PolyData,
    h1: PolyData,
}

impl KeySwitchShare {
    /// Serialized share (for ciphertexts of `params`).
    pub fn to_bytes(&self, params: &Params) -> Result<Vec<u8>> {
        let level = params.level_of(self.h0.context())?;
        let body = KsBody {
            party: self.party.0,
            level: level as u32,
            h0: PolyData::from_poly(&self.h0),
            h1: PolyData::from_poly(&self.h1),
        };
        Ok(write(params, b"thr/pks1", &body))
    }

    /// Reads a share for `params`.
    pub fn from_bytes(params: &Arc<Params>, bytes: &[u8]) -> Result<Self> {
        const WHAT: &str = "key-switching share";
        let b: KsBody = read(params, b"thr/pks1", WHAT, bytes)?;
        let ring = params.ring_q(b.level as usize)?;
        let mut h0 = b.h0.into_poly(ring)?;
        let mut h1 = b.h1.into_poly(ring)?;
        h0.to_ntt();
        h1.to_ntt();
        Ok(Self {
            party: check_party(WHAT, b.party)?,
            h0,
            h1,
        })
    }
}

#[derive(Serialize, Deserialize)]
struct DealBody {
    from: u32,
    to: u32,
    share: PolyData,
}

impl SecretShareMessage {
    /// Serialized dealing message: secret, to be sent only over a private,
    /// authenticated channel to its recipient. The buffer is wiped on drop.
    pub fn to_bytes(&self, params: &Params) -> Zeroizing<Vec<u8>> {
        let mut body = DealBody {
            from: self.from.0,
            to: self.to.0,
            share: PolyData::from_poly(&self.share),
        };
        let out = Zeroizing::new(write(params, b"thr/dea2", &body));
        zeroize::Zeroize::zeroize(&mut body.share);
        out
    }

    /// Reads a dealing message for `params`.
    pub fn from_bytes(params: &Arc<Params>, bytes: &[u8]) -> Result<Self> {
        const WHAT: &str = "dealing message";
        let b: DealBody = read(params, b"thr/dea2", WHAT, bytes)?;
        Ok(Self {
            from: check_party(WHAT, b.from)?,
            to: check_party(WHAT, b.to)?,
            share: b.share.into_poly(params.ring_qp_top())?,
        })
    }
}

#[derive(Serialize, Deserialize)]
struct DealComBody {
    party: u32,
    c1: Vec<PolyData>,
    c2: Vec<PolyData>,
}

impl DealingCommitment {
    /// Serialized commitment (public).
    pub fn to_bytes(&self, params: &Params) -> Vec<u8> {
        let body = DealComBody {
            party: self.party.0,
            c1: self.c1.iter().map(PolyData::from_poly).collect(),
            c2: self.c2.iter().map(PolyData::from_poly).collect(),
        };
        write(params, b"thr/dcm2", &body)
    }

    /// Reads a commitment for `params` (polynomials over the chain `Q`,
    /// `t − 1` and `t` of them, `1 ≤ t ≤ 2^16`).
    pub fn from_bytes(params: &Arc<Params>, bytes: &[u8]) -> Result<Self> {
        const WHAT: &str = "dealing commitment";
        let b: DealComBody = read(params, b"thr/dcm2", WHAT, bytes)?;
        if b.c2.is_empty() || b.c2.len() > 1 << 16 || b.c1.len() + 1 != b.c2.len() {
            return Err(Error::Malformed {
                what: WHAT,
                reason: format!("{} and {} polynomials", b.c1.len(), b.c2.len()),
            });
        }
        let ring = params.ring_q_top();
        let read = |v: Vec<PolyData>| -> Result<Vec<Poly>> {
            v.into_iter()
                .map(|p| p.into_poly(ring).map_err(Error::from))
                .collect()
        };
        Ok(Self {
            party: check_party(WHAT, b.party)?,
            c1: read(b.c1)?,
            c2: read(b.c2)?,
        })
    }
}

#[derive(Serialize, Deserialize)]
struct PartyBody {
    id: u32,
    /// The secret key's own envelope (`rlwe`).
    sk: Vec<u8>,
    /// `(t, n, S_j)` after the Shamir dealing.
    threshold: Option<(u32, u32, PolyData)>,
    /// The protocol instances answered, so that a restored party still
    /// refuses a second share for any of them.
    used: Vec<[u8; 32]>,
}

impl Party {
    /// The party's whole state — its secret, its Shamir share and the
    /// protocol instances it has answered — for keeping it between
    /// processes (a Flower SuperNode runs each message in a new one). Secret:
    /// store it encrypted at rest; the buffer is wiped on drop.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let sk = self.sk.to_bytes();
        let mut used: Vec<[u8; 32]> = self.used.iter().copied().collect();
        used.sort_unstable();
        let mut body = PartyBody {
            id: self.id.0,
            sk: sk.to_vec(),
            threshold: self
                .threshold
                .as_ref()
                .map(|st| (st.t as u32, st.n as u32, PolyData::from_poly(&st.share))),
            used,
        };
        let out = Zeroizing::new(write(&self.params, b"thr/pty2", &body));
        zeroize::Zeroize::zeroize(&mut body.sk);
        if let Some((_, _, share)) = body.threshold.as_mut() {
            zeroize::Zeroize::zeroize(share);
        }
        out
    }

    /// Reads a party written by [`Self::to_bytes`] for `params`.
    ///
    /// # Errors
    /// [`Error::Malformed`] (another message, a bad id, a threshold with
    /// `t = 0` or `t > n`), the envelope, key and polynomial errors of
    /// `rlwe`, a secret of other parameters.
    pub fn from_bytes(params: &Arc<Params>, bytes: &[u8]) -> Result<Self> {
        const WHAT: &str = "party state";
        let mut b: PartyBody = read(params, b"thr/pty2", WHAT, bytes)?;
        let sk = rlwe::keys::SecretKey::from_bytes(params, &b.sk);
        zeroize::Zeroize::zeroize(&mut b.sk);
        let sk = sk?;
        let id = check_party(WHAT, b.id)?;
        let threshold = match b.threshold.take() {
            None => None,
            Some((t, n, mut share)) => {
                if t == 0 || t > n || n > MAX_PARTY {
                    zeroize::Zeroize::zeroize(&mut share);
                    return Err(Error::Malformed {
                        what: WHAT,
                        reason: format!("threshold {t} of {n}"),
                    });
                }
                // the words move into the share, which is wiped on drop
                Some(ThresholdState {
                    t: t as usize,
                    n: n as usize,
                    share: share.into_poly(params.ring_qp_top())?,
                })
            }
        };
        let mut party = Party::from_secret(id, sk);
        party.threshold = threshold;
        party.used = b.used.into_iter().collect();
        Ok(party)
    }
}
