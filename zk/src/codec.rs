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
        if self.n < b {
            // Eight bytes at once while they last (n < b ≤ 64: the
            // accumulator holds n + 64 < 128 bits).
            if let Some(word) = self.bytes.get(self.pos..self.pos + 8) {
                let mut w = [0u8; 8];
                w.copy_from_slice(word);
                self.acc |= (u64::from_le_bytes(w) as u128) << self.n;
                self.n += 64;
                self.pos += 8;
            }
        }
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
        // Read-ahead leaves fewer than 8 unread bits only if no whole byte
        // is left over.
        if self.pos != self.bytes.len() || self.n >= 8 || self.acc != 0 {
            return Err(Error::Malformed {
                what: self.what,
                reason: "trailing bytes or non-zero padding".into(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Values of mixed (narrow, 63-bit and wide) ranges round-trip; a
    /// trailing byte — even zero —, a truncated buffer and a value past its
    /// range are refused.
    #[test]
    fn round_trip_and_refusals() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(5);
        let items: Vec<(u128, i128)> = (0..3000)
            .map(|i| {
                let r: u128 = match i % 3 {
                    0 => rng.gen_range(1..1000),
                    1 => rng.gen_range(1..(1u128 << 62)),
                    _ => rng.gen_range(1..(1u128 << 110)),
                };
                (r, rng.gen_range(-(r as i128)..=r as i128))
            })
            .collect();
        let mut w = BitWriter::new(Vec::new());
        for &(r, x) in &items {
            if r < 1 << 62 {
                w.put(x as i64, r as u64);
            } else {
                w.put_wide(x, r);
            }
        }
        let bytes = w.finish();
        let read = |bytes: &[u8]| -> Result<()> {
            let mut rd = BitReader::new(bytes, "test");
            for &(r, x) in &items {
                let got = if r < 1 << 62 {
                    i128::from(rd.get(r as u64)?)
                } else {
                    rd.get_wide(r)?
                };
                assert_eq!(got, x);
            }
            rd.finish()
        };
        read(&bytes).unwrap();
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(read(&longer).is_err());
        assert!(read(&bytes[..bytes.len() - 1]).is_err());
        // 5 in a range of ±2 (width 3 bits: 7 > 4)
        let mut w = BitWriter::new(Vec::new());
        w.put(2, 3);
        let mut rd = BitReader::new(&[7u8], "test");
        assert!(rd.get(2).is_err());
        assert_eq!(w.finish(), vec![5]);
    }
}
