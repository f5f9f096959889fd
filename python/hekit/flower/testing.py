"""An in-process stand-in for Flower's Grid, for fast tests of a ServerApp
workflow against a ClientApp without Ray, SuperLink or SuperNodes.

``InProcessGrid(client_app, num_nodes)`` keeps one ``Context`` per virtual
node (with ``partition-id`` / ``num-partitions`` in its node config, as the
simulation runtime sets them) and answers ``send_and_receive`` by running
the ClientApp on each message in turn, in this process. A ClientApp that
raises produces an error reply, as in Flower's runtimes. It also records
the content size of every message each way (``traffic``).

It implements what ``DefaultWorkflow`` and the secure-aggregation
workflows call (``get_node_ids``, ``send_and_receive``, ``run``); it is not
a full ``flwr.serverapp.Grid``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from types import SimpleNamespace

from flwr.app import Context, Message, RecordDict
from flwr.app.error import Error
from flwr.clientapp import ClientApp
from flwr.common.constant import ErrorCode
from flwr.supercore.inflatable.inflatable_object import get_all_nested_objects
from flwr.supercore.task_identity import TaskIdentity

SERVER_NODE_ID = 1


def content_size(content: RecordDict | None) -> int:
    """Bytes of a message content as Flower serializes it (its objects)."""
    if content is None:
        return 0
    return sum(len(o.deflate()) for o in get_all_nested_objects(content).values())


class InProcessGrid:
    """Runs ``client_app`` for ``num_nodes`` virtual nodes in this process."""

    def __init__(self, client_app: ClientApp, num_nodes: int, run_id: int = 1) -> None:
        self.client_app = client_app
        self.run = SimpleNamespace(run_id=run_id)
        self.contexts = {
            1000 + i: Context(
                run_id=run_id,
                node_id=1000 + i,
                node_config={"partition-id": i, "num-partitions": num_nodes},
                state=RecordDict(),
                run_config={},
            )
            for i in range(num_nodes)
        }
        #: node id -> list of (group id, bytes to the node, bytes from the node)
        self.traffic: dict[int, list[tuple[str, int, int]]] = defaultdict(list)
        TaskIdentity.run_id = run_id
        TaskIdentity.node_id = SERVER_NODE_ID
        TaskIdentity.task_id = 1

    def set_run(self, run_id: int) -> None:  # pragma: no cover - Grid API
        self.run = SimpleNamespace(run_id=run_id)

    def get_node_ids(self) -> Iterable[int]:
        return list(self.contexts)

    def send_and_receive(self, messages: Iterable[Message], *, timeout: float | None = None) -> Iterable[Message]:
        replies = []
        for msg in messages:
            nid = msg.metadata.dst_node_id
            ctxt = self.contexts[nid]
            sent = content_size(msg.content) if msg.has_content() else 0
            try:
                reply = self.client_app(msg, ctxt)
            except Exception as ex:  # noqa: BLE001 - any failure is a failed reply
                reply = Message(Error(ErrorCode.CLIENT_APP_RAISED_EXCEPTION, f"{type(ex).__name__}: {ex}"), reply_to=msg)
            got = content_size(reply.content) if reply.has_content() else 0
            self.traffic[nid].append((msg.metadata.group_id, sent, got))
            replies.append(reply)
        return replies
