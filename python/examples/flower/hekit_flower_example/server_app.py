"""The ServerApp: FedAvg over the digits clients, with one of three
aggregation workflows.

* ``plaintext`` — Flower's ``DefaultWorkflow``: the server receives every
  client's model in the clear and averages them.
* ``secagg`` — ``DefaultWorkflow(fit_workflow=SecAggPlusWorkflow(...))``:
  Flower's SecAgg+ (masked, quantized integer vectors; the server unmasks
  only the sum).
* ``hekit`` — ``DefaultWorkflow(fit_workflow=hekit.flower.HekitWorkflow(...))``:
  clients encrypt their weighted models under a threshold CKKS key made by
  the clients themselves; the server sums ciphertexts; a committee of ``t``
  clients decrypts only the sum.

The global model is evaluated centrally on the held-out test split after
every round. Settings come from the run config (``pyproject.toml``,
``flwr run --run-config``) or, in the simulation, from ``make_server_app``.
"""

from __future__ import annotations

import json
import os

import numpy as np
from flwr.app import Context
import flwr.compat.common.recorddict_compat as compat
from flwr.common import ndarrays_to_parameters, parameters_to_ndarrays
from flwr.server import LegacyContext, ServerConfig
from flwr.server.strategy import FedAvg
from flwr.server.workflow import DefaultWorkflow, SecAggPlusWorkflow
from flwr.server.workflow.constant import MAIN_PARAMS_RECORD
from flwr.serverapp import Grid, ServerApp

from hekit_flower_example import task

DEFAULTS = {
    "aggregation": "plaintext",  # plaintext | secagg | hekit
    "num-rounds": 5,
    "num-clients": 10,
    "threshold": 6,  # t of n: hekit's committee size, SecAgg+'s reconstruction threshold
    "max-abs": 16.0,  # hekit: bound on every entry of a weighted update
    "timeout": 0.0,  # seconds to wait for replies (0 = wait for all, simulation)
}


def _evaluate_fn(history: list[dict]):
    _, _, x_test, y_test = task.load_split()

    def evaluate(server_round, parameters, config):
        loss, acc = task.evaluate(parameters, x_test, y_test)
        history.append({"round": server_round, "loss": loss, "accuracy": acc})
        return loss, {"accuracy": acc}

    return evaluate


def make_workflow(cfg: dict):
    """The fit workflow for ``cfg['aggregation']`` (``None`` = Flower's default)."""
    timeout = float(cfg["timeout"]) or None
    kind = cfg["aggregation"]
    if kind == "plaintext":
        return None
    if kind == "secagg":
        # all n clients share keys with each other (SecAgg with the SecAgg+
        # code path), any t of them recover a dropped client's masks
        return SecAggPlusWorkflow(
            num_shares=1.0,
            reconstruction_threshold=int(cfg["threshold"]),
            timeout=timeout,
        )
    if kind == "hekit":
        from hekit.flower import HekitWorkflow

        return HekitWorkflow(
            num_clients=int(cfg["num-clients"]),
            threshold=int(cfg["threshold"]),
            max_abs=float(cfg["max-abs"]),
            timeout=timeout,
        )
    raise ValueError(f"unknown aggregation {kind!r}")


def run(grid: Grid, context: Context, cfg: dict) -> list[dict]:
    """Runs FedAvg for ``cfg['num-rounds']`` rounds; returns the test history."""
    history: list[dict] = []
    n = int(cfg["num-clients"])
    strategy = FedAvg(
        fraction_fit=1.0,
        fraction_evaluate=0.0,  # the global model is evaluated centrally
        min_fit_clients=n,
        min_available_clients=n,
        initial_parameters=ndarrays_to_parameters(task.initial_parameters()),
        evaluate_fn=_evaluate_fn(history),
        on_fit_config_fn=lambda rnd: {"server_round": rnd},
    )
    legacy = LegacyContext(
        context=context,
        config=ServerConfig(num_rounds=int(cfg["num-rounds"])),
        strategy=strategy,
    )
    fit = make_workflow(cfg)
    workflow = DefaultWorkflow(fit_workflow=fit) if fit else DefaultWorkflow()
    workflow(grid, legacy)
    out = os.environ.get("HEKIT_FLOWER_RESULTS")
    if out:
        with open(out, "w", encoding="utf-8") as f:
            rounds = [vars(r) for r in getattr(fit, "rounds", [])]  # hekit's per-round record
            final = compat.arrayrecord_to_parameters(legacy.state.array_records[MAIN_PARAMS_RECORD], keep_input=True)
            flat = np.concatenate([a.ravel() for a in parameters_to_ndarrays(final)]).tolist()
            json.dump({"config": cfg, "history": history, "rounds": rounds, "final": flat}, f)
    return history


def make_server_app(**overrides) -> ServerApp:
    """A ServerApp whose settings are ``DEFAULTS`` updated by the run config,
    then by ``overrides`` (the simulation passes its settings here)."""
    app = ServerApp()

    @app.main()
    def main(grid: Grid, context: Context) -> None:
        cfg = dict(DEFAULTS)
        cfg.update({k: v for k, v in context.run_config.items() if k in DEFAULTS})
        cfg.update(overrides)
        run(grid, context, cfg)

    return app


app = make_server_app()
