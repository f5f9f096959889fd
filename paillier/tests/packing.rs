//! Packing round trips and packed arithmetic.
#![allow(clippy::unwrap_used)]
mod common;

use paillier::Packer;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn pack_add_unpack(value_bits in 1u32..=64, adds in 0u64..1000, seed in any::<u64>()) {
        let (pk, sk) = common::key1024();
        let mut rng = common::rng(seed);
        let packer = Packer::new(pk, value_bits, adds).unwrap();
        prop_assert!(packer.capacity() > adds);
        let max = if value_bits == 64 { u64::MAX } else { (1u64 << value_bits) - 1 };
        let n = packer.slots();
        let vals: Vec<u64> = (0..n).map(|i| if i % 3 == 0 { max } else { (seed.rotate_left(i as u32)) & max }).collect();
        // plaintext round trip
        let m = packer.pack(&vals).unwrap();
        prop_assert!(&m < pk.n());
        let un = packer.unpack(&m, n).unwrap();
        prop_assert_eq!(un, vals.iter().map(|&v| v as u128).collect::<Vec<_>>());
        // encrypted: add the vector to itself `adds` times (bounded for speed)
        let reps = adds.min(5);
        let c = packer.encrypt(pk, &vals, &mut rng).unwrap();
        let mut acc = c.clone();
        for _ in 0..reps {
            acc = acc.add(&c).unwrap();
        }
        prop_assert_eq!(acc.terms(), reps + 1);
        let got = packer.decrypt(sk, &acc).unwrap();
        prop_assert_eq!(got, vals.iter().map(|&v| v as u128 * (reps as u128 + 1)).collect::<Vec<_>>());
    }
}

#[test]
fn slot_count_cuts_ciphertexts() {
    let (pk, _) = common::key2048();
    // 32-bit values with room for 2^20 additions: 52-bit slots, 39 per 2048-bit plaintext
    let packer = Packer::new(pk, 32, (1 << 20) - 1).unwrap();
    assert_eq!(packer.slot_bits(), 52);
    assert_eq!(packer.slots(), 2047 / 52);
    let short = packer.encrypt(pk, &[7, 8, 9], &mut common::rng(1)).unwrap();
    let scaled = short.mul_scalar(1000).unwrap();
    let (_, sk) = common::key2048();
    assert_eq!(packer.decrypt(sk, &scaled).unwrap(), vec![7000, 8000, 9000]);
}
