"""Per-client cost accounting: bytes in and out and CPU time per message.

``meter_mod`` (outermost) and ``training_timer_mod`` (innermost) bracket a
client's mod stack. For every message the client handles, one JSON line is
appended to the file named by the environment variable
``HEKIT_FLOWER_METRICS`` (nothing is written when it is unset):

``{"node", "partition", "round", "stage", "bytes_in", "bytes_out", "cpu_s", "train_cpu_s"}``

* ``bytes_in`` / ``bytes_out``: the message content as Flower serializes it
  for transport (``content_bytes``; gRPC framing and the message metadata,
  the same for every run, are not counted).
* ``cpu_s``: CPU time (``time.process_time``, all threads of the process,
  so Rust's rayon threads are included) spent handling the message,
  **excluding** local training (``train_cpu_s``, measured by the innermost
  mod around the ``NumPyClient``).

The simulation runs one ClientApp at a time per process (the example asks
Ray for one actor), so process CPU time is this client's.
"""

from __future__ import annotations

import json
import os
import time

from flwr.app import Context, Message
from flwr.clientapp.typing import ClientAppCallable
from flwr.supercore.inflatable.inflatable_object import get_all_nested_objects

_train_cpu = [0.0]


def content_bytes(msg: Message) -> int:
    """Bytes of a message's content as Flower ships it: the serialized
    (``deflate``) objects the content is made of — records, arrays and
    array chunks — i.e. what the SuperNode pushes to / pulls from the
    SuperLink's object store, without gRPC framing and message metadata.
    0 for an error reply."""
    if not msg.has_content():
        return 0
    objects = get_all_nested_objects(msg.content)
    return sum(len(obj.deflate()) for obj in objects.values())


def _stage(msg: Message) -> str:
    for name, record in msg.content.config_records.items():
        if name.endswith("_configs") or name.startswith("hekit"):
            stage = record.get("stage")
            if isinstance(stage, str):
                return stage
    return msg.metadata.message_type


def training_timer_mod(msg: Message, ctxt: Context, call_next: ClientAppCallable) -> Message:
    """Innermost mod: measures the CPU time of local training/evaluation."""
    t0 = time.process_time()
    try:
        return call_next(msg, ctxt)
    finally:
        _train_cpu[0] += time.process_time() - t0


def meter_mod(msg: Message, ctxt: Context, call_next: ClientAppCallable) -> Message:
    """Outermost mod: logs bytes and CPU time of each message (see module doc)."""
    path = os.environ.get("HEKIT_FLOWER_METRICS")
    stage = _stage(msg) if msg.has_content() else msg.metadata.message_type
    bytes_in = content_bytes(msg)
    _train_cpu[0] = 0.0
    t0 = time.process_time()
    reply = call_next(msg, ctxt)
    cpu = time.process_time() - t0
    if path:
        row = {
            "node": ctxt.node_id,
            "partition": ctxt.node_config.get("partition-id"),
            "round": msg.metadata.group_id,
            "type": msg.metadata.message_type,
            "stage": stage,
            "bytes_in": bytes_in,
            "bytes_out": content_bytes(reply),
            "cpu_s": cpu - _train_cpu[0],
            "train_cpu_s": _train_cpu[0],
        }
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")
    return reply
