"""How a miner departs from the protocol, by behaviour (hidden test hooks).

``honest`` follows it. ``no-reveal`` commits its scores but never reveals them
(the contract slashes it). ``wrong-aggregate`` attests a slightly altered
aggregate: every miner with this behaviour alters it the same way, so two of
them can certify it, and honest clients must detect the mismatch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from flchain.learning.weights import Weights
from flchain.party.behaviours import MinerBehaviour

FORGE_SCALE = np.float32(1.001)
"""Factor a ``wrong-aggregate`` miner multiplies every weight of the aggregate by."""


def forge(weights: Mapping[str, np.ndarray]) -> Weights:
    """The altered aggregate a ``wrong-aggregate`` miner attests."""
    return {k: (v * FORGE_SCALE).astype(np.float32) for k, v in weights.items()}


@dataclass(frozen=True)
class MinerConduct:
    """What a miner does at the steps where a behaviour may differ."""

    reveals: bool = True
    """Whether it reveals the scores it committed to."""
    alter: Callable[[Mapping[str, np.ndarray]], Weights] | None = None
    """What it does to the aggregate before attesting it (None: attests the true one)."""


CONDUCTS: dict[MinerBehaviour, MinerConduct] = {
    MinerBehaviour.HONEST: MinerConduct(),
    MinerBehaviour.NO_REVEAL: MinerConduct(reveals=False),
    MinerBehaviour.WRONG_AGGREGATE: MinerConduct(alter=forge),
}
