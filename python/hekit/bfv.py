"""hekit.bfv — exact arithmetic on encrypted int64 vectors: RNS BFV, the
bindings of the Rust crate ``bfv`` under the same names. See ``bfv.pyi``.
"""

from ._hekit import bfv as _native

__all__ = [name for name in dir(_native) if not name.startswith("_")]
globals().update({name: getattr(_native, name) for name in __all__})
