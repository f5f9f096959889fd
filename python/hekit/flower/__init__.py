"""Secure aggregation for Flower under a threshold CKKS key.

``hekit.flower`` gives a Flower app the shape of Flower's own SecAgg+
(``secaggplus_mod`` / ``SecAggPlusWorkflow``) with a different guarantee:
the clients generate a collective CKKS key among themselves, each encrypts
its weighted model under it, the server adds ciphertexts, and any ``t`` of
the ``n`` clients — never the server, never fewer than ``t`` — decrypt only
the sum.

* :func:`hekit_mod` — the client Mod (``ClientApp(client_fn, mods=[hekit_mod])``).
* :class:`HekitWorkflow` — the server's fit workflow
  (``DefaultWorkflow(fit_workflow=HekitWorkflow(num_clients=10, threshold=6))``).

The cryptography is hekit's Rust code (``ml_he::aggregation``): these
modules only move bytes between Flower messages and hekit calls. See
``python/examples/flower/README.md`` for a complete app, measurements and
the threat model.
"""

from ._protocol import RECORD_KEY_CONFIGS, RECORD_KEY_STATE, Key, Stage
from .mod import HekitPolicyError, HekitStateError, hekit_mod
from .workflow import HekitAggregationError, HekitWorkflow, RoundRecord, Session

__all__ = [
    "HekitAggregationError",
    "HekitPolicyError",
    "HekitStateError",
    "HekitWorkflow",
    "Key",
    "RECORD_KEY_CONFIGS",
    "RECORD_KEY_STATE",
    "RoundRecord",
    "Session",
    "Stage",
    "hekit_mod",
]
