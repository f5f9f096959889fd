"""Paillier against python-paillier (``phe``), both ways and at the exact
boundary of the encodable range: keys convert, ciphertexts and
``EncryptedNumber``s cross, ±max_int round-trips, max_int + 1 is refused
by both libraries, and floats decode to the same value with the same
exponent."""

import pickle

import numpy as np
import phe
import pytest

from hekit import paillier


@pytest.fixture(scope="module")
def keys():
    """A hekit key (2048 bits) and the same key in python-paillier."""
    sk = paillier.SecretKey.generate(2048)
    return sk, sk.public_key, sk.to_phe(), sk.public_key.to_phe()


@pytest.fixture(scope="module")
def phe_keys():
    """A python-paillier key (1024 bits, for speed) and the same key in hekit."""
    ppk, psk = phe.generate_paillier_keypair(n_length=1024)
    sk = paillier.SecretKey.from_phe(psk, insecure=True)
    return sk, sk.public_key, psk, ppk


def test_keys_convert_both_ways(keys, phe_keys):
    sk, pk, psk, ppk = keys
    assert ppk.n == pk.n and {psk.p, psk.q} == set(sk.primes)
    back = paillier.SecretKey.from_phe(psk)
    assert set(back.primes) == set(sk.primes) and back.public_key == pk
    assert paillier.PublicKey.from_phe(ppk) == pk
    hsk, hpk, psk2, ppk2 = phe_keys
    assert hpk.n == ppk2.n and hpk.bits == 1024
    # the same encodable bound as python-paillier
    assert pk.max_int == ppk.max_int == pk.n // 3 - 1
    assert hpk.max_int == ppk2.max_int
    with pytest.raises(paillier.PaillierError, match="key size"):
        paillier.PublicKey.from_phe(ppk2)


@pytest.mark.parametrize("which", ["keys", "phe_keys"])
def test_boundary_both_ways(which, request):
    sk, pk, psk, ppk = request.getfixturevalue(which)
    m = pk.max_int
    for v in (m, -m, m - 1, -(m - 1), 0, 1, -1):
        # hekit encrypts, python-paillier decrypts (and the reverse), exactly
        assert psk.decrypt(pk.encrypt_number(v).to_phe(ppk)) == v
        assert sk.decrypt_number(paillier.EncryptedNumber.from_phe(ppk.encrypt(v), pk)) == v
        assert sk.decrypt_int(pk.encrypt_int(v)) == v
    # max_int + 1 is refused by both encoders
    for v in (m + 1, -(m + 1)):
        with pytest.raises(paillier.PaillierError, match="encodable range"):
            pk.encrypt_number(v)
        with pytest.raises(paillier.PaillierError, match="encodable range"):
            pk.encrypt_int(v)
        with pytest.raises(ValueError, match="Integer needs to be within"):
            ppk.encrypt(v)
    # a raw plaintext in the gap (max_int, n - max_int) is an overflow for both decoders
    for raw in (m + 1, pk.n - m - 1):
        ct = pk.encrypt(raw)
        with pytest.raises(paillier.PaillierError, match="overflow"):
            sk.decrypt_int(ct)
        with pytest.raises(OverflowError):
            psk.decrypt(phe.EncryptedNumber(ppk, ct.value, 0))
        assert sk.decrypt(ct) == raw


def test_floats_and_exponents_match_python_paillier(keys, rng):
    sk, pk, psk, ppk = keys
    values = [1.0, -2.5, 3.141592653589793, 1e-300, -1e300, 2.0**-1022, 123456.789]
    values += list(rng.normal(0, 1e6, 20))
    for x in values:
        mine = paillier.EncodedNumber.encode(float(x))
        theirs = phe.EncodedNumber.encode(ppk, float(x))
        assert mine.exponent == theirs.exponent, x
        assert mine.mantissa % pk.n == theirs.encoding, x
        enc = pk.encrypt_number(float(x))
        assert enc.exponent == theirs.exponent
        assert psk.decrypt(enc.to_phe(ppk)) == x
        from_phe = paillier.EncryptedNumber.from_phe(ppk.encrypt(float(x)), pk)
        assert from_phe.exponent == theirs.exponent
        assert sk.decrypt_number(from_phe) == psk.decrypt(ppk.encrypt(float(x))) == x
    # a fixed exponent, as python-paillier's precision argument
    assert paillier.EncodedNumber.encode(0.1, exponent=-4).mantissa == round(0.1 * 16**4)


def test_homomorphic_operations_across_libraries(keys):
    sk, pk, psk, ppk = keys
    a = pk.encrypt_number(1.5)
    b = paillier.EncryptedNumber.from_phe(ppk.encrypt(-0.25), pk)
    total = a + b + 2 - 0.5
    assert sk.decrypt_number(total) == 2.75
    assert psk.decrypt(total.to_phe(ppk)) == 2.75
    scaled = total * 4
    assert sk.decrypt_number(scaled) == 11.0
    assert sk.decrypt_number(3 * a - b) == 4.75
    # python-paillier adds a hekit number and gets the same value
    mixed = ppk.encrypt(10) + a.to_phe(ppk)
    assert psk.decrypt(mixed) == 11.5
    assert sk.decrypt_number(paillier.EncryptedNumber.from_phe(mixed, pk)) == 11.5
    # raw ciphertexts
    c = pk.encrypt_int(-7) + pk.encrypt_int(10)
    assert sk.decrypt_int(c) == 3
    assert sk.decrypt_int(c * -5) == -15
    assert sk.decrypt_int(-c) == -3
    assert sk.decrypt_int(c.rerandomize()) == 3
    assert c.rerandomize().value != c.value


def test_batches(keys, rng):
    sk, pk, _, _ = keys
    ints = rng.integers(-(2**62), 2**62, 16)
    cts = pk.encrypt_i64_batch(ints)
    assert sk.decrypt_int_batch(cts) == [int(v) for v in ints]
    floats = rng.normal(0, 100, 16)
    enc = pk.encrypt_f64_batch(floats)
    got = sk.decrypt_f64_batch(enc)
    assert got.dtype == np.float64 and np.array_equal(got, floats)
    raw = pk.encrypt_batch([0, 1, 2, pk.n - 1])
    assert sk.decrypt_batch(raw) == [0, 1, 2, pk.n - 1]


def test_pickle_and_bytes(keys):
    sk, pk, _, _ = keys
    x = pk.encrypt_number(-12.375)
    for obj in (x, x.ciphertext, pk, sk):
        back = pickle.loads(pickle.dumps(obj))
        assert back.to_bytes() == obj.to_bytes()
    assert sk.decrypt_number(pickle.loads(pickle.dumps(x))) == -12.375
    assert sk.decrypt_number(paillier.EncryptedNumber.from_bytes(pk, x.to_bytes())) == -12.375
    e = paillier.EncodedNumber.encode(2.5)
    assert pickle.loads(pickle.dumps(e)).decode() == 2.5


def test_errors_are_specific(keys, phe_keys):
    sk, pk, _, _ = keys
    other_sk, other_pk, _, _ = phe_keys
    x = pk.encrypt_number(1)
    y = other_pk.encrypt_number(1)
    with pytest.raises(paillier.PaillierError, match="key mismatch"):
        x + y
    with pytest.raises(paillier.PaillierError, match="key mismatch"):
        sk.decrypt_number(y)
    with pytest.raises(paillier.PaillierError, match="key mismatch"):
        paillier.Ciphertext.from_bytes(other_pk, x.ciphertext.to_bytes())
    with pytest.raises(paillier.PaillierError, match="malformed"):
        paillier.Ciphertext.from_bytes(pk, b"\x02\x00junk")
    with pytest.raises(paillier.PaillierError, match="non-finite"):
        pk.encrypt_number(float("nan"))
    with pytest.raises(paillier.PaillierError, match="plaintext out of range"):
        pk.encrypt(pk.n)
    with pytest.raises(paillier.PaillierError, match="insecure key size|key size"):
        paillier.SecretKey.generate(1024)
    with pytest.raises(OverflowError):
        pk.encrypt(-1)
    with pytest.raises(TypeError, match="an int or a float"):
        paillier.EncodedNumber.encode("3")


@pytest.mark.parametrize("x", [0.0, 2.0**-1074, -1e-310])
def test_zero_and_subnormal_exponents_match_python_paillier(keys, x):
    _, _, _, ppk = keys
    assert paillier.EncodedNumber.encode(x).exponent == phe.EncodedNumber.encode(ppk, x).exponent


@pytest.mark.parametrize("x", [0.0, 2.0**-1074, -1e-310])
def test_zero_and_subnormal_values_round_trip_both_ways(keys, x):
    # the exponents differ (above), the values do not
    sk, pk, psk, ppk = keys
    assert psk.decrypt(pk.encrypt_number(x).to_phe(ppk)) == x
    assert sk.decrypt_number(paillier.EncryptedNumber.from_phe(ppk.encrypt(x), pk)) == x
