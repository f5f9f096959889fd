//! The coordinator's state directory.
//!
//! | file | written | content |
//! |---|---|---|
//! | `session.json` | at start | the public [`SessionConfig`] |
//! | `keys.bin` | after key generation | `HKKS ‖ version (u16 LE) ‖` [`PersistedKeys`] in postcard: collective public key or Paillier public parameters, Galois/relinearization keys, the directory of end-to-end keys |
//! | `round-<r>.log` | every accepted update, **before** the RPC returns OK | records `magic ‖ round ‖ party ‖ len ‖ bytes ‖ SHA-256[..8]`, appended and `fsync`ed |
//! | `round-<r>.json` | when round `r` is decrypted | the result (sum, contributors, committee) — marks the round done; the round's log is then removed |
//!
//! Whole files are replaced atomically (write to a temporary file, `fsync`,
//! rename, `fsync` the directory). A crash can only tear the last record of
//! a log, which was never acknowledged; reading stops there. On restart the
//! coordinator re-adds the logged updates to a fresh aggregation server,
//! which re-validates every one of them.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::session::SessionConfig;
use crate::{Error, Result};

const MAGIC: [u8; 4] = *b"HKC1";
const MAX_RECORD: u64 = 1 << 31;
/// `keys.bin` starts with this magic and a `u16` format version.
const KEYS_MAGIC: [u8; 4] = *b"HKKS";
/// Format version of `keys.bin` written by this build (postcard). Version 1
/// (hekit 0.1) was bare bincode, without magic or version.
pub const KEYS_VERSION: u16 = 2;

/// Keys and directory persisted after key generation (all public).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PersistedKeys {
    /// Serialized collective CKKS public key.
    pub ckks_key: Vec<u8>,
    /// Serialized threshold Paillier public parameters.
    pub paillier_params: Vec<u8>,
    /// Serialized collective relinearization key (CKKS).
    pub relin: Option<Vec<u8>>,
    /// Galois elements of the collective Galois keys (CKKS).
    pub galois_elements: Vec<u64>,
    /// Serialized collective Galois keys (CKKS).
    pub galois: Option<Vec<u8>>,
    /// The parties' end-to-end public keys.
    pub directory: Vec<(u32, Vec<u8>)>,
}

/// The state directory.
#[derive(Clone, Debug)]
pub struct Store {
    dir: PathBuf,
}

fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    let _ = dir;
    Ok(())
}

impl Store {
    /// Opens (creates) `dir`.
    pub fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(Self {
            dir: dir.to_path_buf(),
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Atomically replaces `name` with `data`.
    pub fn write_atomic(&self, name: &str, data: &[u8]) -> Result<()> {
        let tmp = self.dir.join(format!(".{name}.tmp"));
        {
            let mut f = File::create(&tmp)?;
            f.write_all(data)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, self.dir.join(name))?;
        sync_dir(&self.dir)
    }

    /// Reads `name` if it exists.
    pub fn read(&self, name: &str) -> Result<Option<Vec<u8>>> {
        match std::fs::read(self.dir.join(name)) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The persisted session description.
    pub fn session(&self) -> Result<Option<SessionConfig>> {
        match self.read("session.json")? {
            None => Ok(None),
            Some(b) => serde_json::from_slice(&b)
                .map(Some)
                .map_err(|e| Error::config(format!("state dir session.json: {e}"))),
        }
    }

    /// Persists the session description.
    pub fn save_session(&self, c: &SessionConfig) -> Result<()> {
        let b = serde_json::to_vec_pretty(c).map_err(|e| Error::Protocol(e.to_string()))?;
        self.write_atomic("session.json", &b)
    }

    /// The persisted keys.
    pub fn keys(&self) -> Result<Option<PersistedKeys>> {
        match self.read("keys.bin")? {
            None => Ok(None),
            Some(b) => decode_keys(&b)
                .map(Some)
                .map_err(|e| Error::config(format!("state dir keys.bin: {e}"))),
        }
    }

    /// Persists the keys.
    pub fn save_keys(&self, k: &PersistedKeys) -> Result<()> {
        let mut b = KEYS_MAGIC.to_vec();
        b.extend_from_slice(&KEYS_VERSION.to_le_bytes());
        let b = postcard::to_extend(k, b).map_err(|e| Error::Protocol(e.to_string()))?;
        self.write_atomic("keys.bin", &b)
    }

    fn log_path(&self, round: u64) -> PathBuf {
        self.dir.join(format!("round-{round}.log"))
    }

    /// Appends an accepted update of `party` to round `round`'s log and
    /// `fsync`s it.
    pub fn append_contribution(&self, round: u64, party: u32, bytes: &[u8]) -> Result<()> {
        let mut rec = Vec::with_capacity(bytes.len() + 32);
        rec.extend_from_slice(&MAGIC);
        rec.extend_from_slice(&round.to_le_bytes());
        rec.extend_from_slice(&party.to_le_bytes());
        rec.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        rec.extend_from_slice(bytes);
        let d = Sha256::digest(&rec);
        rec.extend_from_slice(&d[..8]);
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path(round))?;
        f.write_all(&rec)?;
        f.sync_data()?;
        Ok(())
    }

    /// The logged updates of round `round` (stops at a torn or corrupt
    /// record, which was never acknowledged).
    pub fn contributions(&self, round: u64) -> Result<Vec<(u32, Vec<u8>)>> {
        let mut data = Vec::new();
        match File::open(self.log_path(round)) {
            Ok(mut f) => {
                f.read_to_end(&mut data)?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        }
        let mut out = Vec::new();
        let mut pos = 0usize;
        while data.len() - pos >= 24 {
            let head = &data[pos..pos + 24];
            if head[..4] != MAGIC {
                tracing::warn!(
                    round,
                    offset = pos,
                    "state log: bad record magic, ignoring the rest"
                );
                break;
            }
            let r = u64::from_le_bytes(head[4..12].try_into().unwrap_or_default());
            let party = u32::from_le_bytes(head[12..16].try_into().unwrap_or_default());
            let len = u64::from_le_bytes(head[16..24].try_into().unwrap_or_default());
            if len > MAX_RECORD || (data.len() - pos - 24) < len as usize + 8 {
                tracing::warn!(round, offset = pos, "state log: torn last record ignored");
                break;
            }
            let end = pos + 24 + len as usize;
            let d = Sha256::digest(&data[pos..end]);
            if d[..8] != data[end..end + 8] || r != round {
                tracing::warn!(
                    round,
                    offset = pos,
                    "state log: corrupt record, ignoring the rest"
                );
                break;
            }
            out.push((party, data[pos + 24..end].to_vec()));
            pos = end + 8;
        }
        Ok(out)
    }

    /// Removes round `round`'s log once its result is written (the
    /// updates are no longer needed).
    pub fn remove_log(&self, round: u64) {
        match std::fs::remove_file(self.log_path(round)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(round, error = %e, "cannot remove the round's update log"),
        }
    }

    /// Whether round `round` is done (its result is written).
    pub fn round_done(&self, round: u64) -> bool {
        self.dir.join(format!("round-{round}.json")).exists()
            || self.dir.join(format!("round-{round}.skipped")).exists()
    }
}

/// Reads `keys.bin`: magic, version, then the postcard body using every byte.
fn decode_keys(b: &[u8]) -> std::result::Result<PersistedKeys, String> {
    if b.len() < 6 || b[..4] != KEYS_MAGIC {
        return Err(
            "format version 1 (bincode, hekit ≤ 0.1) is no longer read; \
             re-serialize: remove the state directory and run the session's key generation again"
                .into(),
        );
    }
    let version = u16::from_le_bytes([b[4], b[5]]);
    if version != KEYS_VERSION {
        return Err(format!(
            "unknown format version {version} (this build reads version {KEYS_VERSION})"
        ));
    }
    match postcard::take_from_bytes(&b[6..]) {
        Ok((k, [])) => Ok(k),
        Ok((_, rest)) => Err(format!("{} trailing bytes", rest.len())),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn log_survives_a_torn_tail() {
        let dir = std::env::temp_dir().join(format!("hekit-mpc-store-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let s = Store::open(&dir).unwrap();
        s.append_contribution(3, 1, b"one").unwrap();
        s.append_contribution(3, 2, b"two!").unwrap();
        let mut f = OpenOptions::new()
            .append(true)
            .open(dir.join("round-3.log"))
            .unwrap();
        f.write_all(b"HKC1\x03\0\0\0\0\0\0\0\x05\0\0\0\xff\xff\0\0")
            .unwrap();
        let c = s.contributions(3).unwrap();
        assert_eq!(c, vec![(1, b"one".to_vec()), (2, b"two!".to_vec())]);
        assert!(s.contributions(4).unwrap().is_empty());
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn keys_round_trip_and_bincode_keys_are_refused() {
        let dir = std::env::temp_dir().join(format!("hekit-mpc-keys-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let s = Store::open(&dir).unwrap();
        let k = PersistedKeys {
            ckks_key: vec![1, 2, 3],
            relin: Some(vec![4; 300]),
            galois_elements: vec![3, 5, 16383],
            directory: vec![(1, vec![9; 32]), (2, vec![8; 32])],
            ..Default::default()
        };
        s.save_keys(&k).unwrap();
        let back = s.keys().unwrap().unwrap();
        assert_eq!(back.ckks_key, k.ckks_key);
        assert_eq!(back.relin, k.relin);
        assert_eq!(back.galois_elements, k.galois_elements);
        assert_eq!(back.directory, k.directory);
        // hekit 0.1 wrote bare bincode: every length a u64, options a u8.
        let mut old = Vec::new();
        old.extend_from_slice(&3u64.to_le_bytes());
        old.extend_from_slice(&[1, 2, 3]);
        old.extend_from_slice(&0u64.to_le_bytes()); // paillier_params
        old.push(0); // relin: None
        old.extend_from_slice(&0u64.to_le_bytes()); // galois_elements
        old.push(0); // galois: None
        old.extend_from_slice(&0u64.to_le_bytes()); // directory
        s.write_atomic("keys.bin", &old).unwrap();
        let e = s.keys().unwrap_err().to_string();
        assert!(
            e.contains("keys.bin") && e.contains("format version 1 (bincode"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}
