"""Trust-based aggregation: FLTrust and FoolsGold.

* FLTrust: Cao, Fang, Liu & Gong, "FLTrust: Byzantine-robust Federated
  Learning via Trust Bootstrapping", NDSS 2021. The aggregator trains a *root
  update* on a small clean data set; each client update gets the trust score
  ReLU(cos(gᵢ, g₀)) and is rescaled to ‖g₀‖. To stay pure, the strategy does
  not train: pass ``root_weights`` (the model after training the global model
  on the root data) to ``aggregate``, or give the constructor a deterministic
  ``root_fn(global_weights) -> root_weights``.
* FoolsGold: Fung, Yoon & Beschastnikh, "The Limitations of Federated
  Learning in Sybil Settings", RAID 2020. Clients whose *accumulated* update
  histories point the same way (sybils) are down-weighted. Histories are
  keyed by ``ClientUpdate.client`` (else the update id) and carried in the
  state as buffers ``history/<client>``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

import numpy as np

from flchain.exceptions import AggregationError
from flchain.learning import aggregation as agg
from flchain.learning.strategies.base import (
    AggregateResult,
    ClientUpdate,
    RoundContext,
    Strategy,
    StrategyState,
    prepare,
    require_fraction,
)
from flchain.learning.weights import check_compatible, flatten
from flchain.types import Weights


class FLTrust(Strategy):
    """Trust-weighted, norm-clipped combination of updates against a root update."""

    requires_root = True

    def __init__(
        self, server_lr: float = 1.0, root_fn: Callable[[Weights], Weights] | None = None
    ) -> None:
        self.server_lr = require_fraction("server_lr", server_lr, 0.0, 100.0)
        self._root_fn = root_fn

    def aggregate(
        self,
        global_weights: Weights,
        updates: Sequence[ClientUpdate],
        state: StrategyState | None = None,
        root_weights: Weights | None = None,
    ) -> AggregateResult:
        """As :meth:`Strategy.aggregate`, with the root model trained on the clean root data."""
        if root_weights is None:
            if self._root_fn is None:
                raise AggregationError("FLTrust needs root_weights (or a root_fn)")
            root_weights = self._root_fn(global_weights)
        check_compatible(global_weights, root_weights, "FLTrust root model")
        ctx = prepare(global_weights, updates, state)
        return self._finish(replace(ctx, root_vector=flatten(root_weights, np.float32)))

    def combine(self, ctx: RoundContext) -> tuple[np.ndarray, dict[str, float]]:
        if ctx.root_vector is None:
            raise AggregationError("FLTrust needs root_weights (or a root_fn)")
        g = ctx.global_vector.astype(np.float64)
        root_delta = ctx.root_vector.astype(np.float64) - g
        delta, trust = agg.fltrust_combine(ctx.deltas(), root_delta)
        return g + self.server_lr * delta, dict(zip(ctx.ids, trust, strict=True))


class FoolsGold(Strategy):
    """Sybil-resistant weighting by dissimilarity of accumulated update histories."""

    def histories(self, ctx: RoundContext) -> dict[str, np.ndarray]:
        """Each participant's history including this round's update."""
        keys = [u.client_key for u in ctx.updates]
        if len(set(keys)) != len(keys):
            raise AggregationError("FoolsGold needs at most one update per client per round")
        out = {}
        for key, delta in zip(keys, ctx.deltas(), strict=True):
            prev = ctx.buffer(f"history/{key}")
            out[key] = delta if prev is None else prev + delta
        return out

    def combine(self, ctx: RoundContext) -> tuple[np.ndarray, dict[str, float]]:
        hist = self.histories(ctx)
        wv = agg.foolsgold_weights([hist[u.client_key] for u in ctx.updates])
        g = ctx.global_vector.astype(np.float64)
        if sum(wv) == 0:
            return g, ctx.shares(wv)
        return agg.weighted_average(ctx.rows, wv), ctx.shares(wv)

    def server_update(
        self, ctx: RoundContext, combined: np.ndarray
    ) -> tuple[np.ndarray, Mapping[str, np.ndarray]]:
        buffers = dict(ctx.state.buffers)
        for key, h in self.histories(ctx).items():
            buffers[f"history/{key}"] = h
        return combined, buffers
