//! Fixed-width bit packing of signed values in known ranges (proof
//! responses), with a decoder that checks every length and range.

use crate::{Error, Result};

/// Bits to write a value of `[−r, r]` shifted to `[0, 2r]`.
pub fn width(r: u64) -> u32 {
    64 - (2 * r).leading_zeros()
}

/// Bits to write a value of `[−r, r]` (`r < 2^119`) shifted to `[0, 2r]`.
pub fn width_wide(r: u128) -> u32 {
    128 - (2 * r).leading_zeros()
}

/// A little-endian bit writer.
#[derive(Default)]
pub struct BitWriter {
    out: Vec<u8>,
    acc: u128,
    n: u32,
}

impl BitWriter {
    /// A writer appending to `out`.
    pub fn new(out: Vec<u8>) -> Self {
        Self { out, acc: 0, n: 0 }
    }

    /// Writes `x` (which must be in `[−r, r]`) in [`width`]`(r)` bits.
    pub fn put(&mut self, x: i64, r: u64) {
        debug_assert!(x.unsigned_abs() <= r);
        let v = (x + r as i64) as u64;
        self.acc |= (v as u128) << self.n;
        self.n += width(r);
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    /// Writes `x` (which must be in `[−r, r]`, `r < 2^119`) in
    /// [`width_wide`]`(r)` bits.
    pub fn put_wide(&mut self, x: i128, r: u128) {
        debug_assert!(x.unsigned_abs() <= r && r < 1 << 119);
        let mut v = (x + r as i128) as u128;
        let mut b = width_wide(r);
        // Two halves keep the accumulator (≤ 7 pending bits) within 128.
        while b > 0 {
            let take = b.min(64);
            self.acc |= (v & ((1u128 << take) - 1)) << self.n;
            self.n += take;
            v >>= take;
            b -= take;
            while self.n >= 8 {
                self.out.push(self.acc as u8);
                self.acc >>= 8;
                self.n -= 8;
            }
        }
    }

    /// The bytes, the last one zero-padded.
    pub fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

/// A little-endian bit reader over exactly the bytes a writer produced.
pub struct BitReader<'a> {
    bytes: &'a [u8],
    pos: usize,
    acc: u128,
    n: u32,
    what: &'static str,
}

impl<'a> BitReader<'a> {
    /// A reader of `bytes` (errors name `what`).
    pub fn new(bytes: &'a [u8], what: &'static str) -> Self {
        Self {
            bytes,
            pos: 0,
            acc: 0,
            n: 0,
            what,
        }
    }

    /// Reads a value written by [`BitWriter::put`] with range `r`;
    /// [`Error::Malformed`] if the bytes run out or the value is outside
    /// `[−r, r]`.
    pub fn get(&mut self, r: u64) -> Result<i64> {
        let v = self.bits(width(r))? as u64;
        if v > 2 * r {
            return Err(Error::Malformed {
                what: self.what,
                reason: format!("value {} outside ±{r}", v as i128 - r as i128),
            });
        }
        Ok(v as i64 - r as i64)
    }

    /// Reads a value written by [`BitWriter::put_wide`] with range `r`;
    /// [`Error::Malformed`] if the bytes run out or the value is outside
    /// `[−r, r]`.
    pub fn get_wide(&mut self, r: u128) -> Result<i128> {
        let b = width_wide(r);
        let mut v = 0u128;
        let mut got = 0;
        while got < b {
            let take = (b - got).min(64);
            v |= self.bits(take)? << got;
            got += take;
        }
        if v > 2 * r {
            return Err(Error::Malformed {
                what: self.what,
                reason: format!("value outside ±{r}"),
            });
        }
        Ok(v as i128 - r as i128)
    }

    /// The next `b ≤ 64` bits.
    fn bits(&mut self, b: u32) -> Result<u128> {
        while self.n < b {
            let Some(&byte) = self.bytes.get(self.pos) else {
                return Err(Error::Malformed {
                    what: self.what,
                    reason: "truncated".into(),
                });
            };
            self.acc |= (byte as u128) << self.n;
            self.n += 8;
            self.pos += 1;
        }
        let v = self.acc & ((1u128 << b) - 1);
        self.acc >>= b;
        self.n -= b;
        Ok(v)
    }

    /// Errors unless every byte was read and the padding bits are zero.
    pub fn finish(self) -> Result<()> {
        if self.pos != self.bytes.len() || self.acc != 0 {
            return Err(Error::Malformed {
                what: self.what,
                reason: "trailing bytes or non-zero padding".into(),
            });
        }
        Ok(())
    }
}
