"""How a party measures models for proof-of-quality: one adapter, shared by the
miners, the auditor and the simulated histories.

:func:`evaluator` turns the learning core's ``evaluate`` into the
:data:`~flchain.task.quality.EvaluateFn` the rules take; :func:`reference_model`
is the model the evaluating party trains itself, from the same global model, on
its own data (the direction every client's update is compared with).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import asdict, replace

import numpy as np
import torch

from flchain.learning.strategies import Strategy
from flchain.learning.training import TrainConfig, evaluate, train_local
from flchain.task.quality import EvaluateFn, Evaluation
from flchain.task.spec import TaskSpec
from flchain.types import ArrayPair, Weights


def train_config(spec: TaskSpec, strategy: Strategy) -> TrainConfig:
    """How every client of ``spec`` trains (and every reference update is trained)."""
    config = TrainConfig(**asdict(spec.train))  # the spec's fields are a subset of its own
    fit = strategy.fit_config()
    if "proximal_mu" in fit:
        config = replace(config, proximal_mu=float(fit["proximal_mu"]))
    return config


def classifier_head(model: torch.nn.Module) -> tuple[str, ...]:
    """The output layer's tensor names of ``model`` (see :func:`head_of`)."""
    return head_of({n: t.detach().cpu().numpy() for n, t in model.state_dict().items()})


def head_of(weights: Mapping[str, np.ndarray]) -> tuple[str, ...]:
    """Names of the output layer's tensors: the trailing float tensors (in the model's own
    order; integer buffers are not learned) whose leading dimension is that of the last
    one (the number of classes)."""
    tensors = [(n, np.asarray(t)) for n, t in weights.items() if np.asarray(t).dtype.kind == "f"]
    if not tensors or tensors[-1][1].ndim == 0:
        return ()
    outputs = tensors[-1][1].shape[0]
    names: list[str] = []
    for name, tensor in reversed(tensors):
        if tensor.ndim == 0 or tensor.shape[0] != outputs:
            break
        names.append(name)
    return tuple(sorted(names))


def evaluator(model: torch.nn.Module, data: ArrayPair) -> EvaluateFn:
    """Accuracy and loss of a set of weights on ``data``."""

    def run(weights: Weights) -> Evaluation:
        accuracy, loss = evaluate(model, data, dict(weights))
        return Evaluation(accuracy, loss)

    return run


def reference_model(
    model: torch.nn.Module,
    data: ArrayPair,
    config: TrainConfig,
    global_weights: Weights,
    seed: int,
) -> Weights:
    """The model one round of the task's own training makes from ``global_weights`` on ``data``."""
    return train_local(model, data, config, dict(global_weights), seed).weights


def derive_seed(*parts: object) -> int:
    """A 31-bit seed from any parts (task seed, purpose, party index, round)."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF
