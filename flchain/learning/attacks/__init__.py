"""The attack lab: one registry of small named pure functions.

Kinds, and what the function of each takes:

* ``data`` (:mod:`.poisoning`): ``(x, y), num_classes, rng → (x, y)`` applied to
  a client's training data before it trains honestly;
* ``model`` (:mod:`.model`): ``global, trained local, rng → weights``;
* ``collusion`` (:mod:`.collusion`): ``global, the colluders' benign weights,
  n_clients, rng → one weights per colluder``;
* ``claim``: ``num_samples → claimed num_samples`` (the weights stay honest);
* ``adaptive`` (:mod:`.adaptive`): ``global, poisoned, honest reference →
  weights`` inside a norm bound and a cosine floor.

Callers look an attack up with :func:`get_attack` and pass ``attack.params``
(the documented defaults) as keyword arguments. Who misbehaves is decided by
:mod:`flchain.learning.adversary`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import numpy as np

from flchain.exceptions import ConfigError
from flchain.learning.attacks.adaptive import adaptive, fit_within
from flchain.learning.attacks.collusion import alie, alie_z_max, min_max, min_sum, sybil
from flchain.learning.attacks.model import (
    boost,
    free_rider,
    inflate,
    noise,
    scaled_update,
    shrink,
    signflip,
)
from flchain.learning.attacks.poisoning import (
    Trigger,
    attack_success_rate,
    backdoor,
    label_flip,
    pair_flip,
    trigger_for,
)
from flchain.types import Weights

Kind = Literal["data", "model", "collusion", "claim", "adaptive"]


@dataclass(frozen=True)
class Attack:
    """A registry entry: the function, its kind, whether it trains, and its defaults."""

    name: str
    kind: Kind
    trains: bool
    fn: Callable[..., Any]
    description: str
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def __call__(
        self, global_weights: Weights, local: Weights, rng: np.random.Generator
    ) -> Weights:
        """Apply a model-poisoning attack with its default parameters."""
        if self.kind != "model":
            raise ConfigError(f"attack {self.name!r} is a {self.kind} attack, not a model attack")
        result: Weights = self.fn(global_weights, local, rng, **self.params)
        return result


def _entry(
    name: str, kind: Kind, trains: bool, fn: Callable[..., Any], text: str, **params: Any
) -> Attack:
    return Attack(name, kind, trains, fn, text, MappingProxyType(params))


ATTACKS: dict[str, Attack] = {
    a.name: a
    for a in (
        _entry("label-flip", "data", True, label_flip, "train on labels l -> C-1-l"),
        _entry(
            "pair-flip",
            "data",
            True,
            pair_flip,
            "train with class 7 relabelled 1",
            source=7,
            target=1,
        ),
        _entry(
            "backdoor",
            "data",
            True,
            backdoor,
            "trigger stamped on 30% of the data, relabelled 0",
            poison_fraction=0.3,
            target=0,
        ),
        _entry(
            "signflip", "model", True, signflip, "global - 10 x the trained update", scale=-10.0
        ),
        _entry("noise", "model", False, noise, "global + N(0, 1) on every value", std=1.0),
        _entry("free-rider", "model", False, free_rider, "resubmit the global model"),
        _entry("boost", "model", True, boost, "the trained update x 10", factor=10.0),
        _entry("shrink", "model", True, shrink, "the trained update x 0.1 (harmless)", factor=0.1),
        _entry("alie", "collusion", True, alie, "mean - z_max x std of the colluders' updates"),
        _entry(
            "min-max",
            "collusion",
            True,
            min_max,
            "mean + gamma x p, max distance within the benign spread",
            perturbation="unit",
        ),
        _entry(
            "min-sum",
            "collusion",
            True,
            min_sum,
            "mean + gamma x p, sum of squared distances within the benign",
            perturbation="unit",
        ),
        _entry(
            "sybil",
            "collusion",
            True,
            sybil,
            "reversed mean update + 10% orthogonal perturbation each",
            relative=0.1,
        ),
        _entry(
            "inflate",
            "claim",
            True,
            inflate,
            "honest weights, 10**6 samples claimed",
            claimed=10**6,
        ),
        _entry(
            "adaptive",
            "adaptive",
            True,
            adaptive,
            "label-flip update fitted inside a norm bound and a cosine floor",
            norm_ratio=1.0,
            cos_floor=0.0,
        ),
    )
}


def get_attack(name: str) -> Attack:
    """The registry entry called ``name``, or a :class:`ConfigError` listing the known ones."""
    try:
        return ATTACKS[name]
    except KeyError:
        raise ConfigError(f"unknown attack {name!r}; known: {', '.join(ATTACKS)}") from None


__all__ = [
    "ATTACKS",
    "Attack",
    "Trigger",
    "adaptive",
    "alie",
    "alie_z_max",
    "attack_success_rate",
    "backdoor",
    "boost",
    "fit_within",
    "free_rider",
    "get_attack",
    "inflate",
    "label_flip",
    "min_max",
    "min_sum",
    "noise",
    "pair_flip",
    "scaled_update",
    "shrink",
    "signflip",
    "sybil",
    "trigger_for",
]
