"""The learning core: data, models, local training, aggregation, privacy, compression.

Pure and deterministic; no chain and no storage code. Clients, miners and the
auditor call into it:

* data: :func:`load_dataset`, :func:`partition`, :func:`split_for_federation`;
* models: :func:`build_model`, :data:`ARCHITECTURES`;
* weights: :data:`Weights`, :func:`get_weights`, :func:`set_weights`,
  :func:`flatten`, :func:`unflatten`;
* training: :class:`TrainConfig`, :func:`train_local`, :func:`evaluate`;
* aggregation: :class:`ClientUpdate`, :class:`Strategy`, :func:`strategy_from_name`;
* attacks, DP and compression: :mod:`.attacks`, :mod:`.adversary`, :mod:`.dp`,
  :mod:`.compression`.

The names above are loaded on first use, so ``import flchain.learning.strategies``
(the aggregation maths) or ``flchain.learning.attacks`` does not pull in torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_HOME = {
    "Dataset": "data",
    "load_dataset": "data",
    "ARCHITECTURES": "models",
    "build_model": "models",
    "ClientData": "partition",
    "FederatedData": "partition",
    "partition": "partition",
    "split_for_federation": "partition",
    "STRATEGIES": "strategies",
    "AggregateResult": "strategies",
    "ClientUpdate": "strategies",
    "Strategy": "strategies",
    "StrategyState": "strategies",
    "strategy_from_name": "strategies",
    "TrainConfig": "training",
    "TrainResult": "training",
    "evaluate": "training",
    "train_local": "training",
    "Weights": "weights",
    "flatten": "weights",
    "get_weights": "weights",
    "set_weights": "weights",
    "unflatten": "weights",
}

if TYPE_CHECKING:
    from flchain.learning.data import Dataset, load_dataset
    from flchain.learning.models import ARCHITECTURES, build_model
    from flchain.learning.partition import (
        ClientData,
        FederatedData,
        partition,
        split_for_federation,
    )
    from flchain.learning.strategies import (
        STRATEGIES,
        AggregateResult,
        ClientUpdate,
        Strategy,
        StrategyState,
        strategy_from_name,
    )
    from flchain.learning.training import TrainConfig, TrainResult, evaluate, train_local
    from flchain.learning.weights import flatten, get_weights, set_weights, unflatten
    from flchain.types import Weights


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'flchain.learning' has no attribute {name!r}")
    return getattr(importlib.import_module(f"flchain.learning.{home}"), name)


__all__ = [
    "ARCHITECTURES",
    "STRATEGIES",
    "AggregateResult",
    "ClientData",
    "ClientUpdate",
    "Dataset",
    "FederatedData",
    "Strategy",
    "StrategyState",
    "TrainConfig",
    "TrainResult",
    "Weights",
    "build_model",
    "evaluate",
    "flatten",
    "get_weights",
    "load_dataset",
    "partition",
    "set_weights",
    "split_for_federation",
    "strategy_from_name",
    "train_local",
    "unflatten",
]
