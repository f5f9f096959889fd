"""hekit.ckks — approximate arithmetic on encrypted float64 (and complex128) vectors:
RNS CKKS, the bindings of the Rust crate ``ckks`` under the same names
(``Parameters.preset``, ``SecretKey.generate``, ``Encoder``, ``Evaluator``, …),
and bootstrapping (``BootstrapConfig.preset``, ``BootstrapKeys``, ``Bootstrapper``;
two iterations with ``config.with_iterations(2)``).
See ``ckks.pyi`` for the signatures.
"""

from ._hekit import ckks as _native

__all__ = [name for name in dir(_native) if not name.startswith("_")]
globals().update({name: getattr(_native, name) for name in __all__})
