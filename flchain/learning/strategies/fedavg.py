"""Weighted averaging: FedAvg, FedProx, FedAvgM and reputation-weighted averaging.

* FedAvg: McMahan et al., "Communication-Efficient Learning of Deep Networks
  from Decentralized Data", AISTATS 2017. Average weighted by sample counts.
* FedProx: Li et al., MLSys 2020. Server side identical to FedAvg; clients add
  the proximal term (μ/2)‖w − w_global‖², announced through ``fit_config``.
* FedAvgM: Hsu, Qi & Brown, "Measuring the Effects of Non-Identical Data
  Distribution for Federated Visual Classification", 2019. Server momentum on
  the averaged update.
* ReputationAvg: weights each update by ``reputation × num_samples`` (or by
  reputation alone), the reputation coming from the chain.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from flchain.learning.aggregation import weighted_average
from flchain.learning.strategies.base import RoundContext, Strategy, require_fraction


class FedAvg(Strategy):
    """Average of client models weighted by ``num_samples`` (uniform if ``weighted=False``)."""

    def __init__(self, weighted: bool = True) -> None:
        self.weighted = weighted

    def update_weights(self, ctx: RoundContext) -> list[float]:
        """The weight of each (sorted) update in the average."""
        if self.weighted and any(u.num_samples for u in ctx.updates):
            return [float(u.num_samples) for u in ctx.updates]
        return [1.0] * len(ctx.updates)

    def combine(self, ctx: RoundContext) -> tuple[np.ndarray, dict[str, float]]:
        w = self.update_weights(ctx)
        return weighted_average(ctx.rows, w), ctx.shares(w)


class FedProx(FedAvg):
    """FedAvg on the server; clients train with a proximal term of strength ``proximal_mu``."""

    def __init__(self, proximal_mu: float = 0.01, weighted: bool = True) -> None:
        super().__init__(weighted)
        self.proximal_mu = require_fraction("proximal_mu", proximal_mu, 0.0, 1e6)

    def fit_config(self) -> dict[str, float]:
        return {"proximal_mu": self.proximal_mu}


class FedAvgM(FedAvg):
    """FedAvg with server momentum: v ← β·v + Δ, w ← w + η·v."""

    def __init__(self, server_lr: float = 1.0, server_momentum: float = 0.5) -> None:
        super().__init__()
        self.server_lr = require_fraction("server_lr", server_lr, 0.0, 100.0)
        self.server_momentum = require_fraction("server_momentum", server_momentum, 0.0, 1.0)

    def server_update(
        self, ctx: RoundContext, combined: np.ndarray
    ) -> tuple[np.ndarray, Mapping[str, np.ndarray]]:
        g, delta = ctx.step(combined)
        prev = ctx.buffer("momentum")
        velocity = delta if prev is None else self.server_momentum * prev + delta
        return g + self.server_lr * velocity, {"momentum": velocity}


class ReputationAvg(FedAvg):
    """Average weighted by on-chain reputation (× ``num_samples`` unless ``use_samples=False``)."""

    def __init__(self, use_samples: bool = True) -> None:
        super().__init__()
        self.use_samples = use_samples

    def update_weights(self, ctx: RoundContext) -> list[float]:
        if self.use_samples:
            return [u.reputation * u.num_samples for u in ctx.updates]
        return [u.reputation for u in ctx.updates]
