"""Encrypted inference and aggregation through the bindings.

Inference: the shipped ONNX models (``data/models``) are imported, compiled
and run encrypted with the roles apart (messages as bytes); the decrypted
scores are compared with the stored float64 reference outputs
(``<model>.outputs.npy``) within the tolerances of the Rust tests
(``ml-he/tests/compile_graph.rs``: 1e-2 for the wine scores, 5e-2 for the
CNN's logits), and the plaintext graph with the reference within 1e-9
(float64 model) / 1e-6.

Aggregation: 5 clients, any 3 decrypt; the average of the updates of 4
contributors against numpy's, within the stated precision.
"""

import pickle

import numpy as np
import pytest

from hekit.ml import aggregation, inference


def wine_rows(data_dir):
    text = (data_dir / "wine.csv").read_text().splitlines()[1:]
    return np.array([[float(v) for v in line.split(",")[1:]] for line in text])


def run_encrypted(server, queries):
    """Client and server exchange bytes only; returns the decrypted scores."""
    setup = inference.PublicSetup.from_bytes(server.setup().to_bytes())
    client = inference.Client(setup)
    keys = server.read_keys(client.evaluation_keys().to_bytes())
    out = []
    for batch in queries:
        response = server.evaluate_bytes(keys, client.encrypt_batch(batch).to_bytes())
        out.append(client.decrypt_bytes(response))
    return np.vstack(out)


@pytest.mark.parametrize("packing", ["per_sample", "batch"])
def test_wine_logistic_regression_matches_reference(data_dir, packing):
    model = data_dir / "models" / "wine_logreg.onnx"
    graph = inference.import_onnx(str(model))
    xs = np.load(data_dir / "models" / "wine_logreg.inputs.npy")
    want = np.load(data_dir / "models" / "wine_logreg.outputs.npy")
    # the plaintext graph is onnxruntime's float64 answer
    for x, w in zip(xs, want):
        assert np.max(np.abs(graph.eval(x) - w)) < 1e-9
    server = inference.Server.compile(
        graph, wine_rows(data_dir), inference.CompileOptions(packing=packing)
    )
    assert "depth" in server.report
    chunk = 4 if packing == "per_sample" else len(xs)
    got = run_encrypted(server, [xs[i : i + chunk] for i in range(0, len(xs), chunk)])
    assert got.shape == want.shape == (54, 3)
    assert np.max(np.abs(got - want)) < 1e-2
    assert np.array_equal(got.argmax(axis=1), want.argmax(axis=1))


def test_tenseal_cnn_per_sample_matches_reference(data_dir):
    model = (data_dir / "models" / "mnist_cnn_tenseal.onnx").read_bytes()
    graph = inference.import_onnx(model)  # bytes in
    xs = np.load(data_dir / "models" / "mnist_cnn_tenseal.inputs.npy")
    want = np.load(data_dir / "models" / "mnist_cnn_tenseal.outputs.npy")
    assert graph.input_shape == [1, 28, 28]
    assert np.max(np.abs(graph.eval(xs[0]) - want[0])) < 1e-6
    server = inference.Server.compile(graph, xs.reshape(len(xs), -1))
    got = run_encrypted(server, [xs[:2]])
    # logits reach ±77: 5e-2 is a relative error below 10^-3 (the Rust test's bound)
    assert np.max(np.abs(got - want[:2])) < 5e-2
    assert np.array_equal(got.argmax(axis=1), want[:2].argmax(axis=1))


def test_inference_messages_pickle_and_errors(data_dir):
    graph = inference.import_onnx(data_dir / "models" / "wine_logreg.onnx")  # a Path
    rows = wine_rows(data_dir)
    server = inference.Server.compile(graph, rows, inference.CompileOptions(packing="batch"))
    setup = pickle.loads(pickle.dumps(server.setup()))
    assert (setup.inputs, setup.outputs, setup.packing) == (13, 3, "batch")
    client = inference.Client(setup)
    query = client.encrypt_batch(rows[:5])
    back = pickle.loads(pickle.dumps(query))
    assert back.to_bytes() == query.to_bytes()
    keys = server.read_keys(client.evaluation_keys().to_bytes())
    with pytest.raises(inference.MlError):
        server.evaluate_bytes(keys, b"not a query")
    with pytest.raises(inference.MlError):
        inference.import_onnx(b"not an onnx model")
    with pytest.raises(inference.MlError, match="cannot read"):
        inference.import_onnx(str(data_dir / "models" / "missing.onnx"))
    with pytest.raises(inference.MlError):
        inference.Server.compile(graph, np.ones((2, 5)))  # wrong sample size
    with pytest.raises(ValueError, match="packing"):
        inference.CompileOptions(packing="diagonal")
    opts = pickle.loads(pickle.dumps(inference.CompileOptions(packing="batch", scale_bits=28)))
    assert opts.packing == "batch"
    g2 = pickle.loads(pickle.dumps(graph))
    assert np.array_equal(g2.eval(rows[0]), graph.eval(rows[0]))


def test_unsupported_operator_is_refused(data_dir):
    with pytest.raises(inference.MlError, match="MaxPool"):
        inference.import_onnx(data_dir / "models" / "unsupported_maxpool.onnx")


@pytest.fixture(scope="module")
def agg_session():
    params = aggregation.AggregationParams(5, 3, bytes(32), max_abs=16.0)
    clients = [aggregation.Client(params, i) for i in range(1, 6)]
    shares = [c.public_key_share(params) for c in clients]
    key = aggregation.SessionKey.from_shares(params, shares)
    key = aggregation.deal_all(params, clients, key)
    assert key.has_share_commitments
    return params, clients, key


def test_aggregation_average_matches_numpy(agg_session, rng):
    params, clients, key = agg_session
    length = 1000
    updates = {c.id: rng.uniform(-16, 16, length) for c in clients[:4]}
    server = aggregation.Server(key, 0, length)
    for c in clients[:4]:
        blob = c.encrypt_update(0, updates[c.id])
        # the ciphertext payload plus a small header
        assert params.update_bytes(length) <= len(blob) < params.update_bytes(length) + 200
        assert server.add_from(c.id, blob) == c.id
    assert server.contributors == [1, 2, 3, 4]
    request = server.decryption_request([2, 3, 5])
    shares = [clients[i - 1].decryption_share(request) for i in (2, 3, 5)]
    result = aggregation.combine(key, request, shares)
    want = np.mean([updates[i] for i in (1, 2, 3, 4)], axis=0)
    assert result.contributors == [1, 2, 3, 4] and result.committee == [2, 3, 5]
    assert result.average.shape == (length,)
    assert np.max(np.abs(result.average - want)) <= result.precision
    assert result.precision < 1e-6
    back = pickle.loads(pickle.dumps(result))
    assert np.array_equal(back.average, result.average) and back.committee == [2, 3, 5]


def test_aggregation_wrong_share_names_the_member(agg_session):
    # Decryption shares carry proofs (prove_shares, the default): member 2's
    # share with the tail of member 3's proof is refused, naming member 2;
    # the honest shares combine.
    params, clients, key = agg_session
    server = aggregation.Server(key, 7, 10)
    for c in clients[:3]:
        server.add(c.encrypt_update(7, np.full(10, 0.5)))
    request = server.decryption_request([1, 2, 3])
    s1, s2, s3 = (clients[i].decryption_share(request) for i in range(3))
    forged = s2[:-100] + s3[-100:]
    with pytest.raises(aggregation.MlError, match="decryption share of party 2"):
        aggregation.combine(key, request, [s1, forged, s3])
    result = aggregation.combine(key, request, [s1, s2, s3])
    np.testing.assert_allclose(result.average, 0.5, atol=result.precision)


def test_aggregation_errors(agg_session):
    params, clients, key = agg_session
    server = aggregation.Server(key, 1, 10)
    server.add(clients[0].encrypt_update(1, np.ones(10)))
    with pytest.raises(aggregation.MlError):
        server.add(clients[0].encrypt_update(1, np.ones(10)))  # a second update of client 1
    with pytest.raises(aggregation.MlError):
        server.add_from(3, clients[1].encrypt_update(1, np.ones(10)))  # wrong sender
    with pytest.raises(aggregation.MlError):
        clients[0].encrypt_update(1, np.full(10, 100.0))  # beyond max_abs = 16
    with pytest.raises(aggregation.MlError):
        server.add(clients[2].encrypt_update(2, np.ones(10)))  # another round
    with pytest.raises(aggregation.MlError, match="insecure|λ|lambda"):
        aggregation.AggregationParams(5, 3, bytes(32), lambda_=20)
    # one contribution is below min_contributors = 2: committee members refuse
    request = server.decryption_request([1, 2, 3])
    with pytest.raises(aggregation.MlError):
        clients[1].decryption_share(request)
    p2 = pickle.loads(pickle.dumps(params))
    assert p2.scale == params.scale and p2.sum_precision == params.sum_precision
    k2 = pickle.loads(pickle.dumps(key))
    assert k2.id == key.id and k2.to_bytes() == key.to_bytes()
