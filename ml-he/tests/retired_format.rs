//! The inference messages' format version: their 8-byte tags end in it
//! (`mlhe/su3`, `…/ek3`, `…/qy2`, `…/rs2`, postcard bodies; the setup and
//! the keys went to 3 with bootstrapping, and refuse 2 as
//! `compile_bootstrap.rs` checks). Version 1 was
//! bincode 1.x (hekit 0.1): such bytes are refused with an error that says
//! so and what to do, never decoded as something else.

use ml_he::inference::{EvaluationKeys, PublicSetup, Query, Response};
use ml_he::Error;

fn assert_retired<T: std::fmt::Debug>(r: ml_he::Result<T>) {
    match r {
        Err(Error::Malformed { reason, .. }) => assert!(
            reason.starts_with("format version 1 (bincode") && reason.contains("re-serialize"),
            "{reason}"
        ),
        other => panic!("expected the retired-format error, got {other:?}"),
    }
}

#[test]
fn bincode_messages_are_refused() {
    let params = ckks::Parameters::builder()
        .degree(4096)
        .q_bits(&[36, 36])
        .p_bits(&[37])
        .scale(2f64.powi(30))
        .build()
        .expect("109-bit parameters");
    // The old envelope, by hand: the tag, then a bincode body (fixed-width
    // integers: here a `u64` length of 0 and some more zeros).
    let old = |tag: &[u8; 8]| [&tag[..], &[0u8; 24][..]].concat();
    assert_retired(PublicSetup::from_bytes(&old(b"mlhe/su1")));
    assert_retired(EvaluationKeys::from_bytes(&params, &old(b"mlhe/ek1")));
    assert_retired(Query::from_bytes(&params, &old(b"mlhe/qy1")));
    assert_retired(Response::from_bytes(&params, &old(b"mlhe/rs1")));
    // A tag of another message stays "wrong message type" / undecodable,
    // not a version error.
    let r = Query::from_bytes(&params, &old(b"mlhe/rs1"));
    assert!(
        matches!(&r, Err(Error::Malformed { reason, .. }) if !reason.contains("bincode")),
        "{r:?}"
    );
}
