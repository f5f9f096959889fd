//! Secret material never shows up in `Debug` output, and serialized secrets
//! come back in buffers that are wiped on drop.
//!
//! For every type that holds a secret (secret keys, Paillier private keys
//! and key shares, threshold parties and their Shamir shares, ML clients)
//! the test formats the value with `{:?}` and `{:#?}` and checks that the
//! secret itself — its coefficients, primes or serialized bytes — does not
//! appear, and that the output is short (a struct name and public fields,
//! not a dump of a polynomial).

use hekit::{bfv, ckks, ml_he, paillier, rlwe, threshold};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zeroize::Zeroizing;

fn rng() -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(0x5EC)
}

/// Both Debug forms of `value`, checked against `secrets` (strings that
/// must not appear) and a length bound.
fn assert_hidden<T: std::fmt::Debug>(value: &T, secrets: &[String]) {
    for text in [format!("{value:?}"), format!("{value:#?}")] {
        assert!(
            text.len() < 1000,
            "Debug output of {} is {} bytes long: {text}",
            std::any::type_name::<T>(),
            text.len()
        );
        for s in secrets {
            assert!(s.len() >= 8, "secret probe too short to be meaningful");
            assert!(
                !text.contains(s.as_str()),
                "Debug output of {} contains secret material",
                std::any::type_name::<T>()
            );
        }
        // no long runs of digits: no big integer or coefficient dump
        let longest_digit_run = text
            .split(|c: char| !c.is_ascii_hexdigit())
            .map(str::len)
            .max()
            .unwrap_or(0);
        assert!(
            longest_digit_run < 32,
            "Debug output of {} contains a {longest_digit_run}-digit number",
            std::any::type_name::<T>()
        );
    }
}

/// The first coefficients of a ternary secret as Debug would print them
/// (e.g. `1, 0, -1, 1, 0, 0, -1, 1`) and as a hex dump of its bytes.
fn coefficient_probes(coeffs: &[i64]) -> Vec<String> {
    let list = format!("{:?}", &coeffs[..16]);
    vec![list.trim_matches(|c| c == '[' || c == ']').to_string()]
}

fn byte_probes(bytes: &[u8]) -> Vec<String> {
    // a window from the middle of the serialized secret: its Debug form as
    // a byte list and as hex
    let mid = bytes.len() / 2;
    let w = &bytes[mid..mid + 12];
    let list = format!("{w:?}");
    let hex: String = w.iter().map(|b| format!("{b:02x}")).collect();
    vec![list.trim_matches(|c| c == '[' || c == ']').to_string(), hex]
}

#[test]
fn lattice_secret_keys_are_hidden() {
    let params = bfv::Parameters::preset(bfv::Preset::N4096T65537).expect("preset");
    let sk = bfv::SecretKey::generate(&params, &mut rng());
    let mut probes = coefficient_probes(sk.rlwe().coeffs());
    let bytes: Zeroizing<Vec<u8>> = sk.rlwe().to_bytes();
    probes.extend(byte_probes(&bytes));
    assert_hidden(sk.rlwe(), &probes);
    assert_hidden(&sk, &probes);

    let cparams = ckks::Parameters::preset(ckks::Preset::N8192).expect("preset");
    let csk = ckks::SecretKey::generate(&cparams, &mut rng());
    let mut probes = coefficient_probes(csk.rlwe().coeffs());
    let bytes: Zeroizing<Vec<u8>> = csk.to_bytes();
    probes.extend(byte_probes(&bytes));
    assert_hidden(&csk, &probes);
}

#[test]
fn paillier_private_keys_and_shares_are_hidden() {
    let (_, sk) = paillier::test_keys::keypair_from(paillier::test_keys::P1024).expect("key");
    let (p, q) = sk.primes();
    let mut probes = vec![
        p.to_str_radix(10)[..40].to_string(),
        q.to_str_radix(10)[..40].to_string(),
        p.to_str_radix(16)[..40].to_string(),
        q.to_str_radix(16)[..40].to_string(),
    ];
    let bytes: Zeroizing<Vec<u8>> = sk.to_bytes();
    probes.extend(byte_probes(&bytes));
    // the public modulus may be printed, but only as a short fingerprint
    assert_hidden(&sk, &probes);

    let (p, q) = paillier::test_keys::primes(threshold::paillier::test_primes::SAFE512);
    let (_, shares) = threshold::PaillierDealer::deal_with_primes_insecure(
        p.clone(),
        q.clone(),
        2,
        3,
        &mut rng(),
    )
    .expect("dealing");
    for share in &shares {
        let bytes: Zeroizing<Vec<u8>> = share.to_bytes();
        let mut probes = byte_probes(&bytes);
        probes.push(p.to_str_radix(10)[..40].to_string());
        probes.push(q.to_str_radix(16)[..40].to_string());
        assert_hidden(share, &probes);
    }
}

#[test]
fn threshold_parties_and_dealings_are_hidden() {
    let params = bfv::Parameters::preset(bfv::Preset::N4096T65537).expect("preset");
    let sk = rlwe::keys::SecretKey::generate(params.rlwe(), &mut rng());
    let probes = coefficient_probes(sk.coeffs());
    let party = threshold::Party::from_secret(threshold::PartyId(1), sk);
    assert_hidden(&party, &probes);
    for message in party.deal(2, 3, &mut rng()).expect("dealing") {
        let bytes: Zeroizing<Vec<u8>> = message.to_bytes(params.rlwe());
        assert_hidden(&message, &byte_probes(&bytes));
    }
}

#[test]
fn ml_clients_are_hidden() {
    use ml_he::aggregation::*;
    let params = AggregationParams::new(AggregationConfig::new(3, 2), [9; 32]).expect("params");
    let mut clients: Vec<Client> = (1..=3)
        .map(|i| Client::new(&params, i, &mut rng()))
        .collect::<ml_he::Result<_>>()
        .expect("clients");
    // the dealing a client sends is derived from its secret: none of it may
    // show in the client's Debug output
    let dealing = clients[0].deal(&mut rng()).expect("dealing");
    let bytes = dealing.messages[1].to_bytes(params.ckks().rlwe());
    assert_hidden(&clients[0], &byte_probes(&bytes));
    assert_hidden(&dealing.messages[1], &byte_probes(&bytes));
    assert_hidden(&dealing, &byte_probes(&bytes));
    let shares = clients
        .iter_mut()
        .map(|c| c.public_key_share(&mut rng()))
        .collect::<ml_he::Result<Vec<_>>>()
        .expect("shares");
    let key = SessionKey::from_shares(&params, shares).expect("key");
    assert_hidden(&key, &[]);
    assert_hidden(&params, &[]);
}

#[test]
fn errors_do_not_echo_secret_bytes() {
    // A secret key read with the wrong length fails without quoting it.
    let params = bfv::Parameters::preset(bfv::Preset::N4096T65537).expect("preset");
    let sk = rlwe::keys::SecretKey::generate(params.rlwe(), &mut rng());
    let bytes = sk.to_bytes();
    let err = rlwe::keys::SecretKey::from_bytes(params.rlwe(), &bytes[..bytes.len() - 3])
        .expect_err("truncated");
    let text = format!("{err} {err:?}");
    for probe in byte_probes(&bytes[..bytes.len() - 3]) {
        assert!(!text.contains(&probe), "error quotes the secret: {text}");
    }
}
