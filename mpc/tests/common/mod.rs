//! Helpers: real `hekit-mpc` processes on loopback, killed on drop.
#![allow(clippy::unwrap_used, dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use hekit_mpc::session::party_input;

/// Tests start 6 processes each: run them one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

pub fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

pub const BIN: &str = env!("CARGO_BIN_EXE_hekit-mpc");

/// A child process, killed (SIGKILL) and reaped on drop.
pub struct Proc {
    pub name: String,
    pub child: Child,
    pub log: PathBuf,
}

impl Proc {
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn wait(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if let Ok(Some(s)) = self.child.try_wait() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A test directory (removed on drop unless the test panicked).
pub struct Dir(pub PathBuf);

impl Dir {
    pub fn new(name: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let d =
            std::env::temp_dir().join(format!("hekit-mpc-{name}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        Self(d)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        } else {
            eprintln!("test files kept in {}", self.0.display());
        }
    }
}

pub fn spawn(name: &str, dir: &Path, args: &[String]) -> Proc {
    let log = dir.join(format!("{name}.log"));
    let f = std::fs::File::create(&log).unwrap();
    let child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(f.try_clone().unwrap())
        .stderr(f)
        .spawn()
        .unwrap();
    Proc {
        name: name.into(),
        child,
        log,
    }
}

pub fn gen_certs(dir: &Path, n: u32) {
    let out = Command::new(BIN)
        .args(["gen-certs", "--out"])
        .arg(dir.join("certs"))
        .args([
            "--parties",
            &n.to_string(),
            "--hosts",
            "localhost,127.0.0.1",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

pub fn s(x: impl ToString) -> String {
    x.to_string()
}

/// Starts the coordinator (listening on `listen`) and waits for its port.
pub fn coordinator(dir: &Path, listen: &str, extra: &[&str]) -> (Proc, u16) {
    let c = dir.join("certs");
    let port_file = dir.join("port");
    let _ = std::fs::remove_file(&port_file);
    let mut args = vec![
        s("coordinator"),
        s("--listen"),
        s(listen),
        s("--port-file"),
        s(port_file.display()),
        s("--ca"),
        s(c.join("ca.pem").display()),
        s("--cert"),
        s(c.join("coordinator.pem").display()),
        s("--key"),
        s(c.join("coordinator.key").display()),
        s("--state-dir"),
        s(dir.join("state").display()),
        s("--summary"),
        s(dir.join("summary.jsonl").display()),
    ];
    args.extend(extra.iter().map(s));
    let name = if dir.join("coordinator.log").exists() {
        "coordinator-restarted"
    } else {
        "coordinator"
    };
    let p = spawn(name, dir, &args);
    let end = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(a) = std::fs::read_to_string(&port_file) {
            if let Some(port) = a.rsplit(':').next().and_then(|x| x.parse().ok()) {
                return (p, port);
            }
        }
        assert!(Instant::now() < end, "coordinator did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The arguments of party `id` of the session on `port` (certificates in
/// `dir/certs`), without its input.
pub fn party_args(dir: &Path, id: u32, port: u16) -> Vec<String> {
    let c = dir.join("certs");
    vec![
        s("party"),
        s("--id"),
        s(id),
        s("--coordinator"),
        format!("https://localhost:{port}"),
        s("--ca"),
        s(c.join("ca.pem").display()),
        s("--cert"),
        s(c.join(format!("party-{id}.pem")).display()),
        s("--key"),
        s(c.join(format!("party-{id}.key")).display()),
        s("--reconnect-timeout"),
        s(30),
    ]
}

/// Starts party `id` with the demonstration inputs of `seed`.
pub fn party(dir: &Path, id: u32, port: u16, seed: u64, extra: &[&str]) -> Proc {
    let mut args = party_args(dir, id, port);
    args.extend([s("--input-seed"), s(seed)]);
    args.extend(extra.iter().map(s));
    spawn(&format!("party-{id}"), dir, &args)
}

#[derive(serde::Deserialize, Debug)]
pub struct RoundFile {
    pub round: u64,
    pub contributors: Vec<u32>,
    pub committee: Vec<u32>,
    pub precision: f64,
    pub sum: Vec<f64>,
}

pub fn result(dir: &Path, round: u64) -> RoundFile {
    let b = std::fs::read(dir.join("state").join(format!("round-{round}.json")))
        .unwrap_or_else(|e| panic!("round {round} has no result: {e}"));
    serde_json::from_slice(&b).unwrap()
}

/// Checks a round's decrypted sum against the plaintext sum of its
/// contributors' inputs.
pub fn check_sum(dir: &Path, round: u64, seed: u64, len: usize) -> RoundFile {
    let r = result(dir, round);
    assert_eq!(r.sum.len(), len);
    let mut want = vec![0.0; len];
    for &p in &r.contributors {
        for (w, x) in want.iter_mut().zip(party_input(seed, p, round, len, 1.0)) {
            *w += x;
        }
    }
    let err = r
        .sum
        .iter()
        .zip(&want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(
        err <= r.precision.max(1e-12) * 1.0001,
        "round {round}: max error {err} above the stated precision {}",
        r.precision
    );
    r
}

pub fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

pub fn summaries(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("summary.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}
