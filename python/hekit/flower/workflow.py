"""The server side: ``HekitWorkflow``, a fit workflow in the shape of
``flwr.server.workflow.SecAggPlusWorkflow``.

Use it as the fit workflow of Flower's ``DefaultWorkflow`` with a legacy
strategy (``FedAvg``)::

    workflow = DefaultWorkflow(fit_workflow=HekitWorkflow(num_clients=10, threshold=6))
    workflow(grid, LegacyContext(context, config=ServerConfig(5), strategy=FedAvg(...)))

and ``hekit.flower.hekit_mod`` in the ClientApp's mods.

**Once per session** (the first round): the ``n`` sampled clients become
parties ``1..n`` (sorted node ids) and run collective key generation —
public-key shares → the collective key, which every client recomputes from
all shares; Shamir dealing (threshold ``t``), each dealing sealed end to end
to its recipient and relayed by the server. Key generation needs all ``n``
clients; a failure there halts the workflow.

**Every round**: the clients train and encrypt ``[w, w·θ]`` under the
collective key; the server checks each update (``Server.add_from``: well
formed, this round, this session, named after its sender) and sums
ciphertexts only; a committee of ``t`` live contributors, drawn at random,
decrypts the sum (``Client.decryption_share``; each member recomputes the
sum from the contributions and checks them). When a member does not answer,
the server asks another committee (a new attempt: the sum re-randomized by a
public encryption of zero), up to the Rust API's ``MAX_ATTEMPTS``. The
combined result (``combine``) is ``Σ w_i θ_i / Σ w_i`` over the contributors —
FedAvg — and goes to ``strategy.aggregate_fit`` in place of every
contributor's parameters, as ``SecAggPlusWorkflow`` does.

What the server holds: the session parameters, the collective public key,
public-key shares, sealed dealings it cannot open, ciphertexts, decryption
requests and shares. Nothing it holds decrypts an update; ``combine`` needs
``t`` shares of the same request.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from logging import ERROR, INFO, WARNING
from typing import Any, cast

import numpy as np
import flwr.compat.common.recorddict_compat as compat
from flwr.app import ConfigRecord, Context, Message, RecordDict
from flwr.app.message_type import MessageType
from flwr.common import ndarrays_to_parameters, parameters_to_ndarrays
from flwr.server.compat.legacy_context import LegacyContext
from flwr.server.workflow.constant import MAIN_CONFIGS_RECORD, MAIN_PARAMS_RECORD
from flwr.server.workflow.constant import Key as WorkflowKey
from flwr.serverapp.grid import Grid
from flwr.supercore import log

from . import _backend as hk
from ._protocol import DEFAULT_MAX_WEIGHT, RECORD_KEY_CONFIGS, Key, Stage


class HekitAggregationError(RuntimeError):
    """Key generation or a round could not complete."""


@dataclass
class Session:
    """The server's view of the session: public objects only."""

    params: Any
    key: Any  # collective public key (hekit SessionKey)
    node_to_party: dict[int, int]
    party_to_node: dict[int, int]
    session_seed: bytes
    threshold: int

    @property
    def key_id(self) -> bytes:
        return bytes(self.key.id)


@dataclass
class RoundRecord:
    """What happened in one round (for logs, tests and the example)."""

    round: int
    contributors: list[int] = field(default_factory=list)
    dropped: list[int] = field(default_factory=list)
    committees: list[list[int]] = field(default_factory=list)
    precision: float = float("nan")
    update_bytes: int = 0
    request_bytes: int = 0


class HekitWorkflow:
    """Secure aggregation under a threshold CKKS key (see the module doc).

    Parameters
    ----------
    num_clients : int | None
        ``n``, the number of key holders; ``None`` takes the number of
        clients the strategy samples in the first round. Later rounds may
        sample any subset of these ``n``.
    threshold : int | None
        ``t``: any ``t`` clients decrypt a sum, ``t − 1`` (with the server)
        cannot. ``None`` = a strict majority, ``n // 2 + 1``. Clients refuse
        a threshold below their own minimum (by default a strict majority).
    max_abs : float
        Bound on every entry of a weighted update ``[w, w·θ]``; clients
        refuse larger entries. Sets the CKKS scale (larger bound, coarser
        precision).
    max_weight : float
        A client's weight is ``num_examples / max_weight``.
    min_contributors : int | None
        Clients refuse to decrypt a sum of fewer updates (default 2).
    lambda_ : int
        Statistical security of the smudging noise in decryption shares;
        40 is the minimum clients accept.
    timeout : float | None
        Seconds to wait for replies at each stage (``None``: wait for all —
        the simulation runtime reports failures immediately; set it in
        deployments, where a vanished node sends nothing).
    seed : int | None
        Seed of the committee draw (public; for reproducible runs).
    """

    def __init__(
        self,
        num_clients: int | None = None,
        threshold: int | None = None,
        *,
        max_abs: float = 16.0,
        max_weight: float = DEFAULT_MAX_WEIGHT,
        min_contributors: int | None = None,
        lambda_: int = 40,
        timeout: float | None = None,
        seed: int | None = None,
    ) -> None:
        self.num_clients = num_clients
        self.threshold = threshold
        self.max_abs = float(max_abs)
        self.max_weight = float(max_weight)
        self.min_contributors = min_contributors
        self.lambda_ = int(lambda_)
        self.timeout = timeout
        self.session: Session | None = None
        self.rounds: list[RoundRecord] = []
        self._rng = random.Random(seed)

    # ------------------------------------------------------------- helpers
    def _send(self, grid: Grid, round_: int, contents: dict[int, RecordDict]) -> tuple[dict[int, RecordDict], dict[int, str]]:
        """Sends one message per node; returns (replies, failures) by node."""
        msgs = [
            Message(content=c, dst_node_id=nid, message_type=MessageType.TRAIN, group_id=str(round_))
            for nid, c in contents.items()
        ]
        replies: dict[int, RecordDict] = {}
        failures: dict[int, str] = {nid: "no reply" for nid in contents}
        for reply in grid.send_and_receive(msgs, timeout=self.timeout):
            nid = reply.metadata.src_node_id
            if nid not in contents:
                continue
            if reply.has_error():
                failures[nid] = str(reply.error.reason)
                continue
            replies[nid] = reply.content
            failures.pop(nid, None)
        return replies, failures

    @staticmethod
    def _configs(stage: str, **values: Any) -> RecordDict:
        cfg = ConfigRecord({Key.STAGE: stage, **values})
        return RecordDict({RECORD_KEY_CONFIGS: cfg})

    # ------------------------------------------------------ key generation
    def keygen(self, grid: Grid, round_: int, node_ids: list[int]) -> Session:
        """Collective key generation among ``node_ids`` (all must answer)."""
        nodes = sorted(node_ids)
        n = self.num_clients or len(nodes)
        if len(nodes) != n:
            raise HekitAggregationError(f"key generation needs all {n} clients, {len(nodes)} sampled")
        t = self.threshold or n // 2 + 1
        min_c = self.min_contributors or min(2, n)
        seed = os.urandom(32)  # public: the session's common reference string
        params = hk.make_params(n, t, seed, self.max_abs, min_c, self.lambda_)
        node_to_party = {nid: i + 1 for i, nid in enumerate(nodes)}
        party_to_node = {p: nid for nid, p in node_to_party.items()}
        log(INFO, "[hekit] key generation: %s clients, threshold %s, λ = %s, stated precision of a sum %.1e",
            n, t, self.lambda_, hk.sum_precision(params))

        def need_all(failures: dict[int, str], stage: str) -> None:
            if failures:
                raise HekitAggregationError(
                    f"key generation ({stage}) needs all {n} clients; "
                    + "; ".join(f"party {node_to_party[nid]}: {why}" for nid, why in failures.items())
                )

        # 1. public-key shares and end-to-end keys
        replies, failures = self._send(grid, round_, {
            nid: self._configs(
                Stage.SETUP,
                **{
                    Key.PARTY: node_to_party[nid],
                    Key.CLIENTS: n,
                    Key.THRESHOLD: t,
                    Key.SESSION_SEED: seed,
                    Key.MAX_ABS: self.max_abs,
                    Key.LAMBDA: self.lambda_,
                    Key.MIN_CONTRIBUTORS: min_c,
                    Key.MAX_WEIGHT: self.max_weight,
                },
            )
            for nid in nodes
        })
        need_all(failures, Stage.SETUP)
        pk_shares = [bytes(replies[party_to_node[p]].config_records[RECORD_KEY_CONFIGS][Key.PUBLIC_KEY_SHARE]) for p in range(1, n + 1)]
        e2e_pks = [bytes(replies[party_to_node[p]].config_records[RECORD_KEY_CONFIGS][Key.E2E_PUBLIC_KEY]) for p in range(1, n + 1)]
        key = hk.session_key_from_shares(params, pk_shares)

        # 2. the key directory to everyone; sealed dealings back
        directory = {
            Key.PARTIES: list(range(1, n + 1)),
            Key.PUBLIC_KEY_SHARES: pk_shares,
            Key.E2E_PUBLIC_KEYS: e2e_pks,
        }
        replies, failures = self._send(grid, round_, {nid: self._configs(Stage.SHARE_KEYS, **directory) for nid in nodes})
        need_all(failures, Stage.SHARE_KEYS)
        inbox: dict[int, tuple[list[int], list[bytes]]] = {p: ([], []) for p in range(1, n + 1)}
        coms: list[bytes] = [b""] * n
        for nid, content in replies.items():
            res = content.config_records[RECORD_KEY_CONFIGS]
            src = node_to_party[nid]
            coms[src - 1] = bytes(res.get(Key.DEALING_COMMITMENT, b""))
            if bytes(res[Key.SESSION_KEY_ID]) != bytes(key.id):
                raise HekitAggregationError(f"party {src} computed another collective key")
            for dst, box in zip(cast(list, res[Key.DESTINATIONS]), cast(list, res[Key.SEALED]), strict=True):
                if int(dst) in inbox:
                    inbox[int(dst)][0].append(src)
                    inbox[int(dst)][1].append(bytes(box))

        # 3. relay the sealed dealings (and, in sessions that prove
        # decryption shares, every dealing commitment: the key then covers
        # every member's share commitment)
        extra: dict = {}
        if any(coms):
            key = hk.session_key_from_shares(params, pk_shares, coms)
            extra = {Key.DEALING_COMMITMENTS: coms, Key.PUBLIC_KEY_SHARES: pk_shares}
        replies, failures = self._send(grid, round_, {
            party_to_node[p]: self._configs(Stage.RECEIVE_DEALINGS, **{Key.SOURCES: srcs, Key.SEALED: boxes}, **extra)
            for p, (srcs, boxes) in inbox.items()
        })
        need_all(failures, Stage.RECEIVE_DEALINGS)
        for nid, content in replies.items():
            if bytes(content.config_records[RECORD_KEY_CONFIGS][Key.SESSION_KEY_ID]) != bytes(key.id):
                raise HekitAggregationError(f"party {node_to_party[nid]} holds another collective key")
        log(INFO, "[hekit] collective key %s… ready", bytes(key.id)[:6].hex())
        return Session(params, key, node_to_party, party_to_node, seed, t)

    # --------------------------------------------------------- one round
    def __call__(self, grid: Grid, context: Context) -> None:
        """Runs one fit round (key generation first, in the first round)."""
        if not isinstance(context, LegacyContext):
            raise TypeError(f"Expect a LegacyContext, but get {type(context).__name__}.")
        cfg = context.state.config_records[MAIN_CONFIGS_RECORD]
        round_ = int(cast(int, cfg[WorkflowKey.CURRENT_ROUND]))
        global_params = parameters_to_ndarrays(
            compat.arrayrecord_to_parameters(context.state.array_records[MAIN_PARAMS_RECORD], keep_input=True)
        )
        proxy_fitins = context.strategy.configure_fit(
            round_, ndarrays_to_parameters(global_params), context.client_manager
        )
        if not proxy_fitins:
            log(INFO, "configure_fit: no clients selected, cancel")
            return
        proxies = {proxy.node_id: proxy for proxy, _ in proxy_fitins}
        if self.session is None:
            self.session = self.keygen(grid, round_, list(proxies))
        s = self.session
        unknown = set(proxies) - set(s.node_to_party)
        if unknown:
            log(WARNING, "[hekit] %s sampled clients hold no key share; left out", len(unknown))
        record = RoundRecord(round_)
        self.rounds.append(record)

        # 1. train + encrypt
        length = 1 + sum(int(np.size(a)) for a in global_params)
        contents = {}
        for proxy, fitins in proxy_fitins:
            if proxy.node_id in unknown:
                continue
            content = compat.fitins_to_recorddict(fitins, True)
            content.config_records[RECORD_KEY_CONFIGS] = ConfigRecord({Key.STAGE: Stage.ENCRYPT, "round": round_})
            contents[proxy.node_id] = content
        replies, failures = self._send(grid, round_, contents)
        server = hk.Server(s.key, round_, length)
        results, errors = [], [Exception(f"node {nid}: {why}") for nid, why in failures.items()]
        for nid, content in replies.items():
            party = s.node_to_party[nid]
            try:
                update = bytes(content.config_records[RECORD_KEY_CONFIGS][Key.UPDATE])
                server.add_from(party, update)
                record.update_bytes = len(update)
            except Exception as ex:  # a malformed or misattributed update: a dropout
                log(WARNING, "[hekit] round %s: update of party %s refused: %s", round_, party, ex)
                errors.append(ex)
                continue
            del content.config_records[RECORD_KEY_CONFIGS]
            results.append((proxies[nid], compat.recorddict_to_fitres(content, keep_input=True)))
        record.contributors = sorted(hk.contributors(server))
        record.dropped = sorted(s.node_to_party[nid] for nid in failures)
        log(INFO, "[hekit] round %s: %s encrypted updates summed (parties %s), dropped %s",
            round_, len(record.contributors), record.contributors, record.dropped or "none")

        # 2. a committee of t live contributors decrypts the sum
        try:
            result = self._decrypt(grid, round_, server, record)
        except Exception as ex:
            log(ERROR, "[hekit] round %s: the sum could not be decrypted: %s", round_, ex)
            context.strategy.aggregate_fit(round_, [], errors + [ex])
            return
        total = np.asarray(result.average, dtype=np.float64) * len(result.contributors)
        weight_sum = total[0]
        flat = total[1:] / weight_sum
        record.precision = float(result.precision) * len(result.contributors) / weight_sum
        aggregated, offset = [], 0
        for a in global_params:
            aggregated.append(flat[offset : offset + a.size].reshape(a.shape).astype(a.dtype, copy=False))
            offset += a.size

        # 3. FedAvg through the strategy: every contributor "reports" the
        # aggregate, so the strategy's weighted mean is the aggregate itself
        parameters = ndarrays_to_parameters(aggregated)
        for _, fitres in results:
            fitres.parameters = parameters
        parameters_aggregated, metrics = context.strategy.aggregate_fit(round_, results, errors)
        if parameters_aggregated:
            context.state.array_records[MAIN_PARAMS_RECORD] = compat.parameters_to_arrayrecord(parameters_aggregated, True)
            context.history.add_metrics_distributed_fit(server_round=round_, metrics=metrics)

    def _decrypt(self, grid: Grid, round_: int, server: Any, record: RoundRecord) -> Any:
        s = self.session
        assert s is not None
        t = s.threshold
        candidates = set(record.contributors)
        while True:
            if len(candidates) < t:
                raise HekitAggregationError(
                    f"{len(candidates)} live contributors left, a committee needs {t}"
                )
            committee = sorted(self._rng.sample(sorted(candidates), t))
            record.committees.append(committee)
            request = bytes(server.decryption_request(committee))  # raises after MAX_ATTEMPTS
            record.request_bytes = len(request)
            replies, failures = self._send(grid, round_, {
                s.party_to_node[p]: self._configs(Stage.DECRYPT, **{Key.REQUEST: request}) for p in committee
            })
            shares = []
            for nid, content in replies.items():
                party = s.node_to_party[nid]
                share = bytes(content.config_records[RECORD_KEY_CONFIGS][Key.DECRYPTION_SHARE])
                if hk.decryption_share_sender is not None:
                    try:
                        sender = hk.decryption_share_sender(s.key, request, share)
                    except Exception as ex:
                        failures[nid] = f"share refused: {ex}"
                        continue
                    if sender != party:
                        failures[nid] = f"share names party {sender}"
                        continue
                shares.append(share)
            if not failures:
                return hk.combine(s.key, request, shares)
            gone = sorted(s.node_to_party[nid] for nid in failures)
            log(WARNING, "[hekit] round %s: committee %s: no valid share from %s; new committee",
                round_, committee, gone)
            candidates -= set(gone)
            record.dropped = sorted(set(record.dropped) | set(gone))
