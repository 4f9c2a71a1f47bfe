"""The built-in task module: a registered model on a built-in or file data set.

The built-in models and data sets are one task module (:class:`BuiltinTask`),
configured by the spec, run by the same :class:`~flchain.app.module.ModuleProgram`
as a user's module (:class:`BuiltinProgram` is that program). Every party
derives the same federation split from (dataset, partition, seed, clients,
miners): client ``i`` trains on ``clients[i]``, miner ``j`` scores on
``miners[j]`` (disjoint from every client's data), and the held-out partition
is the data set's test split. Training is the learning core's ``train_local``
with the task's :class:`TrainConfig`; evaluation is its ``evaluate``.

Generated built-in data sets (MNIST-1D takes seconds to generate) are cached
as ``.npz`` under ``$FLCHAIN_CACHE`` (default ``~/.cache/flchain``), written
atomically, so a run's many processes generate them once.
"""

from __future__ import annotations

import torch

from flchain.app.module import ModuleProgram, TaskModule
from flchain.app.program import Partitions
from flchain.exceptions import ConfigError
from flchain.learning.data import cached_dataset
from flchain.learning.models import ARCHITECTURES, build_model
from flchain.learning.partition import FederatedData, split_for_federation
from flchain.learning.training import TrainConfig
from flchain.learning.weights import get_weights
from flchain.types import ArrayPair, Weights


class BuiltinTask:
    """The built-in task module of a task: a registered architecture on a data set split
    for the federation (see the module docstring). Client ``i``'s partition is its
    training split and its local test split; a miner's and the held-out partition serve
    both as training and as validation data."""

    def __init__(self, data: FederatedData, arch: str, seed: int) -> None:
        if arch not in ARCHITECTURES:
            build_model(arch)  # the error naming the known architectures
        self.data, self.arch, self.seed = data, arch, seed

    def model(self) -> torch.nn.Module:
        return build_model(self.arch, seed=self.seed)

    def load_partition(self, partition_id: int, num_partitions: int) -> tuple[ArrayPair, ArrayPair]:
        clients, miners = len(self.data.clients), len(self.data.miners)
        if num_partitions != clients + miners + 1:
            raise ConfigError(
                f"{num_partitions} partitions, but the data are split in {clients + miners + 1}"
            )
        if 0 <= partition_id < clients:
            client = self.data.clients[partition_id]
            return client.train, client.test
        if clients <= partition_id < clients + miners:
            pair = self.data.miners[partition_id - clients]
            return pair, pair
        if partition_id == clients + miners:
            return self.data.test, self.data.test
        raise ConfigError(f"partition {partition_id} is not in 0..{clients + miners}")


class BuiltinProgram(ModuleProgram):
    """The module program of the built-in task module: a registered architecture trained
    with the built-in loop on a split data set."""

    def __init__(self, data: FederatedData, arch: str, seed: int, config: TrainConfig) -> None:
        self.data = data
        task = TaskModule.of(BuiltinTask(data, arch, seed), f"builtin:{arch}")
        super().__init__(task, Partitions(len(data.clients), len(data.miners)), seed, config)

    @property
    def num_classes(self) -> int:
        return self.data.num_classes

    def arrays(self, partition_id: int) -> ArrayPair:
        """The training data of a partition: a client's, a miner's, or the test set."""
        return self.split(partition_id)[0]


def initial_model(arch: str, seed: int) -> Weights:
    """The seeded initial weights of a registered architecture."""
    return get_weights(build_model(arch, seed=seed))


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
    "BuiltinTask",
    "builtin_program",
    "initial_model",
]
