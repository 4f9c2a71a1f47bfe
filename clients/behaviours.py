"""What a client submits, by behaviour.

``honest`` submits its trained weights. The others are test adversaries:
``noise`` adds large Gaussian noise to the global model, ``signflip`` scales its
trained update by −10, ``free-rider`` resubmits the global model without
training, ``plagiarist`` copies another client's update of the round with tiny
noise (see :func:`plagiarise`). Honest and signflip clients train; the others
do not need to.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from flchain.learning import attacks
from flchain.learning.weights import Weights

TRAINS = ("honest", "signflip")
PLAGIARISM_NOISE = 1e-4
"""Relative size of the noise a plagiarist adds to the copied update's change."""


def apply_behaviour(
    behaviour: str,
    global_weights: Mapping[str, np.ndarray],
    trained: Mapping[str, np.ndarray] | None,
    rng: np.random.Generator,
) -> Weights:
    """The weights a client with ``behaviour`` submits (``trained`` for those that train)."""
    g = dict(global_weights)
    if behaviour == "honest" and trained is not None:
        return dict(trained)
    if behaviour == "signflip" and trained is not None:
        return attacks.signflip(g, dict(trained), rng)
    if behaviour == "noise":
        return attacks.noise(g, g, rng)
    if behaviour == "free-rider":
        return attacks.free_rider(g, g, rng)
    raise ValueError(f"behaviour {behaviour!r} cannot be applied here")


def plagiarise(
    global_weights: Mapping[str, np.ndarray],
    victim: Mapping[str, np.ndarray],
    rng: np.random.Generator,
) -> Weights:
    """``victim`` with a little noise on its change from the global model."""
    out: Weights = {}
    for name, g in global_weights.items():
        delta = victim[name].astype(np.float64) - g.astype(np.float64)
        scale = PLAGIARISM_NOISE * (float(np.abs(delta).mean()) + 1e-12)
        out[name] = (victim[name] + rng.normal(0.0, scale, size=g.shape)).astype(np.float32)
    return out
