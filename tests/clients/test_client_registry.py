"""The client's behaviours: the attack lab's registry plus honest and plagiarist."""

from __future__ import annotations

import numpy as np
import pytest

from clients.behaviours import craft
from flchain.exceptions import ConfigError
from flchain.learning.attacks import ATTACKS
from flchain.party.behaviours import CLIENT_BEHAVIOURS


def _train(data: tuple[np.ndarray, np.ndarray]) -> dict[str, np.ndarray]:
    _, y = data
    return {"w": np.full(16, float(np.mean(y)) + 1.0, np.float32)}


DATA = (np.zeros((10, 4), np.float32), np.arange(10) % 10)
G = {"w": np.zeros(16, np.float32)}


def test_every_attack_of_the_lab_is_a_client_behaviour() -> None:
    assert set(CLIENT_BEHAVIOURS) == {"honest", "plagiarist", *ATTACKS}
    assert len(CLIENT_BEHAVIOURS) == len(set(CLIENT_BEHAVIOURS))


@pytest.mark.parametrize("behaviour", sorted(ATTACKS))
def test_every_attack_crafts_an_update_of_the_models_shape(behaviour: str) -> None:
    rng = np.random.default_rng(0)
    crafted = craft(behaviour, G, DATA, _train, rng, num_classes=10, n_clients=10)
    assert set(crafted.weights) == {"w"} and crafted.weights["w"].shape == (16,)
    assert (crafted.claimed is not None) == (ATTACKS[behaviour].kind == "claim")


def test_honest_trains_and_label_flip_trains_on_flipped_labels() -> None:
    rng = np.random.default_rng(0)
    honest = craft("honest", G, DATA, _train, rng, num_classes=10, n_clients=10)
    assert float(honest.weights["w"][0]) == pytest.approx(5.5)  # mean label 4.5, + 1
    flipped = craft("label-flip", G, DATA, _train, rng, num_classes=10, n_clients=10)
    assert float(flipped.weights["w"][0]) == pytest.approx(5.5)  # 9 - l has the same mean
    inflated = craft("inflate", G, DATA, _train, rng, num_classes=10, n_clients=10)
    assert inflated.claimed == 10**6


def test_an_unknown_behaviour_is_refused_by_name() -> None:
    with pytest.raises(ConfigError, match="'evil'"):
        craft("evil", G, DATA, _train, np.random.default_rng(0), num_classes=10, n_clients=10)
