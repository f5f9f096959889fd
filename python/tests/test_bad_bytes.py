"""Untrusted bytes never crash the interpreter: every ``from_bytes`` and
every message reader raises a ``HekitError`` (never a Rust panic, which
would surface as ``pyo3_runtime.PanicException``) on random bytes,
truncations and bit flips of valid bytes."""

import numpy as np
import pytest

import hekit
from hekit import bfv, ckks, paillier, threshold
from hekit.ml import aggregation


def mutations(valid, rng):
    yield b""
    yield rng.bytes(7)
    yield rng.bytes(300)
    for cut in (1, 8, len(valid) // 2, len(valid) - 1):
        yield valid[:cut]
    for _ in range(6):
        b = bytearray(valid)
        i = int(rng.integers(0, len(b)))
        b[i] ^= 1 << int(rng.integers(0, 8))
        yield bytes(b)
    yield valid + b"\x00"


def check(read, valid, rng):
    read(valid)  # the valid bytes are accepted
    for bad in mutations(valid, rng):
        try:
            read(bad)
        except hekit.HekitError:
            pass  # refused, with the Rust error's message
        # a flipped bit inside a coefficient may still be a valid object:
        # what matters is that nothing but HekitError escapes


def test_ckks_readers(ckks_ctx, rng):
    p = ckks_ctx["params"]
    ct = ckks_ctx["pk"].encrypt(ckks_ctx["enc"].encode([1.0, 2.0]))
    check(lambda b: ckks.Ciphertext.from_bytes(p, b), ct.to_bytes(), rng)
    check(lambda b: ckks.PublicKey.from_bytes(p, b), ckks_ctx["pk"].to_bytes(), rng)
    check(lambda b: ckks.RelinKey.from_bytes(p, b), ckks_ctx["rlk"].to_bytes(), rng)
    check(lambda b: ckks.Plaintext.from_bytes(p, b), ckks_ctx["enc"].encode([1.0]).to_bytes(), rng)
    check(lambda b: ckks.Parameters.from_bytes(b, 2.0**40), p.to_bytes(), rng)


def test_bfv_readers(bfv_ctx, rng):
    p = bfv_ctx["params"]
    ct = bfv_ctx["pk"].encrypt(bfv_ctx["enc"].encode([1, 2]))
    check(lambda b: bfv.Ciphertext.from_bytes(p, b), ct.to_bytes(), rng)
    check(lambda b: bfv.SecretKey.from_bytes(p, b), bfv_ctx["sk"].to_bytes(), rng)
    check(lambda b: bfv.Parameters.from_bytes(b, 65537), p.to_bytes(), rng)


def test_paillier_readers(rng):
    sk = paillier.SecretKey.generate(2048)
    pk = sk.public_key
    x = pk.encrypt_number(1.5)
    check(lambda b: paillier.EncryptedNumber.from_bytes(pk, b), x.to_bytes(), rng)
    check(lambda b: paillier.Ciphertext.from_bytes(pk, b), x.ciphertext.to_bytes(), rng)
    check(paillier.PublicKey.from_bytes, pk.to_bytes(), rng)
    with pytest.raises(paillier.PaillierError):
        pk.ciphertext(0)  # not a unit modulo n²


def test_threshold_and_aggregation_readers(ckks_ctx, rng):
    p = ckks_ctx["params"]
    party = threshold.Party(1, p)
    share = party.public_key_share(threshold.Crs(bytes(32)))
    check(lambda b: threshold.PublicKeyShare.from_bytes(p, b), share.to_bytes(), rng)
    params = aggregation.AggregationParams(3, 2, bytes(32))
    clients = [aggregation.Client(params, i) for i in (1, 2, 3)]
    key = aggregation.SessionKey.from_shares(params, [c.public_key_share(params) for c in clients])
    check(lambda b: aggregation.SessionKey.from_bytes(params, b), key.to_bytes(), rng)
    for c in clients:
        c.set_key(key)
    server = aggregation.Server(key, 0, 4)
    update = clients[0].encrypt_update(0, np.ones(4))
    check(lambda b: aggregation.Server(key, 0, 4).add(b), update, rng)
    assert server.add(update) == 1
    with pytest.raises(aggregation.MlError):
        server.add(update[: len(update) // 2])
