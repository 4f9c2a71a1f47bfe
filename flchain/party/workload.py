"""The learning side of a task, built identically by every party from the spec.

Every party derives the same federation split from (dataset, partition, seed,
clients, miners): client ``i`` trains on ``clients[i]``, miner ``j`` scores on
``miners[j]`` (disjoint from every client's data), and the orchestrator
evaluates on the held-out test set.

Generated built-in data sets (MNIST-1D takes seconds to generate) are cached
as ``.npz`` under ``$FLCHAIN_CACHE`` (default ``~/.cache/flchain``), written
atomically, so a run's many processes generate them once.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from flchain.exceptions import ConfigError
from flchain.learning.data import Dataset, load_dataset, make_dataset
from flchain.learning.models import build_model
from flchain.learning.partition import FederatedData, split_for_federation
from flchain.learning.strategies import Strategy, strategy_from_name
from flchain.learning.training import TrainConfig, evaluate, train_local
from flchain.learning.weights import get_weights
from flchain.storage.codec import ArchitectureSpec
from flchain.task.evaluation import train_config
from flchain.task.spec import TaskSpec
from flchain.types import Weights


@dataclass
class Workload:
    """Data split, model template, strategy and training config of a task."""

    spec: TaskSpec
    data: FederatedData
    model: torch.nn.Module
    arch: ArchitectureSpec
    strategy: Strategy
    train_config: TrainConfig


def load_workload(spec: TaskSpec, *, threads: int = 1) -> Workload:
    """Build the task's learning side (one torch thread by default: cores are shared)."""
    torch.set_num_threads(threads)
    dataset = cached_dataset(spec.dataset)
    data = split_for_federation(dataset, spec.clients, spec.miners, spec.partition, spec.seed)
    model = build_model(spec.arch, seed=spec.seed)
    strategy = strategy_from_name(spec.strategy, **spec.strategy_params)
    if strategy.requires_root:
        raise ConfigError(
            f"strategy {spec.strategy!r} needs a trusted root data set, which a task "
            "run by independent processes does not have; pick another strategy"
        )
    config = train_config(spec, strategy)
    arch = ArchitectureSpec.from_weights(get_weights(model))
    return Workload(spec, data, model, arch, strategy, config)


CACHED = ("mnist1d",)


def cache_dir() -> Path:
    return Path(os.environ.get("FLCHAIN_CACHE", Path.home() / ".cache" / "flchain"))


def cached_dataset(name: str) -> Dataset:
    """``load_dataset(name)``, through the on-disk cache for slow generated sets."""
    if name not in CACHED:
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


def warm_up(work: Workload, data: tuple[np.ndarray, np.ndarray]) -> None:
    """One tiny training step and one evaluation on the party's own data, so the
    first-call costs of torch (allocators, kernels) land in start-up, not round 0.
    The model's weights are set from scratch by every later call."""
    x, y = data
    n = min(len(y), work.train_config.batch_size)
    batch = (x[:n], y[:n])
    weights = get_weights(work.model)
    train_local(work.model, batch, replace(work.train_config, epochs=1), weights, seed=0)
    evaluate(work.model, batch, weights)


def initial_weights(spec: TaskSpec) -> Weights:
    """The seeded initial model of a task (what ``flchain run`` pins as round 0's global)."""
    return get_weights(build_model(spec.arch, seed=spec.seed))
