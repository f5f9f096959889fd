"""The hekit calls the Mod and the Workflow make, in one place.

Everything homomorphic happens in Rust (``ml_he::aggregation`` through
``hekit.ml.aggregation``); this module only converts between hekit objects
and the bytes Flower messages carry. The names are those of the Rust API.

Optional bindings: ``inspect_request``, ``decryption_share_sender`` and
``update_digest`` (``ml_he::aggregation``) are used when ``hekit.ml.aggregation``
provides them — a committee member then refuses a request that leaves out its
own update, and the server matches every decryption share with the node that
sent it. Without them those two extra checks are skipped; every check of
``Client.decryption_share`` and ``combine`` still runs.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from hekit.ml import aggregation as _agg
from hekit.threshold import PublicKeyShare, SecretShareMessage

from ._e2e import E2eKey

AggregationParams = _agg.AggregationParams
Client = _agg.Client
Server = _agg.Server
SessionKey = _agg.SessionKey
RoundResult = _agg.RoundResult
combine = _agg.combine

#: ``ml_he::aggregation`` functions not every hekit build binds yet
inspect_request = getattr(_agg, "inspect_request", None)
decryption_share_sender = getattr(_agg, "decryption_share_sender", None)
update_digest = getattr(_agg, "update_digest", None)

__all__ = [
    "AggregationParams",
    "Client",
    "E2eKey",
    "RoundResult",
    "Server",
    "SessionKey",
    "combine",
    "contributors",
    "deal",
    "decryption_share_sender",
    "encrypt_update",
    "inspect_request",
    "make_params",
    "public_key_share",
    "receive_dealings",
    "session_key_from_shares",
    "sum_precision",
    "update_digest",
]


def make_params(
    clients: int,
    threshold: int,
    session_seed: bytes,
    max_abs: float,
    min_contributors: int,
    lambda_: int,
) -> Any:
    """``AggregationParams::new(AggregationConfig::new(n, t).max_abs(..)
    .min_contributors(..).lambda(..), seed)``."""
    return AggregationParams(
        clients,
        threshold,
        session_seed,
        max_abs=max_abs,
        lambda_=lambda_,
        min_contributors=min_contributors,
    )


def public_key_share(client: Any, params: Any) -> bytes:
    """``Client::public_key_share``, serialized."""
    return bytes(client.public_key_share(params).to_bytes())


def session_key_from_shares(params: Any, shares: Sequence[bytes], dealings: Optional[Sequence[bytes]] = None) -> Any:
    """``SessionKey::from_shares`` of serialized public-key shares (all n),
    with every client's dealing commitment (``SessionKey::with_dealings``)
    when given."""
    pks = [PublicKeyShare.from_bytes(params.ckks, s) for s in shares]
    return SessionKey.from_shares(params, pks, None if dealings is None else [bytes(d) for d in dealings])


def deal(client: Any, params: Any) -> tuple[list[tuple[int, bytes]], Optional[bytes]]:
    """``Client::deal``: ([(recipient, serialized dealing)] — secret, one per
    client, and the public commitment (sessions that prove decryption
    shares) or ``None``."""
    msgs, commitment = client.deal(params)
    return [(int(m.recipient), bytes(m.to_bytes())) for m in msgs], (None if commitment is None else bytes(commitment))


def receive_dealings(client: Any, params: Any, dealings: Sequence[bytes]) -> None:
    """``Client::receive_dealings`` of the ``n`` serialized dealings addressed to ``client``."""
    client.receive_dealings([SecretShareMessage.from_bytes(params.ckks, d) for d in dealings])


def encrypt_update(client: Any, round_: int, update: np.ndarray) -> bytes:
    """``Client::encrypt_update`` of a float64 vector."""
    return bytes(client.encrypt_update(round_, np.ascontiguousarray(update, dtype=np.float64)))


def sum_precision(params: Any) -> float:
    """``AggregationParams::sum_precision``."""
    return float(params.sum_precision)


def contributors(server: Any) -> list[int]:
    """``Server::contributors``."""
    return list(server.contributors)
