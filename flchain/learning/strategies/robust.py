"""Byzantine-robust aggregation: FedMedian, FedTrimmedAvg, Krum, MultiKrum, Bulyan.

* FedMedian / FedTrimmedAvg: Yin et al., "Byzantine-Robust Distributed
  Learning: Towards Optimal Statistical Rates", ICML 2018.
* Krum / Multi-Krum: Blanchard et al., "Machine Learning with Adversaries:
  Byzantine Tolerant Gradient Descent", NeurIPS 2017.
* Bulyan: El Mhamdi, Guerraoui & Rouault, "The Hidden Vulnerability of
  Distributed Learning in Byzantium", ICML 2018.

``num_malicious`` (f) defaults to the largest value the rule tolerates for the
number of updates received: ⌊(n − 3)/2⌋ for Krum, ⌊(n − 3)/4⌋ for Bulyan.
Krum distances are taken between updates *relative to the global model* (same
distances, better conditioned), from a float64 Gram matrix.
"""

from __future__ import annotations

import numpy as np

from flchain.exceptions import AggregationError
from flchain.learning import aggregation as agg
from flchain.learning.strategies.base import RoundContext, Strategy, require_fraction


class FedMedian(Strategy):
    """Coordinate-wise median of the client models."""

    def combine(self, ctx: RoundContext) -> tuple[np.ndarray, dict[str, float]]:
        n = len(ctx.updates)
        return agg.coordinate_median(ctx.matrix), ctx.shares([1.0] * n)


class FedTrimmedAvg(Strategy):
    """Coordinate-wise mean after dropping ⌊beta·n⌋ highest and lowest values."""

    def __init__(self, beta: float = 0.2) -> None:
        self.beta = require_fraction("beta", beta, 0.0, 0.4999)

    def combine(self, ctx: RoundContext) -> tuple[np.ndarray, dict[str, float]]:
        n = len(ctx.updates)
        return agg.trimmed_mean(ctx.matrix, self.beta), ctx.shares([1.0] * n)


def _malicious(value: int | None, n: int, default: int) -> int:
    f = default if value is None else int(value)
    if f < 0:
        raise AggregationError(f"num_malicious must be >= 0, got {f}")
    return max(0, f)


class Krum(Strategy):
    """The single update with the smallest sum of distances to its n − f − 2 nearest peers."""

    def __init__(self, num_malicious: int | None = None) -> None:
        self.num_malicious = num_malicious

    def f(self, n: int) -> int:
        return _malicious(self.num_malicious, n, (n - 3) // 2)

    def scores(self, ctx: RoundContext) -> np.ndarray:
        X = ctx.matrix
        return agg.krum_scores(agg.squared_distances(X, ctx.global_vector), self.f(len(X)))

    def combine(self, ctx: RoundContext) -> tuple[np.ndarray, dict[str, float]]:
        best = int(agg.lowest(self.scores(ctx), 1)[0])
        weights = [1.0 if i == best else 0.0 for i in range(len(ctx.updates))]
        return ctx.matrix[best].astype(np.float64), ctx.shares(weights)


class MultiKrum(Krum):
    """Average (by ``num_samples``) of the ``to_keep`` updates with the best Krum scores."""

    def __init__(self, num_malicious: int | None = None, to_keep: int | None = None) -> None:
        super().__init__(num_malicious)
        self.to_keep = to_keep

    def combine(self, ctx: RoundContext) -> tuple[np.ndarray, dict[str, float]]:
        n = len(ctx.updates)
        m = n - self.f(n) if self.to_keep is None else int(self.to_keep)
        if not 1 <= m <= n:
            raise AggregationError(f"multikrum to_keep must be in [1, {n}], got {m}")
        keep = set(agg.lowest(self.scores(ctx), m).tolist())
        weights = [
            float(max(u.num_samples, 1)) if i in keep else 0.0 for i, u in enumerate(ctx.updates)
        ]
        return agg.weighted_average(ctx.rows, weights), ctx.shares(weights)


class Bulyan(Strategy):
    """Krum-select θ = n − 2f updates, then average the β = θ − 2f values nearest the median."""

    def __init__(self, num_malicious: int | None = None) -> None:
        self.num_malicious = num_malicious

    def combine(self, ctx: RoundContext) -> tuple[np.ndarray, dict[str, float]]:
        n = len(ctx.updates)
        f = _malicious(self.num_malicious, n, (n - 3) // 4)
        if n < 4 * f + 3:
            raise AggregationError(f"Bulyan with f={f} needs at least {4 * f + 3} updates, got {n}")
        X = ctx.matrix
        theta = n - 2 * f
        chosen = agg.bulyan_select(agg.squared_distances(X, ctx.global_vector), f, theta)
        combined = agg.bulyan_coordinate(X[chosen], theta - 2 * f)
        picked = set(chosen)
        return combined, ctx.shares([1.0 if i in picked else 0.0 for i in range(n)])
