//! RLWE parameters: ring degree, modulus chain `Q = q_0 ⋯ q_{L-1}`, special
//! modulus `P` for key switching, and the security check against the
//! HomomorphicEncryption.org standard. Built once, shared as `Arc<Params>`,
//! holding every precomputed table (NTT plans, rings per level, basis
//! extenders for key switching and rescaling).

use std::ops::Range;
use std::sync::Arc;

use num_bigint::BigUint;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ntt::NttPlan;
use crate::poly::RingContext;
use crate::rns::{BasisExtender, RnsBasis};
use crate::zq::generate_primes;
use crate::{Error, Result};

/// Security level to enforce when building parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum SecurityLevel {
    /// 128-bit classical security (the default).
    #[default]
    Bits128,
    /// 192-bit classical security.
    Bits192,
    /// 256-bit classical security.
    Bits256,
    /// No check: for tests and experiments only.
    None,
}

impl SecurityLevel {
    /// Bits of security, 0 for [`SecurityLevel::None`].
    pub fn bits(self) -> u32 {
        match self {
            SecurityLevel::Bits128 => 128,
            SecurityLevel::Bits192 => 192,
            SecurityLevel::Bits256 => 256,
            SecurityLevel::None => 0,
        }
    }
}

/// Largest `log2(QP)` for ring degree `degree` at `level` with a ternary
/// secret, from the HomomorphicEncryption.org security standard (Albrecht et
/// al., 2018, Table 1, classical). The standard stops at N = 32768; the
/// values for 65536 and 131072 are the extrapolations OpenFHE uses.
pub fn max_log_qp(degree: usize, level: SecurityLevel) -> Option<u32> {
    let row: [u32; 3] = match degree {
        1024 => [27, 19, 14],
        2048 => [54, 37, 29],
        4096 => [109, 75, 58],
        8192 => [218, 152, 118],
        16384 => [438, 305, 237],
        32768 => [881, 611, 476],
        65536 => [1747, 1224, 956],
        131072 => [3523, 2451, 1918],
        _ => return None,
    };
    match level {
        SecurityLevel::Bits128 => Some(row[0]),
        SecurityLevel::Bits192 => Some(row[1]),
        SecurityLevel::Bits256 => Some(row[2]),
        SecurityLevel::None => Some(u32::MAX),
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum Moduli {
    Bits(Vec<u32>),
    Primes(Vec<u64>),
}

/// Builder for [`Params`].
#[derive(Clone, Debug)]
pub struct ParamsBuilder {
    degree: usize,
    q: Moduli,
    p: Moduli,
    security: SecurityLevel,
}

impl Default for ParamsBuilder {
    fn default() -> Self {
        Self {
            degree: 0,
            q: Moduli::Bits(Vec::new()),
            p: Moduli::Bits(Vec::new()),
            security: SecurityLevel::Bits128,
        }
    }
}

impl ParamsBuilder {
    /// A builder with no moduli and 128-bit security.
    pub fn new() -> Self {
        Self::default()
    }

    /// Ring degree N (a power of two, 2^10 ..= 2^17).
    pub fn degree(mut self, n: usize) -> Self {
        self.degree = n;
        self
    }

    /// The chain `Q` from prime sizes in bits (generated primes ≡ 1 mod 2N).
    pub fn q_bits(mut self, bits: &[u32]) -> Self {
        self.q = Moduli::Bits(bits.to_vec());
        self
    }

    /// The chain `Q` from explicit primes.
    pub fn q_primes(mut self, primes: &[u64]) -> Self {
        self.q = Moduli::Primes(primes.to_vec());
        self
    }

    /// The special primes `P` from sizes in bits.
    pub fn p_bits(mut self, bits: &[u32]) -> Self {
        self.p = Moduli::Bits(bits.to_vec());
        self
    }

    /// The special primes `P` from explicit primes.
    pub fn p_primes(mut self, primes: &[u64]) -> Self {
        self.p = Moduli::Primes(primes.to_vec());
        self
    }

    /// Security level to enforce (default 128 bits).
    pub fn security(mut self, level: SecurityLevel) -> Self {
        self.security = level;
        self
    }

    /// Validates and precomputes.
    pub fn build(self) -> Result<Arc<Params>> {
        let n = self.degree;
        if !n.is_power_of_two() || !(1024..=131072).contains(&n) {
            return Err(Error::InvalidParameters {
                reason: format!("ring degree {n} must be a power of two in [2^10, 2^17]"),
            });
        }
        let q = match &self.q {
            Moduli::Bits(b) => generate_primes(b, n, &[])?,
            Moduli::Primes(p) => p.clone(),
        };
        let p = match &self.p {
            Moduli::Bits(b) => generate_primes(b, n, &q)?,
            Moduli::Primes(p) => p.clone(),
        };
        Params::new(n, q, p, self.security)
    }
}

/// Precomputed key-switching data for one level.
#[derive(Debug)]
pub(crate) struct LevelTables {
    /// For each digit present at this level: the `q` indices it covers and
    /// the extender from those primes to the other primes of `Q_l ∪ P`.
    pub(crate) digits: Vec<(Range<usize>, BasisExtender)>,
    /// `P → Q_l`, for the modulus reduction after key switching.
    pub(crate) mod_down: Option<BasisExtender>,
    /// `{q_l} → Q_{l-1}`, for rescaling (none at level 0).
    pub(crate) rescale: Option<BasisExtender>,
    /// `{q_l} ∪ P → Q_{l-1}`, for key switching fused with rescaling (none
    /// at level 0 or without special primes).
    pub(crate) rescale_p: Option<BasisExtender>,
}

/// The top-level key-switching digits ([`Params::digit_ranges`]).
fn digit_ranges(q: &[u64], p: &[u64]) -> Vec<Range<usize>> {
    if p.is_empty() {
        return Vec::new();
    }
    let p_prod: BigUint = p.iter().product();
    let mut out = Vec::new();
    let mut start = 0;
    while start < q.len() {
        let mut end = (start + p.len()).min(q.len());
        let mut prod: BigUint = q[start..end].iter().product();
        while end < q.len() && &prod * q[end] <= p_prod {
            prod *= q[end];
            end += 1;
        }
        out.push(start..end);
        start = end;
    }
    out
}

/// Validated RLWE parameters with all precomputed tables.
pub struct Params {
    degree: usize,
    q: Vec<u64>,
    p: Vec<u64>,
    security: SecurityLevel,
    rings_q: Vec<Arc<RingContext>>,
    rings_qp: Vec<Arc<RingContext>>,
    ring_p: Option<Arc<RingContext>>,
    levels: Vec<LevelTables>,
    /// The key-switching digits at the top level ([`Params::digit_ranges`]).
    digit_ranges: Vec<Range<usize>>,
    fingerprint: [u8; 32],
}

impl std::fmt::Debug for Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Params")
            .field("degree", &self.degree)
            .field("q", &self.q)
            .field("p", &self.p)
            .field("security", &self.security)
            .finish()
    }
}

impl PartialEq for Params {
    fn eq(&self, other: &Self) -> bool {
        self.fingerprint == other.fingerprint
    }
}
impl Eq for Params {}

impl Params {
    /// A builder.
    pub fn builder() -> ParamsBuilder {
        ParamsBuilder::new()
    }

    /// Parameters from explicit primes (checked: NTT-friendly, distinct,
    /// within the security bound).
    pub fn new(
        degree: usize,
        q: Vec<u64>,
        p: Vec<u64>,
        security: SecurityLevel,
    ) -> Result<Arc<Self>> {
        if !degree.is_power_of_two() || !(1024..=131072).contains(&degree) {
            return Err(Error::InvalidParameters {
                reason: format!("ring degree {degree} must be a power of two in [2^10, 2^17]"),
            });
        }
        if q.is_empty() {
            return Err(Error::InvalidParameters {
                reason: "the modulus chain Q is empty".into(),
            });
        }
        let log_qp: u32 = q.iter().chain(&p).map(|x| 64 - x.leading_zeros()).sum();
        let max = max_log_qp(degree, security).unwrap_or(0);
        if log_qp > max {
            return Err(Error::InsecureParameters {
                degree,
                log_qp,
                max_log_qp: max,
                level: security.bits(),
            });
        }
        let mut all = q.clone();
        all.extend_from_slice(&p);
        // Distinctness (RnsBasis checks it) and NTT-friendliness (NttPlan).
        RnsBasis::new(&all)?;
        let plans = all
            .iter()
            .map(|&m| NttPlan::new(degree, m).map(Arc::new))
            .collect::<Result<Vec<_>>>()?;
        let (plans_q, plans_p) = plans.split_at(q.len());
        let l = q.len();
        let mut rings_q = Vec::with_capacity(l);
        let mut rings_qp = Vec::with_capacity(l);
        for level in 0..l {
            rings_q.push(RingContext::from_plans(plans_q[..=level].to_vec())?);
            let mut v = plans_q[..=level].to_vec();
            v.extend_from_slice(plans_p);
            rings_qp.push(RingContext::from_plans(v)?);
        }
        let ring_p = if p.is_empty() {
            None
        } else {
            Some(RingContext::from_plans(plans_p.to_vec())?)
        };
        let digit_ranges = digit_ranges(&q, &p);
        let mut levels = Vec::with_capacity(l);
        for level in 0..l {
            let mut digits = Vec::new();
            for r in digit_ranges.iter().filter(|r| r.start <= level) {
                let (start, end) = (r.start, r.end.min(level + 1));
                let src = RnsBasis::new(&q[start..end])?;
                let targets: Vec<u64> = q[..=level]
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !(start..end).contains(i))
                    .map(|(_, &x)| x)
                    .chain(p.iter().copied())
                    .collect();
                digits.push((start..end, BasisExtender::new(&src, &targets)?));
            }
            let mod_down = if p.is_empty() {
                None
            } else {
                Some(BasisExtender::new(&RnsBasis::new(&p)?, &q[..=level])?)
            };
            let rescale = if level == 0 {
                None
            } else {
                Some(BasisExtender::new(
                    &RnsBasis::new(&q[level..=level])?,
                    &q[..level],
                )?)
            };
            let rescale_p = if level == 0 || p.is_empty() {
                None
            } else {
                let mut tail = vec![q[level]];
                tail.extend_from_slice(&p);
                Some(BasisExtender::new(&RnsBasis::new(&tail)?, &q[..level])?)
            };
            levels.push(LevelTables {
                digits,
                mod_down,
                rescale,
                rescale_p,
            });
        }
        let mut h = Sha256::new();
        // v2: the security level is part of the fingerprint (v1 hashed
        // only degree, Q and P).
        // v3: the key-switching digits are part of the fingerprint (v2 and
        // earlier grouped them by |P| primes only: keys made then have
        // another layout and must not load).
        h.update(b"hekit/rlwe/params/v3");
        h.update((degree as u64).to_le_bytes());
        h.update(security.bits().to_le_bytes());
        h.update((q.len() as u64).to_le_bytes());
        for x in &q {
            h.update(x.to_le_bytes());
        }
        h.update((p.len() as u64).to_le_bytes());
        for x in &p {
            h.update(x.to_le_bytes());
        }
        h.update((digit_ranges.len() as u64).to_le_bytes());
        for r in &digit_ranges {
            h.update((r.end as u64).to_le_bytes());
        }
        Ok(Arc::new(Self {
            degree,
            q,
            p,
            security,
            rings_q,
            rings_qp,
            ring_p,
            levels,
            digit_ranges,
            fingerprint: h.finalize().into(),
        }))
    }

    /// Ring degree N.
    #[inline]
    pub fn degree(&self) -> usize {
        self.degree
    }

    /// The chain primes `q_0, …, q_{L-1}`.
    pub fn q(&self) -> &[u64] {
        &self.q
    }

    /// The special primes.
    pub fn p(&self) -> &[u64] {
        &self.p
    }

    /// Security level the parameters were checked against.
    pub fn security(&self) -> SecurityLevel {
        self.security
    }

    /// Highest level (`L - 1`); level `l` uses the primes `q_0..=q_l`.
    #[inline]
    pub fn max_level(&self) -> usize {
        self.q.len() - 1
    }

    /// Total modulus size `Σ bits(q_i) + Σ bits(p_j)`.
    pub fn log_qp(&self) -> u32 {
        self.q
            .iter()
            .chain(&self.p)
            .map(|x| 64 - x.leading_zeros())
            .sum()
    }

    /// The ring `Q_l`.
    pub fn ring_q(&self, level: usize) -> Result<&Arc<RingContext>> {
        self.rings_q.get(level).ok_or(Error::InvalidLevel {
            what: "ring level",
            got: level,
            max: self.max_level(),
        })
    }

    /// The ring `Q_l ∪ P`.
    pub fn ring_qp(&self, level: usize) -> Result<&Arc<RingContext>> {
        self.rings_qp.get(level).ok_or(Error::InvalidLevel {
            what: "ring level",
            got: level,
            max: self.max_level(),
        })
    }

    /// The ring `Q` at the top level.
    pub fn ring_q_top(&self) -> &Arc<RingContext> {
        // Non-empty by construction.
        &self.rings_q[self.rings_q.len() - 1]
    }

    /// The ring `Q ∪ P` at the top level (where keys live).
    pub fn ring_qp_top(&self) -> &Arc<RingContext> {
        &self.rings_qp[self.rings_qp.len() - 1]
    }

    /// The ring of the special primes, if any.
    pub fn ring_p(&self) -> Option<&Arc<RingContext>> {
        self.ring_p.as_ref()
    }

    /// Number of key-switching digits at the top level.
    pub fn digits(&self) -> usize {
        self.digit_ranges.len()
    }

    /// The key-switching digits at the top level, as ranges of `q`
    /// indices (empty without special primes). A key-switching key has
    /// one component per digit; below the top level, a digit keeps its
    /// primes up to the level (digits above it are absent).
    ///
    /// Digits are consecutive: each takes at least `|P|` primes (or what is
    /// left), then further primes while the digit's product stays at most
    /// `P`. A digit `D ≤ P` keeps the key-switching noise `≈ D·e/P` at the
    /// size of the rounding of the modulus reduction, so chains whose levels
    /// are smaller than the special primes (e.g. 40-bit levels under 60-bit
    /// special primes) get fewer digits — fewer NTTs and a smaller key —
    /// at the same noise bound.
    pub fn digit_ranges(&self) -> &[Range<usize>] {
        &self.digit_ranges
    }

    pub(crate) fn level_tables(&self, level: usize) -> Result<&LevelTables> {
        self.levels.get(level).ok_or(Error::InvalidLevel {
            what: "level",
            got: level,
            max: self.max_level(),
        })
    }

    /// SHA-256 fingerprint of (degree, security level, Q, P): recorded in
    /// serialized objects, so objects made under parameters checked at one
    /// security level do not load under the same primes checked at another.
    pub fn fingerprint(&self) -> &[u8; 32] {
        &self.fingerprint
    }

    /// Level of a ring over a prefix of the chain (errors for other rings).
    pub fn level_of(&self, ctx: &RingContext) -> Result<usize> {
        let l = ctx.len();
        if l == 0 || l > self.q.len() || !self.rings_q[l - 1].same_ring(ctx) {
            return Err(Error::ParameterMismatch {
                what: "polynomial is not over a level of these parameters",
            });
        }
        Ok(l - 1)
    }

    /// Checks that `other` are the same parameters.
    pub fn check_same(&self, other: &Params, what: &'static str) -> Result<()> {
        if self.fingerprint != other.fingerprint {
            return Err(Error::ParameterMismatch { what });
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn builder_generates_secure_chain() {
        let p = Params::builder()
            .degree(8192)
            .q_bits(&[43, 43, 44, 44])
            .p_bits(&[44])
            .build()
            .unwrap();
        assert_eq!(p.log_qp(), 218);
        assert_eq!(p.max_level(), 3);
        assert_eq!(p.digits(), 4);
        assert_eq!(p.ring_qp(2).unwrap().len(), 4);
        assert!(p.ring_q(4).is_err());
    }

    /// Digits: consecutive, covering the chain, at least |P| primes each
    /// (or the rest), the extra primes only while the product stays ≤ P,
    /// and maximal (the next prime would pass P) — checked with big
    /// integers on chains where the levels are smaller than, equal to and
    /// larger than the special primes.
    #[test]
    fn digits_group_primes_up_to_p() {
        let cases: [(&[u32], &[u32], usize); 5] = [
            // the N = 2^16 bootstrapping chain: 5 digits (6 by |P| primes)
            (
                &[
                    48, 40, 40, 40, 40, 40, 40, 40, 40, 40, 45, 45, 45, 60, 60, 60, 60, 60, 60, 60,
                    60, 60, 60, 60, 60, 60, 60, 60,
                ],
                &[60; 5],
                5,
            ),
            // 30-bit levels under two 50-bit primes: 3 per digit, not 2
            (&[38, 30, 30, 30, 30, 30, 30, 30], &[50, 50], 3),
            // levels as large as P: |P| each
            (&[50, 40, 40, 40, 40, 40, 40], &[50, 50], 4),
            // levels larger than P: one prime each (SEAL's layouts)
            (&[60, 40, 40, 40, 40, 40, 40, 60], &[44], 8),
            (&[55, 55, 55], &[], 0),
        ];
        for (q, p, want) in cases {
            let params = Params::builder()
                .degree(1 << 16)
                .q_bits(q)
                .p_bits(p)
                .security(SecurityLevel::None)
                .build()
                .unwrap();
            let ranges = params.digit_ranges();
            assert_eq!(ranges.len(), want, "{q:?} {p:?}: {ranges:?}");
            assert_eq!(params.digits(), want);
            let big = |xs: &[u64]| xs.iter().map(|&x| BigUint::from(x)).product::<BigUint>();
            let p_prod = big(params.p());
            let qs = params.q();
            let mut next = 0;
            for r in ranges {
                assert_eq!(r.start, next);
                assert!(r.len() >= p.len().min(qs.len() - r.start), "{r:?}");
                if r.len() > p.len() {
                    assert!(big(&qs[r.clone()]) <= p_prod, "{r:?} passes P");
                }
                if r.end < qs.len() && r.len() >= p.len() {
                    assert!(big(&qs[r.start..=r.end]) > p_prod, "{r:?} not maximal");
                }
                next = r.end;
            }
            assert_eq!(next, if p.is_empty() { 0 } else { qs.len() });
            // below the top, a digit keeps its primes up to the level
            for level in 0..qs.len() {
                let tables = params.level_tables(level).unwrap();
                let got: Vec<_> = tables.digits.iter().map(|(r, _)| r.clone()).collect();
                let want: Vec<_> = ranges
                    .iter()
                    .filter(|r| r.start <= level)
                    .map(|r| r.start..r.end.min(level + 1))
                    .collect();
                assert_eq!(got, want);
            }
        }
    }

    #[test]
    fn insecure_parameters_are_rejected_unless_opted_out() {
        let b = Params::builder()
            .degree(4096)
            .q_bits(&[50, 50])
            .p_bits(&[20]);
        match b.clone().build() {
            Err(Error::InsecureParameters {
                degree: 4096,
                log_qp: 120,
                max_log_qp: 109,
                level: 128,
            }) => {}
            other => panic!("expected InsecureParameters, got {other:?}"),
        }
        assert!(b.security(SecurityLevel::None).build().is_ok());
        // 192-bit bound is tighter
        assert!(matches!(
            Params::builder()
                .degree(8192)
                .q_bits(&[60, 60, 40])
                .security(SecurityLevel::Bits192)
                .build(),
            Err(Error::InsecureParameters { .. })
        ));
    }

    #[test]
    fn bad_parameters_are_rejected() {
        assert!(matches!(
            Params::builder().degree(1000).q_bits(&[30]).build(),
            Err(Error::InvalidParameters { .. })
        ));
        assert!(matches!(
            Params::builder().degree(1024).build(),
            Err(Error::InvalidParameters { .. })
        ));
        // not ≡ 1 mod 2N
        assert!(matches!(
            Params::new(4096, vec![65537 * 2 + 1], vec![], SecurityLevel::None),
            Err(Error::InvalidParameters { .. })
        ));
        // duplicates
        let q = generate_primes(&[40], 4096, &[]).unwrap();
        assert!(matches!(
            Params::new(4096, vec![q[0], q[0]], vec![], SecurityLevel::Bits128),
            Err(Error::InvalidParameters { .. })
        ));
    }

    #[test]
    fn table_matches_standard() {
        assert_eq!(max_log_qp(8192, SecurityLevel::Bits128), Some(218));
        assert_eq!(max_log_qp(16384, SecurityLevel::Bits128), Some(438));
        assert_eq!(max_log_qp(32768, SecurityLevel::Bits256), Some(476));
        assert_eq!(max_log_qp(3000, SecurityLevel::Bits128), None);
    }
}
