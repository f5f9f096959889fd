"""The ClientApp: a numpy client wrapped in the aggregation mods.

One ClientApp serves all three runs. Its mod stack, outermost first:

1. ``meter_mod`` — logs bytes and CPU time per message (``metering``);
2. ``dropout_mod`` — makes chosen clients vanish mid-round (the dropout run);
3. ``aggregation_mod`` — hands a message to ``secaggplus_mod`` when it carries
   SecAgg+ configs, to ``hekit.flower.hekit_mod`` when it carries hekit
   configs, and straight to the client otherwise (plaintext FedAvg);
4. ``training_timer_mod`` — times local training, which the meter subtracts.
"""

from __future__ import annotations

import os

from flwr.app import Context, Message
from flwr.client import NumPyClient
from flwr.client.mod import secaggplus_mod
from flwr.clientapp import ClientApp
from flwr.clientapp.typing import ClientAppCallable
from flwr.common.secure_aggregation.secaggplus_constants import RECORD_KEY_CONFIGS

from hekit_flower_example import task
from hekit_flower_example.metering import meter_mod, training_timer_mod


class DigitsClient(NumPyClient):
    """Trains the softmax regression on its shard of the digits training split."""

    def __init__(self, partition_id: int, num_partitions: int, epochs: int) -> None:
        self.partition_id = partition_id
        self.x, self.y = task.load_partition(partition_id, num_partitions)
        self.epochs = epochs

    def fit(self, parameters, config):
        rnd = int(config.get("server_round", 0))
        params = task.train(
            parameters,
            self.x,
            self.y,
            epochs=self.epochs,
            seed=1000 * rnd + self.partition_id,
        )
        return params, len(self.y), {}

    def evaluate(self, parameters, config):
        loss, acc = task.evaluate(parameters, self.x, self.y)
        return loss, len(self.y), {"accuracy": acc}


def client_fn(context: Context):
    partition_id = int(context.node_config.get("partition-id", 0))
    num_partitions = int(context.node_config.get("num-partitions", 10))
    epochs = int(context.run_config.get("local-epochs", 5))
    return DigitsClient(partition_id, num_partitions, epochs).to_client()


def _dropouts() -> dict[int, tuple[int, str]]:
    """``HEKIT_FLOWER_DROP="3:3:before-upload,7:3:at-decryption"`` →
    {partition: (round, when)}."""
    spec = os.environ.get("HEKIT_FLOWER_DROP", "")
    out = {}
    for item in filter(None, spec.split(",")):
        partition, rnd, when = item.split(":")
        if when not in ("before-upload", "at-decryption"):
            raise ValueError(f"dropout {item!r}: 'before-upload' or 'at-decryption'")
        out[int(partition)] = (int(rnd), when)
    return out


class ClientDropped(RuntimeError):
    """Raised by ``dropout_mod``: the client has gone away."""


def _stage(msg: Message) -> str | None:
    for name, record in msg.content.config_records.items():
        if name in ("hekit_configs", RECORD_KEY_CONFIGS):
            return str(record.get("stage"))
    return None


#: the stage that uploads this round's update / the one that recovers the sum
UPLOAD = {"encrypt", "collect_masked_vectors", None}  # None: plaintext fit
RECOVER = {"decrypt", "unmask"}


def dropout_mod(msg: Message, ctxt: Context, call_next: ClientAppCallable) -> Message:
    """Partition p listed in ``HEKIT_FLOWER_DROP`` as ``p:r:when`` vanishes:

    * ``before-upload`` — in round r it trains, then its connection breaks:
      its update never arrives;
    * ``at-decryption`` — its update of the round arrives, then it vanishes
      the first time (round ≥ r) it is asked to help recover the sum: a
      hekit decryption share (only committee members are asked; the server
      must find another committee) or SecAgg+'s unmask stage (every client
      is asked). Plaintext FedAvg has no such stage.

    From then on every message to it fails (it raises; the runtime reports a
    failed reply to the server). "Gone" is kept in the node's context."""
    from flwr.app import ConfigRecord

    drop = _dropouts().get(int(ctxt.node_config.get("partition-id", -1)))
    if drop is None or not msg.has_content():
        return call_next(msg, ctxt)
    if "dropout" in ctxt.state.config_records:
        raise ClientDropped("this client has dropped out")
    rnd, when = drop
    try:
        group = int(msg.metadata.group_id)
    except ValueError:
        group = 0
    stage = _stage(msg)
    if group >= rnd and when == "before-upload" and stage in UPLOAD:
        ctxt.state.config_records["dropout"] = ConfigRecord({"round": group})
        call_next(msg, ctxt)  # it trained and encrypted, then the connection broke
        raise ClientDropped(f"dropped out in round {group} before uploading")
    if group >= rnd and when == "at-decryption" and stage in RECOVER:
        ctxt.state.config_records["dropout"] = ConfigRecord({"round": group})
        raise ClientDropped(f"dropped out in round {group} at stage {stage}")
    return call_next(msg, ctxt)


def aggregation_mod(msg: Message, ctxt: Context, call_next: ClientAppCallable) -> Message:
    """Dispatches to the secure-aggregation mod the server's message asks for."""
    if msg.has_content():
        records = msg.content.config_records
        if RECORD_KEY_CONFIGS in records:
            return secaggplus_mod(msg, ctxt, call_next)
        if any(name.startswith("hekit") for name in records):
            from hekit.flower import hekit_mod

            return hekit_mod(msg, ctxt, call_next)
    return call_next(msg, ctxt)


app = ClientApp(
    client_fn=client_fn,
    mods=[meter_mod, dropout_mod, aggregation_mod, training_timer_mod],
)
