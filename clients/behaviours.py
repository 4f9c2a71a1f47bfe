"""What a client submits, by behaviour: its honest training, or an attack of the lab.

``honest`` submits its trained weights and its partition's sample count. Every
attack of :data:`flchain.learning.attacks.ATTACKS` is a behaviour too, applied
by its kind:

* ``data``: train honestly on poisoned data (label flips, backdoor triggers);
* ``model``: transform the trained (or the global) weights (sign flip, boost,
  shrink, noise, free-riding);
* ``claim``: honest weights, an inflated sample count;
* ``collusion``: ALIE, min-max, min-sum, sybils. The papers' colluders pool
  their benign updates; processes share nothing here, so each colluder
  estimates the group's benign updates by training on ``COLLUDER_ESTIMATES``
  bootstrap resamples of its own data, then sends its share of the attack;
* ``adaptive``: a label-flip update fitted just inside the rules' bounds
  (its size and cosine taken against the client's own honest update).

``plagiarist`` copies another client's update of the round with tiny noise
(see :func:`plagiarise`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from flchain.exceptions import ConfigError
from flchain.learning.attacks import get_attack, label_flip
from flchain.types import ArrayPair, Weights

PLAGIARISM_NOISE = 1e-4
"""Relative size of the noise a plagiarist adds to the copied update's change."""
COLLUDER_ESTIMATES = 3
"""Bootstrap resamples a colluder trains to estimate the group's benign updates."""

Train = Callable[[ArrayPair | None], Weights]
"""Trains from the round's global model on the given data (seeded by the caller); ``None``
is the client's own data when its program keeps the data to itself."""
DATA_FREE_KINDS = ("model",)
"""Attack kinds that need no access to the client's data arrays."""


@dataclass(frozen=True)
class Crafted:
    """What a client submits: weights and the sample count it claims (None: its own)."""

    weights: Weights
    claimed: int | None = None


def data_free(behaviour: str) -> bool:
    """Whether a behaviour runs without the client's data as arrays (a Flower app's client)."""
    if behaviour in ("honest", "plagiarist"):
        return True
    return get_attack(behaviour).kind in DATA_FREE_KINDS


def craft(
    behaviour: str,
    global_weights: Mapping[str, np.ndarray],
    data: ArrayPair | None,
    train: Train,
    rng: np.random.Generator,
    *,
    num_classes: int,
    n_clients: int,
) -> Crafted:
    """The update a client with ``behaviour`` submits this round."""
    g = dict(global_weights)
    if behaviour == "honest":
        return Crafted(train(data))
    attack = get_attack(behaviour)
    params = dict(attack.params)
    if data is None and attack.kind not in DATA_FREE_KINDS:
        raise ConfigError(f"behaviour {behaviour!r} needs the client's data as arrays")
    if attack.kind == "model":
        local = train(data) if attack.trains else g
        return Crafted(attack.fn(g, local, rng, **params))
    assert data is not None  # checked above: every other kind rewrites or counts data
    if attack.kind == "data":
        return Crafted(train(attack.fn(data, num_classes, rng, **params)))
    if attack.kind == "claim":
        return Crafted(train(data), claimed=int(attack.fn(len(data[1]), **params)))
    if attack.kind == "collusion":
        n = len(data[1])
        benign = [
            train((data[0][idx], data[1][idx]))
            for idx in (rng.integers(0, n, size=n) for _ in range(COLLUDER_ESTIMATES))
        ]
        return Crafted(attack.fn(g, benign, n_clients, rng, **params)[0])
    if attack.kind != "adaptive":
        raise ConfigError(f"behaviour {behaviour!r}: no client rule for {attack.kind} attacks")
    poisoned = train(label_flip(data, num_classes, rng))
    return Crafted(attack.fn(g, poisoned, train(data), **params))


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
