"""The miner's behaviour registry and its CLI names."""

from __future__ import annotations

import numpy as np

from flchain.party.behaviours import MINER_BEHAVIOURS, MinerBehaviour
from miners.behaviours import (
    CONDUCTS,
    FORGE_SCALE,
    always_accept,
    forge,
    inverted_scores,
    lazy,
    random_scores,
)


def test_every_behaviour_has_a_conduct_and_the_cli_names_are_unchanged() -> None:
    assert MINER_BEHAVIOURS[:3] == ("honest", "no-reveal", "wrong-aggregate")
    assert set(MINER_BEHAVIOURS[3:]) == {
        "random-scores",
        "inverted-scores",
        "always-accept",
        "lazy",
    }
    assert set(CONDUCTS) == set(MinerBehaviour)
    assert CONDUCTS[MinerBehaviour("honest")].reveals and CONDUCTS["honest"].alter is None
    assert not CONDUCTS[MinerBehaviour.NO_REVEAL].reveals
    assert CONDUCTS[MinerBehaviour.WRONG_AGGREGATE].alter is forge


def test_forge_scales_every_weight_the_same_way() -> None:
    weights = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.ones(2, np.float32)}
    forged = forge(weights)
    assert all(forged[k].dtype == np.float32 for k in weights)
    assert np.array_equal(forged["w"], weights["w"] * FORGE_SCALE)
    assert not np.array_equal(forged["b"], weights["b"])
    assert np.array_equal(forge(weights)["b"], forged["b"])  # two liars forge alike


def test_lying_miners_reveal_what_their_behaviour_says() -> None:
    rng = np.random.default_rng(0)
    honest, previous = [0, 4000, 9000], [7000, 0]
    assert inverted_scores(honest, previous, rng) == [10000, 0, 0]
    assert always_accept(honest, previous, rng) == [10000] * 3
    assert lazy(honest, previous, rng) == [7000, 0, 10000]
    assert lazy(honest, [], rng) == honest  # its first seat is scored (then copied)
    noise = random_scores(honest, previous, rng)
    assert len(noise) == 3 and all(0 <= s <= 10000 for s in noise)
    assert noise != random_scores(honest, previous, np.random.default_rng(1))
