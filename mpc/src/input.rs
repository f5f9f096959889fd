//! A party's own data: where its update for each round comes from, how it is
//! validated, and how the decrypted sums are written back.
//!
//! An [`InputSource`] is one of
//!
//! - **demo** (`--input-seed`, `--input-scale`): the deterministic
//!   demonstration vectors of [`crate::session::party_input`] (the default);
//! - **a path** (`--input PATH`):
//!   - a `.npy` file (float64 or float32, little-endian, C order, format
//!     version 1.0, 2.0 or 3.0): a 2-D array `rounds × len` whose row `r` is
//!     round `r`'s update, or a 1-D array of `len` values, which is round 0's
//!     update **only** (a later round is refused as missing — the same data is
//!     never submitted twice by accident);
//!   - a `.csv` file: one row per round (row `r` is round `r`), numbers
//!     separated by commas (spaces around them are allowed), an optional
//!     header line (a first line none of whose fields is a number); a file of
//!     one data row is round 0's update only, as a 1-D `.npy`;
//!   - a directory of one file per round, `round-<r>.npy` (1-D, or 2-D with
//!     one row) or `round-<r>.csv` (one data row), all of one format;
//! - **a callback** ([`InputSource::callback`]) for library users:
//!   `Fn(round, len) -> Result<Vec<f64>>`.
//!
//! Whatever the source, an update is checked before it is encrypted
//! ([`check_update`]): exactly the session's `len` values, all finite, all
//! within the session's `±max_abs`. A bad update is an [`Error::Input`]
//! naming the file (or the callback) and what is wrong; the party refuses
//! that round (no update, the reason logged and sent to the coordinator) and
//! stays in the session.
//!
//! The `.npy` format itself is [`ml_he::npy`], the workspace's one reader
//! and writer; [`read_npy`] and [`write_npy`] here add files, rows and the
//! rule that an update is float64 or float32.

use std::fmt;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::session::party_input;
use crate::store::Store;
use crate::{Error, Result};

/// A library user's input: `(round, len)` → that round's update.
pub type InputCallback = Arc<dyn Fn(u64, usize) -> Result<Vec<f64>> + Send + Sync>;

/// Where a party's update for each round comes from.
#[derive(Clone)]
pub enum InputSource {
    /// Deterministic demonstration vectors, uniform in `±scale`
    /// ([`crate::session::party_input`]).
    Demo {
        /// Seed (with the party id and the round).
        seed: u64,
        /// Bound of the values.
        scale: f64,
    },
    /// A `.npy` or `.csv` file, or a directory of `round-<r>.npy` /
    /// `round-<r>.csv` files (module docs).
    Path(PathBuf),
    /// A function of the round and the session's vector length.
    Callback(InputCallback),
}

impl Default for InputSource {
    fn default() -> Self {
        Self::Demo {
            seed: 0,
            scale: 1.0,
        }
    }
}

impl fmt::Debug for InputSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Demo { seed, scale } => f
                .debug_struct("Demo")
                .field("seed", seed)
                .field("scale", scale)
                .finish(),
            Self::Path(p) => f.debug_tuple("Path").field(p).finish(),
            Self::Callback(_) => f.write_str("Callback(..)"),
        }
    }
}

impl InputSource {
    /// A callback `(round, len) → update`.
    pub fn callback(f: impl Fn(u64, usize) -> Result<Vec<f64>> + Send + Sync + 'static) -> Self {
        Self::Callback(Arc::new(f))
    }

    /// Resolves the source: a path must exist and be a `.npy` or `.csv`
    /// file or a directory holding `round-<r>.npy` or `round-<r>.csv` files
    /// (not both); otherwise a configuration error, before anything is sent.
    pub fn open(&self) -> Result<Input> {
        let kind = match self {
            Self::Demo { seed, scale } => Kind::Demo {
                seed: *seed,
                scale: *scale,
            },
            Self::Callback(f) => Kind::Callback(f.clone()),
            Self::Path(p) => {
                let meta = std::fs::metadata(p)
                    .map_err(|e| Error::config(format!("--input {}: {e}", p.display())))?;
                if meta.is_dir() {
                    Kind::Dir(p.clone(), dir_format(p)?)
                } else {
                    match Format::of(p) {
                        Some(f) => Kind::File(p.clone(), f),
                        None => {
                            return Err(Error::config(format!(
                                "--input {}: neither a .npy nor a .csv file nor a directory",
                                p.display()
                            )))
                        }
                    }
                }
            }
        };
        Ok(Input { kind })
    }
}

/// A file format of inputs and outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// NumPy `.npy`.
    Npy,
    /// Comma-separated numbers.
    Csv,
}

impl Format {
    fn of(p: &Path) -> Option<Self> {
        match p.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("npy") => Some(Self::Npy),
            Some(e) if e.eq_ignore_ascii_case("csv") => Some(Self::Csv),
            _ => None,
        }
    }

    fn ext(self) -> &'static str {
        match self {
            Self::Npy => "npy",
            Self::Csv => "csv",
        }
    }
}

/// The format of a directory's `round-<r>.*` files.
fn dir_format(dir: &Path) -> Result<Format> {
    let mut seen = (false, false);
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error::config(format!("--input {}: {e}", dir.display())))?;
    for e in entries {
        let e = e.map_err(|e| Error::config(format!("--input {}: {e}", dir.display())))?;
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some((stem, ext)) = name.rsplit_once('.') else {
            continue;
        };
        let Some(r) = stem.strip_prefix("round-") else {
            continue;
        };
        if r.is_empty() || !r.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        match ext {
            "npy" => seen.0 = true,
            "csv" => seen.1 = true,
            _ => {}
        }
    }
    match seen {
        (true, false) => Ok(Format::Npy),
        (false, true) => Ok(Format::Csv),
        (true, true) => Err(Error::config(format!(
            "--input {}: holds both round-<r>.npy and round-<r>.csv files; keep one format",
            dir.display()
        ))),
        (false, false) => Err(Error::config(format!(
            "--input {}: a directory without round-<r>.npy or round-<r>.csv files",
            dir.display()
        ))),
    }
}

#[derive(Clone)]
enum Kind {
    Demo { seed: u64, scale: f64 },
    File(PathBuf, Format),
    Dir(PathBuf, Format),
    Callback(InputCallback),
}

/// A resolved [`InputSource`].
#[derive(Clone)]
pub struct Input {
    kind: Kind,
}

impl fmt::Debug for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

fn input_err(origin: &Path, reason: impl Into<String>) -> Error {
    Error::Input {
        origin: origin.display().to_string(),
        reason: reason.into(),
    }
}

impl Input {
    /// What the source is, for the logs.
    pub fn describe(&self) -> String {
        match &self.kind {
            Kind::Demo { seed, scale } => format!("demonstration inputs (seed {seed}, ±{scale})"),
            Kind::File(p, f) => format!("{} ({:?})", p.display(), f),
            Kind::Dir(p, f) => format!("{}/round-<r>.{}", p.display(), f.ext()),
            Kind::Callback(_) => "the input callback".into(),
        }
    }

    /// The format results are written in: that of the input files, JSON
    /// (`None`) for demonstration inputs and callbacks.
    pub fn output_format(&self) -> Option<Format> {
        match &self.kind {
            Kind::File(_, f) | Kind::Dir(_, f) => Some(*f),
            Kind::Demo { .. } | Kind::Callback(_) => None,
        }
    }

    /// This party's update for `round`: read, then checked against the
    /// session (`len` values, finite, within `±max_abs`).
    pub fn update(&self, party: u32, round: u64, len: usize, max_abs: f64) -> Result<Vec<f64>> {
        let (x, origin) = match &self.kind {
            Kind::Demo { seed, scale } => (
                party_input(*seed, party, round, len, *scale),
                "demonstration vectors".to_string(),
            ),
            Kind::Callback(f) => match f(round, len) {
                Ok(x) => (x, "callback".to_string()),
                Err(e @ Error::Input { .. }) => return Err(e),
                Err(e) => {
                    return Err(Error::Input {
                        origin: "callback".into(),
                        reason: format!("round {round}: {e}"),
                    })
                }
            },
            Kind::File(p, Format::Npy) => (npy_row(p, round, false)?, p.display().to_string()),
            Kind::File(p, Format::Csv) => (csv_row(p, round, false)?, p.display().to_string()),
            Kind::Dir(d, f) => {
                let p = d.join(format!("round-{round}.{}", f.ext()));
                if !p.exists() {
                    return Err(input_err(
                        &p,
                        format!("no such file: round {round}'s update is missing"),
                    ));
                }
                let x = match f {
                    Format::Npy => npy_row(&p, 0, true)?,
                    Format::Csv => csv_row(&p, 0, true)?,
                };
                (x, p.display().to_string())
            }
        };
        check_update(&x, len, max_abs).map_err(|reason| Error::Input {
            origin,
            reason: format!("round {round}: {reason}"),
        })?;
        Ok(x)
    }

    /// What can be checked when the session is known, before any round:
    /// the files' formats, lengths and number of rounds. Returns the
    /// problems found (the party logs them; each round is still checked,
    /// and refused, on its own).
    pub fn preflight(&self, rounds: u64, len: usize) -> Vec<String> {
        let mut out = Vec::new();
        match &self.kind {
            Kind::Demo { .. } | Kind::Callback(_) => {}
            Kind::File(p, f) => {
                let shape = match f {
                    Format::Npy => {
                        open_npy(p).map(|(h, _)| (npy_rows(&h), npy_cols(&h).unwrap_or(0)))
                    }
                    Format::Csv => csv_rows(p).map(|(rows, _)| {
                        (rows.len() as u64, rows.first().map_or(0, |r| r.1.len()))
                    }),
                };
                match shape {
                    Err(e) => out.push(e.to_string()),
                    Ok((r, l)) => {
                        if l != len {
                            out.push(format!(
                                "input {}: rows of {l} values, the session's --len is {len}",
                                p.display()
                            ));
                        }
                        if r < rounds {
                            out.push(format!(
                                "input {}: holds {r} round(s), the session has {rounds}: \
                                 rounds {r}.. will be refused",
                                p.display()
                            ));
                        }
                    }
                }
            }
            Kind::Dir(d, f) => {
                let missing: Vec<u64> = (0..rounds)
                    .filter(|r| !d.join(format!("round-{r}.{}", f.ext())).exists())
                    .take(10)
                    .collect();
                if !missing.is_empty() {
                    out.push(format!(
                        "input {}: no round-<r>.{} (yet) for round(s) {missing:?}{}: each is read \
                         when its round starts, and refused if still missing then",
                        d.display(),
                        f.ext(),
                        if missing.len() == 10 { " …" } else { "" }
                    ));
                }
            }
        }
        out
    }

    /// Writes a round's decrypted sum into `dir` as
    /// `party-<id>-round-<r>.{npy,csv,json}` (the input's format; JSON with
    /// the contributors for demonstration inputs and callbacks), replacing
    /// the file atomically. Returns the file name.
    pub fn write_result(
        &self,
        dir: &Path,
        party: u32,
        round: u64,
        contributors: &[u32],
        sum: &[f64],
    ) -> Result<String> {
        let store = Store::open(dir)?;
        let stem = format!("party-{party}-round-{round}");
        let (name, bytes) = match self.output_format() {
            Some(Format::Npy) => (format!("{stem}.npy"), npy_bytes(&[sum.len()], sum)?),
            Some(Format::Csv) => (format!("{stem}.csv"), csv_line(sum).into_bytes()),
            None => (
                format!("{stem}.json"),
                serde_json::json!({"round": round, "contributors": contributors, "sum": sum})
                    .to_string()
                    .into_bytes(),
            ),
        };
        store.write_atomic(&name, &bytes)?;
        Ok(name)
    }
}

/// Checks an update against the session: `len` values, all finite, all
/// within `±max_abs`. The error says which value and why.
pub fn check_update(x: &[f64], len: usize, max_abs: f64) -> std::result::Result<(), String> {
    if x.len() != len {
        return Err(format!("{} values, the session's --len is {len}", x.len()));
    }
    if let Some((i, v)) = x.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(format!("value {i} is {v} (NaN and infinities are refused)"));
    }
    if let Some((i, v)) = x.iter().enumerate().find(|(_, v)| v.abs() > max_abs) {
        return Err(format!(
            "value {i} = {v} is outside the session's bound ±{max_abs} (max_abs)"
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------- .npy
//
// The format (header, element types, writer) is `ml_he::npy`, the one
// reader of the workspace; here: files, rows, and the party's rule that an
// update is float64 or float32.

use ml_he::npy::{self, Dtype, Header as NpyHeader};

/// The element types a party's update may have.
const UPDATE_DTYPES: [Dtype; 2] = [Dtype::F64, Dtype::F32];

fn npy_err(path: &Path, e: ml_he::Error) -> Error {
    match e {
        ml_he::Error::Data(r) | ml_he::Error::Shape(r) => input_err(path, r),
        e => input_err(path, e.to_string()),
    }
}

/// Rounds held by an array: 1 for a 1-D array, the rows of a 2-D one.
fn npy_rows(h: &NpyHeader) -> u64 {
    match h.shape.as_slice() {
        [_] => 1,
        [r, _] => *r as u64,
        _ => 0,
    }
}

/// Values per round.
fn npy_cols(h: &NpyHeader) -> Option<usize> {
    match h.shape.as_slice() {
        [c] | [_, c] => Some(*c),
        _ => None,
    }
}

/// Reads and parses the header of `path` (float64 or float32) and checks
/// the file's size against it; the file is left open at the data.
fn open_npy(path: &Path) -> Result<(NpyHeader, File)> {
    let mut f = File::open(path).map_err(|e| input_err(path, e.to_string()))?;
    let size = f
        .metadata()
        .map_err(|e| input_err(path, e.to_string()))?
        .len();
    let mut head = Vec::new();
    (&mut f)
        .take(12 + npy::MAX_HEADER as u64)
        .read_to_end(&mut head)
        .map_err(|e| input_err(path, e.to_string()))?;
    let h = NpyHeader::parse_accepting(&head, &UPDATE_DTYPES).map_err(|e| npy_err(path, e))?;
    h.check_data_len(size.saturating_sub(h.data_offset as u64))
        .map_err(|e| npy_err(path, e))?;
    f.seek(SeekFrom::Start(h.data_offset as u64))
        .map_err(|e| input_err(path, e.to_string()))?;
    Ok((h, f))
}

/// Reads a whole `.npy` file of float64 or float32: its shape and its
/// values as `f64` (float32 values are widened exactly).
pub fn read_npy(path: &Path) -> Result<(Vec<usize>, Vec<f64>)> {
    let (h, mut f) = open_npy(path)?;
    let n = h.numel().unwrap_or(0);
    let x = read_values(&mut f, h.dtype, n).map_err(|e| input_err(path, e.to_string()))?;
    Ok((h.shape, x))
}

fn read_values(f: &mut File, dtype: Dtype, n: usize) -> std::io::Result<Vec<f64>> {
    let mut b = vec![0u8; n * dtype.size()];
    f.read_exact(&mut b)?;
    Ok(dtype.decode(&b))
}

/// Row `round` of a `.npy` file (a 1-D array is row 0). With `single`, the
/// file must hold exactly one row (a per-round file of a directory).
fn npy_row(path: &Path, round: u64, single: bool) -> Result<Vec<f64>> {
    let (h, mut f) = open_npy(path)?;
    let cols = match h.shape.as_slice() {
        [c] => *c,
        [1, c] => *c,
        [_, c] if !single => *c,
        [r, _] => {
            return Err(input_err(
                path,
                format!(
                "shape {}: a per-round file holds one update (1-D, or 2-D with one row), not {r}",
                h.shape_str()
            ),
            ))
        }
        [] => {
            return Err(input_err(
                path,
                "a 0-d (scalar) array; 1-D (one round) or 2-D (rounds × len) is needed",
            ))
        }
        s => {
            return Err(input_err(
                path,
                format!(
                    "a {}-D array of shape {}; 1-D (one round) or 2-D (rounds × len) is needed",
                    s.len(),
                    h.shape_str()
                ),
            ))
        }
    };
    if round >= npy_rows(&h) {
        let what = if h.shape.len() == 1 {
            "a 1-D array, round 0's update only".to_string()
        } else {
            format!("{} round(s)", npy_rows(&h))
        };
        return Err(input_err(
            path,
            format!(
                "round {round}: missing (shape {} holds {what})",
                h.shape_str()
            ),
        ));
    }
    let off = h.data_offset as u64 + round * (cols * h.dtype.size()) as u64;
    f.seek(SeekFrom::Start(off))
        .map_err(|e| input_err(path, e.to_string()))?;
    read_values(&mut f, h.dtype, cols).map_err(|e| input_err(path, e.to_string()))
}

/// The bytes of a `.npy` file (format 1.0, little-endian float64, C order)
/// of `shape` holding `data` ([`ml_he::npy::write_npy`]).
pub fn npy_bytes(shape: &[usize], data: &[f64]) -> Result<Vec<u8>> {
    npy::write_npy(shape, data).map_err(|e| Error::config(e.to_string()))
}

/// Writes a `.npy` file (format 1.0, little-endian float64, C order).
pub fn write_npy(path: &Path, shape: &[usize], data: &[f64]) -> Result<()> {
    std::fs::write(path, npy_bytes(shape, data)?)?;
    Ok(())
}

// ---------------------------------------------------------------- .csv

/// The data rows of a CSV file, each with its (1-based) line number, and
/// whether it had a header line.
type CsvRows = (Vec<(usize, Vec<f64>)>, bool);

/// Parses a CSV file of numbers: an optional header line (no field of it is
/// a number), then one row per round, comma-separated, spaces around the
/// numbers allowed; blank lines only at the end.
fn csv_rows(path: &Path) -> Result<CsvRows> {
    let text = std::fs::read_to_string(path).map_err(|e| input_err(path, e.to_string()))?;
    parse_csv(&text).map_err(|r| input_err(path, r))
}

fn parse_csv(text: &str) -> std::result::Result<CsvRows, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let last = lines
        .iter()
        .rposition(|l| !l.trim().is_empty())
        .ok_or_else(|| "empty file".to_string())?;
    let mut rows = Vec::new();
    let mut header = false;
    for (i, line) in lines[..=last].iter().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            return Err(format!("line {n} is empty"));
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let parsed: Vec<Option<f64>> = fields.iter().map(|f| f.parse::<f64>().ok()).collect();
        if i == 0 && parsed.iter().all(Option::is_none) {
            header = true;
            continue;
        }
        let mut row = Vec::with_capacity(fields.len());
        for (j, (f, v)) in fields.iter().zip(parsed).enumerate() {
            match v {
                Some(v) => row.push(v),
                None if f.is_empty() => {
                    return Err(format!("line {n}, column {}: empty field", j + 1))
                }
                None => return Err(format!("line {n}, column {}: {f:?} is not a number", j + 1)),
            }
        }
        rows.push((n, row));
    }
    if rows.is_empty() {
        return Err("a header line and no data".into());
    }
    Ok((rows, header))
}

/// Row `round` of a CSV file; with `single`, the file must hold one row.
fn csv_row(path: &Path, round: u64, single: bool) -> Result<Vec<f64>> {
    let (mut rows, _) = csv_rows(path)?;
    if single && rows.len() != 1 {
        return Err(input_err(
            path,
            format!(
                "{} data rows; a per-round file holds one update",
                rows.len()
            ),
        ));
    }
    let have = rows.len();
    let r = usize::try_from(round).unwrap_or(usize::MAX);
    if r >= have {
        return Err(input_err(
            path,
            format!("round {round}: missing (the file holds {have} round(s), one per row)"),
        ));
    }
    Ok(rows.swap_remove(r).1)
}

/// One CSV line of `x` (shortest round-trip decimal for each value).
fn csv_line(x: &[f64]) -> String {
    let mut s = x
        .iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(",");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("hekit-mpc-input-{}-{}", std::process::id(), name));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// A `.npy` file with a hand-made header (any version, any dict).
    fn raw_npy(version: (u8, u8), dict: &str, data: &[u8]) -> Vec<u8> {
        let mut h = dict.to_string();
        let pre = if version.0 == 1 { 10 } else { 12 };
        while !(pre + h.len() + 1).is_multiple_of(64) {
            h.push(' ');
        }
        h.push('\n');
        let mut out = npy::MAGIC.to_vec();
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

    fn f64s(x: &[f64]) -> Vec<u8> {
        x.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    fn err(r: Result<impl fmt::Debug>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn npy_round_trip_and_rows() {
        let d = tmp("rt");
        let p = d.join("a.npy");
        let x: Vec<f64> = (0..12).map(|i| i as f64 * 0.25 - 1.0).collect();
        write_npy(&p, &[3, 4], &x).unwrap();
        let b = std::fs::read(&p).unwrap();
        assert_eq!(b.len() % 16, 0, "header padded");
        assert_eq!(read_npy(&p).unwrap(), (vec![3, 4], x.clone()));
        assert_eq!(npy_row(&p, 2, false).unwrap(), x[8..].to_vec());
        assert!(
            err(npy_row(&p, 3, false)).contains("round 3: missing (shape (3, 4) holds 3 round(s))")
        );
        assert!(err(npy_row(&p, 0, true)).contains("a per-round file holds one update"));
        write_npy(&p, &[4], &x[..4]).unwrap();
        assert_eq!(npy_row(&p, 0, true).unwrap(), x[..4].to_vec());
        assert!(err(npy_row(&p, 1, false)).contains("a 1-D array, round 0's update only"));
        assert!(write_npy(&p, &[5], &x).is_err());
    }

    #[test]
    fn npy_versions_and_dtypes() {
        let d = tmp("ver");
        let p = d.join("a.npy");
        let dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }";
        for v in [(1, 0), (2, 0), (3, 0)] {
            std::fs::write(&p, raw_npy(v, dict, &f64s(&[1.5, -2.0]))).unwrap();
            assert_eq!(read_npy(&p).unwrap().1, vec![1.5, -2.0], "{v:?}");
        }
        // float32, double quotes, no trailing comma, 2-D
        let f32s: Vec<u8> = [0.5f32, -0.25, 3.0, 1e-3]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        std::fs::write(
            &p,
            raw_npy(
                (1, 0),
                "{\"descr\": \"<f4\", \"shape\": (2, 2), \"fortran_order\": False}",
                &f32s,
            ),
        )
        .unwrap();
        let (shape, x) = read_npy(&p).unwrap();
        assert_eq!(shape, vec![2, 2]);
        assert_eq!(x[3], 1e-3f32 as f64);
        assert_eq!(npy_row(&p, 1, false).unwrap(), vec![3.0, 1e-3f32 as f64]);
        for (dict, data, want) in [
            (
                "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }",
                f64s(&[0.0; 2]),
                "dtype \"<i8\" (signed integers)",
            ),
            (
                "{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }",
                f64s(&[0.0; 2]),
                "big-endian",
            ),
            (
                "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 1), }",
                f64s(&[0.0; 2]),
                "Fortran-order",
            ),
            (
                "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (2,), }",
                f64s(&[0.0; 2]),
                "structured dtype",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }",
                f64s(&[0.0; 1]),
                "truncated",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }",
                f64s(&[0.0; 3]),
                "trailing bytes",
            ),
            (
                "{'descr': '<f8', 'shape': (2,), }",
                f64s(&[0.0; 2]),
                "no 'fortran_order'",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'x': 1}",
                f64s(&[0.0; 2]),
                "unexpected value",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'x': 'y'}",
                f64s(&[0.0; 2]),
                "unexpected header key",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'shape': (2,)}",
                f64s(&[0.0; 2]),
                "twice",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (-2,), }",
                f64s(&[0.0; 2]),
                "bad dimension",
            ),
        ] {
            std::fs::write(&p, raw_npy((1, 0), dict, &data)).unwrap();
            let e = err(read_npy(&p));
            assert!(e.contains(want) && e.contains("a.npy"), "{dict}: {e}");
        }
        std::fs::write(&p, raw_npy((4, 0), "{}", &[])).unwrap();
        assert!(err(read_npy(&p)).contains("version 4.0"));
        std::fs::write(&p, b"PK\x03\x04 not npy").unwrap();
        assert!(err(read_npy(&p)).contains("not a .npy file"));
        std::fs::write(
            &p,
            raw_npy(
                (1, 0),
                "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2, 2), }",
                &f64s(&[0.0; 8]),
            ),
        )
        .unwrap();
        assert!(err(npy_row(&p, 0, false)).contains("a 3-D array"));
        std::fs::write(
            &p,
            raw_npy(
                (1, 0),
                "{'descr': '<f8', 'fortran_order': False, 'shape': (), }",
                &f64s(&[0.0]),
            ),
        )
        .unwrap();
        assert!(err(npy_row(&p, 0, false)).contains("0-d (scalar)"));
    }

    #[test]
    fn csv_rows_and_headers() {
        let (rows, header) = parse_csv("w0, w1 ,bias\r\n1,2.5,-3e-2\n4,5,6\n\n").unwrap();
        assert!(header);
        assert_eq!(rows[0], (2, vec![1.0, 2.5, -0.03]));
        assert_eq!(rows[1].1, vec![4.0, 5.0, 6.0]);
        let (rows, header) = parse_csv("1,2\n3,4").unwrap();
        assert!(!header);
        assert_eq!(rows.len(), 2);
        for (text, want) in [
            ("1,2\n\n3,4\n", "line 2 is empty"),
            ("1,x\n", "line 1, column 2: \"x\" is not a number"),
            ("a,b\n1,,2\n", "line 2, column 2: empty field"),
            ("a,b\n", "a header line and no data"),
            ("\n\n", "empty file"),
        ] {
            assert!(parse_csv(text).unwrap_err().contains(want), "{text:?}");
        }
        // NaN parses (and is refused by check_update, naming the value)
        let (rows, _) = parse_csv("1,nan\n").unwrap();
        assert!(check_update(&rows[0].1, 2, 10.0)
            .unwrap_err()
            .contains("value 1 is NaN"));
    }

    #[test]
    fn sources_validate_updates() {
        let d = tmp("src");
        let csv = d.join("u.csv");
        std::fs::write(&csv, "a,b,c\n1,2,3\n0.5,inf,0\n1,2\n40,0,0\n").unwrap();
        let inp = InputSource::Path(csv.clone()).open().unwrap();
        assert_eq!(inp.output_format(), Some(Format::Csv));
        assert_eq!(inp.update(1, 0, 3, 16.0).unwrap(), vec![1.0, 2.0, 3.0]);
        let e = err(inp.update(1, 1, 3, 16.0));
        assert!(
            e.contains("u.csv") && e.contains("round 1: value 1 is inf"),
            "{e}"
        );
        assert!(
            err(inp.update(1, 2, 3, 16.0)).contains("round 2: 2 values, the session's --len is 3")
        );
        assert!(err(inp.update(1, 3, 3, 16.0))
            .contains("value 0 = 40 is outside the session's bound ±16"));
        assert!(
            err(inp.update(1, 4, 3, 16.0)).contains("round 4: missing (the file holds 4 round(s)")
        );
        assert_eq!(inp.preflight(6, 3).len(), 1);

        let dir = d.join("rounds");
        std::fs::create_dir_all(&dir).unwrap();
        assert!(err(InputSource::Path(dir.clone()).open()).contains("without round-<r>.npy"));
        write_npy(&dir.join("round-0.npy"), &[1, 3], &[1.0, 2.0, 3.0]).unwrap();
        write_npy(&dir.join("round-2.npy"), &[3], &[1.0, 2.0, 3.0]).unwrap();
        let inp = InputSource::Path(dir.clone()).open().unwrap();
        assert_eq!(inp.output_format(), Some(Format::Npy));
        assert_eq!(inp.update(2, 0, 3, 16.0).unwrap(), vec![1.0, 2.0, 3.0]);
        assert_eq!(inp.update(2, 2, 3, 16.0).unwrap(), vec![1.0, 2.0, 3.0]);
        assert!(err(inp.update(2, 1, 3, 16.0))
            .contains("round-1.npy: no such file: round 1's update is missing"));
        assert!(inp.preflight(3, 3)[0].contains("round(s) [1]"));
        std::fs::write(dir.join("round-1.csv"), "1,2,3\n").unwrap();
        assert!(err(InputSource::Path(dir.clone()).open()).contains("both"));
        assert!(err(InputSource::Path(d.join("nope.npy")).open()).contains("nope.npy"));
        std::fs::write(d.join("x.txt"), "1").unwrap();
        assert!(err(InputSource::Path(d.join("x.txt")).open()).contains("neither"));

        let cb = InputSource::callback(|round, len| match round {
            99 => Err(Error::Config("no data yet".into())),
            _ => Ok(vec![round as f64; len]),
        });
        let inp = cb.open().unwrap();
        assert_eq!(inp.update(1, 7, 2, 16.0).unwrap(), vec![7.0, 7.0]);
        let e = inp.update(1, 99, 2, 16.0).unwrap_err();
        assert!(matches!(e, Error::Input { .. }), "{e:?}");
        assert_eq!(
            e.to_string(),
            "input callback: round 99: configuration: no data yet"
        );
        assert!(err(inp.update(1, 17, 2, 16.0)).contains("input callback: round 17: value 0 = 17"));
        assert_eq!(format!("{cb:?}"), "Callback(..)");
    }

    #[test]
    fn results_in_the_input_format() {
        let d = tmp("out");
        let sum = [0.1, -2.5e-7, 1e10];
        std::fs::write(d.join("in.csv"), "1,2,3\n").unwrap();
        let inp = InputSource::Path(d.join("in.csv")).open().unwrap();
        let name = inp.write_result(&d.join("o"), 3, 1, &[1, 2], &sum).unwrap();
        assert_eq!(name, "party-3-round-1.csv");
        let (rows, _) =
            parse_csv(&std::fs::read_to_string(d.join("o").join(&name)).unwrap()).unwrap();
        assert_eq!(rows[0].1, sum.to_vec());
        write_npy(&d.join("in.npy"), &[3], &sum).unwrap();
        let inp = InputSource::Path(d.join("in.npy")).open().unwrap();
        let name = inp.write_result(&d.join("o"), 3, 1, &[1, 2], &sum).unwrap();
        assert_eq!(
            read_npy(&d.join("o").join(name)).unwrap(),
            (vec![3], sum.to_vec())
        );
        let name = InputSource::default()
            .open()
            .unwrap()
            .write_result(&d.join("o"), 3, 1, &[1, 2], &sum)
            .unwrap();
        assert_eq!(name, "party-3-round-1.json");
    }
}
