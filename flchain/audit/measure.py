"""How the auditor measures models: the built-in model on test arrays, or the task's
program (a Flower app or a task module) on its held-out partition. Both give evaluations and the
auditor's own reference update, as a miner makes them."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Protocol

import numpy as np
import torch

from flchain.app.archive import fetch_program
from flchain.app.program import TaskProgram
from flchain.audit.checks import Discrepancy
from flchain.exceptions import FLchainError
from flchain.learning.training import TrainConfig
from flchain.storage.base import ContentStore
from flchain.task.evaluation import evaluator, reference_model
from flchain.task.quality import Evaluation
from flchain.task.spec import TaskSpec
from flchain.types import ArrayPair, Weights

SCORING_EXAMPLES = 1_000
"""Examples of its test data the auditor re-scores every update on: a seeded subset, since a
round asks two evaluations per update (its own, and the round without it), like a miner's on
its partition. The global model of each round is measured on the whole test data."""


class ProgramView(Protocol):
    def evaluate(self, weights: Weights) -> Evaluation: ...

    def evaluate_for_scoring(self, weights: Weights) -> Evaluation:
        """An evaluation for the re-scoring rules (on at most ``SCORING_EXAMPLES``)."""
        ...

    def reference(self, weights: Weights, server_round: int, seed: int) -> Weights: ...


class ArraysView:
    """A built-in model on the auditor's test arrays."""

    def __init__(self, model: torch.nn.Module, data: ArrayPair, config: TrainConfig) -> None:
        self.model, self.data, self.config = model, data, config
        self._evaluate = evaluator(model, data)
        x, y = data
        kept = np.sort(np.random.default_rng(0).permutation(len(y))[:SCORING_EXAMPLES])
        self._score = evaluator(model, (x[kept], y[kept]))

    def evaluate(self, weights: Weights) -> Evaluation:
        return self._evaluate(weights)

    def evaluate_for_scoring(self, weights: Weights) -> Evaluation:
        return self._score(weights)

    def reference(self, weights: Weights, server_round: int, seed: int) -> Weights:
        return reference_model(self.model, self.data, self.config, weights, seed)


class HeldOutView:
    """The task's program on its held-out partition (disjoint from every party's)."""

    def __init__(self, program: TaskProgram) -> None:
        self.program = program
        self.partition = program.partitions.held_out

    def evaluate(self, weights: Weights) -> Evaluation:
        return self.program.evaluate(self.partition, dict(weights))

    def evaluate_for_scoring(self, weights: Weights) -> Evaluation:
        return self.evaluate(weights)  # the partition is the task's to size

    def reference(self, weights: Weights, server_round: int, seed: int) -> Weights:
        return self.program.train(self.partition, dict(weights), server_round, seed).weights


def app_program(
    store: ContentStore, spec: TaskSpec, stack: ExitStack
) -> tuple[TaskProgram | None, list[Discrepancy]]:
    """The task's app or task module fetched by its CID into a directory ``stack`` removes;
    or why not."""
    try:
        dest = Path(stack.enter_context(TemporaryDirectory(prefix="flchain-app-")))
        return fetch_program(store, spec, dest), []
    except (FLchainError, OSError) as exc:
        what, cid = ("task module", spec.task.cid) if spec.task.cid else ("task app", spec.app)
        return None, [Discrepancy(None, f"{what} fetched", cid, "on chain", str(exc))]
