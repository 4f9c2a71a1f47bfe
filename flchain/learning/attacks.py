"""Malicious client behaviours, as pure functions of (global, honest local) weights.

* ``signflip``: global + (−10)·(local − global): a scaled reversed update.
* ``noise``: global + N(0, σ²) per value (σ = 1 by default): a large random update.
* ``free-rider``: returns the global model unchanged (claims credit, adds nothing).

On the command line ``--malicious signflip:0.3`` makes 30 % of the clients
(rounded, chosen deterministically from the seed) behave that way every round.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from flchain.exceptions import ConfigError
from flchain.learning.weights import Weights

Attack = Callable[[Weights, Weights, np.random.Generator], Weights]


def signflip(
    global_weights: Weights,
    local: Weights,
    rng: np.random.Generator | None = None,
    scale: float = -10.0,
) -> Weights:
    """``global + scale·(local − global)``, computed in float64, rounded to float32."""
    out: Weights = {}
    for k, g in global_weights.items():
        g64 = g.astype(np.float64)
        out[k] = (g64 + scale * (local[k].astype(np.float64) - g64)).astype(np.float32)
    return out


def noise(
    global_weights: Weights,
    local: Weights,
    rng: np.random.Generator | None = None,
    std: float = 1.0,
) -> Weights:
    """``global`` plus Gaussian noise of standard deviation ``std`` on every value."""
    gen = rng if rng is not None else np.random.default_rng(0)
    return {
        k: (g.astype(np.float64) + gen.normal(0.0, std, size=g.shape)).astype(np.float32)
        for k, g in global_weights.items()
    }


def free_rider(
    global_weights: Weights, local: Weights, rng: np.random.Generator | None = None
) -> Weights:
    """The global model, unchanged."""
    return {k: g.copy() for k, g in global_weights.items()}


ATTACKS: dict[str, Attack] = {"signflip": signflip, "noise": noise, "free-rider": free_rider}


@dataclass(frozen=True)
class MaliciousSpec:
    """An attack name and the fraction of clients that run it."""

    kind: str
    fraction: float

    def attack(self) -> Attack:
        return ATTACKS[self.kind]


def parse_malicious(spec: str) -> MaliciousSpec:
    """``"signflip:0.3"`` → ``MaliciousSpec("signflip", 0.3)``."""
    kind, _, raw = spec.strip().lower().partition(":")
    kind = kind.replace("_", "-")
    if kind == "freerider":
        kind = "free-rider"
    if kind not in ATTACKS:
        raise ConfigError(f"unknown attack {kind!r} in {spec!r}; known: {', '.join(ATTACKS)}")
    try:
        fraction = float(raw) if raw else 0.3
    except ValueError as exc:
        raise ConfigError(f"attack fraction in {spec!r} must be a number") from exc
    if not 0 <= fraction <= 1:
        raise ConfigError(f"attack fraction in {spec!r} must be in [0, 1]")
    return MaliciousSpec(kind, fraction)


def choose_malicious(n_clients: int, fraction: float, seed: int) -> list[int]:
    """Which clients misbehave: ``round(fraction·n)`` indices drawn from ``seed``, sorted."""
    count = round(fraction * n_clients)
    rng = np.random.default_rng([seed, 7])
    return sorted(int(i) for i in rng.permutation(n_clients)[:count])
