"""A Flower app as a task program: FLchain plays the part of Flower's SuperNode.

For every call it builds a Flower ``Message`` with explicit ``Metadata`` (the
FLchain round as Flower's 1-based ``server-round`` and group id, the
partition's node as destination), hands it with the partition's ``Context``
(``node_config``: ``partition-id``, ``num-partitions``; ``run_config``: the
app's ``[tool.flwr.app.config]``) to the app's ``ClientApp``, and reads the
reply with :mod:`flchain.app.records`. Because it goes through ``ClientApp``,
both of Flower's styles run unchanged.

Before each call the global RNGs (``random``, NumPy, torch) are seeded from
the call's seed and restored afterwards, so an app that does not seed itself
is still reproducible. Anything the app raises becomes an :class:`AppError`.
"""

from __future__ import annotations

import importlib
import sys
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from flwr.app import ArrayRecord, Context, Message, Metadata, RecordDict
from flwr.clientapp import ClientApp
from flwr.common import DEFAULT_TTL, MessageType, MessageTypeLegacy
from flwr.common.constant import SUPERLINK_NODE_ID

from flchain.app import records
from flchain.app.calls import describe, seeded
from flchain.app.config import AppConfig
from flchain.app.program import Partitions, TrainResult, head_of
from flchain.exceptions import AppError
from flchain.task.quality import Evaluation
from flchain.types import ArrayPair, Weights

RUN_ID = 1
"""The Flower run id of every FLchain task (one run per process)."""


class FlowerProgram:
    """A Flower ``ClientApp`` behind the task program protocol."""

    def __init__(self, config: AppConfig, partitions: Partitions, seed: int) -> None:
        self.config = config
        self.partitions = partitions
        self.seed = seed
        app = resolve(config, config.clientapp, "clientapp")
        if not isinstance(app, ClientApp):
            raise AppError(
                f"clientapp {config.clientapp!r} is a {type(app).__name__}, not a flwr ClientApp"
            )
        self.app = app
        # A ClientApp built from client_fn handles Flower's legacy messages (fitins.*);
        # one built with decorators handles the message API. Flower keeps this private.
        self.legacy = getattr(app, "_call", None) is not None
        self._contexts: dict[int, Context] = {}
        self._initial = self._initial_model()
        self.names = list(self._initial)
        self.head = head_of(self._initial)

    local_data: tuple[ArrayPair, ...] | None = None
    """A Flower app keeps its data to itself."""
    num_classes = 0

    # --- the program -------------------------------------------------------------------

    def initial_weights(self) -> Weights:
        return {n: a.copy() for n, a in self._initial.items()}

    def train(
        self, partition_id: int, weights: Weights, server_round: int, seed: int
    ) -> TrainResult:
        config = {**self.config.train_config, "server-round": server_round + 1}
        content = records.train_content(weights, self.names, config, self.legacy)
        reply = self._call(MessageType.TRAIN, partition_id, content, server_round, seed)
        weights_out = records.check_weights(reply.arrays, self._initial, "train")
        examples = records.count(reply.num_examples, "train")
        loss = next(
            (reply.metrics[k] for k in records.TRAIN_LOSS_METRICS if k in reply.metrics), None
        )
        return TrainResult(weights_out, examples, float(loss) if loss is not None else float("nan"))

    def train_on(self, data: ArrayPair, weights: Weights, seed: int) -> TrainResult:
        raise AppError("a Flower app keeps its data to itself: no training on given arrays")

    def evaluate(self, partition_id: int, weights: Weights) -> Evaluation:
        content = records.evaluate_content(weights, self.names, {"server-round": 0}, self.legacy)
        reply = self._call(MessageType.EVALUATE, partition_id, content, -1, self.seed)
        records.count(reply.num_examples, "evaluate")
        loss_name = self.config.loss_metric
        if self.legacy and loss_name is None:
            assert reply.loss is not None
            loss = records.metric({"loss": reply.loss}, "loss", "evaluate")
        else:
            loss = records.metric(
                reply.metrics, loss_name or records.DEFAULT_LOSS_METRIC, "evaluate"
            )
        acc_name = self.config.accuracy_metric or (
            records.LEGACY_ACCURACY_METRIC if self.legacy else records.DEFAULT_ACCURACY_METRIC
        )
        if acc_name not in reply.metrics and self.config.accuracy_metric is None:
            return Evaluation(0.0, loss)  # no accuracy: the rules see loss only
        return Evaluation(records.metric(reply.metrics, acc_name, "evaluate"), loss)

    def warm_up(self, partition_id: int) -> None:
        """One evaluation of the initial model on the party's partition: the app's imports
        and data loading land in start-up, not in round 0."""
        self.evaluate(partition_id, self.initial_weights())

    # --- calling the app ---------------------------------------------------------------

    def context(self, partition_id: int) -> Context:
        """The partition's node context, kept across rounds (as a SuperNode keeps it)."""
        if not 0 <= partition_id < self.partitions.count:
            raise AppError(f"partition {partition_id} is not in 0..{self.partitions.count - 1}")
        if partition_id not in self._contexts:
            self._contexts[partition_id] = Context(
                run_id=RUN_ID,
                node_id=node_id(partition_id),
                node_config={"partition-id": partition_id, "num-partitions": self.partitions.count},
                state=RecordDict(),
                run_config=dict(self.config.run_config),
            )
        return self._contexts[partition_id]

    def _call(
        self, kind: str, partition_id: int, content: RecordDict, server_round: int, seed: int
    ) -> records.Reply:
        message = instruction(kind, partition_id, content, server_round)
        context = self.context(partition_id)
        with seeded(seed):
            try:
                reply = self.app(message, context)
            except Exception as exc:
                raise AppError(f"the app's {kind} raised {describe(exc)}") from exc
        return records.read_reply(reply, kind, self.legacy)

    def _initial_model(self) -> Weights:
        if self.config.initial_model is not None:
            factory = resolve(self.config, self.config.initial_model, "initial-model")
            if not callable(factory):
                raise AppError(f"initial-model {self.config.initial_model!r} is not callable")
            with seeded(self.seed):
                try:
                    made = factory()
                except Exception as exc:
                    raise AppError(f"initial-model raised {describe(exc)}") from exc
            return initial_from(made, self.config.initial_model)
        if not self.legacy:
            raise AppError(
                f"the app in {self.config.root} gives no initial model: set [tool.flchain] "
                'initial-model = "pkg.module:factory" (a function returning the torch model)'
            )
        content = records.get_parameters_content()
        reply = self._call(MessageTypeLegacy.GET_PARAMETERS, 0, content, -1, self.seed)
        if not reply.arrays:
            raise AppError("the app's get_parameters returned no arrays")
        return {f"param.{i:04d}": np.array(a, copy=True) for i, (_, a) in enumerate(reply.arrays)}


def initial_from(made: Any, where: str) -> Weights:
    """An initial model as named arrays, in the model's order."""
    if isinstance(made, torch.nn.Module):
        out: Weights = OrderedDict()
        for name, tensor in made.state_dict().items():  # floats as float32, integer buffers kept
            array = tensor.detach().cpu().numpy()
            out[name] = array.astype(np.float32) if tensor.is_floating_point() else array.copy()
        return out
    if isinstance(made, ArrayRecord):
        return OrderedDict((k, np.array(a.numpy(), copy=True)) for k, a in made.items())
    raise AppError(f"initial-model {where!r} returned {type(made).__name__}, not a torch module")


def instruction(kind: str, partition_id: int, content: RecordDict, server_round: int) -> Message:
    """A message as the SuperLink delivers it: explicit metadata, its id its content's."""
    created = time.time()

    def metadata(message_id: str) -> Metadata:
        return Metadata(
            run_id=RUN_ID,
            message_id=message_id,
            src_node_id=SUPERLINK_NODE_ID,
            dst_node_id=node_id(partition_id),
            reply_to_message_id="",
            group_id=str(server_round + 1),
            created_at=created,
            ttl=DEFAULT_TTL,
            message_type=kind,
        )

    # Flower's typed overloads leave out `metadata`, which its runtime uses for delivery
    draft: Message = Message(content=content, metadata=metadata(""))  # type: ignore[call-overload]
    message: Message = Message(content=content, metadata=metadata(draft.object_id))  # type: ignore[call-overload]
    return message


def node_id(partition_id: int) -> int:
    """The Flower node id of a partition (the SuperLink is node 1)."""
    return SUPERLINK_NODE_ID + 1 + partition_id


def resolve(config: AppConfig, reference: str, what: str) -> Any:
    """Import ``pkg.module:attr`` from the app directory; an AppError naming what failed."""
    module_name, _, attr = reference.partition(":")
    root = str(config.root)
    if root not in sys.path:
        sys.path.insert(0, root)
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise AppError(
            f"cannot import {what} module {module_name!r} of the app in {root}: {describe(exc)}"
        ) from exc
    target: Any = module
    for part in attr.split("."):
        if not hasattr(target, part):
            raise AppError(f"{what}: module {module_name!r} has no attribute {attr!r}")
        target = getattr(target, part)
    return target


__all__ = ["Callable", "FlowerProgram", "describe", "instruction", "resolve", "seeded"]
