"""How a miner departs from the protocol, by behaviour.

``honest`` follows it. ``no-reveal`` commits its scores but never reveals them
(the contract slashes it). ``wrong-aggregate`` attests a slightly altered
aggregate: every miner with this behaviour alters it the same way, so two of
them can certify it, and honest clients must detect the mismatch.

Lying about scores (``flchain run --malicious-miners NAME:COUNT``):
``random-scores`` reveals uniform random scores; ``inverted-scores`` rejects
what it would accept and accepts what it would reject (a colluding minority
pushing bad updates in and good ones out); ``always-accept`` accepts everything;
``lazy`` scores its first seat, then reuses its previous round's scores instead
of scoring (accepting what it has no score for).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from flchain.party.behaviours import MinerBehaviour
from flchain.types import MAX_SCORE, Weights

FORGE_SCALE = np.float32(1.001)
"""Factor a ``wrong-aggregate`` miner multiplies every weight of the aggregate by."""


def forge(weights: Mapping[str, np.ndarray]) -> Weights:
    """The altered aggregate a ``wrong-aggregate`` miner attests."""
    return {k: (v * FORGE_SCALE).astype(np.float32) for k, v in weights.items()}


Lie = Callable[[list[int], list[int], np.random.Generator], list[int]]
"""(its honest scores, its previous round's scores, rng) → the scores it reveals."""


def random_scores(honest: list[int], previous: list[int], rng: np.random.Generator) -> list[int]:
    return [int(v) for v in rng.integers(0, MAX_SCORE + 1, size=len(honest))]


def inverted_scores(honest: list[int], previous: list[int], rng: np.random.Generator) -> list[int]:
    return [0 if s > 0 else MAX_SCORE for s in honest]


def always_accept(honest: list[int], previous: list[int], rng: np.random.Generator) -> list[int]:
    return [MAX_SCORE] * len(honest)


def lazy(honest: list[int], previous: list[int], rng: np.random.Generator) -> list[int]:
    """Scores once (its first seat), then copies: an update past last round's count is accepted."""
    if not previous:
        return list(honest)
    return [previous[i] if i < len(previous) else MAX_SCORE for i in range(len(honest))]


@dataclass(frozen=True)
class MinerConduct:
    """What a miner does at the steps where a behaviour may differ."""

    reveals: bool = True
    """Whether it reveals the scores it committed to."""
    alter: Callable[[Mapping[str, np.ndarray]], Weights] | None = None
    """What it does to the aggregate before attesting it (None: attests the true one)."""
    lie: Lie | None = None
    """How it changes the scores it commits to (None: its honest scores)."""


CONDUCTS: dict[MinerBehaviour, MinerConduct] = {
    MinerBehaviour.HONEST: MinerConduct(),
    MinerBehaviour.NO_REVEAL: MinerConduct(reveals=False),
    MinerBehaviour.WRONG_AGGREGATE: MinerConduct(alter=forge),
    MinerBehaviour.RANDOM_SCORES: MinerConduct(lie=random_scores),
    MinerBehaviour.INVERTED_SCORES: MinerConduct(lie=inverted_scores),
    MinerBehaviour.ALWAYS_ACCEPT: MinerConduct(lie=always_accept),
    MinerBehaviour.LAZY: MinerConduct(lie=lazy),
}
