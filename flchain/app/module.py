"""A task module as a task program: plain PyTorch, without Flower.

A task module is any Python module (or object) that gives:

* ``model()``: a zero-argument callable returning a fresh ``torch.nn.Module``. It
  is called once per process with the global RNGs seeded from the task seed, so
  every party builds bit-identical initial weights.
* ``load_partition(partition_id, num_partitions)``: the partition's data as
  ``(train, validation)``, each an ``(x, y)`` pair of NumPy arrays with one row per
  example (``x`` of shape ``(n, ...)``, ``y`` of shape ``(n,)``; integer class labels
  for the built-in loop). Partition ids follow
  :class:`~flchain.app.program.Partitions`: clients ``0..C-1`` train on their
  ``train``; miners ``C..C+M-1`` train their reference update on their ``train``
  and score updates on their ``validation``; the orchestrator and the auditor use
  the held-out partition ``C+M`` the same way. ``num_partitions`` is ``C+M+1``. It
  must give the same arrays on every machine (it runs with the RNGs seeded from
  the task seed). A client's ``validation`` may be empty; every other must not.

Optionally:

* ``train(model, data, config, seed)``: train ``model`` (already holding the global
  weights) in place on ``data = (x, y)``; ``config`` is the task's
  :class:`~flchain.learning.training.TrainConfig` (``epochs``, ``batch_size``, ``lr``,
  ``optimizer``, ...). It may return nothing, the mean training loss, or a mapping
  with ``"loss"``. Default: the learning core's ``train_local`` (cross-entropy).
* ``evaluate(model, data)``: a mapping with ``"loss"`` and ``"accuracy"`` of
  ``model`` on ``data``. Default: the learning core's ``evaluate``.
* training settings, as module constants ``EPOCHS``, ``BATCH_SIZE``, ``LR``,
  ``OPTIMIZER`` or a dict ``CONFIG`` with the keys ``epochs``, ``batch_size``, ``lr``,
  ``optimizer`` (:data:`CONFIG_KEYS`): they go into the task spec's training
  settings, and ``flchain run``'s options override them.

Custom ``train``/``evaluate`` run with the global RNGs seeded from the call's seed
(restored afterwards); anything the module raises becomes an :class:`AppError`,
which costs a client that round (``train_failed``), as for a Flower app.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, overload

import numpy as np
import torch

from flchain.app.calls import describe, seeded
from flchain.app.program import Partitions, TrainResult, head_of
from flchain.exceptions import AppError
from flchain.learning.training import TrainConfig, evaluate, train_local
from flchain.learning.weights import get_weights, set_weights
from flchain.task.quality import Evaluation
from flchain.types import ArrayPair, Weights

CONFIG_KEYS: dict[str, type] = {"epochs": int, "batch_size": int, "lr": float, "optimizer": str}
"""Training settings a task module may give, and their types."""
_CONSTANTS = {key.upper(): key for key in CONFIG_KEYS}


@dataclass(frozen=True)
class TaskModule:
    """A task module's functions and settings, checked."""

    name: str
    model: Callable[[], torch.nn.Module]
    load_partition: Callable[[int, int], Any]
    train: Callable[..., Any] | None = None
    evaluate: Callable[..., Any] | None = None
    config: Mapping[str, Any] = field(default_factory=dict)
    """Training settings the module gives (keys of :data:`CONFIG_KEYS`)."""

    @classmethod
    def of(cls, module: object, name: str) -> TaskModule:
        """Read a module's (or object's) task functions; an AppError naming what is wrong."""
        found: dict[str, Callable[..., Any] | None] = {}
        for attr in ("model", "load_partition", "train", "evaluate"):
            value = getattr(module, attr, None)
            if value is None and attr in ("model", "load_partition"):
                raise AppError(
                    f"task module {name} has no {attr}(): it needs model() -> torch.nn.Module "
                    "and load_partition(partition_id, num_partitions) -> (train, validation)"
                )
            if value is not None and not callable(value):
                raise AppError(
                    f"task module {name}: {attr} is a {type(value).__name__}, not a function"
                )
            found[attr] = value
        return cls(
            name,
            found["model"],  # type: ignore[arg-type]
            found["load_partition"],  # type: ignore[arg-type]
            found["train"],
            found["evaluate"],
            module_config(module, name),
        )


def module_config(module: object, name: str) -> dict[str, Any]:
    """The training settings a module gives: its ``CONFIG`` dict, then its constants."""
    raw = getattr(module, "CONFIG", None)
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise AppError(f"task module {name}: CONFIG must be a dict, got {type(raw).__name__}")
    unknown = sorted(set(raw) - set(CONFIG_KEYS))
    if unknown:
        raise AppError(
            f"task module {name}: unknown CONFIG key(s) {unknown}; known: {', '.join(CONFIG_KEYS)}"
        )
    config = dict(raw)
    for constant, key in _CONSTANTS.items():
        if hasattr(module, constant):
            config[key] = getattr(module, constant)
    for key, value in config.items():
        kind = CONFIG_KEYS[key]
        fits = isinstance(value, kind) or (kind is float and isinstance(value, int))
        if not fits or isinstance(value, bool):
            raise AppError(f"task module {name}: {key} must be a {kind.__name__}, got {value!r}")
    return config


class ClientPartitions(Sequence[ArrayPair]):
    """The clients' training arrays, each loaded when first asked for."""

    def __init__(self, program: ModuleProgram) -> None:
        self.program = program

    def __len__(self) -> int:
        return self.program.partitions.clients

    @overload
    def __getitem__(self, index: int) -> ArrayPair: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[ArrayPair]: ...

    def __getitem__(self, index: int | slice) -> ArrayPair | Sequence[ArrayPair]:
        if isinstance(index, slice):
            return [self[i] for i in range(len(self))[index]]
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self.program.split(index)[0]


class ModuleProgram:
    """A task module behind the task program protocol."""

    def __init__(
        self, task: TaskModule, partitions: Partitions, seed: int, config: TrainConfig
    ) -> None:
        self.task, self.partitions, self.seed, self.config = task, partitions, seed, config
        self._splits: dict[int, tuple[ArrayPair, ArrayPair]] = {}
        with seeded(seed):
            try:
                model = task.model()
            except Exception as exc:
                raise AppError(f"task module {task.name}: model() raised {describe(exc)}") from exc
        if not isinstance(model, torch.nn.Module):
            raise AppError(
                f"task module {task.name}: model() returned {type(model).__name__}, "
                "not a torch.nn.Module"
            )
        self.model = model
        self._initial = get_weights(model)
        self.head = head_of(self._initial)

    @property
    def local_data(self) -> Sequence[ArrayPair]:
        return ClientPartitions(self)

    @property
    def num_classes(self) -> int:
        """Classes the model tells apart: the width of its output layer."""
        return int(self._initial[self.head[-1]].shape[0]) if self.head else 0

    @property
    def parallel(self) -> bool:
        """Whether copies of this program may train at once on threads: only the built-in
        loop's (the module's own functions are called with the global RNGs seeded)."""
        return self.task.train is None and self.task.evaluate is None

    # --- data -----------------------------------------------------------------------------

    def split(self, partition_id: int) -> tuple[ArrayPair, ArrayPair]:
        """A partition's (train, validation) arrays, loaded once and checked."""
        if partition_id not in self._splits:
            p = self.partitions
            if not 0 <= partition_id < p.count:
                raise AppError(f"partition {partition_id} is not in 0..{p.count - 1}")
            with seeded(self.seed):
                try:
                    raw = self.task.load_partition(partition_id, p.count)
                except Exception as exc:
                    raise AppError(
                        f"task module {self.task.name}: load_partition({partition_id}, "
                        f"{p.count}) raised {describe(exc)}"
                    ) from exc
            self._splits[partition_id] = self._checked(raw, partition_id)
        return self._splits[partition_id]

    def _checked(self, raw: Any, partition_id: int) -> tuple[ArrayPair, ArrayPair]:
        call = (
            f"task module {self.task.name}: load_partition({partition_id}, {self.partitions.count})"
        )
        if not isinstance(raw, tuple | list) or len(raw) != 2 or _arrays(raw):
            raise AppError(
                f"{call} must return (train, validation), each an (x, y) pair of NumPy "
                f"arrays; got {_kind(raw)}"
            )
        labelled = self.task.train is None or self.task.evaluate is None
        client = partition_id < self.partitions.clients
        pairs = []
        for part, pair in zip(("train", "validation"), raw, strict=True):
            checked = _pair(pair, f"{call}'s {part}", labelled)
            if len(checked[1]) == 0 and (part == "train" or not client):
                role = "a client" if client else "a miner or the held-out evaluation"
                raise AppError(f"{call}'s {part} is empty; {role} needs its {part} data")
            pairs.append(checked)
        return pairs[0], pairs[1]

    # --- the program ----------------------------------------------------------------------

    def initial_weights(self) -> Weights:
        return {name: array.copy() for name, array in self._initial.items()}

    def train(
        self, partition_id: int, weights: Weights, server_round: int, seed: int
    ) -> TrainResult:
        return self.train_on(self.split(partition_id)[0], weights, seed)

    def train_on(self, data: ArrayPair, weights: Weights, seed: int) -> TrainResult:
        if self.task.train is None:
            return train_local(self.model, data, self.config, dict(weights), seed)
        set_weights(self.model, weights)
        with seeded(seed):
            try:
                out = self.task.train(self.model, data, self.config, seed)
            except Exception as exc:
                raise AppError(
                    f"task module {self.task.name}: train raised {describe(exc)}"
                ) from exc
        trained = self._weights_of_model("train")
        return TrainResult(trained, len(data[1]), _train_loss(out, self.task.name))

    def evaluate(self, partition_id: int, weights: Weights) -> Evaluation:
        return self.evaluate_on(self.split(partition_id)[1], weights)

    def evaluate_on(self, data: ArrayPair, weights: Weights) -> Evaluation:
        if self.task.evaluate is None:
            accuracy, loss = evaluate(self.model, data, dict(weights))
            return Evaluation(accuracy, loss)
        set_weights(self.model, weights)
        with seeded(self.seed):
            try:
                out = self.task.evaluate(self.model, data)
            except Exception as exc:
                raise AppError(
                    f"task module {self.task.name}: evaluate raised {describe(exc)}"
                ) from exc
        return _evaluation(out, self.task.name)

    def with_own_model(self) -> ModuleProgram:
        """This program with a model of its own (data and config shared): for a client
        that trains on another thread than its neighbours (a pool's)."""
        twin = copy.copy(self)
        twin.model = copy.deepcopy(self.model)
        return twin

    def warm_up(self, partition_id: int) -> None:
        """Load the party's partition, and run one tiny step of the built-in loop on it
        (training and evaluation, where the module does not give its own), so first-call
        costs land in start-up, not round 0. Every later call sets the weights anew."""
        x, y = self.split(partition_id)[0]
        n = min(len(y), self.config.batch_size)
        batch = (x[:n], y[:n])
        weights = get_weights(self.model)
        if self.task.train is None:
            train_local(self.model, batch, replace(self.config, epochs=1), weights, seed=0)
        if self.task.evaluate is None:
            evaluate(self.model, batch, weights)

    def _weights_of_model(self, call: str) -> Weights:
        out = get_weights(self.model)
        if out.keys() != self._initial.keys() or any(
            out[k].shape != self._initial[k].shape for k in out
        ):
            raise AppError(
                f"task module {self.task.name}: after {call} the model's tensors are not "
                "those of model(): train the model in place, do not replace its layers"
            )
        return out


def _arrays(value: tuple[Any, ...] | list[Any]) -> bool:
    """Whether ``value`` is a bare (x, y) pair (arrays, not pairs of them)."""
    return any(isinstance(v, np.ndarray) for v in value)


def _kind(value: Any) -> str:
    if isinstance(value, tuple | list) and _arrays(value):
        return "one (x, y) pair of arrays"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, tuple | list):
        return f"a {type(value).__name__} of {len(value)}"
    return type(value).__name__


def _pair(pair: Any, what: str, labelled: bool) -> ArrayPair:
    if not isinstance(pair, tuple | list) or len(pair) != 2:
        raise AppError(f"{what} must be an (x, y) pair of NumPy arrays; got {_kind(pair)}")
    x, y = pair
    if not isinstance(x, np.ndarray) or not isinstance(y, np.ndarray):
        raise AppError(
            f"{what} must be NumPy arrays (x, y); got ({type(x).__name__}, {type(y).__name__})"
        )
    if x.ndim < 1 or y.ndim != 1 or x.shape[0] != y.shape[0]:
        raise AppError(
            f"{what}: x must have one row per example and y one label per row, "
            f"got x {x.shape} and y {y.shape}"
        )
    if labelled and len(y) and y.dtype.kind not in "iu":
        raise AppError(f"{what}: labels y must be integer classes, got dtype {y.dtype}")
    return x, y


def _train_loss(out: Any, name: str) -> float:
    if out is None:
        return float("nan")
    if isinstance(out, Mapping):
        out = out.get("loss")
    if isinstance(out, bool) or not isinstance(out, int | float | np.floating):
        raise AppError(
            f"task module {name}: train must return nothing, the loss or {{'loss': float}}; "
            f"got {type(out).__name__}"
        )
    return float(out)


def _evaluation(out: Any, name: str) -> Evaluation:
    if not isinstance(out, Mapping) or "loss" not in out:
        raise AppError(
            f"task module {name}: evaluate must return {{'loss': float, 'accuracy': float}}, "
            f"got {_kind(out)}"
        )
    values = {}
    for key in ("loss", "accuracy"):
        value = out.get(key, 0.0)
        if isinstance(value, bool) or not isinstance(value, int | float | np.floating):
            raise AppError(f"task module {name}: evaluate's {key} must be a number, got {value!r}")
        values[key] = float(value)
    return Evaluation(values["accuracy"], values["loss"])


__all__ = ["CONFIG_KEYS", "ClientPartitions", "ModuleProgram", "TaskModule", "module_config"]
