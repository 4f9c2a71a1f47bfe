"""An adaptive attacker that knows the scoring rules and stays just inside them.

Given a poisoned update (e.g. trained on label-flipped data), an honest
reference update and the rules' bounds — the update's norm at most
``norm_ratio`` times the reference's, its cosine to the reference at least
``cos_floor`` — :func:`fit_within` returns the most poisonous delta inside:

1. if the poisoned delta's cosine to the reference is below the floor, it is
   turned towards the reference, in the plane of the two, until the cosine is
   the floor (plus ``slack`` of the remaining room);
2. it is then scaled down, never up, to ``(1 − slack)·norm_ratio·‖reference‖``.

A poisoned delta already inside the bounds is returned unchanged.
"""

from __future__ import annotations

import math

import numpy as np

from flchain.exceptions import ConfigError
from flchain.learning.weights import flatten, unflatten
from flchain.types import Weights

SLACK = 0.01


def fit_within(
    poisoned: np.ndarray,
    reference: np.ndarray,
    norm_ratio: float,
    cos_floor: float,
    slack: float = SLACK,
) -> np.ndarray:
    """The poisoned delta turned and shrunk just inside the norm and cosine bounds."""
    if norm_ratio <= 0 or not -1 <= cos_floor < 1 or not 0 <= slack < 1:
        raise ConfigError(
            f"adaptive bounds need norm_ratio > 0, cos_floor in [-1, 1), slack in [0, 1); "
            f"got {norm_ratio}, {cos_floor}, {slack}"
        )
    ref_norm = float(np.linalg.norm(reference))
    p_norm = float(np.linalg.norm(poisoned))
    if ref_norm == 0 or p_norm == 0:
        return np.zeros_like(poisoned, dtype=np.float64)
    r_hat = reference / ref_norm
    cos = float(poisoned @ r_hat) / p_norm
    out = np.asarray(poisoned, dtype=np.float64)
    if cos < cos_floor:
        target = cos_floor + slack * (1 - cos_floor)
        ortho = out - float(out @ r_hat) * r_hat
        o_norm = float(np.linalg.norm(ortho))
        o_hat = ortho / o_norm if o_norm else np.zeros_like(out)
        out = p_norm * (target * r_hat + math.sqrt(1 - target * target) * o_hat)
    limit = (1 - slack) * norm_ratio * ref_norm
    norm = float(np.linalg.norm(out))
    return out * (limit / norm) if norm > limit else out


def adaptive(
    global_weights: Weights,
    poisoned: Weights,
    reference: Weights,
    norm_ratio: float = 1.0,
    cos_floor: float = 0.0,
) -> Weights:
    """``global`` plus the poisoned change fitted inside the bounds of the reference change."""
    g = flatten(global_weights)
    delta = fit_within(flatten(poisoned) - g, flatten(reference) - g, norm_ratio, cos_floor)
    return unflatten(g + delta, global_weights)
