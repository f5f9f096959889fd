"""BFV through the bindings against numpy's exact int64 arithmetic modulo
t = 65537 (results centered in (−t/2, t/2], as the decoder returns them)."""

import pickle

import numpy as np
import pytest

from hekit import bfv

T = 65537


def centered(v):
    v = np.mod(v, T)
    return np.where(v > T // 2, v - T, v).astype(np.int64)


def dec(ctx, ct):
    return ctx["enc"].decode(ctx["sk"].decrypt(ct))


def ints(rng, n=8192, bound=300):
    return rng.integers(-bound, bound, n, dtype=np.int64)


def test_round_trip(bfv_ctx, rng):
    x = ints(rng, bound=T // 2)
    for ct in (bfv_ctx["pk"].encrypt(bfv_ctx["enc"].encode(x)), bfv_ctx["sk"].encrypt(bfv_ctx["enc"].encode(x))):
        got = dec(bfv_ctx, ct)
        assert got.dtype == np.int64 and got.shape == (8192,)
        assert np.array_equal(got, x)
        assert bfv_ctx["sk"].noise_budget(ct) > 90


def test_arithmetic_matches_numpy_mod_t(bfv_ctx, rng):
    ev, enc, pk, rlk = bfv_ctx["ev"], bfv_ctx["enc"], bfv_ctx["pk"], bfv_ctx["rlk"]
    x, y = ints(rng), ints(rng)
    cx, cy = pk.encrypt(enc.encode(x)), pk.encrypt(enc.encode(y))
    cases = {
        "add": (ev.add(cx, cy), x + y),
        "sub": (ev.sub(cx, cy), x - y),
        "neg": (ev.neg(cx), -x),
        "add_plain": (ev.add_plain(cx, enc.encode(y)), x + y),
        "sub_plain": (ev.sub_plain(cx, enc.encode(y)), x - y),
        "mul_plain": (ev.mul_plain(cx, enc.encode(y)), x * y),
        "mul_scalar": (ev.mul_scalar(cx, -7), -7 * x),
        "mul_relin": (ev.mul_relin(cx, cy, rlk), x * y),
        "mul+relinearize": (ev.relinearize(ev.mul(cx, cy), rlk), x * y),
        "x²·y": (ev.mul_relin(ev.mul_relin(cx, cx, rlk), cy, rlk), x * x * y),
    }
    for name, (ct, want) in cases.items():
        assert np.array_equal(dec(bfv_ctx, ct), centered(want)), name
    assert len(ev.mul(cx, cy)) == 3


def test_rotations_and_slot_sum(bfv_ctx, rng):
    ev, enc, pk = bfv_ctx["ev"], bfv_ctx["enc"], bfv_ctx["pk"]
    x = ints(rng)
    cx = pk.encrypt(enc.encode(x))
    rows = x.reshape(2, 4096)
    for step in (1, -2):
        got = dec(bfv_ctx, ev.rotate_rows(cx, step, bfv_ctx["gk"])).reshape(2, 4096)
        assert np.array_equal(got, np.roll(rows, -step, axis=1)), step
    swapped = dec(bfv_ctx, ev.rotate_columns(cx, bfv_ctx["gk"])).reshape(2, 4096)
    assert np.array_equal(swapped, rows[::-1])
    total = dec(bfv_ctx, ev.sum_slots(cx, bfv_ctx["gk_sum"]))
    assert np.all(total == centered(np.array([x.sum()]))[0])


def test_coefficient_encoding_and_mod_switch(bfv_ctx, rng):
    enc, pk, ev = bfv_ctx["enc"], bfv_ctx["pk"], bfv_ctx["ev"]
    x = ints(rng, 100)
    pt = enc.encode_coefficients(x)
    assert pt.encoding == "coefficients"
    ct = pk.encrypt(pt)
    assert ct.encoding == "coefficients"
    low = ev.mod_switch_to_next(ct)
    assert low.level == ct.level - 1
    assert low.serialized_size < ct.serialized_size
    got = enc.decode_coefficients(bfv_ctx["sk"].decrypt(low))
    assert np.array_equal(got[:100], x) and not got[100:].any()


def test_pickle_round_trips(bfv_ctx, rng):
    x = ints(rng)
    ct = bfv_ctx["pk"].encrypt(bfv_ctx["enc"].encode(x))
    blob = pickle.dumps(ct)
    assert len(blob) < len(ct.to_bytes()) + 300
    assert np.array_equal(dec(bfv_ctx, pickle.loads(blob)), x)
    for name in ("sk", "pk", "rlk", "gk"):
        o = bfv_ctx[name]
        assert pickle.loads(pickle.dumps(o)).to_bytes() == o.to_bytes(), name
    p = pickle.loads(pickle.dumps(bfv_ctx["params"]))
    assert p == bfv_ctx["params"] and p.plaintext_modulus == T
    for pt in (bfv_ctx["enc"].encode(x), bfv_ctx["enc"].encode_coefficients(x[:50])):
        assert pickle.loads(pickle.dumps(pt)) == pt
    ev = pickle.loads(pickle.dumps(bfv_ctx["ev"]))
    enc = pickle.loads(pickle.dumps(bfv_ctx["enc"]))
    assert np.array_equal(enc.decode(bfv_ctx["sk"].decrypt(ev.add(ct, ct))), centered(2 * x))


def test_errors_are_specific(bfv_ctx):
    enc, ev = bfv_ctx["enc"], bfv_ctx["ev"]
    small = bfv.Parameters.preset(bfv.Preset.N4096T65537)
    c = bfv_ctx["pk"].encrypt(enc.encode([1, 2, 3]))
    c_small = bfv.SecretKey.generate(small).encrypt(bfv.Encoder(small).encode([1]))
    with pytest.raises(bfv.BfvError, match="parameter mismatch"):
        ev.add(c, c_small)
    with pytest.raises(bfv.BfvError, match="malformed BFV ciphertext"):
        bfv.Ciphertext.from_bytes(bfv_ctx["params"], b"\x00" * 10)
    with pytest.raises(bfv.BfvError, match="plaintext value 70000 out of range for t = 65537"):
        enc.encode([70000])
    with pytest.raises(bfv.BfvError, match="too many values: 9000 > 8192"):
        enc.encode(np.ones(9000, dtype=np.int64))
    with pytest.raises(TypeError, match="expected integers, got an array of dtype float64"):
        enc.encode([1.5])
    with pytest.raises(OverflowError):
        enc.encode([2**70])
    with pytest.raises(bfv.BfvError, match="missing key"):
        ev.rotate_rows(c, 3, bfv_ctx["gk"])
    with pytest.raises(bfv.BfvError, match="insecure parameters"):
        bfv.Parameters(4096, 65537, [60, 60], [60])
    with pytest.raises(ValueError, match="unknown BFV preset"):
        bfv.Parameters.preset("N3")
