"""The strategy interface: updates in, new global weights (and state) out.

A :class:`Strategy` is pure: no I/O, no clock, no global RNG. ``aggregate``
sorts the updates by ``update_id``, views every model's float tensors as
float32 segments (keys in sorted order; a flat vector or an ``n × d`` matrix is
built only for the rules that need one), lets the subclass combine them in
float64, applies the server step, and rounds once to float32. Integer buffers
are not among the segments: each takes the lower weighted median of the updates'
values, weighted by the shares the strategy gave them (so Krum's buffers are
its winner's, FedAvg's the sample-weighted median); when no update has a share,
the global model's values stay. Hence the same set of updates, in any order and
in any process, gives bit-identical weights.

Server-side state (momentum, Adam moments, FoolsGold histories) lives in a
:class:`StrategyState` passed in and returned explicitly, so every client can
derive it from the chain's history and apply it identically.

Subclasses override two hooks:

* ``combine(ctx) -> (vector, contributions)``: the robust or weighted average;
* ``server_update(ctx, combined, state) -> (vector, buffers)``: a server
  optimiser step (identity by default);

and optionally ``fit_config()``: what clients should use when training (FedProx
sets its proximal μ there).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np

from flchain.exceptions import AggregationError
from flchain.learning import aggregation as agg
from flchain.learning.weights import (
    check_compatible,
    flatten,
    float_names,
    integer_names,
    unflatten,
)
from flchain.types import Weights


@dataclass(frozen=True)
class ClientUpdate:
    """One client's contribution to a round."""

    update_id: str
    weights: Weights
    num_samples: int
    reputation: float = 1.0
    client: str = ""

    def __post_init__(self) -> None:
        if not self.update_id:
            raise AggregationError("an update needs a non-empty update_id")
        if isinstance(self.num_samples, bool) or int(self.num_samples) != self.num_samples:
            raise AggregationError(f"update {self.update_id}: num_samples must be an integer")
        if self.num_samples < 0:
            raise AggregationError(f"update {self.update_id}: num_samples must be >= 0")
        if not (math.isfinite(self.reputation) and self.reputation >= 0):
            raise AggregationError(f"update {self.update_id}: reputation must be finite and >= 0")

    @property
    def client_key(self) -> str:
        """Who sent it: ``client`` if set, else the update id."""
        return self.client or self.update_id


@dataclass(frozen=True)
class StrategyState:
    """Server-side state carried between rounds: a round counter and named float64 buffers."""

    round: int = 0
    buffers: Mapping[str, np.ndarray] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class AggregateResult:
    """New global weights, the next state, and each update's share of the aggregate."""

    weights: Weights
    state: StrategyState
    contributions: Mapping[str, float]

    @property
    def accepted(self) -> tuple[str, ...]:
        """Ids of updates with a non-zero share, sorted."""
        return tuple(sorted(k for k, v in self.contributions.items() if v > 0))


@dataclass(frozen=True)
class RoundContext:
    """What ``combine`` sees: the sorted updates, as float32 segments or as a matrix."""

    global_weights: Weights
    global_vector: np.ndarray
    updates: tuple[ClientUpdate, ...]
    state: StrategyState = StrategyState()
    root_vector: np.ndarray | None = None

    @cached_property
    def rows(self) -> tuple[tuple[np.ndarray, ...], ...]:
        """Each update's float tensors as flat float32 segments in sorted name order (views,
        no copy); integer buffers are not among them."""
        keys = float_names(self.global_weights)
        return tuple(
            tuple(np.asarray(u.weights[k], dtype=np.float32).ravel() for k in keys)
            for u in self.updates
        )

    @cached_property
    def matrix(self) -> np.ndarray:
        """The updates as one ``n × d`` float32 matrix, built once on first use."""
        return agg.stack(self.rows)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(u.update_id for u in self.updates)

    def step(self, combined: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The global model in float64 and the step from it to ``combined``."""
        g = self.global_vector.astype(np.float64)
        return g, combined - g

    def deltas(self) -> list[np.ndarray]:
        """Each update minus the global model, in float64."""
        g = self.global_vector.astype(np.float64)
        out = []
        for row in self.rows:
            delta = np.concatenate(row, dtype=np.float64) if row else np.zeros(0)
            delta -= g
            out.append(delta)
        return out

    def buffer(self, name: str) -> np.ndarray | None:
        """A state buffer the size of the model, as float64, or ``None`` if absent."""
        value = self.state.buffers.get(name)
        if value is None:
            return None
        array = np.asarray(value, dtype=np.float64)
        if array.shape != self.global_vector.shape or not np.all(np.isfinite(array)):
            raise AggregationError(
                f"state buffer {name!r} has shape {array.shape} or non-finite values; "
                f"expected {self.global_vector.shape}"
            )
        return array

    def shares(self, weights: Sequence[float]) -> dict[str, float]:
        """Normalise per-update weights into contributions keyed by update id."""
        total = float(np.cumsum([0.0, *weights])[-1])
        return {i: (w / total if total else 0.0) for i, w in zip(self.ids, weights, strict=True)}


def prepare(
    global_weights: Weights, updates: Sequence[ClientUpdate], state: StrategyState | None = None
) -> RoundContext:
    """Validate updates against the global model and put them in canonical order."""
    if not updates:
        raise AggregationError("no updates to aggregate")
    ordered = tuple(sorted(updates, key=lambda u: u.update_id))
    for a, b in itertools.pairwise(ordered):
        if a.update_id == b.update_id:
            raise AggregationError(f"duplicate update id {a.update_id!r}")
    check_compatible(global_weights, global_weights, "global model")
    for u in ordered:
        check_compatible(global_weights, u.weights, f"update {u.update_id}")
    return RoundContext(
        global_weights=global_weights,
        global_vector=flatten(global_weights, np.float32),
        updates=ordered,
        state=state or StrategyState(),
    )


class Strategy:
    """Base class: FedAvg-shaped plumbing, subclasses supply ``combine``/``server_update``."""

    requires_root: ClassVar[bool] = False

    @classmethod
    def strategy_name(cls) -> str:
        """The name users type: the class name in lower case."""
        return cls.__name__.lower()

    def params(self) -> dict[str, Any]:
        """Constructor parameters (for logs and the task spec)."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    def fit_config(self) -> dict[str, float]:
        """Settings clients should train with (e.g. FedProx's ``proximal_mu``)."""
        return {}

    def aggregate(
        self,
        global_weights: Weights,
        updates: Sequence[ClientUpdate],
        state: StrategyState | None = None,
    ) -> AggregateResult:
        """Combine ``updates`` into new global weights; pure and order-independent."""
        return self._finish(prepare(global_weights, updates, state))

    def _finish(self, ctx: RoundContext) -> AggregateResult:
        state = ctx.state
        combined, contributions = self.combine(ctx)
        vector, buffers = self.server_update(ctx, combined)
        # -0.0 + 0.0 == +0.0: an unstable sort may put either zero in the middle.
        vector = vector + 0.0
        if not np.all(np.isfinite(vector)):
            raise AggregationError(f"{self.strategy_name()} produced non-finite weights")
        weights = unflatten(vector, ctx.global_weights)
        weights.update(integer_buffers(ctx, contributions))
        next_state = StrategyState(round=state.round + 1, buffers=MappingProxyType(dict(buffers)))
        return AggregateResult(weights, next_state, MappingProxyType(contributions))

    def combine(self, ctx: RoundContext) -> tuple[np.ndarray, dict[str, float]]:
        """Return the combined model vector (float64) and each update's share."""
        raise NotImplementedError

    def server_update(
        self, ctx: RoundContext, combined: np.ndarray
    ) -> tuple[np.ndarray, Mapping[str, np.ndarray]]:
        """Server optimiser step; the default adopts ``combined`` and keeps the buffers."""
        return combined, ctx.state.buffers


def integer_buffers(ctx: RoundContext, shares: Mapping[str, float]) -> Weights:
    """The aggregate's integer buffers: per value, the lower weighted median of the
    updates' values by their ``shares`` (the global model's values if all are 0)."""
    names = integer_names(ctx.global_weights)
    weights = [max(0.0, float(shares.get(i, 0.0))) for i in ctx.ids]
    if not names or not any(w > 0 for w in weights):
        return {k: np.array(ctx.global_weights[k], copy=True) for k in names}
    return {
        k: agg.weighted_median(np.stack([np.asarray(u.weights[k]) for u in ctx.updates]), weights)
        for k in names
    }


def require_fraction(name: str, value: float, low: float, high: float) -> float:
    """Validate a numeric strategy parameter in [low, high]."""
    if not (math.isfinite(value) and low <= value <= high):
        raise AggregationError(f"{name} must be in [{low}, {high}], got {value}")
    return float(value)
