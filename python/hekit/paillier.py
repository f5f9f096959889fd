"""hekit.paillier — additive Paillier (the Rust crate ``paillier``), with
python-paillier's ``EncodedNumber`` semantics and conversions of keys and
``EncryptedNumber``s to and from python-paillier (``to_phe`` / ``from_phe``).
See ``paillier.pyi``.
"""

from ._hekit import paillier as _native

__all__ = [name for name in dir(_native) if not name.startswith("_")]
globals().update({name: getattr(_native, name) for name in __all__})
