"""The learning task: multinomial logistic regression on the shipped digits data.

``data/digits.csv`` (1797 8×8 images, pixels 0..16) is split once with a
fixed seed into a held-out test split (20 %) and ``num_partitions`` IID
client shards of the rest. The model is a 64 → 10 softmax regression
(650 parameters: ``W`` of shape (64, 10) and ``b`` of shape (10,)), trained
locally with minibatch SGD in numpy.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np

N_FEATURES = 64
N_CLASSES = 10
SEED = 0
TEST_FRACTION = 0.2


def _default_csv() -> Path:
    env = os.environ.get("HEKIT_DIGITS_CSV")
    if env:
        return Path(env)
    # python/examples/flower/hekit_flower_example/task.py -> repository root
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "data" / "digits.csv"
        if candidate.exists():
            return candidate
    raise FileNotFoundError(
        "data/digits.csv not found above this file; set HEKIT_DIGITS_CSV"
    )


@lru_cache(maxsize=4)
def load_split(csv: str | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, y_train, x_test, y_test), features scaled to [0, 1]."""
    path = Path(csv) if csv else _default_csv()
    raw = np.loadtxt(path, delimiter=",", skiprows=1)
    y = raw[:, 0].astype(np.int64)
    x = raw[:, 1:] / 16.0
    perm = np.random.default_rng(SEED).permutation(len(y))
    n_test = int(round(TEST_FRACTION * len(y)))
    test, train = perm[:n_test], perm[n_test:]
    return x[train], y[train], x[test], y[test]


def load_partition(partition_id: int, num_partitions: int) -> tuple[np.ndarray, np.ndarray]:
    """Client ``partition_id``'s shard of the training split (IID, fixed seed)."""
    x, y, _, _ = load_split()
    shards = np.array_split(np.arange(len(y)), num_partitions)
    idx = shards[partition_id]
    return x[idx], y[idx]


def initial_parameters() -> list[np.ndarray]:
    """Zero weights and biases."""
    return [np.zeros((N_FEATURES, N_CLASSES)), np.zeros(N_CLASSES)]


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def train(
    params: list[np.ndarray],
    x: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int = 5,
    lr: float = 0.5,
    batch_size: int = 16,
    l2: float = 1e-4,
    seed: int = 0,
) -> list[np.ndarray]:
    """Minibatch SGD on the cross-entropy; returns new parameters."""
    w, b = params[0].astype(np.float64).copy(), params[1].astype(np.float64).copy()
    rng = np.random.default_rng(seed)
    onehot = np.eye(N_CLASSES)[y]
    for _ in range(epochs):
        order = rng.permutation(len(y))
        for start in range(0, len(y), batch_size):
            i = order[start : start + batch_size]
            p = _softmax(x[i] @ w + b)
            g = (p - onehot[i]) / len(i)
            w -= lr * (x[i].T @ g + l2 * w)
            b -= lr * g.sum(axis=0)
    return [w, b]


def evaluate(params: list[np.ndarray], x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(cross-entropy loss, accuracy)."""
    p = _softmax(x @ params[0] + params[1])
    loss = float(-np.mean(np.log(p[np.arange(len(y)), y] + 1e-12)))
    acc = float(np.mean(p.argmax(axis=1) == y))
    return loss, acc
