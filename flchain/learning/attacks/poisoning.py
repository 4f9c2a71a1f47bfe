"""Data poisoning: transform a client's training data, then train honestly on it.

Rows are flattened examples (see :mod:`flchain.learning.data`), labels int64.

* ``label-flip``: every label ``l`` becomes ``C − 1 − l``;
* ``pair-flip``: the labels of one ``source`` class become ``target`` (7 → 1);
* ``backdoor``: a trigger is stamped on ``poison_fraction`` (30 %) of the
  examples, drawn from the rng, which are relabelled ``target`` (0).

The trigger (:func:`trigger_for`) depends on the row width only:

* a square image (``s·s`` features, e.g. digits 8×8, MNIST 28×28): a 3×3 patch
  in the bottom-right corner set to 1.0 (the maximum of data scaled to [0, 1]);
* ``3·s·s`` features (CIFAR-10, channels first): that patch in every channel;
* anything else is a 1-D signal (MNIST-1D, 40 values): its last 4 values set
  to 3.0 (three standard deviations of the data).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from flchain.exceptions import ConfigError
from flchain.types import ArrayPair

PATCH = 3
IMAGE_VALUE = 1.0
SEGMENT = 4
SIGNAL_VALUE = 3.0


@dataclass(frozen=True)
class Trigger:
    """Which features of a flattened example the trigger overwrites, and with what."""

    indices: tuple[int, ...]
    value: float

    def stamp(self, x: np.ndarray) -> np.ndarray:
        """A copy of ``x`` (one row per example) with the trigger on every row."""
        out = np.array(x, dtype=np.float32, copy=True)
        out[:, list(self.indices)] = np.float32(self.value)
        return out


def _square_side(n: int) -> int | None:
    side = math.isqrt(n)
    return side if side >= PATCH and side * side == n else None


def trigger_for(num_features: int) -> Trigger:
    """The fixed trigger for rows of ``num_features`` values (see the module docstring)."""
    for channels in (1, 3):
        side = _square_side(num_features // channels) if num_features % channels == 0 else None
        if side is not None:
            rows = range(side - PATCH, side)
            idx = [
                c * side * side + r * side + col
                for c in range(channels)
                for r in rows
                for col in range(side - PATCH, side)
            ]
            return Trigger(tuple(idx), IMAGE_VALUE)
    if num_features < SEGMENT:
        raise ConfigError(f"rows of {num_features} values are too short for a backdoor trigger")
    return Trigger(tuple(range(num_features - SEGMENT, num_features)), SIGNAL_VALUE)


def label_flip(data: ArrayPair, num_classes: int, rng: np.random.Generator) -> ArrayPair:
    """Every label ``l`` becomes ``num_classes − 1 − l``."""
    x, y = data
    return x, (num_classes - 1 - np.asarray(y)).astype(np.int64)


def pair_flip(
    data: ArrayPair, num_classes: int, rng: np.random.Generator, source: int = 7, target: int = 1
) -> ArrayPair:
    """The labels of class ``source`` become ``target``; the others are kept (``rng``: unused,
    the data attacks' common signature)."""
    if not (0 <= source < num_classes and 0 <= target < num_classes):
        raise ConfigError(f"pair-flip classes {source} -> {target} outside 0..{num_classes - 1}")
    x, y = data
    y = np.asarray(y, dtype=np.int64)
    return x, np.where(y == source, np.int64(target), y)


def backdoor(
    data: ArrayPair,
    num_classes: int,
    rng: np.random.Generator,
    poison_fraction: float = 0.3,
    target: int = 0,
) -> ArrayPair:
    """Stamp the trigger on ``round(poison_fraction·n)`` rows drawn by ``rng``, relabelled."""
    if not 0 <= poison_fraction <= 1:
        raise ConfigError(f"backdoor poison_fraction must be in [0, 1], got {poison_fraction}")
    if not 0 <= target < num_classes:
        raise ConfigError(f"backdoor target {target} outside 0..{num_classes - 1}")
    x, y = np.asarray(data[0], dtype=np.float32), np.array(data[1], dtype=np.int64)
    chosen = rng.choice(len(y), size=round(poison_fraction * len(y)), replace=False)
    x = x.copy()
    x[chosen] = trigger_for(x.shape[1]).stamp(x[chosen])
    y[chosen] = target
    return x, y


def attack_success_rate(
    predict: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    y: np.ndarray,
    trigger: Trigger,
    target: int,
) -> float:
    """Share of triggered inputs of a true class other than ``target`` predicted as ``target``."""
    keep = np.asarray(y) != target
    if not keep.any():
        raise ConfigError(f"no test example outside the backdoor target class {target}")
    labels = np.asarray(predict(trigger.stamp(np.asarray(x)[keep])))
    return float(np.mean(labels == target))
