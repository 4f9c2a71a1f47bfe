"""Aggregation strategies, named as in Flower; look them up by lower-case class name.

>>> strategy_from_name("multikrum", num_malicious=2).strategy_name()
'multikrum'
"""

from __future__ import annotations

from typing import Any

from flchain.exceptions import ConfigError
from flchain.learning.strategies.base import (
    AggregateResult,
    ClientUpdate,
    RoundContext,
    Strategy,
    StrategyState,
)
from flchain.learning.strategies.fedavg import FedAvg, FedAvgM, FedProx, ReputationAvg
from flchain.learning.strategies.fedopt import FedAdagrad, FedAdam, FedYogi
from flchain.learning.strategies.robust import Bulyan, FedMedian, FedTrimmedAvg, Krum, MultiKrum
from flchain.learning.strategies.trust import FLTrust, FoolsGold

STRATEGIES: dict[str, type[Strategy]] = {
    cls.strategy_name(): cls
    for cls in (
        FedAvg,
        FedAvgM,
        FedProx,
        FedAdagrad,
        FedAdam,
        FedYogi,
        FedMedian,
        FedTrimmedAvg,
        Krum,
        MultiKrum,
        Bulyan,
        FLTrust,
        FoolsGold,
        ReputationAvg,
    )
}


def strategy_from_name(name: str, **params: Any) -> Strategy:
    """Instantiate a strategy by its lower-case class name, e.g. ``"fedtrimmedavg"``."""
    cls = STRATEGIES.get(name.strip().lower())
    if cls is None:
        raise ConfigError(f"unknown strategy {name!r}; known: {', '.join(STRATEGIES)}")
    try:
        return cls(**params)
    except TypeError as exc:
        raise ConfigError(f"bad parameters for strategy {name!r}: {exc}") from exc


def parse_params(items: list[str]) -> dict[str, Any]:
    """``["beta=0.2", "weighted=false"]`` → ``{"beta": 0.2, "weighted": False}``."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"strategy parameter {item!r} must look like name=value")
        out[key.strip()] = _coerce(raw.strip())
    return out


def _coerce(raw: str) -> Any:
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    for kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            pass
    return raw


__all__ = [
    "STRATEGIES",
    "AggregateResult",
    "Bulyan",
    "ClientUpdate",
    "FLTrust",
    "FedAdagrad",
    "FedAdam",
    "FedAvg",
    "FedAvgM",
    "FedMedian",
    "FedProx",
    "FedTrimmedAvg",
    "FedYogi",
    "FoolsGold",
    "Krum",
    "MultiKrum",
    "ReputationAvg",
    "RoundContext",
    "Strategy",
    "StrategyState",
    "parse_params",
    "strategy_from_name",
]
