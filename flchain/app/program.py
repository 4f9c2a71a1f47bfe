"""The task program protocol, and the partition ids every party agrees on.

Partition ids: client ``i`` trains on partition ``i``; miner ``j`` scores on
partition ``clients + j`` (disjoint from every client's); the orchestrator and
the auditor evaluate the global model on the held-out partition
``clients + miners``. A Flower app sees ``num-partitions = clients + miners + 1``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from flchain.learning.training import TrainResult
from flchain.task.evaluation import head_of
from flchain.task.quality import Evaluation
from flchain.types import ArrayPair, Weights

__all__ = ["Evaluation", "Partitions", "TaskProgram", "TrainResult", "head_of"]


@dataclass(frozen=True)
class Partitions:
    """Which partition id each party uses."""

    clients: int
    miners: int

    def client(self, index: int) -> int:
        return index

    def miner(self, index: int) -> int:
        return self.clients + index

    @property
    def held_out(self) -> int:
        """The orchestrator's and the auditor's evaluation partition."""
        return self.clients + self.miners

    @property
    def count(self) -> int:
        return self.clients + self.miners + 1


class TaskProgram(Protocol):
    """The learning code of a task, as every party calls it."""

    partitions: Partitions
    head: tuple[str, ...]
    """The output layer's tensor names (see :func:`head_of`)."""

    @property
    def local_data(self) -> Sequence[ArrayPair] | None:
        """The client partitions' training arrays (None when the program keeps its data to
        itself: attacks that rewrite data then cannot run)."""
        ...

    @property
    def num_classes(self) -> int:
        """The classes the labels of :attr:`local_data` count (0 without local data)."""
        ...

    def initial_weights(self) -> Weights:
        """The seeded initial model, its tensors in the model's own order."""
        ...

    def train(
        self, partition_id: int, weights: Weights, server_round: int, seed: int
    ) -> TrainResult:
        """Train from ``weights`` on a partition."""
        ...

    def train_on(self, data: ArrayPair, weights: Weights, seed: int) -> TrainResult:
        """Train from ``weights`` on the given arrays (attacks; needs :attr:`local_data`)."""
        ...

    def evaluate(self, partition_id: int, weights: Weights) -> Evaluation:
        """Accuracy and loss of ``weights`` on a partition."""
        ...

    def warm_up(self, partition_id: int) -> None:
        """Pay first-call costs at start-up rather than in round 0."""
        ...
