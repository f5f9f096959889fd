//! Parties submitting their own data (`--input`): updates written by numpy
//! (`.npy` of format versions 1.0, 2.0 and 3.0, float64 and float32, a
//! directory of per-round files; `.csv` with and without a header), the
//! decrypted sums — the coordinator's `state/round-<r>.json` and every
//! party's output file, in its input's format — compared with numpy's sums
//! by numpy itself; bad inputs refused with the reason in the party's log;
//! and the library callback. Needs `python3` with numpy (`.ci/run`
//! installs it).
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use hekit_mpc::input::InputSource;
use hekit_mpc::party::PartyOptions;
use hekit_mpc::session::Policy;

const MIN: Duration = Duration::from_secs(90);

/// Runs `python3 -c script args…` and returns its stdout.
fn python(script: &str, args: &[&str]) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 (with numpy) is needed by these tests");
    assert!(
        out.status.success(),
        "python3 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The reference: numpy loads every party's input files and the results
/// (the coordinator's round files and each party's outputs), sums the
/// contributors' updates in float64 and prints, per round, the largest
/// absolute difference of each result from numpy's sum, with the round's
/// stated precision. Argument: a JSON spec (below).
const COMPARE: &str = r#"
import json, sys
import numpy as np
spec = json.loads(sys.argv[1])
d, L = spec["dir"], spec["len"]

def load_csv(path):
    with open(path) as f:
        first = f.readline()
    def is_num(x):
        try:
            float(x); return True
        except ValueError:
            return False
    header = not any(is_num(x) for x in first.split(","))
    return np.loadtxt(path, delimiter=",", skiprows=int(header), ndmin=2, dtype=np.float64)

def update(p, r):
    s = spec["parties"][str(p)]
    path, kind = s["path"], s["kind"]
    if kind == "npy":
        a = np.load(path)
        a = a if a.ndim == 1 else a[r]
    elif kind == "npydir":
        a = np.load(f"{path}/round-{r}.npy").reshape(-1)
    elif kind == "csv":
        a = load_csv(path)[r]
    elif kind == "csvdir":
        a = load_csv(f"{path}/round-{r}.csv")[0]
    assert a.shape == (L,), (p, r, a.shape)
    return a.astype(np.float64)

out = []
for r in spec["rounds"]:
    res = json.load(open(f"{d}/state/round-{r}.json"))
    ref = np.sum([update(p, r) for p in res["contributors"]], axis=0, dtype=np.float64)
    diffs = {"coordinator": float(np.max(np.abs(np.array(res["sum"]) - ref)))}
    for p, s in spec["parties"].items():
        f = f"{d}/out/party-{p}-round-{r}.{s['out']}"
        got = np.load(f) if s["out"] == "npy" else np.loadtxt(f, delimiter=",", dtype=np.float64)
        assert got.dtype == np.float64 and got.shape == (L,), (f, got.dtype, got.shape)
        diffs[f"party-{p}"] = float(np.max(np.abs(got - ref)))
    out.append({"round": r, "contributors": res["contributors"], "precision": res["precision"],
                "max_abs_sum": float(np.max(np.abs(ref))), "diffs": diffs})
print(json.dumps(out))
"#;

/// Compares with numpy (above) and checks every difference against the
/// round's stated precision; returns the rounds' contributors.
fn compare_with_numpy(dir: &Path, spec: serde_json::Value) -> Vec<Vec<u32>> {
    let out = python(COMPARE, &[&spec.to_string()]);
    let rounds: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    let mut contributors = Vec::new();
    for r in &rounds {
        let precision = r["precision"].as_f64().unwrap();
        eprintln!(
            "round {}: stated precision {precision:e}, |sum| ≤ {:.3}, max |result − numpy| = {}",
            r["round"], r["max_abs_sum"], r["diffs"]
        );
        assert!(precision > 0.0 && precision < 1e-3, "{r}");
        for (who, d) in r["diffs"].as_object().unwrap() {
            let d = d.as_f64().unwrap();
            assert!(
                d <= precision * 1.0001,
                "{who}, round {}: {d:e} from numpy's sum, above the stated precision {precision:e} ({})",
                r["round"],
                dir.display()
            );
        }
        contributors.push(
            r["contributors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_u64().unwrap() as u32)
                .collect(),
        );
    }
    contributors
}

fn args(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(|x| x.as_str()).collect()
}

/// Starts party `id` reading `input`, writing its sums to `dir/out`.
fn input_party(dir: &Path, id: u32, port: u16, input: &Path, extra: &[&str]) -> Proc {
    let mut args = party_args(dir, id, port);
    args.extend([
        s("--input"),
        s(input.display()),
        s("--output-dir"),
        s(dir.join("out").display()),
    ]);
    args.extend(extra.iter().map(s));
    spawn(&format!("party-{id}"), dir, &args)
}

fn run_session(dir: &Path, coord_args: &[String], inputs: &[(u32, &Path, &[&str])]) -> Vec<Proc> {
    let (mut coord, port) = coordinator(dir, "127.0.0.1:0", &refs(coord_args));
    let mut parties: Vec<Proc> = inputs
        .iter()
        .map(|(id, p, extra)| input_party(dir, *id, port, p, extra))
        .collect();
    let st = coord.wait(MIN).expect("coordinator timed out");
    assert!(st.success(), "{}", coord.log_text());
    for p in &mut parties {
        assert!(p.wait(MIN).unwrap().success(), "{}", p.log_text());
    }
    parties.push(coord);
    parties
}

/// Threshold CKKS, 3 parties (t = 2), 3 rounds of 1000 values: party 1
/// reads a 2-D float64 `.npy` (format 1.0), party 2 a 2-D float32 `.npy`
/// (format 2.0), party 3 a directory of 1-D `round-<r>.npy` (format 3.0)
/// with values spread over seven orders of magnitude. Every sum equals
/// numpy's within the round's stated precision; each party writes its
/// sums as float64 `.npy`.
#[test]
fn npy_updates_match_numpy() {
    let _g = serial();
    let dir = Dir::new("npy");
    let d = dir.0.display().to_string();
    python(
        r#"
import os, sys
import numpy as np
d, R, L = sys.argv[1], 3, 1000
rng = np.random.default_rng(20240515)
np.save(f"{d}/party-1.npy", rng.uniform(-8, 8, size=(R, L)))
u2 = np.clip(rng.normal(0, 3, size=(R, L)), -15, 15).astype(np.float32)
with open(f"{d}/party-2.npy", "wb") as f:
    np.lib.format.write_array(f, u2, version=(2, 0))
os.makedirs(f"{d}/party-3")
for r in range(R):
    u3 = rng.uniform(-1, 1, size=L) * 10.0 ** rng.uniform(-6, 1, size=L)
    with open(f"{d}/party-3/round-{r}.npy", "wb") as f:
        np.lib.format.write_array(f, u3, version=(3, 0))
"#,
        &[&d],
    );
    gen_certs(&dir.0, 3);
    let coord = args(&[
        "--parties",
        "3",
        "--threshold",
        "2",
        "--rounds",
        "3",
        "--len",
        "1000",
        "--round-timeout",
        "30",
        "--phase-timeout",
        "30",
        "--join-timeout",
        "30",
    ]);
    let (p1, p2, p3) = (
        dir.0.join("party-1.npy"),
        dir.0.join("party-2.npy"),
        dir.0.join("party-3"),
    );
    let procs = run_session(
        &dir.0,
        &coord,
        &[(1, &p1, &[]), (2, &p2, &[]), (3, &p3, &[])],
    );
    let log = procs[2].log_text();
    assert!(log.contains("party-3/round-<r>.npy"), "{log}");
    let spec = serde_json::json!({
        "dir": d, "len": 1000, "rounds": [0, 1, 2],
        "parties": {
            "1": {"path": p1, "kind": "npy", "out": "npy"},
            "2": {"path": p2, "kind": "npy", "out": "npy"},
            "3": {"path": p3, "kind": "npydir", "out": "npy"},
        }
    });
    for c in compare_with_numpy(&dir.0, spec) {
        assert_eq!(c, vec![1, 2, 3]);
    }
    // released rounds keep their result, not their encrypted updates
    for r in 0..3 {
        assert!(!dir.0.join(format!("state/round-{r}.log")).exists());
    }
}

/// Threshold Paillier (published test primes: insecure, tests only), 3
/// parties, 2 rounds of 200 values from CSV: party 1's file has a header
/// line, party 2's has none (numbers printed with 17 digits), party 3 reads
/// a directory of `round-<r>.csv`. Sums equal numpy's within the stated
/// precision; each party writes its sums as `.csv`.
#[test]
fn csv_updates_match_numpy() {
    let _g = serial();
    let dir = Dir::new("csv");
    let d = dir.0.display().to_string();
    python(
        r#"
import os, sys
import numpy as np
d, R, L = sys.argv[1], 2, 200
rng = np.random.default_rng(7)
hdr = ",".join(f"w{i}" for i in range(L))
np.savetxt(f"{d}/party-1.csv", rng.uniform(-5, 5, size=(R, L)), delimiter=",", fmt="%.6f", header=hdr, comments="")
np.savetxt(f"{d}/party-2.csv", rng.normal(0, 2, size=(R, L)).clip(-15, 15), delimiter=",", fmt="%.17g")
os.makedirs(f"{d}/party-3")
for r in range(R):
    np.savetxt(f"{d}/party-3/round-{r}.csv", rng.uniform(-1, 1, size=(1, L)), delimiter=", ", fmt="%.9e")
"#,
        &[&d],
    );
    gen_certs(&dir.0, 3);
    let coord = args(&[
        "--parties",
        "3",
        "--threshold",
        "2",
        "--rounds",
        "2",
        "--len",
        "200",
        "--scheme",
        "paillier",
        "--paillier-insecure-test-primes",
        "--round-timeout",
        "30",
        "--phase-timeout",
        "30",
        "--join-timeout",
        "30",
    ]);
    let (p1, p2, p3) = (
        dir.0.join("party-1.csv"),
        dir.0.join("party-2.csv"),
        dir.0.join("party-3"),
    );
    let insecure: &[&str] = &["--allow-insecure-test-primes"];
    run_session(
        &dir.0,
        &coord,
        &[(1, &p1, insecure), (2, &p2, insecure), (3, &p3, insecure)],
    );
    let spec = serde_json::json!({
        "dir": d, "len": 200, "rounds": [0, 1],
        "parties": {
            "1": {"path": p1, "kind": "csv", "out": "csv"},
            "2": {"path": p2, "kind": "csv", "out": "csv"},
            "3": {"path": p3, "kind": "csvdir", "out": "csv"},
        }
    });
    for c in compare_with_numpy(&dir.0, spec) {
        assert_eq!(c, vec![1, 2, 3]);
    }
}

/// Bad inputs, 4 parties (t = 3), 3 rounds of 64 values: party 3's
/// round-0 file has 63 values, its round-1 file a NaN, its round-2 file
/// int64 values; party 4's CSV has a value of 40 (beyond `max_abs` = 16) in
/// round 1 and no row for round 2. Each of those rounds is refused by the
/// party with the file and the reason in its log (the coordinator is told
/// only that the party has no usable input: no value leaves the party); the
/// sums of the others are released and equal numpy's. A missing `--input`
/// path stops the party at start.
#[test]
fn bad_inputs_are_refused() {
    let _g = serial();
    let dir = Dir::new("badinput");
    let d = dir.0.display().to_string();
    python(
        r#"
import os, sys
import numpy as np
d, R, L = sys.argv[1], 3, 64
rng = np.random.default_rng(3)
np.save(f"{d}/party-1.npy", rng.uniform(-4, 4, size=(R, L)))
np.save(f"{d}/party-2.npy", rng.uniform(-4, 4, size=(R, L)))
os.makedirs(f"{d}/party-3")
np.save(f"{d}/party-3/round-0.npy", rng.uniform(-4, 4, size=L - 1))
u = rng.uniform(-4, 4, size=L); u[5] = np.nan
np.save(f"{d}/party-3/round-1.npy", u)
np.save(f"{d}/party-3/round-2.npy", np.arange(L, dtype=np.int64))
u = rng.uniform(-4, 4, size=(2, L)); u[1, 7] = 40.0
np.savetxt(f"{d}/party-4.csv", u, delimiter=",", fmt="%.17g")
"#,
        &[&d],
    );
    gen_certs(&dir.0, 4);

    // a missing input stops the party before it connects
    let mut p = input_party(&dir.0, 1, 9, &dir.0.join("nope.npy"), &[]);
    assert!(!p.wait(MIN).unwrap().success());
    assert!(
        p.log_text().contains("nope.npy: No such file"),
        "{}",
        p.log_text()
    );
    std::fs::remove_file(&p.log).unwrap();
    drop(p);

    let coord = args(&[
        "--parties",
        "4",
        "--threshold",
        "3",
        "--rounds",
        "3",
        "--len",
        "64",
        "--round-timeout",
        "20",
        "--phase-timeout",
        "30",
        "--join-timeout",
        "30",
    ]);
    let paths = [
        dir.0.join("party-1.npy"),
        dir.0.join("party-2.npy"),
        dir.0.join("party-3"),
        dir.0.join("party-4.csv"),
    ];
    let procs = run_session(
        &dir.0,
        &coord,
        &[
            (1, &paths[0], &[]),
            (2, &paths[1], &[]),
            (3, &paths[2], &[]),
            (4, &paths[3], &[]),
        ],
    );
    let log3 = procs[2].log_text();
    for want in [
        "round-0.npy: round 0: 63 values, the session's --len is 64",
        "round-1.npy: round 1: value 5 is NaN (NaN and infinities are refused)",
        "round-2.npy: dtype \"<i8\" (signed integers); float64 ('<f8') or float32 ('<f4') is needed",
    ] {
        assert!(log3.contains(want), "no {want:?} in party 3's log:\n{log3}");
    }
    let log4 = procs[3].log_text();
    for want in [
        "party-4.csv: holds 2 round(s), the session has 3: rounds 2.. will be refused",
        "party-4.csv: round 1: value 7 = 40 is outside the session's bound ±16 (max_abs)",
        "party-4.csv: round 2: missing (the file holds 2 round(s), one per row)",
    ] {
        assert!(log4.contains(want), "no {want:?} in party 4's log:\n{log4}");
    }
    assert_eq!(log3.matches("task refused").count(), 3, "{log3}");
    assert_eq!(log4.matches("task refused").count(), 2, "{log4}");
    let clog = procs[4].log_text();
    assert!(
        clog.contains("this party has no usable input for this round"),
        "{clog}"
    );
    assert!(
        !clog.contains("= 40"),
        "a party's value reached the coordinator: {clog}"
    );
    let spec = serde_json::json!({
        "dir": d, "len": 64, "rounds": [0, 1, 2],
        "parties": {
            "1": {"path": paths[0], "kind": "npy", "out": "npy"},
            "2": {"path": paths[1], "kind": "npy", "out": "npy"},
            "3": {"path": paths[2], "kind": "npydir", "out": "npy"},
            "4": {"path": paths[3], "kind": "csv", "out": "csv"},
        }
    });
    let contributors = compare_with_numpy(&dir.0, spec);
    assert_eq!(contributors, vec![vec![1, 2, 4], vec![1, 2], vec![1, 2]]);
}

/// The library hook: three parties run in this process
/// (`hekit_mpc::party::run`) with `InputSource::Callback`; the sums equal
/// the callbacks' sums within the stated precision.
#[test]
fn callback_input() {
    let _g = serial();
    let dir = Dir::new("callback");
    gen_certs(&dir.0, 3);
    const LEN: usize = 100;
    let coord_args = args(&[
        "--parties",
        "3",
        "--threshold",
        "2",
        "--rounds",
        "2",
        "--len",
        "100",
        "--round-timeout",
        "30",
        "--phase-timeout",
        "30",
        "--join-timeout",
        "30",
    ]);
    let (mut coord, port) = coordinator(&dir.0, "127.0.0.1:0", &refs(&coord_args));
    let value = |p: u32, r: u64, i: usize| (p as f64) * 0.5 - (r as f64) * 1.25 + i as f64 * 1e-3;
    let threads: Vec<_> = (1..=3u32)
        .map(|id| {
            let c = dir.0.join("certs");
            let opts = PartyOptions {
                id,
                coordinator: format!("https://localhost:{port}"),
                domain: None,
                ca: c.join("ca.pem"),
                cert: c.join(format!("party-{id}.pem")),
                key: c.join(format!("party-{id}.key")),
                input: InputSource::Callback(Arc::new(move |round, len| {
                    Ok((0..len).map(|i| value(id, round, i)).collect())
                })),
                expect_parties: Some(3),
                expect_threshold: None,
                policy: Policy::default(),
                allow_insecure: false,
                reconnect_timeout: Duration::from_secs(30),
                output_dir: Some(dir.0.join("out")),
                submit_delay: Duration::ZERO,
                misbehave: Vec::new(),
            };
            std::thread::spawn(move || {
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .enable_all()
                    .build()
                    .unwrap()
                    .block_on(hekit_mpc::party::run(opts))
            })
        })
        .collect();
    let st = coord.wait(MIN).expect("coordinator timed out");
    assert!(st.success(), "{}", coord.log_text());
    for t in threads {
        t.join().unwrap().unwrap();
    }
    for round in 0..2u64 {
        let r = result(&dir.0, round);
        assert_eq!(r.contributors, vec![1, 2, 3]);
        let out: serde_json::Value = serde_json::from_slice(
            &std::fs::read(dir.0.join(format!("out/party-2-round-{round}.json"))).unwrap(),
        )
        .unwrap();
        let party_sum: Vec<f64> = serde_json::from_value(out["sum"].clone()).unwrap();
        assert_eq!((r.sum.len(), party_sum.len()), (LEN, LEN));
        for (i, (&a, &b)) in r.sum.iter().zip(&party_sum).enumerate() {
            let want: f64 = (1..=3).map(|p| value(p, round, i)).sum();
            for got in [a, b] {
                assert!(
                    (got - want).abs() <= r.precision,
                    "round {round}, value {i}"
                );
            }
        }
    }
}
