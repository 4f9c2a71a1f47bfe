"""Client-side differential privacy: L2 clipping, Gaussian noise, and an RDP accountant.

Each client clips its update Δ = local − global to L2 norm ≤ C and adds
N(0, (σ·C)²) noise per coordinate (the Gaussian mechanism with noise
multiplier σ, as in DP-FedAvg, McMahan et al., ICLR 2018).

The accountant is our own, self-contained implementation (no Opacus) of the
Rényi-DP bound of the *sampled Gaussian mechanism* (Mironov, Talwar & Zhang,
"Rényi Differential Privacy of the Sampled Gaussian Mechanism", 2019): for
integer orders α the binomial expansion

    A_α = Σₖ C(α,k) (1−q)^(α−k) qᵏ exp((k² − k) / (2σ²))

gives ε_RDP(α) = log(A_α)/(α − 1) per round, composed additively over rounds,
and converted to (ε, δ)-DP with the bound of Balle et al. (2020):
ε = ε_RDP + log((α−1)/α) − (log δ + log α)/(α − 1), minimised over α.
``q`` is the fraction of clients sampled per round (1.0 if all take part).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from flchain.exceptions import ConfigError
from flchain.learning.weights import float_names, is_float
from flchain.types import Weights

DEFAULT_ORDERS: tuple[int, ...] = (*range(2, 64), 80, 96, 128, 160, 192, 256, 512, 1024)


def update_norm(global_weights: Weights, local: Weights) -> float:
    """L2 norm of ``local − global`` over all float values (integer buffers are not learned)."""
    total = 0.0
    for k in float_names(global_weights):
        g = global_weights[k]
        d = local[k].astype(np.float64) - g
        total += float(np.dot(d.ravel(), d.ravel()))
    return math.sqrt(total)


def clip_update(global_weights: Weights, local: Weights, clip_norm: float) -> Weights:
    """Scale ``local − global`` down to L2 norm ≤ ``clip_norm``; return the clipped model
    (integer buffers as ``local`` has them)."""
    if not clip_norm > 0:
        raise ConfigError(f"clip norm must be > 0, got {clip_norm}")
    norm = update_norm(global_weights, local)
    factor = min(1.0, clip_norm / norm) if norm > 0 else 1.0
    return {
        k: (g.astype(np.float64) + factor * (local[k].astype(np.float64) - g)).astype(np.float32)
        if is_float(g)
        else local[k]
        for k, g in global_weights.items()
    }


def privatize_update(
    global_weights: Weights,
    local: Weights,
    clip_norm: float,
    noise_multiplier: float,
    rng: np.random.Generator,
) -> Weights:
    """Clip the update to ``clip_norm`` and add N(0, (noise_multiplier·clip_norm)²) per
    float value."""
    if noise_multiplier < 0:
        raise ConfigError(f"noise multiplier must be >= 0, got {noise_multiplier}")
    clipped = clip_update(global_weights, local, clip_norm)
    std = noise_multiplier * clip_norm
    return {
        k: (v.astype(np.float64) + rng.normal(0.0, std, size=v.shape)).astype(np.float32)
        if is_float(v)
        else v
        for k, v in clipped.items()
    }


def _log_add(a: float, b: float) -> float:
    hi, lo = max(a, b), min(a, b)
    if lo == -math.inf:
        return hi
    return hi + math.log1p(math.exp(lo - hi))


def rdp_sampled_gaussian(q: float, sigma: float, order: int) -> float:
    """RDP ε at integer ``order`` of one step of the Gaussian mechanism sampled with rate ``q``."""
    if not 0 <= q <= 1:
        raise ConfigError(f"sampling rate must be in [0, 1], got {q}")
    if sigma <= 0:
        return math.inf
    if order < 2 or int(order) != order:
        raise ConfigError(f"RDP order must be an integer >= 2, got {order}")
    if q == 0:
        return 0.0
    if q == 1:
        return order / (2 * sigma**2)
    log_a = -math.inf
    for k in range(order + 1):
        term = (
            math.lgamma(order + 1)
            - math.lgamma(k + 1)
            - math.lgamma(order - k + 1)
            + k * math.log(q)
            + (order - k) * math.log1p(-q)
            + (k * k - k) / (2 * sigma**2)
        )
        log_a = _log_add(log_a, term)
    return log_a / (order - 1)


def epsilon(
    q: float,
    sigma: float,
    steps: int,
    delta: float,
    orders: Sequence[int] = DEFAULT_ORDERS,
) -> tuple[float, int]:
    """(ε, best order) after ``steps`` rounds for the given δ."""
    if not 0 < delta < 1:
        raise ConfigError(f"delta must be in (0, 1), got {delta}")
    if steps < 0:
        raise ConfigError(f"steps must be >= 0, got {steps}")
    if steps == 0:
        return 0.0, int(orders[0])
    best, best_order = math.inf, int(orders[0])
    for a in orders:
        rdp = steps * rdp_sampled_gaussian(q, sigma, int(a))
        eps = rdp + math.log((a - 1) / a) - (math.log(delta) + math.log(a)) / (a - 1)
        if eps < best:
            best, best_order = eps, int(a)
    return max(best, 0.0), best_order


@dataclass
class PrivacyAccountant:
    """Counts rounds of the (sampled) Gaussian mechanism and reports ε for a δ."""

    noise_multiplier: float
    sample_rate: float = 1.0
    steps: int = 0

    def step(self, rounds: int = 1) -> None:
        self.steps += rounds

    def epsilon(self, delta: float) -> float:
        return epsilon(self.sample_rate, self.noise_multiplier, self.steps, delta)[0]
