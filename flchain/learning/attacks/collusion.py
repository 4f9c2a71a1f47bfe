"""Collusion: attacks computed together from the colluders' own benign updates.

As in the papers, the attacker sees the benign updates of the clients it
controls (here: each colluder trains honestly first) and derives the malicious
update(s) from their deltas ``B`` (one row per colluder) to the global model.

* ``alie`` (Baruch et al., "A Little Is Enough", NeurIPS 2019): every colluder
  sends ``mean − z_max·std`` per coordinate (population std), where
  ``s = ⌊n/2 + 1⌋ − m`` (at least 1) and ``z_max = Φ⁻¹((n − s)/n)``.
* ``min-max`` and ``min-sum`` (Shejwalkar & Houmansadr, NDSS 2021, the
  aggregation-agnostic attacks): ``mean + γ·p`` with ``p = −mean/‖mean‖``
  (``unit``) or ``p = −std`` (``std``), ``γ`` the largest value for which the
  malicious update's maximum distance (min-max) or sum of squared distances
  (min-sum) to the benign ones stays within the largest such figure among the
  benign updates. ``γ`` is found by doubling from 10 (at most 40 times) and then
  60 bisection steps: bounded and deterministic.
* ``sybil``: every colluder sends the same malicious direction (the reversed
  mean update) plus its own perturbation of relative size ``relative`` (0.1),
  orthogonal to the direction and to each other, so two sybils differ by
  ``√2·0.1/√1.01 ≈ 14 %`` of their norm: past a 5 % near-copy check.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from statistics import NormalDist

import numpy as np

from flchain.exceptions import ConfigError
from flchain.learning.weights import flatten, unflatten
from flchain.types import Weights

GAMMA_INIT = 10.0
GAMMA_DOUBLINGS = 40
GAMMA_BISECTIONS = 60


def alie_z_max(n: int, m: int) -> float:
    """Baruch et al.'s ``z_max`` for ``n`` clients of which ``m`` collude."""
    if not 0 < m <= n:
        raise ConfigError(f"ALIE needs 1 <= attackers <= clients, got {m} of {n}")
    s = max(1, (n // 2 + 1) - m)
    return NormalDist().inv_cdf((n - s) / n)


def alie_vector(B: np.ndarray, n: int) -> np.ndarray:
    """``mean − z_max·std`` of the rows of ``B`` (``m = len(B)`` colluders of ``n``)."""
    out: np.ndarray = B.mean(axis=0) - alie_z_max(n, B.shape[0]) * B.std(axis=0)
    return out


def _perturbation(B: np.ndarray, kind: str) -> np.ndarray:
    mean: np.ndarray = B.mean(axis=0)
    if kind == "unit":
        norm = float(np.linalg.norm(mean))
        return -mean / norm if norm else np.zeros_like(mean)
    if kind == "std":
        std: np.ndarray = B.std(axis=0)
        return -std
    raise ConfigError(f"perturbation must be 'unit' or 'std', got {kind!r}")


def _sq_dists(B: np.ndarray, v: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.sum((B - v) ** 2, axis=1)
    return out


def _largest_gamma(ok: Callable[[float], bool]) -> float:
    lo, hi = 0.0, GAMMA_INIT
    for _ in range(GAMMA_DOUBLINGS):
        if not ok(hi):
            break
        lo, hi = hi, 2 * hi
    else:
        return lo
    for _ in range(GAMMA_BISECTIONS):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if ok(mid) else (lo, mid)
    return lo


def min_max_vector(B: np.ndarray, perturbation: str = "unit") -> np.ndarray:
    """``mean + γ·p`` no farther from any benign row than the benign rows are from each other."""
    return _within(B, perturbation, np.max)


def min_sum_vector(B: np.ndarray, perturbation: str = "unit") -> np.ndarray:
    """``mean + γ·p`` whose sum of squared distances to the rows is within the rows' largest."""
    return _within(B, perturbation, np.sum)


def _within(
    B: np.ndarray, perturbation: str, reduce: Callable[[np.ndarray], np.floating]
) -> np.ndarray:
    """``mean + γ·p`` with the largest γ whose ``reduce`` of squared distances to the rows is
    at most the largest ``reduce`` of a row's squared distances to the rows."""
    mean, p = B.mean(axis=0), _perturbation(B, perturbation)
    bound = max(float(reduce(_sq_dists(B, row))) for row in B)
    gamma = _largest_gamma(lambda g: float(reduce(_sq_dists(B, mean + g * p))) <= bound)
    out: np.ndarray = mean + gamma * p
    return out


def sybil_vectors(B: np.ndarray, rng: np.random.Generator, relative: float = 0.1) -> np.ndarray:
    """Per colluder: ``−mean`` plus an orthogonal perturbation of norm ``relative·‖mean‖``."""
    m, d = B.shape
    direction = -B.mean(axis=0)
    if m + 1 > d:
        raise ConfigError(f"sybil needs more parameters ({d}) than colluders + 1 ({m + 1})")
    basis, _ = np.linalg.qr(np.column_stack([direction, rng.normal(size=(d, m))]))
    size = relative * float(np.linalg.norm(direction))
    return np.stack([direction + size * basis[:, 1 + i] for i in range(m)])


def _deltas(global_weights: Weights, benign: Sequence[Weights]) -> tuple[np.ndarray, np.ndarray]:
    g = flatten(global_weights)
    return g, np.stack([flatten(w) - g for w in benign])


def _same_for_all(global_weights: Weights, g: np.ndarray, v: np.ndarray, m: int) -> list[Weights]:
    return [unflatten(g + v, global_weights) for _ in range(m)]


def alie(
    global_weights: Weights, benign: Sequence[Weights], n_clients: int, rng: np.random.Generator
) -> list[Weights]:
    """Every colluder sends ``global + mean − z_max·std`` of the colluders' deltas."""
    g, B = _deltas(global_weights, benign)
    return _same_for_all(global_weights, g, alie_vector(B, n_clients), len(benign))


def _optimised(
    vector: Callable[[np.ndarray, str], np.ndarray], name: str
) -> Callable[..., list[Weights]]:
    """The collusion attack in which every colluder sends ``global + vector(deltas)``."""

    def attack(
        global_weights: Weights,
        benign: Sequence[Weights],
        n_clients: int,
        rng: np.random.Generator,
        perturbation: str = "unit",
    ) -> list[Weights]:
        g, B = _deltas(global_weights, benign)
        return _same_for_all(global_weights, g, vector(B, perturbation), len(benign))

    attack.__name__ = attack.__qualname__ = name.replace("-", "_")
    attack.__doc__ = f"Every colluder sends the {name} update."
    return attack


min_max = _optimised(min_max_vector, "min-max")
min_sum = _optimised(min_sum_vector, "min-sum")


def sybil(
    global_weights: Weights,
    benign: Sequence[Weights],
    n_clients: int,
    rng: np.random.Generator,
    relative: float = 0.1,
) -> list[Weights]:
    """Each colluder sends the reversed mean update plus its own orthogonal perturbation."""
    g, B = _deltas(global_weights, benign)
    return [unflatten(g + v, global_weights) for v in sybil_vectors(B, rng, relative)]
