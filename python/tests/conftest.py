"""Shared fixtures: parameter sets and keys are made once per session (key
generation is the slow part), data files come from the repository's data/."""

import pathlib

import numpy as np
import pytest

from hekit import bfv, ckks

DATA = pathlib.Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(scope="session")
def data_dir():
    return DATA


@pytest.fixture(scope="session")
def rng():
    return np.random.default_rng(20261207)


@pytest.fixture(scope="session")
def ckks_ctx():
    """N = 8192 preset (scale 2^40, depth 3) with every key the tests use."""
    params = ckks.Parameters.preset(ckks.Preset.N8192)
    sk = ckks.SecretKey.generate(params)
    steps = [1, 2, -3] + ckks.GaloisKeys.sum_slots_steps(params.slots)
    return {
        "params": params,
        "sk": sk,
        "pk": ckks.PublicKey.generate(sk),
        "rlk": ckks.RelinKey.generate(sk),
        "gk": ckks.GaloisKeys.generate(sk, sorted(set(steps)), conjugation=True),
        "enc": ckks.Encoder(params),
        "ev": ckks.Evaluator(params),
    }


@pytest.fixture(scope="session")
def bfv_ctx():
    """N = 8192, t = 65537 preset with relinearization, row and slot-sum keys."""
    params = bfv.Parameters.preset("N8192T65537")
    sk = bfv.SecretKey.generate(params)
    return {
        "params": params,
        "sk": sk,
        "pk": bfv.PublicKey.generate(sk),
        "rlk": bfv.RelinKey.generate(sk),
        "gk": bfv.GaloisKeys.generate(sk, [1, -2], row_swap=True),
        "gk_sum": bfv.GaloisKeys.for_slot_sum(sk),
        "enc": bfv.Encoder(params),
        "ev": bfv.Evaluator(params),
    }
