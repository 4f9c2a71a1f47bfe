"""The built-in task program: a registered model on a built-in or file data set.

Every party derives the same federation split from (dataset, partition, seed,
clients, miners): client ``i`` trains on ``clients[i]``, miner ``j`` scores on
``miners[j]`` (disjoint from every client's data), and the held-out partition
is the data set's test split. Training is the learning core's ``train_local``
with the task's :class:`TrainConfig`; evaluation is its ``evaluate``.

Generated built-in data sets (MNIST-1D takes seconds to generate) are cached
as ``.npz`` under ``$FLCHAIN_CACHE`` (default ``~/.cache/flchain``), written
atomically, so a run's many processes generate them once.
"""

from __future__ import annotations

import copy
import os
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from flchain.app.program import Partitions, TrainResult, head_of
from flchain.exceptions import ConfigError
from flchain.learning.data import Dataset, is_generated, load_dataset, make_dataset
from flchain.learning.models import build_model
from flchain.learning.partition import FederatedData, split_for_federation
from flchain.learning.training import TrainConfig, evaluate, train_local
from flchain.learning.weights import get_weights
from flchain.task.quality import Evaluation
from flchain.types import ArrayPair, Weights


class BuiltinProgram:
    """A registered architecture trained with the built-in loop on a split data set."""

    def __init__(self, data: FederatedData, arch: str, seed: int, config: TrainConfig) -> None:
        self.data = data
        self.partitions = Partitions(len(data.clients), len(data.miners))
        self.model = build_model(arch, seed=seed)
        self.config = config
        self._initial = get_weights(self.model)  # = initial_model(arch, seed)
        self.head = head_of(self._initial)

    @property
    def local_data(self) -> tuple[ArrayPair, ...]:
        return tuple(c.train for c in self.data.clients)

    def arrays(self, partition_id: int) -> ArrayPair:
        """The data of a partition: a client's training split, a miner's, or the test set."""
        p = self.partitions
        if 0 <= partition_id < p.clients:
            return self.data.clients[partition_id].train
        if p.clients <= partition_id < p.held_out:
            return self.data.miners[partition_id - p.clients]
        if partition_id == p.held_out:
            return self.data.test
        raise ConfigError(f"partition {partition_id} is not in 0..{p.held_out}")

    def initial_weights(self) -> Weights:
        return {name: array.copy() for name, array in self._initial.items()}

    def train(
        self, partition_id: int, weights: Weights, server_round: int, seed: int
    ) -> TrainResult:
        return self.train_on(self.arrays(partition_id), weights, seed)

    def train_on(self, data: ArrayPair, weights: Weights, seed: int) -> TrainResult:
        return train_local(self.model, data, self.config, dict(weights), seed)

    def evaluate(self, partition_id: int, weights: Weights) -> Evaluation:
        return self.evaluate_on(self.arrays(partition_id), weights)

    def evaluate_on(self, data: ArrayPair, weights: Weights) -> Evaluation:
        accuracy, loss = evaluate(self.model, data, dict(weights))
        return Evaluation(accuracy, loss)

    def with_own_model(self) -> BuiltinProgram:
        """This program with a model of its own (data and config shared): for a client
        that trains on another thread than its neighbours (a pool's)."""
        twin = copy.copy(self)
        twin.model = copy.deepcopy(self.model)
        return twin

    def warm_up(self, partition_id: int) -> None:
        """One tiny training step and one evaluation on the party's own data, so the
        first-call costs of torch (allocators, kernels) land in start-up, not round 0.
        The model's weights are set from scratch by every later call."""
        x, y = self.arrays(partition_id)
        n = min(len(y), self.config.batch_size)
        batch = (x[:n], y[:n])
        weights = get_weights(self.model)
        train_local(self.model, batch, replace(self.config, epochs=1), weights, seed=0)
        evaluate(self.model, batch, weights)


def initial_model(arch: str, seed: int) -> Weights:
    """The seeded initial weights of a registered architecture."""
    return get_weights(build_model(arch, seed=seed))


def cache_dir() -> Path:
    return Path(os.environ.get("FLCHAIN_CACHE", Path.home() / ".cache" / "flchain"))


def cached_dataset(name: str) -> Dataset:
    """``load_dataset(name)``, through the on-disk cache for slow generated sets."""
    if not is_generated(name):
        return load_dataset(name)
    path = cache_dir() / f"{name}.npz"
    if path.exists():
        try:
            with np.load(path) as z:
                return make_dataset(
                    name, z["x_train"], z["y_train"], z["x_test"], z["y_test"], int(z["classes"])
                )
        except (OSError, ValueError, KeyError):
            path.unlink(missing_ok=True)
    dataset = load_dataset(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".npz", dir=path.parent)
    with os.fdopen(fd, "wb") as out:
        np.savez(
            out,
            x_train=dataset.x_train,
            y_train=dataset.y_train,
            x_test=dataset.x_test,
            y_test=dataset.y_test,
            classes=dataset.num_classes,
        )
    os.replace(tmp, path)
    return dataset


def builtin_program(
    dataset: str,
    partition: str,
    arch: str,
    seed: int,
    clients: int,
    miners: int,
    config: TrainConfig,
) -> BuiltinProgram:
    """The built-in program of a task (torch is used on one thread: cores are shared)."""
    data = split_for_federation(cached_dataset(dataset), clients, miners, partition, seed)
    return BuiltinProgram(data, arch, seed, config)


__all__ = [
    "BuiltinProgram",
    "builtin_program",
    "cache_dir",
    "cached_dataset",
    "initial_model",
]
