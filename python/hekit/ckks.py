"""hekit.ckks — see the stubs (`ckks.pyi`) and the docstrings of each class."""

from ._hekit import ckks as _native

__all__ = [name for name in dir(_native) if not name.startswith("_")]
globals().update({name: getattr(_native, name) for name in __all__})
