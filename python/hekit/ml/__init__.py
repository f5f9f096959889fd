"""hekit.ml — encrypted machine learning (the Rust crate ``ml_he``).

- :mod:`hekit.ml.inference`: an ONNX model in (bytes or a path), a
  ``Server`` (model owner) and a ``Client`` (data owner) out; every message
  crosses as bytes.
- :mod:`hekit.ml.aggregation`: federated averaging under a threshold CKKS
  key (``Client``, ``Server``, ``combine``).
"""

from .._hekit import ml as _native
from . import aggregation, inference

MlError = _native.MlError

__all__ = ["MlError", "aggregation", "inference"]
