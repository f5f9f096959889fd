"""Threshold decryption through the bindings: 5 parties make a collective
key (nobody holds the secret), any 3 decrypt a sum of encryptions at
λ = 40 — compared with numpy's sum — while 2 cannot; the collective
relinearization and Galois keys work for BFV; shares cross as bytes and
pickles; a party refuses a second share of the same ciphertext."""

import pickle

import numpy as np
import pytest

from hekit import bfv, ckks, threshold

N_PARTIES, T = 5, 3


@pytest.fixture(scope="module")
def session():
    # 128-bit secure: log2(QP) = 200 ≤ 218 at N = 8192 (the example's parameters)
    base = ckks.Parameters(8192, [50, 50, 50], [50])
    crs = threshold.Crs.random()
    parties = [threshold.Party(i, base) for i in range(1, N_PARTIES + 1)]
    shares = [p.public_key_share(crs) for p in parties]
    # shares travel as bytes
    shares = [threshold.PublicKeyShare.from_bytes(base, s.to_bytes()) for s in shares]
    pk = threshold.PublicKeyShares.aggregate(shares).finish()
    inbox = {p.id: [] for p in parties}
    for p in parties:
        for m in p.deal(T, N_PARTIES):
            inbox[m.recipient].append(m)
    for p in parties:
        p.receive_dealings(inbox[p.id], T, N_PARTIES)
    return {"base": base, "crs": crs, "parties": parties, "pk": pk}


def test_t_of_n_ckks_decryption_of_a_sum_at_lambda_40(session, rng):
    inputs, precision = 3, 20.0
    params = threshold.ckks_parameters(session["base"], N_PARTIES, inputs, 64.0, precision)
    assert params.scale > 2.0**60  # room for λ = 40 smudging
    pk = ckks.PublicKey.from_rlwe(params, session["pk"])
    enc, ev = ckks.Encoder(params), ckks.Evaluator(params)
    xs = [rng.uniform(-16, 16, params.slots) for _ in range(inputs)]
    total = pk.encrypt(enc.encode(xs[0]))
    for x in xs[1:]:
        # input parties send pickled ciphertexts; the server adds
        total = ev.add(total, pickle.loads(pickle.dumps(pk.encrypt(enc.encode(x)))))
    noise = threshold.ckks_fresh_noise_bound(params, N_PARTIES, inputs)
    smudging = threshold.Smudging.for_ckks(
        params, total.scale, noise, T, precision, threshold.STATISTICAL_SECURITY
    )
    assert smudging.log2_sigma > 40
    committee = [2, 4, 5]
    active = threshold.ActiveSet(committee, T)
    shares = [
        session["parties"][i - 1].decryption_share(total, smudging, active) for i in committee
    ]
    # decryption shares cross as bytes and as pickles
    shares = [threshold.DecryptionShare.from_bytes(params, s.to_bytes()) for s in shares]
    shares = [pickle.loads(pickle.dumps(s)) for s in shares]
    assert [s.party for s in shares] == committee
    agg = threshold.DecryptionShares.aggregate(total, shares, active)
    assert agg.parties == committee
    got = enc.decode(agg.finish_ckks(params, total.scale))
    want = np.sum(xs, axis=0)
    assert np.max(np.abs(got - want)) < 2.0**-precision
    # a party makes one share per ciphertext: a second is refused
    with pytest.raises(threshold.ThresholdError):
        session["parties"][1].decryption_share(total, smudging, active)


def test_fewer_than_t_cannot_decrypt(session):
    with pytest.raises(threshold.ThresholdError, match="3"):
        threshold.ActiveSet([1, 2], T)
    params = threshold.ckks_parameters(session["base"], N_PARTIES, 1, 64.0, 20.0)
    pk = ckks.PublicKey.from_rlwe(params, session["pk"])
    ct = pk.encrypt(ckks.Encoder(params).encode([1.0]))
    noise = threshold.ckks_fresh_noise_bound(params, N_PARTIES, 1)
    smudging = threshold.Smudging.for_ckks(params, ct.scale, noise, T, 20.0)
    active = threshold.ActiveSet([1, 2, 3], T)
    shares = [session["parties"][i].decryption_share(ct, smudging, active) for i in (0, 1)]
    with pytest.raises(threshold.ThresholdError, match="too few"):
        threshold.DecryptionShares.aggregate(ct, shares, active)


def test_smudging_at_lambda_40_does_not_fit_the_usual_scale(session):
    params = ckks.Parameters.preset("N8192")
    with pytest.raises(threshold.ThresholdError, match="smudging"):
        threshold.Smudging.for_ckks(params, params.scale, 8.0, T, 20.0)


def test_bfv_collective_relin_and_galois_keys_n_of_n(rng):
    params = bfv.Parameters.preset("N8192T65537")
    crs = threshold.Crs(bytes(range(32)))
    parties = [threshold.Party(i, params) for i in (1, 2, 3)]
    pk = threshold.PublicKeyShares.aggregate([p.public_key_share(crs) for p in parties]).finish()
    round1, ephemerals = zip(*(p.relin_key_round1(crs) for p in parties))
    r1 = threshold.RelinKeyRound1.aggregate(list(round1))
    round2 = [p.relin_key_round2(e, r1) for p, e in zip(parties, ephemerals)]
    rlk = threshold.RelinKeyRound2.aggregate(r1, round2).finish()
    g = threshold.galois_element(1, params.degree)
    gshares = [p.galois_key_share(crs, g) for p in parties]
    gshares = [pickle.loads(pickle.dumps(s)) for s in gshares]
    gk = bfv.GaloisKeys.from_rlwe(params, [threshold.GaloisKeyShares.aggregate(gshares).finish()])
    bpk = bfv.PublicKey.from_rlwe(params, pk)
    brlk = bfv.RelinKey.from_rlwe(params, rlk)
    enc, ev = bfv.Encoder(params), bfv.Evaluator(params)
    a, b = rng.integers(-100, 100, 8192), rng.integers(-100, 100, 8192)
    prod = ev.mul_relin(bpk.encrypt(enc.encode(a)), bpk.encrypt(enc.encode(b)), brlk)
    prod = ev.rotate_rows(prod, 1, gk)
    smudging = threshold.Smudging.for_bfv(params, prod.level, 60.0, 3)
    shares = [p.decryption_share(prod, smudging) for p in parties]
    got = enc.decode(threshold.DecryptionShares.aggregate(prod, shares).finish_bfv(params, prod.encoding))
    want = np.roll((a * b).reshape(2, 4096), -1, axis=1).ravel()
    assert np.array_equal(got, want)


def test_protocol_objects_pickle(session):
    crs = session["crs"]
    assert pickle.loads(pickle.dumps(crs)).seed == crs.seed
    active = pickle.loads(pickle.dumps(threshold.ActiveSet([1, 3, 5], T)))
    assert (active.parties, active.threshold) == ([1, 3, 5], T)
    s = threshold.Smudging(8.0)
    assert pickle.loads(pickle.dumps(s)).log2_sigma == s.log2_sigma
    pk = pickle.loads(pickle.dumps(session["pk"]))
    assert pk.to_bytes() == session["pk"].to_bytes()
    base = session["base"]
    msg = threshold.Party(1, base).deal(2, 2)[1]
    back = pickle.loads(pickle.dumps(msg))
    assert (back.sender, back.recipient) == (1, 2)
    assert back.to_bytes() == msg.to_bytes()


def test_e2e_boxes_open_only_for_their_recipient():
    """hekit.threshold.E2eKey (threshold::e2e): a dealing sealed to party 2
    opens for it (also after a round trip of its secret), not for party 3,
    not under another session, and not once altered."""
    from hekit.threshold import E2eKey, ThresholdError

    a, b, c = (E2eKey(i, "test/e2e/v1") for i in (1, 2, 3))
    session = bytes(range(32))
    box = a.seal(2, b.public_bytes(), session, "dealing", b"share")
    assert b.open(1, a.public_bytes(), session, "dealing", box) == b"share"
    b2 = E2eKey.from_secret_bytes(2, "test/e2e/v1", b.secret_bytes())
    assert b2.open(1, a.public_bytes(), session, "dealing", box) == b"share"
    with pytest.raises(ThresholdError, match="does not authenticate"):
        c.open(1, a.public_bytes(), session, "dealing", box)
    with pytest.raises(ThresholdError, match="does not authenticate"):
        b.open(1, a.public_bytes(), bytes(32), "dealing", box)
    altered = box[:-1] + bytes([box[-1] ^ 1])
    with pytest.raises(ThresholdError, match="does not authenticate"):
        b.open(1, a.public_bytes(), session, "dealing", altered)
    with pytest.raises(ValueError, match="32 expected"):
        a.seal(2, b.public_bytes(), b"short", "dealing", b"x")
