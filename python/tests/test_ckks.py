"""CKKS through the bindings against numpy: every operation's result is
compared slot by slot with the same computation in float64, with explicit
error bounds (N = 8192, Δ = 2^40: fresh errors are about 2^-25)."""

import pickle
import subprocess
import sys

import numpy as np
import pytest

import hekit
from hekit import ckks

FRESH = 2.0**-20  # bound on a fresh encryption's slot error
AFTER_MUL = 2.0**-17  # after one multiplication + rescale (values up to 4)


def dec(ctx, ct):
    return ctx["enc"].decode(ctx["sk"].decrypt(ct))


def vec(rng, n, scale=1.0):
    return rng.uniform(-scale, scale, n)


def test_round_trip_public_and_secret_key(ckks_ctx, rng):
    x = vec(rng, ckks_ctx["params"].slots, 2.0)
    pt = ckks_ctx["enc"].encode(x)
    assert pt.level == ckks_ctx["params"].max_level == 3
    assert pt.scale == ckks_ctx["params"].scale == 2.0**40
    for ct in (ckks_ctx["pk"].encrypt(pt), ckks_ctx["sk"].encrypt(pt)):
        got = dec(ckks_ctx, ct)
        assert got.dtype == np.float64 and got.shape == (4096,)
        assert np.max(np.abs(got - x)) < FRESH


def test_short_vectors_are_zero_padded(ckks_ctx):
    got = dec(ckks_ctx, ckks_ctx["pk"].encrypt(ckks_ctx["enc"].encode([0.5, -1.25, 2.0])))
    assert np.max(np.abs(got[:3] - [0.5, -1.25, 2.0])) < FRESH
    assert np.max(np.abs(got[3:])) < FRESH


def test_add_sub_negate_plain_and_const(ckks_ctx, rng):
    ev, enc, pk = ckks_ctx["ev"], ckks_ctx["enc"], ckks_ctx["pk"]
    x, y = vec(rng, 4096), vec(rng, 4096)
    cx, cy = pk.encrypt(enc.encode(x)), pk.encrypt(enc.encode(y))
    cases = {
        "add": (ev.add(cx, cy), x + y),
        "sub": (ev.sub(cx, cy), x - y),
        "negate": (ev.negate(cx), -x),
        "add_plain": (ev.add_plain(cx, enc.encode(y)), x + y),
        "sub_plain": (ev.sub_plain(cx, enc.encode(y)), x - y),
        "add_const": (ev.add_const(cx, 0.75), x + 0.75),
        "mul_integer": (ev.mul_integer(cx, -3), -3 * x),
    }
    for name, (ct, want) in cases.items():
        assert np.max(np.abs(dec(ckks_ctx, ct) - want)) < 4 * FRESH, name


def test_multiplications_and_rescale(ckks_ctx, rng):
    ev, enc, pk, rlk = ckks_ctx["ev"], ckks_ctx["enc"], ckks_ctx["pk"], ckks_ctx["rlk"]
    x, y = vec(rng, 4096, 2.0), vec(rng, 4096, 2.0)
    cx, cy = pk.encrypt(enc.encode(x)), pk.encrypt(enc.encode(y))
    prod = ev.mul_relin_rescale(cx, cy, rlk)
    assert prod.level == 2 and len(prod) == 2
    assert np.max(np.abs(dec(ckks_ctx, prod) - x * y)) < AFTER_MUL
    three = ev.mul(cx, cy)
    assert len(three) == 3
    relin = ev.rescale(ev.relinearize(three, rlk))
    assert np.max(np.abs(dec(ckks_ctx, relin) - x * y)) < AFTER_MUL
    sq = ev.rescale(ev.square(cx, rlk))
    assert np.max(np.abs(dec(ckks_ctx, sq) - x * x)) < AFTER_MUL
    # plaintext product at scale q_l so that the rescale restores Δ exactly
    q = ckks_ctx["params"].q[cx.level]
    mp = ev.rescale(ev.mul_plain(cx, enc.encode(y, scale=float(q))))
    assert mp.scale == pytest.approx(cx.scale, rel=1e-12)
    assert np.max(np.abs(dec(ckks_ctx, mp) - x * y)) < AFTER_MUL
    mc = ev.rescale(ev.mul_const(cx, -0.3))
    assert np.max(np.abs(dec(ckks_ctx, mc) + 0.3 * x)) < AFTER_MUL
    # x² + 0.5·x: levels and scales aligned automatically
    poly = ev.add(ev.mul_relin_rescale(cx, cx, rlk), ev.rescale(ev.mul_const(cx, 0.5)))
    assert np.max(np.abs(dec(ckks_ctx, poly) - (x * x + 0.5 * x))) < AFTER_MUL


def test_rotations_conjugation_sums(ckks_ctx, rng):
    ev, enc, pk, gk, rlk = (ckks_ctx[k] for k in ("ev", "enc", "pk", "gk", "rlk"))
    x, y = vec(rng, 4096), vec(rng, 4096)
    cx, cy = pk.encrypt(enc.encode(x)), pk.encrypt(enc.encode(y))
    for step in (1, 2, -3):
        got = dec(ckks_ctx, ev.rotate(cx, step, gk))
        assert np.max(np.abs(got - np.roll(x, -step))) < FRESH, step
    total = dec(ckks_ctx, ev.sum_slots(cx, 4096, gk))
    assert np.max(np.abs(total - x.sum())) < 4096 * FRESH
    ip = dec(ckks_ctx, ev.inner_product(cx, cy, 4096, rlk, gk))
    assert abs(ip[0] - x @ y) < 1e-3
    w = vec(rng, 4096)
    ipp = dec(ckks_ctx, ev.inner_product_plain(cx, w, 4096, enc, gk))
    assert abs(ipp[0] - x @ w) < 1e-3
    z = rng.uniform(-1, 1, 4096) + 1j * rng.uniform(-1, 1, 4096)
    cz = pk.encrypt(enc.encode_complex(z))
    conj = enc.decode_complex(ckks_ctx["sk"].decrypt(ev.conjugate(cz, gk)))
    assert conj.dtype == np.complex128
    assert np.max(np.abs(conj - np.conj(z))) < FRESH


def test_levels(ckks_ctx, rng):
    ev, enc, pk = ckks_ctx["ev"], ckks_ctx["enc"], ckks_ctx["pk"]
    x = vec(rng, 4096)
    low = ev.drop_to_level(pk.encrypt(enc.encode(x)), 1)
    assert low.level == 1
    assert np.max(np.abs(dec(ckks_ctx, low) - x)) < FRESH
    assert ckks_ctx["params"].log_q(3) == pytest.approx(46 + 3 * 40, abs=0.1)


def test_flooded_decryption_keeps_precision_at_scale_delta_squared(ckks_ctx, rng):
    # flooding costs 30 + 13 + noise_bits bits of the scale: a product
    # before its rescale (scale 2^80) keeps about 80 - 63 = 17 bits
    x, y = vec(rng, 4096), vec(rng, 4096)
    pk, enc, ev = ckks_ctx["pk"], ckks_ctx["enc"], ckks_ctx["ev"]
    prod = ev.mul_relin(pk.encrypt(enc.encode(x)), pk.encrypt(enc.encode(y)), ckks_ctx["rlk"])
    assert prod.scale == 2.0**80
    got = enc.decode(ckks_ctx["sk"].decrypt_flooded(prod, 20.0))
    err = np.max(np.abs(got - x * y))
    assert err < 2.0**-12
    # and the flooding is there: far above the unflooded error (about 2^-25)
    assert err > 2.0**-22
    with pytest.raises(ckks.CkksError, match="flooding"):
        ckks_ctx["sk"].decrypt_flooded(prod, 120.0)


def test_pickle_round_trips(ckks_ctx, rng):
    x = vec(rng, 4096)
    ct = ckks_ctx["pk"].encrypt(ckks_ctx["enc"].encode(x))
    blob = pickle.dumps(ct)
    # the pickle carries the ciphertext's bytes and a fingerprint, not the parameters
    assert len(blob) < len(ct.to_bytes()) + 300
    back = pickle.loads(blob)
    assert back.to_bytes() == ct.to_bytes()
    assert np.max(np.abs(dec(ckks_ctx, back) - x)) < FRESH
    for obj in ("params", "sk", "pk", "rlk", "gk"):
        o = ckks_ctx[obj]
        b = pickle.loads(pickle.dumps(o))
        if obj == "params":
            assert b == o and b.fingerprint == o.fingerprint
        else:
            assert b.to_bytes() == o.to_bytes()
    enc2 = pickle.loads(pickle.dumps(ckks_ctx["enc"]))
    ev2 = pickle.loads(pickle.dumps(ckks_ctx["ev"]))
    assert np.max(np.abs(enc2.decode(ckks_ctx["sk"].decrypt(ev2.add(back, back))) - 2 * x)) < FRESH
    pt = ckks_ctx["enc"].encode(x)
    assert pickle.loads(pickle.dumps(pt)).to_bytes() == pt.to_bytes()


def test_unpickling_needs_known_parameters(ckks_ctx, tmp_path):
    ct = ckks_ctx["pk"].encrypt(ckks_ctx["enc"].encode([1.0]))
    path = tmp_path / "ct.pickle"
    path.write_bytes(pickle.dumps(ct))
    script = (
        "import pickle, sys, hekit\n"
        f"blob = open({str(path)!r}, 'rb').read()\n"
        "try:\n"
        "    pickle.loads(blob)\n"
        "except hekit.UnknownParametersError as e:\n"
        "    print('unknown:', e)\n"
        "from hekit import ckks\n"
        "ckks.Parameters.preset('N8192')\n"
        "print('level', pickle.loads(blob).level)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert "unknown: unknown CKKS parameters" in out.stdout
    assert "create or load them in this process" in out.stdout
    assert "level 3" in out.stdout


def test_parameters_from_bytes_and_builder():
    p = ckks.Parameters(8192, [50, 40, 40], [50], scale_bits=40)
    assert (p.degree, p.slots, p.max_level, p.scale) == (8192, 4096, 2, 2.0**40)
    assert [q.bit_length() for q in p.q] == [50, 40, 40]
    back = ckks.Parameters.from_bytes(p.to_bytes(), p.scale)
    assert back == p
    insecure = ckks.Parameters(4096, [60, 60], [60], security=0)
    with pytest.raises(hekit.RlweError, match="below the 128-bit minimum asked for"):
        ckks.Parameters.from_bytes(insecure.to_bytes(), 2.0**40)
    assert ckks.Parameters.from_bytes(insecure.to_bytes(), insecure.scale, min_security=0) == insecure
    circuit = ckks.Parameters.for_circuit(2, 40, 20)
    assert circuit.max_level >= 2


def test_errors_are_specific(ckks_ctx):
    enc, ev, sk = ckks_ctx["enc"], ckks_ctx["ev"], ckks_ctx["sk"]
    other = ckks.Parameters(8192, [50, 50, 50], [50])
    c = sk.encrypt(enc.encode([1.0]))
    c_other = ckks.SecretKey.generate(other).encrypt(ckks.Encoder(other).encode([1.0]))
    with pytest.raises(ckks.CkksError, match="parameter mismatch: ciphertext and evaluator"):
        ev.add(c, c_other)
    with pytest.raises(ckks.CkksError, match="parameter mismatch: ciphertext and key"):
        sk.decrypt(c_other)
    with pytest.raises(ckks.CkksError, match="malformed CKKS ciphertext"):
        ckks.Ciphertext.from_bytes(ckks_ctx["params"], b"\x01\x02")
    with pytest.raises(ckks.CkksError, match="belongs to other parameters"):
        ckks.Ciphertext.from_bytes(other, c.to_bytes())
    corrupt = bytearray(c.to_bytes())
    corrupt[-1] ^= 0xFF
    with pytest.raises(ckks.CkksError):
        ckks.Ciphertext.from_bytes(ckks_ctx["params"], bytes(corrupt))
    with pytest.raises(ckks.CkksError, match="too many values: 5000 for 4096 slots"):
        enc.encode(np.ones(5000))
    with pytest.raises(ckks.CkksError, match="missing key: rotation key for step 5"):
        ev.rotate(c, 5, ckks_ctx["gk"])
    with pytest.raises(ckks.CkksError, match="not finite"):
        enc.encode([np.inf])
    with pytest.raises(ckks.CkksError, match="insecure parameters"):
        ckks.Parameters(4096, [60, 60], [60])
    low = ev.drop_to_level(c, 0)
    with pytest.raises(ckks.CkksError, match="cannot rescale at level 0"):
        ev.rescale(low)
    with pytest.raises(ValueError, match="expected a 1-D array"):
        enc.encode(np.ones((2, 2)))
    with pytest.raises(ValueError, match='unknown CKKS preset "N1"'):
        ckks.Parameters.preset("N1")
    with pytest.raises(TypeError):
        ev.add(c, "not a ciphertext")
    # every hekit error is a HekitError and a ValueError
    assert issubclass(ckks.CkksError, hekit.HekitError)
    assert issubclass(hekit.HekitError, ValueError)


def test_gil_is_released_during_heavy_calls(ckks_ctx):
    import threading

    big = ckks.Parameters.preset("N32768")
    done = threading.Event()
    ticks = 0

    def work():
        sk = ckks.SecretKey.generate(big)
        ckks.RelinKey.generate(sk)
        ckks.RelinKey.generate(sk)
        done.set()

    t = threading.Thread(target=work)
    t.start()
    while not done.is_set():
        ticks += 1
    t.join()
    # with the GIL held through key generation, this loop could not run
    # while the keys are made (hundreds of milliseconds)
    assert ticks > 10_000
