"""CKKS bootstrapping through the bindings, on the ``TestN4096`` preset
(N = 2^12 with ``security=0``: a small ring for fast tests, not a secure
parameter set; scale 2^50, 8 levels left), against numpy: two iterations
(meta-bootstrapping) return the input within 2^-35 (worst slot; measured
2^-37.8 in ``ckks/tests/bootstrap.rs``, where one iteration measures
2^-24.4), at the level of one iteration and exactly the input scale. Keys
and objects pickle; bad input raises ``CkksError``. Also the inference
compiler's ``bootstrap`` option."""

import pickle

import numpy as np
import pytest

from hekit import ckks
from hekit.ml import inference
from test_ml import wine_rows

TWO = 2.0**-35  # two iterations, worst slot


@pytest.fixture(scope="module")
def boot():
    params, config = ckks.BootstrapConfig.preset(ckks.BootstrapPreset.TestN4096)
    sk = ckks.SecretKey.generate(params)
    return {
        "params": params,
        "config": config,
        "sk": sk,
        "pk": ckks.PublicKey.generate(sk),
        "enc": ckks.Encoder(params),
        "ev": ckks.Evaluator(params),
        "keys": ckks.BootstrapKeys.generate(sk, config),
        "once": ckks.Bootstrapper(params, config),
    }


def encrypt_low(b, x):
    ct = b["pk"].encrypt(b["enc"].encode(x))
    return b["ev"].drop_to_level(ct, 0)


def chain(config, s2c, eval_mod, c2s):
    """The bootstrapping primes above the user's levels, bottom up (as
    ``ckks::BootstrapConfig::chain``)."""
    c, s = config.coeffs_to_slots_levels, config.slots_to_coeffs_levels
    return [s2c] * s + [eval_mod] * (config.depth() - c - s) + [c2s] * c


def dec(b, ct):
    return b["enc"].decode(b["sk"].decrypt(ct))


def test_preset_and_config(boot):
    params, config = boot["params"], boot["config"]
    assert (params.degree, config.slots, params.scale) == (4096, 2048, 2.0**50)
    assert params.max_level - config.depth() == boot["once"].output_level == 8
    assert (config.iterations, config.first_error_bits) == (1, 20)
    same = ckks.BootstrapConfig.preset("TestN4096")[1]
    assert same == config and config.with_iterations(2) == config.replace(iterations=2)
    assert config.replace(slots=64).slots == 64
    assert sorted(boot["once"].rotation_steps()) == sorted(config.rotation_steps(4096))
    with pytest.raises(ValueError, match="preset"):
        ckks.BootstrapConfig.preset("N1024")


def test_two_iterations_return_the_input(boot, rng):
    x = rng.uniform(-1.0, 1.0, 2048)
    low = encrypt_low(boot, x)
    assert low.level == 0
    twice = ckks.Bootstrapper(boot["params"], boot["config"].with_iterations(2))
    out = twice.bootstrap(low, boot["keys"])
    assert out.level == twice.output_level == boot["once"].output_level == 8
    assert out.scale == boot["params"].scale
    err = np.max(np.abs(dec(boot, out) - x))
    assert err < TWO, np.log2(err)


def test_bad_input_raises_ckks_error(boot):
    ev, keys, once = boot["ev"], boot["keys"], boot["once"]
    ct = boot["pk"].encrypt(boot["enc"].encode([0.5]))
    # a scale far from the configured one
    far = boot["pk"].encrypt(boot["enc"].encode([0.5], scale=2.0**30))
    with pytest.raises(ckks.CkksError, match="scale mismatch"):
        once.bootstrap(far, keys)
    # three parts: relinearize first
    three = ev.mul(ct, ct)
    with pytest.raises(ckks.CkksError):
        once.bootstrap(three, keys)
    # refine: a first result that is not a bootstrap's (its level)
    low = ev.drop_to_level(ct, 0)
    with pytest.raises(ckks.CkksError, match="invalid level"):
        once.refine(low, ev.drop_to_level(ct, 5), keys)
    # configurations the bootstrapper refuses
    for bad in (
        boot["config"].with_iterations(3),
        boot["config"].replace(iterations=2, first_error_bits=0),
        boot["config"].replace(slots=3),
    ):
        with pytest.raises(ckks.CkksError, match="invalid argument"):
            ckks.Bootstrapper(boot["params"], bad)
    # a chain with no level above the output: no room for a second iteration
    config = ckks.BootstrapConfig(8, 2.0**50)
    q = [60] + chain(config, 50, 58, 60)
    flat = ckks.Parameters(4096, q, [60, 60, 60], scale_bits=50, security=0)
    assert ckks.Bootstrapper(flat, config).output_level == 0
    with pytest.raises(ckks.CkksError, match="not enough levels"):
        ckks.Bootstrapper(flat, config.with_iterations(2))
    with pytest.raises(ckks.CkksError):
        ckks.BootstrapKeys.from_bytes(boot["params"], b"not bootstrapping keys")


def test_pickle_round_trips():
    # a short chain (8 slots, a shallow EvalMod, 2 levels left) keeps the
    # keys' bytes small
    config = ckks.BootstrapConfig(
        8, 2.0**40, degree=7, double_angles=2, arcsine=False, iterations=2, first_error_bits=18
    )
    q = [50, 40, 40] + chain(config, 45, 60, 60)
    params = ckks.Parameters(4096, q, [60, 60, 60], scale_bits=40, security=0)
    sk = ckks.SecretKey.generate(params)
    keys = ckks.BootstrapKeys.generate(sk, config)
    back = pickle.loads(pickle.dumps(keys))
    assert back.to_bytes() == keys.to_bytes() and len(back.to_bytes()) == keys.serialized_size
    assert back.params == params
    assert pickle.loads(pickle.dumps(config)) == config
    b = ckks.Bootstrapper(params, config)
    b2 = pickle.loads(pickle.dumps(b))
    assert (b2.config, b2.output_level, b2.params) == (config, 2, params)
    with pytest.raises(ckks.CkksError):
        ckks.BootstrapKeys.from_bytes(params, keys.to_bytes()[:-1])


def test_compile_options_bootstrap(data_dir):
    opts = inference.CompileOptions()
    assert opts.bootstrap == "when_too_deep"
    always = inference.CompileOptions(
        packing="batch", bootstrap="always", bootstrap_ring="TestN4096Insecure", bootstrap_levels=3
    )
    back = pickle.loads(pickle.dumps(always))
    assert (back.bootstrap, back.packing) == ("always", "batch")
    assert pickle.loads(pickle.dumps(inference.CompileOptions(bootstrap="never"))).bootstrap == "never"
    with pytest.raises(ValueError, match="bootstrap must be"):
        inference.CompileOptions(bootstrap="sometimes")
    with pytest.raises(ValueError, match="bootstrap_ring"):
        inference.CompileOptions(bootstrap="always", bootstrap_ring="N1024")
    with pytest.raises(ValueError, match="go with"):
        inference.CompileOptions(bootstrap="never", bootstrap_levels=3)
    graph = inference.import_onnx(data_dir / "models" / "wine_logreg.onnx")
    server = inference.Server.compile(graph, wine_rows(data_dir), back)
    assert server.parameters.degree == 4096  # the test ring of the bootstrapping chain
    # a client accepts that insecure ring only when it opts in
    with pytest.raises(inference.MlError):
        inference.Client(server.setup())
    assert inference.Client(server.setup(), min_security=0).parameters.degree == 4096
