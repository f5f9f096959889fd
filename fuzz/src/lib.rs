//! Shared pieces of the hekit fuzz targets: deterministic fixtures (small but
//! valid parameters and keys, built once per process) and a structured
//! mutator that edits a *valid* serialized object.
//!
//! Every target reads its input as `[selector, rest…]`:
//!
//! * `selector & 0x7f` picks the object kind (target specific);
//! * `selector & 0x80 == 0`: `rest` is taken as the raw bytes of the object;
//! * `selector & 0x80 != 0`: `rest` is a list of edit operations applied to a
//!   valid serialized object of that kind ([`mutate`]), so that the fuzzer
//!   gets past the envelope checks with small inputs even when the valid
//!   object is hundreds of kilobytes.
//!
//! The fixtures are seeded with fixed ChaCha20 seeds, so the seeds written
//! by `gen_seeds` (raw mode) are valid for the keys the targets build.

use std::sync::OnceLock;

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

pub mod fixtures;

/// Fixed-seed generator for fixtures (`tag` separates the streams).
pub fn rng(tag: u8) -> ChaCha20Rng {
    let mut seed = [0x5au8; 32];
    seed[0] = tag;
    ChaCha20Rng::from_seed(seed)
}

/// Input split into the selector's kind, mode and the rest.
pub struct Input<'a> {
    /// Object kind (`selector & 0x7f`).
    pub kind: u8,
    /// Structured mode: `rest` are edit operations on a valid object.
    pub structured: bool,
    /// The remaining bytes.
    pub rest: &'a [u8],
}

impl<'a> Input<'a> {
    /// Splits `data`; `None` when empty.
    pub fn parse(data: &'a [u8]) -> Option<Self> {
        let (&sel, rest) = data.split_first()?;
        Some(Self {
            kind: sel & 0x7f,
            structured: sel & 0x80 != 0,
            rest,
        })
    }

    /// The object's bytes: `rest` in raw mode, `mutate(valid, rest)` in
    /// structured mode.
    pub fn bytes(&self, valid: &[u8]) -> Vec<u8> {
        if self.structured {
            mutate(valid, self.rest)
        } else {
            self.rest.to_vec()
        }
    }
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.0.len());
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).first().copied()
    }
    fn le(&mut self, n: usize) -> u64 {
        let mut w = [0u8; 8];
        let b = self.take(n);
        w[..b.len()].copy_from_slice(b);
        u64::from_le_bytes(w)
    }
}

/// Values worth planting in length and count fields.
const INTERESTING: [u64; 12] = [
    0,
    1,
    2,
    0x7f,
    0xff,
    0xffff,
    0x1_0000,
    0x7fff_ffff,
    0xffff_ffff,
    0x1_0000_0000,
    u64::MAX / 2,
    u64::MAX,
];

/// Applies up to 32 edit operations read from `ops` to a copy of `base`.
///
/// Each operation is one opcode byte and a little-endian `u32` position
/// (taken modulo the current length + 1), then operands:
/// `0` set byte, `1` flip bit, `2` write `u32`, `3` write `u64`,
/// `4` write an interesting `u64`, `5` truncate, `6` insert bytes,
/// `7` delete a range, `8` duplicate a range at the end, `9` add to a byte.
pub fn mutate(base: &[u8], ops: &[u8]) -> Vec<u8> {
    let mut out = base.to_vec();
    let mut r = Reader(ops);
    for _ in 0..32 {
        let Some(op) = r.u8() else { break };
        let raw = r.le(4) as usize;
        let len = out.len();
        let pos = raw % (len + 1);
        let write = |out: &mut Vec<u8>, bytes: &[u8]| {
            let end = (pos + bytes.len()).min(out.len());
            let n = end.saturating_sub(pos);
            out[pos..end].copy_from_slice(&bytes[..n]);
        };
        match op % 10 {
            0 => {
                let v = r.u8().unwrap_or(0);
                if pos < len {
                    out[pos] = v;
                }
            }
            1 => {
                let b = r.u8().unwrap_or(0) % 8;
                if pos < len {
                    out[pos] ^= 1 << b;
                }
            }
            2 => {
                let v = r.le(4) as u32;
                write(&mut out, &v.to_le_bytes());
            }
            3 => {
                let v = r.le(8);
                write(&mut out, &v.to_le_bytes());
            }
            4 => {
                let v = INTERESTING[r.u8().unwrap_or(0) as usize % INTERESTING.len()];
                write(&mut out, &v.to_le_bytes());
            }
            5 => out.truncate(pos),
            6 => {
                let n = r.u8().unwrap_or(0) as usize;
                let bytes = r.take(n).to_vec();
                out.splice(pos..pos, bytes);
            }
            7 => {
                let n = r.le(2) as usize;
                let end = (pos + n).min(len);
                out.drain(pos..end);
            }
            8 => {
                let n = r.le(2) as usize;
                let end = (pos + n).min(len);
                let chunk = out[pos..end].to_vec();
                out.extend_from_slice(&chunk);
            }
            _ => {
                let v = r.u8().unwrap_or(1);
                if pos < len {
                    out[pos] = out[pos].wrapping_add(v);
                }
            }
        }
    }
    out
}

/// A value computed once per process.
pub struct Lazy<T>(OnceLock<T>);

impl<T> Lazy<T> {
    /// Empty.
    pub const fn new() -> Self {
        Self(OnceLock::new())
    }

    /// The value, computing it with `f` the first time.
    pub fn get(&self, f: impl FnOnce() -> T) -> &T {
        self.0.get_or_init(f)
    }
}

impl<T> Default for Lazy<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Seeds of one target: `(selector byte, body)`; raw-mode seeds are
/// `[kind] ++ valid bytes`, structured-mode seeds `[kind | 0x80] ++ ops`.
pub type Seeds = Vec<Vec<u8>>;

/// A raw-mode seed.
pub fn raw_seed(kind: u8, bytes: &[u8]) -> Vec<u8> {
    let mut v = vec![kind & 0x7f];
    v.extend_from_slice(bytes);
    v
}

/// A structured-mode seed (edit operations `ops` on the valid object).
pub fn structured_seed(kind: u8, ops: &[u8]) -> Vec<u8> {
    let mut v = vec![kind | 0x80];
    v.extend_from_slice(ops);
    v
}

/// A few structured seeds for `kind`: the valid object unchanged, truncated
/// in the middle, a flipped byte after the envelope header, a huge length
/// planted after the header.
pub fn structured_seeds(kind: u8) -> Seeds {
    vec![
        structured_seed(kind, &[]),
        // truncate at position 60
        structured_seed(kind, &[5, 60, 0, 0, 0]),
        // flip bit 0 of byte 50
        structured_seed(kind, &[1, 50, 0, 0, 0, 0]),
        // u64::MAX at the first body field after an rlwe envelope header
        // (all-ones bytes: an over-long postcard varint)
        structured_seed(kind, &[4, rlwe::serialize::HEADER_LEN as u8, 0, 0, 0, 11]),
        // 0xffff_ffff at byte 8
        structured_seed(kind, &[4, 8, 0, 0, 0, 8]),
    ]
}
