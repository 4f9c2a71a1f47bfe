"""Adaptive server optimisers: FedAdagrad, FedAdam, FedYogi.

Reddi et al., "Adaptive Federated Optimization", ICLR 2021. The averaged
update Δ = combine(updates) − w is treated as a pseudo-gradient:

    m ← β₁·m + (1 − β₁)·Δ
    v ← v + Δ²                              (Adagrad)
    v ← β₂·v + (1 − β₂)·Δ²                  (Adam)
    v ← v − (1 − β₂)·Δ²·sign(v − Δ²)        (Yogi)
    w ← w + η·m / (√v + τ)

FedAdam applies the usual bias correction. The moments live in the
:class:`StrategyState` (buffers ``m`` and ``v``), so every client that replays
the accepted history gets the same state. Powers of β are computed by repeated
multiplication, never ``pow``, so they are bit-identical across platforms. The
``inner`` parameter names the strategy that produces the combined model
(default ``fedavg``; e.g. ``fedmedian`` for a robust adaptive optimiser).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from flchain.learning.strategies.base import RoundContext, Strategy, require_fraction


def _power(base: float, exponent: int) -> float:
    out = 1.0
    for _ in range(exponent):
        out *= base
    return out


class FedOpt(Strategy):
    """Shared plumbing of the adaptive optimisers; not registered by itself."""

    def __init__(
        self,
        eta: float = 0.01,
        beta_1: float = 0.9,
        beta_2: float = 0.99,
        tau: float = 1e-3,
        inner: str = "fedavg",
    ) -> None:
        from flchain.learning.strategies import strategy_from_name

        self.eta = require_fraction("eta", eta, 0.0, 100.0)
        self.beta_1 = require_fraction("beta_1", beta_1, 0.0, 1.0)
        self.beta_2 = require_fraction("beta_2", beta_2, 0.0, 1.0)
        self.tau = require_fraction("tau", tau, 0.0, 1.0)
        self.inner = inner
        self._inner = strategy_from_name(inner)

    def combine(self, ctx: RoundContext) -> tuple[np.ndarray, dict[str, float]]:
        return self._inner.combine(ctx)

    def second_moment(self, v: np.ndarray, sq: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def step_size(self, t: int) -> float:
        """η at round ``t`` (counted from 1)."""
        return self.eta

    def server_update(
        self, ctx: RoundContext, combined: np.ndarray
    ) -> tuple[np.ndarray, Mapping[str, np.ndarray]]:
        g, delta = ctx.step(combined)
        m_prev = ctx.buffer("m")
        v_prev = ctx.buffer("v")
        if m_prev is None or v_prev is None:
            m_prev, v_prev = np.zeros_like(delta), np.zeros_like(delta)
        m = self.beta_1 * m_prev + (1.0 - self.beta_1) * delta
        v = self.second_moment(v_prev, delta * delta)
        eta = self.step_size(ctx.state.round + 1)
        return g + eta * m / (np.sqrt(v) + self.tau), {"m": m, "v": v}


class FedAdagrad(FedOpt):
    """Adagrad on the server: v accumulates Δ²."""

    def __init__(
        self, eta: float = 0.01, beta_1: float = 0.0, tau: float = 1e-3, inner: str = "fedavg"
    ) -> None:
        super().__init__(eta=eta, beta_1=beta_1, beta_2=0.0, tau=tau, inner=inner)

    def second_moment(self, v: np.ndarray, sq: np.ndarray) -> np.ndarray:
        out: np.ndarray = v + sq
        return out


class FedAdam(FedOpt):
    """Adam on the server, with bias correction."""

    def second_moment(self, v: np.ndarray, sq: np.ndarray) -> np.ndarray:
        return self.beta_2 * v + (1.0 - self.beta_2) * sq

    def step_size(self, t: int) -> float:
        return self.eta * math.sqrt(1.0 - _power(self.beta_2, t)) / (1.0 - _power(self.beta_1, t))


class FedYogi(FedOpt):
    """Yogi on the server: additive, sign-controlled second moment."""

    def second_moment(self, v: np.ndarray, sq: np.ndarray) -> np.ndarray:
        out: np.ndarray = v - (1.0 - self.beta_2) * sq * np.sign(v - sq)
        return out
