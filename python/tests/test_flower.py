"""hekit.flower: the client Mod and server Workflow against numpy.

Driven in-process (``hekit.flower.testing.InProcessGrid``: Flower's
``DefaultWorkflow`` + ``FedAvg`` on the server side, a real ``ClientApp`` with
``hekit_mod`` on the client side, no Ray); the full simulation runtime runs
in ``python/examples/flower``. Each client "trains" by returning fixed
random parameters, so the aggregate has an independent reference: numpy's
FedAvg ``Σ n_i θ_i / Σ n_i`` over the clients that contributed.
"""

from __future__ import annotations

import pytest

np = pytest.importorskip("numpy")
flwr = pytest.importorskip("flwr")

from flwr.app import Context  # noqa: E402
from flwr.client import NumPyClient  # noqa: E402
from flwr.clientapp import ClientApp  # noqa: E402
from flwr.common import ndarrays_to_parameters  # noqa: E402
from flwr.server import LegacyContext, ServerConfig  # noqa: E402
from flwr.server.strategy import FedAvg  # noqa: E402
from flwr.server.workflow import DefaultWorkflow  # noqa: E402

from hekit.flower import HekitPolicyError, HekitWorkflow, hekit_mod  # noqa: E402
from hekit.flower import _backend as hk  # noqa: E402
from hekit.flower.testing import InProcessGrid  # noqa: E402

SHAPES = [(8, 5), (5,)]  # 45 parameters
N, T, ROUNDS = 4, 3, 2


def client_params(partition: int, rnd: int) -> list[np.ndarray]:
    rng = np.random.default_rng(100 * rnd + partition)
    return [rng.uniform(-2, 2, size=s) for s in SHAPES]


def num_examples(partition: int) -> int:
    return 50 + 17 * partition


class FixedClient(NumPyClient):
    def __init__(self, partition: int) -> None:
        self.partition = partition

    def fit(self, parameters, config):
        return client_params(self.partition, int(config["server_round"])), num_examples(self.partition), {}


class Drop(RuntimeError):
    pass


def make_client_app(drop: dict[int, tuple[int, str]] | None = None) -> ClientApp:
    """``drop``: partition -> (round, stage) from which it stops answering."""
    drop = drop or {}

    def dropout(msg, ctxt, call_next):
        p = int(ctxt.node_config["partition-id"])
        if p in drop:
            rnd, stage = drop[p]
            cfg = msg.content.config_records.get("hekit_configs")
            if "gone" in ctxt.state.config_records or (
                int(msg.metadata.group_id) >= rnd and cfg is not None and cfg["stage"] == stage
            ):
                from flwr.app import ConfigRecord

                ctxt.state.config_records["gone"] = ConfigRecord({})
                raise Drop(f"partition {p} dropped")
        return call_next(msg, ctxt)

    def client_fn(context: Context):
        return FixedClient(int(context.node_config["partition-id"])).to_client()

    return ClientApp(client_fn=client_fn, mods=[dropout, hekit_mod])


def run(workflow: HekitWorkflow, client_app: ClientApp, rounds: int = ROUNDS, n: int = N):
    grid = InProcessGrid(client_app, n)
    history = []
    strategy = FedAvg(
        fraction_fit=1.0,
        fraction_evaluate=0.0,
        min_fit_clients=n,
        min_available_clients=n,
        accept_failures=True,
        initial_parameters=ndarrays_to_parameters([np.zeros(s) for s in SHAPES]),
        evaluate_fn=lambda rnd, params, cfg: history.append([p.copy() for p in params]) or None,
        on_fit_config_fn=lambda rnd: {"server_round": rnd},
    )
    context = Context(run_id=1, node_id=1, node_config={}, state=flwr.app.RecordDict(), run_config={})
    legacy = LegacyContext(context, config=ServerConfig(num_rounds=rounds), strategy=strategy)
    DefaultWorkflow(fit_workflow=workflow)(grid, legacy)
    return grid, history  # history[0] = initial model, history[r] = after round r


def fedavg(partitions, rnd):
    ws = np.array([num_examples(p) for p in partitions], dtype=float)
    return [
        sum(w * client_params(p, rnd)[k] for w, p in zip(ws, partitions)) / ws.sum()
        for k in range(len(SHAPES))
    ]


def max_err(a, b):
    return max(float(np.max(np.abs(x - y))) for x, y in zip(a, b))


def test_average_matches_numpy_fedavg():
    """Two rounds, all four clients: the aggregate equals numpy's weighted
    average within the stated precision (RoundRecord.precision, the Rust
    bound on the sum's error divided by Σw), which is far below 1e-6."""
    wf = HekitWorkflow(num_clients=N, threshold=T, max_abs=4.0, seed=1)
    grid, history = run(wf, make_client_app())
    assert len(history) == ROUNDS + 1 and len(wf.rounds) == ROUNDS
    for rnd in range(1, ROUNDS + 1):
        rec = wf.rounds[rnd - 1]
        assert rec.contributors == [1, 2, 3, 4] and rec.dropped == []
        assert len(rec.committees) == 1 and len(rec.committees[0]) == T
        assert 0 < rec.precision < 1e-6
        err = max_err(history[rnd], fedavg(range(N), rnd))
        assert err <= rec.precision, (rnd, err, rec.precision)
    # what crossed: one CKKS ciphertext pair per update (45 + 1 values fit
    # one) and its proof of a well-formed, bounded encryption
    from hekit.ml import aggregation

    params = aggregation.AggregationParams(N, T, bytes(32), max_abs=4.0)
    assert wf.rounds[0].update_bytes == pytest.approx(params.update_bytes(46), rel=0.01)
    assert params.update_bytes(46) > 118_817


@pytest.mark.parametrize("seed, retried", [(3, True), (4, False)])
def test_dropouts_mid_round_complete(seed, retried):
    """Five clients, t = 3. Round 2: partition 1 vanishes after training
    (its update never arrives) and partition 3 vanishes the first time it is
    asked for a decryption share (from round 2 on, if a committee asks it).
    Each round completes with the contributors' average, decrypted by a
    committee of live clients; when partition 3 was on the committee, the
    server retried with another one."""
    wf = HekitWorkflow(num_clients=5, threshold=T, max_abs=4.0, seed=seed)
    grid, history = run(wf, make_client_app({1: (2, "encrypt"), 3: (2, "decrypt")}), n=5)
    r1, r2 = wf.rounds
    assert r1.contributors == [1, 2, 3, 4, 5] and r1.dropped == []
    assert r2.contributors == [1, 3, 4, 5]  # parties are partitions + 1
    final = r2.committees[-1]
    assert len(final) == T and 2 not in final and 4 not in final
    assert (4 in r2.committees[0]) == retried  # the committee draw is seeded
    if retried:  # partition 3 = party 4 was asked, vanished: another committee
        assert len(r2.committees) == 2 and r2.dropped == [2, 4]
    else:
        assert len(r2.committees) == 1 and r2.dropped == [2]
    assert max_err(history[1], fedavg(range(5), 1)) <= r1.precision
    assert max_err(history[2], fedavg([0, 2, 3, 4], 2)) <= r2.precision


def test_too_many_dropouts_leave_the_model_unchanged():
    """With two of four clients gone, no committee of three exists: the
    round fails (no decryption), and the global model stays as it was."""
    wf = HekitWorkflow(num_clients=N, threshold=T, max_abs=4.0, seed=5)
    _, history = run(wf, make_client_app({0: (2, "encrypt"), 1: (2, "encrypt")}))
    assert wf.rounds[1].contributors == [3, 4]
    assert max_err(history[2], history[1]) == 0.0
    assert max_err(history[1], fedavg(range(N), 1)) <= wf.rounds[0].precision


def test_server_holds_nothing_it_can_decrypt():
    """Everything the server keeps is public: the collective key, update
    ciphertexts (hekit's wire format), requests and shares; with t − 1
    decryption shares ``combine`` raises, and no client answers a request
    for a committee it is not part of."""
    wf = HekitWorkflow(num_clients=N, threshold=T, max_abs=4.0, seed=7)
    grid, _ = run(wf, make_client_app(), rounds=1)
    s = wf.session
    assert isinstance(s.key, hk.SessionKey)
    assert {type(v) for v in vars(s).values()} <= {hk.AggregationParams, hk.SessionKey, dict, bytes, int}
    # a fresh round: the server sums updates, asks a committee of 3, gets only 2 shares
    server = hk.Server(s.key, 99, 46)
    holders = {}
    from hekit.flower.mod import _HOLDERS

    for (run_id, nid), h in _HOLDERS.items():
        if run_id == 1 and nid in grid.contexts:
            holders[s.node_to_party[nid]] = h
    updates = {p: hk.encrypt_update(holders[p].client, 99, np.full(46, float(p))) for p in (1, 2, 3, 4)}
    for p, u in updates.items():
        assert isinstance(u, bytes) and len(u) > 46 * 8  # ciphertext, not 46 floats
        server.add_from(p, u)
    with pytest.raises(ValueError):
        server.add_from(1, updates[2])  # an update in another client's name
    request = server.decryption_request([1, 2, 3])
    shares = [holders[p].client.decryption_share(request) for p in (1, 2)]
    with pytest.raises(ValueError, match="too few shares"):
        hk.combine(s.key, request, shares)
    with pytest.raises(ValueError):
        holders[4].client.decryption_share(request)  # not in the committee
    shares.append(holders[3].client.decryption_share(request))
    res = hk.combine(s.key, request, shares)
    assert abs(np.mean(res.average) - 2.5) < 1e-6


def test_client_policy_refuses_weak_sessions():
    """A client refuses λ < 40, a threshold below a strict majority, and a
    second key generation in the same session."""
    from flwr.app import ConfigRecord, Message, RecordDict

    from hekit.flower import Key, Stage

    grid = InProcessGrid(make_client_app(), 1)
    ctxt = grid.contexts[1000]

    def setup(**over):
        cfg = {Key.STAGE: Stage.SETUP, Key.PARTY: 1, Key.CLIENTS: 4, Key.THRESHOLD: 3,
               Key.SESSION_SEED: bytes(32), Key.MAX_ABS: 4.0, Key.LAMBDA: 40,
               Key.MIN_CONTRIBUTORS: 2, Key.MAX_WEIGHT: 1000.0}
        cfg.update(over)
        msg = Message(RecordDict({"hekit_configs": ConfigRecord(cfg)}), dst_node_id=1000, message_type="train", group_id="1")
        return hekit_mod(msg, ctxt, lambda m, c: None)

    with pytest.raises(HekitPolicyError, match="λ"):
        setup(**{Key.LAMBDA: 30})
    with pytest.raises(HekitPolicyError, match="threshold 2 of 4"):
        setup(**{Key.THRESHOLD: 2})
    setup()
    with pytest.raises(HekitPolicyError, match="once per session"):
        setup()


@pytest.mark.skipif(
    hk.inspect_request is None or hk.update_digest is None,
    reason="hekit.ml.aggregation does not bind inspect_request / update_digest yet",
)
def test_committee_member_refuses_a_sum_without_its_own_update():
    """A client that uploaded an update in round 2 refuses to decrypt a
    round-2 sum that leaves it out (the server dropped it)."""
    from flwr.app import ConfigRecord, Message, RecordDict

    from hekit.flower import Key, Stage

    wf = HekitWorkflow(num_clients=N, threshold=T, max_abs=4.0, seed=9)
    grid, _ = run(wf, make_client_app(), rounds=1)
    s = wf.session
    nodes = sorted(s.node_to_party, key=s.node_to_party.get)
    init = flwr.common.ndarrays_to_parameters([np.zeros(sh) for sh in SHAPES])
    fitins = flwr.common.FitIns(init, {"server_round": 2})

    def message(nid, content):
        return Message(content, dst_node_id=nid, message_type="train", group_id="2")

    uploads = {}
    for nid in nodes:
        content = flwr.compat.common.recorddict_compat.fitins_to_recorddict(fitins, True)
        content.config_records["hekit_configs"] = ConfigRecord({Key.STAGE: Stage.ENCRYPT, "round": 2})
        (reply,) = grid.send_and_receive([message(nid, content)])
        uploads[s.node_to_party[nid]] = bytes(reply.content.config_records["hekit_configs"][Key.UPDATE])
    server = hk.Server(s.key, 2, 46)
    for p in (2, 3, 4):  # party 1's update is left out
        server.add_from(p, uploads[p])
    request = bytes(server.decryption_request([1, 2, 3]))
    cfg = RecordDict({"hekit_configs": ConfigRecord({Key.STAGE: Stage.DECRYPT, Key.REQUEST: request})})
    (refused,) = grid.send_and_receive([message(nodes[0], cfg)])
    assert refused.has_error() and "leaves out or replaces" in refused.error.reason
    (answered,) = grid.send_and_receive([message(nodes[1], cfg)])
    assert answered.has_content()


def test_key_holder_survives_a_new_process_per_message():
    """The deployment runtime runs every message in a fresh ClientApp
    process: here the in-memory cache of key holders is emptied before every
    message, so each stage must rebuild its client from ``context.state``
    (``Client.from_bytes`` and the end-to-end key). The aggregate still
    equals numpy's FedAvg within the stated precision."""
    import hekit.flower.mod as hekit_mod_module

    def fresh_process(msg, ctxt, call_next):
        with hekit_mod_module._LOCK:
            hekit_mod_module._HOLDERS.clear()
        return call_next(msg, ctxt)

    def client_fn(context: Context):
        return FixedClient(int(context.node_config["partition-id"])).to_client()

    app = ClientApp(client_fn=client_fn, mods=[fresh_process, hekit_mod])
    wf = HekitWorkflow(num_clients=N, threshold=T, max_abs=4.0, seed=5)
    grid, history = run(wf, app)
    for rnd in range(1, ROUNDS + 1):
        rec = wf.rounds[rnd - 1]
        assert rec.contributors == [1, 2, 3, 4]
        assert max_err(history[rnd], fedavg(range(N), rnd)) <= rec.precision
    # what crossed the "process boundary": the Rust client state in the
    # node's context
    for ctxt in grid.contexts.values():
        assert "hekit_key_holder" in ctxt.state.config_records
