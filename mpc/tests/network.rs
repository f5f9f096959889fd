//! Real processes on loopback: a coordinator and 5 parties (t = 3) over
//! gRPC with mutual TLS. Each test checks the decrypted sums against the
//! plaintext sums of the contributors' inputs.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::*;
use hekit_mpc::store::Store;

const LEN: usize = 1000;
const MIN: Duration = Duration::from_secs(60);

fn ckks_args(rounds: u64) -> Vec<String> {
    [
        "--parties",
        "5",
        "--threshold",
        "3",
        "--rounds",
        &rounds.to_string(),
        "--len",
        &LEN.to_string(),
        "--round-timeout",
        "20",
        "--phase-timeout",
        "30",
        "--join-timeout",
        "30",
    ]
    .iter()
    .map(|x| x.to_string())
    .collect()
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(|x| x.as_str()).collect()
}

/// Key generation (public, relinearization and Galois keys) + 3 rounds +
/// threshold decryption, all 5 parties alive.
#[test]
fn five_parties_three_rounds() {
    let _g = serial();
    let dir = Dir::new("five");
    gen_certs(&dir.0, 5);
    let mut args = ckks_args(3);
    args.extend(["--relin", "--galois", "1,2,-1"].map(String::from));
    let (mut coord, port) = coordinator(&dir.0, "127.0.0.1:0", &refs(&args));
    let mut parties: Vec<Proc> = (1..=5).map(|i| party(&dir.0, i, port, 11, &[])).collect();
    let st = coord.wait(MIN).expect("coordinator timed out");
    assert!(st.success(), "{}", coord.log_text());
    for p in &mut parties {
        assert!(p.wait(MIN).unwrap().success(), "{}", p.log_text());
    }
    let log = coord.log_text();
    assert!(log.contains("collective relinearization key"), "{log}");
    assert!(log.contains("collective Galois keys"), "{log}");
    for round in 0..3 {
        let r = check_sum(&dir.0, round, 11, LEN);
        assert_eq!(r.contributors, vec![1, 2, 3, 4, 5]);
        assert_eq!(r.committee.len(), 3);
    }
    let s = summaries(&dir.0);
    assert!(s.iter().any(|v| v["done"] == true), "{s:?}");
    assert_eq!(s.iter().filter(|v| v.get("round").is_some()).count(), 3);
}

/// Two parties are SIGKILLed in the middle of round 1, before they
/// submitted: rounds 1 and 2 complete with the 3 that remain (t = 3).
#[test]
fn two_parties_killed_mid_round() {
    let _g = serial();
    let dir = Dir::new("kill2");
    gen_certs(&dir.0, 5);
    let (mut coord, port) = coordinator(&dir.0, "127.0.0.1:0", &refs(&ckks_args(3)));
    let mut parties: Vec<Proc> = (1..=5)
        .map(|i| {
            let delay = if i > 3 { "4000" } else { "700" };
            party(&dir.0, i, port, 12, &["--submit-delay-ms", delay])
        })
        .collect();
    let store = Store::open(&dir.0.join("state")).unwrap();
    wait_until("round 1 to start", MIN, || {
        !store.contributions(1).unwrap_or_default().is_empty()
    });
    parties[3].kill();
    parties[4].kill();
    let st = coord.wait(MIN).expect("coordinator timed out");
    assert!(st.success(), "{}", coord.log_text());
    for round in 0..3 {
        let r = check_sum(&dir.0, round, 12, LEN);
        match round {
            0 => assert_eq!(r.contributors, vec![1, 2, 3, 4, 5]),
            _ => assert_eq!(r.contributors, vec![1, 2, 3]),
        }
        assert!(r.committee.iter().all(|p| *p <= 3) || round == 0);
    }
    assert!(coord.log_text().contains("party disconnected: dropped"));
    for p in &mut parties[..3] {
        assert!(p.wait(MIN).unwrap().success(), "{}", p.log_text());
    }
}

/// A contributor that does not approve the round's contributor set (as one
/// that dies between submitting and approving) leaves the round unreleased —
/// a smaller set would need the others to approve a second set, which they
/// refuse — and the session goes on with the next round.
#[test]
fn unapproved_round_is_not_released() {
    let _g = serial();
    let dir = Dir::new("noapprove");
    gen_certs(&dir.0, 5);
    let (mut coord, port) = coordinator(&dir.0, "127.0.0.1:0", &refs(&ckks_args(2)));
    let mut parties: Vec<Proc> = (1..=5)
        .map(|i| {
            let bad: &[&str] = if i == 5 {
                &["--misbehave", "no-approve@0"]
            } else {
                &[]
            };
            party(&dir.0, i, port, 16, bad)
        })
        .collect();
    let st = coord.wait(MIN).expect("coordinator timed out");
    assert!(st.success(), "{}", coord.log_text());
    assert!(!dir.0.join("state/round-0.json").exists());
    let skipped = std::fs::read_to_string(dir.0.join("state/round-0.skipped")).unwrap();
    assert!(skipped.contains("{5} did not approve"), "{skipped}");
    assert!(!dir.0.join("state/round-0.log").exists());
    let r1 = check_sum(&dir.0, 1, 16, LEN);
    assert_eq!(r1.contributors, vec![1, 2, 3, 4, 5]);
    for p in &mut parties {
        assert!(p.wait(MIN).unwrap().success(), "{}", p.log_text());
        let log = p.log_text();
        assert!(
            !log.lines()
                .any(|l| l.contains("round result") && l.contains("round=0 ")),
            "no result of round 0: {log}"
        );
    }
}

/// Three of five parties killed with t = 3: the round fails with a clear
/// error and a non-zero exit code.
#[test]
fn three_parties_killed_fails_clearly() {
    let _g = serial();
    let dir = Dir::new("kill3");
    gen_certs(&dir.0, 5);
    let (mut coord, port) = coordinator(&dir.0, "127.0.0.1:0", &refs(&ckks_args(3)));
    let mut parties: Vec<Proc> = (1..=5)
        .map(|i| {
            let delay = if i > 2 { "4000" } else { "700" };
            party(&dir.0, i, port, 13, &["--submit-delay-ms", delay])
        })
        .collect();
    let store = Store::open(&dir.0.join("state")).unwrap();
    wait_until("round 1 to start", MIN, || {
        !store.contributions(1).unwrap_or_default().is_empty()
    });
    for p in &mut parties[2..] {
        p.kill();
    }
    let st = coord.wait(MIN).expect("coordinator timed out");
    assert!(!st.success());
    let log = coord.log_text();
    assert!(
        log.contains("only 2 parties alive, 3 needed"),
        "no clear error in: {log}"
    );
    check_sum(&dir.0, 0, 13, LEN);
    assert!(!dir.0.join("state/round-1.json").exists());
}

/// Misbehaving parties: garbage, a replayed update, an update under another
/// key, an update in another party's name, a duplicate, a garbage and a
/// shifted decryption share and an oversized update are refused with logged reasons, and a party whose
/// certificate names no party of the session is refused; the sums stay right.
#[test]
fn misbehaving_parties_are_refused() {
    let _g = serial();
    let dir = Dir::new("garbage");
    gen_certs(&dir.0, 6); // party 6 is not in the 5-party session

    let (mut coord, port) = coordinator(&dir.0, "127.0.0.1:0", &refs(&ckks_args(3)));
    let mut stranger = party(&dir.0, 6, port, 14, &[]);
    let st = stranger.wait(MIN).expect("unknown party timed out");
    assert!(!st.success());
    assert!(
        stranger.log_text().contains("unknown party"),
        "{}",
        stranger.log_text()
    );
    let mut parties: Vec<Proc> = (1..=5)
        .map(|i| {
            let bad: &[&str] = match i {
                2 => &["--misbehave", "oversize@1,key-recovery@2"],
                3 => &["--misbehave", "shift-share@1,bad-share@2"],
                4 => &["--misbehave", "impersonate@1,duplicate@2"],
                5 => &["--misbehave", "garbage@0,replay@1,wrong-key@2"],
                _ => &[],
            };
            party(&dir.0, i, port, 14, bad)
        })
        .collect();
    let st = coord.wait(MIN).expect("coordinator timed out");
    assert!(st.success(), "{}", coord.log_text());
    let r0 = check_sum(&dir.0, 0, 14, LEN);
    let r1 = check_sum(&dir.0, 1, 14, LEN);
    let r2 = check_sum(&dir.0, 2, 14, LEN);
    assert_eq!(r0.contributors, vec![1, 2, 3, 4]);
    assert_eq!(r1.contributors, vec![1, 3]);
    // party 3's round-1 share is shifted (a valid-looking share moving the
    // result): its proof fails, party 3 is named and excluded, and another
    // committee completes the round with the right sum
    assert!(!r1.committee.contains(&3), "{:?}", r1.committee);
    // party 2's round-2 update is the key-recovery update (0, ⌊Q/64⌋)
    // without a proof: refused, the round goes on without it
    assert_eq!(r2.contributors, vec![1, 3, 4]);
    assert!(!r2.committee.contains(&3), "{:?}", r2.committee);
    let log = coord.log_text();
    for reason in [
        "malformed encrypted update",
        "update for round 0, this is round 1",
        "in the name of party",
        "ciphertext under another collective key",
        "malformed decryption share",
        "unknown party refused",
        "oversized submission refused",
        "carries no proof",
        "decryption share of party 3",
    ] {
        assert!(log.contains(reason), "no {reason:?} in the log:\n{log}");
    }
    // party 4's second update of round 2 is refused, as a duplicate or, if
    // it arrives once the round moved on to approvals, as stale
    assert!(
        log.contains("duplicate submission")
            || log.contains("party=4 reason=unexpected Update submission for round 2"),
        "{log}"
    );
    for p in &mut parties {
        assert!(p.wait(MIN).unwrap().success(), "{}", p.log_text());
    }
}

/// Threshold Paillier session (the published test primes: insecure, tests
/// only): dealer party 1, 2 rounds.
#[test]
fn paillier_session() {
    let _g = serial();
    let dir = Dir::new("paillier");
    gen_certs(&dir.0, 5);
    let mut args = ckks_args(2);
    args.extend(["--scheme", "paillier", "--paillier-insecure-test-primes"].map(String::from));
    let (mut coord, port) = coordinator(&dir.0, "127.0.0.1:0", &refs(&args));
    let mut parties: Vec<Proc> = (1..=5)
        .map(|i| party(&dir.0, i, port, 15, &["--allow-insecure-test-primes"]))
        .collect();
    let st = coord.wait(MIN).expect("coordinator timed out");
    assert!(st.success(), "{}", coord.log_text());
    for round in 0..2 {
        let r = check_sum(&dir.0, round, 15, LEN);
        assert_eq!(r.contributors, vec![1, 2, 3, 4, 5]);
    }
    for p in &mut parties {
        assert!(p.wait(MIN).unwrap().success(), "{}", p.log_text());
    }
}

/// The coordinator is SIGKILLed after accepting 3 of 5 updates of round 0
/// and restarted on the same state directory and port: the 3 persisted
/// updates are restored (re-validated), the other 2 parties resubmit after
/// reconnecting, and the round completes with all 5.
#[test]
fn coordinator_restart_keeps_contributions() {
    let _g = serial();
    let dir = Dir::new("restart");
    gen_certs(&dir.0, 5);
    let args = ckks_args(2);
    let (mut coord, port) = coordinator(&dir.0, "127.0.0.1:0", &refs(&args));
    let mut parties: Vec<Proc> = (1..=5)
        .map(|i| {
            let d: &[&str] = if i >= 4 {
                &["--submit-delay-ms", "4000"]
            } else {
                &[]
            };
            party(&dir.0, i, port, 16, d)
        })
        .collect();
    let store = Store::open(&dir.0.join("state")).unwrap();
    wait_until("3 accepted updates", MIN, || {
        store.contributions(0).unwrap_or_default().len() >= 3
    });
    coord.kill();
    let (mut coord, _) = coordinator(&dir.0, &format!("127.0.0.1:{port}"), &refs(&args));
    let st = coord.wait(MIN).expect("restarted coordinator timed out");
    assert!(st.success(), "{}", coord.log_text());
    let log = coord.log_text();
    assert!(log.contains("restored persisted updates"), "{log}");
    for round in 0..2 {
        let r = check_sum(&dir.0, round, 16, LEN);
        assert_eq!(r.contributors, vec![1, 2, 3, 4, 5]);
    }
    let s = summaries(&dir.0);
    assert!(
        s.iter().any(|v| v["round"] == 0 && v["restored"] == 3),
        "{s:?}"
    );
    for p in &mut parties {
        assert!(p.wait(MIN).unwrap().success(), "{}", p.log_text());
    }
}

/// A party sending Galois-key shares in another party's name is refused
/// (the share's `party()` differs from its certificate) with a logged
/// reason before anything is aggregated; key generation needs every party,
/// so the session fails clearly.
#[test]
fn keygen_share_in_another_name_is_refused() {
    let _g = serial();
    let dir = Dir::new("keyimp");
    gen_certs(&dir.0, 3);
    let args: Vec<String> = [
        "--parties",
        "3",
        "--threshold",
        "2",
        "--rounds",
        "1",
        "--len",
        "8",
        "--galois",
        "1",
        "--phase-timeout",
        "30",
        "--join-timeout",
        "30",
    ]
    .iter()
    .map(|x| x.to_string())
    .collect();
    let (mut coord, port) = coordinator(&dir.0, "127.0.0.1:0", &refs(&args));
    let _parties: Vec<Proc> = (1..=3)
        .map(|i| {
            let bad: &[&str] = if i == 2 {
                &["--misbehave", "impersonate-keygen"]
            } else {
                &[]
            };
            party(&dir.0, i, port, 15, bad)
        })
        .collect();
    let st = coord.wait(MIN).expect("coordinator timed out");
    assert!(!st.success());
    let log = coord.log_text();
    for reason in [
        "Galois-key share in the name of party 3",
        "key generation (Galois keys) needs every party",
    ] {
        assert!(log.contains(reason), "no {reason:?} in the log:\n{log}");
    }
    assert!(!dir.0.join("state/keys.bin").exists());
}

/// A malicious coordinator relays its own X25519 key as party 3's (with
/// party 3's certificate and signature) to parties 1 and 2: they find the
/// key is not signed by party 3's certificate and refuse the session before
/// sealing anything; key generation fails and the coordinator exits
/// non-zero without having opened any box.
#[test]
fn substituted_e2e_key_is_detected() {
    let _g = serial();
    let dir = Dir::new("e2esub");
    gen_certs(&dir.0, 3);
    let args: Vec<String> = [
        "--parties",
        "3",
        "--threshold",
        "2",
        "--rounds",
        "1",
        "--len",
        "8",
        "--phase-timeout",
        "30",
        "--join-timeout",
        "30",
        "--misbehave-coordinator",
        "substitute-e2e-key",
    ]
    .iter()
    .map(|x| x.to_string())
    .collect();
    let (mut coord, port) = coordinator(&dir.0, "127.0.0.1:0", &refs(&args));
    let mut parties: Vec<Proc> = (1..=3).map(|i| party(&dir.0, i, port, 17, &[])).collect();
    let st = coord.wait(MIN).expect("coordinator timed out");
    assert!(!st.success(), "{}", coord.log_text());
    for p in &mut parties {
        assert!(!p.wait(MIN).unwrap().success(), "{}", p.log_text());
    }
    for p in &parties[..2] {
        let log = p.log_text();
        assert!(
            log.contains("end-to-end key of party 3 is not signed by its certificate"),
            "no clear error in {}:\n{log}",
            p.name
        );
        assert!(
            log.contains("refusing to seal to or open from this party"),
            "{log}"
        );
    }
    let log = coord.log_text();
    assert!(
        log.contains("relaying the coordinator's own end-to-end key"),
        "{log}"
    );
    assert!(log.contains("key generation"), "{log}");
    assert!(!log.contains("Shamir dealing done"), "{log}");
    assert!(!log.contains("opened a box"), "{log}");
    assert!(!dir.0.join("state/keys.bin").exists());
}

/// A party announcing another X25519 key than the one its certificate
/// signed is refused by the coordinator when it connects (early, logged
/// refusal; the parties would refuse the key too).
#[test]
fn unsigned_e2e_key_is_refused_at_hello() {
    let _g = serial();
    let dir = Dir::new("e2ehello");
    gen_certs(&dir.0, 3);
    let args: Vec<String> = ["--parties", "3", "--threshold", "2", "--len", "8"]
        .iter()
        .map(|x| x.to_string())
        .collect();
    let (coord, port) = coordinator(&dir.0, "127.0.0.1:0", &refs(&args));
    let mut p = party(&dir.0, 1, port, 18, &["--misbehave", "forge-e2e-key"]);
    let st = p.wait(MIN).expect("party timed out");
    assert!(!st.success());
    let log = p.log_text();
    assert!(
        log.contains("end-to-end key of party 1 is not signed by its certificate"),
        "{log}"
    );
    let log = coord.log_text();
    assert!(log.contains("connection refused"), "{log}");
    assert!(!log.contains("party connected"), "{log}");
}
