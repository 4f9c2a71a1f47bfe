"""What a client submits, by behaviour.

``honest`` submits its trained weights. The others are test adversaries:
``noise`` adds large Gaussian noise to the global model, ``signflip`` scales its
trained update by −10, ``free-rider`` resubmits the global model without
training, ``plagiarist`` copies another client's update of the round with tiny
noise (see :func:`plagiarise`). Honest and signflip clients train; the others
do not need to.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from flchain.learning import attacks
from flchain.learning.weights import Weights
from flchain.party.behaviours import ClientBehaviour

B = ClientBehaviour
TRAINS = frozenset({B.HONEST, B.SIGNFLIP})
PLAGIARISM_NOISE = 1e-4
"""Relative size of the noise a plagiarist adds to the copied update's change."""

UpdateRule = Callable[[Weights, Weights | None, np.random.Generator], Weights | None]
"""(global weights, trained weights or None, rng) → the update, or None if it needs training."""

UPDATE_RULES: dict[ClientBehaviour, UpdateRule] = {
    B.HONEST: lambda g, trained, rng: None if trained is None else dict(trained),
    B.SIGNFLIP: lambda g, trained, rng: (
        None if trained is None else attacks.signflip(g, dict(trained), rng)
    ),
    B.NOISE: lambda g, trained, rng: attacks.noise(g, g, rng),
    B.FREE_RIDER: lambda g, trained, rng: attacks.free_rider(g, g, rng),
}
"""What each behaviour submits; the plagiarist has none: it copies (see :func:`plagiarise`)."""


def apply_behaviour(
    behaviour: str,
    global_weights: Mapping[str, np.ndarray],
    trained: Mapping[str, np.ndarray] | None,
    rng: np.random.Generator,
) -> Weights:
    """The weights a client with ``behaviour`` submits (``trained`` for those that train)."""
    rule = UPDATE_RULES.get(ClientBehaviour(behaviour))
    update = rule(dict(global_weights), dict(trained) if trained else None, rng) if rule else None
    if update is None:
        raise ValueError(f"behaviour {behaviour!r} cannot be applied here")
    return update


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
