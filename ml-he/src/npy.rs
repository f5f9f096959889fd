//! NumPy `.npy` files: the one reader and writer of the workspace (the
//! ONNX fixtures' inputs and outputs, `hekit-mpc`'s party inputs).
//!
//! Read: format versions 1.0, 2.0 and 3.0, C order, little-endian
//! `float64`, `float32`, `uint8`, `int64` and `int32`, every value widened
//! to `f64` (exactly, but for integers beyond 2^53). Written: format 1.0,
//! little-endian `float64`, C order.
//!
//! ```
//! use ml_he::npy;
//! let bytes = npy::write_npy(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0])?;
//! let (shape, values) = npy::read_npy(&bytes)?;
//! assert_eq!((shape, values[5]), (vec![2, 3], 6.0));
//! # Ok::<(), ml_he::Error>(())
//! ```
//!
//! The reader is written here (no dependency) rather than taken from a
//! crate: the maintained ones (`npyz`, `ndarray-npy`) bring a Python-literal
//! parser or `ndarray` for what is a fixed preamble, a small dict and raw
//! little-endian numbers. Errors are [`Error::Data`] saying what is wrong
//! (dtype, order, shape, truncation); no input makes it panic.

use std::path::Path;

use crate::error::{Error, Result};

/// The magic string every `.npy` file starts with.
pub const MAGIC: &[u8; 6] = b"\x93NUMPY";
/// Headers longer than this are refused (numpy itself refuses beyond
/// 10,000 bytes unless told otherwise).
pub const MAX_HEADER: usize = 10_000;

/// The element type of an array this reader accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dtype {
    /// `<f8`.
    F64,
    /// `<f4`.
    F32,
    /// `|u1`.
    U8,
    /// `<i8`.
    I64,
    /// `<i4`.
    I32,
}

impl Dtype {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Self::F64 | Self::I64 => 8,
            Self::F32 | Self::I32 => 4,
            Self::U8 => 1,
        }
    }

    /// NumPy's `descr` of the type (`"<f8"`, `"|u1"`, …).
    pub fn descr(self) -> &'static str {
        match self {
            Self::F64 => "<f8",
            Self::F32 => "<f4",
            Self::U8 => "|u1",
            Self::I64 => "<i8",
            Self::I32 => "<i4",
        }
    }

    /// Whether it is a floating-point type.
    pub fn is_float(self) -> bool {
        matches!(self, Self::F64 | Self::F32)
    }

    /// Decodes little-endian elements to `f64` (trailing bytes of a partial
    /// element are ignored).
    pub fn decode(self, b: &[u8]) -> Vec<f64> {
        fn le<const N: usize>(b: &[u8], f: impl Fn([u8; N]) -> f64) -> Vec<f64> {
            b.chunks_exact(N)
                .map(|c| {
                    let mut a = [0u8; N];
                    a.copy_from_slice(c);
                    f(a)
                })
                .collect()
        }
        match self {
            Self::F64 => le(b, f64::from_le_bytes),
            Self::F32 => le(b, |a| f32::from_le_bytes(a) as f64),
            Self::U8 => b.iter().map(|&v| v as f64).collect(),
            Self::I64 => le(b, |a| i64::from_le_bytes(a) as f64),
            Self::I32 => le(b, |a| i32::from_le_bytes(a) as f64),
        }
    }

    /// Every type the reader knows.
    pub const ALL: [Self; 5] = [Self::F64, Self::F32, Self::U8, Self::I64, Self::I32];

    /// NumPy's name of the type (`"float64"`, …).
    pub fn name(self) -> &'static str {
        match self {
            Self::F64 => "float64",
            Self::F32 => "float32",
            Self::U8 => "uint8",
            Self::I64 => "int64",
            Self::I32 => "int32",
        }
    }

    fn of(d: &str, accepted: &[Self]) -> std::result::Result<Self, String> {
        if let Some(t) = accepted
            .iter()
            .find(|t| t.descr() == d || (**t == Self::U8 && d == "<u1"))
        {
            return Ok(*t);
        }
        if d.starts_with('>') && Self::ALL.iter().any(|t| t.descr()[1..] == d[1..]) {
            return Err(format!(
                "big-endian dtype {d:?}; save little-endian float64 (a.astype('<f8'))"
            ));
        }
        let names: Vec<String> = accepted
            .iter()
            .map(|t| format!("{} ('{}')", t.name(), t.descr()))
            .collect();
        let needed = match names.split_last() {
            None => "nothing".to_string(),
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        };
        Err(format!(
            "dtype {d:?} ({}); {needed} is needed",
            dtype_kind(d)
        ))
    }
}

/// What kind of values a NumPy `descr` holds, in words (`"signed
/// integers"`, `"float16"`, …), for error messages.
pub fn dtype_kind(descr: &str) -> &'static str {
    let t = descr.trim_start_matches(['<', '>', '|', '=']);
    match t {
        "f4" | "f8" => "floats",
        "i1" | "i2" | "i4" | "i8" => "signed integers",
        "u1" | "u2" | "u4" | "u8" => "unsigned integers",
        "b1" => "booleans",
        "f2" => "float16",
        "f16" | "f12" => "long double",
        "c8" | "c16" | "c32" => "complex numbers",
        "O" => "Python objects",
        _ if t.starts_with('U') || t.starts_with('S') => "strings",
        _ => "unsupported",
    }
}

/// A parsed `.npy` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Format version (major, minor).
    pub version: (u8, u8),
    /// Element type.
    pub dtype: Dtype,
    /// Shape (C order); empty for a 0-d array.
    pub shape: Vec<usize>,
    /// Offset of the data from the start of the file.
    pub data_offset: usize,
}

impl Header {
    /// Parses the header at the start of `b`, which must hold at least the
    /// whole header (at most `12 + MAX_HEADER` bytes are looked at). The
    /// data is not checked: see [`Header::data_len`].
    pub fn parse(b: &[u8]) -> Result<Self> {
        Self::parse_accepting(b, &Dtype::ALL)
    }

    /// [`Header::parse`] accepting only the element types `accepted` (the
    /// error lists them).
    pub fn parse_accepting(b: &[u8], accepted: &[Dtype]) -> Result<Self> {
        Self::parse_str(b, accepted).map_err(Error::Data)
    }

    /// The number of elements (`None` when it overflows).
    pub fn numel(&self) -> Option<usize> {
        self.shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d))
    }

    /// The number of data bytes the header announces (`None` when it
    /// overflows).
    pub fn data_len(&self) -> Option<usize> {
        self.numel()?.checked_mul(self.dtype.size())
    }

    /// The shape as NumPy prints it: `(3,)`, `(2, 4)`, `()`.
    pub fn shape_str(&self) -> String {
        match self.shape.as_slice() {
            [a] => format!("({a},)"),
            s => format!(
                "({})",
                s.iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// Checks that `have` data bytes are what the header announces; the
    /// error says "truncated" or "trailing bytes".
    pub fn check_data_len(&self, have: u64) -> Result<()> {
        let n = self
            .data_len()
            .ok_or_else(|| Error::Data(format!("shape {} overflows", self.shape_str())))?;
        if have != n as u64 {
            return Err(Error::Data(format!(
                "{have} data bytes, shape {} of {:?} needs {n} ({})",
                self.shape_str(),
                self.dtype,
                if have < n as u64 {
                    "truncated"
                } else {
                    "trailing bytes"
                }
            )));
        }
        Ok(())
    }

    fn parse_str(b: &[u8], accepted: &[Dtype]) -> std::result::Result<Self, String> {
        if b.len() < 10 || &b[..6] != MAGIC {
            return Err("not a .npy file (no \\x93NUMPY magic)".into());
        }
        let version = (b[6], b[7]);
        let (hlen, start) = match version {
            (1, 0) => (u16::from_le_bytes([b[8], b[9]]) as usize, 10),
            (2, 0) | (3, 0) => {
                if b.len() < 12 {
                    return Err("truncated header".into());
                }
                (u32::from_le_bytes([b[8], b[9], b[10], b[11]]) as usize, 12)
            }
            (a, c) => {
                return Err(format!(
                    ".npy format version {a}.{c} (1.0, 2.0 and 3.0 are read)"
                ))
            }
        };
        if hlen > MAX_HEADER {
            return Err(format!("header of {hlen} bytes (at most {MAX_HEADER})"));
        }
        let raw = b
            .get(start..start + hlen)
            .ok_or_else(|| "truncated header".to_string())?;
        let text: String = if version.0 == 3 {
            std::str::from_utf8(raw)
                .map_err(|_| "header is not UTF-8".to_string())?
                .to_string()
        } else {
            raw.iter().map(|&c| c as char).collect() // latin-1
        };
        if !text.ends_with('\n') {
            return Err("header does not end with a newline".into());
        }
        let (mut descr, mut fortran, mut shape) = (None, None, None);
        for (k, v) in parse_dict(&text)? {
            let slot_taken = match k.as_str() {
                "descr" => descr.replace(v).is_some(),
                "fortran_order" => fortran.replace(v).is_some(),
                "shape" => shape.replace(v).is_some(),
                other => return Err(format!("unexpected header key {other:?}")),
            };
            if slot_taken {
                return Err(format!("header key {k:?} twice"));
            }
        }
        let dtype = match descr {
            Some(Value::Str(d)) => Dtype::of(&d, accepted)?,
            Some(Value::List) => {
                return Err("a structured dtype; a plain numeric array is needed".into())
            }
            Some(_) => return Err("descr is not a string".into()),
            None => return Err("header has no 'descr'".into()),
        };
        match fortran {
            Some(Value::Bool(false)) => {}
            Some(Value::Bool(true)) => {
                return Err("Fortran-order array; save a C-order one (np.ascontiguousarray)".into())
            }
            Some(_) => return Err("fortran_order is not True or False".into()),
            None => return Err("header has no 'fortran_order'".into()),
        }
        let shape = match shape {
            Some(Value::Tuple(s)) => s,
            Some(_) => return Err("shape is not a tuple".into()),
            None => return Err("header has no 'shape'".into()),
        };
        Ok(Self {
            version,
            dtype,
            shape,
            data_offset: start + hlen,
        })
    }
}

/// Reads a whole `.npy` file's bytes: its shape and its values as `f64`.
pub fn read_npy(bytes: &[u8]) -> Result<(Vec<usize>, Vec<f64>)> {
    let h = Header::parse(bytes)?;
    let data = &bytes[h.data_offset.min(bytes.len())..];
    h.check_data_len(data.len() as u64)?;
    Ok((h.shape.clone(), h.dtype.decode(data)))
}

/// Reads a `.npy` file ([`read_npy`]); errors name the file.
pub fn read_npy_file(path: impl AsRef<Path>) -> Result<(Vec<usize>, Vec<f64>)> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::Data(format!("{}: {e}", path.display())))?;
    read_npy(&bytes).map_err(|e| match e {
        Error::Data(m) => Error::Data(format!("{}: {m}", path.display())),
        e => e,
    })
}

/// The bytes of a `.npy` file (format 1.0, little-endian float64, C order)
/// of `shape` holding `data`.
pub fn write_npy(shape: &[usize], data: &[f64]) -> Result<Vec<u8>> {
    if shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)) != Some(data.len()) {
        return Err(Error::Shape(format!(
            "shape {shape:?} does not hold {} values",
            data.len()
        )));
    }
    let dims = match shape {
        [a] => format!("({a},)"),
        s => format!(
            "({})",
            s.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {dims}, }}");
    // magic (6) + version (2) + length (2) + header, padded to 64 with a
    // final newline
    let total = (10 + header.len() + 1).div_ceil(64) * 64;
    while 10 + header.len() + 1 < total {
        header.push(' ');
    }
    header.push('\n');
    let hlen = u16::try_from(header.len())
        .map_err(|_| Error::Shape(format!("shape {shape:?}: npy header too long")))?;
    let mut out = Vec::with_capacity(total + 8 * data.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&hlen.to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    Ok(out)
}

/// Writes a `.npy` file ([`write_npy`]).
pub fn write_npy_file(path: impl AsRef<Path>, shape: &[usize], data: &[f64]) -> Result<()> {
    let path = path.as_ref();
    std::fs::write(path, write_npy(shape, data)?)
        .map_err(|e| Error::Data(format!("{}: {e}", path.display())))
}

enum Value {
    Str(String),
    Bool(bool),
    Tuple(Vec<usize>),
    List,
}

/// The header dict: `{'key': value, …}` with string keys and values that
/// are strings, `True`/`False` or tuples of integers (a Python literal, as
/// numpy writes it), then spaces and the newline.
fn parse_dict(s: &str) -> std::result::Result<Vec<(String, Value)>, String> {
    let mut p = Lexer {
        s: s.as_bytes(),
        i: 0,
    };
    p.expect(b'{')?;
    let mut out = Vec::new();
    loop {
        p.ws();
        if p.eat(b'}') {
            break;
        }
        let key = p.string()?;
        p.ws();
        p.expect(b':')?;
        p.ws();
        let v = p.value()?;
        out.push((key, v));
        p.ws();
        if p.eat(b',') {
            continue;
        }
        p.ws();
        p.expect(b'}')?;
        break;
    }
    if !s.as_bytes()[p.i..].iter().all(|&c| c == b' ' || c == b'\n') {
        return Err("header: text after the dict".into());
    }
    Ok(out)
}

struct Lexer<'a> {
    s: &'a [u8],
    i: usize,
}

impl Lexer<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n') {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> std::result::Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!(
                "header: expected {:?} at byte {}",
                c as char, self.i
            ))
        }
    }

    fn string(&mut self) -> std::result::Result<String, String> {
        let q = match self.s.get(self.i) {
            Some(&q @ (b'\'' | b'"')) => q,
            _ => return Err(format!("header: expected a string at byte {}", self.i)),
        };
        self.i += 1;
        let start = self.i;
        while self.i < self.s.len() && self.s[self.i] != q {
            if self.s[self.i] == b'\\' {
                return Err("header: escapes in strings are not supported".into());
            }
            self.i += 1;
        }
        if self.i >= self.s.len() {
            return Err("header: unterminated string".into());
        }
        let v = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
        self.i += 1;
        Ok(v)
    }

    fn value(&mut self) -> std::result::Result<Value, String> {
        match self.s.get(self.i) {
            Some(b'\'' | b'"') => Ok(Value::Str(self.string()?)),
            Some(b'[') => {
                // a structured dtype: skipped (and refused by the caller)
                let mut depth = 0usize;
                while let Some(&c) = self.s.get(self.i) {
                    match c {
                        b'\'' | b'"' => {
                            self.string()?;
                            continue;
                        }
                        b'[' | b'(' => depth += 1,
                        b']' | b')' => depth = depth.saturating_sub(1),
                        _ => {}
                    }
                    self.i += 1;
                    if depth == 0 {
                        return Ok(Value::List);
                    }
                }
                Err("header: unterminated list".into())
            }
            Some(b'(') => {
                self.i += 1;
                let mut dims = Vec::new();
                loop {
                    self.ws();
                    if self.eat(b')') {
                        break;
                    }
                    let start = self.i;
                    while self.i < self.s.len() && self.s[self.i].is_ascii_digit() {
                        self.i += 1;
                    }
                    let d = std::str::from_utf8(&self.s[start..self.i])
                        .ok()
                        .and_then(|t| t.parse::<usize>().ok())
                        .ok_or_else(|| format!("header: bad dimension at byte {start}"))?;
                    dims.push(d);
                    self.ws();
                    if self.eat(b',') {
                        continue;
                    }
                    self.expect(b')')?;
                    break;
                }
                Ok(Value::Tuple(dims))
            }
            _ => {
                for (word, v) in [("True", true), ("False", false)] {
                    if self.s[self.i.min(self.s.len())..].starts_with(word.as_bytes()) {
                        self.i += word.len();
                        return Ok(Value::Bool(v));
                    }
                }
                Err(format!("header: unexpected value at byte {}", self.i))
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn raw_npy(version: (u8, u8), dict: &str, data: &[u8]) -> Vec<u8> {
        let mut h = dict.to_string();
        h.push('\n');
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&[version.0, version.1]);
        if version.0 == 1 {
            out.extend_from_slice(&(h.len() as u16).to_le_bytes());
        } else {
            out.extend_from_slice(&(h.len() as u32).to_le_bytes());
        }
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(data);
        out
    }

    fn data_err<T: std::fmt::Debug>(r: Result<T>) -> String {
        match r {
            Err(Error::Data(m)) => m,
            other => panic!("expected a data error, got {other:?}"),
        }
    }

    #[test]
    fn round_trip_and_integer_dtypes() {
        let x: Vec<f64> = (0..12).map(|i| i as f64 * 0.25 - 1.0).collect();
        let b = write_npy(&[3, 4], &x).unwrap();
        assert_eq!(b.len() % 16, 0);
        assert_eq!(read_npy(&b).unwrap(), (vec![3, 4], x));
        assert_eq!(
            read_npy(&write_npy(&[], &[2.5]).unwrap()).unwrap(),
            (vec![], vec![2.5])
        );
        assert!(matches!(write_npy(&[5], &[1.0]), Err(Error::Shape(_))));
        let cases: [(&str, Vec<u8>); 4] = [
            ("|u1", vec![0, 7, 255]),
            (
                "<i8",
                [-3i64, 0, 1 << 40]
                    .iter()
                    .flat_map(|v| v.to_le_bytes())
                    .collect(),
            ),
            (
                "<i4",
                [-3i32, 0, 9].iter().flat_map(|v| v.to_le_bytes()).collect(),
            ),
            (
                "<f4",
                [-0.5f32, 0.0, 1e-3]
                    .iter()
                    .flat_map(|v| v.to_le_bytes())
                    .collect(),
            ),
        ];
        let want = [
            vec![0.0, 7.0, 255.0],
            vec![-3.0, 0.0, (1u64 << 40) as f64],
            vec![-3.0, 0.0, 9.0],
            vec![-0.5, 0.0, 1e-3f32 as f64],
        ];
        for ((descr, data), want) in cases.iter().zip(want) {
            for v in [(1, 0), (2, 0), (3, 0)] {
                let dict =
                    format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': (3,), }}");
                assert_eq!(
                    read_npy(&raw_npy(v, &dict, data)).unwrap(),
                    (vec![3], want.clone())
                );
            }
        }
    }

    #[test]
    fn bad_files_are_data_errors() {
        let f8 = |n: usize| vec![0u8; 8 * n];
        for (dict, data, want) in [
            ("{'descr': '<i2', 'fortran_order': False, 'shape': (2,), }", f8(1), "dtype \"<i2\" (signed integers); float64 ('<f8'), float32 ('<f4'), uint8 ('|u1'), int64 ('<i8') or int32 ('<i4') is needed"),
            ("{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }", f8(2), "big-endian"),
            ("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 1), }", f8(2), "Fortran-order"),
            ("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (2,), }", f8(2), "structured dtype"),
            ("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", f8(1), "truncated"),
            ("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", f8(3), "trailing bytes"),
            ("{'descr': '<f8', 'shape': (2,), }", f8(2), "no 'fortran_order'"),
            ("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'x': 'y'}", f8(2), "unexpected header key"),
            ("{'descr': '<f8', 'fortran_order': False, 'shape': (-2,), }", f8(2), "bad dimension"),
            ("{'descr': '<f8', 'fortran_order': Fals", f8(2), "unexpected value"),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999, 99999999999, 99999999999), }",
                f8(2),
                "overflows",
            ),
        ] {
            let e = data_err(read_npy(&raw_npy((1, 0), dict, &data)));
            assert!(e.contains(want), "{dict}: {e}");
        }
        assert!(data_err(read_npy(&raw_npy((4, 0), "{}", &[]))).contains("version 4.0"));
        assert!(data_err(read_npy(b"PK\x03\x04 not npy")).contains("not a .npy file"));
        let good = write_npy(&[4], &[1.0; 4]).unwrap();
        for cut in 0..good.len() {
            assert!(
                matches!(read_npy(&good[..cut]), Err(Error::Data(_))),
                "cut at {cut}"
            );
        }
    }
}
