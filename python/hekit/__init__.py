"""hekit — homomorphic encryption from Rust.

Modules (the same names as the Rust crates' APIs):

- :mod:`hekit.ckks` — approximate arithmetic on encrypted float64 vectors;
- :mod:`hekit.bfv` — exact arithmetic on encrypted int64 vectors;
- :mod:`hekit.paillier` — additive Paillier, interoperable with python-paillier;
- :mod:`hekit.threshold` — parties, collective keys and threshold decryption;
- :mod:`hekit.ml` — encrypted inference of ONNX models and federated aggregation.

Every error is a :class:`HekitError` (a ``ValueError``) carrying the Rust
error's message; each module has its own subclass (``hekit.ckks.CkksError``,
…). Objects pickle through their versioned byte formats; parameters travel
by fingerprint and must have been created or loaded in the unpickling
process (:class:`UnknownParametersError` otherwise).
"""

from ._hekit import (
    HekitError,
    RlweError,
    UnknownParametersError,
    __version__,
    ifma_available,
)
from . import bfv, ckks, ml, paillier, threshold

__all__ = [
    "HekitError",
    "RlweError",
    "UnknownParametersError",
    "__version__",
    "bfv",
    "ckks",
    "ifma_available",
    "ml",
    "paillier",
    "threshold",
]
