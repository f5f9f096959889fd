//! Issue 13 replayed against real processes: a coordinator that deviates
//! (hidden `--misbehave-coordinator` modes) or proposes weak settings. The
//! honest parties refuse, say why in their logs, and no individual update
//! is ever decrypted.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::*;

const MIN: Duration = Duration::from_secs(60);

fn args(parties: u32, threshold: u32, rounds: u64, len: usize, extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = [
        "--parties",
        &parties.to_string(),
        "--threshold",
        &threshold.to_string(),
        "--rounds",
        &rounds.to_string(),
        "--len",
        &len.to_string(),
        "--round-timeout",
        "20",
        "--phase-timeout",
        "30",
        "--join-timeout",
        "30",
    ]
    .iter()
    .map(|x| x.to_string())
    .collect();
    v.extend(extra.iter().map(|x| x.to_string()));
    v
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(|x| x.as_str()).collect()
}

/// Runs a session that must fail in key generation; returns the
/// coordinator's log and the parties' logs.
fn failed_keygen(
    name: &str,
    n: u32,
    coord_args: &[String],
    party_args: &[&str],
) -> (String, Vec<String>) {
    let dir = Dir::new(name);
    gen_certs(&dir.0, n);
    let (mut coord, port) = coordinator(&dir.0, "127.0.0.1:0", &refs(coord_args));
    let mut parties: Vec<Proc> = (1..=n)
        .map(|i| party(&dir.0, i, port, 30, party_args))
        .collect();
    let st = coord.wait(MIN).expect("coordinator timed out");
    assert!(!st.success(), "{}", coord.log_text());
    let mut logs = Vec::new();
    for p in &mut parties {
        let st = p.wait(MIN).expect("party timed out");
        assert!(!st.success(), "{}", p.log_text());
        logs.push(p.log_text());
    }
    assert!(!dir.0.join("state/keys.bin").exists());
    assert!(!dir.0.join("state/round-0.json").exists());
    (coord.log_text(), logs)
}

/// Finding 1: the coordinator relays a public-key share of its own in party
/// 3's name, so that it would know the collective secret. Party 3 signed a
/// commitment to its real share before any share was revealed: every party
/// finds the relayed share is not the committed one and stops in key
/// generation, before dealing or encrypting anything.
#[test]
fn substituted_public_key_share_is_detected() {
    let _g = serial();
    let a = args(3, 2, 1, 8, &["--misbehave-coordinator", "substitute-key"]);
    let (coord, logs) = failed_keygen("pksub", 3, &a, &[]);
    assert!(
        coord.contains("public-key share of the coordinator's own"),
        "{coord}"
    );
    for log in &logs {
        assert!(
            log.contains("the coordinator is faulty: the public-key share relayed for party 3 is not the one it committed to"),
            "{log}"
        );
        assert!(
            !log.contains("Shamir share of the joint secret received"),
            "{log}"
        );
        assert!(!log.contains("collective key confirmed"), "{log}");
    }
}

/// The coordinator leaves party 3's share out of the relayed shares (a key
/// without party 3's secret): every party refuses.
#[test]
fn dropped_public_key_share_is_detected() {
    let _g = serial();
    let a = args(3, 2, 1, 8, &["--misbehave-coordinator", "drop-key-share"]);
    let (_, logs) = failed_keygen("pkdrop", 3, &a, &[]);
    for log in &logs {
        assert!(
            log.contains("the coordinator is faulty: relayed 2 public-key shares for 3 parties"),
            "{log}"
        );
    }
}

/// Finding 3: λ = 0 (no flooding at all) and t = 1 (every Shamir share
/// would be the whole joint secret) are refused by every party's own
/// policy, whatever the coordinator proposes.
#[test]
fn weak_lambda_and_threshold_are_refused_by_the_parties() {
    let _g = serial();
    let a = args(3, 2, 1, 8, &["--lambda", "0", "--insecure-weak-smudging"]);
    let (_, logs) = failed_keygen("lambda0", 3, &a, &[]);
    for log in &logs {
        assert!(
            log.contains(
                "refused by this party's policy: smudging λ = 0 is below this party's minimum 40"
            ),
            "{log}"
        );
    }
    let a = args(3, 1, 1, 8, &[]);
    let (_, logs) = failed_keygen("t1", 3, &a, &[]);
    for log in &logs {
        assert!(
            log.contains("refused by this party's policy: threshold t = 1 of 3 parties is below this party's minimum 2"),
            "{log}"
        );
    }
}

/// Finding 2: in round 0 the coordinator asks the committee to decrypt
/// party 1's real update next to a zero it encrypted in party 2's name. Every
/// committee member refuses (the forged update carries no signature of
/// party 2, and the contributors approved another set); the coordinator then
/// runs the honest decryption, whose sum is right.
#[test]
fn forged_contributor_is_refused() {
    let _g = serial();
    let dir = Dir::new("forge");
    gen_certs(&dir.0, 5);
    let a = args(
        5,
        3,
        1,
        100,
        &["--misbehave-coordinator", "forge-contributor"],
    );
    let (mut coord, port) = coordinator(&dir.0, "127.0.0.1:0", &refs(&a));
    let mut parties: Vec<Proc> = (1..=5).map(|i| party(&dir.0, i, port, 31, &[])).collect();
    let st = coord.wait(MIN).expect("coordinator timed out");
    assert!(st.success(), "{}", coord.log_text());
    let log = coord.log_text();
    assert!(
        log.contains("every committee member refused the forged sum"),
        "{log}"
    );
    assert!(
        !log.contains("decryption shares of the forged sum"),
        "{log}"
    );
    let r = check_sum(&dir.0, 0, 31, 100);
    assert_eq!(r.contributors, vec![1, 2, 3, 4, 5]);
    let mut refused = 0;
    for p in &mut parties {
        assert!(p.wait(MIN).unwrap().success(), "{}", p.log_text());
        let l = p.log_text();
        if l.contains("task refused") {
            assert!(l.contains("the coordinator is faulty"), "{l}");
            refused += 1;
        }
    }
    assert_eq!(refused, 3, "the whole committee refused");
}

/// "Each round's sum is released once": after round 0 is released, the
/// coordinator asks the committee for a second sum of round 0 (all
/// contributors but the last, whose difference with the first would be that
/// party's update). Every member refuses.
#[test]
fn second_sum_of_a_round_is_refused() {
    let _g = serial();
    let dir = Dir::new("repeat");
    gen_certs(&dir.0, 5);
    let a = args(
        5,
        3,
        2,
        100,
        &["--misbehave-coordinator", "repeat-decryption"],
    );
    let (mut coord, port) = coordinator(&dir.0, "127.0.0.1:0", &refs(&a));
    let mut parties: Vec<Proc> = (1..=5).map(|i| party(&dir.0, i, port, 32, &[])).collect();
    let st = coord.wait(MIN).expect("coordinator timed out");
    assert!(st.success(), "{}", coord.log_text());
    let log = coord.log_text();
    assert!(
        log.contains("every committee member refused a second sum of the round"),
        "{log}"
    );
    assert!(!log.contains("decryption shares of a second sum"), "{log}");
    check_sum(&dir.0, 0, 32, 100);
    check_sum(&dir.0, 1, 32, 100);
    let mut refused = 0;
    for p in &mut parties {
        assert!(p.wait(MIN).unwrap().success(), "{}", p.log_text());
        let l = p.log_text();
        if l.contains("task refused") {
            assert!(
                l.contains("did not approve this contributor set")
                    || l.contains("not expected here"),
                "{l}"
            );
            refused += 1;
        }
    }
    assert_eq!(refused, 3, "the whole committee refused");
}
