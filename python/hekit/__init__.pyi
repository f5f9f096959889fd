from . import bfv as bfv, ckks as ckks, ml as ml, paillier as paillier, threshold as threshold

__version__: str

class HekitError(ValueError):
    """Base class of every error hekit raises: the Rust error's message."""

class UnknownParametersError(HekitError):
    """Unpickling needs parameters this process has not created or loaded."""

class RlweError(HekitError):
    """An error of the shared lattice core (``rlwe::Error``)."""

def ifma_available() -> bool:
    """Whether this CPU has AVX-512 IFMA (chosen at run time, as in Rust)."""

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
