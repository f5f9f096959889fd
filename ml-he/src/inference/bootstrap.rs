//! Bootstrapping in compiled graphs: the options, the bootstrapping chain
//! the compiler chooses, where the bootstraps go, how the values are
//! brought into the range bootstrapping takes, and the bootstrap step the
//! server runs.
//!
//! ## Chain
//! `q_0` of `scale_bits + 10` bits (the headroom [`ckks::Bootstrapper`]
//! needs over the scale Δ = 2^`scale_bits`), `levels` primes of
//! `scale_bits` bits for the circuit (the *user levels*: the client
//! encrypts at the top one, every bootstrap lands back on it), then
//! SlotsToCoeffs on 45-bit primes, EvalMod on 60-bit primes and
//! CoeffsToSlots on 60-bit primes ([`BootstrapConfig::chain`]), full
//! packing (`N/2` slots), and 60-bit special primes. At Δ = 2^40 a
//! bootstrap returns its slots within about 2^-24 of its range (2^-26.1
//! worst slot measured at N = 2^12); at 2^30 only 2^-17.7 (its output
//! noise is about 2^12 in units of the scale), hence the default
//! [`BootstrapOptions::scale_bits`] of 40.
//!
//! ## Placement
//! A step costs its levels (a linear block one, a square one, a polynomial
//! its depth); the circuit starts on the top user level and a bootstrap
//! (from any level: it reads level 0) brings it back there. Bootstraps go
//! as late as possible, which minimises their number, at positions whose
//! next step other than a square is a linear block (or the end): a linear
//! block takes its input at any scale for free, while a polynomial needs
//! its input at the scale of its level's prime (the scales of its
//! Chebyshev basis drift with every squaring otherwise), which the
//! bootstrap's range adjustment does not keep. A linear block and the
//! activation after it must therefore fit between two bootstraps, or the
//! compiler refuses with [`Error::TooDeep`].
//!
//! ## Range
//! Bootstrapping is correct for slot values `|μ| ≤ 1` relative to its input
//! scale Δ_b, and comes back at Δ_b. A value `v` at scale `ρ` is the integer
//! `v·ρ`; read at Δ_b it is `v·ρ/Δ_b`. So the compiler relabels (free) the
//! ciphertext to Δ_b before the bootstrap and makes sure that
//! `X·ρ ≤ Δ_b`, `X` the interval bound of the values (every slot, padding
//! included) for every input in the checked box: the step that fixes the
//! scale before the bootstrap — a linear block (its output scale), a
//! polynomial (its coefficients divided by `c`, its output read at `ρ/c`),
//! the input (its encoding scale) or the previous bootstrap (below) —
//! divides its scale by the smallest power of two `c` that does it
//! (through the squares in between, which square `c`). The bootstrap's
//! error is then about 2^-26 of its range `B = Δ_b/ρ ≥ X` in the values'
//! units (2^-22·B is the bound the tests use); a range above
//! 2^[`MAX_RANGE_BITS`] (less than about 4 bits left) is refused with
//! [`Error::PlanOverflow`].
//!
//! On the way out, the bootstrapped ciphertext holds `v/B` at Δ_b: it is
//! multiplied by the integer `m ≈ B` (no level; `m` smaller when the next
//! bootstrap before a linear block needs a smaller scale) and read at
//! `ρ·m ≈ Δ_b`. Relabelling it back to `ρ` instead would be free too, but
//! every later product would then add its noise (about 2^12 units of the
//! scale after a relinearization and rescale) at a scale `B` times smaller:
//! a square after a bootstrap of range 16 lost 6 bits that way.

use std::sync::Arc;

use ckks::bootstrap::{BootstrapKeys, ChainBits};
use ckks::{BootstrapConfig, Bootstrapper, Ciphertext, Evaluator, Parameters, SecurityLevel};

use crate::error::{Error, Result};

/// When the compiler bootstraps ([`CompileOptions::bootstrap`](super::CompileOptions::bootstrap)).
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Bootstrapping {
    /// Only when the graph is too deep for every ring without (N up to
    /// 32768 at 128-bit security): then with [`BootstrapOptions::default`]
    /// (N = 2^16, 128-bit secure; the client's bootstrapping keys take
    /// gigabytes). The default.
    #[default]
    WhenTooDeep,
    /// Never: a graph too deep is refused with [`Error::TooDeep`].
    Never,
    /// Always, with these parameters (bootstraps are placed where the
    /// levels run out, possibly none).
    Always(BootstrapOptions),
}

/// The ring of a bootstrapping chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BootstrapRing {
    /// N = 2^16, 2^15 slots, 128-bit secure by the HomomorphicEncryption.org
    /// table with every prime counted (`log2 QP` ≤ 1747; see the security
    /// argument for the ephemeral secret in [`ckks::bootstrap`]).
    N65536,
    /// N = 2^12 with `SecurityLevel::None`: **not secure**, a small ring
    /// for tests and examples (as [`ckks::BootstrapPreset::TestN4096`]).
    /// Clients accept its setup only when they opt in
    /// ([`Client::with_min_security`](super::Client::with_min_security)).
    TestN4096Insecure,
}

/// The bootstrapping parameters the compiler uses.
#[derive(Clone, Debug, PartialEq)]
pub struct BootstrapOptions {
    /// The ring.
    pub ring: BootstrapRing,
    /// log2 of the scale of the circuit and of the bootstraps (30 to 50).
    /// A bootstrap's error is about 2^(12 − scale_bits) of its range (its
    /// output noise) but no less than about 2^-26 (its approximations):
    /// 2^-17.7 measured at 30 bits, 2^-26.1 at 40 (the default).
    pub scale_bits: u32,
    /// Levels between bootstraps (primes of `scale_bits` bits); `None`: as
    /// many as 128-bit security allows for [`BootstrapRing::N65536`] (9 at
    /// 2^40), 8 for the test ring.
    pub levels: Option<usize>,
}

impl Default for BootstrapOptions {
    fn default() -> Self {
        Self {
            ring: BootstrapRing::N65536,
            scale_bits: 40,
            levels: None,
        }
    }
}

/// Bootstrapped values may span at most 2^`MAX_RANGE_BITS` (the bootstrap
/// keeps about 24 bits of its range).
pub const MAX_RANGE_BITS: i32 = 20;

/// Default user levels of the test ring.
const TEST_LEVELS: usize = 8;
/// Most user levels the compiler builds (the test ring has no security
/// bound; this keeps its chain within what a setup may name).
const MAX_LEVELS: usize = 40;

/// A bootstrapping chain: the parameters, the bootstrapper's
/// configuration, the user levels.
pub(crate) struct Chain {
    pub params: Parameters,
    pub config: BootstrapConfig,
    pub levels: usize,
}

/// The chain for `options` (see the module docs).
pub(crate) fn chain(options: &BootstrapOptions) -> Result<Chain> {
    let s = options.scale_bits;
    if !(30..=50).contains(&s) {
        return Err(Error::OutOfRange(format!(
            "bootstrapping scale of 2^{s}: between 2^30 and 2^50"
        )));
    }
    let (degree, p_bits, security) = match options.ring {
        BootstrapRing::N65536 => (1usize << 16, vec![60u32; 5], SecurityLevel::Bits128),
        BootstrapRing::TestN4096Insecure => (1 << 12, vec![60u32; 3], SecurityLevel::None),
    };
    let mut config = BootstrapConfig::new(degree / 2, ckks_pow2(s));
    if options.ring == BootstrapRing::N65536 {
        // 15 FFT stages in 3 levels each way (as BootstrapPreset::N65536):
        // a fourth level each would cost two user levels
        config.coeffs_to_slots_levels = 3;
        config.slots_to_coeffs_levels = 3;
    }
    let bits = ChainBits {
        q0: s + 10,
        user: s,
        slots_to_coeffs: 45,
        eval_mod: 60,
        coeffs_to_slots: 60,
    };
    let fixed: u32 = config.chain(0, bits)?.iter().chain(&p_bits).sum();
    let budget = rlwe::params::max_log_qp(degree, security).unwrap_or(0);
    let most = (budget.saturating_sub(fixed) / s) as usize;
    let most = most.min(MAX_LEVELS);
    let levels = match options.levels {
        Some(l) if l == 0 || l > most => {
            return Err(Error::OutOfRange(format!(
                "{l} levels between bootstraps: 1 to {most} at N = {degree} and scale 2^{s}{}",
                if security == SecurityLevel::None {
                    ""
                } else {
                    " (128-bit security)"
                }
            )))
        }
        Some(l) => l,
        None if security == SecurityLevel::None => TEST_LEVELS.min(most),
        None => most,
    };
    if levels == 0 {
        return Err(Error::OutOfRange(format!(
            "no level left between bootstraps at N = {degree} and scale 2^{s}"
        )));
    }
    let params = Parameters::builder()
        .degree(degree)
        .q_bits(&config.chain(levels, bits)?)
        .p_bits(&p_bits)
        .scale_bits(s)
        .security(security)
        .build()?;
    Ok(Chain {
        params,
        config,
        levels,
    })
}

fn ckks_pow2(bits: u32) -> f64 {
    2f64.powi(bits as i32)
}

/// What a step is, for placement and range planning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Linear,
    Square,
    Poly,
}

/// A run of steps `from..=to` that no allowed bootstrap position splits
/// and that needs more levels than there are between bootstraps.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Unsplittable {
    pub from: usize,
    pub to: usize,
    pub levels: usize,
}

/// Whether a bootstrap may run before step `p`: the next step other than a
/// square is a linear block, or there is none.
fn allowed(kinds: &[(Kind, usize)], p: usize) -> bool {
    kinds[p..]
        .iter()
        .find(|(k, _)| *k != Kind::Square)
        .is_none_or(|(k, _)| *k == Kind::Linear)
}

/// The positions of the bootstraps (a bootstrap runs before step `p`),
/// increasing: each as late as the levels allow among the allowed
/// positions, which gives the fewest bootstraps (every segment between two
/// bootstraps must fit in `levels`, and a segment that fits still fits
/// shortened).
pub(crate) fn place(
    kinds: &[(Kind, usize)],
    levels: usize,
) -> std::result::Result<Vec<usize>, Unsplittable> {
    let mut boots = Vec::new();
    let (mut last, mut left, mut i) = (0usize, levels, 0usize);
    while i < kinds.len() {
        let d = kinds[i].1;
        if d <= left {
            left -= d;
            i += 1;
            continue;
        }
        match (last + 1..=i).rev().find(|&p| allowed(kinds, p)) {
            Some(p) => {
                boots.push(p);
                last = p;
                left = levels;
                i = p;
            }
            None => {
                return Err(Unsplittable {
                    from: last,
                    to: i,
                    levels: kinds[last..=i].iter().map(|k| k.1).sum(),
                })
            }
        }
    }
    Ok(boots)
}

/// The steps and value bounds a range divisor is planned over.
pub(crate) struct RangePlan<'a> {
    /// Kind and levels of each step.
    pub kinds: &'a [(Kind, usize)],
    /// Bootstrap positions.
    pub boots: &'a [usize],
    /// Per step: the largest absolute value of its output in any slot.
    pub values: &'a [f64],
    /// The bootstraps' input scale Δ_b.
    pub delta: f64,
}

impl RangePlan<'_> {
    /// The smallest power of two `c ≥ 1` to divide the scale `rho` of a
    /// step's output (at `level`, before step `next`) by so that the
    /// bootstrap up to the next linear block or polynomial, if any,
    /// receives values within `[−1, 1]`: a bootstrap before step `p` needs
    /// `X·ρ_p ≤ Δ_b` with `X` the bound of step `p − 1`, and `ρ_p` is
    /// `rho/c` squared once per square in between (and divided by its
    /// prime). `after_boot`: the step is the bootstrap before `next`
    /// itself (its output scale is chosen too), so the window starts past it.
    pub fn divisor(
        &self,
        next: usize,
        rho: f64,
        level: usize,
        after_boot: bool,
        prime: impl Fn(usize) -> Result<f64>,
    ) -> Result<f64> {
        let (mut rho, mut level, mut squares) = (rho, level, 0i32);
        let mut need = 1f64;
        let mut j = next;
        loop {
            let own = after_boot && j == next;
            if !own && j > 0 && self.boots.binary_search(&j).is_ok() {
                let x = self.values.get(j - 1).copied().unwrap_or(f64::INFINITY);
                need = (x * rho / self.delta).powf(0.5f64.powi(squares));
                break;
            }
            match self.kinds.get(j) {
                Some((Kind::Square, _)) => {
                    let q = prime(level)?;
                    rho = rho * rho / q;
                    level = level.saturating_sub(1);
                    squares += 1;
                    j += 1;
                }
                _ => break,
            }
        }
        if !need.is_finite() {
            return Err(Error::OutOfRange(
                "a value bound before a bootstrap is not finite".into(),
            ));
        }
        // a power of two, rounded up (a hair of floating-point slack)
        Ok(2f64.powi((need.log2() - 1e-9).ceil().max(0.0) as i32))
    }
}

/// The bootstrapper a compiled circuit runs, and where.
pub(crate) struct Plan {
    pub boot: Arc<Bootstrapper>,
    pub positions: Vec<usize>,
    pub levels: usize,
}

/// Bootstraps `ct` (values `v` at `scale`, with `|v|·scale ≤ Δ_b` checked
/// at compile time): relabelled to Δ_b (`v·scale/Δ_b` in `[−1, 1]`),
/// bootstrapped, multiplied by the integer `mult` (no level: the units of
/// the scale grow back) and relabelled to `scale·mult`, so the result holds
/// `v` at `scale·mult` on the top user level.
pub(crate) fn run(
    eval: &Evaluator,
    boot: &Bootstrapper,
    keys: &BootstrapKeys,
    ct: &Ciphertext,
    scale: f64,
    mult: u64,
) -> Result<Ciphertext> {
    if ((ct.scale() - scale) / scale).abs() > 1e-9 {
        return Err(Error::Ckks(ckks::Error::ScaleMismatch {
            what: "bootstrap input differs from the circuit plan",
            left_bits: ct.scale().log2(),
            right_bits: scale.log2(),
        }));
    }
    let mut x = ct.clone();
    x.set_scale(boot.config().input_scale)?;
    let mut y = boot.bootstrap(eval, &x, keys)?;
    if mult > 1 {
        let k = i64::try_from(mult)
            .map_err(|_| Error::OutOfRange(format!("bootstrap multiplier {mult}")))?;
        y = eval.mul_integer(&y, k)?;
    }
    y.set_scale(scale * mult as f64)?;
    Ok(y)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<(Kind, usize)> {
        s.split_whitespace()
            .map(|t| match t {
                "L" => (Kind::Linear, 1),
                "S" => (Kind::Square, 1),
                p => (Kind::Poly, p[1..].parse().unwrap_or(1)),
            })
            .collect()
    }

    /// 12 one-level steps on 4 levels: 2 bootstraps, as late as allowed.
    #[test]
    fn bootstraps_go_as_late_as_allowed() {
        let k = kinds("L S L S L S L S L S L S");
        assert_eq!(place(&k, 4), Ok(vec![4, 8]));
        assert_eq!(place(&k, 12), Ok(vec![]));
        // before a polynomial is not allowed: the bootstrap moves before
        // the linear block that feeds it
        let k = kinds("L S L P3 L");
        assert_eq!(place(&k, 4), Ok(vec![2, 4]));
        // squares between the bootstrap and a linear block are fine
        let k = kinds("L S S S S L");
        assert_eq!(place(&k, 3), Ok(vec![3]));
        // a linear block and its activation deeper than the chain
        let k = kinds("L S L P6 L");
        assert_eq!(
            place(&k, 6),
            Err(Unsplittable {
                from: 2,
                to: 3,
                levels: 7
            })
        );
    }

    /// The default chain: N = 2^16 within the 1747 bits of 128-bit
    /// security, 9 levels of 2^40 between bootstraps (a 10th does not fit).
    #[test]
    fn the_default_chain_is_128_bit_secure() {
        let c = chain(&BootstrapOptions::default()).expect("chain");
        let rp = c.params.rlwe();
        assert_eq!(rp.degree(), 1 << 16);
        assert_eq!(rp.security(), SecurityLevel::Bits128);
        assert!(rp.log_qp() <= 1747, "{}", rp.log_qp());
        assert_eq!(c.levels, 9);
        assert_eq!(c.config.slots, 1 << 15);
        assert_eq!(
            c.params.max_level() - c.levels,
            c.config.depth().unwrap_or(0)
        );
        let more = BootstrapOptions {
            levels: Some(10),
            ..BootstrapOptions::default()
        };
        assert!(matches!(chain(&more), Err(Error::OutOfRange(_))));
    }

    /// The divisor squares through squares: a bound of 9 two squares after
    /// a block at scale Δ needs c with c⁴ ≥ 9 (c = 2).
    #[test]
    fn divisor_accounts_for_squares() {
        let k = kinds("L S S L");
        let values = [1.0, 1.0, 9.0, 1.0];
        let delta = 2f64.powi(40);
        let plan = RangePlan {
            kinds: &k,
            boots: &[3],
            values: &values,
            delta,
        };
        // primes exactly Δ: the scale stays Δ through the squares
        let c = plan
            .divisor(1, delta, 3, false, |_| Ok(delta))
            .unwrap_or(0.0);
        assert_eq!(c, 2.0);
        let small = [1.0, 1.0, 0.5, 1.0];
        let plan = RangePlan {
            values: &small,
            ..plan
        };
        assert_eq!(
            plan.divisor(1, delta, 3, false, |_| Ok(delta))
                .unwrap_or(0.0),
            1.0
        );
        // the bootstrap's own output: its window starts past it
        let plan = RangePlan {
            values: &values,
            ..plan
        };
        assert_eq!(
            plan.divisor(3, delta, 4, true, |_| Ok(delta))
                .unwrap_or(0.0),
            1.0
        );
    }
}
