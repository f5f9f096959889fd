"""The client side: ``hekit_mod``, a Flower Mod in the shape of
``flwr.client.mod.secaggplus_mod``.

Put it in a ClientApp's mod list (``ClientApp(client_fn, mods=[hekit_mod])``).
It reacts only to ``train`` messages whose content carries the
``"hekit_configs"`` config record (sent by :class:`hekit.flower.HekitWorkflow`)
and passes everything else through. Per stage:

====================  ==========================================================
stage                 what the client does (every call goes to hekit / Rust)
====================  ==========================================================
``setup``             checks the session against its own policy (λ ≥ 40,
                      threshold), makes its key holder ``Client(params, id)``
                      and an end-to-end key; sends its public-key share and
                      end-to-end public key
``share_keys``        recomputes the collective key from **all** public-key
                      shares itself (``SessionKey.from_shares``; its own share
                      must be among them), deals Shamir shares of its secret
                      (threshold ``t``) and seals each to its recipient;
                      sends the sealed dealings and the key's id
``receive_dealings``  opens the ``n`` dealings addressed to it and keeps their
                      sum (``Client.receive_dealings``)
``encrypt``           trains (the wrapped ClientApp), encrypts
                      ``[w, w·θ]`` (``w = num_examples / max_weight``, ``θ`` the
                      flattened parameters) under the collective key; the
                      plaintext parameters are removed from the reply
``decrypt``           as a committee member: refuses a request that leaves out
                      its own update of that round (where hekit binds
                      ``inspect_request`` and ``update_digest``), then
                      ``Client.decryption_share`` — which checks every
                      contribution, recomputes the sum itself, refuses sums of
                      fewer than ``min_contributors`` updates, a second
                      contribution set per round and too many attempts — and
                      sends the share (smudged, λ = 40)
====================  ==========================================================

State. The non-secret part (stage, party id, session settings, the digest of
each update it sent) lives in ``context.state`` like SecAgg+'s, and so does
the key holder: ``Client.to_bytes()`` (additive secret, Shamir share, the
protocol instances answered and what each round released), the end-to-end
private key, the session key — in the config record ``hekit_key_holder``,
rewritten after every stage that changes it and read back in a new process
(the deployment runtime starts a fresh ClientApp process per message). It is
secret, like the keys SecAgg+ keeps there: it never leaves the node, whose
state store must be protected as such. Within one process a cache avoids
re-reading it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from flwr.app import ConfigRecord, Context, Message, RecordDict
from flwr.app.message_type import MessageType
from flwr.clientapp.typing import ClientAppCallable
from flwr.common import parameters_to_ndarrays
from flwr.compat.common import recorddict_compat as compat

from . import _backend as hk
from ._protocol import DEFAULT_MAX_WEIGHT, RECORD_KEY_CONFIGS, RECORD_KEY_STATE, Key, Stage

#: A client refuses smudging below this statistical security (bits).
MIN_LAMBDA = 40


class HekitStateError(RuntimeError):
    """This node has no hekit key holder for the run (key generation did not
    run here)."""


class HekitPolicyError(ValueError):
    """The server asked for something this client's policy refuses."""


@dataclass
class _KeyHolder:
    """What a node keeps in memory between messages (secret)."""

    params: Any
    client: Any
    e2e: Any
    own_pk_share: bytes = b""
    own_dealing: bytes = b""
    e2e_pks: list[bytes] = field(default_factory=list)
    key: Any = None


_HOLDERS: dict[tuple[int, int], _KeyHolder] = {}
_LOCK = threading.Lock()


#: The config record of the node's context that carries the key holder
#: between processes (secret, like SecAgg+'s keys in the same place).
RECORD_KEY_HOLDER = "hekit_key_holder"


def _save(ctxt: Context, h: _KeyHolder) -> None:
    """Writes the key holder into the node's context, so that the next
    message finds it even in a new process (the deployment runtime)."""
    record = {
        "client": bytes(h.client.to_bytes()),
        "e2e": h.e2e.to_bytes(),
        "own_pk_share": h.own_pk_share,
        "own_dealing": h.own_dealing,
        "e2e_pks": list(h.e2e_pks),
    }
    if h.key is not None:
        record["key"] = bytes(h.key.to_bytes())
    ctxt.state.config_records[RECORD_KEY_HOLDER] = ConfigRecord(record)


def _holder(ctxt: Context) -> _KeyHolder:
    with _LOCK:
        h = _HOLDERS.get((ctxt.run_id, ctxt.node_id))
    if h is not None:
        return h
    saved = ctxt.state.config_records.get(RECORD_KEY_HOLDER)
    state = ctxt.state.config_records.get(RECORD_KEY_STATE)
    if saved is None or state is None:
        raise HekitStateError(
            f"node {ctxt.node_id}: no hekit key holder for run {ctxt.run_id} "
            "(key generation did not run on this node)"
        )
    params = hk.make_params(
        int(state[Key.CLIENTS]),
        int(state[Key.THRESHOLD]),
        bytes(state[Key.SESSION_SEED]),
        float(state[Key.MAX_ABS]),
        int(state[Key.MIN_CONTRIBUTORS]),
        int(state[Key.LAMBDA]),
    )
    h = _KeyHolder(
        params=params,
        client=hk.Client.from_bytes(params, bytes(saved["client"])),
        e2e=hk.E2eKey.from_bytes(int(state[Key.PARTY]), bytes(saved["e2e"])),
        own_pk_share=bytes(saved["own_pk_share"]),
        own_dealing=bytes(saved["own_dealing"]),
        e2e_pks=[bytes(k) for k in saved["e2e_pks"]],
        key=hk.SessionKey.from_bytes(params, bytes(saved["key"])) if "key" in saved else None,
    )
    with _LOCK:
        _HOLDERS[(ctxt.run_id, ctxt.node_id)] = h
    return h


def _policy_threshold(ctxt: Context, n: int) -> int:
    """The smallest threshold this client accepts: ``node_config
    ["hekit-min-threshold"]`` if set, else a strict majority of ``n``
    (so any two committees share a member)."""
    pinned = ctxt.node_config.get("hekit-min-threshold")
    return int(pinned) if pinned is not None else n // 2 + 1


def hekit_mod(msg: Message, ctxt: Context, call_next: ClientAppCallable) -> Message:
    """Handles a message of the hekit secure-aggregation protocol (see the
    module documentation); other messages go to ``call_next`` unchanged."""
    if (
        msg.metadata.message_type != MessageType.TRAIN
        or not msg.has_content()
        or RECORD_KEY_CONFIGS not in msg.content.config_records
    ):
        return call_next(msg, ctxt)

    if RECORD_KEY_STATE not in ctxt.state.config_records:
        ctxt.state.config_records[RECORD_KEY_STATE] = ConfigRecord({"stage": ""})
    state = ctxt.state.config_records[RECORD_KEY_STATE]
    configs = msg.content.config_records[RECORD_KEY_CONFIGS]
    stage = configs.get(Key.STAGE)
    _check_stage(str(state["stage"]), stage)

    out_content = RecordDict()
    if stage == Stage.SETUP:
        res = _setup(ctxt, state, configs)
    elif stage == Stage.SHARE_KEYS:
        res = _share_keys(ctxt, state, configs)
    elif stage == Stage.RECEIVE_DEALINGS:
        res = _receive_dealings(ctxt, state, configs)
    elif stage == Stage.ENCRYPT:
        out_content, res = _encrypt(msg, ctxt, state, configs, call_next)
    else:  # Stage.DECRYPT
        res = _decrypt(ctxt, state, configs)
    if stage in Stage.KEYGEN:
        state["stage"] = stage
    ctxt.state.config_records[RECORD_KEY_STATE] = state
    out_content.config_records[RECORD_KEY_CONFIGS] = ConfigRecord(res, keep_input=False)
    return Message(out_content, reply_to=msg)


def _check_stage(current: str, requested: Any) -> None:
    """Key generation runs once, in order; rounds need a finished key."""
    if requested not in Stage.ALL:
        raise HekitPolicyError(f"unknown hekit stage {requested!r}")
    expected_next = {
        "": Stage.SETUP,
        Stage.SETUP: Stage.SHARE_KEYS,
        Stage.SHARE_KEYS: Stage.RECEIVE_DEALINGS,
    }
    if requested in Stage.KEYGEN:
        if expected_next.get(current) != requested:
            raise HekitPolicyError(
                f"stage {requested!r} after {current or 'nothing'!r}: key generation "
                "runs once per session, in order (a second public-key share or "
                "dealing is refused)"
            )
    elif current != Stage.RECEIVE_DEALINGS:
        raise HekitPolicyError(f"stage {requested!r} before the collective key is complete")


def _setup(ctxt: Context, state: ConfigRecord, cfg: ConfigRecord) -> dict:
    n, t = int(cfg[Key.CLIENTS]), int(cfg[Key.THRESHOLD])
    lam = int(cfg[Key.LAMBDA])
    if lam < MIN_LAMBDA:
        raise HekitPolicyError(f"smudging λ = {lam} is below this client's {MIN_LAMBDA}")
    if t < _policy_threshold(ctxt, n):
        raise HekitPolicyError(
            f"threshold {t} of {n} is below this client's minimum {_policy_threshold(ctxt, n)}"
        )
    party = int(cfg[Key.PARTY])
    seed = bytes(cfg[Key.SESSION_SEED])
    params = hk.make_params(
        n, t, seed, float(cfg[Key.MAX_ABS]), int(cfg[Key.MIN_CONTRIBUTORS]), lam
    )
    client = hk.Client(params, party)
    e2e = hk.E2eKey(party)
    holder = _KeyHolder(params=params, client=client, e2e=e2e)
    holder.own_pk_share = hk.public_key_share(client, params)
    with _LOCK:
        _HOLDERS[(ctxt.run_id, ctxt.node_id)] = holder
    _save(ctxt, holder)
    for k in (Key.PARTY, Key.CLIENTS, Key.THRESHOLD, Key.MAX_ABS, Key.LAMBDA,
              Key.MIN_CONTRIBUTORS, Key.MAX_WEIGHT):
        state[k] = cfg[k]
    state[Key.SESSION_SEED] = seed
    return {Key.PUBLIC_KEY_SHARE: holder.own_pk_share, Key.E2E_PUBLIC_KEY: bytes(e2e.public())}


def _share_keys(ctxt: Context, state: ConfigRecord, cfg: ConfigRecord) -> dict:
    h = _holder(ctxt)
    n, me = int(state[Key.CLIENTS]), int(state[Key.PARTY])
    parties = [int(p) for p in cfg[Key.PARTIES]]
    shares = [bytes(s) for s in cfg[Key.PUBLIC_KEY_SHARES]]
    e2e_pks = [bytes(k) for k in cfg[Key.E2E_PUBLIC_KEYS]]
    if parties != list(range(1, n + 1)) or len(shares) != n or len(e2e_pks) != n:
        raise HekitPolicyError("the key directory must list every party 1..n exactly once")
    if shares[me - 1] != h.own_pk_share:
        raise HekitPolicyError("the relayed public-key shares do not contain this client's own")
    # The collective key is recomputed here from all n shares, never taken
    # from the server.
    h.key = hk.session_key_from_shares(h.params, shares)
    h.client.set_key(h.key)
    h.e2e_pks = e2e_pks
    seed = bytes(state[Key.SESSION_SEED])
    dsts, sealed = [], []
    messages, commitment = hk.deal(h.client, h.params)
    for to, dealing in messages:
        if to == me:
            h.own_dealing = bytes(dealing)
            continue
        dsts.append(int(to))
        sealed.append(bytes(h.e2e.seal(e2e_pks[to - 1], seed, me, to, dealing)))
    state[Key.SESSION_KEY_ID] = bytes(h.key.id)
    _save(ctxt, h)
    return {
        Key.SESSION_KEY_ID: bytes(h.key.id),
        Key.DESTINATIONS: dsts,
        Key.SEALED: sealed,
        Key.DEALING_COMMITMENT: commitment or b"",
    }


def _receive_dealings(ctxt: Context, state: ConfigRecord, cfg: ConfigRecord) -> dict:
    h = _holder(ctxt)
    n, me = int(state[Key.CLIENTS]), int(state[Key.PARTY])
    srcs = [int(s) for s in cfg[Key.SOURCES]]
    boxes = [bytes(b) for b in cfg[Key.SEALED]]
    if sorted(srcs) != [p for p in range(1, n + 1) if p != me] or len(boxes) != len(srcs):
        raise HekitPolicyError("a dealing from every other party is needed, once each")
    seed = bytes(state[Key.SESSION_SEED])
    dealings = [h.own_dealing]
    for src, box in zip(srcs, boxes):
        dealings.append(bytes(h.e2e.open(h.e2e_pks[src - 1], seed, src, me, box)))
    coms = [bytes(c) for c in cfg.get(Key.DEALING_COMMITMENTS, [])]
    if any(coms):
        # Sessions that prove decryption shares: the key with every
        # client's dealing commitment, recomputed here (each checked
        # against its client's public-key share); each dealing is checked
        # against its dealer's commitment.
        shares = [bytes(s) for s in cfg[Key.PUBLIC_KEY_SHARES]]
        if len(coms) != n or len(shares) != n:
            raise HekitPolicyError("every party's dealing commitment and public-key share are needed")
        h.key = hk.session_key_from_shares(h.params, shares, coms)
        h.client.set_key(h.key)
    hk.receive_dealings(h.client, h.params, dealings)
    h.own_dealing = b""
    _save(ctxt, h)
    return {Key.SESSION_KEY_ID: bytes(h.key.id)}


def _flatten(ndarrays: list[np.ndarray]) -> np.ndarray:
    return np.concatenate([np.asarray(a, dtype=np.float64).ravel() for a in ndarrays])


def _encrypt(
    msg: Message,
    ctxt: Context,
    state: ConfigRecord,
    cfg: ConfigRecord,
    call_next: ClientAppCallable,
) -> tuple[RecordDict, dict]:
    h = _holder(ctxt)
    round_ = int(cfg["round"])
    out = call_next(msg, ctxt)
    out_content = out.content
    fitres = compat.recorddict_to_fitres(out_content, keep_input=True)
    weight = fitres.num_examples / float(state[Key.MAX_WEIGHT])
    update = np.concatenate([[weight], weight * _flatten(parameters_to_ndarrays(fitres.parameters))])
    max_abs = float(state[Key.MAX_ABS])
    worst = float(np.max(np.abs(update)))
    if not np.isfinite(worst) or worst > max_abs:
        raise HekitPolicyError(
            f"weighted update entry {worst:.3g} outside ±max_abs = {max_abs} "
            "(raise max_abs or max_weight, or clip the model)"
        )
    ct = hk.encrypt_update(h.client, round_, update)
    # the plaintext model never leaves the client
    for record in out_content.array_records.values():
        record.clear()
    if hk.update_digest is not None:
        state[f"digest:{round_}"] = bytes(hk.update_digest(ct))
    return out_content, {Key.UPDATE: ct, Key.UPDATE_LEN: len(update)}


def _decrypt(ctxt: Context, state: ConfigRecord, cfg: ConfigRecord) -> dict:
    h = _holder(ctxt)
    me = int(state[Key.PARTY])
    request = bytes(cfg[Key.REQUEST])
    info = hk.inspect_request(h.key, request) if hk.inspect_request is not None else None
    mine = state.get(f"digest:{info.round}") if info is not None else None
    if mine is not None:
        included = {int(p): bytes(d) for p, d in info.contributions}
        if included.get(me) != bytes(mine):
            raise HekitPolicyError(
                f"the round-{info.round} decryption request leaves out or replaces "
                "this client's own update"
            )
    share = bytes(h.client.decryption_share(request))
    _save(ctxt, h)  # the answered instance and the round's release are state
    return {Key.DECRYPTION_SHARE: share}
