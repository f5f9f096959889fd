"""hekit.threshold — multiparty protocols (the Rust crate ``threshold``):
parties, collective keys and t-of-n decryption with smudging, each protocol
as share → aggregate → finish. See ``threshold.pyi``.
"""

from ._hekit import threshold as _native

__all__ = [name for name in dir(_native) if not name.startswith("_")]
globals().update({name: getattr(_native, name) for name in __all__})
