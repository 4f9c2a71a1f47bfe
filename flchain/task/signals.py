"""The vector maths behind proof-of-quality: pure functions on weights and deltas.

An update's *delta* is its weights minus the global model's, as one float64
vector in sorted tensor-name order, over the float tensors only: integer
buffers (BatchNorm's ``num_batches_tracked``) are counters, not learned, and no
quality signal looks at them. Every signal of :mod:`flchain.task.quality`
is computed from deltas: their sizes against the round's median size, their
directions against the miner's own reference update, and how close two
directions are (near-copies).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from flchain.learning.weights import float_names
from flchain.types import Weights


def flat_delta(weights: Weights, global_weights: Weights) -> np.ndarray:
    """``weights - global_weights`` over the float tensors as one float64 vector, in
    sorted name order."""
    parts = [
        np.asarray(weights[name], dtype=np.float64).ravel()
        - np.asarray(global_weights[name], dtype=np.float64).ravel()
        for name in float_names(global_weights)
    ]
    return np.concatenate(parts) if parts else np.zeros(0)


def norm(vector: np.ndarray) -> float:
    """L2 norm, summed left to right in float64 (the same bits on every machine)."""
    if vector.size == 0:
        return 0.0
    return math.sqrt(float(np.cumsum(np.square(vector, dtype=np.float64))[-1]))


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity; 0 when either vector is zero."""
    na, nb = norm(a), norm(b)
    if na == 0 or nb == 0:
        return 0.0
    return float(np.cumsum(np.multiply(a, b, dtype=np.float64))[-1]) / (na * nb)


def median(values: Sequence[float]) -> float:
    """The median of ``values`` (0 for none)."""
    return float(np.median(np.asarray(values, dtype=np.float64))) if values else 0.0


def find_copies(deltas: Sequence[np.ndarray], tolerance: float) -> dict[int, int]:
    """Map each later near-copy to the earliest update it copies.

    Update ``i`` copies ``j < i`` when their *directions* are within ``tolerance``:
    ``|d_i/|d_i| - d_j/|d_j|| <= tolerance``. Comparing unit vectors makes the
    rule blind to scale, so a copy shrunk or stretched (×0.9) is still a copy.
    """
    units = []
    for d in deltas:
        n = norm(d)
        units.append(d / n if n > 0 else d)
    copies: dict[int, int] = {}
    for i in range(len(units)):
        for j in range(i):
            if j in copies:
                continue
            if norm(units[i] - units[j]) <= tolerance:
                copies[i] = j
                break
    return copies


def apply_delta(global_weights: Weights, delta: np.ndarray) -> dict[str, np.ndarray]:
    """``global + delta`` (float64 maths, rounded once to float32), in sorted name order;
    integer buffers are the global model's."""
    floats = set(float_names(global_weights))
    out: dict[str, np.ndarray] = {}
    offset = 0
    for name in sorted(global_weights):
        g = global_weights[name]
        if name not in floats:
            out[name] = np.array(g, copy=True)
            continue
        part = delta[offset : offset + g.size].reshape(g.shape)
        out[name] = (g.astype(np.float64) + part).astype(np.float32)
        offset += g.size
    return out


def weighted_mean(deltas: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    """``Σ wᵢ·dᵢ / Σ wᵢ`` accumulated in order (zeros when there is nothing to average)."""
    total = float(sum(weights))
    if not deltas or total <= 0:
        return np.zeros(deltas[0].shape if deltas else 0)
    acc = np.zeros(deltas[0].shape, dtype=np.float64)
    for d, w in zip(deltas, weights, strict=True):
        acc += float(w) * d
    return acc / total
