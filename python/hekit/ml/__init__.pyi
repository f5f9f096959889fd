from .. import HekitError
from . import aggregation as aggregation, inference as inference

class MlError(HekitError): ...

__all__ = ["MlError", "aggregation", "inference"]
