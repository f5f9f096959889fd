"""Names shared by the client Mod and the server Workflow: record keys,
stages and config keys of the hekit secure-aggregation protocol.

Every protocol message is a Flower ``train`` message whose content holds a
``ConfigRecord`` under ``RECORD_KEY_CONFIGS``; its ``"stage"`` entry says
what the client is asked to do. Byte strings are hekit's versioned wire
formats, passed through unchanged.
"""

from __future__ import annotations

RECORD_KEY_CONFIGS = "hekit_configs"
RECORD_KEY_STATE = "hekit_state"

#: ``max_weight`` default: a client's FedAvg weight is ``num_examples / max_weight``
#: (as in Flower's SecAgg+), so weighted entries stay within ``max_abs``.
DEFAULT_MAX_WEIGHT = 1000.0


class Stage:
    """Protocol stages, in order. The first three run once per session
    (collective key generation); the last two run every round."""

    SETUP = "setup"  # -> public-key share, end-to-end public key
    SHARE_KEYS = "share_keys"  # all shares -> session key id, sealed dealings
    RECEIVE_DEALINGS = "receive_dealings"  # sealed dealings -> ok
    ENCRYPT = "encrypt"  # FitIns -> encrypted weighted update
    DECRYPT = "decrypt"  # decryption request -> decryption share

    KEYGEN = (SETUP, SHARE_KEYS, RECEIVE_DEALINGS)
    ALL = (SETUP, SHARE_KEYS, RECEIVE_DEALINGS, ENCRYPT, DECRYPT)


class Key:
    """Keys of the config records."""

    STAGE = "stage"
    # setup (server -> client)
    PARTY = "party"
    CLIENTS = "clients"
    THRESHOLD = "threshold"
    SESSION_SEED = "session_seed"
    MAX_ABS = "max_abs"
    LAMBDA = "lambda"
    MIN_CONTRIBUTORS = "min_contributors"
    MAX_WEIGHT = "max_weight"
    # setup (client -> server)
    PUBLIC_KEY_SHARE = "pk_share"
    E2E_PUBLIC_KEY = "e2e_pk"
    # share keys (server -> client): parallel lists over parties 1..n
    PARTIES = "parties"
    PUBLIC_KEY_SHARES = "pk_shares"
    E2E_PUBLIC_KEYS = "e2e_pks"
    # share keys (client -> server) / receive dealings (server -> client)
    SESSION_KEY_ID = "key_id"
    DESTINATIONS = "dsts"
    SOURCES = "srcs"
    SEALED = "sealed"
    # share keys (client -> server): the public dealing commitment (empty
    # without share proofs); receive dealings (server -> client): every
    # party's, over parties 1..n, with the public-key shares again
    DEALING_COMMITMENT = "deal_com"
    DEALING_COMMITMENTS = "deal_coms"
    # encrypt (client -> server)
    UPDATE = "update"
    UPDATE_LEN = "update_len"
    # decrypt
    REQUEST = "request"
    DECRYPTION_SHARE = "dshare"
