"""The learning core: data, models, local training, aggregation, privacy, compression.

Pure and deterministic; no chain and no storage code. Clients, miners and the
auditor call into it:

* data: :func:`load_dataset`, :func:`partition`, :func:`split_for_federation`;
* models: :func:`build_model`, :data:`ARCHITECTURES`;
* weights: :data:`Weights`, :func:`get_weights`, :func:`set_weights`,
  :func:`flatten`, :func:`unflatten`;
* training: :class:`TrainConfig`, :func:`train_local`, :func:`evaluate`;
* aggregation: :class:`ClientUpdate`, :class:`Strategy`, :func:`strategy_from_name`;
* attacks, DP and compression: :mod:`.attacks`, :mod:`.dp`, :mod:`.compression`.

Heavy imports (torch) happen when this package is imported; the CLI imports it
inside its commands only.
"""

from __future__ import annotations

from flchain.learning.data import Dataset, load_dataset
from flchain.learning.models import ARCHITECTURES, build_model
from flchain.learning.partition import ClientData, FederatedData, partition, split_for_federation
from flchain.learning.strategies import (
    STRATEGIES,
    AggregateResult,
    ClientUpdate,
    Strategy,
    StrategyState,
    strategy_from_name,
)
from flchain.learning.training import TrainConfig, TrainResult, evaluate, train_local
from flchain.learning.weights import Weights, flatten, get_weights, set_weights, unflatten

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
