"""The hekit calls the Mod and the Workflow make, in one place.

Everything cryptographic happens in Rust (``ml_he::aggregation`` through the
``hekit`` extension): this module only adapts call shapes. The names are
those of the Rust API.

TEMPORARY: until ``hekit.ml`` binds ``ml_he::aggregation`` (branch ``py``),
the calls go to a private development shim ``_hekit_flower_shim`` (a PyO3
build of the same Rust functions, not part of the repository). The
end-to-end boxes for the Shamir dealings (``E2eKey``: X25519 +
HKDF-SHA256 + ChaCha20-Poly1305, the construction of ``mpc/src/e2e.rs``)
are not in ``ml_he`` at all yet; see ``python/examples/flower/README.md``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

try:  # the real binding, once it lands
    from hekit.ml import (  # type: ignore[attr-defined]
        AggregationParams,
        Client,
        E2eKey,
        Server,
        SessionKey,
        combine,
        decryption_share_sender,
        inspect_request,
        update_digest,
    )

    BACKEND = "hekit.ml"
except ImportError:  # private development shim
    from _hekit_flower_shim import (  # type: ignore[no-redef]
        AggregationParams,
        Client,
        E2eKey,
        Server,
        SessionKey,
        combine,
        decryption_share_sender,
        inspect_request,
        update_digest,
    )

    BACKEND = "_hekit_flower_shim"

__all__ = [
    "AggregationParams",
    "BACKEND",
    "Client",
    "E2eKey",
    "Server",
    "SessionKey",
    "combine",
    "deal",
    "decryption_share_sender",
    "encrypt_update",
    "inspect_request",
    "make_params",
    "receive_dealings",
    "update_digest",
]


def make_params(
    clients: int,
    threshold: int,
    session_seed: bytes,
    max_abs: float,
    min_contributors: int,
    lambda_: int,
) -> AggregationParams:
    """``AggregationParams::new(AggregationConfig::new(n, t).max_abs(..)
    .min_contributors(..).lambda(..), seed)``."""
    return AggregationParams(
        clients,
        threshold,
        session_seed,
        max_abs=max_abs,
        min_contributors=min_contributors,
        lambda_=lambda_,
    )


def deal(client: Client, params: AggregationParams) -> list[tuple[int, bytes]]:
    """``Client::deal``: [(recipient party, serialized dealing)] (secret)."""
    return list(client.deal(params))


def receive_dealings(client: Client, params: AggregationParams, dealings: Sequence[bytes]) -> None:
    """``Client::receive_dealings`` of the ``n`` dealings addressed to ``client``."""
    client.receive_dealings(params, list(dealings))


def encrypt_update(client: Client, round_: int, update: np.ndarray) -> bytes:
    """``Client::encrypt_update`` of a float vector."""
    return bytes(client.encrypt_update(round_, np.asarray(update, dtype=np.float64).tolist()))
