"""hekit.ml.aggregation — the bindings of ``ml_he::aggregation``; see ``aggregation.pyi``."""

from .._hekit import ml as _ml

_native = getattr(_ml, "aggregation")
__all__ = [name for name in dir(_native) if not name.startswith("_")]
globals().update({name: getattr(_native, name) for name in __all__})
